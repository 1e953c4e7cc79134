// SPDX-License-Identifier: MIT
/* Health/metrics HTTP endpoint: answers, hostile requests, limits. */
#include "runtime/evloop.h"
#include "runtime/http.h"
#include "runtime/httpreq.h"
#include "runtime/metrics.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct cyph_http *h;
static uint16_t port;

/* A connection from 127.0.0.<src> (every 127/8 address is the loopback's). */
static int connect_from(uint8_t src)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	struct sockaddr_in me = { .sin_family = AF_INET };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	me.sin_addr.s_addr = htonl(0x7f000000u | src);
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static int connect_srv(void)
{
	return connect_from(1);
}

/* Pumps the server until the client sees EOF; returns the whole answer. */
static char *exchange_fd(int fd, const void *req, size_t len)
{
	static char buf[65536];
	size_t got = 0;

	if (len && send(fd, req, len, MSG_NOSIGNAL) < 0)
		return NULL;
	for (int i = 0; i < 2000; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		cyph_http_on_readable(h);
		if (poll(&p, 1, 1) <= 0)
			continue;
		n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	buf[got] = '\0';
	close(fd);
	return buf;
}

static char *exchange(const char *req, size_t len)
{
	int fd = connect_srv();

	return fd < 0 ? NULL : exchange_fd(fd, req, len);
}

static char *get(const char *req)
{
	return exchange(req, strlen(req));
}

static void test_endpoints(void)
{
	char *r;

	r = get("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
	TAP_CHECK(r && !strncmp(r, "HTTP/1.1 200 OK", 15) && strstr(r, "\r\n\r\nok\n"), "healthz ok");
	r = get("GET /readyz HTTP/1.1\r\n\r\n");
	TAP_CHECK(r && strstr(r, " 503 ") && strstr(r, "not ready"), "readyz 503 before ready");
	cyph_http_set_ready(h, true);
	r = get("GET /readyz HTTP/1.0\r\n\r\n");
	TAP_CHECK(r && strstr(r, " 200 ") && strstr(r, "ready"), "readyz 200 when ready");
	r = get("GET /metrics?x=1 HTTP/1.1\r\n\r\n");
	TAP_CHECK(r && strstr(r, " 200 ") && strstr(r, "version=0.0.4") &&
		  strstr(r, "test_up_total 42\n"), "metrics exposition");
	r = get("HEAD /healthz HTTP/1.1\r\n\r\n");
	TAP_CHECK(r && strstr(r, " 200 ") && strstr(r, "Content-Length: 3") && !strstr(r, "ok\n"),
		  "HEAD has no body");
	cyph_http_set_draining(h, true);
	r = get("GET /healthz HTTP/1.1\r\n\r\n");
	TAP_CHECK(r && strstr(r, " 503 ") && strstr(r, "draining"), "healthz 503 when draining");
	r = get("GET /readyz HTTP/1.1\r\n\r\n");
	TAP_CHECK(r && strstr(r, " 503 ") && strstr(r, "draining"), "readyz 503 when draining");
	cyph_http_set_draining(h, false);
}

static void test_hostile(void)
{
	char big[CYPH_HTTP_MAX_REQUEST + 100];
	char *r;

	r = get("GET /nope HTTP/1.1\r\n\r\n");
	TAP_CHECK(r && strstr(r, " 404 "), "unknown path 404");
	r = get("POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n");
	TAP_CHECK(r && strstr(r, " 405 "), "POST 405");
	r = get("garbage\r\n\r\n");
	TAP_CHECK(r && strstr(r, " 400 "), "garbage request line 400");
	r = get("GET metrics HTTP/1.1\r\n\r\n");
	TAP_CHECK(r && strstr(r, " 400 "), "relative path 400");
	r = get("GET /healthz SPDY/3\r\n\r\n");
	TAP_CHECK(r && strstr(r, " 400 "), "bad version 400");
	r = exchange("GET /healthz HTTP/1.1\r\nX: a\0b\r\n\r\n", 33);
	TAP_CHECK(r && strstr(r, " 400 "), "NUL byte 400");
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /healthz HTTP/1.1\r\nX: ", 26);
	r = exchange(big, sizeof(big));
	TAP_CHECK(r && strstr(r, " 431 "), "oversized header block 431");
	r = get("");
	TAP_CHECK(r && !*r, "connect and close without a request");
}

static void test_idle_and_limit(void)
{
	int fds[CYPH_HTTP_MAX_CONNS + 1];
	int extra;
	char *r;

	/* from as many sources as it takes: one source alone has a smaller cap */
	for (int i = 0; i < CYPH_HTTP_MAX_CONNS; i++)
		fds[i] = connect_from((uint8_t)(10 + i / CYPH_HTTP_MAX_PER_SOURCE));
	cyph_http_on_readable(h);
	extra = connect_from(200);
	cyph_http_on_readable(h);
	{
		char c;
		struct pollfd p = { .fd = extra, .events = POLLIN };

		TAP_CHECK(poll(&p, 1, 500) == 1 && recv(extra, &c, 1, 0) == 0,
			  "connection over the limit closed at once");
	}
	close(extra);
	for (int i = 0; i < CYPH_HTTP_MAX_CONNS; i++)
		close(fds[i]);
	cyph_http_on_readable(h);	/* notices the EOFs */
	r = get("GET /healthz HTTP/1.1\r\n\r\n");
	TAP_CHECK(r && strstr(r, " 200 "), "slots freed after clients leave");
}

/*
 * Slowloris: one source opening connections and sending nothing (or a
 * byte now and then) holds at most CYPH_HTTP_MAX_PER_SOURCE of them; the
 * others' requests are still served (the login page of an adapter, which
 * every device on its LAN can reach, before any admission).
 */
static void test_per_source(void)
{
	int fds[CYPH_HTTP_MAX_CONNS];
	int n = 0, refused = 0;
	char *r;

	for (int i = 0; i < CYPH_HTTP_MAX_CONNS; i++) {
		char c;
		struct pollfd p;

		fds[n] = connect_from(7);
		cyph_http_on_readable(h);
		p = (struct pollfd){ .fd = fds[n], .events = POLLIN };
		if (poll(&p, 1, 20) == 1 && recv(fds[n], &c, 1, MSG_DONTWAIT) == 0) {
			refused++;
			close(fds[n]);
		} else {
			n++;
		}
	}
	TAP_CHECK(n == CYPH_HTTP_MAX_PER_SOURCE && refused == CYPH_HTTP_MAX_CONNS - n,
		  "one source holds at most %d connections (held %d)", CYPH_HTTP_MAX_PER_SOURCE, n);
	r = exchange_fd(connect_from(8), "GET /healthz HTTP/1.1\r\n\r\n", 25);
	TAP_CHECK(r && strstr(r, " 200 "), "another source is served meanwhile");
	for (int i = 0; i < n; i++)
		close(fds[i]);
	cyph_http_on_readable(h);
}

/* ---- an application (cyphonicd's login page): POST, bodies, held answers ---- */

static uint64_t held_conn;
static char seen_body[64];

static int app(struct cyph_http *hh, const struct cyph_http_app_req *r, const char **ctype,
	       char *text, size_t len, void *arg)
{
	(void)hh;
	(void)ctype;
	(void)arg;
	if (!r->post) {
		snprintf(text, len, "page %s\n", r->path);
		return 200;
	}
	snprintf(seen_body, sizeof(seen_body), "%s", r->body);
	if (!strcmp(r->path, "/hold")) {
		held_conn = r->conn;
		return 0;
	}
	return 403;
}

static void test_app(void)
{
	static const char big[] = "POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\n";
	static const char hold[] = "POST /hold HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
	char user[8], pw[16];
	const char *r;
	int fd;

	cyph_http_set_app(h, app, NULL, 64);
	r = get("GET /anything HTTP/1.1\r\n\r\n");
	TAP_CHECK(r && strstr(r, " 200 ") && strstr(r, "page /anything"), "app: GET goes to it");
	r = get("POST /x HTTP/1.1\r\nContent-Length: 7\r\n\r\nuser=ab");
	TAP_CHECK(r && strstr(r, " 403 ") && !strcmp(seen_body, "user=ab"),
		  "app: POST with its body (%s)", seen_body);
	r = get("POST /x HTTP/1.1\r\n\r\nuser=ab");
	TAP_CHECK(r && strstr(r, " 411 "), "app: POST without Content-Length: 411");
	r = get(big);
	TAP_CHECK(r && strstr(r, " 413 "), "app: a body over the bound: 413");
	r = get("POST /x HTTP/1.1\r\nContent-Length: 1x\r\n\r\n");
	TAP_CHECK(r && strstr(r, " 400 "), "app: a bad Content-Length: 400");
	r = get("POST /x HTTP/1.1\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\na");
	TAP_CHECK(r && strstr(r, " 400 "), "app: Content-Length twice: 400");
	/* held: no answer until cyph_http_reply */
	fd = connect_srv();
	held_conn = 0;
	send(fd, hold, strlen(hold), MSG_NOSIGNAL);
	for (int i = 0; i < 200 && !held_conn; i++) {
		cyph_http_on_readable(h);
		poll(NULL, 0, 1);
	}
	TAP_CHECK(held_conn != 0, "app: a request held");
	TAP_CHECK(!cyph_http_reply(h, held_conn + 256, 200, NULL, "x\n"),
		  "app: a stale connection id is refused");
	TAP_CHECK(cyph_http_reply(h, held_conn, 200, NULL, "later\n"), "app: answered later");
	r = exchange_fd(fd, NULL, 0);
	TAP_CHECK(r && strstr(r, " 200 ") && strstr(r, "later"), "app: the client gets it");
	TAP_CHECK(!cyph_http_reply(h, held_conn, 200, NULL, "again\n"), "app: answered once only");
	/* the form decoder */
	TAP_CHECK(!cyph_http_form_field("user=a%20b+c&password=p%26w", 27, "user", user,
					sizeof(user)) && !strcmp(user, "a b c"), "form: %%XX and +");
	TAP_CHECK(!cyph_http_form_field("user=a%20b+c&password=p%26w", 27, "password", pw,
					sizeof(pw)) && !strcmp(pw, "p&w"), "form: second field");
	TAP_CHECK(cyph_http_form_field("user=a", 6, "password", pw, sizeof(pw)) == -1,
		  "form: missing field");
	TAP_CHECK(cyph_http_form_field("xuser=a", 7, "user", pw, sizeof(pw)) == -1,
		  "form: a longer name does not match");
	TAP_CHECK(cyph_http_form_field("user=%0a", 8, "user", user, sizeof(user)) == -2 &&
		  cyph_http_form_field("user=%g1", 8, "user", user, sizeof(user)) == -2 &&
		  cyph_http_form_field("user=%2", 7, "user", user, sizeof(user)) == -2 &&
		  cyph_http_form_field("user=12345678", 13, "user", user, sizeof(user)) == -2,
		  "form: control byte, bad or cut escape, too long: malformed");
	cyph_http_set_app(h, NULL, NULL, 0);
}

int main(void)
{
	char err[256] = "";
	struct cyph_http *bad;

	cyph_counter_add(cyph_counter_new("test_up_total", "x", NULL), 42);
	h = cyph_http_listen("127.0.0.1:0", err, sizeof(err));
	TAP_CHECK(h != NULL, "listen on an ephemeral port (%s)", err);
	if (!h)
		return tap_done();
	port = cyph_http_port(h);
	bad = cyph_http_listen("127.0.0.1:bogus", err, sizeof(err));
	TAP_CHECK(!bad && strstr(err, "127.0.0.1:bogus"), "bad address named (%s)", err);
	test_endpoints();
	test_hostile();
	test_idle_and_limit();
	test_per_source();
	test_app();
	cyph_http_free(h);
	cyph_metrics_reset();
	return tap_done();
}
