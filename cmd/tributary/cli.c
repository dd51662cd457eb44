/* cli.c — helpers shared by the subcommands. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "tributary/error.h"
#include "tributary/store.h"

struct tr_config *
cli_load_config(const struct cli *cli)
{
	struct tr_config *cfg = NULL;
	char *errors = NULL;
	int rc;

	rc = tr_config_load(&cfg, &errors, cli->config_path);
	if (rc != 0) {
		fputs(errors ? errors : tr_strerror(rc), stderr);
		fprintf(stderr, "tributary: %s: configuration has errors\n",
		    cli->config_path);
		free(errors);
		return NULL;
	}
	return cfg;
}

int
cli_usage_error(const char *command, const char *usage, const char *fmt,
    ...)
{
	va_list ap;

	(void)usage; /* the whole text only for --help: a hint is enough */
	fprintf(stderr, "tributary %s: ", command);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nRun 'tributary %s --help' for its usage.\n",
	    command);
	return EXIT_USAGE;
}

int
cli_wants_help(int argc, char **argv, const char *usage)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 1;
		}
	}
	return 0;
}

void
cli_getopt_reset(void)
{
	optind = 0; /* glibc: 0 reinitializes getopt completely */
	opterr = 0;
}

int
cli_database_dir(const char *command, const char *path)
{
	char dir[PATH_MAX];
	struct stat st;
	char *p, *slash;

	if (tr_store_is_server(path))
		return 0; /* a database server's: no folder of ours */
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		fprintf(stderr, "tributary %s: %s: path too long\n", command,
		    path);
		return -1;
	}
	if ((slash = strrchr(dir, '/')) == NULL || slash == dir)
		return 0; /* the current folder, or / */
	*slash = '\0';
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	/* Each missing level from the top, like mkdir -p. */
	for (p = dir + 1;; p++) {
		char c = *p;

		if (c != '/' && c != '\0')
			continue;
		*p = '\0';
		if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
			int err = errno;

			*p = c;
			*slash = '\0';
			fprintf(stderr, "tributary %s: cannot create the "
					"database folder %s: %s\n",
			    command, dir, strerror(err));
			return -1;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "tributary %s: cannot create the database "
				"folder %s: %s\n",
		    command, dir, strerror(ENOTDIR));
		return -1;
	}
	return 0;
}

int
cli_store_exists(const char *command, const char *path)
{
	if (tr_store_is_server(path) || access(path, F_OK) == 0)
		return 1;
	fprintf(stderr, "tributary %s: %s: no store yet ('tributary fetch' "
			"or 'tributary serve' creates it)\n",
	    command, path);
	return 0;
}

static int
write_all(int fd, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, p, n)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* fsync of the folder holding path, so the rename itself is durable. */
static int
sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	int fd, rc;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s",
		    (int)(slash == path ? 1 : slash - path), path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
cli_write_atomic(const char *command, const char *path, const void *data,
    size_t len)
{
	char real[PATH_MAX], tmp[PATH_MAX + 16];
	const char *target = path;
	struct stat st;
	mode_t mode, mask;
	int fd, err;

	/* Replace what a symlink points at, not the link. */
	if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) &&
	    realpath(path, real) != NULL)
		target = real;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", target) >=
	    (int)sizeof(tmp)) {
		fprintf(stderr, "tributary %s: %s: path too long\n", command,
		    path);
		return -1;
	}
	if ((fd = mkstemp(tmp)) < 0) {
		fprintf(stderr, "tributary %s: %s: cannot create a temporary "
				"file next to it: %s\n",
		    command, path, strerror(errno));
		return -1;
	}
	if (stat(target, &st) == 0) {
		mode = st.st_mode & 07777;
	} else {
		mask = umask(0);
		umask(mask);
		mode = 0666 & ~mask;
	}
	if (fchmod(fd, mode) != 0 || write_all(fd, data, len) != 0 ||
	    fsync(fd) != 0) {
		err = errno;
		close(fd);
		goto fail;
	}
	if (close(fd) != 0 || rename(tmp, target) != 0) {
		err = errno;
		goto fail;
	}
	sync_dir(target); /* best effort: the data itself is on disk */
	return 0;
fail:
	unlink(tmp);
	fprintf(stderr, "tributary %s: %s: %s\n", command, path, strerror(err));
	return -1;
}
