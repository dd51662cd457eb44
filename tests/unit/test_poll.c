/* test_poll.c — the poller's pieces that need no network: outcome names
 * and the HTML sniffer behind "not a feed (text/html)". */
#include "runner.h"

#include "tributary/poll.h"

struct found {
	char urls[8][256];
	size_t n;
};

static void
collect(const char *url, void *arg)
{
	struct found *f = arg;

	if (f->n < 8)
		snprintf(f->urls[f->n++], sizeof(f->urls[0]), "%s", url);
}

static size_t
links(struct found *f, const char *html, size_t max)
{
	memset(f, 0, sizeof(*f));
	return tr_poll_html_feed_links(html, strlen(html),
	                               "https://example.org/blog/index.html",
	                               max, collect, f);
}

static void
test_alternate_links_found_and_resolved(void)
{
	struct found f;

	CHECK_INT(links(&f,
	                "<html><head>"
	                "<link rel=\"alternate\" type=\"application/rss+xml\" "
	                "href=\"/feed.xml\">"
	                "<link rel='alternate' type='application/atom+xml' "
	                "href='atom.xml?a=1&amp;b=2'>"
	                "</head></html>",
	                8),
	          2);
	CHECK_STR(f.urls[0], "https://example.org/feed.xml");
	CHECK_STR(f.urls[1], "https://example.org/blog/atom.xml?a=1&b=2");
}

static void
test_attribute_forms(void)
{
	struct found f;

	/* Upper case, unquoted values, extra rel tokens, parameters, self
	 * closing, attributes in any order. */
	CHECK_INT(
	    links(&f,
	          "<LINK HREF=//cdn.example.net/f.rss "
	          "TYPE=application/rss+xml REL=\"home alternate\"/>"
	          "<link\n\ttype=\"application/atom+xml; charset=utf-8\"\n"
	          "\trel=alternate href=\"https://other.example/a\" />",
	          8),
	    2);
	CHECK_STR(f.urls[0], "https://cdn.example.net/f.rss");
	CHECK_STR(f.urls[1], "https://other.example/a");
}

static void
test_non_feed_links_ignored(void)
{
	struct found f;

	CHECK_INT(
	    links(&f,
	          "<link rel=stylesheet type=text/css href=/s.css>"
	          "<link rel=alternate type=text/html hreflang=fr href=/fr>"
	          "<link rel=alternative type=application/rss+xml href=/x>"
	          "<link rel=alternate type=application/rss+xmlfoo href=/y>"
	          "<link rel=alternate href=/no-type>"
	          "<link rel=alternate type=application/rss+xml>"
	          "<linkage rel=alternate type=application/rss+xml "
	          "href=/z>",
	          8),
	    0);
}

static void
test_max_and_broken_input(void)
{
	struct found f;
	const char *cut = "<link rel=\"alternate\" type=\"application/rss+xml"
	                  "\" href=\"/fee";

	CHECK_INT(links(&f,
	                "<link rel=alternate type=application/rss+xml href=/1>"
	                "<link rel=alternate type=application/rss+xml href=/2>"
	                "<link rel=alternate type=application/rss+xml href=/3>",
	                2),
	          2);
	/* A tag cut at the end of the sniffed bytes is not taken: its href
	 * may be cut too. */
	CHECK_INT(links(&f, cut, 8), 0);
	CHECK_INT(links(&f, "<link", 8), 0);
	CHECK_INT(links(&f, "", 8), 0);
	CHECK_INT(links(&f,
	                "<link rel=alternate type='application/rss+xml' "
	                "href='\"",
	                8),
	          0);
}

static void
test_outcome_names(void)
{
	CHECK_STR(tr_poll_outcome_name(TR_POLL_OK), "ok");
	CHECK_STR(tr_poll_outcome_name(TR_POLL_UNCHANGED), "unchanged");
	CHECK_STR(tr_poll_outcome_name(TR_POLL_FAILED), "failed");
	CHECK_STR(tr_poll_outcome_name(TR_POLL_HELD), "held");
	CHECK_STR(tr_poll_outcome_name(TR_POLL_DISABLED), "disabled");
}

TR_TESTS(test_alternate_links_found_and_resolved, test_attribute_forms,
         test_non_feed_links_ignored, test_max_and_broken_input,
         test_outcome_names)
