/*
 * store_sqlite_bodies.c — stored bodies on SQLite (store.h): the bodies
 * an article row was stored with, given back to the fetching thread's
 * parser for an item whose raw bodies hash as the row's did, so that the
 * item is not sanitized again.
 *
 * The handle is a read-only connection of its own: the round's writer
 * thread owns st's connection, and WAL lets a reader run beside it. Each
 * lookup is one step of one prepared statement on the unique index
 * (feed_id, identity); it reads the committed rows, so an item stored
 * earlier in the same round, in a group not yet committed, is sanitized
 * (as before) rather than found.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"
#include "tributary/error.h"
#include "tributary/log.h"

/* How long a lookup waits for a lock (a WAL reader rarely waits at all:
 * only while a checkpoint resets the log); past it the item is sanitized. */
#define BODIES_BUSY_MS 200

struct tr_store_bodies {
	const struct store_ops *ops; /* first: &store_sqlite_ops */
	char *path;   /* the database's, until the connection opens */
	int failed;   /* it did not open: every item is sanitized */
	sqlite3 *db;
	sqlite3_stmt *get;
};

static const char bodies_sql[] =
    "SELECT a.summary, a.content, a.body_text, a.hash FROM feeds f"
    " CROSS JOIN articles a ON a.feed_id = f.id AND a.identity = ?2"
    " WHERE f.name = ?1 AND a.raw_hash = ?3";

/*
 * The handle; its connection opens at the first lookup, so a round whose
 * documents all answer 304 (or are all new) opens none.
 */
int
sq_bodies_open(struct tr_store_bodies **out, struct tr_store *st)
{
	struct tr_store_bodies *h;

	*out = NULL;
	/* A memory database (":memory:", a "file:" URI) is the writer's
	 * connection's alone: there is none to read here. */
	if (strcmp(st->path, ":memory:") == 0 ||
	    strncmp(st->path, "file:", 5) == 0)
		return 0;
	if ((h = calloc(1, sizeof(*h))) == NULL ||
	    (h->path = strdup(st->path)) == NULL) {
		free(h);
		return store_err(st, TR_ENOMEM, "out of memory");
	}
	h->ops = &store_sqlite_ops;
	*out = h;
	return 0;
}

/* Opens h's connection and statement; 0, or TR_ESTORE once (logged). */
static int
bodies_connect(struct tr_store_bodies *h)
{
	if (h->db != NULL)
		return 0;
	if (h->failed)
		return TR_ESTORE;
	if (sqlite3_open_v2(h->path, &h->db,
	        SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) == SQLITE_OK &&
	    /* 512 KiB of page cache, not SQLite's 2 MiB: a lookup descends
	     * the identity index (some 30 MB at 10,000 feeds) to a leaf
	     * that is a miss whatever the cache, then reads its row's
	     * bodies once; the interior pages are what repeats. */
	    sqlite3_exec(h->db, "PRAGMA mmap_size = 0; PRAGMA cache_size = "
	        "-512", NULL, NULL, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v3(h->db, bodies_sql, -1, SQLITE_PREPARE_PERSISTENT,
	        &h->get, NULL) == SQLITE_OK) {
		sqlite3_busy_timeout(h->db, BODIES_BUSY_MS);
		return 0;
	}
	tr_log(TR_LOG_WARN, "store %s: stored bodies cannot be read (%s); "
	    "this round sanitizes every item of a changed document", h->path,
	    h->db ? sqlite3_errmsg(h->db) : "out of memory");
	sqlite3_finalize(h->get);
	h->get = NULL;
	sqlite3_close(h->db);
	h->db = NULL;
	h->failed = 1;
	return TR_ESTORE;
}

/* A column's text as an owned copy in *dst (NULL stays NULL); 0 or
 * TR_ENOMEM. */
static int
col_dup(char **dst, sqlite3_stmt *s, int i)
{
	const unsigned char *v = sqlite3_column_text(s, i);

	*dst = NULL;
	if (v == NULL)
		return sqlite3_errcode(sqlite3_db_handle(s)) == SQLITE_NOMEM
		           ? TR_ENOMEM
		           : 0;
	if ((*dst = strdup((const char *)v)) == NULL)
		return TR_ENOMEM;
	return 0;
}

int
sq_bodies_get(struct tr_store_bodies *h, struct tr_article *a,
    const char *feed)
{
	char *v[3] = {NULL, NULL, NULL};
	uint64_t hash = 0;
	int rc, i;

	if ((rc = bodies_connect(h)) != 0)
		return rc;
	sqlite3_bind_text(h->get, 1, feed, -1, SQLITE_STATIC);
	sqlite3_bind_text(h->get, 2, a->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(h->get, 3, (int64_t)a->raw_hash);
	rc = sqlite3_step(h->get);
	if (rc == SQLITE_ROW) {
		rc = 1;
		for (i = 0; i < 3 && rc == 1; i++)
			if (col_dup(&v[i], h->get, i) != 0)
				rc = TR_ENOMEM;
		hash = (uint64_t)sqlite3_column_int64(h->get, 3);
	} else if (rc == SQLITE_DONE) {
		rc = 0;
	} else {
		tr_log(TR_LOG_DEBUG, "feed %s: stored bodies not read (%s); "
		    "the item is sanitized", feed, sqlite3_errmsg(h->db));
		rc = TR_ESTORE;
	}
	sqlite3_reset(h->get);
	sqlite3_clear_bindings(h->get);
	if (rc != 1) {
		for (i = 0; i < 3; i++)
			free(v[i]);
		return rc;
	}
	/* An empty text is stored as the store makes it from the bodies
	 * (a->text NULL): the parser gives no empty text either. */
	if (v[2] != NULL && v[2][0] == '\0') {
		free(v[2]);
		v[2] = NULL;
	}
	free(a->summary);
	free(a->content);
	free(a->text);
	a->summary = v[0];
	a->content = v[1];
	a->text = v[2];
	/* The row's content hash: an item whose own is the same leaves the
	 * row as it is (tr_store_prep_keep). */
	a->stored_hash = hash;
	return 1;
}

void
sq_bodies_close(struct tr_store_bodies *h)
{
	if (h == NULL)
		return;
	sqlite3_finalize(h->get);
	sqlite3_close(h->db);
	free(h->path);
	free(h);
}
