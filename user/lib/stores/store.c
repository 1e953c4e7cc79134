// SPDX-License-Identifier: MIT
/* Store helpers independent of the backend (store.h). */
#include "store.h"
#include "store_impl.h"
#include "pki/cred.h"
#include "runtime/dnsname.h"
#include "runtime/sslerr.h"

#include <stdio.h>
#include <string.h>

struct cyph_store *cyph_store_open(const char *spec, char *err, size_t errlen)
{
	if (!strncmp(spec, "sqlite:", 7))
		return cyph_store_open_sqlite(spec + 7, err, errlen);
	if (!strncmp(spec, "postgresql://", 13) || !strncmp(spec, "postgres://", 11))
		return cyph_store_open_pg(spec, err, errlen);
	if (!strncmp(spec, "postgresql:", 11))
		return cyph_store_open_pg(spec + 11, err, errlen);
	if (!strncmp(spec, "postgres:", 9))
		return cyph_store_open_pg(spec + 9, err, errlen);
	if (strstr(spec, "://")) {
		/* the scheme only: the rest may hold a password */
		cyph_fail(err, errlen, "%.*s: unsupported store (sqlite:PATH, postgresql://..., "
			  "postgres:CONNINFO)", (int)(strstr(spec, "://") - spec + 3), spec);
		return NULL;
	}
	return cyph_store_open_sqlite(spec, err, errlen);
}

int cyph_store_check_new(const struct cyph_principal *p, const char *domain, char *err,
			 size_t errlen)
{
	if (!cyph_name_valid(p->name))
		return cyph_fail(err, errlen, "invalid name '%s' (DNS label: a-z, 0-9, '-', "
				 "at most 63)", p->name);
	if (p->role < CYPH_ROLE_NODE || p->role > CYPH_ROLE_GENERAL)
		return cyph_fail(err, errlen, "invalid role");
	if ((p->role == CYPH_ROLE_GENERAL) != (p->adapter_id != 0))
		return cyph_fail(err, errlen, "a general node needs an adapter, others none");
	if (p->ip_mode != CYPH_IP_V4 && p->ip_mode != CYPH_IP_V6 && p->ip_mode != CYPH_IP_DUAL)
		return cyph_fail(err, errlen, "invalid IP mode");
	if (strlen(p->name) + 1 + strlen(domain) >= sizeof(p->fqdn))
		return cyph_fail(err, errlen, "FQDN too long");
	return 0;
}

void cyph_store_addr_at(const uint8_t *prefix, int alen, uint64_t offset, uint8_t *out)
{
	memcpy(out, prefix, (size_t)alen);
	for (int i = alen - 1; i >= 0 && offset; i--) {
		unsigned int sum = out[i] + (unsigned int)(offset & 0xff);

		out[i] = (uint8_t)sum;
		offset = (offset >> 8) + (sum >> 8);
	}
}

uint64_t cyph_store_host_count(int alen, int plen)
{
	int bits = alen * 8 - plen;

	if (bits >= 63)
		return (uint64_t)1 << 62;
	/* IPv4: skip the network and broadcast addresses */
	return alen == 4 ? ((uint64_t)1 << bits) - 1 : ((uint64_t)1 << bits);
}

bool cyph_name_valid(const char *n)
{
	return strlen(n) < CYPH_NAME_MAX && cyph_dns_label_valid(n, strlen(n));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cyph_mac_parse(const char *s, uint8_t mac[6])
{
	if (strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':' && s[3 * i + 2] != '-'))
			return -1;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void cyph_mac_format(const uint8_t m[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static const char *const methods[] = { [CYPH_GN_BASIC] = "basic", [CYPH_GN_MAC] = "mac",
				       [CYPH_GN_8021X] = "8021x" };

const char *cyph_gn_method_name(uint8_t m)
{
	return m >= CYPH_GN_BASIC && m <= CYPH_GN_8021X ? methods[m] : "?";
}

uint8_t cyph_gn_method_parse(const char *s)
{
	for (uint8_t m = CYPH_GN_BASIC; m <= CYPH_GN_8021X; m++)
		if (!strcmp(s, methods[m]))
			return m;
	return 0;
}

const char *cyph_ip_mode_name(uint8_t m)
{
	return m == CYPH_IP_V4 ? "ipv4" : m == CYPH_IP_V6 ? "ipv6" : m == CYPH_IP_DUAL ? "dual" : "?";
}

uint8_t cyph_ip_mode_parse(const char *s)
{
	if (!strcmp(s, "ipv4"))
		return CYPH_IP_V4;
	if (!strcmp(s, "ipv6"))
		return CYPH_IP_V6;
	if (!strcmp(s, "dual"))
		return CYPH_IP_DUAL;
	return 0;
}
