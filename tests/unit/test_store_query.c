/*
 * test_store_query.c — the merged query: order and date clamping,
 * cross-feed deduplication, filters, full-text search, pagination,
 * per-feed caps, query plans; and retention.
 */
#include "store_sqlite_int.h" /* the statements of a commit, for their plans */
#include "test_store_util.h"

static const char conf3[] = "[tributary]\n"
			    "database = x.db\n"
			    "[feed \"a\"]\n"
			    "url = http://127.0.0.1:1/a.xml\n"
			    "tags = news\n"
			    "[feed \"b\"]\n"
			    "url = http://127.0.0.1:1/b.xml\n"
			    "tags = news, tech\n"
			    "[feed \"c\"]\n"
			    "url = http://127.0.0.1:1/c.xml\n"
			    "tags = tech\n";

/* On PostgreSQL, the databases open_with() made: dropped at exit. */
static char *pg_dbs[64];
static size_t n_pg_dbs;

static void
drop_pg_dbs(void)
{
	while (n_pg_dbs > 0)
		rm_db(pg_dbs[--n_pg_dbs]);
}

static struct tr_store *
open_with(const char *conf, struct tr_config **cfgp)
{
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf);
	const char *path = ":memory:";

	if (is_pg() && n_pg_dbs < sizeof(pg_dbs) / sizeof(pg_dbs[0])) {
		if (n_pg_dbs == 0)
			atexit(drop_pg_dbs);
		path = pg_dbs[n_pg_dbs++] = tmp_db();
	}
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	if (cfgp)
		*cfgp = cfg;
	else
		tr_config_free(cfg);
	return st;
}

/* Stores one article as a one-item document... of a growing document. */
static void
put(struct tr_store *st, const char *feed, int64_t now, const char *id,
    const char *link, const char *title, int64_t published)
{
	struct tr_article a;

	mkart(&a, id, link, title, published);
	tr_store_set_now(st, now);
	{
		struct tr_store_batch *b = NULL;

		CHECK_INT(tr_store_batch_begin(&b, st, feed), 0);
		CHECK_INT(tr_store_batch_add(b, &a), 0);
		CHECK_INT(tr_store_batch_commit(b, NULL, NULL), 0);
		tr_store_batch_free(b);
	}
	tr_article_free(&a);
}

static void
test_order_and_clamp(void)
{
	struct tr_store *st = open_with(conf3, NULL);
	struct tr_article v[4];
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();

	tr_store_set_now(st, 10000);
	mkart(&v[0], "pub", NULL, "published", 5000);
	mkart(&v[1], "upd", NULL, "updated only", TR_DATE_NONE);
	v[1].updated = 6000;
	mkart(&v[2], "none", NULL, "no date", TR_DATE_NONE);
	mkart(&v[3], "future", NULL, "future", 99999999);
	CHECK_INT(store_doc(st, "a", v, 4, NULL), 0);
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 4);
	if (p->n == 4) {
		/* none and future both sort at first_seen; newer id first. */
		CHECK_STR(p->items[0].id, "future");
		CHECK_INT(p->items[0].sort_date, 10000);
		CHECK_INT(p->items[0].published, 99999999);
		CHECK_STR(p->items[1].id, "none");
		CHECK_INT(p->items[1].sort_date, 10000);
		CHECK_STR(p->items[2].id, "upd");
		CHECK_INT(p->items[2].sort_date, 6000);
		CHECK_STR(p->items[3].id, "pub");
		CHECK_INT(p->items[3].sort_date, 5000);
	}
	page_free(p);
	free(p);
	free_arts(v, 4);
	tr_store_close(st);
}

static void
test_cross_feed_dedup(void)
{
	struct tr_store *st = open_with(conf3, NULL);
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();

	/* The same article under three spellings of its link. */
	put(st, "b", 2000, "b-1", "http://127.0.0.1/x?utm_source=rss&id=7",
	    "From B", 500);
	put(st, "a", 1000, "a-1", "HTTP://127.0.0.1:80/x?id=7#top", "From A",
	    500);
	put(st, "c", 3000, "c-1", "http://127.0.0.1/x?id=7&fbclid=zz",
	    "From C", 500);
	/* No link: identical identities in two feeds are two articles. */
	put(st, "a", 1000, "hash:0011223344556677", NULL, "no link", 400);
	put(st, "b", 1000, "hash:0011223344556677", NULL, "no link", 400);
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 3);
	if (p->n == 3) {
		/* Earliest first_seen wins, although A stored it later. */
		CHECK_STR(p->items[0].feed, "a");
		CHECK_STR(p->items[0].title, "From A");
		CHECK_STR(p->items[0].also, "b,c");
		CHECK_STR(p->items[1].also, "");
		CHECK_STR(p->items[2].also, "");
	}
	/* Within tag tech (b, c) the earliest there is b's. */
	q.tag = "tech";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 2);
	if (p->n == 2) {
		CHECK_STR(p->items[0].feed, "b");
		CHECK_STR(p->items[0].also, "a,c");
		CHECK_STR(p->items[1].title, "no link");
	}
	/* Only feed c. */
	q.tag = NULL;
	q.feed = "c";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 1);
	if (p->n == 1)
		CHECK_STR(p->items[0].title, "From C");
	/* Retention removing a's copy promotes the next earliest (b). */
	{
		struct tr_config *cfg = cfg_from("[tributary]\nkeep_days = 1\n"
						 "[feed \"b\"]\nurl = "
						 "http://127.0.0.1:1/b\n"
						 "keep_days = 0\n"
						 "[feed \"c\"]\nurl = "
						 "http://127.0.0.1:1/c\n"
						 "keep_days = 0\n");
		struct tr_store_batch *b = NULL;
		int64_t n = -1;

		/* a's latest document no longer holds its articles. */
		CHECK_INT(tr_store_batch_begin(&b, st, "a"), 0);
		CHECK_INT(tr_store_batch_commit(b, NULL, NULL), 0);
		tr_store_batch_free(b);
		CHECK_INT(tr_store_retention(st, cfg, 1500 + 2 * 86400, &n), 0);
		/* a's two (global keep_days); b and c keep forever */
		CHECK_INT(n, 2);
		q.feed = NULL;
		CHECK_INT(query(st, &q, p, NULL), 0);
		CHECK_INT(p->n, 2);
		if (p->n == 2) {
			CHECK_STR(p->items[0].feed, "b");
			CHECK_STR(p->items[0].also, "c");
		}
		tr_config_free(cfg);
	}
	page_free(p);
	free(p);
	tr_store_close(st);
}

static void
test_link_change_moves_primary(void)
{
	struct tr_store *st = open_with(conf3, NULL);
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();

	put(st, "a", 1000, "a-1", "http://127.0.0.1/one", "A one", 900);
	put(st, "b", 2000, "b-1", "http://127.0.0.1/one", "B one", 900);
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 1);
	/* a's article now points elsewhere: b's copy becomes visible. */
	put(st, "a", 3000, "a-1", "http://127.0.0.1/two", "A two", 900);
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 2);
	if (p->n == 2) {
		CHECK_STR(p->items[0].also, "");
		CHECK_STR(p->items[1].also, "");
	}
	page_free(p);
	free(p);
	tr_store_close(st);
}

static void
test_filters_and_search(void)
{
	struct tr_store *st = open_with(conf3, NULL);
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();

	put(st, "a", 5000, "a1", "http://127.0.0.1/a1", "Volcano erupts",
	    1000);
	put(st, "b", 5000, "b1", "http://127.0.0.1/b1", "Compiler release",
	    2000);
	put(st, "c", 5000, "c1", "http://127.0.0.1/c1", "Volcanic compiler",
	    3000);
	q.tag = "news";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 2);
	q.tag = "nosuchtag";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 0);
	q.tag = "tech";
	q.feed = "b";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 1);
	q.tag = NULL;
	q.feed = NULL;
	q.since = 2000;
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 2);
	q.since = TR_DATE_NONE;
	q.q = "compiler";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 2);
	if (p->n == 2) {
		CHECK_STR(p->items[0].id, "c1");
		CHECK_STR(p->items[1].id, "b1");
	}
	q.q = "volcan*";
	q.tag = "news";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 1);
	q.tag = NULL;
	/* Every word must appear; "AND" is a word like any other. */
	q.q = "summary volcano";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 1);
	q.q = "summary AND volcano";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 0);
	q.q = "compiler -volcanic";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 1);
	if (p->n == 1)
		CHECK_STR(p->items[0].id, "b1");
	q.q = "\"volcanic compiler\"";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 1);
	q.q = "\"compiler volcanic\"";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 0);
	/* Nothing typed is a syntax error. */
	q.q = "\"unbalanced AND (";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 0);
	q.q = "nosuchcolumn:foo";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 0);
	/* Only exclusions: the reason names no internals. */
	q.q = "-volcano";
	CHECK_INT(query(st, &q, p, NULL), TR_EINVAL);
	CHECK(strstr(tr_store_errmsg(st), "add a word") != NULL);
	/* The handle still works afterwards. */
	q.q = NULL;
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 3);
	page_free(p);
	free(p);
	tr_store_close(st);
}

/*
 * A tag query with a small limit walks the date index; with a large one
 * it sorts the tagged feeds' rows. Both must give the same articles in
 * the same order, page after page.
 */
static void
test_tag_plans_agree(void)
{
	struct tr_store *st = open_with(conf3, NULL);
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();
	static char ids[300][32], all[300][32];
	const char *feeds[3] = {"a", "b", "c"};
	char *cur = NULL, *next = NULL;
	size_t n = 0, n_all = 0, i;
	int f, k;

	for (f = 0; f < 3; f++) {
		struct tr_article v[100];
		char id[32], link[64];

		tr_store_set_now(st, 100000 + f);
		for (k = 0; k < 100; k++) {
			snprintf(id, sizeof(id), "%s%d", feeds[f], k);
			/* a and c share every 4th link; dates interleave. */
			snprintf(link, sizeof(link), "http://127.0.0.1/%s/%d",
			    k % 4 == 0 && f != 1 ? "ac" : feeds[f], k);
			mkart(&v[k], id, link, id, 1000 + k * 7 + f * 3);
		}
		CHECK_INT(store_doc(st, feeds[f], v, 100, NULL), 0);
		free_arts(v, 100);
	}
	/* Tag; full text matching all; both; each walked and sorted. */
	{
		static const char *tags[3] = {"tech", NULL, "news"};
		static const char *fts[3] = {NULL, "summary", "text"};
		static const size_t want[3] = {200, 275, 200};
		int c;

		for (c = 0; c < 3; c++) {
			q.tag = tags[c];
			q.q = fts[c];
			q.limit = 1000;
			n = n_all = 0;
			CHECK_INT(query(st, &q, p, NULL), 0);
			for (i = 0; i < p->n; i++)
				snprintf(all[n_all++], 32, "%s",
				    p->items[i].id);
			CHECK_INT(n_all, want[c]);
			q.limit = 10;
			do {
				q.before = cur;
				CHECK_INT(query(st, &q, p, &next), 0);
				for (i = 0; i < p->n && n < 300; i++)
					snprintf(ids[n++], 32, "%s",
					    p->items[i].id);
				free(cur);
				cur = next;
			} while (cur);
			q.before = NULL;
			CHECK_INT(n, n_all);
			for (i = 0; i < n && i < n_all; i++)
				if (strcmp(ids[i], all[i]) != 0) {
					CHECK_STR(ids[i], all[i]);
					break;
				}
		}
	}
	page_free(p);
	free(p);
	tr_store_close(st);
}

static void
test_pagination(void)
{
	struct tr_store *st = open_with(conf3, NULL);
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();
	struct tr_article v[7];
	char seen[7] = {0};
	char *next = NULL, *cur = NULL;
	int pages = 0, total = 0, i;
	char id[16];

	tr_store_set_now(st, 100000);
	for (i = 0; i < 7; i++) {
		snprintf(id, sizeof(id), "i%d", i);
		/* Two pairs share a date: the id breaks the tie. */
		mkart(&v[i], id, NULL, id, 1000 + (i / 2) * 10);
	}
	CHECK_INT(store_doc(st, "a", v, 7, NULL), 0);
	q.limit = 3;
	do {
		q.before = cur;
		CHECK_INT(query(st, &q, p, &next), 0);
		for (i = 0; i < (int)p->n; i++) {
			int k = atoi(p->items[i].id + 1);

			CHECK(!seen[k]);
			seen[k] = 1;
			total++;
		}
		free(cur);
		cur = next;
		pages++;
	} while (cur && pages < 10);
	CHECK_INT(pages, 3);
	CHECK_INT(total, 7);
	/* Exactly one full page leaves no cursor. */
	q.before = NULL;
	q.limit = 7;
	CHECK_INT(query(st, &q, p, &next), 0);
	CHECK_INT(p->n, 7);
	CHECK(next == NULL);
	q.limit = 6;
	CHECK_INT(query(st, &q, p, &next), 0);
	CHECK(next != NULL && strlen(next) == 40);
	if (next) {
		char *bad = strdup(next);

		bad[5] = bad[5] == '0' ? '1' : '0';
		q.before = bad;
		CHECK_INT(query(st, &q, p, NULL), TR_EINVAL);
		CHECK(strstr(tr_store_errmsg(st), "cursor") != NULL);
		q.before = "garbage";
		CHECK_INT(query(st, &q, p, NULL), TR_EINVAL);
		q.before = "";
		CHECK_INT(query(st, &q, p, NULL), TR_EINVAL);
		q.before = next;
		CHECK_INT(query(st, &q, p, NULL), 0);
		CHECK_INT(p->n, 1);
		free(bad);
	}
	free(next);
	q.before = NULL;
	q.limit = -1;
	CHECK_INT(query(st, &q, p, NULL), TR_EINVAL);
	q.limit = 5000; /* clamped to 1000 */
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 7);
	page_free(p);
	free(p);
	free_arts(v, 7);
	tr_store_close(st);
}

static void
test_default_limit(void)
{
	struct tr_store *st = open_with(conf3, NULL);
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();
	struct tr_article v[60];
	char *next = NULL;
	char id[16];
	int i;

	for (i = 0; i < 60; i++) {
		snprintf(id, sizeof(id), "d%d", i);
		mkart(&v[i], id, NULL, id, 1000 + i);
	}
	CHECK_INT(store_doc(st, "b", v, 60, NULL), 0);
	CHECK_INT(query(st, &q, p, &next), 0);
	CHECK_INT(p->n, 50);
	CHECK(next != NULL);
	free(next);
	page_free(p);
	free(p);
	free_arts(v, 60);
	tr_store_close(st);
}

static void
test_max_per_feed(void)
{
	struct tr_store *st = open_with(
	    "[tributary]\nmax_per_feed = 3\n"
	    "[feed \"flood\"]\nurl = http://127.0.0.1:1/f\nmax_per_feed = 2\n"
	    "[feed \"calm\"]\nurl = http://127.0.0.1:1/c\n",
	    NULL);
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();
	struct tr_article f[6], c[5];
	char id[16];
	int i, nf = 0, nc = 0;

	for (i = 0; i < 6; i++) {
		snprintf(id, sizeof(id), "f%d", i);
		mkart(&f[i], id, NULL, id, 2000 + i);
	}
	for (i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "c%d", i);
		mkart(&c[i], id, NULL, id, 1000 + i);
	}
	CHECK_INT(store_doc(st, "flood", f, 6, NULL), 0);
	CHECK_INT(store_doc(st, "calm", c, 5, NULL), 0);
	q.limit = 10;
	CHECK_INT(query(st, &q, p, NULL), 0);
	for (i = 0; i < (int)p->n; i++) {
		if (strcmp(p->items[i].feed, "flood") == 0)
			nf++;
		else
			nc++;
	}
	CHECK_INT(nf, 2);
	CHECK_INT(nc, 3);
	if (p->n > 0)
		CHECK_STR(p->items[0].id, "f5");
	/* A page of only that feed is not capped. */
	q.feed = "flood";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 6);
	page_free(p);
	free(p);
	free_arts(f, 6);
	free_arts(c, 5);
	tr_store_close(st);
}

/* The query plan of q's SQL as one text, lines joined with '|'. */
static void
plan(const char *path, const struct tr_query *q, int walk, char *out,
    size_t size)
{
	char *sql = tr_store_query_sql(q, walk), *eqp;
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;

	out[0] = '\0';
	eqp = malloc(strlen(sql) + 32);
	sprintf(eqp, "EXPLAIN QUERY PLAN %s", sql);
	sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL);
	if (sqlite3_prepare_v2(db, eqp, -1, &s, NULL) != SQLITE_OK)
		printf("  plan: %s\n", sqlite3_errmsg(db));
	while (s && sqlite3_step(s) == SQLITE_ROW) {
		strncat(out, (const char *)sqlite3_column_text(s, 3),
		    size - strlen(out) - 2);
		strcat(out, "|");
	}
	sqlite3_finalize(s);
	sqlite3_close(db);
	free(eqp);
	free(sql);
}

/* True when the plan reads table a (articles) without an index. */
static int
full_scan(const char *p)
{
	char line[512];
	const char *s = p, *end;
	size_t n;

	/* Plan lines are "SCAN a USING INDEX x" or "SEARCH a USING ...". */
	while ((s = strstr(s, "SCAN a")) != NULL) {
		if (s[6] != ' ' && s[6] != '|' && s[6] != '\0') {
			s += 6; /* another table: "SCAN articles_fts ..." */
			continue;
		}
		end = strchr(s, '|');
		n = end ? (size_t)(end - s) : strlen(s);
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
		memcpy(line, s, n);
		line[n] = '\0';
		if (strcmp(line, "SCAN a") == 0 || !strstr(line, "USING"))
			return 1;
		s += 6;
	}
	return 0;
}

static void
test_query_plans(void)
{
	SKIP_PG("reads SQLite's query plans");
	char *path = tmp_db();
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf3);
	struct tr_query q = q_all();
	char p[4096];

	/* The checker itself. */
	CHECK(full_scan("SEARCH f USING INTEGER PRIMARY KEY (rowid=?)|SCAN a|"));
	CHECK(full_scan("SCAN a"));
	CHECK(!full_scan("SCAN a USING INDEX articles_sort|"));
	CHECK(!full_scan("SCAN articles_fts VIRTUAL TABLE INDEX 0:M3|"));
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	plan(path, &q, 0, p, sizeof(p));
	CHECK(strstr(p, "USING INDEX articles_sort") != NULL);
	CHECK(!full_scan(p));
	CHECK(strstr(p, "TEMP B-TREE") == NULL);
	if (full_scan(p) || !strstr(p, "articles_sort"))
		printf("  plan: %s\n", p);
	q.before = "x";
	q.since = 5;
	plan(path, &q, 0, p, sizeof(p));
	CHECK(strstr(p, "USING INDEX articles_sort (sort_date") != NULL);
	CHECK(!full_scan(p));
	q.before = NULL;
	q.since = TR_DATE_NONE;
	q.tag = "news";
	plan(path, &q, 0, p, sizeof(p));
	if (getenv("TR_SHOW_PLANS"))
		printf("  tag plan: %s\n", p);
	CHECK(!full_scan(p));
	CHECK(strstr(p, "SEARCH a USING INDEX articles_feed") != NULL);
	if (full_scan(p))
		printf("  plan: %s\n", p);
	/* The other plan of a tag: down the date index, no sorting. */
	plan(path, &q, 1, p, sizeof(p));
	if (getenv("TR_SHOW_PLANS"))
		printf("  tag walk plan: %s\n", p);
	CHECK(!full_scan(p));
	CHECK(strstr(p, "USING INDEX articles_sort") != NULL);
	CHECK(strstr(p, "TEMP B-TREE") == NULL);
	q.tag = NULL;
	q.feed = "a";
	plan(path, &q, 0, p, sizeof(p));
	CHECK(!full_scan(p));
	CHECK(strstr(p, "articles_feed") != NULL);
	if (full_scan(p))
		printf("  plan: %s\n", p);
	q.feed = NULL;
	q.q = "x";
	plan(path, &q, 0, p, sizeof(p));
	CHECK(!full_scan(p));
	if (full_scan(p))
		printf("  plan: %s\n", p);
	plan(path, &q, 1, p, sizeof(p));
	if (getenv("TR_SHOW_PLANS"))
		printf("  fts walk plan: %s\n", p);
	CHECK(!full_scan(p));
	CHECK(strstr(p, "USING INDEX articles_sort") != NULL);
	CHECK(strstr(p, "TEMP B-TREE") == NULL);
	tr_config_free(cfg);
	tr_store_close(st);
	rm_db(path);
}

static void
test_retention(void)
{
	struct tr_config *cfg = NULL;
	struct tr_store *st = open_with(
	    "[tributary]\nkeep_items = 3\n"
	    "[feed \"a\"]\nurl = http://127.0.0.1:1/a\n"
	    "[feed \"b\"]\nurl = http://127.0.0.1:1/b\nkeep_items = 0\n"
	    "keep_days = 10\n",
	    &cfg);
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();
	struct tr_article v[6];
	int64_t n = -1, g0 = 0, g1 = 0;
	char id[16];
	int i;

	tr_store_set_now(st, 1000000);
	for (i = 0; i < 6; i++) {
		snprintf(id, sizeof(id), "r%d", i);
		mkart(&v[i], id, NULL, i == 0 ? "zebra oldest" : id,
		    900000 + i * 1000);
	}
	/* a: 5 articles, all in the latest document: nothing goes. */
	CHECK_INT(store_doc(st, "a", v, 5, NULL), 0);
	CHECK_INT(tr_store_retention(st, cfg, 1000000, &n), 0);
	CHECK_INT(n, 0);
	/*
	 * The next document holds r4 and the new r5: of six, the newest
	 * three stay (r3 r4 r5); r0 r1 r2 go.
	 */
	CHECK_INT(store_doc(st, "a", &v[4], 2, NULL), 0);
	CHECK_INT(tr_store_generation(st, &g0, NULL), 0);
	CHECK_INT(tr_store_retention(st, cfg, 1000000, &n), 0);
	CHECK_INT(n, 3);
	CHECK_INT(tr_store_generation(st, &g1, NULL), 0);
	CHECK(g1 > g0);
	q.feed = "a";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 3);
	if (p->n == 3)
		CHECK_STR(p->items[2].id, "r3");
	/* The full-text rows went with the articles. */
	q.q = "zebra";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 0);
	/* b keeps by age: 10 days. */
	q.q = NULL;
	q.feed = "b";
	CHECK_INT(store_doc(st, "b", v, 6, NULL), 0);
	CHECK_INT(store_doc(st, "b", &v[5], 1, NULL), 0);
	CHECK_INT(tr_store_retention(st, cfg, 900000 + 10 * 86400 + 2500,
		      &n),
	    0);
	CHECK_INT(n, 3); /* r0 r1 r2 older than the cutoff; r5 protected */
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 3);
	/* Nothing more to delete: no new generation. */
	CHECK_INT(tr_store_generation(st, &g0, NULL), 0);
	CHECK_INT(tr_store_retention(st, cfg, 900000 + 10 * 86400 + 2500,
		      &n),
	    0);
	CHECK_INT(n, 0);
	CHECK_INT(tr_store_generation(st, &g1, NULL), 0);
	CHECK_INT(g1, g0);
	page_free(p);
	free(p);
	free_arts(v, 6);
	tr_config_free(cfg);
	tr_store_close(st);
}

static int
stop_cb(const struct tr_item *it, void *arg)
{
	int *n = arg;

	(void)it;
	return ++*n == 2 ? 1 : 0;
}

static void
test_callback_stops(void)
{
	struct tr_store *st = open_with(conf3, NULL);
	struct tr_query q = q_all();
	char *next = (char *)1;
	int n = 0;

	put(st, "a", 1000, "x1", NULL, "x1", 1);
	put(st, "a", 1000, "x2", NULL, "x2", 2);
	put(st, "a", 1000, "x3", NULL, "x3", 3);
	CHECK_INT(tr_store_query(st, &q, stop_cb, &n, &next), TR_EABORT);
	CHECK_INT(n, 2);
	CHECK(next == NULL);
	tr_store_close(st);
}

/*
 * Storing a document must cost in proportion to the document, not to the
 * feed's past: no statement of a commit may read a feed's rows through
 * articles_feed (all of its articles) or scan articles.
 */
static void
test_commit_plans(void)
{
	SKIP_PG("reads SQLite's query plans");
	static const enum store_stmt ids[] = {S_TOUCH_OLD, S_TOUCH_NEW,
	    S_APPLY_UPDATE, S_APPLY_INSERT, S_LATEST_OFF, S_LATEST_ON,
	    S_PRIMARY_OFF, S_PRIMARY_ON};
	struct tr_store *st = open_with(conf3, NULL);
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		sqlite3_stmt *s = store_stmt(st, ids[i]), *e = NULL;
		char sql[8192], p[4096] = "";

		CHECK(s != NULL);
		if (s == NULL)
			continue;
		snprintf(sql, sizeof(sql), "EXPLAIN QUERY PLAN %s",
		    sqlite3_sql(s));
		CHECK_INT(sqlite3_prepare_v2(st->db, sql, -1, &e, NULL),
		    SQLITE_OK);
		while (e && sqlite3_step(e) == SQLITE_ROW) {
			strncat(p, (const char *)sqlite3_column_text(e, 3),
			    sizeof(p) - strlen(p) - 2);
			strcat(p, "|");
		}
		sqlite3_finalize(e);
		/* The feed's newest sort_date (new undated items go above
		 * it) is one seek at the top of articles_feed, one row. */
		{
			static const char seek[] = "SEARCH newest USING "
			    "COVERING INDEX articles_feed (feed_id=?)|";
			char *q;

			while ((q = strstr(p, seek)) != NULL)
				memmove(q, q + sizeof(seek) - 1,
				    strlen(q + sizeof(seek) - 1) + 1);
		}
		if (strstr(p, "articles_feed") || strstr(p, "SCAN a|") ||
		    strstr(p, "SCAN articles|") || strstr(p, "SCAN a ") ||
		    strstr(p, "SCAN articles ")) {
			printf("  statement %d plan: %s\n", (int)ids[i], p);
			CHECK(!"a commit statement reads all of a feed");
		}
		/* A link's primary is one seek per link: sorting the link's
		 * rows (per row) made N feeds sharing a link cost N^3. */
		if ((ids[i] == S_PRIMARY_OFF || ids[i] == S_PRIMARY_ON) &&
		    (strstr(p, "TEMP B-TREE") || strstr(p, "SCAN articles") ||
			(ids[i] == S_PRIMARY_OFF &&
			    !strstr(p, "INDEX articles_primary")))) {
			printf("  statement %d plan: %s\n", (int)ids[i], p);
			CHECK(!"deduplicating a link reads all of its rows");
		}
	}
	tr_store_close(st);
}

/* ---- searches as people type them ---- */

static void
test_search_expr_table(void)
{
	static const struct {
		const char *q, *want; /* want NULL: nothing to search */
	} cases[] = {
	    {"volcano", "(\"volcano\")"},
	    {"  two   words ", "(\"two\" AND \"words\")"},
	    {"covid-19", "(\"covid-19\")"},
	    {"e-mail", "(\"e-mail\")"},
	    {"don't", "(\"don't\")"},
	    {"C++", "(\"C++\")"},
	    {"U.S.", "(\"U.S.\")"},
	    {"what?", "(\"what?\")"},
	    {"https://example.com/a?b=c&d=\"e\"",
		"(\"https://example.com/a?b=c&d=\"\"e\"\"\")"},
	    {"\"new york\" times", "(\"new york\" AND \"times\")"},
	    {"\"open phrase", "(\"open phrase\")"},
	    {"\"", NULL},
	    {"\"\"", NULL},
	    {"*", NULL},
	    {"-", NULL},
	    {"- -- ***", NULL},
	    {"", NULL},
	    {"volc*", "(\"volc\"*)"},
	    {"volc**", "(\"volc\"*)"},
	    {"v*", "(\"v\")"},
	    {"\"new yo\"*", "(\"new yo\"*)"},
	    {"rust -java", "(\"rust\") NOT \"java\""},
	    {"rust -\"go lang\" -c", "(\"rust\") NOT \"go lang\" NOT \"c\""},
	    {"a NEAR b", "(\"a\" AND \"NEAR\" AND \"b\")"},
	    {"x OR y NOT z", "(\"x\" AND \"OR\" AND \"y\" AND \"NOT\" "
		"AND \"z\")"},
	    {"NEAR(a b)", "(\"NEAR(a\" AND \"b)\")"},
	    {"title:x", "(\"title:x\")"},
	    {"{title summary}:x", "(\"{title\" AND \"summary}:x\")"},
	    {"^start", "(\"^start\")"},
	    {"café \xe5\x8c\x97\xe4\xba\xac",
		"(\"café\" AND \"\xe5\x8c\x97\xe4\xba\xac\")"},
	    {"\xe2\x80\x94 dash", "(\"dash\")"}, /* an em dash alone */
	    {"\xe2\x82\xac" "100", "(\"\xe2\x82\xac" "100\")"},
	    {"tab\tnew\nline", "(\"tab\" AND \"new\" AND \"line\")"},
	};
	static const char *const refused[] = {
	    "-only", "-a -b", "a b c d e f g h i j k l m n o p q",
	    "aa* bb* cc* dd* ee*",
	};
	char *expr = NULL, why[200];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK_INT(tr_store_search_expr(&expr, why, sizeof(why),
		    cases[i].q), 0);
		CHECK_STR_CASE(cases[i].q, expr, cases[i].want);
		free(expr);
	}
	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		CHECK_INT(tr_store_search_expr(&expr, why, sizeof(why),
		    refused[i]), TR_EINVAL);
		CHECK(expr == NULL);
		CHECK(why[0] != '\0');
		/* The reason speaks of words, not of columns or FTS5. */
		CHECK(strstr(why, "column") == NULL &&
		    strstr(why, "fts") == NULL && strstr(why, "FTS") == NULL &&
		    strstr(why, "syntax") == NULL);
	}
}

/* Stores one article with the given title and summary. */
static void
put_text(struct tr_store *st, const char *feed, const char *id,
    const char *title, const char *summary, int64_t published)
{
	struct tr_store_batch *b = NULL;
	struct tr_article a;
	char link[128];

	snprintf(link, sizeof(link), "http://127.0.0.1/%s", id);
	mkart(&a, id, link, title, published);
	free(a.summary);
	a.summary = xstrdup(summary);
	tr_store_set_now(st, 9000);
	CHECK_INT(tr_store_batch_begin(&b, st, feed), 0);
	CHECK_INT(tr_store_batch_add(b, &a), 0);
	CHECK_INT(tr_store_batch_commit(b, NULL, NULL), 0);
	tr_store_batch_free(b);
	tr_article_free(&a);
}

/*
 * What people type, against a real store: never an error, and the
 * articles that hold the words (and only those).
 */
#define ALL "s5 s4 s3 s2 s1"

static void
test_search_people_type(void)
{
	struct tr_store *st = open_with(conf3, NULL);
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();
	static const struct {
		const char *q;
		const char *want; /* ids, space-separated, newest first */
	} cases[] = {
	    {"covid-19", "s1"},
	    {"COVID-19 vaccine", "s1"},
	    {"covid", "s2 s1"},
	    {"e-mail", "s3"},
	    {"email", ""},
	    {"don't", "s4"},
	    {"C++", "s3"},
	    {"U.S.", "s4"},
	    {"what?", "s5"},
	    {"https://example.com/report?id=7", "s5"},
	    {"\"vaccine rollout\"", "s1"},
	    {"\"rollout vaccine\"", ""},
	    {"vacc*", "s2 s1"},
	    {"covid -vaccine", "s2"},
	    {"\"", ALL}, /* nothing to search for: everything */
	    {"*", ALL},
	    {"-", ALL},
	    {"covid AND", ""},
	    {"covid OR mail", ""},
	    {"NEAR(covid vaccine)", ""},
	    {"title:covid", ""},
	    {"café", "s5"},
	    {"cafe", "s5"},
	    {"\xe5\x8c\x97\xe4\xba\xac", "s3"},
	    {")(*&^%$#@!", ALL},
	    {"'don''t'", "s4"}, /* the engines' own syntax is text */
	    {"covid:*", "s2 s1"},
	    {"covid & !vaccine", "s1"},
	    {"covid | mail", ""},
	    {"covid <-> vaccine", "s1"},
	    {"\\covid\\", "s2 s1"},
	    {"covid\xff", "s2 s1"}, /* bytes not UTF-8 separate */
	    {"\xff\xfe", ALL},
	    {"caf\xc3", ""},
	    {"\"vaccine roll\"*", "s1"}, /* the last word a prefix */
	    {"\"covid-19 vacc\"*", "s1"},
	    {"\"vacc rollout\"*", ""}, /* vacc is a word here */
	    {"roll*", "s1"},
	    {"CAFÉ", "s5"},
	    {"cafe*", "s5"},
	    {"-vaccine covid-19", ""},
	    {"covid -\"vaccine rollout\"", "s2"},
	    /* A phrase runs within the title or the body, not across. */
	    {"\"rollout the\"", ""},
	    {"\"the plan\"", "s1"},
	    {"\"café see\"", ""},
	    {"\"a café\"", "s5"},
	};
	size_t i, k;
	char got[256];

	put_text(st, "a", "s1", "COVID-19 vaccine rollout", "the plan", 1000);
	put_text(st, "a", "s2", "Covid wards, vaccines", "vaccination", 2000);
	put_text(st, "b", "s3", "C++ and e-mail", "\xe5\x8c\x97\xe4\xba\xac",
	    3000);
	put_text(st, "c", "s4", "The U.S. said: don't", "no", 4000);
	put_text(st, "c", "s5", "What? A café",
	    "see https://example.com/report?id=7", 5000);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		q.q = cases[i].q;
		got[0] = '\0';
		CHECK_INT(query(st, &q, p, NULL), 0);
		for (k = 0; k < p->n; k++)
			snprintf(got + strlen(got), sizeof(got) - strlen(got),
			    "%s%s", k ? " " : "", p->items[k].id);
		CHECK_STR_CASE(cases[i].q, got, cases[i].want);
	}
	/* A tag or feed name that is not UTF-8 names nothing: no error. */
	q = q_all();
	q.tag = "n\xffws";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 0);
	q = q_all();
	q.feed = "\xc3";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 0);
	page_free(p);
	free(p);
	tr_store_close(st);
}

/*
 * Any bytes typed as a search: the query refuses exactly what
 * tr_store_search_expr() refuses (too many words or prefixes, only
 * exclusions) and answers everything else, whatever the engine's own
 * syntax or bytes that are not UTF-8 (2,000 strings of a fixed seed).
 */
static void
test_search_any_bytes(void)
{
	static const char alpha[] = "ab\"'\\-*:&|!()<>{}^~@#%$.,?/=+09 \t\n";
	struct tr_store *st = open_with(conf3, NULL);
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();
	char text[48], why[200], *expr = NULL;
	unsigned seed = 7;
	int i, k, len, want;

	put_text(st, "a", "s1", "alpha beta", "gamma", 1000);
	q.limit = 5;
	for (i = 0; i < 2000; i++) {
		seed = seed * 1103515245u + 12345u;
		len = (int)(seed >> 16) % 40;
		for (k = 0; k < len; k++) {
			seed = seed * 1103515245u + 12345u;
			text[k] = (seed >> 16) % 5 == 0
				      ? (char)(0x80 + (seed >> 20) % 0x7f)
				      : alpha[(seed >> 18) % (sizeof(alpha) - 1)];
		}
		text[len] = '\0';
		want = tr_store_search_expr(&expr, why, sizeof(why), text);
		free(expr);
		q.q = text;
		CHECK_INT(query(st, &q, p, NULL), want);
	}
	page_free(p);
	free(p);
	tr_store_close(st);
}

/* The stop() callback ends a search with TR_EABORT, the handle intact. */
static int
stop_now(void *arg)
{
	int *calls = arg;

	return ++*calls >= 1;
}

/* Stops at the at-th question. */
struct stop_count {
	int calls, at;
};

static int
stop_at(void *arg)
{
	struct stop_count *sc = arg;

	return ++sc->calls >= sc->at;
}

static void
test_search_stop(void)
{
	struct tr_store *st = open_with(conf3, NULL);
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();
	struct tr_article v[300];
	char id[32], link[64];
	int k, calls = 0;

	for (k = 0; k < 300; k++) {
		snprintf(id, sizeof(id), "x%d", k);
		snprintf(link, sizeof(link), "http://127.0.0.1/x/%d", k);
		mkart(&v[k], id, link, "searchable words here", 1000 + k);
	}
	CHECK_INT(store_doc(st, "a", v, 300, NULL), 0);
	free_arts(v, 300);
	q.q = "searchable";
	q.limit = 1000;
	q.stop = stop_now;
	q.stop_arg = &calls;
	CHECK_INT(query(st, &q, p, NULL), TR_EABORT);
	CHECK(calls >= 1);
	CHECK(strstr(tr_store_errmsg(st), "stopped") != NULL);
	/* Without the callback the same search runs to its end. */
	q.stop = NULL;
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 300);
	/*
	 * Stopped later, while it runs (on PostgreSQL: the server's
	 * statement cancelled, or between items), inside a group of
	 * writes: TR_EABORT, stop() not asked again, and the group's write
	 * is kept.
	 */
	for (k = 2; k <= 6; k++) {
		struct stop_count sc = {0, k};
		struct tr_article w;

		snprintf(id, sizeof(id), "w%d", k);
		mkart(&w, id, NULL, "searchable grouped", 5000 + k);
		tr_store_group_begin(st);
		CHECK_INT(store_doc(st, "b", &w, 1, NULL), 0);
		tr_article_free(&w);
		q.stop = stop_at;
		q.stop_arg = &sc;
		CHECK_INT(query(st, &q, p, NULL), TR_EABORT);
		CHECK_INT(sc.calls, k);
		CHECK(p->n < 300);
		CHECK(strstr(tr_store_errmsg(st), "stopped") != NULL);
		CHECK_INT(tr_store_group_end(st), 0);
	}
	q.stop = NULL;
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 305);
	page_free(p);
	free(p);
	tr_store_close(st);
}

TR_TESTS(test_commit_plans, test_order_and_clamp, test_cross_feed_dedup,
    test_link_change_moves_primary, test_filters_and_search, test_tag_plans_agree, test_pagination,
    test_default_limit, test_max_per_feed, test_query_plans, test_retention,
    test_callback_stops, test_search_expr_table, test_search_people_type,
    test_search_any_bytes, test_search_stop)
