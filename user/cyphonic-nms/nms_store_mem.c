// SPDX-License-Identifier: MIT
/*
 * In-process registration store: one chained hash table by node id (all
 * records) and three by FQDN, VIPv4 and VIPv6 (active records only). The
 * tables double when the load factor passes 1, so lookups stay O(1).
 */
#include <stdlib.h>
#include <string.h>
#include "nms_store.h"
#include "runtime/mix.h"

struct mem_store {
	struct nms_store base;
	struct nms_reg **by_id, **by_fqdn, **by_v4, **by_v6;
	size_t nb;		/* buckets per table, a power of two */
	size_t n, active, max;
};

static uint64_t hash_v6(const struct in6_addr *a)
{
	uint64_t x, y;

	memcpy(&x, a->s6_addr, 8);
	memcpy(&y, a->s6_addr + 8, 8);
	return cyph_mix64(x ^ cyph_mix64(y));
}

#define M(s) ((struct mem_store *)(s))

static void unlink_from(struct nms_reg **head, struct nms_reg *r,
			size_t link_off)
{
	struct nms_reg **pp = head;

	while (*pp) {
		if (*pp == r) {
			*pp = *(struct nms_reg **)((char *)r + link_off);
			return;
		}
		pp = (struct nms_reg **)((char *)*pp + link_off);
	}
}

#define LINK(field) offsetof(struct nms_reg, field)

/*
 * Unlinks r by the hashes it was indexed under, not by its current
 * identity: update() is called after the caller changed r->ident (a new
 * certificate with another FQDN or VIP), and hashing the new keys would
 * miss the old buckets and leave r linked there after it is freed.
 */
static void index_del(struct mem_store *m, struct nms_reg *r)
{
	size_t mask = m->nb - 1;

	if (r->in_fqdn)
		unlink_from(&m->by_fqdn[r->h_fqdn & mask], r, LINK(next_fqdn));
	if (r->in_v4)
		unlink_from(&m->by_v4[r->h_v4 & mask], r, LINK(next_v4));
	if (r->in_v6)
		unlink_from(&m->by_v6[r->h_v6 & mask], r, LINK(next_v6));
	if (r->counted)
		m->active--;
	r->in_fqdn = r->in_v4 = r->in_v6 = r->counted = false;
}

static void index_add(struct mem_store *m, struct nms_reg *r)
{
	size_t mask = m->nb - 1, b;

	if (!r->active)
		return;
	m->active++;
	r->counted = true;
	if (r->ident.fqdn[0]) {
		r->h_fqdn = cyph_hash_str(r->ident.fqdn);
		b = r->h_fqdn & mask;
		r->next_fqdn = m->by_fqdn[b];
		m->by_fqdn[b] = r;
		r->in_fqdn = true;
	}
	if (r->ident.has_vip4) {
		r->h_v4 = cyph_mix64(r->ident.vip4.s_addr);
		b = r->h_v4 & mask;
		r->next_v4 = m->by_v4[b];
		m->by_v4[b] = r;
		r->in_v4 = true;
	}
	if (r->ident.has_vip6) {
		r->h_v6 = hash_v6(&r->ident.vip6);
		b = r->h_v6 & mask;
		r->next_v6 = m->by_v6[b];
		m->by_v6[b] = r;
		r->in_v6 = true;
	}
}

static int alloc_tables(struct mem_store *m, size_t nb)
{
	m->by_id = calloc(nb, sizeof(*m->by_id));
	m->by_fqdn = calloc(nb, sizeof(*m->by_fqdn));
	m->by_v4 = calloc(nb, sizeof(*m->by_v4));
	m->by_v6 = calloc(nb, sizeof(*m->by_v6));
	m->nb = nb;
	return m->by_id && m->by_fqdn && m->by_v4 && m->by_v6 ? 0 : -1;
}

static void free_tables(struct mem_store *m)
{
	free(m->by_id);
	free(m->by_fqdn);
	free(m->by_v4);
	free(m->by_v6);
}

/* Rebuilds every table with twice the buckets; keeps the old on OOM. */
static void grow(struct mem_store *m)
{
	struct mem_store old = *m;
	size_t i;

	if (alloc_tables(m, old.nb * 2)) {
		free_tables(m);
		*m = old;
		return;
	}
	m->active = 0;
	for (i = 0; i < old.nb; i++) {
		struct nms_reg *r = old.by_id[i], *next;

		for (; r; r = next) {
			size_t b = cyph_mix64(r->ident.id) & (m->nb - 1);

			next = r->next_id;
			r->next_id = m->by_id[b];
			m->by_id[b] = r;
			r->in_fqdn = r->in_v4 = r->in_v6 = r->counted = false;
			index_add(m, r);
		}
	}
	free_tables(&old);
}

static struct nms_reg *mem_get(struct nms_store *s, uint64_t id)
{
	struct nms_reg *r = M(s)->by_id[cyph_mix64(id) & (M(s)->nb - 1)];

	while (r && r->ident.id != id)
		r = r->next_id;
	return r;
}

static struct nms_reg *mem_by_fqdn(struct nms_store *s, const char *fqdn)
{
	struct nms_reg *r = M(s)->by_fqdn[cyph_hash_str(fqdn) & (M(s)->nb - 1)];

	while (r && strcmp(r->ident.fqdn, fqdn))
		r = r->next_fqdn;
	return r;
}

static struct nms_reg *mem_by_vip4(struct nms_store *s, struct in_addr a)
{
	struct nms_reg *r = M(s)->by_v4[cyph_mix64(a.s_addr) & (M(s)->nb - 1)];

	while (r && r->ident.vip4.s_addr != a.s_addr)
		r = r->next_v4;
	return r;
}

static struct nms_reg *mem_by_vip6(struct nms_store *s, const struct in6_addr *a)
{
	struct nms_reg *r = M(s)->by_v6[hash_v6(a) & (M(s)->nb - 1)];

	while (r && memcmp(&r->ident.vip6, a, 16))
		r = r->next_v6;
	return r;
}

static struct nms_reg *mem_create(struct nms_store *s, uint64_t id)
{
	struct mem_store *m = M(s);
	struct nms_reg *r;
	size_t b;

	if (m->max && m->n >= m->max)
		return NULL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->ident.id = id;
	b = cyph_mix64(id) & (m->nb - 1);
	r->next_id = m->by_id[b];
	m->by_id[b] = r;
	if (++m->n > m->nb)
		grow(m);
	return r;
}

static void mem_update(struct nms_store *s, struct nms_reg *r)
{
	index_del(M(s), r);
	index_add(M(s), r);
}

static void mem_remove(struct nms_store *s, struct nms_reg *r)
{
	struct mem_store *m = M(s);

	index_del(m, r);
	unlink_from(&m->by_id[cyph_mix64(r->ident.id) & (m->nb - 1)], r, LINK(next_id));
	m->n--;
	free(r->cert);
	memset(r, 0, sizeof(*r));	/* wipe session keys */
	free(r);
}

static void mem_foreach(struct nms_store *s,
			void (*fn)(struct nms_reg *r, void *arg), void *arg)
{
	struct mem_store *m = M(s);
	size_t i;

	for (i = 0; i < m->nb; i++) {
		struct nms_reg *r = m->by_id[i], *next;

		for (; r; r = next) {
			next = r->next_id;	/* fn may free r */
			fn(r, arg);
		}
	}
}

static size_t mem_count(struct nms_store *s)
{
	return M(s)->active;
}

static void mem_destroy(struct nms_store *s)
{
	struct mem_store *m = M(s);
	size_t i;

	if (!s)
		return;
	for (i = 0; i < m->nb; i++) {
		struct nms_reg *r = m->by_id[i], *next;

		for (; r; r = next) {
			next = r->next_id;
			free(r->cert);
			memset(r, 0, sizeof(*r));
			free(r);
		}
	}
	free_tables(m);
	free(m);
}

static const struct nms_store_ops mem_ops = {
	.get = mem_get,
	.by_fqdn = mem_by_fqdn,
	.by_vip4 = mem_by_vip4,
	.by_vip6 = mem_by_vip6,
	.create = mem_create,
	.update = mem_update,
	.remove = mem_remove,
	.foreach = mem_foreach,
	.count = mem_count,
	.destroy = mem_destroy,
};

struct nms_store *nms_store_mem_new(size_t max)
{
	struct mem_store *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->base.ops = &mem_ops;
	m->max = max;
	if (alloc_tables(m, 64)) {
		free_tables(m);
		free(m);
		return NULL;
	}
	return &m->base;
}
