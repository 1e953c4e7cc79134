// SPDX-License-Identifier: MIT
/*
 * Rekeying a tunnel without loss: the side that made the tunnel runs a
 * new handshake over the same indices every [node] rekey_after (either
 * side at once when the kernel says a key nears its limits,
 * KEY_LIMIT_NTF). Both ends put the new keys into the NEXT slot with the
 * next key id; the rekey's initiator swaps (its TX moves to the new key)
 * and the responder's kernel promotes the key on the first packet under
 * it. The responder installs before it sends its last flight, so no
 * packet under the new key can arrive before the key.
 */
#include <string.h>
#include <sys/socket.h>
#include <linux/cyphonic.h>
#include "e2e/frame.h"
#include "runtime/evloop.h"
#include "wire/proto_udp.h"
#include "cyphonicd.h"
#include "tunnels.h"

#define REKEY_RETRY_MS 10000

/* The timer tries a failed rekey again in REKEY_RETRY_MS (or a period). */
void cyd_rekey_retry_soon(struct cyd_tunnels *t, struct cyd_tun *u)
{
	uint64_t period = (uint64_t)t->d->cfg.rekey_after_ms;

	u->keyed_ms = cyph_now_ms() - period + (period < REKEY_RETRY_MS ? period : REKEY_RETRY_MS);
}

bool cyd_rekey_due(const struct cyd_tunnels *t, const struct cyd_tun *u)
{
	return u->installed && u->initiator && !u->rekeying &&
	       cyph_now_ms() - u->keyed_ms >= (uint64_t)t->d->cfg.rekey_after_ms;
}

/* A finished rekey: the new keys into the NEXT slot; its initiator swaps. */
void cyd_rekey_install(struct cyd_tunnels *t, struct cyd_tun *u)
{
	struct cyd_kdev *k = &t->d->kdev;
	uint8_t id = (u->key_id + 1) & CYPHONIC_DATA_F_KEY_ID_MASK;
	bool swap = e2e_session_is_initiator(u->hs);
	struct e2e_keys keys;
	char why[320];
	int rc;

	u->rekeying = false;
	if (e2e_session_keys(u->hs, &keys))
		return;
	rc = kern_cyph_tunnel_key(&k->genl, k->ifindex, u->index, CYPHONIC_KEY_SLOT_NEXT, id,
				  keys.tx, keys.rx);
	explicit_bzero(&keys, sizeof(keys));
	if (!rc && swap)
		rc = kern_cyph_key_swap(&k->genl, k->ifindex, u->index);
	if (rc) {
		log_err("rekey of tunnel %u to %s: %s", u->index, u->who.fqdn,
			kern_nl_strerror(&k->genl.nl, rc, why, sizeof(why)));
		cyd_metrics_rekey(false);
		cyd_rekey_retry_soon(t, u);
		return;
	}
	u->key_id = id;
	u->keyed_ms = cyph_now_ms();
	if (e2e_session_peer(u->hs) && e2e_session_peer(u->hs)->not_after != u->peer_not_after) {
		/* the peer renewed its credential: the tunnel lives on with it */
		u->peer_not_after = e2e_session_peer(u->hs)->not_after;
		u->expiry_rekeyed = false;
	}
	cyd_status_keyed(u, true);
	cyd_metrics_rekey(true);
	log_info("tunnel %u to %s rekeyed: key id %u%s, handshake %llu ms", u->index,
		 u->who.fqdn, id, swap ? ", swapped" : ", promoted on the peer's first packet",
		 (unsigned long long)(cyph_now_ms() - u->hs_ms));
}

void cyd_rekey_start(struct cyd_tunnels *t, struct cyd_tun *u)
{
	enum e2e_result why;

	if (u->hs && e2e_session_state(u->hs) == E2E_ST_HANDSHAKE)
		return;	/* one handshake per tunnel at a time */
	e2e_session_free(u->hs);
	u->hs_ms = cyph_now_ms();
	u->hs = e2e_connect(cyd_tun_ctx(t, u), u->index, u->peer_index, &u->who, proto_now_ms(), &why);
	if (!u->hs) {
		log_err("rekey start: %s", e2e_result_name(why));
		cyd_metrics_rekey(false);
		cyd_rekey_retry_soon(t, u);
		return;
	}
	u->rekeying = u->hs_rekey = true;
	cyd_tun_progress(t, u);
}

/* The peer's ClientHello naming our index: it rekeys the tunnel. */
bool cyd_rekey_accept(struct cyd_tunnels *t, struct cyd_tun *u, int fd, const uint8_t *pkt,
			 size_t len, const struct sockaddr_storage *from, socklen_t flen)
{
	uint8_t reply[E2E_DGRAM_MAX];
	size_t reply_len = 0;
	struct e2e_session *s = NULL;

	/*
	 * Our own first handshake is still running (False Start installed
	 * the tunnel before the peer's Finished): nothing may replace it, or
	 * a ClientHello naming our index (sent in clear) would spare it the
	 * Finished and the extended master secret checks. Dropped.
	 */
	if (u->early)
		return true;
	/* A retransmitted ClientHello of a rekey we answer already. */
	if (u->hs && e2e_session_state(u->hs) == E2E_ST_HANDSHAKE &&
	    !e2e_session_is_initiator(u->hs))
		return false;
	e2e_accept(cyd_tun_ctx(t, u), pkt, len, from, flen, u->index, &u->who, proto_now_ms(), &s, reply,
		   &reply_len);
	if (reply_len && u->relay)
		cyd_tun_send(t, u, reply, reply_len);
	else if (reply_len)
		sendto(fd, reply, reply_len, 0, (const struct sockaddr *)from, flen);
	if (!s)
		return true;
	e2e_session_free(u->hs);
	u->hs = s;
	u->hs_ms = cyph_now_ms();
	u->rekeying = u->hs_rekey = true;
	cyd_tun_progress(t, u);
	return true;
}
