// SPDX-License-Identifier: MIT
/*
 * Reported addresses the NMS passes to peers (nms_addr.c, issue 12): only
 * unicast addresses a peer could reach; loopback only from a node seen on
 * loopback; duplicates dropped.
 */
#include <string.h>
#include "runtime/addr.h"
#include "nms.h"
#include "tap.h"

/* "host:port" or "[v6]:port" as the NMS would hold it. */
static struct proto_ep ep(const char *text)
{
	struct sockaddr_storage ss;
	socklen_t len;
	struct proto_ep e = { 0 };

	if (!addr_parse_endpoint(text, &ss, &len))
		proto_ep_from_sa(&e, (struct sockaddr *)&ss);
	return e;
}

int main(void)
{
	struct proto_ep pub = ep("198.51.100.7:4000"), lo = ep("127.0.0.1:4000");
	static const char *const bad[] = {
		"0.0.0.0:1", "0.1.2.3:1", "224.0.0.1:1", "239.255.255.250:1", "255.255.255.255:1",
		"240.0.0.1:1", "[::]:1", "[ff02::1]:1", "[fe80::1]:1",
	};
	static const char *const good[] = {
		"192.0.2.1:1", "10.1.0.5:1", "[2001:db8::5]:1", "[fd00::9]:1",
	};
	struct proto_ep in[6], out[6];
	size_t i, n;
	bool ok = true;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok &= !nms_addr_plausible((struct proto_ep[]){ ep(bad[i]) }, &pub);
	TAP_CHECK(ok, "unspecified, zero-network, multicast, broadcast, reserved and link-local "
		  "addresses refused");
	ok = true;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok &= nms_addr_plausible((struct proto_ep[]){ ep(good[i]) }, &pub);
	TAP_CHECK(ok, "public and private unicast addresses kept");
	TAP_CHECK(!nms_addr_plausible((struct proto_ep[]){ ep("192.0.2.1:0") }, &pub),
		  "port 0 refused");
	TAP_CHECK(!nms_addr_plausible(&lo, &pub) &&
		  !nms_addr_plausible((struct proto_ep[]){ ep("[::1]:4000") }, &pub),
		  "loopback from a node seen from elsewhere refused");
	TAP_CHECK(nms_addr_plausible(&lo, &lo), "loopback from a node on the NMS's host kept");
	in[0] = ep("192.0.2.1:4000");
	in[1] = ep("224.0.0.1:4000");
	in[2] = ep("192.0.2.1:4000");
	in[3] = lo;
	in[4] = ep("[2001:db8::5]:4000");
	n = nms_addrs_filter(in, 5, &pub, out);
	TAP_CHECK(n == 2 && proto_ep_equal(&out[0], &in[0]) && proto_ep_equal(&out[1], &in[4]),
		  "filter keeps the plausible, distinct ones in order (%zu)", n);
	return tap_done();
}
