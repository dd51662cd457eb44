/*
 * runner.h — the tiny unit-test runner every tests/unit/test_*.c uses.
 *
 *	static void test_something(void) { CHECK_INT(1 + 1, 2); }
 *	TR_TESTS(test_something, test_other)
 *
 * Each test function runs in order. A failed check prints file:line with
 * what it got and what it wanted, marks the test failed, and the test goes
 * on. A test that cannot run here (SKIP) is reported as "skip NAME" and
 * counted neither passed nor failed. Each test's line shows the seconds
 * it took. The program ends with the line
 * "N passed, N failed" (after "N skipped" when any were) that tests/run
 * adds up, and exits 1 when anything failed.
 */
#ifndef TR_TEST_RUNNER_H
#define TR_TEST_RUNNER_H

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int tr_test_failed_checks;
static int tr_test_skipped;

/*
 * Ends the current test function as skipped, saying why: for cases that
 * cannot run in this configuration (e.g. they read SQLite's file directly
 * while the tests run against PostgreSQL). Checks that failed before it
 * still fail the test.
 */
#define SKIP(why)                                                             \
	do {                                                                  \
		printf("  skip: %s\n", (why));                                \
		tr_test_skipped = 1;                                          \
		return;                                                       \
	} while (0)

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			printf("  %s:%d: check failed: %s\n", __FILE__,       \
			    __LINE__, #cond);                                 \
			tr_test_failed_checks++;                              \
		}                                                             \
	} while (0)

#define CHECK_INT(got, want)                                                  \
	do {                                                                  \
		long long g_ = (long long)(got), w_ = (long long)(want);      \
		if (g_ != w_) {                                               \
			printf("  %s:%d: %s: got %lld, want %lld\n",          \
			    __FILE__, __LINE__, #got, g_, w_);                \
			tr_test_failed_checks++;                              \
		}                                                             \
	} while (0)

#define CHECK_STR(got, want)                                                  \
	do {                                                                  \
		const char *g_ = (got), *w_ = (want);                         \
		if ((g_ == NULL) != (w_ == NULL) ||                           \
		    (g_ && strcmp(g_, w_) != 0)) {                            \
			printf("  %s:%d: %s: got \"%s\", want \"%s\"\n",      \
			    __FILE__, __LINE__, #got, g_ ? g_ : "(null)",     \
			    w_ ? w_ : "(null)");                              \
			tr_test_failed_checks++;                              \
		}                                                             \
	} while (0)

/* Like CHECK_STR, for table-driven tests: names the case that failed. */
#define CHECK_STR_CASE(casename, got, want)                                   \
	do {                                                                  \
		const char *g_ = (got), *w_ = (want);                         \
		if ((g_ == NULL) != (w_ == NULL) ||                           \
		    (g_ && strcmp(g_, w_) != 0)) {                            \
			printf("  %s:%d: [%s] got \"%s\", want \"%s\"\n",     \
			    __FILE__, __LINE__, (casename),                   \
			    g_ ? g_ : "(null)", w_ ? w_ : "(null)");          \
			tr_test_failed_checks++;                              \
		}                                                             \
	} while (0)

typedef void (*tr_test_fn)(void);

static int
tr_test_run(const char *const *names, const tr_test_fn *fns, size_t n)
{
	size_t i, passed = 0, failed = 0, skipped = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < n; i++) {
		int before = tr_test_failed_checks;
		struct timespec t0, t1;
		double secs;

		tr_test_skipped = 0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		fns[i]();
		clock_gettime(CLOCK_MONOTONIC, &t1);
		secs = (double)(t1.tv_sec - t0.tv_sec) +
		       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (tr_test_failed_checks != before) {
			printf("FAIL %s (%.1f s)\n", names[i], secs);
			failed++;
		} else if (tr_test_skipped) {
			printf("skip %s\n", names[i]);
			skipped++;
		} else {
			printf("ok %s (%.1f s)\n", names[i], secs);
			passed++;
		}
	}
	if (skipped)
		printf("%zu skipped\n", skipped);
	printf("%zu passed, %zu failed\n", passed, failed);
	return failed ? 1 : 0;
}

#define TR_TEST_STR_(...) #__VA_ARGS__

/* Defines main() running the listed test functions. */
#define TR_TESTS(...)                                                         \
	int main(void)                                                        \
	{                                                                     \
		static const tr_test_fn fns[] = {__VA_ARGS__};                \
		static char spec[] = TR_TEST_STR_(__VA_ARGS__);               \
		const char *names[sizeof(fns) / sizeof(fns[0])];              \
		size_t n = 0;                                                 \
		char *tok = strtok(spec, ", \t\n");                           \
		while (tok && n < sizeof(fns) / sizeof(fns[0])) {             \
			names[n++] = tok;                                     \
			tok = strtok(NULL, ", \t\n");                         \
		}                                                             \
		return tr_test_run(names, fns, n);                            \
	}

#endif
