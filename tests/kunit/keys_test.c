// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for kmod/keys.c: directional keys and the two key slots
 * (primary, next) that make rekeying loss-free.
 */

#include <kunit/test.h>
#include <linux/rcupdate.h>

#include "crypto.h"
#include "keys.h"

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
	cyph_keyring_init(kr);
	test->priv = kr;
	return 0;
}

static void keyring_exit(struct kunit *test)
{
	cyph_keyring_clear(test->priv);
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
	KUNIT_EXPECT_FALSE(test, cyph_keyring_swap(kr));
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

/* Swap: next becomes primary, the old primary stays as next. */
static void keyring_swap(struct kunit *test)
{
	struct cyph_keyring *kr = test->priv;
	struct cyph_key *p = key(test, 0), *n = key(test, 1), *got;
	struct cyph_key *keys[__CYPHONIC_KEY_SLOT_MAX] = { p, n };

	KUNIT_ASSERT_EQ(test, cyph_keyring_install(kr, keys), 0);
	KUNIT_EXPECT_TRUE(test, cyph_keyring_swap(kr));
	got = cyph_keyring_primary(kr);
	KUNIT_EXPECT_PTR_EQ(test, got, n);
	cyph_key_put(got);
	got = cyph_keyring_by_id(kr, 0);
	KUNIT_EXPECT_PTR_EQ(test, got, p);
	cyph_key_put(got);
	KUNIT_EXPECT_TRUE(test, cyph_keyring_swap(kr));
	got = cyph_keyring_primary(kr);
	KUNIT_EXPECT_PTR_EQ(test, got, p);
	cyph_key_put(got);
}

/* A packet under the next key promotes it; one under primary does not. */
static void keyring_promote(struct kunit *test)
{
	struct cyph_keyring *kr = test->priv;
	struct cyph_key *p = key(test, 0), *n = key(test, 1), *got;
	struct cyph_key *keys[__CYPHONIC_KEY_SLOT_MAX] = { p, n };

	KUNIT_ASSERT_EQ(test, cyph_keyring_install(kr, keys), 0);
	cyph_keyring_promote(kr, p);
	got = cyph_keyring_primary(kr);
	KUNIT_EXPECT_PTR_EQ(test, got, p);
	cyph_key_put(got);
	cyph_keyring_promote(kr, n);
	got = cyph_keyring_primary(kr);
	KUNIT_EXPECT_PTR_EQ(test, got, n);
	cyph_key_put(got);
	/* Promoting again (a second packet under it) changes nothing. */
	cyph_keyring_promote(kr, n);
	got = cyph_keyring_primary(kr);
	KUNIT_EXPECT_PTR_EQ(test, got, n);
	cyph_key_put(got);
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
	KUNIT_ASSERT_TRUE(test, cyph_keyring_swap(kr));
	cyph_keyring_promote(kr, p);
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
	cyph_keyring_clear(kr);
	KUNIT_EXPECT_FALSE(test, cyph_keyring_has_primary(kr));
	KUNIT_EXPECT_NULL(test, cyph_keyring_by_id(kr, 3));
}

static struct kunit_case keys_cases[] = {
	KUNIT_CASE(key_create),
	KUNIT_CASE(key_create_bad_cipher),
	KUNIT_CASE(keyring_empty),
	KUNIT_CASE(keyring_install_lookup),
	KUNIT_CASE(keyring_same_id_refused),
	KUNIT_CASE(keyring_swap),
	KUNIT_CASE(keyring_promote),
	KUNIT_CASE(keyring_no_promote_back),
	KUNIT_CASE(keyring_replace_and_clear),
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
