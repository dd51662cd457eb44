/*
 * parse_bench.c — drives tributary's streaming parser (tr_parser) over
 * files with a callback that only counts articles, to measure the parser
 * without the cost of a process per file or of printing JSON. Same read
 * loop as expat_noop.c: read(2) of 64 KiB, tr_parser_feed(). One parser
 * serves all files (tr_parser_reset between them), as a fetch round does.
 *
 *	parse_bench [-r] FILE...
 *	parse_bench [-r] -l LISTFILE	(one path per line)
 *
 * -r reads item bodies as the document has them (tr_parse_opts.raw_html):
 * the XML parse alone, without the HTML sanitizer every body goes through
 * by default.
 *
 * Prints "files N bytes N items N wall S cpu S" on stdout, the times being
 * those of the parse loop alone (no process start). Exit 1 when a file
 * cannot be read or nothing in it was recognized as a feed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tributary/parse.h"

#define CHUNK (64 * 1024)

static unsigned long long n_items;
static struct tr_parser *parser;

static int
on_article(const struct tr_article *a, void *arg)
{
	(void)a;
	(void)arg;
	n_items++;
	return 0;
}

/* Parses one file; returns its size, or -1 with a message on stderr. */
static long long
parse_file(const char *path)
{
	static char buf[CHUNK];
	struct tr_parser *p = parser;
	long long total = 0;
	ssize_t n = 0;
	int fd = -1, rc = 0;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "parse_bench: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (tr_parser_reset(p, NULL, NULL) != 0) {
		close(fd);
		return -1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		total += n;
		if ((rc = tr_parser_feed(p, buf, (size_t)n)) != 0)
			break;
	}
	if (n < 0 || tr_parser_finish(p) != 0) {
		fprintf(stderr, "parse_bench: %s: not parsed\n", path);
		total = -1;
	}
	close(fd);
	return total;
}

/* Seconds on a clock: CLOCK_MONOTONIC or CLOCK_PROCESS_CPUTIME_ID. */
static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	unsigned long long bytes = 0, files = 0;
	struct tr_parse_opts opts = {0};
	char line[4096];
	int i, rc = 0;
	long long n;
	double w0 = clock_s(CLOCK_MONOTONIC);
	double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);

	if (argc > 1 && strcmp(argv[1], "-r") == 0) {
		opts.raw_html = 1;
		argv++, argc--;
	}
	if (tr_parser_new(&parser, &opts, on_article, NULL) != 0) {
		fprintf(stderr, "parse_bench: out of memory\n");
		return 1;
	}
	if (argc == 3 && strcmp(argv[1], "-l") == 0) {
		FILE *fp = fopen(argv[2], "r");
		if (fp == NULL) {
			perror(argv[2]);
			return 1;
		}
		while (fgets(line, sizeof(line), fp) != NULL) {
			line[strcspn(line, "\n")] = '\0';
			if (line[0] == '\0')
				continue;
			if ((n = parse_file(line)) < 0)
				rc = 1;
			else
				bytes += (unsigned long long)n, files++;
		}
		fclose(fp);
	} else {
		for (i = 1; i < argc; i++) {
			if ((n = parse_file(argv[i])) < 0)
				rc = 1;
			else
				bytes += (unsigned long long)n, files++;
		}
	}
	tr_parser_free(parser);
	/* The parse loop only, without process start and dynamic linking. */
	printf("files %llu bytes %llu items %llu wall %.6f cpu %.6f\n", files,
	    bytes, n_items, clock_s(CLOCK_MONOTONIC) - w0,
	    clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0);
	return rc;
}
