// SPDX-License-Identifier: MIT
/* Request parsing of the HTTP server (httpreq.h). */
#include "httpreq.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool cyph_http_headers_complete(const char *in, size_t len)
{
	return memmem(in, len, "\r\n\r\n", 4) || memmem(in, len, "\n\n", 2);
}

static size_t header_len(const char *in, size_t len)
{
	const char *a = memmem(in, len, "\r\n\r\n", 4), *b = memmem(in, len, "\n\n", 2);

	if (a && (!b || a < b))
		return (size_t)(a - in) + 4;
	return b ? (size_t)(b - in) + 2 : len;
}

/* Content-Length: -1 when absent, -2 when malformed or given twice. */
static long long content_length(const char *in, size_t hlen)
{
	long long v = -1;
	const char *p = in, *end = in + hlen;

	while ((p = memchr(p, '\n', (size_t)(end - p))) && ++p < end) {
		char *e;

		if ((size_t)(end - p) < 15 || strncasecmp(p, "Content-Length:", 15))
			continue;
		if (v != -1)
			return -2;
		p += 15;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p >= end || !isdigit((unsigned char)*p))
			return -2;
		v = strtoll(p, &e, 10);
		if (v < 0 || v > 1000000000LL || (*e != '\r' && *e != '\n' && *e != ' '))
			return -2;
	}
	return v;
}

/*
 * Only the request line and Content-Length matter; header lines are
 * checked for being printable.
 */
int cyph_http_parse_request2(const char *in, size_t len, bool post_ok, struct cyph_http_req *r)
{
	char method[8], version[16];
	const char *eol = memchr(in, '\n', len);

	memset(r, 0, sizeof(*r));
	r->header_len = header_len(in, len);
	for (size_t i = 0; i < r->header_len; i++) {
		unsigned char ch = (unsigned char)in[i];

		if ((ch < 0x20 && ch != '\r' && ch != '\n' && ch != '\t') || ch == 0x7f)
			return 400;
	}
	if (!eol || eol - in > 300 ||
	    sscanf(in, "%7s %255s %15s", method, r->path, version) != 3 ||
	    strncmp(version, "HTTP/1.", 7) || r->path[0] != '/')
		return 400;
	r->post = post_ok && !strcmp(method, "POST");
	if (strcmp(method, "GET") && strcmp(method, "HEAD") && !r->post)
		return 405;
	r->content_length = content_length(in, r->header_len);
	if (r->content_length == -2)
		return 400;
	r->path[strcspn(r->path, "?")] = '\0';
	r->head = !strcmp(method, "HEAD");
	return 0;
}

int cyph_http_parse_request(const char *in, size_t len, struct cyph_http_req *r)
{
	return cyph_http_parse_request2(in, len, false, r);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int cyph_http_form_field(const char *body, size_t len, const char *name, char *out,
			 size_t outlen)
{
	size_t nlen = strlen(name), i = 0, o = 0;

	while (i < len) {
		size_t end = i;

		while (end < len && body[end] != '&')
			end++;
		if (end - i > nlen && !memcmp(body + i, name, nlen) && body[i + nlen] == '=') {
			for (i += nlen + 1; i < end; i++) {
				int c = (unsigned char)body[i], h, l;

				if (c == '+') {
					c = ' ';
				} else if (c == '%') {
					if (end - i < 3 || (h = hexval(body[i + 1])) < 0 ||
					    (l = hexval(body[i + 2])) < 0)
						return -2;
					c = h * 16 + l;
					i += 2;
				}
				if (c < 0x20 || c == 0x7f || o + 1 >= outlen)
					return -2;
				out[o++] = (char)c;
			}
			out[o] = '\0';
			return 0;
		}
		i = end + 1;
	}
	return -1;
}
