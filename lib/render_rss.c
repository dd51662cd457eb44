/*
 * render_rss.c — the merged feed as RSS 2.0 (RSS Advisory Board spec).
 *
 * Full content goes into content:encoded (RSS content module), the
 * summary (or the content when there is none) into description. RSS
 * author must be an e-mail address, so authors are dc:creator. Each item
 * names the feed that carried it in <source url="...">.
 */
#include <string.h>

#include "render_int.h"
#include "tributary/article.h"
#include "tributary/escape.h"

static int
rss_begin(struct tr_render *r, const struct tr_render_doc *doc)
{
	struct tr_buf *out = r->out;
	const char *title = doc->title ? doc->title : "";
	const char *link = doc->home_url ? doc->home_url : doc->self_url;
	int rc;

	TRY(tr_buf_adds(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"));
	TRY(render_stylesheet_pi(out, doc->stylesheet));
	TRY(tr_buf_adds(out,
	    "<rss version=\"2.0\" "
	    "xmlns:atom=\"http://www.w3.org/2005/Atom\" "
	    "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" "
	    "xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
	    "xmlns:media=\"http://search.yahoo.com/mrss/\">\n"
	    "<channel>\n"));
	TRY(render_elem(out, "  ", "title", title));
	TRY(render_elem(out, "  ", "link", link ? link : ""));
	TRY(render_elem(out, "  ", "description",
	    doc->subtitle ? doc->subtitle : title));
	TRY(render_date_elem(out, "  ", "lastBuildDate", r->updated, 1));
	TRY(tr_buf_adds(out, "  <generator>" RENDER_GENERATOR " " TR_VERSION
			     "</generator>\n"
			     "  <docs>https://www.rssboard.org/"
			     "rss-specification</docs>\n"));
	if (doc->self_url) {
		TRY(tr_buf_adds(out, "  <atom:link rel=\"self\" "
				     "type=\"application/rss+xml\""));
		TRY(render_attr(out, "href", doc->self_url));
		TRY(tr_buf_adds(out, "/>\n"));
	}
	r->head_end = out->len;
	if (doc->next_url) {
		TRY(render_insert_link(r, "  <atom:link rel=\"next\" "
					  "type=\"application/rss+xml\"",
		    doc->next_url));
		r->next_done = 1;
	}
	return 0;
}

/*
 * guid with isPermaLink: true only when the guid is the item's link and
 * that is an absolute http(s) URL a reader can open.
 */
static int
rss_guid(struct tr_buf *out, const struct tr_item *it)
{
	const char *g = it->a.guid ? it->a.guid : it->a.id;
	int perma;
	int rc;

	if (g == NULL || *g == '\0')
		return 0;
	perma = it->a.link && strcmp(g, it->a.link) == 0 &&
	    render_is_http_url(g);
	TRY(tr_buf_printf(out, "    <guid isPermaLink=\"%s\">",
	    perma ? "true" : "false"));
	TRY(tr_escape_xml(out, g));
	return tr_buf_adds(out, "</guid>\n");
}

static int
rss_creators(struct tr_buf *out, const struct tr_item *it)
{
	const struct tr_person *p;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < it->a.n_authors; i++) {
		p = &it->a.authors[i];
		if (render_has_text(p->name))
			TRY(render_elem(out, "    ", "dc:creator", p->name));
		else if (render_has_text(p->email))
			TRY(render_elem(out, "    ", "dc:creator", p->email));
		else
			continue;
		n++;
	}
	if (n == 0 && render_has_text(it->a.author))
		TRY(render_elem(out, "    ", "dc:creator", it->a.author));
	return 0;
}

static int
rss_enclosures(struct tr_buf *out, const struct tr_item *it)
{
	const struct tr_enclosure *e;
	size_t i;
	int rc;

	for (i = 0; i < it->a.n_enclosures; i++) {
		e = &it->a.enclosures[i];
		if (e->url == NULL)
			continue;
		/* url, length and type are all required; length 0 when
		 * unknown (as the RSS Board's profile advises). */
		TRY(tr_buf_adds(out, "    <enclosure"));
		TRY(render_attr(out, "url", e->url));
		TRY(tr_buf_printf(out, " length=\"%lld\"",
		    (long long)(e->length >= 0 ? e->length : 0)));
		TRY(render_attr(out, "type", render_is_mime(e->type)
			? e->type
			: "application/octet-stream"));
		TRY(tr_buf_adds(out, "/>\n"));
	}
	return 0;
}

static int
rss_item(struct tr_render *r, const struct tr_item *it)
{
	struct tr_buf *out = r->out;
	const char *desc = it->a.summary ? it->a.summary : it->a.content;
	char buf[RENDER_TITLE_BUF];
	const char *title = render_has_text(it->a.title) || desc
	    ? it->a.title : render_item_title(it, buf, sizeof(buf));
	size_t i;
	int rc;

	TRY(tr_buf_adds(out, "  <item>\n"));
	TRY(render_elem(out, "    ", "title", title));
	TRY(render_elem(out, "    ", "link", it->a.link));
	TRY(rss_guid(out, it));
	TRY(render_date_elem(out, "    ", "pubDate",
	    render_item_published(it, TR_DATE_NONE), 1));
	TRY(rss_creators(out, it));
	for (i = 0; i < it->a.n_categories; i++)
		if (render_has_text(it->a.categories[i]))
			TRY(render_elem(out, "    ", "category",
			    it->a.categories[i]));
	/* An item needs a title or a description. */
	if (desc || !title)
		TRY(render_elem(out, "    ", "description", desc ? desc : ""));
	TRY(render_elem(out, "    ", "content:encoded", it->a.content));
	TRY(rss_enclosures(out, it));
	TRY(render_thumbnail(out, it));
	if (it->feed_url) {
		TRY(tr_buf_adds(out, "    <source"));
		TRY(render_attr(out, "url", it->feed_url));
		TRY(tr_buf_addc(out, '>'));
		TRY(tr_escape_xml(out, render_feed_title(it)));
		TRY(tr_buf_adds(out, "</source>\n"));
	}
	return tr_buf_adds(out, "  </item>\n");
}

static int
rss_end(struct tr_render *r, const char *next_url)
{
	int rc;

	if (next_url && !r->next_done)
		TRY(render_insert_link(r, "  <atom:link rel=\"next\" "
					  "type=\"application/rss+xml\"",
		    next_url));
	return tr_buf_adds(r->out, "</channel>\n</rss>\n");
}

const struct render_ops render_rss_ops = {rss_begin, rss_item, rss_end};
