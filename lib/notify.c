/*
 * notify.c — the sd_notify(3) datagram protocol, written by hand.
 *
 * Why not libsystemd's sd_notify(): libsystemd is not a dependency of
 * tributary (it builds and runs where systemd is absent), and the
 * protocol is small and documented as a stable interface in sd_notify(3)
 * and systemd's "Interface Portability and Stability" promise: the
 * manager passes an AF_UNIX socket address in $NOTIFY_SOCKET (a path, or
 * an abstract name written with a leading '@'), and the service sends it
 * datagrams of newline-separated VARIABLE=value assignments. That is all
 * this file does; it needs no credentials passing and no file
 * descriptors (FDSTORE=1 and friends are not used).
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "tributary/buf.h"
#include "tributary/error.h"
#include "tributary/log.h"
#include "tributary/notify.h"

/* The longest datagram sent: STATUS= lines are short summaries. */
#define MAX_MESSAGE 4096
/* Retries of a datagram the manager's full queue refused, 10 ms apart. */
#define SEND_TRIES 10

struct tr_notify {
	int fd;			   /* -1 when disabled */
	struct sockaddr_un addr;   /* where to send */
	socklen_t addr_len;	   /* covers the used part of sun_path */
	uint64_t watchdog_usec;	   /* 0: no watchdog */
};

/*
 * Fills n->addr from "/path" or "@abstract". For the abstract namespace
 * the '@' becomes a NUL and the address length counts exactly the name,
 * with no terminating NUL (unix(7), "abstract").
 */
static int
set_address(struct tr_notify *n, const char *path)
{
	size_t len = strlen(path);

	if (path[0] != '/' && path[0] != '@')
		return TR_EINVAL;
	if (len >= sizeof(n->addr.sun_path))
		return TR_EINVAL;
	if (path[0] == '@' && len < 2)
		return TR_EINVAL;
	memset(&n->addr, 0, sizeof(n->addr));
	n->addr.sun_family = AF_UNIX;
	memcpy(n->addr.sun_path, path, len);
	if (path[0] == '@') {
		n->addr.sun_path[0] = '\0';
		n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    len);
	} else {
		n->addr_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
		    len + 1);
	}
	return 0;
}

int
tr_notify_new(struct tr_notify **out, const char *socket_path,
    uint64_t watchdog_usec)
{
	struct tr_notify *n;
	int rc;

	*out = NULL;
	if ((n = calloc(1, sizeof(*n))) == NULL)
		return TR_ENOMEM;
	n->fd = -1;
	if (socket_path == NULL || *socket_path == '\0') {
		*out = n; /* not under a service manager: a quiet no-op */
		return 0;
	}
	if ((rc = set_address(n, socket_path)) != 0) {
		free(n);
		return rc;
	}
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n->fd < 0) {
		free(n);
		return TR_EIO;
	}
	n->watchdog_usec = watchdog_usec;
	*out = n;
	return 0;
}

/* $WATCHDOG_USEC, when $WATCHDOG_PID is unset or this process's pid. */
static uint64_t
env_watchdog_usec(void)
{
	const char *s = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	unsigned long long v;
	char *end = NULL;

	if (s == NULL || *s == '\0')
		return 0;
	if (pid != NULL && *pid != '\0') {
		errno = 0;
		if (strtol(pid, &end, 10) != (long)getpid() || errno ||
		    *end != '\0')
			return 0;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end != '\0')
		return 0;
	return (uint64_t)v;
}

int
tr_notify_new_env(struct tr_notify **out)
{
	const char *path = getenv("NOTIFY_SOCKET");
	int rc;

	rc = tr_notify_new(out, path, env_watchdog_usec());
	if (rc == TR_EINVAL) {
		/* Only AF_UNIX is supported (no vsock): say so, run anyway. */
		tr_log(TR_LOG_WARN,
		    "notify: unsupported NOTIFY_SOCKET \"%s\", not notifying",
		    path);
		rc = tr_notify_new(out, NULL, 0);
	}
	return rc;
}

void
tr_notify_free(struct tr_notify *n)
{
	if (n == NULL)
		return;
	if (n->fd >= 0)
		close(n->fd);
	free(n);
}

int
tr_notify_enabled(const struct tr_notify *n)
{
	return n != NULL && n->fd >= 0;
}

uint64_t
tr_notify_watchdog_usec(const struct tr_notify *n)
{
	return tr_notify_enabled(n) ? n->watchdog_usec : 0;
}

int
tr_notify_send(struct tr_notify *n, const char *msg)
{
	static const struct timespec pause = {0, 10 * 1000 * 1000};
	size_t len = strlen(msg);
	ssize_t sent;
	int tries;

	if (!tr_notify_enabled(n))
		return 0;
	/*
	 * Never block on the manager: a datagram socket whose reader lags
	 * (its queue holds net.unix.max_dgram_qlen messages) would stall
	 * the service, shutdown included. A full queue gets a few short
	 * retries, then the message is dropped.
	 */
	for (tries = 0;; tries++) {
		sent = sendto(n->fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT,
		    (const struct sockaddr *)&n->addr, n->addr_len);
		if (sent >= 0 || (errno != EINTR && errno != EAGAIN &&
				     errno != EWOULDBLOCK) ||
		    tries >= SEND_TRIES)
			break;
		if (errno != EINTR)
			nanosleep(&pause, NULL);
	}
	if (sent < 0 || (size_t)sent != len) {
		tr_log(TR_LOG_DEBUG, "notify: sending to NOTIFY_SOCKET failed: "
				     "%s", strerror(errno));
		return TR_EIO;
	}
	return 0;
}

/*
 * Sends prefix followed by "STATUS=status" (status flattened to one
 * line), or just prefix when status is NULL.
 */
static int
send_with_status(struct tr_notify *n, const char *prefix, const char *status)
{
	struct tr_buf b;
	const char *s;
	int rc;

	if (!tr_notify_enabled(n))
		return 0;
	tr_buf_init(&b, MAX_MESSAGE);
	rc = tr_buf_adds(&b, prefix);
	if (rc == 0 && status != NULL) {
		if (b.len > 0)
			rc = tr_buf_addc(&b, '\n');
		if (rc == 0)
			rc = tr_buf_adds(&b, "STATUS=");
		for (s = status; rc == 0 && *s; s++)
			rc = tr_buf_addc(&b, *s == '\n' || *s == '\r' ? ' ' : *s);
	}
	if (rc == 0)
		rc = tr_notify_send(n, tr_buf_str(&b));
	tr_buf_free(&b);
	return rc;
}

int
tr_notify_ready(struct tr_notify *n, const char *status)
{
	return send_with_status(n, "READY=1", status);
}

int
tr_notify_status(struct tr_notify *n, const char *status)
{
	return send_with_status(n, "", status ? status : "");
}

int
tr_notify_reloading(struct tr_notify *n)
{
	struct timespec ts;
	char msg[64];

	if (!tr_notify_enabled(n))
		return 0;
	/* Type=notify-reload wants the reload's start on CLOCK_MONOTONIC
	 * (sd_notify(3), RELOADING=1). */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
		(unsigned long long)ts.tv_nsec / 1000ULL);
	return tr_notify_send(n, msg);
}

int
tr_notify_stopping(struct tr_notify *n)
{
	return tr_notify_send(n, "STOPPING=1");
}

int
tr_notify_watchdog(struct tr_notify *n)
{
	if (tr_notify_watchdog_usec(n) == 0)
		return 0;
	return tr_notify_send(n, "WATCHDOG=1");
}
