/*
 * cli.h — what main.c hands to every subcommand.
 *
 * Each subcommand is one cmd_<name>.c with one function
 *	int cmd_<name>(struct cli *cli, int argc, char **argv);
 * argv[0] is the command's name; options are parsed with getopt_long. The
 * function returns the exit status: 0 success, 1 runtime failure, 2 usage
 * or configuration error.
 */
#ifndef TRIBUTARY_CLI_H
#define TRIBUTARY_CLI_H

#include <stdio.h>

#include "tributary/config.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

struct cli {
	const char *config_path; /* -c, $TRIBUTARY_CONFIG or ./feeds.conf */
	int verbosity;		 /* -1 quiet, 0 normal, 1+ verbose */
};

/*
 * Loads the config named by cli. On errors prints every "file:line:
 * message" to stderr and returns NULL; the caller exits with EXIT_USAGE.
 */
struct tr_config *cli_load_config(const struct cli *cli);

/*
 * Prints "tributary COMMAND: MESSAGE" and a one-line hint (run the
 * command with --help) to stderr, never the whole usage; returns 2.
 */
int cli_usage_error(const char *command, const char *usage, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

/*
 * Handles -h/--help for commands: prints usage to stdout when argv holds
 * -h or --help and returns 1; the caller returns 0.
 */
int cli_wants_help(int argc, char **argv, const char *usage);

/* Resets getopt so that a command can parse its own argv. */
void cli_getopt_reset(void);

/*
 * Writes len bytes to path atomically: a temporary file in the same
 * folder, fsync'ed, then renamed over path (a symlink is followed), so a
 * reader sees the old file or the new one, never half of one. Keeps an
 * existing file's permissions (else 0666 & ~umask). On failure prints
 * "tributary COMMAND: PATH: reason" and returns -1. (cmd_export.c)
 */
int cli_write_atomic(const char *command, const char *path, const void *data,
    size_t len);

/*
 * Creates the missing folders above the database file path (mode 0750,
 * less what the umask takes), for the commands that create the store.
 * On failure prints "tributary COMMAND: cannot create the database
 * folder DIR: reason" and returns -1.
 */
int cli_database_dir(const char *command, const char *path);

/*
 * Whether the database at path exists; when not, prints "tributary
 * COMMAND: PATH: no store yet (...)" and returns 0.
 */
int cli_store_exists(const char *command, const char *path);

int cmd_check(struct cli *cli, int argc, char **argv);
int cmd_parse(struct cli *cli, int argc, char **argv);
int cmd_fetch(struct cli *cli, int argc, char **argv);
int cmd_feeds(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_serve(struct cli *cli, int argc, char **argv);
int cmd_opml(struct cli *cli, int argc, char **argv);
int cmd_purge(struct cli *cli, int argc, char **argv);
int cmd_store(struct cli *cli, int argc, char **argv);

#endif
