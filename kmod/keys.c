// SPDX-License-Identifier: GPL-2.0
/*
 * Key lifetime and key slots.
 *
 * A key is freed from a workqueue one RCU grace period after its last
 * reference is dropped: readers find keys under RCU and may still try to
 * take a reference, and freeing a transform may sleep on some drivers.
 * crypto_free_aead() wipes the expanded key; the raw key never leaves the
 * netlink request, which netlink.c wipes.
 */

#include <linux/jiffies.h>
#include <linux/slab.h>

#include "crypto.h"
#include "keys.h"

static struct workqueue_struct *cyph_key_wq;

int cyph_keys_init(void)
{
	cyph_key_wq = alloc_workqueue("cyphonic_keys", 0, 0);
	return cyph_key_wq ? 0 : -ENOMEM;
}

/* After rcu_barrier(): every pending free has been queued; run them. */
void cyph_keys_exit(void)
{
	destroy_workqueue(cyph_key_wq);
}

static void cyph_key_free_work(struct work_struct *work)
{
	struct cyph_key *key = container_of(to_rcu_work(work), struct cyph_key,
					    free_work);

	crypto_free_aead(key->tx);
	crypto_free_aead(key->rx);
	kfree_sensitive(key);
}

static void cyph_key_release(struct kref *ref)
{
	struct cyph_key *key = container_of(ref, struct cyph_key, ref);

	INIT_RCU_WORK(&key->free_work, cyph_key_free_work);
	queue_rcu_work(cyph_key_wq, &key->free_work);
}

void cyph_key_put(struct cyph_key *key)
{
	if (key)
		kref_put(&key->ref, cyph_key_release);
}

/**
 * cyph_key_create() - set up a key id with one AEAD per direction
 * @cipher: the device's cipher
 * @id: key id carried in the DATA header flags
 * @tx: CYPHONIC_KEY_LEN bytes for sending
 * @rx: CYPHONIC_KEY_LEN bytes for receiving
 *
 * Context: process context, may sleep.
 * Return: the key with one reference, or an ERR_PTR.
 */
struct cyph_key *cyph_key_create(enum cyphonic_cipher cipher, u8 id,
				 const u8 *tx, const u8 *rx)
{
	struct cyph_key *key;
	int err;

	key = kzalloc(sizeof(*key), GFP_KERNEL);
	if (!key)
		return ERR_PTR(-ENOMEM);
	key->tx = cyph_aead_alloc(cipher, tx);
	if (IS_ERR(key->tx)) {
		err = PTR_ERR(key->tx);
		goto err_free;
	}
	key->rx = cyph_aead_alloc(cipher, rx);
	if (IS_ERR(key->rx)) {
		err = PTR_ERR(key->rx);
		goto err_tx;
	}
	atomic64_set(&key->tx_counter, 0);
	cyph_replay_init(&key->replay);
	key->created = get_jiffies_64();
	key->id = id;
	kref_init(&key->ref);
	return key;

err_tx:
	crypto_free_aead(key->tx);
err_free:
	kfree(key);
	return ERR_PTR(err);
}

void cyph_keyring_init(struct cyph_keyring *kr)
{
	spin_lock_init(&kr->lock);
	RCU_INIT_POINTER(kr->slot[CYPHONIC_KEY_SLOT_PRIMARY], NULL);
	RCU_INIT_POINTER(kr->slot[CYPHONIC_KEY_SLOT_NEXT], NULL);
}

void cyph_keyring_clear(struct cyph_keyring *kr)
{
	struct cyph_key *old[__CYPHONIC_KEY_SLOT_MAX];
	int i;

	spin_lock_bh(&kr->lock);
	for (i = 0; i < __CYPHONIC_KEY_SLOT_MAX; i++)
		old[i] = rcu_replace_pointer(kr->slot[i], NULL,
					     lockdep_is_held(&kr->lock));
	spin_unlock_bh(&kr->lock);
	for (i = 0; i < __CYPHONIC_KEY_SLOT_MAX; i++)
		cyph_key_put(old[i]);
}

static struct cyph_key *cyph_key_get_rcu(struct cyph_key *key)
{
	if (key && !kref_get_unless_zero(&key->ref))
		return NULL;
	return key;
}

/* The key TX uses, with a reference, or NULL. */
struct cyph_key *cyph_keyring_primary(struct cyph_keyring *kr)
{
	struct cyph_key *key;

	rcu_read_lock();
	key = cyph_key_get_rcu(rcu_dereference(kr->slot[CYPHONIC_KEY_SLOT_PRIMARY]));
	rcu_read_unlock();
	return key;
}

bool cyph_keyring_has_primary(struct cyph_keyring *kr)
{
	return rcu_access_pointer(kr->slot[CYPHONIC_KEY_SLOT_PRIMARY]);
}

/* The key RX uses for the key id in a DATA header, with a reference. */
struct cyph_key *cyph_keyring_by_id(struct cyph_keyring *kr, u8 id)
{
	struct cyph_key *key, *found = NULL;
	int i;

	rcu_read_lock();
	for (i = 0; i < __CYPHONIC_KEY_SLOT_MAX; i++) {
		key = rcu_dereference(kr->slot[i]);
		if (key && key->id == id) {
			found = cyph_key_get_rcu(key);
			break;
		}
	}
	rcu_read_unlock();
	return found;
}

/**
 * cyph_keyring_install() - put new keys into slots
 * @kr: key ring
 * @keys: per slot, a new key (reference passed) or NULL to keep the slot
 *
 * RX finds keys by id, so the two slots must never carry the same id. The
 * check is made under the lock because RX may swap the slots meanwhile.
 *
 * Return: 0, or -EEXIST (nothing installed, references still the caller's).
 */
int cyph_keyring_install(struct cyph_keyring *kr,
			 struct cyph_key *keys[__CYPHONIC_KEY_SLOT_MAX])
{
	struct cyph_key *now[__CYPHONIC_KEY_SLOT_MAX];
	struct cyph_key *old[__CYPHONIC_KEY_SLOT_MAX] = {};
	int i;

	spin_lock_bh(&kr->lock);
	for (i = 0; i < __CYPHONIC_KEY_SLOT_MAX; i++)
		now[i] = keys[i] ?: rcu_dereference_protected(kr->slot[i],
				lockdep_is_held(&kr->lock));
	if (now[0] && now[1] && now[0]->id == now[1]->id) {
		spin_unlock_bh(&kr->lock);
		return -EEXIST;
	}
	for (i = 0; i < __CYPHONIC_KEY_SLOT_MAX; i++)
		if (keys[i])
			old[i] = rcu_replace_pointer(kr->slot[i], keys[i],
						     lockdep_is_held(&kr->lock));
	spin_unlock_bh(&kr->lock);
	for (i = 0; i < __CYPHONIC_KEY_SLOT_MAX; i++)
		cyph_key_put(old[i]);
	return 0;
}

static void cyph_keyring_swap_locked(struct cyph_keyring *kr)
{
	struct cyph_key *p, *n;

	lockdep_assert_held(&kr->lock);
	p = rcu_dereference_protected(kr->slot[CYPHONIC_KEY_SLOT_PRIMARY],
				      lockdep_is_held(&kr->lock));
	n = rcu_dereference_protected(kr->slot[CYPHONIC_KEY_SLOT_NEXT],
				      lockdep_is_held(&kr->lock));
	rcu_assign_pointer(kr->slot[CYPHONIC_KEY_SLOT_PRIMARY], n);
	rcu_assign_pointer(kr->slot[CYPHONIC_KEY_SLOT_NEXT], p);
	/*
	 * The demoted key only serves packets still in flight; the peer
	 * using it must not make us switch back.
	 */
	if (p)
		WRITE_ONCE(p->retired, true);
}

/*
 * Make the next key primary. The old primary stays as next so packets
 * still in flight under it are accepted.
 */
bool cyph_keyring_swap(struct cyph_keyring *kr)
{
	bool ok;

	spin_lock_bh(&kr->lock);
	ok = rcu_access_pointer(kr->slot[CYPHONIC_KEY_SLOT_NEXT]);
	if (ok)
		cyph_keyring_swap_locked(kr);
	spin_unlock_bh(&kr->lock);
	return ok;
}

/*
 * The peer authenticated a packet with our next key, so it has switched:
 * switch too, which makes a rekey need a swap on one side only. Only a key
 * installed as next and never used as primary is promoted; after a swap
 * the old primary sits in the next slot and late packets under it must
 * not switch us back.
 */
void cyph_keyring_promote(struct cyph_keyring *kr, const struct cyph_key *key)
{
	/* Unlocked peek: almost every packet uses the primary key. */
	if (rcu_access_pointer(kr->slot[CYPHONIC_KEY_SLOT_NEXT]) != key ||
	    READ_ONCE(key->retired))
		return;
	spin_lock_bh(&kr->lock);
	if (rcu_access_pointer(kr->slot[CYPHONIC_KEY_SLOT_NEXT]) == key &&
	    !READ_ONCE(key->retired))
		cyph_keyring_swap_locked(kr);
	spin_unlock_bh(&kr->lock);
}
