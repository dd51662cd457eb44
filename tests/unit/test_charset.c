/*
 * test_charset.c — encoding detection (BOM, XML declaration, HTTP
 * charset per RFC 7303) and streaming conversion to UTF-8, every case fed
 * whole, split at every offset and byte by byte.
 */
#include <ctype.h>
#include <iconv.h>
#include <stdint.h>

#include "charset_int.h"
#include "runner.h"
#include "tributary/buf.h"
#include "tributary/error.h"

/* A string literal and its length (it may hold NUL bytes). */
#define BYTES(s) s, sizeof(s) - 1

static int n_warnings;

static void
count_warning(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
	n_warnings++;
}

/*
 * Converts in (n bytes) fed in pieces: split 0 whole, k at offset k, -1
 * byte by byte. Returns the UTF-8 text (malloc'ed) and the name.
 */
static char *
convert(const char *in, size_t n, const char *ctype, long split, char *name,
        size_t size)
{
	struct tr_charset *cs = NULL;
	struct tr_buf b;
	const char *out;
	size_t outlen, i;

	tr_buf_init(&b, 1 << 20);
	if (tr_charset_new(&cs, ctype, count_warning, NULL) != 0)
		return NULL;
	if (split < 0) {
		for (i = 0; i < n; i++) {
			tr_charset_feed(cs, in + i, 1, 0, &out, &outlen);
			tr_buf_add(&b, out, outlen);
		}
	} else {
		size_t k = split ? (size_t)split : n;

		tr_charset_feed(cs, in, k, 0, &out, &outlen);
		tr_buf_add(&b, out, outlen);
		tr_charset_feed(cs, in + k, n - k, 0, &out, &outlen);
		tr_buf_add(&b, out, outlen);
	}
	tr_charset_feed(cs, NULL, 0, 1, &out, &outlen);
	tr_buf_add(&b, out, outlen);
	snprintf(name, size, "%s", tr_charset_name(cs));
	tr_charset_free(cs);
	return tr_buf_detach(&b);
}

static void
test_detection_table(void)
{
	static const struct {
		const char *bytes;
		size_t n;
		const char *ctype, *name, *utf8;
	} t[] = {
	    /* No declaration, no BOM: UTF-8. */
	    {BYTES("<a>\xc3\xa9</a>"), NULL, "utf-8", "<a>\xc3\xa9</a>"},
	    /* BOMs, stripped. */
	    {BYTES("\xef\xbb\xbf<a/>"), NULL, "utf-8", "<a/>"},
	    {BYTES("\xff\xfe<\0a\0/\0>\0"), NULL, "utf-16le", "<a/>"},
	    {BYTES("\xfe\xff\0<\0a\0/\0>"), NULL, "utf-16be", "<a/>"},
	    {BYTES("\xff\xfe\0\0<\0\0\0>\0\0\0"), NULL, "utf-32le", "<>"},
	    {BYTES("\0\0\xfe\xff\0\0\0<\0\0\0>"), NULL, "utf-32be", "<>"},
	    /* UTF-16/32 without a BOM, told by the first bytes. */
	    {BYTES("<\0?\0x\0m\0l\0 \0?\0>\0"), NULL, "utf-16le", "<?xml ?>"},
	    {BYTES("\0<\0?\0x\0m\0l\0 \0?\0>"), NULL, "utf-16be", "<?xml ?>"},
	    {BYTES("\0\0\0<\0\0\0a\0\0\0>"), NULL, "utf-32be", "<a>"},
	    /* A surrogate pair in UTF-16LE. */
	    {BYTES("\xff\xfe<\0=\xd8\x39\xdd>\0"), NULL, "utf-16le",
	     "<\xf0\x9f\x94\xb9>"},
	    /* Declarations. */
	    {BYTES(
	         "<?xml version='1.0' encoding='ISO-8859-1'?><a>\xe9\x92</a>"),
	     NULL, "iso-8859-1",
	     "<?xml version='1.0' encoding='ISO-8859-1'?><a>\xc3\xa9"
	     "\xe2\x80\x99</a>"},
	    {BYTES("<?xml version=\"1.0\" "
	           "encoding=\"windows-1252\"?><a>\x80</a>"),
	     NULL, "windows-1252",
	     "<?xml version=\"1.0\" encoding=\"windows-1252\"?><a>"
	     "\xe2\x82\xac</a>"},
	    {BYTES(
	         "<?xml version=\"1.0\" encoding=\"KOI8-R\"?><a>\xf0\xd2</a>"),
	     NULL, "koi8-r",
	     "<?xml version=\"1.0\" encoding=\"KOI8-R\"?><a>"
	     "\xd0\x9f\xd1\x80</a>"},
	    {BYTES("<?xml version=\"1.0\" "
	           "encoding=\"windows-1251\"?><a>\xcf</a>"),
	     NULL, "windows-1251",
	     "<?xml version=\"1.0\" encoding=\"windows-1251\"?><a>"
	     "\xd0\x9f</a>"},
	    /* RFC 7303: an XML media type's charset beats the declaration. */
	    {BYTES("<?xml version=\"1.0\" encoding=\"utf-8\"?><a>\xe9</a>"),
	     "application/atom+xml; charset=ISO-8859-1", "iso-8859-1",
	     "<?xml version=\"1.0\" encoding=\"utf-8\"?><a>\xc3\xa9</a>"},
	    /* ... but not a BOM. */
	    {BYTES("\xef\xbb\xbf<a>\xc3\xa9</a>"),
	     "text/xml; charset=iso-8859-1", "utf-8", "<a>\xc3\xa9</a>"},
	    /* Another media type's charset only fills in. */
	    {BYTES("<?xml version=\"1.0\" encoding=\"utf-8\"?><a/>"),
	     "text/html; charset=iso-8859-1", "utf-8",
	     "<?xml version=\"1.0\" encoding=\"utf-8\"?><a/>"},
	    {BYTES("<a>\xe9</a>"), "text/plain; charset=\"latin1\"", "latin1",
	     "<a>\xc3\xa9</a>"},
	    /* Labelled UTF-16 but ASCII-compatible: read as UTF-8. */
	    {BYTES("<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>"), NULL,
	     "utf-8", "<?xml version=\"1.0\" encoding=\"UTF-16\"?><a/>"},
	    /* Unknown charset: UTF-8. */
	    {BYTES("<?xml version=\"1.0\" encoding=\"x-no-such\"?><a/>"), NULL,
	     "utf-8", "<?xml version=\"1.0\" encoding=\"x-no-such\"?><a/>"},
	    /* Junk before the declaration does not hide it. */
	    {BYTES("  \n<?xml version=\"1.0\" "
	           "encoding=\"iso-8859-1\"?><a>\xe9</a>"),
	     NULL, "iso-8859-1",
	     "  \n<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><a>\xc3\xa9"
	     "</a>"},
	};
	size_t i;
	long k;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char name[64], *whole, *part;
		int same = 1;

		whole = convert(t[i].bytes, t[i].n, t[i].ctype, 0, name,
		                sizeof(name));
		CHECK_STR_CASE(t[i].utf8, name, t[i].name);
		CHECK_STR_CASE(t[i].name, whole, t[i].utf8);
		for (k = -1; k < (long)t[i].n; k++) {
			if (k == 0)
				continue;
			part = convert(t[i].bytes, t[i].n, t[i].ctype, k, name,
			               sizeof(name));
			if (part == NULL || strcmp(part, t[i].utf8) != 0 ||
			    strcmp(name, t[i].name) != 0) {
				printf("  [%s] split at %ld: %s (%s)\n",
				       t[i].name, k, part ? part : "(null)",
				       name);
				same = 0;
			}
			free(part);
		}
		CHECK_STR_CASE(t[i].utf8, same ? "same" : "differs", "same");
		free(whole);
	}
}

static void
test_invalid_sequences(void)
{
	char name[64], *out;

	/* An unpaired surrogate in UTF-16LE, and a truncated last unit. */
	n_warnings = 0;
	out = convert(BYTES("\xff\xfe<\0\x00\xd8>\0x"), NULL, 0, name,
	              sizeof(name));
	CHECK_STR(name, "utf-16le");
	CHECK(out && strncmp(out, "<\xef\xbf\xbd", 4) == 0);
	CHECK(out && strstr(out, ">") != NULL);
	CHECK(n_warnings >= 1);
	free(out);
	/* Invalid Shift_JIS bytes through iconv. */
	n_warnings = 0;
	out = convert(
	    BYTES("<?xml version=\"1.0\" encoding=\"Shift_JIS\"?><a>\x82\xa0"
	          "\xff</a>"),
	    NULL, 0, name, sizeof(name));
	CHECK_STR(name, "shift_jis");
	CHECK(out && strstr(out, "<a>\xe3\x81\x82\xef\xbf\xbd</a>") != NULL);
	CHECK_INT(n_warnings, 1);
	free(out);
}

static void
test_content_type(void)
{
	static const struct {
		const char *ct, *type, *charset;
		int xml;
	} t[] = {
	    {"application/rss+xml", "application/rss+xml", "", 1},
	    {"text/xml; charset=UTF-8", "text/xml", "utf-8", 1},
	    {"Application/Atom+XML;Charset=\"iso-8859-1\"",
	     "application/atom+xml", "iso-8859-1", 1},
	    {"text/html; q=1; charset = windows-1251 ; x=y", "text/html",
	     "windows-1251", 0},
	    {"application/xml", "application/xml", "", 1},
	    {"application/octet-stream", "application/octet-stream", "", 0},
	    /* single quotes are not part of the name */
	    {"text/xml; charset='us-ascii'", "text/xml", "us-ascii", 1},
	    {"text/plain;charset='Latin1'", "text/plain", "latin1", 0},
	    {"text/xml; charset=\"utf-8", "text/xml", "utf-8", 1},
	    /* every XML media type of RFC 7303 */
	    {"application/xml-dtd; charset=koi8-r", "application/xml-dtd",
	     "koi8-r", 1},
	    {"text/xml-external-parsed-entity", "text/xml-external-parsed-entity",
	     "", 1},
	    {"application/xml-external-parsed-entity; charset=utf-16",
	     "application/xml-external-parsed-entity", "utf-16", 1},
	    {"image/svg+xml", "image/svg+xml", "", 1},
	    {"text/xmlish", "text/xmlish", "", 0},
	    {"", "", "", 0},
	};
	size_t i;
	char type[64], charset[64];

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		int xml = tr_charset_content_type(type, sizeof(type), charset,
		                                  sizeof(charset), t[i].ct);

		CHECK_STR_CASE(t[i].ct, type, t[i].type);
		CHECK_STR_CASE(t[i].ct, charset, t[i].charset);
		CHECK_INT(xml, t[i].xml);
	}
	CHECK_INT(tr_charset_content_type(type, sizeof(type), charset,
	                                  sizeof(charset), NULL),
	          0);
}

static void
test_xml_decl(void)
{
	char enc[32];

	CHECK_INT(tr_charset_xml_decl(
	              enc, sizeof(enc),
	              "<?xml version=\"1.0\" encoding = 'Big5' ?>", 40),
	          1);
	CHECK_STR(enc, "big5");
	CHECK_INT(tr_charset_xml_decl(enc, sizeof(enc), "<?xml version=", 14),
	          -1);
	CHECK_INT(tr_charset_xml_decl(enc, sizeof(enc), "<?xm", 4), -1);
	CHECK_INT(tr_charset_xml_decl(enc, sizeof(enc), "<rss>", 5), 0);
	CHECK_INT(tr_charset_xml_decl(enc, sizeof(enc),
	                              "<?xml version=\"1.0\"?><rss>", 26),
	          0);
	CHECK_INT(tr_charset_xml_decl(enc, sizeof(enc),
	                              "<?xml-stylesheet href=\"a\"?>", 27),
	          0);
}

static void
test_cp1252(void)
{
	CHECK_INT(tr_cp1252(0x41), 0x41);
	CHECK_INT(tr_cp1252(0x80), 0x20ac);
	CHECK_INT(tr_cp1252(0x92), 0x2019);
	CHECK_INT(tr_cp1252(0x81), 0x81);
	CHECK_INT(tr_cp1252(0x9f), 0x178);
	CHECK_INT(tr_cp1252(0xe9), 0xe9);
}

/*
 * Encoding labels as feeds write them: any case, '_' or '-', IANA and
 * WHATWG aliases, code page numbers. Each decodes one telling byte
 * sequence; the reported name is the label as written (lowercased).
 */
static void
test_label_aliases(void)
{
	static const struct {
		const char *label, *bytes, *utf8;
		int warns;
	} t[] = {
	    {"437", "\x82", "\xc3\xa9", 0},
	    {"850", "\x82", "\xc3\xa9", 0},
	    {"866", "\x80", "\xd0\x90", 0},
	    {"1251", "\xcf", "\xd0\x9f", 0},
	    {"csIBM861", "\x8b", "\xc3\x90", 0},
	    {"cp-is", "\x8b", "\xc3\x90", 0},
	    {"IBM-866", "\x80", "\xd0\x90", 0},
	    {"macintosh", "\x8e", "\xc3\xa9", 0},
	    {"x-mac-roman", "\x8e", "\xc3\xa9", 0},
	    {"X-MAC-CYRILLIC", "\x80", "\xd0\x90", 0},
	    {"x-mac-ce", "\x81", "\xc4\x80", 0},
	    /* Python's names of the Mac code pages */
	    {"macroman", "\x80", "\xc3\x84", 0},
	    {"maclatin2", "\x81", "\xc4\x80", 0},
	    {"maccentraleurope", "\x81", "\xc4\x80", 0},
	    /* Mac code pages glibc lacks or maps otherwise (Apple's
	     * tables): Greek, Icelandic (0xA0 is Ý, not glibc's dagger),
	     * Turkish, with the euro sign and Apple's logo */
	    {"macgreek", "\xa1\xe0", "\xce\x93\xcf\x8d", 0},
	    {"x-mac-greek", "\x80\x9c", "\xc3\x84\xe2\x82\xac", 0},
	    {"mac_iceland", "\xa0\xdc", "\xc3\x9d\xc3\x90", 0},
	    {"x-mac-icelandic", "\xa0", "\xc3\x9d", 0},
	    {"MacTurkish", "\xda\xdd", "\xc4\x9e\xc4\xb1", 0},
	    {"x-mac-turkish", "\xf0", "\xef\xa3\xbf", 0},
	    /* GBK-only characters in documents labelled gb2312 */
	    {"gb2312", "\x81\x40", "\xe4\xb8\x82", 0},
	    {"GBK", "\x81\x40", "\xe4\xb8\x82", 0},
	    {"x-gbk", "\x81\x40", "\xe4\xb8\x82", 0},
	    {"ks_c_5601-1987", "\xb0\xa1", "\xea\xb0\x80", 0},
	    {"ISO_8859_2", "\xb1", "\xc4\x85", 0},
	    {"koi8_r", "\xf0", "\xd0\x9f", 0},
	    {"Windows_1251", "\xcf", "\xd0\x9f", 0},
	    {"x-sjis", "\x82\xa0", "\xe3\x81\x82", 0},
	    {"x-cp1251", "\xcf", "\xd0\x9f", 0},
	    {"ISO_8859-1", "\x92", "\xe2\x80\x99", 0},
	    {"UTF_8", "\xc3\xa9", "\xc3\xa9", 0},
	    {"unicode-1-1-utf-8", "\xc3\xa9", "\xc3\xa9", 0},
	    /* cannot be decoded: a warning, and the bytes still come */
	    {"x-no-such-code-page", "\xc3\xa9", "\xc3\xa9", 1},
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char doc[200], want[200], name[64], lower[64], *out;
		size_t k;

		snprintf(doc, sizeof(doc),
		         "<?xml version=\"1.0\" encoding=\"%s\"?><a>%s</a>",
		         t[i].label, t[i].bytes);
		snprintf(want, sizeof(want),
		         "<?xml version=\"1.0\" encoding=\"%s\"?><a>%s</a>",
		         t[i].label, t[i].utf8);
		for (k = 0; t[i].label[k] && k + 1 < sizeof(lower); k++)
			lower[k] = (char)tolower((unsigned char)t[i].label[k]);
		lower[k] = '\0';
		n_warnings = 0;
		out = convert(doc, strlen(doc), NULL, 0, name, sizeof(name));
		CHECK_STR_CASE(t[i].label, out, want);
		CHECK_STR_CASE(t[i].label, name,
		               t[i].warns || strstr(lower, "utf") ? "utf-8"
		                                                  : lower);
		if (n_warnings != t[i].warns) {
			printf("  [%s] %d warnings\n", t[i].label, n_warnings);
			tr_test_failed_checks++;
		}
		free(out);
		/* The same label from HTTP, authoritative for XML types. */
		snprintf(doc, sizeof(doc), "<a>%s</a>", t[i].bytes);
		snprintf(want, sizeof(want), "<a>%s</a>", t[i].utf8);
		snprintf(lower, sizeof(lower), "application/xml-dtd; "
		                               "charset='%s'", t[i].label);
		out = convert(doc, strlen(doc), lower, 0, name, sizeof(name));
		CHECK_STR_CASE(t[i].label, out, want);
		free(out);
	}
}

/*
 * EBCDIC documents (XML 1.0 App. F: "<?xm" is 4C 6F A7 94): the
 * declaration read through IBM037 names the code page, whose own bytes
 * then decode the document; none named is IBM037; HTTP's charset of an
 * XML type still wins. Each document is encoded here with iconv from
 * its UTF-8 text, so that the table reads as text: the code pages differ
 * in where they put '[' and letters beyond ASCII.
 */
static void
test_ebcdic(void)
{
	static const struct {
		const char *encode_as, *text, *ctype, *name;
	} t[] = {
	    {"IBM037", "<?xml version='1.0' encoding='cp037'?><a>[\xc3\x98]</a>",
	     NULL, "cp037"},
	    {"IBM500", "<?xml version='1.0' encoding='ibm500'?><a>[\xc3\x98]</a>",
	     NULL, "ibm500"},
	    {"IBM037", "<?xml version='1.0' encoding='ibm039'?><a>\xc3\x98</a>",
	     NULL, "ibm039"},
	    {"IBM037",
	     "<?xml version='1.0' encoding='ebcdic-cp-us'?><a>\xc3\xa9</a>",
	     NULL, "ebcdic-cp-us"},
	    {"IBM1140",
	     "<?xml version='1.0' encoding='ibm1140'?><a>\xe2\x82\xac</a>",
	     NULL, "ibm1140"},
	    {"IBM037", "<?xml version='1.0'?><a>\xc3\xa9</a>", NULL,
	     "ibm037"},
	    {"IBM500", "<?xml version='1.0' encoding='cp037'?><a>[</a>",
	     "text/xml; charset=ibm500", "ibm500"},
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		char doc[200], name[64], *in = (char *)(uintptr_t)t[i].text,
		                         *o = doc, *out;
		size_t inleft = strlen(in), left = sizeof(doc);
		long split;
		iconv_t cd = iconv_open(t[i].encode_as, "UTF-8");

		CHECK(cd != (iconv_t)-1);
		if (cd == (iconv_t)-1)
			continue;
		CHECK(iconv(cd, &in, &inleft, &o, &left) != (size_t)-1);
		iconv_close(cd);
		for (split = -1; split <= 7; split += 4) {
			n_warnings = 0;
			out = convert(doc, sizeof(doc) - left, t[i].ctype, split,
			              name, sizeof(name));
			CHECK_STR_CASE(t[i].text, out, t[i].text);
			CHECK_STR_CASE(t[i].text, name, t[i].name);
			CHECK_INT(n_warnings, 0);
			free(out);
		}
	}
}

TR_TESTS(test_detection_table, test_invalid_sequences, test_content_type,
         test_xml_decl, test_cp1252, test_label_aliases, test_ebcdic)
