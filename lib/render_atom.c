/*
 * render_atom.c — the merged feed as Atom 1.0 (RFC 4287).
 *
 * Every entry carries an author (RFC 4287 §4.1.1: the feed has none, so
 * each entry needs one; the source feed's title stands in when the
 * article names nobody), an updated date (§4.1.2), and an atom:source
 * naming the feed it came from (§4.2.11). Content and summary are
 * type="html", escaped as text (§3.1.1.2), never CDATA.
 */
#include <string.h>

#include "render_int.h"
#include "tributary/escape.h"

#define ATOM_NS "http://www.w3.org/2005/Atom"

static int
atom_begin(struct tr_render *r, const struct tr_render_doc *doc)
{
	struct tr_buf *out = r->out;
	const char *id = doc->id ? doc->id : doc->self_url;
	int rc;

	TRY(tr_buf_adds(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"));
	TRY(render_stylesheet_pi(out, doc->stylesheet));
	TRY(tr_buf_adds(out, "<feed xmlns=\"" ATOM_NS "\" xmlns:media=\""
			     "http://search.yahoo.com/mrss/\">\n"));
	TRY(render_elem(out, "  ", "id", id ? id : "urn:tributary:feed"));
	TRY(render_elem(out, "  ", "title", doc->title ? doc->title : ""));
	TRY(render_elem(out, "  ", "subtitle", doc->subtitle));
	TRY(render_date_elem(out, "  ", "updated", r->updated, 0));
	if (doc->self_url) {
		TRY(tr_buf_adds(out, "  <link rel=\"self\" "
				     "type=\"application/atom+xml\""));
		TRY(render_attr(out, "href", doc->self_url));
		TRY(tr_buf_adds(out, "/>\n"));
	}
	if (doc->home_url) {
		TRY(tr_buf_adds(out, "  <link rel=\"alternate\" "
				     "type=\"text/html\""));
		TRY(render_attr(out, "href", doc->home_url));
		TRY(tr_buf_adds(out, "/>\n"));
	}
	TRY(tr_buf_adds(out, "  <generator uri=\"" RENDER_GENERATOR_URI
			     "\" version=\"" TR_VERSION "\">" RENDER_GENERATOR
			     "</generator>\n"));
	/* Feed metadata must precede the entries (RFC 4287 §4.1.1): the
	 * RFC 5005 next link is inserted here by atom_end(). */
	r->head_end = out->len;
	if (doc->next_url) {
		TRY(render_insert_link(r, "  <link rel=\"next\" "
					  "type=\"application/atom+xml\"",
		    doc->next_url));
		r->next_done = 1;
	}
	return 0;
}

/*
 * The entry's atom:id. The origin id is kept when it is an IRI (§4.2.6);
 * an RSS guid such as "1234" is not, and becomes
 * urn:tributary:FEED:GUID (percent-encoded) so it stays unique across
 * feeds.
 */
static int
atom_id(struct tr_buf *out, const struct tr_item *it)
{
	const char *id = it->a.id ? it->a.id : it->a.link;
	int rc;

	TRY(tr_buf_adds(out, "    <id>"));
	if (id && render_is_uri(id)) {
		TRY(tr_escape_xml(out, id));
	} else {
		TRY(tr_buf_adds(out, "urn:tributary:"));
		TRY(render_pct_encode(out, it->feed_name ? it->feed_name : ""));
		TRY(tr_buf_addc(out, ':'));
		TRY(render_pct_encode(out, id ? id : ""));
	}
	return tr_buf_adds(out, "</id>\n");
}

static int
atom_person(struct tr_buf *out, const char *name, const char *email,
    const char *uri)
{
	int rc;

	TRY(tr_buf_adds(out, "    <author>\n"));
	TRY(render_elem(out, "      ", "name", name));
	/* atomEmailAddress is ".+@.+" in the RFC's schema (appendix B). */
	if (email && strchr(email, '@') && email[0] != '@' &&
	    email[strlen(email) - 1] != '@')
		TRY(render_elem(out, "      ", "email", email));
	if (render_is_uri(uri))
		TRY(render_elem(out, "      ", "uri", uri));
	return tr_buf_adds(out, "    </author>\n");
}

static int
atom_authors(struct tr_buf *out, const struct tr_item *it)
{
	const struct tr_person *p;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < it->a.n_authors; i++) {
		const char *name;

		p = &it->a.authors[i];
		name = render_has_text(p->name) ? p->name
		    : render_has_text(p->email) ? p->email
		    : p->uri;
		if (!render_has_text(name))
			continue;
		TRY(atom_person(out, name, p->email, p->uri));
		n++;
	}
	if (n == 0 && render_has_text(it->a.author))
		return atom_person(out, it->a.author, NULL, NULL);
	if (n == 0)
		return atom_person(out, render_feed_title(it), NULL,
		    it->feed_link);
	return 0;
}

static int
atom_links(struct tr_buf *out, const struct tr_item *it)
{
	const struct tr_enclosure *e;
	size_t i;
	int rc;

	if (it->a.link) {
		TRY(tr_buf_adds(out, "    <link rel=\"alternate\""));
		TRY(render_attr(out, "href", it->a.link));
		TRY(tr_buf_adds(out, "/>\n"));
	}
	for (i = 0; i < it->a.n_enclosures; i++) {
		e = &it->a.enclosures[i];
		if (e->url == NULL)
			continue;
		TRY(tr_buf_adds(out, "    <link rel=\"enclosure\""));
		TRY(render_attr(out, "href", e->url));
		if (render_is_mime(e->type))
			TRY(render_attr(out, "type", e->type));
		if (e->length >= 0)
			TRY(tr_buf_printf(out, " length=\"%lld\"",
			    (long long)e->length));
		TRY(tr_buf_adds(out, "/>\n"));
	}
	return 0;
}

/* atom:source (§4.2.11): the feed of the merged view that carried it. */
static int
atom_source(struct tr_buf *out, const struct tr_item *it, int64_t updated)
{
	int rc;

	TRY(tr_buf_adds(out, "    <source>\n"));
	if (render_is_uri(it->feed_url))
		TRY(render_elem(out, "      ", "id", it->feed_url));
	TRY(render_elem(out, "      ", "title", render_feed_title(it)));
	if (it->feed_url) {
		TRY(tr_buf_adds(out, "      <link rel=\"self\""));
		TRY(render_attr(out, "href", it->feed_url));
		TRY(tr_buf_adds(out, "/>\n"));
	}
	if (it->feed_link) {
		TRY(tr_buf_adds(out, "      <link rel=\"alternate\""));
		TRY(render_attr(out, "href", it->feed_link));
		TRY(tr_buf_adds(out, "/>\n"));
	}
	TRY(render_date_elem(out, "      ", "updated", updated, 0));
	return tr_buf_adds(out, "    </source>\n");
}

static int
atom_text(struct tr_buf *out, const char *name, const char *html)
{
	int rc;

	TRY(tr_buf_printf(out, "    <%s type=\"html\">", name));
	TRY(tr_escape_xml(out, html ? html : ""));
	return tr_buf_printf(out, "</%s>\n", name);
}

static int
atom_item(struct tr_render *r, const struct tr_item *it)
{
	struct tr_buf *out = r->out;
	int64_t updated = render_item_updated(it, r->updated);
	char buf[RENDER_TITLE_BUF];
	const char *title = render_item_title(it, buf, sizeof(buf));
	size_t i;
	int rc;

	TRY(tr_buf_adds(out, "  <entry>\n"));
	TRY(atom_id(out, it));
	/* Required (RFC 4287 §4.1.2): derived when the item has none. */
	TRY(render_elem(out, "    ", "title", title ? title : ""));
	TRY(render_date_elem(out, "    ", "updated", updated, 0));
	TRY(render_date_elem(out, "    ", "published", it->a.published, 0));
	TRY(atom_links(out, it));
	TRY(render_thumbnail(out, it));
	TRY(atom_authors(out, it));
	for (i = 0; i < it->a.n_categories; i++) {
		if (!render_has_text(it->a.categories[i]))
			continue;
		TRY(tr_buf_adds(out, "    <category"));
		TRY(render_attr(out, "term", it->a.categories[i]));
		TRY(tr_buf_adds(out, "/>\n"));
	}
	if (it->a.summary)
		TRY(atom_text(out, "summary", it->a.summary));
	/* An entry with no alternate link needs content (§4.1.1.1). */
	if (it->a.content || !it->a.link)
		TRY(atom_text(out, "content",
		    it->a.content ? it->a.content : it->a.summary));
	TRY(atom_source(out, it, updated));
	return tr_buf_adds(out, "  </entry>\n");
}

static int
atom_end(struct tr_render *r, const char *next_url)
{
	int rc;

	if (next_url && !r->next_done)
		TRY(render_insert_link(r, "  <link rel=\"next\" "
					  "type=\"application/atom+xml\"",
		    next_url));
	return tr_buf_adds(r->out, "</feed>\n");
}

const struct render_ops render_atom_ops = {atom_begin, atom_item, atom_end};
