// SPDX-License-Identifier: MIT
/*
 * user/lib/kv: the [store] keys through the config framework (errors with
 * file and line, cyph_cfg_key_line), address forms, and a connection to a
 * real redis-server this test starts and kills itself (when
 * CYPH_TEST_REDIS says the suite has Redis): commands, a server that
 * disappears (commands fail at once, no stall), and the reconnect when it
 * is back.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "kv/kv.h"
#include "tap.h"

struct conf {
	struct cyph_kv_config kv;
};

static const struct cyph_cfg_field fields[] = {
	CYPH_KV_CFG_FIELDS(struct conf, kv),
};

static char dir[] = "/tmp/test_kv.XXXXXX";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* Loads text as a config file; the error (or "") in err. */
static int load(const char *text, struct conf *c, char *err, size_t errlen)
{
	char path[300];

	snprintf(path, sizeof(path), "%s/t.conf", dir);
	write_file(path, text);
	err[0] = '\0';
	if (cyph_cfg_load(path, fields, 3, c, err, errlen))
		return -1;
	return cyph_kv_config_check(&c->kv, path, err, errlen);
}

static void test_config(void)
{
	struct conf c;
	char err[512], host[256], path[300];
	bool is_unix;
	int port;

	TAP_CHECK(load("", &c, err, sizeof(err)) == 0 && !cyph_kv_enabled(&c.kv) &&
		  !strcmp(c.kv.prefix, "cyphonic:") && c.kv.timeout_ms == 500,
		  "defaults: no Redis, prefix cyphonic:, timeout 500 ms");
	TAP_CHECK(load("[store]\nredis = 10.0.0.5:6379\nprefix = dep1:\ntimeout = 2s\n", &c, err,
		       sizeof(err)) == 0 && cyph_kv_enabled(&c.kv) && c.kv.timeout_ms == 2000,
		  "host:port, prefix and timeout accepted");
	TAP_CHECK(load("# x\n[store]\n\n; y\nredis = nohost\n", &c, err, sizeof(err)) == -1 &&
		  strstr(err, "t.conf:5: [store] redis: 'nohost'"),
		  "a bad address names file and line (%s)", err);
	TAP_CHECK(load("[store]\nprefix = \"a b\"\n", &c, err, sizeof(err)) == -1 &&
		  strstr(err, "t.conf:2: [store] prefix"), "a bad prefix names file and line (%s)",
		  err);
	TAP_CHECK(load("[store]\ntimeout = 1ms\n", &c, err, sizeof(err)) == -1 &&
		  strstr(err, "t.conf:2: [store] timeout"), "timeout below 10 ms refused (%s)", err);
	TAP_CHECK(!cyph_kv_addr_split("[::1]:6380", host, sizeof(host), &port, &is_unix) &&
		  !strcmp(host, "::1") && port == 6380 && !is_unix &&
		  !cyph_kv_addr_split("/run/r.sock", host, sizeof(host), &port, &is_unix) &&
		  is_unix && !strcmp(host, "/run/r.sock"),
		  "[IPv6]:port and a socket path split");
	TAP_CHECK(cyph_kv_addr_split("h:0", host, sizeof(host), &port, &is_unix) &&
		  cyph_kv_addr_split("::1:6379", host, sizeof(host), &port, &is_unix) &&
		  cyph_kv_addr_split("rel/path", host, sizeof(host), &port, &is_unix) &&
		  cyph_kv_addr_split(":6379", host, sizeof(host), &port, &is_unix),
		  "port 0, bare IPv6, relative path and empty host refused");

	snprintf(path, sizeof(path), "%s/l.conf", dir);
	write_file(path, "[store]\n# redis = x\n[other]\nredis = y\n[ store ]\nredis=z\n");
	TAP_CHECK(cyph_cfg_key_line(path, "store", "redis") == 6 &&
		  cyph_cfg_key_line(path, "store", "prefix") == 0 &&
		  cyph_cfg_key_line(NULL, "store", "redis") == 0,
		  "cyph_cfg_key_line: the section's key, not a comment or another section");
}

/* ---- a private server --------------------------------------------------------- */

static pid_t server_start(const char *sock)
{
	pid_t pid = fork();
	int i;

	if (pid == 0) {
		execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock,
		       "--save", "", "--appendonly", "no", "--dir", dir, "--logfile",
		       "/dev/null", (char *)NULL);
		_exit(127);
	}
	for (i = 0; i < 200 && access(sock, F_OK); i++)
		usleep(20000);
	return pid;
}

static void server_kill(pid_t pid, const char *sock)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	unlink(sock);
}

static int64_t ms_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_server(void)
{
	struct cyph_kv_config kc = { .timeout_ms = 500 };
	char sock[200], err[256], key[64];
	struct cyph_kv *kv;
	redisReply *r;
	long long v = 0;
	int64_t t0;
	pid_t pid;
	int i, ok;

	snprintf(sock, sizeof(sock), "%.100s/r.sock", dir);
	snprintf(kc.redis, sizeof(kc.redis), "%s", sock);
	snprintf(kc.prefix, sizeof(kc.prefix), "t:");
	pid = server_start(sock);
	kv = cyph_kv_open(&kc, "test", err, sizeof(err));
	TAP_CHECK(kv != NULL, "connects to the server's socket (%s)", kv ? "ok" : err);
	if (!kv) {
		server_kill(pid, sock);
		return;
	}
	cyph_kv_key(kv, key, sizeof(key), "n:%d", 7);
	TAP_CHECK(!strcmp(key, "t:n:7"), "keys carry the prefix");
	r = cyph_kv_cmd(kv, "SET %s %b", key, "a\0b", (size_t)3);
	freeReplyObject(r);
	r = cyph_kv_cmd(kv, "GET %s", key);
	TAP_CHECK(r && r->type == REDIS_REPLY_STRING && r->len == 3 && !memcmp(r->str, "a\0b", 3),
		  "binary values round-trip");
	freeReplyObject(r);
	TAP_CHECK(!cyph_kv_int(kv, &v, "INCR %s:c", key) && v == 1, "integer replies");
	TAP_CHECK(!cyph_kv_cmd(kv, "INCR %s", key) && cyph_kv_errors(kv) == 1,
		  "an error reply is NULL and counted");
	TAP_CHECK(!cyph_kv_append(kv, "INCR %s:c", key) && !cyph_kv_append(kv, "INCR %s:c", key) &&
		  (r = cyph_kv_reply(kv)) && r->integer == 2 && (freeReplyObject(r), 1) &&
		  (r = cyph_kv_reply(kv)) && r->integer == 3, "pipelined replies in order");
	freeReplyObject(r);
	/* deferred writes: their replies are read before the next one */
	TAP_CHECK(!cyph_kv_defer(kv, "SET %s:d 1", key) && !cyph_kv_defer(kv, "INCR %s:d", key) &&
		  !cyph_kv_defer(kv, "INCR %s", key) &&
		  !cyph_kv_int(kv, &v, "INCR %s:d", key) && v == 3 && cyph_kv_errors(kv) == 2,
		  "deferred writes go first; their error is counted, not returned");
	TAP_CHECK(!cyph_kv_defer(kv, "INCR %s:d", key) && !cyph_kv_append(kv, "GET %s:d", key) &&
		  (r = cyph_kv_reply(kv)) && r->type == REDIS_REPLY_STRING && !strcmp(r->str, "4"),
		  "a pipeline after deferred writes reads its own reply");
	freeReplyObject(r);
	cyph_kv_defer(kv, "SET %s:d 9", key);
	cyph_kv_settle(kv);
	cyph_kv_settle(kv);
	TAP_CHECK(!cyph_kv_int(kv, &v, "INCR %s:d", key) && v == 10,
		  "settle sends deferred writes and reads their replies (twice is harmless)");

	server_kill(pid, sock);
	t0 = ms_now();
	ok = 1;
	for (i = 0; i < 100; i++)
		ok &= cyph_kv_cmd(kv, "PING") == NULL;
	TAP_CHECK(ok && ms_now() - t0 < 1000,
		  "server gone: 100 commands fail in %lld ms (no stall)", (long long)(ms_now() - t0));
	pid = server_start(sock);
	t0 = ms_now();
	for (r = NULL; !r && ms_now() - t0 < 5000; usleep(20000))
		r = cyph_kv_cmd(kv, "PING");
	TAP_CHECK(r && r->type == REDIS_REPLY_STATUS,
		  "server back: reconnected after %lld ms", (long long)(ms_now() - t0));
	freeReplyObject(r);
	cyph_kv_close(kv);
	server_kill(pid, sock);
}

int main(void)
{
	char cmd[64];

	if (!mkdtemp(dir))
		return 1;
	signal(SIGPIPE, SIG_IGN);	/* as the daemons: a dead server is EPIPE */
	test_config();
	if (getenv("CYPH_TEST_REDIS"))
		test_server();
	else
		tap_skip("CYPH_TEST_REDIS not set (tests/unit/suite.sh sets it)", "redis server");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		return 1;
	return tap_done();
}
