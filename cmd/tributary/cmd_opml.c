/* cmd_opml.c — tributary opml (not built yet). */
#include <stdio.h>

#include "cli.h"

int
cmd_opml(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	fprintf(stderr, "tributary opml: not available in this build yet\n");
	return EXIT_FAIL;
}
