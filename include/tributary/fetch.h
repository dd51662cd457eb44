/*
 * fetch.h — many HTTP transfers at once on one thread, with libcurl's
 * multi interface.
 *
 * tr_fetch_run() drives every transfer of one round: it pulls requests
 * from the caller's next() callback whenever a slot is free (at most
 * `concurrency` in flight, at most `per_host` connections per host),
 * streams each 2xx body to the caller's body() callback as it arrives,
 * and reports each ending to done(). Nothing buffers a whole body; the
 * engine keeps only the captured response headers of the transfers in
 * flight, and reuses its easy handles.
 *
 *	struct tr_fetch_ops ops = {.next = next, .body = body, .done = done};
 *	tr_fetch_opts_from_config(&o, cfg);
 *	tr_fetch_run(&o, &ops, ctx);
 *
 * Every limit is enforced here: connect and total timeouts, a minimum
 * speed, a body size cap (counted on the decoded bytes too, so a
 * compression bomb is caught), the number of redirects, and the
 * protocols (http and https; file only for requests that allow it; a
 * redirect never leads to file).
 *
 * Redirects and internal networks (server-side request forgery): the
 * configured URL is trusted wherever it points (a feed on the LAN is
 * legitimate), but a redirect hop may not lead to a loopback, private,
 * link-local, unique local or otherwise non-public address unless
 * allow_private_redirects is set, or it is the very address the first
 * hop connected to (a LAN feed redirecting within itself). The check is
 * made on the address actually connected (CURLOPT_OPENSOCKETFUNCTION
 * before connecting, CURLOPT_PREREQFUNCTION for a reused connection,
 * before any request byte is sent), so no DNS answer or numeric host
 * form ("2130706433", "0x7f.1", "[::ffff:127.0.0.1]") gets past it.
 * A URL the feed moved to on another host (req.moved) is not trusted
 * either: its first hop is checked too, so that a host name that later
 * resolves to an internal address does not inherit the configured URL's
 * trust (a feed that moved within its configured host keeps it).
 * Through a proxy (http_proxy and friends, which libcurl honours) the
 * address connected is the proxy's, so the check is the proxy's to make.
 */
#ifndef TRIBUTARY_FETCH_H
#define TRIBUTARY_FETCH_H

#include <stddef.h>
#include <stdint.h>

#include "tributary/config.h"

/* The Accept header of every request: feed types first. */
#define TR_FETCH_ACCEPT                                                        \
	"application/atom+xml, application/rss+xml, "                          \
	"application/rdf+xml;q=0.9, application/xml;q=0.8, "                   \
	"text/xml;q=0.8, */*;q=0.5"

struct tr_fetch_opts {
	long concurrency;           /* transfers in flight (>= 1) */
	long per_host;              /* connections per host (>= 1) */
	long connect_timeout;       /* seconds */
	long timeout;               /* seconds for a whole transfer */
	long low_speed_limit;       /* bytes/s below which ... */
	long low_speed_time;        /* ... for this many seconds aborts */
	long max_redirects;         /* redirects followed */
	int64_t max_body;           /* bytes of one (decoded) body */
	int allow_private_redirects; /* a redirect may lead to an address
	                                tr_fetch_addr_class() names (0) */
	const volatile int *cancel; /* when it points to non-zero, every
	                               transfer ends (TR_EABORT); or NULL */
};

/* Fills o from the config's limits. */
void tr_fetch_opts_from_config(struct tr_fetch_opts *o,
                               const struct tr_config *cfg);

/* One request. Strings are borrowed until the transfer's done() call. */
struct tr_fetch_req {
	const char *url;
	const char *user_agent;
	const char *etag;          /* sent as If-None-Match, or NULL */
	const char *last_modified; /* sent as If-Modified-Since, or NULL */
	int allow_file;            /* the feed is configured as a file URL */
	int moved;                 /* url is where the feed moved (learned
	                              from a permanent redirect) on another
	                              host than its configured URL's: not
	                              trusted, its first hop is checked like
	                              a redirect (tr_fetch_same_host) */
	void *arg;                 /* the caller's per-transfer data */
};

/*
 * What a transfer came to. Strings are borrowed for the callback; header
 * values are those of the final response (after redirects), verbatim, or
 * NULL when absent.
 */
struct tr_fetch_result {
	const char *url;           /* as requested */
	int status;                /* final HTTP status; 0 when none came
	                              (200 is reported for a file URL read) */
	int err;                   /* 0: a response came (any status); else
	                              TR_EHTTP (transfer failed), TR_ETOOBIG
	                              (body over max_body), TR_EABORT (the
	                              body callback or cancel stopped it) */
	const char *errmsg;        /* set when err != 0: a clear sentence */
	const char *effective_url; /* the URL the final response came from */
	const char *permanent_url; /* effective_url when every redirect on
	                              the way was permanent (301/308), else
	                              NULL (also when there was none) */
	int redirects;             /* redirects followed */
	const char *etag;
	const char *last_modified;
	const char *content_type;
	const char *retry_after;
	const char *cache_control;
	const char *expires;
	const char *location; /* of the last redirect response */
	int64_t bytes;        /* decoded body bytes received */
	uint64_t body_hash;   /* tr_sum of those bytes */
	double seconds;       /* total time of the transfer */
};

struct tr_fetch_ops {
	/*
	 * Fills *req with the next request and returns 0, or returns 1 when
	 * there is none left (it is not asked again), or a negative tr_err
	 * to end the round (the transfers in flight still finish).
	 */
	int (*next)(void *ctx, struct tr_fetch_req *req);
	/*
	 * The body of a 2xx response begins (headers and effective URL are
	 * known; bytes, hash and err are not yet). Return 0 to receive it,
	 * non-zero to abort the transfer (err TR_EABORT). May be NULL.
	 */
	int (*body_start)(void *arg, const struct tr_fetch_result *r);
	/*
	 * The next piece of a 2xx body (decoded). Return 0 to go on,
	 * non-zero to abort the transfer (err TR_EABORT). May be NULL.
	 * Bodies of other statuses are not delivered.
	 */
	int (*body)(void *arg, const void *buf, size_t len);
	/*
	 * A request that had to wait for its host (per_host transfers of
	 * it were in flight) is about to start: return 0 to send it, or
	 * non-zero to drop it (then done() is not called for it; the
	 * caller deals with it). May be NULL.
	 */
	int (*recheck)(void *ctx, const struct tr_fetch_req *req);
	/*
	 * The per-host limit across processes (store.h: host slots). A
	 * transfer to host ("host:port", tr_fetch_host) that this process
	 * has room for (fewer than per_host of its own in flight) first
	 * asks for one of the host's limit slots: 0 to start, with *slot
	 * the slot held (or -1: none to give back), or 1 when every slot is
	 * taken elsewhere. Then the request waits, before the later
	 * requests of its host, and is asked about again every 100 ms and
	 * whenever a transfer to its host ends: a request waits, it never
	 * fails for it. host_give gives a slot >= 0 back when its transfer
	 * ends. Both may be NULL: no limit but this process's.
	 */
	int (*host_take)(void *ctx, const char *host, long limit, int *slot);
	void (*host_give)(void *ctx, const char *host, int slot);
	/* The transfer ended, one way or another. Called exactly once. */
	void (*done)(void *ctx, void *arg, const struct tr_fetch_result *r);
	/*
	 * The engine is about to sleep until a socket is ready (at most
	 * 200 ms): a chance to finish work that should not wait on the
	 * network, such as committing. May be NULL.
	 */
	void (*idle)(void *ctx);
};

/*
 * Runs transfers until next() has no more and all in flight have ended.
 * Returns 0, TR_ENOMEM or TR_EHTTP when libcurl could not be set up, or
 * the negative value next() returned. Per-transfer failures are not
 * errors of the run: they are reported to done().
 */
int tr_fetch_run(const struct tr_fetch_opts *o, const struct tr_fetch_ops *ops,
                 void *ctx);


/*
 * Why an IP address may not be reached by a redirect: "loopback",
 * "private", "link-local", "unspecified", "unique local", "shared
 * (carrier-grade NAT)", "multicast", "reserved", "benchmarking" or
 * "documentation"; NULL for a public address. addr is an IPv4 address
 * in any form inet_aton() takes ("127.1", "2130706433", "0x7f.1") or an
 * IPv6 address, with or without brackets; IPv4-mapped, IPv4-compatible,
 * NAT64 and 6to4 addresses are judged by the IPv4 address inside. Text
 * that is not an address is "not an IP address" (never reached).
 */
const char *tr_fetch_addr_class(const char *addr);

/*
 * Non-zero when the URLs a and b name the same host (compared without
 * regard to case; ports and schemes may differ).
 */
int tr_fetch_same_host(const char *a, const char *b);

/*
 * The origin key "host:port" of an http(s) URL, lowercased, for per-host
 * politeness (Retry-After holds). Writes "" when url has no host.
 */
void tr_fetch_host(char *out, size_t size, const char *url);

#endif
