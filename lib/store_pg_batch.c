/*
 * store_pg_batch.c — the PostgreSQL backend's storing of documents (the
 * SQLite backend's store_sqlite_batch.c, for PostgreSQL).
 */
#include <stdlib.h>

#include "store_pg_int.h"
#include "tributary/error.h"

struct tr_store_batch {
	const struct store_ops *ops; /* first: &store_pg_ops */
	struct tr_store *st;
};

int
pg_batch_begin(struct tr_store_batch **out, struct tr_store *st,
    const char *feed_name)
{
	(void)feed_name;
	*out = NULL;
	return pg_err(st, TR_ESTORE, "%s: storing documents is not available "
	    "on PostgreSQL in this version", st->shown);
}

int
pg_batch_add(struct tr_store_batch *b, const struct tr_article *a)
{
	(void)a;
	(void)b;
	return TR_EINVAL;
}

int
pg_batch_add_prepared(struct tr_store_batch *b, const struct tr_article *a,
    const struct tr_store_prep *p)
{
	(void)a;
	(void)b;
	(void)p;
	return TR_EINVAL;
}

int
pg_batch_commit(struct tr_store_batch *b, const struct tr_feed_meta *meta,
    struct tr_store_result *res)
{
	(void)b;
	(void)meta;
	(void)res;
	return TR_EINVAL;
}

void
pg_batch_free(struct tr_store_batch *b)
{
	free(b);
}
