/*
 * store_sqlite_hosts.c — host slots of the SQLite backend (store.h:
 * tr_store_host_take): the per-host connection limit across the
 * processes that poll one SQLite store.
 *
 * Every process of one SQLite store runs on one host: WAL mode keeps its
 * index in shared memory (SQLite's documentation: WAL does not work over
 * a network file system). So a slot need not be a row: it is a write
 * lock on one byte of the marker file a writer keeps beside the
 * database (MARKER_SUFFIX), taken with F_OFD_SETLK. An open file
 * description's lock
 *
 * - conflicts with every other open file description's lock on the
 *   byte, in this process too (two handles, two rounds), unlike a
 *   classic POSIX lock, which a process shares with itself and loses
 *   when any of its descriptors of the file is closed;
 * - is given back by the kernel when the process ends, killed or not,
 *   so a dead node's slots come back at once and need no expiry;
 * - costs one system call and writes nothing: it never waits for the
 *   database's write lock, which a round's writer thread holds for most
 *   of the round (its groups), so taking a slot does not slow a round
 *   that has the store to itself.
 *
 * The byte of slot k of a host is 64 * bucket + k, bucket the host's
 * hash modulo 2^40 (per_host is at most 64): two hosts in one bucket
 * would share their slots, which is stricter, never looser, and with
 * 2^40 buckets does not happen in practice. Locks past the end of the
 * file are allowed; the file's bytes are never touched.
 *
 * The kernel does not stop a description from taking a byte it already
 * holds, so the handle keeps the slots it holds and skips them.
 */
#define _GNU_SOURCE /* F_OFD_SETLK (Linux 3.15, glibc) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store_sqlite_int.h"
#include "tributary/error.h"
#include "tributary/hash.h"

#ifndef F_OFD_SETLK
/* Classic locks elsewhere: per process (a process does not keep its own
 * second handle out; its fetch engine's per_host count still does). */
#define F_OFD_SETLK F_SETLK
#endif

#define SLOTS_PER_BUCKET 64
#define BUCKETS ((uint64_t)1 << 40)

struct held {
	uint64_t bucket;
	int slot;
};

struct tr_store_hosts {
	const struct store_ops *ops; /* first: &store_sqlite_ops */
	int fd;			     /* the marker, or -1: no file */
	char *path;		     /* the marker's */
	struct held *held;	     /* the slots this handle holds */
	size_t n_held, cap_held;
	char errmsg[512];
};

static int
hosts_err(struct tr_store_hosts *h, int rc, const char *what, int err)
{
	snprintf(h->errmsg, sizeof(h->errmsg), "%s: %s: %s", h->path, what,
	    strerror(err));
	return rc;
}

int
sq_hosts_open(struct tr_store_hosts **out, struct tr_store *st)
{
	struct tr_store_hosts *h;
	size_t n;

	*out = NULL;
	if (st->readonly)
		return store_err(st, TR_EINVAL, "%s: host slots need a "
		    "writable handle", st->path);
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return store_err(st, TR_ENOMEM, "out of memory");
	h->ops = st->ops;
	h->fd = -1;
	/* No file (in memory, or a URI SQLite opens): one process only. */
	if (st->file_ino == 0 || strncmp(st->path, "file:", 5) == 0) {
		*out = h;
		return 0;
	}
	n = strlen(st->path) + sizeof(MARKER_SUFFIX);
	if ((h->path = malloc(n)) == NULL) {
		free(h);
		return store_err(st, TR_ENOMEM, "out of memory");
	}
	snprintf(h->path, n, "%s%s", st->path, MARKER_SUFFIX);
	/* The writer that opened st made the marker; O_CREAT only in case
	 * it was removed since. */
	h->fd = open(h->path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (h->fd < 0) {
		int err = errno;

		store_err(st, TR_ESTORE, "%s: cannot open it for the per-host "
		    "limit across processes: %s (may this user write it?)",
		    h->path, strerror(err));
		free(h->path);
		free(h);
		return TR_ESTORE;
	}
	*out = h;
	return 0;
}

/* Locks (type F_WRLCK) or unlocks (F_UNLCK) the byte of bucket's slot
 * k: 0, 1 when another description holds it, or -errno. */
static int
lock_byte(int fd, uint64_t bucket, int k, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = (off_t)(bucket * SLOTS_PER_BUCKET + (uint64_t)k);
	fl.l_len = 1;
	fl.l_pid = 0; /* F_OFD_SETLK wants 0 */
	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES)
		return 1;
	return -errno;
}

static int
is_held(const struct tr_store_hosts *h, uint64_t bucket, int k)
{
	size_t i;

	for (i = 0; i < h->n_held; i++)
		if (h->held[i].bucket == bucket && h->held[i].slot == k)
			return 1;
	return 0;
}

int
sq_host_take(struct tr_store_hosts *h, int *slot, const char *host,
    int limit, int64_t now, int64_t ttl)
{
	uint64_t bucket = tr_hash_str(host) % BUCKETS;
	int k, r;

	(void)now; /* the kernel ends a lock with its process: no expiry */
	(void)ttl;
	*slot = -1;
	if (h->fd < 0) {
		*slot = 0;
		return 0;
	}
	if (limit > SLOTS_PER_BUCKET)
		limit = SLOTS_PER_BUCKET;
	if (h->n_held == h->cap_held) {
		size_t cap = h->cap_held ? h->cap_held * 2 : 16;
		struct held *n = realloc(h->held, cap * sizeof(*n));

		if (n == NULL)
			return TR_ENOMEM;
		h->held = n;
		h->cap_held = cap;
	}
	for (k = 0; k < limit; k++) {
		if (is_held(h, bucket, k))
			continue;
		if ((r = lock_byte(h->fd, bucket, k, F_WRLCK)) < 0)
			return hosts_err(h, TR_ESTORE, "taking a host slot", -r);
		if (r == 0) {
			h->held[h->n_held].bucket = bucket;
			h->held[h->n_held++].slot = k;
			*slot = k;
			return 0;
		}
	}
	return 0;
}

int
sq_host_give(struct tr_store_hosts *h, const char *host, int slot)
{
	uint64_t bucket = tr_hash_str(host) % BUCKETS;
	size_t i;
	int r;

	if (h->fd < 0)
		return 0;
	for (i = 0; i < h->n_held; i++) {
		if (h->held[i].bucket != bucket || h->held[i].slot != slot)
			continue;
		h->held[i] = h->held[--h->n_held];
		if ((r = lock_byte(h->fd, bucket, slot, F_UNLCK)) < 0)
			return hosts_err(h, TR_ESTORE, "giving a host slot "
			    "back", -r);
		return 0;
	}
	return 0;
}

/* A slot goes back at once (one system call): nothing is kept. */
int
sq_hosts_flush(struct tr_store_hosts *h)
{
	(void)h;
	return 0;
}

const char *
sq_hosts_errmsg(const struct tr_store_hosts *h)
{
	return h->errmsg;
}

void
sq_hosts_close(struct tr_store_hosts *h)
{
	/* Closing the only descriptor of the description ends its locks. */
	if (h->fd >= 0)
		close(h->fd);
	free(h->held);
	free(h->path);
	free(h);
}
