// SPDX-License-Identifier: MIT
/*
 * hostapd's answer to "STA MAC" (user/cyphonicd/adapter/sta.c): the MAC,
 * whether the session is authorized, and the identity the EAP server
 * authenticated, which the adapter compares with the MAC's general node.
 */
#include <string.h>

#include "adapter/internal.h"
#include "tap.h"

int main(void)
{
	static const char ok[] =
		"82:fd:d5:ea:c4:e7\nflags=[AUTHORIZED]\naid=0\ndot1xPaePortNumber=0\n"
		"dot1xAuthSessionUserName=cam4\nlast_eap_type_sta=25 (PEAP)\n";
	static const uint8_t want[6] = { 0x82, 0xfd, 0xd5, 0xea, 0xc4, 0xe7 };
	uint8_t mac[6];
	char id[64];
	bool auth;

	TAP_CHECK(!cyd_hostapd_sta_parse(ok, mac, &auth, id, sizeof(id)) &&
		  !memcmp(mac, want, 6) && auth && !strcmp(id, "cam4"),
		  "an authorized session: MAC, authorized, identity '%s'", id);
	TAP_CHECK(!cyd_hostapd_sta_parse("02:00:5e:00:00:05\nflags=[ASSOC]\n"
					 "dot1xAuthSessionUserName=cam5\n", mac, &auth, id, sizeof(id)) &&
		  !auth && !strcmp(id, "cam5"), "not authorized (yet): said so");
	TAP_CHECK(!cyd_hostapd_sta_parse("02:00:5e:00:00:05\nflags=[AUTHORIZED]\n", mac, &auth,
					 id, sizeof(id)) && auth && !id[0],
		  "no session user name: empty identity");
	TAP_CHECK(!cyd_hostapd_sta_parse("02:00:5e:00:00:05\nflags=[AUTHORIZED]\n"
					 "dot1xAuthSessionUserName=cam4\n"
					 "dot1xAuthSessionUserName=cam3\n", mac, &auth, id, sizeof(id)) &&
		  !strcmp(id, "cam4"), "only the first line of a key counts");
	TAP_CHECK(!cyd_hostapd_sta_parse("02:00:5e:00:00:05\nflags=[AUTHORIZED]\n"
					 "dot1xAuthSessionUserName=a-very-long-name\n", mac, &auth, id,
					 8) && !id[0], "an identity longer than the buffer: empty");
	TAP_CHECK(!cyd_hostapd_sta_parse("02:00:5e:00:00:05\nsupported_rates=[AUTHORIZED]\n",
					 mac, &auth, id, sizeof(id)) && !auth,
		  "[AUTHORIZED] elsewhere than in flags: not authorized");
	TAP_CHECK(cyd_hostapd_sta_parse("FAIL\n", mac, &auth, id, sizeof(id)) == -1,
		  "FAIL (no such station): no answer");
	TAP_CHECK(cyd_hostapd_sta_parse("OK\n", mac, &auth, id, sizeof(id)) == -1,
		  "another command's OK: no answer");
	TAP_CHECK(cyd_hostapd_sta_parse("02:00:5e:00:00:05", mac, &auth, id, sizeof(id)) == -1,
		  "a bare MAC (truncated answer): no answer");
	return tap_done();
}
