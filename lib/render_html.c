/*
 * render_html.c — a small HTML5 page of the newest articles, for people
 * who open the endpoint in a browser.
 *
 * No third-party markup reaches the page: titles, feed names and the
 * plain-text excerpt (tr_escape_html_text) are escaped, and only http(s)
 * links are linked, so a "javascript:" link cannot run. No external
 * resources; the stylesheet is inline.
 */
#include <string.h>

#include "render_int.h"
#include "tributary/date.h"
#include "tributary/error.h"
#include "tributary/escape.h"

#define EXCERPT_CHARS 300

static const char style[] =
    "body{font:16px/1.5 system-ui,sans-serif;max-width:46em;margin:0 auto;"
    "padding:1em;color:#222;background:#fff}"
    "h1{font-size:1.6em;margin:.2em 0}"
    "h2{font-size:1.1em;margin:0}"
    "nav a{margin-right:1em}"
    "article{border-top:1px solid #ddd;padding:.8em 0}"
    ".meta{color:#666;font-size:.85em;margin:.1em 0}"
    "p{margin:.3em 0}a{color:#0645ad}";

static const struct {
	const char *path, *type, *label;
} feeds[] = {
    {"/feed.atom", "application/atom+xml", "Atom"},
    {"/feed.rss", "application/rss+xml", "RSS"},
    {"/feed.json", "application/feed+json", "JSON Feed"},
};

/* Appends href="HOME/PATH" where HOME is the page's own base. */
static int
html_href(struct tr_render *r, const char *path)
{
	int rc;

	TRY(tr_buf_adds(r->out, " href=\""));
	TRY(tr_escape_xml(r->out, r->home ? r->home : ""));
	TRY(tr_escape_xml(r->out, path));
	return tr_buf_addc(r->out, '"');
}

static int
html_head(struct tr_render *r, const char *title)
{
	struct tr_buf *out = r->out;
	size_t i;
	int rc;

	TRY(tr_buf_adds(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
			     "<meta charset=\"utf-8\">\n"
			     "<meta name=\"viewport\" "
			     "content=\"width=device-width, "
			     "initial-scale=1\">\n"
			     "<meta name=\"generator\" content=\""
			     RENDER_GENERATOR " " TR_VERSION "\">\n"));
	TRY(render_elem(out, "", "title", title));
	for (i = 0; i < sizeof(feeds) / sizeof(feeds[0]); i++) {
		TRY(tr_buf_printf(out, "<link rel=\"alternate\" type=\"%s\" "
				       "title=\"", feeds[i].type));
		TRY(tr_escape_xml(out, title));
		TRY(tr_buf_printf(out, " (%s)\"", feeds[i].label));
		TRY(html_href(r, feeds[i].path));
		TRY(tr_buf_adds(out, ">\n"));
	}
	return tr_buf_printf(out, "<style>%s</style>\n</head>\n", style);
}

static int
html_begin(struct tr_render *r, const struct tr_render_doc *doc)
{
	struct tr_buf *out = r->out;
	const char *title = doc->title ? doc->title : "tributary";
	const char *home = doc->home_url;
	size_t i, n;
	int rc;

	/* Links to the feeds sit next to the page: HOME without its slash. */
	if (home) {
		n = strlen(home);
		while (n > 0 && home[n - 1] == '/')
			n--;
		if ((r->home = strndup(home, n)) == NULL)
			return TR_ENOMEM;
	}
	TRY(html_head(r, title));
	TRY(tr_buf_adds(out, "<body>\n<header>\n"));
	TRY(render_elem(out, "", "h1", title));
	TRY(render_elem(out, "", "p", doc->subtitle));
	TRY(tr_buf_adds(out, "<nav>"));
	for (i = 0; i < sizeof(feeds) / sizeof(feeds[0]); i++) {
		TRY(tr_buf_adds(out, "<a"));
		TRY(html_href(r, feeds[i].path));
		TRY(tr_buf_printf(out, ">%s</a>", feeds[i].label));
	}
	TRY(tr_buf_adds(out, "<a"));
	TRY(html_href(r, "/feeds.opml"));
	return tr_buf_adds(out, ">OPML</a></nav>\n</header>\n<main>\n");
}

static int
html_item(struct tr_render *r, const struct tr_item *it)
{
	struct tr_buf *out = r->out;
	int64_t when = render_item_published(it, TR_DATE_NONE);
	const char *title = it->a.title && *it->a.title ? it->a.title
							: "(untitled)";
	const char *html = it->a.summary ? it->a.summary : it->a.content;
	char d[64];
	int rc;

	TRY(tr_buf_adds(out, "<article>\n<h2>"));
	if (render_is_http_url(it->a.link)) {
		TRY(tr_buf_adds(out, "<a"));
		TRY(render_attr(out, "href", it->a.link));
		TRY(tr_buf_addc(out, '>'));
		TRY(tr_escape_xml(out, title));
		TRY(tr_buf_adds(out, "</a>"));
	} else {
		TRY(tr_escape_xml(out, title));
	}
	TRY(tr_buf_adds(out, "</h2>\n<p class=\"meta\">"));
	TRY(tr_escape_xml(out, render_feed_title(it)));
	if (render_date_ok(when)) {
		tr_date_format_rfc3339(d, sizeof(d), when);
		TRY(tr_buf_printf(out, " · <time datetime=\"%s\">", d));
		/* "2024-12-06T09:30:00Z" shown as "2024-12-06 09:30 UTC". */
		if (strlen(d) >= 16)
			TRY(tr_buf_printf(out, "%.10s %.5s UTC", d, d + 11));
		TRY(tr_buf_adds(out, "</time>"));
	}
	TRY(tr_buf_adds(out, "</p>\n"));
	if (html) {
		/* The excerpt comes out as plain text: escape it. */
		tr_buf_reset(&r->scratch);
		TRY(tr_escape_html_text(&r->scratch, html, EXCERPT_CHARS));
		if (r->scratch.len > 0) {
			TRY(tr_buf_adds(out, "<p>"));
			TRY(tr_escape_xml_n(out, r->scratch.data,
			    r->scratch.len));
			TRY(tr_buf_adds(out, "</p>\n"));
		}
	}
	return tr_buf_adds(out, "</article>\n");
}

static int
html_end(struct tr_render *r, const char *next_url)
{
	struct tr_buf *out = r->out;
	int rc;

	if (r->n_items == 0)
		TRY(tr_buf_adds(out, "<p>No articles yet.</p>\n"));
	TRY(tr_buf_adds(out, "</main>\n<footer>\n"));
	if (render_is_http_url(next_url)) {
		TRY(tr_buf_adds(out, "<p><a rel=\"next\""));
		TRY(render_attr(out, "href", next_url));
		TRY(tr_buf_adds(out, ">Older articles</a></p>\n"));
	}
	return tr_buf_adds(out, "<p class=\"meta\">Generated by tributary."
				"</p>\n</footer>\n</body>\n</html>\n");
}

const struct render_ops render_html_ops = {html_begin, html_item, html_end};
