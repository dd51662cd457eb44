/*
 * sched.c — the polling schedule's arithmetic (see sched.h).
 */
#include <ctype.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "tributary/date.h"
#include "tributary/error.h"
#include "tributary/sched.h"

int64_t
tr_sched_interval(int64_t interval, const struct tr_sched_hints *h, int64_t now,
                  int64_t min_interval, int64_t max_interval)
{
	int64_t d = interval;

	if (h != NULL) {
		if (h->ttl > d)
			d = h->ttl;
		if (h->max_age > d)
			d = h->max_age;
		/* An Expires in the past is no hint at all. */
		if (h->expires > now && h->expires - now > d)
			d = h->expires - now;
	}
	if (max_interval > 0 && d > max_interval)
		d = max_interval;
	if (d < min_interval)
		d = min_interval;
	return d < 1 ? 1 : d;
}

int64_t
tr_sched_backoff(int64_t interval, int64_t errors)
{
	int64_t cap =
	    interval > TR_SCHED_BACKOFF_MAX ? interval : TR_SCHED_BACKOFF_MAX;
	int64_t d = interval < 1 ? 1 : interval;
	int64_t i;

	/* Doubling stops at the cap, so no overflow for any errors. */
	for (i = 0; i < errors && d < cap; i++)
		d *= 2;
	return d > cap ? cap : d;
}

int64_t
tr_sched_jitter(int64_t delay, uint64_t rnd)
{
	int64_t span;

	if (delay < 10)
		return delay < 1 ? 1 : delay;
	span = delay / 10; /* the result lies in [delay - span, delay + span] */
	delay += (int64_t)(rnd % (uint64_t)(2 * span + 1)) - span;
	return delay < 1 ? 1 : delay;
}

/* Parses a run of decimal digits with nothing after but blanks. */
static int
parse_seconds(int64_t *out, const char *s)
{
	int64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return TR_EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		if (v > INT64_MAX / 100)
			v = INT64_MAX / 100; /* saturate; capped later */
		else
			v = v * 10 + (*s - '0');
	}
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s != '\0')
		return TR_EINVAL;
	*out = v;
	return 0;
}

int
tr_sched_retry_after(int64_t *until, const char *value, int64_t now,
                     int64_t max)
{
	int64_t v = 0;

	*until = 0;
	if (value == NULL)
		return TR_EINVAL;
	while (*value == ' ' || *value == '\t')
		value++;
	if (parse_seconds(&v, value) == 0) {
		v = v > max ? max : v;
		*until = now + v;
		return 0;
	}
	if (tr_date_parse_http(&v, value) != 0)
		return TR_EINVAL;
	if (v < now)
		v = now; /* a date in the past: come back whenever */
	if (v - now > max)
		v = now + max;
	*until = v;
	return 0;
}

int64_t
tr_sched_max_age(const char *cc)
{
	static const char key[] = "max-age";
	const char *p = cc;
	int64_t v = -1;

	if (cc == NULL)
		return -1;
	/* Directives are comma-separated tokens, case-insensitive. */
	while (*p != '\0') {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (strncasecmp(p, key, sizeof(key) - 1) == 0 &&
		    p[sizeof(key) - 1] == '=') {
			const char *q = p + sizeof(key);
			int64_t n = 0;

			if (*q == '"')
				q++;
			if (isdigit((unsigned char)*q)) {
				for (; isdigit((unsigned char)*q); q++)
					n = n > INT64_MAX / 100
					        ? n
					        : n * 10 + (*q - '0');
				v = n;
			}
		} else if (strncasecmp(p, "no-store", 8) == 0 ||
		           strncasecmp(p, "no-cache", 8) == 0) {
			return -1;
		}
		p += strcspn(p, ",");
	}
	return v;
}

uint64_t
tr_sched_random(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}
