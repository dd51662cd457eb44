/*
 * store_bench.c — the article store under load (issue 4's benchmark).
 *
 *	store_bench [FEEDS [PER_FEED [RUNS [DIR | ADDRESS [reuse]]]]]
 *
 * defaults 10000 feeds x 100 articles (1,000,000), 21 query runs, /tmp.
 * With a PostgreSQL address (postgresql://... or postgres://..., an empty
 * database) in place of DIR, parts 1 to 4 run on PostgreSQL: the change
 * check of 2 then compares the store's generation instead of SQLite's
 * data_version, and parts 1b and 1c (fresh files of their own) and the
 * database size are SQLite only. With "reuse" after an ADDRESS, the
 * database already holds the articles of an earlier run with the same
 * FEEDS and PER_FEED (checked): part 1 is skipped and the rest is timed
 * on them (generating 1,000,000 articles on PostgreSQL takes 15 minutes
 * or more).
 * Built by `make build/bench/store_bench` (BUILD=... for another folder),
 * or by hand:
 *
 *	cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Iinclude \
 *	    -o store_bench bench/store_bench.c build/libtributary.a \
 *	    $(pkg-config --libs libcurl expat sqlite3 libmicrohttpd zlib inih) -lm
 *
 * Measures, on a fresh database file:
 *   1. inserting FEEDS x PER_FEED articles, one transaction (batch) per
 *      feed: articles per second;
 *   2. storing one feed's unchanged document again: rows written (must be
 *      0) and whether another connection saw a change (PRAGMA
 *      data_version);
 *   3. the merged query for 100 articles: median latency over RUNS runs,
 *      also with a tag, on the second page (cursor) and with a
 *      full-text query;
 *   4. the inserts of 1 again as a polling round makes them (groups of 16
 *      documents per transaction, full-text index in bulk at the end),
 *      into a second fresh file: insert_round_*.
 * Prints one "key value" line per result. The database is removed at the
 * end.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "tributary/article.h"
#include "tributary/config.h"
#include "tributary/error.h"
#include "tributary/store.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process: robust when other work shares the CPU. */
static double
cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
die(const char *what, struct tr_store *st, int rc)
{
	fprintf(stderr, "store_bench: %s: %s (%s)\n", what,
	    st ? tr_store_errmsg(st) : "", tr_strerror(rc));
	exit(1);
}

/* Writes a feeds.conf with n feeds (tags t0..t9 round robin). */
static struct tr_config *
make_config(const char *dir, long n)
{
	char path[4096];
	struct tr_config *cfg = NULL;
	char *errors = NULL;
	FILE *fp;
	long i;

	snprintf(path, sizeof(path), "%s/store_bench.conf", dir);
	if ((fp = fopen(path, "w")) == NULL) {
		perror(path);
		exit(1);
	}
	fprintf(fp, "[tributary]\ndatabase = store_bench.db\n");
	for (i = 0; i < n; i++)
		fprintf(fp, "[feed \"feed%ld\"]\nurl = http://127.0.0.1/%ld.xml\n"
			    "tags = t%ld\n",
		    i, i, i % 10);
	fclose(fp);
	if (tr_config_load(&cfg, &errors, path) != 0) {
		fprintf(stderr, "store_bench: config: %s\n",
		    errors ? errors : "?");
		exit(1);
	}
	unlink(path);
	free(errors);
	return cfg;
}

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));

static char *
fmt(const char *f, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	return strdup(buf);
}

static const char *const words[] = {"river", "delta", "harbour", "council",
    "market", "season", "engine", "orbit", "garden", "signal", "archive",
    "bridge", "summit", "ledger", "frontier", "canvas"};

/* Article j of feed i, as a parser would hand it over. */
static void
make_article(struct tr_article *a, long i, long j, int64_t base)
{
	char text[600];
	size_t k, len = 0;

	tr_article_init(a);
	a->id = fmt("tag:127.0.0.1,2024:feed%ld/%ld", i, j);
	a->guid = strdup(a->id);
	/* One in ten links is shared with the previous feed (cross-feed). */
	a->link = j % 10 == 0 && i > 0
		      ? fmt("http://127.0.0.1/shared/%ld/%ld", i - 1, j)
		      : fmt("http://127.0.0.1/%ld/%ld", i, j);
	a->title = fmt("Article %ld of feed %ld", j, i);
	for (k = 0; k < 60 && len + 12 < sizeof(text); k++)
		len += (size_t)snprintf(text + len, sizeof(text) - len, "%s ",
		    words[(size_t)(i * 7 + j * 3 + (long)k) % 16]);
	a->summary = strdup(text);
	a->content = fmt("<p>%ld %ld</p>", i, j);
	a->published = base + i * 37 + j * 3600;
	a->n_categories = 1;
	a->categories = calloc(1, sizeof(char *));
	a->categories[0] = strdup(words[(size_t)j % 16]);
}

static int
count_cb(const struct tr_item *it, void *arg)
{
	(void)it;
	++*(long *)arg;
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Runs q runs times and prints "NAME_median_ms" (wall clock) and
 * "NAME_cpu_median_ms" (process CPU time); *n_items gets the last count.
 */
static void
time_query(const char *name, struct tr_store *st, const struct tr_query *q,
    int runs, long *n_items)
{
	double *t = calloc((size_t)runs, sizeof(double));
	double *c = calloc((size_t)runs, sizeof(double));
	int r, rc;

	for (r = 0; r < runs; r++) {
		double t0 = now_s(), c0 = cpu_s();

		*n_items = 0;
		if ((rc = tr_store_query(st, q, count_cb, n_items, NULL)) != 0)
			die("query", st, rc);
		t[r] = (now_s() - t0) * 1e3;
		c[r] = (cpu_s() - c0) * 1e3;
	}
	qsort(t, (size_t)runs, sizeof(double), cmp_double);
	qsort(c, (size_t)runs, sizeof(double), cmp_double);
	printf("%s_median_ms %.3f\n", name, t[runs / 2]);
	printf("%s_cpu_median_ms %.3f\n", name, c[runs / 2]);
	free(t);
	free(c);
}

static int64_t
data_version(sqlite3 *db)
{
	sqlite3_stmt *s = NULL;
	int64_t v = -1;

	sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &s, NULL);
	if (sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return v;
}

/* Removes the database at path, its -wal and -shm files and the marker
 * the store keeps beside it (which would make the next open at path
 * refuse to create a fresh database). */
static void
remove_db(const char *path)
{
	char side[4200];

	unlink(path);
	snprintf(side, sizeof(side), "%s-tributary", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
}

/* Stores doc[0, per) as the document of feed; *res gets the result. */
static void
store_doc(struct tr_store *st, const char *feed, struct tr_article *doc,
    long per, struct tr_store_result *res)
{
	struct tr_store_batch *b = NULL;
	long j;
	int rc;

	if ((rc = tr_store_batch_begin(&b, st, feed)) != 0)
		die("batch", st, rc);
	for (j = 0; j < per; j++)
		if ((rc = tr_store_batch_add(b, &doc[j])) != 0)
			die("add", st, rc);
	if ((rc = tr_store_batch_commit(b, NULL, res)) != 0)
		die("commit", st, rc);
	tr_store_batch_free(b);
}

/*
 * Stores one document of per new articles for each of the feeds; with
 * group > 0, a group commit after every group documents. Adds the wall
 * and CPU time of the store calls to *secs and *cpu; returns the number
 * of articles added.
 */
static long
insert_feeds(struct tr_store *st, long feeds, long per, struct tr_article *doc,
    int64_t base, long group, double *secs, double *cpu)
{
	struct tr_store_result res;
	char feed[64];
	double t0, c0;
	long i, j, n = 0;
	int rc;

	for (i = 0; i < feeds; i++) {
		for (j = 0; j < per; j++)
			make_article(&doc[j], i, j, base);
		snprintf(feed, sizeof(feed), "feed%ld", i);
		t0 = now_s();
		c0 = cpu_s();
		store_doc(st, feed, doc, per, &res);
		if (group > 0 && i % group == group - 1 &&
		    (rc = tr_store_group_commit(st)) != 0)
			die("group commit", st, rc);
		*secs += now_s() - t0;
		*cpu += cpu_s() - c0;
		n += res.added;
		for (j = 0; j < per; j++)
			tr_article_free(&doc[j]);
	}
	return n;
}

/*
 * 1b. The same inserts the way a polling round stores them: writes
 * grouped into one transaction per 16 documents (tr_store_group_begin)
 * and the full-text index written in bulk at the end
 * (tr_store_defer_index, tr_store_index), into a second fresh file.
 */
static void
insert_round(const char *dir, const struct tr_config *cfg, long feeds,
    long per, struct tr_article *doc, int64_t base)
{
	struct tr_store *st = NULL;
	char path[4096];
	double secs = 0, cpu = 0, t0, c0;
	long n;
	int rc;

	snprintf(path, sizeof(path), "%s/store_bench-round-%ld.db", dir,
	    (long)getpid());
	if ((rc = tr_store_open(&st, path, 0)) != 0)
		die("open", st, rc);
	if ((rc = tr_store_sync_config(st, cfg)) != 0)
		die("sync", st, rc);
	tr_store_set_now(st, base + 400 * 86400);
	tr_store_defer_index(st, 1);
	tr_store_group_begin(st);
	n = insert_feeds(st, feeds, per, doc, base, 16, &secs, &cpu);
	t0 = now_s();
	c0 = cpu_s();
	if ((rc = tr_store_group_end(st)) != 0)
		die("group commit", st, rc);
	tr_store_defer_index(st, 0);
	if ((rc = tr_store_index(st)) != 0)
		die("index", st, rc);
	secs += now_s() - t0;
	cpu += cpu_s() - c0;
	printf("insert_round_seconds %.2f\n", secs);
	printf("insert_round_index_seconds %.2f\n", now_s() - t0);
	printf("insert_round_articles_per_sec %.0f\n", (double)n / secs);
	printf("insert_round_cpu_seconds %.2f\n", cpu);
	printf("insert_round_articles_per_cpu_sec %.0f\n", (double)n / cpu);
	tr_store_close(st);
	remove_db(path);
}

/*
 * 1c. Cross-feed duplicates: up to 1,000 feeds whose 5 items all carry
 * the same 5 links, stored as a round stores them (groups of 16), against
 * the same feeds with links of their own, each into a fresh file. Every
 * shared link's primary row is recomputed at each commit; that must cost
 * about what a link of its own does (it cost N^3 for N feeds once).
 */
static void
shared_links(const char *dir, const struct tr_config *cfg, long feeds,
    int64_t base)
{
	struct tr_article doc[5];
	double cpu[2];
	long n = feeds < 1000 ? feeds : 1000, i, j;
	int shared, rc;

	for (shared = 0; shared < 2; shared++) {
		struct tr_store *st = NULL;
		struct tr_store_result res;
		char path[4096], feed[64];
		double c0;

		snprintf(path, sizeof(path), "%s/store_bench-shared-%ld.db",
		    dir, (long)getpid());
		if ((rc = tr_store_open(&st, path, 0)) != 0)
			die("open", st, rc);
		if ((rc = tr_store_sync_config(st, cfg)) != 0)
			die("sync", st, rc);
		tr_store_set_now(st, base + 400 * 86400);
		tr_store_group_begin(st);
		c0 = cpu_s();
		for (i = 0; i < n; i++) {
			for (j = 0; j < 5; j++) {
				make_article(&doc[j], i, j, base);
				free(doc[j].link);
				doc[j].link = shared
				    ? fmt("http://127.0.0.1/same/%ld", j)
				    : fmt("http://127.0.0.1/own/%ld/%ld", i, j);
			}
			snprintf(feed, sizeof(feed), "feed%ld", i);
			store_doc(st, feed, doc, 5, &res);
			if (i % 16 == 15 &&
			    (rc = tr_store_group_commit(st)) != 0)
				die("group commit", st, rc);
			for (j = 0; j < 5; j++)
				tr_article_free(&doc[j]);
		}
		if ((rc = tr_store_group_end(st)) != 0)
			die("group commit", st, rc);
		cpu[shared] = cpu_s() - c0;
		tr_store_close(st);
		remove_db(path);
	}
	printf("shared_links_feeds %ld\n", n);
	printf("shared_links_cpu_seconds %.3f\n", cpu[1]);
	printf("own_links_cpu_seconds %.3f\n", cpu[0]);
	printf("shared_links_ratio %.2f\n", cpu[1] / cpu[0]);
}

int
main(int argc, char **argv)
{
	long feeds = argc > 1 ? atol(argv[1]) : 10000;
	long per = argc > 2 ? atol(argv[2]) : 100;
	int runs = argc > 3 ? atoi(argv[3]) : 21;
	const char *dir = argc > 4 ? argv[4] : "/tmp";
	int reuse = argc > 5 && strcmp(argv[5], "reuse") == 0;
	struct tr_config *cfg;
	struct tr_store *st = NULL;
	struct tr_store_result res;
	struct tr_article *doc;
	struct tr_query q;
	char path[4096], feed[64], *cursor = NULL;
	int64_t base = 1600000000, dv0, dv1;
	double t0, secs, cpu;
	long j, n;
	sqlite3 *other = NULL;
	struct stat sb;
	int rc;

	int pg = strncmp(dir, "postgresql://", 13) == 0 ||
	         strncmp(dir, "postgres://", 11) == 0;

	if (feeds < 1 || per < 1 || runs < 1 || (argc > 5 && !reuse) ||
	    (reuse && !pg)) {
		fprintf(stderr, "usage: store_bench [FEEDS [PER_FEED [RUNS "
				"[DIR | ADDRESS [reuse]]]]]\n");
		return 2;
	}
	if (pg)
		snprintf(path, sizeof(path), "%s", dir);
	else
		snprintf(path, sizeof(path), "%s/store_bench-%ld.db", dir,
		    (long)getpid());
	cfg = make_config(pg ? "/tmp" : dir, feeds);
	printf("backend %s\n", pg ? "postgresql" : "sqlite");
	if ((rc = tr_store_open(&st, path, 0)) != 0)
		die("open", st, rc);
	if ((rc = tr_store_sync_config(st, cfg)) != 0)
		die("sync", st, rc);
	doc = calloc((size_t)per, sizeof(*doc));

	/* 1. Insert: one document (one transaction) per feed. */
	tr_store_set_now(st, base + 400 * 86400);
	if (reuse) {
		struct tr_store_stats ss;

		if ((rc = tr_store_stats(st, &ss)) != 0)
			die("stats", st, rc);
		if (ss.articles != feeds * per) {
			fprintf(stderr, "store_bench: %s holds %lld articles, "
			    "not %ld: load it without \"reuse\"\n", path,
			    (long long)ss.articles, feeds * per);
			return 1;
		}
		printf("feeds %ld\n", feeds);
		printf("articles_reused %lld\n", (long long)ss.articles);
	} else {
		secs = cpu = 0;
		n = insert_feeds(st, feeds, per, doc, base, 0, &secs, &cpu);
		printf("feeds %ld\n", feeds);
		printf("articles %ld\n", n);
		printf("insert_seconds %.2f\n", secs);
		printf("insert_articles_per_sec %.0f\n", (double)n / secs);
		printf("insert_cpu_seconds %.2f\n", cpu);
		printf("insert_articles_per_cpu_sec %.0f\n", (double)n / cpu);
	}

	/* 2. The last feed's document again, unchanged. */
	if (pg) {
		if ((rc = tr_store_generation(st, &dv0, NULL)) != 0)
			die("generation", st, rc);
	} else {
		sqlite3_open_v2(path, &other, SQLITE_OPEN_READONLY, NULL);
		dv0 = data_version(other);
	}
	for (j = 0; j < per; j++)
		make_article(&doc[j], feeds - 1, j, base);
	snprintf(feed, sizeof(feed), "feed%ld", feeds - 1);
	t0 = now_s();
	store_doc(st, feed, doc, per, &res);
	secs = now_s() - t0;
	if (pg) {
		if ((rc = tr_store_generation(st, &dv1, NULL)) != 0)
			die("generation", st, rc);
	} else {
		dv1 = data_version(other);
		sqlite3_close(other);
	}
	for (j = 0; j < per; j++)
		tr_article_free(&doc[j]);
	printf("restore_unchanged_items %ld\n", (long)res.unchanged);
	printf("restore_unchanged_changes %ld\n", (long)res.changes);
	printf("restore_unchanged_data_version_changed %d\n", dv0 != dv1);
	printf("restore_unchanged_ms %.2f\n", secs * 1e3);

	/* 3. The merged query, 100 articles. */
	memset(&q, 0, sizeof(q));
	q.since = TR_DATE_NONE;
	q.limit = 100;
	printf("query_limit 100\n");
	time_query("query", st, &q, runs, &n);
	printf("query_items %ld\n", n);
	if ((rc = tr_store_query(st, &q, count_cb, &n, &cursor)) != 0)
		die("query", st, rc);
	q.before = cursor;
	time_query("query_page2", st, &q, runs, &n);
	q.before = NULL;
	q.tag = "t3";
	time_query("query_tag", st, &q, runs, &n);
	printf("query_tag_items %ld\n", n);
	q.tag = NULL;
	q.feed = "feed7";
	time_query("query_feed", st, &q, runs, &n);
	q.feed = NULL;
	/*
	 * Selective: a feed's number is a word only in that feed's titles
	 * and contents (past 100, where it is no article number too).
	 */
	snprintf(feed, sizeof(feed), "%ld", feeds / 2 + 100);
	q.q = feed;
	time_query("query_fts", st, &q, runs, &n);
	printf("query_fts_items %ld\n", n);
	/* Unselective: words in most summaries (every match is sorted). */
	q.q = "harbour orbit"; /* both words: a search as people type it */
	time_query("query_fts_common", st, &q, runs < 5 ? runs : 5, &n);
	free(cursor);
	cursor = NULL;

	/* 4. The same through a read-only handle with the config at hand
	 * (tr_store_use_config: serve's endpoint, export). */
	{
		struct tr_store *ro = NULL;

		if ((rc = tr_store_open(&ro, path, TR_STORE_READONLY)) != 0 ||
		    (rc = tr_store_use_config(ro, cfg)) != 0)
			die("use_config", ro, rc);
		memset(&q, 0, sizeof(q));
		q.since = TR_DATE_NONE;
		q.limit = 100;
		time_query("conf_query", ro, &q, runs, &n);
		printf("conf_query_items %ld\n", n);
		q.tag = "t3";
		time_query("conf_query_tag", ro, &q, runs, &n);
		q.tag = NULL;
		q.feed = "feed7";
		time_query("conf_query_feed", ro, &q, runs, &n);
		q.feed = NULL;
		q.q = feed;
		time_query("conf_query_fts", ro, &q, runs, &n);
		tr_store_close(ro);
	}

	if (!pg && stat(path, &sb) == 0)
		printf("db_bytes %lld\n", (long long)sb.st_size);
	tr_store_close(st);
	if (!pg) {
		remove_db(path);
		insert_round(dir, cfg, feeds, per, doc, base);
		shared_links(dir, cfg, feeds, base);
	}
	tr_config_free(cfg);
	free(doc);
	return 0;
}
