/*
 * fuzz_date.c — libFuzzer target for the date parsers.
 *
 * Feeds a NUL-terminated copy of the input to tr_date_parse() and
 * tr_date_parse_http() and checks what every accepted date must satisfy:
 * a result inside years 0000-9999, TR_DATE_NONE on failure, and RFC 3339
 * and RFC 822 formatting that parse back to the same second.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tributary/article.h"
#include "tributary/date.h"
#include "tributary/error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_round_trip(int64_t t)
{
	char b[64];
	int64_t back;

	if (t < -62167219200LL || t > 253402300799LL)
		abort();
	tr_date_format_rfc3339(b, sizeof(b), t);
	if (tr_date_parse(&back, b) != 0 || back != t)
		abort();
	tr_date_format_rfc822(b, sizeof(b), t);
	if (tr_date_parse(&back, b) != 0 || back != t)
		abort();
	if (tr_date_parse_http(&back, b) != 0 || back != t)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;
	int64_t t;

	if (size > 4096)
		return 0;
	s = malloc(size + 1);
	if (s == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';

	if (tr_date_parse(&t, s) == 0)
		check_round_trip(t);
	else if (t != TR_DATE_NONE)
		abort();
	if (tr_date_parse_http(&t, s) == 0)
		check_round_trip(t);
	else if (t != TR_DATE_NONE)
		abort();
	free(s);
	return 0;
}
