/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ChaCha20-Poly1305 (RFC 8439) over a scatterlist, from the kernel's
 * library ChaCha20 and Poly1305 (see chachapoly.c for why).
 */
#ifndef _CYPH_CHACHAPOLY_H
#define _CYPH_CHACHAPOLY_H

#include <crypto/chacha.h>
#include <linux/scatterlist.h>
#include <linux/types.h>

struct cyph_chachapoly_key {
	u32 k[CHACHA_KEY_SIZE / sizeof(u32)];
};

/*
 * One message: the associated data @ad (@ad_len bytes, linear), then
 * @len bytes of text that start @skip bytes into @sg, followed there by
 * the tag. Sealed or opened in place in @sg, or, when @dst is set, from
 * @sg into @dst: sealing writes the text, then the tag; opening the text
 * only (the tag is read from @sg).
 */
struct cyph_chachapoly_msg {
	const u8 *nonce;		/* CHACHAPOLY_IV_SIZE bytes */
	const u8 *ad;
	unsigned int ad_len;
	struct scatterlist *sg;
	unsigned int nents;
	unsigned int skip;
	unsigned int len;
	u8 *dst;
};

void cyph_chachapoly_setkey(struct cyph_chachapoly_key *key, const u8 *bytes);
int cyph_chachapoly_seal(const struct cyph_chachapoly_key *key,
			 const struct cyph_chachapoly_msg *msg);
int cyph_chachapoly_open(const struct cyph_chachapoly_key *key,
			 const struct cyph_chachapoly_msg *msg);

#endif /* _CYPH_CHACHAPOLY_H */
