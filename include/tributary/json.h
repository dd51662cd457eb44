/*
 * json.h — a small streaming JSON writer (RFC 8259) into a struct tr_buf.
 *
 * The writer keeps only the nesting state; text goes into the caller's
 * buffer, which the caller may flush and tr_buf_reset() at any time
 * between calls (so a long array can be written out item by item):
 *
 *	struct tr_buf b; struct tr_json j;
 *	tr_buf_init(&b, 1 << 20);
 *	tr_json_init(&j, &b, 0);
 *	tr_json_begin_object(&j);
 *	tr_json_key(&j, "title"); tr_json_string(&j, "Caf\xc3\xa9");
 *	tr_json_member_int(&j, "n", 3);
 *	tr_json_end_object(&j);
 *	... fwrite(b.data, 1, b.len, stdout); tr_buf_reset(&b); ...
 *
 * Strings are escaped per RFC 8259 §7 ('"', '\\', control characters, and
 * U+2028/U+2029 so the output is also safe inside JavaScript). Bytes that
 * are not valid UTF-8 come out as U+FFFD: the output is always valid UTF-8.
 *
 * Errors are sticky: once a call fails (out of memory, the buffer's cap,
 * a misplaced key or value, nesting deeper than TR_JSON_MAX_DEPTH), every
 * later call returns the same error and writes nothing.
 */
#ifndef TRIBUTARY_JSON_H
#define TRIBUTARY_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "tributary/buf.h"

#define TR_JSON_MAX_DEPTH 64

enum tr_json_flags {
	TR_JSON_PRETTY = 1, /* newlines and two-space indentation */
};

struct tr_json {
	struct tr_buf *out;
	int flags;
	int err;       /* first error, sticky */
	int depth;     /* open containers */
	int after_key; /* a key was written, its value is due */
	unsigned char is_object[TR_JSON_MAX_DEPTH]; /* per level */
	unsigned char n_items[TR_JSON_MAX_DEPTH];   /* 0, or 1 once non-empty */
};

/* Starts writing into out (borrowed; must outlive the writer). */
void tr_json_init(struct tr_json *j, struct tr_buf *out, int flags);

/* Containers. Each returns 0 or a negative tr_err (see above). */
int tr_json_begin_object(struct tr_json *j);
int tr_json_end_object(struct tr_json *j);
int tr_json_begin_array(struct tr_json *j);
int tr_json_end_array(struct tr_json *j);

/* A member name inside an object; the next call writes its value. */
int tr_json_key(struct tr_json *j, const char *key);

/* Values. s may hold any bytes; tr_json_string(j, NULL) writes null. */
int tr_json_string(struct tr_json *j, const char *s);
int tr_json_string_n(struct tr_json *j, const char *s, size_t n);
int tr_json_int(struct tr_json *j, int64_t v);
int tr_json_bool(struct tr_json *j, int v);
int tr_json_null(struct tr_json *j);

/*
 * Shorthands for a key and its value. tr_json_member_str() writes nothing
 * (and returns 0) when s is NULL: absent fields are omitted.
 */
int tr_json_member_str(struct tr_json *j, const char *key, const char *s);
int tr_json_member_int(struct tr_json *j, const char *key, int64_t v);
int tr_json_member_bool(struct tr_json *j, const char *key, int v);

/* Non-zero when every container was closed and nothing failed. */
int tr_json_done(const struct tr_json *j);

/*
 * Appends s to out as the inside of a JSON string (no quotes), escaped
 * as above. 0, TR_ENOMEM or TR_ETOOBIG.
 */
int tr_json_escape(struct tr_buf *out, const char *s, size_t n);

#endif
