/*
 * render_json.c — the merged feed as JSON Feed 1.1
 * (https://www.jsonfeed.org/version/1.1/).
 *
 * Every item has an id (a string) and content_html (the spec requires
 * content_html or content_text). summary is plain text in JSON Feed, so
 * it is the text of the article's HTML summary. Attachments need a
 * mime_type; application/octet-stream stands in when the feed gave none.
 * The feed that carried an item is in the "_source" extension object.
 */
#include <string.h>

#include "render_int.h"
#include "tributary/date.h"
#include "tributary/escape.h"

#define SUMMARY_CHARS 500

/* Appends ,"key":"value" (or without the comma when first). */
static int
json_member(struct tr_buf *out, const char *key, const char *value,
    int first)
{
	int rc;

	if (value == NULL)
		return 0;
	TRY(tr_buf_printf(out, "%s\"%s\":", first ? "" : ",", key));
	return tr_escape_json(out, value);
}

static int
json_date(struct tr_buf *out, const char *key, int64_t t)
{
	char d[64];

	if (!render_date_ok(t))
		return 0;
	tr_date_format_rfc3339(d, sizeof(d), t);
	return tr_buf_printf(out, ",\"%s\":\"%s\"", key, d);
}

static int
json_begin(struct tr_render *r, const struct tr_render_doc *doc)
{
	struct tr_buf *out = r->out;
	int rc;

	TRY(tr_buf_adds(out, "{\"version\":\"https://jsonfeed.org/version/1.1\""));
	TRY(json_member(out, "title", doc->title ? doc->title : "", 0));
	TRY(json_member(out, "home_page_url", doc->home_url, 0));
	TRY(json_member(out, "feed_url", doc->self_url, 0));
	TRY(json_member(out, "description", doc->subtitle, 0));
	return tr_buf_adds(out, ",\"items\":[");
}

static int
json_authors(struct tr_buf *out, const struct tr_item *it)
{
	const struct tr_person *p;
	const char *url;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < it->a.n_authors; i++) {
		p = &it->a.authors[i];
		url = render_is_uri(p->uri) ? p->uri : NULL;
		if (!render_has_text(p->name) && !url)
			continue;
		TRY(tr_buf_adds(out, n ? ",{" : ",\"authors\":[{"));
		TRY(json_member(out, "name",
		    render_has_text(p->name) ? p->name : NULL, 1));
		TRY(json_member(out, "url", url, !render_has_text(p->name)));
		TRY(tr_buf_addc(out, '}'));
		n++;
	}
	if (n == 0 && render_has_text(it->a.author)) {
		TRY(tr_buf_adds(out, ",\"authors\":[{"));
		TRY(json_member(out, "name", it->a.author, 1));
		TRY(tr_buf_addc(out, '}'));
		n++;
	}
	return n ? tr_buf_addc(out, ']') : 0;
}

static int
json_attachments(struct tr_buf *out, const struct tr_item *it)
{
	const struct tr_enclosure *e;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < it->a.n_enclosures; i++) {
		e = &it->a.enclosures[i];
		if (e->url == NULL)
			continue;
		TRY(tr_buf_adds(out, n ? ",{" : ",\"attachments\":[{"));
		TRY(json_member(out, "url", e->url, 1));
		TRY(json_member(out, "mime_type", render_is_mime(e->type)
			? e->type
			: "application/octet-stream", 0));
		if (e->length >= 0)
			TRY(tr_buf_printf(out, ",\"size_in_bytes\":%lld",
			    (long long)e->length));
		TRY(tr_buf_addc(out, '}'));
		n++;
	}
	return n ? tr_buf_addc(out, ']') : 0;
}

static int
json_tags(struct tr_buf *out, const struct tr_item *it)
{
	size_t i, n = 0;
	int rc;

	for (i = 0; i < it->a.n_categories; i++) {
		if (!render_has_text(it->a.categories[i]))
			continue;
		TRY(tr_buf_adds(out, n ? "," : ",\"tags\":["));
		TRY(tr_escape_json(out, it->a.categories[i]));
		n++;
	}
	return n ? tr_buf_addc(out, ']') : 0;
}

static int
json_summary(struct tr_render *r, const char *html)
{
	int rc;

	if (html == NULL)
		return 0;
	tr_buf_reset(&r->scratch);
	TRY(tr_escape_html_text(&r->scratch, html, SUMMARY_CHARS));
	if (r->scratch.len == 0)
		return 0;
	return json_member(r->out, "summary", r->scratch.data, 0);
}

static int
json_item(struct tr_render *r, const struct tr_item *it)
{
	struct tr_buf *out = r->out;
	const char *html = it->a.content ? it->a.content : it->a.summary;
	int rc;

	TRY(tr_buf_adds(out, r->n_items ? ",\n{" : "\n{"));
	TRY(json_member(out, "id", it->a.id ? it->a.id
			    : it->a.link ? it->a.link : "", 1));
	TRY(json_member(out, "url", it->a.link, 0));
	TRY(json_member(out, "title", it->a.title, 0));
	TRY(json_member(out, "content_html", html ? html : "", 0));
	TRY(json_summary(r, it->a.summary));
	TRY(json_date(out, "date_published",
	    render_item_published(it, TR_DATE_NONE)));
	TRY(json_date(out, "date_modified", it->a.updated));
	TRY(json_authors(out, it));
	TRY(json_tags(out, it));
	TRY(json_attachments(out, it));
	TRY(tr_buf_adds(out, ",\"_source\":{"));
	TRY(json_member(out, "title", render_feed_title(it), 1));
	TRY(json_member(out, "name", it->feed_name, 0));
	TRY(json_member(out, "feed_url", it->feed_url, 0));
	TRY(json_member(out, "home_page_url", it->feed_link, 0));
	return tr_buf_adds(out, "}}");
}

static int
json_end(struct tr_render *r, const char *next_url)
{
	int rc;

	TRY(tr_buf_adds(r->out, r->n_items ? "\n]" : "]"));
	TRY(json_member(r->out, "next_url", next_url, 0));
	return tr_buf_adds(r->out, "}\n");
}

const struct render_ops render_json_ops = {json_begin, json_item, json_end};
