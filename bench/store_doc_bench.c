/*
 * store_doc_bench.c — storing one large document, SQLite against
 * PostgreSQL in the same run, and the ways of sending a document's rows
 * to PostgreSQL that the backend chose between.
 *
 *   store_doc_bench SQLITE_FILE POSTGRES_ADDRESS [ITEMS [BYTES [RUNS]]]
 *
 * Both stores must be new (a file that does not exist, an empty
 * database). Each run stores ITEMS items of BYTES bytes of content as
 * one document three times: all new, all unchanged, all changed; the
 * medians are printed with the peak RSS. Then ITEMS rows of the same
 * size go into a temporary table of the PostgreSQL database by COPY in
 * 1 MiB pieces (what the backend does), by INSERT ... SELECT FROM
 * unnest() of one array per column, 250 rows a statement, and by one
 * prepared INSERT per row.
 *
 * Build: cc -O2 -Iinclude $(pkg-config --cflags libpq) -o store_doc_bench
 *   bench/store_doc_bench.c build/libtributary.a $(pkg-config --libs
 *   libcurl expat sqlite3 libmicrohttpd zlib inih gumbo libcrypto libpq)
 *   -lm -lpthread
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "tributary/article.h"
#include "tributary/config.h"
#include "tributary/store.h"

#define MAX_RUNS 21

static double
now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	return v[n / 2];
}

/* One document of n items; version changes every item's title. */
static int
store_doc(struct tr_store *st, int n, int size, int version,
    struct tr_store_result *r)
{
	struct tr_store_batch *b = NULL;
	char *content = malloc((size_t)size + 1);
	int i, rc;

	memset(content, 'y', (size_t)size);
	content[size] = '\0';
	if ((rc = tr_store_batch_begin(&b, st, "big")) != 0)
		goto out;
	for (i = 0; i < n && rc == 0; i++) {
		struct tr_article a;
		char id[32], link[64], title[64];

		tr_article_init(&a);
		snprintf(id, sizeof(id), "item-%d", i);
		snprintf(link, sizeof(link), "http://big.example/%d", i);
		snprintf(title, sizeof(title), "title %d v%d", i, version);
		a.id = id;
		a.guid = id;
		a.link = link;
		a.title = title;
		a.content = content;
		a.published = 1000000 + i;
		rc = tr_store_batch_add(b, &a);
	}
	if (rc == 0)
		rc = tr_store_batch_commit(b, NULL, r);
out:
	if (rc)
		printf("error: %s\n", tr_store_errmsg(st));
	tr_store_batch_free(b);
	free(content);
	return rc;
}

/*
 * Stores the three documents runs times (feed "big" purged between
 * runs) and prints the medians. Runs in a child process so that its
 * peak RSS is the store's alone.
 */
static int
bench_store(const char *address, const char *conf, int n, int size,
    int runs)
{
	static const char *const what[3] = {"new", "unchanged", "changed"};
	double t[3][MAX_RUNS];
	struct tr_store *st = NULL;
	struct tr_config *cfg = NULL;
	struct rusage ru;
	char *errors = NULL;
	int k, run;
	int64_t deleted;

	if (tr_store_open(&st, address, 0) != 0 ||
	    tr_config_load(&cfg, &errors, conf) != 0 ||
	    tr_store_sync_config(st, cfg) != 0) {
		printf("error: %s %s\n", tr_store_errmsg(st),
		    errors ? errors : "");
		return 1;
	}
	for (run = 0; run < runs; run++) {
		for (k = 0; k < 3; k++) {
			struct tr_store_result r;
			double t0 = now_s();

			if (store_doc(st, n, size, k == 2 ? run + 1 : run,
			    &r) != 0)
				return 1;
			t[k][run] = now_s() - t0;
		}
		if (tr_store_purge(st, "big", &deleted) != 0 ||
		    tr_store_sync_config(st, cfg) != 0) {
			printf("error: %s\n", tr_store_errmsg(st));
			return 1;
		}
	}
	getrusage(RUSAGE_SELF, &ru);
	for (k = 0; k < 3; k++)
		printf("%-10s %-9s %d x %d B: median %.4f s\n",
		    tr_store_is_server(address) ? "postgresql" : "sqlite",
		    what[k], n, size, median(t[k], runs));
	printf("%-10s peak RSS %ld KiB\n",
	    tr_store_is_server(address) ? "postgresql" : "sqlite",
	    ru.ru_maxrss);
	tr_store_close(st);
	tr_config_free(cfg);
	return 0;
}

static int
exec_ok(PGconn *c, const char *sql)
{
	PGresult *r = PQexec(c, sql);
	int ok = PQresultStatus(r) == PGRES_COMMAND_OK ||
	    PQresultStatus(r) == PGRES_TUPLES_OK;

	if (!ok)
		printf("error: %s", PQerrorMessage(c));
	PQclear(r);
	return ok;
}

#define STAGE_TABLE                                                           \
	"DROP TABLE IF EXISTS s; CREATE TEMP TABLE s (batch bigint,"          \
	" seq bigint, identity text, link text, title text, content text,"    \
	" published bigint, hash bigint, PRIMARY KEY (batch, seq))"

static double
stage_copy(PGconn *c, int n, const char *content)
{
	size_t cap = ((size_t)1 << 20) + strlen(content) + 256, len = 0;
	char *buf = malloc(cap);
	double t0 = now_s();
	PGresult *r;
	int i;

	for (i = 0; i < n; i++) {
		len += (size_t)snprintf(buf + len, cap - len,
		    "1\t%d\tid-%d\thttp://e/%d\ttitle %d\t%s\t%d\t%d\n", i, i,
		    i, i, content, 1000 + i, i * 7);
		if (len < ((size_t)1 << 20) && i < n - 1)
			continue;
		PQclear(PQexec(c, "COPY s FROM STDIN"));
		PQputCopyData(c, buf, (int)len);
		PQputCopyEnd(c, NULL);
		while ((r = PQgetResult(c)) != NULL) {
			if (PQresultStatus(r) != PGRES_COMMAND_OK)
				printf("error: %s", PQerrorMessage(c));
			PQclear(r);
		}
		len = 0;
	}
	free(buf);
	return now_s() - t0;
}

static double
stage_unnest(PGconn *c, int n, const char *content)
{
	enum { PER = 250, COLS = 8 };
	size_t cap = PER * (strlen(content) + 64) + 64, al[COLS];
	char *arr[COLS];
	double t0 = now_s();
	int i, j, col;

	for (col = 0; col < COLS; col++)
		arr[col] = malloc(cap);
	for (i = 0; i < n; i += PER) {
		for (col = 0; col < COLS; col++) {
			al[col] = 0;
			arr[col][al[col]++] = '{';
		}
		for (j = i; j < i + PER && j < n; j++) {
			const char *sep = j > i ? "," : "";

			al[0] += (size_t)sprintf(arr[0] + al[0], "%s1", sep);
			al[1] += (size_t)sprintf(arr[1] + al[1], "%s%d", sep, j);
			al[2] += (size_t)sprintf(arr[2] + al[2], "%s\"id-%d\"",
			    sep, j);
			al[3] += (size_t)sprintf(arr[3] + al[3],
			    "%s\"http://e/%d\"", sep, j);
			al[4] += (size_t)sprintf(arr[4] + al[4],
			    "%s\"title %d\"", sep, j);
			al[5] += (size_t)sprintf(arr[5] + al[5], "%s\"%s\"", sep,
			    content);
			al[6] += (size_t)sprintf(arr[6] + al[6], "%s%d", sep,
			    1000 + j);
			al[7] += (size_t)sprintf(arr[7] + al[7], "%s%d", sep,
			    j * 7);
		}
		for (col = 0; col < COLS; col++) {
			arr[col][al[col]++] = '}';
			arr[col][al[col]] = '\0';
		}
		PGresult *r = PQexecParams(c, "INSERT INTO s SELECT * FROM"
		    " unnest($1::bigint[], $2::bigint[], $3::text[],"
		    " $4::text[], $5::text[], $6::text[], $7::bigint[],"
		    " $8::bigint[])", COLS, NULL, (const char *const *)arr,
		    NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			printf("error: %s", PQerrorMessage(c));
		PQclear(r);
	}
	for (col = 0; col < COLS; col++)
		free(arr[col]);
	return now_s() - t0;
}

static double
stage_rows(PGconn *c, int n, const char *content)
{
	double t0 = now_s();
	int i;

	PQclear(PQprepare(c, "ins", "INSERT INTO s VALUES ($1, $2, $3, $4,"
	    " $5, $6, $7, $8)", 8, NULL));
	for (i = 0; i < n; i++) {
		char v[7][64];
		const char *p[8] = {v[0], v[1], v[2], v[3], v[4], content,
		    v[5], v[6]};
		PGresult *r;

		snprintf(v[0], 64, "1");
		snprintf(v[1], 64, "%d", i);
		snprintf(v[2], 64, "id-%d", i);
		snprintf(v[3], 64, "http://e/%d", i);
		snprintf(v[4], 64, "title %d", i);
		snprintf(v[5], 64, "%d", 1000 + i);
		snprintf(v[6], 64, "%d", i * 7);
		r = PQexecPrepared(c, "ins", 8, p, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK)
			printf("error: %s", PQerrorMessage(c));
		PQclear(r);
	}
	exec_ok(c, "DEALLOCATE ins");
	return now_s() - t0;
}

static int
bench_stage(const char *address, int n, int size, int runs)
{
	static const char *const what[3] = {"COPY, 1 MiB pieces",
	    "INSERT FROM unnest, 250 rows", "prepared INSERT per row"};
	double (*const fn[3])(PGconn *, int, const char *) = {stage_copy,
	    stage_unnest, stage_rows};
	double t[3][MAX_RUNS];
	PGconn *c = PQconnectdb(address);
	char *content = malloc((size_t)size + 1);
	int k, run;

	if (PQstatus(c) != CONNECTION_OK) {
		printf("error: %s", PQerrorMessage(c));
		return 1;
	}
	exec_ok(c, "SET client_min_messages = warning");
	memset(content, 'x', (size_t)size);
	content[size] = '\0';
	for (run = 0; run < runs; run++)
		for (k = 0; k < 3; k++) {
			if (!exec_ok(c, STAGE_TABLE))
				return 1;
			t[k][run] = fn[k](c, n, content);
		}
	for (k = 0; k < 3; k++)
		printf("staging %d x %d B, %-30s median %.3f s\n", n, size,
		    what[k], median(t[k], runs));
	free(content);
	PQfinish(c);
	return 0;
}

static int
in_child(const char *address, const char *conf, int n, int size, int runs)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();

	if (pid == 0) {
		int rc = bench_store(address, conf, n, size, runs);

		fflush(stdout);
		_exit(rc);
	}
	return waitpid(pid, &status, 0) == pid && WIFEXITED(status) ?
	    WEXITSTATUS(status) : 1;
}

int
main(int argc, char **argv)
{
	int n = argc > 3 ? atoi(argv[3]) : 5000;
	int size = argc > 4 ? atoi(argv[4]) : 4096;
	int runs = argc > 5 ? atoi(argv[5]) : 3;
	char conf[64];
	FILE *fp;
	int rc;

	if (argc < 3 || runs < 1 || runs > MAX_RUNS) {
		fprintf(stderr, "usage: store_doc_bench SQLITE_FILE "
		    "POSTGRES_ADDRESS [ITEMS [BYTES [RUNS]]]\n");
		return 2;
	}
	snprintf(conf, sizeof(conf), "/tmp/store_doc_bench-%ld.conf",
	    (long)getpid());
	if ((fp = fopen(conf, "w")) == NULL)
		return 1;
	fputs("[feed \"big\"]\nurl = http://127.0.0.1:1/big.xml\n", fp);
	fclose(fp);
	rc = in_child(argv[1], conf, n, size, runs) ||
	    in_child(argv[2], conf, n, size, runs) ||
	    bench_stage(argv[2], n, size, runs);
	unlink(conf);
	return rc;
}
