// SPDX-License-Identifier: GPL-2.0
/*
 * The AEAD of a DATA packet: AES-GCM through the kernel crypto API (which
 * picks AES-NI and its asynchronous forms), ChaCha20-Poly1305 through the
 * kernel's library primitives (chachapoly.c, always synchronous).
 *
 * The DATA header is the associated data, the whole inner packet the
 * plaintext, and the tag follows it; everything is done in place in the
 * skb, or (TX) out of place into a buffer of the packet's own. Requests
 * are submitted without CRYPTO_TFM_REQ_MAY_BACKLOG: when an asynchronous
 * implementation's queue is full the packet is dropped and counted, so
 * memory stays bounded.
 */

#include <linux/bitops.h>
#include <linux/bottom_half.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "crypto.h"
#include "wire.h"

/* The ciphers taken from the crypto API; the others are keys of ours. */
static const char *const cyph_cipher_names[] = {
	[CYPHONIC_CIPHER_AES_GCM] = "gcm(aes)",
	[CYPHONIC_CIPHER_CHACHA20_POLY1305] = NULL,
};

static struct crypto_aead *cyph_tfm_alloc(const char *name, const u8 *key)
{
	struct crypto_aead *tfm;
	int err;

	tfm = crypto_alloc_aead(name, 0, 0);
	/*
	 * The first use of a template instantiates and self-tests it in a
	 * helper thread; under heavy load that was seen to end in -ENOENT
	 * although the instance got registered. Look it up once more.
	 */
	if (PTR_ERR_OR_ZERO(tfm) == -ENOENT)
		tfm = crypto_alloc_aead(name, 0, 0);
	if (IS_ERR(tfm))
		return tfm;
	err = -EINVAL;
	if (crypto_aead_ivsize(tfm) != CYPHONIC_NONCE_LEN)
		goto err;
	err = crypto_aead_setkey(tfm, key, CYPHONIC_KEY_LEN);
	if (err)
		goto err;
	err = crypto_aead_setauthsize(tfm, CYPHONIC_TAG_LEN);
	if (err)
		goto err;
	return tfm;

err:
	crypto_free_aead(tfm);
	return ERR_PTR(err);
}

/**
 * cyph_aead_alloc() - key one direction's AEAD
 * @cipher: CYPHONIC_CIPHER_AES_GCM or CYPHONIC_CIPHER_CHACHA20_POLY1305
 * @key: CYPHONIC_KEY_LEN bytes
 *
 * Context: process context, may sleep (and load crypto modules).
 * Return: the AEAD, for cyph_aead_free(), or an ERR_PTR.
 */
struct cyph_aead *cyph_aead_alloc(enum cyphonic_cipher cipher, const u8 *key)
{
	struct cyph_aead *aead;

	if (cipher <= CYPHONIC_CIPHER_UNSPEC || cipher > CYPHONIC_CIPHER_MAX)
		return ERR_PTR(-EINVAL);
	aead = kzalloc(sizeof(*aead), GFP_KERNEL_ACCOUNT);
	if (!aead)
		return ERR_PTR(-ENOMEM);
	if (!cyph_cipher_names[cipher]) {
		cyph_chachapoly_setkey(&aead->chacha, key);
		return aead;
	}
	aead->tfm = cyph_tfm_alloc(cyph_cipher_names[cipher], key);
	if (IS_ERR(aead->tfm)) {
		long err = PTR_ERR(aead->tfm);

		kfree(aead);
		return ERR_PTR(err);
	}
	return aead;
}

/* Free what cyph_aead_alloc() made (or NULL), key bytes wiped. */
void cyph_aead_free(struct cyph_aead *aead)
{
	if (!aead)
		return;
	if (aead->tfm)
		crypto_free_aead(aead->tfm);
	kfree_sensitive(aead);
}

/*
 * The first transform of a cipher loads its modules and self-tests the
 * template, which took ~10 s in a TCG guest. Doing it when a device is
 * created (or changes cipher), off RTNL in a work item, keeps that wait
 * out of the first tunnel's setup, where it held up the peer's handshake.
 */
static unsigned long cyph_warm_pending;	/* bit per enum cyphonic_cipher */

static void cyph_aead_warm_fn(struct work_struct *work)
{
	struct crypto_aead *tfm;
	int cipher;

	for (cipher = CYPHONIC_CIPHER_UNSPEC + 1; cipher <= CYPHONIC_CIPHER_MAX;
	     cipher++) {
		if (!test_and_clear_bit(cipher, &cyph_warm_pending) ||
		    !cyph_cipher_names[cipher])
			continue;
		tfm = crypto_alloc_aead(cyph_cipher_names[cipher], 0, 0);
		if (!IS_ERR(tfm))
			crypto_free_aead(tfm);
	}
}

static DECLARE_WORK(cyph_aead_warm_work, cyph_aead_warm_fn);

/**
 * cyph_aead_warm() - get a cipher ready before its first tunnel needs it
 * @cipher: a valid enum cyphonic_cipher
 *
 * Context: any; the work runs later in process context.
 */
void cyph_aead_warm(enum cyphonic_cipher cipher)
{
	if (cipher <= CYPHONIC_CIPHER_UNSPEC || cipher > CYPHONIC_CIPHER_MAX)
		return;
	set_bit(cipher, &cyph_warm_pending);
	queue_work(system_unbound_wq, &cyph_aead_warm_work);
}

/* Module exit: no warm-up may run past it. */
void cyph_aead_warm_cancel(void)
{
	cancel_work_sync(&cyph_aead_warm_work);
}

/*
 * One allocation per packet holds the request context, the scatterlist
 * (one entry per skb fragment, and one for an out-of-place destination)
 * and, for the crypto API, the transform's request.
 *
 * Those of up to CYPH_REQ_SIZE bytes (every packet's, with few enough
 * fragments) are recycled per CPU, as the stack recycles sk_buffs in its
 * per-CPU cache: with init_on_alloc (Debian's default) every allocation
 * is zeroed first, and two requests a packet were a fifth of the bytes
 * the data path zeroed (docs/benchmark.md, "An instruction profile").
 * Everything a request is used with is set again by cyph_crypt_req_alloc()
 * and the mapping before use.
 *
 * A request is allocated as large as its slab object and kept with that
 * size: 512 bytes with AES-NI or ChaCha20 on x86, 1 KiB for the generic
 * gcm(aes) of a host with no AES instructions (the selftests' guest,
 * which with a 512-byte limit kept none). A kept request too small for
 * the one asked for (another cipher) is freed and a new one allocated.
 */
#define CYPH_REQ_SIZE	1024
#define CYPH_REQ_CACHE	64

struct cyph_req_cache {
	unsigned int n;
	struct cyph_crypt_req *req[CYPH_REQ_CACHE];
};

static DEFINE_PER_CPU(struct cyph_req_cache, cyph_req_cache);

static struct cyph_crypt_req *cyph_req_get(size_t size)
{
	struct cyph_crypt_req *req = NULL;
	struct cyph_req_cache *c;
	size_t alloc;

	/* CYPH_REQ_SIZE is a slab size: no larger request rounds down to it. */
	if (size > CYPH_REQ_SIZE || !cyph_recycle_ok()) {
		req = kmalloc(size, GFP_ATOMIC);
		if (req)
			req->kept_size = 0;
		return req;
	}
	local_bh_disable();
	c = this_cpu_ptr(&cyph_req_cache);
	if (c->n)
		req = c->req[--c->n];
	local_bh_enable();
	if (req && req->kept_size >= size)
		return req;
	kfree(req);
	alloc = kmalloc_size_roundup(size);
	req = kmalloc(alloc, GFP_ATOMIC);
	if (req)
		req->kept_size = alloc;
	return req;
}

void cyph_crypt_req_free(struct cyph_crypt_req *req)
{
	struct cyph_req_cache *c;

	if (req->kept_size) {
		local_bh_disable();
		c = this_cpu_ptr(&cyph_req_cache);
		if (c->n < CYPH_REQ_CACHE) {
			c->req[c->n++] = req;
			req = NULL;
		}
		local_bh_enable();
	}
	kfree(req);
}

/**
 * cyph_crypt_req_release() - free the requests a CPU keeps
 * @cpu: the CPU
 *
 * Context: on @cpu with bottom halves off, or with @cpu gone, or at
 * module exit: nothing else may use its cache meanwhile.
 * Return: the requests freed.
 */
unsigned int cyph_crypt_req_release(int cpu)
{
	struct cyph_req_cache *c = per_cpu_ptr(&cyph_req_cache, cpu);
	unsigned int n = c->n;

	while (c->n)
		kfree(c->req[--c->n]);
	return n;
}

struct cyph_crypt_req *cyph_crypt_req_alloc(const struct cyph_aead *aead,
					    int nsg)
{
	struct crypto_aead *tfm = aead->tfm;
	struct cyph_crypt_req *req;
	size_t sg_off, aead_off, size;

	sg_off = ALIGN(sizeof(*req), __alignof__(struct scatterlist));
	aead_off = ALIGN(sg_off + (nsg + 1) * sizeof(struct scatterlist),
			 CRYPTO_MINALIGN);
	size = aead_off;
	if (tfm)
		size += sizeof(struct aead_request) + crypto_aead_reqsize(tfm);

	req = cyph_req_get(size);
	if (!req)
		return NULL;
	req->nsg = nsg;
	req->sg = (void *)req + sg_off;
	req->dst = req->sg + nsg;
	req->dst_buf = NULL;
	req->dst_len = 0;
	req->key = aead;
	req->aead = NULL;
	if (tfm) {
		req->aead = (void *)req + aead_off;
		aead_request_set_tfm(req->aead, tfm);
	}
	return req;
}

/*
 * Completion of an asynchronous request. Implementations call this from
 * process context (cryptd) as well, so continue the packet with bottom
 * halves off as the rest of the data path expects.
 */
static void cyph_crypt_complete(struct crypto_async_request *areq, int err)
{
	struct cyph_crypt_req *req = areq->data;

	if (err == -EINPROGRESS)
		return;
	local_bh_disable();
	req->done(req, err);
	local_bh_enable();
}

static void cyph_crypt_submit(struct cyph_crypt_req *req, bool encrypt)
{
	int err;

	aead_request_set_callback(req->aead, 0, cyph_crypt_complete, req);
	err = encrypt ? crypto_aead_encrypt(req->aead) :
			crypto_aead_decrypt(req->aead);
	if (err == -EINPROGRESS)
		return;
	req->done(req, err);
}

/* The skb's scatterlist and the nonce. Return: sg entries, or -errno. */
static int cyph_crypt_map(struct cyph_crypt_req *req)
{
	int n;

	sg_init_table(req->sg, req->nsg);
	n = skb_to_sgvec(req->skb, req->sg, 0, req->skb->len);
	if (n < 0)
		return n;
	cyph_nonce_init(req->iv, req->counter);
	if (req->aead)
		aead_request_set_ad(req->aead, CYPH_DATA_HDR_LEN);
	return n;
}

/* A library AEAD's message: @len bytes of text behind the header. */
static struct cyph_chachapoly_msg cyph_crypt_msg(struct cyph_crypt_req *req,
						 int nents, unsigned int len,
						 u8 *dst)
{
	return (struct cyph_chachapoly_msg){
		.nonce = req->iv,
		.ad = req->skb->data,
		.ad_len = CYPH_DATA_HDR_LEN,
		.sg = req->sg,
		.nents = nents,
		.skip = CYPH_DATA_HDR_LEN,
		.len = len,
		.dst = dst,
	};
}

/**
 * cyph_encrypt() - seal a DATA packet
 * @req: request; @req->skb holds header and plaintext, and in place (no
 *	 @req->dst_len) room for the tag
 *
 * Out of place, the whole DATA packet lands in @req->dst_buf, the header
 * copied there first (not every AEAD copies the associated data), or
 * without one behind the header in the skb's linear room (source and
 * destination share the header). @req->done is called exactly
 * once, now or from the completion callback.
 */
void cyph_encrypt(struct cyph_crypt_req *req)
{
	unsigned int len = req->skb->len - CYPH_DATA_MIN_LEN;
	struct scatterlist *dst = req->sg;
	int n = cyph_crypt_map(req);
	u8 *buf = NULL;

	if (n < 0) {
		req->done(req, n);
		return;
	}
	if (req->dst_len) {
		buf = req->dst_buf ?: req->skb->data;
		if (req->dst_buf)
			memcpy(buf, req->skb->data, CYPH_DATA_HDR_LEN);
		len = req->dst_len - CYPH_DATA_MIN_LEN;
	}
	if (!req->aead) {
		struct cyph_chachapoly_msg msg = cyph_crypt_msg(req, n, len,
					buf ? buf + CYPH_DATA_HDR_LEN : NULL);

		req->done(req, cyph_chachapoly_seal(&req->key->chacha, &msg));
		return;
	}
	if (buf) {
		sg_init_one(req->dst, buf, req->dst_len);
		dst = req->dst;
	}
	aead_request_set_crypt(req->aead, req->sg, dst, len, req->iv);
	cyph_crypt_submit(req, true);
}

/**
 * cyph_decrypt() - open a DATA packet
 * @req: request; @req->skb holds header, ciphertext and tag
 *
 * In place, or, when @req->dst_buf is set, out of place: the header and
 * the plaintext land in @req->dst_buf, @req->dst_len bytes (the header
 * copied there first, as for cyph_encrypt()), and the skb is only read.
 * @req->done is called exactly once; -EBADMSG means authentication failed.
 */
void cyph_decrypt(struct cyph_crypt_req *req)
{
	unsigned int len = req->skb->len - CYPH_DATA_MIN_LEN;
	struct scatterlist *dst = req->sg;
	int n = cyph_crypt_map(req);
	u8 *buf = req->dst_buf;

	/* cyph_data_hdr_check() refused anything shorter than header and tag. */
	if (n < 0) {
		req->done(req, n);
		return;
	}
	if (buf)
		memcpy(buf, req->skb->data, CYPH_DATA_HDR_LEN);
	if (!req->aead) {
		struct cyph_chachapoly_msg msg = cyph_crypt_msg(req, n, len,
					buf ? buf + CYPH_DATA_HDR_LEN : NULL);

		req->done(req, cyph_chachapoly_open(&req->key->chacha, &msg));
		return;
	}
	if (buf) {
		sg_init_one(req->dst, buf, req->dst_len);
		dst = req->dst;
	}
	aead_request_set_crypt(req->aead, req->sg, dst,
			       req->skb->len - CYPH_DATA_HDR_LEN, req->iv);
	cyph_crypt_submit(req, false);
}
