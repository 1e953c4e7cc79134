// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for kmod/wire.c: the DATA/relay header codec, the nonce and
 * the inner packet checks, on valid, malformed and random input.
 *
 * Buffers are allocated at exactly the size the function's contract says
 * it may read, so KASAN reports any read past it.
 */

#include <kunit/test.h>
#include <linux/prandom.h>
#include <linux/slab.h>
#include <net/ip.h>
#include <asm/unaligned.h>

#include "wire.h"

#define RANDOM_ITERATIONS	20000
#define RANDOM_SEED		0x6379706830ULL

static struct cyphonic_data_hdr *hdr_alloc(struct kunit *test)
{
	struct cyphonic_data_hdr *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, h);
	return h;
}

/* The header is 16 bytes in network byte order, as the uapi header says. */
static void wire_data_hdr_layout(struct kunit *test)
{
	static const u8 want[16] = {
		CYPHONIC_MSG_DATA, 0x02, 0x00, 0x00,
		0x11, 0x22, 0x33, 0x44,
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	};
	struct cyphonic_data_hdr *h = hdr_alloc(test);

	KUNIT_ASSERT_EQ(test, CYPH_DATA_HDR_LEN, sizeof(want));
	memset(h, 0xff, sizeof(*h));
	cyph_data_hdr_init(h, 2, 0x11223344, 0x0102030405060708ULL);
	KUNIT_EXPECT_EQ(test, memcmp(h, want, sizeof(want)), 0);
	KUNIT_EXPECT_EQ(test, cyph_data_hdr_check(h, CYPH_DATA_MIN_LEN), 0);
}

/* Only the low two bits of a key id fit in the flags. */
static void wire_data_hdr_key_id(struct kunit *test)
{
	struct cyphonic_data_hdr *h = hdr_alloc(test);
	unsigned int id;

	for (id = 0; id < 256; id++) {
		cyph_data_hdr_init(h, id, 1, 1);
		if (h->flags != (id & CYPHONIC_DATA_F_KEY_ID_MASK) ||
		    cyph_data_hdr_check(h, CYPH_DATA_MIN_LEN)) {
			KUNIT_FAIL(test, "key id %u: flags %#x", id, h->flags);
			return;
		}
	}
}

static void wire_data_hdr_round_trip(struct kunit *test)
{
	struct cyphonic_data_hdr *h = hdr_alloc(test);
	struct rnd_state rs;
	int i;

	prandom_seed_state(&rs, RANDOM_SEED);
	for (i = 0; i < 1000; i++) {
		u32 idx = prandom_u32_state(&rs);
		u64 ctr = (u64)prandom_u32_state(&rs) << 32 | prandom_u32_state(&rs);
		u8 id = prandom_u32_state(&rs) & CYPHONIC_DATA_F_KEY_ID_MASK;

		cyph_data_hdr_init(h, id, idx, ctr);
		if (cyph_data_hdr_check(h, CYPH_DATA_MIN_LEN + i) ||
		    be32_to_cpu(h->receiver_index) != idx ||
		    get_unaligned_be64(&h->counter) != ctr ||
		    h->flags != id || h->type != CYPHONIC_MSG_DATA) {
			KUNIT_FAIL(test, "iteration %d: header did not round-trip", i);
			return;
		}
	}
}

/* Longer than any inner packet a peer can send: refused first. */
static void wire_data_max_len(struct kunit *test)
{
	struct cyphonic_data_hdr *h = hdr_alloc(test);

	cyph_data_hdr_init(h, 0, 1, 1);
	KUNIT_EXPECT_EQ(test, cyph_data_hdr_check(h, CYPH_DATA_MAX_LEN), 0);
	KUNIT_EXPECT_EQ(test, cyph_data_hdr_check(h, CYPH_DATA_MAX_LEN + 1),
			-EMSGSIZE);
	KUNIT_EXPECT_EQ(test, cyph_data_hdr_check(h, UINT_MAX), -EMSGSIZE);
	/* The device's largest MTU sealed is exactly the limit. */
	KUNIT_EXPECT_EQ(test, CYPH_DATA_MAX_LEN,
			CYPH_DATA_MIN_LEN + CYPH_INNER_MAX_LEN);
	KUNIT_EXPECT_LT(test, CYPH_DATA_MAX_LEN,
			IP_MAX_MTU - sizeof(struct iphdr) - sizeof(struct udphdr));
	h->type = CYPHONIC_MSG_HANDSHAKE;
	KUNIT_EXPECT_EQ(test, cyph_data_hdr_check(h, CYPH_DATA_MAX_LEN + 1),
			-EMSGSIZE);
}

/* Each malformation on its own is enough to refuse the packet. */
static void wire_data_hdr_malformed(struct kunit *test)
{
	struct cyphonic_data_hdr *h = hdr_alloc(test);
	unsigned int t, bit;

	cyph_data_hdr_init(h, 1, 7, 9);
	KUNIT_EXPECT_EQ(test, cyph_data_hdr_check(h, CYPH_DATA_MIN_LEN), 0);
	KUNIT_EXPECT_EQ(test, cyph_data_hdr_check(h, CYPH_DATA_MIN_LEN - 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, cyph_data_hdr_check(h, CYPH_DATA_HDR_LEN), -EINVAL);
	KUNIT_EXPECT_EQ(test, cyph_data_hdr_check(h, 0), -EINVAL);

	/* Loops report their first mismatch only: a case's log is short. */
	for (t = 0; t < 256; t++) {
		h->type = t;
		if (t != CYPHONIC_MSG_DATA && cyph_data_hdr_check(h, 1500) != -EINVAL) {
			KUNIT_FAIL(test, "type %u accepted", t);
			break;
		}
	}
	h->type = CYPHONIC_MSG_DATA;

	for (bit = 0; bit < 8; bit++) {
		h->flags = 1 << bit;
		if (cyph_data_hdr_check(h, 1500) !=
		    ((1 << bit) & ~CYPHONIC_DATA_F_ALL ? -EINVAL : 0)) {
			KUNIT_FAIL(test, "flag bit %u misjudged", bit);
			break;
		}
	}
	h->flags = 0;

	for (bit = 0; bit < 16; bit++) {
		h->reserved = cpu_to_be16(1 << bit);
		if (cyph_data_hdr_check(h, 1500) != -EINVAL) {
			KUNIT_FAIL(test, "reserved bit %u accepted", bit);
			break;
		}
	}
}

/* Random headers and lengths: accepted exactly when well-formed. */
static void wire_data_hdr_random(struct kunit *test)
{
	struct cyphonic_data_hdr *h = hdr_alloc(test);
	unsigned int accepted = 0;
	struct rnd_state rs;
	int i;

	prandom_seed_state(&rs, RANDOM_SEED + 1);
	for (i = 0; i < RANDOM_ITERATIONS; i++) {
		unsigned int len = prandom_u32_state(&rs) % 64;
		bool want;
		int err;

		prandom_bytes_state(&rs, h, sizeof(*h));
		/* Bias towards near-valid headers so both outcomes occur. */
		if (i & 1)
			h->type = CYPHONIC_MSG_DATA;
		if (i & 2)
			h->reserved = 0;
		if (i & 4)
			h->flags &= 0x07;
		want = len >= CYPH_DATA_MIN_LEN && h->type == CYPHONIC_MSG_DATA &&
		       !(h->flags & ~CYPHONIC_DATA_F_ALL) && !h->reserved;
		err = cyph_data_hdr_check(h, len);
		if (err != (want ? 0 : -EINVAL)) {
			KUNIT_FAIL(test,
				   "iteration %d: len %u type %u flags %#x reserved %#x: got %d",
				   i, len, h->type, h->flags,
				   be16_to_cpu(h->reserved), err);
			return;
		}
		accepted += !err;
	}
	KUNIT_EXPECT_GT(test, accepted, 0U);
	kunit_info(test, "%d random headers, %u accepted", i, accepted);
}

static void wire_relay_hdr_layout(struct kunit *test)
{
	struct cyphonic_relay_hdr *h = kunit_kzalloc(test, sizeof(*h), GFP_KERNEL);
	u8 *b = (u8 *)h;

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, h);
	KUNIT_ASSERT_EQ(test, CYPH_RELAY_HDR_LEN, (size_t)8);
	memset(h, 0xff, sizeof(*h));
	cyph_relay_hdr_init(h, 0xa1b2c3d4);
	KUNIT_EXPECT_EQ(test, b[0], (u8)CYPHONIC_MSG_RELAY);
	KUNIT_EXPECT_EQ(test, b[1], 0);
	KUNIT_EXPECT_EQ(test, b[2] | b[3], 0);
	KUNIT_EXPECT_EQ(test, get_unaligned_be32(b + 4), 0xa1b2c3d4U);
}

/* Four zero bytes, then the counter in big-endian order. */
static void wire_nonce(struct kunit *test)
{
	static const u8 want[CYPHONIC_NONCE_LEN] = {
		0, 0, 0, 0, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
	};
	u8 *n = kunit_kmalloc(test, CYPHONIC_NONCE_LEN, GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, n);
	memset(n, 0xff, CYPHONIC_NONCE_LEN);
	cyph_nonce_init(n, 0x0123456789abcdefULL);
	KUNIT_EXPECT_EQ(test, memcmp(n, want, sizeof(want)), 0);
	cyph_nonce_init(n, 0);
	KUNIT_EXPECT_NULL(test, memchr_inv(n, 0, CYPHONIC_NONCE_LEN));
}

static void wire_inner_hdr_len(struct kunit *test)
{
	unsigned int b;

	for (b = 0; b < 256; b++) {
		unsigned int want = 0;

		if (b >> 4 == 4)
			want = sizeof(struct iphdr);
		else if (b >> 4 == 6)
			want = sizeof(struct ipv6hdr);
		if (cyph_inner_hdr_len(b) != want) {
			KUNIT_FAIL(test, "first byte %#x: %u, want %u", b,
				   cyph_inner_hdr_len(b), want);
			return;
		}
	}
}

/* A minimal IPv4 header 10.0.0.1 -> 10.0.0.2 in a buffer of @size bytes. */
static u8 *ip4_packet(struct kunit *test, unsigned int size, unsigned int tot)
{
	struct iphdr *iph;
	u8 *p = kunit_kzalloc(test, size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p);
	iph = (struct iphdr *)p;
	iph->version = 4;
	iph->ihl = 5;
	iph->tot_len = htons(tot);
	iph->saddr = htonl(0x0a000001);
	iph->daddr = htonl(0x0a000002);
	return p;
}

static u8 *ip6_packet(struct kunit *test, unsigned int size,
		      unsigned int payload)
{
	struct ipv6hdr *ip6h;
	u8 *p = kunit_kzalloc(test, size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p);
	ip6h = (struct ipv6hdr *)p;
	ip6h->version = 6;
	ip6h->payload_len = htons(payload);
	ip6h->saddr.s6_addr[0] = 0xfd;
	ip6h->saddr.s6_addr[15] = 1;
	ip6h->daddr.s6_addr[0] = 0xfd;
	ip6h->daddr.s6_addr[15] = 2;
	return p;
}

static void wire_inner_ipv4(struct kunit *test)
{
	struct cyph_pair pair;
	u8 *p = ip4_packet(test, 60, 60);

	KUNIT_EXPECT_EQ(test, cyph_inner_parse(p, 60, false, &pair), 60);
	KUNIT_EXPECT_EQ(test, pair.family, (sa_family_t)AF_INET);
	KUNIT_EXPECT_EQ(test, ntohl(pair.local.ip4), 0x0a000001U);
	KUNIT_EXPECT_EQ(test, ntohl(pair.remote.ip4), 0x0a000002U);
	/* On RX the destination is ours. */
	KUNIT_EXPECT_EQ(test, cyph_inner_parse(p, 60, true, &pair), 60);
	KUNIT_EXPECT_EQ(test, ntohl(pair.local.ip4), 0x0a000002U);
	KUNIT_EXPECT_EQ(test, ntohl(pair.remote.ip4), 0x0a000001U);
	/* Trailing bytes after tot_len are allowed; the claimed length wins. */
	((struct iphdr *)p)->tot_len = htons(40);
	KUNIT_EXPECT_EQ(test, cyph_inner_parse(p, 60, true, &pair), 40);
	/* A bare header. */
	((struct iphdr *)p)->tot_len = htons(20);
	KUNIT_EXPECT_EQ(test, cyph_inner_parse(p, 20, true, &pair), 20);
}

static void wire_inner_ipv4_malformed(struct kunit *test)
{
	struct cyph_pair pair;
	u8 *p = ip4_packet(test, 60, 60);
	struct iphdr *iph = (struct iphdr *)p;

	KUNIT_EXPECT_EQ(test, cyph_inner_parse(p, 0, true, &pair), -EINVAL);
	KUNIT_EXPECT_EQ(test, cyph_inner_parse(p, 19, true, &pair), -EINVAL);
	/* Claims more than there is. */
	KUNIT_EXPECT_EQ(test, cyph_inner_parse(p, 59, true, &pair), -EINVAL);
	iph->tot_len = htons(65535);
	KUNIT_EXPECT_EQ(test, cyph_inner_parse(p, 60, true, &pair), -EINVAL);
	/* Claims less than its own header. */
	iph->tot_len = htons(19);
	KUNIT_EXPECT_EQ(test, cyph_inner_parse(p, 60, true, &pair), -EINVAL);
	iph->tot_len = htons(60);
	iph->ihl = 15;
	KUNIT_EXPECT_EQ(test, cyph_inner_parse(p, 60, true, &pair), 60);
	iph->tot_len = htons(59);
	KUNIT_EXPECT_EQ(test, cyph_inner_parse(p, 60, true, &pair), -EINVAL);
	iph->tot_len = htons(60);
	for (iph->ihl = 0; iph->ihl < 5; iph->ihl++)
		KUNIT_EXPECT_EQ_MSG(test, cyph_inner_parse(p, 60, true, &pair),
				    -EINVAL, "ihl %u", iph->ihl);
}

static void wire_inner_ipv6(struct kunit *test)
{
	struct cyph_pair pair;
	u8 *p = ip6_packet(test, 100, 60);

	KUNIT_EXPECT_EQ(test, cyph_inner_parse(p, 100, false, &pair), 100);
	KUNIT_EXPECT_EQ(test, pair.family, (sa_family_t)AF_INET6);
	KUNIT_EXPECT_EQ(test, pair.local.ip6.s6_addr[15], 1);
	KUNIT_EXPECT_EQ(test, pair.remote.ip6.s6_addr[15], 2);
	KUNIT_EXPECT_EQ(test, cyph_inner_parse(p, 100, true, &pair), 100);
	KUNIT_EXPECT_EQ(test, pair.local.ip6.s6_addr[15], 2);
	KUNIT_EXPECT_EQ(test, pair.remote.ip6.s6_addr[15], 1);
	((struct ipv6hdr *)p)->payload_len = 0;
	KUNIT_EXPECT_EQ(test, cyph_inner_parse(p, 100, true, &pair), 40);
}

static void wire_inner_ipv6_malformed(struct kunit *test)
{
	struct cyph_pair pair;
	u8 *p = ip6_packet(test, 100, 60);

	KUNIT_EXPECT_EQ(test, cyph_inner_parse(p, 99, true, &pair), -EINVAL);
	KUNIT_EXPECT_EQ(test, cyph_inner_parse(p, 39, true, &pair), -EINVAL);
	((struct ipv6hdr *)p)->payload_len = htons(65535);
	KUNIT_EXPECT_EQ(test, cyph_inner_parse(p, 100, true, &pair), -EINVAL);
}

/* Every version nibble other than 4 and 6 is refused. */
static void wire_inner_bad_version(struct kunit *test)
{
	struct cyph_pair pair;
	u8 *p = ip4_packet(test, 60, 60);
	unsigned int v;

	for (v = 0; v < 16; v++) {
		if (v == 4 || v == 6)
			continue;
		p[0] = v << 4 | 5;
		if (cyph_inner_parse(p, 60, true, &pair) != -EINVAL) {
			KUNIT_FAIL(test, "version %u accepted", v);
			return;
		}
	}
}

/* What a correct parser must answer, written independently of wire.c. */
static int inner_model(const u8 *p, unsigned int len)
{
	unsigned int tot;

	if (!len)
		return -EINVAL;
	switch (p[0] >> 4) {
	case 4:
		if (len < 20 || (p[0] & 0x0f) < 5)
			return -EINVAL;
		tot = get_unaligned_be16(p + 2);
		if (tot < (p[0] & 0x0f) * 4u || tot > len)
			return -EINVAL;
		return tot;
	case 6:
		if (len < 40)
			return -EINVAL;
		tot = 40 + get_unaligned_be16(p + 4);
		return tot > len ? -EINVAL : tot;
	default:
		return -EINVAL;
	}
}

/*
 * Random inner packets, mostly near-valid. The buffer holds @len bytes, or
 * the cyph_inner_hdr_len() the caller must make readable if that is more.
 */
static void wire_inner_random(struct kunit *test)
{
	unsigned int ok4 = 0, ok6 = 0;
	struct rnd_state rs;
	int i;

	prandom_seed_state(&rs, RANDOM_SEED + 2);
	for (i = 0; i < RANDOM_ITERATIONS; i++) {
		unsigned int len = prandom_u32_state(&rs) % 128;
		u32 pick = prandom_u32_state(&rs);
		unsigned int size, need;
		struct cyph_pair pair;
		int got, want;
		u8 first, *p;

		prandom_bytes_state(&rs, &first, 1);
		if (pick % 3 == 0)
			first = 0x40 | (pick >> 8 & 0xf);
		else if (pick % 3 == 1)
			first = 0x60 | (pick >> 8 & 0xf);
		need = len ? cyph_inner_hdr_len(first) : 0;
		size = max(len, need);
		p = kmalloc(max(size, 1u), GFP_KERNEL);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, p);
		prandom_bytes_state(&rs, p, size);
		p[0] = first;
		/* Make the claimed length plausible half of the time. */
		if (pick & 0x10000 && first >> 4 == 4 && size >= 4)
			put_unaligned_be16(prandom_u32_state(&rs) % (len + 8), p + 2);
		if (pick & 0x10000 && first >> 4 == 6 && size >= 6)
			put_unaligned_be16(prandom_u32_state(&rs) % (len + 8), p + 4);
		want = inner_model(p, len);
		got = cyph_inner_parse(p, len, pick & 1, &pair);
		if (got >= 0 && pair.family != (first >> 4 == 4 ? AF_INET : AF_INET6))
			got = -ERANGE;
		kfree(p);
		if (got != want) {
			KUNIT_FAIL(test, "iteration %d: len %u first %#x: got %d want %d",
				   i, len, first, got, want);
			return;
		}
		ok4 += got >= 0 && first >> 4 == 4;
		ok6 += got >= 0 && first >> 4 == 6;
	}
	KUNIT_EXPECT_GT(test, ok4, 0U);
	KUNIT_EXPECT_GT(test, ok6, 0U);
	kunit_info(test, "%d random packets, %u IPv4 and %u IPv6 accepted",
		   i, ok4, ok6);
}

/*
 * Where a pending transport checksum lies (CYPHONIC_DATA_F_CSUM_PARTIAL):
 * TCP or UDP straight after an unfragmented IPv4 header (options allowed)
 * or the fixed IPv6 header, the field inside the bytes given; nothing else.
 */
static void wire_inner_csum_loc(struct kunit *test)
{
	u8 *p4 = ip4_packet(test, 60, 60), *p6 = ip6_packet(test, 100, 60);
	struct ipv6hdr *ip6h = (struct ipv6hdr *)p6;
	struct iphdr *iph = (struct iphdr *)p4;
	u16 start = 0, off = 0;
	unsigned int len;

	iph->protocol = IPPROTO_TCP;
	KUNIT_EXPECT_EQ(test, cyph_inner_csum_loc(p4, 60, &start, &off), 0);
	KUNIT_EXPECT_EQ(test, start, 20);
	KUNIT_EXPECT_EQ(test, off, 16);
	/* The field must be inside: 20 + 16 + 2 bytes, not one fewer. */
	KUNIT_EXPECT_EQ(test, cyph_inner_csum_loc(p4, 38, &start, &off), 0);
	KUNIT_EXPECT_EQ(test, cyph_inner_csum_loc(p4, 37, &start, &off), -EINVAL);
	for (len = 0; len < 20; len++)
		KUNIT_EXPECT_EQ_MSG(test, cyph_inner_csum_loc(p4, len, &start, &off),
				    -EINVAL, "len %u", len);
	iph->protocol = IPPROTO_UDP;
	iph->ihl = 6;
	KUNIT_EXPECT_EQ(test, cyph_inner_csum_loc(p4, 60, &start, &off), 0);
	KUNIT_EXPECT_EQ(test, start, 24);
	KUNIT_EXPECT_EQ(test, off, 6);
	/* Fragments: the first (MF) and later ones (offset) alike. */
	iph->frag_off = htons(IP_MF);
	KUNIT_EXPECT_EQ(test, cyph_inner_csum_loc(p4, 60, &start, &off), -EINVAL);
	iph->frag_off = htons(8);
	KUNIT_EXPECT_EQ(test, cyph_inner_csum_loc(p4, 60, &start, &off), -EINVAL);
	iph->frag_off = htons(IP_DF);
	KUNIT_EXPECT_EQ(test, cyph_inner_csum_loc(p4, 60, &start, &off), 0);
	iph->protocol = IPPROTO_ICMP;
	KUNIT_EXPECT_EQ(test, cyph_inner_csum_loc(p4, 60, &start, &off), -EINVAL);
	iph->protocol = IPPROTO_TCP;
	iph->ihl = 4;
	KUNIT_EXPECT_EQ(test, cyph_inner_csum_loc(p4, 60, &start, &off), -EINVAL);
	p4[0] = 0x55;
	KUNIT_EXPECT_EQ(test, cyph_inner_csum_loc(p4, 60, &start, &off), -EINVAL);

	ip6h->nexthdr = IPPROTO_TCP;
	KUNIT_EXPECT_EQ(test, cyph_inner_csum_loc(p6, 100, &start, &off), 0);
	KUNIT_EXPECT_EQ(test, start, 40);
	KUNIT_EXPECT_EQ(test, off, 16);
	KUNIT_EXPECT_EQ(test, cyph_inner_csum_loc(p6, 57, &start, &off), -EINVAL);
	KUNIT_EXPECT_EQ(test, cyph_inner_csum_loc(p6, 39, &start, &off), -EINVAL);
	ip6h->nexthdr = IPPROTO_UDP;
	KUNIT_EXPECT_EQ(test, cyph_inner_csum_loc(p6, 48, &start, &off), 0);
	KUNIT_EXPECT_EQ(test, off, 6);
	/* Extension headers would have to be walked: not flagged. */
	ip6h->nexthdr = NEXTHDR_HOP;
	KUNIT_EXPECT_EQ(test, cyph_inner_csum_loc(p6, 100, &start, &off), -EINVAL);
	ip6h->nexthdr = NEXTHDR_FRAGMENT;
	KUNIT_EXPECT_EQ(test, cyph_inner_csum_loc(p6, 100, &start, &off), -EINVAL);
}

static struct kunit_case wire_cases[] = {
	KUNIT_CASE(wire_data_hdr_layout),
	KUNIT_CASE(wire_data_hdr_key_id),
	KUNIT_CASE(wire_data_hdr_round_trip),
	KUNIT_CASE(wire_data_hdr_malformed),
	KUNIT_CASE(wire_data_hdr_random),
	KUNIT_CASE(wire_relay_hdr_layout),
	KUNIT_CASE(wire_nonce),
	KUNIT_CASE(wire_inner_hdr_len),
	KUNIT_CASE(wire_inner_ipv4),
	KUNIT_CASE(wire_data_max_len),
	KUNIT_CASE(wire_inner_ipv4_malformed),
	KUNIT_CASE(wire_inner_ipv6),
	KUNIT_CASE(wire_inner_ipv6_malformed),
	KUNIT_CASE(wire_inner_bad_version),
	KUNIT_CASE(wire_inner_random),
	KUNIT_CASE(wire_inner_csum_loc),
	{}
};

static struct kunit_suite wire_suite = {
	.name = "cyphonic_wire",
	.test_cases = wire_cases,
};

kunit_test_suite(wire_suite);
