/*
 * test_store_copy.c — tr_store_copy on the backend under test (SQLite,
 * or PostgreSQL with TR_TEST_PG): a store copied into a new SQLite file
 * and into a new store of the same backend reads the same (the merged
 * query with its primaries and other feeds, search, each feed's state,
 * the generation), with counts and checksums that agree; a copy's
 * identity sequences continue after the copied ids; a target with rows
 * and bad addresses are refused.
 */
#include "test_store_util.h"

static const char conf[] = "[tributary]\n"
			   "database = x.db\n"
			   "[feed \"alpha\"]\n"
			   "url = http://127.0.0.1:1/a.xml\n"
			   "tags = news, tech\n"
			   "[feed \"beta\"]\n"
			   "url = http://127.0.0.1:1/b.xml\n"
			   "title = Beta \\; the second\n"
			   "[feed \"gamma\"]\n"
			   "url = http://127.0.0.1:1/c.xml\n";

/* Text a row must carry through any backend byte for byte. */
static const char odd[] = "odd\ttab \\ back\\slash \\N \\t \xc3\xa9\n"
			  "second line\r\nthird";

static void
fill(const char *path)
{
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf);
	struct tr_article v[40];
	struct tr_feed_state fs;
	size_t i, n;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	tr_store_set_now(st, 1790000000);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	/* alpha: 30 stories; beta: 10 of them again (alpha's rows stay the
	 * primaries) and its own; gamma: undated odd text. */
	for (i = 0; i < 30; i++) {
		char id[32], link[64], title[32];

		snprintf(id, sizeof(id), "a-%zu", i);
		snprintf(link, sizeof(link), "http://example.com/s/%zu", i);
		snprintf(title, sizeof(title), "Story %zu", i);
		mkart(&v[i], id, link, title, 1780000000 + (int64_t)i * 3600);
	}
	CHECK_INT(store_doc(st, "alpha", v, 30, NULL), 0);
	free_arts(v, 30);
	for (i = 0, n = 0; i < 10; i++, n++) {
		char id[32], link[64], title[32];

		snprintf(id, sizeof(id), "b-%zu", i);
		snprintf(link, sizeof(link), "http://example.com/s/%zu",
		    i < 5 ? i * 2 : 100 + i);
		snprintf(title, sizeof(title), "Beta %zu", i);
		mkart(&v[n], id, link, title, 1780000000 + (int64_t)i * 7200);
	}
	CHECK_INT(store_doc(st, "beta", v, n, NULL), 0);
	free_arts(v, n);
	mkart(&v[0], "c-0", "http://example.com/odd", odd, TR_DATE_NONE);
	free(v[0].summary);
	v[0].summary = strdup(odd);
	mkart(&v[1], "c-1", NULL, "Gamma without link", TR_DATE_NONE);
	CHECK_INT(store_doc(st, "gamma", v, 2, NULL), 0);
	free_arts(v, 2);
	/* A feed's state with validators and an error. */
	CHECK_INT(tr_store_feed_get(st, &fs, "beta"), 0);
	free(fs.etag);
	fs.etag = strdup("\"v\tag\"");
	free(fs.last_error);
	fs.last_error = strdup("HTTP 500 Internal Server Error");
	fs.errors = 3;
	fs.last_status = 500;
	fs.next_check = 1790003600;
	CHECK_INT(tr_store_feed_save(st, &fs), 0);
	tr_feed_state_free(&fs);
	tr_store_close(st);
	tr_config_free(cfg);
}

/* The merged page of q on a and on b are the same, item for item. */
static void
same_page(struct tr_store *a, struct tr_store *b, const char *q)
{
	struct page *pa = calloc(1, sizeof(*pa)), *pb = calloc(1, sizeof(*pb));
	struct tr_query qa = q_all();
	size_t i;

	qa.q = q;
	qa.limit = 1000;
	CHECK_INT(query(a, &qa, pa, NULL), 0);
	CHECK_INT(query(b, &qa, pb, NULL), 0);
	CHECK(pa->n > 0);
	CHECK_INT(pb->n, pa->n);
	for (i = 0; i < pa->n && i < pb->n; i++) {
		CHECK_STR(pb->items[i].id, pa->items[i].id);
		CHECK_STR(pb->items[i].feed, pa->items[i].feed);
		CHECK_STR(pb->items[i].title, pa->items[i].title);
		CHECK_STR(pb->items[i].also, pa->items[i].also);
		CHECK_INT(pb->items[i].sort_date, pa->items[i].sort_date);
		CHECK_INT(pb->items[i].first_seen, pa->items[i].first_seen);
		CHECK_INT(pb->items[i].published, pa->items[i].published);
	}
	page_free(pa);
	page_free(pb);
	free(pa);
	free(pb);
}

static void
same_feed(struct tr_store *a, struct tr_store *b, const char *name)
{
	struct tr_feed_state x, y;

	CHECK_INT(tr_store_feed_get(a, &x, name), 0);
	CHECK_INT(tr_store_feed_get(b, &y, name), 0);
	CHECK_STR(y.url, x.url);
	CHECK_STR(y.title ? y.title : "", x.title ? x.title : "");
	CHECK_STR(y.etag ? y.etag : "", x.etag ? x.etag : "");
	CHECK_STR(y.last_error ? y.last_error : "",
	    x.last_error ? x.last_error : "");
	CHECK_INT(y.errors, x.errors);
	CHECK_INT(y.last_status, x.last_status);
	CHECK_INT(y.next_check, x.next_check);
	CHECK_INT(y.last_check, x.last_check);
	CHECK_INT(y.n_articles, x.n_articles);
	CHECK_INT(y.active, x.active);
	tr_feed_state_free(&x);
	tr_feed_state_free(&y);
}

static void
same_store(const char *from, const char *to)
{
	struct tr_store *a = NULL, *b = NULL;
	int64_t ga = 0, gb = 0, ca = 0, cb = 0;

	CHECK_INT(tr_store_open(&a, from, TR_STORE_READONLY), 0);
	CHECK_INT(tr_store_open(&b, to, TR_STORE_READONLY), 0);
	same_page(a, b, NULL);
	same_page(a, b, "story");
	same_page(a, b, "second");
	same_feed(a, b, "alpha");
	same_feed(a, b, "beta");
	same_feed(a, b, "gamma");
	CHECK_INT(tr_store_generation(a, &ga, &ca), 0);
	CHECK_INT(tr_store_generation(b, &gb, &cb), 0);
	CHECK(ga > 0);
	CHECK_INT(gb, ga);
	CHECK_INT(cb, ca);
	tr_store_close(a);
	tr_store_close(b);
}

/* A new article in the copy: stored, after every copied one. */
static void
takes_new_rows(const char *path)
{
	struct tr_store *st = NULL;
	struct tr_article a;
	struct tr_store_result res;
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	mkart(&a, "g-new", "http://example.com/new", "Brand new", 1790000000);
	memset(&res, 0, sizeof(res));
	CHECK_INT(store_doc(st, "gamma", &a, 1, &res), 0);
	free_arts(&a, 1);
	q.feed = "gamma";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK(p->n >= 1);
	if (p->n >= 1)
		CHECK_STR(p->items[0].title, "Brand new");
	page_free(p);
	free(p);
	tr_store_close(st);
}

static void
test_copy_reads_the_same(void)
{
	struct tr_store_copy_report rep;
	char why[1024];
	char *src = tmp_db(), *same = tmp_db(), *file;
	size_t i;

	file = malloc(strlen(src) + 32);
	snprintf(file, strlen(src) + 32, "/tmp/tr-copy-test-%ld.sqlite",
	    (long)getpid());
	fill(src);
	/* Into a new SQLite file, and into a new store of this backend. */
	CHECK_INT(tr_store_copy(src, file, &rep, why, sizeof(why)), 0);
	CHECK(rep.same);
	CHECK(rep.read_back);
	CHECK_INT(rep.from[3], 42);
	for (i = 0; i < TR_STORE_COPY_TABLES; i++)
		CHECK_INT(rep.to[i], rep.from[i]);
	CHECK_STR(rep.table[0], "feeds");
	CHECK_INT(rep.from[0], 3);
	CHECK_INT(rep.from[1], 2); /* alpha's two tags */
	CHECK(rep.from_sum == rep.to_sum);
	CHECK(rep.from_sum != 0);
	CHECK_INT(tr_store_copy(src, same, &rep, why, sizeof(why)), 0);
	CHECK(rep.same);
	same_store(src, file);
	same_store(src, same);
	/* The copies take new articles after the copied ids. */
	takes_new_rows(file);
	takes_new_rows(same);
	rm_db(src);
	rm_db(same);
	rm_db(file);
}

static void
test_target_with_rows_refused(void)
{
	struct tr_store_copy_report rep;
	char why[1024];
	char *src = tmp_db(), *dst = tmp_db();
	struct tr_store *st = NULL;
	struct tr_store_stats s;

	fill(src);
	fill(dst);
	CHECK_INT(tr_store_copy(src, dst, &rep, why, sizeof(why)), TR_EINVAL);
	CHECK(strstr(why, "already holds a store (3 feeds, 42 articles)") !=
	    NULL);
	CHECK(!rep.same);
	CHECK(!rep.read_back);
	CHECK_INT(tr_store_open(&st, dst, TR_STORE_READONLY), 0);
	CHECK_INT(tr_store_stats(st, &s), 0);
	CHECK_INT(s.articles, 42);
	CHECK_INT(s.feeds, 3);
	tr_store_close(st);
	/* Itself. */
	CHECK_INT(tr_store_copy(src, src, &rep, why, sizeof(why)), TR_EINVAL);
	CHECK(strstr(why, "same store") != NULL);
	rm_db(src);
	rm_db(dst);
}

static void
test_bad_addresses(void)
{
	static const struct {
		const char *from, *to, *want;
		int rc;
	} cases[] = {
	    {"", "/tmp/tr-copy-never.sqlite", "empty", TR_EINVAL},
	    {"/tmp/tr-copy-never.sqlite", "", "empty", TR_EINVAL},
	    {"postgresql://tr:pw-secret@/x?nosuchoption=1",
		"/tmp/tr-copy-never.sqlite", "not a valid PostgreSQL address",
		TR_EINVAL},
	    {"/tmp/tr-copy-no-such-source.sqlite", "/tmp/tr-copy-never.sqlite",
		"no such file", TR_ENOTFOUND},
	    {"postgresql://tr:pw-secret@/x?host=/nonexistent",
		"/tmp/tr-copy-never.sqlite", "cannot connect", TR_ESTORE},
	};
	struct tr_store_copy_report rep;
	char why[1024];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(tr_store_copy(cases[i].from, cases[i].to, &rep, why,
			      sizeof(why)),
		    cases[i].rc);
		if (strstr(why, cases[i].want) == NULL)
			printf("  case %zu: %s\n", i, why);
		CHECK(strstr(why, cases[i].want) != NULL);
		CHECK(strstr(why, "pw-secret") == NULL);
		CHECK(access("/tmp/tr-copy-never.sqlite", F_OK) != 0);
	}
}

TR_TESTS(test_copy_reads_the_same, test_target_with_rows_refused,
    test_bad_addresses)
