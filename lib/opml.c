/*
 * opml.c — subscriptions out of an OPML document, streamed through expat.
 *
 * The parser keeps only the stack of folder outlines above the current
 * one and two sets (feed names and URLs seen), so a document of any size
 * is read chunk by chunk. Everything that reaches feeds.conf is cleaned
 * to one line of valid UTF-8 that the config reader (inih, 200-byte
 * lines, ';' inline comments) reads back as written.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <expat.h>

#include "tributary/error.h"
#include "tributary/escape.h"
#include "tributary/log.h"
#include "tributary/hash.h"
#include "tributary/opml.h"
#include "tributary/url.h"

#define MAX_DEPTH 32	   /* folder outlines kept as tags */
#define MAX_TAGS 16	   /* tags of one feed */
#define MAX_NAME 40	   /* bytes of a derived feed name */
#define MAX_VALUE 180	   /* bytes of a config value: inih reads 197 */
#define MAX_FEEDS 100000   /* subscriptions in one document */

/* --- a set of strings (open addressing, FNV-1a) --- */

struct strset {
	char **slot;
	size_t cap, n;
};

static int
set_has(const struct strset *set, const char *s)
{
	size_t i;

	if (set->cap == 0)
		return 0;
	for (i = tr_hash_str(s) & (set->cap - 1); set->slot[i];
	     i = (i + 1) & (set->cap - 1))
		if (strcmp(set->slot[i], s) == 0)
			return 1;
	return 0;
}

/* Adds a copy of s (known to be absent). */
static int
set_add(struct strset *set, const char *s)
{
	size_t i, j;
	char **old = set->slot;

	if ((set->n + 1) * 2 > set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 64;
		char **slot = calloc(cap, sizeof(*slot));

		if (slot == NULL)
			return TR_ENOMEM;
		for (j = 0; j < set->cap; j++) {
			if (old[j] == NULL)
				continue;
			for (i = tr_hash_str(old[j]) & (cap - 1); slot[i];
			     i = (i + 1) & (cap - 1))
				;
			slot[i] = old[j];
		}
		free(old);
		set->slot = slot;
		set->cap = cap;
	}
	for (i = tr_hash_str(s) & (set->cap - 1); set->slot[i];
	     i = (i + 1) & (set->cap - 1))
		;
	if ((set->slot[i] = strdup(s)) == NULL)
		return TR_ENOMEM;
	set->n++;
	return 0;
}

static void
set_free(struct strset *set)
{
	size_t i;

	for (i = 0; i < set->cap; i++)
		free(set->slot[i]);
	free(set->slot);
	memset(set, 0, sizeof(*set));
}

/* --- the importer --- */

struct tr_opml {
	XML_Parser xp;
	tr_opml_cb cb;
	void *arg;
	struct strset names, urls;
	char *folders[MAX_DEPTH]; /* folder name per outline level, or NULL */
	size_t depth;		  /* open outlines */
	size_t elements;	  /* open elements */
	int root_seen;
	size_t found, skipped;
	int err;
	char errmsg[256];
};

/*
 * Appends s cleaned to one config line: invalid UTF-8 as U+FFFD, controls
 * and runs of white space as one space, trimmed, ';' (inih's inline
 * comment) as ',' and, when no_comma, ',' (the tag separator) as ' ';
 * cut at max bytes on a character boundary.
 */
static int
clean_line(struct tr_buf *out, const char *s, size_t max, int no_comma)
{
	size_t start = out->len, n = strlen(s), i = 0, len;
	int32_t cp;
	int space = 0, rc = 0;

	while (i < n && rc == 0) {
		len = tr_utf8_decode(s + i, n - i, &cp);
		i += len;
		if (cp < 0 || cp == 0xFFFE || cp == 0xFFFF)
			cp = 0xFFFD;
		if (cp == ';')
			cp = ',';
		if (cp == ',' && no_comma)
			cp = ' ';
		if (cp <= 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) ||
		    cp == 0xA0 || cp == 0x2028 || cp == 0x2029) {
			space = out->len > start;
			continue;
		}
		if (out->len - start + (size_t)space + 4 > max)
			break;
		if (space && (rc = tr_buf_addc(out, ' ')) != 0)
			break;
		space = 0;
		rc = tr_utf8_append(out, (uint32_t)cp);
	}
	return rc;
}

/* A cleaned copy of s (NULL when s is NULL or cleans to nothing). */
static char *
clean_dup(const char *s, size_t max, int no_comma, int *rc)
{
	struct tr_buf b;

	if (s == NULL)
		return NULL;
	tr_buf_init(&b, max + 8);
	if ((*rc = clean_line(&b, s, max, no_comma)) != 0 || b.len == 0) {
		tr_buf_free(&b);
		return NULL;
	}
	return tr_buf_detach(&b);
}

/* The value of attribute name (ASCII case-insensitive), or NULL. */
static const char *
attr(const XML_Char **atts, const char *name)
{
	size_t i;

	for (i = 0; atts[i]; i += 2)
		if (strcasecmp(atts[i], name) == 0)
			return atts[i + 1];
	return NULL;
}

/* Stops the parse with err; errmsg becomes "line N: msg". */
static void
fail(struct tr_opml *op, int err, const char *msg)
{
	if (op->err == 0) {
		op->err = err;
		snprintf(op->errmsg, sizeof(op->errmsg), "line %lu: %s",
		    (unsigned long)XML_GetCurrentLineNumber(op->xp), msg);
	}
	XML_StopParser(op->xp, XML_FALSE);
}

/*
 * A usable feed URL for feeds.conf, malloc'ed: trimmed, "feed://"
 * rewritten to "http://", only http and https, no white space, short
 * enough for one config line. NULL (with *why) when unusable.
 */
static char *
feed_url(const char *s, const char **why)
{
	const char *e, *p;
	char *u;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	for (e = s + strlen(s); e > s && (e[-1] == ' ' || e[-1] == '\t' ||
	    e[-1] == '\r' || e[-1] == '\n'); e--)
		;
	if (strncasecmp(s, "feed://", 7) == 0) {
		if ((u = malloc((size_t)(e - s) + 1)) == NULL)
			return NULL;
		snprintf(u, (size_t)(e - s) + 1, "http://%.*s",
		    (int)(e - s - 7), s + 7);
	} else {
		u = strndup(s, (size_t)(e - s));
	}
	if (u == NULL)
		return NULL;
	*why = NULL;
	for (p = u; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7F)
			*why = "white space or control characters in the URL";
	if (strncasecmp(u, "http://", 7) != 0 &&
	    strncasecmp(u, "https://", 8) != 0)
		*why = "not an http or https URL";
	else if (strlen(u) > MAX_VALUE)
		*why = "URL too long for feeds.conf";
	if (*why) {
		free(u);
		return NULL;
	}
	return u;
}

/* ASCII letters for U+00C0..U+00FF (Latin-1 letters lose their accents
 * in names; '-' for the two signs among them). */
static const char latin1[] = "aaaaaaaceeeeiiiidnooooo-ouuuuyts"
			     "aaaaaaaceeeeiiiidnooooo-ouuuuyty";

/* Appends the slug of s: lowercase ASCII letters and digits, every other
 * run as one '-', at most MAX_NAME bytes, no '-' at either end. */
static int
slug(struct tr_buf *out, const char *s)
{
	size_t n = strlen(s), i = 0;
	int dash = 0, rc = 0;
	int32_t cp;
	char c;

	while (i < n && rc == 0 && out->len < MAX_NAME) {
		i += tr_utf8_decode(s + i, n - i, &cp);
		c = cp >= 'A' && cp <= 'Z' ? (char)(cp - 'A' + 'a')
		    : cp >= 0xC0 && cp <= 0xFF ? latin1[cp - 0xC0]
		    : cp >= 0 && cp < 0x80 ? (char)cp
					   : '-';
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && out->len > 0)
				rc = tr_buf_addc(out, '-');
			if (rc == 0)
				rc = tr_buf_addc(out, c);
			dash = 0;
		} else {
			dash = 1;
		}
	}
	while (rc == 0 && out->len > 0 && out->data[out->len - 1] == '-')
		tr_buf_truncate(out, out->len - 1);
	return rc;
}

/* The host of an http(s) URL without "www.", as a slug. */
static int
host_slug(struct tr_buf *out, const char *url)
{
	const char *h = strstr(url, "://"), *e;
	char host[256];

	h = h ? h + 3 : url;
	if (strncasecmp(h, "www.", 4) == 0)
		h += 4;
	for (e = h; *e && !strchr("/:?#@", *e); e++)
		;
	if (*e == '@') /* user info: the host follows */
		return host_slug(out, e + 1);
	snprintf(host, sizeof(host), "%.*s", (int)(e - h), h);
	return slug(out, host);
}

/*
 * Whether s is a feed name as feeds.conf takes it (letters, digits, '.',
 * '_', '-'; not starting with '.'), and short enough for one.
 */
static int
valid_name(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || s[0] == '.' || strlen(s) > MAX_VALUE)
		return 0;
	for (i = 0; s[i]; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
			(s[i] >= 'A' && s[i] <= 'Z') ||
			(s[i] >= '0' && s[i] <= '9') || strchr("._-", s[i])))
			return 0;
	return 1;
}

/* A unique name for a feed: its tributary:name when valid, else its
 * title's slug, else its host's, else "feed"; "-2", "-3", ... appended
 * when taken. Added to the set. */
static int
unique_name(struct tr_opml *op, struct tr_buf *name, const char *own,
    const char *title, const char *url)
{
	size_t base;
	unsigned long k;
	int rc;

	if (valid_name(own) && (rc = tr_buf_adds(name, own)) != 0)
		return rc;
	if (name->len == 0 && title && (rc = slug(name, title)) != 0)
		return rc;
	if (name->len == 0 && (rc = host_slug(name, url)) != 0)
		return rc;
	if (name->len == 0 && (rc = tr_buf_adds(name, "feed")) != 0)
		return rc;
	base = name->len;
	for (k = 2; set_has(&op->names, tr_buf_str(name)); k++) {
		tr_buf_truncate(name, base);
		if ((rc = tr_buf_printf(name, "-%lu", k)) != 0)
			return rc;
	}
	return set_add(&op->names, name->data);
}

struct tags {
	char *v[MAX_TAGS];
	size_t n;
	size_t bytes; /* of the "tags = a, b" value so far */
};

/* Adds a cleaned tag unless it is a duplicate or no longer fits. */
static int
tags_add(struct tags *t, const char *s)
{
	char *c;
	size_t i;
	int rc = 0;

	if (t->n == MAX_TAGS || (c = clean_dup(s, MAX_VALUE, 1, &rc)) == NULL)
		return rc;
	for (i = 0; i < t->n; i++)
		if (strcmp(t->v[i], c) == 0)
			break;
	if (i < t->n || t->bytes + strlen(c) + 2 > MAX_VALUE) {
		free(c);
		return 0;
	}
	t->bytes += strlen(c) + 2;
	t->v[t->n++] = c;
	return 0;
}

/* Tags from the folder stack and the category attribute
 * ("/News/World,/Tech": every path component is a tag). */
static int
collect_tags(struct tr_opml *op, struct tags *t, const char *category)
{
	char *copy, *item, *save = NULL, *part, *save2 = NULL;
	size_t i;
	int rc = 0;

	for (i = 0; i < op->depth && i < MAX_DEPTH && rc == 0; i++)
		if (op->folders[i])
			rc = tags_add(t, op->folders[i]);
	if (category == NULL || rc != 0)
		return rc;
	if ((copy = strdup(category)) == NULL)
		return TR_ENOMEM;
	for (item = strtok_r(copy, ",", &save); item && rc == 0;
	     item = strtok_r(NULL, ",", &save))
		for (part = strtok_r(item, "/", &save2); part && rc == 0;
		     part = strtok_r(NULL, "/", &save2))
			rc = tags_add(t, part);
	free(copy);
	return rc;
}

static int
subscription(struct tr_opml *op, const XML_Char **atts, const char *xml_url)
{
	unsigned long line = (unsigned long)XML_GetCurrentLineNumber(op->xp);
	const char *why = NULL, *text, *site;
	char *url = NULL, *key = NULL, *title = NULL, *html = NULL;
	struct tags tags = {{NULL}, 0, 0};
	struct tr_opml_feed f;
	struct tr_buf name;
	size_t i;
	int rc = 0;

	tr_buf_init(&name, MAX_NAME + 32);
	if ((url = feed_url(xml_url, &why)) == NULL) {
		if (why == NULL) {
			rc = TR_ENOMEM;
			goto out;
		}
		tr_log(TR_LOG_WARN, "opml: line %lu: skipped: %s", line, why);
		op->skipped++;
		goto out;
	}
	if ((key = tr_url_canonical(url)) == NULL &&
	    (key = strdup(url)) == NULL) {
		rc = TR_ENOMEM;
		goto out;
	}
	if (set_has(&op->urls, key)) {
		tr_log(TR_LOG_WARN, "opml: line %lu: skipped %s: already "
				    "subscribed", line, url);
		op->skipped++;
		goto out;
	}
	if (op->found == MAX_FEEDS) {
		rc = TR_ETOOBIG;
		goto out;
	}
	if ((rc = set_add(&op->urls, key)) != 0)
		goto out;
	text = attr(atts, "text");
	if (text == NULL || text[0] == '\0')
		text = attr(atts, "title");
	title = clean_dup(text, MAX_VALUE, 0, &rc);
	site = attr(atts, "htmlUrl");
	if (rc == 0 && site && (html = feed_url(site, &why)) == NULL &&
	    why == NULL)
		rc = TR_ENOMEM;
	if (rc != 0 || (rc = collect_tags(op, &tags,
	    attr(atts, "category"))) != 0 ||
	    (rc = unique_name(op, &name, attr(atts, "tributary:name"), title,
	    url)) != 0)
		goto out;
	f.name = name.data;
	f.url = url;
	/* Export writes the name as the text of a feed without a title. */
	f.title = valid_name(attr(atts, "tributary:name")) && title &&
		  strcmp(title, attr(atts, "tributary:name")) == 0
		      ? NULL
		      : title;
	f.html_url = html;
	f.tags = (const char *const *)tags.v;
	f.n_tags = tags.n;
	f.line = line;
	op->found++;
	rc = op->cb(&f, op->arg);
out:
	for (i = 0; i < tags.n; i++)
		free(tags.v[i]);
	tr_buf_free(&name);
	free(url);
	free(key);
	free(title);
	free(html);
	return rc;
}

static void XMLCALL
on_start(void *arg, const XML_Char *el, const XML_Char **atts)
{
	struct tr_opml *op = arg;
	const char *url, *text;
	int rc = 0;

	if (op->err)
		return;
	op->elements++;
	if (!op->root_seen) {
		op->root_seen = 1;
		if (strcmp(el, "opml") != 0) {
			char msg[128];

			snprintf(msg, sizeof(msg), "not an OPML document (the "
			    "root element is <%.40s>, not <opml>)", el);
			fail(op, TR_EPARSE, msg);
		}
		return;
	}
	if (strcmp(el, "outline") != 0)
		return;
	url = attr(atts, "xmlUrl");
	if (op->depth < MAX_DEPTH) {
		op->folders[op->depth] = NULL;
		if (url == NULL || *url == '\0') {
			/* A folder: its text becomes a tag of what it holds. */
			text = attr(atts, "text");
			if (text == NULL || *text == '\0')
				text = attr(atts, "title");
			op->folders[op->depth] = clean_dup(text, MAX_VALUE, 1,
			    &rc);
		}
	}
	op->depth++;
	if (rc == 0 && url && *url)
		rc = subscription(op, atts, url);
	if (rc != 0) {
		fail(op, rc, rc == TR_ETOOBIG ? "more than 100000 subscriptions"
					      : tr_strerror(rc));
	}
}

static void XMLCALL
on_end(void *arg, const XML_Char *el)
{
	struct tr_opml *op = arg;

	op->elements--;
	if (strcmp(el, "outline") != 0 || op->depth == 0)
		return;
	op->depth--;
	if (op->depth < MAX_DEPTH) {
		free(op->folders[op->depth]);
		op->folders[op->depth] = NULL;
	}
}

int
tr_opml_new(struct tr_opml **out, tr_opml_cb cb, void *arg)
{
	struct tr_opml *op;

	*out = NULL;
	if ((op = calloc(1, sizeof(*op))) == NULL)
		return TR_ENOMEM;
	/* Expat reads no external entities or DTDs unless asked, and since
	 * 2.4 limits entity expansion ("billion laughs"). */
	if ((op->xp = XML_ParserCreate(NULL)) == NULL) {
		free(op);
		return TR_ENOMEM;
	}
	op->cb = cb;
	op->arg = arg;
	XML_SetUserData(op->xp, op);
	XML_SetElementHandler(op->xp, on_start, on_end);
	*out = op;
	return 0;
}

int
tr_opml_reserve(struct tr_opml *op, const char *name, const char *url)
{
	char *key;
	int rc = 0;

	if (name && !set_has(&op->names, name))
		rc = set_add(&op->names, name);
	if (rc != 0 || url == NULL)
		return rc;
	if ((key = tr_url_canonical(url)) == NULL &&
	    (key = strdup(url)) == NULL)
		return TR_ENOMEM;
	if (!set_has(&op->urls, key))
		rc = set_add(&op->urls, key);
	free(key);
	return rc;
}

int
tr_opml_parse(struct tr_opml *op, const char *data, size_t len, int final)
{
	enum XML_Error e;
	int n;

	if (op->err)
		return op->err;
	do {
		n = len > (1 << 30) ? (1 << 30) : (int)len;
		if (XML_Parse(op->xp, data, n, final && (size_t)n == len) !=
		    XML_STATUS_OK) {
			if (op->err)
				return op->err;
			e = XML_GetErrorCode(op->xp);
			snprintf(op->errmsg, sizeof(op->errmsg),
			    "line %lu, column %lu: %s",
			    (unsigned long)XML_GetCurrentLineNumber(op->xp),
			    /* expat counts columns from 0 */
			    (unsigned long)XML_GetCurrentColumnNumber(op->xp) +
				1,
			    XML_ErrorString(e));
			return op->err = e == XML_ERROR_NO_MEMORY ? TR_ENOMEM
								: TR_EPARSE;
		}
		data += n;
		len -= (size_t)n;
	} while (len > 0);
	if (final && !op->root_seen) {
		snprintf(op->errmsg, sizeof(op->errmsg), "empty document");
		return op->err = TR_EPARSE;
	}
	return 0;
}

const char *
tr_opml_errmsg(const struct tr_opml *op)
{
	return op->errmsg[0] ? op->errmsg : "no error";
}

void
tr_opml_counts(const struct tr_opml *op, size_t *found, size_t *skipped)
{
	if (found)
		*found = op->found;
	if (skipped)
		*skipped = op->skipped;
}

void
tr_opml_free(struct tr_opml *op)
{
	size_t i;

	if (op == NULL)
		return;
	for (i = 0; i < MAX_DEPTH; i++)
		free(op->folders[i]);
	XML_ParserFree(op->xp);
	set_free(&op->names);
	set_free(&op->urls);
	free(op);
}

int
tr_opml_format(struct tr_buf *out, const struct tr_opml_feed *f)
{
	size_t i;
	int rc;

	if ((rc = tr_buf_printf(out, "[feed \"%s\"]\nurl = %s\n", f->name,
	    f->url)) != 0)
		return rc;
	if (f->title && (rc = tr_buf_printf(out, "title = %s\n", f->title)))
		return rc;
	for (i = 0; i < f->n_tags && rc == 0; i++)
		rc = tr_buf_printf(out, "%s%s", i ? ", " : "tags = ",
		    f->tags[i]);
	if (rc == 0 && f->n_tags)
		rc = tr_buf_addc(out, '\n');
	return rc ? rc : tr_buf_addc(out, '\n');
}
