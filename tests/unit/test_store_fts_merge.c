/*
 * test_store_fts_merge.c — merging the full-text index's segments
 * between rounds (tr_store_maintain).
 *
 * A table of polling patterns (a cold round's large segments, then N
 * rounds of M new articles indexed in K bulk inserts each) is stored
 * twice: into a store whose rounds end with their share of merging (the
 * end of deferred indexing, as a polling round's writer ends), and into
 * one whose rounds do not. After every round the merged store's levels
 * hold at most MERGED_BOUND segments (FTS5 merges a level at once,
 * inside an insert, when it reaches 16) and no insert of a round runs
 * such a merge, while the other one's levels reach the crisis and its
 * inserts merge; every search finds the same articles in both, and
 * again after merging everything. The index's shape is read from the
 * database file with a decoder of FTS5's structure record of this
 * test's own, checked against the segment ids the index's term table
 * holds.
 *
 * Then: a merge step stops at its budget, holds no lock once it
 * returns and gives way to another writer; a read-only handle and an
 * open group never merge; the structure record's decoder on a table of
 * records; on PostgreSQL tr_store_maintain is a no-op.
 */
#include "store_sqlite_int.h"
#include "test_store_util.h"

/* The most segments a level of the merged store may hold after a round:
 * the store's target, which its shares keep the levels below. */
#define MERGED_BOUND 12
/* FTS5's crisismerge. */
#define CRISIS 16

/* CHECK_INT naming the case that failed. */
#define CHECK_INT_CASE(casename, got, want)                                   \
	do {                                                                  \
		long long g_ = (long long)(got), w_ = (long long)(want);      \
		if (g_ != w_) {                                               \
			printf("  %s:%d: [%s] got %lld, want %lld\n",         \
			    __FILE__, __LINE__, (casename), g_, w_);          \
			tr_test_failed_checks++;                              \
		}                                                             \
	} while (0)

static const char conf1[] = "[tributary]\n"
			    "database = x.db\n"
			    "[feed \"f\"]\n"
			    "url = http://127.0.0.1:1/f.xml\n";

/* --- FTS5's structure record, decoded here --- */

struct shape {
	int levels;
	int segs[32];
	int merging[32];
	long long pages[32];
	int total_segs;
};

static int
varint(const unsigned char *p, int n, int *i, long long *v)
{
	unsigned long long x = 0;
	int k;

	for (k = 0; k < 9 && *i < n; k++) {
		unsigned char c = p[(*i)++];

		if (k == 8) {
			x = (x << 8) | c;
			*v = (long long)x;
			return 0;
		}
		x = (x << 7) | (c & 0x7f);
		if (!(c & 0x80)) {
			*v = (long long)x;
			return 0;
		}
	}
	return -1;
}

/* The shape of path's articles_fts; 0, or -1 when it cannot be read. */
static int
read_shape(const char *path, struct shape *sh)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	const unsigned char *p;
	long long nl, x, nm, ns, first, last;
	int n, i = 4, l, k, rc = -1;

	memset(sh, 0, sizeof(*sh));
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) !=
		SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT block FROM articles_fts_data"
		" WHERE id = 10", -1, &s, NULL) != SQLITE_OK)
		goto out;
	if (sqlite3_step(s) != SQLITE_ROW) {
		rc = 0; /* never written */
		goto out;
	}
	p = sqlite3_column_blob(s, 0);
	n = sqlite3_column_bytes(s, 0);
	/* Debian 12's SQLite writes the first version of the record. */
	if (n < 8 || memcmp(p + 4, "\xff\x00\x00\x01", 4) == 0)
		goto out;
	if (varint(p, n, &i, &nl) || varint(p, n, &i, &x) ||
	    varint(p, n, &i, &x) || nl > 32)
		goto out;
	for (l = 0; l < nl; l++) {
		if (varint(p, n, &i, &nm) || varint(p, n, &i, &ns))
			goto out;
		for (k = 0; k < ns; k++) {
			if (varint(p, n, &i, &x) || varint(p, n, &i, &first) ||
			    varint(p, n, &i, &last))
				goto out;
			sh->pages[l] += last - first + 1;
		}
		sh->segs[l] = (int)ns;
		sh->merging[l] = (int)nm;
		sh->total_segs += (int)ns;
	}
	sh->levels = (int)nl;
	rc = i == n ? 0 : -1;
out:
	sqlite3_finalize(s);
	sqlite3_close(db);
	return rc;
}

static int
max_level(const struct shape *sh)
{
	int l, m = 0;

	for (l = 0; l < sh->levels; l++)
		if (sh->segs[l] > m)
			m = sh->segs[l];
	return m;
}

/* The structure record's bytes, for telling whether anything merged. */
static char *
structure_hex(const char *path)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *s = NULL;
	char *out = NULL;

	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) ==
		SQLITE_OK &&
	    sqlite3_prepare_v2(db, "SELECT hex(block) FROM articles_fts_data"
		" WHERE id = 10", -1, &s, NULL) == SQLITE_OK &&
	    sqlite3_step(s) == SQLITE_ROW)
		out = xstrdup((const char *)sqlite3_column_text(s, 0));
	sqlite3_finalize(s);
	sqlite3_close(db);
	return out ? out : strdup("");
}

/* --- stores filled round by round --- */

/* Article k's text: words of a 400-word vocabulary and one of its own. */
static void
mkarticle(struct tr_article *a, long long k)
{
	char id[64], title[64], text[1024];
	size_t len = 0;
	int j;

	snprintf(id, sizeof(id), "urn:a%lld", k);
	snprintf(title, sizeof(title), "Title w%03lld u%lld", k % 400, k);
	for (j = 0; j < 40; j++)
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "w%03lld ", (k * 7 + (long long)j * 13) % 400);
	snprintf(text + len, sizeof(text) - len, "only%lld", k);
	mkart(a, id, NULL, title, 1000000 + k);
	free(a->summary);
	a->summary = strdup(text);
}

/*
 * One round: m new articles (from *next on) in k bulk indexes. With
 * merge set, as a polling round: deferred indexing on for the round,
 * and off at its end, where the store merges the round's share. Else
 * each document's commit indexes its articles (the same segments), and
 * nothing merges. With path and crises, *crises counts the inserts that
 * ran a crisis merge (the index holds fewer segments after the insert
 * than before it).
 */
static int
one_round(struct tr_store *st, long long *next, int m, int k, int merge,
    const char *path, int *crises)
{
	struct tr_article *v = calloc((size_t)m, sizeof(*v));
	struct shape sh;
	int i, part, rc = 0, segs = -1;

	if (merge)
		tr_store_defer_index(st, 1);
	for (part = 0; part < k && rc == 0; part++) {
		int from = m * part / k, to = m * (part + 1) / k;

		if (crises != NULL && segs < 0 && read_shape(path, &sh) == 0)
			segs = sh.total_segs;
		for (i = from; i < to; i++)
			mkarticle(&v[i], (*next)++);
		if (to > from)
			rc = store_doc(st, "f", v + from, (size_t)(to - from),
			    NULL);
		if (rc == 0)
			rc = tr_store_index(st);
		if (crises != NULL && read_shape(path, &sh) == 0) {
			if (segs >= 0 && sh.total_segs < segs)
				(*crises)++;
			segs = sh.total_segs;
		}
	}
	if (merge)
		tr_store_defer_index(st, 0);
	free_arts(v, (size_t)m);
	free(v);
	return rc;
}

/* Every id a search finds, in the order found, joined by spaces. */
static char *
search_ids(struct tr_store *st, const char *q)
{
	struct tr_query qq = q_all();
	struct page *p = calloc(1, sizeof(*p));
	char *next = NULL, *cur = NULL, *out = strdup("");
	size_t i, len = 0;

	qq.q = q;
	qq.feed = "f";
	qq.limit = 1000;
	do {
		qq.before = cur;
		if (query(st, &qq, p, &next) != 0) {
			printf("  search %s: %s\n", q, tr_store_errmsg(st));
			tr_test_failed_checks++;
			break;
		}
		for (i = 0; i < p->n; i++) {
			len += strlen(p->items[i].id) + 1;
			out = realloc(out, len + 1);
			strcat(out, p->items[i].id);
			strcat(out, " ");
		}
		free(cur);
		cur = next;
		next = NULL;
	} while (cur != NULL);
	page_free(p);
	free(p);
	return out;
}

static const char *const searches[] = {
    "w001", "w123 w321", "w399", "only7", "only1999", "u42", "w05*",
    "title", "\"w010 w023\"", "w200 OR w201",
};

/* The same search results from two stores. */
static void
same_results(const char *casename, struct tr_store *a, struct tr_store *b)
{
	size_t i;

	for (i = 0; i < sizeof(searches) / sizeof(searches[0]); i++) {
		char *x = search_ids(a, searches[i]), *y = search_ids(b,
							  searches[i]);

		if (strcmp(x, y) != 0) {
			printf("  [%s] search %s: %zu and %zu bytes of ids "
			       "differ\n", casename, searches[i], strlen(x),
			    strlen(y));
			tr_test_failed_checks++;
		}
		free(x);
		free(y);
	}
}

/*
 * The table: cold round (articles, bulk indexes), then rounds of m new
 * articles in k indexes. Every case writes well past 16 segments, so
 * the store that does not merge meets the crisis.
 */
static void
test_levels_stay_low(void)
{
	SKIP_PG("SQLite's FTS5 segments");
	static const struct {
		const char *name;
		int cold, cold_k, rounds, m, k;
	} t[] = {
	    {"cold round, then 40 rounds of 1 article", 3000, 8, 40, 1, 1},
	    {"cold round, then 30 rounds of 20 in 2 indexes", 3000, 8, 30,
	     20, 2},
	    {"cold round, then 25 rounds of 100 in 2 indexes", 3000, 8, 25,
	     100, 2},
	    {"no cold round, 40 rounds of 50 in 2 indexes", 0, 0, 40, 50, 2},
	    {"cold round, then 12 rounds of 300 in 3 indexes", 3000, 8, 12,
	     300, 3},
	    {"small cold round, then 60 rounds of 10", 200, 4, 60, 10, 1},
	    {"cold round, then 20 rounds of 120 in 6 indexes", 3000, 8, 20,
	     120, 6},
	    {"20 rounds of 100 in 5 indexes", 0, 0, 20, 100, 5},
	    {"cold round, then 25 rounds of 120 in 12 indexes", 3000, 8, 25,
	     120, 12},
	};
	struct tr_config *cfg = cfg_from(conf1);
	size_t c;

	for (c = 0; c < sizeof(t) / sizeof(t[0]); c++) {
		char *pm = tmp_db(), *pn = tmp_db();
		struct tr_store *sm = NULL, *sn = NULL;
		long long nm = 0, nn = 0;
		struct shape sh;
		int r, worst_m = 0, worst_n = 0, more = 1, steps = 0;
		int crises_m = 0, crises_n = 0;

		CHECK_INT(tr_store_open(&sm, pm, 0), 0);
		CHECK_INT(tr_store_open(&sn, pn, 0), 0);
		CHECK_INT(tr_store_sync_config(sm, cfg), 0);
		CHECK_INT(tr_store_sync_config(sn, cfg), 0);
		if (t[c].cold > 0) {
			CHECK_INT_CASE(t[c].name, one_round(sm, &nm, t[c].cold,
			    t[c].cold_k, 1, NULL, NULL), 0);
			CHECK_INT_CASE(t[c].name, one_round(sn, &nn, t[c].cold,
			    t[c].cold_k, 0, NULL, NULL), 0);
		}
		for (r = 0; r < t[c].rounds; r++) {
			CHECK_INT_CASE(t[c].name, one_round(sm, &nm, t[c].m,
			    t[c].k, 1, pm, &crises_m), 0);
			CHECK_INT_CASE(t[c].name, one_round(sn, &nn, t[c].m,
			    t[c].k, 0, pn, &crises_n), 0);
			CHECK_INT_CASE(t[c].name, read_shape(pm, &sh), 0);
			if (max_level(&sh) > worst_m)
				worst_m = max_level(&sh);
			/* The decoder against the index's own table. */
			CHECK_INT_CASE(t[c].name, sh.total_segs,
			    sql_int(pm, "SELECT count(DISTINCT segid) FROM "
					"articles_fts_idx"));
			CHECK_INT_CASE(t[c].name, read_shape(pn, &sh), 0);
			if (max_level(&sh) > worst_n)
				worst_n = max_level(&sh);
		}
		printf("  [%s] most segments on a level: %d merging, %d "
		       "not; inserts that ran a crisis merge: %d merging, %d "
		       "not\n", t[c].name, worst_m, worst_n, crises_m, crises_n);
		/* No insert of a round merges a level at once. */
		CHECK_INT_CASE(t[c].name, crises_m, 0);
		CHECK_INT_CASE(t[c].name, crises_n > 0, 1);
		if (worst_m > MERGED_BOUND) {
			printf("  [%s] a level held %d segments (bound %d)\n",
			    t[c].name, worst_m, MERGED_BOUND);
			tr_test_failed_checks++;
		}
		/* Without the merges the same rounds fill a level to the
		 * crisis: the table reaches what the merging prevents. */
		CHECK_INT_CASE(t[c].name, worst_n >= CRISIS - 3, 1);
		same_results(t[c].name, sm, sn);
		/* Everything merged that FTS5 would merge: the levels are
		 * short, the results the same. */
		while (more && steps++ < 10000)
			CHECK_INT_CASE(t[c].name,
			    tr_store_maintain(sm, 1000, &more), 0);
		CHECK_INT_CASE(t[c].name, more, 0);
		CHECK_INT_CASE(t[c].name, read_shape(pm, &sh), 0);
		CHECK_INT_CASE(t[c].name, max_level(&sh) < 4, 1);
		same_results(t[c].name, sm, sn);
		CHECK_INT_CASE(t[c].name, sql_int(pm, "SELECT count(*) FROM "
		    "articles"), nm);
		tr_store_close(sm);
		tr_store_close(sn);
		rm_db(pm);
		rm_db(pn);
	}
	tr_config_free(cfg);
}

/*
 * One long round (a cold round of thousands of feeds) runs a catch-up
 * per group commit, hundreds of them: level 0 reaches FTS5's crisis
 * every 16 and each crisis adds a segment to level 1. The round's
 * catch-ups merge level 1 in steps once it holds the store's target of
 * segments, so that it never reaches the crisis, which would merge the
 * round's whole index so far inside one insert. A table of round
 * lengths (catch-ups of one article, or of ten).
 */
static void
test_long_round_keeps_upper_levels_low(void)
{
	SKIP_PG("SQLite's FTS5 segments");
	static const struct {
		const char *name;
		int indexes, per;
	} t[] = {
	    {"300 catch-ups of 1 article", 300, 1},
	    {"450 catch-ups of 10 articles", 450, 10},
	};
	struct tr_config *cfg = cfg_from(conf1);
	size_t c;

	for (c = 0; c < sizeof(t) / sizeof(t[0]); c++) {
		char *path = tmp_db();
		struct tr_store *st = NULL;
		struct tr_article v[10];
		struct shape sh;
		long long next = 0;
		int i, j, worst1 = 0, upper = 0;

		CHECK_INT(tr_store_open(&st, path, 0), 0);
		CHECK_INT(tr_store_sync_config(st, cfg), 0);
		tr_store_defer_index(st, 1);
		for (i = 0; i < t[c].indexes; i++) {
			for (j = 0; j < t[c].per; j++)
				mkarticle(&v[j], next++);
			CHECK_INT_CASE(t[c].name, store_doc(st, "f", v,
			    (size_t)t[c].per, NULL), 0);
			free_arts(v, (size_t)t[c].per);
			CHECK_INT_CASE(t[c].name, tr_store_index(st), 0);
			CHECK_INT_CASE(t[c].name, read_shape(path, &sh), 0);
			if (sh.levels > 1 && sh.segs[1] > worst1)
				worst1 = sh.segs[1];
			if (sh.levels > 2 && sh.segs[2] > 0)
				upper = 1;
		}
		tr_store_defer_index(st, 0);
		printf("  [%s] most segments on level 1: %d\n", t[c].name,
		    worst1);
		/* Level 1 filled up to the target (the table reaches what
		 * the merging prevents) and was merged a level up before
		 * the crisis. */
		CHECK_INT_CASE(t[c].name, worst1 >= MERGED_BOUND, 1);
		CHECK_INT_CASE(t[c].name, worst1 < CRISIS - 1, 1);
		CHECK_INT_CASE(t[c].name, upper, 1);
		CHECK_INT_CASE(t[c].name, sql_int(path, "SELECT count(*) FROM "
		    "articles"), next);
		CHECK_INT_CASE(t[c].name, read_shape(path, &sh), 0);
		CHECK_INT_CASE(t[c].name, sh.total_segs,
		    sql_int(path, "SELECT count(DISTINCT segid) FROM "
				  "articles_fts_idx"));
		tr_store_close(st);
		rm_db(path);
	}
	tr_config_free(cfg);
}

/*
 * A budget of pages: each call merges about that much and says whether
 * more is left; between calls no transaction is open, so another
 * writer (a round) gets the database's write lock at once; and while
 * another writer holds it, a call gives way.
 */
static void
test_budget_and_lock(void)
{
	SKIP_PG("SQLite's FTS5 segments");
	struct tr_config *cfg = cfg_from(conf1);
	char *path = tmp_db();
	struct tr_store *st = NULL;
	struct shape before, after;
	long long next = 0, pages;
	int more = 0, calls = 0;
	sqlite3 *db = NULL;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	/* Six segments on level 0: a merge is due. */
	CHECK_INT(one_round(st, &next, 9000, 6, 0, NULL, NULL), 0);
	CHECK_INT(read_shape(path, &before), 0);
	CHECK_INT(before.segs[0], 6);
	pages = before.pages[0];
	CHECK(pages > 4 * 64);
	CHECK_INT(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 0);
	/* Another writer holds the database: the merge gives way, says
	 * work is left and merged nothing; no error. */
	CHECK_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL),
	    SQLITE_OK);
	CHECK_INT(tr_store_maintain(st, 64, &more), 0);
	CHECK_INT(more, 1);
	CHECK_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
	CHECK_INT(read_shape(path, &after), 0);
	CHECK_INT(after.segs[0], 6);
	CHECK_INT(after.merging[0], 0);
	do {
		CHECK_INT(tr_store_maintain(st, 64, &more), 0);
		calls++;
		if (more) {
			/* Mid-merge: the level is being merged, in part. */
			CHECK_INT(read_shape(path, &after), 0);
			CHECK(after.merging[0] == 6 || after.segs[0] < 6);
			CHECK_INT(sqlite3_exec(db, "BEGIN IMMEDIATE; COMMIT",
				      NULL, NULL, NULL), SQLITE_OK);
		}
	} while (more && calls < 1000);
	sqlite3_close(db);
	/* A merge of `pages` pages in steps of 64 takes at least that many
	 * calls (the output is about the input's size, a little less). */
	printf("  %lld pages on level 0 merged in %d calls of 64\n", pages,
	    calls);
	CHECK(calls >= (int)(pages * 3 / 4 / 64));
	CHECK_INT(more, 0);
	CHECK_INT(read_shape(path, &after), 0);
	CHECK_INT(after.segs[0], 0);
	CHECK_INT(after.segs[1], 1);
	/* Nothing left: a call merges nothing and says so. */
	CHECK_INT(tr_store_maintain(st, 64, &more), 0);
	CHECK_INT(more, 0);
	tr_store_close(st);
	tr_config_free(cfg);
	rm_db(path);
}

/* A read-only handle and a write inside an open group never merge;
 * the same call on the writer, outside a group, does. */
static void
test_readonly_and_group_never_merge(void)
{
	SKIP_PG("SQLite's FTS5 segments");
	struct tr_config *cfg = cfg_from(conf1);
	char *path = tmp_db(), *h0, *h1;
	struct tr_store *st = NULL, *ro = NULL;
	struct tr_article a;
	struct shape sh;
	long long next = 0;
	int more = 1;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	CHECK_INT(one_round(st, &next, 400, 5, 0, NULL, NULL), 0);
	h0 = structure_hex(path);
	CHECK_INT(tr_store_open(&ro, path, TR_STORE_READONLY), 0);
	CHECK_INT(tr_store_maintain(ro, 0, &more), 0);
	CHECK_INT(more, 0);
	more = 1;
	CHECK_INT(tr_store_maintain(ro, 100000, &more), 0);
	CHECK_INT(more, 0);
	h1 = structure_hex(path);
	CHECK_STR(h1, h0);
	free(h1);
	CHECK_INT(read_shape(path, &sh), 0);
	CHECK_INT(sh.segs[0], 5);
	/* In a group: the group's transaction is the round's. The
	 * document's commit indexes it: a sixth segment, none merged. */
	tr_store_group_begin(st);
	mkarticle(&a, next++);
	CHECK_INT(store_doc(st, "f", &a, 1, NULL), 0);
	tr_article_free(&a);
	more = 1;
	CHECK_INT(tr_store_maintain(st, 100000, &more), 0);
	CHECK_INT(more, 0);
	CHECK_INT(tr_store_group_end(st), 0);
	CHECK_INT(read_shape(path, &sh), 0);
	CHECK_INT(sh.segs[0], 6);
	CHECK_INT(sh.merging[0], 0);
	/* The writer, outside a group: the six are merged. */
	CHECK_INT(tr_store_maintain(st, 100000, &more), 0);
	CHECK_INT(more, 0);
	CHECK_INT(read_shape(path, &sh), 0);
	CHECK_INT(sh.segs[0], 0);
	CHECK_INT(sh.segs[1], 1);
	free(h0);
	tr_store_close(ro);
	tr_store_close(st);
	tr_config_free(cfg);
	rm_db(path);
}

/*
 * The store's decoder of the structure record (the one its merge share
 * reads) on a table of records: both versions, a merge under way, and
 * every cut of a valid record, and counts that cannot be, refused.
 */
static void
test_shape_decode(void)
{
	/* 2 levels, 3 segments; level 0: (1, pages 1-10), (2, 1-5); level
	 * 1, one of its one segment being merged: (3, 1-100). */
	static const unsigned char v1[] = {
	    0, 0, 0, 7, 2, 3, 0, 0, 2, 1, 1, 10, 2, 1, 5, 1, 1, 3, 1, 100};
	/* The second version: a marker, five more numbers a segment; a
	 * page number of two varint bytes (0x81 0x00 = 128). */
	static const unsigned char v2[] = {
	    0, 0, 0, 7, 0xff, 0, 0, 1, 1, 1, 0, 0, 1, 9, 1, 0x81, 0x00,
	    0, 0, 0, 0, 0};
	static const unsigned char bad_merge[] = {
	    0, 0, 0, 7, 1, 1, 0, 2, 1, 1, 1, 10};
	static const unsigned char bad_levels[] = {0, 0, 0, 7, 0x7f, 0, 0};
	struct store_fts_shape sh;
	size_t n;

	CHECK_INT(store_fts_shape_decode(v1, sizeof(v1), &sh), 0);
	CHECK_INT(sh.levels, 2);
	CHECK_INT(sh.segs[0], 2);
	CHECK_INT(sh.segs[1], 1);
	CHECK_INT(sh.pages[0], 15);
	CHECK_INT(sh.pages[1], 100);
	CHECK_INT(sh.merging[0], 0);
	CHECK_INT(sh.merging[1], 1);
	CHECK_INT(sh.merging_pages[1], 100);
	CHECK_INT(sh.total_pages, 115);
	for (n = 0; n < sizeof(v1); n++)
		if (store_fts_shape_decode(v1, (int)n, &sh) != -1 ||
		    sh.total_pages != 0 || sh.levels != 0) {
			printf("  the record cut to %zu bytes was read\n", n);
			tr_test_failed_checks++;
		}
	CHECK_INT(store_fts_shape_decode(v2, sizeof(v2), &sh), 0);
	CHECK_INT(sh.levels, 1);
	CHECK_INT(sh.segs[0], 1);
	CHECK_INT(sh.pages[0], 128);
	CHECK_INT(store_fts_shape_decode(v2, sizeof(v2) - 1, &sh), -1);
	CHECK_INT(store_fts_shape_decode(bad_merge, sizeof(bad_merge), &sh),
	    -1);
	CHECK_INT(store_fts_shape_decode(bad_levels, sizeof(bad_levels), &sh),
	    -1);
	CHECK_INT(store_fts_shape_decode(NULL, 0, &sh), -1);
}

/* PostgreSQL: nothing to merge (GIN cleans its own pending list). */
static void
test_maintain_pg_noop(void)
{
	struct tr_config *cfg;
	char *path;
	struct tr_store *st = NULL;
	long long next = 0;
	int more = 1;

	if (!is_pg())
		SKIP("PostgreSQL (TR_TEST_PG)");
	cfg = cfg_from(conf1);
	path = tmp_db();
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	CHECK_INT(one_round(st, &next, 50, 2, 1, NULL, NULL), 0);
	CHECK_INT(tr_store_maintain(st, 1000, &more), 0);
	CHECK_INT(more, 0);
	tr_store_close(st);
	tr_config_free(cfg);
	rm_db(path);
}

TR_TESTS(test_levels_stay_low, test_long_round_keeps_upper_levels_low,
    test_budget_and_lock,
    test_readonly_and_group_never_merge, test_shape_decode,
    test_maintain_pg_noop)
