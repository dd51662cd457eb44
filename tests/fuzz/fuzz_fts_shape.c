/*
 * fuzz_fts_shape.c — libFuzzer target for the decoder of FTS5's
 * structure record (store_fts_shape_decode, lib/store_sqlite.c), which
 * reads bytes from the database file: a damaged file hands it anything.
 *
 * Checks what every decoded shape must satisfy: at most
 * STORE_FTS_LEVELS levels, no negative counts, a merge under way takes
 * no more segments (and pages) than its level has, the pages add up;
 * and a refused record leaves the shape zeroed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct store_fts_shape zero;
	struct store_fts_shape sh;
	int64_t total = 0;
	int l;

	if (size > 1 << 16)
		return 0;
	if (store_fts_shape_decode(data, (int)size, &sh) != 0) {
		if (memcmp(&sh, &zero, sizeof(sh)) != 0)
			abort();
		return 0;
	}
	if (sh.levels < 0 || sh.levels > STORE_FTS_LEVELS)
		abort();
	for (l = 0; l < STORE_FTS_LEVELS; l++) {
		if (sh.segs[l] < 0 || sh.merging[l] < 0 ||
		    sh.merging[l] > sh.segs[l] || sh.pages[l] < 0 ||
		    sh.merging_pages[l] < 0 ||
		    sh.merging_pages[l] > sh.pages[l])
			abort();
		if (l >= sh.levels && (sh.segs[l] || sh.pages[l]))
			abort();
		total += sh.pages[l];
	}
	if (total != sh.total_pages)
		abort();
	return 0;
}
