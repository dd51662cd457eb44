/* cmd_parse.c — tributary parse (not built yet). */
#include <stdio.h>

#include "cli.h"

int
cmd_parse(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	fprintf(stderr, "tributary parse: not available in this build yet\n");
	return EXIT_FAIL;
}
