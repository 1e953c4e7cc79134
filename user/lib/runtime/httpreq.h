/* SPDX-License-Identifier: MIT */
/*
 * The request side of the operations HTTP server (http.h), apart from
 * its sockets so it can be fuzzed: when a header block is complete, and
 * what its request line asks for.
 */
#ifndef CYPHONIC_HTTPREQ_H
#define CYPHONIC_HTTPREQ_H

#include <stdbool.h>
#include <stddef.h>

struct cyph_http_req {
	char path[256];		/* without the query string */
	bool head;		/* HEAD: answer without the body */
};

/* Does in (len bytes) hold a whole header block (ends in a blank line)? */
bool cyph_http_headers_complete(const char *in, size_t len);

/*
 * Parses a complete header block; in[len] must be NUL. 0 and *r filled,
 * or the HTTP status to answer: 400 (malformed: control bytes, request
 * line too long or not "METHOD /path HTTP/1.x") or 405 (not GET/HEAD).
 */
int cyph_http_parse_request(const char *in, size_t len, struct cyph_http_req *r);

#endif
