/* cmd_fetch.c — tributary fetch (not built yet). */
#include <stdio.h>

#include "cli.h"

int
cmd_fetch(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	fprintf(stderr, "tributary fetch: not available in this build yet\n");
	return EXIT_FAIL;
}
