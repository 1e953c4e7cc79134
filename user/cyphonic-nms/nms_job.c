// SPDX-License-Identifier: MIT
/*
 * The expensive half of a full REGISTER (nms.h, struct nms_job): what a
 * worker thread does with nothing but the job and its verifier, so that
 * signature checks scale with cores and never hold up the event loop's
 * keepalives. The engine did the cheap checks before (nms_core.c input())
 * and finishes the registration after (nms_job_done()).
 */
#include <stdlib.h>
#include <openssl/crypto.h>
#include "nms.h"
#include "wire/proto_crypto.h"

void nms_job_work(struct nms_job *j)
{
	struct proto_msg m;
	uint8_t priv[32];
	char err[256];
	int rc;

	/* Parsed by the engine already: cannot fail, but no pointers cross threads. */
	if (proto_msg_parse(j->pkt, j->len, &m)) {
		j->rc = PROTO_E_MALFORMED;
		return;
	}
	if (!j->cached) {
		j->rc = j->verify(j->verify_arg, m.cert, m.cert_len, j->now_ms / 1000, &j->id,
				  err, sizeof(err));
		if (j->rc)
			return;
		if (j->id.id != m.hdr.node_id) {
			j->rc = PROTO_E_ID_MISMATCH;
			return;
		}
	}
	if (!proto_ed25519_verify(j->id.pubkey, j->pkt, m.signed_len, m.auth_tag)) {
		j->rc = PROTO_E_BAD_SIGNATURE;
		return;
	}
	proto_x25519_keypair(priv, j->eph_pub);
	rc = proto_x25519_shared(priv, m.ephemeral, j->shared);
	OPENSSL_cleanse(priv, sizeof(priv));
	if (rc) {
		j->rc = PROTO_E_MALFORMED;
		return;
	}
	proto_sha256(j->pkt, j->len, j->req_hash);
	j->rc = PROTO_E_OK;
}

void nms_job_free(struct nms_job *j)
{
	if (!j)
		return;
	OPENSSL_cleanse(j->shared, sizeof(j->shared));
	free(j);
}
