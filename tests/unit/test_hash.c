/* test_hash.c — FNV-1a 64 against the published test vectors; tables
 * keyed by strings; the body checksum against zlib's known values. */
#include <stddef.h>

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

struct rec {
	int value;
	char key[];
};

static struct rec *
mkrec(const char *key, int value)
{
	struct rec *r = malloc(sizeof(*r) + strlen(key) + 1);

	r->value = value;
	strcpy(r->key, key);
	return r;
}

/* A table of keys: look-alikes, the empty key, and enough of them to
 * grow the table past its first 64 slots several times; each is found
 * with its own record after every growth, and a key never added is not. */
static void
test_table(void)
{
	static const char *const keys[] = {"example.org:443", "example.org:80",
	    "example.org", "", "a", "b", "ab", "ba", "127.0.0.1:8080"};
	struct tr_table t;
	char key[32];
	size_t i, n = sizeof(keys) / sizeof(keys[0]);
	int k;

	memset(&t, 0, sizeof(t));
	t.key_off = offsetof(struct rec, key);
	CHECK(tr_table_get(&t, "a") == NULL);
	for (i = 0; i < n; i++)
		CHECK_INT(tr_table_add(&t, mkrec(keys[i], (int)i)), 0);
	for (k = 0; k < 500; k++) {
		snprintf(key, sizeof(key), "host%d:443", k);
		CHECK_INT(tr_table_add(&t, mkrec(key, 1000 + k)), 0);
	}
	CHECK_INT(t.n, n + 500);
	CHECK(2 * t.n <= t.cap);
	for (i = 0; i < n; i++) {
		struct rec *r = tr_table_get(&t, keys[i]);

		CHECK(r != NULL && r->value == (int)i);
	}
	for (k = 0; k < 500; k++) {
		struct rec *r;

		snprintf(key, sizeof(key), "host%d:443", k);
		r = tr_table_get(&t, key);
		CHECK(r != NULL && r->value == 1000 + k);
	}
	CHECK(tr_table_get(&t, "host500:443") == NULL);
	CHECK(tr_table_get(&t, "example.org:8080") == NULL);
	for (i = 0; i < t.cap; i++)
		free(t.slot[i]);
	tr_table_free(&t);
	CHECK(t.slot == NULL && t.n == 0 && t.cap == 0);
	CHECK(tr_table_get(&t, "a") == NULL);
}

TR_TESTS(test_vectors, test_incremental_equals_whole, test_table, test_sum)
