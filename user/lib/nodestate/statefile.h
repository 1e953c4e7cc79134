/* SPDX-License-Identifier: MIT */
/*
 * The daemon's state file: cyphonicd writes it (atomically: temporary
 * file and rename) whenever its tunnels change, and removes it at exit;
 * `cyphctl show` reads it. A passive file rather than a socket, so that
 * reading it needs no cooperation from a busy or stuck daemon and cyphctl
 * works the same without one. A file left by a daemon that died is
 * recognised: it names the writer's pid and the device's ifindex, and a
 * reader believes it only while both still match (nodestate_live).
 *
 * Name: DIR/DEVICE.NETNS.state, NETNS the inode of the network namespace
 * the device lives in, so daemons in different namespaces of one host
 * (each with its cyph0) share DIR without clashing.
 *
 * Format (version 1): text, one record per line, "key value" pairs:
 *
 *	cyphonicd 1 pid P ifindex I device DEV node FQDN
 *	tunnel INDEX path direct|punched|relayed peer FQDN role initiator|responder
 *	       handshake_unix_ms T route_ms R|- handshake_ms H rekeys N
 *
 *	gnode NAME fqdn FQDN mac MAC method basic|mac|8021x vip VIP|-
 *	      state down|admitted|up|blocked why TEXT
 *
 * (each tunnel and each general node on one line). route_ms is "-" for a
 * responder (it asked for no route). gnode lines come from an adapter
 * (docs/cyphonicd.md, "Adapter"): one per general node it serves, why
 * (the rest of the line, "-" when none) says why it is not up. Lines that
 * do not parse are skipped and counted.
 */
#ifndef CYPHONIC_NODESTATE_STATEFILE_H
#define CYPHONIC_NODESTATE_STATEFILE_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NODESTATE_DIR "/run/cyphonic"	/* default; env CYPHONIC_RUNTIME_DIR */
#define NODESTATE_VERSION 1
#define NODESTATE_MAX_TUNNELS 65536
#define NODESTATE_FQDN_MAX 256

struct nodestate_header {
	int pid;
	uint32_t ifindex;
	char device[IF_NAMESIZE];
	char node[NODESTATE_FQDN_MAX];
	char nat[12];			/* its NAT's mapping type (cyphonicd nattype.c); "": not told */
};

struct nodestate_tunnel {
	uint32_t index;
	char path[12];			/* direct, punched, relayed */
	char peer[NODESTATE_FQDN_MAX];
	bool initiator;
	int64_t handshake_unix_ms;	/* when the last handshake ended */
	int64_t route_ms;		/* -1: none (responder) */
	int64_t handshake_ms;
	uint32_t rekeys;
};

/* One general node of an adapter. */
struct nodestate_gnode {
	char name[64];
	char fqdn[NODESTATE_FQDN_MAX];
	char mac[18];
	char method[8];			/* basic, mac, 8021x */
	char vip[46];			/* its VIP (its IP mode), "-" while none */
	char state[12];			/* down, admitted, up, blocked */
	char why[160];			/* "-": nothing to say */
};

#define NODESTATE_MAX_GNODES 65536

struct nodestate {
	struct nodestate_header h;
	struct nodestate_tunnel *t;
	size_t n;
	struct nodestate_gnode *g;
	size_t ng;
	size_t malformed;		/* lines skipped */
};

/* The inode of this process's network namespace (0 when unknown). */
uint64_t nodestate_netns(void);
/* DIR/DEVICE.NETNS.state; dir NULL: $CYPHONIC_RUNTIME_DIR or NODESTATE_DIR. */
int nodestate_path(char *out, size_t len, const char *dir, const char *device,
		   uint64_t netns);
/*
 * Writes the file's text into buf (snprintf-like: returns the length it
 * needs, which may exceed len; the text is complete only when < len).
 */
size_t nodestate_format(char *buf, size_t len, const struct nodestate_header *h,
			const struct nodestate_tunnel *t, size_t n);
/* The gnode lines of n general nodes, appended after nodestate_format's text (same contract). */
size_t nodestate_format_gnodes(char *buf, size_t len, const struct nodestate_gnode *g, size_t n);
/* Parses text; 0, or -1 when the header line is missing or bad, or OOM. */
int nodestate_parse(const char *text, struct nodestate *out);
/* Reads and parses path: 0, -1 with errno (ENOENT: no daemon wrote it). */
int nodestate_read(const char *path, struct nodestate *out);
void nodestate_free(struct nodestate *s);
/* The writer still runs and the file is about the device ifindex. */
bool nodestate_live(const struct nodestate *s, uint32_t ifindex);
const struct nodestate_tunnel *nodestate_find(const struct nodestate *s, uint32_t index);
/* A path name the format allows. */
bool nodestate_path_ok(const char *path);

#endif
