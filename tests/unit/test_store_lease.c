/*
 * test_store_lease.c — feed leases: two handles (two processes, or two
 * hosts on one database) claim feeds; each feed goes to one of them,
 * an expired lease can be taken over, a released one at once, and a
 * handle's own lease is renewed.
 */
#include <sys/wait.h>

#include "test_store_util.h"

static const char conf3[] = "[tributary]\n"
			    "database = x.db\n"
			    "[feed \"a\"]\nurl = http://127.0.0.1:1/a.xml\n"
			    "[feed \"b\"]\nurl = http://127.0.0.1:1/b.xml\n"
			    "[feed \"c\"]\nurl = http://127.0.0.1:1/c.xml\n";

static void
test_claims(void)
{
	static const char *const ab[] = {"a", "b"};
	static const char *const abc[] = {"a", "b", "c", "nosuch"};
	char *path = tmp_db();
	struct tr_store *one = NULL, *two = NULL, *ro = NULL;
	struct tr_config *cfg = cfg_from(conf3);
	unsigned char got[4];

	CHECK_INT(tr_store_open(&one, path, 0), 0);
	CHECK_INT(tr_store_sync_config(one, cfg), 0);
	CHECK_INT(tr_store_open(&two, path, 0), 0);
	CHECK(strcmp(tr_store_owner(one), tr_store_owner(two)) != 0);
	/* one takes a and b until 1000 + 60. */
	CHECK_INT(tr_store_claim(one, ab, NULL, 2, 1000, 60, got), 0);
	CHECK(got[0] && got[1]);
	/* two gets only c; an unknown name is not claimed. */
	CHECK_INT(tr_store_claim(two, abc, NULL, 4, 1010, 60, got), 0);
	CHECK(!got[0] && !got[1] && got[2] && !got[3]);
	/* one renews its own. */
	CHECK_INT(tr_store_claim(one, ab, NULL, 2, 1050, 60, got), 0);
	CHECK(got[0] && got[1]);
	/* Before the renewed lease ends, still one's; after, two's. */
	CHECK_INT(tr_store_claim(two, ab, NULL, 2, 1100, 60, got), 0);
	CHECK(!got[0] && !got[1]);
	CHECK_INT(tr_store_claim(two, ab, NULL, 2, 1110, 60, got), 0);
	CHECK(got[0] && got[1]);
	/* Released: free at once for the other. */
	CHECK_INT(tr_store_release(two), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM feeds"
				" WHERE lease_owner IS NOT NULL"),
	    0);
	CHECK_INT(tr_store_claim(one, abc, NULL, 3, 1111, 60, got), 0);
	CHECK(got[0] && got[1] && got[2]);
	/* A reader claims nothing. */
	CHECK_INT(tr_store_open(&ro, path, TR_STORE_READONLY), 0);
	CHECK_INT(tr_store_claim(ro, ab, NULL, 2, 2000, 60, got), TR_EINVAL);
	CHECK(!got[0] && !got[1]);
	tr_store_close(ro);
	tr_store_close(two);
	tr_store_close(one);
	tr_config_free(cfg);
	rm_db(path);
}

/*
 * A process of this host that died holding leases (killed, or it could
 * not release them): the next process takes them over at once, without
 * waiting for their expiry. A live one keeps them.
 */
static void
test_dead_owner(void)
{
	static const char *const ab[] = {"a", "b"};
	char *path = tmp_db();
	struct tr_store *st = NULL;
	struct tr_config *cfg = cfg_from(conf3);
	unsigned char got[2];
	int status = -1, up[2], down[2];
	pid_t pid;
	char c;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_sync_config(st, cfg), 0);
	tr_store_close(st);
	st = NULL;
	CHECK_INT(pipe(up), 0);
	CHECK_INT(pipe(down), 0);
	if ((pid = fork()) == 0) {
		struct tr_store *child = NULL;
		unsigned char g[2];

		if (tr_store_open(&child, path, 0) != 0 ||
		    tr_store_claim(child, ab, NULL, 2, 1000, 3600, g) != 0 ||
		    !g[0] || !g[1])
			_exit(1);
		tr_store_close(child);
		c = 'x';
		close(down[1]);
		if (write(up[1], &c, 1) != 1)
			_exit(1);
		/* Alive until the parent has tried once (then EOF). */
		if (read(down[0], &c, 1) != 0)
			_exit(1);
		_exit(0); /* dies holding a and b */
	}
	close(up[1]);
	close(down[0]);
	CHECK(read(up[0], &c, 1) == 1);
	close(up[0]);
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	/* The child runs: its leases hold. */
	CHECK_INT(tr_store_claim(st, ab, NULL, 2, 1010, 60, got), 0);
	CHECK(!got[0] && !got[1]);
	close(down[1]); /* the child's read ends: it exits */
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Gone: taken over long before 1000 + 3600. */
	CHECK_INT(tr_store_claim(st, ab, NULL, 2, 1020, 60, got), 0);
	CHECK(got[0] && got[1]);
	tr_store_close(st);
	tr_config_free(cfg);
	rm_db(path);
}

/*
 * A round reads the due feeds, then claims them: a feed another process
 * polled, saved and released in between (its last_check moved) is not
 * claimed, so no feed is polled twice for one due time.
 */
static void
test_claim_seen(void)
{
	static const char *const ab[] = {"a", "b"};
	const int64_t stale[] = {0, 0};
	char *path = tmp_db();
	struct tr_store *one = NULL, *two = NULL;
	struct tr_config *cfg = cfg_from(conf3);
	struct tr_feed_state fs;
	unsigned char got[2];

	CHECK_INT(tr_store_open(&one, path, 0), 0);
	CHECK_INT(tr_store_sync_config(one, cfg), 0);
	CHECK_INT(tr_store_open(&two, path, 0), 0);
	/* two read a and b as never checked; one polls a meanwhile. */
	CHECK_INT(tr_store_claim(one, ab, stale, 1, 1000, 60, got), 0);
	CHECK(got[0]);
	CHECK_INT(tr_store_feed_get(one, &fs, "a"), 0);
	fs.last_check = 1001;
	fs.next_check = 4600;
	CHECK_INT(tr_store_feed_save(one, &fs), 0);
	tr_feed_state_free(&fs);
	CHECK_INT(tr_store_release(one), 0);
	/* two's claim with what it read: a moved on, b is still as read. */
	CHECK_INT(tr_store_claim(two, ab, stale, 2, 1002, 60, got), 0);
	CHECK(!got[0] && got[1]);
	/* With the current last_check it is claimed. */
	{
		const int64_t now_seen[] = {1001, 0};

		CHECK_INT(tr_store_claim(two, ab, now_seen, 2, 1003, 60, got),
		    0);
		CHECK(got[0] && got[1]);
	}
	tr_store_close(two);
	tr_store_close(one);
	tr_config_free(cfg);
	rm_db(path);
}

TR_TESTS(test_claims, test_dead_owner, test_claim_seen)
