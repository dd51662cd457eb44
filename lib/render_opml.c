/*
 * render_opml.c — the subscriptions as OPML 2.0 (http://opml.org/spec2.opml).
 *
 * One <outline type="rss"> per feed of feeds.conf, in the file's order:
 * text and title (the configured title, else the document's, else the
 * name), xmlUrl (the feed's public address: public_url, else the
 * effective URL after a permanent redirect when the store knows one, else
 * the URL, without user, password or secret query parameters; a feed
 * marked private is left out), htmlUrl (the site link the store saw) and category
 * from the feed's tags, as OPML 2.0's comma-separated "/tag" paths.
 * tributary:name (namespace TR_OPML_NS) carries the feed's name, so that
 * "tributary opml import" gives the feed back its name: export, then
 * import, gives the same sections (names, URLs, titles, tags).
 */
#include <stdlib.h>
#include <string.h>

#include "render_int.h"
#include "tributary/date.h"
#include "tributary/error.h"
#include "tributary/escape.h"
#include "tributary/opml.h"

static int
opml_category(struct tr_buf *out, const struct tr_feed_conf *f)
{
	size_t i;
	int rc;

	if (f->n_tags == 0)
		return 0;
	TRY(tr_buf_adds(out, " category=\""));
	for (i = 0; i < f->n_tags; i++) {
		TRY(tr_buf_adds(out, i ? ",/" : "/"));
		TRY(tr_escape_xml(out, f->tags[i]));
	}
	return tr_buf_addc(out, '"');
}

static int
opml_outline(struct tr_buf *out, const struct tr_feed_conf *f,
    const struct tr_feed_state *fs)
{
	const char *title = f->title, *site = NULL;
	char *url = NULL;
	int rc;

	if (fs) {
		if (title == NULL && fs->title && *fs->title)
			title = fs->title;
		site = fs->site_link;
	}
	/* Never the configured URL itself: it may carry a secret. */
	url = tr_config_public_url(f, fs ? fs->effective_url : NULL);
	if (url == NULL) /* private, or nothing of it may be shown */
		return 0;
	if (title == NULL || *title == '\0')
		title = f->name;
	if ((rc = tr_buf_adds(out, "    <outline type=\"rss\"")) != 0 ||
	    (rc = render_attr(out, "text", title)) != 0 ||
	    (rc = render_attr(out, "title", title)) != 0 ||
	    (rc = render_attr(out, "xmlUrl", url)) != 0 ||
	    (rc = render_attr(out, "tributary:name", f->name)) != 0 ||
	    (site && *site && (rc = render_attr(out, "htmlUrl", site)) != 0) ||
	    (rc = opml_category(out, f)) != 0)
		goto out;
	rc = tr_buf_adds(out, "/>\n");
out:
	free(url);
	return rc;
}

int
tr_render_opml(struct tr_buf *out, const struct tr_config *cfg,
    struct tr_store *st)
{
	struct tr_feed_state fs;
	int64_t gen = 0, changed = 0;
	char d[64];
	size_t i;
	int rc, have;

	TRY(tr_buf_adds(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
			     "<opml version=\"2.0\" xmlns:tributary=\""
			     TR_OPML_NS "\">\n  <head>\n"));
	TRY(render_elem(out, "    ", "title",
	    cfg->title ? cfg->title : "tributary"));
	/* The store's last change, not the clock: the same subscriptions
	 * give the same bytes, as a strong ETag promises. */
	if (st && tr_store_generation(st, &gen, &changed) == 0 &&
	    render_date_ok(changed) && changed > 0) {
		tr_date_format_rfc822(d, sizeof(d), changed);
		TRY(render_elem(out, "    ", "dateModified", d));
	}
	TRY(tr_buf_adds(out, "    <docs>http://opml.org/spec2.opml</docs>\n"
			     "  </head>\n  <body>\n"));
	for (i = 0; i < cfg->n_feeds; i++) {
		memset(&fs, 0, sizeof(fs));
		have = st &&
		    tr_store_feed_get(st, &fs, cfg->feeds[i].name) == 0;
		rc = opml_outline(out, &cfg->feeds[i], have ? &fs : NULL);
		if (have)
			tr_feed_state_free(&fs);
		if (rc != 0)
			return rc;
	}
	return tr_buf_adds(out, "  </body>\n</opml>\n");
}
