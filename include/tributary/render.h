/*
 * render.h — the merged feed written out as Atom 1.0, RSS 2.0, JSON Feed
 * 1.1, OPML 2.0 or a small HTML page.
 *
 * Every renderer writes into a size-capped struct tr_buf and shares one
 * escaping layer, so any UTF-8 input (control characters and invalid
 * sequences included) comes out as a document a strict parser accepts.
 *
 *	tr_render_begin(&r, &out, TR_FMT_ATOM, &doc);
 *	tr_store_query(st, &q, tr_render_item_cb, r, &next);
 *	tr_render_end(r, next_url);
 *	tr_render_free(r);
 */
#ifndef TRIBUTARY_RENDER_H
#define TRIBUTARY_RENDER_H

#include <stdint.h>

#include "tributary/buf.h"
#include "tributary/config.h"
#include "tributary/store.h"

enum tr_format {
	TR_FMT_ATOM,
	TR_FMT_RSS,
	TR_FMT_JSON,
	TR_FMT_HTML,
	TR_FMT_OPML,
};

/* "atom", "rss", "json", "html", "opml" ↔ enum; -1 when unknown. */
int tr_format_from_name(const char *name);
const char *tr_format_name(enum tr_format f);

/* The Content-Type with charset, e.g. "application/atom+xml; charset=utf-8". */
const char *tr_format_content_type(enum tr_format f);

/* What a merged document says of itself. Strings are borrowed. */
struct tr_render_doc {
	const char *title;     /* "World news — tributary" */
	const char *subtitle;  /* or NULL */
	const char *id;	       /* stable feed id (a URL or tag: URI) */
	const char *self_url;  /* absolute URL of this document */
	const char *home_url;  /* absolute URL of the HTML page */
	int64_t updated;       /* the store's last change */
	/* The feeds' xml-stylesheet (Atom, RSS): absolute URL, or NULL. */
	const char *stylesheet;
	const struct tr_config *cfg; /* the config at hand, or NULL */
	/* Only the HTML page reads these; each may be NULL. */
	struct tr_store *st;	     /* feed states to list */
	const char *search;	     /* search form action; NULL: no form */
	const char *q;		     /* the search shown, or NULL */
	const char *notice;	     /* why the search was refused, or NULL */
	const char *tag, *feed;	     /* the page's scope, or NULL */
	/*
	 * Atom and RSS: the next page's URL when it is known before the
	 * items (a streamed document, see tr_render_drain()); the link
	 * then goes into the head at once and tr_render_end() writes none.
	 * Where it lands is where tr_render_end() would put it, so both
	 * ways give the same bytes. Other formats write it at the end.
	 */
	const char *next_url;
};

struct tr_render;

/* Starts a document of format fmt (not OPML) into out. */
int tr_render_begin(struct tr_render **r, struct tr_buf *out,
    enum tr_format fmt, const struct tr_render_doc *doc);

/*
 * Writes one item. Usable directly as a tr_item_cb (arg = the renderer).
 *
 * One article cannot swamp a document: a title is cut at
 * TR_RENDER_TITLE_MAX bytes, a content at TR_RENDER_TEXT_MAX, a summary
 * at TR_RENDER_SUMMARY_MAX next to a content or at TR_RENDER_TEXT_MAX
 * when it is the only text (cuts fall at a character and tag boundary),
 * and a cut text ends in a note that says so, with a link to the
 * original. Once the document passed TR_RENDER_PAGE_BUDGET bytes, texts
 * longer than TR_RENDER_SMALL_TEXT are left out: a note and the link
 * stand in. So a page stays near 1 MiB, renders in bounded time and
 * fits the endpoint's cache, whatever one publisher sends.
 */
#define TR_RENDER_TITLE_MAX 1024
#define TR_RENDER_SUMMARY_MAX (4 * 1024)
#define TR_RENDER_TEXT_MAX (32 * 1024)
#define TR_RENDER_PAGE_BUDGET (1024 * 1024)
#define TR_RENDER_SMALL_TEXT 1024
int tr_render_item(const struct tr_item *it, void *r);

/*
 * Ends the document. next_url, when not NULL, is the absolute URL of the
 * next page (RFC 5005 "next" link in Atom and RSS, "next_url" in JSON).
 */
int tr_render_end(struct tr_render *r, const char *next_url);

void tr_render_free(struct tr_render *r);

/*
 * Streaming: the caller wrote out the document's bytes so far (out from
 * where the document began) and has the renderer drop them from out.
 * The page budget still counts them, so a document written in pieces
 * is the same bytes as one built whole; a next link for Atom or RSS must
 * then come as doc->next_url (the head is gone).
 */
void tr_render_drain(struct tr_render *r);

/* OPML 2.0 of the subscriptions in cfg, with site links from the store
 * (st may be NULL). */
int tr_render_opml(struct tr_buf *out, const struct tr_config *cfg,
    struct tr_store *st);

/*
 * The XSLT 1.0 stylesheet that Atom and RSS documents with a stylesheet
 * URL name (the endpoint serves it at /feed.xsl): a browser that opens
 * the feed shows it as a page with a hint to copy its URL into a feed
 * reader. Appends it to out: 0, TR_ENOMEM or TR_ETOOBIG.
 */
int tr_render_feed_xsl(struct tr_buf *out);

/*
 * The endpoint's path of a merged document, appended to out:
 * "/feed.atom", "/tags/TAG.rss", "/feeds/NAME.json" (tag and feed
 * percent-encoded; at most one of them non-NULL), "/feeds.opml" for
 * OPML, "/" for the HTML page and "/tags/TAG.html", "/feeds/NAME.html"
 * for a scoped one.
 */
int tr_render_path(struct tr_buf *out, enum tr_format fmt, const char *tag,
    const char *feed);

/*
 * The public base URL of the endpoint, appended to out without a
 * trailing slash: cfg->base_url when set, else "http://" + cfg->listen.
 */
int tr_render_base_url(struct tr_buf *out, const struct tr_config *cfg);

#endif
