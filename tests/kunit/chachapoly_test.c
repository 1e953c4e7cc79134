// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for kmod/chachapoly.c: RFC 8439's AEAD test vector, and the
 * same bytes as the crypto API's rfc7539 template (what cyphonic sealed
 * with before, so the wire format is unchanged) over text split into
 * pieces of awkward sizes, in place and out of place.
 */

#include <crypto/aead.h>
#include <kunit/test.h>
#include <linux/scatterlist.h>

#include "chachapoly.h"

#define TAG	16

/* RFC 8439, section 2.8.2. */
static const u8 rfc_nonce[] = {
	0x07, 0x00, 0x00, 0x00, 0x40, 0x41, 0x42, 0x43,
	0x44, 0x45, 0x46, 0x47,
};

static const u8 rfc_ad[] = {
	0x50, 0x51, 0x52, 0x53, 0xc0, 0xc1, 0xc2, 0xc3,
	0xc4, 0xc5, 0xc6, 0xc7,
};

static const char rfc_plain[] =
	"Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.";

static const u8 rfc_sealed[] = {
	0xd3, 0x1a, 0x8d, 0x34, 0x64, 0x8e, 0x60, 0xdb,
	0x7b, 0x86, 0xaf, 0xbc, 0x53, 0xef, 0x7e, 0xc2,
	0xa4, 0xad, 0xed, 0x51, 0x29, 0x6e, 0x08, 0xfe,
	0xa9, 0xe2, 0xb5, 0xa7, 0x36, 0xee, 0x62, 0xd6,
	0x3d, 0xbe, 0xa4, 0x5e, 0x8c, 0xa9, 0x67, 0x12,
	0x82, 0xfa, 0xfb, 0x69, 0xda, 0x92, 0x72, 0x8b,
	0x1a, 0x71, 0xde, 0x0a, 0x9e, 0x06, 0x0b, 0x29,
	0x05, 0xd6, 0xa5, 0xb6, 0x7e, 0xcd, 0x3b, 0x36,
	0x92, 0xdd, 0xbd, 0x7f, 0x2d, 0x77, 0x8b, 0x8c,
	0x98, 0x03, 0xae, 0xe3, 0x28, 0x09, 0x1b, 0x58,
	0xfa, 0xb3, 0x24, 0xe4, 0xfa, 0xd6, 0x75, 0x94,
	0x55, 0x85, 0x80, 0x8b, 0x48, 0x31, 0xd7, 0xbc,
	0x3f, 0xf4, 0xde, 0xf0, 0x8e, 0x4b, 0x7a, 0x9d,
	0xe5, 0x76, 0xd2, 0x65, 0x86, 0xce, 0xc6, 0x4b,
	0x61, 0x16,
	/* tag */
	0x1a, 0xe1, 0x0b, 0x59, 0x4f, 0x09, 0xe2, 0x6a,
	0x7e, 0x90, 0x2e, 0xcb, 0xd0, 0x60, 0x06, 0x91,
};

static void rfc_key(u8 key[CHACHA_KEY_SIZE])
{
	int i;

	for (i = 0; i < CHACHA_KEY_SIZE; i++)
		key[i] = 0x80 + i;
}

static void chachapoly_rfc8439(struct kunit *test)
{
	unsigned int len = sizeof(rfc_plain) - 1;
	struct cyph_chachapoly_key key;
	struct cyph_chachapoly_msg msg;
	struct scatterlist sg;
	u8 kb[CHACHA_KEY_SIZE];
	u8 *buf;

	BUILD_BUG_ON(sizeof(rfc_sealed) != sizeof(rfc_plain) - 1 + TAG);
	buf = kunit_kzalloc(test, len + TAG, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	rfc_key(kb);
	cyph_chachapoly_setkey(&key, kb);
	memcpy(buf, rfc_plain, len);
	sg_init_one(&sg, buf, len + TAG);
	msg = (struct cyph_chachapoly_msg){
		.nonce = rfc_nonce, .ad = rfc_ad, .ad_len = sizeof(rfc_ad),
		.sg = &sg, .nents = 1, .len = len,
	};
	KUNIT_EXPECT_EQ(test, cyph_chachapoly_seal(&key, &msg), 0);
	KUNIT_EXPECT_EQ(test, memcmp(buf, rfc_sealed, len + TAG), 0);
	KUNIT_EXPECT_EQ(test, cyph_chachapoly_open(&key, &msg), 0);
	KUNIT_EXPECT_EQ(test, memcmp(buf, rfc_plain, len), 0);

	/* A changed byte anywhere, the associated data included, fails. */
	memcpy(buf, rfc_sealed, len + TAG);
	buf[len + TAG - 1] ^= 1;
	KUNIT_EXPECT_EQ(test, cyph_chachapoly_open(&key, &msg), -EBADMSG);
	memcpy(buf, rfc_sealed, len + TAG);
	msg.ad_len--;
	KUNIT_EXPECT_EQ(test, cyph_chachapoly_open(&key, &msg), -EBADMSG);
	/* A scatterlist shorter than the message says: the tag, the text. */
	msg.ad_len++;
	msg.len = len + 1;
	KUNIT_EXPECT_EQ(test, cyph_chachapoly_seal(&key, &msg), -EINVAL);
	KUNIT_EXPECT_EQ(test, cyph_chachapoly_open(&key, &msg), -EINVAL);
	msg.len = len + TAG + 1;
	KUNIT_EXPECT_EQ(test, cyph_chachapoly_seal(&key, &msg), -EINVAL);
	KUNIT_EXPECT_EQ(test, cyph_chachapoly_open(&key, &msg), -EINVAL);
}

/* The reference: the crypto API's template over one linear buffer. */
static void template_seal(struct kunit *test, const u8 *kb, const u8 *nonce,
			  const u8 *ad, unsigned int ad_len, const u8 *plain,
			  unsigned int len, u8 *out)
{
	struct crypto_aead *tfm;
	struct aead_request *req;
	struct scatterlist sg;
	u8 iv[CHACHAPOLY_IV_SIZE];
	DECLARE_CRYPTO_WAIT(wait);
	u8 *buf;

	tfm = crypto_alloc_aead("rfc7539(chacha20,poly1305)", 0, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, tfm);
	KUNIT_ASSERT_EQ(test, crypto_aead_setkey(tfm, kb, CHACHA_KEY_SIZE), 0);
	KUNIT_ASSERT_EQ(test, crypto_aead_setauthsize(tfm, TAG), 0);
	req = aead_request_alloc(tfm, GFP_KERNEL);
	buf = kunit_kmalloc(test, ad_len + len + TAG, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, req);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	memcpy(buf, ad, ad_len);
	memcpy(buf + ad_len, plain, len);
	memcpy(iv, nonce, sizeof(iv));
	sg_init_one(&sg, buf, ad_len + len + TAG);
	aead_request_set_callback(req, 0, crypto_req_done, &wait);
	aead_request_set_ad(req, ad_len);
	aead_request_set_crypt(req, &sg, &sg, len, iv);
	KUNIT_EXPECT_EQ(test, crypto_wait_req(crypto_aead_encrypt(req), &wait),
			0);
	memcpy(out, buf + ad_len, len + TAG);
	aead_request_free(req);
	crypto_free_aead(tfm);
}

#define PIECES	4

/*
 * @skip bytes that are not the message (as a DATA header is), then @buf
 * (@len bytes of text and the tag), as up to PIECES scatterlist entries
 * in buffers of their own, cut after the byte counts of @cuts (0 ends
 * the list); the last piece holds the rest and the tag.
 */
static unsigned int split(struct kunit *test, struct scatterlist *sg,
			  unsigned int skip, const u8 *buf, unsigned int len,
			  const unsigned int *cuts)
{
	unsigned int n = 0, off = 0, total = skip + len + TAG;
	u8 *all = kunit_kmalloc(test, total, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, all);
	memset(all, 0xee, skip);
	memcpy(all + skip, buf, len + TAG);
	sg_init_table(sg, PIECES);
	while (n < PIECES - 1 && cuts[n] && off + cuts[n] < total) {
		u8 *p = kunit_kmalloc(test, cuts[n], GFP_KERNEL);

		KUNIT_ASSERT_NOT_NULL(test, p);
		memcpy(p, all + off, cuts[n]);
		sg_set_buf(&sg[n], p, cuts[n]);
		off += cuts[n++];
	}
	sg_set_buf(&sg[n], all + off, total - off);
	sg_mark_end(&sg[n]);
	return n + 1;
}

/*
 * Our one pass against the template, with CYPHONIC's nonce and header
 * sizes, over text cut so that a ChaCha20 block begins in one piece and
 * ends in another (and the tag too, for short texts), with and without a
 * header in front, sealed in place and out of place and opened in place,
 * and refused with one tag byte changed.
 */
static void chachapoly_matches_template(struct kunit *test)
{
	static const unsigned int lens[] = { 0, 1, 63, 64, 65, 127, 128, 129,
					     191, 300, 1404 };
	/*
	 * Pieces that end inside a block, on a block's end and past two
	 * blocks, so that the key stream carried from one piece to the
	 * next is every part of a block.
	 */
	static const unsigned int cuts[][PIECES] = {
		{ 0 }, { 1 }, { 63 }, { 64, 1 }, { 65, 7 }, { 5, 64, 100 },
		{ 1, 1, 1 }, { 10, 100 }, { 130, 3 }, { 64, 64, 64 },
		{ 127, 129 },
	};
	static const u8 nonce[CHACHAPOLY_IV_SIZE] = {
		0, 0, 0, 0, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	};
	struct scatterlist sg[PIECES];
	struct cyph_chachapoly_key key;
	struct cyph_chachapoly_msg msg;
	u8 kb[CHACHA_KEY_SIZE], ad[16];
	u8 *plain, *want, *got;
	int i, j, k;

	plain = kunit_kmalloc(test, 1404 + TAG, GFP_KERNEL);
	want = kunit_kmalloc(test, 1404 + TAG, GFP_KERNEL);
	got = kunit_kmalloc(test, 1404 + TAG, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, plain);
	KUNIT_ASSERT_NOT_NULL(test, want);
	KUNIT_ASSERT_NOT_NULL(test, got);
	for (k = 0; k < sizeof(kb); k++)
		kb[k] = 0x5a ^ (k * 29);
	for (k = 0; k < sizeof(ad); k++)
		ad[k] = k * 3;
	for (k = 0; k < 1404 + TAG; k++)
		plain[k] = k * 7 + 1;
	cyph_chachapoly_setkey(&key, kb);

	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		unsigned int len = lens[i];

		template_seal(test, kb, nonce, ad, sizeof(ad), plain, len, want);
		for (j = 0; j < 2 * ARRAY_SIZE(cuts); j++) {
			/* Every other time behind a header, as in a packet. */
			unsigned int skip = j % 2 ? sizeof(ad) : 0;
			const unsigned int *cut = cuts[j / 2];

			msg = (struct cyph_chachapoly_msg){
				.nonce = nonce, .ad = ad, .ad_len = sizeof(ad),
				.sg = sg, .skip = skip, .len = len,
			};
			/* Sealed in place. */
			msg.nents = split(test, sg, skip, plain, len, cut);
			KUNIT_EXPECT_EQ(test, cyph_chachapoly_seal(&key, &msg), 0);
			sg_pcopy_to_buffer(sg, msg.nents, got, len + TAG, skip);
			KUNIT_EXPECT_EQ_MSG(test, memcmp(got, want, len + TAG), 0,
					    "len %u, case %d: in place", len, j);
			/* Opened in place. */
			KUNIT_EXPECT_EQ(test, cyph_chachapoly_open(&key, &msg), 0);
			sg_pcopy_to_buffer(sg, msg.nents, got, len, skip);
			KUNIT_EXPECT_EQ_MSG(test, memcmp(got, plain, len), 0,
					    "len %u, case %d: opened", len, j);
			/* Sealed out of place; the source stays plaintext. */
			memset(got, 0, len + TAG);
			msg.dst = got;
			KUNIT_EXPECT_EQ(test, cyph_chachapoly_seal(&key, &msg), 0);
			KUNIT_EXPECT_EQ_MSG(test, memcmp(got, want, len + TAG), 0,
					    "len %u, case %d: out of place",
					    len, j);
			sg_pcopy_to_buffer(sg, msg.nents, got, len, skip);
			KUNIT_EXPECT_EQ(test, memcmp(got, plain, len), 0);
			/* The template's output opens in our pieces... */
			msg.dst = NULL;
			msg.nents = split(test, sg, skip, want, len, cut);
			KUNIT_EXPECT_EQ(test, cyph_chachapoly_open(&key, &msg), 0);
			/* ...and not with its tag's last byte changed. */
			msg.nents = split(test, sg, skip, want, len, cut);
			got[0] = want[len + TAG - 1] ^ 0x01;
			sg_pcopy_from_buffer(sg, msg.nents, got, 1,
					     skip + len + TAG - 1);
			KUNIT_EXPECT_EQ(test, cyph_chachapoly_open(&key, &msg),
					-EBADMSG);
			if (test->status == KUNIT_FAILURE)
				return;
		}
	}
}

static struct kunit_case chachapoly_cases[] = {
	KUNIT_CASE(chachapoly_rfc8439),
	KUNIT_CASE(chachapoly_matches_template),
	{}
};

static struct kunit_suite chachapoly_suite = {
	.name = "cyphonic_chachapoly",
	.test_cases = chachapoly_cases,
};

kunit_test_suite(chachapoly_suite);
