/* test_hash.c — FNV-1a 64 against the published test vectors. */
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

TR_TESTS(test_vectors, test_incremental_equals_whole)
