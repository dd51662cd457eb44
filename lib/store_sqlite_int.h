/*
 * store_sqlite_int.h — what the parts of the SQLite backend share
 * (store_sqlite.c: open, migrations, generation, leases, group commit;
 * store_sqlite_feeds.c: feeds, configs, retention; store_sqlite_batch.c:
 * storing documents; store_sqlite_query.c: the merged query;
 * store_sqlite_vfs.c: the statement-journal VFS).
 */
#ifndef TRIBUTARY_STORE_SQLITE_INT_H
#define TRIBUTARY_STORE_SQLITE_INT_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include <sqlite3.h>

#include "tributary/buf.h"
#include "tributary/store.h"

#include "store_int.h"

/*
 * Every fixed statement of the store, prepared on first use and kept on
 * the handle until it is closed (see stmt_sql[] in store.c).
 */
enum store_stmt {
	S_BEGIN,
	S_BEGIN_STAGE,
	S_COMMIT,
	S_ROLLBACK,
	S_SAVEPOINT,
	S_RELEASE,
	S_ROLLBACK_TO,
	S_GEN_GET,
	S_DATA_VERSION,
	S_GEN_BUMP,
	S_FEED_ID,
	S_FEED_GET,
	S_FEED_ALL,
	S_FEED_STATES,
	S_FEED_SAVE,
	S_FEED_OLD,
	S_FEED_INSERT,
	S_FEED_CONF,
	S_FEED_URL_RESET,
	S_FEED_DEACTIVATE,
	S_FEED_META,
	S_TAGS_GET,
	S_TAGS_DEL,
	S_TAG_ADD,
	S_NEXT_DUE,
	S_FEEDS_STAMP,
	S_STATS,
	S_STAGE_ADD,
	S_STAGE_KEEP,
	S_STAGE_DROP,
	S_TOUCHED_CLEAR,
	S_TOUCH_OLD,
	S_TOUCH_NEW,
	S_APPLY_UPDATE,
	S_APPLY_INSERT,
	S_APPLY_RAW,
	S_LATEST_OFF,
	S_LATEST_ON,
	S_PRIMARY_OFF,
	S_PRIMARY_ON,
	S_STAGE_COUNT,
	S_RET_FEEDS,
	S_RET_TOUCH_DAYS,
	S_RET_DEL_DAYS,
	S_RET_TOUCH_ITEMS,
	S_RET_DEL_ITEMS,
	S_ALSO,
	S_JSON_STRINGS,
	S_JSON_AUTHORS,
	S_JSON_ENCLOSURES,
	S_TAG_SHARE,
	S_FTS_COUNT,
	S_FTS_PENDING,
	S_FTS_INDEX,
	S_FTS_MARK,
	S_FTS_SHAPE,
	S_FTS_MERGE,
	S_LEASE_TAKE,
	S_LEASE_DROP,
	S_LEASE_HOLDER,
	S_LEASE_STEAL,
	S__COUNT
};

/* The marker a writer keeps beside the database file (check_gone). */
#define MARKER_SUFFIX "-tributary"

/* The query variants: one bit per optional filter (store_query.c). */
/* The columns of struct tr_feed_state, in the order feed_from_row reads. */
#define FEED_COLS_WITH(n_articles)                                            \
	"f.name, f.url, f.effective_url, coalesce(f.conf_title, f.doc_title),"  \
	" f.site_link, f.etag, f.last_modified, f.body_hash, f.last_check,"   \
	" f.next_check, f.last_success, f.retry_after, f.errors,"             \
	" f.last_error, f.last_status, f.disabled, f.disabled_reason,"        \
	" f.active, " n_articles ", f.enabled, f.removed_at"
#define FEED_COLS                                                             \
	FEED_COLS_WITH("(SELECT count(*) FROM articles a WHERE a.feed_id = f.id)")
/* tr_store_feed_states: whether a feed has articles, not how many (one
 * step of the feed's index instead of a walk of all its entries). */
#define FEED_COLS_ANY                                                         \
	FEED_COLS_WITH("EXISTS (SELECT 1 FROM articles a WHERE a.feed_id = f.id)")

enum {
	Q_TAG = 1,
	Q_FEED = 2,
	Q_FTS = 4,
	Q_SINCE = 8,
	Q_CURSOR = 16,
	Q_WALK = 32 /* walk the date index, skipping rows (store_query.c) */
};
#define Q_VARIANTS 64

struct tr_store {
	const struct store_ops *ops; /* first: &store_sqlite_ops */
	sqlite3 *db;
	char *path;
	int readonly;
	/* The database file opened (stat(2) at open; ino 0: in memory), for
	 * sq_file_check(). Set once, read by any thread. */
	dev_t file_dev;
	ino_t file_ino;
	/* The file was read whole as it opened (quick_check), or was
	 * unchanged since a writer's clean close (sq_close's stamp). */
	int checked;
	/*
	 * Set once the database is known to be damaged (quick_check at
	 * open, or any SQLITE_CORRUPT / SQLITE_NOTADB): from then on nothing
	 * is written through the handle. damage_msg is written before the
	 * flag and never after, so any thread may read it once it is set
	 * (tr_store_damaged, for /healthz).
	 */
	atomic_int damaged;
	char damage_msg[768];
	/* This handle's name in feed leases: host/pidns/pid/random
	 * (tr_store_claim). */
	char owner[200];
	int64_t fixed_now;	/* sq_set_now(); 0 = the clock */
	/* sq_use_config(): whether applied, and a hash of what of
	 * the config it applied, so applying the same again is free. */
	int cfg_used;
	uint64_t cfg_hash;
	int64_t next_batch;	/* id of the next batch on this handle */
	/*
	 * Staged rows go into temp.stage inside a deferred transaction that
	 * touches only the temp database (so it takes no lock on the main
	 * one) and is committed every STAGE_FLUSH rows and before any write
	 * transaction: one temp commit per many rows instead of one each.
	 * If such a commit fails, the staged rows of every open batch are
	 * gone: stage_epoch moves on and those batches refuse to commit.
	 */
	int defer_index; /* sq_defer_index() */
	int64_t fts_round_writes; /* bulk indexes since the round began */
	/*
	 * Group commit (tr_store_group_begin): writes run in savepoints of
	 * one transaction, opened by the first of them and committed by
	 * sq_group_commit(); staged rows go into it too.
	 */
	int grouping;
	int in_group;
	int in_savepoint;
	int64_t group_writes; /* released savepoints in the open group */
	/* Groups rolled back whole (group_lost) and the last one's error,
	 * for sq_groups_lost(); the error also of a lost staging
	 * transaction, for the batches it took. */
	int64_t groups_lost;
	char lost_msg[512];
	int staging;
	int64_t staged_rows;
	int64_t stage_epoch;
	/*
	 * A read-only handle's last generation and the PRAGMA data_version
	 * it was read at: while no other connection commits, the version
	 * stays and the generation is answered without reading meta.
	 */
	int gen_cached;
	int64_t gen_dv, gen_value, gen_changed_at;
	sqlite3_stmt *stmt[S__COUNT];
	sqlite3_stmt *qstmt[Q_VARIANTS];
	char errmsg[512];
};

/*
 * Returns the statement id, reset and with its bindings cleared, or NULL
 * (with errmsg set) when it cannot be prepared.
 */
sqlite3_stmt *store_stmt(struct tr_store *st, enum store_stmt id);

/*
 * How long a connection waits for another one's lock: a round's writes
 * STORE_BUSY_MS (a lock held longer fails the document, which the next
 * round fetches again), opening (the schema) and syncing a config
 * STORE_OPEN_BUSY_MS. Several processes may write one file (serve
 * nodes, fetch beside serve), and SQLite's busy wait is no queue: a
 * process that starts while another one's round commits a group every
 * quarter second can lose the lock many times in a row (three serve
 * processes started together on a new file: one failed to open after
 * 5 s, under AddressSanitizer).
 */
#define STORE_BUSY_MS 5000
#define STORE_OPEN_BUSY_MS 30000

/* Sets errmsg from a printf format and returns rc. */
int store_err(struct tr_store *st, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Sets errmsg to "WHAT: <sqlite's message>" and returns TR_ESTORE. */
int store_dberr(struct tr_store *st, const char *what);

/* Steps a statement to completion (no rows expected). 0 or TR_ESTORE. */
int store_exec_stmt(struct tr_store *st, sqlite3_stmt *s, const char *what);

/*
 * Steps a statement that answers one row and puts its first column in
 * *v; resets it. 0, or TR_ESTORE with "WHAT: ..." in errmsg.
 */
int store_step_int64(struct tr_store *st, sqlite3_stmt *s, const char *what,
    int64_t *v);

/* Runs literal SQL (no parameters). 0 or TR_ESTORE. */
int store_exec(struct tr_store *st, const char *sql);

/* Commits the staging transaction, if one is open. */
int store_stage_flush(struct tr_store *st);

/*
 * Begins a write transaction (BEGIN IMMEDIATE; the staging transaction
 * is committed first), commits, rolls back. While grouping, they open,
 * release and roll back a savepoint inside the group's transaction
 * instead (opening that first when needed). Not nested.
 */
int store_begin(struct tr_store *st);
int store_commit(struct tr_store *st);
void store_rollback(struct tr_store *st);

/* Bumps the generation counter (inside the caller's transaction). */
int store_bump_generation(struct tr_store *st);

/* The current time in Unix seconds (or the fixed time for tests). */
int64_t store_now(const struct tr_store *st);

/* Binds s, or NULL when s is NULL. The text must outlive the step. */
int store_bind_text(sqlite3_stmt *s, int i, const char *v);

/* Binds a date, or NULL when it is TR_DATE_NONE. */
int store_bind_date(sqlite3_stmt *s, int i, int64_t v);

/* The column as a date: TR_DATE_NONE when NULL. */
int64_t store_col_date(sqlite3_stmt *s, int i);

/* The column's text, or NULL for SQL NULL. Valid until the next step. */
const char *store_col_text(sqlite3_stmt *s, int i);


/*
 * The same as a char *, for filling the public records whose string
 * fields are not const; such records are borrowed and never written
 * through.
 */
char *store_col_borrow(sqlite3_stmt *s, int i);

/* Recomputes is_primary for every canonical link in temp.touched. */
int store_fix_primary(struct tr_store *st, int64_t *changes);

/*
 * Adds the articles above meta.fts_done to the full-text index and moves
 * the mark (inside the caller's write transaction). *indexed, if not
 * NULL, gets the number of rows indexed.
 */
int store_fts_catch_up(struct tr_store *st, int64_t *indexed);

/*
 * The shape of the full-text index (FTS5's structure record): per level
 * the segments, how many of them a merge in progress takes, and their
 * leaf pages. Levels past STORE_FTS_LEVELS are counted into the last.
 */
#define STORE_FTS_LEVELS 16
struct store_fts_shape {
	int levels;
	int segs[STORE_FTS_LEVELS];
	int merging[STORE_FTS_LEVELS];
	int64_t pages[STORE_FTS_LEVELS];
	int64_t merging_pages[STORE_FTS_LEVELS];
	int64_t total_pages;
};
int store_fts_shape(struct tr_store *st, struct store_fts_shape *out);
/* The shape from the structure record's bytes: 0, or -1 (out zeroed). */
int store_fts_shape_decode(const unsigned char *p, int n_bytes,
    struct store_fts_shape *out);
int sq_maintain(struct tr_store *st, int64_t pages, int *more);

/*
 * Registers the VFS that writes statement journals in pieces (see
 * store_vfs.c) as SQLite's default, once. An SQLite result code.
 */
int store_vfs_register(void);

/* Finalizes the query statements (store_query.c). */
void store_query_finalize(struct tr_store *st);

/*
 * The backend's operations (store_int.h), named after the public
 * functions they implement (sq_X implements tr_store_X; store.h says
 * what each does). Those that one part calls in another go through
 * these names, not back through the front.
 */
int sq_open(struct tr_store **out, const char *path, int flags);
void sq_close(struct tr_store *st);
int sq_file_check(const struct tr_store *st, char *why, size_t size);
int sq_damaged(const struct tr_store *st, const char **why);
int sq_check(struct tr_store *st, int full,
    int (*cb)(const char *problem, void *arg), void *arg);
const char *sq_errmsg(const struct tr_store *st);
void sq_set_now(struct tr_store *st, int64_t now);
int sq_sync_config(struct tr_store *st, const struct tr_config *cfg);
int sq_config_seen(struct tr_store *st, const struct tr_config *cfg);
int sq_listed_elsewhere(struct tr_store *st, const struct tr_config *cfg,
    const char *name, char *other, size_t size);
int sq_use_config(struct tr_store *st, const struct tr_config *cfg);
int sq_purge(struct tr_store *st, const char *name, int64_t *deleted);
const char *sq_owner(const struct tr_store *st);
int sq_claim(struct tr_store *st, const char *const *names,
    const int64_t *seen, size_t n, int64_t now, int64_t ttl,
    unsigned char *claimed);
int sq_release(struct tr_store *st);
/* Host slots (store_sqlite_hosts.c). */
int sq_hosts_open(struct tr_store_hosts **out, struct tr_store *st);
int sq_host_take(struct tr_store_hosts *h, int *slot, const char *host,
    int limit, int64_t now, int64_t ttl);
int sq_host_give(struct tr_store_hosts *h, const char *host, int slot);
int sq_hosts_flush(struct tr_store_hosts *h);
const char *sq_hosts_errmsg(const struct tr_store_hosts *h);
void sq_hosts_close(struct tr_store_hosts *h);
/* Stored bodies (store_sqlite_bodies.c). */
int sq_bodies_open(struct tr_store_bodies **out, struct tr_store *st);
int sq_bodies_get(struct tr_store_bodies *h, struct tr_article *a,
    const char *feed);
void sq_bodies_close(struct tr_store_bodies *h);
int sq_feed_get(struct tr_store *st, struct tr_feed_state *out,
    const char *name);
int sq_feed_save(struct tr_store *st, const struct tr_feed_state *fs);
int sq_feeds(struct tr_store *st, tr_feed_cb cb, void *arg);
int sq_feed_states(struct tr_store *st, tr_feed_cb cb, void *arg);
int sq_batch_begin(struct tr_store_batch **out, struct tr_store *st,
    const char *feed_name);
int sq_batch_add(struct tr_store_batch *b, const struct tr_article *a);
int sq_batch_keep(struct tr_store_batch *b, const struct tr_article *a,
    const struct tr_store_prep *p);
int sq_batch_add_prepared(struct tr_store_batch *b,
    const struct tr_article *a, const struct tr_store_prep *p);
int sq_batch_commit(struct tr_store_batch *b,
    const struct tr_feed_meta *meta, struct tr_store_result *res);
void sq_batch_free(struct tr_store_batch *b);
void sq_defer_index(struct tr_store *st, int defer);
int sq_index(struct tr_store *st);
void sq_group_begin(struct tr_store *st);
int sq_group_commit(struct tr_store *st);
int sq_group_end(struct tr_store *st);
int sq_group_open(const struct tr_store *st);
int64_t sq_groups_lost(const struct tr_store *st, const char **why);
int sq_query(struct tr_store *st, const struct tr_query *q,
    tr_item_cb cb, void *arg, char **next);
int sq_generation(struct tr_store *st, int64_t *gen, int64_t *changed_at);
int sq_next_due(struct tr_store *st, int64_t *when);
int sq_feeds_stamp(struct tr_store *st, int64_t *stamp, int64_t *latest);
int sq_retention(struct tr_store *st, const struct tr_config *cfg,
    int64_t now, int64_t *deleted);
int sq_stats(struct tr_store *st, struct tr_store_stats *out);
/* Copying a store (store_sqlite_copy.c). */
int sq_copy_snapshot(struct tr_store *st, int on);
int sq_copy_read(struct tr_store *st, const char *table,
    const char *const *cols, size_t n, const char *order,
    int (*row)(const char *const *v, void *arg), void *arg);
int sq_copy_count(struct tr_store *st, const char *table, int64_t *n);
int sq_copy_begin(struct tr_store *st);
int sq_copy_put_begin(struct tr_store *st, struct store_copy_put **put,
    const char *table, const char *const *cols, size_t n);
int sq_copy_put(struct store_copy_put *put, const char *const *v);
int sq_copy_put_end(struct store_copy_put *put, int ok);
int sq_copy_finish(struct tr_store *st, int64_t generation,
    int64_t changed_at);
void sq_copy_abort(struct tr_store *st);
void sq_copy_remove(const char *path);

#endif
