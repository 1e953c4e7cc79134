// SPDX-License-Identifier: MIT
/* Source keys of peers (srckey.h). */
#include "srckey.h"
#include "keyhash.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

int cyph_srckey_from_addr(int af, const void *addr, struct cyph_srckey *k)
{
	memset(k, 0, sizeof(*k));
	if (af == AF_INET) {
		k->len = 5;
		k->b[0] = 4;
		memcpy(k->b + 1, addr, 4);
		return 0;
	}
	if (af == AF_INET6) {
		const struct in6_addr *a = addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			k->len = 5;
			k->b[0] = 4;
			memcpy(k->b + 1, a->s6_addr + 12, 4);
		} else {
			k->len = 9;
			k->b[0] = 6;
			memcpy(k->b + 1, a->s6_addr, 8);
		}
		return 0;
	}
	k->len = 1;	/* every non-IP peer shares one key */
	return -1;
}

int cyph_srckey_from(const struct sockaddr *sa, socklen_t salen, struct cyph_srckey *k)
{
	if (sa->sa_family == AF_INET && salen >= sizeof(struct sockaddr_in))
		return cyph_srckey_from_addr(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, k);
	if (sa->sa_family == AF_INET6 && salen >= sizeof(struct sockaddr_in6))
		return cyph_srckey_from_addr(AF_INET6,
					     &((const struct sockaddr_in6 *)sa)->sin6_addr, k);
	return cyph_srckey_from_addr(AF_UNSPEC, NULL, k);
}

uint64_t cyph_srckey_hash(const struct cyph_srckey *k, uint64_t seed)
{
	return asguard_hash(seed, k->b, k->len);
}

uint64_t cyph_srckey_seed(void)
{
	return asguard_seed();
}

void cyph_srckey_format(const struct cyph_srckey *k, char out[CYPH_SRCKEY_STRLEN])
{
	uint8_t a6[16] = { 0 };

	if (k->len == 5 && k->b[0] == 4) {
		inet_ntop(AF_INET, k->b + 1, out, CYPH_SRCKEY_STRLEN);
	} else if (k->len == 9 && k->b[0] == 6) {
		memcpy(a6, k->b + 1, 8);
		inet_ntop(AF_INET6, a6, out, CYPH_SRCKEY_STRLEN - 3);
		strcat(out, "/64");
	} else {
		snprintf(out, CYPH_SRCKEY_STRLEN, "non-ip");
	}
}
