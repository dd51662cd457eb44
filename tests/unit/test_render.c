/*
 * test_render.c — the Atom, RSS, JSON Feed, HTML and OPML renderers on
 * hand-built items, hostile ones included. XML output is parsed back with
 * expat and its values checked; JSON output is checked by a small
 * RFC 8259 syntax checker below.
 */
#include <expat.h>

#include "runner.h"
#include "tributary/article.h"
#include "tributary/buf.h"
#include "tributary/config.h"
#include "tributary/date.h"
#include "tributary/error.h"
#include "tributary/render.h"

/* --- an expat recorder: "path=text" and "path@attr=value" lines --- */

struct rec {
	struct tr_buf lines; /* starts with "\n"; one record per line */
	char path[512];
	struct tr_buf text;
};

/* Records a line, with newlines in values written as "\n" text. */
static void
rec_line(struct rec *r, const char *key, const char *v, size_t n)
{
	size_t i;

	tr_buf_adds(&r->lines, key);
	tr_buf_addc(&r->lines, '=');
	for (i = 0; i < n; i++) {
		if (v[i] == '\n')
			tr_buf_adds(&r->lines, "\\n");
		else
			tr_buf_addc(&r->lines, v[i]);
	}
	tr_buf_addc(&r->lines, '\n');
}

static void XMLCALL
on_start(void *arg, const XML_Char *name, const XML_Char **atts)
{
	struct rec *r = arg;
	char key[700];
	size_t i;

	snprintf(r->path + strlen(r->path), sizeof(r->path) - strlen(r->path),
	    "/%s", name);
	tr_buf_reset(&r->text);
	for (i = 0; atts[i]; i += 2) {
		snprintf(key, sizeof(key), "%s@%s", r->path, atts[i]);
		rec_line(r, key, atts[i + 1], strlen(atts[i + 1]));
	}
}

static void XMLCALL
on_end(void *arg, const XML_Char *name)
{
	struct rec *r = arg;
	char *slash;

	(void)name;
	rec_line(r, r->path, r->text.data ? r->text.data : "", r->text.len);
	tr_buf_reset(&r->text);
	if ((slash = strrchr(r->path, '/')) != NULL)
		*slash = '\0';
}

static void XMLCALL
on_text(void *arg, const XML_Char *s, int len)
{
	struct rec *r = arg;

	tr_buf_add(&r->text, s, (size_t)len);
}

/* Parses doc; returns 1 when well-formed (else prints expat's error). */
static int
xml_parse(struct rec *r, const char *doc, size_t len)
{
	XML_Parser p = XML_ParserCreate(NULL);
	int ok;

	memset(r, 0, sizeof(*r));
	tr_buf_init(&r->lines, 1 << 26);
	tr_buf_init(&r->text, 1 << 26);
	tr_buf_addc(&r->lines, '\n');
	XML_SetUserData(p, r);
	XML_SetElementHandler(p, on_start, on_end);
	XML_SetCharacterDataHandler(p, on_text);
	ok = XML_Parse(p, doc, (int)len, 1) == XML_STATUS_OK;
	if (!ok)
		printf("  expat: line %lu: %s\n",
		    (unsigned long)XML_GetCurrentLineNumber(p),
		    XML_ErrorString(XML_GetErrorCode(p)));
	XML_ParserFree(p);
	return ok;
}

static void
rec_free(struct rec *r)
{
	tr_buf_free(&r->lines);
	tr_buf_free(&r->text);
}

/* Non-zero when the record holds exactly the line "key=value". */
static int
has(const struct rec *r, const char *key, const char *value)
{
	struct tr_buf want;
	int found;

	tr_buf_init(&want, 1 << 26);
	tr_buf_printf(&want, "\n%s=%s\n", key, value);
	found = strstr(tr_buf_str(&r->lines), want.data) != NULL;
	if (!found)
		printf("  missing record %s=%s\n", key, value);
	tr_buf_free(&want);
	return found;
}

/* How many records have key (any value). */
static int
count(const struct rec *r, const char *key)
{
	const char *p = tr_buf_str(&r->lines);
	char want[600];
	int n = 0;

	snprintf(want, sizeof(want), "\n%s=", key);
	while ((p = strstr(p, want)) != NULL) {
		n++;
		p++;
	}
	return n;
}

/* --- a JSON syntax checker (RFC 8259), enough to reject bad output --- */

static const char *json_value(const char *p, int depth);

static const char *
json_ws(const char *p)
{
	while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')
		p++;
	return p;
}

static const char *
json_string(const char *p)
{
	if (*p++ != '"')
		return NULL;
	while (*p != '"') {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				int i;
				for (i = 1; i <= 4; i++)
					if (!strchr("0123456789abcdefABCDEF",
						p[i]) || !p[i])
						return NULL;
				p += 4;
			} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
				return NULL;
			}
		}
		p++;
	}
	return p + 1;
}

static const char *
json_container(const char *p, int depth, char close, int object)
{
	p = json_ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (object) {
			if ((p = json_string(json_ws(p))) == NULL)
				return NULL;
			p = json_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		if ((p = json_value(p, depth + 1)) == NULL)
			return NULL;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static const char *
json_value(const char *p, int depth)
{
	p = json_ws(p);
	if (depth > 32)
		return NULL;
	if (*p == '{')
		return json_container(p, depth, '}', 1);
	if (*p == '[')
		return json_container(p, depth, ']', 0);
	if (*p == '"')
		return json_string(p);
	if (strncmp(p, "true", 4) == 0 || strncmp(p, "null", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	if (*p == '-' || (*p >= '0' && *p <= '9')) {
		p++;
		while (*p >= '0' && *p <= '9')
			p++;
		return p;
	}
	return NULL;
}

static int
json_valid(const char *doc)
{
	const char *end = json_value(doc, 0);

	return end != NULL && *json_ws(end) == '\0';
}

/* Non-zero when s is valid UTF-8 with no C0 control but tab/LF/CR, and
 * unless nonchars is set, no U+FFFE or U+FFFF. */
static int
valid_utf8(const char *s, size_t n, int nonchars)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k, len;

	while (i < n) {
		if (p[i] < 0x80) {
			if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' &&
			    p[i] != '\r')
				return 0;
			i++;
			continue;
		}
		len = p[i] >= 0xF0 ? 4 : p[i] >= 0xE0 ? 3 : p[i] >= 0xC2 ? 2 : 0;
		if (len == 0 || i + len > n)
			return 0;
		for (k = 1; k < len; k++)
			if ((p[i + k] & 0xC0) != 0x80)
				return 0;
		if (p[i] == 0xED && p[i + 1] >= 0xA0)
			return 0; /* surrogate */
		if (!nonchars && p[i] == 0xEF && p[i + 1] == 0xBF &&
		    p[i + 2] >= 0xBE)
			return 0; /* U+FFFE, U+FFFF */
		i += len;
	}
	return 1;
}

static int
clean_utf8(const char *s, size_t n)
{
	return valid_utf8(s, n, 0);
}

/* --- fixtures --- */

/* Fixture strings: the records hold char *, string literals are const. */
static char *pool[4096];
static size_t n_pool;

static void
pool_free(void)
{
	while (n_pool)
		free(pool[--n_pool]);
}

static char *
S(const char *s)
{
	if (n_pool == 0)
		atexit(pool_free);
	if (n_pool == sizeof(pool) / sizeof(pool[0]))
		abort();
	return pool[n_pool++] = strdup(s);
}

#define T_PUB 1733477400LL /* 2024-12-06T09:30:00Z */
#define T_UPD 1733563800LL /* 2024-12-07T09:30:00Z */
#define T_SEEN 1733650200LL /* 2024-12-08T09:30:00Z */

static struct tr_person full_authors[2];
static char *full_cats[2];
static struct tr_enclosure full_encl[2];

static void
full_item(struct tr_item *it)
{
	full_authors[0] = (struct tr_person){S("Ada Lovelace"),
	    S("ada@example.org"), S("https://example.org/ada")};
	full_authors[1] = (struct tr_person){S("Bob"), NULL, NULL};
	full_cats[0] = S("science");
	full_cats[1] = S("math & logic");
	full_encl[0] = (struct tr_enclosure){S("https://example.org/a.mp3"),
	    S("audio/mpeg"), 12345};
	full_encl[1] = (struct tr_enclosure){S("https://example.org/b.bin"),
	    NULL, -1};
	memset(it, 0, sizeof(*it));
	tr_article_init(&it->a);
	it->a.id = S("https://example.org/posts/1");
	it->a.guid = S("https://example.org/posts/1");
	it->a.guid_is_permalink = 1;
	it->a.link = S("https://example.org/posts/1");
	it->a.title = S("First post");
	it->a.authors = full_authors;
	it->a.n_authors = 2;
	it->a.author = S("Ada Lovelace");
	it->a.summary = S("<p>Short <b>summary</b> &amp; more</p>");
	it->a.content = S("<p>The full <i>content</i>.</p>");
	it->a.published = T_PUB;
	it->a.updated = T_UPD;
	it->a.categories = full_cats;
	it->a.n_categories = 2;
	it->a.enclosures = full_encl;
	it->a.n_enclosures = 2;
	it->first_seen = T_SEEN;
	it->sort_date = T_PUB;
	it->feed_name = "example";
	it->feed_title = "Example Feed";
	it->feed_url = "https://example.org/feed.xml";
	it->feed_link = "https://example.org/";
}

/* Hostile text: ]]>, markup, controls, invalid UTF-8, an encoded
 * surrogate, U+FFFE, a right-to-left override and a non-BMP emoji. */
#define HOSTILE                                                               \
	"A]]>B<script>alert(1)</script>\x01\x1f"                              \
	"C\xff"                                                               \
	"D\xed\xa0\x80"                                                       \
	"E\xef\xbf\xbe"                                                       \
	"F\xe2\x80\xae\xf0\x9f\x98\x80\"'&\r\n"
/* What a parser must read back from it. */
#define HOSTILE_READ                                                          \
	"A]]>B<script>alert(1)</script>C\xef\xbf\xbd"                         \
	"D\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"                               \
	"E\xef\xbf\xbd"                                                       \
	"F\xe2\x80\xae\xf0\x9f\x98\x80\"'&\r\\n"

static char *hostile_cats[3];
static struct tr_person hostile_authors[1];

static void
hostile_item(struct tr_item *it)
{
	hostile_cats[0] = S("a\"b<c>");
	hostile_cats[1] = S("\x02");
	hostile_cats[2] = S("");
	hostile_authors[0] = (struct tr_person){S("\x03"), S("not-an-email"),
	    S("::")};
	memset(it, 0, sizeof(*it));
	tr_article_init(&it->a);
	it->a.id = S("42 <not a uri>");
	it->a.link = S("javascript:alert(1)");
	it->a.title = S(HOSTILE);
	it->a.summary = S("<![CDATA[ x ]]> ]]> <script>evil()</script>" HOSTILE);
	it->a.content = S(HOSTILE "]]>]]>");
	it->a.categories = hostile_cats;
	it->a.n_categories = 3;
	it->a.authors = hostile_authors;
	it->a.n_authors = 1;
	it->first_seen = T_SEEN;
	it->sort_date = T_SEEN;
	it->feed_name = "bad";
	it->feed_title = "Bad \x04<Feed>";
	it->feed_url = "https://bad.example/feed?a=1&b=2";
}

/* Only an id: no dates at all, no link, no feed title. */
static void
bare_item(struct tr_item *it)
{
	memset(it, 0, sizeof(*it));
	tr_article_init(&it->a);
	it->a.id = S("bare-1");
	it->first_seen = TR_DATE_NONE;
	it->sort_date = TR_DATE_NONE;
	it->feed_name = "barefeed";
}

static const struct tr_render_doc doc = {
    .title = "Merged — tributary",
    .subtitle = "All the news",
    .id = "https://planet.example/feed.atom",
    .self_url = "https://planet.example/feed.atom",
    .home_url = "https://planet.example/",
    .updated = T_SEEN + 60,
};

/* Renders items in format fmt into out (capped at max). */
static int
render(struct tr_buf *out, enum tr_format fmt, const struct tr_item *items,
    size_t n, const char *next, size_t max)
{
	struct tr_render *r = NULL;
	size_t i;
	int rc;

	tr_buf_init(out, max);
	if ((rc = tr_render_begin(&r, out, fmt, &doc)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++)
		rc = tr_render_item(&items[i], r);
	if (rc == 0)
		rc = tr_render_end(r, next);
	tr_render_free(r);
	return rc;
}

static void
three_items(struct tr_item it[3])
{
	full_item(&it[0]);
	hostile_item(&it[1]);
	bare_item(&it[2]);
}

/* --- tests --- */

static void
test_formats(void)
{
	CHECK_INT(tr_format_from_name("atom"), TR_FMT_ATOM);
	CHECK_INT(tr_format_from_name("rss"), TR_FMT_RSS);
	CHECK_INT(tr_format_from_name("json"), TR_FMT_JSON);
	CHECK_INT(tr_format_from_name("html"), TR_FMT_HTML);
	CHECK_INT(tr_format_from_name("opml"), TR_FMT_OPML);
	CHECK_INT(tr_format_from_name("xml"), -1);
	CHECK_INT(tr_format_from_name(NULL), -1);
	CHECK_STR(tr_format_name(TR_FMT_RSS), "rss");
	CHECK_STR(tr_format_content_type(TR_FMT_ATOM),
	    "application/atom+xml; charset=utf-8");
	CHECK_STR(tr_format_content_type(TR_FMT_JSON),
	    "application/feed+json; charset=utf-8");
	CHECK_STR(tr_format_content_type(TR_FMT_OPML),
	    "text/x-opml; charset=utf-8");
	CHECK_STR(tr_format_content_type(TR_FMT_HTML),
	    "text/html; charset=utf-8");
}

static void
test_paths(void)
{
	struct tr_config cfg;
	struct tr_buf b;

	tr_buf_init(&b, 1024);
	CHECK_INT(tr_render_path(&b, TR_FMT_ATOM, NULL, NULL), 0);
	CHECK_STR(tr_buf_str(&b), "/feed.atom");
	tr_buf_reset(&b);
	CHECK_INT(tr_render_path(&b, TR_FMT_RSS, "world news/é", NULL), 0);
	CHECK_STR(tr_buf_str(&b), "/tags/world%20news%2F%C3%A9.rss");
	tr_buf_reset(&b);
	CHECK_INT(tr_render_path(&b, TR_FMT_JSON, NULL, "lwn.net"), 0);
	CHECK_STR(tr_buf_str(&b), "/feeds/lwn.net.json");
	tr_buf_reset(&b);
	CHECK_INT(tr_render_path(&b, TR_FMT_OPML, NULL, NULL), 0);
	CHECK_STR(tr_buf_str(&b), "/feeds.opml");
	tr_buf_reset(&b);
	memset(&cfg, 0, sizeof(cfg));
	cfg.listen = S("127.0.0.1:8080");
	CHECK_INT(tr_render_base_url(&b, &cfg), 0);
	CHECK_STR(tr_buf_str(&b), "http://127.0.0.1:8080");
	tr_buf_reset(&b);
	cfg.base_url = S("https://planet.example/news//");
	CHECK_INT(tr_render_base_url(&b, &cfg), 0);
	CHECK_STR(tr_buf_str(&b), "https://planet.example/news");
	tr_buf_free(&b);
}

static void
test_atom(void)
{
	struct tr_item it[3];
	struct tr_buf out;
	struct rec r;

	three_items(it);
	CHECK_INT(render(&out, TR_FMT_ATOM, it, 3,
		      "https://planet.example/feed.atom?before=abc&limit=3",
		      1 << 20),
	    0);
	CHECK(clean_utf8(out.data, out.len));
	CHECK(xml_parse(&r, out.data, out.len));
	CHECK(strstr(out.data, "CDATA[") == NULL ||
	    strstr(out.data, "<![CDATA[") == NULL);
	CHECK(has(&r, "/feed@xmlns", "http://www.w3.org/2005/Atom"));
	CHECK(has(&r, "/feed/id", "https://planet.example/feed.atom"));
	CHECK(has(&r, "/feed/title", "Merged — tributary"));
	CHECK(has(&r, "/feed/updated", "2024-12-08T09:31:00Z"));
	CHECK(has(&r, "/feed/link@href",
	    "https://planet.example/feed.atom?before=abc&limit=3"));
	CHECK(has(&r, "/feed/link@rel", "next"));
	CHECK(has(&r, "/feed/link@rel", "self"));
	CHECK(has(&r, "/feed/generator", "tributary"));
	/* The next link is in the head, before the first entry. */
	CHECK(strstr(out.data, "rel=\"next\"") < strstr(out.data, "<entry>"));
	CHECK_INT(count(&r, "/feed/entry"), 3);
	CHECK_INT(count(&r, "/feed/entry/updated"), 3);
	CHECK_INT(count(&r, "/feed/entry/id"), 3);
	CHECK_INT(count(&r, "/feed/entry/title"), 3);
	CHECK_INT(count(&r, "/feed/entry/author/name"), 4);
	CHECK_INT(count(&r, "/feed/entry/source"), 3);
	/* The full item. */
	CHECK(has(&r, "/feed/entry/id", "https://example.org/posts/1"));
	CHECK(has(&r, "/feed/entry/title", "First post"));
	CHECK(has(&r, "/feed/entry/updated", "2024-12-07T09:30:00Z"));
	CHECK(has(&r, "/feed/entry/published", "2024-12-06T09:30:00Z"));
	CHECK(has(&r, "/feed/entry/author/name", "Ada Lovelace"));
	CHECK(has(&r, "/feed/entry/author/email", "ada@example.org"));
	CHECK(has(&r, "/feed/entry/author/name", "Bob"));
	CHECK(has(&r, "/feed/entry/category@term", "math & logic"));
	CHECK(has(&r, "/feed/entry/link@href", "https://example.org/a.mp3"));
	CHECK(has(&r, "/feed/entry/link@length", "12345"));
	CHECK(has(&r, "/feed/entry/link@type", "audio/mpeg"));
	CHECK(has(&r, "/feed/entry/link@rel", "enclosure"));
	CHECK(has(&r, "/feed/entry/summary@type", "html"));
	CHECK(has(&r, "/feed/entry/summary",
	    "<p>Short <b>summary</b> &amp; more</p>"));
	CHECK(has(&r, "/feed/entry/content", "<p>The full <i>content</i>.</p>"));
	CHECK(has(&r, "/feed/entry/source/id", "https://example.org/feed.xml"));
	CHECK(has(&r, "/feed/entry/source/title", "Example Feed"));
	CHECK(has(&r, "/feed/entry/source/updated", "2024-12-07T09:30:00Z"));
	/* The hostile item reads back as its sanitized text. */
	CHECK(has(&r, "/feed/entry/title", HOSTILE_READ));
	CHECK(has(&r, "/feed/entry/content", HOSTILE_READ "]]>]]>"));
	CHECK(has(&r, "/feed/entry/id", "urn:tributary:bad:42%20%3Cnot%20a%20uri%3E"));
	CHECK(has(&r, "/feed/entry/category@term", "a\"b<c>"));
	CHECK(has(&r, "/feed/entry/source/title", "Bad <Feed>"));
	/* The author whose name is only a control character is named by
	 * the e-mail, which has no '@' and is not written as one. */
	CHECK(has(&r, "/feed/entry/author/name", "not-an-email"));
	CHECK_INT(count(&r, "/feed/entry/author/email"), 1);
	/* The bare item: updated from the document, author from the feed
	 * name, and content since it has no link. */
	CHECK(has(&r, "/feed/entry/id", "urn:tributary:barefeed:bare-1"));
	CHECK(has(&r, "/feed/entry/updated", "2024-12-08T09:31:00Z"));
	CHECK(has(&r, "/feed/entry/author/name", "barefeed"));
	CHECK_INT(count(&r, "/feed/entry/content"), 3);
	rec_free(&r);
	tr_buf_free(&out);
}

static void
test_rss(void)
{
	struct tr_item it[4];
	struct tr_buf out;
	struct rec r;

	three_items(it);
	full_item(&it[3]);
	it[3].a.id = it[3].a.guid = S("urn:uuid:1");
	it[3].a.link = S("https://example.org/posts/2");
	CHECK_INT(render(&out, TR_FMT_RSS, it, 4, "https://planet.example/n",
		      1 << 20),
	    0);
	CHECK(clean_utf8(out.data, out.len));
	CHECK(xml_parse(&r, out.data, out.len));
	CHECK(has(&r, "/rss@version", "2.0"));
	CHECK(has(&r, "/rss/channel/title", "Merged — tributary"));
	CHECK(has(&r, "/rss/channel/link", "https://planet.example/"));
	CHECK(has(&r, "/rss/channel/description", "All the news"));
	CHECK(has(&r, "/rss/channel/lastBuildDate",
	    "Sun, 08 Dec 2024 09:31:00 GMT"));
	CHECK(has(&r, "/rss/channel/atom:link@href", "https://planet.example/n"));
	CHECK(has(&r, "/rss/channel/atom:link@rel", "next"));
	CHECK(strstr(out.data, "rel=\"next\"") < strstr(out.data, "<item>"));
	CHECK_INT(count(&r, "/rss/channel/item"), 4);
	/* The undated items (the hostile and the bare one) get no
	 * invented pubDate: not the time they were first seen either. */
	CHECK_INT(count(&r, "/rss/channel/item/pubDate"), 2);
	CHECK(has(&r, "/rss/channel/item/title", "First post"));
	CHECK(has(&r, "/rss/channel/item/pubDate",
	    "Fri, 06 Dec 2024 09:30:00 GMT"));
	CHECK(has(&r, "/rss/channel/item/guid", "https://example.org/posts/1"));
	CHECK(has(&r, "/rss/channel/item/guid@isPermaLink", "true"));
	CHECK_INT(count(&r, "/rss/channel/item/guid@isPermaLink"), 4);
	CHECK(has(&r, "/rss/channel/item/guid", "urn:uuid:1"));
	CHECK(has(&r, "/rss/channel/item/guid", "42 <not a uri>"));
	CHECK(has(&r, "/rss/channel/item/dc:creator", "Ada Lovelace"));
	CHECK(has(&r, "/rss/channel/item/category", "math & logic"));
	CHECK(has(&r, "/rss/channel/item/description",
	    "<p>Short <b>summary</b> &amp; more</p>"));
	CHECK(has(&r, "/rss/channel/item/content:encoded",
	    "<p>The full <i>content</i>.</p>"));
	CHECK(has(&r, "/rss/channel/item/enclosure@length", "12345"));
	CHECK(has(&r, "/rss/channel/item/enclosure@length", "0"));
	CHECK(has(&r, "/rss/channel/item/enclosure@type",
	    "application/octet-stream"));
	CHECK(has(&r, "/rss/channel/item/source@url",
	    "https://example.org/feed.xml"));
	CHECK(has(&r, "/rss/channel/item/source", "Example Feed"));
	CHECK(has(&r, "/rss/channel/item/title", HOSTILE_READ));
	CHECK(has(&r, "/rss/channel/item/source@url",
	    "https://bad.example/feed?a=1&b=2"));
	/* Only the guid equal to an http(s) link is a permalink. */
	{
		const char *g = strstr(out.data, "urn:uuid:1");
		CHECK(g && strncmp(g - 20, "isPermaLink=\"false\">", 20) == 0);
	}
	rec_free(&r);
	tr_buf_free(&out);
}

static void
test_json(void)
{
	struct tr_item it[3];
	struct tr_buf out;

	three_items(it);
	CHECK_INT(render(&out, TR_FMT_JSON, it, 3, "https://planet.example/n?x=\"",
		      1 << 20),
	    0);
	/* JSON may carry U+FFFE; controls must be escaped (RFC 8259 §7). */
	CHECK(valid_utf8(out.data, out.len, 1));
	CHECK(json_valid(out.data));
	CHECK(strstr(out.data,
	    "{\"version\":\"https://jsonfeed.org/version/1.1\"") == out.data);
	CHECK(strstr(out.data, "\"title\":\"Merged — tributary\""));
	CHECK(strstr(out.data, "\"feed_url\":\"https://planet.example/feed.atom\""));
	CHECK(strstr(out.data, "\"next_url\":\"https://planet.example/n?x=\\\"\""));
	CHECK(strstr(out.data, "\"id\":\"https://example.org/posts/1\""));
	CHECK(strstr(out.data, "\"content_html\":\"<p>The full <i>content</i>.</p>\""));
	CHECK(strstr(out.data, "\"summary\":\"Short summary & more\""));
	CHECK(strstr(out.data, "\"date_published\":\"2024-12-06T09:30:00Z\""));
	CHECK(strstr(out.data, "\"date_modified\":\"2024-12-07T09:30:00Z\""));
	CHECK(strstr(out.data, "\"authors\":[{\"name\":\"Ada Lovelace\","
			       "\"url\":\"https://example.org/ada\"},"
			       "{\"name\":\"Bob\"}]"));
	CHECK(strstr(out.data, "\"tags\":[\"science\",\"math & logic\"]"));
	CHECK(strstr(out.data, "{\"url\":\"https://example.org/b.bin\","
			       "\"mime_type\":\"application/octet-stream\"}"));
	CHECK(strstr(out.data, "\"size_in_bytes\":12345"));
	CHECK(strstr(out.data, "\"_source\":{\"title\":\"Example Feed\""));
	/* Hostile text: controls, quotes and newlines escaped. */
	CHECK(strstr(out.data, "\"title\":\"A]]>B<script>alert(1)</script>"
			       "\\u0001\\u001fC\xef\xbf\xbd"));
	CHECK(strstr(out.data, "\\\"'&\\r\\n\""));
	/* The bare item has an id, content_html and no dates. */
	CHECK(strstr(out.data, "{\"id\":\"bare-1\",\"content_html\":\"\","
			       "\"_source\":{\"title\":\"barefeed\""));
	tr_buf_free(&out);
}

static void
test_html(void)
{
	struct tr_item it[3];
	struct tr_buf out;

	three_items(it);
	CHECK_INT(render(&out, TR_FMT_HTML, it, 3, NULL, 1 << 20), 0);
	CHECK(clean_utf8(out.data, out.len));
	CHECK(strncmp(out.data, "<!DOCTYPE html>\n", 16) == 0);
	/* No third-party markup: the only <script> text is escaped. */
	CHECK(strstr(out.data, "<script") == NULL);
	CHECK(strstr(out.data, "&lt;script&gt;alert(1)") != NULL);
	CHECK(strstr(out.data, "javascript:") == NULL);
	CHECK(strstr(out.data, "<a href=\"https://example.org/posts/1\">"
			       "First post</a>"));
	CHECK(strstr(out.data, "<p>Short summary &amp; more</p>"));
	CHECK(strstr(out.data, "<time datetime=\"2024-12-06T09:30:00Z\">"
			       "2024-12-06 09:30 UTC</time>"));
	CHECK(strstr(out.data, "<link rel=\"alternate\" "
			       "type=\"application/atom+xml\""));
	CHECK(strstr(out.data, "href=\"https://planet.example/feed.json\""));
	CHECK(strstr(out.data, "href=\"https://planet.example/feeds.opml\""));
	CHECK(strstr(out.data, "(untitled)"));
	CHECK(strstr(out.data, "</html>\n"));
	tr_buf_free(&out);
}

static void
test_long_fields(void)
{
	static const enum tr_format fmts[] = {TR_FMT_ATOM, TR_FMT_RSS,
	    TR_FMT_JSON, TR_FMT_HTML};
	size_t n = 200000, i, f;
	char *big = malloc(n + 1);
	struct tr_item it;
	struct tr_buf out;
	struct rec r;

	for (i = 0; i < n; i++)
		big[i] = "ab <&>]\xc3\xa9"[i % 9];
	big[n] = '\0';
	full_item(&it);
	it.a.title = big;
	it.a.content = big;
	it.a.summary = big;
	for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		CHECK_INT(render(&out, fmts[f], &it, 1, NULL, 16 << 20), 0);
		CHECK(valid_utf8(out.data, out.len, fmts[f] == TR_FMT_JSON));
		if (fmts[f] == TR_FMT_ATOM || fmts[f] == TR_FMT_RSS) {
			CHECK(xml_parse(&r, out.data, out.len));
			rec_free(&r);
		}
		if (fmts[f] == TR_FMT_JSON)
			CHECK(json_valid(out.data));
		tr_buf_free(&out);
	}
	free(big);
}

/* A document past the buffer's cap fails with TR_ETOOBIG, at any size. */
static void
test_too_big(void)
{
	static const enum tr_format fmts[] = {TR_FMT_ATOM, TR_FMT_RSS,
	    TR_FMT_JSON, TR_FMT_HTML};
	struct tr_item it[3];
	struct tr_buf out;
	size_t f, max, full;
	int bad = 0;

	three_items(it);
	for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		CHECK_INT(render(&out, fmts[f], it, 3, "https://x/n", 1 << 20),
		    0);
		full = out.len;
		tr_buf_free(&out);
		for (max = 0; max < full; max += 7) {
			if (render(&out, fmts[f], it, 3, "https://x/n", max) !=
			    TR_ETOOBIG)
				bad++;
			CHECK(out.len <= max);
			tr_buf_free(&out);
		}
		CHECK_INT(render(&out, fmts[f], it, 3, "https://x/n", full), 0);
		tr_buf_free(&out);
	}
	CHECK_INT(bad, 0);
}

static void
test_empty(void)
{
	struct tr_buf out;
	struct rec r;

	CHECK_INT(render(&out, TR_FMT_ATOM, NULL, 0, NULL, 1 << 16), 0);
	CHECK(xml_parse(&r, out.data, out.len));
	CHECK_INT(count(&r, "/feed/entry"), 0);
	CHECK_INT(count(&r, "/feed/link@rel"), 2);
	rec_free(&r);
	tr_buf_free(&out);
	CHECK_INT(render(&out, TR_FMT_JSON, NULL, 0, NULL, 1 << 16), 0);
	CHECK(json_valid(out.data));
	CHECK(strstr(out.data, "\"items\":[]"));
	tr_buf_free(&out);
	CHECK_INT(render(&out, TR_FMT_RSS, NULL, 0, NULL, 1 << 16), 0);
	CHECK(xml_parse(&r, out.data, out.len));
	rec_free(&r);
	tr_buf_free(&out);
	/* OPML is not an item stream. */
	{
		struct tr_render *rr = NULL;
		tr_buf_init(&out, 1024);
		CHECK_INT(tr_render_begin(&rr, &out, TR_FMT_OPML, &doc),
		    TR_EINVAL);
		CHECK(rr == NULL);
	}
}

static void
test_opml(void)
{
	char *tags1[2];
	struct tr_feed_conf feeds[3];
	struct tr_config cfg;
	struct tr_buf out;
	struct rec r;

	tags1[0] = S("world");
	tags1[1] = S("news & views");
	memset(&cfg, 0, sizeof(cfg));
	memset(feeds, 0, sizeof(feeds));
	cfg.title = S("My <planet>");
	feeds[0].name = S("world");
	feeds[0].url = S("https://example.org/world.xml?a=1&b=2");
	feeds[0].title = S("World \x01News");
	feeds[0].tags = tags1;
	feeds[0].n_tags = 2;
	/* A file's path is not an address to show: left out, unless the
	 * feed has a public_url. */
	feeds[1].name = S("plain");
	feeds[1].url = S("file:///tmp/plain.xml");
	feeds[2].name = S("local");
	feeds[2].url = S("file:///srv/feeds/local.xml");
	feeds[2].public_url = S("https://example.org/local.xml");
	cfg.feeds = feeds;
	cfg.n_feeds = 3;
	tr_buf_init(&out, 1 << 16);
	CHECK_INT(tr_render_opml(&out, &cfg, NULL), 0);
	CHECK(xml_parse(&r, out.data, out.len));
	CHECK(has(&r, "/opml@version", "2.0"));
	CHECK(has(&r, "/opml/head/title", "My <planet>"));
	CHECK_INT(count(&r, "/opml/body/outline"), 2);
	CHECK(has(&r, "/opml/body/outline@xmlUrl",
	    "https://example.org/world.xml?a=1&b=2"));
	CHECK(has(&r, "/opml/body/outline@title", "World News"));
	CHECK(has(&r, "/opml/body/outline@text", "local"));
	CHECK(has(&r, "/opml/body/outline@xmlUrl",
	    "https://example.org/local.xml"));
	CHECK(strstr(out.data, "\"plain\"") == NULL);
	CHECK(strstr(out.data, "file:") == NULL);
	CHECK(has(&r, "/opml/body/outline@type", "rss"));
	CHECK(has(&r, "/opml/body/outline@category", "/world,/news & views"));
	CHECK_INT(count(&r, "/opml/body/outline@category"), 1);
	rec_free(&r);
	tr_buf_free(&out);
	tr_buf_init(&out, 100);
	CHECK_INT(tr_render_opml(&out, &cfg, NULL), TR_ETOOBIG);
	tr_buf_free(&out);
}

/*
 * One publisher's huge article: every format cuts its text at the caps,
 * at a tag boundary, says so with a link to the original, and stays a
 * valid document; past the page budget items come without their text.
 */
static void
test_huge_items_capped(void)
{
	static const enum tr_format fmts[] = {TR_FMT_ATOM, TR_FMT_RSS,
	    TR_FMT_JSON, TR_FMT_HTML};
	static const char unit[] = "<p>caf\xc3\xa9 &amp; <b>bold</b> text "
				   "\xe2\x98\x83 long paragraph</p>\n";
	struct tr_buf big, out;
	static struct tr_item it[80];
	size_t f, i;

	tr_buf_init(&big, 4 << 20);
	while (big.len < (1 << 20))
		tr_buf_adds(&big, unit);
	for (i = 0; i < 80; i++) {
		bare_item(&it[i]);
		it[i].a.link = S("https://big.example/article?id=1&x=2");
		it[i].a.title = S(big.data); /* a 1 MiB title, too */
		it[i].a.summary = S(big.data);
		it[i].a.content = S(big.data);
	}
	for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		const char *d;
		size_t per;

		/* One item: its text is cut, not the document refused. */
		CHECK_INT(render(&out, fmts[f], it, 1, NULL, 64 << 20), 0);
		d = tr_buf_str(&out);
		CHECK(out.len < TR_RENDER_TEXT_MAX * 6 + TR_RENDER_SUMMARY_MAX * 6
		    + TR_RENDER_TITLE_MAX * 6 + 8192);
		/* The page shows short plain-text excerpts: no note. */
		if (fmts[f] != TR_FMT_HTML) {
			CHECK(strstr(d, "longer than shown here: 1024 KB of "
			    "text, cut at 32 KB") != NULL);
			CHECK(strstr(d, "longer than shown here: 1024 KB of "
			    "text, cut at 4 KB") != NULL ||
			    fmts[f] == TR_FMT_JSON);
			CHECK(strstr(d, "Read it in full at its source") !=
			    NULL);
			CHECK(strstr(d, "big.example/article?id=1&amp;x=2") !=
				NULL ||
			    strstr(d, "big.example/article?id=1&amp;amp;x=2") !=
				NULL);
		}
		CHECK(clean_utf8(out.data, out.len));
		if (fmts[f] == TR_FMT_JSON) {
			CHECK(json_valid(d));
		} else if (fmts[f] != TR_FMT_HTML) {
			struct rec r;

			CHECK(xml_parse(&r, out.data, out.len));
			rec_free(&r);
		}
		tr_buf_free(&out);

		/* 80 such items: the page stays near its budget. */
		CHECK_INT(render(&out, fmts[f], it, 80, NULL, 64 << 20), 0);
		d = tr_buf_str(&out);
		per = out.len / 80;
		if (out.len > TR_RENDER_PAGE_BUDGET + (1 << 20))
			printf("  %s: %zu bytes for 80 huge items\n",
			    tr_format_name(fmts[f]), out.len);
		CHECK(out.len < TR_RENDER_PAGE_BUDGET + 256 * 1024);
		CHECK(per > 0);
		if (fmts[f] != TR_FMT_HTML)
			CHECK(strstr(d, "is left out: this page is full") !=
			    NULL);
		if (fmts[f] == TR_FMT_JSON)
			CHECK(json_valid(d));
		else if (fmts[f] != TR_FMT_HTML) {
			struct rec r;

			CHECK(xml_parse(&r, out.data, out.len));
			rec_free(&r);
		}
		tr_buf_free(&out);
	}
	tr_buf_free(&big);
}

/* Where a cut falls: never inside a tag, a reference or a character. */
static void
test_cut_boundaries(void)
{
	static const char *const tails[] = {
	    "<a href=\"https://x.example/?a=1&b=2\">link</a>",
	    "&amp;&lt;&#x2603;&#9731;",
	    "\xe2\x98\x83\xe2\x98\x83\xe2\x98\x83\xf0\x9f\x98\x80",
	    "<img src=x alt='<p>'>",
	    /* a tag longer than any window: an inline image of 40 KB */
	    "<img src=\"data:image/png;base64,AAAA",
	};
	struct tr_buf html, out;
	struct tr_item it;
	size_t t, pad;

	for (t = 0; t < sizeof(tails) / sizeof(tails[0]); t++) {
		for (pad = 0; pad < 40; pad++) {
			struct rec r;
			const char *c, *end;

			tr_buf_init(&html, 1 << 20);
			while (html.len < TR_RENDER_TEXT_MAX - 20 + pad)
				tr_buf_addc(&html, 'x');
			if (t == 4) { /* one tag runs on past the cap */
				tr_buf_adds(&html, tails[t]);
				while (html.len < TR_RENDER_TEXT_MAX + 50000)
					tr_buf_adds(&html, "AAAA");
				tr_buf_adds(&html, "\"> after");
			}
			while (html.len < TR_RENDER_TEXT_MAX + 200)
				tr_buf_adds(&html, tails[t]);
			bare_item(&it);
			it.a.link = S("https://x.example/");
			it.a.content = S(html.data);
			CHECK_INT(render(&out, TR_FMT_ATOM, &it, 1, NULL,
			    1 << 22), 0);
			CHECK(clean_utf8(out.data, out.len));
			CHECK(xml_parse(&r, out.data, out.len));
			/* The kept HTML (escaped in the XML) ends at a
			 * boundary: its last '<' is closed before the note,
			 * and no '&' is left open. */
			c = strstr(tr_buf_str(&r.lines),
			    "<p><em>[This article");
			CHECK(c != NULL);
			if (c) {
				const char *lt = NULL, *p;

				end = tr_buf_str(&r.lines);
				for (p = end; p < c; p++)
					if (*p == '<')
						lt = p;
				CHECK(lt == NULL ||
				    memchr(lt, '>', (size_t)(c - lt)) != NULL);

				for (p = c; p > end && c - p < 12; p--)
					if (p[-1] == ';' || p[-1] == '&')
						break;
				CHECK(p == end || c - p >= 12 || p[-1] != '&');
			}
			rec_free(&r);
			tr_buf_free(&out);
			tr_buf_free(&html);
		}
	}
}


/*
 * A document written out in pieces (tr_render_drain() after each item,
 * the next link given up front for Atom and RSS) is the same bytes as
 * one built whole: hostile items, huge ones past the page budget, with
 * and without a next link. Without the link up front, Atom and RSS
 * refuse to end a drained document rather than misplace it.
 */
static void
test_drained_same_bytes(void)
{
	static const enum tr_format fmts[] = {TR_FMT_ATOM, TR_FMT_RSS,
	    TR_FMT_JSON, TR_FMT_HTML};
	static const char *const nexts[] = {NULL,
	    "https://planet.example/feed.atom?limit=3&before=a%20b"};
	static struct tr_item it[43];
	struct tr_buf big;
	size_t f, k, i;

	tr_buf_init(&big, 1 << 20);
	while (big.len < 200 * 1024)
		tr_buf_adds(&big, "<p>caf\xc3\xa9 &amp; <b>bold</b></p>\n");
	three_items(it);
	for (i = 3; i < 43; i++) {
		bare_item(&it[i]);
		it[i].a.link = S("https://big.example/a?id=1&x=2");
		it[i].a.summary = S(i % 2 ? big.data : "<p>short</p>");
		it[i].a.content = S(big.data);
	}
	for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++)
		for (k = 0; k < 2; k++) {
			struct tr_render_doc d = doc;
			struct tr_render *r = NULL;
			struct tr_buf whole, piece, all;
			int head = fmts[f] == TR_FMT_ATOM ||
			    fmts[f] == TR_FMT_RSS;

			CHECK_INT(render(&whole, fmts[f], it, 43, nexts[k],
			    64 << 20), 0);
			/* Past the budget (the page shows short excerpts). */
			CHECK(whole.len > TR_RENDER_PAGE_BUDGET ||
			    fmts[f] == TR_FMT_HTML);
			tr_buf_init(&piece, 1 << 20);
			tr_buf_init(&all, 64 << 20);
			if (head)
				d.next_url = nexts[k];
			CHECK_INT(tr_render_begin(&r, &piece, fmts[f], &d), 0);
			for (i = 0; i < 43 && r; i++) {
				CHECK_INT(tr_render_item(&it[i], r), 0);
				tr_buf_add(&all, piece.data, piece.len);
				tr_render_drain(r);
				CHECK_INT((int)piece.len, 0);
			}
			CHECK_INT(tr_render_end(r, nexts[k]), 0);
			tr_buf_add(&all, piece.data, piece.len);
			tr_render_free(r);
			if (whole.len != all.len ||
			    memcmp(whole.data, all.data, all.len) != 0)
				printf("  %s next=%s: %zu bytes whole, %zu in "
				    "pieces\n", tr_format_name(fmts[f]),
				    nexts[k] ? "yes" : "no", whole.len, all.len);
			CHECK(whole.len == all.len &&
			    memcmp(whole.data, all.data, all.len) == 0);
			/* The link only at the end: refused, not misplaced. */
			if (head && nexts[k]) {
				tr_buf_reset(&piece);
				CHECK_INT(tr_render_begin(&r, &piece, fmts[f],
				    &doc), 0);
				tr_render_drain(r);
				CHECK_INT(tr_render_end(r, nexts[k]), TR_EINVAL);
				tr_render_free(r);
			}
			tr_buf_free(&whole);
			tr_buf_free(&piece);
			tr_buf_free(&all);
		}
	tr_buf_free(&big);
}

TR_TESTS(test_formats, test_paths, test_atom, test_rss, test_json,
    test_html, test_long_fields, test_too_big, test_empty, test_opml,
    test_huge_items_capped, test_cut_boundaries, test_drained_same_bytes)
