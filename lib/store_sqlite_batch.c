/*
 * store_batch.c — storing one fetched document.
 *
 * A batch stages its items in temp.stage on the writer's connection,
 * keyed by (batch id, identity): the temp database lives in a file
 * (temp_store = FILE), so a huge document does not sit in memory, and
 * INSERT OR REPLACE makes the last item of an identity win within one
 * document. Batches of several feeds can be staged interleaved; only
 * sq_batch_commit() touches the main database, in one transaction
 * that applies every staged item of its batch or none:
 *
 *   1. record the canonical links about to change (temp.touched);
 *   2. update rows whose content hash changed (first_seen kept);
 *   3. insert rows of new identities;
 *   4. move the in_latest marks to exactly the document's identities;
 *   5. recompute the primary row of every touched canonical link;
 *   6. store the document's title and site link;
 *   7. bump the generation when any of this wrote a row;
 *   8. unless the handle defers it, add the new rows (and any an earlier
 *      deferred round left) to the full-text index.
 *
 * Each step only writes rows whose values change, so an unchanged
 * document writes nothing (tr_store_result.changes is 0). An item equal
 * to its stored row (tr_store_prep_keep: its bodies taken from the row,
 * its content hash the row's) is staged as its identity and hash alone
 * (kept = 1): steps 1-3 pass it by, step 4 counts it, and the count of
 * staged rows first checks that every kept row is still as the parser
 * found it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"
#include "tributary/error.h"
#include "tributary/log.h"
#include "tributary/url.h"

/* Staged rows per temp commit (see struct tr_store). */
#define STAGE_FLUSH 1000

struct tr_store_batch {
	const struct store_ops *ops; /* first: &store_sqlite_ops */
	struct tr_store *st;
	int64_t id;
	int64_t epoch; /* st->stage_epoch at the start */
	int committed;
	int64_t feed_id;
	char *feed_name;
	struct tr_store_prep prep; /* reused by tr_store_batch_add */
	int64_t n_fresh; /* articles with a raw hash, sanitized afresh */
};

int
sq_batch_begin(struct tr_store_batch **out, struct tr_store *st,
    const char *feed_name)
{
	struct tr_store_batch *b;
	sqlite3_stmt *s;
	int rc;

	*out = NULL;
	if (st->readonly)
		return store_err(st, TR_EINVAL,
		    "%s: cannot store articles through a read-only handle",
		    st->path);
	if ((s = store_stmt(st, S_FEED_ID)) == NULL)
		return TR_ESTORE;
	store_bind_text(s, 1, feed_name);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		if (rc == SQLITE_DONE)
			return store_err(st, TR_ENOTFOUND,
			    "%s: no feed named %s", st->path, feed_name);
		return store_dberr(st, "looking up a feed");
	}
	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->feed_name = strdup(feed_name)) == NULL) {
		sqlite3_reset(s);
		free(b);
		return store_err(st, TR_ENOMEM, "out of memory");
	}
	b->feed_id = sqlite3_column_int64(s, 0);
	sqlite3_reset(s);
	b->ops = &store_sqlite_ops;
	b->st = st;
	b->id = st->next_batch++;
	b->epoch = st->stage_epoch;
	tr_store_prep_init(&b->prep);
	*out = b;
	return 0;
}

/* Binds a list's JSON, or NULL when the list is empty. */
static void
bind_list(sqlite3_stmt *s, int i, const struct tr_buf *json)
{
	if (json->len == 0)
		sqlite3_bind_null(s, i);
	else
		sqlite3_bind_text(s, i, json->data, (int)json->len,
		    SQLITE_STATIC);
}

int
sq_batch_add(struct tr_store_batch *b, const struct tr_article *a)
{
	int rc;

	if ((rc = tr_store_prep(&b->prep, a)) != 0)
		return store_err(b->st, rc, "feed %s: article %s: %s",
		    b->feed_name, a->id ? a->id : "", tr_strerror(rc));
	return sq_batch_add_prepared(b, a, &b->prep);
}

/*
 * An item that names itself in no way (no guid, no link) was stored under
 * "hash:..." before such items got urn:uuid: ids (tr_article_identity).
 * When one is stored again, its old row takes the new id, so the item is
 * not stored twice; once renamed, the statement matches nothing. Such
 * items are rare, so the statement is not kept prepared.
 */
static int
adopt_legacy_id(struct tr_store_batch *b, const struct tr_article *a)
{
	char legacy[TR_ARTICLE_LEGACY_ID];
	sqlite3_stmt *s = NULL;
	int rc;

	if ((a->guid && a->guid[0]) || (a->link && a->link[0]) ||
	    strncmp(a->id, "urn:uuid:", 9) != 0)
		return 0;
	tr_article_legacy_id(legacy, a);
	if (sqlite3_prepare_v2(b->st->db, "UPDATE OR IGNORE articles"
	    " SET identity = ?3 WHERE feed_id = ?1 AND identity = ?2", -1, &s,
	    NULL) != SQLITE_OK)
		return store_dberr(b->st, "renaming an article");
	sqlite3_bind_int64(s, 1, b->feed_id);
	sqlite3_bind_text(s, 2, legacy, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 3, a->id, -1, SQLITE_STATIC);
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : store_dberr(b->st, "renaming an article");
}

/* What staging any item of b checks and opens first. */
static int
stage_begin(struct tr_store_batch *b, const struct tr_article *a)
{
	struct tr_store *st = b->st;
	sqlite3_stmt *s;

	if (b->committed)
		return store_err(st, TR_EINVAL,
		    "feed %s: adding to a committed batch", b->feed_name);
	if (a->id == NULL || a->id[0] == '\0')
		return store_err(st, TR_EINVAL,
		    "feed %s: an article without identity", b->feed_name);
	if (!st->staging && !st->in_group) {
		if ((s = store_stmt(st, S_BEGIN_STAGE)) == NULL ||
		    store_exec_stmt(st, s, "staging articles") != 0)
			return TR_ESTORE;
		st->staging = 1;
	}
	return 0;
}

/* Counts a staged row; the temp commit every STAGE_FLUSH rows. */
static int
stage_count(struct tr_store *st)
{
	if (++st->staged_rows >= STAGE_FLUSH)
		return st->in_group ? sq_group_commit(st) : store_stage_flush(st);
	return 0;
}

/*
 * A kept item: its row stays as it is, so only its identity is staged
 * (for in_latest and retention) with the row's content hash, which the
 * commit checks the row still has (S_STAGE_COUNT). No legacy id to
 * adopt: its row was found under a->id.
 */
int
sq_batch_keep(struct tr_store_batch *b, const struct tr_article *a,
    const struct tr_store_prep *p)
{
	struct tr_store *st = b->st;
	sqlite3_stmt *s;
	int rc;

	if ((rc = stage_begin(b, a)) != 0)
		return rc;
	if ((s = store_stmt(st, S_STAGE_KEEP)) == NULL)
		return TR_ESTORE;
	sqlite3_bind_int64(s, 1, b->id);
	store_bind_text(s, 2, a->id);
	sqlite3_bind_int64(s, 3, (int64_t)p->hash);
	rc = store_exec_stmt(st, s, "staging an article");
	sqlite3_clear_bindings(s);
	return rc == 0 ? stage_count(st) : rc;
}

int
sq_batch_add_prepared(struct tr_store_batch *b,
    const struct tr_article *a, const struct tr_store_prep *p)
{
	struct tr_store *st = b->st;
	sqlite3_stmt *s;
	int rc;

	if ((rc = stage_begin(b, a)) != 0 ||
	    (rc = adopt_legacy_id(b, a)) != 0)
		return rc;
	if ((s = store_stmt(st, S_STAGE_ADD)) == NULL)
		return TR_ESTORE;
	sqlite3_bind_int64(s, 1, b->id);
	store_bind_text(s, 2, a->id);
	store_bind_text(s, 3, a->guid);
	sqlite3_bind_int(s, 4, a->guid_is_permalink != 0);
	store_bind_text(s, 5, a->link);
	store_bind_text(s, 6, p->canon);
	store_bind_text(s, 7, a->title);
	store_bind_text(s, 8, a->author);
	bind_list(s, 9, &p->authors);
	store_bind_text(s, 10, a->summary);
	store_bind_text(s, 11, a->content);
	store_bind_date(s, 12, a->published);
	store_bind_date(s, 13, a->updated);
	bind_list(s, 14, &p->categories);
	bind_list(s, 15, &p->enclosures);
	store_bind_text(s, 16, a->source_title);
	store_bind_text(s, 17, a->source_url);
	store_bind_text(s, 18, a->source_id);
	sqlite3_bind_int64(s, 19, (int64_t)p->hash);
	store_bind_text(s, 20, a->image);
	store_bind_text(s, 21, store_prep_text(a, p));
	if (a->raw_hash != 0)
		sqlite3_bind_int64(s, 22, (int64_t)a->raw_hash);
	if (a->raw_hash != 0 && !a->bodies_as_stored)
		b->n_fresh++;
	rc = store_exec_stmt(st, s, "staging an article");
	sqlite3_clear_bindings(s); /* the article and p are the caller's */
	return rc == 0 ? stage_count(st) : rc;
}

/* Runs one apply step bound to (batch, feed, now); adds its changes. */
static int
apply_step(struct tr_store_batch *b, enum store_stmt id, int64_t now,
    int64_t *changes, int64_t *n)
{
	struct tr_store *st = b->st;
	sqlite3_stmt *s = store_stmt(st, id);
	int rc;

	if (s == NULL)
		return TR_ESTORE;
	sqlite3_bind_int64(s, 1, b->id);
	sqlite3_bind_int64(s, 2, b->feed_id);
	if (sqlite3_bind_parameter_count(s) >= 3)
		sqlite3_bind_int64(s, 3, now);
	if ((rc = store_exec_stmt(st, s, "storing a document")) != 0)
		return rc;
	if (n)
		*n = sqlite3_changes(st->db);
	if (changes)
		*changes += sqlite3_changes(st->db);
	return 0;
}

/*
 * Number of distinct identities staged in the batch. A kept item whose
 * row changed or went since the parser read it (another process purged
 * or rewrote the feed's rows; a round holds its feeds' leases, so not
 * another round) fails the document: the item was staged without its
 * contents, so the commit cannot store it. Its feed is fetched again.
 */
static int
staged(struct tr_store_batch *b, int64_t *n)
{
	struct tr_store *st = b->st;
	sqlite3_stmt *s = store_stmt(st, S_STAGE_COUNT);
	int64_t lost;
	int rc;

	if (s == NULL)
		return TR_ESTORE;
	sqlite3_bind_int64(s, 1, b->id);
	sqlite3_bind_int64(s, 2, b->feed_id);
	rc = sqlite3_step(s);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(s);
		return store_dberr(st, "counting staged articles");
	}
	*n = sqlite3_column_int64(s, 0);
	lost = sqlite3_column_int64(s, 1);
	sqlite3_reset(s);
	if (lost > 0)
		return store_err(st, TR_ESTORE, "feed %s: %lld stored "
		    "article%s the document repeats changed or went while "
		    "it was read; the document is stored when the feed is "
		    "fetched again", b->feed_name, (long long)lost,
		    lost == 1 ? "" : "s");
	return 0;
}

/* Stores the document's title, site link and author; NULL meta changes
 * nothing. */
static int
store_meta(struct tr_store_batch *b, const struct tr_feed_meta *meta,
    int64_t *changes)
{
	sqlite3_stmt *s;
	int rc;

	if (meta == NULL)
		return 0;
	if ((s = store_stmt(b->st, S_FEED_META)) == NULL)
		return TR_ESTORE;
	sqlite3_bind_int64(s, 1, b->feed_id);
	store_bind_text(s, 2, meta->title);
	store_bind_text(s, 3, meta->link);
	store_bind_text(s, 4, meta->author);
	if ((rc = store_exec_stmt(b->st, s, "storing feed metadata")) != 0)
		return rc;
	*changes += sqlite3_changes(b->st->db);
	return 0;
}

/*
 * Gives unchanged rows the raw hash of their item (S_APPLY_RAW), when
 * some may lack it: only items sanitized afresh can bring a new one, and
 * those that were new or changed have it from the insert or update. So a
 * cold round (every item new) and a steady one (the new items sanitized,
 * the others' bodies as stored) skip the statement. Counts are of staged
 * items, so a document repeating an identity may skip it when it could
 * have run: the row then keeps its older hash and its item is sanitized
 * next time, nothing worse.
 */
static int
apply_raw(struct tr_store_batch *b, const struct tr_store_result *r,
    int64_t now)
{
	if (b->n_fresh <= r->added + r->updated)
		return 0;
	return apply_step(b, S_APPLY_RAW, now, NULL, NULL);
}

/* Everything of the commit that runs inside its transaction. */
static int
apply(struct tr_store_batch *b, const struct tr_feed_meta *meta,
    struct tr_store_result *r)
{
	int64_t now = store_now(b->st), total = 0;
	int rc;

	if ((rc = staged(b, &total)) != 0 ||
	    (rc = apply_step(b, S_TOUCHED_CLEAR, now, NULL, NULL)) != 0 ||
	    (rc = apply_step(b, S_TOUCH_OLD, now, NULL, NULL)) != 0 ||
	    (rc = apply_step(b, S_TOUCH_NEW, now, NULL, NULL)) != 0 ||
	    (rc = apply_step(b, S_APPLY_UPDATE, now, &r->changes,
		 &r->updated)) != 0 ||
	    (rc = apply_step(b, S_APPLY_INSERT, now, &r->changes,
		 &r->added)) != 0 ||
	    (rc = apply_raw(b, r, now)) != 0 ||
	    (rc = apply_step(b, S_LATEST_OFF, now, &r->changes, NULL)) != 0 ||
	    (rc = apply_step(b, S_LATEST_ON, now, &r->changes, NULL)) != 0 ||
	    (rc = store_fix_primary(b->st, &r->changes)) != 0 ||
	    (!b->st->defer_index &&
		(rc = store_fts_catch_up(b->st, NULL)) != 0) ||
	    (rc = store_meta(b, meta, &r->changes)) != 0)
		return rc;
	r->unchanged = total - r->added - r->updated;
	if (r->changes > 0 && (rc = store_bump_generation(b->st)) != 0)
		return rc;
	return apply_step(b, S_STAGE_DROP, now, NULL, NULL);
}

int
sq_batch_commit(struct tr_store_batch *b,
    const struct tr_feed_meta *meta, struct tr_store_result *res)
{
	struct tr_store *st = b->st;
	struct tr_store_result r = {0, 0, 0, 0};
	int rc;

	/* A second commit would see an empty document. */
	if (b->committed)
		return store_err(st, TR_EINVAL,
		    "feed %s: the batch was already committed", b->feed_name);
	if ((rc = store_begin(st)) != 0)
		return rc;
	if (b->epoch != st->stage_epoch) {
		store_rollback(st);
		return store_err(st, TR_ESTORE,
		    "feed %s: the staged document was lost to an earlier "
		    "database error (%s); fetch it again",
		    b->feed_name, st->lost_msg[0] ? st->lost_msg : "staging");
	}
	if ((rc = apply(b, meta, &r)) != 0 || (rc = store_commit(st)) != 0) {
		store_rollback(st);
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
sq_batch_free(struct tr_store_batch *b)
{
	sqlite3_stmt *s;

	if (b == NULL)
		return;
	/* After a commit this finds nothing; otherwise it discards. */
	if ((s = store_stmt(b->st, S_STAGE_DROP)) != NULL) {
		sqlite3_bind_int64(s, 1, b->id);
		if (store_exec_stmt(b->st, s, "discarding a batch") != 0)
			tr_log(TR_LOG_WARN, "feed %s: %s", b->feed_name,
			    b->st->errmsg);
	}
	tr_store_prep_free(&b->prep);
	free(b->feed_name);
	free(b);
}
