// SPDX-License-Identifier: MIT
/* A small streaming JSON writer. */
#include "json_out.h"

#include <inttypes.h>

void json_init(struct json_out *j, FILE *f)
{
	*j = (struct json_out){ .f = f };
}

/* Emits the separator a new value needs; false when no value may go here. */
static bool value_start(struct json_out *j)
{
	if (j->error)
		return false;
	if (j->depth > 0 && j->in_obj[j->depth - 1]) {
		if (!j->have_key) {
			j->error = true;
			return false;
		}
		j->have_key = false;
		return true;
	}
	if (j->depth > 0 && j->not_first[j->depth - 1])
		fputc(',', j->f);
	if (j->depth > 0)
		j->not_first[j->depth - 1] = true;
	return true;
}

static void open_container(struct json_out *j, bool obj)
{
	if (!value_start(j))
		return;
	if (j->depth >= JSON_OUT_MAX_DEPTH) {
		j->error = true;
		return;
	}
	fputc(obj ? '{' : '[', j->f);
	j->in_obj[j->depth] = obj;
	j->not_first[j->depth] = false;
	j->depth++;
}

static void close_container(struct json_out *j, bool obj)
{
	if (j->error)
		return;
	if (j->depth == 0 || j->in_obj[j->depth - 1] != obj || j->have_key) {
		j->error = true;
		return;
	}
	j->depth--;
	fputc(obj ? '}' : ']', j->f);
}

void json_obj_begin(struct json_out *j) { open_container(j, true); }
void json_obj_end(struct json_out *j) { close_container(j, true); }
void json_arr_begin(struct json_out *j) { open_container(j, false); }
void json_arr_end(struct json_out *j) { close_container(j, false); }

static void write_escaped(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\b': fputs("\\b", f); break;
		case '\f': fputs("\\f", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			/* Other control bytes must be escaped; bytes >= 0x80
			 * pass through (the caller supplies UTF-8). */
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

void json_key(struct json_out *j, const char *key)
{
	if (j->error)
		return;
	if (j->depth == 0 || !j->in_obj[j->depth - 1] || j->have_key) {
		j->error = true;
		return;
	}
	if (j->not_first[j->depth - 1])
		fputc(',', j->f);
	j->not_first[j->depth - 1] = true;
	write_escaped(j->f, key);
	fputc(':', j->f);
	j->have_key = true;
}

void json_str(struct json_out *j, const char *s)
{
	if (value_start(j))
		write_escaped(j->f, s);
}

void json_u64(struct json_out *j, uint64_t v)
{
	if (value_start(j))
		fprintf(j->f, "%" PRIu64, v);
}

void json_i64(struct json_out *j, int64_t v)
{
	if (value_start(j))
		fprintf(j->f, "%" PRId64, v);
}

void json_bool(struct json_out *j, bool v)
{
	if (value_start(j))
		fputs(v ? "true" : "false", j->f);
}

void json_null(struct json_out *j)
{
	if (value_start(j))
		fputs("null", j->f);
}

bool json_out_ok(const struct json_out *j)
{
	return !j->error && !ferror(j->f);
}
