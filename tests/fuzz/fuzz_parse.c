/*
 * fuzz_parse.c — libFuzzer target for the feed parser.
 *
 * The input is parsed twice: whole, and split in two at an offset taken
 * from its last bytes (chunk borders are where streaming bugs hide). The
 * first byte picks an HTTP Content-Type so the charset paths (UTF-16,
 * windows-1252, iconv, an override by the HTTP charset) are exercised.
 * Both parses must hand over the same number of items; every string the
 * parser returns must be valid UTF-8. The split parse also has a body
 * callback that gives some items "stored" bodies (on_bodies), and hands
 * the others out with raw bodies (defer_html) that are then sanitized
 * apart (tr_parser_sanitize_article), as a polling round does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tributary/article.h"
#include "tributary/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const content_types[] = {
    NULL,
    "application/rss+xml",
    "text/xml; charset=utf-16",
    "application/atom+xml; charset=windows-1252",
    "text/html; charset=iso-8859-1",
    "application/xml; charset=\"KOI8-R\"",
    "text/xml; charset=utf-32le",
    "application/rdf+xml; charset=bogus-charset",
};

static void
check_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (s == NULL)
		return;
	while (*p) {
		size_t n = *p < 0x80             ? 1
		           : (*p & 0xe0) == 0xc0 ? 2
		           : (*p & 0xf0) == 0xe0 ? 3
		           : (*p & 0xf8) == 0xf0 ? 4
		                                 : 0;
		size_t i;

		if (n == 0 || (n == 2 && *p < 0xc2))
			abort();
		for (i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				abort();
		p += n;
	}
}

/* An item handed out raw, sanitized on its own: valid UTF-8 out. */
static void
sanitize_apart(const struct tr_article *a)
{
	struct tr_article c;

	if (tr_article_copy(&c, a) != 0)
		return;
	if (tr_parser_sanitize_article(&c, NULL, 4096, NULL) == 0) {
		if (c.bodies_raw || c.summary_base || c.content_base)
			abort();
		check_utf8(c.summary);
		check_utf8(c.content);
		check_utf8(c.text);
	}
	tr_article_free(&c);
}

static int
on_item(const struct tr_article *a, void *arg)
{
	size_t i;

	(*(size_t *)arg)++;
	if (a->bodies_raw)
		sanitize_apart(a);
	if (a->id == NULL)
		abort();
	check_utf8(a->id);
	check_utf8(a->title);
	check_utf8(a->link);
	check_utf8(a->summary);
	check_utf8(a->content);
	check_utf8(a->author);
	for (i = 0; i < a->n_categories; i++)
		check_utf8(a->categories[i]);
	for (i = 0; i < a->n_enclosures; i++)
		check_utf8(a->enclosures[i].url);
	return 0;
}

/*
 * The body callback of the split parse: an item whose raw hash is odd
 * "has" stored bodies, which replace its own (as tr_store_bodies_get
 * does), so the parser's hand-over of bodies it did not sanitize runs
 * too; the item count must not change.
 */
static int
on_bodies(struct tr_article *a, void *arg)
{
	(void)arg;
	if (a->id == NULL || a->raw_hash == 0)
		abort();
	if ((a->raw_hash & 1) == 0)
		return 0;
	free(a->summary);
	free(a->content);
	free(a->text);
	a->summary = strdup("<p>stored</p>");
	a->content = NULL;
	a->text = strdup("stored");
	return 1;
}

static size_t
parse(const uint8_t *data, size_t size, size_t split, const char *ctype)
{
	struct tr_parse_opts o = {0};
	struct tr_parser *p = NULL;
	size_t n = 0, i;

	o.base_url = "http://fuzz.example/feed/";
	o.content_type = ctype;
	o.max_field = 4096;
	o.max_depth = 64;
	if (split > 0) {
		o.body_cb = on_bodies;
		o.defer_html = 1;
	}
	if (tr_parser_new(&p, &o, on_item, &n) != 0)
		return 0;
	tr_parser_feed(p, data, split);
	tr_parser_feed(p, data + split, size - split);
	tr_parser_finish(p);
	check_utf8(tr_parser_meta(p)->title);
	check_utf8(tr_parser_meta(p)->subtitle);
	for (i = 0; i < tr_parser_nwarnings(p); i++)
		check_utf8(tr_parser_warning(p, i));
	tr_parser_free(p);
	return n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *ctype;
	size_t split = 0, whole, parts;

	if (size == 0 || size > 256 * 1024)
		return 0;
	ctype = content_types[data[0] % 8];
	if (size >= 3)
		split = ((size_t)data[size - 1] << 8 | data[size - 2]) % size;
	whole = parse(data, size, 0, ctype);
	parts = parse(data, size, split, ctype);
	if (whole != parts)
		abort();
	return 0;
}
