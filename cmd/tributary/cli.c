/* cli.c — helpers shared by the subcommands. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tributary/error.h"

struct tr_config *
cli_load_config(const struct cli *cli)
{
	struct tr_config *cfg = NULL;
	char *errors = NULL;
	int rc;

	rc = tr_config_load(&cfg, &errors, cli->config_path);
	if (rc != 0) {
		fputs(errors ? errors : tr_strerror(rc), stderr);
		fprintf(stderr, "tributary: %s: configuration has errors\n",
		    cli->config_path);
		free(errors);
		return NULL;
	}
	return cfg;
}

int
cli_usage_error(const char *command, const char *usage, const char *fmt,
    ...)
{
	va_list ap;

	fprintf(stderr, "tributary %s: ", command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n%s", usage);
	return EXIT_USAGE;
}

int
cli_wants_help(int argc, char **argv, const char *usage)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 1;
		}
	}
	return 0;
}

void
cli_getopt_reset(void)
{
	optind = 0; /* glibc: 0 reinitializes getopt completely */
	opterr = 0;
}
