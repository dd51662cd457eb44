/*
 * test_store_feed_author.c — an item without an author takes its feed's,
 * wherever the document names the feed's author: before the items (the
 * parser gives it to them), after some of them (the store keeps the
 * feed's author and the merged query hands it to the items without one),
 * or not at all. A table of documents, each parsed, stored and read back
 * through the merged query and all four renderers (Atom, RSS, JSON Feed,
 * the HTML page); on SQLite and, with TR_TEST_PG, PostgreSQL.
 */
#include "test_store_util.h"
#include "tributary/parse.h"
#include "tributary/render.h"

static const char conf1[] = "[tributary]\n"
			    "database = x.db\n"
			    "[feed \"f\"]\n"
			    "url = http://127.0.0.1:1/f.xml\n";

#define ATOM_HEAD                                                             \
	"<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>t</title>"        \
	"<id>urn:f</id><updated>2024-01-01T00:00:00Z</updated>"
#define ENTRY(n, extra)                                                       \
	"<entry><id>urn:e" #n "</id><title>e" #n "</title>"                   \
	"<updated>2024-01-0" #n "T00:00:00Z</updated>" extra "</entry>"
#define RSS_HEAD                                                              \
	"<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\""  \
	" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\">"       \
	"<channel><title>t</title><link>http://ex.org/</link>"                \
	"<description>d</description>"
#define ITEM(n, extra)                                                        \
	"<item><guid>urn:e" #n "</guid><title>e" #n "</title>"                \
	"<pubDate>0" #n " Jan 2024 00:00:00 GMT</pubDate>" extra "</item>"

/*
 * A document of three items (e1, e2, e3) and the author each must show,
 * in document order ("" for none).
 */
static const struct {
	const char *name, *doc;
	const char *want[3];
} cases[] = {
    {"atom: the feed's author before the entries",
     ATOM_HEAD "<author><name>Early Author</name></author>" ENTRY(1, "")
	 ENTRY(2, "") ENTRY(3, "") "</feed>",
     {"Early Author", "Early Author", "Early Author"}},
    {"atom: the feed's author after the entries",
     ATOM_HEAD ENTRY(1, "") ENTRY(2, "")
	 ENTRY(3, "") "<author><name>Late Author</name></author></feed>",
     {"Late Author", "Late Author", "Late Author"}},
    {"atom: the feed's author between the entries",
     ATOM_HEAD ENTRY(1, "") "<author><name>Mid Author</name></author>"
	 ENTRY(2, "") ENTRY(3, "") "</feed>",
     {"Mid Author", "Mid Author", "Mid Author"}},
    {"atom: entries with authors of their own keep them",
     ATOM_HEAD ENTRY(1, "<author><name>Own One</name></author>")
	 ENTRY(2, "") ENTRY(3, "<author><name>Own Three</name></author>")
	     "<author><name>Feed Author</name></author></feed>",
     {"Own One", "Feed Author", "Own Three"}},
    {"atom: no author anywhere",
     ATOM_HEAD ENTRY(1, "") ENTRY(2, "") ENTRY(3, "") "</feed>",
     {"", "", ""}},
    /*
     * RSS: the channel's author is its <author>, <managingEditor> (as
     * feedparser reads it: feed.author), dc:creator or itunes:author.
     */
    {"rss: managingEditor after the items",
     RSS_HEAD ITEM(1, "") ITEM(2, "")
	 "<managingEditor>ed@example.com (Ed Itor)</managingEditor>"
	     ITEM(3, "") "</channel></rss>",
     {"Ed Itor", "Ed Itor", "Ed Itor"}},
    {"rss: channel dc:creator after the items, an item's own",
     RSS_HEAD ITEM(1, "<dc:creator>Own Writer</dc:creator>") ITEM(2, "")
	 ITEM(3, "") "<dc:creator>Chan Creator</dc:creator></channel></rss>",
     {"Own Writer", "Chan Creator", "Chan Creator"}},
    {"rss: channel itunes:author after the items",
     RSS_HEAD ITEM(1, "") ITEM(2, "") ITEM(3, "")
	 "<itunes:author>Pod Caster</itunes:author></channel></rss>",
     {"Pod Caster", "Pod Caster", "Pod Caster"}},
    {"rss: none", RSS_HEAD ITEM(1, "") ITEM(2, "") ITEM(3, "")
		      "</channel></rss>",
     {"", "", ""}},
};

struct sink {
	struct tr_store_batch *b;
};

static int
add_cb(const struct tr_article *a, void *arg)
{
	return tr_store_batch_add(((struct sink *)arg)->b, a);
}

/* Parses doc and stores it as feed f, with the document's metadata. */
static void
store_doc_text(struct tr_store *st, const char *doc)
{
	struct tr_parse_opts o;
	struct tr_parser *p = NULL;
	struct sink s = {NULL};

	memset(&o, 0, sizeof(o));
	o.base_url = "http://ex.org/f.xml";
	CHECK_INT(tr_store_batch_begin(&s.b, st, "f"), 0);
	CHECK_INT(tr_parser_new(&p, &o, add_cb, &s), 0);
	CHECK_INT(tr_parser_feed(p, doc, strlen(doc)), 0);
	CHECK_INT(tr_parser_finish(p), 0);
	CHECK_INT(tr_store_batch_commit(s.b, tr_parser_meta(p), NULL), 0);
	tr_store_batch_free(s.b);
	tr_parser_free(p);
}

struct authors {
	char got[3][64];
	size_t n;
};

static int
author_cb(const struct tr_item *it, void *arg)
{
	struct authors *w = arg;
	int k = it->a.id ? it->a.id[strlen(it->a.id) - 1] - '1' : -1;

	w->n++;
	if (k >= 0 && k < 3)
		snprintf(w->got[k], sizeof(w->got[k]), "%s",
		    it->a.author ? it->a.author : "");
	return 0;
}

/* The number of times needle occurs in hay. */
static int
count(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL)
		n++, hay += strlen(needle);
	return n;
}

/* Each renderer names each expected author once per item that has it. */
static void
check_renders(struct tr_store *st, const char *name,
    const char *const want[3])
{
	static const struct tr_render_doc doc = {"merged", NULL,
	    "urn:merged", "http://127.0.0.1/feed.atom",
	    "http://127.0.0.1/", 0, NULL, NULL, NULL, NULL, NULL, NULL,
	    NULL, NULL, NULL};
	static const enum tr_format fmts[] = {TR_FMT_ATOM, TR_FMT_RSS,
	    TR_FMT_JSON, TR_FMT_HTML};
	/* What each format writes around an author's name. */
	static const char *const before[] = {"<name>", "<dc:creator>",
	    "\"name\":\"", "by <span class=\"author\">"};
	static const char *const after[] = {"</name>", "</dc:creator>", "\"",
	    "</span>"};
	struct tr_query q = q_all();
	struct tr_render *r = NULL;
	struct tr_buf out;
	char needle[128], label[200];
	size_t f, i, k;

	for (f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		tr_buf_init(&out, 1 << 22);
		CHECK_INT(tr_render_begin(&r, &out, fmts[f], &doc), 0);
		CHECK_INT(tr_store_query(st, &q, tr_render_item, r, NULL), 0);
		CHECK_INT(tr_render_end(r, NULL), 0);
		tr_render_free(r);
		for (i = 0; i < 3; i++) {
			int n = 0;

			if (want[i][0] == '\0')
				continue;
			for (k = 0; k < 3; k++)
				n += strcmp(want[k], want[i]) == 0;
			snprintf(needle, sizeof(needle), "%s%s%s", before[f],
			    want[i], after[f]);
			snprintf(label, sizeof(label), "%s: %s: %s", name,
			    tr_format_name(fmts[f]), needle);
			CHECK_STR_CASE(label,
			    count(tr_buf_str(&out), needle) == n ? "yes" : "no",
			    "yes");
		}
		tr_buf_free(&out);
	}
}

static void
test_feed_author(void)
{
	struct tr_config *cfg = cfg_from(conf1);
	size_t i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = tmp_db();
		struct tr_store *st = NULL;
		struct tr_query q = q_all();
		struct authors w;

		memset(&w, 0, sizeof(w));
		CHECK_INT(tr_store_open(&st, path, 0), 0);
		CHECK_INT(tr_store_sync_config(st, cfg), 0);
		store_doc_text(st, cases[i].doc);
		CHECK_INT(tr_store_query(st, &q, author_cb, &w, NULL), 0);
		CHECK_INT((int)w.n, 3);
		for (k = 0; k < 3; k++)
			CHECK_STR_CASE(cases[i].name, w.got[k],
			    cases[i].want[k]);
		check_renders(st, cases[i].name, cases[i].want);
		tr_store_close(st);
		rm_db(path);
	}
	tr_config_free(cfg);
}

/*
 * The feed's author is the latest document's: a document that names
 * another changes what the items without one show, and one that names
 * none leaves them without.
 */
static void
test_feed_author_changes(void)
{
	struct tr_config *cfg = cfg_from(conf1);
	char *path = tmp_db();
	struct tr_store *st = NULL;
	struct tr_query q = q_all();
	struct authors w;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	store_doc_text(st, ATOM_HEAD ENTRY(1, "")
	    "<author><name>First</name></author></feed>");
	store_doc_text(st, ATOM_HEAD ENTRY(1, "")
	    "<author><name>Second</name></author></feed>");
	memset(&w, 0, sizeof(w));
	CHECK_INT(tr_store_query(st, &q, author_cb, &w, NULL), 0);
	CHECK_STR(w.got[0], "Second");
	store_doc_text(st, ATOM_HEAD ENTRY(1, "") "</feed>");
	memset(&w, 0, sizeof(w));
	CHECK_INT(tr_store_query(st, &q, author_cb, &w, NULL), 0);
	CHECK_STR(w.got[0], "");
	tr_store_close(st);
	rm_db(path);
	tr_config_free(cfg);
}

TR_TESTS(test_feed_author, test_feed_author_changes)
