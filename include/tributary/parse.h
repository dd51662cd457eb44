/*
 * parse.h — the streaming feed parser: any RSS or Atom document in,
 * normalized article records out.
 *
 * Bytes are pushed in as they arrive (tr_parser_feed), then
 * tr_parser_finish(). Each article is handed to the callback when its
 * element closes; the record is borrowed for the call. The parser never
 * holds the whole document: memory stays flat as a document grows.
 *
 *	struct tr_parse_opts o = {.base_url = url, .content_type = ctype};
 *	tr_parser_new(&p, &o, on_article, arg);
 *	while ((n = read(fd, buf, sizeof buf)) > 0)
 *		tr_parser_feed(p, buf, n);
 *	tr_parser_finish(p);
 *	... tr_parser_meta(p), tr_parser_version(p) ...
 *	tr_parser_free(p);
 */
#ifndef TRIBUTARY_PARSE_H
#define TRIBUTARY_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "tributary/article.h"
#include "tributary/html.h"

enum tr_feed_version {
	TR_FEED_UNKNOWN = 0,
	TR_RSS090,
	TR_RSS091,
	TR_RSS092,
	TR_RSS093,
	TR_RSS094,
	TR_RSS20,
	TR_RSS10,
	TR_ATOM03,
	TR_ATOM10,
	TR_ATOM01, /* Atom drafts before 0.3, by their version attribute */
	TR_ATOM02,
	TR_ATOM, /* an Atom draft that does not say which */
};

/* "rss090" ... "atom10", "atom01", "atom02", "atom", or "unknown". */
const char *tr_feed_version_name(enum tr_feed_version v);

/*
 * Called once per article, in document order. Return 0 to go on, any
 * other value to stop parsing (tr_parser_feed then returns TR_EABORT).
 */
typedef int (*tr_article_cb)(const struct tr_article *a, void *arg);

/*
 * Asked, when set, for each item whose bodies are to be sanitized, once
 * a->id and a->raw_hash are set (a->summary and a->content still as the
 * document has them): returns 1 after replacing a->summary, a->content
 * and a->text (owned by a; freed with it) with the ones stored from the
 * same raw_hash, so the item is not sanitized again; 0, or a negative
 * error, to have it sanitized.
 */
typedef int (*tr_body_cb)(struct tr_article *a, void *arg);

struct tr_parse_opts {
	const char *base_url;	  /* the document's URL, for relative links */
	const char *content_type; /* HTTP Content-Type, for its charset */
	size_t max_field;	  /* cap on one text field; 0: 1 MiB */
	size_t max_items;	  /* cap on items per document; 0: 100000 */
	size_t max_depth;	  /* cap on element nesting; 0: 1000 */
	int always_clean; /* run the repairing pre-cleaner over every byte,
	                     not only when needed (same result, slower; for
	                     tests and comparisons) */
	/* Item bodies (summary, content) are sanitized with Gumbo and
	 * their URLs made absolute (html.h) before each article is handed
	 * out, against the xml:base in scope or base_url: */
	const struct tr_html_policy *html_policy; /* borrowed; NULL: the
	                                             default policy */
	int raw_html; /* non-zero: bodies as the document has them */
	int defer_html; /* non-zero: an item whose bodies the body callback
	                   does not give goes out with them raw and its
	                   bases (a->bodies_raw), for the caller to sanitize
	                   with tr_parser_sanitize_article() elsewhere (on
	                   another thread); a->raw_hash is set all the same */
	tr_body_cb body_cb; /* bodies sanitized before, or NULL */
	void *body_arg;
};

struct tr_parser;

/* Creates a parser; opts may be NULL. 0 or TR_ENOMEM. Strings copied. */
int tr_parser_new(struct tr_parser **out, const struct tr_parse_opts *opts,
    tr_article_cb cb, void *arg);

/*
 * Readies p for the next document: the state of a new parser with this
 * base URL and Content-Type (each may be NULL), the callback and caps
 * kept. The expat parser and the buffers are kept too, so that a round
 * over many feeds does not allocate them per document. 0 or TR_ENOMEM
 * (p can then only be freed).
 */
int tr_parser_reset(struct tr_parser *p, const char *base_url,
                    const char *content_type);

/* Replaces the callback and its arg (a reused parser serving a new job). */
void tr_parser_set_callback(struct tr_parser *p, tr_article_cb cb, void *arg);

/* Replaces the sanitizer policy (borrowed; NULL: the default). */
void tr_parser_set_html_policy(struct tr_parser *p,
                               const struct tr_html_policy *policy);

/* Replaces the body callback and its arg (NULL: every body sanitized). */
void tr_parser_set_body_cb(struct tr_parser *p, tr_body_cb cb, void *arg);

/*
 * The raw hash of an item's bodies (tr_article.raw_hash): of the summary
 * and content as the document has them (either may be NULL), the bases
 * they resolve against, the policy (NULL: the default), the cap on one
 * field and the sanitizer's version, so that equal hashes mean equal
 * sanitized bodies. Never 0.
 */
uint64_t tr_parser_raw_hash(const char *summary, const char *summary_base,
                            const char *content, const char *content_base,
                            const struct tr_html_policy *policy,
                            size_t max_field);

/*
 * Sanitizes the bodies of a that a parser with defer_html handed out raw
 * (a->bodies_raw), exactly as the parser does inline: each body parsed
 * with Gumbo, its URLs resolved against its base (a->summary_base,
 * a->content_base), the policy applied (NULL: the default), and a->text
 * set to the text of what was written. max_field is the parser's cap on
 * one field (0: 1 MiB); a body that grows past eight times it when
 * sanitized is left out, and *n_cut (may be NULL) gets how many were:
 * the caller says so (the parser makes it one of its warnings). Clears
 * bodies_raw and the bases. Safe on any thread: a touches nothing
 * shared. 0 or TR_ENOMEM (a's bodies may then be gone).
 */
int tr_parser_sanitize_article(struct tr_article *a,
                               const struct tr_html_policy *policy,
                               size_t max_field, int *n_cut);

/*
 * Parses the next len bytes. Returns 0 (also when the document is broken
 * but the parser recovers), TR_EABORT when the callback stopped it, or
 * TR_EPARSE once nothing more can be read from the document.
 */
int tr_parser_feed(struct tr_parser *p, const void *buf, size_t len);

/* Ends the document. 0 when a feed was recognized, else TR_EPARSE. */
int tr_parser_finish(struct tr_parser *p);

/* The feed's metadata; complete after tr_parser_finish(). Borrowed. */
const struct tr_feed_meta *tr_parser_meta(const struct tr_parser *p);

enum tr_feed_version tr_parser_version(const struct tr_parser *p);

/* The encoding the document was read in, lowercase ("utf-8"). */
const char *tr_parser_encoding(const struct tr_parser *p);

/* Non-zero when the document was not well-formed (even if recovered). */
int tr_parser_bozo(const struct tr_parser *p);

/* Warnings, each "line L, column C: message". Borrowed. */
size_t tr_parser_nwarnings(const struct tr_parser *p);
const char *tr_parser_warning(const struct tr_parser *p, size_t i);

/* Articles handed to the callback so far. */
size_t tr_parser_nitems(const struct tr_parser *p);

/* Of the document's items so far: those whose bodies went through the
 * sanitizer (with defer_html: were handed out raw, to be sanitized), and
 * those whose bodies the body callback gave instead. */
size_t tr_parser_nsanitized(const struct tr_parser *p);
size_t tr_parser_nreused(const struct tr_parser *p);

/* The root element's local name ("rss", "feed", "RDF", "html"), or "". */
const char *tr_parser_root(const struct tr_parser *p);

/* Frees the parser; accepts NULL. */
void tr_parser_free(struct tr_parser *p);

#endif
