/* SPDX-License-Identifier: MIT */
/*
 * Outcomes of the end-to-end key agreement, for the daemon to log and
 * count (e.g. as a metric label: e2e_result_name()). E2E_DROP_* concern
 * one datagram (the handshake, if any, goes on); E2E_FAIL_* end a
 * handshake without keys.
 */
#ifndef CYPHONIC_E2E_RESULT_H
#define CYPHONIC_E2E_RESULT_H

enum e2e_result {
	E2E_OK = 0,		/* handshake complete: keys available */
	E2E_PENDING,		/* handshake goes on */
	E2E_COOKIE_SENT,	/* accept: answered with a stateless HelloVerifyRequest */
	E2E_DROP_MALFORMED,	/* not a HANDSHAKE/DTLS datagram for this session */
	E2E_DROP_NOT_HELLO,	/* accept: not a ClientHello (no session to join) */
	E2E_DROP_BUDGET,	/* accept: the source's handshake budget is spent */
	E2E_DROP_FULL,		/* accept: too many handshakes in progress */
	E2E_FAIL_UNTRUSTED,	/* peer certificate does not chain to the AS CA */
	E2E_FAIL_EXPIRED,	/* peer certificate outside its validity period */
	E2E_FAIL_REVOKED,	/* peer certificate listed in the CRL */
	E2E_FAIL_BAD_CERT,	/* malformed, not Ed25519, bad cyphonic SANs */
	E2E_FAIL_PEER_MISMATCH,	/* valid certificate of someone else (id, name, VIP) */
	E2E_FAIL_PEER_ALERT,	/* the peer aborted (it refused us, or failed) */
	E2E_FAIL_PROTOCOL,	/* DTLS failure: bad signature or MAC, tampering */
	E2E_FAIL_TIMEOUT,	/* no completion within the handshake timeout */
	E2E_FAIL_INTERNAL,	/* out of memory, OpenSSL misuse */
	E2E_FAIL_POLICY,	/* valid peer the access policy does not allow (pki/policy.h) */
	E2E_RESULT_COUNT
};

/* "ok", "pending", ..., "fail_timeout": stable names for logs and metrics. */
const char *e2e_result_name(enum e2e_result r);

#endif
