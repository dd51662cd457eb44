/*
 * cmd_serve.c — tributary serve: the long-running service.
 *
 * Everything lives in lib/service.c (the poller loop, the HTTP endpoint,
 * signals, reload, sd_notify); this file parses the options, loads the
 * config, and prints the merged feed's URL once the service is up.
 */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "tributary/error.h"
#include "tributary/service.h"

static const char usage[] =
    "usage: tributary [-c FILE] serve [--listen HOST:PORT]\n"
    "Polls every feed on its schedule and serves the merged feed over\n"
    "HTTP: /feed.atom, /feed.rss, /feed.json, /tags/TAG.atom,\n"
    "/feeds/NAME.atom, /feeds.opml, /, /healthz and /metrics. Prints the\n"
    "merged feed's URL once the store is open and the listener bound.\n"
    "SIGHUP rereads the config (a file with errors is rejected and the\n"
    "running config stays); SIGINT or SIGTERM stops, exiting 0.\n\n"
    "options:\n"
    "  -l, --listen ADDR  listen on ADDR instead of the config's listen\n"
    "                     (HOST:PORT, [V6]:PORT or *:PORT; port 0 picks a\n"
    "                     free port, and the printed URL names it)\n";

/* The service is up: show where the merged feed is. */
static void
on_ready(const char *base_url, const char *feed_url, void *arg)
{
	(void)base_url;
	(void)arg;
	printf("tributary: merged feed at %s\n", feed_url);
	/* Run by hand (make run): say how to stop; a service is told. */
	if (isatty(STDIN_FILENO) || isatty(STDOUT_FILENO))
		printf("tributary: serving; press Ctrl-C to stop\n");
	fflush(stdout);
}

int
cmd_serve(struct cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {NULL, 0, NULL, 0},
	};
	struct tr_service_opts so = {0};
	struct tr_config *cfg = NULL;
	int c, rc;

	if (cli_wants_help(argc, argv, usage))
		return EXIT_OK;
	while ((c = getopt_long(argc, argv, "l:", opts, NULL)) != -1) {
		if (c != 'l')
			return cli_usage_error("serve", usage,
			    "unknown option or missing argument: %s",
			    argv[optind - 1]);
		so.listen = optarg;
	}
	if (optind < argc)
		return cli_usage_error("serve", usage,
		    "unexpected argument: %s", argv[optind]);
	if ((cfg = cli_load_config(cli)) == NULL)
		return EXIT_USAGE;
	if (cli_database_dir("serve", cfg->database) != 0) {
		tr_config_free(cfg);
		return EXIT_FAIL;
	}
	so.ready = on_ready;
	/* The service takes cfg over; its errors are logged. */
	rc = tr_service_run(cfg, &so);
	if (rc == TR_EINVAL)
		return EXIT_USAGE; /* a bad --listen address */
	return rc == 0 ? EXIT_OK : EXIT_FAIL;
}
