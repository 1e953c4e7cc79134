/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * cyphonic: the user-space API of the cyphonic kernel data plane.
 *
 * This header is shared by the kernel module (kmod/) and user space
 * (cyphctl, cyphonicd, the cloud services). It defines two things:
 *
 *   1. the on-wire headers of the CYPHONIC UDP protocol, and
 *   2. the generic netlink family "cyphonic" that configures a device.
 *
 * ---------------------------------------------------------------------------
 * Wire format
 * ---------------------------------------------------------------------------
 *
 * Every CYPHONIC packet is one UDP datagram whose payload starts with a
 * one-byte message type (enum cyphonic_msg_type). DATA packets are consumed
 * by the kernel; every other type (handshake, signaling, relay control) is
 * passed to the user-space owner of the UDP socket unchanged, so signaling
 * and data share one 5-tuple and one NAT mapping.
 *
 * A DATA packet is:
 *
 *   outer IPv4/IPv6 | UDP | struct cyphonic_data_hdr | ciphertext | tag
 *
 * where the ciphertext is the AEAD encryption of the whole inner IPv4 or
 * IPv6 packet (virtual-IP header and payload), the 16-byte header is the
 * associated data, and the tag is CYPHONIC_TAG_LEN bytes. The 96-bit nonce
 * is four zero bytes followed by the 64-bit counter in big-endian order.
 * Keys are directional (one per direction), so a (key, counter) pair is
 * never used twice as long as the sender never reuses a counter, which the
 * kernel guarantees by refusing to send at the cipher's message limit and
 * by refusing a key a tunnel has already used (see "Key lifecycle" below).
 *
 * A packet for a tunnel in relay mode is sent to the relay (TRS) with a
 * struct cyphonic_relay_hdr in front of the DATA header. The relay strips
 * that header and forwards the remaining DATA packet, unchanged, to the other
 * end of the session; the relay never holds keys.
 *
 * ---------------------------------------------------------------------------
 * Generic netlink API
 * ---------------------------------------------------------------------------
 *
 * Family CYPHONIC_GENL_NAME, version CYPHONIC_GENL_VERSION. Every command
 * except the notifications needs CAP_NET_ADMIN in the network namespace of
 * the device. Each command names its device by CYPHONIC_A_IFINDEX or
 * CYPHONIC_A_IFNAME (exactly one is required, except for a DEV_GET dump).
 * Attribute policies are strict: unknown attributes, wrong lengths and
 * unknown flag bits are rejected with an errno and an extended-ack message.
 *
 * CYPHONIC_CMD_DEV_GET (do, dump)
 *   reply: IFINDEX, IFNAME, PORT4, PORT6, CIPHER, WORKERS, MAX_TUNNELS,
 *          MAX_LOCALS, STATS
 *   A dump without a device lists every cyphonic device in the namespace.
 *
 * CYPHONIC_CMD_DEV_SET (do)
 *   FD4     a bound AF_INET UDP socket owned by user space. The kernel
 *           installs its encap_rcv hook on it and uses it for as long as
 *           user space keeps it open: when the last descriptor is closed
 *           (or its owner dies) the device lets go of it and stops sending
 *           on that family (TX_DROP_NO_SOCKET) until it gets a new one.
 *           The caller needs CAP_NET_ADMIN in the socket's network
 *           namespace too (-EPERM), which may differ from the device's.
 *   FD6     the same for an AF_INET6 (IPV6_V6ONLY) socket.
 *   DETACH  u8, CYPHONIC_DETACH_F_*: give the IPv4 and/or IPv6 socket
 *           back to user space (the kernel stops using it). Not together
 *           with the FD of the same family.
 *   CIPHER  enum cyphonic_cipher; only while the device has no tunnels.
 *   WORKERS 0 = all online CPUs, 1 = serial baseline, N = at most N.
 *   MAX_TUNNELS, MAX_LOCALS  the most tunnels / local identities the device
 *           holds (defaults CYPHONIC_DEFAULT_MAX_*); a TUNNEL_NEW or
 *           LOCAL_ADD past them is refused with -ENOSPC and an extended
 *           ack. Not below the number the device has (-EBUSY).
 *
 * CYPHONIC_CMD_LOCAL_ADD, CYPHONIC_CMD_LOCAL_DEL (do)
 *   LOCAL { VIP4 and/or VIP6 }: a local identity, i.e. the VIPs of one
 *   entity served by this device (the node itself, or on an adapter the
 *   adapter and each of its general nodes). A tunnel's local VIPs must be
 *   those of a local identity. Deleting an identity deletes its tunnels.
 *
 * CYPHONIC_CMD_LOCAL_GET (dump)
 *   one message per identity: IFINDEX, LOCAL { VIP4, VIP6 }
 *
 * CYPHONIC_CMD_TUNNEL_NEW (do)
 *   TUNNEL {
 *     INDEX       u32, non-zero, unique in the device: the receiver index
 *                 peers put in DATA packets sent to us (chosen by user space)
 *     PEER_INDEX  u32: the receiver index we put in packets to the peer
 *     LOCAL4, REMOTE4, LOCAL6, REMOTE6: the tunnel's VIPs; at least one
 *                 complete pair (LOCAL4+REMOTE4 or LOCAL6+REMOTE6)
 *     ENDPOINT    struct sockaddr_in or struct sockaddr_in6 (optional)
 *     RELAY       u32 relay session id, 0 = direct (optional)
 *     KEY { SLOT, ID, TX, RX } (optional, may be repeated once per slot)
 *   }
 *   Packets staged for the tunnel's VIP pairs are sent once it has a key.
 *
 * CYPHONIC_CMD_TUNNEL_SET (do)
 *   TUNNEL { INDEX, and any of ENDPOINT, RELAY, KEY }
 *   A KEY with SLOT = NEXT installs the next key (RX accepts both slots);
 *   a KEY with SLOT = PRIMARY replaces the primary key. Key rules (refused
 *   with an errno and an extended-ack message, nothing installed):
 *     - TX and RX of a KEY must differ (-EINVAL);
 *     - a key (TX or RX bytes) this tunnel has used before, in either
 *       slot or direction, is refused (-EKEYREJECTED): reusing it would
 *       restart its counter and repeat AEAD nonces;
 *     - a tunnel remembers CYPHONIC_KEY_HISTORY keys; past that, every
 *       install is refused (-ENOSPC): create a new tunnel.
 *
 * CYPHONIC_CMD_TUNNEL_DEL (do)
 *   TUNNEL { INDEX }
 *
 * CYPHONIC_CMD_TUNNEL_GET (do with TUNNEL { INDEX }, dump of the device)
 *   TUNNEL { INDEX, PEER_INDEX, LOCAL4, REMOTE4, LOCAL6, REMOTE6, ENDPOINT,
 *            RELAY, KEY { SLOT, ID, AGE_MS, TX_COUNTER, RX_COUNTER,
 *            TX_LIMIT, RETIRED_MS }..., LAST_RX_MS, STATS }
 *   Key material is never returned.
 *
 * CYPHONIC_CMD_TUNNEL_UNREACHABLE (do)
 *   TUNNEL { LOCAL4, REMOTE4 } or TUNNEL { LOCAL6, REMOTE6 }: user space
 *   found that no tunnel can be made for this pair (the answer to a
 *   TUNNEL_NEEDED_NTF it cannot satisfy, e.g. the route direction failed).
 *   The packets staged for the pair are dropped at once with an ICMP (v6:
 *   ICMPv6) host/address unreachable to their sender (TX_DROP_UNREACHABLE,
 *   TX_ICMP_UNREACHABLE), and for CYPHONIC_STAGED_TIMEOUT_MS so is every
 *   new packet for the pair, without staging or TUNNEL_NEEDED_NTF; after
 *   that the next packet is staged and notified again (a retry). A tunnel
 *   for the pair (TUNNEL_NEW) lifts it at once. -ENOENT if the local VIP is
 *   no local identity's, -ENOSPC if the staging table is full.
 *
 * CYPHONIC_CMD_TUNNEL_EXPECT (do)
 *   TUNNEL { INDEX }: user space is setting up a tunnel with this index (a
 *   handshake it answered). For CYPHONIC_EARLY_TIMEOUT_MS, up to
 *   CYPHONIC_EARLY_PACKETS DATA packets that arrive for the index are held
 *   (RX_EARLY_HELD) instead of dropped as RX_DROP_UNKNOWN_INDEX, and
 *   received when TUNNEL_NEW creates the tunnel: the peer may send its first
 *   packet right behind its last handshake flight. At most
 *   CYPHONIC_EARLY_INDICES indices per device are expected; a new one
 *   replaces the one ending first, and packets of an ended expectation are
 *   dropped (RX_DROP_EARLY_TIMEOUT). -EEXIST if a tunnel has the index.
 *
 * CYPHONIC_CMD_KEY_SWAP (do)
 *   TUNNEL { INDEX }: the next key becomes primary (TX switches to it) and
 *   the old primary stays as next, retired, for packets still in flight. The
 *   receiver also promotes its next key by itself on the first authenticated
 *   packet under that key (KEY_PROMOTED_NTF), so a rekey needs a swap on one
 *   side only and loses no packet. -ENOKEY without a next key; -EKEYREVOKED
 *   when the next slot holds a retired key (one that was primary): swapping
 *   would put it back in use.
 *
 * Key lifecycle. A key is primary (TX and RX), next (RX only; promoted on
 * its first authenticated packet) or retired (RX only, for packets in
 * flight, for CYPHONIC_RETIRED_RX_SECONDS after it left the primary slot;
 * never promoted again). Limits per key:
 *   messages  TX stops at the cipher's REJECT_AFTER_MESSAGES
 *             (TX_DROP_KEY_EXHAUSTED), RX refuses counters from there on
 *             (RX_DROP_KEY_EXPIRED); KEY_LIMIT_NTF at REKEY_AFTER_MESSAGES.
 *   time      TX and RX stop CYPHONIC_REJECT_AFTER_SECONDS after the key
 *             was installed (TX_DROP_KEY_EXPIRED, RX_DROP_KEY_EXPIRED);
 *             KEY_LIMIT_NTF at CYPHONIC_REKEY_AFTER_SECONDS.
 *
 * Notifications, multicast group CYPHONIC_MCGRP_EVENTS (joining the events
 * group needs CAP_NET_ADMIN):
 *
 * CYPHONIC_CMD_TUNNEL_NEEDED_NTF
 *   IFINDEX, TUNNEL { LOCAL4, REMOTE4 } or TUNNEL { LOCAL6, REMOTE6 }
 *   Traffic from a local identity to a VIP with no tunnel. The first packets
 *   are staged (GSO packets segmented first; CYPHONIC_STAGED_PAIR_BYTES of
 *   skb memory per pair, CYPHONIC_STAGED_BYTES and CYPHONIC_STAGED_PAIRS
 *   pairs per device, for CYPHONIC_STAGED_TIMEOUT_MS) and sent when a tunnel
 *   for the pair gets a key; the rest are dropped and counted. A packet
 *   still staged at the timeout is dropped (TX_DROP_STAGED_TIMEOUT) with an
 *   ICMP host (ICMPv6 address) unreachable to its sender, so applications
 *   fail fast; so is a packet whose source VIP is no local identity's
 *   (TX_DROP_NO_TUNNEL). See also TUNNEL_UNREACHABLE.
 *
 * CYPHONIC_CMD_KEY_LIMIT_NTF
 *   IFINDEX, TUNNEL { INDEX, KEY { SLOT, ID, TX_COUNTER, AGE_MS, TX_LIMIT } }
 *   The primary key reached its rekey message count or age (sent once per
 *   key, when sending): rekey now, the hard limit follows.
 *
 * CYPHONIC_CMD_KEY_PROMOTED_NTF
 *   IFINDEX, TUNNEL { INDEX, KEY { SLOT = PRIMARY, ID } }
 *   The peer switched to our next key, so we did too: the next key is now
 *   primary and the old primary retired. A pending KEY_SWAP is no longer
 *   needed (and is refused).
 *
 * CYPHONIC_CMD_ENDPOINT_NTF
 *   IFINDEX, TUNNEL { INDEX, ENDPOINT, RELAY }
 *   An authenticated packet arrived from a new source (roaming).
 */

#ifndef _UAPI_LINUX_CYPHONIC_H
#define _UAPI_LINUX_CYPHONIC_H

#include <linux/types.h>

#define CYPHONIC_GENL_NAME "cyphonic"
#define CYPHONIC_GENL_VERSION 1
#define CYPHONIC_MCGRP_EVENTS "events"
#define CYPHONIC_LINK_KIND "cyphonic"

/* ---- wire format ------------------------------------------------------- */

enum cyphonic_msg_type {
	CYPHONIC_MSG_DATA = 1,		/* encrypted inner packet; kernel */
	CYPHONIC_MSG_HANDSHAKE = 2,	/* end-to-end key agreement; user */
	CYPHONIC_MSG_SIGNAL = 3,	/* node <-> NMS signaling; user */
	CYPHONIC_MSG_RELAY = 4,		/* node -> TRS, relay header; user/TRS */
	CYPHONIC_MSG_RELAY_CTRL = 5,	/* node <-> TRS session control */
};

/*
 * cyphonic_data_hdr.flags: the low two bits carry the key id.
 *
 * CSUM_PARTIAL: the sender left the inner TCP or UDP checksum unfinished
 * (the kernel's CHECKSUM_PARTIAL: the field holds the pseudo-header sum),
 * since the AEAD covers every byte of the inner packet anyway. Only set for
 * an unfragmented packet whose TCP/UDP header follows the IPv4 or IPv6
 * header directly; the receiver marks the opened packet CHECKSUM_PARTIAL
 * at that place, so local delivery needs no checksum and a packet it
 * forwards gets its checksum completed on the way out (as from a virtio
 * NIC). A flagged packet of any other shape is dropped as a bad inner
 * packet. The flag is in the header, so the AEAD authenticates it.
 */
#define CYPHONIC_DATA_F_KEY_ID_MASK 0x03
#define CYPHONIC_DATA_F_CSUM_PARTIAL 0x04
#define CYPHONIC_DATA_F_ALL (CYPHONIC_DATA_F_KEY_ID_MASK | \
			     CYPHONIC_DATA_F_CSUM_PARTIAL)

struct cyphonic_data_hdr {
	__u8 type;		/* CYPHONIC_MSG_DATA */
	__u8 flags;		/* CYPHONIC_DATA_F_* ; other bits must be 0 */
	__be16 reserved;	/* must be 0 */
	__be32 receiver_index;	/* tunnel index chosen by the receiver */
	__be64 counter;		/* per-key packet counter, nonce source */
};

struct cyphonic_relay_hdr {
	__u8 type;		/* CYPHONIC_MSG_RELAY */
	__u8 flags;		/* must be 0 */
	__be16 reserved;	/* must be 0 */
	__be32 session;		/* relay session id allocated via the NMS */
};

#define CYPHONIC_KEY_LEN 32
#define CYPHONIC_TAG_LEN 16
#define CYPHONIC_NONCE_LEN 12
#define CYPHONIC_DEFAULT_MTU 1420
#define CYPHONIC_REPLAY_WINDOW 4096	/* packets accepted out of order */

/*
 * Message limits per key and direction. ChaCha20-Poly1305 has no practical
 * confidentiality limit (RFC 9001 section 6.6: more than 2^62 packets), so
 * only the 64-bit counter bounds it, with WireGuard's margins. AES-GCM's
 * confidentiality limit is 2^23 packets of up to 2^16 bytes (RFC 9001
 * section 6.6 and appendix B.1), with the rekey event at three quarters.
 */
#define CYPHONIC_REKEY_AFTER_MESSAGES (1ULL << 60)
#define CYPHONIC_REJECT_AFTER_MESSAGES (~0ULL - (1ULL << 13))
#define CYPHONIC_AES_GCM_REKEY_AFTER_MESSAGES ((1ULL << 23) - (1ULL << 21))
#define CYPHONIC_AES_GCM_REJECT_AFTER_MESSAGES (1ULL << 23)

/* Time limits per key; a retired key is accepted this long for RX. */
#define CYPHONIC_REKEY_AFTER_SECONDS 3600
#define CYPHONIC_REJECT_AFTER_SECONDS 3900
#define CYPHONIC_RETIRED_RX_SECONDS 15

/*
 * Tunnels and local identities a device holds at most (CYPHONIC_A_MAX_*):
 * the defaults, and the highest values DEV_SET accepts.
 */
#define CYPHONIC_DEFAULT_MAX_TUNNELS 1024
#define CYPHONIC_DEFAULT_MAX_LOCALS 256
#define CYPHONIC_MAX_TUNNELS_LIMIT (1 << 20)
#define CYPHONIC_MAX_LOCALS_LIMIT (1 << 16)

/* Keys (TX and RX counted apart) a tunnel remembers to refuse reuse. */
#define CYPHONIC_KEY_HISTORY 1024

/*
 * Packets waiting for a tunnel ("tunnel needed"), bounded in bytes of skb
 * memory (truesize), so packet size does not matter: per pair about 28
 * full-size (1420-byte MTU) packets, per device 1 MiB.
 */
#define CYPHONIC_STAGED_PAIR_BYTES (64 * 1024)
#define CYPHONIC_STAGED_BYTES (1024 * 1024)
#define CYPHONIC_STAGED_PAIRS 256
#define CYPHONIC_STAGED_TIMEOUT_MS 5000

/*
 * DATA for a tunnel being set up (CYPHONIC_CMD_TUNNEL_EXPECT): indices
 * expected per device, packets held per index, and how long.
 */
#define CYPHONIC_EARLY_INDICES 32
#define CYPHONIC_EARLY_PACKETS 4
#define CYPHONIC_EARLY_TIMEOUT_MS 10000

/* ---- generic netlink --------------------------------------------------- */

enum cyphonic_cmd {
	CYPHONIC_CMD_UNSPEC,
	CYPHONIC_CMD_DEV_GET,
	CYPHONIC_CMD_DEV_SET,
	CYPHONIC_CMD_LOCAL_ADD,
	CYPHONIC_CMD_LOCAL_DEL,
	CYPHONIC_CMD_LOCAL_GET,
	CYPHONIC_CMD_TUNNEL_NEW,
	CYPHONIC_CMD_TUNNEL_SET,
	CYPHONIC_CMD_TUNNEL_DEL,
	CYPHONIC_CMD_TUNNEL_GET,
	CYPHONIC_CMD_KEY_SWAP,
	CYPHONIC_CMD_TUNNEL_NEEDED_NTF,
	CYPHONIC_CMD_KEY_LIMIT_NTF,
	CYPHONIC_CMD_ENDPOINT_NTF,
	CYPHONIC_CMD_KEY_PROMOTED_NTF,
	CYPHONIC_CMD_TUNNEL_UNREACHABLE,
	CYPHONIC_CMD_TUNNEL_EXPECT,
	__CYPHONIC_CMD_MAX
};
#define CYPHONIC_CMD_MAX (__CYPHONIC_CMD_MAX - 1)

enum cyphonic_cipher {
	CYPHONIC_CIPHER_UNSPEC,
	CYPHONIC_CIPHER_AES_GCM,		/* "gcm(aes)", the default */
	CYPHONIC_CIPHER_CHACHA20_POLY1305,	/* "rfc7539(chacha20,poly1305)" */
	__CYPHONIC_CIPHER_MAX
};
#define CYPHONIC_CIPHER_MAX (__CYPHONIC_CIPHER_MAX - 1)

/* Top-level attributes. */
enum cyphonic_attr {
	CYPHONIC_A_UNSPEC,
	CYPHONIC_A_IFINDEX,	/* u32 */
	CYPHONIC_A_IFNAME,	/* NUL-terminated string, < IFNAMSIZ */
	CYPHONIC_A_FD4,		/* u32, set only */
	CYPHONIC_A_FD6,		/* u32, set only */
	CYPHONIC_A_PORT4,	/* u16, host order, get only; 0 = no socket */
	CYPHONIC_A_PORT6,	/* u16, host order, get only; 0 = no socket */
	CYPHONIC_A_CIPHER,	/* u8, enum cyphonic_cipher */
	CYPHONIC_A_WORKERS,	/* u32 */
	CYPHONIC_A_STATS,	/* nest of enum cyphonic_stat, each u64 */
	CYPHONIC_A_LOCAL,	/* nest of enum cyphonic_local_attr */
	CYPHONIC_A_TUNNEL,	/* nest of enum cyphonic_tunnel_attr */
	CYPHONIC_A_PAD,
	CYPHONIC_A_DETACH,	/* u8, CYPHONIC_DETACH_F_*, set only */
	CYPHONIC_A_MAX_TUNNELS,	/* u32, 1..CYPHONIC_MAX_TUNNELS_LIMIT */
	CYPHONIC_A_MAX_LOCALS,	/* u32, 1..CYPHONIC_MAX_LOCALS_LIMIT */
	__CYPHONIC_A_MAX
};
#define CYPHONIC_A_MAX (__CYPHONIC_A_MAX - 1)

/* CYPHONIC_A_DETACH: which sockets to give back. */
#define CYPHONIC_DETACH_F_4 0x01
#define CYPHONIC_DETACH_F_6 0x02
#define CYPHONIC_DETACH_F_ALL (CYPHONIC_DETACH_F_4 | CYPHONIC_DETACH_F_6)

enum cyphonic_local_attr {
	CYPHONIC_LOCAL_A_UNSPEC,
	CYPHONIC_LOCAL_A_VIP4,	/* struct in_addr, 4 bytes */
	CYPHONIC_LOCAL_A_VIP6,	/* struct in6_addr, 16 bytes */
	__CYPHONIC_LOCAL_A_MAX
};
#define CYPHONIC_LOCAL_A_MAX (__CYPHONIC_LOCAL_A_MAX - 1)

enum cyphonic_tunnel_attr {
	CYPHONIC_TUNNEL_A_UNSPEC,
	CYPHONIC_TUNNEL_A_INDEX,	/* u32, non-zero */
	CYPHONIC_TUNNEL_A_PEER_INDEX,	/* u32 */
	CYPHONIC_TUNNEL_A_LOCAL4,	/* struct in_addr */
	CYPHONIC_TUNNEL_A_REMOTE4,	/* struct in_addr */
	CYPHONIC_TUNNEL_A_LOCAL6,	/* struct in6_addr */
	CYPHONIC_TUNNEL_A_REMOTE6,	/* struct in6_addr */
	CYPHONIC_TUNNEL_A_ENDPOINT,	/* struct sockaddr_in or sockaddr_in6 */
	CYPHONIC_TUNNEL_A_RELAY,	/* u32 relay session id, 0 = direct */
	CYPHONIC_TUNNEL_A_KEY,		/* nest of enum cyphonic_key_attr */
	CYPHONIC_TUNNEL_A_LAST_RX_MS,	/* u64, ms since last authenticated rx */
	CYPHONIC_TUNNEL_A_STATS,	/* nest of enum cyphonic_stat */
	CYPHONIC_TUNNEL_A_PAD,
	__CYPHONIC_TUNNEL_A_MAX
};
#define CYPHONIC_TUNNEL_A_MAX (__CYPHONIC_TUNNEL_A_MAX - 1)

enum cyphonic_key_slot {
	CYPHONIC_KEY_SLOT_PRIMARY,
	CYPHONIC_KEY_SLOT_NEXT,
	__CYPHONIC_KEY_SLOT_MAX
};
#define CYPHONIC_KEY_SLOT_MAX (__CYPHONIC_KEY_SLOT_MAX - 1)

enum cyphonic_key_attr {
	CYPHONIC_KEY_A_UNSPEC,
	CYPHONIC_KEY_A_SLOT,		/* u8, enum cyphonic_key_slot */
	CYPHONIC_KEY_A_ID,		/* u8, 0..CYPHONIC_DATA_F_KEY_ID_MASK */
	CYPHONIC_KEY_A_TX,		/* CYPHONIC_KEY_LEN bytes, set only */
	CYPHONIC_KEY_A_RX,		/* CYPHONIC_KEY_LEN bytes, set only */
	CYPHONIC_KEY_A_AGE_MS,		/* u64, get only */
	CYPHONIC_KEY_A_TX_COUNTER,	/* u64, get only: next counter to send */
	CYPHONIC_KEY_A_RX_COUNTER,	/* u64, get only: highest accepted */
	CYPHONIC_KEY_A_PAD,
	CYPHONIC_KEY_A_TX_LIMIT,	/* u64, get only: TX stops at this counter */
	CYPHONIC_KEY_A_RETIRED_MS,	/* u64, get only: ms since it was demoted */
	__CYPHONIC_KEY_A_MAX
};
#define CYPHONIC_KEY_A_MAX (__CYPHONIC_KEY_A_MAX - 1)

/*
 * Counters, in a STATS nest of a device (all of them) or of a tunnel (those
 * that can be attributed to a tunnel). Every drop reason has its own
 * counter. User space prints each as the lower-case name after
 * "CYPHONIC_STAT_" (e.g. "rx_drop_auth"). On architectures that need 64-bit
 * alignment the kernel pads with attributes of type CYPHONIC_STAT_UNSPEC
 * (0) inside a STATS nest; readers ignore type 0.
 */
enum cyphonic_stat {
	CYPHONIC_STAT_UNSPEC,
	CYPHONIC_STAT_RX_PACKETS,
	CYPHONIC_STAT_RX_BYTES,
	CYPHONIC_STAT_TX_PACKETS,
	CYPHONIC_STAT_TX_BYTES,
	CYPHONIC_STAT_RX_CONTROL,	  /* non-DATA passed to the socket */
	CYPHONIC_STAT_RX_DROP_BAD_HEADER, /* truncated or malformed header */
	CYPHONIC_STAT_RX_DROP_UNKNOWN_INDEX, /* no tunnel with that index */
	CYPHONIC_STAT_RX_DROP_NO_KEY,	  /* key id matches no key slot */
	CYPHONIC_STAT_RX_DROP_AUTH,	  /* AEAD authentication failed */
	CYPHONIC_STAT_RX_DROP_REPLAY,	  /* counter replayed or too old */
	CYPHONIC_STAT_RX_DROP_CRYPTOKEY,  /* inner VIPs not the tunnel's */
	CYPHONIC_STAT_RX_DROP_BAD_INNER,  /* decrypted data is not IPv4/6 */
	CYPHONIC_STAT_RX_DROP_QUEUE_FULL, /* receive queue full */
	CYPHONIC_STAT_TX_DROP_NO_TUNNEL,  /* source is no local identity */
	CYPHONIC_STAT_TX_DROP_STAGED_FULL,    /* staging for a pair full */
	CYPHONIC_STAT_TX_DROP_STAGED_TIMEOUT, /* no tunnel came in time */
	CYPHONIC_STAT_TX_DROP_NO_KEY,	  /* tunnel has no usable key */
	CYPHONIC_STAT_TX_DROP_NO_ENDPOINT, /* tunnel has no endpoint/socket */
	CYPHONIC_STAT_TX_DROP_BAD_INNER,  /* not an IPv4/IPv6 packet */
	CYPHONIC_STAT_TX_DROP_QUEUE_FULL, /* transmit queue full */
	CYPHONIC_STAT_TX_DROP_SEND_ERROR, /* no route / socket error */
	CYPHONIC_STAT_TX_DROP_KEY_EXHAUSTED, /* counter at reject limit */
	CYPHONIC_STAT_TX_DROP_KEY_EXPIRED, /* primary key past its time limit */
	CYPHONIC_STAT_RX_DROP_KEY_EXPIRED, /* key past a limit, or retired too long */
	CYPHONIC_STAT_TX_DROP_NO_SOCKET,  /* user space closed/detached it */
	CYPHONIC_STAT_RX_DROP_TOO_LONG,	  /* DATA longer than any inner packet */
	CYPHONIC_STAT_TX_DROP_QUEUE_SHARE, /* tunnel over its share of the queue */
	CYPHONIC_STAT_RX_DROP_QUEUE_SHARE, /* tunnel over its share of the queue */
	CYPHONIC_STAT_TX_DROP_ROUTE_LOOP, /* endpoint routed via this device */
	CYPHONIC_STAT_TX_DROP_UNREACHABLE, /* user space: no tunnel can be made */
	CYPHONIC_STAT_TX_ICMP_UNREACHABLE, /* ICMP errors sent for undeliverable */
	CYPHONIC_STAT_TX_GSO_SENDS,	  /* trains of segments sent as one UDP GSO skb */
	CYPHONIC_STAT_RX_EARLY_HELD,	  /* DATA held for an expected index */
	CYPHONIC_STAT_RX_DROP_EARLY_TIMEOUT, /* held, but no tunnel came in time */
	CYPHONIC_STAT_TX_GSO_SHARED,	  /* trains carrying more than one tunnel's packets */
	CYPHONIC_STAT_RX_TRAIN_UNITS,	  /* received units of several datagrams */
	CYPHONIC_STAT_TX_DROP_QUEUE_DELAY, /* tunnel's queue wait stayed long (CoDel) */
	CYPHONIC_STAT_RX_DROP_QUEUE_DELAY, /* tunnel's queue wait stayed long (CoDel) */
	__CYPHONIC_STAT_MAX
};
#define CYPHONIC_STAT_MAX (__CYPHONIC_STAT_MAX - 1)

#endif /* _UAPI_LINUX_CYPHONIC_H */
