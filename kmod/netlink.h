/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "cyphonic" generic netlink family.
 */
#ifndef _CYPH_NETLINK_H
#define _CYPH_NETLINK_H

#include <linux/skbuff.h>

#include "addr.h"

struct genl_family;

extern struct genl_family cyph_genl_family;

int cyph_genl_init(void);
void cyph_genl_exit(void);

int cyph_nl_put_pair(struct sk_buff *msg, const struct cyph_pair *pair);
int cyph_nl_put_endpoint(struct sk_buff *msg, const union cyph_sockaddr *ep);

#endif /* _CYPH_NETLINK_H */
