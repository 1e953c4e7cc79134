/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Keys and the two key slots (primary, next) of a tunnel: the whole key
 * lifecycle (install, limits, swap, promotion, expiry) lives in keys.c.
 */
#ifndef _CYPH_KEYS_H
#define _CYPH_KEYS_H

#include <linux/atomic.h>
#include <linux/cyphonic.h>
#include <linux/kref.h>
#include <linux/netlink.h>
#include <linux/siphash.h>
#include <linux/workqueue.h>

#include "replay.h"

struct cyph_aead;

struct cyph_tunnel;

/* What a request asks to install in one slot; the bytes stay in the request. */
struct cyph_key_cfg {
	bool set;
	u8 id;
	const u8 *tx;
	const u8 *rx;
};

/* cyph_key.flags */
enum {
	CYPH_KEY_LIMIT_SENT,	/* KEY_LIMIT event sent for this key */
};

/* One key id: an AEAD per direction, its counters, replay window, limits. */
struct cyph_key {
	struct cyph_aead *tx;
	struct cyph_aead *rx;
	atomic64_t tx_counter;		/* next counter to send */
	struct cyph_replay replay;
	u64 rekey_msgs;			/* KEY_LIMIT event at this counter */
	u64 reject_msgs;		/* TX stops, RX refuses from here */
	u64 created;			/* jiffies64 */
	u64 retired;			/* jiffies64 it left primary, 0: never */
	unsigned long flags;
	u8 id;
	struct kref ref;
	struct rcu_work free_work;
};

/*
 * Fingerprints of every key a tunnel has installed: a SipHash of the key
 * bytes under a random per-tunnel salt, so the memory reveals nothing
 * about the keys (not even whether two tunnels share one).
 */
struct cyph_key_history {
	siphash_key_t salt;
	unsigned int n;
	unsigned int cap;
	u64 *fp;
};

/*
 * Readers use RCU and take a reference; slot writers hold @lock. Installs
 * are serialised by the caller (the device's configuration lock), which
 * is what protects @used.
 */
struct cyph_keyring {
	spinlock_t lock;	/* slot writers: netlink, RX promotion */
	struct cyph_key __rcu *slot[__CYPHONIC_KEY_SLOT_MAX];
	struct cyph_key_history used;
	struct cyph_tunnel *tunnel;	/* for events; NULL: none */
};

int cyph_keys_init(void);
void cyph_keys_exit(void);

struct cyph_key *cyph_key_create(enum cyphonic_cipher cipher, u8 id,
				 const u8 *tx, const u8 *rx);
void cyph_key_put(struct cyph_key *key);

void cyph_keyring_init(struct cyph_keyring *kr, struct cyph_tunnel *t);
void cyph_keyring_destroy(struct cyph_keyring *kr);
int cyph_keyring_set(struct cyph_keyring *kr, enum cyphonic_cipher cipher,
		     const struct cyph_key_cfg *cfg,
		     struct netlink_ext_ack *extack);
int cyph_keyring_install(struct cyph_keyring *kr,
			 struct cyph_key *keys[__CYPHONIC_KEY_SLOT_MAX]);
int cyph_keyring_swap(struct cyph_keyring *kr, struct netlink_ext_ack *extack);
bool cyph_keyring_has_primary(struct cyph_keyring *kr);

/* Data path. */
struct cyph_key *cyph_keyring_primary(struct cyph_keyring *kr);
struct cyph_key *cyph_keyring_by_id(struct cyph_keyring *kr, u8 id);
enum cyphonic_stat cyph_key_tx_counter(struct cyph_keyring *kr,
				       struct cyph_key *key, u64 *counter);
enum cyphonic_stat cyph_keyring_rx_key(struct cyph_keyring *kr, u8 id,
				       u64 counter, struct cyph_key **keyp);
bool cyph_keyring_promote(struct cyph_keyring *kr, struct cyph_key *key);

/* Reporting (TUNNEL_GET). */
u64 cyph_key_age_ms(const struct cyph_key *key);
u64 cyph_key_retired_ms(const struct cyph_key *key);

#endif /* _CYPH_KEYS_H */
