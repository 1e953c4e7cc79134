/* SPDX-License-Identifier: MIT */
/*
 * The name table the DNS responder answers from: FQDN -> VIPs, kept by
 * the caller (the daemon adds a peer when the NMS or AS tells it the
 * peer's name, and removes it again).
 *
 * Names are stored lower-case without the trailing dot and match
 * case-insensitively. A name is 1..253 characters of labels 1..63 long,
 * made of letters, digits, '-' and '_' (every name the AS hands out is
 * of that form, docs/as.md); anything else is refused, so a name asked
 * for with other bytes is simply not in the table. The table holds at
 * most the number of entries given at creation: adding one more fails
 * with ENOSPC, never evicts.
 */
#ifndef CYPHONIC_DNS_NAMES_H
#define CYPHONIC_DNS_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

/* Longest name in text form, without the trailing dot. */
#define DNS_NAME_TEXT_MAX 253

struct dns_name_entry {
	char name[DNS_NAME_TEXT_MAX + 1];	/* lower-case, no trailing dot */
	bool has4, has6;
	struct in_addr vip4;
	struct in6_addr vip6;
	uint32_t ttl;				/* seconds, of the A/AAAA answers */
};

struct dns_names;

/* max_entries 1..1048576. NULL on OOM or a bad size. */
struct dns_names *dns_names_new(size_t max_entries);
void dns_names_free(struct dns_names *t);

/*
 * Adds fqdn (a trailing dot is accepted) or replaces its addresses and
 * TTL. vip4 / vip6 may be NULL (no A / no AAAA record) but not both.
 * Returns 0, or -1 with errno EINVAL (bad name, no address, TTL above
 * 2^31-1), ENOSPC (table full) or ENOMEM.
 */
int dns_names_set(struct dns_names *t, const char *fqdn,
		  const struct in_addr *vip4, const struct in6_addr *vip6,
		  uint32_t ttl);
/* 0, or -1 with errno ENOENT / EINVAL. */
int dns_names_remove(struct dns_names *t, const char *fqdn);
/* The entry for fqdn (any case, trailing dot accepted), or NULL. */
const struct dns_name_entry *dns_names_find(const struct dns_names *t,
					    const char *fqdn);
size_t dns_names_count(const struct dns_names *t);

/*
 * Writes fqdn lower-cased without its trailing dot into out (at least
 * DNS_NAME_TEXT_MAX + 1 bytes). 0, or -1 when fqdn is not a valid name
 * as described above. The empty name and "." are not valid.
 */
int dns_name_normalize(const char *fqdn, char *out);

#endif
