/*
 * store_pg_copy.c — the PostgreSQL backend's part of copying a store
 * (tr_store_copy, store_copy.c): a table's rows read in single-row mode
 * (one row in memory at a time, however big the table), and rows loaded
 * with COPY ... FROM STDIN in text format inside the copy's one
 * transaction, which holds the tables in EXCLUSIVE mode so that no node
 * writes into a store while it is being filled. At the end the identity
 * sequences move past the copied ids, so that the next feed or article
 * gets a new one. The tsv column is generated from the copied text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tributary/buf.h"
#include "tributary/error.h"

#include "store_pg_int.h"

struct store_copy_put {
	struct tr_store *st;
	size_t n;
	struct tr_buf line;
};

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
pg_copy_snapshot(struct tr_store *st, int on)
{
	if (on)
		return pg_exec(st, NULL, "reading the store",
		    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL);
	if (PQtransactionStatus(st->conn) == PQTRANS_IDLE)
		return 0;
	return pg_exec(st, NULL, "reading the store", "COMMIT", 0, NULL);
}

/* Reads and drops what is left of a query's results. */
static void
drain(PGconn *conn)
{
	PGresult *r;

	while ((r = PQgetResult(conn)) != NULL)
		PQclear(r);
}

int
pg_copy_read(struct tr_store *st, const char *table, const char *const *cols,
    size_t n, const char *order, int (*row)(const char *const *v, void *arg),
    void *arg)
{
	const char *v[STORE_COPY_COLS];
	struct tr_buf b;
	PGresult *r;
	size_t i;
	int rc = 0, sent;

	if (n > STORE_COPY_COLS)
		return pg_err(st, TR_EINVAL, "too many columns");
	tr_buf_init(&b, 4096);
	tr_buf_adds(&b, "SELECT ");
	add_cols(&b, cols, n);
	tr_buf_printf(&b, " FROM %s ORDER BY %s", table, order);
	if (b.data == NULL)
		return pg_err(st, TR_ENOMEM, "out of memory");
	sent = PQsendQuery(st->conn, b.data);
	tr_buf_free(&b);
	if (!sent || !PQsetSingleRowMode(st->conn)) {
		drain(st->conn);
		return pg_dberr(st, NULL, "reading the store");
	}
	while ((r = PQgetResult(st->conn)) != NULL) {
		ExecStatusType s = PQresultStatus(r);

		if (s == PGRES_SINGLE_TUPLE && rc == 0) {
			for (i = 0; i < n; i++)
				v[i] = pg_col_text(r, 0, (int)i);
			if ((rc = row(v, arg)) != 0) {
				/* Stop the server sending the rest. */
				PGcancel *c = PQgetCancel(st->conn);
				char err[256];

				if (c != NULL) {
					PQcancel(c, err, sizeof(err));
					PQfreeCancel(c);
				}
			}
		} else if (s != PGRES_SINGLE_TUPLE && s != PGRES_TUPLES_OK &&
		    rc == 0)
			rc = pg_dberr(st, r, "reading the store");
		PQclear(r);
	}
	return rc;
}

int
pg_copy_count(struct tr_store *st, const char *table, int64_t *n)
{
	const char *p[1] = {table};
	char sql[128];
	int64_t have = 0;
	int rc;

	*n = 0;
	if ((rc = pg_one_int64(st, &have, "reading the store",
	    "SELECT count(*) FROM pg_tables WHERE tablename = $1"
	    " AND schemaname = current_schema()", 1, p)) != 0)
		return rc;
	if (!have)
		return pg_err(st, TR_ENOTFOUND, "%s: no tributary store in this "
		    "database", st->shown);
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", table);
	return pg_one_int64(st, n, "counting rows", sql, 0, NULL);
}

int
pg_copy_begin(struct tr_store *st)
{
	int rc;

	if ((rc = pg_writable(st, "copy")) != 0 || (rc = pg_begin(st)) != 0)
		return rc;
	if ((rc = pg_exec(st, NULL, "waiting for the other nodes' writes",
	    "LOCK TABLE meta, feeds, feed_tags, feed_configs, articles"
	    " IN EXCLUSIVE MODE", 0, NULL)) != 0)
		pg_rollback(st);
	return rc;
}

int
pg_copy_put_begin(struct tr_store *st, struct store_copy_put **out,
    const char *table, const char *const *cols, size_t n)
{
	struct store_copy_put *put;
	struct tr_buf b;
	PGresult *r;
	int ok;

	*out = NULL;
	if ((put = calloc(1, sizeof(*put))) == NULL)
		return pg_err(st, TR_ENOMEM, "out of memory");
	put->st = st;
	put->n = n;
	/* One row's line, at most what the server takes in one field. */
	tr_buf_init(&put->line, (size_t)1 << 30);
	tr_buf_init(&b, 4096);
	tr_buf_printf(&b, "COPY %s (", table);
	add_cols(&b, cols, n);
	tr_buf_adds(&b, ") FROM STDIN");
	r = b.data ? PQexec(st->conn, b.data) : NULL;
	tr_buf_free(&b);
	ok = r != NULL && PQresultStatus(r) == PGRES_COPY_IN;
	if (!ok) {
		int rc = pg_dberr(st, r, "writing the store");

		PQclear(r);
		drain(st->conn);
		free(put);
		return rc;
	}
	PQclear(r);
	*out = put;
	return 0;
}

/*
 * Appends v as a field of COPY's text format: backslash, tab, newline
 * and carriage return escaped (PostgreSQL's COPY documentation, "Text
 * Format"); NULL is \N.
 */
static int
add_field(struct tr_buf *b, const char *v)
{
	const char *p;
	int rc = 0;

	if (v == NULL)
		return tr_buf_adds(b, "\\N");
	for (p = v; *p && rc == 0; p++) {
		size_t run = strcspn(p, "\\\t\n\r");

		rc = tr_buf_add(b, p, run);
		p += run;
		if (*p == '\0' || rc != 0)
			break;
		rc = tr_buf_addc(b, '\\');
		if (rc == 0)
			rc = tr_buf_addc(b, *p == '\t'	  ? 't'
					       : *p == '\n' ? 'n'
					       : *p == '\r' ? 'r'
							    : '\\');
	}
	return rc;
}

int
pg_copy_put(struct store_copy_put *put, const char *const *v)
{
	struct tr_store *st = put->st;
	size_t i;

	int rc = 0;

	tr_buf_reset(&put->line);
	for (i = 0; i < put->n && rc == 0; i++) {
		if (i > 0)
			rc = tr_buf_addc(&put->line, '\t');
		if (rc == 0)
			rc = add_field(&put->line, v[i]);
	}
	if (rc == 0)
		rc = tr_buf_addc(&put->line, '\n');
	if (rc == TR_ETOOBIG)
		return pg_err(st, rc, "%s: a row too big to copy (over 1 GiB)",
		    st->shown);
	if (rc != 0)
		return pg_err(st, rc, "out of memory");
	if (PQputCopyData(st->conn, put->line.data, (int)put->line.len) != 1)
		return pg_dberr(st, NULL, "writing the store");
	return 0;
}

int
pg_copy_put_end(struct store_copy_put *put, int ok)
{
	struct tr_store *st;
	PGresult *r;
	int rc = 0;

	if (put == NULL)
		return 0;
	st = put->st;
	tr_buf_free(&put->line);
	free(put);
	if (PQputCopyEnd(st->conn, ok ? NULL : "copy abandoned") != 1)
		rc = pg_dberr(st, NULL, "writing the store");
	while ((r = PQgetResult(st->conn)) != NULL) {
		const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);

		if (rc == 0 && ok && PQresultStatus(r) != PGRES_COMMAND_OK) {
			rc = pg_dberr(st, r, "writing the store");
			/* Class 23, integrity constraint violation: a row the
			 * schema refuses; the front says so in its words. */
			if (state != NULL && strncmp(state, "23", 2) == 0)
				rc = TR_EINVAL;
		}
		PQclear(r);
	}
	return rc;
}

int
pg_copy_finish(struct tr_store *st, int64_t generation, int64_t changed_at)
{
	char g[24], c[24];
	const char *p[2] = {pg_i64(g, generation), pg_i64(c, changed_at)};
	int rc;

	rc = pg_exec(st, NULL, "writing the generation",
	    "UPDATE meta SET value = CASE key WHEN 'generation' THEN $1::bigint"
	    " ELSE $2::bigint END WHERE key IN ('generation', 'changed_at')",
	    2, p);
	/* The next id after the highest copied (1 for an empty table). */
	if (rc == 0)
		rc = pg_exec(st, NULL, "moving the id sequences",
		    "SELECT setval(pg_get_serial_sequence('feeds', 'id'),"
		    "  coalesce((SELECT max(id) FROM feeds), 1),"
		    "  (SELECT max(id) FROM feeds) IS NOT NULL),"
		    " setval(pg_get_serial_sequence('articles', 'id'),"
		    "  coalesce((SELECT max(id) FROM articles), 1),"
		    "  (SELECT max(id) FROM articles) IS NOT NULL)", 0, NULL);
	if (rc == 0)
		rc = pg_commit(st);
	if (rc != 0)
		pg_rollback(st);
	return rc;
}

void
pg_copy_abort(struct tr_store *st)
{
	pg_rollback(st);
}

void
pg_copy_remove(const char *path)
{
	/* A database is never made by a copy: it had to be there. The
	 * rolled back copy left at most the schema, which counts as empty. */
	(void)path;
}
