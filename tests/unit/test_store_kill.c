/*
 * test_store_kill.c — the store under SIGKILL and under concurrent
 * readers and writers, on real files.
 */
#include <errno.h>
#include <signal.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>

#include "test_store_util.h"

#define N_FEEDS 5
#define ITEMS 20

static const char conf5[] = "[feed \"f0\"]\nurl = http://127.0.0.1:1/0\n"
			    "[feed \"f1\"]\nurl = http://127.0.0.1:1/1\n"
			    "[feed \"f2\"]\nurl = http://127.0.0.1:1/2\n"
			    "[feed \"f3\"]\nurl = http://127.0.0.1:1/3\n"
			    "[feed \"f4\"]\nurl = http://127.0.0.1:1/4\n";

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * The child: stores documents forever. Document k goes to feed k % 5 and
 * holds ITEMS new identities "k<k>-<j>" plus "shared-<j>" items whose
 * content changes every time (updates), with links shared across feeds
 * (cross-feed primaries move). After each commit it writes k to fd.
 */
static void
child(const char *path, int fd, int64_t first, int grouped)
{
	struct tr_store *st = NULL;
	char id[64], link[64], title[64], feed[8];
	int64_t k, pending[4];
	int j, np = 0;

	if (tr_store_open(&st, path, 0) != 0)
		_exit(3);
	if (grouped) {
		tr_store_group_begin(st);
		tr_store_defer_index(st, 1);
	}
	for (k = first;; k++) {
		struct tr_store_batch *b = NULL;
		struct tr_article a;

		snprintf(feed, sizeof(feed), "f%d", (int)(k % N_FEEDS));
		if (tr_store_batch_begin(&b, st, feed) != 0)
			_exit(4);
		for (j = 0; j < ITEMS + 3; j++) {
			if (j < ITEMS) {
				snprintf(id, sizeof(id), "k%lld-%d",
				    (long long)k, j);
				snprintf(link, sizeof(link),
				    "http://127.0.0.1/l%lld-%d",
				    (long long)(k % 7), j);
			} else {
				snprintf(id, sizeof(id), "shared-%d", j);
				snprintf(link, sizeof(link),
				    "http://127.0.0.1/s%lld-%d",
				    (long long)(k % 3), j);
			}
			snprintf(title, sizeof(title), "doc %lld item %d",
			    (long long)k, j);
			mkart(&a, id, link, title, 1000 + k);
			if (tr_store_batch_add(b, &a) != 0)
				_exit(5);
			tr_article_free(&a);
		}
		if (tr_store_batch_commit(b, NULL, NULL) != 0)
			_exit(6);
		tr_store_batch_free(b);
		pending[np++] = k;
		/* Grouped: durable (and reported) only once the group is. */
		if (grouped && np < 4)
			continue;
		if (grouped && (tr_store_group_commit(st) != 0 ||
				   (k % 16 == 0 && tr_store_index(st) != 0)))
			_exit(8);
		if (write(fd, pending, (size_t)np * sizeof(k)) !=
		    (ssize_t)((size_t)np * sizeof(k)))
			_exit(7);
		np = 0;
	}
}

/*
 * Kills a writer six times at random moments and checks the file: every
 * reported document whole, none half, indexes and FTS consistent. With
 * grouped, the writer commits four documents per transaction and
 * indexes for search every 16.
 */
static void
kill_safety(int grouped)
{
	char *path = tmp_db();
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf5);
	int64_t *done = calloc(100000, sizeof(*done));
	size_t n_done = 0, i;
	int round;
	char sql[256];

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	tr_store_close(st);
	srand((unsigned)time(NULL));
	for (round = 0; round < 6; round++) {
		int fds[2], status = 0;
		pid_t pid;
		int64_t k;

		CHECK_INT(pipe(fds), 0);
		fflush(stdout);
		if ((pid = fork()) == 0) {
			close(fds[0]);
			child(path, fds[1], (int64_t)round * 1000000,
			    grouped);
		}
		close(fds[1]);
		/*
		 * Once it reported its first durable document (up to 20 s: a
		 * sanitizer's build on a busy machine may take more than the
		 * whole window below to get there), let it run between 30
		 * and 230 ms more, reading its reports, so that every round
		 * kills a writer that has committed something.
		 */
		{
			struct timeval first = {20, 0};
			fd_set set;

			FD_ZERO(&set);
			FD_SET(fds[0], &set);
			if (select(fds[0] + 1, &set, NULL, NULL, &first) > 0 &&
			    read(fds[0], &k, sizeof(k)) == (ssize_t)sizeof(k) &&
			    n_done < 100000)
				done[n_done++] = k;
		}
		{
			double until = now_ms() + 30 + rand() % 200;

			while (now_ms() < until) {
				struct timeval tv = {0, 5000};
				fd_set set;

				FD_ZERO(&set);
				FD_SET(fds[0], &set);
				if (select(fds[0] + 1, &set, NULL, NULL, &tv) >
					0 &&
				    read(fds[0], &k, sizeof(k)) ==
					(ssize_t)sizeof(k) &&
				    n_done < 100000)
					done[n_done++] = k;
			}
		}
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
		while (read(fds[0], &k, sizeof(k)) == (ssize_t)sizeof(k))
			if (n_done < 100000)
				done[n_done++] = k;
		close(fds[0]);
	}
	CHECK(n_done >= 6); /* at least one per round */
	printf("  %zu documents committed across 6 kills\n", n_done);
	/* Opening runs WAL recovery; then everything must be consistent. */
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	tr_store_close(st);
	{
		sqlite3 *db = NULL;
		sqlite3_stmt *s = NULL;

		sqlite3_open(path, &db);
		sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL);
		CHECK(sqlite3_step(s) == SQLITE_ROW);
		CHECK_STR((const char *)sqlite3_column_text(s, 0), "ok");
		sqlite3_finalize(s);
		CHECK_INT(sqlite3_exec(db,
			      "INSERT INTO articles_fts(articles_fts) "
			      "VALUES ('integrity-check')",
			      NULL, NULL, NULL),
		    SQLITE_OK);
		sqlite3_close(db);
	}
	CHECK_INT(sql_int(path, "SELECT count(*) FROM (SELECT 1 FROM articles"
				" GROUP BY feed_id, identity"
				" HAVING count(*) > 1)"),
	    0);
	/* Every document is there whole or not at all. */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM (SELECT"
				" substr(identity, 1, instr(identity, '-')) p"
				" FROM articles WHERE identity GLOB 'k*'"
				" GROUP BY p HAVING count(*) <> 20)"),
	    0);
	/* One primary per canonical link: the earliest. */
	CHECK_INT(sql_int(path, "SELECT count(*) FROM (SELECT canon FROM"
				" articles WHERE canon IS NOT NULL GROUP BY"
				" canon HAVING sum(is_primary) <> 1)"),
	    0);
	for (i = 0; i < n_done; i++) {
		snprintf(sql, sizeof(sql),
		    "SELECT count(*) FROM articles a JOIN feeds f ON "
		    "f.id = a.feed_id WHERE f.name = 'f%d' AND "
		    "identity GLOB 'k%lld-*'",
		    (int)(done[i] % N_FEEDS), (long long)done[i]);
		if (sql_int(path, sql) != ITEMS) {
			CHECK_INT(sql_int(path, sql), ITEMS);
			break;
		}
	}
	/* Whatever a kill left out of the index, indexing brings in. */
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_index(st), 0);
	tr_store_close(st);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM articles_fts"
				" WHERE articles_fts MATCH 'doc'"),
	    sql_int(path, "SELECT count(*) FROM articles"));
	free(done);
	tr_config_free(cfg);
	rm_db(path);
}

static void
test_kill_safety(void)
{
	kill_safety(0);
}

static void
test_kill_safety_grouped(void)
{
	kill_safety(1);
}

struct snap {
	struct tr_store *writer;
	int items;
	int wrote;
	int rc;
	double ms;
};

/* In the middle of a reader's query, the writer commits a document. */
static int
write_during_read(const struct tr_item *it, void *arg)
{
	struct snap *s = arg;

	(void)it;
	if (s->items++ == 0) {
		struct tr_article a;
		double t0 = now_ms();

		mkart(&a, "during", NULL, "written during a read", 5000);
		s->rc = store_doc(s->writer, "f1", &a, 1, NULL);
		s->ms = now_ms() - t0;
		s->wrote = 1;
		tr_article_free(&a);
	}
	return 0;
}

static void
test_readers_and_writer(void)
{
	char *path = tmp_db();
	struct tr_store *st = NULL, *ro = NULL;
	struct tr_config *cfg = cfg_from(conf5);
	struct page *p = calloc(1, sizeof(*p));
	struct tr_query q = q_all();
	struct tr_article v[3];
	struct snap s = {NULL, 0, 0, -1, 0};
	sqlite3 *w = NULL;
	double t0;
	int64_t gen = 0;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	mkart(&v[0], "x1", NULL, "x1", 100);
	mkart(&v[1], "x2", NULL, "x2", 200);
	mkart(&v[2], "x3", NULL, "x3", 300);
	CHECK_INT(store_doc(st, "f0", v, 3, NULL), 0);
	CHECK_INT(tr_store_open(&ro, path, TR_STORE_READONLY), 0);

	/* A long write transaction of another process... */
	CHECK_INT(sqlite3_open(path, &w), SQLITE_OK);
	CHECK_INT(sqlite3_exec(w,
		      "BEGIN IMMEDIATE; UPDATE articles SET title = 'locked'"
		      " WHERE identity = 'x1'",
		      NULL, NULL, NULL),
	    SQLITE_OK);
	/* ...does not block a reader, which sees the committed state. */
	t0 = now_ms();
	CHECK_INT(query(ro, &q, p, NULL), 0);
	CHECK(now_ms() - t0 < 1000);
	CHECK_INT(p->n, 3);
	if (p->n == 3)
		CHECK_STR(p->items[2].title, "x1");
	CHECK_INT(tr_store_generation(ro, &gen, NULL), 0);
	CHECK_INT(sqlite3_exec(w, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(w);

	/* A reader in the middle of its query does not block the writer. */
	s.writer = st;
	CHECK_INT(tr_store_query(ro, &q, write_during_read, &s, NULL), 0);
	CHECK(s.wrote);
	CHECK_INT(s.rc, 0);
	CHECK(s.ms < 1000);
	/* The reader's query kept its snapshot: 3, not 4. */
	CHECK_INT(s.items, 3);
	/* Its next query sees the new article. */
	CHECK_INT(query(ro, &q, p, NULL), 0);
	CHECK_INT(p->n, 4);
	page_free(p);
	free(p);
	free_arts(v, 3);
	tr_config_free(cfg);
	tr_store_close(ro);
	tr_store_close(st);
	rm_db(path);
}

/* Several processes opening one new file at once: one schema, no error. */
static void
concurrent_first_open(void)
{
	char *path = tmp_db();
	pid_t pids[4];
	int i, status;

	for (i = 0; i < 4; i++) {
		fflush(stdout);
		if ((pids[i] = fork()) == 0) {
			struct tr_store *st = NULL;
			int rc = tr_store_open(&st, path, 0);

			if (rc != 0)
				printf("  child: %s\n", tr_store_errmsg(st));
			fflush(stdout); /* _exit does not */
			tr_store_close(st);
			_exit(rc == 0 ? 0 : 1);
		}
	}
	for (i = 0; i < 4; i++) {
		status = -1;
		waitpid(pids[i], &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	CHECK_INT(sql_int(path, "PRAGMA user_version"), 11);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM meta"), 3);
	rm_db(path);
}

/*
 * Many rounds of concurrent_first_open(): the race (one process
 * switching the file to WAL while another migrates it) is lost only now
 * and then.
 */
static void
test_concurrent_first_open(void)
{
	int round;

	for (round = 0; round < 25; round++)
		concurrent_first_open();
}

TR_TESTS(test_kill_safety, test_kill_safety_grouped, test_readers_and_writer, test_concurrent_first_open)
