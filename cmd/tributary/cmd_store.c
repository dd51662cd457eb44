/*
 * cmd_store.c — tributary store: work on a store as a whole.
 *
 *	tributary store copy --from A --to B
 *
 * copy moves a store between addresses (an SQLite file, a postgresql://
 * database) through tr_store_copy, and prints what it read back from the
 * target next to what it read from the source.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "tributary/error.h"
#include "tributary/store.h"

static const char usage[] =
    "usage: tributary store copy --from ADDRESS --to ADDRESS\n"
    "Copies a whole store: every feed with its polling state, tags and\n"
    "configs, every article with its id, and the generation. ADDRESS is\n"
    "the path of an SQLite file or a postgresql:// database address, so\n"
    "a store moves between the two. The target must be empty: a new\n"
    "file, or a database with no tributary tables or empty ones; a store\n"
    "with rows is refused and left as it was. Stop the services writing\n"
    "to the source first: what they write during the copy is not in it.\n"
    "Prints each table's rows and a checksum of the article ids and\n"
    "identities, read from the source and read back from the target.\n"
    "Exits 0 when they agree, 1 when the copy failed or differs, 2 on a\n"
    "usage error.\n";

static void
print_report(const struct tr_store_copy_report *r, const char *from,
    const char *to)
{
	char a[512], b[512];
	size_t i;

	tr_store_address_shown(a, sizeof(a), from);
	tr_store_address_shown(b, sizeof(b), to);
	printf("%-18s %20s %20s\n", "", "source", "target");
	for (i = 0; i < TR_STORE_COPY_TABLES; i++)
		printf("%-18s %20lld %20lld\n", r->table[i],
		    (long long)r->from[i], (long long)r->to[i]);
	printf("%-18s %20lld %20lld\n", "generation", (long long)r->from_gen,
	    (long long)r->to_gen);
	printf("%-18s %20.16llx %20.16llx\n", "article checksum",
	    (unsigned long long)r->from_sum, (unsigned long long)r->to_sum);
	if (r->same)
		printf("copied %s to %s: the target matches the source\n", a,
		    b);
}

static int
store_copy(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"from", required_argument, NULL, 'f'},
	    {"to", required_argument, NULL, 't'},
	    {NULL, 0, NULL, 0},
	};
	struct tr_store_copy_report rep;
	const char *from = NULL, *to = NULL;
	char why[1024];
	int c, rc;

	cli_getopt_reset();
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'f')
			from = optarg;
		else if (c == 't')
			to = optarg;
		else
			return cli_usage_error("store copy", usage,
			    "unknown option: %s", argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage_error("store copy", usage,
		    "unexpected argument: %s", argv[optind]);
	if (from == NULL || to == NULL)
		return cli_usage_error("store copy", usage,
		    "give the source with --from and the target with --to");
	if (!tr_store_is_server(to) && cli_database_dir("store copy", to) != 0)
		return EXIT_FAIL;
	rc = tr_store_copy(from, to, &rep, why, sizeof(why));
	if (rep.read_back)
		print_report(&rep, from, to);
	if (rc != 0) {
		fprintf(stderr, "tributary store copy: %s\n", why);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int
cmd_store(struct cli *cli, int argc, char **argv)
{
	(void)cli;
	if (argc < 2 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "--help") == 0) {
		if (argc < 2)
			return cli_usage_error("store", usage,
			    "no subcommand (copy)");
		fputs(usage, stdout);
		return EXIT_OK;
	}
	if (strcmp(argv[1], "copy") != 0)
		return cli_usage_error("store", usage, "unknown subcommand: %s",
		    argv[1]);
	if (cli_wants_help(argc - 1, argv + 1, usage))
		return EXIT_OK;
	return store_copy(argc - 1, argv + 1);
}
