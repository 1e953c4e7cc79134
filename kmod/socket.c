// SPDX-License-Identifier: GPL-2.0
/*
 * UDP sockets handed over by user space.
 *
 * User space creates and binds the socket and keeps using it for signaling:
 * the encap_rcv hook consumes DATA packets only and lets everything else
 * through to the socket. The device holds a reference on the sock but not
 * on the file, so the socket lives exactly as long as user space keeps a
 * descriptor: when the owner closes it or dies, encap_destroy releases it
 * from the device. Nothing of ours then pins the socket's network
 * namespace, so deleting a namespace frees its devices. On release the
 * socket is put back the way it was found, for user space to go on using.
 */

#include <linux/capability.h>
#include <linux/file.h>
#include <linux/slab.h>
#include <linux/udp.h>
#include <net/addrconf.h>
#include <net/inet_sock.h>
#include <net/ip.h>
#include <net/ip6_route.h>
#include <net/ipv6_stubs.h>
#include <net/route.h>
#include <net/udp.h>
#include <net/udp_tunnel.h>

#include "device.h"
#include "rx.h"
#include "socket.h"

/*
 * The UDP core only tests encap_type for non-zero; the value is what
 * getsockopt(UDP_ENCAP) reports. 1 is what OpenVPN's data channel offload
 * used before it got a number of its own; nothing on 6.1 gives it meaning
 * for a socket whose encap_rcv is not xfrm's.
 */
#define CYPH_UDP_ENCAP_TYPE	1

/* How often a device with sockets looks whether they were taken back. */
#define CYPH_SOCK_CHECK_INTERVAL	(5 * HZ)

static bool cyph_sock_busy(struct sock *sk)
{
	bool busy;

	rcu_read_lock();
	busy = READ_ONCE(udp_sk(sk)->encap_type) ||
	       rcu_dereference_sk_user_data(sk);
	rcu_read_unlock();
	return busy;
}

static bool cyph_sock_is_ours(struct cyph_device *cd, struct sock *sk)
{
	bool ours;

	rcu_read_lock();
	ours = rcu_dereference_sk_user_data(sk) == cd;
	rcu_read_unlock();
	return ours;
}

/*
 * Claim @sk for @cd by setting its user data, atomically with the check
 * that nobody else (another device, l2tp) has: l2tp_tunnel_register()
 * checks and sets under the same two locks.
 * Return: 0 if claimed now, 1 if already @cd's, -EBUSY if taken.
 */
static int cyph_sock_claim(struct cyph_device *cd, struct sock *sk)
{
	int ret = 0;

	lock_sock(sk);
	write_lock_bh(&sk->sk_callback_lock);
	if (cyph_sock_is_ours(cd, sk))
		ret = 1;
	else if (cyph_sock_busy(sk))
		ret = -EBUSY;
	else
		rcu_assign_sk_user_data(sk, cd);
	write_unlock_bh(&sk->sk_callback_lock);
	release_sock(sk);
	return ret;
}

static int cyph_sock_check(struct sock *sk, sa_family_t family,
			   const struct nlattr *attr,
			   struct netlink_ext_ack *extack)
{
	if (sk->sk_type != SOCK_DGRAM || sk->sk_protocol != IPPROTO_UDP) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "not a UDP socket");
		return -EPROTONOSUPPORT;
	}
	if (sk->sk_family != family) {
		if (family == AF_INET)
			NL_SET_ERR_MSG_ATTR(extack, attr, "FD4 must be an AF_INET socket");
		else
			NL_SET_ERR_MSG_ATTR(extack, attr, "FD6 must be an AF_INET6 socket");
		return -EAFNOSUPPORT;
	}
	if (family == AF_INET6 && !ipv6_only_sock(sk)) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "FD6 must have IPV6_V6ONLY set");
		return -EINVAL;
	}
	if (!inet_sk(sk)->inet_sport) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "the socket is not bound");
		return -EINVAL;
	}
	return 0;
}

/*
 * The socket may belong to another namespace than the device (the request
 * reaches the device in its own). Sending and receiving for the device on
 * it plugs that namespace into the device, hooking DATA before the
 * socket's filters and sending past sendmsg()'s checks: only its admin may
 * do that, as WireGuard (sockets in the namespace it was created in, which
 * its creator administers) and l2tp (the request's namespace) ensure. A
 * process with CAP_NET_ADMIN in a user namespace of its own could
 * otherwise plug in any namespace it holds a socket of.
 */
static int cyph_sock_may_use(const struct sk_buff *req, struct sock *sk,
			     const struct nlattr *attr,
			     struct netlink_ext_ack *extack)
{
	if (netlink_ns_capable(req, sock_net(sk)->user_ns, CAP_NET_ADMIN))
		return 0;
	NL_SET_ERR_MSG_ATTR(extack, attr,
			    "no CAP_NET_ADMIN in the network namespace of the socket");
	return -EPERM;
}

/**
 * cyph_sock_prepare() - take and check a user-space socket
 * @cd: device, cd->lock held
 * @req: the netlink request, whose sender's capabilities count
 * @fd: file descriptor in the caller's table
 * @family: AF_INET for FD4, AF_INET6 for FD6
 * @attr: the FD attribute, for error reporting
 * @extack: error reporting
 *
 * Return: a socket ready for cyph_sock_install(), NULL if @fd is already
 * this device's socket, or an ERR_PTR.
 */
struct cyph_sock *cyph_sock_prepare(struct cyph_device *cd,
				    const struct sk_buff *req, u32 fd,
				    sa_family_t family,
				    const struct nlattr *attr,
				    struct netlink_ext_ack *extack)
{
	struct cyph_sock *cs;
	struct socket *sock;
	int err;

	lockdep_assert_held(&cd->lock);
	sock = sockfd_lookup(fd, &err);
	if (!sock) {
		NL_SET_ERR_MSG_ATTR(extack, attr, "not a socket file descriptor");
		return ERR_PTR(err);
	}
	err = cyph_sock_check(sock->sk, family, attr, extack) ?:
	      cyph_sock_may_use(req, sock->sk, attr, extack);
	if (err)
		goto err_put;
	cs = kzalloc(sizeof(*cs), GFP_KERNEL_ACCOUNT);
	if (!cs) {
		err = -ENOMEM;
		goto err_put;
	}
	err = cyph_sock_claim(cd, sock->sk);
	if (err) {
		kfree(cs);
		if (err > 0) {
			sockfd_put(sock);
			return NULL;
		}
		NL_SET_ERR_MSG_ATTR(extack, attr, "the socket is already used by a tunnel");
		goto err_put;
	}
	cs->sock = sock;
	cs->sk = sock->sk;
	sock_hold(cs->sk);
	return cs;

err_put:
	sockfd_put(sock);
	return ERR_PTR(err);
}

/* Drop a prepared socket that was not installed. */
void cyph_sock_discard(struct cyph_sock *cs)
{
	struct sock *sk;

	if (IS_ERR_OR_NULL(cs))
		return;
	/* Give up the claim; no encap_rcv was set, so nobody reads it. */
	sk = cs->sk;
	lock_sock(sk);
	write_lock_bh(&sk->sk_callback_lock);
	rcu_assign_sk_user_data(sk, NULL);
	write_unlock_bh(&sk->sk_callback_lock);
	release_sock(sk);
	sockfd_put(cs->sock);
	sock_put(sk);
	kfree(cs);
}

static void cyph_sock_encap_destroy(struct sock *sk);

/*
 * Whether user space took @sk back behind our back, or is closing it.
 * Its owner may call setsockopt(UDP_ENCAP) on it at any time: that puts
 * xfrm's encap_rcv in place of ours, and UDP_ENCAP 0 also clears the
 * encapsulation type, after which the UDP core no longer calls our
 * encap_destroy when the socket is closed. The device would then keep
 * sending from a port that anyone may bind once it is closed, and its
 * reference would keep the socket, and so its namespace with the device
 * in it, forever (without CONFIG_XFRM only the type is cleared).
 * SOCK_DEAD: the socket is being closed.
 */
static bool cyph_sock_lost(struct sock *sk)
{
	return sock_flag(sk, SOCK_DEAD) ||
	       !READ_ONCE(udp_sk(sk)->encap_type) ||
	       READ_ONCE(udp_sk(sk)->encap_rcv) != cyph_rx_encap_rcv;
}

/*
 * Undo setup_udp_tunnel_sock() and give the socket back; the hooks only
 * where they are still ours (a socket taken back keeps what its owner
 * set). No encap_rcv or sender may be using it when the reference goes,
 * hence synchronize_net().
 */
static void cyph_sock_release(struct cyph_sock *cs)
{
	struct sock *sk;

	if (!cs)
		return;
	sk = cs->sk;
	lock_sock(sk);
	if (READ_ONCE(udp_sk(sk)->encap_rcv) == cyph_rx_encap_rcv) {
		WRITE_ONCE(udp_sk(sk)->encap_rcv, NULL);
		WRITE_ONCE(udp_sk(sk)->encap_type, 0);
	}
	if (READ_ONCE(udp_sk(sk)->encap_destroy) == cyph_sock_encap_destroy)
		WRITE_ONCE(udp_sk(sk)->encap_destroy, NULL);
	rcu_assign_sk_user_data(sk, NULL);
	inet_dec_convert_csum(sk);
	inet_sk(sk)->mc_loop = cs->mc_loop;
	release_sock(sk);
	synchronize_net();
	sock_put(sk);
	kfree(cs);
}

static struct cyph_sock __rcu **cyph_sock_slot(struct cyph_device *cd, sa_family_t family)
{
	return family == AF_INET ? &cd->sock4 : &cd->sock6;
}

/**
 * cyph_sock_detach() - stop using the socket of @family
 * @cd: device, cd->lock held
 * @family: AF_INET or AF_INET6
 *
 * The socket goes back to user space; sends on that family are dropped
 * (TX_DROP_NO_SOCKET) until a new one is installed.
 */
void cyph_sock_detach(struct cyph_device *cd, sa_family_t family)
{
	lockdep_assert_held(&cd->lock);
	cyph_sock_release(rcu_replace_pointer(*cyph_sock_slot(cd, family), NULL,
					      lockdep_is_held(&cd->lock)));
}

/* Under cd->lock: detach @sk if it is still one of @cd's sockets. */
static void cyph_sock_gone(struct cyph_device *cd, struct sock *sk)
{
	sa_family_t family;
	struct cyph_sock *cs;

	mutex_lock(&cd->lock);
	for (family = AF_INET; ; family = AF_INET6) {
		cs = rcu_dereference_protected(*cyph_sock_slot(cd, family),
					       lockdep_is_held(&cd->lock));
		if (cs && cs->sk == sk) {
			cyph_sock_detach(cd, family);
			break;
		}
		if (family == AF_INET6)
			break;
	}
	mutex_unlock(&cd->lock);
}

/**
 * cyph_sock_encap_destroy() - the UDP core destroys one of our sockets
 * @sk: the socket; its last file reference is gone
 *
 * User space closed the socket (or its owner died): the device stops using
 * it. A device being deleted releases its sockets under cd->lock and clears
 * the user data first, so a device seen here is still alive, and the
 * reference taken under RCU keeps it so while we wait for cd->lock.
 *
 * Context: process context (close), no locks held.
 */
static void cyph_sock_encap_destroy(struct sock *sk)
{
	struct cyph_device *cd;

	rcu_read_lock();
	cd = rcu_dereference_sk_user_data(sk);
	if (cd)
		dev_hold(cd->dev);
	rcu_read_unlock();
	if (!cd)
		return;
	cyph_sock_gone(cd, sk);
	dev_put(cd->dev);
}

/*
 * No event tells us that a socket was taken back (cyph_sock_lost()): look
 * every CYPH_SOCK_CHECK_INTERVAL while the device has sockets, deferrable
 * so that an idle machine is not woken for it, and let go of such ones.
 * Sends stop using them at once (cyph_sock_send()).
 */
static void cyph_sock_check_work(struct work_struct *work)
{
	struct cyph_device *cd = container_of(to_delayed_work(work),
					      struct cyph_device, sock_check);
	sa_family_t family;
	struct cyph_sock *cs;
	bool any = false;

	mutex_lock(&cd->lock);
	for (family = AF_INET; ; family = AF_INET6) {
		cs = rcu_dereference_protected(*cyph_sock_slot(cd, family),
					       lockdep_is_held(&cd->lock));
		if (cs && cyph_sock_lost(cs->sk))
			cyph_sock_detach(cd, family);
		else if (cs)
			any = true;
		if (family == AF_INET6)
			break;
	}
	if (any && !cd->dead)
		queue_delayed_work(system_wq, &cd->sock_check,
				   CYPH_SOCK_CHECK_INTERVAL);
	mutex_unlock(&cd->lock);
}

void cyph_sock_init(struct cyph_device *cd)
{
	INIT_DEFERRABLE_WORK(&cd->sock_check, cyph_sock_check_work);
}

/* Device teardown, after cyph_sock_release_all(), without cd->lock. */
void cyph_sock_stop_checks(struct cyph_device *cd)
{
	cancel_delayed_work_sync(&cd->sock_check);
}

/**
 * cyph_sock_install() - start receiving on a prepared socket
 * @cd: device, cd->lock held
 * @family: which slot
 * @cs: from cyph_sock_prepare(); NULL keeps the current socket
 *
 * A socket already in the slot is released after the new one is in place.
 */
void cyph_sock_install(struct cyph_device *cd, sa_family_t family,
		       struct cyph_sock *cs)
{
	struct udp_tunnel_sock_cfg cfg = {
		.sk_user_data = cd,
		.encap_type = CYPH_UDP_ENCAP_TYPE,
		.encap_rcv = cyph_rx_encap_rcv,
		.encap_destroy = cyph_sock_encap_destroy,
	};
	struct cyph_sock __rcu **slot;
	struct cyph_sock *old;

	lockdep_assert_held(&cd->lock);
	if (!cs)
		return;
	slot = cyph_sock_slot(cd, family);
	lock_sock(cs->sk);
	cs->mc_loop = inet_sk(cs->sk)->mc_loop;
	setup_udp_tunnel_sock(sock_net(cs->sk), cs->sock, &cfg);
	release_sock(cs->sk);
	/* From here on user space's descriptors keep the socket open. */
	sockfd_put(cs->sock);
	cs->sock = NULL;
	old = rcu_replace_pointer(*slot, cs, lockdep_is_held(&cd->lock));
	cyph_sock_release(old);
	queue_delayed_work(system_wq, &cd->sock_check, CYPH_SOCK_CHECK_INTERVAL);
}

void cyph_sock_release_all(struct cyph_device *cd)
{
	cyph_sock_detach(cd, AF_INET);
	cyph_sock_detach(cd, AF_INET6);
}

/*
 * A route out through the device itself would feed every packet back in,
 * once more encapsulated, forever: refuse it (as WireGuard does). A route
 * through another cyphonic device is a tunnel inside a tunnel, allowed.
 */
static bool cyph_route_loops(const struct net_device *dev,
			     const struct net_device *out)
{
	return out == dev;
}

static void cyph_flow4(struct flowi4 *fl4, struct sock *sk,
		       const struct sockaddr_in *dst, __be32 saddr)
{
	*fl4 = (struct flowi4){
		.daddr = dst->sin_addr.s_addr,
		.saddr = inet_sk(sk)->inet_saddr ?: saddr,
		.flowi4_oif = sk->sk_bound_dev_if,
		.flowi4_mark = sk->sk_mark,
		.flowi4_proto = IPPROTO_UDP,
		.fl4_sport = inet_sk(sk)->inet_sport,
		.fl4_dport = dst->sin_port,
	};
}

/*
 * Route from the address the peer contacted. Once that address is gone
 * the lookup fails (-ENETUNREACH for a source that is no longer local):
 * forget it and let routing pick, as WireGuard does with its endpoint's
 * source. The caller's route cache holds no route for the old source (an
 * address deletion invalidates cached routes).
 */
static struct rtable *cyph_route4(struct sock *sk, struct flowi4 *fl4,
				  const struct sockaddr_in *dst,
				  struct cyph_src *src)
{
	struct rtable *rt;

	cyph_flow4(fl4, sk, dst, src->addr.ip4);
	rt = ip_route_output_flow(sock_net(sk), fl4, sk);
	if (IS_ERR(rt) && src->addr.ip4 && !inet_sk(sk)->inet_saddr) {
		src->addr.ip4 = 0;
		cyph_flow4(fl4, sk, dst, 0);
		rt = ip_route_output_flow(sock_net(sk), fl4, sk);
	}
	return rt;
}

static int cyph_send4(struct net_device *dev, struct sock *sk,
		      struct sk_buff *skb, const struct sockaddr_in *dst,
		      struct cyph_src *src, struct dst_cache *cache)
{
	struct flowi4 fl4;
	struct rtable *rt;

	cyph_flow4(&fl4, sk, dst, src->addr.ip4);
	rt = dst_cache_get_ip4(cache, &fl4.saddr);
	if (!rt) {
		rt = cyph_route4(sk, &fl4, dst, src);
		if (IS_ERR(rt))
			return PTR_ERR(rt);
		if (cyph_route_loops(dev, rt->dst.dev)) {
			ip_rt_put(rt);
			return -ELOOP;
		}
		dst_cache_set_ip4(cache, &rt->dst, fl4.saddr);
	}
	udp_tunnel_xmit_skb(rt, sk, skb, fl4.saddr, fl4.daddr, 0,
			    ip4_dst_hoplimit(&rt->dst), 0, fl4.fl4_sport,
			    fl4.fl4_dport, !net_eq(sock_net(sk), dev_net(dev)),
			    false);
	return 0;
}

#if IS_ENABLED(CONFIG_IPV6)
/* A remembered IPv6 source that is no longer local is forgotten. */
static void cyph_src6_check(struct sock *sk, struct cyph_src *src)
{
	if (!ipv6_addr_any(&src->addr.ip6) &&
	    !ipv6_chk_addr(sock_net(sk), &src->addr.ip6, NULL, 0))
		memset(src, 0, sizeof(*src));
}
#else
static void cyph_src6_check(struct sock *sk, struct cyph_src *src)
{
}
#endif

static void cyph_flow6(struct flowi6 *fl6, struct sock *sk,
		       const struct sockaddr_in6 *dst,
		       const struct cyph_src *src)
{
	bool bound = !ipv6_addr_any(&sk->sk_v6_rcv_saddr);

	*fl6 = (struct flowi6){
		.daddr = dst->sin6_addr,
		.saddr = bound ? sk->sk_v6_rcv_saddr : src->addr.ip6,
		.flowi6_oif = sk->sk_bound_dev_if ?: dst->sin6_scope_id ?:
			      (bound ? 0 : src->ifindex),
		.flowi6_mark = sk->sk_mark,
		.flowi6_proto = IPPROTO_UDP,
		.fl6_sport = inet_sk(sk)->inet_sport,
		.fl6_dport = dst->sin6_port,
	};
}

static int cyph_send6(struct net_device *dev, struct sock *sk,
		      struct sk_buff *skb, const struct sockaddr_in6 *dst,
		      struct cyph_src *src, struct dst_cache *cache)
{
	struct dst_entry *dst_e;
	struct flowi6 fl6;

	cyph_flow6(&fl6, sk, dst, src);
	dst_e = dst_cache_get_ip6(cache, &fl6.saddr);
	if (!dst_e) {
		/* The route lookup does not check that a given source is ours. */
		cyph_src6_check(sk, src);
		cyph_flow6(&fl6, sk, dst, src);
		dst_e = ipv6_stub->ipv6_dst_lookup_flow(sock_net(sk), sk, &fl6,
							NULL);
		if (IS_ERR(dst_e))
			return PTR_ERR(dst_e);
		if (cyph_route_loops(dev, dst_e->dev)) {
			dst_release(dst_e);
			return -ELOOP;
		}
		dst_cache_set_ip6(cache, dst_e, &fl6.saddr);
	}
	/*
	 * Consumes the skb; failures past this point are counted by the stack.
	 * A train (train.c) is always checksummed: its segments' checksums are
	 * derived from the pseudo-header sum written here, and a zero one
	 * (UDP_NO_CHECK6_TX) would give each a wrong, non-zero checksum, so
	 * the stack's own UDP refuses GSO without checksums.
	 */
	udp_tunnel6_xmit_skb(dst_e, sk, skb, NULL, &fl6.saddr, &fl6.daddr, 0,
			     ip6_dst_hoplimit(dst_e), 0, fl6.fl6_sport,
			     fl6.fl6_dport,
			     !skb_is_gso(skb) && udp_get_no_check6_tx(sk));
	return 0;
}

/**
 * cyph_sock_send() - send an encapsulated packet to an underlay address
 * @cd: device
 * @skb: UDP payload; consumed on success only (its skb->dev is cleared)
 * @dst: destination; its family selects the socket
 * @src: the source to send from (none: routing picks); cleared here if
 *	 that address is no longer local
 * @cache: the tunnel's route cache for @dst and @src, used on one CPU at a
 *	   time
 *
 * Return: 0, -ENOTCONN if the device has no socket of that family, -ELOOP
 * if the route leads back into @cd, or another errno if no route was found.
 */
int cyph_sock_send(struct cyph_device *cd, struct sk_buff *skb,
		   const union cyph_sockaddr *dst, struct cyph_src *src,
		   struct dst_cache *cache)
{
	struct cyph_sock *cs;
	int err = -ENOTCONN;

	/*
	 * The packet is sent as the socket's own, from no device: the tunnel
	 * core would otherwise count its sealed length (tag included) in
	 * the device's TX counters, where the caller counts the inner length
	 * the peer's RX counters see; and after a move to another namespace
	 * the device is none of the socket namespace's business.
	 */
	skb->dev = NULL;
	rcu_read_lock();
	/* Not from a socket taken back or closed: its port may be another's. */
	if (dst->sa.sa_family == AF_INET) {
		cs = rcu_dereference(cd->sock4);
		if (cs && !cyph_sock_lost(cs->sk))
			err = cyph_send4(cd->dev, cs->sk, skb, &dst->sin, src,
					 cache);
	} else if (dst->sa.sa_family == AF_INET6) {
		cs = rcu_dereference(cd->sock6);
		if (cs && !cyph_sock_lost(cs->sk))
			err = cyph_send6(cd->dev, cs->sk, skb, &dst->sin6, src,
					 cache);
	}
	rcu_read_unlock();
	return err;
}

/* The bound port of a socket, host order, 0 if there is none. */
u16 cyph_sock_port(struct cyph_device *cd, sa_family_t family)
{
	struct cyph_sock *cs;
	u16 port = 0;

	rcu_read_lock();
	if (family == AF_INET)
		cs = rcu_dereference(cd->sock4);
	else
		cs = rcu_dereference(cd->sock6);
	if (cs)
		port = ntohs(inet_sk(cs->sk)->inet_sport);
	rcu_read_unlock();
	return port;
}
