/*
 * test_parse_recovery.c — how the parser reads documents that are not
 * well-formed or not in the usual shape, a table of cases per behaviour:
 * undeclared namespace prefixes, character references, XML declarations,
 * cut documents, old and odd formats, text constructs, encodings; and
 * that a result never depends on where the input was split, also for
 * documents larger than the fast way holds back.
 *
 * Every case is parsed whole, through the cleaner alone (always_clean),
 * and split at every byte offset; all must give the same result.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse_int.h"
#include "runner.h"
#include "tributary/article.h"
#include "tributary/buf.h"
#include "tributary/error.h"
#include "tributary/parse.h"

/* --- a parse result as one string ---------------------------------------- */

struct res {
	struct tr_buf out;
	size_t n;
};

static void
add_field(struct tr_buf *b, const char *key, const char *v)
{
	if (v == NULL)
		return;
	tr_buf_adds(b, key);
	tr_buf_adds(b, "=[");
	tr_buf_adds(b, v);
	tr_buf_adds(b, "] ");
}

static int
on_item(const struct tr_article *a, void *arg)
{
	struct res *r = arg;

	r->n++;
	tr_buf_adds(&r->out, "{");
	add_field(&r->out, "title", a->title);
	add_field(&r->out, "link", a->link);
	add_field(&r->out, "guid", a->guid);
	add_field(&r->out, "author", a->author);
	add_field(&r->out, "summary", a->summary);
	add_field(&r->out, "content", a->content);
	tr_buf_adds(&r->out, "} ");
	return 0;
}

/*
 * Parses doc (len bytes) fed in pieces: split 0 whole, split k as [0,k)
 * and [k,len), split -1 in pieces of step bytes. Returns the result
 * string (malloc'ed): items, then version, bozo, language and warnings.
 */
static char *
parse_doc(const char *doc, size_t len, const char *ctype, int always_clean,
          long split, size_t step)
{
	struct tr_parse_opts o = {.content_type = ctype,
	                          .always_clean = always_clean};
	struct tr_parser *p = NULL;
	struct res r;
	char num[64];
	size_t i, n;

	memset(&r, 0, sizeof(r));
	tr_buf_init(&r.out, (size_t)256 << 20);
	if (tr_parser_new(&p, &o, on_item, &r) != 0)
		return NULL;
	if (split == 0)
		tr_parser_feed(p, doc, len);
	else if (split > 0) {
		if (tr_parser_feed(p, doc, (size_t)split) == 0)
			tr_parser_feed(p, doc + split, len - (size_t)split);
	} else
		for (i = 0; i < len; i += n) {
			n = len - i < step ? len - i : step;
			if (tr_parser_feed(p, doc + i, n) != 0)
				break;
		}
	tr_parser_finish(p);
	tr_buf_adds(&r.out, "version=");
	tr_buf_adds(&r.out, tr_feed_version_name(tr_parser_version(p)));
	snprintf(num, sizeof(num), " bozo=%d n=%zu ", tr_parser_bozo(p),
	         tr_parser_nitems(p));
	tr_buf_adds(&r.out, num);
	add_field(&r.out, "encoding", tr_parser_encoding(p));
	add_field(&r.out, "lang", tr_parser_meta(p)->language);
	add_field(&r.out, "ftitle", tr_parser_meta(p)->title);
	for (i = 0; i < tr_parser_nwarnings(p); i++)
		add_field(&r.out, "w", tr_parser_warning(p, i));
	tr_parser_free(p);
	return tr_buf_detach(&r.out);
}

/*
 * The result of doc, checked to be the same through the cleaner alone
 * and split at every offset (both ways). Returns it (malloc'ed).
 */
static char *
parse_all_ways(const char *name, const char *doc, const char *ctype)
{
	size_t len = strlen(doc), k;
	char *whole = parse_doc(doc, len, ctype, 0, 0, 0), *other;
	int way, bad = 0;

	if (whole == NULL)
		return NULL;
	for (way = 0; way < 2; way++)
		for (k = way; k < len && bad < 3; k++) {
			other = parse_doc(doc, len, ctype, way, (long)k, 0);
			if (other == NULL || strcmp(other, whole) != 0) {
				printf("  [%s] %s split at %zu differs:\n"
				       "   whole %s\n   split %s\n",
				       name, way ? "cleaner" : "fast", k, whole,
				       other ? other : "(null)");
				tr_test_failed_checks++;
				bad++;
			}
			free(other);
		}
	return whole;
}

/* One case of a table: a document and what its result must hold. */
struct pcase {
	const char *name;
	const char *doc;
	const char *want[4];   /* substrings of the result */
	const char *unwant[2]; /* substrings it must not have */
};

static void
run_cases(const struct pcase *cases, size_t n, const char *ctype)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		char *got = parse_all_ways(cases[i].name, cases[i].doc, ctype);

		for (k = 0; k < 4 && cases[i].want[k]; k++)
			if (got == NULL || !strstr(got, cases[i].want[k])) {
				printf("  [%s] wanted %s\n   in %s\n",
				       cases[i].name, cases[i].want[k],
				       got ? got : "(null)");
				tr_test_failed_checks++;
			}
		for (k = 0; k < 2 && cases[i].unwant[k]; k++)
			if (got && strstr(got, cases[i].unwant[k])) {
				printf("  [%s] did not want %s\n   in %s\n",
				       cases[i].name, cases[i].unwant[k], got);
				tr_test_failed_checks++;
			}
		free(got);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define RSS(ns, body)                                                          \
	"<?xml version=\"1.0\"?><rss version=\"2.0\"" ns "><channel>"          \
	"<title>T</title><link>http://e.example/</link>" body                  \
	"</channel></rss>"

/* --- undeclared namespace prefixes --------------------------------------- */

static void
test_undeclared_prefixes(void)
{
	static const struct pcase cases[] = {
	    {"content:encoded",
	     RSS("", "<item><title>A</title><content:encoded>&lt;p&gt;body"
	             "</content:encoded></item>"),
	     {"content=[<p>body", "bozo=1 n=1",
	      "undeclared namespace prefix content: bound to "
	      "http://purl.org/rss/1.0/modules/content/"},
	     {0}},
	    {"dc:creator",
	     RSS("", "<item><title>A</title><dc:creator>Jo Doe</dc:creator>"
	             "</item>"),
	     {"author=[Jo Doe]", "bozo=1 n=1", "prefix dc: bound"},
	     {0}},
	    {"atom:link empty element",
	     RSS("", "<atom:link href=\"http://e.example/feed\" rel=\"self\""
	             "/><item><title>A</title></item>"),
	     {"bozo=1 n=1", "prefix atom: bound"},
	     {0}},
	    {"media and itunes in one item",
	     RSS("", "<item><title>A</title><media:content url=\"http://e."
	             "example/a.mp4\"/><itunes:duration>3:00</itunes:"
	             "duration></item>"),
	     {"bozo=1 n=1", "prefix media:", "prefix itunes:"},
	     {0}},
	    {"unknown prefix: an unknown element",
	     RSS("", "<item><title>A</title><foo:title>not it</foo:title>"
	             "</item>"),
	     {"{title=[A] ", "bozo=1 n=1", "prefix foo: its elements"},
	     {"not it"}},
	    {"unknown prefix on an attribute",
	     RSS("", "<item bar:x=\"1\"><title>A</title></item>"),
	     {"{title=[A] ", "bozo=1 n=1", "prefix bar:"},
	     {0}},
	    {"declared on the root: nothing to repair",
	     RSS(" xmlns:dc=\"http://purl.org/dc/elements/1.1/\"",
	         "<item><title>A</title><dc:creator>Jo</dc:creator></item>"),
	     {"author=[Jo]", "bozo=0 n=1"},
	     {"undeclared"}},
	    {"declared on the item, used in the next one",
	     RSS("", "<item xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
	             "<title>A</title><dc:creator>Jo</dc:creator></item>"
	             "<item><title>B</title><dc:creator>Al</dc:creator>"
	             "</item>"),
	     {"author=[Jo]", "author=[Al]", "bozo=1 n=2", "prefix dc:"},
	     {0}},
	    {"one repair serves the descendants",
	     RSS("", "<item><title>A</title><media:group><media:content "
	             "url=\"http://e.example/v.mp4\"/></media:group></item>"),
	     {"bozo=1 n=1", "prefix media:"},
	     {0}},
	    {"prefix declared with another URI is left alone",
	     RSS(" xmlns:dc=\"http://example.org/not-dc\"",
	         "<item><title>A</title><dc:creator>Jo</dc:creator></item>"),
	     {"bozo=0 n=1"},
	     {"author=[Jo]", "undeclared"}},
	    {"rdf:RDF root without its namespace declared",
	     "<rdf:RDF xmlns=\"http://purl.org/rss/1.0/\"><channel rdf:"
	     "about=\"http://e.example/\"><title>T</title></channel><item "
	     "rdf:about=\"http://e.example/a\"><title>A</title><link>http://"
	     "e.example/a</link></item></rdf:RDF>",
	     {"version=rss10 bozo=1 n=1", "prefix rdf: bound"},
	     {0}},
	    {"cut inside a start tag using a prefix",
	     "<rss version=\"2.0\"><channel><item><title>A</title></item>"
	     "<item><title>B</title><dc:creator",
	     {"{title=[A] ", "bozo=1 n=1", "prefix dc:"},
	     {0}},
	};

	run_cases(cases, N(cases), NULL);
}

/* Every URI fits the room tr_clean_bound reserves for it. */
static void
test_known_prefixes_fit_bound(void)
{
	const char *p, *prev = "";
	size_t i;

	for (i = 0; (p = tr_clean_known_prefix(NULL, i)) != NULL; i++) {
		const char *uri = tr_clean_known_prefix(p, 0);

		CHECK(strcmp(prev, p) < 0); /* sorted for bsearch */
		CHECK(uri != NULL);
		if (uri && strlen(uri) > 9 * strlen(p) + 29)
			printf("  %s: URI too long for the bound\n", p);
		CHECK(uri && strlen(uri) <= 9 * strlen(p) + 29);
		prev = p;
	}
	CHECK(i >= 20);
	CHECK(tr_clean_known_prefix("nosuch", 0) == NULL);
}

/* --- character references ------------------------------------------------ */

static void
test_character_reference_repairs(void)
{
	static const struct pcase cases[] = {
	    {"&#X41; in a title",
	     RSS("", "<item><title>&#X41;&#X42;c</title></item>"),
	     {"{title=[ABc] ", "bozo=1", "&#X... read as &#x..."},
	     {0}},
	    {"&#X in an attribute",
	     RSS("", "<item><title>A</title><enclosure url=\"http://e."
	             "example/&#X61;.mp3\" type=\"audio/mpeg\"/></item>"),
	     {"bozo=1 n=1", "&#X... read as &#x..."},
	     {0}},
	    {"&#X2019; beyond ASCII",
	     RSS("", "<item><title>it&#X2019;s</title></item>"),
	     {"{title=[it\xe2\x80\x99s] ", "bozo=1"},
	     {0}},
	    {"&#x41; needs no repair",
	     RSS("", "<item><title>&#x41;</title></item>"),
	     {"{title=[A] ", "bozo=0"},
	     {0}},
	    {"&#X0; is still no character: U+FFFD",
	     RSS("", "<item><title>a&#X0;b</title></item>"),
	     {"{title=[a\xef\xbf\xbd" "b] ", "bozo=1"},
	     {0}},
	};

	run_cases(cases, N(cases), NULL);
}

/* --- the XML declaration --------------------------------------------------- */

static void
test_xml_declaration_repairs(void)
{
	static const struct pcase cases[] = {
	    {"numeric encoding name",
	     "<?xml version=\"1.0\" encoding=\"437\"?><rss version=\"2.0\">"
	     "<channel><title>T</title><item><title>A</title></item>"
	     "</channel></rss>",
	     {"{title=[A] ", "bozo=0 n=1", "encoding name XML does not allow"},
	     {0}},
	    {"encoding name with a space",
	     "<?xml version=\"1.0\" encoding=\"utf 8\"?><rss><channel>"
	     "<item><title>A</title></item></channel></rss>",
	     {"{title=[A] ", "bozo=1 n=1"},
	     {0}},
	    {"no version",
	     "<?xml encoding=\"utf-8\"?><rss><channel><item><title>A</title>"
	     "</item></channel></rss>",
	     {"{title=[A] ", "bozo=1 n=1"},
	     {0}},
	    {"line breaks inside are kept",
	     "<?xml version=\"1.0\"\n encoding=\"850\"\n?>\n<rss><channel>"
	     "<item><title>A</title>\n&bogus;</item></channel></rss>",
	     {"{title=[A] ", "line 5, column 7: undefined entity",
	      "line 3, column 2: encoding name XML does not allow"},
	     {0}},
	    {"a good declaration is left alone",
	     "<?xml version='1.0' encoding='UTF-8' standalone='yes' ?><rss>"
	     "<channel><item><title>A</title></item></channel></rss>",
	     {"{title=[A] ", "bozo=0 n=1"},
	     {0}},
	    {"any version expat reads is left alone",
	     "<?xml version=\"2.0\" encoding=\"UTF_8\"?><rss><channel>"
	     "<item><title>A</title></item></channel></rss>",
	     {"{title=[A] ", "bozo=0 n=1"},
	     {0}},
	    {"a version with a space",
	     "<?xml version=\"1 0\"?><rss><channel><item><title>A</title>"
	     "</item></channel></rss>",
	     {"{title=[A] ", "bozo=1 n=1", "declaration not well-formed"},
	     {0}},
	    {"standalone before encoding",
	     "<?xml version=\"1.0\" standalone=\"yes\" encoding=\"utf-8\"?>"
	     "<rss><channel><item><title>A</title></item></channel></rss>",
	     {"{title=[A] ", "bozo=1 n=1", "declaration not well-formed"},
	     {0}},
	    {"a stylesheet PI first is left alone",
	     "<?xml-stylesheet href=\"a.xsl\" type=\"text/xsl\"?><rss><channel>"
	     "<item><title>A</title></item></channel></rss>",
	     {"{title=[A] ", "bozo=0 n=1"},
	     {0}},
	};

	run_cases(cases, N(cases), NULL);
}

/* --- cut documents: every repair says so ----------------------------------- */

static void
test_repairs_at_the_end_are_reported(void)
{
	static const struct pcase cases[] = {
	    {"final > missing",
	     RSS("", "<item><title>A</title></item>") "\n",
	     {"bozo=0"},
	     {0}},
	    {"final > missing (cut)",
	     "<rss version=\"2.0\"><channel><item><title>A</title></item>"
	     "</channel></rss",
	     {"{title=[A] ", "bozo=1 n=1", "ends inside the end tag </rss"},
	     {0}},
	    {"cut in the last end tag's name",
	     "<rss version=\"2.0\"><channel><item><title>A</title></item>"
	     "</channel></rs",
	     {"{title=[A] ", "bozo=1 n=1", "ends inside the end tag </rs"},
	     {0}},
	    {"cut after </",
	     "<rss version=\"2.0\"><channel><item><title>A</title></item>"
	     "</channel></",
	     {"{title=[A] ", "bozo=1 n=1"},
	     {0}},
	    {"cut in a start tag",
	     "<rss version=\"2.0\"><channel><item><title>A</title></item>"
	     "</channel><foo a=\"1\"",
	     {"bozo=1 n=1"},
	     {0}},
	    {"cut in a comment",
	     "<rss version=\"2.0\"><channel><item><title>A</title></item>"
	     "</channel></rss><!-- bye",
	     {"bozo=1 n=1", "inside a comment"},
	     {0}},
	};

	run_cases(cases, N(cases), NULL);
}

/* --- formats by root element and namespace -------------------------------- */

#define ITEM "<item><title>A</title><link>http://e.example/a</link></item>"
#define ENTRY                                                                  \
	"<entry><title>A</title><id>tag:e.example,2004:a</id><link "         \
	"href=\"http://e.example/a\"/></entry>"
#define RDF_NS "xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\""

static void
test_formats_recognised(void)
{
	static const struct pcase cases[] = {
	    {"RSS 0.90, items beside the channel",
	     "<rdf:RDF " RDF_NS " xmlns=\"http://my.netscape.com/rdf/simple/"
	     "0.9/\"><channel><title>T</title></channel>" ITEM "</rdf:RDF>",
	     {"version=rss090 bozo=0 n=1", "{title=[A] "},
	     {0}},
	    {"RSS 0.90 declared, no channel, no item",
	     "<rdf:RDF " RDF_NS " xmlns=\"http://my.netscape.com/rdf/simple/"
	     "0.9/\"><image><title>x</title></image></rdf:RDF>",
	     {"version=rss090 bozo=0 n=0"},
	     {0}},
	    {"RSS 1.0, items but no channel",
	     "<rdf:RDF " RDF_NS " xmlns=\"http://purl.org/rss/1.0/\">" ITEM
	     ITEM "</rdf:RDF>",
	     {"version=rss10 bozo=0 n=2"},
	     {0}},
	    {"RSS 1.0 declared with a prefix, nothing else",
	     "<rdf:RDF " RDF_NS " xmlns:rss=\"http://purl.org/rss/1.0/\">"
	     "<rss:image/></rdf:RDF>",
	     {"version=rss10 bozo=0 n=0"},
	     {0}},
	    {"RSS 2.0 in userland's namespace",
	     "<rss version=\"2.0\" xmlns=\"http://backend.userland.com/rss\">"
	     "<channel><title>T</title>" ITEM "</channel></rss>",
	     {"version=rss20 bozo=0 n=1", "ftitle=[T]", "{title=[A] "},
	     {0}},
	    {"RSS 2.0 in Harvard's namespace",
	     "<rss version=\"2.0\" xmlns=\"http://blogs.law.harvard.edu/tech/"
	     "rss\"><channel><title>T</title>" ITEM "</channel></rss>",
	     {"version=rss20 bozo=0 n=1", "ftitle=[T]"},
	     {0}},
	    {"RSS 0.92 in a userland variant",
	     "<rss version=\"0.92\" xmlns=\"http://backend.userland.com/"
	     "rss092\"><channel><title>T</title>" ITEM "</channel></rss>",
	     {"version=rss092 bozo=0 n=1", "ftitle=[T]"},
	     {0}},
	    {"RSS in a namespace of its own (rss2.1 style)",
	     "<rss version=\"2.0\" xmlns=\"http://purl.org/net/rss2.1/\">"
	     "<channel><title>T</title>" ITEM "</channel></rss>",
	     {"version=rss20 bozo=0 n=1", "ftitle=[T]"},
	     {0}},
	    {"Atom 0.1 (purl.org/echo)",
	     "<feed version=\"0.1\" xmlns=\"http://purl.org/echo/\"><title>T"
	     "</title>" ENTRY "</feed>",
	     {"version=atom01 bozo=0 n=1", "ftitle=[T]", "{title=[A] "},
	     {0}},
	    {"Atom 0.2 (purl.org/pie)",
	     "<feed version=\"0.2\" xmlns=\"http://purl.org/pie/\"><title>T"
	     "</title>" ENTRY "</feed>",
	     {"version=atom02 bozo=0 n=1"},
	     {0}},
	    {"pre-standard Atom without a version",
	     "<feed xmlns=\"http://example.com/newformat#\"><title>T</title>"
	     ENTRY "</feed>",
	     {"version=atom bozo=0 n=1", "link=[http://e.example/a]"},
	     {0}},
	    {"pre-standard Atom saying 0.3",
	     "<feed version=\"0.3\" xmlns=\"http://example.com/necho\">"
	     "<title>T</title>" ENTRY "</feed>",
	     {"version=atom03 bozo=0 n=1"},
	     {0}},
	    {"a lone pre-standard entry",
	     "<entry xmlns=\"uri/of/echo/namespace#\"><title>A</title><id>x"
	     "</id></entry>",
	     {"version=atom bozo=0 n=1"},
	     {0}},
	    {"Atom 1.0 still atom10",
	     "<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title>"
	     ENTRY "</feed>",
	     {"version=atom10 bozo=0 n=1"},
	     {0}},
	    {"an unknown root stays unknown",
	     "<html xmlns=\"http://www.w3.org/1999/xhtml\"><body>x</body>"
	     "</html>",
	     {"version=unknown bozo=0 n=0"},
	     {0}},
	};

	run_cases(cases, N(cases), NULL);
	/* Reused parser: a namespace read as RSS's in one document is not
	 * in the next. */
	{
		const char *d1 = "<rss xmlns=\"urn:x\"><channel>" ITEM
		                 "</channel></rss>";
		const char *d2 = "<r:feed xmlns:r=\"urn:x\"><r:item><r:title>"
		                 "A</r:title></r:item></r:feed>";
		struct res r;
		struct tr_parser *p;

		memset(&r, 0, sizeof(r));
		tr_buf_init(&r.out, 1 << 20);
		CHECK(tr_parser_new(&p, NULL, on_item, &r) == 0);
		tr_parser_feed(p, d1, strlen(d1));
		CHECK_INT(tr_parser_finish(p), 0);
		CHECK_INT(r.n, 1);
		CHECK(tr_parser_reset(p, NULL, NULL) == 0);
		tr_parser_feed(p, d2, strlen(d2));
		CHECK_INT(tr_parser_finish(p), TR_EPARSE);
		CHECK_INT(r.n, 1);
		tr_parser_free(p);
		tr_buf_free(&r.out);
	}
}

/* --- text constructs ------------------------------------------------------ */

#define ATOM(body)                                                             \
	"<feed xmlns=\"http://www.w3.org/2005/Atom\"><title>T</title>"       \
	"<id>tag:e.example,2024:f</id><entry><id>tag:e.example,2024:1</id>" \
	body "</entry></feed>"
#define XHTML_DIV "<div xmlns=\"http://www.w3.org/1999/xhtml\">"

static void
test_text_constructs(void)
{
	static const struct pcase cases[] = {
	    {"base64 content of a binary type",
	     ATOM("<title>A</title><content type=\"application/octet-stream"
	          "\">RXhhbXBsZSA8Yj5UZXN0PC9iPg==</content>"),
	     {"content=[Example &lt;b&gt;Test&lt;/b&gt;]"},
	     {"RXhh"}},
	    {"base64 title of an image type",
	     ATOM("<title type=\"image/x-text\">QSAmIEI=</title>"),
	     {"{title=[A & B] "},
	     {0}},
	    {"text/* is not base64",
	     ATOM("<title>A</title><content type=\"text/csv\">a,b&lt;c"
	          "</content>"),
	     {"content=[a,b&lt;c]"},
	     {0}},
	    {"an XML type is markup, not base64",
	     ATOM("<title>A</title><content type=\"application/xml\"><r><b>"
	          "x</b></r></content>"),
	     {"<b>x</b>"},
	     {0}},
	    {"Atom 0.3 keeps mode (no base64 by type)",
	     "<feed version=\"0.3\" xmlns=\"http://purl.org/atom/ns#\">"
	     "<entry><title>A</title><id>x</id><content type=\"application/"
	     "octet-stream\">QUJD</content></entry></feed>",
	     {"content=[QUJD]"},
	     {0}},
	    {"html in a div wrapper: the escaped markup is markup",
	     ATOM("<title>A</title><content type=\"html\">" XHTML_DIV
	          "&lt;b&gt;bold&lt;/b&gt; x</div></content>"),
	     {"content=[<b>bold</b> x]"},
	     {"&lt;b&gt;", "<div"}},
	    {"html in a wrapper after whitespace, no namespace",
	     ATOM("<title>A</title><summary type=\"html\">\n  <div>&lt;i&gt;"
	          "it&lt;/i&gt;</div>\n</summary>"),
	     {"summary=[<i>it</i>]"},
	     {0}},
	    {"html with a child other than a wrapper",
	     ATOM("<title>A</title><content type=\"html\">a <span>&lt;em&gt;"
	          "b&lt;/em&gt;</span></content>"),
	     {"<em>b</em>"},
	     {"&lt;em"}},
	    {"xhtml keeps xml:lang's prefix",
	     ATOM("<title>A</title><content type=\"xhtml\">" XHTML_DIV
	          "<p xml:lang=\"fr\">oui</p></div></content>"),
	     {"oui</p>"},
	     {" lang=\"fr\""}},
	    {"C1 controls in text read as windows-1252",
	     RSS("", "<item><title>it\xc2\x92s \xc2\x93q\xc2\x94</title>"
	             "<description>a\xc2\x96" "b \xc2\x80</description>"
	             "</item>"),
	     {"{title=[it\xe2\x80\x99s \xe2\x80\x9cq\xe2\x80\x9d] ",
	      "summary=[a\xe2\x80\x93" "b \xe2\x82\xac]"},
	     {"\xc2\x92"}},
	    {"C1 reference and character agree",
	     RSS("", "<item><title>&#146;\xc2\x92</title></item>"),
	     {"{title=[\xe2\x80\x99\xe2\x80\x99] "},
	     {0}},
	    {"xml:lang en_US",
	     "<feed xmlns=\"http://www.w3.org/2005/Atom\" xml:lang=\"en_US\">"
	     "<title>T</title></feed>",
	     {"lang=[en-US]"},
	     {0}},
	    {"xml:lang on an RSS root",
	     "<rss version=\"2.0\" xml:lang=\"de_AT\"><channel><title>T</title>"
	     "</channel></rss>",
	     {"lang=[de-AT]"},
	     {0}},
	    {"<language> wins over the root's xml:lang",
	     "<rss version=\"2.0\" xml:lang=\"de\"><channel><language>fr_CA"
	     "</language></channel></rss>",
	     {"lang=[fr-CA]"},
	     {0}},
	    {"xml:lang on an RDF root",
	     "<rdf:RDF " RDF_NS " xmlns=\"http://purl.org/rss/1.0/\" "
	     "xml:lang=\"en_GB\">" ITEM "</rdf:RDF>",
	     {"lang=[en-GB]", "version=rss10"},
	     {0}},
	    {"language pt_BR",
	     RSS("", "<language>pt_BR</language>"),
	     {"lang=[pt-BR]"},
	     {0}},
	};

	run_cases(cases, N(cases), NULL);
}

/*
 * The bodies as the document has them (raw_html: before sanitizing,
 * which may drop SVG): xlink: and xml: prefixes kept on attributes.
 */
static void
test_xhtml_attribute_prefixes_raw(void)
{
	static const struct {
		const char *doc, *want;
	} t[] = {
	    {ATOM("<title>A</title><content type=\"xhtml\">" XHTML_DIV
	          "<svg xmlns=\"http://www.w3.org/2000/svg\" xmlns:xlink="
	          "\"http://www.w3.org/1999/xlink\"><a xlink:href=\"http://"
	          "e.example/\" xlink:type=\"simple\">t</a></svg></div>"
	          "</content>"),
	     "<svg><a xlink:href=\"http://e.example/\" xlink:type=\"simple\">"
	     "t</a></svg>"},
	    {ATOM("<title>A</title><content type=\"xhtml\">" XHTML_DIV
	          "<p xml:lang=\"fr\" lang=\"fr\">oui</p></div></content>"),
	     "<p xml:lang=\"fr\" lang=\"fr\">oui</p>"},
	    {ATOM("<title>A</title><content type=\"xhtml\">" XHTML_DIV
	          "<math xmlns=\"http://www.w3.org/1998/Math/MathML\"><mi "
	          "xml:space=\"preserve\" other:x=\"1\" xmlns:other=\"urn:o\">"
	          "x</mi></math></div></content>"),
	     "<math><mi xml:space=\"preserve\" x=\"1\">x</mi></math>"},
	};
	struct tr_parse_opts o = {.raw_html = 1};
	size_t i;

	for (i = 0; i < N(t); i++) {
		struct res r;
		struct tr_parser *p = NULL;

		memset(&r, 0, sizeof(r));
		tr_buf_init(&r.out, 1 << 20);
		CHECK(tr_parser_new(&p, &o, on_item, &r) == 0);
		tr_parser_feed(p, t[i].doc, strlen(t[i].doc));
		tr_parser_finish(p);
		if (r.out.data == NULL || strstr(r.out.data, t[i].want) == NULL) {
			printf("  wanted %s\n   in %s\n", t[i].want,
			       r.out.data ? r.out.data : "(null)");
			tr_test_failed_checks++;
		}
		tr_parser_free(p);
		tr_buf_free(&r.out);
	}
}

/* --- chunking: documents larger than the fast way holds -------------------- */

/*
 * A feed whose second item has k child elements (with attributes,
 * references and prefixes, so that chunk borders fall inside every kind
 * of markup), large enough to pass the parser's 1 MiB hold limit.
 */
static char *
big_item_doc(size_t k, size_t *len)
{
	struct tr_buf b;
	size_t i;

	tr_buf_init(&b, (size_t)64 << 20);
	tr_buf_adds(&b, "<?xml version=\"1.0\"?>\n<rss version=\"2.0\" "
	                "xmlns:x=\"urn:x\"><channel><title>Big</title>\n"
	                "<item><title>one</title><link>http://e.example/1"
	                "</link></item>\n<item><title>big</title><link>"
	                "http://e.example/2</link>\n");
	for (i = 0; i < k; i++)
		tr_buf_printf(&b,
		              "<x:part n=\"%zu\" note='a &amp; b'>value %zu "
		              "&lt;&#233;&gt; \xc3\xa9t\xc3\xa9</x:part>%s",
		              i, i * 7, i % 3 ? "" : "\n");
	tr_buf_adds(&b, "<description>end of the big one</description>"
	                "</item>\n<item><title>three</title><link>http://"
	                "e.example/3</link></item></channel></rss>\n");
	*len = b.len;
	return tr_buf_detach(&b);
}

static void
test_large_item_any_split(void)
{
	size_t len, k, i;
	char *doc = big_item_doc(24000, &len), *whole, *got;
	static const size_t steps[] = {1, 7, 100, 4093, 65536, 65537, 300000};
	int bad = 0;

	CHECK(len > ((size_t)1 << 20) + 100000);
	whole = parse_doc(doc, len, NULL, 0, 0, 0);
	CHECK(whole && strstr(whole, "version=rss20 bozo=0 n=3"));
	CHECK(whole && strstr(whole, "summary=[end of the big one]"));
	got = parse_doc(doc, len, NULL, 1, 0, 0);
	CHECK(got && whole && strcmp(got, whole) == 0);
	free(got);
	/* Splits at every offset of a stretch: the chunks that follow fall
	 * at every offset of the markup the hand-over meets. */
	for (k = 1; k <= 160 && bad < 3; k++) {
		got = parse_doc(doc, len, NULL, 0, (long)(k * 13), 0);
		if (got == NULL || whole == NULL || strcmp(got, whole) != 0) {
			printf("  split at %zu differs: %.300s\n", k * 13,
			       got ? got : "(null)");
			tr_test_failed_checks++;
			bad++;
		}
		free(got);
	}
	for (i = 0; i < N(steps); i++) {
		got = parse_doc(doc, len, NULL, 0, -1, steps[i]);
		if (got == NULL || whole == NULL || strcmp(got, whole) != 0) {
			printf("  pieces of %zu differ: %.300s\n", steps[i],
			       got ? got : "(null)");
			tr_test_failed_checks++;
		}
		free(got);
	}
	free(whole);
	free(doc);
}

TR_TESTS(test_undeclared_prefixes, test_known_prefixes_fit_bound,
         test_character_reference_repairs, test_xml_declaration_repairs,
         test_repairs_at_the_end_are_reported, test_formats_recognised,
         test_large_item_any_split, test_text_constructs,
         test_xhtml_attribute_prefixes_raw)
