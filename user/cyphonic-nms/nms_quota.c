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

struct nms_source_slot *nms_source_slot(struct nms_source_slot *table, const struct proto_ep *from)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	struct nms_source_slot *s;
	struct cyph_srckey k;

	cyph_srckey_from_addr(from->family == 6 ? AF_INET6 : AF_INET,
			      from->family == 6 ? (const void *)&from->v6 : (const void *)&from->v4,
			      &k);
	for (size_t i = 0; i < k.len; i++)
		h = (h ^ k.b[i]) * 0x100000001b3ULL;	/* FNV-1a */
	s = &table[h % NMS_SOURCE_SLOTS];
	if (s->key.len != k.len || memcmp(s->key.b, k.b, k.len)) {
		memset(s, 0, sizeof(*s));
		s->key = k;
	}
	return s;
}

struct nms_quota_slot *nms_quota_find(struct nms_quota_slot *table, uint64_t id)
{
	struct nms_quota_slot *s = &table[index_of(id)];

	return s->id == id ? s : NULL;
}
