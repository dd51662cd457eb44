/*
 * expat_noop.c — the ceiling for any expat-based feed parser: a raw expat
 * parse of each file with no-op start, end and character-data handlers,
 * in the same streaming loop tributary's parser uses (XML_GetBuffer,
 * read(2) of 64 KiB, XML_ParseBuffer).
 *
 *	expat_noop FILE...
 *	expat_noop -l LISTFILE	(one path per line)
 *
 * Prints "files N bytes N elements N wall S cpu S" on stdout, the times
 * being those of the parse loop alone (no process start). Exit 1 when a
 * file cannot be read or is not well-formed.
 */
#include <errno.h>
#include <expat.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK (64 * 1024)

static unsigned long long n_elements;

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	(void)ud;
	(void)name;
	(void)atts;
	n_elements++;
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
	(void)ud;
	(void)name;
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
	(void)ud;
	(void)s;
	(void)len;
}

/* Parses one file; returns its size, or -1 with a message on stderr. */
static long long
parse_file(const char *path)
{
	XML_Parser p = NULL;
	long long total = 0;
	int fd = -1;
	ssize_t n = 0;

	fd = open(path, O_RDONLY);
	if (fd < 0) {
		fprintf(stderr, "expat_noop: %s: %s\n", path, strerror(errno));
		return -1;
	}
	/* A namespace-aware parser, as a feed parser must be. */
	p = XML_ParserCreateNS(NULL, '\x01');
	if (p == NULL) {
		close(fd);
		return -1;
	}
	XML_SetElementHandler(p, on_start, on_end);
	XML_SetCharacterDataHandler(p, on_text);
	for (;;) {
		void *buf = XML_GetBuffer(p, CHUNK);
		if (buf == NULL)
			goto fail;
		n = read(fd, buf, CHUNK);
		if (n < 0)
			goto fail;
		total += n;
		if (XML_ParseBuffer(p, (int)n, n == 0) == XML_STATUS_ERROR) {
			fprintf(stderr, "expat_noop: %s:%lu: %s\n", path,
			    (unsigned long)XML_GetCurrentLineNumber(p),
			    XML_ErrorString(XML_GetErrorCode(p)));
			goto fail;
		}
		if (n == 0)
			break;
	}
	XML_ParserFree(p);
	close(fd);
	return total;
fail:
	XML_ParserFree(p);
	close(fd);
	return -1;
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
	char line[4096];
	int i, rc = 0;
	long long n;
	double w0 = clock_s(CLOCK_MONOTONIC);
	double c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);

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
	/* The parse loop only, without process start and dynamic linking. */
	printf("files %llu bytes %llu elements %llu wall %.6f cpu %.6f\n",
	    files, bytes, n_elements, clock_s(CLOCK_MONOTONIC) - w0,
	    clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0);
	return rc;
}
