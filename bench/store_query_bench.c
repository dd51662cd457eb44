/*
 * store_query_bench.c — the merged query on both store backends, same
 * documents, same run.
 *
 *	store_query_bench ADDRESS [FEEDS [PER_FEED]]
 *
 * ADDRESS is an empty PostgreSQL database (postgresql://...); defaults
 * 100 feeds x 1000 articles. Built by
 * `make $(BUILD)/bench/store_query_bench`.
 *
 * Stores FEEDS x PER_FEED articles (one batch per feed; one link in ten
 * shared by several feeds) into a fresh SQLite file in /tmp and into the
 * database, ANALYZEs the database, then times the merged query for 100
 * articles (median of 21 runs) on each: newest first, the second page
 * (cursor), a tag of a tenth and of nine tenths of the feeds, one feed,
 * a search that finds one article and one that finds them all. Prints
 * one line per query: name, SQLite ms, PostgreSQL ms. Wall-clock times:
 * on a busy machine compare the two columns of one run, not runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "tributary/article.h"
#include "tributary/config.h"
#include "tributary/error.h"
#include "tributary/store.h"

#define RUNS 21

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
count(const struct tr_item *it, void *arg)
{
	(void)it;
	++*(int *)arg;
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void
die(struct tr_store *st, const char *what)
{
	fprintf(stderr, "store_query_bench: %s: %s\n", what,
	    st ? tr_store_errmsg(st) : "?");
	exit(1);
}

static void
load(struct tr_store *st, int feeds, int per)
{
	int f, i;

	tr_store_set_now(st, 2000000000);
	for (f = 0; f < feeds; f++) {
		struct tr_store_batch *b = NULL;
		char name[32];

		snprintf(name, sizeof(name), "f%d", f);
		if (tr_store_batch_begin(&b, st, name) != 0)
			die(st, "storing");
		for (i = 0; i < per; i++) {
			struct tr_article a;
			char id[64], link[64], title[128];

			tr_article_init(&a);
			snprintf(id, sizeof(id), "%d-%d", f, i);
			snprintf(link, sizeof(link), "http://127.0.0.1/%d",
			    i % 10 == 0 ? i : f * per + i);
			snprintf(title, sizeof(title),
			    "title %d common words uniq%d", i, f * per + i);
			a.id = strdup(id);
			a.link = strdup(link);
			a.title = strdup(title);
			a.summary = strdup("some summary text of the article");
			a.published = 1000000 + (int64_t)i * 977 + f;
			if (tr_store_batch_add(b, &a) != 0)
				die(st, "storing");
			tr_article_free(&a);
		}
		if (tr_store_batch_commit(b, NULL, NULL) != 0)
			die(st, "storing");
		tr_store_batch_free(b);
	}
	if (tr_store_index(st) != 0)
		die(st, "indexing");
}

/* The median ms of the query (its second page when second). */
static double
median(struct tr_store *st, const struct tr_query *q0, int second)
{
	double t[RUNS];
	int r;

	for (r = 0; r < RUNS; r++) {
		struct tr_query q = *q0;
		char *next = NULL;
		double t0;
		int n = 0;

		if (second) {
			if (tr_store_query(st, &q, count, &n, &next) != 0)
				die(st, "querying");
			q.before = next;
		}
		t0 = now_s();
		if (tr_store_query(st, &q, count, &n, NULL) != 0)
			die(st, "querying");
		t[r] = (now_s() - t0) * 1000;
		free(next);
	}
	qsort(t, RUNS, sizeof(t[0]), cmp_double);
	return t[RUNS / 2];
}

int
main(int argc, char **argv)
{
	static const struct {
		const char *name, *q, *tag, *feed;
		int second;
	} queries[] = {
	    {"merged", NULL, NULL, NULL, 0},
	    {"second_page", NULL, NULL, NULL, 1},
	    {"tag_tenth", NULL, "rare", NULL, 0},
	    {"tag_most", NULL, "most", NULL, 0},
	    {"one_feed", NULL, NULL, "f7", 0},
	    {"search_one", "uniq4242", NULL, NULL, 0},
	    {"search_all", "common words", NULL, NULL, 0},
	};
	struct tr_store *st[2] = {NULL, NULL};
	struct tr_config *cfg = NULL;
	char conf[64], db[64], *errors = NULL;
	int feeds = argc > 2 ? atoi(argv[2]) : 100;
	int per = argc > 3 ? atoi(argv[3]) : 1000;
	size_t k;
	FILE *fp;
	int f, i;

	if (argc < 2 || feeds < 1 || per < 1) {
		fprintf(stderr, "usage: store_query_bench ADDRESS [FEEDS "
				"[PER_FEED]]\n");
		return 2;
	}
	snprintf(conf, sizeof(conf), "/tmp/store_query_bench.%ld.conf",
	    (long)getpid());
	snprintf(db, sizeof(db), "/tmp/store_query_bench.%ld.db",
	    (long)getpid());
	if ((fp = fopen(conf, "w")) == NULL)
		return 1;
	fputs("[tributary]\ndatabase = x.db\n", fp);
	for (f = 0; f < feeds; f++)
		fprintf(fp, "[feed \"f%d\"]\nurl = http://127.0.0.1:1/%d\n"
			    "tags = %s\n", f, f, f % 10 == 0 ? "rare" : "most");
	fclose(fp);
	if (tr_config_load(&cfg, &errors, conf) != 0) {
		fprintf(stderr, "%s", errors ? errors : "config\n");
		return 1;
	}
	unlink(conf);
	if (tr_store_open(&st[0], db, 0) != 0)
		die(st[0], db);
	if (tr_store_open(&st[1], argv[1], 0) != 0)
		die(st[1], "opening the database");
	for (i = 0; i < 2; i++) {
		double t0 = now_s();

		if (tr_store_sync_config(st[i], cfg) != 0)
			die(st[i], "syncing");
		load(st[i], feeds, per);
		printf("load_s %s %.1f\n", i ? "postgresql" : "sqlite",
		    now_s() - t0);
	}
	/*
	 * The planner's statistics, as autovacuum gathers them within a
	 * minute or so of a bulk load: without them the first queries after
	 * the load sort every row (160 ms instead of a few).
	 */
	{
		PGconn *c = PQconnectdb(argv[1]);

		PQclear(PQexec(c, "ANALYZE"));
		PQfinish(c);
	}
	printf("query sqlite_ms postgresql_ms\n");
	for (k = 0; k < sizeof(queries) / sizeof(queries[0]); k++) {
		struct tr_query q;
		double a, b;

		memset(&q, 0, sizeof(q));
		q.since = TR_DATE_NONE;
		q.limit = 100;
		q.q = queries[k].q;
		q.tag = queries[k].tag;
		q.feed = queries[k].feed;
		a = median(st[0], &q, queries[k].second);
		b = median(st[1], &q, queries[k].second);
		printf("%s %.3f %.3f\n", queries[k].name, a, b);
	}
	tr_store_close(st[0]);
	tr_store_close(st[1]);
	tr_config_free(cfg);
	for (i = 0; i < 4; i++) {
		static const char *const ext[] = {"", "-wal", "-shm",
		    "-tributary"};
		char p[96];

		snprintf(p, sizeof(p), "%s%s", db, ext[i]);
		unlink(p);
	}
	return 0;
}
