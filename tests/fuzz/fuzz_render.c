/*
 * fuzz_render.c — libFuzzer target for the renderers and their escaping.
 *
 * The input is cut at NUL bytes into the fields of one article (title,
 * summary, content, link, id, a category, an author's name, e-mail and
 * URI, an enclosure's URL and type, the feed's title). The item is
 * rendered as Atom, RSS, JSON Feed and HTML: the Atom and RSS documents
 * must be well-formed for expat whatever the bytes, and every document
 * must be valid UTF-8.
 */
#include <expat.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tributary/article.h"
#include "tributary/buf.h"
#include "tributary/escape.h"
#include "tributary/render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { F_TITLE, F_SUMMARY, F_CONTENT, F_LINK, F_ID, F_CAT, F_NAME, F_EMAIL,
	F_URI, F_ENC_URL, F_ENC_TYPE, F_FEED_TITLE, N_FIELDS };

static void
check_utf8(const char *s, size_t n)
{
	size_t i = 0;
	int32_t cp;

	while (i < n) {
		i += tr_utf8_decode(s + i, n - i, &cp);
		if (cp < 0)
			abort();
	}
}

static void
render(const struct tr_item *it, enum tr_format fmt)
{
	static const struct tr_render_doc doc = {
	    .title = "Fuzz",
	    .id = "https://f.example/feed.atom",
	    .self_url = "https://f.example/feed.atom",
	    .home_url = "https://f.example/",
	    .updated = 1733477400,
	};
	struct tr_render *r = NULL;
	struct tr_buf out;
	XML_Parser p;

	tr_buf_init(&out, 64 << 20);
	if (tr_render_begin(&r, &out, fmt, &doc) != 0 ||
	    tr_render_item(it, r) != 0 ||
	    tr_render_end(r, "https://f.example/next?a=1&b=2") != 0)
		abort();
	tr_render_free(r);
	check_utf8(out.data, out.len);
	if (fmt == TR_FMT_ATOM || fmt == TR_FMT_RSS) {
		p = XML_ParserCreate(NULL);
		if (XML_Parse(p, out.data, (int)out.len, 1) != XML_STATUS_OK)
			abort();
		XML_ParserFree(p);
	}
	tr_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = malloc(size + 1), *f[N_FIELDS], *p, *end;
	struct tr_enclosure enc;
	struct tr_person person;
	struct tr_item it;
	size_t i;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	end = copy + size;
	for (i = 0, p = copy; i < N_FIELDS; i++) {
		f[i] = p <= end ? p : NULL;
		if (p <= end)
			p += strlen(p) + 1;
	}
	memset(&it, 0, sizeof(it));
	tr_article_init(&it.a);
	it.a.title = f[F_TITLE];
	it.a.summary = f[F_SUMMARY];
	it.a.content = f[F_CONTENT];
	it.a.link = f[F_LINK];
	it.a.id = f[F_ID];
	it.a.categories = &f[F_CAT];
	it.a.n_categories = f[F_CAT] ? 1 : 0;
	person.name = f[F_NAME];
	person.email = f[F_EMAIL];
	person.uri = f[F_URI];
	it.a.authors = &person;
	it.a.n_authors = f[F_NAME] ? 1 : 0;
	enc.url = f[F_ENC_URL];
	enc.type = f[F_ENC_TYPE];
	enc.length = size;
	it.a.enclosures = &enc;
	it.a.n_enclosures = f[F_ENC_URL] ? 1 : 0;
	it.a.published = size & 1 ? TR_DATE_NONE : (int64_t)size * 86400;
	it.first_seen = TR_DATE_NONE;
	it.sort_date = TR_DATE_NONE;
	it.feed_name = "fuzz";
	it.feed_title = f[F_FEED_TITLE];
	it.feed_url = f[F_LINK];
	render(&it, TR_FMT_ATOM);
	render(&it, TR_FMT_RSS);
	render(&it, TR_FMT_JSON);
	render(&it, TR_FMT_HTML);
	free(copy);
	return 0;
}
