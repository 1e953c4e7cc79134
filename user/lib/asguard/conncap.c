// SPDX-License-Identifier: MIT
/* Per-source connection counts (conncap.h). */
#include "conncap.h"
#include "keyhash.h"

#include <stdlib.h>
#include <string.h>

struct entry {
	struct entry *next;
	struct cyph_srckey key;
	unsigned int n;
};

struct cyph_conncap {
	uint64_t seed;
	size_t mask, sources;
	struct entry **b;
};

struct cyph_conncap *cyph_conncap_new(size_t buckets)
{
	struct cyph_conncap *c = calloc(1, sizeof(*c));
	size_t n = 16;

	if (!c)
		return NULL;
	while (n < buckets && n < ((size_t)1 << 24))
		n <<= 1;
	c->b = calloc(n, sizeof(*c->b));
	if (!c->b) {
		free(c);
		return NULL;
	}
	c->mask = n - 1;
	c->seed = asguard_seed();
	return c;
}

void cyph_conncap_free(struct cyph_conncap *c)
{
	if (!c)
		return;
	for (size_t i = 0; i <= c->mask; i++) {
		struct entry *e = c->b[i], *next;

		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(c->b);
	free(c);
}

static struct entry **slot(const struct cyph_conncap *c, const struct cyph_srckey *k)
{
	struct entry **pp = &c->b[asguard_hash(c->seed, k->b, k->len) & c->mask];

	while (*pp && ((*pp)->key.len != k->len || memcmp((*pp)->key.b, k->b, k->len)))
		pp = &(*pp)->next;
	return pp;
}

bool cyph_conncap_add(struct cyph_conncap *c, const struct cyph_srckey *k, unsigned int limit)
{
	struct entry **pp = slot(c, k);

	if (*pp) {
		if ((*pp)->n >= limit)
			return false;
		(*pp)->n++;
		return true;
	}
	if (!limit || !(*pp = calloc(1, sizeof(**pp))))
		return false;
	(*pp)->key = *k;
	(*pp)->n = 1;
	c->sources++;
	return true;
}

void cyph_conncap_del(struct cyph_conncap *c, const struct cyph_srckey *k)
{
	struct entry **pp = slot(c, k), *e = *pp;

	if (!e)
		return;
	if (--e->n == 0) {
		*pp = e->next;
		free(e);
		c->sources--;
	}
}

unsigned int cyph_conncap_count(const struct cyph_conncap *c, const struct cyph_srckey *k)
{
	struct entry **pp = slot(c, k);

	return *pp ? (*pp)->n : 0;
}

size_t cyph_conncap_sources(const struct cyph_conncap *c)
{
	return c->sources;
}
