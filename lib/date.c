/*
 * date.c — parsing and formatting the dates feeds and HTTP carry.
 */
#include <stdio.h>
#include <string.h>

#include "tributary/article.h"
#include "tributary/date.h"
#include "tributary/error.h"

/*
 * Days from 1970-01-01 to year-month-day in the proleptic Gregorian
 * calendar (Howard Hinnant's days_from_civil), valid for any int year.
 */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

int64_t
tr_date_from_civil(int year, int month, int day, int hour, int min, int sec)
{
	return days_from_civil(year, month, day) * 86400 + hour * 3600 +
	    min * 60 + sec;
}

int
tr_date_parse(int64_t *out, const char *s)
{
	(void)s;
	*out = TR_DATE_NONE;
	return TR_EINVAL;
}

int
tr_date_parse_http(int64_t *out, const char *s)
{
	return tr_date_parse(out, s);
}

void
tr_date_format_rfc3339(char *out, size_t size, int64_t t)
{
	(void)t;
	if (size)
		out[0] = '\0';
}

void
tr_date_format_rfc822(char *out, size_t size, int64_t t)
{
	(void)t;
	if (size)
		out[0] = '\0';
}
