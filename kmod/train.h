/* SPDX-License-Identifier: GPL-2.0 */
/*
 * UDP GSO trains: sealed DATA packets of any tunnels that leave together
 * for one endpoint (train.c).
 */
#ifndef _CYPH_TRAIN_H
#define _CYPH_TRAIN_H

#include <linux/skbuff.h>

#include "addr.h"

struct cyph_tunnel;

void cyph_train_add(struct cyph_tunnel *t, struct sk_buff *skb,
		    const union cyph_sockaddr *ep, const struct cyph_src *src,
		    unsigned int ep_seq, unsigned int inner_len);
void cyph_train_flush(bool all);
void cyph_train_unit_done(void);
void cyph_train_send_all(void);

#endif /* _CYPH_TRAIN_H */
