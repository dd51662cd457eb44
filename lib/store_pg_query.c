/*
 * store_pg_query.c — the PostgreSQL backend's merged query and search
 * (the SQLite backend's store_sqlite_query.c, for PostgreSQL).
 */
#include "store_pg_int.h"
#include "tributary/error.h"

int
pg_query(struct tr_store *st, const struct tr_query *q, tr_item_cb cb,
    void *arg, char **next)
{
	(void)q;
	(void)cb;
	(void)arg;
	(void)next;
	return pg_err(st, TR_ESTORE, "%s: the merged query is not available "
	    "on PostgreSQL in this version", st->shown);
}
