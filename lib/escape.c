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

/* --- HTML to plain text --- */

/* Named character references common in feed HTML (HTML5 has 2231; the
 * rest stay as written). Sorted by name for bsearch. */
static const struct entity {
	const char *name;
	uint32_t cp;
} entities[] = {
    {"AElig", 0xC6},  {"Aacute", 0xC1}, {"Eacute", 0xC9}, {"Ouml", 0xD6},
    {"Uuml", 0xDC},   {"aacute", 0xE1}, {"acirc", 0xE2},  {"agrave", 0xE0},
    {"amp", '&'},     {"apos", '\''},   {"auml", 0xE4},   {"bull", 0x2022},
    {"ccedil", 0xE7}, {"copy", 0xA9},   {"deg", 0xB0},    {"eacute", 0xE9},
    {"ecirc", 0xEA},  {"egrave", 0xE8}, {"euro", 0x20AC}, {"gt", '>'},
    {"hellip", 0x2026}, {"iacute", 0xED}, {"laquo", 0xAB}, {"ldquo", 0x201C},
    {"lsquo", 0x2018}, {"lt", '<'},     {"mdash", 0x2014}, {"middot", 0xB7},
    {"nbsp", 0xA0},   {"ndash", 0x2013}, {"ntilde", 0xF1}, {"oacute", 0xF3},
    {"ouml", 0xF6},   {"quot", '"'},    {"raquo", 0xBB},  {"rdquo", 0x201D},
    {"reg", 0xAE},    {"rsquo", 0x2019}, {"szlig", 0xDF}, {"trade", 0x2122},
    {"uacute", 0xFA}, {"uuml", 0xFC},
};

static int
entity_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct entity *)elem)->name);
}

/*
 * Decodes the character reference at s ("&...") into *cp. Returns the
 * bytes it takes, or 0 when s does not start a known reference.
 */
static size_t
decode_ref(const char *s, uint32_t *cp)
{
	const struct entity *e;
	char name[16];
	size_t i = 1, k = 0;
	unsigned long v = 0;
	int base = 10;

	if (s[1] == '#') {
		i = 2;
		if (s[2] == 'x' || s[2] == 'X') {
			base = 16;
			i = 3;
		}
		for (; k < 8; i++, k++) {
			int d = s[i] >= '0' && s[i] <= '9' ? s[i] - '0'
			    : base == 16 && s[i] >= 'a' && s[i] <= 'f'
			    ? s[i] - 'a' + 10
			    : base == 16 && s[i] >= 'A' && s[i] <= 'F'
			    ? s[i] - 'A' + 10
			    : -1;
			if (d < 0)
				break;
			v = v * (unsigned long)base + (unsigned long)d;
		}
		if (k == 0 || k == 8)
			return 0;
		/* Invalid references (0, surrogates, past U+10FFFF) read as
		 * U+FFFD, the way HTML5 §13.2.5.80 does. */
		*cp = v == 0 || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)
		    ? 0xFFFD
		    : (uint32_t)v;
		return s[i] == ';' ? i + 1 : i;
	}
	while (k < sizeof(name) - 1 &&
	    ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z')))
		name[k++] = s[i++];
	name[k] = '\0';
	if (k == 0 || s[i] != ';')
		return 0;
	e = bsearch(name, entities, sizeof(entities) / sizeof(entities[0]),
	    sizeof(entities[0]), entity_cmp);
	if (e == NULL)
		return 0;
	*cp = e->cp;
	return i + 1;
}

/* The text being built: characters counted, white space pending. */
struct text {
	struct tr_buf *out;
	size_t start;	  /* out->len when the excerpt began */
	size_t chars;	  /* characters written */
	size_t max;	  /* characters allowed */
	size_t last_word; /* length before the last space written */
	int space;	  /* a space is due before the next character */
	int full;	  /* max reached: the rest was cut */
	size_t k;	  /* bytes staged, not yet in out */
	char stage[1024];
};

/* The excerpt's length so far, staged bytes included. */
static size_t
text_len(const struct text *t)
{
	return t->out->len + t->k;
}

static int
text_flush(struct text *t)
{
	int rc = t->k ? tr_buf_add(t->out, t->stage, t->k) : 0;

	t->k = 0;
	return rc;
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

static int
text_add(struct text *t, uint32_t cp)
{
	int rc;

	if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
	    cp == '\f' || cp == 0xA0) {
		t->space = text_len(t) > t->start;
		return 0;
	}
	if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || cp == 0xFFFE ||
	    cp == 0xFFFF)
		return 0;
	if (t->chars + (t->space ? 1 : 0) >= t->max) {
		t->full = 1;
		return 0;
	}
	if (t->k > sizeof(t->stage) - 8 && (rc = text_flush(t)) != 0)
		return rc;
	if (t->space) {
		t->last_word = text_len(t);
		t->stage[t->k++] = ' ';
		t->chars++;
		t->space = 0;
	}
	t->chars++;
	t->k += utf8_put(t->stage + t->k, cp);
	return 0;
}

/* Length of the tag name at s (after '<' or '</'), lowercased into name. */
static size_t
tag_name(const char *s, char *name, size_t size)
{
	size_t n = 0;

	while ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') ||
	    (s[n] >= '0' && s[n] <= '9')) {
		if (n + 1 < size)
			name[n] = (char)(s[n] | 0x20);
		n++;
	}
	name[n < size ? n : size - 1] = '\0';
	return n;
}

/* Elements that separate words, sorted for bsearch. */
static const char *const blocks[] = {"article", "blockquote", "br", "dd",
    "div", "dt", "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "img", "li", "ol", "p", "pre", "section", "table", "td", "th",
    "tr", "ul"};

static int
name_cmp(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

/*
 * Skips the markup at s[0] == '<'. Returns the bytes to skip (0 when the
 * '<' is a plain character) and sets *block when the tag separates words.
 */
static size_t
skip_markup(const char *s, int *block)
{
	const char *p, *end;
	char name[16], close[20];
	size_t n;
	char quote = 0;

	*block = 0;
	if (strncmp(s, "<!--", 4) == 0) {
		end = strstr(s + 4, "-->");
		return end ? (size_t)(end + 3 - s) : strlen(s);
	}
	p = s + 1 + (s[1] == '/');
	if (s[1] == '!' || s[1] == '?')
		p = s + 2;
	else if (tag_name(p, name, sizeof(name)) == 0)
		return 0;
	for (end = p; *end && (quote || *end != '>'); end++)
		if (quote ? *end == quote : (*end == '"' || *end == '\''))
			quote = quote ? 0 : *end;
	n = (size_t)(end - s) + (*end == '>');
	if (s[1] == '!' || s[1] == '?')
		return n;
	*block = bsearch(name, blocks, sizeof(blocks) / sizeof(blocks[0]),
	    sizeof(blocks[0]), name_cmp) != NULL;
	if (s[1] != '/' && (strcmp(name, "script") == 0 ||
	    strcmp(name, "style") == 0)) {
		/* Raw text elements: skip to the end tag (any case). */
		snprintf(close, sizeof(close), "</%s", name);
		for (p = s + n; *p; p++)
			if (strncasecmp(p, close, strlen(close)) == 0)
				break;
		n = (size_t)(p - s);
		*block = 1;
	}
	return n;
}

int
tr_escape_html_text(struct tr_buf *out, const char *html, size_t max_chars)
{
	struct text t;
	size_t n = html ? strlen(html) : 0, i = 0, k;
	uint32_t ucp;
	int32_t cp;
	int block, rc = 0;

	memset(&t, 0, sizeof(t) - sizeof(t.stage));
	t.out = out;
	t.start = t.last_word = out->len;
	t.max = max_chars;
	while (i < n && !t.full && rc == 0) {
		if (html[i] == '<' && (k = skip_markup(html + i, &block)) > 0) {
			if (block)
				t.space = text_len(&t) > t.start;
			i += k;
		} else if (html[i] == '&' && (k = decode_ref(html + i, &ucp))) {
			rc = text_add(&t, ucp);
			i += k;
		} else {
			i += tr_utf8_decode(html + i, n - i, &cp);
			rc = text_add(&t, cp < 0 ? 0xFFFD : (uint32_t)cp);
		}
	}
	if (rc == 0)
		rc = text_flush(&t);
	if (rc != 0 || !t.full)
		return rc;
	/* Make room for the ellipsis: drop the last character. */
	n = out->len;
	while (n > t.start && ((unsigned char)out->data[n - 1] & 0xC0) == 0x80)
		n--;
	if (n > t.start)
		n--;
	tr_buf_truncate(out, n);
	/* Cut back to the last word break when it keeps most of the text. */
	if (t.last_word > t.start &&
	    (t.last_word - t.start) * 5 >= (out->len - t.start) * 4)
		tr_buf_truncate(out, t.last_word);
	return tr_buf_adds(out, "\xE2\x80\xA6");
}
