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
	bool post;		/* POST (only with an application handler, http.h) */
	size_t header_len;	/* bytes up to and including the blank line */
	long long content_length;	/* -1: no Content-Length header */
};

/* Does in (len bytes) hold a whole header block (ends in a blank line)? */
bool cyph_http_headers_complete(const char *in, size_t len);

/*
 * Parses a complete header block; in[len] must be NUL (in may hold the
 * start of a body after it). 0 and *r filled, or the HTTP status to
 * answer: 400 (malformed: control bytes, request line too long or not
 * "METHOD /path HTTP/1.x", a bad Content-Length) or 405 (not GET/HEAD,
 * or POST when post_ok is false).
 */
int cyph_http_parse_request2(const char *in, size_t len, bool post_ok, struct cyph_http_req *r);
/* The same with POST refused (the operations endpoints). */
int cyph_http_parse_request(const char *in, size_t len, struct cyph_http_req *r);

/*
 * Decodes field name of an application/x-www-form-urlencoded body
 * (%XX and '+'): 0 with out NUL-terminated, -1 when missing, -2 when
 * malformed (bad escape, a control byte, longer than outlen - 1).
 */
int cyph_http_form_field(const char *body, size_t len, const char *name, char *out,
			 size_t outlen);

#endif
