/* SPDX-License-Identifier: MIT */
/*
 * A small streaming JSON writer: compact output, correct string escaping,
 * commas and nesting tracked for the caller. It writes to a stdio stream and
 * never allocates.
 *
 *	struct json_out j;
 *	json_init(&j, stdout);
 *	json_obj_begin(&j);
 *	json_key(&j, "name"); json_str(&j, "cyph0");
 *	json_key(&j, "ports"); json_arr_begin(&j); json_u64(&j, 1); json_arr_end(&j);
 *	json_obj_end(&j);
 *
 * Misuse (a value without a key inside an object, nesting deeper than
 * JSON_OUT_MAX_DEPTH, unbalanced ends) sets j.error instead of writing
 * invalid JSON; json_out_ok() reports it.
 */
#ifndef CYPHONIC_JSON_OUT_H
#define CYPHONIC_JSON_OUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_OUT_MAX_DEPTH 16

struct json_out {
	FILE *f;
	int depth;
	bool error;
	bool have_key;			/* a key was written, value pending */
	bool in_obj[JSON_OUT_MAX_DEPTH];
	bool not_first[JSON_OUT_MAX_DEPTH];
};

void json_init(struct json_out *j, FILE *f);
void json_obj_begin(struct json_out *j);
void json_obj_end(struct json_out *j);
void json_arr_begin(struct json_out *j);
void json_arr_end(struct json_out *j);
void json_key(struct json_out *j, const char *key);
void json_str(struct json_out *j, const char *s);
void json_u64(struct json_out *j, uint64_t v);
void json_i64(struct json_out *j, int64_t v);
void json_bool(struct json_out *j, bool v);
void json_null(struct json_out *j);

/* true when every call so far was well-formed and the stream had no error. */
bool json_out_ok(const struct json_out *j);

#endif
