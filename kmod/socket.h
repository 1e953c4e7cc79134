/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The user-space UDP sockets a device sends and receives on.
 */
#ifndef _CYPH_SOCKET_H
#define _CYPH_SOCKET_H

#include <linux/net.h>
#include <linux/netlink.h>
#include <linux/rcupdate.h>
#include <linux/skbuff.h>
#include <net/dst_cache.h>

#include "addr.h"

struct cyph_device;

/*
 * The device holds the sock, not the file: user space's descriptors keep
 * the socket open, and when the last one is closed the UDP core calls our
 * encap_destroy, which lets go of it (as l2tp and ovpn do).
 */
struct cyph_sock {
	struct sock *sk;	/* sock_hold() */
	struct socket *sock;	/* file reference, only until installed */
	bool mc_loop;		/* restored on release */
};

struct cyph_sock *cyph_sock_prepare(struct cyph_device *cd,
				    const struct sk_buff *req, u32 fd,
				    sa_family_t family,
				    const struct nlattr *attr,
				    struct netlink_ext_ack *extack);
void cyph_sock_init(struct cyph_device *cd);
void cyph_sock_discard(struct cyph_sock *cs);
void cyph_sock_install(struct cyph_device *cd, sa_family_t family,
		       struct cyph_sock *cs);
void cyph_sock_release_all(struct cyph_device *cd);
void cyph_sock_stop_checks(struct cyph_device *cd);
void cyph_sock_detach(struct cyph_device *cd, sa_family_t family);
int cyph_sock_send(struct cyph_device *cd, struct sk_buff *skb,
		   const union cyph_sockaddr *dst, struct cyph_src *src,
		   struct dst_cache *cache);
u16 cyph_sock_port(struct cyph_device *cd, sa_family_t family);

#endif /* _CYPH_SOCKET_H */
