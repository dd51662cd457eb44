/*
 * html_int.h — the HTML step's pieces for its own tests and benchmarks
 * (private to lib/, tests/ and bench/).
 *
 * tr_html_sanitize() and tr_html_text() take a short way for a body with
 * no markup at all (html.c, plain_text()); the *_tree forms below always
 * go through Gumbo's tree, so a test can check that both ways write the
 * same bytes. tr_html_gumbo_only() is the part of the work that is
 * Gumbo's alone, for the benchmarks' floor.
 */
#ifndef TRIBUTARY_HTML_INT_H
#define TRIBUTARY_HTML_INT_H

#include <stddef.h>

#include "tributary/buf.h"
#include "tributary/html.h"

/* tr_html_sanitize_text() without the plain-text way: always Gumbo's
 * tree. */
int tr_html_sanitize_tree(struct tr_buf *out, struct tr_buf *text,
                          const char *html, size_t len, const char *base,
                          const struct tr_html_policy *policy);

/* tr_html_text() without the plain-text way: always Gumbo's tree. */
int tr_html_text_tree(struct tr_buf *out, const char *html, size_t len,
                      size_t max_chars);

/*
 * Whether html (len bytes) is plain text that Gumbo would read as one
 * text node holding exactly these bytes: no '<', no '&', no CR, only
 * well-formed UTF-8 and no character Gumbo reports as an error.
 */
int tr_html_is_plain(const char *html, size_t len);

/*
 * Gumbo's parse of html exactly as tr_html_sanitize() runs it (the same
 * options, the same arena, the same pieces; none for plain text) and
 * nothing else: no walk, no output. For bench/html_bench's floor. 0 or
 * TR_ENOMEM.
 */
int tr_html_gumbo_only(const char *html, size_t len);

#endif
