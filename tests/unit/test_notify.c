/* test_notify.c — sd_notify datagrams received on a real socket. */
#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "runner.h"
#include "tributary/error.h"
#include "tributary/notify.h"

/* Binds a datagram socket to path ("/..." or "@..."); returns the fd. */
static int
listen_at(const char *path)
{
	struct sockaddr_un sa;
	socklen_t len;
	size_t n = strlen(path);
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, n);
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	else
		len++;
	fd = socket(AF_UNIX, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, len) != 0) {
		printf("  cannot bind %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/* Receives one datagram (waiting at most a second) as a string. */
static const char *
recv_one(int fd)
{
	static char msg[8192];
	struct pollfd p = {fd, POLLIN, 0};
	ssize_t n;

	if (poll(&p, 1, 1000) != 1)
		return "(nothing received)";
	n = recv(fd, msg, sizeof(msg) - 1, 0);
	if (n < 0)
		return "(recv failed)";
	msg[n] = '\0';
	return msg;
}

static int
nothing_pending(int fd)
{
	struct pollfd p = {fd, POLLIN, 0};

	return poll(&p, 1, 50) == 0;
}

static void
run_protocol(const char *addr)
{
	struct tr_notify *n = NULL;
	const char *msg;
	int fd;

	if ((fd = listen_at(addr)) < 0) {
		CHECK(!"bind");
		return;
	}
	CHECK_INT(tr_notify_new(&n, addr, 0), 0);
	CHECK(tr_notify_enabled(n));
	CHECK_INT(tr_notify_ready(n, "3 feeds"), 0);
	CHECK_STR(recv_one(fd), "READY=1\nSTATUS=3 feeds");
	CHECK_INT(tr_notify_ready(n, NULL), 0);
	CHECK_STR(recv_one(fd), "READY=1");
	CHECK_INT(tr_notify_status(n, "two\nlines"), 0);
	CHECK_STR(recv_one(fd), "STATUS=two lines");
	CHECK_INT(tr_notify_reloading(n), 0);
	msg = recv_one(fd);
	CHECK(strncmp(msg, "RELOADING=1\nMONOTONIC_USEC=", 27) == 0);
	CHECK(strtoull(msg + 27, NULL, 10) > 0);
	CHECK_INT(tr_notify_stopping(n), 0);
	CHECK_STR(recv_one(fd), "STOPPING=1");
	/* No watchdog interval: WATCHDOG=1 is not sent. */
	CHECK_INT(tr_notify_watchdog(n), 0);
	CHECK(nothing_pending(fd));
	tr_notify_free(n);
	close(fd);
}

static void
test_path_socket(void)
{
	char dir[] = "/tmp/tr-notify-XXXXXX";
	char path[128];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/notify", dir);
	run_protocol(path);
	unlink(path);
	rmdir(dir);
}

static void
test_abstract_socket(void)
{
	char name[64];

	snprintf(name, sizeof(name), "@tributary-test-%ld", (long)getpid());
	run_protocol(name);
}

static void
test_watchdog(void)
{
	struct tr_notify *n = NULL;
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@tributary-wd-%ld", (long)getpid());
	if ((fd = listen_at(name)) < 0) {
		CHECK(!"bind");
		return;
	}
	CHECK_INT(tr_notify_new(&n, name, 2000000), 0);
	CHECK_INT((long long)tr_notify_watchdog_usec(n), 2000000);
	CHECK_INT(tr_notify_watchdog(n), 0);
	CHECK_STR(recv_one(fd), "WATCHDOG=1");
	tr_notify_free(n);
	close(fd);
}

static void
test_env(void)
{
	struct tr_notify *n = NULL;
	char name[64], pid[32];
	int fd;

	snprintf(name, sizeof(name), "@tributary-env-%ld", (long)getpid());
	if ((fd = listen_at(name)) < 0) {
		CHECK(!"bind");
		return;
	}
	setenv("NOTIFY_SOCKET", name, 1);
	setenv("WATCHDOG_USEC", "5000000", 1);
	/* WATCHDOG_PID names another process: the watchdog is not ours. */
	setenv("WATCHDOG_PID", "1", 1);
	CHECK_INT(tr_notify_new_env(&n), 0);
	CHECK_INT((long long)tr_notify_watchdog_usec(n), 0);
	CHECK_INT(tr_notify_stopping(n), 0);
	CHECK_STR(recv_one(fd), "STOPPING=1");
	tr_notify_free(n);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	CHECK_INT(tr_notify_new_env(&n), 0);
	CHECK_INT((long long)tr_notify_watchdog_usec(n), 5000000);
	tr_notify_free(n);
	/* A socket of another family: not notifying, not failing. */
	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	CHECK_INT(tr_notify_new_env(&n), 0);
	CHECK(!tr_notify_enabled(n));
	tr_notify_free(n);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	close(fd);
}

static void
test_disabled(void)
{
	struct tr_notify *n = NULL;

	CHECK_INT(tr_notify_new(&n, NULL, 1000), 0);
	CHECK(!tr_notify_enabled(n));
	CHECK_INT((long long)tr_notify_watchdog_usec(n), 0);
	CHECK_INT(tr_notify_ready(n, "x"), 0);
	CHECK_INT(tr_notify_watchdog(n), 0);
	tr_notify_free(n);
	CHECK_INT(tr_notify_new(&n, "relative/path", 0), TR_EINVAL);
	CHECK(n == NULL);
	CHECK_INT(tr_notify_new(&n, "@", 0), TR_EINVAL);
	tr_notify_free(NULL);
}

static void
test_nobody_listening(void)
{
	struct tr_notify *n = NULL;

	CHECK_INT(tr_notify_new(&n, "/nonexistent/tributary/notify", 0), 0);
	CHECK_INT(tr_notify_ready(n, NULL), TR_EIO);
	tr_notify_free(n);
}

/* A manager that does not read: sends fail after a short wait, never
 * block (the queue holds net.unix.max_dgram_qlen datagrams). */
static void
test_full_queue_does_not_block(void)
{
	struct tr_notify *n = NULL;
	struct timespec t0, t1;
	char name[64];
	int fd, i, rc = 0;
	double secs;

	snprintf(name, sizeof(name), "@tributary-full-%ld", (long)getpid());
	if ((fd = listen_at(name)) < 0) {
		CHECK(!"bind");
		return;
	}
	CHECK_INT(tr_notify_new(&n, name, 0), 0);
	for (i = 0; i < 10000 && rc == 0; i++)
		rc = tr_notify_status(n, "filling the queue");
	CHECK_INT(rc, TR_EIO);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_INT(tr_notify_stopping(n), TR_EIO);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	CHECK(secs < 1.0);
	/* Once the manager reads again, messages go through. */
	while (!nothing_pending(fd))
		recv_one(fd);
	CHECK_INT(tr_notify_stopping(n), 0);
	CHECK_STR(recv_one(fd), "STOPPING=1");
	tr_notify_free(n);
	close(fd);
}

TR_TESTS(test_path_socket, test_abstract_socket, test_watchdog, test_env,
    test_disabled, test_nobody_listening, test_full_queue_does_not_block)
