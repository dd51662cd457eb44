/*
 * fuzz_http_query.c — libFuzzer target for the endpoint's path, query and
 * header parsing, and the request handler behind them.
 *
 * The input is up to five lines:
 *	request target ("/tags/x.atom?limit=5&q=a+b")
 *	If-None-Match value
 *	Accept-Encoding value
 *	If-Modified-Since value
 *	Accept value (a browser gets a feed as application/xml)
 * The target is split and percent-decoded the way libmicrohttpd does it
 * (MHD_http_unescape, '+' as space) and handed to tr_http_handle() on a
 * server whose documents come from a small fake source, so that routing,
 * parameters, the cache and conditional requests all run on every input.
 * Checks: a 400 body is one line; a 200 or 304 carries a quoted ETag; a
 * 304 has no body; tr_http_wants_page() agrees with the type answered.
 * The raw target goes through tr_http_target_check() first, as the URI
 * callback does; every q value through tr_store_search_expr(), whose
 * expression must be one FTS5 accepts (run against an in-memory FTS5
 * table) and whose refusals name no column or engine.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>
#include <sqlite3.h>

#include "http_int.h"
#include "tributary/error.h"
#include "tributary/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int fake_handle;

static int
fake_open(void **h, const char *db)
{
	(void)db;
	*h = &fake_handle;
	return 0;
}

static void
fake_close(void *h)
{
	(void)h;
}

static int64_t fake_gen = 1;

static int
fake_generation(void *h, int64_t *gen, int64_t *changed_at)
{
	(void)h;
	*gen = fake_gen;
	*changed_at = 1700000000;
	return 0;
}

static int
fake_next_due(void *h, int64_t *when)
{
	(void)h;
	*when = 1700000600;
	return 0;
}

/* Renders the canonical query, like a document's self link would. */
static int
fake_render(void *h, struct tr_http_render_req *rr)
{
	(void)h;
	if (rr->route->name[0] == 'x') {
		snprintf(rr->why, sizeof(rr->why), "no tag named %s",
		         rr->route->name);
		return TR_ENOTFOUND;
	}
	if (tr_buf_printf(rr->out, "%s%s?", rr->base_url, rr->path) != 0)
		return TR_ENOMEM;
	return tr_http_params_query(rr->out, rr->params, NULL);
}

static const struct tr_http_source fake = {
    fake_open, fake_close, fake_generation, fake_next_due, fake_render, NULL,
};

static struct tr_http *
server(void)
{
	static struct tr_http *srv;
	static struct tr_config *cfg;
	char path[] = "/tmp/fuzz-http-conf-XXXXXX";
	struct tr_http_opts o = {0};
	FILE *fp;
	int fd;

	if (srv)
		return srv;
	if ((fd = mkstemp(path)) < 0 || (fp = fdopen(fd, "w")) == NULL)
		abort();
	fputs("[tributary]\nbase_url = http://fuzz.test\n"
	      "[feed \"a\"]\nurl = http://127.0.0.1:1/\ntags = t\n",
	      fp);
	fclose(fp);
	if (tr_config_load(&cfg, NULL, path) != 0)
		abort();
	unlink(path);
	o.cache_entries = 8;
	o.cache_bytes = 1 << 16;
	if (tr_http_new_source(&srv, cfg, "fuzz.db", &o, &fake) != 0)
		abort();
	return srv;
}

/* Splits "k=v&k2" in place into args, decoding like libmicrohttpd. */
static size_t
split_query(struct tr_http_arg *args, size_t max, char *q)
{
	size_t n = 0;
	char *tok, *save = NULL, *eq, *p;

	for (tok = strtok_r(q, "&", &save); tok && n < max;
	     tok = strtok_r(NULL, "&", &save)) {
		for (p = tok; *p; p++)
			if (*p == '+')
				*p = ' ';
		eq = strchr(tok, '=');
		if (eq)
			*eq++ = '\0';
		args[n].key = tok;
		args[n].key_len = MHD_http_unescape(tok);
		args[n].value = eq;
		args[n].value_len = eq ? MHD_http_unescape(eq) : 0;
		n++;
	}
	return n;
}

/* q as the store would run it: a valid FTS5 expression or a refusal. */
static void
check_search(const char *q)
{
	static sqlite3 *db;
	static sqlite3_stmt *s;
	char *expr = NULL, why[200];
	int rc;

	if (db == NULL &&
	    (sqlite3_open(":memory:", &db) != SQLITE_OK ||
	     sqlite3_exec(db,
	                  "CREATE VIRTUAL TABLE t USING fts5(title, summary,"
	                  " content); INSERT INTO t VALUES ('covid-19 news',"
	                  " 'e-mail', 'C++ caf\xc3\xa9')",
	                  NULL, NULL, NULL) != SQLITE_OK ||
	     sqlite3_prepare_v2(db, "SELECT 1 FROM t WHERE t MATCH ?", -1, &s,
	                        NULL) != SQLITE_OK))
		abort();
	rc = tr_store_search_expr(&expr, why, sizeof(why), q);
	if (rc == TR_EINVAL) {
		if (why[0] == '\0' || strstr(why, "column") ||
		    strstr(why, "fts5") || strstr(why, "syntax"))
			abort();
		return;
	}
	if (rc != 0)
		abort();
	if (expr) {
		sqlite3_bind_text(s, 1, expr, -1, SQLITE_TRANSIENT);
		while ((rc = sqlite3_step(s)) == SQLITE_ROW)
			;
		sqlite3_reset(s);
		if (rc != SQLITE_DONE) {
			fprintf(stderr, "q %s -> %s: %s\n", q, expr,
			        sqlite3_errmsg(db));
			abort();
		}
	}
	free(expr);
}

/* The next line of the input as a NUL-terminated copy (or NULL). */
static char *
next_line(const uint8_t **p, const uint8_t *end)
{
	const uint8_t *s = *p, *nl;
	char *line;

	if (s >= end)
		return NULL;
	nl = memchr(s, '\n', (size_t)(end - s));
	if (nl == NULL)
		nl = end;
	if ((line = malloc((size_t)(nl - s) + 1)) == NULL)
		abort();
	memcpy(line, s, (size_t)(nl - s));
	line[nl - s] = '\0';
	*p = nl < end ? nl + 1 : end;
	return line;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *p = data, *end = data + size;
	char *target = next_line(&p, end), *inm = next_line(&p, end);
	char *ae = next_line(&p, end), *ims = next_line(&p, end);
	char *acc = next_line(&p, end);
	struct tr_http_arg args[64];
	struct tr_http_request req;
	struct tr_http_response resp;
	unsigned flags;
	size_t i;
	char *q;

	if (target == NULL)
		return 0;
	memset(&req, 0, sizeof(req));
	flags = tr_http_target_check(target, 2048);
	req.uri_too_long = (flags & TR_TARGET_TOO_LONG) != 0;
	req.too_many_args = (flags & TR_TARGET_TOO_MANY_ARGS) != 0;
	req.bad_path = (flags & TR_TARGET_BAD_PATH) != 0;
	if ((q = strchr(target, '?')) != NULL) {
		*q++ = '\0';
		req.n_args = split_query(args, 64, q);
	}
	for (i = 0; i < req.n_args; i++)
		if (args[i].key_len == 1 && args[i].key[0] == 'q' &&
		    args[i].value && strlen(args[i].value) <= 1024)
			check_search(args[i].value);
	MHD_http_unescape(target);
	req.method = size % 3 == 0 ? TR_HTTP_HEAD : TR_HTTP_GET;
	req.path = target;
	req.args = args;
	req.if_none_match = inm;
	req.accept_encoding = ae;
	req.if_modified_since = ims;
	req.accept = acc;
	req.now = 1700000000;
	fake_gen = 1 + (int64_t)(size % 2);
	tr_http_handle(server(), &resp, &req);
	if (resp.status == 400 &&
	    (resp.body_len == 0 || memchr(resp.body, '\n', resp.body_len) !=
	                               resp.body + resp.body_len - 1))
		abort();
	if ((resp.status == 200 || resp.status == 304) && resp.entry &&
	    (resp.etag[0] != '"' || resp.etag[strlen(resp.etag) - 1] != '"'))
		abort();
	if (resp.entry && resp.content_type &&
	    strncmp(resp.content_type, "application/xml", 15) == 0 &&
	    !tr_http_wants_page(acc))
		abort();
	if (resp.status == 304 && resp.body_len != 0)
		abort();
	tr_http_response_free(&resp);
	free(target);
	free(inm);
	free(ae);
	free(ims);
	free(acc);
	return 0;
}
