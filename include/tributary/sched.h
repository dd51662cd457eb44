/*
 * sched.h — when to poll a feed next: pure arithmetic, no I/O.
 *
 * The poller asks three questions after every fetch:
 *
 *   - How long until the next check when all went well? The feed's
 *     interval, raised to what the publisher asks for (RSS ttl and
 *     sy:updatePeriod/sy:updateFrequency as the parser reports them,
 *     Cache-Control max-age, Expires), clamped to [min, max]
 *     (tr_sched_interval).
 *   - How long after a failure? interval × 2^errors, capped at a day
 *     (tr_sched_backoff).
 *   - Did the server say when to come back? Retry-After in seconds or as
 *     an HTTP date, capped (tr_sched_retry_after).
 *
 * Every delay then gets ±10% jitter (tr_sched_jitter) so that the feeds of
 * one host, configured together, do not fire together forever.
 */
#ifndef TRIBUTARY_SCHED_H
#define TRIBUTARY_SCHED_H

#include <stdint.h>

/* The longest backoff after errors: a day (issue 5). */
#define TR_SCHED_BACKOFF_MAX (24 * 3600)

/* What the publisher said about freshness; 0 (or less) means "no hint". */
struct tr_sched_hints {
	int64_t ttl;     /* seconds: RSS ttl, sy:updatePeriod/Frequency */
	int64_t max_age; /* seconds: Cache-Control max-age */
	int64_t expires; /* Unix seconds: the Expires header */
};

/*
 * The delay until the next check after a successful fetch at now: the
 * interval, raised (never lowered) to each hint, then clamped to
 * [min_interval, max_interval]. h may be NULL.
 */
int64_t tr_sched_interval(int64_t interval, const struct tr_sched_hints *h,
                          int64_t now, int64_t min_interval,
                          int64_t max_interval);

/*
 * The delay after the errors-th consecutive failure (errors >= 1):
 * interval × 2^errors, capped at TR_SCHED_BACKOFF_MAX (or at interval
 * itself when that is longer). errors <= 0 gives interval.
 */
int64_t tr_sched_backoff(int64_t interval, int64_t errors);

/*
 * delay ± up to 10%, chosen by rnd (any 64-bit random value). Delays
 * under 10 seconds are returned unchanged. Never below 1.
 */
int64_t tr_sched_jitter(int64_t delay, uint64_t rnd);

/*
 * Parses a Retry-After value (RFC 9110 §10.2.3): delay-seconds or an
 * HTTP date. Sets *until to the Unix time before which no request may be
 * sent, at most now + max (and not before now). Returns 0, or TR_EINVAL
 * when value is neither form (then *until is 0).
 */
int tr_sched_retry_after(int64_t *until, const char *value, int64_t now,
                         int64_t max);

/*
 * The max-age of a Cache-Control header value (RFC 9111 §5.2.2.1), or -1
 * when there is none. "no-cache" and "no-store" give no hint
 * (-1): the publisher asks for fresh copies.
 */
int64_t tr_sched_max_age(const char *cache_control);

/*
 * A small, fast pseudo-random generator (splitmix64) for jitter: updates
 * *state and returns the next value. Seed the state from the clock.
 */
uint64_t tr_sched_random(uint64_t *state);

#endif
