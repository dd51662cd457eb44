/*
 * test_store_search_text.c — the full-text index holds what a reader
 * reads, not markup: a table of bodies and words, each word looked for
 * in articles stored two ways: through the feed parser (whose sanitizer
 * gives the text on its own walk, a->text) and handed to the store
 * directly with HTML bodies (the store derives the text). Runs on SQLite
 * and, with TR_TEST_PG, on PostgreSQL (tests/run); and an SQLite file of
 * schema 8, whose index held markup, migrated.
 */
#include "test_store_util.h"
#include "tributary/parse.h"

/* CHECK_INT naming the case that failed. */
#define CHECK_INT_CASE(casename, got, want)                                   \
	do {                                                                  \
		long long g_ = (long long)(got), w_ = (long long)(want);      \
		if (g_ != w_) {                                               \
			printf("  %s:%d: [%s] got %lld, want %lld\n",         \
			    __FILE__, __LINE__, (casename), g_, w_);          \
			tr_test_failed_checks++;                              \
		}                                                             \
	} while (0)

static const char conf2[] = "[tributary]\n"
			    "database = x.db\n"
			    "[feed \"parsed\"]\n"
			    "url = http://127.0.0.1:1/p.xml\n"
			    "[feed \"direct\"]\n"
			    "url = http://127.0.0.1:1/d.xml\n";

/*
 * A body (the content; the summary is "summary") and a search: found or
 * not. Words are chosen to appear nowhere else in the table.
 */
static const struct {
	const char *body; /* HTML */
	const char *q;
	int found;
} cases[] = {
    /* Attributes are markup: their words are not the text. */
    {"<a href=\"http://ex.org/hrefonlyword\">click</a>", "hrefonlyword", 0},
    {"<a href=\"http://ex.org/x\">linktextword</a>", "linktextword", 1},
    {"<a href=\"https://ex.org/y\">z1</a>", "https", 0},
    {"<a href=\"https://ex.org/y\">z2</a>", "href", 0},
    {"<img src=\"http://ex.org/srconlyword.png\">", "srconlyword", 0},
    {"<img src=\"http://ex.org/i.png\" alt=\"altonlyword\">", "altonlyword",
     0},
    {"<p class=\"classonlyword\">para</p>", "classonlyword", 0},
    {"<p style=\"color: styleonlyword\">para</p>", "styleonlyword", 0},
    {"<p title=\"titleattrword\">para</p>", "titleattrword", 0},
    /* Tag names. */
    {"<strong>boldword</strong>", "strong", 0},
    {"<strong>boldword2</strong>", "boldword2", 1},
    {"<blockquote>quoted</blockquote>", "blockquote", 0},
    {"<img src=\"http://ex.org/a.png\">", "img", 0},
    /* Character references are their characters. */
    {"fish &amp; chips", "\"fish chips\"", 1},
    {"fish2 &amp; chips2", "amp", 0},
    {"caf&eacute; entityword", "café", 1},
    {"&lt;fakeelement&gt; shown", "fakeelement", 1},
    /* Comments are not text. */
    {"x<!-- commentword -->y", "commentword", 0},
    /* Inline tags do not split a word, as a reader sees "foobar". */
    {"<b>splitfoo</b>splitbar", "splitfoosplitbar", 1},
    {"<b>splitfoo2</b>splitbar2", "splitbar2", 0},
    {"<b>splitfoo3</b>splitbar3", "splitfoo3*", 1},
    /* Blocks and line breaks do. */
    {"<p>blockone</p><p>blocktwo</p>", "blocktwo", 1},
    {"lineone<br>linetwo", "linetwo", 1},
    /* What the sanitizer dropped, with its contents. */
    {"<script>scriptword()</script>kept", "scriptword", 0},
    {"<style>.styleblockword{}</style>kept", "styleblockword", 0},
    /* Plain text stays text. */
    {"a plain text summary plainword", "plainword", 1},
    {"see http://ex.org/report?id=7 urlintext",
     "http://ex.org/report?id=7", 1},
    /* Non-ASCII, accents folded both ways. */
    {"<em>Crème</em> brûlée", "creme brulee", 1},
    {"<p>\xe5\x8c\x97\xe4\xba\xac</p>", "\xe5\x8c\x97\xe4\xba\xac", 1},
    {"<i>Ünïcödé</i>", "unicode", 1},
};
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

/* The feed's articles as an Atom document: entry i holds cases[i]. */
static char *
atom_doc(void)
{
	struct tr_buf b;
	size_t i;

	tr_buf_init(&b, 1 << 20);
	CHECK_INT(tr_buf_adds(&b, "<feed xmlns=\"http://www.w3.org/2005/Atom\">"
	    "<title>t</title><id>urn:x</id>"
	    "<updated>2024-01-01T00:00:00Z</updated>"), 0);
	for (i = 0; i < N_CASES; i++) {
		const char *p;

		CHECK_INT(tr_buf_printf(&b, "<entry><id>urn:e%zu</id>"
		    "<title>entry</title><updated>2024-01-01T00:00:%02zuZ"
		    "</updated><summary>summary</summary>"
		    "<content type=\"html\">", i, i % 60), 0);
		for (p = cases[i].body; *p; p++) /* escaped as XML text */
			CHECK_INT(*p == '<' ? tr_buf_adds(&b, "&lt;")
			    : *p == '&' ? tr_buf_adds(&b, "&amp;")
			    : tr_buf_addc(&b, *p), 0);
		CHECK_INT(tr_buf_adds(&b, "</content></entry>"), 0);
	}
	CHECK_INT(tr_buf_adds(&b, "</feed>"), 0);
	return tr_buf_detach(&b);
}

struct sink {
	struct tr_store_batch *b;
	size_t n, with_text;
};

static int
add_cb(const struct tr_article *a, void *arg)
{
	struct sink *s = arg;

	s->n++;
	s->with_text += a->text != NULL;
	return tr_store_batch_add(s->b, a);
}

/* The document through the parser into feed "parsed". */
static void
store_parsed(struct tr_store *st)
{
	struct tr_parse_opts o;
	struct tr_parser *p = NULL;
	struct sink s = {NULL, 0, 0};
	char *doc = atom_doc();

	memset(&o, 0, sizeof(o));
	o.base_url = "http://ex.org/feed.xml";
	CHECK_INT(tr_store_batch_begin(&s.b, st, "parsed"), 0);
	CHECK_INT(tr_parser_new(&p, &o, add_cb, &s), 0);
	CHECK_INT(tr_parser_feed(p, doc, strlen(doc)), 0);
	CHECK_INT(tr_parser_finish(p), 0);
	CHECK_INT((int)s.n, (int)N_CASES);
	CHECK_INT((int)s.with_text, (int)N_CASES);
	CHECK_INT(tr_store_batch_commit(s.b, NULL, NULL), 0);
	tr_store_batch_free(s.b);
	tr_parser_free(p);
	free(doc);
}

/* The same bodies as they are into feed "direct": the store's text. */
static void
store_direct(struct tr_store *st)
{
	struct tr_article v[N_CASES];
	size_t i;
	char id[32];

	for (i = 0; i < N_CASES; i++) {
		snprintf(id, sizeof(id), "urn:d%zu", i);
		mkart(&v[i], id, NULL, "entry", 1000 + (int64_t)i);
		v[i].content = xstrdup(cases[i].body);
	}
	CHECK_INT(store_doc(st, "direct", v, N_CASES, NULL), 0);
	free_arts(v, N_CASES);
}

/* Each case's search, in each feed: the entry found, or nothing. */
static void
check_cases(struct tr_store *st, const char *feed, const char *id_prefix)
{
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();
	char want[32], label[160];
	size_t i;

	q.feed = feed;
	for (i = 0; i < N_CASES; i++) {
		q.q = cases[i].q;
		snprintf(want, sizeof(want), "%s%zu", id_prefix, i);
		snprintf(label, sizeof(label), "%s: %s in %s", feed, cases[i].q,
		    cases[i].body);
		CHECK_INT_CASE(label, query(st, &q, p, NULL), 0);
		if (cases[i].found) {
			CHECK_INT_CASE(label, (int)p->n, 1);
			if (p->n == 1)
				CHECK_STR_CASE(label, p->items[0].id, want);
		} else {
			CHECK_INT_CASE(label, (int)p->n, 0);
		}
	}
	/* The title and the summary are indexed as ever. */
	q.q = "entry summary";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT((int)p->n, (int)N_CASES);
	page_free(p);
	free(p);
}

static void
test_index_holds_text(void)
{
	char *path = tmp_db();
	struct tr_config *cfg = cfg_from(conf2);
	struct tr_store *st = NULL;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	store_parsed(st);
	store_direct(st);
	check_cases(st, "parsed", "urn:e");
	check_cases(st, "direct", "urn:d");
	/* A changed body changes what is found. */
	{
		struct tr_article a;
		struct page *p = calloc(1, sizeof(*p));
		struct tr_query q = q_all();

		mkart(&a, "urn:d0", NULL, "entry", 1000);
		a.content = xstrdup("<a href=\"http://ex.org/z\">newlinkword</a>");
		CHECK_INT(store_doc(st, "direct", &a, 1, NULL), 0);
		tr_article_free(&a);
		q.q = "newlinkword";
		CHECK_INT(query(st, &q, p, NULL), 0);
		CHECK_INT((int)p->n, 1);
		q.q = "click";
		q.feed = "direct";
		CHECK_INT(query(st, &q, p, NULL), 0);
		CHECK_INT((int)p->n, 0);
		page_free(p);
		free(p);
	}
	tr_store_close(st);
	tr_config_free(cfg);
	rm_db(path);
}

/* SQL on the file itself (sqlite3), outside the store. */
static void
raw_exec(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	char *err = NULL;

	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		printf("  %s\n", err ? err : "?");
	CHECK(err == NULL);
	sqlite3_free(err);
	sqlite3_close(db);
}

/*
 * An SQLite file of schema 8 (its index over the HTML of title, summary
 * and content, as that version wrote it) found markup; migrated, its
 * index holds the text of the stored bodies.
 */
static void
test_migrated_sqlite(void)
{
	char *path;
	struct tr_config *cfg;
	struct tr_store *st = NULL;
	struct page *p;
	struct tr_query q = q_all();

	SKIP_PG("an SQLite file of schema 8");
	cfg = cfg_from(conf2);
	p = calloc(1, sizeof(*p));
	path = tmp_db();
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	store_direct(st);
	tr_store_close(st);
	/* Back to schema 8: the index as it was, body_text gone. */
	raw_exec(path,
	    "DROP TRIGGER articles_fts_ai; DROP TRIGGER articles_fts_ad;"
	    "DROP TRIGGER articles_fts_au; DROP TABLE articles_fts;"
	    "ALTER TABLE articles DROP COLUMN body_text;"
	    "CREATE VIRTUAL TABLE articles_fts USING fts5(title, summary,"
	    " content, content='articles', content_rowid='id');"
	    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild');"
	    "CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles"
	    "  WHEN new.id <= (SELECT value FROM meta WHERE key = 'fts_done')"
	    "  BEGIN INSERT INTO articles_fts(rowid, title, summary, content)"
	    "  VALUES (new.id, new.title, new.summary, new.content); END;"
	    "CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles"
	    "  WHEN old.id <= (SELECT value FROM meta WHERE key = 'fts_done')"
	    "  BEGIN INSERT INTO articles_fts(articles_fts, rowid, title,"
	    "  summary, content) VALUES ('delete', old.id, old.title,"
	    "  old.summary, old.content); END;"
	    "CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, summary,"
	    "  content ON articles"
	    "  WHEN old.id <= (SELECT value FROM meta WHERE key = 'fts_done')"
	    "  BEGIN INSERT INTO articles_fts(articles_fts, rowid, title,"
	    "  summary, content) VALUES ('delete', old.id, old.title,"
	    "  old.summary, old.content);"
	    "  INSERT INTO articles_fts(rowid, title, summary, content)"
	    "  VALUES (new.id, new.title, new.summary, new.content); END;"
	    "ALTER TABLE feeds DROP COLUMN doc_author;"
	    "ALTER TABLE articles DROP COLUMN raw_hash;"
	    "PRAGMA user_version = 8;");
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles_fts"
	    " WHERE articles_fts MATCH 'hrefonlyword'"), 1);
	st = NULL;
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(sql_int(path, "PRAGMA user_version"), 11);
	/* FTS5's own check of the rebuilt index against the rows. */
	raw_exec(path, "INSERT INTO articles_fts(articles_fts)"
	    " VALUES ('integrity-check')");
	check_cases(st, "direct", "urn:d");
	/* New articles after the migration are indexed too. */
	store_parsed(st);
	check_cases(st, "parsed", "urn:e");
	q.q = "hrefonlyword";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT((int)p->n, 0);
	tr_store_close(st);
	page_free(p);
	free(p);
	tr_config_free(cfg);
	rm_db(path);
}

/*
 * A PostgreSQL database of schema 3 (tsv made from the HTML of title,
 * summary and content, as that version made it) found markup; migrated,
 * its tsv holds the text of the stored bodies.
 */
static void
test_migrated_pg(void)
{
	char *path;
	struct tr_config *cfg;
	struct tr_store *st = NULL;
	PGconn *c;
	PGresult *r;

	if (!is_pg())
		SKIP("a PostgreSQL database of schema 3 (TR_TEST_PG)");
	cfg = cfg_from(conf2);
	path = tmp_db();
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	store_direct(st);
	tr_store_close(st);
	c = PQconnectdb(path);
	CHECK_INT(PQstatus(c), CONNECTION_OK);
	r = PQexec(c, "DROP INDEX articles_tsv;"
	    "ALTER TABLE articles DROP COLUMN tsv;"
	    "ALTER TABLE articles DROP COLUMN body_text;"
	    "ALTER TABLE articles ADD COLUMN tsv tsvector GENERATED ALWAYS AS"
	    "  (to_tsvector('tr_search', coalesce(title, '') || ' ' ||"
	    "  coalesce(summary, '') || ' ' || coalesce(content, ''))) STORED;"
	    "CREATE INDEX articles_tsv ON articles USING gin(tsv);"
	    "ALTER TABLE feeds DROP COLUMN doc_author;"
	    "UPDATE meta SET value = 3 WHERE key = 'schema'");
	CHECK_INT(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(c);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"
	    " WHERE tsv @@ 'splitbar2'::tsquery"), 1);
	st = NULL;
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(sql_int(path, "SELECT value FROM meta WHERE key = 'schema'"),
	    6);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM pg_indexes WHERE"
	    " indexname = 'articles_tsv'"), 1);
	check_cases(st, "direct", "urn:d");
	store_parsed(st);
	check_cases(st, "parsed", "urn:e");
	tr_store_close(st);
	tr_config_free(cfg);
	rm_db(path);
}

TR_TESTS(test_index_holds_text, test_migrated_sqlite, test_migrated_pg)
