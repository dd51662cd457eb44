/*
 * html_bench.c — the HTML step alone: tr_html_sanitize() over item bodies
 * read from a file (bodies separated by NUL bytes, as bench/html writes
 * them), several passes, with a base URL for the relative references.
 *
 *	html_bench BODIES [PASSES]
 *
 * Prints one line: "bodies N bytes B passes P cpu_s S mb_s M out_bytes O"
 * where S is the CPU time of the sanitizing loop alone (no file reading,
 * no process start) and M = B * P / S / 1e6.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tributary/buf.h"
#include "tributary/html.h"

static double
cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	struct tr_buf in, out;
	FILE *fp;
	char chunk[65536];
	size_t n, i, nbodies = 0, start, outbytes = 0;
	int passes = argc > 2 ? atoi(argv[2]) : 3, p;
	double t0, t1;

	if (argc < 2 || (fp = fopen(argv[1], "rb")) == NULL) {
		fprintf(stderr, "usage: html_bench BODIES [PASSES]\n");
		return 2;
	}
	tr_buf_init(&in, (size_t)1 << 31);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		if (tr_buf_add(&in, chunk, n) != 0)
			return 1;
	fclose(fp);
	tr_buf_init(&out, (size_t)1 << 24);
	t0 = cpu_now();
	for (p = 0; p < passes; p++) {
		for (start = i = 0; i <= in.len; i++) {
			if (i < in.len && in.data[i] != '\0')
				continue;
			if (i > start) {
				tr_buf_reset(&out);
				if (tr_html_sanitize(&out, in.data + start,
				                     i - start,
				                     "https://news.example/feed/",
				                     NULL) != 0)
					return 1;
				outbytes += out.len;
				if (p == 0)
					nbodies++;
			}
			start = i + 1;
		}
	}
	t1 = cpu_now();
	printf("bodies %zu bytes %zu passes %d cpu_s %.3f mb_s %.1f "
	       "out_bytes %zu\n",
	       nbodies, in.len - nbodies, passes, t1 - t0,
	       (double)(in.len - nbodies) * passes / (t1 - t0) / 1e6,
	       outbytes / (size_t)passes);
	tr_buf_free(&in);
	tr_buf_free(&out);
	return 0;
}
