/* SPDX-License-Identifier: MIT */
/*
 * CYPHONIC's names as the AS makes them: a node's name is one DNS label
 * of [a-z0-9-] (1..63 bytes, no hyphen at either end), its FQDN such
 * labels joined by dots (at most 253 bytes, no trailing dot). The AS
 * checks what it stores; whoever receives a name (the adapter, which
 * writes names into dnsmasq's and hostapd's files, and a peer) checks
 * it again, so a hostile or broken sender cannot smuggle a newline, a
 * quote or a comma into what the name ends up in.
 */
#ifndef CYPHONIC_DNSNAME_H
#define CYPHONIC_DNSNAME_H

#include <stdbool.h>
#include <stddef.h>

/* s[0..len) is one label: [a-z0-9-], 1..63, no leading or trailing '-'. */
bool cyph_dns_label_valid(const char *s, size_t len);
/* s is labels joined by single dots, at most 253 bytes. */
bool cyph_dns_name_valid(const char *s);

#endif
