/*
 * test_store_batch.c — storing documents, on either backend: the sort
 * date rules as a table, text that needs escaping on its way in (stored
 * byte for byte), the last item of an identity winning across a large
 * document, a batch freed without commit after part of it went to the
 * server, and (PostgreSQL) a document whose staged rows were lost with
 * the connection is refused, not stored empty.
 */
#include <pthread.h>

#include "test_store_util.h"

static const char conf[] = "[tributary]\n"
			   "database = x.db\n"
			   "[feed \"alpha\"]\n"
			   "url = http://127.0.0.1:1/a.xml\n"
			   "[feed \"beta\"]\n"
			   "url = http://127.0.0.1:1/b.xml\n";

#define NOW 1000000

#ifndef CHECK_INT_CASE
/* Like CHECK_INT, for table-driven tests: names the case that failed. */
#define CHECK_INT_CASE(casename, got, want)                                   \
	do {                                                                  \
		long long g_ = (long long)(got), w_ = (long long)(want);      \
		if (g_ != w_) {                                               \
			printf("  %s:%d: [%s] %s: got %lld, want %lld\n",     \
			    __FILE__, __LINE__, (casename), #got, g_, w_);    \
			tr_test_failed_checks++;                              \
		}                                                             \
	} while (0)
#endif

static struct tr_store *
open_with(char **path, struct tr_config **cfg)
{
	struct tr_store *st = NULL;

	*path = tmp_db();
	*cfg = cfg_from(conf);
	CHECK_INT(tr_store_open(&st, *path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, *cfg), 0);
	tr_store_set_now(st, NOW);
	return st;
}

static int64_t
col_of(const char *path, const char *col, const char *id)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "SELECT %s FROM articles WHERE identity"
	    " = '%s'", col, id);
	return sql_int(path, sql);
}

/*
 * sort_date: published, else updated, else first seen; a date in the
 * future is first seen. A changed item takes its new date, an updated
 * date only when newer than the stored one (else the change time).
 */
static void
test_sort_dates(void)
{
	static const struct {
		const char *name;
		int64_t pub, upd;       /* first document */
		int64_t pub2, upd2;     /* second, at NOW + 100, text changed */
		int64_t sort1, sort2, updated2;
	} cases[] = {
	    {"published", 900, TR_DATE_NONE, 900, TR_DATE_NONE, 900, 900,
		NOW + 100},
	    {"future published", NOW + 5000, TR_DATE_NONE, NOW + 5000,
		TR_DATE_NONE, NOW, NOW, NOW + 100},
	    {"updated only", TR_DATE_NONE, 800, TR_DATE_NONE, 850, 800, 850,
		850},
	    {"updated older", TR_DATE_NONE, 800, TR_DATE_NONE, 700, 800,
		NOW + 100, NOW + 100},
	    {"future updated", TR_DATE_NONE, NOW + 9, TR_DATE_NONE, NOW + 500,
		NOW, NOW, NOW + 500},
	    {"updated now past", TR_DATE_NONE, NOW + 9, TR_DATE_NONE, NOW + 99,
		NOW, NOW + 99, NOW + 99},
	    {"both", 500, 600, 500, 650, 500, 500, 650},
	};
	size_t i, n = sizeof(cases) / sizeof(cases[0]);
	struct tr_config *cfg;
	char *path;
	struct tr_store *st = open_with(&path, &cfg);
	struct tr_article v[8];
	struct tr_store_result r;

	for (i = 0; i < n; i++) {
		mkart(&v[i], cases[i].name, NULL, "first", cases[i].pub);
		v[i].updated = cases[i].upd;
	}
	CHECK_INT(store_doc(st, "alpha", v, n, &r), 0);
	CHECK_INT(r.added, (int64_t)n);
	for (i = 0; i < n; i++) {
		CHECK_INT(col_of(path, "sort_date", cases[i].name),
		    cases[i].sort1);
		free(v[i].title);
		v[i].title = strdup("second");
		v[i].published = cases[i].pub2;
		v[i].updated = cases[i].upd2;
	}
	tr_store_set_now(st, NOW + 100);
	CHECK_INT(store_doc(st, "alpha", v, n, &r), 0);
	CHECK_INT(r.updated, (int64_t)n);
	for (i = 0; i < n; i++) {
		if (col_of(path, "sort_date", cases[i].name) !=
		    cases[i].sort2 ||
		    col_of(path, "updated", cases[i].name) !=
		    cases[i].updated2 ||
		    col_of(path, "first_seen", cases[i].name) != NOW ||
		    col_of(path, "changed_at", cases[i].name) != NOW + 100) {
			printf("  [%s] sort_date %lld updated %lld\n",
			    cases[i].name,
			    (long long)col_of(path, "sort_date",
				cases[i].name),
			    (long long)col_of(path, "updated",
				cases[i].name));
			CHECK(0);
		}
	}
	free_arts(v, n);
	tr_config_free(cfg);
	tr_store_close(st);
	rm_db(path);
}

/*
 * New undated items keep the document's order (first is newest), above
 * everything the feed has, one second apart.
 */
static void
test_undated_order(void)
{
	struct tr_config *cfg;
	char *path;
	struct tr_store *st = open_with(&path, &cfg);
	struct tr_article v[3];
	struct tr_store_result r;

	mkart(&v[0], "dated", NULL, "t", NOW + 50); /* future: first seen */
	CHECK_INT(store_doc(st, "alpha", v, 1, &r), 0);
	free_arts(v, 1);
	tr_store_set_now(st, NOW + 1);
	mkart(&v[0], "u1", NULL, "t", TR_DATE_NONE);
	mkart(&v[1], "u2", NULL, "t", TR_DATE_NONE);
	mkart(&v[2], "u3", NULL, "t", TR_DATE_NONE);
	CHECK_INT(store_doc(st, "alpha", v, 3, &r), 0);
	CHECK_INT(r.added, 3);
	/* B = max(now, newest + 1 + span) = max(NOW+1, NOW+1+2) */
	CHECK_INT(col_of(path, "sort_date", "u1"), NOW + 3);
	CHECK_INT(col_of(path, "sort_date", "u2"), NOW + 2);
	CHECK_INT(col_of(path, "sort_date", "u3"), NOW + 1);
	free_arts(v, 3);
	tr_config_free(cfg);
	tr_store_close(st);
	rm_db(path);
}

/* Text with the characters a bulk load escapes reads back unchanged. */
static void
test_text_byte_for_byte(void)
{
	static const char *const texts[] = {
	    "tab\there", "line\nbreak", "cr\rlf\r\n", "back\\slash",
	    "\\N", "\\.", "\\", "quote ' and \"", "caf\xc3\xa9 \xe2\x82\xac",
	    "",
	};
	size_t i, n = sizeof(texts) / sizeof(texts[0]);
	struct tr_config *cfg;
	char *path, sql[128], got[256], name[16];
	struct tr_store *st = open_with(&path, &cfg);
	struct tr_article v[16];
	struct tr_store_result r;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "t%zu", i);
		mkart(&v[i], name, NULL, texts[i], 900);
		free(v[i].summary);
		v[i].summary = strdup(texts[i]);
	}
	CHECK_INT(store_doc(st, "alpha", v, n, &r), 0);
	for (i = 0; i < n; i++) {
		snprintf(sql, sizeof(sql), "SELECT title || '|' || summary"
		    " FROM articles WHERE identity = 't%zu'", i);
		sql_text(path, sql, got, sizeof(got));
		snprintf(sql, sizeof(sql), "%s|%s", texts[i], texts[i]);
		CHECK_STR_CASE(texts[i], got, sql);
	}
	free_arts(v, n);
	tr_config_free(cfg);
	tr_store_close(st);
	rm_db(path);
}

/* Adds items id<from>..id<to-1> of size bytes of content to b. */
static int
add_range(struct tr_store_batch *b, int from, int to, size_t size,
    const char *title)
{
	char *content = malloc(size + 1), id[32];
	struct tr_article a;
	int i, rc = 0;

	memset(content, 'c', size);
	content[size] = '\0';
	for (i = from; i < to && rc == 0; i++) {
		snprintf(id, sizeof(id), "id%d", i);
		mkart(&a, id, NULL, title, 1000 + i);
		a.content = strdup(content);
		rc = tr_store_batch_add(b, &a);
		tr_article_free(&a);
	}
	free(content);
	return rc;
}

/*
 * 3,000 items of 4 KB (megabytes staged in pieces): an identity given
 * again near the end wins over its first item, and a second batch of
 * the same feed freed without commit leaves nothing.
 */
static void
test_large_last_wins_and_discard(void)
{
	struct tr_config *cfg;
	char *path, got[64];
	struct tr_store *st = open_with(&path, &cfg);
	struct tr_store_batch *b = NULL;
	struct tr_store_result r;
	int64_t gen0, gen1;

	CHECK_INT(tr_store_batch_begin(&b, st, "alpha"), 0);
	CHECK_INT(add_range(b, 0, 3000, 4096, "first"), 0);
	CHECK_INT(add_range(b, 7, 8, 10, "again"), 0);
	CHECK_INT(tr_store_batch_commit(b, NULL, &r), 0);
	tr_store_batch_free(b);
	CHECK_INT(r.added, 3000);
	CHECK_INT(r.unchanged, 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 3000);
	sql_text(path, "SELECT title FROM articles WHERE identity = 'id7'",
	    got, sizeof(got));
	CHECK_STR(got, "again");
	CHECK_INT(col_of(path, "length(content)", "id7"), 10);

	CHECK_INT(tr_store_generation(st, &gen0, NULL), 0);
	CHECK_INT(tr_store_batch_begin(&b, st, "alpha"), 0);
	CHECK_INT(add_range(b, 2000, 5000, 4096, "discarded"), 0);
	tr_store_batch_free(b);
	CHECK_INT(tr_store_generation(st, &gen1, NULL), 0);
	CHECK_INT(gen1, gen0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 3000);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles WHERE"
	    " title = 'discarded'"), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles WHERE"
	    " in_latest = 1"), 3000);
	/* The next document of the feed sees none of the discarded one. */
	CHECK_INT(tr_store_batch_begin(&b, st, "alpha"), 0);
	CHECK_INT(add_range(b, 0, 2, 10, "small"), 0);
	CHECK_INT(tr_store_batch_commit(b, NULL, &r), 0);
	tr_store_batch_free(b);
	CHECK_INT(r.added + r.updated + r.unchanged, 2);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles WHERE"
	    " in_latest = 1"), 2);
	tr_config_free(cfg);
	tr_store_close(st);
	rm_db(path);
}

/*
 * One document that gives identities again: only the last item of each
 * is stored, however many times and in what order they come (a document
 * of one item without guid or link repeated, the endless kind, is the
 * last case: its staged copies are dropped in one pass, not each against
 * all the others). "pattern" names the identities in document order by
 * letter; the item at position i is titled "t<i>".
 */
static void
test_repeated_identities(void)
{
	static const struct {
		const char *name;
		const char *pattern; /* NULL: "a" repeat times */
		int repeat;
		const char *want;    /* "letter=last position" for each */
	} cases[] = {
	    {"all distinct", "abc", 0, "a=0 b=1 c=2"},
	    {"one identity twice", "aa", 0, "a=1"},
	    {"interleaved", "ababa", 0, "a=4 b=3"},
	    {"repeated after the others", "abcda", 0, "a=4 b=1 c=2 d=3"},
	    {"one identity 20,000 times", NULL, 20000, "a=19999"},
	};
	size_t c;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct tr_config *cfg;
		char *path, id[8], title[16], got[64], want[64], sql[128];
		struct tr_store *st = open_with(&path, &cfg);
		struct tr_store_batch *b = NULL;
		struct tr_store_result r;
		struct tr_article a;
		const char *w;
		int i, n = cases[c].pattern ? (int)strlen(cases[c].pattern)
		    : cases[c].repeat, distinct = 0, rc = 0;

		CHECK_INT(tr_store_batch_begin(&b, st, "alpha"), 0);
		for (i = 0; i < n && rc == 0; i++) {
			snprintf(id, sizeof(id), "id-%c",
			    cases[c].pattern ? cases[c].pattern[i] : 'a');
			snprintf(title, sizeof(title), "t%d", i);
			mkart(&a, id, NULL, title, 1000 + i);
			rc = tr_store_batch_add(b, &a);
			tr_article_free(&a);
		}
		CHECK_INT_CASE(cases[c].name, rc, 0);
		CHECK_INT_CASE(cases[c].name,
		    tr_store_batch_commit(b, NULL, &r), 0);
		tr_store_batch_free(b);
		for (w = cases[c].want; *w; w += strcspn(w, " "),
		    w += strspn(w, " ")) {
			snprintf(sql, sizeof(sql), "SELECT title FROM articles"
			    " WHERE identity = 'id-%c'", w[0]);
			sql_text(path, sql, got, sizeof(got));
			snprintf(want, sizeof(want), "t%.*s",
			    (int)strcspn(w + 2, " "), w + 2);
			CHECK_STR_CASE(cases[c].name, got, want);
			distinct++;
		}
		CHECK_INT_CASE(cases[c].name, r.added, distinct);
		CHECK_INT_CASE(cases[c].name,
		    sql_int(path, "SELECT count(*) FROM articles"), distinct);
		tr_config_free(cfg);
		tr_store_close(st);
		rm_db(path);
	}
}

/* Adds n new items to *b (begun on feed when NULL); 0 or an error. */
static int
add_new_items(struct tr_store_batch **b, struct tr_store *st,
    const char *feed, int n, int *serial)
{
	struct tr_article a;
	char id[32];
	int i, rc = 0;

	if (*b == NULL && (rc = tr_store_batch_begin(b, st, feed)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		snprintf(id, sizeof(id), "%s-%d", feed, ++*serial);
		mkart(&a, id, NULL, id, 1000 + *serial);
		rc = tr_store_batch_add(*b, &a);
		tr_article_free(&a);
	}
	return rc;
}

/*
 * Documents in flight at once, as the writer interleaves them: each
 * batch's items reach its own commit whole (r.added counts them all),
 * whichever batches commit, are discarded or stay open around it;
 * also while one batch stays open across many committed ones ('#': 60
 * documents of 100 items on beta, each committed: a long document
 * beside many short ones). Script: "a3"
 * adds 3 new items to batch a; "a!" commits a; "a~" frees a without a
 * commit. Batches a and c are alpha's documents, b and d beta's.
 */
static void
test_batches_in_flight(void)
{
	static const struct {
		const char *name, *script;
		int alpha, beta; /* articles stored at the end */
	} cases[] = {
	    {"one after another", "a3 a! b2 b!", 3, 2},
	    {"committed inside another", "a2 b2 b! a2 a!", 4, 2},
	    {"the last open one commits", "a2 b2 a! b1 b!", 2, 3},
	    {"three open, middle first", "a1 b1 c1 b! a1 c! a!", 3, 1},
	    {"discarded inside another", "a2 b2 b~ a1 a!", 3, 0},
	    {"discarded last", "a2 b2 a! b~ c1 c!", 3, 0},
	    {"reopened after a discard", "a2 a~ a1 a!", 1, 0},
	    {"long document beside many", "a5 # a5 a!", 10, 6000},
	    {"long document discarded", "a5 # a5 a~ c2 c!", 2, 6000},
	};
	size_t c;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct tr_config *cfg;
		char *path;
		struct tr_store *st = open_with(&path, &cfg);
		struct tr_store_batch *b[4] = {NULL, NULL, NULL, NULL};
		int added[4] = {0, 0, 0, 0}, serial = 0, rc = 0, k;
		const char *p = cases[c].script;

		for (; *p && rc == 0; p += strcspn(p, " "),
		    p += strspn(p, " ")) {
			struct tr_store_result r = {0, 0, 0, 0};
			int i = p[0] - 'a', n = atoi(p + 1);
			const char *feed = i % 2 ? "beta" : "alpha";

			if (p[0] == '#') {
				for (k = 0; k < 60 && rc == 0; k++) {
					struct tr_store_batch *d = NULL;

					rc = add_new_items(&d, st, "beta", 100,
					    &serial);
					if (rc == 0)
						rc = tr_store_batch_commit(d,
						    NULL, &r);
					CHECK_INT_CASE(cases[c].name, r.added,
					    100);
					tr_store_batch_free(d);
				}
			} else if (p[1] == '!') {
				rc = tr_store_batch_commit(b[i], NULL, &r);
				CHECK_INT_CASE(cases[c].name, r.added,
				    added[i]);
				tr_store_batch_free(b[i]);
				b[i] = NULL, added[i] = 0;
			} else if (p[1] == '~') {
				tr_store_batch_free(b[i]);
				b[i] = NULL, added[i] = 0;
			} else {
				rc = add_new_items(&b[i], st, feed, n, &serial);
				added[i] += n;
			}
		}
		CHECK_INT_CASE(cases[c].name, rc, 0);
		CHECK_INT_CASE(cases[c].name, sql_int(path, "SELECT count(*)"
		    " FROM articles a JOIN feeds f ON f.id = a.feed_id"
		    " WHERE f.name = 'alpha'"), cases[c].alpha);
		CHECK_INT_CASE(cases[c].name, sql_int(path, "SELECT count(*)"
		    " FROM articles a JOIN feeds f ON f.id = a.feed_id"
		    " WHERE f.name = 'beta'"), cases[c].beta);
		for (k = 0; k < 4; k++)
			tr_store_batch_free(b[k]);
		tr_config_free(cfg);
		tr_store_close(st);
		rm_db(path);
	}
}

/*
 * PostgreSQL stages a large document in the session: when the
 * connection is lost (here: the server ends it) after part of the
 * document went there, the commit refuses, asking to fetch it again,
 * and the feed's stored document stays whole (not replaced by the part
 * the new session holds, nor emptied).
 */
static void
test_pg_staging_lost(void)
{
	/* What the handle does after the server ended its session. */
	static const struct {
		const char *name;
		int calls; /* tr_store_feed_get()s before the commit */
	} cases[] = {
	    {"commit next", 0},
	    {"a failed call, then the commit (it reconnects)", 1},
	    {"a failed call, a call that reconnects, the commit", 2},
	};
	size_t c;

	if (!is_pg())
		SKIP("SQLite stages in its own temp file, not in a session");
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct tr_config *cfg;
		char *path, sql[256];
		struct tr_store *st = open_with(&path, &cfg);
		struct tr_store_batch *b = NULL;
		struct tr_store_result r;
		struct tr_feed_state fs;
		PGconn *admin;
		int i, rc, tries;

		CHECK_INT(tr_store_batch_begin(&b, st, "alpha"), 0);
		CHECK_INT(add_range(b, 0, 10, 10, "kept"), 0);
		CHECK_INT(tr_store_batch_commit(b, NULL, &r), 0);
		tr_store_batch_free(b);

		CHECK_INT(tr_store_batch_begin(&b, st, "alpha"), 0);
		CHECK_INT(add_range(b, 100, 1000, 4096, "lost"), 0);
		admin = pg_admin();
		snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(pid)"
		    " FROM pg_stat_activity WHERE datname = '%.*s'",
		    (int)strcspn(path + 17, "?"), path + 17);
		PQclear(PQexec(admin, sql));
		PQfinish(admin);
		usleep(100000);
		for (i = 0; i < cases[c].calls; i++)
			if (tr_store_feed_get(st, &fs, "beta") == 0)
				tr_feed_state_free(&fs);
		/* The first commit may fail on the dead connection itself;
		 * then (reconnected) the batch is refused as lost. */
		for (tries = 0; tries < 2; tries++) {
			rc = tr_store_batch_commit(b, NULL, &r);
			if (rc != 0 && strstr(tr_store_errmsg(st),
			    "fetch it again") != NULL)
				break;
		}
		CHECK_INT(rc, TR_ESTORE);
		if (strstr(tr_store_errmsg(st), "fetch it again") == NULL ||
		    strstr(tr_store_errmsg(st), "tr_stage") != NULL) {
			printf("  [%s] %s\n", cases[c].name,
			    tr_store_errmsg(st));
			CHECK(0);
		}
		tr_store_batch_free(b);
		CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 10);
		CHECK_INT(sql_int(path, "SELECT count(*) FROM articles WHERE"
		    " in_latest = 1"), 10);
		/* The handle works again: the next document is stored. */
		CHECK_INT(tr_store_batch_begin(&b, st, "alpha"), 0);
		CHECK_INT(add_range(b, 0, 12, 10, "kept"), 0);
		CHECK_INT(tr_store_batch_commit(b, NULL, &r), 0);
		tr_store_batch_free(b);
		CHECK_INT(r.added, 2);
		CHECK_INT(r.unchanged, 10);
		tr_config_free(cfg);
		tr_store_close(st);
		rm_db(path);
	}
}

/* A read-only handle refuses to store, naming the store. */
static void
test_readonly_refuses(void)
{
	struct tr_config *cfg;
	char *path;
	struct tr_store *st = open_with(&path, &cfg), *ro = NULL;
	struct tr_store_batch *b = NULL;

	CHECK_INT(tr_store_open(&ro, path, TR_STORE_READONLY), 0);
	CHECK_INT(tr_store_batch_begin(&b, ro, "alpha"), TR_EINVAL);
	CHECK(b == NULL);
	CHECK(strstr(tr_store_errmsg(ro), "cannot store articles through a "
	    "read-only handle") != NULL);
	CHECK_INT(tr_store_batch_begin(&b, st, "nosuch"), TR_ENOTFOUND);
	CHECK(strstr(tr_store_errmsg(st), "no feed named nosuch") != NULL);
	tr_store_close(ro);
	tr_config_free(cfg);
	tr_store_close(st);
	rm_db(path);
}

/* Two nodes' writers storing the same links at once (see below). */
#define ROUNDS 40

struct node {
	const char *path, *feed;
	pthread_barrier_t *start;
	int failures;
};

static void *
node_run(void *arg)
{
	struct node *n = arg;
	struct tr_store *st = NULL;
	struct tr_article a[4];
	struct tr_store_result r;
	char id[32], link[64];
	int i, k;

	if (tr_store_open(&st, n->path, 0) != 0) {
		n->failures = ROUNDS;
		tr_store_close(st);
		return NULL;
	}
	for (i = 0; i < ROUNDS; i++) {
		for (k = 0; k < 4; k++) {
			snprintf(id, sizeof(id), "%s-%d-%d", n->feed, i, k);
			snprintf(link, sizeof(link), "http://127.0.0.1/%d/%d",
			    i, k);
			mkart(&a[k], id, link, "t", 900 + i);
		}
		pthread_barrier_wait(n->start);
		if (store_doc(st, n->feed, a, 4, &r) != 0) {
			printf("  %s: %s\n", n->feed, tr_store_errmsg(st));
			n->failures++;
		}
		free_arts(a, 4);
	}
	tr_store_close(st);
	return NULL;
}

/*
 * Several nodes share a PostgreSQL database: two handles (two
 * connections, as two nodes have) store documents of different feeds
 * with the same links at the same moment, round after round. Every link
 * ends with exactly one primary row, the first seen (then the lowest
 * id), as one writer would have left it.
 */
static void
test_pg_nodes_one_primary(void)
{
	struct tr_config *cfg;
	char *path;
	struct tr_store *st;
	pthread_barrier_t start;
	pthread_t t[2];
	struct node n[2];
	int i;

	if (!is_pg())
		SKIP("one SQLite file has one writer");
	st = open_with(&path, &cfg);
	pthread_barrier_init(&start, NULL, 2);
	for (i = 0; i < 2; i++) {
		n[i].path = path;
		n[i].feed = i ? "beta" : "alpha";
		n[i].start = &start;
		n[i].failures = 0;
		pthread_create(&t[i], NULL, node_run, &n[i]);
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&start);
	CHECK_INT(n[0].failures + n[1].failures, 0);
	CHECK_INT(sql_int(path, "SELECT count(DISTINCT canon) FROM articles"),
	    ROUNDS * 4);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"),
	    ROUNDS * 4 * 2);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM (SELECT canon FROM"
	    " articles GROUP BY canon HAVING sum(is_primary) <> 1) x"), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles a WHERE"
	    " a.is_primary = 1 AND EXISTS (SELECT 1 FROM articles o"
	    " WHERE o.canon = a.canon AND (o.first_seen, o.id)"
	    " < (a.first_seen, a.id))"), 0);
	tr_config_free(cfg);
	tr_store_close(st);
	rm_db(path);
}

/*
 * The primary row of each link, as a table of the ways a stored row meets
 * the rows already there: the first seen (then the lowest id) among the
 * feeds in the config wins, else among all rows. A new row is written
 * with the mark it most likely keeps (on both backends: primary only
 * when its link has none yet) and the commit's primary step corrects the
 * rest, so the cases where that guess is wrong are here: a link whose
 * primary row is in a feed out of the config, two new rows of one link
 * in one document, and a link a later document takes away from the
 * primary row.
 */
static void
test_primary_cases(void)
{
	static const char conf3[] = "[tributary]\n"
				    "[feed \"alpha\"]\nurl = http://127.0.0.1:1/a\n"
				    "[feed \"beta\"]\nurl = http://127.0.0.1:1/b\n"
				    "[feed \"gamma\"]\nurl = http://127.0.0.1:1/c\n";
	static const struct {
		const char *name;
		/* Documents stored in order, one second apart: "feed:id=link
		 * id=link ...", a link "-" for none; "sync:2" syncs the
		 * config without gamma first. */
		const char *steps[4];
		/* Per identity, 1 if primary, 0 if not. */
		const char *want;
	} cases[] = {
	    {"a new link", {"alpha:n1=new"}, "n1=1"},
	    {"no link", {"alpha:n2=-", "beta:n3=-"}, "n2=1 n3=1"},
	    {"a link an older row of a feed in the config has",
	     {"alpha:s1=shared", "beta:s2=shared"}, "s1=1 s2=0"},
	    {"the older row is seen again",
	     {"alpha:r1=again", "beta:r2=again", "alpha:r1=again"},
	     "r1=1 r2=0"},
	    {"two new rows of one link in one document",
	     {"beta:d1=dup d2=dup"}, "d1=1 d2=0"},
	    {"two new rows of a link another feed has",
	     {"alpha:e0=dup2", "beta:e1=dup2 e2=dup2"}, "e0=1 e1=0 e2=0"},
	    {"the primary row's feed left the config",
	     {"gamma:g1=gone", "sync:2", "alpha:g2=gone"}, "g1=0 g2=1"},
	    {"a new row of a link whose primary moved to a feed in the "
	     "config",
	     {"gamma:p1=moves", "alpha:p2=moves", "sync:2", "beta:p3=moves"},
	     "p1=0 p2=1 p3=0"},
	    {"an older row's link changes to one a feed in the config has",
	     {"alpha:q1=first", "beta:q2=second", "alpha:q1=second"},
	     "q1=1 q2=0"},
	    {"the primary row's link changes",
	     {"alpha:m1=moved", "beta:m2=moved", "alpha:m1=elsewhere"},
	     "m1=1 m2=1"},
	};
	struct tr_config *c3 = cfg_from(conf3), *c2 = cfg_from(conf);
	char *path = tmp_db();
	struct tr_store *st = NULL;
	size_t i, j;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t now = NOW + 100 * (int64_t)i;

		CHECK_INT(tr_store_sync_config(st, c3), 0);
		for (j = 0; j < 4 && cases[i].steps[j]; j++) {
			struct tr_article a[4];
			struct tr_store_result r;
			char feed[16], buf[128], link[96], *tok, *save = NULL;
			size_t n = 0;

			if (strcmp(cases[i].steps[j], "sync:2") == 0) {
				CHECK_INT(tr_store_sync_config(st, c2), 0);
				continue;
			}
			tr_store_set_now(st, now + (int64_t)j);
			snprintf(buf, sizeof(buf), "%s", cases[i].steps[j]);
			snprintf(feed, sizeof(feed), "%.*s",
			    (int)strcspn(buf, ":"), buf);
			for (tok = strtok_r(buf + strlen(feed) + 1, " ", &save);
			     tok && n < 4; tok = strtok_r(NULL, " ", &save)) {
				char *eq = strchr(tok, '=');

				*eq = '\0';
				snprintf(link, sizeof(link),
				    "http://127.0.0.1/%s", eq + 1);
				mkart(&a[n++], tok, strcmp(eq + 1, "-") ? link
				    : NULL, "t", 900);
			}
			CHECK_INT_CASE(cases[i].name,
			    store_doc(st, feed, a, n, &r), 0);
			free_arts(a, n);
		}
		{
			char buf[128], *tok, *save = NULL;

			snprintf(buf, sizeof(buf), "%s", cases[i].want);
			for (tok = strtok_r(buf, " ", &save); tok;
			     tok = strtok_r(NULL, " ", &save)) {
				char *eq = strchr(tok, '=');

				*eq = '\0';
				CHECK_INT_CASE(cases[i].name,
				    col_of(path, "is_primary", tok),
				    atoi(eq + 1));
			}
		}
	}
	/* Whatever the order of the cases: one primary row per link. */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM (SELECT canon FROM"
	    " articles WHERE canon IS NOT NULL GROUP BY canon"
	    " HAVING sum(is_primary) <> 1) x"), 0);
	tr_store_close(st);
	tr_config_free(c3);
	tr_config_free(c2);
	rm_db(path);
}

TR_TESTS(test_sort_dates, test_undated_order, test_text_byte_for_byte,
    test_large_last_wins_and_discard, test_repeated_identities,
    test_batches_in_flight,
    test_pg_staging_lost,
    test_readonly_refuses, test_pg_nodes_one_primary, test_primary_cases)
