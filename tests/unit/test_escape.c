/*
 * test_escape.c — XML and JSON escaping of any bytes, UTF-8 decoding, and
 * HTML-to-text excerpts.
 */
#include <expat.h>

#include "runner.h"
#include "tributary/buf.h"
#include "tributary/error.h"
#include "tributary/escape.h"

static const struct {
	const char *in, *xml, *json;
} cases[] = {
    {"", "", "\"\""},
    {"plain text", "plain text", "\"plain text\""},
    {"a<b>&\"'c", "a&lt;b&gt;&amp;&quot;&#39;c", "\"a<b>&\\\"'c\""},
    {"]]>", "]]&gt;", "\"]]>\""},
    {"tab\tlf\ncr\r", "tab&#9;lf&#10;cr&#13;", "\"tab\\tlf\\ncr\\r\""},
    {"\x01\x08\x0b\x0c\x1f!", "!", "\"\\u0001\\b\\u000b\\f\\u001f!\""},
    {"del\x7f", "del\x7f", "\"del\x7f\""},
    {"caf\xc3\xa9", "caf\xc3\xa9", "\"caf\xc3\xa9\""},
    /* Invalid UTF-8: a lone continuation byte, a truncated sequence, an
     * overlong '/', bytes that never start a sequence. */
    {"a\x80z", "a\xef\xbf\xbdz", "\"a\xef\xbf\xbdz\""},
    {"a\xc3", "a\xef\xbf\xbd", "\"a\xef\xbf\xbd\""},
    {"\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd", "\"\xef\xbf\xbd\xef\xbf\xbd\""},
    {"\xfe\xff", "\xef\xbf\xbd\xef\xbf\xbd", "\"\xef\xbf\xbd\xef\xbf\xbd\""},
    {"\xf4\x90\x80\x80", /* past U+10FFFF */
	"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	"\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\""},
    /* A surrogate encoded in UTF-8 (CESU-8 style). */
    {"\xed\xa0\xbd\xed\xb8\x80",
	"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	"\xef\xbf\xbd",
	"\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"
	"\xef\xbf\xbd\""},
    /* U+FFFE and U+FFFF are not XML characters; U+FFFD is. */
    {"\xef\xbf\xbe\xef\xbf\xbf\xef\xbf\xbd",
	"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd",
	"\"\xef\xbf\xbe\xef\xbf\xbf\xef\xbf\xbd\""},
    /* Non-BMP and U+2028 are kept (JSON escapes U+2028 for JavaScript). */
    {"\xf0\x9f\x98\x80\xe2\x80\xa8", "\xf0\x9f\x98\x80\xe2\x80\xa8",
	"\"\xf0\x9f\x98\x80\\u2028\""},
    {"back\\slash/", "back\\slash/", "\"back\\\\slash/\""},
};
#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static void
test_xml(void)
{
	struct tr_buf b;
	size_t i;

	tr_buf_init(&b, 4096);
	for (i = 0; i < N_CASES; i++) {
		tr_buf_reset(&b);
		CHECK_INT(tr_escape_xml(&b, cases[i].in), 0);
		CHECK_STR_CASE(cases[i].in, tr_buf_str(&b), cases[i].xml);
	}
	tr_buf_reset(&b);
	CHECK_INT(tr_escape_xml(&b, NULL), 0);
	CHECK_INT(b.len, 0);
	tr_buf_free(&b);
}

static void
test_json(void)
{
	struct tr_buf b;
	size_t i;

	tr_buf_init(&b, 4096);
	for (i = 0; i < N_CASES; i++) {
		tr_buf_reset(&b);
		CHECK_INT(tr_escape_json(&b, cases[i].in), 0);
		CHECK_STR_CASE(cases[i].in, tr_buf_str(&b), cases[i].json);
	}
	tr_buf_reset(&b);
	CHECK_INT(tr_escape_json(&b, NULL), 0);
	CHECK_STR(tr_buf_str(&b), "\"\"");
	tr_buf_free(&b);
}

static void
test_decode(void)
{
	int32_t cp;

	CHECK_INT(tr_utf8_decode("A", 1, &cp), 1);
	CHECK_INT(cp, 'A');
	CHECK_INT(tr_utf8_decode("\xc3\xa9", 2, &cp), 2);
	CHECK_INT(cp, 0xE9);
	CHECK_INT(tr_utf8_decode("\xe2\x82\xac", 3, &cp), 3);
	CHECK_INT(cp, 0x20AC);
	CHECK_INT(tr_utf8_decode("\xf0\x9f\x98\x80", 4, &cp), 4);
	CHECK_INT(cp, 0x1F600);
	/* Not enough bytes available. */
	CHECK_INT(tr_utf8_decode("\xe2\x82\xac", 2, &cp), 1);
	CHECK_INT(cp, -1);
	CHECK_INT(tr_utf8_decode("\xe0\x80\x80", 3, &cp), 1); /* overlong */
	CHECK_INT(cp, -1);
	CHECK_INT(tr_utf8_decode("\xed\xbf\xbf", 3, &cp), 1); /* surrogate */
	CHECK_INT(cp, -1);
}

/* Every one of the 2^16 two-byte inputs (and each byte after "x") comes
 * out as a document expat accepts, in text and in an attribute. */
static void
test_xml_any_bytes(void)
{
	struct tr_buf b;
	unsigned v;
	int bad = 0;

	tr_buf_init(&b, 4096);
	for (v = 0; v < 65536 && bad < 5; v++) {
		char in[4] = {(char)(v >> 8), (char)(v & 255), 'x', 0};
		XML_Parser p;

		if (in[0] == 0)
			in[0] = 'y';
		if (in[1] == 0)
			in[1] = 'y';
		tr_buf_reset(&b);
		tr_buf_adds(&b, "<a b=\"");
		tr_escape_xml(&b, in);
		tr_buf_adds(&b, "\">");
		tr_escape_xml(&b, in);
		tr_buf_adds(&b, "</a>");
		p = XML_ParserCreate("UTF-8");
		if (XML_Parse(p, b.data, (int)b.len, 1) != XML_STATUS_OK) {
			printf("  input %02x %02x: %s\n", v >> 8, v & 255,
			    XML_ErrorString(XML_GetErrorCode(p)));
			bad++;
		}
		XML_ParserFree(p);
	}
	CHECK_INT(bad, 0);
	tr_buf_free(&b);
}

static void
test_too_big(void)
{
	struct tr_buf b;

	tr_buf_init(&b, 8);
	CHECK_INT(tr_escape_xml(&b, "<<<"), TR_ETOOBIG);
	tr_buf_reset(&b);
	CHECK_INT(tr_escape_json(&b, "0123456789"), TR_ETOOBIG);
	tr_buf_reset(&b);
	CHECK_INT(tr_escape_html_text(&b, "0123456789", 100), TR_ETOOBIG);
	tr_buf_free(&b);
}

static const struct {
	const char *html;
	size_t max;
	const char *text;
} texts[] = {
    {"", 100, ""},
    {"plain", 100, "plain"},
    {"<p>Hello <b>world</b></p><p>again</p>", 100, "Hello world again"},
    {"a<br>b<br/>c", 100, "a b c"},
    {"x &amp; y &lt;z&gt; &quot;q&quot; &#39;s&#x27; &eacute;&nbsp;!", 100,
	"x & y <z> \"q\" 's' \xc3\xa9\xc2\xa0!"},
    /* HTML5 (§13.2.5.73): "&amp" without ';' is still '&'. */
    {"&unknown; &amp &#0; &#xD800; &#1114112;", 100,
	"&unknown; & \xef\xbf\xbd \xef\xbf\xbd \xef\xbf\xbd"},
    {"<script>alert('<p>hi</p>')</script>after", 100, "after"},
    {"<STYLE>p{color:red}</STYLE>kept", 100, "kept"},
    {"<!-- <p>comment</p> -->text<!-- unterminated", 100, "text"},
    {"<a href=\"x>y\" title='>'>link</a>", 100, "link"},
    {"1 < 2 and 3 > 2", 100, "1 < 2 and 3 > 2"},
    {"  lots \n\t of   space  ", 100, "lots of space"},
    /* The HTML5 parser reads control characters as U+FFFD. */
    {"ctrl\x01\x1f chars\x7f", 100,
	"ctrl\xef\xbf\xbd\xef\xbf\xbd chars\xef\xbf\xbd"},
    {"bad \xff utf8", 100, "bad \xef\xbf\xbd utf8"},
    {"one two three four five six", 17, "one two three\xe2\x80\xa6"},
    /* A word break that would drop more than a fifth is not used. */
    {"one two three four five six", 12, "one two thr\xe2\x80\xa6"},
    {"exactly ten", 11, "exactly ten"},
    {"exactly ten!", 11, "exactly te\xe2\x80\xa6"},
    {"abcdefghijklmnopqrstuvwxyz", 10, "abcdefghi\xe2\x80\xa6"},
    {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", 3, "\xc3\xa9\xc3\xa9\xe2\x80\xa6"},
    {"<p>unclosed <b", 100, "unclosed"},
};

static void
test_html_text(void)
{
	struct tr_buf b;
	size_t i;

	tr_buf_init(&b, 4096);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		tr_buf_reset(&b);
		CHECK_INT(tr_escape_html_text(&b, texts[i].html, texts[i].max),
		    0);
		CHECK_STR_CASE(texts[i].html, tr_buf_str(&b), texts[i].text);
	}
	/* Appends after what the buffer holds. */
	tr_buf_reset(&b);
	tr_buf_adds(&b, "x:");
	CHECK_INT(tr_escape_html_text(&b, "<i>y</i>", 10), 0);
	CHECK_STR(tr_buf_str(&b), "x:y");
	tr_buf_free(&b);
}

TR_TESTS(test_xml, test_json, test_decode, test_xml_any_bytes, test_too_big,
    test_html_text)
