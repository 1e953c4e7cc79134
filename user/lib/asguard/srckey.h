/* SPDX-License-Identifier: MIT */
/*
 * The key a peer's limits are counted under: its IPv4 address, or the /64
 * of its IPv6 address (one host usually owns a whole /64, so counting
 * single IPv6 addresses would give it 2^64 budgets). IPv4-mapped IPv6
 * addresses count as the IPv4 address.
 */
#ifndef CYPHONIC_ASGUARD_SRCKEY_H
#define CYPHONIC_ASGUARD_SRCKEY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define CYPH_SRCKEY_MAX 9	/* family byte + up to 8 address bytes */
#define CYPH_SRCKEY_STRLEN 48	/* "a.b.c.d" or "xxxx:...::/64" plus NUL */

struct cyph_srckey {
	uint8_t len;
	uint8_t b[CYPH_SRCKEY_MAX];
};

/* 0, or -1 when sa is not an IP address (then *k is a fixed "other" key). */
int cyph_srckey_from(const struct sockaddr *sa, socklen_t salen, struct cyph_srckey *k);
/*
 * The same from a bare address: af AF_INET (addr a struct in_addr) or
 * AF_INET6 (a struct in6_addr), for daemons that keep sources as
 * addresses rather than sockaddrs (the NMS's budgets).
 */
int cyph_srckey_from_addr(int af, const void *addr, struct cyph_srckey *k);

/*
 * A hash of k keyed with seed (cyph_srckey_seed(): random per process),
 * for fixed tables indexed by source: a sender cannot pick addresses that
 * land in another source's slot.
 */
uint64_t cyph_srckey_hash(const struct cyph_srckey *k, uint64_t seed);
uint64_t cyph_srckey_seed(void);

/* Prints the key ("192.0.2.1", "2001:db8:1:2::/64") for logs. */
void cyph_srckey_format(const struct cyph_srckey *k, char out[CYPH_SRCKEY_STRLEN]);

#endif
