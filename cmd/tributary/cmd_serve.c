/* cmd_serve.c — tributary serve (not built yet). */
#include <stdio.h>

#include "cli.h"

int
cmd_serve(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	fprintf(stderr, "tributary serve: not available in this build yet\n");
	return EXIT_FAIL;
}
