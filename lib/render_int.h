/*
 * render_int.h — what the per-format renderers share inside lib/.
 *
 * render.c owns struct tr_render and dispatches tr_render_begin/item/end
 * to one struct render_ops per format (render_atom.c, render_rss.c,
 * render_json.c, render_html.c). The helpers below are the common bits:
 * dates with their fallbacks, authors, links that are safe to follow,
 * and inserting a "next" link into the feed head once the end is known.
 */
#ifndef TRIBUTARY_RENDER_INT_H
#define TRIBUTARY_RENDER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "tributary/json.h"
#include "tributary/render.h"

struct render_ops {
	int (*begin)(struct tr_render *r, const struct tr_render_doc *doc);
	int (*item)(struct tr_render *r, const struct tr_item *it);
	int (*end)(struct tr_render *r, const char *next_url);
};

struct tr_render {
	struct tr_buf *out;
	enum tr_format fmt;
	const struct render_ops *ops;
	int64_t updated;    /* the document's updated time */
	size_t head_end;    /* where a "next" link goes in the head */
	size_t start;	    /* out->len when the document began */
	size_t drained;	    /* bytes tr_render_drain() took from out */
	int next_done;	    /* the next link is in the head already */
	size_t n_items;
	char *home;	    /* base for page links (HTML), malloc'ed */
	struct tr_buf scratch; /* reused for excerpts, capped like out */
	struct tr_buf aside;   /* the HTML page's feed list, written last */
	const struct tr_config *cfg; /* doc->cfg: the config, or NULL */
	int searching;	       /* HTML: 1 the page shows a search's results,
				  2 a refused search (a notice says why) */
	struct tr_json json;   /* the JSON Feed writer's nesting state */
	int err;	    /* first error; once set, every call returns it */
};

extern const struct render_ops render_atom_ops;
extern const struct render_ops render_rss_ops;
extern const struct render_ops render_json_ops;
extern const struct render_ops render_html_ops;

/* The generator named in every document. */
#define RENDER_GENERATOR "tributary"
#define RENDER_GENERATOR_URI "https://tributary.dev"

/* Returns from the calling function when e fails (renderers chain many
 * small appends; each one can hit the buffer's cap). */
#define TRY(e)                                                                \
	do {                                                                  \
		if ((rc = (e)) != 0)                                          \
			return rc;                                            \
	} while (0)

/* Appends ' name="escaped value"' when value is not NULL. */
int render_attr(struct tr_buf *out, const char *name, const char *value);

/* Appends "<name>escaped text</name>" and a newline when text is not NULL. */
int render_elem(struct tr_buf *out, const char *indent, const char *name,
    const char *text);

/* Appends "<name>DATE</name>\n" with t as RFC 3339 (or RFC 822 with
 * rfc822 set); nothing when t is TR_DATE_NONE. */
int render_date_elem(struct tr_buf *out, const char *indent,
    const char *name, int64_t t, int rfc822);

/* Non-zero when t is a date the formats can write (years 1 to 9999). */
int render_date_ok(int64_t t);

/* The date an entry was last changed: updated, else published, else first
 * seen, else its sort date, else fallback. Never TR_DATE_NONE unless
 * fallback is. */
int64_t render_item_updated(const struct tr_item *it, int64_t fallback);

/* <media:thumbnail url="..."/> for an item's picture (an http(s) URL);
 * nothing without one. The root element declares the media prefix. */
int render_thumbnail(struct tr_buf *out, const struct tr_item *it);

/*
 * The title an item is published under: its own, else an excerpt of the
 * text of its summary or content (written into buf, size bytes; 512 is
 * enough), else its link; NULL when it has none of them.
 */
#define RENDER_TITLE_BUF 512
const char *render_item_title(const struct tr_item *it, char *buf,
    size_t size);

/* The date it was published: published, else updated, else fallback
 * (never the first-seen time: an undated item's date is not invented). */
int64_t render_item_published(const struct tr_item *it, int64_t fallback);

/* The source feed's display name: its title, else its name, else "". */
const char *render_feed_title(const struct tr_item *it);

/* Non-zero when s has something visible: a character that is not white
 * space or a control (names and terms made only of those are skipped). */
int render_has_text(const char *s);

/* Non-zero when s is an absolute http or https URL. */
int render_is_http_url(const char *s);

/* Non-zero when s looks like an absolute URI (scheme ":" rest, with no
 * white space or characters RFC 3987 excludes). */
int render_is_uri(const char *s);

/* Non-zero when s looks like a MIME type ("type/subtype"). */
int render_is_mime(const char *s);

/*
 * Inserts text at offset at of out (at <= out->len), shifting the rest:
 * used to put the RFC 5005 "next" link into the head of a document whose
 * entries were already written. TR_ETOOBIG past the buffer's cap.
 */
int render_insert(struct tr_buf *out, size_t at, const char *text,
    size_t n);

/*
 * Inserts start + ' href="href"/>' + newline at r->head_end: the RFC 5005
 * next link, which belongs in the head but is known only at the end.
 */
int render_insert_link(struct tr_render *r, const char *start,
    const char *href);

/* Appends <?xml-stylesheet type="text/xsl" href="href"?> and a newline;
 * nothing when href is NULL. */
int render_stylesheet_pi(struct tr_buf *out, const char *href);

/* Appends s percent-encoded for a URL path segment (RFC 3986 unreserved
 * characters kept). */
int render_pct_encode(struct tr_buf *out, const char *s);

#endif
