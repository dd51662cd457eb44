/*
 * poll.h — one polling round: the due feeds fetched, parsed and stored.
 *
 * tr_poll_run() reads every feed's state from the store, picks the due
 * ones (or all, or the named ones), fetches them concurrently with the
 * fetch engine, streams each 2xx body through the parser into a store
 * batch, and writes back each feed's new state: validators, effective URL
 * after a permanent redirect, errors and backoff, Retry-After holds,
 * a 410's disable, and the next check. `tributary fetch` runs one round;
 * `tributary serve` runs one whenever tr_store_next_due() says so.
 *
 * Politeness across runs: a host that answered 429 or 503 with
 * Retry-After is held until then, recorded in the answering feed's
 * retry_after; every round rebuilds the host holds from those, so no
 * feed of that host (host:port) is requested before the time, even with
 * force. A fetch that failed stores nothing of its document.
 *
 * Several processes on one store: the round claims its feeds in the
 * store before fetching them (tr_store_claim, a lease that outlives the
 * round's longest plausible time) and releases them at its end; a feed
 * another process holds is reported busy and not requested.
 */
#ifndef TRIBUTARY_POLL_H
#define TRIBUTARY_POLL_H

#include <stddef.h>
#include <stdint.h>

#include "tributary/config.h"
#include "tributary/store.h"

enum tr_poll_outcome {
	TR_POLL_OK,        /* a new document parsed and stored */
	TR_POLL_UNCHANGED, /* 304, or the same body as last time */
	TR_POLL_FAILED,    /* error recorded; retried with backoff */
	TR_POLL_HELD,      /* its host is under Retry-After: not requested */
	TR_POLL_DISABLED,  /* disabled (410 Gone, or in feeds.conf) */
	TR_POLL_BUSY,      /* another process polls it (its lease runs) */
};

/* "ok", "unchanged", "failed", "held", "disabled", "busy". */
const char *tr_poll_outcome_name(enum tr_poll_outcome o);

/* One feed's part of the round. Borrowed for the callback. */
struct tr_poll_result {
	const char *name;
	enum tr_poll_outcome outcome;
	int status;          /* final HTTP status, 0 if none */
	int64_t added;       /* new articles */
	int64_t updated;     /* changed articles */
	double seconds;      /* transfer time */
	const char *message; /* what went wrong or why skipped, or NULL */
	const char *url;     /* the URL requested */
	int64_t next_check;  /* Unix seconds */
	size_t index;        /* 1-based count of feeds reported so far */
	size_t total;        /* feeds in this round */
	/* For the service's metrics: */
	int redirects; /* redirects followed (0 when not fetched) */
	int recovered; /* OK, but the document was not well-formed
	                  and the parser recovered (tr_parser_bozo) */
};

typedef void (*tr_poll_cb)(const struct tr_poll_result *r, void *arg);

struct tr_poll_opts {
	int force;                /* poll every feed, due or not (never a
	                             held host or a disabled feed) */
	const char *const *names; /* only these feeds (due or not), or
	                             NULL for every due feed */
	size_t n_names;
	int64_t now;                /* 0: the clock */
	const volatile int *cancel; /* non-zero ends the round early */
	tr_poll_cb on_feed;         /* called once per feed, or NULL */
	void *arg;
};

struct tr_poll_stats {
	int64_t feeds; /* reported to on_feed */
	int64_t ok;
	int64_t unchanged;
	int64_t failed;
	int64_t held;
	int64_t disabled;
	int64_t busy; /* skipped: another process polls them */
	int64_t added;
	int64_t updated;
	double seconds; /* wall time of the round */
};

/*
 * Runs one round on st (which tr_store_sync_config() has matched to cfg).
 * Its writes are committed in groups every quarter of a second (other
 * handles see a stored feed that much later), and each group's new
 * articles are indexed for search (tr_query.q) right after its commit.
 * stats may be NULL. Returns 0 when the round ran (whatever each feed's
 * outcome), TR_ESTORE when the feeds could not be read, TR_ENOMEM, or
 * TR_EHTTP when libcurl could not be set up. Feeds named in opts that are
 * not in cfg are ignored (the caller checks names first).
 */
int tr_poll_run(struct tr_poll_stats *stats, struct tr_store *st,
                const struct tr_config *cfg, const struct tr_poll_opts *opts);

/*
 * Finds the feed URLs an HTML page announces: every <link rel="alternate"
 * type="application/rss+xml|atom+xml" href="..."> in html[0..len),
 * resolved against base. Calls cb for each (at most max). Returns how
 * many were found.
 */
size_t tr_poll_html_feed_links(const char *html, size_t len, const char *base,
                               size_t max,
                               void (*cb)(const char *url, void *arg),
                               void *arg);

#endif
