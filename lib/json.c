/*
 * json.c — a streaming JSON writer into a struct tr_buf (RFC 8259).
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "tributary/error.h"
#include "tributary/json.h"

void
tr_json_init(struct tr_json *j, struct tr_buf *out, int flags)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->flags = flags;
}

static int
fail(struct tr_json *j, int rc)
{
	if (j->err == 0)
		j->err = rc;
	return j->err;
}

static int
newline(struct tr_json *j)
{
	int i, rc = 0;

	if (!(j->flags & TR_JSON_PRETTY))
		return 0;
	rc = tr_buf_addc(j->out, '\n');
	for (i = 0; rc == 0 && i < j->depth; i++)
		rc = tr_buf_add(j->out, "  ", 2);
	return rc;
}

/*
 * Writes what goes before a value: the separator inside an array, or
 * nothing after a key. A value at the top level is allowed once.
 */
static int
before_value(struct tr_json *j)
{
	int rc = 0, d = j->depth - 1;

	if (j->err)
		return j->err;
	if (j->depth == 0)
		return 0;
	if (j->is_object[d]) {
		if (!j->after_key)
			return fail(j, TR_EINVAL);
		j->after_key = 0;
		return 0;
	}
	if (j->n_items[d])
		rc = tr_buf_addc(j->out, ',');
	if (rc == 0)
		rc = newline(j);
	j->n_items[d] = 1;
	return rc ? fail(j, rc) : 0;
}

static int
begin(struct tr_json *j, int is_object)
{
	int rc;

	if ((rc = before_value(j)) != 0)
		return rc;
	if (j->depth >= TR_JSON_MAX_DEPTH)
		return fail(j, TR_ETOOBIG);
	if ((rc = tr_buf_addc(j->out, is_object ? '{' : '[')) != 0)
		return fail(j, rc);
	j->is_object[j->depth] = (unsigned char)is_object;
	j->n_items[j->depth] = 0;
	j->depth++;
	return 0;
}

static int
end(struct tr_json *j, int is_object)
{
	int rc = 0, had;

	if (j->err)
		return j->err;
	if (j->depth == 0 || j->is_object[j->depth - 1] != is_object ||
	    j->after_key)
		return fail(j, TR_EINVAL);
	had = j->n_items[j->depth - 1];
	j->depth--;
	if (had)
		rc = newline(j);
	if (rc == 0)
		rc = tr_buf_addc(j->out, is_object ? '}' : ']');
	return rc ? fail(j, rc) : 0;
}

int
tr_json_begin_object(struct tr_json *j)
{
	return begin(j, 1);
}

int
tr_json_end_object(struct tr_json *j)
{
	return end(j, 1);
}

int
tr_json_begin_array(struct tr_json *j)
{
	return begin(j, 0);
}

int
tr_json_end_array(struct tr_json *j)
{
	return end(j, 0);
}

/*
 * Length of the valid UTF-8 sequence at s (at most n bytes), or 0 when the
 * bytes there are not one (RFC 3629: no overlongs, no surrogates, nothing
 * above U+10FFFF). Sets *cp.
 */
static size_t
utf8_seq(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned long c;
	size_t len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

#define ONES UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/*
 * Non-zero when one of the 8 bytes in w is not plain printable ASCII: a
 * control character, '"', '\\' or a byte of 0x80 or more. The bit tricks
 * are the "haszero"/"hasless" tests of Sean Eron Anderson's Bit
 * Twiddling Hacks; they can only err towards "yes" past the first byte
 * that is special, which is all a scan needs.
 */
static inline uint64_t
special8(uint64_t w)
{
	uint64_t q = w ^ (ONES * '"'), b = w ^ (ONES * '\\');

	return (((w - ONES * 0x20) & ~w) | ((q - ONES) & ~q) |
	        ((b - ONES) & ~b) | w) &
	       HIGHS;
}

int
tr_json_escape(struct tr_buf *out, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0, len;
	unsigned long cp;
	char esc[8];
	int rc;

	while (i < n) {
		/* Plain printable ASCII runs are copied in one go; they are
		 * most of a feed's text, so they are scanned 8 bytes at a
		 * time. */
#ifdef __SSE2__
		/* x86-64 always has SSE2: 16 bytes per step. A signed
		 * compare below 0x20 also catches the bytes of 0x80 and more. */
		while (i + 16 <= n) {
			__m128i v = _mm_loadu_si128((const __m128i *)(s + i));
			__m128i x = _mm_or_si128(
			    _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)),
			    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')),
			                 _mm_cmpeq_epi8(v, _mm_set1_epi8('\\'))));

			if (_mm_movemask_epi8(x) != 0)
				break;
			i += 16;
		}
#endif
		while (i + 8 <= n) {
			uint64_t w;

			memcpy(&w, s + i, 8);
			if (special8(w))
				break;
			i += 8;
		}
		if (i >= n)
			break;
		if (s[i] >= 0x20 && s[i] < 0x80 && s[i] != '"' &&
		    s[i] != '\\') {
			i++;
			continue;
		}
		/* Two- and three-byte sequences (accented letters,
		 * typographic quotes and dashes) without the full check:
		 * leads that admit any continuation bytes, except U+2028 and
		 * U+2029 (E2 80 A8, E2 80 A9); utf8_seq for the rest. */
		if (s[i] >= 0xc2 && s[i] <= 0xdf && i + 1 < n &&
		    (s[i + 1] & 0xc0) == 0x80) {
			i += 2;
			continue;
		}
		if (s[i] >= 0xe1 && s[i] <= 0xef && s[i] != 0xed && i + 2 < n &&
		    (s[i + 1] & 0xc0) == 0x80 && (s[i + 2] & 0xc0) == 0x80 &&
		    !(s[i] == 0xe2 && s[i + 1] == 0x80 &&
		      (s[i + 2] == 0xa8 || s[i + 2] == 0xa9))) {
			i += 3;
			continue;
		}
		if (s[i] >= 0x80 && (len = utf8_seq(s + i, n - i, &cp)) != 0 &&
		    cp != 0x2028 && cp != 0x2029) {
			i += len;
			continue;
		}
		if ((rc = tr_buf_add(out, s + run, i - run)) != 0)
			return rc;
		if (s[i] == '"' || s[i] == '\\') {
			esc[0] = '\\', esc[1] = (char)s[i];
			rc = tr_buf_add(out, esc, 2);
			len = 1;
		} else if (s[i] < 0x20) {
			const char *named = NULL;

			switch (s[i]) {
			case '\n':
				named = "\\n";
				break;
			case '\r':
				named = "\\r";
				break;
			case '\t':
				named = "\\t";
				break;
			case '\b':
				named = "\\b";
				break;
			case '\f':
				named = "\\f";
				break;
			default:
				break;
			}
			if (named)
				rc = tr_buf_add(out, named, 2);
			else {
				memcpy(esc, "\\u00", 4);
				esc[4] = hex[s[i] >> 4];
				esc[5] = hex[s[i] & 15];
				rc = tr_buf_add(out, esc, 6);
			}
			len = 1;
		} else if (s[i] >= 0x80 && utf8_seq(s + i, n - i, &cp)) {
			/* U+2028 and U+2029 end lines in JavaScript. */
			rc = tr_buf_adds(out,
			                 cp == 0x2028 ? "\\u2028" : "\\u2029");
			len = 3;
		} else {
			rc = tr_buf_add(out, "\xef\xbf\xbd", 3); /* U+FFFD */
			len = 1;
		}
		if (rc != 0)
			return rc;
		i += len;
		run = i;
	}
	return tr_buf_add(out, s + run, i - run);
}

int
tr_json_string_n(struct tr_json *j, const char *s, size_t n)
{
	int rc;

	if ((rc = before_value(j)) != 0)
		return rc;
	if ((rc = tr_buf_addc(j->out, '"')) != 0 ||
	    (rc = tr_json_escape(j->out, s, n)) != 0 ||
	    (rc = tr_buf_addc(j->out, '"')) != 0)
		return fail(j, rc);
	return 0;
}

int
tr_json_string(struct tr_json *j, const char *s)
{
	if (s == NULL)
		return tr_json_null(j);
	return tr_json_string_n(j, s, strlen(s));
}

static int
raw_value(struct tr_json *j, const char *text)
{
	int rc;

	if ((rc = before_value(j)) != 0)
		return rc;
	if ((rc = tr_buf_adds(j->out, text)) != 0)
		return fail(j, rc);
	return 0;
}

int
tr_json_int(struct tr_json *j, int64_t v)
{
	char num[32];

	snprintf(num, sizeof(num), "%" PRId64, v);
	return raw_value(j, num);
}

int
tr_json_bool(struct tr_json *j, int v)
{
	return raw_value(j, v ? "true" : "false");
}

int
tr_json_null(struct tr_json *j)
{
	return raw_value(j, "null");
}

int
tr_json_key(struct tr_json *j, const char *key)
{
	int d = j->depth - 1, rc = 0;

	if (j->err)
		return j->err;
	if (j->depth == 0 || !j->is_object[d] || j->after_key)
		return fail(j, TR_EINVAL);
	if (j->n_items[d])
		rc = tr_buf_addc(j->out, ',');
	if (rc == 0)
		rc = newline(j);
	if (rc == 0)
		rc = tr_buf_addc(j->out, '"');
	if (rc == 0)
		rc = tr_json_escape(j->out, key, strlen(key));
	if (rc == 0)
		rc = tr_buf_add(j->out,
		                (j->flags & TR_JSON_PRETTY) ? "\": " : "\":",
		                (j->flags & TR_JSON_PRETTY) ? 3 : 2);
	if (rc != 0)
		return fail(j, rc);
	j->n_items[d] = 1;
	j->after_key = 1;
	return 0;
}

int
tr_json_member_str(struct tr_json *j, const char *key, const char *s)
{
	int rc;

	if (s == NULL)
		return j->err;
	if ((rc = tr_json_key(j, key)) != 0)
		return rc;
	return tr_json_string(j, s);
}

int
tr_json_member_int(struct tr_json *j, const char *key, int64_t v)
{
	int rc;

	if ((rc = tr_json_key(j, key)) != 0)
		return rc;
	return tr_json_int(j, v);
}

int
tr_json_member_bool(struct tr_json *j, const char *key, int v)
{
	int rc;

	if ((rc = tr_json_key(j, key)) != 0)
		return rc;
	return tr_json_bool(j, v);
}

int
tr_json_done(const struct tr_json *j)
{
	return j->err == 0 && j->depth == 0 && !j->after_key;
}
