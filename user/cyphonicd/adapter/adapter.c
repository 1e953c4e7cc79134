// SPDX-License-Identifier: MIT
/*
 * The general-node table of an adapter and each node's lifecycle:
 *
 *   listed by the AS ........................ DOWN (basic and 802.1X: until
 *       the device gave its evidence: a login at the portal, an 802.1X
 *       session hostapd authorized; portal.c, eap.c)
 *   GN_AUTH gave its credential ............. ADMITTED: VIP as a local
 *       identity on the device, route to it on the LAN, REGISTER at the
 *       NMS with its credential, its own e2e context for its tunnels
 *   the NMS acknowledged its registration ... UP
 *   the AS refused it (revoked, method ...) . BLOCKED: cut off
 *   no longer listed ........................ cut off and forgotten
 *
 * "Cut off" is: its tunnels removed, DEREGISTER at the NMS, its identity
 * and route removed, key and certificate wiped. The list is fetched at
 * start, every [adapter] sync_interval and at once on SIGHUP, so a change
 * in the AS takes effect within sync_interval plus one AS round trip.
 * The AS exchange blocks, so it runs on the worker thread
 * (sync.c); its result is applied here, on the loop's thread.
 */
#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include "dns/names.h"
#include "e2e/session.h"
#include "nodestate/statefile.h"
#include "runtime/evloop.h"
#include "runtime/metrics.h"
#include "runtime/workq.h"
#include "wire/asproto.h"
#include "wire/proto.h"
#include "wire/proto_udp.h"
#include "internal.h"

#define GN_DNS_TTL 60

static const char *const state_names[CYD_GN_NSTATES] = {
	"down", "admitted", "up", "blocked",
};

static struct cyph_gauge *gn_gauge[CYD_GN_NSTATES];

static void metrics_init(void)
{
	char labels[32];

	for (int i = 0; i < CYD_GN_NSTATES; i++) {
		if (gn_gauge[i])
			continue;
		snprintf(labels, sizeof(labels), "state=\"%s\"", state_names[i]);
		gn_gauge[i] = cyph_gauge_new("cyphonicd_general_nodes",
			"general nodes of this adapter by state", labels);
	}
}

static void metrics_update(const struct cyd_adapter *a)
{
	unsigned int n[CYD_GN_NSTATES];

	cyd_adapter_counts(a, n);
	for (int i = 0; i < CYD_GN_NSTATES; i++)
		if (gn_gauge[i])
			cyph_gauge_set(gn_gauge[i], n[i]);
}

const char *cyd_gn_state_name(enum cyd_gn_state s)
{
	return s < CYD_GN_NSTATES ? state_names[s] : "?";
}

static void set_state(struct cyd_gn *g, enum cyd_gn_state s, const char *why)
{
	if (g->state != s || (why && strcmp(g->why, why)))
		log_info("general node %s (%s): %s%s%s", g->fqdn, g->name, cyd_gn_state_name(s),
			 why ? ": " : "", why ? why : "");
	g->state = s;
	snprintf(g->why, sizeof(g->why), "%s", why ? why : "");
	metrics_update(g->a);
}

/* ---- lookups for tunnels.c and the socket dispatch ---- */

struct cyd_gn *cyd_adapter_gn_by_vip(struct cyd_adapter *a, int family,
				     const struct in_addr *v4, const struct in6_addr *v6)
{
	for (struct cyd_gn *g = a->list; g; g = g->next) {
		if (!g->ctx)
			continue;
		if (family == AF_INET && g->has4 && v4 && g->vip4.s_addr == v4->s_addr)
			return g;
		if (family == AF_INET6 && g->has6 && v6 && !memcmp(&g->vip6, v6, 16))
			return g;
	}
	return NULL;
}

struct cyd_gn *cyd_adapter_gn_by_fqdn(struct cyd_adapter *a, const char *fqdn)
{
	for (struct cyd_gn *g = a->list; g; g = g->next)
		if (g->ctx && !strcasecmp(g->fqdn, fqdn))
			return g;
	return NULL;
}

struct cyd_gn *cyd_adapter_gn_by_reg(struct cyd_adapter *a, const struct cyd_reg *r)
{
	for (struct cyd_gn *g = a->list; g; g = g->next)
		if (&g->reg == r)
			return g;
	return NULL;
}

struct cyd_reg *cyd_gn_reg(struct cyd_gn *g)
{
	return &g->reg;
}

struct e2e_ctx *cyd_gn_ctx(struct cyd_gn *g)
{
	return g->ctx;
}

uint64_t cyd_gn_node_id(const struct cyd_gn *g)
{
	return g->cred.node_id;
}

const char *cyd_gn_fqdn(const struct cyd_gn *g)
{
	return g->fqdn;
}

void cyd_gn_vips(const struct cyd_gn *g, struct in_addr *v4, struct in6_addr *v6,
		 bool *has4, bool *has6)
{
	*v4 = g->vip4;
	*v6 = g->vip6;
	*has4 = g->has4;
	*has6 = g->has6;
}

struct cyd_reg *cyd_adapter_signal_reg(struct cyd_adapter *a, const uint8_t *pkt, size_t len)
{
	const uint8_t *body;
	struct proto_hdr h;
	size_t signed_len;

	if (!a->d || proto_hdr_parse(pkt, len, &h, &body, &signed_len))
		return NULL;
	for (struct cyd_gn *g = a->list; g; g = g->next)
		if (g->reg_started && g->id == h.node_id)
			return &g->reg;
	return NULL;
}

size_t cyd_adapter_status(const struct cyd_adapter *a, struct nodestate_gnode **out)
{
	struct nodestate_gnode *v = a->n ? calloc(a->n, sizeof(*v)) : NULL;
	const struct cyd_gn *g;
	size_t i = 0;

	*out = v;
	for (g = a->list; v && g && i < a->n; g = g->next, i++) {
		snprintf(v[i].name, sizeof(v[i].name), "%s", g->name);
		snprintf(v[i].fqdn, sizeof(v[i].fqdn), "%s", g->fqdn);
		snprintf(v[i].mac, sizeof(v[i].mac), "%02x:%02x:%02x:%02x:%02x:%02x", g->mac[0],
			 g->mac[1], g->mac[2], g->mac[3], g->mac[4], g->mac[5]);
		snprintf(v[i].method, sizeof(v[i].method), "%s", cyph_gn_method_name(g->method));
		if (!(g->has4 ? inet_ntop(AF_INET, &g->vip4, v[i].vip, sizeof(v[i].vip)) :
		      g->has6 ? inet_ntop(AF_INET6, &g->vip6, v[i].vip, sizeof(v[i].vip)) : NULL))
			strcpy(v[i].vip, "-");
		snprintf(v[i].state, sizeof(v[i].state), "%s", cyd_gn_state_name(g->state));
		snprintf(v[i].why, sizeof(v[i].why), "%s", g->why);
	}
	return v ? i : 0;
}

void cyd_adapter_counts(const struct cyd_adapter *a, unsigned int out[CYD_GN_NSTATES])
{
	memset(out, 0, sizeof(unsigned int) * CYD_GN_NSTATES);
	for (const struct cyd_gn *g = a->list; g; g = g->next)
		out[g->state]++;
}

/* registration.c: a general node's registration changed state. */
void cyd_adapter_reg_state(struct cyd_adapter *a, struct cyd_reg *r)
{
	struct cyd_gn *g = cyd_adapter_gn_by_reg(a, r);

	if (!g || g->state == CYD_GN_BLOCKED || !g->ctx || !g->reg_started)
		return;
	if (r->state == CYD_REGISTERED)
		set_state(g, CYD_GN_UP, NULL);
	else if (g->state == CYD_GN_UP)
		set_state(g, CYD_GN_ADMITTED, "registering again");
}

void cyd_adapter_location_changed(struct cyd_adapter *a, uint64_t event_ms)
{
	for (struct cyd_gn *g = a->list; g; g = g->next)
		if (g->reg_started)
			cyd_reg_location_changed(&g->reg, event_ms);
}

/* ---- admission and cut-off ---- */

static void cut_off(struct cyd_adapter *a, struct cyd_gn *g)
{
	struct cyd *d = a->d;

	cyd_tunnels_forget(&d->tun, g);
	if (g->reg_started) {
		g->reg_started = false;
		cyd_reg_stop(&g->reg);
	}
	if (g->lan_added)
		cyd_adapter_lan_gn(a, g, false);
	g->lan_added = false;
	if (g->local_added)
		kern_cyph_local(&d->kdev.genl, d->kdev.ifindex, false, g->has4 ? &g->vip4 : NULL,
				g->has6 ? &g->vip6 : NULL);
	g->local_added = false;
	if (g->ctx && d->dns.names)
		dns_names_remove(d->dns.names, g->fqdn);
	e2e_ctx_free(g->ctx);
	g->ctx = NULL;
	cyd_cred_free(&g->cred);
	/* a basic node logs in again; an 802.1X session is hostapd's to end */
	OPENSSL_cleanse(g->login_pw, sizeof(g->login_pw));
	g->login_user[0] = '\0';
}

bool cyd_adapter_gn_leased(const struct cyd_gn *g)
{
	if (g->method == CYPH_GN_BASIC)
		return g->state != CYD_GN_BLOCKED && g->a->d->cfg.adapter.portal;
	/*
	 * 802.1X: from its authorized session on, while the AS is asked, so
	 * the device's DHCP exchange right after EAP runs beside the AS's
	 * round trips instead of waiting for its client's next retry; the
	 * guard passes nothing of it until it is admitted (not_admitted).
	 */
	if (g->method == CYPH_GN_8021X && g->eap_ok)
		return g->state != CYD_GN_BLOCKED;
	return g->ctx != NULL;
}

/* A (new or renewed) credential: the node joins, or keeps going with it. */
static void admit(struct cyd_adapter *a, struct cyd_gn *g, struct cyd_cred *cred)
{
	struct cyd *d = a->d;
	struct e2e_config cfg;
	char err[320];
	int rc;

	cyd_e2e_config(&cfg);
	cyd_cred_free(&g->cred);
	g->cred = *cred;
	memset(cred, 0, sizeof(*cred));
	if (!g->local_added) {
		rc = kern_cyph_local(&d->kdev.genl, d->kdev.ifindex, true,
				     g->has4 ? &g->vip4 : NULL, g->has6 ? &g->vip6 : NULL);
		if (rc && rc != -EEXIST) {
			kern_nl_strerror(&d->kdev.genl.nl, rc, err, sizeof(err));
			set_state(g, CYD_GN_DOWN, err);
			cut_off(a, g);
			return;
		}
		g->local_added = !rc;
	}
	if (!g->lan_added)
		g->lan_added = !cyd_adapter_lan_gn(a, g, true);
	if (g->ctx ? e2e_ctx_set_credential(g->ctx, g->cred.key, g->cred.cert, g->cred.cert_len,
					    err, sizeof(err)) :
	    !(g->ctx = e2e_ctx_new(&cfg, d->ca, g->cred.key, g->cred.cert, g->cred.cert_len,
				   proto_now_ms(), err, sizeof(err)))) {
		set_state(g, CYD_GN_DOWN, err);
		cut_off(a, g);
		return;
	}
	/* the LAN's DNS (and the adapter's) answers its own devices at once */
	if (d->dns.names)
		dns_names_set(d->dns.names, g->fqdn, g->has4 ? &g->vip4 : NULL,
			      g->has6 ? &g->vip6 : NULL, GN_DNS_TTL);
	if (g->state != CYD_GN_UP)
		set_state(g, CYD_GN_ADMITTED, NULL);
	if (!g->reg_started) {
		if (cyd_reg_start_as(&g->reg, d, &g->cred, err, sizeof(err))) {
			set_state(g, CYD_GN_DOWN, err);
			cut_off(a, g);
			return;
		}
		g->reg_started = true;
	} else {
		cyd_reg_new_credential(&g->reg);
	}
}

static void gn_free(struct cyd_adapter *a, struct cyd_gn *g)
{
	struct cyd_gn **p;

	cut_off(a, g);
	if (g->login_conn)
		cyd_adapter_portal_answer(a, g->login_conn, 503, "this device left the AS's list\n");
	OPENSSL_cleanse(g->secret, sizeof(g->secret));
	for (p = &a->list; *p; p = &(*p)->next)
		if (*p == g) {
			*p = g->next;
			break;
		}
	a->n--;
	free(g);
	metrics_update(a);
}

static struct cyd_gn *gn_new(struct cyd_adapter *a, const struct cyph_principal *p)
{
	struct cyd_gn *g = calloc(1, sizeof(*g));

	if (!g)
		return NULL;
	g->a = a;
	g->id = p->id;
	snprintf(g->name, sizeof(g->name), "%s", p->name);
	snprintf(g->fqdn, sizeof(g->fqdn), "%s", p->fqdn);
	memcpy(g->mac, p->mac, 6);
	g->method = p->method;
	g->ip_mode = p->ip_mode;
	g->vip4 = p->vip4;
	g->vip6 = p->vip6;
	g->has4 = p->has_vip4;
	g->has6 = p->has_vip6;
	if (g->method == CYPH_GN_8021X && strlen(p->pwhash) < sizeof(g->secret))
		memcpy(g->secret, p->pwhash, strlen(p->pwhash) + 1);
	g->state = CYD_GN_DOWN;
	g->next = a->list;
	a->list = g;
	a->n++;
	metrics_update(a);
	log_info("general node %s (%s, id %llu, MAC %02x:%02x:%02x:%02x:%02x:%02x, %s): listed",
		 g->fqdn, g->name, (unsigned long long)g->id, g->mac[0], g->mac[1], g->mac[2],
		 g->mac[3], g->mac[4], g->mac[5], cyph_gn_method_name(g->method));
	return g;
}

/* Anything the identity hangs on changed in the AS: make it afresh. */
static bool changed(const struct cyd_gn *g, const struct cyph_principal *p)
{
	return memcmp(g->mac, p->mac, 6) || g->method != p->method ||
	       (g->method == CYPH_GN_8021X && strcmp(g->secret, p->pwhash)) ||
	       strcmp(g->fqdn, p->fqdn) || g->has4 != p->has_vip4 || g->has6 != p->has_vip6 ||
	       (g->has4 && g->vip4.s_addr != p->vip4.s_addr) ||
	       (g->has6 && memcmp(&g->vip6, &p->vip6, 16));
}

static struct cyd_gn *find(struct cyd_adapter *a, uint64_t id)
{
	struct cyd_gn *g;

	for (g = a->list; g && g->id != id; g = g->next)
		;
	return g;
}

/* The portal's waiting login for g, answered once the AS was asked with it. */
static void login_answer(struct cyd_adapter *a, struct cyd_gn *g, const struct cyd_gn_result *r,
			 int status, const char *text)
{
	if (!g->login_try || !r->asked)
		return;
	g->login_try = false;
	if (g->login_conn)
		cyd_adapter_portal_answer(a, g->login_conn, status, text);
	g->login_conn = 0;
}

static void apply_one(struct cyd_adapter *a, struct cyd_gn_result *r)
{
	struct cyd_gn *g = find(a, r->p.id);

	if (g && changed(g, &r->p)) {
		log_info("general node %s changed in the AS: joining afresh", g->fqdn);
		gn_free(a, g);
		g = NULL;
	}
	if (!g && !(g = gn_new(a, &r->p)))
		return;
	g->seen = true;
	if (r->rc == 0 && r->fresh) {
		g->wait_why[0] = '\0';
		admit(a, g, &r->cred);
		login_answer(a, g, r, g->ctx ? 200 : 503, g->ctx ? "logged in: admitted\n" :
			     "admitted by the AS, but the adapter failed to set the device up\n");
	} else if (r->rc > 0 && r->asked && g->method == CYPH_GN_BASIC &&
		   (r->rc == CYPH_AS_E_AUTH_FAILED || r->rc == CYPH_AS_E_RATE_LIMITED)) {
		/* a wrong login is the device's mistake, not the AS blocking it */
		cut_off(a, g);
		snprintf(g->wait_why, sizeof(g->wait_why), "%s", r->rc == CYPH_AS_E_AUTH_FAILED ?
			 "login refused: wrong user name or password" :
			 "login refused for now: too many failures");
		set_state(g, CYD_GN_DOWN, g->wait_why);
		login_answer(a, g, r, r->rc == CYPH_AS_E_AUTH_FAILED ? 403 : 429, r->rc ==
			     CYPH_AS_E_AUTH_FAILED ? "wrong user name or password\n" :
			     "too many failed logins: try again later\n");
	} else if (r->rc > 0) {
		/* The AS refused this node: it must not stay on the overlay. */
		cut_off(a, g);
		set_state(g, CYD_GN_BLOCKED, r->err);
		login_answer(a, g, r, 403, "this device is blocked by the AS\n");
	} else if (r->rc < 0 && !g->ctx) {
		/* an EAP failure or a refused login says more than "waiting for" */
		set_state(g, CYD_GN_DOWN, !r->asked && g->wait_why[0] ? g->wait_why : r->err);
		login_answer(a, g, r, 503, "the AS could not be asked: try again\n");
	} else if (r->rc < 0) {
		log_warn("general node %s: credential renewal failed, keeping the current one: %s",
			 g->fqdn, r->err);
	}
}

static void apply(struct cyd_adapter *a, struct cyd_adapter_sync *job)
{
	struct cyd_gn *g, *next;

	if (job->rc == CYPH_AS_E_REVOKED || job->rc == CYPH_AS_E_AUTH_FAILED) {
		/* The adapter itself is refused: so are its general nodes. */
		log_err("[adapter] the AS refused this adapter, cutting off its %u general node(s): %s",
			a->n, job->err);
		while (a->list)
			gn_free(a, a->list);
		return;
	}
	if (job->rc) {
		log_err("[adapter] general-node list not fetched, keeping the current one: %s",
			job->err);
		return;
	}
	for (g = a->list; g; g = g->next)
		g->seen = false;
	for (size_t i = 0; i < job->n; i++)
		apply_one(a, &job->gns[i]);
	for (g = a->list; g; g = next) {
		next = g->next;
		if (g->seen && g->lan_added)	/* pin route and neighbour again */
			cyd_adapter_lan_gn(a, g, true);
		/* a basic node not logged in yet reaches the login page at its VIP */
		if (g->seen && !g->lan_added && cyd_adapter_gn_leased(g))
			g->lan_added = !cyd_adapter_lan_gn(a, g, true);
		if (!g->seen) {
			log_info("general node %s (%s): removed from the AS, cut off", g->fqdn,
				 g->name);
			gn_free(a, g);
		}
	}
	a->synced_ms = cyph_now_ms();
	log_debug("[adapter] %u general node(s) after the sync", a->n);
}

/* ---- the sync job ---- */

static void start_sync(struct cyd_adapter *a);

/* ---- evidence from the LAN: 802.1X sessions and portal logins ---- */

static struct cyd_gn *by_mac(struct cyd_adapter *a, const uint8_t mac[6], uint8_t method)
{
	for (struct cyd_gn *g = a->list; g; g = g->next)
		if (g->method == method && !memcmp(g->mac, mac, 6))
			return g;
	return NULL;
}

/* The session that admitted g is over (why): so is its admission. */
static void session_end(struct cyd_adapter *a, struct cyd_gn *g, const char *why)
{
	g->eap_ok = false;
	g->port = 0;
	g->port_name[0] = '\0';
	if (g->ctx)
		cut_off(a, g);
	snprintf(g->wait_why, sizeof(g->wait_why), "%s", why);
	if (g->state != CYD_GN_BLOCKED)
		set_state(g, CYD_GN_DOWN, g->wait_why);
	cyd_adapter_nft_update(a);
	cyd_adapter_dhcp_update(a);
}

void cyd_adapter_eap_event(struct cyd_adapter *a, const uint8_t mac[6], int ev,
			   const char *identity)
{
	struct cyd_gn *g = a->d ? by_mac(a, mac, CYPH_GN_8021X) : NULL;
	int rc;

	if (!g) {
		log_info("[adapter] 802.1X: %s for %02x:%02x:%02x:%02x:%02x:%02x, no 802.1X "
			 "general node of this adapter", ev == CYD_EAP_AUTHORIZED ? "authorized" :
			 ev == CYD_EAP_ENDED ? "session ended" : "EAP failure", mac[0], mac[1],
			 mac[2], mac[3], mac[4], mac[5]);
		return;
	}
	/*
	 * hostapd's EAP server takes any listed user's password from any MAC:
	 * the session must have proven this MAC's own node's (eap.c, sta.c),
	 * when it starts and at every re-authentication.
	 */
	if (ev == CYD_EAP_AUTHORIZED && strcmp(identity, g->name)) {
		char why[CYPH_NAME_MAX + 64];

		snprintf(why, sizeof(why), "802.1X: authenticated as another device ('%.63s')",
			 identity);
		log_warn("general node %s: its MAC's 802.1X session %s: refused", g->fqdn, why + 8);
		cyd_adapter_eap_refuse(mac);
		g->eap_ask_ms = 0;	/* its supplicant decides when to try again */
		session_end(a, g, why);
		return;
	}
	if (ev == CYD_EAP_AUTHORIZED && g->eap_ok)
		return;		/* the same session (hostapd says so twice) or its renewal */
	if (ev == CYD_EAP_AUTHORIZED) {
		/* the session is bound to the port it ran on (port.c, nft.c) */
		rc = cyd_adapter_port_of(mac, &g->port, g->port_name);
		if (rc) {
			log_warn("general node %s: 802.1X session authorized on no known LAN "
				 "port (%s): not admitted", g->fqdn, strerror(-rc));
			cyd_adapter_eap_port_down(mac);
			g->eap_ask_ms = 0;	/* asking again would end the same way */
			session_end(a, g, "802.1X session on no known LAN port");
			return;
		}
		log_info("general node %s: 802.1X session authorized on port %s, asking the AS",
			 g->fqdn, g->port_name);
		g->eap_ok = true;
		cyd_adapter_nft_update(a);
		cyd_adapter_dhcp_update(a);	/* its lease now, admission meanwhile */
		start_sync(a);
		return;
	}
	if (ev == CYD_EAP_ENDED && !g->eap_ok && g->wait_why[0])
		return;		/* ended already (its port went down) */
	if (ev == CYD_EAP_ENDED)
		cyd_adapter_eap_ask_later(g);
	else
		g->eap_ask_ms = 0;	/* a failure is never asked again */
	session_end(a, g, ev == CYD_EAP_ENDED ? "802.1X session ended" :
		    "802.1X authentication failed (wrong credentials?)");
}

void cyd_adapter_port_down(struct cyd_adapter *a, uint32_t ifindex, const char *why)
{
	char text[64];

	for (struct cyd_gn *g = a->list; g; g = g->next) {
		if (g->method != CYPH_GN_8021X || !g->eap_ok || g->port != ifindex)
			continue;
		snprintf(text, sizeof(text), "802.1X port %s %s: session ended", g->port_name, why);
		cyd_adapter_eap_port_down(g->mac);
		cyd_adapter_eap_ask_later(g);
		session_end(a, g, text);
	}
}

static struct cyd_gn *basic_by_vip(struct cyd_adapter *a, int family, const void *src)
{
	for (struct cyd_gn *x = a->list; x; x = x->next)
		if (x->method == CYPH_GN_BASIC &&
		    (family == AF_INET ? x->has4 && !memcmp(&x->vip4, src, 4) :
		     x->has6 && !memcmp(&x->vip6, src, 16)))
			return x;
	return NULL;
}

bool cyd_adapter_login_known(struct cyd_adapter *a, int family, const void *src)
{
	return basic_by_vip(a, family, src) != NULL;
}

int cyd_adapter_login(struct cyd_adapter *a, int family, const void *src, const char *user,
		      const char *pw, uint64_t conn, char *why, size_t whylen)
{
	struct cyd_gn *g = basic_by_vip(a, family, src);

	if (!g) {
		snprintf(why, whylen, "this address is no device that logs in here\n");
		return 404;
	}
	if (g->state == CYD_GN_BLOCKED) {
		snprintf(why, whylen, "this device is blocked by the AS\n");
		return 403;
	}
	if (g->ctx) {
		snprintf(why, whylen, "already logged in\n");
		return 200;
	}
	if (g->login_try) {
		snprintf(why, whylen, "a login for this device is being checked\n");
		return 409;
	}
	snprintf(g->login_user, sizeof(g->login_user), "%s", user);
	snprintf(g->login_pw, sizeof(g->login_pw), "%s", pw);
	g->login_try = true;
	g->login_conn = conn;
	log_info("general node %s: login at the portal, asking the AS", g->fqdn);
	start_sync(a);
	return 0;
}

static void sync_done(void *arg)
{
	struct cyd_adapter_sync *job = arg;
	struct cyd_adapter *a = job->a;

	if (!a->d) {		/* the adapter stopped meanwhile */
		cyd_adapter_sync_free(job);
		return;
	}
	a->syncing = false;
	if (!a->d->stopping) {
		apply(a, job);
		cyd_adapter_nft_update(a);
		cyd_adapter_dhcp_update(a);
		cyd_adapter_eap_update(a);
	}
	cyd_adapter_sync_free(job);
	if (a->resync && !a->d->stopping) {
		a->resync = false;
		start_sync(a);
	}
}

static void start_sync(struct cyd_adapter *a)
{
	struct cyd_adapter_sync *job;
	int64_t now = time(NULL);
	struct cyd_gn *g;

	if (a->syncing) {
		a->resync = true;	/* once this one is applied */
		return;
	}
	job = calloc(1, sizeof(*job));
	if (!job || (a->n && (!(job->keep = calloc(a->n, sizeof(*job->keep))) ||
			      !(job->ev = calloc(a->n, sizeof(*job->ev)))))) {
		if (job)
			free(job->keep);
		free(job);
		return;
	}
	job->a = a;
	job->cfg = a->d->cfg;
	job->now = now;
	/* Credentials not due for renewal are kept: no GN_AUTH for them. */
	for (g = a->list; g; g = g->next) {
		if (g->ctx && g->cred.renew_at > now)
			job->keep[job->n_keep++] = g->id;
		if (g->eap_ok || g->login_pw[0]) {
			struct cyd_gn_evidence *e = &job->ev[job->n_ev++];

			e->id = g->id;
			e->eap_ok = g->eap_ok;
			snprintf(e->user, sizeof(e->user), "%s", g->login_user);
			snprintf(e->pw, sizeof(e->pw), "%s", g->login_pw);
		}
	}
	a->syncing = true;
	if (cyph_workq_submit(a->d->wq, cyd_adapter_sync_work, sync_done, job)) {
		a->syncing = false;
		cyd_adapter_sync_free(job);
	}
}

static void on_timer(struct cyph_loop *loop, struct cyph_timer *t, void *arg)
{
	(void)loop;
	(void)t;
	start_sync(arg);
}

void cyd_adapter_reload(struct cyd_adapter *a)
{
	if (!a->d)
		return;
	log_info("[adapter] SIGHUP: fetching the general nodes now");
	cyph_loop_timer_rearm(a->d->loop, a->timer, (uint64_t)a->d->cfg.adapter.sync_ms);
	start_sync(a);
}

int cyd_adapter_start(struct cyd_adapter *a, struct cyd *d, char *err, size_t errlen)
{
	memset(a, 0, sizeof(*a));
	if (!d->cfg.adapter.enabled)
		return 0;
	a->d = d;
	metrics_init();
	if (cyd_adapter_lan_up(a, err, errlen) || cyd_adapter_port_start(a, err, errlen) ||
	    cyd_adapter_nft_start(a, err, errlen) ||
	    cyd_adapter_dhcp_start(a, err, errlen) || cyd_adapter_eap_start(a, err, errlen) ||
	    cyd_adapter_portal_start(a, err, errlen))
		return -1;
	a->timer = cyph_loop_add_timer(d->loop, (uint64_t)d->cfg.adapter.sync_ms, true,
				       on_timer, a);
	if (!a->timer) {
		snprintf(err, errlen, "event loop: %s", strerror(errno));
		return -1;
	}
	log_info("[adapter] serving general nodes on %s, fetching them every %lld ms",
		 d->cfg.adapter.lan, d->cfg.adapter.sync_ms);
	start_sync(a);
	return 0;
}

void cyd_adapter_stop(struct cyd_adapter *a)
{
	if (!a->d)
		return;
	if (a->timer)
		cyph_loop_del_timer(a->d->loop, a->timer);
	a->timer = NULL;
	while (a->list)
		gn_free(a, a->list);
	cyd_adapter_portal_stop(a);
	cyd_adapter_eap_stop(a);
	cyd_adapter_dhcp_stop(a);
	cyd_adapter_nft_stop(a);
	cyd_adapter_port_stop(a);
	cyd_adapter_lan_down(a);
	a->d = NULL;
}
