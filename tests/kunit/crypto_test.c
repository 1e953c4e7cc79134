// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for kmod/crypto.c: DATA packets sealed and opened in place
 * with both ciphers, through the same request/done() path the data plane
 * uses, and every kind of tampering refused.
 */

#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/skbuff.h>

#include "crypto.h"
#include "wire.h"

#define TAG	CYPHONIC_TAG_LEN
#define HDR	CYPH_DATA_HDR_LEN

/* done() runs once per request, maybe from a completion: record it. */
static struct {
	struct completion done;
	int err;
	int calls;
} crypt_wait;

static void crypt_done(struct cyph_crypt_req *req, int err)
{
	crypt_wait.err = err;
	crypt_wait.calls++;
	complete(&crypt_wait.done);
}

/* Run one request like tx.c/rx.c do; return what done() got. */
static int crypt_run(struct kunit *test, struct cyph_aead *tfm,
		     struct sk_buff *skb, u64 counter, bool encrypt)
{
	struct cyph_crypt_req *req;
	unsigned long left;

	req = cyph_crypt_req_alloc(tfm, 1 + skb_shinfo(skb)->nr_frags);
	KUNIT_ASSERT_NOT_NULL(test, req);
	req->skb = skb;
	req->counter = counter;
	req->done = crypt_done;
	init_completion(&crypt_wait.done);
	crypt_wait.calls = 0;
	if (encrypt)
		cyph_encrypt(req);
	else
		cyph_decrypt(req);
	/* On timeout the request may still be in flight: leak it. */
	left = wait_for_completion_timeout(&crypt_wait.done, 10 * HZ);
	KUNIT_ASSERT_GT_MSG(test, left, 0UL, "done() never called");
	KUNIT_EXPECT_EQ(test, crypt_wait.calls, 1);
	cyph_crypt_req_free(req);
	return crypt_wait.err;
}

static struct cyph_aead *aead(struct kunit *test, enum cyphonic_cipher c,
			      u8 key_byte)
{
	u8 key[CYPHONIC_KEY_LEN];
	struct cyph_aead *tfm;

	memset(key, key_byte, sizeof(key));
	key[0] ^= 0x5a;
	tfm = cyph_aead_alloc(c, key);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, tfm);
	return tfm;
}

static void fill(u8 *p, unsigned int len, u8 seed)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		p[i] = seed + i * 7;
}

/* A DATA packet: header, @len bytes of plaintext, room for the tag. */
static struct sk_buff *data_skb(struct kunit *test, unsigned int len, u64 ctr)
{
	struct sk_buff *skb = alloc_skb(HDR + len + TAG, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, skb);
	cyph_data_hdr_init(skb_put(skb, HDR), 1, 0x1234, ctr);
	fill(skb_put(skb, len), len, len);
	skb_put_zero(skb, TAG);
	return skb;
}

static bool plain_ok(struct sk_buff *skb, unsigned int len)
{
	u8 *want = kmalloc(len + 1, GFP_KERNEL), *got = kmalloc(len + 1, GFP_KERNEL);
	bool ok = want && got && skb->len == HDR + len + TAG &&
		  !skb_copy_bits(skb, HDR, got, len);

	if (ok) {
		fill(want, len, len);
		ok = !memcmp(want, got, len);
	}
	kfree(want);
	kfree(got);
	return ok;
}

static void crypto_round_trip(struct kunit *test, enum cyphonic_cipher c)
{
	static const unsigned int lens[] = { 0, 1, 15, 16, 17, 64, 1000, 1420 };
	struct cyph_aead *tfm = aead(test, c, 1);
	struct cyphonic_data_hdr hdr;
	int i;

	for (i = 0; i < ARRAY_SIZE(lens) && test->status != KUNIT_FAILURE; i++) {
		unsigned int len = lens[i];
		struct sk_buff *skb = data_skb(test, len, 1000 + i);

		memcpy(&hdr, skb->data, HDR);
		KUNIT_EXPECT_EQ(test, crypt_run(test, tfm, skb, 1000 + i, true), 0);
		KUNIT_EXPECT_EQ_MSG(test, memcmp(&hdr, skb->data, HDR), 0,
				    "len %u: header changed", len);
		if (len >= 16)
			KUNIT_EXPECT_FALSE_MSG(test, plain_ok(skb, len),
					       "len %u: not encrypted", len);
		KUNIT_EXPECT_NOT_NULL(test, memchr_inv(skb->data + HDR + len, 0, TAG));
		KUNIT_EXPECT_EQ(test, crypt_run(test, tfm, skb, 1000 + i, false), 0);
		KUNIT_EXPECT_TRUE_MSG(test, plain_ok(skb, len),
				      "len %u: did not round-trip", len);
		kfree_skb(skb);
	}
	cyph_aead_free(tfm);
}

/* Same plaintext, different counters: different ciphertexts. */
static void crypto_counter_is_nonce(struct kunit *test, enum cyphonic_cipher c)
{
	struct cyph_aead *tfm = aead(test, c, 2);
	struct sk_buff *s1 = data_skb(test, 64, 7), *s2 = data_skb(test, 64, 7);

	KUNIT_EXPECT_EQ(test, crypt_run(test, tfm, s1, 7, true), 0);
	KUNIT_EXPECT_EQ(test, crypt_run(test, tfm, s2, 8, true), 0);
	KUNIT_EXPECT_NE(test, memcmp(s1->data + HDR, s2->data + HDR, 64 + TAG), 0);
	/* Opening under the wrong counter fails. */
	KUNIT_EXPECT_EQ(test, crypt_run(test, tfm, s2, 7, false), -EBADMSG);
	kfree_skb(s1);
	kfree_skb(s2);
	cyph_aead_free(tfm);
}

/*
 * Flip one bit at @off of a sealed packet: it must not open. Only the
 * first failure is reported, to keep the case's log short.
 */
static void crypto_tamper_at(struct kunit *test, struct cyph_aead *tfm,
			     unsigned int len, unsigned int off, const char *what)
{
	struct sk_buff *skb;
	int err;

	if (test->status == KUNIT_FAILURE)
		return;
	skb = data_skb(test, len, 42);
	KUNIT_ASSERT_EQ(test, crypt_run(test, tfm, skb, 42, true), 0);
	skb->data[off] ^= 0x10;
	err = crypt_run(test, tfm, skb, 42, false);
	if (err != -EBADMSG)
		KUNIT_FAIL(test, "%s (offset %u) tampered: %d, want -EBADMSG",
			   what, off, err);
	kfree_skb(skb);
}

static void crypto_tampered(struct kunit *test, enum cyphonic_cipher c)
{
	struct cyph_aead *tfm = aead(test, c, 3);
	unsigned int len = 100, off;

	/* The header is the AAD: type, flags, index and counter bytes. */
	for (off = 0; off < HDR; off++)
		crypto_tamper_at(test, tfm, len, off, "header");
	crypto_tamper_at(test, tfm, len, HDR, "ciphertext start");
	crypto_tamper_at(test, tfm, len, HDR + len / 2, "ciphertext middle");
	crypto_tamper_at(test, tfm, len, HDR + len - 1, "ciphertext end");
	crypto_tamper_at(test, tfm, len, HDR + len, "tag start");
	crypto_tamper_at(test, tfm, len, HDR + len + TAG - 1, "tag end");
	crypto_tamper_at(test, tfm, 0, HDR, "tag of an empty packet");
	cyph_aead_free(tfm);
}

/*
 * A failed open has already decrypted in place with the wrong key stream:
 * the packet is garbage afterwards and can only be dropped (rx.c must not
 * retry it under another key). So the right key gets a copy.
 */
static void crypto_wrong_key(struct kunit *test, enum cyphonic_cipher c)
{
	struct cyph_aead *tfm = aead(test, c, 4), *other = aead(test, c, 5);
	struct sk_buff *skb = data_skb(test, 200, 9), *copy;

	KUNIT_EXPECT_EQ(test, crypt_run(test, tfm, skb, 9, true), 0);
	copy = skb_copy(skb, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, copy);
	KUNIT_EXPECT_EQ(test, crypt_run(test, other, skb, 9, false), -EBADMSG);
	KUNIT_EXPECT_EQ(test, crypt_run(test, tfm, copy, 9, false), 0);
	KUNIT_EXPECT_TRUE(test, plain_ok(copy, 200));
	kfree_skb(copy);
	kfree_skb(skb);
	cyph_aead_free(other);
	cyph_aead_free(tfm);
}

/*
 * A packet whose plaintext and tag sit partly in a page fragment, as a
 * non-linear skb from GRO or a GSO segment does: the scatterlist must
 * cover every fragment.
 */
static struct sk_buff *paged_skb(struct kunit *test, unsigned int len,
				 unsigned int head, u64 ctr)
{
	unsigned int rest = len - head + TAG;
	struct sk_buff *skb = data_skb(test, len, ctr);
	struct sk_buff *nl = alloc_skb(HDR + head, GFP_KERNEL);
	struct page *page = alloc_page(GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, nl);
	KUNIT_ASSERT_NOT_NULL(test, page);
	skb_put_data(nl, skb->data, HDR + head);
	memcpy(page_address(page), skb->data + HDR + head, rest);
	skb_fill_page_desc(nl, 0, page, 0, rest);
	nl->len += rest;
	nl->data_len += rest;
	nl->truesize += PAGE_SIZE;
	kfree_skb(skb);
	return nl;
}

static void crypto_paged(struct kunit *test, enum cyphonic_cipher c)
{
	struct cyph_aead *tfm = aead(test, c, 6);
	struct sk_buff *skb = paged_skb(test, 1200, 100, 77);

	KUNIT_ASSERT_TRUE(test, skb_is_nonlinear(skb));
	KUNIT_EXPECT_EQ(test, crypt_run(test, tfm, skb, 77, true), 0);
	KUNIT_EXPECT_FALSE(test, plain_ok(skb, 1200));
	KUNIT_EXPECT_EQ(test, crypt_run(test, tfm, skb, 77, false), 0);
	KUNIT_EXPECT_TRUE(test, plain_ok(skb, 1200));
	kfree_skb(skb);
	cyph_aead_free(tfm);
}

/*
 * Sealed out of place (tx.c, a paged segment): header, ciphertext and tag
 * land in a buffer of their own (@into_head false) or in the segment's
 * own head grown to hold them, where the header and the head's text are
 * both source and destination (@into_head); byte for byte what sealing
 * in place gives, the source's fragments left as they were.
 */
static void crypt_out_of_place(struct kunit *test, enum cyphonic_cipher c,
			       bool into_head)
{
	struct cyph_aead *tfm = aead(test, c, 7);
	unsigned int len = 1200, total = HDR + len + TAG;
	struct sk_buff *src = paged_skb(test, len, 100, 78);
	struct sk_buff *ref = data_skb(test, len, 78);
	struct cyph_crypt_req *req;
	u8 *buf = kunit_kzalloc(test, total, GFP_KERNEL);
	u8 *got = kunit_kmalloc(test, len, GFP_KERNEL);
	u8 *want = kunit_kmalloc(test, len, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, got);
	KUNIT_ASSERT_NOT_NULL(test, want);
	/* The source holds no room for the tag: out of place, none is needed. */
	pskb_trim(src, HDR + len);
	if (into_head)
		KUNIT_ASSERT_EQ(test, pskb_expand_head(src, 0, src->data_len + TAG,
						       GFP_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, crypt_run(test, tfm, ref, 78, true), 0);
	req = cyph_crypt_req_alloc(tfm, 1 + skb_shinfo(src)->nr_frags);
	KUNIT_ASSERT_NOT_NULL(test, req);
	req->skb = src;
	req->counter = 78;
	req->dst_buf = into_head ? NULL : buf;
	req->dst_len = total;
	req->done = crypt_done;
	init_completion(&crypt_wait.done);
	cyph_encrypt(req);
	KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&crypt_wait.done,
							  10 * HZ), 0UL);
	KUNIT_EXPECT_EQ(test, crypt_wait.err, 0);
	cyph_crypt_req_free(req);
	KUNIT_EXPECT_EQ(test, memcmp(into_head ? src->data : buf, ref->data,
				     total), 0);
	fill(want, len, len);
	KUNIT_ASSERT_EQ(test, skb_copy_bits(src, HDR + 100, got, len - 100), 0);
	KUNIT_EXPECT_EQ_MSG(test, memcmp(got, want + 100, len - 100), 0,
			    "the fragments lost their plaintext");
	kfree_skb(src);
	kfree_skb(ref);
	cyph_aead_free(tfm);
}

static void crypto_out_of_place(struct kunit *test, enum cyphonic_cipher c)
{
	crypt_out_of_place(test, c, false);
}

static void crypto_into_head(struct kunit *test, enum cyphonic_cipher c)
{
	crypt_out_of_place(test, c, true);
}

/*
 * Opened out of place (rx.c, a packet with page fragments): header and
 * plaintext land in a buffer of their own and the skb is only read, so
 * pages another reader still holds (a packet socket's clone of a train)
 * keep the ciphertext. A tampered packet fails the same way there.
 */
static void crypto_open_out_of_place(struct kunit *test,
				     enum cyphonic_cipher c)
{
	struct cyph_aead *tfm = aead(test, c, 8);
	unsigned int len = 1200, total = HDR + len + TAG;
	struct sk_buff *skb = paged_skb(test, len, 100, 79);
	struct cyph_crypt_req *req;
	u8 *buf = kunit_kzalloc(test, total, GFP_KERNEL);
	u8 *sealed = kunit_kmalloc(test, total, GFP_KERNEL);
	u8 *after = kunit_kmalloc(test, total, GFP_KERNEL);
	u8 *want = kunit_kmalloc(test, len, GFP_KERNEL);
	int round;

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, sealed);
	KUNIT_ASSERT_NOT_NULL(test, after);
	KUNIT_ASSERT_NOT_NULL(test, want);
	KUNIT_ASSERT_EQ(test, crypt_run(test, tfm, skb, 79, true), 0);
	KUNIT_ASSERT_EQ(test, skb_copy_bits(skb, 0, sealed, total), 0);
	fill(want, len, len);
	for (round = 0; round < 2; round++) {
		/* Round 1: one ciphertext bit flipped in the fragment. */
		if (round)
			((u8 *)skb_frag_address(&skb_shinfo(skb)->frags[0]))[5] ^= 1;
		req = cyph_crypt_req_alloc(tfm, 1 + skb_shinfo(skb)->nr_frags);
		KUNIT_ASSERT_NOT_NULL(test, req);
		req->skb = skb;
		req->counter = 79;
		req->dst_buf = buf;
		req->dst_len = total - TAG;
		req->done = crypt_done;
		init_completion(&crypt_wait.done);
		cyph_decrypt(req);
		KUNIT_ASSERT_GT(test, wait_for_completion_timeout(&crypt_wait.done,
								  10 * HZ), 0UL);
		cyph_crypt_req_free(req);
		KUNIT_ASSERT_EQ(test, skb_copy_bits(skb, 0, after, total), 0);
		if (round) {
			KUNIT_EXPECT_EQ(test, crypt_wait.err, -EBADMSG);
			after[HDR + 100 + 5] ^= 1;
		} else {
			KUNIT_EXPECT_EQ(test, crypt_wait.err, 0);
			KUNIT_EXPECT_EQ(test, memcmp(buf, sealed, HDR), 0);
			KUNIT_EXPECT_EQ_MSG(test, memcmp(buf + HDR, want, len), 0,
					    "the buffer holds no plaintext");
			KUNIT_EXPECT_PTR_EQ_MSG(test, memchr_inv(buf + total - TAG,
								 0, TAG), NULL,
						"written past the buffer's length");
		}
		KUNIT_EXPECT_EQ_MSG(test, memcmp(after, sealed, total), 0,
				    "opening wrote into the skb");
	}
	kfree_skb(skb);
	cyph_aead_free(tfm);
}

static void crypto_bad_cipher(struct kunit *test)
{
	u8 key[CYPHONIC_KEY_LEN] = {};

	KUNIT_EXPECT_EQ(test, PTR_ERR(cyph_aead_alloc(CYPHONIC_CIPHER_UNSPEC, key)),
			(long)-EINVAL);
	KUNIT_EXPECT_EQ(test, PTR_ERR(cyph_aead_alloc(CYPHONIC_CIPHER_MAX + 1, key)),
			(long)-EINVAL);
}

/* One case per cipher for each check, so the result names the cipher. */
#define CIPHER_CASES(fn)						\
static void fn##_gcm(struct kunit *test)				\
{									\
	fn(test, CYPHONIC_CIPHER_AES_GCM);				\
}									\
static void fn##_chacha(struct kunit *test)				\
{									\
	fn(test, CYPHONIC_CIPHER_CHACHA20_POLY1305);			\
}

CIPHER_CASES(crypto_round_trip)
CIPHER_CASES(crypto_counter_is_nonce)
CIPHER_CASES(crypto_tampered)
CIPHER_CASES(crypto_wrong_key)
CIPHER_CASES(crypto_paged)
CIPHER_CASES(crypto_out_of_place)
CIPHER_CASES(crypto_into_head)
CIPHER_CASES(crypto_open_out_of_place)

static struct kunit_case crypto_cases[] = {
	KUNIT_CASE(crypto_round_trip_gcm),
	KUNIT_CASE(crypto_round_trip_chacha),
	KUNIT_CASE(crypto_counter_is_nonce_gcm),
	KUNIT_CASE(crypto_counter_is_nonce_chacha),
	KUNIT_CASE(crypto_tampered_gcm),
	KUNIT_CASE(crypto_tampered_chacha),
	KUNIT_CASE(crypto_wrong_key_gcm),
	KUNIT_CASE(crypto_wrong_key_chacha),
	KUNIT_CASE(crypto_paged_gcm),
	KUNIT_CASE(crypto_paged_chacha),
	KUNIT_CASE(crypto_out_of_place_gcm),
	KUNIT_CASE(crypto_out_of_place_chacha),
	KUNIT_CASE(crypto_into_head_gcm),
	KUNIT_CASE(crypto_into_head_chacha),
	KUNIT_CASE(crypto_open_out_of_place_gcm),
	KUNIT_CASE(crypto_open_out_of_place_chacha),
	KUNIT_CASE(crypto_bad_cipher),
	{}
};

static struct kunit_suite crypto_suite = {
	.name = "cyphonic_crypto",
	.test_cases = crypto_cases,
};

kunit_test_suite(crypto_suite);
