/*
 * escape.h — the one escaping layer every renderer shares.
 *
 * Input strings are meant to be UTF-8, but anything may have slipped in:
 * invalid sequences, overlong forms, surrogates encoded in UTF-8, C0
 * control characters, U+FFFE and U+FFFF. Every function here turns such
 * input into text the target format accepts:
 *
 *   - an invalid or overlong UTF-8 sequence, an encoded surrogate and a
 *     code point past U+10FFFF become U+FFFD (one per bad byte);
 *   - U+FFFE and U+FFFF become U+FFFD;
 *   - C0 controls other than tab, LF and CR are dropped from XML (XML 1.0
 *     §2.2 has no way to write them, not even as character references).
 *
 * Nothing here writes CDATA sections: text is always escaped with
 * character references, so "]]>" in the input is harmless.
 *
 * Every function appends to a struct tr_buf and returns 0, TR_ENOMEM or
 * TR_ETOOBIG (the buffer's cap); on failure the buffer may hold part of
 * the text, and the caller abandons the document.
 */
#ifndef TRIBUTARY_ESCAPE_H
#define TRIBUTARY_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

#include "tributary/buf.h"

/*
 * Decodes the UTF-8 character at s (n bytes available, n >= 1). Returns
 * the number of bytes it takes (1 to 4) and sets *cp to the code point,
 * or returns 1 and sets *cp to -1 when the byte at s does not start a
 * valid, shortest-form, non-surrogate sequence.
 */
size_t tr_utf8_decode(const char *s, size_t n, int32_t *cp);

/* Appends code point cp (<= 0x10FFFF, not a surrogate) as UTF-8. */
int tr_utf8_append(struct tr_buf *out, uint32_t cp);

/*
 * Appends s (NULL counts as "") as XML 1.0 character data that is safe
 * both as element text and inside a double- or single-quoted attribute
 * value: & < > " ' become references, and tab, LF and CR become &#9;
 * &#10; &#13; so that attribute-value normalization (XML 1.0 §3.3.3) and
 * line-end handling (§2.11) keep them. Also right for HTML5 text and
 * quoted attribute values.
 */
int tr_escape_xml(struct tr_buf *out, const char *s);

/* The same for the first n bytes of s (which may hold no NUL). */
int tr_escape_xml_n(struct tr_buf *out, const char *s, size_t n);

/*
 * Appends s (NULL counts as "") as a JSON string literal, quotes
 * included (RFC 8259 §7), with tr_json_escape() from json.h: controls as
 * \u00XX, U+2028 and U+2029 as \u escapes (a valid JavaScript literal
 * too), invalid UTF-8 as U+FFFD. JSON can carry every control character,
 * so unlike the XML functions nothing is dropped.
 */
int tr_escape_json(struct tr_buf *out, const char *s);

/*
 * Appends a plain-text excerpt of the HTML fragment html: tags, comments
 * and the contents of script and style elements removed, character
 * references decoded, white space collapsed to single spaces and
 * trimmed. The excerpt holds at most max_chars characters; a longer text
 * is cut at a word boundary when one is near and ends with "…". The
 * result is valid UTF-8 with no control characters and is NOT escaped:
 * pass it through tr_escape_xml() before writing it into markup.
 *
 * This is a deliberately small scanner rather than an HTML parser
 * library (none among tributary's dependencies): the excerpt is escaped
 * again before use, so a fragment it reads wrongly can only make the
 * excerpt look odd, never inject markup.
 */
int tr_escape_html_text(struct tr_buf *out, const char *html,
    size_t max_chars);

#endif
