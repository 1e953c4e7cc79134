// SPDX-License-Identifier: MIT
/* cyphonic-as Prometheus metrics (listed in docs/operations.md). */
#include "as.h"

#include <stdio.h>

struct as_metrics as_m;

static const char *const kind_names[AS_REQ_NKINDS] = {
	[AS_REQ_AUTH] = "auth", [AS_REQ_GN_LIST] = "gn_list",
	[AS_REQ_GN_AUTH] = "gn_auth", [AS_REQ_OTHER] = "other",
};

enum as_req_kind as_req_kind(uint8_t type)
{
	switch (type) {
	case CYPH_AS_AUTH_REQ: return AS_REQ_AUTH;
	case CYPH_AS_GN_LIST_REQ: return AS_REQ_GN_LIST;
	case CYPH_AS_GN_AUTH_REQ: return AS_REQ_GN_AUTH;
	}
	return AS_REQ_OTHER;
}

static int init_requests(void)
{
	char labels[128];

	for (int k = 0; k < AS_REQ_NKINDS; k++) {
		for (int r = 0; r < AS_NRESULTS; r++) {
			snprintf(labels, sizeof(labels), "type=\"%s\",result=\"%s\"", kind_names[k],
				 r ? cyph_as_err_name((uint16_t)r) : "ok");
			as_m.requests[k][r] = cyph_counter_new("cyphonic_as_requests_total",
				"AS requests by type and result", labels);
			if (!as_m.requests[k][r])
				return -1;
		}
		snprintf(labels, sizeof(labels), "type=\"%s\"", kind_names[k]);
		as_m.latency[k] = cyph_histogram_new("cyphonic_as_request_duration_seconds",
			"Time from a complete request to its queued answer", labels, NULL, 0);
		if (!as_m.latency[k])
			return -1;
	}
	return 0;
}

/* Labelled families: closes by deadline phase, rate limiting by reason. */
static int init_guards(void)
{
	static const char *const reasons[AS_RL_NREASONS] = {
		[AS_RL_ACCOUNT] = "account", [AS_RL_ADDRESS] = "address", [AS_RL_QUEUE] = "queue",
	};
	char labels[64];

	for (int i = 0; i < AS_NPHASES; i++) {
		snprintf(labels, sizeof(labels), "phase=\"%s\"", cyph_conn_phase_name(i));
		as_m.deadline_closed[i] = cyph_counter_new("cyphonic_as_deadline_closed_total",
			"Connections closed because a phase overran its deadline", labels);
		if (!as_m.deadline_closed[i])
			return -1;
	}
	for (int i = 0; i < AS_RL_NREASONS; i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"", reasons[i]);
		as_m.rate_limited[i] = cyph_counter_new("cyphonic_as_rate_limited_total",
			"Password requests answered rate-limited, by budget", labels);
		if (!as_m.rate_limited[i])
			return -1;
	}
	return 0;
}

#define COUNTER(field, name, help) \
	(as_m.field = cyph_counter_new(name, help, NULL)) == NULL

int as_metrics_init(void)
{
	if (init_requests() || init_guards())
		return -1;
	as_m.connections = cyph_gauge_new("cyphonic_as_connections", "Open TLS connections", NULL);
	as_m.draining = cyph_gauge_new("cyphonic_as_draining", "1 while draining after SIGTERM",
				       NULL);
	as_m.pw_pending = cyph_gauge_new("cyphonic_as_password_checks_pending",
					 "Password checks queued or running", NULL);
	if (!as_m.connections || !as_m.draining || !as_m.pw_pending ||
	    COUNTER(accepted, "cyphonic_as_connections_accepted_total", "Accepted connections") ||
	    COUNTER(rejected, "cyphonic_as_connections_rejected_total",
		    "Connections refused at max_connections") ||
	    COUNTER(tls_failures, "cyphonic_as_tls_handshake_failures_total",
		    "Failed TLS handshakes") ||
	    COUNTER(rejected_per_address, "cyphonic_as_connections_rejected_per_address_total",
		    "Connections refused at max_connections_per_address") ||
	    COUNTER(certs_issued, "cyphonic_as_certificates_issued_total",
		    "Node certificates issued") ||
	    COUNTER(crl_writes, "cyphonic_as_crl_writes_total", "CRL files written") ||
	    COUNTER(reload_ok, "cyphonic_as_reloads_total", "Successful SIGHUP reloads") ||
	    COUNTER(reload_failed, "cyphonic_as_reload_failures_total",
		    "SIGHUP reloads rejected (old config kept)"))
		return -1;
	return 0;
}

void as_count_request(uint8_t type, uint16_t err_code, uint64_t start_ns)
{
	enum as_req_kind k = as_req_kind(type);

	cyph_counter_inc(as_m.requests[k][err_code < AS_NRESULTS ? err_code : CYPH_AS_E_INTERNAL]);
	if (start_ns)
		cyph_histogram_since(as_m.latency[k], start_ns);
}
