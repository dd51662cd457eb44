/*
 * store_pg_batch.c — the PostgreSQL backend's storing of documents (the
 * SQLite backend's store_sqlite_batch.c, for PostgreSQL).
 *
 * A batch gathers its items as rows of COPY's text format in a bounded
 * buffer of its own; when the buffer passes STAGE_BYTES, it goes to the
 * server in one COPY into the session's temporary table tr_stage, so a
 * huge document never sits whole in memory and each chunk is one round
 * trip. tr_stage is keyed by (batch, seq): several batches of one handle
 * can be staged interleaved, and the last item of an identity (the
 * highest seq) wins. Nothing outside the session sees tr_stage; only
 * pg_batch_commit() touches the shared tables, in one transaction (a
 * savepoint inside a group's) that sends the rest of the buffer and then
 * applies every staged item of its batch or none, statement by
 * statement over the whole document, as the SQLite backend does:
 *
 *   0. wait for other nodes' commits (sql_lock);
 *   1. drop the rows a later item of the same identity replaced;
 *   2. record the canonical links about to change (tr_touched);
 *   3. update rows whose content hash changed (first_seen kept);
 *   4. insert rows of new identities;
 *   5. move the in_latest marks to exactly the document's identities;
 *   6. recompute the primary row of every touched canonical link;
 *   7. store the document's title and site link;
 *   8. bump the generation when any of this wrote a row.
 *
 * Each step only writes rows whose values change, so an unchanged
 * document writes nothing (tr_store_result.changes is 0). The search
 * index is a generated column: nothing to catch up.
 *
 * COPY rather than one INSERT ... SELECT FROM unnest($1::text[], ...)
 * per chunk: COPY's rows are built once, straight into the buffer, where
 * unnest needs one array literal per column (the same escaping, twenty
 * parameters) and its ON CONFLICT cannot take two items of one identity
 * in one statement.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_pg_int.h"
#include "tributary/article.h"
#include "tributary/buf.h"
#include "tributary/error.h"
#include "tributary/log.h"

/* Bytes of staged rows a batch holds before sending them. */
#define STAGE_BYTES ((size_t)1 << 20)
/* The most one item's row may take (PostgreSQL's limit of a field). */
#define STAGE_ITEM_MAX ((size_t)1 << 30)

struct tr_store_batch {
	const struct store_ops *ops; /* first: &store_pg_ops */
	struct tr_store *st;
	int64_t id;
	int64_t feed_id;
	char *feed_name;
	int committed;
	int lost;	     /* a failed commit took rows it had sent */
	int64_t seq;	     /* items added so far: the next item's seq */
	struct tr_buf rows;  /* COPY text of the items not yet sent */
	int sent;	     /* some rows went to tr_stage */
	int sent_in_group;   /* ... inside a group's transaction */
	int pid;	     /* the server process that holds them */
	int64_t groups_lost; /* st->groups_lost at the first send */
	int legacy;	     /* the feed has "hash:" ids: -1 not known yet */
	struct tr_store_prep prep; /* reused by pg_batch_add */
};

/*
 * The session's staging tables (temporary: dropped with the session).
 * Bodies are compressed with lz4 where the server has it: pglz, the
 * default, was 7.5% of the server's CPU in a cold round (the staged rows
 * and the articles' rows each compress their bodies), lz4 compresses
 * several times faster and decompresses faster for the pages too. A
 * session setting, so a server without lz4 keeps pglz (the SET fails in
 * its own block) and every reader decompresses either.
 */
#define STAGE_TABLES                                                          \
	"DO $$ BEGIN SET default_toast_compression = lz4;"                    \
	" EXCEPTION WHEN OTHERS THEN NULL; END $$;"                           \
	"CREATE TEMP TABLE IF NOT EXISTS tr_stage ("                          \
	"  batch BIGINT NOT NULL, seq BIGINT NOT NULL,"                       \
	"  identity TEXT NOT NULL, guid TEXT, guid_is_permalink INTEGER,"     \
	"  link TEXT, canon TEXT, title TEXT, author TEXT, authors TEXT,"     \
	"  summary TEXT, content TEXT, published BIGINT, updated BIGINT,"     \
	"  categories TEXT, enclosures TEXT, source_title TEXT,"              \
	"  source_url TEXT, source_id TEXT, hash BIGINT NOT NULL,"            \
	"  image TEXT, body_text TEXT, PRIMARY KEY (batch, seq));"            \
	"CREATE INDEX IF NOT EXISTS tr_stage_identity"                        \
	"  ON tr_stage(batch, identity);"                                     \
	"CREATE TEMP TABLE IF NOT EXISTS tr_touched (canon TEXT PRIMARY KEY)"

#define STAGE_COPY                                                            \
	"COPY tr_stage(batch, seq, identity, guid, guid_is_permalink, link,"  \
	" canon, title, author, authors, summary, content, published,"        \
	" updated, categories, enclosures, source_title, source_url,"         \
	" source_id, hash, image, body_text) FROM STDIN"

/*
 * The statements of a commit, each with $1 = batch, $2 = feed id,
 * $3 = now (typed, so that each may leave any of them unused).
 */
#define P1 "$1::bigint"
#define P2 "$2::bigint"
#define P3 "$3::bigint"

/*
 * Commits of several nodes take turns: the primary row of a link is
 * chosen among all feeds' rows, so a commit must see every other commit
 * that could add a row of its links, or two nodes storing one link at
 * once would both mark their own row primary. The generation's row is
 * the lock, taken first: every commit that writes bumps it anyway, so
 * this adds no second lock to take in another order (no deadlock), and
 * each statement after it sees what the commits before it wrote (READ
 * COMMITTED takes a snapshot per statement). The statements of a commit
 * are short walks of indexes, which JIT compilation only slows down (it
 * took 0.15 s of a 0.2 s statement over a 5,000 item document): off for
 * the transaction.
 */
static const char sql_lock[] =
    "SET LOCAL jit = off;"
    "SELECT value FROM meta WHERE key = 'generation' FOR UPDATE";

/*
 * Only the last item of an identity stays (INSERT OR REPLACE). The last
 * seq of each repeated identity is found in one pass over the batch: a
 * test per row for a later one of its identity walks all of them, and a
 * document repeating one identity n times took n² steps (30,000 items
 * without guid or link, a minute).
 */
static const char sql_dedup[] =
    "DELETE FROM tr_stage s USING (SELECT identity, max(seq) AS last"
    " FROM tr_stage WHERE batch = " P1 " GROUP BY identity"
    " HAVING count(*) > 1) d WHERE s.batch = " P1 " AND " P2 " IS NOT NULL"
    " AND " P3 " IS NOT NULL AND s.identity = d.identity"
    " AND s.seq < d.last";

/* Old links of rows whose content changes; links of new or changed rows. */
static const char sql_touch[] =
    "INSERT INTO tr_touched(canon) SELECT a.canon FROM tr_stage s"
    " JOIN articles a ON a.feed_id = " P2 " AND a.identity = s.identity"
    " WHERE s.batch = " P1 " AND a.hash <> s.hash AND a.canon IS NOT NULL"
    " AND " P3 " IS NOT NULL"
    " UNION SELECT s.canon FROM tr_stage s WHERE s.batch = " P1
    " AND s.canon IS NOT NULL AND NOT EXISTS (SELECT 1 FROM articles a"
    " WHERE a.feed_id = " P2 " AND a.identity = s.identity"
    " AND a.hash = s.hash) ON CONFLICT DO NOTHING";

/* The item's updated date if newer than the row's, else now. */
#define NEWER_UPDATED                                                         \
	"CASE WHEN s.updated IS NOT NULL AND (a.updated IS NULL"              \
	" OR s.updated > a.updated) THEN s.updated ELSE " P3 " END"

static const char sql_update[] =
    "UPDATE articles AS a SET guid = s.guid,"
    " guid_is_permalink = s.guid_is_permalink, link = s.link,"
    " canon = s.canon, title = s.title, author = s.author,"
    " authors = s.authors, summary = s.summary, content = s.content,"
    " published = s.published, updated = " NEWER_UPDATED ","
    " categories = s.categories, enclosures = s.enclosures,"
    " source_title = s.source_title, source_url = s.source_url,"
    " source_id = s.source_id, hash = s.hash, image = s.image,"
    " body_text = s.body_text,"
    " changed_at = " P3 ", in_latest = 1,"
    " is_primary = CASE WHEN s.canon IS NULL THEN 1 ELSE a.is_primary END,"
    " sort_date = CASE WHEN s.published IS NOT NULL THEN"
    "   (CASE WHEN s.published > " P3 " THEN a.first_seen"
    "   ELSE s.published END)"
    " ELSE (CASE WHEN s.updated IS NOT NULL AND (a.updated IS NULL"
    "   OR s.updated > a.updated) THEN (CASE WHEN s.updated > " P3
    "   THEN a.first_seen ELSE s.updated END) ELSE " P3 " END) END"
    " FROM tr_stage s WHERE s.batch = " P1 " AND a.feed_id = " P2
    " AND a.identity = s.identity AND a.hash <> s.hash";

/*
 * sort_date of a new row: published, else updated, else first seen (now),
 * and first seen when the date is in the future. New undated rows keep
 * their document's order (first in the document is newest) and sort
 * after everything the feed already has: they count down from
 * B = max(now, the feed's newest sort_date + 1 + their span), one second
 * per staged item, so the last is above all the feed's rows.
 *
 * is_primary of a new row is written as the primary step would most
 * likely leave it: a new row is the link's newest (first seen now, the
 * highest id), so it is primary only when no row of its link is (one
 * probe of articles_primary). The primary step still decides every
 * touched link and writes only the rows this guess got wrong (a link
 * whose primary is in a feed out of the config, two new rows of one
 * link). Inserted as 1 and set to 0 there, a row of a link that other
 * feeds share was written twice, and the second time whole: is_primary
 * is in articles_primary's predicate, so the update is not HOT and puts
 * the row's every index entry again, the search index's included (in
 * the cold round of 1,000 feeds, 2,868 such rows cost the server 5.7 s).
 */
static const char sql_insert[] =
    "WITH undated AS (SELECT min(t.seq) AS lo, max(t.seq) AS hi"
    "  FROM tr_stage t WHERE t.batch = " P1
    "  AND coalesce(t.published, t.updated) IS NULL AND NOT EXISTS"
    "  (SELECT 1 FROM articles a WHERE a.feed_id = " P2
    "  AND a.identity = t.identity)),"
    " newest AS (SELECT coalesce(max(n.sort_date), 0) AS d"
    "  FROM articles n WHERE n.feed_id = " P2 ")"
    " INSERT INTO articles(feed_id, identity, guid, guid_is_permalink,"
    " link, canon, title, author, authors, summary, content, published,"
    " updated, categories, enclosures, source_title, source_url,"
    " source_id, first_seen, changed_at, sort_date, hash, in_latest,"
    " is_primary, image, body_text) SELECT " P2 ", s.identity, s.guid,"
    " s.guid_is_permalink, s.link, s.canon, s.title, s.author, s.authors,"
    " s.summary, s.content, s.published, s.updated, s.categories,"
    " s.enclosures, s.source_title, s.source_url, s.source_id, " P3 ", "
    P3 ","
    " CASE WHEN coalesce(s.published, s.updated) IS NULL THEN"
    "   greatest(" P3 ", newest.d + 1 + (undated.hi - undated.lo))"
    "   - (s.seq - undated.lo)"
    " WHEN coalesce(s.published, s.updated) > " P3 " THEN " P3
    " ELSE coalesce(s.published, s.updated) END,"
    " s.hash, 1, CASE WHEN s.canon IS NULL OR NOT EXISTS (SELECT 1"
    " FROM articles p WHERE p.canon = s.canon AND p.is_primary = 1)"
    " THEN 1 ELSE 0 END, s.image, s.body_text"
    " FROM tr_stage s, undated, newest"
    " WHERE s.batch = " P1 " AND NOT EXISTS (SELECT 1 FROM articles a"
    " WHERE a.feed_id = " P2 " AND a.identity = s.identity)"
    " ORDER BY s.seq";

static const char sql_latest_off[] =
    "UPDATE articles a SET in_latest = 0 WHERE a.feed_id = " P2
    " AND a.in_latest = 1 AND " P3 " IS NOT NULL AND NOT EXISTS"
    " (SELECT 1 FROM tr_stage s WHERE s.batch = " P1
    " AND s.identity = a.identity)";

static const char sql_latest_on[] =
    "UPDATE articles a SET in_latest = 1 WHERE a.feed_id = " P2
    " AND a.in_latest = 0 AND " P3 " IS NOT NULL AND a.identity IN"
    " (SELECT s.identity FROM tr_stage s WHERE s.batch = " P1 ")";

static const char sql_drop[] =
    "DELETE FROM tr_stage WHERE batch = " P1 " AND " P2 " IS NOT NULL"
    " AND " P3 " IS NOT NULL";

/*
 * The primary row of each touched canonical link: the first seen (then
 * the lowest id) among the rows of feeds in the config, else among all
 * rows (a feed removed from the config yields to the ones in it). Found
 * once per link on articles_canon (MATERIALIZED: not once per row of
 * the link); only rows whose mark changes are written. The feed of each
 * row is looked up by its id, as SQLite's CROSS JOIN does: joined, the
 * planner of a table without statistics yet (a new database) and'ed in
 * every row of the feed from articles_feed for each link (1 s for the
 * first document of 5,000 items, 0.1 s this way).
 */
static const char sql_primary[] =
    "WITH w AS MATERIALIZED (SELECT t.canon, coalesce((SELECT b.id"
    "  FROM articles b WHERE b.canon = t.canon AND (SELECT f.active"
    "  FROM feeds f WHERE f.id = b.feed_id) = 1"
    "  ORDER BY b.first_seen, b.id LIMIT 1),"
    "  (SELECT b.id FROM articles b WHERE b.canon = t.canon"
    "  ORDER BY b.first_seen, b.id LIMIT 1)) AS id FROM tr_touched t)"
    " UPDATE articles a SET is_primary = CASE WHEN a.id = w.id THEN 1"
    " ELSE 0 END FROM w WHERE a.canon = w.canon"
    " AND a.is_primary <> CASE WHEN a.id = w.id THEN 1 ELSE 0 END";

/*
 * Temporary tables have no statistics unless analyzed: the planner took
 * a few touched links for thousands and joined them to every article.
 * Only when some link was touched (ANALYZE writes the catalog; an
 * unchanged document is to write nothing).
 */
static const char sql_analyze[] = "ANALYZE tr_touched";

static const char sql_meta[] =
    "UPDATE feeds SET doc_title = $2, site_link = $3, doc_author = $4"
    " WHERE id = $1::bigint AND (doc_title IS DISTINCT FROM $2"
    " OR site_link IS DISTINCT FROM $3 OR doc_author IS DISTINCT FROM $4)";

int
pg_batch_begin(struct tr_store_batch **out, struct tr_store *st,
    const char *feed_name)
{
	struct tr_store_batch *b;
	const char *p[1] = {feed_name};
	PGresult *r;
	int rc;

	*out = NULL;
	if ((rc = pg_writable(st, "store articles")) != 0)
		return rc;
	if ((rc = pg_exec(st, &r, "looking up a feed",
	    "SELECT id FROM feeds WHERE name = $1", 1, p)) != 0)
		return rc;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return pg_err(st, TR_ENOTFOUND, "%s: no feed named %s",
		    st->shown, feed_name);
	}
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->feed_name = strdup(feed_name)) == NULL) {
		PQclear(r);
		free(b);
		return pg_err(st, TR_ENOMEM, "out of memory");
	}
	b->feed_id = pg_col_int64(r, 0, 0);
	PQclear(r);
	b->ops = &store_pg_ops;
	b->st = st;
	b->id = st->next_batch++;
	b->legacy = -1;
	/* One item may pass STAGE_BYTES: the buffer grows to hold it. */
	tr_buf_init(&b->rows, STAGE_ITEM_MAX);
	tr_store_prep_init(&b->prep);
	*out = b;
	return 0;
}

int
pg_batch_add(struct tr_store_batch *b, const struct tr_article *a)
{
	int rc;

	if ((rc = tr_store_prep(&b->prep, a)) != 0)
		return pg_err(b->st, rc, "feed %s: article %s: %s",
		    b->feed_name, a->id ? a->id : "", tr_strerror(rc));
	return pg_batch_add_prepared(b, a, &b->prep);
}

/* Appends one field of COPY's text format (\N for NULL), then sep. */
static int
copy_field(struct tr_buf *o, const char *s, size_t n, char sep)
{
	const char *end = s + n, *run;
	int rc = 0;

	if (s == NULL)
		rc = tr_buf_add(o, "\\N", 2);
	while (s != NULL && s < end && rc == 0) {
		for (run = s; s < end && *s != '\\' && *s != '\n' &&
		    *s != '\r' && *s != '\t'; s++)
			;
		if (s > run)
			rc = tr_buf_add(o, run, (size_t)(s - run));
		if (s < end && rc == 0) {
			char e[2] = {'\\', *s == '\\' ? '\\' : *s == '\n' ? 'n'
			    : *s == '\r' ? 'r' : 't'};

			rc = tr_buf_add(o, e, 2);
			s++;
		}
	}
	return rc != 0 ? rc : tr_buf_addc(o, sep);
}

static int
copy_text(struct tr_buf *o, const char *s)
{
	return copy_field(o, s, s ? strlen(s) : 0, '\t');
}

/* A list's JSON, or NULL when the list is empty. */
static int
copy_list(struct tr_buf *o, const struct tr_buf *json)
{
	return json->len == 0 ? copy_field(o, NULL, 0, '\t')
			      : copy_field(o, json->data, json->len, '\t');
}

static int
copy_int(struct tr_buf *o, int64_t v, int is_date, char sep)
{
	char n[24];

	if (is_date && v == TR_DATE_NONE)
		return copy_field(o, NULL, 0, sep);
	pg_i64(n, v);
	return copy_field(o, n, strlen(n), sep);
}

/* Appends the item's row to the buffer. */
static int
copy_row(struct tr_store_batch *b, const struct tr_article *a,
    const struct tr_store_prep *p)
{
	struct tr_buf *o = &b->rows;
	const char *text = store_prep_text(a, p);
	size_t was = o->len;
	int rc;

	if ((rc = copy_int(o, b->id, 0, '\t')) != 0 ||
	    (rc = copy_int(o, b->seq, 0, '\t')) != 0 ||
	    (rc = copy_text(o, a->id)) != 0 ||
	    (rc = copy_text(o, a->guid)) != 0 ||
	    (rc = copy_int(o, a->guid_is_permalink != 0, 0, '\t')) != 0 ||
	    (rc = copy_text(o, a->link)) != 0 ||
	    (rc = copy_text(o, p->canon)) != 0 ||
	    (rc = copy_text(o, a->title)) != 0 ||
	    (rc = copy_text(o, a->author)) != 0 ||
	    (rc = copy_list(o, &p->authors)) != 0 ||
	    (rc = copy_text(o, a->summary)) != 0 ||
	    (rc = copy_text(o, a->content)) != 0 ||
	    (rc = copy_int(o, a->published, 1, '\t')) != 0 ||
	    (rc = copy_int(o, a->updated, 1, '\t')) != 0 ||
	    (rc = copy_list(o, &p->categories)) != 0 ||
	    (rc = copy_list(o, &p->enclosures)) != 0 ||
	    (rc = copy_text(o, a->source_title)) != 0 ||
	    (rc = copy_text(o, a->source_url)) != 0 ||
	    (rc = copy_text(o, a->source_id)) != 0 ||
	    (rc = copy_int(o, (int64_t)p->hash, 0, '\t')) != 0 ||
	    (rc = copy_text(o, a->image)) != 0 ||
	    (rc = copy_field(o, text, text ? strlen(text) : 0, '\n')) != 0) {
		tr_buf_truncate(o, was);
		return pg_err(b->st, rc, "feed %s: article %s: %s",
		    b->feed_name, a->id, tr_strerror(rc));
	}
	b->seq++;
	return 0;
}

/* Waits for the end of the command in flight; 0 or TR_ESTORE. */
static int
copy_finish(struct tr_store *st, const char *what)
{
	PGresult *r;
	int rc = 0;

	while ((r = PQgetResult(st->conn)) != NULL) {
		if (rc == 0 && PQresultStatus(r) != PGRES_COMMAND_OK)
			rc = pg_dberr(st, r, what);
		PQclear(r);
	}
	return rc;
}

/* Sends the buffered rows to tr_stage: one COPY. */
static int
copy_send(struct tr_store_batch *b)
{
	struct tr_store *st = b->st;
	const char *what = "staging articles";
	PGresult *r;
	int rc;

	if (!b->sent &&
	    (rc = pg_exec(st, NULL, what, STAGE_TABLES, 0, NULL)) != 0)
		return rc;
	if (b->rows.len == 0)
		goto sent;
	r = PQexec(st->conn, STAGE_COPY);
	if (PQresultStatus(r) != PGRES_COPY_IN) {
		rc = pg_dberr(st, r, what);
		PQclear(r);
		return rc;
	}
	PQclear(r);
	if (PQputCopyData(st->conn, b->rows.data, (int)b->rows.len) != 1 ||
	    PQputCopyEnd(st->conn, NULL) != 1) {
		rc = pg_dberr(st, NULL, what);
		copy_finish(st, what);
		return rc;
	}
	if ((rc = copy_finish(st, what)) != 0)
		return rc;
sent:
	if (!b->sent) {
		b->pid = PQbackendPID(st->conn);
		b->groups_lost = st->groups_lost;
	}
	b->sent = 1;
	if (st->in_group)
		b->sent_in_group = 1;
	tr_buf_reset(&b->rows);
	return 0;
}

/*
 * Sends the buffered rows before a commit's transaction: on their own,
 * or in a savepoint of the group's transaction, so that a failure here
 * leaves the group's other writes alone.
 */
static int
flush(struct tr_store_batch *b)
{
	struct tr_store *st = b->st;
	int rc;

	if (!st->in_group)
		return copy_send(b);
	if ((rc = pg_begin(st)) != 0)
		return rc;
	if ((rc = copy_send(b)) != 0 || (rc = pg_commit(st)) != 0)
		pg_rollback(st);
	return rc;
}

/*
 * An item that names itself in no way (no guid, no link) was stored under
 * "hash:..." before such items got urn:uuid: ids (tr_article_identity).
 * When one is stored again, its old row takes the new id, so the item is
 * not stored twice; once renamed, the statement matches nothing.
 *
 * Whether the feed has such rows at all is asked once per batch: the
 * rename is a transaction of its own, three round trips to the server
 * per item, and a document of many such items (or an endless one) would
 * stall the round on them. A batch adds no "hash:" row before its
 * commit, so the answer holds for the whole batch.
 */
static int
adopt_legacy_id(struct tr_store_batch *b, const struct tr_article *a)
{
	struct tr_store *st = b->st;
	char legacy[TR_ARTICLE_LEGACY_ID], feed[24];
	const char *p[3] = {pg_i64(feed, b->feed_id), legacy, a->id};
	PGresult *r = NULL;
	int rc;

	if ((a->guid && a->guid[0]) || (a->link && a->link[0]) ||
	    strncmp(a->id, "urn:uuid:", 9) != 0)
		return 0;
	if (b->legacy < 0) {
		if ((rc = pg_exec(st, &r, "renaming an article",
		    "SELECT 1 FROM articles WHERE feed_id = $1::bigint"
		    " AND identity LIKE 'hash:%' LIMIT 1", 1, p)) != 0)
			return rc;
		b->legacy = PQntuples(r) > 0;
		PQclear(r);
	}
	if (!b->legacy)
		return 0;
	tr_article_legacy_id(legacy, a);
	if ((rc = pg_begin(st)) != 0)
		return rc;
	if ((rc = pg_exec(st, NULL, "renaming an article",
	    "UPDATE articles SET identity = $3 WHERE feed_id = $1::bigint"
	    " AND identity = $2 AND NOT EXISTS (SELECT 1 FROM articles o"
	    " WHERE o.feed_id = $1::bigint AND o.identity = $3)", 3, p)) != 0 ||
	    (rc = pg_commit(st)) != 0)
		pg_rollback(st);
	return rc;
}

int
pg_batch_add_prepared(struct tr_store_batch *b, const struct tr_article *a,
    const struct tr_store_prep *p)
{
	struct tr_store *st = b->st;
	int rc;

	if (b->committed)
		return pg_err(st, TR_EINVAL,
		    "feed %s: adding to a committed batch", b->feed_name);
	if (a->id == NULL || a->id[0] == '\0')
		return pg_err(st, TR_EINVAL,
		    "feed %s: an article without identity", b->feed_name);
	if ((rc = adopt_legacy_id(b, a)) != 0 ||
	    (rc = copy_row(b, a, p)) != 0)
		return rc;
	if (b->rows.len >= STAGE_BYTES)
		return flush(b);
	return 0;
}

/*
 * The commit's statements that read only articles and the session's
 * staging tables, prepared once per session (by the server process
 * that holds them: a reconnect is a new one) after the staging tables
 * exist: each is the same text for every document, so it is parsed
 * once and, after the server's first five custom plans, planned once;
 * parsing and planning were about a tenth of the server's CPU in a cold
 * round. Not the primary step (feeds may be a view of the config's:
 * a prepared statement keeps the table it was prepared with), nor
 * while the config's views are applied.
 */
static const struct {
	const char *name, *sql;
} prepared[] = {
    {"tr_batch_dedup", sql_dedup},
    {"tr_batch_touch", sql_touch},
    {"tr_batch_update", sql_update},
    {"tr_batch_insert", sql_insert},
    {"tr_batch_latest_off", sql_latest_off},
    {"tr_batch_latest_on", sql_latest_on},
    {"tr_batch_drop", sql_drop},
};
#define N_PREPARED (sizeof(prepared) / sizeof(prepared[0]))

static int
prepare_steps(struct tr_store *st)
{
	int pid = PQbackendPID(st->conn);
	size_t i;

	if (pid == 0 || pid == st->stage_pid || st->cfg_used)
		return 0;
	for (i = 0; i < N_PREPARED; i++) {
		PGresult *r = PQprepare(st->conn, prepared[i].name,
		    prepared[i].sql, 3, NULL);
		int rc = PQresultStatus(r) == PGRES_COMMAND_OK
			     ? 0
			     : pg_dberr(st, r, "storing a document");

		PQclear(r);
		if (rc != 0)
			return rc;
	}
	st->stage_pid = pid;
	return 0;
}

/* Runs one apply statement with (batch, feed, now); adds its rows. */
static int
step(struct tr_store_batch *b, const char *sql, int64_t now,
    int64_t *changes, int64_t *n)
{
	struct tr_store *st = b->st;
	char v[3][24];
	const char *p[3] = {pg_i64(v[0], b->id), pg_i64(v[1], b->feed_id),
	    pg_i64(v[2], now)};
	const char *name = NULL;
	PGresult *r;
	int64_t k;
	size_t i;
	int rc;

	for (i = 0; i < N_PREPARED && name == NULL; i++)
		if (prepared[i].sql == sql)
			name = prepared[i].name;
	if (name && !st->cfg_used && st->stage_pid != 0 &&
	    st->stage_pid == PQbackendPID(st->conn)) {
		r = PQexecPrepared(st->conn, name, 3, p, NULL, NULL, 0);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			rc = pg_dberr(st, r, "storing a document");
			PQclear(r);
			return rc;
		}
	} else if ((rc = pg_exec(st, &r, "storing a document", sql, 3,
		       p)) != 0)
		return rc;
	k = strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	if (n)
		*n = k;
	if (changes)
		*changes += k;
	return 0;
}

/* Stores the document's title and site link; NULL meta changes nothing. */
static int
store_meta(struct tr_store_batch *b, const struct tr_feed_meta *meta,
    int64_t *changes)
{
	char id[24];
	const char *p[4];
	PGresult *r;
	int rc;

	if (meta == NULL)
		return 0;
	p[0] = pg_i64(id, b->feed_id);
	p[1] = meta->title;
	p[2] = meta->link;
	p[3] = meta->author;
	if ((rc = pg_exec(b->st, &r, "storing feed metadata", sql_meta, 4,
	    p)) != 0)
		return rc;
	*changes += strtoll(PQcmdTuples(r), NULL, 10);
	PQclear(r);
	return 0;
}

/* Everything of the commit that runs inside its transaction. */
static int
apply(struct tr_store_batch *b, const struct tr_feed_meta *meta,
    struct tr_store_result *r)
{
	struct tr_store *st = b->st;
	int64_t now = pg_now(st), dropped = 0, touched = 0;
	PGresult *res;
	int rc;

	/*
	 * Every item added is staged (b->seq of them) and the dedup drops
	 * the replaced ones: what is left is the document's item count, with
	 * no statement to count it. tr_touched is empty here: the commit
	 * before emptied it at its end, and a failed one rolled back what
	 * it put there.
	 */
	if ((rc = pg_exec(st, NULL, "waiting for another node's write",
	    sql_lock, 0, NULL)) != 0 ||
	    (rc = copy_send(b)) != 0 || (rc = prepare_steps(st)) != 0 ||
	    (rc = step(b, sql_dedup, now, NULL, &dropped)) != 0)
		return rc;
	if ((rc = step(b, sql_touch, now, NULL, &touched)) != 0 ||
	    (touched > 0 && (rc = pg_exec(st, NULL, "storing a document",
		 sql_analyze, 0, NULL)) != 0) ||
	    (rc = step(b, sql_update, now, &r->changes, &r->updated)) != 0 ||
	    (rc = step(b, sql_insert, now, &r->changes, &r->added)) != 0 ||
	    (rc = step(b, sql_latest_off, now, &r->changes, NULL)) != 0 ||
	    (rc = step(b, sql_latest_on, now, &r->changes, NULL)) != 0)
		return rc;
	/* No link touched (an unchanged document): no primary to move,
	 * and tr_touched is still empty. */
	if (touched > 0) {
		if ((rc = pg_exec(st, &res, "deduplicating links",
		    sql_primary, 0, NULL)) != 0)
			return rc;
		r->changes += strtoll(PQcmdTuples(res), NULL, 10);
		PQclear(res);
		if ((rc = pg_exec(st, NULL, "clearing touched links",
		    "DELETE FROM tr_touched", 0, NULL)) != 0)
			return rc;
	}
	if ((rc = store_meta(b, meta, &r->changes)) != 0)
		return rc;
	r->unchanged = b->seq - dropped - r->added - r->updated;
	if (r->changes > 0 && (rc = pg_bump_generation(st)) != 0)
		return rc;
	return step(b, sql_drop, now, NULL, NULL);
}

/*
 * Rows already sent live in this session's tr_stage: a new session (the
 * server restarted, the connection was made again) has none, a group's
 * transaction rolled back took those it sent, and so did a failed
 * commit those it sent itself. Such a document is refused whole, never
 * stored as the part that is left. 0, or TR_ESTORE with the message.
 */
static int
staged_lost(struct tr_store_batch *b)
{
	struct tr_store *st = b->st;
	const char *why = NULL;

	if (b->lost)
		why = "an earlier commit of it failed";
	else if (b->sent && PQbackendPID(st->conn) != b->pid)
		why = "the connection to the database was lost";
	else if (b->sent_in_group && st->groups_lost != b->groups_lost)
		why = st->lost_msg;
	if (why == NULL)
		return 0;
	return pg_err(st, TR_ESTORE, "feed %s: the staged document was lost "
	    "(%s); fetch it again", b->feed_name, why);
}

int
pg_batch_commit(struct tr_store_batch *b, const struct tr_feed_meta *meta,
    struct tr_store_result *res)
{
	struct tr_store *st = b->st;
	struct tr_store_result r = {0, 0, 0, 0};
	int rc;

	/* A second commit would see an empty document. */
	if (b->committed)
		return pg_err(st, TR_EINVAL,
		    "feed %s: the batch was already committed", b->feed_name);
	if ((rc = staged_lost(b)) != 0)
		return rc;
	if ((rc = pg_begin(st)) != 0)
		return rc;
	/*
	 * A second guard: a dead connection already answers PQbackendPID()
	 * 0 (caught above), and pg_begin() reconnects only such a one.
	 */
	if ((rc = staged_lost(b)) != 0) {
		pg_rollback(st);
		return rc;
	}
	if ((rc = apply(b, meta, &r)) != 0 || (rc = pg_commit(st)) != 0) {
		pg_rollback(st);
		b->lost = 1;
		tr_log(TR_LOG_WARN, "feed %s: storing the document failed: %s",
		    b->feed_name, st->errmsg);
		return rc;
	}
	b->committed = 1;
	tr_log(TR_LOG_DEBUG, "feed %s: stored %lld new, %lld updated, "
	    "%lld unchanged", b->feed_name, (long long)r.added,
	    (long long)r.updated, (long long)r.unchanged);
	if (res)
		*res = r;
	return 0;
}

void
pg_batch_free(struct tr_store_batch *b)
{
	struct tr_store *st;
	char id[24];
	const char *p[1];
	int rc;

	if (b == NULL)
		return;
	st = b->st;
	/* Rows it sent without a commit are discarded. */
	if (b->sent && !b->committed && PQbackendPID(st->conn) == b->pid) {
		p[0] = pg_i64(id, b->id);
		rc = st->in_group ? pg_begin(st) : 0;
		if (rc == 0)
			rc = pg_exec(st, NULL, "discarding a batch",
			    "DELETE FROM tr_stage WHERE batch = $1::bigint",
			    1, p);
		if (rc == 0 && st->in_group)
			rc = pg_commit(st);
		if (rc != 0) {
			if (st->in_savepoint)
				pg_rollback(st);
			tr_log(TR_LOG_WARN, "feed %s: %s", b->feed_name,
			    st->errmsg);
		}
	}
	tr_buf_free(&b->rows);
	tr_store_prep_free(&b->prep);
	free(b->feed_name);
	free(b);
}
