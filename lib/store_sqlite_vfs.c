/*
 * store_vfs.c — a thin SQLite VFS in front of the default one that
 * writes statement journals in pieces.
 *
 * SQLite keeps a statement journal in memory (store.c's
 * STMT_JOURNAL_SPILL) in chunks the size of the spill threshold, and
 * when it spills it copies each chunk to a temporary file in one xWrite.
 * The unix VFS masks the length of one write to 17 bits (it assumes no
 * write passes 128 KiB: seekAndWriteFd() in os_unix.c, SQLite 3.40), so
 * a 4 MiB chunk was written as 0 bytes, which SQLite reports as
 * SQLITE_FULL, "database or disk is full", on a disk with room. This
 * VFS hands each write of a statement journal to the VFS below in pieces
 * of at most 64 KiB. Every other file is opened by the VFS below itself,
 * with its own methods: nothing else passes through here.
 *
 * It becomes SQLite's default VFS (wrapping the default of that moment),
 * so a VFS a test registers later as the default wraps this one.
 */
#include <string.h>

#include "store_sqlite_int.h"

/* The largest piece one write passes down. */
#define PIECE (64 << 10)

struct piece_file {
	sqlite3_file base;
	sqlite3_file *real; /* right after this struct */
};

static sqlite3_vfs piece_vfs;
static sqlite3_vfs *below;

static int
p_close(sqlite3_file *f)
{
	struct piece_file *p = (struct piece_file *)f;

	return p->real->pMethods ? p->real->pMethods->xClose(p->real)
				 : SQLITE_OK;
}

static int
p_read(sqlite3_file *f, void *buf, int n, sqlite3_int64 off)
{
	struct piece_file *p = (struct piece_file *)f;

	return p->real->pMethods->xRead(p->real, buf, n, off);
}

static int
p_write(sqlite3_file *f, const void *buf, int n, sqlite3_int64 off)
{
	struct piece_file *p = (struct piece_file *)f;
	const char *b = buf;
	int rc = SQLITE_OK, k;

	while (n > 0 && rc == SQLITE_OK) {
		k = n > PIECE ? PIECE : n;
		rc = p->real->pMethods->xWrite(p->real, b, k, off);
		b += k;
		off += k;
		n -= k;
	}
	return rc;
}

static int
p_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	struct piece_file *p = (struct piece_file *)f;

	return p->real->pMethods->xTruncate(p->real, size);
}

static int
p_sync(sqlite3_file *f, int flags)
{
	struct piece_file *p = (struct piece_file *)f;

	return p->real->pMethods->xSync(p->real, flags);
}

static int
p_size(sqlite3_file *f, sqlite3_int64 *size)
{
	struct piece_file *p = (struct piece_file *)f;

	return p->real->pMethods->xFileSize(p->real, size);
}

static int
p_lock(sqlite3_file *f, int l)
{
	struct piece_file *p = (struct piece_file *)f;

	return p->real->pMethods->xLock(p->real, l);
}

static int
p_unlock(sqlite3_file *f, int l)
{
	struct piece_file *p = (struct piece_file *)f;

	return p->real->pMethods->xUnlock(p->real, l);
}

static int
p_check_lock(sqlite3_file *f, int *out)
{
	struct piece_file *p = (struct piece_file *)f;

	return p->real->pMethods->xCheckReservedLock(p->real, out);
}

static int
p_fcntl(sqlite3_file *f, int op, void *arg)
{
	struct piece_file *p = (struct piece_file *)f;

	return p->real->pMethods->xFileControl(p->real, op, arg);
}

static int
p_sector(sqlite3_file *f)
{
	struct piece_file *p = (struct piece_file *)f;

	return p->real->pMethods->xSectorSize(p->real);
}

static int
p_devchar(sqlite3_file *f)
{
	struct piece_file *p = (struct piece_file *)f;

	return p->real->pMethods->xDeviceCharacteristics(p->real);
}

/* A statement journal is never shared memory, never memory-mapped. */
static const sqlite3_io_methods piece_io = {
    .iVersion = 1,
    .xClose = p_close,
    .xRead = p_read,
    .xWrite = p_write,
    .xTruncate = p_truncate,
    .xSync = p_sync,
    .xFileSize = p_size,
    .xLock = p_lock,
    .xUnlock = p_unlock,
    .xCheckReservedLock = p_check_lock,
    .xFileControl = p_fcntl,
    .xSectorSize = p_sector,
    .xDeviceCharacteristics = p_devchar,
};

static int
v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *f, int flags,
    int *out_flags)
{
	struct piece_file *p = (struct piece_file *)f;
	int rc;

	(void)vfs;
	/* Every other file: the VFS below, with its own methods. */
	if (!(flags & SQLITE_OPEN_SUBJOURNAL))
		return below->xOpen(below, name, f, flags, out_flags);
	memset(p, 0, sizeof(*p));
	p->real = (sqlite3_file *)(p + 1);
	rc = below->xOpen(below, name, p->real, flags, out_flags);
	/* xClose is called even after a failed open once pMethods is set;
	 * p_close then closes the file below only if it opened. */
	f->pMethods = &piece_io;
	return rc;
}

static int
v_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
	(void)vfs;
	return below->xDelete(below, name, sync);
}

static int
v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return below->xAccess(below, name, flags, out);
}

static int
v_fullpath(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return below->xFullPathname(below, name, n, out);
}

static void *
v_dlopen(sqlite3_vfs *vfs, const char *name)
{
	(void)vfs;
	return below->xDlOpen(below, name);
}

static void
v_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	below->xDlError(below, n, out);
}

static void (*v_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	(void)vfs;
	return below->xDlSym(below, h, sym);
}

static void
v_dlclose(sqlite3_vfs *vfs, void *h)
{
	(void)vfs;
	below->xDlClose(below, h);
}

static int
v_random(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return below->xRandomness(below, n, out);
}

static int
v_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return below->xSleep(below, us);
}

static int
v_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return below->xCurrentTime(below, out);
}

static int
v_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return below->xGetLastError(below, n, out);
}

static int
v_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return below->xCurrentTimeInt64(below, out);
}

int
store_vfs_register(void)
{
	if (below != NULL)
		return SQLITE_OK;
	if ((below = sqlite3_vfs_find(NULL)) == NULL)
		return SQLITE_ERROR;
	piece_vfs.iVersion = 2;
	piece_vfs.szOsFile =
	    (int)sizeof(struct piece_file) + below->szOsFile;
	piece_vfs.mxPathname = below->mxPathname;
	piece_vfs.zName = "tributary";
	piece_vfs.xOpen = v_open;
	piece_vfs.xDelete = v_delete;
	piece_vfs.xAccess = v_access;
	piece_vfs.xFullPathname = v_fullpath;
	piece_vfs.xDlOpen = v_dlopen;
	piece_vfs.xDlError = v_dlerror;
	piece_vfs.xDlSym = v_dlsym;
	piece_vfs.xDlClose = v_dlclose;
	piece_vfs.xRandomness = v_random;
	piece_vfs.xSleep = v_sleep;
	piece_vfs.xCurrentTime = v_time;
	piece_vfs.xGetLastError = v_last_error;
	piece_vfs.xCurrentTimeInt64 = v_time64;
	return sqlite3_vfs_register(&piece_vfs, 1);
}
