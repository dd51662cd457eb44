/*
 * fuzz_html_links.c — libFuzzer target for the sniffer that reads the
 * <link rel="alternate"> feed URLs out of an HTML page served instead of
 * a feed (tr_poll_html_feed_links), on arbitrary bytes.
 *
 * Checked: the callback is called at most max times, each time with a
 * non-empty URL, and the count returned is at least the calls made.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tributary/poll.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_LINKS 4

static void
on_link(const char *url, void *arg)
{
	size_t *calls = arg;

	if (url == NULL || *url == '\0')
		abort();
	/* Reads the whole string: ASan catches a missing terminator. */
	if (strlen(url) > 1u << 20)
		abort();
	++*calls;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy;
	size_t calls = 0, found;

	if (size > 65536)
		return 0;
	/* An exact-size heap copy: ASan sees any read past the end. */
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	found = tr_poll_html_feed_links(copy, size,
	                                "http://example.org/dir/page.html",
	                                MAX_LINKS, on_link, &calls);
	if (calls > MAX_LINKS || found < calls)
		abort();
	free(copy);
	return 0;
}
