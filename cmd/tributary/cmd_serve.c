/*
 * cmd_serve.c — tributary serve: serve the store over HTTP until SIGINT
 * or SIGTERM.
 *
 * Everything that serves lives in lib/http.c; this file opens the store,
 * starts the endpoint and waits for a signal.
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>

#include "cli.h"
#include "tributary/error.h"
#include "tributary/http.h"
#include "tributary/log.h"
#include "tributary/store.h"

static const char usage[] =
    "usage: tributary [-c FILE] serve [--listen HOST:PORT]\n"
    "Serves the merged feed over HTTP: /feed.atom, /feed.rss, /feed.json,\n"
    "/tags/TAG.atom, /feeds/NAME.atom, /feeds.opml, /healthz and /.\n"
    "Runs until SIGINT or SIGTERM, then exits 0.\n\n"
    "options:\n"
    "  -l, --listen ADDR  listen on ADDR instead of the config's listen\n"
    "                     (HOST:PORT, [V6]:PORT or *:PORT; port 0 picks a\n"
    "                     free port, and the log line names it)\n";

/* Creates or migrates the store and records the configured feeds. */
static int
prepare_store(const struct tr_config *cfg)
{
	struct tr_store *st = NULL;
	int rc;

	rc = tr_store_open(&st, cfg->database, 0);
	if (rc == 0)
		rc = tr_store_sync_config(st, cfg);
	if (rc != 0)
		fprintf(stderr, "tributary serve: %s: %s\n", cfg->database,
		    st ? tr_store_errmsg(st) : tr_strerror(rc));
	tr_store_close(st);
	return rc;
}

/* Blocks until SIGINT or SIGTERM arrives (the signals are blocked). */
static int
wait_for_stop(const sigset_t *set)
{
	int sig = 0;

	while (sigwait(set, &sig) != 0)
		;
	return sig;
}

int
cmd_serve(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	struct tr_http_opts ho = {0};
	struct tr_config *cfg = NULL;
	struct tr_http *srv = NULL;
	sigset_t set;
	int c, rc, status = EXIT_FAIL;

	if (cli_wants_help(argc, argv, usage))
		return EXIT_OK;
	while ((c = getopt_long(argc, argv, "l:", opts, NULL)) != -1) {
		if (c != 'l')
			return cli_usage_error("serve", usage,
			    "unknown option or missing argument: %s",
			    argv[optind - 1]);
		ho.listen = optarg;
	}
	if (optind < argc)
		return cli_usage_error("serve", usage,
		    "unexpected argument: %s", argv[optind]);
	if ((cfg = cli_load_config(cli)) == NULL)
		return EXIT_USAGE;
	if (prepare_store(cfg) != 0)
		goto out;
	/* Block the stop signals before any server thread starts. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	rc = tr_http_new(&srv, cfg, cfg->database, &ho);
	if (rc == 0)
		rc = tr_http_listen(srv);
	if (rc != 0) {
		fprintf(stderr, "tributary serve: %s\n",
		    srv ? tr_http_errmsg(srv) : tr_strerror(rc));
		status = rc == TR_EINVAL ? EXIT_USAGE : EXIT_FAIL;
		goto out;
	}
	tr_log(TR_LOG_INFO,
	    "serve: listening on port %u, merged feed at %s/feed.atom",
	    tr_http_port(srv), tr_http_url(srv));
	c = wait_for_stop(&set);
	tr_log(TR_LOG_INFO, "serve: %s, stopping",
	    c == SIGINT ? "SIGINT" : "SIGTERM");
	status = EXIT_OK;
out:
	tr_http_stop(srv);
	tr_config_free(cfg);
	return status;
}
