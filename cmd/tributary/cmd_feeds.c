/* cmd_feeds.c — tributary feeds (not built yet). */
#include <stdio.h>

#include "cli.h"

int
cmd_feeds(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	fprintf(stderr, "tributary feeds: not available in this build yet\n");
	return EXIT_FAIL;
}
