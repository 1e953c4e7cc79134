/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The AEAD step of the data path, run by the crypt workers. One request
 * per packet; its done() continues the packet whether the cipher completed
 * synchronously or from its completion callback, so TX and RX are written
 * once for both.
 */
#ifndef _CYPH_CRYPTO_H
#define _CYPH_CRYPTO_H

#include <crypto/aead.h>
#include <linux/cyphonic.h>
#include <linux/scatterlist.h>
#include <linux/skbuff.h>

#include "chachapoly.h"

/* One direction's AEAD, keyed. */
struct cyph_aead {
	struct crypto_aead *tfm;		/* crypto API, or NULL: */
	struct cyph_chachapoly_key chacha;	/* the library's */
};

struct cyph_crypt_req;

/*
 * Whether the data path may keep memory for reuse instead of freeing it
 * (crypt requests here, sealed packets' pages in sealbuf.c): not where
 * freed memory must be wiped (init_on_free) or where KASAN watches for
 * use after free, since kept memory is neither.
 */
static inline bool cyph_recycle_ok(void)
{
	return !IS_ENABLED(CONFIG_KASAN) && !want_init_on_free();
}

typedef void (*cyph_crypt_done_t)(struct cyph_crypt_req *req, int err);

struct cyph_crypt_req {
	struct sk_buff *skb;
	struct sk_buff *unit;		/* the head of @skb's unit */
	u64 counter;
	cyph_crypt_done_t done;
	int nsg;
	struct scatterlist *sg;		/* @nsg entries: the skb */
	/*
	 * Out of place when @dst_len is set: the AEAD reads the skb through
	 * @sg and writes, through the one entry @dst, @dst_len bytes
	 * linearly into @dst_buf (a page fragment) or, sealing with no
	 * @dst_buf, from skb->data: sealing, header, ciphertext and tag;
	 * opening, header and plaintext.
	 */
	struct scatterlist *dst;
	void *dst_buf;
	unsigned int dst_len;
	const struct cyph_aead *key;
	struct aead_request *aead;	/* with key->tfm */
	unsigned int kept_size;		/* bytes, if recycled per CPU; else 0 */
	u8 iv[CYPHONIC_NONCE_LEN];
};

void cyph_aead_warm(enum cyphonic_cipher cipher);
void cyph_aead_warm_cancel(void);
struct cyph_aead *cyph_aead_alloc(enum cyphonic_cipher cipher, const u8 *key);
void cyph_aead_free(struct cyph_aead *aead);
struct cyph_crypt_req *cyph_crypt_req_alloc(const struct cyph_aead *aead,
					    int nsg);
void cyph_crypt_req_free(struct cyph_crypt_req *req);
unsigned int cyph_crypt_req_release(int cpu);
void cyph_encrypt(struct cyph_crypt_req *req);
void cyph_decrypt(struct cyph_crypt_req *req);

/* Errors that mean "no room right now" rather than a bad packet. */
static inline bool cyph_crypt_busy(int err)
{
	return err == -EBUSY || err == -ENOSPC || err == -ENOMEM;
}

#endif /* _CYPH_CRYPTO_H */
