/*
 * store_feeds.c — feeds and their polling state, reconciling the feeds
 * table with feeds.conf, and retention.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_sqlite_int.h"
#include "tributary/error.h"
#include "tributary/hash.h"
#include "tributary/log.h"

/* --- feeds --- */

/* Fills fs from a row of FEED_COLS; the strings are borrowed from s. */
static void
feed_from_row(struct tr_feed_state *fs, sqlite3_stmt *s)
{
	memset(fs, 0, sizeof(*fs));
	fs->name = store_col_borrow(s, 0);
	fs->url = store_col_borrow(s, 1);
	fs->effective_url = store_col_borrow(s, 2);
	fs->title = store_col_borrow(s, 3);
	fs->site_link = store_col_borrow(s, 4);
	fs->etag = store_col_borrow(s, 5);
	fs->last_modified = store_col_borrow(s, 6);
	fs->body_hash = store_col_borrow(s, 7);
	fs->last_check = sqlite3_column_int64(s, 8);
	fs->next_check = sqlite3_column_int64(s, 9);
	fs->last_success = sqlite3_column_int64(s, 10);
	fs->retry_after = sqlite3_column_int64(s, 11);
	fs->errors = sqlite3_column_int64(s, 12);
	fs->last_error = store_col_borrow(s, 13);
	fs->last_status = sqlite3_column_int(s, 14);
	fs->disabled = sqlite3_column_int(s, 15);
	fs->disabled_reason = store_col_borrow(s, 16);
	fs->active = sqlite3_column_int(s, 17) != 0;
	fs->n_articles = sqlite3_column_int64(s, 18);
	fs->enabled = sqlite3_column_int(s, 19);
	fs->removed_at = sqlite3_column_int64(s, 20);
}

int
sq_feed_get(struct tr_store *st, struct tr_feed_state *out,
    const char *name)
{
	sqlite3_stmt *s = st->cfg_used ? NULL : store_stmt(st, S_FEED_GET);
	int rc;

	memset(out, 0, sizeof(*out));
	if (st->cfg_used && sqlite3_prepare_v2(st->db, "SELECT " FEED_COLS
		" FROM feeds_all f WHERE f.name = ?1", -1, &s, NULL) !=
		SQLITE_OK) {
		sqlite3_finalize(s);
		return store_dberr(st, "reading a feed");
	}
	if (s == NULL)
		return TR_ESTORE;
	store_bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		struct tr_feed_state row;

		feed_from_row(&row, s);
		if (tr_feed_state_copy(out, &row) != 0) {
			sqlite3_reset(s);
			return store_err(st, TR_ENOMEM, "out of memory");
		}
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = store_err(st, TR_ENOTFOUND, "%s: no feed named %s",
		    st->path, name);
	else
		rc = store_dberr(st, "reading a feed");
	if (st->cfg_used)
		sqlite3_finalize(s);
	else
		sqlite3_reset(s);
	return rc;
}

/*
 * Calls cb for every feed, by name; all: with each feed's number of
 * articles (sq_feeds), else whether it has any (sq_feed_states).
 */
static int
feeds_walk(struct tr_store *st, int all, tr_feed_cb cb, void *arg)
{
	sqlite3_stmt *s = st->cfg_used
	                      ? NULL
	                      : store_stmt(st, all ? S_FEED_ALL : S_FEED_STATES);
	struct tr_feed_state fs;
	int rc;

	if (st->cfg_used && sqlite3_prepare_v2(st->db, all
		? "SELECT " FEED_COLS " FROM feeds_all f ORDER BY f.name"
		: "SELECT " FEED_COLS_ANY " FROM feeds_all f ORDER BY f.name",
		-1, &s, NULL) != SQLITE_OK) {
		sqlite3_finalize(s);
		return store_dberr(st, "listing feeds");
	}
	if (s == NULL)
		return TR_ESTORE;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int crc;

		feed_from_row(&fs, s);
		if ((crc = cb(&fs, arg)) != 0) {
			if (st->cfg_used)
				sqlite3_finalize(s);
			else
				sqlite3_reset(s);
			return crc < 0 ? crc : TR_EABORT;
		}
	}
	if (st->cfg_used)
		sqlite3_finalize(s);
	else
		sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_dberr(st, "listing feeds");
	return 0;
}

int
sq_feeds(struct tr_store *st, tr_feed_cb cb, void *arg)
{
	return feeds_walk(st, 1, cb, arg);
}

int
sq_feed_states(struct tr_store *st, tr_feed_cb cb, void *arg)
{
	return feeds_walk(st, 0, cb, arg);
}

static int
streq(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/*
 * Saves the polling state. A change of the effective URL or of the
 * disabled flag shows in the rendered feeds, so it bumps the generation.
 */
int
sq_feed_save(struct tr_store *st, const struct tr_feed_state *fs)
{
	sqlite3_stmt *s;
	int rc, bump = 0;

	if (fs == NULL || fs->name == NULL)
		return store_err(st, TR_EINVAL, "feed_save: no feed name");
	if ((rc = store_begin(st)) != 0)
		return rc;
	if ((s = store_stmt(st, S_FEED_OLD)) == NULL) {
		rc = TR_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, fs->name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		bump = !streq(store_col_text(s, 0), fs->effective_url) ||
		       (sqlite3_column_int(s, 1) != 0) != (fs->disabled != 0);
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = store_err(st, TR_ENOTFOUND, "%s: no feed named %s",
		    st->path, fs->name);
	else
		rc = store_dberr(st, "reading a feed");
	sqlite3_reset(s);
	if (rc != 0)
		goto out;
	if ((s = store_stmt(st, S_FEED_SAVE)) == NULL) {
		rc = TR_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, fs->name);
	store_bind_text(s, 2, fs->effective_url);
	store_bind_text(s, 3, fs->etag);
	store_bind_text(s, 4, fs->last_modified);
	store_bind_text(s, 5, fs->body_hash);
	sqlite3_bind_int64(s, 6, fs->last_check);
	sqlite3_bind_int64(s, 7, fs->next_check);
	sqlite3_bind_int64(s, 8, fs->last_success);
	sqlite3_bind_int64(s, 9, fs->retry_after);
	sqlite3_bind_int64(s, 10, fs->errors);
	store_bind_text(s, 11, fs->last_error);
	sqlite3_bind_int(s, 12, fs->last_status);
	sqlite3_bind_int(s, 13, fs->disabled != 0);
	store_bind_text(s, 14, fs->disabled_reason);
	if ((rc = store_exec_stmt(st, s, "saving a feed")) != 0)
		goto out;
	if (bump && (rc = store_bump_generation(st)) != 0)
		goto out;
	rc = store_commit(st);
out:
	if (rc != 0)
		store_rollback(st);
	return rc;
}

/* --- reconciling with feeds.conf --- */

/* Sorted, newline-joined tags of f, as S_TAGS_GET returns them. */
static int
tags_text(struct tr_buf *b, const struct tr_feed_conf *f)
{
	const char **v = NULL;
	size_t i, j;
	int rc = 0;

	tr_buf_reset(b);
	if (f->n_tags == 0)
		return 0;
	if ((v = malloc(f->n_tags * sizeof(*v))) == NULL)
		return TR_ENOMEM;
	for (i = 0; i < f->n_tags; i++) {
		const char *t = f->tags[i];

		/* Insertion sort: a feed has a handful of tags. */
		for (j = i; j > 0 && strcmp(v[j - 1], t) > 0; j--)
			v[j] = v[j - 1];
		v[j] = t;
	}
	for (i = 0; i < f->n_tags && rc == 0; i++) {
		if (i > 0 && strcmp(v[i], v[i - 1]) == 0)
			continue;
		if (i > 0)
			rc = tr_buf_addc(b, '\n');
		if (rc == 0)
			rc = tr_buf_adds(b, v[i]);
	}
	free(v);
	return rc;
}

/* Replaces the feed's tags when they differ from the configured ones. */
static int
sync_tags(struct tr_store *st, const struct tr_feed_conf *f, int64_t *n)
{
	struct tr_buf want;
	sqlite3_stmt *s;
	size_t i;
	int rc, same;

	tr_buf_init(&want, 1 << 20);
	if ((rc = tags_text(&want, f)) != 0)
		goto out;
	if ((s = store_stmt(st, S_TAGS_GET)) == NULL) {
		rc = TR_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, f->name);
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = store_dberr(st, "reading tags");
		goto out;
	}
	same = strcmp(store_col_text(s, 0) ? store_col_text(s, 0) : "",
		   tr_buf_str(&want)) == 0;
	sqlite3_reset(s);
	if (same)
		goto out;
	if ((s = store_stmt(st, S_TAGS_DEL)) == NULL) {
		rc = TR_ESTORE;
		goto out;
	}
	store_bind_text(s, 1, f->name);
	if ((rc = store_exec_stmt(st, s, "deleting tags")) != 0)
		goto out;
	*n += 1;
	for (i = 0; i < f->n_tags; i++) {
		if ((s = store_stmt(st, S_TAG_ADD)) == NULL) {
			rc = TR_ESTORE;
			goto out;
		}
		store_bind_text(s, 1, f->name);
		store_bind_text(s, 2, f->tags[i]);
		if ((rc = store_exec_stmt(st, s, "adding a tag")) != 0)
			goto out;
	}
out:
	tr_buf_free(&want);
	return rc;
}

/*
 * What a sync must write for one configured feed, as found by
 * sync_read(): each flag stands for one statement of sync_feed(), which
 * keeps its own condition, so a flag set in doubt changes nothing that
 * the statement would not.
 */
enum {
	SYNC_NEW = 1,	/* no row of that name: insert one */
	SYNC_URL = 2,	/* the URL differs: reset the validators */
	SYNC_CONF = 4,	/* title, max_per_feed, enabled or active differ */
	SYNC_TAGS = 8	/* the tags differ */
};

/* Updates one configured feed as *flags says; *n counts rows written. */
static int
sync_feed(struct tr_store *st, const struct tr_config *cfg,
    const struct tr_feed_conf *f, unsigned flags, int64_t *n)
{
	sqlite3_stmt *s;
	int rc;

	if ((flags & SYNC_URL) != 0) {
		if ((s = store_stmt(st, S_FEED_URL_RESET)) == NULL)
			return TR_ESTORE;
		store_bind_text(s, 1, f->name);
		store_bind_text(s, 2, f->url);
		if ((rc = store_exec_stmt(st, s, "resetting a feed")) != 0)
			return rc;
		if (sqlite3_changes(st->db) > 0) {
			tr_log(TR_LOG_INFO,
			    "feed %s: URL changed to %s, validators reset",
			    f->name, f->url);
			*n += 1;
		}
	}
	if ((flags & SYNC_CONF) != 0) {
		if ((s = store_stmt(st, S_FEED_CONF)) == NULL)
			return TR_ESTORE;
		store_bind_text(s, 1, f->name);
		store_bind_text(s, 2, f->title);
		sqlite3_bind_int64(s, 3, tr_config_feed_max_per_feed(cfg, f));
		sqlite3_bind_int(s, 4, f->enabled != 0);
		if ((rc = store_exec_stmt(st, s, "configuring a feed")) != 0)
			return rc;
		*n += sqlite3_changes(st->db);
	}
	return (flags & SYNC_TAGS) != 0 ? sync_tags(st, f, n) : 0;
}

/*
 * Reads the stored rows of cfg's feeds (names: their names as a JSON
 * array) in one statement and sets flags[i] to what feed i needs
 * written: in a round whose config did not change, nothing, where each
 * feed took four statements before. The comparisons are those of the
 * statements' own conditions (S_FEED_URL_RESET, S_FEED_CONF, S_TAGS_GET).
 */
static const char sync_read_sql[] =
    "SELECT j.key, f.id, f.url, f.conf_title, f.max_per_feed, f.enabled,"
    " f.active, (SELECT group_concat(t.tag, char(10)) FROM (SELECT tag"
    " FROM feed_tags WHERE feed_id = f.id ORDER BY tag) t)"
    " FROM json_each(?1) j LEFT JOIN feeds f ON f.name = j.value";

static int
sync_read(struct tr_store *st, const struct tr_config *cfg,
    const char *names, unsigned char *flags)
{
	sqlite3_stmt *s = NULL;
	struct tr_buf tags;
	int rc = 0, step;

	tr_buf_init(&tags, 1 << 20);
	if (sqlite3_prepare_v2(st->db, sync_read_sql, -1, &s, NULL) !=
	    SQLITE_OK) {
		rc = store_dberr(st, "reading the feeds");
		goto out;
	}
	sqlite3_bind_text(s, 1, names, -1, SQLITE_STATIC);
	while (rc == 0 && (step = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t i = sqlite3_column_int64(s, 0);
		const struct tr_feed_conf *f;
		const char *have;
		unsigned fl = 0;

		if (i < 0 || (size_t)i >= cfg->n_feeds)
			continue;
		f = &cfg->feeds[i];
		if (sqlite3_column_type(s, 1) == SQLITE_NULL) {
			fl = SYNC_NEW | SYNC_CONF;
		} else {
			if (!streq(store_col_text(s, 2), f->url))
				fl |= SYNC_URL;
			if (!streq(store_col_text(s, 3), f->title) ||
			    sqlite3_column_int64(s, 4) !=
			        tr_config_feed_max_per_feed(cfg, f) ||
			    sqlite3_column_int64(s, 5) != (f->enabled != 0) ||
			    sqlite3_column_int64(s, 6) != 1)
				fl |= SYNC_CONF;
		}
		if ((rc = tags_text(&tags, f)) != 0) {
			rc = store_err(st, rc, "out of memory");
			break;
		}
		have = store_col_text(s, 7);
		if (strcmp(have ? have : "", tr_buf_str(&tags)) != 0)
			fl |= SYNC_TAGS;
		flags[i] = (unsigned char)fl;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_dberr(st, "reading the feeds");
out:
	sqlite3_finalize(s);
	tr_buf_free(&tags);
	return rc;
}

/* Runs one-off sql with text bound to ?1 (NULL: none). */
static int
run_names(struct tr_store *st, const char *sql, const char *text,
    const char *what)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		rc = store_dberr(st, what);
		sqlite3_finalize(s);
		return rc;
	}
	if (text)
		sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	rc = store_exec_stmt(st, s, what);
	sqlite3_finalize(s);
	return rc;
}

/* The names of cfg's feeds as a JSON array, for json_each(). */
static int
names_json(struct tr_store *st, struct tr_buf *names,
    const struct tr_config *cfg)
{
	size_t i;
	int rc;

	tr_buf_init(names, (size_t)1 << 30);
	rc = tr_buf_addc(names, '[');
	for (i = 0; i < cfg->n_feeds && rc == 0; i++) {
		if (i > 0)
			rc = tr_buf_addc(names, ',');
		if (rc == 0)
			rc = store_json_str(names, cfg->feeds[i].name);
	}
	if (rc == 0)
		rc = tr_buf_addc(names, ']');
	return rc ? store_err(st, rc, "out of memory") : 0;
}

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

/* Runs one-off sql with ?1 = text, ?2 = a, ?3 = b. */
static int
run_key(struct tr_store *st, const char *sql, const char *text, int64_t a,
    int64_t b, const char *what)
{
	sqlite3_stmt *s = NULL;
	int rc;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		rc = store_dberr(st, what);
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, a);
	sqlite3_bind_int64(s, 3, b);
	rc = store_exec_stmt(st, s, what);
	sqlite3_finalize(s);
	return rc;
}

/*
 * Forgets the other configs not heard of for keep seconds whose file is
 * gone (the unnamed one of the migration has none): a config file that
 * is still there keeps its feeds listed, whatever the age of its last
 * sync, so that one config's rounds never remove another's feeds.
 */
static int
forget_configs(struct tr_store *st, const char *key, int64_t now,
    int64_t keep)
{
	sqlite3_stmt *s = NULL;
	char **gone = NULL;
	size_t n = 0, i;
	int rc = 0, step;

	if (sqlite3_prepare_v2(st->db, "SELECT config FROM feed_configs"
		" WHERE config <> ?1 GROUP BY config"
		" HAVING max(last_seen) <= ?2 - ?3", -1, &s, NULL) !=
	    SQLITE_OK) {
		rc = store_dberr(st, "forgetting configs not seen");
		sqlite3_finalize(s);
		return rc;
	}
	sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, now);
	sqlite3_bind_int64(s, 3, keep);
	while ((step = sqlite3_step(s)) == SQLITE_ROW && rc == 0) {
		const char *c = store_col_text(s, 0);
		char **ng;

		if (c == NULL || (c[0] != '\0' && access(c, F_OK) == 0))
			continue;
		if ((ng = realloc(gone, (n + 1) * sizeof(*gone))) == NULL ||
		    (ng[n] = strdup(c)) == NULL) {
			if (ng)
				gone = ng;
			rc = store_err(st, TR_ENOMEM, "out of memory");
			break;
		}
		gone = ng;
		n++;
	}
	if (rc == 0 && step != SQLITE_DONE && step != SQLITE_ROW)
		rc = store_dberr(st, "forgetting configs not seen");
	sqlite3_finalize(s);
	for (i = 0; i < n; i++) {
		if (rc == 0) {
			tr_log(TR_LOG_INFO, "store: config %s not seen for "
			    "removed_keep and gone: its feeds count as "
			    "removed from it", gone[i][0] ? gone[i]
			    : "(before schema 8)");
			rc = run_key(st, "DELETE FROM feed_configs"
					 " WHERE config = ?1", gone[i], 0, 0,
			    "forgetting configs not seen");
		}
		free(gone[i]);
	}
	free(gone);
	return rc;
}

/*
 * Records that the config key lists exactly the feeds names (a JSON
 * array), as of now, and forgets what configs not heard of for keep
 * seconds listed.
 */
static int
sync_membership(struct tr_store *st, const char *key, const char *names,
    int64_t now, int64_t keep)
{
	sqlite3_stmt *s = NULL;
	int rc;

	/* The rows that stay are updated, not deleted and inserted again:
	 * a sync of an unchanged config within the same second writes none. */
	static const char *const sql[] = {
	    "DELETE FROM feed_configs WHERE config = ?1 AND feed_id NOT IN"
	    " (SELECT id FROM feeds WHERE name IN"
	    " (SELECT value FROM json_each(?3)))",
	    "INSERT INTO feed_configs(config, feed_id, last_seen)"
	    " SELECT ?1, id, ?2 FROM feeds WHERE name IN"
	    " (SELECT value FROM json_each(?3))"
	    " ON CONFLICT(config, feed_id) DO UPDATE"
	    " SET last_seen = excluded.last_seen"
	    " WHERE last_seen IS NOT excluded.last_seen",
	};
	size_t i;

	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		if (sqlite3_prepare_v2(st->db, sql[i], -1, &s, NULL) !=
		    SQLITE_OK) {
			rc = store_dberr(st, "recording the config's feeds");
			sqlite3_finalize(s);
			return rc;
		}
		sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, now);
		sqlite3_bind_text(s, 3, names, -1, SQLITE_STATIC);
		rc = store_exec_stmt(st, s, "recording the config's feeds");
		sqlite3_finalize(s);
		s = NULL;
		if (rc != 0)
			return rc;
	}
	return forget_configs(st, key, now, keep);
}

int
sq_listed_elsewhere(struct tr_store *st, const struct tr_config *cfg,
    const char *name, char *other, size_t size)
{
	sqlite3_stmt *s = NULL;
	char *key;
	int rc;

	if (size > 0)
		other[0] = '\0';
	if ((key = config_key(cfg)) == NULL)
		return store_err(st, TR_ENOMEM, "out of memory");
	if (sqlite3_prepare_v2(st->db, "SELECT c.config FROM main.feed_configs"
		" c JOIN main.feeds f ON f.id = c.feed_id WHERE f.name = ?1"
		" AND c.config <> ?2 ORDER BY c.config LIMIT 1", -1, &s,
		NULL) != SQLITE_OK) {
		rc = store_dberr(st, "reading which configs list a feed");
		goto out;
	}
	sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		const char *c = store_col_text(s, 0);

		snprintf(other, size, "%s",
		    c && *c ? c : "a config of an earlier version");
		rc = 1;
	} else if (rc == SQLITE_DONE)
		rc = 0;
	else
		rc = store_dberr(st, "reading which configs list a feed");
out:
	sqlite3_finalize(s);
	free(key);
	return rc;
}

int
sq_config_seen(struct tr_store *st, const struct tr_config *cfg)
{
	char *key;
	int rc;

	if (st->readonly)
		return store_err(st, TR_EINVAL,
		    "%s: config_seen on a read-only handle", st->path);
	if ((key = config_key(cfg)) == NULL)
		return store_err(st, TR_ENOMEM, "out of memory");
	if ((rc = store_begin(st)) == 0) {
		rc = run_key(st, "UPDATE feed_configs SET last_seen = ?2"
				 " WHERE config = ?1 AND last_seen < ?2",
		    key, store_now(st), 0, "recording the config's feeds");
		if (rc == 0)
			rc = store_commit(st);
		else
			store_rollback(st);
	}
	free(key);
	return rc;
}

/*
 * Notes the links of feeds that leave every config or come back: the
 * row that stands for a link several feeds carry moves to a feed in a
 * config (store_fix_primary()), so the merged feed keeps the article.
 * The feeds come first (CROSS JOIN keeps SQLite's planner from turning
 * the loops around), then the articles of the few that move through
 * articles_feed: with articles outside, every sync read every article
 * row through the link index, 2.4 s of a 5 s round of 1,000 feeds that
 * stored 100 articles, for no feed moving.
 */
static int
note_moving_links(struct tr_store *st)
{
	return run_names(st, "INSERT OR IGNORE INTO temp.touched(canon)"
			     " SELECT a.canon FROM feeds f CROSS JOIN"
			     " articles a ON a.feed_id = f.id"
			     " WHERE a.canon IS NOT NULL"
			     " AND f.active = NOT EXISTS (SELECT 1 FROM"
			     " feed_configs c WHERE c.feed_id = f.id)",
	    NULL, "noting removed feeds' links");
}

/* Marks every feed that is not in cfg inactive, since now. */
static int
sync_removed(struct tr_store *st, const char *names, int64_t *n)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = store_stmt(st, S_FEED_DEACTIVATE)) == NULL)
		return TR_ESTORE;
	store_bind_text(s, 1, names);
	sqlite3_bind_int64(s, 2, store_now(st));
	rc = store_exec_stmt(st, s, "deactivating removed feeds");
	*n += sqlite3_changes(st->db);
	/* Out of the tag views too (sync_tags puts them back on return). */
	if (rc == 0)
		rc = run_names(st, "DELETE FROM feed_tags WHERE feed_id IN"
				   " (SELECT id FROM feeds WHERE active = 0)",
		    NULL, "untagging removed feeds");
	return rc;
}

int
sq_sync_config(struct tr_store *st, const struct tr_config *cfg)
{
	struct tr_buf names;
	unsigned char *flags = NULL;
	char *key;
	int64_t n = 0;
	size_t i;
	int rc;

	if (st->readonly)
		return store_err(st, TR_EINVAL,
		    "%s: sync_config on a read-only handle", st->path);
	if ((key = config_key(cfg)) == NULL)
		return store_err(st, TR_ENOMEM, "out of memory");
	if ((rc = names_json(st, &names, cfg)) != 0) {
		tr_buf_free(&names);
		free(key);
		return rc;
	}
	/* At a start or a reload: wait as long as an open does. */
	sqlite3_busy_timeout(st->db, STORE_OPEN_BUSY_MS);
	rc = store_begin(st);
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	if (rc != 0) {
		tr_buf_free(&names);
		free(key);
		return rc;
	}
	rc = store_exec(st, "DELETE FROM temp.touched");
	if (rc == 0 && cfg->n_feeds > 0 &&
	    (flags = calloc(cfg->n_feeds, 1)) == NULL)
		rc = store_err(st, TR_ENOMEM, "out of memory");
	if (rc == 0)
		rc = sync_read(st, cfg, tr_buf_str(&names), flags);
	for (i = 0; i < cfg->n_feeds && rc == 0; i++) {
		sqlite3_stmt *s;

		if ((flags[i] & SYNC_NEW) == 0)
			continue;
		if ((s = store_stmt(st, S_FEED_INSERT)) == NULL) {
			rc = TR_ESTORE;
			break;
		}
		store_bind_text(s, 1, cfg->feeds[i].name);
		store_bind_text(s, 2, cfg->feeds[i].url);
		rc = store_exec_stmt(st, s, "adding a feed");
		n += sqlite3_changes(st->db);
	}
	if (rc == 0)
		rc = sync_membership(st, key, tr_buf_str(&names),
		    store_now(st), cfg->removed_keep);
	if (rc == 0)
		rc = note_moving_links(st);
	for (i = 0; i < cfg->n_feeds && rc == 0; i++)
		if (flags[i] != 0)
			rc = sync_feed(st, cfg, &cfg->feeds[i], flags[i], &n);
	free(flags);
	if (rc == 0)
		rc = sync_removed(st, tr_buf_str(&names), &n);
	if (rc == 0)
		rc = store_fix_primary(st, NULL);
	tr_buf_free(&names);
	free(key);
	if (rc == 0 && n > 0)
		rc = store_bump_generation(st);
	if (rc == 0)
		rc = store_commit(st);
	if (rc != 0)
		store_rollback(st);
	return rc;
}

/* --- retention --- */

/* Applies one feed's limits; *n counts deleted articles. */
static int
retain_feed(struct tr_store *st, int64_t feed_id, int64_t days,
    int64_t items, int64_t now, int64_t *n)
{
	static const enum store_stmt steps[2][2] = {
	    {S_RET_TOUCH_DAYS, S_RET_DEL_DAYS},
	    {S_RET_TOUCH_ITEMS, S_RET_DEL_ITEMS},
	};
	int64_t arg[2];
	sqlite3_stmt *s;
	int i, j, rc;

	arg[0] = days > 0 ? now - days * 86400 : 0;
	arg[1] = items;
	for (i = 0; i < 2; i++) {
		if ((i == 0 && days <= 0) || (i == 1 && items <= 0))
			continue;
		for (j = 0; j < 2; j++) {
			if ((s = store_stmt(st, steps[i][j])) == NULL)
				return TR_ESTORE;
			sqlite3_bind_int64(s, 1, feed_id);
			sqlite3_bind_int64(s, 2, arg[i]);
			if ((rc = store_exec_stmt(st, s, "retention")) != 0)
				return rc;
			if (j == 1)
				*n += sqlite3_changes(st->db);
		}
	}
	return 0;
}

/*
 * Deletes the articles and the row of every feed that matches where (a
 * condition on feeds f with ?1 bound to text and ?2 to num), noting
 * their links for store_fix_primary(); *n counts deleted articles.
 */
static int
drop_feeds(struct tr_store *st, const char *where, const char *text,
    int64_t num, int64_t *n)
{
	/* Each step is its text, then where, then ")" or not. */
	static const struct {
		const char *head;
		const char *tail;
	} steps[] = {
	    {"INSERT OR IGNORE INTO temp.touched(canon) SELECT a.canon"
	     " FROM articles a WHERE a.canon IS NOT NULL AND a.feed_id IN"
	     " (SELECT f.id FROM main.feeds f WHERE ", ")"},
	    {"DELETE FROM articles WHERE feed_id IN"
	     " (SELECT f.id FROM main.feeds f WHERE ", ")"},
	    {"DELETE FROM main.feeds AS f WHERE ", ""},
	};
	struct tr_buf sql;
	sqlite3_stmt *s = NULL;
	size_t i;
	int rc = 0;

	tr_buf_init(&sql, 4096);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]) && rc == 0; i++) {
		tr_buf_reset(&sql);
		if (tr_buf_adds(&sql, steps[i].head) != 0 ||
		    tr_buf_adds(&sql, where) != 0 ||
		    tr_buf_adds(&sql, steps[i].tail) != 0) {
			rc = store_err(st, TR_ENOMEM, "out of memory");
			break;
		}
		if (sqlite3_prepare_v2(st->db, tr_buf_str(&sql), -1, &s,
			NULL) != SQLITE_OK) {
			rc = store_dberr(st, "deleting a removed feed");
			sqlite3_finalize(s);
			break;
		}
		if (text)
			sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, num);
		rc = store_exec_stmt(st, s, "deleting a removed feed");
		if (rc == 0 && i == 1)
			*n += sqlite3_changes(st->db);
		sqlite3_finalize(s);
		s = NULL;
	}
	tr_buf_free(&sql);
	return rc;
}

int
sq_purge(struct tr_store *st, const char *name, int64_t *deleted)
{
	int64_t n = 0;
	int rc;

	if (deleted)
		*deleted = 0;
	if ((rc = store_begin(st)) != 0)
		return rc;
	rc = drop_feeds(st, "f.name = ?1", name, 0, &n);
	if (rc == 0 && sqlite3_changes(st->db) == 0)
		rc = store_err(st, TR_ENOTFOUND, "%s: no feed named %s",
		    st->path, name);
	if (rc == 0)
		rc = store_fix_primary(st, NULL);
	if (rc == 0)
		rc = store_bump_generation(st);
	if (rc == 0)
		rc = store_commit(st);
	if (rc != 0) {
		store_rollback(st);
		return rc;
	}
	if (deleted)
		*deleted = n;
	tr_log(TR_LOG_INFO, "store: feed %s purged, %lld article%s deleted",
	    name, (long long)n, n == 1 ? "" : "s");
	return 0;
}

int
sq_retention(struct tr_store *st, const struct tr_config *cfg,
    int64_t now, int64_t *deleted)
{
	sqlite3_stmt *s;
	int64_t n = 0;
	int rc, step;

	if (deleted)
		*deleted = 0;
	if ((rc = store_begin(st)) != 0)
		return rc;
	if ((s = store_stmt(st, S_RET_FEEDS)) == NULL) {
		rc = TR_ESTORE;
		goto out;
	}
	/*
	 * The feeds statement stays open while the deletes run on the same
	 * connection: SQLite allows it, and the deletes touch only articles.
	 */
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		const struct tr_feed_conf *f =
		    tr_config_feed(cfg, store_col_text(s, 1));
		int64_t days = f ? tr_config_feed_keep_days(cfg, f)
				 : cfg->keep_days;
		int64_t items = f ? tr_config_feed_keep_items(cfg, f)
				  : cfg->keep_items;

		rc = retain_feed(st, sqlite3_column_int64(s, 0), days, items,
		    now, &n);
		if (rc != 0)
			break;
	}
	sqlite3_reset(s);
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_dberr(st, "retention: listing feeds");
	/* Feeds removed from the config more than removed_keep ago. */
	if (rc == 0)
		rc = drop_feeds(st, "f.active = 0 AND f.removed_at > 0"
				    " AND f.removed_at <= ?2",
		    NULL, now - cfg->removed_keep, &n);
	if (rc == 0)
		rc = store_fix_primary(st, NULL);
	if (rc == 0 && n > 0)
		rc = store_bump_generation(st);
	if (rc == 0)
		rc = store_commit(st);
out:
	if (rc != 0)
		store_rollback(st);
	else {
		if (deleted)
			*deleted = n;
		if (n > 0)
			tr_log(TR_LOG_INFO, "store: retention deleted %lld "
			    "article%s", (long long)n, n == 1 ? "" : "s");
	}
	return rc;
}

/* --- reading with the config at hand --- */

/*
 * The config's feeds and tags go into temporary tables of the handle's
 * connection, and temporary views named feeds and feed_tags put them
 * over main's tables: SQLite looks a name up in temp before main, so
 * every statement of the handle (the merged query, the feed list) reads
 * the views. The views read main's rows as they are now, so the polling
 * state a running process writes shows at once; the config decides
 * membership (active), titles, max_per_feed, enabled and tags. A feed
 * of the config not stored yet is listed (feeds_all) with a negative id
 * (no articles).
 */
static const char shadow_sql[] =
    "DROP VIEW IF EXISTS temp.feeds_all;"
    "DROP VIEW IF EXISTS temp.feeds;"
    "DROP VIEW IF EXISTS temp.feed_tags;"
    "DROP TABLE IF EXISTS temp.conf_feeds;"
    "DROP TABLE IF EXISTS temp.conf_tags;"
    "DROP TABLE IF EXISTS temp.conf_self;"
    "CREATE TEMP TABLE conf_self (key TEXT NOT NULL);"
    "CREATE TEMP TABLE conf_feeds (name TEXT PRIMARY KEY, url TEXT,"
    "  title TEXT, max_per_feed INTEGER, enabled INTEGER);"
    "CREATE TEMP TABLE conf_tags (tag TEXT NOT NULL, name TEXT NOT NULL,"
    "  PRIMARY KEY (tag, name)) WITHOUT ROWID;"
    "CREATE TEMP VIEW feeds AS"
    " SELECT f.id AS id, f.name AS name, coalesce(c.url, f.url) AS url,"
    " CASE WHEN c.url IS NULL OR c.url = f.url THEN f.effective_url END"
    "  AS effective_url,"
    " CASE WHEN c.name IS NULL THEN f.conf_title ELSE c.title END"
    "  AS conf_title,"
    " f.doc_title AS doc_title, f.site_link AS site_link,"
    " f.doc_author AS doc_author, f.etag AS etag,"
    " f.last_modified AS last_modified, f.body_hash AS body_hash,"
    " f.last_check AS last_check, f.next_check AS next_check,"
    " f.last_success AS last_success, f.retry_after AS retry_after,"
    " f.errors AS errors, f.last_error AS last_error,"
    " f.last_status AS last_status,"
    " CASE WHEN c.url IS NULL OR c.url = f.url THEN f.disabled ELSE 0 END"
    "  AS disabled,"
    " CASE WHEN c.url IS NULL OR c.url = f.url THEN f.disabled_reason END"
    "  AS disabled_reason,"
    " c.name IS NOT NULL AS active,"
    " coalesce(c.enabled, f.enabled) AS enabled,"
    " coalesce(c.max_per_feed, f.max_per_feed) AS max_per_feed,"
    " CASE WHEN c.name IS NULL THEN f.removed_at ELSE 0 END AS removed_at,"
    " f.lease_owner AS lease_owner, f.lease_until AS lease_until"
    " FROM main.feeds f LEFT JOIN temp.conf_feeds c ON c.name = f.name"
    /* Another config's feeds are none of this one's business; feeds no
     * other config lists show as removed. */
    " WHERE c.name IS NOT NULL OR f.active = 0 OR NOT EXISTS (SELECT 1"
    " FROM main.feed_configs fc WHERE fc.feed_id = f.id"
    " AND fc.config <> (SELECT key FROM temp.conf_self));"
    /* Listings add the config's feeds not stored yet: not in feeds, so
     * that the merged query's join stays a lookup by id. */
    "CREATE TEMP VIEW feeds_all AS SELECT * FROM temp.feeds"
    " UNION ALL SELECT -c.rowid, c.name, c.url, NULL, c.title, NULL, NULL,"
    " NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, NULL, 0, 0, NULL, 1, c.enabled,"
    " c.max_per_feed, 0, NULL, 0 FROM temp.conf_feeds c WHERE NOT EXISTS"
    " (SELECT 1 FROM main.feeds m WHERE m.name = c.name);"
    "CREATE TEMP VIEW feed_tags AS SELECT t.tag AS tag, f.id AS feed_id"
    " FROM temp.conf_tags t JOIN main.feeds f ON f.name = t.name;";

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

/* One feed of the config into the temporary tables. */
static int
shadow_feed(struct tr_store *st, sqlite3_stmt *const *s,
    const struct tr_config *cfg, const struct tr_feed_conf *f)
{
	size_t i;
	int rc;

	sqlite3_reset(s[0]);
	store_bind_text(s[0], 1, f->name);
	store_bind_text(s[0], 2, f->url);
	store_bind_text(s[0], 3, f->title);
	sqlite3_bind_int64(s[0], 4, tr_config_feed_max_per_feed(cfg, f));
	sqlite3_bind_int(s[0], 5, f->enabled != 0);
	if ((rc = store_exec_stmt(st, s[0], "applying the config")) != 0)
		return rc;
	for (i = 0; i < f->n_tags; i++) {
		sqlite3_reset(s[1]);
		store_bind_text(s[1], 1, f->name);
		store_bind_text(s[1], 2, f->tags[i]);
		if ((rc = store_exec_stmt(st, s[1], "applying the config")))
			return rc;
	}
	return 0;
}

int
sq_use_config(struct tr_store *st, const struct tr_config *cfg)
{
	static const char *const sql[2] = {
	    "INSERT OR REPLACE INTO temp.conf_feeds(name, url, title,"
	    " max_per_feed, enabled) VALUES (?1, ?2, ?3, ?4, ?5)",
	    "INSERT OR IGNORE INTO temp.conf_tags(tag, name) VALUES (?2, ?1)",
	};
	sqlite3_stmt *s[2] = {NULL, NULL};
	uint64_t hash = config_hash(cfg);
	size_t i;
	int rc;

	if (st->cfg_used && st->cfg_hash == hash)
		return 0;
	/*
	 * Cached statements were compiled against main's tables (or the
	 * last config's): drop them, so that they are compiled again.
	 */
	for (i = 0; i < S__COUNT; i++) {
		sqlite3_finalize(st->stmt[i]);
		st->stmt[i] = NULL;
	}
	for (i = 0; i < Q_VARIANTS; i++) {
		sqlite3_finalize(st->qstmt[i]);
		st->qstmt[i] = NULL;
	}
	st->cfg_used = 0;
	if ((rc = store_exec(st, "BEGIN")) != 0)
		return rc;
	rc = store_exec(st, shadow_sql);
	for (i = 0; i < 2 && rc == 0; i++)
		if (sqlite3_prepare_v2(st->db, sql[i], -1, &s[i], NULL) !=
		    SQLITE_OK)
			rc = store_dberr(st, "applying the config");
	for (i = 0; i < cfg->n_feeds && rc == 0; i++)
		rc = shadow_feed(st, s, cfg, &cfg->feeds[i]);
	for (i = 0; i < 2; i++)
		sqlite3_finalize(s[i]);
	if (rc == 0) {
		char *key = config_key(cfg);

		rc = key == NULL ? store_err(st, TR_ENOMEM, "out of memory")
				 : run_key(st, "INSERT INTO temp.conf_self(key)"
					       " VALUES (?1)", key, 0, 0,
				       "applying the config");
		free(key);
	}
	if (rc == 0)
		rc = store_exec(st, "COMMIT");
	if (rc != 0)
		store_exec(st, "ROLLBACK");
	else {
		st->cfg_used = 1;
		st->cfg_hash = hash;
	}
	return rc;
}
