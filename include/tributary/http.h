/*
 * http.h — the HTTP endpoint: the merged feed served from the store with
 * libmicrohttpd.
 *
 *	struct tr_http *srv = NULL;
 *	if (tr_http_start(&srv, cfg, cfg->database) != 0)
 *		... tr_http_errmsg(srv) ...
 *	printf("%s/feed.atom\n", tr_http_url(srv));
 *	... wait for a signal ...
 *	tr_http_stop(srv);
 *
 * Routes, for GET and HEAD (other methods get 405 with Allow):
 *   /feed.atom, /feed.rss, /feed.json      the merged feed
 *   /tags/NAME.atom (.rss, .json)          the feeds tagged NAME
 *   /feeds/NAME.atom (.rss, .json)         one feed
 *   /feeds.opml                            the subscriptions
 *   /                                      HTML page: search, articles,
 *                                          the feeds' states, tags
 *   /tags/NAME.html, /feeds/NAME.html      the page of a tag or feed
 *   /feed.xsl                              the feeds' XSLT stylesheet;
 *                                          a browser (Accept: text/html,
 *                                          no feed type) gets Atom and
 *                                          RSS as application/xml
 *   /healthz                               200 "ok" while the store answers
 *   /metrics                               only while a metrics hook is set
 * An unknown path is a 404; an unknown tag or feed a 404 naming it.
 *
 * Query parameters of the feed routes and "/": limit (1..1000, default
 * 50), since (any date tr_date_parse() accepts, RFC 3339 included), q (a
 * search: words that must all appear, a "phrase" in double quotes, a
 * trailing * for a prefix, a leading - to leave a word out; see
 * tr_store_search_expr()), before (the cursor of the next page). Unknown
 * parameters are ignored, since feed readers add cache-busters such as
 * "?_=1700000000"; a known parameter given twice, a bad value or text that
 * is not UTF-8 is a 400 with a one-line plain-text reason naming it.
 *
 * Validators: a strong ETag per (store generation, path and parameters,
 * config), with "-gz" inside the quotes for the gzip form; Last-Modified
 * is the later of the store's last change and the time the config took
 * effect (the documents show both). If-None-Match (weak comparison, lists,
 * "*") takes precedence over If-Modified-Since; either gives a 304.
 * Cache-Control: max-age is the time to the next scheduled poll, within
 * 60..3600 s. Vary: Accept-Encoding on every document.
 *
 * Limits: a request target over max_uri is a 414, a request line and
 * headers over max_header a 431 (from libmicrohttpd), a request body a 413
 * and both Content-Length and Transfer-Encoding, or a header name that is
 * not a token, a 400; these close the connection. So do more than 64
 * query parameters (400) and a path with a NUL or control byte (400).
 * A request target in absolute form ("GET http://host/feed.atom") is
 * served like its path.
 *
 * Slow clients: one address holds at most per_address connections; a
 * connection must send a complete request head within head_timeout of
 * opening or of its previous answer, however it trickles bytes; and
 * when the connections near max_connections, those that have waited
 * longest for a request head are closed to make room for new clients.
 *
 * Searches (q) run on their own small pool of threads, with a time
 * budget each, so that /healthz and cached documents answer while they
 * run; a search whose client has gone is dropped.
 *
 * Bodies are rendered once per (path, parameters, store generation) and
 * kept in a bounded cache together with their gzip form, so a poll of an
 * unchanged feed reads the store's generation and nothing else. Each
 * server thread uses its own read-only store handle.
 */
#ifndef TRIBUTARY_HTTP_H
#define TRIBUTARY_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "tributary/buf.h"
#include "tributary/config.h"

struct tr_http;

/* Tuning; a zero field takes its default. */
struct tr_http_opts {
	const char *listen;   /* overrides cfg->listen; port 0 = any free */
	int threads;          /* server threads (2..4 by CPU count) */
	int max_connections;  /* open connections at once (1024) */
	int per_address;      /* connections from one client address (64);
	                         -1: no limit (behind a reverse proxy) */
	int head_timeout;     /* seconds to send a whole request head, from
	                         the connection's start or the previous
	                         answer (10) */
	int timeout;          /* seconds a connection may idle (30) */
	int search_threads;   /* threads that run searches (2) */
	int search_queue;     /* searches waiting at most, else 503 (32) */
	int search_ms;        /* time budget of one search, else 503 (2000) */
	size_t max_uri;       /* longest request target, else 414 (2048) */
	size_t max_header;    /* request line and headers, else 431 (16k) */
	size_t cache_entries; /* rendered bodies kept (256) */
	size_t cache_bytes;   /* bytes of bodies kept, gzip included (64M) */
	size_t max_body;      /* largest rendered document, else 500 (64M) */
	size_t stream_min;    /* a document larger than this is streamed,
	                         rendered as the client reads (2M);
	                         SIZE_MAX: never */
	int stream_timeout;   /* seconds a streamed answer may take, else
	                         it is cut (60) */
	int max_streams;      /* streamed answers at once, else 503 (16) */
};

/*
 * Creates a server for the store at db_path with the config cfg, without
 * listening yet (tr_http_handle() in lib/http_int.h works on it). cfg is
 * borrowed: it must stay valid until tr_http_set_config() replaces it or
 * tr_http_stop(). opts may be NULL. Returns 0, TR_ENOMEM or TR_EINVAL
 * (bad listen address). On failure *out may still be set so that
 * tr_http_errmsg() can tell why; free it with tr_http_stop().
 */
int tr_http_new(struct tr_http **out, const struct tr_config *cfg,
                const char *db_path, const struct tr_http_opts *opts);

/*
 * Binds the listen address and starts the server threads. TR_EIO when
 * the address cannot be bound (tr_http_errmsg() says why).
 */
int tr_http_listen(struct tr_http *srv);

/* tr_http_new() and tr_http_listen() with default options. */
int tr_http_start(struct tr_http **out, const struct tr_config *cfg,
                  const char *db_path);

/* The bound port (after tr_http_listen), else 0. */
unsigned tr_http_port(const struct tr_http *srv);

/*
 * The base URL of self links, without a trailing slash: cfg->base_url,
 * else "http://HOST:PORT" of the bound address (a wildcard host is
 * written as localhost). Borrowed; valid until the next
 * tr_http_set_config().
 */
const char *tr_http_url(const struct tr_http *srv);

/* The last error's text. Borrowed. */
const char *tr_http_errmsg(const struct tr_http *srv);

/*
 * Stops listening, waits for the server threads, closes the store handles
 * and frees everything. Accepts NULL.
 */
void tr_http_stop(struct tr_http *srv);

/*
 * Replaces the config (for a reload): requests already running finish
 * with the old one, and it is not used once this returns, so the caller
 * may free it then. Drops every cached body. The listen address is not
 * changed.
 */
void tr_http_set_config(struct tr_http *srv, const struct tr_config *cfg);

/* Drops every cached body (they are rebuilt on the next request). */
void tr_http_invalidate(struct tr_http *srv);

/*
 * /healthz hook, called after the store answered. Write a one-line
 * detail into msg (may be left empty) and return 0 when healthy (200) or
 * non-zero when not (503). Called from server threads, concurrently.
 */
typedef int (*tr_http_health_fn)(struct tr_buf *msg, void *arg);
void tr_http_set_health(struct tr_http *srv, tr_http_health_fn fn, void *arg);

/*
 * /metrics hook: append Prometheus text-format lines to out and return 0
 * (non-zero: 500). The route exists only while a hook is set; the
 * server's own request counters (tr_http_write_counters) are appended
 * after the hook's lines. Called from server threads, concurrently.
 */
typedef int (*tr_http_metrics_fn)(struct tr_buf *out, void *arg);
void tr_http_set_metrics(struct tr_http *srv, tr_http_metrics_fn fn, void *arg);

/*
 * Set the hooks before tr_http_listen() or while no request runs; they
 * are read without a lock.
 */

/*
 * Calls cb once per (route, status) pair that answered at least one
 * request: route is "feed", "tag", "feeds", "opml", "home", "healthz",
 * "metrics" or "other" (no route); status is the HTTP status.
 */
typedef void (*tr_http_counter_cb)(const char *route, int status,
                                   uint64_t count, void *arg);
void tr_http_counters(struct tr_http *srv, tr_http_counter_cb cb, void *arg);

/*
 * Appends the request counters in the Prometheus text format:
 *	# TYPE tributary_http_requests_total counter
 *	tributary_http_requests_total{route="feed",status="200"} 12
 */
int tr_http_write_counters(struct tr_buf *out, struct tr_http *srv);

#endif
