/*
 * store.c — the SQLite article store: opening and migrating the database,
 * the statement cache, the generation counter and statistics.
 *
 * Feeds, reconciling with feeds.conf and retention live in
 * store_feeds.c, storing documents in store_batch.c, the merged query in
 * store_query.c.
 *
 * Design notes
 *
 * - Each article row carries a sort_date computed when it is written
 *   (published, else updated, else first_seen; a date past the time of
 *   writing becomes first_seen), so the merged order is an index.
 * - Cross-feed deduplication is kept at write time too: of all rows that
 *   share a canonical link the one with the earliest (first_seen, id) has
 *   is_primary = 1; a row without a canonical link is always primary. The
 *   unfiltered merged query is then a walk down the index on sort_date
 *   that skips the (few) rows that are not primary. Every write that
 *   adds, changes or deletes rows records the canonical links it touched
 *   in temp.touched, and store_fix_primary() recomputes just those
 *   groups.
 * - in_latest marks the rows present in their feed's latest document:
 *   retention never deletes them, since they would come back as new.
 * - Every write path only writes rows whose values change, so storing an
 *   unchanged document makes no write at all.
 * - The full-text index may lag behind the articles: meta.fts_done is the
 *   highest id up to which it is complete (schema 2). A commit indexes
 *   what is above the mark unless the handle defers it; a polling round
 *   defers and indexes in bulk after each group commit, which costs
 *   less than half the CPU of per-row triggers. Triggers keep rows at or
 *   below the mark right when they change or go.
 * - Group commit (tr_store_group_begin): store_begin/commit/rollback
 *   become savepoints of one transaction that the caller commits.
 */
#include <sys/stat.h>

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "store_sqlite_int.h"
#include "tributary/error.h"
#include "tributary/log.h"

/* The schema version this tributary writes (PRAGMA user_version). */
#define SCHEMA_VERSION 11

/*
 * migrations[i] brings a database from user_version i to i + 1. Append
 * only: a released step is never edited.
 */
static const char *const migrations[] = {
    /* 0 -> 1: the first schema. */
    "CREATE TABLE meta ("
    "  key TEXT PRIMARY KEY,"
    "  value INTEGER NOT NULL"
    ") WITHOUT ROWID;"
    "INSERT INTO meta(key, value) VALUES ('generation', 0),"
    "  ('changed_at', 0);"
    "CREATE TABLE feeds ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  url TEXT NOT NULL,"
    "  effective_url TEXT,"
    "  conf_title TEXT,"
    "  doc_title TEXT,"
    "  site_link TEXT,"
    "  etag TEXT,"
    "  last_modified TEXT,"
    "  body_hash TEXT,"
    "  last_check INTEGER NOT NULL DEFAULT 0,"
    "  next_check INTEGER NOT NULL DEFAULT 0,"
    "  last_success INTEGER NOT NULL DEFAULT 0,"
    "  retry_after INTEGER NOT NULL DEFAULT 0,"
    "  errors INTEGER NOT NULL DEFAULT 0,"
    "  last_error TEXT,"
    "  last_status INTEGER NOT NULL DEFAULT 0,"
    "  disabled INTEGER NOT NULL DEFAULT 0,"
    "  disabled_reason TEXT,"
    "  active INTEGER NOT NULL DEFAULT 1,"
    "  enabled INTEGER NOT NULL DEFAULT 1,"
    "  max_per_feed INTEGER NOT NULL DEFAULT 0"
    ");"
    "CREATE TABLE feed_tags ("
    "  tag TEXT NOT NULL,"
    "  feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,"
    "  PRIMARY KEY (tag, feed_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX feed_tags_feed ON feed_tags(feed_id);"
    "CREATE TABLE articles ("
    "  id INTEGER PRIMARY KEY,"
    "  feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,"
    "  identity TEXT NOT NULL,"
    "  guid TEXT,"
    "  guid_is_permalink INTEGER NOT NULL DEFAULT 1,"
    "  link TEXT,"
    "  canon TEXT,"
    "  title TEXT,"
    "  author TEXT,"
    "  authors TEXT," /* JSON [{name,email,uri}], NULL when none */
    "  summary TEXT,"
    "  content TEXT,"
    "  published INTEGER,"
    "  updated INTEGER,"
    "  categories TEXT," /* JSON [string], NULL when none */
    "  enclosures TEXT," /* JSON [{url,type,length}], NULL when none */
    "  source_title TEXT,"
    "  source_url TEXT,"
    "  source_id TEXT,"
    "  first_seen INTEGER NOT NULL,"
    "  changed_at INTEGER NOT NULL,"
    "  sort_date INTEGER NOT NULL,"
    "  hash INTEGER NOT NULL,"
    "  in_latest INTEGER NOT NULL DEFAULT 1,"
    "  is_primary INTEGER NOT NULL DEFAULT 1,"
    "  UNIQUE (feed_id, identity)"
    ");"
    "CREATE INDEX articles_sort ON articles(sort_date);"
    "CREATE INDEX articles_feed ON articles(feed_id, sort_date);"
    /* The latest document's rows, so a fetch does not scan a feed's past. */
    "CREATE INDEX articles_latest ON articles(feed_id) WHERE in_latest = 1;"
    "CREATE INDEX articles_canon ON articles(canon, first_seen)"
    "  WHERE canon IS NOT NULL;"
    "CREATE VIRTUAL TABLE articles_fts USING fts5("
    "  title, summary, content, content='articles', content_rowid='id');"
    "CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN"
    "  INSERT INTO articles_fts(rowid, title, summary, content)"
    "    VALUES (new.id, new.title, new.summary, new.content);"
    "END;"
    "CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN"
    "  INSERT INTO articles_fts(articles_fts, rowid, title, summary, content)"
    "    VALUES ('delete', old.id, old.title, old.summary, old.content);"
    "END;"
    "CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, summary, content"
    "  ON articles BEGIN"
    "  INSERT INTO articles_fts(articles_fts, rowid, title, summary, content)"
    "    VALUES ('delete', old.id, old.title, old.summary, old.content);"
    "  INSERT INTO articles_fts(rowid, title, summary, content)"
    "    VALUES (new.id, new.title, new.summary, new.content);"
    "END;",
    /*
     * 1 -> 2: the full-text index is written lazily. meta.fts_done is the
     * highest article id up to which every row is in articles_fts; rows
     * above it are indexed in bulk by store_fts_catch_up() (at the end of
     * a polling round, or at once when the handle does not defer). The
     * triggers keep the index right for rows at or below the mark only:
     * a row above it is not in the index yet, so deleting it from there
     * would corrupt the external-content table. An insert at or below
     * the mark (an id reused after the highest row was deleted) is
     * indexed at once. Every row of a version-1 database is indexed, so
     * the mark starts at the highest id.
     */
    /* FTS5 flushes its in-memory terms as a segment every 'hashsize'
     * bytes (1 MiB by default): bigger segments, less merging in a
     * bulk index of a round's articles, for 8 MiB more while it runs. */
    "INSERT INTO articles_fts(articles_fts, rank) VALUES ('hashsize',"
    "  8388608);"
    "DROP TRIGGER articles_fts_ai;"
    "DROP TRIGGER articles_fts_ad;"
    "DROP TRIGGER articles_fts_au;"
    "INSERT INTO meta(key, value) VALUES ('fts_done',"
    "  (SELECT coalesce(max(id), 0) FROM articles));"
    "CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles"
    "  WHEN new.id <= (SELECT value FROM meta WHERE key = 'fts_done') BEGIN"
    "  INSERT INTO articles_fts(rowid, title, summary, content)"
    "    VALUES (new.id, new.title, new.summary, new.content);"
    "END;"
    "CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles"
    "  WHEN old.id <= (SELECT value FROM meta WHERE key = 'fts_done') BEGIN"
    "  INSERT INTO articles_fts(articles_fts, rowid, title, summary, content)"
    "    VALUES ('delete', old.id, old.title, old.summary, old.content);"
    "END;"
    "CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, summary, content"
    "  ON articles"
    "  WHEN old.id <= (SELECT value FROM meta WHERE key = 'fts_done') BEGIN"
    "  INSERT INTO articles_fts(articles_fts, rowid, title, summary, content)"
    "    VALUES ('delete', old.id, old.title, old.summary, old.content);"
    "  INSERT INTO articles_fts(rowid, title, summary, content)"
    "    VALUES (new.id, new.title, new.summary, new.content);"
    "END;",
    /*
     * 2 -> 3: no incremental merging of full-text segments. With the
     * default (automerge 4) a bulk index of a round's articles spent a
     * third of its time merging the segments it had just written; FTS5's
     * crisis merge (16 segments on one level, merged at once) still
     * bounds their number, with a wider merge that moves each term up
     * fewer times.
     */
    "INSERT INTO articles_fts(articles_fts, rank) VALUES ('automerge', 0);",
    /*
     * 3 -> 4: when a feed left the config (0 while it is in it), for
     * deleting its articles removed_keep later. Feeds already removed
     * count from the migration.
     */
    "ALTER TABLE feeds ADD COLUMN removed_at INTEGER NOT NULL DEFAULT 0;"
    "UPDATE feeds SET removed_at = CAST(strftime('%s', 'now') AS INTEGER)"
    "  WHERE active = 0;",
    /*
     * 4 -> 5: a feed's lease (tr_store_claim): the process polling it
     * and until when (Unix seconds; 0 = none).
     */
    ("ALTER TABLE feeds ADD COLUMN lease_owner TEXT;"
     "ALTER TABLE feeds ADD COLUMN lease_until INTEGER NOT NULL DEFAULT 0;"),
    /* 5 -> 6: an article's picture (media:thumbnail), no longer an
     * enclosure. */
    "ALTER TABLE articles ADD COLUMN image TEXT;",
    /* 6 -> 7: the primary row of each canonical link, so that marking a
     * link's new primary reads one entry, not every row of the link
     * (store_fix_primary). */
    "CREATE INDEX articles_primary ON articles(canon)"
    "  WHERE is_primary = 1 AND canon IS NOT NULL;",
    /*
     * 7 -> 8: which configs list each feed (config: the config file's
     * absolute path) and when one last said so. A feed is removed only
     * when no config that listed it within removed_keep still does, so
     * configs sharing a database do not remove each other's feeds. The
     * feeds in a config before count as listed by an unnamed one, which
     * lapses removed_keep after the migration.
     */
    ("CREATE TABLE feed_configs ("
     "  config TEXT NOT NULL,"
     "  feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,"
     "  last_seen INTEGER NOT NULL,"
     "  PRIMARY KEY (config, feed_id)"
     ") WITHOUT ROWID;"
     "CREATE INDEX feed_configs_feed ON feed_configs(feed_id);"
     "INSERT INTO feed_configs(config, feed_id, last_seen)"
     "  SELECT '', id, CAST(strftime('%s', 'now') AS INTEGER) FROM feeds"
     "  WHERE active = 1;"),
    /*
     * 8 -> 9: the full-text index holds text, not markup: body_text is
     * the text of the summary and content (store_body_text: the parser's
     * sanitizer gives it as it writes the bodies), and articles_fts is
     * built over (title, body_text), so tag and attribute names, URLs
     * and comments are not found. Existing rows get their text from the
     * stored HTML once, through tr_body_text() (the same Gumbo parser,
     * a function of the migrating connection), and the index is rebuilt.
     */
    ("ALTER TABLE articles ADD COLUMN body_text TEXT;"
     "DROP TRIGGER IF EXISTS articles_fts_ai;"
     "DROP TRIGGER IF EXISTS articles_fts_ad;"
     "DROP TRIGGER IF EXISTS articles_fts_au;"
     "DROP TABLE IF EXISTS articles_fts;"
     "UPDATE articles SET body_text = tr_body_text(summary, content)"
     "  WHERE summary IS NOT NULL OR content IS NOT NULL;"
     "CREATE VIRTUAL TABLE articles_fts USING fts5("
     "  title, body_text, content='articles', content_rowid='id');"
     "INSERT INTO articles_fts(articles_fts, rank) VALUES ('hashsize',"
     "  8388608);"
     "INSERT INTO articles_fts(articles_fts, rank) VALUES ('automerge', 0);"
     "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild');"
     "UPDATE meta SET value = (SELECT coalesce(max(id), 0) FROM articles)"
     "  WHERE key = 'fts_done';"
     "CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles"
     "  WHEN new.id <= (SELECT value FROM meta WHERE key = 'fts_done') BEGIN"
     "  INSERT INTO articles_fts(rowid, title, body_text)"
     "    VALUES (new.id, new.title, new.body_text);"
     "END;"
     "CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles"
     "  WHEN old.id <= (SELECT value FROM meta WHERE key = 'fts_done') BEGIN"
     "  INSERT INTO articles_fts(articles_fts, rowid, title, body_text)"
     "    VALUES ('delete', old.id, old.title, old.body_text);"
     "END;"
     "CREATE TRIGGER articles_fts_au AFTER UPDATE OF title, body_text"
     "  ON articles"
     "  WHEN old.id <= (SELECT value FROM meta WHERE key = 'fts_done') BEGIN"
     "  INSERT INTO articles_fts(articles_fts, rowid, title, body_text)"
     "    VALUES ('delete', old.id, old.title, old.body_text);"
     "  INSERT INTO articles_fts(rowid, title, body_text)"
     "    VALUES (new.id, new.title, new.body_text);"
     "END;"),
    /*
     * 9 -> 10: the feed's own author (its document's feed-level author),
     * which items without one take when served, wherever the document
     * names it (the parser can give it only to the items after it).
     */
    "ALTER TABLE feeds ADD COLUMN doc_author TEXT;",
    /*
     * 10 -> 11: the raw hash of what each row's bodies were sanitized
     * from (tr_article.raw_hash), so that an item a document repeats
     * takes its stored bodies instead of the sanitizer's time
     * (store.h: stored bodies). Rows stored before have none; a
     * document that carries them again gives them theirs.
     */
    "ALTER TABLE articles ADD COLUMN raw_hash INTEGER;",
};
#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

/* The writer's scratch tables, in the temp database of its connection. */
static const char temp_schema[] =
    "PRAGMA temp_store = FILE;"
    /* A document's staged rows are read back once, in order, by its
     * commit: the temp file's pages need little cache (SQLite's default
     * is 2 MiB, which a large document filled for the rest of the
     * round). */
    "PRAGMA temp.cache_size = -256;"
    "PRAGMA temp.journal_mode = MEMORY;"
    "CREATE TEMP TABLE stage ("
    "  batch INTEGER NOT NULL,"
    "  identity TEXT NOT NULL,"
    "  guid TEXT, guid_is_permalink INTEGER, link TEXT, canon TEXT,"
    "  title TEXT, author TEXT, authors TEXT, summary TEXT, content TEXT,"
    "  published INTEGER, updated INTEGER, categories TEXT,"
    "  enclosures TEXT, source_title TEXT, source_url TEXT,"
    "  source_id TEXT, hash INTEGER NOT NULL, image TEXT, body_text TEXT,"
    "  raw_hash INTEGER,"
    /* 1: a kept item (tr_store_prep_keep), its identity and hash only. */
    "  kept INTEGER,"
    "  PRIMARY KEY (batch, identity)"
    ");"
    /*
     * What the commit's statements test of a staged row, so that they
     * read it from this index: a row with its bodies fills a page of
     * its own, rows of several documents interleave, and the 256 KiB
     * cache does not hold a document's rows from one statement to the
     * next, so each statement that read the table (the counts, the
     * touched links, the update's and insert's lists) read its rows'
     * pages from the temp file again. A cold round of 1,000 feeds: 373,000
     * preads before, 229,000 after.
     */
    "CREATE INDEX temp.stage_keys ON stage(batch, identity, kept, hash,"
    "  canon, raw_hash);"
    "CREATE TEMP TABLE touched (canon TEXT PRIMARY KEY) WITHOUT ROWID;";


/* sort_date of a staged row s written at ?T (first_seen ?F for it). */
#define SORT_DATE(first_seen)                                                 \
	"CASE WHEN coalesce(s.published, s.updated) IS NULL"                  \
	"  OR coalesce(s.published, s.updated) > ?3 THEN " first_seen         \
	" ELSE coalesce(s.published, s.updated) END"

/*
 * sort_date of a new undated row s: undated items keep their document's
 * order (first in the document is newest) and sort after everything the
 * feed already has. The new undated rows of the batch count down from
 * B = max(now, the feed's newest sort_date + 1 + their span), one second
 * per staged row, so the last is above all the feed's rows; B passes now
 * only when new undated items arrive faster than one a second.
 */
#define NEW_UNDATED                                                            \
	" FROM temp.stage t WHERE t.batch = ?1"                               \
	" AND coalesce(t.published, t.updated) IS NULL AND NOT EXISTS"        \
	" (SELECT 1 FROM articles a WHERE a.feed_id = ?2"                     \
	" AND a.identity = t.identity)"
#define UNDATED_SORT_DATE                                                      \
	"max(?3, coalesce((SELECT newest.sort_date FROM articles newest"     \
	" WHERE newest.feed_id = ?2 ORDER BY newest.sort_date DESC LIMIT 1),"  \
	" 0) + 1 + (SELECT max(t.rowid) -"                                    \
	" min(t.rowid)" NEW_UNDATED ")) - (s.rowid - (SELECT min(t.rowid)"    \
	NEW_UNDATED "))"

/*
 * The primary row of canonical link c: the first seen (then the lowest
 * id) among the rows of feeds in the config, else among all rows (a
 * feed removed from the config yields to the ones in it).
 */
#define PRIMARY_OF(c)                                                         \
	"coalesce((SELECT b.id FROM articles b CROSS JOIN feeds f"            \
	" ON f.id = b.feed_id WHERE b.canon = " c " AND f.active = 1"         \
	" ORDER BY b.first_seen, b.id LIMIT 1), (SELECT b.id FROM articles b" \
	" WHERE b.canon = " c " ORDER BY b.first_seen, b.id LIMIT 1))"

static const char *const stmt_sql[S__COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_BEGIN_STAGE] = "BEGIN DEFERRED",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SAVEPOINT] = "SAVEPOINT w",
    [S_RELEASE] = "RELEASE w",
    [S_ROLLBACK_TO] = "ROLLBACK TO w",
    [S_GEN_GET] = "SELECT (SELECT value FROM meta WHERE key = 'generation'),"
		  " (SELECT value FROM meta WHERE key = 'changed_at')",
    [S_DATA_VERSION] = "PRAGMA data_version",
    [S_GEN_BUMP] = "UPDATE meta SET value = CASE key WHEN 'generation'"
		   " THEN value + 1 ELSE ?1 END"
		   " WHERE key IN ('generation', 'changed_at')",
    [S_FEED_ID] = "SELECT id FROM feeds WHERE name = ?1",
    [S_FEED_GET] = "SELECT " FEED_COLS " FROM feeds f WHERE f.name = ?1",
    [S_FEED_ALL] = "SELECT " FEED_COLS " FROM feeds f ORDER BY f.name",
    [S_FEED_STATES] = "SELECT " FEED_COLS_ANY " FROM feeds f ORDER BY f.name",
    [S_FEED_SAVE] =
	"UPDATE feeds SET effective_url = ?2, etag = ?3, last_modified = ?4,"
	" body_hash = ?5, last_check = ?6, next_check = ?7,"
	" last_success = ?8, retry_after = ?9, errors = ?10,"
	" last_error = ?11, last_status = ?12, disabled = ?13,"
	" disabled_reason = ?14 WHERE name = ?1",
    [S_FEED_OLD] = "SELECT effective_url, disabled FROM feeds WHERE name = ?1",
    [S_FEED_INSERT] = "INSERT INTO feeds(name, url) VALUES (?1, ?2)"
		      " ON CONFLICT(name) DO NOTHING",
    [S_FEED_CONF] =
	"UPDATE feeds SET conf_title = ?2, max_per_feed = ?3, enabled = ?4,"
	" active = 1, removed_at = 0 WHERE name = ?1 AND (conf_title IS NOT ?2"
	" OR max_per_feed <> ?3 OR enabled <> ?4 OR active <> 1)",
    [S_FEED_URL_RESET] =
	"UPDATE feeds SET url = ?2, effective_url = NULL, etag = NULL,"
	" last_modified = NULL, body_hash = NULL, next_check = 0,"
	" retry_after = 0, disabled = 0, disabled_reason = NULL"
	" WHERE name = ?1 AND url <> ?2",
    /* Feeds no config lists any more (?1 unused). */
    [S_FEED_DEACTIVATE] = "UPDATE feeds SET active = 0, removed_at = ?2"
			  " WHERE active = 1 AND ?1 IS NOT NULL"
			  " AND NOT EXISTS (SELECT 1 FROM feed_configs c"
			  " WHERE c.feed_id = feeds.id)",
    [S_FEED_META] = "UPDATE feeds SET doc_title = ?2, site_link = ?3,"
		    " doc_author = ?4"
		    " WHERE id = ?1 AND (doc_title IS NOT ?2"
		    " OR site_link IS NOT ?3 OR doc_author IS NOT ?4)",
    [S_TAGS_GET] = "SELECT group_concat(tag, char(10)) FROM"
		   " (SELECT t.tag FROM feed_tags t JOIN feeds f"
		   " ON f.id = t.feed_id WHERE f.name = ?1 ORDER BY t.tag)",
    [S_TAGS_DEL] = "DELETE FROM feed_tags WHERE feed_id ="
		   " (SELECT id FROM feeds WHERE name = ?1)",
    [S_TAG_ADD] = "INSERT OR IGNORE INTO feed_tags(tag, feed_id)"
		  " SELECT ?2, id FROM feeds WHERE name = ?1",
    [S_NEXT_DUE] = "SELECT min(max(next_check, retry_after)) FROM feeds"
		   " WHERE active = 1 AND enabled = 1 AND disabled = 0",
    [S_FEEDS_STAMP] = "SELECT coalesce(sum(last_check + next_check"
		      " + last_success + retry_after + errors + disabled"
		      " + active + enabled), 0) + count(*),"
		      " coalesce(max(last_check), 0) FROM feeds",
    [S_STATS] = "SELECT count(*), coalesce(sum(active = 1), 0),"
		" coalesce(sum(disabled <> 0 OR enabled = 0), 0),"
		" coalesce(sum(errors > 0), 0),"
		" (SELECT count(*) FROM articles) FROM feeds",
    [S_STAGE_ADD] =
	"INSERT OR REPLACE INTO temp.stage(batch, identity, guid,"
	" guid_is_permalink, link, canon, title, author, authors, summary,"
	" content, published, updated, categories, enclosures, source_title,"
	" source_url, source_id, hash, image, body_text, raw_hash) VALUES (?1,"
	" ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,"
	" ?17, ?18, ?19, ?20, ?21, ?22)",
    [S_STAGE_KEEP] = "INSERT OR REPLACE INTO temp.stage(batch, identity,"
		     " hash, kept) VALUES (?1, ?2, ?3, 1)",
    [S_STAGE_DROP] = "DELETE FROM temp.stage WHERE batch = ?1",
    [S_TOUCHED_CLEAR] = "DELETE FROM temp.touched",
    /* Old links of rows whose content (and maybe link) changes. */
    [S_TOUCH_OLD] =
	"INSERT OR IGNORE INTO temp.touched(canon) SELECT a.canon"
	" FROM temp.stage s CROSS JOIN articles a ON a.feed_id = ?2"
	" AND a.identity = s.identity WHERE s.batch = ?1 AND s.kept IS NULL"
	" AND a.hash <> s.hash AND a.canon IS NOT NULL",
    /* Links of rows that are new or change. */
    [S_TOUCH_NEW] =
	"INSERT OR IGNORE INTO temp.touched(canon) SELECT s.canon"
	" FROM temp.stage s WHERE s.batch = ?1 AND s.canon IS NOT NULL"
	" AND s.kept IS NULL AND NOT EXISTS (SELECT 1 FROM articles a WHERE a.feed_id = ?2"
	" AND a.identity = s.identity AND a.hash = s.hash)",
    /*
     * Driven by the staged identities (the IN list on the unique index),
     * never by the feed's past rows: an UPDATE ... FROM let the planner
     * scan every row of the feed instead.
     */
    [S_APPLY_UPDATE] =
	"UPDATE articles AS a SET (guid, guid_is_permalink, link, canon,"
	" title, author, authors, summary, content, published, updated,"
	" categories, enclosures, source_title, source_url, source_id, hash,"
	" image, body_text, raw_hash, changed_at, in_latest, is_primary,"
	" sort_date) = (SELECT s.guid,"
	" s.guid_is_permalink, s.link, s.canon, s.title, s.author, s.authors,"
	" s.summary, s.content, s.published,"
	" CASE WHEN s.updated IS NOT NULL AND (a.updated IS NULL"
	"   OR s.updated > a.updated) THEN s.updated ELSE ?3 END,"
	" s.categories, s.enclosures, s.source_title, s.source_url,"
	" s.source_id, s.hash, s.image, s.body_text, s.raw_hash, ?3, 1,"
	" CASE WHEN s.canon IS NULL THEN 1 ELSE a.is_primary END,"
	" CASE WHEN s.published IS NOT NULL THEN"
	"   (CASE WHEN s.published > ?3 THEN a.first_seen ELSE s.published"
	"   END) ELSE (CASE WHEN s.updated IS NOT NULL AND (a.updated IS NULL"
	"   OR s.updated > a.updated) THEN (CASE WHEN s.updated > ?3 THEN"
	"   a.first_seen ELSE s.updated END) ELSE ?3 END) END"
	" FROM temp.stage s WHERE s.batch = ?1 AND s.identity = a.identity)"
	" WHERE a.feed_id = ?2 AND a.identity IN (SELECT identity"
	" FROM temp.stage WHERE batch = ?1 AND kept IS NULL)"
	" AND a.hash <> (SELECT s.hash"
	" FROM temp.stage s WHERE s.batch = ?1 AND s.identity = a.identity)",
    /*
     * is_primary of a new row is the primary step's most likely answer,
     * as on PostgreSQL (store_pg_batch.c, sql_insert): a new row is its
     * link's newest, so it is primary only when no row of its link is.
     * S_PRIMARY_OFF and S_PRIMARY_ON still decide every touched link and
     * write only the rows this got wrong. Inserted as 1 and set to 0
     * there, every row of a link other feeds share was written twice,
     * the second time whole, its bodies' overflow pages included (in a
     * cold round of 10,000 feeds whose links ten feeds share, 7.2 s of
     * the writer's statements; 3.5 s with this).
     */
    [S_APPLY_INSERT] =
	"INSERT INTO articles(feed_id, identity, guid, guid_is_permalink,"
	" link, canon, title, author, authors, summary, content, published,"
	" updated, categories, enclosures, source_title, source_url,"
	" source_id, first_seen, changed_at, sort_date, hash, in_latest,"
	" is_primary, image, body_text, raw_hash) SELECT ?2, s.identity,"
	" s.guid,"
	" s.guid_is_permalink,"
	" s.link, s.canon, s.title, s.author, s.authors, s.summary,"
	" s.content, s.published, s.updated, s.categories, s.enclosures,"
	" s.source_title, s.source_url, s.source_id, ?3, ?3,"
	" CASE WHEN coalesce(s.published, s.updated) IS NULL THEN "
	UNDATED_SORT_DATE " ELSE " SORT_DATE("?3") " END,"
	" s.hash, 1, CASE WHEN s.canon IS NULL OR NOT EXISTS (SELECT 1"
	" FROM articles p WHERE p.canon = s.canon AND p.is_primary = 1)"
	" THEN 1 ELSE 0 END, s.image, s.body_text, s.raw_hash FROM temp.stage s"
	/* Walks the batch's rowids in order: "WHERE s.batch = ?1 ORDER BY
	 * s.rowid" sorted whole rows, contents included, in a temp b-tree. */
	" WHERE s.rowid IN (SELECT rowid FROM temp.stage WHERE batch = ?1"
	" AND kept IS NULL)"
	" AND NOT EXISTS (SELECT 1 FROM articles a"
	" WHERE a.feed_id = ?2 AND a.identity = s.identity)"
	" ORDER BY s.rowid",
    /*
     * An unchanged row (same content hash, so the same bodies) takes the
     * raw hash the document's item gives it, so its bodies are reused
     * next time: rows stored before schema 11, or from other raw bytes
     * that sanitized the same. Not a change: nothing shown differs.
     */
    [S_APPLY_RAW] =
	"UPDATE articles AS a SET raw_hash = (SELECT s.raw_hash"
	" FROM temp.stage s WHERE s.batch = ?1 AND s.identity = a.identity)"
	" WHERE a.feed_id = ?2 AND a.identity IN (SELECT identity"
	" FROM temp.stage WHERE batch = ?1 AND raw_hash IS NOT NULL)"
	" AND a.raw_hash IS NOT (SELECT s.raw_hash FROM temp.stage s"
	" WHERE s.batch = ?1 AND s.identity = a.identity)",
    [S_LATEST_OFF] = "UPDATE articles SET in_latest = 0 WHERE feed_id = ?2"
		     " AND in_latest = 1 AND identity NOT IN"
		     " (SELECT identity FROM temp.stage WHERE batch = ?1)",
    [S_LATEST_ON] = "UPDATE articles SET in_latest = 1 WHERE feed_id = ?2"
		    " AND in_latest = 0 AND identity IN"
		    " (SELECT identity FROM temp.stage WHERE batch = ?1)",
    /*
     * Each touched link's primary is found once, on the articles_canon
     * index (walked in first_seen order up to the first row of a feed in
     * the config), and only the rows whose mark changes are written: the
     * marked rows of a link are found on articles_primary (schema 7).
     * Recomputing the winner for every row of the link instead cost a
     * sort of all its rows per row, so a link shared by N feeds cost N^3
     * over a round.
     */
    [S_PRIMARY_OFF] = "UPDATE articles SET is_primary = 0"
		      " WHERE is_primary = 1 AND canon IS NOT NULL"
		      " AND canon IN (SELECT canon FROM temp.touched)"
		      " AND id IS NOT " PRIMARY_OF("articles.canon"),
    [S_PRIMARY_ON] = "UPDATE articles SET is_primary = 1"
		     " WHERE is_primary = 0 AND id IN (SELECT " PRIMARY_OF("t.canon")
		     " FROM temp.touched t)",
    /*
     * The staged identities, and the kept ones whose row is no longer
     * there as the parser found it (changed or deleted since, by another
     * process): their items were staged without their contents.
     */
    [S_STAGE_COUNT] = "SELECT count(*), coalesce(sum(s.kept = 1 AND NOT"
		      " EXISTS (SELECT 1 FROM articles a WHERE a.feed_id = ?2"
		      " AND a.identity = s.identity AND a.hash = s.hash)), 0)"
		      " FROM temp.stage s WHERE s.batch = ?1",
    [S_RET_FEEDS] = "SELECT id, name FROM feeds ORDER BY id",
    [S_RET_TOUCH_DAYS] =
	"INSERT OR IGNORE INTO temp.touched(canon) SELECT canon FROM articles"
	" WHERE feed_id = ?1 AND sort_date < ?2 AND in_latest = 0"
	" AND canon IS NOT NULL",
    [S_RET_DEL_DAYS] = "DELETE FROM articles WHERE feed_id = ?1"
		       " AND sort_date < ?2 AND in_latest = 0",
    [S_RET_TOUCH_ITEMS] =
	"INSERT OR IGNORE INTO temp.touched(canon) SELECT canon FROM articles"
	" WHERE id IN (SELECT id FROM articles WHERE feed_id = ?1"
	" ORDER BY sort_date DESC, id DESC LIMIT -1 OFFSET ?2)"
	" AND in_latest = 0 AND canon IS NOT NULL",
    [S_RET_DEL_ITEMS] =
	"DELETE FROM articles WHERE id IN (SELECT id FROM articles"
	" WHERE feed_id = ?1 ORDER BY sort_date DESC, id DESC"
	" LIMIT -1 OFFSET ?2) AND in_latest = 0",
    [S_ALSO] = "SELECT f.name FROM articles b JOIN feeds f"
	       " ON f.id = b.feed_id WHERE b.canon = ?1 AND b.feed_id <> ?2"
	       " GROUP BY b.feed_id ORDER BY min(b.first_seen), f.name",
    [S_JSON_STRINGS] = "SELECT value FROM json_each(?1)",
    [S_JSON_AUTHORS] = "SELECT json_extract(value, '$.name'),"
		       " json_extract(value, '$.email'),"
		       " json_extract(value, '$.uri') FROM json_each(?1)",
    [S_JSON_ENCLOSURES] = "SELECT json_extract(value, '$.url'),"
			  " json_extract(value, '$.type'),"
			  " json_extract(value, '$.length')"
			  " FROM json_each(?1)",
    [S_TAG_SHARE] = "SELECT (SELECT count(*) FROM feed_tags WHERE tag = ?1),"
		    " (SELECT count(*) FROM feeds),"
		    " (SELECT coalesce(max(id), 0) FROM articles)",
    [S_FTS_COUNT] = "SELECT count(*) FROM (SELECT rowid FROM articles_fts"
		    " WHERE articles_fts MATCH ?1 LIMIT ?2)",
    [S_FTS_PENDING] = "SELECT value, (SELECT coalesce(max(id), 0)"
		      " FROM articles) FROM meta WHERE key = 'fts_done'",
    [S_FTS_INDEX] = "INSERT INTO articles_fts(rowid, title, body_text)"
		    " SELECT id, title, body_text FROM articles"
		    " WHERE id > ?1 ORDER BY id",
    [S_FTS_MARK] = "UPDATE meta SET value = ?1 WHERE key = 'fts_done'"
		   " AND value < ?1",
    /* FTS5's structure record, and its 'merge' command (sq_maintain). */
    [S_FTS_SHAPE] = "SELECT block FROM articles_fts_data WHERE id = 10",
    [S_FTS_MERGE] = "INSERT INTO articles_fts(articles_fts, rank)"
		    " VALUES ('merge', ?1)",
    /* Compare and set in one statement (tr_store_claim). */
    [S_LEASE_TAKE] = "UPDATE feeds SET lease_owner = ?2, lease_until = ?4"
		     " WHERE name = ?1 AND (lease_owner IS NULL"
		     " OR lease_owner = ?2 OR lease_until <= ?3)"
		     " AND (?5 IS NULL OR last_check = ?5)",
    [S_LEASE_DROP] = "UPDATE feeds SET lease_owner = NULL, lease_until = 0"
		     " WHERE lease_owner = ?1",
    [S_LEASE_HOLDER] = "SELECT lease_owner FROM feeds WHERE name = ?1",
    [S_LEASE_STEAL] = "UPDATE feeds SET lease_owner = ?2, lease_until = ?4"
		      " WHERE name = ?1 AND lease_owner = ?3"
		      " AND (?5 IS NULL OR last_check = ?5)",
};

/* --- errors, statements, helpers --- */

int
store_err(struct tr_store *st, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(st->errmsg, sizeof(st->errmsg), fmt, ap);
	va_end(ap);
	return rc;
}

/* --- damage --- */

/* SQLite's result codes that mean the file is damaged. */
static int
damage_code(int code)
{
	code &= 0xff;
	return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

/*
 * Marks the store damaged (once) and logs it. detail says what showed
 * it. Nothing is written through the handle afterwards: a write into a
 * damaged b-tree can spread the damage to what is still readable.
 */
static void
mark_damaged(struct tr_store *st, const char *detail)
{
	if (atomic_load(&st->damaged))
		return;
	snprintf(st->damage_msg, sizeof(st->damage_msg),
	    "%s: the database is damaged (%s); nothing more is written to "
	    "it: run 'tributary check --store' for the details, then restore "
	    "it from a backup, or move it away and let tributary fetch "
	    "everything again",
	    st->path, detail);
	atomic_store(&st->damaged, 1);
	tr_log(TR_LOG_ERROR, "store %s", st->damage_msg);
}

/* After an error on st->db: marks the store damaged when it says so. */
static void
note_damage(struct tr_store *st)
{
	if (st->db != NULL && damage_code(sqlite3_extended_errcode(st->db)))
		mark_damaged(st, sqlite3_errmsg(st->db));
}

int
sq_damaged(const struct tr_store *st, const char **why)
{
	if (!atomic_load(&((struct tr_store *)(uintptr_t)st)->damaged))
		return 0;
	if (why)
		*why = st->damage_msg;
	return 1;
}

/* TR_ESTORE with the damage message when the store is damaged, else 0. */
static int
refuse_damaged(struct tr_store *st)
{
	if (!atomic_load(&st->damaged))
		return 0;
	return store_err(st, TR_ESTORE, "%s", st->damage_msg);
}

/*
 * Runs PRAGMA quick_check (full: integrity_check, then FTS5's own check
 * of the full-text index) and calls cb with each problem it reports.
 * Problems mark the store damaged. 0 when the check ran (cb's count is
 * the verdict), else TR_ESTORE.
 */
int
sq_check(struct tr_store *st, int full, int (*cb)(const char *problem,
    void *arg), void *arg)
{
	sqlite3_stmt *s = NULL;
	const char *row;
	int n = 0, rc;

	if (sqlite3_prepare_v2(st->db, full ? "PRAGMA integrity_check(100)"
					    : "PRAGMA quick_check(20)",
		-1, &s, NULL) != SQLITE_OK) {
		rc = store_dberr(st, "checking the database");
		if (atomic_load(&st->damaged)) {
			cb(st->errmsg, arg);
			return 0;
		}
		return rc;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		char line[256];

		row = (const char *)sqlite3_column_text(s, 0);
		if (row == NULL || strcmp(row, "ok") == 0)
			continue;
		/* "*** in database main ***\nOn tree page ...": one line of
		 * the problem itself for the message. */
		if (strncmp(row, "*** ", 4) == 0 && strchr(row, '\n'))
			row = strchr(row, '\n') + 1;
		snprintf(line, sizeof(line), "%.*s", (int)strcspn(row, "\n"),
		    row);
		if (n++ == 0)
			mark_damaged(st, line);
		cb(row, arg);
	}
	if (rc != SQLITE_DONE) {
		store_dberr(st, "checking the database");
		if (n++ == 0)
			mark_damaged(st, sqlite3_errmsg(st->db));
		cb(st->errmsg, arg);
	}
	sqlite3_finalize(s);
	/* FTS5's check reads the index against the articles; it is run as
	 * an INSERT, so only through a writable handle. */
	if (full && !st->readonly && n == 0 &&
	    sqlite3_exec(st->db, "INSERT INTO articles_fts(articles_fts)"
				 " VALUES ('integrity-check')",
		NULL, NULL, NULL) != SQLITE_OK) {
		store_err(st, TR_ESTORE, "%s: the full-text index does not "
		    "match the articles: %s", st->path, sqlite3_errmsg(st->db));
		mark_damaged(st, "the full-text index does not match the "
				 "articles");
		cb(st->errmsg, arg);
	}
	return 0;
}

int
store_dberr(struct tr_store *st, const char *what)
{
	note_damage(st);
	return store_err(st, TR_ESTORE, "%s: %s: %s", st->path, what,
	    st->db ? sqlite3_errmsg(st->db) : "no database");
}

const char *
sq_errmsg(const struct tr_store *st)
{
	if (st == NULL)
		return "out of memory";
	return st->errmsg[0] ? st->errmsg : "no error";
}

sqlite3_stmt *
store_stmt(struct tr_store *st, enum store_stmt id)
{
	sqlite3_stmt *s = st->stmt[id];

	if (s == NULL) {
		if (sqlite3_prepare_v3(st->db, stmt_sql[id], -1,
			SQLITE_PREPARE_PERSISTENT, &s, NULL) != SQLITE_OK) {
			store_dberr(st, "preparing a statement");
			return NULL;
		}
		st->stmt[id] = s;
		return s;
	}
	sqlite3_reset(s);
	sqlite3_clear_bindings(s);
	return s;
}

int
store_exec_stmt(struct tr_store *st, sqlite3_stmt *s, const char *what)
{
	int rc;

	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		;
	sqlite3_reset(s);
	if (rc != SQLITE_DONE)
		return store_dberr(st, what);
	return 0;
}

int
store_step_int64(struct tr_store *st, sqlite3_stmt *s, const char *what,
    int64_t *v)
{
	int rc = 0;

	if (sqlite3_step(s) == SQLITE_ROW)
		*v = sqlite3_column_int64(s, 0);
	else
		rc = store_dberr(st, what);
	sqlite3_reset(s);
	return rc;
}

int
store_exec(struct tr_store *st, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		note_damage(st);
		store_err(st, TR_ESTORE, "%s: %s", st->path,
		    err ? err : sqlite3_errmsg(st->db));
		sqlite3_free(err);
		return TR_ESTORE;
	}
	return 0;
}

int
store_stage_flush(struct tr_store *st)
{
	sqlite3_stmt *s;
	int rc;

	if (!st->staging)
		return 0;
	st->staging = 0;
	st->staged_rows = 0;
	s = store_stmt(st, S_COMMIT);
	rc = s ? store_exec_stmt(st, s, "staging articles") : TR_ESTORE;
	if (rc != 0) {
		store_rollback(st);
		st->stage_epoch++;
		snprintf(st->lost_msg, sizeof(st->lost_msg), "%s", st->errmsg);
		tr_log(TR_LOG_WARN, "store %s: staged articles lost: %s",
		    st->path, st->errmsg);
	}
	return rc;
}

/* Runs one of the fixed transaction statements. */
static int
run_stmt(struct tr_store *st, enum store_stmt id, const char *what)
{
	sqlite3_stmt *s = store_stmt(st, id);

	return s ? store_exec_stmt(st, s, what) : TR_ESTORE;
}

/*
 * The group's transaction ended without a COMMIT (a failed commit, or
 * SQLite rolled it back after an I/O error): what it held is gone, the
 * staged rows of open batches included.
 */
static void
group_lost(struct tr_store *st)
{
	st->in_group = 0;
	st->in_savepoint = 0;
	st->staged_rows = 0;
	st->stage_epoch++;
	st->groups_lost++;
	snprintf(st->lost_msg, sizeof(st->lost_msg), "%s", st->errmsg);
	tr_log(TR_LOG_ERROR, "store %s: a group of %lld writes was rolled "
	    "back: %s", st->path, (long long)st->group_writes, st->errmsg);
	st->group_writes = 0;
}

/* A transaction of its own, whatever the grouping. */
static int
begin_own(struct tr_store *st)
{
	int rc;

	if ((rc = refuse_damaged(st)) != 0 ||
	    (rc = store_stage_flush(st)) != 0)
		return rc;
	return run_stmt(st, S_BEGIN, "beginning a transaction");
}

int
store_begin(struct tr_store *st)
{
	int rc;

	assert(!st->in_savepoint);
	if ((rc = refuse_damaged(st)) != 0)
		return rc;
	if (st->grouping) {
		if (!st->in_group) {
			if ((rc = store_stage_flush(st)) != 0 ||
			    (rc = run_stmt(st, S_BEGIN,
				 "beginning a transaction")) != 0)
				return rc;
			st->in_group = 1;
			st->group_writes = 0;
		}
		if ((rc = run_stmt(st, S_SAVEPOINT, "opening a savepoint")) != 0)
			return rc;
		st->in_savepoint = 1;
		return 0;
	}
	return begin_own(st);
}

int
store_commit(struct tr_store *st)
{
	int rc;

	if (st->in_savepoint) {
		/* On failure the savepoint stays for store_rollback(). */
		if ((rc = run_stmt(st, S_RELEASE, "committing")) != 0)
			return rc;
		st->in_savepoint = 0;
		st->group_writes++;
		return 0;
	}
	return run_stmt(st, S_COMMIT, "committing");
}

/*
 * Runs a fixed statement of the rollback path, ignoring its result: the
 * first error's message stays in errmsg, rolling back is the aftermath.
 */
static void
run_quietly(struct tr_store *st, enum store_stmt id)
{
	sqlite3_stmt *s = store_stmt(st, id);

	if (s != NULL) {
		sqlite3_step(s);
		sqlite3_reset(s);
	}
}

void
store_rollback(struct tr_store *st)
{
	if (st->in_savepoint) {
		/* Only this write goes; the group's earlier ones stay. */
		st->in_savepoint = 0;
		if (sqlite3_get_autocommit(st->db)) {
			group_lost(st);
			return;
		}
		run_quietly(st, S_ROLLBACK_TO);
		run_quietly(st, S_RELEASE);
		return;
	}
	if (sqlite3_get_autocommit(st->db)) {
		if (st->in_group)
			group_lost(st);
		return;
	}
	run_quietly(st, S_ROLLBACK);
	if (st->in_group)
		group_lost(st);
}

void
sq_group_begin(struct tr_store *st)
{
	st->grouping = !st->readonly;
}

int
sq_group_commit(struct tr_store *st)
{
	int rc;

	assert(!st->in_savepoint);
	if (!st->in_group)
		return 0;
	if ((rc = run_stmt(st, S_COMMIT, "committing a group of writes")) !=
	    0) {
		store_rollback(st);
		return rc;
	}
	st->in_group = 0;
	st->staged_rows = 0;
	st->group_writes = 0;
	return 0;
}

int
sq_group_open(const struct tr_store *st)
{
	return st->in_group;
}

int64_t
sq_groups_lost(const struct tr_store *st, const char **why)
{
	if (why)
		*why = st->lost_msg[0] ? st->lost_msg : "no error";
	return st->groups_lost;
}

int
sq_group_end(struct tr_store *st)
{
	int rc = sq_group_commit(st);

	st->grouping = 0;
	return rc;
}

int64_t
store_now(const struct tr_store *st)
{
	return st->fixed_now ? st->fixed_now : (int64_t)time(NULL);
}

void
sq_set_now(struct tr_store *st, int64_t now)
{
	st->fixed_now = now;
}

int
store_bind_text(sqlite3_stmt *s, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

int
store_bind_date(sqlite3_stmt *s, int i, int64_t v)
{
	if (v == TR_DATE_NONE)
		return sqlite3_bind_null(s, i);
	return sqlite3_bind_int64(s, i, v);
}

int64_t
store_col_date(sqlite3_stmt *s, int i)
{
	if (sqlite3_column_type(s, i) == SQLITE_NULL)
		return TR_DATE_NONE;
	return sqlite3_column_int64(s, i);
}

const char *
store_col_text(sqlite3_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s, i);
}

char *
store_col_borrow(sqlite3_stmt *s, int i)
{
	return (char *)(uintptr_t)sqlite3_column_text(s, i);
}

int
store_bump_generation(struct tr_store *st)
{
	sqlite3_stmt *s = store_stmt(st, S_GEN_BUMP);

	if (s == NULL)
		return TR_ESTORE;
	sqlite3_bind_int64(s, 1, store_now(st));
	return store_exec_stmt(st, s, "bumping the generation");
}

int
store_fix_primary(struct tr_store *st, int64_t *changes)
{
	static const enum store_stmt steps[] = {S_PRIMARY_OFF, S_PRIMARY_ON};
	sqlite3_stmt *s;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if ((s = store_stmt(st, steps[i])) == NULL)
			return TR_ESTORE;
		if ((rc = store_exec_stmt(st, s, "deduplicating links")) != 0)
			return rc;
		if (changes)
			*changes += sqlite3_changes(st->db);
	}
	if ((s = store_stmt(st, S_TOUCHED_CLEAR)) == NULL)
		return TR_ESTORE;
	return store_exec_stmt(st, s, "clearing touched links");
}

/* The fts_done mark and the highest article id. */
static int
fts_pending(struct tr_store *st, int64_t *done, int64_t *top)
{
	sqlite3_stmt *s = store_stmt(st, S_FTS_PENDING);
	int rc;

	*done = *top = 0;
	if (s == NULL)
		return TR_ESTORE;
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		*done = sqlite3_column_int64(s, 0);
		*top = sqlite3_column_int64(s, 1);
	}
	sqlite3_reset(s);
	if (rc != SQLITE_ROW)
		return store_dberr(st, "reading the full-text mark");
	return 0;
}

/*
 * Indexes the articles above the fts_done mark in one statement and
 * moves the mark to the highest id, inside the caller's transaction.
 * One bulk insert into FTS5 costs a fraction of a trigger's insert per
 * row: the terms of many rows are merged in memory and written as a few
 * large segments instead of one small segment per document.
 */
int
store_fts_catch_up(struct tr_store *st, int64_t *indexed)
{
	sqlite3_stmt *s;
	int64_t done = 0, top = 0;
	int rc;

	if (indexed)
		*indexed = 0;
	if ((rc = fts_pending(st, &done, &top)) != 0)
		return rc;
	if (top <= done)
		return 0;
	if ((s = store_stmt(st, S_FTS_INDEX)) == NULL)
		return TR_ESTORE;
	sqlite3_bind_int64(s, 1, done);
	if ((rc = store_exec_stmt(st, s, "indexing articles")) != 0)
		return rc;
	if (indexed)
		*indexed = sqlite3_changes64(st->db);
	/* A segment written: the round's share counts them. */
	if (sqlite3_changes64(st->db) > 0)
		st->fts_round_writes++;
	if ((s = store_stmt(st, S_FTS_MARK)) == NULL)
		return TR_ESTORE;
	sqlite3_bind_int64(s, 1, top);
	return store_exec_stmt(st, s, "moving the full-text mark");
}

void
sq_defer_index(struct tr_store *st, int defer)
{
	int was = st->defer_index;

	if (defer && !was)
		st->fts_round_writes = 0; /* a round begins */
	st->defer_index = defer != 0;
	/* A round ends (the writer indexed the rest): its share of merging
	 * the index's segments, so that no later round's insert merges a
	 * whole level at once. A failure loses nothing: the next round's
	 * share is larger. */
	if (!defer && was && sq_maintain(st, 0, NULL) != 0)
		tr_log(TR_LOG_WARN, "store %s: %s (the next round tries "
		    "again)", st->path, st->errmsg);
}

static void upper_levels_step(struct tr_store *st);

int
sq_index(struct tr_store *st)
{
	int64_t n = 0, done = 0, top = 0;
	int rc;

	if (st->readonly)
		return store_err(st, TR_EINVAL,
		    "%s: cannot index through a read-only handle", st->path);
	/* Nothing to do: no write lock taken. */
	if (!st->in_group) {
		if ((rc = fts_pending(st, &done, &top)) != 0)
			return rc;
		if (top <= done)
			return 0;
	}
	/* Inside a group, a savepoint of it. Between groups (the writer
	 * thread indexes right after each group commit) a transaction of
	 * its own, not the start of the next group: FTS5 writes its terms
	 * out once, at its commit. */
	if ((rc = st->in_group ? store_begin(st) : begin_own(st)) != 0)
		return rc;
	if ((rc = store_fts_catch_up(st, &n)) != 0 ||
	    (rc = store_commit(st)) != 0) {
		store_rollback(st);
		return rc;
	}
	if (n > 0)
		tr_log(TR_LOG_DEBUG, "store %s: %lld articles indexed for "
		    "search", st->path, (long long)n);
	if (n > 0 && !st->in_group && st->defer_index)
		upper_levels_step(st);
	return 0;
}

/* --- merging the full-text index --- */

/*
 * FTS5 writes each bulk index (one per group commit in a round) as a
 * segment on level 0, and a merge of a level's segments as one segment
 * a level up. Its incremental merging is off (schema 3: automerge 0,
 * for the cold round's speed), so only its crisis merge bounded the
 * segments: the insert that puts the 16th segment (crisismerge) on a
 * level merges that whole level at once, inside the round's write
 * transaction, and that round alone paid for what many rounds wrote
 * (on level 0 after a cold round, some 2,800 pages: a round's storing
 * CPU half again). sq_maintain() does that work out of the rounds'
 * inserts, in steps: FTS5's 'merge' command with a positive page count
 * merges only a level holding 'usermerge' (default 4) segments or more,
 * or continues a merge it began, so steps between rounds keep every
 * level at a few segments, and a crisis merge is never reached.
 */

/* One step's pages of merge output: one transaction of its own, a few
 * milliseconds, which is the longest a round waits for the write lock
 * because of a merge. */
#define MERGE_STEP_PAGES 64
/* How long a step waits for another writer's lock before giving way. */
#define MERGE_BUSY_MS 100
/* FTS5's crisismerge and usermerge, as the store leaves them, and the
 * most segments the rounds' shares let a level reach (a round may add
 * its own on top): a margin below the crisis. */
#define FTS_CRISIS 16
#define FTS_USERMERGE 4
#define FTS_TARGET 12
_Static_assert(FTS_TARGET < FTS_CRISIS, "the target is below the crisis");
/* The segments a round is taken to add to level 0: the bulk indexes
 * it ran (one per group commit, a quarter of a second: a steady round of
 * 1,000 feeds runs one or two, a longer round more), at least
 * ROUND_SEGS. Level L gains one when a merge of level L-1 ends, so at
 * most that many / FTS_USERMERGE^L a round. */
#define ROUND_SEGS 2

/* SQLite's varint, as FTS5's structure record holds its numbers. */
static int
fts_varint(const unsigned char *p, int n, int *i, int64_t *v)
{
	uint64_t x = 0;
	int k;

	for (k = 0; k < 9; k++) {
		if (*i >= n)
			return -1;
		if (k == 8) {
			x = (x << 8) | p[(*i)++];
			break;
		}
		x = (x << 7) | (p[*i] & 0x7F);
		if (!(p[(*i)++] & 0x80))
			break;
	}
	*v = (int64_t)x;
	return 0;
}

/*
 * Decodes FTS5's structure record (row 10 of articles_fts_data): a
 * 4-byte cookie, then varints: the levels, the segments, a write
 * counter; per level the segments a merge in progress takes (the
 * level's first ones), the level's segments, and per segment its id and
 * first and last leaf page. Decoded here because SQLite has no SQL
 * function for it outside its test builds (fts5_structure). The
 * record's second version (SQLite 3.43 on, with tombstones: a marker
 * after the cookie and five more numbers per segment) is read too.
 * 0, or -1 for bytes that are not such a record (out zeroed).
 */
int
store_fts_shape_decode(const unsigned char *p, int n_bytes,
    struct store_fts_shape *out)
{
	static const unsigned char v2[4] = { 0xff, 0x00, 0x00, 0x01 };
	int64_t nlevel, nseg, x, nmerge, n, id, first, last;
	int i = 4, l, k, j, lv, extra = 0;

	memset(out, 0, sizeof(*out));
	if (p == NULL || n_bytes < 4)
		goto bad;
	if (n_bytes >= 8 && memcmp(p + 4, v2, 4) == 0) {
		i = 8;
		extra = 5;
	}
	if (fts_varint(p, n_bytes, &i, &nlevel) || fts_varint(p, n_bytes, &i,
	    &nseg) || fts_varint(p, n_bytes, &i, &x) || nlevel < 0 ||
	    nlevel > n_bytes)
		goto bad;
	for (l = 0; l < nlevel; l++) {
		lv = l < STORE_FTS_LEVELS ? l : STORE_FTS_LEVELS - 1;
		if (fts_varint(p, n_bytes, &i, &nmerge) ||
		    fts_varint(p, n_bytes, &i, &n) || n < 0 || n > n_bytes ||
		    nmerge < 0 || nmerge > n)
			goto bad;
		for (k = 0; k < n; k++) {
			if (fts_varint(p, n_bytes, &i, &id) ||
			    fts_varint(p, n_bytes, &i, &first) ||
			    fts_varint(p, n_bytes, &i, &last))
				goto bad;
			for (j = 0; j < extra; j++)
				if (fts_varint(p, n_bytes, &i, &x))
					goto bad;
			/* Page numbers are 31-bit in FTS5. */
			x = last >= first && first >= 0 && last < ((int64_t)1
			    << 31) ? last - first + 1 : 0;
			out->pages[lv] += x;
			out->total_pages += x;
			if (k < nmerge)
				out->merging_pages[lv] += x;
		}
		out->segs[lv] += (int)n;
		out->merging[lv] += (int)nmerge;
	}
	out->levels = nlevel < STORE_FTS_LEVELS ? (int)nlevel :
	    STORE_FTS_LEVELS;
	return 0;
bad:
	memset(out, 0, sizeof(*out));
	return -1;
}

/* The index's shape, from its structure record. */
int
store_fts_shape(struct tr_store *st, struct store_fts_shape *out)
{
	sqlite3_stmt *s;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((s = store_stmt(st, S_FTS_SHAPE)) == NULL)
		return TR_ESTORE;
	rc = sqlite3_step(s);
	if (rc == SQLITE_DONE) { /* an index never written */
		sqlite3_reset(s);
		return 0;
	}
	if (rc != SQLITE_ROW) {
		rc = store_dberr(st, "reading the search index's shape");
		sqlite3_reset(s);
		return rc;
	}
	rc = store_fts_shape_decode(sqlite3_column_blob(s, 0),
	    sqlite3_column_bytes(s, 0), out);
	sqlite3_reset(s);
	if (rc != 0)
		return store_err(st, TR_ESTORE, "%s: the search index's "
		    "structure cannot be read: the database may be damaged "
		    "(run `tributary check --store`)", st->path);
	return 0;
}

/*
 * One round's share of merge work, in pages: for each level a merge is
 * due or under way on, its input spread evenly over the rounds left
 * before that level could fill to FTS_TARGET. A level's rounds left grow
 * fourfold a level up, so the large merges of the upper levels (a cold
 * round's pages) cost each round a little, and the share grows as a
 * level fills. Nothing in proportion to what the round itself wrote (as
 * FTS5's automerge pays): that made a cold round merge all it wrote at
 * its end (5.6 % of a 200-feed cold round's instructions under
 * callgrind); the levels' shares cost it 2 % (a level the cold round
 * left at 12 segments merged whole); a round's pages are merged when
 * their level is due, by the rounds after it.
 */
/* base^l, at most 100,000 or so: the segments of level 0 behind one of
 * level l when each merge takes base of them. */
static int64_t
level_weight(int64_t base, int l)
{
	int64_t per = 1;

	while (l-- > 0 && per < 100000)
		per *= base;
	return per;
}

static int64_t
round_share(const struct store_fts_shape *sh, int64_t rate)
{
	int64_t share = 0, in, left, per;
	int l;

	for (l = 0; l < sh->levels; l++) {
		in = sh->merging[l] ? sh->merging_pages[l] :
		    sh->segs[l] >= FTS_USERMERGE ? sh->pages[l] : 0;
		if (in == 0)
			continue;
		/* Level 0 gains `rate` segments a round; level L one per
		 * merge of level L-1, so at most rate / FTS_USERMERGE^L, and
		 * at most one a round (a round's share merges a level at
		 * most once), whatever the rate of a long cold round. */
		left = FTS_TARGET - sh->segs[l];
		if (l == 0)
			left /= rate;
		else {
			per = level_weight(FTS_USERMERGE, l);
			left *= per > rate ? per / rate : 1;
		}
		share += in / (left > 1 ? left : 1) + 1;
	}
	return share;
}

/*
 * The share of merging that keeps a level above level 0 from FTS5's
 * crisis merge while one long round indexes (the catch-up after each
 * group commit, sq_index): 0 unless a level above 0 holds FTS_TARGET
 * segments (its merge under way counts its input only). Level 0 gains
 * a segment per catch-up and reaches the crisis every FTS_CRISIS of
 * them, a cheap merge of small segments; level L gains one per crisis
 * of level L-1. Unchecked, the 256th catch-up of a round (a cold round
 * of some 6,000 feeds) merged the whole of level 1, the round's index
 * so far, inside one insert: at 10,000 feeds a transaction of 700 MB of
 * WAL, its index in shared memory 1.4 MB, the writer stalled for
 * seconds. Here the level's pages are spread over the catch-ups left
 * before it could reach the crisis, each step a small transaction of
 * its own (sq_maintain).
 */
static int64_t
upper_share(const struct store_fts_shape *sh)
{
	int64_t share = 0, in, left;
	int l;

	/* A merge the rounds' shares began (sq_maintain) on a level below
	 * the target is theirs to go on with: FTS5's 'merge' takes the
	 * level with the most segments, level 0 as often as not, and a
	 * steady round would merge more than its share. */
	for (l = 1; l < sh->levels; l++) {
		if (sh->segs[l] < FTS_TARGET)
			continue;
		in = sh->merging[l] ? sh->merging_pages[l] : sh->pages[l];
		left = (FTS_CRISIS - 1 - sh->segs[l]) *
		    level_weight(FTS_CRISIS, l);
		share += in / (left > 1 ? left : 1) + 1;
	}
	return share;
}

/* After a catch-up between groups: upper_share's merging. A failure
 * loses nothing (the next catch-up's share is larger). */
static void
upper_levels_step(struct tr_store *st)
{
	struct store_fts_shape sh;
	int64_t pages;

	if (store_fts_shape(st, &sh) != 0 || (pages = upper_share(&sh)) <= 0)
		return;
	if (sq_maintain(st, pages, NULL) != 0)
		tr_log(TR_LOG_WARN, "store %s: %s (the next group tries "
		    "again)", st->path, st->errmsg);
}

int
sq_maintain(struct tr_store *st, int64_t pages, int *more)
{
	struct store_fts_shape sh;
	sqlite3_stmt *s;
	struct timespec t0, t1;
	int64_t left, step, before, done = 0;
	int rc = 0, finished = 0, busy = 0;

	if (more)
		*more = 0;
	if (st->readonly || st->in_group || sq_damaged(st, NULL))
		return 0;
	if (pages <= 0) {
		if ((rc = store_fts_shape(st, &sh)) != 0)
			return rc;
		pages = round_share(&sh, st->fts_round_writes > ROUND_SEGS ?
		    st->fts_round_writes : ROUND_SEGS);
		st->fts_round_writes = 0;
	}
	if (pages <= 0)
		return 0;
	if ((s = store_stmt(st, S_FTS_MERGE)) == NULL)
		return TR_ESTORE;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
	/* Another writer at work (a round of another process) has the
	 * database first: the merge gives way rather than wait. */
	sqlite3_busy_timeout(st->db, MERGE_BUSY_MS);
	for (left = pages; left > 0; left -= step) {
		step = left < MERGE_STEP_PAGES ? left : MERGE_STEP_PAGES;
		before = sqlite3_total_changes64(st->db);
		if ((rc = begin_own(st)) != 0) {
			if ((sqlite3_extended_errcode(st->db) & 0xff) ==
			    SQLITE_BUSY) {
				st->errmsg[0] = '\0';
				busy = 1;
				rc = 0;
			}
			break;
		}
		sqlite3_bind_int64(s, 1, step);
		rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE) {
			rc = store_dberr(st, "merging the search index");
			store_rollback(st);
			break;
		}
		if ((rc = store_commit(st)) != 0) {
			store_rollback(st);
			break;
		}
		/* FTS5: fewer than 2 changes, nothing was merged. */
		if (sqlite3_total_changes64(st->db) - before < 2) {
			finished = 1;
			break;
		}
		done += step;
	}
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	if (rc == 0 && more)
		*more = !finished;
	if (busy)
		tr_log(TR_LOG_DEBUG, "store %s: search index not merged: "
		    "another writer has the database", st->path);
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
	if (done > 0)
		tr_log(TR_LOG_DEBUG, "store %s: search index merged, about "
		    "%lld pages in %.1f ms of CPU", st->path, (long long)done,
		    (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
	return rc;
}

/* --- open, migrate, close --- */

/* Reads PRAGMA user_version into *v. */
static int
user_version(struct tr_store *st, int *v)
{
	sqlite3_stmt *s = NULL;
	int64_t v64 = 0;
	int rc;

	if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &s,
		NULL) != SQLITE_OK)
		return store_dberr(st, "reading the schema version");
	rc = store_step_int64(st, s, "reading the schema version", &v64);
	sqlite3_finalize(s);
	*v = (int)v64;
	return rc;
}

/* Runs the migrations from the database's version up to ours. */
static int
migrate(struct tr_store *st)
{
	char sql[64];
	int v = 0, from, rc;

	if ((rc = store_exec(st, "BEGIN IMMEDIATE")) != 0)
		return rc;
	/* Again inside the write lock: another process may have migrated. */
	if ((rc = user_version(st, &v)) != 0)
		goto out;
	if (v > SCHEMA_VERSION) {
		rc = store_err(st, TR_ENEWER,
		    "%s: database schema version %d is newer than this "
		    "tributary's (%d); upgrade tributary",
		    st->path, v, SCHEMA_VERSION);
		goto out;
	}
	if (v == 0)
		tr_log(TR_LOG_INFO, "store %s: new database, schema version %d",
		    st->path, SCHEMA_VERSION);
	for (from = v; v < SCHEMA_VERSION; v++) {
		if (from > 0)
			tr_log(TR_LOG_INFO,
			    "store %s: migrating schema %d -> %d", st->path,
			    v, v + 1);
		if ((rc = store_exec(st, migrations[v])) != 0)
			goto out;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", SCHEMA_VERSION);
	if ((rc = store_exec(st, sql)) != 0)
		goto out;
	rc = store_exec(st, "COMMIT");
out:
	if (rc != 0)
		store_rollback(st);
	return rc;
}


/*
 * Switches the file to WAL (a no-op once it is). SQLite does not call
 * the busy handler here: the switch runs inside the statement's own read
 * transaction, so a process opening a new file while another switches or
 * migrates it got "database is locked" at once. Retried as long as the
 * busy handler would wait.
 */
static int
journal_wal(struct tr_store *st)
{
	int waited, rc;

	for (waited = 0;; waited += 10) {
		if ((rc = store_exec(st, "PRAGMA journal_mode = WAL")) == 0 ||
		    (sqlite3_extended_errcode(st->db) & 0xff) != SQLITE_BUSY ||
		    waited >= STORE_OPEN_BUSY_MS)
			return rc;
		sqlite3_sleep(10);
	}
}

/* tr_body_text(summary, content): store_body_text() for SQL. */
static void
sql_body_text(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const char *summary = (const char *)sqlite3_value_text(argv[0]);
	const char *content = (const char *)sqlite3_value_text(argv[1]);
	struct tr_buf b;
	int rc;

	(void)argc;
	tr_buf_init(&b, (size_t)16 << 20);
	rc = store_body_text(&b, summary, content);
	if (rc == TR_ENOMEM)
		sqlite3_result_error_nomem(ctx);
	else if (b.len == 0)
		sqlite3_result_null(ctx);
	else /* past the cap: what fit */
		sqlite3_result_text(ctx, b.data, (int)b.len, SQLITE_TRANSIENT);
	tr_buf_free(&b);
}

/*
 * The SQL function schema 9's migration derives the text of stored
 * bodies with (the store's own Gumbo parser; SQLite has none), on the
 * migrating connection only: no schema object refers to it.
 */
static int
body_text_function(struct tr_store *st)
{
	if (sqlite3_create_function_v2(st->db, "tr_body_text", 2,
		SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
		sql_body_text, NULL, NULL, NULL) != SQLITE_OK)
		return store_dberr(st, "migrating the schema");
	return 0;
}

/* Settings of every connection; journal mode and schema for writers. */
static int
setup(struct tr_store *st)
{
	int v = 0, rc;

	/* Opening waits longer; sq_open sets STORE_BUSY_MS at its end. */
	sqlite3_busy_timeout(st->db, STORE_OPEN_BUSY_MS);
	sqlite3_extended_result_codes(st->db, 1);
	/* Check the version before anything writes (WAL changes the file). */
	if ((rc = user_version(st, &v)) != 0)
		return rc;
	if (v > SCHEMA_VERSION)
		return store_err(st, TR_ENEWER,
		    "%s: database schema version %d is newer than this "
		    "tributary's (%d); upgrade tributary, the file was not "
		    "changed",
		    st->path, v, SCHEMA_VERSION);
	/*
	 * A bigger page cache than SQLite's 2 MiB default, 4 MiB, on every
	 * connection. The writer updates index pages spread over the whole
	 * file (dates, links, identities), but at 10,000 feeds those indexes
	 * are some 30 MB each, so a random lookup misses its leaf page
	 * whatever cache fits a round's memory target (under 32 MB of
	 * resident memory for a 10,000-feed round): what must stay cached
	 * are the interior pages and the tails the inserts append to, and 4
	 * MiB holds them. Measured on a cold round of 10,000 feeds (bench/
	 * notes poll.10000.rss): 16 MiB cost 12 MB more resident memory for
	 * 3.5 % less CPU.
	 */
	if ((rc = store_exec(st, "PRAGMA foreign_keys = ON;"
				 "PRAGMA cache_size = -4096")) != 0)
		return rc;
	/*
	 * Never memory-mapped I/O on the database file, whatever SQLite's
	 * build default: an I/O error on a mapping (a failing disk, a file
	 * truncated or a volume gone) is a SIGBUS that kills the process,
	 * where read(2) returns an error the store reports with the file's
	 * name. (The WAL index, DB-shm, is always mapped: see
	 * tr_store_trap_io_faults.)
	 */
	if ((rc = store_exec(st, "PRAGMA mmap_size = 0")) != 0)
		return rc;
	if (st->readonly) {
		if (v < SCHEMA_VERSION)
			return store_err(st, TR_ESTORE,
			    "%s: database schema version %d is older than "
			    "%d%s; run 'tributary fetch' or 'tributary serve' "
			    "once to migrate it",
			    st->path, v, SCHEMA_VERSION,
			    v == 0 ? " (no tributary schema)" : "");
		return 0;
	}
	/*
	 * Checkpoints every 4000 WAL pages (16 MiB) instead of SQLite's
	 * 1000: a document commit writes ~80 pages, many of them the same
	 * index and FTS pages again, and a checkpoint copies each page once
	 * however often it is in the WAL, so a polling round writes a third
	 * fewer pages into the database file. journal_size_limit truncates
	 * a WAL that a long reader let grow beyond that back to 32 MiB.
	 */
	if ((rc = journal_wal(st)) != 0 ||
	    (rc = store_exec(st, "PRAGMA synchronous = NORMAL;"
				 "PRAGMA wal_autocheckpoint = 4000;"
				 "PRAGMA journal_size_limit = 33554432")) != 0)
		return rc;
	if (v < SCHEMA_VERSION && (rc = body_text_function(st)) != 0)
		return rc;
	if (v < SCHEMA_VERSION && (rc = migrate(st)) != 0)
		return rc;
	if ((rc = store_exec(st, temp_schema)) != 0)
		return rc;
	return 0;
}

/*
 * Statement journals (the undo log of one statement inside a transaction:
 * every multi-row write of a document commit has one, the FTS triggers
 * write into it too, and inside a group commit each write's savepoint
 * journals every page it changes) stay in memory up to this size, and
 * only a bigger one goes to a temporary file. SQLite's default of 64 KiB
 * sent most document commits to a new file under /var/tmp: an open,
 * writes and an unlink per feed, about 40 writes each, the largest share
 * of a polling round's system time after the WAL itself.
 *
 * SQLite's memory journal keeps its content in chunks of this size and
 * copies each to the temporary file in one write when it spills; the
 * unix VFS cannot write more than 128 KiB at once and reported such a
 * write as "database or disk is full". store_vfs.c hands statement
 * journal writes down in pieces, so the threshold may be larger. The
 * chunk is allocated whole at a journal's first write, so the size is
 * also resident memory: 1 MiB, where no statement journal of a cold
 * round of 1,000 feeds spilled (84 of them did at 256 KiB), rather than
 * the 4 MiB it was.
 */
#define STMT_JOURNAL_SPILL (1 << 20)

/*
 * Process-wide and only possible before SQLite initializes, so the first
 * open does it (SQLITE_MISUSE when something else initialized SQLite
 * first: the default stays, which is slower but correct).
 */
static void
configure_sqlite(void)
{
	int rc = sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL,
	    STMT_JOURNAL_SPILL);

	if (rc != SQLITE_OK)
		tr_log(TR_LOG_DEBUG, "store: statement journal spill size "
		    "left at SQLite's default (%s)", sqlite3_errstr(rc));
	/* After the configuration: this initializes SQLite. */
	if ((rc = store_vfs_register()) != SQLITE_OK)
		tr_log(TR_LOG_WARN, "store: the statement journal VFS could "
		    "not be registered (%s); large writes may fail",
		    sqlite3_errstr(rc));
}

/* --- I/O errors on memory-mapped files --- */

/*
 * The line the SIGBUS handler writes, made when the first store opens
 * (the handler may only call async-signal-safe functions: write, _exit).
 */
static pthread_mutex_t fault_mu = PTHREAD_MUTEX_INITIALIZER;
static char fault_line[1200];
static volatile size_t fault_len;

static void
fault_line_set(const char *path)
{
	char msg[1100];

	pthread_mutex_lock(&fault_mu);
	if (fault_len == 0 && strcmp(path, ":memory:") != 0) {
		snprintf(msg, sizeof(msg),
		    "store %s: I/O error in the database's memory-mapped WAL "
		    "index (%s-shm: truncated, removed or on a failing "
		    "disk); stopping: restart tributary, which rebuilds the "
		    "index from the WAL",
		    path, path);
		fault_len = tr_log_format_line(fault_line, sizeof(fault_line),
		    TR_LOG_ERROR, msg, getenv("JOURNAL_STREAM") != NULL);
	}
	pthread_mutex_unlock(&fault_mu);
}

/* The value of the hex digits at *p (advanced past them). */
static uintptr_t
hex_at(const char **p, const char *end)
{
	uintptr_t v = 0;
	char c;

	for (; *p < end; (*p)++) {
		c = **p;
		if (c >= '0' && c <= '9')
			v = v * 16 + (uintptr_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v = v * 16 + (uintptr_t)(c - 'a' + 10);
		else
			break;
	}
	return v;
}

/*
 * Whether addr lies in a mapping of a file whose name ends in "-shm"
 * (a WAL index), from /proc/self/maps; only async-signal-safe calls.
 * -1 when that cannot be told.
 */
static int
in_wal_index(uintptr_t addr)
{
	static char maps[1 << 16];
	const char *p, *line, *end, *eol;
	ssize_t n, got = 0;
	int fd = open("/proc/self/maps", O_RDONLY);

	if (fd < 0)
		return -1;
	while (got < (ssize_t)sizeof(maps) &&
	    (n = read(fd, maps + got, sizeof(maps) - (size_t)got)) > 0)
		got += n;
	close(fd);
	end = maps + got;
	for (line = maps; line < end; line = eol + 1) {
		uintptr_t lo, hi;

		for (eol = line; eol < end && *eol != '\n'; eol++)
			;
		p = line;
		lo = hex_at(&p, eol);
		if (p < eol && *p == '-')
			p++;
		hi = hex_at(&p, eol);
		if (addr >= lo && addr < hi)
			return eol - line > 4 && memcmp(eol - 4, "-shm", 4) == 0;
	}
	return 0;
}

static void
on_sigbus(int sig, siginfo_t *si, void *ctx)
{
	static const char other[] = "tributary: error: SIGBUS outside the "
				    "database's WAL index; stopping\n";
	ssize_t n;

	(void)sig;
	(void)ctx;
	if (fault_len > 0 && in_wal_index((uintptr_t)si->si_addr) != 0)
		n = write(STDERR_FILENO, fault_line, fault_len);
	else
		n = write(STDERR_FILENO, other, sizeof(other) - 1);
	(void)n;
	_exit(1);
}

void
tr_store_trap_io_faults(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, NULL);
}

/* --- the database file itself --- */

static int
ignore_problem(const char *problem, void *arg)
{
	(void)problem;
	(void)arg;
	return 0;
}

/* Records which file the handle opened (nothing for a memory database). */
static void
file_identify(struct tr_store *st)
{
	struct stat sb;
	const char *file = sqlite3_db_filename(st->db, "main");

	if (file == NULL || *file == '\0' || stat(file, &sb) != 0)
		return;
	st->file_dev = sb.st_dev;
	st->file_ino = sb.st_ino;
}

int
sq_file_check(const struct tr_store *st, char *why, size_t size)
{
	struct stat sb;
	int gone;

	if (st->file_ino == 0)
		return 0;
	if (stat(st->path, &sb) == 0) {
		if (sb.st_dev == st->file_dev && sb.st_ino == st->file_ino &&
		    sb.st_nlink > 0)
			return 0;
		gone = 0;
	} else if (errno == ENOENT || errno == ENOTDIR) {
		gone = 1;
	} else {
		return 0; /* cannot tell (EACCES, EIO): the next I/O says */
	}
	snprintf(why, size, "%s: the database file was deleted or replaced "
	    "while in use (%s); what is written now would be lost: restart "
	    "tributary to use the file that is there",
	    st->path, gone ? "it is gone" : "another file is there now");
	return TR_ESTORE;
}

/*
 * A WAL database is read through its WAL index (DB-shm), which a reader
 * creates when no process has the database open: in a folder it may not
 * write, that fails ("attempt to write a readonly database") although
 * reading needs no write. With no DB-wal file no process is writing (a
 * writer keeps one while it has the database open), so the file is
 * read as it is, as SQLite's immutable file: no WAL index, no locks.
 * rc is setup()'s failure, returned unchanged when this does not apply.
 */
static int
reopen_immutable(struct tr_store *st, int rc)
{
	static const char keep[] = "/-._~";
	struct tr_buf uri;
	struct stat sb;
	const unsigned char *p;
	int code = st->db ? sqlite3_extended_errcode(st->db) & 0xff : 0;
	char wal[4096];

	if (code != SQLITE_READONLY && code != SQLITE_CANTOPEN)
		return rc;
	snprintf(wal, sizeof(wal), "%s-wal", st->path);
	if (stat(wal, &sb) == 0)
		return rc;
	/* A file: URI of the path, every other byte percent-encoded. */
	tr_buf_init(&uri, 3 * sizeof(wal));
	tr_buf_adds(&uri, "file:");
	for (p = (const unsigned char *)st->path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(keep, *p))
			tr_buf_addc(&uri, (char)*p);
		else
			tr_buf_printf(&uri, "%%%02X", *p);
	}
	if (tr_buf_adds(&uri, "?immutable=1") != 0) {
		tr_buf_free(&uri);
		return rc;
	}
	sqlite3_close(st->db);
	st->db = NULL;
	if (sqlite3_open_v2(uri.data, &st->db, SQLITE_OPEN_READONLY |
		SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		tr_buf_free(&uri);
		return store_err(st, TR_ESTORE, "%s: cannot open database: %s",
		    st->path, st->db ? sqlite3_errmsg(st->db) : "out of memory");
	}
	tr_buf_free(&uri);
	tr_log(TR_LOG_DEBUG, "store %s: read as it is (no writer, and no "
	    "WAL index can be made in its folder)", st->path);
	return setup(st);
}

/* --- feed leases --- */

/* Takes name's lease from a dead owner of this host; 1 when taken. */
static int
claim_from_dead(struct tr_store *st, const char *name, const int64_t *seen,
    int64_t until, int *rc)
{
	sqlite3_stmt *s = store_stmt(st, S_LEASE_HOLDER);
	char holder[sizeof(st->owner)] = "";

	*rc = 0;
	if (s == NULL) {
		*rc = TR_ESTORE;
		return 0;
	}
	store_bind_text(s, 1, name);
	if (sqlite3_step(s) == SQLITE_ROW && store_col_text(s, 0) != NULL)
		snprintf(holder, sizeof(holder), "%s", store_col_text(s, 0));
	sqlite3_reset(s);
	if (holder[0] == '\0' || !store_owner_dead(holder))
		return 0;
	if ((s = store_stmt(st, S_LEASE_STEAL)) == NULL) {
		*rc = TR_ESTORE;
		return 0;
	}
	store_bind_text(s, 1, name);
	store_bind_text(s, 2, st->owner);
	store_bind_text(s, 3, holder);
	sqlite3_bind_int64(s, 4, until);
	if (seen != NULL)
		sqlite3_bind_int64(s, 5, *seen);
	if ((*rc = store_exec_stmt(st, s, "claiming a feed")) != 0)
		return 0;
	if (sqlite3_changes(st->db) == 0)
		return 0;
	tr_log(TR_LOG_INFO, "feed %s: taken over from %s, which no longer "
	    "runs", name, holder);
	return 1;
}

const char *
sq_owner(const struct tr_store *st)
{
	return st->owner;
}

int
sq_claim(struct tr_store *st, const char *const *names, const int64_t *seen,
    size_t n, int64_t now, int64_t ttl, unsigned char *claimed)
{
	sqlite3_stmt *s;
	size_t i;
	int rc;

	memset(claimed, 0, n);
	if (st->readonly)
		return store_err(st, TR_EINVAL,
		    "%s: cannot claim feeds through a read-only handle",
		    st->path);
	if (n == 0)
		return 0;
	if ((rc = store_begin(st)) != 0)
		return rc;
	for (i = 0; i < n; i++) {
		if ((s = store_stmt(st, S_LEASE_TAKE)) == NULL) {
			rc = TR_ESTORE;
			break;
		}
		store_bind_text(s, 1, names[i]);
		store_bind_text(s, 2, st->owner);
		sqlite3_bind_int64(s, 3, now);
		sqlite3_bind_int64(s, 4, now + ttl);
		if (seen != NULL)
			sqlite3_bind_int64(s, 5, seen[i]);
		if ((rc = store_exec_stmt(st, s, "claiming a feed")) != 0)
			break;
		claimed[i] = sqlite3_changes(st->db) > 0;
		if (!claimed[i])
			claimed[i] = (unsigned char)claim_from_dead(st,
			    names[i], seen ? &seen[i] : NULL, now + ttl, &rc);
		if (rc != 0)
			break;
	}
	if (rc == 0)
		rc = store_commit(st);
	if (rc != 0) {
		store_rollback(st);
		memset(claimed, 0, n);
	}
	return rc;
}

int
sq_release(struct tr_store *st)
{
	sqlite3_stmt *s;
	int rc;

	if (st->readonly)
		return 0;
	if ((rc = store_begin(st)) != 0)
		return rc;
	if ((s = store_stmt(st, S_LEASE_DROP)) == NULL) {
		rc = TR_ESTORE;
	} else {
		store_bind_text(s, 1, st->owner);
		rc = store_exec_stmt(st, s, "releasing feeds");
	}
	if (rc == 0)
		rc = store_commit(st);
	if (rc != 0)
		store_rollback(st);
	return rc;
}

/* Whether path names a file of the file system (not ":memory:", "" or a
 * "file:" URI). */
static int
is_file_path(const char *path)
{
	return path[0] != '\0' && strcmp(path, ":memory:") != 0 &&
	       strncmp(path, "file:", 5) != 0;
}

/*
 * A writer about to create the database at path: refuses when what a
 * previous database leaves next to it is there (its -wal or -shm, or
 * the marker every writer keeps beside the file), since the database
 * was deleted or moved away and an empty one would take its place
 * unnoticed.
 */
static int
check_gone(struct tr_store *st, const char *path)
{
	static const char *const left[] = {MARKER_SUFFIX, "-wal", "-shm"};
	char f[4096], all[3 * 4096 + 16];
	size_t i;
	int found = 0;

	all[0] = '\0';
	for (i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
		snprintf(f, sizeof(f), "%s%s", path, left[i]);
		if (access(f, F_OK) != 0)
			continue;
		if (found++)
			strcat(all, ", ");
		strcat(all, f);
	}
	if (!found)
		return 0;
	return store_err(st, TR_ESTORE,
	    "%s: the database is missing, but %s of a previous one %s "
	    "there (was it deleted or moved away?): restore it from a "
	    "backup, or, to start with an empty store, remove %s",
	    path, all, found > 1 ? "are" : "is", all);
}

static const char marker_text[] =
    "A tributary database lives beside this file. If the database\n"
    "is gone while this file is here, tributary refuses to create\n"
    "an empty one in its place: restore the database from a\n"
    "backup, or remove this file to start with an empty store.\n";

/*
 * The check as a writer opens (sq_open) reads every page of the file
 * once: a third of a second per 100 MB when the file is in the page
 * cache, seconds when it is not, in every `tributary fetch`, however
 * little the round then stores (a steady round of 1,000 feeds, 100 of
 * them with one new item, spent most of its time there). So a writer
 * that closes the store cleanly (the check passed or was skipped, no
 * damage seen since, and it was the last connection: SQLite checkpointed
 * the WAL into the file and removed it) appends the file's identity,
 * size and change times to the marker's text, and an open that finds
 * the file exactly so, with an empty WAL, skips the check: nothing has
 * written to the file since it was last read whole. Anything that writes
 * the file (another process, a restored backup, bytes overwritten by
 * hand) changes its times; `tributary check --store` reads every page
 * whatever the stamp says.
 */
#define STAMP_TAG "checked "
#ifndef CLOCK_REALTIME_COARSE
#define CLOCK_REALTIME_COARSE CLOCK_REALTIME /* not Linux: the only one */
#endif

static void
stamp_line(char *buf, size_t size, const struct stat *sb)
{
	snprintf(buf, size,
	    STAMP_TAG "%ju %ju %jd %jd.%09ld %jd.%09ld\n",
	    (uintmax_t)sb->st_dev, (uintmax_t)sb->st_ino,
	    (intmax_t)sb->st_size, (intmax_t)sb->st_mtim.tv_sec,
	    sb->st_mtim.tv_nsec, (intmax_t)sb->st_ctim.tv_sec,
	    sb->st_ctim.tv_nsec);
}

/* 1 when the marker's stamp matches the database file as it is now and
 * the file's WAL holds nothing, else 0 (then the open checks). */
static int
unchanged_since_checked(const char *path)
{
	char f[4096], want[256], got[1024];
	const char *p;
	struct stat sb;
	ssize_t n;
	int fd;

	snprintf(f, sizeof(f), "%s-wal", path);
	if (stat(f, &sb) == 0 && sb.st_size > 0)
		return 0;
	if (stat(path, &sb) != 0)
		return 0;
	snprintf(f, sizeof(f), "%s%s", path, MARKER_SUFFIX);
	if ((fd = open(f, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, got, sizeof(got) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	got[n] = '\0';
	stamp_line(want, sizeof(want), &sb);
	return (p = strstr(got, STAMP_TAG)) != NULL && strcmp(p, want) == 0;
}

/*
 * After a writer's sqlite3_close: the marker's text, with the stamp when
 * checked says the file was sound and the WAL is gone (no other
 * connection). Without a marker (removed meanwhile) nothing is written.
 * A write in the same tick of a coarse file clock as the last look could
 * leave the times as they were, so the stamp waits (a few milliseconds
 * at most) until the clock has passed the file's change time and looks
 * once more.
 */
static void
stamp_after_close(const char *path, int checked)
{
	char f[4096], line[256] = "", again[256];
	struct timespec now, nap = {0, 2000000};
	struct stat sb;
	int fd, i;

	snprintf(f, sizeof(f), "%s-wal", path);
	if (checked && access(f, F_OK) != 0 && stat(path, &sb) == 0) {
		stamp_line(line, sizeof(line), &sb);
		for (i = 0; i < 50; i++) {
			clock_gettime(CLOCK_REALTIME_COARSE, &now);
			if (now.tv_sec > sb.st_ctim.tv_sec ||
			    (now.tv_sec == sb.st_ctim.tv_sec &&
				now.tv_nsec > sb.st_ctim.tv_nsec))
				break;
			nanosleep(&nap, NULL);
		}
		if (i == 50 || stat(path, &sb) != 0)
			line[0] = '\0';
		stamp_line(again, sizeof(again), &sb);
		if (strcmp(line, again) != 0)
			line[0] = '\0';
	}
	snprintf(f, sizeof(f), "%s%s", path, MARKER_SUFFIX);
	if ((fd = open(f, O_WRONLY | O_TRUNC | O_CLOEXEC)) < 0)
		return;
	if (write(fd, marker_text, sizeof(marker_text) - 1) < 0 ||
	    (line[0] && write(fd, line, strlen(line)) < 0))
		tr_log(TR_LOG_DEBUG, "store %s: marker: %s", path,
		    strerror(errno));
	close(fd);
}

/* Leaves the marker beside the database (see check_gone). */
static void
mark_file(const char *path)
{
	const char *text = marker_text;
	char f[4096];
	int fd;

	snprintf(f, sizeof(f), "%s%s", path, MARKER_SUFFIX);
	if (access(f, F_OK) == 0)
		return;
	if ((fd = open(f, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640)) < 0) {
		tr_log(TR_LOG_DEBUG, "store %s: marker: %s", path,
		    strerror(errno));
		return;
	}
	if (write(fd, text, sizeof(marker_text) - 1) < 0)
		tr_log(TR_LOG_DEBUG, "store %s: marker: %s", path,
		    strerror(errno));
	close(fd);
}

int
sq_open(struct tr_store **out, const char *path, int flags)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	struct tr_store *st;
	int oflags, rc, created = 0;

	*out = NULL;
	pthread_once(&once, configure_sqlite);
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return TR_ENOMEM;
	st->ops = &store_sqlite_ops;
	*out = st;
	if ((st->path = strdup(path)) == NULL)
		return store_err(st, TR_ENOMEM, "out of memory");
	st->readonly = (flags & TR_STORE_READONLY) != 0;
	st->next_batch = 1;
	store_owner_name(st->owner, sizeof(st->owner));
	oflags = st->readonly ? SQLITE_OPEN_READONLY
			      : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
	oflags |= SQLITE_OPEN_NOMUTEX;
	if (!st->readonly && is_file_path(path) && access(path, F_OK) != 0 &&
	    errno == ENOENT) {
		if ((rc = check_gone(st, path)) != 0)
			return rc;
		created = 1;
	}
	rc = sqlite3_open_v2(path, &st->db, oflags, NULL);
	if (rc != SQLITE_OK) {
		rc = (rc & 0xff) == SQLITE_CANTOPEN && st->readonly
			 ? TR_ENOTFOUND
			 : TR_ESTORE;
		return store_err(st, rc, "%s: cannot open database: %s%s", path,
		    st->db ? sqlite3_errmsg(st->db) : "out of memory",
		    rc == TR_ESTORE && !st->readonly
			? " (does its folder exist, and may it be written?)"
			: "");
	}
	if ((rc = setup(st)) != 0 && st->readonly &&
	    (rc = reopen_immutable(st, rc)) != 0)
		return rc;
	if (rc != 0)
		return rc;
	file_identify(st);
	fault_line_set(path);
	if (created && !(flags & TR_STORE_NEW))
		tr_log(TR_LOG_WARN, "store %s: there was no database: created "
		    "a new, empty one", path);
	if (!st->readonly && st->file_ino != 0)
		mark_file(path);
	/* Damage in the middle of the file shows only when a query reads
	 * that page: look at every page once, where it is cheap (one read
	 * of the file), so that nothing is written into a damaged one. */
	if (st->file_ino != 0 && (!st->readonly || (flags & TR_STORE_CHECK))) {
		if (unchanged_since_checked(path))
			tr_log(TR_LOG_DEBUG, "store %s: unchanged since it was "
			    "last checked", path);
		else if ((rc = sq_check(st, 0, ignore_problem, NULL)) != 0)
			return rc;
		st->checked = 1;
	}
	sqlite3_busy_timeout(st->db, STORE_BUSY_MS);
	st->errmsg[0] = '\0';
	return 0;
}

void
sq_close(struct tr_store *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < S__COUNT; i++)
		sqlite3_finalize(st->stmt[i]);
	store_query_finalize(st);
	if (st->db && sqlite3_close(st->db) != SQLITE_OK)
		tr_log(TR_LOG_WARN, "store %s: close: %s", st->path,
		    sqlite3_errmsg(st->db));
	else if (!st->readonly && st->file_ino != 0)
		stamp_after_close(st->path,
		    st->checked && !atomic_load(&st->damaged));
	free(st->path);
	free(st);
}

/* --- generation, next due, statistics --- */

/* PRAGMA data_version of the main database into *dv. */
static int
data_version(struct tr_store *st, int64_t *dv)
{
	sqlite3_stmt *s = store_stmt(st, S_DATA_VERSION);

	if (s == NULL)
		return TR_ESTORE;
	return store_step_int64(st, s, "reading the data version", dv);
}

int
sq_generation(struct tr_store *st, int64_t *gen, int64_t *changed_at)
{
	sqlite3_stmt *s;
	int64_t dv = 0;
	int rc = 0;

	/* A read-only handle never commits, so its data_version moves only
	 * when another connection does: one pragma instead of the query on
	 * meta while nothing changed (every conditional request asks). */
	if (st->readonly) {
		if ((rc = data_version(st, &dv)) != 0)
			return rc;
		if (st->gen_cached && dv == st->gen_dv)
			goto answer;
	}
	if ((s = store_stmt(st, S_GEN_GET)) == NULL)
		return TR_ESTORE;
	if (sqlite3_step(s) == SQLITE_ROW) {
		st->gen_value = sqlite3_column_int64(s, 0);
		st->gen_changed_at = sqlite3_column_int64(s, 1);
		/* Read after the version: a commit in between only makes the
		 * next call read meta again. */
		st->gen_dv = dv;
		st->gen_cached = st->readonly;
	} else
		rc = store_dberr(st, "reading the generation");
	sqlite3_reset(s);
	if (rc != 0)
		return rc;
answer:
	if (gen)
		*gen = st->gen_value;
	if (changed_at)
		*changed_at = st->gen_changed_at;
	return 0;
}

int
sq_next_due(struct tr_store *st, int64_t *when)
{
	sqlite3_stmt *s = store_stmt(st, S_NEXT_DUE);

	*when = 0;
	if (s == NULL)
		return TR_ESTORE;
	return store_step_int64(st, s, "reading the next due feed", when);
}

int
sq_feeds_stamp(struct tr_store *st, int64_t *stamp, int64_t *latest)
{
	sqlite3_stmt *s = store_stmt(st, S_FEEDS_STAMP);
	int rc = 0;

	*stamp = *latest = 0;
	if (s == NULL)
		return TR_ESTORE;
	if (sqlite3_step(s) == SQLITE_ROW) {
		*stamp = sqlite3_column_int64(s, 0);
		*latest = sqlite3_column_int64(s, 1);
	} else
		rc = store_dberr(st, "reading the feeds' state");
	sqlite3_reset(s);
	return rc;
}

int
sq_stats(struct tr_store *st, struct tr_store_stats *out)
{
	sqlite3_stmt *s = store_stmt(st, S_STATS);
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (s == NULL)
		return TR_ESTORE;
	if (sqlite3_step(s) == SQLITE_ROW) {
		out->feeds = sqlite3_column_int64(s, 0);
		out->feeds_active = sqlite3_column_int64(s, 1);
		out->feeds_disabled = sqlite3_column_int64(s, 2);
		out->feeds_failing = sqlite3_column_int64(s, 3);
		out->articles = sqlite3_column_int64(s, 4);
	} else
		rc = store_dberr(st, "reading statistics");
	sqlite3_reset(s);
	return rc;
}

/* clang-format off */
const struct store_ops store_sqlite_ops = {
	.version = STORE_OPS_VERSION,
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.file_check = sq_file_check,
	.damaged = sq_damaged,
	.check = sq_check,
	.errmsg = sq_errmsg,
	.set_now = sq_set_now,
	.sync_config = sq_sync_config,
	.config_seen = sq_config_seen,
	.listed_elsewhere = sq_listed_elsewhere,
	.use_config = sq_use_config,
	.purge = sq_purge,
	.owner = sq_owner,
	.claim = sq_claim,
	.release = sq_release,
	.hosts_open = sq_hosts_open,
	.host_take = sq_host_take,
	.host_give = sq_host_give,
	.hosts_flush = sq_hosts_flush,
	.hosts_errmsg = sq_hosts_errmsg,
	.hosts_close = sq_hosts_close,
	.feed_get = sq_feed_get,
	.feed_save = sq_feed_save,
	.feeds = sq_feeds,
	.feed_states = sq_feed_states,
	.batch_begin = sq_batch_begin,
	.batch_add = sq_batch_add,
	.batch_add_prepared = sq_batch_add_prepared,
	.batch_keep = sq_batch_keep,
	.batch_commit = sq_batch_commit,
	.batch_free = sq_batch_free,
	.defer_index = sq_defer_index,
	.index = sq_index,
	.maintain = sq_maintain,
	.group_begin = sq_group_begin,
	.group_commit = sq_group_commit,
	.group_end = sq_group_end,
	.group_open = sq_group_open,
	.groups_lost = sq_groups_lost,
	.query = sq_query,
	.generation = sq_generation,
	.next_due = sq_next_due,
	.feeds_stamp = sq_feeds_stamp,
	.retention = sq_retention,
	.stats = sq_stats,
	.copy_snapshot = sq_copy_snapshot,
	.copy_read = sq_copy_read,
	.copy_count = sq_copy_count,
	.copy_begin = sq_copy_begin,
	.copy_put_begin = sq_copy_put_begin,
	.copy_put = sq_copy_put,
	.copy_put_end = sq_copy_put_end,
	.copy_finish = sq_copy_finish,
	.copy_abort = sq_copy_abort,
	.copy_remove = sq_copy_remove,
	.bodies_open = sq_bodies_open,
	.bodies_get = sq_bodies_get,
	.bodies_close = sq_bodies_close,
};
/* clang-format on */
