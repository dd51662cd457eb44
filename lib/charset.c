/*
 * charset.c — encoding detection and streaming conversion to UTF-8.
 *
 * See charset_int.h for the order of precedence. The first bytes are held
 * back until the encoding is known (at most SNIFF_MAX bytes, usually just
 * the XML declaration); after that every chunk is converted on its own,
 * with the few bytes of a character split across chunks carried over.
 */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charset_int.h"
#include "tributary/buf.h"
#include "tributary/error.h"

#define SNIFF_MAX 1024
#define OUT_MAX ((size_t)1 << 30)

enum decoder { DEC_NONE, DEC_UTF8, DEC_TABLE, DEC_ICONV };

struct tr_charset {
	enum decoder dec;
	char name[64];
	char http_charset[64];
	int http_is_xml;
	iconv_t cd;
	const unsigned short *high; /* DEC_TABLE: bytes 0x80-0xff; NULL:
				       windows-1252 */
	size_t unit;         /* code unit size for iconv resync (1, 2, 4) */
	struct tr_buf sniff; /* bytes held back while deciding */
	struct tr_buf out;   /* converted text handed to the caller */
	struct tr_buf join;  /* carried bytes joined to the next chunk */
	char carry[8];       /* an incomplete character from the last chunk */
	size_t ncarry;
	int n_bad; /* invalid sequences replaced */
	tr_charset_warn_fn warn;
	void *warn_arg;
};

/* windows-1252 0x80-0x9f
 * (https://encoding.spec.whatwg.org/index-windows-1252.txt) */
static const unsigned short cp1252_c1[32] = {
    0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
    0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
    0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
    0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
};

unsigned int
tr_cp1252(unsigned char c)
{
	return c >= 0x80 && c < 0xa0 ? cp1252_c1[c - 0x80] : c;
}

/*
 * Mac code pages iconv lacks: glibc has no Mac Greek or Mac Turkish, and
 * its MAC-IS is not Apple's Mac Icelandic (0xA0 is a dagger there, Ý in
 * Apple's table). Bytes 0x80-0xff as Apple publishes them (unicode.org,
 * MAPPINGS/VENDORS/APPLE: GREEK.TXT, ICELAND.TXT, TURKISH.TXT; the euro
 * sign of Mac OS 8.5 and later).
 */
static const unsigned short mac_greek[128] = {
    0x00c4, 0x00b9, 0x00b2, 0x00c9, 0x00b3, 0x00d6, 0x00dc, 0x0385,
    0x00e0, 0x00e2, 0x00e4, 0x0384, 0x00a8, 0x00e7, 0x00e9, 0x00e8,
    0x00ea, 0x00eb, 0x00a3, 0x2122, 0x00ee, 0x00ef, 0x2022, 0x00bd,
    0x2030, 0x00f4, 0x00f6, 0x00a6, 0x20ac, 0x00f9, 0x00fb, 0x00fc,
    0x2020, 0x0393, 0x0394, 0x0398, 0x039b, 0x039e, 0x03a0, 0x00df,
    0x00ae, 0x00a9, 0x03a3, 0x03aa, 0x00a7, 0x2260, 0x00b0, 0x00b7,
    0x0391, 0x00b1, 0x2264, 0x2265, 0x00a5, 0x0392, 0x0395, 0x0396,
    0x0397, 0x0399, 0x039a, 0x039c, 0x03a6, 0x03ab, 0x03a8, 0x03a9,
    0x03ac, 0x039d, 0x00ac, 0x039f, 0x03a1, 0x2248, 0x03a4, 0x00ab,
    0x00bb, 0x2026, 0x00a0, 0x03a5, 0x03a7, 0x0386, 0x0388, 0x0153,
    0x2013, 0x2015, 0x201c, 0x201d, 0x2018, 0x2019, 0x00f7, 0x0389,
    0x038a, 0x038c, 0x038e, 0x03ad, 0x03ae, 0x03af, 0x03cc, 0x038f,
    0x03cd, 0x03b1, 0x03b2, 0x03c8, 0x03b4, 0x03b5, 0x03c6, 0x03b3,
    0x03b7, 0x03b9, 0x03be, 0x03ba, 0x03bb, 0x03bc, 0x03bd, 0x03bf,
    0x03c0, 0x03ce, 0x03c1, 0x03c3, 0x03c4, 0x03b8, 0x03c9, 0x03c2,
    0x03c7, 0x03c5, 0x03b6, 0x03ca, 0x03cb, 0x0390, 0x03b0, 0x00ad,
};
static const unsigned short mac_iceland[128] = {
    0x00c4, 0x00c5, 0x00c7, 0x00c9, 0x00d1, 0x00d6, 0x00dc, 0x00e1,
    0x00e0, 0x00e2, 0x00e4, 0x00e3, 0x00e5, 0x00e7, 0x00e9, 0x00e8,
    0x00ea, 0x00eb, 0x00ed, 0x00ec, 0x00ee, 0x00ef, 0x00f1, 0x00f3,
    0x00f2, 0x00f4, 0x00f6, 0x00f5, 0x00fa, 0x00f9, 0x00fb, 0x00fc,
    0x00dd, 0x00b0, 0x00a2, 0x00a3, 0x00a7, 0x2022, 0x00b6, 0x00df,
    0x00ae, 0x00a9, 0x2122, 0x00b4, 0x00a8, 0x2260, 0x00c6, 0x00d8,
    0x221e, 0x00b1, 0x2264, 0x2265, 0x00a5, 0x00b5, 0x2202, 0x2211,
    0x220f, 0x03c0, 0x222b, 0x00aa, 0x00ba, 0x03a9, 0x00e6, 0x00f8,
    0x00bf, 0x00a1, 0x00ac, 0x221a, 0x0192, 0x2248, 0x2206, 0x00ab,
    0x00bb, 0x2026, 0x00a0, 0x00c0, 0x00c3, 0x00d5, 0x0152, 0x0153,
    0x2013, 0x2014, 0x201c, 0x201d, 0x2018, 0x2019, 0x00f7, 0x25ca,
    0x00ff, 0x0178, 0x2044, 0x20ac, 0x00d0, 0x00f0, 0x00de, 0x00fe,
    0x00fd, 0x00b7, 0x201a, 0x201e, 0x2030, 0x00c2, 0x00ca, 0x00c1,
    0x00cb, 0x00c8, 0x00cd, 0x00ce, 0x00cf, 0x00cc, 0x00d3, 0x00d4,
    0xf8ff, 0x00d2, 0x00da, 0x00db, 0x00d9, 0x0131, 0x02c6, 0x02dc,
    0x00af, 0x02d8, 0x02d9, 0x02da, 0x00b8, 0x02dd, 0x02db, 0x02c7,
};
static const unsigned short mac_turkish[128] = {
    0x00c4, 0x00c5, 0x00c7, 0x00c9, 0x00d1, 0x00d6, 0x00dc, 0x00e1,
    0x00e0, 0x00e2, 0x00e4, 0x00e3, 0x00e5, 0x00e7, 0x00e9, 0x00e8,
    0x00ea, 0x00eb, 0x00ed, 0x00ec, 0x00ee, 0x00ef, 0x00f1, 0x00f3,
    0x00f2, 0x00f4, 0x00f6, 0x00f5, 0x00fa, 0x00f9, 0x00fb, 0x00fc,
    0x2020, 0x00b0, 0x00a2, 0x00a3, 0x00a7, 0x2022, 0x00b6, 0x00df,
    0x00ae, 0x00a9, 0x2122, 0x00b4, 0x00a8, 0x2260, 0x00c6, 0x00d8,
    0x221e, 0x00b1, 0x2264, 0x2265, 0x00a5, 0x00b5, 0x2202, 0x2211,
    0x220f, 0x03c0, 0x222b, 0x00aa, 0x00ba, 0x03a9, 0x00e6, 0x00f8,
    0x00bf, 0x00a1, 0x00ac, 0x221a, 0x0192, 0x2248, 0x2206, 0x00ab,
    0x00bb, 0x2026, 0x00a0, 0x00c0, 0x00c3, 0x00d5, 0x0152, 0x0153,
    0x2013, 0x2014, 0x201c, 0x201d, 0x2018, 0x2019, 0x00f7, 0x25ca,
    0x00ff, 0x0178, 0x011e, 0x011f, 0x0130, 0x0131, 0x015e, 0x015f,
    0x2021, 0x00b7, 0x201a, 0x201e, 0x2030, 0x00c2, 0x00ca, 0x00c1,
    0x00cb, 0x00c8, 0x00cd, 0x00ce, 0x00cf, 0x00cc, 0x00d3, 0x00d4,
    0xf8ff, 0x00d2, 0x00da, 0x00db, 0x00d9, 0xf8a0, 0x02c6, 0x02dc,
    0x00af, 0x02d8, 0x02d9, 0x02da, 0x00b8, 0x02dd, 0x02db, 0x02c7,
};

/* Their labels, folded (see fold_label); sorted by label. */
static const struct table_label {
	const char *label;
	const unsigned short *high;
} table_labels[] = {
    {"mac-greek", mac_greek},         {"mac-iceland", mac_iceland},
    {"mac-icelandic", mac_iceland},   {"mac-turkish", mac_turkish},
    {"macgreek", mac_greek},          {"maciceland", mac_iceland},
    {"macicelandic", mac_iceland},    {"macturkish", mac_turkish},
    {"x-mac-greek", mac_greek},       {"x-mac-iceland", mac_iceland},
    {"x-mac-icelandic", mac_iceland}, {"x-mac-turkish", mac_turkish},
};

static int
cmp_table_label(const void *k, const void *e)
{
	return strcmp(k, ((const struct table_label *)e)->label);
}

/* Reports "<before><name><after>". */
static void
warnf(struct tr_charset *cs, const char *before, const char *name,
      const char *after)
{
	char msg[160];

	if (cs->warn == NULL)
		return;
	snprintf(msg, sizeof(msg), "%s%s%s", before, name, after);
	cs->warn(cs->warn_arg, msg);
}

/* Copies s (n bytes) into out lowercased and trimmed, as ASCII. */
static void
lower_copy(char *out, size_t size, const char *s, size_t n)
{
	size_t i = 0;

	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	/* Charset names are printable ASCII (RFC 2978); others are junk. */
	for (; i + 1 < size && i < n; i++)
		out[i] =
		    (unsigned char)s[i] > 0x20 && (unsigned char)s[i] < 0x7f
		        ? (char)tolower((unsigned char)s[i])
		        : '?';
	out[i] = '\0';
}

int
tr_charset_content_type(char *type, size_t tsize, char *charset, size_t csize,
                        const char *ct)
{
	const char *p, *semi;
	size_t tl;

	type[0] = charset[0] = '\0';
	if (ct == NULL)
		return 0;
	semi = strchr(ct, ';');
	lower_copy(type, tsize, ct, semi ? (size_t)(semi - ct) : strlen(ct));
	for (p = semi; p && *p; p = strchr(p + 1, ';')) {
		const char *v, *e;

		v = p + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		if (strncasecmp(v, "charset", 7) != 0)
			continue;
		v += 7;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v++ != '=')
			continue;
		while (*v == ' ' || *v == '\t')
			v++;
		if (*v == '"' || *v == '\'') {
			/* RFC 9110 quotes with "; servers also write ' */
			e = strchr(v + 1, *v);
			v++;
		} else
			e = v + strcspn(v, "; \t");
		if (e == NULL)
			e = v + strlen(v);
		lower_copy(charset, csize, v, (size_t)(e - v));
		break;
	}
	tl = strlen(type);
	p = strchr(type, '/');
	/* RFC 7303 §3, §9: xml, xml-dtd, xml-external-parsed-entity under
	 * text/ or application/, and any +xml type. */
	return (p && (strcmp(p, "/xml") == 0 || strcmp(p, "/xml-dtd") == 0 ||
	              strcmp(p, "/xml-external-parsed-entity") == 0)) ||
	       (tl > 4 && strcmp(type + tl - 4, "+xml") == 0);
}

int
tr_charset_xml_decl(char *enc, size_t size, const char *s, size_t n)
{
	const char *lt, *end, *p;
	size_t left;

	enc[0] = '\0';
	if (n == 0)
		return -1;
	if ((lt = memchr(s, '<', n)) == NULL)
		return n >= SNIFF_MAX ? 0 : -1;
	left = n - (size_t)(lt - s);
	if (left < 6)
		return memcmp(lt, "<?xml ", left) == 0 ? -1 : 0;
	if (memcmp(lt, "<?xml", 5) != 0 || !isspace((unsigned char)lt[5]))
		return 0;
	for (end = lt; end + 1 < s + n; end++)
		if (end[0] == '?' && end[1] == '>')
			break;
	if (end + 1 >= s + n)
		return n >= SNIFF_MAX ? 0 : -1;
	for (p = lt + 5; p + 8 < end; p++) {
		const char *v, *q;

		if (memcmp(p, "encoding", 8) != 0)
			continue;
		v = p + 8;
		while (v < end && isspace((unsigned char)*v))
			v++;
		if (v >= end || *v++ != '=')
			continue;
		while (v < end && isspace((unsigned char)*v))
			v++;
		if (v >= end || (*v != '"' && *v != '\''))
			continue;
		if ((q = memchr(v + 1, *v, (size_t)(end - v - 1))) == NULL)
			return 0;
		lower_copy(enc, size, v + 1, (size_t)(q - v - 1));
		return enc[0] != '\0';
	}
	return 0;
}

/* Labels read as windows-1252 (WHATWG Encoding §4.2, "windows-1252"). */
static const char *const cp1252_labels[] = {
    /* folded: see fold_label */
    "ansi-x3.4-1968", "ascii",      "cp1252",     "cp819",
    "csisolatin1",    "ibm819",     "iso-8859-1", "iso-8859-1:1987",
    "iso-ir-100",     "iso8859-1",  "iso88591",   "l1",
    "latin1",         "us-ascii",   "windows-1252", "x-cp1252",
};

static int
cmp_label(const void *k, const void *e)
{
	return strcmp(k, *(const char *const *)e);
}

/*
 * Labels iconv does not know by that name, folded (lowercase, '_' as
 * '-'), and what to open instead; sorted by label. GBK and gb2312 are
 * decoded as GB18030, their superset, as WHATWG Encoding §10.1 says
 * browsers do; EUC-KR as windows-949 likewise (§12.1). The rest are IANA
 * aliases (Character Sets registry), the x-mac names of Mac code pages
 * and the names Python gives them (macroman, maclatin2, ibm039).
 */
static const struct label_alias {
	const char *label, *iconv;
} label_aliases[] = {
    {"chinese", "GB18030"},
    {"cp-is", "IBM861"},
    {"csgb2312", "GB18030"},
    {"csiso58gb231280", "GB18030"},
    {"csksc56011987", "CP949"},
    {"csmacintosh", "MACINTOSH"},
    {"euc-kr", "CP949"},
    {"gb-2312", "GB18030"},
    {"gb-2312-80", "GB18030"},
    {"gb2312", "GB18030"},
    {"gbk", "GB18030"},
    {"ibm039", "IBM037"},
    {"iso-8859-8-i", "ISO-8859-8"},
    {"iso-ir-149", "CP949"},
    {"iso-ir-58", "GB18030"},
    {"korean", "CP949"},
    {"ks-c-5601-1987", "CP949"},
    {"ks-c-5601-1989", "CP949"},
    {"ksc-5601", "CP949"},
    {"ksc5601", "CP949"},
    {"mac", "MACINTOSH"},
    {"mac-ukrainian", "MACUKRAINIAN"},
    {"maccentraleurope", "MAC-CENTRALEUROPE"},
    {"macintosh", "MACINTOSH"},
    {"maclatin2", "MAC-CENTRALEUROPE"},
    {"macroman", "MACINTOSH"},
    {"windows-949", "CP949"},
    {"x-gbk", "GB18030"},
    {"x-mac-ce", "MAC-CENTRALEUROPE"},
    {"x-mac-centraleurope", "MAC-CENTRALEUROPE"},
    {"x-mac-cyrillic", "MAC-CYRILLIC"},
    {"x-mac-roman", "MACINTOSH"},
    {"x-mac-ukrainian", "MACUKRAINIAN"},
};

static int
cmp_alias(const void *k, const void *e)
{
	return strcmp(k, ((const struct label_alias *)e)->label);
}

/* label lowercased with '_' as '-' ("ISO_8859-1" is "iso-8859-1"). */
static void
fold_label(char *out, size_t size, const char *label)
{
	size_t i;

	for (i = 0; i + 1 < size && label[i]; i++)
		out[i] = label[i] == '_' ? '-'
		                         : (char)tolower((unsigned char)label[i]);
	out[i] = '\0';
}

/*
 * Opens an iconv decoder for a folded label: its alias, the label as it
 * is, then the spellings iconv knows for the common variants ("x-sjis",
 * "ibm-866", "csIBM861", and bare code page numbers "437", "1251": IBM
 * then Windows code pages). (iconv_t)-1 when none works.
 */
static iconv_t
open_iconv(const char *f)
{
	const struct label_alias *a;
	char alt[80];
	iconv_t cd;
	size_t i, k;

	a = bsearch(f, label_aliases,
	            sizeof(label_aliases) / sizeof(label_aliases[0]),
	            sizeof(label_aliases[0]), cmp_alias);
	if (a && (cd = iconv_open("UTF-8", a->iconv)) != (iconv_t)-1)
		return cd;
	if ((cd = iconv_open("UTF-8", f)) != (iconv_t)-1)
		return cd;
	if (strncmp(f, "x-", 2) == 0 &&
	    (cd = iconv_open("UTF-8", f + 2)) != (iconv_t)-1)
		return cd;
	if (strncmp(f, "cs", 2) == 0 && f[2] &&
	    (cd = iconv_open("UTF-8", f + 2)) != (iconv_t)-1)
		return cd;
	for (i = k = 0; f[i] && k + 1 < sizeof(alt); i++)
		if (f[i] != '-')
			alt[k++] = f[i];
	alt[k] = '\0';
	if ((cd = iconv_open("UTF-8", alt)) != (iconv_t)-1)
		return cd;
	if (*f && strspn(f, "0123456789") == strlen(f) && strlen(f) < 8) {
		static const char *const pre[] = {"IBM", "CP", "WINDOWS-"};

		for (i = 0; i < 3; i++) {
			snprintf(alt, sizeof(alt), "%s%s", pre[i], f);
			if ((cd = iconv_open("UTF-8", alt)) != (iconv_t)-1)
				return cd;
		}
	}
	return (iconv_t)-1;
}

static int
is_cp1252(const char *name)
{
	return bsearch(name, cp1252_labels,
	               sizeof(cp1252_labels) / sizeof(cp1252_labels[0]),
	               sizeof(cp1252_labels[0]), cmp_label) != NULL;
}

/* What the byte order mark or the first bytes say, else NULL (RFC 7303 §3,
 * XML 1.0 App. F). */
static const char *
sniff_bom(const unsigned char *b, size_t n, size_t *bom)
{
	*bom = 0;
	if (n >= 4 && !memcmp(b, "\0\0\xfe\xff", 4))
		return *bom = 4, "utf-32be";
	if (n >= 4 && !memcmp(b, "\xff\xfe\0\0", 4))
		return *bom = 4, "utf-32le";
	if (n >= 3 && !memcmp(b, "\xef\xbb\xbf", 3))
		return *bom = 3, "utf-8";
	if (n >= 2 && !memcmp(b, "\xfe\xff", 2))
		return *bom = 2, "utf-16be";
	if (n >= 2 && !memcmp(b, "\xff\xfe", 2))
		return *bom = 2, "utf-16le";
	return NULL;
}

static const char *
sniff_pattern(const unsigned char *b, size_t n)
{
	if (n >= 4 && b[0] == 0 && b[1] == 0 && b[2] == 0 && b[3] != 0)
		return "utf-32be";
	if (n >= 4 && b[0] != 0 && b[1] == 0 && b[2] == 0 && b[3] == 0)
		return "utf-32le";
	if (n >= 2 && b[0] == 0 && b[1] != 0)
		return "utf-16be";
	if (n >= 2 && b[0] != 0 && b[1] == 0)
		return "utf-16le";
	return NULL;
}

/*
 * The encoding an EBCDIC document's XML declaration names (XML 1.0 App.
 * F: it starts "<?xm" in EBCDIC, 4C 6F A7 94), read through IBM037,
 * whose letters, digits and punctuation every EBCDIC code page shares.
 * As tr_charset_xml_decl; "ibm037" when the declaration names none.
 */
static int
ebcdic_decl(char *enc, size_t size, const unsigned char *b, size_t n)
{
	char raw[SNIFF_MAX], text[SNIFF_MAX], *in = raw, *out = text;
	size_t inleft = n < sizeof(raw) ? n : sizeof(raw);
	size_t outleft = sizeof(text);
	iconv_t cd = iconv_open("UTF-8", "IBM037");
	int r;

	if (cd == (iconv_t)-1)
		return 0;
	memcpy(raw, b, inleft);
	/* Characters beyond ASCII may not fit: the declaration does. */
	(void)iconv(cd, &in, &inleft, &out, &outleft);
	iconv_close(cd);
	r = tr_charset_xml_decl(enc, size, text, sizeof(text) - outleft);
	if (r == 0)
		snprintf(enc, size, "ibm037");
	return r < 0 ? r : 1;
}

/* Sets up the decoder for name; unknown names fall back to UTF-8. */
static int
open_decoder(struct tr_charset *cs, const char *label, const char *wide)
{
	const struct table_label *t;
	char folded[64];
	const char *name = folded;

	cs->high = NULL;
	/* Labels match whatever their case and '_' or '-' (WHATWG
	 * Encoding §4.2 lowercases; IANA names mix both). */
	fold_label(folded, sizeof(folded), label);
	if (strcmp(name, "utf8") == 0 ||
	    strcmp(name, "unicode-1-1-utf-8") == 0 ||
	    strcmp(name, "x-unicode20utf8") == 0)
		name = "utf-8";
	if (strcmp(name, "utf-16") == 0 || strcmp(name, "utf-32") == 0 ||
	    strcmp(name, "ucs-2") == 0 || strcmp(name, "ucs-4") == 0)
		name = wide                                 ? wide
		       : (name[4] == '3' || name[4] == '4') ? "utf-32be"
		                                            : "utf-16be";
	if (wide && strncmp(name, "utf-", 4) != 0)
		name = wide; /* the bytes are UTF-16/32 whatever the label */
	if (!wide && (strncmp(name, "utf-16", 6) == 0 ||
	              strncmp(name, "utf-32", 6) == 0)) {
		/* Labelled wide, but the bytes are ASCII-compatible. */
		warnf(cs, "document labelled ", name, " is not; read as UTF-8");
		name = "utf-8";
	}
	snprintf(cs->name, sizeof(cs->name), "%s",
	         name == folded ? label : name);
	if (strcmp(name, "utf-8") == 0) {
		snprintf(cs->name, sizeof(cs->name), "utf-8");
		cs->dec = DEC_UTF8;
		return 0;
	}
	if (is_cp1252(name)) {
		cs->dec = DEC_TABLE;
		return 0;
	}
	t = bsearch(name, table_labels,
	            sizeof(table_labels) / sizeof(table_labels[0]),
	            sizeof(table_labels[0]), cmp_table_label);
	if (t != NULL) {
		cs->dec = DEC_TABLE;
		cs->high = t->high;
		return 0;
	}
	cs->unit = strncmp(name, "utf-32", 6) == 0   ? 4
	           : strncmp(name, "utf-16", 6) == 0 ? 2
	                                             : 1;
	cs->cd = open_iconv(name);
	if (cs->cd == (iconv_t)-1) {
		warnf(cs, "unknown encoding \"", label,
		      "\", read as UTF-8 (other bytes as windows-1252)");
		snprintf(cs->name, sizeof(cs->name), "utf-8");
		cs->dec = DEC_UTF8;
		return 0;
	}
	cs->dec = DEC_ICONV;
	return 0;
}

/*
 * Decides the encoding from the held-back bytes. Returns 1 when decided
 * (and *skip is the BOM length), 0 when more bytes are needed.
 */
static int
decide(struct tr_charset *cs, int final, size_t *skip)
{
	const unsigned char *b = (const unsigned char *)cs->sniff.data;
	size_t n = cs->sniff.len;
	const char *bom, *wide;
	char decl[64] = "";
	int r;

	*skip = 0;
	if (n < 4 && !final)
		return 0;
	if ((bom = sniff_bom(b, n, skip)) != NULL) {
		open_decoder(cs, bom, strcmp(bom, "utf-8") ? bom : NULL);
		return 1;
	}
	wide = sniff_pattern(b, n);
	if (wide == NULL) {
		r = n >= 4 && memcmp(b, "\x4c\x6f\xa7\x94", 4) == 0
		        ? ebcdic_decl(decl, sizeof(decl), b, n)
		        : tr_charset_xml_decl(decl, sizeof(decl),
		                              (const char *)b, n);
		if (r < 0 && !final && n < SNIFF_MAX)
			return 0;
	}
	if (cs->http_charset[0] && cs->http_is_xml)
		open_decoder(cs, cs->http_charset, wide);
	else if (decl[0])
		open_decoder(cs, decl, wide);
	else if (cs->http_charset[0])
		open_decoder(cs, cs->http_charset, wide);
	else
		open_decoder(cs, wide ? wide : "utf-8", wide);
	return 1;
}

int
tr_charset_new(struct tr_charset **out, const char *content_type,
               tr_charset_warn_fn warn, void *arg)
{
	struct tr_charset *cs;
	char type[128];

	*out = NULL;
	if ((cs = calloc(1, sizeof(*cs))) == NULL)
		return TR_ENOMEM;
	cs->cd = (iconv_t)-1;
	cs->warn = warn;
	cs->warn_arg = arg;
	tr_buf_init(&cs->sniff, SNIFF_MAX + 64);
	tr_buf_init(&cs->out, OUT_MAX);
	tr_buf_init(&cs->join, OUT_MAX);
	cs->http_is_xml =
	    tr_charset_content_type(type, sizeof(type), cs->http_charset,
	                            sizeof(cs->http_charset), content_type);
	*out = cs;
	return 0;
}

static int
add_cp(struct tr_buf *b, unsigned int c)
{
	char u[4];
	size_t n;

	if (c < 0x80)
		u[0] = (char)c, n = 1;
	else if (c < 0x800) {
		u[0] = (char)(0xc0 | (c >> 6));
		u[1] = (char)(0x80 | (c & 0x3f));
		n = 2;
	} else {
		u[0] = (char)(0xe0 | (c >> 12));
		u[1] = (char)(0x80 | ((c >> 6) & 0x3f));
		u[2] = (char)(0x80 | (c & 0x3f));
		n = 3;
	}
	return tr_buf_add(b, u, n);
}

/* A single-byte code page whose lower half is ASCII: windows-1252, or
 * the table of cs->high. */
static int
decode_table(struct tr_charset *cs, const unsigned char *in, size_t n)
{
	size_t i, run = 0;
	unsigned int c;
	int rc;

	for (i = 0; i < n; i++) {
		if (in[i] < 0x80)
			continue;
		c = cs->high ? cs->high[in[i] - 0x80] : tr_cp1252(in[i]);
		if ((rc = tr_buf_add(&cs->out, in + run, i - run)) != 0 ||
		    (rc = add_cp(&cs->out, c)) != 0)
			return rc;
		run = i + 1;
	}
	return n > run ? tr_buf_add(&cs->out, in + run, n - run) : 0;
}

/*
 * Runs iconv over the carried bytes and in; keeps an incomplete character
 * at the end for the next chunk. Invalid sequences become U+FFFD, one code
 * unit at a time.
 */
static int
decode_iconv(struct tr_charset *cs, const char *in, size_t n, int final)
{
	char tmp[8192], *src, *dst;
	size_t srcleft, dstleft, take, r;
	int rc, e;

	if (cs->ncarry > 0) {
		tr_buf_reset(&cs->join);
		if ((rc = tr_buf_add(&cs->join, cs->carry, cs->ncarry)) != 0 ||
		    (rc = tr_buf_add(&cs->join, in, n)) != 0)
			return rc;
		cs->ncarry = 0;
		in = cs->join.data, n = cs->join.len;
	}
	src = (char *)(uintptr_t)in; /* iconv(3) takes char ** */
	srcleft = n;
	while (srcleft > 0) {
		dst = tmp, dstleft = sizeof(tmp);
		r = iconv(cs->cd, &src, &srcleft, &dst, &dstleft);
		e = errno;
		if ((rc = tr_buf_add(&cs->out, tmp, (size_t)(dst - tmp))) != 0)
			return rc;
		if (r != (size_t)-1 || e == E2BIG)
			continue;
		if (e == EINVAL && !final && srcleft < sizeof(cs->carry)) {
			memcpy(cs->carry, src, srcleft);
			cs->ncarry = srcleft;
			return 0;
		}
		/* EILSEQ, or an incomplete character at the very end. */
		cs->n_bad++;
		if ((rc = tr_buf_add(&cs->out, "\xef\xbf\xbd", 3)) != 0)
			return rc;
		take = srcleft < cs->unit ? srcleft : cs->unit;
		src += take, srcleft -= take;
	}
	if (final) {
		/* Ends the shift state of stateful encodings (ISO-2022-JP). */
		dst = tmp, dstleft = sizeof(tmp);
		iconv(cs->cd, NULL, NULL, &dst, &dstleft);
		return tr_buf_add(&cs->out, tmp, (size_t)(dst - tmp));
	}
	return 0;
}

static int
convert(struct tr_charset *cs, const char *in, size_t n, int final,
        const char **out, size_t *outlen)
{
	int rc = 0, bad = cs->n_bad;

	if (cs->dec == DEC_UTF8) {
		*out = in, *outlen = n;
		return 0;
	}
	tr_buf_reset(&cs->out);
	if (cs->dec == DEC_TABLE)
		rc = decode_table(cs, (const unsigned char *)in, n);
	else
		rc = decode_iconv(cs, in, n, final);
	if (bad == 0 && cs->n_bad > 0)
		warnf(cs, "invalid ", cs->name,
		      " byte sequence replaced by U+FFFD");
	*out = tr_buf_str(&cs->out), *outlen = cs->out.len;
	return rc;
}

int
tr_charset_feed(struct tr_charset *cs, const char *in, size_t n, int final,
                const char **out, size_t *outlen)
{
	const char *in0 = in;
	size_t skip, room, n0 = n, had = cs->sniff.len;
	int rc;

	*out = "", *outlen = 0;
	if (cs->dec != DEC_NONE) {
		tr_buf_free(&cs->sniff); /* the caller is done with it */
		return convert(cs, in, n, final, out, outlen);
	}
	/* Sniffing: hold bytes back until the encoding is known. */
	room = SNIFF_MAX - cs->sniff.len;
	if (room > n)
		room = n;
	if (room > 0 && (rc = tr_buf_add(&cs->sniff, in, room)) != 0)
		return rc;
	if (room > 0)
		in += room, n -= room;
	if (!decide(cs, final || cs->sniff.len >= SNIFF_MAX, &skip))
		return 0;
	/* UTF-8 decided on this chunk's first bytes alone: they are still
	 * in place before the rest, so no copy (the usual first chunk). */
	if (had == 0 && cs->dec == DEC_UTF8 && n0 > skip) {
		*out = in0 + skip, *outlen = n0 - skip;
		return 0;
	}
	/* Join the held bytes and the rest of this chunk, convert once. */
	cs->sniff.max = cs->sniff.len + n + 1;
	if (n > 0 && (rc = tr_buf_add(&cs->sniff, in, n)) != 0)
		return rc;
	if (cs->sniff.len == 0)
		return 0;
	return convert(cs, cs->sniff.data + skip, cs->sniff.len - skip, final,
	               out, outlen);
}

const char *
tr_charset_name(const struct tr_charset *cs)
{
	return cs->name;
}

int
tr_charset_is_utf8(const struct tr_charset *cs)
{
	return cs->dec == DEC_UTF8;
}

void
tr_charset_free(struct tr_charset *cs)
{
	if (cs == NULL)
		return;
	if (cs->cd != (iconv_t)-1)
		iconv_close(cs->cd);
	tr_buf_free(&cs->sniff);
	tr_buf_free(&cs->out);
	tr_buf_free(&cs->join);
	free(cs);
}
