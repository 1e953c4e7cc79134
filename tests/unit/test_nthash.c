// SPDX-License-Identifier: MIT
/*
 * user/lib/pki/nthash: the NT hash an 802.1X (PEAP-MSCHAPv2)
 * authenticator needs: known vectors, UTF-16LE of non-ASCII input, the
 * stored "nt:hex" form, and input refused.
 */
#include <string.h>

#include "pki/nthash.h"
#include "tap.h"

static bool hash_is(const char *pw, const char *want)
{
	uint8_t h[16];
	char s[CYPH_NT_STR_MAX];

	if (cyph_nt_hash(pw, h))
		return false;
	cyph_nt_format(h, s);
	return !strcmp(s, want);
}

int main(void)
{
	uint8_t h[16];

	/* vectors: well-known NT hashes (and "secret1" from iconv | openssl md4) */
	TAP_CHECK(hash_is("password", "nt:8846f7eaee8fb117ad06bdd830b7586c"), "NT hash of 'password'");
	TAP_CHECK(hash_is("", "nt:31d6cfe0d16ae931b73c59d7e0c089c0"), "NT hash of ''");
	TAP_CHECK(hash_is("secret1", "nt:b39a61f16a4e11fa80580241f1d4aae8"), "NT hash of 'secret1'");
	TAP_CHECK(hash_is("caf\xc3\xa9", "nt:b1db12409c00d1fc586fc48ecadc36a1"),
		  "two-byte UTF-8 (U+00E9) is hashed");
	TAP_CHECK(cyph_nt_hash("\xf0\x9f\x98\x80", h) == -1, "beyond U+FFFF: refused");
	TAP_CHECK(cyph_nt_hash("\xc0\xaf", h) == -1, "overlong UTF-8: refused");
	TAP_CHECK(cyph_nt_hash("\xed\xa0\x80", h) == -1, "a surrogate: refused");
	TAP_CHECK(cyph_nt_hash("ab\x80", h) == -1, "a stray continuation byte: refused");
	TAP_CHECK(cyph_nt_parse("nt:8846f7eaee8fb117ad06bdd830b7586c", h) && h[0] == 0x88 &&
		  h[15] == 0x6c, "nt:hex parses");
	TAP_CHECK(!cyph_nt_parse("nt:8846F7EAEE8FB117AD06BDD830B7586C", h) &&
		  !cyph_nt_parse("nt:8846f7eaee8fb117ad06bdd830b7586", h) &&
		  !cyph_nt_parse("$pbkdf2-sha256$1$a$b", h) && !cyph_nt_parse("", h),
		  "anything else does not parse");
	return tap_done();
}
