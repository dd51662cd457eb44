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
	r->fmt = fmt;
	r->ops = formats[fmt].ops;
	tr_buf_init(&r->scratch, out->max);
	tr_buf_init(&r->aside, out->max);
	r->updated = doc->updated;
	if (!render_date_ok(r->updated))
		r->updated = (int64_t)time(NULL);
	if ((rc = r->ops->begin(r, doc)) != 0) {
		tr_render_free(r);
		return rc;
	}
	*rp = r;
	return 0;
}

int
tr_render_item(const struct tr_item *it, void *arg)
{
	struct tr_render *r = arg;

	if (r->err == 0 && (r->err = r->ops->item(r, it)) == 0)
		r->n_items++;
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
