/* cmd_export.c — tributary export (not built yet). */
#include <stdio.h>

#include "cli.h"

int
cmd_export(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	(void)argc;
	(void)argv;
	fprintf(stderr, "tributary export: not available in this build yet\n");
	return EXIT_FAIL;
}
