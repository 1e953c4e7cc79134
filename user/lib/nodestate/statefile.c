// SPDX-License-Identifier: MIT
/* The daemon's state file: name, format, parsing (statefile.h). */
#include "statefile.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/fileutil.h"

#define MAX_FILE (8u << 20)	/* 65536 tunnels of ~120 bytes */

uint64_t nodestate_netns(void)
{
	struct stat st;

	return stat("/proc/self/ns/net", &st) ? 0 : (uint64_t)st.st_ino;
}

int nodestate_path(char *out, size_t len, const char *dir, const char *device,
		   uint64_t netns)
{
	int n;

	if (!dir)
		dir = getenv("CYPHONIC_RUNTIME_DIR");
	if (!dir || !*dir)
		dir = NODESTATE_DIR;
	n = snprintf(out, len, "%s/%s.%" PRIu64 ".state", dir, device, netns);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

bool nodestate_path_ok(const char *path)
{
	return !strcmp(path, "direct") || !strcmp(path, "punched") || !strcmp(path, "relayed");
}

/* A name is written as one word: anything else would break the line. */
static const char *word(const char *s)
{
	if (!*s)
		return "-";
	for (const char *p = s; *p; p++)
		if (*p <= ' ' || *p == 0x7f)
			return "?";
	return s;
}

size_t nodestate_format(char *buf, size_t len, const struct nodestate_header *h,
			const struct nodestate_tunnel *t, size_t n)
{
	size_t off = 0;
	int w;

#define PUT(...) do { \
		w = snprintf(off < len ? buf + off : NULL, off < len ? len - off : 0, __VA_ARGS__); \
		if (w > 0) \
			off += (size_t)w; \
	} while (0)
	PUT("cyphonicd %d pid %d ifindex %" PRIu32 " device %s node %s", NODESTATE_VERSION,
	    h->pid, h->ifindex, word(h->device), word(h->node));
	if (h->nat[0])
		PUT(" nat %s", word(h->nat));
	PUT("\n");
	for (size_t i = 0; i < n; i++) {
		char route[24] = "-";

		if (t[i].route_ms >= 0)
			snprintf(route, sizeof(route), "%" PRId64, t[i].route_ms);
		PUT("tunnel %" PRIu32 " path %s peer %s role %s handshake_unix_ms %" PRId64
		    " route_ms %s handshake_ms %" PRId64 " rekeys %" PRIu32 "\n",
		    t[i].index, word(t[i].path), word(t[i].peer),
		    t[i].initiator ? "initiator" : "responder", t[i].handshake_unix_ms, route,
		    t[i].handshake_ms, t[i].rekeys);
	}
#undef PUT
	return off;
}

size_t nodestate_format_gnodes(char *buf, size_t len, const struct nodestate_gnode *g, size_t n)
{
	size_t off = 0;
	int w;

	for (size_t i = 0; i < n; i++) {
		char why[sizeof(g->why)];
		size_t k;

		/* the rest of the line: anything but a control character */
		for (k = 0; g[i].why[k] && k < sizeof(why) - 1; k++)
			why[k] = (g[i].why[k] < ' ' || g[i].why[k] == 0x7f) ? '?' : g[i].why[k];
		why[k] = '\0';
		w = snprintf(off < len ? buf + off : NULL, off < len ? len - off : 0,
			     "gnode %s fqdn %s mac %s method %s vip %s state %s why %s\n",
			     word(g[i].name), word(g[i].fqdn), word(g[i].mac), word(g[i].method),
			     word(g[i].vip), word(g[i].state), k ? why : "-");
		if (w > 0)
			off += (size_t)w;
	}
	return off;
}

static int parse_gnode(const char *line, struct nodestate_gnode *g)
{
	int end = -1;
	size_t k;

	memset(g, 0, sizeof(*g));
	if (sscanf(line, "gnode %63s fqdn %255s mac %17s method %7s vip %45s state %11s why %n",
		   g->name, g->fqdn, g->mac, g->method, g->vip, g->state, &end) != 6 || end < 0 ||
	    memchr(line, '\n', (size_t)end))	/* " %n" skipped past the line's end */
		return -1;
	for (k = 0; line[end + k] && line[end + k] != '\n' && k < sizeof(g->why) - 1; k++)
		g->why[k] = line[end + k];
	if (!k || (line[end + k] && line[end + k] != '\n'))
		return -1;
	return 0;
}

static int add_gnode(struct nodestate *out, const char *line, size_t *cap)
{
	struct nodestate_gnode g, *p;

	if (parse_gnode(line, &g) || out->ng >= NODESTATE_MAX_GNODES)
		return -1;
	if (out->ng == *cap) {
		*cap = *cap ? 2 * *cap : 8;
		p = realloc(out->g, *cap * sizeof(*p));
		if (!p)
			return -2;
		out->g = p;
	}
	out->g[out->ng++] = g;
	return 0;
}

static int parse_header(const char *line, struct nodestate_header *h)
{
	int version, end = -1;

	if (sscanf(line, "cyphonicd %d pid %d ifindex %" SCNu32 " device %15s node %255s%n",
		   &version, &h->pid, &h->ifindex, h->device, h->node, &end) != 5 || end < 0)
		return -1;
	h->nat[0] = 0;
	if (line[end] == ' ') {	/* optional: a daemon that knows its NAT type */
		int more = -1;

		if (sscanf(line + end, " nat %11s%n", h->nat, &more) != 1 || more < 0)
			return -1;
		end += more;
	}
	if (line[end] && line[end] != '\n')
		return -1;
	return version == NODESTATE_VERSION && h->pid > 0 ? 0 : -1;
}

static int parse_tunnel(const char *line, struct nodestate_tunnel *t)
{
	char role[12], route[24], *e;
	int end = -1;

	memset(t, 0, sizeof(*t));
	if (sscanf(line, "tunnel %" SCNu32 " path %11s peer %255s role %11s handshake_unix_ms %"
		   SCNd64 " route_ms %23s handshake_ms %" SCNd64 " rekeys %" SCNu32 "%n",
		   &t->index, t->path, t->peer, role, &t->handshake_unix_ms, route,
		   &t->handshake_ms, &t->rekeys, &end) != 8 ||
	    end < 0 || (line[end] && line[end] != '\n'))
		return -1;
	if (!nodestate_path_ok(t->path) || t->handshake_ms < 0)
		return -1;
	if (!strcmp(role, "initiator"))
		t->initiator = true;
	else if (strcmp(role, "responder"))
		return -1;
	if (!strcmp(route, "-")) {
		t->route_ms = -1;
	} else {
		errno = 0;
		t->route_ms = strtoll(route, &e, 10);
		if (errno || *e || t->route_ms < 0)
			return -1;
	}
	return 0;
}

int nodestate_parse(const char *text, struct nodestate *out)
{
	const char *line = text, *nl;
	struct nodestate_tunnel t;
	size_t cap = 0, gcap = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	if (parse_header(line, &out->h))
		return -1;
	while ((nl = strchr(line, '\n')) && *(line = nl + 1)) {
		if (!strncmp(line, "gnode ", 6)) {
			rc = add_gnode(out, line, &gcap);
			if (rc == -2) {
				nodestate_free(out);
				return -1;
			}
			out->malformed += rc != 0;
			continue;
		}
		if (parse_tunnel(line, &t) || out->n >= NODESTATE_MAX_TUNNELS) {
			out->malformed++;
			continue;
		}
		if (out->n == cap) {
			size_t ncap = cap ? 2 * cap : 16;
			struct nodestate_tunnel *p = realloc(out->t, ncap * sizeof(*p));

			if (!p) {
				nodestate_free(out);
				return -1;
			}
			out->t = p;
			cap = ncap;
		}
		out->t[out->n++] = t;
	}
	return 0;
}

int nodestate_read(const char *path, struct nodestate *out)
{
	char err[256], *text;
	size_t len;
	int rc;

	memset(out, 0, sizeof(*out));
	if (access(path, R_OK))
		return -1;	/* ENOENT: no daemon wrote it */
	if (cyph_read_file(path, MAX_FILE, &text, &len, err, sizeof(err))) {
		errno = EIO;
		return -1;
	}
	rc = nodestate_parse(text, out);
	free(text);
	if (rc)
		errno = EINVAL;
	return rc;
}

void nodestate_free(struct nodestate *s)
{
	free(s->t);
	free(s->g);
	memset(s, 0, sizeof(*s));
}

bool nodestate_live(const struct nodestate *s, uint32_t ifindex)
{
	if (s->h.ifindex != ifindex || s->h.pid <= 0)
		return false;
	/* EPERM: it runs, as another user */
	return !kill(s->h.pid, 0) || errno == EPERM;
}

const struct nodestate_tunnel *nodestate_find(const struct nodestate *s, uint32_t index)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->t[i].index == index)
			return &s->t[i];
	return NULL;
}
