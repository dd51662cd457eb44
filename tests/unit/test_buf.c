/* test_buf.c — the size-capped buffer. */
#include <stdlib.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

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

/*
 * A detached string keeps little spare room: a buffer grown by doubling
 * to hold 5,000 bytes has 8 KiB, and the string handed out is about its
 * length, with its bytes intact (lengths on both sides of each doubling).
 */
static void
test_detach_gives_back_spare_room(void)
{
	static const size_t lens[] = {1, 63, 64, 65, 300, 2049, 5000, 70000};
	struct tr_buf b;
	size_t i, j;
	char *s;

	for (i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		tr_buf_init(&b, 1 << 20);
		for (j = 0; j < lens[i]; j++)
			CHECK_INT(tr_buf_addc(&b, (char)('a' + j % 26)), 0);
		CHECK(b.cap >= lens[i] + 1);
		s = tr_buf_detach(&b);
		CHECK(s != NULL);
		CHECK_INT(strlen(s), lens[i]);
		CHECK(s[lens[i] - 1] == (char)('a' + (lens[i] - 1) % 26));
#ifdef __GLIBC__
		/* 256 bytes of slack at most, and the allocator's rounding:
		 * 16 bytes, or a page for a chunk of its own mapping */
		CHECK(malloc_usable_size(s) <=
		      lens[i] + 1 + 256 + (lens[i] >= 65536 ? 4096 : 16));
#endif
		free(s);
		tr_buf_free(&b);
	}
}

TR_TESTS(test_add_and_str, test_cap_is_enforced_and_buffer_kept,
    test_growth_keeps_bytes, test_caps_of_any_size,
    test_embedded_nul_and_truncate, test_detach,
    test_detach_gives_back_spare_room)
