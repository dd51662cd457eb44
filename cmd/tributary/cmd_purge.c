/*
 * cmd_purge.c — tributary purge: a feed removed from the config, and
 * its articles, deleted now rather than removed_keep later.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tributary/error.h"
#include "tributary/store.h"

static const char usage[] =
    "usage: tributary [-c FILE] purge NAME...\n"
    "Deletes each named feed and all its articles from the database now.\n"
    "A feed removed from the config leaves the merged feed at once and\n"
    "its articles are deleted removed_keep (30 days) later; purge does it\n"
    "at once. A feed still in the config is refused: remove its section\n"
    "first. Exits 0 when every feed was deleted, 1 when one is not in the\n"
    "database, 2 on a usage or configuration error.\n";

int
cmd_purge(struct cli *cli, int argc, char **argv)
{
	struct tr_config *cfg = NULL;
	struct tr_store *st = NULL;
	int64_t n = 0;
	int c, i, rc, status = EXIT_FAIL;

	if (cli_wants_help(argc, argv, usage))
		return EXIT_OK;
	while ((c = getopt_long(argc, argv, "", NULL, NULL)) != -1)
		return cli_usage_error("purge", usage, "unknown option: %s",
		    argv[optind - 1]);
	if (optind >= argc)
		return cli_usage_error("purge", usage, "no feed named");
	if ((cfg = cli_load_config(cli)) == NULL)
		return EXIT_USAGE;
	for (i = optind; i < argc; i++) {
		if (tr_config_feed(cfg, argv[i]) != NULL) {
			fprintf(stderr, "tributary purge: feed %s is in %s: "
					"remove its section first\n",
			    argv[i], cfg->path);
			status = EXIT_USAGE;
			goto out;
		}
	}
	if (!cli_store_exists("purge", cfg->database))
		goto out;
	if ((rc = tr_store_open(&st, cfg->database, 0)) != 0) {
		fprintf(stderr, "tributary purge: %s\n",
		    st ? tr_store_errmsg(st) : tr_strerror(rc));
		goto out;
	}
	status = EXIT_OK;
	for (i = optind; i < argc; i++) {
		char other[1024];

		/* Another config sharing the database still lists it. */
		if ((rc = tr_store_listed_elsewhere(st, cfg, argv[i], other,
			 sizeof(other))) != 0) {
			if (rc > 0)
				fprintf(stderr, "tributary purge: feed %s is "
						"in %s, which shares the "
						"database: remove its section "
						"there first\n",
				    argv[i], other);
			else
				fprintf(stderr, "tributary purge: %s\n",
				    tr_store_errmsg(st));
			status = EXIT_FAIL;
			continue;
		}
		if ((rc = tr_store_purge(st, argv[i], &n)) != 0) {
			fprintf(stderr, "tributary purge: %s\n",
			    tr_store_errmsg(st));
			status = EXIT_FAIL;
			continue;
		}
		if (cli->verbosity >= 0)
			printf("%s: deleted with its %lld article%s\n",
			    argv[i], (long long)n, n == 1 ? "" : "s");
	}
out:
	tr_store_close(st);
	tr_config_free(cfg);
	return status;
}
