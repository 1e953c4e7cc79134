// SPDX-License-Identifier: MIT
/* Per-node quotas of the NMS (nms_quota.h). */
#include <string.h>
#include <sys/socket.h>
#include "nms_quota.h"
#include "wire/proto.h"

bool nms_bucket_take(struct nms_bucket *b, uint32_t rate, uint32_t burst, int64_t now_ms)
{
	if (!rate)
		return true;
	if (!b->ms) {
		b->tokens = burst;
	} else if (now_ms > b->ms) {
		b->tokens += (double)(now_ms - b->ms) * rate / 1000.0;
		if (b->tokens > burst)
			b->tokens = burst;
	}
	b->ms = now_ms > 0 ? now_ms : 1;
	if (b->tokens < 1)
		return false;
	b->tokens -= 1;
	return true;
}

static size_t index_of(uint64_t id)
{
	uint64_t h = id * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 40) % NMS_QUOTA_SLOTS;
}

struct nms_quota_slot *nms_quota_slot(struct nms_quota_slot *table, uint64_t id)
{
	struct nms_quota_slot *s = &table[index_of(id)];

	if (s->id != id) {
		memset(s, 0, sizeof(*s));
		s->id = id;
	}
	return s;
}

/* Would b be full at now_ms? Never used, or unlimited, counts as full. */
static bool bucket_full(const struct nms_bucket *b, uint32_t rate, uint32_t burst,
			int64_t now_ms)
{
	if (!rate || !b->ms)
		return true;
	return b->tokens + (double)(now_ms - b->ms) * rate / 1000.0 >= burst;
}

static bool slot_idle(const struct nms_source_slot *s, const struct nms_source_limits *lim,
		      int64_t now_ms)
{
	return bucket_full(&s->reg, lim->reg_rate, lim->reg_burst, now_ms) &&
	       bucket_full(&s->cookie, lim->cookie_rate, lim->cookie_burst, now_ms);
}

struct nms_source_slot *nms_source_slot(struct nms_source_slot *table, uint64_t seed,
					const struct proto_ep *from,
					const struct nms_source_limits *lim, int64_t now_ms)
{
	struct nms_source_slot *c[2];
	struct cyph_srckey k;
	uint64_t h;
	int i;

	cyph_srckey_from_addr(from->family == 6 ? AF_INET6 : AF_INET,
			      from->family == 6 ? (const void *)&from->v6 : (const void *)&from->v4,
			      &k);
	/* Two candidate slots: two busy sources rarely share both. */
	h = cyph_srckey_hash(&k, seed);
	c[0] = &table[(uint32_t)h % NMS_SOURCE_SLOTS];
	c[1] = &table[(uint32_t)(h >> 32) % NMS_SOURCE_SLOTS];
	for (i = 0; i < 2; i++)
		if (c[i]->key.len == k.len && !memcmp(c[i]->key.b, k.b, k.len))
			return c[i];
	for (i = 0; i < 2; i++) {
		if (slot_idle(c[i], lim, now_ms)) {
			memset(c[i], 0, sizeof(*c[i]));	/* nothing to keep */
			c[i]->key = k;
			return c[i];
		}
	}
	return c[0];	/* shared with a busy source until one is idle */
}

struct nms_quota_slot *nms_quota_find(struct nms_quota_slot *table, uint64_t id)
{
	struct nms_quota_slot *s = &table[index_of(id)];

	return s->id == id ? s : NULL;
}
