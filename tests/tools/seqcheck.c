// SPDX-License-Identifier: GPL-2.0
/*
 * seqcheck: does a path deliver each flow's packets in order?
 *
 *   seqcheck udp-send DST PORT [--seconds S] [--size BYTES] [--flows N]
 *   seqcheck udp-recv PORT [--seconds S] [--idle MS] [--ready FILE]
 *   seqcheck ipid-watch IFNAME [--seconds S] [--ready FILE]
 *
 * udp-send numbers the datagrams of each flow (one connected socket, so one
 * 5-tuple, per flow) and sends them as fast as it can; udp-recv counts per
 * flow the datagrams that arrive after a higher number (reordered), a second
 * time (duplicate) or never (lost).
 *
 * ipid-watch checks, on the packets a device hands to the stack, that the
 * IPv4 ID of every TCP/UDP flow never steps back. Linux gives each packet a
 * connected socket sends over IPv4 the socket's next ID (retransmissions
 * too), GSO segments get consecutive IDs and GRO merges only consecutive
 * IDs, so in delivery order a flow's IDs increase whatever is lost: a step
 * back is reordering by the path. That works on unmodified applications
 * such as iperf3's TCP streams.
 *
 * The receivers stop after --seconds, on SIGINT/SIGTERM, or (udp-recv, once
 * something arrived) after --idle milliseconds without a datagram; they
 * print one summary line and exit 0: judging the numbers is the caller's
 * job. --ready FILE is created once they listen. Exit 1 on a system error,
 * 2 on bad usage. Summary lines:
 *
 *   sent=N errors=N flows=N        (errors: failed sends, numbers used up)
 *   received=N lost=N reordered=N duplicate=N flows=N invalid=N overflow=N
 *                                  (overflow: this socket's receive-buffer
 *                                   drops, part of lost)
 *   flows=N packets=N tcp=N udp=N backward=N capture_drops=N skipped=N
 *                                  (backward: an ID not above the flow's
 *                                   highest, so a repeat counts too;
 *                                   skipped: not checkable, see below)
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAGIC		0x53455143u	/* "SEQC" */
#define MAX_UDP_FLOWS	64
#define WINDOW		(1u << 16)	/* sequence numbers remembered per flow */
#define MAX_IP_FLOWS	4096		/* power of two: hash table slots */
#define SNAPLEN		128		/* enough for IPv4 options + ports */
#define SHOW_EVENTS	5		/* out-of-order events shown on stderr */
#define RCVBUF		(8 << 20)

static const char *cmd = "";
static volatile sig_atomic_t stop;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: seqcheck udp-send DST PORT [--seconds S] [--size BYTES] [--flows N]\n"
		"       seqcheck udp-recv PORT [--seconds S] [--idle MS] [--ready FILE]\n"
		"       seqcheck ipid-watch IFNAME [--seconds S] [--ready FILE]\n");
}

static void __attribute__((noreturn, format(printf, 1, 2)))
bad_usage(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "seqcheck %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage(stderr);
	exit(2);
}

/* A failed system call: name what failed and why, exit 1. */
static void __attribute__((noreturn, format(printf, 1, 2)))
fail(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	fprintf(stderr, "seqcheck %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(err));
	exit(1);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- arguments --------------------------------------------------------- */

enum { O_SECONDS = 1, O_SIZE = 2, O_FLOWS = 4, O_IDLE = 8, O_READY = 16 };

struct opts {
	unsigned long seconds;	/* 0: no limit */
	unsigned long size;	/* udp-send payload bytes */
	unsigned long flows;
	unsigned long idle_ms;	/* 0: silence does not stop udp-recv */
	const char *ready;
};

static unsigned long parse_num(const char *what, const char *s,
			       unsigned long min, unsigned long max)
{
	unsigned long v;
	char *end;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < min || v > max)
		bad_usage("bad %s '%s' (expected %lu..%lu)", what, s, min, max);
	return v;
}

/* Options after the positional arguments; @allowed is a mask of O_*. */
static void parse_opts(int argc, char **argv, unsigned int allowed,
		       struct opts *o)
{
	static const struct { const char *name; unsigned int bit; } defs[] = {
		{ "--seconds", O_SECONDS }, { "--size", O_SIZE },
		{ "--flows", O_FLOWS }, { "--idle", O_IDLE },
		{ "--ready", O_READY },
	};
	unsigned int bit;

	for (int i = 0; i < argc; i += 2) {
		bit = 0;
		for (size_t d = 0; d < sizeof(defs) / sizeof(defs[0]); d++)
			if (!strcmp(argv[i], defs[d].name))
				bit = defs[d].bit;
		if (!(bit & allowed))
			bad_usage("unknown option '%s'", argv[i]);
		if (i + 1 >= argc)
			bad_usage("option '%s' needs a value", argv[i]);
		switch (bit) {
		case O_SECONDS:
			o->seconds = parse_num("--seconds", argv[i + 1], 0, 86400);
			break;
		case O_SIZE:
			o->size = parse_num("--size", argv[i + 1], 16, 65507);
			break;
		case O_FLOWS:
			o->flows = parse_num("--flows", argv[i + 1], 1,
					     MAX_UDP_FLOWS);
			break;
		case O_IDLE:
			o->idle_ms = parse_num("--idle", argv[i + 1], 0,
					       86400000);
			break;
		case O_READY:
			o->ready = argv[i + 1];
			break;
		}
	}
}

static uint16_t parse_port(const char *s)
{
	return (uint16_t)parse_num("PORT", s, 1, 65535);
}

/* ---- receiver plumbing ------------------------------------------------- */

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* No SA_RESTART: a signal must interrupt poll(). */
static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static void say_ready(const char *path)
{
	int fd;

	if (!path)
		return;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		fail("--ready %s", path);
	close(fd);
}

/* A big receive buffer: a slow reader must lose as little as possible. */
static void big_rcvbuf(int fd)
{
	int size = RCVBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/*
 * Wait up to 100 ms for @fd to be readable. False when it is time to stop:
 * a signal, the --seconds deadline (0: none) or, once @last_ms is set, more
 * than @idle_ms (0: never) of silence.
 */
static bool wait_input(int fd, uint64_t deadline, uint64_t last_ms,
		       unsigned long idle_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	uint64_t now;

	if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
		fail("poll");
	now = now_ms();
	if (stop || (deadline && now >= deadline))
		return false;
	return !(idle_ms && last_ms && now - last_ms >= idle_ms);
}

static uint64_t deadline_of(const struct opts *o)
{
	return o->seconds ? now_ms() + o->seconds * 1000 : 0;
}

/* ---- udp-send ---------------------------------------------------------- */

/* Datagram payload: magic, flow, sequence number, big-endian, then zeros. */
struct seq_hdr {
	uint32_t magic;
	uint32_t flow;
	uint64_t seq;
};

static int connected_socket(const struct addrinfo *ai)
{
	int fd = socket(ai->ai_family, SOCK_DGRAM, 0);

	if (fd < 0)
		fail("socket");
	if (connect(fd, ai->ai_addr, ai->ai_addrlen))
		fail("connect");
	return fd;
}

static int cmd_udp_send(int argc, char **argv)
{
	struct opts o = { .seconds = 5, .size = 1000, .flows = 1 };
	struct addrinfo hints = {
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	unsigned long long sent = 0, errors = 0;
	uint64_t seq[MAX_UDP_FLOWS] = { 0 }, deadline;
	int fds[MAX_UDP_FLOWS], first_err = 0, err;
	struct addrinfo *ai;
	struct seq_hdr h;
	char *buf;

	if (argc < 2)
		bad_usage("needs DST and PORT");
	parse_port(argv[1]);
	parse_opts(argc - 2, argv + 2, O_SECONDS | O_SIZE | O_FLOWS, &o);
	err = getaddrinfo(argv[0], argv[1], &hints, &ai);
	if (err)
		bad_usage("bad DST '%s': %s", argv[0], gai_strerror(err));
	for (unsigned long f = 0; f < o.flows; f++)
		fds[f] = connected_socket(ai);
	freeaddrinfo(ai);
	buf = calloc(1, o.size);
	if (!buf)
		fail("calloc");

	deadline = now_ms() + o.seconds * 1000;
	while (now_ms() < deadline) {
		for (unsigned long f = 0; f < o.flows; f++) {
			h.magic = htobe32(MAGIC);
			h.flow = htobe32((uint32_t)f);
			h.seq = htobe64(seq[f]);
			memcpy(buf, &h, sizeof(h));
			/*
			 * A failed send sent nothing; the number is used up
			 * all the same, so the receiver counts it as lost and
			 * can never mistake a resend for a duplicate.
			 */
			seq[f]++;
			if (send(fds[f], buf, o.size, 0) == (ssize_t)o.size) {
				sent++;
				continue;
			}
			if (!first_err)
				first_err = errno;
			errors++;
		}
	}
	if (first_err)
		fprintf(stderr, "seqcheck udp-send: first send error: %s\n",
			strerror(first_err));
	printf("sent=%llu errors=%llu flows=%lu\n", sent, errors, o.flows);
	free(buf);
	return 0;
}

/* ---- udp-recv ---------------------------------------------------------- */

struct rx_flow {
	uint64_t next;		/* highest sequence number seen + 1 */
	uint64_t unique;	/* distinct sequence numbers received */
	uint64_t seen[WINDOW / 64];	/* bit (seq % WINDOW): received */
};

struct rx_totals {
	unsigned long long received, reordered, duplicate, invalid;
	unsigned int shown;
};

static bool test_and_set(uint64_t *bits, uint64_t seq)
{
	uint64_t b = seq % WINDOW, mask = 1ull << (b % 64);
	bool was = bits[b / 64] & mask;

	bits[b / 64] |= mask;
	return was;
}

static void clear_bit(uint64_t *bits, uint64_t seq)
{
	uint64_t b = seq % WINDOW;

	bits[b / 64] &= ~(1ull << (b % 64));
}

static void rx_account(struct rx_flow *fl, uint32_t flow, uint64_t seq,
		       struct rx_totals *t)
{
	t->received++;
	if (seq >= fl->next) {
		/* New highest: numbers skipped over are not received yet. */
		uint64_t from = seq - fl->next >= WINDOW ? seq - WINDOW + 1
							 : fl->next;

		for (uint64_t s = from; s < seq; s++)
			clear_bit(fl->seen, s);
		test_and_set(fl->seen, seq);
		fl->next = seq + 1;
		fl->unique++;
		return;
	}
	if (fl->next - seq <= WINDOW && test_and_set(fl->seen, seq)) {
		t->duplicate++;
		return;
	}
	/* Late (or too old to tell a duplicate from a late one). */
	t->reordered++;
	fl->unique++;
	if (t->shown++ < SHOW_EVENTS)
		fprintf(stderr, "seqcheck udp-recv: flow %u: %llu after %llu\n",
			flow, (unsigned long long)seq,
			(unsigned long long)fl->next - 1);
}

/* Dual-stack socket bound to PORT (IPv4-only if the host has no IPv6). */
static int udp_listen(uint16_t port)
{
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
				   .sin6_port = htons(port),
				   .sin6_addr = IN6ADDR_ANY_INIT };
	struct sockaddr_in a4 = { .sin_family = AF_INET,
				  .sin_port = htons(port) };
	int off = 0, on = 1, fd;

	fd = socket(AF_INET6, SOCK_DGRAM, 0);
	if (fd >= 0) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
		if (bind(fd, (struct sockaddr *)&a6, sizeof(a6)))
			fail("bind to port %u", port);
	} else {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		if (fd < 0)
			fail("socket");
		if (bind(fd, (struct sockaddr *)&a4, sizeof(a4)))
			fail("bind to port %u", port);
	}
	/* The kernel reports its receive-buffer drops with each datagram. */
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on));
	big_rcvbuf(fd);
	return fd;
}

/* One datagram; false when there is none. Updates *overflow (SO_RXQ_OVFL). */
static bool recv_datagram(int fd, struct seq_hdr *h, ssize_t *len,
			  uint32_t *overflow)
{
	char ctl[CMSG_SPACE(sizeof(uint32_t))];
	struct iovec iov = { .iov_base = h, .iov_len = sizeof(*h) };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl,
			      .msg_controllen = sizeof(ctl) };
	struct cmsghdr *c;

	*len = recvmsg(fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
	if (*len < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return false;
		fail("recvmsg");
	}
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL)
			memcpy(overflow, CMSG_DATA(c), sizeof(*overflow));
	return true;
}

static int cmd_udp_recv(int argc, char **argv)
{
	static struct rx_flow flows[MAX_UDP_FLOWS];
	struct opts o = { 0 };
	struct rx_totals t = { 0 };
	unsigned long long lost = 0;
	uint64_t deadline, last = 0;
	uint32_t overflow = 0, flow;
	unsigned int nflows = 0;
	struct seq_hdr h;
	ssize_t len;
	int fd;

	if (argc < 1)
		bad_usage("needs PORT");
	parse_opts(argc - 1, argv + 1, O_SECONDS | O_IDLE | O_READY, &o);
	fd = udp_listen(parse_port(argv[0]));
	catch_signals();
	say_ready(o.ready);
	deadline = deadline_of(&o);

	while (wait_input(fd, deadline, last, o.idle_ms)) {
		while (recv_datagram(fd, &h, &len, &overflow)) {
			last = now_ms();
			flow = be32toh(h.flow);
			if (len < (ssize_t)sizeof(h) ||
			    be32toh(h.magic) != MAGIC || flow >= MAX_UDP_FLOWS) {
				t.invalid++;
				continue;
			}
			rx_account(&flows[flow], flow, be64toh(h.seq), &t);
		}
	}
	for (flow = 0; flow < MAX_UDP_FLOWS; flow++) {
		if (!flows[flow].next)
			continue;
		nflows++;
		lost += flows[flow].next - flows[flow].unique;
	}
	printf("received=%llu lost=%llu reordered=%llu duplicate=%llu flows=%u invalid=%llu overflow=%u\n",
	       t.received, lost, t.reordered, t.duplicate, nflows, t.invalid,
	       overflow);
	return 0;
}

/* ---- ipid-watch -------------------------------------------------------- */

struct ip_flow {
	uint8_t key[13];	/* saddr, daddr, sport, dport, protocol */
	bool used;
	uint16_t highest;	/* highest IP ID seen (modulo 2^16), 0: none */
};

struct ip_totals {
	unsigned long long packets, tcp, udp, backward, skipped;
	unsigned int flows, shown;
};

static struct ip_flow *flow_find(struct ip_flow *tab, const uint8_t *key,
				 unsigned int *nflows)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	for (int i = 0; i < 13; i++)
		h = (h ^ key[i]) * 16777619u;
	for (unsigned int n = 0; n < MAX_IP_FLOWS; n++) {
		struct ip_flow *fl = &tab[(h + n) % MAX_IP_FLOWS];

		if (!fl->used) {
			fl->used = true;
			memcpy(fl->key, key, sizeof(fl->key));
			(*nflows)++;
			return fl;
		}
		if (!memcmp(fl->key, key, sizeof(fl->key)))
			return fl;
	}
	return NULL;	/* table full */
}

static void show_backward(const uint8_t *key, uint16_t id, uint16_t highest)
{
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN];
	unsigned int sport = (unsigned int)key[8] << 8 | key[9];
	unsigned int dport = (unsigned int)key[10] << 8 | key[11];

	inet_ntop(AF_INET, key, src, sizeof(src));
	inet_ntop(AF_INET, key + 4, dst, sizeof(dst));
	fprintf(stderr,
		"seqcheck ipid-watch: %s %s:%u > %s:%u: id %u after %u\n",
		key[12] == IPPROTO_TCP ? "tcp" : "udp", src, sport, dst, dport,
		id, highest);
}

/* Check one IPv4 packet @p of @len bytes (possibly cut at SNAPLEN). */
static void ipid_account(struct ip_flow *tab, const uint8_t *p, size_t len,
			 struct ip_totals *t)
{
	size_t ihl = len ? (size_t)(p[0] & 15) * 4 : 0;
	uint8_t key[13];
	struct ip_flow *fl;
	uint16_t id;

	/*
	 * Only TCP/UDP with ports (no later fragments). ID 0 is what Linux
	 * puts on DF packets that no connected socket sent (unconnected UDP,
	 * TCP resets and time-wait ACKs from the per-CPU control socket):
	 * those carry no order.
	 */
	if (len < 20 || p[0] >> 4 != 4 || ihl < 20 || len < ihl + 4 ||
	    (p[9] != IPPROTO_TCP && p[9] != IPPROTO_UDP) ||
	    ((p[6] << 8 | p[7]) & 0x1fff) || !(p[4] | p[5])) {
		t->skipped++;
		return;
	}
	id = (uint16_t)(p[4] << 8 | p[5]);
	memcpy(key, p + 12, 8);
	memcpy(key + 8, p + ihl, 4);
	key[12] = p[9];
	fl = flow_find(tab, key, &t->flows);
	if (!fl) {
		t->skipped++;
		return;
	}
	t->packets++;
	if (p[9] == IPPROTO_TCP)
		t->tcp++;
	else
		t->udp++;
	/*
	 * 0 means "nothing yet" as ID 0 is never recorded. Not a step
	 * forward (the same ID again included) is a step back.
	 */
	if (!fl->highest || (int16_t)(id - fl->highest) > 0) {
		fl->highest = id;
		return;
	}
	t->backward++;
	if (t->shown++ < SHOW_EVENTS)
		show_backward(key, id, fl->highest);
}

/*
 * Packet socket on @ifname seeing only what arrives for this host: the
 * filter drops outgoing packets in the kernel and keeps SNAPLEN bytes.
 */
static int packet_listen(const char *ifname)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_HOST, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SNAPLEN),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog prog = { .len = sizeof(code) / sizeof(code[0]),
				   .filter = code };
	struct sockaddr_ll sll = { .sll_family = AF_PACKET,
				   .sll_protocol = htons(ETH_P_ALL) };
	int fd;

	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (!sll.sll_ifindex)
		bad_usage("bad IFNAME '%s': %s", ifname, strerror(errno));
	/* Protocol 0: nothing is queued before the filter and bind are set. */
	fd = socket(AF_PACKET, SOCK_DGRAM, 0);
	if (fd < 0)
		fail("packet socket");
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof(prog)))
		fail("attach filter");
	big_rcvbuf(fd);
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll)))
		fail("bind to %s", ifname);
	return fd;
}

static int cmd_ipid_watch(int argc, char **argv)
{
	static struct ip_flow tab[MAX_IP_FLOWS];
	struct tpacket_stats st = { 0 };
	socklen_t stlen = sizeof(st);
	struct opts o = { 0 };
	struct ip_totals t = { 0 };
	uint8_t buf[SNAPLEN];
	struct sockaddr_ll sll;
	socklen_t slen;
	uint64_t deadline;
	ssize_t len;
	int fd;

	if (argc < 1)
		bad_usage("needs IFNAME");
	parse_opts(argc - 1, argv + 1, O_SECONDS | O_READY, &o);
	fd = packet_listen(argv[0]);
	catch_signals();
	say_ready(o.ready);
	deadline = deadline_of(&o);

	while (wait_input(fd, deadline, 0, 0)) {
		for (;;) {
			slen = sizeof(sll);
			len = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
				       (struct sockaddr *)&sll, &slen);
			if (len < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			if (len < 0)
				fail("recvfrom");
			if (sll.sll_pkttype == PACKET_HOST &&
			    sll.sll_protocol == htons(ETH_P_IP))
				ipid_account(tab, buf, (size_t)len, &t);
		}
	}
	if (getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &st, &stlen))
		fail("PACKET_STATISTICS");
	printf("flows=%u packets=%llu tcp=%llu udp=%llu backward=%llu capture_drops=%u skipped=%llu\n",
	       t.flows, t.packets, t.tcp, t.udp, t.backward, st.tp_drops,
	       t.skipped);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int argc, char **argv);
	} cmds[] = {
		{ "udp-send", cmd_udp_send },
		{ "udp-recv", cmd_udp_recv },
		{ "ipid-watch", cmd_ipid_watch },
	};

	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (!strcmp(argv[1], cmds[i].name)) {
			cmd = cmds[i].name;
			return cmds[i].fn(argc - 2, argv + 2);
		}
	}
	fprintf(stderr, "seqcheck: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
