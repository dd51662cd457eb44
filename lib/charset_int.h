/*
 * charset_int.h — finding a feed document's character encoding and
 * converting its bytes to UTF-8 as they stream in (private to lib/).
 *
 * The decision follows XML 1.0 Appendix F and RFC 7303 §3: a byte order
 * mark wins; else the charset parameter of an XML media type
 * (text/xml, application/xml, any +xml); else the encoding named in the
 * XML declaration (found by sniffing the first bytes, also in UTF-16 and
 * UTF-32 without a BOM, and in EBCDIC); else the charset parameter of
 * any other media type; else UTF-8.
 *
 * ISO-8859-1, US-ASCII and windows-1252 are all decoded as windows-1252,
 * since real ISO-8859-1 feeds carry cp1252 bytes (and WHATWG Encoding
 * treats the labels as one). UTF-8 is passed through unchanged: the
 * pre-cleaner checks it and reads invalid bytes as windows-1252. Anything
 * else goes through iconv(3). Labels match in any case with '_' or '-';
 * IANA and WHATWG aliases iconv lacks are mapped (gb2312 and GBK to
 * GB18030, x-mac-roman and macroman to MACINTOSH, csIBM861, bare code
 * page numbers "437"). A label that cannot be decoded is a warning, and
 * the document is read as UTF-8 (other bytes as windows-1252): never
 * lost.
 */
#ifndef TRIBUTARY_CHARSET_INT_H
#define TRIBUTARY_CHARSET_INT_H

#include <stddef.h>

/* Reports a conversion problem (no position: the caller adds it). */
typedef void (*tr_charset_warn_fn)(void *arg, const char *msg);

struct tr_charset;

/*
 * Creates a decoder. content_type (may be NULL) is the HTTP Content-Type
 * header value. 0 or TR_ENOMEM.
 */
int tr_charset_new(struct tr_charset **out, const char *content_type,
                   tr_charset_warn_fn warn, void *arg);

/*
 * Converts the next n bytes. On return *out and *outlen hold UTF-8 text
 * (possibly empty while the first bytes are sniffed), valid until the
 * next call. With final non-zero everything held back is flushed.
 * 0, TR_ENOMEM or TR_ETOOBIG.
 */
int tr_charset_feed(struct tr_charset *cs, const char *in, size_t n, int final,
                    const char **out, size_t *outlen);

/* The encoding's name, lowercase ("utf-8"); "" until it is decided. */
const char *tr_charset_name(const struct tr_charset *cs);

/*
 * Non-zero once the document is known to be UTF-8: tr_charset_feed then
 * hands the input back unchanged and never warns again.
 */
int tr_charset_is_utf8(const struct tr_charset *cs);

/* Frees the decoder; accepts NULL. */
void tr_charset_free(struct tr_charset *cs);

/*
 * Splits a Content-Type value: the lowercase media type into type (size
 * bytes) and the charset parameter, without its double or single quotes,
 * into charset ("" when absent). Returns non-zero when the type is an XML
 * media type (RFC 7303: xml, xml-dtd, xml-external-parsed-entity, +xml).
 */
int tr_charset_content_type(char *type, size_t tsize, char *charset,
                            size_t csize, const char *content_type);

/*
 * Reads the encoding pseudo-attribute of the XML declaration at the start
 * of s (n bytes, ASCII-compatible, leading junk allowed) into enc.
 * Returns 1 when found, 0 when the declaration has none or there is no
 * declaration, -1 when more bytes are needed to tell.
 */
int tr_charset_xml_decl(char *enc, size_t size, const char *s, size_t n);

/* windows-1252 byte to Unicode code point (Latin-1 outside 0x80-0x9f). */
unsigned int tr_cp1252(unsigned char c);

#endif
