/*
 * test_store_sync.c — several nodes reconciling their configs against
 * one store at once (processes here, hosts in production): every sync
 * succeeds, the store ends with each config's feeds, tags and
 * memberships exactly once, and syncing again changes nothing. And the
 * writes of this part of the store refused through a read-only handle,
 * leaving the store as it was.
 */
#include <sys/wait.h>

#include "test_store_util.h"

static const char conf_x[] = "[feed \"a\"]\nurl = http://127.0.0.1:9/a\n"
			     "tags = one, two\n"
			     "[feed \"s\"]\nurl = http://127.0.0.1:9/s\n"
			     "title = Shared\ntags = news\n";
static const char conf_y[] = "[feed \"b\"]\nurl = http://127.0.0.1:9/b\n"
			     "tags = two\n"
			     "[feed \"s\"]\nurl = http://127.0.0.1:9/s\n"
			     "title = Shared\ntags = news\n";
static const char conf_z[] = "[feed \"c\"]\nurl = http://127.0.0.1:9/c\n"
			     "title = Cee\n";

#define ROUNDS 8

static int
names_cb(const struct tr_feed_state *fs, void *arg)
{
	char *out = arg;

	snprintf(out + strlen(out), 256 - strlen(out), "%s%s%s%s",
	    out[0] ? " " : "", fs->name, fs->active ? "" : "(removed)",
	    fs->title && strcmp(fs->title, "Shared") == 0 ? "=Shared" : "");
	return 0;
}

/* The config named by c: x, y or z. */
static struct tr_config *
pick(struct tr_config *const *cfgs, char c)
{
	return cfgs[c - 'x'];
}

static void
test_concurrent_syncs(void)
{
	static const struct {
		const char *nodes; /* one config per node: x, y or z */
		const char *feeds; /* the feeds listed after */
		int64_t memberships, tags;
	} cases[] = {
	    {"xxxx", "a s=Shared", 2, 3},
	    {"xyxy", "a b s=Shared", 4, 4},
	    {"xyz", "a b c s=Shared", 5, 4},
	    {"zzz", "c", 1, 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tr_config *cfgs[3] = {cfg_named(conf_x, "x"),
		    cfg_named(conf_y, "y"), cfg_named(conf_z, "z")};
		const char *nodes = cases[i].nodes;
		char *path = tmp_db(), names[256] = "";
		struct tr_store *st = NULL;
		pid_t pids[8];
		int64_t g0 = 0, g1 = 0;
		size_t j, n = strlen(nodes);

		/* The schema exists before the nodes start. */
		CHECK_INT(tr_store_open(&st, path, 0), 0);
		tr_store_close(st);
		st = NULL;
		for (j = 0; j < n; j++) {
			if ((pids[j] = fork()) == 0) {
				struct tr_store *node = NULL;
				int k, bad = 0;

				if (tr_store_open(&node, path, 0) != 0)
					_exit(2);
				for (k = 0; k < ROUNDS && !bad; k++)
					if (tr_store_sync_config(node,
						pick(cfgs, nodes[j])) != 0) {
						printf("  node %zu: %s\n", j,
						    tr_store_errmsg(node));
						bad = 1;
					}
				tr_store_close(node);
				_exit(bad);
			}
		}
		for (j = 0; j < n; j++) {
			int status = -1;

			waitpid(pids[j], &status, 0);
			CHECK_STR_CASE(nodes, WIFEXITED(status) &&
			    WEXITSTATUS(status) == 0 ? "synced" : "failed",
			    "synced");
		}
		CHECK_INT(tr_store_open(&st, path, 0), 0);
		CHECK_INT(tr_store_feeds(st, names_cb, names), 0);
		CHECK_STR_CASE(nodes, names, cases[i].feeds);
		CHECK_INT(sql_int(path, "SELECT count(*) FROM feed_configs"),
		    cases[i].memberships);
		CHECK_INT(sql_int(path, "SELECT count(*) FROM feed_tags"),
		    cases[i].tags);
		/* Again, one node after the other: nothing changes. */
		CHECK_INT(tr_store_generation(st, &g0, NULL), 0);
		for (j = 0; j < n; j++)
			CHECK_INT(tr_store_sync_config(st,
				      pick(cfgs, nodes[j])),
			    0);
		CHECK_INT(tr_store_generation(st, &g1, NULL), 0);
		CHECK_INT(g1, g0);
		tr_store_close(st);
		rm_db(path);
		for (j = 0; j < 3; j++)
			tr_config_free(cfgs[j]);
	}
}

/* Each write of feeds and configs through a read-only handle. */
static int
try_write(struct tr_store *ro, struct tr_config *cfg, int which)
{
	static char name[] = "a", moved[] = "http://127.0.0.1:9/moved";
	struct tr_feed_state fs;
	int64_t n = 0;

	switch (which) {
	case 0:
		return tr_store_sync_config(ro, cfg);
	case 1:
		return tr_store_config_seen(ro, cfg);
	case 2:
		memset(&fs, 0, sizeof(fs));
		fs.name = name;
		fs.effective_url = moved;
		fs.disabled = 1;
		return tr_store_feed_save(ro, &fs);
	case 3:
		return tr_store_purge(ro, "a", &n);
	default:
		return tr_store_retention(ro, cfg, (int64_t)1 << 40, &n);
	}
}

static void
test_readonly_refuses(void)
{
	static const char *const what[] = {"sync_config", "config_seen",
	    "feed_save", "purge", "retention"};
	struct tr_config *cfg = cfg_named(conf_x, "x"),
			 *other = cfg_named(conf_z, "x");
	struct tr_store *st = NULL, *ro = NULL;
	struct tr_feed_state fs;
	char *path = tmp_db();
	int64_t g0 = 0, g1 = 0;
	size_t i;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	CHECK_INT(tr_store_open(&ro, path, TR_STORE_READONLY), 0);
	CHECK_INT(tr_store_generation(st, &g0, NULL), 0);
	for (i = 0; i < sizeof(what) / sizeof(what[0]); i++) {
		const char *m;

		CHECK_STR_CASE(what[i],
		    try_write(ro, i == 0 ? other : cfg, (int)i) != 0
			? "refused"
			: "written",
		    "refused");
		m = tr_store_errmsg(ro);
		/* A message, never the statement behind it. */
		CHECK_STR_CASE(what[i],
		    strstr(m, "SELECT") || strstr(m, "UPDATE") ||
			    strstr(m, "feed_configs")
			? m
			: "clean",
		    "clean");
	}
	CHECK_INT(tr_store_generation(st, &g1, NULL), 0);
	CHECK_INT(g1, g0);
	CHECK_INT(tr_store_feed_get(st, &fs, "a"), 0);
	CHECK_STR(fs.effective_url, NULL);
	CHECK_INT(fs.disabled, 0);
	CHECK_INT(fs.active, 1);
	tr_feed_state_free(&fs);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM feeds"), 2);
	tr_store_close(ro);
	tr_store_close(st);
	tr_config_free(cfg);
	tr_config_free(other);
	rm_db(path);
}

/*
 * Titles the config reader lets through although they are not UTF-8
 * (Latin-1 bytes, a cut sequence): the sync stores the feed (SQLite as
 * written, PostgreSQL with U+FFFD for the bad bytes), syncing again
 * changes nothing, and a reader with the config lists it.
 */
static void
test_title_not_utf8(void)
{
	static const struct {
		const char *title, *pg; /* as written; as PostgreSQL keeps it */
	} cases[] = {
	    {"caf\xe9 bar", "caf\xef\xbf\xbd bar"},
	    {"cut \xe2\x82", "cut \xef\xbf\xbd\xef\xbf\xbd"},
	    {"\xff", "\xef\xbf\xbd"},
	    {"fine \xe2\x82\xac", "fine \xe2\x82\xac"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256], names[256] = "";
		struct tr_config *cfg;
		struct tr_store *st = NULL, *ro = NULL;
		struct tr_feed_state fs;
		char *path = tmp_db();
		int64_t g0 = 0, g1 = 0;

		snprintf(text, sizeof(text),
		    "[feed \"a\"]\nurl = http://127.0.0.1:9/a\ntitle = %s\n",
		    cases[i].title);
		cfg = cfg_named(text, "t");
		CHECK_INT(tr_store_open(&st, path, 0), 0);
		CHECK_INT(tr_store_sync_config(st, cfg), 0);
		CHECK_INT(tr_store_feed_get(st, &fs, "a"), 0);
		CHECK_STR_CASE(cases[i].pg, fs.title,
		    is_pg() ? cases[i].pg : cases[i].title);
		tr_feed_state_free(&fs);
		CHECK_INT(tr_store_generation(st, &g0, NULL), 0);
		CHECK_INT(tr_store_sync_config(st, cfg), 0);
		CHECK_INT(tr_store_generation(st, &g1, NULL), 0);
		CHECK_INT(g1, g0);
		CHECK_INT(tr_store_open(&ro, path, TR_STORE_READONLY), 0);
		CHECK_INT(tr_store_use_config(ro, cfg), 0);
		CHECK_INT(tr_store_feeds(ro, names_cb, names), 0);
		CHECK_STR_CASE(cases[i].pg, names, "a");
		tr_store_close(ro);
		tr_store_close(st);
		tr_config_free(cfg);
		rm_db(path);
	}
}

/* Ends every server session of the database at path (PostgreSQL). */
static void
drop_sessions(const char *path)
{
	char sql[256];
	size_t n = strcspn(path + 17, "?");
	PGconn *c = pg_admin();
	PGresult *r;

	snprintf(sql, sizeof(sql), "SELECT count(pg_terminate_backend(pid))"
	    " FROM pg_stat_activity WHERE datname = '%.*s'", (int)n,
	    path + 17);
	r = PQexec(c, sql);
	CHECK_INT(PQresultStatus(r), PGRES_TUPLES_OK);
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		CHECK_STR(PQgetvalue(r, 0, 0), "1");
	PQclear(r);
	PQfinish(c);
}

/*
 * The server ends a reader's session (a restart, a failover): the
 * reader's next call reconnects, makes its config's views again and
 * answers with that config's feeds (not every feed of the database); the
 * handle stays read-only.
 */
static void
test_reader_reconnects(void)
{
	struct tr_config *x, *y;
	struct tr_store *st = NULL, *ro = NULL;
	char *path, names[256] = "";
	int i;

	if (!is_pg())
		SKIP("ends the server's sessions of a PostgreSQL database");
	x = cfg_named(conf_x, "x");
	y = cfg_named(conf_y, "y");
	path = tmp_db();
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, x), 0);
	CHECK_INT(tr_store_sync_config(st, y), 0);
	tr_store_close(st);
	CHECK_INT(tr_store_open(&ro, path, TR_STORE_READONLY), 0);
	CHECK_INT(tr_store_use_config(ro, x), 0);
	CHECK_INT(tr_store_feeds(ro, names_cb, names), 0);
	CHECK_STR(names, "a s=Shared");
	drop_sessions(path);
	/* The call that finds the session gone reconnects, makes the
	 * config's views again and answers, with the config's feeds. */
	names[0] = '\0';
	CHECK_INT(tr_store_feeds(ro, names_cb, names), 0);
	CHECK_STR(names, "a s=Shared");
	/* Applying the same config again costs nothing; another one is
	 * applied on the new session. */
	names[0] = '\0';
	CHECK_INT(tr_store_use_config(ro, x), 0);
	CHECK_INT(tr_store_use_config(ro, y), 0);
	CHECK_INT(tr_store_feeds(ro, names_cb, names), 0);
	CHECK_STR(names, "b s=Shared");
	drop_sessions(path);
	for (i = 0; i < 2; i++) {
		struct tr_feed_state fs;

		CHECK_INT(tr_store_feed_get(ro, &fs, "a"), TR_ENOTFOUND);
		CHECK_INT(tr_store_feed_get(ro, &fs, "b"), 0);
		tr_feed_state_free(&fs);
	}
	CHECK(tr_store_sync_config(ro, x) != 0);
	tr_store_close(ro);
	rm_db(path);
	tr_config_free(x);
	tr_config_free(y);
}

/*
 * The merged feed, with the other feeds carrying each link ("also"),
 * through a session's life, on the writer's handle and then a reader's:
 * without a config, with one, with another, on a new session after the
 * server ended the old one (on PostgreSQL; SQLite answers the same
 * without it). Each step is read
 * several times: the PostgreSQL backend prepares statements per session
 * and the server plans them anew only for the first few runs, and a
 * prepared statement keeps the tables it was prepared on (not a
 * config's views made later).
 */
static void
test_query_follows_session(void)
{
	static const struct {
		char cfg;	/* config applied before the step: x, y, -: none */
		int drop;	/* the server ends the reader's session first */
		const char *want;
	} steps[] = {
	    {'-', 0, "a1(s,b) s2"},
	    {'x', 0, "a1(s) s2"},
	    {'y', 0, "s1(b) s2"},
	    {'-', 1, "s1(b) s2"},
	    {'x', 0, "a1(s) s2"},
	    {'-', 1, "a1(s) s2"},
	};
	enum { N_STEPS = sizeof(steps) / sizeof(steps[0]) };
	struct tr_config *cfgs[2] = {cfg_named(conf_x, "x"),
	    cfg_named(conf_y, "y")};
	struct tr_store *st = NULL, *ro = NULL, *h;
	struct tr_store_result res;
	struct tr_article v[2];
	struct page *p = calloc(1, sizeof(*p));
	char *path = tmp_db(), got[256], step[16];
	size_t i, j, n;
	int k, rc, w;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfgs[0]), 0);
	CHECK_INT(tr_store_sync_config(st, cfgs[1]), 0);
	/* One link in three feeds, first seen in a, then s, then b. */
	tr_store_set_now(st, 1000);
	mkart(&v[0], "a1", "http://127.0.0.1:9/l1", "A", 1000);
	CHECK_INT(store_doc(st, "a", v, 1, &res), 0);
	free_arts(v, 1);
	tr_store_set_now(st, 2000);
	mkart(&v[0], "s1", "http://127.0.0.1:9/l1", "S", 1000);
	mkart(&v[1], "s2", "http://127.0.0.1:9/l2", "S2", 900);
	CHECK_INT(store_doc(st, "s", v, 2, &res), 0);
	free_arts(v, 2);
	tr_store_set_now(st, 3000);
	mkart(&v[0], "b1", "http://127.0.0.1:9/l1", "B", 1000);
	CHECK_INT(store_doc(st, "b", v, 1, &res), 0);
	free_arts(v, 1);
	/* The writer (whose session has temporary tables of its own by
	 * now), then a reader. */
	for (n = 0; n < 2 * N_STEPS; n++) {
		w = n >= N_STEPS;
		i = n % N_STEPS;
		if (n == N_STEPS) {
			tr_store_close(st);
			CHECK_INT(tr_store_open(&ro, path, TR_STORE_READONLY),
			    0);
		}
		h = w ? ro : st;
		snprintf(step, sizeof(step), "%s %zu", w ? "ro" : "rw", i);
		if (steps[i].drop && is_pg())
			drop_sessions(path);
		rc = steps[i].cfg == '-'
			 ? 0
			 : tr_store_use_config(h, cfgs[steps[i].cfg - 'x']);
		for (k = 0; k < 8 && rc == 0; k++) {
			struct tr_query q = q_all();

			rc = query(h, &q, p, NULL);
			got[0] = '\0';
			for (j = 0; j < p->n; j++)
				snprintf(got + strlen(got),
				    sizeof(got) - strlen(got), "%s%s%s%s%s",
				    j ? " " : "", p->items[j].id,
				    p->items[j].also[0] ? "(" : "",
				    p->items[j].also,
				    p->items[j].also[0] ? ")" : "");
			CHECK_STR_CASE(step, got, steps[i].want);
		}
		if (rc != 0)
			printf("  [%s] %s\n", step, tr_store_errmsg(h));
		CHECK_INT(rc, 0);
	}
	page_free(p);
	free(p);
	tr_store_close(ro);
	rm_db(path);
	tr_config_free(cfgs[0]);
	tr_config_free(cfgs[1]);
}

/*
 * Inside a group of writes (a polling round): a sync, a feed's state,
 * a purge of an unknown feed (refused), retention and a sync of another
 * config share the group's transaction; the refused one undoes only
 * itself, and a reader sees everything once the group is committed.
 */
static void
test_sync_in_group(void)
{
	struct tr_config *x = cfg_named(conf_x, "x"), *z = cfg_named(conf_z, "z");
	struct tr_store *st = NULL, *ro = NULL;
	struct tr_feed_state fs;
	char moved[] = "http://127.0.0.1:9/moved", name[] = "a";
	char *path = tmp_db(), names[256] = "";
	int64_t n = -1;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_open(&ro, path, TR_STORE_READONLY), 0);
	tr_store_group_begin(st);
	CHECK_INT(tr_store_sync_config(st, x), 0);
	memset(&fs, 0, sizeof(fs));
	fs.name = name;
	fs.effective_url = moved;
	CHECK_INT(tr_store_feed_save(st, &fs), 0);
	CHECK_INT(tr_store_purge(st, "nosuch", &n), TR_ENOTFOUND);
	CHECK_INT(tr_store_retention(st, x, (int64_t)1 << 40, &n), 0);
	CHECK_INT(n, 0);
	CHECK_INT(tr_store_sync_config(st, z), 0);
	/* Nothing shows before the group is committed. */
	CHECK_INT(tr_store_feeds(ro, names_cb, names), 0);
	CHECK_STR(names, "");
	CHECK_INT(tr_store_group_end(st), 0);
	CHECK_INT(tr_store_groups_lost(st, NULL), 0);
	CHECK_INT(tr_store_feeds(ro, names_cb, names), 0);
	CHECK_STR(names, "a c s=Shared");
	CHECK_INT(tr_store_feed_get(ro, &fs, "a"), 0);
	CHECK_STR(fs.effective_url, moved);
	tr_feed_state_free(&fs);
	tr_store_close(ro);
	tr_store_close(st);
	rm_db(path);
	tr_config_free(x);
	tr_config_free(z);
}

/*
 * One node syncs an unchanged config while another claims its due
 * feeds (PostgreSQL: claims skip rows another transaction locks): the
 * sync locks no feed's row, so the claim gets every feed.
 */
static void
test_sync_leaves_claims(void)
{
	static const char *const names[] = {"a", "s"};
	struct tr_config *x;
	struct tr_store *st = NULL, *other = NULL;
	unsigned char got[2] = {0, 0};
	char *path;

	if (!is_pg())
		SKIP("a transaction left open beside another writer");
	x = cfg_named(conf_x, "x");
	path = tmp_db();
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_open(&other, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, x), 0);
	/* The group keeps the second sync's transaction open. */
	tr_store_group_begin(st);
	CHECK_INT(tr_store_sync_config(st, x), 0);
	CHECK_INT(tr_store_claim(other, names, NULL, 2, 1000, 60, got), 0);
	CHECK(got[0] && got[1]);
	CHECK_INT(tr_store_group_end(st), 0);
	tr_store_close(other);
	tr_store_close(st);
	rm_db(path);
	tr_config_free(x);
}

/* The feeds as the store lists them: name, URL, etag, title, flags. */
static int
state_cb(const struct tr_feed_state *fs, void *arg)
{
	char *out = arg;
	size_t len = strlen(out);

	snprintf(out + len, 1024 - len, "%s%s %s %s %s%s%s", len ? "; " : "",
	    fs->name, fs->url, fs->etag ? fs->etag : "-",
	    fs->title ? fs->title : "-", fs->active ? "" : " removed",
	    fs->enabled ? "" : " off");
	return 0;
}

/*
 * SQLite: what the feed list does not show (tags, caps, configs), and
 * the data version db sees (which moves when another connection
 * commits a change to the file).
 */
static void
sqlite_extra(sqlite3 *db, char *out, size_t size, int64_t *version)
{
	sqlite3_stmt *s = NULL;

	out[0] = '\0';
	CHECK_INT(sqlite3_prepare_v2(db, "SELECT f.name, f.max_per_feed,"
	    " (SELECT group_concat(tag, ',') FROM (SELECT tag FROM feed_tags"
	    " WHERE feed_id = f.id ORDER BY tag)), (SELECT count(*) FROM"
	    " feed_configs c WHERE c.feed_id = f.id), f.removed_at > 0"
	    " FROM feeds f ORDER BY f.name", -1, &s, NULL), SQLITE_OK);
	while (sqlite3_step(s) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(s, 2);

		snprintf(out + strlen(out), size - strlen(out),
		    "%s%s max=%d tags=%s configs=%d%s", out[0] ? "; " : "",
		    (const char *)sqlite3_column_text(s, 0),
		    sqlite3_column_int(s, 1), t ? (const char *)t : "",
		    sqlite3_column_int(s, 3),
		    sqlite3_column_int(s, 4) ? " removed_at" : "");
	}
	sqlite3_finalize(s);
	s = NULL;
	CHECK_INT(sqlite3_prepare_v2(db, "PRAGMA data_version", -1, &s, NULL),
	    SQLITE_OK);
	*version = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0)
	                                         : -1;
	sqlite3_finalize(s);
}

/*
 * A sync writes only what changed: each case syncs base (then before,
 * when given), saves an etag for every feed, and syncs its config at
 * the same second. The store then lists want (and, on SQLite, extra),
 * and the generation moved, and (SQLite) the file was written, only
 * when something changed: the unchanged config writes no row.
 */
static void
test_sync_writes_what_changed(void)
{
	static const char base[] =
	    "[feed \"a\"]\nurl = http://127.0.0.1:9/a\ntags = x, y\n"
	    "title = Ay\n"
	    "[feed \"b\"]\nurl = http://127.0.0.1:9/b\n"
	    "[feed \"c\"]\nurl = http://127.0.0.1:9/c\nmax_per_feed = 5\n";
	static const struct {
		const char *what, *before, *conf, *want, *extra;
		int changed;
	} cases[] = {
	    {"unchanged", NULL, base,
	     "a http://127.0.0.1:9/a E Ay; b http://127.0.0.1:9/b E -; "
	     "c http://127.0.0.1:9/c E -",
	     "a max=0 tags=x,y configs=1; b max=0 tags= configs=1; "
	     "c max=5 tags= configs=1", 0},
	    {"same feeds in another order", NULL,
	     "[feed \"c\"]\nurl = http://127.0.0.1:9/c\nmax_per_feed = 5\n"
	     "[feed \"b\"]\nurl = http://127.0.0.1:9/b\n"
	     "[feed \"a\"]\nurl = http://127.0.0.1:9/a\ntags = y, x, x\n"
	     "title = Ay\n",
	     "a http://127.0.0.1:9/a E Ay; b http://127.0.0.1:9/b E -; "
	     "c http://127.0.0.1:9/c E -",
	     "a max=0 tags=x,y configs=1; b max=0 tags= configs=1; "
	     "c max=5 tags= configs=1", 0},
	    {"new feed", NULL,
	     "[feed \"a\"]\nurl = http://127.0.0.1:9/a\ntags = x, y\n"
	     "title = Ay\n[feed \"b\"]\nurl = http://127.0.0.1:9/b\n"
	     "[feed \"c\"]\nurl = http://127.0.0.1:9/c\nmax_per_feed = 5\n"
	     "[feed \"d\"]\nurl = http://127.0.0.1:9/d\ntags = z\n",
	     "a http://127.0.0.1:9/a E Ay; b http://127.0.0.1:9/b E -; "
	     "c http://127.0.0.1:9/c E -; d http://127.0.0.1:9/d - -",
	     "a max=0 tags=x,y configs=1; b max=0 tags= configs=1; "
	     "c max=5 tags= configs=1; d max=0 tags=z configs=1", 1},
	    {"feed removed", NULL,
	     "[feed \"a\"]\nurl = http://127.0.0.1:9/a\ntags = x, y\n"
	     "title = Ay\n[feed \"b\"]\nurl = http://127.0.0.1:9/b\n",
	     "a http://127.0.0.1:9/a E Ay; b http://127.0.0.1:9/b E -; "
	     "c http://127.0.0.1:9/c E - removed",
	     "a max=0 tags=x,y configs=1; b max=0 tags= configs=1; "
	     "c max=5 tags= configs=0 removed_at", 1},
	    {"feed back", "[feed \"b\"]\nurl = http://127.0.0.1:9/b\n", base,
	     "a http://127.0.0.1:9/a E Ay; b http://127.0.0.1:9/b E -; "
	     "c http://127.0.0.1:9/c E -",
	     "a max=0 tags=x,y configs=1; b max=0 tags= configs=1; "
	     "c max=5 tags= configs=1", 1},
	    {"renamed", NULL,
	     "[feed \"a\"]\nurl = http://127.0.0.1:9/a\ntags = x, y\n"
	     "title = Ay\n[feed \"b2\"]\nurl = http://127.0.0.1:9/b\n"
	     "[feed \"c\"]\nurl = http://127.0.0.1:9/c\nmax_per_feed = 5\n",
	     "a http://127.0.0.1:9/a E Ay; b http://127.0.0.1:9/b E - removed; "
	     "b2 http://127.0.0.1:9/b - -; c http://127.0.0.1:9/c E -",
	     "a max=0 tags=x,y configs=1; b max=0 tags= configs=0 removed_at; "
	     "b2 max=0 tags= configs=1; c max=5 tags= configs=1", 1},
	    {"URL changed", NULL,
	     "[feed \"a\"]\nurl = http://127.0.0.1:9/a\ntags = x, y\n"
	     "title = Ay\n[feed \"b\"]\nurl = http://127.0.0.1:9/b2\n"
	     "[feed \"c\"]\nurl = http://127.0.0.1:9/c\nmax_per_feed = 5\n",
	     "a http://127.0.0.1:9/a E Ay; b http://127.0.0.1:9/b2 - -; "
	     "c http://127.0.0.1:9/c E -",
	     "a max=0 tags=x,y configs=1; b max=0 tags= configs=1; "
	     "c max=5 tags= configs=1", 1},
	    {"title changed", NULL,
	     "[feed \"a\"]\nurl = http://127.0.0.1:9/a\ntags = x, y\n"
	     "title = Ay!\n[feed \"b\"]\nurl = http://127.0.0.1:9/b\n"
	     "[feed \"c\"]\nurl = http://127.0.0.1:9/c\nmax_per_feed = 5\n",
	     "a http://127.0.0.1:9/a E Ay!; b http://127.0.0.1:9/b E -; "
	     "c http://127.0.0.1:9/c E -",
	     "a max=0 tags=x,y configs=1; b max=0 tags= configs=1; "
	     "c max=5 tags= configs=1", 1},
	    {"title removed", NULL,
	     "[feed \"a\"]\nurl = http://127.0.0.1:9/a\ntags = x, y\n"
	     "[feed \"b\"]\nurl = http://127.0.0.1:9/b\n"
	     "[feed \"c\"]\nurl = http://127.0.0.1:9/c\nmax_per_feed = 5\n",
	     "a http://127.0.0.1:9/a E -; b http://127.0.0.1:9/b E -; "
	     "c http://127.0.0.1:9/c E -",
	     "a max=0 tags=x,y configs=1; b max=0 tags= configs=1; "
	     "c max=5 tags= configs=1", 1},
	    {"disabled", NULL,
	     "[feed \"a\"]\nurl = http://127.0.0.1:9/a\ntags = x, y\n"
	     "title = Ay\n[feed \"b\"]\nurl = http://127.0.0.1:9/b\n"
	     "enabled = no\n"
	     "[feed \"c\"]\nurl = http://127.0.0.1:9/c\nmax_per_feed = 5\n",
	     "a http://127.0.0.1:9/a E Ay; b http://127.0.0.1:9/b E - off; "
	     "c http://127.0.0.1:9/c E -",
	     "a max=0 tags=x,y configs=1; b max=0 tags= configs=1; "
	     "c max=5 tags= configs=1", 1},
	    {"cap changed", NULL,
	     "[feed \"a\"]\nurl = http://127.0.0.1:9/a\ntags = x, y\n"
	     "title = Ay\n[feed \"b\"]\nurl = http://127.0.0.1:9/b\n"
	     "[feed \"c\"]\nurl = http://127.0.0.1:9/c\nmax_per_feed = 6\n",
	     "a http://127.0.0.1:9/a E Ay; b http://127.0.0.1:9/b E -; "
	     "c http://127.0.0.1:9/c E -",
	     "a max=0 tags=x,y configs=1; b max=0 tags= configs=1; "
	     "c max=6 tags= configs=1", 1},
	    {"global cap", NULL,
	     "[tributary]\nmax_per_feed = 7\n"
	     "[feed \"a\"]\nurl = http://127.0.0.1:9/a\ntags = x, y\n"
	     "title = Ay\n[feed \"b\"]\nurl = http://127.0.0.1:9/b\n"
	     "[feed \"c\"]\nurl = http://127.0.0.1:9/c\nmax_per_feed = 5\n",
	     "a http://127.0.0.1:9/a E Ay; b http://127.0.0.1:9/b E -; "
	     "c http://127.0.0.1:9/c E -",
	     "a max=7 tags=x,y configs=1; b max=7 tags= configs=1; "
	     "c max=5 tags= configs=1", 1},
	    {"tag added", NULL,
	     "[feed \"a\"]\nurl = http://127.0.0.1:9/a\ntags = x, y, w\n"
	     "title = Ay\n[feed \"b\"]\nurl = http://127.0.0.1:9/b\n"
	     "[feed \"c\"]\nurl = http://127.0.0.1:9/c\nmax_per_feed = 5\n",
	     "a http://127.0.0.1:9/a E Ay; b http://127.0.0.1:9/b E -; "
	     "c http://127.0.0.1:9/c E -",
	     "a max=0 tags=w,x,y configs=1; b max=0 tags= configs=1; "
	     "c max=5 tags= configs=1", 1},
	    {"tags removed", NULL,
	     "[feed \"a\"]\nurl = http://127.0.0.1:9/a\ntitle = Ay\n"
	     "[feed \"b\"]\nurl = http://127.0.0.1:9/b\n"
	     "[feed \"c\"]\nurl = http://127.0.0.1:9/c\nmax_per_feed = 5\n",
	     "a http://127.0.0.1:9/a E Ay; b http://127.0.0.1:9/b E -; "
	     "c http://127.0.0.1:9/c E -",
	     "a max=0 tags= configs=1; b max=0 tags= configs=1; "
	     "c max=5 tags= configs=1", 1},
	    {"no feeds", NULL, "[tributary]\ntitle = t\n",
	     "a http://127.0.0.1:9/a E Ay removed; "
	     "b http://127.0.0.1:9/b E - removed; "
	     "c http://127.0.0.1:9/c E - removed",
	     "a max=0 tags= configs=0 removed_at; "
	     "b max=0 tags= configs=0 removed_at; "
	     "c max=5 tags= configs=0 removed_at", 1},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		static const char *const names[] = {"a", "b", "c"};
		struct tr_config *b = cfg_from(base), *pre = NULL, *c;
		struct tr_store *st = NULL;
		struct tr_feed_state fs;
		sqlite3 *db = NULL;
		char *path = tmp_db(), got[1024] = "", extra[1024];
		int64_t gen0 = -1, gen1 = -1, at = 0, v0 = -1, v1 = -1;
		size_t k;

		CHECK_INT(tr_store_open(&st, path, 0), 0);
		tr_store_set_now(st, 1700000000);
		CHECK_INT(tr_store_sync_config(st, b), 0);
		for (k = 0; k < 3; k++) {
			char etag[] = "E";

			CHECK_INT(tr_store_feed_get(st, &fs, names[k]), 0);
			free(fs.etag);
			fs.etag = strdup(etag);
			CHECK_INT(tr_store_feed_save(st, &fs), 0);
			tr_feed_state_free(&fs);
		}
		if (cases[i].before != NULL) {
			pre = cfg_from(cases[i].before);
			CHECK_INT(tr_store_sync_config(st, pre), 0);
		}
		c = cfg_from(cases[i].conf);
		CHECK_INT(tr_store_generation(st, &gen0, &at), 0);
		if (!is_pg()) {
			CHECK_INT(sqlite3_open_v2(path, &db,
			    SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
			sqlite_extra(db, extra, sizeof(extra), &v0);
		}
		CHECK_INT(tr_store_sync_config(st, c), 0);
		CHECK_INT(tr_store_generation(st, &gen1, &at), 0);
		CHECK_INT(tr_store_feeds(st, state_cb, got), 0);
		CHECK_STR_CASE(cases[i].what, got, cases[i].want);
		CHECK_STR_CASE(cases[i].what, gen1 != gen0 ? "bumped" : "same",
		    cases[i].changed ? "bumped" : "same");
		if (!is_pg()) {
			sqlite_extra(db, extra, sizeof(extra), &v1);
			sqlite3_close(db);
			CHECK_STR_CASE(cases[i].what, extra, cases[i].extra);
			CHECK_STR_CASE(cases[i].what,
			    v1 != v0 ? "written" : "not written",
			    cases[i].changed ? "written" : "not written");
		}
		tr_store_close(st);
		rm_db(path);
		tr_config_free(b);
		tr_config_free(pre);
		tr_config_free(c);
	}
}

TR_TESTS(test_concurrent_syncs, test_readonly_refuses, test_title_not_utf8,
    test_reader_reconnects, test_query_follows_session, test_sync_in_group,
    test_sync_leaves_claims, test_sync_writes_what_changed)
