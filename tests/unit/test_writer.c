/*
 * test_writer.c — the writer thread: interleaved documents land whole,
 * errors come back with their document, discards leave nothing, feed
 * states are saved in order, a tiny queue still carries everything, and
 * readers see the writes while the thread runs; a stopped round stores
 * no more documents; bodies the parser handed out raw are sanitized on
 * the preparing thread into the very rows the inline sanitizer gives.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "runner.h"
#include "test_store_util.h"
#include "fault_vfs.h"
#include "tributary/log.h"
#include "tributary/parse.h"
#include "tributary/writer.h"

static const char conf[] = "[tributary]\n"
			   "database = x.db\n"
			   "[feed \"alpha\"]\n"
			   "url = http://127.0.0.1:1/a.xml\n"
			   "[feed \"beta\"]\n"
			   "url = http://127.0.0.1:1/b.xml\n";

struct seen {
	int n;
	void *token[8];
	int rc[8];
	int64_t added[8];
	char msg[8][256];
};

static void
on_result(const struct tr_writer_result *r, void *arg)
{
	struct seen *s = arg;

	if (s->n >= 8)
		return;
	s->token[s->n] = r->token;
	s->rc[s->n] = r->rc;
	s->added[s->n] = r->res.added;
	snprintf(s->msg[s->n], sizeof(s->msg[0]), "%s",
	         r->rc ? r->errmsg : "");
	s->n++;
}

/* A store with feeds alpha and beta; *path is its file. */
static struct tr_store *
open_store(char **path)
{
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf);

	*path = tmp_db();
	CHECK_INT(tr_store_open(&st, *path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	tr_config_free(cfg);
	return st;
}

static void
add(struct tr_writer *w, struct tr_writer_doc *d, const char *id)
{
	struct tr_article a;

	mkart(&a, id, NULL, id, 1000);
	CHECK_INT(tr_writer_doc_add(w, d, &a), 0);
	tr_article_free(&a);
}

static void
test_interleaved_documents(void)
{
	char *path;
	struct tr_store *st = open_store(&path);
	struct tr_writer *w = NULL;
	struct tr_writer_doc *a, *b;
	struct seen s;
	int ta = 1, tb = 2;

	memset(&s, 0, sizeof(s));
	CHECK_INT(tr_writer_start(&w, st, 1 << 20), 0);
	a = tr_writer_doc_begin(w, "alpha", NULL, 0, &ta);
	b = tr_writer_doc_begin(w, "beta", NULL, 0, &tb);
	CHECK(a != NULL && b != NULL);
	add(w, a, "a1");
	add(w, b, "b1");
	add(w, a, "a2");
	add(w, b, "b2");
	add(w, b, "b3");
	CHECK_INT(tr_writer_doc_commit(w, b, NULL), 0);
	CHECK_INT(tr_writer_doc_commit(w, a, NULL), 0);
	tr_writer_flush(w);
	tr_writer_results(w, on_result, &s);
	CHECK_INT(s.n, 2);
	/* In commit order, each with its own count. */
	CHECK(s.token[0] == &tb && s.token[1] == &ta);
	CHECK_INT(s.rc[0], 0);
	CHECK_INT(s.added[0], 3);
	CHECK_INT(s.added[1], 2);
	tr_writer_stop(w);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 5);
	tr_store_close(st);
	rm_db(path);
}

static void
test_error_and_discard(void)
{
	char *path;
	struct tr_store *st = open_store(&path);
	struct tr_writer *w = NULL;
	struct tr_writer_doc *gone, *dropped;
	struct seen s;
	int t = 1;

	memset(&s, 0, sizeof(s));
	CHECK_INT(tr_writer_start(&w, st, 1 << 20), 0);
	gone = tr_writer_doc_begin(w, "no-such-feed", NULL, 0, &t);
	dropped = tr_writer_doc_begin(w, "alpha", NULL, 0, NULL);
	add(w, gone, "x1");
	add(w, dropped, "a1");
	CHECK_INT(tr_writer_doc_commit(w, gone, NULL), 0);
	tr_writer_doc_discard(w, dropped);
	tr_writer_doc_discard(w, NULL);
	tr_writer_flush(w);
	tr_writer_results(w, on_result, &s);
	CHECK_INT(s.n, 1);
	CHECK(s.token[0] == &t);
	CHECK_INT(s.rc[0], TR_ENOTFOUND);
	CHECK(strstr(s.msg[0], "no feed named no-such-feed") != NULL);
	tr_writer_stop(w);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 0);
	tr_store_close(st);
	rm_db(path);
}

static void
test_states_saved_in_order(void)
{
	char *path;
	struct tr_store *st = open_store(&path);
	struct tr_writer *w = NULL;
	struct tr_feed_state fs;

	CHECK_INT(tr_store_feed_get(st, &fs, "alpha"), 0);
	CHECK_INT(tr_writer_start(&w, st, 1 << 20), 0);
	free(fs.etag);
	fs.etag = xstrdup("\"first\"");
	CHECK_INT(tr_writer_save(w, &fs), 0);
	free(fs.etag);
	fs.etag = xstrdup("\"second\"");
	fs.errors = 3;
	CHECK_INT(tr_writer_save(w, &fs), 0);
	tr_feed_state_free(&fs);
	tr_writer_stop(w);
	CHECK_INT(tr_store_feed_get(st, &fs, "alpha"), 0);
	CHECK_STR(fs.etag, "\"second\"");
	CHECK_INT(fs.errors, 3);
	tr_feed_state_free(&fs);
	tr_store_close(st);
	rm_db(path);
}

/* A queue of one byte: every add waits for the one before. */
static void
test_tiny_queue(void)
{
	char *path;
	struct tr_store *st = open_store(&path);
	struct tr_writer *w = NULL;
	struct tr_writer_doc *d;
	struct seen s;
	char id[32];
	int i;

	memset(&s, 0, sizeof(s));
	CHECK_INT(tr_writer_start(&w, st, 1), 0);
	d = tr_writer_doc_begin(w, "alpha", NULL, 0, NULL);
	for (i = 0; i < 500; i++) {
		snprintf(id, sizeof(id), "item-%d", i);
		add(w, d, id);
	}
	CHECK_INT(tr_writer_doc_commit(w, d, NULL), 0);
	tr_writer_flush(w);
	tr_writer_results(w, on_result, &s);
	CHECK_INT(s.n, 1);
	CHECK_INT(s.added[0], 500);
	tr_writer_stop(w);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 500);
	tr_store_close(st);
	rm_db(path);
}

/* The writer commits its group while waiting for work, then indexes
 * it: another connection sees and finds the document before the writer
 * stops, though the writer defers indexing on its commits. */
static void
test_readers_see_writes_while_running(void)
{
	char *path;
	struct tr_store *st = open_store(&path);
	struct tr_writer *w = NULL;
	struct tr_writer_doc *d;
	struct timespec ms = {0, 10 * 1000 * 1000};
	int i;
	int64_t n = 0;

	CHECK_INT(tr_writer_start(&w, st, 1 << 20), 0);
	d = tr_writer_doc_begin(w, "beta", NULL, 0, NULL);
	add(w, d, "walrus");
	CHECK_INT(tr_writer_doc_commit(w, d, NULL), 0);
	/* Up to 10 s: the group is committed a quarter second after its
	 * first write, and indexed right after. */
	for (i = 0; i < 1000 && n == 0; i++) {
		nanosleep(&ms, NULL);
		n = sql_int(path,
		    is_pg() ? "SELECT count(*) FROM articles WHERE tsv @@"
			      " to_tsquery('simple', 'walrus')"
			    : "SELECT count(*) FROM articles_fts"
			      " WHERE articles_fts MATCH 'walrus'");
	}
	CHECK_INT(n, 1);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 1);
	tr_writer_stop(w);
	tr_store_close(st);
	rm_db(path);
}

/*
 * A document's result comes back only once its group is committed: when
 * the group's commit fails (the disk is full when the WAL is written, or
 * fails with an I/O error), every document of the group comes back
 * failed with the store's message, none as stored; a document in a later
 * group is stored and reported as usual.
 */
static void
test_result_after_durable_commit(void)
{
	SKIP_PG("injects SQLite I/O faults");
	static const int codes[] = {SQLITE_FULL, SQLITE_IOERR_WRITE};
	size_t c;

	for (c = 0; c < sizeof(codes) / sizeof(codes[0]); c++) {
		char *path;
		struct tr_store *st;
		struct tr_writer *w = NULL;
		struct tr_writer_doc *a, *b;
		struct seen s;
		int ta = 1, tb = 2, i;

		fault_vfs_install(); /* before the open: its files use it */
		st = open_store(&path);
		memset(&s, 0, sizeof(s));
		CHECK_INT(tr_writer_start(&w, st, 1 << 20), 0);
		a = tr_writer_doc_begin(w, "alpha", NULL, 0, &ta);
		b = tr_writer_doc_begin(w, "beta", NULL, 0, &tb);
		add(w, a, "a1");
		add(w, b, "b1");
		add(w, b, "b2");
		/* The savepoints succeed (their pages stay in the cache);
		 * writing the WAL at the group's commit fails. */
		fault_vfs_arm("-wal", codes[c]);
		CHECK_INT(tr_writer_doc_commit(w, a, NULL), 0);
		CHECK_INT(tr_writer_doc_commit(w, b, NULL), 0);
		tr_writer_flush(w);
		tr_writer_results(w, on_result, &s);
		fault_vfs_disarm();
		CHECK(fault_vfs_g.hits > 0);
		CHECK_INT(s.n, 2);
		for (i = 0; i < s.n && i < 2; i++) {
			CHECK(s.rc[i] != 0);
			CHECK(strstr(s.msg[i], path) != NULL);
		}
		CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 0);
		/* The next group works. */
		memset(&s, 0, sizeof(s));
		a = tr_writer_doc_begin(w, "alpha", NULL, 0, &ta);
		add(w, a, "a2");
		CHECK_INT(tr_writer_doc_commit(w, a, NULL), 0);
		tr_writer_flush(w);
		tr_writer_results(w, on_result, &s);
		CHECK_INT(s.n, 1);
		CHECK_INT(s.rc[0], 0);
		CHECK_INT(s.added[0], 1);
		CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 1);
		tr_writer_stop(w);
		tr_store_close(st);
		rm_db(path);
	}
}

/*
 * Once the cancel flag is up, no document is stored any more: one begun
 * before it and committed after, and one begun after it, come back
 * TR_EABORT with nothing of them in the store; a document committed
 * before it stays, and a feed state queued after it is still saved.
 */
static void
test_cancel_drops_queued_documents(void)
{
	char *path;
	struct tr_store *st = open_store(&path);
	struct tr_writer *w = NULL;
	struct tr_writer_doc *a, *b, *c;
	struct tr_feed_state fs;
	struct seen s;
	volatile int cancel = 0;
	int ta = 1, tb = 2, tc = 3;

	memset(&s, 0, sizeof(s));
	/* Read before the writer starts: then only its thread uses st. */
	CHECK_INT(tr_store_feed_get(st, &fs, "beta"), 0);
	CHECK_INT(tr_writer_start(&w, st, 1 << 20), 0);
	tr_writer_set_cancel(w, &cancel);
	a = tr_writer_doc_begin(w, "alpha", NULL, 0, &ta);
	add(w, a, "a1");
	add(w, a, "a2");
	CHECK_INT(tr_writer_doc_commit(w, a, NULL), 0);
	tr_writer_flush(w);
	b = tr_writer_doc_begin(w, "beta", NULL, 0, &tb);
	add(w, b, "b1");
	cancel = 1;
	add(w, b, "b2");
	CHECK_INT(tr_writer_doc_commit(w, b, NULL), 0);
	c = tr_writer_doc_begin(w, "alpha", NULL, 0, &tc);
	add(w, c, "a3");
	CHECK_INT(tr_writer_doc_commit(w, c, NULL), 0);
	free(fs.etag);
	fs.etag = xstrdup("\"kept\"");
	CHECK_INT(tr_writer_save(w, &fs), 0);
	tr_feed_state_free(&fs);
	tr_writer_flush(w);
	tr_writer_results(w, on_result, &s);
	CHECK_INT(s.n, 3);
	CHECK(s.token[0] == &ta && s.token[1] == &tb && s.token[2] == &tc);
	CHECK_INT(s.rc[0], 0);
	CHECK_INT(s.added[0], 2);
	CHECK_INT(s.rc[1], TR_EABORT);
	CHECK_INT(s.rc[2], TR_EABORT);
	CHECK(strstr(s.msg[1], "stopped") != NULL);
	tr_writer_stop(w);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 2);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles a JOIN feeds f"
	                        " ON f.id = a.feed_id WHERE f.name = 'alpha'"),
	    2);
	CHECK_INT(tr_store_feed_get(st, &fs, "beta"), 0);
	CHECK_STR(fs.etag, "\"kept\"");
	tr_feed_state_free(&fs);
	tr_store_close(st);
	rm_db(path);
}

/*
 * Items that took their stored rows' bodies (as a round's lookup marks
 * them): one equal to its row goes to the writer as its identity alone
 * and leaves the row as it is; one whose title changed, or whose stored
 * hash is not its row's, is stored whole. Every item stays in the latest
 * document.
 */
static void
test_items_as_stored(void)
{
	static const struct {
		const char *id, *title;
		int stale; /* the stored hash given is not the row's */
	} cases[] = {
	    {"x1", "x1", 0},
	    {"x2", "x2 retitled", 0},
	    {"x3", "x3", 1},
	};
	const size_t n = sizeof(cases) / sizeof(cases[0]);
	char *path;
	struct tr_store *st;
	struct tr_writer *w = NULL;
	struct tr_writer_doc *d;
	struct seen s;
	int64_t gen0, gen1;
	size_t round, i;
	int tok = 1;

	SKIP_PG("PostgreSQL gives no stored bodies, so no stored hashes");
	st = open_store(&path);
	CHECK_INT(tr_writer_start(&w, st, 1 << 20), 0);
	for (round = 0; round < 3; round++) {
		memset(&s, 0, sizeof(s));
		CHECK_INT(tr_store_generation(st, &gen0, NULL), 0);
		d = tr_writer_doc_begin(w, "alpha", NULL, 0, &tok);
		for (i = 0; i < n; i++) {
			struct tr_article a;
			char sql[128];

			mkart(&a, cases[i].id, NULL,
			    round == 0 ? cases[i].id : cases[i].title, 1000);
			if (round > 0) {
				snprintf(sql, sizeof(sql), "SELECT hash FROM"
				    " articles WHERE identity = '%s'",
				    cases[i].id);
				a.bodies_as_stored = 1;
				a.stored_hash = (uint64_t)sql_int(path, sql) +
				    (uint64_t)cases[i].stale;
			}
			CHECK_INT(tr_writer_doc_add(w, d, &a), 0);
			tr_article_free(&a);
		}
		CHECK_INT(tr_writer_doc_commit(w, d, NULL), 0);
		tr_writer_flush(w);
		tr_writer_results(w, on_result, &s);
		CHECK_INT(s.n, 1);
		CHECK_INT(s.rc[0], 0);
		CHECK_INT(tr_store_generation(st, &gen1, NULL), 0);
		for (i = 0; i < n; i++) {
			char sql[160], label[64];

			snprintf(sql, sizeof(sql), "SELECT count(*) FROM articles"
			    " WHERE identity = '%s' AND title = '%s'"
			    " AND in_latest = 1", cases[i].id,
			    round == 0 ? cases[i].id : cases[i].title);
			snprintf(label, sizeof(label), "round %zu, %s", round,
			    cases[i].id);
			CHECK_STR_CASE(label, sql_int(path, sql) == 1 ? "stored"
			    : "not as given", "stored");
		}
		/* The first document adds, the second changes x2's title;
		 * the third, the same again, changes nothing. */
		CHECK_STR_CASE(round == 2 ? "round 2: generation"
		    : "rounds 0-1: generation", gen1 == gen0 ? "same" : "moved",
		    round == 2 ? "same" : "moved");
	}
	tr_writer_stop(w);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 3);
	tr_store_close(st);
	rm_db(path);
}

/* --- raw bodies sanitized on the preparing thread, against inline ------- */

#define N_MANY 3000 /* items of one document: many times the queue's cap */

/* A document of the table, parsed from its text (doc2: the text on the
 * second pass, NULL: the same) with the parser's max_field. */
struct tcase {
	const char *name;
	const char *doc, *doc2;
	size_t max_field;
	const struct tr_html_policy *policy;
	int huge; /* also an article past tr_store_prep's size cap */
};

static const char *const embed_hosts[] = {"video.example"};
static const struct tr_html_policy embed_policy = {TR_HTML_DEFAULT,
                                                   embed_hosts, 1};
static const struct tr_html_policy text_policy = {TR_HTML_TEXT, NULL, 0};

#define ATOM_HEAD                                                             \
	"<feed xmlns=\"http://www.w3.org/2005/Atom\" "                        \
	"xml:base=\"http://blog.example/2026/\"><title>b</title>"
#define RSS_HEAD "<rss version=\"2.0\"><channel><title>n</title>"
#define RSS_TAIL "</channel></rss>"

static const char doc_relative[] =
    ATOM_HEAD "<entry xml:base=\"posts/\"><id>rel-1</id><title>Harbour "
    "works</title><summary type=\"html\">&lt;p&gt;The &lt;a "
    "href=\"harbour.html\"&gt;harbour&lt;/a&gt; reopens&lt;/p&gt;"
    "</summary><content type=\"xhtml\" xml:base=\"/photos/\"><div "
    "xmlns=\"http://www.w3.org/1999/xhtml\"><p><img src=\"quay.jpg\" "
    "alt=\"quay\"/> Crews <a href=\"../map\">mapped</a> it.</p></div>"
    "</content></entry><entry><id>rel-2</id><title>Rail</title>"
    "<content type=\"html\">&lt;iframe src=\"https://video.example/e/"
    "7\"&gt;&lt;/iframe&gt;&lt;script&gt;x()&lt;/script&gt;&lt;a "
    "href=\"/rail\" onclick=\"y()\"&gt;timetable&lt;/a&gt;</content>"
    "</entry></feed>";
/* The second time: rel-1 retitled, its bodies the same (reused, stored
 * again); rel-2 the same (kept). */
static const char doc_relative2[] =
    ATOM_HEAD "<entry xml:base=\"posts/\"><id>rel-1</id><title>Harbour "
    "works finished</title><summary type=\"html\">&lt;p&gt;The &lt;a "
    "href=\"harbour.html\"&gt;harbour&lt;/a&gt; reopens&lt;/p&gt;"
    "</summary><content type=\"xhtml\" xml:base=\"/photos/\"><div "
    "xmlns=\"http://www.w3.org/1999/xhtml\"><p><img src=\"quay.jpg\" "
    "alt=\"quay\"/> Crews <a href=\"../map\">mapped</a> it.</p></div>"
    "</content></entry><entry><id>rel-2</id><title>Rail</title>"
    "<content type=\"html\">&lt;iframe src=\"https://video.example/e/"
    "7\"&gt;&lt;/iframe&gt;&lt;script&gt;x()&lt;/script&gt;&lt;a "
    "href=\"/rail\" onclick=\"y()\"&gt;timetable&lt;/a&gt;</content>"
    "</entry></feed>";
static const char doc_plain[] =
    RSS_HEAD "<item><guid>plain-1</guid><title>&lt;b&gt;Budget&lt;/b&gt; "
    "vote &amp;amp; more</title><description>Council meets on Tuesday at "
    "noon</description></item><item><guid>plain-2</guid><link>story/2"
    "</link><description><![CDATA[<p>Fares <em>rise</em> in <a "
    "href=\"fares\">spring</a><p>unclosed]]></description></item>"
    "<item><guid>plain-3</guid><title>no body</title></item>" RSS_TAIL;
static const char doc_plain2[] =
    RSS_HEAD "<item><guid>plain-1</guid><title>&lt;b&gt;Budget&lt;/b&gt; "
    "vote &amp;amp; more</title><description>Council meets on Tuesday at "
    "noon</description></item><item><guid>plain-2</guid><link>story/2"
    "</link><description><![CDATA[<p>Fares <em>rise</em> in <a "
    "href=\"fares\">spring</a><p>changed]]></description></item>"
    "<item><guid>plain-3</guid><title>no body</title></item>" RSS_TAIL;

/* A body within the field cap (1000) whose sanitized form grows past
 * eight times it: short relative links against a long xml:base. */
static char *
doc_over_cap(void)
{
	struct tr_buf b;
	size_t i;

	tr_buf_init(&b, 1 << 20);
	tr_buf_adds(&b, "<feed xmlns=\"http://www.w3.org/2005/Atom\">"
	            "<title>t</title><entry xml:base=\"http://b.example/");
	for (i = 0; i < 300; i++)
		tr_buf_adds(&b, "deep/");
	tr_buf_adds(&b, "\"><id>cap-1</id><summary type=\"html\">kept "
	            "&lt;b&gt;summary&lt;/b&gt;</summary><content "
	            "type=\"html\"><![CDATA[");
	for (i = 0; i < 60; i++)
		tr_buf_adds(&b, "<a href=x>y</a>");
	tr_buf_adds(&b, "]]></content></entry><entry><id>cap-2</id><content "
	            "type=\"html\">&lt;i&gt;fine&lt;/i&gt;</content></entry>"
	            "</feed>");
	return tr_buf_detach(&b);
}

static char *
doc_many(void)
{
	struct tr_buf b;
	char item[256];
	size_t i;

	tr_buf_init(&b, 16 << 20);
	tr_buf_adds(&b, RSS_HEAD);
	for (i = 0; i < N_MANY; i++) {
		snprintf(item, sizeof(item), "<item><guid>many-%zu</guid>"
		         "<title>n %zu</title><pubDate>Sat, 05 Dec 2026 "
		         "%02zu:%02zu:00 GMT</pubDate><description>&lt;p&gt;"
		         "item &lt;a href=\"/i/%zu\"&gt;%zu&lt;/a&gt;&lt;/p&gt;"
		         "</description></item>", i, i, i / 60 % 24, i % 60, i,
		         i);
		tr_buf_adds(&b, item);
	}
	tr_buf_adds(&b, RSS_TAIL);
	return tr_buf_detach(&b);
}

/*
 * Non-zero when every result is of one of tok[0..n) once, and the stored
 * ones came back in the order their documents were committed. (A failed
 * document comes back at once: nothing of it waits for a group commit.)
 */
static int
results_in_order(const struct seen *s, const int *tok, int n)
{
	int i, last = -1, seen_n[8] = {0};

	for (i = 0; i < s->n; i++) {
		const int *t = s->token[i];

		if (t < tok || t >= tok + n || seen_n[*t]++ > 0)
			return 0;
		if (s->rc[i] == 0) {
			if (*t < last)
				return 0;
			last = *t;
		}
	}
	return 1;
}

struct parsed {
	struct tr_article *a;
	size_t n, cap, raw; /* raw: handed out with raw bodies */
};

static int
on_parsed(const struct tr_article *a, void *arg)
{
	struct parsed *v = arg;

	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 64;
		struct tr_article *q = realloc(v->a, cap * sizeof(*q));

		if (q == NULL)
			return 1;
		v->a = q;
		v->cap = cap;
	}
	if (tr_article_copy(&v->a[v->n], a) != 0)
		return 1;
	v->raw += a->bodies_raw != 0;
	v->n++;
	return 0;
}

struct lookup {
	struct tr_store_bodies *h;
	const char *feed;
};

static int
stored_bodies(struct tr_article *a, void *arg)
{
	struct lookup *l = arg;

	return tr_store_bodies_get(l->h, a, l->feed);
}

/* An article whose categories' JSON passes tr_store_prep's cap. */
static void
mkhuge(struct tr_article *a)
{
	size_t n = (size_t)17 << 20;

	mkart(a, "huge-1", NULL, "huge", 1000);
	a->categories = calloc(1, sizeof(*a->categories));
	a->categories[0] = malloc(n + 1);
	memset(a->categories[0], 'c', n);
	a->categories[0][n] = '\0';
	a->n_categories = 1;
}

static const char *
feed_of(size_t i)
{
	static const char *const names[] = {"f0", "f1", "f2", "f3", "f4",
	                                    "f5", "f6", "f7"};

	return names[i];
}

/*
 * Stores the table's documents into the store at path through one
 * writer, their items interleaved (item k of every document, then item
 * k + 1), parsed with defer_html as given; pass 1 parses the second
 * texts and asks the store for stored bodies (SQLite). Checks the
 * results come back in order: all stored, but the document with the
 * huge article, which fails with TR_ETOOBIG and stores nothing. Returns
 * how many items went to the writer with raw bodies.
 */
static size_t
store_table(const char *path, const struct tcase *t, size_t nt, int defer,
            int pass)
{
	struct tr_store *st = NULL;
	struct tr_store_bodies *h = NULL;
	struct tr_writer *w = NULL;
	struct tr_writer_doc *d[8];
	struct parsed v[8];
	struct lookup look[8];
	struct seen s;
	size_t i, k, most = 0, raw = 0;
	int huge_rc = 0, tok[8];

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	if (pass == 1 && !is_pg())
		CHECK_INT(tr_store_bodies_open(&h, st), 0);
	memset(v, 0, sizeof(v));
	for (i = 0; i < nt; i++) {
		struct tr_parse_opts o;
		struct tr_parser *p = NULL;
		const char *doc = pass == 1 && t[i].doc2 ? t[i].doc2 : t[i].doc;

		memset(&o, 0, sizeof(o));
		o.base_url = "http://news.example/dir/feed.xml";
		o.max_field = t[i].max_field;
		o.html_policy = t[i].policy;
		o.defer_html = defer;
		look[i].h = h;
		look[i].feed = feed_of(i);
		if (h != NULL) {
			o.body_cb = stored_bodies;
			o.body_arg = &look[i];
		}
		CHECK_INT(tr_parser_new(&p, &o, on_parsed, &v[i]), 0);
		CHECK_INT(tr_parser_feed(p, doc, strlen(doc)), 0);
		CHECK_INT(tr_parser_finish(p), 0);
		tr_parser_free(p);
		raw += v[i].raw;
		most = v[i].n > most ? v[i].n : most;
	}
	/* A small queue: the big document crosses its cap many times. */
	CHECK_INT(tr_writer_start(&w, st, 4096), 0);
	for (i = 0; i < nt; i++) {
		tok[i] = (int)i;
		d[i] = tr_writer_doc_begin(w, feed_of(i), t[i].policy,
		                           t[i].max_field, &tok[i]);
	}
	for (k = 0; k < most; k++) {
		for (i = 0; i < nt; i++) {
			if (k < v[i].n)
				CHECK_INT(tr_writer_doc_add(w, d[i], &v[i].a[k]),
				          0);
			if (k == 0 && t[i].huge) {
				struct tr_article a;

				mkhuge(&a);
				CHECK_INT(tr_writer_doc_add(w, d[i], &a), 0);
				tr_article_free(&a);
			}
		}
	}
	for (i = 0; i < nt; i++)
		CHECK_INT(tr_writer_doc_commit(w, d[i], NULL), 0);
	tr_writer_flush(w);
	memset(&s, 0, sizeof(s));
	tr_writer_results(w, on_result, &s);
	CHECK_INT(s.n, (int)nt);
	CHECK(results_in_order(&s, tok, (int)nt));
	for (k = 0; k < (size_t)s.n; k++) {
		i = (size_t)(*(int *)s.token[k]);
		CHECK_STR_CASE(t[i].name, tr_strerror(s.rc[k]),
		               tr_strerror(t[i].huge ? TR_ETOOBIG : 0));
		if (t[i].huge) {
			huge_rc = s.rc[k];
			CHECK_STR(s.msg[k], tr_strerror(TR_ETOOBIG));
		}
	}
	CHECK_INT(huge_rc, TR_ETOOBIG);
	tr_writer_stop(w);
	for (i = 0; i < nt; i++) {
		free_arts(v[i].a, v[i].n);
		free(v[i].a);
	}
	tr_store_bodies_close(h);
	tr_store_close(st);
	return raw;
}

/*
 * The stored rows, one a line: feed, identity, title, bodies, text,
 * hash; in the order of identity and feed (feeds share identities: the
 * same document under two policies).
 */
static char *
rows_of(const char *path)
{
	static const char sq[] =
	    "SELECT group_concat(r, char(10)) FROM (SELECT f.name || '|' || "
	    "identity || '|' || coalesce(title, '~') || '|' || "
	    "coalesce(summary, '~') || '|' || coalesce(content, '~') || '|' "
	    "|| coalesce(body_text, '~') || '|' || hash AS r FROM articles a "
	    "JOIN feeds f ON f.id = a.feed_id ORDER BY identity, f.name)";
	static const char pg[] =
	    "SELECT string_agg(f.name || '|' || identity || '|' || "
	    "coalesce(title, '~') || '|' || coalesce(summary, '~') || '|' || "
	    "coalesce(content, '~') || '|' || coalesce(body_text, '~') || '|' "
	    "|| hash, E'\n' ORDER BY identity COLLATE \"C\", f.name COLLATE "
	    "\"C\") FROM articles a JOIN feeds f ON f.id = a.feed_id";
	size_t size = (size_t)8 << 20;
	char *out = malloc(size);

	sql_text(path, is_pg() ? pg : sq, out, size);
	return out;
}

struct logged {
	int n;
	char msg[512];
};

/* Keeps the log's lines about bodies cut at the size cap. */
static void
on_log(enum tr_log_level level, const char *msg, void *arg)
{
	struct logged *l = arg;

	if (level != TR_LOG_WARN || strstr(msg, "grew past") == NULL)
		return;
	if (l->n++ == 0)
		snprintf(l->msg, sizeof(l->msg), "%s", msg);
}

static char *
open_table_store(void)
{
	static const char conf_table[] =
	    "[tributary]\ndatabase = x.db\n"
	    "[feed \"f0\"]\nurl = http://127.0.0.1:1/0\n"
	    "[feed \"f1\"]\nurl = http://127.0.0.1:1/1\n"
	    "[feed \"f2\"]\nurl = http://127.0.0.1:1/2\n"
	    "[feed \"f3\"]\nurl = http://127.0.0.1:1/3\n"
	    "[feed \"f4\"]\nurl = http://127.0.0.1:1/4\n"
	    "[feed \"f5\"]\nurl = http://127.0.0.1:1/5\n";
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf_table);
	char *path = tmp_db();

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	tr_config_free(cfg);
	tr_store_close(st);
	return path;
}

/*
 * A table of documents stored through the writer twice, into two
 * stores: once parsed with defer_html (the preparing thread sanitizes),
 * once sanitized inline by the parser. The stored rows (identity,
 * title, summary, content, body_text, content hash) are the same, after
 * the first pass and after a second in which bodies are taken from the
 * store (SQLite), kept rows stay and changed ones are stored again.
 */
static void
test_deferred_rows_same_as_inline(void)
{
	char *over = doc_over_cap(), *many = doc_many();
	const struct tcase t[] = {
	    {"relative links, xml:base, embeds", doc_relative, doc_relative2,
	     0, &embed_policy, 0},
	    {"no markup, title markup", doc_plain, doc_plain2, 0, NULL, 0},
	    {"text policy", doc_relative, NULL, 0, &text_policy, 0},
	    {"over the cap once sanitized", over, NULL, 1000, NULL, 0},
	    {"thousands of items", many, NULL, 0, NULL, 0},
	    {"an article past the prep cap", doc_plain, NULL, 0, NULL, 1},
	};
	const size_t nt = sizeof(t) / sizeof(t[0]);
	char *inl = open_table_store(), *def = open_table_store();
	char *ri, *rd;
	struct logged grew;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		size_t raw;

		CHECK_INT(store_table(inl, t, nt, 0, pass), 0);
		memset(&grew, 0, sizeof(grew));
		tr_log_set_sink(on_log, &grew);
		raw = store_table(def, t, nt, 1, pass);
		tr_log_set_sink(NULL, NULL);
		CHECK(raw > (pass ? 0 : N_MANY));
		/* The second time the stored bodies serve all but the changed
		 * and the cut ones (SQLite; PostgreSQL keeps none). */
		if (pass == 1 && !is_pg())
			CHECK(raw < 20);
		/* The cut body is logged with its feed, as the parser warns;
		 * the second time, its stored bodies serve (SQLite). */
		CHECK_INT(grew.n, pass == 1 && !is_pg() ? 0 : 1);
		if (grew.n > 0)
			CHECK(strstr(grew.msg, "feed f3: ") == grew.msg);
		ri = rows_of(inl);
		rd = rows_of(def);
		CHECK(strlen(ri) > 100000); /* all those items */
		CHECK(strstr(ri, "http://blog.example/photos/quay.jpg"));
		/* The body grown past the cap is left out, its text too. */
		CHECK(strstr(ri, "/cap-1|"));
		CHECK(strstr(ri, "|kept <b>summary</b>|~|kept summary|"));
		CHECK(strstr(ri, "huge-1") == NULL);
		CHECK(strcmp(ri, rd) == 0);
		if (strcmp(ri, rd) != 0) {
			size_t i = 0;

			while (ri[i] && ri[i] == rd[i])
				i++;
			printf("  pass %d: rows differ at byte %zu: %.120s | "
			       "%.120s\n", pass, i, ri + (i > 40 ? i - 40 : 0),
			       rd + (i > 40 ? i - 40 : 0));
		}
		free(ri);
		free(rd);
	}
	rm_db(inl);
	rm_db(def);
	free(over);
	free(many);
}

/*
 * The round stops while documents with raw bodies wait in both queues:
 * every result comes back in order, none after the first dropped one is
 * stored, and no document is stored in part.
 */
static void
test_cancel_mid_queue(void)
{
	char *path;
	struct tr_store *st = open_store(&path);
	struct tr_writer *w = NULL;
	struct tr_writer_doc *d;
	struct tr_article a;
	struct parsed v;
	struct seen s;
	volatile int cancel = 0;
	int tok[8], rcs[8] = {0}, first_drop = -1, i;
	size_t k;
	char *many = doc_many();
	struct tr_parser *p = NULL;
	struct tr_parse_opts o;

	memset(&o, 0, sizeof(o));
	o.defer_html = 1;
	memset(&v, 0, sizeof(v));
	CHECK_INT(tr_parser_new(&p, &o, on_parsed, &v), 0);
	CHECK_INT(tr_parser_feed(p, many, 200000), 0);
	tr_parser_free(p);
	CHECK(v.n > 500 && v.raw == v.n);
	CHECK_INT(tr_writer_start(&w, st, 4096), 0);
	tr_writer_set_cancel(w, &cancel);
	for (i = 0; i < 8; i++) {
		tok[i] = i;
		d = tr_writer_doc_begin(w, i % 2 ? "beta" : "alpha", NULL, 0,
		                        &tok[i]);
		for (k = 0; k < v.n; k++) {
			char id[48];

			tr_article_copy(&a, &v.a[k]);
			free(a.id);
			snprintf(id, sizeof(id), "d%d-%zu", i, k);
			a.id = xstrdup(id);
			CHECK_INT(tr_writer_doc_add(w, d, &a), 0);
			tr_article_free(&a);
			if (i == 3 && k == v.n / 2)
				cancel = 1;
		}
		CHECK_INT(tr_writer_doc_commit(w, d, NULL), 0);
	}
	tr_writer_flush(w);
	memset(&s, 0, sizeof(s));
	tr_writer_results(w, on_result, &s);
	tr_writer_stop(w);
	CHECK_INT(s.n, 8);
	CHECK(results_in_order(&s, tok, 8));
	for (i = 0; i < s.n; i++) {
		int di = *(int *)s.token[i];

		CHECK(s.rc[i] == 0 || s.rc[i] == TR_EABORT);
		rcs[di] = s.rc[i];
	}
	for (i = 0; i < 8; i++) {
		char sql[128];
		int64_t n;

		if (rcs[i] != 0 && first_drop < 0)
			first_drop = i;
		if (first_drop >= 0)
			CHECK_INT(rcs[i], TR_EABORT);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM articles "
		         "WHERE identity LIKE 'd%d-%%'", i);
		n = sql_int(path, sql);
		CHECK_INT(n, rcs[i] == 0 ? (int64_t)v.n : 0);
	}
	CHECK(first_drop >= 0 && first_drop <= 3);
	free_arts(v.a, v.n);
	free(v.a);
	free(many);
	tr_store_close(st);
	rm_db(path);
}

/* The identities of feed's rows, newest first, space-separated. */
static void
order_of(const char *path, const char *feed, char *out, size_t size)
{
	char sql[512];

	snprintf(sql, sizeof(sql), is_pg()
	    ? "SELECT string_agg(a.identity, ' ' ORDER BY a.sort_date DESC) "
	      "FROM articles a JOIN feeds f ON f.id = a.feed_id WHERE "
	      "f.name = '%s'"
	    : "SELECT group_concat(identity, ' ') FROM (SELECT a.identity "
	      "FROM articles a JOIN feeds f ON f.id = a.feed_id WHERE "
	      "f.name = '%s' ORDER BY a.sort_date DESC)", feed);
	sql_text(path, sql, out, size);
}

/*
 * Undated items keep their document's order in the store (its sort
 * dates). Heavy bodies (slow to sanitize) alternate with light ones, so
 * the preparing threads finish them out of order: the store still gets
 * them in the order queued, as the inline path does.
 */
static void
test_order_kept_across_preparing_threads(void)
{
	char *path = open_table_store();
	char got[4096], want[4096];
	struct tr_store *st = NULL;
	struct tr_writer *w = NULL;
	struct tr_writer_doc *d[2];
	struct tr_buf heavy;
	struct tr_article arts[2][40];
	struct seen s;
	int tok[2] = {0, 1}, pass, i;
	size_t k;

	tr_buf_init(&heavy, 1 << 20);
	for (k = 0; k < 3000; k++)
		tr_buf_adds(&heavy, "<div><p><a href=\"x\">deep <b>text</b></a>");
	want[0] = '\0';
	for (i = 0; i < 40; i++) {
		snprintf(want + strlen(want), sizeof(want) - strlen(want),
		         "%so%d", i ? " " : "", i);
	}
	/* Made first, so that the queue fills faster than it drains. */
	for (i = 0; i < 40; i++) {
		for (pass = 0; pass < 2; pass++) {
			struct tr_article *a = &arts[pass][i];
			char id[16];
			int n = 0;

			snprintf(id, sizeof(id), "o%d", i);
			mkart(a, id, NULL, id, TR_DATE_NONE);
			free(a->summary);
			a->summary = xstrdup(i % 2 ? "light" : heavy.data);
			a->summary_base = xstrdup("http://o.example/");
			a->bodies_raw = 1;
			if (pass == 1)
				CHECK_INT(tr_parser_sanitize_article(a, NULL, 0,
				                                     &n), 0);
		}
	}
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_writer_start(&w, st, 1 << 20), 0);
	for (pass = 0; pass < 2; pass++) /* f0: raw bodies, f1: sanitized */
		d[pass] = tr_writer_doc_begin(w, feed_of((size_t)pass), NULL, 0,
		                              &tok[pass]);
	for (i = 0; i < 40; i++)
		for (pass = 0; pass < 2; pass++)
			CHECK_INT(tr_writer_doc_add(w, d[pass], &arts[pass][i]),
			          0);
	for (pass = 0; pass < 2; pass++)
		CHECK_INT(tr_writer_doc_commit(w, d[pass], NULL), 0);
	tr_writer_flush(w);
	memset(&s, 0, sizeof(s));
	tr_writer_results(w, on_result, &s);
	CHECK_INT(s.n, 2);
	CHECK(results_in_order(&s, tok, 2));
	CHECK(s.rc[0] == 0 && s.rc[1] == 0);
	tr_writer_stop(w);
	order_of(path, "f1", got, sizeof(got));
	CHECK_STR(got, want);
	order_of(path, "f0", got, sizeof(got));
	CHECK_STR(got, want);
	tr_store_close(st);
	free_arts(arts[0], 40);
	free_arts(arts[1], 40);
	tr_buf_free(&heavy);
	rm_db(path);
}

/*
 * Operations are handed on in batches, a sleeping thread woken only once
 * a batch has gathered or at a commit: still none is left waiting below
 * a batch. Without a flush or stop, each case's document comes back
 * (committed: stored, with its count) or is gone (discarded), and its
 * last feed state is saved, within seconds, whatever the number of
 * operations against the batch's 32 and however the queue ends.
 */
static void
test_nothing_stranded_below_a_batch(void)
{
	static const struct {
		int adds;
		int end; /* 0: commit, 1: discard, 2: no document */
		int save;
	} cases[] = {
		{0, 2, 1},  {1, 0, 0},	{1, 0, 1},  {1, 1, 1},	{30, 0, 0},
		{31, 0, 1}, {32, 0, 0}, {33, 0, 1}, {33, 1, 1}, {70, 0, 1},
	};
	struct timespec ms = {0, 10 * 1000 * 1000};
	size_t c;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char *path;
		struct tr_store *st = open_store(&path);
		struct tr_writer *w = NULL;
		struct tr_writer_doc *d;
		struct tr_feed_state fs;
		struct seen s;
		char id[32], sql[128];
		int want_n = cases[c].end == 0, i, t = 1;
		int64_t saved = !cases[c].save, rows = -1;

		memset(&s, 0, sizeof(s));
		CHECK_INT(tr_store_feed_get(st, &fs, "alpha"), 0);
		CHECK_INT(tr_writer_start(&w, st, 1 << 20), 0);
		if (cases[c].end != 2) {
			d = tr_writer_doc_begin(w, "alpha", NULL, 0, &t);
			CHECK(d != NULL);
			for (i = 0; i < cases[c].adds; i++) {
				snprintf(id, sizeof(id), "c%zu-%d", c, i);
				add(w, d, id);
			}
			if (cases[c].end == 0)
				CHECK_INT(tr_writer_doc_commit(w, d, NULL), 0);
			else
				tr_writer_doc_discard(w, d);
		}
		if (cases[c].save) {
			free(fs.etag);
			fs.etag = xstrdup("\"case\"");
			CHECK_INT(tr_writer_save(w, &fs), 0);
		}
		tr_feed_state_free(&fs);
		snprintf(sql, sizeof(sql), "SELECT count(*) FROM feeds WHERE "
		         "name = 'alpha' AND etag = '\"case\"'");
		/* Up to 10 s: the group commits a quarter second after its
		 * first write, once the writer has the operations. */
		for (i = 0; i < 1000; i++) {
			tr_writer_results(w, on_result, &s);
			if (cases[c].save && !saved)
				saved = sql_int(path, sql);
			if (s.n == want_n && saved &&
			    (want_n == 0 || (rows = sql_int(path,
			        "SELECT count(*) FROM articles")) ==
			        cases[c].adds))
				break;
			nanosleep(&ms, NULL);
		}
		if (s.n != want_n || !saved)
			printf("  case %zu: %d results, saved %d\n", c, s.n,
			       (int)saved);
		CHECK_INT(s.n, want_n);
		CHECK_INT(saved, 1);
		if (want_n) {
			CHECK_INT(s.rc[0], 0);
			CHECK_INT(s.added[0], cases[c].adds);
			CHECK_INT(rows, cases[c].adds);
		}
		tr_writer_stop(w);
		CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"),
		          want_n ? cases[c].adds : 0);
		tr_store_close(st);
		rm_db(path);
	}
}

/*
 * Nice values of this process's threads named name (/proc/self/task/
 * TID/stat: the comm in parentheses, then the 19th field), into nice;
 * their number.
 */
static int
thread_nices(const char *name, int *nice, int max)
{
	char path[300], line[512], *p;
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");
	FILE *f;
	int n = 0, i, v;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < max) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/stat",
		         e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		p = fgets(line, sizeof(line), f);
		fclose(f);
		if (p == NULL || (p = strchr(line, '(')) == NULL ||
		    strncmp(p + 1, name, strlen(name)) != 0 ||
		    p[1 + strlen(name)] != ')' ||
		    (p = strrchr(line, ')')) == NULL)
			continue;
		/* after ") ": state is field 3, nice field 19 */
		for (i = 3, p += 2; i < 19 && p != NULL; i++)
			if ((p = strchr(p, ' ')) != NULL)
				p++;
		if (p != NULL && sscanf(p, "%d", &v) == 1)
			nice[n++] = v;
	}
	closedir(d);
	return n;
}

/* The preparing threads run nicer than the process, so that the writer
 * thread (the round's critical path) gets a core when it has work; the
 * writer thread itself keeps the process's priority. */
static void
test_preparing_threads_yield_to_the_writer(void)
{
	char *path;
	struct tr_store *st = open_store(&path);
	struct tr_writer *w = NULL;
	int nice[8], wnice[8], base, n = 0, nw = 0, i;

	errno = 0;
	base = getpriority(PRIO_PROCESS, 0);
	CHECK_INT(errno, 0);
	CHECK_INT(tr_writer_start(&w, st, 1 << 20), 0);
	/* the threads name themselves and set their priority as they start:
	 * up to 5 s for that (slow under the sanitizers and memcheck) */
	for (i = 0; i < 500; i++) {
		n = thread_nices("tr-prepare", nice, 8);
		nw = thread_nices("tr-writer", wnice, 8);
		if (n == 2 && nice[0] == nice[1] && nice[0] != base && nw == 1)
			break;
		nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
	}
	CHECK_INT(n, 2);
	CHECK_INT(nice[0], base + 5 > 19 ? 19 : base + 5);
	CHECK_INT(nice[1], nice[0]);
	CHECK_INT(nw, 1);
	CHECK_INT(wnice[0], base);
	tr_writer_stop(w);
	tr_store_close(st);
	rm_db(path);
}

TR_TESTS(test_interleaved_documents, test_error_and_discard,
         test_states_saved_in_order, test_tiny_queue,
         test_readers_see_writes_while_running,
         test_result_after_durable_commit,
         test_cancel_drops_queued_documents, test_items_as_stored,
         test_deferred_rows_same_as_inline, test_cancel_mid_queue,
         test_order_kept_across_preparing_threads,
         test_nothing_stranded_below_a_batch,
         test_preparing_threads_yield_to_the_writer)
