/*
 * writer.c — the preparing and writer threads of a polling round (see
 * writer.h).
 *
 * Operations, in order: open a document (a store batch), add an article
 * to it, commit or discard it, save a feed state. They pass two queues:
 * the poller's thread appends to the first; the preparing threads take
 * up to a batch of operations at a time from it (BATCH_OPS), ready each
 * article for the store (its raw bodies sanitized, tr_store_prep), and
 * the ready ones at its head move on to the second in the order queued
 * (forward_locked); the writer's thread takes all of them there are
 * from there and writes.
 * Each queue is bounded by the bytes of the operations in it, so a
 * parser that outruns the store waits instead of buffering a round.
 *
 * A document's handle (struct tr_writer_doc) is created by the poller;
 * from then on the preparing threads only read what the poller set
 * before queuing it (the feed's name, its sanitizer policy), and
 * everything else of it is the writer thread's, which frees it when the
 * document is committed or discarded: that operation comes after all of
 * the document's articles, so the preparing threads are done with it. An
 * article a preparing thread cannot ready becomes an OP_FAIL that
 * fails its document on the writer's thread. Results of commits go
 * back on a second list that the poller drains when it likes, but only
 * once they are durable: a document committed into the open group waits
 * on a pending list until the group commits (then it goes back as
 * stored) or is rolled back (then it goes back failed, with the store's
 * message), so that nothing is reported stored that a failed commit
 * took back.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tributary/error.h"
#include "tributary/log.h"
#include "tributary/parse.h"
#include "tributary/thread.h"
#include "tributary/writer.h"

/*
 * How long the writes gather in one transaction before they are
 * committed (see tr_store_group_begin). Short enough that the write lock
 * is never held long and readers see new articles soon; long enough
 * that a commit carries many documents, whose index and FTS pages then
 * go into the WAL once per group, not once each.
 */
#define GROUP_SECONDS 0.25

/*
 * Preparing threads. Sanitizing is most of a cold round's CPU (of 200
 * feeds, callgrind: 7.8 G instructions preparing against 2.2 G fetching
 * and parsing and 3.8 G writing), so one preparing thread would be the
 * round's slowest; two share it and come out near the others.
 */
#define PREP_THREADS 2

/*
 * The writer thread is a cold round's critical path (one SQLite writer;
 * every other thread waits on it through the queues), and on a machine
 * of few cores it shared them evenly with the two preparing threads and
 * the fetching one. The preparing threads run this much nicer
 * (tr_thread_nicer), so that the writer gets a core when it has work,
 * and the writer's queue (three quarters of the cap) is the larger one,
 * so that they have room to work ahead while it commits. Measured on
 * two cores (bench/notes poll.10000.cold_floor_ratio), a cold round of
 * 10,000 feeds in three pairs: 96.0-101.0 s against 107.7-111.2 s (with
 * poll.c's 1 MiB cap against 512 KiB shared evenly); nice alone 108.5 s.
 */
#define PREP_NICE 5

/*
 * Hand-offs go in batches. A thread that finds its queue dry sleeps,
 * and waking it costs far more than most operations do (in a steady
 * round nearly every article is kept, tr_store_prep_keep: a few
 * microseconds of work against tens for a wake-up and the context
 * switches). So a producer wakes a sleeping consumer only once
 * BATCH_OPS operations or BATCH_BYTES bytes have gathered, or at a
 * commit (readers then see a document soon), a full queue, a flush or
 * the stop; a consumer takes what has gathered in one go (a preparing
 * thread up to one batch, the writer thread the whole queue). No
 * operation is stranded below a batch: every document ends in a commit
 * or discard, a producer that waits for room has woken its consumer
 * first, and a sleeping consumer looks again every WAIT_SECONDS anyway.
 */
#define BATCH_OPS 32
#define BATCH_BYTES (64 * 1024)
#define WAIT_SECONDS 0.1

enum op_state { OP_WAITING, OP_TAKEN, OP_READY };

enum op_kind { OP_BEGIN, OP_ADD, OP_FAIL, OP_COMMIT, OP_DISCARD, OP_SAVE };

struct op {
	struct op *next;
	enum op_kind kind;
	struct tr_writer_doc *doc;
	size_t bytes;	 /* counted against the writer thread's queue */
	size_t in_bytes; /* against the preparing threads' queue */
	enum op_state state; /* in the preparing threads' queue */
	int drop;	 /* ready, and dropped instead of forwarded */
	struct tr_article art;	/* OP_ADD */
	struct tr_store_prep prep; /* OP_ADD: done on a preparing thread */
	int rc;		  /* OP_FAIL: why the document fails */
	const char *why;  /* and its message (static) */
	struct tr_feed_meta meta; /* OP_COMMIT: title and link only */
	struct tr_feed_state fs;  /* OP_SAVE */
};

struct tr_writer_doc {
	char *feed;
	void *token;
	/* Set before the document is queued; read by the preparing threads
	 * to sanitize its articles' raw bodies: */
	struct tr_html_policy policy; /* its embed_hosts: hosts, below */
	char **hosts;
	size_t max_field;
	struct op *end; /* its commit or discard, allocated up front so
			   that a discard cannot fail; the poller's */
	struct tr_store_batch *batch;
	int rc;	      /* the first error of the document */
	char *errmsg; /* its message */
};

struct result {
	struct result *next;
	struct tr_writer_result r;
	char *errmsg;
};

/*
 * A queue of operations, under the writer's mutex: one producer at a
 * time puts operations in (queue_put), its consumers take them, and the
 * bytes of the taken ones go back (queue_give) once they are done with,
 * so that the cap bounds what is queued and what is being worked on
 * together. The batching above is done here for both queues.
 */
struct queue {
	struct op *head, *tail;
	size_t bytes, max;
	int held;	   /* operations put since a consumer was woken */
	size_t held_bytes; /* and their bytes */
	int sleepers;	   /* consumers waiting for work */
	pthread_cond_t work; /* an operation came, or an end */
	pthread_cond_t room; /* the queue went under its cap */
};

struct tr_writer {
	struct tr_store *st;
	pthread_t thread, prep_thread[PREP_THREADS];
	pthread_mutex_t mu; /* guards both queues and the flags below */
	/* The preparing threads' queue, from the poller (op.in_bytes): an
	 * operation stays in it, in order, until it is ready and forwarded
	 * (forward_locked). */
	struct queue in;
	struct op *in_next; /* the first one no thread took yet */
	int forwarding; /* a preparing thread moves ready ones on */
	int preps;	/* preparing threads running */
	int stopping;	/* tr_writer_stop: the preparing threads end */
	int prep_done;	/* they ended: the writer thread ends once dry */
	/* The writer thread's queue, from the preparing threads (op.bytes;
	 * its work also comes at prep_done): */
	struct queue out;
	pthread_cond_t idle; /* a queue ran dry and nothing runs */
	int busy; /* the writer thread is executing operations */
	int flushing; /* tr_writer_flush() waits: commit the open group */
	struct result *res_head, *res_tail;
	/* Writer thread only (group_open also read by tr_writer_flush while
	 * the thread is not busy): */
	struct timespec group_t0; /* first write of the open group */
	int group_open;
	int unindexed; /* documents committed since the last index */
	struct result *pend_head, *pend_tail; /* stored, not yet durable */
	int64_t lost_seen; /* tr_store_groups_lost() when last settled */
	const volatile int *cancel; /* tr_writer_set_cancel() */
};

static size_t
slen(const char *s)
{
	return s ? strlen(s) : 0;
}

/* About the memory an article copy holds. */
static size_t
article_bytes(const struct tr_article *a)
{
	return sizeof(*a) + slen(a->id) + slen(a->guid) + slen(a->link) +
	       slen(a->title) + slen(a->author) + slen(a->summary) +
	       slen(a->content) + slen(a->text) + 64 * (a->n_authors + a->n_categories +
	                                a->n_enclosures);
}

static void
op_free(struct op *o)
{
	tr_article_free(&o->art);
	tr_store_prep_free(&o->prep);
	free(o->meta.title);
	free(o->meta.link);
	free(o->meta.author);
	tr_feed_state_free(&o->fs);
	free(o);
}

static struct op *
op_new(enum op_kind kind, struct tr_writer_doc *doc)
{
	struct op *o = calloc(1, sizeof(*o));

	if (o == NULL)
		return NULL;
	o->kind = kind;
	o->doc = doc;
	tr_article_init(&o->art);
	tr_store_prep_init(&o->prep);
	tr_feed_meta_init(&o->meta);
	return o;
}

/* The bytes an operation holds in the writer thread's queue. */
static size_t
op_bytes(const struct op *o)
{
	return article_bytes(&o->art) + slen(o->prep.canon) +
	       o->prep.authors.len + o->prep.categories.len +
	       o->prep.enclosures.len + o->prep.text.len;
}

static void
queue_init(struct queue *q, size_t max)
{
	memset(q, 0, sizeof(*q));
	q->max = max;
	pthread_cond_init(&q->work, NULL);
	pthread_cond_init(&q->room, NULL);
}

static void
queue_destroy(struct queue *q)
{
	pthread_cond_destroy(&q->work);
	pthread_cond_destroy(&q->room);
}

/* What was put since is no longer held back from the consumers: one
 * was woken for it, or took it all. */
static void
queue_unhold(struct queue *q)
{
	q->held = 0;
	q->held_bytes = 0;
}

/* Wakes one of the queue's sleeping consumers for what has gathered,
 * or all of them. */
static void
queue_wake(struct queue *q, int all)
{
	if (all)
		pthread_cond_broadcast(&q->work);
	else
		pthread_cond_signal(&q->work);
	queue_unhold(q);
}

/*
 * Appends o, counted as bytes, to q, under mu; waits on room while the
 * queue is over its cap (one operation always goes in: an article
 * bigger than the cap waits for an empty queue). Its consumers are
 * woken at a batch, a commit, a full queue or when urgent (a flush or
 * the stop).
 */
static void
queue_put(struct queue *q, pthread_mutex_t *mu, struct op *o, size_t bytes,
          int urgent)
{
	while (q->head != NULL && q->bytes >= q->max) {
		queue_wake(q, 1); /* a full queue is a batch, for all */
		pthread_cond_wait(&q->room, mu);
	}
	o->next = NULL;
	if (q->tail)
		q->tail->next = o;
	else
		q->head = o;
	q->tail = o;
	q->bytes += bytes;
	q->held++;
	q->held_bytes += bytes;
	if (q->sleepers > 0 &&
	    (o->kind == OP_COMMIT || q->held >= BATCH_OPS ||
	     q->held_bytes >= BATCH_BYTES || q->bytes >= q->max || urgent))
		queue_wake(q, 0);
}

/* Gives back the bytes of operations taken from q and done with. */
static void
queue_give(struct queue *q, size_t bytes)
{
	q->bytes -= bytes;
	if (q->head == NULL || q->bytes < q->max)
		pthread_cond_broadcast(&q->room);
}

/* Removes q's first operation (its bytes stay counted: queue_give). */
static struct op *
queue_pop(struct queue *q)
{
	struct op *o = q->head;

	if ((q->head = o->next) == NULL)
		q->tail = NULL;
	return o;
}

/* Takes every operation in q, as a list (their bytes stay counted). */
static struct op *
queue_take_all(struct queue *q)
{
	struct op *o = q->head;

	q->head = q->tail = NULL;
	queue_unhold(q);
	return o;
}

/* A consumer waits on q for work, until *until at the latest. */
static void
queue_wait(struct queue *q, pthread_mutex_t *mu, const struct timespec *until)
{
	q->sleepers++;
	pthread_cond_timedwait(&q->work, mu, until);
	q->sleepers--;
}

/* Appends o to the writer thread's queue, under w->mu. */
static void
append_locked(struct tr_writer *w, struct op *o)
{
	queue_put(&w->out, &w->mu, o, o->bytes, w->flushing || w->stopping);
}

/* Appends o to the preparing threads' queue; waits while it is full. */
static void
enqueue(struct tr_writer *w, struct op *o)
{
	pthread_mutex_lock(&w->mu);
	o->state = OP_WAITING;
	queue_put(&w->in, &w->mu, o, o->in_bytes,
	          w->flushing || w->stopping);
	if (w->in_next == NULL)
		w->in_next = o;
	pthread_mutex_unlock(&w->mu);
}

/* Sets *until to WAIT_SECONDS from now, or left seconds when fewer, on
 * the realtime clock of pthread_cond_timedwait. */
static void
deadline(struct timespec *until, double left)
{
	if (left > WAIT_SECONDS || left < 0)
		left = WAIT_SECONDS;
	clock_gettime(CLOCK_REALTIME, until);
	until->tv_nsec += (long)(left * 1e9);
	until->tv_sec += until->tv_nsec / 1000000000L;
	until->tv_nsec %= 1000000000L;
}

/* --- the writer thread --- */

static double
since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* A group commit failed: the store rolled the group back. */
static void
group_failed(struct tr_store *st)
{
	tr_log(TR_LOG_ERROR, "poll: committing stored feeds failed "
	       "(they fail and are fetched again next time): %s",
	       tr_store_errmsg(st));
}

/* Appends the list head..tail to the results the poller collects. */
static void
deliver(struct tr_writer *w, struct result *head, struct result *tail)
{
	pthread_mutex_lock(&w->mu);
	if (w->res_tail)
		w->res_tail->next = head;
	else
		w->res_head = head;
	w->res_tail = tail;
	pthread_mutex_unlock(&w->mu);
}

/*
 * After every write: when the store rolled a group back since the last
 * time, the pending documents (all of that group) go back failed with
 * its error; when no group is open any more, they are durable and go
 * back stored. Otherwise they keep waiting.
 */
static void
settle(struct tr_writer *w)
{
	const char *why = NULL;
	int64_t lost = tr_store_groups_lost(w->st, &why);
	struct result *r;

	if (lost != w->lost_seen) {
		for (r = w->pend_head; r != NULL; r = r->next) {
			memset(&r->r.res, 0, sizeof(r->r.res));
			r->r.rc = TR_ESTORE;
			r->errmsg = strdup(why);
			r->r.errmsg = r->errmsg ? r->errmsg : "out of memory";
		}
	} else if (tr_store_group_open(w->st)) {
		return;
	}
	w->lost_seen = lost;
	if (w->pend_head != NULL)
		deliver(w, w->pend_head, w->pend_tail);
	w->pend_head = w->pend_tail = NULL;
}

/*
 * Commits the open group, then indexes its new articles for search in a
 * transaction of their own (outside the group: the bulk FTS5 insert
 * then flushes once). Searches see a round's articles within a group's
 * time, and the index is built while the other thread still fetches
 * and parses, instead of all of it after the last transfer.
 */
static void
group_commit(struct tr_writer *w)
{
	w->group_open = 0;
	if (tr_store_group_commit(w->st) != 0) {
		group_failed(w->st);
		settle(w);
		return;
	}
	settle(w);
	if (w->unindexed) {
		w->unindexed = 0;
		if (tr_store_index(w->st) != 0)
			tr_log(TR_LOG_WARN, "poll: indexing new articles for "
			       "search failed (the next group retries): %s",
			       tr_store_errmsg(w->st));
	}
}

/* Marks that the open group got a write; commits it once old enough. */
static void
group_wrote(struct tr_writer *w)
{
	if (!w->group_open) {
		w->group_open = 1;
		clock_gettime(CLOCK_MONOTONIC, &w->group_t0);
	} else if (since(&w->group_t0) >= GROUP_SECONDS) {
		group_commit(w);
	}
}

/* Records the first error of document d: rc with message why, or the
 * store's message when why is NULL. */
static void
doc_failed(struct tr_writer *w, struct tr_writer_doc *d, int rc,
           const char *why)
{
	if (d->rc != 0)
		return;
	d->rc = rc;
	if (why == NULL)
		why = rc == TR_ENOMEM ? "out of memory" : tr_store_errmsg(w->st);
	d->errmsg = strdup(why);
}

static void
doc_free(struct tr_writer_doc *d)
{
	size_t i;

	tr_store_batch_free(d->batch);
	for (i = 0; d->hosts != NULL && i < d->policy.n_embed_hosts; i++)
		free(d->hosts[i]);
	free(d->hosts);
	free(d->feed);
	free(d->errmsg);
	free(d);
}

static void
push_result(struct tr_writer *w, struct tr_writer_doc *d,
            const struct tr_store_result *res)
{
	struct result *r = calloc(1, sizeof(*r));

	if (r == NULL) {
		tr_log(TR_LOG_ERROR, "feed %s: out of memory", d->feed);
		return;
	}
	r->r.token = d->token;
	r->r.rc = d->rc;
	if (res)
		r->r.res = *res;
	if (d->rc != 0) {
		r->errmsg = d->errmsg;
		d->errmsg = NULL;
		r->r.errmsg = r->errmsg ? r->errmsg : tr_strerror(d->rc);
		deliver(w, r, r); /* nothing of it was stored */
		return;
	}
	/* Stored in the open group: back once that is durable (settle). */
	if (w->pend_tail)
		w->pend_tail->next = r;
	else
		w->pend_head = r;
	w->pend_tail = r;
}

static void
do_commit(struct tr_writer *w, struct tr_writer_doc *d,
          const struct tr_feed_meta *meta)
{
	struct tr_store_result res;
	int rc;

	memset(&res, 0, sizeof(res));
	if (d->rc == 0 &&
	    (rc = tr_store_batch_commit(d->batch, meta, &res)) != 0)
		doc_failed(w, d, rc, NULL);
	push_result(w, d, &res);
	doc_free(d);
}

/* The round was stopped: a document not committed yet is dropped. */
static int
cancelled(const struct tr_writer *w)
{
	return w->cancel != NULL && *w->cancel;
}

static void
execute(struct tr_writer *w, struct op *o)
{
	struct tr_writer_doc *d = o->doc;
	int rc;

	if (d != NULL && d->rc == 0 && o->kind != OP_DISCARD && cancelled(w)) {
		d->rc = TR_EABORT;
		d->errmsg = strdup("the round was stopped before it was stored");
	}
	switch (o->kind) {
	case OP_BEGIN:
		if (d->rc == 0 &&
		    (rc = tr_store_batch_begin(&d->batch, w->st, d->feed)) != 0)
			doc_failed(w, d, rc, NULL);
		break;
	case OP_ADD:
		if (d->rc == 0 &&
		    (rc = tr_store_batch_add_prepared(d->batch, &o->art,
			 &o->prep)) != 0)
			doc_failed(w, d, rc, NULL);
		break;
	case OP_FAIL:
		doc_failed(w, d, o->rc, o->why);
		break;
	case OP_COMMIT:
		w->unindexed = 1;
		do_commit(w, d,
		          o->meta.title || o->meta.link || o->meta.author
		              ? &o->meta
		              : NULL);
		break;
	case OP_DISCARD:
		doc_free(d);
		break;
	case OP_SAVE:
		if (tr_store_feed_save(w->st, &o->fs) != 0)
			tr_log(TR_LOG_ERROR, "feed %s: saving its state failed: "
			       "%s", o->fs.name, tr_store_errmsg(w->st));
		break;
	}
	settle(w);
	group_wrote(w);
}

/* Every operation queued so far, as a list (their bytes still counted
 * in the queue's: the caller gives them back, release), or NULL once
 * the preparing threads ended and nothing is left. While the queue is
 * dry, commits the open group when it is due. */
static struct op *
take(struct tr_writer *w)
{
	struct op *o;

	pthread_mutex_lock(&w->mu);
	while (w->out.head == NULL && !w->prep_done) {
		struct timespec until;

		if (w->group_open) {
			double left = GROUP_SECONDS - since(&w->group_t0);

			if (left <= 0 || w->flushing) {
				/* Busy meanwhile: a flush waits for it. */
				w->busy = 1;
				pthread_mutex_unlock(&w->mu);
				group_commit(w);
				pthread_mutex_lock(&w->mu);
				w->busy = 0;
				if (w->out.head == NULL)
					pthread_cond_broadcast(&w->idle);
				continue;
			}
			deadline(&until, left);
		} else {
			deadline(&until, WAIT_SECONDS);
		}
		queue_wait(&w->out, &w->mu, &until);
	}
	if ((o = queue_take_all(&w->out)) != NULL)
		w->busy = 1;
	pthread_mutex_unlock(&w->mu);
	return o;
}

static void *
run(void *arg)
{
	struct tr_writer *w = arg;
	struct op *o, *next;
	size_t freed;
	int n;

	tr_thread_name("tr-writer");
	while ((o = take(w)) != NULL) {
		/* The taken ones' bytes go back a batch at a time, so that
		 * a producer waiting for room does not wait for them all. */
		freed = 0;
		n = 0;
		for (; o != NULL; o = next) {
			next = o->next;
			freed += o->bytes;
			execute(w, o);
			op_free(o);
			if (next != NULL && (++n % BATCH_OPS == 0 ||
			                     freed >= BATCH_BYTES)) {
				pthread_mutex_lock(&w->mu);
				queue_give(&w->out, freed);
				pthread_mutex_unlock(&w->mu);
				freed = 0;
			}
		}
		pthread_mutex_lock(&w->mu);
		queue_give(&w->out, freed);
		w->busy = 0;
		if (w->out.head == NULL)
			pthread_cond_broadcast(&w->idle);
		pthread_mutex_unlock(&w->mu);
	}
	return NULL;
}

/* --- the preparing threads --- */

/* Turns an article a preparing thread cannot ready into the failure
 * of its document, as the writer thread will record it. */
static void
op_fail(struct op *o, int rc, const char *why)
{
	tr_article_free(&o->art);
	tr_store_prep_free(&o->prep);
	tr_store_prep_init(&o->prep);
	o->kind = OP_FAIL;
	o->rc = rc;
	o->why = why;
}

/*
 * Readies article operation o for the store: its raw bodies sanitized
 * with its document's policy (as the parser would have: the parser
 * hands them out raw, parse.h defer_html), then tr_store_prep_keep or
 * tr_store_prep, all of which touch o alone. Returns 0, or non-zero
 * when the item is dropped, as the parser drops an item it cannot
 * sanitize for want of memory.
 */
static int
prepare(struct tr_writer *w, struct op *o)
{
	const struct tr_writer_doc *d = o->doc;
	int cut = 0, rc;
	char *id;

	if (cancelled(w)) {
		/* Not worth readying: the writer drops it anyway. */
		op_fail(o, TR_EABORT,
		        "the round was stopped before it was stored");
		return 0;
	}
	if (o->art.bodies_raw) {
		rc = tr_parser_sanitize_article(&o->art, &d->policy,
		                                d->max_field, &cut);
		if (cut > 0)
			tr_log(TR_LOG_WARN, "feed %s: item %s: %s grew past "
			       "the size cap when sanitized; left out",
			       d->feed, o->art.id ? o->art.id : "",
			       cut > 1 ? "its bodies" : "a body");
		if (rc != 0) {
			tr_log(TR_LOG_WARN, "feed %s: item %s: out of memory "
			       "sanitizing it; left out", d->feed,
			       o->art.id ? o->art.id : "");
			return 1;
		}
	}
	/* An item equal to its stored row travels as its identity alone
	 * (tr_store_prep_keep). Otherwise the canonical link, content hash
	 * and lists' JSON are worked out here: the writer's thread is the
	 * busier one. */
	if (tr_store_prep_keep(&o->prep, &o->art)) {
		id = o->art.id;
		o->art.id = NULL;
		tr_article_free(&o->art);
		o->art.id = id;
	} else if ((rc = tr_store_prep(&o->prep, &o->art)) != 0) {
		op_fail(o, rc, tr_strerror(rc));
	}
	return 0;
}

/* Up to a batch of the operations no preparing thread took yet, into
 * ops, marked taken (they stay in the queue); their number, or 0 once
 * stopping with none left. */
static int
take_in(struct tr_writer *w, struct op **ops)
{
	struct timespec until;
	size_t bytes = 0;
	struct op *o;
	int n = 0;

	pthread_mutex_lock(&w->mu);
	while (w->in_next == NULL && !w->stopping) {
		deadline(&until, WAIT_SECONDS);
		queue_wait(&w->in, &w->mu, &until);
	}
	while ((o = w->in_next) != NULL && n < BATCH_OPS &&
	       (n == 0 || bytes < BATCH_BYTES)) {
		w->in_next = o->next;
		o->state = OP_TAKEN;
		bytes += o->in_bytes;
		ops[n++] = o;
	}
	if (w->in_next == NULL)
		queue_unhold(&w->in);
	pthread_mutex_unlock(&w->mu);
	return n;
}

/*
 * Under w->mu: moves the ready operations at the head of the preparing
 * threads' queue to the writer thread's, in order, until the head is
 * one still being prepared, so that the order queued is the order
 * written however the preparing threads finish. One thread forwards at
 * a time (appending may wait for room, with the lock released); another
 * that finds it forwarding leaves its ready operation to it.
 */
static void
forward_locked(struct tr_writer *w)
{
	struct op *o;

	if (w->forwarding)
		return;
	w->forwarding = 1;
	while (w->in.head != NULL && w->in.head->state == OP_READY) {
		o = queue_pop(&w->in);
		queue_give(&w->in, o->in_bytes);
		if (o->drop) {
			pthread_mutex_unlock(&w->mu);
			op_free(o);
			pthread_mutex_lock(&w->mu);
			continue;
		}
		append_locked(w, o);
	}
	w->forwarding = 0;
	if (w->in.head == NULL)
		pthread_cond_broadcast(&w->idle);
}

static void *
prep_run(void *arg)
{
	struct tr_writer *w = arg;
	struct op *ops[BATCH_OPS], *o;
	int drop[BATCH_OPS];
	int i, n;

	tr_thread_name("tr-prepare");
	tr_thread_nicer(PREP_NICE);
	while ((n = take_in(w, ops)) > 0) {
		for (i = 0; i < n; i++) {
			o = ops[i];
			drop[i] = 0;
			if (o->kind == OP_ADD)
				drop[i] = prepare(w, o);
			if (o->kind == OP_ADD || o->kind == OP_FAIL)
				o->bytes = op_bytes(o);
		}
		pthread_mutex_lock(&w->mu);
		for (i = 0; i < n; i++) {
			ops[i]->drop = drop[i];
			ops[i]->state = OP_READY;
		}
		forward_locked(w);
		pthread_mutex_unlock(&w->mu);
	}
	/* The last one out has forwarded everything: a thread leaves only
	 * after forwarding, or leaving to the one forwarding, its own. */
	pthread_mutex_lock(&w->mu);
	if (--w->preps == 0) {
		w->prep_done = 1;
		queue_wake(&w->out, 0);
	}
	pthread_mutex_unlock(&w->mu);
	return NULL;
}

/* Ends the preparing threads (the first n started), once they have
 * forwarded everything queued. */
static void
preps_stop(struct tr_writer *w, int n)
{
	int i;

	pthread_mutex_lock(&w->mu);
	w->stopping = 1;
	queue_wake(&w->in, 1);
	pthread_mutex_unlock(&w->mu);
	for (i = 0; i < n; i++)
		pthread_join(w->prep_thread[i], NULL);
}

/* --- the poller's side --- */

static void
writer_free(struct tr_writer *w)
{
	pthread_mutex_destroy(&w->mu);
	queue_destroy(&w->in);
	queue_destroy(&w->out);
	pthread_cond_destroy(&w->idle);
	free(w);
}

int
tr_writer_start(struct tr_writer **out, struct tr_store *st,
                size_t max_bytes)
{
	struct tr_writer *w = calloc(1, sizeof(*w));
	int i;

	*out = NULL;
	if (w == NULL)
		return TR_ENOMEM;
	w->st = st;
	/* The two queues share the cap, so that a round holds no more
	 * queued articles than with one; the writer's has three quarters
	 * of it (PREP_NICE). */
	queue_init(&w->in, max_bytes / 4);
	queue_init(&w->out, max_bytes - max_bytes / 4);
	w->lost_seen = tr_store_groups_lost(st, NULL);
	pthread_mutex_init(&w->mu, NULL);
	pthread_cond_init(&w->idle, NULL);
	tr_store_defer_index(st, 1);
	tr_store_group_begin(st);
	w->preps = PREP_THREADS;
	for (i = 0; i < PREP_THREADS; i++)
		if (pthread_create(&w->prep_thread[i], NULL, prep_run, w) != 0)
			break;
	if (i < PREP_THREADS) {
		pthread_mutex_lock(&w->mu);
		w->preps = i;
		pthread_mutex_unlock(&w->mu);
		preps_stop(w, i);
		goto fail;
	}
	if (pthread_create(&w->thread, NULL, run, w) != 0) {
		preps_stop(w, PREP_THREADS);
		goto fail;
	}
	*out = w;
	return 0;
fail:
	tr_store_group_end(st);
	tr_store_defer_index(st, 0);
	writer_free(w);
	return TR_EINVAL;
}

void
tr_writer_set_cancel(struct tr_writer *w, const volatile int *cancel)
{
	w->cancel = cancel;
}

void
tr_writer_flush(struct tr_writer *w)
{
	pthread_mutex_lock(&w->mu);
	w->flushing = 1;
	queue_wake(&w->in, 1);
	queue_wake(&w->out, 0);
	/* group_open is the thread's, read only while it is not busy. */
	while (w->in.head != NULL || w->forwarding || w->out.head != NULL ||
	       w->busy || w->group_open)
		pthread_cond_wait(&w->idle, &w->mu);
	w->flushing = 0;
	pthread_mutex_unlock(&w->mu);
}

void
tr_writer_stop(struct tr_writer *w)
{
	if (w == NULL)
		return;
	preps_stop(w, PREP_THREADS);
	pthread_join(w->thread, NULL); /* once dry, after the preparing ones */
	/* The last group and its index, with anything an earlier round left
	 * unindexed; then nothing is left for group_end to commit. */
	w->unindexed = 1;
	group_commit(w);
	tr_store_group_end(w->st);
	tr_store_defer_index(w->st, 0);
	tr_writer_results(w, NULL, NULL); /* never collected: dropped */
	writer_free(w);
}

/* Copies policy (NULL: the default) into d, its hosts included. */
static int
doc_policy(struct tr_writer_doc *d, const struct tr_html_policy *policy)
{
	size_t i, n = policy ? policy->n_embed_hosts : 0;

	d->policy.mode = policy ? policy->mode : TR_HTML_DEFAULT;
	if (n == 0)
		return 0;
	if ((d->hosts = calloc(n, sizeof(*d->hosts))) == NULL)
		return TR_ENOMEM;
	d->policy.embed_hosts = (const char *const *)d->hosts;
	d->policy.n_embed_hosts = n;
	for (i = 0; i < n; i++)
		if ((d->hosts[i] = strdup(policy->embed_hosts[i])) == NULL)
			return TR_ENOMEM;
	return 0;
}

struct tr_writer_doc *
tr_writer_doc_begin(struct tr_writer *w, const char *feed,
                    const struct tr_html_policy *policy, size_t max_field,
                    void *token)
{
	struct tr_writer_doc *d = calloc(1, sizeof(*d));
	struct op *o = NULL;

	if (d == NULL || (d->feed = strdup(feed)) == NULL ||
	    doc_policy(d, policy) != 0 ||
	    (d->end = op_new(OP_DISCARD, d)) == NULL ||
	    (o = op_new(OP_BEGIN, d)) == NULL) {
		if (d) {
			free(d->end);
			doc_free(d);
		}
		return NULL;
	}
	d->token = token;
	d->max_field = max_field;
	enqueue(w, o);
	return d;
}

int
tr_writer_doc_add(struct tr_writer *w, struct tr_writer_doc *d,
                  const struct tr_article *a)
{
	struct op *o = op_new(OP_ADD, d);

	if (o == NULL)
		return TR_ENOMEM;
	/* A copy only: sanitizing and tr_store_prep are the preparing
	 * thread's (prepare), so that this thread goes back to fetching. */
	if (tr_article_copy(&o->art, a) != 0) {
		op_free(o);
		return TR_ENOMEM;
	}
	o->in_bytes = article_bytes(&o->art) + slen(o->art.summary_base) +
	              slen(o->art.content_base);
	enqueue(w, o);
	return 0;
}

int
tr_writer_doc_commit(struct tr_writer *w, struct tr_writer_doc *d,
                     const struct tr_feed_meta *meta)
{
	struct op *o = d->end;

	if (meta != NULL &&
	    ((meta->title && (o->meta.title = strdup(meta->title)) == NULL) ||
	     (meta->link && (o->meta.link = strdup(meta->link)) == NULL) ||
	     (meta->author &&
	      (o->meta.author = strdup(meta->author)) == NULL))) {
		tr_writer_doc_discard(w, d);
		return TR_ENOMEM;
	}
	o->kind = OP_COMMIT;
	enqueue(w, o);
	return 0;
}

void
tr_writer_doc_discard(struct tr_writer *w, struct tr_writer_doc *d)
{
	if (d == NULL)
		return;
	d->end->kind = OP_DISCARD;
	enqueue(w, d->end);
}

int
tr_writer_save(struct tr_writer *w, const struct tr_feed_state *fs)
{
	struct op *o = op_new(OP_SAVE, NULL);

	if (o == NULL)
		return TR_ENOMEM;
	if (tr_feed_state_copy(&o->fs, fs) != 0) {
		op_free(o);
		return TR_ENOMEM;
	}
	/* Counted too: in a round of 304s the poller queues a save per
	 * feed faster than the writer runs them, and 10,000 of them
	 * uncounted held about 8 MB at the round's end. */
	o->bytes = sizeof(*o) + slen(fs->name) + slen(fs->url) +
	           slen(fs->effective_url) + slen(fs->title) +
	           slen(fs->site_link) + slen(fs->etag) +
	           slen(fs->last_modified) + slen(fs->body_hash) +
	           slen(fs->last_error) + slen(fs->disabled_reason);
	o->in_bytes = o->bytes; /* in both queues */
	enqueue(w, o);
	return 0;
}

void
tr_writer_results(struct tr_writer *w, tr_writer_result_cb cb, void *arg)
{
	struct result *r, *next;

	pthread_mutex_lock(&w->mu);
	r = w->res_head;
	w->res_head = w->res_tail = NULL;
	pthread_mutex_unlock(&w->mu);
	for (; r != NULL; r = next) {
		next = r->next;
		if (cb)
			cb(&r->r, arg);
		free(r->errmsg);
		free(r);
	}
}
