/*
 * test_store_bodies.c — stored bodies: an item whose raw bodies hash as
 * the stored row's were (tr_article.raw_hash) takes the row's sanitized
 * bodies instead of the sanitizer's time, and nothing stored differs.
 *
 * Two stores get the same steps (documents, base URLs, policies, rows
 * deleted or rewritten between them, the same clock): the reference
 * store's parser sanitizes every item, the other's asks the store first
 * (tr_store_bodies_get, as a polling round does). After each step both
 * stores' article rows must be equal, column for column, and the table
 * says how many items of the step were sanitized and how many reused.
 * The asking store stages as a polling round's writer does: an item
 * equal to its stored row (tr_store_prep_keep) as its identity alone;
 * the table says how many were, and both stores' generations must agree
 * (a document that changes nothing moves neither).
 */
#include "test_store_util.h"
#include "tributary/hash.h"
#include "tributary/html.h"
#include "tributary/parse.h"

static const char conf[] = "[tributary]\n"
			   "database = x.db\n"
			   "[feed \"f\"]\n"
			   "url = http://127.0.0.1:1/f.xml\n"
			   "[feed \"g\"]\n"
			   "url = http://127.0.0.1:1/g.xml\n";

#define HEAD(base)                                                            \
	"<rss version=\"2.0\" xmlns:content="                                 \
	"\"http://purl.org/rss/1.0/modules/content/\"><channel" base ">"      \
	"<title>t</title><link>http://ex.org/</link><description>d"          \
	"</description>"
#define TAIL "</channel></rss>"
/* Bodies with a relative link (the base matters), markup the policy
 * drops, an entity; one body that sanitizes to nothing. */
#define ITEM(n, body) ITEM_TL(n, n, n, body)
/* Item n with title t and link http://ex.org/l. */
#define ITEM_TL(n, t, l, body)                                                \
	"<item><guid isPermaLink=\"false\">urn:" n "</guid><title>" t         \
	"</title><link>http://ex.org/" l "</link><pubDate>01 Jan 2024 00:00:0" \
	"0 GMT</pubDate><description><![CDATA[" body "]]></description>"     \
	"<content:encoded><![CDATA[<p>More of " n " <a href=\"more/" n        \
	"\">here</a></p>]]></content:encoded></item>"
#define A ITEM("a", "<p>Alpha <a href=\"rel/a\">link</a><script>x()</script>" \
		    " &amp; more</p>")
#define A2 ITEM("a", "<p>Alpha changed <a href=\"rel/a\">link</a></p>")
/* A with another link, then B with another title: the same bodies. */
#define A_MOVED ITEM_TL("a", "a", "a-moved", "<p>Alpha <a href=\"rel/a\">"   \
				"link</a><script>x()</script> &amp; more</p>")
#define B_RETITLED                                                            \
	ITEM_TL("b", "Beta, retitled", "b",                                   \
	    "<p>Beta <img src=\"b.png\" onerror=\"x()\"></p>")
#define B ITEM("b", "<p>Beta <img src=\"b.png\" onerror=\"x()\"></p>")
#define C ITEM("c", "<script>only()</script>")
#define D ITEM("d", "<p>Delta, the new one</p>")
/* An item without bodies: nothing to sanitize or reuse. */
#define E                                                                     \
	"<item><guid isPermaLink=\"false\">urn:e</guid><title>e</title>"      \
	"</item>"

#define DOC HEAD("") A B C E TAIL
#define BASE1 "http://ex.org/f.xml"

static const char *const embeds[] = {"video.example"};

enum policy { P_DEFAULT, P_TEXT, P_EMBED };

/* What happens to both stores before a step's document. */
enum before { NONE, DELETE_B, REHASH, UNHASH };

static const struct step {
	const char *name;
	enum before before;
	const char *feed, *doc, *base;
	enum policy policy;
	size_t sanitized, reused; /* of the store that asks first */
	size_t kept; /* of those reused, staged as their identity alone */
} steps[] = {
    {"first time: every body sanitized", NONE, "f", DOC, BASE1, P_DEFAULT,
     3, 0, 0},
    {"unchanged items: none sanitized, rows the same", NONE, "f", DOC, BASE1,
     P_DEFAULT, 0, 3, 3},
    {"one new item on top: only it sanitized", NONE, "f",
     HEAD("") D A B C E TAIL, BASE1, P_DEFAULT, 1, 3, 3},
    {"one body changed: only it sanitized", NONE, "f",
     HEAD("") D A2 B C E TAIL, BASE1, P_DEFAULT, 1, 3, 3},
    {"the document's URL changed: every body sanitized", NONE, "f",
     HEAD("") D A2 B C E TAIL, "http://other.example/f.xml", P_DEFAULT, 4,
     0, 0},
    {"xml:base changed: every body sanitized", NONE, "f",
     HEAD(" xml:base=\"http://base.example/x/\"") D A2 B C E TAIL,
     "http://other.example/f.xml", P_DEFAULT, 4, 0, 0},
    {"xml:base the same: reused", NONE, "f",
     HEAD(" xml:base=\"http://base.example/x/\"") D A2 B C E TAIL,
     "http://other.example/f.xml", P_DEFAULT, 0, 4, 4},
    {"the policy changed (text): every body sanitized", NONE, "f", DOC,
     BASE1, P_TEXT, 3, 0, 0},
    {"the policy changed (embeds): every body sanitized", NONE, "f", DOC,
     BASE1, P_EMBED, 3, 0, 0},
    {"the same policy again: reused", NONE, "f", DOC, BASE1, P_EMBED, 0, 3,
     3},
    {"back to the default policy", NONE, "f", DOC, BASE1, P_DEFAULT, 3, 0,
     0},
    {"rows of another sanitizer version: sanitized", REHASH, "f", DOC,
     BASE1, P_DEFAULT, 3, 0, 0},
    {"... and their raw hashes brought up to date", NONE, "f", DOC, BASE1,
     P_DEFAULT, 0, 3, 3},
    {"rows stored before raw hashes: sanitized", UNHASH, "f", DOC, BASE1,
     P_DEFAULT, 3, 0, 0},
    {"... and given theirs without a change", NONE, "f", DOC, BASE1,
     P_DEFAULT, 0, 3, 3},
    {"an item of f in g: sanitized (no row of g)", NONE, "g",
     HEAD("") A D TAIL, BASE1, P_DEFAULT, 2, 0, 0},
    {"a duplicate across feeds: g's own rows reused", NONE, "g",
     HEAD("") A D TAIL, BASE1, P_DEFAULT, 0, 2, 2},
    {"f again beside g's duplicates", NONE, "f", HEAD("") A D TAIL, BASE1,
     P_DEFAULT, 1, 1, 1},
    {"a row deleted meanwhile: sanitized, stored again", DELETE_B, "f", DOC,
     BASE1, P_DEFAULT, 1, 2, 2},
    {"an unchanged item no longer in the document", NONE, "f",
     HEAD("") A C E TAIL, BASE1, P_DEFAULT, 0, 2, 2},
    {"... comes back unchanged: in the latest document again", NONE, "f",
     DOC, BASE1, P_DEFAULT, 0, 3, 3},
    {"a link changed, the same bodies: reused, the row rewritten", NONE,
     "f", HEAD("") A_MOVED B C E TAIL, BASE1, P_DEFAULT, 0, 3, 2},
    {"... and changed back", NONE, "f", DOC, BASE1, P_DEFAULT, 0, 3, 2},
    {"a title changed, the same bodies", NONE, "f",
     HEAD("") A B_RETITLED C E TAIL, BASE1, P_DEFAULT, 0, 3, 2},
    {"... and changed back", NONE, "f", DOC, BASE1, P_DEFAULT, 0, 3, 2},
    {"an item twice, the second changed: the second stored", NONE, "f",
     HEAD("") A B C A2 E TAIL, BASE1, P_DEFAULT, 1, 3, 3},
    {"an item twice, the first changed: the second stored", NONE, "f",
     HEAD("") A2 B C A E TAIL, BASE1, P_DEFAULT, 1, 3, 3},
    {"an item twice, both as stored", NONE, "f", HEAD("") A B C A E TAIL,
     BASE1, P_DEFAULT, 0, 4, 4},
    {"g's duplicate of a changed: f's rows kept, the primary the same",
     NONE, "g", HEAD("") A2 D TAIL, BASE1, P_DEFAULT, 1, 1, 1},
    {"... and f unchanged beside it", NONE, "f", DOC, BASE1, P_DEFAULT, 0,
     3, 3},
};

/* Runs sql on the SQLite file at path. */
static void
exec_sql(const char *path, const char *sql)
{
	sqlite3 *db = NULL;

	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
		printf("  %s: %s\n", sql, sqlite3_errmsg(db));
	sqlite3_close(db);
}

/* Every article row of the file at path, every column but raw_hash, as
 * one text (SQL literals, a line per row). */
static char *
dump(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	struct tr_buf b;
	int i;

	tr_buf_init(&b, 1 << 24);
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_prepare_v2(db, "SELECT * FROM articles ORDER BY id",
	    -1, &s, NULL), SQLITE_OK);
	while (s != NULL && sqlite3_step(s) == SQLITE_ROW) {
		for (i = 0; i < sqlite3_column_count(s); i++) {
			const unsigned char *v = sqlite3_column_text(s, i);

			if (strcmp(sqlite3_column_name(s, i), "raw_hash") == 0)
				continue;
			tr_buf_printf(&b, "%s=%s|", sqlite3_column_name(s, i),
			    v ? (const char *)v : "NULL");
		}
		tr_buf_addc(&b, '\n');
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	return tr_buf_detach(&b);
}

struct sink {
	struct tr_store_batch *b;
	struct tr_store_bodies *h; /* NULL: sanitize everything */
	const char *feed;
	struct tr_store_prep prep;
	size_t kept;
};

/*
 * The reference store adds each article whole; the asking one prepares
 * it as the round's writer does, and of a kept item hands the store a
 * record with the identity alone (all the writer keeps of it).
 */
static int
add_cb(const struct tr_article *a, void *arg)
{
	struct sink *s = arg;
	struct tr_article id_only;
	int rc;

	if (s->h == NULL)
		return tr_store_batch_add(s->b, a);
	if (!tr_store_prep_keep(&s->prep, a)) {
		if ((rc = tr_store_prep(&s->prep, a)) != 0)
			return rc;
		return tr_store_batch_add_prepared(s->b, a, &s->prep);
	}
	s->kept++;
	tr_article_init(&id_only);
	id_only.id = a->id;
	return tr_store_batch_add_prepared(s->b, &id_only, &s->prep);
}

static int
bodies_cb(struct tr_article *a, void *arg)
{
	struct sink *s = arg;

	return tr_store_bodies_get(s->h, a, s->feed);
}

/* Parses the step's document into st (asking h first when not NULL);
 * *sanitized and *reused: the parser's counts, *kept: the items staged
 * as kept. */
static void
run_step(struct tr_store *st, struct tr_store_bodies *h,
    const struct step *t, size_t *sanitized, size_t *reused, size_t *kept)
{
	struct tr_html_policy pol = {TR_HTML_DEFAULT, NULL, 0};
	struct tr_parse_opts o;
	struct tr_parser *p = NULL;
	struct sink s;

	memset(&s, 0, sizeof(s));
	s.h = h;
	s.feed = t->feed;
	tr_store_prep_init(&s.prep);

	if (t->policy == P_TEXT)
		pol.mode = TR_HTML_TEXT;
	if (t->policy == P_EMBED)
		pol.embed_hosts = embeds, pol.n_embed_hosts = 1;
	memset(&o, 0, sizeof(o));
	o.base_url = t->base;
	o.html_policy = &pol;
	if (h != NULL) {
		o.body_cb = bodies_cb;
		o.body_arg = &s;
	}
	CHECK_INT(tr_store_batch_begin(&s.b, st, t->feed), 0);
	CHECK_INT(tr_parser_new(&p, &o, add_cb, &s), 0);
	CHECK_INT(tr_parser_feed(p, t->doc, strlen(t->doc)), 0);
	CHECK_INT(tr_parser_finish(p), 0);
	CHECK_INT(tr_store_batch_commit(s.b, tr_parser_meta(p), NULL), 0);
	*sanitized = tr_parser_nsanitized(p);
	*reused = tr_parser_nreused(p);
	*kept = s.kept;
	tr_store_batch_free(s.b);
	tr_store_prep_free(&s.prep);
	tr_parser_free(p);
}

static void
before(const char *path, enum before what)
{
	static const char *const sql[] = {
	    [DELETE_B] = "DELETE FROM articles WHERE identity = 'urn:b'",
	    /* As rows a sanitizer of another version stored: the hash of
	     * the same inputs under another TR_HTML_VERSION differs. */
	    [REHASH] = "UPDATE articles SET raw_hash = raw_hash + 1",
	    [UNHASH] = "UPDATE articles SET raw_hash = NULL",
	};

	if (what != NONE)
		exec_sql(path, sql[what]);
}

static void
test_steps(void)
{
	struct tr_config *cfg;
	char *ref_path, *path;
	struct tr_store *ref = NULL, *st = NULL;
	struct tr_store_bodies *h = NULL;
	size_t i, n1, n2, r1, r2, k1, k2;
	int64_t g1, g2;

	SKIP_PG("PostgreSQL keeps no raw hashes: every body is sanitized");
	cfg = cfg_from(conf);
	ref_path = tmp_db();
	path = tmp_db();
	CHECK_INT(tr_store_open(&ref, ref_path, 0), 0);
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(ref, cfg), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	CHECK_INT(tr_store_bodies_open(&h, st), 0);
	CHECK(h != NULL);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const struct step *t = &steps[i];
		char *want, *got;
		char label[160];

		tr_store_set_now(ref, 1700000000 + 100 * (int64_t)i);
		tr_store_set_now(st, 1700000000 + 100 * (int64_t)i);
		before(ref_path, t->before);
		before(path, t->before);
		run_step(ref, NULL, t, &n1, &r1, &k1);
		run_step(st, h, t, &n2, &r2, &k2);
		snprintf(label, sizeof(label), "%s: sanitized, reused, kept",
		    t->name);
		CHECK_INT(r1, 0);
		CHECK_INT(k1, 0);
		CHECK_INT(n1, t->sanitized + t->reused);
		{
			char g[64], w[64];

			snprintf(g, sizeof(g), "%zu, %zu, %zu", n2, r2, k2);
			snprintf(w, sizeof(w), "%zu, %zu, %zu", t->sanitized,
			    t->reused, t->kept);
			CHECK_STR_CASE(label, g, w);
		}
		CHECK_INT(tr_store_generation(ref, &g1, NULL), 0);
		CHECK_INT(tr_store_generation(st, &g2, NULL), 0);
		snprintf(label, sizeof(label), "%s: generation", t->name);
		CHECK_STR_CASE(label, g2 == g1 ? "same" : "differs", "same");
		want = dump(ref_path);
		got = dump(path);
		snprintf(label, sizeof(label), "%s: rows", t->name);
		CHECK_STR_CASE(label, got, want);
		free(want);
		free(got);
	}
	/* The rows the table left carry the hashes of their inputs. */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"
	    " WHERE raw_hash IS NULL AND (summary IS NOT NULL"
	    " OR content IS NOT NULL)"), 0);
	tr_store_bodies_close(h);
	tr_store_close(ref);
	tr_store_close(st);
	rm_db(ref_path);
	rm_db(path);
	tr_config_free(cfg);
}

/*
 * A kept item is staged without its contents, so a commit that finds its
 * row changed or gone since the parser read it (another process's purge
 * or rewrite) fails the document, naming the feed, instead of storing
 * less than the item; the feed's next document stores it again. A row
 * that was not kept may change meanwhile, as before.
 */
static void
test_kept_row_gone(void)
{
	static const struct {
		const char *name, *sql;
		int rc;
		int64_t rows_after_retry;
	} cases[] = {
	    {"nothing changed meanwhile", NULL, 0, 4},
	    {"a kept row deleted", "DELETE FROM articles WHERE identity ="
	     " 'urn:b'", TR_ESTORE, 4},
	    {"a kept row rewritten", "UPDATE articles SET hash = hash + 1,"
	     " title = 'other' WHERE identity = 'urn:c'", TR_ESTORE, 4},
	    {"a row not kept rewritten", "UPDATE articles SET hash = hash + 1"
	     " WHERE identity = 'urn:e'", 0, 4},
	};
	const struct step first = {"", NONE, "f", DOC, BASE1, P_DEFAULT, 0,
	    0, 0};
	struct tr_config *cfg;
	size_t i, n, r, k;

	SKIP_PG("PostgreSQL keeps no raw hashes: no item is kept");
	cfg = cfg_from(conf);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tr_html_policy pol = {TR_HTML_DEFAULT, NULL, 0};
		struct tr_parse_opts o;
		struct tr_parser *p = NULL;
		struct tr_store *st = NULL;
		struct sink s;
		char *path = tmp_db();
		const char *msg;
		char label[160];
		int rc;

		CHECK_INT(tr_store_open(&st, path, 0), 0);
		CHECK_INT(tr_store_sync_config(st, cfg), 0);
		run_step(st, NULL, &first, &n, &r, &k);
		memset(&s, 0, sizeof(s));
		s.feed = "f";
		tr_store_prep_init(&s.prep);
		CHECK_INT(tr_store_bodies_open(&s.h, st), 0);
		memset(&o, 0, sizeof(o));
		o.base_url = BASE1;
		o.html_policy = &pol;
		o.body_cb = bodies_cb;
		o.body_arg = &s;
		CHECK_INT(tr_store_batch_begin(&s.b, st, "f"), 0);
		CHECK_INT(tr_parser_new(&p, &o, add_cb, &s), 0);
		CHECK_INT(tr_parser_feed(p, DOC, strlen(DOC)), 0);
		CHECK_INT(tr_parser_finish(p), 0);
		snprintf(label, sizeof(label), "%s: kept", cases[i].name);
		CHECK_STR_CASE(label, s.kept == 3 ? "3" : "not 3", "3");
		if (cases[i].sql)
			exec_sql(path, cases[i].sql);
		rc = tr_store_batch_commit(s.b, tr_parser_meta(p), NULL);
		snprintf(label, sizeof(label), "%s: commit", cases[i].name);
		CHECK_STR_CASE(label, tr_strerror(rc), tr_strerror(cases[i].rc));
		msg = tr_store_errmsg(st);
		if (rc != 0) {
			snprintf(label, sizeof(label), "%s: message",
			    cases[i].name);
			CHECK_STR_CASE(label,
			    strstr(msg, "feed f: 1 stored article the document "
			    "repeats changed") && !strstr(msg, "SELECT") &&
			    !strstr(msg, "kept") ? "clear" : msg, "clear");
		}
		tr_store_batch_free(s.b);
		tr_parser_free(p);
		/* The feed's next document stores what the failed one could
		 * not; nothing else was lost. */
		run_step(st, s.h, &first, &n, &r, &k);
		snprintf(label, sizeof(label), "%s: rows after the next "
		    "document", cases[i].name);
		CHECK_STR_CASE(label, sql_int(path, "SELECT count(*) FROM"
		    " articles WHERE in_latest = 1 AND title = substr(identity,"
		    " 5)") == cases[i].rows_after_retry ? "all" : "missing",
		    "all");
		tr_store_bodies_close(s.h);
		tr_store_prep_free(&s.prep);
		tr_store_close(st);
		rm_db(path);
	}
	tr_config_free(cfg);
}

/* Each input of the raw hash changes it; it is never 0. */
static void
test_raw_hash(void)
{
	static const char *const one[] = {"video.example"};
	static const char *const two[] = {"video.example", "other.example"};
	const struct tr_html_policy def = {TR_HTML_DEFAULT, NULL, 0};
	const struct tr_html_policy text = {TR_HTML_TEXT, NULL, 0};
	const struct tr_html_policy e1 = {TR_HTML_DEFAULT, one, 1};
	const struct tr_html_policy e2 = {TR_HTML_DEFAULT, two, 2};
	const struct {
		const char *name, *s, *sb, *c, *cb;
		const struct tr_html_policy *pol;
		size_t max;
	} cases[] = {
	    {"the reference", "<p>x</p>", "http://a/", "<p>y</p>",
	     "http://b/", NULL, 1 << 20},
	    {"summary", "<p>x </p>", "http://a/", "<p>y</p>", "http://b/",
	     NULL, 1 << 20},
	    {"summary's base", "<p>x</p>", "http://a/x/", "<p>y</p>",
	     "http://b/", NULL, 1 << 20},
	    {"content", "<p>x</p>", "http://a/", "<p>z</p>", "http://b/",
	     NULL, 1 << 20},
	    {"content's base", "<p>x</p>", "http://a/", "<p>y</p>",
	     "http://c/", NULL, 1 << 20},
	    {"no content", "<p>x</p>", "http://a/", NULL, "http://b/", NULL,
	     1 << 20},
	    {"bytes moved from summary to content", "<p>x</p><p>y", "http://a/",
	     "</p>", "http://b/", NULL, 1 << 20},
	    {"summary and content swapped", "<p>y</p>", "http://b/",
	     "<p>x</p>", "http://a/", NULL, 1 << 20},
	    {"text policy", "<p>x</p>", "http://a/", "<p>y</p>", "http://b/",
	     &text, 1 << 20},
	    {"an embed host", "<p>x</p>", "http://a/", "<p>y</p>",
	     "http://b/", &e1, 1 << 20},
	    {"two embed hosts", "<p>x</p>", "http://a/", "<p>y</p>",
	     "http://b/", &e2, 1 << 20},
	    {"the field cap", "<p>x</p>", "http://a/", "<p>y</p>",
	     "http://b/", NULL, 1 << 10},
	};
	uint64_t h[sizeof(cases) / sizeof(cases[0])];
	size_t i, k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		h[i] = tr_parser_raw_hash(cases[i].s, cases[i].sb, cases[i].c,
		    cases[i].cb, cases[i].pol, cases[i].max);
		CHECK(h[i] != 0);
		for (k = 0; k < i; k++)
			CHECK_STR_CASE(cases[i].name,
			    h[i] == h[k] ? cases[k].name : "distinct",
			    "distinct");
	}
	/* The default policy given or not is the same policy; a base with
	 * no body does not count. */
	CHECK(tr_parser_raw_hash("<p>x</p>", "http://a/", "<p>y</p>",
	    "http://b/", &def, 1 << 20) == h[0]);
	CHECK(tr_parser_raw_hash("<p>x</p>", "http://a/", NULL, "http://b/",
	    NULL, 1 << 20) == tr_parser_raw_hash("<p>x</p>", "http://a/",
	    NULL, "http://q/", NULL, 1 << 20));
}

/* PostgreSQL keeps no raw hashes: no handle, and every body sanitized. */
static void
test_no_handle_pg(void)
{
	char *path;
	struct tr_store *st = NULL;
	struct tr_store_bodies *h = (struct tr_store_bodies *)&path;

	if (!is_pg())
		SKIP("PostgreSQL only (TR_TEST_PG)");
	path = tmp_db();
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_bodies_open(&h, st), 0);
	CHECK(h == NULL);
	tr_store_close(st);
	rm_db(path);
}

TR_TESTS(test_steps, test_kept_row_gone, test_raw_hash, test_no_handle_pg)
