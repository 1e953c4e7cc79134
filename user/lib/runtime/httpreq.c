// SPDX-License-Identifier: MIT
/* Request parsing of the operations HTTP server (httpreq.h). */
#include "httpreq.h"

#include <stdio.h>
#include <string.h>

bool cyph_http_headers_complete(const char *in, size_t len)
{
	return memmem(in, len, "\r\n\r\n", 4) || memmem(in, len, "\n\n", 2);
}

/*
 * Only the request line matters; header lines are checked for being
 * printable.
 */
int cyph_http_parse_request(const char *in, size_t len, struct cyph_http_req *r)
{
	char method[8], version[16];
	const char *eol = memchr(in, '\n', len);

	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)in[i];

		if ((ch < 0x20 && ch != '\r' && ch != '\n' && ch != '\t') || ch == 0x7f)
			return 400;
	}
	if (!eol || eol - in > 300 ||
	    sscanf(in, "%7s %255s %15s", method, r->path, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) || r->path[0] != '/')
		return 400;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return 405;
	r->path[strcspn(r->path, "?")] = '\0';
	r->head = !strcmp(method, "HEAD");
	return 0;
}
