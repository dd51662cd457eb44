/* test_sched.c — the polling schedule's arithmetic. */
#include "runner.h"

#include "tributary/date.h"
#include "tributary/error.h"
#include "tributary/sched.h"

#define MIN 60
#define HOUR 3600
#define DAY 86400

static void
test_interval_plain_and_clamped(void)
{
	CHECK_INT(tr_sched_interval(30 * MIN, NULL, 0, 5 * MIN, DAY), 30 * MIN);
	/* Below the floor, above the ceiling. */
	CHECK_INT(tr_sched_interval(MIN, NULL, 0, 5 * MIN, DAY), 5 * MIN);
	CHECK_INT(tr_sched_interval(3 * DAY, NULL, 0, 5 * MIN, DAY), DAY);
}

static void
test_interval_hints_raise_never_lower(void)
{
	struct tr_sched_hints h = {0, 0, 0};
	int64_t now = 1700000000;

	h.ttl = 2 * HOUR; /* RSS ttl 120 */
	CHECK_INT(tr_sched_interval(30 * MIN, &h, now, 5 * MIN, DAY), 2 * HOUR);
	h.ttl = 10 * MIN; /* shorter than the interval: ignored */
	CHECK_INT(tr_sched_interval(30 * MIN, &h, now, 5 * MIN, DAY), 30 * MIN);
	h.max_age = 3 * HOUR;
	CHECK_INT(tr_sched_interval(30 * MIN, &h, now, 5 * MIN, DAY), 3 * HOUR);
	h.expires = now + 5 * HOUR;
	CHECK_INT(tr_sched_interval(30 * MIN, &h, now, 5 * MIN, DAY), 5 * HOUR);
	/* Hints are still held to the ceiling. */
	h.ttl = 7 * DAY;
	CHECK_INT(tr_sched_interval(30 * MIN, &h, now, 5 * MIN, DAY), DAY);
	/* An Expires in the past says nothing. */
	h.ttl = 0;
	h.max_age = 0;
	h.expires = now - HOUR;
	CHECK_INT(tr_sched_interval(30 * MIN, &h, now, 5 * MIN, DAY), 30 * MIN);
}

static void
test_backoff_doubles_and_caps(void)
{
	CHECK_INT(tr_sched_backoff(30 * MIN, 0), 30 * MIN);
	CHECK_INT(tr_sched_backoff(30 * MIN, 1), HOUR);
	CHECK_INT(tr_sched_backoff(30 * MIN, 2), 2 * HOUR);
	CHECK_INT(tr_sched_backoff(30 * MIN, 5), 16 * HOUR);
	CHECK_INT(tr_sched_backoff(30 * MIN, 6), DAY);
	/* Huge error counts neither overflow nor stop polling. */
	CHECK_INT(tr_sched_backoff(30 * MIN, 1000000), DAY);
	CHECK_INT(tr_sched_backoff(5 * MIN, 62), DAY);
	/* An interval above the cap is not shortened by backoff. */
	CHECK_INT(tr_sched_backoff(2 * DAY, 3), 2 * DAY);
}

static void
test_jitter_within_ten_percent(void)
{
	uint64_t state = 42;
	int64_t lo = INT64_MAX, hi = 0;
	int i;

	for (i = 0; i < 10000; i++) {
		int64_t d = tr_sched_jitter(HOUR, tr_sched_random(&state));

		if (d < lo)
			lo = d;
		if (d > hi)
			hi = d;
	}
	CHECK(lo >= HOUR - HOUR / 10);
	CHECK(hi <= HOUR + HOUR / 10);
	/* The spread is used, not a constant. */
	CHECK(lo < HOUR - HOUR / 20);
	CHECK(hi > HOUR + HOUR / 20);
	CHECK_INT(tr_sched_jitter(5, 123456789), 5);
	CHECK_INT(tr_sched_jitter(0, 7), 1);
	/* The extremes of rnd map to the extremes of the range. */
	CHECK_INT(tr_sched_jitter(1000, 0), 900);
	CHECK_INT(tr_sched_jitter(1000, 200), 1100);
}

static void
test_retry_after_seconds(void)
{
	int64_t until = -1, now = 1700000000;

	CHECK_INT(tr_sched_retry_after(&until, "120", now, DAY), 0);
	CHECK_INT(until, now + 120);
	CHECK_INT(tr_sched_retry_after(&until, " 0 ", now, DAY), 0);
	CHECK_INT(until, now);
	/* Capped by retry_after_max, even when absurd. */
	CHECK_INT(
	    tr_sched_retry_after(&until, "999999999999999999999999", now, DAY),
	    0);
	CHECK_INT(until, now + DAY);
	CHECK_INT(tr_sched_retry_after(&until, "-5", now, DAY), TR_EINVAL);
	CHECK_INT(until, 0);
	CHECK_INT(tr_sched_retry_after(&until, "soon", now, DAY), TR_EINVAL);
	CHECK_INT(tr_sched_retry_after(&until, "12abc", now, DAY), TR_EINVAL);
	CHECK_INT(tr_sched_retry_after(&until, "", now, DAY), TR_EINVAL);
	CHECK_INT(tr_sched_retry_after(&until, NULL, now, DAY), TR_EINVAL);
}

static void
test_retry_after_http_date(void)
{
	/* Sun, 06 Nov 1994 08:49:37 GMT = 784111777 (RFC 9110 §5.6.7) */
	int64_t date = 784111777, until = 0;

	CHECK_INT(tr_sched_retry_after(&until, "Sun, 06 Nov 1994 08:49:37 GMT",
	                               date - 600, DAY),
	          0);
	CHECK_INT(until, date);
	/* The obsolete forms too. */
	CHECK_INT(tr_sched_retry_after(&until, "Sunday, 06-Nov-94 08:49:37 GMT",
	                               date - 600, DAY),
	          0);
	CHECK_INT(until, date);
	CHECK_INT(tr_sched_retry_after(&until, "Sun Nov  6 08:49:37 1994",
	                               date - 600, DAY),
	          0);
	CHECK_INT(until, date);
	/* Far future: capped. */
	CHECK_INT(tr_sched_retry_after(&until, "Sun, 06 Nov 1994 08:49:37 GMT",
	                               date - 10 * DAY, DAY),
	          0);
	CHECK_INT(until, date - 10 * DAY + DAY);
	/* In the past: now. */
	CHECK_INT(tr_sched_retry_after(&until, "Sun, 06 Nov 1994 08:49:37 GMT",
	                               date + 5, DAY),
	          0);
	CHECK_INT(until, date + 5);
}

static void
test_max_age(void)
{
	CHECK_INT(tr_sched_max_age("max-age=3600"), 3600);
	CHECK_INT(tr_sched_max_age("public, MAX-AGE=600, must-revalidate"),
	          600);
	CHECK_INT(tr_sched_max_age("public,max-age=\"90\""), 90);
	CHECK_INT(tr_sched_max_age("s-maxage=60"), -1);
	CHECK_INT(tr_sched_max_age("no-cache, max-age=600"), -1);
	CHECK_INT(tr_sched_max_age("max-age=600, no-store"), -1);
	CHECK_INT(tr_sched_max_age("max-age=abc"), -1);
	CHECK_INT(tr_sched_max_age(""), -1);
	CHECK_INT(tr_sched_max_age(NULL), -1);
}

TR_TESTS(test_interval_plain_and_clamped, test_interval_hints_raise_never_lower,
         test_backoff_doubles_and_caps, test_jitter_within_ten_percent,
         test_retry_after_seconds, test_retry_after_http_date, test_max_age)
