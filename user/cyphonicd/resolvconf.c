// SPDX-License-Identifier: MIT
/*
 * The resolv.conf set-up's text edit (resolver.c says when it is used):
 * our nameserver goes first, behind a marker comment, and comes out again
 * with the marker; lines a crashed daemon left are replaced, never
 * doubled. Pure text in, text out, so the unit test covers it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cyphonicd.h"

#define MARK "# added by cyphonicd: its DNS responder, for the overlay on "

static bool marked(const char *line)
{
	return !strncmp(line, MARK, strlen(MARK));
}

static bool is_nameserver(const char *line)
{
	line += strspn(line, " \t");
	return !strncmp(line, "nameserver", 10) && (line[10] == ' ' || line[10] == '\t');
}

char *cyd_resolv_conf_edit(const char *text, const char *server, const char *device)
{
	size_t cap = strlen(text) + strlen(MARK) + strlen(device) + strlen(server ? server : "") + 64;
	char *out = malloc(cap), *o = out;
	const char *p = text, *nl;
	bool added = !server, skip_next = false;

	if (!out)
		return NULL;
	while (*p) {
		size_t len;

		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		if (marked(p)) {
			skip_next = true;	/* ours, and the nameserver after it */
		} else if (skip_next && is_nameserver(p)) {
			skip_next = false;
		} else {
			skip_next = false;
			if (!added && is_nameserver(p)) {
				o += sprintf(o, MARK "%s\nnameserver %s\n", device, server);
				added = true;
			}
			memcpy(o, p, len);
			o += len;
			if (!nl)
				*o++ = '\n';
		}
		p += len;
	}
	if (!added)
		o += sprintf(o, MARK "%s\nnameserver %s\n", device, server);
	*o = '\0';
	return out;
}
