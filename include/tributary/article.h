/*
 * article.h — the normalized article record and feed metadata.
 *
 * The parser fills these from any RSS or Atom document; the store keeps
 * them; the renderers write them back out. Strings are NUL-terminated
 * valid UTF-8, or NULL when absent. Dates are Unix seconds in UTC, or
 * TR_DATE_NONE when absent or unparseable (never 0, never "now").
 *
 * Records handed to a callback by the parser are borrowed for the
 * duration of the call; tr_article_copy() makes an owned copy, freed with
 * tr_article_free().
 */
#ifndef TRIBUTARY_ARTICLE_H
#define TRIBUTARY_ARTICLE_H

#include <stddef.h>
#include <stdint.h>

#define TR_DATE_NONE INT64_MIN

struct tr_person {
	char *name;
	char *email;
	char *uri;
};

struct tr_enclosure {
	char *url;	/* absolute */
	char *type;	/* MIME type, or NULL */
	int64_t length; /* bytes, or -1 when unknown */
};

struct tr_article {
	char *id;	/* identity: guid/id, else link, else a urn:uuid:
			   (see tr_article_identity); never NULL once parsed */
	char *guid;	/* the document's own guid/id as written, or NULL */
	int guid_is_permalink; /* RSS guid isPermaLink (default true) */
	char *link;	/* absolute alternate link, or NULL */
	char *title;	/* plain text */
	char *author;	/* display form of the first author, or NULL */
	struct tr_person *authors;
	size_t n_authors;
	char *summary;	/* HTML */
	char *content;	/* HTML */
	char *text;	/* the plain text of summary and content, one space
			   apart, for the search index (not shown, not in
			   the content hash): the parser's sanitizer gives
			   it; NULL: the store derives it from the bodies */
	int64_t published;
	int64_t updated;
	char **categories;
	size_t n_categories;
	struct tr_enclosure *enclosures;
	size_t n_enclosures;
	char *image;	/* absolute URL of the item's picture (media:thumbnail),
			   or NULL */
	uint64_t id_hash; /* an item without guid or link: the hash its id
			     was made from (tr_article_identity), else 0 */
	uint64_t raw_hash; /* the hash of what the sanitized bodies were
			      made from (the raw bodies, their bases, the
			      policy, the sanitizer's version), or 0: the
			      parser sets it and the store keeps it, so that
			      bodies stored from the same inputs are reused
			      instead of sanitized again (parse.h) */
	int bodies_as_stored; /* summary, content and text are the ones the
				 store keeps for raw_hash (tr_body_cb) */
	uint64_t stored_hash; /* with bodies_as_stored: the content hash of
				 the stored row they came from, so that an
				 item equal to its row is not staged again
				 (tr_store_prep_keep); else 0 */
	int bodies_raw; /* summary and content are still as the document
			   has them, to be sanitized later against the bases
			   below (tr_parse_opts.defer_html,
			   tr_parser_sanitize_article); text is then NULL */
	char *summary_base; /* with bodies_raw: the base URL in scope at the
			       summary (the xml:base or the document's),
			       or NULL */
	char *content_base; /* and at the content */
	/* Atom source / RSS source: the feed the item originally came from. */
	char *source_title;
	char *source_url;
	char *source_id;
};

/* The document's own description of itself. */
struct tr_feed_meta {
	char *title;
	char *link;	 /* the site (alternate link) */
	char *self;	 /* the feed's own URL as the document says (rel=self) */
	char *id;
	char *author;
	char *subtitle;
	char *language;
	int64_t updated;
	int64_t ttl;	 /* publisher's hint in seconds (RSS ttl, sy:*), or 0 */
};

/*
 * Fills a->id from a->guid, else a->link, else a stable name for an item
 * that names itself in no other way: the name-based UUID (version 5) of
 * feed_url (the feed's address; NULL counts as "") and a hash of the
 * item's title, published date and summary, as "urn:uuid:...". Returns 0
 * or TR_ENOMEM.
 */
int tr_article_identity(struct tr_article *a, const char *feed_url);

/* Room for "urn:uuid:" and a UUID, and for a legacy id, with the NUL. */
#define TR_ARTICLE_UUID_ID 48
#define TR_ARTICLE_LEGACY_ID 24

/* The urn:uuid: id tr_article_identity gives an item without guid or link,
 * into out. 0 or TR_ENOMEM. */
int tr_article_uuid_id(char out[TR_ARTICLE_UUID_ID],
                       const struct tr_article *a, const char *feed_url);

/*
 * The id earlier versions gave such an item, "hash:" and 16 hex digits of
 * the same hash (a->id_hash once tr_article_identity set it: the hash of
 * the summary as the feed wrote it, before sanitizing): stores written by
 * them keep it (see store_batch.c).
 */
void tr_article_legacy_id(char out[TR_ARTICLE_LEGACY_ID],
                          const struct tr_article *a);

/* Deep-copies src into *dst (which is overwritten). 0 or TR_ENOMEM. */
int tr_article_copy(struct tr_article *dst, const struct tr_article *src);

/* Frees everything a record owns and zeroes it; accepts NULL. */
void tr_article_free(struct tr_article *a);

/* Zeroes a record: every pointer NULL, dates TR_DATE_NONE. */
void tr_article_init(struct tr_article *a);

/* Same trio for feed metadata. */
void tr_feed_meta_init(struct tr_feed_meta *m);
void tr_feed_meta_free(struct tr_feed_meta *m);

/*
 * A stable 64-bit hash (FNV-1a) of the fields that make an article's
 * content (title, link, summary, content, dates, authors, categories,
 * enclosures): equal hashes mean "nothing changed".
 */
uint64_t tr_article_content_hash(const struct tr_article *a);

#endif
