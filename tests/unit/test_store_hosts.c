/*
 * test_store_hosts.c — host slots (tr_store_host_take): the per-host
 * connection limit across processes sharing one store. Two handles take
 * and give slots by a table of steps; a process that dies holding slots
 * leaves them (SQLite: at once; PostgreSQL: at their expiry); processes
 * taking and giving at once never hold more than the limit together.
 */
#include <sched.h>
#include <stdatomic.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test_store_util.h"

struct step {
	int who;	  /* handle 0 or 1 */
	char op;	  /* 't' take, 'g' give, 'f' flush */
	const char *host; /* "host:port", as tr_fetch_host() makes it */
	int limit;	  /* take: per_host */
	int slot;	  /* give: the slot; take: the slot wanted (-1: none) */
};

static const struct step steps[] = {
    {0, 't', "a.example:80", 2, 0},
    {0, 't', "a.example:80", 2, 1},
    /* Both held (by the taker itself): none. */
    {0, 't', "a.example:80", 2, -1},
    /* The other handle (another process) finds them held too. */
    {1, 't', "a.example:80", 2, -1},
    {1, 't', "a.example:80", 1, -1},
    /* Each host:port has slots of its own. */
    {1, 't', "b.example:80", 2, 0},
    {1, 't', "a.example:443", 2, 0},
    /* A larger limit has more slots: the largest limit holds. */
    {1, 't', "a.example:80", 3, 2},
    {1, 't', "a.example:80", 3, -1},
    /* Given back, the same handle takes it again (on PostgreSQL the
     * handle kept it: no statement). */
    {0, 'g', "a.example:80", 0, 1},
    {0, 't', "a.example:80", 2, 1},
    /* Given back and flushed: the other handle gets it. */
    {0, 'g', "a.example:80", 0, 0},
    {0, 'f', NULL, 0, 0},
    {1, 't', "a.example:80", 2, 0},
    {0, 't', "a.example:80", 2, -1},
    /* Giving back a slot it no longer holds frees nobody's. */
    {0, 'g', "a.example:80", 0, 0},
    {0, 'f', NULL, 0, 0},
    {0, 't', "a.example:80", 3, -1},
    {1, 'g', "a.example:80", 0, 2},
    {1, 'f', NULL, 0, 0},
    {0, 't', "a.example:80", 3, 2},
    /* A limit of 0 counts as 1. */
    {1, 't', "c.example:80", 0, 0},
    {0, 't', "c.example:80", 0, -1},
};

static void
test_slot_steps(void)
{
	char *path = tmp_db();
	struct tr_store *st[2] = {NULL, NULL};
	struct tr_store_hosts *h[2] = {NULL, NULL};
	size_t i;
	int slot;

	for (i = 0; i < 2; i++) {
		CHECK_INT(tr_store_open(&st[i], path, 0), 0);
		CHECK_INT(tr_store_hosts_open(&h[i], st[i]), 0);
	}
	/* The store handle may go first: the slots have their own. */
	tr_store_close(st[1]);
	st[1] = NULL;
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		const struct step *s = &steps[i];

		if (s->op == 'f') {
			CHECK_INT(tr_store_hosts_flush(h[s->who]), 0);
			continue;
		}
		if (s->op == 'g') {
			CHECK_INT(tr_store_host_give(h[s->who], s->host,
			    s->slot), 0);
			continue;
		}
		slot = -2;
		CHECK_INT(tr_store_host_take(h[s->who], &slot, s->host,
		    s->limit, 1000, 60), 0);
		if (slot != s->slot)
			printf("  step %zu: handle %d takes %s (limit %d)\n", i,
			    s->who, s->host, s->limit);
		CHECK_INT(slot, s->slot);
	}
	/* Closed: every slot of the handle is free at once. */
	tr_store_hosts_close(h[1]);
	h[1] = NULL;
	CHECK_INT(tr_store_host_take(h[0], &slot, "a.example:80", 2, 1000, 60),
	    0);
	CHECK_INT(slot, 0);
	CHECK_INT(tr_store_host_take(h[0], &slot, "b.example:80", 1, 1000, 60),
	    0);
	CHECK_INT(slot, 0);
	tr_store_hosts_close(h[0]);
	tr_store_close(st[0]);
	rm_db(path);
}

/* A read-only handle takes no slots, and says so. */
static void
test_readonly(void)
{
	char *path = tmp_db();
	struct tr_store *st = NULL, *ro = NULL;
	struct tr_store_hosts *h = NULL;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_open(&ro, path, TR_STORE_READONLY), 0);
	CHECK_INT(tr_store_hosts_open(&h, ro), TR_EINVAL);
	CHECK(h == NULL);
	CHECK(strstr(tr_store_errmsg(ro), "writable") != NULL ||
	    strstr(tr_store_errmsg(ro), "read-only") != NULL);
	tr_store_close(ro);
	tr_store_close(st);
	rm_db(path);
}

/*
 * A process that dies holding slots: while it runs they hold; once it is
 * gone they are free at once, long before their expiry: on SQLite the
 * kernel ends its locks, on PostgreSQL a take that finds the host full
 * frees the slots of a process of this host that no longer runs.
 */
static void
test_dead_holder(void)
{
	char *path = tmp_db();
	struct tr_store *st = NULL;
	struct tr_store_hosts *h = NULL;
	int status = -1, up[2], down[2], slot = -2;
	pid_t pid;
	char c;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	tr_store_close(st);
	st = NULL;
	CHECK_INT(pipe(up), 0);
	CHECK_INT(pipe(down), 0);
	if ((pid = fork()) == 0) {
		struct tr_store *cst = NULL;
		struct tr_store_hosts *ch = NULL;
		int a = -1, b = -1;

		if (tr_store_open(&cst, path, 0) != 0 ||
		    tr_store_hosts_open(&ch, cst) != 0 ||
		    tr_store_host_take(ch, &a, "a.example:80", 2, 1000, 60) ||
		    tr_store_host_take(ch, &b, "a.example:80", 2, 1000, 60) ||
		    a != 0 || b != 1)
			_exit(1);
		c = 'x';
		close(down[1]);
		if (write(up[1], &c, 1) != 1)
			_exit(1);
		if (read(down[0], &c, 1) != 0)
			_exit(1);
		_exit(0); /* dies holding both */
	}
	close(up[1]);
	close(down[0]);
	CHECK(read(up[0], &c, 1) == 1);
	close(up[0]);
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_hosts_open(&h, st), 0);
	CHECK_INT(tr_store_host_take(h, &slot, "a.example:80", 2, 1010, 60), 0);
	CHECK_INT(slot, -1);
	close(down[1]);
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	CHECK_INT(tr_store_host_take(h, &slot, "a.example:80", 2, 1011, 60), 0);
	CHECK_INT(slot, 0);
	CHECK_INT(tr_store_host_take(h, &slot, "a.example:80", 2, 1011, 60), 0);
	CHECK_INT(slot, 1);
	tr_store_hosts_close(h);
	tr_store_close(st);
	rm_db(path);
}

/*
 * PostgreSQL: slots held by a node of another host (which may be alive)
 * hold until their expiry, then are taken.
 */
static void
test_expiry_pg(void)
{
	char *path;
	struct tr_store *st = NULL;
	struct tr_store_hosts *h = NULL;
	int slot = -2;

	if (!is_pg())
		SKIP("SQLite's slots end with their process, not by time");
	path = tmp_db();
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(sql_int(path, "INSERT INTO host_slots(host, slot, owner,"
				" expires) VALUES ('a.example:80', 0,"
				" 'elsewhere/1/7/x', 1060), ('a.example:80',"
				" 1, 'elsewhere/1/7/x', 1060) RETURNING 1"),
	    1);
	CHECK_INT(tr_store_hosts_open(&h, st), 0);
	CHECK_INT(tr_store_host_take(h, &slot, "a.example:80", 2, 1059, 60), 0);
	CHECK_INT(slot, -1);
	CHECK_INT(tr_store_host_take(h, &slot, "a.example:80", 2, 1060, 60), 0);
	CHECK_INT(slot, 0);
	CHECK_INT(sql_int(path, "SELECT expires FROM host_slots WHERE slot = 0"),
	    1120);
	tr_store_hosts_close(h);
	tr_store_close(st);
	rm_db(path);
}

/*
 * PostgreSQL: a slot given back stays the handle's (its row too) until
 * flushed; taken again with less than ttl - 30 s of its lease left, it
 * is renewed; a kept slot that expired and went to another handle is
 * not taken again: the handle takes another.
 */
static void
test_kept_pg(void)
{
	char *path;
	struct tr_store *st = NULL;
	struct tr_store_hosts *a = NULL, *b = NULL;
	int slot = -2;

	if (!is_pg())
		SKIP("SQLite gives a slot back at once");
	path = tmp_db();
	CHECK_INT(tr_store_open(&st, path, 0), 0);
	CHECK_INT(tr_store_hosts_open(&a, st), 0);
	CHECK_INT(tr_store_hosts_open(&b, st), 0);
	CHECK_INT(tr_store_host_take(a, &slot, "k:80", 2, 1000, 60), 0);
	CHECK_INT(slot, 0);
	CHECK_INT(tr_store_host_give(a, "k:80", 0), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM host_slots"
				" WHERE owner IS NOT NULL"),
	    1);
	/* 29 s left of 60: renewed until 1031 + 60. */
	CHECK_INT(tr_store_host_take(a, &slot, "k:80", 2, 1031, 60), 0);
	CHECK_INT(slot, 0);
	CHECK_INT(sql_int(path, "SELECT expires FROM host_slots"), 1091);
	CHECK_INT(tr_store_host_give(a, "k:80", 0), 0);
	CHECK_INT(tr_store_hosts_flush(a), 0);
	CHECK_INT(sql_int(path, "SELECT count(*) FROM host_slots"
				" WHERE owner IS NOT NULL"),
	    0);
	/* Kept past its expiry, taken by b: a takes the other slot. */
	CHECK_INT(tr_store_host_take(a, &slot, "k:80", 2, 2000, 60), 0);
	CHECK_INT(slot, 0);
	CHECK_INT(tr_store_host_give(a, "k:80", 0), 0);
	CHECK_INT(tr_store_host_take(b, &slot, "k:80", 2, 2061, 60), 0);
	CHECK_INT(slot, 0);
	CHECK_INT(tr_store_host_take(a, &slot, "k:80", 2, 2062, 60), 0);
	CHECK_INT(slot, 1);
	CHECK_INT(tr_store_host_take(a, &slot, "k:80", 2, 2062, 60), 0);
	CHECK_INT(slot, -1);
	tr_store_hosts_close(a);
	tr_store_hosts_close(b);
	tr_store_close(st);
	rm_db(path);
}

/*
 * Three processes take and give one host's two slots as fast as they
 * can; a counter in shared memory, moved while a slot is held, never
 * passes 2.
 */
#define RACERS 3
#define ROUNDS 150
static void
test_race(void)
{
	char *path = tmp_db();
	struct tr_store *st = NULL;
	atomic_int *shm;
	pid_t pids[RACERS];
	int i, status;

	CHECK_INT(tr_store_open(&st, path, 0), 0);
	tr_store_close(st);
	shm = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	CHECK(shm != MAP_FAILED);
	if (shm == MAP_FAILED)
		return;
	atomic_store(&shm[0], 0); /* in flight */
	atomic_store(&shm[1], 0); /* the most at once */
	atomic_store(&shm[2], 0); /* slots taken */
	atomic_store(&shm[3], 0); /* racers ready */
	for (i = 0; i < RACERS; i++) {
		if ((pids[i] = fork()) != 0)
			continue;
		struct tr_store *cst = NULL;
		struct tr_store_hosts *ch = NULL;
		int n, k, slot, cur, max;

		if (tr_store_open(&cst, path, 0) != 0 ||
		    tr_store_hosts_open(&ch, cst) != 0)
			_exit(1);
		tr_store_close(cst);
		/* All start together: on a busy machine a racer forked
		 * first could otherwise finish before the last starts. */
		atomic_fetch_add(&shm[3], 1);
		while (atomic_load(&shm[3]) < RACERS)
			sched_yield();
		for (n = 0; n < ROUNDS; n++) {
			do {
				if (tr_store_host_take(ch, &slot, "h:80", 2,
				    (int64_t)time(NULL), 60) != 0)
					_exit(2);
				if (slot < 0)
					sched_yield();
			} while (slot < 0);
			cur = atomic_fetch_add(&shm[0], 1) + 1;
			max = atomic_load(&shm[1]);
			while (cur > max &&
			    !atomic_compare_exchange_weak(&shm[1], &max, cur))
				;
			atomic_fetch_add(&shm[2], 1);
			/* Held a moment (up to 5 ms, less once another racer
			 * holds the second slot), so that slots overlap. */
			for (k = 0; k < 50 && atomic_load(&shm[0]) < 2; k++)
				usleep(100);
			atomic_fetch_sub(&shm[0], 1);
			/* As the fetch engine: it flushes when it waits. */
			if (tr_store_host_give(ch, "h:80", slot) != 0 ||
			    tr_store_hosts_flush(ch) != 0)
				_exit(3);
		}
		tr_store_hosts_close(ch);
		_exit(0);
	}
	for (i = 0; i < RACERS; i++) {
		status = -1;
		waitpid(pids[i], &status, 0);
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	CHECK_INT(atomic_load(&shm[2]), RACERS * ROUNDS);
	CHECK(atomic_load(&shm[1]) <= 2);
	/* Two at once did happen, or the test shows nothing. */
	CHECK_INT(atomic_load(&shm[1]), 2);
	munmap(shm, 4096);
	rm_db(path);
}

TR_TESTS(test_slot_steps, test_readonly, test_dead_holder, test_expiry_pg,
    test_kept_pg, test_race)
