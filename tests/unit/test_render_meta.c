/*
 * test_render_meta.c — what the merged feed writes for items the source
 * left thin: the title of an item without one (its summary's text, its
 * content's, its link), in each format, and no empty elements for an
 * item that has neither title nor text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render_int.h"
#include "runner.h"
#include "tributary/article.h"
#include "tributary/buf.h"
#include "tributary/render.h"

static const struct tr_render_doc doc = {
    .title = "Merged",
    .self_url = "http://127.0.0.1/feed",
    .updated = 1733650200,
};

static void
item(struct tr_item *it, const char *title, const char *summary,
     const char *content, const char *link)
{
	memset(it, 0, sizeof(*it));
	tr_article_init(&it->a);
	it->a.id = strdup("urn:x:1");
	it->a.title = title ? strdup(title) : NULL;
	it->a.summary = summary ? strdup(summary) : NULL;
	it->a.content = content ? strdup(content) : NULL;
	it->a.link = link ? strdup(link) : NULL;
	it->first_seen = it->sort_date = 1733650200;
	it->feed_name = "f";
}

static void
test_item_title(void)
{
	static const struct {
		const char *name, *title, *summary, *content, *link, *want;
	} cases[] = {
	    {"own title", "Hello", "<p>text</p>", NULL, "http://e.org/1",
	     "Hello"},
	    {"blank title: summary text", "  ", "<p>Ferry <b>times</b> "
	     "&amp; fares</p>", NULL, NULL, "Ferry times & fares"},
	    {"no title: summary text", NULL, "Short note.", NULL,
	     "http://e.org/1", "Short note."},
	    {"no summary text: content", NULL, "<img src=\"x.png\">",
	     "<p>From the content</p>", NULL, "From the content"},
	    {"long text cut with an ellipsis", NULL,
	     "one two three four five six seven eight nine ten eleven twelve "
	     "thirteen fourteen fifteen sixteen seventeen eighteen nineteen",
	     NULL, NULL, "one two three four five six seven eight nine ten "
	     "eleven twelve thirteen…"},
	    {"no text: link", NULL, NULL, NULL, "http://e.org/2",
	     "http://e.org/2"},
	    {"markup only: link", NULL, "<br/>", NULL, "http://e.org/3",
	     "http://e.org/3"},
	    {"nothing", NULL, NULL, NULL, NULL, NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tr_item it;
		char buf[RENDER_TITLE_BUF];

		item(&it, cases[i].title, cases[i].summary, cases[i].content,
		     cases[i].link);
		CHECK_STR_CASE(cases[i].name,
		               render_item_title(&it, buf, sizeof(buf)),
		               cases[i].want);
		tr_article_free(&it.a);
	}
}

static char *
render1(enum tr_format fmt, const struct tr_item *it)
{
	struct tr_render *r = NULL;
	struct tr_buf out;

	tr_buf_init(&out, 1 << 20);
	CHECK_INT(tr_render_begin(&r, &out, fmt, &doc), 0);
	CHECK_INT(tr_render_item(it, r), 0);
	CHECK_INT(tr_render_end(r, NULL), 0);
	tr_render_free(r);
	return tr_buf_detach(&out);
}

/* An item with a link only: a title from the link, no empty elements. */
static void
test_formats(void)
{
	static const struct {
		enum tr_format fmt;
		const char *want, *unwanted;
	} cases[] = {
	    {TR_FMT_ATOM, "<title>http://e.org/only-link</title>",
	     "<title></title>"},
	    {TR_FMT_RSS, "<title>http://e.org/only-link</title>",
	     "<description></description>"},
	    {TR_FMT_JSON, "\"title\":\"http://e.org/only-link\"",
	     "\"title\":\"\""},
	};
	struct tr_item it;
	size_t i;

	item(&it, NULL, NULL, NULL, "http://e.org/only-link");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *s = render1(cases[i].fmt, &it);

		CHECK(s && strstr(s, cases[i].want) != NULL);
		CHECK(s && strstr(s, cases[i].unwanted) == NULL);
		if (s && strstr(s, cases[i].want) == NULL)
			printf("  format %d: %s\n", (int)cases[i].fmt, s);
		free(s);
	}
	tr_article_free(&it.a);

	/* With a summary, RSS and JSON need no title: none is made up. */
	item(&it, NULL, "<p>Only a summary</p>", NULL, "http://e.org/s");
	{
		char *rss = render1(TR_FMT_RSS, &it);
		char *atom = render1(TR_FMT_ATOM, &it);

		/* The channel's title only. */
		CHECK(rss && strstr(rss, "<title>") &&
		      strstr(strstr(rss, "<title>") + 1, "<title>") == NULL);
		CHECK(atom && strstr(atom, "<title>Only a summary</title>"));
		free(rss);
		free(atom);
	}
	tr_article_free(&it.a);
}

/* The picture as media:thumbnail (Atom, RSS) and image (JSON Feed); an
 * address that is not http(s) is left out. */
static void
test_thumbnail(void)
{
	static const struct {
		enum tr_format fmt;
		const char *image, *want;
	} cases[] = {
	    {TR_FMT_ATOM, "https://e.org/t.jpg",
	     "<media:thumbnail url=\"https://e.org/t.jpg\"/>"},
	    {TR_FMT_RSS, "https://e.org/t.jpg?a=1&b=2",
	     "<media:thumbnail url=\"https://e.org/t.jpg?a=1&amp;b=2\"/>"},
	    {TR_FMT_JSON, "https://e.org/t.jpg",
	     "\"image\":\"https://e.org/t.jpg\""},
	    {TR_FMT_ATOM, "javascript:alert(1)", NULL},
	    {TR_FMT_JSON, "javascript:alert(1)", NULL},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tr_item it;
		char *s;

		item(&it, "T", "<p>x</p>", NULL, "http://e.org/1");
		it.a.image = strdup(cases[i].image);
		s = render1(cases[i].fmt, &it);
		if (cases[i].want)
			CHECK(s && strstr(s, cases[i].want) != NULL);
		else
			CHECK(s && strstr(s, "alert") == NULL);
		if (cases[i].fmt != TR_FMT_JSON)
			CHECK(s && strstr(s, "xmlns:media=\"http://search.yahoo"
			                     ".com/mrss/\"") != NULL);
		free(s);
		tr_article_free(&it.a);
	}
}

TR_TESTS(test_item_title, test_formats, test_thumbnail)
