// SPDX-License-Identifier: MIT
/* cyphonic-admin's name, selector and MAC rules (ascommon/names.h). */
#include "ascommon/names.h"
#include "tap.h"

#include <string.h>

static void test_names(void)
{
	TAP_CHECK(cyph_admin_name_ok("alice") && cyph_admin_name_ok("node-3") &&
		  cyph_admin_name_ok("3com") && cyph_admin_name_ok("a1"),
		  "names: DNS labels with letters are fine");
	TAP_CHECK(!cyph_admin_name_ok("3") && !cyph_admin_name_ok("42") &&
		  !cyph_admin_name_ok("0007"), "names: all-digit names refused");
	TAP_CHECK(!cyph_admin_name_ok("Bad_Name") && !cyph_admin_name_ok("") &&
		  !cyph_admin_name_ok("-x") && !cyph_admin_name_ok("id:3"),
		  "names: not a DNS label refused");
}

static void test_selectors(void)
{
	struct cyph_selector s;
	const char *why = NULL;

	TAP_CHECK(!cyph_selector_parse("id:3", &s, &why) && s.by_id && s.id == 3, "sel: id:3");
	TAP_CHECK(!cyph_selector_parse("name:3", &s, &why) && !s.by_id && !strcmp(s.name, "3"),
		  "sel: name:3 reaches an old all-digit name");
	TAP_CHECK(!cyph_selector_parse("alice", &s, &why) && !s.by_id && !strcmp(s.name, "alice"),
		  "sel: a plain name still works");
	TAP_CHECK(cyph_selector_parse("3", &s, &why) && strstr(why, "ambiguous"),
		  "sel: a plain number is ambiguous (%s)", why);
	TAP_CHECK(cyph_selector_parse("id:", &s, &why) && cyph_selector_parse("id:x", &s, &why) &&
		  cyph_selector_parse("id:0", &s, &why) && cyph_selector_parse("id:-1", &s, &why) &&
		  cyph_selector_parse("id:99999999999999999999", &s, &why),
		  "sel: bad ids refused");
	TAP_CHECK(cyph_selector_parse("name:", &s, &why) && cyph_selector_parse("", &s, &why),
		  "sel: empty names refused");
}

static void test_macs(void)
{
	static const struct { uint8_t mac[6]; const char *want; } cases[] = {
		{ { 0x02, 0, 0, 0, 1, 1 }, NULL },
		{ { 0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e }, NULL },
		{ { 0, 0, 0, 0, 0, 0 }, "all-zero" },
		{ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, "broadcast" },
		{ { 0x01, 0x00, 0x5e, 0, 0, 1 }, "multicast" },
		{ { 0x33, 0x33, 0, 0, 0, 1 }, "multicast" },
		{ { 0x03, 0, 0, 0, 0, 0 }, "multicast" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *got = cyph_mac_refusal(cases[i].mac);

		TAP_CHECK(cases[i].want ? got && !strcmp(got, cases[i].want) : !got,
			  "mac %zu: %s", i, cases[i].want ? cases[i].want : "unicast accepted");
	}
}

int main(void)
{
	test_names();
	test_selectors();
	test_macs();
	return tap_done();
}
