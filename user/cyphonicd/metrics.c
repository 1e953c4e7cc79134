// SPDX-License-Identifier: MIT
/*
 * cyphonicd /metrics. Every series exists from the start (a path with no
 * tunnel reads 0), so dashboards and alerts can be written before the
 * first tunnel.
 */
#include <stdio.h>
#include "runtime/metrics.h"
#include "wire/proto.h"
#include "cyphonicd.h"

static const char *const state_names[] = {
	[CYD_UNREGISTERED] = "unregistered",
	[CYD_REGISTERING] = "registering",
	[CYD_REGISTERED] = "registered",
};

static const char *const paths[CYD_PATH_COUNT] = { "direct", "punched", "relayed" };

const char *cyd_path_name(enum cyd_path p)
{
	return (unsigned int)p < CYD_PATH_COUNT ? paths[p] : "?";
}

static struct {
	struct cyph_gauge *state[3], *tunnels[3], *cred_expiry;
	struct cyph_counter *reg_ok, *reg_retx, *handshake_ok, *handshake_failed;
	struct cyph_counter *reload_ok, *reload_failed, *cred_ok, *cred_failed;
	struct cyph_counter *signal_dropped, *rereg, *rekey_ok, *rekey_failed, *revoked;
	struct cyph_counter *punch_ok, *punch_failed, *bind_ok, *bind_failed, *probe_dropped;
	struct cyph_counter *relay_ctrl_dropped, *route_retry, *peer_expired;
	struct cyph_counter *renew_ok, *renew_failed, *nat_ok, *nat_failed, *repunch;
	struct cyph_gauge *nat[4];
	struct cyph_histogram *route_lat, *rereg_lat;
} m;

/* A counter pair NAME{result="ok"} and NAME{result="failed"}. */
static void by_result(struct cyph_counter **ok, struct cyph_counter **failed, const char *name,
		      const char *help)
{
	*ok = cyph_counter_new(name, help, "result=\"ok\"");
	*failed = cyph_counter_new(name, help, "result=\"failed\"");
}

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
			"installed tunnels by path", labels);
	}
	for (i = 0; i <= PROTO_NAT_SYMMETRIC; i++) {
		snprintf(labels, sizeof(labels), "type=\"%s\"", cyd_nat_name((uint8_t)i));
		m.nat[i] = cyph_gauge_new("cyphonicd_nat_type",
			"1 for the NAT mapping type the node found and tells the NMS", labels);
	}
	cyd_metrics_nat_type(PROTO_NAT_UNKNOWN);
	by_result(&m.nat_ok, &m.nat_failed, "cyphonicd_nat_checks_total",
		  "NAT type checks at the NMS's mapping port: answered, or failed (no answer)");
	m.repunch = cyph_counter_new("cyphonicd_repunches_total",
		"punched tunnels punched again because the node's own public endpoint changed", NULL);
	m.reg_ok = cyph_counter_new("cyphonicd_registrations_total",
		"REGISTER exchanges by result", "result=\"ok\"");
	m.reg_retx = cyph_counter_new("cyphonicd_registrations_total",
		"REGISTER exchanges by result", "result=\"timeout\"");
	m.rereg = cyph_counter_new("cyphonicd_reregistrations_total",
		"re-registrations after an address change", NULL);
	m.rereg_lat = cyph_histogram_new("cyphonicd_reregistration_seconds",
		"address change event to the NMS's REGISTER_ACK", NULL, NULL, 0);
	by_result(&m.handshake_ok, &m.handshake_failed, "cyphonicd_handshakes_total",
		  "end-to-end handshakes by result");
	by_result(&m.rekey_ok, &m.rekey_failed, "cyphonicd_rekeys_total",
		  "tunnel rekeys (new handshake, next slot) by result");
	m.revoked = cyph_counter_new("cyphonicd_tunnels_revoked_total",
		"tunnels removed because the CRL revoked the peer", NULL);
	m.route_lat = cyph_histogram_new("cyphonicd_route_direction_seconds",
		"ROUTE_REQ to ROUTE_RESP", NULL, NULL, 0);
	m.peer_expired = cyph_counter_new("cyphonicd_tunnels_peer_expired_total",
		"tunnels removed because the peer's certificate ended (no renewed one shown)", NULL);
	m.route_retry = cyph_counter_new("cyphonicd_route_retries_total",
		"ROUTE_REQ tries after the first (no answer within the backoff step)", NULL);
	by_result(&m.punch_ok, &m.punch_failed, "cyphonicd_punches_total",
		  "hole punches by result (failed: no authentic probe in time)");
	by_result(&m.bind_ok, &m.bind_failed, "cyphonicd_relay_binds_total",
		  "relay sessions bound at the TRS by result");
	by_result(&m.renew_ok, &m.renew_failed, "cyphonicd_relay_renewals_total",
		  "relay grants renewed in place (the tunnel moved to a new session) by result");
	m.probe_dropped = cyph_counter_new("cyphonicd_probes_dropped_total",
		"hole-punch / relay probes that matched no attempt or failed their MAC", NULL);
	m.relay_ctrl_dropped = cyph_counter_new("cyphonicd_relay_ctrl_dropped_total",
		"RELAY_CTRL datagrams that matched no relay session or failed their MAC", NULL);
	by_result(&m.cred_ok, &m.cred_failed, "cyphonicd_credential_logins_total",
		  "AS logins by result");
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

void cyd_metrics_tunnels(enum cyd_path path, int delta)
{
	if ((unsigned int)path < CYD_PATH_COUNT)
		cyph_gauge_add(m.tunnels[path], delta);
}

void cyd_metrics_punch(bool ok)
{
	cyph_counter_inc(ok ? m.punch_ok : m.punch_failed);
}

void cyd_metrics_relay_bind(bool ok)
{
	cyph_counter_inc(ok ? m.bind_ok : m.bind_failed);
}

void cyd_metrics_probe_dropped(void)
{
	cyph_counter_inc(m.probe_dropped);
}

void cyd_metrics_relay_ctrl_dropped(void)
{
	cyph_counter_inc(m.relay_ctrl_dropped);
}

void cyd_metrics_route_latency(uint64_t start_ns)
{
	cyph_histogram_since(m.route_lat, start_ns);
}

void cyd_metrics_relay_renewal(bool ok)
{
	cyph_counter_inc(ok ? m.renew_ok : m.renew_failed);
}

void cyd_metrics_peer_expired(void)
{
	cyph_counter_inc(m.peer_expired);
}

void cyd_metrics_route_retry(void)
{
	cyph_counter_inc(m.route_retry);
}

void cyd_metrics_rekey(bool ok)
{
	cyph_counter_inc(ok ? m.rekey_ok : m.rekey_failed);
}

void cyd_metrics_peer_revoked(void)
{
	cyph_counter_inc(m.revoked);
}

void cyd_metrics_nat_type(uint8_t type)
{
	for (size_t i = 0; i <= PROTO_NAT_SYMMETRIC; i++)
		cyph_gauge_set(m.nat[i], i == type);
}

void cyd_metrics_nat_check(bool answered)
{
	cyph_counter_inc(answered ? m.nat_ok : m.nat_failed);
}

void cyd_metrics_repunch(void)
{
	cyph_counter_inc(m.repunch);
}
