// SPDX-License-Identifier: MIT
/*
 * Basic admission ([adapter] portal): a small login page on the adapter's
 * LAN addresses (its VIP4 and VIP6, each family the adapter has, so an
 * IPv6-mode device logs in over IPv6), port [adapter] portal_port, served
 * by the shared HTTP server (runtime/http.h) on the daemon's loop.
 *
 * A basic general node gets its lease as soon as it is listed (it needs
 * an address to reach the page), but the nftables guard lets it reach
 * only the adapter's DHCP, DNS and this page, and turns its HTTP to any
 * port 80 into this page (nft.c). GET (any path) shows the form;
 * POST /login with user and password (form-encoded) asks the AS
 * (GN_AUTH_REQ with USERNAME and PASSWORD: the AS checks them against
 * its PBKDF2 hash, with its own per-account budgets, docs/as.md). The
 * request is held until the AS answered and then gets 200 (admitted,
 * like a MAC-matched device from then on), 403 (wrong user name or
 * password), 429 (too many attempts) or 503/504.
 *
 * Hostile input: the body is at most MAX_BODY bytes (413 above it, 411
 * without Content-Length), the fields are bounded and free of control
 * bytes (400), only a listed basic node's VIP may log in (404), one login
 * per device at a time (409), and each source address has a budget of
 * attempts (budget.c; 429 beyond it); the HTTP
 * server itself bounds connections (64, 8 per source address: one device
 * holding them open cannot lock the others out) and their time.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include "runtime/evloop.h"
#include "runtime/http.h"
#include "runtime/httpreq.h"
#include "runtime/metrics.h"
#include "internal.h"

#define MAX_BODY 2048

static const char *const results[] = { "admitted", "refused", "rate_limited", "bad_request" };
enum { R_OK, R_REFUSED, R_LIMITED, R_BAD };

static struct {
	struct cyph_http *http[2];	/* on the adapter's VIP4 and VIP6 (dual stack: both) */
	struct cyd_adapter *a;
	struct cyd_budget budget;
	struct cyph_counter *logins[4];
} portal;

static const char page[] =
	"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>CYPHONIC login</title>"
	"</head>\n<body><h1>Log this device in</h1>\n"
	"<form method=\"post\" action=\"/login\">\n"
	"<p><label>User <input name=\"user\" autocomplete=\"username\"></label></p>\n"
	"<p><label>Password <input name=\"password\" type=\"password\" "
	"autocomplete=\"current-password\"></label></p>\n"
	"<p><button type=\"submit\">Log in</button></p>\n</form></body></html>\n";

static int finish(int code, int result, char *text, size_t len, const char *msg)
{
	cyph_counter_inc(portal.logins[result]);
	snprintf(text, len, "%s", msg);
	return code;
}

static int on_request(struct cyph_http *h, const struct cyph_http_app_req *r,
		      const char **ctype, char *text, size_t len, void *arg)
{
	struct cyd_adapter *a = arg;
	const struct sockaddr_in *in = (const struct sockaddr_in *)&r->peer;
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&r->peer;
	char user[CYPH_NAME_MAX], pw[CYPH_PW_MAX_LEN + 1];
	uint8_t addr[16] = { 0 };
	int family = r->peer.ss_family, code;

	if (!r->post) {
		*ctype = "text/html; charset=utf-8";
		snprintf(text, len, "%s", page);
		return 200;
	}
	if (strcmp(r->path, "/login"))
		return finish(404, R_BAD, text, len, "not found\n");
	if (family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
		family = AF_INET;
		memcpy(addr, &in6->sin6_addr.s6_addr[12], 4);
	} else if (family == AF_INET) {
		memcpy(addr, &in->sin_addr, 4);
	} else {
		memcpy(addr, &in6->sin6_addr, 16);
	}
	/* cheap before counted: only a listed basic node's VIP takes a budget slot,
	 * so a device sending from many addresses cannot crowd the table */
	if (!cyd_adapter_login_known(a, family, addr))
		return finish(404, R_REFUSED, text, len,
			      "this address is no device that logs in here\n");
	if (!cyd_budget_take(&portal.budget, addr, cyph_now_ms()))
		return finish(429, R_LIMITED, text, len,
			      "too many login attempts from this address: wait a little\n");
	if (cyph_http_form_field(r->body, r->body_len, "user", user, sizeof(user)) || !user[0] ||
	    cyph_http_form_field(r->body, r->body_len, "password", pw, sizeof(pw)) || !pw[0]) {
		OPENSSL_cleanse(pw, sizeof(pw));
		return finish(400, R_BAD, text, len, "give user (1..63 characters) and password "
			      "(1..1024 bytes), form-encoded, without control characters\n");
	}
	/* which server holds the request rides in the connection's low bit */
	code = cyd_adapter_login(a, family, addr, user, pw, r->conn << 1 | (h == portal.http[1]),
				 text, len);
	OPENSSL_cleanse(pw, sizeof(pw));
	if (code)
		cyph_counter_inc(portal.logins[code == 200 ? R_OK : R_REFUSED]);
	return code;	/* 0: held until the AS answered */
}

void cyd_adapter_portal_answer(struct cyd_adapter *a, uint64_t conn, int status,
			       const char *text)
{
	struct cyph_http *h = portal.http[conn & 1];

	(void)a;
	if (!h)
		return;
	cyph_counter_inc(portal.logins[status == 200 ? R_OK : status == 429 ? R_LIMITED :
				       R_REFUSED]);
	if (!cyph_http_reply(h, conn >> 1, status, NULL, text))
		log_debug("[adapter] portal: the login's connection is gone (%d)", status);
}

/* Serves the page on addr ("HOST:PORT", "[HOST6]:PORT") into portal.http[i]. */
static int serve(struct cyd_adapter *a, int i, const char *addr, char *err, size_t errlen)
{
	portal.http[i] = cyph_http_listen(addr, err, errlen);
	if (!portal.http[i])
		return -1;
	cyph_http_set_app(portal.http[i], on_request, a, MAX_BODY);
	if (cyph_http_attach(portal.http[i], a->d->loop)) {
		snprintf(err, errlen, "[adapter] portal: event loop");
		return -1;
	}
	log_info("[adapter] login page for basic admission on http://%s/", addr);
	return 0;
}

int cyd_adapter_portal_start(struct cyd_adapter *a, char *err, size_t errlen)
{
	const struct cyd *d = a->d;
	char host[INET6_ADDRSTRLEN], addr[INET6_ADDRSTRLEN + 16], labels[32];

	if (!d->cfg.adapter.portal)
		return 0;
	for (int i = 0; i < 4; i++) {
		if (portal.logins[i])
			continue;
		snprintf(labels, sizeof(labels), "result=\"%s\"", results[i]);
		portal.logins[i] = cyph_counter_new("cyphonicd_portal_logins_total",
			"logins at the adapter's portal (basic admission) by result", labels);
	}
	memset(&portal.budget, 0, sizeof(portal.budget));
	portal.a = a;
	if (d->kdev.has_vip4) {
		inet_ntop(AF_INET, &d->kdev.vip4, host, sizeof(host));
		snprintf(addr, sizeof(addr), "%s:%lld", host, d->cfg.adapter.portal_port);
		if (serve(a, 0, addr, err, errlen))
			goto fail;
	}
	if (d->kdev.has_vip6) {
		inet_ntop(AF_INET6, &d->kdev.vip6, host, sizeof(host));
		snprintf(addr, sizeof(addr), "[%s]:%lld", host, d->cfg.adapter.portal_port);
		if (serve(a, 1, addr, err, errlen))
			goto fail;
	}
	return 0;
fail:
	cyd_adapter_portal_stop(a);
	return -1;
}

void cyd_adapter_portal_stop(struct cyd_adapter *a)
{
	(void)a;
	for (int i = 0; i < 2; i++) {
		if (portal.http[i])
			cyph_http_free(portal.http[i]);
		portal.http[i] = NULL;
	}
	portal.a = NULL;
}
