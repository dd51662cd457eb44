/*
 * test_parse.c — the feed parser: every fixture in tests/data/parse
 * parsed whole and split at every byte offset (same result), field checks
 * on the format fixtures, breakage and hostile inputs, caps and the
 * callback contract.
 *
 * The expected JSON next to each fixture is checked by
 * tests/integration/test_parse.py through `tributary parse --json`; here
 * the whole-document parse is the reference the split parses must match.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"
#include "tributary/article.h"
#include "tributary/buf.h"
#include "tributary/date.h"
#include "tributary/error.h"
#include "tributary/json.h"
#include "tributary/parse.h"

#define DATA "tests/data/parse"

/* --- a parse result rendered as one string ------------------------------ */

struct result {
	struct tr_buf out;
	struct tr_json j;
	size_t n;
	int stop_after; /* callback returns non-zero at this item (1-based) */
	struct tr_article first;
};

static void
date_member(struct tr_json *j, const char *key, int64_t t)
{
	char d[40];

	if (t == TR_DATE_NONE)
		return;
	tr_date_format_rfc3339(d, sizeof(d), t);
	tr_json_member_str(j, key, d);
}

/* Non-zero when s is NULL or valid UTF-8 (RFC 3629). */
static int
utf8_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (p && *p) {
		size_t n = *p < 0x80                 ? 1
		           : *p >= 0xc2 && *p < 0xe0 ? 2
		           : *p >= 0xe0 && *p < 0xf0 ? 3
		           : *p >= 0xf0 && *p < 0xf5 ? 4
		                                     : 0;
		size_t i;

		if (n == 0)
			return 0;
		for (i = 1; i < n; i++)
			if ((p[i] & 0xc0) != 0x80)
				return 0;
		p += n;
	}
	return 1;
}

static int
on_item(const struct tr_article *a, void *arg)
{
	struct result *r = arg;
	struct tr_json *j = &r->j;
	size_t i;

	CHECK(utf8_ok(a->id) && utf8_ok(a->title) && utf8_ok(a->link) &&
	      utf8_ok(a->summary) && utf8_ok(a->content) && utf8_ok(a->author));
	if (r->n == 0)
		tr_article_copy(&r->first, a);
	r->n++;
	tr_json_begin_object(j);
	tr_json_member_str(j, "id", a->id);
	tr_json_member_str(j, "guid", a->guid);
	tr_json_member_str(j, "title", a->title);
	tr_json_member_str(j, "link", a->link);
	tr_json_member_str(j, "author", a->author);
	tr_json_member_str(j, "summary", a->summary);
	tr_json_member_str(j, "content", a->content);
	date_member(j, "published", a->published);
	date_member(j, "updated", a->updated);
	tr_json_member_str(j, "source_title", a->source_title);
	tr_json_member_str(j, "source_url", a->source_url);
	tr_json_member_str(j, "source_id", a->source_id);
	tr_json_key(j, "authors");
	tr_json_begin_array(j);
	for (i = 0; i < a->n_authors; i++) {
		tr_json_string(j, a->authors[i].name);
		tr_json_string(j, a->authors[i].email);
		tr_json_string(j, a->authors[i].uri);
	}
	tr_json_end_array(j);
	tr_json_key(j, "categories");
	tr_json_begin_array(j);
	for (i = 0; i < a->n_categories; i++)
		tr_json_string(j, a->categories[i]);
	tr_json_end_array(j);
	tr_json_key(j, "enclosures");
	tr_json_begin_array(j);
	for (i = 0; i < a->n_enclosures; i++) {
		tr_json_string(j, a->enclosures[i].url);
		tr_json_string(j, a->enclosures[i].type);
		tr_json_int(j, a->enclosures[i].length);
	}
	tr_json_end_array(j);
	tr_json_end_object(j);
	return r->stop_after && (int)r->n >= r->stop_after;
}

/* When set, parse_split reuses this parser (tr_parser_reset) and its
 * callback writes to shared_r: the parser keeps the arg it was made with. */
static struct tr_parser *shared;
static struct result shared_r;
/*
 * Parses data in chunks: split 0 feeds it whole, split k feeds [0,k) and
 * [k,len), split -1 feeds one byte at a time. Returns the rendered result
 * (malloc'ed) and the finish code in *rc.
 */
static char *
parse_split(const char *data, size_t len, const struct tr_parse_opts *o,
            long split, int *rc, struct result *keep)
{
	struct tr_parser *p = NULL;
	struct result rloc, *rp = shared ? &shared_r : &rloc;
#define r (*rp)
	const struct tr_feed_meta *m;
	size_t i;
	int frc = 0;

	memset(&r, 0, sizeof(r));
	tr_article_init(&r.first);
	if (keep)
		r.stop_after = keep->stop_after;
	tr_buf_init(&r.out, (size_t)64 << 20);
	tr_json_init(&r.j, &r.out, 0);
	tr_json_begin_object(&r.j);
	tr_json_key(&r.j, "items");
	tr_json_begin_array(&r.j);
	if (shared) {
		p = shared;
		if (tr_parser_reset(p, o ? o->base_url : NULL,
		                    o ? o->content_type : NULL) != 0)
			return NULL;
	} else if (tr_parser_new(&p, o, on_item, &r) != 0)
		return NULL;
	if (split < 0) {
		for (i = 0; i < len && frc == 0; i++)
			frc = tr_parser_feed(p, data + i, 1);
	} else if (split == 0) {
		frc = tr_parser_feed(p, data, len);
	} else {
		frc = tr_parser_feed(p, data, (size_t)split);
		if (frc == 0)
			frc = tr_parser_feed(p, data + split,
			                     len - (size_t)split);
	}
	*rc = tr_parser_finish(p);
	if (frc == TR_EABORT)
		*rc = TR_EABORT;
	m = tr_parser_meta(p);
	tr_json_end_array(&r.j);
	tr_json_member_str(&r.j, "version",
	                   tr_feed_version_name(tr_parser_version(p)));
	tr_json_member_str(&r.j, "encoding", tr_parser_encoding(p));
	tr_json_member_bool(&r.j, "bozo", tr_parser_bozo(p));
	tr_json_member_str(&r.j, "root", tr_parser_root(p));
	tr_json_member_str(&r.j, "title", m->title);
	tr_json_member_str(&r.j, "link", m->link);
	tr_json_member_str(&r.j, "self", m->self);
	tr_json_member_str(&r.j, "id", m->id);
	tr_json_member_str(&r.j, "author", m->author);
	tr_json_member_str(&r.j, "subtitle", m->subtitle);
	tr_json_member_str(&r.j, "language", m->language);
	date_member(&r.j, "updated", m->updated);
	tr_json_member_int(&r.j, "ttl", m->ttl);
	tr_json_member_int(&r.j, "nitems", (int64_t)tr_parser_nitems(p));
	tr_json_key(&r.j, "warnings");
	tr_json_begin_array(&r.j);
	for (i = 0; i < tr_parser_nwarnings(p); i++) {
		CHECK(utf8_ok(tr_parser_warning(p, i)));
		tr_json_string(&r.j, tr_parser_warning(p, i));
	}
	CHECK(utf8_ok(m->title) && utf8_ok(m->subtitle) && utf8_ok(m->author));
	tr_json_end_array(&r.j);
	tr_json_end_object(&r.j);
	if (p != shared)
		tr_parser_free(p);
	if (keep) {
		tr_article_free(&keep->first);
		keep->first = r.first;
		keep->n = r.n;
	} else
		tr_article_free(&r.first);
	return tr_buf_detach(&r.out);
#undef r
}

static char *
parse_str(const char *doc, const struct tr_parse_opts *o, int *rc,
          struct result *keep)
{
	return parse_split(doc, strlen(doc), o, 0, rc, keep);
}

static char *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct tr_buf b;
	char chunk[4096];
	size_t n;

	if (f == NULL)
		return NULL;
	tr_buf_init(&b, (size_t)16 << 20);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		tr_buf_add(&b, chunk, n);
	fclose(f);
	*len = b.len;
	return tr_buf_detach(&b);
}

/* Reads NAME.opts ("base-url=..." and "content-type=..." lines). */
static void
read_opts(const char *xml, struct tr_parse_opts *o, char *base, char *ctype,
          size_t size)
{
	char path[512], line[512];
	FILE *f;

	memset(o, 0, sizeof(*o));
	snprintf(path, sizeof(path), "%.*s.opts", (int)(strlen(xml) - 4), xml);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "base-url=", 9) == 0) {
			snprintf(base, size, "%s", line + 9);
			o->base_url = base;
		} else if (strncmp(line, "content-type=", 13) == 0) {
			snprintf(ctype, size, "%s", line + 13);
			o->content_type = ctype;
		}
	}
	fclose(f);
}

/* --- every fixture, every split ------------------------------------------ */

static int
is_fixture(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcmp(name + n - 4, ".xml") == 0;
}

static void
test_fixtures_split_everywhere(void)
{
	DIR *d = opendir(DATA);
	struct dirent *e;
	int nfix = 0;

	CHECK(d != NULL);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[512], base[512] = "", ctype[512] = "";
		struct tr_parse_opts o;
		char *data, *whole, *part;
		size_t len, k, step;
		int rc, rc2, bad = 0;

		if (!is_fixture(e->d_name))
			continue;
		snprintf(path, sizeof(path), "%s/%s", DATA, e->d_name);
		read_opts(path, &o, base, ctype, sizeof(base));
		data = read_file(path, &len);
		CHECK(data != NULL);
		if (data == NULL)
			continue;
		nfix++;
		whole = parse_split(data, len, &o, 0, &rc, NULL);
		CHECK(whole != NULL && strstr(whole, "\"nitems\":0") == NULL);
		/* The entity bomb costs a megabyte per parse: sample it. */
		step = strncmp(e->d_name, "hostile-", 8) == 0 ? 29 : 1;
		for (k = 1; k < len && !bad; k += step) {
			part = parse_split(data, len, &o, (long)k, &rc2, NULL);
			if (part == NULL || strcmp(part, whole) != 0 ||
			    rc2 != rc) {
				printf(
				    "  %s split at %zu differs:\n  whole %s\n"
				    "  split %s\n",
				    e->d_name, k, whole,
				    part ? part : "(null)");
				bad = 1;
			}
			free(part);
		}
		part = parse_split(data, len, &o, -1, &rc2, NULL);
		if (part == NULL || strcmp(part, whole) != 0) {
			printf("  %s byte by byte differs:\n  %s\n", e->d_name,
			       part ? part : "(null)");
			bad = 1;
		}
		free(part);
		CHECK_STR_CASE(e->d_name, bad ? "differs" : "same", "same");
		free(whole);
		free(data);
	}
	closedir(d);
	CHECK(nfix >= 30);
}

/*
 * One parser for every fixture in turn, reset between documents (and fed
 * each a second time, split in two): each result is the one a new parser
 * gives, whatever the document before it left behind (open elements, an
 * error, a base URL, a charset, warnings).
 */
static void
test_reset_reuses_parser(void)
{
	DIR *d = opendir(DATA);
	struct dirent *e;
	int nfix = 0, rounds;

	CHECK(d != NULL);
	if (d == NULL)
		return;
	CHECK_INT(tr_parser_new(&shared, NULL, NULL, NULL), 0);
	tr_parser_set_callback(shared, on_item, &shared_r);
	for (rounds = 0; rounds < 2; rounds++) {
		rewinddir(d);
		while ((e = readdir(d)) != NULL) {
			char path[512], base[512] = "", ctype[512] = "";
			struct tr_parse_opts o;
			struct tr_parser *keep_shared = shared;
			char *data, *fresh, *reused;
			size_t len;
			int rc, rc2;

			if (!is_fixture(e->d_name))
				continue;
			snprintf(path, sizeof(path), "%s/%s", DATA, e->d_name);
			read_opts(path, &o, base, ctype, sizeof(base));
			if ((data = read_file(path, &len)) == NULL)
				continue;
			nfix++;
			shared = NULL;
			fresh = parse_split(data, len, &o, (long)len / 2, &rc,
			                    NULL);
			shared = keep_shared;
			reused = parse_split(data, len, &o, (long)len / 2, &rc2,
			                     NULL);
			CHECK(fresh != NULL && reused != NULL);
			if (fresh && reused)
				CHECK_STR_CASE(e->d_name, reused, fresh);
			CHECK_INT(rc2, rc);
			free(fresh);
			free(reused);
			free(data);
		}
	}
	closedir(d);
	tr_parser_free(shared);
	shared = NULL;
	CHECK(nfix >= 60);
}

/*
 * The fast way (expat alone while the document needs no repair) against
 * the cleaner over every byte (always_clean): the same items, metadata and
 * warnings, also when a repair is needed late in a long document, where
 * the fast way parses again from its last checkpoint. A feed of n items
 * with `inject` written into item k (in its description, or after its
 * title when in_item_tail), lines ended by eol.
 */
static char *
gen_feed(int n, int k, const char *inject, int in_tail, const char *eol,
         const char *prolog)
{
	struct tr_buf b;
	int i;

	tr_buf_init(&b, (size_t)64 << 20);
	tr_buf_printf(&b,
	              "%s<rss version=\"2.0\" xmlns:dc=\"http://purl.org/dc/"
	              "elements/1.1/\" xml:base=\"http://ex.com/x/\">%s"
	              "<channel>%s<title>Feed</title>%s<link>/</link>%s",
	              prolog, eol, eol, eol, eol);
	for (i = 0; i < n; i++) {
		tr_buf_printf(&b, "<item>%s<title>T\xc3\xa9st %d</title>%s",
		              eol, i, i == k && in_tail ? inject : "");
		tr_buf_printf(
		    &b,
		    "%s<link>a/%d</link>%s<description>Body &lt;b&gt;"
		    "\xe2\x80\x94 %d%s</description>%s<pubDate>Sat, 23 "
		    "Nov 2024 17:15:13 +0200</pubDate>%s</item>%s",
		    eol, i, eol, i, i == k && !in_tail ? inject : "", eol, eol,
		    eol);
	}
	tr_buf_printf(&b, "</channel>%s</rss>%s", eol, eol);
	return tr_buf_detach(&b);
}

/*
 * Blanks the position of "size cap" warnings in a rendered result: it is
 * where expat's text piece crossing the cap began, which depends on how
 * expat's input was cut, also between two splits on the same way.
 */
static void
mask_cap_position(char *s)
{
	static const char tail[] = ": field longer than the size cap";
	char *w, *q;

	while (s && (w = strstr(s, tail)) != NULL) {
		for (q = w; q > s && q[-1] != '"'; q--)
			;
		*q = '?';
		memmove(q + 1, w, strlen(w) + 1);
		s = q + sizeof(tail);
	}
}

/* Whether the fast way and the cleaner agree on doc, whole and split. */
static int
fast_same_as_clean(const char *name, const char *doc, size_t len)
{
	struct tr_parse_opts fast = {0}, slow = {0};
	long splits[] = {
	    0, 1, 97, 4096, 65535, 65537, (long)len / 2, (long)len - 3};
	char *want, *got;
	size_t i;
	int rc, rc2, same = 1;

	slow.always_clean = 1;
	for (i = 0; i < sizeof(splits) / sizeof(splits[0]) && same; i++) {
		if (splits[i] < 0 || (size_t)splits[i] >= len)
			continue;
		/* at the same split: where a field is cut by its cap depends
		 * on how expat's text pieces fell, either way */
		want = parse_split(doc, len, &slow, splits[i], &rc, NULL);
		got = parse_split(doc, len, &fast, splits[i], &rc2, NULL);
		mask_cap_position(want);
		mask_cap_position(got);
		same = want && got && strcmp(want, got) == 0 && rc == rc2;
		if (!same)
			printf("  %s split at %ld: fast way differs:\n  want "
			       "%.600s\n  got  %.600s\n",
			       name, splits[i], want ? want : "(null)",
			       got ? got : "(null)");
		free(got);
		free(want);
	}
	if (same && len < 20000) { /* byte by byte */
		want = parse_split(doc, len, &slow, -1, &rc, NULL);
		got = parse_split(doc, len, &fast, -1, &rc2, NULL);
		same = want && got && strcmp(want, got) == 0;
		if (!same)
			printf("  %s byte by byte: fast way differs\n", name);
		free(got);
		free(want);
	}
	return same;
}

static void
test_fast_way_same_as_cleaner(void)
{
	static const struct {
		const char *name, *inject, *eol, *prolog;
		int n, k, in_tail;
	} cases[] = {
	    {"well-formed", "", "\n", "<?xml version=\"1.0\"?>\n", 300, 0, 0},
	    {"html entity late", "x&nbsp;y", "\n", "", 300, 250, 0},
	    {"bare amp", " a & b", "\n", "", 300, 299, 0},
	    {"control char", "x\x01y", "\r\n", "", 300, 150, 0},
	    {"invalid utf-8", "caf\xe9", "\n", "", 300, 150, 0},
	    {"one line", "&eacute; x", "", "", 300, 200, 0},
	    {"cr lines", "&eacute; x", "\r", "", 300, 200, 0},
	    {"c1 reference", "x&#150;y&#x93;", "\n", "", 100, 60, 0},
	    {"c1 in attribute", "<enclosure url=\"e/&#147;q\" type=\"a\"/>",
	     "\n", "", 100, 60, 1},
	    {"item in item", "<item><title>in</title></item>", "\n", "", 100,
	     60, 1},
	    {"missing close tag", "<b>", "\n", "", 100, 60, 0},
	    {"lt in attribute", "<enclosure url=\"e/a<b\" type=\"a\"/>", "\n",
	     "", 100, 60, 1},
	    {"xml:base in item", "<source url=\"s\">&copy;</source>", "\n", "",
	     100, 60, 1},
	    {"doctype", "&foo;", "\n",
	     "<!DOCTYPE rss [<!ENTITY foo \"bar\">]>\n", 100, 60, 0},
	    {"external dtd", "&eacute;", "\n",
	     "<!DOCTYPE rss PUBLIC \"-//Netscape Communications//DTD RSS "
	     "0.91//EN\" \"http://my.netscape.com/publish/formats/"
	     "rss-0.91.dtd\">\n",
	     100, 60, 0},
	};
	static const char *const others[] = {
	    "<entry xmlns=\"http://www.w3.org/2005/Atom\"><id>urn:x</id>"
	    "<title>t</title></entry>junk",
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>f</title>"
	    "<entry><id>urn:1</id></entry><author><name>A &eacute;</name>"
	    "</author><entry><id>urn:2</id></entry></feed><feed/>",
	    "<html><body><div><item><title>x</title></item><div><item><title>"
	    "y &nbsp; z</title></item></div></div></body></html>",
	    "  <rss><channel><title>lead &amp; space</title><item><title>x"
	    "</title></item>",
	    "<rss><channel><title>t</title\r\n><item><title>a</title\n>"
	    "</item\r\n><item><title>b</title></item\n\n><item><title>c "
	    "&nbsp;</title></item></channel></rss>",
	};
	struct tr_buf big;
	char *doc;
	size_t i, len;
	int k;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		doc = gen_feed(cases[i].n, cases[i].k, cases[i].inject,
		               cases[i].in_tail, cases[i].eol, cases[i].prolog);
		CHECK_STR_CASE(
		    cases[i].name,
		    fast_same_as_clean(cases[i].name, doc, strlen(doc))
		        ? "same"
		        : "differs",
		    "same");
		/* cut off: the end repaired */
		len = strlen(doc) - 40;
		CHECK_STR_CASE(cases[i].name,
		               fast_same_as_clean(cases[i].name, doc, len)
		                   ? "same"
		                   : "differs",
		               "same");
		free(doc);
	}
	for (i = 0; i < sizeof(others) / sizeof(others[0]); i++)
		CHECK_STR_CASE(
		    others[i],
		    fast_same_as_clean(others[i], others[i], strlen(others[i]))
		        ? "same"
		        : "differs",
		    "same");
	/* An item longer than what the fast way keeps (the cleaner catches
	 * up), then a repair after it, and one inside it. */
	for (k = 0; k < 2; k++) {
		tr_buf_init(&big, (size_t)64 << 20);
		tr_buf_adds(&big, "<rss><channel><title>t</title><item><title>"
		                  "big</title><description>");
		for (i = 0; i < 300000; i++)
			tr_buf_adds(&big,
			            i == 200000 && k ? "&nbsp;" : "word ");
		tr_buf_adds(&big, "</description></item>");
		for (i = 0; i < 50; i++)
			tr_buf_printf(&big,
			              "<item><title>%zu%s</title></item>\n", i,
			              i == 40 ? " &eacute;" : "");
		tr_buf_adds(&big, "</channel></rss>");
		CHECK_STR_CASE("big item",
		               fast_same_as_clean("big item", big.data, big.len)
		                   ? "same"
		                   : "differs",
		               "same");
		tr_buf_free(&big);
	}
}

/*
 * Whitespace before an end tag's '>' is kept by the cleaner, so that an
 * error expat reports after "</item\n>" lines names the input's line,
 * either way (the cleaner used to drop it, and expat's count with it).
 */
static void
test_end_tag_whitespace_keeps_lines(void)
{
	static const char doc[] =
	    "<rss><channel><title>t</title>\n"
	    "<item><title>a</title></item\n>\n"
	    "<item><title>b</title></item\r\n>\n"
	    "<item><title>c</title><x a=\"1\" a=\"2\"/></item>\n"
	    "</channel></rss>\n";
	struct tr_parse_opts o = {0};
	char *out;
	int rc, clean;

	for (clean = 0; clean < 2; clean++) {
		o.always_clean = clean;
		out = parse_split(doc, strlen(doc), &o, 0, &rc, NULL);
		CHECK(out && strstr(out, "\"line 6, column 32: duplicate "
		                         "attribute\""));
		CHECK(out && strstr(out, "\"nitems\":2"));
		free(out);
	}
}

/* --- formats ---------------------------------------------------------------
 */

/* Parses a fixture file; the first item is kept in *r. */
static char *
parse_fixture(const char *name, struct result *r, int *rc)
{
	char path[512], base[512] = "", ctype[512] = "", *data, *out;
	struct tr_parse_opts o;
	size_t len;

	snprintf(path, sizeof(path), "%s/%s", DATA, name);
	read_opts(path, &o, base, ctype, sizeof(base));
	if ((data = read_file(path, &len)) == NULL)
		return NULL;
	out = parse_split(data, len, &o, 0, rc, r);
	free(data);
	return out;
}

static void
test_rss20_fields(void)
{
	struct result r = {0};
	int rc;
	char *out = parse_fixture("rss20.xml", &r, &rc);
	const struct tr_article *a = &r.first;

	CHECK(out != NULL);
	CHECK_INT(rc, 0);
	CHECK_INT(r.n, 3);
	CHECK_STR(a->title,
	          "Foreign ministers pledge \xe2\x80\x9cunwavering\xe2\x80\x9d "
	          "support for Ukraine \xf0\x9f\x94\xb9");
	CHECK_STR(
	    a->guid,
	    "https://news.example.org/europe/2024/12/06/ministers-brussels");
	CHECK_INT(a->guid_is_permalink, 1);
	CHECK_INT(a->published, tr_date_from_civil(2024, 12, 6, 9, 30, 0));
	CHECK_INT(a->n_enclosures, 2);
	if (a->n_enclosures == 2) {
		CHECK_INT(a->enclosures[0].length, 4812300);
		CHECK_STR(a->enclosures[1].type, "image/jpeg");
	}
	CHECK_INT(a->n_authors, 1);
	if (a->n_authors == 1) {
		CHECK_STR(a->authors[0].email, "m.lindqvist@news.example.org");
		CHECK_STR(a->authors[0].name, "Maja Lindqvist");
	}
	CHECK(strstr(out, "\"self\":\"https://news.example.org/europe/"
	                  "feed.xml\"") != NULL);
	CHECK(strstr(out, "\"ttl\":2700") != NULL); /* 45 minutes */
	/* <image><title> is not the channel's title. */
	CHECK(strstr(out, "not the feed title") == NULL);
	/* A relative link resolved against the document URL. */
	CHECK(strstr(out, "\"link\":\"https://news.example.org/europe/2024/"
	                  "12/05/amman-office\"") != NULL);
	CHECK(strstr(out, "\"source_title\":\"Example Wire\"") != NULL);
	CHECK(strstr(out, "\"source_url\":\"https://wire.example.com/rss\"") !=
	      NULL);
	/* An unparseable date is absent, never 0 or now. */
	CHECK(strstr(out, "\"title\":\"Podcast: the week in Europe\","
	                  "\"link\"") != NULL);
	CHECK(strstr(out, "1970-01-01") == NULL);
	tr_article_free(&r.first);
	free(out);
}

static void
test_rss10_and_090(void)
{
	struct result r = {0};
	int rc;
	char *out = parse_fixture("rss10.xml", &r, &rc);

	CHECK(out && strstr(out, "\"version\":\"rss10\""));
	CHECK(out && strstr(out, "\"ttl\":1800")); /* hourly, twice */
	CHECK_INT(r.n, 2);
	CHECK_STR(r.first.author, "Lena Vogt");
	CHECK_INT(r.first.published,
	          tr_date_from_civil(2024, 12, 6, 8, 12, 30));
	tr_article_free(&r.first);
	free(out);
	out = parse_fixture("rss090.xml", &r, &rc);
	CHECK(out && strstr(out, "\"version\":\"rss090\""));
	CHECK_INT(r.n, 2);
	tr_article_free(&r.first);
	free(out);
}

static void
test_versions(void)
{
	static const struct {
		const char *file, *version;
	} t[] = {
	    {"rss091.xml", "rss091"}, {"rss092.xml", "rss092"},
	    {"rss093.xml", "rss093"}, {"rss094.xml", "rss094"},
	    {"rss20.xml", "rss20"},   {"rss10.xml", "rss10"},
	    {"rss090.xml", "rss090"}, {"atom03.xml", "atom03"},
	    {"atom10.xml", "atom10"}, {"atom-prefixes.xml", "atom10"},
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char want[64], *out;
		int rc;

		out = parse_fixture(t[i].file, NULL, &rc);
		snprintf(want, sizeof(want), "\"version\":\"%s\"",
		         t[i].version);
		CHECK_STR_CASE(t[i].file, out && strstr(out, want) ? want : out,
		               want);
		CHECK_INT(rc, 0);
		free(out);
	}
}

static void
test_atom10_fields(void)
{
	struct result r = {0};
	int rc;
	char *out = parse_fixture("atom10.xml", &r, &rc);
	const struct tr_article *a = &r.first;

	CHECK_INT(r.n, 2);
	CHECK_STR(a->link, "https://blog.example.com/posts/2024/trams.html");
	CHECK_STR(a->guid, "tag:blog.example.com,2024:trams");
	CHECK_INT(a->n_authors, 2);
	if (a->n_authors == 2)
		CHECK_STR(a->authors[0].uri, "https://blog.example.com/about");
	CHECK_INT(a->n_enclosures, 1);
	if (a->n_enclosures == 1) {
		CHECK_STR(a->enclosures[0].url,
		          "https://blog.example.com/media/trams.mp4");
		CHECK_INT(a->enclosures[0].length, 1048576);
	}
	/* type="text" becomes HTML; xhtml keeps the div's children. */
	CHECK_STR(a->summary, "Lines 12 &amp; 15 run &lt;again&gt; \xe2\x80\x94"
	                      " at last.");
	CHECK(a->content && strncmp(a->content, "<p>Lines <b>12</b>", 18) == 0);
	CHECK(a->content && strstr(a->content, "<br />"));
	CHECK(a->content && strstr(a->content, "<div") == NULL);
	CHECK_INT(a->published, tr_date_from_civil(2024, 12, 4, 6, 0, 0));
	CHECK_INT(a->updated, tr_date_from_civil(2024, 12, 5, 15, 30, 15));
	/* Feed title type="html": tags stripped, references decoded. */
	CHECK(out && strstr(out, "\"title\":\"Notes & Drafts\""));
	CHECK(out && strstr(out, "\"self\":\"https://blog.example.com/"
	                         "feed.atom\""));
	CHECK(out && strstr(out, "\"title\":\"Bridges and ferries\""));
	CHECK(out && strstr(out, "\"source_id\":\"tag:river.example.org,"
	                         "2024:feed\""));
	CHECK(out && strstr(out, "\"source_url\":\"https://river.example.org"
	                         "/feed\""));
	tr_article_free(&r.first);
	free(out);
}

static void
test_atom03_modes(void)
{
	int rc;
	char *out = parse_fixture("atom03.xml", NULL, &rc);

	CHECK(out && strstr(out, "\"content\":\"<p>Hello <b>world</b></p>\""));
	CHECK(out && strstr(out, "\"content\":\"<p>Encoded \xe2\x80\x94 "
	                         "decoded.</p>\""));
	CHECK(out && strstr(out, "\"summary\":\"A &lt;plain&gt; summary\""));
	CHECK(out && strstr(out, "\"subtitle\":\"Still on 0.3\""));
	free(out);
}

static void
test_namespaces_by_uri(void)
{
	int rc;
	char *out = parse_fixture("atom-prefixes.xml", NULL, &rc);

	CHECK(out && strstr(out, "\"title\":\"Prefixed feed\""));
	CHECK(out && strstr(out, "not the Atom title") == NULL);
	CHECK(out && strstr(out, "ignored too") == NULL);
	CHECK(out && strstr(out, "\"categories\":[\"prefixes\"]"));
	free(out);
	/* RSS elements in a default namespace of another vocabulary. */
	out = parse_str("<rss version=\"2.0\"><channel xmlns=\"urn:x\">"
	                "<item><title>no</title></item></channel></rss>",
	                NULL, &rc, NULL);
	CHECK(out && strstr(out, "\"nitems\":0"));
	free(out);
}

/* --- broken documents ------------------------------------------------------
 */

static void
test_broken_recovered(void)
{
	static const struct {
		const char *file;
		int items;
		const char *needle;
	} t[] = {
	    {"broken-entities.xml", 2, "Caf\xc3\xa9 prices rise \xe2\x80\x94"},
	    {"broken-amp.xml", 1, "\"title\":\"Fish & chips & more\""},
	    {"broken-control.xml", 1, "\"title\":\"Bell and formfeed\""},
	    {"broken-junk.xml", 1, "\"title\":\"Still parsed\""},
	    {"broken-truncated.xml", 2, "Second complete item"},
	    {"broken-unclosed.xml", 2, "\"title\":\"Next item\""},
	    {"broken-cp1252-in-utf8.xml", 1,
	     "It\xe2\x80\x99s a \xe2\x80\x9cquoted\xe2\x80\x9d caf\xc3\xa9"},
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct result r = {0};
		int rc;
		char *out = parse_fixture(t[i].file, &r, &rc);

		CHECK_INT(rc, 0);
		CHECK_INT(r.n, t[i].items);
		CHECK_STR_CASE(
		    t[i].file,
		    out && strstr(out, "\"bozo\":true") ? "bozo" : out, "bozo");
		CHECK_STR_CASE(t[i].file,
		               out && strstr(out, t[i].needle) ? t[i].needle
		                                               : out,
		               t[i].needle);
		CHECK_STR_CASE(t[i].file,
		               out && strstr(out, "\"warnings\":[\"line ")
		                   ? "warned"
		                   : out,
		               "warned");
		tr_article_free(&r.first);
		free(out);
	}
}

static void
test_truncation_drops_partial_item(void)
{
	int rc;
	char *out = parse_fixture("broken-truncated.xml", NULL, &rc);

	CHECK(out && strstr(out, "Third item is cut") == NULL);
	CHECK(out && strstr(out, "document ends inside <description>"));
	free(out);
	/* Cut inside a tag. */
	out = parse_str("<rss><channel><title>T</title><item><title>A</title>"
	                "</item><item><title>B</title></item><item><lin",
	                NULL, &rc, NULL);
	CHECK(out && strstr(out, "\"nitems\":2"));
	CHECK_INT(rc, 0);
	free(out);
}

static void
test_entities_in_attributes_and_cdata(void)
{
	struct tr_parse_opts raw = {.raw_html = 1};
	int rc;
	char *out;

	out = parse_str(
	    "<rss><channel><item><title>x</title>"
	    "<enclosure url=\"http://e.example/a?b=1&c=2&amp;d&eacute;\""
	    " type=\"audio/mpeg\"/></item></channel></rss>",
	    NULL, &rc, NULL);
	CHECK(out && (strstr(out, "http://e.example/a?b=1&c=2&d%c3%a9") ||
	              strstr(out, "http://e.example/a?b=1&c=2&d\xc3\xa9")));
	free(out);
	/* The body as the document has it (not sanitized: see test_html). */
	out = parse_str("<rss><channel><item><description><![CDATA[a &nbsp; "
	                "&bogus; <b>]]></description></item></channel></rss>",
	                &raw, &rc, NULL);
	CHECK(out && strstr(out, "\"summary\":\"a &nbsp; &bogus; <b>\""));
	CHECK(out && strstr(out, "\"bozo\":false"));
	free(out);
}

static void
test_character_references(void)
{
	struct result r = {0};
	int rc;
	char *out;

	/* &#146; is windows-1252's quote in HTML; &#0;, a surrogate, a
	 * number past U+10FFFF and a control XML forbids are no character
	 * a document may carry: each becomes U+FFFD, as in HTML. */
	out = parse_str("<rss><channel><item><title>a&#146;b&#x2019;c&#0;d"
	                "&#65;&#xD800;&#1114112;&#x110000;&#1;&#xFFFE;e"
	                "</title></item></channel></rss>",
	                NULL, &rc, &r);
	CHECK_STR(r.first.title, "a\xe2\x80\x99"
	                         "b\xe2\x80\x99"
	                         "c\xef\xbf\xbd"
	                         "dA\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	                         "\xef\xbf\xbd\xef\xbf\xbd"
	                         "e");
	CHECK(out && strstr(out, "\"bozo\":true"));
	tr_article_free(&r.first);
	free(out);
}

static void
test_unescaped_html_in_description(void)
{
	struct tr_parse_opts raw = {.raw_html = 1};
	int rc;
	/* The body as the document has it (not sanitized: see test_html). */
	char *out = parse_str(
	    "<rss><channel><item><description>Hello <b>bold</b> &amp; "
	    "<img src=\"/x.png\"> done</description></item></channel></rss>",
	    &raw, &rc, NULL);

	/* Child elements are serialized back; <img> is closed by the
	 * cleaner at </description> and written as a void element. */
	CHECK(out && strstr(out, "\"summary\":\"Hello <b>bold</b> & "
	                         "<img src=\\\"/x.png\\\" /> done\""));
	free(out);
}

/* --- hostile inputs ---------------------------------------------------------
 */

static void
test_xxe_not_loaded(void)
{
	int rc;
	char *out = parse_fixture("hostile-xxe.xml", NULL, &rc);

	CHECK(out != NULL);
	CHECK(out && strstr(out, "root:") == NULL);
	CHECK(out && strstr(out, "\"title\":\"Secret: []\""));
	CHECK(out && strstr(out, "XXE declared & fine"));
	free(out);
}

static void
test_billion_laughs(void)
{
	struct tr_parse_opts o = {0};
	int rc;
	char *out;

	size_t len;
	char *data = read_file(DATA "/hostile-laughs.xml", &len);

	o.max_field = 4096;
	CHECK(data != NULL);
	out = data ? parse_split(data, len, &o, 0, &rc, NULL) : NULL;
	free(data);
	CHECK(out && strstr(out, "\"bozo\":true"));
	CHECK(out && strstr(out, "Before the bomb"));
	CHECK(out && strlen(out) < (2u << 20));
	free(out);
}

static void
test_deep_nesting(void)
{
	struct tr_buf b;
	size_t i;
	int rc;
	char *out;

	tr_buf_init(&b, (size_t)64 << 20);
	tr_buf_adds(&b, "<rss><channel><item><title>kept</title></item><item>"
	                "<description>");
	for (i = 0; i < 200000; i++)
		tr_buf_adds(&b, "<a>");
	out = parse_split(b.data, b.len, NULL, 0, &rc, NULL);
	CHECK(out && strstr(out, "\"nitems\":1"));
	CHECK(out && strstr(out, "nested too deeply"));
	free(out);
	tr_buf_free(&b);
}

static void
test_huge_field_capped(void)
{
	struct tr_parse_opts o = {0};
	struct result r = {0};
	struct tr_buf b;
	size_t i;
	int rc;
	char *out;

	o.max_field = 1000;
	tr_buf_init(&b, (size_t)64 << 20);
	tr_buf_adds(&b, "<rss><channel><item><title>");
	for (i = 0; i < 300000; i++)
		tr_buf_adds(&b, "\xc3\xa9"); /* 2-byte characters */
	tr_buf_adds(&b, "</title></item></channel></rss>");
	out = parse_split(b.data, b.len, &o, 0, &rc, &r);
	CHECK_INT(r.n, 1);
	CHECK(r.first.title && strlen(r.first.title) <= 1000);
	CHECK(r.first.title && strlen(r.first.title) >= 998);
	CHECK(r.first.title && strlen(r.first.title) % 2 == 0);
	CHECK(out && strstr(out, "size cap"));
	tr_article_free(&r.first);
	free(out);
	tr_buf_free(&b);
}

static void
test_item_cap_and_abort(void)
{
	struct tr_parse_opts o = {0};
	struct result r = {0};
	const char *doc = "<rss><channel><item><title>1</title></item>"
	                  "<item><title>2</title></item><item><title>3</title>"
	                  "</item></channel></rss>";
	int rc;
	char *out;

	o.max_items = 2;
	out = parse_str(doc, &o, &rc, &r);
	CHECK_INT(r.n, 2);
	CHECK_INT(rc, 0);
	CHECK(out && strstr(out, "item cap"));
	tr_article_free(&r.first);
	free(out);

	memset(&r, 0, sizeof(r));
	r.stop_after = 1;
	out = parse_str(doc, NULL, &rc, &r);
	CHECK_INT(r.n, 1);
	CHECK_INT(rc, TR_EABORT);
	tr_article_free(&r.first);
	free(out);
}

static void
test_garbage_and_empty(void)
{
	unsigned char junk[4096];
	unsigned int seed = 12345;
	size_t i;
	int rc, k;
	char *out;

	out = parse_split("", 0, NULL, 0, &rc, NULL);
	CHECK_INT(rc, TR_EPARSE);
	free(out);
	out = parse_str("<!DOCTYPE html><html><body><p>not a feed</p></body>"
	                "</html>",
	                NULL, &rc, NULL);
	CHECK_INT(rc, TR_EPARSE);
	CHECK(out && strstr(out, "\"root\":\"html\""));
	CHECK(out && strstr(out, "\"version\":\"unknown\""));
	free(out);
	for (k = 0; k < 50; k++) {
		for (i = 0; i < sizeof(junk); i++) {
			seed = seed * 1103515245u + 12345u;
			junk[i] = (unsigned char)(seed >> 16);
			if (k % 2 && (seed >> 8) % 5 == 0)
				junk[i] =
				    (unsigned char)"<>&;/!?[]\"'="[seed % 12];
		}
		out = parse_split((const char *)junk, sizeof(junk), NULL,
		                  (long)(seed % sizeof(junk)), &rc, NULL);
		CHECK(out != NULL);
		free(out);
	}
}

/* --- identity --------------------------------------------------------------
 */

static void
test_identity_stable(void)
{
	struct result a = {0}, b = {0};
	const char *doc = "<rss><channel><item><title>No guid, no link</title>"
	                  "<description>same</description><pubDate>Fri, 06 Dec "
	                  "2024 09:30:00 GMT</pubDate></item></channel></rss>";
	int rc;
	char *o1 = parse_str(doc, NULL, &rc, &a);
	char *o2 = parse_split(doc, strlen(doc), NULL, 17, &rc, &b);

	CHECK(a.first.id && strncmp(a.first.id, "urn:uuid:", 9) == 0);
	CHECK_STR(a.first.id, b.first.id);
	tr_article_free(&a.first);
	tr_article_free(&b.first);
	free(o1);
	free(o2);
	o1 = parse_str("<rss><channel><item><link>http://x.example/1</link>"
	               "</item></channel></rss>",
	               NULL, &rc, &a);
	CHECK_STR(a.first.id, "http://x.example/1");
	tr_article_free(&a.first);
	free(o1);
}

static void
test_feed_api_after_finish(void)
{
	struct tr_parser *p = NULL;
	const char *doc = "<feed xmlns=\"http://www.w3.org/2005/Atom\">"
	                  "<title>T</title><entry><id>1</id></entry></feed>";

	CHECK_INT(tr_parser_new(&p, NULL, NULL, NULL), 0);
	CHECK_INT(tr_parser_feed(p, doc, strlen(doc)), 0);
	CHECK_INT(tr_parser_finish(p), 0);
	CHECK_INT(tr_parser_finish(p), 0);
	CHECK_INT(tr_parser_nitems(p), 1);
	CHECK_STR(tr_parser_meta(p)->title, "T");
	CHECK_STR(tr_parser_root(p), "feed");
	CHECK_STR(tr_feed_version_name(TR_ATOM10), "atom10");
	CHECK_STR(tr_feed_version_name((enum tr_feed_version)99), "unknown");
	CHECK(tr_parser_warning(p, 5) == NULL);
	tr_parser_free(p);
	tr_parser_free(NULL);
}

/*
 * Inputs that once broke the parser (fuzzer finds), in regress/: no
 * crash, valid UTF-8 out, the same result however they are split.
 */
static void
test_regressions(void)
{
	DIR *d = opendir(DATA "/regress");
	struct dirent *e;
	int n = 0;

	CHECK(d != NULL);
	while (d && (e = readdir(d)) != NULL) {
		char path[512], *data, *whole, *part;
		size_t len, k;
		int rc, rc2, same = 1;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/regress/%s", DATA, e->d_name);
		if ((data = read_file(path, &len)) == NULL)
			continue;
		n++;
		whole = parse_split(data, len, NULL, 0, &rc, NULL);
		for (k = 1; k < len; k += 7) {
			part =
			    parse_split(data, len, NULL, (long)k, &rc2, NULL);
			same =
			    same && part && whole && strcmp(part, whole) == 0;
			free(part);
		}
		CHECK_STR_CASE(e->d_name, same ? "same" : "differs", "same");
		free(whole);
		free(data);
	}
	if (d)
		closedir(d);
	CHECK(n >= 1);
}

/*
 * An item's authors, categories and enclosures are its own: the parser
 * keeps their arrays from item to item, and an item with fewer (or none)
 * must not show the previous item's. Checked the fast way and through the
 * cleaner, and after a reset into a second document.
 */
struct lists_seen {
	size_t n;
	size_t n_authors[4], n_categories[4], n_enclosures[4];
	char first_cat[4][16], first_author[4][16], first_enc[4][40];
};

static int
on_lists(const struct tr_article *a, void *arg)
{
	struct lists_seen *s = arg;

	if (s->n < 4) {
		s->n_authors[s->n] = a->n_authors;
		s->n_categories[s->n] = a->n_categories;
		s->n_enclosures[s->n] = a->n_enclosures;
		snprintf(s->first_cat[s->n], sizeof(s->first_cat[0]), "%s",
		         a->n_categories ? a->categories[0] : "-");
		snprintf(s->first_author[s->n], sizeof(s->first_author[0]),
		         "%s", a->n_authors ? a->authors[0].name : "-");
		snprintf(s->first_enc[s->n], sizeof(s->first_enc[0]), "%s",
		         a->n_enclosures ? a->enclosures[0].url : "-");
	}
	s->n++;
	return 0;
}

static void
test_item_lists_not_carried_over(void)
{
	static const char doc[] =
	    "<rss version=\"2.0\"><channel><title>t</title>"
	    "<item><title>a</title><category>c1</category>"
	    "<category>c2</category><category>c3</category>"
	    "<dc:creator xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
	    "Ann</dc:creator><dc:creator "
	    "xmlns:dc=\"http://purl.org/dc/elements/1.1/\">Bo</dc:creator>"
	    "<enclosure url=\"http://e.example/1.mp3\" type=\"audio/mpeg\"/>"
	    "<enclosure url=\"http://e.example/2.mp3\"/></item>"
	    "<item><title>b</title></item>"
	    "<item><title>c</title><category>c9</category></item>"
	    "</channel></rss>";
	int clean;

	for (clean = 0; clean < 2; clean++) {
		struct tr_parse_opts o = {.always_clean = clean};
		struct tr_parser *p = NULL;
		struct lists_seen s;
		int pass;

		CHECK_INT(tr_parser_new(&p, &o, on_lists, &s), 0);
		if (p == NULL)
			return;
		for (pass = 0; pass < 2; pass++) {
			memset(&s, 0, sizeof(s));
			if (pass == 1)
				CHECK_INT(tr_parser_reset(p, NULL, NULL), 0);
			CHECK_INT(tr_parser_feed(p, doc, sizeof(doc) - 1), 0);
			CHECK_INT(tr_parser_finish(p), 0);
			CHECK_INT(s.n, 3);
			CHECK_INT(s.n_categories[0], 3);
			CHECK_INT(s.n_authors[0], 2);
			CHECK_INT(s.n_enclosures[0], 2);
			CHECK_STR(s.first_cat[0], "c1");
			CHECK_STR(s.first_author[0], "Ann");
			CHECK_STR(s.first_enc[0], "http://e.example/1.mp3");
			CHECK_INT(s.n_categories[1], 0);
			CHECK_INT(s.n_authors[1], 0);
			CHECK_INT(s.n_enclosures[1], 0);
			CHECK_INT(s.n_categories[2], 1);
			CHECK_STR(s.first_cat[2], "c9");
			CHECK_INT(s.n_authors[2], 0);
			CHECK_INT(s.n_enclosures[2], 0);
		}
		tr_parser_free(p);
	}
}

/* --- sanitizing deferred (defer_html) gives what inline gives ------------ */

#define DEFER_MAX 64

struct collected {
	struct tr_article a[DEFER_MAX];
	size_t n;
};

static int
on_collect(const struct tr_article *a, void *arg)
{
	struct collected *c = arg;

	if (c->n < DEFER_MAX && tr_article_copy(&c->a[c->n], a) == 0)
		c->n++;
	return 0;
}

/* A body callback that gives stored bodies for the item with id "kept". */
static int
reuse_kept(struct tr_article *a, void *arg)
{
	(void)arg;
	if (a->id == NULL || strcmp(a->id, "kept") != 0)
		return 0;
	free(a->summary);
	free(a->content);
	free(a->text);
	a->summary = strdup("<p>as stored</p>");
	a->content = NULL;
	a->text = strdup("as stored");
	return 1;
}

static size_t
count_warnings(const struct tr_parser *p, const char *what)
{
	size_t i, n = 0;

	for (i = 0; i < tr_parser_nwarnings(p); i++)
		n += strstr(tr_parser_warning(p, i), what) != NULL;
	return n;
}

/* Parses doc into c; returns how many "grew past" warnings it gave. */
static size_t
collect(struct collected *c, const char *doc, size_t len,
        const struct tr_parse_opts *o)
{
	struct tr_parser *p = NULL;
	size_t n;

	memset(c, 0, sizeof(*c));
	CHECK_INT(tr_parser_new(&p, o, on_collect, c), 0);
	if (p == NULL)
		return 0;
	tr_parser_feed(p, doc, len);
	tr_parser_finish(p);
	n = count_warnings(p, "grew past the size cap");
	tr_parser_free(p);
	return n;
}

static void
collected_free(struct collected *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		tr_article_free(&c->a[i]);
	c->n = 0;
}

/*
 * Parses doc inline and with defer_html, sanitizes the deferred items
 * with tr_parser_sanitize_article, and checks that both give the same
 * records: bodies, text, hashes; and as many size-cap notices. Returns
 * how many items were deferred.
 */
static size_t
check_deferred_same(const char *name, const char *doc, size_t len,
                    struct tr_parse_opts o)
{
	struct collected in, de;
	size_t i, warned, cut_total = 0, deferred = 0;
	const struct tr_html_policy *pol = o.html_policy;
	int failed_before = tr_test_failed_checks;

	warned = collect(&in, doc, len, &o);
	o.defer_html = 1;
	CHECK_INT(collect(&de, doc, len, &o), 0);
	CHECK_INT(de.n, in.n);
	for (i = 0; i < in.n && i < de.n; i++) {
		struct tr_article *x = &in.a[i], *y = &de.a[i];
		int cut = 0;

		CHECK_INT(x->bodies_raw, 0);
		CHECK(x->summary_base == NULL && x->content_base == NULL);
		if (y->bodies_raw) {
			deferred++;
			CHECK(y->text == NULL);
			CHECK_INT(tr_parser_sanitize_article(y, pol, o.max_field,
			                                     &cut), 0);
			cut_total += (size_t)cut;
		}
		CHECK_INT(y->bodies_raw, 0);
		CHECK(y->summary_base == NULL && y->content_base == NULL);
		if (tr_test_failed_checks != failed_before)
			printf("  (in %s, item %zu)\n", name, i - 1);
		failed_before = tr_test_failed_checks;
		CHECK_STR(y->summary ? y->summary : "(none)",
		          x->summary ? x->summary : "(none)");
		CHECK_STR(y->content ? y->content : "(none)",
		          x->content ? x->content : "(none)");
		CHECK_STR(y->text ? y->text : "(none)",
		          x->text ? x->text : "(none)");
		CHECK_STR(y->id, x->id);
		CHECK(y->raw_hash == x->raw_hash);
		CHECK_INT(y->bodies_as_stored, x->bodies_as_stored);
		CHECK(tr_article_content_hash(y) == tr_article_content_hash(x));
	}
	if (tr_test_failed_checks != failed_before)
		printf("  (in %s)\n", name);
	CHECK_INT(cut_total, warned);
	collected_free(&in);
	collected_free(&de);
	return deferred;
}

static void
test_deferred_sanitizing_same_as_inline(void)
{
	static const char base_rss[] =
	    "<rss version=\"2.0\"><channel><title>t</title>"
	    "<link>http://news.example/</link>"
	    "<item><guid>rel</guid><title>Budget &lt;b&gt;vote&lt;/b&gt;"
	    "</title><description>&lt;p&gt;See &lt;a href=\"/story/1\"&gt;"
	    "the story&lt;/a&gt; and &lt;img src=\"pic.jpg\"&gt;"
	    "&lt;script&gt;alert(1)&lt;/script&gt;&lt;/p&gt;</description>"
	    "</item>"
	    "<item><guid>plain</guid><description>Council meets on "
	    "Tuesday at noon</description></item>"
	    "<item><guid>kept</guid><description>&lt;p&gt;old "
	    "text&lt;/p&gt;</description></item>"
	    "<item><guid>none</guid><title>no body</title></item>"
	    "</channel></rss>";
	static const char atom_base[] =
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\" "
	    "xml:base=\"http://a.example/feed/\"><title>t</title>"
	    "<entry xml:base=\"/posts/2026/\"><id>e1</id><title>e</title>"
	    "<summary type=\"html\">&lt;a href=\"one\"&gt;1&lt;/a&gt;"
	    "</summary><content type=\"xhtml\" xml:base=\"/other/\">"
	    "<div xmlns=\"http://www.w3.org/1999/xhtml\"><p><a "
	    "href=\"two\">2</a> <em>x</em></p></div></content></entry>"
	    "<entry><id>e2</id><title>f</title><content type=\"html\">"
	    "&lt;table&gt;&lt;tr&gt;&lt;td&gt;cell&lt;/table&gt;"
	    "&lt;iframe src=\"https://v.example/e/1\"&gt;&lt;/iframe&gt;"
	    "</content></entry></feed>";
	struct tr_buf big;
	struct tr_parse_opts o;
	static const char *const hosts[] = {"v.example"};
	struct tr_html_policy embed = {TR_HTML_DEFAULT, hosts, 1};
	struct tr_html_policy text = {TR_HTML_TEXT, NULL, 0};
	size_t i;

	memset(&o, 0, sizeof(o));
	o.base_url = "http://news.example/feed.xml";
	CHECK_INT(check_deferred_same("rss", base_rss, sizeof(base_rss) - 1,
	                              o), 3);
	o.body_cb = reuse_kept; /* one item's bodies reused: not deferred */
	CHECK_INT(check_deferred_same("rss+reuse", base_rss,
	                              sizeof(base_rss) - 1, o), 2);
	o.body_cb = NULL;
	CHECK_INT(check_deferred_same("atom", atom_base, sizeof(atom_base) - 1,
	                              o), 2);
	o.html_policy = &embed;
	CHECK_INT(check_deferred_same("atom+embed", atom_base,
	                              sizeof(atom_base) - 1, o), 2);
	o.html_policy = &text;
	CHECK_INT(check_deferred_same("atom+text", atom_base,
	                              sizeof(atom_base) - 1, o), 2);
	o.html_policy = NULL;
	/* A body within the field cap whose sanitized form grows past it:
	 * short relative links against a long xml:base. */
	o.max_field = 1000;
	tr_buf_init(&big, 1 << 20);
	tr_buf_adds(&big, "<feed xmlns=\"http://www.w3.org/2005/Atom\">"
	            "<title>t</title><entry xml:base=\"http://b.example/");
	for (i = 0; i < 300; i++)
		tr_buf_adds(&big, "long/");
	tr_buf_adds(&big, "\"><id>big</id><summary type=\"html\">"
	            "short &lt;b&gt;summary&lt;/b&gt;</summary>"
	            "<content type=\"html\"><![CDATA[");
	for (i = 0; i < 60; i++)
		tr_buf_adds(&big, "<a href=x>y</a>");
	tr_buf_adds(&big, "]]></content></entry>"
	            "<entry><id>small</id><content type=\"html\">"
	            "&lt;i&gt;fine&lt;/i&gt;</content></entry></feed>");
	CHECK_INT(check_deferred_same("over-cap", big.data, big.len, o), 2);
	{
		struct collected c;

		CHECK_INT(collect(&c, big.data, big.len, &o), 1);
		CHECK(c.n == 2 && c.a[0].content == NULL);
		CHECK(c.n == 2 && c.a[0].text != NULL &&
		      strcmp(c.a[0].text, "short summary") == 0);
		collected_free(&c);
	}
	tr_buf_free(&big);
}

/* Every fixture of tests/data/parse, deferred and inline: the same. */
static void
test_deferred_fixtures_same_as_inline(void)
{
	DIR *d = opendir(DATA);
	struct dirent *e;
	size_t n = 0, deferred = 0;

	CHECK(d != NULL);
	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		char path[512], base[512], ctype[512];
		struct tr_parse_opts o;
		size_t len = 0;
		char *doc;

		if (!is_fixture(e->d_name))
			continue;
		snprintf(path, sizeof(path), DATA "/%s", e->d_name);
		if ((doc = read_file(path, &len)) == NULL)
			continue;
		read_opts(path, &o, base, ctype, sizeof(base));
		deferred += check_deferred_same(e->d_name, doc, len, o);
		free(doc);
		n++;
	}
	closedir(d);
	CHECK(n > 10);
	CHECK(deferred > 10);
}

TR_TESTS(test_fixtures_split_everywhere, test_reset_reuses_parser,
         test_item_lists_not_carried_over, test_fast_way_same_as_cleaner,
         test_end_tag_whitespace_keeps_lines,
         test_regressions, test_rss20_fields, test_rss10_and_090, test_versions,
         test_atom10_fields, test_atom03_modes, test_namespaces_by_uri,
         test_broken_recovered, test_truncation_drops_partial_item,
         test_entities_in_attributes_and_cdata, test_character_references,
         test_unescaped_html_in_description, test_xxe_not_loaded,
         test_billion_laughs, test_deep_nesting, test_huge_field_capped,
         test_item_cap_and_abort, test_garbage_and_empty, test_identity_stable,
         test_feed_api_after_finish, test_deferred_sanitizing_same_as_inline,
         test_deferred_fixtures_same_as_inline)
