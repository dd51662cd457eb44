/*
 * parse_int.h — pieces of the feed parser shared inside lib/: the HTML
 * entity table and the streaming pre-cleaner that sits between the
 * charset decoder and expat.
 */
#ifndef TRIBUTARY_PARSE_INT_H
#define TRIBUTARY_PARSE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "tributary/buf.h"

/*
 * Looks up an HTML named character reference (without '&' and ';').
 * Returns 1 and fills cp (cp[1] is 0 unless the entity stands for two
 * code points), or 0 when name is not an HTML entity.
 */
int tr_html_entity(const char *name, unsigned int cp[2]);

/*
 * The kind of a note on something the document does that XML's grammar
 * does not allow but that loses nothing and that readers take as meant
 * (an encoding name "437"): reported, not a fault (not bozo).
 */
#define TR_CLEAN_NOTE "note"

/* Reports one repair: line and column (1-based, bytes) and a message. */
typedef void (*tr_clean_warn_fn)(void *arg, unsigned long line,
                                 unsigned long col, const char *kind,
                                 const char *msg);

struct tr_clean;

/*
 * The pre-cleaner reads UTF-8 (checked here: invalid bytes are read as
 * windows-1252) and writes text expat accepts, repairing on the way:
 *  - HTML entities XML does not declare become numeric references;
 *    unknown ones and a bare '&' are escaped (&amp;);
 *  - characters XML forbids (C0 controls) are dropped; references to
 *    them, and to no character at all (&#0;, surrogates, past U+10FFFF),
 *    become U+FFFD, as HTML reads the latter;
 *  - junk before the first element and after the last is dropped;
 *  - a close tag that skips open elements gets them closed first; a close
 *    tag matching nothing open is dropped;
 *  - a namespace prefix used undeclared is declared on the element using
 *    it (the usual namespace for the well-known prefixes of feeds, else
 *    one that makes its elements unknown ones);
 *  - "&#X41;" becomes "&#x41;";
 *  - an XML declaration XML does not allow is rewritten (one whose only
 *    fault is an encoding name starting with a digit, "437", is noted,
 *    not counted as a fault: the decoder read the name);
 *  - at the end, a cut tag is completed and elements still open closed.
 * Entities inside CDATA sections, comments, PIs and the DOCTYPE are left
 * alone; entities the internal DTD subset declares are left to expat.
 * It holds at most one tag name and one entity name, never the document.
 * max_depth bounds the elements it tracks (beyond it, repair stops).
 */
int tr_clean_new(struct tr_clean **out, size_t max_depth, tr_clean_warn_fn warn,
                 void *arg);

/*
 * An upper bound on the bytes tr_clean_feed appends for n more input
 * bytes: a byte becomes at most 5 ("&" -> "&amp;"), the close tags it may
 * add are bounded by the names of the open elements and of those the n
 * bytes open, and what the cleaner holds back from the last chunk (a tag
 * name, an entity, "<!") is at most NAME_MAX_LEN plus a little. The
 * parser uses it to clean straight into expat's buffer.
 */
size_t tr_clean_bound(const struct tr_clean *c, size_t n);

/*
 * Readies c for a new document: the state of tr_clean_new, keeping the
 * tables and the buffers already allocated.
 */
void tr_clean_reset(struct tr_clean *c);

/* Cleans n more bytes, appending to out. 0, TR_ENOMEM or TR_ETOOBIG. */
int tr_clean_feed(struct tr_clean *c, struct tr_buf *out, const char *in,
                  size_t n);

/*
 * Ends the input: completes a cut-off tag, comment or reference and
 * closes open elements. *closed is set to the number of elements it had
 * to close (0 when the document ended properly).
 */
int tr_clean_finish(struct tr_clean *c, struct tr_buf *out, size_t *closed);

/*
 * Non-zero while the cleaner holds back bytes it was given (a tag name,
 * a reference, "<!", the XML declaration, a cut UTF-8 sequence): its
 * output then lags its input. The parser hands a document over from the
 * fast way to the cleaner only where this is 0.
 */
int tr_clean_pending(const struct tr_clean *c);

/*
 * The namespace the cleaner binds an undeclared prefix to, or NULL when
 * the prefix is not a well-known one. With prefix NULL, the i-th
 * well-known prefix instead (NULL past the last): for tests.
 */
const char *tr_clean_known_prefix(const char *prefix, size_t i);

/* The position of the next byte (1-based line, byte column). */
void tr_clean_position(const struct tr_clean *c, unsigned long *line,
                       unsigned long *col);

/*
 * Moves the position to (line, byte offset off, offset of the line's
 * first byte): the parser resumes cleaning in the middle of a document
 * whose start it handed expat unchanged.
 */
void tr_clean_set_position(struct tr_clean *c, unsigned long line, uint64_t off,
                           uint64_t line_start);

/*
 * Newlines dropped before the document's first markup: expat's line
 * numbers plus this give the input's.
 */
unsigned long tr_clean_lines_dropped(const struct tr_clean *c);

void tr_clean_free(struct tr_clean *c);

#endif
