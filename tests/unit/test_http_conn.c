/*
 * test_http_conn.c — the endpoint's connection limits over loopback
 * sockets, with a fake document source whose render() can be held, so
 * that the one server thread is busy at a chosen moment.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "http_int.h"
#include "runner.h"
#include "tributary/error.h"

/* ---- a fake source whose render() waits while the gate is shut ---- */

static pthread_mutex_t gate_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_cv = PTHREAD_COND_INITIALIZER;
static int gate_shut, rendering;

static int
fake_open(void **h, const char *db)
{
	(void)db;
	*h = &gate_mu;
	return 0;
}

static void
fake_close(void *h)
{
	(void)h;
}

static int
fake_generation(void *h, int64_t *gen, int64_t *changed_at)
{
	(void)h;
	*gen = 1;
	*changed_at = 1700000000;
	return 0;
}

static int
fake_next_due(void *h, int64_t *when)
{
	(void)h;
	*when = 1800000000;
	return 0;
}

static int
fake_render(void *h, struct tr_http_render_req *rr)
{
	(void)h;
	pthread_mutex_lock(&gate_mu);
	rendering = 1;
	pthread_cond_broadcast(&gate_cv);
	while (gate_shut)
		pthread_cond_wait(&gate_cv, &gate_mu);
	rendering = 0;
	pthread_mutex_unlock(&gate_mu);
	return tr_buf_adds(rr->out, "<doc/>");
}

static const struct tr_http_source fake_source = {
    fake_open, fake_close, fake_generation, fake_next_due, fake_render, NULL,
};

static void
gate_set(int shut)
{
	pthread_mutex_lock(&gate_mu);
	gate_shut = shut;
	pthread_cond_broadcast(&gate_cv);
	pthread_mutex_unlock(&gate_mu);
}

/* Waits until a render() is held at the gate (at most 10 s). */
static int
wait_rendering(void)
{
	struct timespec ts;
	int ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 10;
	pthread_mutex_lock(&gate_mu);
	while (!rendering &&
	       pthread_cond_timedwait(&gate_cv, &gate_mu, &ts) == 0)
		;
	ok = rendering;
	pthread_mutex_unlock(&gate_mu);
	return ok;
}

static const char conf[] = "[tributary]\n"
                           "database = /nonexistent/x.db\n"
                           "[feed \"alpha\"]\n"
                           "url = http://127.0.0.1:1/a.xml\n";

static struct tr_config *
load_cfg(void)
{
	char path[] = "/tmp/tr-http-conn-XXXXXX";
	struct tr_config *cfg = NULL;
	char *errors = NULL;
	int fd = mkstemp(path);
	FILE *fp = fdopen(fd, "w");

	fputs(conf, fp);
	fclose(fp);
	if (tr_config_load(&cfg, &errors, path) != 0)
		printf("  config: %s\n", errors ? errors : "?");
	free(errors);
	unlink(path);
	return cfg;
}

/* A server on 127.0.0.1 (any port) with one thread and opts' limits. */
static struct tr_http *
start(const struct tr_config *cfg, struct tr_http_opts *o)
{
	struct tr_http *srv = NULL;

	o->listen = "127.0.0.1:0";
	o->threads = 1;
	if (tr_http_new_source(&srv, cfg, "fake.db", o, &fake_source) != 0 ||
	    tr_http_listen(srv) != 0) {
		printf("  cannot start: %s\n", tr_http_errmsg(srv));
		tr_http_stop(srv);
		return NULL;
	}
	return srv;
}

/* ---- a client ---- */

/* A connection to port, reads giving up after 5 s; -1 on failure. */
static int
dial(unsigned port)
{
	struct sockaddr_in a;
	struct timeval tv = {5, 0};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return -1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((unsigned short)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int
say(int fd, const char *s)
{
	size_t n = strlen(s);

	return send(fd, s, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/*
 * Reads one answer's head and returns its status; -1 when the server
 * closed or reset the connection first (or nothing came in 5 s).
 */
static int
status_of(int fd)
{
	char buf[4096];
	size_t got = 0;
	int st;

	while (got < sizeof(buf) - 1) {
		ssize_t n = recv(fd, buf + got, sizeof(buf) - 1 - got, 0);

		if (n <= 0)
			return -1;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n"))
			break;
	}
	return sscanf(buf, "HTTP/1.1 %d", &st) == 1 ? st : -1;
}

/* 1 when the server ended the connection (within 5 s). */
static int
ended(int fd)
{
	char c;
	ssize_t n = recv(fd, &c, 1, 0);

	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* The value of the /metrics line that starts with name. */
static long long
counter(struct tr_http *srv, const char *name)
{
	struct tr_buf b;
	const char *p;
	long long v = -1;

	tr_buf_init(&b, 1 << 16);
	if (tr_http_write_counters(&b, srv) == 0 &&
	    (p = strstr(tr_buf_str(&b), name)) != NULL)
		v = strtoll(p + strlen(name), NULL, 10);
	tr_buf_free(&b);
	return v;
}

#define HEALTHZ "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
#define FEED "GET /feed.atom HTTP/1.1\r\nHost: x\r\n\r\n"
#define REFUSED "tributary_http_connections_refused_total{reason=\"per_address\"} "

/* ---- tests ---- */

/*
 * An address holds at most per_address connections: one more is closed
 * at once and counted; once one ends, a new one gets in. 0 in the config
 * (-1 here) means no limit.
 */
static void
test_per_address_limit(void)
{
	struct tr_config *cfg = load_cfg();
	struct tr_http_opts o;
	struct tr_http *srv;
	int fd[6], i, extra;

	memset(&o, 0, sizeof(o));
	o.per_address = 3;
	if ((srv = start(cfg, &o)) == NULL) {
		CHECK(0);
		tr_config_free(cfg);
		return;
	}
	for (i = 0; i < 3; i++) {
		fd[i] = dial(tr_http_port(srv));
		CHECK(fd[i] >= 0 && say(fd[i], HEALTHZ) == 0);
		CHECK_INT(status_of(fd[i]), 200);
	}
	extra = dial(tr_http_port(srv));
	CHECK(extra >= 0);
	CHECK(ended(extra));
	close(extra);
	CHECK_INT((int)counter(srv, REFUSED), 1);
	/* The client ends one: a new one gets in once the server saw it
	 * (within 5 s however loaded the machine). */
	close(fd[0]);
	for (i = 0; i < 50; i++) {
		usleep(100 * 1000);
		fd[0] = dial(tr_http_port(srv));
		if (fd[0] >= 0 && say(fd[0], HEALTHZ) == 0 &&
		    status_of(fd[0]) == 200)
			break;
		close(fd[0]);
		fd[0] = -1;
	}
	CHECK(fd[0] >= 0);
	for (i = 0; i < 3; i++)
		close(fd[i]);
	tr_http_stop(srv);

	memset(&o, 0, sizeof(o));
	o.per_address = -1;
	if ((srv = start(cfg, &o)) != NULL) {
		for (i = 0; i < 6; i++) {
			fd[i] = dial(tr_http_port(srv));
			CHECK(fd[i] >= 0 && say(fd[i], HEALTHZ) == 0);
			CHECK_INT(status_of(fd[i]), 200);
		}
		CHECK_INT((int)counter(srv, REFUSED), 0);
		for (i = 0; i < 6; i++)
			close(fd[i]);
		tr_http_stop(srv);
	}
	tr_config_free(cfg);
}

/*
 * The watchdog ends a connection that waited head_timeout for a request
 * head while the server thread is busy (a render held at the gate). The
 * client, at its per_address limit, sees the end and opens a new
 * connection at once: it is served. The address's slot comes back when
 * the watchdog shuts the old connection down, not when the busy thread
 * gets round to freeing it: libmicrohttpd's own per-address count did
 * the latter, and the new connection, accepted in the same pass, was
 * reset.
 */
static void
test_slot_back_when_the_watchdog_ends_one(void)
{
	struct tr_config *cfg = load_cfg();
	struct tr_http_opts o;
	struct tr_http *srv;
	int idle, busy, fresh;

	memset(&o, 0, sizeof(o));
	o.per_address = 2;
	o.head_timeout = 1;
	if ((srv = start(cfg, &o)) == NULL) {
		CHECK(0);
		tr_config_free(cfg);
		return;
	}
	gate_set(1);
	idle = dial(tr_http_port(srv)); /* sends nothing */
	usleep(100 * 1000);             /* accepted */
	busy = dial(tr_http_port(srv));
	CHECK(busy >= 0 && say(busy, FEED) == 0);
	CHECK(wait_rendering()); /* the server thread is held */
	CHECK(ended(idle));      /* by the watchdog, after 1 s */
	close(idle);
	fresh = dial(tr_http_port(srv)); /* queued until the thread is back */
	CHECK(fresh >= 0);
	usleep(100 * 1000);
	gate_set(0);
	CHECK_INT(status_of(busy), 200);
	CHECK(say(fresh, HEALTHZ) == 0);
	CHECK_INT(status_of(fresh), 200);
	CHECK_INT((int)counter(srv, REFUSED), 0);
	CHECK_INT((int)counter(srv, "tributary_http_slow_connections_closed_"
	                            "total{reason=\"head_timeout\"} "),
	          1);
	close(busy);
	close(fresh);
	tr_http_stop(srv);
	tr_config_free(cfg);
}

/*
 * A client at its per_address limit ends a connection that sent nothing
 * and opens another at once, while the server thread is busy (wrk does
 * so: it opens and closes one connection to check the address, then its
 * -c connections). The thread accepts both in one pass, before it reads
 * the first one's end: the new one is served, as the first is gone.
 * Before, it was refused and reset (wrk: a read error).
 */
static void
test_slot_back_when_a_client_ended_one(void)
{
	struct tr_config *cfg = load_cfg();
	struct tr_http_opts o;
	struct tr_http *srv;
	int busy, probe, fresh;

	memset(&o, 0, sizeof(o));
	o.per_address = 2;
	if ((srv = start(cfg, &o)) == NULL) {
		CHECK(0);
		tr_config_free(cfg);
		return;
	}
	gate_set(1);
	busy = dial(tr_http_port(srv));
	CHECK(busy >= 0 && say(busy, FEED) == 0);
	CHECK(wait_rendering()); /* the server thread is held */
	probe = dial(tr_http_port(srv));
	CHECK(probe >= 0);
	close(probe);
	fresh = dial(tr_http_port(srv));
	CHECK(fresh >= 0);
	usleep(100 * 1000);
	gate_set(0);
	CHECK_INT(status_of(busy), 200);
	CHECK(say(fresh, HEALTHZ) == 0);
	CHECK_INT(status_of(fresh), 200);
	CHECK_INT((int)counter(srv, REFUSED), 0);
	/* A client that has not ended one is still refused. */
	probe = dial(tr_http_port(srv));
	CHECK(probe >= 0);
	CHECK(ended(probe));
	CHECK_INT((int)counter(srv, REFUSED), 1);
	close(probe);
	close(busy);
	close(fresh);
	tr_http_stop(srv);
	tr_config_free(cfg);
}

TR_TESTS(test_per_address_limit, test_slot_back_when_the_watchdog_ends_one,
         test_slot_back_when_a_client_ended_one)
