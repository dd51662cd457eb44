/*
 * service.c — `tributary serve`: the poller loop and the HTTP endpoint in
 * one process, signals, reload, sd_notify, /metrics and /healthz.
 *
 * Threads. The poller runs on the caller's thread and owns the only
 * writable store handle and the config. libmicrohttpd's threads answer
 * requests with their own read-only handles; they touch this file only
 * through the /healthz and /metrics hooks, which read the health fields
 * under sv->mu and the metrics registry (which has its own lock).
 *
 * Sleeping. The loop asks the store when the next feed is due
 * (tr_store_next_due) and sleeps in poll(2) on the read end of a pipe
 * until then: no periodic tick. Signal handlers only set a flag and
 * write a byte to the pipe (the self-pipe trick: both are
 * async-signal-safe), so a signal ends the sleep at once. The sleep is
 * cut short only to send WATCHDOG=1 when systemd asked for it, to
 * re-check the schedule at least once per polling interval (which is
 * also what /healthz calls progress when no feed is due for long), and
 * every FILE_CHECK_MS to check that the database file is still there
 * (one stat(2)): a deleted or replaced file stops the service with an
 * error, and /healthz fails as soon as it is asked.
 *
 * Stopping. The stop flag doubles as the fetch engine's cancel flag
 * (tr_fetch_opts.cancel): a SIGTERM during a round ends every transfer
 * at once, the poller commits the group of documents the writer stored
 * and drops those still queued (fetched again next time), and the loop
 * returns; then the listener stops and the store is closed.
 *
 * Reloading. SIGHUP is handled between rounds: a round in progress ends
 * first (a round takes at most about the transfer timeout per
 * `concurrency` feeds). The new config is read and checked completely
 * before anything changes, so a file with errors leaves everything as it
 * was.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tributary/buf.h"
#include "tributary/config.h"
#include "tributary/error.h"
#include "tributary/http.h"
#include "tributary/log.h"
#include "tributary/metrics.h"
#include "tributary/notify.h"
#include "tributary/poll.h"
#include "tributary/service.h"
#include "tributary/store.h"

/* A round that fetched nothing although a feed looked due: back off. */
#define IDLE_BACKOFF_MAX 60

/*
 * run_round()'s answer when every feed it found due is being polled by
 * another process (another node on a shared database), and how long the
 * loop then waits before it looks again.
 */
#define ROUND_ALL_BUSY (-1000)
#define BUSY_RETRY_MS 2000

/* The loop checks at least this often that the database file is still
 * the one it opened (tr_store_file_check: one stat(2)). */
#define FILE_CHECK_MS 2000

/*
 * Merging the search index's segments while idle (tr_store_maintain):
 * only when the loop would sleep this long, in steps of this many pages
 * (a few milliseconds each), ending this long before it would wake.
 */
#define IDLE_MERGE_MIN_MS 1000
#define IDLE_MERGE_PAGES 64
#define IDLE_MERGE_MARGIN_MS 500

/* --- signals --- */

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;
static volatile sig_atomic_t stop_signal;
static int wake_pipe[2] = {-1, -1};

static void
on_signal(int sig)
{
	int saved = errno;
	ssize_t n;

	if (sig == SIGHUP) {
		reload_requested = 1;
	} else {
		stop_requested = 1;
		stop_signal = sig;
	}
	if (wake_pipe[1] >= 0) {
		n = write(wake_pipe[1], "", 1);
		(void)n; /* a full pipe already wakes the loop */
	}
	errno = saved;
}

static const int handled_signals[] = {SIGTERM, SIGINT, SIGHUP, SIGPIPE};
#define N_SIGNALS (sizeof(handled_signals) / sizeof(handled_signals[0]))

/* Installs the handlers, keeping the previous actions in old. */
static int
signals_install(struct sigaction *old)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	for (i = 0; i < N_SIGNALS; i++) {
		sa.sa_handler = handled_signals[i] == SIGPIPE ? SIG_IGN
							      : on_signal;
		if (sigaction(handled_signals[i], &sa, &old[i]) != 0)
			return TR_EIO;
	}
	return 0;
}

static void
signals_restore(const struct sigaction *old)
{
	size_t i;

	for (i = 0; i < N_SIGNALS; i++)
		sigaction(handled_signals[i], &old[i], NULL);
}

static int
pipe_open(void)
{
	int i;

	if (pipe(wake_pipe) != 0)
		return TR_EIO;
	for (i = 0; i < 2; i++) {
		fcntl(wake_pipe[i], F_SETFD, FD_CLOEXEC);
		fcntl(wake_pipe[i], F_SETFL,
		    fcntl(wake_pipe[i], F_GETFL) | O_NONBLOCK);
	}
	return 0;
}

static void
pipe_close(void)
{
	int i;

	for (i = 0; i < 2; i++) {
		if (wake_pipe[i] >= 0)
			close(wake_pipe[i]);
		wake_pipe[i] = -1;
	}
}

static void
pipe_drain(void)
{
	char buf[64];

	while (read(wake_pipe[0], buf, sizeof(buf)) > 0)
		;
}

/* --- time --- */

static int64_t
mono_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static double
wall_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* --- the service --- */

struct service_metrics {
	struct tr_metric *feeds;	/* gauge, by state */
	struct tr_metric *articles;	/* gauge: articles in the store */
	struct tr_metric *fetches;	/* counter, by outcome */
	struct tr_metric *stored;	/* counter, by change */
	struct tr_metric *duration;	/* histogram: fetch seconds */
	struct tr_metric *rounds;	/* counter */
	struct tr_metric *last_round;	/* gauge: Unix time */
	struct tr_metric *round_secs;	/* gauge: last round's duration */
	struct tr_metric *reloads;	/* counter, by result */
	struct tr_metric *start_time;	/* gauge: Unix time */
};

struct service {
	struct tr_config *cfg; /* the running config, owned */
	struct tr_service_opts opts;
	struct tr_store *st;   /* the writer handle */
	struct tr_http *http;  /* NULL only when a reload lost the listener */
	char *bound;	       /* the address http listens on */
	struct tr_notify *notify;
	struct tr_metrics *metrics;
	struct service_metrics m;
	int64_t last_watchdog;	/* monotonic usec of the last WATCHDOG=1 */
	int idle_rounds;	/* rounds in a row that fetched nothing */
	int64_t not_before;	/* monotonic usec: no round before */
	int failed;		/* why the loop stopped by itself, or 0 */
	double cfg_seen;	/* Unix time of the last tr_store_config_seen */
	int merge_more;		/* the search index may want merging */

	/* Read by /healthz on server threads: guarded by mu. */
	pthread_mutex_t mu;
	int64_t progress;	/* monotonic usec of the loop's last step */
	int64_t interval;	/* the config's interval, seconds */
	int64_t timeout;	/* the config's transfer timeout, seconds */
	int64_t round_usec;	/* the last round's duration */
	double last_round_end;	/* Unix time, 0 = none yet */
};

/* The loop did something: note it for /healthz and the watchdog. */
static void
progress(struct service *sv)
{
	int64_t now = mono_usec();
	uint64_t wd = tr_notify_watchdog_usec(sv->notify);

	pthread_mutex_lock(&sv->mu);
	sv->progress = now;
	pthread_mutex_unlock(&sv->mu);
	/* sd_watchdog_enabled(3) advises pinging at half the interval; a
	 * quarter leaves room for a late wakeup. */
	if (wd > 0 && now - sv->last_watchdog >= (int64_t)(wd / 4)) {
		tr_notify_watchdog(sv->notify);
		sv->last_watchdog = now;
	}
}

/*
 * /healthz: healthy while the loop made progress within three times the
 * longest of the polling interval, the last round's duration and the
 * transfer timeout (the loop re-checks the schedule at least once per
 * interval, a round reports progress as each of its feeds completes, and
 * no transfer outlives the timeout).
 */
static int
health(struct tr_buf *msg, void *arg)
{
	struct service *sv = arg;
	int64_t now = mono_usec(), age, limit;
	double last_round;
	const char *damage = NULL;
	char why[1024];

	if (tr_store_file_check(sv->st, why, sizeof(why)) != 0) {
		tr_buf_printf(msg, "store: %s", why);
		return 1;
	}
	if (tr_store_damaged(sv->st, &damage)) {
		tr_buf_printf(msg, "store: %s", damage);
		return 1;
	}
	pthread_mutex_lock(&sv->mu);
	age = (now - sv->progress) / 1000000;
	limit = sv->round_usec / 1000000;
	if (limit < sv->interval)
		limit = sv->interval;
	if (limit < sv->timeout)
		limit = sv->timeout;
	limit *= 3;
	last_round = sv->last_round_end;
	pthread_mutex_unlock(&sv->mu);
	if (age > limit) {
		tr_buf_printf(msg, "poller stalled: no progress for %llds "
				   "(limit %llds)",
		    (long long)age, (long long)limit);
		return 1;
	}
	if (last_round > 0)
		tr_buf_printf(msg, "poller ok: last round %.0fs ago",
		    wall_seconds() - last_round);
	else
		tr_buf_printf(msg, "poller ok: no round yet");
	return 0;
}

/* /metrics: the registry; the endpoint appends its request counters. */
static int
metrics_hook(struct tr_buf *out, void *arg)
{
	struct service *sv = arg;

	return tr_metrics_render(out, sv->metrics);
}

/* The outcomes of a fetch, as the tributary_fetches_total label says. */
static const char *const outcomes[] = {"200", "304", "unchanged",
    "redirect", "4xx", "5xx", "timeout", "too_large", "parse_recovered",
    "error"};
static const char *const feed_states[] = {"ok", "new", "failing",
    "disabled", "inactive"};

static int
metrics_setup(struct service *sv)
{
	static const double bounds[] = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
	    30, 60};
	struct service_metrics *m = &sv->m;
	struct tr_metrics *r;
	size_t i;
	int rc;

	if ((rc = tr_metrics_new(&sv->metrics)) != 0)
		return rc;
	r = sv->metrics;
	if ((rc = tr_metrics_gauge(&m->feeds, r, "tributary_feeds",
		 "Feeds by state.", (const char *[]){"state", NULL})) ||
	    (rc = tr_metrics_gauge(&m->articles, r, "tributary_articles",
		 "Articles in the store.", NULL)) ||
	    (rc = tr_metrics_counter(&m->fetches, r, "tributary_fetches_total",
		 "Fetches by outcome.", (const char *[]){"outcome", NULL})) ||
	    (rc = tr_metrics_counter(&m->stored, r,
		 "tributary_articles_stored_total",
		 "Articles written to the store, new or updated.",
		 (const char *[]){"change", NULL})) ||
	    (rc = tr_metrics_histogram(&m->duration, r,
		 "tributary_fetch_duration_seconds",
		 "Duration of one fetch, request to stored.", NULL, bounds,
		 sizeof(bounds) / sizeof(bounds[0]))) ||
	    (rc = tr_metrics_counter(&m->rounds, r, "tributary_rounds_total",
		 "Polling rounds completed.", NULL)) ||
	    (rc = tr_metrics_gauge(&m->last_round, r,
		 "tributary_last_round_timestamp_seconds",
		 "Unix time the last polling round completed.", NULL)) ||
	    (rc = tr_metrics_gauge(&m->round_secs, r,
		 "tributary_last_round_duration_seconds",
		 "Duration of the last polling round.", NULL)) ||
	    (rc = tr_metrics_counter(&m->reloads, r,
		 "tributary_config_reloads_total",
		 "Configuration reloads by result.",
		 (const char *[]){"result", NULL})) ||
	    (rc = tr_metrics_gauge(&m->start_time, r,
		 "tributary_start_time_seconds",
		 "Unix time the service started.", NULL)))
		return rc;
	/* Every series exists from the start, so that rates work from the
	 * first scrape. */
	for (i = 0; rc == 0 && i < sizeof(outcomes) / sizeof(outcomes[0]); i++)
		rc = tr_metric_add(m->fetches, (const char *[]){outcomes[i]}, 0);
	for (i = 0; rc == 0 &&
	     i < sizeof(feed_states) / sizeof(feed_states[0]); i++)
		rc = tr_metric_set(m->feeds, (const char *[]){feed_states[i]}, 0);
	if (rc == 0)
		rc = tr_metric_add(m->stored, (const char *[]){"added"}, 0);
	if (rc == 0)
		rc = tr_metric_add(m->stored, (const char *[]){"updated"}, 0);
	if (rc == 0)
		rc = tr_metric_add(m->reloads, (const char *[]){"ok"}, 0);
	if (rc == 0)
		rc = tr_metric_add(m->reloads, (const char *[]){"failed"}, 0);
	if (rc == 0)
		rc = tr_metric_add(m->rounds, NULL, 0);
	if (rc == 0)
		rc = tr_metric_set(m->start_time, NULL, wall_seconds());
	return rc;
}

/* --- feeds by state, the status line --- */

struct state_count {
	int64_t n[sizeof(feed_states) / sizeof(feed_states[0])];
	const char **off;	/* names of "enabled = no" feeds, sorted */
	size_t n_off;
	const struct tr_config *cfg;
};

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The feeds the config turns off, sorted for bsearch; NULL when none. */
static const char **
disabled_names(const struct tr_config *cfg, size_t *n)
{
	const char **v;
	size_t i;

	*n = 0;
	for (i = 0; i < cfg->n_feeds; i++)
		if (!cfg->feeds[i].enabled)
			(*n)++;
	if (*n == 0 || (v = malloc(*n * sizeof(*v))) == NULL) {
		*n = 0;
		return NULL;
	}
	for (*n = 0, i = 0; i < cfg->n_feeds; i++)
		if (!cfg->feeds[i].enabled)
			v[(*n)++] = cfg->feeds[i].name;
	qsort(v, *n, sizeof(*v), cmp_name);
	return v;
}

/* Sorts one feed into its state: inactive (not in the config any more),
 * disabled (410 Gone, or "enabled = no"), failing, new (never polled),
 * ok. */
static int
count_feed(const struct tr_feed_state *fs, void *arg)
{
	struct state_count *c = arg;

	/* Another config sharing the database lists it: not ours. */
	if (fs->active && tr_config_feed(c->cfg, fs->name) == NULL)
		return 0;
	if (!fs->active)
		c->n[4]++;
	else if (fs->disabled ||
	    (c->n_off > 0 && bsearch(&fs->name, c->off, c->n_off,
				 sizeof(*c->off), cmp_name) != NULL))
		c->n[3]++;
	else if (fs->errors > 0)
		c->n[2]++;
	else if (fs->last_check == 0)
		c->n[1]++;
	else
		c->n[0]++;
	return 0;
}

/*
 * Refreshes the gauges that come from the store and sends STATUS= (with
 * READY=1 when ready is non-zero).
 */
static void
refresh_status(struct service *sv, int ready)
{
	struct tr_store_stats stats;
	struct state_count c;
	char status[256], when[32] = "none yet";
	double last;
	size_t i;

	memset(&c, 0, sizeof(c));
	memset(&stats, 0, sizeof(stats));
	c.off = disabled_names(sv->cfg, &c.n_off);
	c.cfg = sv->cfg;
	if (tr_store_feeds(sv->st, count_feed, &c) == 0)
		for (i = 0; i < sizeof(feed_states) / sizeof(feed_states[0]); i++)
			tr_metric_set(sv->m.feeds,
			    (const char *[]){feed_states[i]}, (double)c.n[i]);
	free(c.off);
	if (tr_store_stats(sv->st, &stats) == 0)
		tr_metric_set(sv->m.articles, NULL, (double)stats.articles);
	else
		tr_log(TR_LOG_WARN, "store: %s", tr_store_errmsg(sv->st));
	pthread_mutex_lock(&sv->mu);
	last = sv->last_round_end;
	pthread_mutex_unlock(&sv->mu);
	if (last > 0) {
		time_t t = (time_t)last;
		struct tm tm;

		gmtime_r(&t, &tm);
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%SZ", &tm);
	}
	snprintf(status, sizeof(status),
	    "%zu feeds (%lld failing, %lld disabled), %lld articles, last "
	    "round %s",
	    sv->cfg->n_feeds, (long long)c.n[2], (long long)c.n[3],
	    (long long)stats.articles, when);
	if (ready)
		tr_notify_ready(sv->notify, status);
	else
		tr_notify_status(sv->notify, status);
}

/* --- one polling round --- */

/*
 * The outcome label of one fetch; each fetch counts once, under the
 * first that applies: too_large, timeout (connect, total or too slow),
 * error (other failures without a response), 4xx, 5xx, redirect (a 3xx
 * that was not followed, or a success reached through redirects),
 * parse_recovered (a broken document stored anyway), 304, unchanged (a
 * 200 with the same body as last time), 200.
 */
static const char *
fetch_outcome(const struct tr_poll_result *r)
{
	const char *msg = r->message ? r->message : "";

	if (r->outcome == TR_POLL_FAILED) {
		/* The fetch engine's texts (lib/fetch.c, and libcurl's
		 * CURLE_OPERATION_TIMEDOUT ones); a status may have come
		 * before the body failed. */
		if (strncmp(msg, "too large", 9) == 0)
			return "too_large";
		if (strncmp(msg, "HTTP ", 5) != 0 &&
		    (strstr(msg, "timed out") || strstr(msg, "too slow")))
			return "timeout";
		if (r->status >= 500)
			return "5xx";
		if (r->status >= 400)
			return "4xx";
		if (r->status >= 300)
			return "redirect";
		return "error";
	}
	if (r->redirects > 0)
		return "redirect";
	if (r->recovered)
		return "parse_recovered";
	if (r->outcome == TR_POLL_UNCHANGED)
		return r->status == 304 ? "304" : "unchanged";
	return "200";
}

/*
 * Called by the poller as each feed of the round ends. The poller logs
 * each feed itself (DEBUG, failures at WARN) and the round's summary
 * (INFO); this counts.
 */
static void
on_feed(const struct tr_poll_result *r, void *arg)
{
	struct service *sv = arg;

	if (r->outcome == TR_POLL_OK || r->outcome == TR_POLL_UNCHANGED ||
	    r->outcome == TR_POLL_FAILED) {
		tr_metric_add(sv->m.fetches,
		    (const char *[]){fetch_outcome(r)}, 1);
		tr_metric_observe(sv->m.duration, NULL, r->seconds);
	}
	if (r->added > 0)
		tr_metric_add(sv->m.stored, (const char *[]){"added"},
		    (double)r->added);
	if (r->updated > 0)
		tr_metric_add(sv->m.stored, (const char *[]){"updated"},
		    (double)r->updated);
	progress(sv);
}

/*
 * Records a completed round for /healthz, /metrics and STATUS=. The
 * store's gauges are refreshed before the round counts, so that a scrape
 * that sees the round also sees the feeds and articles it left.
 */
static void
round_done(struct service *sv, int64_t usec)
{
	double end = wall_seconds();

	pthread_mutex_lock(&sv->mu);
	sv->round_usec = usec;
	sv->last_round_end = end;
	pthread_mutex_unlock(&sv->mu);
	if (stop_requested)
		tr_log(TR_LOG_INFO, "round: stopped early; complete feeds "
				    "were stored");
	refresh_status(sv, 0);
	tr_metric_set(sv->m.last_round, NULL, end);
	tr_metric_set(sv->m.round_secs, NULL, (double)usec / 1e6);
	tr_metric_add(sv->m.rounds, NULL, 1);
}

/*
 * Runs one round of every due feed. The stop flag is the round's cancel
 * flag: a SIGTERM ends the transfers in flight, and what was complete is
 * committed. Returns the number of feeds fetched (0 when none was), or a
 * negative tr_err.
 */
static int
run_round(struct service *sv)
{
	struct tr_poll_opts po;
	struct tr_poll_stats ps;
	int64_t start = mono_usec();
	int rc;

	/* Hourly, so that a fetch with another config sharing the database
	 * never takes this one's feeds for removed (removed_keep). */
	if (wall_seconds() - sv->cfg_seen >= 3600) {
		if (tr_store_config_seen(sv->st, sv->cfg) != 0)
			tr_log(TR_LOG_WARN, "store: %s",
			    tr_store_errmsg(sv->st));
		else
			sv->cfg_seen = wall_seconds();
	}
	memset(&po, 0, sizeof(po));
	memset(&ps, 0, sizeof(ps));
	po.cancel = &stop_requested;
	po.on_feed = on_feed;
	po.arg = sv;
	rc = tr_poll_run(&ps, sv->st, sv->cfg, &po);
	if (rc != 0) {
		tr_log(TR_LOG_ERROR, "round: %s%s%s", tr_strerror(rc),
		    rc == TR_ESTORE ? ": " : "",
		    rc == TR_ESTORE ? tr_store_errmsg(sv->st) : "");
		return rc;
	}
	/* Feeds other processes poll (busy) are not this round's work. */
	if (ps.feeds - ps.held - ps.disabled - ps.busy <= 0)
		return ps.busy > 0 ? ROUND_ALL_BUSY : 0;
	round_done(sv, mono_usec() - start);
	return (int)(ps.feeds - ps.held - ps.disabled - ps.busy);
}

/* --- the endpoint --- */

static const char *
listen_of(const struct service *sv, const struct tr_config *cfg)
{
	return sv->opts.listen ? sv->opts.listen : cfg->listen;
}

/*
 * Creates, hooks up and binds an endpoint for cfg on the address listen.
 * On success sv->bound is that address.
 */
static int
http_start(struct service *sv, struct tr_http **out,
    const struct tr_config *cfg, const char *listen)
{
	struct tr_http_opts ho;
	struct tr_http *srv = NULL;
	char *copy;
	int rc;

	memset(&ho, 0, sizeof(ho));
	ho.listen = listen;
	/* 0 in the config: no limit (-1 to the endpoint). */
	ho.per_address = cfg->clients_per_address > 0
	    ? (int)cfg->clients_per_address : -1;
	*out = NULL;
	if ((copy = strdup(listen)) == NULL)
		return TR_ENOMEM;
	rc = tr_http_new(&srv, cfg, cfg->database, &ho);
	if (rc == 0) {
		tr_http_set_health(srv, health, sv);
		tr_http_set_metrics(srv, metrics_hook, sv);
		rc = tr_http_listen(srv);
	}
	if (rc != 0) {
		tr_log(TR_LOG_ERROR, "http: cannot listen on %s: %s", listen,
		    srv ? tr_http_errmsg(srv) : tr_strerror(rc));
		tr_http_stop(srv);
		free(copy);
		return rc;
	}
	free(sv->bound);
	sv->bound = copy;
	*out = srv;
	return 0;
}

/* --- reload --- */

/* Logs every "file:line: message" line of a config's error text. */
static void
log_config_errors(const char *errors)
{
	const char *p = errors, *nl;

	while (p && *p) {
		nl = strchr(p, '\n');
		tr_log(TR_LOG_ERROR, "reload: %.*s",
		    (int)(nl ? nl - p : (ptrdiff_t)strlen(p)), p);
		p = nl ? nl + 1 : NULL;
	}
}

/* Counts the feeds of a not in b. */
static size_t
feeds_missing(const struct tr_config *a, const struct tr_config *b)
{
	size_t i, n = 0;

	for (i = 0; i < a->n_feeds; i++)
		if (tr_config_feed(b, a->feeds[i].name) == NULL)
			n++;
	return n;
}

/*
 * Switches the endpoint to ncfg. When the listen address changed, a new
 * listener is bound before the old one stops; if the new address cannot
 * be bound (the same port in another form, say), the old one is stopped
 * first and the new one tried again, and when that fails too the old
 * address is bound again (with ncfg: the old config is freed after the
 * reload). Returns 0, or the error of the new address.
 */
static int
http_switch(struct service *sv, const struct tr_config *ncfg)
{
	const char *want = listen_of(sv, ncfg);
	struct tr_http *srv = NULL;
	char *old = NULL;
	int rc;

	if (sv->http != NULL && strcmp(sv->bound, want) == 0) {
		tr_http_set_config(sv->http, ncfg);
		return 0;
	}
	if (sv->http != NULL && http_start(sv, &srv, ncfg, want) == 0) {
		tr_http_stop(sv->http);
		sv->http = srv;
		tr_log(TR_LOG_INFO, "http: now listening on %s", want);
		return 0;
	}
	tr_http_stop(sv->http);
	sv->http = NULL;
	if ((rc = http_start(sv, &srv, ncfg, want)) == 0) {
		sv->http = srv;
		tr_log(TR_LOG_INFO, "http: now listening on %s", want);
		return 0;
	}
	if (sv->bound != NULL && (old = strdup(sv->bound)) != NULL &&
	    http_start(sv, &sv->http, ncfg, old) == 0)
		tr_log(TR_LOG_WARN, "http: still listening on %s", old);
	free(old);
	return rc;
}

/*
 * Rereads the config file. A file with errors changes nothing. The
 * database cannot change without a restart: a new path is ignored with
 * a warning.
 */
static void
reload(struct service *sv)
{
	struct tr_config *ncfg = NULL;
	char *errors = NULL, *tmp;
	size_t added, removed;
	int rc;

	tr_notify_reloading(sv->notify);
	tr_log(TR_LOG_INFO, "reload: reading %s", sv->cfg->path);
	rc = tr_config_load(&ncfg, &errors, sv->cfg->path);
	if (rc != 0) {
		log_config_errors(errors ? errors : tr_strerror(rc));
		tr_log(TR_LOG_ERROR, "reload: %s has errors; keeping the "
				     "running configuration",
		    sv->cfg->path);
		free(errors);
		tr_metric_add(sv->m.reloads, (const char *[]){"failed"}, 1);
		refresh_status(sv, 1);
		return;
	}
	if ((rc = tr_store_sync_config(sv->st, ncfg)) != 0) {
		tr_log(TR_LOG_ERROR, "reload: store: %s; keeping the running "
				     "configuration",
		    tr_store_errmsg(sv->st));
		tr_config_free(ncfg);
		tr_metric_add(sv->m.reloads, (const char *[]){"failed"}, 1);
		refresh_status(sv, 1);
		return;
	}
	if (strcmp(ncfg->database, sv->cfg->database) != 0) {
		tr_log(TR_LOG_WARN, "reload: database changed to %s; it "
				    "takes a restart, still using %s",
		    ncfg->database_shown, sv->cfg->database_shown);
		tmp = ncfg->database;
		ncfg->database = sv->cfg->database;
		sv->cfg->database = tmp;
		tmp = ncfg->database_shown;
		ncfg->database_shown = sv->cfg->database_shown;
		sv->cfg->database_shown = tmp;
	}
	if (http_switch(sv, ncfg) != 0)
		tr_log(TR_LOG_ERROR, "reload: listen %s failed",
		    listen_of(sv, ncfg));
	added = feeds_missing(ncfg, sv->cfg);
	removed = feeds_missing(sv->cfg, ncfg);
	tr_config_free(sv->cfg);
	sv->cfg = ncfg;
	pthread_mutex_lock(&sv->mu);
	sv->interval = ncfg->interval;
	sv->timeout = ncfg->timeout;
	pthread_mutex_unlock(&sv->mu);
	sv->idle_rounds = 0;
	sv->not_before = 0;
	tr_metric_add(sv->m.reloads, (const char *[]){"ok"}, 1);
	tr_log(TR_LOG_INFO, "reload: %zu feeds (%zu added, %zu removed)",
	    ncfg->n_feeds, added, removed);
	refresh_status(sv, 1);
}

/* --- the loop --- */

/*
 * How long to sleep, in milliseconds: until the next due feed, at most
 * one polling interval, at most half the watchdog interval; and while a
 * round that fetched nothing holds the loop back, until that ends.
 */
static int
sleep_ms(struct service *sv, int64_t due, int64_t now)
{
	uint64_t wd = tr_notify_watchdog_usec(sv->notify);
	int64_t ms, cap = sv->cfg->interval * 1000;

	if (due > 0 && due <= now)
		ms = (sv->not_before - mono_usec()) / 1000 + 1;
	else if (due > 0)
		ms = (due - now) * 1000 + 50; /* just into the due second */
	else
		ms = cap;
	if (ms > cap)
		ms = cap;
	if (ms > FILE_CHECK_MS)
		ms = FILE_CHECK_MS;
	if (wd > 0 && ms > (int64_t)(wd / 2000))
		ms = (int64_t)(wd / 2000);
	return ms < 0 ? 0 : (int)ms;
}

static void
wait_for(int ms)
{
	struct pollfd p;

	p.fd = wake_pipe[0];
	p.events = POLLIN;
	p.revents = 0;
	if (poll(&p, 1, ms) > 0)
		pipe_drain();
}

/*
 * A round that fetched nothing although the store said a feed was due
 * (a host on hold, say) must not make the loop spin: the next round
 * waits 1, 2, 4 ... up to IDLE_BACKOFF_MAX seconds.
 */
static void
note_round(struct service *sv, int fetched)
{
	int64_t delay;

	if (fetched > 0) {
		sv->idle_rounds = 0;
		sv->not_before = 0;
		return;
	}
	sv->idle_rounds++;
	delay = (int64_t)1 << (sv->idle_rounds < 7 ? sv->idle_rounds - 1 : 6);
	if (delay > IDLE_BACKOFF_MAX)
		delay = IDLE_BACKOFF_MAX;
	sv->not_before = mono_usec() + delay * 1000000;
	tr_log(TR_LOG_DEBUG, "poller: nothing fetched although a feed was "
			     "due; next try in %llds",
	    (long long)delay);
}

static int
any_enabled(const struct tr_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->n_feeds; i++)
		if (cfg->feeds[i].enabled)
			return 1;
	return 0;
}

/*
 * Whether the database file is gone or replaced: then every write goes
 * into a file no one opens again. Logged; the service stops with an
 * error, and systemd (Restart=on-failure) starts it on the file that is
 * there now.
 */
static int
store_file_lost(struct service *sv)
{
	char why[1024];

	if (tr_store_file_check(sv->st, why, sizeof(why)) == 0)
		return 0;
	tr_log(TR_LOG_ERROR, "store %s", why);
	sv->failed = TR_ESTORE;
	return 1;
}

/*
 * Idle: merges the search index's segments in steps until nothing is
 * left to merge, until IDLE_MERGE_MARGIN_MS before the loop would wake
 * (ms from now), or until a signal asks for something else; a round
 * thus waits at most one step. The rounds merge their own share too
 * (tr_poll): this keeps the levels short between them.
 */
static void
idle_merge(struct service *sv, int ms)
{
	int64_t end = mono_usec() + (int64_t)(ms - IDLE_MERGE_MARGIN_MS) * 1000;
	int more = 1;

	while (more && !stop_requested && !reload_requested &&
	    mono_usec() < end) {
		if (tr_store_maintain(sv->st, IDLE_MERGE_PAGES, &more) != 0) {
			tr_log(TR_LOG_WARN, "store: %s (tried again after the "
			       "next round)", tr_store_errmsg(sv->st));
			more = 0;
		}
	}
	sv->merge_more = more;
}

static void
loop(struct service *sv)
{
	int64_t due, now;
	int guessed, n, ms;

	sv->merge_more = 1; /* what earlier processes left */
	while (!stop_requested) {
		if (store_file_lost(sv))
			break;
		if (reload_requested) {
			reload_requested = 0;
			reload(sv);
			progress(sv);
			continue;
		}
		now = (int64_t)time(NULL);
		due = 0;
		if (tr_store_next_due(sv->st, &due) != 0) {
			tr_log(TR_LOG_WARN, "store: %s", tr_store_errmsg(sv->st));
			due = 0;
		}
		/* 0 means "none", but also "a feed never polled yet" (its
		 * next_check is 0): with enabled feeds, try a round. If it
		 * fetched nothing, every enabled feed is disabled by the
		 * store (410 Gone): look again after an interval, or at once
		 * after a reload. */
		guessed = due == 0 && any_enabled(sv->cfg);
		if (guessed)
			due = now;
		/* A damaged store takes no writes: no rounds (the feeds would
		 * all fail); /healthz says why, readers go on. */
		if (tr_store_damaged(sv->st, NULL))
			due = 0;
		if (due > 0 && due <= now && mono_usec() >= sv->not_before) {
			n = run_round(sv);
			/* Every due feed is another node's right now: look
			 * again shortly (its leases end, or its round saves
			 * their next check) instead of spinning. */
			if (n == ROUND_ALL_BUSY) {
				note_round(sv, 0);
				sv->not_before = mono_usec() +
				    BUSY_RETRY_MS * 1000;
				progress(sv);
				continue;
			}
			note_round(sv, n);
			sv->merge_more = 1;
			if (guessed && n <= 0)
				sv->not_before = mono_usec() +
				    sv->cfg->interval * 1000000;
			progress(sv);
			continue;
		}
		ms = sleep_ms(sv, due, now);
		if (sv->merge_more && ms >= IDLE_MERGE_MIN_MS) {
			idle_merge(sv, ms);
			progress(sv);
			continue;
		}
		wait_for(ms);
		progress(sv);
	}
}

/* --- start and stop --- */

static int
service_start(struct service *sv)
{
	char url[1024];
	int rc;

	rc = tr_store_open(&sv->st, sv->cfg->database, 0);
	if (rc != 0) {
		/* The store's open errors name the file already. */
		if (sv->st)
			tr_log(TR_LOG_ERROR, "store: %s",
			    tr_store_errmsg(sv->st));
		else
			tr_log(TR_LOG_ERROR, "store %s: %s",
			    sv->cfg->database_shown, tr_strerror(rc));
		return rc;
	}
	if ((rc = tr_store_sync_config(sv->st, sv->cfg)) != 0) {
		tr_log(TR_LOG_ERROR, "store %s: %s", sv->cfg->database_shown,
		    tr_store_errmsg(sv->st));
		/* A damaged store still serves what it can be read for, with
		 * /healthz failing and saying why. */
		if (!tr_store_damaged(sv->st, NULL))
			return rc;
	}
	if ((rc = http_start(sv, &sv->http, sv->cfg,
		 listen_of(sv, sv->cfg))) != 0)
		return rc;
	snprintf(url, sizeof(url), "%s/feed.atom", tr_http_url(sv->http));
	tr_log(TR_LOG_INFO, "serve: %zu feeds, database %s, listening on %s "
			    "(%s)",
	    sv->cfg->n_feeds, sv->cfg->database_shown, sv->bound,
	    tr_http_url(sv->http));
	if (sv->opts.ready)
		sv->opts.ready(tr_http_url(sv->http), url, sv->opts.arg);
	refresh_status(sv, 1);
	return 0;
}

int
tr_service_run(struct tr_config *cfg, const struct tr_service_opts *opts)
{
	struct sigaction old[N_SIGNALS];
	struct service sv;
	int rc, have_signals = 0;

	memset(&sv, 0, sizeof(sv));
	sv.cfg = cfg;
	if (opts)
		sv.opts = *opts;
	sv.interval = cfg->interval;
	sv.timeout = cfg->timeout;
	sv.progress = sv.last_watchdog = mono_usec();
	stop_requested = reload_requested = stop_signal = 0;
	if (pthread_mutex_init(&sv.mu, NULL) != 0) {
		tr_config_free(cfg);
		return TR_ENOMEM;
	}
	if ((rc = tr_notify_new_env(&sv.notify)) != 0 ||
	    (rc = metrics_setup(&sv)) != 0 || (rc = pipe_open()) != 0)
		goto out;
	if ((rc = signals_install(old)) != 0)
		goto out;
	have_signals = 1;
	tr_store_trap_io_faults();
	if ((rc = service_start(&sv)) != 0)
		goto out;
	loop(&sv);
	if (sv.failed != 0) {
		rc = sv.failed;
		tr_log(TR_LOG_ERROR, "serve: stopping on the error above");
	} else {
		tr_log(TR_LOG_INFO, "serve: %s, stopping",
		    stop_signal == SIGINT ? "SIGINT" : "SIGTERM");
	}
out:
	tr_notify_stopping(sv.notify);
	tr_http_stop(sv.http);
	free(sv.bound);
	tr_store_close(sv.st);
	if (have_signals)
		signals_restore(old);
	pipe_close();
	tr_metrics_free(sv.metrics);
	tr_notify_free(sv.notify);
	pthread_mutex_destroy(&sv.mu);
	tr_config_free(sv.cfg);
	if (rc == 0)
		tr_log(TR_LOG_INFO, "serve: stopped");
	return rc;
}
