/*
 * test_store_util.h — helpers shared by the store's unit tests: temp
 * databases, configs written to temp files, articles, and collecting the
 * merged query into owned records.
 */
#ifndef TR_TEST_STORE_UTIL_H
#define TR_TEST_STORE_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>
#include <sqlite3.h>

#include "runner.h"
#include "tributary/article.h"
#include "tributary/config.h"
#include "tributary/error.h"
#include "tributary/store.h"

/*
 * The store's tests run against SQLite by default and against PostgreSQL
 * when TR_TEST_PG names the socket directory of a running cluster whose
 * superuser "tr" logs in without a password (tests/pg start DIR makes one).
 */
static inline const char *
pg_dir(void)
{
	const char *d = getenv("TR_TEST_PG");

	return d && *d ? d : NULL;
}

static inline int
is_pg(void)
{
	return pg_dir() != NULL;
}

/* Skips the current test on PostgreSQL (it reads SQLite's file itself). */
#define SKIP_PG(why)                                                          \
	do {                                                                  \
		if (is_pg())                                                  \
			SKIP(why);                                            \
	} while (0)

/* A connection to the cluster's maintenance database "postgres". */
static inline PGconn *
pg_admin(void)
{
	char uri[512];
	PGconn *c;

	snprintf(uri, sizeof(uri), "postgresql://tr@/postgres?host=%s",
	    pg_dir());
	c = PQconnectdb(uri);
	if (PQstatus(c) != CONNECTION_OK) {
		printf("  cannot connect to the test cluster in %s: %s\n",
		    pg_dir(), PQerrorMessage(c));
		exit(1);
	}
	return c;
}

static inline void
pg_admin_exec(const char *sql)
{
	PGconn *c = pg_admin();
	PGresult *r = PQexec(c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		printf("  %s: %s\n", sql, PQerrorMessage(c));
		exit(1);
	}
	PQclear(r);
	PQfinish(c);
}

/*
 * How CREATE DATABASE copies its template: on PostgreSQL 15 and later
 * by copying the files (FILE_COPY), which is a third faster than writing
 * every page to the WAL (the default there) for the small template, and
 * the PostgreSQL pass makes a database for nearly every test.
 */
static inline const char *
pg_create_strategy(void)
{
	static int version = -1;

	if (version < 0) {
		PGconn *c = pg_admin();

		version = PQserverVersion(c);
		PQfinish(c);
	}
	return version >= 150000 ? " STRATEGY = FILE_COPY" : "";
}

/*
 * A new empty database: a new empty file under /tmp (SQLite treats it as
 * a new database) or, on PostgreSQL, a new database tr_test_PID_N of the
 * test cluster, as its address.
 */
static inline char *
tmp_db(void)
{
	static unsigned counter;
	char *p;
	int fd;

	if (is_pg()) {
		char name[64], sql[128];
		size_t size;

		snprintf(name, sizeof(name), "tr_test_%ld_%u", (long)getpid(),
		    ++counter);
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s%s", name,
		    pg_create_strategy());
		pg_admin_exec(sql);
		size = strlen(name) + strlen(pg_dir()) + 64;
		p = malloc(size);
		snprintf(p, size, "postgresql://tr@/%s?host=%s", name,
		    pg_dir());
		return p;
	}
	p = strdup("/tmp/tr-store-test-XXXXXX");
	if ((fd = mkstemp(p)) < 0) {
		perror("mkstemp");
		exit(1);
	}
	close(fd);
	return p;
}

/*
 * Removes the database, its WAL files and marker (on PostgreSQL: drops
 * it, closing any connection left open); frees path.
 */
static inline void
rm_db(char *path)
{
	char buf[512];

	if (is_pg() && strncmp(path, "postgresql://tr@/", 17) == 0) {
		size_t n = strcspn(path + 17, "?");

		snprintf(buf, sizeof(buf),
		    "DROP DATABASE IF EXISTS %.*s WITH (FORCE)", (int)n,
		    path + 17);
		pg_admin_exec(buf);
		free(path);
		return;
	}
	unlink(path);
	snprintf(buf, sizeof(buf), "%s-wal", path);
	unlink(buf);
	snprintf(buf, sizeof(buf), "%s-shm", path);
	unlink(buf);
	snprintf(buf, sizeof(buf), "%s-tributary", path);
	unlink(buf);
	free(path);
}

/* Loads a config from text (written to a temp file, then removed). */
/*
 * A config read from the file named (a tmp file per process and name,
 * removed after reading): configs of one name are one config file
 * edited, configs of different names different files sharing a store.
 */
static inline struct tr_config *
cfg_named(const char *text, const char *name)
{
	char path[256];
	struct tr_config *cfg = NULL;
	char *errors = NULL;
	FILE *fp;

	snprintf(path, sizeof(path), "/tmp/tr-store-conf-%ld-%s",
	    (long)getpid(), name);
	if ((fp = fopen(path, "w")) == NULL) {
		perror("config");
		exit(1);
	}
	fputs(text, fp);
	fclose(fp);
	if (tr_config_load(&cfg, &errors, path) != 0) {
		printf("  config does not load: %s\n", errors ? errors : "?");
		exit(1);
	}
	free(errors);
	unlink(path);
	return cfg;
}

/* A config of the file every cfg_from() of this process reads. */
static inline struct tr_config *
cfg_from(const char *text)
{
	return cfg_named(text, "feeds.conf");
}

static inline char *
xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* An article with identity id, link (may be NULL), title and date. */
static inline void
mkart(struct tr_article *a, const char *id, const char *link,
    const char *title, int64_t published)
{
	tr_article_init(a);
	a->id = xstrdup(id);
	a->guid = xstrdup(id);
	a->link = xstrdup(link);
	a->title = xstrdup(title);
	a->summary = xstrdup("summary text");
	a->published = published;
}

/* Stores n articles as one document of feed; returns the commit's rc. */
static inline int
store_doc(struct tr_store *st, const char *feed, struct tr_article *v,
    size_t n, struct tr_store_result *res)
{
	struct tr_store_batch *b = NULL;
	size_t i;
	int rc;

	if ((rc = tr_store_batch_begin(&b, st, feed)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++)
		rc = tr_store_batch_add(b, &v[i]);
	if (rc == 0)
		rc = tr_store_batch_commit(b, NULL, res);
	tr_store_batch_free(b);
	return rc;
}

static inline void
free_arts(struct tr_article *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		tr_article_free(&v[i]);
}

/* One item of a merged page, owned. */
struct got {
	char *id, *feed, *title, *also; /* also: names joined with ',' */
	int64_t sort_date, first_seen, published, updated;
};

struct page {
	struct got items[1100];
	size_t n;
};

static inline int
collect_cb(const struct tr_item *it, void *arg)
{
	struct page *p = arg;
	struct got *g = &p->items[p->n++];
	char also[512] = "";
	size_t i;

	g->id = xstrdup(it->a.id);
	g->feed = xstrdup(it->feed_name);
	g->title = xstrdup(it->a.title);
	for (i = 0; i < it->n_also; i++) {
		if (i)
			strcat(also, ",");
		strcat(also, it->also[i]);
	}
	g->also = strdup(also);
	g->sort_date = it->sort_date;
	g->first_seen = it->first_seen;
	g->published = it->a.published;
	g->updated = it->a.updated;
	return 0;
}

static inline void
page_free(struct page *p)
{
	size_t i;

	for (i = 0; i < p->n; i++) {
		free(p->items[i].id);
		free(p->items[i].feed);
		free(p->items[i].title);
		free(p->items[i].also);
	}
	p->n = 0;
}

/* Runs q into p (emptied first). */
static inline int
query(struct tr_store *st, const struct tr_query *q, struct page *p,
    char **next)
{
	page_free(p);
	return tr_store_query(st, q, collect_cb, p, next);
}

static inline struct tr_query
q_all(void)
{
	struct tr_query q;

	memset(&q, 0, sizeof(q));
	q.since = TR_DATE_NONE;
	return q;
}

/*
 * One value (NULL: empty) of SQL on a raw libpq connection to address, on
 * PostgreSQL; -1 when the statement fails.
 */
static inline int
pg_sql_value(const char *address, const char *sql, char *out, size_t size)
{
	PGconn *c = PQconnectdb(address);
	PGresult *r = NULL;
	int rc = -1;

	out[0] = '\0';
	if (PQstatus(c) == CONNECTION_OK &&
	    (r = PQexec(c, sql)) != NULL &&
	    PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) {
		snprintf(out, size, "%s", PQgetvalue(r, 0, 0));
		rc = 0;
	} else
		printf("  sql(%s): %s\n", sql, PQerrorMessage(c));
	PQclear(r);
	PQfinish(c);
	return rc;
}

/*
 * One integer from SQL on a raw connection to path (plain SQL both
 * backends read alike; NULL reads as 0).
 */
static inline int64_t
sql_int(const char *path, const char *sql)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	int64_t v = -999;

	if (is_pg()) {
		char buf[64];

		if (pg_sql_value(path, sql, buf, sizeof(buf)) == 0)
			v = strtoll(buf, NULL, 10);
		return v;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		v = sqlite3_column_int64(s, 0);
	else
		printf("  sql_int(%s): %s\n", sql, sqlite3_errmsg(db));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return v;
}

/* One text value (empty for NULL) from SQL on a raw connection. */
static inline void
sql_text(const char *path, const char *sql, char *out, size_t size)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	out[0] = '\0';
	if (is_pg()) {
		pg_sql_value(path, sql, out, size);
		return;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK &&
	    sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW) {
		if (sqlite3_column_text(s, 0))
			snprintf(out, size, "%s",
			    (const char *)sqlite3_column_text(s, 0));
	} else
		printf("  sql_text(%s): %s\n", sql, sqlite3_errmsg(db));
	sqlite3_finalize(s);
	sqlite3_close(db);
}

#endif
