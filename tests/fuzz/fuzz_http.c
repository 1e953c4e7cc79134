// SPDX-License-Identifier: MIT
/*
 * The request parser of the operations HTTP server
 * (user/lib/runtime/httpreq.c) on any bytes, NUL-terminated as the
 * server's buffer is. A request it accepts must name an absolute path
 * without a query string.
 */
#include <stdlib.h>
#include "fuzz_common.h"
#include "runtime/http.h"
#include "runtime/httpreq.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char buf[CYPH_HTTP_MAX_REQUEST];
	struct cyph_http_req r;
	int rc;

	if (size >= sizeof(buf))
		size = sizeof(buf) - 1;
	memcpy(buf, data, size);
	buf[size] = '\0';
	if (!cyph_http_headers_complete(buf, size))
		return 0;
	rc = cyph_http_parse_request(buf, size, &r);
	if (rc == 0 && (r.path[0] != '/' || strchr(r.path, '?')))
		abort();
	if (rc != 0 && rc != 400 && rc != 405)
		abort();
	return 0;
}
