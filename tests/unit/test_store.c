/*
 * test_store.c — the article store: opening, migrations, feeds and their
 * state, reconciling with feeds.conf, storing documents, generation.
 * Queries are in test_store_query.c, crash and concurrency tests in
 * test_store_kill.c.
 */
#include <sys/stat.h>

#include "test_store_util.h"

static const char conf2[] = "[tributary]\n"
			    "database = x.db\n"
			    "[feed \"alpha\"]\n"
			    "url = http://127.0.0.1:1/a.xml\n"
			    "tags = news, world\n"
			    "[feed \"beta\"]\n"
			    "url = http://127.0.0.1:1/b.xml\n"
			    "title = Beta Title\n";

/* The whole file as a malloc'ed buffer; *n its size. */
static char *
slurp(const char *path, size_t *n)
{
	FILE *fp = fopen(path, "rb");
	char *buf;
	long len;

	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	len = ftell(fp);
	fseek(fp, 0, SEEK_SET);
	buf = malloc((size_t)len + 1);
	*n = fread(buf, 1, (size_t)len, fp);
	fclose(fp);
	return buf;
}

static void
test_open_memory(void)
{
	struct tr_store *st = NULL;
	struct tr_store_stats stats;
	int64_t gen = -1, at = -1, due = -1;

	CHECK_INT(tr_store_open(&st, ":memory:", 0), 0);
	CHECK_INT(tr_store_generation(st, &gen, &at), 0);
	CHECK_INT(gen, 0);
	CHECK_INT(at, 0);
	CHECK_INT(tr_store_stats(st, &stats), 0);
	CHECK_INT(stats.feeds, 0);
	CHECK_INT(stats.articles, 0);
	CHECK_INT(tr_store_next_due(st, &due), 0);
	CHECK_INT(due, 0);
	tr_store_close(st);
	tr_store_close(NULL);
}

/* PostgreSQL's schema: its version (2) and its tables, made once. */
static void
open_schema_pg(void)
{
	char *path = tmp_db();
	struct tr_store *st = NULL;
	const char *tables = "SELECT count(*) FROM pg_tables WHERE schemaname"
			     " = current_schema() AND tablename IN ('feeds',"
			     "'articles','feed_tags','feed_configs','meta')";

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(sql_int(path, "SELECT value FROM meta WHERE key = 'schema'"),
	    6);
	CHECK_INT(sql_int(path, tables), 5);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM pg_indexes WHERE"
				" indexname = 'articles_tsv'"),
	    1);
	tr_store_close(st);
	/* Reopening an up-to-date database migrates nothing and works. */
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	tr_store_close(st);
	CHECK_INT(sql_int(path, "SELECT value FROM meta WHERE key = 'schema'"),
	    6);
	CHECK_INT(sql_int(path, tables), 5);
	rm_db(path);
}

static void
test_open_file_schema(void)
{
	if (is_pg()) {
		open_schema_pg();
		return;
	}
	char *path = tmp_db();
	struct tr_store *st = NULL;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(sql_int(path, "PRAGMA user_version"), 11);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM sqlite_schema WHERE "
				"name IN ('feeds','articles','articles_fts',"
				"'feed_tags','meta')"),
	    5);
	tr_store_close(st);
	/* Reopening an up-to-date file migrates nothing and works. */
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	tr_store_close(st);
	CHECK_INT(sql_int(path, "PRAGMA user_version"), 11);
	{
		/* WAL is persistent in the file: read it back raw. */
		sqlite3 *db = NULL;
		sqlite3_stmt *s = NULL;

		sqlite3_open(path, &db);
		sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &s, NULL);
		CHECK(sqlite3_step(s) == SQLITE_ROW);
		CHECK_STR((const char *)sqlite3_column_text(s, 0), "wal");
		sqlite3_finalize(s);
		sqlite3_close(db);
	}
	rm_db(path);
}

/*
 * A PostgreSQL database of a newer schema is refused by writers and
 * readers alike, and left as it is.
 */
static void
newer_refused_pg(void)
{
	char *path = tmp_db();
	struct tr_store *st = NULL;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	tr_store_close(st);
	st = NULL;
	CHECK_INT(sql_int(path, "UPDATE meta SET value = 99 WHERE key ="
				" 'schema' RETURNING value"),
	    99);
	CHECK_INT(tr_store_open(&st, path, 0), TR_ENEWER);
	CHECK(st != NULL);
	CHECK(strstr(tr_store_errmsg(st), "newer") != NULL);
	CHECK(strstr(tr_store_errmsg(st), "99") != NULL);
	tr_store_close(st);
	st = NULL;
	CHECK_INT(tr_store_open(&st, path, TR_STORE_READONLY), TR_ENEWER);
	CHECK(st && strstr(tr_store_errmsg(st), "newer") != NULL);
	tr_store_close(st);
	CHECK_INT(sql_int(path, "SELECT value FROM meta WHERE key = 'schema'"),
	    99);
	rm_db(path);
}

static void
test_newer_refused(void)
{
	if (is_pg()) {
		newer_refused_pg();
		return;
	}
	char *path = tmp_db();
	struct tr_store *st = NULL;
	sqlite3 *db = NULL;
	char *before, *after;
	size_t nb = 0, na = 0;

	sqlite3_open(path, &db);
	sqlite3_exec(db, "CREATE TABLE future(x); PRAGMA user_version = 99;",
	    NULL, NULL, NULL);
	sqlite3_close(db);
	before = slurp(path, &nb);
	CHECK(nb > 0);
	CHECK_INT(tr_store_open(&st, path, 0), TR_ENEWER);
	CHECK(st != NULL);
	CHECK(strstr(tr_store_errmsg(st), "newer") != NULL);
	CHECK(strstr(tr_store_errmsg(st), "99") != NULL);
	tr_store_close(st);
	st = NULL;
	CHECK_INT(tr_store_open(&st, path, TR_STORE_READONLY), TR_ENEWER);
	tr_store_close(st);
	after = slurp(path, &na);
	CHECK_INT(na, nb);
	CHECK(after && before && memcmp(before, after, nb) == 0);
	CHECK_INT(sql_int(path, "PRAGMA user_version"), 99);
	free(before);
	free(after);
	rm_db(path);
}

static void
test_readonly(void)
{
	char *path = tmp_db();
	struct tr_store *st = NULL, *ro = NULL;
	struct tr_store_batch *b = NULL;
	char *before, *after;
	size_t nb = 0, na = 0;
	struct stat sb;

	/* An empty file: a read-only handle must not create the schema. */
	before = slurp(path, &nb);
	CHECK_INT(tr_store_open(&ro, path, TR_STORE_READONLY), TR_ESTORE);
	CHECK(ro && strstr(tr_store_errmsg(ro), "older") != NULL);
	tr_store_close(ro);
	ro = NULL;
	after = slurp(path, &na);
	CHECK_INT(na, nb);
	free(before);
	free(after);
	/* A missing file is not created. */
	CHECK_INT(tr_store_open(&ro, "/tmp/tr-no-such-dir/x.db",
		      TR_STORE_READONLY),
	    TR_ENOTFOUND);
	tr_store_close(ro);
	ro = NULL;
	CHECK(stat("/tmp/tr-no-such-dir/x.db", &sb) != 0);
	/* Up to date: reads work, writes are refused. */
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_open(&ro, path, TR_STORE_READONLY), 0);
	{
		struct tr_config *cfg = cfg_from(conf2);

		CHECK_INT(tr_store_sync_config(st, cfg), 0);
		CHECK(tr_store_sync_config(ro, cfg) != 0);
		tr_config_free(cfg);
	}
	CHECK(tr_store_batch_begin(&b, ro, "alpha") != 0);
	CHECK(b == NULL);
	{
		struct tr_store_stats stats;

		CHECK_INT(tr_store_stats(ro, &stats), 0);
		CHECK_INT(stats.feeds, 2);
	}
	/* The read-only handle answers its generation from a cache keyed by
	 * PRAGMA data_version: every commit of the writer shows at once. */
	{
		int64_t g0 = 0, g1 = 0, g2 = 0, w = 0, at = 0;
		struct tr_config *cfg = cfg_from("[feed \"alpha\"]\n"
		    "url = http://127.0.0.1:1/other.xml\n");

		CHECK_INT(tr_store_generation(ro, &g0, NULL), 0);
		CHECK_INT(tr_store_generation(ro, &g1, NULL), 0);
		CHECK_INT(g1, g0);
		tr_store_set_now(st, 7000);
		CHECK_INT(tr_store_sync_config(st, cfg), 0);
		CHECK_INT(tr_store_generation(st, &w, NULL), 0);
		CHECK(w > g0);
		CHECK_INT(tr_store_generation(ro, &g2, &at), 0);
		CHECK_INT(g2, w);
		CHECK_INT(at, 7000);
		tr_config_free(cfg);
	}
	tr_store_close(ro);
	tr_store_close(st);
	rm_db(path);
}

static void
test_bad_file(void)
{
	SKIP_PG("writes a file that is not an SQLite database");
	char *path = tmp_db();
	struct tr_store *st = NULL;
	FILE *fp = fopen(path, "w");

	fputs("this is not a database, but it is long enough to have a "
	      "header that SQLite reads and rejects as such.............\n",
	    fp);
	fclose(fp);
	CHECK_INT(tr_store_open(&st, path, 0), TR_ESTORE);
	CHECK(st && strstr(tr_store_errmsg(st), path) != NULL);
	tr_store_close(st);
	rm_db(path);
}

static void
test_sync_config(void)
{
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf2), *cfg2;
	struct tr_feed_state fs;
	int64_t gen0 = 0, gen1 = 0, gen2 = 0, due = -1;

	CHECK_INT(tr_store_open(&st, ":memory:", 0), 0);
	tr_store_set_now(st, 5000);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	CHECK_INT(tr_store_generation(st, &gen0, NULL), 0);
	CHECK(gen0 > 0);
	CHECK_INT(tr_store_feed_get(st, &fs, "alpha"), 0);
	CHECK_STR(fs.url, "http://127.0.0.1:1/a.xml");
	CHECK_INT(fs.next_check, 0);
	CHECK_INT(fs.active, 1);
	CHECK_INT(fs.enabled, 1);
	CHECK_INT(fs.n_articles, 0);
	tr_feed_state_free(&fs);
	CHECK_INT(tr_store_feed_get(st, &fs, "beta"), 0);
	CHECK_STR(fs.title, "Beta Title");
	tr_feed_state_free(&fs);
	CHECK_INT(tr_store_feed_get(st, &fs, "gamma"), TR_ENOTFOUND);
	CHECK_INT(tr_store_next_due(st, &due), 0);
	CHECK_INT(due, 0);

	/* The same config again changes nothing. */
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	CHECK_INT(tr_store_generation(st, &gen1, NULL), 0);
	CHECK_INT(gen1, gen0);

	/* Give alpha some state, then change its URL and drop beta. */
	CHECK_INT(tr_store_feed_get(st, &fs, "alpha"), 0);
	fs.etag = strdup("\"e1\"");
	fs.last_modified = strdup("Mon, 01 Jan 2024 00:00:00 GMT");
	fs.effective_url = strdup("http://127.0.0.1:1/moved.xml");
	fs.body_hash = strdup("abc");
	fs.disabled = 1;
	fs.disabled_reason = strdup("HTTP 410 Gone");
	fs.last_status = 410;
	fs.next_check = 9000;
	CHECK_INT(tr_store_feed_save(st, &fs), 0);
	tr_feed_state_free(&fs);
	cfg2 = cfg_from("[feed \"alpha\"]\n"
			"url = http://127.0.0.1:1/new.xml\n"
			"tags = world\n");
	CHECK_INT(tr_store_sync_config(st, cfg2), 0);
	CHECK_INT(tr_store_generation(st, &gen2, NULL), 0);
	CHECK(gen2 > gen1);
	CHECK_INT(tr_store_feed_get(st, &fs, "alpha"), 0);
	CHECK_STR(fs.url, "http://127.0.0.1:1/new.xml");
	CHECK_STR(fs.etag, NULL);
	CHECK_STR(fs.last_modified, NULL);
	CHECK_STR(fs.effective_url, NULL);
	CHECK_STR(fs.body_hash, NULL);
	CHECK_INT(fs.disabled, 0);
	CHECK_STR(fs.disabled_reason, NULL);
	CHECK_INT(fs.next_check, 0);
	tr_feed_state_free(&fs);
	CHECK_INT(tr_store_feed_get(st, &fs, "beta"), 0);
	CHECK_INT(fs.active, 0);
	tr_feed_state_free(&fs);
	/* Beta comes back when it is configured again. */
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	CHECK_INT(tr_store_feed_get(st, &fs, "beta"), 0);
	CHECK_INT(fs.active, 1);
	tr_feed_state_free(&fs);
	tr_config_free(cfg);
	tr_config_free(cfg2);
	tr_store_close(st);
}

static void
test_disabled_in_config(void)
{
	struct tr_store *st = NULL;
	struct tr_config *cfg =
	    cfg_from("[feed \"on\"]\nurl = http://127.0.0.1:1/a\n"
		     "[feed \"off\"]\nurl = http://127.0.0.1:1/b\n"
		     "enabled = no\n");
	struct tr_feed_state fs;
	struct tr_store_stats stats;
	int64_t due = -1;

	CHECK_INT(tr_store_open(&st, ":memory:", 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	CHECK_INT(tr_store_feed_get(st, &fs, "off"), 0);
	CHECK_INT(fs.enabled, 0);
	tr_feed_state_free(&fs);
	CHECK_INT(tr_store_feed_get(st, &fs, "on"), 0);
	fs.next_check = 777;
	CHECK_INT(tr_store_feed_save(st, &fs), 0);
	tr_feed_state_free(&fs);
	/* Only the enabled feed counts for the next due time. */
	CHECK_INT(tr_store_next_due(st, &due), 0);
	CHECK_INT(due, 777);
	CHECK_INT(tr_store_stats(st, &stats), 0);
	CHECK_INT(stats.feeds, 2);
	CHECK_INT(stats.feeds_active, 2);
	CHECK_INT(stats.feeds_disabled, 1);
	tr_config_free(cfg);
	tr_store_close(st);
}

static void
test_feed_state_roundtrip(void)
{
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf2);
	struct tr_feed_state fs, back;
	struct tr_store_stats stats;
	int64_t gen0 = 0, gen1 = 0, at = 0;

	CHECK_INT(tr_store_open(&st, ":memory:", 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	memset(&fs, 0, sizeof(fs));
	fs.name = strdup("beta");
	fs.effective_url = strdup("https://127.0.0.1:2/b2.xml");
	fs.etag = strdup("W/\"x y\"");
	fs.last_modified = strdup("Tue, 02 Jan 2024 03:04:05 GMT");
	fs.body_hash = strdup("0123456789abcdef");
	fs.last_check = 1700000001;
	fs.next_check = 1700000600;
	fs.last_success = 1700000000;
	fs.retry_after = 1700000900;
	fs.errors = 3;
	fs.last_error = strdup("HTTP 503: Service Unavailable");
	fs.last_status = 503;
	fs.disabled = 0;
	fs.disabled_reason = NULL;
	CHECK_INT(tr_store_generation(st, &gen0, NULL), 0);
	tr_store_set_now(st, 1234567);
	CHECK_INT(tr_store_feed_save(st, &fs), 0);
	CHECK_INT(tr_store_feed_get(st, &back, "beta"), 0);
	CHECK_STR(back.name, "beta");
	CHECK_STR(back.url, "http://127.0.0.1:1/b.xml");
	CHECK_STR(back.effective_url, fs.effective_url);
	CHECK_STR(back.etag, fs.etag);
	CHECK_STR(back.last_modified, fs.last_modified);
	CHECK_STR(back.body_hash, fs.body_hash);
	CHECK_INT(back.last_check, fs.last_check);
	CHECK_INT(back.next_check, fs.next_check);
	CHECK_INT(back.last_success, fs.last_success);
	CHECK_INT(back.retry_after, fs.retry_after);
	CHECK_INT(back.errors, 3);
	CHECK_STR(back.last_error, fs.last_error);
	CHECK_INT(back.last_status, 503);
	CHECK_INT(back.disabled, 0);
	CHECK_STR(back.disabled_reason, NULL);
	CHECK_INT(back.active, 1);
	tr_feed_state_free(&back);
	/* The effective URL shows in output: the generation moved. */
	CHECK_INT(tr_store_generation(st, &gen1, &at), 0);
	CHECK_INT(gen1, gen0 + 1);
	CHECK_INT(at, 1234567);
	CHECK_INT(tr_store_stats(st, &stats), 0);
	CHECK_INT(stats.feeds_failing, 1);
	/* Saving the same state again does not. */
	CHECK_INT(tr_store_feed_save(st, &fs), 0);
	CHECK_INT(tr_store_generation(st, &gen0, NULL), 0);
	CHECK_INT(gen0, gen1);
	free(fs.name);
	fs.name = strdup("nope");
	CHECK_INT(tr_store_feed_save(st, &fs), TR_ENOTFOUND);
	tr_feed_state_free(&fs);
	tr_config_free(cfg);
	tr_store_close(st);
}

/*
 * Every save the poller makes changes the feeds' stamp, which the page
 * of feed states is cached by, though most leave the generation alone;
 * saving the same state again changes neither.
 */
static void
test_feeds_stamp(void)
{
	static const struct {
		const char *what;
		int64_t check, next, success, retry, errors;
	} saves[] = {
	    {"a poll that failed", 1000, 1600, 0, 0, 1},
	    {"a second failure", 1600, 2800, 0, 0, 2},
	    {"a Retry-After (same check)", 1600, 2800, 0, 6400, 2},
	    {"the next check moved", 1600, 3000, 0, 6400, 2},
	    {"errors cleared", 1600, 3000, 0, 6400, 0},
	    {"a success", 6400, 8200, 6400, 0, 0},
	    {"a 304 (last check only)", 8200, 10000, 6400, 0, 0},
	};
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf2);
	struct tr_feed_state fs;
	char name[] = "alpha", error[] = "HTTP 503";
	int64_t stamp = 0, prev = 0, latest = 0, gen = 0, gen0 = 0;
	size_t i;

	CHECK_INT(tr_store_open(&st, ":memory:", 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	CHECK_INT(tr_store_feeds_stamp(st, &prev, &latest), 0);
	CHECK_INT(latest, 0);
	CHECK_INT(tr_store_generation(st, &gen0, NULL), 0);
	memset(&fs, 0, sizeof(fs));
	fs.name = name;
	fs.last_error = error;
	for (i = 0; i < sizeof(saves) / sizeof(saves[0]); i++) {
		fs.last_check = saves[i].check;
		fs.next_check = saves[i].next;
		fs.last_success = saves[i].success;
		fs.retry_after = saves[i].retry;
		fs.errors = saves[i].errors;
		CHECK_INT(tr_store_feed_save(st, &fs), 0);
		CHECK_INT(tr_store_feeds_stamp(st, &stamp, &latest), 0);
		if (stamp == prev)
			fprintf(stderr, "stamp unchanged by %s\n", saves[i].what);
		CHECK(stamp != prev);
		CHECK_INT(latest, saves[i].check);
		CHECK_INT(tr_store_feed_save(st, &fs), 0);
		CHECK_INT(tr_store_feeds_stamp(st, &prev, &latest), 0);
		CHECK_INT(prev, stamp);
	}
	CHECK_INT(tr_store_generation(st, &gen, NULL), 0);
	CHECK_INT(gen, gen0);
	tr_config_free(cfg);
	tr_store_close(st);
}

struct feeds_seen {
	char names[8][32];
	int64_t counts[8];
	int n;
};

static int
feeds_cb(const struct tr_feed_state *fs, void *arg)
{
	struct feeds_seen *s = arg;

	if (s->n < 8) {
		snprintf(s->names[s->n], 32, "%s", fs->name);
		s->counts[s->n] = fs->n_articles;
		s->n++;
	}
	return 0;
}

/*
 * A mark that moves with every write to the database: SQLite's
 * data_version seen from another connection (dv), on PostgreSQL the
 * sum of the row versions' transaction ids of the tables a commit writes
 * (a row written again gets a newer one).
 */
static int64_t
write_mark(const char *path, sqlite3_stmt *dv)
{
	int64_t v;

	if (is_pg())
		return sql_int(path, "SELECT coalesce(sum(xmin::text::bigint),"
		    " 0) FROM (SELECT xmin FROM articles UNION ALL SELECT xmin"
		    " FROM feeds UNION ALL SELECT xmin FROM meta) x");
	sqlite3_step(dv);
	v = sqlite3_column_int64(dv, 0);
	sqlite3_reset(dv);
	return v;
}

static void
test_store_doc_dedup(void)
{
	char *path = tmp_db();
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf2);
	struct tr_article v[3];
	struct tr_store_result r;
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();
	struct feeds_seen seen = {{{0}}, {0}, 0};
	int64_t gen0 = 0, gen1 = 0, dv0, dv1;
	sqlite3 *other = NULL;
	sqlite3_stmt *dv = NULL;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	tr_store_set_now(st, 1000000);
	mkart(&v[0], "id-1", "http://127.0.0.1/1", "One", 900000);
	mkart(&v[1], "id-2", "http://127.0.0.1/2", "Two", 900100);
	mkart(&v[2], "id-3", NULL, "Three", TR_DATE_NONE);
	CHECK_INT(store_doc(st, "alpha", v, 3, &r), 0);
	CHECK_INT(r.added, 3);
	CHECK_INT(r.updated, 0);
	CHECK_INT(r.unchanged, 0);
	CHECK(r.changes >= 3);

	/* The same document again: nothing is written at all. */
	if (!is_pg()) {
		sqlite3_open(path, &other);
		sqlite3_prepare_v2(other, "PRAGMA data_version", -1, &dv,
		    NULL);
	}
	dv0 = write_mark(path, dv);
	CHECK_INT(tr_store_generation(st, &gen0, NULL), 0);
	tr_store_set_now(st, 1000500);
	CHECK_INT(store_doc(st, "alpha", v, 3, &r), 0);
	CHECK_INT(r.added, 0);
	CHECK_INT(r.updated, 0);
	CHECK_INT(r.unchanged, 3);
	CHECK_INT(r.changes, 0);
	CHECK_INT(tr_store_generation(st, &gen1, NULL), 0);
	CHECK_INT(gen1, gen0);
	dv1 = write_mark(path, dv);
	CHECK_INT(dv1, dv0);

	/* Changed content: updated in place, first_seen kept. */
	free(v[1].title);
	v[1].title = strdup("Two, corrected");
	tr_store_set_now(st, 1000900);
	CHECK_INT(store_doc(st, "alpha", v, 3, &r), 0);
	CHECK_INT(r.added, 0);
	CHECK_INT(r.updated, 1);
	CHECK_INT(r.unchanged, 2);
	CHECK(write_mark(path, dv) != dv1);
	CHECK_INT(tr_store_generation(st, &gen1, NULL), 0);
	CHECK(gen1 > gen0);
	q.feed = "alpha";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 3);
	{
		size_t i;
		int found = 0;

		for (i = 0; i < p->n; i++) {
			if (strcmp(p->items[i].id, "id-2") != 0)
				continue;
			found = 1;
			CHECK_STR(p->items[i].title, "Two, corrected");
			CHECK_INT(p->items[i].first_seen, 1000000);
			/* No updated date in the item: the change time. */
			CHECK_INT(p->items[i].updated, 1000900);
			CHECK_INT(p->items[i].published, 900100);
		}
		CHECK(found);
	}
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 3);
	CHECK_INT(tr_store_feeds(st, feeds_cb, &seen), 0);
	CHECK_INT(seen.n, 2);
	CHECK_STR(seen.names[0], "alpha");
	CHECK_INT(seen.counts[0], 3);
	CHECK_INT(seen.counts[1], 0);
	sqlite3_finalize(dv);
	sqlite3_close(other);
	page_free(p);
	free(p);
	free_arts(v, 3);
	tr_config_free(cfg);
	tr_store_close(st);
	rm_db(path);
}

static void
test_same_identity_in_document(void)
{
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf2);
	struct tr_article v[3];
	struct tr_store_result r;
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();

	CHECK_INT(tr_store_open(&st, ":memory:", 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	mkart(&v[0], "dup", "http://127.0.0.1/d", "First", 1000);
	mkart(&v[1], "other", "http://127.0.0.1/o", "Other", 1000);
	mkart(&v[2], "dup", "http://127.0.0.1/d", "Last", 1000);
	CHECK_INT(store_doc(st, "alpha", v, 3, &r), 0);
	CHECK_INT(r.added, 2);
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 2);
	CHECK(p->n == 2 && (strcmp(p->items[0].title, "Last") == 0 ||
			       strcmp(p->items[1].title, "Last") == 0));
	page_free(p);
	free(p);
	free_arts(v, 3);
	tr_config_free(cfg);
	tr_store_close(st);
}

static void
test_interleaved_batches(void)
{
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf2);
	struct tr_store_batch *a = NULL, *b = NULL, *c = NULL;
	struct tr_article x[4];
	struct tr_store_result r;
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();

	CHECK_INT(tr_store_open(&st, ":memory:", 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	mkart(&x[0], "a1", "http://127.0.0.1/a1", "A1", 100);
	mkart(&x[1], "b1", "http://127.0.0.1/b1", "B1", 200);
	mkart(&x[2], "a2", "http://127.0.0.1/a2", "A2", 300);
	mkart(&x[3], "c1", "http://127.0.0.1/c1", "C1", 400);
	CHECK_INT(tr_store_batch_begin(&a, st, "alpha"), 0);
	CHECK_INT(tr_store_batch_begin(&b, st, "beta"), 0);
	CHECK_INT(tr_store_batch_begin(&c, st, "beta"), 0);
	CHECK_INT(tr_store_batch_add(a, &x[0]), 0);
	CHECK_INT(tr_store_batch_add(b, &x[1]), 0);
	CHECK_INT(tr_store_batch_add(c, &x[3]), 0);
	CHECK_INT(tr_store_batch_add(a, &x[2]), 0);
	/* Nothing is visible before a commit. */
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 0);
	CHECK_INT(tr_store_batch_commit(b, NULL, &r), 0);
	CHECK_INT(r.added, 1);
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 1);
	/* c is discarded without a commit. */
	tr_store_batch_free(c);
	CHECK_INT(tr_store_batch_commit(a, NULL, &r), 0);
	CHECK_INT(r.added, 2);
	/* Once committed, a batch takes nothing more. */
	CHECK_INT(tr_store_batch_commit(a, NULL, &r), TR_EINVAL);
	CHECK_INT(tr_store_batch_add(a, &x[0]), TR_EINVAL);
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 3);
	CHECK_STR(p->items[0].id, "a2");
	CHECK_STR(p->items[1].id, "b1");
	CHECK_STR(p->items[2].id, "a1");
	tr_store_batch_free(a);
	tr_store_batch_free(b);
	CHECK_INT(tr_store_batch_begin(&a, st, "nosuch"), TR_ENOTFOUND);
	page_free(p);
	free(p);
	free_arts(x, 4);
	tr_config_free(cfg);
	tr_store_close(st);
}

static void
test_meta_title(void)
{
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf2);
	struct tr_store_batch *b = NULL;
	struct tr_feed_meta m;
	struct tr_feed_state fs;
	struct tr_store_result r;
	int64_t g0 = 0, g1 = 0;

	CHECK_INT(tr_store_open(&st, ":memory:", 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	tr_feed_meta_init(&m);
	m.title = strdup("Alpha From Document");
	m.link = strdup("http://127.0.0.1/alpha");
	CHECK_INT(tr_store_batch_begin(&b, st, "alpha"), 0);
	CHECK_INT(tr_store_batch_commit(b, &m, &r), 0);
	tr_store_batch_free(b);
	CHECK_INT(r.changes, 1);
	CHECK_INT(tr_store_feed_get(st, &fs, "alpha"), 0);
	CHECK_STR(fs.title, "Alpha From Document");
	CHECK_STR(fs.site_link, "http://127.0.0.1/alpha");
	tr_feed_state_free(&fs);
	/* The configured title wins over the document's. */
	CHECK_INT(tr_store_batch_begin(&b, st, "beta"), 0);
	CHECK_INT(tr_store_batch_commit(b, &m, &r), 0);
	tr_store_batch_free(b);
	CHECK_INT(tr_store_feed_get(st, &fs, "beta"), 0);
	CHECK_STR(fs.title, "Beta Title");
	tr_feed_state_free(&fs);
	/* The same meta again is no change. */
	CHECK_INT(tr_store_generation(st, &g0, NULL), 0);
	CHECK_INT(tr_store_batch_begin(&b, st, "alpha"), 0);
	CHECK_INT(tr_store_batch_commit(b, &m, &r), 0);
	tr_store_batch_free(b);
	CHECK_INT(r.changes, 0);
	CHECK_INT(tr_store_generation(st, &g1, NULL), 0);
	CHECK_INT(g1, g0);
	tr_feed_meta_free(&m);
	tr_config_free(cfg);
	tr_store_close(st);
}

/* Every field of the record, with NULLs, quotes and controls. */
static int
roundtrip_cb(const struct tr_item *it, void *arg)
{
	const struct tr_article *a = &it->a;

	(void)arg;
	CHECK_STR(a->id, "urn:x:1");
	CHECK_STR(a->guid, "urn:x:1");
	CHECK_INT(a->guid_is_permalink, 0);
	CHECK_STR(a->link, "http://127.0.0.1/x?a=1&b=\"2\"");
	CHECK_STR(a->title, "T\xc3\xa9tle \"q\" \\ \x01 tab\t");
	CHECK_STR(a->author, "Ann");
	CHECK_INT(a->n_authors, 2);
	if (a->n_authors == 2) {
		CHECK_STR(a->authors[0].name, "Ann");
		CHECK_STR(a->authors[0].email, "ann@example.org");
		CHECK_STR(a->authors[0].uri, NULL);
		CHECK_STR(a->authors[1].name, "");
		CHECK_STR(a->authors[1].email, NULL);
		CHECK_STR(a->authors[1].uri, "http://127.0.0.1/bob");
	}
	CHECK_STR(a->summary, "<p>sum</p>");
	CHECK_STR(a->content, "<p>content \xe2\x80\xa8</p>");
	CHECK_INT(a->published, 1700000000);
	CHECK_INT(a->updated, 1700000100);
	CHECK_INT(a->n_categories, 3);
	if (a->n_categories == 3) {
		CHECK_STR(a->categories[0], "a,b");
		CHECK_STR(a->categories[1], "[\"]");
		CHECK_STR(a->categories[2], "\n");
	}
	CHECK_INT(a->n_enclosures, 2);
	if (a->n_enclosures == 2) {
		CHECK_STR(a->enclosures[0].url, "http://127.0.0.1/e.mp3");
		CHECK_STR(a->enclosures[0].type, "audio/mpeg");
		CHECK_INT(a->enclosures[0].length, 123456789012LL);
		CHECK_STR(a->enclosures[1].url, "http://127.0.0.1/f");
		CHECK_STR(a->enclosures[1].type, NULL);
		CHECK_INT(a->enclosures[1].length, -1);
	}
	CHECK_STR(a->source_title, "Src");
	CHECK_STR(a->source_url, "http://127.0.0.1/src.xml");
	CHECK_STR(a->source_id, NULL);
	CHECK_STR(it->feed_name, "beta");
	CHECK_STR(it->feed_title, "Beta Title");
	CHECK_STR(it->feed_url, "http://127.0.0.1:1/b.xml");
	CHECK_INT(it->n_also, 0);
	return 0;
}

static void
test_record_roundtrip(void)
{
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf2);
	struct tr_article a, empty;
	struct tr_store_result r;
	struct tr_query q = q_all();
	int n = 0;

	CHECK_INT(tr_store_open(&st, ":memory:", 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	tr_store_set_now(st, 1800000000);
	tr_article_init(&a);
	a.id = strdup("urn:x:1");
	a.guid = strdup("urn:x:1");
	a.guid_is_permalink = 0;
	a.link = strdup("http://127.0.0.1/x?a=1&b=\"2\"");
	a.title = strdup("T\xc3\xa9tle \"q\" \\ \x01 tab\t");
	a.author = strdup("Ann");
	a.n_authors = 2;
	a.authors = calloc(2, sizeof(*a.authors));
	a.authors[0].name = strdup("Ann");
	a.authors[0].email = strdup("ann@example.org");
	a.authors[1].name = strdup("");
	a.authors[1].uri = strdup("http://127.0.0.1/bob");
	a.summary = strdup("<p>sum</p>");
	a.content = strdup("<p>content \xe2\x80\xa8</p>");
	a.published = 1700000000;
	a.updated = 1700000100;
	a.n_categories = 3;
	a.categories = calloc(3, sizeof(char *));
	a.categories[0] = strdup("a,b");
	a.categories[1] = strdup("[\"]");
	a.categories[2] = strdup("\n");
	a.n_enclosures = 2;
	a.enclosures = calloc(2, sizeof(*a.enclosures));
	a.enclosures[0].url = strdup("http://127.0.0.1/e.mp3");
	a.enclosures[0].type = strdup("audio/mpeg");
	a.enclosures[0].length = 123456789012LL;
	a.enclosures[1].url = strdup("http://127.0.0.1/f");
	a.enclosures[1].length = -1;
	a.source_title = strdup("Src");
	a.source_url = strdup("http://127.0.0.1/src.xml");
	CHECK_INT(store_doc(st, "beta", &a, 1, &r), 0);
	CHECK_INT(tr_store_query(st, &q, roundtrip_cb, NULL, NULL), 0);
	/* And the same document again counts as unchanged. */
	CHECK_INT(store_doc(st, "beta", &a, 1, &r), 0);
	CHECK_INT(r.unchanged, 1);
	CHECK_INT(r.changes, 0);
	/* A record with nothing but an identity round-trips as empty. */
	tr_article_init(&empty);
	empty.id = strdup("bare");
	CHECK_INT(store_doc(st, "alpha", &empty, 1, &r), 0);
	{
		struct page *p = calloc(1, sizeof(*p));

		q.feed = "alpha";
		CHECK_INT(query(st, &q, p, NULL), 0);
		CHECK_INT(p->n, 1);
		if (p->n == 1) {
			CHECK_STR(p->items[0].title, NULL);
			CHECK_INT(p->items[0].published, TR_DATE_NONE);
			CHECK_INT(p->items[0].updated, TR_DATE_NONE);
			CHECK_INT(p->items[0].sort_date, 1800000000);
		}
		page_free(p);
		free(p);
	}
	/* Without an identity nothing is staged. */
	free(empty.id);
	empty.id = NULL;
	{
		struct tr_store_batch *b = NULL;

		CHECK_INT(tr_store_batch_begin(&b, st, "alpha"), 0);
		CHECK_INT(tr_store_batch_add(b, &empty), TR_EINVAL);
		tr_store_batch_free(b);
	}
	(void)n;
	tr_article_free(&empty);
	tr_article_free(&a);
	tr_config_free(cfg);
	tr_store_close(st);
}

/*
 * The schema of version 1, as tributary 0.1.0 created it (a fixture: the
 * migration from it must keep everything).
 */
static const char schema_v1[] =
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL)"
    "  WITHOUT ROWID;"
    "INSERT INTO meta(key, value) VALUES ('generation', 0),"
    "  ('changed_at', 0);"
    "CREATE TABLE feeds (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    "  url TEXT NOT NULL, effective_url TEXT, conf_title TEXT,"
    "  doc_title TEXT, site_link TEXT, etag TEXT, last_modified TEXT,"
    "  body_hash TEXT, last_check INTEGER NOT NULL DEFAULT 0,"
    "  next_check INTEGER NOT NULL DEFAULT 0,"
    "  last_success INTEGER NOT NULL DEFAULT 0,"
    "  retry_after INTEGER NOT NULL DEFAULT 0,"
    "  errors INTEGER NOT NULL DEFAULT 0, last_error TEXT,"
    "  last_status INTEGER NOT NULL DEFAULT 0,"
    "  disabled INTEGER NOT NULL DEFAULT 0, disabled_reason TEXT,"
    "  active INTEGER NOT NULL DEFAULT 1, enabled INTEGER NOT NULL DEFAULT 1,"
    "  max_per_feed INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE feed_tags (tag TEXT NOT NULL, feed_id INTEGER NOT NULL"
    "  REFERENCES feeds(id) ON DELETE CASCADE, PRIMARY KEY (tag, feed_id))"
    "  WITHOUT ROWID;"
    "CREATE INDEX feed_tags_feed ON feed_tags(feed_id);"
    "CREATE TABLE articles (id INTEGER PRIMARY KEY, feed_id INTEGER NOT NULL"
    "  REFERENCES feeds(id) ON DELETE CASCADE, identity TEXT NOT NULL,"
    "  guid TEXT, guid_is_permalink INTEGER NOT NULL DEFAULT 1, link TEXT,"
    "  canon TEXT, title TEXT, author TEXT, authors TEXT, summary TEXT,"
    "  content TEXT, published INTEGER, updated INTEGER, categories TEXT,"
    "  enclosures TEXT, source_title TEXT, source_url TEXT, source_id TEXT,"
    "  first_seen INTEGER NOT NULL, changed_at INTEGER NOT NULL,"
    "  sort_date INTEGER NOT NULL, hash INTEGER NOT NULL,"
    "  in_latest INTEGER NOT NULL DEFAULT 1,"
    "  is_primary INTEGER NOT NULL DEFAULT 1, UNIQUE (feed_id, identity));"
    "CREATE INDEX articles_sort ON articles(sort_date);"
    "CREATE INDEX articles_feed ON articles(feed_id, sort_date);"
    "CREATE INDEX articles_latest ON articles(feed_id) WHERE in_latest = 1;"
    "CREATE INDEX articles_canon ON articles(canon, first_seen)"
    "  WHERE canon IS NOT NULL;"
    "CREATE VIRTUAL TABLE articles_fts USING fts5(title, summary, content,"
    "  content='articles', content_rowid='id');"
    "CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN"
    "  INSERT INTO articles_fts(rowid, title, summary, content)"
    "    VALUES (new.id, new.title, new.summary, new.content);"
    "END;"
    "CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN"
    "  INSERT INTO articles_fts(articles_fts, rowid, title, summary, content)"
    "    VALUES ('delete', old.id, old.title, old.summary, old.content);"
    "END;"
    "CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, summary, content"
    "  ON articles BEGIN"
    "  INSERT INTO articles_fts(articles_fts, rowid, title, summary, content)"
    "    VALUES ('delete', old.id, old.title, old.summary, old.content);"
    "  INSERT INTO articles_fts(rowid, title, summary, content)"
    "    VALUES (new.id, new.title, new.summary, new.content);"
    "END;"
    "PRAGMA user_version = 1;";

/* Items matching the full-text query text, through st. */
static size_t
fts_hits(struct tr_store *st, const char *text)
{
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();
	size_t n;

	q.q = text;
	if (query(st, &q, p, NULL) != 0)
		n = (size_t)-1;
	else
		n = p->n;
	page_free(p);
	free(p);
	return n;
}

/*
 * FTS5's own check of an external-content index against its table
 * (PostgreSQL's search vector is a generated column: nothing to check).
 */
static int
fts_ok(const char *path)
{
	sqlite3 *db = NULL;
	int rc;

	if (is_pg())
		return 1;
	sqlite3_open(path, &db);
	rc = sqlite3_exec(db,
	    "INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')",
	    NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK;
}

/* A version-1 file with two feeds and three articles, migrated. */
static void
test_migrate_v1(void)
{
	SKIP_PG("migrates a version-1 SQLite file");
	char *path = tmp_db();
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf2);
	struct tr_article a;
	sqlite3 *db = NULL;

	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, schema_v1, NULL, NULL, NULL), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db,
		      "PRAGMA journal_mode = WAL;"
		      "INSERT INTO feeds(id, name, url, etag) VALUES"
		      "  (1, 'alpha', 'http://127.0.0.1:1/a.xml', '\"e1\"'),"
		      "  (2, 'beta', 'http://127.0.0.1:1/b.xml', NULL);"
		      "INSERT INTO articles(feed_id, identity, title, summary,"
		      "  first_seen, changed_at, sort_date, hash) VALUES"
		      "  (1, 'a1', 'Walrus news', 'tusks', 10, 10, 10, 1),"
		      "  (1, 'a2', 'Otter news', 'whiskers', 11, 11, 11, 2),"
		      "  (2, 'b1', 'Beta walrus', 'more tusks', 12, 12, 12, 3);"
		      "UPDATE meta SET value = 7 WHERE key = 'generation';",
		      NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(sql_int(path, "PRAGMA user_version"), 11);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 3);
	CHECK_INT(sql_int(path, "SELECT value FROM meta WHERE key = 'fts_done'"),
	    3);
	/* 2 -> 3: no incremental merging of full-text segments. */
	CHECK_INT(sql_int(path, "SELECT v FROM articles_fts_config"
				" WHERE k = 'automerge'"),
	    0);
	CHECK_INT(sql_int(path, "SELECT value FROM meta"
				" WHERE key = 'generation'"),
	    7);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM feeds WHERE etag IS NOT"
				" NULL"),
	    1);
	CHECK(fts_ok(path));
	/* The old index answers, and keeps up with new articles. */
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	CHECK_INT(fts_hits(st, "walrus"), 2);
	CHECK_INT(fts_hits(st, "whiskers"), 1);
	mkart(&a, "a3", NULL, "Walrus again", 13);
	CHECK_INT(store_doc(st, "alpha", &a, 1, NULL), 0);
	tr_article_free(&a);
	CHECK_INT(fts_hits(st, "walrus"), 3);
	CHECK(fts_ok(path));
	tr_store_close(st);
	tr_config_free(cfg);
	rm_db(path);
}

/*
 * Deferred indexing: new rows are searchable only after tr_store_index;
 * updates and deletes of rows not indexed yet leave the index right; a
 * reused id below the mark is indexed at once.
 */
static void
test_fts_deferred(void)
{
	SKIP_PG("SQLite's deferred FTS5 indexing");
	char *path = tmp_db();
	struct tr_store *st = NULL, *ro = NULL;
	struct tr_config *cfg = cfg_from(conf2);
	struct tr_article a[3];
	char sql[128];
	int64_t top;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	tr_store_defer_index(st, 1);
	mkart(&a[0], "d1", NULL, "Narwhal one", 100);
	mkart(&a[1], "d2", NULL, "Narwhal two", 101);
	CHECK_INT(store_doc(st, "alpha", a, 2, NULL), 0);
	free_arts(a, 2);
	CHECK_INT(fts_hits(st, "narwhal"), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 2);
	/* Changed before it was ever indexed: the index gets the new text. */
	mkart(&a[0], "d1", NULL, "Beluga one", 100);
	mkart(&a[1], "d2", NULL, "Narwhal two", 101);
	CHECK_INT(store_doc(st, "alpha", a, 2, NULL), 0);
	free_arts(a, 2);
	CHECK(fts_ok(path));
	CHECK_INT(tr_store_index(st), 0);
	CHECK_INT(fts_hits(st, "narwhal"), 1);
	CHECK_INT(fts_hits(st, "beluga"), 1);
	CHECK(fts_ok(path));
	/* A read-only handle cannot index; it sees what is indexed. */
	CHECK_INT(tr_store_open(&ro, path, TR_STORE_READONLY), 0);
	CHECK_INT(tr_store_index(ro), TR_EINVAL);
	mkart(&a[0], "d3", NULL, "Narwhal three", 102);
	CHECK_INT(store_doc(st, "beta", a, 1, NULL), 0);
	free_arts(a, 1);
	CHECK_INT(fts_hits(ro, "narwhal"), 1);
	/* Deleted before it was indexed: nothing to take out of the index. */
	{
		sqlite3 *db = NULL;

		sqlite3_open(path, &db);
		CHECK_INT(sqlite3_exec(db,
			      "DELETE FROM articles WHERE identity = 'd3'",
			      NULL, NULL, NULL),
		    SQLITE_OK);
		sqlite3_close(db);
	}
	CHECK(fts_ok(path));
	/* Without deferring, the next commit indexes what is left over. */
	tr_store_defer_index(st, 0);
	mkart(&a[0], "d4", NULL, "Narwhal four", 103);
	CHECK_INT(store_doc(st, "beta", a, 1, NULL), 0);
	free_arts(a, 1);
	CHECK_INT(fts_hits(ro, "narwhal"), 2);
	CHECK(fts_ok(path));
	/* The highest row goes; its id comes back below the mark. */
	top = sql_int(path, "SELECT max(id) FROM articles");
	CHECK_INT(sql_int(path, "SELECT value FROM meta WHERE key = 'fts_done'"),
	    top);
	{
		sqlite3 *db = NULL;

		snprintf(sql, sizeof(sql), "DELETE FROM articles WHERE id = %lld",
		    (long long)top);
		sqlite3_open(path, &db);
		CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
	}
	tr_store_defer_index(st, 1);
	mkart(&a[0], "d5", NULL, "Narwhal five", 104);
	CHECK_INT(store_doc(st, "beta", a, 1, NULL), 0);
	free_arts(a, 1);
	CHECK_INT(sql_int(path, "SELECT max(id) FROM articles"), top);
	CHECK_INT(fts_hits(ro, "five"), 1);
	CHECK(fts_ok(path));
	tr_store_close(ro);
	tr_store_close(st);
	tr_config_free(cfg);
	rm_db(path);
}

/*
 * Group commit: nothing is visible to another handle before the group
 * commits; a failing write rolls back alone; the next group starts
 * after a commit.
 */
static void
test_group_commit(void)
{
	char *path = tmp_db();
	struct tr_store *st = NULL, *ro = NULL;
	struct tr_config *cfg = cfg_from(conf2);
	struct tr_feed_state fs;
	struct tr_article a[2];
	struct tr_store_result r;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	CHECK_INT(tr_store_open(&ro, path, TR_STORE_READONLY), 0);
	tr_store_group_begin(st);
	CHECK_INT(tr_store_group_commit(st), 0); /* nothing open: no-op */
	mkart(&a[0], "g1", "http://127.0.0.1/g1", "Group one", 100);
	mkart(&a[1], "g2", "http://127.0.0.1/g2", "Group two", 101);
	CHECK_INT(store_doc(st, "alpha", a, 2, &r), 0);
	CHECK_INT(r.added, 2);
	CHECK_INT(store_doc(st, "beta", a, 1, &r), 0);
	CHECK_INT(r.added, 1);
	free_arts(a, 2);
	memset(&fs, 0, sizeof(fs));
	CHECK_INT(tr_store_feed_get(st, &fs, "alpha"), 0);
	free(fs.etag);
	fs.etag = strdup("\"v1\"");
	CHECK_INT(tr_store_feed_save(st, &fs), 0);
	tr_feed_state_free(&fs);
	/* An unknown feed fails inside the group and rolls back alone. */
	memset(&fs, 0, sizeof(fs));
	fs.name = strdup("nosuch");
	CHECK_INT(tr_store_feed_save(st, &fs), TR_ENOTFOUND);
	tr_feed_state_free(&fs);
	/* The writer sees its own group; another handle does not yet. */
	CHECK_INT(fts_hits(st, "group"), 2);
	{
		struct tr_store_stats stats;

		CHECK_INT(tr_store_stats(ro, &stats), 0);
		CHECK_INT(stats.articles, 0);
	}
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 0);
	CHECK_INT(tr_store_group_commit(st), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 3);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM feeds WHERE etag ="
				" '\"v1\"'"),
	    1);
	/* A second group, ended by tr_store_group_end. */
	mkart(&a[0], "g3", NULL, "Group three", 102);
	CHECK_INT(store_doc(st, "beta", a, 1, NULL), 0);
	free_arts(a, 1);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 3);
	CHECK_INT(tr_store_group_end(st), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 4);
	/* After the end, every write commits by itself again. */
	mkart(&a[0], "g4", NULL, "Group four", 103);
	CHECK_INT(store_doc(st, "beta", a, 1, NULL), 0);
	free_arts(a, 1);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 5);
	CHECK_INT(fts_hits(ro, "group"), 4);
	CHECK(fts_ok(path));
	tr_store_close(ro);
	tr_store_close(st);
	tr_config_free(cfg);
	rm_db(path);
}

/* One line per feed of every field tr_store_feeds() gives, the article
 * count as "+" when non-zero (all: as the number). */
struct states_seen {
	char text[2048];
	int all;
};

static int
states_cb(const struct tr_feed_state *fs, void *arg)
{
	struct states_seen *s = arg;
	size_t len = strlen(s->text);
	char n[32];

	if (s->all)
		snprintf(n, sizeof(n), "%lld", (long long)fs->n_articles);
	else
		snprintf(n, sizeof(n), "%s", fs->n_articles ? "+" : "0");
	snprintf(s->text + len, sizeof(s->text) - len,
	    "%s|%s|%s|%s|%s|%lld|%lld|%lld|%d|%d|%d|%d|%s;", fs->name,
	    fs->url, fs->effective_url ? fs->effective_url : "-",
	    fs->title ? fs->title : "-", fs->etag ? fs->etag : "-",
	    (long long)fs->last_check, (long long)fs->next_check,
	    (long long)fs->removed_at, fs->active, fs->enabled, fs->disabled,
	    fs->last_status, n);
	return 0;
}

/*
 * tr_store_feed_states() gives what tr_store_feeds() gives, except
 * that n_articles only says whether there are any: feeds of 0, 1 and 3
 * articles, one removed from the config, on the writable handle and on
 * a read-only one that follows a config (tr_store_use_config).
 */
static void
test_feed_states(void)
{
	static const char text[] = "[feed \"a\"]\nurl = http://127.0.0.1:1/a\n"
				   "[feed \"b\"]\nurl = http://127.0.0.1:1/b\n"
				   "title = Bee\n"
				   "[feed \"c\"]\nurl = http://127.0.0.1:1/c\n"
				   "[feed \"d\"]\nurl = http://127.0.0.1:1/d\n";
	static const struct {
		const char *feed;
		size_t n;
	} docs[] = {{"b", 1}, {"c", 3}, {"d", 2}};
	static const char want_all[] =
	    "a|http://127.0.0.1:1/a|-|-|-|0|0|0|1|1|0|0|0;"
	    "b|http://127.0.0.1:1/b|-|Bee|-|0|0|0|1|1|0|0|1;"
	    "c|http://127.0.0.1:1/c|-|-|-|0|0|0|1|1|0|0|3;"
	    "d|http://127.0.0.1:1/d|-|-|-|0|0|1000000|0|1|0|0|2;";
	char *path = tmp_db();
	struct tr_config *cfg = cfg_from(text), *less;
	struct tr_store *st = NULL, *ro = NULL;
	struct tr_article v[3];
	struct tr_store_result r;
	size_t i, k;
	int h;

	/* d leaves the config after its articles are stored. */
	less = cfg_from("[feed \"a\"]\nurl = http://127.0.0.1:1/a\n"
			"[feed \"b\"]\nurl = http://127.0.0.1:1/b\n"
			"title = Bee\n"
			"[feed \"c\"]\nurl = http://127.0.0.1:1/c\n");
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	tr_store_set_now(st, 1000000);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		for (k = 0; k < docs[i].n; k++) {
			char id[32], link[64];

			snprintf(id, sizeof(id), "%s-%zu", docs[i].feed, k);
			snprintf(link, sizeof(link), "http://127.0.0.1:1/%s",
			    id);
			mkart(&v[k], id, link, id, 900000 + (int64_t)k);
		}
		CHECK_INT(store_doc(st, docs[i].feed, v, docs[i].n, &r), 0);
		free_arts(v, docs[i].n);
	}
	CHECK_INT(tr_store_sync_config(st, less), 0);
	CHECK_INT(tr_store_open(&ro, path, TR_STORE_READONLY), 0);
	CHECK_INT(tr_store_use_config(ro, less), 0);
	for (h = 0; h < 2; h++) {
		struct tr_store *x = h ? ro : st;
		struct states_seen all, any;
		char want_any[sizeof(want_all)], *p;

		memset(&all, 0, sizeof(all));
		memset(&any, 0, sizeof(any));
		all.all = 1;
		CHECK_INT(tr_store_feeds(x, states_cb, &all), 0);
		CHECK_INT(tr_store_feed_states(x, states_cb, &any), 0);
		CHECK_STR_CASE(h ? "read-only, config" : "writable", all.text,
		    want_all);
		/* The same with each non-zero count as "+". */
		snprintf(want_any, sizeof(want_any), "%s", want_all);
		for (p = want_any; (p = strchr(p, ';')) != NULL; p++)
			if (p[-1] != '0')
				p[-1] = '+';
		CHECK_STR_CASE(h ? "read-only, config" : "writable", any.text,
		    want_any);
	}
	tr_store_close(ro);
	tr_store_close(st);
	rm_db(path);
	tr_config_free(cfg);
	tr_config_free(less);
}

TR_TESTS(test_open_memory, test_open_file_schema, test_newer_refused,
    test_readonly, test_bad_file, test_sync_config, test_disabled_in_config,
    test_feed_state_roundtrip, test_feeds_stamp, test_store_doc_dedup,
    test_same_identity_in_document, test_interleaved_batches, test_meta_title,
    test_record_roundtrip, test_migrate_v1, test_fts_deferred,
    test_group_commit, test_feed_states)
