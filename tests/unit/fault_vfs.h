/*
 * fault_vfs.h — a SQLite VFS for the store's unit tests that makes the
 * disk fail on demand: it wraps the default VFS (registered as the new
 * default, so every handle the store opens goes through it) and, while
 * armed, fails writes, syncs and truncates of the files whose name ends
 * with a suffix ("-wal", ".db", or "" for every named file) with a chosen
 * SQLite result code (SQLITE_FULL, SQLITE_IOERR_WRITE, ...), the way a
 * full or failing disk would.
 *
 *	fault_vfs_install();
 *	fault_vfs_arm("-wal", SQLITE_FULL);  ... fault_vfs_disarm();
 */
#ifndef TR_TEST_FAULT_VFS_H
#define TR_TEST_FAULT_VFS_H

#include <string.h>

#include <sqlite3.h>

struct fault_file {
	sqlite3_file base;
	sqlite3_file *real; /* follows this struct */
	int named_match;    /* the name matched when it was opened */
	char name[512];
};

static struct {
	sqlite3_vfs vfs;
	sqlite3_vfs *real;
	sqlite3_io_methods io;
	char suffix[64];
	int armed;
	int code;
	int hits; /* faults injected since the last arm */
} fault_vfs_g;

static int
fault_vfs_match(const char *name)
{
	size_t n, m;

	if (!fault_vfs_g.armed || name[0] == '\0')
		return 0;
	n = strlen(name);
	m = strlen(fault_vfs_g.suffix);
	return n >= m && strcmp(name + n - m, fault_vfs_g.suffix) == 0;
}

static int
fault_vfs_hit(struct fault_file *f)
{
	if (fault_vfs_match(f->name)) {
		fault_vfs_g.hits++;
		return 1;
	}
	return 0;
}

static int
fault_close(sqlite3_file *p)
{
	struct fault_file *f = (struct fault_file *)p;

	return f->real->pMethods ? f->real->pMethods->xClose(f->real)
				 : SQLITE_OK;
}

static int
fault_read(sqlite3_file *p, void *buf, int n, sqlite3_int64 off)
{
	struct fault_file *f = (struct fault_file *)p;

	return f->real->pMethods->xRead(f->real, buf, n, off);
}

static int
fault_write(sqlite3_file *p, const void *buf, int n, sqlite3_int64 off)
{
	struct fault_file *f = (struct fault_file *)p;

	if (fault_vfs_hit(f))
		return fault_vfs_g.code;
	return f->real->pMethods->xWrite(f->real, buf, n, off);
}

static int
fault_truncate(sqlite3_file *p, sqlite3_int64 size)
{
	struct fault_file *f = (struct fault_file *)p;

	if (fault_vfs_hit(f))
		return fault_vfs_g.code;
	return f->real->pMethods->xTruncate(f->real, size);
}

static int
fault_sync(sqlite3_file *p, int flags)
{
	struct fault_file *f = (struct fault_file *)p;

	if (fault_vfs_hit(f))
		return fault_vfs_g.code == SQLITE_FULL ? SQLITE_IOERR_FSYNC
						       : fault_vfs_g.code;
	return f->real->pMethods->xSync(f->real, flags);
}

static int
fault_size(sqlite3_file *p, sqlite3_int64 *size)
{
	struct fault_file *f = (struct fault_file *)p;

	return f->real->pMethods->xFileSize(f->real, size);
}

static int
fault_lock(sqlite3_file *p, int l)
{
	struct fault_file *f = (struct fault_file *)p;

	return f->real->pMethods->xLock(f->real, l);
}

static int
fault_unlock(sqlite3_file *p, int l)
{
	struct fault_file *f = (struct fault_file *)p;

	return f->real->pMethods->xUnlock(f->real, l);
}

static int
fault_check_lock(sqlite3_file *p, int *out)
{
	struct fault_file *f = (struct fault_file *)p;

	return f->real->pMethods->xCheckReservedLock(f->real, out);
}

static int
fault_fcntl(sqlite3_file *p, int op, void *arg)
{
	struct fault_file *f = (struct fault_file *)p;

	return f->real->pMethods->xFileControl(f->real, op, arg);
}

static int
fault_sector(sqlite3_file *p)
{
	struct fault_file *f = (struct fault_file *)p;

	return f->real->pMethods->xSectorSize(f->real);
}

static int
fault_devchar(sqlite3_file *p)
{
	struct fault_file *f = (struct fault_file *)p;

	return f->real->pMethods->xDeviceCharacteristics(f->real);
}

static int
fault_shm_map(sqlite3_file *p, int pg, int pgsz, int extend,
    void volatile **pp)
{
	struct fault_file *f = (struct fault_file *)p;

	return f->real->pMethods->xShmMap(f->real, pg, pgsz, extend, pp);
}

static int
fault_shm_lock(sqlite3_file *p, int off, int n, int flags)
{
	struct fault_file *f = (struct fault_file *)p;

	return f->real->pMethods->xShmLock(f->real, off, n, flags);
}

static void
fault_shm_barrier(sqlite3_file *p)
{
	struct fault_file *f = (struct fault_file *)p;

	f->real->pMethods->xShmBarrier(f->real);
}

static int
fault_shm_unmap(sqlite3_file *p, int del)
{
	struct fault_file *f = (struct fault_file *)p;

	return f->real->pMethods->xShmUnmap(f->real, del);
}

static int
fault_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *p, int flags,
    int *out_flags)
{
	struct fault_file *f = (struct fault_file *)p;
	int rc;

	(void)vfs;
	memset(f, 0, sizeof(*f));
	f->real = (sqlite3_file *)(f + 1);
	snprintf(f->name, sizeof(f->name), "%s", name ? name : "");
	rc = fault_vfs_g.real->xOpen(fault_vfs_g.real, name, f->real, flags,
	    out_flags);
	/* xClose is called even when the open failed, if pMethods is set. */
	p->pMethods = &fault_vfs_g.io;
	return rc;
}

static int
fault_delete(sqlite3_vfs *vfs, const char *name, int sync)
{
	(void)vfs;
	return fault_vfs_g.real->xDelete(fault_vfs_g.real, name, sync);
}

static int
fault_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	(void)vfs;
	return fault_vfs_g.real->xAccess(fault_vfs_g.real, name, flags, out);
}

static int
fault_fullpath(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	(void)vfs;
	return fault_vfs_g.real->xFullPathname(fault_vfs_g.real, name, n, out);
}

static int
fault_random(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return fault_vfs_g.real->xRandomness(fault_vfs_g.real, n, out);
}

static int
fault_sleep(sqlite3_vfs *vfs, int us)
{
	(void)vfs;
	return fault_vfs_g.real->xSleep(fault_vfs_g.real, us);
}

static int
fault_time(sqlite3_vfs *vfs, double *out)
{
	(void)vfs;
	return fault_vfs_g.real->xCurrentTime(fault_vfs_g.real, out);
}

static int
fault_last_error(sqlite3_vfs *vfs, int n, char *out)
{
	(void)vfs;
	return fault_vfs_g.real->xGetLastError(fault_vfs_g.real, n, out);
}

static int
fault_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	(void)vfs;
	return fault_vfs_g.real->xCurrentTimeInt64(fault_vfs_g.real, out);
}

/* Registers the VFS as the default (once). */
static inline void
fault_vfs_install(void)
{
	static const sqlite3_io_methods io = {
	    2, fault_close, fault_read, fault_write, fault_truncate,
	    fault_sync, fault_size, fault_lock, fault_unlock,
	    fault_check_lock, fault_fcntl, fault_sector, fault_devchar,
	    fault_shm_map, fault_shm_lock, fault_shm_barrier,
	    fault_shm_unmap, NULL, NULL};
	sqlite3_vfs *real;

	if (fault_vfs_g.real != NULL)
		return;
	real = sqlite3_vfs_find(NULL);
	fault_vfs_g.real = real;
	fault_vfs_g.io = io;
	fault_vfs_g.vfs.iVersion = 2;
	fault_vfs_g.vfs.szOsFile =
	    (int)sizeof(struct fault_file) + real->szOsFile;
	fault_vfs_g.vfs.mxPathname = real->mxPathname;
	fault_vfs_g.vfs.zName = "fault";
	fault_vfs_g.vfs.xOpen = fault_open;
	fault_vfs_g.vfs.xDelete = fault_delete;
	fault_vfs_g.vfs.xAccess = fault_access;
	fault_vfs_g.vfs.xFullPathname = fault_fullpath;
	fault_vfs_g.vfs.xRandomness = fault_random;
	fault_vfs_g.vfs.xSleep = fault_sleep;
	fault_vfs_g.vfs.xCurrentTime = fault_time;
	fault_vfs_g.vfs.xGetLastError = fault_last_error;
	fault_vfs_g.vfs.xCurrentTimeInt64 = fault_time64;
	sqlite3_vfs_register(&fault_vfs_g.vfs, 1);
}

/* From now on, writes to files whose name ends with suffix fail. */
static inline void
fault_vfs_arm(const char *suffix, int code)
{
	snprintf(fault_vfs_g.suffix, sizeof(fault_vfs_g.suffix), "%s",
	    suffix);
	fault_vfs_g.code = code;
	fault_vfs_g.hits = 0;
	fault_vfs_g.armed = 1;
}

static inline void
fault_vfs_disarm(void)
{
	fault_vfs_g.armed = 0;
}

#endif
