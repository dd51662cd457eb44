/*
 * html_bench.c — the HTML step alone: tr_html_sanitize() over item bodies
 * read from a file (bodies separated by NUL bytes, as bench/html writes
 * them), several passes, with a base URL for the relative references.
 *
 *	html_bench [-g] BODIES [PASSES]
 *
 * -g: Gumbo's parse alone (tr_html_gumbo_only: the same options, arena
 * and pieces as the sanitizer, no walk and no output), the floor under
 * the sanitizer's cost while Gumbo is the parser.
 *
 * Prints one line: "bodies N bytes B passes P cpu_s S mb_s M out_bytes O
 * plain K wall W cpu S" where S is the CPU time of the loop alone (no file
 * reading, no process start), W its wall time, M = B * P / S / 1e6 and K
 * the number of bodies without markup (tr_html_is_plain: no parse).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tributary/buf.h"
#include "tributary/html.h"

#include "../lib/html_int.h"

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
	struct tr_buf in, out;
	FILE *fp;
	char chunk[65536];
	size_t n, i, nbodies = 0, start, outbytes = 0, plain = 0;
	int passes, p, gumbo_only = 0, rc;
	double t0, t1, w0, w1;

	if (argc > 1 && strcmp(argv[1], "-g") == 0) {
		gumbo_only = 1;
		argv++, argc--;
	}
	passes = argc > 2 ? atoi(argv[2]) : 3;
	if (argc < 2 || (fp = fopen(argv[1], "rb")) == NULL) {
		fprintf(stderr, "usage: html_bench [-g] BODIES [PASSES]\n");
		return 2;
	}
	tr_buf_init(&in, (size_t)1 << 31);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (tr_buf_add(&in, chunk, n) != 0)
			return 1;
	fclose(fp);
	tr_buf_init(&out, (size_t)1 << 24);
	w0 = clock_s(CLOCK_MONOTONIC);
	t0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	for (p = 0; p < passes; p++) {
		for (start = i = 0; i <= in.len; i++) {
			if (i < in.len && in.data[i] != '\0')
				continue;
			if (i > start) {
				tr_buf_reset(&out);
				if (gumbo_only)
					rc = tr_html_gumbo_only(in.data + start,
					                        i - start);
				else
					rc = tr_html_sanitize(
					    &out, in.data + start, i - start,
					    "https://news.example/feed/", NULL);
				if (rc != 0)
					return 1;
				outbytes += out.len;
				if (p == 0)
					nbodies++;
			}
			start = i + 1;
		}
	}
	t1 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	w1 = clock_s(CLOCK_MONOTONIC);
	for (start = i = 0; i <= in.len; i++) {
		if (i < in.len && in.data[i] != '\0')
			continue;
		if (i > start)
			plain += tr_html_is_plain(in.data + start, i - start);
		start = i + 1;
	}
	/* The bodies file holds nbodies - 1 separators. */
	n = nbodies ? in.len - (nbodies - 1) : 0;
	printf("bodies %zu bytes %zu passes %d cpu_s %.3f mb_s %.1f "
	       "out_bytes %zu plain %zu wall %.6f cpu %.6f\n",
	       nbodies, n, passes, t1 - t0,
	       (double)n * passes / (t1 - t0) / 1e6, outbytes / (size_t)passes,
	       plain, w1 - w0, t1 - t0);
	tr_buf_free(&in);
	tr_buf_free(&out);
	return 0;
}
