/*
 * render_json.c — the merged feed as JSON Feed 1.1
 * (https://www.jsonfeed.org/version/1.1/), written with the shared JSON
 * writer (json.h), whose state lives in the renderer between calls.
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
#include "tributary/json.h"

#define SUMMARY_CHARS 500

static int
json_date(struct tr_json *j, const char *key, int64_t t)
{
	char d[64];

	if (!render_date_ok(t))
		return 0;
	tr_date_format_rfc3339(d, sizeof(d), t);
	return tr_json_member_str(j, key, d);
}

static int
json_begin(struct tr_render *r, const struct tr_render_doc *doc)
{
	struct tr_json *j = &r->json;
	int rc;

	tr_json_init(j, r->out, 0);
	TRY(tr_json_begin_object(j));
	TRY(tr_json_member_str(j, "version",
	    "https://jsonfeed.org/version/1.1"));
	TRY(tr_json_member_str(j, "title", doc->title ? doc->title : ""));
	TRY(tr_json_member_str(j, "home_page_url", doc->home_url));
	TRY(tr_json_member_str(j, "feed_url", doc->self_url));
	TRY(tr_json_member_str(j, "description", doc->subtitle));
	TRY(tr_json_key(j, "items"));
	return tr_json_begin_array(j);
}

static int
json_authors(struct tr_json *j, const struct tr_item *it)
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
		if (n++ == 0) {
			TRY(tr_json_key(j, "authors"));
			TRY(tr_json_begin_array(j));
		}
		TRY(tr_json_begin_object(j));
		TRY(tr_json_member_str(j, "name",
		    render_has_text(p->name) ? p->name : NULL));
		TRY(tr_json_member_str(j, "url", url));
		TRY(tr_json_end_object(j));
	}
	if (n == 0 && render_has_text(it->a.author)) {
		TRY(tr_json_key(j, "authors"));
		TRY(tr_json_begin_array(j));
		TRY(tr_json_begin_object(j));
		TRY(tr_json_member_str(j, "name", it->a.author));
		TRY(tr_json_end_object(j));
		n++;
	}
	return n ? tr_json_end_array(j) : 0;
}

static int
json_attachments(struct tr_json *j, const struct tr_item *it)
{
	const struct tr_enclosure *e;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < it->a.n_enclosures; i++) {
		e = &it->a.enclosures[i];
		if (e->url == NULL)
			continue;
		if (n++ == 0) {
			TRY(tr_json_key(j, "attachments"));
			TRY(tr_json_begin_array(j));
		}
		TRY(tr_json_begin_object(j));
		TRY(tr_json_member_str(j, "url", e->url));
		TRY(tr_json_member_str(j, "mime_type", render_is_mime(e->type)
			? e->type
			: "application/octet-stream"));
		if (e->length >= 0)
			TRY(tr_json_member_int(j, "size_in_bytes", e->length));
		TRY(tr_json_end_object(j));
	}
	return n ? tr_json_end_array(j) : 0;
}

static int
json_tags(struct tr_json *j, const struct tr_item *it)
{
	size_t i, n = 0;
	int rc;

	for (i = 0; i < it->a.n_categories; i++) {
		if (!render_has_text(it->a.categories[i]))
			continue;
		if (n++ == 0) {
			TRY(tr_json_key(j, "tags"));
			TRY(tr_json_begin_array(j));
		}
		TRY(tr_json_string(j, it->a.categories[i]));
	}
	return n ? tr_json_end_array(j) : 0;
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
	return tr_json_member_str(&r->json, "summary", r->scratch.data);
}

static int
json_item(struct tr_render *r, const struct tr_item *it)
{
	struct tr_json *j = &r->json;
	const char *html = it->a.content ? it->a.content : it->a.summary;
	char buf[RENDER_TITLE_BUF];
	/* An item with no text at all is not published without a title. */
	const char *title = render_has_text(it->a.title) || html
	    ? it->a.title : render_item_title(it, buf, sizeof(buf));
	int rc;

	TRY(tr_json_begin_object(j));
	TRY(tr_json_member_str(j, "id", it->a.id ? it->a.id
				      : it->a.link ? it->a.link : ""));
	TRY(tr_json_member_str(j, "url", it->a.link));
	TRY(tr_json_member_str(j, "title", title));
	TRY(tr_json_member_str(j, "content_html", html ? html : ""));
	TRY(json_summary(r, it->a.summary));
	if (render_is_http_url(it->a.image))
		TRY(tr_json_member_str(j, "image", it->a.image));
	TRY(json_date(j, "date_published",
	    render_item_published(it, TR_DATE_NONE)));
	TRY(json_date(j, "date_modified", it->a.updated));
	TRY(json_authors(j, it));
	TRY(json_tags(j, it));
	TRY(json_attachments(j, it));
	TRY(tr_json_key(j, "_source"));
	TRY(tr_json_begin_object(j));
	TRY(tr_json_member_str(j, "title", render_feed_title(it)));
	TRY(tr_json_member_str(j, "name", it->feed_name));
	TRY(tr_json_member_str(j, "feed_url", it->feed_url));
	TRY(tr_json_member_str(j, "home_page_url", it->feed_link));
	TRY(tr_json_end_object(j));
	return tr_json_end_object(j);
}

static int
json_end(struct tr_render *r, const char *next_url)
{
	struct tr_json *j = &r->json;
	int rc;

	TRY(tr_json_end_array(j));
	TRY(tr_json_member_str(j, "next_url", next_url));
	TRY(tr_json_end_object(j));
	return tr_buf_addc(r->out, '\n');
}

const struct render_ops render_json_ops = {json_begin, json_item, json_end};
