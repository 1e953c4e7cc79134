// SPDX-License-Identifier: MIT
/* The pending-query list (pending.h): a fixed array of slots. */
#include "pending.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define PENDING_MAX_ENTRIES 65536u

struct dns_pending {
	struct dns_pending_query *slots;
	bool *used;
	size_t max, count;
};

struct dns_pending *dns_pending_new(size_t max)
{
	struct dns_pending *p;

	if (max == 0 || max > PENDING_MAX_ENTRIES)
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->slots = calloc(max, sizeof(*p->slots));
	p->used = calloc(max, sizeof(*p->used));
	if (!p->slots || !p->used) {
		dns_pending_free(p);
		return NULL;
	}
	p->max = max;
	return p;
}

void dns_pending_free(struct dns_pending *p)
{
	if (!p)
		return;
	free(p->slots);
	free(p->used);
	free(p);
}

int dns_pending_add(struct dns_pending *p, const struct dns_pending_query *q)
{
	size_t free_slot = p->max;
	bool first = true;

	if (q->len == 0 || q->len > DNS_PENDING_QUERY_MAX || p->count >= p->max)
		return -1;
	for (size_t i = 0; i < p->max; i++) {
		if (!p->used[i]) {
			if (free_slot == p->max)
				free_slot = i;
		} else if (strcmp(p->slots[i].name, q->name) == 0) {
			first = false;
		}
	}
	p->slots[free_slot] = *q;
	p->used[free_slot] = true;
	p->count++;
	return first ? 1 : 0;
}

/* Removes slot i and hands a copy to cb. */
static void take_slot(struct dns_pending *p, size_t i, dns_pending_cb cb, void *arg)
{
	struct dns_pending_query q = p->slots[i];

	p->used[i] = false;
	p->count--;
	if (cb)
		cb(arg, &q);
}

size_t dns_pending_take(struct dns_pending *p, const char *name,
			dns_pending_cb cb, void *arg)
{
	char norm[DNS_NAME_TEXT_MAX + 1];
	size_t n = 0;

	if (dns_name_normalize(name, norm) < 0)
		return 0;
	for (size_t i = 0; i < p->max; i++) {
		if (p->used[i] && strcmp(p->slots[i].name, norm) == 0) {
			take_slot(p, i, cb, arg);
			n++;
		}
	}
	return n;
}

size_t dns_pending_expire(struct dns_pending *p, uint64_t now_ms,
			  dns_pending_cb cb, void *arg)
{
	size_t n = 0;

	for (size_t i = 0; i < p->max; i++) {
		if (p->used[i] && p->slots[i].deadline_ms <= now_ms) {
			take_slot(p, i, cb, arg);
			n++;
		}
	}
	return n;
}

size_t dns_pending_drop_conn(struct dns_pending *p, uint64_t conn_id)
{
	size_t n = 0;

	for (size_t i = 0; i < p->max; i++) {
		if (p->used[i] && p->slots[i].transport == DNS_TCP &&
		    p->slots[i].conn_id == conn_id) {
			take_slot(p, i, NULL, NULL);
			n++;
		}
	}
	return n;
}

size_t dns_pending_count(const struct dns_pending *p)
{
	return p->count;
}

uint64_t dns_pending_next_deadline(const struct dns_pending *p)
{
	uint64_t next = UINT64_MAX;

	for (size_t i = 0; i < p->max; i++)
		if (p->used[i] && p->slots[i].deadline_ms < next)
			next = p->slots[i].deadline_ms;
	return next;
}
