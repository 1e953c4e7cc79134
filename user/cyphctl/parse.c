// SPDX-License-Identifier: MIT
/* Command-line argument parsing for cyphctl. */
#include "parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/addr.h"
#include "runtime/hexkey.h"

static const char *const cipher_names[] = {
	[CYPHONIC_CIPHER_AES_GCM] = "aes-gcm",
	[CYPHONIC_CIPHER_CHACHA20_POLY1305] = "chacha20-poly1305",
};

static const char *const slot_names[] = {
	[CYPHONIC_KEY_SLOT_PRIMARY] = "primary",
	[CYPHONIC_KEY_SLOT_NEXT] = "next",
};

int cmd_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cyphctl: %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

int parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_name(const char *s, const char *const *names, size_t n,
		      uint8_t *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (names[i] && !strcmp(s, names[i])) {
			*out = (uint8_t)i;
			return 0;
		}
	}
	return -1;
}

int parse_cipher(const char *s, uint8_t *out)
{
	return parse_name(s, cipher_names,
			  sizeof(cipher_names) / sizeof(cipher_names[0]), out);
}

int parse_slot(const char *s, uint8_t *out)
{
	return parse_name(s, slot_names,
			  sizeof(slot_names) / sizeof(slot_names[0]), out);
}

/* "4", "6" or "all": which sockets `set ... detach` gives back. */
static const char *const detach_names[] = {
	[CYPHONIC_DETACH_F_4] = "4",
	[CYPHONIC_DETACH_F_6] = "6",
	[CYPHONIC_DETACH_F_ALL] = "all",
};

int parse_detach(const char *s, uint8_t *out)
{
	return parse_name(s, detach_names,
			  sizeof(detach_names) / sizeof(detach_names[0]), out);
}

int parse_key_id(const char *s, uint8_t *out)
{
	uint32_t v;

	if (parse_u32(s, &v) || v > CYPHONIC_DATA_F_KEY_ID_MASK)
		return -1;
	*out = (uint8_t)v;
	return 0;
}

const char *cipher_name(unsigned int cipher)
{
	if (cipher < sizeof(cipher_names) / sizeof(cipher_names[0]) &&
	    cipher_names[cipher])
		return cipher_names[cipher];
	return "unknown";
}

const char *slot_name(unsigned int slot)
{
	if (slot < sizeof(slot_names) / sizeof(slot_names[0]))
		return slot_names[slot];
	return "unknown";
}

static int parse_relay(const char *s, uint32_t *out)
{
	if (!strcmp(s, "none")) {
		*out = 0;
		return 0;
	}
	return parse_u32(s, out);
}

static int parse_index(const char *s, uint32_t *out)
{
	return parse_u32(s, out) || *out == 0 ? -1 : 0;
}

static int parse_key_file(const char *cmd, const struct kw *k,
			  const char *path)
{
	int err = hexkey_read_file(path, k->dst, CYPHONIC_KEY_LEN);

	if (err == -EINVAL)
		return cmd_error(cmd, "%s \"%s\": the file must contain %d hex characters and an optional newline",
				 k->name, path, 2 * CYPHONIC_KEY_LEN);
	if (err)
		return cmd_error(cmd, "%s \"%s\": %s", k->name, path,
				 strerror(-err));
	return 0;
}

/* Parses one value; a key given on the command line is wiped from argv. */
static int parse_value(const char *cmd, struct kw *k, char *s)
{
	struct kw_endpoint *ep = k->dst;
	int err;

	switch (k->type) {
	case KW_U32:	 return parse_u32(s, k->dst);
	case KW_INDEX:	 return parse_index(s, k->dst);
	case KW_PORT:	 return addr_parse_port(s, k->dst);
	case KW_IP4:	 return addr_parse_ip4(s, k->dst);
	case KW_IP6:	 return addr_parse_ip6(s, k->dst);
	case KW_ENDPOINT: return addr_parse_endpoint(s, &ep->ss, &ep->len);
	case KW_RELAY:	 return parse_relay(s, k->dst);
	case KW_CIPHER:	 return parse_cipher(s, k->dst);
	case KW_SLOT:	 return parse_slot(s, k->dst);
	case KW_DETACH:	 return parse_detach(s, k->dst);
	case KW_KEY_ID:	 return parse_key_id(s, k->dst);
	case KW_KEY_HEX:
		err = hexkey_decode(s, k->dst, CYPHONIC_KEY_LEN);
		/* Shortens the window in which ps(1) shows the key. */
		hexkey_wipe(s, strlen(s));
		return err;
	case KW_KEY_FILE:
		return parse_key_file(cmd, k, s) ? -2 : 0;
	}
	return -1;
}

static struct kw *kw_find(struct kw *tab, const char *name)
{
	for (; tab->name; tab++)
		if (!strcmp(tab->name, name))
			return tab;
	return NULL;
}

int kw_parse(const char *cmd, int argc, char **argv, struct kw *tab)
{
	int i, err;

	for (i = 0; i < argc; i += 2) {
		struct kw *k = kw_find(tab, argv[i]);

		if (!k)
			return cmd_error(cmd, "unknown argument \"%s\"", argv[i]);
		if (k->seen)
			return cmd_error(cmd, "%s given twice", k->name);
		if (i + 1 >= argc)
			return cmd_error(cmd, "missing value for %s", k->name);
		/* Keys are wiped from argv, so quote them by kind only. */
		err = parse_value(cmd, k, argv[i + 1]);
		if (err == -2)
			return -1;
		if (err && k->type == KW_KEY_HEX)
			return cmd_error(cmd, "invalid value for %s: expected %d hex characters",
					 k->name, 2 * CYPHONIC_KEY_LEN);
		if (err)
			return cmd_error(cmd, "invalid value \"%s\" for %s",
					 argv[i + 1], k->name);
		k->seen = true;
	}
	return 0;
}

bool kw_seen(const struct kw *tab, const char *name)
{
	for (; tab->name; tab++)
		if (!strcmp(tab->name, name))
			return tab->seen;
	return false;
}
