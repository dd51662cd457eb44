/*
 * store_query.c — the merged feed: newest first, one article per
 * canonical link, filters, per-feed caps and keyset pagination.
 *
 * Without a tag or feed filter the query walks the index articles_sort
 * (sort_date) backwards, skipping rows that are not primary, and stops
 * after the page: is_primary already picks, at write time, the
 * earliest-seen row of each canonical link. With a tag or feed filter
 * only the feeds in that set count, so the earliest row among them wins;
 * a NOT EXISTS on the canon index decides that per row.
 *
 * A feed filter reads that feed's range of articles_feed (feed_id,
 * sort_date), already in order. A tag or a full-text query has two
 * plans, chosen per query: when the rows they select are a large share
 * of all, walking articles_sort and skipping the others reaches a page
 * soonest (Q_WALK; a full-text match is then probed per row by rowid);
 * when they are few, reading just those rows (each tagged feed's range,
 * or the full-text matches) and sorting them is cheaper. With a share f
 * of N articles the walk reads about limit / f rows and the sort about
 * f * N, so the walk wins when f * f * N > limit. The share of a tag is
 * that of its feeds; the share of a full-text query comes from counting
 * its matches, stopping at sqrt(limit * N), past which the walk wins.
 *
 * Rows are handed to the callback one at a time as the statement yields
 * them.
 *
 * Each combination of filters is one SQL text, prepared on first use and
 * kept on the handle.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"
#include "tributary/error.h"

#define LIMIT_DEFAULT 50
#define LIMIT_MAX 1000

enum {
	C_ID, C_SORT, C_FEED_ID, C_FIRST_SEEN, C_IDENTITY, C_GUID, C_PERMA,
	C_LINK, C_CANON, C_TITLE, C_AUTHOR, C_AUTHORS, C_SUMMARY, C_CONTENT,
	C_PUBLISHED, C_UPDATED, C_CATEGORIES, C_ENCLOSURES, C_SOURCE_TITLE,
	C_SOURCE_URL, C_SOURCE_ID, C_FEED_NAME, C_FEED_TITLE, C_FEED_URL,
	C_FEED_LINK, C_MAX_PER_FEED, C_IMAGE, C_FEED_AUTHOR
};

static const char select_cols[] =
    "SELECT a.id, a.sort_date, a.feed_id, a.first_seen, a.identity, a.guid,"
    " a.guid_is_permalink, a.link, a.canon, a.title, a.author, a.authors,"
    " a.summary, a.content, a.published, a.updated, a.categories,"
    " a.enclosures, a.source_title, a.source_url, a.source_id, f.name,"
    " coalesce(f.conf_title, f.doc_title), coalesce(f.effective_url, f.url),"
    " f.site_link, f.max_per_feed, a.image, f.doc_author FROM articles a";

static int step_error(struct tr_store *st, const struct tr_query *q,
    int src);

/* Builds the SQL text of one filter combination into b. */
static int
build_sql(struct tr_buf *b, unsigned v, int conf)
{
	/* Feeds that count for deduplication, as a condition on feed_id. */
	const char *in_set = (v & Q_FEED) ? ".feed_id = (SELECT id FROM feeds"
					    " WHERE name = :feed)"
					  : ".feed_id IN (SELECT feed_id FROM"
					    " feed_tags WHERE tag = :tag)";
	int rc = tr_buf_adds(b, select_cols);

	if (rc == 0 && (v & Q_WALK))
		rc = tr_buf_adds(b, " INDEXED BY articles_sort");
	if (rc == 0)
		rc = tr_buf_adds(b, " JOIN feeds f ON f.id = a.feed_id");
	/*
	 * With a config at hand (tr_store_use_config) the primary row, chosen
	 * among the feeds of every config, may be of a feed this one does
	 * not list, and this one may list a feed no other does: the earliest
	 * row among this config's feeds stands for the link, as with a tag.
	 */
	if (rc == 0 && !(v & (Q_TAG | Q_FEED)) && conf)
		rc = tr_buf_adds(b, " WHERE (a.canon IS NULL OR NOT EXISTS"
				    " (SELECT 1 FROM articles b"
				    " WHERE b.canon = a.canon"
				    " AND (b.first_seen < a.first_seen OR"
				    " (b.first_seen = a.first_seen AND"
				    " b.id < a.id)) AND b.feed_id IN (SELECT"
				    " id FROM feeds WHERE active = 1)))");
	else if (rc == 0 && !(v & (Q_TAG | Q_FEED)))
		rc = tr_buf_adds(b, " WHERE a.is_primary");
	if (rc == 0 && (v & (Q_TAG | Q_FEED))) {
		rc = tr_buf_adds(b, " WHERE ");
		if (rc == 0)
			rc = tr_buf_printf(b, "a%s", in_set);
		if (rc == 0 && (v & Q_TAG) && (v & Q_FEED))
			rc = tr_buf_adds(b, " AND f.id IN (SELECT feed_id FROM"
					    " feed_tags WHERE tag = :tag)");
		if (rc == 0)
			rc = tr_buf_adds(b,
			    " AND (a.canon IS NULL OR NOT EXISTS (SELECT 1"
			    " FROM articles b WHERE b.canon = a.canon"
			    " AND (b.first_seen < a.first_seen OR"
			    " (b.first_seen = a.first_seen AND b.id < a.id))"
			    " AND ");
		if (rc == 0)
			rc = tr_buf_printf(b, "b%s", in_set);
		if (rc == 0)
			rc = tr_buf_adds(b, "))");
	}
	/* A feed removed from the config leaves the merged feed at once. */
	if (rc == 0)
		rc = tr_buf_adds(b, " AND f.active = 1");
	if (rc == 0 && (v & Q_SINCE))
		rc = tr_buf_adds(b, " AND a.sort_date >= :since");
	if (rc == 0 && (v & Q_CURSOR))
		rc = tr_buf_adds(b, " AND a.sort_date <= :cs"
				    " AND (a.sort_date < :cs OR a.id < :ci)");
	if (rc == 0 && (v & Q_FTS) && !(v & Q_WALK))
		rc = tr_buf_adds(b, " AND a.id IN (SELECT rowid FROM"
				    " articles_fts WHERE articles_fts"
				    " MATCH :q)");
	if (rc == 0 && (v & Q_FTS) && (v & Q_WALK))
		rc = tr_buf_adds(b, " AND EXISTS (SELECT 1 FROM articles_fts"
				    " WHERE articles_fts MATCH :q"
				    " AND rowid = a.id)");
	if (rc == 0)
		rc = tr_buf_adds(b, " ORDER BY a.sort_date DESC, a.id DESC");
	return rc;
}

/* The prepared statement of filter combination v. */
static sqlite3_stmt *
query_stmt(struct tr_store *st, unsigned v)
{
	struct tr_buf sql;
	sqlite3_stmt *s = st->qstmt[v];

	if (s != NULL) {
		sqlite3_reset(s);
		sqlite3_clear_bindings(s);
		return s;
	}
	tr_buf_init(&sql, 1 << 16);
	if (build_sql(&sql, v, st->cfg_used) != 0) {
		tr_buf_free(&sql);
		store_err(st, TR_ENOMEM, "out of memory");
		return NULL;
	}
	if (sqlite3_prepare_v3(st->db, tr_buf_str(&sql), -1,
		SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
		store_dberr(st, "preparing the merged query");
		s = NULL;
	}
	tr_buf_free(&sql);
	st->qstmt[v] = s;
	return s;
}

void
store_query_finalize(struct tr_store *st)
{
	size_t i;

	for (i = 0; i < Q_VARIANTS; i++)
		sqlite3_finalize(st->qstmt[i]);
}

static unsigned
variant(const struct tr_query *q)
{
	unsigned v = 0;

	if (q->tag)
		v |= Q_TAG;
	if (q->feed)
		v |= Q_FEED;
	if (q->q)
		v |= Q_FTS;
	if (q->since != TR_DATE_NONE)
		v |= Q_SINCE;
	if (q->before)
		v |= Q_CURSOR;
	return v;
}

/*
 * Whether the query should walk the date index (see the top of this
 * file). The estimate comes from cheap counts: feeds with the tag, all
 * feeds, the highest article id for the number of articles, and the
 * full-text matches up to a cap.
 */
static int
choose_walk(struct tr_store *st, const struct tr_query *q, size_t limit,
    unsigned *v)
{
	sqlite3_stmt *s;
	double share = 1, articles, cap;
	int rc;

	if ((*v & Q_FEED) || !(*v & (Q_TAG | Q_FTS)))
		return 0;
	if ((s = store_stmt(st, S_TAG_SHARE)) == NULL)
		return TR_ESTORE;
	sqlite3_bind_text(s, 1, q->tag ? q->tag : "", -1, SQLITE_STATIC);
	if (sqlite3_step(s) != SQLITE_ROW) {
		sqlite3_reset(s);
		return store_dberr(st, "estimating a query's share");
	}
	if (q->tag)
		share = sqlite3_column_int64(s, 1) > 0
			    ? (double)sqlite3_column_int64(s, 0) /
				  (double)sqlite3_column_int64(s, 1)
			    : 0;
	articles = (double)sqlite3_column_int64(s, 2);
	sqlite3_reset(s);
	if (q->q && articles > 0) {
		cap = sqrt((double)limit * articles) + 1;
		if ((s = store_stmt(st, S_FTS_COUNT)) == NULL)
			return TR_ESTORE;
		sqlite3_bind_text(s, 1, q->q, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s, 2, (int64_t)cap);
		if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
			sqlite3_reset(s);
			return step_error(st, q, rc);
		}
		share *= (double)sqlite3_column_int64(s, 0) / articles;
		sqlite3_reset(s);
	}
	if (share * share * articles > (double)limit)
		*v |= Q_WALK;
	return 0;
}

char *
tr_store_query_sql(const struct tr_query *q, int walk)
{
	struct tr_buf sql;
	unsigned v = variant(q);

	if (walk && !(v & Q_FEED) && (v & (Q_TAG | Q_FTS)))
		v |= Q_WALK;
	tr_buf_init(&sql, 1 << 16);
	if (build_sql(&sql, v, 0) != 0) {
		tr_buf_free(&sql);
		return NULL;
	}
	return tr_buf_detach(&sql);
}

/* --- decoding one row --- */

/*
 * Steps s (prepared and bound by the caller) and collects one element of
 * size bytes per row into a malloc'ed array via fn.
 */
static int
collect_rows(struct tr_store *st, sqlite3_stmt *s, size_t *n, void **arr,
    size_t size, int (*fn)(void *elem, sqlite3_stmt *s))
{
	size_t cap = 0;
	int rc;

	*n = 0;
	*arr = NULL;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (*n == cap) {
			void *p = realloc(*arr, (cap ? cap * 2 : 4) * size);

			if (p == NULL) {
				sqlite3_reset(s);
				return store_err(st, TR_ENOMEM,
				    "out of memory");
			}
			*arr = p;
			cap = cap ? cap * 2 : 4;
		}
		memset((char *)*arr + *n * size, 0, size);
		if (fn((char *)*arr + *n * size, s) != 0) {
			(*n)++;
			sqlite3_reset(s);
			return store_err(st, TR_ENOMEM, "out of memory");
		}
		(*n)++;
	}
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_dberr(st, "decoding a stored list");
	return 0;
}

/* Runs json_each over text with statement id; fn per element. */
static int
json_rows(struct tr_store *st, enum store_stmt id, const char *text,
    size_t *n, void **arr, size_t size,
    int (*fn)(void *elem, sqlite3_stmt *s))
{
	sqlite3_stmt *s;

	*n = 0;
	*arr = NULL;
	if (text == NULL)
		return 0;
	if ((s = store_stmt(st, id)) == NULL)
		return TR_ESTORE;
	sqlite3_bind_text(s, 1, text, -1, SQLITE_STATIC);
	return collect_rows(st, s, n, arr, size, fn);
}

static int
dup_col(char **dst, sqlite3_stmt *s, int i)
{
	const char *t = store_col_text(s, i);

	*dst = NULL;
	if (t == NULL)
		return 0;
	return (*dst = strdup(t)) ? 0 : -1;
}

static int
person_row(void *elem, sqlite3_stmt *s)
{
	struct tr_person *p = elem;

	return dup_col(&p->name, s, 0) | dup_col(&p->email, s, 1) |
	       dup_col(&p->uri, s, 2);
}

static int
string_row(void *elem, sqlite3_stmt *s)
{
	return dup_col(elem, s, 0);
}

static int
enclosure_row(void *elem, sqlite3_stmt *s)
{
	struct tr_enclosure *e = elem;

	e->length = sqlite3_column_type(s, 2) == SQLITE_NULL
			? -1
			: sqlite3_column_int64(s, 2);
	return dup_col(&e->url, s, 0) | dup_col(&e->type, s, 1);
}

/* Frees what decode_lists() allocated in it->a. */
static void
free_lists(struct tr_item *it)
{
	size_t i;

	for (i = 0; i < it->a.n_authors; i++) {
		free(it->a.authors[i].name);
		free(it->a.authors[i].email);
		free(it->a.authors[i].uri);
	}
	free(it->a.authors);
	for (i = 0; i < it->a.n_categories; i++)
		free(it->a.categories[i]);
	free(it->a.categories);
	for (i = 0; i < it->a.n_enclosures; i++) {
		free(it->a.enclosures[i].url);
		free(it->a.enclosures[i].type);
	}
	free(it->a.enclosures);
}

static int
decode_lists(struct tr_store *st, struct tr_item *it, sqlite3_stmt *s)
{
	void *p;
	int rc;

	rc = json_rows(st, S_JSON_AUTHORS, store_col_text(s, C_AUTHORS),
	    &it->a.n_authors, &p, sizeof(struct tr_person), person_row);
	it->a.authors = p;
	if (rc != 0)
		return rc;
	rc = json_rows(st, S_JSON_STRINGS, store_col_text(s, C_CATEGORIES),
	    &it->a.n_categories, &p, sizeof(char *), string_row);
	it->a.categories = p;
	if (rc != 0)
		return rc;
	rc = json_rows(st, S_JSON_ENCLOSURES,
	    store_col_text(s, C_ENCLOSURES), &it->a.n_enclosures, &p,
	    sizeof(struct tr_enclosure), enclosure_row);
	it->a.enclosures = p;
	return rc;
}

/* Fills the other feeds that carried the item's canonical link. */
static int
decode_also(struct tr_store *st, struct tr_item *it, sqlite3_stmt *row,
    char ***also)
{
	const char *canon = store_col_text(row, C_CANON);
	sqlite3_stmt *s;
	void *p = NULL;
	size_t n = 0;
	int rc;

	*also = NULL;
	it->also = NULL;
	it->n_also = 0;
	if (canon == NULL)
		return 0;
	if ((s = store_stmt(st, S_ALSO)) == NULL)
		return TR_ESTORE;
	sqlite3_bind_text(s, 1, canon, -1, SQLITE_STATIC);
	sqlite3_bind_int64(s, 2, sqlite3_column_int64(row, C_FEED_ID));
	rc = collect_rows(st, s, &n, &p, sizeof(char *), string_row);
	*also = p;
	it->also = (const char *const *)p;
	it->n_also = n;
	return rc;
}

static void
item_from_row(struct tr_item *it, sqlite3_stmt *s)
{
	struct tr_article *a = &it->a;

	memset(it, 0, sizeof(*it));
	a->id = store_col_borrow(s, C_IDENTITY);
	a->guid = store_col_borrow(s, C_GUID);
	a->guid_is_permalink = sqlite3_column_int(s, C_PERMA);
	a->link = store_col_borrow(s, C_LINK);
	a->title = store_col_borrow(s, C_TITLE);
	a->author = store_col_borrow(s, C_AUTHOR);
	a->summary = store_col_borrow(s, C_SUMMARY);
	a->content = store_col_borrow(s, C_CONTENT);
	a->published = store_col_date(s, C_PUBLISHED);
	a->updated = store_col_date(s, C_UPDATED);
	a->source_title = store_col_borrow(s, C_SOURCE_TITLE);
	a->source_url = store_col_borrow(s, C_SOURCE_URL);
	a->source_id = store_col_borrow(s, C_SOURCE_ID);
	a->image = store_col_borrow(s, C_IMAGE);
	it->first_seen = sqlite3_column_int64(s, C_FIRST_SEEN);
	it->sort_date = sqlite3_column_int64(s, C_SORT);
	it->feed_name = store_col_text(s, C_FEED_NAME);
	it->feed_title = store_col_text(s, C_FEED_TITLE);
	it->feed_url = store_col_text(s, C_FEED_URL);
	it->feed_link = store_col_text(s, C_FEED_LINK);
	it->feed_author = store_col_text(s, C_FEED_AUTHOR);
}

/* Decodes the row at s and hands it to cb. */
static int
emit(struct tr_store *st, sqlite3_stmt *s, tr_item_cb cb, void *arg)
{
	struct tr_item it;
	char **also = NULL;
	size_t i;
	int rc;

	item_from_row(&it, s);
	if ((rc = decode_lists(st, &it, s)) == 0 &&
	    (rc = decode_also(st, &it, s, &also)) == 0) {
		rc = cb(&it, arg);
		if (rc > 0)
			rc = TR_EABORT;
	}
	for (i = 0; i < it.n_also; i++)
		free(also[i]);
	free(also);
	free_lists(&it);
	return rc;
}

/* --- per-feed caps within one page --- */

struct caps {
	int64_t *feed;
	int64_t *count;
	size_t n;
};

/* Counts one item of feed; returns 0 when it is within the cap. */
static int
cap_take(struct caps *c, int64_t feed, int64_t cap, size_t limit)
{
	size_t i;

	if (cap <= 0)
		return 0;
	for (i = 0; i < c->n && c->feed[i] != feed; i++)
		;
	if (i == c->n) {
		/* At most limit items are emitted: the arrays hold limit. */
		if (c->n == limit)
			return -1;
		c->feed[i] = feed;
		c->count[i] = 0;
		c->n++;
	}
	if (c->count[i] >= cap)
		return -1;
	c->count[i]++;
	return 0;
}

static int
bind_query(struct tr_store *st, sqlite3_stmt *s, const struct tr_query *q)
{
	int64_t cs = 0, ci = 0;

	if (q->before && store_cursor_parse(q->before, &cs, &ci) != 0)
		return store_err(st, TR_EINVAL,
		    "bad pagination cursor \"%.64s\"", q->before);
	if (q->tag)
		sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":tag"),
		    q->tag, -1, SQLITE_STATIC);
	if (q->feed)
		sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":feed"),
		    q->feed, -1, SQLITE_STATIC);
	if (q->q)
		sqlite3_bind_text(s, sqlite3_bind_parameter_index(s, ":q"),
		    q->q, -1, SQLITE_STATIC);
	if (q->since != TR_DATE_NONE)
		sqlite3_bind_int64(s,
		    sqlite3_bind_parameter_index(s, ":since"), q->since);
	if (q->before) {
		sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":cs"),
		    cs);
		sqlite3_bind_int64(s, sqlite3_bind_parameter_index(s, ":ci"),
		    ci);
	}
	return 0;
}

/*
 * The error of a failed step. A search stopped by its stop() callback
 * (through the progress handler) is TR_EABORT. tr_store_search_expr()
 * writes only valid expressions, so any other failure is the store's.
 */
static int
step_error(struct tr_store *st, const struct tr_query *q, int src)
{
	if ((src & 0xff) == SQLITE_INTERRUPT)
		return store_err(st, TR_EABORT, "the search was stopped");
	(void)q;
	return store_dberr(st, "running the merged query");
}

/* --- searches as people type them --- */

/* Appends the n bytes at s as an FTS5 string: "..." with " doubled. */
static int
add_fts_string(struct tr_buf *b, const char *s, size_t n, int prefix)
{
	size_t i;
	int rc = tr_buf_addc(b, '"');

	for (i = 0; rc == 0 && i < n; i++)
		rc = s[i] == '"' ? tr_buf_add(b, "\"\"", 2)
				 : tr_buf_addc(b, s[i]);
	if (rc == 0)
		rc = tr_buf_addc(b, '"');
	if (rc == 0 && prefix)
		rc = tr_buf_addc(b, '*');
	return rc;
}

/*
 * The FTS5 expression of the terms (store_search.c parses them):
 * ("a" AND "b") NOT "c" NOT "d", FTS5's NOT being binary.
 */
int
tr_store_search_expr(char **out, char *why, size_t whysize, const char *q)
{
	struct store_search terms;
	struct tr_buf pos, neg;
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = store_search_parse(&terms, why, whysize, q)) != 0 ||
	    terms.n == 0)
		return rc;
	tr_buf_init(&pos, 1 << 16);
	tr_buf_init(&neg, 1 << 16);
	for (i = 0; rc == 0 && i < terms.n; i++) {
		const struct store_term *t = &terms.t[i];

		if (t->negated)
			rc = tr_buf_adds(&neg, " NOT ");
		else if (pos.len)
			rc = tr_buf_adds(&pos, " AND ");
		if (rc == 0)
			rc = add_fts_string(t->negated ? &neg : &pos, t->s,
			    t->n, t->prefix);
	}
	if (rc == 0) {
		struct tr_buf e;

		tr_buf_init(&e, 1 << 17);
		if ((rc = tr_buf_printf(&e, "(%s)%s", tr_buf_str(&pos),
			 neg.len ? tr_buf_str(&neg) : "")) == 0 &&
		    (*out = tr_buf_detach(&e)) == NULL)
			rc = TR_ENOMEM;
		tr_buf_free(&e);
	}
	if (rc == TR_ETOOBIG || rc == TR_ENOMEM) {
		snprintf(why, whysize, "the search is too long");
		rc = rc == TR_ETOOBIG ? TR_EINVAL : rc;
	}
	tr_buf_free(&pos);
	tr_buf_free(&neg);
	return rc;
}

/* The progress handler of a query with a stop() callback. */
static int
query_progress(void *arg)
{
	const struct tr_query *q = arg;

	return q->stop(q->stop_arg) != 0;
}

/* The query itself, with q->q already an FTS5 expression. */
static int
run_query(struct tr_store *st, const struct tr_query *q, tr_item_cb cb,
    void *arg, char **next)
{
	struct caps caps = {NULL, NULL, 0};
	int64_t last_sort = 0, last_id = 0;
	size_t limit, emitted = 0;
	sqlite3_stmt *s;
	unsigned v;
	int rc = 0, src;

	limit = q->limit == 0 ? LIMIT_DEFAULT
	      : q->limit > LIMIT_MAX ? LIMIT_MAX : (size_t)q->limit;
	v = variant(q);
	if ((rc = choose_walk(st, q, limit, &v)) != 0)
		return rc;
	if ((s = query_stmt(st, v)) == NULL)
		return TR_ESTORE;
	if ((rc = bind_query(st, s, q)) != 0)
		return rc;
	caps.feed = malloc(limit * sizeof(*caps.feed));
	caps.count = malloc(limit * sizeof(*caps.count));
	if (caps.feed == NULL || caps.count == NULL) {
		rc = store_err(st, TR_ENOMEM, "out of memory");
		goto out;
	}
	while ((src = sqlite3_step(s)) == SQLITE_ROW) {
		if (emitted == limit) {
			/* One more row exists: the next page starts there. */
			if (next && (*next = store_cursor_make(last_sort,
					 last_id)) == NULL)
				rc = store_err(st, TR_ENOMEM, "out of memory");
			goto out;
		}
		/* The cap is for mixing feeds: not within one feed's list. */
		if (q->feed == NULL &&
		    cap_take(&caps, sqlite3_column_int64(s, C_FEED_ID),
			sqlite3_column_int64(s, C_MAX_PER_FEED), limit) != 0)
			continue;
		last_sort = sqlite3_column_int64(s, C_SORT);
		last_id = sqlite3_column_int64(s, C_ID);
		if ((rc = emit(st, s, cb, arg)) != 0)
			goto out;
		emitted++;
	}
	if (src != SQLITE_DONE)
		rc = step_error(st, q, src);
out:
	sqlite3_reset(s);
	free(caps.feed);
	free(caps.count);
	return rc;
}

int
sq_query(struct tr_store *st, const struct tr_query *q,
    tr_item_cb cb, void *arg, char **next)
{
	struct tr_query fq = *q;
	char why[200], *expr = NULL;
	int rc;

	if (next)
		*next = NULL;
	if (q->limit < 0)
		return store_err(st, TR_EINVAL, "limit %d: must be 1 to %d",
		    q->limit, LIMIT_MAX);
	if (q->q) {
		if ((rc = tr_store_search_expr(&expr, why, sizeof(why),
			 q->q)) != 0)
			return store_err(st, rc, "%s", why);
		fq.q = expr; /* NULL: nothing to search for, all match */
	}
	/* A budget: SQLite asks stop() every 1,000 virtual machine steps. */
	if (q->stop)
		sqlite3_progress_handler(st->db, 1000, query_progress, &fq);
	rc = run_query(st, &fq, cb, arg, next);
	/* Stopped in a step before the query's own (its plan's estimate). */
	if (q->stop && rc == TR_ESTORE &&
	    (sqlite3_errcode(st->db) & 0xff) == SQLITE_INTERRUPT)
		rc = store_err(st, TR_EABORT, "the search was stopped");
	if (q->stop)
		sqlite3_progress_handler(st->db, 0, NULL, NULL);
	free(expr);
	return rc;
}
