/*
 * test_store_meta.c — what the store does with the metadata the parser
 * reads: undated items keep their document's order, across fetches, and
 * get no invented published date; items without any id, once stored under
 * a "hash:" id, keep their row when they come back with a urn:uuid: id.
 */
#include "test_store_util.h"

static const char conf[] = "[tributary]\n"
			   "database = x.db\n"
			   "[feed \"alpha\"]\n"
			   "url = http://127.0.0.1:1/a.xml\n"
			   "[feed \"beta\"]\n"
			   "url = http://127.0.0.1:1/b.xml\n";

/* Keeps a copy of the (one) item's image in *arg (NULL when none). */
static int
image_cb(const struct tr_item *it, void *arg)
{
	char **image = arg;

	free(*image);
	*image = it->a.image ? strdup(it->a.image) : NULL;
	return 0;
}

/* Articles named by the titles in a space-separated list, undated. */
static size_t
mkdoc(struct tr_article *v, const char *titles)
{
	char buf[256], *save = NULL, *t;
	size_t n = 0;

	snprintf(buf, sizeof(buf), "%s", titles);
	for (t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
		char id[64], link[96];

		snprintf(id, sizeof(id), "id-%s", t);
		snprintf(link, sizeof(link), "http://127.0.0.1/%s", t);
		mkart(&v[n++], id, link, t, TR_DATE_NONE);
	}
	return n;
}

/* The titles of a feed's merged page, newest first, space-separated. */
static void
order(struct tr_store *st, const char *feed, char *out, size_t size)
{
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();
	size_t i;

	out[0] = '\0';
	q.feed = feed;
	CHECK_INT(query(st, &q, p, NULL), 0);
	for (i = 0; i < p->n; i++) {
		if (i)
			strncat(out, " ", size - strlen(out) - 1);
		strncat(out, p->items[i].title, size - strlen(out) - 1);
		if (p->items[i].published != TR_DATE_NONE)
			strncat(out, "(dated)", size - strlen(out) - 1);
	}
	page_free(p);
	free(p);
}

/*
 * One feed fetched several times: each step is a document (titles in
 * document order, "@" before a title gives it a date far in the past),
 * the time of the fetch, and the order the feed's page must show.
 */
static void
test_undated_order(void)
{
	static const struct {
		const char *doc;
		int64_t now;
		const char *want;
	} steps[] = {
	    {"u1 u2 u3", 1000000, "u1 u2 u3"},
	    /* Two new items on top, a few seconds later. */
	    {"n1 n2 u1 u2 u3", 1000010, "n1 n2 u1 u2 u3"},
	    /* Three new ones only a second later: still above. */
	    {"x1 x2 x3 n1 n2 u1", 1000011, "x1 x2 x3 n1 n2 u1 u2 u3"},
	    /* The same document again: nothing moves. */
	    {"x1 x2 x3 n1 n2 u1", 1000500, "x1 x2 x3 n1 n2 u1 u2 u3"},
	    /* A new item in the middle of the document is still new. */
	    {"x1 m1 x2", 1000600, "m1 x1 x2 x3 n1 n2 u1 u2 u3"},
	};
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf);
	struct tr_store_result r;
	struct tr_article v[16];
	char got[512];
	size_t i, n;

	CHECK_INT(tr_store_open(&st, ":memory:", 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		n = mkdoc(v, steps[i].doc);
		tr_store_set_now(st, steps[i].now);
		CHECK_INT(store_doc(st, "alpha", v, n, &r), 0);
		free_arts(v, n);
		order(st, "alpha", got, sizeof(got));
		CHECK_STR_CASE(steps[i].doc, got, steps[i].want);
	}
	tr_config_free(cfg);
	tr_store_close(st);
}

/* Dated items keep their dates; undated ones of the same fetch are
 * ordered among themselves by document position. */
static void
test_undated_among_dated(void)
{
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf);
	struct tr_store_result r;
	struct tr_article v[4];
	char got[512];

	CHECK_INT(tr_store_open(&st, ":memory:", 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	tr_store_set_now(st, 2000000);
	mkart(&v[0], "a", "http://127.0.0.1/a", "a", TR_DATE_NONE);
	mkart(&v[1], "old", "http://127.0.0.1/old", "old", 1000);
	mkart(&v[2], "b", "http://127.0.0.1/b", "b", TR_DATE_NONE);
	mkart(&v[3], "c", "http://127.0.0.1/c", "c", TR_DATE_NONE);
	CHECK_INT(store_doc(st, "alpha", v, 4, &r), 0);
	free_arts(v, 4);
	order(st, "alpha", got, sizeof(got));
	CHECK_STR(got, "a b c old(dated)");
	tr_config_free(cfg);
	tr_store_close(st);
}

/*
 * An item with neither guid nor link stored by an earlier version under
 * its "hash:" id is the same item when it comes back with a urn:uuid:
 * id: its row is renamed, not doubled.
 */
static void
test_legacy_hash_id(void)
{
	char *path = tmp_db();
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf);
	struct tr_store_result r;
	struct tr_article a, b;
	char legacy[TR_ARTICLE_LEGACY_ID];
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	tr_store_set_now(st, 1000000);
	tr_article_init(&a);
	a.title = strdup("No guid, no link");
	a.summary = strdup("Only words.");
	tr_article_legacy_id(legacy, &a);
	a.id = strdup(legacy); /* as an earlier version stored it */
	CHECK_INT(store_doc(st, "alpha", &a, 1, &r), 0);
	CHECK_INT(r.added, 1);
	/* Also in another feed: that row is not this feed's to rename. */
	CHECK_INT(store_doc(st, "beta", &a, 1, &r), 0);

	tr_article_init(&b);
	b.title = strdup("No guid, no link");
	b.summary = strdup("Only words.");
	CHECK_INT(tr_article_identity(&b, "http://127.0.0.1:1/a.xml"), 0);
	CHECK(strncmp(b.id, "urn:uuid:", 9) == 0);
	tr_store_set_now(st, 1000100);
	CHECK_INT(store_doc(st, "alpha", &b, 1, &r), 0);
	CHECK_INT(r.added, 0);
	CHECK_INT(r.unchanged, 1);
	CHECK_INT(store_doc(st, "alpha", &b, 1, &r), 0);
	CHECK_INT(r.added, 0);
	q.feed = "alpha";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK_INT(p->n, 1);
	if (p->n == 1) {
		CHECK_STR(p->items[0].id, b.id);
		CHECK_INT(p->items[0].first_seen, 1000000);
	}
	q.feed = "beta";
	CHECK_INT(query(st, &q, p, NULL), 0);
	CHECK(p->n == 1 && strcmp(p->items[0].id, legacy) == 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 2);
	page_free(p);
	free(p);
	tr_article_free(&a);
	tr_article_free(&b);
	tr_config_free(cfg);
	tr_store_close(st);
	rm_db(path);
}

/* An article's picture is stored and read back; a new picture is a
 * change, a missing one too. */
static void
test_image_roundtrip(void)
{
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf);
	struct tr_store_result r;
	struct tr_article a;
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();
	char *image = NULL;

	CHECK_INT(tr_store_open(&st, ":memory:", 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	tr_store_set_now(st, 1000000);
	mkart(&a, "pic", "http://127.0.0.1/pic", "Pic", 900000);
	a.image = strdup("http://127.0.0.1/pic.jpg");
	CHECK_INT(store_doc(st, "alpha", &a, 1, &r), 0);
	CHECK_INT(r.added, 1);
	q.feed = "alpha";
	CHECK_INT(tr_store_query(st, &q, image_cb, &image, NULL), 0);
	CHECK_STR(image, "http://127.0.0.1/pic.jpg");
	free(image);
	image = NULL;
	free(a.image);
	a.image = strdup("http://127.0.0.1/other.jpg");
	CHECK_INT(store_doc(st, "alpha", &a, 1, &r), 0);
	CHECK_INT(r.updated, 1);
	CHECK_INT(tr_store_query(st, &q, image_cb, &image, NULL), 0);
	CHECK_STR(image, "http://127.0.0.1/other.jpg");
	free(image);
	free(a.image);
	a.image = NULL;
	image = strdup("x");
	CHECK_INT(store_doc(st, "alpha", &a, 1, &r), 0);
	CHECK_INT(r.updated, 1);
	CHECK_INT(tr_store_query(st, &q, image_cb, &image, NULL), 0);
	CHECK(image == NULL);
	free(image);
	page_free(p);
	free(p);
	tr_article_free(&a);
	tr_config_free(cfg);
	tr_store_close(st);
}

TR_TESTS(test_undated_order, test_undated_among_dated, test_legacy_hash_id,
         test_image_roundtrip)
