/* SPDX-License-Identifier: MIT */
/*
 * libnl policies for the attributes cyphctl reads from the kernel, so a
 * reply with a wrongly sized attribute is refused instead of misread.
 */
#ifndef CYPHCTL_POLICY_H
#define CYPHCTL_POLICY_H

#include <netlink/attr.h>
#include <linux/cyphonic.h>

extern struct nla_policy cy_policy_top[CYPHONIC_A_MAX + 1];
extern struct nla_policy cy_policy_local[CYPHONIC_LOCAL_A_MAX + 1];
extern struct nla_policy cy_policy_tunnel[CYPHONIC_TUNNEL_A_MAX + 1];
extern struct nla_policy cy_policy_key[CYPHONIC_KEY_A_MAX + 1];
extern struct nla_policy cy_policy_stats[CYPHONIC_STAT_MAX + 1];

#endif
