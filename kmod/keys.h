/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Keys and the two key slots (primary, next) of a tunnel.
 */
#ifndef _CYPH_KEYS_H
#define _CYPH_KEYS_H

#include <crypto/aead.h>
#include <linux/atomic.h>
#include <linux/cyphonic.h>
#include <linux/kref.h>
#include <linux/workqueue.h>

#include "replay.h"

/* One key id: an AEAD per direction, its counters and replay window. */
struct cyph_key {
	struct crypto_aead *tx;
	struct crypto_aead *rx;
	atomic64_t tx_counter;		/* next counter to send */
	struct cyph_replay replay;
	u64 created;			/* jiffies64 */
	u8 id;
	bool retired;			/* was primary: never auto-promote */
	struct kref ref;
	struct rcu_work free_work;
};

/* Readers use RCU and take a reference; writers hold @lock. */
struct cyph_keyring {
	spinlock_t lock;	/* slot writers: netlink, RX promotion */
	struct cyph_key __rcu *slot[__CYPHONIC_KEY_SLOT_MAX];
};

int cyph_keys_init(void);
void cyph_keys_exit(void);

struct cyph_key *cyph_key_create(enum cyphonic_cipher cipher, u8 id,
				 const u8 *tx, const u8 *rx);
void cyph_key_put(struct cyph_key *key);

void cyph_keyring_init(struct cyph_keyring *kr);
void cyph_keyring_clear(struct cyph_keyring *kr);
struct cyph_key *cyph_keyring_primary(struct cyph_keyring *kr);
struct cyph_key *cyph_keyring_by_id(struct cyph_keyring *kr, u8 id);
int cyph_keyring_install(struct cyph_keyring *kr,
			 struct cyph_key *keys[__CYPHONIC_KEY_SLOT_MAX]);
bool cyph_keyring_swap(struct cyph_keyring *kr);
void cyph_keyring_promote(struct cyph_keyring *kr, const struct cyph_key *key);
bool cyph_keyring_has_primary(struct cyph_keyring *kr);

#endif /* _CYPH_KEYS_H */
