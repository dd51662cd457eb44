/*
 * test_http.c — the endpoint's request handling as plain functions:
 * routes, query parameters, validators, gzip, the body cache (with a fake
 * document source that counts its calls), and the real store and
 * renderers behind tr_http_handle(). No sockets: tests/integration/
 * test_serve.py drives the running server.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "http_int.h"
#include "runner.h"
#include "tributary/article.h"
#include "tributary/date.h"
#include "tributary/error.h"
#include "tributary/render.h"
#include "tributary/store.h"
#include "test_store_util.h"

/* ---- helpers ---- */

static struct tr_config *
load_cfg(const char *text)
{
	char path[] = "/tmp/tr-http-conf-XXXXXX";
	struct tr_config *cfg = NULL;
	char *errors = NULL;
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");

	fputs(text, fp);
	fclose(fp);
	if (tr_config_load(&cfg, &errors, path) != 0)
		printf("  config: %s\n", errors ? errors : "?");
	free(errors);
	unlink(path);
	return cfg;
}

static const char conf[] = "[tributary]\n"
                           "database = /nonexistent/x.db\n"
                           "title = Planet Test\n"
                           "base_url = http://planet.test/\n"
                           "[feed \"alpha\"]\n"
                           "url = http://127.0.0.1:1/a.xml\n"
                           "tags = world, tech\n"
                           "[feed \"beta\"]\n"
                           "url = http://127.0.0.1:1/b.xml\n"
                           "title = Beta Blog\n";

/* A request with up to 8 query arguments "k=v" (NULL value: "k"). */
struct req {
	struct tr_http_request r;
	struct tr_http_arg args[8];
};

static void
req_init(struct req *q, enum tr_http_method m, const char *path)
{
	memset(q, 0, sizeof(*q));
	q->r.method = m;
	q->r.path = path;
	q->r.args = q->args;
	q->r.now = 1800000000;
}

static void
req_arg(struct req *q, const char *k, const char *v)
{
	struct tr_http_arg *a = &q->args[q->r.n_args++];

	a->key = k;
	a->key_len = strlen(k);
	a->value = v;
	a->value_len = v ? strlen(v) : 0;
}

/* Inflates a gzip body; returns malloc'ed text or NULL. */
static char *
gunzip(const char *in, size_t n)
{
	z_stream z;
	size_t cap = 1 << 20;
	char *out = calloc(1, cap);
	int rc;

	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK)
		return NULL;
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	z.next_out = (Bytef *)out;
	z.avail_out = (uInt)cap - 1;
	rc = inflate(&z, Z_FINISH);
	inflateEnd(&z);
	if (rc != Z_STREAM_END) {
		free(out);
		return NULL;
	}
	return out;
}

/* ---- a fake source that counts what the server asks of it ---- */

static struct fake {
	int opens, closes, gens, dues, renders;
	int64_t gen, changed_at, next_due;
	int fail_gen;  /* generation() fails */
	int render_rc; /* what render() returns */
	int tiny;      /* render() writes a few bytes only */
	char last_query[512];
	char last_self[512];
} fk;

static pthread_mutex_t fake_mu = PTHREAD_MUTEX_INITIALIZER;

static int
fake_open(void **h, const char *db)
{
	(void)db;
	__atomic_add_fetch(&fk.opens, 1, __ATOMIC_RELAXED);
	*h = &fk;
	return 0;
}

static void
fake_close(void *h)
{
	(void)h;
	__atomic_add_fetch(&fk.closes, 1, __ATOMIC_RELAXED);
}

static int
fake_generation(void *h, int64_t *gen, int64_t *changed_at)
{
	(void)h;
	__atomic_add_fetch(&fk.gens, 1, __ATOMIC_RELAXED);
	if (fk.fail_gen)
		return TR_ESTORE;
	*gen = __atomic_load_n(&fk.gen, __ATOMIC_SEQ_CST);
	*changed_at = fk.changed_at;
	return 0;
}

static int
fake_next_due(void *h, int64_t *when)
{
	(void)h;
	__atomic_add_fetch(&fk.dues, 1, __ATOMIC_RELAXED);
	*when = fk.next_due;
	return 0;
}

static int
fake_render(void *h, struct tr_http_render_req *rr)
{
	struct tr_buf q;
	int i;

	(void)h;
	__atomic_add_fetch(&fk.renders, 1, __ATOMIC_RELAXED);
	if (fk.render_rc != 0) {
		snprintf(rr->why, sizeof(rr->why), "fake says no");
		return fk.render_rc;
	}
	tr_buf_init(&q, 4096);
	tr_http_params_query(&q, rr->params, NULL);
	pthread_mutex_lock(&fake_mu);
	snprintf(fk.last_query, sizeof(fk.last_query), "%s", tr_buf_str(&q));
	snprintf(fk.last_self, sizeof(fk.last_self), "%s%s", rr->base_url,
	         rr->path);
	pthread_mutex_unlock(&fake_mu);
	tr_buf_free(&q);
	if (fk.tiny)
		return tr_buf_adds(rr->out, "x");
	/* Repetitive text, so gzip has something to do. */
	tr_buf_printf(rr->out, "<doc gen=\"%lld\" path=\"%s\">",
	              (long long)__atomic_load_n(&fk.gen, __ATOMIC_SEQ_CST),
	              rr->path);
	for (i = 0; i < 50; i++)
		tr_buf_printf(rr->out, "<item n=\"%d\">lorem ipsum</item>", i);
	tr_buf_adds(rr->out, "</doc>");
	return 0;
}

static const struct tr_http_source fake_source = {
    fake_open, fake_close, fake_generation, fake_next_due, fake_render, NULL,
};

static struct tr_http *
fake_server(const struct tr_config *cfg, const struct tr_http_opts *o)
{
	struct tr_http *srv = NULL;

	memset(&fk, 0, sizeof(fk));
	fk.gen = 7;
	fk.changed_at = 1700000000;
	fk.next_due = 1800000000 + 600;
	CHECK_INT(tr_http_new_source(&srv, cfg, "fake.db", o, &fake_source), 0);
	return srv;
}

/* ---- the request target ---- */

static void
test_target_check(void)
{
	static const struct {
		const char *t;
		unsigned want;
	} cases[] = {
	    {"/feed.atom", 0},
	    {"/feed.atom?limit=5&q=x", 0},
	    {"/feed.atom%00.html", TR_TARGET_BAD_PATH},
	    {"/feed.atom%00", TR_TARGET_BAD_PATH},
	    {"/tags/a%0Ab.atom", TR_TARGET_BAD_PATH},
	    {"/tags/a%0db.atom", TR_TARGET_BAD_PATH},
	    {"/tags/a%1Fb.atom", TR_TARGET_BAD_PATH},
	    {"/tags/a%7Fb.atom", TR_TARGET_BAD_PATH},
	    {"/tags/a\tb.atom", TR_TARGET_BAD_PATH},
	    {"/tags/a%20b.atom", 0},
	    {"/tags/a%2Fb.atom", 0},
	    {"/tags/%zz.atom", 0}, /* not an escape: a 404 later */
	    {"/tags/%0", 0},
	    {"/feed.atom?q=%00", 0}, /* the parameter's own check */
	    {"http://host/feed.atom%00x", TR_TARGET_BAD_PATH},
	};
	char many[1024], big[4096];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (tr_http_target_check(cases[i].t, 2048) != cases[i].want) {
			printf("  target %s: got %u, want %u\n", cases[i].t,
			       tr_http_target_check(cases[i].t, 2048),
			       cases[i].want);
			CHECK(0);
		}
	/* 64 parameters are read; 65, or 300 empty ones, are too many. */
	strcpy(many, "/feed.atom?");
	for (i = 0; i < 63; i++)
		strcat(many, "&");
	CHECK_INT(tr_http_target_check(many, 2048), 0);
	strcat(many, "&");
	CHECK_INT(tr_http_target_check(many, 2048), TR_TARGET_TOO_MANY_ARGS);
	strcpy(many, "/feed.atom?");
	for (i = 0; i < 300; i++)
		strcat(many, "&");
	CHECK_INT(tr_http_target_check(many, 2048), TR_TARGET_TOO_MANY_ARGS);
	memset(big, 'a', sizeof(big) - 1);
	big[0] = '/';
	big[sizeof(big) - 1] = '\0';
	CHECK_INT(tr_http_target_check(big, 2048), TR_TARGET_TOO_LONG);
}

static void
test_origin_path(void)
{
	static const struct {
		const char *t, *want;
	} cases[] = {
	    {"/feed.atom", "/feed.atom"},
	    {"http://planet.test/feed.atom", "/feed.atom"},
	    {"HTTP://planet.test:8080/tags/a.rss", "/tags/a.rss"},
	    {"https://planet.test/", "/"},
	    {"http://planet.test", "/"},
	    {"http://[::1]:8080/feeds.opml", "/feeds.opml"},
	    {"http:///feed.atom", "/feed.atom"},
	    {"ftp://planet.test/feed.atom", "ftp://planet.test/feed.atom"},
	    {"*", "*"},
	    {"feed.atom", "feed.atom"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR_CASE(cases[i].t, tr_http_origin_path(cases[i].t),
		               cases[i].want);
}

/* A NUL in the path, absolute form, too many parameters: handled. */
static void
test_handle_target(void)
{
	struct tr_config *cfg = load_cfg(conf);
	struct tr_http *srv = fake_server(cfg, NULL);
	struct tr_http_response resp, origin;
	struct req q;

	req_init(&q, TR_HTTP_GET, "/feed.atom");
	q.r.bad_path = 1;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 400);
	CHECK(resp.close);
	CHECK_STR(resp.body, "path: contains a NUL or control character\n");
	tr_http_response_free(&resp);

	req_init(&q, TR_HTTP_GET, "/feed.atom");
	q.r.too_many_args = 1;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 400);
	CHECK(resp.close);
	tr_http_response_free(&resp);

	/* The absolute form is the same document, same validators. */
	req_init(&q, TR_HTTP_GET, "/feeds/beta.rss");
	tr_http_handle(srv, &origin, &q.r);
	CHECK_INT(origin.status, 200);
	req_init(&q, TR_HTTP_GET, "http://elsewhere.test:99/feeds/beta.rss");
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	CHECK_STR(resp.etag, origin.etag);
	CHECK_INT(resp.route, TR_ROUTE_FEEDNAME);
	/* Self links use the configured base URL, not the target's host. */
	CHECK_STR(fk.last_self, "http://planet.test/feeds/beta.rss");
	tr_http_response_free(&resp);
	tr_http_response_free(&origin);
	req_init(&q, TR_HTTP_GET, "https://elsewhere.test");
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	CHECK_INT(resp.route, TR_ROUTE_HOME);
	tr_http_response_free(&resp);
	tr_http_stop(srv);
	tr_config_free(cfg);
}

/* ---- routes ---- */

static void
test_routes(void)
{
	static const struct {
		const char *path;
		enum tr_http_route_id id;
		int fmt;
		const char *name;
	} cases[] = {
	    {"/feed.atom", TR_ROUTE_FEED, TR_FMT_ATOM, ""},
	    {"/feed.rss", TR_ROUTE_FEED, TR_FMT_RSS, ""},
	    {"/feed.json", TR_ROUTE_FEED, TR_FMT_JSON, ""},
	    {"/tags/world.atom", TR_ROUTE_TAG, TR_FMT_ATOM, "world"},
	    {"/tags/web.dev.rss", TR_ROUTE_TAG, TR_FMT_RSS, "web.dev"},
	    {"/tags/caf\xc3\xa9 news.json", TR_ROUTE_TAG, TR_FMT_JSON,
	     "caf\xc3\xa9 news"},
	    {"/feeds/alpha.json", TR_ROUTE_FEEDNAME, TR_FMT_JSON, "alpha"},
	    {"/feeds.opml", TR_ROUTE_OPML, TR_FMT_OPML, ""},
	    {"/", TR_ROUTE_HOME, TR_FMT_HTML, ""},
	    {"/healthz", TR_ROUTE_HEALTHZ, -1, ""},
	    {"/metrics", TR_ROUTE_METRICS, -1, ""},
	    {"/feed.xml", TR_ROUTE_NONE, 0, ""},
	    {"/feed.atom/", TR_ROUTE_NONE, 0, ""},
	    {"/feed", TR_ROUTE_NONE, 0, ""},
	    {"/FEED.ATOM", TR_ROUTE_NONE, 0, ""},
	    {"/feed.atomx", TR_ROUTE_NONE, 0, ""},
	    {"//feed.atom", TR_ROUTE_NONE, 0, ""},
	    {"/tags/.atom", TR_ROUTE_NONE, 0, ""},
	    {"/tags/world", TR_ROUTE_NONE, 0, ""},
	    {"/tags/a/b.atom", TR_ROUTE_TAG, TR_FMT_ATOM, "a/b"},
	    {"/feeds/a/b.atom", TR_ROUTE_NONE, 0, ""},
	    {"/tags/\xff.atom", TR_ROUTE_NONE, 0, ""},
	    {"/tags/world.html", TR_ROUTE_TAG, TR_FMT_HTML, "world"},
	    {"/feeds/alpha.html", TR_ROUTE_FEEDNAME, TR_FMT_HTML, "alpha"},
	    {"/feeds/", TR_ROUTE_NONE, 0, ""},
	    {"/feeds.opml.gz", TR_ROUTE_NONE, 0, ""},
	    {"/index.html", TR_ROUTE_NONE, 0, ""},
	    {"", TR_ROUTE_NONE, 0, ""},
	};
	struct tr_http_route r;
	char longname[300];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = tr_http_route_match(&r, cases[i].path);

		CHECK_STR_CASE(cases[i].path, tr_http_route_name(r.id),
		               tr_http_route_name(cases[i].id));
		CHECK_INT(rc, cases[i].id == TR_ROUTE_NONE ? TR_ENOTFOUND : 0);
		if (cases[i].id != TR_ROUTE_NONE) {
			CHECK_INT(r.fmt, cases[i].fmt);
			CHECK_STR_CASE(cases[i].path, r.name, cases[i].name);
		}
	}
	CHECK_INT(tr_http_route_match(&r, NULL), TR_ENOTFOUND);
	/* The longest name that fits, and one byte more. */
	memcpy(longname, "/tags/", 6);
	memset(longname + 6, 'a', TR_HTTP_NAME_MAX - 1);
	strcpy(longname + 6 + TR_HTTP_NAME_MAX - 1, ".rss");
	CHECK_INT(tr_http_route_match(&r, longname), 0);
	CHECK_INT(strlen(r.name), TR_HTTP_NAME_MAX - 1);
	memset(longname + 6, 'a', TR_HTTP_NAME_MAX);
	strcpy(longname + 6 + TR_HTTP_NAME_MAX, ".rss");
	CHECK_INT(tr_http_route_match(&r, longname), TR_ENOTFOUND);
	/* Feed routes take parameters; OPML and health do not. */
	tr_http_route_match(&r, "/tags/x.atom");
	CHECK(r.params);
	tr_http_route_match(&r, "/");
	CHECK(r.params);
	tr_http_route_match(&r, "/feeds.opml");
	CHECK(!r.params);
}

/* ---- query parameters ---- */

static int
parse1(struct tr_http_params *p, char *why, size_t n, const char *k,
       const char *v)
{
	struct tr_http_arg a = {k, strlen(k), v, v ? strlen(v) : 0};

	return tr_http_params_parse(p, why, n, &a, 1);
}

static void
test_params_defaults_and_values(void)
{
	struct tr_http_params p;
	struct tr_http_arg a[6];
	char why[256];
	int64_t want;

	CHECK_INT(tr_http_params_parse(&p, why, sizeof(why), NULL, 0), 0);
	CHECK_INT(p.limit, 50);
	CHECK_INT(p.limit_given, 0);
	CHECK(p.since == TR_DATE_NONE);
	CHECK(p.q == NULL && p.before == NULL);

	a[0] = (struct tr_http_arg){"limit", 5, "1000", 4};
	a[1] = (struct tr_http_arg){"since", 5, "2024-12-06T09:30:00Z", 20};
	a[2] = (struct tr_http_arg){"q", 1, "nato summit", 11};
	a[3] = (struct tr_http_arg){"before", 6, "abc123", 6};
	a[4] = (struct tr_http_arg){"_", 1, "1700000000", 10};
	a[5] = (struct tr_http_arg){"utm_source", 10, NULL, 0};
	CHECK_INT(tr_http_params_parse(&p, why, sizeof(why), a, 6), 0);
	CHECK_INT(p.limit, 1000);
	CHECK_INT(p.limit_given, 1);
	want = tr_date_from_civil(2024, 12, 6, 9, 30, 0);
	CHECK_INT(p.since, want);
	CHECK_STR(p.q, "nato summit");
	CHECK_STR(p.before, "abc123");

	CHECK_INT(parse1(&p, why, sizeof(why), "limit", "1"), 0);
	CHECK_INT(p.limit, 1);
	/* An empty q is no search (a blank search form). */
	CHECK_INT(parse1(&p, why, sizeof(why), "q", ""), 0);
	CHECK(p.q == NULL);
	CHECK_INT(parse1(&p, why, sizeof(why), "q", NULL), 0);
	CHECK(p.q == NULL);
	/* Unknown parameters may repeat and hold anything. */
	a[0] = (struct tr_http_arg){"_", 1, "1", 1};
	a[1] = (struct tr_http_arg){"_", 1, "\xff", 1};
	CHECK_INT(tr_http_params_parse(&p, why, sizeof(why), a, 2), 0);
}

static void
test_params_errors(void)
{
	static const struct {
		const char *key, *value, *why;
	} cases[] = {
	    {"limit", "0", "limit: must be a whole number from 1 to 1000"},
	    {"limit", "1001", "limit: must be a whole number from 1 to 1000"},
	    {"limit", "-5", "limit: must be a whole number from 1 to 1000"},
	    {"limit", "+5", "limit: must be a whole number from 1 to 1000"},
	    {"limit", " 5", "limit: must be a whole number from 1 to 1000"},
	    {"limit", "5x", "limit: must be a whole number from 1 to 1000"},
	    {"limit", "99999999999999999999",
	     "limit: must be a whole number from 1 to 1000"},
	    {"limit", "", "limit: empty value"},
	    {"limit", NULL, "limit: empty value"},
	    {"since", "yesterday",
	     "since: not a date (use RFC 3339, e.g. 2024-12-06T09:30:00Z)"},
	    {"since", "", "since: empty value"},
	    {"before", "", "before: empty value"},
	    {"q", "caf\xe9", "q: not valid UTF-8"},
	    {"before", "\xc0\xaf", "before: not valid UTF-8"},
	};
	struct tr_http_params p;
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(
		    parse1(&p, why, sizeof(why), cases[i].key, cases[i].value),
		    TR_EINVAL);
		CHECK_STR_CASE(cases[i].value ? cases[i].value : "(null)", why,
		               cases[i].why);
		CHECK(strchr(why, '\n') == NULL);
	}
}

static void
test_params_repeat_nul_long(void)
{
	struct tr_http_params p;
	struct tr_http_arg a[2];
	char why[256], big[2000];

	a[0] = (struct tr_http_arg){"limit", 5, "10", 2};
	a[1] = (struct tr_http_arg){"limit", 5, "10", 2};
	CHECK_INT(tr_http_params_parse(&p, why, sizeof(why), a, 2), TR_EINVAL);
	CHECK_STR(why, "limit: given more than once");
	a[0] = (struct tr_http_arg){"q", 1, "a", 1};
	a[1] = (struct tr_http_arg){"q", 1, "", 0};
	CHECK_INT(tr_http_params_parse(&p, why, sizeof(why), a, 2), TR_EINVAL);
	CHECK_STR(why, "q: given more than once");
	/* "q=a%00b": libmicrohttpd hands over 3 bytes, strlen says 1. */
	a[0] = (struct tr_http_arg){"q", 1, "a\0b", 3};
	CHECK_INT(tr_http_params_parse(&p, why, sizeof(why), a, 1), TR_EINVAL);
	CHECK_STR(why, "q: contains a NUL byte");
	/* "lim%00it" is not "limit": ignored like any unknown key. */
	a[0] = (struct tr_http_arg){"limit", 6, "x", 1};
	CHECK_INT(tr_http_params_parse(&p, why, sizeof(why), a, 1), 0);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK_INT(parse1(&p, why, sizeof(why), "before", big), TR_EINVAL);
	CHECK_STR(why, "before: longer than 1024 bytes");
	CHECK_INT(parse1(&p, why, sizeof(why), "q", big), TR_EINVAL);
	CHECK_STR(why, "q: longer than 1024 bytes");
}

static void
test_params_query(void)
{
	struct tr_http_params p;
	struct tr_http_arg a[4];
	struct tr_buf b;
	char why[256];

	tr_buf_init(&b, 4096);
	CHECK_INT(tr_http_params_parse(&p, why, sizeof(why), NULL, 0), 0);
	CHECK_INT(tr_http_params_query(&b, &p, NULL), 0);
	CHECK_STR(tr_buf_str(&b), "");
	CHECK_INT(tr_http_params_query(&b, &p, "c/1+2"), 0);
	CHECK_STR(tr_buf_str(&b), "before=c%2F1%2B2");
	tr_buf_reset(&b);
	a[0] = (struct tr_http_arg){"q", 1, "a b&c=\xc3\xa9", 8};
	a[1] =
	    (struct tr_http_arg){"since", 5, "2024-12-06T10:30:00+01:00", 25};
	a[2] = (struct tr_http_arg){"limit", 5, "7", 1};
	a[3] = (struct tr_http_arg){"before", 6, "old", 3};
	CHECK_INT(tr_http_params_parse(&p, why, sizeof(why), a, 4), 0);
	CHECK_INT(tr_http_params_query(&b, &p, NULL), 0);
	/* Fixed order, since normalized to UTC, everything encoded. */
	CHECK_STR(tr_buf_str(&b), "limit=7&since=2024-12-06T09%3A30%3A00Z&"
	                          "q=a%20b%26c%3D%C3%A9&before=old");
	tr_buf_reset(&b);
	CHECK_INT(tr_http_params_query(&b, &p, "new"), 0);
	CHECK_STR(tr_buf_str(&b), "limit=7&since=2024-12-06T09%3A30%3A00Z&"
	                          "q=a%20b%26c%3D%C3%A9&before=new");
	tr_buf_free(&b);
}

/* ---- header fields ---- */

static void
test_etag_match(void)
{
	static const struct {
		const char *inm;
		int want;
	} cases[] = {
	    {"\"7-ab\"", 1},
	    {"W/\"7-ab\"", 1}, /* weak comparison (RFC 9110 §13.1.2) */
	    {"\"x\", \"7-ab\"", 1},
	    {"\"x\",W/\"7-ab\" , \"y\"", 1},
	    {"  \"7-ab\"  ", 1},
	    {"*", 1},
	    {" * ", 1},
	    {"\"7-ab-gz\"", 0},
	    {"\"7-a\"", 0},
	    {"7-ab", 0},
	    {"\"7-ab", 0},
	    {"\"x\" \"7-ab\"", 0}, /* not a list: stops at the break */
	    {"w/\"7-ab\"", 0},
	    {"*, \"7-ab\"", 0},
	    {"", 0},
	    {",,,", 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR_CASE(cases[i].inm,
		               tr_http_etag_match(cases[i].inm, "\"7-ab\"")
		                   ? "match"
		                   : "no",
		               cases[i].want ? "match" : "no");
	CHECK(!tr_http_etag_match(NULL, "\"7-ab\""));
}

static void
test_accepts_gzip(void)
{
	static const struct {
		const char *ae;
		int want;
	} cases[] = {
	    {"gzip", 1},
	    {"GZIP", 1},
	    {"x-gzip", 1},
	    {"gzip, deflate, br", 1},
	    {"deflate, gzip;q=0.5", 1},
	    {"gzip;q=0", 0},
	    {"gzip; q=0.000", 0},
	    {"gzip;q=0.001", 1},
	    {"gzip;Q=1.0", 1},
	    {"*", 1},
	    {"*;q=0", 0},
	    {"br;q=1, *;q=0.1", 1},
	    {"gzip;q=0, *", 0}, /* the named coding wins over "*" */
	    {"identity", 0},
	    {"deflate, br", 0},
	    {"gzipx", 0},
	    {"", 0},
	    {"gzip;q=x", 0},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK_STR_CASE(cases[i].ae,
		               tr_http_accepts_gzip(cases[i].ae) ? "gzip"
		                                                 : "identity",
		               cases[i].want ? "gzip" : "identity");
	CHECK(!tr_http_accepts_gzip(NULL));
}

static void
test_parse_listen(void)
{
	static const struct {
		const char *s;
		int ok, family, dual, port;
	} cases[] = {
	    {"127.0.0.1:8080", 1, AF_INET, 0, 8080},
	    {"0.0.0.0:80", 1, AF_INET, 0, 80},
	    {"[::]:8080", 1, AF_INET6, 1, 8080},
	    {"*:0", 1, AF_INET6, 1, 0},
	    {"[::1]:9", 1, AF_INET6, 0, 9},
	    {"8080", 1, AF_INET, 0, 8080},
	    {"localhost:81", 1, 0, 0, 81},
	    {"127.0.0.1", 0, 0, 0, 0},
	    {"::1:80", 0, 0, 0, 0},
	    {"[::1]80", 0, 0, 0, 0},
	    {"127.0.0.1:http", 0, 0, 0, 0},
	    {"127.0.0.1:65536", 0, 0, 0, 0},
	    {"127.0.0.1:-1", 0, 0, 0, 0},
	    {"127.0.0.1:", 0, 0, 0, 0},
	    {"example.com:80", 0, 0, 0, 0},
	    {"[]:80", 0, 0, 0, 0},
	    {"", 0, 0, 0, 0},
	};
	struct sockaddr_storage ss;
	socklen_t len;
	size_t i;
	int dual;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int rc = tr_http_parse_listen(&ss, &len, &dual, cases[i].s);
		int port;

		CHECK_STR_CASE(cases[i].s, rc == 0 ? "ok" : "invalid",
		               cases[i].ok ? "ok" : "invalid");
		if (rc != 0 || !cases[i].ok)
			continue;
		port =
		    ss.ss_family == AF_INET6
		        ? ntohs(((struct sockaddr_in6 *)(void *)&ss)->sin6_port)
		        : ntohs(((struct sockaddr_in *)(void *)&ss)->sin_port);
		CHECK_INT(port, cases[i].port);
		if (cases[i].family)
			CHECK_INT(ss.ss_family, cases[i].family);
		CHECK_INT(dual, cases[i].dual);
	}
}

/* ---- the handler, on the fake source ---- */

static void
test_handle_cache_and_validators(void)
{
	struct tr_config *cfg = load_cfg(conf);
	struct tr_http *srv = fake_server(cfg, NULL);
	struct tr_http_response resp;
	struct tr_http_cache_stats cs;
	struct req q;
	char etag[64], etag_gz[64], lm[40], *plain;

	req_init(&q, TR_HTTP_GET, "/feed.atom");
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	CHECK_STR(resp.content_type, "application/atom+xml; charset=utf-8");
	CHECK(resp.body_len > 100 &&
	      strncmp(resp.body, "<doc gen=\"7\"", 12) == 0);
	CHECK(resp.etag[0] == '"' && resp.etag[strlen(resp.etag) - 1] == '"');
	CHECK(strncmp(resp.etag, "\"7-", 3) == 0);
	CHECK(resp.vary);
	CHECK(!resp.gzip);
	CHECK_INT(resp.max_age, 600);
	/* The config's load time is newer than the store's change. */
	CHECK(resp.last_modified[0] != '\0');
	CHECK_STR(fk.last_self, "http://planet.test/feed.atom");
	snprintf(etag, sizeof(etag), "%s", resp.etag);
	snprintf(lm, sizeof(lm), "%s", resp.last_modified);
	tr_http_response_free(&resp);
	CHECK_INT(fk.renders, 1);
	CHECK_INT(fk.gens, 1);

	/* A second poll: the generation is read, nothing is rendered. */
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	CHECK_STR(resp.etag, etag);
	tr_http_response_free(&resp);
	CHECK_INT(fk.renders, 1);
	CHECK_INT(fk.gens, 2);
	CHECK_INT(fk.dues, 1); /* the next poll time is kept too */

	/* A cache-buster is ignored: same body, same tag. */
	req_arg(&q, "_", "1700000123");
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	CHECK_STR(resp.etag, etag);
	tr_http_response_free(&resp);
	CHECK_INT(fk.renders, 1);

	/* If-None-Match: the tag, a weak form, a list; a miss. */
	q.r.if_none_match = etag;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 304);
	CHECK_STR(resp.etag, etag);
	CHECK_INT(resp.max_age, 600);
	CHECK(resp.vary);
	tr_http_response_free(&resp);
	q.r.if_none_match = "\"nope\"";
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	tr_http_response_free(&resp);
	/* If-None-Match wins over a matching If-Modified-Since. */
	q.r.now = (int64_t)time(NULL) + 60; /* Last-Modified is the start */
	q.r.if_modified_since = lm;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	tr_http_response_free(&resp);
	q.r.if_none_match = NULL;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 304);
	tr_http_response_free(&resp);
	q.r.if_modified_since = "Sat, 01 Jan 2000 00:00:00 GMT";
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	tr_http_response_free(&resp);
	q.r.if_modified_since = "Sat, 01 Jan 2050 00:00:00 GMT"; /* future */
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	tr_http_response_free(&resp);
	q.r.if_modified_since = "not a date";
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	tr_http_response_free(&resp);
	q.r.if_modified_since = NULL;

	/* gzip: its own strong tag, and the body inflates to the same. */
	q.r.accept_encoding = "gzip, deflate";
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	CHECK(resp.gzip);
	snprintf(etag_gz, sizeof(etag_gz), "%s", resp.etag);
	CHECK(strlen(etag_gz) == strlen(etag) + 3);
	CHECK(strcmp(etag_gz + strlen(etag_gz) - 4, "-gz\"") == 0);
	plain = gunzip(resp.body, resp.body_len);
	CHECK(plain != NULL && strncmp(plain, "<doc gen=\"7\"", 12) == 0);
	CHECK(resp.body_len < strlen(plain ? plain : ""));
	free(plain);
	tr_http_response_free(&resp);
	q.r.if_none_match = etag; /* the identity tag does not match gzip */
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	tr_http_response_free(&resp);
	q.r.if_none_match = etag_gz;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 304);
	CHECK(resp.gzip);
	tr_http_response_free(&resp);
	q.r.accept_encoding = "gzip;q=0";
	q.r.if_none_match = NULL;
	tr_http_handle(srv, &resp, &q.r);
	CHECK(!resp.gzip);
	CHECK_STR(resp.etag, etag);
	tr_http_response_free(&resp);
	CHECK_INT(fk.renders, 1);

	/* HEAD: the same answer (libmicrohttpd leaves the body out). */
	q.r.method = TR_HTTP_HEAD;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	CHECK_STR(resp.etag, etag);
	CHECK(resp.body_len > 100);
	tr_http_response_free(&resp);

	/* A new generation: rendered again, new tag, old one no match. */
	fk.gen = 8;
	q.r.method = TR_HTTP_GET;
	q.r.if_none_match = etag;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	CHECK(strncmp(resp.etag, "\"8-", 3) == 0);
	CHECK(strncmp(resp.body, "<doc gen=\"8\"", 12) == 0);
	tr_http_response_free(&resp);
	CHECK_INT(fk.renders, 2);
	tr_http_cache_stats(srv, &cs);
	CHECK_INT(cs.entries, 1); /* the old generation's entry is gone */
	CHECK(cs.hits >= 10);

	tr_http_stop(srv);
	CHECK_INT(fk.opens, fk.closes);
	tr_config_free(cfg);
}

static void
test_tiny_body_not_gzipped(void)
{
	struct tr_config *cfg = load_cfg(conf);
	struct tr_http *srv = fake_server(cfg, NULL);
	struct tr_http_response resp;
	struct req q;

	fk.tiny = 1;
	req_init(&q, TR_HTTP_GET, "/feed.json");
	q.r.accept_encoding = "gzip";
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	CHECK(!resp.gzip); /* gzip would be larger than 1 byte */
	CHECK(resp.vary);
	CHECK_INT(resp.body_len, 1);
	CHECK(strstr(resp.etag, "-gz") == NULL);
	tr_http_response_free(&resp);
	tr_http_stop(srv);
	tr_config_free(cfg);
}

static void
test_handle_errors(void)
{
	struct tr_config *cfg = load_cfg(conf);
	struct tr_http *srv = fake_server(cfg, NULL);
	struct tr_http_response resp;
	struct req q;

	req_init(&q, TR_HTTP_GET, "/nope");
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 404);
	CHECK_STR(resp.body, "not found: /nope\n");
	CHECK_STR(resp.content_type, "text/plain; charset=utf-8");
	CHECK_INT(resp.max_age, -1);
	tr_http_response_free(&resp);

	req_init(&q, TR_HTTP_OTHER, "/feed.atom");
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 405);
	CHECK_STR(resp.allow, "GET, HEAD");
	CHECK(!resp.close);
	tr_http_response_free(&resp);

	req_init(&q, TR_HTTP_GET, "/feed.atom");
	q.r.has_body = 1;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 413);
	CHECK(resp.close);
	tr_http_response_free(&resp);

	q.r.framing_conflict = 1;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 400);
	CHECK(resp.close);
	CHECK_STR(resp.body,
	          "request has both Transfer-Encoding and Content-Length\n");
	tr_http_response_free(&resp);

	req_init(&q, TR_HTTP_GET, "/feed.atom");
	q.r.bad_length = 1;
	q.r.has_body = 1;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 400);
	CHECK(resp.close);
	CHECK_STR(resp.body, "invalid or conflicting Content-Length\n");
	tr_http_response_free(&resp);

	req_init(&q, TR_HTTP_GET, "/feed.atom");
	q.r.bad_header = 1;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 400);
	CHECK(resp.close);
	CHECK_STR(resp.body, "malformed header field name\n");
	tr_http_response_free(&resp);

	req_init(&q, TR_HTTP_GET, "/feed.atom");
	q.r.uri_too_long = 1;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 414);
	CHECK_STR(resp.body, "request target longer than 2048 bytes\n");
	tr_http_response_free(&resp);

	req_init(&q, TR_HTTP_GET, "/tags/\xff.atom");
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 400);
	CHECK_STR(resp.body, "path: not valid UTF-8\n");
	tr_http_response_free(&resp);

	req_init(&q, TR_HTTP_GET, "/feed.rss");
	req_arg(&q, "limit", "0");
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 400);
	CHECK_STR(resp.body, "limit: must be a whole number from 1 to 1000\n");
	tr_http_response_free(&resp);

	req_init(&q, TR_HTTP_GET, "/feed.rss");
	q.r.too_many_args = 1;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 400);
	tr_http_response_free(&resp);

	/* OPML takes no parameters: a bad limit there is ignored. */
	req_init(&q, TR_HTTP_GET, "/feeds.opml");
	req_arg(&q, "limit", "0");
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	tr_http_response_free(&resp);

	/* The source's 404 and 400 reasons reach the client. */
	fk.render_rc = TR_ENOTFOUND;
	req_init(&q, TR_HTTP_GET, "/tags/zzz.atom");
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 404);
	CHECK_STR(resp.body, "fake says no\n");
	tr_http_response_free(&resp);
	fk.render_rc = TR_EINVAL;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 400);
	tr_http_response_free(&resp);
	fk.render_rc = TR_ENOMEM;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 500);
	tr_http_response_free(&resp);
	/* A search stopped by its budget: 503, nothing cached. */
	fk.render_rc = TR_EABORT;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 503);
	CHECK(resp.entry == NULL);
	CHECK(strstr(resp.body, "search stopped after 2000 ms") != NULL);
	tr_http_response_free(&resp);
	fk.render_rc = 0;

	/* The store does not answer: 503, for documents and health. */
	fk.fail_gen = 1;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 503);
	tr_http_response_free(&resp);
	req_init(&q, TR_HTTP_GET, "/healthz");
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 503);
	tr_http_response_free(&resp);
	fk.fail_gen = 0;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	CHECK_STR(resp.body, "ok\n");
	tr_http_response_free(&resp);

	tr_http_stop(srv);
	tr_config_free(cfg);
}

static int
sick_hook(struct tr_buf *msg, void *arg)
{
	tr_buf_adds(msg, "poller stalled");
	return *(int *)arg;
}

static int
metrics_hook(struct tr_buf *out, void *arg)
{
	(void)arg;
	return tr_buf_adds(out, "tributary_feeds 2\n");
}

static int
count_of(struct tr_http *srv, const char *route, int status)
{
	struct tr_buf b;
	char want[128];
	const char *p;
	int n = 0;

	tr_buf_init(&b, 1 << 16);
	tr_http_write_counters(&b, srv);
	snprintf(want, sizeof(want),
	         "tributary_http_requests_total{route=\"%s\",status=\"%d\"} ",
	         route, status);
	if ((p = strstr(tr_buf_str(&b), want)) != NULL)
		n = atoi(p + strlen(want));
	tr_buf_free(&b);
	return n;
}

static void
test_hooks_and_counters(void)
{
	struct tr_config *cfg = load_cfg(conf);
	struct tr_http *srv = fake_server(cfg, NULL);
	struct tr_http_response resp;
	struct req q;
	int sick = 0;

	req_init(&q, TR_HTTP_GET, "/metrics");
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 404); /* no hook, no route */
	tr_http_response_free(&resp);

	tr_http_set_health(srv, sick_hook, &sick);
	tr_http_set_metrics(srv, metrics_hook, NULL);
	req_init(&q, TR_HTTP_GET, "/healthz");
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	CHECK_STR(resp.body, "ok: poller stalled\n");
	tr_http_response_free(&resp);
	sick = 1;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 503);
	CHECK_STR(resp.body, "unavailable: poller stalled\n");
	tr_http_response_free(&resp);

	req_init(&q, TR_HTTP_GET, "/feed.json");
	tr_http_handle(srv, &resp, &q.r);
	tr_http_response_free(&resp);
	tr_http_handle(srv, &resp, &q.r);
	tr_http_response_free(&resp);
	req_init(&q, TR_HTTP_GET, "/metrics");
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.status, 200);
	CHECK(strncmp(resp.body, "tributary_feeds 2\n", 18) == 0);
	CHECK(strstr(resp.body, "# TYPE tributary_http_requests_total "
	                        "counter\n") != NULL);
	CHECK_STR(resp.content_type,
	          "text/plain; version=0.0.4; charset=utf-8");
	tr_http_response_free(&resp);
	CHECK_INT(count_of(srv, "feed", 200), 2);
	CHECK_INT(count_of(srv, "healthz", 200), 1);
	CHECK_INT(count_of(srv, "healthz", 503), 1);
	CHECK_INT(count_of(srv, "other", 404), 1);
	CHECK_INT(count_of(srv, "metrics", 200), 1);
	tr_http_stop(srv);
	tr_config_free(cfg);
}

static void
test_max_age_and_cache_bounds(void)
{
	struct tr_config *cfg = load_cfg(conf);
	struct tr_http_opts o = {0};
	struct tr_http *srv;
	struct tr_http_response resp;
	struct tr_http_cache_stats cs;
	struct req q;
	char num[16];
	int i;

	o.cache_entries = 2;
	srv = fake_server(cfg, &o);
	req_init(&q, TR_HTTP_GET, "/feed.atom");
	for (i = 0; i < 5; i++) {
		req_init(&q, TR_HTTP_GET, "/feed.atom");
		snprintf(num, sizeof(num), "%d", i + 1);
		req_arg(&q, "limit", num);
		tr_http_handle(srv, &resp, &q.r);
		CHECK_INT(resp.status, 200);
		tr_http_response_free(&resp);
	}
	CHECK_STR(fk.last_query, "limit=5");
	tr_http_cache_stats(srv, &cs);
	CHECK_INT(cs.entries, 2);
	CHECK_INT(fk.renders, 5);
	/* limit=5 is still cached, limit=1 was evicted. */
	tr_http_handle(srv, &resp, &q.r);
	tr_http_response_free(&resp);
	CHECK_INT(fk.renders, 5);
	req_init(&q, TR_HTTP_GET, "/feed.atom");
	req_arg(&q, "limit", "1");
	tr_http_handle(srv, &resp, &q.r);
	tr_http_response_free(&resp);
	CHECK_INT(fk.renders, 6);

	/* max-age follows the next poll, within [60, 3600]. */
	q.r.now += 120; /* next read of the due time */
	fk.next_due = q.r.now + 10;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.max_age, 60);
	tr_http_response_free(&resp);
	q.r.now += 61;
	fk.next_due = q.r.now + 100000;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.max_age, 3600);
	tr_http_response_free(&resp);
	q.r.now += 61;
	fk.next_due = q.r.now + 1234;
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.max_age, 1234);
	tr_http_response_free(&resp);
	q.r.now += 1; /* within a minute: the time read before holds */
	tr_http_handle(srv, &resp, &q.r);
	CHECK_INT(resp.max_age, 1233);
	tr_http_response_free(&resp);

	/* A reload changes tags and drops the cache. */
	i = fk.renders;
	tr_http_set_config(srv, cfg);
	tr_http_handle(srv, &resp, &q.r);
	tr_http_response_free(&resp);
	CHECK_INT(fk.renders, i + 1);
	tr_http_stop(srv);
	tr_config_free(cfg);
}

static void
test_base_url(void)
{
	struct tr_config *cfg = load_cfg("[tributary]\n"
	                                 "listen = 127.0.0.1:8123\n");
	struct tr_http_opts o = {0};
	struct tr_http *srv = NULL;

	CHECK_INT(tr_http_new(&srv, cfg, "/nonexistent.db", NULL), 0);
	CHECK_STR(tr_http_url(srv), "http://127.0.0.1:8123");
	CHECK_INT(tr_http_port(srv), 0); /* not listening */
	tr_http_stop(srv);
	o.listen = "nonsense";
	srv = NULL;
	CHECK_INT(tr_http_new(&srv, cfg, "/nonexistent.db", &o), TR_EINVAL);
	CHECK(strstr(tr_http_errmsg(srv), "nonsense") != NULL);
	tr_http_stop(srv);
	tr_config_free(cfg);
}

/* ---- many threads at once ---- */

struct worker {
	struct tr_http *srv;
	int bad;
};

/*
 * Each answer must be whole: a 200 whose body (inflated when gzip) is
 * a document of at least the generation its ETag names.
 */
static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	static const char *const paths[] = {"/feed.atom", "/feed.rss",
	                                    "/tags/world.json", "/"};
	struct tr_http_response resp;
	struct req q;
	unsigned long long tag_gen;
	long long body_gen;
	char *plain;
	int i;

	for (i = 0; i < 400; i++) {
		req_init(&q, TR_HTTP_GET, paths[i % 4]);
		q.r.accept_encoding = i % 3 ? "gzip" : NULL;
		tr_http_handle(w->srv, &resp, &q.r);
		plain = resp.gzip ? gunzip(resp.body, resp.body_len)
		                  : strndup(resp.body, resp.body_len);
		/*
		 * The body may be newer than the generation read before it
		 * was rendered, never older.
		 */
		if (resp.status != 200 || plain == NULL ||
		    sscanf(resp.etag, "\"%llx-", &tag_gen) != 1 ||
		    sscanf(plain, "<doc gen=\"%lld\"", &body_gen) != 1 ||
		    body_gen < (long long)tag_gen)
			w->bad++;
		free(plain);
		tr_http_response_free(&resp);
	}
	return NULL;
}

static void
test_concurrent_requests(void)
{
	struct tr_config *cfg = load_cfg(conf);
	struct tr_http_opts o = {0};
	struct tr_http *srv;
	struct worker w[4];
	pthread_t t[4];
	int i, j;

	o.cache_entries = 3; /* evictions while others hold entries */
	srv = fake_server(cfg, &o);
	for (i = 0; i < 4; i++) {
		w[i].srv = srv;
		w[i].bad = 0;
		pthread_create(&t[i], NULL, worker_run, &w[i]);
	}
	/* New generations and a reload while the workers run. */
	for (j = 0; j < 20; j++) {
		usleep(1000);
		__atomic_add_fetch(&fk.gen, 1, __ATOMIC_SEQ_CST);
		if (j == 10)
			tr_http_set_config(srv, cfg);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(t[i], NULL);
		CHECK_INT(w[i].bad, 0);
	}
	tr_http_stop(srv);
	tr_config_free(cfg);
}

/* ---- the real store and renderers ---- */

static void
add_article(struct tr_store_batch *b, const char *feed, int i)
{
	struct tr_article a;
	char buf[256];

	tr_article_init(&a);
	snprintf(buf, sizeof(buf), "urn:%s:%d", feed, i);
	a.id = strdup(buf);
	a.guid = strdup(buf);
	snprintf(buf, sizeof(buf), "https://example.org/%s/%d", feed, i);
	a.link = strdup(buf);
	snprintf(buf, sizeof(buf), "%s article %d", feed, i);
	a.title = strdup(buf);
	a.summary = strdup("<p>summary</p>");
	a.published = 1700000000 + i * 3600;
	CHECK_INT(tr_store_batch_add(b, &a), 0);
	tr_article_free(&a);
}

static char *
fill_db(const struct tr_config *cfg)
{
	char *path = tmp_db();
	struct tr_store *st = NULL;
	struct tr_store_batch *b = NULL;
	int i;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	tr_store_set_now(st, 1700100000);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	CHECK_INT(tr_store_batch_begin(&b, st, "alpha"), 0);
	for (i = 0; i < 5; i++)
		add_article(b, "alpha", i);
	CHECK_INT(tr_store_batch_commit(b, NULL, NULL), 0);
	tr_store_batch_free(b);
	CHECK_INT(tr_store_batch_begin(&b, st, "beta"), 0);
	for (i = 0; i < 3; i++)
		add_article(b, "beta", i);
	CHECK_INT(tr_store_batch_commit(b, NULL, NULL), 0);
	tr_store_batch_free(b);
	tr_store_close(st);
	return path;
}

/* GETs path?k=v on srv; returns the status, *body a copy of the body. */
static int
get(struct tr_http *srv, const char *path, const char *k, const char *v,
    char **body)
{
	struct tr_http_response resp;
	struct req q;
	int status;

	req_init(&q, TR_HTTP_GET, path);
	q.r.now = (int64_t)time(NULL);
	if (k)
		req_arg(&q, k, v);
	tr_http_handle(srv, &resp, &q.r);
	status = resp.status;
	if (body)
		*body = strndup(resp.body ? resp.body : "", resp.body_len);
	tr_http_response_free(&resp);
	return status;
}

static int
always_stop(void *arg)
{
	(void)arg;
	return 1;
}

static int
count_str(const char *hay, const char *needle)
{
	int n = 0;

	while ((hay = strstr(hay, needle)) != NULL) {
		n++;
		hay += strlen(needle);
	}
	return n;
}

static void
test_real_store(void)
{
	struct tr_config *cfg = load_cfg(conf);
	char *db = fill_db(cfg), *body = NULL, *next, *end;
	struct tr_http *srv = NULL;

	CHECK_INT(tr_http_new(&srv, cfg, db, NULL), 0);
	CHECK_INT(get(srv, "/feed.atom", NULL, NULL, &body), 200);
	CHECK_INT(count_str(body, "<entry>") + count_str(body, "<entry "), 8);
	CHECK(strstr(body, "alpha article 4") != NULL);
	CHECK(strstr(body, "beta article 2") != NULL);
	CHECK(strstr(body, "http://planet.test/feed.atom") != NULL);
	free(body);

	CHECK_INT(get(srv, "/tags/world.rss", NULL, NULL, &body), 200);
	CHECK_INT(count_str(body, "<item>") + count_str(body, "<item "), 5);
	CHECK(strstr(body, "beta article") == NULL);
	free(body);
	CHECK_INT(get(srv, "/feeds/beta.json", NULL, NULL, &body), 200);
	CHECK(strstr(body, "\"version\"") != NULL);
	CHECK(strstr(body, "beta article 1") != NULL);
	CHECK(strstr(body, "alpha article") == NULL);
	free(body);
	CHECK_INT(get(srv, "/feeds.opml", NULL, NULL, &body), 200);
	CHECK(strstr(body, "<opml") != NULL);
	CHECK(strstr(body, "http://127.0.0.1:1/b.xml") != NULL);
	free(body);
	CHECK_INT(get(srv, "/", NULL, NULL, &body), 200);
	CHECK(strstr(body, "alpha article 4") != NULL);
	free(body);

	CHECK_INT(get(srv, "/tags/nope.atom", NULL, NULL, &body), 404);
	CHECK_STR(body, "no tag named nope\n");
	free(body);
	CHECK_INT(get(srv, "/feeds/nope.rss", NULL, NULL, &body), 404);
	CHECK_STR(body, "no feed named nope\n");
	free(body);
	CHECK_INT(get(srv, "/feed.atom", "before", "garbage", &body), 400);
	CHECK(strncmp(body, "before: ", 8) == 0);
	CHECK_INT(count_str(body, "\n"), 1);
	free(body);
	/* What people type is never a 400, nor names the engine. */
	{
		static const char *const typed[] = {
		    "\"unbalanced", "covid-19", "e-mail", "don't", "C++",
		    "U.S.", "what?", "http://example.com/a?b=c", "\"", "*",
		    "-", "a NEAR b", "x OR y", "title:x", "NOT", "(", "caf\xc3\xa9",
		};
		size_t i;

		for (i = 0; i < sizeof(typed) / sizeof(typed[0]); i++) {
			int st = get(srv, "/feed.atom", "q", typed[i], &body);

			if (st != 200)
				printf("  q=%s: %d %s", typed[i], st, body);
			CHECK_INT(st, 200);
			free(body);
		}
	}
	CHECK_INT(get(srv, "/feed.atom", "q", "-alone", &body), 400);
	CHECK(strncmp(body, "q: add a word", 13) == 0);
	CHECK(strstr(body, "column") == NULL && strstr(body, "fts") == NULL);
	CHECK_INT(count_str(body, "\n"), 1);
	free(body);
	CHECK_INT(get(srv, "/feed.atom", "q", "aa* bb* cc* dd* ee*", &body),
	          400);
	CHECK(strncmp(body, "q: more than 4 words end in *", 29) == 0);
	free(body);
	/* A search whose stop() says stop (its budget, its client gone) is
	 * a 503 and leaves nothing in the cache; without it the same
	 * search answers. */
	{
		struct tr_http_response resp;
		struct req q;

		req_init(&q, TR_HTTP_GET, "/feed.atom");
		q.r.now = (int64_t)time(NULL);
		req_arg(&q, "q", "article");
		q.r.stop = always_stop;
		tr_http_handle(srv, &resp, &q.r);
		CHECK_INT(resp.status, 503);
		CHECK(resp.entry == NULL);
		tr_http_response_free(&resp);
		q.r.stop = NULL;
		tr_http_handle(srv, &resp, &q.r);
		CHECK_INT(resp.status, 200);
		tr_http_response_free(&resp);
	}
	CHECK_INT(get(srv, "/feed.json", "q", "summary", &body), 200);
	free(body);

	/* Pagination: limit=3 carries a next link whose cursor works. */
	CHECK_INT(get(srv, "/feed.atom", "limit", "3", &body), 200);
	CHECK_INT(count_str(body, "<entry"), 3);
	next = strstr(body, "before=");
	CHECK(next != NULL);
	if (next) {
		char cursor[256];
		char *page2 = NULL;

		next += 7;
		end = next + strcspn(next, "\"&");
		snprintf(cursor, sizeof(cursor), "%.*s", (int)(end - next),
		         next);
		/* The cursor is URL-encoded in the link; decode %XX. */
		{
			char *r = cursor, *w = cursor;

			for (; *r; r++, w++) {
				unsigned x;

				if (*r == '%' &&
				    sscanf(r + 1, "%2x", &x) == 1) {
					*w = (char)x;
					r += 2;
				} else {
					*w = *r;
				}
			}
			*w = '\0';
		}
		CHECK_INT(get(srv, "/feed.atom", "before", cursor, &page2),
		          200);
		CHECK_INT(count_str(page2, "<entry"), 5);
		CHECK(strstr(page2, "alpha article 4") == NULL);
		free(page2);
	}
	free(body);
	tr_http_stop(srv);
	rm_db(db);
	tr_config_free(cfg);
}


/* ---- streamed answers ---- */

/* Inflates a gzip body of any size; malloc'ed text or NULL. */
static char *
gunzip_all(const char *in, size_t n, size_t *outlen)
{
	size_t cap = 1 << 16;
	char *out = malloc(cap);
	z_stream z;
	int rc = Z_OK;

	memset(&z, 0, sizeof(z));
	if (out == NULL || inflateInit2(&z, 15 + 16) != Z_OK) {
		free(out);
		return NULL;
	}
	z.next_in = (Bytef *)(uintptr_t)in;
	z.avail_in = (uInt)n;
	while (rc == Z_OK) {
		if (z.total_out + 1 >= cap)
			out = realloc(out, cap *= 2);
		z.next_out = (Bytef *)out + z.total_out;
		z.avail_out = (uInt)(cap - 1 - z.total_out);
		rc = inflate(&z, Z_NO_FLUSH);
	}
	*outlen = z.total_out;
	inflateEnd(&z);
	if (rc != Z_STREAM_END || z.avail_in != 0) {
		free(out);
		return NULL;
	}
	out[*outlen] = '\0';
	return out;
}

/* What one answer carried. */
struct fetched {
	int status;
	int streamed; /* the body came through tr_http_stream_read() */
	int gzip;
	char etag[64];
	char *body; /* inflated when gzip */
	size_t len;
};

static void
fetch(struct tr_http *srv, struct fetched *g, const char *path, const char *k,
      const char *v, int gzip, const char *inm)
{
	struct tr_http_response resp;
	struct tr_buf b;
	struct req q;
	char chunk[4096];
	long n;

	memset(g, 0, sizeof(*g));
	req_init(&q, TR_HTTP_GET, path);
	q.r.now = (int64_t)time(NULL);
	if (k)
		req_arg(&q, k, v);
	q.r.accept_encoding = gzip ? "gzip" : NULL;
	q.r.if_none_match = inm;
	tr_http_handle(srv, &resp, &q.r);
	g->status = resp.status;
	g->gzip = resp.gzip;
	snprintf(g->etag, sizeof(g->etag), "%s", resp.etag);
	tr_buf_init(&b, 256u << 20);
	if (resp.stream) {
		g->streamed = 1;
		while ((n = tr_http_stream_read(resp.stream, chunk,
		                                sizeof(chunk))) > 0)
			tr_buf_add(&b, chunk, (size_t)n);
		CHECK_INT((int)n, 0);
	} else if (resp.body_len) {
		tr_buf_add(&b, resp.body, resp.body_len);
	}
	if (g->gzip && b.len) {
		g->body = gunzip_all(b.data, b.len, &g->len);
		CHECK(g->body != NULL);
	} else {
		g->len = b.len;
		g->body = tr_buf_detach(&b);
	}
	tr_buf_free(&b);
	tr_http_response_free(&resp);
}

/* A store of articles with long texts: 1.5 MB of content and more. */
static char *
fill_db_long(const struct tr_config *cfg, int n)
{
	char *path = tmp_db();
	struct tr_store *st = NULL;
	struct tr_store_batch *b = NULL;
	int i, f;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	tr_store_set_now(st, 1700100000);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	for (f = 0; f < 2; f++) {
		const char *feed = f ? "beta" : "alpha";

		CHECK_INT(tr_store_batch_begin(&b, st, feed), 0);
		for (i = 0; i < n; i++) {
			struct tr_article a;
			struct tr_buf t;
			char buf[256];
			int k;

			tr_article_init(&a);
			snprintf(buf, sizeof(buf), "urn:%s:%d", feed, i);
			a.id = strdup(buf);
			a.guid = strdup(buf);
			snprintf(buf, sizeof(buf), "https://example.org/%s/%d",
			         feed, i);
			a.link = strdup(buf);
			snprintf(buf, sizeof(buf), "%s article %d", feed, i);
			a.title = strdup(buf);
			tr_buf_init(&t, 1 << 20);
			/* Long ones (cut at 32 KiB) and short ones (kept
			 * whole past the page budget). */
			for (k = 0; k < (i % 3 ? 900 : 8); k++)
				tr_buf_printf(&t, "<p>%s paragraph %d &amp; "
				              "caf\xc3\xa9.</p>", feed, k);
			a.content = tr_buf_detach(&t);
			a.summary = strdup("<p>summary</p>");
			a.published = 1700000000 + i * 60 + f;
			CHECK_INT(tr_store_batch_add(b, &a), 0);
			tr_article_free(&a);
		}
		CHECK_INT(tr_store_batch_commit(b, NULL, NULL), 0);
		tr_store_batch_free(b);
	}
	tr_store_close(st);
	return path;
}

/*
 * The same requests to a server that streams everything past 1 KiB and
 * one that never streams: byte-identical bodies in every format, with
 * and without gzip, over one page and several (next links in the head),
 * past the page budget; the same validators, and a 304 without a body.
 */
static void
test_streamed_same_bytes(void)
{
	static const char *const paths[] = {
	    "/feed.atom", "/feed.rss", "/feed.json", "/",
	    "/tags/world.atom", "/feeds/beta.rss", "/feeds/beta.html",
	};
	static const char *const limits[] = {NULL, "3", "1000"};
	struct tr_config *cfg = load_cfg(conf);
	char *db = fill_db_long(cfg, 60);
	struct tr_http *built = NULL, *streamed = NULL;
	struct tr_http_opts ob, os;
	size_t i, j;
	int gz, n_streamed = 0, n_big = 0;

	memset(&ob, 0, sizeof(ob));
	memset(&os, 0, sizeof(os));
	ob.stream_min = (size_t)-1;
	os.stream_min = 1024;
	CHECK_INT(tr_http_new(&built, cfg, db, &ob), 0);
	CHECK_INT(tr_http_new(&streamed, cfg, db, &os), 0);
	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
		for (j = 0; j < sizeof(limits) / sizeof(limits[0]); j++)
			for (gz = 0; gz < 2; gz++) {
				const char *k = limits[j] ? "limit" : NULL;
				struct fetched a, b, c;

				fetch(built, &a, paths[i], k, limits[j], gz,
				      NULL);
				fetch(streamed, &b, paths[i], k, limits[j], gz,
				      NULL);
				CHECK_INT(a.status, 200);
				CHECK_INT(b.status, 200);
				CHECK_INT(a.streamed, 0);
				n_streamed += b.streamed;
				n_big += a.len > TR_RENDER_PAGE_BUDGET;
				CHECK_INT(b.gzip, gz);
				if (a.len != b.len ||
				    memcmp(a.body, b.body, a.len) != 0)
					printf("  %s limit=%s gzip=%d: %zu "
					       "bytes built, %zu streamed\n",
					       paths[i], limits[j], gz, a.len,
					       b.len);
				CHECK(a.len == b.len &&
				      memcmp(a.body, b.body, a.len) == 0);
				CHECK_STR(a.etag, b.etag);
				/* The validators alone answer a 304. */
				fetch(streamed, &c, paths[i], k, limits[j], gz,
				      b.etag);
				CHECK_INT(c.status, 304);
				CHECK_INT(c.streamed, 0);
				CHECK_INT((int)c.len, 0);
				free(a.body);
				free(b.body);
				free(c.body);
			}
	CHECK_INT(n_streamed, (int)(sizeof(paths) / sizeof(paths[0]) * 3 * 2));
	CHECK(n_big >= 8); /* the page budget was reached */
	/* OPML is built whole whatever its size. */
	{
		struct fetched g;

		fetch(streamed, &g, "/feeds.opml", NULL, NULL, 0, NULL);
		CHECK_INT(g.status, 200);
		CHECK_INT(g.streamed, 0);
		free(g.body);
	}
	tr_http_stop(built);
	tr_http_stop(streamed);
	rm_db(db);
	tr_config_free(cfg);
}

/*
 * A streamed answer whose reader goes away, or whose deadline passes,
 * ends its producer: the server stops without waiting on it, and the
 * store is not held.
 */
static void
test_streamed_abandoned(void)
{
	struct tr_config *cfg = load_cfg(conf);
	char *db = fill_db_long(cfg, 60);
	struct tr_http *srv = NULL;
	struct tr_http_opts o;
	struct tr_http_response resp;
	struct req q;
	char chunk[100];
	int i;

	memset(&o, 0, sizeof(o));
	o.stream_min = 1024;
	o.stream_timeout = 1;
	o.max_streams = 2;
	CHECK_INT(tr_http_new(&srv, cfg, db, &o), 0);
	/* Read a little, then drop it (the producers of dropped streams
	 * end soon, not at once: a 503 meanwhile is retried). */
	for (i = 0; i < 5; i++) {
		int k;

		req_init(&q, TR_HTTP_GET, "/feed.atom");
		q.r.now = (int64_t)time(NULL);
		req_arg(&q, "limit", "1000");
		for (k = 0; k < 500; k++) {
			tr_http_handle(srv, &resp, &q.r);
			if (resp.status != 503)
				break;
			tr_http_response_free(&resp);
			usleep(10 * 1000);
		}
		CHECK_INT(resp.status, 200);
		CHECK(resp.stream != NULL);
		if (resp.stream)
			CHECK(tr_http_stream_read(resp.stream, chunk,
			                          sizeof(chunk)) > 0);
		tr_http_response_free(&resp);
	}
	/* Two streams at once at most: a third is a 503, and once one
	 * ends, streams start again. */
	{
		struct tr_http_response held[2];

		for (i = 0; i < 2; i++) {
			int k;

			req_init(&q, TR_HTTP_GET, "/feed.rss");
			q.r.now = (int64_t)time(NULL);
			req_arg(&q, "limit", "1000");
			/* The producers of the streams dropped above end
			 * soon, not at once. */
			for (k = 0; k < 500; k++) {
				tr_http_handle(srv, &held[i], &q.r);
				if (held[i].stream)
					break;
				tr_http_response_free(&held[i]);
				usleep(10 * 1000);
			}
			CHECK(held[i].stream != NULL);
		}
		req_init(&q, TR_HTTP_GET, "/feed.json");
		q.r.now = (int64_t)time(NULL);
		req_arg(&q, "limit", "1000");
		tr_http_handle(srv, &resp, &q.r);
		CHECK_INT(resp.status, 503);
		CHECK(resp.stream == NULL && resp.entry == NULL);
		CHECK(resp.etag[0] == '\0');
		tr_http_response_free(&resp);
		for (i = 0; i < 2; i++)
			tr_http_response_free(&held[i]);
		for (i = 0; i < 500; i++) { /* the producers notice */
			tr_http_handle(srv, &resp, &q.r);
			if (resp.status == 200)
				break;
			tr_http_response_free(&resp);
			usleep(10 * 1000);
		}
		CHECK_INT(resp.status, 200);
		CHECK(resp.stream != NULL);
		tr_http_response_free(&resp);
	}
	/* A reader too slow for the deadline gets a cut answer. */
	req_init(&q, TR_HTTP_GET, "/feed.atom");
	q.r.now = (int64_t)time(NULL);
	req_arg(&q, "limit", "1000");
	for (i = 0; i < 500; i++) { /* the stream freed above ends soon */
		tr_http_handle(srv, &resp, &q.r);
		if (resp.stream)
			break;
		tr_http_response_free(&resp);
		usleep(10 * 1000);
	}
	CHECK(resp.stream != NULL);
	if (resp.stream) {
		long n;

		sleep(3);
		while ((n = tr_http_stream_read(resp.stream, chunk,
		                                sizeof(chunk))) > 0)
			;
		CHECK_INT((int)n, -1);
	}
	tr_http_response_free(&resp);
	tr_http_stop(srv);
	rm_db(db);
	tr_config_free(cfg);
}

TR_TESTS(test_target_check, test_origin_path, test_handle_target,
         test_routes, test_params_defaults_and_values, test_params_errors,
         test_params_repeat_nul_long, test_params_query, test_etag_match,
         test_accepts_gzip, test_parse_listen, test_handle_cache_and_validators,
         test_tiny_body_not_gzipped, test_handle_errors,
         test_hooks_and_counters, test_max_age_and_cache_bounds, test_base_url,
         test_concurrent_requests, test_real_store, test_streamed_same_bytes,
         test_streamed_abandoned)
