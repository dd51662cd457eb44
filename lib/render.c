/*
 * render.c — format names, content types, and the begin/item/end
 * dispatch to the per-format renderers; helpers they share.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "render_int.h"
#include "tributary/date.h"
#include "tributary/error.h"
#include "tributary/escape.h"

static const struct format_info {
	const char *name;
	const char *content_type;
	const char *ext; /* path suffix at the endpoint */
	const struct render_ops *ops;
} formats[] = {
    [TR_FMT_ATOM] = {"atom", "application/atom+xml; charset=utf-8", ".atom",
	&render_atom_ops},
    [TR_FMT_RSS] = {"rss", "application/rss+xml; charset=utf-8", ".rss",
	&render_rss_ops},
    [TR_FMT_JSON] = {"json", "application/feed+json; charset=utf-8", ".json",
	&render_json_ops},
    [TR_FMT_HTML] = {"html", "text/html; charset=utf-8", ".html",
	&render_html_ops},
    [TR_FMT_OPML] = {"opml", "text/x-opml; charset=utf-8", ".opml", NULL},
};
#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))

int
tr_format_from_name(const char *name)
{
	size_t i;

	for (i = 0; name && i < N_FORMATS; i++)
		if (strcmp(name, formats[i].name) == 0)
			return (int)i;
	return -1;
}

const char *
tr_format_name(enum tr_format f)
{
	return (size_t)f < N_FORMATS ? formats[f].name : "unknown";
}

const char *
tr_format_content_type(enum tr_format f)
{
	return (size_t)f < N_FORMATS ? formats[f].content_type
				     : "application/octet-stream";
}

int
tr_render_begin(struct tr_render **rp, struct tr_buf *out,
    enum tr_format fmt, const struct tr_render_doc *doc)
{
	struct tr_render *r;
	int rc;

	*rp = NULL;
	if ((size_t)fmt >= N_FORMATS || formats[fmt].ops == NULL)
		return TR_EINVAL;
	if ((r = calloc(1, sizeof(*r))) == NULL)
		return TR_ENOMEM;
	r->out = out;
	r->start = out->len;
	r->fmt = fmt;
	r->ops = formats[fmt].ops;
	tr_buf_init(&r->scratch, out->max);
	tr_buf_init(&r->aside, out->max);
	r->updated = doc->updated;
	r->cfg = doc->cfg;
	if (!render_date_ok(r->updated))
		r->updated = (int64_t)time(NULL);
	if ((rc = r->ops->begin(r, doc)) != 0) {
		tr_render_free(r);
		return rc;
	}
	*rp = r;
	return 0;
}

/* Moves n back to the start of the UTF-8 character it falls in. */
static size_t
utf8_floor(const char *s, size_t n)
{
	while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
		n--;
	return n;
}

/*
 * Where to cut the HTML text s (longer than max) so that the kept part
 * ends neither inside a tag nor inside a character reference.
 */
static size_t
html_cut(const char *s, size_t max)
{
	size_t n = utf8_floor(s, max), i;

	/*
	 * Inside a tag: cut before the first '<' after the last '>' (a '<'
	 * in a quoted value such as alt='<p>' belongs to the tag around it).
	 */
	for (i = n; i > 0 && s[i - 1] != '>'; i--)
		if (s[i - 1] == '<')
			n = i - 1;
	for (i = n; i > 0 && n - i < 12; i--) {
		if (s[i - 1] == ';')
			break;
		if (s[i - 1] == '&') {
			n = i - 1;
			break;
		}
	}
	return n;
}

/*
 * Appends the note that ends a text tributary did not show whole, with
 * a link to the original when the article has one.
 */
static int
cut_note(struct tr_buf *b, size_t full, size_t max, const char *link,
    int all)
{
	int rc;

	if (all)
		rc = tr_buf_printf(b, "<p><em>[The text of this article "
		    "(%zu KB) is left out: this page is full.", full / 1024);
	else
		rc = tr_buf_printf(b, "<p><em>[This article is longer than "
		    "shown here: %zu KB of text, cut at %zu KB.", full / 1024,
		    max / 1024);
	if (rc == 0 && render_is_uri(link)) {
		rc = tr_buf_adds(b, " <a");
		if (rc == 0)
			rc = render_attr(b, "href", link);
		if (rc == 0)
			rc = tr_buf_adds(b, ">Read it in full at its "
			    "source.</a>");
	}
	if (rc == 0)
		rc = tr_buf_adds(b, "]</em></p>");
	return rc;
}

/*
 * *out becomes a malloc'ed copy of html cut to max bytes and the note,
 * or NULL when html fits (or with all, the note alone).
 */
static int
cap_html(char **out, const char *html, size_t max, const char *link,
    int all)
{
	size_t len = html ? strlen(html) : 0;
	struct tr_buf b;
	int rc = 0;

	*out = NULL;
	if (html == NULL || (!all && len <= max))
		return 0;
	tr_buf_init(&b, max + 4096);
	if (!all)
		rc = tr_buf_add(&b, html, html_cut(html, max));
	if (rc == 0)
		rc = cut_note(&b, len, max, link, all);
	if (rc == 0 && (*out = tr_buf_detach(&b)) == NULL)
		rc = TR_ENOMEM;
	tr_buf_free(&b);
	return rc;
}

/* A plain-text title cut to TR_RENDER_TITLE_MAX bytes, with an ellipsis. */
static int
cap_title(char **out, const char *title)
{
	size_t n;

	*out = NULL;
	if (title == NULL || strlen(title) <= TR_RENDER_TITLE_MAX)
		return 0;
	n = utf8_floor(title, TR_RENDER_TITLE_MAX);
	if ((*out = malloc(n + 4)) == NULL)
		return TR_ENOMEM;
	memcpy(*out, title, n);
	memcpy(*out + n, "\xe2\x80\xa6", 4); /* U+2026 and the NUL */
	return 0;
}

/* The item as shown: texts capped, the page's budget applied. */
static int
cap_item(struct tr_render *r, struct tr_item *shown, char **title,
    char **summary, char **content)
{
	const char *text = shown->a.content ? shown->a.content
					    : shown->a.summary;
	size_t smax = shown->a.content ? TR_RENDER_SUMMARY_MAX
				       : TR_RENDER_TEXT_MAX;
	int rc;

	if ((rc = cap_title(title, shown->a.title)) != 0)
		return rc;
	if (*title)
		shown->a.title = *title;
	if (r->drained + r->out->len - r->start > TR_RENDER_PAGE_BUDGET &&
	    text &&
	    strlen(text) > TR_RENDER_SMALL_TEXT) {
		/* The page is full: a note stands in for the texts. */
		if ((rc = cap_html(summary, text, 0, shown->a.link, 1)) != 0)
			return rc;
		shown->a.summary = *summary;
		shown->a.content = NULL;
		return 0;
	}
	if ((rc = cap_html(summary, shown->a.summary, smax, shown->a.link,
		 0)) != 0 ||
	    (rc = cap_html(content, shown->a.content, TR_RENDER_TEXT_MAX,
		 shown->a.link, 0)) != 0)
		return rc;
	if (*summary)
		shown->a.summary = *summary;
	if (*content)
		shown->a.content = *content;
	return 0;
}

int
tr_render_item(const struct tr_item *it, void *arg)
{
	struct tr_render *r = arg;
	struct tr_item shown;
	char *url, *title = NULL, *summary = NULL, *content = NULL;

	if (r->err != 0)
		return r->err;
	/* A feed's URL may carry a password or token: every format shows
	 * its public address instead, and none for a private feed. */
	shown = *it;
	url = tr_config_public_url(
	    r->cfg && it->feed_name ? tr_config_feed(r->cfg, it->feed_name)
				    : NULL,
	    it->feed_url);
	shown.feed_url = url;
	if ((r->err = cap_item(r, &shown, &title, &summary, &content)) == 0 &&
	    (r->err = r->ops->item(r, &shown)) == 0)
		r->n_items++;
	free(url);
	free(title);
	free(summary);
	free(content);
	return r->err;
}

int
tr_render_end(struct tr_render *r, const char *next_url)
{
	if (r->err == 0)
		r->err = r->ops->end(r, next_url);
	return r->err;
}

void
tr_render_drain(struct tr_render *r)
{
	r->drained += r->out->len - r->start;
	tr_buf_truncate(r->out, r->start);
	r->head_end = (size_t)-1; /* render_insert() refuses it */
}

void
tr_render_free(struct tr_render *r)
{
	if (r == NULL)
		return;
	free(r->home);
	tr_buf_free(&r->scratch);
	tr_buf_free(&r->aside);
	free(r);
}

int
tr_render_path(struct tr_buf *out, enum tr_format fmt, const char *tag,
    const char *feed)
{
	int rc;

	if ((size_t)fmt >= N_FORMATS)
		return TR_EINVAL;
	if (fmt == TR_FMT_HTML && !tag && !feed)
		return tr_buf_adds(out, "/");
	if (fmt == TR_FMT_OPML)
		return tr_buf_adds(out, "/feeds.opml");
	if (tag)
		rc = tr_buf_adds(out, "/tags/");
	else if (feed)
		rc = tr_buf_adds(out, "/feeds/");
	else
		rc = tr_buf_adds(out, "/feed");
	if (rc == 0 && (tag || feed))
		rc = render_pct_encode(out, tag ? tag : feed);
	if (rc == 0)
		rc = tr_buf_adds(out, formats[fmt].ext);
	return rc;
}

int
tr_render_base_url(struct tr_buf *out, const struct tr_config *cfg)
{
	const char *b = cfg->base_url;
	size_t n;

	if (b == NULL || *b == '\0') {
		const char *l = cfg->listen ? cfg->listen : "127.0.0.1:8080";
		int rc = tr_buf_adds(out, "http://");

		return rc ? rc : tr_buf_adds(out, l);
	}
	for (n = strlen(b); n > 0 && b[n - 1] == '/'; n--)
		;
	return tr_buf_add(out, b, n);
}

/* --- helpers for the renderers --- */

int
render_attr(struct tr_buf *out, const char *name, const char *value)
{
	int rc;

	if (value == NULL)
		return 0;
	TRY(tr_buf_printf(out, " %s=\"", name));
	TRY(tr_escape_xml(out, value));
	return tr_buf_addc(out, '"');
}

int
render_elem(struct tr_buf *out, const char *indent, const char *name,
    const char *text)
{
	int rc;

	if (text == NULL)
		return 0;
	if ((rc = tr_buf_printf(out, "%s<%s>", indent, name)) != 0 ||
	    (rc = tr_escape_xml(out, text)) != 0)
		return rc;
	return tr_buf_printf(out, "</%s>\n", name);
}

int
render_date_elem(struct tr_buf *out, const char *indent, const char *name,
    int64_t t, int rfc822)
{
	char d[64];

	if (!render_date_ok(t))
		return 0;
	if (rfc822)
		tr_date_format_rfc822(d, sizeof(d), t);
	else
		tr_date_format_rfc3339(d, sizeof(d), t);
	return tr_buf_printf(out, "%s<%s>%s</%s>\n", indent, name, d, name);
}

int
render_date_ok(int64_t t)
{
	/* 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z: what RFC 3339 and
	 * RFC 822 can write with four-digit years. */
	return t != TR_DATE_NONE && t >= -62135596800LL && t <= 253402300799LL;
}

static int64_t
first_date(int64_t a, int64_t b, int64_t c, int64_t d, int64_t fallback)
{
	return render_date_ok(a) ? a
	    : render_date_ok(b)	 ? b
	    : render_date_ok(c)	 ? c
	    : render_date_ok(d)	 ? d
				 : fallback;
}

int64_t
render_item_updated(const struct tr_item *it, int64_t fallback)
{
	return first_date(it->a.updated, it->a.published, it->first_seen,
	    it->sort_date, fallback);
}

int
render_thumbnail(struct tr_buf *out, const struct tr_item *it)
{
	int rc;

	if (!render_is_http_url(it->a.image))
		return 0;
	if ((rc = tr_buf_adds(out, "    <media:thumbnail")) != 0 ||
	    (rc = render_attr(out, "url", it->a.image)) != 0)
		return rc;
	return tr_buf_adds(out, "/>\n");
}

/*
 * Copies an excerpt of html's text (at most 80 characters) into buf.
 * Returns buf, or NULL when html has no text.
 */
static const char *
text_excerpt(const char *html, char *buf, size_t size)
{
	struct tr_buf b;
	const char *r = NULL;

	tr_buf_init(&b, size);
	if (html && tr_escape_html_text(&b, html, 80) == 0 &&
	    render_has_text(tr_buf_str(&b)) && b.len < size) {
		memcpy(buf, b.data, b.len + 1);
		r = buf;
	}
	tr_buf_free(&b);
	return r;
}

const char *
render_item_title(const struct tr_item *it, char *buf, size_t size)
{
	const char *t;

	if (render_has_text(it->a.title))
		return it->a.title;
	if ((t = text_excerpt(it->a.summary, buf, size)) != NULL ||
	    (t = text_excerpt(it->a.content, buf, size)) != NULL)
		return t;
	return render_has_text(it->a.link) ? it->a.link : NULL;
}

/* An undated item gets no invented publication date: only dates the item
 * carries (the first-seen time is for where a date is required). */
int64_t
render_item_published(const struct tr_item *it, int64_t fallback)
{
	return first_date(it->a.published, it->a.updated, TR_DATE_NONE,
	    TR_DATE_NONE, fallback);
}

const char *
render_feed_title(const struct tr_item *it)
{
	if (it->feed_title && *it->feed_title)
		return it->feed_title;
	return it->feed_name ? it->feed_name : "";
}

int
render_has_text(const char *s)
{
	if (s == NULL)
		return 0;
	for (; *s; s++)
		if ((unsigned char)*s > 0x20 && *s != 0x7F)
			return 1;
	return 0;
}

int
render_is_http_url(const char *s)
{
	size_t n;

	if (s == NULL)
		return 0;
	if (strncasecmp(s, "http://", 7) == 0)
		n = 7;
	else if (strncasecmp(s, "https://", 8) == 0)
		n = 8;
	else
		return 0;
	return s[n] != '\0' && s[n] != '/' && render_is_uri(s);
}

int
render_is_uri(const char *s)
{
	const char *p = s;

	if (s == NULL ||
	    !((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
		return 0;
	while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
	    (*p >= '0' && *p <= '9') || *p == '+' || *p == '-' || *p == '.')
		p++;
	if (*p != ':' || p[1] == '\0')
		return 0;
	for (; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7F ||
		    strchr("<>\"{}|\\^`", *p))
			return 0;
	return 1;
}

int
render_is_mime(const char *s)
{
	const char *slash = s ? strchr(s, '/') : NULL;

	return slash && slash > s && slash[1] != '\0' &&
	    strpbrk(s, " \t\r\n\"<>") == NULL;
}

int
render_insert(struct tr_buf *out, size_t at, const char *text, size_t n)
{
	size_t tail;
	int rc;

	if (at > out->len)
		return TR_EINVAL;
	tail = out->len - at;
	/* Grow by n (the cap is checked here), then move the tail up. */
	if ((rc = tr_buf_add(out, text, n)) != 0)
		return rc;
	memmove(out->data + at + n, out->data + at, tail);
	memcpy(out->data + at, text, n);
	return 0;
}

int
render_insert_link(struct tr_render *r, const char *start, const char *href)
{
	struct tr_buf link;
	int rc;

	tr_buf_init(&link, r->out->max);
	rc = tr_buf_adds(&link, start);
	if (rc == 0)
		rc = render_attr(&link, "href", href);
	if (rc == 0)
		rc = tr_buf_adds(&link, "/>\n");
	if (rc == 0)
		rc = render_insert(r->out, r->head_end, link.data, link.len);
	tr_buf_free(&link);
	return rc;
}

int
render_pct_encode(struct tr_buf *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3] = {'%', 0, 0};
	int rc = 0;

	for (; *s && rc == 0; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c)) {
			rc = tr_buf_addc(out, (char)c);
		} else {
			e[1] = hex[c >> 4];
			e[2] = hex[c & 15];
			rc = tr_buf_add(out, e, 3);
		}
	}
	return rc;
}
