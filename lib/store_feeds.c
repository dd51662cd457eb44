/*
 * store_feeds.c — feeds and their polling state, reconciling the feeds
 * table with feeds.conf, and retention.
 */
#include <stdlib.h>
#include <string.h>

#include "store_int.h"
#include "tributary/error.h"
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
}

/* Replaces each borrowed string of fs by an owned copy. */
static int
feed_own(struct tr_feed_state *fs)
{
	char **fields[] = {&fs->name, &fs->url, &fs->effective_url,
	    &fs->title, &fs->site_link, &fs->etag, &fs->last_modified,
	    &fs->body_hash, &fs->last_error, &fs->disabled_reason};
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		if (*fields[i] == NULL)
			continue;
		if ((*fields[i] = strdup(*fields[i])) == NULL)
			rc = TR_ENOMEM;
	}
	return rc;
}

void
tr_feed_state_free(struct tr_feed_state *fs)
{
	if (fs == NULL)
		return;
	free(fs->name);
	free(fs->url);
	free(fs->effective_url);
	free(fs->title);
	free(fs->site_link);
	free(fs->etag);
	free(fs->last_modified);
	free(fs->body_hash);
	free(fs->last_error);
	free(fs->disabled_reason);
	memset(fs, 0, sizeof(*fs));
}

int
tr_feed_state_copy(struct tr_feed_state *d, const struct tr_feed_state *s)
{
	*d = *s;
	if (feed_own(d) != 0) {
		tr_feed_state_free(d); /* feed_own left NULL where it failed */
		return TR_ENOMEM;
	}
	return 0;
}

int
tr_store_feed_get(struct tr_store *st, struct tr_feed_state *out,
    const char *name)
{
	sqlite3_stmt *s = store_stmt(st, S_FEED_GET);
	int rc;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return TR_ESTORE;
	store_bind_text(s, 1, name);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		feed_from_row(out, s);
		if (feed_own(out) != 0) {
			sqlite3_reset(s);
			tr_feed_state_free(out);
			return store_err(st, TR_ENOMEM, "out of memory");
		}
		rc = 0;
	} else if (rc == SQLITE_DONE)
		rc = store_err(st, TR_ENOTFOUND, "%s: no feed named %s",
		    st->path, name);
	else
		rc = store_dberr(st, "reading a feed");
	sqlite3_reset(s);
	return rc;
}

int
tr_store_feeds(struct tr_store *st, tr_feed_cb cb, void *arg)
{
	sqlite3_stmt *s = store_stmt(st, S_FEED_ALL);
	struct tr_feed_state fs;
	int rc;

	if (s == NULL)
		return TR_ESTORE;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		int crc;

		feed_from_row(&fs, s);
		if ((crc = cb(&fs, arg)) != 0) {
			sqlite3_reset(s);
			return crc < 0 ? crc : TR_EABORT;
		}
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_dberr(st, "listing feeds");
	return 0;
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
tr_store_feed_save(struct tr_store *st, const struct tr_feed_state *fs)
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

/* Adds or updates one configured feed; *n counts rows written. */
static int
sync_feed(struct tr_store *st, const struct tr_config *cfg,
    const struct tr_feed_conf *f, int64_t *n)
{
	sqlite3_stmt *s;
	int rc;

	if ((s = store_stmt(st, S_FEED_INSERT)) == NULL)
		return TR_ESTORE;
	store_bind_text(s, 1, f->name);
	store_bind_text(s, 2, f->url);
	if ((rc = store_exec_stmt(st, s, "adding a feed")) != 0)
		return rc;
	*n += sqlite3_changes(st->db);
	if ((s = store_stmt(st, S_FEED_URL_RESET)) == NULL)
		return TR_ESTORE;
	store_bind_text(s, 1, f->name);
	store_bind_text(s, 2, f->url);
	if ((rc = store_exec_stmt(st, s, "resetting a feed")) != 0)
		return rc;
	if (sqlite3_changes(st->db) > 0) {
		tr_log(TR_LOG_INFO,
		    "feed %s: URL changed to %s, validators reset", f->name,
		    f->url);
		*n += 1;
	}
	if ((s = store_stmt(st, S_FEED_CONF)) == NULL)
		return TR_ESTORE;
	store_bind_text(s, 1, f->name);
	store_bind_text(s, 2, f->title);
	sqlite3_bind_int64(s, 3, tr_config_feed_max_per_feed(cfg, f));
	sqlite3_bind_int(s, 4, f->enabled != 0);
	if ((rc = store_exec_stmt(st, s, "configuring a feed")) != 0)
		return rc;
	*n += sqlite3_changes(st->db);
	return sync_tags(st, f, n);
}

/* Marks every feed that is not in cfg inactive. */
static int
sync_removed(struct tr_store *st, const struct tr_config *cfg, int64_t *n)
{
	struct tr_buf names;
	sqlite3_stmt *s;
	size_t i;
	int rc;

	tr_buf_init(&names, (size_t)1 << 30);
	rc = tr_buf_addc(&names, '[');
	for (i = 0; i < cfg->n_feeds && rc == 0; i++) {
		if (i > 0)
			rc = tr_buf_addc(&names, ',');
		if (rc == 0)
			rc = store_json_str(&names, cfg->feeds[i].name);
	}
	if (rc == 0)
		rc = tr_buf_addc(&names, ']');
	if (rc != 0) {
		tr_buf_free(&names);
		return store_err(st, rc, "out of memory");
	}
	if ((s = store_stmt(st, S_FEED_DEACTIVATE)) == NULL) {
		tr_buf_free(&names);
		return TR_ESTORE;
	}
	store_bind_text(s, 1, tr_buf_str(&names));
	rc = store_exec_stmt(st, s, "deactivating removed feeds");
	*n += sqlite3_changes(st->db);
	tr_buf_free(&names);
	return rc;
}

int
tr_store_sync_config(struct tr_store *st, const struct tr_config *cfg)
{
	int64_t n = 0;
	size_t i;
	int rc;

	if (st->readonly)
		return store_err(st, TR_EINVAL,
		    "%s: sync_config on a read-only handle", st->path);
	if ((rc = store_begin(st)) != 0)
		return rc;
	for (i = 0; i < cfg->n_feeds && rc == 0; i++)
		rc = sync_feed(st, cfg, &cfg->feeds[i], &n);
	if (rc == 0)
		rc = sync_removed(st, cfg, &n);
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

int
tr_store_retention(struct tr_store *st, const struct tr_config *cfg,
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
