// SPDX-License-Identifier: MIT
/*
 * cyphonic-trs metrics. Forwarding threads count into their own struct
 * trs_stats (no shared cache line on the hot path); a timer sums them into
 * the Prometheus registry.
 */
#include <stdio.h>
#include <string.h>
#include "trsd.h"
#include "trs_sync.h"
#include "wire/proto_udp.h"

static const char *const drop_names[TRS_DROP_COUNT] = {
	[TRS_DROP_MALFORMED] = "malformed",
	[TRS_DROP_NO_SESSION] = "no_session",
	[TRS_DROP_UNKNOWN_PEER] = "unknown_peer",
	[TRS_DROP_PEER_UNBOUND] = "peer_unbound",
	[TRS_DROP_RATE] = "rate_limited",
	[TRS_DROP_FAMILY] = "no_socket_for_family",
	[TRS_DROP_SEND] = "send_error",
	[TRS_DROP_EXPIRED] = "grant_expired",
};

static struct {
	struct cyph_counter *pkts, *bytes, *drops[TRS_DROP_COUNT];
	struct cyph_counter *ctrl[PROTO_RC_CLOSE + 1][PROTO_E_COUNT];
	struct cyph_counter *ctrl_malformed, *created, *expired, *closed;
	struct cyph_counter *reload_ok, *reload_failed, *revoked_ends, *prev_key_binds, *rx_drops,
		*rr_challenged;
	struct cyph_gauge *sessions, *tombstones, *draining;
	struct cyph_histogram *ctrl_lat;
	struct cyph_counter *sync[5];
} m;

static const char *const sync_names[5] = {
	"published", "lookups", "installed", "invalidations", "dropped",
};

int trsd_metrics_init(void)
{
	char labels[96];
	int i, e;

	m.pkts = cyph_counter_new("cyphonic_trs_relayed_packets_total",
				  "packets forwarded between session ends", NULL);
	m.bytes = cyph_counter_new("cyphonic_trs_relayed_bytes_total",
				   "bytes forwarded (relay header excluded)", NULL);
	for (i = 0; i < TRS_DROP_COUNT; i++) {
		snprintf(labels, sizeof(labels), "reason=\"%s\"", drop_names[i]);
		m.drops[i] = cyph_counter_new("cyphonic_trs_dropped_packets_total",
					      "relay packets dropped by reason", labels);
	}
	for (i = PROTO_RC_BIND; i <= PROTO_RC_CLOSE; i += PROTO_RC_CLOSE - PROTO_RC_BIND) {
		for (e = 0; e < PROTO_E_COUNT; e++) {
			snprintf(labels, sizeof(labels), "type=\"%s\",result=\"%s\"",
				 i == PROTO_RC_BIND ? "bind" : "close",
				 proto_err_name((unsigned)e));
			m.ctrl[i][e] = cyph_counter_new("cyphonic_trs_requests_total",
				"TRS control requests by type and result", labels);
		}
	}
	m.ctrl_malformed = cyph_counter_new("cyphonic_trs_requests_total",
		"TRS control requests by type and result",
		"type=\"unknown\",result=\"malformed\"");
	m.created = cyph_counter_new("cyphonic_trs_sessions_created_total",
				     "relay sessions created", NULL);
	m.expired = cyph_counter_new("cyphonic_trs_sessions_expired_total",
				     "relay sessions ended when idle or past their grant", NULL);
	m.closed = cyph_counter_new("cyphonic_trs_sessions_closed_total",
				    "relay sessions closed by both ends", NULL);
	m.reload_ok = cyph_counter_new("cyphonic_trs_reloads_total", "SIGHUP reloads",
				       "result=\"ok\"");
	m.reload_failed = cyph_counter_new("cyphonic_trs_reloads_total", "SIGHUP reloads",
					   "result=\"failed\"");
	m.sessions = cyph_gauge_new("cyphonic_trs_sessions", "relay sessions", NULL);
	m.rx_drops = cyph_counter_new("cyphonic_trs_udp_rx_dropped_total",
		"datagrams the kernel dropped at the TRS's full receive queues", NULL);
	m.tombstones = cyph_gauge_new("cyphonic_trs_tombstones",
		"ended sessions whose BIND sequence windows are kept for max_skew", NULL);
	m.revoked_ends = cyph_counter_new("cyphonic_trs_revoked_ends_total",
		"session ends unbound because the CRL lists their node", NULL);
	m.rr_challenged = cyph_counter_new("cyphonic_trs_bind_challenged_total",
		"BINDs from an address not proven yet, answered with a challenge", NULL);
	m.prev_key_binds = cyph_counter_new("cyphonic_trs_previous_key_requests_total",
		"BIND/CLOSE accepted under the relay key before the last change", NULL);
	m.draining = cyph_gauge_new("cyphonic_trs_draining", "1 while draining", NULL);
	for (i = 0; i < 5; i++) {
		snprintf(labels, sizeof(labels), "event=\"%s\"", sync_names[i]);
		m.sync[i] = cyph_counter_new("cyphonic_trs_store_sync_total",
			"shared session store (Redis): changes published, sessions looked up, "
			"merged, announcements from other replicas, work dropped", labels);
	}
	m.ctrl_lat = cyph_histogram_new("cyphonic_trs_request_seconds",
					"TRS control request handling time", NULL, NULL, 0);
	return m.ctrl_lat ? 0 : -1;
}

static void set(struct cyph_counter *c, uint64_t v)
{
	if (c)
		atomic_store_explicit(&c->v, v, memory_order_relaxed);
}

void trsd_metrics_sync(struct trs *t, const struct trsd_worker *w, size_t n,
		       bool draining)
{
	uint64_t pkts = 0, bytes = 0, drops[TRS_DROP_COUNT] = { 0 }, mal = 0, rx_drops = 0;
	static uint64_t ctrl[PROTO_RC_CLOSE + 1][PROTO_E_COUNT];
	size_t i;
	int d, e;

	memset(ctrl, 0, sizeof(ctrl));
	for (i = 0; i < n; i++) {
		pkts += atomic_load(&w[i].stats.fwd_pkts);
		bytes += atomic_load(&w[i].stats.fwd_bytes);
		mal += atomic_load(&w[i].stats.ctrl_malformed);
		for (d = 0; d < TRS_DROP_COUNT; d++)
			drops[d] += atomic_load(&w[i].stats.drops[d]);
		for (d = 0; d <= PROTO_RC_CLOSE; d++)
			for (e = 0; e < PROTO_E_COUNT; e++)
				ctrl[d][e] += atomic_load(&w[i].stats.ctrl[d][e]);
	}
	set(m.pkts, pkts);
	set(m.bytes, bytes);
	set(m.ctrl_malformed, mal);
	for (d = 0; d < TRS_DROP_COUNT; d++)
		set(m.drops[d], drops[d]);
	for (d = 0; d <= PROTO_RC_CLOSE; d++)
		for (e = 0; e < PROTO_E_COUNT; e++)
			set(m.ctrl[d][e], ctrl[d][e]);
	set(m.created, atomic_load(&t->created));
	set(m.expired, atomic_load(&t->expired));
	set(m.closed, atomic_load(&t->closed));
	cyph_gauge_set(m.sessions, (int64_t)trs_sessions(t));
	cyph_gauge_set(m.tombstones, (int64_t)trs_tombstones(t));
	set(m.revoked_ends, atomic_load(&t->revoked_ends));
	set(m.prev_key_binds, atomic_load(&t->prev_key_binds));
	set(m.rr_challenged, atomic_load(&t->rr_challenged));
	for (i = 0; i < n; i++)
		rx_drops += proto_udp_rx_drops(w[i].fd4) + proto_udp_rx_drops(w[i].fd6);
	set(m.rx_drops, rx_drops);
	cyph_gauge_set(m.draining, draining);
}

void trsd_metrics_store(const struct trs_sync_stats *s)
{
	set(m.sync[0], s->published);
	set(m.sync[1], s->lookups);
	set(m.sync[2], s->installed);
	set(m.sync[3], s->invalidations);
	set(m.sync[4], s->dropped);
}

void trsd_metrics_ctrl_latency(uint64_t start_ns)
{
	cyph_histogram_since(m.ctrl_lat, start_ns);
}

void trsd_metrics_reload(bool ok)
{
	cyph_counter_inc(ok ? m.reload_ok : m.reload_failed);
}
