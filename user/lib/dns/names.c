// SPDX-License-Identifier: MIT
/*
 * The name table: a chained hash of lower-case names. The bucket count is
 * fixed at creation (twice the entry bound, a power of two), so chains
 * stay short without ever rehashing; the entries are only what the
 * caller put in, so an asker cannot lengthen a chain.
 */
#include "names.h"

#include "runtime/mix.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NAMES_MAX_ENTRIES (1u << 20)

struct name_node {
	struct name_node *next;
	struct dns_name_entry e;
};

struct dns_names {
	struct name_node **buckets;
	size_t nbuckets;	/* power of two */
	size_t count, max;
};

/* ASCII only, whatever the locale. */
static bool label_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_';
}

int dns_name_normalize(const char *fqdn, char *out)
{
	size_t len = strlen(fqdn), label = 0;

	if (len && fqdn[len - 1] == '.')
		len--;
	if (len == 0 || len > DNS_NAME_TEXT_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)fqdn[i];

		if (c == '.') {
			if (label == 0)
				return -1;
			label = 0;
		} else if (label_char(c) && ++label <= 63) {
			c = (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
		} else {
			return -1;
		}
		out[i] = (char)c;
	}
	if (label == 0)
		return -1;
	out[len] = '\0';
	return 0;
}

struct dns_names *dns_names_new(size_t max_entries)
{
	struct dns_names *t;
	size_t n = 2;

	if (max_entries == 0 || max_entries > NAMES_MAX_ENTRIES)
		return NULL;
	while (n < 2 * max_entries)
		n <<= 1;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (!t->buckets) {
		free(t);
		return NULL;
	}
	t->nbuckets = n;
	t->max = max_entries;
	return t;
}

void dns_names_free(struct dns_names *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct name_node *n = t->buckets[i], *next;

		for (; n; n = next) {
			next = n->next;
			free(n);
		}
	}
	free(t->buckets);
	free(t);
}

/* The link pointing at the node of name (normalized), or at the NULL end. */
static struct name_node **find_link(const struct dns_names *t, const char *name)
{
	struct name_node **link = &t->buckets[cyph_hash_str(name) & (t->nbuckets - 1)];

	while (*link && strcmp((*link)->e.name, name) != 0)
		link = &(*link)->next;
	return link;
}

int dns_names_set(struct dns_names *t, const char *fqdn,
		  const struct in_addr *vip4, const struct in6_addr *vip6,
		  uint32_t ttl)
{
	char name[DNS_NAME_TEXT_MAX + 1];
	struct name_node **link, *n;

	if (dns_name_normalize(fqdn, name) < 0 || (!vip4 && !vip6) ||
	    ttl > INT32_MAX) {
		errno = EINVAL;
		return -1;
	}
	link = find_link(t, name);
	n = *link;
	if (!n) {
		if (t->count >= t->max) {
			errno = ENOSPC;
			return -1;
		}
		n = calloc(1, sizeof(*n));
		if (!n)
			return -1;
		memcpy(n->e.name, name, sizeof(name));
		*link = n;
		t->count++;
	}
	n->e.has4 = vip4 != NULL;
	n->e.has6 = vip6 != NULL;
	memset(&n->e.vip4, 0, sizeof(n->e.vip4));
	memset(&n->e.vip6, 0, sizeof(n->e.vip6));
	if (vip4)
		n->e.vip4 = *vip4;
	if (vip6)
		n->e.vip6 = *vip6;
	n->e.ttl = ttl;
	return 0;
}

int dns_names_remove(struct dns_names *t, const char *fqdn)
{
	char name[DNS_NAME_TEXT_MAX + 1];
	struct name_node **link, *n;

	if (dns_name_normalize(fqdn, name) < 0) {
		errno = EINVAL;
		return -1;
	}
	link = find_link(t, name);
	n = *link;
	if (!n) {
		errno = ENOENT;
		return -1;
	}
	*link = n->next;
	free(n);
	t->count--;
	return 0;
}

const struct dns_name_entry *dns_names_find(const struct dns_names *t,
					    const char *fqdn)
{
	char name[DNS_NAME_TEXT_MAX + 1];
	struct name_node *n;

	if (dns_name_normalize(fqdn, name) < 0)
		return NULL;
	n = *find_link(t, name);
	return n ? &n->e : NULL;
}

size_t dns_names_count(const struct dns_names *t)
{
	return t->count;
}
