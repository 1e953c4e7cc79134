// SPDX-License-Identifier: MIT
/*
 * nl_negative DEV: sends deliberately malformed or forbidden generic
 * netlink requests to the cyphonic family and checks that each one is
 * refused with the expected errno and (where the cyphonic module, not the
 * genetlink core, refuses it) a non-empty extended-ack message, and that
 * none of them changed the device. Prints TAP; run as root in the test VM
 * on a cyphonic device in the current network namespace.
 *
 * Sequence: snapshot S0; add a fixture (a local identity and a tunnel
 * with keys: primary, next, swapped, so that the next slot holds a retired
 * key); snapshot S1; every bad request; snapshot S2 == S1; the same requests
 * that need CAP_NET_ADMIN from a child without it (-EPERM); snapshot
 * S3 == S1; remove the fixture; snapshot S4 == S0. A snapshot is the
 * device's configuration (DEV_GET, LOCAL_GET and TUNNEL_GET without the
 * counters and ages that move on their own).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <linux/cyphonic.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

/* Fixture; 10.98.x is no local identity. */
#define FIX_INDEX 0x7fff0001u
#define MISSING_INDEX 0x7fff0002u
#define FIX_L4 "10.97.0.1"
#define FIX_R4 "10.97.0.2"
#define FIX_L6 "fd97::1"

struct nl {
	struct nl_sock *sk;
	int family;
	int error;		/* positive errno of the last request */
	char extack[256];
	bool done;
	FILE *snap;		/* snapshot text being written, or NULL */
};

static int ifindex;
static const char *dev;
static int tap_n, tap_fail;

/* ---- netlink plumbing ---------------------------------------------------- */

static void read_extack(struct nl *n, const struct nlmsghdr *h, size_t off)
{
	const struct nlattr *a;
	int rem;

	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS) || off >= h->nlmsg_len)
		return;
	a = (const void *)((const char *)h + off);
	rem = (int)(h->nlmsg_len - off);
	for (; nla_ok(a, rem); a = nla_next(a, &rem))
		if (nla_type(a) == NLMSGERR_ATTR_MSG && nla_len(a) > 0)
			snprintf(n->extack, sizeof(n->extack), "%.*s",
				 nla_len(a), (const char *)nla_data(a));
}

static int on_error(struct sockaddr_nl *who, struct nlmsgerr *e, void *arg)
{
	const struct nlmsghdr *h = (const void *)((const char *)e - NLMSG_HDRLEN);
	size_t off = NLMSG_HDRLEN + sizeof(*e);
	struct nl *n = arg;

	(void)who;
	if (!(h->nlmsg_flags & NLM_F_CAPPED))
		off += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	n->error = -e->error;
	read_extack(n, h, off);
	n->done = true;
	return NL_STOP;
}

static int on_ack(struct nl_msg *msg, void *arg)
{
	struct nl *n = arg;

	(void)msg;
	n->done = true;
	return NL_STOP;
}

static int on_finish(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct nl *n = arg;
	int err = 0;

	n->done = true;
	if (nlmsg_datalen(h) >= (int)sizeof(int))
		memcpy(&err, nlmsg_data(h), sizeof(err));
	if (err < 0) {
		n->error = -err;
		read_extack(n, h, NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(int)));
	}
	return NL_STOP;
}

static void snap_attrs(FILE *f, const char *prefix, struct nlattr *head,
		       int len);

static int on_valid(struct nl_msg *msg, void *arg)
{
	struct nlmsghdr *h = nlmsg_hdr(msg);
	struct genlmsghdr *g = nlmsg_data(h);
	struct nl *n = arg;

	if (n->snap) {
		fprintf(n->snap, "cmd %u:", g->cmd);
		snap_attrs(n->snap, "", genlmsg_attrdata(g, 0),
			   genlmsg_attrlen(g, 0));
		fputc('\n', n->snap);
	}
	return NL_OK;
}

static int nl_open(struct nl *n)
{
	int one = 1;

	memset(n, 0, sizeof(*n));
	n->sk = nl_socket_alloc();
	if (!n->sk || genl_connect(n->sk))
		return -1;
	setsockopt(nl_socket_get_fd(n->sk), SOL_NETLINK, NETLINK_EXT_ACK,
		   &one, sizeof(one));
	setsockopt(nl_socket_get_fd(n->sk), SOL_NETLINK, NETLINK_CAP_ACK,
		   &one, sizeof(one));
	nl_socket_set_buffer_size(n->sk, 4 << 20, 0);
	nl_socket_enable_msg_peek(n->sk);
	n->family = genl_ctrl_resolve(n->sk, CYPHONIC_GENL_NAME);
	return n->family < 0 ? -1 : 0;
}

static struct nl_msg *new_msg(struct nl *n, uint8_t cmd, int flags)
{
	struct nl_msg *m = nlmsg_alloc();

	if (m)
		genlmsg_put(m, NL_AUTO_PORT, NL_AUTO_SEQ, n->family, 0,
			    NLM_F_ACK | flags, cmd, CYPHONIC_GENL_VERSION);
	return m;
}

/* Sends m (frees it); returns 0 or -errno, with n->extack filled in. */
static int exchange(struct nl *n, struct nl_msg *m)
{
	struct nl_cb *cb = nl_cb_alloc(NL_CB_DEFAULT);
	int err;

	n->error = 0;
	n->extack[0] = '\0';
	n->done = false;
	nl_cb_err(cb, NL_CB_CUSTOM, on_error, n);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, on_ack, n);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, on_finish, n);
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, on_valid, n);
	err = nl_send_auto(n->sk, m);
	nlmsg_free(m);
	if (err < 0) {
		nl_cb_put(cb);
		snprintf(n->extack, sizeof(n->extack), "send: %s", nl_geterror(err));
		return -EIO;
	}
	while (!n->done) {
		err = nl_recvmsgs(n->sk, cb);
		if (err < 0 && !n->error) {
			n->error = EIO;
			snprintf(n->extack, sizeof(n->extack), "recv: %s",
				 nl_geterror(err));
			break;
		}
	}
	nl_cb_put(cb);
	return -n->error;
}

/* ---- snapshots ----------------------------------------------------------- */

/* Attributes that change without configuration: counters, ages, last rx. */
static bool volatile_attr(const char *prefix, int type)
{
	if (!*prefix)
		return type == CYPHONIC_A_STATS;
	if (!strcmp(prefix, "t"))
		return type == CYPHONIC_TUNNEL_A_STATS ||
		       type == CYPHONIC_TUNNEL_A_LAST_RX_MS;
	if (!strcmp(prefix, "tk"))
		return type == CYPHONIC_KEY_A_AGE_MS ||
		       type == CYPHONIC_KEY_A_RETIRED_MS ||
		       type == CYPHONIC_KEY_A_TX_COUNTER ||
		       type == CYPHONIC_KEY_A_RX_COUNTER;
	return false;
}

/* Nests by position: top LOCAL -> "l", TUNNEL -> "t", tunnel KEY -> "tk". */
static const char *nest_prefix(const char *prefix, int type)
{
	if (!*prefix && type == CYPHONIC_A_LOCAL)
		return "l";
	if (!*prefix && type == CYPHONIC_A_TUNNEL)
		return "t";
	if (!strcmp(prefix, "t") && type == CYPHONIC_TUNNEL_A_KEY)
		return "tk";
	return NULL;
}

static void snap_attrs(FILE *f, const char *prefix, struct nlattr *head,
		       int len)
{
	struct nlattr *a;
	int rem, i;

	nla_for_each_attr(a, head, len, rem) {
		int type = nla_type(a);
		const char *np = nest_prefix(prefix, type);

		if (volatile_attr(prefix, type))
			continue;
		fprintf(f, " %s%d=", prefix, type);
		if (np) {
			fputc('{', f);
			snap_attrs(f, np, nla_data(a), nla_len(a));
			fputc('}', f);
			continue;
		}
		for (i = 0; i < nla_len(a); i++)
			fprintf(f, "%02x", ((unsigned char *)nla_data(a))[i]);
	}
}

static int snap_request(struct nl *n, uint8_t cmd, int flags)
{
	struct nl_msg *m = new_msg(n, cmd, flags);

	nla_put_u32(m, CYPHONIC_A_IFINDEX, (uint32_t)ifindex);
	return exchange(n, m);
}

/* The device's configuration as text (caller frees), NULL on error. */
static char *snapshot(struct nl *n)
{
	char *text = NULL;
	size_t len;
	int err;

	n->snap = open_memstream(&text, &len);
	err = snap_request(n, CYPHONIC_CMD_DEV_GET, 0);
	if (!err)
		err = snap_request(n, CYPHONIC_CMD_LOCAL_GET, NLM_F_DUMP);
	if (!err)
		err = snap_request(n, CYPHONIC_CMD_TUNNEL_GET, NLM_F_DUMP);
	fclose(n->snap);
	n->snap = NULL;
	if (err) {
		printf("# snapshot failed: %s (%s)\n", strerror(-err), n->extack);
		free(text);
		return NULL;
	}
	return text;
}

/* ---- TAP ----------------------------------------------------------------- */

static void tap(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", ok ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	tap_fail += !ok;
}

static void check_same(const char *a, const char *b, const char *what)
{
	bool same = a && b && !strcmp(a, b);

	tap(same, "%s", what);
	if (!same) {
		printf("# before: %s# after:  %s", a ? a : "(none)\n",
		       b ? b : "(none)\n");
	}
}

/* ---- message pieces -------------------------------------------------------- */

static void put_dev(struct nl_msg *m)
{
	nla_put_u32(m, CYPHONIC_A_IFINDEX, (uint32_t)ifindex);
}

static void put_ip4(struct nl_msg *m, int type, const char *s)
{
	struct in_addr a;

	inet_pton(AF_INET, s, &a);
	nla_put(m, type, sizeof(a), &a);
}

static void put_ip6(struct nl_msg *m, int type, const char *s)
{
	struct in6_addr a;

	inet_pton(AF_INET6, s, &a);
	nla_put(m, type, sizeof(a), &a);
}

/* TUNNEL { INDEX idx, PEER_INDEX 1, LOCAL4 l4, REMOTE4 r4 } (NULL = absent) */
static struct nlattr *tunnel(struct nl_msg *m, uint32_t idx, const char *l4,
			     const char *r4)
{
	struct nlattr *t;

	put_dev(m);
	t = nla_nest_start(m, CYPHONIC_A_TUNNEL);
	nla_put_u32(m, CYPHONIC_TUNNEL_A_INDEX, idx);
	if (l4 || r4)
		nla_put_u32(m, CYPHONIC_TUNNEL_A_PEER_INDEX, 1);
	if (l4)
		put_ip4(m, CYPHONIC_TUNNEL_A_LOCAL4, l4);
	if (r4)
		put_ip4(m, CYPHONIC_TUNNEL_A_REMOTE4, r4);
	return t;
}

/* KEY { SLOT slot, ID id, TX txlen bytes, RX rxlen bytes } (len 0 = absent) */
static void key(struct nl_msg *m, int slot, int id, int txlen, int rxlen)
{
	static const uint8_t k[CYPHONIC_KEY_LEN + 1] = { 1, 2, 3 };
	struct nlattr *n = nla_nest_start(m, CYPHONIC_TUNNEL_A_KEY);

	nla_put_u8(m, CYPHONIC_KEY_A_SLOT, (uint8_t)slot);
	nla_put_u8(m, CYPHONIC_KEY_A_ID, (uint8_t)id);
	if (txlen)
		nla_put(m, CYPHONIC_KEY_A_TX, txlen, k);
	if (rxlen)
		nla_put(m, CYPHONIC_KEY_A_RX, rxlen, k);
	nla_nest_end(m, n);
}

/*
 * KEY { SLOT, ID, TX, RX } with key bytes tx_b and rx_b repeated: the
 * fixture's keys are 0xf1/0xf2 (swapped out, retired) and 0xf3/0xf4.
 */
static void key_bytes(struct nl_msg *m, int slot, int id, uint8_t tx_b,
		      uint8_t rx_b)
{
	struct nlattr *n = nla_nest_start(m, CYPHONIC_TUNNEL_A_KEY);
	uint8_t tx[CYPHONIC_KEY_LEN], rx[CYPHONIC_KEY_LEN];

	memset(tx, tx_b, sizeof(tx));
	memset(rx, rx_b, sizeof(rx));
	nla_put_u8(m, CYPHONIC_KEY_A_SLOT, (uint8_t)slot);
	nla_put_u8(m, CYPHONIC_KEY_A_ID, (uint8_t)id);
	nla_put(m, CYPHONIC_KEY_A_TX, sizeof(tx), tx);
	nla_put(m, CYPHONIC_KEY_A_RX, sizeof(rx), rx);
	nla_nest_end(m, n);
}

static void local(struct nl_msg *m, const char *v4, int v4len, const char *v6)
{
	struct nlattr *n;
	struct in_addr a;

	put_dev(m);
	n = nla_nest_start(m, CYPHONIC_A_LOCAL);
	if (v4) {
		inet_pton(AF_INET, v4, &a);
		nla_put(m, CYPHONIC_LOCAL_A_VIP4, v4len, &a);
	}
	if (v6)
		put_ip6(m, CYPHONIC_LOCAL_A_VIP6, v6);
	nla_nest_end(m, n);
}

/* ---- the cases ------------------------------------------------------------- */

static int cur_cipher = CYPHONIC_CIPHER_AES_GCM;
static int fd_null = -1, fd_tcp = -1, fd_udp6 = -1, fd_udp4 = -1;

static void b_no_dev(struct nl_msg *m) { nla_put_u32(m, CYPHONIC_A_WORKERS, 1); }
static void b_dev_get_no_dev(struct nl_msg *m) { (void)m; }
static void b_both_dev(struct nl_msg *m)
{
	put_dev(m);
	nla_put_string(m, CYPHONIC_A_IFNAME, dev);
}
static void b_unknown_ifindex(struct nl_msg *m) { nla_put_u32(m, CYPHONIC_A_IFINDEX, 0x7ffffff0); }
static void b_unknown_ifname(struct nl_msg *m) { nla_put_string(m, CYPHONIC_A_IFNAME, "nxcyph0"); }
static void b_lo(struct nl_msg *m) { nla_put_u32(m, CYPHONIC_A_IFINDEX, if_nametoindex("lo")); }
static void b_lo_name(struct nl_msg *m) { nla_put_string(m, CYPHONIC_A_IFNAME, "lo"); }
static void b_long_ifname(struct nl_msg *m)
{
	nla_put_string(m, CYPHONIC_A_IFNAME, "abcdefghijklmnopqrstuvwxyz");
}
static void b_ifindex_u16(struct nl_msg *m) { nla_put_u16(m, CYPHONIC_A_IFINDEX, (uint16_t)ifindex); }
static void b_unknown_top(struct nl_msg *m)
{
	put_dev(m);
	nla_put_u32(m, CYPHONIC_A_MAX + 1, 0);
}
static void b_unspec_top(struct nl_msg *m)
{
	put_dev(m);
	nla_put_u32(m, CYPHONIC_A_UNSPEC, 0);
}
static void b_unknown_nested(struct nl_msg *m)
{
	struct nlattr *t = tunnel(m, FIX_INDEX, NULL, NULL);

	nla_put_u32(m, CYPHONIC_TUNNEL_A_MAX + 1, 0);
	nla_nest_end(m, t);
}
static void b_short_vip4(struct nl_msg *m) { local(m, "10.96.0.1", 3, NULL); }
static void b_long_vip4(struct nl_msg *m) { local(m, "10.96.0.1", 5, NULL); }
static void b_short_vip6(struct nl_msg *m)
{
	struct nlattr *n;

	put_dev(m);
	n = nla_nest_start(m, CYPHONIC_A_LOCAL);
	put_ip4(m, CYPHONIC_LOCAL_A_VIP6, "10.96.0.1");
	nla_nest_end(m, n);
}
static void b_no_local(struct nl_msg *m) { local(m, NULL, 0, NULL); }
static void b_empty_local(struct nl_msg *m)
{
	/* nla_nest_end() drops an empty nest, so put one by hand. */
	put_dev(m);
	nla_put(m, CYPHONIC_A_LOCAL | NLA_F_NESTED, 0, NULL);
}
static void b_nest_flag(struct nl_msg *m)
{
	/* A LOCAL holding one VIP4, without NLA_F_NESTED on the nest. */
	struct {
		struct nlattr hdr;
		uint8_t vip[4];
	} inner = { { sizeof(inner), CYPHONIC_LOCAL_A_VIP4 }, { 10, 96, 0, 5 } };

	put_dev(m);
	nla_put(m, CYPHONIC_A_LOCAL, sizeof(inner), &inner);
}
static void b_dup_local(struct nl_msg *m) { local(m, FIX_L4, 4, FIX_L6); }
static void b_missing_local(struct nl_msg *m) { local(m, "10.96.0.9", 4, NULL); }
static void b_short_tunnel_vip(struct nl_msg *m)
{
	struct nlattr *t = tunnel(m, MISSING_INDEX, NULL, FIX_R4);

	nla_put(m, CYPHONIC_TUNNEL_A_LOCAL4, 3, "abc");
	nla_nest_end(m, t);
}
static void b_key31(struct nl_msg *m)
{
	struct nlattr *t = tunnel(m, MISSING_INDEX, FIX_L4, "10.97.0.3");

	key(m, CYPHONIC_KEY_SLOT_PRIMARY, 0, CYPHONIC_KEY_LEN - 1, CYPHONIC_KEY_LEN);
	nla_nest_end(m, t);
}
static void b_key33(struct nl_msg *m)
{
	struct nlattr *t = tunnel(m, FIX_INDEX, NULL, NULL);

	key(m, CYPHONIC_KEY_SLOT_NEXT, 1, CYPHONIC_KEY_LEN, CYPHONIC_KEY_LEN + 1);
	nla_nest_end(m, t);
}
static void b_key_no_rx(struct nl_msg *m)
{
	struct nlattr *t = tunnel(m, FIX_INDEX, NULL, NULL);

	key(m, CYPHONIC_KEY_SLOT_NEXT, 1, CYPHONIC_KEY_LEN, 0);
	nla_nest_end(m, t);
}
static void b_key_id(struct nl_msg *m)
{
	struct nlattr *t = tunnel(m, FIX_INDEX, NULL, NULL);

	key(m, CYPHONIC_KEY_SLOT_NEXT, CYPHONIC_DATA_F_KEY_ID_MASK + 1,
	    CYPHONIC_KEY_LEN, CYPHONIC_KEY_LEN);
	nla_nest_end(m, t);
}
static void b_slot(struct nl_msg *m)
{
	struct nlattr *t = tunnel(m, FIX_INDEX, NULL, NULL);

	key(m, CYPHONIC_KEY_SLOT_MAX + 1, 0, CYPHONIC_KEY_LEN, CYPHONIC_KEY_LEN);
	nla_nest_end(m, t);
}
static void b_key_tx_is_rx(struct nl_msg *m)
{
	struct nlattr *t = tunnel(m, FIX_INDEX, NULL, NULL);

	key_bytes(m, CYPHONIC_KEY_SLOT_NEXT, 2, 0xe1, 0xe1);
	nla_nest_end(m, t);
}
/* The fixture's retired key, now as the next key. */
static void b_key_reused(struct nl_msg *m)
{
	struct nlattr *t = tunnel(m, FIX_INDEX, NULL, NULL);

	key_bytes(m, CYPHONIC_KEY_SLOT_NEXT, 2, 0xf1, 0xf2);
	nla_nest_end(m, t);
}
/* Half of a key in use (the primary's RX as the next TX). */
static void b_key_half_reused(struct nl_msg *m)
{
	struct nlattr *t = tunnel(m, FIX_INDEX, NULL, NULL);

	key_bytes(m, CYPHONIC_KEY_SLOT_NEXT, 2, 0xf4, 0xe2);
	nla_nest_end(m, t);
}
/* The primary key re-installed over itself: its counter would restart. */
static void b_key_primary_again(struct nl_msg *m)
{
	struct nlattr *t = tunnel(m, FIX_INDEX, NULL, NULL);

	key_bytes(m, CYPHONIC_KEY_SLOT_PRIMARY, 1, 0xf3, 0xf4);
	nla_nest_end(m, t);
}
/* One key twice in a request. */
static void b_key_twice(struct nl_msg *m)
{
	struct nlattr *t = tunnel(m, FIX_INDEX, NULL, NULL);

	key_bytes(m, CYPHONIC_KEY_SLOT_PRIMARY, 1, 0xe3, 0xe4);
	key_bytes(m, CYPHONIC_KEY_SLOT_NEXT, 2, 0xe5, 0xe3);
	nla_nest_end(m, t);
}
static void b_swap_retired(struct nl_msg *m)
{
	nla_nest_end(m, tunnel(m, FIX_INDEX, NULL, NULL));
}
static void b_detach_and_fd4(struct nl_msg *m)
{
	put_dev(m);
	nla_put_u8(m, CYPHONIC_A_DETACH, CYPHONIC_DETACH_F_4);
	nla_put_u32(m, CYPHONIC_A_FD4, (uint32_t)fd_udp4);
}
static void b_detach_bits(struct nl_msg *m)
{
	put_dev(m);
	nla_put_u8(m, CYPHONIC_A_DETACH, CYPHONIC_DETACH_F_ALL + 1);
}
static void b_index0(struct nl_msg *m)
{
	nla_nest_end(m, tunnel(m, 0, FIX_L4, "10.97.0.3"));
}
static void b_no_index(struct nl_msg *m)
{
	struct nlattr *t;

	put_dev(m);
	t = nla_nest_start(m, CYPHONIC_A_TUNNEL);
	nla_put_u32(m, CYPHONIC_TUNNEL_A_PEER_INDEX, 1);
	put_ip4(m, CYPHONIC_TUNNEL_A_LOCAL4, FIX_L4);
	put_ip4(m, CYPHONIC_TUNNEL_A_REMOTE4, "10.97.0.3");
	nla_nest_end(m, t);
}
static void b_dup_index(struct nl_msg *m)
{
	nla_nest_end(m, tunnel(m, FIX_INDEX, FIX_L4, "10.97.0.3"));
}
static void b_half_pair(struct nl_msg *m)
{
	nla_nest_end(m, tunnel(m, MISSING_INDEX, FIX_L4, NULL));
}
static void b_half_pair6(struct nl_msg *m)
{
	struct nlattr *t = tunnel(m, MISSING_INDEX, NULL, NULL);

	nla_put_u32(m, CYPHONIC_TUNNEL_A_PEER_INDEX, 1);
	put_ip6(m, CYPHONIC_TUNNEL_A_REMOTE6, "fd97::2");
	nla_nest_end(m, t);
}
static void b_no_pair(struct nl_msg *m)
{
	struct nlattr *t = tunnel(m, MISSING_INDEX, NULL, NULL);

	nla_put_u32(m, CYPHONIC_TUNNEL_A_PEER_INDEX, 1);
	nla_nest_end(m, t);
}
static void b_not_local(struct nl_msg *m)
{
	nla_nest_end(m, tunnel(m, MISSING_INDEX, "10.98.0.1", "10.98.0.2"));
}
static void b_missing_index(struct nl_msg *m)
{
	nla_nest_end(m, tunnel(m, MISSING_INDEX, NULL, NULL));
}
static void b_set_missing(struct nl_msg *m)
{
	struct nlattr *t = tunnel(m, MISSING_INDEX, NULL, NULL);

	nla_put_u32(m, CYPHONIC_TUNNEL_A_RELAY, 5);
	nla_nest_end(m, t);
}
static void b_endpoint_short(struct nl_msg *m)
{
	struct nlattr *t = tunnel(m, FIX_INDEX, NULL, NULL);

	nla_put(m, CYPHONIC_TUNNEL_A_ENDPOINT, 5, "\2\0\0\1\2");
	nla_nest_end(m, t);
}
static void b_endpoint_family(struct nl_msg *m)
{
	struct sockaddr_in sin = { .sin_family = AF_UNIX, .sin_port = htons(1) };
	struct nlattr *t = tunnel(m, FIX_INDEX, NULL, NULL);

	nla_put(m, CYPHONIC_TUNNEL_A_ENDPOINT, sizeof(sin), &sin);
	nla_nest_end(m, t);
}
static void b_cipher_busy(struct nl_msg *m)
{
	put_dev(m);
	nla_put_u8(m, CYPHONIC_A_CIPHER,
		   cur_cipher == CYPHONIC_CIPHER_AES_GCM ?
		   CYPHONIC_CIPHER_CHACHA20_POLY1305 : CYPHONIC_CIPHER_AES_GCM);
}
static void b_cipher_unknown(struct nl_msg *m)
{
	put_dev(m);
	nla_put_u8(m, CYPHONIC_A_CIPHER, CYPHONIC_CIPHER_MAX + 1);
}
static void b_cipher_unspec(struct nl_msg *m)
{
	put_dev(m);
	nla_put_u8(m, CYPHONIC_A_CIPHER, CYPHONIC_CIPHER_UNSPEC);
}
static void b_fd4_null(struct nl_msg *m) { put_dev(m); nla_put_u32(m, CYPHONIC_A_FD4, (uint32_t)fd_null); }
static void b_fd4_tcp(struct nl_msg *m) { put_dev(m); nla_put_u32(m, CYPHONIC_A_FD4, (uint32_t)fd_tcp); }
static void b_fd4_closed(struct nl_msg *m) { put_dev(m); nla_put_u32(m, CYPHONIC_A_FD4, 999999); }
static void b_fd4_v6(struct nl_msg *m) { put_dev(m); nla_put_u32(m, CYPHONIC_A_FD4, (uint32_t)fd_udp6); }
static void b_fd6_v4(struct nl_msg *m) { put_dev(m); nla_put_u32(m, CYPHONIC_A_FD6, (uint32_t)fd_udp4); }
static void b_dev_only(struct nl_msg *m) { put_dev(m); }
static void b_workers_same(struct nl_msg *m) { put_dev(m); nla_put_u32(m, CYPHONIC_A_WORKERS, 1); }
static void b_local_priv(struct nl_msg *m) { local(m, "10.96.0.7", 4, NULL); }
static void b_tunnel_priv(struct nl_msg *m)
{
	nla_nest_end(m, tunnel(m, MISSING_INDEX, FIX_L4, "10.97.0.3"));
}
/* TUNNEL { LOCAL4 l4, REMOTE4 r4 }: TUNNEL_UNREACHABLE's only form */
static struct nlattr *vip_pair(struct nl_msg *m, const char *l4, const char *r4)
{
	struct nlattr *t;

	put_dev(m);
	t = nla_nest_start(m, CYPHONIC_A_TUNNEL);
	put_ip4(m, CYPHONIC_TUNNEL_A_LOCAL4, l4);
	put_ip4(m, CYPHONIC_TUNNEL_A_REMOTE4, r4);
	return t;
}
static void b_unreach_not_local(struct nl_msg *m)
{
	nla_nest_end(m, vip_pair(m, "10.98.0.1", "10.98.0.2"));
}
static void b_unreach_two_pairs(struct nl_msg *m)
{
	struct nlattr *t = vip_pair(m, FIX_L4, "10.97.0.3");

	put_ip6(m, CYPHONIC_TUNNEL_A_LOCAL6, FIX_L6);
	put_ip6(m, CYPHONIC_TUNNEL_A_REMOTE6, "fd97::3");
	nla_nest_end(m, t);
}
static void b_unreach_priv(struct nl_msg *m)
{
	nla_nest_end(m, vip_pair(m, FIX_L4, "10.97.0.3"));
}
static void b_del_fixture(struct nl_msg *m)
{
	nla_nest_end(m, tunnel(m, FIX_INDEX, NULL, NULL));
}

#define E(...) { __VA_ARGS__, 0 }

struct tcase {
	const char *name;
	uint8_t cmd;
	int flags;
	void (*build)(struct nl_msg *m);
	int want[5];		/* accepted errnos, 0-terminated */
	bool extack;		/* the module (not genetlink) refuses it */
};

static const struct tcase cases[] = {
	{ "DEV_SET without IFINDEX/IFNAME", CYPHONIC_CMD_DEV_SET, 0, b_no_dev, E(EINVAL), true },
	{ "DEV_GET without IFINDEX/IFNAME", CYPHONIC_CMD_DEV_GET, 0, b_dev_get_no_dev, E(EINVAL), true },
	{ "TUNNEL_GET dump without IFINDEX/IFNAME", CYPHONIC_CMD_TUNNEL_GET, NLM_F_DUMP, b_dev_get_no_dev, E(EINVAL), true },
	{ "both IFINDEX and IFNAME", CYPHONIC_CMD_DEV_GET, 0, b_both_dev, E(EINVAL), true },
	{ "unknown ifindex", CYPHONIC_CMD_DEV_GET, 0, b_unknown_ifindex, E(ENODEV), true },
	{ "unknown ifname", CYPHONIC_CMD_DEV_SET, 0, b_unknown_ifname, E(ENODEV), true },
	{ "ifindex of lo (not cyphonic)", CYPHONIC_CMD_DEV_SET, 0, b_lo, E(ENODEV), true },
	{ "ifname lo (not cyphonic)", CYPHONIC_CMD_TUNNEL_GET, NLM_F_DUMP, b_lo_name, E(ENODEV), true },
	{ "IFNAME longer than IFNAMSIZ", CYPHONIC_CMD_DEV_GET, 0, b_long_ifname, E(EINVAL, ERANGE), true },
	{ "IFINDEX as u16", CYPHONIC_CMD_DEV_GET, 0, b_ifindex_u16, E(EINVAL, ERANGE), true },
	{ "unknown top-level attribute", CYPHONIC_CMD_DEV_SET, 0, b_unknown_top, E(EINVAL, EOPNOTSUPP), true },
	{ "UNSPEC top-level attribute", CYPHONIC_CMD_DEV_SET, 0, b_unspec_top, E(EINVAL, EOPNOTSUPP), true },
	{ "unknown attribute in TUNNEL", CYPHONIC_CMD_TUNNEL_SET, 0, b_unknown_nested, E(EINVAL, EOPNOTSUPP), true },
	{ "3-byte VIP4", CYPHONIC_CMD_LOCAL_ADD, 0, b_short_vip4, E(EINVAL, ERANGE), true },
	{ "5-byte VIP4", CYPHONIC_CMD_LOCAL_ADD, 0, b_long_vip4, E(EINVAL, ERANGE), true },
	{ "4-byte VIP6", CYPHONIC_CMD_LOCAL_ADD, 0, b_short_vip6, E(EINVAL, ERANGE), true },
	{ "LOCAL_ADD without LOCAL", CYPHONIC_CMD_LOCAL_ADD, 0, b_no_local, E(EINVAL), true },
	{ "LOCAL without VIPs", CYPHONIC_CMD_LOCAL_ADD, 0, b_empty_local, E(EINVAL), true },
	{ "LOCAL without NLA_F_NESTED", CYPHONIC_CMD_LOCAL_ADD, 0, b_nest_flag, E(EINVAL), true },
	{ "duplicate local identity", CYPHONIC_CMD_LOCAL_ADD, 0, b_dup_local, E(EEXIST), true },
	{ "LOCAL_DEL of no identity", CYPHONIC_CMD_LOCAL_DEL, 0, b_missing_local, E(ENOENT), true },
	{ "3-byte tunnel LOCAL4", CYPHONIC_CMD_TUNNEL_NEW, 0, b_short_tunnel_vip, E(EINVAL, ERANGE), true },
	{ "31-byte TX key", CYPHONIC_CMD_TUNNEL_NEW, 0, b_key31, E(EINVAL, ERANGE), true },
	{ "33-byte RX key", CYPHONIC_CMD_TUNNEL_SET, 0, b_key33, E(EINVAL, ERANGE), true },
	{ "key without RX", CYPHONIC_CMD_TUNNEL_SET, 0, b_key_no_rx, E(EINVAL), true },
	{ "key id out of range", CYPHONIC_CMD_TUNNEL_SET, 0, b_key_id, E(EINVAL, ERANGE), true },
	{ "key slot out of range", CYPHONIC_CMD_TUNNEL_SET, 0, b_slot, E(EINVAL, ERANGE), true },
	{ "TX key equal to the RX key", CYPHONIC_CMD_TUNNEL_SET, 0, b_key_tx_is_rx, E(EINVAL), true },
	{ "key used before (retired) installed again", CYPHONIC_CMD_TUNNEL_SET, 0, b_key_reused, E(EKEYREJECTED), true },
	{ "primary's RX key reused as TX key", CYPHONIC_CMD_TUNNEL_SET, 0, b_key_half_reused, E(EKEYREJECTED), true },
	{ "primary key installed over itself", CYPHONIC_CMD_TUNNEL_SET, 0, b_key_primary_again, E(EKEYREJECTED), true },
	{ "one key twice in a request", CYPHONIC_CMD_TUNNEL_SET, 0, b_key_twice, E(EINVAL), true },
	{ "KEY_SWAP with a retired next key", CYPHONIC_CMD_KEY_SWAP, 0, b_swap_retired, E(EKEYREVOKED), true },
	{ "DETACH with FD4", CYPHONIC_CMD_DEV_SET, 0, b_detach_and_fd4, E(EINVAL), true },
	{ "DETACH with unknown bits", CYPHONIC_CMD_DEV_SET, 0, b_detach_bits, E(EINVAL, ERANGE), true },
	{ "tunnel index 0", CYPHONIC_CMD_TUNNEL_NEW, 0, b_index0, E(EINVAL, ERANGE), true },
	{ "TUNNEL_NEW without INDEX", CYPHONIC_CMD_TUNNEL_NEW, 0, b_no_index, E(EINVAL), true },
	{ "duplicate tunnel index", CYPHONIC_CMD_TUNNEL_NEW, 0, b_dup_index, E(EEXIST), true },
	{ "tunnel with LOCAL4 but no REMOTE4", CYPHONIC_CMD_TUNNEL_NEW, 0, b_half_pair, E(EINVAL), true },
	{ "tunnel with REMOTE6 but no LOCAL6", CYPHONIC_CMD_TUNNEL_NEW, 0, b_half_pair6, E(EINVAL), true },
	{ "tunnel without VIPs", CYPHONIC_CMD_TUNNEL_NEW, 0, b_no_pair, E(EINVAL), true },
	{ "tunnel VIPs of no local identity", CYPHONIC_CMD_TUNNEL_NEW, 0, b_not_local, E(EINVAL), true },
	{ "TUNNEL_SET of a missing index", CYPHONIC_CMD_TUNNEL_SET, 0, b_set_missing, E(ENOENT), true },
	{ "TUNNEL_DEL of a missing index", CYPHONIC_CMD_TUNNEL_DEL, 0, b_missing_index, E(ENOENT), true },
	{ "TUNNEL_GET of a missing index", CYPHONIC_CMD_TUNNEL_GET, 0, b_missing_index, E(ENOENT), true },
	{ "KEY_SWAP of a missing index", CYPHONIC_CMD_KEY_SWAP, 0, b_missing_index, E(ENOENT), true },
	{ "5-byte ENDPOINT", CYPHONIC_CMD_TUNNEL_SET, 0, b_endpoint_short, E(EINVAL, ERANGE), true },
	{ "ENDPOINT of family AF_UNIX", CYPHONIC_CMD_TUNNEL_SET, 0, b_endpoint_family, E(EINVAL, EAFNOSUPPORT), true },
	{ "cipher change while tunnels exist", CYPHONIC_CMD_DEV_SET, 0, b_cipher_busy, E(EBUSY), true },
	{ "unknown cipher", CYPHONIC_CMD_DEV_SET, 0, b_cipher_unknown, E(EINVAL, ERANGE), true },
	{ "cipher UNSPEC", CYPHONIC_CMD_DEV_SET, 0, b_cipher_unspec, E(EINVAL, ERANGE), true },
	{ "FD4 of /dev/null", CYPHONIC_CMD_DEV_SET, 0, b_fd4_null, E(ENOTSOCK, EINVAL, EBADF), true },
	{ "FD4 of a TCP socket", CYPHONIC_CMD_DEV_SET, 0, b_fd4_tcp, E(EINVAL, EPROTONOSUPPORT, ENOTSOCK), true },
	{ "FD4 not open", CYPHONIC_CMD_DEV_SET, 0, b_fd4_closed, E(EBADF), true },
	{ "FD4 of an AF_INET6 UDP socket", CYPHONIC_CMD_DEV_SET, 0, b_fd4_v6, E(EINVAL, EAFNOSUPPORT), true },
	{ "FD6 of an AF_INET UDP socket", CYPHONIC_CMD_DEV_SET, 0, b_fd6_v4, E(EINVAL, EAFNOSUPPORT), true },
	{ "TUNNEL_UNREACHABLE with an INDEX", CYPHONIC_CMD_TUNNEL_UNREACHABLE, 0, b_tunnel_priv, E(EINVAL), true },
	{ "TUNNEL_UNREACHABLE without a pair", CYPHONIC_CMD_TUNNEL_UNREACHABLE, 0, b_dev_only, E(EINVAL), true },
	{ "TUNNEL_UNREACHABLE with two pairs", CYPHONIC_CMD_TUNNEL_UNREACHABLE, 0, b_unreach_two_pairs, E(EINVAL), true },
	{ "TUNNEL_UNREACHABLE of no local identity", CYPHONIC_CMD_TUNNEL_UNREACHABLE, 0, b_unreach_not_local, E(ENOENT), true },
	/* Refused by the genetlink core, which sets no extack message. */
	{ "unknown command", CYPHONIC_CMD_MAX + 1, 0, b_dev_only, E(EOPNOTSUPP), false },
	{ "notification sent as request", CYPHONIC_CMD_TUNNEL_NEEDED_NTF, 0, b_dev_only, E(EOPNOTSUPP), false },
};

/* Requests that need CAP_NET_ADMIN; sent from a child without it. */
static const struct tcase priv_cases[] = {
	{ "DEV_GET", CYPHONIC_CMD_DEV_GET, 0, b_dev_only, E(EPERM), false },
	{ "DEV_GET dump", CYPHONIC_CMD_DEV_GET, NLM_F_DUMP, b_dev_get_no_dev, E(EPERM), false },
	{ "DEV_SET", CYPHONIC_CMD_DEV_SET, 0, b_workers_same, E(EPERM), false },
	{ "LOCAL_ADD", CYPHONIC_CMD_LOCAL_ADD, 0, b_local_priv, E(EPERM), false },
	{ "LOCAL_GET dump", CYPHONIC_CMD_LOCAL_GET, NLM_F_DUMP, b_dev_only, E(EPERM), false },
	{ "TUNNEL_NEW", CYPHONIC_CMD_TUNNEL_NEW, 0, b_tunnel_priv, E(EPERM), false },
	{ "TUNNEL_GET dump", CYPHONIC_CMD_TUNNEL_GET, NLM_F_DUMP, b_dev_only, E(EPERM), false },
	{ "TUNNEL_DEL", CYPHONIC_CMD_TUNNEL_DEL, 0, b_del_fixture, E(EPERM), false },
	{ "KEY_SWAP", CYPHONIC_CMD_KEY_SWAP, 0, b_del_fixture, E(EPERM), false },
	{ "TUNNEL_UNREACHABLE", CYPHONIC_CMD_TUNNEL_UNREACHABLE, 0, b_unreach_priv, E(EPERM), false },
};

static const char *errname(int e)
{
	static char buf[16];

	switch (e) {
	case 0: return "success";
	case EINVAL: return "EINVAL";
	case ERANGE: return "ERANGE";
	case ENODEV: return "ENODEV";
	case EEXIST: return "EEXIST";
	case ENOENT: return "ENOENT";
	case EBUSY: return "EBUSY";
	case EBADF: return "EBADF";
	case ENOTSOCK: return "ENOTSOCK";
	case EPERM: return "EPERM";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case EKEYREJECTED: return "EKEYREJECTED";
	case EKEYREVOKED: return "EKEYREVOKED";
	}
	snprintf(buf, sizeof(buf), "errno %d", e);
	return buf;
}

static void run_case(struct nl *n, const char *prefix, const struct tcase *c)
{
	struct nl_msg *m = new_msg(n, c->cmd, c->flags);
	bool errno_ok = false, ack_ok;
	int err, i;

	c->build(m);
	err = -exchange(n, m);
	for (i = 0; c->want[i]; i++)
		errno_ok |= err == c->want[i];
	ack_ok = !c->extack || n->extack[0];
	tap(errno_ok && ack_ok, "%s%s: %s, extack \"%s\"%s", prefix, c->name,
	    errname(err), n->extack,
	    !errno_ok ? " (wrong errno)" : !ack_ok ? " (no extack message)" : "");
	if (!errno_ok) {
		printf("#   expected:");
		for (i = 0; c->want[i]; i++)
			printf(" %s", errname(c->want[i]));
		printf("\n");
	}
}

/* ---- fixture ---------------------------------------------------------------- */

static int fixture(struct nl *n, bool add)
{
	struct nl_msg *m;
	struct nlattr *t;
	int err;

	if (add) {
		m = new_msg(n, CYPHONIC_CMD_LOCAL_ADD, 0);
		local(m, FIX_L4, 4, FIX_L6);
		err = exchange(n, m);
		if (err)
			return err;
		m = new_msg(n, CYPHONIC_CMD_TUNNEL_NEW, 0);
		t = tunnel(m, FIX_INDEX, FIX_L4, FIX_R4);
		key_bytes(m, CYPHONIC_KEY_SLOT_PRIMARY, 0, 0xf1, 0xf2);
		key_bytes(m, CYPHONIC_KEY_SLOT_NEXT, 1, 0xf3, 0xf4);
		nla_nest_end(m, t);
		err = exchange(n, m);
		if (err)
			return err;
		/* Key 1 primary, key 0 retired in the next slot. */
		m = new_msg(n, CYPHONIC_CMD_KEY_SWAP, 0);
		nla_nest_end(m, tunnel(m, FIX_INDEX, NULL, NULL));
		return exchange(n, m);
	}
	m = new_msg(n, CYPHONIC_CMD_TUNNEL_DEL, 0);
	nla_nest_end(m, tunnel(m, FIX_INDEX, NULL, NULL));
	err = exchange(n, m);
	m = new_msg(n, CYPHONIC_CMD_LOCAL_DEL, 0);
	local(m, FIX_L4, 4, FIX_L6);
	return exchange(n, m) ?: err;
}

static void read_cipher(const char *snap)
{
	char pat[32];
	const char *p;

	/* DEV_GET's CIPHER attribute as printed by snap_attrs(): " 7=01". */
	snprintf(pat, sizeof(pat), " %d=", CYPHONIC_A_CIPHER);
	p = snap ? strstr(snap, pat) : NULL;
	if (p)
		cur_cipher = (int)strtol(p + strlen(pat), NULL, 16);
}

static void open_fds(void)
{
	fd_null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	fd_tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	fd_udp4 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	fd_udp6 = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
}

/* ---- without CAP_NET_ADMIN ------------------------------------------------- */

static int drop_net_admin(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	const unsigned int bit = 1u << (CAP_NET_ADMIN % 32);
	const int w = CAP_NET_ADMIN / 32;

	if (syscall(SYS_capget, &h, d))
		return -1;
	d[w].effective &= ~bit;
	d[w].permitted &= ~bit;
	d[w].inheritable &= ~bit;
	if (syscall(SYS_capset, &h, d) || syscall(SYS_capget, &h, d))
		return -1;
	return (d[w].effective & bit) ? -1 : 0;
}

/* The child prints its own TAP lines; returns (failures << 8 | count). */
static int unprivileged_child(void)
{
	int base = tap_n;
	struct nl n;
	size_t i;

	tap_fail = 0;
	if (drop_net_admin()) {
		tap(false, "without CAP_NET_ADMIN: cannot drop the capability: %s",
		    strerror(errno));
		return 1 << 8 | 1;
	}
	/* Opened after the drop: netlink checks the opener's capabilities. */
	if (nl_open(&n)) {
		tap(false, "without CAP_NET_ADMIN: cannot open or resolve the family");
		return 1 << 8 | 1;
	}
	tap(true, "without CAP_NET_ADMIN: the family still resolves");
	for (i = 0; i < sizeof(priv_cases) / sizeof(priv_cases[0]); i++)
		run_case(&n, "without CAP_NET_ADMIN: ", &priv_cases[i]);
	return tap_fail << 8 | (tap_n - base);
}

static void run_unprivileged(void)
{
	int pfd[2], res = 0, status;
	pid_t pid;

	fflush(stdout);
	if (pipe(pfd) || (pid = fork()) < 0) {
		tap(false, "without CAP_NET_ADMIN: fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		close(pfd[0]);
		res = unprivileged_child();
		fflush(stdout);
		if (write(pfd[1], &res, sizeof(res)) != sizeof(res))
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	/* The child numbered its lines on from ours; catch up. */
	if (read(pfd[0], &res, sizeof(res)) != sizeof(res))
		res = 1 << 8 | 0;
	close(pfd[0]);
	waitpid(pid, &status, 0);
	tap_n += res & 0xff;
	tap_fail += res >> 8;
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		tap(false, "without CAP_NET_ADMIN: child exited abnormally");
}

int main(int argc, char **argv)
{
	char *s0, *s1, *s2, *s3, *s4;
	struct nl n;
	size_t i;
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: nl_negative DEV\n");
		return 2;
	}
	dev = argv[1];
	ifindex = (int)if_nametoindex(dev);
	printf("TAP version 13\n");
	if (!ifindex || nl_open(&n)) {
		printf("Bail out! no device %s or no family %s\n", dev,
		       CYPHONIC_GENL_NAME);
		return 1;
	}
	s0 = snapshot(&n);
	err = fixture(&n, true);
	tap(!err && s0, "fixture: local identity and tunnel %#x added%s%s", FIX_INDEX,
	    err ? ": " : "", err ? n.extack : "");
	if (err || !s0) {
		fixture(&n, false);
		printf("Bail out! cannot set up the fixture: %s\n", strerror(-err));
		return 1;
	}
	s1 = snapshot(&n);
	/* Proves that a snapshot would show a change. */
	tap(s1 && strcmp(s0, s1), "snapshot shows the fixture");
	read_cipher(s1);
	open_fds();
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		run_case(&n, "", &cases[i]);
	s2 = snapshot(&n);
	check_same(s1, s2, "device unchanged by the bad requests");
	run_unprivileged();
	s3 = snapshot(&n);
	check_same(s1, s3, "device unchanged by the unprivileged requests");
	err = fixture(&n, false);
	tap(!err, "fixture removed%s%s", err ? ": " : "", err ? n.extack : "");
	s4 = snapshot(&n);
	check_same(s0, s4, "device back to its initial state");
	printf("1..%d\n", tap_n);
	free(s0), free(s1), free(s2), free(s3), free(s4);
	nl_socket_free(n.sk);
	return tap_fail ? 1 : 0;
}
