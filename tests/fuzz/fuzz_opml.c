/*
 * fuzz_opml.c — libFuzzer target for the OPML importer.
 *
 * Each input is imported twice: whole, and split in two chunks at an
 * offset taken from the input. Both runs must agree (streaming), and
 * every section produced must be something feeds.conf reads back as
 * written: lines under the config reader's 197 bytes, valid UTF-8, no
 * control characters, a valid feed name, an http(s) URL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tributary/buf.h"
#include "tributary/error.h"
#include "tributary/escape.h"
#include "tributary/opml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_line(const char *s, size_t n)
{
	size_t i = 0;
	int32_t cp;

	if (n > 196)
		abort();
	while (i < n) {
		i += tr_utf8_decode(s + i, n - i, &cp);
		if (cp < 0x20 || cp == 0x7F || cp == 0xFFFE || cp == 0xFFFF)
			abort();
	}
}

static int
on_feed(const struct tr_opml_feed *f, void *arg)
{
	struct tr_buf *out = arg;
	const char *p, *nl;
	size_t start = out->len;
	int rc;

	if (f->name[0] == '\0' || f->name[0] == '.' ||
	    strspn(f->name, "abcdefghijklmnopqrstuvwxyz0123456789.-") !=
		strlen(f->name))
		abort();
	if (strncasecmp(f->url, "http://", 7) != 0 &&
	    strncasecmp(f->url, "https://", 8) != 0)
		abort();
	if ((rc = tr_opml_format(out, f)) != 0)
		return rc;
	for (p = out->data + start; *p; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			abort(); /* every line ends with a newline */
		check_line(p, (size_t)(nl - p));
	}
	return 0;
}

static int
import(struct tr_buf *out, const char *doc, size_t size, size_t split)
{
	struct tr_opml *op = NULL;
	int rc;

	tr_buf_init(out, 64 << 20);
	if (tr_opml_new(&op, on_feed, out) != 0)
		return TR_ENOMEM;
	tr_opml_reserve(op, "feed", "http://taken.example/");
	rc = tr_opml_parse(op, doc, split, 0);
	if (rc == 0)
		rc = tr_opml_parse(op, doc + split, size - split, 1);
	if (rc == TR_EPARSE && strlen(tr_opml_errmsg(op)) == 0)
		abort();
	tr_opml_free(op);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *doc = (const char *)data;
	struct tr_buf whole, parts;
	size_t split = size ? data[0] % (size + 1) : 0;
	int rc1, rc2;

	rc1 = import(&whole, doc, size, size);
	rc2 = import(&parts, doc, size, split);
	if (rc1 != rc2 || whole.len != parts.len ||
	    (whole.len && memcmp(whole.data, parts.data, whole.len) != 0))
		abort();
	tr_buf_free(&whole);
	tr_buf_free(&parts);
	return 0;
}
