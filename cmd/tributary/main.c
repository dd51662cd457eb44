/*
 * main.c — tributary's global options and command table.
 *
 *	tributary [-c FILE] [-v|-q] COMMAND [ARGS]
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "tributary/log.h"

static const struct command {
	const char *name;
	int (*fn)(struct cli *, int, char **);
	const char *summary;
} commands[] = {
    {"check", cmd_check, "validate the config and list its feeds"},
    {"parse", cmd_parse, "parse one feed document and print the result"},
    {"fetch", cmd_fetch, "poll the due feeds once and store new articles"},
    {"feeds", cmd_feeds, "show every feed's polling state"},
    {"export", cmd_export,
	"write the merged feed as Atom, RSS, JSON Feed, HTML or OPML"},
    {"serve", cmd_serve, "run the service: poll on schedule and serve HTTP"},
    {"opml", cmd_opml, "import subscriptions from an OPML file"},
    {"purge", cmd_purge, "delete a removed feed's articles now"},
    {"store", cmd_store, "copy a whole store to a new file or database"},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: tributary [-c FILE] [-v|-q] COMMAND [ARGS]\n"
		    "       tributary --version | --help\n\n"
		    "options:\n"
		    "  -c, --config FILE  config file (default: "
		    "$TRIBUTARY_CONFIG, else ./feeds.conf)\n"
		    "  -v, --verbose      log more (repeat for debug)\n"
		    "  -q, --quiet        log errors only\n\n"
		    "commands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(fp, "  %-8s %s\n", commands[i].name,
		    commands[i].summary);
	fprintf(fp, "\nRun 'tributary COMMAND --help' for a command's "
		    "options.\n");
}

/* After an error: one line that says where the usage is. */
static void
hint(void)
{
	fprintf(stderr, "Run 'tributary --help' for the options and "
			"commands.\n");
}

/* The log sink: one line per message on stderr, journald-aware. */
static void
stderr_sink(enum tr_log_level level, const char *msg, void *arg)
{
	char line[2200];
	size_t n;

	n = tr_log_format_line(line, sizeof(line), level, msg, arg != NULL);
	fwrite(line, 1, n, stderr);
}

static void
setup_logging(const struct cli *cli)
{
	const char *js = getenv("JOURNAL_STREAM");
	enum tr_log_level level = TR_LOG_INFO;
	static int journal = 1;

	if (cli->verbosity < 0)
		level = TR_LOG_ERROR;
	else if (cli->verbosity > 0)
		level = TR_LOG_DEBUG;
	tr_log_set_level(level);
	/* Any non-NULL arg marks journald mode (sd-daemon(3) prefixes). */
	tr_log_set_sink(stderr_sink, js && *js ? &journal : NULL);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct cli cli = {0};
	size_t i;
	int c, first;

	cli.config_path = getenv("TRIBUTARY_CONFIG");
	if (cli.config_path == NULL || *cli.config_path == '\0')
		cli.config_path = "feeds.conf";
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:vqh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cli.config_path = optarg;
			break;
		case 'v':
			cli.verbosity = cli.verbosity < 0 ? 1 : cli.verbosity + 1;
			break;
		case 'q':
			cli.verbosity = -1;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("tributary %s\n", TR_VERSION);
			return EXIT_OK;
		default:
			if (optopt)
				fprintf(stderr,
				    "tributary: unknown option or missing "
				    "argument: -%c\n",
				    optopt);
			else
				fprintf(stderr,
				    "tributary: unknown option: %s\n",
				    argv[optind - 1]);
			hint();
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "tributary: no command given\n");
		usage(stderr);
		return EXIT_USAGE;
	}
	setup_logging(&cli);
	first = optind;
	for (i = 0; i < N_COMMANDS; i++) {
		if (strcmp(argv[first], commands[i].name) == 0) {
			cli_getopt_reset();
			return commands[i].fn(&cli, argc - first, argv + first);
		}
	}
	fprintf(stderr, "tributary: unknown command: %s\n", argv[first]);
	hint();
	return EXIT_USAGE;
}
