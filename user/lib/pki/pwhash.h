/* SPDX-License-Identifier: MIT */
/*
 * Password hashes for enrolled nodes: PBKDF2-HMAC-SHA256 with a random
 * 16-byte salt, stored as
 *
 *	$pbkdf2-sha256$<iterations>$<salt, base64>$<32-byte key, base64>
 *
 * so the cost can be raised later without invalidating old hashes.
 * Verification compares in constant time.
 */
#ifndef CYPHONIC_PWHASH_H
#define CYPHONIC_PWHASH_H

#include <stdbool.h>
#include <stddef.h>

#define CYPH_PW_DEFAULT_ITER 600000	/* OWASP 2023 for PBKDF2-SHA256 */
#define CYPH_PW_MIN_ITER 1000		/* lower only makes sense in tests */
#define CYPH_PW_MAX_ITER 100000000
#define CYPH_PW_HASH_MAX 128		/* buffer size for a hash string */
#define CYPH_PW_MAX_LEN 1024		/* longest accepted password */

/* 0, or -1 (bad iterations, RNG or KDF failure). */
int cyph_pw_hash(const char *password, unsigned int iterations, char out[CYPH_PW_HASH_MAX]);

/*
 * true when password matches hash. A malformed hash never matches; the
 * KDF still runs on malformed input so timing says little either way.
 */
bool cyph_pw_verify(const char *password, const char *hash);

/* Runs the KDF against a fixed dummy hash (for unknown users: same cost). */
void cyph_pw_dummy_verify(const char *password);

/*
 * Constant-cost checks for a server: every check costs at least cost
 * iterations. cyph_pw_verify_cost pads a hash made with fewer iterations
 * with a dummy derivation of the difference, so accounts enrolled with a
 * cheaper KDF cannot be told apart by timing; cyph_pw_dummy_verify_cost
 * spends exactly cost (unknown names). A hash above cost takes its own
 * (longer) time: set cost to the highest iteration count in the registry.
 */
bool cyph_pw_verify_cost(const char *password, const char *hash, unsigned int cost);
void cyph_pw_dummy_verify_cost(const char *password, unsigned int cost);

#endif
