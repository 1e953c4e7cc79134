// SPDX-License-Identifier: GPL-2.0
/*
 * The key lifecycle, in one place (docs/kernel.md, "Key lifecycle"):
 *
 *   install   cyph_keyring_set(): refuses TX == RX and any key the tunnel
 *             has used before, then creates and installs the keys
 *   limits    cyph_key_tx_counter() (TX), cyph_keyring_rx_key() (RX):
 *             per-cipher message limits and a time limit, an event before
 *             the hard stop
 *   swap      cyph_keyring_swap(): next -> primary; refused for a retired key
 *   promotion cyph_keyring_promote(): RX switches to a next key the peer
 *             uses, and says so with an event
 *   expiry    a retired key serves RX for CYPHONIC_RETIRED_RX_SECONDS only
 *
 * A key is freed from a workqueue one RCU grace period after its last
 * reference is dropped: readers find keys under RCU and may still try to
 * take a reference, and freeing a transform may sleep on some drivers.
 * cyph_aead_free() wipes the keys (crypto_free_aead() the expanded AES
 * key, kfree_sensitive() ours); the raw key never leaves the netlink
 * request, which netlink.c wipes.
 */

#include <crypto/algapi.h>
#include <linux/jiffies.h>
#include <linux/random.h>
#include <linux/slab.h>

#include "crypto.h"
#include "events.h"
#include "keys.h"

#define CYPH_REKEY_AFTER_TIME	(CYPHONIC_REKEY_AFTER_SECONDS * (u64)HZ)
#define CYPH_REJECT_AFTER_TIME	(CYPHONIC_REJECT_AFTER_SECONDS * (u64)HZ)
#define CYPH_RETIRED_RX_TIME	(CYPHONIC_RETIRED_RX_SECONDS * (u64)HZ)
/* A request installs at most two keys, each with a TX and an RX half. */
#define CYPH_KEYS_PER_SET	(2 * __CYPHONIC_KEY_SLOT_MAX)

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

	cyph_aead_free(key->tx);
	cyph_aead_free(key->rx);
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

/* ---- limits -------------------------------------------------------------- */

/*
 * AES-GCM's confidentiality bound is far lower than ChaCha20-Poly1305's
 * (RFC 9001 section 6.6); see the uapi header for the numbers.
 */
static void cyph_key_set_limits(struct cyph_key *key,
				enum cyphonic_cipher cipher)
{
	if (cipher == CYPHONIC_CIPHER_AES_GCM) {
		key->rekey_msgs = CYPHONIC_AES_GCM_REKEY_AFTER_MESSAGES;
		key->reject_msgs = CYPHONIC_AES_GCM_REJECT_AFTER_MESSAGES;
	} else {
		key->rekey_msgs = CYPHONIC_REKEY_AFTER_MESSAGES;
		key->reject_msgs = CYPHONIC_REJECT_AFTER_MESSAGES;
	}
}

static bool cyph_key_older_than(const struct cyph_key *key, u64 age)
{
	return time_after_eq64(get_jiffies_64(), key->created + age);
}

/* A retired key only serves packets in flight, for a bounded time. */
static bool cyph_key_retired_expired(const struct cyph_key *key)
{
	u64 retired = READ_ONCE(key->retired);

	return retired &&
	       time_after_eq64(get_jiffies_64(), retired + CYPH_RETIRED_RX_TIME);
}

/* Tell user space once per key that it should rekey now. */
static void cyph_key_near_limit(struct cyph_keyring *kr, struct cyph_key *key,
				u64 counter)
{
	if (test_and_set_bit(CYPH_KEY_LIMIT_SENT, &key->flags))
		return;
	if (kr->tunnel)
		cyph_ntf_key_limit(kr->tunnel, key, counter);
}

/**
 * cyph_key_tx_counter() - take the next counter to send under @key
 * @kr: key ring @key came from
 * @key: the primary key, referenced by the caller
 * @counter: the counter to use
 *
 * The counter stops incrementing at the cipher's reject limit, so that a
 * (key, nonce) pair cannot repeat however long we run.
 *
 * Context: the tunnel's TX sequencing lock (counters follow arrival order).
 * Return: 0, or the drop reason: TX_DROP_KEY_EXHAUSTED at the message
 * limit, TX_DROP_KEY_EXPIRED at the time limit.
 */
enum cyphonic_stat cyph_key_tx_counter(struct cyph_keyring *kr,
				       struct cyph_key *key, u64 *counter)
{
	if (unlikely(cyph_key_older_than(key, CYPH_REJECT_AFTER_TIME)))
		return CYPHONIC_STAT_TX_DROP_KEY_EXPIRED;
	*counter = (u64)atomic64_fetch_add_unless(&key->tx_counter, 1,
						  (s64)key->reject_msgs);
	if (unlikely(*counter >= key->reject_msgs))
		return CYPHONIC_STAT_TX_DROP_KEY_EXHAUSTED;
	if (unlikely(*counter >= key->rekey_msgs ||
		     cyph_key_older_than(key, CYPH_REKEY_AFTER_TIME)))
		cyph_key_near_limit(kr, key, *counter);
	return 0;
}

/* ---- creation ------------------------------------------------------------ */

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

	key = kzalloc(sizeof(*key), GFP_KERNEL_ACCOUNT);
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
	cyph_key_set_limits(key, cipher);
	key->created = get_jiffies_64();
	key->id = id;
	kref_init(&key->ref);
	return key;

err_tx:
	cyph_aead_free(key->tx);
err_free:
	kfree(key);
	return ERR_PTR(err);
}

/* ---- the ring ------------------------------------------------------------ */

void cyph_keyring_init(struct cyph_keyring *kr, struct cyph_tunnel *t)
{
	spin_lock_init(&kr->lock);
	RCU_INIT_POINTER(kr->slot[CYPHONIC_KEY_SLOT_PRIMARY], NULL);
	RCU_INIT_POINTER(kr->slot[CYPHONIC_KEY_SLOT_NEXT], NULL);
	get_random_bytes(&kr->used.salt, sizeof(kr->used.salt));
	kr->used.n = 0;
	kr->used.cap = 0;
	kr->used.fp = NULL;
	kr->tunnel = t;
}

/* The tunnel is going away: drop both keys and forget the history. */
void cyph_keyring_destroy(struct cyph_keyring *kr)
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
	kfree(kr->used.fp);
	kr->used.fp = NULL;
	kr->used.n = 0;
	kr->used.cap = 0;
	memzero_explicit(&kr->used.salt, sizeof(kr->used.salt));
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

/* The key in either slot with key id @id, with a reference, or NULL. */
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
 * cyph_keyring_rx_key() - the key a received DATA packet names
 * @kr: key ring
 * @id: key id from the header
 * @counter: counter from the header
 * @keyp: the key, with a reference, when 0 is returned
 *
 * Refused before any decryption: a counter the sender may never use, a
 * key past its time limit, a retired key past its grace time, a counter
 * the key's replay window has already seen or left behind.
 *
 * Return: 0, RX_DROP_NO_KEY, RX_DROP_KEY_EXPIRED or RX_DROP_REPLAY.
 */
enum cyphonic_stat cyph_keyring_rx_key(struct cyph_keyring *kr, u8 id,
				       u64 counter, struct cyph_key **keyp)
{
	struct cyph_key *key = cyph_keyring_by_id(kr, id);

	if (!key)
		return CYPHONIC_STAT_RX_DROP_NO_KEY;
	if (unlikely(counter >= key->reject_msgs ||
		     cyph_key_older_than(key, CYPH_REJECT_AFTER_TIME) ||
		     cyph_key_retired_expired(key))) {
		cyph_key_put(key);
		return CYPHONIC_STAT_RX_DROP_KEY_EXPIRED;
	}
	if (unlikely(cyph_replay_seen(&key->replay, counter))) {
		cyph_key_put(key);
		return CYPHONIC_STAT_RX_DROP_REPLAY;
	}
	*keyp = key;
	return 0;
}

/**
 * cyph_keyring_install() - put new keys into slots
 * @kr: key ring
 * @keys: per slot, a new key (reference passed) or NULL to keep the slot
 *
 * The slot step of cyph_keyring_set(), which checks the keys first. RX
 * finds keys by id, so the two slots must never carry the same id. The
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

/* ---- install: the used-key memory ----------------------------------------- */

static u64 cyph_key_fingerprint(const struct cyph_key_history *h, const u8 *b)
{
	return siphash(b, CYPHONIC_KEY_LEN, &h->salt);
}

static bool cyph_key_history_has(const struct cyph_key_history *h, u64 fp)
{
	unsigned int i;

	for (i = 0; i < h->n; i++)
		if (h->fp[i] == fp)
			return true;
	return false;
}

/* Room for @more fingerprints, so that recording them cannot fail. */
static int cyph_key_history_reserve(struct cyph_key_history *h,
				    unsigned int more)
{
	unsigned int cap;
	u64 *fp;

	if (h->n + more <= h->cap)
		return 0;
	cap = clamp_t(unsigned int, max(2 * h->cap, h->n + more), 8,
		      CYPHONIC_KEY_HISTORY);
	fp = krealloc_array(h->fp, cap, sizeof(*fp), GFP_KERNEL_ACCOUNT);
	if (!fp)
		return -ENOMEM;
	h->fp = fp;
	h->cap = cap;
	return 0;
}

/*
 * Check the keys of one request: each TX differs from its RX, no key
 * appears twice in the request, none was used before by this tunnel, and
 * the memory has room for them. @fp receives their fingerprints.
 * Return: the number of fingerprints, or a negative errno with @extack set.
 */
static int cyph_key_check_new(const struct cyph_key_history *h,
			      const struct cyph_key_cfg *cfg,
			      u64 fp[CYPH_KEYS_PER_SET],
			      struct netlink_ext_ack *extack)
{
	unsigned int n = 0, i, j;

	for (i = 0; i < __CYPHONIC_KEY_SLOT_MAX; i++) {
		if (!cfg[i].set)
			continue;
		if (!crypto_memneq(cfg[i].tx, cfg[i].rx, CYPHONIC_KEY_LEN)) {
			NL_SET_ERR_MSG(extack, "the TX key equals the RX key");
			return -EINVAL;
		}
		fp[n++] = cyph_key_fingerprint(h, cfg[i].tx);
		fp[n++] = cyph_key_fingerprint(h, cfg[i].rx);
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < i; j++) {
			if (fp[i] == fp[j]) {
				NL_SET_ERR_MSG(extack, "the same key is given twice");
				return -EINVAL;
			}
		}
		if (cyph_key_history_has(h, fp[i])) {
			NL_SET_ERR_MSG(extack,
				       "this key was already used by this tunnel: reusing it would repeat nonces");
			return -EKEYREJECTED;
		}
	}
	if (h->n + n > CYPHONIC_KEY_HISTORY) {
		NL_SET_ERR_MSG(extack,
			       "this tunnel has used all the keys it can remember: create a new tunnel");
		return -ENOSPC;
	}
	return n;
}

/**
 * cyph_keyring_set() - install the keys of a TUNNEL_NEW/TUNNEL_SET request
 * @kr: key ring
 * @cipher: the device's cipher
 * @cfg: __CYPHONIC_KEY_SLOT_MAX entries, per slot the key to install
 *	 (slots not set are kept)
 * @extack: error reporting
 *
 * Every key a tunnel installs is remembered (by fingerprint) for the
 * tunnel's lifetime and refused if it comes again: a reinstalled key
 * would start its counter at 0 again and repeat nonces.
 *
 * Context: process context; installs serialised by the caller (cd->lock).
 * Return: 0, or a negative errno with @extack set; nothing is installed
 * or remembered then.
 */
int cyph_keyring_set(struct cyph_keyring *kr, enum cyphonic_cipher cipher,
		     const struct cyph_key_cfg *cfg,
		     struct netlink_ext_ack *extack)
{
	struct cyph_key *keys[__CYPHONIC_KEY_SLOT_MAX] = {};
	u64 fp[CYPH_KEYS_PER_SET];
	int n, i, err;

	n = cyph_key_check_new(&kr->used, cfg, fp, extack);
	if (n < 0)
		return n;
	err = cyph_key_history_reserve(&kr->used, n);
	if (err)
		return err;
	for (i = 0; i < __CYPHONIC_KEY_SLOT_MAX; i++) {
		if (!cfg[i].set)
			continue;
		keys[i] = cyph_key_create(cipher, cfg[i].id, cfg[i].tx, cfg[i].rx);
		if (IS_ERR(keys[i])) {
			err = PTR_ERR(keys[i]);
			keys[i] = NULL;
			NL_SET_ERR_MSG(extack, "cannot set up the cipher for this key");
			goto err;
		}
	}
	err = cyph_keyring_install(kr, keys);
	if (err) {
		NL_SET_ERR_MSG(extack, "the primary and next key need different key ids");
		err = -EINVAL;
		goto err;
	}
	for (i = 0; i < n; i++)
		kr->used.fp[kr->used.n++] = fp[i];
	return 0;

err:
	for (i = 0; i < __CYPHONIC_KEY_SLOT_MAX; i++)
		cyph_key_put(keys[i]);
	return err;
}

/* ---- swap and promotion --------------------------------------------------- */

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
	 * The demoted key only serves packets still in flight, for a
	 * bounded time; the peer using it must not make us switch back.
	 */
	if (p)
		WRITE_ONCE(p->retired, get_jiffies_64() ?: 1);
}

/**
 * cyph_keyring_swap() - CYPHONIC_CMD_KEY_SWAP: make the next key primary
 * @kr: key ring
 * @extack: error reporting
 *
 * The old primary stays as next, retired, so packets still in flight
 * under it are accepted. A retired key in the next slot is never swapped
 * back in: after a promotion or an earlier swap that would put an old key
 * back in use, which user space racing the kernel would not want.
 *
 * Return: 0, -ENOKEY (no next key) or -EKEYREVOKED (next key retired).
 */
int cyph_keyring_swap(struct cyph_keyring *kr, struct netlink_ext_ack *extack)
{
	struct cyph_key *n;
	int err = 0;

	spin_lock_bh(&kr->lock);
	n = rcu_dereference_protected(kr->slot[CYPHONIC_KEY_SLOT_NEXT],
				      lockdep_is_held(&kr->lock));
	if (!n) {
		NL_SET_ERR_MSG(extack, "the tunnel has no next key to swap in");
		err = -ENOKEY;
	} else if (READ_ONCE(n->retired)) {
		NL_SET_ERR_MSG(extack,
			       "the next key is retired (it was primary): install a new next key");
		err = -EKEYREVOKED;
	} else {
		cyph_keyring_swap_locked(kr);
	}
	spin_unlock_bh(&kr->lock);
	return err;
}

/**
 * cyph_keyring_promote() - RX authenticated a packet under @key
 * @kr: key ring
 * @key: its key
 *
 * A packet under our next key means the peer has switched: switch too,
 * which makes a rekey need a swap on one side only, and tell user space
 * (KEY_PROMOTED_NTF) so it does not swap as well. Only a key installed as
 * next and never used as primary is promoted; after a swap the old
 * primary sits in the next slot and late packets under it must not switch
 * us back.
 *
 * Context: the tunnel's RX serial stage.
 * Return: true if @key was promoted now.
 */
bool cyph_keyring_promote(struct cyph_keyring *kr, struct cyph_key *key)
{
	bool promote;

	/* Unlocked peek: almost every packet uses the primary key. */
	if (rcu_access_pointer(kr->slot[CYPHONIC_KEY_SLOT_NEXT]) != key ||
	    READ_ONCE(key->retired))
		return false;
	spin_lock_bh(&kr->lock);
	promote = rcu_access_pointer(kr->slot[CYPHONIC_KEY_SLOT_NEXT]) == key &&
		  !READ_ONCE(key->retired);
	if (promote)
		cyph_keyring_swap_locked(kr);
	spin_unlock_bh(&kr->lock);
	if (promote && kr->tunnel)
		cyph_ntf_key_promoted(kr->tunnel, key);
	return promote;
}

/* ---- reporting ------------------------------------------------------------ */

u64 cyph_key_age_ms(const struct cyph_key *key)
{
	return jiffies64_to_msecs(get_jiffies_64() - key->created);
}

/* Milliseconds since @key left the primary slot, U64_MAX if it never did. */
u64 cyph_key_retired_ms(const struct cyph_key *key)
{
	u64 retired = READ_ONCE(key->retired);

	return retired ? jiffies64_to_msecs(get_jiffies_64() - retired) : U64_MAX;
}
