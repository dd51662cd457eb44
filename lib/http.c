/*
 * http.c — the HTTP endpoint: routes, query parameters, conditional
 * requests, gzip and a cache of rendered bodies, served with
 * libmicrohttpd.
 *
 * The request logic is tr_http_handle(), a plain function from a struct
 * tr_http_request to a struct tr_http_response, so that it is tested
 * without sockets; on_request() adapts libmicrohttpd to it.
 *
 * The hot path is a poll of an unchanged document: read the store's
 * generation (one query on this thread's read-only handle), find the
 * rendered body in the cache, compare validators, and queue a prebuilt
 * libmicrohttpd response object. Response objects are reference-counted
 * by libmicrohttpd and reused across connections; each cache entry keeps
 * one per (status 200 or 304, identity or gzip), rebuilt only when its
 * Cache-Control max-age changes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>
#include <zlib.h>

#include "http_int.h"
#include "tributary/article.h"
#include "tributary/date.h"
#include "tributary/error.h"
#include "tributary/escape.h"
#include "tributary/hash.h"
#include "tributary/log.h"
#include "tributary/render.h"
#include "tributary/store.h"
#include "tributary/thread.h"
#include "tributary/url.h"

#define MAX_ARGS TR_HTTP_MAX_ARGS
#define KEY_MAX 4096   /* cache key; the URI limit keeps keys shorter */
#define HDR_MAX 1024   /* If-None-Match / Accept-Encoding kept */
#define POOL_MAX 16    /* idle store handles kept */
#define MAX_AGE_MIN 60 /* Cache-Control bounds, seconds */
#define MAX_AGE_MAX 3600
#define NEXT_DUE_TTL 60 /* re-read the next poll time at least this often */
#define N_BUCKETS 1024  /* cache hash table */
#define PARAM_MAX 1024  /* longest q or before */
#define N_PEER_BUCKETS 256 /* connections per address: hash table */
#define N_UNFINISHED 4     /* reasons a request ends unanswered */

static const char text_plain[] = "text/plain; charset=utf-8";
static const char xsl_type[] = "text/xsl; charset=utf-8";
/* A feed for a browser: the type browsers apply an XSLT to. */
static const char page_xml_type[] = "application/xml; charset=utf-8";
static const char metrics_type[] = "text/plain; version=0.0.4; charset=utf-8";
static const char allow_methods[] = "GET, HEAD";

/* ------------------------------------------------------------------ */
/* Server state                                                        */

/* The statuses counted per route; anything else counts as "other". */
static const int counted_status[] = {200, 304, 400, 404, 405,
                                     413, 414, 500, 503};
#define N_COUNTED (sizeof(counted_status) / sizeof(counted_status[0]))

struct tr_http_entry {
	atomic_int refs; /* the cache's, responses', callers' */
	uint64_t hash;
	char *key;
	int64_t gen;                 /* store generation it was rendered at */
	uint64_t epoch;              /* config epoch */
	int cached;                  /* linked into the cache */
	struct tr_http_entry *hnext; /* bucket chain */
	struct tr_http_entry *prev, *next; /* LRU, most recent first */
	char *body;
	size_t body_len;
	char *gz; /* NULL when gzip failed or was not worth it */
	size_t gz_len;
	const char *content_type;
	char etag[48];    /* quoted */
	char etag_gz[52]; /* quoted, "-gz" before the closing quote */
	char last_modified[40];
	int64_t modified;
	int streamed; /* no body: too large, rendered per request */
	/* Prebuilt responses: [gzip][not modified], with their max-age. */
	struct MHD_Response *mhd[2][2];
	int mhd_age[2][2];
};

struct tr_http {
	struct tr_http_opts opts;
	struct tr_http_source src;
	char *db_path;
	char *listen; /* copy of the address to bind */
	char errmsg[256];

	/* Config, read-locked for the length of a request. */
	pthread_rwlock_t cfg_lock;
	const struct tr_config *cfg;
	uint64_t cfg_hash; /* fingerprint of what the documents show */
	int64_t cfg_time;  /* when this config took effect */
	char base_url[512];

	/* Idle store handles. */
	pthread_mutex_t pool_lock;
	void *pool[POOL_MAX];
	int n_pool;

	/* Rendered bodies. */
	pthread_mutex_t cache_lock;
	struct tr_http_entry *buckets[N_BUCKETS];
	struct tr_http_entry *lru_head, *lru_tail;
	size_t n_entries, n_bytes;
	int64_t cache_gen; /* newest generation seen */
	uint64_t epoch;    /* bumped by set_config / invalidate */
	uint64_t hits, misses;
	int64_t next_due, next_due_read; /* tr_store_next_due, and when */

	/* Hooks. */
	tr_http_health_fn health_fn;
	void *health_arg;
	tr_http_metrics_fn metrics_fn;
	void *metrics_arg;

	atomic_ullong counts[TR_ROUTE_COUNT][N_COUNTED + 1];

	/* Connections waiting for a request head (slow clients). */
	pthread_mutex_t conn_lock;
	pthread_cond_t conn_cond;
	struct conn *wait_head, *wait_tail; /* oldest first */
	size_t n_conns;
	size_t n_closing; /* shut down, not closed yet */
	int watch_stop;
	int watch_running;
	int accept_stop; /* stopping: on_accept() refuses every client */
	pthread_t watchdog;
	atomic_ullong head_timeouts, evictions;
	atomic_ullong searches_dropped, searches_late;
	/* Open connections per client address (clients_per_address). */
	struct peer *peers[N_PEER_BUCKETS];
	atomic_ullong refused_per_address;
	atomic_ullong unfinished[N_UNFINISHED]; /* by unfinished_reason[] */

	/* Searches: a queue and the threads that run them. */
	pthread_mutex_t search_lock;
	pthread_cond_t search_cond;
	struct search_job *search_head, *search_tail;
	int n_search_queued;
	int search_stop;
	int n_search_threads;
	pthread_t search_threads[8];

	atomic_int n_streams; /* streamed answers being rendered */
	/* Connections of streamed answers suspended until their producer
	 * has bytes; streams_stop ends the producers when the server stops. */
	atomic_int n_stream_waits;
	atomic_int streams_stop;

	struct MHD_Daemon *daemon;
	int listen_fd;
	unsigned port;
	struct sockaddr_storage addr;
	socklen_t addr_len;
	int dual;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */

/* Monotonic milliseconds. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Non-zero when the n bytes at s are valid UTF-8 without NUL. */
static int
utf8_valid(const char *s, size_t n)
{
	size_t i = 0, k;
	int32_t cp;

	while (i < n) {
		if (s[i] == '\0')
			return 0;
		if ((unsigned char)s[i] < 0x80) {
			i++;
			continue;
		}
		k = tr_utf8_decode(s + i, n - i, &cp);
		if (cp < 0)
			return 0;
		i += k;
	}
	return 1;
}

/* Mixes string s into h (tr_hash); NULL as "". */
static uint64_t
hash_str(uint64_t h, const char *s)
{
	/* The NUL is hashed too, so that "ab","c" differs from "a","bc". */
	return tr_hash(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

/* ------------------------------------------------------------------ */
/* Routes                                                              */

enum match_kind {
	M_EXACT,    /* the path is the pattern */
	M_EXT,      /* pattern "." EXT */
	M_NAME_EXT, /* pattern NAME "." EXT */
};

static const struct route_def {
	const char *pattern;
	enum match_kind kind;
	enum tr_http_route_id id;
	int fmt; /* of M_EXACT routes; -1: not a rendered document */
	int params;
	const char *name;
} route_table[] = {
    {"/", M_EXACT, TR_ROUTE_HOME, TR_FMT_HTML, 1, "home"},
    {"/feed.xsl", M_EXACT, TR_ROUTE_XSL, -1, 0, "stylesheet"},
    {"/feed", M_EXT, TR_ROUTE_FEED, 0, 1, "feed"},
    {"/tags/", M_NAME_EXT, TR_ROUTE_TAG, 0, 1, "tag"},
    {"/feeds/", M_NAME_EXT, TR_ROUTE_FEEDNAME, 0, 1, "feeds"},
    {"/feeds.opml", M_EXACT, TR_ROUTE_OPML, TR_FMT_OPML, 0, "opml"},
    {"/healthz", M_EXACT, TR_ROUTE_HEALTHZ, -1, 0, "healthz"},
    {"/metrics", M_EXACT, TR_ROUTE_METRICS, -1, 0, "metrics"},
};
#define N_ROUTES (sizeof(route_table) / sizeof(route_table[0]))

/* The extensions of the feed routes. */
static const struct {
	const char *ext;
	enum tr_format fmt;
} ext_table[] = {
    {"atom", TR_FMT_ATOM},
    {"rss", TR_FMT_RSS},
    {"json", TR_FMT_JSON},
    {"html", TR_FMT_HTML}, /* the page of a tag or feed */
};

const char *
tr_http_route_name(enum tr_http_route_id id)
{
	size_t i;

	for (i = 0; i < N_ROUTES; i++)
		if (route_table[i].id == id)
			return route_table[i].name;
	return "other";
}

static int
ext_format(const char *ext)
{
	size_t i;

	for (i = 0; i < sizeof(ext_table) / sizeof(ext_table[0]); i++)
		if (strcmp(ext, ext_table[i].ext) == 0)
			return (int)ext_table[i].fmt;
	return -1;
}

/*
 * Matches rest = NAME "." EXT (NAME may hold dots: the last one splits).
 * A tag may hold '/' (sent as %2F, which libmicrohttpd decodes); a feed
 * name cannot.
 */
static int
match_name_ext(struct tr_http_route *r, const char *rest, int slash)
{
	const char *dot = strrchr(rest, '.');
	size_t n;
	int fmt;

	if (dot == NULL || dot == rest || (fmt = ext_format(dot + 1)) < 0)
		return TR_ENOTFOUND;
	n = (size_t)(dot - rest);
	if (n >= sizeof(r->name) || (!slash && memchr(rest, '/', n)) ||
	    !utf8_valid(rest, n))
		return TR_ENOTFOUND;
	memcpy(r->name, rest, n);
	r->name[n] = '\0';
	r->fmt = fmt;
	return 0;
}

int
tr_http_route_match(struct tr_http_route *r, const char *path)
{
	size_t i, n;

	memset(r, 0, sizeof(*r));
	for (i = 0; path && i < N_ROUTES; i++) {
		const struct route_def *d = &route_table[i];
		int rc = TR_ENOTFOUND;

		n = strlen(d->pattern);
		if (d->kind == M_EXACT) {
			if (strcmp(path, d->pattern) == 0) {
				r->fmt = d->fmt;
				rc = 0;
			}
		} else if (strncmp(path, d->pattern, n) == 0) {
			if (d->kind == M_NAME_EXT)
				rc = match_name_ext(r, path + n,
				                    d->id == TR_ROUTE_TAG);
			else if (path[n] == '.' &&
			         (r->fmt = ext_format(path + n + 1)) >= 0)
				rc = 0;
		}
		if (rc == 0) {
			r->id = d->id;
			r->params = d->params;
			return 0;
		}
	}
	memset(r, 0, sizeof(*r));
	return TR_ENOTFOUND;
}

/* ------------------------------------------------------------------ */
/* The request target                                                  */

unsigned
tr_http_target_check(const char *t, size_t max_uri)
{
	unsigned f = 0;
	size_t n_args = 1;
	const char *p;
	int c;

	if (strlen(t) > max_uri)
		f |= TR_TARGET_TOO_LONG;
	for (p = t; *p && *p != '?'; p++) {
		if ((c = tr_url_pct_byte(p)) < 0)
			c = (unsigned char)*p;
		/* A NUL would cut the decoded path short ("/feed.atom%00.html"
		 * is not /feed.atom); no name holds a control byte. */
		if (c < 0x20 || c == 0x7f)
			f |= TR_TARGET_BAD_PATH;
	}
	/* libmicrohttpd makes one record per '&', empty ones included. */
	if (*p == '?')
		for (p++; *p; p++)
			n_args += *p == '&';
	if (n_args > TR_HTTP_MAX_ARGS)
		f |= TR_TARGET_TOO_MANY_ARGS;
	return f;
}

const char *
tr_http_origin_path(const char *t)
{
	size_t n;

	if (t == NULL || *t == '/')
		return t;
	if (strncasecmp(t, "http://", 7) == 0)
		n = 7;
	else if (strncasecmp(t, "https://", 8) == 0)
		n = 8;
	else
		return t;
	/* The authority ends at the path; the query is already apart. */
	t += n;
	t += strcspn(t, "/");
	return *t ? t : "/";
}

/* ------------------------------------------------------------------ */
/* Query parameters                                                    */

enum param_id { P_LIMIT, P_SINCE, P_Q, P_BEFORE, P_COUNT };

static const char *const param_names[P_COUNT] = {"limit", "since", "q",
                                                 "before"};

static int
param_lookup(const struct tr_http_arg *a)
{
	int i;

	for (i = 0; i < P_COUNT; i++)
		if (a->key_len == strlen(param_names[i]) &&
		    memcmp(a->key, param_names[i], a->key_len) == 0)
			return i;
	return -1;
}

/* "limit": digits only, 1..1000; no sign, no spaces, no leading '+'. */
static int
parse_limit(int *out, const char *v)
{
	long n = 0;

	if (*v == '\0' || strlen(v) > 4)
		return TR_EINVAL;
	for (; *v; v++) {
		if (*v < '0' || *v > '9')
			return TR_EINVAL;
		n = n * 10 + (*v - '0');
	}
	if (n < 1 || n > TR_HTTP_LIMIT_MAX)
		return TR_EINVAL;
	*out = (int)n;
	return 0;
}

/* Checks one known parameter's value and stores it in p. */
static int
param_set(struct tr_http_params *p, char *why, size_t whysize, int id,
          const struct tr_http_arg *a)
{
	const char *name = param_names[id];
	const char *v = a->value ? a->value : "";

	if (a->value && strlen(a->value) != a->value_len) {
		snprintf(why, whysize, "%s: contains a NUL byte", name);
		return TR_EINVAL;
	}
	if (!utf8_valid(v, strlen(v))) {
		snprintf(why, whysize, "%s: not valid UTF-8", name);
		return TR_EINVAL;
	}
	if (id == P_Q) {
		/* An empty q (a search form sent blank) means no search. */
		if (strlen(v) > PARAM_MAX)
			goto toolong;
		p->q = *v ? v : NULL;
		return 0;
	}
	if (*v == '\0') {
		snprintf(why, whysize, "%s: empty value", name);
		return TR_EINVAL;
	}
	switch (id) {
	case P_LIMIT:
		if (parse_limit(&p->limit, v) != 0) {
			snprintf(why, whysize,
			         "limit: must be a whole number from 1 to %d",
			         TR_HTTP_LIMIT_MAX);
			return TR_EINVAL;
		}
		p->limit_given = 1;
		return 0;
	case P_SINCE:
		if (tr_date_parse(&p->since, v) != 0) {
			snprintf(why, whysize,
			         "since: not a date (use RFC 3339, e.g. "
			         "2024-12-06T09:30:00Z)");
			return TR_EINVAL;
		}
		return 0;
	default:
		if (strlen(v) > PARAM_MAX)
			goto toolong;
		p->before = v;
		return 0;
	}
toolong:
	snprintf(why, whysize, "%s: longer than %d bytes", name, PARAM_MAX);
	return TR_EINVAL;
}

int
tr_http_params_parse(struct tr_http_params *p, char *why, size_t whysize,
                     const struct tr_http_arg *args, size_t n_args)
{
	int seen[P_COUNT] = {0};
	size_t i;
	int id, rc;

	p->limit = TR_HTTP_LIMIT_DEFAULT;
	p->limit_given = 0;
	p->since = TR_DATE_NONE;
	p->q = NULL;
	p->before = NULL;
	if (whysize)
		why[0] = '\0';
	for (i = 0; i < n_args; i++) {
		/* Unknown keys are ignored: readers add cache-busters. */
		if (args[i].key == NULL || (id = param_lookup(&args[i])) < 0)
			continue;
		if (seen[id]++) {
			snprintf(why, whysize, "%s: given more than once",
			         param_names[id]);
			return TR_EINVAL;
		}
		if ((rc = param_set(p, why, whysize, id, &args[i])) != 0)
			return rc;
	}
	return 0;
}

/* Appends "&name=" and the percent-encoded value. */
static int
query_add(struct tr_buf *out, const char *name, const char *value)
{
	char *enc;
	int rc;

	if (out->len && (rc = tr_buf_addc(out, '&')) != 0)
		return rc;
	if ((rc = tr_buf_printf(out, "%s=", name)) != 0)
		return rc;
	/* curl_easy_escape ignores its handle since curl 7.82. */
	if ((enc = curl_easy_escape(NULL, value, 0)) == NULL)
		return TR_ENOMEM;
	rc = tr_buf_adds(out, enc);
	curl_free(enc);
	return rc;
}

int
tr_http_params_query(struct tr_buf *out, const struct tr_http_params *p,
                     const char *before_override)
{
	const char *before = before_override ? before_override : p->before;
	size_t start = out->len;
	struct tr_buf q;
	char num[32];
	int rc = 0;

	/*
	 * Built apart, since query_add() puts '&' before every item when
	 * its buffer is not empty, and out may already hold a URL.
	 */
	tr_buf_init(&q, out->max);
	if (p->limit_given) {
		snprintf(num, sizeof(num), "%d", p->limit);
		rc = query_add(&q, "limit", num);
	}
	if (rc == 0 && p->since != TR_DATE_NONE) {
		tr_date_format_rfc3339(num, sizeof(num), p->since);
		rc = query_add(&q, "since", num);
	}
	if (rc == 0 && p->q)
		rc = query_add(&q, "q", p->q);
	if (rc == 0 && before)
		rc = query_add(&q, "before", before);
	if (rc == 0 && q.len)
		rc = tr_buf_add(out, q.data, q.len);
	if (rc != 0)
		tr_buf_truncate(out, start);
	tr_buf_free(&q);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Header fields                                                       */

static const char *
skip_ows(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

int
tr_http_etag_match(const char *inm, const char *etag)
{
	size_t elen;
	const char *s, *end, *opaque;

	if (inm == NULL || etag == NULL)
		return 0;
	s = skip_ows(inm);
	if (*s == '*')
		return *skip_ows(s + 1) == '\0';
	/* Weak comparison (RFC 9110 §8.8.3.2): opaque-tags equal. */
	elen = strlen(etag);
	while (*s) {
		s = skip_ows(s);
		if (*s == ',') {
			s++;
			continue;
		}
		if (strncmp(s, "W/", 2) == 0)
			s += 2;
		if (*s != '"')
			return 0; /* not an entity-tag: stop here */
		opaque = s;
		if ((end = strchr(s + 1, '"')) == NULL)
			return 0;
		if ((size_t)(end + 1 - opaque) == elen &&
		    memcmp(opaque, etag, elen) == 0)
			return 1;
		s = skip_ows(end + 1);
		if (*s != ',' && *s != '\0')
			return 0;
	}
	return 0;
}

/* Parses ";q=0.5" parameters after a coding; returns q in thousandths. */
static int
coding_qvalue(const char *s, const char *end)
{
	int q = 1000;

	while (s < end) {
		const char *semi = memchr(s, ';', (size_t)(end - s));
		const char *p;

		if (semi == NULL)
			break;
		p = skip_ows(semi + 1);
		if ((*p == 'q' || *p == 'Q') && p[1] == '=') {
			int digits = 0, scale = 100;

			p += 2;
			q = (*p == '1') ? 1000 : 0;
			if (*p != '0' && *p != '1')
				return 0; /* malformed: do not use */
			if (*++p == '.')
				for (p++; *p >= '0' && *p <= '9' && digits < 3;
				     p++, digits++, scale /= 10)
					q += (*p - '0') * scale;
			return q > 1000 ? 1000 : q;
		}
		s = semi + 1;
	}
	return q;
}

/*
 * Reads the next member of the comma-separated header list at *s (RFC 9110
 * §5.6.1): sets *name and *n to its token (a coding or media type, without
 * parameters) and *params to what follows the token up to *end, the
 * member's end; advances *s past the comma. Returns 0 at the list's end.
 */
static int
next_member(const char **s, const char **name, size_t *n,
            const char **params, const char **end)
{
	const char *e, *ne;

	if (**s == '\0')
		return 0;
	e = strchr(*s, ',');
	if (e == NULL)
		e = *s + strlen(*s);
	*name = skip_ows(*s);
	for (ne = *name; ne < e && *ne != ';' && *ne != ' ' && *ne != '\t';
	     ne++)
		;
	*n = (size_t)(ne - *name);
	*params = ne;
	*end = e;
	*s = *e ? e + 1 : e;
	return 1;
}

int
tr_http_accepts_gzip(const char *ae)
{
	int gzip_q = -1, star_q = -1;
	const char *s = ae, *name, *params, *end;
	size_t n;

	if (ae == NULL)
		return 0;
	while (next_member(&s, &name, &n, &params, &end)) {
		int q = coding_qvalue(params, end);

		if ((n == 4 && strncasecmp(name, "gzip", 4) == 0) ||
		    (n == 6 && strncasecmp(name, "x-gzip", 6) == 0))
			gzip_q = q > gzip_q ? q : gzip_q;
		else if (n == 1 && *name == '*')
			star_q = q;
	}
	/* The named coding wins over "*" (RFC 9110 §12.5.3). */
	if (gzip_q >= 0)
		return gzip_q > 0;
	return star_q > 0;
}

int
tr_http_wants_page(const char *accept)
{
	const char *s = accept, *name, *params, *end;
	size_t n;
	int html = 0;

	if (accept == NULL)
		return 0;
	while (next_member(&s, &name, &n, &params, &end)) {
		if ((n == 20 && strncasecmp(name, "application/atom+xml", n) == 0) ||
		    (n == 19 && strncasecmp(name, "application/rss+xml", n) == 0))
			return 0; /* a feed reader */
		if (n == 9 && strncasecmp(name, "text/html", n) == 0 &&
		    coding_qvalue(params, end) > 0)
			html = 1;
	}
	return html;
}

/* ------------------------------------------------------------------ */
/* Listen address                                                      */

int
tr_http_parse_listen(struct sockaddr_storage *ss, socklen_t *len, int *dual,
                     const char *listen)
{
	char host[256];
	const char *colon, *port_s;
	struct addrinfo hints, *res = NULL;
	char *end = NULL;
	long port;
	size_t hn;

	memset(ss, 0, sizeof(*ss));
	*dual = 0;
	if (listen == NULL || *listen == '\0')
		return TR_EINVAL;
	colon = strrchr(listen, ':');
	port_s = colon ? colon + 1 : listen;
	hn = colon ? (size_t)(colon - listen) : 0;
	if (listen[0] == '[') { /* "[V6]:PORT" */
		if (colon == NULL || colon[-1] != ']' || hn < 3)
			return TR_EINVAL;
		listen++;
		hn -= 2;
	} else if (colon && memchr(listen, ':', hn) != NULL) {
		return TR_EINVAL; /* a bare IPv6 address needs brackets */
	}
	errno = 0;
	port = strtol(port_s, &end, 10);
	if (*port_s < '0' || *port_s > '9' || *end != '\0' || errno ||
	    port < 0 || port > 65535 || hn >= sizeof(host))
		return TR_EINVAL;
	memcpy(host, listen, hn);
	host[hn] = '\0';
	if (colon == NULL || hn == 0)
		strcpy(host, "127.0.0.1");
	if (strcmp(host, "*") == 0 || strcmp(host, "::") == 0) {
		strcpy(host, "::");
		*dual = 1;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	if (strcmp(host, "localhost") != 0)
		hints.ai_flags |= AI_NUMERICHOST;
	if (getaddrinfo(host, port_s, &hints, &res) != 0 || res == NULL)
		return TR_EINVAL;
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*len = res->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

/* ------------------------------------------------------------------ */
/* gzip                                                                */

/*
 * Compresses n bytes at in as one gzip member (RFC 1952) with zlib.
 * Returns a malloc'ed buffer and sets *outlen, or NULL.
 */
static char *
gzip_body(const char *in, size_t n, size_t *outlen)
{
	z_stream z;
	uLong bound;
	char *out;

	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip header and trailer instead of zlib's. */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) !=
	    Z_OK)
		return NULL;
	bound = deflateBound(&z, (uLong)n) + 32;
	if ((out = malloc(bound)) == NULL) {
		deflateEnd(&z);
		return NULL;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)bound;
	if (n > UINT32_MAX / 2 || deflate(&z, Z_FINISH) != Z_STREAM_END) {
		deflateEnd(&z);
		free(out);
		return NULL;
	}
	*outlen = z.total_out;
	deflateEnd(&z);
	return out;
}

/* ------------------------------------------------------------------ */
/* Cache entries                                                       */

static void
entry_unref(struct tr_http_entry *e)
{
	if (e == NULL || atomic_fetch_sub(&e->refs, 1) != 1)
		return;
	free(e->key);
	free(e->body);
	free(e->gz);
	free(e);
}

/* libmicrohttpd's release of a response body: drops the entry ref. */
static void
entry_release_cb(void *cls)
{
	entry_unref(cls);
}

static size_t
entry_bytes(const struct tr_http_entry *e)
{
	return e->body_len + e->gz_len + strlen(e->key) + sizeof(*e);
}

/* Destroys the prebuilt responses (each may live on in connections). */
static void
entry_drop_responses(struct tr_http_entry *e)
{
	int g, m;

	for (g = 0; g < 2; g++)
		for (m = 0; m < 2; m++)
			if (e->mhd[g][m]) {
				MHD_destroy_response(e->mhd[g][m]);
				e->mhd[g][m] = NULL;
			}
}

static void
lru_unlink(struct tr_http *srv, struct tr_http_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		srv->lru_head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		srv->lru_tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_push_front(struct tr_http *srv, struct tr_http_entry *e)
{
	e->prev = NULL;
	e->next = srv->lru_head;
	if (srv->lru_head)
		srv->lru_head->prev = e;
	srv->lru_head = e;
	if (srv->lru_tail == NULL)
		srv->lru_tail = e;
}

/* Removes e from the cache. Called with cache_lock held. */
static void
cache_remove(struct tr_http *srv, struct tr_http_entry *e)
{
	struct tr_http_entry **pp = &srv->buckets[e->hash % N_BUCKETS];

	while (*pp && *pp != e)
		pp = &(*pp)->hnext;
	if (*pp)
		*pp = e->hnext;
	e->hnext = NULL;
	lru_unlink(srv, e);
	srv->n_entries--;
	srv->n_bytes -= entry_bytes(e);
	e->cached = 0;
	entry_drop_responses(e);
	entry_unref(e);
}

static void
cache_flush_locked(struct tr_http *srv)
{
	while (srv->lru_head)
		cache_remove(srv, srv->lru_head);
}

/*
 * Finds the entry for key at generation gen; returns a new reference or
 * NULL. A newer generation than any seen empties the cache first.
 */
static struct tr_http_entry *
cache_get(struct tr_http *srv, const char *key, uint64_t hash, int64_t gen,
          uint64_t epoch)
{
	struct tr_http_entry *e;

	pthread_mutex_lock(&srv->cache_lock);
	if (gen > srv->cache_gen) {
		cache_flush_locked(srv);
		srv->cache_gen = gen;
	}
	for (e = srv->buckets[hash % N_BUCKETS]; e; e = e->hnext)
		if (e->hash == hash && e->gen == gen && e->epoch == epoch &&
		    strcmp(e->key, key) == 0)
			break;
	if (e) {
		atomic_fetch_add(&e->refs, 1);
		if (srv->lru_head != e) {
			lru_unlink(srv, e);
			lru_push_front(srv, e);
		}
		srv->hits++;
	} else {
		srv->misses++;
	}
	pthread_mutex_unlock(&srv->cache_lock);
	return e;
}

/*
 * Adds e (rendered at its generation) unless the cache moved on, an equal
 * entry got there first, or it is too big; then evicts the least recently
 * used entries past the bounds.
 */
static void
cache_put(struct tr_http *srv, struct tr_http_entry *e)
{
	struct tr_http_entry *o;
	size_t size = entry_bytes(e);

	if (size > srv->opts.cache_bytes / 2)
		return;
	pthread_mutex_lock(&srv->cache_lock);
	if (e->gen != srv->cache_gen || e->epoch != srv->epoch)
		goto out;
	for (o = srv->buckets[e->hash % N_BUCKETS]; o; o = o->hnext)
		if (o->hash == e->hash && o->gen == e->gen &&
		    o->epoch == e->epoch && strcmp(o->key, e->key) == 0)
			goto out;
	atomic_fetch_add(&e->refs, 1);
	e->cached = 1;
	e->hnext = srv->buckets[e->hash % N_BUCKETS];
	srv->buckets[e->hash % N_BUCKETS] = e;
	lru_push_front(srv, e);
	srv->n_entries++;
	srv->n_bytes += size;
	while (srv->lru_tail && srv->lru_tail != e &&
	       (srv->n_entries > srv->opts.cache_entries ||
	        srv->n_bytes > srv->opts.cache_bytes))
		cache_remove(srv, srv->lru_tail);
out:
	pthread_mutex_unlock(&srv->cache_lock);
}

/*
 * Starts a new epoch: entries of older ones are never found again. The
 * caller holds cfg_lock for writing, so no request reads srv->epoch.
 */
static void
invalidate_locked(struct tr_http *srv)
{
	pthread_mutex_lock(&srv->cache_lock);
	srv->epoch++;
	cache_flush_locked(srv);
	pthread_mutex_unlock(&srv->cache_lock);
}

void
tr_http_invalidate(struct tr_http *srv)
{
	pthread_rwlock_wrlock(&srv->cfg_lock);
	invalidate_locked(srv);
	pthread_rwlock_unlock(&srv->cfg_lock);
}

void
tr_http_cache_stats(struct tr_http *srv, struct tr_http_cache_stats *st)
{
	pthread_mutex_lock(&srv->cache_lock);
	st->hits = srv->hits;
	st->misses = srv->misses;
	st->entries = srv->n_entries;
	st->bytes = srv->n_bytes;
	pthread_mutex_unlock(&srv->cache_lock);
}

/* ------------------------------------------------------------------ */
/* Store handles                                                       */

static int
pool_get(struct tr_http *srv, void **h)
{
	int rc;

	*h = NULL;
	pthread_mutex_lock(&srv->pool_lock);
	if (srv->n_pool > 0)
		*h = srv->pool[--srv->n_pool];
	pthread_mutex_unlock(&srv->pool_lock);
	if (*h)
		return 0;
	if ((rc = srv->src.open(h, srv->db_path)) != 0)
		*h = NULL;
	return rc;
}

/* Gives h back; a handle that failed (ok == 0) is closed instead. */
static void
pool_put(struct tr_http *srv, void *h, int ok)
{
	if (h == NULL)
		return;
	if (ok) {
		pthread_mutex_lock(&srv->pool_lock);
		if (srv->n_pool < POOL_MAX) {
			srv->pool[srv->n_pool++] = h;
			h = NULL;
		}
		pthread_mutex_unlock(&srv->pool_lock);
	}
	if (h)
		srv->src.close(h);
}

/* ------------------------------------------------------------------ */
/* Answers                                                             */

static void
count(struct tr_http *srv, enum tr_http_route_id route, int status)
{
	size_t i;

	for (i = 0; i < N_COUNTED && counted_status[i] != status; i++)
		;
	if ((unsigned)route >= TR_ROUTE_COUNT)
		route = TR_ROUTE_NONE;
	atomic_fetch_add_explicit(&srv->counts[route][i], 1,
	                          memory_order_relaxed);
}

/* A plain-text answer: one line (the reason) and no caching. */
static void answer_text(struct tr_http_response *resp, int status,
                        const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
answer_text(struct tr_http_response *resp, int status, const char *fmt, ...)
{
	va_list ap;

	resp->status = status;
	resp->content_type = text_plain;
	resp->max_age = -1;
	tr_buf_reset(&resp->text);
	va_start(ap, fmt);
	if (tr_buf_vprintf(&resp->text, fmt, ap) == 0)
		tr_buf_addc(&resp->text, '\n');
	va_end(ap);
	resp->body = tr_buf_str(&resp->text);
	resp->body_len = resp->text.len;
}

static void stream_cancel(struct tr_http_stream *s);

void
tr_http_response_free(struct tr_http_response *resp)
{
	if (resp == NULL)
		return;
	entry_unref(resp->entry);
	resp->entry = NULL;
	stream_cancel(resp->stream);
	resp->stream = NULL;
	tr_buf_free(&resp->text);
}

/*
 * The Cache-Control max-age: the seconds until the next scheduled poll,
 * within [MAX_AGE_MIN, MAX_AGE_MAX]. The next poll time is read at most
 * once a second when it has passed (nothing polls, or a poll is due),
 * else once a minute.
 */
static int
max_age(struct tr_http *srv, void *h, int64_t now)
{
	int64_t due, read_at, when = 0;

	pthread_mutex_lock(&srv->cache_lock);
	due = srv->next_due;
	read_at = srv->next_due_read;
	pthread_mutex_unlock(&srv->cache_lock);
	if (now - read_at >= NEXT_DUE_TTL || (now >= due && now != read_at)) {
		if (srv->src.next_due(h, &when) != 0)
			when = 0;
		pthread_mutex_lock(&srv->cache_lock);
		srv->next_due = due = when;
		srv->next_due_read = now;
		pthread_mutex_unlock(&srv->cache_lock);
	}
	if (due <= 0)
		return MAX_AGE_MAX; /* nothing scheduled */
	if (due - now < MAX_AGE_MIN)
		return MAX_AGE_MIN;
	return due - now > MAX_AGE_MAX ? MAX_AGE_MAX : (int)(due - now);
}

/* The cache key: route, path and the parameters, length-prefixed. */
static int
make_key(char *key, size_t size, const struct tr_http_route *r,
         const char *path, const struct tr_http_params *p)
{
	int n;

	n = snprintf(key, size, "%d\n%s\n%d\n%lld\n%zu:%s\n%zu:%s", r->id, path,
	             p->limit, (long long)p->since, p->q ? strlen(p->q) : 0,
	             p->q ? p->q : "", p->before ? strlen(p->before) : 0,
	             p->before ? p->before : "");
	return n > 0 && (size_t)n < size ? 0 : TR_ETOOBIG;
}

/* Builds a new entry (one reference, not cached) from a rendered body. */
static struct tr_http_entry *
entry_new(struct tr_http *srv, const char *key, uint64_t hash, int64_t gen,
          uint64_t epoch, int64_t modified, struct tr_buf *body,
          const char *ctype)
{
	struct tr_http_entry *e = calloc(1, sizeof(*e));
	uint64_t tag;

	if (e == NULL || (e->key = strdup(key)) == NULL) {
		free(e);
		return NULL;
	}
	atomic_init(&e->refs, 1);
	e->hash = hash;
	e->gen = gen;
	e->epoch = epoch;
	if (body == NULL) {
		/* Too large to keep: the validators alone. */
		e->streamed = 1;
	} else if ((e->body_len = body->len,
	            e->body = tr_buf_detach(body)) == NULL) {
		entry_unref(e);
		return NULL;
	}
	/* Compressed once here, so gzip answers cost no compression. */
	if (body)
		e->gz = gzip_body(e->body, e->body_len, &e->gz_len);
	if (e->gz && e->gz_len >= e->body_len) { /* not worth it */
		free(e->gz);
		e->gz = NULL;
		e->gz_len = 0;
	}
	e->content_type = ctype;
	/*
	 * Strong: a new generation, config or query gives a new tag, and so
	 * does the document's time (its updated date and Last-Modified),
	 * which is the config's load time while that is later than the
	 * store's last change: two processes serving one store with the
	 * same config (nodes behind a load balancer) then give the same
	 * bytes the same tag, and different bytes different tags.
	 */
	tag = tr_hash(hash, &srv->cfg_hash, sizeof(srv->cfg_hash));
	tag = tr_hash(tag, &modified, sizeof(modified));
	snprintf(e->etag, sizeof(e->etag), "\"%llx-%016llx\"",
	         (unsigned long long)gen, (unsigned long long)tag);
	snprintf(e->etag_gz, sizeof(e->etag_gz), "\"%llx-%016llx-gz\"",
	         (unsigned long long)gen, (unsigned long long)tag);
	e->modified = modified;
	if (modified > 0)
		tr_date_format_rfc822(e->last_modified,
		                      sizeof(e->last_modified), modified);
	return e;
}

/* Renders the document of route r into a new entry, or answers an error. */
static struct tr_http_entry *
render_entry(struct tr_http *srv, void *h, struct tr_http_response *resp,
             const struct tr_http_route *r, const struct tr_http_params *p,
             const struct tr_http_request *req, const char *key,
             uint64_t hash, int64_t gen, int64_t modified)
{
	const char *path = req->path;
	struct tr_http_render_req rr;
	struct tr_http_entry *e;
	struct tr_buf body;
	/* Past stream_min bytes, a document is streamed: the first try
	 * stops there and keeps the validators only. */
	int streamable = r->id != TR_ROUTE_OPML &&
	                 srv->opts.stream_min < srv->opts.max_body;
	int rc;

	memset(&rr, 0, sizeof(rr));
	tr_buf_init(&body, streamable ? srv->opts.stream_min
	                              : srv->opts.max_body);
	rr.cfg = srv->cfg;
	rr.base_url = srv->base_url;
	rr.route = r;
	rr.params = p;
	rr.path = path;
	rr.updated = modified > 0 ? modified : TR_DATE_NONE;
	rr.out = &body;
	rr.stop = req->stop;
	rr.stop_arg = req->stop_arg;
	rc = srv->src.render(h, &rr);
	if (rc == TR_ETOOBIG && streamable) {
		tr_buf_free(&body);
		e = entry_new(srv, key, hash, gen, srv->epoch, modified, NULL,
		              rr.content_type ? rr.content_type
		                              : tr_format_content_type(r->fmt));
		if (e == NULL)
			answer_text(resp, 500, "out of memory");
		return e;
	}
	if (rc == TR_EABORT) {
		/* The time budget ran out (or the client left): no entry. */
		answer_text(resp, 503,
		            "search stopped after %d ms: use fewer words, or "
		            "longer ones before a *",
		            srv->opts.search_ms);
	} else if (rc == TR_EINVAL && body.len > 0) {
		/* A search the page refused: the page says why (not cached). */
		resp->status = 400;
		resp->content_type = tr_format_content_type(TR_FMT_HTML);
		resp->max_age = -1;
		tr_buf_free(&resp->text);
		resp->text = body;
		tr_buf_init(&body, 0);
		resp->body = resp->text.data;
		resp->body_len = resp->text.len;
	} else if (rc == TR_EINVAL || rc == TR_ENOTFOUND) {
		answer_text(resp, rc == TR_EINVAL ? 400 : 404, "%s",
		            rr.why[0] ? rr.why : "bad request");
	} else if (rc != 0) {
		tr_log(TR_LOG_WARN, "http %s: rendering failed: %s%s%s", path,
		       tr_strerror(rc), rr.why[0] ? ": " : "", rr.why);
		answer_text(resp, 500, "rendering failed: %s",
		            rc == TR_ETOOBIG
		                ? "document too large (lower limit)"
		                : tr_strerror(rc));
	}
	if (rc != 0) {
		tr_buf_free(&body);
		return NULL;
	}
	e = entry_new(srv, key, hash, gen, srv->epoch, modified, &body,
	              rr.content_type ? rr.content_type
	                              : tr_format_content_type(r->fmt));
	tr_buf_free(&body);
	if (e == NULL)
		answer_text(resp, 500, "out of memory");
	return e;
}

/* Fills a 200 or 304 answer from entry e (whose reference resp takes). */
static void
answer_entry(struct tr_http_response *resp, struct tr_http_entry *e,
             const struct tr_http_request *req, int age)
{
	int gz = (e->gz || e->streamed) &&
	         tr_http_accepts_gzip(req->accept_encoding);
	int not_modified = 0;
	int64_t ims;

	int feed = strcmp(e->content_type, tr_format_content_type(TR_FMT_ATOM)) ==
	               0 ||
	           strcmp(e->content_type, tr_format_content_type(TR_FMT_RSS)) ==
	               0;
	size_t n;

	resp->entry = e;
	resp->content_type = e->content_type;
	resp->max_age = age;
	resp->vary = feed ? 2 : 1;
	resp->gzip = gz;
	snprintf(resp->etag, sizeof(resp->etag), "%s",
	         gz ? e->etag_gz : e->etag);
	/*
	 * A browser shows application/atom+xml and rss+xml as raw text but
	 * applies the feed's stylesheet to application/xml: a person who
	 * opens the feed gets that form (same body, its own ETag).
	 */
	if (feed && tr_http_wants_page(req->accept) &&
	    (n = strlen(resp->etag)) + 4 < sizeof(resp->etag)) {
		resp->content_type = page_xml_type;
		memcpy(resp->etag + n - 1, "-xml\"", 6);
	}
	snprintf(resp->last_modified, sizeof(resp->last_modified), "%s",
	         e->last_modified);
	/* RFC 9110 §13.2.2: If-None-Match first; then If-Modified-Since. */
	if (req->if_none_match)
		not_modified =
		    tr_http_etag_match(req->if_none_match, resp->etag);
	else if (req->if_modified_since && e->modified > 0 &&
	         tr_date_parse_http(&ims, req->if_modified_since) == 0)
		/* A date in the future is a broken clock: ignore it. */
		not_modified = e->modified <= ims && ims <= req->now;
	resp->status = not_modified ? 304 : 200;
	if (!not_modified && !e->streamed) {
		resp->body = gz ? e->gz : e->body;
		resp->body_len = gz ? e->gz_len : e->body_len;
	}
}

/* ------------------------------------------------------------------ */
/* Streamed answers                                                    */

/*
 * A document past opts.stream_min bytes (limit=1000 of long articles) is
 * rendered as the client reads it: a producer thread runs the query and
 * the renderer, hands each piece of STREAM_PIECE bytes or so to a buffer
 * of STREAM_BUF bytes (deflated first when the client takes gzip), and
 * waits while the buffer is full; libmicrohttpd's reader callback takes
 * the bytes out. Memory per answer is bounded whatever the document's
 * size, and the store's read transaction lasts no longer than the
 * answer's deadline (opts.stream_timeout): a client that reads too
 * slowly is cut off, and the query ends with it.
 */
#define STREAM_BUF (64 * 1024)

struct tr_http_stream {
	struct tr_http *srv;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	int refs;             /* the producer's and the reader's */
	int done, failed;     /* under lock */
	atomic_int cancelled; /* the reader is gone */
	struct timespec deadline; /* CLOCK_REALTIME, for the waits */
	char pend[STREAM_BUF];    /* bytes for the reader */
	size_t plen;
	/* What to render: copies of the request's parts. */
	struct tr_http_route route;
	struct tr_http_params params; /* q and before point to: */
	char *q, *before, *path;
	int64_t modified;
	int gzip;
	z_stream z;
	int z_ready;
	/* The connection a server's thread suspended while pend was empty
	 * (under lock), resumed as soon as the producer has bytes or ends:
	 * a slow producer never holds one of libmicrohttpd's threads. */
	struct MHD_Connection *conn;
	int suspended;
};

static void
stream_unref(struct tr_http_stream *s)
{
	int last;

	pthread_mutex_lock(&s->lock);
	last = --s->refs == 0;
	pthread_mutex_unlock(&s->lock);
	if (!last)
		return;
	if (s->z_ready)
		deflateEnd(&s->z);
	free(s->path);
	free(s->q);
	free(s->before);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
	free(s);
}

/* The reader is gone (or never came): the producer stops. */
static void
stream_cancel(struct tr_http_stream *s)
{
	if (s == NULL)
		return;
	atomic_store(&s->cancelled, 1);
	pthread_mutex_lock(&s->lock);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	stream_unref(s);
}

/* Under s->lock: the reader has bytes, or the end, to take. */
static void
stream_wake(struct tr_http_stream *s)
{
	pthread_cond_broadcast(&s->cond);
	if (s->suspended) {
		s->suspended = 0;
		MHD_resume_connection(s->conn);
		atomic_fetch_sub(&s->srv->n_stream_waits, 1);
	}
}

/* Moves n bytes into the reader's buffer, waiting while it is full. */
static int
stream_put(struct tr_http_stream *s, const char *p, size_t n)
{
	int rc = 0;

	pthread_mutex_lock(&s->lock);
	while (n > 0 && rc == 0) {
		size_t k = STREAM_BUF - s->plen;

		if (atomic_load(&s->cancelled) ||
		    atomic_load(&s->srv->streams_stop)) {
			rc = TR_EABORT;
		} else if (k == 0) {
			if (pthread_cond_timedwait(&s->cond, &s->lock,
			                           &s->deadline) == ETIMEDOUT)
				rc = TR_EABORT;
		} else {
			k = k < n ? k : n;
			memcpy(s->pend + s->plen, p, k);
			s->plen += k;
			p += k;
			n -= k;
			stream_wake(s);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Hands n bytes of the body over, deflated when the client takes gzip;
 * finish ends the gzip member. */
static int
stream_push(struct tr_http_stream *s, const char *p, size_t n, int finish)
{
	char chunk[16 * 1024];
	int zrc, rc;

	if (!s->gzip)
		return stream_put(s, p, n);
	s->z.next_in = (Bytef *)(uintptr_t)p;
	s->z.avail_in = (uInt)n;
	do {
		s->z.next_out = (Bytef *)chunk;
		s->z.avail_out = sizeof(chunk);
		zrc = deflate(&s->z, finish ? Z_FINISH : Z_NO_FLUSH);
		if (zrc == Z_STREAM_ERROR)
			return TR_EIO;
		if ((rc = stream_put(s, chunk, sizeof(chunk) - s->z.avail_out)) !=
		    0)
			return rc;
	} while (s->z.avail_out == 0 || (finish && zrc != Z_STREAM_END));
	return 0;
}

static int
stream_flush(void *arg, const char *p, size_t n)
{
	return stream_push(arg, p, n, 0);
}

/* The query's stop(): the reader left, or the deadline passed. */
static int
stream_should_stop(void *arg)
{
	struct tr_http_stream *s = arg;
	struct timespec now;

	if (atomic_load(&s->cancelled) || atomic_load(&s->srv->streams_stop))
		return 1;
	clock_gettime(CLOCK_REALTIME, &now);
	return now.tv_sec > s->deadline.tv_sec;
}

static void *
stream_main(void *arg)
{
	struct tr_http_stream *s = arg;
	struct tr_http *srv = s->srv;
	struct tr_http_render_req rr;
	struct tr_buf out;
	void *h = NULL;
	int rc;

	memset(&rr, 0, sizeof(rr));
	tr_buf_init(&out, srv->opts.max_body);
	pthread_rwlock_rdlock(&srv->cfg_lock);
	rr.cfg = srv->cfg;
	rr.base_url = srv->base_url;
	rr.route = &s->route;
	rr.params = &s->params;
	rr.path = s->path;
	rr.updated = s->modified > 0 ? s->modified : TR_DATE_NONE;
	rr.out = &out;
	rr.stop = stream_should_stop;
	rr.stop_arg = s;
	rr.flush = stream_flush;
	rr.flush_arg = s;
	/*
	 * What the store holds now: when it changed since the ETag was
	 * taken, the body is newer than its ETag says, as with a built
	 * document rendered just after a write; a client's next
	 * conditional request then gets the new ETag. Cutting the answer
	 * instead would fail every large download during a busy round.
	 */
	if ((rc = pool_get(srv, &h)) == 0)
		rc = srv->src.render(h, &rr);
	if (h)
		pool_put(srv, h, rc == 0 || rc == TR_EABORT);
	pthread_rwlock_unlock(&srv->cfg_lock);
	if (rc == 0)
		rc = stream_push(s, out.data ? out.data : "", out.len, 1);
	else if (rc != TR_EABORT)
		tr_log(TR_LOG_WARN, "http %s: rendering failed: %s%s%s", s->path,
		       tr_strerror(rc), rr.why[0] ? ": " : "", rr.why);
	tr_buf_free(&out);
	pthread_mutex_lock(&s->lock);
	if (rc == 0)
		s->done = 1;
	else
		s->failed = 1;
	stream_wake(s);
	pthread_mutex_unlock(&s->lock);
	stream_unref(s);
	atomic_fetch_sub(&srv->n_streams, 1);
	return NULL;
}

/* Under s->lock: moves up to max of the pending bytes to buf, and
 * wakes the producer waiting for room. */
static size_t
stream_take(struct tr_http_stream *s, char *buf, size_t max)
{
	size_t k = s->plen < max ? s->plen : max;

	memcpy(buf, s->pend, k);
	memmove(s->pend, s->pend + k, s->plen - k);
	s->plen -= k;
	pthread_cond_broadcast(&s->cond);
	return k;
}

long
tr_http_stream_read(struct tr_http_stream *s, char *buf, size_t max)
{
	long n = -1;

	pthread_mutex_lock(&s->lock);
	while (s->plen == 0 && !s->done && !s->failed)
		if (pthread_cond_timedwait(&s->cond, &s->lock, &s->deadline) ==
		    ETIMEDOUT)
			break;
	if (s->plen > 0)
		n = (long)stream_take(s, buf, max);
	else if (s->done)
		n = 0;
	pthread_mutex_unlock(&s->lock);
	return n;
}

static char *
dup_or_null(const char *s, int *fail)
{
	char *d = s ? strdup(s) : NULL;

	if (s && d == NULL)
		*fail = 1;
	return d;
}

/* Starts the producer of resp's body (a 200 of a streamed entry). */
static int
stream_start(struct tr_http *srv, struct tr_http_response *resp,
             const struct tr_http_route *r, const struct tr_http_params *p,
             const struct tr_http_request *req)
{
	struct tr_http_stream *s;
	pthread_attr_t attr;
	pthread_t t;
	int fail = 0;

	if (atomic_fetch_add(&srv->n_streams, 1) >= srv->opts.max_streams) {
		atomic_fetch_sub(&srv->n_streams, 1);
		return TR_EABORT;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		atomic_fetch_sub(&srv->n_streams, 1);
		return TR_ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->srv = srv;
	s->refs = 2;
	atomic_init(&s->cancelled, 0);
	clock_gettime(CLOCK_REALTIME, &s->deadline);
	s->deadline.tv_sec += srv->opts.stream_timeout;
	s->route = *r;
	s->params = *p;
	s->params.q = s->q = dup_or_null(p->q, &fail);
	s->params.before = s->before = dup_or_null(p->before, &fail);
	s->path = dup_or_null(req->path, &fail);
	s->modified = resp->entry->modified;
	s->gzip = resp->gzip;
	if (s->gzip && !fail) {
		/* As gzip_body(): one gzip member. */
		fail = deflateInit2(&s->z, 6, Z_DEFLATED, 15 + 16, 8,
		                    Z_DEFAULT_STRATEGY) != Z_OK;
		s->z_ready = !fail;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (fail || pthread_create(&t, &attr, stream_main, s) != 0) {
		pthread_attr_destroy(&attr);
		s->refs = 1;
		stream_unref(s);
		atomic_fetch_sub(&srv->n_streams, 1);
		return TR_ENOMEM;
	}
	pthread_attr_destroy(&attr);
	resp->stream = s;
	return 0;
}

/* A rendered document: the cached body, else rendered and cached. */
static void
handle_document(struct tr_http *srv, struct tr_http_response *resp,
                const struct tr_http_request *req,
                const struct tr_http_route *r, const struct tr_http_params *p)
{
	char key[KEY_MAX];
	struct tr_http_entry *e = NULL;
	int64_t gen = 0, changed = 0, modified, stamp = 0, checked = 0;
	uint64_t hash = 0;
	void *h = NULL;
	int rc, keyed, age;

	pthread_rwlock_rdlock(&srv->cfg_lock);
	if ((rc = pool_get(srv, &h)) != 0 ||
	    (rc = srv->src.generation(h, &gen, &changed)) != 0) {
		answer_text(resp, 503, "store unavailable: %s",
		            tr_strerror(rc));
		pool_put(srv, h, 0);
		goto out;
	}
	keyed = make_key(key, sizeof(key), r, req->path, p) == 0;
	/* The page lists the feeds' states, which change without the
	 * generation: their stamp joins the key (and so the ETag). */
	if (keyed && r->fmt == TR_FMT_HTML && srv->src.feeds_stamp &&
	    srv->src.feeds_stamp(h, &stamp, &checked) == 0) {
		size_t n = strlen(key);

		keyed = snprintf(key + n, sizeof(key) - n, "\n%lld",
		                 (long long)stamp) < (int)(sizeof(key) - n);
		changed = checked > changed ? checked : changed;
	}
	if (keyed) {
		hash = hash_str(TR_HASH_INIT, key);
		e = cache_get(srv, key, hash, gen, srv->epoch);
	}
	/* The document also shows the config: its time counts as a change. */
	modified = changed > srv->cfg_time ? changed : srv->cfg_time;
	if (e == NULL) {
		e = render_entry(srv, h, resp, r, p, req,
		                 keyed ? key : "", hash, gen, modified);
		if (e && keyed)
			cache_put(srv, e);
	}
	age = e ? max_age(srv, h, req->now) : 0;
	pool_put(srv, h, 1);
	if (e)
		answer_entry(resp, e, req, age);
	if (e && e->streamed && resp->status == 200 &&
	    req->method == TR_HTTP_GET &&
	    (rc = stream_start(srv, resp, r, p, req)) != 0) {
		entry_unref(resp->entry);
		resp->entry = NULL;
		resp->etag[0] = resp->last_modified[0] = '\0';
		resp->gzip = resp->vary = 0;
		answer_text(resp, 503, "%s",
		            rc == TR_EABORT
		                ? "too many large answers at once: try again "
		                  "shortly"
		                : "out of memory");
	}
out:
	pthread_rwlock_unlock(&srv->cfg_lock);
}

static void
handle_healthz(struct tr_http *srv, struct tr_http_response *resp)
{
	struct tr_buf msg;
	int64_t gen, changed;
	void *h = NULL;
	int rc, sick = 0;

	if ((rc = pool_get(srv, &h)) != 0 ||
	    (rc = srv->src.generation(h, &gen, &changed)) != 0) {
		pool_put(srv, h, 0);
		answer_text(resp, 503, "unavailable: store: %s",
		            tr_strerror(rc));
		return;
	}
	pool_put(srv, h, 1);
	tr_buf_init(&msg, 1024);
	if (srv->health_fn)
		sick = srv->health_fn(&msg, srv->health_arg);
	answer_text(resp, sick ? 503 : 200, "%s%s%s",
	            sick ? "unavailable" : "ok", msg.len ? ": " : "",
	            tr_buf_str(&msg));
	tr_buf_free(&msg);
}

static void
handle_metrics(struct tr_http *srv, struct tr_http_response *resp)
{
	int rc;

	tr_buf_reset(&resp->text);
	rc = srv->metrics_fn(&resp->text, srv->metrics_arg);
	/* Count this request before writing the counters out. */
	count(srv, TR_ROUTE_METRICS, rc == 0 ? 200 : 500);
	if (rc == 0)
		rc = tr_http_write_counters(&resp->text, srv);
	if (rc != 0) {
		answer_text(resp, 500, "metrics unavailable");
		return;
	}
	resp->status = 200;
	resp->content_type = metrics_type;
	resp->max_age = -1;
	resp->body = tr_buf_str(&resp->text);
	resp->body_len = resp->text.len;
}

/*
 * The stylesheet the Atom and RSS documents name: static, so its ETag is
 * its hash and it may be cached for the longest max-age.
 */
static void
handle_xsl(struct tr_http_response *resp, const struct tr_http_request *req)
{
	tr_buf_reset(&resp->text);
	if (tr_render_feed_xsl(&resp->text) != 0) {
		answer_text(resp, 500, "out of memory");
		return;
	}
	resp->content_type = xsl_type;
	resp->max_age = MAX_AGE_MAX;
	snprintf(resp->etag, sizeof(resp->etag), "\"xsl-%016llx\"",
	         (unsigned long long)tr_hash(TR_HASH_INIT, resp->text.data,
	                                     resp->text.len));
	resp->status = tr_http_etag_match(req->if_none_match, resp->etag)
	                   ? 304
	                   : 200;
	if (resp->status == 200) {
		resp->body = resp->text.data;
		resp->body_len = resp->text.len;
	}
}

/* Checks that come before routing: framing, size, method, body. */
static int
precheck(struct tr_http_response *resp, const struct tr_http_request *req,
         const struct tr_http_route *r, size_t max_uri)
{
	if (req->framing_conflict) {
		/* RFC 9112 §6.1: both headers may be a smuggling attempt. */
		answer_text(
		    resp, 400,
		    "request has both Transfer-Encoding and Content-Length");
		resp->close = 1;
	} else if (req->bad_length) {
		answer_text(resp, 400, "invalid or conflicting Content-Length");
		resp->close = 1;
	} else if (req->bad_header) {
		answer_text(resp, 400, "malformed header field name");
		resp->close = 1;
	} else if (req->uri_too_long) {
		answer_text(resp, 414, "request target longer than %zu bytes",
		            max_uri);
		resp->close = 1;
	} else if (req->bad_path) {
		answer_text(resp, 400, "path: contains a NUL or control "
		                       "character");
		resp->close = 1;
	} else if (!utf8_valid(req->path, strlen(req->path))) {
		answer_text(resp, 400, "path: not valid UTF-8");
	} else if (r->id == TR_ROUTE_NONE) {
		answer_text(resp, 404, "not found: %s", req->path);
	} else if (req->method == TR_HTTP_OTHER) {
		answer_text(resp, 405, "method not allowed (use GET or HEAD)");
		resp->allow = allow_methods;
		resp->close = req->has_body;
	} else if (req->has_body) {
		answer_text(resp, 413, "request bodies are not accepted");
		resp->close = 1;
	} else if (req->too_many_args) {
		answer_text(resp, 400, "query: more than %d parameters",
		            MAX_ARGS);
		resp->close = 1;
	} else {
		return 0;
	}
	return -1;
}

void
tr_http_handle(struct tr_http *srv, struct tr_http_response *resp,
               const struct tr_http_request *request)
{
	struct tr_http_request origin = *request;
	const struct tr_http_request *req = &origin;
	struct tr_http_route r;
	struct tr_http_params p;
	char why[256];

	/* RFC 9112 §3.2.2: "GET http://host/feed.atom" is /feed.atom. */
	origin.path = tr_http_origin_path(request->path);
	memset(resp, 0, sizeof(*resp));
	tr_buf_init(&resp->text, 1 << 20);
	resp->max_age = -1;
	if (req->path == NULL || tr_http_route_match(&r, req->path) != 0 ||
	    (r.id == TR_ROUTE_METRICS && srv->metrics_fn == NULL))
		memset(&r, 0, sizeof(r));
	resp->route = r.id;
	if (precheck(resp, req, &r, srv->opts.max_uri) != 0)
		goto out;
	if (tr_http_params_parse(&p, why, sizeof(why),
	                         r.params ? req->args : NULL,
	                         r.params ? req->n_args : 0) != 0) {
		answer_text(resp, 400, "%s", why);
		goto out;
	}
	if (r.id == TR_ROUTE_HEALTHZ) {
		handle_healthz(srv, resp);
	} else if (r.id == TR_ROUTE_XSL) {
		handle_xsl(resp, req);
	} else if (r.id == TR_ROUTE_METRICS) {
		handle_metrics(srv, resp);
		return; /* counted before the counters were written */
	} else {
		handle_document(srv, resp, req, &r, &p);
	}
out:
	count(srv, resp->route, resp->status);
}

/* ------------------------------------------------------------------ */
/* The production source: the store and the renderers                 */

static int
store_open(void **h, const char *db_path)
{
	struct tr_store *st = NULL;
	int rc;

	if ((rc = tr_store_open(&st, db_path, TR_STORE_READONLY)) != 0) {
		tr_log(TR_LOG_WARN, "http: store %s: %s", db_path,
		       st ? tr_store_errmsg(st) : tr_strerror(rc));
		tr_store_close(st);
		return rc;
	}
	*h = st;
	return 0;
}

static void
store_close(void *h)
{
	tr_store_close(h);
}

static int
store_generation(void *h, int64_t *gen, int64_t *changed_at)
{
	return tr_store_generation(h, gen, changed_at);
}

static int
store_next_due(void *h, int64_t *when)
{
	return tr_store_next_due(h, when);
}

static int
store_feeds_stamp(void *h, int64_t *stamp, int64_t *latest)
{
	return tr_store_feeds_stamp(h, stamp, latest);
}

static int
ignore_item(const struct tr_item *it, void *arg)
{
	(void)it;
	(void)arg;
	return 0;
}

/*
 * The store refused the query with TR_EINVAL: a bad full-text query or a
 * bad cursor. Names the parameter at fault (asking the store again with q
 * alone when both were given).
 */
static void
blame_param(struct tr_store *st, struct tr_http_render_req *rr,
            const struct tr_query *q)
{
	const char *bad = "query";
	char msg[160];
	size_t i;

	if (q->q && q->before) {
		struct tr_query probe = *q;

		probe.before = NULL;
		probe.limit = 1;
		bad = tr_store_query(st, &probe, ignore_item, NULL, NULL) ==
		              TR_EINVAL
		          ? "q"
		          : "before";
	} else if (q->q) {
		bad = "q";
	} else if (q->before) {
		bad = "before";
	}
	snprintf(msg, sizeof(msg), "%s", tr_store_errmsg(st));
	for (i = 0; msg[i]; i++) /* keep the reason on one line */
		if (msg[i] == '\n' || msg[i] == '\r')
			msg[i] = ' ';
	/* The store's word on a search is meant for its user. */
	if (strcmp(bad, "q") == 0 && msg[0])
		snprintf(rr->why, sizeof(rr->why), "q: %s", msg);
	else
		snprintf(rr->why, sizeof(rr->why), "%s: %s%s%s", bad,
		         strcmp(bad, "before") == 0 ? "invalid cursor"
		                                    : "invalid search",
		         msg[0] ? ": " : "", msg);
}

/* The id "BASE/PATH" and self link "BASE/PATH?QUERY" of a document. */
static int
doc_urls(struct tr_buf *self, struct tr_buf *id,
         const struct tr_http_render_req *rr)
{
	const struct tr_http_params *p = rr->params;
	int rc;

	/* The path came decoded ("/tags/Tech News.atom"): encoded again,
	 * so that self links and ids are valid URLs (RFC 3986 §3.3). */
	if ((rc = tr_buf_adds(id, rr->base_url)) != 0 ||
	    (rc = tr_url_path_encode(id, rr->path)) != 0 ||
	    (rc = tr_buf_add(self, id->data, id->len)) != 0)
		return rc;
	if (p->limit_given || p->since != TR_DATE_NONE || p->q || p->before) {
		if ((rc = tr_buf_addc(self, '?')) != 0 ||
		    (rc = tr_http_params_query(self, p, NULL)) != 0)
			return rc;
	}
	return 0;
}

/* The next page: "BASE/PATH?QUERY" with before=cursor. */
static int
next_url(struct tr_buf *next, const struct tr_buf *id,
         const struct tr_http_render_req *rr, const char *cursor)
{
	int rc;

	if ((rc = tr_buf_add(next, id->data, id->len)) != 0 ||
	    (rc = tr_buf_addc(next, '?')) != 0)
		return rc;
	return tr_http_params_query(next, rr->params, cursor);
}

/*
 * The page again, for a search the store refused: no articles, and under
 * the search box (which keeps the words) the store's reason, meant for
 * the person who typed them. 0 or the renderer's error.
 */
static int
refused_search_page(struct tr_http_render_req *rr, struct tr_render_doc *doc,
                    struct tr_render **r, size_t mark)
{
	int rc;

	tr_render_free(*r);
	*r = NULL;
	tr_buf_truncate(rr->out, mark);
	doc->notice = rr->why + 3; /* after "q: " */
	if ((rc = tr_render_begin(r, rr->out, TR_FMT_HTML, doc)) == 0)
		rc = tr_render_end(*r, NULL);
	return rc;
}

/* A streamed document's item: rendered, and handed over in pieces. */
#define STREAM_PIECE (16 * 1024)

struct stream_render {
	struct tr_render *r;
	struct tr_http_render_req *rr;
	size_t mark;
};

static int
stream_item(const struct tr_item *it, void *arg)
{
	struct stream_render *sr = arg;
	struct tr_buf *out = sr->rr->out;
	int rc = tr_render_item(it, sr->r);

	if (rc == 0 && out->len - sr->mark >= STREAM_PIECE) {
		if (sr->rr->flush(sr->rr->flush_arg, out->data + sr->mark,
		                  out->len - sr->mark) != 0)
			return TR_EABORT;
		tr_render_drain(sr->r);
	}
	return rc;
}

/* Renders a feed or the HTML page: the query, with next-page links. */
static int
render_feed(struct tr_store *st, struct tr_http_render_req *rr,
            const struct tr_query *q, const char *title)
{
	struct tr_buf self, next, id, home, xsl;
	struct tr_render_doc doc;
	struct tr_render *r = NULL;
	char *cursor = NULL;
	size_t mark = rr->out->len;
	int rc, rc2, keep = 0;

	tr_buf_init(&self, 8192);
	tr_buf_init(&next, 8192);
	tr_buf_init(&id, 8192);
	tr_buf_init(&home, 8192);
	tr_buf_init(&xsl, 8192);
	memset(&doc, 0, sizeof(doc));
	/*
	 * One pass: the self link needs only the request, and the next-page
	 * cursor, known once the query ends, goes into tr_render_end().
	 */
	if ((rc = doc_urls(&self, &id, rr)) != 0 ||
	    (rc = tr_buf_printf(&home, "%s/", rr->base_url)) != 0)
		goto out;
	doc.title = title;
	doc.id = tr_buf_str(&id);
	doc.self_url = tr_buf_str(&self);
	doc.home_url = tr_buf_str(&home);
	doc.updated = rr->updated;
	doc.cfg = rr->cfg; /* every format: feeds' public URLs */
	if (rr->route->fmt == TR_FMT_ATOM || rr->route->fmt == TR_FMT_RSS) {
		/* A browser that opens the feed shows it as a page. */
		if ((rc = tr_buf_printf(&xsl, "%s/feed.xsl", rr->base_url)) != 0)
			goto out;
		doc.stylesheet = tr_buf_str(&xsl);
	}
	if (rr->route->fmt == TR_FMT_HTML) {
		/* The page lists the feeds and searches itself. */
		doc.st = st;
		doc.search = doc.id;
		doc.q = q->q;
		doc.tag = q->tag;
		doc.feed = q->feed;
	}
	if (rr->flush && (rr->route->fmt == TR_FMT_ATOM ||
	                  rr->route->fmt == TR_FMT_RSS)) {
		/*
		 * Streamed: the head, with its next link, goes out before
		 * the items, so the cursor is learnt first, by a query that
		 * renders nothing.
		 */
		if ((rc = tr_store_query(st, q, ignore_item, NULL, &cursor)) !=
		        0 ||
		    (cursor && (rc = next_url(&next, &id, rr, cursor)) != 0))
			goto out;
		doc.next_url = cursor ? tr_buf_str(&next) : NULL;
		free(cursor);
		cursor = NULL;
	}
	if ((rc = tr_render_begin(&r, rr->out, rr->route->fmt, &doc)) != 0)
		goto out;
	if (rr->flush) {
		struct stream_render sr = {r, rr, mark};

		rc = tr_store_query(st, q, stream_item, &sr, &cursor);
	} else {
		rc = tr_store_query(st, q, tr_render_item, r, &cursor);
	}
	if (rc == TR_EINVAL) {
		blame_param(st, rr, q);
		if (rr->route->fmt == TR_FMT_HTML &&
		    strncmp(rr->why, "q: ", 3) == 0)
			keep = refused_search_page(rr, &doc, &r, mark) == 0;
		goto out;
	}
	if (rc != 0) {
		/* The renderer's own error (a cap) explains more. */
		rc2 = tr_render_end(r, NULL);
		rc = rc2 ? rc2 : rc;
		snprintf(rr->why, sizeof(rr->why), "%s", tr_store_errmsg(st));
		goto out;
	}
	if (doc.next_url == NULL && cursor &&
	    (rc = next_url(&next, &id, rr, cursor)) != 0)
		goto out;
	rc = tr_render_end(r, cursor ? tr_buf_str(&next) : NULL);
out:
	if (rc != 0 && !keep)
		tr_buf_truncate(rr->out, mark);
	tr_render_free(r);
	free(cursor);
	tr_buf_free(&self);
	tr_buf_free(&next);
	tr_buf_free(&id);
	tr_buf_free(&home);
	tr_buf_free(&xsl);
	return rc;
}

static int
store_render(void *h, struct tr_http_render_req *rr)
{
	const struct tr_http_route *r = rr->route;
	const struct tr_http_params *p = rr->params;
	const struct tr_feed_conf *f = NULL;
	struct tr_store *st = h;
	struct tr_query q;
	char title[512];

	rr->content_type = tr_format_content_type(r->fmt);
	/* The config at hand decides the feeds, titles, tags and caps the
	 * documents show, whatever other configs sharing the database say
	 * (the same config again costs a hash). */
	if (tr_store_use_config(st, rr->cfg) != 0) {
		tr_log(TR_LOG_WARN, "http: %s", tr_store_errmsg(st));
		return TR_ESTORE;
	}
	if (r->id == TR_ROUTE_OPML)
		return tr_render_opml(rr->out, rr->cfg, st);
	memset(&q, 0, sizeof(q));
	q.since = p->since;
	q.q = p->q;
	q.before = p->before;
	q.limit = p->limit;
	q.stop = rr->stop;
	q.stop_arg = rr->stop_arg;
	snprintf(title, sizeof(title), "%s", rr->cfg->title);
	if (r->id == TR_ROUTE_TAG) {
		if (!tr_config_has_tag(rr->cfg, r->name)) {
			snprintf(rr->why, sizeof(rr->why), "no tag named %s",
			         r->name);
			return TR_ENOTFOUND;
		}
		q.tag = r->name;
		snprintf(title, sizeof(title), "%s: %s", rr->cfg->title,
		         r->name);
	} else if (r->id == TR_ROUTE_FEEDNAME) {
		if ((f = tr_config_feed(rr->cfg, r->name)) == NULL) {
			snprintf(rr->why, sizeof(rr->why), "no feed named %s",
			         r->name);
			return TR_ENOTFOUND;
		}
		q.feed = f->name;
		snprintf(title, sizeof(title), "%s: %s", rr->cfg->title,
		         f->title ? f->title : f->name);
	}
	return render_feed(st, rr, &q, title);
}

static const struct tr_http_source store_source = {
    store_open,   store_close,      store_generation, store_next_due,
    store_render, store_feeds_stamp,
};

/* ------------------------------------------------------------------ */
/* libmicrohttpd                                                       */

/* What one request carries, gathered from libmicrohttpd's tables. */
struct conn_info {
	struct tr_http_arg args[MAX_ARGS];
	size_t n_args;
	int too_many_args;
	char inm[HDR_MAX];
	size_t inm_len;
	char ae[HDR_MAX];
	size_t ae_len;
	char acc[HDR_MAX];
	size_t acc_len;
	const char *ims;
	int content_length; /* present */
	const char *length; /* its first value */
	int bad_length;     /* not digits, or two that differ */
	int body;           /* a non-zero Content-Length or chunked */
	int transfer_encoding;
	int bad_name; /* a field name that is not a token */
	int conn_close, conn_keep; /* Connection: close, keep-alive */
};

static enum MHD_Result
collect_arg(void *cls, enum MHD_ValueKind kind, const char *key,
            size_t key_size, const char *value, size_t value_size)
{
	struct conn_info *ci = cls;

	(void)kind;
	if (ci->n_args == MAX_ARGS) {
		ci->too_many_args = 1;
		return MHD_NO;
	}
	ci->args[ci->n_args].key = key;
	ci->args[ci->n_args].key_len = key_size;
	ci->args[ci->n_args].value = value;
	ci->args[ci->n_args].value_len = value_size;
	ci->n_args++;
	return MHD_YES;
}

/* Appends a repeated field's value as a list item (RFC 9110 §5.3). */
static void
join_field(char *dst, size_t *len, const char *v)
{
	size_t n = strlen(v);

	if (*len && *len + 2 < HDR_MAX) {
		memcpy(dst + *len, ", ", 2);
		*len += 2;
	}
	if (*len + n >= HDR_MAX)
		n = HDR_MAX - 1 - *len; /* cut: loses only late list items */
	memcpy(dst + *len, v, n);
	*len += n;
	dst[*len] = '\0';
}

static const char tchars[] = "!#$%&'*+-.^_`|~0123456789"
                             "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                             "abcdefghijklmnopqrstuvwxyz";

static enum MHD_Result
collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
               size_t key_size, const char *value, size_t value_size)
{
	struct conn_info *ci = cls;

	(void)kind;
	(void)value_size;
	/*
	 * RFC 9112 §5.1: no whitespace between a field name and its colon
	 * ("Transfer-Encoding : chunked" is a smuggling classic); names are
	 * tokens (RFC 9110 §5.6.2).
	 */
	if (key_size == 0 || strspn(key, tchars) != key_size)
		ci->bad_name = 1;
	if (value == NULL)
		return MHD_YES;
	if (strcasecmp(key, MHD_HTTP_HEADER_IF_NONE_MATCH) == 0) {
		join_field(ci->inm, &ci->inm_len, value);
	} else if (strcasecmp(key, MHD_HTTP_HEADER_ACCEPT_ENCODING) == 0) {
		join_field(ci->ae, &ci->ae_len, value);
	} else if (strcasecmp(key, MHD_HTTP_HEADER_ACCEPT) == 0) {
		join_field(ci->acc, &ci->acc_len, value);
	} else if (strcasecmp(key, MHD_HTTP_HEADER_IF_MODIFIED_SINCE) == 0) {
		if (ci->ims == NULL)
			ci->ims = value;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0) {
		/* RFC 9112 §6.3: an invalid or repeated-but-different
		 * Content-Length makes the framing unrecoverable. */
		if (*value == '\0' ||
		    strspn(value, "0123456789") != strlen(value) ||
		    (ci->length && strcmp(ci->length, value) != 0))
			ci->bad_length = 1;
		if (ci->length == NULL)
			ci->length = value;
		ci->content_length = 1;
		if (strspn(value, "0") != strlen(value))
			ci->body = 1;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_TRANSFER_ENCODING) == 0) {
		ci->transfer_encoding = 1;
		ci->body = 1;
	} else if (strcasecmp(key, MHD_HTTP_HEADER_CONNECTION) == 0) {
		const char *s = value, *name, *params, *end;
		size_t n;

		while (next_member(&s, &name, &n, &params, &end)) {
			if (n == 5 && strncasecmp(name, "close", 5) == 0)
				ci->conn_close = 1;
			else if (n == 10 &&
			         strncasecmp(name, "keep-alive", 10) == 0)
				ci->conn_keep = 1;
		}
	}
	return MHD_YES;
}

/*
 * Per-request state without allocation: *req_cls points into marks[],
 * at the index made of the TR_TARGET_* flags of the request target and
 * MARK_HEADERS once the headers were seen. The URI callback sets the
 * flags; the first call of on_request() adds MARK_HEADERS. A search
 * handed to the search threads points *req_cls at its job instead.
 */
#define MARK_HEADERS 8
static char marks[16];

static int
is_mark(const void *p)
{
	return (uintptr_t)p >= (uintptr_t)marks &&
	       (uintptr_t)p < (uintptr_t)(marks + sizeof(marks));
}

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	struct tr_http *srv = cls;
	unsigned f = tr_http_target_check(uri, srv->opts.max_uri);
	char *qm;

	(void)c;
	/*
	 * libmicrohttpd 0.9.75 splits the query into one record per '&'
	 * in the connection's memory pool right after this call, before
	 * any of our code can refuse the request; 300 empty parameters
	 * fill the pool, after which it cannot even build its error
	 * answer and the connection hangs until its timeout. uri is its
	 * writable copy of the request line: a query we will refuse anyway
	 * is cut here, so that nothing is split.
	 */
	if ((f & (TR_TARGET_TOO_LONG | TR_TARGET_TOO_MANY_ARGS)) &&
	    (qm = strchr(uri, '?')) != NULL)
		qm[1] = '\0';
	return &marks[f];
}

/* ------------------------------------------------------------------ */
/* Slow clients                                                        */

/*
 * Every connection is tracked from its start: while it waits for a
 * request head (from its start, and again after each answer) it is on
 * the waiting list, oldest first. The watchdog thread closes those that
 * waited head_timeout, and a new connection past the high-water mark
 * closes the one that waited longest, so trickling bytes (slowloris)
 * neither holds a connection for long nor locks out new clients.
 * Closing is shutdown(2) on the socket, which libmicrohttpd then sees
 * end; conn_lock makes sure the socket still belongs to the connection.
 *
 * clients_per_address is counted here too, not by libmicrohttpd: it
 * gives an address's slot back only when the connection's thread frees
 * the connection, on its next pass. Its own closes (with MHD_USE_TURBO)
 * close the socket after that, but a connection the watchdog shuts down
 * is seen ended by its client at once: a client at its limit that
 * replaced it at once (wrk does) had the new connection accepted, by
 * another thread or by a busy thread before it freed the old one, and
 * reset. The slot is given back as soon as the connection is known to
 * end: when the watchdog shuts it down, when an answer that closes it
 * completes, when a request ends unanswered, and at the latest when
 * libmicrohttpd frees it.
 */
struct peer {
	struct peer *next;
	unsigned n;         /* open connections of this address */
	struct conn *conns; /* those of them tracked, holding their slot */
	size_t len;
	unsigned char addr[16];
};

struct conn {
	struct conn *prev, *next;
	int64_t since; /* ms: when it began waiting for a request head */
	int fd;
	int waiting; /* on the list */
	int closing; /* shut down by us, not closed yet */
	struct peer *peer; /* its address's count, until given back */
	struct conn *pprev, *pnext; /* in peer->conns */
	/* Set on the connection's own thread only: */
	int client_close; /* the request asked to close after the answer */
	int will_close;   /* the answer queued ends the connection */
};

/*
 * The address of a connection as a key: IPv4 (also IPv4-mapped IPv6, as
 * a dual-stack listener sees it) in 4 bytes, IPv6 in 16. 0: another kind
 * of address, which is not limited.
 */
static size_t
peer_key(unsigned char *key, const struct sockaddr *sa, socklen_t len)
{
	if (sa->sa_family == AF_INET &&
	    (size_t)len >= sizeof(struct sockaddr_in)) {
		memcpy(key,
		       &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
		       4);
		return 4;
	}
	if (sa->sa_family == AF_INET6 &&
	    (size_t)len >= sizeof(struct sockaddr_in6)) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a)) {
			memcpy(key, a->s6_addr + 12, 4);
			return 4;
		}
		memcpy(key, a->s6_addr, 16);
		return 16;
	}
	return 0;
}

static struct peer **
peer_bucket(struct tr_http *srv, const unsigned char *key, size_t len)
{
	unsigned h = 2166136261u; /* FNV-1a */
	size_t i;

	for (i = 0; i < len; i++)
		h = (h ^ key[i]) * 16777619u;
	return &srv->peers[h % N_PEER_BUCKETS];
}

/* The count of key, added at 0 when missing; NULL when out of memory.
 * Called with conn_lock. */
static struct peer *
peer_get(struct tr_http *srv, const unsigned char *key, size_t len)
{
	struct peer **b = peer_bucket(srv, key, len), *p;

	for (p = *b; p; p = p->next)
		if (p->len == len && memcmp(p->addr, key, len) == 0)
			return p;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->len = len;
	memcpy(p->addr, key, len);
	p->next = *b;
	*b = p;
	return p;
}

/* Gives one connection of p back. Called with conn_lock. */
static void
peer_put(struct tr_http *srv, struct peer *p)
{
	struct peer **pp;

	if (--p->n > 0)
		return;
	for (pp = peer_bucket(srv, p->addr, p->len); *pp != p;
	     pp = &(*pp)->next)
		;
	*pp = p->next;
	free(p);
}

/* Gives c's slot back to its address, once. Called with conn_lock. */
static void
conn_release(struct tr_http *srv, struct conn *c)
{
	if (c->peer == NULL)
		return;
	if (c->pprev)
		c->pprev->pnext = c->pnext;
	else
		c->peer->conns = c->pnext;
	if (c->pnext)
		c->pnext->pprev = c->pprev;
	c->pprev = c->pnext = NULL;
	peer_put(srv, c->peer);
	c->peer = NULL;
}

/*
 * Gives back the slots of p's connections whose client has already
 * closed or reset them (nothing left to read but the end), an end
 * libmicrohttpd has not read yet: a client that ends a connection and
 * opens another at once is not refused for one that is gone. (wrk opens
 * and closes one connection to check the address before it opens its
 * -c connections: with -c64 and the default limit of 64, the last of
 * them was refused while the server had not yet read that end; so were
 * the connections of a wrk started right after another one ended.) A
 * connection the client only half-closed after its request loses its
 * slot too, and still gets its answer. Called with conn_lock, when p is
 * at the limit; p stays counted by the caller.
 */
static void
reclaim_gone(struct tr_http *srv, struct peer *p)
{
	struct conn *c, *next;
	char b;

	for (c = p->conns; c; c = next) {
		ssize_t n;

		next = c->pnext;
		n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
		if (n == 0 || (n < 0 && errno != EAGAIN &&
		               errno != EWOULDBLOCK && errno != EINTR))
			conn_release(srv, c);
	}
}

/*
 * The slot taken by the connection this thread accepted last, until
 * on_connection() hands it to the connection. libmicrohttpd accepts,
 * asks on_accept() and starts the connection on one thread, one
 * connection after the other; when it fails to set a connection up
 * after on_accept() said yes, it does not tell, and the next
 * on_accept() on the thread gives that slot back.
 */
static _Thread_local struct peer *accepted_peer;

/* libmicrohttpd's accept policy: clients_per_address. */
static enum MHD_Result
on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
	struct tr_http *srv = cls;
	unsigned char key[16];
	size_t len = peer_key(key, addr, addrlen);
	enum MHD_Result ok = MHD_YES;
	int stopping;
	struct peer *p;

	pthread_mutex_lock(&srv->conn_lock);
	if (accepted_peer) {
		peer_put(srv, accepted_peer);
		accepted_peer = NULL;
	}
	if ((stopping = srv->accept_stop) != 0) {
		ok = MHD_NO;
	} else if (srv->opts.per_address > 0 && len > 0) {
		unsigned limit = (unsigned)srv->opts.per_address;

		p = peer_get(srv, key, len);
		if (p) {
			p->n++; /* the new one, so that p stays */
			if (p->n > limit)
				reclaim_gone(srv, p);
		}
		if (p == NULL || p->n > limit) {
			if (p)
				peer_put(srv, p);
			atomic_fetch_add(&srv->refused_per_address, 1);
			ok = MHD_NO;
		} else {
			accepted_peer = p;
		}
	}
	pthread_mutex_unlock(&srv->conn_lock);
	if (ok == MHD_NO && !stopping &&
	    tr_log_enabled(TR_LOG_DEBUG)) {
		char ip[INET6_ADDRSTRLEN] = "?";

		inet_ntop(len == 4 ? AF_INET : AF_INET6, key, ip, sizeof(ip));
		tr_log(TR_LOG_DEBUG,
		       "http: connection from %s refused: "
		       "clients_per_address (%d) reached",
		       ip, srv->opts.per_address);
	}
	return ok;
}

#define EVICT_MIN_MS 500 /* a connection this young is never evicted */
#define WATCH_MS 100     /* the watchdog's period */

static void
wait_unlink(struct tr_http *srv, struct conn *c)
{
	if (!c->waiting)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->wait_head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		srv->wait_tail = c->prev;
	c->prev = c->next = NULL;
	c->waiting = 0;
}

static void
wait_push(struct tr_http *srv, struct conn *c, int64_t now)
{
	wait_unlink(srv, c);
	c->since = now;
	c->prev = srv->wait_tail;
	c->next = NULL;
	if (srv->wait_tail)
		srv->wait_tail->next = c;
	else
		srv->wait_head = c;
	srv->wait_tail = c;
	c->waiting = 1;
}

/* Ends the oldest waiting connection's wait. Called with conn_lock. */
static void
wait_close_oldest(struct tr_http *srv)
{
	struct conn *c = srv->wait_head;

	wait_unlink(srv, c);
	conn_release(srv, c);
	shutdown(c->fd, SHUT_RDWR);
	c->closing = 1;
	srv->n_closing++;
}

static size_t
high_water(const struct tr_http *srv)
{
	size_t max = (size_t)srv->opts.max_connections;
	size_t room = max / 8 ? max / 8 : 1;

	return max > room ? max - room : 1;
}

static void
on_connection(void *cls, struct MHD_Connection *mc, void **socket_context,
              enum MHD_ConnectionNotificationCode toe)
{
	struct tr_http *srv = cls;
	const union MHD_ConnectionInfo *ci;
	struct conn *c;
	int64_t now = now_ms();

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if ((c = *socket_context) == NULL)
			return;
		pthread_mutex_lock(&srv->conn_lock);
		wait_unlink(srv, c);
		conn_release(srv, c);
		srv->n_conns--;
		srv->n_closing -= c->closing;
		pthread_mutex_unlock(&srv->conn_lock);
		free(c);
		*socket_context = NULL;
		return;
	}
	ci = MHD_get_connection_info(mc, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL || (c = calloc(1, sizeof(*c))) == NULL)
		return; /* untracked: only the idle timeout applies (and the
		         * next accept gives its address's slot back) */
	c->fd = ci->connect_fd;
	pthread_mutex_lock(&srv->conn_lock);
	if ((c->peer = accepted_peer) != NULL) {
		c->pnext = c->peer->conns;
		if (c->pnext)
			c->pnext->pprev = c;
		c->peer->conns = c;
	}
	accepted_peer = NULL;
	srv->n_conns++;
	if (srv->n_conns - srv->n_closing > high_water(srv) &&
	    srv->wait_head && now - srv->wait_head->since >= EVICT_MIN_MS) {
		wait_close_oldest(srv);
		atomic_fetch_add(&srv->evictions, 1);
	}
	wait_push(srv, c, now);
	pthread_mutex_unlock(&srv->conn_lock);
	*socket_context = c;
}

static struct conn *
conn_of(struct MHD_Connection *mc)
{
	const union MHD_ConnectionInfo *ci =
	    MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

	return ci ? ci->socket_context : NULL;
}

/*
 * A request head arrived: the connection no longer waits for one.
 * client_close: the request asks to close the connection after its
 * answer.
 */
static void
conn_busy(struct tr_http *srv, struct MHD_Connection *mc, int client_close)
{
	struct conn *c = conn_of(mc);

	if (c == NULL)
		return;
	c->client_close = client_close;
	pthread_mutex_lock(&srv->conn_lock);
	wait_unlink(srv, c);
	pthread_mutex_unlock(&srv->conn_lock);
}

/* Closes the connections that waited head_timeout for a request head. */
static void *
watchdog_main(void *arg)
{
	struct tr_http *srv = arg;
	int64_t limit = (int64_t)srv->opts.head_timeout * 1000;
	struct timespec ts;

	pthread_mutex_lock(&srv->conn_lock);
	while (!srv->watch_stop) {
		int64_t now = now_ms();

		while (srv->wait_head && now - srv->wait_head->since >= limit) {
			wait_close_oldest(srv);
			atomic_fetch_add(&srv->head_timeouts, 1);
		}
		/* At the limit libmicrohttpd accepts nothing, so no new
		 * connection would make room: the watchdog does. */
		while (srv->n_conns - srv->n_closing > high_water(srv) &&
		       srv->wait_head &&
		       now - srv->wait_head->since >= EVICT_MIN_MS) {
			wait_close_oldest(srv);
			atomic_fetch_add(&srv->evictions, 1);
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += WATCH_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&srv->conn_cond, &srv->conn_lock, &ts);
	}
	pthread_mutex_unlock(&srv->conn_lock);
	return NULL;
}

/* Adds the headers of resp; 0 or -1 when out of memory. */
static int
add_headers(struct MHD_Response *m, const struct tr_http_response *resp)
{
	char cc[48];
	int ok = 1;

	if (resp->status != 304 && resp->content_type)
		ok &= MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE,
		                              resp->content_type) == MHD_YES;
	if (resp->max_age >= 0)
		snprintf(cc, sizeof(cc), "max-age=%d", resp->max_age);
	else
		snprintf(cc, sizeof(cc), "no-store");
	ok &= MHD_add_response_header(m, MHD_HTTP_HEADER_CACHE_CONTROL, cc) ==
	      MHD_YES;
	if (resp->etag[0])
		ok &= MHD_add_response_header(m, MHD_HTTP_HEADER_ETAG,
		                              resp->etag) == MHD_YES;
	if (resp->last_modified[0])
		ok &= MHD_add_response_header(m, MHD_HTTP_HEADER_LAST_MODIFIED,
		                              resp->last_modified) == MHD_YES;
	if (resp->vary)
		ok &= MHD_add_response_header(
		          m, MHD_HTTP_HEADER_VARY,
		          resp->vary == 2 ? "Accept, Accept-Encoding"
		                          : MHD_HTTP_HEADER_ACCEPT_ENCODING) ==
		      MHD_YES;
	if (resp->gzip && resp->status != 304)
		ok &=
		    MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_ENCODING,
		                            "gzip") == MHD_YES;
	if (resp->allow)
		ok &= MHD_add_response_header(m, MHD_HTTP_HEADER_ALLOW,
		                              resp->allow) == MHD_YES;
	if (resp->close)
		ok &= MHD_add_response_header(m, MHD_HTTP_HEADER_CONNECTION,
		                              "close") == MHD_YES;
	ok &= MHD_add_response_header(m, "X-Content-Type-Options", "nosniff") ==
	      MHD_YES;
	if (resp->content_type &&
	    strncmp(resp->content_type, "text/html", 9) == 0)
		/* The pages (/, a tag's, a feed's) show no third-party
		 * content; say so. */
		ok &= MHD_add_response_header(
		          m, "Content-Security-Policy",
		          "default-src 'none'; style-src 'unsafe-inline'; "
		          "form-action 'self'; base-uri 'none'") == MHD_YES;
	return ok ? 0 : -1;
}

/*
 * Queues the cached answer resp (200 or 304 from an entry) with the
 * entry's prebuilt response object, building it when missing or when its
 * max-age is out of date. The lock keeps the object alive until
 * MHD_queue_response() took its own reference.
 */
static enum MHD_Result
queue_cached(struct tr_http *srv, struct MHD_Connection *c,
             const struct tr_http_response *resp)
{
	struct tr_http_entry *e = resp->entry;
	int g = resp->gzip != 0, nm = resp->status == 304;
	int keep;
	struct MHD_Response *m;
	enum MHD_Result ret = MHD_NO;

	pthread_mutex_lock(&srv->cache_lock);
	/*
	 * Read under the lock: another thread may drop e from the cache
	 * meanwhile (a new store generation), and a response kept in an
	 * entry no longer cached would never be destroyed. The page form
	 * of a feed (another type) is built each time.
	 */
	keep = e->cached && resp->content_type == e->content_type;
	m = keep ? e->mhd[g][nm] : NULL;
	if (m == NULL || e->mhd_age[g][nm] != resp->max_age) {
		/*
		 * libmicrohttpd 0.9.75 writes a framing header on a 304
		 * whatever the application does: Content-Length with the
		 * response's size, or "Transfer-Encoding: chunked" for one of
		 * unknown size. RFC 9110 §8.6 allows a Content-Length on a
		 * 304 only when it equals the 200's, so the 304 is built on
		 * the 200's body (never sent: a 304 has none).
		 */
		const char *b = g ? e->gz : e->body;
		size_t bl = g ? e->gz_len : e->body_len;

		m = MHD_create_response_from_buffer_with_free_callback_cls(
		    bl, (void *)(uintptr_t)b, entry_release_cb, e);
		if (m)
			atomic_fetch_add(&e->refs, 1);
		if (m && add_headers(m, resp) != 0) {
			MHD_destroy_response(m);
			m = NULL;
		}
		if (m == NULL)
			goto out;
		/* An uncached entry keeps no response: this one is used once.
		 */
		if (keep) {
			if (e->mhd[g][nm])
				MHD_destroy_response(e->mhd[g][nm]);
			e->mhd[g][nm] = m;
			e->mhd_age[g][nm] = resp->max_age;
		}
	}
	ret = MHD_queue_response(c, (unsigned)resp->status, m);
	if (!keep)
		MHD_destroy_response(m);
out:
	pthread_mutex_unlock(&srv->cache_lock);
	return ret;
}

/* Queues an uncached answer: the body is copied. */
static enum MHD_Result
queue_plain(struct MHD_Connection *c, const struct tr_http_response *resp)
{
	struct MHD_Response *m;
	enum MHD_Result ret;

	m = MHD_create_response_from_buffer(
	    resp->body_len, (void *)(uintptr_t)(resp->body ? resp->body : ""),
	    MHD_RESPMEM_MUST_COPY);
	if (m == NULL)
		return MHD_NO;
	if (add_headers(m, resp) != 0) {
		MHD_destroy_response(m);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, (unsigned)resp->status, m);
	MHD_destroy_response(m);
	return ret;
}

/* Fills req from what libmicrohttpd gathered in ci. */
static void
request_from(struct tr_http_request *req, struct conn_info *ci,
             const char *method, const char *url, unsigned flags)
{
	memset(req, 0, sizeof(*req));
	if (strcmp(method, MHD_HTTP_METHOD_GET) == 0)
		req->method = TR_HTTP_GET;
	else if (strcmp(method, MHD_HTTP_METHOD_HEAD) == 0)
		req->method = TR_HTTP_HEAD;
	else
		req->method = TR_HTTP_OTHER;
	req->path = url;
	req->args = ci->args;
	req->n_args = ci->n_args;
	req->too_many_args =
	    ci->too_many_args || (flags & TR_TARGET_TOO_MANY_ARGS);
	req->uri_too_long = (flags & TR_TARGET_TOO_LONG) != 0;
	req->bad_path = (flags & TR_TARGET_BAD_PATH) != 0;
	req->has_body = ci->body;
	req->framing_conflict = ci->content_length && ci->transfer_encoding;
	req->bad_length = ci->bad_length;
	req->bad_header = ci->bad_name;
	req->if_none_match = ci->inm_len ? ci->inm : NULL;
	req->if_modified_since = ci->ims;
	req->accept_encoding = ci->ae_len ? ci->ae : NULL;
	req->accept = ci->acc_len ? ci->acc : NULL;
	req->now = (int64_t)time(NULL);
}

/*
 * libmicrohttpd's reader of a streamed answer. It never waits: with
 * nothing to send yet it suspends the connection, which the producer
 * resumes (stream_wake()), so a thread of the server's pool is never
 * held by a slow rendering while other clients wait for theirs.
 */
static ssize_t
stream_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct tr_http_stream *s = cls;
	ssize_t n;

	(void)pos;
	pthread_mutex_lock(&s->lock);
	if (s->plen > 0) {
		n = (ssize_t)stream_take(s, buf, max);
	} else if (s->done) {
		n = MHD_CONTENT_READER_END_OF_STREAM;
	} else if (s->failed) {
		n = MHD_CONTENT_READER_END_WITH_ERROR;
	} else {
		/* Counted before the stop flag is read, as tr_http_stop()
		 * sets the flag before it reads the count: one of the two
		 * sees the other, so no connection stays suspended. */
		atomic_fetch_add(&s->srv->n_stream_waits, 1);
		if (atomic_load(&s->srv->streams_stop)) {
			atomic_fetch_sub(&s->srv->n_stream_waits, 1);
			n = MHD_CONTENT_READER_END_WITH_ERROR;
		} else {
			s->suspended = 1;
			MHD_suspend_connection(s->conn);
			n = 0;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return n;
}

static void
stream_release_cb(void *cls)
{
	stream_cancel(cls);
}

/* A HEAD or 304 of a streamed document: no body, its size unknown. */
static ssize_t
empty_reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)cls;
	(void)pos;
	(void)buf;
	(void)max;
	return MHD_CONTENT_READER_END_OF_STREAM;
}

/*
 * Queues a streamed answer: libmicrohttpd sends it chunked (HTTP/1.1)
 * or up to the connection's close (HTTP/1.0), and takes resp's stream.
 */
static enum MHD_Result
queue_stream(struct MHD_Connection *c, struct tr_http_response *resp)
{
	struct tr_http_stream *s = resp->stream;
	struct MHD_Response *m;
	enum MHD_Result ret;

	m = s ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN,
	                                          STREAM_PIECE, stream_reader,
	                                          s, stream_release_cb)
	      : MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024,
	                                          empty_reader, NULL, NULL);
	if (m == NULL)
		return MHD_NO;
	if (s)
		s->conn = c;
	resp->stream = NULL; /* the response's now */
	if (add_headers(m, resp) != 0) {
		MHD_destroy_response(m);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, (unsigned)resp->status, m);
	MHD_destroy_response(m);
	return ret;
}

/*
 * Queues resp on c: the entry's prebuilt response, a stream or a copy.
 * Notes whether the connection ends with this answer, for on_completed().
 */
static enum MHD_Result
queue_answer(struct tr_http *srv, struct MHD_Connection *c,
             struct tr_http_response *resp)
{
	struct conn *cn = conn_of(c);

	if (cn)
		cn->will_close = resp->close || cn->client_close;
	if (resp->entry && resp->entry->streamed)
		return queue_stream(c, resp);
	return resp->entry ? queue_cached(srv, c, resp) : queue_plain(c, resp);
}

/* ------------------------------------------------------------------ */
/* Searches                                                            */

/*
 * A request with a search (a non-empty q on a route that takes one) is
 * not run on libmicrohttpd's threads, where it would hold up every
 * connection of its thread: on_request() suspends the connection and
 * queues a job; one of the search threads answers it, with a time
 * budget and an eye on the client's socket, and resumes the connection,
 * whose next on_request() call queues the answer. The job lives until
 * libmicrohttpd reports the request completed.
 */
struct search_job {
	struct tr_http *srv;
	struct MHD_Connection *c;
	struct search_job *next;
	struct conn_info ci;
	struct tr_http_request req;
	struct tr_http_response resp;
	int fd;
	int64_t deadline, next_peek; /* ms */
	int done;   /* resp is filled */
	int queued; /* resp was handed to libmicrohttpd */
	int gone;   /* stopped: the client closed its side */
	int late;   /* stopped: the time budget ran out */
};

#define PEEK_MS 50 /* how often a search looks whether its client left */

/* tr_http_request.stop of a search: budget spent, client gone, stop. */
static int
search_should_stop(void *arg)
{
	struct search_job *j = arg;
	int64_t now = now_ms();
	char b;

	if (now >= j->deadline || j->srv->search_stop)
		return j->late = 1;
	if (now >= j->next_peek && j->fd >= 0) {
		j->next_peek = now + PEEK_MS;
		/* 0: the client closed its side; it reads no answer. */
		if (recv(j->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0)
			return j->gone = 1;
	}
	return 0;
}

static void *
search_main(void *arg)
{
	struct tr_http *srv = arg;
	struct search_job *j;

	/* Searches yield the CPU to libmicrohttpd's threads, so /healthz
	 * and cached documents answer first when both want it. */
	tr_thread_nicer(10);
	pthread_mutex_lock(&srv->search_lock);
	for (;;) {
		while (srv->search_head == NULL && !srv->search_stop)
			pthread_cond_wait(&srv->search_cond,
			                  &srv->search_lock);
		if ((j = srv->search_head) == NULL)
			break;
		if ((srv->search_head = j->next) == NULL)
			srv->search_tail = NULL;
		srv->n_search_queued--;
		pthread_mutex_unlock(&srv->search_lock);
		j->deadline = now_ms() + srv->opts.search_ms;
		j->next_peek = 0;
		j->req.stop = search_should_stop;
		j->req.stop_arg = j;
		tr_http_handle(srv, &j->resp, &j->req);
		if (j->gone)
			atomic_fetch_add(&srv->searches_dropped, 1);
		else if (j->late)
			atomic_fetch_add(&srv->searches_late, 1);
		j->done = 1;
		MHD_resume_connection(j->c);
		pthread_mutex_lock(&srv->search_lock);
	}
	pthread_mutex_unlock(&srv->search_lock);
	return NULL;
}

/* Non-zero when the request asks for a search on a route that has one. */
static int
is_search(const struct conn_info *ci, const char *url)
{
	struct tr_http_route r;
	size_t i;

	if (tr_http_route_match(&r, tr_http_origin_path(url)) != 0 ||
	    !r.params)
		return 0;
	for (i = 0; i < ci->n_args; i++)
		if (ci->args[i].key_len == 1 && ci->args[i].key[0] == 'q' &&
		    ci->args[i].value && ci->args[i].value[0])
			return 1;
	return 0;
}

/*
 * Hands the search request to the search threads and suspends c.
 * Returns 0, or -1 when the queue is full (the caller answers 503).
 */
static int
search_submit(struct tr_http *srv, struct MHD_Connection *c,
              const struct conn_info *ci, const struct tr_http_request *req,
              void **req_cls)
{
	const union MHD_ConnectionInfo *fi;
	struct search_job *j = calloc(1, sizeof(*j));

	if (j == NULL)
		return -1;
	j->srv = srv;
	j->c = c;
	j->ci = *ci;
	j->req = *req;
	j->req.args = j->ci.args;
	j->req.if_none_match = req->if_none_match ? j->ci.inm : NULL;
	j->req.accept_encoding = req->accept_encoding ? j->ci.ae : NULL;
	j->req.accept = req->accept ? j->ci.acc : NULL;
	fi = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	j->fd = fi ? fi->connect_fd : -1;
	pthread_mutex_lock(&srv->search_lock);
	if (srv->search_stop || srv->n_search_threads == 0 ||
	    srv->n_search_queued >= srv->opts.search_queue) {
		pthread_mutex_unlock(&srv->search_lock);
		free(j);
		return -1;
	}
	/* Suspended before any search thread can see (and resume) it. */
	MHD_suspend_connection(c);
	if (srv->search_tail)
		srv->search_tail->next = j;
	else
		srv->search_head = j;
	srv->search_tail = j;
	srv->n_search_queued++;
	*req_cls = j;
	pthread_cond_signal(&srv->search_cond);
	pthread_mutex_unlock(&srv->search_lock);
	return 0;
}

/* Indexes of srv->unfinished, by libmicrohttpd's termination code. */
static const char *const unfinished_reason[N_UNFINISHED] = {
    "error", "timeout", "client_gone", "shutdown"};

static int
unfinished_index(enum MHD_RequestTerminationCode toe)
{
	switch (toe) {
	case MHD_REQUEST_TERMINATED_COMPLETED_OK:
		return -1;
	case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:
		return 1;
	case MHD_REQUEST_TERMINATED_READ_ERROR:
	case MHD_REQUEST_TERMINATED_CLIENT_ABORT:
		return 2;
	case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:
		return 3;
	default:
		return 0; /* WITH_ERROR and any later code */
	}
}

/*
 * libmicrohttpd's end of a request: frees a search's job, counts a
 * request that ended unanswered, and gives the address's slot back when
 * the connection ends with it (libmicrohttpd closes it after this call).
 */
static void
on_completed(void *cls, struct MHD_Connection *c, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
	struct tr_http *srv = cls;
	struct conn *cn = conn_of(c);
	int why = unfinished_index(toe);

	if (why >= 0) {
		atomic_fetch_add(&srv->unfinished[why], 1);
		tr_log(TR_LOG_DEBUG, "http: a request ended unanswered (%s)",
		       unfinished_reason[why]);
	}
	if (*req_cls && !is_mark(*req_cls)) {
		struct search_job *j = *req_cls;

		tr_http_response_free(&j->resp);
		free(j);
		*req_cls = NULL;
	}
	/* Waiting again, for the next request head. */
	if (cn) {
		pthread_mutex_lock(&srv->conn_lock);
		if (why >= 0 || cn->will_close)
			conn_release(srv, cn);
		if (!cn->closing)
			wait_push(srv, cn, now_ms());
		cn->will_close = 0;
		pthread_mutex_unlock(&srv->conn_lock);
	}
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *c, const char *url,
           const char *method, const char *version, const char *upload_data,
           size_t *upload_data_size, void **req_cls)
{
	struct tr_http *srv = cls;
	struct tr_http_request req;
	struct tr_http_response resp;
	struct conn_info ci;
	enum MHD_Result ret;
	unsigned flags;

	(void)upload_data;
	if (*req_cls && !is_mark(*req_cls)) {
		/* A search came back from its thread. */
		struct search_job *j = *req_cls;

		if (!j->done || j->queued)
			return MHD_YES;
		j->queued = 1;
		return queue_answer(srv, c, &j->resp);
	}
	if (*req_cls == NULL)
		*req_cls = &marks[0];
	flags = (unsigned)((char *)*req_cls - marks);
	memset(&ci, 0, sizeof(ci));
	MHD_get_connection_values_n(c, MHD_HEADER_KIND, collect_header, &ci);
	if (!(flags & MARK_HEADERS)) {
		/*
		 * First call, after the headers. Answering now makes
		 * libmicrohttpd discard the rest of the request and close
		 * the connection: right for a request with a body (refused)
		 * and nothing else, so others wait for the second call.
		 */
		/* RFC 9112 §9.3: close, or HTTP/1.0 without keep-alive. */
		conn_busy(srv, c,
		          ci.conn_close ||
		              (strcmp(version, MHD_HTTP_VERSION_1_1) != 0 &&
		               !ci.conn_keep));
		*req_cls = &marks[flags | MARK_HEADERS];
		if (!ci.body && !ci.bad_name)
			return MHD_YES;
	} else if (*upload_data_size != 0) {
		*upload_data_size = 0; /* never: bodies got their answer */
		return MHD_YES;
	}
	flags &= ~(unsigned)MARK_HEADERS;
	MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, collect_arg, &ci);
	request_from(&req, &ci, method, url, flags);
	if (flags == 0 && !ci.body && !ci.bad_name && is_search(&ci, url)) {
		if (search_submit(srv, c, &ci, &req, req_cls) == 0)
			return MHD_YES;
		memset(&resp, 0, sizeof(resp));
		tr_buf_init(&resp.text, 1024);
		answer_text(&resp, 503,
		            "too many searches at once: try again shortly");
		count(srv, TR_ROUTE_FEED, 503);
	} else {
		tr_http_handle(srv, &resp, &req);
	}
	if (tr_log_enabled(TR_LOG_DEBUG))
		tr_log(TR_LOG_DEBUG, "http: %s %s: %d%s", method, url,
		       resp.status, resp.gzip ? " gzip" : "");
	ret = queue_answer(srv, c, &resp);
	tr_http_response_free(&resp);
	return ret;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	size_t n;

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	n = strlen(msg);
	while (n && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
		msg[--n] = '\0';
	tr_log(TR_LOG_DEBUG, "http: %s", msg);
}

/* ------------------------------------------------------------------ */
/* Life cycle                                                          */

/* What the documents show of the config: a change makes new ETags. */
static uint64_t
config_hash(const struct tr_config *cfg)
{
	uint64_t h = TR_HASH_INIT;
	size_t i, j;

	h = hash_str(h, cfg->title);
	h = hash_str(h, cfg->base_url);
	h = tr_hash(h, &cfg->max_per_feed, sizeof(cfg->max_per_feed));
	for (i = 0; i < cfg->n_feeds; i++) {
		const struct tr_feed_conf *f = &cfg->feeds[i];

		h = hash_str(h, f->name);
		h = hash_str(h, f->url);
		h = hash_str(h, f->public_url);
		h = tr_hash(h, &f->is_private, sizeof(f->is_private));
		h = hash_str(h, f->title);
		h = tr_hash(h, &f->enabled, sizeof(f->enabled));
		h = tr_hash(h, &f->max_per_feed, sizeof(f->max_per_feed));
		for (j = 0; j < f->n_tags; j++)
			h = hash_str(h, f->tags[j]);
	}
	return h;
}

/*
 * The base URL: cfg->base_url without trailing slashes, else the bound
 * address ("http://127.0.0.1:8080"; a wildcard host as localhost), else
 * the configured listen address. Called with cfg_lock held for writing.
 */
static void
set_base_url(struct tr_http *srv)
{
	const struct tr_config *cfg = srv->cfg;
	char host[INET6_ADDRSTRLEN + 2] = "localhost";
	size_t n;

	if (cfg->base_url && *cfg->base_url) {
		snprintf(srv->base_url, sizeof(srv->base_url), "%s",
		         cfg->base_url);
		n = strlen(srv->base_url);
		while (n > 0 && srv->base_url[n - 1] == '/')
			srv->base_url[--n] = '\0';
		return;
	}
	if (srv->port == 0) {
		snprintf(srv->base_url, sizeof(srv->base_url), "http://%s",
		         srv->listen);
		return;
	}
	if (srv->addr.ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)&srv->addr;

		if (a->sin_addr.s_addr != htonl(INADDR_ANY))
			inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
	} else if (srv->addr.ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const void *)&srv->addr;

		if (!IN6_IS_ADDR_UNSPECIFIED(&a->sin6_addr)) {
			host[0] = '[';
			inet_ntop(AF_INET6, &a->sin6_addr, host + 1,
			          sizeof(host) - 2);
			strcat(host, "]");
		}
	}
	snprintf(srv->base_url, sizeof(srv->base_url), "http://%s:%u", host,
	         srv->port);
}

static int
nprocs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n < 2 ? 2 : n > 4 ? 4 : (int)n;
}

static void
apply_defaults(struct tr_http_opts *o)
{
	if (o->threads <= 0)
		o->threads = nprocs();
	if (o->max_connections <= 0)
		o->max_connections = 1024;
	if (o->timeout <= 0)
		o->timeout = 30;
	if (o->per_address == 0)
		o->per_address = 64;
	if (o->head_timeout <= 0)
		o->head_timeout = 10;
	if (o->search_threads <= 0)
		o->search_threads = 2;
	if (o->search_threads > 8)
		o->search_threads = 8;
	if (o->search_queue <= 0)
		o->search_queue = 32;
	if (o->search_ms <= 0)
		o->search_ms = 2000;
	if (o->max_uri == 0)
		o->max_uri = 2048;
	if (o->max_header == 0)
		o->max_header = 16 * 1024;
	if (o->cache_entries == 0)
		o->cache_entries = 256;
	if (o->cache_bytes == 0)
		o->cache_bytes = 64 * 1024 * 1024;
	if (o->max_body == 0)
		o->max_body = 64 * 1024 * 1024;
	if (o->stream_min == 0)
		/* Past the pages the render caps allow at limit=50 (about
		 * 1 MiB): those stay cached whole, served at cache speed. */
		o->stream_min = 2 * 1024 * 1024;
	if (o->stream_timeout <= 0)
		o->stream_timeout = 60;
	if (o->max_streams <= 0)
		o->max_streams = 16; /* each with a store handle: 4 MiB of cache */
}

int
tr_http_new_source(struct tr_http **out, const struct tr_config *cfg,
                   const char *db_path, const struct tr_http_opts *opts,
                   const struct tr_http_source *src)
{
	struct tr_http *srv;
	const char *listen;

	*out = NULL;
	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return TR_ENOMEM;
	if (opts)
		srv->opts = *opts;
	apply_defaults(&srv->opts);
	srv->src = *src;
	srv->listen_fd = -1;
	pthread_rwlock_init(&srv->cfg_lock, NULL);
	pthread_mutex_init(&srv->pool_lock, NULL);
	pthread_mutex_init(&srv->cache_lock, NULL);
	pthread_mutex_init(&srv->conn_lock, NULL);
	pthread_cond_init(&srv->conn_cond, NULL);
	pthread_mutex_init(&srv->search_lock, NULL);
	pthread_cond_init(&srv->search_cond, NULL);
	*out = srv;
	listen = srv->opts.listen ? srv->opts.listen : cfg->listen;
	srv->opts.listen = NULL; /* borrowed: keep only the copy */
	srv->db_path = strdup(db_path ? db_path : "");
	srv->listen = strdup(listen ? listen : "127.0.0.1:8080");
	if (srv->db_path == NULL || srv->listen == NULL)
		return TR_ENOMEM;
	if (tr_http_parse_listen(&srv->addr, &srv->addr_len, &srv->dual,
	                         srv->listen) != 0) {
		snprintf(srv->errmsg, sizeof(srv->errmsg),
		         "invalid listen address: %s (expected HOST:PORT, "
		         "[V6]:PORT or *:PORT)",
		         srv->listen);
		return TR_EINVAL;
	}
	srv->cfg = cfg;
	srv->cfg_hash = config_hash(cfg);
	srv->cfg_time = (int64_t)time(NULL);
	set_base_url(srv);
	return 0;
}

int
tr_http_new(struct tr_http **out, const struct tr_config *cfg,
            const char *db_path, const struct tr_http_opts *opts)
{
	return tr_http_new_source(out, cfg, db_path, opts, &store_source);
}

/* Creates the listening socket (errors are clearer than the daemon's). */
static int
open_listener(struct tr_http *srv)
{
	struct sockaddr_storage ss = srv->addr;
	socklen_t len = srv->addr_len;
	int fd, one = 1, zero = 0;

	fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 && srv->dual && errno == EAFNOSUPPORT) {
		/* No IPv6 here: "*" falls back to every IPv4 address. */
		struct sockaddr_in *a = (void *)&ss;
		in_port_t port =
		    ((struct sockaddr_in6 *)(void *)&ss)->sin6_port;

		memset(&ss, 0, sizeof(ss));
		a->sin_family = AF_INET;
		a->sin_port = port;
		a->sin_addr.s_addr = htonl(INADDR_ANY);
		len = sizeof(*a);
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		            0);
	}
	if (fd < 0)
		goto fail;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY,
		           srv->dual ? &zero : &one, sizeof(int));
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 256) != 0)
		goto fail;
	len = sizeof(srv->addr);
	if (getsockname(fd, (struct sockaddr *)&srv->addr, &len) != 0)
		goto fail;
	srv->addr_len = len;
	srv->port =
	    ntohs(srv->addr.ss_family == AF_INET6
	              ? ((struct sockaddr_in6 *)(void *)&srv->addr)->sin6_port
	              : ((struct sockaddr_in *)(void *)&srv->addr)->sin_port);
	srv->listen_fd = fd;
	return 0;
fail:
	snprintf(srv->errmsg, sizeof(srv->errmsg), "listen %s: %s", srv->listen,
	         strerror(errno));
	if (fd >= 0)
		close(fd);
	return TR_EIO;
}

int
tr_http_listen(struct tr_http *srv)
{
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ITC |
	                 MHD_USE_ERROR_LOG | MHD_USE_TURBO |
	                 MHD_ALLOW_SUSPEND_RESUME;
	int rc, i;

	if (srv->daemon)
		return 0;
	if ((rc = open_listener(srv)) != 0)
		return rc;
	flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES
	             ? MHD_USE_EPOLL
	             : MHD_USE_POLL;
	/* One option per line; the logger first, so nothing goes to stderr. */
	/* clang-format off */
	srv->daemon = MHD_start_daemon(flags, 0, on_accept, srv, on_request, srv,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, srv,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)srv->listen_fd,
	    MHD_OPTION_THREAD_POOL_SIZE, (unsigned)srv->opts.threads,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)srv->opts.max_connections,
	    MHD_OPTION_NOTIFY_CONNECTION, on_connection, srv,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, srv,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)srv->opts.timeout,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, srv->opts.max_header,
	    MHD_OPTION_URI_LOG_CALLBACK, on_uri, srv,
	    MHD_OPTION_STRICT_FOR_CLIENT, (int)1,
	    MHD_OPTION_END);
	/* clang-format on */
	if (srv->daemon == NULL) {
		snprintf(srv->errmsg, sizeof(srv->errmsg),
		         "listen %s: the HTTP server could not start",
		         srv->listen);
		close(srv->listen_fd);
		srv->listen_fd = -1;
		return TR_EIO;
	}
	pthread_rwlock_wrlock(&srv->cfg_lock);
	set_base_url(srv);
	pthread_rwlock_unlock(&srv->cfg_lock);
	/* Without these threads only the idle timeout bounds a slow
	 * client, and searches answer 503: serving still works. */
	if (pthread_create(&srv->watchdog, NULL, watchdog_main, srv) == 0)
		srv->watch_running = 1;
	else
		tr_log(TR_LOG_WARN, "http: no watchdog thread: slow clients "
		                    "are bounded by the idle timeout only");
	for (i = 0; i < srv->opts.search_threads; i++) {
		if (pthread_create(&srv->search_threads[i], NULL, search_main,
		                   srv) != 0)
			break;
		srv->n_search_threads++;
	}
	return 0;
}

int
tr_http_start(struct tr_http **out, const struct tr_config *cfg,
              const char *db_path)
{
	int rc;

	if ((rc = tr_http_new(out, cfg, db_path, NULL)) != 0)
		return rc;
	return tr_http_listen(*out);
}

unsigned
tr_http_port(const struct tr_http *srv)
{
	return srv && srv->daemon ? srv->port : 0;
}

const char *
tr_http_url(const struct tr_http *srv)
{
	return srv->base_url;
}

const char *
tr_http_errmsg(const struct tr_http *srv)
{
	return srv && srv->errmsg[0] ? srv->errmsg : "no error";
}

void
tr_http_stop(struct tr_http *srv)
{
	int i;

	if (srv == NULL)
		return;
	if (srv->daemon) {
		/* New clients are turned away from here on. Not with
		 * MHD_quiesce_daemon(): on epoll with a thread pool it and
		 * the pool's threads both take the listener out of the
		 * threads' event sets, unlocked, and libmicrohttpd aborts
		 * the process when the thread wins (0.9.75). */
		pthread_mutex_lock(&srv->conn_lock);
		srv->accept_stop = 1;
		pthread_mutex_unlock(&srv->conn_lock);
		/* Searches answer (stopped at once) and resume their
		 * connections, which libmicrohttpd wants before it stops. */
		pthread_mutex_lock(&srv->search_lock);
		srv->search_stop = 1;
		pthread_cond_broadcast(&srv->search_cond);
		pthread_mutex_unlock(&srv->search_lock);
		for (i = 0; i < srv->n_search_threads; i++)
			pthread_join(srv->search_threads[i], NULL);
		pthread_mutex_lock(&srv->conn_lock);
		srv->watch_stop = 1;
		pthread_cond_broadcast(&srv->conn_cond);
		pthread_mutex_unlock(&srv->conn_lock);
		if (srv->watch_running)
			pthread_join(srv->watchdog, NULL);
		/* Streams' producers stop, and resume the connections that
		 * wait for them, which libmicrohttpd wants before it stops. */
		atomic_store(&srv->streams_stop, 1);
		while (atomic_load(&srv->n_stream_waits) > 0)
			usleep(10 * 1000);
		MHD_stop_daemon(srv->daemon);
		/* Every connection gave its slot back; a slot taken for a
		 * connection libmicrohttpd failed to start may be left. */
		for (i = 0; i < N_PEER_BUCKETS; i++)
			while (srv->peers[i]) {
				struct peer *p = srv->peers[i];

				srv->peers[i] = p->next;
				free(p);
			}
		/* libmicrohttpd closed the listener it was given. */
		srv->listen_fd = -1;
	}
	if (srv->listen_fd >= 0)
		close(srv->listen_fd);
	/* Streams' producers end once their readers are gone (libmicrohttpd
	 * dropped its responses; a caller of tr_http_handle() freed its
	 * own), at the latest at their deadline. */
	while (atomic_load(&srv->n_streams) > 0)
		usleep(10 * 1000);
	pthread_mutex_lock(&srv->cache_lock);
	cache_flush_locked(srv);
	pthread_mutex_unlock(&srv->cache_lock);
	for (i = 0; i < srv->n_pool; i++)
		srv->src.close(srv->pool[i]);
	pthread_rwlock_destroy(&srv->cfg_lock);
	pthread_mutex_destroy(&srv->pool_lock);
	pthread_mutex_destroy(&srv->cache_lock);
	pthread_mutex_destroy(&srv->conn_lock);
	pthread_cond_destroy(&srv->conn_cond);
	pthread_mutex_destroy(&srv->search_lock);
	pthread_cond_destroy(&srv->search_cond);
	free(srv->db_path);
	free(srv->listen);
	free(srv);
}

void
tr_http_set_config(struct tr_http *srv, const struct tr_config *cfg)
{
	pthread_rwlock_wrlock(&srv->cfg_lock);
	srv->cfg = cfg;
	srv->cfg_hash = config_hash(cfg);
	srv->cfg_time = (int64_t)time(NULL);
	set_base_url(srv);
	invalidate_locked(srv);
	pthread_rwlock_unlock(&srv->cfg_lock);
}

void
tr_http_set_health(struct tr_http *srv, tr_http_health_fn fn, void *arg)
{
	srv->health_fn = fn;
	srv->health_arg = arg;
}

void
tr_http_set_metrics(struct tr_http *srv, tr_http_metrics_fn fn, void *arg)
{
	srv->metrics_fn = fn;
	srv->metrics_arg = arg;
}

void
tr_http_counters(struct tr_http *srv, tr_http_counter_cb cb, void *arg)
{
	size_t r, i;

	for (r = 0; r < TR_ROUTE_COUNT; r++)
		for (i = 0; i <= N_COUNTED; i++) {
			uint64_t n = atomic_load_explicit(&srv->counts[r][i],
			                                  memory_order_relaxed);

			if (n)
				cb(tr_http_route_name((enum tr_http_route_id)r),
				   i < N_COUNTED ? counted_status[i] : 0, n,
				   arg);
		}
}

struct counter_out {
	struct tr_buf *out;
	int rc;
};

static void
write_counter(const char *route, int status, uint64_t n, void *arg)
{
	struct counter_out *co = arg;

	if (co->rc == 0)
		co->rc =
		    tr_buf_printf(co->out,
		                  "tributary_http_requests_total{route=\"%s\","
		                  "status=\"%d\"} %llu\n",
		                  route, status, (unsigned long long)n);
}

int
tr_http_write_counters(struct tr_buf *out, struct tr_http *srv)
{
	struct counter_out co = {out, 0};
	size_t r;

	co.rc = tr_buf_adds(
	    out, "# HELP tributary_http_requests_total HTTP requests answered, "
	         "by route and status.\n"
	         "# TYPE tributary_http_requests_total counter\n");
	tr_http_counters(srv, write_counter, &co);
	if (co.rc == 0)
		co.rc = tr_buf_printf(
		    out,
		    "# HELP tributary_http_slow_connections_closed_total "
		    "Connections closed while waiting for a request head.\n"
		    "# TYPE tributary_http_slow_connections_closed_total "
		    "counter\n"
		    "tributary_http_slow_connections_closed_total"
		    "{reason=\"head_timeout\"} %llu\n"
		    "tributary_http_slow_connections_closed_total"
		    "{reason=\"room_for_new\"} %llu\n",
		    (unsigned long long)atomic_load(&srv->head_timeouts),
		    (unsigned long long)atomic_load(&srv->evictions));
	if (co.rc == 0)
		co.rc = tr_buf_printf(
		    out,
		    "# HELP tributary_http_searches_stopped_total Searches "
		    "stopped before their end.\n"
		    "# TYPE tributary_http_searches_stopped_total counter\n"
		    "tributary_http_searches_stopped_total"
		    "{reason=\"client_gone\"} %llu\n"
		    "tributary_http_searches_stopped_total"
		    "{reason=\"time_budget\"} %llu\n",
		    (unsigned long long)atomic_load(&srv->searches_dropped),
		    (unsigned long long)atomic_load(&srv->searches_late));
	if (co.rc == 0)
		co.rc = tr_buf_printf(
		    out,
		    "# HELP tributary_http_connections_refused_total "
		    "Connections closed as they opened: their address had "
		    "clients_per_address open.\n"
		    "# TYPE tributary_http_connections_refused_total counter\n"
		    "tributary_http_connections_refused_total"
		    "{reason=\"per_address\"} %llu\n",
		    (unsigned long long)atomic_load(&srv->refused_per_address));
	if (co.rc == 0)
		co.rc = tr_buf_adds(
		    out, "# HELP tributary_http_requests_unfinished_total "
		         "Requests whose connection ended before their answer "
		         "was sent.\n"
		         "# TYPE tributary_http_requests_unfinished_total "
		         "counter\n");
	for (r = 0; co.rc == 0 && r < N_UNFINISHED; r++)
		co.rc = tr_buf_printf(
		    out,
		    "tributary_http_requests_unfinished_total{reason=\"%s\"} "
		    "%llu\n",
		    unfinished_reason[r],
		    (unsigned long long)atomic_load(&srv->unfinished[r]));
	return co.rc;
}
