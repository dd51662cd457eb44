/*
 * thread.c — a thread's name and priority (thread.h).
 */
#include <errno.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include "tributary/log.h"
#include "tributary/thread.h"

void
tr_thread_name(const char *name)
{
#ifdef __linux__
	prctl(PR_SET_NAME, name, 0, 0, 0);
#else
	(void)name;
#endif
}

void
tr_thread_nicer(int by)
{
#ifdef __linux__
	/* The process's nice value, not this thread's: a thread may always
	 * lower its own priority, never raise it back. */
	int nice;

	errno = 0;
	nice = getpriority(PRIO_PROCESS, 0);
	if (errno == 0 && setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid),
	                              nice + by) != 0)
		tr_log(TR_LOG_DEBUG, "a thread keeps its priority: %s",
		       strerror(errno));
#else
	(void)by;
#endif
}
