// SPDX-License-Identifier: MIT
/*
 * cyphonic-nms metrics. The engine keeps plain counters (it is single
 * threaded); a timer copies them into the Prometheus registry, so the hot
 * path pays no atomic operation per counter.
 */
#include <stdio.h>
#include "nmsd.h"

static const uint8_t node_ops[] = {
	PROTO_OP_REGISTER, PROTO_OP_KEEPALIVE, PROTO_OP_ROUTE_REQ,
	PROTO_OP_NOTIFY_ACK, PROTO_OP_DEREGISTER, PROTO_OP_MAPPING,
};
#define NOPS (sizeof(node_ops) / sizeof(node_ops[0]))

static struct {
	struct cyph_counter *req[PROTO_OP_MAX + 1][PROTO_E_COUNT];
	struct cyph_histogram *lat[PROTO_OP_MAX + 1];
	struct cyph_counter *bad_header, *registered, *refreshed, *expired,
		*deregistered, *revoked, *roamed, *routes[PROTO_MODE_RELAY + 1],
		*cert_cached, *notify_sent, *notify_retrans, *notify_lost, *notify_untracked,
		*notify_adopted, *errors_sent,
		*errors_suppressed, *reload_ok, *reload_failed, *send_dropped, *before_boot,
		*addrs_dropped, *quota[4], *cookies_sent, *cookies_suppressed, *cookie_refused, *rr_challenged,
		*rr_moved, *policy_denied, *verify_queued, *verify_dropped;
	struct cyph_gauge *active, *pending, *draining, *identity, *verify_depth;
	struct cyph_counter *rx_drops, *rx_reg_drops, *renew_ok, *renew_failed;
} m;

#define C(name, help) cyph_counter_new("cyphonic_nms_" name, help, NULL)

int nmsd_metrics_init(void)
{
	static const char *const modes[] = { "", "direct", "punch", "relay" };
	char labels[96];
	size_t i;
	int e;

	for (i = 0; i < NOPS; i++) {
		uint8_t op = node_ops[i];

		for (e = 0; e < PROTO_E_COUNT; e++) {
			snprintf(labels, sizeof(labels), "type=\"%s\",result=\"%s\"",
				 proto_op_name(op), proto_err_name((unsigned)e));
			m.req[op][e] = cyph_counter_new("cyphonic_nms_requests_total",
				"NMS requests by type and result", labels);
		}
		snprintf(labels, sizeof(labels), "type=\"%s\"", proto_op_name(op));
		m.lat[op] = cyph_histogram_new("cyphonic_nms_request_seconds",
			"NMS request handling time", labels, NULL, 0);
	}
	for (i = 1; i <= PROTO_MODE_RELAY; i++) {
		snprintf(labels, sizeof(labels), "mode=\"%s\"", modes[i]);
		m.routes[i] = cyph_counter_new("cyphonic_nms_routes_total",
					       "route directions by mode", labels);
	}
	m.bad_header = C("bad_header_total", "datagrams without a valid SIGNAL header");
	m.registered = C("registrations_total", "full registrations accepted");
	m.refreshed = C("refreshes_total", "registration refreshes accepted");
	m.cert_cached = C("cert_cached_total",
			  "full registrations whose certificate was already verified");
	m.expired = C("expired_total", "registrations expired without keepalive");
	m.deregistered = C("deregistered_total", "registrations ended by DEREGISTER");
	m.revoked = C("revoked_total", "registrations dropped after a CRL change");
	m.roamed = C("roamed_total", "observed endpoint changes");
	m.notify_sent = C("notify_sent_total", "PEER_NOTIFY sent");
	m.notify_retrans = C("notify_retransmits_total", "PEER_NOTIFY retransmissions");
	m.notify_lost = C("notify_lost_total", "PEER_NOTIFY never acknowledged");
	m.notify_untracked = C("notify_untracked_total",
			       "PEER_NOTIFY sent without retransmission (table full)");
	m.notify_adopted = C("notify_adopted_total",
			     "PEER_NOTIFY taken over from a replica that stopped resending it");
	m.errors_sent = C("errors_sent_total", "ERROR replies sent");
	m.errors_suppressed = C("errors_suppressed_total", "ERROR replies over the budget");
	m.before_boot = C("before_boot_total",
			  "requests timestamped before this process started (in-process store)");
	m.quota[0] = cyph_counter_new("cyphonic_nms_quota_exceeded_total",
		"requests answered RATE_LIMITED by a per-node quota", "quota=\"route\"");
	m.quota[1] = cyph_counter_new("cyphonic_nms_quota_exceeded_total",
		"requests answered RATE_LIMITED by a per-node quota", "quota=\"relay\"");
	m.quota[2] = cyph_counter_new("cyphonic_nms_quota_exceeded_total",
		"requests answered RATE_LIMITED by a per-node quota", "quota=\"notify\"");
	m.quota[3] = cyph_counter_new("cyphonic_nms_quota_exceeded_total",
		"requests answered RATE_LIMITED by a per-node quota", "quota=\"source\"");
	m.cookies_sent = C("cookies_sent_total",
			   "COOKIE answers to full REGISTERs without a valid cookie, under load");
	m.cookies_suppressed = C("cookies_suppressed_total",
				 "COOKIE answers not sent: over the source address's budget ([nms] cookie_rate)");
	m.cookie_refused = C("cookie_refused_total",
			     "full REGISTERs whose cookie was wrong, stale or for another address");
	m.rr_challenged = C("roam_challenged_total",
			    "authenticated messages from a new address not yet proven (challenged)");
	m.rr_moved = C("roam_proven_total",
		       "observed endpoints moved after the new address echoed its challenge");
	m.policy_denied = C("policy_denied_total",
			    "route requests the access policy refused (answered NOT_FOUND)");
	m.verify_queued = C("verify_queued_total",
			    "full REGISTERs whose certificate and signature went to a worker thread");
	m.verify_dropped = C("verify_dropped_total",
			     "full REGISTERs dropped unchecked: the worker queue was full");
	m.verify_depth = cyph_gauge_new("cyphonic_nms_verify_queue",
		"full REGISTERs queued for or being checked by worker threads", NULL);
	m.addrs_dropped = C("reported_addrs_dropped_total",
			    "reported addresses not passed to peers (loopback, multicast, ...)");
	m.send_dropped = C("send_dropped_total", "replies not sent (socket full or error)");
	m.reload_ok = cyph_counter_new("cyphonic_nms_reloads_total", "SIGHUP reloads",
				       "result=\"ok\"");
	m.reload_failed = cyph_counter_new("cyphonic_nms_reloads_total", "SIGHUP reloads",
					   "result=\"failed\"");
	m.renew_ok = cyph_counter_new("cyphonic_nms_identity_renewals_total",
				      "renewals of the NMS certificate at the AS", "result=\"ok\"");
	m.renew_failed = cyph_counter_new("cyphonic_nms_identity_renewals_total",
					  "renewals of the NMS certificate at the AS",
					  "result=\"failed\"");
	m.active = cyph_gauge_new("cyphonic_nms_registrations", "active registrations", NULL);
	m.pending = cyph_gauge_new("cyphonic_nms_pending_notifies",
				   "PEER_NOTIFY awaiting acknowledgement", NULL);
	m.draining = cyph_gauge_new("cyphonic_nms_draining", "1 while draining", NULL);
	m.rx_drops = C("udp_rx_dropped_total",
		       "datagrams the kernel dropped at the NMS's full receive queues");
	m.rx_reg_drops = C("udp_rx_register_dropped_total",
			   "of those, full REGISTERs dropped at their own queue (a split port)");
	m.identity = cyph_gauge_new("cyphonic_nms_identity_expiry_seconds",
		"seconds until the NMS certificate expires (negative: expired)", NULL);
	return m.draining ? 0 : -1;
}

static void set(struct cyph_counter *c, uint64_t v)
{
	if (c)
		atomic_store_explicit(&c->v, v, memory_order_relaxed);
}

void nmsd_metrics_sync(const struct nms *n, bool draining, uint64_t send_dropped)
{
	const struct nms_stats *s = nms_stats(n);
	size_t i;
	int e;

	for (i = 0; i < NOPS; i++)
		for (e = 0; e < PROTO_E_COUNT; e++)
			set(m.req[node_ops[i]][e], s->req[node_ops[i]][e]);
	for (i = 1; i <= PROTO_MODE_RELAY; i++)
		set(m.routes[i], s->routes[i]);
	set(m.bad_header, s->bad_header);
	set(m.registered, s->registered);
	set(m.refreshed, s->refreshed);
	set(m.cert_cached, s->cert_cached);
	set(m.expired, s->expired);
	set(m.deregistered, s->deregistered);
	set(m.revoked, s->revoked);
	set(m.roamed, s->roamed);
	set(m.notify_sent, s->notify_sent);
	set(m.notify_retrans, s->notify_retrans);
	set(m.notify_lost, s->notify_lost);
	set(m.notify_untracked, s->notify_untracked);
	set(m.notify_adopted, s->notify_adopted);
	set(m.errors_sent, s->errors_sent);
	set(m.errors_suppressed, s->errors_suppressed);
	set(m.before_boot, s->before_boot);
	set(m.addrs_dropped, s->addrs_dropped);
	set(m.quota[0], s->quota_route);
	set(m.quota[1], s->quota_relay);
	set(m.quota[2], s->quota_notify);
	set(m.quota[3], s->quota_source);
	set(m.cookies_sent, s->cookies_sent);
	set(m.cookies_suppressed, s->cookies_suppressed);
	set(m.cookie_refused, s->cookie_refused);
	set(m.rr_challenged, s->rr_challenged);
	set(m.rr_moved, s->rr_moved);
	set(m.policy_denied, s->policy_denied);
	set(m.verify_queued, s->verify_queued);
	set(m.verify_dropped, s->verify_dropped);
	set(m.send_dropped, send_dropped);
	cyph_gauge_set(m.active, (int64_t)nms_active(n));
	cyph_gauge_set(m.pending, (int64_t)nms_pending_notifies(n));
	cyph_gauge_set(m.draining, draining);
}

void nmsd_metrics_latency(uint8_t op, uint64_t start_ns)
{
	if (op <= PROTO_OP_MAX && m.lat[op])
		cyph_histogram_since(m.lat[op], start_ns);
}

void nmsd_metrics_reload(bool ok)
{
	cyph_counter_inc(ok ? m.reload_ok : m.reload_failed);
}

void nmsd_metrics_renewal(bool ok)
{
	cyph_counter_inc(ok ? m.renew_ok : m.renew_failed);
}

void nmsd_metrics_rx_drops(uint64_t session, uint64_t reg)
{
	set(m.rx_drops, session + reg);
	set(m.rx_reg_drops, reg);
}

void nmsd_metrics_identity(int64_t seconds_left)
{
	cyph_gauge_set(m.identity, seconds_left);
}

void nmsd_metrics_verify_queue(size_t depth)
{
	cyph_gauge_set(m.verify_depth, (int64_t)depth);
}
