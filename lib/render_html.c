/*
 * render_html.c — the HTML5 page people open in a browser: a search box,
 * the newest articles (or a search's results) with their source and
 * authors, and the feeds with their polling state, failing ones first
 * and named at the top, and links to every tag and feed.
 *
 * No third-party markup reaches the page: titles, names, error messages
 * and the plain-text excerpt (tr_escape_html_text) are escaped, and only
 * http(s) links are linked, so a "javascript:" link cannot run. No
 * scripts and no external resources: the stylesheet is inline, the
 * search is a plain GET form, so the page works without JavaScript.
 *
 * Layout: one column on a phone; from 64em up, the feeds and tags stand
 * in a second column beside the articles. The feed list follows the
 * articles in the document (it is built at the start, where the failing
 * feeds are counted for the summary, and written at the end).
 */
#include <stdlib.h>
#include <string.h>

#include "render_int.h"
#include "tributary/date.h"
#include "tributary/error.h"
#include "tributary/escape.h"

#define EXCERPT_CHARS 300
#define SUMMARY_NAMES 5 /* failing feeds named in the summary line */

/*
 * Every colour pair here passes WCAG 2.1 AA (4.5:1 for text); the page's
 * test computes the ratios from this stylesheet. A rule that sets a
 * colour sets its background too, or sits on the body's white.
 */
static const char style[] =
    "*{box-sizing:border-box}"
    "body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;"
    "background:#fff;overflow-wrap:anywhere}"
    ".page{max-width:76em;margin:0 auto;padding:1em}"
    "h1{font-size:1.6em;margin:.2em 0}"
    "h2{font-size:1.25em;margin:1em 0 .4em}"
    "h3{font-size:1.05em;margin:0}"
    "a{color:#0645ad}"
    "nav a{margin-right:1em}"
    "form{display:flex;flex-wrap:wrap;gap:.5em;align-items:center;"
    "margin:.8em 0}"
    "label{font-weight:600;flex-basis:100%}"
    "time{white-space:nowrap}"
    "input{font:inherit;flex:1 1 12em;min-width:0;padding:.35em .5em;"
    "border:1px solid #767676;border-radius:4px;color:#1b1b1b;"
    "background:#fff}"
    "button{font:inherit;padding:.35em 1em;border:0;border-radius:4px;"
    "color:#fff;background:#0645ad;cursor:pointer}"
    ".summary{padding:.5em .8em;border-radius:4px;margin:.5em 0;"
    "color:#1b1b1b;background:#eef6ee}"
    ".summary.fail{color:#5c0f0a;background:#fdecea;"
    "border-left:6px solid #b3261e}"
    ".summary a{color:inherit}"
    "article{border-top:1px solid #ddd;padding:.8em 0}"
    ".meta{color:#595959;font-size:.9em;margin:.1em 0}"
    ".notice{padding:.5em .8em;border-radius:4px;color:#5c0f0a;"
    "background:#fdecea;border-left:6px solid #b3261e}"
    "p{margin:.3em 0}"
    ".feeds{list-style:none;padding:0;margin:0}"
    ".feed{border:1px solid #ddd;border-left:6px solid #1e6b34;"
    "border-radius:4px;padding:.5em .7em;margin:0 0 .6em}"
    ".feed.fail{border-left-color:#b3261e}"
    ".feed.idle{border-left-color:#767676}"
    ".state{display:inline-block;font-weight:700;font-size:.85em;"
    "padding:0 .5em;border-radius:3px;color:#fff;background:#1e6b34}"
    ".fail .state{color:#fff;background:#b3261e}"
    ".idle .state{color:#fff;background:#595959}"
    "dl{display:grid;grid-template-columns:auto 1fr;gap:0 .8em;"
    "margin:.3em 0;font-size:.9em}"
    "dt{color:#595959}dd{margin:0}"
    ".error{color:#8c1d18}"
    ".tags{padding-left:1.2em}"
    "@media (min-width:64em){.cols{display:grid;"
    "grid-template-columns:minmax(0,2fr) minmax(18em,1fr);gap:2.5em}}";

static const struct {
	enum tr_format fmt;
	const char *type, *label;
} feed_formats[] = {
    {TR_FMT_ATOM, "application/atom+xml", "Atom"},
    {TR_FMT_RSS, "application/rss+xml", "RSS"},
    {TR_FMT_JSON, "application/feed+json", "JSON Feed"},
};
#define N_FEED_FORMATS (sizeof(feed_formats) / sizeof(feed_formats[0]))

/* Appends ' href="HOME' + the endpoint path of (fmt, tag, feed) + '"'. */
static int
html_href_doc(struct tr_render *r, enum tr_format fmt, const char *tag,
    const char *feed)
{
	struct tr_buf path;
	int rc;

	tr_buf_init(&path, 16384);
	rc = tr_render_path(&path, fmt, tag, feed);
	if (rc == 0)
		rc = tr_buf_adds(r->out, " href=\"");
	if (rc == 0)
		rc = tr_escape_xml(r->out, r->home ? r->home : "");
	if (rc == 0)
		rc = tr_escape_xml(r->out, tr_buf_str(&path));
	if (rc == 0)
		rc = tr_buf_addc(r->out, '"');
	tr_buf_free(&path);
	return rc;
}

/* "2024-12-06 09:30 UTC" in a <time> element, or text when t is unset. */
static int
html_time(struct tr_buf *out, int64_t t, const char *none)
{
	char d[64];
	int rc;

	if (t <= 0 || !render_date_ok(t))
		return tr_buf_adds(out, none);
	tr_date_format_rfc3339(d, sizeof(d), t);
	TRY(tr_buf_printf(out, "<time datetime=\"%s\">", d));
	if (strlen(d) >= 16)
		TRY(tr_buf_printf(out, "%.10s %.5s UTC", d, d + 11));
	return tr_buf_adds(out, "</time>");
}

static int
html_head(struct tr_render *r, const char *title, const char *tag,
    const char *feed)
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
	for (i = 0; i < N_FEED_FORMATS; i++) {
		TRY(tr_buf_printf(out, "<link rel=\"alternate\" type=\"%s\" "
				       "title=\"", feed_formats[i].type));
		TRY(tr_escape_xml(out, title));
		TRY(tr_buf_printf(out, " (%s)\"", feed_formats[i].label));
		TRY(html_href_doc(r, feed_formats[i].fmt, tag, feed));
		TRY(tr_buf_adds(out, ">\n"));
	}
	return tr_buf_printf(out, "<style>%s</style>\n</head>\n", style);
}

/* The subscription links of the page's scope, and the way back home. */
static int
html_nav(struct tr_render *r, const char *tag, const char *feed)
{
	struct tr_buf *out = r->out;
	size_t i;
	int rc;

	TRY(tr_buf_adds(out, "<nav aria-label=\"Subscribe\">"));
	if (tag || feed) {
		TRY(tr_buf_adds(out, "<a"));
		TRY(html_href_doc(r, TR_FMT_HTML, NULL, NULL));
		TRY(tr_buf_adds(out, ">All articles</a>"));
	}
	for (i = 0; i < N_FEED_FORMATS; i++) {
		TRY(tr_buf_adds(out, "<a"));
		TRY(html_href_doc(r, feed_formats[i].fmt, tag, feed));
		TRY(tr_buf_printf(out, ">%s</a>", feed_formats[i].label));
	}
	TRY(tr_buf_adds(out, "<a"));
	TRY(html_href_doc(r, TR_FMT_OPML, NULL, NULL));
	return tr_buf_adds(out, ">OPML</a></nav>\n");
}

/* The GET search form: works without JavaScript, labelled. */
static int
html_search(struct tr_render *r, const struct tr_render_doc *doc)
{
	struct tr_buf *out = r->out;
	int rc;

	TRY(tr_buf_adds(out, "<form role=\"search\" method=\"get\""));
	TRY(render_attr(out, "action", doc->search));
	TRY(tr_buf_adds(out, ">\n<label for=\"q\">Search articles</label>\n"
			     "<input type=\"search\" id=\"q\" name=\"q\""));
	TRY(render_attr(out, "value", doc->q ? doc->q : ""));
	TRY(tr_buf_adds(out, ">\n<button type=\"submit\">Search</button>\n"));
	if (doc->q) {
		TRY(tr_buf_adds(out, "<a"));
		TRY(render_attr(out, "href", doc->search));
		TRY(tr_buf_adds(out, ">Clear search</a>\n"));
	}
	return tr_buf_adds(out, "</form>\n");
}

/* --- the feed list --- */

enum feed_class { FEED_OK, FEED_FAIL, FEED_IDLE };

/* What the page says of a feed's state, and how it files it. */
static enum feed_class
feed_state(const struct tr_feed_state *fs, const char **word)
{
	if (!fs->enabled) {
		*word = "Paused";
		return FEED_IDLE;
	}
	if (fs->disabled) {
		*word = "Disabled";
		return FEED_FAIL;
	}
	if (fs->errors > 0) {
		*word = "Failing";
		return FEED_FAIL;
	}
	if (fs->last_check <= 0) {
		*word = "Not checked yet";
		return FEED_IDLE;
	}
	*word = "OK";
	return FEED_OK;
}

/* Walk state of tr_store_feeds() for the feed list. */
struct feed_walk {
	struct tr_render *r;
	const struct tr_render_doc *doc;
	struct tr_buf fail, rest; /* list items: failing first */
	struct tr_buf names;	  /* links to failing feeds, for the summary */
	size_t n, n_fail;
};

/* Non-zero when the feed belongs on a page of doc's scope. */
static int
feed_in_scope(const struct tr_render_doc *doc, const struct tr_feed_state *fs,
    const struct tr_feed_conf **fc)
{
	size_t i;

	*fc = NULL;
	if (!fs->active)
		return 0;
	if (doc->cfg == NULL)
		return doc->feed == NULL || strcmp(doc->feed, fs->name) == 0;
	if ((*fc = tr_config_feed(doc->cfg, fs->name)) == NULL)
		return 0; /* not in the config at hand */
	if (doc->feed)
		return strcmp(doc->feed, fs->name) == 0;
	if (doc->tag == NULL)
		return 1;
	for (i = 0; i < (*fc)->n_tags; i++)
		if (strcmp((*fc)->tags[i], doc->tag) == 0)
			return 1;
	return 0;
}

/* ' href="HOME/feeds/NAME.EXT"' into out (r->out is borrowed briefly). */
static int
feed_href(struct tr_render *r, struct tr_buf *out, enum tr_format fmt,
    const char *name)
{
	struct tr_buf *saved = r->out;
	int rc;

	r->out = out;
	rc = html_href_doc(r, fmt, NULL, name);
	r->out = saved;
	return rc;
}

static int
feed_item(struct feed_walk *w, struct tr_buf *out,
    const struct tr_feed_state *fs, const struct tr_feed_conf *fc)
{
	const char *title = fc && fc->title ? fc->title
	    : fs->title && *fs->title	    ? fs->title
					    : fs->name;
	static const char *const cls[] = {"", " fail", " idle"};
	static const char *const icon[] = {"\u2713", "\u2717", "\u2013"};
	const char *word = "";
	enum feed_class c = feed_state(fs, &word);
	int rc;

	TRY(tr_buf_printf(out, "<li class=\"feed%s\" id=\"feed-", cls[c]));
	TRY(render_pct_encode(out, fs->name));
	TRY(tr_buf_adds(out, "\">\n<h3><a"));
	TRY(feed_href(w->r, out, TR_FMT_HTML, fs->name));
	TRY(tr_buf_addc(out, '>'));
	TRY(tr_escape_xml(out, title));
	TRY(tr_buf_printf(out, "</a></h3>\n<p><span class=\"state\">"
			       "<span aria-hidden=\"true\">%s</span> %s"
			       "</span>",
	    icon[c], word));
	if (fs->errors > 0)
		TRY(tr_buf_printf(out, " %lld error%s in a row",
		    (long long)fs->errors, fs->errors == 1 ? "" : "s"));
	TRY(tr_buf_adds(out, "</p>\n<dl>\n<dt>Last success</dt><dd>"));
	TRY(html_time(out, fs->last_success, "never"));
	if (fs->disabled || (fs->errors > 0 && fs->last_error)) {
		TRY(tr_buf_adds(out, "</dd>\n<dt>Last error</dt>"
				     "<dd class=\"error\">"));
		TRY(tr_escape_xml(out, fs->disabled && fs->disabled_reason
			? fs->disabled_reason
			: fs->last_error ? fs->last_error : "disabled"));
	}
	TRY(tr_buf_adds(out, "</dd>\n<dt>Next check</dt><dd>"));
	TRY(html_time(out, c == FEED_OK || fs->errors > 0 ? fs->next_check : 0,
	    fs->disabled || !fs->enabled ? "none" : "as soon as possible"));
	TRY(tr_buf_printf(out, "</dd>\n<dt>Articles</dt><dd>%lld</dd>\n</dl>\n"
			       "<p><a",
	    (long long)fs->n_articles));
	TRY(feed_href(w->r, out, TR_FMT_ATOM, fs->name));
	TRY(tr_buf_adds(out, ">Atom feed</a>"));
	if (render_is_http_url(fs->site_link)) {
		TRY(tr_buf_adds(out, " · <a"));
		TRY(render_attr(out, "href", fs->site_link));
		TRY(tr_buf_adds(out, ">Website</a>"));
	}
	return tr_buf_adds(out, "</p>\n</li>\n");
}

/* tr_feed_cb: one feed into the list, and its name into the summary. */
static int
feed_cb(const struct tr_feed_state *fs, void *arg)
{
	struct feed_walk *w = arg;
	const struct tr_feed_conf *fc;
	const char *word;
	int rc;

	if (!feed_in_scope(w->doc, fs, &fc))
		return 0;
	w->n++;
	if (feed_state(fs, &word) != FEED_FAIL)
		return feed_item(w, &w->rest, fs, fc);
	if (++w->n_fail <= SUMMARY_NAMES) {
		if (w->n_fail > 1)
			TRY(tr_buf_adds(&w->names, ", "));
		TRY(tr_buf_adds(&w->names, "<a href=\"#feed-"));
		TRY(render_pct_encode(&w->names, fs->name));
		TRY(tr_buf_adds(&w->names, "\">"));
		TRY(tr_escape_xml(&w->names,
		    fc && fc->title ? fc->title
		    : fs->title && *fs->title ? fs->title
					      : fs->name));
		TRY(tr_buf_adds(&w->names, "</a>"));
	}
	return feed_item(w, &w->fail, fs, fc);
}

/* The line under the search box: are the feeds working? */
static int
html_summary(struct tr_buf *out, const struct feed_walk *w)
{
	int rc;

	if (w->n == 0)
		return 0;
	if (w->n_fail == 0)
		return tr_buf_printf(out, "<p class=\"summary\" id=\"summary\">"
					  "<span aria-hidden=\"true\">\u2713"
					  "</span> %s %zu feed%s working. "
					  "<a href=\"#feeds\">Feed status</a>"
					  "</p>\n",
		    w->n == 1 ? "The" : "All", w->n,
		    w->n == 1 ? " is" : "s are");
	TRY(tr_buf_printf(out, "<p class=\"summary fail\" id=\"summary\">"
			       "<strong><span aria-hidden=\"true\">\u2717"
			       "</span> %zu of %zu feed%s failing:</strong> ",
	    w->n_fail, w->n, w->n == 1 ? " is" : "s are"));
	TRY(tr_buf_add(out, w->names.data, w->names.len));
	if (w->n_fail > SUMMARY_NAMES)
		TRY(tr_buf_printf(out, " and %zu more",
		    w->n_fail - SUMMARY_NAMES));
	return tr_buf_adds(out, ". <a href=\"#feeds\">Feed status</a></p>\n");
}

/* The tags of the config, sorted and once each, with their pages. */
static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
html_tags(struct tr_render *r, struct tr_buf *out,
    const struct tr_config *cfg)
{
	const char **v;
	size_t i, j, n = 0;
	int rc = 0;

	for (i = 0; i < cfg->n_feeds; i++)
		n += cfg->feeds[i].n_tags;
	if (n == 0)
		return 0;
	if ((v = malloc(n * sizeof(*v))) == NULL)
		return TR_ENOMEM;
	for (i = 0, n = 0; i < cfg->n_feeds; i++)
		for (j = 0; j < cfg->feeds[i].n_tags; j++)
			v[n++] = cfg->feeds[i].tags[j];
	qsort(v, n, sizeof(*v), cmp_str);
	rc = tr_buf_adds(out, "<section id=\"tags\" aria-labelledby=\"tags-h\">"
			      "\n<h2 id=\"tags-h\">Tags</h2>\n"
			      "<ul class=\"tags\">\n");
	for (i = 0; i < n && rc == 0; i++) {
		struct tr_buf *saved = r->out;

		if (i > 0 && strcmp(v[i], v[i - 1]) == 0)
			continue;
		r->out = out;
		if ((rc = tr_buf_adds(out, "<li><a")) == 0 &&
		    (rc = html_href_doc(r, TR_FMT_HTML, v[i], NULL)) == 0 &&
		    (rc = tr_buf_addc(out, '>')) == 0 &&
		    (rc = tr_escape_xml(out, v[i])) == 0 &&
		    (rc = tr_buf_adds(out, "</a> (<a")) == 0 &&
		    (rc = html_href_doc(r, TR_FMT_ATOM, v[i], NULL)) == 0)
			rc = tr_buf_adds(out, ">Atom</a>)</li>\n");
		r->out = saved;
	}
	if (rc == 0)
		rc = tr_buf_adds(out, "</ul>\n</section>\n");
	free(v);
	return rc;
}

/*
 * Builds the aside (feed list, then tags) into r->aside and writes the
 * summary line into r->out. Nothing without a store.
 */
static int
html_feeds(struct tr_render *r, const struct tr_render_doc *doc)
{
	struct feed_walk w;
	int rc = 0;

	memset(&w, 0, sizeof(w));
	w.r = r;
	w.doc = doc;
	tr_buf_init(&w.fail, r->out->max);
	tr_buf_init(&w.rest, r->out->max);
	tr_buf_init(&w.names, r->out->max);
	if (doc->st)
		rc = tr_store_feeds(doc->st, feed_cb, &w);
	if (rc == 0 && w.n > 0)
		rc = tr_buf_adds(&r->aside, "<section id=\"feeds\" "
					    "aria-labelledby=\"feeds-h\">\n"
					    "<h2 id=\"feeds-h\">Feeds</h2>\n"
					    "<ul class=\"feeds\">\n");
	if (rc == 0 && w.n > 0 &&
	    (rc = tr_buf_add(&r->aside, w.fail.data, w.fail.len)) == 0 &&
	    (rc = tr_buf_add(&r->aside, w.rest.data, w.rest.len)) == 0)
		rc = tr_buf_adds(&r->aside, "</ul>\n</section>\n");
	if (rc == 0 && doc->cfg && !doc->tag && !doc->feed)
		rc = html_tags(r, &r->aside, doc->cfg);
	if (rc == 0)
		rc = html_summary(r->out, &w);
	tr_buf_free(&w.fail);
	tr_buf_free(&w.rest);
	tr_buf_free(&w.names);
	return rc;
}

static int
html_begin(struct tr_render *r, const struct tr_render_doc *doc)
{
	struct tr_buf *out = r->out;
	const char *title = doc->title ? doc->title : "tributary";
	const char *home = doc->home_url;
	size_t n;
	int rc;

	/* Links to the feeds sit next to the page: HOME without its slash. */
	if (home) {
		n = strlen(home);
		while (n > 0 && home[n - 1] == '/')
			n--;
		if ((r->home = strndup(home, n)) == NULL)
			return TR_ENOMEM;
	}
	r->cfg = doc->cfg;
	r->searching = doc->q != NULL;
	TRY(html_head(r, title, doc->tag, doc->feed));
	TRY(tr_buf_adds(out, "<body>\n<div class=\"page\">\n<header>\n"));
	TRY(render_elem(out, "", "h1", title));
	TRY(render_elem(out, "", "p", doc->subtitle));
	TRY(html_nav(r, doc->tag, doc->feed));
	if (doc->search)
		TRY(html_search(r, doc));
	TRY(html_feeds(r, doc));
	TRY(tr_buf_adds(out, "</header>\n<div class=\"cols\">\n"
			     "<main id=\"articles\">\n<h2>"));
	if (doc->q) {
		TRY(tr_buf_adds(out, "Search results for \u201c"));
		TRY(tr_escape_xml(out, doc->q));
		TRY(tr_buf_adds(out, "\u201d"));
	} else {
		TRY(tr_buf_adds(out, "Latest articles"));
	}
	TRY(tr_buf_adds(out, "</h2>\n"));
	if (doc->notice) {
		TRY(tr_buf_adds(out, "<p class=\"notice\" role=\"alert\">"));
		TRY(tr_escape_xml(out, doc->notice));
		TRY(tr_buf_adds(out, "</p>\n"));
		r->searching = 2; /* no "no articles" line under the notice */
	}
	return 0;
}

/* "by A, B" from the article's authors (names, else e-mail addresses). */
static int
html_authors(struct tr_buf *out, const struct tr_item *it)
{
	size_t i, n = 0;
	int rc;

	for (i = 0; i < it->a.n_authors; i++) {
		const struct tr_person *p = &it->a.authors[i];
		const char *name = render_has_text(p->name) ? p->name
		    : render_has_text(p->email)		   ? p->email
							   : NULL;

		if (name == NULL)
			continue;
		TRY(tr_buf_adds(out, n++ ? ", " : " · by <span class=\"author\">"));
		TRY(tr_escape_xml(out, name));
	}
	if (n == 0 && render_has_text(it->a.author)) {
		TRY(tr_buf_adds(out, " · by <span class=\"author\">"));
		TRY(tr_escape_xml(out, it->a.author));
		n = 1;
	}
	return n ? tr_buf_adds(out, "</span>") : 0;
}

static int
html_item(struct tr_render *r, const struct tr_item *it)
{
	struct tr_buf *out = r->out;
	int64_t when = render_item_published(it, TR_DATE_NONE);
	char derived[RENDER_TITLE_BUF];
	const char *title = render_item_title(it, derived, sizeof(derived));
	const char *html = it->a.summary ? it->a.summary : it->a.content;
	int rc;

	/* An untitled item goes by its text's first words, as in the feeds;
	 * the excerpt would only repeat them. */
	if (title == derived)
		html = NULL;
	if (title == NULL)
		title = "(untitled)";

	TRY(tr_buf_adds(out, "<article>\n<h3>"));
	if (render_is_http_url(it->a.link)) {
		TRY(tr_buf_adds(out, "<a"));
		TRY(render_attr(out, "href", it->a.link));
		TRY(tr_buf_addc(out, '>'));
		TRY(tr_escape_xml(out, title));
		TRY(tr_buf_adds(out, "</a>"));
	} else {
		TRY(tr_escape_xml(out, title));
	}
	TRY(tr_buf_adds(out, "</h3>\n<p class=\"meta\">"));
	/* The source links to its page when the config knows the feed. */
	if (r->cfg && it->feed_name && tr_config_feed(r->cfg, it->feed_name)) {
		TRY(tr_buf_adds(out, "<a class=\"source\""));
		TRY(html_href_doc(r, TR_FMT_HTML, NULL, it->feed_name));
		TRY(tr_buf_addc(out, '>'));
		TRY(tr_escape_xml(out, render_feed_title(it)));
		TRY(tr_buf_adds(out, "</a>"));
	} else {
		TRY(tr_escape_xml(out, render_feed_title(it)));
	}
	TRY(html_authors(out, it));
	if (render_date_ok(when)) {
		TRY(tr_buf_adds(out, " · "));
		TRY(html_time(out, when, ""));
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

	if (r->n_items == 0 && r->searching != 2)
		TRY(tr_buf_adds(out, r->searching
			? "<p>No articles match this search.</p>\n"
			: "<p>No articles yet.</p>\n"));
	if (render_is_http_url(next_url)) {
		TRY(tr_buf_adds(out, "<p><a rel=\"next\""));
		TRY(render_attr(out, "href", next_url));
		TRY(tr_buf_adds(out, ">Older articles</a></p>\n"));
	}
	TRY(tr_buf_adds(out, "</main>\n"));
	if (r->aside.len > 0) {
		TRY(tr_buf_adds(out, "<aside aria-label=\"Feeds and tags\">\n"));
		TRY(tr_buf_add(out, r->aside.data, r->aside.len));
		TRY(tr_buf_adds(out, "</aside>\n"));
	}
	return tr_buf_adds(out, "</div>\n<footer>\n<p class=\"meta\">"
				"Generated by tributary.</p>\n</footer>\n"
				"</div>\n</body>\n</html>\n");
}

const struct render_ops render_html_ops = {html_begin, html_item, html_end};
