// SPDX-License-Identifier: MIT
/*
 * A principal's login with a fresh key (asclient.h): what a node, an
 * adapter and the NMS (its own certificate) do to get a credential. The
 * password comes from a file read for each login and wiped after it, so
 * it lives in memory only while the request is made.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <openssl/crypto.h>
#include "asclient.h"
#include "retry.h"
#include "pki/cred.h"

int cyph_as_password_read(const char *file, char *pw, size_t len, char *err, size_t errlen)
{
	FILE *f = fopen(file, "re");

	if (!f || !fgets(pw, (int)len, f)) {
		snprintf(err, errlen, "%s: %s", file, f ? "empty" : strerror(errno));
		if (f)
			fclose(f);
		return -1;
	}
	fclose(f);
	pw[strcspn(pw, "\r\n")] = '\0';
	return 0;
}

void cyph_as_server_name(const char *addr, const char *configured, char *out, size_t len)
{
	const char *t = addr, *end;

	if (configured && configured[0]) {
		snprintf(out, len, "%s", configured);
		return;
	}
	if (t[0] == '[') {
		end = strchr(t, ']');
		t++;
	} else {
		end = strrchr(t, ':');
	}
	snprintf(out, len, "%.*s", end ? (int)(end - t) : (int)strlen(t), t);
}

static const struct cyph_retry_policy login_retry = CYPH_RETRY_DEFAULT;

int cyph_asclient_login_new_key(const struct cyph_asclient_opts *o, const char *name,
				const char *password_file, EVP_PKEY **key,
				struct cyph_as_credential *out, char *err, size_t errlen)
{
	struct cyph_asclient *as = NULL;
	uint8_t pub[32];
	char pw[512];
	int rc;

	memset(out, 0, sizeof(*out));
	*key = NULL;
	if (cyph_as_password_read(password_file, pw, sizeof(pw), err, errlen))
		return -1;
	*key = cyph_key_generate();
	if (!*key || cyph_key_public(*key, pub)) {
		snprintf(err, errlen, "cannot generate a key");
		rc = -1;
		goto out;
	}
	/*
	 * A refused connection, a TLS failure or a busy AS is retried on a new
	 * connection (behind ECMP another replica) with the shared backoff; a
	 * wrong password or a lockout ends at once.
	 */
	rc = cyph_asclient_auth_retry(&as, o, &login_retry, name, pw, pub, out, NULL, err,
				      errlen);
	cyph_asclient_close(as);
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	if (rc) {
		EVP_PKEY_free(*key);
		*key = NULL;
		cyph_as_credential_free(out);
	}
	return rc;
}
