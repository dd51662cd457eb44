/*
 * test_store_damage.c — a database damaged in the middle of the file:
 * the store notices at open (PRAGMA quick_check) and on any "malformed"
 * error, says so (tr_store_damaged), refuses to write into it, and the
 * full check (tr_store_check) lists the damage.
 */
#include "test_store_util.h"
#include "tributary/log.h"

static const char conf1[] = "[tributary]\n"
			    "database = x.db\n"
			    "[feed \"alpha\"]\n"
			    "url = http://127.0.0.1:1/a.xml\n";

/* A store with n articles of feed alpha, closed; its path. */
static char *
filled(int n)
{
	char *path = tmp_db();
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf1);
	struct tr_store_batch *b = NULL;
	struct tr_article a;
	char id[32], text[600];
	int i;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	CHECK_INT(tr_store_batch_begin(&b, st, "alpha"), 0);
	for (i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "item-%d", i);
		memset(text, 'a' + i % 26, sizeof(text) - 1);
		text[sizeof(text) - 1] = '\0';
		mkart(&a, id, NULL, id, 1000000 + i);
		a.content = strdup(text);
		CHECK_INT(tr_store_batch_add(b, &a), 0);
		tr_article_free(&a);
	}
	CHECK_INT(tr_store_batch_commit(b, NULL, NULL), 0);
	tr_store_batch_free(b);
	tr_store_close(st);
	tr_config_free(cfg);
	return path;
}

/* The page number of the middle page of object name (dbstat), or 0. */
static int64_t
middle_page(const char *path, const char *name)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
	    "SELECT pageno FROM dbstat WHERE name = '%s' ORDER BY pageno"
	    " LIMIT 1 OFFSET (SELECT count(*) / 2 FROM dbstat"
	    " WHERE name = '%s')",
	    name, name);
	return sql_int(path, sql);
}

/* Overwrites page pgno with fill, past its first bytes. */
static void
damage(const char *path, int64_t pgno, int fill)
{
	static char junk[65536];
	int64_t size = sql_int(path, "PRAGMA page_size");
	FILE *fp = NULL;

	CHECK(size >= 512 && size <= (int64_t)sizeof(junk));
	if (size >= 512 && size <= (int64_t)sizeof(junk))
		fp = fopen(path, "r+b");
	CHECK(fp != NULL);
	if (fp == NULL)
		return;
	memset(junk, fill, (size_t)size - 16);
	fseek(fp, (long)((pgno - 1) * size + 8), SEEK_SET);
	fwrite(junk, 1, (size_t)size - 16, fp);
	fclose(fp);
}

static int
count_cb(const char *problem, void *arg)
{
	(void)problem;
	(*(int *)arg)++;
	return 0;
}

/*
 * Each kind of damage: the store opens (so that it can say what is
 * wrong), is marked damaged with a message naming the file, refuses a
 * write with that message, and the full check finds problems. An
 * undamaged store of the same shape passes both checks.
 */
static void
test_damage_in_the_middle(void)
{
	static const struct {
		const char *what;
		const char *object;
		int fill;
	} cases[] = {
	    {"garbage over an articles page", "articles", 0x5a},
	    {"zeros over a date index page", "articles_sort", 0},
	    {"garbage over a full-text index page", "articles_fts_data", 0xff},
	    {NULL, NULL, 0}, /* no damage */
	};
	size_t c;

	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char *path = filled(3000);
		struct tr_store *st = NULL;
		struct tr_store_batch *b = NULL;
		struct tr_article a;
		const char *why = NULL;
		int problems = 0, rc;

		if (cases[c].what) {
			int64_t pg = middle_page(path, cases[c].object);

			CHECK(pg > 1);
			damage(path, pg, cases[c].fill);
		}
		rc = tr_store_open(&st, path, 0);
		CHECK_INT(rc, 0);
		if (cases[c].what == NULL) {
			CHECK(!tr_store_damaged(st, &why));
			CHECK_INT(tr_store_check(st, 1, count_cb, &problems), 0);
			CHECK_INT(problems, 0);
			tr_store_close(st);
			rm_db(path);
			continue;
		}
		if (!tr_store_damaged(st, &why))
			printf("  [%s] not noticed at open\n", cases[c].what);
		CHECK(tr_store_damaged(st, &why));
		CHECK(why != NULL && strstr(why, path) != NULL);
		CHECK(why != NULL && strstr(why, "damaged") != NULL);
		/* No write goes in. */
		rc = tr_store_batch_begin(&b, st, "alpha");
		if (rc == 0) {
			mkart(&a, "new", NULL, "new", 5);
			rc = tr_store_batch_add(b, &a);
			if (rc == 0)
				rc = tr_store_batch_commit(b, NULL, NULL);
			tr_article_free(&a);
			tr_store_batch_free(b);
		}
		CHECK_INT(rc, TR_ESTORE);
		CHECK(strstr(tr_store_errmsg(st), "damaged") != NULL);
		/* The full check lists the damage. */
		CHECK(tr_store_check(st, 1, count_cb, &problems) != 0 ||
		    problems > 0);
		CHECK(problems > 0);
		tr_store_close(st);
		/* A read-only handle sees it too, when asked to check. */
		st = NULL;
		CHECK_INT(tr_store_open(&st, path,
			      TR_STORE_READONLY | TR_STORE_CHECK),
		    0);
		CHECK(tr_store_damaged(st, &why));
		tr_store_close(st);
		rm_db(path);
	}
}

/* Counts the debug lines that say the check at open was skipped. */
static void
skip_sink(enum tr_log_level level, const char *msg, void *arg)
{
	(void)level;
	if (strstr(msg, "unchanged since it was last checked") != NULL)
		(*(int *)arg)++;
}

/* Writes text over the marker's content (the stamp is its last line). */
static void
rewrite_marker(const char *path, const char *text)
{
	char f[512];
	FILE *fp;

	snprintf(f, sizeof(f), "%s-tributary", path);
	fp = fopen(f, "w");
	CHECK(fp != NULL);
	if (fp == NULL)
		return;
	fputs(text, fp);
	fclose(fp);
}

/*
 * The check at open is skipped only for a file that nothing has written
 * since a writer closed it cleanly (the stamp in the marker): each case
 * changes something after filled()'s clean close, then opens a writer
 * and says whether the check must run and whether it finds damage.
 */
static void
test_check_skipped_only_when_unchanged(void)
{
	enum change {
		NOTHING,
		OVERWRITTEN,   /* a page overwritten by hand */
		TOUCHED,       /* times changed, bytes not */
		NO_STAMP,      /* the marker without its last line */
		GARBLED,       /* the stamp's numbers changed */
		WAL_CONTENT,   /* another connection's writes in the WAL */
		DAMAGED_SEEN,  /* an earlier open found damage and closed */
		REPLACED       /* a copy of the file put in its place */
	};
	static const struct {
		const char *what;
		enum change change;
		int checked, damaged;
	} cases[] = {
	    {"closed cleanly, nothing since", NOTHING, 0, 0},
	    {"a page overwritten after the close", OVERWRITTEN, 1, 1},
	    {"the file's times changed", TOUCHED, 1, 0},
	    {"the marker without a stamp", NO_STAMP, 1, 0},
	    {"a garbled stamp", GARBLED, 1, 0},
	    {"another connection's writes in the WAL", WAL_CONTENT, 1, 0},
	    {"damage found by the last open", DAMAGED_SEEN, 1, 1},
	    {"the file replaced by a copy", REPLACED, 1, 0},
	};
	size_t c;

	if (is_pg())
		return;
	for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		char *path = filled(300), f[512], cmd[1200];
		enum tr_log_level old = tr_log_get_level();
		struct tr_store *st = NULL;
		sqlite3 *other = NULL;
		const char *why = NULL;
		int skipped = 0;

		switch (cases[c].change) {
		case NOTHING:
			break;
		case OVERWRITTEN:
		case DAMAGED_SEEN:
			damage(path, middle_page(path, "articles"), 0x5a);
			if (cases[c].change == OVERWRITTEN)
				break;
			CHECK_INT(tr_store_open(&st, path, 0), 0);
			CHECK(tr_store_damaged(st, &why));
			tr_store_close(st);
			st = NULL;
			break;
		case TOUCHED:
			snprintf(cmd, sizeof(cmd), "touch -d '+1 hour' '%s'",
			    path);
			CHECK_INT(system(cmd), 0);
			break;
		case NO_STAMP:
			rewrite_marker(path, "A tributary database lives "
					     "beside this file.\n");
			break;
		case GARBLED:
			rewrite_marker(path, "checked 1 2 3 4.000000000 "
					     "5.000000000\n");
			break;
		case WAL_CONTENT:
			CHECK_INT(sqlite3_open(path, &other), SQLITE_OK);
			CHECK_INT(sqlite3_exec(other, "CREATE TABLE x(y)", NULL,
				      NULL, NULL),
			    SQLITE_OK);
			break;
		case REPLACED:
			snprintf(f, sizeof(f), "%s.copy", path);
			snprintf(cmd, sizeof(cmd), "cp '%s' '%s' && mv '%s' '%s'",
			    path, f, f, path);
			CHECK_INT(system(cmd), 0);
			break;
		}
		tr_log_set_level(TR_LOG_DEBUG);
		tr_log_set_sink(skip_sink, &skipped);
		CHECK_INT(tr_store_open(&st, path, 0), 0);
		tr_log_set_sink(NULL, NULL);
		tr_log_set_level(old);
		if (skipped != !cases[c].checked)
			printf("  [%s] check %s\n", cases[c].what,
			    skipped ? "skipped" : "ran");
		CHECK_INT(skipped, !cases[c].checked);
		CHECK_INT(tr_store_damaged(st, &why), cases[c].damaged);
		tr_store_close(st);
		sqlite3_close(other);
		rm_db(path);
	}
}

TR_TESTS(test_damage_in_the_middle, test_check_skipped_only_when_unchanged)
