/*
 * store_pg_feeds.c — the PostgreSQL backend's feeds: reconciling the
 * configs, feed states, purge and retention (the SQLite backend's
 * store_sqlite_feeds.c, for PostgreSQL, with the same semantics).
 *
 * Reading with a config (pg_use_config), for the other parts of the
 * backend: as in the SQLite backend, the config's feeds and tags go into
 * temporary tables of the handle's connection (pg_temp.conf_feeds,
 * conf_tags, conf_self) and temporary views named feeds, feed_tags and
 * feeds_all are put over the real tables. PostgreSQL looks an
 * unqualified name up in pg_temp before the schemas of search_path, so
 * every statement of the handle that names feeds or feed_tags without
 * a schema reads the views once st->cfg_used is set: the merged query
 * (store_pg_query.c) reads "feeds" and "feed_tags" unqualified and gets
 * the config's view of membership (active), titles (conf_title),
 * max_per_feed, enabled and tags; listings read "feeds_all", which adds
 * the config's feeds not stored yet with negative ids (no articles);
 * the merged query joins "feeds_in", feeds' active rows alone.
 * The views have the real tables' columns, in the same order, with the
 * same types (active, enabled, disabled are integers). Writes name the
 * tables unqualified, as the SQLite backend's do: they are meant for
 * handles without a config applied (a view refuses them). A session
 * the server ended takes its temporary objects with it: store_pg.c's
 * reconnect clears cfg_used, so the next pg_use_config makes them again.
 *
 * Linking rows that carry one canonical link (is_primary): the links a
 * write disturbs go into pg_temp.touched_links and fix_primary()
 * recomputes just those, as store_fix_primary() does in SQLite.
 *
 * Several nodes sync their configs against one database at once:
 * pg_sync_config() runs in one transaction under a transaction-level
 * advisory lock, so syncs follow one another (each sees what the last
 * one wrote), and every statement is idempotent (ON CONFLICT ... DO
 * NOTHING / DO UPDATE, updates only of rows whose values change).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_pg_int.h"
#include "tributary/buf.h"
#include "tributary/config.h"
#include "tributary/error.h"
#include "tributary/escape.h"
#include "tributary/hash.h"
#include "tributary/log.h"

/* The advisory lock that serializes config syncs ("trib" + 1). */
#define SYNC_LOCK "1953653091"

/* The columns of struct tr_feed_state, in the order feed_from_row reads. */
#define FEED_COLS                                                             \
	"f.name, f.url, f.effective_url, coalesce(f.conf_title, f.doc_title),"  \
	" f.site_link, f.etag, f.last_modified, f.body_hash, f.last_check,"   \
	" f.next_check, f.last_success, f.retry_after, f.errors,"             \
	" f.last_error, f.last_status, f.disabled, f.disabled_reason,"        \
	" f.active, (SELECT count(*) FROM articles a WHERE a.feed_id = f.id),"\
	" f.enabled, f.removed_at"

/*
 * The config's feeds from a JSON array (parameter P) of objects: o the
 * feed's place in the config (from 1), n name, u url, t title, m
 * max_per_feed, e enabled, g tags, d keep_days, i keep_items; each
 * object is parsed once (json_to_recordset), not once per field.
 */
#define CONF_CTE(p)                                                           \
	"c AS (SELECT x.o AS ord, x.n AS name, x.u AS url, x.t AS title,"     \
	" x.m AS max_per_feed, x.e AS enabled, x.g AS tags, x.d AS days,"     \
	" x.i AS items FROM json_to_recordset(" p "::json) AS x(o bigint,"    \
	" n text, u text, t text, m integer, e integer, g json, d bigint,"    \
	" i bigint))"

/* --- feeds --- */

/* The column's text as the public records hold it (NULL for SQL NULL). */
static char *
col_borrow(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

/* Fills fs from a row of FEED_COLS; the strings are borrowed from r. */
static void
feed_from_row(struct tr_feed_state *fs, const PGresult *r, int i)
{
	memset(fs, 0, sizeof(*fs));
	fs->name = col_borrow(r, i, 0);
	fs->url = col_borrow(r, i, 1);
	fs->effective_url = col_borrow(r, i, 2);
	fs->title = col_borrow(r, i, 3);
	fs->site_link = col_borrow(r, i, 4);
	fs->etag = col_borrow(r, i, 5);
	fs->last_modified = col_borrow(r, i, 6);
	fs->body_hash = col_borrow(r, i, 7);
	fs->last_check = pg_col_int64(r, i, 8);
	fs->next_check = pg_col_int64(r, i, 9);
	fs->last_success = pg_col_int64(r, i, 10);
	fs->retry_after = pg_col_int64(r, i, 11);
	fs->errors = pg_col_int64(r, i, 12);
	fs->last_error = col_borrow(r, i, 13);
	fs->last_status = (int)pg_col_int64(r, i, 14);
	fs->disabled = (int)pg_col_int64(r, i, 15);
	fs->disabled_reason = col_borrow(r, i, 16);
	fs->active = pg_col_int64(r, i, 17) != 0;
	fs->n_articles = pg_col_int64(r, i, 18);
	fs->enabled = (int)pg_col_int64(r, i, 19);
	fs->removed_at = pg_col_int64(r, i, 20);
}

int
pg_feed_get(struct tr_store *st, struct tr_feed_state *out, const char *name)
{
	const char *p[1] = {name};
	struct tr_feed_state row;
	PGresult *r;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((rc = pg_exec(st, &r, "reading a feed", st->cfg_used
		    ? "SELECT " FEED_COLS " FROM feeds_all f WHERE f.name = $1"
		    : "SELECT " FEED_COLS " FROM feeds f WHERE f.name = $1",
		    1, p)) != 0)
		return rc;
	if (PQntuples(r) == 0)
		rc = pg_err(st, TR_ENOTFOUND, "%s: no feed named %s",
		    st->shown, name);
	else {
		feed_from_row(&row, r, 0);
		if (tr_feed_state_copy(out, &row) != 0)
			rc = pg_err(st, TR_ENOMEM, "out of memory");
	}
	PQclear(r);
	return rc;
}

/*
 * The rows are read whole before the callbacks run (one row per feed,
 * not per article), so that a callback may use the handle.
 */
int
pg_feeds(struct tr_store *st, tr_feed_cb cb, void *arg)
{
	struct tr_feed_state fs;
	PGresult *r;
	int i, rc;

	if ((rc = pg_exec(st, &r, "listing feeds", st->cfg_used
		    ? "SELECT " FEED_COLS " FROM feeds_all f ORDER BY f.name"
		      " COLLATE \"C\""
		    : "SELECT " FEED_COLS " FROM feeds f ORDER BY f.name"
		      " COLLATE \"C\"", 0, NULL)) != 0)
		return rc;
	for (i = 0; i < PQntuples(r); i++) {
		int crc;

		feed_from_row(&fs, r, i);
		if ((crc = cb(&fs, arg)) != 0) {
			PQclear(r);
			return crc < 0 ? crc : TR_EABORT;
		}
	}
	PQclear(r);
	return 0;
}

/*
 * Saves the polling state. A change of the effective URL or of the
 * disabled flag shows in the rendered feeds, so it bumps the generation.
 * The old values are read under the row's lock in the same statement
 * (the UPDATE's own strength: inserts of the feed's articles, which
 * check the foreign key, are not held up).
 */
int
pg_feed_save(struct tr_store *st, const struct tr_feed_state *fs)
{
	char b[5][24], ls[24], dis[24];
	const char *p[14];
	PGresult *r = NULL;
	int rc, bump = 0;

	if (fs == NULL || fs->name == NULL)
		return pg_err(st, TR_EINVAL, "feed_save: no feed name");
	if ((rc = pg_writable(st, "save a feed")) != 0)
		return rc;
	p[0] = fs->name;
	p[1] = fs->effective_url;
	p[2] = fs->etag;
	p[3] = fs->last_modified;
	p[4] = fs->body_hash;
	p[5] = pg_i64(b[0], fs->last_check);
	p[6] = pg_i64(b[1], fs->next_check);
	p[7] = pg_i64(b[2], fs->last_success);
	p[8] = pg_i64(b[3], fs->retry_after);
	p[9] = pg_i64(b[4], fs->errors);
	p[10] = fs->last_error;
	p[11] = pg_i64(ls, fs->last_status);
	p[12] = pg_i64(dis, fs->disabled != 0);
	p[13] = fs->disabled_reason;
	if ((rc = pg_begin(st)) != 0)
		return rc;
	rc = pg_exec(st, &r, "saving a feed",
	    "WITH old AS (SELECT id, effective_url, disabled FROM feeds"
	    " WHERE name = $1 FOR NO KEY UPDATE),"
	    " up AS (UPDATE feeds f SET effective_url = $2, etag = $3,"
	    " last_modified = $4, body_hash = $5, last_check = $6::bigint,"
	    " next_check = $7::bigint, last_success = $8::bigint,"
	    " retry_after = $9::bigint, errors = $10::bigint,"
	    " last_error = $11, last_status = $12::integer,"
	    " disabled = $13::integer, disabled_reason = $14"
	    " FROM old WHERE f.id = old.id)"
	    " SELECT (old.effective_url IS DISTINCT FROM $2::text"
	    " OR (old.disabled <> 0) <> ($13::integer <> 0))::integer FROM old",
	    14, p);
	if (rc == 0 && PQntuples(r) == 0)
		rc = pg_err(st, TR_ENOTFOUND, "%s: no feed named %s",
		    st->shown, fs->name);
	else if (rc == 0)
		bump = pg_col_int64(r, 0, 0) != 0;
	PQclear(r);
	if (rc == 0 && bump)
		rc = pg_bump_generation(st);
	if (rc == 0)
		rc = pg_commit(st);
	if (rc != 0)
		pg_rollback(st);
	return rc;
}

/* --- links whose primary row may change --- */

/* The scratch table of the links a write disturbs (this connection's). */
static int
touched_open(struct tr_store *st)
{
	return pg_exec(st, NULL, "deduplicating links",
	    "CREATE TEMP TABLE IF NOT EXISTS touched_links"
	    " (canon TEXT PRIMARY KEY) ON COMMIT DELETE ROWS;"
	    "DELETE FROM pg_temp.touched_links", 0, NULL);
}

/*
 * The primary row of canonical link c: the first seen (then the lowest
 * id) among the rows of feeds in the config, else among all rows (a
 * feed removed from the config yields to the ones in it).
 */
#define PRIMARY_OF(c)                                                         \
	"coalesce((SELECT b.id FROM articles b JOIN feeds f"                  \
	" ON f.id = b.feed_id WHERE b.canon = " c " AND f.active = 1"         \
	" ORDER BY b.first_seen, b.id LIMIT 1), (SELECT b.id FROM articles b" \
	" WHERE b.canon = " c " ORDER BY b.first_seen, b.id LIMIT 1))"

/*
 * Recomputes is_primary for every link in touched_links, writing only
 * the rows whose mark changes, and empties the table.
 *
 * Nothing to do when no link was touched (the usual retention). Else
 * the table is analyzed first: a temporary table has no statistics, and
 * the planner, guessing, could test every marked row of the store for
 * its link's primary before testing whether its link was touched at
 * all: 10 to 15 s over 8,000 articles after a fetch stopped by a signal
 * (test_shared_items), where a walk from the touched links takes
 * milliseconds.
 */
static int
fix_primary(struct tr_store *st)
{
	int64_t n = 0;
	int rc;

	if ((rc = pg_one_int64(st, &n, "deduplicating links",
	    "SELECT count(*) FROM pg_temp.touched_links", 0, NULL)) != 0)
		return rc;
	if (n == 0)
		return 0;
	return pg_exec(st, NULL, "deduplicating links",
	    "ANALYZE pg_temp.touched_links;"
	    "UPDATE articles SET is_primary = 0"
	    " WHERE is_primary = 1 AND canon IS NOT NULL"
	    " AND canon IN (SELECT canon FROM pg_temp.touched_links)"
	    " AND id IS DISTINCT FROM " PRIMARY_OF("articles.canon") ";"
	    "UPDATE articles SET is_primary = 1"
	    " WHERE is_primary = 0 AND id IN (SELECT " PRIMARY_OF("t.canon")
	    " FROM pg_temp.touched_links t);"
	    "DELETE FROM pg_temp.touched_links", 0, NULL);
}

/* --- reconciling with feeds.conf --- */

/*
 * The identity of cfg among the configs that share a database: its
 * file's absolute path (symbolic links resolved while it exists), or ""
 * for a config not read from a file. malloc'ed, or NULL.
 */
static char *
config_key(const struct tr_config *cfg)
{
	char *key, *cwd;
	size_t len;

	if (cfg->path == NULL || cfg->path[0] == '\0')
		return strdup("");
	if ((key = realpath(cfg->path, NULL)) != NULL)
		return key;
	if (cfg->path[0] == '/' || (cwd = getcwd(NULL, 0)) == NULL)
		return strdup(cfg->path);
	len = strlen(cwd) + strlen(cfg->path) + 2;
	if ((key = malloc(len)) != NULL)
		snprintf(key, len, "%s/%s", cwd, cfg->path);
	free(cwd);
	return key;
}

/*
 * Appends s as a JSON string, with any byte that does not start valid
 * UTF-8 as U+FFFD: the config reader lets such bytes through in titles,
 * which SQLite stores as they are but a UTF-8 database refuses (the
 * whole sync would fail); the title is only shown, so it is shown
 * repaired. Names and tags are checked UTF-8 by the config reader.
 */
static int
json_text(struct tr_buf *b, const char *s)
{
	struct tr_buf clean;
	size_t left;
	int rc = 0;

	if (s == NULL)
		return store_json_str(b, s);
	tr_buf_init(&clean, (size_t)1 << 30);
	for (left = strlen(s); left > 0 && rc == 0;) {
		int32_t cp;
		size_t n = tr_utf8_decode(s, left, &cp);

		rc = cp < 0 ? tr_buf_add(&clean, "\xef\xbf\xbd", 3)
			    : tr_buf_add(&clean, s, n);
		s += n;
		left -= n;
	}
	if (rc == 0)
		rc = store_json_str(b, tr_buf_str(&clean));
	tr_buf_free(&clean);
	return rc;
}

/* Appends ,"k":v (v a number). */
static int
json_num(struct tr_buf *b, const char *k, int64_t v)
{
	char num[48];

	snprintf(num, sizeof(num), ",\"%s\":%lld", k, (long long)v);
	return tr_buf_adds(b, num);
}

/*
 * cfg's feeds as the JSON array CONF_CTE reads: one parameter carries
 * the whole config, so that each step is one set-based statement.
 */
static int
conf_json(struct tr_store *st, struct tr_buf *b, const struct tr_config *cfg)
{
	size_t i, j;
	int rc;

	tr_buf_init(b, (size_t)1 << 30);
	rc = tr_buf_addc(b, '[');
	for (i = 0; i < cfg->n_feeds && rc == 0; i++) {
		const struct tr_feed_conf *f = &cfg->feeds[i];

		rc = tr_buf_printf(b, "%s{\"o\":%zu,\"n\":", i > 0 ? "," : "",
		    i + 1);
		if (rc == 0)
			rc = store_json_str(b, f->name);
		if (rc == 0)
			rc = tr_buf_adds(b, ",\"u\":");
		if (rc == 0)
			rc = json_text(b, f->url);
		if (rc == 0)
			rc = tr_buf_adds(b, ",\"t\":");
		if (rc == 0)
			rc = json_text(b, f->title);
		if (rc == 0)
			rc = json_num(b, "m",
			    tr_config_feed_max_per_feed(cfg, f));
		if (rc == 0)
			rc = json_num(b, "e", f->enabled != 0);
		if (rc == 0)
			rc = json_num(b, "d", tr_config_feed_keep_days(cfg, f));
		if (rc == 0)
			rc = json_num(b, "i",
			    tr_config_feed_keep_items(cfg, f));
		if (rc == 0)
			rc = tr_buf_adds(b, ",\"g\":[");
		for (j = 0; j < f->n_tags && rc == 0; j++) {
			if (j > 0)
				rc = tr_buf_addc(b, ',');
			if (rc == 0)
				rc = store_json_str(b, f->tags[j]);
		}
		if (rc == 0)
			rc = tr_buf_adds(b, "]}");
	}
	if (rc == 0)
		rc = tr_buf_addc(b, ']');
	return rc ? pg_err(st, TR_ENOMEM, "out of memory") : 0;
}

/* Runs a statement that answers a count; adds it to *n. */
static int
add_count(struct tr_store *st, int64_t *n, const char *what, const char *sql,
    int np, const char *const *p)
{
	int64_t v = 0;
	int rc = pg_one_int64(st, &v, what, sql, np, p);

	if (rc == 0 && n)
		*n += v;
	return rc;
}

/*
 * Forgets the other configs not heard of for keep seconds whose file is
 * gone (the unnamed one of a migrated store has none): a config file
 * that is still there keeps its feeds listed, whatever the age of its
 * last sync, so that one config's rounds never remove another's feeds.
 */
static int
forget_configs(struct tr_store *st, const char *key, int64_t now,
    int64_t keep)
{
	char a[24], b[24];
	const char *p[3] = {key, pg_i64(a, now), pg_i64(b, keep)};
	PGresult *r;
	int i, rc;

	if ((rc = pg_exec(st, &r, "forgetting configs not seen",
		 "SELECT config FROM feed_configs WHERE config <> $1"
		 " GROUP BY config"
		 " HAVING max(last_seen) <= $2::bigint - $3::bigint",
		 3, p)) != 0)
		return rc;
	for (i = 0; i < PQntuples(r) && rc == 0; i++) {
		const char *c = pg_col_text(r, i, 0);
		const char *q[1] = {c};

		if (c == NULL || (c[0] != '\0' && access(c, F_OK) == 0))
			continue;
		tr_log(TR_LOG_INFO, "store: config %s not seen for "
		    "removed_keep and gone: its feeds count as removed "
		    "from it", c[0] ? c : "(before schema 8)");
		rc = pg_exec(st, NULL, "forgetting configs not seen",
		    "DELETE FROM feed_configs WHERE config = $1", 1, q);
	}
	PQclear(r);
	return rc;
}

/*
 * Replaces the tags of the config's feeds whose stored tags differ from
 * the configured ones (compared as sorted, distinct lists); *n counts
 * the feeds retagged.
 */
static int
sync_tags(struct tr_store *st, const char *conf, int64_t *n)
{
	const char *p[2] = {conf, NULL};
	struct tr_buf ids;
	PGresult *r;
	int i, rc;

	if ((rc = pg_exec(st, &r, "reading tags",
		 "WITH " CONF_CTE("$1") " SELECT f.id FROM c JOIN feeds f"
		 " ON f.name = c.name WHERE coalesce((SELECT string_agg("
		 "DISTINCT t COLLATE \"C\", E'\\n' ORDER BY t COLLATE \"C\")"
		 " FROM json_array_elements_text(c.tags) t), '') <>"
		 " coalesce((SELECT string_agg(g.tag COLLATE \"C\", E'\\n'"
		 " ORDER BY g.tag COLLATE \"C\") FROM feed_tags g"
		 " WHERE g.feed_id = f.id), '')",
		 1, p)) != 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return 0;
	}
	*n += PQntuples(r);
	tr_buf_init(&ids, (size_t)1 << 30);
	rc = tr_buf_addc(&ids, '{');
	for (i = 0; i < PQntuples(r) && rc == 0; i++) {
		if (i > 0)
			rc = tr_buf_addc(&ids, ',');
		if (rc == 0)
			rc = tr_buf_adds(&ids, PQgetvalue(r, i, 0));
	}
	if (rc == 0)
		rc = tr_buf_addc(&ids, '}');
	PQclear(r);
	if (rc != 0) {
		tr_buf_free(&ids);
		return pg_err(st, TR_ENOMEM, "out of memory");
	}
	p[1] = tr_buf_str(&ids);
	rc = pg_exec(st, NULL, "deleting tags",
	    "DELETE FROM feed_tags WHERE feed_id = ANY ($1::bigint[])", 1,
	    p + 1);
	if (rc == 0)
		rc = pg_exec(st, NULL, "adding a tag",
		    "WITH " CONF_CTE("$1") " INSERT INTO feed_tags(tag, feed_id)"
		    " SELECT DISTINCT t, f.id FROM c JOIN feeds f"
		    " ON f.name = c.name CROSS JOIN"
		    " json_array_elements_text(c.tags) t"
		    " WHERE f.id = ANY ($2::bigint[]) ON CONFLICT DO NOTHING",
		    2, p);
	tr_buf_free(&ids);
	return rc;
}

/* Resets the validators of the config's feeds whose URL changed. */
static int
sync_urls(struct tr_store *st, const char *conf, int64_t *n)
{
	const char *p[1] = {conf};
	PGresult *r;
	int i, rc;

	if ((rc = pg_exec(st, &r, "resetting a feed",
		 "WITH " CONF_CTE("$1") " UPDATE feeds f SET url = c.url,"
		 " effective_url = NULL, etag = NULL, last_modified = NULL,"
		 " body_hash = NULL, next_check = 0, retry_after = 0,"
		 " disabled = 0, disabled_reason = NULL FROM c"
		 " WHERE f.name = c.name AND f.url <> c.url"
		 " RETURNING f.name, f.url", 1, p)) != 0)
		return rc;
	for (i = 0; i < PQntuples(r); i++)
		tr_log(TR_LOG_INFO, "feed %s: URL changed to %s, validators "
		    "reset", PQgetvalue(r, i, 0), PQgetvalue(r, i, 1));
	*n += PQntuples(r);
	PQclear(r);
	return 0;
}

/* The steps of a sync after the new feeds are in (see pg_sync_config). */
static int
sync_steps(struct tr_store *st, const char *conf, const char *key,
    const struct tr_config *cfg, int64_t *n)
{
	char now[24];
	const char *p[3] = {conf, key, pg_i64(now, pg_now(st))};
	int rc;

	/*
	 * Which feeds this config lists, as of now: the rows of feeds it no
	 * longer lists go, the others' last_seen moves. Rewriting the rows
	 * the config keeps (delete, insert) would lock every one of its
	 * feeds' rows (the foreign key's check) until the commit, and
	 * another node's claim skips locked rows (pg_claim): an unchanged
	 * config's sync now locks no feed.
	 */
	rc = pg_exec(st, NULL, "recording the config's feeds",
	    "WITH " CONF_CTE("$1") " DELETE FROM feed_configs fc"
	    " WHERE fc.config = $2 AND NOT EXISTS (SELECT 1 FROM feeds f"
	    " JOIN c ON c.name = f.name WHERE f.id = fc.feed_id)", 2, p);
	if (rc == 0)
		rc = pg_exec(st, NULL, "recording the config's feeds",
		    "WITH " CONF_CTE("$1") " INSERT INTO feed_configs(config,"
		    " feed_id, last_seen) SELECT $2, f.id, $3::bigint FROM feeds f"
		    " WHERE f.name IN (SELECT name FROM c) ON CONFLICT"
		    " (config, feed_id) DO UPDATE SET last_seen ="
		    " excluded.last_seen", 3, p);
	if (rc == 0)
		rc = forget_configs(st, key, pg_now(st), cfg->removed_keep);
	/*
	 * The links of feeds that leave every config or come back: the row
	 * that stands for a link several feeds carry moves to a feed in a
	 * config (fix_primary), so the merged feed keeps the article.
	 */
	if (rc == 0)
		rc = pg_exec(st, NULL, "noting removed feeds' links",
		    "INSERT INTO pg_temp.touched_links(canon) SELECT DISTINCT"
		    " a.canon FROM articles a JOIN feeds f ON f.id = a.feed_id"
		    " WHERE a.canon IS NOT NULL AND f.active = CASE WHEN"
		    " EXISTS (SELECT 1 FROM feed_configs c WHERE c.feed_id ="
		    " f.id) THEN 0 ELSE 1 END ON CONFLICT DO NOTHING", 0, NULL);
	if (rc == 0)
		rc = sync_urls(st, conf, n);
	if (rc == 0)
		rc = add_count(st, n, "configuring a feed",
		    "WITH " CONF_CTE("$1") ", u AS (UPDATE feeds f SET"
		    " conf_title = c.title, max_per_feed = c.max_per_feed,"
		    " enabled = c.enabled, active = 1, removed_at = 0 FROM c"
		    " WHERE f.name = c.name AND (f.conf_title IS DISTINCT FROM"
		    " c.title OR f.max_per_feed <> c.max_per_feed"
		    " OR f.enabled <> c.enabled OR f.active <> 1) RETURNING 1)"
		    " SELECT count(*) FROM u", 1, p);
	if (rc == 0)
		rc = sync_tags(st, conf, n);
	/* Feeds no config lists any more, since now. */
	if (rc == 0)
		rc = add_count(st, n, "deactivating removed feeds",
		    "WITH u AS (UPDATE feeds f SET active = 0, removed_at ="
		    " $1::bigint WHERE f.active = 1 AND NOT EXISTS (SELECT 1"
		    " FROM feed_configs c WHERE c.feed_id = f.id) RETURNING 1)"
		    " SELECT count(*) FROM u", 1, p + 2);
	/* Out of the tag views too (sync_tags puts them back on return). */
	if (rc == 0)
		rc = pg_exec(st, NULL, "untagging removed feeds",
		    "DELETE FROM feed_tags WHERE feed_id IN"
		    " (SELECT id FROM feeds WHERE active = 0)", 0, NULL);
	if (rc == 0)
		rc = fix_primary(st);
	return rc;
}

int
pg_sync_config(struct tr_store *st, const struct tr_config *cfg)
{
	struct tr_buf conf;
	const char *p[1];
	char *key;
	int64_t n = 0;
	int rc;

	if (st->readonly)
		return pg_err(st, TR_EINVAL,
		    "%s: sync_config on a read-only handle", st->shown);
	if ((key = config_key(cfg)) == NULL)
		return pg_err(st, TR_ENOMEM, "out of memory");
	if ((rc = conf_json(st, &conf, cfg)) != 0) {
		tr_buf_free(&conf);
		free(key);
		return rc;
	}
	p[0] = tr_buf_str(&conf);
	if ((rc = pg_begin(st)) != 0) {
		tr_buf_free(&conf);
		free(key);
		return rc;
	}
	rc = pg_exec(st, NULL, "waiting for another node's config sync",
	    "SELECT pg_advisory_xact_lock(" SYNC_LOCK ")", 0, NULL);
	if (rc == 0)
		rc = touched_open(st);
	/* New feeds, in the config's order (their ids follow it). */
	if (rc == 0)
		rc = add_count(st, &n, "adding a feed",
		    "WITH " CONF_CTE("$1") ", i AS (INSERT INTO feeds(name, url)"
		    " SELECT name, url FROM c ORDER BY ord ON CONFLICT (name)"
		    " DO NOTHING RETURNING 1) SELECT count(*) FROM i", 1, p);
	if (rc == 0)
		rc = sync_steps(st, p[0], key, cfg, &n);
	tr_buf_free(&conf);
	free(key);
	if (rc == 0 && n > 0)
		rc = pg_bump_generation(st);
	if (rc == 0)
		rc = pg_commit(st);
	if (rc != 0)
		pg_rollback(st);
	return rc;
}

int
pg_config_seen(struct tr_store *st, const struct tr_config *cfg)
{
	char now[24];
	const char *p[2];
	char *key;
	int rc;

	if (st->readonly)
		return pg_err(st, TR_EINVAL,
		    "%s: config_seen on a read-only handle", st->shown);
	if ((key = config_key(cfg)) == NULL)
		return pg_err(st, TR_ENOMEM, "out of memory");
	p[0] = key;
	p[1] = pg_i64(now, pg_now(st));
	if ((rc = pg_begin(st)) == 0) {
		rc = pg_exec(st, NULL, "recording the config's feeds",
		    "UPDATE feed_configs SET last_seen = $2::bigint"
		    " WHERE config = $1 AND last_seen < $2::bigint", 2, p);
		if (rc == 0)
			rc = pg_commit(st);
		else
			pg_rollback(st);
	}
	free(key);
	return rc;
}

/*
 * The schema of the real tables, quoted for SQL (by the server), in
 * out: the temporary views of pg_use_config() read it, and so does what
 * must see past them.
 */
static int
base_schema(struct tr_store *st, char *out, size_t size)
{
	PGresult *r;
	const char *s;
	int rc;

	if ((rc = pg_exec(st, &r, "reading the schema",
		 "SELECT quote_ident(current_schema())", 0, NULL)) != 0)
		return rc;
	s = PQntuples(r) > 0 ? pg_col_text(r, 0, 0) : NULL;
	if (s == NULL || strlen(s) + 1 > size) {
		PQclear(r);
		return pg_err(st, TR_ESTORE, "%s: the database has no schema "
		    "to use (check the search_path of the address)", st->shown);
	}
	snprintf(out, size, "%s", s);
	PQclear(r);
	return 0;
}

int
pg_listed_elsewhere(struct tr_store *st, const struct tr_config *cfg,
    const char *name, char *other, size_t size)
{
	char schema[200], sql[512];
	const char *p[2];
	PGresult *r;
	char *key;
	int rc;

	if (size > 0)
		other[0] = '\0';
	/* The real feeds table, not the view of a config applied. */
	snprintf(schema, sizeof(schema), "%s", "");
	if (st->cfg_used && (rc = base_schema(st, schema, sizeof(schema) - 1))
	    != 0)
		return rc;
	if (st->cfg_used)
		strcat(schema, ".");
	if ((key = config_key(cfg)) == NULL)
		return pg_err(st, TR_ENOMEM, "out of memory");
	snprintf(sql, sizeof(sql), "SELECT c.config FROM feed_configs c"
	    " JOIN %sfeeds f ON f.id = c.feed_id WHERE f.name = $1"
	    " AND c.config <> $2 ORDER BY c.config COLLATE \"C\" LIMIT 1",
	    schema);
	p[0] = name;
	p[1] = key;
	rc = pg_exec(st, &r, "reading which configs list a feed", sql, 2, p);
	free(key);
	if (rc != 0)
		return rc;
	if (PQntuples(r) > 0) {
		const char *c = pg_col_text(r, 0, 0);

		snprintf(other, size, "%s",
		    c && *c ? c : "a config of an earlier version");
		rc = 1;
	}
	PQclear(r);
	return rc;
}

/* --- purge and retention --- */

/*
 * Deletes the articles and the row of every feed that matches where (a
 * condition on feeds f with $1 bound to text, $2 to num), noting their
 * links for fix_primary(); *n counts deleted articles, *feeds (may be
 * NULL) deleted feeds.
 */
static int
drop_feeds(struct tr_store *st, const char *where, const char *text,
    int64_t num, int64_t *n, int64_t *feeds)
{
	char sql[1024], b[24];
	const char *p[2] = {text ? text : "", pg_i64(b, num)};
	int rc;

	snprintf(sql, sizeof(sql),
	    "WITH d AS (DELETE FROM articles WHERE feed_id IN (SELECT f.id"
	    " FROM feeds f WHERE %s) RETURNING canon), t AS (INSERT INTO"
	    " pg_temp.touched_links(canon) SELECT DISTINCT canon FROM d"
	    " WHERE canon IS NOT NULL ON CONFLICT DO NOTHING)"
	    " SELECT count(*) FROM d", where);
	if ((rc = add_count(st, n, "deleting a removed feed", sql, 2, p)) != 0)
		return rc;
	snprintf(sql, sizeof(sql), "WITH d AS (DELETE FROM feeds f WHERE %s"
	    " RETURNING 1) SELECT count(*) FROM d", where);
	return add_count(st, feeds, "deleting a removed feed", sql, 2, p);
}

int
pg_purge(struct tr_store *st, const char *name, int64_t *deleted)
{
	int64_t n = 0, gone = 0;
	int rc;

	if (deleted)
		*deleted = 0;
	if ((rc = pg_writable(st, "purge a feed")) != 0)
		return rc;
	if ((rc = pg_begin(st)) != 0)
		return rc;
	rc = touched_open(st);
	if (rc == 0)
		rc = drop_feeds(st, "f.name = $1 AND $2::bigint IS NOT NULL",
		    name, 0, &n, &gone);
	if (rc == 0 && gone == 0)
		rc = pg_err(st, TR_ENOTFOUND, "%s: no feed named %s",
		    st->shown, name);
	if (rc == 0)
		rc = fix_primary(st);
	if (rc == 0)
		rc = pg_bump_generation(st);
	if (rc == 0)
		rc = pg_commit(st);
	if (rc != 0) {
		pg_rollback(st);
		return rc;
	}
	if (deleted)
		*deleted = n;
	tr_log(TR_LOG_INFO, "store: feed %s purged, %lld article%s deleted",
	    name, (long long)n, n == 1 ? "" : "s");
	return 0;
}

/*
 * Each feed's limits: the config's for its feeds, the global ones for
 * the feeds it does not list ($1 the config as CONF_CTE reads it, $2
 * keep_days, $3 keep_items).
 */
#define LIMITS_CTE                                                            \
	CONF_CTE("$1") ", lim AS (SELECT f.id, coalesce(c.days, $2::bigint)"  \
	" AS days, coalesce(c.items, $3::bigint) AS items FROM feeds f"       \
	" LEFT JOIN c ON c.name = f.name)"

/*
 * Applies the limits (by age, then by count, per feed) to the articles
 * not in their feed's latest document: those would come back as new.
 */
static int
retain(struct tr_store *st, const char *conf, const struct tr_config *cfg,
    int64_t now, int64_t *n)
{
	char d[24], i[24], t[24];
	const char *p[4] = {conf, pg_i64(d, cfg->keep_days),
	    pg_i64(i, cfg->keep_items), pg_i64(t, now)};
	int rc;

	rc = add_count(st, n, "retention",
	    "WITH " LIMITS_CTE ", d AS (DELETE FROM articles a USING lim"
	    " WHERE a.feed_id = lim.id AND lim.days > 0"
	    " AND a.sort_date < $4::bigint - lim.days * 86400"
	    " AND a.in_latest = 0 RETURNING a.canon), t AS (INSERT INTO"
	    " pg_temp.touched_links(canon) SELECT DISTINCT canon FROM d"
	    " WHERE canon IS NOT NULL ON CONFLICT DO NOTHING)"
	    " SELECT count(*) FROM d", 4, p);
	if (rc == 0)
		rc = add_count(st, n, "retention",
		    "WITH " LIMITS_CTE ", d AS (DELETE FROM articles WHERE id IN"
		    " (SELECT x.id FROM lim CROSS JOIN LATERAL (SELECT a.id,"
		    " a.in_latest FROM articles a WHERE a.feed_id = lim.id"
		    " ORDER BY a.sort_date DESC, a.id DESC OFFSET lim.items) x"
		    " WHERE lim.items > 0 AND x.in_latest = 0)"
		    " RETURNING canon), t AS (INSERT INTO"
		    " pg_temp.touched_links(canon) SELECT DISTINCT canon FROM d"
		    " WHERE canon IS NOT NULL ON CONFLICT DO NOTHING)"
		    " SELECT count(*) FROM d", 3, p);
	return rc;
}

int
pg_retention(struct tr_store *st, const struct tr_config *cfg, int64_t now,
    int64_t *deleted)
{
	struct tr_buf conf;
	int64_t n = 0;
	int rc;

	if (deleted)
		*deleted = 0;
	if ((rc = pg_writable(st, "apply retention")) != 0)
		return rc;
	if ((rc = conf_json(st, &conf, cfg)) != 0) {
		tr_buf_free(&conf);
		return rc;
	}
	if ((rc = pg_begin(st)) != 0) {
		tr_buf_free(&conf);
		return rc;
	}
	rc = touched_open(st);
	if (rc == 0)
		rc = retain(st, tr_buf_str(&conf), cfg, now, &n);
	/* Feeds removed from the config more than removed_keep ago. */
	if (rc == 0)
		rc = drop_feeds(st, "$1::text IS NOT NULL AND f.active = 0"
				    " AND f.removed_at > 0"
				    " AND f.removed_at <= $2::bigint",
		    NULL, now - cfg->removed_keep, &n, NULL);
	if (rc == 0)
		rc = fix_primary(st);
	if (rc == 0 && n > 0)
		rc = pg_bump_generation(st);
	if (rc == 0)
		rc = pg_commit(st);
	tr_buf_free(&conf);
	if (rc != 0) {
		pg_rollback(st);
		return rc;
	}
	if (deleted)
		*deleted = n;
	if (n > 0)
		tr_log(TR_LOG_INFO, "store: retention deleted %lld article%s",
		    (long long)n, n == 1 ? "" : "s");
	return 0;
}

/* --- reading with the config at hand --- */

/*
 * The columns of the view feeds, active given: a row of @S.feeds f, with
 * c its row of pg_temp.conf_feeds (all NULL when the config does not
 * list it).
 */
#define SHADOW_COLS(active)                                                  \
	" SELECT f.id AS id, f.name AS name, coalesce(c.url, f.url) AS url,"  \
	" CASE WHEN c.url IS NULL OR c.url = f.url THEN f.effective_url END"  \
	"  AS effective_url,"                                                 \
	" CASE WHEN c.name IS NULL THEN f.conf_title ELSE c.title END"        \
	"  AS conf_title,"                                                    \
	" f.doc_title AS doc_title, f.site_link AS site_link,"                \
	" f.doc_author AS doc_author, f.etag AS etag,"                        \
	" f.last_modified AS last_modified, f.body_hash AS body_hash,"        \
	" f.last_check AS last_check, f.next_check AS next_check,"            \
	" f.last_success AS last_success, f.retry_after AS retry_after,"      \
	" f.errors AS errors, f.last_error AS last_error,"                    \
	" f.last_status AS last_status,"                                      \
	" CASE WHEN c.url IS NULL OR c.url = f.url THEN f.disabled ELSE 0 END" \
	"  AS disabled,"                                                      \
	" CASE WHEN c.url IS NULL OR c.url = f.url THEN f.disabled_reason END" \
	"  AS disabled_reason, " active " AS active,"                        \
	" coalesce(c.enabled, f.enabled) AS enabled,"                         \
	" coalesce(c.max_per_feed, f.max_per_feed) AS max_per_feed,"          \
	" CASE WHEN c.name IS NULL THEN f.removed_at ELSE 0 END AS removed_at," \
	" f.lease_owner AS lease_owner, f.lease_until AS lease_until"

/*
 * The temporary tables and the views over the real tables (@S stands for
 * their schema; see the file's head comment). The views read the real
 * rows as they are now, so the polling state a running process writes
 * shows at once; the config decides membership (active), titles,
 * max_per_feed, enabled and tags. feeds_in is feeds' rows with active 1,
 * as an inner join that the planner reads with the statistics of
 * conf_feeds: the merged query joins it, where "feeds ... WHERE active =
 * 1" would be estimated at 0.5% of the feeds (the planner has no
 * statistics for an expression over an outer join) and read with the
 * wrong plan.
 */
static const char shadow_sql[] =
    "DROP VIEW IF EXISTS pg_temp.feeds_all;"
    "DROP VIEW IF EXISTS pg_temp.feeds;"
    "DROP VIEW IF EXISTS pg_temp.feeds_in;"
    "DROP VIEW IF EXISTS pg_temp.feed_tags;"
    "DROP TABLE IF EXISTS pg_temp.conf_feeds;"
    "DROP TABLE IF EXISTS pg_temp.conf_tags;"
    "DROP TABLE IF EXISTS pg_temp.conf_self;"
    "CREATE TEMP TABLE conf_self (key TEXT NOT NULL);"
    "CREATE TEMP TABLE conf_feeds (ord BIGINT NOT NULL, name TEXT PRIMARY"
    "  KEY, url TEXT, title TEXT, max_per_feed INTEGER, enabled INTEGER);"
    "CREATE TEMP TABLE conf_tags (tag TEXT NOT NULL, name TEXT NOT NULL,"
    "  PRIMARY KEY (tag, name));"
    "CREATE TEMP VIEW feeds AS" SHADOW_COLS("(c.name IS NOT NULL)::integer")
    " FROM @S.feeds f LEFT JOIN pg_temp.conf_feeds c ON c.name = f.name"
    /* Another config's feeds are none of this one's business; feeds no
     * other config lists show as removed. */
    " WHERE c.name IS NOT NULL OR f.active = 0 OR NOT EXISTS (SELECT 1"
    " FROM @S.feed_configs fc WHERE fc.feed_id = f.id"
    " AND fc.config <> (SELECT key FROM pg_temp.conf_self));"
    /* Listings add the config's feeds not stored yet: not in feeds, so
     * that the merged query's join stays a lookup by id. */
    "CREATE TEMP VIEW feeds_all AS SELECT * FROM pg_temp.feeds"
    " UNION ALL SELECT -c.ord, c.name, c.url, NULL, c.title, NULL, NULL,"
    " NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL, 0, 0, NULL, 1, c.enabled,"
    " c.max_per_feed, 0, NULL, 0 FROM pg_temp.conf_feeds c WHERE NOT EXISTS"
    " (SELECT 1 FROM @S.feeds m WHERE m.name = c.name);"
    "CREATE TEMP VIEW feed_tags AS SELECT t.tag AS tag, f.id AS feed_id"
    " FROM pg_temp.conf_tags t JOIN @S.feeds f ON f.name = t.name;"
    "CREATE TEMP VIEW feeds_in AS" SHADOW_COLS("1")
    " FROM @S.feeds f JOIN pg_temp.conf_feeds c ON c.name = f.name;";

/* sql with every @S replaced by schema; malloc'ed, or NULL. */
static char *
with_schema(const char *sql, const char *schema)
{
	size_t n = 0, len;
	const char *q;
	char *out, *o;

	for (q = sql; (q = strstr(q, "@S")) != NULL; q += 2)
		n++;
	len = strlen(sql) + n * strlen(schema) + 1;
	if ((out = malloc(len)) == NULL)
		return NULL;
	for (o = out, q = sql; *q;) {
		if (q[0] == '@' && q[1] == 'S') {
			memcpy(o, schema, strlen(schema));
			o += strlen(schema);
			q += 2;
		} else
			*o++ = *q++;
	}
	*o = '\0';
	return out;
}

/* A hash of what of cfg the views show. */
static uint64_t
config_hash(const struct tr_config *cfg)
{
	uint64_t h = TR_HASH_INIT;
	size_t i, j;

	for (i = 0; i < cfg->n_feeds; i++) {
		const struct tr_feed_conf *f = &cfg->feeds[i];
		int64_t cap = tr_config_feed_max_per_feed(cfg, f);

		h = tr_hash(h, f->name, strlen(f->name) + 1);
		h = tr_hash(h, f->url, strlen(f->url) + 1);
		h = f->title ? tr_hash(h, f->title, strlen(f->title) + 1)
			     : tr_hash(h, "\xff", 1);
		h = tr_hash(h, &cap, sizeof(cap));
		h = tr_hash(h, f->enabled ? "y" : "n", 1);
		for (j = 0; j < f->n_tags; j++)
			h = tr_hash(h, f->tags[j], strlen(f->tags[j]) + 1);
		h = tr_hash(h, "\n", 1);
	}
	return h;
}

/*
 * Runs sql on the connection as it is, without pg_exec()'s reconnect
 * (pg_config_again runs inside it): 0, or TR_ESTORE with errmsg set.
 */
static int
raw_exec(struct tr_store *st, PGresult **out, const char *sql, int n,
    const char *const *p)
{
	PGresult *r = n == 0 ? PQexec(st->conn, sql)
			     : PQexecParams(st->conn, sql, n, NULL, p, NULL,
				   NULL, 0);
	ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;

	if (s != PGRES_COMMAND_OK && s != PGRES_TUPLES_OK) {
		int rc = pg_dberr(st, r, "applying the config");

		PQclear(r);
		return rc;
	}
	if (out)
		*out = r;
	else
		PQclear(r);
	return 0;
}

/*
 * Makes the temporary tables and views of the config conf (its JSON, as
 * CONF_CTE reads it) and key on this session. Only temporary objects
 * are written, in a read-write transaction of their own (BEGIN READ
 * WRITE: a read-only handle's transactions are read-only by default, and
 * PostgreSQL refuses even temporary tables in those); the database's
 * tables are only read.
 */
static int
shadow_apply(struct tr_store *st, const char *conf, const char *key)
{
	const char *p[2] = {conf, key};
	char *sql = NULL;
	PGresult *r = NULL;
	int rc;

	/* The real schema, read before the views hide its tables. */
	rc = raw_exec(st, &r, "SELECT quote_ident(current_schema())", 0, NULL);
	if (rc == 0 && (PQntuples(r) == 0 || PQgetisnull(r, 0, 0)))
		rc = pg_err(st, TR_ESTORE, "%s: the database has no schema "
		    "to use (check the search_path of the address)", st->shown);
	if (rc == 0 &&
	    (sql = with_schema(shadow_sql, PQgetvalue(r, 0, 0))) == NULL)
		rc = pg_err(st, TR_ENOMEM, "out of memory");
	PQclear(r);
	if (rc == 0 && (rc = raw_exec(st, NULL, "BEGIN READ WRITE", 0, NULL))
	    == 0) {
		rc = raw_exec(st, NULL, sql, 0, NULL);
		if (rc == 0)
			rc = raw_exec(st, NULL,
			    "WITH " CONF_CTE("$1") ", cf AS (INSERT INTO"
			    " pg_temp.conf_feeds(ord, name, url, title,"
			    " max_per_feed, enabled) SELECT DISTINCT ON (name)"
			    " ord, name, url, title, max_per_feed, enabled"
			    " FROM c ORDER BY name, ord DESC), ct AS (INSERT"
			    " INTO pg_temp.conf_tags(tag, name) SELECT DISTINCT"
			    " t, c.name FROM c CROSS JOIN"
			    " json_array_elements_text(c.tags) t)"
			    " INSERT INTO pg_temp.conf_self(key) VALUES ($2)",
			    2, p);
		/* Autovacuum never analyzes temporary tables: without
		 * statistics the planner guesses their sizes from their
		 * pages, and a config of 20 feeds looks like one of 1,000. */
		if (rc == 0)
			rc = raw_exec(st, NULL, "ANALYZE pg_temp.conf_feeds,"
			    " pg_temp.conf_tags, pg_temp.conf_self", 0, NULL);
		if (rc == 0)
			rc = raw_exec(st, NULL, "COMMIT", 0, NULL);
		if (rc != 0)
			PQclear(PQexec(st->conn, "ROLLBACK"));
	}
	free(sql);
	return rc;
}

void
pg_config_forget(struct tr_store *st)
{
	free(st->cfg_json);
	free(st->cfg_key);
	st->cfg_json = st->cfg_key = NULL;
}

int
pg_config_again(struct tr_store *st)
{
	int rc;

	if (st->cfg_json == NULL || st->cfg_key == NULL)
		return pg_err(st, TR_ESTORE, "%s: no config to apply again",
		    st->shown);
	if ((rc = shadow_apply(st, st->cfg_json, st->cfg_key)) == 0)
		tr_log(TR_LOG_INFO, "store %s: the config's view of the feeds "
		    "made again on the new connection", st->shown);
	return rc;
}

int
pg_use_config(struct tr_store *st, const struct tr_config *cfg)
{
	char schema[200], *key = NULL, *json = NULL;
	struct tr_buf conf;
	uint64_t hash = config_hash(cfg);
	int rc;

	if (st->cfg_used && st->cfg_hash == hash)
		return 0;
	if (st->in_group)
		return pg_err(st, TR_EINVAL, "%s: a config cannot be applied "
		    "while a group of writes is open", st->shown);
	if ((rc = conf_json(st, &conf, cfg)) != 0) {
		tr_buf_free(&conf);
		return rc;
	}
	st->cfg_used = 0;
	/* Through pg_exec: a connection the server ended is made again. */
	rc = base_schema(st, schema, sizeof(schema));
	if (rc == 0 && ((key = config_key(cfg)) == NULL ||
			   (json = strdup(tr_buf_str(&conf))) == NULL))
		rc = pg_err(st, TR_ENOMEM, "out of memory");
	if (rc == 0)
		rc = shadow_apply(st, json, key);
	tr_buf_free(&conf);
	if (rc != 0) {
		free(key);
		free(json);
		return rc;
	}
	/* Kept, so that a reconnect makes the views again (pg_config_again). */
	pg_config_forget(st);
	st->cfg_json = json;
	st->cfg_key = key;
	st->cfg_used = 1;
	st->cfg_hash = hash;
	return 0;
}
