/*
 * store.h — the article store: feeds and their polling state, articles
 * deduplicated within and across feeds, queries for the merged feed,
 * retention. Two backends behind one interface: an SQLite file (the
 * default: nothing to run) and a PostgreSQL database (several nodes
 * sharing one database).
 *
 * One writer handle (the poller) and any number of read-only handles
 * (the HTTP endpoint, one per thread); readers and the writer work at
 * once. A handle is used by one thread at a time.
 */
#ifndef TRIBUTARY_STORE_H
#define TRIBUTARY_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "tributary/article.h"
#include "tributary/buf.h"
#include "tributary/config.h"

struct tr_store;

enum {
	TR_STORE_READONLY = 1,
	TR_STORE_CHECK = 2, /* a read-only handle checks too (see below) */
	TR_STORE_NEW = 4    /* a new store is what the caller wants: an
			       SQLite file created is not warned about */
};

/*
 * Opens (creating when writable and missing) the database at path and
 * migrates its schema. TR_ENEWER when it is from a newer tributary (the
 * file is left untouched). On failure *out may still be set so that
 * tr_store_errmsg() can tell why; free it with tr_store_close().
 */
int tr_store_open(struct tr_store **out, const char *path, int flags);
void tr_store_close(struct tr_store *st);

/*
 * Store addresses. A libpq connection URI (postgresql://... or
 * postgres://...) names a PostgreSQL database; anything else is the path
 * of an SQLite file.
 *
 * tr_store_is_server: non-zero for a database server's address (no file
 * of ours to create, check or remove).
 * tr_store_address_shown: the address as messages may show it, without
 * its password (user:password@, password=...), cut to size.
 * tr_store_address_check: 0 when the address is well formed, else
 * TR_EINVAL with the reason (never the password) in why.
 */
int tr_store_is_server(const char *address);
void tr_store_address_shown(char *out, size_t size, const char *address);
int tr_store_address_check(const char *address, char *why, size_t size);

/*
 * SQLite always maps the WAL index (DB-shm) into memory, so an I/O error
 * on it (the file truncated or removed under a running process, a
 * failing disk) is a SIGBUS inside SQLite, from which nothing can
 * continue. This installs a SIGBUS handler that writes an error naming
 * the first store opened (through the log's line format) and ends the
 * process with exit status 1, instead of a silent death by the signal:
 * the one place the store ends the process, for the commands that keep
 * a store open (serve, fetch).
 */
void tr_store_trap_io_faults(void);

/*
 * Checks that the store's path still names the database file that was
 * opened: a file deleted, renamed away or replaced while a process keeps
 * it open takes every later write with it when the process ends (and the
 * next start creates an empty store). 0, or TR_ESTORE with the reason in
 * why. Changes nothing on the handle, so any thread may call it.
 */
int tr_store_file_check(const struct tr_store *st, char *why, size_t size);

/*
 * Damage. A writable handle (and a read-only one opened with
 * TR_STORE_CHECK) runs SQLite's quick_check when it opens, and any
 * "malformed" error later marks the store damaged too. A damaged store
 * opens (so that it can say what is wrong) but refuses every write with
 * a message that names the file and says what to do.
 *
 * tr_store_damaged: non-zero when st is known damaged, with the message
 * in *why (if not NULL; borrowed from st). Any thread may call it.
 *
 * tr_store_check: the check itself: quick_check, or with full
 * integrity_check and (through a writable handle) FTS5's check of the
 * full-text index against the articles. Calls cb for each problem;
 * problems mark the store damaged. 0 when the check ran, else TR_ESTORE.
 */
int tr_store_damaged(const struct tr_store *st, const char **why);
int tr_store_check(struct tr_store *st, int full,
    int (*cb)(const char *problem, void *arg), void *arg);

/* The last error's text on this handle. Borrowed. */
const char *tr_store_errmsg(const struct tr_store *st);

/*
 * Makes the handle use now (Unix seconds) as the current time for
 * first_seen, updated and the clamp of future dates; 0 returns to the
 * clock. For tests and benchmarks.
 */
void tr_store_set_now(struct tr_store *st, int64_t now);

/* --- feeds --- */

struct tr_feed_state {
	char *name;
	char *url;	     /* as configured */
	char *effective_url; /* after a permanent redirect, or NULL */
	char *title;	     /* configured title, else the document's */
	char *site_link;     /* the document's alternate link */
	char *etag;	     /* verbatim, or NULL */
	char *last_modified; /* verbatim, or NULL */
	char *body_hash;     /* hash of the last 200 body, or NULL */
	int64_t last_check;  /* Unix seconds; 0 = never */
	int64_t next_check;
	int64_t last_success;
	int64_t retry_after; /* no request before this time; 0 = none */
	int64_t errors;	     /* consecutive errors */
	char *last_error;
	int last_status;     /* last HTTP status, 0 if none */
	int disabled;	     /* e.g. after 410 Gone */
	char *disabled_reason;
	int active;	     /* still in feeds.conf */
	int64_t n_articles;
	int enabled;	     /* not "enabled = no" in feeds.conf */
	int64_t removed_at;  /* when it left feeds.conf; 0 while in it */
};

/*
 * Reconciles the feeds table with cfg: adds new feeds, marks the ones no
 * config lists any more inactive (their articles stay until retention), resets validators,
 * effective URL and a 410 disable when a feed's URL changed, and keeps
 * each feed's tags, title and caps for queries.
 */
int tr_store_sync_config(struct tr_store *st, const struct tr_config *cfg);

/*
 * Several configs may share one database. Each sync records which feeds
 * its config (known by its file's absolute path) lists; a feed is marked
 * removed (and deleted removed_keep later) only when no config that
 * listed it is still listing it. A config whose file is gone and that
 * was not synced (nor seen through tr_store_config_seen) for
 * removed_keep no longer counts. A process that keeps a config for long
 * (serve) calls tr_store_config_seen now and then.
 */
int tr_store_config_seen(struct tr_store *st, const struct tr_config *cfg);

/*
 * 1 when a config file other than cfg's lists the feed name (its path in
 * other, cut to size), 0 when none does, else a negative tr_err.
 */
int tr_store_listed_elsewhere(struct tr_store *st, const struct tr_config *cfg,
    const char *name, char *other, size_t size);

/*
 * Makes the queries and feed listings of this handle follow cfg instead
 * of the state the last tr_store_sync_config() left, without writing to
 * the database: titles, tags, max_per_feed and enabled come from cfg, a
 * feed of cfg not stored yet is listed (never polled, no articles), and
 * a stored feed not in cfg counts as removed (listed inactive, left out
 * of the merged query). So two configs that share one database each see
 * their own feeds. For a handle that only reads from now on (any
 * handle, read-only ones included): it shadows the feeds tables with
 * temporary copies on this connection. Call again after cfg changes.
 */
int tr_store_use_config(struct tr_store *st, const struct tr_config *cfg);

/*
 * Deletes the feed name and all its articles now (what retention does
 * removed_keep after a feed left the config). TR_ENOTFOUND when no such
 * feed is stored. *deleted (may be NULL) gets the number of articles.
 */
int tr_store_purge(struct tr_store *st, const char *name, int64_t *deleted);

/*
 * Feed leases: a process that polls a feed claims it first, so that
 * another process on the same store (a second fetch, or fetch beside
 * serve) skips it instead of polling it too. The lease lives in the
 * feed's row: its owner (tr_store_owner: host/PID namespace/pid/random,
 * unique across hosts) and its expiry in Unix seconds, set by one
 * compare-and-set UPDATE (free, expired, or already ours), so it works
 * the same for processes on several hosts sharing one database, given
 * clocks that agree to well within ttl. A process that dies leaves its
 * leases to expire, or, on the same host (and PID namespace), to the
 * next process that finds its PID gone.
 *
 * tr_store_claim: claims every feed of names[0..n) it can, until now +
 * ttl, in one transaction; claimed[i] says which (1) or not (0: another
 * owner's lease runs, or the feed was polled since the caller read it:
 * with seen not NULL, a feed is claimed only while its last_check is
 * still seen[i], so that a round never polls a feed another process
 * polled, saved and released between the round's reading the due feeds
 * and its claim). tr_store_release: gives up every lease of this
 * handle. Both 0 or TR_ESTORE; a read-only handle claims nothing
 * (TR_EINVAL) and has nothing to release.
 */
const char *tr_store_owner(const struct tr_store *st);
int tr_store_claim(struct tr_store *st, const char *const *names,
    const int64_t *seen, size_t n, int64_t now, int64_t ttl,
    unsigned char *claimed);
int tr_store_release(struct tr_store *st);

/*
 * Host slots: the per-host connection limit (per_host) across every
 * process polling one store. A transfer to a host starts only with one
 * of the host's slots 0..limit-1, and gives it back when it ends, so the
 * processes sharing a store never have more than limit transfers to one
 * host in flight at once (with different limits, the largest holds).
 *
 * A round's writes go through its store handle on the writer thread, so
 * the slots have a handle of their own, for the fetching thread:
 * tr_store_hosts_open() makes it from st (a writable handle; st may be
 * closed first). PostgreSQL: a connection of its own and the table
 * host_slots, a slot a lease (owner, expiry) taken and given back with
 * one statement each; a process that dies leaves its slots to expire
 * (ttl). SQLite: every process of one SQLite store runs on one host
 * (WAL's shared memory), so a slot is a lock on one byte of the marker
 * file beside the database (an open file description's lock, F_OFD_SETLK),
 * which never waits for the database's write lock that a round's writer
 * holds and which the kernel gives back when a process ends: no expiry,
 * one system call per slot, nothing written. An SQLite store without a
 * file (":memory:", "file:" URIs) has one process: every take succeeds.
 *
 * tr_store_host_take: takes a free slot of host (free, or its lease
 * expired by now) until now + ttl: *slot is its number, or -1 when all
 * limit slots are held (wait, and ask again). tr_store_host_give: gives
 * back a slot this handle took (0 also when it was no longer held).
 * PostgreSQL keeps a slot given back for a moment: a take of the same
 * host through h has it again without a statement (a round with many
 * feeds of one host pays a statement per slot, not two per transfer),
 * and tr_store_hosts_flush gives back, in one statement, the slots kept
 * so; its caller calls it whenever it waits (the fetch engine's idle
 * callback, before it sleeps), so no slot stays unused longer. On SQLite
 * a slot goes back at once and flush does nothing.
 * tr_store_hosts_close: gives back every slot of h and frees it (NULL
 * is fine). Errors: TR_ESTORE (TR_EINVAL for a read-only st, TR_ENOMEM),
 * the message in tr_store_hosts_errmsg(h) (or, for open, st's errmsg).
 */
struct tr_store_hosts;
int tr_store_hosts_open(struct tr_store_hosts **out, struct tr_store *st);
int tr_store_host_take(struct tr_store_hosts *h, int *slot,
    const char *host, int limit, int64_t now, int64_t ttl);
int tr_store_host_give(struct tr_store_hosts *h, const char *host, int slot);
int tr_store_hosts_flush(struct tr_store_hosts *h);
const char *tr_store_hosts_errmsg(const struct tr_store_hosts *h);
void tr_store_hosts_close(struct tr_store_hosts *h);

/*
 * Stored bodies: the sanitizer's work on an item kept for the next time
 * a document carries the item unchanged. Each article row keeps the raw
 * hash of what its bodies were made from (tr_article.raw_hash: the raw
 * bodies, their bases, the policy and the sanitizer's version), so a
 * changed document's parser asks for each item's stored bodies first
 * and sanitizes only the items that have none (parse.h: tr_body_cb).
 *
 * tr_store_bodies_open() makes a read handle of its own for the thread
 * that parses (the writer thread owns st; SQLite: a read-only connection,
 * opened at the first lookup): 0 with *out NULL when the backend keeps no
 * raw hashes (PostgreSQL, so far: a lookup there is a round trip to the
 * server) or the database is in memory, else 0 or TR_ENOMEM
 * (st's errmsg). tr_store_bodies_get(): when feed's row of a->id was
 * stored from bodies of raw hash a->raw_hash (non-zero), replaces
 * a->summary, a->content and a->text with the stored ones and returns 1;
 * 0 when there is no such row (a new or changed item, one retention
 * deleted, one of another feed); a negative error leaves a as it was.
 * Whatever it returns, the record is then exactly the one sanitizing
 * would have given, so the store's content hash and rules see no
 * difference. tr_store_bodies_close() accepts NULL.
 */
struct tr_store_bodies;
int tr_store_bodies_open(struct tr_store_bodies **out, struct tr_store *st);
int tr_store_bodies_get(struct tr_store_bodies *h, struct tr_article *a,
    const char *feed);
void tr_store_bodies_close(struct tr_store_bodies *h);

/* Reads one feed's state into *out (free with tr_feed_state_free). */
int tr_store_feed_get(struct tr_store *st, struct tr_feed_state *out,
    const char *name);

/*
 * Saves the polling-state fields of fs (matched by fs->name):
 * effective_url, validators, body_hash, times, errors, last_error,
 * last_status, disabled and its reason. A change of effective_url or of
 * disabled bumps the generation. TR_ENOTFOUND for an unknown name.
 */
int tr_store_feed_save(struct tr_store *st, const struct tr_feed_state *fs);

/*
 * Calls cb for every feed (active and not), by name; fs and its strings
 * are borrowed for the call. A non-zero return stops the walk: a
 * negative one is returned, a positive one becomes TR_EABORT.
 */
typedef int (*tr_feed_cb)(const struct tr_feed_state *fs, void *arg);
int tr_store_feeds(struct tr_store *st, tr_feed_cb cb, void *arg);

/*
 * tr_store_feeds() for a polling round, which asks of a feed's articles
 * only whether there are any: fs->n_articles is non-zero when the feed
 * has an article and 0 when it has none, not necessarily their number
 * (counting them was about half the cost of reading 1,000 feeds).
 */
int tr_store_feed_states(struct tr_store *st, tr_feed_cb cb, void *arg);

/* Copies src into dst (every string duplicated). 0 or TR_ENOMEM, with
 * dst then empty. */
int tr_feed_state_copy(struct tr_feed_state *dst,
    const struct tr_feed_state *src);

void tr_feed_state_free(struct tr_feed_state *fs);

/* --- storing one fetched document --- */

/*
 * A batch is one feed's fetched document on its way in. Several batches
 * (of different feeds) may be open at once and fed interleaved, since the
 * poller parses many transfers concurrently on one thread. Nothing of a
 * batch is visible until tr_store_batch_commit(), which lands every item
 * in one transaction; tr_store_batch_free() without a commit discards it.
 */
struct tr_store_batch;

struct tr_store_result {
	int64_t added;	   /* new identities */
	int64_t updated;   /* same identity, changed content */
	int64_t unchanged; /* same identity, same content: no write */
	int64_t changes;   /* rows the commit wrote in the database (0 when
			      the document brought nothing new) */
};

int tr_store_batch_begin(struct tr_store_batch **out, struct tr_store *st,
    const char *feed_name);
/* Stages a (copied; the last item of an identity wins). */
int tr_store_batch_add(struct tr_store_batch *b, const struct tr_article *a);

/*
 * What staging an article derives from it before any write: its
 * canonical link, its content hash and the JSON of its lists. Needs no
 * handle, so another thread than the store's may prepare articles (the
 * poller does, for its writer thread) and hand them to
 * tr_store_batch_add_prepared(). A prep is reusable: init once, prepare
 * any number of times, free once.
 */
struct tr_store_prep {
	char *canon;   /* tr_url_canonical() of the link, or NULL */
	uint64_t hash; /* tr_article_content_hash() */
	struct tr_buf authors, categories, enclosures; /* JSON, empty: none */
	struct tr_buf text; /* the bodies' text (search) when a->text is NULL */
	int kept; /* tr_store_prep_keep(): only hash is set */
};

void tr_store_prep_init(struct tr_store_prep *p);
/* 0, TR_ENOMEM, or TR_ETOOBIG when a list's JSON passes 16 MiB. */
int tr_store_prep(struct tr_store_prep *p, const struct tr_article *a);
/*
 * An item that took its stored row's bodies (tr_store_bodies_get) and
 * whose content hash is the row's (a->stored_hash) would leave the row
 * as it is: the store needs only its identity, to know that the document
 * still holds it (in_latest, retention). Then 1: p is prepared as kept
 * (p->kept, p->hash; no canonical link, lists or text worked out) and
 * tr_store_batch_add_prepared() stages a->id alone, so the caller needs
 * to keep nothing else of a. Else 0 and p is to be prepared with
 * tr_store_prep(). A kept row that changed or went before the commit
 * (another process's purge) fails the commit (TR_ESTORE) rather than
 * storing less than the item: its document is to be fetched again.
 */
int tr_store_prep_keep(struct tr_store_prep *p, const struct tr_article *a);
void tr_store_prep_free(struct tr_store_prep *p);

/* tr_store_batch_add() with p = tr_store_prep(a) done by the caller. */
int tr_store_batch_add_prepared(struct tr_store_batch *b,
    const struct tr_article *a, const struct tr_store_prep *p);
/* meta may be NULL. Also records which articles the document holds. */
int tr_store_batch_commit(struct tr_store_batch *b,
    const struct tr_feed_meta *meta, struct tr_store_result *res);
void tr_store_batch_free(struct tr_store_batch *b);

/* --- the full-text index --- */

/*
 * With defer set, documents committed through st leave their new
 * articles out of the full-text index (tr_query.q) until
 * tr_store_index(): a polling round stores faster when it indexes many
 * documents' articles at once (after each group commit). Without it
 * (the default) each commit indexes its own articles, and any left
 * behind by a deferred or interrupted round. Searches through other
 * handles do not see the rows not indexed yet; the other filters do.
 * Setting defer marks a round's start; clearing it, its end, where the
 * store does the round's share of merging the index's segments
 * (tr_store_maintain(st, 0, NULL); a failure is logged).
 */
void tr_store_defer_index(struct tr_store *st, int defer);

/*
 * Adds every article not yet in the full-text index to it: in a
 * transaction of its own, or a savepoint of the open group while one is
 * open. TR_EINVAL on a read-only handle.
 */
int tr_store_index(struct tr_store *st);

/*
 * Housekeeping of the full-text index between rounds: merges its
 * segments (SQLite's FTS5 writes each bulk index as a segment of its
 * own; with incremental merging off, 16 on one level are merged at once
 * inside the insert that adds the 16th, a stall of the round that pays
 * for it). Does at most `pages` pages of merge output, in steps of their
 * own short transactions, and only on levels holding several segments;
 * pages 0 asks for the share of one round: what keeps every level far
 * below that crisis over the next rounds (more when the round indexed
 * more, or when a level is filling). *more (may be NULL) is set non-zero
 * when merge work remains. Merging never changes what a search finds.
 * A no-op (0, *more 0) on a read-only handle, inside a group, on a
 * damaged store, and on PostgreSQL (GIN indexes clean their own pending
 * list). 0 or TR_ESTORE.
 */
int tr_store_maintain(struct tr_store *st, int64_t pages, int *more);

/* --- group commit --- */

/*
 * From tr_store_group_begin() on, the writes through st (documents, feed
 * states, configuration syncs) share one transaction, opened by the
 * first of them: each runs in its own savepoint, so a failing one still
 * rolls back alone, but nothing is durable or visible to other handles
 * until tr_store_group_commit(), which the caller runs often (the
 * transaction holds the database's write lock). A crash loses the open
 * group whole, documents and feed states together, never half of one.
 * tr_store_group_end() commits and returns to one transaction per write.
 * A failed group commit rolls the group back (logged) and returns
 * TR_ESTORE. No-ops on a read-only handle.
 */
void tr_store_group_begin(struct tr_store *st);
int tr_store_group_commit(struct tr_store *st);
int tr_store_group_end(struct tr_store *st);

/*
 * Non-zero while a group's transaction is open: the writes released into
 * it since its start are not durable yet. The group commits when the
 * caller says so, or by itself when a document stages many rows.
 */
int tr_store_group_open(const struct tr_store *st);

/*
 * How many groups were rolled back whole since st was opened (a failed
 * group commit, or an error after which SQLite rolled the transaction
 * back), and in *why (if not NULL) the error of the last one, borrowed
 * until the next loss. A caller that hands out results of writes only
 * once they are durable compares the count before and after each write.
 */
int64_t tr_store_groups_lost(const struct tr_store *st, const char **why);

/* --- the merged feed --- */

struct tr_query {
	const char *tag;    /* only feeds with this tag, or NULL */
	const char *feed;   /* only this feed, or NULL */
	const char *q;	    /* search as a user types it, or NULL: see
			       tr_store_search_expr() */
	int64_t since;	    /* only articles dated at or after; TR_DATE_NONE */
	const char *before; /* pagination cursor from a previous page */
	int limit;	    /* 1..1000; 0 means 50 */
	/* Asked now and then while the query runs; non-zero stops it with
	 * TR_EABORT (a time budget, a client gone). May be NULL. */
	int (*stop)(void *arg);
	void *stop_arg;
};

/* One article of the merged view. Borrowed for the callback. */
struct tr_item {
	struct tr_article a;
	int64_t first_seen;
	int64_t sort_date;	 /* published, else updated, else first
				    seen; clamped to first seen if future */
	const char *feed_name;	 /* the feed that carried it first */
	const char *feed_title;
	const char *feed_url;	 /* effective URL of that feed */
	const char *feed_link;	 /* that feed's site */
	const char *feed_author; /* that feed's own author (its document's
				    feed-level author), or NULL; an item
				    without an author has it as a.author */
	const char *const *also; /* other feeds carrying the same link */
	size_t n_also;
};

typedef int (*tr_item_cb)(const struct tr_item *it, void *arg);

/*
 * Runs the merged query, newest first, one item per canonical link, with
 * each feed's max_per_feed cap applied per page (not with a feed filter).
 * Calls cb per item; a non-zero return stops the query (a negative one
 * is returned, a positive one becomes TR_EABORT). When there are more,
 * *next (if not NULL) gets a malloc'ed cursor for tr_query.before, else
 * NULL. TR_EINVAL for a bad cursor, a search that asks too much (see
 * tr_store_search_expr) or a negative limit; a limit past 1000 is taken
 * as 1000.
 */
int tr_store_query(struct tr_store *st, const struct tr_query *q,
    tr_item_cb cb, void *arg, char **next);

/*
 * Turns a search as a user types it into a full-text (FTS5) expression:
 * words separated by spaces must all appear; "a phrase" in double quotes
 * (a quote left open runs to the end); word* for a prefix (2 characters
 * at least); -word or -"a phrase" leaves out what has it. Everything
 * else is text: punctuation inside a word joins its parts as a phrase
 * (covid-19, U.S., don't, C++, URLs), and operators, column names and
 * brackets have no meaning, so no input is a syntax error. A word
 * without a letter or digit is dropped. At most TR_SEARCH_TERMS words
 * and phrases, TR_SEARCH_PREFIXES of them prefixes.
 *
 * *out is a malloc'ed expression, or NULL when nothing is left to search
 * for (search everything). Returns 0, TR_ENOMEM, or TR_EINVAL with a
 * reason for the user in why (no more than whysize bytes, no internals).
 */
#define TR_SEARCH_TERMS 16
#define TR_SEARCH_PREFIXES 4
int tr_store_search_expr(char **out, char *why, size_t whysize,
    const char *q);

/*
 * The SQL text tr_store_query() runs for q's filters (named parameters
 * :tag :feed :q :since :cs :ci), for EXPLAIN QUERY PLAN in tests. A tag
 * or full-text query has two plans, chosen per query from estimates;
 * walk picks the one that walks the date index.
 * malloc'ed, or NULL when out of memory.
 */
char *tr_store_query_sql(const struct tr_query *q, int walk);

/*
 * A counter that changes whenever articles or feeds change, and the time
 * of that change: for ETags and caches.
 */
int tr_store_generation(struct tr_store *st, int64_t *gen,
    int64_t *changed_at);

/*
 * The earliest next_check of any active, enabled feed (0 if none); a
 * feed's retry_after counts when it is later than its next_check.
 */
int tr_store_next_due(struct tr_store *st, int64_t *when);

/*
 * A stamp of the feeds' polling states (a sum of their times, counters
 * and flags, which every save of a changed state moves: the generation
 * moves only for the changes the feeds show), and the latest last_check
 * (0 if none): for caching the page that lists the states.
 */
int tr_store_feeds_stamp(struct tr_store *st, int64_t *stamp,
    int64_t *latest);

/*
 * Deletes articles past keep_days / keep_items (globally and per feed)
 * that are not in their feed's latest document, and every feed (with
 * its articles) removed from the config more than removed_keep ago.
 * *deleted may be NULL.
 */
int tr_store_retention(struct tr_store *st, const struct tr_config *cfg,
    int64_t now, int64_t *deleted);

/* --- statistics --- */

struct tr_store_stats {
	int64_t feeds;
	int64_t feeds_active;
	int64_t feeds_disabled;
	int64_t feeds_failing;
	int64_t articles;
};
int tr_store_stats(struct tr_store *st, struct tr_store_stats *out);

/* --- moving a store --- */

/*
 * What tr_store_copy read: for each table (feeds, feed_tags,
 * feed_configs, articles) its rows in the source, and in the target as
 * read back once the copy was committed; a checksum (FNV-1a 64) of every
 * article's id and identity in id order, and meta's generation, of each.
 */
#define TR_STORE_COPY_TABLES 4
struct tr_store_copy_report {
	const char *table[TR_STORE_COPY_TABLES]; /* static names */
	int64_t from[TR_STORE_COPY_TABLES];
	int64_t to[TR_STORE_COPY_TABLES];
	uint64_t from_sum, to_sum;
	int64_t from_gen, to_gen;
	int read_back; /* the target was read back: to, to_sum, to_gen set */
	int same;      /* every count, checksum and the generation agree */
};

/*
 * Copies the store at address from into the one at to (each an SQLite
 * path or a postgresql:// address, so a store moves between backends):
 * every feed with its state, validators and schedule (leases are left
 * behind), its tags and configs, every article with all its columns and
 * its id, and the generation. Rows stream through: neither store is held
 * in memory. The target must hold no feed, tag, config or article (a new
 * file, or a PostgreSQL database with no tributary tables or empty
 * ones): a store with rows is refused and left as it was. The copy is
 * one transaction: on failure the target holds nothing of it (a new
 * SQLite file made for it is removed).
 *
 * rep (may not be NULL) gets the counts and checksums, the target's
 * read back after the commit. Returns 0 when they agree; TR_EINVAL for a
 * bad address, a target with rows or a source row the target's schema
 * refuses (a damaged source), TR_ENOTFOUND for a missing source,
 * TR_ESTORE when a store fails or the target read back differs (rep.same
 * 0), with the reason for the user (addresses without their password)
 * in why (no more than whysize bytes).
 */
int tr_store_copy(const char *from, const char *to,
    struct tr_store_copy_report *rep, char *why, size_t whysize);

#endif
