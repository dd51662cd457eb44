/*
 * store_search.c — what both backends' merged queries share: searches
 * as people type them (tr_store_search_expr in store.h), parsed once for
 * every backend into a list of terms (a word or a phrase, maybe a
 * prefix, maybe left out) that each backend renders in its own
 * full-text language (the SQLite backend as an FTS5 expression, the
 * PostgreSQL backend as a tsquery); and the pagination cursor, the same
 * text on both.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "tributary/error.h"

/*
 * Non-zero when the UTF-8 character at s (n bytes) is indexed by FTS5's
 * unicode61 tokenizer, which keeps letters, digits and private-use
 * characters and splits on the rest. Hand-written, since SQLite exposes
 * no tokenizer call: ASCII is exact; past it, the punctuation and symbol
 * blocks people type (Latin-1 signs, general punctuation, currency,
 * arrows and math, CJK and fullwidth punctuation) are separators and
 * anything else counts as a letter. A word that is only such a symbol
 * would be an empty phrase, which matches nothing.
 */
static int
token_char(const unsigned char *s, size_t n, size_t *len)
{
	uint32_t cp;

	*len = 1;
	if (s[0] < 0x80)
		return (s[0] >= '0' && s[0] <= '9') ||
		       ((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z');
	if ((s[0] & 0xe0) == 0xc0 && n >= 2) {
		cp = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
		*len = 2;
	} else if ((s[0] & 0xf0) == 0xe0 && n >= 3) {
		cp = (uint32_t)(s[0] & 0x0f) << 12 |
		     (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
		*len = 3;
	} else if ((s[0] & 0xf8) == 0xf0 && n >= 4) {
		*len = 4;
		return 1;
	} else {
		return 0;
	}
	if (cp >= 0xa0 && cp <= 0xbf)
		return cp == 0xaa || cp == 0xb5 || cp == 0xba;
	if (cp == 0xd7 || cp == 0xf7)
		return 0;
	return !((cp >= 0x2000 && cp <= 0x2bff) ||
		 (cp >= 0x3000 && cp <= 0x303f) ||
		 (cp >= 0xfe30 && cp <= 0xfe4f) ||
		 (cp >= 0xff00 && cp <= 0xff0f) ||
		 (cp >= 0xff1a && cp <= 0xff20));
}

/* The number of indexed characters in the n bytes at s. */
static size_t
token_chars(const char *s, size_t n)
{
	size_t i = 0, len, count = 0;

	while (i < n) {
		count += token_char((const unsigned char *)s + i, n - i, &len)
			     ? 1 : 0;
		i += len;
	}
	return count;
}

size_t
store_term_tail(const char *s, size_t n)
{
	size_t i = 0, len, start = 0;
	int in = 0;

	while (i < n) {
		int t = token_char((const unsigned char *)s + i, n - i, &len);

		if (t && !in)
			start = i;
		in = t;
		i += len;
	}
	return start;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	       c == '\f' || c == '\v';
}

int
store_search_parse(struct store_search *out, char *why, size_t whysize,
    const char *q)
{
	const char *p = q ? q : "", *start, *end;
	int n_prefix = 0, neg_term, prefix;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (whysize)
		why[0] = '\0';
	while (*p) {
		while (is_space(*p))
			p++;
		if (*p == '\0')
			break;
		neg_term = *p == '-';
		p += neg_term;
		prefix = 0;
		if (*p == '"') { /* a phrase; an open one runs to the end */
			start = p + 1;
			end = strchr(start, '"');
			if (end == NULL)
				end = start + strlen(start);
			p = *end ? end + 1 : end;
			if (*p == '*') {
				prefix = 1;
				p++;
			}
		} else {
			start = p;
			while (*p && !is_space(*p))
				p++;
			end = p;
			while (end > start && end[-1] == '*') {
				end--;
				prefix = 1;
			}
		}
		n = (size_t)(end - start);
		if (token_chars(start, n) == 0)
			continue; /* "*", "-", "?": nothing to look for */
		/* A one-letter prefix matches most of the index: a word. */
		if (prefix && token_chars(start, n) < 2)
			prefix = 0;
		if (out->n == TR_SEARCH_TERMS) {
			snprintf(why, whysize, "more than %d words; leave "
			    "some out", TR_SEARCH_TERMS);
			return TR_EINVAL;
		}
		if (prefix && ++n_prefix > TR_SEARCH_PREFIXES) {
			snprintf(why, whysize, "more than %d words end in *; "
			    "write some in full", TR_SEARCH_PREFIXES);
			return TR_EINVAL;
		}
		out->t[out->n].s = start;
		out->t[out->n].n = n;
		out->t[out->n].prefix = prefix;
		out->t[out->n].negated = neg_term;
		out->n_pos += !neg_term;
		out->n++;
	}
	if (out->n_pos == 0 && out->n != 0) {
		snprintf(why, whysize, "add a word to find: a leading - only "
		    "leaves out what has a word");
		return TR_EINVAL;
	}
	return 0;
}

/* --- the cursor --- */

/*
 * A cursor is 40 lowercase hex digits: sort_date and id as 64-bit
 * values, then a 32-bit FNV-1a check over both, so that a cursor edited
 * by hand is refused rather than silently skipping articles.
 */
static uint32_t
cursor_check(uint64_t sort, uint64_t id)
{
	uint32_t h = 2166136261u;
	int i;

	for (i = 0; i < 8; i++)
		h = (h ^ (unsigned char)(sort >> (8 * i))) * 16777619u;
	for (i = 0; i < 8; i++)
		h = (h ^ (unsigned char)(id >> (8 * i))) * 16777619u;
	return h ^ 0x7472u; /* "tr": a cursor is not a bare hash */
}

char *
store_cursor_make(int64_t sort, int64_t id)
{
	char *c = malloc(41);

	if (c != NULL)
		snprintf(c, 41, "%016" PRIx64 "%016" PRIx64 "%08" PRIx32,
		    (uint64_t)sort, (uint64_t)id,
		    cursor_check((uint64_t)sort, (uint64_t)id));
	return c;
}

static int
hexval(const char *s, int n, uint64_t *out)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c >= '0' && c <= '9')
			v = v << 4 | (uint64_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v << 4 | (uint64_t)(c - 'a' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

int
store_cursor_parse(const char *c, int64_t *sort, int64_t *id)
{
	uint64_t s, i, chk;

	if (strlen(c) != 40 || hexval(c, 16, &s) != 0 ||
	    hexval(c + 16, 16, &i) != 0 || hexval(c + 32, 8, &chk) != 0 ||
	    chk != cursor_check(s, i) || (int64_t)i <= 0)
		return TR_EINVAL;
	*sort = (int64_t)s;
	*id = (int64_t)i;
	return 0;
}
