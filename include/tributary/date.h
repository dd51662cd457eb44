/*
 * date.h — the dates feeds carry, parsed and formatted.
 *
 * Parsing accepts RFC 822/1123 and their variants found in the wild
 * (2- or 4-digit years, missing weekday or seconds, one-digit days, named
 * and military zones, offsets with or without colon, month names in
 * German, French, Spanish, Italian, Portuguese, Dutch, Hungarian and
 * Greek), RFC 3339, ISO 8601 and W3C-DTF (fractional seconds, partial
 * dates, "2006/09/15", "2004-július-13"), Korean dates ("2004년 05월 28일",
 * "2004-05-25 오후 11:23:17", Korea's time unless a zone is named), and
 * asctime. Every result is Unix seconds in UTC.
 */
#ifndef TRIBUTARY_DATE_H
#define TRIBUTARY_DATE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Parses s. Returns 0 and sets *out, or TR_EINVAL when s is not a date
 * (then *out is TR_DATE_NONE). Never returns 0 with a made-up date.
 */
int tr_date_parse(int64_t *out, const char *s);

/*
 * "2024-12-06T09:30:00Z" (RFC 3339, UTC). out holds at least 32 bytes.
 * TR_DATE_NONE gives "" (also for the RFC 822 form below).
 */
void tr_date_format_rfc3339(char *out, size_t size, int64_t t);

/* "Fri, 06 Dec 2024 09:30:00 GMT" (RFC 822 / RFC 9110 IMF-fixdate). */
void tr_date_format_rfc822(char *out, size_t size, int64_t t);

/* Parses an HTTP date (RFC 9110 §5.6.7, all three forms). */
int tr_date_parse_http(int64_t *out, const char *s);

/* Converts a broken-down UTC date to Unix seconds (no libc timezone). */
int64_t tr_date_from_civil(int year, int month, int day, int hour, int min,
    int sec);

#endif
