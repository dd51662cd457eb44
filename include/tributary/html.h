/*
 * html.h — the HTML of item bodies: parsed with Gumbo (an HTML5 parser
 * that builds the tree the way browsers do), links made absolute,
 * sanitized with an allowlist and written back as well-formed HTML; and
 * HTML to plain text for titles, excerpts and search.
 *
 * tributary republishes other sites' HTML under its own address, so the
 * parser runs every summary and content body through tr_html_sanitize()
 * once, before the article is stored; every output serves the result.
 *
 * What the default policy keeps (an allowlist; everything else goes):
 *   - the markup of articles: text semantics, headings, paragraphs,
 *     lists, tables, figure/figcaption, picture, img, audio, video,
 *     source, track, pre/code, blockquote, details/summary, ruby, ...;
 *     with a few attributes each (href, src, srcset, alt, title, width,
 *     height, cite, datetime, colspan, ...; see rules[] in html.c);
 *   - links get rel="noopener noreferrer";
 *   - a lazy-loaded image gets the source a page's script would give it
 *     (data-src, data-lazy-src, data-original, data-lazy; data-srcset,
 *     data-lazy-srcset) in place of its placeholder, and the copy of it
 *     inside <noscript> goes;
 *   - every URL (href, src, srcset candidates, poster, cite, longdesc)
 *     is trimmed, resolved against the base and kept only when its
 *     scheme is http, https or mailto (or a fragment "#x"; and
 *     data:image/png|gif|jpeg|webp in img src; and in a link's href the
 *     schemes that open an application and run nothing in the page:
 *     magnet, tel, ftp, webcal, irc, xmpp, ...; see link_schemes in
 *     html.c). The scheme is read the
 *     way a browser reads it: after entity decoding, with tab, CR and LF
 *     removed and leading controls and spaces trimmed, in any case.
 * What it drops with their contents: script, style, template, iframe
 * (unless its host is an embed host), object, embed, applet, form
 * controls, select, textarea, title, svg and the like. What it drops but
 * keeps the contents of: any other element (form, font, noscript, span
 * attributes, unknown tags, ...). Always dropped: on* handlers, style,
 * class and id attributes, comments, processing instructions, <base>,
 * <meta>, <link>.
 *
 * The output is well-formed XML as well as HTML: every element closed
 * (void elements as "<br />"), attribute values double-quoted, & < > "
 * escaped, C0 controls other than tab, LF and CR dropped, invalid UTF-8
 * as U+FFFD. So the same text is valid in Atom type="html", RSS
 * description and JSON Feed content_html, and reads the same in a
 * browser.
 */
#ifndef TRIBUTARY_HTML_H
#define TRIBUTARY_HTML_H

#include <stddef.h>

#include "tributary/buf.h"

enum tr_html_mode {
	TR_HTML_DEFAULT = 0, /* the allowlist above */
	TR_HTML_TEXT,        /* no markup at all: the text, escaped */
};

/*
 * The sanitizer's version: bump it with any change of what tr_html_sanitize
 * or tr_html_sanitize_text give for some input, so that bodies stored by
 * an older sanitizer are not reused for the same inputs (tr_article's
 * raw_hash) but sanitized again.
 */
#define TR_HTML_VERSION 4

struct tr_html_policy {
	enum tr_html_mode mode;
	/*
	 * Hosts whose iframes are kept (video sites' embeds): an https or
	 * http src whose host is one of these or a subdomain of one. None
	 * by default. A kept iframe gets a sandbox attribute and no
	 * contents.
	 */
	const char *const *embed_hosts;
	size_t n_embed_hosts;
};

/*
 * Appends the sanitized form of the HTML fragment html (len bytes, any
 * bytes) to out. Relative URLs are resolved against base (the xml:base
 * in scope or the document's URL; NULL: relative URLs are dropped).
 * policy NULL means the default. Returns 0, TR_ENOMEM or TR_ETOOBIG (the
 * buffer's cap); on failure out may hold part of the result.
 */
int tr_html_sanitize(struct tr_buf *out, const char *html, size_t len,
                     const char *base, const struct tr_html_policy *policy);

/*
 * tr_html_sanitize(), and appends to text (when not NULL) the plain text
 * of what it wrote, on the same walk of the same parse: what
 * tr_html_text() of the output would give (for the search index, with no
 * second parse of the body). Same returns; text has its own cap.
 */
int tr_html_sanitize_text(struct tr_buf *out, struct tr_buf *text,
                          const char *html, size_t len, const char *base,
                          const struct tr_html_policy *policy);

/*
 * Appends the plain text of the HTML fragment html (len bytes) to out:
 * parsed the same way, so markup inside attribute values, comments and
 * the contents of script, style and the like never leak into it;
 * character references decoded, block elements and line breaks as word
 * breaks, white space collapsed to single spaces and trimmed, control
 * characters dropped. max_chars 0 means no limit; otherwise a longer
 * text is cut at a word boundary when one is near and ends with "…".
 * The result is NOT escaped. Returns 0, TR_ENOMEM or TR_ETOOBIG.
 */
int tr_html_text(struct tr_buf *out, const char *html, size_t len,
                 size_t max_chars);

/* "default" or "text"; and back: 0 and *mode set, or TR_EINVAL. */
const char *tr_html_mode_name(enum tr_html_mode mode);
int tr_html_mode_parse(enum tr_html_mode *mode, const char *name);

#endif
