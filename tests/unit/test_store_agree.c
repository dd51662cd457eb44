/*
 * test_store_agree.c — the merged query answers the same on SQLite and on
 * PostgreSQL: the same documents stored in both (SQLite in memory, a fresh
 * database of the TR_TEST_PG cluster), then every combination of a table
 * of searches, tags, feeds, limits, dates and cursors asked of both, page
 * after page, must give the same items with the same fields, lists and
 * other feeds, the same errors and the same pages; once more with another
 * config at hand (tr_store_use_config). Needs TR_TEST_PG.
 */
#include "test_store_util.h"

static const char conf_four[] =
    "[tributary]\n"
    "database = x.db\n"
    "max_per_feed = 4\n"
    "[feed \"a\"]\nurl = http://127.0.0.1:1/a.xml\ntags = news\n"
    "title = Feed A\n"
    "[feed \"b\"]\nurl = http://127.0.0.1:1/b.xml\ntags = news, tech\n"
    "[feed \"c\"]\nurl = http://127.0.0.1:1/c.xml\ntags = tech\n"
    "max_per_feed = 2\n"
    "[feed \"d\"]\nurl = http://127.0.0.1:1/d.xml\nmax_per_feed = 0\n";

/* Another config file sharing the store: other titles, tags, caps. */
static const char conf_other[] =
    "[tributary]\n"
    "database = x.db\n"
    "max_per_feed = 3\n"
    "[feed \"a\"]\nurl = http://127.0.0.1:1/a.xml\ntags = tech\n"
    "title = Other A\n"
    "[feed \"c\"]\nurl = http://127.0.0.1:1/c-moved.xml\ntags = news\n"
    "[feed \"d\"]\nurl = http://127.0.0.1:1/d.xml\ntags = news\n"
    "max_per_feed = 1\n"
    "[feed \"e\"]\nurl = http://127.0.0.1:1/e.xml\n";

static const char *const texts[] = {
    "covid-19 vaccine rollout", "Covid wards, vaccines", "C++ and e-mail",
    "The U.S. said: don't", "What? A café", "new york times",
    "rust java go lang", "searchable words here", "\xe5\x8c\x97\xe4\xba\xac news",
    "volcano eruption",
};

static char *
sdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Article i of feed: lists, shared links and dates vary with i. */
static void
put(struct tr_store *st, const char *feed, int i)
{
	struct tr_store_batch *b = NULL;
	struct tr_article a;
	char id[64], link[64];

	tr_article_init(&a);
	snprintf(id, sizeof(id), "%s-%d", feed, i);
	if (i % 3 == 0) /* every third links to one shared by 4 feeds */
		snprintf(link, sizeof(link), "http://127.0.0.1/shared/%d",
		    i / 12);
	else
		snprintf(link, sizeof(link), "http://127.0.0.1/%s/%d", feed, i);
	a.id = sdup(id);
	a.guid = sdup(id);
	a.link = i % 11 == 5 ? NULL : sdup(link);
	a.title = sdup(texts[i % 10]);
	a.summary = sdup(texts[(i * 7 + 3) % 10]);
	a.published = i % 7 == 0 ? 5000 : 1000 + (i * 37) % 400;
	if (i % 3 == 0) {
		a.n_authors = 2;
		a.authors = calloc(2, sizeof(*a.authors));
		a.authors[0].name = sdup("Ann \"Q\" O'Neil");
		a.authors[0].email = sdup("ann@example.com");
		a.authors[1].name = sdup("Bob\\\xc3\xbc");
		a.authors[1].uri = sdup("http://b.example/");
		a.author = sdup("Ann");
	}
	if (i % 2 == 0) {
		a.n_categories = 2;
		a.categories = calloc(2, sizeof(char *));
		a.categories[0] = sdup("tech");
		a.categories[1] = sdup("line\nbreak \xe2\x80\x94 {x}");
	}
	if (i % 4 == 1) {
		a.n_enclosures = 2;
		a.enclosures = calloc(2, sizeof(*a.enclosures));
		a.enclosures[0].url = sdup("http://e.example/a.mp3");
		a.enclosures[0].type = sdup("audio/mpeg");
		a.enclosures[0].length = 12345678901LL;
		a.enclosures[1].url = sdup("http://e.example/b");
		a.enclosures[1].length = -1;
	}
	if (i % 5 == 2) {
		a.source_title = sdup("src");
		a.source_url = sdup("http://s/");
		a.image = sdup("http://img/");
		a.updated = a.published + 5;
	}
	tr_store_set_now(st, 9000 + i);
	CHECK_INT(tr_store_batch_begin(&b, st, feed), 0);
	CHECK_INT(tr_store_batch_add(b, &a), 0);
	CHECK_INT(tr_store_batch_commit(b, NULL, NULL), 0);
	tr_store_batch_free(b);
	tr_article_free(&a);
}

static const char *
nz(const char *s)
{
	return s ? s : "(null)";
}

/* One line per item: every field the callback sees. */
static int
item_line(const struct tr_item *it, void *arg)
{
	struct tr_buf *b = arg;
	const struct tr_article *a = &it->a;
	size_t i;

	tr_buf_printf(b, "%s|%s|%d|%s|%s|%s|%s|%s|%s|%lld|%lld|%s|%s|%s|%s|"
	    "%s|%lld|%lld|%s|%s", nz(a->id), nz(a->guid),
	    a->guid_is_permalink, nz(a->link), nz(a->title), nz(a->author),
	    nz(a->summary), nz(a->content), nz(a->image),
	    (long long)a->published, (long long)a->updated,
	    nz(a->source_title), nz(a->source_url), nz(a->source_id),
	    nz(it->feed_name), nz(it->feed_title), (long long)it->sort_date,
	    (long long)it->first_seen, nz(it->feed_url), nz(it->feed_link));
	for (i = 0; i < a->n_authors; i++)
		tr_buf_printf(b, " A[%s,%s,%s]", nz(a->authors[i].name),
		    nz(a->authors[i].email), nz(a->authors[i].uri));
	for (i = 0; i < a->n_categories; i++)
		tr_buf_printf(b, " C[%s]", nz(a->categories[i]));
	for (i = 0; i < a->n_enclosures; i++)
		tr_buf_printf(b, " E[%s,%s,%lld]", nz(a->enclosures[i].url),
		    nz(a->enclosures[i].type),
		    (long long)a->enclosures[i].length);
	for (i = 0; i < it->n_also; i++)
		tr_buf_printf(b, " also=%s", it->also[i]);
	tr_buf_addc(b, '\n');
	return 0;
}

/* Up to 4 pages of q on st as text, from q's own cursor. */
static char *
all_pages(struct tr_store *st, const struct tr_query *q0)
{
	struct tr_query q = *q0;
	struct tr_buf b;
	char *next = NULL, *cur = NULL;
	int rc, pages = 0;

	tr_buf_init(&b, 1 << 24);
	do {
		rc = tr_store_query(st, &q, item_line, &b, &next);
		tr_buf_printf(&b, "-- page rc=%d more=%d\n", rc, next != NULL);
		free(cur);
		cur = next;
		next = NULL;
		q.before = cur;
	} while (rc == 0 && cur && ++pages < 4);
	free(cur);
	return tr_buf_detach(&b);
}

static void
compare(struct tr_store *sq, struct tr_store *pg, int *n)
{
	static const char *const searches[] = {
	    NULL, "covid", "covid-19", "vacc*", "covid -vaccine",
	    "\"new york\"", "\"new yo\"*", "\"york new\"", "C++", "U.S.",
	    "don't", "e-mail", "email", "\xe5\x8c\x97\xe4\xba\xac", "what?",
	    "-only", "a b c d e f g h i j k l m n o p q",
	    "aa* bb* cc* dd* ee*", "\"", ")(*&^%$#@!", "x' & !y:* | (",
	    "back\\slash", "rust -\"go lang\"", "caf\xc3\xa9", "cafe",
	    "CAF\xc3\x89", "Caf\xc3\xa9*", "covid\xff",
	};
	static const char *const tags[] = {NULL, "news", "tech", "nope"};
	static const char *const feeds[] = {NULL, "a", "c", "zz"};
	static const int limits[] = {0, 4, -1};
	static const int64_t sinces[] = {TR_DATE_NONE, 1200};
	char *mid = NULL;
	size_t s, t, f, l, d;

	for (s = 0; s < sizeof(searches) / sizeof(searches[0]); s++)
	for (t = 0; t < 4; t++)
	for (f = 0; f < 4; f++)
	for (l = 0; l < 3; l++)
	for (d = 0; d < 2; d++) {
		struct tr_query q;
		char *a, *b;

		/* Filters with the first searches; the rest on their own. */
		if (s >= 5 && (t || f || d))
			continue;
		memset(&q, 0, sizeof(q));
		q.q = searches[s];
		q.tag = tags[t];
		q.feed = feeds[f];
		q.limit = limits[l];
		q.since = sinces[d];
		a = all_pages(sq, &q);
		b = all_pages(pg, &q);
		(*n)++;
		if (strcmp(a, b) != 0) {
			printf("  q=%s tag=%s feed=%s limit=%d since=%lld\n"
			       "  SQLite:\n%s  PostgreSQL:\n%s",
			    nz(q.q), nz(q.tag), nz(q.feed), q.limit,
			    (long long)q.since, a, b);
			CHECK(!"the backends answer alike");
		}
		free(a);
		free(b);
	}
	/* A cursor is the same text on both backends. */
	{
		struct tr_query q;
		struct tr_buf b1, b2;
		char *n1 = NULL, *n2 = NULL;

		memset(&q, 0, sizeof(q));
		q.since = TR_DATE_NONE;
		q.limit = 7;
		tr_buf_init(&b1, 1 << 24);
		tr_buf_init(&b2, 1 << 24);
		CHECK_INT(tr_store_query(sq, &q, item_line, &b1, &n1), 0);
		CHECK_INT(tr_store_query(pg, &q, item_line, &b2, &n2), 0);
		CHECK(n1 != NULL && n2 != NULL);
		if (n1 && n2)
			CHECK_STR(n1, n2);
		mid = n1;
		free(n2);
		tr_buf_free(&b1);
		tr_buf_free(&b2);
	}
	/* A bad cursor is refused by both alike. */
	{
		static const char *const bad[] = {
		    "", "x", "0000000000000001000000000000000112345678",
		    "not a cursor at all, not forty hex digits",
		};
		struct tr_query q;
		struct tr_buf b1;

		memset(&q, 0, sizeof(q));
		q.since = TR_DATE_NONE;
		tr_buf_init(&b1, 1 << 20);
		for (s = 0; s < sizeof(bad) / sizeof(bad[0]); s++) {
			q.before = bad[s];
			CHECK_INT(tr_store_query(sq, &q, item_line, &b1, NULL),
			    TR_EINVAL);
			CHECK_INT(tr_store_query(pg, &q, item_line, &b1, NULL),
			    TR_EINVAL);
		}
		q.before = mid;
		if (mid) {
			char *a = all_pages(sq, &q), *b = all_pages(pg, &q);

			CHECK_STR(a, b);
			free(a);
			free(b);
		}
		tr_buf_free(&b1);
	}
	free(mid);
}

static void
test_backends_agree(void)
{
	struct tr_store *sq = NULL, *pg = NULL;
	struct tr_config *cfg, *other;
	char *path;
	int i, n = 0;

	if (!is_pg())
		SKIP("needs a PostgreSQL cluster (TR_TEST_PG)");
	path = tmp_db();
	cfg = cfg_from(conf_four);
	other = cfg_named(conf_other, "other.conf");
	CHECK_INT(tr_store_open(&sq, ":memory:", 0), 0);
	CHECK_INT(tr_store_open(&pg, path, 0), 0);
	CHECK_INT(tr_store_sync_config(sq, cfg), 0);
	CHECK_INT(tr_store_sync_config(pg, cfg), 0);
	for (i = 0; i < 120; i++) {
		const char *feed = (const char *[]){"a", "b", "c", "d"}[i % 4];

		put(sq, feed, i);
		put(pg, feed, i);
	}
	compare(sq, pg, &n);
	/* With another config at hand: its feeds, titles, tags and caps. */
	CHECK_INT(tr_store_use_config(sq, other), 0);
	CHECK_INT(tr_store_use_config(pg, other), 0);
	compare(sq, pg, &n);
	CHECK(n > 500);
	tr_store_close(sq);
	tr_store_close(pg);
	tr_config_free(cfg);
	tr_config_free(other);
	rm_db(path);
}

TR_TESTS(test_backends_agree)
