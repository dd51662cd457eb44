/*
 * escape.c — XML, JSON and HTML-to-text escaping shared by the renderers.
 *
 * The XML and JSON writers copy runs of safe ASCII bytes in one go and
 * look at anything else one character at a time, so a long plain title
 * costs one tr_buf_add().
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tributary/error.h"
#include "tributary/escape.h"
#include "tributary/html.h"
#include "tributary/json.h"

size_t
tr_utf8_decode(const char *str, size_t n, int32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t c, min;
	size_t len, i;

	*cp = -1;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		len = 2;
		c = s[0] & 0x1F;
		min = 0x80;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		len = 3;
		c = s[0] & 0x0F;
		min = 0x800;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		len = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else {
		return 1; /* continuation byte, C0/C1 overlong lead, F5..FF */
	}
	if (n < len)
		return 1;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 1;
		c = (c << 6) | (s[i] & 0x3F);
	}
	if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
		return 1; /* overlong, too large, or an encoded surrogate */
	*cp = (int32_t)c;
	return len;
}

static size_t utf8_put(char *p, uint32_t cp);

int
tr_utf8_append(struct tr_buf *out, uint32_t cp)
{
	char b[4];

	return tr_buf_add(out, b, utf8_put(b, cp));
}

#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD */

/*
 * What the XML writer does with each ASCII byte: 0 copy it, 1 drop it
 * (C0 controls XML 1.0 §2.2 cannot carry), else the index of its
 * reference in xml_refs.
 */
static const char *const xml_refs[] = {NULL, NULL, "&amp;", "&lt;", "&gt;",
    "&quot;", "&#39;", "&#9;", "&#10;", "&#13;"};
static const unsigned char xml_refs_len[] = {0, 0, 5, 4, 4, 6, 5, 4, 5, 5};
static const unsigned char xml_class[128] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 7, 8, 1, 1, 9, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 5, 0, 0, 0, 2, 6, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 4, 0,
    /* 0x40..0x7F: all copied (DEL is allowed by XML 1.0 §2.2) */
};

/*
 * Escaped text is staged in a local block and added to the buffer a
 * block at a time: one tr_buf_add() per 4 KiB instead of one per
 * reference.
 */
#define STAGE 4096

int
tr_escape_xml_n(struct tr_buf *out, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char stage[STAGE];
	size_t i = 0, k = 0, len;
	unsigned char c;
	int32_t cp;
	int rc;

	while (i < n) {
		if (k > STAGE - 8) {
			if ((rc = tr_buf_add(out, stage, k)) != 0)
				return rc;
			k = 0;
		}
		if ((c = u[i]) < 0x80) {
			if (xml_class[c] == 0) {
				stage[k++] = (char)c;
			} else if (xml_class[c] > 1) {
				memcpy(stage + k, xml_refs[xml_class[c]],
				    xml_refs_len[xml_class[c]]);
				k += xml_refs_len[xml_class[c]];
			}
			i++;
			continue;
		}
		len = tr_utf8_decode(s + i, n - i, &cp);
		if (cp < 0 || cp == 0xFFFE || cp == 0xFFFF) {
			memcpy(stage + k, REPLACEMENT, 3);
			k += 3;
		} else {
			memcpy(stage + k, s + i, len);
			k += len;
		}
		i += len;
	}
	return k ? tr_buf_add(out, stage, k) : 0;
}

int
tr_escape_xml(struct tr_buf *out, const char *s)
{
	return s ? tr_escape_xml_n(out, s, strlen(s)) : 0;
}

int
tr_escape_json(struct tr_buf *out, const char *s)
{
	int rc;

	/* One JSON escaper in the tree: the JSON writer's (json.c). */
	if ((rc = tr_buf_addc(out, '"')) != 0 ||
	    (s && (rc = tr_json_escape(out, s, strlen(s))) != 0))
		return rc;
	return tr_buf_addc(out, '"');
}

/* Encodes cp (a valid scalar value) as UTF-8 at p; returns its length. */
static size_t
utf8_put(char *p, uint32_t cp)
{
	if (cp < 0x80) {
		p[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		p[0] = (char)(0xC0 | (cp >> 6));
		p[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		p[0] = (char)(0xE0 | (cp >> 12));
		p[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		p[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	p[0] = (char)(0xF0 | (cp >> 18));
	p[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
	p[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
	p[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* --- HTML to plain text --- */

/*
 * The excerpt goes through the same HTML5 parser as stored bodies
 * (html.h), so markup inside attribute values, comments and the contents
 * of script or style never reach the text.
 */
int
tr_escape_html_text(struct tr_buf *out, const char *html, size_t max_chars)
{
	if (max_chars == 0)
		return 0;
	return tr_html_text(out, html, html ? strlen(html) : 0, max_chars);
}
