// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for kmod/keys.c: directional keys, the two key slots
 * (primary, next) that make rekeying loss-free, and the key lifecycle
 * rules: no key reuse, per-cipher message limits, time limits, swap and
 * promotion, expiry of a retired key.
 */

#include <asm/unaligned.h>
#include <kunit/test.h>
#include <linux/jiffies.h>
#include <linux/rcupdate.h>

#include "crypto.h"
#include "keys.h"
#include "kunit_stubs.h"

static const u8 k1[CYPHONIC_KEY_LEN] = { 1, 2, 3 };
static const u8 k2[CYPHONIC_KEY_LEN] = { 9, 8, 7 };

static int keys_suite_init(struct kunit_suite *suite)
{
	return cyph_keys_init();
}

/* Keys are freed from the key workqueue after an RCU grace period. */
static void keys_suite_exit(struct kunit_suite *suite)
{
	rcu_barrier();
	cyph_keys_exit();
}

static struct cyph_key *key(struct kunit *test, u8 id)
{
	struct cyph_key *k = cyph_key_create(CYPHONIC_CIPHER_AES_GCM, id, k1, k2);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, k);
	return k;
}

static int keyring_init(struct kunit *test)
{
	struct cyph_keyring *kr = kunit_kzalloc(test, sizeof(*kr), GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, kr);
	/* A tunnel pointer only for the event stubs, never dereferenced. */
	cyph_keyring_init(kr, (struct cyph_tunnel *)kr);
	cyph_stub_reset();
	test->priv = kr;
	return 0;
}

static void keyring_exit(struct kunit *test)
{
	cyph_keyring_destroy(test->priv);
}

/* The extack message (NULL when the request was accepted) contains @word. */
static bool msg_has(const struct netlink_ext_ack *extack, const char *word)
{
	return extack->_msg && strstr(extack->_msg, word);
}

/* A fresh key: counters at zero, one reference, both directions keyed. */
static void key_create(struct kunit *test)
{
	struct cyph_key *k = key(test, 3);

	KUNIT_EXPECT_EQ(test, k->id, 3);
	KUNIT_EXPECT_EQ(test, atomic64_read(&k->tx_counter), 0LL);
	KUNIT_EXPECT_EQ(test, cyph_replay_highest(&k->replay), 0ULL);
	KUNIT_EXPECT_EQ(test, kref_read(&k->ref), 1U);
	KUNIT_EXPECT_NOT_NULL(test, k->tx);
	KUNIT_EXPECT_NOT_NULL(test, k->rx);
	KUNIT_EXPECT_PTR_NE(test, k->tx, k->rx);
	cyph_key_put(k);
	cyph_key_put(NULL);
}

static void key_create_bad_cipher(struct kunit *test)
{
	struct cyph_key *k;

	k = cyph_key_create(CYPHONIC_CIPHER_UNSPEC, 0, k1, k2);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(k), -EINVAL);
	k = cyph_key_create(CYPHONIC_CIPHER_MAX + 1, 0, k1, k2);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(k), -EINVAL);
}

static void keyring_empty(struct kunit *test)
{
	struct cyph_keyring *kr = test->priv;

	KUNIT_EXPECT_FALSE(test, cyph_keyring_has_primary(kr));
	KUNIT_EXPECT_NULL(test, cyph_keyring_primary(kr));
	KUNIT_EXPECT_NULL(test, cyph_keyring_by_id(kr, 0));
	KUNIT_EXPECT_EQ(test, cyph_keyring_swap(kr, NULL), -ENOKEY);
}

/* Lookups return a new reference each. */
static void keyring_install_lookup(struct kunit *test)
{
	struct cyph_keyring *kr = test->priv;
	struct cyph_key *p = key(test, 0), *n = key(test, 1), *got;
	struct cyph_key *keys[__CYPHONIC_KEY_SLOT_MAX] = { p, NULL };

	KUNIT_ASSERT_EQ(test, cyph_keyring_install(kr, keys), 0);
	KUNIT_EXPECT_TRUE(test, cyph_keyring_has_primary(kr));
	got = cyph_keyring_primary(kr);
	KUNIT_EXPECT_PTR_EQ(test, got, p);
	KUNIT_EXPECT_EQ(test, kref_read(&p->ref), 2U);
	cyph_key_put(got);
	KUNIT_EXPECT_NULL(test, cyph_keyring_by_id(kr, 1));

	keys[CYPHONIC_KEY_SLOT_PRIMARY] = NULL;
	keys[CYPHONIC_KEY_SLOT_NEXT] = n;
	KUNIT_ASSERT_EQ(test, cyph_keyring_install(kr, keys), 0);
	got = cyph_keyring_by_id(kr, 1);
	KUNIT_EXPECT_PTR_EQ(test, got, n);
	cyph_key_put(got);
	got = cyph_keyring_by_id(kr, 0);
	KUNIT_EXPECT_PTR_EQ(test, got, p);
	cyph_key_put(got);
	/* TX still uses the primary key. */
	got = cyph_keyring_primary(kr);
	KUNIT_EXPECT_PTR_EQ(test, got, p);
	cyph_key_put(got);
	KUNIT_EXPECT_NULL(test, cyph_keyring_by_id(kr, 2));
}

/* RX finds keys by id, so both slots may never hold the same id. */
static void keyring_same_id_refused(struct kunit *test)
{
	struct cyph_keyring *kr = test->priv;
	struct cyph_key *p = key(test, 2), *n = key(test, 2);
	struct cyph_key *keys[__CYPHONIC_KEY_SLOT_MAX] = { p, n };

	KUNIT_EXPECT_EQ(test, cyph_keyring_install(kr, keys), -EEXIST);
	KUNIT_EXPECT_FALSE(test, cyph_keyring_has_primary(kr));
	/* Against an installed key too. */
	keys[CYPHONIC_KEY_SLOT_NEXT] = NULL;
	KUNIT_ASSERT_EQ(test, cyph_keyring_install(kr, keys), 0);
	keys[CYPHONIC_KEY_SLOT_PRIMARY] = NULL;
	keys[CYPHONIC_KEY_SLOT_NEXT] = n;
	KUNIT_EXPECT_EQ(test, cyph_keyring_install(kr, keys), -EEXIST);
	KUNIT_EXPECT_EQ(test, kref_read(&n->ref), 1U);
	cyph_key_put(n);
}

/*
 * Swap: next becomes primary, the old primary stays as next, retired; a
 * second swap would put the retired key back in use and is refused.
 */
static void keyring_swap(struct kunit *test)
{
	struct cyph_keyring *kr = test->priv;
	struct cyph_key *p = key(test, 0), *n = key(test, 1), *got;
	struct cyph_key *keys[__CYPHONIC_KEY_SLOT_MAX] = { p, n };
	struct netlink_ext_ack extack = {};

	KUNIT_ASSERT_EQ(test, cyph_keyring_install(kr, keys), 0);
	KUNIT_EXPECT_EQ(test, cyph_keyring_swap(kr, NULL), 0);
	got = cyph_keyring_primary(kr);
	KUNIT_EXPECT_PTR_EQ(test, got, n);
	cyph_key_put(got);
	got = cyph_keyring_by_id(kr, 0);
	KUNIT_EXPECT_PTR_EQ(test, got, p);
	cyph_key_put(got);
	KUNIT_EXPECT_NE(test, cyph_key_retired_ms(p), U64_MAX);
	KUNIT_EXPECT_EQ(test, cyph_key_retired_ms(n), U64_MAX);
	KUNIT_EXPECT_EQ(test, cyph_keyring_swap(kr, &extack), -EKEYREVOKED);
	KUNIT_EXPECT_TRUE(test, msg_has(&extack, "retired"));
	got = cyph_keyring_primary(kr);
	KUNIT_EXPECT_PTR_EQ(test, got, n);
	cyph_key_put(got);
}

/* After the kernel promoted the next key, user space's swap is refused. */
static void keyring_swap_after_promotion(struct kunit *test)
{
	struct cyph_keyring *kr = test->priv;
	struct cyph_key *p = key(test, 0), *n = key(test, 1), *got;
	struct cyph_key *keys[__CYPHONIC_KEY_SLOT_MAX] = { p, n };

	KUNIT_ASSERT_EQ(test, cyph_keyring_install(kr, keys), 0);
	KUNIT_EXPECT_TRUE(test, cyph_keyring_promote(kr, n));
	KUNIT_EXPECT_EQ(test, cyph_keyring_swap(kr, NULL), -EKEYREVOKED);
	got = cyph_keyring_primary(kr);
	KUNIT_EXPECT_PTR_EQ(test, got, n);
	cyph_key_put(got);
}

/* A packet under the next key promotes it; one under primary does not. */
static void keyring_promote(struct kunit *test)
{
	struct cyph_keyring *kr = test->priv;
	struct cyph_key *p = key(test, 0), *n = key(test, 1), *got;
	struct cyph_key *keys[__CYPHONIC_KEY_SLOT_MAX] = { p, n };

	KUNIT_ASSERT_EQ(test, cyph_keyring_install(kr, keys), 0);
	KUNIT_EXPECT_FALSE(test, cyph_keyring_promote(kr, p));
	got = cyph_keyring_primary(kr);
	KUNIT_EXPECT_PTR_EQ(test, got, p);
	cyph_key_put(got);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.ntf_key_promoted), 0);
	KUNIT_EXPECT_TRUE(test, cyph_keyring_promote(kr, n));
	got = cyph_keyring_primary(kr);
	KUNIT_EXPECT_PTR_EQ(test, got, n);
	cyph_key_put(got);
	/* Reported, once, with the promoted key, so user space never races. */
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.ntf_key_promoted), 1);
	KUNIT_EXPECT_PTR_EQ(test, cyph_stub_calls.last_key, (const struct cyph_key *)n);
	/* Promoting again (a second packet under it) changes nothing. */
	KUNIT_EXPECT_FALSE(test, cyph_keyring_promote(kr, n));
	got = cyph_keyring_primary(kr);
	KUNIT_EXPECT_PTR_EQ(test, got, n);
	cyph_key_put(got);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.ntf_key_promoted), 1);
}

/*
 * After a swap the old primary waits in the next slot for late packets;
 * a packet under it must not switch TX back to it.
 */
static void keyring_no_promote_back(struct kunit *test)
{
	struct cyph_keyring *kr = test->priv;
	struct cyph_key *p = key(test, 0), *n = key(test, 1), *got;
	struct cyph_key *keys[__CYPHONIC_KEY_SLOT_MAX] = { p, n };

	KUNIT_ASSERT_EQ(test, cyph_keyring_install(kr, keys), 0);
	KUNIT_ASSERT_EQ(test, cyph_keyring_swap(kr, NULL), 0);
	KUNIT_EXPECT_FALSE(test, cyph_keyring_promote(kr, p));
	got = cyph_keyring_primary(kr);
	KUNIT_EXPECT_PTR_EQ(test, got, n);
	cyph_key_put(got);
	/* Still accepted for the packets in flight. */
	got = cyph_keyring_by_id(kr, 0);
	KUNIT_EXPECT_PTR_EQ(test, got, p);
	cyph_key_put(got);
	/* The same after the peer's own promotion path. */
	keys[CYPHONIC_KEY_SLOT_PRIMARY] = NULL;
	keys[CYPHONIC_KEY_SLOT_NEXT] = key(test, 2);
	KUNIT_ASSERT_EQ(test, cyph_keyring_install(kr, keys), 0);
	cyph_keyring_promote(kr, keys[CYPHONIC_KEY_SLOT_NEXT]);
	cyph_keyring_promote(kr, n);
	got = cyph_keyring_primary(kr);
	KUNIT_EXPECT_EQ(test, got->id, 2);
	cyph_key_put(got);
}

/* Replacing or clearing a slot drops the ring's reference, not others'. */
static void keyring_replace_and_clear(struct kunit *test)
{
	struct cyph_keyring *kr = test->priv;
	struct cyph_key *old = key(test, 0), *new = key(test, 3), *held;
	struct cyph_key *keys[__CYPHONIC_KEY_SLOT_MAX] = { old, NULL };

	KUNIT_ASSERT_EQ(test, cyph_keyring_install(kr, keys), 0);
	held = cyph_keyring_primary(kr);
	keys[CYPHONIC_KEY_SLOT_PRIMARY] = new;
	KUNIT_ASSERT_EQ(test, cyph_keyring_install(kr, keys), 0);
	KUNIT_EXPECT_EQ(test, kref_read(&held->ref), 1U);
	KUNIT_EXPECT_NULL(test, cyph_keyring_by_id(kr, 0));
	/* Still usable by whoever held it (a packet in flight). */
	KUNIT_EXPECT_EQ(test, held->id, 0);
	cyph_key_put(held);
	cyph_keyring_destroy(kr);
	KUNIT_EXPECT_FALSE(test, cyph_keyring_has_primary(kr));
	KUNIT_EXPECT_NULL(test, cyph_keyring_by_id(kr, 3));
}

/* ---- the key lifecycle rules ------------------------------------------- */

/* Key bytes number @n (distinct for distinct @n). */
static const u8 *kb(struct kunit *test, unsigned int n)
{
	u8 *b = kunit_kzalloc(test, CYPHONIC_KEY_LEN, GFP_KERNEL);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, b);
	memcpy(b, &n, sizeof(n));
	b[CYPHONIC_KEY_LEN - 1] = 0x5a;
	return b;
}

static int set1(struct cyph_keyring *kr, enum cyphonic_key_slot slot, u8 id,
		const u8 *tx, const u8 *rx, struct netlink_ext_ack *extack)
{
	struct cyph_key_cfg cfg[__CYPHONIC_KEY_SLOT_MAX] = {};

	cfg[slot] = (struct cyph_key_cfg){ .set = true, .id = id, .tx = tx, .rx = rx };
	return cyph_keyring_set(kr, CYPHONIC_CIPHER_AES_GCM, cfg, extack);
}

static u8 primary_id(struct kunit *test, struct cyph_keyring *kr)
{
	struct cyph_key *k = cyph_keyring_primary(kr);
	u8 id;

	KUNIT_ASSERT_NOT_NULL(test, k);
	id = k->id;
	cyph_key_put(k);
	return id;
}

/*
 * A key the tunnel has used, in either slot or direction, at any time
 * since the ring was created, is refused with an extack message; a
 * refused request installs and remembers nothing.
 */
static void keyring_set_refuses_reuse(struct kunit *test)
{
	const u8 *a = kb(test, 1), *b = kb(test, 2), *c = kb(test, 3),
		 *d = kb(test, 4), *e = kb(test, 5), *f = kb(test, 6);
	struct cyph_keyring *kr = test->priv;
	struct netlink_ext_ack extack = {};

	KUNIT_ASSERT_EQ(test, set1(kr, CYPHONIC_KEY_SLOT_PRIMARY, 0, a, b, NULL), 0);
	/* The same pair again, in the other slot. */
	KUNIT_EXPECT_EQ(test, set1(kr, CYPHONIC_KEY_SLOT_NEXT, 1, a, b, &extack),
			-EKEYREJECTED);
	KUNIT_EXPECT_TRUE(test, msg_has(&extack, "already used"));
	/* One half reused, either way round. */
	KUNIT_EXPECT_EQ(test, set1(kr, CYPHONIC_KEY_SLOT_NEXT, 1, c, b, NULL),
			-EKEYREJECTED);
	KUNIT_EXPECT_EQ(test, set1(kr, CYPHONIC_KEY_SLOT_NEXT, 1, b, c, NULL),
			-EKEYREJECTED);
	/* The same slot: replacing the primary with itself restarts counters. */
	KUNIT_EXPECT_EQ(test, set1(kr, CYPHONIC_KEY_SLOT_PRIMARY, 0, a, b, NULL),
			-EKEYREJECTED);
	KUNIT_EXPECT_NULL(test, cyph_keyring_by_id(kr, 1));
	/* c was refused above, so it was never used: fine now. */
	KUNIT_ASSERT_EQ(test, set1(kr, CYPHONIC_KEY_SLOT_NEXT, 1, c, d, NULL), 0);
	KUNIT_ASSERT_EQ(test, cyph_keyring_swap(kr, NULL), 0);
	/* Long gone from the slots, still remembered. */
	KUNIT_ASSERT_EQ(test, set1(kr, CYPHONIC_KEY_SLOT_NEXT, 2, e, f, NULL), 0);
	KUNIT_ASSERT_EQ(test, cyph_keyring_swap(kr, NULL), 0);
	KUNIT_EXPECT_EQ(test, set1(kr, CYPHONIC_KEY_SLOT_NEXT, 0, a, b, NULL),
			-EKEYREJECTED);
	KUNIT_EXPECT_EQ(test, primary_id(test, kr), 2);
	KUNIT_EXPECT_EQ(test, kr->used.n, 6U);
}

/* TX == RX, or one key twice in a request, is refused; nothing changes. */
static void keyring_set_refuses_same_bytes(struct kunit *test)
{
	const u8 *a = kb(test, 1), *b = kb(test, 2), *c = kb(test, 3);
	struct cyph_key_cfg cfg[__CYPHONIC_KEY_SLOT_MAX] = {};
	struct cyph_keyring *kr = test->priv;
	struct netlink_ext_ack extack = {};

	KUNIT_EXPECT_EQ(test, set1(kr, CYPHONIC_KEY_SLOT_PRIMARY, 0, a, a, &extack),
			-EINVAL);
	KUNIT_EXPECT_TRUE(test, msg_has(&extack, "the TX key equals the RX key"));
	cfg[0] = (struct cyph_key_cfg){ .set = true, .id = 0, .tx = a, .rx = b };
	cfg[1] = (struct cyph_key_cfg){ .set = true, .id = 1, .tx = c, .rx = a };
	KUNIT_EXPECT_EQ(test, cyph_keyring_set(kr, CYPHONIC_CIPHER_AES_GCM, cfg, NULL),
			-EINVAL);
	KUNIT_EXPECT_FALSE(test, cyph_keyring_has_primary(kr));
	KUNIT_EXPECT_EQ(test, kr->used.n, 0U);
	/* None of them counts as used. */
	KUNIT_EXPECT_EQ(test, set1(kr, CYPHONIC_KEY_SLOT_PRIMARY, 0, a, b, NULL), 0);
}

/*
 * The memory is bounded: once it is full every install is refused
 * (forgetting would allow reuse), and the tunnel must be re-created.
 */
static void keyring_set_history_bound(struct kunit *test)
{
	struct cyph_keyring *kr = test->priv;
	struct netlink_ext_ack extack = {};
	unsigned int i;

	for (i = 0; i < CYPHONIC_KEY_HISTORY / 2; i++)
		KUNIT_ASSERT_EQ(test, set1(kr, CYPHONIC_KEY_SLOT_PRIMARY, 0,
					   kb(test, 2 * i + 1), kb(test, 2 * i + 2),
					   NULL), 0);
	KUNIT_EXPECT_EQ(test, kr->used.n, (unsigned int)CYPHONIC_KEY_HISTORY);
	KUNIT_EXPECT_EQ(test, set1(kr, CYPHONIC_KEY_SLOT_NEXT, 1, kb(test, 100000),
				   kb(test, 100001), &extack), -ENOSPC);
	KUNIT_EXPECT_TRUE(test, msg_has(&extack, "new tunnel"));
	/* Old keys are still refused as reused. */
	KUNIT_EXPECT_EQ(test, set1(kr, CYPHONIC_KEY_SLOT_NEXT, 1, kb(test, 1),
				   kb(test, 100001), NULL), -EKEYREJECTED);
}

/* The memory holds salted fingerprints, never key bytes. */
static void keyring_history_no_key_bytes(struct kunit *test)
{
	const u8 *a = kb(test, 7), *b = kb(test, 8);
	struct cyph_keyring *kr = test->priv;
	unsigned int i;

	KUNIT_ASSERT_EQ(test, set1(kr, CYPHONIC_KEY_SLOT_PRIMARY, 0, a, b, NULL), 0);
	KUNIT_ASSERT_EQ(test, kr->used.n, 2U);
	for (i = 0; i < kr->used.n; i++) {
		KUNIT_EXPECT_NE(test, kr->used.fp[i], get_unaligned((u64 *)a));
		KUNIT_EXPECT_NE(test, kr->used.fp[i], get_unaligned((u64 *)b));
		KUNIT_EXPECT_EQ(test, kr->used.fp[i],
				siphash(i ? b : a, CYPHONIC_KEY_LEN, &kr->used.salt));
	}
}

/* AES-GCM stops at 2^23 messages (RFC 9001 6.6), with an event before. */
static void key_tx_message_limit_aes_gcm(struct kunit *test)
{
	struct cyph_keyring *kr = test->priv;
	struct cyph_key *k = key(test, 0);
	u64 c;

	KUNIT_EXPECT_EQ(test, k->reject_msgs, CYPHONIC_AES_GCM_REJECT_AFTER_MESSAGES);
	KUNIT_EXPECT_EQ(test, k->reject_msgs, 1ULL << 23);
	KUNIT_EXPECT_LT(test, k->rekey_msgs, k->reject_msgs);
	KUNIT_EXPECT_EQ(test, cyph_key_tx_counter(kr, k, &c), 0);
	KUNIT_EXPECT_EQ(test, c, 0ULL);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.ntf_key_limit), 0);

	atomic64_set(&k->tx_counter, k->rekey_msgs - 1);
	KUNIT_EXPECT_EQ(test, cyph_key_tx_counter(kr, k, &c), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.ntf_key_limit), 0);
	KUNIT_EXPECT_EQ(test, cyph_key_tx_counter(kr, k, &c), 0);
	KUNIT_EXPECT_EQ(test, c, k->rekey_msgs);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.ntf_key_limit), 1);
	KUNIT_EXPECT_EQ(test, cyph_stub_calls.last_counter, k->rekey_msgs);
	/* Once per key. */
	KUNIT_EXPECT_EQ(test, cyph_key_tx_counter(kr, k, &c), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.ntf_key_limit), 1);

	atomic64_set(&k->tx_counter, k->reject_msgs - 1);
	KUNIT_EXPECT_EQ(test, cyph_key_tx_counter(kr, k, &c), 0);
	KUNIT_EXPECT_EQ(test, c, k->reject_msgs - 1);
	KUNIT_EXPECT_EQ(test, cyph_key_tx_counter(kr, k, &c),
			CYPHONIC_STAT_TX_DROP_KEY_EXHAUSTED);
	KUNIT_EXPECT_EQ(test, cyph_key_tx_counter(kr, k, &c),
			CYPHONIC_STAT_TX_DROP_KEY_EXHAUSTED);
	/* The counter never moves past the limit. */
	KUNIT_EXPECT_EQ(test, (u64)atomic64_read(&k->tx_counter), k->reject_msgs);
	cyph_key_put(k);
}

/* ChaCha20-Poly1305 has no practical limit but the 64-bit counter's. */
static void key_tx_message_limit_chacha(struct kunit *test)
{
	struct cyph_key *k;

	k = cyph_key_create(CYPHONIC_CIPHER_CHACHA20_POLY1305, 0, k1, k2);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, k);
	KUNIT_EXPECT_EQ(test, k->rekey_msgs, CYPHONIC_REKEY_AFTER_MESSAGES);
	KUNIT_EXPECT_EQ(test, k->reject_msgs, CYPHONIC_REJECT_AFTER_MESSAGES);
	KUNIT_EXPECT_GT(test, k->reject_msgs,
			CYPHONIC_AES_GCM_REJECT_AFTER_MESSAGES);
	cyph_key_put(k);
}

/* The time limit: an event at REKEY_AFTER, a hard stop at REJECT_AFTER. */
static void key_time_limit(struct kunit *test)
{
	struct cyph_keyring *kr = test->priv;
	struct cyph_key *k = key(test, 0), *got = NULL;
	struct cyph_key *keys[__CYPHONIC_KEY_SLOT_MAX] = { k, NULL };
	u64 c;

	KUNIT_ASSERT_EQ(test, cyph_keyring_install(kr, keys), 0);
	k->created -= CYPHONIC_REKEY_AFTER_SECONDS * (u64)HZ;
	KUNIT_EXPECT_EQ(test, cyph_key_tx_counter(kr, k, &c), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&cyph_stub_calls.ntf_key_limit), 1);
	KUNIT_EXPECT_EQ(test, cyph_keyring_rx_key(kr, 0, 0, &got), 0);
	cyph_key_put(got);

	k->created -= (CYPHONIC_REJECT_AFTER_SECONDS -
		       CYPHONIC_REKEY_AFTER_SECONDS) * (u64)HZ;
	KUNIT_EXPECT_EQ(test, cyph_key_tx_counter(kr, k, &c),
			CYPHONIC_STAT_TX_DROP_KEY_EXPIRED);
	KUNIT_EXPECT_EQ(test, cyph_keyring_rx_key(kr, 0, 0, &got),
			CYPHONIC_STAT_RX_DROP_KEY_EXPIRED);
	KUNIT_EXPECT_EQ(test, kref_read(&k->ref), 1U);
}

/* RX refuses counters a sender may never use, before decrypting. */
static void key_rx_message_limit(struct kunit *test)
{
	struct cyph_keyring *kr = test->priv;
	struct cyph_key *k = key(test, 0), *got = NULL;
	struct cyph_key *keys[__CYPHONIC_KEY_SLOT_MAX] = { k, NULL };

	KUNIT_ASSERT_EQ(test, cyph_keyring_install(kr, keys), 0);
	KUNIT_EXPECT_EQ(test, cyph_keyring_rx_key(kr, 0, k->reject_msgs - 1, &got), 0);
	KUNIT_EXPECT_PTR_EQ(test, got, k);
	cyph_key_put(got);
	KUNIT_EXPECT_EQ(test, cyph_keyring_rx_key(kr, 0, k->reject_msgs, &got),
			CYPHONIC_STAT_RX_DROP_KEY_EXPIRED);
	KUNIT_EXPECT_EQ(test, cyph_keyring_rx_key(kr, 1, 0, &got),
			CYPHONIC_STAT_RX_DROP_NO_KEY);
	KUNIT_EXPECT_EQ(test, kref_read(&k->ref), 1U);
}

/* A replayed or too old counter is refused before decrypting, too. */
static void key_rx_replay_precheck(struct kunit *test)
{
	struct cyph_keyring *kr = test->priv;
	struct cyph_key *k = key(test, 0), *got = NULL;
	struct cyph_key *keys[__CYPHONIC_KEY_SLOT_MAX] = { k, NULL };
	u64 w = CYPHONIC_REPLAY_WINDOW;

	KUNIT_ASSERT_EQ(test, cyph_keyring_install(kr, keys), 0);
	/* What the RX serial stage records after authentication. */
	KUNIT_ASSERT_TRUE(test, cyph_replay_check(&k->replay, 7));
	KUNIT_ASSERT_TRUE(test, cyph_replay_check(&k->replay, w + 100));
	KUNIT_EXPECT_EQ(test, cyph_keyring_rx_key(kr, 0, w + 100, &got),
			CYPHONIC_STAT_RX_DROP_REPLAY);
	KUNIT_EXPECT_EQ(test, cyph_keyring_rx_key(kr, 0, 7, &got),
			CYPHONIC_STAT_RX_DROP_REPLAY);
	KUNIT_EXPECT_EQ(test, kref_read(&k->ref), 1U);
	/* Unseen counters in the window and ahead of it still pass. */
	KUNIT_EXPECT_EQ(test, cyph_keyring_rx_key(kr, 0, w + 99, &got), 0);
	cyph_key_put(got);
	KUNIT_EXPECT_EQ(test, cyph_keyring_rx_key(kr, 0, w + 101, &got), 0);
	cyph_key_put(got);
	KUNIT_EXPECT_EQ(test, kref_read(&k->ref), 1U);
}

/* The demoted key serves RX for CYPHONIC_RETIRED_RX_SECONDS only. */
static void key_retired_rx_expiry(struct kunit *test)
{
	struct cyph_keyring *kr = test->priv;
	struct cyph_key *p = key(test, 0), *n = key(test, 1), *got = NULL;
	struct cyph_key *keys[__CYPHONIC_KEY_SLOT_MAX] = { p, n };

	KUNIT_ASSERT_EQ(test, cyph_keyring_install(kr, keys), 0);
	KUNIT_ASSERT_EQ(test, cyph_keyring_swap(kr, NULL), 0);
	KUNIT_EXPECT_EQ(test, cyph_keyring_rx_key(kr, 0, 5, &got), 0);
	KUNIT_EXPECT_PTR_EQ(test, got, p);
	cyph_key_put(got);
	p->retired -= CYPHONIC_RETIRED_RX_SECONDS * (u64)HZ;
	KUNIT_EXPECT_EQ(test, cyph_keyring_rx_key(kr, 0, 5, &got),
			CYPHONIC_STAT_RX_DROP_KEY_EXPIRED);
	/* The new primary is unaffected. */
	KUNIT_EXPECT_EQ(test, cyph_keyring_rx_key(kr, 1, 5, &got), 0);
	KUNIT_EXPECT_PTR_EQ(test, got, n);
	cyph_key_put(got);
}

static struct kunit_case keys_cases[] = {
	KUNIT_CASE(key_create),
	KUNIT_CASE(key_create_bad_cipher),
	KUNIT_CASE(keyring_empty),
	KUNIT_CASE(keyring_install_lookup),
	KUNIT_CASE(keyring_same_id_refused),
	KUNIT_CASE(keyring_swap),
	KUNIT_CASE(keyring_swap_after_promotion),
	KUNIT_CASE(keyring_promote),
	KUNIT_CASE(keyring_no_promote_back),
	KUNIT_CASE(keyring_replace_and_clear),
	KUNIT_CASE(keyring_set_refuses_reuse),
	KUNIT_CASE(key_rx_replay_precheck),
	KUNIT_CASE(keyring_set_refuses_same_bytes),
	KUNIT_CASE(keyring_set_history_bound),
	KUNIT_CASE(keyring_history_no_key_bytes),
	KUNIT_CASE(key_tx_message_limit_aes_gcm),
	KUNIT_CASE(key_tx_message_limit_chacha),
	KUNIT_CASE(key_time_limit),
	KUNIT_CASE(key_rx_message_limit),
	KUNIT_CASE(key_retired_rx_expiry),
	{}
};

static struct kunit_suite keys_suite = {
	.name = "cyphonic_keys",
	.suite_init = keys_suite_init,
	.suite_exit = keys_suite_exit,
	.init = keyring_init,
	.exit = keyring_exit,
	.test_cases = keys_cases,
};

kunit_test_suite(keys_suite);
