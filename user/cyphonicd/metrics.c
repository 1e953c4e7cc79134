// SPDX-License-Identifier: MIT
/*
 * cyphonicd /metrics. Every series the node is meant to expose exists from
 * the start, also those whose source is not built yet (punched and relayed
 * tunnels): they stay 0, so dashboards and alerts can be written now, and
 * a 0 there is true today.
 */
#include <stdio.h>
#include "runtime/metrics.h"
#include "cyphonicd.h"

static const char *const state_names[] = {
	[CYD_UNREGISTERED] = "unregistered",
	[CYD_REGISTERING] = "registering",
	[CYD_REGISTERED] = "registered",
};

static const char *const paths[] = { "direct", "punched", "relayed" };

static struct {
	struct cyph_gauge *state[3], *tunnels[3], *cred_expiry;
	struct cyph_counter *reg_ok, *reg_retx, *handshake_ok, *handshake_failed;
	struct cyph_counter *reload_ok, *reload_failed, *cred_ok, *cred_failed;
	struct cyph_counter *signal_dropped, *rereg, *rekey_ok, *rekey_failed, *revoked;
	struct cyph_histogram *route_lat, *rereg_lat;
} m;

int cyd_metrics_init(void)
{
	char labels[64];
	size_t i;

	for (i = 0; i < 3; i++) {
		snprintf(labels, sizeof(labels), "state=\"%s\"", state_names[i]);
		m.state[i] = cyph_gauge_new("cyphonicd_registration_state",
			"1 for the node's current NMS registration state", labels);
		snprintf(labels, sizeof(labels), "path=\"%s\"", paths[i]);
		m.tunnels[i] = cyph_gauge_new("cyphonicd_tunnels",
			"tunnels by path (punched and relayed: not built yet)", labels);
	}
	m.reg_ok = cyph_counter_new("cyphonicd_registrations_total",
		"REGISTER exchanges by result", "result=\"ok\"");
	m.reg_retx = cyph_counter_new("cyphonicd_registrations_total",
		"REGISTER exchanges by result", "result=\"timeout\"");
	m.rereg = cyph_counter_new("cyphonicd_reregistrations_total",
		"re-registrations after an address change", NULL);
	m.rereg_lat = cyph_histogram_new("cyphonicd_reregistration_seconds",
		"address change event to the NMS's REGISTER_ACK", NULL, NULL, 0);
	m.handshake_ok = cyph_counter_new("cyphonicd_handshakes_total",
		"end-to-end handshakes by result", "result=\"ok\"");
	m.handshake_failed = cyph_counter_new("cyphonicd_handshakes_total",
		"end-to-end handshakes by result", "result=\"failed\"");
	m.rekey_ok = cyph_counter_new("cyphonicd_rekeys_total",
		"tunnel rekeys (new handshake, next slot) by result", "result=\"ok\"");
	m.rekey_failed = cyph_counter_new("cyphonicd_rekeys_total",
		"tunnel rekeys (new handshake, next slot) by result", "result=\"failed\"");
	m.revoked = cyph_counter_new("cyphonicd_tunnels_revoked_total",
		"tunnels removed because the CRL revoked the peer", NULL);
	m.route_lat = cyph_histogram_new("cyphonicd_route_direction_seconds",
		"ROUTE_REQ to ROUTE_RESP", NULL, NULL, 0);
	m.cred_ok = cyph_counter_new("cyphonicd_credential_logins_total",
		"AS logins by result", "result=\"ok\"");
	m.cred_failed = cyph_counter_new("cyphonicd_credential_logins_total",
		"AS logins by result", "result=\"failed\"");
	m.cred_expiry = cyph_gauge_new("cyphonicd_credential_expiry_seconds",
		"notAfter of the node's certificate, Unix seconds", NULL);
	m.reload_ok = cyph_counter_new("cyphonicd_reloads_total", "SIGHUP reloads",
				       "result=\"ok\"");
	m.reload_failed = cyph_counter_new("cyphonicd_reloads_total", "SIGHUP reloads",
					   "result=\"failed\"");
	m.signal_dropped = cyph_counter_new("cyphonicd_signal_dropped_total",
		"NMS datagrams that failed authentication or were stale", NULL);
	return m.signal_dropped && m.route_lat && m.rereg_lat ? 0 : -1;
}

void cyd_metrics_state(enum cyd_reg_state s)
{
	for (size_t i = 0; i < 3; i++)
		cyph_gauge_set(m.state[i], i == (size_t)s);
}

void cyd_metrics_register(bool ok)
{
	cyph_counter_inc(ok ? m.reg_ok : m.reg_retx);
}

void cyd_metrics_reregistration(uint64_t ms)
{
	cyph_counter_inc(m.rereg);
	cyph_histogram_observe(m.rereg_lat, (double)ms / 1000.0);
}

void cyd_metrics_credential(bool ok, int64_t not_after)
{
	cyph_counter_inc(ok ? m.cred_ok : m.cred_failed);
	if (ok)
		cyph_gauge_set(m.cred_expiry, not_after);
}

void cyd_metrics_reload(bool ok)
{
	cyph_counter_inc(ok ? m.reload_ok : m.reload_failed);
}

void cyd_metrics_signal_dropped(void)
{
	cyph_counter_inc(m.signal_dropped);
}

void cyd_metrics_handshake(bool ok)
{
	cyph_counter_inc(ok ? m.handshake_ok : m.handshake_failed);
}

void cyd_metrics_tunnels_direct(int delta)
{
	cyph_gauge_add(m.tunnels[0], delta);
}

void cyd_metrics_route_latency(uint64_t start_ns)
{
	cyph_histogram_since(m.route_lat, start_ns);
}

void cyd_metrics_rekey(bool ok)
{
	cyph_counter_inc(ok ? m.rekey_ok : m.rekey_failed);
}

void cyd_metrics_peer_revoked(void)
{
	cyph_counter_inc(m.revoked);
}
