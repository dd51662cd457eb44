/*
 * store_pg_query.c — the PostgreSQL backend's merged query and search
 * (the SQLite backend's store_sqlite_query.c, for PostgreSQL): newest
 * first, one article per canonical link, filters, per-feed caps and
 * keyset pagination, with the same rules and the same cursor.
 *
 * The SQL reads like SQLite's: without a tag or feed filter the primary
 * row of each canonical link stands for it (is_primary, chosen at write
 * time); with a filter, or with a config at hand (tr_store_use_config:
 * its temporary views feeds and feed_tags, which PostgreSQL looks up in
 * pg_temp before the schema, stand over the tables), the earliest row
 * among the feeds that count wins, decided per row by a NOT EXISTS on
 * the canon index. PostgreSQL's planner picks between walking the date
 * index and sorting the filter's matches itself.
 *
 * A page is read in chunks: one statement of at most the rows the page
 * still needs (plus one, to know whether there are more) under LIMIT;
 * per-feed caps may skip rows, and then the next chunk continues after
 * the last row read (the same keyset condition as a cursor), so memory
 * stays bounded by the page. The chunk's authors, categories and
 * enclosures (JSON text, decoded by the server's json functions) and the
 * other feeds carrying each link come in one more statement per chunk.
 *
 * Statements run asynchronously so that the stop() callback is asked
 * before each and while the server works (every STOP_POLL_MS); a stop
 * cancels the running statement. Inside a group's transaction the query
 * runs in a savepoint, so that a cancelled or failed read does not undo
 * the group's writes.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"
#include "tributary/buf.h"
#include "tributary/error.h"
#include "tributary/escape.h"

#define LIMIT_DEFAULT 50
#define LIMIT_MAX 1000
#define STOP_POLL_MS 20

enum {
	C_ID, C_SORT, C_FEED_ID, C_FIRST_SEEN, C_IDENTITY, C_GUID, C_PERMA,
	C_LINK, C_CANON, C_TITLE, C_AUTHOR, C_SUMMARY, C_CONTENT,
	C_PUBLISHED, C_UPDATED, C_SOURCE_TITLE, C_SOURCE_URL, C_SOURCE_ID,
	C_FEED_NAME, C_FEED_TITLE, C_FEED_URL, C_FEED_LINK, C_MAX_PER_FEED,
	C_IMAGE, C_FEED_AUTHOR
};

static const char select_cols[] =
    "SELECT a.id, a.sort_date, a.feed_id, a.first_seen, a.identity, a.guid,"
    " a.guid_is_permalink, a.link, a.canon, a.title, a.author, a.summary,"
    " a.content, a.published, a.updated, a.source_title, a.source_url,"
    " a.source_id, f.name, coalesce(f.conf_title, f.doc_title),"
    " coalesce(f.effective_url, f.url), f.site_link, f.max_per_feed,"
    " a.image, f.doc_author FROM articles a JOIN ";

/*
 * The lists of the chunk's articles ($1, ids in page order): rows of
 * (position in $1, kind, order, three values), in that order. Kind 0 is
 * an author (name, email, uri), 1 a category, 2 an enclosure (url,
 * type, length), 3 another feed carrying the link (as SQLite's S_ALSO:
 * by first seen, then name in byte order). The JSON is the store's own
 * (store.c); json, not jsonb, keeps its strings exactly.
 */
static const char lists_sql[] =
    "WITH x AS (SELECT x.i, a.id, a.feed_id, a.canon, a.authors,"
    " a.categories, a.enclosures FROM unnest($1::bigint[]) WITH ORDINALITY"
    " x(id, i) JOIN articles a ON a.id = x.id)"
    " SELECT x.i, 0, e.o, e.v->>'name', e.v->>'email', e.v->>'uri' FROM x,"
    " json_array_elements(x.authors::json) WITH ORDINALITY e(v, o)"
    " UNION ALL SELECT x.i, 1, e.o, e.v #>> '{}', NULL, NULL FROM x,"
    " json_array_elements(x.categories::json) WITH ORDINALITY e(v, o)"
    " UNION ALL SELECT x.i, 2, e.o, e.v->>'url', e.v->>'type',"
    " e.v->>'length' FROM x,"
    " json_array_elements(x.enclosures::json) WITH ORDINALITY e(v, o)"
    " UNION ALL SELECT x.i, 3, s.o, s.name, NULL, NULL FROM x"
    " CROSS JOIN LATERAL (SELECT f.name, row_number() OVER (ORDER BY"
    " min(b.first_seen), f.name COLLATE \"C\") AS o FROM articles b"
    " JOIN feeds f ON f.id = b.feed_id WHERE b.canon = x.canon"
    " AND b.feed_id <> x.feed_id GROUP BY b.feed_id, f.name) s"
    " ORDER BY 1, 2, 3";

/* A statement's text and its text parameters. */
struct stmt {
	struct tr_buf sql;
	const char *params[8];
	char nums[8][24];
	int n;
};

/* Adds parameter v and appends its $n to the statement text. */
static int
param(struct stmt *s, const char *v)
{
	s->params[s->n] = v;
	return tr_buf_printf(&s->sql, "$%d", ++s->n);
}

static int
param_i64(struct stmt *s, int64_t v)
{
	return param(s, pg_i64(s->nums[s->n], v));
}

/*
 * How a search reads its rows (choose_search): as the planner likes;
 * walking the date index and matching each row (the @@ written as its
 * function, which no index serves); or reading the matches through the
 * GIN index once and keeping the newest (SEARCH_SORT, below).
 */
enum { SEARCH_PLANNER, SEARCH_WALK, SEARCH_SORT };

/*
 * The conditions of q's filters and the keyset position on articles a
 * (" WHERE ... AND ..."). f_joined: feeds f (or feeds_in f) is joined,
 * and the membership of a's feed in the merged feed is f's; else it is
 * asked per row, by a's feed's row looked up by its key (see build_sql).
 */
static int
add_filters(struct stmt *s, const struct tr_query *q, int conf,
    int f_joined, int has_pos, int64_t ps, int64_t pi)
{
	struct tr_buf *b = &s->sql;
	int rc = 0, n_feed = 0, n_tag = 0;

	/*
	 * With a config at hand the primary row, chosen among the feeds of
	 * every config, may be of a feed this one does not list, and this
	 * one may list a feed no other does: the earliest row among this
	 * config's feeds stands for the link, as with a tag.
	 */
	if (!q->tag && !q->feed && conf)
		rc = tr_buf_adds(b, " WHERE (a.canon IS NULL OR NOT EXISTS"
				    " (SELECT 1 FROM articles b"
				    " WHERE b.canon = a.canon"
				    " AND (b.first_seen < a.first_seen OR"
				    " (b.first_seen = a.first_seen AND"
				    " b.id < a.id)) AND b.feed_id IN (SELECT"
				    " id FROM feeds_in)))");
	else if (!q->tag && !q->feed)
		rc = tr_buf_adds(b, " WHERE a.is_primary = 1");
	if (rc == 0 && (q->tag || q->feed)) {
		/* Feeds that count for deduplication: the feed, else the
		 * tag's. The same parameter serves both places. */
		if (q->feed) {
			rc = tr_buf_adds(b, " WHERE a.feed_id = (SELECT id FROM"
					    " feeds WHERE name = ");
			if (rc == 0)
				rc = param(s, q->feed);
			n_feed = s->n;
			if (rc == 0)
				rc = tr_buf_adds(b, ")");
		} else {
			rc = tr_buf_adds(b, " WHERE a.feed_id IN (SELECT"
					    " feed_id FROM feed_tags WHERE"
					    " tag = ");
			if (rc == 0)
				rc = param(s, q->tag);
			n_tag = s->n;
			if (rc == 0)
				rc = tr_buf_adds(b, ")");
		}
		if (rc == 0 && q->tag && q->feed) {
			rc = tr_buf_adds(b, " AND a.feed_id IN (SELECT feed_id"
					    " FROM feed_tags WHERE tag = ");
			if (rc == 0)
				rc = param(s, q->tag);
			if (rc == 0)
				rc = tr_buf_adds(b, ")");
		}
		if (rc == 0)
			rc = tr_buf_adds(b,
			    " AND (a.canon IS NULL OR NOT EXISTS (SELECT 1"
			    " FROM articles b WHERE b.canon = a.canon"
			    " AND (b.first_seen < a.first_seen OR"
			    " (b.first_seen = a.first_seen AND b.id < a.id))"
			    " AND ");
		if (rc == 0)
			rc = n_feed ? tr_buf_printf(b, "b.feed_id = (SELECT id"
						     " FROM feeds WHERE name ="
						     " $%d)))", n_feed)
				    : tr_buf_printf(b, "b.feed_id IN (SELECT"
						     " feed_id FROM feed_tags"
						     " WHERE tag = $%d)))",
					  n_tag);
	}
	/* A feed removed from the config leaves the merged feed at once
	 * (feeds_in holds only the active ones). A scalar subquery is
	 * never turned into a join: one lookup by key per row. */
	if (rc == 0 && !conf)
		rc = tr_buf_adds(b, f_joined ? " AND f.active = 1"
					     : " AND (SELECT f.active FROM"
					       " feeds f WHERE f.id ="
					       " a.feed_id) = 1");
	else if (rc == 0 && !f_joined)
		rc = tr_buf_adds(b, " AND (SELECT 1 FROM feeds_in f WHERE"
				    " f.id = a.feed_id) = 1");
	if (rc == 0 && q->since != TR_DATE_NONE) {
		rc = tr_buf_adds(b, " AND a.sort_date >= ");
		if (rc == 0)
			rc = param_i64(s, q->since);
	}
	if (rc == 0 && has_pos) {
		rc = tr_buf_adds(b, " AND a.sort_date <= ");
		if (rc == 0)
			rc = param_i64(s, ps);
		if (rc == 0)
			rc = tr_buf_printf(b, " AND (a.sort_date < $%d OR"
					      " a.id < ", s->n);
		if (rc == 0)
			rc = param_i64(s, pi);
		if (rc == 0)
			rc = tr_buf_adds(b, ")");
	}
	return rc;
}

/*
 * The chunk statement: q's filters, the keyset position (has_pos: rows
 * after (ps, pi)), tsq the tsquery text (or NULL) read as how says, at
 * most lim rows.
 *
 * SEARCH_SORT keeps the newest lim matches in a materialized CTE of ids
 * (read through the GIN index once: else the planner may scan the index
 * again for each feed of a small config; sorted by sort_date + 0, which
 * no index serves), then reads those rows' columns and feeds. The
 * matches are few when the sort is chosen, but the planner estimates
 * most words at thousands of rows: given them, it joined all the feeds
 * (a hash or merge join over every feed's row, 1 to 2 ms with 10,000
 * feeds) to keep a hundred rows. Each match's feed is looked up by key
 * instead (the filters' scalar subquery), and the full rows are read
 * for the lim kept only.
 */
static int
build_sql(struct stmt *s, const struct tr_query *q, int conf,
    const char *tsq, int how, int has_pos, int64_t ps, int64_t pi,
    int64_t lim)
{
	struct tr_buf *b = &s->sql;
	int rc = 0, sort = tsq && how == SEARCH_SORT;

	if (sort) {
		rc = tr_buf_adds(b, "WITH m AS MATERIALIZED (SELECT a.id FROM"
				    " articles a");
		if (rc == 0)
			rc = add_filters(s, q, conf, 0, has_pos, ps, pi);
		if (rc == 0)
			rc = tr_buf_adds(b, " AND a.tsv @@ to_tsquery("
					    "'tr_search', ");
		if (rc == 0)
			rc = param(s, tsq);
		if (rc == 0)
			rc = tr_buf_adds(b, ") ORDER BY a.sort_date + 0 DESC,"
					    " a.id DESC LIMIT ");
		if (rc == 0)
			rc = param_i64(s, lim);
		if (rc == 0)
			rc = tr_buf_adds(b, ") ");
	}
	if (rc == 0)
		rc = tr_buf_adds(b, select_cols);

	/*
	 * The feeds in the merged feed: with a config at hand its view of
	 * the active ones (store_pg_feeds.c), which the planner sizes right.
	 */
	if (rc == 0)
		rc = tr_buf_adds(b, conf ? "feeds_in f ON f.id = a.feed_id"
					 : "feeds f ON f.id = a.feed_id");
	if (rc == 0 && sort)
		return tr_buf_adds(b, " WHERE a.id IN (SELECT id FROM m)"
				      " ORDER BY a.sort_date DESC, a.id DESC");
	if (rc == 0)
		rc = add_filters(s, q, conf, 1, has_pos, ps, pi);
	if (rc == 0 && tsq) {
		rc = tr_buf_adds(b, how == SEARCH_WALK
					? " AND ts_match_vq(a.tsv, to_tsquery("
					  "'tr_search', "
					: " AND a.tsv @@ to_tsquery('tr_search', ");
		if (rc == 0)
			rc = param(s, tsq);
		if (rc == 0)
			rc = tr_buf_adds(b, how == SEARCH_WALK ? "))" : ")");
	}
	if (rc == 0)
		rc = tr_buf_adds(b, " ORDER BY a.sort_date DESC, a.id DESC"
				    " LIMIT ");
	if (rc == 0)
		rc = param_i64(s, lim);
	return rc;
}

/* --- searches as people type them --- */

/*
 * Appends the n bytes at s as one quoted tsquery operand: '...' with '
 * and \ doubled (to_tsquery's escapes), bytes that are not UTF-8 as
 * spaces (the server takes UTF-8 only). to_tsquery() runs it through
 * the same parser and dictionary as the indexed text, so a term of
 * several words (a phrase, or a word with punctuation: covid-19, U.S., a
 * URL) becomes those words in a row (<->), and one that leaves no word
 * is dropped: no input is a syntax error.
 */
static int
add_ts_string(struct tr_buf *b, const char *s, size_t n, int prefix)
{
	size_t i, len;
	int32_t cp;
	int rc = tr_buf_addc(b, '\'');

	for (i = 0; rc == 0 && i < n; i += len) {
		len = tr_utf8_decode(s + i, n - i, &cp);
		if (cp < 0)
			rc = tr_buf_addc(b, ' ');
		else if (s[i] == '\'' || s[i] == '\\')
			rc = tr_buf_add(b, s[i] == '\'' ? "''" : "\\\\", 2);
		else
			rc = tr_buf_add(b, s + i, len);
	}
	if (rc == 0)
		rc = tr_buf_addc(b, '\'');
	if (rc == 0 && prefix)
		rc = tr_buf_adds(b, ":*");
	return rc;
}

/*
 * One term: a prefix applies to the last word only (as FTS5's "a b"*),
 * while to_tsquery() would apply 'a b':* to every word of the operand:
 * the words before the last are one operand, the last another.
 */
static int
add_term(struct tr_buf *b, const struct store_term *t)
{
	size_t tail = t->prefix ? store_term_tail(t->s, t->n) : 0;
	int rc;

	if (tail == 0)
		return add_ts_string(b, t->s, t->n, t->prefix);
	rc = tr_buf_addc(b, '(');
	if (rc == 0)
		rc = add_ts_string(b, t->s, tail, 0);
	if (rc == 0)
		rc = tr_buf_adds(b, " <-> ");
	if (rc == 0)
		rc = add_ts_string(b, t->s + tail, t->n - tail, 1);
	if (rc == 0)
		rc = tr_buf_addc(b, ')');
	return rc;
}

/*
 * The tsquery text of a search as a user types it (the rules of
 * tr_store_search_expr, parsed by store_search.c): words and phrases
 * joined by &, prefixes :*, exclusions !. *out NULL when nothing is left
 * to search for.
 */
static int
ts_expr(char **out, char *why, size_t whysize, const char *q)
{
	struct store_search terms;
	struct tr_buf e;
	size_t i;
	int rc;

	*out = NULL;
	if ((rc = store_search_parse(&terms, why, whysize, q)) != 0 ||
	    terms.n == 0)
		return rc;
	tr_buf_init(&e, 1 << 17);
	for (i = 0; rc == 0 && i < terms.n; i++) {
		if (i)
			rc = tr_buf_adds(&e, " & ");
		if (rc == 0 && terms.t[i].negated)
			rc = tr_buf_addc(&e, '!');
		if (rc == 0)
			rc = add_term(&e, &terms.t[i]);
	}
	if (rc == 0 && (*out = tr_buf_detach(&e)) == NULL)
		rc = TR_ENOMEM;
	if (rc == TR_ETOOBIG || rc == TR_ENOMEM) {
		snprintf(why, whysize, "the search is too long");
		rc = rc == TR_ETOOBIG ? TR_EINVAL : rc;
	}
	tr_buf_free(&e);
	return rc;
}

/* --- running statements with a stop() callback --- */

static int
stopped(struct tr_store *st)
{
	return pg_err(st, TR_EABORT, "the search was stopped");
}

/* Cancels the running statement and reads what is left of it. */
static void
cancel_running(struct tr_store *st)
{
	PGcancel *c = PQgetCancel(st->conn);
	PGresult *r;
	char err[256];

	if (c != NULL) {
		PQcancel(c, err, sizeof(err));
		PQfreeCancel(c);
	}
	while ((r = PQgetResult(st->conn)) != NULL)
		PQclear(r);
}

/*
 * Runs sql with its text parameters, asking q->stop() before and while
 * the server works. *out gets the rows (the caller PQclear()s them).
 * name: the statement prepared as that on this session, run in its
 * place (NULL: none).
 */
static int
run_as(struct tr_store *st, const struct tr_query *q, PGresult **out,
    const char *what, const char *name, const char *sql, int n,
    const char *const *params)
{
	PGresult *r, *last = NULL;
	int rc = 0, sent;

	*out = NULL;
	if (q->stop == NULL && name == NULL)
		return pg_exec(st, out, what, sql, n, params);
	if (q->stop && q->stop(q->stop_arg) != 0)
		return stopped(st);
	sent = name ? PQsendQueryPrepared(st->conn, name, n, params, NULL,
			  NULL, 0)
		    : PQsendQueryParams(st->conn, sql, n, NULL, params, NULL,
			  NULL, 0);
	if (!sent)
		return pg_dberr(st, NULL, what);
	for (;;) {
		struct pollfd pfd = {PQsocket(st->conn), POLLIN, 0};

		if (!PQconsumeInput(st->conn)) {
			rc = pg_dberr(st, NULL, what);
			break;
		}
		if (!PQisBusy(st->conn))
			break;
		if (q->stop && q->stop(q->stop_arg) != 0) {
			cancel_running(st);
			return stopped(st);
		}
		if (poll(&pfd, 1, STOP_POLL_MS) < 0 && errno != EINTR) {
			rc = pg_dberr(st, NULL, what);
			break;
		}
	}
	while ((r = PQgetResult(st->conn)) != NULL) {
		if (rc == 0 && PQresultStatus(r) != PGRES_TUPLES_OK)
			rc = pg_dberr(st, r, what);
		PQclear(last);
		last = r;
	}
	if (rc != 0 || last == NULL) {
		PQclear(last);
		return rc ? rc : pg_dberr(st, NULL, what);
	}
	*out = last;
	return 0;
}

static int
run(struct tr_store *st, const struct tr_query *q, PGresult **out,
    const char *what, const char *sql, int n, const char *const *params)
{
	return run_as(st, q, out, what, NULL, sql, n, params);
}

/*
 * Runs the lists statement of a chunk. It is the same text for every
 * page, so it is prepared once per session (by the server process that
 * holds it: a reconnect is a new one): its parsing and, after the
 * server's first five custom plans, its planning are done once, which
 * was a third of a selective search's time on the server. A prepared
 * statement keeps the tables its names meant when it was prepared (the
 * server sees a view made later in pg_temp, in front of a table, only
 * in new statements): there is one for the session without the
 * config's views and one with them (made again by the server when
 * tr_store_use_config replaces them). Where it cannot be prepared (the
 * connection is down: the text path reconnects) it runs as text.
 */
static int
run_lists(struct tr_store *st, const struct tr_query *q, PGresult **out,
    const char *const *params)
{
	static const char what[] = "reading the merged feed";
	const char *name = st->cfg_used ? "tr_lists_conf" : "tr_lists";
	int *held = &st->lists_pid[st->cfg_used != 0];
	int pid = PQstatus(st->conn) == CONNECTION_OK ? PQbackendPID(st->conn)
						       : 0;

	if (pid != 0 && pid != *held) {
		PGresult *r = PQprepare(st->conn, name, lists_sql, 1, NULL);
		int rc = PQresultStatus(r) == PGRES_COMMAND_OK
			     ? 0
			     : pg_dberr(st, r, what);

		PQclear(r);
		if (rc != 0)
			return rc;
		*held = pid;
	}
	if (pid == 0)
		return run(st, q, out, what, lists_sql, 1, params);
	return run_as(st, q, out, what, name, lists_sql, 1, params);
}

/* --- decoding one row --- */

static char *
borrow(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : PQgetvalue(r, row, col);
}

static int64_t
col_date(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? TR_DATE_NONE
					: pg_col_int64(r, row, col);
}

static void
item_from_row(struct tr_item *it, const PGresult *r, int i)
{
	struct tr_article *a = &it->a;

	memset(it, 0, sizeof(*it));
	a->id = borrow(r, i, C_IDENTITY);
	a->guid = borrow(r, i, C_GUID);
	a->guid_is_permalink = (int)pg_col_int64(r, i, C_PERMA);
	a->link = borrow(r, i, C_LINK);
	a->title = borrow(r, i, C_TITLE);
	a->author = borrow(r, i, C_AUTHOR);
	a->summary = borrow(r, i, C_SUMMARY);
	a->content = borrow(r, i, C_CONTENT);
	a->published = col_date(r, i, C_PUBLISHED);
	a->updated = col_date(r, i, C_UPDATED);
	a->source_title = borrow(r, i, C_SOURCE_TITLE);
	a->source_url = borrow(r, i, C_SOURCE_URL);
	a->source_id = borrow(r, i, C_SOURCE_ID);
	a->image = borrow(r, i, C_IMAGE);
	it->first_seen = pg_col_int64(r, i, C_FIRST_SEEN);
	it->sort_date = pg_col_int64(r, i, C_SORT);
	it->feed_name = borrow(r, i, C_FEED_NAME);
	it->feed_title = borrow(r, i, C_FEED_TITLE);
	it->feed_url = borrow(r, i, C_FEED_URL);
	it->feed_link = borrow(r, i, C_FEED_LINK);
	it->feed_author = borrow(r, i, C_FEED_AUTHOR);
}

/* Grows the array at *arr (of *n elements of size bytes) by one. */
static void *
grow(void **arr, size_t *n, size_t size)
{
	char *p = realloc(*arr, (*n + 1) * size);

	if (p == NULL)
		return NULL;
	*arr = p;
	memset(p + *n * size, 0, size);
	return p + (*n)++ * size;
}

/*
 * Fills it's lists from the rows [*k, ...) of the lists statement that
 * belong to position pos, advancing *k. The values point into lr (which
 * outlives the callback); only the arrays are allocated.
 */
static int
lists_from_rows(struct tr_item *it, const PGresult *lr, int *k, int pos)
{
	int nrows = PQntuples(lr);
	void *p;

	for (; *k < nrows && pg_col_int64(lr, *k, 0) == pos; (*k)++) {
		int row = *k;

		switch (pg_col_int64(lr, row, 1)) {
		case 0: {
			struct tr_person *a;

			p = it->a.authors;
			a = grow(&p, &it->a.n_authors, sizeof(*a));
			it->a.authors = p;
			if (a == NULL)
				return TR_ENOMEM;
			a->name = borrow(lr, row, 3);
			a->email = borrow(lr, row, 4);
			a->uri = borrow(lr, row, 5);
			break;
		}
		case 1: {
			char **c;

			p = it->a.categories;
			c = grow(&p, &it->a.n_categories, sizeof(*c));
			it->a.categories = p;
			if (c == NULL)
				return TR_ENOMEM;
			*c = borrow(lr, row, 3);
			break;
		}
		case 2: {
			struct tr_enclosure *e;

			p = it->a.enclosures;
			e = grow(&p, &it->a.n_enclosures, sizeof(*e));
			it->a.enclosures = p;
			if (e == NULL)
				return TR_ENOMEM;
			e->url = borrow(lr, row, 3);
			e->type = borrow(lr, row, 4);
			e->length = PQgetisnull(lr, row, 5)
					? -1
					: pg_col_int64(lr, row, 5);
			break;
		}
		default: {
			const char **f;

			p = (void *)(uintptr_t)it->also;
			f = grow(&p, &it->n_also, sizeof(*f));
			it->also = p;
			if (f == NULL)
				return TR_ENOMEM;
			*f = borrow(lr, row, 3);
			break;
		}
		}
	}
	return 0;
}

static void
free_lists(struct tr_item *it)
{
	free(it->a.authors);
	free(it->a.categories);
	free(it->a.enclosures);
	free((void *)(uintptr_t)it->also);
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

/* --- the page --- */

struct page {
	struct tr_store *st;
	const struct tr_query *q;
	const char *tsq;
	int how;	/* SEARCH_* */
	tr_item_cb cb;
	void *arg;
	size_t limit, emitted;
	struct caps caps;
	int *pick;	/* rows of the chunk to emit */
	char *ids;	/* their ids as a bigint[] literal */
	size_t ids_size;
	int64_t last_sort, last_id; /* the last item emitted */
};

/* Emits the rows pick[0..n) of chunk r, with their lists. */
static int
emit_chunk(struct page *pg, const PGresult *r, int n)
{
	struct tr_store *st = pg->st;
	PGresult *lr = NULL;
	const char *param[1];
	size_t off = 0;
	int i, k = 0, rc;

	if (n == 0)
		return 0;
	off += (size_t)snprintf(pg->ids, pg->ids_size, "{");
	for (i = 0; i < n; i++)
		off += (size_t)snprintf(pg->ids + off, pg->ids_size - off,
		    "%s%s", i ? "," : "", PQgetvalue(r, pg->pick[i], C_ID));
	snprintf(pg->ids + off, pg->ids_size - off, "}");
	param[0] = pg->ids;
	if ((rc = run_lists(st, pg->q, &lr, param)) != 0)
		return rc;
	for (i = 0; i < n && rc == 0; i++) {
		struct tr_item it;
		int row = pg->pick[i];

		item_from_row(&it, r, row);
		if (lists_from_rows(&it, lr, &k, i + 1) != 0)
			rc = pg_err(st, TR_ENOMEM, "out of memory");
		pg->last_sort = it.sort_date;
		pg->last_id = pg_col_int64(r, row, C_ID);
		if (rc == 0) {
			rc = pg->cb(&it, pg->arg);
			if (rc > 0)
				rc = TR_EABORT;
		}
		free_lists(&it);
		pg->emitted++;
		/* Asked now and then between items as well. */
		if (rc == 0 && pg->q->stop && i % 64 == 63 &&
		    pg->q->stop(pg->q->stop_arg) != 0)
			rc = stopped(st);
	}
	PQclear(lr);
	return rc;
}

/* The page: chunk after chunk until it is full or the rows run out. */
static int
run_page(struct page *pg, int64_t cs, int64_t ci, int has_pos, char **next)
{
	struct tr_store *st = pg->st;
	const struct tr_query *q = pg->q;

	for (;;) {
		int64_t want = (int64_t)(pg->limit - pg->emitted) + 1;
		struct stmt s;
		PGresult *r = NULL;
		int i, rows, n = 0, more = 0, rc;

		if (want < 16)
			want = 16;
		tr_buf_init(&s.sql, 1 << 16);
		s.n = 0;
		if (build_sql(&s, q, st->cfg_used, pg->tsq, pg->how, has_pos,
			cs, ci, want) != 0) {
			tr_buf_free(&s.sql);
			return pg_err(st, TR_ENOMEM, "out of memory");
		}
		rc = run(st, q, &r, "reading the merged feed",
		    tr_buf_str(&s.sql), s.n, s.params);
		tr_buf_free(&s.sql);
		if (rc != 0)
			return rc;
		rows = PQntuples(r);
		for (i = 0; i < rows; i++) {
			if (pg->emitted + (size_t)n == pg->limit) {
				/* One more row exists: the next page. */
				more = 1;
				break;
			}
			/* The cap mixes feeds: not within one feed's list. */
			if (q->feed == NULL &&
			    cap_take(&pg->caps, pg_col_int64(r, i, C_FEED_ID),
				pg_col_int64(r, i, C_MAX_PER_FEED),
				pg->limit) != 0)
				continue;
			pg->pick[n++] = i;
		}
		if (rows > 0) {
			cs = pg_col_int64(r, rows - 1, C_SORT);
			ci = pg_col_int64(r, rows - 1, C_ID);
			has_pos = 1;
		}
		rc = emit_chunk(pg, r, n);
		PQclear(r);
		if (rc != 0)
			return rc;
		if (more) {
			if (next && (*next = store_cursor_make(pg->last_sort,
					 pg->last_id)) == NULL)
				return pg_err(st, TR_ENOMEM, "out of memory");
			return 0;
		}
		if (rows < want)
			return 0;
	}
}

/* The number after " rows=" in an EXPLAIN line; -1 when there is none. */
static double
plan_rows(const char *line)
{
	const char *p = strstr(line, " rows=");

	return p ? strtod(p + 6, NULL) : -1;
}

/*
 * How a search reads its rows, as the SQLite backend chooses (see
 * store_sqlite_query.c): with a share f of the N articles matching, the
 * walk of the date index reads about limit / f rows and the sort about
 * f * N, so the walk wins when f * f * N > limit. The planner weighs the
 * same two plans, but its estimate of a word its statistics do not list
 * (most words) is half the frequency of the rarest word they list,
 * which over 1,000,000 articles is thousands of rows for a word in 100:
 * it walked the date index to the end for a page that was never filled
 * (2.7 s). The matches are not counted here, as SQLite counts them: in
 * PostgreSQL that reads every matching row. The estimates come from the
 * planner's statistics, in one EXPLAIN: the first line is the two
 * branches' rows together, the second the matches'.
 */
static int
choose_search(struct page *pg)
{
	static const char sql[] =
	    "EXPLAIN SELECT 1 FROM articles a WHERE a.tsv @@ to_tsquery("
	    "'tr_search', $1) UNION ALL SELECT 1 FROM articles";
	PGresult *r = NULL;
	double all, match;
	int rc;

	pg->how = SEARCH_PLANNER;
	if (pg->tsq == NULL || pg->q->feed != NULL)
		return 0; /* one feed's rows: its range of articles_feed */
	if ((rc = run(pg->st, pg->q, &r, "reading the merged feed", sql, 1,
		 &pg->tsq)) != 0)
		return rc;
	if (PQntuples(r) >= 2) {
		all = plan_rows(PQgetvalue(r, 0, 0));
		match = plan_rows(PQgetvalue(r, 1, 0));
		if (all >= 0 && match >= 0 && match <= all)
			pg->how = match * match > (double)pg->limit *
							(all - match)
				      ? SEARCH_WALK
				      : SEARCH_SORT;
	}
	PQclear(r);
	return 0;
}

/* Whether s is all UTF-8 (the server refuses anything else). */
static int
is_utf8(const char *s)
{
	size_t n = strlen(s), i, len;
	int32_t cp;

	for (i = 0; i < n; i += len) {
		len = tr_utf8_decode(s + i, n - i, &cp);
		if (cp < 0)
			return 0;
	}
	return 1;
}

int
pg_query(struct tr_store *st, const struct tr_query *q, tr_item_cb cb,
    void *arg, char **next)
{
	struct page pg;
	char why[200], *tsq = NULL;
	int64_t cs = 0, ci = 0;
	int rc, in_sp = 0;

	if (next)
		*next = NULL;
	if (q->limit < 0)
		return pg_err(st, TR_EINVAL, "limit %d: must be 1 to %d",
		    q->limit, LIMIT_MAX);
	if (q->q && (rc = ts_expr(&tsq, why, sizeof(why), q->q)) != 0)
		return pg_err(st, rc, "%s", why);
	if (q->before && store_cursor_parse(q->before, &cs, &ci) != 0) {
		free(tsq);
		return pg_err(st, TR_EINVAL, "bad pagination cursor \"%.64s\"",
		    q->before);
	}
	/* No feed or tag is named so: nothing, as on SQLite. */
	if ((q->tag && !is_utf8(q->tag)) || (q->feed && !is_utf8(q->feed))) {
		free(tsq);
		return 0;
	}
	memset(&pg, 0, sizeof(pg));
	pg.st = st;
	pg.q = q;
	pg.tsq = tsq; /* NULL: nothing to search for, all match */
	pg.cb = cb;
	pg.arg = arg;
	pg.limit = q->limit == 0 ? LIMIT_DEFAULT
		 : q->limit > LIMIT_MAX ? LIMIT_MAX : (size_t)q->limit;
	pg.caps.feed = malloc(pg.limit * sizeof(*pg.caps.feed));
	pg.caps.count = malloc(pg.limit * sizeof(*pg.caps.count));
	pg.pick = malloc((pg.limit + 1) * sizeof(*pg.pick));
	pg.ids_size = (pg.limit + 1) * 24 + 3;
	pg.ids = malloc(pg.ids_size);
	if (pg.caps.feed == NULL || pg.caps.count == NULL ||
	    pg.pick == NULL || pg.ids == NULL) {
		rc = pg_err(st, TR_ENOMEM, "out of memory");
		goto out;
	}
	/* A failed read must not undo the writes of a group. */
	if (st->in_group) {
		if ((rc = pg_exec(st, NULL, "reading the merged feed",
			 "SAVEPOINT q", 0, NULL)) != 0)
			goto out;
		in_sp = 1;
	}
	if ((rc = choose_search(&pg)) == 0)
		rc = run_page(&pg, cs, ci, q->before != NULL, next);
	if (in_sp) {
		char keep[sizeof(st->errmsg)];

		memcpy(keep, st->errmsg, sizeof(keep));
		if (rc != 0)
			pg_exec(st, NULL, "reading the merged feed",
			    "ROLLBACK TO SAVEPOINT q", 0, NULL);
		if (pg_exec(st, NULL, "reading the merged feed",
			"RELEASE SAVEPOINT q", 0, NULL) != 0 && rc == 0)
			rc = TR_ESTORE;
		else
			memcpy(st->errmsg, keep, sizeof(keep));
	}
	if (rc != 0 && next) {
		free(*next);
		*next = NULL;
	}
out:
	free(pg.caps.feed);
	free(pg.caps.count);
	free(pg.pick);
	free(pg.ids);
	free(tsq);
	return rc;
}
