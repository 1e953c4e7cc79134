// SPDX-License-Identifier: MIT
/* Names of the e2e outcomes (result.h). */
#include "result.h"

static const char *const names[E2E_RESULT_COUNT] = {
	[E2E_OK] = "ok",
	[E2E_PENDING] = "pending",
	[E2E_COOKIE_SENT] = "cookie_sent",
	[E2E_DROP_MALFORMED] = "drop_malformed",
	[E2E_DROP_NOT_HELLO] = "drop_not_hello",
	[E2E_DROP_BUDGET] = "drop_budget",
	[E2E_DROP_FULL] = "drop_full",
	[E2E_FAIL_UNTRUSTED] = "fail_untrusted",
	[E2E_FAIL_EXPIRED] = "fail_expired",
	[E2E_FAIL_REVOKED] = "fail_revoked",
	[E2E_FAIL_BAD_CERT] = "fail_bad_cert",
	[E2E_FAIL_PEER_MISMATCH] = "fail_peer_mismatch",
	[E2E_FAIL_PEER_ALERT] = "fail_peer_alert",
	[E2E_FAIL_PROTOCOL] = "fail_protocol",
	[E2E_FAIL_TIMEOUT] = "fail_timeout",
	[E2E_FAIL_INTERNAL] = "fail_internal",
	[E2E_FAIL_POLICY] = "fail_policy",
};

const char *e2e_result_name(enum e2e_result r)
{
	return (unsigned int)r < E2E_RESULT_COUNT ? names[r] : "unknown";
}
