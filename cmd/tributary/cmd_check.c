/* cmd_check.c — tributary check: validate the config, list its feeds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "tributary/error.h"
#include "tributary/store.h"
#include "tributary/url.h"

static const char usage[] =
    "usage: tributary [-c FILE] check [--store]\n"
    "Validates the config file and prints the feeds it defines: name,\n"
    "interval, tags and URL (without its password or token). Exits 0 when\n"
    "the file is valid, 2 otherwise, after reporting every error as\n"
    "FILE:LINE: MESSAGE. Warnings (FILE:LINE: warning: ...) name what is\n"
    "valid but likely a mistake: two feeds with one URL, a value cut short\n"
    "by a ';' comment.\n"
    "  --store  also check every page of the database (SQLite's\n"
    "           integrity_check, read-only); exits 1 when it is damaged\n";

static int
print_problem(const char *problem, void *arg)
{
	(*(int *)arg)++;
	printf("  %s\n", problem);
	return 0;
}

/* check --store: the full check of the database; an exit status. */
static int
check_store(const struct tr_config *cfg)
{
	struct tr_store *st = NULL;
	const char *why = NULL;
	int n = 0, rc;

	if (!cli_store_exists("check", cfg->database))
		return EXIT_FAIL;
	rc = tr_store_open(&st, cfg->database, TR_STORE_READONLY);
	if (rc == 0)
		rc = tr_store_check(st, 1, print_problem, &n);
	if (rc != 0) {
		fprintf(stderr, "tributary check: %s\n",
		    st ? tr_store_errmsg(st) : tr_strerror(rc));
		tr_store_close(st);
		return EXIT_FAIL;
	}
	if (n > 0 || tr_store_damaged(st, &why)) {
		fprintf(stderr, "tributary check: %s\n",
		    why ? why : "the database is damaged");
		tr_store_close(st);
		return EXIT_FAIL;
	}
	printf("%s: ok, every page checked\n", cfg->database_shown);
	tr_store_close(st);
	return EXIT_OK;
}

int
cmd_check(struct cli *cli, int argc, char **argv)
{
	struct tr_config *cfg;
	size_t i, j;
	int store = 0, status = EXIT_OK;

	if (cli_wants_help(argc, argv, usage))
		return EXIT_OK;
	if (argc > 1 && strcmp(argv[1], "--store") == 0) {
		store = 1;
		argc--;
		argv++;
	}
	if (argc > 1)
		return cli_usage_error("check", usage, "unexpected argument: %s",
		    argv[1]);
	if ((cfg = cli_load_config(cli)) == NULL)
		return EXIT_USAGE;
	/* Valid, but probably not what was meant. */
	if (cfg->warnings)
		fputs(cfg->warnings, stderr);
	printf("%s: ok, %zu feed%s, database %s, listen %s\n", cfg->path,
	    cfg->n_feeds, cfg->n_feeds == 1 ? "" : "s", cfg->database_shown,
	    cfg->listen);
	for (i = 0; i < cfg->n_feeds; i++) {
		const struct tr_feed_conf *f = &cfg->feeds[i];
		char every[32];

		char *shown = tr_url_public(f->url);

		tr_format_duration(every, sizeof(every),
		    tr_config_feed_interval(cfg, f));
		/* Never the URL's password or token (tr_url_public). */
		printf("%-20s every %-4s %s%s%s", f->name, every,
		    shown ? shown : "(URL hidden)",
		    f->is_private ? " (private)" : "",
		    f->enabled ? "" : " (disabled)");
		free(shown);
		for (j = 0; j < f->n_tags; j++)
			printf("%s%s", j ? "," : " [", f->tags[j]);
		printf("%s\n", f->n_tags ? "]" : "");
	}
	if (store)
		status = check_store(cfg);
	tr_config_free(cfg);
	return status;
}
