// SPDX-License-Identifier: MIT
/*
 * The gate in front of password checks, run on the event loop before a
 * request is queued: it finds the account a request would check a
 * password for, charges the account's and the source address's failed-
 * login budgets (asguard/budget.h), and bounds the password queue. A
 * request the gate refuses costs no KDF: it is answered rate-limited at
 * once, so guessing cannot fill the queue legitimate logins wait in.
 */
#include "as.h"
#include "runtime/evloop.h"

#include <inttypes.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Entries per table: far more than accounts or addresses under attack. */
#define GATE_ENTRIES 8192

struct as_gate {
	struct cyph_budget *acct, *addr;
};

struct as_gate *as_gate_new(void)
{
	struct as_gate *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->acct = cyph_budget_new(GATE_ENTRIES);
	g->addr = cyph_budget_new(GATE_ENTRIES);
	if (!g->acct || !g->addr) {
		as_gate_free(g);
		return NULL;
	}
	return g;
}

void as_gate_free(struct as_gate *g)
{
	if (!g)
		return;
	cyph_budget_free(g->acct);
	cyph_budget_free(g->addr);
	free(g);
}

static void policy(const struct cyph_as_config *c, bool strict, struct cyph_budget_policy *p)
{
	p->strict = strict;
	p->free_failures = (unsigned int)c->login_free;
	p->backoff_ms = c->login_backoff_ms;
	p->max_backoff_ms = c->login_max_backoff_ms;
	p->forget_ms = c->login_forget_ms;
}

/*
 * The account key of a password-bearing request, or 0 when the request
 * checks no password (or is malformed: its handler answers that). Node
 * logins are keyed by name (unknown names too, so probing them is
 * budgeted alike); basic general nodes by their adapter and MAC.
 */
static size_t account_key(const uint8_t *frame, size_t len, const struct as_session *s,
			  uint8_t key[CYPH_BUDGET_KEY_MAX])
{
	struct cyph_as_msg m;
	const char *why;
	size_t n = 0;

	if (cyph_as_parse(frame, len, &m))
		return 0;
	if (m.type == CYPH_AS_AUTH_REQ) {
		struct cyph_as_auth_req *q = calloc(1, sizeof(*q));

		if (q && !cyph_as_parse_auth_req(&m, q, &why))
			n = (size_t)snprintf((char *)key, CYPH_BUDGET_KEY_MAX, "n:%s", q->name);
		if (q)
			OPENSSL_cleanse(q, sizeof(*q));
		free(q);
	} else if (m.type == CYPH_AS_GN_AUTH_REQ && s->principal_id) {
		struct cyph_as_gn_auth_req *q = calloc(1, sizeof(*q));
		char mac[18];

		if (q && !cyph_as_parse_gn_auth_req(&m, q, &why) && q->method == CYPH_GN_BASIC) {
			cyph_mac_format(q->mac, mac);
			n = (size_t)snprintf((char *)key, CYPH_BUDGET_KEY_MAX, "g:%" PRIu64 ":%s",
					     s->principal_id, mac);
		}
		if (q)
			OPENSSL_cleanse(q, sizeof(*q));
		free(q);
	}
	return n < CYPH_BUDGET_KEY_MAX ? n : CYPH_BUDGET_KEY_MAX - 1;
}

uint16_t as_gate_admit(struct as_gate *g, const struct cyph_as_config *c, const uint8_t *frame,
		       size_t len, const struct as_session *s, const struct cyph_srckey *src,
		       size_t pw_pending, struct as_ticket *t, char *msg, size_t msglen)
{
	struct cyph_budget_policy pa, pn;
	int64_t now = (int64_t)cyph_now_ms(), wait;

	memset(t, 0, sizeof(*t));
	t->acct_len = account_key(frame, len, s, t->acct);
	if (!t->acct_len)
		return 0;
	t->pw = true;
	t->src = *src;
	if (pw_pending >= (size_t)c->pw_queue) {
		cyph_counter_inc(as_m.rate_limited[AS_RL_QUEUE]);
		snprintf(msg, msglen, "password checks busy: retry in 1 s");
		return CYPH_AS_E_RATE_LIMITED;
	}
	policy(c, false, &pa);
	policy(c, true, &pn);
	wait = cyph_budget_begin(g->addr, &pa, src->b, src->len, now);
	if (wait) {
		cyph_counter_inc(as_m.rate_limited[AS_RL_ADDRESS]);
		snprintf(msg, msglen, "too many failed logins from this address: retry in %" PRId64
			 " ms", wait);
		return CYPH_AS_E_RATE_LIMITED;
	}
	wait = cyph_budget_begin(g->acct, &pn, t->acct, t->acct_len, now);
	if (wait) {
		cyph_budget_end(g->addr, &pa, src->b, src->len, false, false, now);
		cyph_counter_inc(as_m.rate_limited[AS_RL_ACCOUNT]);
		snprintf(msg, msglen, "too many failed logins for this account: retry in %" PRId64
			 " ms", wait);
		return CYPH_AS_E_RATE_LIMITED;
	}
	t->held = true;
	return 0;
}

void as_gate_done(struct as_gate *g, const struct cyph_as_config *c, struct as_ticket *t,
		  uint16_t err_code, const char *peer)
{
	struct cyph_budget_policy pa, pn;
	int64_t now = (int64_t)cyph_now_ms();
	bool failed = err_code == CYPH_AS_E_AUTH_FAILED;
	unsigned int n;

	if (!t->held)
		return;
	t->held = false;
	policy(c, false, &pa);
	policy(c, true, &pn);
	/* a success clears the account, never the address (see budget.h) */
	cyph_budget_end(g->acct, &pn, t->acct, t->acct_len, failed, true, now);
	cyph_budget_end(g->addr, &pa, t->src.b, t->src.len, failed, false, now);
	if (!failed)
		return;
	n = cyph_budget_failures(g->acct, t->acct, t->acct_len);
	if (n == pn.free_failures)
		log_warn("login: %s failed %u times (last from %s): backing off",
			 (const char *)t->acct + 2, n, peer);
	n = cyph_budget_failures(g->addr, t->src.b, t->src.len);
	if (n == pa.free_failures)
		log_warn("login: %u failures from %s: backing off that address", n, peer);
}
