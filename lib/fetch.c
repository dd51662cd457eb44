/*
 * fetch.c — the transfer engine: one CURLM, many easy handles, one thread.
 *
 * The loop is the classic multi loop: fill free slots from next(), run
 * curl_multi_perform(), collect ended transfers with
 * curl_multi_info_read(), sleep in curl_multi_poll() until a socket is
 * ready or a timer is due. Easy handles are kept in a free list and
 * reused (curl_easy_reset keeps nothing of the last request but the
 * handle's memory; connections and DNS live in the multi handle).
 *
 * Per transfer the engine keeps a struct xfer: the captured response
 * headers of the current hop (a few small strings, each capped), the
 * running byte count and body hash, and the hop bookkeeping that tells a
 * permanent redirect chain (all 301/308) from any other.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "tributary/error.h"
#include "tributary/fetch.h"
#include "tributary/hash.h"
#include "tributary/log.h"
#include "tributary/url.h"

/* A header value longer than this is not kept (an ETag cut short would
 * never match again; a Content-Type that long is not one). */
#define MAX_HEADER_VALUE 4096
/* Bytes of a non-2xx body read (and thrown away) before hanging up. */
#define MAX_ERROR_BODY (64 * 1024)
/* A "host:port" key (a DNS name is at most 253 bytes). */
#define HOST_KEY_MAX 320

enum hdr {
	H_ETAG,
	H_LAST_MODIFIED,
	H_CONTENT_TYPE,
	H_RETRY_AFTER,
	H_CACHE_CONTROL,
	H_EXPIRES,
	H_LOCATION,
	N_HDR
};

/* The response headers captured, by name (RFC 9110 field names). */
static const char *const hdr_names[N_HDR] = {
    "etag",          "last-modified", "content-type", "retry-after",
    "cache-control", "expires",       "location",
};

struct xfer {
	CURL *easy;
	struct xfer *next_free;
	struct xfer *next_active;
	struct curl_slist *headers;
	struct tr_fetch_req req;
	struct host_rec *rec; /* its host, counted against per_host */
	int slot;             /* the host slot it holds (host_take), or -1 */
	const struct tr_fetch_ops *ops;
	const struct tr_fetch_opts *o;
	char *hdr[N_HDR];
	char *location;     /* Location of the last 3xx hop */
	int hop_status;     /* status line of the current hop */
	int hops_redirect;  /* 3xx hops seen */
	int hops_temporary; /* ... of which not 301/308 */
	int started;        /* body_start() was called */
	int too_large;
	int stopped;   /* the consumer asked to stop */
	int discarded; /* we hung up on a non-2xx body on purpose */
	int64_t bytes;
	struct tr_sum sum; /* of the body */
	char errbuf[CURL_ERROR_SIZE];
	char first_ip[INET6_ADDRSTRLEN + 8]; /* the first hop's address */
	char blocked[400]; /* why a redirect hop was refused, or "" */
};

/* --- redirects into internal networks --- */

/* IPv4 ranges that are not the public internet (RFC 6890 and friends). */
static const struct v4_range {
	uint32_t net;
	int bits;
	const char *why;
} v4_ranges[] = {
    {0x00000000, 8, "unspecified"},      /* 0/8, "this network" */
    {0x0a000000, 8, "private"},          /* RFC 1918 */
    {0x64400000, 10, "shared (carrier-grade NAT)"}, /* RFC 6598 */
    {0x7f000000, 8, "loopback"},
    {0xa9fe0000, 16, "link-local"},      /* cloud metadata lives here */
    {0xac100000, 12, "private"},         /* RFC 1918 */
    {0xc0000000, 24, "reserved"},        /* IETF protocol assignments */
    {0xc0000200, 24, "documentation"},
    {0xc0a80000, 16, "private"},         /* RFC 1918 */
    {0xc6120000, 15, "benchmarking"},
    {0xc6336400, 24, "documentation"},
    {0xcb007100, 24, "documentation"},
    {0xe0000000, 4, "multicast"},
    {0xf0000000, 4, "reserved"},         /* and 255.255.255.255 */
};

static const char *
v4_class(uint32_t a)
{
	size_t i;

	for (i = 0; i < sizeof(v4_ranges) / sizeof(v4_ranges[0]); i++) {
		uint32_t mask = 0xffffffffu << (32 - v4_ranges[i].bits);

		if ((a & mask) == v4_ranges[i].net)
			return v4_ranges[i].why;
	}
	return NULL;
}

static uint32_t
v4_at(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	       (uint32_t)b[2] << 8 | b[3];
}

/* An IPv6 address, or the IPv4 address it carries (RFC 4291 §2.5.5,
 * RFC 6052, RFC 3056). */
static const char *
v6_class(const unsigned char *b)
{
	static const unsigned char zero[12], mapped[12] = {0, 0, 0, 0, 0, 0,
	                                                    0, 0, 0, 0, 0xff,
	                                                    0xff},
	                                      nat64[12] = {0, 0x64, 0xff, 0x9b};

	if (memcmp(b, zero, 12) == 0) {
		if (v4_at(b + 12) == 0)
			return "unspecified";
		if (v4_at(b + 12) == 1)
			return "loopback";
		return v4_class(v4_at(b + 12)); /* IPv4-compatible */
	}
	if (memcmp(b, mapped, 12) == 0 || memcmp(b, nat64, 12) == 0)
		return v4_class(v4_at(b + 12));
	if (b[0] == 0x20 && b[1] == 0x02) /* 6to4 */
		return v4_class(v4_at(b + 2));
	if ((b[0] & 0xfe) == 0xfc)
		return "unique local";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80)
		return "link-local";
	if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0)
		return "private"; /* site-local, deprecated */
	if (b[0] == 0xff)
		return "multicast";
	if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8)
		return "documentation";
	if (b[0] == 0x01 && memcmp(b + 1, zero, 7) == 0)
		return "reserved"; /* 100::/64, discard */
	return NULL;
}

const char *
tr_fetch_addr_class(const char *addr)
{
	char text[INET6_ADDRSTRLEN + 8];
	unsigned char b6[16];
	struct in_addr a4;
	size_t n;

	if (addr == NULL)
		return "not an IP address";
	if (*addr == '[')
		addr++;
	n = strcspn(addr, "]%");
	if (n >= sizeof(text))
		return "not an IP address";
	memcpy(text, addr, n);
	text[n] = '\0';
	if (inet_pton(AF_INET6, text, b6) == 1)
		return v6_class(b6);
	/* inet_aton, not inet_pton: it takes the forms a URL host may use
	 * and libcurl also accepts (2130706433, 0x7f.1, 127.1). */
	if (strchr(text, ' ') == NULL && inet_aton(text, &a4) != 0)
		return v4_class(ntohl(a4.s_addr));
	return "not an IP address";
}

/*
 * May the current hop of x connect to (or send a request over a
 * connection to) ip? The first hop of a configured URL always may, and
 * its address is remembered; a redirect hop (the last response was a
 * 3xx), or the first hop of a URL the feed moved to, only to a public
 * address, the configured first hop's own, or anywhere with
 * allow_private_redirects. When not, x->blocked says why.
 */
static int
hop_allowed(struct xfer *x, const char *ip, int prereq)
{
	int redirect = x->hop_status >= 300 && x->hop_status < 400;
	const char *why;
	char *loc;

	if (!redirect && !x->req.moved) {
		if (prereq && x->first_ip[0] == '\0')
			snprintf(x->first_ip, sizeof(x->first_ip), "%s", ip);
		return 1;
	}
	if (x->o->allow_private_redirects ||
	    (why = tr_fetch_addr_class(ip)) == NULL ||
	    strcmp(ip, x->first_ip) == 0)
		return 1;
	loc = tr_url_public(redirect ? x->hdr[H_LOCATION] : x->req.url);
	snprintf(x->blocked, sizeof(x->blocked),
	         "%s %.200s refused: it leads to a %s address (%s); "
	         "set allow_private_redirects = yes to follow redirects into "
	         "internal networks",
	         redirect ? "redirect to" : "the address the feed moved to",
	         loc ? loc : "a URL that cannot be shown", why, ip);
	free(loc);
	return 0;
}

static curl_socket_t
opensocket_cb(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
	struct xfer *x = arg;
	char ip[INET6_ADDRSTRLEN] = "";

	if (purpose == CURLSOCKTYPE_IPCXN) {
		if (a->family == AF_INET)
			inet_ntop(AF_INET,
			          &((struct sockaddr_in *)(void *)&a->addr)->sin_addr,
			          ip, sizeof(ip));
		else if (a->family == AF_INET6)
			inet_ntop(AF_INET6,
			          &((struct sockaddr_in6 *)(void *)&a->addr)
			               ->sin6_addr,
			          ip, sizeof(ip));
		if (ip[0] != '\0' && !hop_allowed(x, ip, 0))
			return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static int
prereq_cb(void *arg, char *primary_ip, char *local_ip, int primary_port,
          int local_port)
{
	(void)local_ip;
	(void)primary_port;
	(void)local_port;
	return hop_allowed(arg, primary_ip, 1) ? CURL_PREREQFUNC_OK
	                                       : CURL_PREREQFUNC_ABORT;
}

void
tr_fetch_opts_from_config(struct tr_fetch_opts *o, const struct tr_config *cfg)
{
	memset(o, 0, sizeof(*o));
	o->concurrency = (long)cfg->concurrency;
	o->per_host = (long)cfg->per_host;
	o->connect_timeout = (long)cfg->connect_timeout;
	o->timeout = (long)cfg->timeout;
	o->low_speed_limit = (long)cfg->low_speed_limit;
	o->low_speed_time = (long)cfg->low_speed_time;
	o->max_redirects = (long)cfg->max_redirects;
	o->max_body = cfg->max_body;
	o->allow_private_redirects = cfg->allow_private_redirects;
}

void
tr_fetch_host(char *out, size_t size, const char *url)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;
	size_t i;

	if (size == 0)
		return;
	out[0] = '\0';
	if (u == NULL)
		return;
	if (curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
	        CURLUE_OK) {
		snprintf(out, size, "%s:%s", host, port);
		for (i = 0; out[i] != '\0'; i++)
			out[i] = (char)tolower((unsigned char)out[i]);
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

int
tr_fetch_same_host(const char *a, const char *b)
{
	char ha[HOST_KEY_MAX], hb[HOST_KEY_MAX], *p;

	tr_fetch_host(ha, sizeof(ha), a);
	tr_fetch_host(hb, sizeof(hb), b);
	if ((p = strrchr(ha, ':')) != NULL) /* "host:port": the host */
		*p = '\0';
	if ((p = strrchr(hb, ':')) != NULL)
		*p = '\0';
	return ha[0] != '\0' && strcmp(ha, hb) == 0;
}

/* Forgets the headers of the previous hop. */
static void
clear_headers(struct xfer *x)
{
	size_t i;

	for (i = 0; i < N_HDR; i++) {
		free(x->hdr[i]);
		x->hdr[i] = NULL;
	}
}

/* "HTTP/1.1 301 Moved" or "HTTP/2 200": the status code, or 0. */
static int
status_line(const char *p, size_t n)
{
	size_t i = 5;
	int code = 0;

	if (n < 12 || strncmp(p, "HTTP/", 5) != 0)
		return 0;
	while (i < n && p[i] != ' ')
		i++;
	if (i + 4 > n || !isdigit((unsigned char)p[i + 1]))
		return 0;
	for (i++; i < n && isdigit((unsigned char)p[i]); i++)
		code = code * 10 + (p[i] - '0');
	return code;
}

/* A new status line begins a new hop: close the bookkeeping of the last. */
static void
new_hop(struct xfer *x, int code)
{
	if (x->hop_status >= 300 && x->hop_status < 400 &&
	    x->hdr[H_LOCATION] != NULL) {
		x->hops_redirect++;
		if (x->hop_status != 301 && x->hop_status != 308)
			x->hops_temporary++;
		free(x->location);
		x->location = x->hdr[H_LOCATION];
		x->hdr[H_LOCATION] = NULL;
	}
	clear_headers(x);
	x->hop_status = code;
}

static size_t
header_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb, name_len, i;
	const char *v, *end = p + n;
	int code;

	if ((code = status_line(p, n)) != 0) {
		if (code >= 200) /* 1xx are interim, not hops */
			new_hop(x, code);
		return n;
	}
	v = memchr(p, ':', n);
	if (v == NULL)
		return n;
	name_len = (size_t)(v - p);
	for (v++; v < end && (*v == ' ' || *v == '\t'); v++)
		;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' ||
	                   end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (i = 0; i < N_HDR; i++) {
		if (strlen(hdr_names[i]) == name_len &&
		    strncasecmp(p, hdr_names[i], name_len) == 0)
			break;
	}
	if (i == N_HDR || end - v > MAX_HEADER_VALUE || x->hdr[i] != NULL)
		return n; /* not ours, too long, or a repeat: first wins */
	if ((x->hdr[i] = malloc((size_t)(end - v) + 1)) == NULL)
		return 0; /* out of memory ends the transfer */
	memcpy(x->hdr[i], v, (size_t)(end - v));
	x->hdr[i][end - v] = '\0';
	return n;
}

/* Fills r from what the transfer has seen so far. */
static void
fill_result(struct tr_fetch_result *r, struct xfer *x)
{
	char *eff = NULL;
	long code = 0, redirects = 0;
	double total = 0;

	memset(r, 0, sizeof(*r));
	r->url = x->req.url;
	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(x->easy, CURLINFO_EFFECTIVE_URL, &eff);
	curl_easy_getinfo(x->easy, CURLINFO_REDIRECT_COUNT, &redirects);
	curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME, &total);
	r->status = (int)code;
	r->effective_url = eff ? eff : x->req.url;
	r->redirects = (int)redirects;
	if (x->blocked[0] != '\0') /* a refused hop is nobody's address */
		r->effective_url = x->req.url;
	else if (redirects > 0 && x->hops_temporary == 0)
		r->permanent_url = r->effective_url;
	r->etag = x->hdr[H_ETAG];
	r->last_modified = x->hdr[H_LAST_MODIFIED];
	r->content_type = x->hdr[H_CONTENT_TYPE];
	r->retry_after = x->hdr[H_RETRY_AFTER];
	r->cache_control = x->hdr[H_CACHE_CONTROL];
	r->expires = x->hdr[H_EXPIRES];
	r->location = x->hdr[H_LOCATION] ? x->hdr[H_LOCATION] : x->location;
	r->bytes = x->bytes;
	r->body_hash = tr_sum_value(&x->sum);
	r->seconds = total;
}

/* A file URL read has no status line; call it a 200. */
static int
is_2xx(struct xfer *x)
{
	long code = 0;

	curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
	if (code == 0 && x->req.allow_file &&
	    strncasecmp(x->req.url, "file:", 5) == 0)
		return 1;
	return code >= 200 && code < 300;
}

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct xfer *x = arg;
	size_t n = size * nmemb;
	struct tr_fetch_result r;

	x->bytes += (int64_t)n;
	if (!is_2xx(x)) {
		/* An error page: nobody reads it; stop before it costs. */
		if (x->bytes > MAX_ERROR_BODY) {
			x->discarded = 1;
			return 0;
		}
		return n;
	}
	if (x->o->max_body > 0 && x->bytes > x->o->max_body) {
		x->too_large = 1;
		return 0;
	}
	tr_sum_add(&x->sum, p, n);
	if (!x->started) {
		x->started = 1;
		if (x->ops->body_start != NULL) {
			fill_result(&r, x);
			if (x->ops->body_start(x->req.arg, &r) != 0) {
				x->stopped = 1;
				return 0;
			}
		}
	}
	if (x->ops->body != NULL && x->ops->body(x->req.arg, p, n) != 0) {
		x->stopped = 1;
		return 0;
	}
	return n;
}

/* Adds a "Name: value" request header; 0 or TR_ENOMEM. */
static int
add_header(struct xfer *x, const char *name, const char *value)
{
	struct curl_slist *l;
	size_t len = strlen(name) + strlen(value) + 3;
	char *line = malloc(len);

	if (line == NULL)
		return TR_ENOMEM;
	snprintf(line, len, "%s: %s", name, value);
	l = curl_slist_append(x->headers, line);
	free(line);
	if (l == NULL)
		return TR_ENOMEM;
	x->headers = l;
	return 0;
}

/* Validators are sent back verbatim, if they fit on a header line. */
static int
valid_header_value(const char *v)
{
	return v != NULL && *v != '\0' && strlen(v) <= MAX_HEADER_VALUE &&
	       strpbrk(v, "\r\n") == NULL;
}

static int
setup_easy(struct xfer *x)
{
	CURL *e = x->easy;
	const struct tr_fetch_opts *o = x->o;
	int rc = 0;

	if ((rc = add_header(x, "Accept", TR_FETCH_ACCEPT)) != 0)
		return rc;
	if (valid_header_value(x->req.etag) &&
	    (rc = add_header(x, "If-None-Match", x->req.etag)) != 0)
		return rc;
	if (valid_header_value(x->req.last_modified) &&
	    (rc = add_header(x, "If-Modified-Since", x->req.last_modified)) !=
	        0)
		return rc;
	if (curl_easy_setopt(e, CURLOPT_URL, x->req.url) != CURLE_OK)
		return TR_EINVAL;
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
	                 x->req.allow_file ? "http,https,file" : "http,https");
	/* RFC 9110 §15.4: a redirect may lead anywhere; never to a file. */
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, o->max_redirects);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, o->connect_timeout);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, o->timeout);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, o->low_speed_limit);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, o->low_speed_time);
	if (o->max_body > 0)
		curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
		                 (curl_off_t)o->max_body);
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, x->req.user_agent);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	/* Redirects into internal networks: see fetch.h. */
	curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, opensocket_cb);
	curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, x);
	curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, prereq_cb);
	curl_easy_setopt(e, CURLOPT_PREREQDATA, x);
	return 0;
}

/* Writes the sentence for a failed transfer into buf. */
static void
error_text(char *buf, size_t size, struct xfer *x, CURLcode cc)
{
	const char *detail = x->errbuf[0] ? x->errbuf : curl_easy_strerror(cc);
	char cap[32];

	if (x->blocked[0] != '\0') {
		snprintf(buf, size, "%s", x->blocked);
	} else if (cc == CURLE_OUT_OF_MEMORY) {
		/* libcurl's answer to a header line over CURL_MAX_HTTP_HEADER
		 * (100 KB), far likelier here than memory running out. */
		snprintf(buf, size, "response header too large (a header "
		                    "line over %d KB), or out of memory",
		         CURL_MAX_HTTP_HEADER / 1024);
	} else if (x->too_large || cc == CURLE_FILESIZE_EXCEEDED) {
		if (x->o->max_body % (1024 * 1024) == 0)
			snprintf(cap, sizeof(cap), "%" PRId64 "M",
			         x->o->max_body / (1024 * 1024));
		else if (x->o->max_body % 1024 == 0)
			snprintf(cap, sizeof(cap), "%" PRId64 "k",
			         x->o->max_body / 1024);
		else
			snprintf(cap, sizeof(cap), "%" PRId64 " bytes",
			         x->o->max_body);
		snprintf(buf, size, "too large (body over %s)", cap);
	} else if (cc == CURLE_UNSUPPORTED_PROTOCOL &&
	           (x->location != NULL || x->hdr[H_LOCATION] != NULL)) {
		/* The Location is shown without user, password or token. */
		char *loc = tr_url_public(x->location ? x->location
		                                      : x->hdr[H_LOCATION]);

		snprintf(buf, size, "redirect to %.200s refused: %s",
		         loc ? loc : "a URL that cannot be shown", detail);
		free(loc);
	} else {
		snprintf(buf, size, "%s", detail);
	}
}

/* Reports an ended transfer to done() and returns x to the free list. */
static void
finish(struct xfer *x, CURLcode cc, void *ctx, struct xfer **free_list,
       int cancelled)
{
	struct tr_fetch_result r;
	char msg[CURL_ERROR_SIZE + 320];

	/* Hop bookkeeping: the final response is a hop too. */
	fill_result(&r, x);
	/* A file read has no status line: one whose body came is a 200,
	 * also when its reader stopped it (never "HTTP 0"). */
	if (r.status == 0 && x->started && is_2xx(x))
		r.status = 200;
	if (cc == CURLE_OK || (cc == CURLE_WRITE_ERROR && x->discarded) ||
	    (cc == CURLE_FILESIZE_EXCEEDED && r.status >= 400)) {
		/* A response came; an error page's size does not matter. */
		if (r.status == 0 && is_2xx(x))
			r.status = 200;
	} else if (x->stopped || cancelled) {
		r.err = TR_EABORT;
		r.errmsg = cancelled ? "cancelled" : "stopped by the reader";
	} else {
		r.err = (x->too_large || cc == CURLE_FILESIZE_EXCEEDED)
		            ? TR_ETOOBIG
		            : TR_EHTTP;
		error_text(msg, sizeof(msg), x, cc);
		r.errmsg = msg;
	}
	x->ops->done(ctx, x->req.arg, &r);
	clear_headers(x);
	free(x->location);
	curl_slist_free_all(x->headers);
	x->location = NULL;
	x->headers = NULL;
	x->next_free = *free_list;
	*free_list = x;
}

/*
 * Takes an xfer from the free list (or makes one) and starts req; *out is
 * the transfer in flight, or NULL when req ended at once (reported to
 * done() already). Returns 0 or TR_ENOMEM.
 */
static int
start(struct xfer **out, CURLM *multi, struct xfer **free_list,
      const struct tr_fetch_opts *o, const struct tr_fetch_ops *ops, void *ctx,
      const struct tr_fetch_req *req)
{
	struct xfer *x = *free_list;
	int rc;

	*out = NULL;
	if (x != NULL) {
		*free_list = x->next_free;
		curl_easy_reset(x->easy);
	} else {
		if ((x = calloc(1, sizeof(*x))) == NULL)
			return TR_ENOMEM;
		if ((x->easy = curl_easy_init()) == NULL) {
			free(x);
			return TR_ENOMEM;
		}
	}
	x->next_free = NULL;
	x->req = *req;
	x->ops = ops;
	x->o = o;
	x->hop_status = x->hops_redirect = x->hops_temporary = 0;
	x->started = x->too_large = x->stopped = x->discarded = 0;
	x->slot = -1;
	x->bytes = 0;
	tr_sum_init(&x->sum);
	x->errbuf[0] = '\0';
	x->first_ip[0] = x->blocked[0] = '\0';
	if ((rc = setup_easy(x)) != 0 ||
	    curl_multi_add_handle(multi, x->easy) != CURLM_OK) {
		struct tr_fetch_result r;

		/* A request that cannot start ends at once, as a failure. */
		fill_result(&r, x);
		r.err = rc == TR_ENOMEM ? TR_ENOMEM : TR_EHTTP;
		r.errmsg = rc == TR_ENOMEM ? "out of memory"
		                           : "invalid URL or request";
		ops->done(ctx, req->arg, &r);
		curl_slist_free_all(x->headers);
		x->headers = NULL;
		x->next_free = *free_list;
		*free_list = x;
		return rc == TR_ENOMEM ? TR_ENOMEM : 0;
	}
	*out = x;
	return 0;
}

/* Frees the free list's handles. */
static void
free_all(struct xfer *list)
{
	struct xfer *next;

	for (; list != NULL; list = next) {
		next = list->next_free;
		curl_easy_cleanup(list->easy);
		free(list);
	}
}

/*
 * Per-host limits are kept here rather than left to
 * CURLMOPT_MAX_HOST_CONNECTIONS alone: libcurl starts a transfer's clock
 * when it is added, so transfers queued inside libcurl behind a busy
 * host time out before they ever start. The engine hands libcurl only
 * transfers that can start now; the others wait in a short deferred
 * queue, in order.
 */
#define HOST_KEY 256
#define MAX_DEFERRED 256
/* How often a host whose slots other processes hold is asked again. */
#define HOST_RETRY_MS 100

/*
 * One host of the round: its transfers in flight. Records live until the
 * end of the run (a round has at most one per distinct host), found by a
 * hash table, so that a deferred request or a transfer points to its
 * host and checks it in O(1).
 */
struct deferred {
	struct tr_fetch_req req;
	struct deferred *next;
};

struct host_rec {
	long n;              /* transfers in flight */
	int blocked;         /* host_take said its slots are held elsewhere */
	struct deferred *dq; /* requests waiting for this host, in order */
	struct deferred **dq_tail;
	char host[];
};

struct engine {
	CURLM *multi;
	const struct tr_fetch_opts *o;
	const struct tr_fetch_ops *ops;
	void *ctx;
	long conc, per_host;
	struct xfer *free_list, *active;
	int in_flight, exhausted, err;
	size_t n_deferred;      /* in all the hosts' queues */
	size_t n_blocked;       /* hosts blocked (host_rec.blocked) */
	double retry_at;        /* when to ask for them again (ms) */
	struct tr_table hosts;  /* of struct host_rec, by host */
};

/* The record of host, made on first use; NULL when out of memory. */
static struct host_rec *
host_get(struct engine *en, const char *host)
{
	size_t len = strlen(host);
	struct host_rec *r;

	if ((r = tr_table_get(&en->hosts, host)) != NULL)
		return r;
	if ((r = malloc(sizeof(*r) + len + 1)) == NULL)
		return NULL;
	r->n = 0;
	r->blocked = 0;
	r->dq = NULL;
	r->dq_tail = &r->dq;
	memcpy(r->host, host, len + 1);
	if (tr_table_add(&en->hosts, r) != 0) {
		free(r);
		return NULL;
	}
	return r;
}

static void
host_free_all(struct engine *en)
{
	size_t i;

	for (i = 0; i < en->hosts.cap; i++)
		free(en->hosts.slot[i]);
	tr_table_free(&en->hosts);
}

static double
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Marks rec blocked by other processes (on), or not. */
static void
host_block(struct engine *en, struct host_rec *rec, int on)
{
	if (rec->blocked == on)
		return;
	rec->blocked = on;
	if (on && en->n_blocked++ == 0)
		en->retry_at = mono_ms() + HOST_RETRY_MS;
	if (!on)
		en->n_blocked--;
}

/*
 * May a transfer to rec's host start now? Yes when this process has room
 * for it and, across processes, a slot of the host is had (*slot: the
 * slot to give back at its end, or -1).
 */
static int
host_admit(struct engine *en, struct host_rec *rec, int *slot)
{
	*slot = -1;
	if (rec == NULL)
		return 1;
	if (rec->n >= en->per_host)
		return 0;
	if (en->ops->host_take != NULL &&
	    en->ops->host_take(en->ctx, rec->host, en->per_host, slot) == 1) {
		*slot = -1;
		host_block(en, rec, 1);
		return 0;
	}
	host_block(en, rec, 0);
	return 1;
}

/* Gives x's host slot back, if it holds one. */
static void
host_give(struct engine *en, struct host_rec *rec, int slot)
{
	if (slot >= 0 && rec != NULL && en->ops->host_give != NULL)
		en->ops->host_give(en->ctx, rec->host, slot);
}

/* Unlinks x from the list of transfers in flight. */
static void
unlink_active(struct xfer **active, struct xfer *x)
{
	struct xfer **pp;

	for (pp = active; *pp != NULL; pp = &(*pp)->next_active) {
		if (*pp == x) {
			*pp = x->next_active;
			break;
		}
	}
	x->next_active = NULL;
}

static int launch(struct engine *en, const struct tr_fetch_req *req,
                  struct host_rec *rec, int slot);

/*
 * Starts the requests waiting for rec's host while it and the engine have
 * room. A request waits only while its host is full (here, or its slots
 * held by other processes), so this is called when one of the host's
 * transfers ends, and every HOST_RETRY_MS for a blocked host.
 */
static void
start_waiting(struct engine *en, struct host_rec *rec)
{
	struct deferred *d;
	int rc, slot;

	while ((d = rec->dq) != NULL && en->in_flight < en->conc &&
	       en->err == 0 && host_admit(en, rec, &slot)) {
		if ((rec->dq = d->next) == NULL)
			rec->dq_tail = &rec->dq;
		en->n_deferred--;
		/* Things may have changed while it waited (a host hold). */
		if (en->ops->recheck == NULL ||
		    en->ops->recheck(en->ctx, &d->req) == 0) {
			if ((rc = launch(en, &d->req, rec, slot)) != 0)
				en->err = rc;
		} else {
			host_give(en, rec, slot);
		}
		free(d);
	}
	if (rec->dq == NULL)
		host_block(en, rec, 0);
}

/* Asks again for the hosts blocked by other processes, when it is time. */
static void
retry_blocked(struct engine *en)
{
	size_t i;

	if (en->n_blocked == 0 || mono_ms() < en->retry_at)
		return;
	en->retry_at = mono_ms() + HOST_RETRY_MS;
	for (i = 0; i < en->hosts.cap && en->n_blocked > 0; i++) {
		struct host_rec *rec = en->hosts.slot[i];

		if (rec != NULL && rec->blocked)
			start_waiting(en, rec);
	}
}

/* Ends x, which libcurl is done with or which is cancelled. */
static void
end_xfer(struct engine *en, struct xfer *x, CURLcode cc, int cancelled)
{
	struct host_rec *rec = x->rec;

	curl_multi_remove_handle(en->multi, x->easy);
	unlink_active(&en->active, x);
	if (rec != NULL)
		rec->n--;
	host_give(en, rec, x->slot);
	x->slot = -1;
	en->in_flight--;
	finish(x, cc, en->ctx, &en->free_list, cancelled);
	if (rec != NULL && !cancelled)
		start_waiting(en, rec);
}

/* Collects every ended transfer; returns how many ended. */
static int
collect(struct engine *en)
{
	CURLMsg *m;
	int left = 0, ended = 0;

	while ((m = curl_multi_info_read(en->multi, &left)) != NULL) {
		struct xfer *x = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
		                  (char **)&x);
		end_xfer(en, x, m->data.result, 0);
		ended++;
	}
	return ended;
}

/* Ends every transfer in flight, and every waiting one, as cancelled. */
static void
cancel_all(struct engine *en)
{
	struct tr_fetch_result r;
	struct deferred *d;
	size_t i;

	while (en->active != NULL)
		end_xfer(en, en->active, CURLE_ABORTED_BY_CALLBACK, 1);
	for (i = 0; i < en->hosts.cap; i++) {
		struct host_rec *rec = en->hosts.slot[i];

		while (rec != NULL && (d = rec->dq) != NULL) {
			rec->dq = d->next;
			memset(&r, 0, sizeof(r));
			r.url = r.effective_url = d->req.url;
			r.err = TR_EABORT;
			r.errmsg = "cancelled";
			en->ops->done(en->ctx, d->req.arg, &r);
			free(d);
		}
		if (rec != NULL) {
			rec->dq_tail = &rec->dq;
			rec->blocked = 0;
		}
	}
	en->n_deferred = 0;
	en->n_blocked = 0;
}

/* Starts req, a transfer to rec's host holding its slot (or -1); 0 or
 * TR_ENOMEM. */
static int
launch(struct engine *en, const struct tr_fetch_req *req, struct host_rec *rec,
       int slot)
{
	struct xfer *x = NULL;
	int rc;

	rc = start(&x, en->multi, &en->free_list, en->o, en->ops, en->ctx, req);
	if (rc != 0 || x == NULL) {
		host_give(en, rec, slot); /* it ended at once */
		return rc;
	}
	x->rec = rec;
	x->slot = slot;
	if (rec != NULL)
		rec->n++;
	x->next_active = en->active;
	en->active = x;
	en->in_flight++;
	return 0;
}

/* Pulls requests from next() until the slots are full; 0 or an error. */
static int
fill(struct engine *en)
{
	int rc;

	while (!en->exhausted && en->in_flight < en->conc &&
	       en->n_deferred < MAX_DEFERRED) {
		struct tr_fetch_req req;
		struct host_rec *rec = NULL;
		struct deferred *d;
		char host[HOST_KEY];
		int slot = -1;

		memset(&req, 0, sizeof(req));
		if ((rc = en->ops->next(en->ctx, &req)) != 0) {
			en->exhausted = 1;
			return rc < 0 ? rc : 0;
		}
		/* A file URL (or no host at all) has no per-host limit. */
		host[0] = '\0';
		if (strncasecmp(req.url, "file:", 5) != 0)
			tr_fetch_host(host, sizeof(host), req.url);
		if (host[0] != '\0' && (rec = host_get(en, host)) == NULL)
			return TR_ENOMEM;
		/* Behind the requests already waiting for its host. */
		if (rec == NULL || (rec->dq == NULL &&
		                    host_admit(en, rec, &slot))) {
			if ((rc = launch(en, &req, rec, slot)) != 0)
				return rc;
			continue;
		}
		if ((d = calloc(1, sizeof(*d))) == NULL)
			return TR_ENOMEM;
		d->req = req;
		*rec->dq_tail = d;
		rec->dq_tail = &d->next;
		en->n_deferred++;
	}
	return 0;
}

static int
loop(struct engine *en)
{
	int running = 0, rc = 0, r;

	for (;;) {
		if (en->o->cancel != NULL && *en->o->cancel) {
			cancel_all(en);
			break;
		}
		if ((r = fill(en)) != 0 || (r = en->err) != 0) {
			/* Stop asking; what is in flight or waiting runs on. */
			en->exhausted = 1;
			en->err = 0;
			if (rc == 0)
				rc = r;
		}
		retry_blocked(en);
		if (en->exhausted && en->in_flight == 0 && en->n_blocked == 0) {
			if (en->n_deferred == 0)
				break;
			/* Not expected (a request waits only behind a busy
			 * host), but never leave one behind. */
			for (r = 0; (size_t)r < en->hosts.cap; r++)
				if (en->hosts.slot[r] != NULL)
					start_waiting(en, en->hosts.slot[r]);
			if (en->in_flight == 0) {
				cancel_all(en);
				break;
			}
		}
		if (curl_multi_perform(en->multi, &running) != CURLM_OK) {
			if (rc == 0)
				rc = TR_EHTTP;
			cancel_all(en);
			break;
		}
		/* Slots freed: refill them at once rather than wait on the
		 * transfers still running. */
		if (collect(en) > 0)
			continue;
		/* Nothing in flight while hosts are blocked: the wait is
		 * for the other processes' transfers (curl_multi_poll waits
		 * its timeout also without a transfer). */
		if (en->in_flight > 0 || en->n_blocked > 0) {
			if (en->ops->idle != NULL)
				en->ops->idle(en->ctx);
			curl_multi_poll(en->multi, NULL, 0,
			                en->n_blocked > 0 ? HOST_RETRY_MS : 200,
			                NULL);
		}
	}
	return rc;
}

int
tr_fetch_run(const struct tr_fetch_opts *o, const struct tr_fetch_ops *ops,
             void *ctx)
{
	struct engine en;
	int rc = 0;

	memset(&en, 0, sizeof(en));
	en.o = o;
	en.ops = ops;
	en.ctx = ctx;
	en.conc = o->concurrency > 0 ? o->concurrency : 1;
	en.per_host = o->per_host > 0 ? o->per_host : 1;
	en.hosts.key_off = offsetof(struct host_rec, host);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return TR_EHTTP;
	if ((en.multi = curl_multi_init()) == NULL) {
		rc = TR_ENOMEM;
		goto out;
	}
	curl_multi_setopt(en.multi, CURLMOPT_MAX_HOST_CONNECTIONS, en.per_host);
	curl_multi_setopt(en.multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, en.conc);
	curl_multi_setopt(en.multi, CURLMOPT_MAXCONNECTS, en.conc);
	rc = loop(&en);
out:
	free_all(en.free_list);
	curl_multi_cleanup(en.multi);
	host_free_all(&en);
	curl_global_cleanup();
	return rc;
}
