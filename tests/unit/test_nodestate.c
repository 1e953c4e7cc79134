// SPDX-License-Identifier: MIT
/*
 * user/lib/nodestate: the state file cyphonicd writes for cyphctl show.
 * Round trip of the format, malformed lines skipped and counted, a bad
 * header refused, the file name, and a dead writer recognised.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nodestate/statefile.h"
#include "tap.h"

static void round_trip(void)
{
	struct nodestate_header h = { .pid = 1234, .ifindex = 5 };
	struct nodestate_tunnel t[2] = {
		{ .index = 7, .path = "direct", .peer = "bob.cyph.test", .initiator = true,
		  .handshake_unix_ms = 1764720000123, .route_ms = 12, .handshake_ms = 480,
		  .rekeys = 2 },
		{ .index = 9, .path = "relayed", .peer = "carol.cyph.test",
		  .handshake_unix_ms = 1764720000456, .route_ms = -1, .handshake_ms = 31 },
	};
	struct nodestate s;
	char buf[1024];
	size_t need;

	strcpy(h.device, "cyph0");
	strcpy(h.node, "alice.cyph.test");
	need = nodestate_format(NULL, 0, &h, t, 2);
	TAP_CHECK(need > 0 && need < sizeof(buf), "format: length asked first (%zu)", need);
	TAP_CHECK(nodestate_format(buf, sizeof(buf), &h, t, 2) == need, "format: same length written");
	TAP_CHECK(!strncmp(buf, "cyphonicd 1 pid 1234 ifindex 5 device cyph0 node alice.cyph.test\n"
			   "tunnel 7 path direct peer bob.cyph.test role initiator", 118),
		  "format: header and first tunnel as documented");
	TAP_CHECK(strstr(buf, "route_ms - handshake_ms 31 rekeys 0\n") != NULL,
		  "format: a responder's route is '-'");
	TAP_CHECK(nodestate_parse(buf, &s) == 0, "parse: ok");
	TAP_CHECK(s.h.pid == 1234 && s.h.ifindex == 5 && !strcmp(s.h.device, "cyph0") &&
		  !strcmp(s.h.node, "alice.cyph.test"), "parse: header");
	TAP_CHECK(s.n == 2 && s.malformed == 0, "parse: two tunnels");
	TAP_CHECK(s.n == 2 && !memcmp(&s.t[0], &t[0], sizeof(t[0])) &&
		  !memcmp(&s.t[1], &t[1], sizeof(t[1])), "parse: tunnels as written");
	TAP_CHECK(nodestate_find(&s, 9) == &s.t[1] && !nodestate_find(&s, 8), "find by index");
	nodestate_free(&s);
}

/* The NAT type: optional at the header's end (older daemons leave it out). */
static void nat_type(void)
{
	struct nodestate_header h = { .pid = 9, .ifindex = 2 };
	struct nodestate s;
	char buf[256];

	strcpy(h.device, "cyph0");
	strcpy(h.node, "s1.cyph.test");
	strcpy(h.nat, "symmetric");
	nodestate_format(buf, sizeof(buf), &h, NULL, 0);
	TAP_CHECK(strstr(buf, " node s1.cyph.test nat symmetric\n") != NULL, "format: nat at the end");
	TAP_CHECK(nodestate_parse(buf, &s) == 0 && !strcmp(s.h.nat, "symmetric"), "parse: nat");
	nodestate_free(&s);
	TAP_CHECK(nodestate_parse("cyphonicd 1 pid 9 ifindex 2 device cyph0 node x\n", &s) == 0 &&
		  s.h.nat[0] == 0, "parse: no nat (an older daemon): empty");
	nodestate_free(&s);
	TAP_CHECK(nodestate_parse("cyphonicd 1 pid 9 ifindex 2 device cyph0 node x nat\n", &s) != 0,
		  "parse: 'nat' without a value is malformed");
}

static void gnodes(void)
{
	struct nodestate_header h = { .pid = 77, .ifindex = 3 };
	struct nodestate_gnode g[2] = {
		{ .name = "cam1", .fqdn = "cam1.cyph.test", .mac = "02:00:5e:00:00:01",
		  .method = "mac", .vip = "10.77.0.5", .state = "up" },
		{ .name = "cam4", .fqdn = "cam4.cyph.test", .mac = "02:00:5e:00:00:04",
		  .method = "8021x", .vip = "-", .state = "down",
		  .why = "waiting for 802.1X\nauthentication" },
	};
	struct nodestate s;
	char buf[1024];
	size_t off;

	strcpy(h.device, "cyph0");
	strcpy(h.node, "gw.cyph.test");
	off = nodestate_format(buf, sizeof(buf), &h, NULL, 0);
	off += nodestate_format_gnodes(buf + off, sizeof(buf) - off, g, 2);
	TAP_CHECK(off < sizeof(buf) && strstr(buf, "gnode cam1 fqdn cam1.cyph.test mac "
						   "02:00:5e:00:00:01 method mac vip 10.77.0.5 "
						   "state up why -\n"), "gnode: format as documented");
	TAP_CHECK(strstr(buf, "why waiting for 802.1X?authentication\n") != NULL,
		  "gnode: a control character in why cannot break the line");
	strcat(buf, "gnode cam9 fqdn x mac y\ngnode cam8 fqdn a mac b method c vip d state e why \n");
	TAP_CHECK(nodestate_parse(buf, &s) == 0 && s.ng == 2 && s.n == 0, "gnode: two parsed");
	TAP_CHECK(s.ng == 2 && !strcmp(s.g[0].name, "cam1") && !strcmp(s.g[0].why, "-") &&
		  !strcmp(s.g[1].state, "down") && !strcmp(s.g[1].why,
		  "waiting for 802.1X?authentication"), "gnode: fields as written");
	TAP_CHECK(s.malformed == 2, "gnode: truncated and empty-why lines skipped and counted");
	nodestate_free(&s);
}

static void malformed(void)
{
	static const char *const bad_lines[] = {
		"tunnel 7 path sideways peer b role initiator handshake_unix_ms 1 route_ms 1 handshake_ms 1 rekeys 0\n",
		"tunnel 7 path direct peer b role boss handshake_unix_ms 1 route_ms 1 handshake_ms 1 rekeys 0\n",
		"tunnel 7 path direct peer b role initiator handshake_unix_ms 1 route_ms x1 handshake_ms 1 rekeys 0\n",
		"tunnel 7 path direct peer b role initiator handshake_unix_ms 1 route_ms 1 handshake_ms -4 rekeys 0\n",
		"tunnel 7 path direct peer b role initiator handshake_unix_ms 1 route_ms 1 handshake_ms 1 rekeys 0 extra\n",
		"tunnel 7 path direct\n",
		"garbage\n",
	};
	char text[4096];
	struct nodestate s;
	size_t i;

	strcpy(text, "cyphonicd 1 pid 1 ifindex 2 device d node n\n");
	for (i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++)
		strcat(text, bad_lines[i]);
	strcat(text, "tunnel 3 path punched peer p role responder handshake_unix_ms 1 route_ms - handshake_ms 2 rekeys 0");
	TAP_CHECK(nodestate_parse(text, &s) == 0, "malformed lines: the file still parses");
	TAP_CHECK(s.n == 1 && s.t[0].index == 3 && !strcmp(s.t[0].path, "punched"),
		  "malformed lines: the good tunnel kept (no final newline needed)");
	TAP_CHECK(s.malformed == i, "malformed lines: %zu skipped and counted", s.malformed);
	nodestate_free(&s);
	TAP_CHECK(nodestate_parse("cyphonicd 2 pid 1 ifindex 2 device d node n\n", &s) == -1,
		  "another format version is refused");
	TAP_CHECK(nodestate_parse("tunnel 3 path direct\n", &s) == -1, "no header: refused");
	TAP_CHECK(nodestate_parse("cyphonicd 1 pid 0 ifindex 2 device d node n\n", &s) == -1,
		  "pid 0: refused");
	TAP_CHECK(nodestate_parse("", &s) == -1, "empty: refused");
}

static void files(void)
{
	struct nodestate_header h = { .ifindex = 4 };
	char dir[] = "/tmp/nodestate.XXXXXX", path[4200], buf[256];
	struct nodestate s;
	FILE *f;
	pid_t child;

	TAP_CHECK(nodestate_netns() != 0, "own network namespace inode");
	TAP_CHECK(!nodestate_path(path, sizeof(path), "/run/x", "cyph0", 4026531992ULL) &&
		  !strcmp(path, "/run/x/cyph0.4026531992.state"), "file name DIR/DEV.NETNS.state");
	setenv("CYPHONIC_RUNTIME_DIR", "/tmp/y", 1);
	TAP_CHECK(!nodestate_path(path, sizeof(path), NULL, "c", 1) &&
		  !strcmp(path, "/tmp/y/c.1.state"), "CYPHONIC_RUNTIME_DIR overrides the default");
	unsetenv("CYPHONIC_RUNTIME_DIR");
	TAP_CHECK(!nodestate_path(path, sizeof(path), NULL, "c", 1) &&
		  !strcmp(path, NODESTATE_DIR "/c.1.state"), "default directory " NODESTATE_DIR);
	if (!mkdtemp(dir)) {
		TAP_CHECK(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/cyph0.1.state", dir);
	errno = 0;
	TAP_CHECK(nodestate_read(path, &s) == -1 && errno == ENOENT, "no file: ENOENT (no daemon)");
	h.pid = (int)getpid();
	strcpy(h.device, "cyph0");
	strcpy(h.node, "a.b");
	nodestate_format(buf, sizeof(buf), &h, NULL, 0);
	f = fopen(path, "w");
	fputs(buf, f);
	fclose(f);
	TAP_CHECK(nodestate_read(path, &s) == 0 && s.n == 0, "read: header only");
	TAP_CHECK(nodestate_live(&s, 4), "a running writer, its device: live");
	TAP_CHECK(!nodestate_live(&s, 5), "another ifindex: not live");
	nodestate_free(&s);
	child = fork();
	if (child == 0)
		_exit(0);
	waitpid(child, NULL, 0);
	h.pid = (int)child;
	nodestate_format(buf, sizeof(buf), &h, NULL, 0);
	f = fopen(path, "w");
	fputs(buf, f);
	fclose(f);
	TAP_CHECK(nodestate_read(path, &s) == 0 && !nodestate_live(&s, 4),
		  "a writer that exited: stale");
	nodestate_free(&s);
	f = fopen(path, "w");
	fputs("nonsense\n", f);
	fclose(f);
	errno = 0;
	TAP_CHECK(nodestate_read(path, &s) == -1 && errno == EINVAL, "malformed file: EINVAL");
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	round_trip();
	nat_type();
	gnodes();
	malformed();
	files();
	return tap_done();
}
