/*
 * test_store_removed.c — feeds removed from the config (they leave the
 * merged feed and search at once, come back with their history within
 * removed_keep, are deleted after it or by tr_store_purge) and reading
 * with the config at hand (tr_store_use_config).
 */
#include "test_store_util.h"

#define DAY 86400
#define T0 1733400000 /* 2024-12-05 */

static const char conf_ab[] = "[tributary]\n"
			      "removed_keep = 10d\n"
			      "[feed \"a\"]\nurl = http://127.0.0.1:9/a\n"
			      "tags = t\n"
			      "[feed \"b\"]\nurl = http://127.0.0.1:9/b\n"
			      "tags = t\n";
static const char conf_a[] = "[tributary]\n"
			     "removed_keep = 10d\n"
			     "[feed \"a\"]\nurl = http://127.0.0.1:9/a\n"
			     "tags = t\n";

/* Items of page joined as "feed:id feed:id ...". */
static void
page_str(char *out, size_t size, const struct page *p)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < p->n && len < size; i++)
		len += (size_t)snprintf(out + len, size - len, "%s%s:%s",
		    i ? " " : "", p->items[i].feed, p->items[i].id);
}

/* a has a1 (own link) and s (shared link, first seen in b); b has b1, s. */
static struct tr_store *
setup(char **path, struct tr_config *cfg)
{
	struct tr_article av[2], bv[2];
	struct tr_store *st = NULL;

	*path = tmp_db();
	CHECK_INT(tr_store_open(&st, *path, 0), 0);
	tr_store_set_now(st, T0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	mkart(&bv[0], "b1", "http://x.test/b1", "bee one", T0 - 300);
	mkart(&bv[1], "bs", "http://x.test/shared", "shared story", T0 - 200);
	CHECK_INT(store_doc(st, "b", bv, 2, NULL), 0);
	mkart(&av[0], "a1", "http://x.test/a1", "ay one", T0 - 100);
	mkart(&av[1], "as", "http://x.test/shared", "shared story", T0 - 200);
	CHECK_INT(store_doc(st, "a", av, 2, NULL), 0);
	free_arts(av, 2);
	free_arts(bv, 2);
	return st;
}

static void
check_query(struct tr_store *st, const char *what, const char *tag,
    const char *q, const char *want)
{
	struct tr_query qq = q_all();
	struct page *p = calloc(1, sizeof(*p));
	char got[1024];

	qq.tag = tag;
	qq.q = q;
	CHECK_INT(query(st, &qq, p, NULL), 0);
	page_str(got, sizeof(got), p);
	CHECK_STR_CASE(what, got, want);
	page_free(p);
	free(p);
}

/* Removing b: its articles leave every view at once, the shared story
 * stays (carried by a); adding b back brings its history back. */
static void
test_removed_leaves_merged_and_search(void)
{
	struct tr_config *ab = cfg_from(conf_ab), *a = cfg_from(conf_a);
	char *path = NULL;
	struct tr_store *st = setup(&path, ab);

	check_query(st, "both, merged", NULL, NULL, "a:a1 b:bs b:b1");
	CHECK_INT(tr_store_sync_config(st, a), 0);
	check_query(st, "b removed, merged", NULL, NULL, "a:a1 a:as");
	check_query(st, "b removed, tag", "t", NULL, "a:a1 a:as");
	check_query(st, "b removed, search own", NULL, "bee", "");
	check_query(st, "b removed, search shared", NULL, "shared", "a:as");
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 4);
	CHECK_INT(sql_int(path, "SELECT removed_at FROM feeds WHERE name='b'"),
	    T0);
	/* Added back within removed_keep: the history is there again. */
	CHECK_INT(tr_store_sync_config(st, ab), 0);
	CHECK_INT(sql_int(path, "SELECT removed_at FROM feeds WHERE name='b'"),
	    0);
	check_query(st, "b back, merged", NULL, NULL, "a:a1 b:bs b:b1");
	check_query(st, "b back, search", NULL, "bee", "b:b1");
	tr_store_close(st);
	rm_db(path);
	tr_config_free(ab);
	tr_config_free(a);
}

/* Retention deletes a removed feed removed_keep after it left. */
static void
test_removed_keep(void)
{
	static const struct {
		int64_t after; /* seconds since b left */
		int64_t want_b; /* b's articles left */
	} cases[] = {
	    {0, 2},
	    {9 * DAY, 2},
	    {10 * DAY - 1, 2},
	    {10 * DAY, 0},
	    {40 * DAY, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tr_config *ab = cfg_from(conf_ab), *a = cfg_from(conf_a);
		char *path = NULL, what[64];
		struct tr_store *st = setup(&path, ab);
		int64_t deleted = -1;

		snprintf(what, sizeof(what), "after %llds",
		    (long long)cases[i].after);
		CHECK_INT(tr_store_sync_config(st, a), 0);
		CHECK_INT(tr_store_retention(st, a, T0 + cases[i].after,
			      &deleted),
		    0);
		CHECK_INT(sql_int(path, "SELECT count(*) FROM articles a JOIN"
					" feeds f ON f.id = a.feed_id"
					" WHERE f.name = 'b'"),
		    cases[i].want_b);
		CHECK_INT(deleted, 2 - cases[i].want_b);
		CHECK_INT(sql_int(path, "SELECT count(*) FROM feeds"),
		    cases[i].want_b ? 2 : 1);
		/* a is untouched, and so is the shared story. */
		check_query(st, what, NULL, NULL, "a:a1 a:as");
		tr_store_close(st);
		rm_db(path);
		tr_config_free(ab);
		tr_config_free(a);
	}
}

static void
test_purge(void)
{
	struct tr_config *ab = cfg_from(conf_ab), *a = cfg_from(conf_a);
	char *path = NULL;
	struct tr_store *st = setup(&path, ab);
	int64_t n = -1;

	CHECK_INT(tr_store_sync_config(st, a), 0);
	CHECK_INT(tr_store_purge(st, "b", &n), 0);
	CHECK_INT(n, 2);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM feeds WHERE name='b'"), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 2);
	CHECK_INT(tr_store_purge(st, "b", &n), TR_ENOTFOUND);
	CHECK_INT(tr_store_purge(st, "nosuch", NULL), TR_ENOTFOUND);
	check_query(st, "after purge", NULL, NULL, "a:a1 a:as");
	/* The primary row of the shared link is a's, and searchable. */
	check_query(st, "search after purge", NULL, "shared", "a:as");
	tr_store_close(st);
	rm_db(path);
	tr_config_free(ab);
	tr_config_free(a);
}

/* Read-only handles, each with its own config, over one database. */
static void
test_use_config(void)
{
	static const char conf_c[] =
	    "[tributary]\n"
	    "[feed \"a\"]\nurl = http://127.0.0.1:9/a\ntitle = Renamed\n"
	    "tags = fresh\nmax_per_feed = 1\n"
	    "[feed \"n\"]\nurl = http://127.0.0.1:9/n\n";
	struct tr_config *ab = cfg_from(conf_ab), *c = cfg_from(conf_c);
	struct tr_store *ro1 = NULL, *ro2 = NULL;
	struct tr_feed_state fs;
	char *path = NULL;
	struct tr_store *st = setup(&path, ab);
	int64_t gen0 = 0, gen1 = 0, at = 0;

	CHECK_INT(tr_store_generation(st, &gen0, &at), 0);
	CHECK_INT(tr_store_open(&ro1, path, TR_STORE_READONLY), 0);
	CHECK_INT(tr_store_open(&ro2, path, TR_STORE_READONLY), 0);
	CHECK_INT(tr_store_use_config(ro1, c), 0);
	CHECK_INT(tr_store_use_config(ro2, ab), 0);
	/* c: only a, capped to one per page, under its new tag. */
	check_query(ro1, "c merged", NULL, NULL, "a:a1");
	check_query(ro1, "c new tag", "fresh", NULL, "a:a1");
	check_query(ro1, "c old tag", "t", NULL, "");
	CHECK_INT(tr_store_feed_get(ro1, &fs, "a"), 0);
	CHECK_STR(fs.title, "Renamed");
	CHECK_INT(fs.active, 1);
	tr_feed_state_free(&fs);
	CHECK_INT(tr_store_feed_get(ro1, &fs, "b"), 0);
	CHECK_INT(fs.active, 0);
	CHECK_INT(fs.n_articles, 2);
	tr_feed_state_free(&fs);
	CHECK_INT(tr_store_feed_get(ro1, &fs, "n"), 0);
	CHECK_INT(fs.active, 1);
	CHECK_INT(fs.n_articles, 0);
	CHECK_INT(fs.last_check, 0);
	tr_feed_state_free(&fs);
	/* The shared story's primary row is b's (seen first), which c does
	 * not list: a's row stands for it through c's handle. */
	{
		struct tr_config *only_a = cfg_from(conf_a);
		struct tr_store *ro3 = NULL;

		CHECK_INT(tr_store_open(&ro3, path, TR_STORE_READONLY), 0);
		CHECK_INT(tr_store_use_config(ro3, only_a), 0);
		check_query(ro3, "a merged", NULL, NULL, "a:a1 a:as");
		check_query(ro3, "a searched", NULL, "shared", "a:as");
		check_query(ro3, "a tag", "t", NULL, "a:a1 a:as");
		tr_store_close(ro3);
		tr_config_free(only_a);
	}
	/* ab, on another handle at the same time: unchanged by c. */
	check_query(ro2, "ab merged", NULL, NULL, "a:a1 b:bs b:b1");
	check_query(ro2, "ab tag", "t", NULL, "a:a1 b:bs b:b1");
	check_query(ro2, "ab new tag", "fresh", NULL, "");
	/* Nothing was written. */
	CHECK_INT(tr_store_generation(st, &gen1, &at), 0);
	CHECK_INT(gen1, gen0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM feeds"), 2);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM feeds WHERE active=1"),
	    2);
	/* The polling state shows live through a config's handle. */
	CHECK_INT(tr_store_feed_get(st, &fs, "a"), 0);
	fs.last_check = T0 + 5;
	fs.errors = 3;
	CHECK_INT(tr_store_feed_save(st, &fs), 0);
	tr_feed_state_free(&fs);
	CHECK_INT(tr_store_feed_get(ro1, &fs, "a"), 0);
	CHECK_INT(fs.last_check, T0 + 5);
	CHECK_INT(fs.errors, 3);
	CHECK_STR(fs.title, "Renamed");
	tr_feed_state_free(&fs);
	/*
	 * The writer syncing c (b leaves the config file) keeps every feed
	 * of ab on ab's handle: the shared story stays, once, by b's row
	 * (seen first); applying c there shows c's.
	 */
	CHECK_INT(tr_store_sync_config(st, c), 0);
	CHECK_INT(tr_store_use_config(ro2, ab), 0);
	check_query(ro2, "ab after sync c", NULL, NULL, "a:a1 b:bs b:b1");
	check_query(ro2, "ab tag after sync c", "t", NULL, "a:a1 b:bs b:b1");
	CHECK_INT(tr_store_use_config(ro2, c), 0);
	check_query(ro2, "now c", NULL, NULL, "a:a1");
	check_query(ro2, "now c, tag", "fresh", NULL, "a:a1");
	tr_store_close(ro1);
	tr_store_close(ro2);
	tr_store_close(st);
	rm_db(path);
	tr_config_free(ab);
	tr_config_free(c);
}

/*
 * Two config files sharing one store: x lists a and s, y lists b and s.
 * Syncing one never removes (nor, through retention, deletes) the
 * other's feeds; a feed is removed when no config lists it any more,
 * and deleted removed_keep later. Each case: the configs synced in turn
 * ("x" = x as it was, "x-" = x without s, "y-" = y without s), then
 * retention after `after` seconds through the last config.
 */
static void
test_shared_configs(void)
{
	static const char conf_x[] = "[tributary]\nremoved_keep = 10d\n"
				     "[feed \"a\"]\nurl = http://127.0.0.1:9/a\n"
				     "[feed \"s\"]\nurl = http://127.0.0.1:9/s\n";
	static const char conf_xm[] = "[tributary]\nremoved_keep = 10d\n"
				      "[feed \"a\"]\nurl = http://127.0.0.1:9/a\n";
	static const char conf_y[] = "[tributary]\nremoved_keep = 10d\n"
				     "[feed \"b\"]\nurl = http://127.0.0.1:9/b\n"
				     "[feed \"s\"]\nurl = http://127.0.0.1:9/s\n";
	static const char conf_ym[] = "[tributary]\nremoved_keep = 10d\n"
				      "[feed \"b\"]\nurl = http://127.0.0.1:9/b\n";
	static const struct {
		const char *syncs; /* space-separated: x x- y y- */
		int64_t after;
		const char *active;  /* feeds active, by name */
		const char *present; /* feeds stored after retention */
	} cases[] = {
	    {"x y x", 0, "a b s", "a b s"},
	    {"x y x", 40 * DAY, "a b s", "a b s"},
	    {"y x", 40 * DAY, "a b s", "a b s"},
	    {"x y x- x-", 40 * DAY, "a b s", "a b s"},
	    {"x y y-", 40 * DAY, "a b s", "a b s"},
	    {"x y x- y-", 0, "a b", "a b s"},
	    {"x y x- y-", 10 * DAY - 1, "a b", "a b s"},
	    {"x y x- y-", 10 * DAY, "a b", "a b"},
	    {"x y y- x-", 10 * DAY, "a b", "a b"},
	    /* Back within removed_keep: active again, nothing lost. */
	    {"x y x- y- y", 40 * DAY, "a b s", "a b s"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tr_config *x = cfg_named(conf_x, "x"),
				 *xm = cfg_named(conf_xm, "x"),
				 *y = cfg_named(conf_y, "y"),
				 *ym = cfg_named(conf_ym, "y"), *last = x;
		char *path = tmp_db(), *list = strdup(cases[i].syncs), *tok,
		     *save = NULL, got[64];
		struct tr_store *st = NULL;
		struct tr_article art;

		CHECK_INT(tr_store_open(&st, path, 0), 0);
		tr_store_set_now(st, T0);
		for (tok = strtok_r(list, " ", &save); tok;
		     tok = strtok_r(NULL, " ", &save)) {
			last = strcmp(tok, "x") == 0	? x
			       : strcmp(tok, "x-") == 0 ? xm
			       : strcmp(tok, "y") == 0	? y
							: ym;
			CHECK_INT(tr_store_sync_config(st, last), 0);
			if (sql_int(path, "SELECT count(*) FROM articles") ==
			    0) {
				mkart(&art, "s1", "http://x.test/s1", "ess",
				    T0 - 100);
				CHECK_INT(store_doc(st, "s", &art, 1, NULL),
				    0);
				free_arts(&art, 1);
			}
		}
		sql_text(path,
		    is_pg() ? "SELECT string_agg(name, ' ' ORDER BY name)"
			      " FROM feeds WHERE active = 1"
			    : "SELECT group_concat(name, ' ') FROM (SELECT"
			      " name FROM feeds WHERE active = 1 ORDER BY"
			      " name)",
		    got, sizeof(got));
		CHECK_STR_CASE(cases[i].syncs, got, cases[i].active);
		CHECK_INT(tr_store_retention(st, last, T0 + cases[i].after,
			      NULL),
		    0);
		sql_text(path,
		    is_pg() ? "SELECT string_agg(name, ' ' ORDER BY name)"
			      " FROM feeds"
			    : "SELECT group_concat(name, ' ') FROM (SELECT"
			      " name FROM feeds ORDER BY name)",
		    got, sizeof(got));
		CHECK_STR_CASE(cases[i].syncs, got, cases[i].present);
		CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"),
		    strstr(cases[i].present, "s") ? 1 : 0);
		tr_store_close(st);
		rm_db(path);
		free(list);
		tr_config_free(x);
		tr_config_free(xm);
		tr_config_free(y);
		tr_config_free(ym);
	}
}

static int
name_cb(const struct tr_feed_state *fs, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 256 - strlen(out), "%s%s%s",
	    out[0] ? " " : "", fs->name, fs->active ? "" : "(removed)");
	return 0;
}

/* Reading with one config of two: the other's feeds are not listed. */
static void
test_other_config_unlisted(void)
{
	static const char conf_x[] = "[feed \"a\"]\nurl = http://127.0.0.1:9/a\n"
				     "[feed \"s\"]\nurl = http://127.0.0.1:9/s\n";
	static const char conf_y[] = "[feed \"b\"]\nurl = http://127.0.0.1:9/b\n"
				     "[feed \"s\"]\nurl = http://127.0.0.1:9/s\n";
	static const char conf_y2[] = "[feed \"s\"]\nurl = http://127.0.0.1:9/s\n";
	struct tr_config *x = cfg_named(conf_x, "x"), *y = cfg_named(conf_y, "y"),
			 *y2 = cfg_named(conf_y2, "y");
	struct tr_store *st = NULL, *ro = NULL;
	struct tr_feed_state fs;
	char *path = tmp_db(), names[256];

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, x), 0);
	CHECK_INT(tr_store_sync_config(st, y), 0);
	CHECK_INT(tr_store_open(&ro, path, TR_STORE_READONLY), 0);
	CHECK_INT(tr_store_use_config(ro, x), 0);
	names[0] = '\0';
	CHECK_INT(tr_store_feeds(ro, name_cb, names), 0);
	CHECK_STR(names, "a s");
	CHECK_INT(tr_store_feed_get(ro, &fs, "b"), TR_ENOTFOUND);
	/* y drops b: no config lists it, so x's reader shows it removed. */
	CHECK_INT(tr_store_sync_config(st, y2), 0);
	names[0] = '\0';
	CHECK_INT(tr_store_feeds(ro, name_cb, names), 0);
	CHECK_STR(names, "a b(removed) s");
	tr_store_close(ro);
	tr_store_close(st);
	rm_db(path);
	tr_config_free(x);
	tr_config_free(y);
	tr_config_free(y2);
}

/*
 * A database that is gone while what it left beside it is there: a
 * writer refuses to put an empty one in its place, and says what to do;
 * with nothing left, it creates one (and its marker).
 */
static void
test_gone_database(void)
{
	static const struct {
		const char *left; /* suffix of a file left, or NULL */
		int want;
	} cases[] = {
	    {NULL, 0},
	    {"-tributary", TR_ESTORE},
	    {"-wal", TR_ESTORE},
	    {"-shm", TR_ESTORE},
	};
	size_t i;

	SKIP_PG("an SQLite file and the files beside it");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *path = tmp_db(), f[512];
		struct tr_store *st = NULL;
		FILE *fp;

		unlink(path); /* tmp_db made an empty file */
		if (cases[i].left) {
			snprintf(f, sizeof(f), "%s%s", path, cases[i].left);
			if ((fp = fopen(f, "w")) != NULL)
				fclose(fp);
		}
		/* A reader never creates anything. */
		CHECK_INT(tr_store_open(&st, path, TR_STORE_READONLY),
		    TR_ENOTFOUND);
		tr_store_close(st);
		st = NULL;
		CHECK_INT(tr_store_open(&st, path, 0), cases[i].want);
		if (cases[i].want != 0) {
			CHECK(strstr(tr_store_errmsg(st), "backup") != NULL);
			CHECK(strstr(tr_store_errmsg(st), f) != NULL);
			CHECK_INT(access(path, F_OK), -1);
		} else {
			snprintf(f, sizeof(f), "%s-tributary", path);
			CHECK_INT(access(f, F_OK), 0);
		}
		tr_store_close(st);
		rm_db(path);
	}
}

/* A database made before the marker gets it at the next writer's open. */
static void
test_marker_added(void)
{
	SKIP_PG("adds the marker to an SQLite file by hand");
	char *path = tmp_db(), f[512];
	struct tr_store *st = NULL;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	tr_store_close(st);
	snprintf(f, sizeof(f), "%s-tributary", path);
	CHECK_INT(unlink(f), 0);
	CHECK_INT(tr_store_open(&st, path, TR_STORE_READONLY), 0);
	tr_store_close(st);
	CHECK_INT(access(f, F_OK), -1);
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	tr_store_close(st);
	CHECK_INT(access(f, F_OK), 0);
	/* Deleted now: refused. */
	unlink(path);
	CHECK_INT(tr_store_open(&st, path, 0), TR_ESTORE);
	tr_store_close(st);
	rm_db(path);
}

/* A schema-3 database gets removed_at, its removed feeds stamped. */
static void
test_migrate_v3(void)
{
	SKIP_PG("migrates a version-3 SQLite file");
	struct tr_config *ab = cfg_from(conf_ab), *a = cfg_from(conf_a);
	char *path = NULL;
	struct tr_store *st = setup(&path, ab);
	sqlite3 *db = NULL;

	CHECK_INT(tr_store_sync_config(st, a), 0);
	tr_store_close(st);
	st = NULL;
	/* Back to schema 3 by hand: no removed_at column (nor the lease's
	 * of schema 5, nor articles.image of schema 6, nor the index of
	 * schema 7, nor the feed_configs of schema 8, nor the text index of
	 * schema 9, nor the feed's author of schema 10). */
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	CHECK_INT(sqlite3_exec(db, "DROP TRIGGER articles_fts_ai;"
				   "DROP TRIGGER articles_fts_ad;"
				   "DROP TRIGGER articles_fts_au;"
				   "DROP TABLE articles_fts;"
				   "ALTER TABLE articles DROP COLUMN body_text;"
				   "ALTER TABLE feeds DROP COLUMN doc_author;"
				   "ALTER TABLE articles DROP COLUMN raw_hash;"
				   "ALTER TABLE feeds DROP COLUMN removed_at;"
				   "ALTER TABLE feeds DROP COLUMN lease_owner;"
				   "ALTER TABLE feeds DROP COLUMN lease_until;"
				   "ALTER TABLE articles DROP COLUMN image;"
				   "DROP INDEX articles_primary;"
				   "DROP TABLE feed_configs;"
				   "PRAGMA user_version = 3;",
		      NULL, NULL, NULL),
	    SQLITE_OK);
	sqlite3_close(db);
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(sql_int(path, "PRAGMA user_version"), 11);
	CHECK(sql_int(path, "SELECT removed_at FROM feeds WHERE name='b'") >
	      T0);
	CHECK_INT(sql_int(path, "SELECT removed_at FROM feeds WHERE name='a'"),
	    0);
	/* Schema 8: the feeds in the config are listed by an unnamed one. */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM feed_configs"
				" WHERE config = '' AND feed_id ="
				" (SELECT id FROM feeds WHERE name = 'a')"),
	    1);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM feed_configs"), 1);
	tr_store_close(st);
	rm_db(path);
	tr_config_free(ab);
	tr_config_free(a);
}

TR_TESTS(test_removed_leaves_merged_and_search, test_removed_keep,
    test_purge, test_use_config, test_shared_configs, test_other_config_unlisted, test_gone_database, test_marker_added,
    test_migrate_v3)
