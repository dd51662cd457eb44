/*
 * store_copy.c — tr_store_copy(): a whole store moved from one address
 * to another, between backends or within one (SQLite file to PostgreSQL
 * database and back).
 *
 * The tables, their columns and the order of the copy live here, once;
 * each backend only reads a table's rows as text and loads such rows
 * (the copy_* operations of store_int.h: a stepped statement and an
 * INSERT for SQLite, a single-row-mode SELECT and COPY FROM STDIN for
 * PostgreSQL). Rows stream from the source's read transaction into the
 * target's one write transaction, a row at a time, with their ids, so
 * that feed_id and the primary-row marks stay right. The target is read
 * back after the commit, through a new handle, and compared with the
 * source: counts per table and a checksum of the article ids and
 * identities.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tributary/error.h"
#include "tributary/hash.h"
#include "tributary/log.h"

#include "store_int.h"

/* The table of the backend that made a handle: its first member. */
#define OPS(h) (*(const struct store_ops *const *)(const void *)(h))
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* Every column of a feed but its lease (lease_owner, lease_until): a
 * lease belongs to a process of the old store's nodes. */
static const char *const feed_cols[] = {"id", "name", "url",
    "effective_url", "conf_title", "doc_title", "site_link", "doc_author",
    "etag",
    "last_modified", "body_hash", "last_check", "next_check",
    "last_success", "retry_after", "errors", "last_error", "last_status",
    "disabled", "disabled_reason", "active", "enabled", "max_per_feed",
    "removed_at"};
static const char *const tag_cols[] = {"tag", "feed_id"};
static const char *const config_cols[] = {"config", "feed_id", "last_seen"};
/* Every column of an article (PostgreSQL's tsv is generated from them;
 * SQLite's full-text index is rebuilt at the end of the copy). The
 * checksum reads id and identity: columns 0 and 2. */
static const char *const article_cols[] = {"id", "feed_id", "identity",
    "guid", "guid_is_permalink", "link", "canon", "title", "author",
    "authors", "summary", "content", "published", "updated", "categories",
    "enclosures", "source_title", "source_url", "source_id", "first_seen",
    "changed_at", "sort_date", "hash", "in_latest", "is_primary", "image",
    "body_text"};
static const char *const sum_cols[] = {"id", "identity"};

/* In an order that keeps every reference to a feed after the feed. */
static const struct copy_table {
	const char *name;
	const char *const *cols;
	size_t n;
	const char *order;
	const char *row; /* a row, for messages */
} tables[TR_STORE_COPY_TABLES] = {
    {"feeds", feed_cols, N(feed_cols), "id", "feed"},
    {"feed_tags", tag_cols, N(tag_cols), "feed_id, tag", "feed's tag"},
    {"feed_configs", config_cols, N(config_cols), "feed_id, config",
	"feed's config"},
    {"articles", article_cols, N(article_cols), "id", "article"},
};
#define ARTICLES 3

/* The checksum of one article: its id and identity, in id order. */
static uint64_t
sum_row(uint64_t h, const char *id, const char *identity)
{
	h = tr_hash(h, id ? id : "", id ? strlen(id) : 0);
	h = tr_hash(h, "\t", 1);
	h = tr_hash(h, identity ? identity : "", identity ? strlen(identity)
							  : 0);
	return tr_hash(h, "\n", 1);
}

struct pump {
	const struct store_ops *ops; /* the target's */
	struct store_copy_put *put;
	int sum;	  /* an articles row: add it to the checksum */
	int put_failed;	  /* the error is the target's */
	uint64_t h;
	int64_t rows;
};

/* Hands a source row to the target. */
static int
pump_row(const char *const *v, void *arg)
{
	struct pump *p = arg;
	int rc;

	p->rows++;
	if (p->sum)
		p->h = sum_row(p->h, v[0], v[2]);
	if ((rc = p->ops->copy_put(p->put, v)) != 0)
		p->put_failed = 1;
	return rc;
}

/* Adds a read-back row (id, identity) to the checksum. */
static int
sum_read(const char *const *v, void *arg)
{
	uint64_t *h = arg;

	*h = sum_row(*h, v[0], v[1]);
	return 0;
}

static int
fail(char *why, size_t whysize, int rc, const struct tr_store *st)
{
	snprintf(why, whysize, "%s", tr_store_errmsg(st));
	return rc;
}

/* Whether the SQLite paths a and b name one existing file. */
static int
same_file(const char *a, const char *b)
{
	struct stat sa, sb;

	if (strcmp(a, b) == 0)
		return 1;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 &&
	    sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

/*
 * Takes the target's write transaction and checks that it holds no
 * row. 0, or TR_EINVAL (with the reason in why) for a store with rows.
 */
static int
target_empty(struct tr_store *dst, const char *shown, char *why,
    size_t whysize)
{
	const struct store_ops *ops = OPS(dst);
	int64_t n[TR_STORE_COPY_TABLES] = {0}, any = 0;
	size_t i;
	int rc;

	if ((rc = ops->copy_begin(dst)) != 0)
		return fail(why, whysize, rc, dst);
	for (i = 0; i < TR_STORE_COPY_TABLES; i++) {
		if ((rc = ops->copy_count(dst, tables[i].name, &n[i])) != 0) {
			fail(why, whysize, rc, dst);
			ops->copy_abort(dst);
			return rc;
		}
		any += n[i];
	}
	if (any == 0)
		return 0;
	ops->copy_abort(dst);
	snprintf(why, whysize, "%s already holds a store (%lld feeds, "
	    "%lld articles): copy into a new file or an empty database; "
	    "nothing was changed", shown, (long long)n[0],
	    (long long)n[ARTICLES]);
	return TR_EINVAL;
}

/* Streams every table of src into dst's open transaction. */
static int
copy_tables(struct tr_store *src, struct tr_store *dst, const char *shown,
    struct tr_store_copy_report *rep, char *why, size_t whysize)
{
	const struct store_ops *so = OPS(src), *to = OPS(dst);
	struct pump p = {0};
	int64_t changed_at = 0;
	size_t i;
	int rc;

	if ((rc = so->copy_snapshot(src, 1)) != 0)
		return fail(why, whysize, rc, src);
	if ((rc = so->generation(src, &rep->from_gen, &changed_at)) != 0)
		goto src_failed;
	p.ops = to;
	p.h = TR_HASH_INIT;
	for (i = 0; i < TR_STORE_COPY_TABLES; i++) {
		const struct copy_table *t = &tables[i];

		if ((rc = so->copy_count(src, t->name, &rep->from[i])) != 0)
			goto src_failed;
		if ((rc = to->copy_put_begin(dst, &p.put, t->name, t->cols,
			 t->n)) != 0) {
			fail(why, whysize, rc, dst);
			goto out;
		}
		p.sum = i == ARTICLES;
		p.rows = 0;
		p.put_failed = 0;
		rc = so->copy_read(src, t->name, t->cols, t->n, t->order,
		    pump_row, &p);
		if (rc != 0)
			to->copy_put_end(p.put, 0);
		else if ((rc = to->copy_put_end(p.put, 1)) == 0) {
			tr_log(TR_LOG_INFO, "store copy to %s: %s: %lld rows",
			    shown, t->name, (long long)p.rows);
			continue;
		}
		else
			p.put_failed = 1;
		if (!p.put_failed)
			fail(why, whysize, rc, src);
		else if (rc == TR_EINVAL)
			snprintf(why, whysize, "%s: the source holds a %s that "
			    "the target refuses (a duplicate, or one whose "
			    "feed is missing): is the source damaged? Nothing "
			    "was copied", shown, t->row);
		else
			fail(why, whysize, rc, dst);
		goto out;
	}
	rep->from_sum = p.h;
	if ((rc = so->copy_snapshot(src, 0)) != 0)
		return fail(why, whysize, rc, src);
	if ((rc = to->copy_finish(dst, rep->from_gen, changed_at)) != 0)
		return fail(why, whysize, rc, dst);
	return 0;
src_failed:
	fail(why, whysize, rc, src);
out:
	so->copy_snapshot(src, 0);
	return rc;
}

/* Reads the committed target back through a new handle. */
static int
read_back(const char *to, struct tr_store_copy_report *rep, char *why,
    size_t whysize)
{
	struct tr_store *st = NULL;
	const struct store_ops *ops;
	int64_t changed_at = 0;
	size_t i;
	int rc;

	rep->to_sum = TR_HASH_INIT;
	if ((rc = tr_store_open(&st, to, TR_STORE_READONLY)) != 0) {
		if (st == NULL)
			snprintf(why, whysize, "%s", tr_strerror(rc));
		else
			fail(why, whysize, rc, st);
		goto out;
	}
	ops = OPS(st);
	if ((rc = ops->copy_snapshot(st, 1)) != 0) {
		fail(why, whysize, rc, st);
		goto out;
	}
	for (i = 0; rc == 0 && i < TR_STORE_COPY_TABLES; i++)
		rc = ops->copy_count(st, tables[i].name, &rep->to[i]);
	if (rc == 0)
		rc = ops->copy_read(st, "articles", sum_cols, N(sum_cols),
		    "id", sum_read, &rep->to_sum);
	if (rc == 0)
		rc = ops->generation(st, &rep->to_gen, &changed_at);
	if (rc != 0)
		fail(why, whysize, rc, st);
	else
		rep->read_back = 1;
	ops->copy_snapshot(st, 0);
out:
	tr_store_close(st);
	return rc;
}

int
tr_store_copy(const char *from, const char *to,
    struct tr_store_copy_report *rep, char *why, size_t whysize)
{
	struct tr_store *src = NULL, *dst = NULL;
	char shown[512];
	int rc, created = 0;
	size_t i;

	memset(rep, 0, sizeof(*rep));
	for (i = 0; i < TR_STORE_COPY_TABLES; i++)
		rep->table[i] = tables[i].name;
	snprintf(why, whysize, "%s", "");
	tr_store_address_shown(shown, sizeof(shown), to);
	if ((rc = tr_store_address_check(from, why, whysize)) != 0 ||
	    (rc = tr_store_address_check(to, why, whysize)) != 0)
		return rc;
	if (strcmp(from, to) == 0 || (!tr_store_is_server(from) &&
	    !tr_store_is_server(to) && same_file(from, to))) {
		snprintf(why, whysize, "%s: the source and the target are the "
		    "same store", shown);
		return TR_EINVAL;
	}
	if (!tr_store_is_server(from) && access(from, F_OK) != 0) {
		snprintf(why, whysize, "%s: no such file: give the path of an "
		    "existing store", from);
		return TR_ENOTFOUND;
	}
	if ((rc = tr_store_open(&src, from, TR_STORE_READONLY)) != 0) {
		if (src == NULL)
			snprintf(why, whysize, "%s", tr_strerror(rc));
		else
			fail(why, whysize, rc, src);
		goto out;
	}
	created = !tr_store_is_server(to) && access(to, F_OK) != 0;
	if ((rc = tr_store_open(&dst, to, TR_STORE_NEW)) != 0) {
		if (dst == NULL)
			snprintf(why, whysize, "%s", tr_strerror(rc));
		else
			fail(why, whysize, rc, dst);
		goto out;
	}
	if ((rc = target_empty(dst, shown, why, whysize)) != 0)
		goto out;
	if ((rc = copy_tables(src, dst, shown, rep, why, whysize)) != 0) {
		OPS(dst)->copy_abort(dst);
		goto out;
	}
	created = 0; /* committed: the file is the copy, kept from now on */
	tr_store_close(dst);
	dst = NULL;
	if ((rc = read_back(to, rep, why, whysize)) != 0)
		goto out;
	rep->same = rep->from_sum == rep->to_sum &&
	    rep->from_gen == rep->to_gen;
	for (i = 0; i < TR_STORE_COPY_TABLES; i++)
		if (rep->from[i] != rep->to[i])
			rep->same = 0;
	if (!rep->same) {
		snprintf(why, whysize, "%s: the copy read back differs from "
		    "the source", shown);
		rc = TR_ESTORE;
	}
out:
	tr_store_close(dst);
	tr_store_close(src);
	if (rc != 0 && created)
		store_backend(to)->copy_remove(to);
	return rc;
}
