/*
 * opml.h — importing subscriptions from an OPML file (OPML 1.0 and 2.0,
 * as feed readers export them).
 *
 * The document is parsed with expat as it is fed, chunk by chunk; nothing
 * holds the whole file. Every <outline> with an xmlUrl is a subscription,
 * at any depth. Its tags are the text of the enclosing folder outlines
 * plus the components of its category attribute ("/News/World,Tech" gives
 * News, World and Tech). Its feeds.conf name is its tributary:name
 * attribute (what tributary's OPML export writes) when that is a valid
 * name, else derived from its title (else its URL's host); either is
 * made unique among the names already taken. A title equal to the
 * tributary:name is no title (export writes the name when a feed has
 * none).
 *
 *	tr_opml_new(&op, on_feed, arg);
 *	tr_opml_reserve(op, "lwn", "https://lwn.net/headlines/rss");
 *	while ((n = read(fd, buf, sizeof(buf))) > 0)
 *		tr_opml_parse(op, buf, n, 0);
 *	tr_opml_parse(op, NULL, 0, 1);
 *	tr_opml_free(op);
 */
#ifndef TRIBUTARY_OPML_H
#define TRIBUTARY_OPML_H

#include <stddef.h>

#include "tributary/buf.h"

/*
 * One subscription, ready for feeds.conf: every string is one line of
 * valid UTF-8 short enough for the config reader's line limit. Borrowed
 * for the duration of the callback.
 */
/*
 * The namespace of tributary's own outline attribute: tributary:name, the
 * feed's name in feeds.conf, which OPML export writes and import takes
 * (when it is a valid name) instead of deriving one from the title.
 */
#define TR_OPML_NS "https://tributary.dev/ns/opml"

struct tr_opml_feed {
	const char *name;	 /* unique, [A-Za-z0-9._-] */
	const char *url;	 /* http(s) URL, as written but trimmed */
	const char *title;	 /* the outline's text or title, or NULL */
	const char *html_url;	 /* the site (htmlUrl), or NULL */
	const char *const *tags; /* folder names and categories, unique */
	size_t n_tags;
	unsigned long line;	 /* the outline's line in the document */
};

/* Called per new subscription; a non-zero return stops the parse and is
 * returned by tr_opml_parse(). */
typedef int (*tr_opml_cb)(const struct tr_opml_feed *f, void *arg);

struct tr_opml;

/* A new importer calling cb for each subscription. 0 or TR_ENOMEM. */
int tr_opml_new(struct tr_opml **out, tr_opml_cb cb, void *arg);

/*
 * Marks a feed name and/or URL (either may be NULL) as taken, for
 * subscriptions already in feeds.conf: an outline whose URL is taken is
 * skipped, and derived names avoid taken ones. Call before parsing.
 */
int tr_opml_reserve(struct tr_opml *op, const char *name, const char *url);

/*
 * Feeds len bytes of the document; final is non-zero on the last call
 * (data may then be NULL). Returns 0, TR_EPARSE when the document is not
 * well-formed XML or not OPML (tr_opml_errmsg() says where and why),
 * TR_ETOOBIG past the importer's limits, TR_ENOMEM, or the callback's
 * non-zero return.
 */
int tr_opml_parse(struct tr_opml *op, const char *data, size_t len,
    int final);

/* Why the last call failed ("line 3, column 7: mismatched tag"). */
const char *tr_opml_errmsg(const struct tr_opml *op);

/*
 * Counts so far: subscriptions handed to the callback, and outlines with
 * an xmlUrl that were skipped (duplicate or taken URL, unusable URL; each
 * skip is logged at WARN with its line).
 */
void tr_opml_counts(const struct tr_opml *op, size_t *found,
    size_t *skipped);

void tr_opml_free(struct tr_opml *op);

/*
 * Appends f as a feeds.conf section:
 *
 *	[feed "NAME"]
 *	url = URL
 *	title = TITLE
 *	tags = TAG, TAG
 *
 * followed by an empty line. 0, TR_ENOMEM or TR_ETOOBIG.
 */
int tr_opml_format(struct tr_buf *out, const struct tr_opml_feed *f);

#endif
