/* cmd_check.c — tributary check: validate the config, list its feeds. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "tributary/url.h"

static const char usage[] =
    "usage: tributary [-c FILE] check\n"
    "Validates the config file and prints the feeds it defines: name,\n"
    "interval, tags and URL (without its password or token). Exits 0 when\n"
    "the file is valid, 2 otherwise, after reporting every error as\n"
    "FILE:LINE: MESSAGE. Warnings (FILE:LINE: warning: ...) name what is\n"
    "valid but likely a mistake: two feeds with one URL, a value cut short\n"
    "by a ';' comment.\n";

int
cmd_check(struct cli *cli, int argc, char **argv)
{
	struct tr_config *cfg;
	size_t i, j;

	if (cli_wants_help(argc, argv, usage))
		return EXIT_OK;
	if (argc > 1)
		return cli_usage_error("check", usage, "unexpected argument: %s",
		    argv[1]);
	if ((cfg = cli_load_config(cli)) == NULL)
		return EXIT_USAGE;
	/* Valid, but probably not what was meant. */
	if (cfg->warnings)
		fputs(cfg->warnings, stderr);
	printf("%s: ok, %zu feed%s, database %s, listen %s\n", cfg->path,
	    cfg->n_feeds, cfg->n_feeds == 1 ? "" : "s", cfg->database,
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
	tr_config_free(cfg);
	return EXIT_OK;
}
