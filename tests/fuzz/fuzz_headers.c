/*
 * fuzz_headers.c — libFuzzer target for the parsers of response header
 * values that steer the schedule: Retry-After (tr_sched_retry_after) and
 * Cache-Control (tr_sched_max_age).
 *
 * Checked, from sched.h: an accepted Retry-After gives a time in
 * [now, now + max]; a refused one sets 0 and returns TR_EINVAL; max-age
 * is -1 (no hint) or a non-negative number of seconds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tributary/error.h"
#include "tributary/sched.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Fixed clock: 2026-01-01T00:00:00Z, and the default 24 h cap. */
#define NOW 1767225600LL
#define MAX (24 * 3600LL)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	int64_t until = -1, age;
	int rc;

	if (size > 4096)
		return 0;
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	rc = tr_sched_retry_after(&until, s, NOW, MAX);
	if (rc == 0) {
		if (until < NOW || until > NOW + MAX)
			abort();
	} else if (rc != TR_EINVAL || until != 0) {
		abort();
	}
	age = tr_sched_max_age(s);
	if (age < -1)
		abort();
	free(s);
	return 0;
}
