/*
 * store_sqlite_copy.c — the SQLite backend's part of copying a store
 * (tr_store_copy, store_copy.c): a table's rows read one step at a
 * time as text, and rows loaded with one prepared INSERT inside the
 * copy's write transaction. Text bound to an INTEGER column is stored as
 * the integer it spells (column affinity), so rows from PostgreSQL read
 * back as the same values and types.
 *
 * The full-text index: a new file's mark (meta.fts_done) is 0, so the
 * insert trigger leaves every copied row out of the index, and the
 * catch-up at the end indexes them all in one bulk statement, as after a
 * polling round.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tributary/buf.h"
#include "tributary/error.h"

#include "store_sqlite_int.h"

struct store_copy_put {
	struct tr_store *st;
	sqlite3_stmt *ins;
	size_t n;
};

/* Prepares the statement in b for st; NULL (with errmsg set) if not. */
static sqlite3_stmt *
prepare(struct tr_store *st, struct tr_buf *b, const char *what)
{
	sqlite3_stmt *s = NULL;

	if (b->data == NULL) {
		store_err(st, TR_ENOMEM, "out of memory");
		return NULL;
	}
	if (sqlite3_prepare_v2(st->db, b->data, (int)b->len, &s, NULL) !=
	    SQLITE_OK) {
		store_dberr(st, what);
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

/* Appends the column list cols[0..n), separated by commas. */
static void
add_cols(struct tr_buf *b, const char *const *cols, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (i > 0)
			tr_buf_adds(b, ", ");
		tr_buf_adds(b, cols[i]);
	}
}

int
sq_copy_snapshot(struct tr_store *st, int on)
{
	if (on)
		return store_exec(st, "BEGIN");
	if (sqlite3_get_autocommit(st->db))
		return 0;
	return store_exec(st, "COMMIT");
}

int
sq_copy_read(struct tr_store *st, const char *table, const char *const *cols,
    size_t n, const char *order, int (*row)(const char *const *v, void *arg),
    void *arg)
{
	const char *v[STORE_COPY_COLS];
	struct tr_buf b;
	sqlite3_stmt *s;
	size_t i;
	int rc = 0, step;

	if (n > STORE_COPY_COLS)
		return store_err(st, TR_EINVAL, "too many columns");
	tr_buf_init(&b, 4096);
	tr_buf_adds(&b, "SELECT ");
	add_cols(&b, cols, n);
	tr_buf_printf(&b, " FROM main.%s ORDER BY %s", table, order);
	s = prepare(st, &b, "reading the store");
	tr_buf_free(&b);
	if (s == NULL)
		return TR_ESTORE;
	while ((step = sqlite3_step(s)) == SQLITE_ROW) {
		for (i = 0; i < n; i++)
			v[i] = store_col_text(s, (int)i);
		if ((rc = row(v, arg)) != 0)
			break;
	}
	if (rc == 0 && step != SQLITE_DONE)
		rc = store_dberr(st, "reading the store");
	sqlite3_finalize(s);
	return rc;
}

int
sq_copy_count(struct tr_store *st, const char *table, int64_t *n)
{
	struct tr_buf b;
	sqlite3_stmt *s;
	int rc;

	*n = 0;
	tr_buf_init(&b, 256);
	tr_buf_printf(&b, "SELECT count(*) FROM main.%s", table);
	s = prepare(st, &b, "counting rows");
	tr_buf_free(&b);
	if (s == NULL)
		return TR_ESTORE;
	rc = store_step_int64(st, s, "counting rows", n);
	sqlite3_finalize(s);
	return rc;
}

int
sq_copy_begin(struct tr_store *st)
{
	if (st->readonly)
		return store_err(st, TR_EINVAL, "%s: cannot copy into a "
		    "read-only handle", st->path);
	return store_begin(st);
}

int
sq_copy_put_begin(struct tr_store *st, struct store_copy_put **out,
    const char *table, const char *const *cols, size_t n)
{
	struct store_copy_put *put;
	struct tr_buf b;
	size_t i;

	*out = NULL;
	if (n > STORE_COPY_COLS)
		return store_err(st, TR_EINVAL, "too many columns");
	if ((put = calloc(1, sizeof(*put))) == NULL)
		return store_err(st, TR_ENOMEM, "out of memory");
	put->st = st;
	put->n = n;
	tr_buf_init(&b, 4096);
	tr_buf_printf(&b, "INSERT INTO main.%s (", table);
	add_cols(&b, cols, n);
	tr_buf_adds(&b, ") VALUES (");
	for (i = 0; i < n; i++)
		tr_buf_printf(&b, "%s?%zu", i ? ", " : "", i + 1);
	tr_buf_adds(&b, ")");
	put->ins = prepare(st, &b, "writing the store");
	tr_buf_free(&b);
	if (put->ins == NULL) {
		free(put);
		return TR_ESTORE;
	}
	*out = put;
	return 0;
}

int
sq_copy_put(struct store_copy_put *put, const char *const *v)
{
	size_t i;
	int rc;

	for (i = 0; i < put->n; i++)
		store_bind_text(put->ins, (int)i + 1, v[i]);
	rc = store_exec_stmt(put->st, put->ins, "writing the store");
	/* A row the schema refuses: the front says so in its words. */
	if (rc != 0 && (sqlite3_errcode(put->st->db) & 0xff) ==
	    SQLITE_CONSTRAINT)
		rc = TR_EINVAL;
	sqlite3_reset(put->ins);
	sqlite3_clear_bindings(put->ins);
	return rc;
}

int
sq_copy_put_end(struct store_copy_put *put, int ok)
{
	(void)ok;
	if (put == NULL)
		return 0;
	sqlite3_finalize(put->ins);
	free(put);
	return 0;
}

/* Sets meta's value for key (inside the copy's transaction). */
static int
meta_set(struct tr_store *st, const char *key, int64_t v)
{
	struct tr_buf b;
	sqlite3_stmt *s;
	int rc;

	tr_buf_init(&b, 256);
	tr_buf_adds(&b, "UPDATE main.meta SET value = ?1 WHERE key = ?2");
	s = prepare(st, &b, "writing the generation");
	tr_buf_free(&b);
	if (s == NULL)
		return TR_ESTORE;
	sqlite3_bind_int64(s, 1, v);
	sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
	rc = store_exec_stmt(st, s, "writing the generation");
	sqlite3_finalize(s);
	return rc;
}

int
sq_copy_finish(struct tr_store *st, int64_t generation, int64_t changed_at)
{
	int rc;

	if ((rc = meta_set(st, "generation", generation)) != 0 ||
	    (rc = meta_set(st, "changed_at", changed_at)) != 0 ||
	    (rc = store_fts_catch_up(st, NULL)) != 0 ||
	    (rc = store_commit(st)) != 0) {
		store_rollback(st);
		return rc;
	}
	return 0;
}

void
sq_copy_abort(struct tr_store *st)
{
	store_rollback(st);
}

void
sq_copy_remove(const char *path)
{
	static const char *const ext[] = {"", "-wal", "-shm", "-journal",
	    MARKER_SUFFIX};
	char p[4096];
	size_t i;

	for (i = 0; i < sizeof(ext) / sizeof(ext[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, ext[i]);
		unlink(p);
	}
}
