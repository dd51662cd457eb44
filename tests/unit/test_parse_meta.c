/*
 * test_parse_meta.c — the parser's reading of metadata, one table of
 * cases per behaviour: authors, podcast fallbacks, ids, links, enclosures
 * and thumbnails, feed dates, relative references without a base, and the
 * per-item caps on categories and enclosures.
 *
 * Each case is a small document, the item it looks at (-1: the feed), a
 * field name and the value wanted, as a string (see field()). Every
 * document is also parsed split at every byte offset elsewhere
 * (test_parse.c reads the realistic fixtures in tests/data/parse); here
 * the cases are parsed whole and also through the repairing cleaner
 * (always_clean), which must give the same result.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runner.h"
#include "tributary/article.h"
#include "tributary/buf.h"
#include "tributary/date.h"
#include "tributary/error.h"
#include "tributary/parse.h"

#define MAX_ITEMS 8

struct got {
	struct tr_article items[MAX_ITEMS];
	size_t n;
	struct tr_feed_meta meta;
	struct tr_buf warnings; /* one per line */
	int bozo;
};

static int
on_item(const struct tr_article *a, void *arg)
{
	struct got *g = arg;

	if (g->n < MAX_ITEMS)
		CHECK_INT(tr_article_copy(&g->items[g->n], a), 0);
	g->n++;
	return 0;
}

static char *
dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Parses doc (whole) into g; base may be NULL. */
static void
parse_doc(struct got *g, const char *doc, const char *base, int clean)
{
	struct tr_parse_opts o = {.base_url = base, .always_clean = clean};
	struct tr_parser *p = NULL;
	const struct tr_feed_meta *m;
	size_t i;

	memset(g, 0, sizeof(*g));
	tr_buf_init(&g->warnings, 1 << 20);
	tr_feed_meta_init(&g->meta);
	CHECK_INT(tr_parser_new(&p, &o, on_item, g), 0);
	if (p == NULL)
		return;
	tr_parser_feed(p, doc, strlen(doc));
	tr_parser_finish(p);
	m = tr_parser_meta(p);
	g->meta.title = dup_or_null(m->title);
	g->meta.link = dup_or_null(m->link);
	g->meta.id = dup_or_null(m->id);
	g->meta.author = dup_or_null(m->author);
	g->meta.subtitle = dup_or_null(m->subtitle);
	g->meta.updated = m->updated;
	for (i = 0; i < tr_parser_nwarnings(p); i++) {
		tr_buf_adds(&g->warnings, tr_parser_warning(p, i));
		tr_buf_addc(&g->warnings, '\n');
	}
	g->bozo = tr_parser_bozo(p);
	tr_parser_free(p);
}

static void
got_free(struct got *g)
{
	size_t i;

	for (i = 0; i < g->n && i < MAX_ITEMS; i++)
		tr_article_free(&g->items[i]);
	tr_feed_meta_free(&g->meta);
	tr_buf_free(&g->warnings);
}

static void
add_date(struct tr_buf *b, int64_t t)
{
	char d[40];

	if (t == TR_DATE_NONE) {
		tr_buf_adds(b, "none");
		return;
	}
	tr_date_format_rfc3339(d, sizeof(d), t);
	tr_buf_adds(b, d);
}

/*
 * One field as a string, into b: "id", "guid", "link", "title", "author",
 * "authors" (name<email> each, "|" between), "summary", "categories" ("|"
 * between), "enclosures" (url;type;length each, "|" between), "image",
 * "ncategories", "nenclosures"; for the feed (item -1) "feed.title",
 * "feed.link", "feed.id", "feed.author", "feed.subtitle",
 * "feed.updated"; "warnings" is every warning, "items" the item count.
 * An absent string is "(null)".
 */
static void
field(struct tr_buf *b, const struct got *g, int item, const char *name)
{
	const struct tr_article *a =
	    item >= 0 && (size_t)item < g->n ? &g->items[item] : NULL;
	const char *s = NULL;
	size_t i;

	tr_buf_reset(b);
	if (strcmp(name, "items") == 0) {
		tr_buf_printf(b, "%zu", g->n);
		return;
	}
	if (strcmp(name, "warnings") == 0) {
		tr_buf_adds(b, g->warnings.data ? g->warnings.data : "");
		return;
	}
	if (strncmp(name, "feed.", 5) == 0) {
		const struct tr_feed_meta *m = &g->meta;

		name += 5;
		if (strcmp(name, "updated") == 0) {
			add_date(b, m->updated);
			return;
		}
		s = strcmp(name, "title") == 0    ? m->title
		    : strcmp(name, "link") == 0   ? m->link
		    : strcmp(name, "id") == 0     ? m->id
		    : strcmp(name, "author") == 0 ? m->author
		                                  : m->subtitle;
		tr_buf_adds(b, s ? s : "(null)");
		return;
	}
	if (a == NULL) {
		tr_buf_adds(b, "(no such item)");
		return;
	}
	if (strcmp(name, "authors") == 0) {
		for (i = 0; i < a->n_authors; i++)
			tr_buf_printf(b, "%s%s<%s>", i ? "|" : "",
			              a->authors[i].name ? a->authors[i].name
			                                 : "",
			              a->authors[i].email ? a->authors[i].email
			                                  : "");
		return;
	}
	if (strcmp(name, "categories") == 0) {
		for (i = 0; i < a->n_categories; i++)
			tr_buf_printf(b, "%s%s", i ? "|" : "",
			              a->categories[i]);
		return;
	}
	if (strcmp(name, "enclosures") == 0) {
		for (i = 0; i < a->n_enclosures; i++)
			tr_buf_printf(b, "%s%s;%s;%lld", i ? "|" : "",
			              a->enclosures[i].url,
			              a->enclosures[i].type
			                  ? a->enclosures[i].type
			                  : "",
			              (long long)a->enclosures[i].length);
		return;
	}
	if (strcmp(name, "published") == 0 || strcmp(name, "updated") == 0) {
		add_date(b, name[0] == 'p' ? a->published : a->updated);
		return;
	}
	if (strcmp(name, "ncategories") == 0) {
		tr_buf_printf(b, "%zu", a->n_categories);
		return;
	}
	if (strcmp(name, "nenclosures") == 0) {
		tr_buf_printf(b, "%zu", a->n_enclosures);
		return;
	}
	s = strcmp(name, "id") == 0        ? a->id
	    : strcmp(name, "guid") == 0    ? a->guid
	    : strcmp(name, "link") == 0    ? a->link
	    : strcmp(name, "title") == 0   ? a->title
	    : strcmp(name, "author") == 0  ? a->author
	    : strcmp(name, "summary") == 0 ? a->summary
	    : strcmp(name, "content") == 0 ? a->content
	    : strcmp(name, "image") == 0   ? a->image
	                                   : "(unknown field)";
	tr_buf_adds(b, s ? s : "(null)");
}

struct meta_case {
	const char *name;
	const char *doc;
	const char *base; /* base URL, or NULL */
	int item;	  /* -1: the feed */
	const char *field;
	const char *want;
	int contains; /* want is a substring of the value */
};

/* Runs a table: each document whole, and again through the cleaner. */
static void
run_cases(const struct meta_case *c, size_t n)
{
	struct tr_buf b;
	size_t i;
	int clean;

	tr_buf_init(&b, 1 << 20);
	for (i = 0; i < n; i++)
		for (clean = 0; clean < 2; clean++) {
			struct got g;
			char name[200];

			parse_doc(&g, c[i].doc, c[i].base, clean);
			field(&b, &g, c[i].item, c[i].field);
			snprintf(name, sizeof(name), "%s%s", c[i].name,
			         clean ? " (cleaner)" : "");
			if (c[i].contains) {
				if (strstr(tr_buf_str(&b), c[i].want) == NULL)
					CHECK_STR_CASE(name, tr_buf_str(&b),
					               c[i].want);
			} else
				CHECK_STR_CASE(name, tr_buf_str(&b), c[i].want);
			got_free(&g);
		}
	tr_buf_free(&b);
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define RSS(channel, items)                                                   \
	"<?xml version=\"1.0\"?>\n<rss version=\"2.0\""                       \
	" xmlns:dc=\"http://purl.org/dc/elements/1.1/\""                      \
	" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\""        \
	" xmlns:media=\"http://search.yahoo.com/mrss/\""                      \
	" xmlns:atom=\"http://www.w3.org/2005/Atom\">"                        \
	"<channel><title>T</title>" channel items "</channel></rss>"
#define ATOM(feed)                                                            \
	"<?xml version=\"1.0\"?>\n"                                           \
	"<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title>" feed   \
	"</feed>"

/* --- authors --------------------------------------------------------------- */

static void
test_authors(void)
{
	static const struct meta_case cases[] = {
	    {"email (Name)",
	     RSS("", "<item><author>jo@example.com (Jo Doe)</author></item>"),
	     NULL, 0, "authors", "Jo Doe<jo@example.com>", 0},
	    {"Name (email)",
	     RSS("", "<item><author>Jo Doe (jo@example.com)</author></item>"),
	     NULL, 0, "authors", "Jo Doe<jo@example.com>", 0},
	    {"Name <email>",
	     RSS("",
	         "<item><author>Jo Doe &lt;jo@example.com&gt;</author></item>"),
	     NULL, 0, "authors", "Jo Doe<jo@example.com>", 0},
	    {"Name (role) is a name",
	     RSS("", "<item><author>Jo Doe (editor)</author></item>"), NULL, 0,
	     "authors", "Jo Doe (editor)<>", 0},
	    {"bare address",
	     RSS("", "<item><author>jo@example.com</author></item>"), NULL, 0,
	     "authors", "<jo@example.com>", 0},
	    {"quoted name <email>",
	     RSS("", "<item><author>\"Doe, John\" &lt;jd@example.com&gt;"
	             "</author></item>"),
	     NULL, 0, "authors", "Doe, John<jd@example.com>", 0},
	    {"quoted name with a quoted-pair",
	     RSS("", "<item><dc:creator>\"Jo \\\"JD\\\" Doe\"</dc:creator>"
	             "</item>"),
	     NULL, 0, "authors", "Jo \"JD\" Doe<>", 0},
	    {"a handle is a name, not an address",
	     RSS("", "<item><dc:creator>@jack</dc:creator></item>"), NULL, 0,
	     "authors", "@jack<>", 0},
	    {"Name (handle) is a name",
	     RSS("", "<item><dc:creator>Jane Doe (@jane)</dc:creator></item>"),
	     NULL, 0, "authors", "Jane Doe (@jane)<>", 0},
	    {"an address needs a domain",
	     RSS("", "<item><author>jo@ (Jo)</author></item>"), NULL, 0,
	     "authors", "jo@ (Jo)<>", 0},
	    {"mailto: address",
	     RSS("", "<item><author>Jo &lt;mailto:jo@example.com&gt;</author>"
	             "</item>"),
	     NULL, 0, "authors", "Jo<jo@example.com>", 0},
	    {"dc:creator Name (email)",
	     RSS("", "<item><dc:creator>Jo Doe (jo@example.com)</dc:creator>"
	             "</item>"),
	     NULL, 0, "authors", "Jo Doe<jo@example.com>", 0},
	    {"dc:creator email (Name)",
	     RSS("", "<item><dc:creator>jo@example.com (Jo Doe)</dc:creator>"
	             "</item>"),
	     NULL, 0, "author", "Jo Doe", 0},
	    {"dc:author like dc:creator",
	     RSS("", "<item><dc:author>Ann Lee</dc:author></item>"), NULL, 0,
	     "author", "Ann Lee", 0},
	    {"managingEditor Name (email)",
	     RSS("<managingEditor>Ed Itor (ed@example.com)</managingEditor>",
	         ""),
	     NULL, -1, "feed.author", "Ed Itor", 0},
	    {"channel author",
	     RSS("<author>Chan Nel</author>", "<item><title>x</title></item>"),
	     NULL, -1, "feed.author", "Chan Nel", 0},
	    {"channel dc:author",
	     RSS("<dc:author>Chan Nel</dc:author>", ""), NULL, -1,
	     "feed.author", "Chan Nel", 0},
	    {"channel itunes:author",
	     RSS("<itunes:author>Pod Caster</itunes:author>", ""), NULL, -1,
	     "feed.author", "Pod Caster", 0},
	    {"channel author wins over itunes:author",
	     RSS("<itunes:author>Pod</itunes:author><author>Real</author>", ""),
	     NULL, -1, "feed.author", "Real", 0},
	    {"item takes the channel's author",
	     RSS("<managingEditor>ed@example.com (Ed Itor)</managingEditor>",
	         "<item><title>x</title></item>"),
	     NULL, 0, "authors", "Ed Itor<ed@example.com>", 0},
	    {"item takes the channel's itunes:author",
	     RSS("<itunes:author>Pod Caster</itunes:author>",
	         "<item><title>x</title></item>"),
	     NULL, 0, "author", "Pod Caster", 0},
	    {"item's own author wins over the channel's",
	     RSS("<author>Chan</author>",
	         "<item><dc:creator>Own</dc:creator></item>"),
	     NULL, 0, "authors", "Own<>", 0},
	    {"item's itunes:author before the channel's author",
	     RSS("<author>Chan</author>",
	         "<item><itunes:author>Host</itunes:author></item>"),
	     NULL, 0, "author", "Host", 0},
	    {"item's author wins over its itunes:author",
	     RSS("", "<item><itunes:author>Host</itunes:author>"
	             "<author>Writer</author></item>"),
	     NULL, 0, "authors", "Writer<>", 0},
	    {"atom entry takes the feed's author",
	     ATOM("<author><name>Feed Author</name><email>f@example.com"
	          "</email></author><entry><id>urn:x:1</id><title>e</title>"
	          "</entry>"),
	     NULL, 0, "authors", "Feed Author<f@example.com>", 0},
	    {"atom entry with an author keeps it",
	     ATOM("<author><name>Feed</name></author><entry><id>urn:x:1</id>"
	          "<author><name>Own</name></author></entry>"),
	     NULL, 0, "authors", "Own<>", 0},
	    /* RFC 4287 §4.2.1: an entry without authors has its source's,
	     * else every author of the feed. */
	    {"atom entry takes every feed author",
	     ATOM("<author><name>A</name></author><author><name>B</name>"
	          "</author><entry><id>urn:x:1</id></entry>"),
	     NULL, 0, "authors", "A<>|B<>", 0},
	    {"atom feed author is every author's name",
	     ATOM("<author><name>A</name></author><author><email>b@x.org"
	          "</email></author><author><uri>http://x.org/</uri></author>"),
	     NULL, -1, "feed.author", "A, b@x.org", 0},
	    {"atom entry takes its source's authors",
	     ATOM("<author><name>Feed</name></author><entry><id>urn:x:1</id>"
	          "<source><author><name>S1</name></author><author><name>S2"
	          "</name></author></source></entry>"),
	     NULL, 0, "authors", "S1<>|S2<>", 0},
	    {"atom entry's own author wins over its source's",
	     ATOM("<entry><id>urn:x:1</id><source><author><name>S</name>"
	          "</author></source><author><name>Own</name></author>"
	          "</entry>"),
	     NULL, 0, "authors", "Own<>", 0},
	    {"source authors are the entry's own, not the next entry's",
	     ATOM("<author><name>Feed</name></author><entry><id>urn:x:1</id>"
	          "<source><author><name>S</name></author></source></entry>"
	          "<entry><id>urn:x:2</id></entry>"),
	     NULL, 1, "authors", "Feed<>", 0},
	    {"an author with only a URI names no one: the feed's",
	     ATOM("<author><name>Feed</name></author><entry><id>urn:x:1</id>"
	          "<author><uri>http://x.org/</uri></author><author><name>"
	          "</name></author></entry>"),
	     NULL, 0, "authors", "Feed<>", 0},
	    {"source authors without names: the feed's",
	     ATOM("<author><name>Feed</name></author><entry><id>urn:x:1</id>"
	          "<source><author><uri>http://x.org/</uri></author></source>"
	          "</entry>"),
	     NULL, 0, "authors", "Feed<>", 0},
	    {"no author anywhere",
	     RSS("", "<item><title>x</title></item>"), NULL, 0, "authors", "",
	     0},
	};

	run_cases(cases, NELEM(cases));
}

/* --- podcast and video fallbacks ------------------------------------------ */

static void
test_podcast_fallbacks(void)
{
	static const struct meta_case cases[] = {
	    {"itunes:summary as summary",
	     RSS("", "<item><itunes:summary>Show notes &amp; more"
	             "</itunes:summary></item>"),
	     NULL, 0, "summary", "Show notes &amp; more", 0},
	    {"itunes:summary is plain text",
	     RSS("", "<item><itunes:summary>a &lt;b&gt; c</itunes:summary>"
	             "</item>"),
	     NULL, 0, "summary", "a &lt;b&gt; c", 0},
	    {"description wins over itunes:summary",
	     RSS("", "<item><itunes:summary>pod</itunes:summary>"
	             "<description>desc</description></item>"),
	     NULL, 0, "summary", "desc", 0},
	    {"media:description as summary",
	     RSS("", "<item><media:description>A video</media:description>"
	             "</item>"),
	     NULL, 0, "summary", "A video", 0},
	    {"media:description in media:group",
	     RSS("", "<item><media:group><media:description>In a group"
	             "</media:description></media:group></item>"),
	     NULL, 0, "summary", "In a group", 0},
	    {"media:description type=html",
	     RSS("", "<item><media:description type=\"html\">&lt;b&gt;x&lt;/b"
	             "&gt;</media:description></item>"),
	     NULL, 0, "summary", "<b>x</b>", 0},
	    {"media:description in an Atom entry",
	     "<feed xmlns=\"http://www.w3.org/2005/Atom\""
	     " xmlns:media=\"http://search.yahoo.com/mrss/\"><entry>"
	     "<id>yt:video:1</id><media:group><media:description>Clip"
	     "</media:description></media:group></entry></feed>",
	     NULL, 0, "summary", "Clip", 0},
	    {"media:description in media:group's media:content",
	     RSS("", "<item><media:group><media:content url=\"http://x.org/"
	             "v.mp4\" type=\"video/mp4\"><media:description>Deep"
	             "</media:description></media:content></media:group>"
	             "</item>"),
	     NULL, 0, "summary", "Deep", 0},
	    {"media:content inside media:group is still an enclosure",
	     RSS("", "<item><media:group><media:content url=\"http://x.org/"
	             "v.mp4\" type=\"video/mp4\"><media:description>Deep"
	             "</media:description></media:content></media:group>"
	             "</item>"),
	     NULL, 0, "enclosures", "http://x.org/v.mp4;video/mp4;-1", 0},
	    {"itunes:image as the item's picture",
	     RSS("", "<item><itunes:image href=\"/art.jpg\"/></item>"),
	     "http://x.org/feed", 0, "image", "http://x.org/art.jpg", 0},
	    {"itunes:image with a url attribute",
	     RSS("", "<item><itunes:image url=\"http://x.org/u.jpg\"/>"
	             "</item>"),
	     NULL, 0, "image", "http://x.org/u.jpg", 0},
	    {"itunes:link rel=image, the old form",
	     RSS("", "<item><itunes:link rel=\"image\" href=\"http://x.org/"
	             "l.jpg\"/></item>"),
	     NULL, 0, "image", "http://x.org/l.jpg", 0},
	    {"itunes:link of another rel is no picture",
	     RSS("", "<item><itunes:link rel=\"alternate\" href=\"http://"
	             "x.org/l\"/></item>"),
	     NULL, 0, "image", "(null)", 0},
	    {"itunes:category as a category (not its subcategory)",
	     RSS("", "<item><itunes:category text=\"Technology\">"
	             "<itunes:category text=\"Gadgets\"/></itunes:category>"
	             "<category>news</category></item>"),
	     NULL, 0, "categories", "Technology|news", 0},
	    {"media:thumbnail wins over a later itunes:image",
	     RSS("", "<item><media:thumbnail url=\"http://x.org/t.jpg\"/>"
	             "<itunes:image href=\"http://x.org/a.jpg\"/></item>"),
	     NULL, 0, "image", "http://x.org/t.jpg", 0},
	    {"media:content medium=image as the picture",
	     RSS("", "<item><media:content url=\"http://x.org/p.png\""
	             " medium=\"image\" type=\"image/png\"/></item>"),
	     NULL, 0, "image", "http://x.org/p.png", 0},
	    {"media:content medium=image still an enclosure",
	     RSS("", "<item><media:content url=\"http://x.org/p.png\""
	             " medium=\"image\" type=\"image/png\"/></item>"),
	     NULL, 0, "enclosures", "http://x.org/p.png;image/png;-1", 0},
	    {"media:content of a video is no picture",
	     RSS("", "<item><media:content url=\"http://x.org/v.mp4\""
	             " medium=\"video\"/></item>"),
	     NULL, 0, "image", "(null)", 0},
	    {"media:title as title",
	     RSS("", "<item><media:title>Clip &amp; more</media:title>"
	             "</item>"),
	     NULL, 0, "title", "Clip & more", 0},
	    {"media:title in media:content",
	     RSS("", "<item><media:content url=\"http://x.org/a.mp3\">"
	             "<media:title type=\"html\">&lt;b&gt;Ep&lt;/b&gt; 1"
	             "</media:title></media:content></item>"),
	     NULL, 0, "title", "Ep 1", 0},
	    {"title wins over media:title",
	     RSS("", "<item><media:title>m</media:title><title>t</title>"
	             "</item>"),
	     NULL, 0, "title", "t", 0},
	    {"media:player as link",
	     RSS("", "<item><media:player url=\"/watch?v=1\"/></item>"),
	     "http://x.org/feed", 0, "link", "http://x.org/watch?v=1", 0},
	    {"media:player in media:group as link",
	     RSS("", "<item><media:group><media:player url=\"http://x.org/"
	             "p\"/></media:group></item>"),
	     NULL, 0, "link", "http://x.org/p", 0},
	    {"link wins over media:player",
	     RSS("", "<item><media:player url=\"http://x.org/p\"/><link>"
	             "http://x.org/l</link></item>"),
	     NULL, 0, "link", "http://x.org/l", 0},
	    {"itunes:keywords as categories",
	     RSS("", "<item><itunes:keywords>news, politics ,,tech"
	             "</itunes:keywords><category>tech</category></item>"),
	     NULL, 0, "categories", "news|politics|tech", 0},
	    {"channel itunes:summary as subtitle",
	     RSS("<itunes:summary>About the show</itunes:summary>", ""), NULL,
	     -1, "feed.subtitle", "About the show", 0},
	    {"channel itunes:subtitle as subtitle",
	     RSS("<itunes:subtitle>Short</itunes:subtitle>", ""), NULL, -1,
	     "feed.subtitle", "Short", 0},
	    {"channel description wins",
	     RSS("<itunes:summary>pod</itunes:summary>"
	         "<description>desc</description>",
	         ""),
	     NULL, -1, "feed.subtitle", "desc", 0},
	    {"RSS's own element names in any case",
	     RSS("<TiTlE>ignored: T comes first</TiTlE>",
	         "<ITEM><Title>Up</Title><PubDate>Fri, 06 Dec 2024 09:30:00"
	         " GMT</PubDate></ITEM>"),
	     NULL, 0, "title", "Up", 0},
	    {"an RSS channel title in any case",
	     "<rss version=\"2.0\"><channel><TiTlE>Example title</TiTlE>"
	     "</channel></rss>",
	     NULL, -1, "feed.title", "Example title", 0},
	    {"Atom's names stay exact",
	     "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>urn:x:1"
	     "</id><TITLE>No</TITLE></entry></feed>",
	     NULL, 0, "title", "(null)", 0},
	    {"iTunes namespace in Apple's old spelling",
	     "<rss version=\"2.0\" xmlns:itunes=\"http://www.itunes.com/DTDs/"
	     "PodCast-1.0.dtd\"><channel><item><itunes:author>Old"
	     "</itunes:author></item></channel></rss>",
	     NULL, 0, "author", "Old", 0},
	    {"Atom namespace in lowercase",
	     "<feed xmlns=\"http://www.w3.org/2005/atom\"><entry><id>urn:x:1"
	     "</id><title>Low</title></entry></feed>",
	     NULL, 0, "title", "Low", 0},
	    {"capitalized iTunes namespace",
	     "<rss version=\"2.0\" xmlns:itunes=\"http://www.itunes.com/DTDs/"
	     "Podcast-1.0.dtd\"><channel><itunes:author>Cap</itunes:author>"
	     "</channel></rss>",
	     NULL, -1, "feed.author", "Cap", 0},
	};

	run_cases(cases, NELEM(cases));
}

/* --- ids --------------------------------------------------------------------- */

#define RDF(items)                                                            \
	"<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\""  \
	" xmlns=\"http://purl.org/rss/1.0/\"><channel rdf:about=\"http://"    \
	"example.org/\"><title>R</title></channel>" items "</rdf:RDF>"

static void
test_ids(void)
{
	static const struct meta_case cases[] = {
	    {"rdf:about is the id",
	     RDF("<item rdf:about=\"http://example.org/a\"><title>A</title>"
	         "</item>"),
	     NULL, 0, "id", "http://example.org/a", 0},
	    {"rdf:about with a link: still the id",
	     RDF("<item rdf:about=\"urn:x:about\"><title>A</title>"
	         "<link>http://example.org/l</link></item>"),
	     NULL, 0, "id", "urn:x:about", 0},
	    {"a guid wins over rdf:about",
	     RDF("<item rdf:about=\"urn:x:about\"><guid "
	         "xmlns=\"\">g-1</guid></item>"),
	     NULL, 0, "id", "g-1", 0},
	    {"relative rdf:about resolved",
	     RDF("<item rdf:about=\"/a\"><title>A</title></item>"),
	     "http://example.org/feed.rdf", 0, "id", "http://example.org/a", 0},
	    {"feed-level relative atom:id resolved",
	     ATOM("<id>/feed-id</id>"), "http://example.org/atom.xml", -1,
	     "feed.id", "http://example.org/feed-id", 0},
	    {"feed-level relative atom:id against xml:base",
	     "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:base=\"http://"
	     "example.com/b/\"><id>x</id></feed>",
	     NULL, -1, "feed.id", "http://example.com/b/x", 0},
	    {"feed-level absolute atom:id kept",
	     ATOM("<id>tag:example.org,2024:feed</id>"),
	     "http://example.org/atom.xml", -1, "feed.id",
	     "tag:example.org,2024:feed", 0},
	    {"no id: a name-based urn:uuid",
	     RSS("", "<item><title>Only a title</title></item>"),
	     "http://example.org/rss", 0, "id", "urn:uuid:", 1},
	    {"no id: a version 5 uuid",
	     RSS("", "<item><title>Only a title</title></item>"),
	     "http://example.org/rss", 0, "id", "-5", 1},
	};
	struct got a, b, c;

	run_cases(cases, NELEM(cases));

	/* Stable, and different for another feed URL or another item. */
	parse_doc(&a, RSS("", "<item><title>One</title></item>"),
	          "http://example.org/rss", 0);
	parse_doc(&b, RSS("", "<item><title>One</title></item>"),
	          "http://example.org/rss", 1);
	parse_doc(&c, RSS("", "<item><title>One</title></item>"),
	          "http://example.net/rss", 0);
	CHECK(a.n == 1 && b.n == 1 && c.n == 1);
	/* The old "hash:" id, which stores keep, is of the summary as the
	 * feed wrote it, not as it is sanitized. */
	{
		struct got d;
		struct tr_article raw;
		char want[TR_ARTICLE_LEGACY_ID], got[TR_ARTICLE_LEGACY_ID];

		parse_doc(&d, RSS("", "<item><title>T</title><description>"
		                      "&lt;p onclick=\"x()\"&gt;Hi&lt;/p&gt;"
		                      "</description></item>"),
		          NULL, 0);
		tr_article_init(&raw);
		raw.title = strdup("T");
		raw.summary = strdup("<p onclick=\"x()\">Hi</p>");
		tr_article_legacy_id(want, &raw);
		CHECK_INT(d.n, 1);
		if (d.n == 1) {
			CHECK(strstr(d.items[0].summary, "onclick") == NULL);
			tr_article_legacy_id(got, &d.items[0]);
			CHECK_STR(got, want);
		}
		tr_article_free(&raw);
		got_free(&d);
	}
	if (a.n == 1 && b.n == 1 && c.n == 1) {
		CHECK_STR(a.items[0].id, b.items[0].id);
		CHECK(strcmp(a.items[0].id, c.items[0].id) != 0);
		CHECK_INT(strlen(a.items[0].id), 9 + 36);
	}
	got_free(&a);
	got_free(&b);
	got_free(&c);
}

/* --- links -------------------------------------------------------------------- */

static void
test_links(void)
{
	static const struct meta_case cases[] = {
	    {"atom link as text",
	     ATOM("<entry><id>urn:x:1</id><link>http://example.org/a</link>"
	          "</entry>"),
	     NULL, 0, "link", "http://example.org/a", 0},
	    {"atom link as text, relative",
	     ATOM("<entry><id>urn:x:1</id><link>/a</link></entry>"),
	     "http://example.org/atom", 0, "link", "http://example.org/a", 0},
	    {"atom feed link as text",
	     ATOM("<link>http://example.org/</link>"), NULL, -1, "feed.link",
	     "http://example.org/", 0},
	    {"atom link as text with rel=self is not the link",
	     ATOM("<entry><id>urn:x:1</id><link rel=\"self\">http://example."
	          "org/self</link><link rel=\"alternate\">http://example.org/"
	          "alt</link></entry>"),
	     NULL, 0, "link", "http://example.org/alt", 0},
	    {"alternate after related",
	     ATOM("<entry><id>urn:x:1</id><link rel=\"related\" href=\"http:"
	          "//example.org/rel\"/><link rel=\"alternate\" href=\"http://"
	          "example.org/alt\"/></entry>"),
	     NULL, 0, "link", "http://example.org/alt", 0},
	    {"alternate before related",
	     ATOM("<entry><id>urn:x:1</id><link rel=\"alternate\" href=\"http:"
	          "//example.org/alt\"/><link rel=\"related\" href=\"http://"
	          "example.org/rel\"/></entry>"),
	     NULL, 0, "link", "http://example.org/alt", 0},
	    {"html alternate after a pdf alternate",
	     ATOM("<entry><id>urn:x:1</id><link rel=\"alternate\" type=\""
	          "application/pdf\" href=\"http://example.org/a.pdf\"/><link "
	          "rel=\"alternate\" type=\"text/html\" href=\"http://example."
	          "org/a.html\"/></entry>"),
	     NULL, 0, "link", "http://example.org/a.html", 0},
	    {"pdf alternate beats related",
	     ATOM("<entry><id>urn:x:1</id><link rel=\"related\" href=\"http:"
	          "//example.org/rel\"/><link rel=\"alternate\" type=\""
	          "application/pdf\" href=\"http://example.org/a.pdf\"/>"
	          "</entry>"),
	     NULL, 0, "link", "http://example.org/a.pdf", 0},
	    {"only related: no link",
	     ATOM("<entry><id>urn:x:1</id><link rel=\"related\" href=\"http://e"
	          "xample.org/rel\"/></entry>"),
	     NULL, 0, "link", "(null)", 0},
	    {"only via: no link",
	     ATOM("<entry><id>urn:x:1</id><link rel=\"via\" href=\"http://examp"
	          "le.org/via\"/></entry>"),
	     NULL, 0, "link", "(null)", 0},
	    {"only license: no link",
	     ATOM("<entry><id>urn:x:1</id><link rel=\"license\" href=\"http://e"
	          "xample.org/l\"/></entry>"),
	     NULL, 0, "link", "(null)", 0},
	    {"an unknown rel: no link",
	     ATOM("<entry><id>urn:x:1</id><link rel=\"http://example.org/rels/x"
	          "\" href=\"http://example.org/x\"/></entry>"),
	     NULL, 0, "link", "(null)", 0},
	    {"related and via: no link",
	     ATOM("<entry><id>urn:x:1</id><link rel=\"related\" href=\"http://e"
	          "xample.org/rel\"/><link rel=\"via\" href=\"http://example.or"
	          "g/via\"/></entry>"),
	     NULL, 0, "link", "(null)", 0},
	    {"alternate by its IANA IRI",
	     ATOM("<entry><id>urn:x:1</id><link rel=\"http://www.iana.org/assig"
	          "nments/relation/alternate\" href=\"http://example.org/alt\"/"
	          "></entry>"),
	     NULL, 0, "link", "http://example.org/alt", 0},
	    {"via by its IANA IRI: no link",
	     ATOM("<entry><id>urn:x:1</id><link rel=\"http://www.iana.org/assig"
	          "nments/relation/via\" href=\"http://example.org/via\"/></ent"
	          "ry>"),
	     NULL, 0, "link", "(null)", 0},
	    {"enclosure by its IANA IRI is no link",
	     ATOM("<entry><id>urn:x:1</id><link rel=\"http://www.iana.org/assig"
	          "nments/relation/enclosure\" href=\"http://example.org/a.mp3"
	          "\"/></entry>"),
	     NULL, 0, "link", "(null)", 0},
	    {"enclosure by its IANA IRI is an enclosure",
	     ATOM("<entry><id>urn:x:1</id><link rel=\"http://www.iana.org/assig"
	          "nments/relation/enclosure\" href=\"http://example.org/a.mp3"
	          "\"/></entry>"),
	     NULL, 0, "enclosures", "http://example.org/a.mp3;;-1", 0},
	    {"related before a pdf alternate",
	     ATOM("<entry><id>urn:x:1</id><link rel=\"related\" href=\"http://e"
	          "xample.org/rel\"/><link rel=\"alternate\" type=\"application"
	          "/pdf\" href=\"http://example.org/a.pdf\"/></entry>"),
	     NULL, 0, "link", "http://example.org/a.pdf", 0},
	    {"feed: html alternate after another alternate",
	     ATOM("<link rel=\"alternate\" type=\"application/rss+xml\" href=\""
	          "http://example.org/rss\"/><link rel=\"alternate\" href=\""
	          "http://example.org/\"/>"),
	     NULL, -1, "feed.link", "http://example.org/", 0},
	    {"feed: self is not the link",
	     ATOM("<link rel=\"self\" href=\"http://example.org/atom\"/><link "
	          "href=\"http://example.org/\"/>"),
	     NULL, -1, "feed.link", "http://example.org/", 0},
	};

	run_cases(cases, NELEM(cases));
}

/* --- relative references without a base -------------------------------------- */

static void
test_relative_without_base(void)
{
	static const struct meta_case cases[] = {
	    {"rss item link kept",
	     RSS("", "<item><link>/posts/1</link></item>"), NULL, 0, "link",
	     "/posts/1", 0},
	    {"rss item link warned",
	     RSS("", "<item><link>/posts/1</link></item>"), NULL, 0,
	     "warnings", "relative link", 1},
	    {"rss channel link kept", RSS("<link>index.html</link>", ""), NULL,
	     -1, "feed.link", "index.html", 0},
	    {"atom href kept",
	     ATOM("<entry><id>urn:x:1</id><link href=\"a/b.html\"/></entry>"),
	     NULL, 0, "link", "a/b.html", 0},
	    {"atom id kept",
	     ATOM("<entry><id>entry-7</id></entry>"), NULL, 0, "id", "entry-7",
	     0},
	    {"atom id warned", ATOM("<entry><id>entry-7</id></entry>"), NULL, 0,
	     "warnings", "relative id", 1},
	    {"feed id kept", ATOM("<id>feed-1</id>"), NULL, -1, "feed.id",
	     "feed-1", 0},
	    {"enclosure kept",
	     RSS("", "<item><enclosure url=\"ep1.mp3\" type=\"audio/mpeg\" "
	             "length=\"5\"/></item>"),
	     NULL, 0, "enclosures", "ep1.mp3;audio/mpeg;5", 0},
	    {"with a base: resolved, no warning",
	     RSS("", "<item><link>/posts/1</link></item>"),
	     "http://example.org/rss", 0, "warnings", "", 0},
	    {"javascript: still dropped",
	     RSS("", "<item><link>javascript:alert(1)</link></item>"), NULL, 0,
	     "link", "(null)", 0},
	};

	run_cases(cases, NELEM(cases));
}

/* --- enclosures -------------------------------------------------------------- */

static void
test_enclosures(void)
{
	static const struct meta_case cases[] = {
	    {"media:content then enclosure: one, with the length",
	     RSS("", "<item><media:content url=\"http://e.org/a.mp3\"/>"
	             "<enclosure url=\"http://e.org/a.mp3\" type=\"audio/mpeg\""
	             " length=\"1234\"/></item>"),
	     NULL, 0, "enclosures", "http://e.org/a.mp3;audio/mpeg;1234", 0},
	    {"enclosure then media:content with fileSize",
	     RSS("", "<item><enclosure url=\"http://e.org/a.mp3\"/>"
	             "<media:content url=\"http://e.org/a.mp3\" type=\"audio/"
	             "mpeg\" fileSize=\"99\"/></item>"),
	     NULL, 0, "enclosures", "http://e.org/a.mp3;audio/mpeg;99", 0},
	    {"first type wins",
	     RSS("", "<item><enclosure url=\"http://e.org/a\" type=\"audio/"
	             "mpeg\" length=\"1\"/><media:content url=\"http://e.org/a\""
	             " type=\"video/mp4\" fileSize=\"2\"/></item>"),
	     NULL, 0, "enclosures", "http://e.org/a;audio/mpeg;1", 0},
	    {"media:group content merges too",
	     RSS("", "<item><enclosure url=\"http://e.org/v.mp4\" length=\"7\""
	             "/><media:group><media:content url=\"http://e.org/v.mp4\" "
	             "type=\"video/mp4\"/></media:group></item>"),
	     NULL, 0, "enclosures", "http://e.org/v.mp4;video/mp4;7", 0},
	    {"different URLs stay apart",
	     RSS("", "<item><enclosure url=\"http://e.org/1\"/><enclosure url="
	             "\"http://e.org/2\"/></item>"),
	     NULL, 0, "nenclosures", "2", 0},
	    {"atom rel=enclosure merges with media:content",
	     "<feed xmlns=\"http://www.w3.org/2005/Atom\" xmlns:media=\"http:"
	     "//search.yahoo.com/mrss/\"><entry><id>urn:x:1</id><link rel=\""
	     "enclosure\" href=\"http://e.org/p.ogg\" length=\"3\"/><media:"
	     "content url=\"http://e.org/p.ogg\" type=\"audio/ogg\"/></entry>"
	     "</feed>",
	     NULL, 0, "enclosures", "http://e.org/p.ogg;audio/ogg;3", 0},
	};

	run_cases(cases, NELEM(cases));
}

/* --- thumbnails ----------------------------------------------------------- */

static void
test_thumbnail(void)
{
	static const struct meta_case cases[] = {
	    {"media:thumbnail is the image",
	     RSS("", "<item><media:thumbnail url=\"http://e.org/t.jpg\" "
	             "width=\"120\"/></item>"),
	     NULL, 0, "image", "http://e.org/t.jpg", 0},
	    {"and not an enclosure",
	     RSS("", "<item><media:thumbnail url=\"http://e.org/t.jpg\"/>"
	             "</item>"),
	     NULL, 0, "nenclosures", "0", 0},
	    {"in media:group",
	     RSS("", "<item><media:group><media:content url=\"http://e.org/v."
	             "mp4\" type=\"video/mp4\"/><media:thumbnail url=\"http://"
	             "e.org/v.jpg\"/></media:group></item>"),
	     NULL, 0, "image", "http://e.org/v.jpg", 0},
	    {"in media:group, the content stays an enclosure",
	     RSS("", "<item><media:group><media:content url=\"http://e.org/v."
	             "mp4\" type=\"video/mp4\"/><media:thumbnail url=\"http://"
	             "e.org/v.jpg\"/></media:group></item>"),
	     NULL, 0, "enclosures", "http://e.org/v.mp4;video/mp4;-1", 0},
	    {"the first of several",
	     RSS("", "<item><media:thumbnail url=\"http://e.org/1.jpg\"/>"
	             "<media:thumbnail url=\"http://e.org/2.jpg\"/></item>"),
	     NULL, 0, "image", "http://e.org/1.jpg", 0},
	    {"relative, resolved",
	     RSS("", "<item><media:thumbnail url=\"/t.jpg\"/></item>"),
	     "http://e.org/feed", 0, "image", "http://e.org/t.jpg", 0},
	    {"none", RSS("", "<item><title>x</title></item>"), NULL, 0, "image",
	     "(null)", 0},
	};

	run_cases(cases, NELEM(cases));
}

/* --- feed dates ---------------------------------------------------------------- */

static void
test_feed_updated(void)
{
	static const struct meta_case cases[] = {
	    {"lastBuildDate after pubDate",
	     RSS("<pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate>"
	         "<lastBuildDate>Tue, 02 Jan 2024 00:00:00 GMT</lastBuildDate>",
	         ""),
	     NULL, -1, "feed.updated", "2024-01-02T00:00:00Z", 0},
	    {"lastBuildDate before pubDate",
	     RSS("<lastBuildDate>Tue, 02 Jan 2024 00:00:00 GMT</lastBuildDate>"
	         "<pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate>",
	         ""),
	     NULL, -1, "feed.updated", "2024-01-02T00:00:00Z", 0},
	    {"lastBuildDate older than pubDate still wins",
	     RSS("<pubDate>Wed, 03 Jan 2024 00:00:00 GMT</pubDate>"
	         "<lastBuildDate>Tue, 02 Jan 2024 00:00:00 GMT</lastBuildDate>",
	         ""),
	     NULL, -1, "feed.updated", "2024-01-02T00:00:00Z", 0},
	    {"pubDate alone",
	     RSS("<pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate>", ""), NULL,
	     -1, "feed.updated", "2024-01-01T00:00:00Z", 0},
	    {"unparseable lastBuildDate: pubDate",
	     RSS("<lastBuildDate>soon</lastBuildDate>"
	         "<pubDate>Mon, 01 Jan 2024 00:00:00 GMT</pubDate>",
	         ""),
	     NULL, -1, "feed.updated", "2024-01-01T00:00:00Z", 0},
	    {"lastBuildDate over dc:date",
	     RSS("<dc:date>2024-01-05T00:00:00Z</dc:date>"
	         "<lastBuildDate>Tue, 02 Jan 2024 00:00:00 GMT</lastBuildDate>",
	         ""),
	     NULL, -1, "feed.updated", "2024-01-02T00:00:00Z", 0},
	};

	run_cases(cases, NELEM(cases));
}

/* --- an item's XHTML body; which date is published ---------------------- */

#define XHTML_NS "http://www.w3.org/1999/xhtml"
#define DCT_ITEM(dates)                                                       \
	"<rss version=\"2.0\" xmlns:dcterms=\"http://purl.org/dc/terms/\""       \
	" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"><channel><title>T"       \
	"</title><item><title>a</title>" dates "</item></channel></rss>"
#define ATOM03_ENTRY(dates)                                                   \
	"<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\"><title>T"     \
	"</title><entry><id>urn:x:1</id>" dates "</entry></feed>"

static void
test_bodies_and_dates(void)
{
	static const struct meta_case cases[] = {
	    {"xhtml body",
	     RSS("", "<item><title>a</title><body xmlns=\"" XHTML_NS "\"><p>"
	             "Example <b>content</b></p></body></item>"),
	     NULL, 0, "content", "<p>Example <b>content</b></p>", 0},
	    {"xhtml:body with a prefix, beside a description",
	     RSS("", "<item><title>a</title><description>d</description>"
	             "<x:body xmlns:x=\"" XHTML_NS "\"><x:p>P</x:p></x:body>"
	             "</item>"),
	     NULL, 0, "content", "<p>P</p>", 0},
	    {"the description stays the summary",
	     RSS("", "<item><title>a</title><description>d</description>"
	             "<x:body xmlns:x=\"" XHTML_NS "\"><x:p>P</x:p></x:body>"
	             "</item>"),
	     NULL, 0, "summary", "d", 0},
	    {"xhtml body: its links resolved",
	     RSS("", "<item><title>a</title><body xmlns=\"" XHTML_NS "\"><a "
	             "href=\"/x\">x</a></body></item>"),
	     "http://example.org/feed", 0, "content", "href=\"http://example."
	     "org/x\"", 1},
	    {"xhtml body: escaped markup is text",
	     RSS("", "<item><title>a</title><body xmlns=\"" XHTML_NS "\"><p>"
	             "a &lt;b&gt; c</p></body></item>"),
	     NULL, 0, "content", "<p>a &lt;b&gt; c</p>", 0},
	    {"content:encoded first: it stays the content",
	     "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/"
	     "modules/content/\"><channel><title>T</title><item><title>a"
	     "</title><content:encoded>&lt;p&gt;E&lt;/p&gt;</content:encoded>"
	     "<body xmlns=\"" XHTML_NS "\"><p>B</p></body></item></channel>"
	     "</rss>",
	     NULL, 0, "content", "<p>E</p>", 0},
	    {"body in no namespace is not a body",
	     RSS("", "<item><title>a</title><body><p>B</p></body></item>"), NULL,
	     0, "content", "(null)", 0},
	    {"xhtml p straight in an item is nothing",
	     RSS("", "<item><title>a</title><p xmlns=\"" XHTML_NS "\">B</p>"
	             "</item>"),
	     NULL, 0, "content", "(null)", 0},
	    {"dcterms: issued after created wins",
	     DCT_ITEM("<dcterms:created>2003-01-01T00:00:00Z</dcterms:created>"
	              "<dcterms:issued>2004-01-01T00:00:00Z</dcterms:issued>"),
	     NULL, 0, "published", "2004-01-01T00:00:00Z", 0},
	    {"dcterms: issued before created wins",
	     DCT_ITEM("<dcterms:issued>2004-01-01T00:00:00Z</dcterms:issued>"
	              "<dcterms:created>2003-01-01T00:00:00Z</dcterms:created>"),
	     NULL, 0, "published", "2004-01-01T00:00:00Z", 0},
	    {"dcterms: created alone is published",
	     DCT_ITEM("<dcterms:created>2003-01-01T00:00:00Z</dcterms:created>"),
	     NULL, 0, "published", "2003-01-01T00:00:00Z", 0},
	    {"pubDate over created",
	     DCT_ITEM("<dcterms:created>2003-01-01T00:00:00Z</dcterms:created>"
	              "<pubDate>Thu, 01 Jan 2004 00:00:00 GMT</pubDate>"),
	     NULL, 0, "published", "2004-01-01T00:00:00Z", 0},
	    {"created over dc:date, which is then the update",
	     DCT_ITEM("<dc:date>2005-01-01T00:00:00Z</dc:date>"
	              "<dcterms:created>2003-01-01T00:00:00Z</dcterms:created>"),
	     NULL, 0, "published", "2003-01-01T00:00:00Z", 0},
	    {"created over dc:date: the update",
	     DCT_ITEM("<dc:date>2005-01-01T00:00:00Z</dc:date>"
	              "<dcterms:created>2003-01-01T00:00:00Z</dcterms:created>"),
	     NULL, 0, "updated", "2005-01-01T00:00:00Z", 0},
	    {"unparseable issued: created",
	     DCT_ITEM("<dcterms:issued>soon</dcterms:issued>"
	              "<dcterms:created>2003-01-01T00:00:00Z</dcterms:created>"),
	     NULL, 0, "published", "2003-01-01T00:00:00Z", 0},
	    {"atom 0.3: issued after created wins",
	     ATOM03_ENTRY("<created>2003-01-01T00:00:00Z</created>"
	                  "<issued>2004-01-01T00:00:00Z</issued>"
	                  "<modified>2005-01-01T00:00:00Z</modified>"),
	     NULL, 0, "published", "2004-01-01T00:00:00Z", 0},
	    {"atom 0.3: modified is the update",
	     ATOM03_ENTRY("<created>2003-01-01T00:00:00Z</created>"
	                  "<issued>2004-01-01T00:00:00Z</issued>"
	                  "<modified>2005-01-01T00:00:00Z</modified>"),
	     NULL, 0, "updated", "2005-01-01T00:00:00Z", 0},
	    {"atom 0.3: created alone",
	     ATOM03_ENTRY("<created>2003-01-01T00:00:00Z</created>"), NULL, 0,
	     "published", "2003-01-01T00:00:00Z", 0},
	};

	run_cases(cases, NELEM(cases));
}

/* --- caps and linear duplicate checks ---------------------------------------- */

/* A document with one item of n categories (k distinct) and n enclosures. */
static char *
many_doc(size_t n, size_t k, int enclosures)
{
	struct tr_buf b;
	size_t i;

	tr_buf_init(&b, (size_t)1 << 30);
	tr_buf_adds(&b, "<rss version=\"2.0\"><channel><title>t</title>"
	                "<item><title>many</title>");
	for (i = 0; i < n; i++) {
		if (enclosures)
			tr_buf_printf(&b, "<enclosure url=\"http://e.org/%zu\"/>",
			              i % k);
		else
			tr_buf_printf(&b, "<category>c%zu</category>", i % k);
	}
	tr_buf_adds(&b, "</item><item><title>next</title><category>a"
	                "</category><category>a</category></item>"
	                "</channel></rss>");
	return tr_buf_detach(&b);
}

static void
test_caps(void)
{
	static const struct {
		size_t n, k;
		int enclosures;
		const char *count, *warn;
	} cases[] = {
	    {5, 5, 0, "5", NULL},
	    {20, 20, 0, "20", NULL},
	    {20, 3, 0, "3", NULL},
	    {1000, 1000, 0, "1000", NULL},
	    {1001, 1001, 0, "1000", "more than 1000 categories"},
	    {40000, 40000, 0, "1000", "more than 1000 categories"},
	    {40000, 7, 0, "7", NULL},
	    {200, 200, 1, "200", NULL},
	    {201, 201, 1, "200", "more than 200 enclosures"},
	    {50000, 50000, 1, "200", "more than 200 enclosures"},
	    {30, 9, 1, "9", NULL},
	};
	struct tr_buf b;
	size_t i;

	tr_buf_init(&b, 1 << 20);
	for (i = 0; i < NELEM(cases); i++) {
		char *doc = many_doc(cases[i].n, cases[i].k,
		                     cases[i].enclosures);
		char name[80];
		struct got g;

		snprintf(name, sizeof(name), "%zu %s, %zu distinct",
		         cases[i].n,
		         cases[i].enclosures ? "enclosures" : "categories",
		         cases[i].k);
		parse_doc(&g, doc, NULL, 0);
		CHECK_INT(g.n, 2);
		field(&b, &g, 0,
		      cases[i].enclosures ? "nenclosures" : "ncategories");
		CHECK_STR_CASE(name, tr_buf_str(&b), cases[i].count);
		field(&b, &g, 0, "warnings");
		if (cases[i].warn)
			CHECK(strstr(tr_buf_str(&b), cases[i].warn) != NULL);
		else
			CHECK(strstr(tr_buf_str(&b), "more than") == NULL);
		/* The next item starts afresh. */
		field(&b, &g, 1, "categories");
		CHECK_STR_CASE(name, tr_buf_str(&b), "a");
		got_free(&g);
		free(doc);
	}
	tr_buf_free(&b);
}

TR_TESTS(test_authors, test_podcast_fallbacks, test_ids, test_links,
         test_relative_without_base, test_enclosures, test_thumbnail,
         test_feed_updated, test_bodies_and_dates, test_caps)
