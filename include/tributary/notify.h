/*
 * notify.h — telling the service manager what the service is doing.
 *
 * systemd's readiness protocol (sd_notify(3)): newline-separated
 * VARIABLE=value assignments sent as one datagram to the AF_UNIX socket
 * named by $NOTIFY_SOCKET ("/path" or "@abstract"). Outside systemd
 * (NOTIFY_SOCKET unset) every call is a no-op that returns 0, so callers
 * never need to check whether they run under a service manager.
 *
 *	tr_notify_new_env(&n);
 *	... open the store, bind the listener ...
 *	tr_notify_ready(n, "3 feeds, 120 articles");
 *	...
 *	tr_notify_stopping(n);
 *	tr_notify_free(n);
 */
#ifndef TRIBUTARY_NOTIFY_H
#define TRIBUTARY_NOTIFY_H

#include <stdint.h>

struct tr_notify;

/*
 * Creates a notifier sending to socket_path ("/run/...", or "@name" for
 * a Linux abstract socket; NULL or "" for a notifier that sends nothing).
 * watchdog_usec is the watchdog interval in microseconds, 0 when there
 * is none. TR_EINVAL for a socket address that is neither an absolute
 * path nor abstract, or too long; TR_EIO when no socket can be made.
 */
int tr_notify_new(struct tr_notify **out, const char *socket_path,
    uint64_t watchdog_usec);

/*
 * Creates a notifier from the environment: $NOTIFY_SOCKET, and
 * $WATCHDOG_USEC when $WATCHDOG_PID is unset or names this process.
 */
int tr_notify_new_env(struct tr_notify **out);

/* Closes the socket; accepts NULL. */
void tr_notify_free(struct tr_notify *n);

/* Non-zero when messages go somewhere. */
int tr_notify_enabled(const struct tr_notify *n);

/*
 * The watchdog interval in microseconds (0: no watchdog). The service
 * sends WATCHDOG=1 at least every half of it while it makes progress.
 */
uint64_t tr_notify_watchdog_usec(const struct tr_notify *n);

/*
 * Sends msg, one or more "VARIABLE=value" lines, as one datagram. 0, or
 * TR_EIO when sending failed (the caller usually logs and carries on).
 */
int tr_notify_send(struct tr_notify *n, const char *msg);

/* "READY=1", with "STATUS=status" when status is not NULL. */
int tr_notify_ready(struct tr_notify *n, const char *status);

/* "STATUS=status": a one-line summary systemctl status shows. */
int tr_notify_status(struct tr_notify *n, const char *status);

/*
 * "RELOADING=1" with "MONOTONIC_USEC=" the CLOCK_MONOTONIC time of the
 * call, as Type=notify-reload wants; follow with tr_notify_ready().
 */
int tr_notify_reloading(struct tr_notify *n);

/* "STOPPING=1". */
int tr_notify_stopping(struct tr_notify *n);

/* "WATCHDOG=1"; a no-op without a watchdog interval. */
int tr_notify_watchdog(struct tr_notify *n);

#endif
