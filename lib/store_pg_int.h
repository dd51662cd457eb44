/*
 * store_pg_int.h — what the parts of the PostgreSQL backend share
 * (store_pg.c: connection, schema and migrations, generation, leases,
 * group commit, statistics; store_pg_feeds.c: feeds, configs,
 * retention; store_pg_batch.c: storing documents; store_pg_query.c: the
 * merged query and search).
 *
 * The schema is the SQLite backend's, table for table and column for
 * column (integers for flags and Unix times, so that both backends'
 * statements read alike), with PostgreSQL's own full-text search: a
 * generated tsvector column of title, summary and content under a GIN
 * index. One connection per handle, as the SQLite backend has one
 * sqlite3 per handle; a handle is used by one thread at a time.
 */
#ifndef TRIBUTARY_STORE_PG_INT_H
#define TRIBUTARY_STORE_PG_INT_H

#include <stdint.h>

#include <libpq-fe.h>

#include "tributary/store.h"

#include "store_int.h"

struct tr_store {
	const struct store_ops *ops; /* first: &store_pg_ops */
	PGconn *conn;
	char *path;  /* the address as given (may hold a password) */
	char *shown; /* the address without password: for messages */
	int readonly;
	int64_t fixed_now; /* tr_store_set_now(); 0 = the clock */
	char owner[200];   /* this handle's name in feed leases */
	/*
	 * Group commit (tr_store_group_begin): writes share one
	 * transaction, opened by the first of them, each in a savepoint.
	 */
	int grouping;
	int in_group;
	int in_savepoint;
	int64_t groups_lost;
	char lost_msg[512];
	int cfg_used; /* tr_store_use_config() applied */
	uint64_t cfg_hash;
	/* The config applied last (its JSON and key: store_pg_feeds.c),
	 * so that a new session after a reconnect gets its views again. */
	char *cfg_json;
	char *cfg_key;
	int64_t next_batch; /* id of the next batch on this handle */
	/* The server process whose session holds the merged query's
	 * prepared statement (store_pg_query.c), without and with the
	 * config's views; 0: none yet. */
	int lists_pid[2];
	/* The server process whose session holds the document commit's
	 * prepared statements (store_pg_batch.c); 0: none yet. */
	int stage_pid;
	char errmsg[512];
};

/* Sets errmsg from a printf format and returns rc. */
int pg_err(struct tr_store *st, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * Sets errmsg to "WHAT: <the server's message>" (its primary message
 * only: no statement text, no internals) and returns TR_ESTORE. res may
 * be NULL (the connection's message is used).
 */
int pg_dberr(struct tr_store *st, const PGresult *res, const char *what);

/*
 * Runs sql with n text parameters (NULL for SQL NULL). On success *out
 * (if not NULL) gets the result, which the caller PQclear()s; 0, or
 * TR_ESTORE with "WHAT: ..." in errmsg (and *out NULL).
 */
int pg_exec(struct tr_store *st, PGresult **out, const char *what,
    const char *sql, int n, const char *const *params);

/* pg_exec for a statement that answers one row of one integer. */
int pg_one_int64(struct tr_store *st, int64_t *v, const char *what,
    const char *sql, int n, const char *const *params);

/* Formats v in buf (at least 24 bytes) and returns buf, for parameters. */
const char *pg_i64(char *buf, int64_t v);

/* The column as an integer (0 for NULL) or as text (NULL for NULL). */
int64_t pg_col_int64(const PGresult *r, int row, int col);
const char *pg_col_text(const PGresult *r, int row, int col);

/*
 * Begins a write (BEGIN; while grouping, a savepoint inside the group's
 * transaction, opening that first when needed), commits it (COMMIT, or
 * RELEASE), rolls it back. Not nested.
 */
int pg_begin(struct tr_store *st);
int pg_commit(struct tr_store *st);
void pg_rollback(struct tr_store *st);

/* Bumps the generation (inside the caller's transaction). */
int pg_bump_generation(struct tr_store *st);

/* The current time in Unix seconds (or the fixed time for tests). */
int64_t pg_now(const struct tr_store *st);

/* TR_EINVAL with a message when st is read-only; 0 else. */
int pg_writable(struct tr_store *st, const char *what);

/*
 * Makes the temporary views of the config applied last again on a new
 * session (after a reconnect: the old session's are gone), without
 * going through pg_exec(); 0, or an error (the caller clears cfg_used).
 * pg_config_forget() frees what the handle keeps of that config.
 */
int pg_config_again(struct tr_store *st);
void pg_config_forget(struct tr_store *st);

/* The backend's operations (store_int.h): pg_X implements tr_store_X. */
int pg_open(struct tr_store **out, const char *path, int flags);
void pg_close(struct tr_store *st);
int pg_file_check(const struct tr_store *st, char *why, size_t size);
int pg_damaged(const struct tr_store *st, const char **why);
int pg_check(struct tr_store *st, int full,
    int (*cb)(const char *problem, void *arg), void *arg);
const char *pg_errmsg(const struct tr_store *st);
void pg_set_now(struct tr_store *st, int64_t now);
int pg_sync_config(struct tr_store *st, const struct tr_config *cfg);
int pg_config_seen(struct tr_store *st, const struct tr_config *cfg);
int pg_listed_elsewhere(struct tr_store *st, const struct tr_config *cfg,
    const char *name, char *other, size_t size);
int pg_use_config(struct tr_store *st, const struct tr_config *cfg);
int pg_purge(struct tr_store *st, const char *name, int64_t *deleted);
const char *pg_owner(const struct tr_store *st);
int pg_claim(struct tr_store *st, const char *const *names,
    const int64_t *seen, size_t n, int64_t now, int64_t ttl,
    unsigned char *claimed);
int pg_release(struct tr_store *st);
/* Host slots (store_pg_hosts.c). */
int pg_hosts_open(struct tr_store_hosts **out, struct tr_store *st);
int pg_host_take(struct tr_store_hosts *h, int *slot, const char *host,
    int limit, int64_t now, int64_t ttl);
int pg_host_give(struct tr_store_hosts *h, const char *host, int slot);
int pg_hosts_flush(struct tr_store_hosts *h);
const char *pg_hosts_errmsg(const struct tr_store_hosts *h);
void pg_hosts_close(struct tr_store_hosts *h);
int pg_feed_get(struct tr_store *st, struct tr_feed_state *out,
    const char *name);
int pg_feed_save(struct tr_store *st, const struct tr_feed_state *fs);
int pg_feeds(struct tr_store *st, tr_feed_cb cb, void *arg);
int pg_batch_begin(struct tr_store_batch **out, struct tr_store *st,
    const char *feed_name);
int pg_batch_add(struct tr_store_batch *b, const struct tr_article *a);
int pg_batch_add_prepared(struct tr_store_batch *b,
    const struct tr_article *a, const struct tr_store_prep *p);
int pg_batch_commit(struct tr_store_batch *b,
    const struct tr_feed_meta *meta, struct tr_store_result *res);
void pg_batch_free(struct tr_store_batch *b);
void pg_defer_index(struct tr_store *st, int defer);
int pg_index(struct tr_store *st);
void pg_group_begin(struct tr_store *st);
int pg_group_commit(struct tr_store *st);
int pg_group_end(struct tr_store *st);
int pg_group_open(const struct tr_store *st);
int64_t pg_groups_lost(const struct tr_store *st, const char **why);
int pg_query(struct tr_store *st, const struct tr_query *q, tr_item_cb cb,
    void *arg, char **next);
int pg_generation(struct tr_store *st, int64_t *gen, int64_t *changed_at);
int pg_next_due(struct tr_store *st, int64_t *when);
int pg_feeds_stamp(struct tr_store *st, int64_t *stamp, int64_t *latest);
int pg_retention(struct tr_store *st, const struct tr_config *cfg,
    int64_t now, int64_t *deleted);
int pg_stats(struct tr_store *st, struct tr_store_stats *out);
/* Copying a store (store_pg_copy.c). */
int pg_copy_snapshot(struct tr_store *st, int on);
int pg_copy_read(struct tr_store *st, const char *table,
    const char *const *cols, size_t n, const char *order,
    int (*row)(const char *const *v, void *arg), void *arg);
int pg_copy_count(struct tr_store *st, const char *table, int64_t *n);
int pg_copy_begin(struct tr_store *st);
int pg_copy_put_begin(struct tr_store *st, struct store_copy_put **put,
    const char *table, const char *const *cols, size_t n);
int pg_copy_put(struct store_copy_put *put, const char *const *v);
int pg_copy_put_end(struct store_copy_put *put, int ok);
int pg_copy_finish(struct tr_store *st, int64_t generation,
    int64_t changed_at);
void pg_copy_abort(struct tr_store *st);
void pg_copy_remove(const char *path);

#endif
