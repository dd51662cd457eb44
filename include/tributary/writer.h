/*
 * writer.h — the threads that ready and write a polling round's
 * articles.
 *
 * The poller's thread fetches and parses; two preparing threads sanitize
 * the bodies the parser handed out raw (parse.h defer_html) and ready
 * each article for the store (tr_store_prep); the writer's thread
 * stages, commits and saves feed states; so that the work spreads over
 * the cores. Work goes to the preparing threads and from them to the
 * writer's through two queues, each bounded in bytes (a producer that
 * fills one waits), and is written in the order it was queued, however
 * the preparing threads finish. Work is handed on in batches (a
 * sleeping thread is woken once a batch has gathered, or at a commit,
 * a full queue, tr_writer_flush or tr_writer_stop; else it looks again
 * within a tenth of a second), so a queued operation may wait up to
 * that long before it is readied. Each
 * committed document's result comes back through tr_writer_results()
 * once it is durable: after the commit of its group, or failed with the
 * store's message when that group is rolled back.
 *
 * While a writer runs, only its thread uses the store handle. Its
 * writes are grouped (tr_store_group_begin): the writer commits the open
 * group once it is a quarter of a second old, also while it waits for
 * work, so that readers see new articles soon. The handle defers
 * indexing (tr_store_defer_index): after each group commit the writer
 * indexes the group's new articles for search in one bulk insert.
 */
#ifndef TRIBUTARY_WRITER_H
#define TRIBUTARY_WRITER_H

#include <stddef.h>

#include "tributary/article.h"
#include "tributary/html.h"
#include "tributary/store.h"

struct tr_writer;
struct tr_writer_doc;

/* One document's outcome, borrowed for the callback. */
struct tr_writer_result {
	void *token;		     /* as given to tr_writer_doc_begin */
	int rc;			     /* 0, or why it was not stored */
	const char *errmsg;	     /* when rc != 0: the store's message */
	struct tr_store_result res; /* when rc == 0 */
};

typedef void (*tr_writer_result_cb)(const struct tr_writer_result *r,
    void *arg);

/*
 * Starts the preparing and writer threads on st, groups st's writes
 * (tr_store_group_begin) and defers their indexing. max_bytes caps the
 * queued articles (about their text size): a quarter of it for the
 * preparing threads' queue, the rest for the writer thread's. TR_ENOMEM, or
 * TR_EINVAL when a thread cannot start (nothing is then left running).
 */
int tr_writer_start(struct tr_writer **out, struct tr_store *st,
    size_t max_bytes);

/*
 * From the moment *cancel is non-zero (a signal's flag; NULL: never),
 * the writer readies and stores no more documents: a document whose commit is
 * still queued is dropped unstored and its result is TR_EABORT, so a
 * stopped round ends as soon as the statement in progress does instead
 * of after the whole queue. Feed states and documents already committed
 * (the open group included) are still written. Call before queuing.
 */
void tr_writer_set_cancel(struct tr_writer *w, const volatile int *cancel);

/*
 * Waits until every operation queued so far is done and the open group
 * is committed (or rolled back), so that every document queued so far
 * has its result.
 */
void tr_writer_flush(struct tr_writer *w);

/*
 * Waits until every queued operation is done, ends the thread, commits
 * the last group and indexes every article not indexed yet (a failure
 * is logged), ends grouping and deferring, and frees w (NULL allowed);
 * results never collected are dropped. Then the store handle belongs to
 * the caller's thread again.
 */
void tr_writer_stop(struct tr_writer *w);

/*
 * Opens a document of feed `feed` (a store batch, on the writer's
 * thread); token comes back with its result. Articles added with raw
 * bodies (a->bodies_raw) are sanitized with policy (copied; NULL: the
 * default) and max_field, the cap on one field their parser had (0:
 * 1 MiB), by tr_parser_sanitize_article(). NULL when out of memory.
 * The document is ended by exactly one tr_writer_doc_commit() or
 * tr_writer_doc_discard(); the handle is not used after that.
 */
struct tr_writer_doc *tr_writer_doc_begin(struct tr_writer *w,
    const char *feed, const struct tr_html_policy *policy,
    size_t max_field, void *token);

/*
 * Queues a copy of article a for document d; waits while the queue is
 * full. A preparing thread sanitizes its raw bodies, if any (a body
 * that grows past the cap is left out and logged with the feed's name,
 * as the parser warns of it), and prepares it for the store
 * (tr_store_prep). An error there fails the document: its result has
 * tr_store_prep()'s rc (TR_ETOOBIG: an item past a size cap; TR_ENOMEM)
 * and tr_strerror()'s message; so does a store error. An item that
 * cannot be sanitized for want of memory is left out, as the parser
 * leaves it out. 0 or TR_ENOMEM.
 */
int tr_writer_doc_add(struct tr_writer *w, struct tr_writer_doc *d,
    const struct tr_article *a);

/*
 * Queues the commit of document d with the feed's title and site link
 * from meta (NULL: none); its result comes back through
 * tr_writer_results(). 0 or TR_ENOMEM (the document is then discarded
 * and no result comes).
 */
int tr_writer_doc_commit(struct tr_writer *w, struct tr_writer_doc *d,
    const struct tr_feed_meta *meta);

/* Queues dropping document d (NULL allowed); no result comes. */
void tr_writer_doc_discard(struct tr_writer *w, struct tr_writer_doc *d);

/*
 * Queues saving a copy of fs (tr_store_feed_save; a failure is logged).
 * 0 or TR_ENOMEM.
 */
int tr_writer_save(struct tr_writer *w, const struct tr_feed_state *fs);

/* Calls cb for every document result that came back since last time. */
void tr_writer_results(struct tr_writer *w, tr_writer_result_cb cb,
    void *arg);

#endif
