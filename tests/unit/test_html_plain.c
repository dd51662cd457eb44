/*
 * test_html_plain.c — bodies without markup take a short way through the
 * sanitizer (no Gumbo parse: lib/html.c, tr_html_is_plain). The short way
 * must write exactly what Gumbo's tree would: every case below goes both
 * ways (tr_html_sanitize_text against tr_html_sanitize_tree, tr_html_text
 * against tr_html_text_tree, both policies, several text limits) and the
 * bytes must be equal; and which bodies count as plain is itself a table.
 */
#include "runner.h"
#include "tributary/buf.h"
#include "tributary/error.h"
#include "tributary/html.h"

#include "html_int.h"

#define BASE "http://ex.org/d/f.xml"

/* Bodies, whether they are plain (1) or need the parse (0). */
static const struct {
	const char *in;
	size_t len; /* 0: strlen */
	int plain;
} cases[] = {
    {"", 0, 1},
    {"a", 0, 1},
    {"Storm warnings along the coast: ferries cancelled", 0, 1},
    {"  leading and trailing white space  ", 0, 1},
    {"tabs\tand\nnew\n\nlines", 0, 1},
    {"\n", 0, 1},
    {"   ", 0, 1},
    {"quotes \" and ' and a > sign", 0, 1},
    {"3 > 2, \"x\" > 'y' >>>", 0, 1},
    {"Museum\xE2\x80\x99s new wing \xE2\x80\x94 amber \xF0\x9F\x8E\x89", 0, 1},
    {"\xC3\xA9t\xC3\xA9, na\xC3\xAFve, \xD0\x9C\xD0\xBE\xD1\x81\xD0\xBA"
     "\xD0\xB2\xD0\xB0, \xE6\x9D\xB1\xE4\xBA\xAC",
     0, 1},
    {"non\xC2\xA0"
     "breaking space",
     0, 1},
    {"\xEF\xBB\xBF"
     "a byte order mark first",
     0, 1},
    {"\xEF\xBF\xBD already a replacement character", 0, 1},
    {"\xF4\x8F\xBF\xBD last plane", 0, 1},
    {"\xEF\xB7\x8F\xEF\xB7\xB0 around the noncharacters", 0, 1},
    {"a long line of plain words that goes on for a while, longer than a "
     "text limit of twenty characters and well past sixty-four of them, "
     "so that a cut falls inside it",
     0, 1},
    /* Markup, references, and what Gumbo's input stream changes. */
    {"<p>a</p>", 0, 0},
    {"a < b", 0, 0},
    {"x<", 0, 0},
    {"fish &amp; chips", 0, 0},
    {"AT&T", 0, 0},
    {"&", 0, 0},
    {"a\r\nb", 0, 0},
    {"a\rb", 0, 0},
    {"a\fb", 0, 0},
    {"a\vb", 0, 0},
    {"a\x01"
     "b",
     0, 0},
    {"a\x1F"
     "b",
     0, 0},
    {"a\x7F"
     "b",
     0, 0},
    {"a\0b", 3, 0},
    {"a\xC2\x80"
     "b",
     0, 0},
    {"a\xC2\x9F"
     "b",
     0, 0},
    {"\xEF\xB7\x90", 0, 0},
    {"\xEF\xB7\xAF", 0, 0},
    {"\xEF\xBF\xBE", 0, 0},
    {"\xEF\xBF\xBF", 0, 0},
    {"\xF0\x9F\xBF\xBE", 0, 0},
    {"\xF4\x8F\xBF\xBF", 0, 0},
    {"broken \xC3 UTF-8", 0, 0},
    {"\x80", 0, 0},
    {"\xC0\x80", 0, 0},
    {"\xED\xA0\x80", 0, 0},
    {"\xF4\x90\x80\x80", 0, 0},
    {"\xE2\x82", 0, 0},
    {"\xFF", 0, 0},
    /* Eight-byte words: the stop byte in every position of one. */
    {"01234567<", 0, 0},
    {"0123456<7", 0, 0},
    {"<1234567", 0, 0},
    {"0123&567abcdefgh", 0, 0},
    {"0123456789abcde\r", 0, 0},
    {"0123456789abcdef\x01", 0, 0},
    {"01234567\xC3\xA9"
     "9abcdef",
     0, 1},
    {"0123456789abcde>\"", 0, 1},
    /* Words, spaces and markup: the text a run or a character at a time. */
    {"<p>one two  three</p><p> four\tfive\n six </p>", 0, 0},
    {"a <b>bold</b> word, <i>and</i>&nbsp;more&#xFFFE;&#x85;x", 0, 0},
    {"<ul><li>x y</li><li> z</li></ul>tail  end ", 0, 0},
    {"\xC3\xA9t\xC3\xA9 \xC2\xA0 \xF0\x9F\x8E\x89 x", 0, 1},
};

#define NCASES (sizeof(cases) / sizeof(cases[0]))

static size_t
len_of(size_t i)
{
	return cases[i].len ? cases[i].len : strlen(cases[i].in);
}

/* The case's bytes as C escapes, to name it in a failure. */
static const char *
name_of(const char *s, size_t n)
{
	static char b[512];
	size_t i, k = 0;

	for (i = 0; i < n && k + 5 < sizeof(b); i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c < 0x7F && c != '\\')
			b[k++] = (char)c;
		else
			k += (size_t)snprintf(b + k, sizeof(b) - k, "\\x%02X",
			                      c);
	}
	b[k] = '\0';
	return b;
}

/* Whether two buffers hold the same bytes (an empty one has no data). */
static int
differ(const struct tr_buf *a, const struct tr_buf *b)
{
	return a->len != b->len ||
	       (a->len > 0 && memcmp(a->data, b->data, a->len) != 0);
}

/*
 * Checks that the body s (n bytes) gives the same bytes both ways: the
 * sanitized body and its text, under both policies, and the text at
 * several limits; and the same text a run and a character at a time.
 * Returns the number of differences.
 */
static int
same_both_ways(const char *s, size_t n)
{
	static const size_t limits[] = {0, 1, 2, 5, 20, 64};
	static const struct tr_html_policy pols[] = {{TR_HTML_DEFAULT, NULL, 0},
	                                             {TR_HTML_TEXT, NULL, 0}};
	struct tr_buf a, b, ta, tb;
	size_t i;
	int bad = 0, ra, rb;

	tr_buf_init(&a, 1 << 20);
	tr_buf_init(&b, 1 << 20);
	tr_buf_init(&ta, 1 << 20);
	tr_buf_init(&tb, 1 << 20);
	for (i = 0; i < 2; i++) {
		tr_buf_reset(&a), tr_buf_reset(&b);
		tr_buf_reset(&ta), tr_buf_reset(&tb);
		ra = tr_html_sanitize_text(&a, &ta, s, n, BASE, &pols[i]);
		rb = tr_html_sanitize_tree(&b, &tb, s, n, BASE, &pols[i]);
		CHECK_INT(ra, 0);
		CHECK_INT(rb, 0);
		CHECK_STR_CASE(name_of(s, n), tr_buf_str(&a), tr_buf_str(&b));
		CHECK_STR_CASE(name_of(s, n), tr_buf_str(&ta), tr_buf_str(&tb));
		bad += differ(&a, &b) || differ(&ta, &tb);
		/* Without the text: the same body. */
		tr_buf_reset(&ta);
		CHECK_INT(tr_html_sanitize(&ta, s, n, BASE, &pols[i]), 0);
		CHECK_STR_CASE(name_of(s, n), tr_buf_str(&ta), tr_buf_str(&a));
		bad += differ(&ta, &a);
	}
	for (i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		tr_buf_reset(&a), tr_buf_reset(&b);
		CHECK_INT(tr_html_text(&a, s, n, limits[i]), 0);
		CHECK_INT(tr_html_text_tree(&b, s, n, limits[i]), 0);
		CHECK_STR_CASE(name_of(s, n), tr_buf_str(&a), tr_buf_str(&b));
		bad += differ(&a, &b);
	}
	/* No limit: words are added a run at a time; a limit never reached:
	 * a character at a time. Same text. */
	tr_buf_reset(&a), tr_buf_reset(&b);
	CHECK_INT(tr_html_text(&a, s, n, 0), 0);
	CHECK_INT(tr_html_text(&b, s, n, (size_t)1 << 30), 0);
	CHECK_STR_CASE(name_of(s, n), tr_buf_str(&a), tr_buf_str(&b));
	bad += differ(&a, &b);
	tr_buf_free(&a);
	tr_buf_free(&b);
	tr_buf_free(&ta);
	tr_buf_free(&tb);
	return bad;
}

static void
test_which_are_plain(void)
{
	size_t i;

	for (i = 0; i < NCASES; i++)
		if (tr_html_is_plain(cases[i].in, len_of(i)) !=
		    cases[i].plain) {
			printf("  %s:%d: [%s] plain: got %d, want %d\n",
			       __FILE__, __LINE__,
			       name_of(cases[i].in, len_of(i)), !cases[i].plain,
			       cases[i].plain);
			tr_test_failed_checks++;
		}
}

static void
test_table_both_ways(void)
{
	size_t i;

	for (i = 0; i < NCASES; i++)
		same_both_ways(cases[i].in, len_of(i));
}

/*
 * Every string of up to three symbols from an alphabet of the bytes that
 * matter (white space, controls, the escaped characters, pieces of UTF-8
 * sequences, noncharacters): about 28,000 bodies, plain or not, both ways.
 */
static void
test_all_short_strings(void)
{
	static const char *const sym[] = {"a",
	                                  " ",
	                                  "\t",
	                                  "\n",
	                                  "\r",
	                                  "\f",
	                                  "\x01",
	                                  "\x7F",
	                                  ">",
	                                  "\"",
	                                  "'",
	                                  "<",
	                                  "&",
	                                  "\xC3\xA9",
	                                  "\xC3",
	                                  "\xA9",
	                                  "\xC2\xA0",
	                                  "\xC2\x85",
	                                  "\xEF\xBF\xBE",
	                                  "\xEF\xB7\x90",
	                                  "\xEF\xBB\xBF",
	                                  "\xF0\x9F\x8E\x89",
	                                  "\xED\xA0\x80",
	                                  "\xE2\x82",
	                                  "\xEF\xBF\xBD",
	                                  "\x00",
	                                  "x y",
	                                  "\xF4",
	                                  "\x80",
	                                  "0123456789"};
	size_t ns = sizeof(sym) / sizeof(sym[0]), a, b, c, n, plain = 0;
	char s[64];
	int bad = 0;

	for (a = 0; a <= ns; a++)
		for (b = 0; b <= (a ? ns : 0); b++)
			for (c = 0; c <= (b ? ns : 0); c++) {
				n = 0;
				if (a)
					n += (size_t)snprintf(s + n, 16, "%s",
					                      sym[a - 1]) +
					     (sym[a - 1][0] == '\0');
				if (b)
					n += (size_t)snprintf(s + n, 16, "%s",
					                      sym[b - 1]) +
					     (sym[b - 1][0] == '\0');
				if (c)
					n += (size_t)snprintf(s + n, 16, "%s",
					                      sym[c - 1]) +
					     (sym[c - 1][0] == '\0');
				plain += tr_html_is_plain(s, n);
				bad += same_both_ways(s, n);
				if (bad > 20)
					return; /* enough said */
			}
	/* The short way is taken often enough to matter here. */
	CHECK(plain > 2900);
}

TR_TESTS(test_which_are_plain, test_table_both_ways, test_all_short_strings)
