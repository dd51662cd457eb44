/*
 * date.c — parsing and formatting the dates feeds and HTTP carry.
 *
 * Two grammars, both hand-written recursive descent over the string: the
 * RFC 822 family (RFC 822/1123/2822/5322 dates and what feeds make of
 * them, RFC 850, asctime, Unix date(1)) and ISO 8601 (RFC 3339,
 * W3C-DTF, partial and basic forms). Hand-written because libc's
 * strptime() is locale-dependent, knows no zone names, does not validate
 * and differs between platforms, and mktime()/timegm() depend on TZ or
 * are not POSIX; getdate() needs a template file. Every result is
 * computed with tr_date_from_civil(), whatever TZ and LC_TIME say.
 *
 * A parsed date must lie in years 0000 to 9999 in UTC, so that its
 * RFC 3339 form exists and parses back to the same second.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "tributary/article.h"
#include "tributary/date.h"
#include "tributary/error.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* The first and last second a date may have (0000-01-01, 9999-12-31). */
#define DATE_MIN (-62167219200LL)
#define DATE_MAX (253402300799LL)

/* Longest offset any zone has had (UTC+14, Line Islands). */
#define MAX_OFFSET_MIN (14 * 60)

static const char *const month_abbr[12] = {"Jan", "Feb", "Mar", "Apr",
                                           "May", "Jun", "Jul", "Aug",
                                           "Sep", "Oct", "Nov", "Dec"};
static const char *const month_full[12] = {
    "january", "february", "march",     "april",   "may",      "june",
    "july",    "august",   "september", "october", "november", "december"};
static const char *const wday_abbr[7] = {"Sun", "Mon", "Tue", "Wed",
                                         "Thu", "Fri", "Sat"};
static const char *const wday_full[7] = {"sunday",    "monday",   "tuesday",
                                         "wednesday", "thursday", "friday",
                                         "saturday"};
/* Other abbreviations seen in feeds. */
static const char *const wday_other[] = {"tues", "thur", "thurs"};

/*
 * Zone names and their offsets from UTC in minutes. RFC 5322 §4.3 names
 * UT, GMT and the North American zones; the rest are unambiguous names
 * found in feeds. Ambiguous ones (IST: India, Israel or Ireland) are
 * left out: a date in an unknown zone is rejected, not guessed.
 */
static const struct zone {
	const char *name;
	int minutes;
} zones[] = {
    {"UT", 0},
    {"UTC", 0},
    {"GMT", 0},
    {"Z", 0},
    {"EST", -300},
    {"EDT", -240},
    {"CST", -360},
    {"CDT", -300},
    {"MST", -420},
    {"MDT", -360},
    {"PST", -480},
    {"PDT", -420},
    {"AST", -240},
    {"ADT", -180},
    {"AKST", -540},
    {"AKDT", -480},
    {"HST", -600},
    {"WET", 0},
    {"WEST", 60},
    {"BST", 60},
    {"CET", 60},
    {"CEST", 120},
    {"MET", 60},
    {"MEST", 120},
    {"EET", 120},
    {"EEST", 180},
    {"MSK", 180},
    {"JST", 540},
    {"KST", 540},
    {"AWST", 480},
    {"ACST", 570},
    {"ACDT", 630},
    {"AEST", 600},
    {"AEDT", 660},
    {"NZST", 720},
    {"NZDT", 780},
    /* Generic North American names (feedparser reads them the same). */
    {"AT", -240},
    {"ET", -300},
    {"CT", -360},
    {"MT", -420},
    {"PT", -480},
};

/*
 * Days from 1970-01-01 to year-month-day in the proleptic Gregorian
 * calendar (Howard Hinnant's days_from_civil), for any year.
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

/* The inverse: the civil date of day z after 1970-01-01. */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/*
 * Unix seconds of a UTC civil date. Does not validate: out-of-range
 * fields roll over (month must be 1-12).
 */
int64_t
tr_date_from_civil(int year, int month, int day, int hour, int min, int sec)
{
	return days_from_civil(year, month, day) * 86400 +
	       (int64_t)hour * 3600 + (int64_t)min * 60 + sec;
}

static int
is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
days_in_month(int y, int m)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30,
	                           31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : dm[m - 1];
}

/* A date being parsed; off is the zone's offset east of UTC in minutes. */
struct fields {
	int year, mon, day, hour, min, sec, off;
};

/*
 * Checks the ranges and computes the UTC time. A leap second (:60) is
 * read as :59, since Unix time has no place for it.
 */
static int
fields_to_time(const struct fields *f, int64_t *out)
{
	int64_t t;

	if (f->year < 0 || f->year > 9999 || f->mon < 1 || f->mon > 12 ||
	    f->day < 1 || f->day > days_in_month(f->year, f->mon) ||
	    f->hour < 0 || f->hour > 23 || f->min < 0 || f->min > 59 ||
	    f->sec < 0 || f->sec > 60 || f->off < -MAX_OFFSET_MIN ||
	    f->off > MAX_OFFSET_MIN)
		return TR_EINVAL;
	t = tr_date_from_civil(f->year, f->mon, f->day, f->hour, f->min,
	                       f->sec == 60 ? 59 : f->sec) -
	    (int64_t)f->off * 60;
	if (t < DATE_MIN || t > DATE_MAX)
		return TR_EINVAL;
	*out = t;
	return 0;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
is_alpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' ||
	       c == '\v';
}

static void
skip_ws(const char **p)
{
	while (is_space((unsigned char)**p))
		(*p)++;
}

/*
 * Reads a run of digits into *val and returns how many there were (0:
 * none). Runs longer than 9 digits are consumed but leave *val at -1;
 * callers check the count anyway.
 */
static int
digits(const char **p, int *val)
{
	int n = 0, v = 0;

	while (is_digit((unsigned char)**p)) {
		if (n < 9)
			v = v * 10 + (**p - '0');
		n++;
		(*p)++;
	}
	*val = n > 9 ? -1 : v;
	return n;
}

/* Reads exactly n digits (no more follow), or returns -1. */
static int
fixed_digits(const char **p, int n, int *val)
{
	const char *q = *p;

	if (digits(&q, val) != n)
		return -1;
	*p = q;
	return 0;
}

/*
 * Reads a word into w (NUL-terminated, cut to size): letters, any byte
 * beyond ASCII counting as one (UTF-8 letters: "déc", "Ιούλ"). Returns
 * its whole length.
 */
static size_t
word(const char **p, char *w, size_t size)
{
	size_t n = 0;

	while (is_alpha((unsigned char)**p) || (unsigned char)**p >= 0x80) {
		if (n + 1 < size)
			w[n] = **p;
		n++;
		(*p)++;
	}
	w[n < size ? n : size - 1] = '\0';
	return n;
}

/*
 * The entry of a table of three-letter names that w begins with (ASCII,
 * any case), or -1. Every longer spelling in the tables below begins with
 * its three-letter name, so one entry is left to compare whole: a test of
 * three bytes per entry instead of a strcasecmp per spelling.
 */
static int
prefix3(const char *w, const char *const *names, int n)
{
	int i;

	if (w[0] == '\0' || w[1] == '\0' || w[2] == '\0')
		return -1;
	for (i = 0; i < n; i++)
		if (((w[0] ^ names[i][0]) & ~0x20) == 0 &&
		    ((w[1] ^ names[i][1]) & ~0x20) == 0 &&
		    ((w[2] ^ names[i][2]) & ~0x20) == 0)
			return i;
	return -1;
}

/* Month 1-12 for an English month name, full or abbreviated, or 0. */
static int
month_lookup(const char *w)
{
	int i = prefix3(w, month_abbr, 12);

	if (i < 0)
		return 0;
	if (strcasecmp(w, month_abbr[i]) == 0 ||
	    strcasecmp(w, month_full[i]) == 0 ||
	    (i == 8 && strcasecmp(w, "sept") == 0))
		return i + 1;
	return 0;
}

/*
 * Month names of other languages, as feeds written with a localized
 * date function carry them in RFC 822 dates ("16 Okt 2022", "3 déc.
 * 2024"): German, French, Spanish, Italian, Portuguese and Dutch, full
 * and abbreviated, lowercase (ASCII letters match in any case),
 * Hungarian, and Greek abbreviations. No spelling names two months
 * across these languages.
 */
static const struct foreign_month {
	const char *name;
	int mon;
} foreign_months[] = {
    {"januar", 1},     {"janvier", 1},   {"janv", 1},     {"ene", 1},
    {"enero", 1},      {"gen", 1},       {"gennaio", 1},  {"janeiro", 1},
    {"januari", 1},    {"februar", 2},   {"f\xc3\xa9vr", 2},
    {"fevr", 2},       {"f\xc3\xa9v", 2}, {"fev", 2},
    {"f\xc3\xa9vrier", 2}, {"fevrier", 2}, {"febrero", 2},
    {"febbraio", 2},   {"fevereiro", 2}, {"februari", 2},
    {"m\xc3\xa4r", 3}, {"m\xc3\xa4rz", 3}, {"maerz", 3}, {"mrz", 3},
    {"mars", 3},       {"marzo", 3},     {"mar\xc3\xa7o", 3},
    {"marco", 3},      {"maart", 3},     {"mrt", 3},      {"avr", 4},
    {"avril", 4},      {"abr", 4},       {"abril", 4},    {"aprile", 4},
    {"mai", 5},        {"mayo", 5},      {"mag", 5},      {"maggio", 5},
    {"maio", 5},       {"mei", 5},       {"juni", 6},     {"juin", 6},
    {"junio", 6},      {"giu", 6},       {"giugno", 6},   {"junho", 6},
    {"juli", 7},       {"juil", 7},      {"juillet", 7},  {"julio", 7},
    {"lug", 7},        {"luglio", 7},    {"julho", 7},    {"ao\xc3\xbbt", 8},
    {"aout", 8},       {"ago", 8},       {"agosto", 8},   {"augustus", 8},
    {"septembre", 9},  {"set", 9},       {"septiembre", 9},
    {"setiembre", 9},  {"settembre", 9}, {"setembro", 9}, {"okt", 10},
    {"oktober", 10},   {"octobre", 10},  {"octubre", 10}, {"ott", 10},
    {"ottobre", 10},   {"out", 10},      {"outubro", 10}, {"novembre", 11},
    {"noviembre", 11}, {"novembro", 11}, {"dez", 12},     {"dezember", 12},
    {"d\xc3\xa9" "c", 12}, {"d\xc3\xa9" "cembre", 12}, {"decembre", 12},
    {"dic", 12},       {"diciembre", 12}, {"dicembre", 12},
    {"dezembro", 12},
    /* Hungarian ("november" and "december" are the English names). */
    {"janu\xc3\xa1r", 1}, {"febru\xc3\xa1r", 2}, {"febr", 2},
    {"m\xc3\xa1rcius", 3}, {"m\xc3\xa1rc", 3}, {"\xc3\xa1prilis", 4},
    {"\xc3\xa1pr", 4}, {"m\xc3\xa1jus", 5}, {"m\xc3\xa1j", 5},
    {"j\xc3\xbanius", 6}, {"j\xc3\xban", 6}, {"j\xc3\xbalius", 7},
    {"j\xc3\xbal", 7}, {"augusztus", 8}, {"szeptember", 9},
    {"szept", 9}, {"okt\xc3\xb3" "ber", 10},
    /* Greek, capitalized as written (strcasecmp folds ASCII only). */
    {"\xce\x99\xce\xb1\xce\xbd", 1}, /* Ιαν */
    {"\xce\xa6\xce\xb5\xce\xb2", 2}, /* Φεβ */
    {"\xce\x9c\xce\xb1\xcf\x81", 3}, /* Μαρ */
    {"\xce\x9c\xce\xac\xcf\x81", 3}, /* Μάρ */
    {"\xce\x9c\xce\xac\xcf\x8e", 3}, /* Μάώ */
    {"\xce\x9c\xce\xb1\xcf\x8e", 3}, /* Μαώ */
    {"\xce\x91\xcf\x80\xcf\x81", 4}, /* Απρ */
    {"\xce\x9c\xce\xac\xce\xb9", 5}, /* Μάι */
    {"\xce\x9c\xce\xb1\xcf\x8a", 5}, /* Μαϊ */
    {"\xce\x9c\xce\xb1\xce\xb9", 5}, /* Μαι */
    {"\xce\x9c\xce\xb1\xce\x90", 5}, /* Μαΐ */
    {"\xce\x99\xce\xbf\xcf\x8d\xce\xbd", 6}, /* Ιούν */
    {"\xce\x99\xce\xbf\xcf\x85\xce\xbd", 6}, /* Ιουν */
    {"\xce\x99\xce\xbf\xce\xbd", 6}, /* Ιον */
    {"\xce\x99\xce\xbf\xcf\x8d\xce\xbb", 7}, /* Ιούλ */
    {"\xce\x99\xce\xbf\xcf\x85\xce\xbb", 7}, /* Ιουλ */
    {"\xce\x99\xce\xbf\xce\xbb", 7}, /* Ιολ */
    {"\xce\x91\xcf\x8d\xce\xb3", 8}, /* Αύγ */
    {"\xce\x91\xcf\x85\xce\xb3", 8}, /* Αυγ */
    {"\xce\xa3\xce\xb5\xcf\x80", 9}, /* Σεπ */
    {"\xce\x9f\xce\xba\xcf\x84", 10}, /* Οκτ */
    {"\xce\x9d\xce\xbf\xce\xad", 11}, /* Νοέ */
    {"\xce\x9d\xce\xbf\xce\xb5", 11}, /* Νοε */
    {"\xce\x94\xce\xb5\xce\xba", 12}, /* Δεκ */
};

/* Month 1-12 for a month name in English or in a language above, or 0. */
static int
any_month_lookup(const char *w)
{
	size_t i;
	int m = month_lookup(w);

	for (i = 0; m == 0 && i < NELEM(foreign_months); i++)
		if (strcasecmp(w, foreign_months[i].name) == 0)
			m = foreign_months[i].mon;
	return m;
}

/* A month's name (any language above) at *p; 0, or -1. */
static int
month_name(const char **p, int *mon)
{
	char w[16];

	if (word(p, w, sizeof(w)) >= sizeof(w))
		return -1;
	*mon = any_month_lookup(w);
	return *mon != 0 ? 0 : -1;
}

static int
weekday_lookup(const char *w)
{
	size_t k;
	int i = prefix3(w, wday_abbr, 7);

	if (i < 0)
		return 0;
	if (strcasecmp(w, wday_abbr[i]) == 0 ||
	    strcasecmp(w, wday_full[i]) == 0)
		return 1;
	for (k = 0; k < NELEM(wday_other); k++)
		if (strcasecmp(w, wday_other[k]) == 0)
			return 1;
	return 0;
}

/*
 * Reads a numeric offset "+hhmm", "+hh:mm", "+hh", "+h" (also "+hh:m",
 * seen truncated in feeds) at *p, which points at the sign. Offsets
 * beyond 14 hours or with minutes beyond 59 are invalid.
 */
static int
numeric_offset(const char **p, int *off)
{
	int sign = **p == '-' ? -1 : 1, n, v, hh, mm = 0;

	(*p)++;
	n = digits(p, &v);
	if (n == 4) {
		hh = v / 100;
		mm = v % 100;
	} else if (n == 1 || n == 2) {
		hh = v;
		if (**p == ':') {
			(*p)++;
			n = digits(p, &mm);
			if (n < 1 || n > 2)
				return TR_EINVAL;
		}
	} else
		return TR_EINVAL;
	if (mm > 59 || hh * 60 + mm > MAX_OFFSET_MIN)
		return TR_EINVAL;
	*off = sign * (hh * 60 + mm);
	return 0;
}

/*
 * A single-letter military zone (RFC 822 §5.1, with the RFC's own signs,
 * A = -1 hour ... M = -12, N = +1 ... Y = +12, Z = UTC; J is not used).
 * RFC 1123 notes the signs are the reverse of military usage; feeds that
 * use these letters follow RFC 822, as does feedparser.
 */
static int
military_zone(int c, int *off)
{
	c = c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c;
	if (c == 'Z')
		*off = 0;
	else if (c >= 'A' && c <= 'I')
		*off = -60 * (c - 'A' + 1);
	else if (c >= 'K' && c <= 'M')
		*off = -60 * (c - 'K' + 10);
	else if (c >= 'N' && c <= 'Y')
		*off = 60 * (c - 'N' + 1);
	else
		return TR_EINVAL;
	return 0;
}

/*
 * Reads a zone at *p: a numeric offset, a zone name (optionally followed
 * by an offset, as in "GMT+0100"), or a military letter. Returns 0 and
 * sets *off, 1 when there is no zone at *p (nothing consumed), or
 * TR_EINVAL when there is one but it is not valid.
 */
static int
zone(const char **p, int *off)
{
	char w[8];
	size_t n, i;
	int extra = 0;

	if (**p == '+' || **p == '-')
		return numeric_offset(p, off);
	if (!is_alpha((unsigned char)**p))
		return 1;
	n = word(p, w, sizeof(w));
	if (n == 3 && strcasecmp(w, "etc") == 0 && **p == '/') {
		/* tz database spelling: "Etc/GMT", "Etc/UTC" */
		(*p)++;
		n = word(p, w, sizeof(w));
		if (strcasecmp(w, "gmt") != 0 && strcasecmp(w, "utc") != 0)
			return TR_EINVAL;
	}
	if (n == 1)
		return military_zone(w[0], off);
	for (i = 0; i < NELEM(zones); i++)
		if (strcasecmp(w, zones[i].name) == 0)
			break;
	if (i == NELEM(zones) || n >= sizeof(w))
		return TR_EINVAL;
	if (zones[i].minutes == 0 && (**p == '+' || **p == '-') &&
	    numeric_offset(p, &extra) != 0)
		return TR_EINVAL;
	*off = zones[i].minutes + extra;
	return 0;
}

/*
 * The end of a date: whitespace, at most one parenthesized comment
 * ("+0000 (UTC)"; comments nest, RFC 5322 §3.2.2), whitespace, end of
 * string.
 */
static int
tail(const char *p)
{
	int depth = 0;

	skip_ws(&p);
	if (*p == '(') {
		do {
			if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			else if (*p == '\0')
				return TR_EINVAL;
			p++;
		} while (depth > 0);
		skip_ws(&p);
	}
	return *p == '\0' ? 0 : TR_EINVAL;
}

/* Skips fractional seconds (",5" or ".123456"); digits are required. */
static int
fraction(const char **p)
{
	int v;

	if (**p != '.' && **p != ',')
		return 0;
	(*p)++;
	return digits(p, &v) > 0 ? 0 : TR_EINVAL;
}

/*
 * An RFC 822 time "h:mm", "hh:mm:ss", with optional fractional seconds.
 */
static int
clock_time(const char **p, struct fields *f)
{
	int n = digits(p, &f->hour);

	if (n < 1 || n > 2 || **p != ':')
		return TR_EINVAL;
	(*p)++;
	if (fixed_digits(p, 2, &f->min) != 0)
		return TR_EINVAL;
	if (**p == ':') {
		(*p)++;
		if (fixed_digits(p, 2, &f->sec) != 0 || fraction(p) != 0)
			return TR_EINVAL;
	}
	return 0;
}

/* A 12-hour clock's hour (1-12) as the day's, after AM (pm 0) or PM. */
static int
twelve_hour(struct fields *f, int pm)
{
	if (f->hour < 1 || f->hour > 12)
		return TR_EINVAL;
	f->hour = f->hour % 12 + (pm ? 12 : 0);
	return 0;
}

/* An optional "AM"/"PM" after a 12-hour clock time. */
static int
meridiem(const char **p, struct fields *f)
{
	const char *q = *p;
	char w[4];
	int pm;

	if (word(&q, w, sizeof(w)) != 2)
		return 0;
	if (strcasecmp(w, "am") == 0)
		pm = 0;
	else if (strcasecmp(w, "pm") == 0)
		pm = 1;
	else
		return 0;
	if (twelve_hour(f, pm) != 0)
		return TR_EINVAL;
	*p = q;
	return 0;
}

/* A year of 4 digits, or of 2 (RFC 5322 §4.3: 00-49 → 20xx, else 19xx). */
static int
year(const char **p, struct fields *f)
{
	int n = digits(p, &f->year);

	if (n == 2)
		f->year += f->year < 50 ? 2000 : 1900;
	else if (n != 4)
		return TR_EINVAL;
	return 0;
}

/*
 * After the date: [time [AM|PM]] [zone]. need_time is set for forms where
 * the time is not optional.
 */
static int
time_and_zone(const char **p, struct fields *f, int need_time)
{
	int rc;

	skip_ws(p);
	if (is_digit((unsigned char)**p)) {
		if (clock_time(p, f) != 0)
			return TR_EINVAL;
		skip_ws(p);
		if (meridiem(p, f) != 0)
			return TR_EINVAL;
		skip_ws(p);
	} else if (need_time)
		return TR_EINVAL;
	rc = zone(p, &f->off);
	return rc < 0 ? rc : 0;
}

/*
 * "6 Dec 2024", "06-Dec-94", "6. December 2024" and what follows.
 */
static int
day_first(const char **p, struct fields *f)
{
	int n = digits(p, &f->day);

	if (n < 1 || n > 2)
		return TR_EINVAL;
	if (**p == '.')
		(*p)++;
	skip_ws(p);
	if (**p == '-')
		(*p)++;
	skip_ws(p);
	if (month_name(p, &f->mon) != 0)
		return TR_EINVAL;
	if (**p == '.' || **p == ',')
		(*p)++;
	skip_ws(p);
	if (**p == '-')
		(*p)++;
	skip_ws(p);
	if (year(p, f) != 0)
		return TR_EINVAL;
	if (**p == ',')
		(*p)++;
	return time_and_zone(p, f, 0);
}

/*
 * Month first: "Dec 16, 2023 02:02:33 PM" (US style) or asctime "Dec  6
 * 09:30:00 2024", also with a zone before the year as date(1) writes it
 * ("Dec 6 09:30:00 UTC 2024"). The month has been read.
 */
static int
month_first(const char **p, struct fields *f)
{
	const char *q;
	int n, v, rc;

	if (**p == '.')
		(*p)++;
	skip_ws(p);
	n = digits(p, &f->day);
	if (n < 1 || n > 2)
		return TR_EINVAL;
	if (**p == ',')
		(*p)++;
	skip_ws(p);
	q = *p;
	n = digits(&q, &v);
	if (n == 0)
		return TR_EINVAL;
	if (*q != ':') {
		/* The year comes before the time. */
		if (year(p, f) != 0)
			return TR_EINVAL;
		if (**p == ',')
			(*p)++;
		return time_and_zone(p, f, 0);
	}
	if (clock_time(p, f) != 0)
		return TR_EINVAL;
	skip_ws(p);
	rc = zone(p, &f->off);
	if (rc < 0)
		return rc;
	skip_ws(p);
	return fixed_digits(p, 4, &f->year);
}

static int parse_iso(const char *s, int64_t *out);
static int looks_iso(const char *s);

/*
 * The RFC 822 family, with an optional weekday first. The weekday must be
 * an English name, or any word followed by a comma ("mer, 16 nov 2022":
 * the weekday carries nothing the date does not). It is not checked
 * against the date: feeds get it wrong, and the date is what counts.
 * After a weekday may also come a date of the ISO form below (Perforce
 * writes "Fri, 2006/09/15 08:19:53 EDT").
 */
static int
parse_rfc822(const char *s, int64_t *out)
{
	struct fields f = {0, 0, 0, 0, 0, 0, 0};
	const char *p = s;
	char w[16];
	size_t n;
	int rc;

	skip_ws(&p);
	if (!is_digit((unsigned char)*p)) {
		n = word(&p, w, sizeof(w));
		if (n == 0 || n >= sizeof(w))
			return TR_EINVAL;
		/* A word then a comma is a weekday ("mar., 03 déc. 2024":
		 * French Tuesday), whatever else it may spell. */
		if (*p != ',' && !(p[0] == '.' && p[1] == ',') &&
		    (f.mon = month_lookup(w)) != 0) {
			rc = month_first(&p, &f);
			goto done;
		}
		if (*p == '.' && (weekday_lookup(w) || p[1] == ','))
			p++;
		if (*p == ',')
			p++;
		else if (!weekday_lookup(w) || !is_space((unsigned char)*p))
			return TR_EINVAL;
		skip_ws(&p);
		if (looks_iso(p))
			return parse_iso(p, out);
		if (is_alpha((unsigned char)*p)) {
			if (word(&p, w, sizeof(w)) == 0 ||
			    (f.mon = month_lookup(w)) == 0)
				return TR_EINVAL;
			rc = month_first(&p, &f);
			goto done;
		}
	}
	rc = day_first(&p, &f);
done:
	if (rc != 0 || tail(p) != 0)
		return TR_EINVAL;
	return fields_to_time(&f, out);
}

/*
 * ISO 8601 time after the 'T': extended "hh:mm[:ss[.f]]" (the hour
 * also of one digit), or basic "hhmm[ss[.f]]" after a basic date.
 */
static int
iso_time(const char **p, struct fields *f, int basic)
{
	int v, n;

	if (basic) {
		n = digits(p, &v);
		if (n == 4) {
			f->hour = v / 100;
			f->min = v % 100;
			return 0;
		}
		if (n != 6)
			return TR_EINVAL;
		f->hour = v / 10000;
		f->min = v / 100 % 100;
		f->sec = v % 100;
		return fraction(p);
	}
	/* "T9:15" too, as Hungarian feeds write it. */
	return clock_time(p, f);
}

/* Day yday (1-366) of f->year as its month and day: ISO 8601's ordinal
 * dates ("2003-335"). 0, or TR_EINVAL past the year's last day. */
static int
ordinal_day(struct fields *f, int yday)
{
	int m;

	if (yday < 1 || yday > (is_leap(f->year) ? 366 : 365))
		return TR_EINVAL;
	for (m = 1; yday > days_in_month(f->year, m); m++)
		yday -= days_in_month(f->year, m);
	f->mon = m;
	f->day = yday;
	return 0;
}

/* "DDD" alone: an ordinal day after "YYYY-" (not "012-31"). */
static int
iso_ordinal(const char **p, struct fields *f)
{
	const char *q = *p;
	int v;

	if (digits(&q, &v) != 3 || *q == '-')
		return -1;
	*p = q;
	return ordinal_day(f, v);
}

/*
 * The month of an extended date: two digits, or three with a leading
 * zero ("2003-012-31", written so by a feed generator of Google's).
 */
static int
iso_month(const char **p, int *mon)
{
	const char *q = *p;
	int n = digits(&q, mon);

	if (n != 2 && !(n == 3 && **p == '0'))
		return -1;
	*p = q;
	return 0;
}

/*
 * Korean dates, as Korean blog hosts wrote them: "2004년 05월 28일
 * 01:31:15" and "2004-05-25 오후 11:23:17" (오전 AM, 오후 PM). They name
 * no zone: the time is Korea's (UTC+9), as the language says.
 */
#define KO_YEAR "\xeb\x85\x84"		/* 년 */
#define KO_MONTH "\xec\x9b\x94"		/* 월 */
#define KO_DAY "\xec\x9d\xbc"		/* 일 */
#define KO_AM "\xec\x98\xa4\xec\xa0\x84" /* 오전 */
#define KO_PM "\xec\x98\xa4\xed\x9b\x84" /* 오후 */
#define KST_MIN (9 * 60)

/* Skips lit at *p; 0, or -1 with nothing consumed. */
static int
literal(const char **p, const char *lit)
{
	size_t n = strlen(lit);

	if (strncmp(*p, lit, n) != 0)
		return -1;
	*p += n;
	return 0;
}

/* One or two digits and then unit ("05월"), after whitespace; 0 or -1. */
static int
ko_number(const char **p, const char *unit, int *val)
{
	int n;

	skip_ws(p);
	n = digits(p, val);
	return n >= 1 && n <= 2 && literal(p, unit) == 0 ? 0 : -1;
}

/*
 * After a Korean date: nothing, or a time (12-hour after 오전/오후), then
 * an optional zone; Korea's when none is named.
 */
static int
ko_time_zone(const char **p, struct fields *f)
{
	int pm = -1, rc;

	f->off = KST_MIN;
	skip_ws(p);
	if (literal(p, KO_AM) == 0)
		pm = 0;
	else if (literal(p, KO_PM) == 0)
		pm = 1;
	skip_ws(p);
	if (pm < 0 && !is_digit((unsigned char)**p))
		return 0;
	if (clock_time(p, f) != 0)
		return TR_EINVAL;
	if (pm >= 0 && twelve_hour(f, pm) != 0)
		return TR_EINVAL;
	skip_ws(p);
	rc = zone(p, &f->off);
	return rc < 0 ? rc : 0;
}

/* "년 MM월 DD일 [time]" after the year. */
static int
ko_date(const char **p, struct fields *f)
{
	if (ko_number(p, KO_MONTH, &f->mon) != 0 ||
	    ko_number(p, KO_DAY, &f->day) != 0)
		return TR_EINVAL;
	return ko_time_zone(p, f);
}

/*
 * RFC 3339 / ISO 8601 / W3C-DTF: "2024", "2024-12", "2024-12-06", then
 * optionally 'T' (or spaces) and a time with optional seconds, fraction
 * and zone; or the basic form "20241206T093000Z"; or an ordinal date
 * ("2024-341", "2024341"). ISO 8601's years of two digits ("24-12-06",
 * "241206", "-2412") are refused: a day-first "06-12-24" would be read
 * as 24 December 2006, and a new item dated 18 years back is lost below
 * the merged feed's fold, where one with no date sorts by when it was
 * first seen. A time without a zone is taken as UTC (W3C-DTF requires
 * a zone; feeds leave it out). A space
 * before the zone and named zones ("2024-12-06 09:30:00 UTC") are
 * accepted as found in the wild, and so are slashes for the hyphens of a
 * whole date ("2006/09/15 08:19:53 EDT", Perforce's form): with a
 * four-digit year first the order is not in doubt. So is a month's name
 * between hyphens ("2004-július-13T9:15-05:00", Hungarian feeds;
 * "2024-Dec-06"), and the Korean forms above.
 */
static int
parse_iso(const char *s, int64_t *out)
{
	struct fields f = {0, 1, 1, 0, 0, 0, 0};
	const char *p = s, *q;
	int v, n, basic, named, rc;

	skip_ws(&p);
	q = p;
	n = digits(&q, &v);
	if (n == 8) {
		basic = 1;
		f.year = v / 10000;
		f.mon = v / 100 % 100;
		f.day = v % 100;
		p = q;
	} else if (n == 7) {
		basic = 1;
		f.year = v / 1000;
		p = q;
		if ((rc = ordinal_day(&f, v % 1000)) != 0)
			return rc;
	} else if (n == 4) {
		char sep = q[0];

		basic = 0;
		f.year = v;
		p = q;
		if (literal(&p, KO_YEAR) == 0) {
			if ((rc = ko_date(&p, &f)) != 0)
				return rc;
			goto done;
		}
		if (sep != '-' && sep != '/')
			goto done;
		p++;
		if (sep == '-' && (rc = iso_ordinal(&p, &f)) >= 0) {
			if (rc != 0)
				return rc;
			goto time;
		}
		named = iso_month(&p, &f.mon) != 0;
		if (named &&
		    (sep != '-' || month_name(&p, &f.mon) != 0 || *p != sep))
			return TR_EINVAL;
		if (*p != sep) {
			if (sep == '/')
				return TR_EINVAL;
			goto done;
		}
		p++;
		/* After a month's name the day may have one digit. */
		n = digits(&p, &f.day);
		if (n != 2 && !(named && n == 1))
			return TR_EINVAL;
	} else
		return TR_EINVAL;
time:
	if (*p == 'T' || *p == 't')
		p++;
	else if (is_space((unsigned char)*p)) {
		skip_ws(&p);
		/* 오, the first syllable of 오전 and of 오후. */
		if (strncmp(p, KO_AM, 3) == 0) {
			if ((rc = ko_time_zone(&p, &f)) != 0)
				return rc;
			goto done;
		}
		if (!is_digit((unsigned char)*p))
			goto done;
	} else
		goto done;
	if (iso_time(&p, &f, basic) != 0)
		return TR_EINVAL;
	skip_ws(&p);
	rc = zone(&p, &f.off);
	if (rc < 0)
		return rc;
done:
	if (tail(p) != 0)
		return TR_EINVAL;
	return fields_to_time(&f, out);
}

/* Does s (after whitespace) start like an ISO 8601 date? */
static int
looks_iso(const char *s)
{
	int v, n;

	skip_ws(&s);
	n = digits(&s, &v);
	return n == 4 || n == 7 || n == 8;
}

/*
 * Parses a date in any of the forms above. Returns 0 and sets *out to
 * Unix seconds (UTC), or TR_EINVAL with *out = TR_DATE_NONE.
 */
int
tr_date_parse(int64_t *out, const char *s)
{
	int rc;

	*out = TR_DATE_NONE;
	if (s == NULL)
		return TR_EINVAL;
	rc = looks_iso(s) ? parse_iso(s, out) : parse_rfc822(s, out);
	if (rc != 0)
		*out = TR_DATE_NONE;
	return rc;
}

/*
 * Parses an HTTP date. RFC 9110 §5.6.7 lists IMF-fixdate, RFC 850 and
 * asctime, and asks recipients to be robust; all three are members of
 * the RFC 822 family above, so this is that parser without ISO 8601
 * (which no HTTP date field uses).
 */
int
tr_date_parse_http(int64_t *out, const char *s)
{
	int rc;

	*out = TR_DATE_NONE;
	if (s == NULL)
		return TR_EINVAL;
	rc = parse_rfc822(s, out);
	if (rc != 0)
		*out = TR_DATE_NONE;
	return rc;
}

/* Splits t into a civil date and time of day; returns the weekday 0-6. */
static int
split(int64_t t, int64_t *y, int *mo, int *d, int *h, int *mi, int *s)
{
	int64_t days = t / 86400, rem = t % 86400;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	civil_from_days(days, y, mo, d);
	*h = (int)(rem / 3600);
	*mi = (int)(rem / 60 % 60);
	*s = (int)(rem % 60);
	/* 1970-01-01 was a Thursday (4). */
	return (int)(((days % 7) + 11) % 7);
}

/*
 * Writes t as "2024-12-06T09:30:00Z". TR_DATE_NONE gives "". The output
 * is truncated (and terminated) when size is too small; 32 bytes hold
 * every value.
 */
void
tr_date_format_rfc3339(char *out, size_t size, int64_t t)
{
	int64_t y;
	int mo, d, h, mi, s;

	if (size == 0)
		return;
	if (t == TR_DATE_NONE) {
		out[0] = '\0';
		return;
	}
	split(t, &y, &mo, &d, &h, &mi, &s);
	snprintf(out, size, "%04lld-%02d-%02dT%02d:%02d:%02dZ", (long long)y,
	         mo, d, h, mi, s);
}

/*
 * Writes t as "Fri, 06 Dec 2024 09:30:00 GMT" (RFC 9110 IMF-fixdate,
 * valid RFC 5322), English names whatever the locale. TR_DATE_NONE
 * gives "".
 */
void
tr_date_format_rfc822(char *out, size_t size, int64_t t)
{
	int64_t y;
	int mo, d, h, mi, s, wd;

	if (size == 0)
		return;
	if (t == TR_DATE_NONE) {
		out[0] = '\0';
		return;
	}
	wd = split(t, &y, &mo, &d, &h, &mi, &s);
	snprintf(out, size, "%s, %02d %s %04lld %02d:%02d:%02d GMT",
	         wday_abbr[wd], d, month_abbr[mo - 1], (long long)y, h, mi, s);
}
