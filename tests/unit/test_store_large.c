/*
 * test_store_large.c — statements that write many large rows at once:
 * documents of thousands of items of several kilobytes whose text
 * changes, new identities on a feed with a long past, and retention over
 * a hundred thousand articles. Each of them writes a statement journal
 * of many megabytes, which has to spill from memory to a temporary file
 * and must not fail there ("database or disk is full" on a disk with
 * room).
 */
#include "test_store_util.h"

static const char conf_big[] = "[tributary]\n"
			       "database = x.db\n"
			       "[feed \"big\"]\n"
			       "url = http://127.0.0.1:1/big.xml\n"
			       "[feed \"small\"]\n"
			       "url = http://127.0.0.1:1/small.xml\n";

/* FTS5's own check of the external-content index against its table. */
static int
fts_ok(const char *path)
{
	sqlite3 *db = NULL;
	int rc;

	if (is_pg()) /* a generated search vector: nothing to check */
		return 1;
	sqlite3_open(path, &db);
	rc = sqlite3_exec(db,
	    "INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')",
	    NULL, NULL, NULL);
	sqlite3_close(db);
	return rc == SQLITE_OK;
}

/*
 * Stores one document of feed: identities prefix<start> ..
 * prefix<start+n-1>, each with size bytes of content that depend on
 * version (so a new version changes every item's text). One article at
 * a time: nothing holds the whole document.
 */
static int
big_doc(struct tr_store *st, const char *feed, const char *prefix,
    int start, int n, size_t size, int version, struct tr_store_result *r)
{
	struct tr_store_batch *b = NULL;
	struct tr_article a;
	char id[64], *body = malloc(size + 1);
	size_t k;
	int i, rc;

	if (body == NULL)
		return TR_ENOMEM;
	if ((rc = tr_store_batch_begin(&b, st, feed)) != 0) {
		free(body);
		return rc;
	}
	for (i = start; i < start + n && rc == 0; i++) {
		/* Words that differ per item and per version: the full-text
		 * index gets real terms, and the pages differ. */
		for (k = 0; k < size; k++)
			body[k] = k % 8 == 7 ? ' '
					     : (char)('a' + (i + version + k) % 26);
		body[size] = '\0';
		snprintf(id, sizeof(id), "%s%d", prefix, i);
		mkart(&a, id, NULL, id, 1000000 + i);
		a.content = strdup(body);
		rc = tr_store_batch_add(b, &a);
		tr_article_free(&a);
	}
	if (rc == 0)
		rc = tr_store_batch_commit(b, NULL, r);
	tr_store_batch_free(b);
	free(body);
	return rc;
}

/*
 * A document whose every item changes, stored again and again: alone
 * and inside a group commit (where each write is a savepoint, whose
 * journal holds every page it changes).
 *
 * The last two cases differ from the first two only in bytes (16 and 20
 * MB a version), which SQLite's statement journal must spill past its
 * cache; PostgreSQL writes them through the same statements as the
 * first two (no journal of that kind; a document's rows are far from
 * any statement limit), so there they are skipped: they were most of
 * the PostgreSQL pass's time for this file (about a minute on a busy
 * 2-core machine), testing nothing more.
 */
static void
test_large_documents_change(void)
{
	static const struct {
		int items;
		size_t size;
		int grouped;
		int sqlite_only;
	} cases[] = {
	    {1000, 4096, 0, 0},
	    {1000, 4096, 1, 0},
	    {2000, 8192, 0, 1},
	    {5000, 4096, 1, 1},
	};
	size_t c;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char *path;
		struct tr_store *st = NULL;
		struct tr_config *cfg;
		struct tr_store_result r;
		int v, rc;

		if (cases[c].sqlite_only && is_pg())
			continue;
		path = tmp_db();
		cfg = cfg_from(conf_big);

		CHECK_INT(tr_store_open(&st, path, 0), 0);
		CHECK_INT(tr_store_sync_config(st, cfg), 0);
		for (v = 0; v < 3; v++) {
			memset(&r, 0, sizeof(r));
			if (cases[c].grouped)
				tr_store_group_begin(st);
			rc = big_doc(st, "big", "item", 0, cases[c].items,
			    cases[c].size, v, &r);
			if (cases[c].grouped && rc == 0)
				rc = tr_store_group_end(st);
			if (rc != 0)
				printf("  case %zu version %d: %s\n", c, v,
				    tr_store_errmsg(st));
			CHECK_INT(rc, 0);
			CHECK_INT(r.added, v == 0 ? cases[c].items : 0);
			CHECK_INT(r.updated, v == 0 ? 0 : cases[c].items);
		}
		CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"),
		    cases[c].items);
		CHECK(fts_ok(path));
		tr_store_close(st);
		tr_config_free(cfg);
		rm_db(path);
	}
}

/*
 * A feed with tens of thousands of stored items that publishes a
 * document of new identities: the insert and the moving of the
 * in_latest marks write large statements.
 */
static void
test_new_ids_on_long_past(void)
{
	char *path = tmp_db();
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf_big);
	struct tr_store_result r;
	int i;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	tr_store_defer_index(st, 1);
	/* One document of 20,000: all of them in the latest document, so
	 * the next one moves 20,000 in_latest marks. */
	CHECK_INT(big_doc(st, "big", "past", 0, 20000, 512, 0, &r), 0);
	tr_store_defer_index(st, 0);
	CHECK_INT(tr_store_index(st), 0);
	for (i = 0; i < 2; i++) {
		memset(&r, 0, sizeof(r));
		tr_store_group_begin(st);
		CHECK_INT(big_doc(st, "big", i ? "newer" : "new", 0, 3000,
			      4096, i, &r),
		    0);
		CHECK_INT(tr_store_group_end(st), 0);
		CHECK_INT(r.added, 3000);
	}
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 26000);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"
				" WHERE in_latest = 1"),
	    3000);
	tr_store_close(st);
	tr_config_free(cfg);
	rm_db(path);
}

/*
 * Retention over 100,000 articles: keep_items and keep_days each delete
 * thousands of rows, a few thousand of them with full content, in one
 * transaction; everything searchable, so each delete also updates the
 * full-text index.
 */
static void
test_retention_over_100000(void)
{
	static const char conf_keep[] = "[tributary]\n"
					"database = x.db\n"
					"keep_items = 2000\n"
					"[feed \"big\"]\n"
					"url = http://127.0.0.1:1/big.xml\n"
					"[feed \"small\"]\n"
					"url = http://127.0.0.1:1/small.xml\n";
	char *path = tmp_db();
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf_big), *keep = cfg_from(conf_keep);
	struct tr_store_result r;
	int64_t deleted = -1;
	int i;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	tr_store_defer_index(st, 1);
	/* 95,000 short articles, then 5,000 of 4 KiB, in documents of
	 * 5,000 (each document leaves the previous ones' in_latest). */
	for (i = 0; i < 19; i++)
		CHECK_INT(big_doc(st, "big", "a", i * 5000, 5000, 64, 0, &r), 0);
	CHECK_INT(big_doc(st, "small", "s", 0, 5000, 4096, 0, &r), 0);
	CHECK_INT(big_doc(st, "small", "t", 0, 10, 64, 0, &r), 0);
	tr_store_defer_index(st, 0);
	CHECK_INT(tr_store_index(st), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"), 100010);
	CHECK_INT(tr_store_retention(st, keep, 2000000, &deleted), 0);
	if (deleted < 0)
		printf("  retention: %s\n", tr_store_errmsg(st));
	/* big keeps its latest document's 5,000 (its newest 2,000 among
	 * them); small its 2,000 newest large ones and its latest
	 * document's 10 older short ones. */
	CHECK_INT(deleted, (95000 - 5000) + (5000 - 2000));
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles"),
	    100010 - deleted);
	CHECK(fts_ok(path));
	tr_store_close(st);
	tr_config_free(keep);
	tr_config_free(cfg);
	rm_db(path);
}

TR_TESTS(test_large_documents_change, test_new_ids_on_long_past,
    test_retention_over_100000)
