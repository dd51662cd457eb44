/*
 * test_writer.c — the writer thread: interleaved documents land whole,
 * errors come back with their document, discards leave nothing, feed
 * states are saved in order, a tiny queue still carries everything, and
 * readers see the writes while the thread runs; a stopped round stores
 * no more documents.
 */
#include <time.h>

#include "runner.h"
#include "test_store_util.h"
#include "fault_vfs.h"
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
	a = tr_writer_doc_begin(w, "alpha", &ta);
	b = tr_writer_doc_begin(w, "beta", &tb);
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
	gone = tr_writer_doc_begin(w, "no-such-feed", &t);
	dropped = tr_writer_doc_begin(w, "alpha", NULL);
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
	d = tr_writer_doc_begin(w, "alpha", NULL);
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
	d = tr_writer_doc_begin(w, "beta", NULL);
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
		a = tr_writer_doc_begin(w, "alpha", &ta);
		b = tr_writer_doc_begin(w, "beta", &tb);
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
		a = tr_writer_doc_begin(w, "alpha", &ta);
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
	a = tr_writer_doc_begin(w, "alpha", &ta);
	add(w, a, "a1");
	add(w, a, "a2");
	CHECK_INT(tr_writer_doc_commit(w, a, NULL), 0);
	tr_writer_flush(w);
	b = tr_writer_doc_begin(w, "beta", &tb);
	add(w, b, "b1");
	cancel = 1;
	add(w, b, "b2");
	CHECK_INT(tr_writer_doc_commit(w, b, NULL), 0);
	c = tr_writer_doc_begin(w, "alpha", &tc);
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
		d = tr_writer_doc_begin(w, "alpha", &tok);
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

TR_TESTS(test_interleaved_documents, test_error_and_discard,
         test_states_saved_in_order, test_tiny_queue,
         test_readers_see_writes_while_running,
         test_result_after_durable_commit,
         test_cancel_drops_queued_documents, test_items_as_stored)
