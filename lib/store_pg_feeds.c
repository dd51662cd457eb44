/*
 * store_pg_feeds.c — the PostgreSQL backend's feeds: reconciling the
 * configs, feed states, purge and retention (the SQLite backend's
 * store_sqlite_feeds.c, for PostgreSQL).
 */
#include "store_pg_int.h"
#include "tributary/error.h"

static int
not_yet(struct tr_store *st, const char *what)
{
	return pg_err(st, TR_ESTORE, "%s: %s is not available on "
	    "PostgreSQL in this version", st->shown, what);
}

int
pg_sync_config(struct tr_store *st, const struct tr_config *cfg)
{
	(void)cfg;
	return not_yet(st, "reconciling the config");
}

int
pg_config_seen(struct tr_store *st, const struct tr_config *cfg)
{
	(void)cfg;
	return not_yet(st, "reconciling the config");
}

int
pg_listed_elsewhere(struct tr_store *st, const struct tr_config *cfg,
    const char *name, char *other, size_t size)
{
	(void)cfg;
	(void)name;
	(void)other;
	(void)size;
	return not_yet(st, "listing configs");
}

int
pg_use_config(struct tr_store *st, const struct tr_config *cfg)
{
	(void)cfg;
	return not_yet(st, "applying a config");
}

int
pg_purge(struct tr_store *st, const char *name, int64_t *deleted)
{
	(void)name;
	(void)deleted;
	return not_yet(st, "purging a feed");
}

int
pg_feed_get(struct tr_store *st, struct tr_feed_state *out, const char *name)
{
	(void)out;
	(void)name;
	return not_yet(st, "reading a feed");
}

int
pg_feed_save(struct tr_store *st, const struct tr_feed_state *fs)
{
	(void)fs;
	return not_yet(st, "saving a feed");
}

int
pg_feeds(struct tr_store *st, tr_feed_cb cb, void *arg)
{
	(void)cb;
	(void)arg;
	return not_yet(st, "listing feeds");
}

int
pg_retention(struct tr_store *st, const struct tr_config *cfg, int64_t now,
    int64_t *deleted)
{
	(void)cfg;
	(void)now;
	(void)deleted;
	return not_yet(st, "retention");
}
