/* test_hash.c — FNV-1a 64 against the published test vectors; the body
 * checksum against zlib's known values. */
#include "runner.h"
#include "tributary/hash.h"

static void
test_vectors(void)
{
	CHECK(tr_hash_str("") == UINT64_C(0xcbf29ce484222325));
	CHECK(tr_hash_str("a") == UINT64_C(0xaf63dc4c8601ec8c));
	CHECK(tr_hash_str("foobar") == UINT64_C(0x85944171f73967e8));
}

static void
test_incremental_equals_whole(void)
{
	uint64_t h = tr_hash(TR_HASH_INIT, "foo", 3);

	CHECK(tr_hash(h, "bar", 3) == tr_hash_str("foobar"));
	CHECK(tr_hash(TR_HASH_INIT, "x", 0) == TR_HASH_INIT);
}

/* CRC-32 and Adler-32 of "123456789" are 0xcbf43926 and 0x091e01de (the
 * check values of both algorithms); pieces add up to the whole. */
static void
test_sum(void)
{
	struct tr_sum s;

	tr_sum_init(&s);
	CHECK(tr_sum_value(&s) == UINT64_C(0x0000000000000001));
	tr_sum_add(&s, "1234", 4);
	tr_sum_add(&s, "", 0);
	tr_sum_add(&s, "56789", 5);
	CHECK(tr_sum_value(&s) == UINT64_C(0xcbf43926091e01de));
}

TR_TESTS(test_vectors, test_incremental_equals_whole, test_sum)
