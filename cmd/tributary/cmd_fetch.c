/* cmd_fetch.c — tributary fetch: one polling round. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "tributary/error.h"
#include "tributary/log.h"
#include "tributary/poll.h"
#include "tributary/store.h"

static const char usage[] =
    "usage: tributary [-c FILE] [-q] fetch [-q] [--force] [--strict] [NAME...]\n"
    "Polls every due feed once (every feed with --force, or the named\n"
    "ones), stores new and changed articles, and prints one line per feed\n"
    "and a summary; with -q only the lines of failed feeds, and nothing\n"
    "on a clean round. --force never overrides a host's Retry-After nor a\n"
    "disabled feed.\n"
    "Exits 0 when the round ran, even if some feeds failed (they are in\n"
    "the output and in 'tributary feeds'); 1 when nothing could be\n"
    "fetched or stored (every polled feed failed or was held, or the\n"
    "database could not be opened), or with --strict when any feed failed\n"
    "or was held; 2 on a usage or configuration error.\n";

static volatile sig_atomic_t interrupted;
static volatile int cancel_flag;

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
	cancel_flag = 1;
}

struct out {
	int quiet;    /* -q: only failed feeds' lines */
	int width;    /* of the name column */
	int progress; /* stderr is a terminal */
	int shown;    /* a progress line is on screen */
	double last;  /* when it was drawn */
};

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
clear_progress(struct out *o)
{
	if (o->shown) {
		fputs("\r\033[K", stderr);
		o->shown = 0;
	}
}

static void
on_feed(const struct tr_poll_result *r, void *arg)
{
	struct out *o = arg;
	char detail[640];

	if (o->quiet && r->outcome != TR_POLL_FAILED)
		return;
	switch (r->outcome) {
	case TR_POLL_OK:
		snprintf(detail, sizeof(detail), "%lld new, %lld updated",
		         (long long)r->added, (long long)r->updated);
		break;
	case TR_POLL_UNCHANGED:
		snprintf(detail, sizeof(detail), "%s",
		         r->status == 304 ? "not modified (304)"
		                          : "same document");
		break;
	default:
		snprintf(detail, sizeof(detail), "%s",
		         r->message ? r->message : "");
		break;
	}
	clear_progress(o);
	printf("%-*s  %-9s  %s  %.2fs\n", o->width, r->name,
	       tr_poll_outcome_name(r->outcome), detail, r->seconds);
	fflush(stdout);
	if (o->progress && r->total > 1 && r->index < r->total &&
	    now_mono() - o->last > 0.1) {
		fprintf(stderr, "[%zu/%zu] fetching...", r->index, r->total);
		o->shown = 1;
		o->last = now_mono();
	}
}

/* Every NAME must be a feed of the config. */
static int
check_names(const struct tr_config *cfg, int n, char **names)
{
	int i;

	for (i = 0; i < n; i++) {
		if (tr_config_feed(cfg, names[i]) == NULL) {
			fprintf(stderr,
			        "tributary fetch: no feed named %s in %s\n",
			        names[i], cfg->path);
			return -1;
		}
	}
	return 0;
}

static void
print_summary(const struct tr_poll_stats *s, struct tr_store *st)
{
	int64_t due = 0;
	char busy[48] = "";

	if (s->busy > 0)
		snprintf(busy, sizeof(busy), ", %lld busy", (long long)s->busy);
	if (s->feeds == 0) {
		if (tr_store_next_due(st, &due) == 0 && due > 0) {
			int64_t in = due - (int64_t)time(NULL);

			if (in < 120)
				printf("no feed due; next check in %llds\n",
				       (long long)(in < 0 ? 0 : in));
			else if (in < 2 * 3600)
				printf("no feed due; next check in %lldm\n",
				       (long long)(in + 30) / 60);
			else
				printf("no feed due; next check in %lldh\n",
				       (long long)(in + 1800) / 3600);
		} else {
			printf("no feed due\n");
		}
		return;
	}
	/* "busy" only when another process polls some of them. */
	printf("%lld feed%s in %.2fs: %lld ok, %lld unchanged, %lld failed, "
	       "%lld held, %lld disabled%s; %lld new, %lld updated\n",
	       (long long)s->feeds, s->feeds == 1 ? "" : "s", s->seconds,
	       (long long)s->ok, (long long)s->unchanged, (long long)s->failed,
	       (long long)s->held, (long long)s->disabled, busy,
	       (long long)s->added, (long long)s->updated);
}

/*
 * The exit status of a round that ran, for cron: "fetch && export" must
 * export when some feeds failed, so a failure of some feeds is 0 (they
 * are in the output and in "tributary feeds"); 1 when feeds were polled
 * and none could be fetched (all failed or held: a dead network, a full
 * disk), or when interrupted. A named feed that is disabled counts as
 * one that could not be fetched. --strict: 1 on any failure or hold.
 */
static int
round_status(const struct tr_poll_stats *s, int named, int strict,
    int stopped)
{
	int64_t bad = s->failed + s->held + (named ? s->disabled : 0);

	if (stopped)
		return EXIT_FAIL;
	if (strict)
		return bad > 0 ? EXIT_FAIL : EXIT_OK;
	return bad > 0 && s->ok + s->unchanged == 0 ? EXIT_FAIL : EXIT_OK;
}

/* Name column width: the longest name among those that may print. */
static int
name_width(const struct tr_config *cfg)
{
	size_t i, w = 4;

	for (i = 0; i < cfg->n_feeds; i++)
		if (strlen(cfg->feeds[i].name) > w)
			w = strlen(cfg->feeds[i].name);
	return w > 32 ? 32 : (int)w;
}

int
cmd_fetch(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"force", no_argument, NULL, 'f'},
	    {"strict", no_argument, NULL, 's'},
	    {"quiet", no_argument, NULL, 'q'},
	    {NULL, 0, NULL, 0},
	};
	struct tr_config *cfg = NULL;
	struct tr_store *st = NULL;
	struct tr_poll_opts po;
	struct tr_poll_stats stats;
	struct sigaction sa;
	struct out o;
	int c, force = 0, strict = 0, rc, status = EXIT_OK;
	int64_t deleted = 0;

	if (cli_wants_help(argc, argv, usage))
		return EXIT_OK;
	while ((c = getopt_long(argc, argv, "+fsq", opts, NULL)) != -1) {
		if (c == 'f')
			force = 1;
		else if (c == 's')
			strict = 1;
		else if (c == 'q') {
			/* "fetch -q" as well as "tributary -q fetch". */
			cli->verbosity = -1;
			tr_log_set_level(TR_LOG_ERROR);
		}
		else
			return cli_usage_error("fetch", usage,
			                       "unknown option: %s",
			                       argv[optind - 1]);
	}
	if ((cfg = cli_load_config(cli)) == NULL)
		return EXIT_USAGE;
	if (check_names(cfg, argc - optind, argv + optind) != 0) {
		tr_config_free(cfg);
		return EXIT_USAGE;
	}
	if (cli_database_dir("fetch", cfg->database) != 0) {
		status = EXIT_FAIL;
		goto out;
	}
	rc = tr_store_open(&st, cfg->database, 0);
	if (rc == 0)
		rc = tr_store_sync_config(st, cfg);
	if (rc != 0) {
		/* The store's message names the file. */
		fprintf(stderr, "tributary fetch: %s\n",
		        st ? tr_store_errmsg(st) : tr_strerror(rc));
		status = EXIT_FAIL;
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	tr_store_trap_io_faults();

	memset(&o, 0, sizeof(o));
	o.quiet = cli->verbosity < 0;
	o.width = name_width(cfg);
	o.progress = !o.quiet && isatty(STDERR_FILENO);
	memset(&po, 0, sizeof(po));
	po.force = force;
	if (optind < argc) {
		po.names = (const char *const *)(argv + optind);
		po.n_names = (size_t)(argc - optind);
	}
	po.cancel = &cancel_flag;
	po.on_feed = on_feed;
	po.arg = &o;
	rc = tr_poll_run(&stats, st, cfg, &po);
	clear_progress(&o);
	if (rc != 0) {
		fprintf(stderr, "tributary fetch: %s\n", tr_strerror(rc));
		status = EXIT_FAIL;
		goto out;
	}
	if (!o.quiet)
		print_summary(&stats, st);
	if (tr_store_retention(st, cfg, (int64_t)time(NULL), &deleted) != 0)
		tr_log(TR_LOG_WARN, "retention: %s", tr_store_errmsg(st));
	else if (deleted > 0)
		tr_log(TR_LOG_INFO, "retention: %lld old articles deleted",
		       (long long)deleted);
	status = round_status(&stats, po.names != NULL, strict, interrupted);
out:
	tr_store_close(st);
	tr_config_free(cfg);
	return status;
}
