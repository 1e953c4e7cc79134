// SPDX-License-Identifier: MIT
#include "sslerr.h"

#include <openssl/err.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *cyph_ssl_drain(char *buf, size_t len)
{
	unsigned long e;
	size_t off = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	while ((e = ERR_get_error()) != 0) {
		char one[256];

		ERR_error_string_n(e, one, sizeof(one));
		if (off < len) {
			int n = snprintf(buf + off, len - off, "%s%s",
					 off ? "; " : "", one);
			if (n > 0)
				off += (size_t)n;
		}
	}
	if (!off)
		snprintf(buf, len, "no OpenSSL error");
	return buf;
}

int cyph_ssl_fail(char *err, size_t errlen, const char *fmt, ...)
{
	char what[256], ssl[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	cyph_ssl_drain(ssl, sizeof(ssl));
	if (err && errlen)
		snprintf(err, errlen, "%s: %s", what, ssl);
	return -1;
}

int cyph_fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}
