// SPDX-License-Identifier: GPL-2.0
/*
 * Link seams for tunnel.c: events.c needs the generic netlink family and
 * staging.c the TX path, neither of which exists without main.c. The
 * signatures come from kmod/'s own headers, so a change there breaks this
 * build instead of silently testing something else.
 */

#include <linux/string.h>

#include "events.h"
#include "staging.h"
#include "kunit_stubs.h"

struct cyph_stub_calls cyph_stub_calls;

void cyph_stub_reset(void)
{
	memset(&cyph_stub_calls, 0, sizeof(cyph_stub_calls));
}

void cyph_ntf_endpoint(struct cyph_tunnel *t, const union cyph_sockaddr *ep,
		       u32 relay)
{
	cyph_stub_calls.last_tunnel = t;
	cyph_stub_calls.last_endpoint = *ep;
	atomic_inc(&cyph_stub_calls.ntf_endpoint);
}

void cyph_staging_flush(struct cyph_device *cd, struct cyph_tunnel *t)
{
	cyph_stub_calls.last_tunnel = t;
	atomic_inc(&cyph_stub_calls.staging_flush);
}
