/*
 * http_int.h — the endpoint's request handling as plain functions, for
 * lib/http.c, its unit tests and its fuzz target.
 *
 * tr_http_handle() turns a request described by struct tr_http_request
 * into a struct tr_http_response without any socket; lib/http.c adapts
 * libmicrohttpd to it. The parsers below are the pieces it is made of.
 */
#ifndef TRIBUTARY_HTTP_INT_H
#define TRIBUTARY_HTTP_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "tributary/buf.h"
#include "tributary/config.h"
#include "tributary/http.h"

/* --- routes --- */

enum tr_http_route_id {
	TR_ROUTE_NONE = 0, /* no route: 404 */
	TR_ROUTE_FEED,     /* /feed.EXT */
	TR_ROUTE_TAG,      /* /tags/NAME.EXT */
	TR_ROUTE_FEEDNAME, /* /feeds/NAME.EXT */
	TR_ROUTE_OPML,     /* /feeds.opml */
	TR_ROUTE_HOME,     /* / */
	TR_ROUTE_HEALTHZ,  /* /healthz */
	TR_ROUTE_METRICS,  /* /metrics */
	TR_ROUTE_XSL,      /* /feed.xsl, the feeds' stylesheet */
	TR_ROUTE_COUNT
};

#define TR_HTTP_NAME_MAX 256

struct tr_http_route {
	enum tr_http_route_id id;
	int fmt;                     /* enum tr_format of the body */
	int params;                  /* non-zero: takes limit/since/q/before */
	char name[TR_HTTP_NAME_MAX]; /* NAME of /tags/ and /feeds/, or "" */
};

/*
 * Matches a percent-decoded path against the route table. Returns 0 and
 * fills *r, or TR_ENOTFOUND (r->id is TR_ROUTE_NONE). A NAME must be
 * non-empty, valid UTF-8 and shorter than TR_HTTP_NAME_MAX; a feed name
 * has no '/' (a tag may).
 */
int tr_http_route_match(struct tr_http_route *r, const char *path);

/* "feed", "tag", "feeds", "opml", "home", "healthz", "metrics", "other". */
const char *tr_http_route_name(enum tr_http_route_id id);

/* --- the request target --- */

#define TR_HTTP_MAX_ARGS 64 /* query parameters read per request */

/* What tr_http_target_check() finds in a raw request target. */
enum {
	TR_TARGET_TOO_LONG = 1,      /* longer than max_uri: 414 */
	TR_TARGET_TOO_MANY_ARGS = 2, /* over TR_HTTP_MAX_ARGS parameters */
	TR_TARGET_BAD_PATH = 4,      /* the path holds a NUL or another
	                                control byte, raw or as %XX: 400 */
};

/*
 * Checks a request target as the client sent it (before any
 * percent-decoding) and returns the TR_TARGET_* flags that apply, 0 when
 * none.
 */
unsigned tr_http_target_check(const char *target, size_t max_uri);

/*
 * RFC 9112 §3.2.2: the path of an absolute-form request target
 * ("http://host:port/feed.atom" gives "/feed.atom", "http://host" gives
 * "/"), borrowed from target; any other target is returned as it is.
 */
const char *tr_http_origin_path(const char *target);

/* --- query parameters --- */

/* One query argument as libmicrohttpd hands it over (percent-decoded). */
struct tr_http_arg {
	const char *key;
	size_t key_len;    /* may differ from strlen when %00 was sent */
	const char *value; /* NULL for "?key" without '=' */
	size_t value_len;
};

#define TR_HTTP_LIMIT_DEFAULT 50
#define TR_HTTP_LIMIT_MAX 1000

struct tr_http_params {
	int limit; /* 1..1000; TR_HTTP_LIMIT_DEFAULT when not given */
	int limit_given;
	int64_t since;      /* TR_DATE_NONE when not given */
	const char *q;      /* borrowed from the args, or NULL */
	const char *before; /* borrowed from the args, or NULL */
};

/*
 * Reads limit, since, q and before from args, ignoring other keys.
 * Returns 0, or TR_EINVAL with a one-line reason naming the parameter in
 * why (e.g. "limit: must be a whole number from 1 to 1000").
 */
int tr_http_params_parse(struct tr_http_params *p, char *why, size_t whysize,
                         const struct tr_http_arg *args, size_t n_args);

/*
 * The parameters as a canonical query string ("limit=10&q=a%20b"), only
 * those given, percent-encoded; before_override replaces before when not
 * NULL. Appends to out. 0, TR_ENOMEM or TR_ETOOBIG.
 */
int tr_http_params_query(struct tr_buf *out, const struct tr_http_params *p,
                         const char *before_override);

/* --- headers --- */

/*
 * RFC 9110 §13.1.2: non-zero when the If-None-Match field value inm
 * matches etag (a quoted strong entity-tag) by weak comparison, or is
 * "*". A malformed list matches nothing past the point it breaks.
 */
int tr_http_etag_match(const char *inm, const char *etag);

/*
 * RFC 9110 §12.5.3: non-zero when the Accept-Encoding value allows gzip
 * ("gzip", "x-gzip" or "*" with a q-value above 0, the most specific
 * entry winning). NULL means no preference: identity.
 */
int tr_http_accepts_gzip(const char *accept_encoding);

/*
 * Non-zero when the Accept value asks for a page rather than a feed: it
 * names text/html (q above 0) and neither application/atom+xml nor
 * application/rss+xml. Browsers ask so when a person opens a feed;
 * NULL (no preference) is a feed reader.
 */
int tr_http_wants_page(const char *accept);

/*
 * Parses a listen address: "HOST:PORT", "[V6]:PORT", "*:PORT" or a bare
 * port (127.0.0.1). "*" and "[::]" listen on IPv6 and IPv4 (*dual is set,
 * the caller falls back to 0.0.0.0 without IPv6). HOST is numeric or
 * "localhost". Port 0 asks for any free port. 0 or TR_EINVAL.
 */
int tr_http_parse_listen(struct sockaddr_storage *ss, socklen_t *len, int *dual,
                         const char *listen);

/* --- requests and responses --- */

enum tr_http_method {
	TR_HTTP_GET,
	TR_HTTP_HEAD,
	TR_HTTP_OTHER,
};

struct tr_http_request {
	enum tr_http_method method;
	const char *path; /* percent-decoded, without the query */
	const struct tr_http_arg *args;
	size_t n_args;
	int too_many_args;             /* more than the server reads */
	int uri_too_long;              /* the request target passed max_uri */
	int bad_path;                  /* TR_TARGET_BAD_PATH */
	int has_body;                  /* Content-Length > 0 or chunked */
	int framing_conflict;          /* both Content-Length and
	                                  Transfer-Encoding (smuggling) */
	int bad_length;                /* Content-Length not digits, or
	                                  repeated with another value */
	int bad_header;                /* a field name that is no token */
	const char *if_none_match;     /* or NULL */
	const char *if_modified_since; /* or NULL */
	const char *accept_encoding;   /* or NULL */
	const char *accept;            /* or NULL */
	int64_t now;                   /* Unix seconds */
	/*
	 * Asked now and then while a search runs; non-zero stops it (the
	 * time budget ran out, or the client is gone): 503. May be NULL.
	 */
	int (*stop)(void *arg);
	void *stop_arg;
};

struct tr_http_entry; /* a cached rendered body, reference-counted */
struct tr_http_stream; /* a body rendered as the client reads it */

struct tr_http_response {
	int status;
	enum tr_http_route_id route;
	const char *content_type;    /* static */
	const char *allow;           /* for 405, else NULL */
	char etag[64];               /* quoted, or "" */
	char last_modified[40];      /* IMF-fixdate, or "" */
	int max_age;                 /* Cache-Control max-age, -1: no-store */
	int gzip;                    /* body is gzip (Content-Encoding) */
	int vary;                    /* send Vary: Accept-Encoding; 2: Accept
	                                too (the page form of a feed) */
	int close;                   /* send Connection: close */
	struct tr_http_entry *entry; /* a reference, or NULL */
	struct tr_http_stream *stream; /* a streamed body, or NULL: read it
	                                  with tr_http_stream_read() */
	const char *body;            /* borrowed from entry or text */
	size_t body_len;             /* HEAD: the GET body's, not sent */
	struct tr_buf text;          /* owned body of uncached answers */
};

/*
 * Answers req. Always fills *resp (free with tr_http_response_free): a
 * failure of the store becomes a 503, of rendering a 500. Thread-safe.
 */
void tr_http_handle(struct tr_http *srv, struct tr_http_response *resp,
                    const struct tr_http_request *req);

void tr_http_response_free(struct tr_http_response *resp);

/*
 * Streamed answers: a document whose body would pass opts.stream_min
 * bytes is not built whole. The first request that finds it too large
 * caches only its validators (ETag, Last-Modified), so conditional
 * requests still answer 304 without rendering; a 200 carries a stream
 * that a producer thread fills as the client reads: the store's rows
 * are rendered (and gzip-compressed) a few items at a time into a
 * bounded buffer. Reads up to max bytes of the body into buf: the count,
 * 0 at the end, -1 when the stream failed (the store failed, or the
 * deadline opts.stream_timeout passed): the client gets a cut answer.
 * Blocks until bytes are there. A store changed since the ETag was
 * taken gives its new contents (as a built document rendered just
 * after a write would), never a cut answer.
 */
long tr_http_stream_read(struct tr_http_stream *s, char *buf, size_t max);

/* --- where bodies come from (replaceable by tests) --- */

struct tr_http_render_req {
	const struct tr_config *cfg;
	const char *base_url; /* without trailing slash */
	const struct tr_http_route *route;
	const struct tr_http_params *params;
	const char *path;         /* the request's path */
	int64_t updated;          /* Last-Modified time */
	struct tr_buf *out;       /* the body goes here */
	const char *content_type; /* set by render */
	char why[320];            /* reason of a 400 or 404 */
	int (*stop)(void *arg);   /* tr_http_request's, for searches */
	void *stop_arg;
	/*
	 * Set for a streamed answer: render() hands the body over in
	 * pieces as it goes (out holds only what was not handed over yet;
	 * the caller hands over the rest). A non-zero return stops it.
	 */
	int (*flush)(void *arg, const char *p, size_t n);
	void *flush_arg;
};

/*
 * A source of documents: the store and the renderers in production, a
 * fake in tests. open() gives a handle used by one thread at a time;
 * render() returns 0, TR_EINVAL (400 with why), TR_ENOTFOUND (404 with
 * why), TR_EABORT (stop() asked to stop: 503) or another error (500).
 */
struct tr_http_source {
	int (*open)(void **h, const char *db_path);
	void (*close)(void *h);
	int (*generation)(void *h, int64_t *gen, int64_t *changed_at);
	int (*next_due)(void *h, int64_t *when);
	int (*render)(void *h, struct tr_http_render_req *rr);
	/* A stamp of the feeds' states and their latest check, which the
	 * HTML page shows; may be NULL. */
	int (*feeds_stamp)(void *h, int64_t *stamp, int64_t *latest);
};

/* Like tr_http_new() with another source of documents (src is kept). */
int tr_http_new_source(struct tr_http **out, const struct tr_config *cfg,
                       const char *db_path, const struct tr_http_opts *opts,
                       const struct tr_http_source *src);

/* Cache statistics, for tests. */
struct tr_http_cache_stats {
	uint64_t hits;
	uint64_t misses;
	size_t entries;
	size_t bytes;
};
void tr_http_cache_stats(struct tr_http *srv, struct tr_http_cache_stats *st);

#endif
