/*
 * test_fetch.c — the transfer engine against the real test server
 * (tests/integration/server.py) on 127.0.0.1, with a byte-collecting
 * reader in place of the feed parser.
 */
#include "runner.h"

#include <signal.h>
#include <time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <curl/curl.h>

#include "tributary/error.h"
#include "tributary/fetch.h"
#include "tributary/hash.h"

static pid_t server_pid, inner_pid;
static int server_port, inner_port;

/* Starts server.py on host and reads "PORT N" from its first line. */
static int
server_start_at(const char *host, pid_t *pid, int *port)
{
	const char *src = getenv("TR_SRC");
	char script[4096], line[64];
	int fds[2];
	FILE *fp;

	snprintf(script, sizeof(script), "%s/tests/integration/server.py",
	         src && *src ? src : ".");
	if (pipe(fds) != 0)
		return -1;
	if ((*pid = fork()) == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execl("/usr/bin/python3", "python3", script, "--host", host,
		      (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	fp = fdopen(fds[0], "r");
	if (fp == NULL || fgets(line, sizeof(line), fp) == NULL ||
	    sscanf(line, "PORT %d", port) != 1)
		return -1;
	fclose(fp);
	return 0;
}

static int
server_start(void)
{
	return server_start_at("127.0.0.1", &server_pid, &server_port);
}

static void
server_stop(void)
{
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, NULL, 0);
	}
	if (inner_pid > 0) {
		kill(inner_pid, SIGTERM);
		waitpid(inner_pid, NULL, 0);
	}
}

/* A growing response text. */
struct text {
	char *data;
	size_t len;
};

static size_t
sink(char *p, size_t size, size_t n, void *arg)
{
	struct text *b = arg;
	size_t len = size * n;

	if (b != NULL && b->len + len < 1 << 20) {
		char *d = realloc(b->data, b->len + len + 1);

		if (d == NULL)
			return 0;
		memcpy(d + b->len, p, len);
		b->data = d;
		b->len += len;
		d[b->len] = '\0';
	}
	return len;
}

/* POSTs body to path on the server at host:port; returns the status. */
static long
post_at(const char *host, int port, const char *path, const char *body,
        struct text *resp)
{
	CURL *e = curl_easy_init();
	char url[256];
	long code = 0;

	snprintf(url, sizeof(url), "http://%s:%d%s", host, port, path);
	curl_easy_setopt(e, CURLOPT_URL, url);
	if (body != NULL)
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, resp);
	if (curl_easy_perform(e) == CURLE_OK)
		curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_cleanup(e);
	return code;
}

static long
post(const char *path, const char *body, struct text *resp)
{
	return post_at("127.0.0.1", server_port, path, body, resp);
}

static void
route(const char *json)
{
	CHECK_INT(post("/_control", json, NULL), 200);
}

/* The server's request log as JSON text (caller frees data). */
static char *
requests(void)
{
	struct text b = {NULL, 0};

	post("/_requests", NULL, &b);
	return b.data;
}

/* --- a reader that keeps what it gets --- */

struct got {
	struct tr_fetch_result r; /* copied scalars */
	int done;
	int started;
	char body[8192];
	size_t len;
	char errmsg[512];
	char etag[64];
	char ctype[128];
	char permanent[256];
	char effective[256];
	char retry_after[64];
};

struct run {
	const char **urls;
	size_t n, next;
	struct got *got;
	int in_flight, max_in_flight;
	const char *etag;
	int stop_after; /* body() returns 1 once this many bytes came */
	int moved;	/* requests are of URLs a feed moved to */
};

static int
next_cb(void *ctx, struct tr_fetch_req *req)
{
	struct run *r = ctx;

	if (r->next >= r->n)
		return 1;
	req->url = r->urls[r->next];
	req->user_agent = "tributary-test/1";
	req->etag = r->etag;
	req->moved = r->moved;
	req->arg = &r->got[r->next];
	r->next++;
	r->in_flight++;
	if (r->in_flight > r->max_in_flight)
		r->max_in_flight = r->in_flight;
	return 0;
}

static int
body_start_cb(void *arg, const struct tr_fetch_result *res)
{
	struct got *g = arg;

	g->started++;
	CHECK(res->effective_url != NULL);
	return 0;
}

static int
body_cb(void *arg, const void *buf, size_t len)
{
	struct got *g = arg;
	size_t room = sizeof(g->body) - 1 - g->len;

	memcpy(g->body + g->len, buf, len < room ? len : room);
	g->len += len < room ? len : room;
	g->body[g->len] = '\0';
	return 0;
}

static void
copy(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

static void
done_cb(void *ctx, void *arg, const struct tr_fetch_result *res)
{
	struct run *r = ctx;
	struct got *g = arg;

	r->in_flight--;
	g->done++;
	g->r = *res;
	copy(g->errmsg, sizeof(g->errmsg), res->errmsg);
	copy(g->etag, sizeof(g->etag), res->etag);
	copy(g->ctype, sizeof(g->ctype), res->content_type);
	copy(g->permanent, sizeof(g->permanent), res->permanent_url);
	copy(g->effective, sizeof(g->effective), res->effective_url);
	copy(g->retry_after, sizeof(g->retry_after), res->retry_after);
}

static const struct tr_fetch_ops ops = {.next = next_cb,
                                        .body_start = body_start_cb,
                                        .body = body_cb,
                                        .done = done_cb};

static void
default_opts(struct tr_fetch_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->concurrency = 4;
	o->per_host = 2;
	o->connect_timeout = 5;
	o->timeout = 10;
	o->low_speed_limit = 1;
	o->low_speed_time = 10;
	o->max_redirects = 5;
	o->max_body = 64 * 1024;
}

/* Fetches one path with o; fills *g. */
static void
fetch_one(struct got *g, const struct tr_fetch_opts *o, const char *path,
          const char *etag)
{
	char url[256];
	const char *urls[1] = {url};
	struct run r;

	memset(g, 0, sizeof(*g));
	memset(&r, 0, sizeof(r));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", server_port, path);
	r.urls = urls;
	r.n = 1;
	r.got = g;
	r.etag = etag;
	CHECK_INT(tr_fetch_run(o, &ops, &r), 0);
	CHECK_INT(g->done, 1);
}

static char *
url_of(const char *path)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "http://127.0.0.1:%d%s", server_port, path);
	return buf;
}

static void
test_200_body_headers_and_hash(void)
{
	struct tr_fetch_opts o;
	struct got g;
	char *log;
	const char *body = "<rss><channel><title>t</title></channel></rss>";

	default_opts(&o);
	route("{\"path\": \"/ok.xml\", \"body\": \"<rss><channel><title>t"
	      "</title></channel></rss>\", \"etag\": \"\\\"v1\\\"\", "
	      "\"content_type\": \"application/rss+xml; charset=iso-8859-1\"}");
	fetch_one(&g, &o, "/ok.xml", NULL);
	CHECK_INT(g.r.err, 0);
	CHECK_INT(g.r.status, 200);
	CHECK_INT(g.started, 1);
	CHECK_STR(g.body, body);
	CHECK_INT(g.r.bytes, (long long)strlen(body));
	{
		struct tr_sum sum;

		tr_sum_init(&sum);
		tr_sum_add(&sum, body, strlen(body));
		CHECK(g.r.body_hash == tr_sum_value(&sum));
	}
	CHECK_STR(g.etag, "\"v1\"");
	CHECK_STR(g.ctype, "application/rss+xml; charset=iso-8859-1");
	CHECK_STR(g.permanent, "");
	/* What the server saw. */
	log = requests();
	CHECK(log != NULL && strstr(log, "\"user-agent\": "
	                                 "\"tributary-test/1\"") != NULL);
	CHECK(log != NULL && strstr(log, "application/atom+xml, "
	                                 "application/rss+xml") != NULL);
	CHECK(log != NULL && strstr(log, "\"accept-encoding\": ") != NULL);
	CHECK(log != NULL && strstr(log, "gzip") != NULL);
	free(log);
}

static void
test_304_with_validator(void)
{
	struct tr_fetch_opts o;
	struct got g;
	char *log;

	default_opts(&o);
	route("{\"path\": \"/cond.xml\", \"body\": \"<rss/>\", "
	      "\"etag\": \"\\\"abc\\\"\"}");
	fetch_one(&g, &o, "/cond.xml", "\"abc\"");
	CHECK_INT(g.r.err, 0);
	CHECK_INT(g.r.status, 304);
	CHECK_INT(g.started, 0);
	CHECK_INT(g.r.bytes, 0);
	log = requests();
	CHECK(log != NULL &&
	      strstr(log, "\"if-none-match\": \"\\\"abc\\\"\"") != NULL);
	free(log);
}

static void
test_redirects_permanent_or_not(void)
{
	struct tr_fetch_opts o;
	struct got g;
	char want[256];

	default_opts(&o);
	route("{\"path\": \"/final.xml\", \"body\": \"<rss/>\"}");
	route("{\"path\": \"/p1\", \"redirect\": [301, \"/p2\"]}");
	route("{\"path\": \"/p2\", \"redirect\": [308, \"/final.xml\"]}");
	route("{\"path\": \"/t1\", \"redirect\": [301, \"/t2\"]}");
	route("{\"path\": \"/t2\", \"redirect\": [302, \"/final.xml\"]}");
	route("{\"path\": \"/t3\", \"redirect\": [307, \"/final.xml\"]}");
	snprintf(want, sizeof(want), "%s", url_of("/final.xml"));

	fetch_one(&g, &o, "/p1", NULL);
	CHECK_INT(g.r.status, 200);
	CHECK_INT(g.r.redirects, 2);
	CHECK_STR(g.permanent, want);
	CHECK_STR(g.effective, want);

	fetch_one(&g, &o, "/t1", NULL);
	CHECK_INT(g.r.status, 200);
	CHECK_INT(g.r.redirects, 2);
	CHECK_STR(g.permanent, ""); /* one hop was temporary */
	CHECK_STR(g.effective, want);

	fetch_one(&g, &o, "/t3", NULL);
	CHECK_INT(g.r.status, 200);
	CHECK_STR(g.permanent, "");
	CHECK_STR(g.body, "<rss/>");
}

static void
test_redirect_loop_and_file_refused(void)
{
	struct tr_fetch_opts o;
	struct got g;

	default_opts(&o);
	route("{\"path\": \"/loop\", \"redirect\": [302, \"/loop\"]}");
	route("{\"path\": \"/tofile\", \"redirect\": [301, "
	      "\"file:///etc/passwd\"]}");
	fetch_one(&g, &o, "/loop", NULL);
	CHECK_INT(g.r.err, TR_EHTTP);
	CHECK(strstr(g.errmsg, "redirects") != NULL);
	CHECK_INT(g.started, 0);

	fetch_one(&g, &o, "/tofile", NULL);
	CHECK_INT(g.r.err, TR_EHTTP);
	CHECK(strstr(g.errmsg, "file:///etc/passwd refused") != NULL);
	CHECK_INT(g.started, 0);
	CHECK_INT(g.len, 0);
}

static void
test_too_large(void)
{
	struct tr_fetch_opts o;
	struct got g;

	default_opts(&o);
	o.max_body = 4096;
	/* An endless chunked body: the running count stops it. */
	route("{\"path\": \"/endless\", \"endless\": true}");
	fetch_one(&g, &o, "/endless", NULL);
	CHECK_INT(g.r.err, TR_ETOOBIG);
	CHECK(strstr(g.errmsg, "too large") != NULL);
	CHECK(g.r.bytes > 4096);
	/* A declared Content-Length over the cap. */
	route("{\"path\": \"/declared\", \"body\": \"x\", "
	      "\"extra_length\": 100000}");
	fetch_one(&g, &o, "/declared", NULL);
	CHECK_INT(g.r.err, TR_ETOOBIG);
	CHECK_INT(g.started, 0);
}

static void
test_truncated_and_refused(void)
{
	struct tr_fetch_opts o;
	struct got g;

	default_opts(&o);
	route("{\"path\": \"/cut\", \"body\": \"<rss><channel><item>"
	      "</item></channel></rss>\", \"truncate\": 10}");
	fetch_one(&g, &o, "/cut", NULL);
	CHECK_INT(g.r.err, TR_EHTTP);
	CHECK(strstr(g.errmsg, "closed") != NULL ||
	      strstr(g.errmsg, "remaining") != NULL);

	/* Port 1 on 127.0.0.1: nobody listens. */
	memset(&g, 0, sizeof(g));
	{
		const char *urls[1] = {"http://127.0.0.1:1/feed.xml"};
		struct run r;

		memset(&r, 0, sizeof(r));
		r.urls = urls;
		r.n = 1;
		r.got = &g;
		CHECK_INT(tr_fetch_run(&o, &ops, &r), 0);
		CHECK_INT(g.done, 1);
		CHECK_INT(g.r.err, TR_EHTTP);
		CHECK_INT(g.r.status, 0);
		CHECK(strstr(g.errmsg, "onnect") != NULL);
	}
}

static void
test_error_status_and_retry_after(void)
{
	struct tr_fetch_opts o;
	struct got g;

	default_opts(&o);
	route("{\"path\": \"/busy\", \"status\": 503, \"retry_after\": "
	      "\"120\", \"body\": \"<html>busy</html>\"}");
	fetch_one(&g, &o, "/busy", NULL);
	CHECK_INT(g.r.err, 0);
	CHECK_INT(g.r.status, 503);
	CHECK_STR(g.retry_after, "120");
	CHECK_INT(g.started, 0); /* error bodies are not delivered */
	CHECK_INT(g.len, 0);
	/* An endless error body is hung up on, not read to the cap. */
	route("{\"path\": \"/busy2\", \"status\": 500, \"endless\": true}");
	fetch_one(&g, &o, "/busy2", NULL);
	CHECK_INT(g.r.err, 0);
	CHECK_INT(g.r.status, 500);
}

static void
test_gzip_decoded(void)
{
	struct tr_fetch_opts o;
	struct got g;

	default_opts(&o);
	route("{\"path\": \"/gz\", \"body\": \"<rss>zipped</rss>\", "
	      "\"gzip\": true}");
	fetch_one(&g, &o, "/gz", NULL);
	CHECK_INT(g.r.err, 0);
	CHECK_STR(g.body, "<rss>zipped</rss>");
	route("{\"path\": \"/badgz\", \"body\": \"<rss>plain</rss>\", "
	      "\"bad_gzip\": true}");
	fetch_one(&g, &o, "/badgz", NULL);
	CHECK_INT(g.r.err, TR_EHTTP);
	CHECK(g.errmsg[0] != '\0');
}

static double
mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs 24 requests of 0.1 s each; returns the wall time. */
static double
run_slow_round(const struct tr_fetch_opts *o, struct run *r, struct got *g)
{
	static char urls_buf[24][128];
	static const char *urls[24];
	double t0;
	size_t i;

	route("{\"path\": \"/slow\", \"body\": \"<rss/>\", \"delay\": 0.1}");
	for (i = 0; i < 24; i++) {
		snprintf(urls_buf[i], sizeof(urls_buf[i]),
		         "http://127.0.0.1:%d/slow?%zu", server_port, i);
		urls[i] = urls_buf[i];
	}
	memset(g, 0, 24 * sizeof(*g));
	memset(r, 0, sizeof(*r));
	r->urls = urls;
	r->n = 24;
	r->got = g;
	t0 = mono();
	CHECK_INT(tr_fetch_run(o, &ops, r), 0);
	for (i = 0; i < 24; i++) {
		CHECK_INT(g[i].done, 1);
		CHECK_INT(g[i].r.status, 200);
		CHECK_STR(g[i].errmsg, "");
	}
	CHECK_INT(r->in_flight, 0);
	return mono() - t0;
}

static void
test_concurrency_bounded(void)
{
	struct tr_fetch_opts o;
	struct got g[24];
	struct run r;
	double t;

	/* 5 at once: 5 waves of 0.1 s at least, far less than 24. */
	default_opts(&o);
	o.concurrency = 5;
	o.per_host = 8;
	t = run_slow_round(&o, &r, g);
	CHECK(t >= 0.45);
	CHECK(t < 2.0); /* one at a time would take 2.4 s */
	CHECK_INT(r.max_in_flight, 5);
}

static void
test_per_host_bounded_without_timeouts(void)
{
	struct tr_fetch_opts o;
	struct got g[24];
	struct run r;
	double t;

	/*
	 * 2 per host: 12 waves, 1.2 s, longer than the 1 s timeout of each
	 * transfer. None times out: waiting for the host is not counted.
	 */
	default_opts(&o);
	o.concurrency = 5;
	o.per_host = 2;
	o.timeout = 1;
	t = run_slow_round(&o, &r, g);
	CHECK(t >= 1.15);
}

static int rechecked;

/* Drops the second request when it comes back from waiting. */
static int
recheck_cb(void *ctx, const struct tr_fetch_req *req)
{
	struct run *r = ctx;

	rechecked++;
	if (req->arg == &r->got[1]) {
		r->in_flight--; /* it ends here, as the caller decided */
		return 1;
	}
	return 0;
}

static void
test_waiting_requests_are_rechecked(void)
{
	static const struct tr_fetch_ops rops = {.next = next_cb,
	                                         .body = body_cb,
	                                         .recheck = recheck_cb,
	                                         .done = done_cb};
	struct tr_fetch_opts o;
	struct got g[3];
	char urls_buf[3][128];
	const char *urls[3];
	struct run r;
	size_t i;

	default_opts(&o);
	o.concurrency = 4;
	o.per_host = 1; /* the 2nd and 3rd wait for the 1st */
	route("{\"path\": \"/one\", \"body\": \"<rss/>\", \"delay\": 0.1}");
	for (i = 0; i < 3; i++) {
		snprintf(urls_buf[i], sizeof(urls_buf[i]),
		         "http://127.0.0.1:%d/one?%zu", server_port, i);
		urls[i] = urls_buf[i];
	}
	memset(g, 0, sizeof(g));
	memset(&r, 0, sizeof(r));
	r.urls = urls;
	r.n = 3;
	r.got = g;
	rechecked = 0;
	CHECK_INT(tr_fetch_run(&o, &rops, &r), 0);
	CHECK_INT(rechecked, 2);
	CHECK_INT(g[0].done, 1);
	CHECK_INT(g[1].done, 0); /* dropped by recheck: no done() */
	CHECK_INT(g[2].done, 1);
	CHECK_STR(g[2].body, "<rss/>");
	CHECK_INT(r.in_flight, 0);
}

/*
 * Host slots across processes (fetch.h: host_take): a pool of per_host
 * slots of which other processes hold all until release_at (or for ever,
 * with cancel_after set: the round is cancelled while it waits).
 */
static struct pool {
	double release_at;
	int mine, max_mine, refused, granted, given;
	unsigned bits; /* the slots held */
	int cancel_after; /* refusals after which cancel_flag is set */
} pool;

static volatile int cancel_flag;

static int
pool_take(void *ctx, const char *host, long limit, int *slot)
{
	(void)ctx;
	CHECK(strncmp(host, "127.0.0.1:", 10) == 0);
	if (mono() < pool.release_at || pool.mine >= limit) {
		pool.refused++;
		if (pool.cancel_after && pool.refused >= pool.cancel_after)
			cancel_flag = 1;
		return 1;
	}
	for (*slot = 0; pool.bits & (1u << *slot); ++*slot)
		;
	pool.bits |= 1u << *slot;
	pool.mine++;
	if (pool.mine > pool.max_mine)
		pool.max_mine = pool.mine;
	pool.granted++;
	return 0;
}

static void
pool_give(void *ctx, const char *host, int slot)
{
	(void)ctx;
	(void)host;
	CHECK(slot >= 0 && slot < 32 && (pool.bits & (1u << slot)));
	pool.bits &= ~(1u << slot);
	pool.mine--;
	pool.given++;
}

static const struct tr_fetch_ops pool_ops = {.next = next_cb,
                                             .body = body_cb,
                                             .host_take = pool_take,
                                             .host_give = pool_give,
                                             .done = done_cb};

/* Six requests of one host with the pool as it is; returns the time. */
static double
pool_round(const struct tr_fetch_opts *o, struct got *g)
{
	static char urls_buf[6][128];
	static const char *urls[6];
	struct run r;
	double t0;
	size_t i;

	for (i = 0; i < 6; i++) {
		snprintf(urls_buf[i], sizeof(urls_buf[i]),
		         "http://127.0.0.1:%d/pool?%zu", server_port, i);
		urls[i] = urls_buf[i];
	}
	memset(g, 0, 6 * sizeof(*g));
	memset(&r, 0, sizeof(r));
	r.urls = urls;
	r.n = 6;
	r.got = g;
	t0 = mono();
	CHECK_INT(tr_fetch_run(o, &pool_ops, &r), 0);
	CHECK_INT(r.in_flight, 0);
	return mono() - t0;
}

/*
 * While other processes hold the host's slots, its requests wait (none
 * fails, none times out: the wait is longer than the transfer timeout),
 * asked about again now and then, not in a busy loop; then they run, at
 * most per_host at once, and every slot taken is given back.
 */
static void
test_host_slots_wait(void)
{
	struct tr_fetch_opts o;
	struct got g[6];
	double t;
	size_t i;

	default_opts(&o);
	o.concurrency = 4;
	o.per_host = 2;
	o.timeout = 1;
	route("{\"path\": \"/pool\", \"body\": \"<rss/>\", "
	      "\"delay\": 0.05}");
	memset(&pool, 0, sizeof(pool));
	pool.release_at = mono() + 1.2;
	t = pool_round(&o, g);
	for (i = 0; i < 6; i++) {
		CHECK_INT(g[i].done, 1);
		CHECK_INT(g[i].r.err, 0);
		CHECK_INT(g[i].r.status, 200);
	}
	CHECK(t >= 1.2);
	CHECK(t < 5.0);
	CHECK_INT(pool.granted, 6);
	CHECK_INT(pool.given, 6);
	CHECK_INT(pool.mine, 0);
	CHECK_INT(pool.max_mine, 2);
	/* About every 100 ms for 1.2 s (and when a transfer ends). */
	CHECK(pool.refused >= 6);
	CHECK(pool.refused <= 40);
}

/* A round that waits for a host still stops when cancelled. */
static void
test_host_slots_cancelled(void)
{
	struct tr_fetch_opts o;
	struct got g[6];
	size_t i;

	default_opts(&o);
	o.cancel = &cancel_flag;
	memset(&pool, 0, sizeof(pool));
	pool.release_at = mono() + 3600;
	pool.cancel_after = 3;
	cancel_flag = 0;
	pool_round(&o, g);
	for (i = 0; i < 6; i++) {
		CHECK_INT(g[i].done, 1);
		CHECK_INT(g[i].r.err, TR_EABORT);
	}
	CHECK_INT(pool.granted, 0);
	cancel_flag = 0;
}

static int
cancel_body_cb(void *arg, const void *buf, size_t len)
{
	(void)arg;
	(void)buf;
	(void)len;
	cancel_flag = 1; /* as a signal handler would */
	return 0;
}

static void
test_cancel_ends_everything(void)
{
	static const struct tr_fetch_ops cops = {
	    .next = next_cb, .body = cancel_body_cb, .done = done_cb};
	struct tr_fetch_opts o;
	struct got g[3];
	char urls_buf[3][128];
	const char *urls[3];
	struct run r;
	size_t i;

	default_opts(&o);
	o.cancel = &cancel_flag;
	route("{\"path\": \"/drip\", \"body\": \"<rss></rss>\", "
	      "\"dribble\": 0.5}");
	route("{\"path\": \"/hang\", \"no_answer\": true}");
	for (i = 0; i < 3; i++) {
		snprintf(urls_buf[i], sizeof(urls_buf[i]),
		         "http://127.0.0.1:%d/%s?%zu", server_port,
		         i == 0 ? "drip" : "hang", i);
		urls[i] = urls_buf[i];
	}
	memset(g, 0, sizeof(g));
	memset(&r, 0, sizeof(r));
	r.urls = urls;
	r.n = 3;
	r.got = g;
	CHECK_INT(tr_fetch_run(&o, &cops, &r), 0);
	for (i = 0; i < 3; i++) {
		CHECK_INT(g[i].done, 1);
		CHECK_INT(g[i].r.err, TR_EABORT);
		CHECK_STR(g[i].errmsg, "cancelled");
	}
}

/* Addresses a redirect may not lead to, in the forms a URL may use. */
static const struct {
	const char *addr, *want; /* want NULL: public */
} addr_table[] = {
    {"127.0.0.1", "loopback"},
    {"127.0.0.2", "loopback"},
    {"127.255.255.254", "loopback"},
    {"2130706433", "loopback"}, /* 127.0.0.1 as one number */
    {"0x7f.1", "loopback"},
    {"0x7f000001", "loopback"},
    {"0177.0.0.1", "loopback"},
    {"127.1", "loopback"},
    {"::1", "loopback"},
    {"[::1]", "loopback"},
    {"::ffff:127.0.0.1", "loopback"},
    {"[::ffff:127.0.0.1]", "loopback"},
    {"::ffff:7f00:1", "loopback"},
    {"::127.0.0.1", "loopback"},	 /* IPv4-compatible */
    {"64:ff9b::127.0.0.1", "loopback"}, /* NAT64 */
    {"2002:7f00:1::", "loopback"},	 /* 6to4 */
    {"10.0.0.1", "private"},
    {"10.255.255.255", "private"},
    {"172.16.0.1", "private"},
    {"172.31.255.255", "private"},
    {"192.168.1.1", "private"},
    {"::ffff:192.168.1.1", "private"},
    {"::ffff:10.1.2.3", "private"},
    {"169.254.169.254", "link-local"}, /* cloud metadata */
    {"169.254.0.1", "link-local"},
    {"fe80::1", "link-local"},
    {"[fe80::1%25eth0]", "link-local"},
    {"fe80::1%eth0", "link-local"},
    {"febf::1", "link-local"},
    {"fc00::1", "unique local"},
    {"fd12:3456::1", "unique local"},
    {"fec0::1", "private"},
    {"0.0.0.0", "unspecified"},
    {"0", "unspecified"},
    {"0.1.2.3", "unspecified"},
    {"::", "unspecified"},
    {"[::]", "unspecified"},
    {"100.64.0.1", "shared (carrier-grade NAT)"},
    {"224.0.0.1", "multicast"},
    {"ff02::1", "multicast"},
    {"255.255.255.255", "reserved"},
    {"240.0.0.1", "reserved"},
    {"198.18.0.1", "benchmarking"},
    {"192.0.2.1", "documentation"},
    {"2001:db8::1", "documentation"},
    {"localhost", "not an IP address"},
    {"", "not an IP address"},
    {"1.2.3.4 x", "not an IP address"},
    /* Public. */
    {"8.8.8.8", NULL},
    {"1.1.1.1", NULL},
    {"172.15.255.255", NULL},
    {"172.32.0.1", NULL},
    {"192.169.0.1", NULL},
    {"169.253.255.255", NULL},
    {"100.128.0.1", NULL},
    {"11.0.0.1", NULL},
    {"2001:4860:4860::8888", NULL},
    {"[2606:4700::1111]", NULL},
    {"::ffff:8.8.8.8", NULL},
    {"fbff::1", NULL},
};

static void
test_addr_class(void)
{
	size_t i;

	for (i = 0; i < sizeof(addr_table) / sizeof(addr_table[0]); i++)
		CHECK_STR_CASE(addr_table[i].addr,
		               tr_fetch_addr_class(addr_table[i].addr),
		               addr_table[i].want);
	CHECK_STR(tr_fetch_addr_class(NULL), "not an IP address");
}

/*
 * A feed configured at 127.0.0.1 is trusted; its redirect to 127.0.0.2
 * (loopback, another address), in every form a Location may write it,
 * is refused before any request reaches 127.0.0.2, unless
 * allow_private_redirects; a redirect to its own address is followed.
 */
static void
test_redirect_to_internal_address(void)
{
	static const char *const forms[] = {
	    "127.0.0.2", "2130706434", "0x7f.2", "127.2", "0177.0.0.2",
	    "[::ffff:127.0.0.2]"};
	struct tr_fetch_opts o;
	struct got g;
	struct text log = {NULL, 0};
	char json[512];
	size_t i;

	if (inner_pid == 0)
		CHECK_INT(server_start_at("127.0.0.2", &inner_pid, &inner_port),
		          0);
	CHECK_INT(post_at("127.0.0.2", inner_port, "/_control",
	                  "{\"path\": \"/inside.xml\", \"body\": \"<rss/>\"}",
	                  NULL),
	          200);
	default_opts(&o);
	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		snprintf(json, sizeof(json),
		         "{\"path\": \"/out%zu\", \"redirect\": [301, "
		         "\"http://%s:%d/inside.xml?token=s3cret\"]}",
		         i, forms[i], inner_port);
		route(json);
		snprintf(json, sizeof(json), "/out%zu", i);
		o.allow_private_redirects = 0;
		fetch_one(&g, &o, json, NULL);
		CHECK_INT(g.r.err, TR_EHTTP);
		CHECK_INT(g.started, 0);
		CHECK_STR(g.permanent, "");
		CHECK(strstr(g.errmsg, "refused: it leads to a loopback "
		                       "address") != NULL);
		CHECK(strstr(g.errmsg, "allow_private_redirects") != NULL);
		CHECK(strstr(g.errmsg, "s3cret") == NULL);
		if (strstr(g.errmsg, "loopback") == NULL)
			printf("  [%s] %s\n", forms[i], g.errmsg);
		/* Allowed: followed, and a 301 moves the feed. */
		o.allow_private_redirects = 1;
		fetch_one(&g, &o, json, NULL);
		CHECK_INT(g.r.err, 0);
		CHECK_INT(g.r.status, 200);
		CHECK_STR(g.body, "<rss/>");
	}
	/* The refused hops never reached 127.0.0.2: only the allowed ones. */
	post_at("127.0.0.2", inner_port, "/_requests", NULL, &log);
	{
		size_t n = 0;
		const char *p = log.data;

		while (p && (p = strstr(p, "/inside.xml")) != NULL) {
			n++;
			p++;
		}
		CHECK_INT(n, sizeof(forms) / sizeof(forms[0]));
	}
	free(log.data);
	/* Within the configured address itself: followed. */
	o.allow_private_redirects = 0;
	route("{\"path\": \"/self.xml\", \"body\": \"<rss/>\"}");
	snprintf(json, sizeof(json),
	         "{\"path\": \"/toself\", \"redirect\": [302, "
	         "\"http://127.0.0.1:%d/self.xml\"]}", server_port);
	route(json);
	fetch_one(&g, &o, "/toself", NULL);
	CHECK_INT(g.r.err, 0);
	CHECK_STR(g.body, "<rss/>");
}

/*
 * A URL the feed moved to on another host is not trusted: its very first
 * hop is checked, so a name that came to resolve to an internal address
 * is refused before any request; allow_private_redirects lifts it.
 */
static void
test_moved_url_is_not_trusted(void)
{
	static const struct {
		const char *a, *b;
		int same;
	} hosts[] = {
	    {"http://a.example/x", "https://A.EXAMPLE:8443/y", 1},
	    {"http://127.0.0.1:1/x", "http://127.0.0.1:2/y", 1},
	    {"http://[::1]/x", "http://[::1]:8080/", 1},
	    {"http://a.example/x", "http://b.example/x", 0},
	    {"http://127.0.0.1/x", "http://127.0.0.2/x", 0},
	    {"http://a.example/x", "not a url", 0},
	    {"not a url", "not a url", 0},
	};
	struct tr_fetch_opts o;
	struct got g;
	char url[128];
	const char *urls[1] = {url};
	struct run r;
	size_t i;

	for (i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		CHECK_STR_CASE(hosts[i].b,
		               tr_fetch_same_host(hosts[i].a, hosts[i].b) ? "same"
		                                                          : "other",
		               hosts[i].same ? "same" : "other");
	if (inner_pid == 0)
		CHECK_INT(server_start_at("127.0.0.2", &inner_pid, &inner_port),
		          0);
	CHECK_INT(post_at("127.0.0.2", inner_port, "/_control",
	                  "{\"path\": \"/moved.xml\", \"body\": \"<rss/>\"}",
	                  NULL),
	          200);
	snprintf(url, sizeof(url), "http://127.0.0.2:%d/moved.xml?key=s3cret",
	         inner_port);
	default_opts(&o);
	for (i = 0; i < 2; i++) {
		memset(&g, 0, sizeof(g));
		memset(&r, 0, sizeof(r));
		r.urls = urls;
		r.n = 1;
		r.got = &g;
		r.moved = 1;
		o.allow_private_redirects = (int)i;
		CHECK_INT(tr_fetch_run(&o, &ops, &r), 0);
		CHECK_INT(g.done, 1);
		if (i == 0) {
			CHECK_INT(g.r.err, TR_EHTTP);
			CHECK_INT(g.started, 0);
			CHECK(strstr(g.errmsg, "the address the feed moved to "
			                       "http://127.0.0.2:") != NULL);
			CHECK(strstr(g.errmsg, "loopback address") != NULL);
			CHECK(strstr(g.errmsg, "s3cret") == NULL);
		} else {
			CHECK_INT(g.r.err, 0);
			CHECK_STR(g.body, "<rss/>");
		}
	}
}

static void
test_host_key(void)
{
	char h[128];

	tr_fetch_host(h, sizeof(h), "http://Example.ORG/feed");
	CHECK_STR(h, "example.org:80");
	tr_fetch_host(h, sizeof(h), "https://example.org:8443/x?y");
	CHECK_STR(h, "example.org:8443");
	tr_fetch_host(h, sizeof(h), "https://example.org/");
	CHECK_STR(h, "example.org:443");
	tr_fetch_host(h, sizeof(h), "not a url");
	CHECK_STR(h, "");
}

static void
test_start_server(void)
{
	CHECK_INT(server_start(), 0);
	CHECK(server_port > 0);
}

static void
test_stop_server(void)
{
	server_stop();
}

TR_TESTS(test_start_server, test_addr_class,
         test_redirect_to_internal_address, test_moved_url_is_not_trusted,
         test_host_key, test_200_body_headers_and_hash,
         test_304_with_validator, test_redirects_permanent_or_not,
         test_redirect_loop_and_file_refused, test_too_large,
         test_truncated_and_refused, test_error_status_and_retry_after,
         test_gzip_decoded, test_concurrency_bounded,
         test_per_host_bounded_without_timeouts,
         test_waiting_requests_are_rechecked, test_host_slots_wait,
         test_host_slots_cancelled, test_cancel_ends_everything,
         test_stop_server)
