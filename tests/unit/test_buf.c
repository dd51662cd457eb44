/* test_buf.c — the size-capped buffer. */
#include <stdlib.h>

#include "runner.h"
#include "tributary/buf.h"
#include "tributary/error.h"

static void
test_add_and_str(void)
{
	struct tr_buf b;

	tr_buf_init(&b, 100);
	CHECK_STR(tr_buf_str(&b), "");
	CHECK_INT(tr_buf_adds(&b, "hello"), 0);
	CHECK_INT(tr_buf_addc(&b, ' '), 0);
	CHECK_INT(tr_buf_printf(&b, "%d-%s", 42, "x"), 0);
	CHECK_STR(tr_buf_str(&b), "hello 42-x");
	CHECK_INT(b.len, 10);
	tr_buf_free(&b);
}

static void
test_cap_is_enforced_and_buffer_kept(void)
{
	struct tr_buf b;

	tr_buf_init(&b, 8);
	CHECK_INT(tr_buf_adds(&b, "12345678"), 0);
	CHECK_INT(tr_buf_addc(&b, '9'), TR_ETOOBIG);
	CHECK_INT(tr_buf_printf(&b, "%s", "x"), TR_ETOOBIG);
	CHECK_STR(tr_buf_str(&b), "12345678");
	tr_buf_reset(&b);
	CHECK_INT(tr_buf_add(&b, "abcdefghi", 9), TR_ETOOBIG);
	CHECK_INT(b.len, 0);
	CHECK_INT(tr_buf_add(&b, "abc", 3), 0);
	tr_buf_free(&b);
}

static void
test_growth_keeps_bytes(void)
{
	struct tr_buf b;
	int i, ok = 1;

	tr_buf_init(&b, 1 << 20);
	for (i = 0; i < 10000; i++)
		CHECK_INT(tr_buf_addc(&b, (char)('a' + i % 26)), 0);
	for (i = 0; i < 10000; i++)
		if (b.data[i] != (char)('a' + i % 26))
			ok = 0;
	CHECK(ok);
	CHECK_INT(b.len, 10000);
	CHECK_INT(b.data[10000], 0);
	tr_buf_free(&b);
}

/* Caps of every size grow the buffer, the largest (SIZE_MAX: no cap of
 * the buffer's own) too. */
static void
test_caps_of_any_size(void)
{
	static const size_t caps[] = {1, 64, 65, 1 << 20, (size_t)-1 / 2,
	    (size_t)-1 - 1, (size_t)-1};
	struct tr_buf b;
	size_t i;
	int k;

	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		tr_buf_init(&b, caps[i]);
		for (k = 0; k < 1000 && (size_t)k < caps[i]; k++)
			CHECK_INT(tr_buf_addc(&b, 'x'), 0);
		CHECK_INT(b.len, (size_t)k);
		CHECK(b.cap > b.len);
		CHECK_INT(b.data[k], 0);
		tr_buf_free(&b);
	}
}

static void
test_embedded_nul_and_truncate(void)
{
	struct tr_buf b;

	tr_buf_init(&b, 64);
	CHECK_INT(tr_buf_add(&b, "a\0b", 3), 0);
	CHECK_INT(b.len, 3);
	tr_buf_truncate(&b, 1);
	CHECK_STR(tr_buf_str(&b), "a");
	tr_buf_truncate(&b, 5); /* longer than len: no change */
	CHECK_INT(b.len, 1);
	tr_buf_free(&b);
}

static void
test_detach(void)
{
	struct tr_buf b;
	char *s;

	tr_buf_init(&b, 64);
	s = tr_buf_detach(&b);
	CHECK_STR(s, "");
	free(s);
	tr_buf_adds(&b, "owned");
	s = tr_buf_detach(&b);
	CHECK_STR(s, "owned");
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	free(s);
	tr_buf_free(&b);
}

TR_TESTS(test_add_and_str, test_cap_is_enforced_and_buffer_kept,
    test_growth_keeps_bytes, test_caps_of_any_size,
    test_embedded_nul_and_truncate, test_detach)
