/*
 * thread.h — what a thread of tributary says of itself to the system:
 * its name (top -H, perf, /proc) and how much it yields the CPU. Both
 * are best effort, and nothing where the system has no such thing.
 */
#ifndef TRIBUTARY_THREAD_H
#define TRIBUTARY_THREAD_H

/* Names the calling thread (at most 15 bytes are kept). */
void tr_thread_name(const char *name);

/*
 * Makes the calling thread `by` nicer than the process it belongs to
 * (Linux keeps a nice value per thread), so that the process's other
 * threads get the CPU first when both want it.
 */
void tr_thread_nicer(int by);

#endif
