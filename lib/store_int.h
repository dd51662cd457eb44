/*
 * store_int.h — the store's operations table: what every backend of
 * include/tributary/store.h provides, and the one thing the front
 * (store.c) knows of a backend's handle.
 *
 * The shape is SQLite's VFS: a versioned struct of function pointers,
 * one static table per backend (store_sqlite*.c, store_pg*.c), and
 * callers that only ever go through the table. store.c holds the public
 * functions, which pick the backend when a store opens (by the form of
 * its address) and then dispatch, and the rules both backends share
 * (preparing an article: canonical link, content hash, the JSON of its
 * lists; the feed state records).
 *
 * Each backend defines struct tr_store and struct tr_store_batch in its
 * own files, with a pointer to its table as their first member; the
 * front reads that member and nothing else (C11 6.7.2.1: a pointer to a
 * struct, converted, points to its first member), so a handle only ever
 * reaches the functions of the backend that made it.
 */
#ifndef TRIBUTARY_STORE_INT_H
#define TRIBUTARY_STORE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "tributary/store.h"

#define STORE_OPS_VERSION 1

struct tr_buf;

/*
 * Appends the text of the bodies (tr_html_text of the summary, a space,
 * of the content; either may be NULL) to out: what the search index
 * holds of an article, as the parser's sanitizer gives it in a->text.
 * 0, TR_ENOMEM or TR_ETOOBIG (out holds what fit).
 */
int store_body_text(struct tr_buf *out, const char *summary,
    const char *content);

/* The text to index of a prepared article: a->text, else p->text, else
 * NULL (no text). Borrowed from a or p. */
const char *store_prep_text(const struct tr_article *a,
    const struct tr_store_prep *p);

/* A backend's loading of one table's rows (copy_put_begin). */
struct store_copy_put;

/* The most columns of a table tr_store_copy copies. */
#define STORE_COPY_COLS 32

struct store_ops {
	int version; /* STORE_OPS_VERSION */
	const char *name; /* "sqlite", "postgresql" */

	/* Life cycle, errors, damage (store.h says what each does). */
	int (*open)(struct tr_store **out, const char *path, int flags);
	void (*close)(struct tr_store *st);
	int (*file_check)(const struct tr_store *st, char *why, size_t size);
	int (*damaged)(const struct tr_store *st, const char **why);
	int (*check)(struct tr_store *st, int full,
	    int (*cb)(const char *problem, void *arg), void *arg);
	const char *(*errmsg)(const struct tr_store *st);
	void (*set_now)(struct tr_store *st, int64_t now);

	/* Feeds, configs, leases. */
	int (*sync_config)(struct tr_store *st, const struct tr_config *cfg);
	int (*config_seen)(struct tr_store *st, const struct tr_config *cfg);
	int (*listed_elsewhere)(struct tr_store *st,
	    const struct tr_config *cfg, const char *name, char *other,
	    size_t size);
	int (*use_config)(struct tr_store *st, const struct tr_config *cfg);
	int (*purge)(struct tr_store *st, const char *name, int64_t *deleted);
	const char *(*owner)(const struct tr_store *st);
	int (*claim)(struct tr_store *st, const char *const *names,
	    const int64_t *seen, size_t n, int64_t now, int64_t ttl,
	    unsigned char *claimed);
	int (*release)(struct tr_store *st);
	/* Host slots (store.h): a handle of their own, whose first member
	 * is the backend's table too. */
	int (*hosts_open)(struct tr_store_hosts **out, struct tr_store *st);
	int (*host_take)(struct tr_store_hosts *h, int *slot, const char *host,
	    int limit, int64_t now, int64_t ttl);
	int (*host_give)(struct tr_store_hosts *h, const char *host, int slot);
	int (*hosts_flush)(struct tr_store_hosts *h);
	const char *(*hosts_errmsg)(const struct tr_store_hosts *h);
	void (*hosts_close)(struct tr_store_hosts *h);
	int (*feed_get)(struct tr_store *st, struct tr_feed_state *out,
	    const char *name);
	int (*feed_save)(struct tr_store *st, const struct tr_feed_state *fs);
	int (*feeds)(struct tr_store *st, tr_feed_cb cb, void *arg);
	int (*feed_states)(struct tr_store *st, tr_feed_cb cb, void *arg);

	/* Storing documents. */
	int (*batch_begin)(struct tr_store_batch **out, struct tr_store *st,
	    const char *feed_name);
	int (*batch_add)(struct tr_store_batch *b, const struct tr_article *a);
	int (*batch_add_prepared)(struct tr_store_batch *b,
	    const struct tr_article *a, const struct tr_store_prep *p);
	/* A kept item (p->kept, tr_store_prep_keep): a->id and p->hash
	 * only. NULL for a backend without stored bodies. */
	int (*batch_keep)(struct tr_store_batch *b,
	    const struct tr_article *a, const struct tr_store_prep *p);
	int (*batch_commit)(struct tr_store_batch *b,
	    const struct tr_feed_meta *meta, struct tr_store_result *res);
	void (*batch_free)(struct tr_store_batch *b);

	/* Full-text index and group commit. */
	void (*defer_index)(struct tr_store *st, int defer);
	int (*index)(struct tr_store *st);
	/* NULL: nothing to maintain (tr_store_maintain is a no-op). */
	int (*maintain)(struct tr_store *st, int64_t pages, int *more);
	void (*group_begin)(struct tr_store *st);
	int (*group_commit)(struct tr_store *st);
	int (*group_end)(struct tr_store *st);
	int (*group_open)(const struct tr_store *st);
	int64_t (*groups_lost)(const struct tr_store *st, const char **why);

	/* Reading. */
	int (*query)(struct tr_store *st, const struct tr_query *q,
	    tr_item_cb cb, void *arg, char **next);
	int (*generation)(struct tr_store *st, int64_t *gen,
	    int64_t *changed_at);
	int (*next_due)(struct tr_store *st, int64_t *when);
	int (*feeds_stamp)(struct tr_store *st, int64_t *stamp,
	    int64_t *latest);
	int (*retention)(struct tr_store *st, const struct tr_config *cfg,
	    int64_t now, int64_t *deleted);
	int (*stats)(struct tr_store *st, struct tr_store_stats *out);

	/*
	 * Copying a whole store (tr_store_copy, store_copy.c, which names
	 * the tables, columns and order: the same on every backend). Rows
	 * travel as text, one value per column, NULL for SQL NULL.
	 * copy_snapshot: on (non-zero) begins a read transaction, so that
	 * every copy_read sees one state of the store; 0 ends it.
	 * copy_read: calls row with each row of table (its columns
	 * cols[0..n), in the order of the columns listed in order), one row
	 * at a time; a non-zero answer of row stops the read and is
	 * returned.
	 * copy_count: the number of rows of table.
	 * copy_begin: begins the copy's one write transaction, taking the
	 * tables for itself. copy_put_begin/copy_put/copy_put_end: loads
	 * rows into table (put_end with ok 0 abandons them; it frees *put
	 * either way); TR_EINVAL from put or put_end: a row the schema
	 * refuses (a duplicate, a reference to a missing feed).
	 * copy_finish: sets meta's generation and changed_at,
	 * brings the backend's own state in line with the rows (identity
	 * sequences, full-text index) and commits; copy_abort rolls back.
	 * copy_remove: removes the store at path that a failed copy
	 * created, with whatever the backend keeps beside it (no handle
	 * may be open on it).
	 */
	int (*copy_snapshot)(struct tr_store *st, int on);
	int (*copy_read)(struct tr_store *st, const char *table,
	    const char *const *cols, size_t n, const char *order,
	    int (*row)(const char *const *v, void *arg), void *arg);
	int (*copy_count)(struct tr_store *st, const char *table, int64_t *n);
	int (*copy_begin)(struct tr_store *st);
	int (*copy_put_begin)(struct tr_store *st, struct store_copy_put **put,
	    const char *table, const char *const *cols, size_t n);
	int (*copy_put)(struct store_copy_put *put, const char *const *v);
	int (*copy_put_end)(struct store_copy_put *put, int ok);
	int (*copy_finish)(struct tr_store *st, int64_t generation,
	    int64_t changed_at);
	void (*copy_abort)(struct tr_store *st);
	void (*copy_remove)(const char *path);

	/* Stored bodies (store.h): NULL when the backend keeps none; the
	 * handle's first member is the backend's table too. */
	int (*bodies_open)(struct tr_store_bodies **out, struct tr_store *st);
	int (*bodies_get)(struct tr_store_bodies *h, struct tr_article *a,
	    const char *feed);
	void (*bodies_close)(struct tr_store_bodies *h);
};

/*
 * Appends s as a JSON string literal (null for NULL). Lossless, unlike
 * the renderers' tr_escape_json, which cleans text for display: what the
 * store writes must read back byte for byte.
 */
int store_json_str(struct tr_buf *b, const char *s);

/*
 * A search as a user types it (tr_store_search_expr in store.h), parsed
 * by one set of rules for every backend (store_search.c): its terms in
 * order, each a word or a phrase (text pointing into the search, not
 * NUL-terminated; a word's own punctuation makes it a phrase for the
 * full-text index), maybe a prefix, maybe left out. Each backend renders
 * the terms in its own full-text language.
 */
struct store_term {
	const char *s;
	size_t n;
	int prefix;  /* word* or "a phrase"*: its last word is a prefix */
	int negated; /* -word: leaves out what has it */
};

struct store_search {
	struct store_term t[TR_SEARCH_TERMS];
	size_t n;     /* terms */
	size_t n_pos; /* terms not negated: none when n is 0 */
};

/*
 * Parses q (NULL or "" is no term: search everything). 0, or TR_EINVAL
 * with a reason for the user in why (no more than whysize bytes).
 */
int store_search_parse(struct store_search *out, char *why, size_t whysize,
    const char *q);

/*
 * The offset in the n bytes at s where the last run of indexed
 * characters starts (the last word of a phrase), 0 when there is none.
 */
size_t store_term_tail(const char *s, size_t n);

/*
 * The merged query's pagination cursor (tr_query.before), the same text
 * on every backend: the sort_date and id of the last item of a page
 * with a check. make: malloc'ed, NULL when out of memory; parse: 0, or
 * TR_EINVAL for a cursor this did not make.
 */
char *store_cursor_make(int64_t sort, int64_t id);
int store_cursor_parse(const char *c, int64_t *sort, int64_t *id);

/*
 * A feed lease's owner name for this handle: host/PID namespace/pid/
 * random, unique among the processes of every host (tr_store_claim).
 */
void store_owner_name(char *out, size_t size);

/*
 * Whether owner names a process of this host and PID namespace that no
 * longer runs: its leases need not wait for their expiry (a process
 * killed, or one that could not release them). Owners elsewhere are
 * only ever taken over after expiry.
 */
int store_owner_dead(const char *owner);

/* The backends' tables. */
extern const struct store_ops store_sqlite_ops;
extern const struct store_ops store_pg_ops;

/* tr_store_address_check() for a PostgreSQL address (store_pg.c). */
int store_pg_address_check(const char *address, char *why, size_t size);

/* The backend whose table ops is, by the address it opens. */
const struct store_ops *store_backend(const char *path);

#endif
