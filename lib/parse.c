/*
 * parse.c — the streaming feed parser: bytes in, feed metadata and
 * normalized article records out.
 *
 * The pipeline for every chunk:
 *
 *	bytes --charset.c--> UTF-8 --parse_clean.c--> well-formed XML
 *	      --expat--> start/end/text handlers here --> tr_article_cb
 *
 * expat is created with namespace processing (names arrive as
 * "URI\x01local") and told the text is UTF-8. Namespaces are matched by
 * URI through a bsearch table; (vocabulary, local name) pairs map to tag
 * ids through a second one (the sfeed way), and a (context, tag) table
 * says which field a tag fills where: a <title> under an item is the
 * item's title, under the channel the feed's, under an <image> nothing.
 *
 * Text is collected into one size-capped buffer per field being read,
 * reused from field to field and item to item, so the per-character work
 * is a copy. Each item is handed to the callback when its element closes
 * and then cleared, so memory stays flat however long the document is.
 *
 * Security: no external entity or DTD is ever loaded (no external entity
 * handler; parameter entity parsing off); expat's billion-laughs
 * protection stays on; nesting depth, field size and item count are
 * capped (tr_parse_opts).
 */
/*
 * Debian's libexpat is built with DTD support (expat_config.h sets
 * XML_DTD); expat.h declares the billion-laughs limits only under it.
 */
#ifndef XML_DTD
#define XML_DTD 1
#endif
#include <expat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "charset_int.h"
#include "parse_int.h"
#include "tributary/date.h"
#include "tributary/error.h"
#include "tributary/hash.h"
#include "tributary/html.h"
#include "tributary/parse.h"
#include "tributary/url.h"

#define NS_SEP '\x01'
#define CHUNK (64 << 10) /* cleaned bytes handed to expat at once */
/* Largest expat buffer asked for to clean a chunk straight into it; a
 * document with more open element names than this goes through
 * p->cleaned and a copy. */
#define DIRECT_MAX ((size_t)2 << 20)
#define MAX_WARNINGS 100
#define WARNINGS_PER_KIND 5

/* --- namespaces and tags ------------------------------------------------ */

enum ns {
	NS_NONE,
	NS_RSS090,
	NS_RSS10,
	NS_USERLAND,
	NS_RDF,
	NS_ATOM03,
	NS_ATOM10,
	NS_ATOMPRE, /* Atom before 0.3 (echo, pie): version from the root */
	NS_DC,
	NS_DCTERMS,
	NS_CONTENT,
	NS_MEDIA,
	NS_SY,
	NS_ITUNES,
	NS_XHTML,
	NS_XML,
	NS_OTHER,
};

static const struct ns_entry {
	const char *uri;
	enum ns ns;
} namespaces[] = {
    /* sorted by uri (strcasecmp): matched in any case, as feeds spell
     * them ("http://www.itunes.com/DTDs/PodCast-1.0.dtd", Apple's own
     * old spelling) */
    {"http://backend.userland.com/rss", NS_USERLAND},
    {"http://backend.userland.com/rss2", NS_USERLAND},
    {"http://blogs.law.harvard.edu/tech/rss", NS_USERLAND},
    {"http://channel.netscape.com/rdf/simple/0.9/", NS_RSS090},
    {"http://example.com/necho", NS_ATOMPRE},
    {"http://example.com/newformat#", NS_ATOMPRE},
    {"http://my.netscape.com/rdf/simple/0.9/", NS_RSS090},
    {"http://purl.org/atom/ns#", NS_ATOM03},
    {"http://purl.org/dc/elements/1.1/", NS_DC},
    {"http://purl.org/dc/terms/", NS_DCTERMS},
    {"http://purl.org/echo/", NS_ATOMPRE},
    {"http://purl.org/pie/", NS_ATOMPRE},
    {"http://purl.org/rss/1.0/", NS_RSS10},
    {"http://purl.org/rss/1.0/modules/content/", NS_CONTENT},
    {"http://purl.org/rss/1.0/modules/rss091#", NS_USERLAND},
    {"http://purl.org/rss/1.0/modules/syndication/", NS_SY},
    {"http://search.yahoo.com/mrss", NS_MEDIA},
    {"http://search.yahoo.com/mrss/", NS_MEDIA},
    {"http://www.itunes.com/dtds/podcast-1.0.dtd", NS_ITUNES},
    {"http://www.w3.org/1999/02/22-rdf-syntax-ns#", NS_RDF},
    {"http://www.w3.org/1999/xhtml", NS_XHTML},
    {"http://www.w3.org/2005/Atom", NS_ATOM10},
    {"http://www.w3.org/XML/1998/namespace", NS_XML},
    {"uri/of/echo/namespace#", NS_ATOMPRE},
};

/* Vocabularies: namespaces that share element names. */
enum fam {
	FAM_RSS,
	FAM_RDF,
	FAM_ATOM,
	FAM_DC,
	FAM_DCTERMS,
	FAM_CONTENT,
	FAM_MEDIA,
	FAM_SY,
	FAM_ITUNES,
	FAM_XHTML,
	FAM_OTHER
};

enum tag {
	T_NONE,
	/* RSS 0.9x/1.0/2.0 */
	T_AUTHOR,
	T_CATEGORY,
	T_CHANNEL,
	T_DESCRIPTION,
	T_ENCLOSURE,
	T_GUID,
	T_ITEM,
	T_LANGUAGE,
	T_LASTBUILDDATE,
	T_LINK,
	T_MANAGINGEDITOR,
	T_PUBDATE,
	T_RSS,
	T_SOURCE,
	T_TITLE,
	T_TTL,
	/* RDF */
	T_RDF,
	/* Atom 1.0 and 0.3 */
	T_A_AUTHOR,
	T_A_CATEGORY,
	T_A_CONTENT,
	T_A_CREATED,
	T_A_EMAIL,
	T_A_ENTRY,
	T_A_FEED,
	T_A_ID,
	T_A_ISSUED,
	T_A_LINK,
	T_A_MODIFIED,
	T_A_NAME,
	T_A_PUBLISHED,
	T_A_SOURCE,
	T_A_SUBTITLE,
	T_A_SUMMARY,
	T_A_TAGLINE,
	T_A_TITLE,
	T_A_UPDATED,
	T_A_URI,
	T_A_URL,
	/* modules */
	T_DC_AUTHOR,
	T_DC_CREATOR,
	T_DC_DATE,
	T_DC_DESCRIPTION,
	T_DC_LANGUAGE,
	T_DC_SUBJECT,
	T_DC_TITLE,
	T_DCT_CREATED,
	T_DCT_ISSUED,
	T_DCT_MODIFIED,
	T_CONTENT_ENCODED,
	T_MEDIA_CONTENT,
	T_MEDIA_DESCRIPTION,
	T_MEDIA_GROUP,
	T_MEDIA_THUMBNAIL,
	T_MEDIA_PLAYER,
	T_MEDIA_TITLE,
	T_SY_FREQUENCY,
	T_SY_PERIOD,
	T_IT_AUTHOR,
	T_IT_CATEGORY,
	T_IT_IMAGE,
	T_IT_KEYWORDS,
	T_IT_LINK,
	T_IT_SUBTITLE,
	T_IT_SUMMARY,
	/* XHTML */
	T_XHTML_BODY,
	N_TAGS
};

static const struct tag_entry {
	unsigned char fam;
	const char *name;
	unsigned char tag;
} tags[] = {
    /* sorted by (fam, name) */
    {FAM_RSS, "author", T_AUTHOR},
    {FAM_RSS, "category", T_CATEGORY},
    {FAM_RSS, "channel", T_CHANNEL},
    {FAM_RSS, "description", T_DESCRIPTION},
    {FAM_RSS, "enclosure", T_ENCLOSURE},
    {FAM_RSS, "guid", T_GUID},
    {FAM_RSS, "item", T_ITEM},
    {FAM_RSS, "language", T_LANGUAGE},
    {FAM_RSS, "lastBuildDate", T_LASTBUILDDATE},
    {FAM_RSS, "link", T_LINK},
    {FAM_RSS, "managingEditor", T_MANAGINGEDITOR},
    {FAM_RSS, "pubDate", T_PUBDATE},
    {FAM_RSS, "rss", T_RSS},
    {FAM_RSS, "source", T_SOURCE},
    {FAM_RSS, "title", T_TITLE},
    {FAM_RSS, "ttl", T_TTL},
    {FAM_RDF, "RDF", T_RDF},
    {FAM_ATOM, "author", T_A_AUTHOR},
    {FAM_ATOM, "category", T_A_CATEGORY},
    {FAM_ATOM, "content", T_A_CONTENT},
    {FAM_ATOM, "created", T_A_CREATED},
    {FAM_ATOM, "email", T_A_EMAIL},
    {FAM_ATOM, "entry", T_A_ENTRY},
    {FAM_ATOM, "feed", T_A_FEED},
    {FAM_ATOM, "id", T_A_ID},
    {FAM_ATOM, "issued", T_A_ISSUED},
    {FAM_ATOM, "link", T_A_LINK},
    {FAM_ATOM, "modified", T_A_MODIFIED},
    {FAM_ATOM, "name", T_A_NAME},
    {FAM_ATOM, "published", T_A_PUBLISHED},
    {FAM_ATOM, "source", T_A_SOURCE},
    {FAM_ATOM, "subtitle", T_A_SUBTITLE},
    {FAM_ATOM, "summary", T_A_SUMMARY},
    {FAM_ATOM, "tagline", T_A_TAGLINE},
    {FAM_ATOM, "title", T_A_TITLE},
    {FAM_ATOM, "updated", T_A_UPDATED},
    {FAM_ATOM, "uri", T_A_URI},
    {FAM_ATOM, "url", T_A_URL},
    {FAM_DC, "author", T_DC_AUTHOR},
    {FAM_DC, "creator", T_DC_CREATOR},
    {FAM_DC, "date", T_DC_DATE},
    {FAM_DC, "description", T_DC_DESCRIPTION},
    {FAM_DC, "language", T_DC_LANGUAGE},
    {FAM_DC, "subject", T_DC_SUBJECT},
    {FAM_DC, "title", T_DC_TITLE},
    {FAM_DCTERMS, "created", T_DCT_CREATED},
    {FAM_DCTERMS, "issued", T_DCT_ISSUED},
    {FAM_DCTERMS, "modified", T_DCT_MODIFIED},
    {FAM_CONTENT, "encoded", T_CONTENT_ENCODED},
    {FAM_MEDIA, "content", T_MEDIA_CONTENT},
    {FAM_MEDIA, "description", T_MEDIA_DESCRIPTION},
    {FAM_MEDIA, "group", T_MEDIA_GROUP},
    {FAM_MEDIA, "player", T_MEDIA_PLAYER},
    {FAM_MEDIA, "thumbnail", T_MEDIA_THUMBNAIL},
    {FAM_MEDIA, "title", T_MEDIA_TITLE},
    {FAM_SY, "updateFrequency", T_SY_FREQUENCY},
    {FAM_SY, "updatePeriod", T_SY_PERIOD},
    {FAM_ITUNES, "author", T_IT_AUTHOR},
    {FAM_ITUNES, "category", T_IT_CATEGORY},
    {FAM_ITUNES, "image", T_IT_IMAGE},
    {FAM_ITUNES, "keywords", T_IT_KEYWORDS},
    {FAM_ITUNES, "link", T_IT_LINK},
    {FAM_ITUNES, "subtitle", T_IT_SUBTITLE},
    {FAM_ITUNES, "summary", T_IT_SUMMARY},
    {FAM_XHTML, "body", T_XHTML_BODY},
};

/* Contexts an element can open. */
enum role {
	R_NONE,     /* ignored, and so is everything inside */
	R_ROOT,     /* <rss>, <rdf:RDF> */
	R_CHANNEL,  /* RSS <channel>, Atom <feed>: feed metadata */
	R_ITEM,     /* <item>, <entry> */
	R_PERSON,   /* Atom <author> */
	R_SOURCE,   /* Atom <source> in an entry */
	R_GROUP,    /* <media:group> or <media:content> in an item */
	R_LOOSE,    /* inside an unknown root: items and titles at any depth */
	R_FIELD,    /* an element whose text is being read */
	R_SER,      /* markup inside a field, serialized into it */
	R_SER_VOID, /* an HTML void element serialized as <x /> */
	R_SER_SKIP, /* the xhtml <div> wrapper: children only */
	N_ROLES
};

/* Where the text of a field goes. */
enum target {
	X_NONE,
	X_I_TITLE,
	X_I_LINK,
	X_I_SUMMARY,
	X_I_CONTENT,
	X_I_GUID,
	X_I_ID,
	X_I_PUBLISHED,
	X_I_UPDATED,
	X_I_DCDATE,
	X_I_CREATED, /* dcterms:created, Atom 0.3 created: published if none */
	X_I_AUTHOR,
	X_I_CREATOR,
	X_I_CATEGORY,
	X_I_SOURCE,
	X_I_ITUNES_AUTHOR, /* itunes:author: the author when none other */
	X_I_FALLBACK_SUMMARY, /* itunes:summary, media:description */
	X_I_FALLBACK_TITLE, /* media:title */
	X_I_KEYWORDS,      /* itunes:keywords: comma-separated categories */
	X_I_ATOM_LINK,     /* an atom:link with its URL as text */
	X_F_TITLE,
	X_F_LINK,
	X_F_SUBTITLE,
	X_F_ID,
	X_F_UPDATED,
	X_F_LANGUAGE,
	X_F_AUTHOR,
	X_F_TTL,
	X_F_LASTBUILD,
	X_F_ITUNES_AUTHOR,
	X_F_FALLBACK_SUBTITLE,
	X_F_ATOM_LINK,
	X_F_SY_PERIOD,
	X_F_SY_FREQ,
	X_P_NAME,
	X_P_EMAIL,
	X_P_URI,
	X_S_TITLE,
	X_S_ID,
	X_S_ATOM_LINK,
};

/* Which field a tag fills, by the context it appears in. */
static const unsigned char targets[N_ROLES][N_TAGS] = {
    [R_ITEM] =
        {
            [T_TITLE] = X_I_TITLE,
            [T_A_TITLE] = X_I_TITLE,
            [T_DC_TITLE] = X_I_TITLE,
            [T_LINK] = X_I_LINK,
            [T_DESCRIPTION] = X_I_SUMMARY,
            [T_A_SUMMARY] = X_I_SUMMARY,
            [T_DC_DESCRIPTION] = X_I_SUMMARY,
            [T_CONTENT_ENCODED] = X_I_CONTENT,
            [T_A_CONTENT] = X_I_CONTENT,
            [T_XHTML_BODY] = X_I_CONTENT,
            [T_GUID] = X_I_GUID,
            [T_A_ID] = X_I_ID,
            [T_PUBDATE] = X_I_PUBLISHED,
            [T_A_PUBLISHED] = X_I_PUBLISHED,
            [T_A_ISSUED] = X_I_PUBLISHED,
            [T_A_CREATED] = X_I_CREATED,
            [T_DCT_ISSUED] = X_I_PUBLISHED,
            [T_DCT_CREATED] = X_I_CREATED,
            [T_A_UPDATED] = X_I_UPDATED,
            [T_A_MODIFIED] = X_I_UPDATED,
            [T_DCT_MODIFIED] = X_I_UPDATED,
            [T_DC_DATE] = X_I_DCDATE,
            [T_AUTHOR] = X_I_AUTHOR,
            [T_DC_CREATOR] = X_I_CREATOR,
            [T_DC_AUTHOR] = X_I_CREATOR,
            [T_IT_AUTHOR] = X_I_ITUNES_AUTHOR,
            [T_IT_SUMMARY] = X_I_FALLBACK_SUMMARY,
            [T_MEDIA_DESCRIPTION] = X_I_FALLBACK_SUMMARY,
            [T_MEDIA_TITLE] = X_I_FALLBACK_TITLE,
            [T_IT_KEYWORDS] = X_I_KEYWORDS,
            [T_CATEGORY] = X_I_CATEGORY,
            [T_DC_SUBJECT] = X_I_CATEGORY,
            [T_SOURCE] = X_I_SOURCE,
        },
    [R_CHANNEL] =
        {
            [T_TITLE] = X_F_TITLE,
            [T_A_TITLE] = X_F_TITLE,
            [T_DC_TITLE] = X_F_TITLE,
            [T_LINK] = X_F_LINK,
            [T_DESCRIPTION] = X_F_SUBTITLE,
            [T_A_SUBTITLE] = X_F_SUBTITLE,
            [T_A_TAGLINE] = X_F_SUBTITLE,
            [T_DC_DESCRIPTION] = X_F_SUBTITLE,
            [T_A_ID] = X_F_ID,
            [T_LASTBUILDDATE] = X_F_LASTBUILD,
            [T_PUBDATE] = X_F_UPDATED,
            [T_A_UPDATED] = X_F_UPDATED,
            [T_A_MODIFIED] = X_F_UPDATED,
            [T_DC_DATE] = X_F_UPDATED,
            [T_DCT_MODIFIED] = X_F_UPDATED,
            [T_LANGUAGE] = X_F_LANGUAGE,
            [T_DC_LANGUAGE] = X_F_LANGUAGE,
            [T_MANAGINGEDITOR] = X_F_AUTHOR,
            [T_AUTHOR] = X_F_AUTHOR,
            [T_DC_CREATOR] = X_F_AUTHOR,
            [T_DC_AUTHOR] = X_F_AUTHOR,
            [T_IT_AUTHOR] = X_F_ITUNES_AUTHOR,
            [T_IT_SUMMARY] = X_F_FALLBACK_SUBTITLE,
            [T_IT_SUBTITLE] = X_F_FALLBACK_SUBTITLE,
            [T_TTL] = X_F_TTL,
            [T_SY_PERIOD] = X_F_SY_PERIOD,
            [T_SY_FREQUENCY] = X_F_SY_FREQ,
        },
    [R_PERSON] =
        {
            [T_A_NAME] = X_P_NAME,
            [T_A_EMAIL] = X_P_EMAIL,
            [T_A_URI] = X_P_URI,
            [T_A_URL] = X_P_URI,
        },
    [R_SOURCE] =
        {
            [T_A_TITLE] = X_S_TITLE,
            [T_A_ID] = X_S_ID,
        },
};

/* How a field's text is read (Atom text constructs, RFC 4287 §3.1). */
enum mode {
	M_TEXT,  /* plain text; child elements contribute their text */
	M_HTML,  /* the text is HTML; child elements are serialized */
	M_XHTML, /* child elements are the content (xhtml, Atom 0.3 xml) */
};

struct frame {
	unsigned char tag;
	unsigned char role;
	unsigned char fam;
	unsigned char pushed_base; /* this element set an xml:base */
	unsigned char item_name;   /* local name "item" or "entry" */
};

#define NS_CACHE 4

/* Caps on what one item may carry; the rest is ignored, with a warning. */
#define MAX_CATEGORIES 1000
#define MAX_ENCLOSURES 200
/* The authors a feed or an entry's atom:source names that are kept. */
#define MAX_PEOPLE 16

/*
 * The strings an item already has (categories, enclosure URLs), so that
 * a duplicate is found in constant time: a hostile item may carry tens
 * of thousands. Open addressing over indices into the item's array
 * (slot = index + 1, 0 empty), filled lazily up to the array's count,
 * and only for items with more than SET_LINEAR entries: below that a
 * scan is cheaper than hashing.
 */
#define SET_LINEAR 8

struct strset {
	uint32_t *slot;
	size_t cap; /* a power of two, or 0 */
	size_t n;   /* entries [0, n) are in the table */
};

struct tr_parser {
	XML_Parser xp;
	struct {
		char uri[64];
		size_t len; /* 0: empty */
		unsigned char ns;
	} ns_cache[NS_CACHE];
	unsigned ns_cache_next;
	unsigned char tag_start[FAM_OTHER][128];
	struct tr_charset *cs;
	struct tr_clean *cl;
	struct tr_buf cleaned; /* cleaner output on its way to expat */
	tr_article_cb cb;
	void *arg;
	size_t max_field, max_items, max_depth;

	enum tr_feed_version version;
	char root[64];
	int none_is_atom; /* <feed> without a namespace */
	char *rss_uri;    /* the unknown namespace of an <rss> root: RSS's */
	int decl_version; /* what the root's namespace declarations say */
	int bozo;
	int dead;    /* expat stopped: nothing more is read */
	int stop_rc; /* why we stopped it (0: expat error) */
	int finished;
	int eof_repair; /* elements are being closed at the end */
	char **warnings;
	size_t n_warnings;
	unsigned char kind_count[32];

	struct frame *frames; /* frames[0] is the document */
	size_t depth;
	size_t overflow; /* elements past max_depth still open */
	char **bases;    /* xml:base stack; bases[0] the document's */
	size_t n_bases, cap_bases;

	/* The field being read. */
	int target;
	enum mode mode;
	int base64;
	int atom_text; /* an Atom text construct (escape if text) */
	size_t field_depth;
	const char *field_base;
	struct tr_buf text;
	int truncated_warned;

	/* The item being read. */
	int in_item;
	struct tr_article art;
	size_t cap_authors, cap_categories, cap_enclosures;
	int item_has_pubdate;
	int64_t item_dcdate, item_created;
	char *alt_link;   /* the item's link when it has no other */
	int person_owner; /* R_ITEM, R_CHANNEL or R_SOURCE */
	struct tr_person person;
	/* What fills an item's gaps at its end, when nothing better came. */
	char *item_itunes_author; /* itunes:author */
	char *fallback_summary;   /* itunes:summary, media:description */
	char *fallback_title;     /* media:title */
	/* Atom: the entry's atom:source authors, which it has when it has
	 * none of its own (RFC 4287 §4.2.1), before the feed's. */
	struct tr_person source_people[MAX_PEOPLE];
	size_t n_source_people;
	char *rdf_about;          /* RSS 1.0: the item's URI */
	/* The base each HTML body is read against: the xml:base in scope at
	 * its element, else the document's URL (copies; NULL: none). */
	char *summary_base, *content_base, *fallback_base;
	int alt_rank;             /* alt_link: 1 media:player, 2 alternate */
	struct strset cat_set, enc_set;
	unsigned char cap_warned; /* 1: categories, 2: enclosures */
	/* An atom:link whose URL is its text: its attributes till it ends. */
	char link_rel[64], link_type[128], link_length[32];
	/* The document's authors, which items without one take. */
	struct tr_person feed_people[MAX_PEOPLE];
	size_t n_feed_people;
	char *feed_itunes_author;
	char *fallback_subtitle; /* itunes:summary, itunes:subtitle */
	int have_lastbuild;      /* meta.updated is the lastBuildDate */
	int feed_link_weak;      /* meta.link is an alternate of other type */

	struct tr_feed_meta meta;
	int64_t sy_period, sy_freq;
	size_t n_items;
	size_t n_emitted; /* items handed to the callback (see fallback) */

	/*
	 * The fast way (see fast_feed): a UTF-8 document that starts with
	 * '<' goes to expat unchanged, the cleaner idle, until something the
	 * cleaner would repair shows up. Then the document is parsed again
	 * through the cleaner from the last checkpoint: a point between two
	 * children of the channel (or root) where the parser's state is
	 * known. Only the bytes since that checkpoint are kept (held), and
	 * the raw start tags of the elements open there (ctags).
	 */
	int always_clean;   /* tr_parse_opts: never the fast way */
	int raw_html;       /* tr_parse_opts: bodies not sanitized */
	int defer_html;     /* tr_parse_opts: bodies handed out raw */
	tr_body_cb body_cb; /* tr_parse_opts: bodies sanitized before */
	void *body_arg;
	size_t n_sanitized, n_reused; /* items, see tr_parser_nsanitized */
	const struct tr_html_policy *html_policy; /* borrowed; NULL: default */
	int fast;           /* the cleaner is bypassed */
	int fast_decided;   /* whether to go the fast way was decided */
	int halt;           /* handlers ignore expat's events */
	int want_clean;     /* a handler found what the cleaner repairs */
	int shadow;         /* the cleaner follows expat, to take over */
	long line_adjust;   /* expat's line numbers to the input's */
	uint64_t in_off;    /* bytes handed to expat the fast way */
	struct tr_buf held; /* input bytes [held_off, in_off) */
	uint64_t held_off;
	struct tr_buf ctags; /* start tags of open channel-level elements */
	size_t *ctag_end;    /* ctags.len after the tag at each depth */
	size_t ctag_depth;   /* depths 1..ctag_depth have their tag kept */
	size_t n_item_names; /* open elements named item or entry */
	/* the checkpoint */
	uint64_t ck_off;
	unsigned long ck_line, ck_col; /* expat's line and column there */
	unsigned long ck_lfline;       /* the cleaner's line (LFs + 1) */
	uint64_t ck_line_start;        /* offset of that line's first byte */
	uint64_t lf_off;               /* LFs counted up to this offset */
	unsigned long lf_line;
	uint64_t lf_line_start;
	size_t ck_depth, ck_items, ck_warnings, ck_bases;
	unsigned char ck_kind[32];
	int ck_truncated;
};

/* --- warnings ----------------------------------------------------------- */

static void
add_warning(struct tr_parser *p, unsigned long line, unsigned long col,
            const char *kind, const char *msg, int bozo)
{
	unsigned h = 0;
	char buf[300], **w;

	if (bozo)
		p->bozo = 1;
	while (*kind)
		h = h * 31 + (unsigned char)*kind++;
	if (p->kind_count[h % 32] >= WARNINGS_PER_KIND ||
	    p->n_warnings >= MAX_WARNINGS)
		return;
	p->kind_count[h % 32]++;
	snprintf(buf, sizeof(buf), "line %lu, column %lu: %s", line, col, msg);
	if ((w = realloc(p->warnings, (p->n_warnings + 1) * sizeof(*w))) ==
	    NULL)
		return;
	p->warnings = w;
	if ((w[p->n_warnings] = strdup(buf)) != NULL)
		p->n_warnings++;
}

static void
clean_warn(void *arg, unsigned long line, unsigned long col, const char *kind,
           const char *msg)
{
	struct tr_parser *p = arg;

	if (!p->halt)
		add_warning(p, line, col, kind, msg,
		            strcmp(kind, TR_CLEAN_NOTE) != 0);
}

static void
charset_warn(void *arg, const char *msg)
{
	struct tr_parser *p = arg;
	unsigned long line = 1, col = 1;

	if (p->cl)
		tr_clean_position(p->cl, &line, &col);
	add_warning(p, line, col, "charset", msg, 1);
}

/* The input's line at expat's current position. */
static unsigned long
xml_line(const struct tr_parser *p)
{
	return (unsigned long)((long)XML_GetCurrentLineNumber(p->xp) +
	                       (long)tr_clean_lines_dropped(p->cl) +
	                       p->line_adjust);
}

/* A warning at expat's current position. */
static void
xml_warn(struct tr_parser *p, const char *kind, const char *msg, int bozo)
{
	add_warning(p, xml_line(p),
	            (unsigned long)XML_GetCurrentColumnNumber(p->xp) + 1, kind,
	            msg, bozo);
}

/* Whether warning w is at or before line, col (add_warning's prefix). */
static int
warning_upto(const char *w, unsigned long line, unsigned long col)
{
	unsigned long l = 0, c = 0;

	sscanf(w, "line %lu, column %lu", &l, &c);
	return l < line || (l == line && c <= col);
}

/*
 * After a fatal XML error: the cleaner runs up to a chunk ahead of expat,
 * so repairs it reported past the error depend on where chunks ended.
 * Dropping them keeps the result the same however the input is split.
 */
static void
drop_warnings_after(struct tr_parser *p, unsigned long line, unsigned long col)
{
	size_t i, keep = 0;

	for (i = 0; i < p->n_warnings; i++) {
		if (warning_upto(p->warnings[i], line, col))
			p->warnings[keep++] = p->warnings[i];
		else
			free(p->warnings[i]);
	}
	p->n_warnings = keep;
}

/*
 * The warnings in document order, those at one place in the order they
 * came: the cleaner reports its repairs up to a chunk ahead of expat's
 * own warnings, so the order they came in depends on where chunks ended
 * and on whether the document needed the cleaner. An insertion sort:
 * there are at most MAX_WARNINGS, mostly in order already.
 */
static void
sort_warnings(struct tr_parser *p)
{
	size_t i, j;

	for (i = 1; i < p->n_warnings; i++) {
		char *w = p->warnings[i];
		unsigned long l = 0, c = 0;

		sscanf(w, "line %lu, column %lu", &l, &c);
		for (j = i; j > 0 && !warning_upto(p->warnings[j - 1], l, c);
		     j--)
			p->warnings[j] = p->warnings[j - 1];
		p->warnings[j] = w;
	}
}

/* Stops expat from a handler; tr_parser_feed returns rc. */
static void
stop(struct tr_parser *p, int rc)
{
	if (p->stop_rc == 0)
		p->stop_rc = rc;
	XML_StopParser(p->xp, XML_FALSE);
}

/* --- small string helpers ----------------------------------------------- */

static int
cmp_ns(const void *k, const void *e)
{
	return strcasecmp(k, ((const struct ns_entry *)e)->uri);
}

static enum fam
ns_family(const struct tr_parser *p, enum ns ns)
{
	switch (ns) {
	case NS_NONE:
		return p->none_is_atom ? FAM_ATOM : FAM_RSS;
	case NS_RSS090:
	case NS_RSS10:
	case NS_USERLAND:
		return FAM_RSS;
	case NS_RDF:
		return FAM_RDF;
	case NS_ATOM03:
	case NS_ATOM10:
	case NS_ATOMPRE:
		return FAM_ATOM;
	case NS_DC:
		return FAM_DC;
	case NS_DCTERMS:
		return FAM_DCTERMS;
	case NS_CONTENT:
		return FAM_CONTENT;
	case NS_MEDIA:
		return FAM_MEDIA;
	case NS_SY:
		return FAM_SY;
	case NS_ITUNES:
		return FAM_ITUNES;
	case NS_XHTML:
		return FAM_XHTML;
	default:
		return FAM_OTHER;
	}
}

/*
 * Splits an expat name "URI\x01local" into its namespace and local name.
 * The URI is looked up with bsearch; the local name points into name.
 */
static enum ns
split_name(const char *name, const char **local)
{
	const char *sep = strchr(name, NS_SEP);
	const struct ns_entry *e;
	char uri[128];
	size_t n;

	if (sep == NULL) {
		*local = name;
		return NS_NONE;
	}
	*local = sep + 1;
	n = (size_t)(sep - name);
	if (n >= sizeof(uri))
		return NS_OTHER;
	memcpy(uri, name, n);
	uri[n] = '\0';
	e = bsearch(uri, namespaces, sizeof(namespaces) / sizeof(namespaces[0]),
	            sizeof(namespaces[0]), cmp_ns);
	return e ? e->ns : NS_OTHER;
}

/*
 * The namespace of an element name, remembering the last few URIs: a
 * feed uses a handful, so most names cost a strchr and a memcmp instead
 * of a copy and a bsearch.
 */
static enum ns
split_name_cached(struct tr_parser *p, const char *name, const char **local)
{
	const char *sep = strchr(name, NS_SEP);
	size_t n, i;
	enum ns ns;

	if (sep == NULL) {
		*local = name;
		return NS_NONE;
	}
	*local = sep + 1;
	n = (size_t)(sep - name);
	for (i = 0; i < NS_CACHE && n > 0; i++)
		if (p->ns_cache[i].len == n &&
		    memcmp(p->ns_cache[i].uri, name, n) == 0)
			return (enum ns)p->ns_cache[i].ns;
	ns = split_name(name, local);
	if (ns == NS_OTHER && p->rss_uri && strlen(p->rss_uri) == n &&
	    memcmp(p->rss_uri, name, n) == 0)
		ns = NS_USERLAND;
	if (n < sizeof(p->ns_cache[0].uri)) {
		i = p->ns_cache_next++ % NS_CACHE;
		memcpy(p->ns_cache[i].uri, name, n);
		p->ns_cache[i].len = n;
		p->ns_cache[i].ns = (unsigned char)ns;
	}
	return ns;
}

/*
 * Where the tags of a vocabulary that begin with a given byte start in
 * tags[] (255: none). Built once per parser; lookup_tag then compares
 * the one or two names that can match instead of a bsearch.
 */
static void
index_tags(struct tr_parser *p)
{
	size_t i;

	memset(p->tag_start, 0xff, sizeof(p->tag_start));
	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++) {
		unsigned char c = (unsigned char)tags[i].name[0];

		if (p->tag_start[tags[i].fam][c & 0x7f] == 0xff)
			p->tag_start[tags[i].fam][c & 0x7f] = (unsigned char)i;
	}
}

/*
 * An RSS element name in any case ("<TiTlE>": RSS readers and iTunes
 * read RSS's own names so; namespaced vocabularies stay exact). Only
 * names the exact lookup missed come here.
 */
static enum tag
lookup_tag_folded(enum fam fam, const char *local)
{
	size_t i;

	for (i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (tags[i].fam == fam && strcasecmp(tags[i].name, local) == 0)
			return (enum tag)tags[i].tag;
	return T_NONE;
}

static enum tag
lookup_tag(const struct tr_parser *p, enum fam fam, const char *local)
{
	unsigned char c = (unsigned char)local[0];
	size_t i;

	if (fam == FAM_OTHER || c >= 0x80)
		return T_NONE;
	if (p->tag_start[fam][c] != 0xff)
		for (i = p->tag_start[fam][c];
		     i < sizeof(tags) / sizeof(tags[0]) &&
		     tags[i].fam == fam && (unsigned char)tags[i].name[0] == c;
		     i++)
			if (strcmp(tags[i].name, local) == 0)
				return (enum tag)tags[i].tag;
	return fam == FAM_RSS ? lookup_tag_folded(fam, local) : T_NONE;
}

/* The value of the attribute with this local name and no namespace. */
static const char *
attr(const char **atts, const char *name)
{
	size_t i;

	for (i = 0; atts[i]; i += 2)
		if (strcmp(atts[i], name) == 0)
			return atts[i + 1];
	return NULL;
}

/* The value of an xml: attribute (xml:base, xml:lang). */
static const char *
xml_attr(const char **atts, const char *local)
{
	static const char xmlns[] = "http://www.w3.org/XML/1998/namespace\x01";
	size_t i;

	for (i = 0; atts[i]; i += 2)
		if (strncmp(atts[i], xmlns, sizeof(xmlns) - 1) == 0 &&
		    strcmp(atts[i] + sizeof(xmlns) - 1, local) == 0)
			return atts[i + 1];
	return NULL;
}

static int
is_ws(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Copies s (n bytes) without surrounding whitespace; NULL when empty. */
static char *
dup_trim(const char *s, size_t n)
{
	char *d;

	while (n && is_ws((unsigned char)*s))
		s++, n--;
	while (n && is_ws((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return NULL;
	if ((d = malloc(n + 1)) == NULL)
		return NULL;
	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

/* Replaces *dst with s (taking it); keeps the old value when s is NULL. */
static void
set_str(char **dst, char *s)
{
	if (s == NULL)
		return;
	free(*dst);
	*dst = s;
}

/* Sets *dst to s unless *dst is already set; frees s otherwise. */
static void
set_first(char **dst, char *s)
{
	if (*dst == NULL)
		*dst = s;
	else
		free(s);
}

static const char *
cur_base(const struct tr_parser *p)
{
	return p->n_bases ? p->bases[p->n_bases - 1] : NULL;
}

/*
 * Resolves a link against base; NULL for an empty or unusable link.
 * tr_url_resolve ignores the whitespace around ref itself.
 */
static char *
resolve(const char *base, const char *ref)
{
	if (ref == NULL)
		return NULL;
	while (is_ws((unsigned char)*ref))
		ref++;
	if (*ref == '\0')
		return NULL;
	return tr_url_resolve(base, ref);
}

/* Whether s (leading whitespace skipped) starts with a URI scheme. */
static int
has_scheme(const char *s)
{
	size_t n;

	while (is_ws((unsigned char)*s))
		s++;
	if (!((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z'))
		return 0;
	n = strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	              "0123456789+-.");
	return s[n] == ':';
}


/*
 * resolve(), except that a relative reference that cannot be made
 * absolute (no base URL, as when a file is parsed alone) is kept as
 * written, with a warning, instead of being lost.
 */
static char *
resolve_keep(struct tr_parser *p, const char *base, const char *ref)
{
	char *r = resolve(base, ref);

	if (r != NULL || ref == NULL || has_scheme(ref))
		return r;
	if ((r = dup_trim(ref, strlen(ref))) != NULL)
		xml_warn(p, "relative",
		         "a relative link with no base URL to resolve it "
		         "against is kept as written",
		         0);
	return r;
}

/*
 * HTML to plain text for titles and names, through the same HTML5 parser
 * as the bodies (html.h): markup inside attribute values, comments and
 * script never leaks into the text; references decoded, runs of
 * whitespace collapsed to one space, trimmed. NULL when empty.
 */
static char *
html_to_text(const char *s)
{
	struct tr_buf b;
	size_t n = strlen(s);

	tr_buf_init(&b, 4 * n + 16);
	if (tr_html_text(&b, s, n, 0) != 0 || b.len == 0) {
		tr_buf_free(&b);
		return NULL;
	}
	return tr_buf_detach(&b);
}

/* Plain text to HTML: & < > " escaped (Atom type="text" in content). */
static char *
text_to_html(const char *s, size_t n)
{
	struct tr_buf b;
	size_t i, run = 0;

	tr_buf_init(&b, n * 6 + 1);
	for (i = 0; i < n; i++) {
		const char *e = NULL;

		switch (s[i]) {
		case '&':
			e = "&amp;";
			break;
		case '<':
			e = "&lt;";
			break;
		case '>':
			e = "&gt;";
			break;
		case '"':
			e = "&quot;";
			break;
		default:
			continue;
		}
		tr_buf_add(&b, s + run, i - run);
		tr_buf_adds(&b, e);
		run = i + 1;
	}
	tr_buf_add(&b, s + run, n - run);
	return tr_buf_detach(&b);
}

/*
 * Decodes base64 (RFC 4648 §4, whitespace ignored) in place; returns the
 * decoded length. Atom 0.3 mode="base64" is the only user, and no Debian
 * library the project already links exports a decoder, hence these lines.
 */
static size_t
base64_decode(char *s, size_t n)
{
	unsigned long acc = 0;
	size_t i, o = 0;
	int bits = 0, v;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+' || c == '-')
			v = 62;
		else if (c == '/' || c == '_')
			v = 63;
		else
			continue;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			s[o++] = (char)((acc >> bits) & 0xff);
		}
	}
	return o;
}

/*
 * Replaces bytes that are not valid UTF-8 (and NULs) with U+FFFD, in
 * place when nothing is wrong. Base64 content decodes to any bytes.
 */
static void
utf8_repair(struct tr_buf *b)
{
	struct tr_buf fixed;
	const unsigned char *s = (const unsigned char *)b->data;
	size_t i = 0, n = b->len, run = 0, len;
	int bad = 0;

	tr_buf_init(&fixed, b->max * 3 + 1);
	while (s && i < n) {
		unsigned char c = s[i];

		len = c >= 0x01 && c < 0x80   ? 1
		      : c >= 0xc2 && c < 0xe0 ? 2
		      : c >= 0xe0 && c < 0xf0 ? 3
		      : c >= 0xf0 && c < 0xf5 ? 4
		                              : 0;
		if (len > 1) {
			unsigned char lo = c == 0xe0   ? 0xa0
			                   : c == 0xf0 ? 0x90
			                               : 0x80;
			unsigned char hi = c == 0xed   ? 0x9f
			                   : c == 0xf4 ? 0x8f
			                               : 0xbf;
			size_t k;

			if (i + len > n || s[i + 1] < lo || s[i + 1] > hi)
				len = 0;
			for (k = 2; len && k < len; k++)
				if ((s[i + k] & 0xc0) != 0x80)
					len = 0;
		}
		if (len) {
			i += len;
			continue;
		}
		bad = 1;
		tr_buf_add(&fixed, s + run, i - run);
		tr_buf_add(&fixed, "\xef\xbf\xbd", 3);
		run = ++i;
	}
	if (!bad) {
		tr_buf_free(&fixed);
		return;
	}
	tr_buf_add(&fixed, s + run, n - run);
	tr_buf_free(b);
	*b = fixed;
	b->max = fixed.len > b->max ? fixed.len : b->max;
}

/* Keeps only complete UTF-8 sequences at the end of a truncated buffer. */
static void
trim_partial_utf8(struct tr_buf *b)
{
	size_t i = b->len, k = 0;

	while (i > 0 && k < 4 && ((unsigned char)b->data[i - 1] & 0xc0) == 0x80)
		i--, k++;
	if (i > 0 && (unsigned char)b->data[i - 1] >= 0xc0) {
		unsigned char c = (unsigned char)b->data[i - 1];
		size_t need = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;

		if (k < need)
			tr_buf_truncate(b, i - 1);
	}
}

/* --- the text of a field ------------------------------------------------- */

/* field_add's slow way: growing the buffer, or the cap reached. Out of
 * line, so that the fast way in on_text needs no saved registers. */
static void __attribute__((noinline))
field_add_grow(struct tr_parser *p, const char *s, size_t n)
{
	size_t room = p->text.max - p->text.len;

	if (n > room) {
		n = room;
		if (!p->truncated_warned) {
			p->truncated_warned = 1;
			xml_warn(p, "size",
			         "field longer than the size cap "
			         "truncated",
			         0);
		}
	}
	if (n)
		tr_buf_add(&p->text, s, n);
}

/*
 * Appends text to the field, up to the cap; warns once when cut. Inline:
 * expat hands text over in small pieces, and the common case (room
 * already there) is a copy in place; a reference ("&lt;") comes as one
 * character of its own.
 */
static inline void
field_add(struct tr_parser *p, const char *s, size_t n)
{
	struct tr_buf *b = &p->text;
	size_t room = b->max - b->len;

	if (n == 1 && room > 1 && b->len + 1 < b->cap) {
		b->data[b->len++] = s[0];
		b->data[b->len] = '\0';
		return;
	}
	if (n < room && b->len + n < b->cap) {
		memcpy(b->data + b->len, s, n);
		b->len += n;
		b->data[b->len] = '\0';
		return;
	}
	field_add_grow(p, s, n);
}

static void __attribute__((noinline))
field_add_escaped(struct tr_parser *p, const char *s, size_t n, int attr_val)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		const char *e = NULL;

		switch (s[i]) {
		case '&':
			e = "&amp;";
			break;
		case '<':
			e = "&lt;";
			break;
		case '>':
			e = "&gt;";
			break;
		case '"':
			e = attr_val ? "&quot;" : NULL;
			break;
		default:
			break;
		}
		if (e == NULL)
			continue;
		field_add(p, s + run, i - run);
		field_add(p, e, strlen(e));
		run = i + 1;
	}
	field_add(p, s + run, n - run);
}

/* An XML media type (RFC 7303 §3: text/xml, application/xml, any
 * type ending in +xml or starting xml-, as xml-external-parsed-entity). */
static int
is_xml_mime(const char *t)
{
	const char *slash = strchr(t, '/');
	size_t n = strcspn(t, ";");

	if (slash == NULL || (size_t)(slash - t) >= n)
		return 0;
	return (n >= 4 && strncasecmp(t + n - 4, "+xml", 4) == 0) ||
	       strncasecmp(slash, "/xml", 4) == 0;
}

/* BCP 47 writes subtags with '-' (RFC 5646 §2.1); feeds write "en_US". */
static char *
lang_tag(char *s)
{
	char *u;

	for (u = s; u && (u = strchr(u, '_')) != NULL; u++)
		*u = '-';
	return s;
}

/* Atom text construct type / Atom 0.3 mode attributes to a mode. */
static void
text_mode(struct tr_parser *p, const char **atts)
{
	const char *type = attr(atts, "type"), *mode = attr(atts, "mode");

	p->mode = M_TEXT;
	p->base64 = 0;
	p->atom_text = 1;
	if (type == NULL || strcmp(type, "text") == 0 ||
	    strcasecmp(type, "text/plain") == 0)
		p->mode = M_TEXT;
	else if (strcmp(type, "html") == 0 ||
	         strcasecmp(type, "text/html") == 0)
		p->mode = M_HTML;
	else if (strcmp(type, "xhtml") == 0 || is_xml_mime(type))
		p->mode = M_XHTML;
	else if (mode == NULL && strchr(type, '/') &&
	         strncasecmp(type, "text/", 5) != 0 &&
	         (p->version == TR_ATOM10 || p->version < TR_ATOM03))
		/* RFC 4287 §4.1.3.3: any other media type is base64;
		 * its text is read as text. (Atom 0.3 says so by mode.) */
		p->base64 = 1;
	if (mode && strcmp(mode, "escaped") == 0 && p->mode == M_XHTML)
		p->mode = M_HTML;
	else if (mode && strcmp(mode, "base64") == 0)
		p->base64 = 1;
	else if (mode && strcmp(mode, "xml") == 0)
		p->mode = M_XHTML;
}

static void
begin_field(struct tr_parser *p, int target, const char **atts, enum tag tag)
{
	p->target = target;
	p->field_depth = p->depth;
	p->field_base = cur_base(p);
	p->mode = M_TEXT;
	p->base64 = 0;
	p->atom_text = 0;
	tr_buf_reset(&p->text);
	switch (tag) {
	case T_A_TITLE:
	case T_A_SUBTITLE:
	case T_A_TAGLINE:
	case T_A_SUMMARY:
	case T_A_CONTENT:
		text_mode(p, atts);
		break;
	case T_DESCRIPTION:
	case T_CONTENT_ENCODED:
	case T_DC_DESCRIPTION:
		p->mode = M_HTML;
		break;
	case T_XHTML_BODY:
		/* An item's <body xmlns="http://www.w3.org/1999/xhtml">:
		 * its elements are the content. */
		p->mode = M_XHTML;
		break;
	case T_IT_SUMMARY:
	case T_MEDIA_DESCRIPTION:
	case T_MEDIA_TITLE: {
		/* Plain text (Media RSS: type="plain" unless "html"). */
		const char *type = attr(atts, "type");

		p->atom_text = 1;
		if (tag != T_IT_SUMMARY && type && strcmp(type, "html") == 0)
			p->mode = M_HTML;
		break;
	}
	default:
		break;
	}
}

/* The field's text as plain text (titles, names). */
static char *
field_text(struct tr_parser *p)
{
	if (p->mode == M_TEXT)
		return dup_trim(tr_buf_str(&p->text), p->text.len);
	return html_to_text(tr_buf_str(&p->text));
}

/*
 * Whether s looks like HTML: a tag or a character reference. RSS does
 * not say whether <title> is text or HTML, and feeds write both (also
 * doubly escaped "&amp;amp;"); feedparser applies the same test.
 */
static int
looks_like_html(const char *s)
{
	const char *p;

	for (p = s; (p = strpbrk(p, "<&")) != NULL; p++) {
		if (p[0] == '<' &&
		    (p[1] == '/' ||
		     ((p[1] | 0x20) >= 'a' && (p[1] | 0x20) <= 'z')) &&
		    strchr(p, '>'))
			return 1;
		if (p[0] == '&') {
			size_t n = strspn(
			    p + 1, "#abcdefghijklmnopqrstuvwxyz"
			           "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");

			if (n > 0 && n < 32 && p[1 + n] == ';')
				return 1;
		}
	}
	return 0;
}

/* A title: plain text, read as HTML where an RSS title looks like it. */
static char *
field_title(struct tr_parser *p)
{
	char *s = field_text(p), *t;

	if (s == NULL || p->mode != M_TEXT || p->atom_text ||
	    !looks_like_html(s))
		return s;
	t = html_to_text(s);
	free(s);
	return t;
}

/* The field's text as HTML (summary, content). */
static char *
field_html(struct tr_parser *p)
{
	const char *s = tr_buf_str(&p->text);
	size_t n = p->text.len;

	while (n && is_ws((unsigned char)*s))
		s++, n--;
	while (n && is_ws((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return NULL;
	if (p->mode == M_TEXT && p->atom_text)
		return text_to_html(s, n);
	return dup_trim(s, n);
}

/* The field's text as a date; trimmed in place (the text is done with). */
static int64_t
field_date(struct tr_parser *p)
{
	int64_t t = TR_DATE_NONE;
	char *s = p->text.data;
	size_t n = p->text.len;

	if (s == NULL)
		return t;
	while (n && is_ws((unsigned char)*s))
		s++, n--;
	while (n && is_ws((unsigned char)s[n - 1]))
		n--;
	if (n == 0)
		return t;
	s[n] = '\0';
	if (tr_date_parse(&t, s) != 0)
		t = TR_DATE_NONE;
	return t;
}

/* --- records ------------------------------------------------------------- */

static void *
grow(void *arr, size_t *cap, size_t n, size_t size)
{
	void *q;
	size_t c;

	if (n < *cap)
		return arr;
	c = *cap ? *cap * 2 : 4;
	if ((q = realloc(arr, c * size)) == NULL)
		return NULL;
	*cap = c;
	return q;
}

typedef const char *(*key_fn)(const struct tr_article *a, size_t i);

static const char *
category_key(const struct tr_article *a, size_t i)
{
	return a->categories[i];
}

static const char *
enclosure_key(const struct tr_article *a, size_t i)
{
	return a->enclosures[i].url;
}

/* Puts entry i (key k) into the table, which has room. */
static void
set_put(struct strset *set, size_t i, const char *k)
{
	size_t mask = set->cap - 1, j = (size_t)tr_hash_str(k) & mask;

	while (set->slot[j])
		j = (j + 1) & mask;
	set->slot[j] = (uint32_t)(i + 1);
}

/*
 * The index of the entry among the item's first n whose key is s, or -1.
 * Linear for a few entries, hashed beyond (the table kept at most half
 * full); should the table not grow, the scan is the fallback.
 */
static long
set_find(struct strset *set, const struct tr_article *a, size_t n, key_fn key,
         const char *s)
{
	size_t i, j, mask;

	if (n > SET_LINEAR && set->cap < 2 * (n + 1)) {
		size_t cap = set->cap ? set->cap : 64;
		uint32_t *q;

		while (cap < 2 * (n + 1))
			cap *= 2;
		if ((q = calloc(cap, sizeof(*q))) != NULL) {
			free(set->slot);
			set->slot = q;
			set->cap = cap;
			set->n = 0;
		}
	}
	if (n <= SET_LINEAR || set->cap < 2 * (n + 1)) {
		for (i = 0; i < n; i++)
			if (strcmp(key(a, i), s) == 0)
				return (long)i;
		return -1;
	}
	for (; set->n < n; set->n++)
		set_put(set, set->n, key(a, set->n));
	mask = set->cap - 1;
	for (j = (size_t)tr_hash_str(s) & mask; set->slot[j];
	     j = (j + 1) & mask)
		if (strcmp(key(a, set->slot[j] - 1), s) == 0)
			return (long)set->slot[j] - 1;
	return -1;
}

/* Empties the table for the next item (its memory is kept). */
static void
set_clear(struct strset *set)
{
	if (set->n > 0)
		memset(set->slot, 0, set->cap * sizeof(*set->slot));
	set->n = 0;
}

/* Warns once per item that a cap was reached. */
static void
item_cap(struct tr_parser *p, unsigned char which, const char *msg)
{
	if (p->cap_warned & which)
		return;
	p->cap_warned |= which;
	xml_warn(p, "item-cap", msg, 0);
}

/* Adds a category (taking cat) unless the item has it already. */
static void
add_category(struct tr_parser *p, char *cat)
{
	struct tr_article *a = &p->art;
	char **q;

	if (cat == NULL)
		return;
	if (set_find(&p->cat_set, a, a->n_categories, category_key, cat) >=
	    0) {
		free(cat);
		return;
	}
	if (a->n_categories >= MAX_CATEGORIES) {
		item_cap(p, 1,
		         "an item with more than 1000 categories: the rest "
		         "are ignored");
		free(cat);
		return;
	}
	if ((q = grow(a->categories, &p->cap_categories, a->n_categories,
	              sizeof(*q))) == NULL) {
		free(cat);
		return;
	}
	a->categories = q;
	a->categories[a->n_categories++] = cat;
}

static int64_t
enclosure_length(const char *length)
{
	char *end;
	long long v;

	if (length == NULL || *length == '\0')
		return -1;
	v = strtoll(length, &end, 10);
	return end != length && v >= 0 ? v : -1;
}

/*
 * Adds an enclosure (url resolved). The same URL twice (an <enclosure>
 * and a media:content, say) is one enclosure, with the type and length
 * of whichever names them.
 */
static void
add_enclosure(struct tr_parser *p, const char *url, const char *type,
              const char *length)
{
	struct tr_article *a = &p->art;
	struct tr_enclosure *q;
	char *u = resolve_keep(p, cur_base(p), url);
	long i;

	if (u == NULL)
		return;
	if ((i = set_find(&p->enc_set, a, a->n_enclosures, enclosure_key, u)) >=
	    0) {
		q = &a->enclosures[i];
		if (q->type == NULL && type && *type)
			q->type = dup_trim(type, strlen(type));
		if (q->length < 0)
			q->length = enclosure_length(length);
		free(u);
		return;
	}
	if (a->n_enclosures >= MAX_ENCLOSURES) {
		item_cap(p, 2,
		         "an item with more than 200 enclosures: the rest "
		         "are ignored");
		free(u);
		return;
	}
	if ((q = grow(a->enclosures, &p->cap_enclosures, a->n_enclosures,
	              sizeof(*q))) == NULL) {
		free(u);
		return;
	}
	a->enclosures = q;
	q = &a->enclosures[a->n_enclosures++];
	q->url = u;
	q->type = type && *type ? dup_trim(type, strlen(type)) : NULL;
	q->length = enclosure_length(length);
}

static void
add_person(struct tr_parser *p, struct tr_person *pe)
{
	struct tr_article *a = &p->art;
	struct tr_person *q;

	if (!pe->name && !pe->email && !pe->uri)
		return;
	if ((q = grow(a->authors, &p->cap_authors, a->n_authors, sizeof(*q))) ==
	    NULL) {
		free(pe->name), free(pe->email), free(pe->uri);
		memset(pe, 0, sizeof(*pe));
		return;
	}
	a->authors = q;
	a->authors[a->n_authors++] = *pe;
	memset(pe, 0, sizeof(*pe));
}

/*
 * Whether the n bytes at s (spaces around them aside) are an e-mail
 * address: something, '@', something, and no space between ("@jack", a
 * social media handle, is not one).
 */
static int
is_address(const char *s, size_t n)
{
	const char *at;

	while (n && is_ws((unsigned char)*s))
		s++, n--;
	while (n && is_ws((unsigned char)s[n - 1]))
		n--;
	if (strncmp(s, "mailto:", n < 7 ? n : 7) == 0 && n > 7)
		s += 7, n -= 7;
	at = memchr(s, '@', n);
	return at != NULL && at > s && at < s + n - 1 &&
	       memchr(s, ' ', n) == NULL && memchr(s, '\t', n) == NULL;
}

/* A display name without its quotes ("\"Doe, John\"": RFC 5322 §3.2.4). */
static void
unquote_name(char *name)
{
	size_t n = name ? strlen(name) : 0, i, k;

	if (n < 2 || name[0] != '"' || name[n - 1] != '"')
		return;
	for (i = 1, k = 0; i < n - 1; i++) {
		if (name[i] == '\\' && i + 1 < n - 1)
			i++;
		name[k++] = name[i];
	}
	name[k] = '\0';
}

/*
 * RSS <author>, <managingEditor>, dc:creator: "jo@example.com (Jo Doe)",
 * "Jo Doe (jo@example.com)", "Jo Doe <jo@example.com>" (the name may be
 * quoted), a bare address or a bare name. Only text with a local part
 * and a domain around its '@' is an address.
 */
static void
parse_rss_person(struct tr_person *pe, const char *s)
{
	const char *open = strchr(s, '('), *close = strrchr(s, ')');
	const char *lt = strchr(s, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	memset(pe, 0, sizeof(*pe));
	if (open && close && close > open && open > s &&
	    is_address(s, (size_t)(open - s))) {
		pe->email = dup_trim(s, (size_t)(open - s));
		pe->name = dup_trim(open + 1, (size_t)(close - open - 1));
	} else if (open && close && close > open && open > s &&
	           is_address(open + 1, (size_t)(close - open - 1))) {
		/* "Jo Doe (jo@example.com)" */
		pe->name = dup_trim(s, (size_t)(open - s));
		pe->email = dup_trim(open + 1, (size_t)(close - open - 1));
	} else if (lt && gt && is_address(lt + 1, (size_t)(gt - lt - 1))) {
		pe->name = dup_trim(s, (size_t)(lt - s));
		pe->email = dup_trim(lt + 1, (size_t)(gt - lt - 1));
	} else if (is_address(s, strlen(s)))
		pe->email = dup_trim(s, strlen(s));
	else
		pe->name = dup_trim(s, strlen(s));
	unquote_name(pe->name);
	if (pe->name && *pe->name == '\0') {
		free(pe->name);
		pe->name = NULL;
	}
	if (pe->email && strncmp(pe->email, "mailto:", 7) == 0)
		memmove(pe->email, pe->email + 7, strlen(pe->email + 7) + 1);
}

static char *
person_display(const struct tr_person *pe)
{
	if (pe->name)
		return strdup(pe->name);
	if (pe->email)
		return strdup(pe->email);
	return NULL;
}

static int
has_http_scheme(const char *s)
{
	return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

static void people_clear(struct tr_person *list, size_t *n);

/* The per-item state beside the record (see struct tr_parser). */
static void
item_extras_clear(struct tr_parser *p)
{
	free(p->item_itunes_author);
	free(p->fallback_summary);
	free(p->fallback_title);
	free(p->rdf_about);
	p->item_itunes_author = p->fallback_summary = p->rdf_about = NULL;
	p->fallback_title = NULL;
	people_clear(p->source_people, &p->n_source_people);
	free(p->summary_base);
	free(p->content_base);
	free(p->fallback_base);
	p->summary_base = p->content_base = p->fallback_base = NULL;
	p->alt_rank = 0;
	p->cap_warned = 0;
	set_clear(&p->cat_set);
	set_clear(&p->enc_set);
}

static void
person_clear(struct tr_person *pe)
{
	free(pe->name), free(pe->email), free(pe->uri);
	memset(pe, 0, sizeof(*pe));
}

/* A copy of *src into *dst (NULL fields stay NULL; on failure, partly). */
static void
person_copy(struct tr_person *dst, const struct tr_person *src)
{
	memset(dst, 0, sizeof(*dst));
	dst->name = src->name ? strdup(src->name) : NULL;
	dst->email = src->email ? strdup(src->email) : NULL;
	dst->uri = src->uri ? strdup(src->uri) : NULL;
}

/*
 * Appends *pe (taken over, *pe left empty) to a list of n people, unless
 * it names no one or the list holds MAX_PEOPLE already.
 */
static void
people_add(struct tr_person *list, size_t *n, struct tr_person *pe)
{
	if ((pe->name || pe->email || pe->uri) && *n < MAX_PEOPLE) {
		list[(*n)++] = *pe;
		memset(pe, 0, sizeof(*pe));
	}
	person_clear(pe);
}

static void
people_clear(struct tr_person *list, size_t *n)
{
	while (*n > 0)
		person_clear(&list[--(*n)]);
}

/* Copies every person of a list to the item being read. */
static void
people_inherit(struct tr_parser *p, const struct tr_person *list, size_t n)
{
	struct tr_person pe;
	size_t i;

	for (i = 0; i < n; i++) {
		person_copy(&pe, &list[i]);
		add_person(p, &pe);
		person_clear(&pe);
	}
}

/*
 * The feed's author as one line: its authors' names (else addresses),
 * joined with ", ". NULL when it names none.
 */
static char *
people_display(const struct tr_person *list, size_t n)
{
	struct tr_buf b;
	size_t i;

	tr_buf_init(&b, 1 << 16);
	for (i = 0; i < n; i++) {
		const char *s = list[i].name ? list[i].name : list[i].email;

		if (s == NULL)
			continue;
		if (b.len > 0)
			tr_buf_add(&b, ", ", 2);
		tr_buf_adds(&b, s);
	}
	if (b.len == 0) {
		tr_buf_free(&b);
		return NULL;
	}
	return tr_buf_detach(&b);
}

/* Whether a list of people names someone: a name or an address. */
static int
people_named(const struct tr_person *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (list[i].name || list[i].email)
			return 1;
	return 0;
}

/*
 * An item without an author of its own (one with a name or an address:
 * an Atom author that gives only a URI names no one) takes its
 * itunes:author, else its atom:source's authors, else the feed's
 * authors (RSS channel <author>, managingEditor, dc:creator, Atom feed
 * authors, else the channel's itunes:author): those the document named
 * before the item.
 */
static void
inherit_author(struct tr_parser *p)
{
	struct tr_article *a = &p->art;
	struct tr_person pe;

	while (a->n_authors > 0)
		person_clear(&a->authors[--a->n_authors]);
	memset(&pe, 0, sizeof(pe));
	if (p->item_itunes_author)
		parse_rss_person(&pe, p->item_itunes_author);
	else if (people_named(p->source_people, p->n_source_people))
		people_inherit(p, p->source_people, p->n_source_people);
	else if (people_named(p->feed_people, p->n_feed_people))
		people_inherit(p, p->feed_people, p->n_feed_people);
	else if (p->feed_itunes_author)
		parse_rss_person(&pe, p->feed_itunes_author);
	add_person(p, &pe);
	person_clear(&pe);
}

/*
 * Frees what the item's record owns but keeps its author, category and
 * enclosure arrays (and their capacities) for the next item, so that a
 * document's items do not allocate them again. The record is left as
 * tr_article_init leaves it, except for those arrays, with their counts 0.
 */
static void
item_clear(struct tr_parser *p)
{
	struct tr_article *a = &p->art;
	struct tr_person *authors = a->authors;
	char **categories = a->categories;
	struct tr_enclosure *enclosures = a->enclosures;
	size_t i;

	for (i = 0; i < a->n_authors; i++)
		free(authors[i].name), free(authors[i].email),
		    free(authors[i].uri);
	for (i = 0; i < a->n_categories; i++)
		free(categories[i]);
	for (i = 0; i < a->n_enclosures; i++)
		free(enclosures[i].url), free(enclosures[i].type);
	a->authors = NULL, a->n_authors = 0;
	a->categories = NULL, a->n_categories = 0;
	a->enclosures = NULL, a->n_enclosures = 0;
	tr_article_free(a);
	a->authors = authors;
	a->categories = categories;
	a->enclosures = enclosures;
	item_extras_clear(p);
}

/*
 * Sets *dst to the field's HTML unless it is set already, and *base to a
 * copy of the base in scope at the field (for tr_html_sanitize later).
 */
static void
set_first_html(struct tr_parser *p, char **dst, char **base)
{
	if (*dst != NULL)
		return;
	if ((*dst = field_html(p)) == NULL)
		return;
	free(*base);
	*base = p->field_base ? strdup(p->field_base) : NULL;
}

/*
 * Replaces the HTML body *body with its sanitized form: parsed with
 * Gumbo, URLs resolved against base, the policy's allowlist applied
 * (html.h); and appends the text of that form to text, from the same
 * walk. An empty result leaves no body, and so does a body that grew
 * past the cap (8 * max_field) when sanitized (counted in *n_cut). 0 or
 * TR_ENOMEM.
 */
static int
sanitize_body(char **body, const char *base, struct tr_buf *text,
              const struct tr_html_policy *policy, size_t max_field,
              int *n_cut)
{
	struct tr_buf b;
	size_t was = text->len;
	int rc;

	if (*body == NULL)
		return 0;
	/* The output may grow past the input: quotes, rel, absolute URLs
	 * (a 16-byte "<a href=x>y</a>" can become 70 bytes); eight times
	 * the field cap is a bound no legitimate body reaches. */
	tr_buf_init(&b, 8 * max_field + 4096);
	rc = tr_html_sanitize_text(&b, text, *body, strlen(*body), base,
	                           policy);
	if (rc == TR_ETOOBIG) {
		(*n_cut)++;
		tr_buf_truncate(text, was);
	}
	free(*body);
	*body = NULL;
	if (rc == 0 && b.len > 0 && (*body = tr_buf_detach(&b)) == NULL)
		rc = TR_ENOMEM;
	tr_buf_free(&b);
	return rc == TR_ETOOBIG ? 0 : rc;
}

int
tr_parser_sanitize_article(struct tr_article *a,
                           const struct tr_html_policy *policy,
                           size_t max_field, int *n_cut)
{
	struct tr_buf text;
	int cut = 0, rc;

	if (max_field == 0)
		max_field = 1 << 20; /* as tr_parse_opts */
	tr_buf_init(&text, 16 * max_field + 8192);
	rc = sanitize_body(&a->summary, a->summary_base, &text, policy,
	                   max_field, &cut);
	if (rc == 0 && text.len > 0)
		rc = tr_buf_addc(&text, ' ');
	if (rc == 0)
		rc = sanitize_body(&a->content, a->content_base, &text, policy,
		                   max_field, &cut);
	if (rc == 0 && text.len > 0 && text.data[text.len - 1] == ' ')
		tr_buf_truncate(&text, text.len - 1);
	free(a->text);
	a->text = NULL;
	if (rc == 0 && text.len > 0 && (a->text = tr_buf_detach(&text)) == NULL)
		rc = TR_ENOMEM;
	tr_buf_free(&text);
	free(a->summary_base);
	free(a->content_base);
	a->summary_base = a->content_base = NULL;
	a->bodies_raw = 0;
	if (n_cut != NULL)
		*n_cut = cut;
	return rc;
}

/*
 * Mixes a string, or its absence, into h: a tag byte, the length and a
 * checksum of the bytes, so that no two lists of strings mix the same.
 * The bytes go through zlib's checksums (tr_sum, as response bodies do):
 * bodies are most of an item's bytes, and FNV-1a costs a multiply per
 * byte.
 */
static uint64_t
hash_field(uint64_t h, const char *s)
{
	uint64_t v[2] = {s ? (uint64_t)strlen(s) : 0, 0};
	unsigned char tag = s ? 1 : 0;
	struct tr_sum sum;

	if (s != NULL) {
		tr_sum_init(&sum);
		tr_sum_add(&sum, s, (size_t)v[0]);
		v[1] = tr_sum_value(&sum);
	}
	h = tr_hash(h, &tag, 1);
	return tr_hash(h, v, sizeof(v));
}

uint64_t
tr_parser_raw_hash(const char *summary, const char *summary_base,
                   const char *content, const char *content_base,
                   const struct tr_html_policy *policy, size_t max_field)
{
	static const char what[] = "tributary sanitizer";
	uint64_t h = tr_hash(TR_HASH_INIT, what, sizeof(what));
	uint64_t v[3] = {TR_HTML_VERSION, max_field, 0};
	size_t i;

	v[2] = policy ? (uint64_t)policy->mode : 0;
	h = tr_hash(h, v, sizeof(v));
	for (i = 0; policy && i < policy->n_embed_hosts; i++)
		h = hash_field(h, policy->embed_hosts[i]);
	h = hash_field(h, summary);
	h = hash_field(h, summary ? summary_base : NULL);
	h = hash_field(h, content);
	h = hash_field(h, content ? content_base : NULL);
	return h ? h : 1;
}

/*
 * Asks the body callback for the bodies stored from the same inputs as
 * the item's: 1 when it gave them (a->summary, a->content and a->text
 * replaced), else 0 and the item is sanitized as usual.
 */
static int
reuse_bodies(struct tr_parser *p)
{
	struct tr_article *a = &p->art;

	if (p->body_cb == NULL || p->body_cb(a, p->body_arg) != 1)
		return 0;
	a->bodies_as_stored = 1;
	p->n_reused++;
	return 1;
}

/*
 * The item's bodies, sanitized unless the options asked for them raw,
 * and their text for the search index (a->text: the summary's, a space,
 * the content's), so that the store need not parse them again. Bodies
 * the body callback has stored from the same inputs (a->raw_hash) are
 * taken from it instead: an item a document repeats costs no parse.
 * With defer_html, an item with nothing to reuse goes out with its
 * bodies raw and their bases (a->bodies_raw), for the caller to
 * sanitize (tr_parser_sanitize_article) on another thread.
 */
static int
sanitize_bodies(struct tr_parser *p)
{
	struct tr_article *a = &p->art;
	int cut = 0, rc;

	if (p->raw_html)
		return 0;
	if (a->summary == NULL && a->content == NULL)
		return 0; /* nothing to sanitize, nothing to reuse */
	a->raw_hash = tr_parser_raw_hash(a->summary, p->summary_base,
	                                 a->content, p->content_base,
	                                 p->html_policy, p->max_field);
	if (reuse_bodies(p))
		return 0;
	p->n_sanitized++;
	/* The bases go with the item (item_clear frees them with it). */
	free(a->summary_base);
	free(a->content_base);
	a->summary_base = a->summary ? p->summary_base : NULL;
	a->content_base = a->content ? p->content_base : NULL;
	if (a->summary_base == p->summary_base)
		p->summary_base = NULL;
	if (a->content_base == p->content_base)
		p->content_base = NULL;
	if (p->defer_html) {
		a->bodies_raw = 1;
		return 0;
	}
	rc = tr_parser_sanitize_article(a, p->html_policy, p->max_field, &cut);
	while (cut-- > 0)
		xml_warn(p, "html", "an item body grew past the size cap when "
		         "sanitized; it is left out", 0);
	return rc;
}

/* Completes the item and hands it to the callback. */
static void
end_item(struct tr_parser *p)
{
	struct tr_article *a = &p->art;

	p->in_item = 0;
	if (p->eof_repair)
		goto out; /* cut off by the end of the document */
	/* Published: pubDate, issued, published; else created; else
	 * dc:date, which is the updated date when there is another. */
	if (a->published == TR_DATE_NONE)
		a->published = p->item_created;
	if (a->published == TR_DATE_NONE && p->item_dcdate != TR_DATE_NONE)
		a->published = p->item_dcdate;
	else if (a->updated == TR_DATE_NONE && p->item_dcdate != TR_DATE_NONE)
		a->updated = p->item_dcdate;
	if (a->link == NULL && p->alt_link) {
		a->link = p->alt_link;
		p->alt_link = NULL;
	}
	/* RSS 1.0: the item's rdf:about is its id when it has no guid. */
	if (a->guid == NULL && p->rdf_about) {
		a->guid = p->rdf_about;
		p->rdf_about = NULL;
		a->guid_is_permalink = 0;
	}
	if (a->summary == NULL && p->fallback_summary) {
		a->summary = p->fallback_summary;
		p->fallback_summary = NULL;
		free(p->summary_base);
		p->summary_base = p->fallback_base;
		p->fallback_base = NULL;
	}
	if (!people_named(a->authors, a->n_authors))
		inherit_author(p);
	if (a->title == NULL && p->fallback_title) {
		a->title = p->fallback_title;
		p->fallback_title = NULL;
	}
	/* RSS 2.0: a permalink guid is the item's URL when there is no link. */
	if (a->link == NULL && a->guid && a->guid_is_permalink &&
	    has_http_scheme(a->guid))
		a->link = strdup(a->guid);
	if (a->author == NULL && a->n_authors > 0)
		a->author = person_display(&a->authors[0]);
	if (tr_article_identity(a, p->bases[0]) != 0)
		goto out;
	/* After the identity, which hashes the summary as the feed has it,
	 * whatever the policy. */
	if (sanitize_bodies(p) != 0)
		goto out;
	p->n_items++;
	/* An item handed out before a fallback parsed it again is not
	 * handed out twice. */
	if (p->n_items > p->n_emitted) {
		p->n_emitted = p->n_items;
		if (p->cb && p->cb(a, p->arg) != 0) {
			stop(p, TR_EABORT);
			goto out;
		}
	}
	if (p->n_items >= p->max_items) {
		xml_warn(p, "items",
		         "item cap reached; the rest of the "
		         "document is ignored",
		         0);
		stop(p, TR_ETOOBIG);
	}
out:
	item_clear(p);
	free(p->alt_link);
	p->alt_link = NULL;
}

/* An item starts; atts (may be NULL) are its start tag's. */
static void
begin_item(struct tr_parser *p, const char **atts)
{
	static const char about[] =
	    "http://www.w3.org/1999/02/22-rdf-syntax-ns#\x01"
	    "about";
	size_t i;

	item_clear(p);
	p->in_item = 1;
	p->item_has_pubdate = 0;
	p->item_dcdate = TR_DATE_NONE;
	p->item_created = TR_DATE_NONE;
	for (i = 0; atts && atts[i]; i += 2)
		if (strcmp(atts[i], about) == 0) {
			p->rdf_about = resolve_keep(p, cur_base(p), atts[i + 1]);
			break;
		}
}

/* --- links ---------------------------------------------------------------- */

static int
is_html_type(const char *t)
{
	return t == NULL || *t == '\0' || strcmp(t, "text/html") == 0 ||
	       strcmp(t, "application/xhtml+xml") == 0;
}

/*
 * A link's relation (RFC 4287 §4.2.7.2): "alternate" when it has none; a
 * registered one written as its IRI ("http://www.iana.org/assignments/
 * relation/via") by its name.
 */
static const char *
link_rel(const char *rel)
{
	static const char iana[] = "http://www.iana.org/assignments/relation/";
	size_t n = sizeof(iana) - 1;

	if (rel == NULL || *rel == '\0')
		return "alternate";
	if (strncmp(rel, iana, n) == 0 && rel[n] != '\0')
		return rel + n;
	return rel;
}

/*
 * <atom:link> anywhere it matters: by rel (RFC 4287 §4.2.7.2). The
 * alternate link of an HTML type (or of none) is the link whatever the
 * order; an alternate of another type stands in when there is none. A
 * link of another relation is never the entry's own page: "via" and
 * "related" name other pages, which entries of other feeds may name too,
 * and as the link they would merge distinct entries across feeds.
 */
static void
atom_link_set(struct tr_parser *p, enum role ctx, const char *rel,
              const char *href, const char *type, const char *length)
{
	int alt, html = is_html_type(type);
	char *u;

	if (href == NULL)
		return;
	rel = link_rel(rel);
	alt = strcmp(rel, "alternate") == 0;
	if (ctx == R_ITEM && strcmp(rel, "enclosure") == 0) {
		add_enclosure(p, href, type, length);
		return;
	}
	if ((u = resolve_keep(p, cur_base(p), href)) == NULL)
		return;
	if (ctx == R_ITEM && alt && html)
		set_first(&p->art.link, u);
	else if (ctx == R_ITEM && alt && p->alt_rank < 2) {
		set_str(&p->alt_link, u);
		p->alt_rank = 2;
	} else if (ctx == R_CHANNEL && alt &&
	           (p->meta.link == NULL || (html && p->feed_link_weak))) {
		set_str(&p->meta.link, u);
		p->feed_link_weak = !html;
	} else if (ctx == R_CHANNEL && strcmp(rel, "self") == 0)
		set_first(&p->meta.self, u);
	else if (ctx == R_SOURCE &&
	         (strcmp(rel, "self") == 0 ||
	          (alt && p->art.source_url == NULL)))
		set_str(&p->art.source_url, u);
	else
		free(u);
}

/* Copies an attribute's value into a fixed buffer ("" when absent). */
static void
keep_attr(char *dst, size_t size, const char *v)
{
	snprintf(dst, size, "%s", v ? v : "");
}

/*
 * An atom:link start tag: set now from href, or, when it has none (a
 * link written as <link>URL</link>), read as a field of this target
 * whose text is the URL. Returns the target, or X_NONE.
 */
static int
atom_link_start(struct tr_parser *p, enum role ctx, const char **atts,
                int target)
{
	const char *href = attr(atts, "href");

	if (href) {
		atom_link_set(p, ctx, attr(atts, "rel"), href,
		              attr(atts, "type"), attr(atts, "length"));
		return X_NONE;
	}
	keep_attr(p->link_rel, sizeof(p->link_rel), attr(atts, "rel"));
	keep_attr(p->link_type, sizeof(p->link_type), attr(atts, "type"));
	keep_attr(p->link_length, sizeof(p->link_length),
	          attr(atts, "length"));
	return target;
}

/* The end of a link read as text (atom_link_start). */
static void
atom_link_end(struct tr_parser *p, enum role ctx)
{
	char *u = field_text(p);

	if (u)
		atom_link_set(p, ctx, p->link_rel, u, p->link_type,
		              p->link_length);
	free(u);
}

/*
 * An Atom id, an IRI (RFC 4287 §4.2.6): a relative one is read against
 * xml:base, or kept as written, with a warning, when there is none.
 */
static char *
field_id(struct tr_parser *p)
{
	char *s = dup_trim(tr_buf_str(&p->text), p->text.len), *r;

	if (s == NULL || has_scheme(s))
		return s;
	if (p->field_base && (r = tr_url_resolve(p->field_base, s)) != NULL) {
		free(s);
		return r;
	}
	xml_warn(p, "relative",
	         "a relative id with no base URL to resolve it against is "
	         "kept as written",
	         0);
	return s;
}

/*
 * media:player: the page that plays the item's media, its link when it
 * has no other (Media RSS §5.10; a player URL is a web page).
 */
static void
media_player(struct tr_parser *p, const char **atts)
{
	const char *u = attr(atts, "url");
	char *r;

	if (u == NULL || p->alt_rank > 0 ||
	    (r = resolve_keep(p, cur_base(p), u)) == NULL)
		return;
	set_str(&p->alt_link, r);
	p->alt_rank = 1;
}

/*
 * The item's picture, the first one of: media:thumbnail (not an
 * enclosure), itunes:image (an episode's art), a media:content whose
 * medium is "image" (also an enclosure).
 */
static void
set_image_url(struct tr_parser *p, const char *u)
{
	if (u && *u && p->art.image == NULL)
		p->art.image = resolve_keep(p, cur_base(p), u);
}

static void
set_image(struct tr_parser *p, const char **atts)
{
	set_image_url(p, attr(atts, "url"));
}

/* media:content: an enclosure, and a picture when its medium says so. */
static void
media_content(struct tr_parser *p, const char **atts)
{
	const char *medium = attr(atts, "medium");

	add_enclosure(p, attr(atts, "url"), attr(atts, "type"),
	              attr(atts, "fileSize"));
	if (medium && strcmp(medium, "image") == 0)
		set_image(p, atts);
}

/* Adds each comma-separated keyword as a category (itunes:keywords). */
static void
add_keywords(struct tr_parser *p, const char *s)
{
	const char *e;

	for (; s && *s; s = *e ? e + 1 : e) {
		e = s + strcspn(s, ",");
		add_category(p, dup_trim(s, (size_t)(e - s)));
	}
}

/* --- field ends ---------------------------------------------------------- */

static void
end_item_field(struct tr_parser *p)
{
	struct tr_article *a = &p->art;
	struct tr_person pe;
	char *s;

	switch (p->target) {
	case X_I_TITLE:
		set_first(&a->title, field_title(p));
		break;
	case X_I_LINK:
		set_first(&a->link,
		          resolve_keep(p, p->field_base, tr_buf_str(&p->text)));
		break;
	case X_I_SUMMARY:
		set_first_html(p, &a->summary, &p->summary_base);
		break;
	case X_I_CONTENT:
		set_first_html(p, &a->content, &p->content_base);
		break;
	case X_I_GUID:
		set_str(&a->guid, dup_trim(tr_buf_str(&p->text), p->text.len));
		break;
	case X_I_ID:
		set_str(&a->guid, field_id(p));
		a->guid_is_permalink = 0;
		break;
	case X_I_PUBLISHED:
		if (a->published == TR_DATE_NONE)
			a->published = field_date(p);
		break;
	case X_I_UPDATED:
		if (a->updated == TR_DATE_NONE)
			a->updated = field_date(p);
		break;
	case X_I_DCDATE:
		if (p->item_dcdate == TR_DATE_NONE)
			p->item_dcdate = field_date(p);
		break;
	case X_I_CREATED:
		if (p->item_created == TR_DATE_NONE)
			p->item_created = field_date(p);
		break;
	case X_I_AUTHOR:
	case X_I_CREATOR:
		if ((s = field_text(p)) == NULL)
			break;
		parse_rss_person(&pe, s);
		free(s);
		add_person(p, &pe);
		break;
	case X_I_ITUNES_AUTHOR:
		set_first(&p->item_itunes_author, field_text(p));
		break;
	case X_I_FALLBACK_SUMMARY:
		set_first_html(p, &p->fallback_summary, &p->fallback_base);
		break;
	case X_I_FALLBACK_TITLE:
		set_first(&p->fallback_title, field_text(p));
		break;
	case X_I_KEYWORDS:
		s = field_text(p);
		add_keywords(p, s);
		free(s);
		break;
	case X_I_ATOM_LINK:
		atom_link_end(p, R_ITEM);
		break;
	case X_S_ATOM_LINK:
		atom_link_end(p, R_SOURCE);
		break;
	case X_I_CATEGORY:
		add_category(p, field_text(p));
		break;
	case X_I_SOURCE:
		set_first(&a->source_title, field_title(p));
		break;
	case X_S_TITLE:
		set_first(&a->source_title, field_text(p));
		break;
	case X_S_ID:
		set_first(&a->source_id, field_text(p));
		break;
	default:
		break;
	}
}

/* Syndication module periods (http://purl.org/rss/1.0/modules/syndication/). */
static int64_t
sy_seconds(const char *s)
{
	static const struct {
		const char *name;
		int64_t secs;
	} periods[] = {{"daily", 86400},
	               {"hourly", 3600},
	               {"monthly", 2592000},
	               {"weekly", 604800},
	               {"yearly", 31536000}};
	size_t i;

	for (i = 0; s && i < sizeof(periods) / sizeof(periods[0]); i++)
		if (strcmp(s, periods[i].name) == 0)
			return periods[i].secs;
	return 0;
}

static void
end_feed_field(struct tr_parser *p)
{
	struct tr_feed_meta *m = &p->meta;
	struct tr_person pe;
	char *s = NULL;
	long long v;

	switch (p->target) {
	case X_F_TITLE:
		set_first(&m->title, field_title(p));
		break;
	case X_F_LINK:
		set_first(&m->link,
		          resolve_keep(p, p->field_base, tr_buf_str(&p->text)));
		break;
	case X_F_SUBTITLE:
		set_first(&m->subtitle, field_text(p));
		break;
	case X_F_ID:
		set_first(&m->id, field_id(p));
		break;
	case X_F_UPDATED:
		if (m->updated == TR_DATE_NONE && !p->have_lastbuild)
			m->updated = field_date(p);
		break;
	case X_F_LASTBUILD:
		/* The channel's last change, over its pubDate whatever the
		 * order (RSS 2.0). */
		if (!p->have_lastbuild &&
		    (v = field_date(p)) != TR_DATE_NONE) {
			m->updated = v;
			p->have_lastbuild = 1;
		}
		break;
	case X_F_ITUNES_AUTHOR:
		set_first(&p->feed_itunes_author, field_text(p));
		break;
	case X_F_FALLBACK_SUBTITLE:
		set_first(&p->fallback_subtitle, field_text(p));
		break;
	case X_F_ATOM_LINK:
		atom_link_end(p, R_CHANNEL);
		break;
	case X_F_LANGUAGE:
		set_str(&m->language, lang_tag(field_text(p)));
		break;
	case X_F_AUTHOR:
		if ((s = field_text(p)) != NULL && m->author == NULL) {
			parse_rss_person(&pe, s);
			m->author = person_display(&pe);
			people_clear(p->feed_people, &p->n_feed_people);
			people_add(p->feed_people, &p->n_feed_people, &pe);
		}
		break;
	case X_F_TTL:
		s = field_text(p);
		if (s && (v = strtoll(s, NULL, 10)) > 0 && v < 1000000)
			m->ttl = v * 60; /* RSS 2.0: minutes */
		break;
	case X_F_SY_PERIOD:
		s = field_text(p);
		p->sy_period = sy_seconds(s);
		break;
	case X_F_SY_FREQ:
		s = field_text(p);
		if (s && (v = strtoll(s, NULL, 10)) > 0 && v < 1000000)
			p->sy_freq = v;
		break;
	default:
		break;
	}
	free(s);
}

static void
end_person_field(struct tr_parser *p)
{
	char *s = field_text(p);

	switch (p->target) {
	case X_P_NAME:
		set_first(&p->person.name, s);
		break;
	case X_P_EMAIL:
		set_first(&p->person.email, s);
		break;
	case X_P_URI:
		set_first(&p->person.uri, resolve(p->field_base, s));
		free(s);
		break;
	default:
		free(s);
		break;
	}
}

/*
 * U+0080-U+009F in text are windows-1252 bytes that went through a
 * Latin-1 conversion somewhere (U+0092 for a right quote): read as
 * windows-1252, as references to them are (HTML §13.2.5.80). One memchr
 * per field when there are none.
 */
static void
map_c1(struct tr_buf *b)
{
	struct tr_buf fixed;
	const char *s = b->data, *c;
	size_t run = 0, max = b->max;

	if (s == NULL || (c = memchr(s, 0xc2, b->len)) == NULL)
		return;
	tr_buf_init(&fixed, b->max + b->len / 2 + 4);
	for (; c != NULL; c = memchr(c + 1, 0xc2, b->len - (size_t)(c + 1 - s))) {
		unsigned char u = (unsigned char)c[1];
		unsigned int cp;

		if ((size_t)(c - s) + 1 >= b->len || u < 0x80 || u >= 0xa0 ||
		    (cp = tr_cp1252(u)) == u)
			continue;
		tr_buf_add(&fixed, s + run, (size_t)(c - s) - run);
		if (cp < 0x800) {
			tr_buf_addc(&fixed, (char)(0xc0 | (cp >> 6)));
		} else {
			tr_buf_addc(&fixed, (char)(0xe0 | (cp >> 12)));
			tr_buf_addc(&fixed, (char)(0x80 | ((cp >> 6) & 0x3f)));
		}
		tr_buf_addc(&fixed, (char)(0x80 | (cp & 0x3f)));
		run = (size_t)(c - s) + 2;
	}
	if (run == 0) {
		tr_buf_free(&fixed);
		return;
	}
	tr_buf_add(&fixed, s + run, b->len - run);
	tr_buf_free(b);
	*b = fixed;
	b->max = max > fixed.len ? max : fixed.len;
}

static void
end_field(struct tr_parser *p)
{
	if (p->base64 && p->text.data) {
		size_t max = p->text.max;

		p->text.len = base64_decode(p->text.data, p->text.len);
		p->text.data[p->text.len] = '\0';
		utf8_repair(&p->text);
		p->text.max = max; /* the buffer is reused for the next field */
		if (p->mode == M_XHTML)
			p->mode = M_HTML;
	}
	if (p->text.len >= p->text.max)
		trim_partial_utf8(&p->text);
	map_c1(&p->text);
	if (p->target >= X_P_NAME && p->target <= X_P_URI)
		end_person_field(p);
	else if (p->target >= X_F_TITLE && p->target <= X_F_SY_FREQ)
		end_feed_field(p);
	else
		end_item_field(p);
	p->target = X_NONE;
	tr_buf_reset(&p->text);
}

/* --- version detection ---------------------------------------------------- */

static enum tr_feed_version
rss_version(const char *v)
{
	if (v == NULL)
		return TR_RSS20;
	if (strcmp(v, "0.91") == 0)
		return TR_RSS091;
	if (strcmp(v, "0.92") == 0)
		return TR_RSS092;
	if (strcmp(v, "0.93") == 0)
		return TR_RSS093;
	if (strcmp(v, "0.94") == 0)
		return TR_RSS094;
	if (strcmp(v, "0.90") == 0 || strcmp(v, "0.9") == 0)
		return TR_RSS090;
	return TR_RSS20;
}

/*
 * Atom before 1.0: 0.3 by its namespace; the drafts before it (echo, pie,
 * and Atom without a namespace) by their version attribute, and "atom"
 * when it says nothing known (as feedparser reports them).
 */
static enum tr_feed_version
atom_version(enum ns ns, const char *v)
{
	if (ns == NS_ATOM03 || (v && strcmp(v, "0.3") == 0))
		return TR_ATOM03;
	if (ns == NS_ATOM10)
		return TR_ATOM10;
	if (v && strcmp(v, "0.1") == 0)
		return TR_ATOM01;
	if (v && strcmp(v, "0.2") == 0)
		return TR_ATOM02;
	return ns == NS_ATOMPRE ? TR_ATOM : TR_ATOM10;
}

/*
 * An <rss> root in a namespace of its own (userland's and Harvard's RSS
 * 2.0 namespaces and their variants): that namespace is RSS's for the
 * document. The cache may hold it as unknown from an earlier document.
 */
static void
rss_namespace(struct tr_parser *p, const char *name, const char *local)
{
	size_t n = local > name ? (size_t)(local - name - 1) : 0;

	if (n == 0 || p->rss_uri || (p->rss_uri = malloc(n + 1)) == NULL)
		return;
	memcpy(p->rss_uri, name, n);
	p->rss_uri[n] = '\0';
	memset(p->ns_cache, 0, sizeof(p->ns_cache));
}

/*
 * The root's namespace declarations name the format even when no element
 * of it follows (an RSS 1.0 document without channel and items):
 * feedparser reads its version from them.
 */
static void XMLCALL
on_ns_decl(void *ud, const XML_Char *prefix, const XML_Char *uri)
{
	struct tr_parser *p = ud;
	enum ns ns;
	const char *local;
	char name[128];

	if (p->depth != 0 || uri == NULL || p->decl_version != TR_FEED_UNKNOWN)
		return;
	snprintf(name, sizeof(name), "%s%c", uri, NS_SEP);
	ns = split_name(name, &local);
	if (ns == NS_RSS090 && prefix == NULL)
		p->decl_version = TR_RSS090;
	else if (ns == NS_RSS10)
		p->decl_version = TR_RSS10;
}

/* The root element: the format, and the role it opens. */
static enum role
root_element(struct tr_parser *p, enum ns ns, const char *name,
             const char *local, const char **atts)
{
	const char *lang = xml_attr(atts, "lang");

	snprintf(p->root, sizeof(p->root), "%s", local);
	if (strcmp(local, "rss") == 0 && ns == NS_OTHER) {
		rss_namespace(p, name, local);
		ns = NS_USERLAND;
	}
	if (strcmp(local, "feed") == 0 &&
	    (ns == NS_ATOM10 || ns == NS_ATOM03 || ns == NS_ATOMPRE ||
	     ns == NS_NONE)) {
		p->none_is_atom = ns == NS_NONE;
		p->version = atom_version(ns, attr(atts, "version"));
		if (lang)
			p->meta.language = lang_tag(dup_trim(lang, strlen(lang)));
		return R_CHANNEL;
	}
	if (strcmp(local, "entry") == 0 &&
	    (ns == NS_ATOM10 || ns == NS_ATOM03 || ns == NS_ATOMPRE)) {
		p->version = atom_version(ns, attr(atts, "version"));
		begin_item(p, NULL);
		return R_ITEM;
	}
	/* xml:lang on an RSS root is the feed's language until a
	 * <language> says otherwise (feedparser reads it so). */
	if (strcmp(local, "rss") == 0 && ns_family(p, ns) == FAM_RSS) {
		p->version = rss_version(attr(atts, "version"));
		if (lang)
			p->meta.language = lang_tag(dup_trim(lang, strlen(lang)));
		return R_ROOT;
	}
	if (strcmp(local, "RDF") == 0 &&
	    (ns == NS_RDF || ns == NS_RSS10 || ns == NS_RSS090)) {
		/* the version comes with the channel, or the declarations */
		p->version = (enum tr_feed_version)p->decl_version;
		if (lang)
			p->meta.language = lang_tag(dup_trim(lang, strlen(lang)));
		return R_ROOT;
	}
	if (strcmp(local, "channel") == 0 && ns_family(p, ns) == FAM_RSS) {
		p->version = TR_RSS091;
		return R_CHANNEL;
	}
	return R_LOOSE;
}

/* --- expat handlers ------------------------------------------------------- */

static int
is_void_element(const char *name)
{
	static const char *const v[] = {
	    "area",  "base", "br",   "col",   "embed",  "hr",    "img",
	    "input", "link", "meta", "param", "source", "track", "wbr"};
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (strcmp(name, v[i]) == 0)
			return 1;
	return 0;
}

/*
 * The prefix an attribute keeps when serialized: HTML writes the foreign
 * attributes of SVG and MathML as xlink:href, xml:lang (HTML §13.3,
 * "attribute's serialized name"); other namespaces are left out.
 */
static const char *
attr_prefix(const char *name)
{
	static const char xlink[] = "http://www.w3.org/1999/xlink\x01";
	static const char xml[] = "http://www.w3.org/XML/1998/namespace\x01";

	if (strncmp(name, xlink, sizeof(xlink) - 1) == 0)
		return "xlink:";
	if (strncmp(name, xml, sizeof(xml) - 1) == 0)
		return "xml:";
	return "";
}

/* An element inside a field: its markup goes into the field's text. */
static enum role
serialize_start(struct tr_parser *p, enum ns ns, const char *local,
                const char **atts)
{
	const char *l;
	size_t i;

	if (p->mode == M_TEXT)
		return R_SER; /* text only: tags are left out */
	/* RFC 4287 §3.1.1.3: the xhtml div wrapper. Publishing tools also
	 * wrap escaped html in one (feedparser drops it too). */
	if (p->depth == p->field_depth + 1 && strcmp(local, "div") == 0 &&
	    (ns == NS_XHTML || p->mode == M_HTML) &&
	    strspn(tr_buf_str(&p->text), " \t\r\n") == p->text.len)
		return R_SER_SKIP;
	field_add(p, "<", 1);
	field_add(p, local, strlen(local));
	for (i = 0; atts[i]; i += 2) {
		const char *v = atts[i + 1];
		char *abs = NULL;

		const char *prefix = attr_prefix(atts[i]);

		split_name(atts[i], &l);
		/* Links in xhtml content follow xml:base (RFC 4287 §3.1.1.3).
		 */
		if ((strcmp(l, "href") == 0 || strcmp(l, "src") == 0) &&
		    p->field_base && (abs = resolve(p->field_base, v)) != NULL)
			v = abs;
		field_add(p, " ", 1);
		field_add(p, prefix, strlen(prefix));
		field_add(p, l, strlen(l));
		field_add(p, "=\"", 2);
		field_add_escaped(p, v, strlen(v), 1);
		field_add(p, "\"", 1);
		free(abs);
	}
	if (is_void_element(local)) {
		field_add(p, " />", 3);
		return R_SER_VOID;
	}
	field_add(p, ">", 1);
	return R_SER;
}

/* What an element with this tag opens inside a context. */
static enum role
child_role(struct tr_parser *p, enum role parent, enum tag tag, enum ns ns,
           const char **atts)
{
	int target = targets[parent][tag];

	switch (parent) {
	case R_ROOT:
		if (tag == T_CHANNEL) {
			if (p->version == TR_FEED_UNKNOWN)
				p->version =
				    ns == NS_RSS090 ? TR_RSS090 : TR_RSS10;
			return R_CHANNEL;
		}
		if (tag == T_ITEM) {
			if (p->version == TR_FEED_UNKNOWN)
				p->version =
				    ns == NS_RSS090 ? TR_RSS090 : TR_RSS10;
			begin_item(p, atts);
			return R_ITEM;
		}
		return R_NONE;
	case R_CHANNEL:
		if ((tag == T_ITEM || tag == T_A_ENTRY) && !p->in_item) {
			begin_item(p, atts);
			return R_ITEM;
		}
		if (tag == T_A_LINK)
			target = atom_link_start(p, R_CHANNEL, atts,
			                         X_F_ATOM_LINK);
		if (tag == T_A_AUTHOR) {
			p->person_owner = R_CHANNEL;
			memset(&p->person, 0, sizeof(p->person));
			return R_PERSON;
		}
		break;
	case R_ITEM:
		switch (tag) {
		case T_A_LINK:
			target = atom_link_start(p, R_ITEM, atts, X_I_ATOM_LINK);
			break;
		case T_ENCLOSURE:
			add_enclosure(p, attr(atts, "url"), attr(atts, "type"),
			              attr(atts, "length"));
			return R_NONE;
		case T_MEDIA_CONTENT:
			media_content(p, atts);
			return R_GROUP; /* its title, description, player */
		case T_IT_IMAGE: {
			/* href; url as some podcast tools wrote it */
			const char *h = attr(atts, "href");

			set_image_url(p, h ? h : attr(atts, "url"));
			return R_NONE;
		}
		case T_IT_LINK: {
			/* The old form of an episode's art. */
			const char *rel = attr(atts, "rel");

			if (rel && strcmp(rel, "image") == 0)
				set_image_url(p, attr(atts, "href"));
			return R_NONE;
		}
		case T_IT_CATEGORY: {
			const char *t = attr(atts, "text");

			if (t)
				add_category(p, dup_trim(t, strlen(t)));
			return R_NONE;
		}
		case T_MEDIA_THUMBNAIL:
			set_image(p, atts);
			return R_NONE;
		case T_MEDIA_PLAYER:
			media_player(p, atts);
			return R_NONE;
		case T_MEDIA_GROUP:
			return R_GROUP;
		case T_A_AUTHOR:
			p->person_owner = R_ITEM;
			memset(&p->person, 0, sizeof(p->person));
			return R_PERSON;
		case T_A_SOURCE:
			return R_SOURCE;
		case T_GUID: {
			const char *pl = attr(atts, "isPermaLink");

			p->art.guid_is_permalink =
			    !(pl && strcmp(pl, "false") == 0);
			break;
		}
		case T_SOURCE: {
			const char *u = attr(atts, "url");

			if (u)
				set_first(&p->art.source_url,
				          resolve_keep(p, cur_base(p), u));
			break;
		}
		case T_A_CATEGORY: {
			const char *t = attr(atts, "term");

			if (t == NULL || *t == '\0')
				t = attr(atts, "label");
			if (t)
				add_category(p, dup_trim(t, strlen(t)));
			return R_NONE;
		}
		default:
			break;
		}
		break;
	case R_LOOSE:
		/* Not a feed format we know; still take what looks like one
		 * (feedparser does the same), the version stays unknown. */
		if ((tag == T_ITEM || tag == T_A_ENTRY) && !p->in_item) {
			begin_item(p, atts);
			return R_ITEM;
		}
		if (tag == T_CHANNEL || tag == T_A_FEED)
			return R_CHANNEL;
		target = targets[R_CHANNEL][tag];
		if (target == X_NONE)
			return R_LOOSE;
		break;
	case R_GROUP:
		if (tag == T_MEDIA_CONTENT) {
			media_content(p, atts);
			return R_GROUP;
		}
		if (tag == T_MEDIA_THUMBNAIL)
			set_image(p, atts);
		else if (tag == T_MEDIA_PLAYER)
			media_player(p, atts);
		else if (tag == T_MEDIA_DESCRIPTION)
			target = X_I_FALLBACK_SUMMARY;
		else if (tag == T_MEDIA_TITLE)
			target = X_I_FALLBACK_TITLE;
		if (target == X_NONE)
			return R_NONE;
		break;
	case R_SOURCE:
		if (tag == T_A_LINK)
			target = atom_link_start(p, R_SOURCE, atts,
			                         X_S_ATOM_LINK);
		if (tag == T_A_AUTHOR) {
			p->person_owner = R_SOURCE;
			memset(&p->person, 0, sizeof(p->person));
			return R_PERSON;
		}
		break;
	default:
		break;
	}
	if (target == X_NONE)
		return R_NONE;
	begin_field(p, target, atts, (enum tag)tag);
	return R_FIELD;
}

/* xml:base on any element (XML Base §4.2); returns 1 when pushed. */
static int
push_base(struct tr_parser *p, const char **atts)
{
	const char *b = xml_attr(atts, "base");
	char *r, **q;

	if (b == NULL)
		return 0;
	if ((r = resolve(cur_base(p), b)) == NULL)
		return 0;
	if (p->n_bases == p->cap_bases) {
		size_t cap = p->cap_bases ? p->cap_bases * 2 : 8;

		if ((q = realloc(p->bases, cap * sizeof(*q))) == NULL) {
			free(r);
			return 0;
		}
		p->bases = q;
		p->cap_bases = cap;
	}
	p->bases[p->n_bases++] = r;
	return 1;
}

/* --- the fast way: hooks in the handlers ---------------------------------- */

/*
 * Something the cleaner would repair (or might): stop expat; fast_feed
 * parses again through the cleaner from the checkpoint. Later events of
 * this parse are ignored (expat may still deliver some after the stop).
 */
static int
request_clean(struct tr_parser *p)
{
	if (p->stop_rc == 0 && !p->want_clean) {
		p->want_clean = 1;
		p->halt = 1;
		p->target = X_NONE;
		XML_StopParser(p->xp, XML_FALSE);
	}
	return 1;
}

/*
 * What the cleaner changes in a well-formed document, caught on the fast
 * way: an item opened inside an item (the cleaner closes the first; this
 * test is broader, by local name only) and a reference to U+0080-U+009F
 * in an attribute value (read as windows-1252; any such character in a
 * value goes the slow way, as expat does not tell a reference from the
 * character itself there). Returns non-zero when the cleaner must run.
 */
static int
fast_start(struct tr_parser *p, struct frame *f, const char *local,
           const char **atts)
{
	const char *c;
	size_t i;

	if ((local[0] == 'i' && strcmp(local, "item") == 0) ||
	    (local[0] == 'e' && strcmp(local, "entry") == 0)) {
		if (p->n_item_names > 0)
			return request_clean(p);
		f->item_name = 1;
		p->n_item_names++;
	}
	for (i = 0; atts[i]; i += 2)
		for (c = strchr(atts[i + 1], '\xc2'); c;
		     c = strchr(c + 1, '\xc2'))
			if ((unsigned char)c[1] >= 0x80 &&
			    (unsigned char)c[1] < 0xa0)
				return request_clean(p);
	return 0;
}

/* Keeps the raw start tag of a channel-level element (for a fallback). */
static void
keep_ctag(struct tr_parser *p)
{
	int off = 0, size = 0, n = XML_GetCurrentByteCount(p->xp);
	const char *ctx = XML_GetInputContext(p->xp, &off, &size);

	if (ctx == NULL || n <= 0 || off < 0 || off + n > size)
		return;
	tr_buf_truncate(&p->ctags, p->ctag_end[p->depth - 1]);
	if (tr_buf_add(&p->ctags, ctx + off, (size_t)n) != 0)
		return;
	p->ctag_end[p->depth] = p->ctags.len;
	p->ctag_depth = p->depth;
}

/*
 * After an element closed inside the channel (or root): the parser's
 * state is simple here (no item, field or person open), so a fallback
 * can start again from here. Records the position after the end tag.
 */
static void
checkpoint(struct tr_parser *p)
{
	int off = 0, size = 0, n = XML_GetCurrentByteCount(p->xp), i;
	const char *ctx = XML_GetInputContext(p->xp, &off, &size);
	unsigned long line = (unsigned long)XML_GetCurrentLineNumber(p->xp);
	unsigned long col = (unsigned long)XML_GetCurrentColumnNumber(p->xp);

	if (n < 0 || (n > 0 && (ctx == NULL || off < 0 || off + n > size)))
		return; /* the older checkpoint stays */
	/* expat's position is the tag's start: move it past the tag, as
	 * expat counts (characters; CR, LF and CR LF end a line). */
	for (i = 0; i < n; i++) {
		unsigned char b = (unsigned char)ctx[off + i];

		if (b == '\r' || b == '\n') {
			line++, col = 0;
			if (b == '\r' && i + 1 < n && ctx[off + i + 1] == '\n')
				i++;
		} else if ((b & 0xc0) != 0x80)
			col++;
	}
	p->ck_off = (uint64_t)XML_GetCurrentByteIndex(p->xp) + (uint64_t)n;
	p->ck_line = line;
	p->ck_col = col;
	p->ck_depth = p->depth;
	p->ck_items = p->n_items;
	p->ck_warnings = p->n_warnings;
	p->ck_bases = p->n_bases;
	memcpy(p->ck_kind, p->kind_count, sizeof(p->ck_kind));
	p->ck_truncated = p->truncated_warned;
}

/* A DOCTYPE may declare entities: such documents go the slow way. */
static void XMLCALL
on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
           const XML_Char *pubid, int has_internal_subset)
{
	struct tr_parser *p = ud;

	(void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
	if (p->fast)
		request_clean(p);
}

static void XMLCALL
on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	struct tr_parser *p = ud;
	struct frame *f, *parent;
	const char *local;
	enum ns ns;
	enum fam fam;
	enum tag tag;
	enum role role;

	if (p->halt)
		return;
	if (p->depth >= p->max_depth) {
		/* Handlers may still run after the stop: count, ignore. */
		if (p->overflow++ == 0) {
			xml_warn(p, "depth",
			         "elements nested too deeply; the "
			         "rest of the document is ignored",
			         0);
			stop(p, TR_ETOOBIG);
		}
		return;
	}
	parent = &p->frames[p->depth];
	f = &p->frames[++p->depth];
	memset(f, 0, sizeof(*f));
	ns = split_name_cached(p, name, &local);
	if (p->fast && fast_start(p, f, local, atts))
		return;
	if (parent->role >= R_FIELD) {
		f->role = (unsigned char)serialize_start(p, ns, local, atts);
		return;
	}
	f->pushed_base = (unsigned char)push_base(p, atts);
	fam = ns_family(p, ns);
	tag = lookup_tag(p, fam, local);
	f->tag = (unsigned char)tag;
	f->fam = (unsigned char)fam;
	if (p->depth == 1)
		role = root_element(p, ns, name, local, atts);
	else if (parent->role == R_NONE)
		role = R_NONE;
	else
		role = child_role(p, (enum role)parent->role, tag, ns, atts);
	f->role = (unsigned char)role;
	if (p->fast && p->depth == p->ctag_depth + 1 &&
	    (role == R_ROOT || role == R_CHANNEL || role == R_LOOSE))
		keep_ctag(p);
}

static void
end_person(struct tr_parser *p)
{
	struct tr_person *pe = &p->person;

	if (p->person_owner == R_ITEM && p->in_item)
		add_person(p, pe);
	else if (p->person_owner == R_SOURCE && p->in_item)
		people_add(p->source_people, &p->n_source_people, pe);
	else if (p->person_owner == R_CHANNEL &&
	         (pe->name || pe->email)) {
		/* Every author of an Atom feed is every entry's that has
		 * none (RFC 4287 §4.2.1). */
		people_add(p->feed_people, &p->n_feed_people, pe);
		free(p->meta.author);
		p->meta.author =
		    people_display(p->feed_people, p->n_feed_people);
	}
	person_clear(pe);
}

static void XMLCALL
on_end(void *ud, const XML_Char *name)
{
	struct tr_parser *p = ud;
	struct frame *f = &p->frames[p->depth];
	const char *local;

	if (p->halt)
		return;
	if (p->overflow > 0) {
		p->overflow--;
		return;
	}
	if (p->depth == 0)
		return;
	switch (f->role) {
	case R_SER:
		if (p->mode != M_TEXT) {
			split_name(name, &local);
			field_add(p, "</", 2);
			field_add(p, local, strlen(local));
			field_add(p, ">", 1);
		}
		break;
	case R_FIELD:
		if (p->target != X_NONE)
			end_field(p);
		break;
	case R_ITEM:
		end_item(p);
		break;
	case R_PERSON:
		end_person(p);
		break;
	default:
		break;
	}
	if (f->pushed_base && p->n_bases > 1)
		free(p->bases[--p->n_bases]);
	if (f->item_name)
		p->n_item_names--;
	if (p->depth <= p->ctag_depth)
		p->ctag_depth = p->depth - 1;
	p->depth--;
	if (p->fast && p->depth > 0 && p->depth <= p->ctag_depth &&
	    !p->in_item && p->target == X_NONE && p->stop_rc == 0)
		checkpoint(p);
}

/* U+0080-U+009F as a piece of its own: from a reference (which the
 * cleaner reads as windows-1252) when expat read more than its 2 bytes. */
static int
c1_reference(struct tr_parser *p)
{
	if (XML_GetCurrentByteCount(p->xp) > 2)
		return request_clean(p);
	return 0;
}

static void XMLCALL
on_text(void *ud, const XML_Char *s, int len)
{
	struct tr_parser *p = ud;

	if (len == 2 && (unsigned char)s[0] == 0xc2 &&
	    (unsigned char)s[1] < 0xa0 && p->fast && c1_reference(p))
		return;
	if (p->target == X_NONE || p->frames[p->depth].role < R_FIELD)
		return;
	/* In html mode the text is HTML source, also inside child elements
	 * (an escaped "&lt;b&gt;" in a wrapper is bold, as feedparser
	 * reads it); in xhtml mode it is text among elements. */
	if (p->mode == M_XHTML)
		field_add_escaped(p, s, (size_t)len, 0);
	else
		field_add(p, s, (size_t)len);
}

/* --- the public API ---------------------------------------------------------
 */

const char *
tr_feed_version_name(enum tr_feed_version v)
{
	static const char *const names[] = {
	    "unknown", "rss090", "rss091", "rss092", "rss093", "rss094",
	    "rss20",   "rss10",  "atom03", "atom10", "atom01", "atom02",
	    "atom"};

	if ((unsigned)v >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[v];
}

/* Handlers and limits on p->xp, after creation or XML_ParserReset. */
static void
setup_handlers(struct tr_parser *p)
{
	XML_SetUserData(p->xp, p);
	XML_SetElementHandler(p->xp, on_start, on_end);
	XML_SetCharacterDataHandler(p->xp, on_text);
	XML_SetStartDoctypeDeclHandler(p->xp, on_doctype);
	XML_SetStartNamespaceDeclHandler(p->xp, on_ns_decl);
	/* Never read an external DTD or parameter entity. */
	XML_SetParamEntityParsing(p->xp, XML_PARAM_ENTITY_PARSING_NEVER);
	/* Entity expansion limits (on by default since 2.4.0; explicit). */
	XML_SetBillionLaughsAttackProtectionMaximumAmplification(p->xp, 100.0f);
	XML_SetBillionLaughsAttackProtectionActivationThreshold(p->xp,
	                                                        1u << 20);
}

static int
setup_expat(struct tr_parser *p)
{
	/* The cleaner hands expat UTF-8 whatever the declaration says. */
	p->xp = XML_ParserCreateNS("UTF-8", NS_SEP);
	if (p->xp == NULL)
		return TR_ENOMEM;
	setup_handlers(p);
	return 0;
}

/* The document-level state beside the metadata (see struct tr_parser). */
static void
feed_extras_clear(struct tr_parser *p)
{
	people_clear(p->feed_people, &p->n_feed_people);
	free(p->feed_itunes_author);
	free(p->fallback_subtitle);
	p->feed_itunes_author = p->fallback_subtitle = NULL;
	p->have_lastbuild = p->feed_link_weak = 0;
}

/*
 * Drops an open item, person and field: the article record and its
 * arrays, the alternate link, the text gathered so far.
 */
static void
drop_open(struct tr_parser *p)
{
	tr_article_free(&p->art);
	p->in_item = 0;
	p->cap_authors = p->cap_categories = p->cap_enclosures = 0;
	free(p->alt_link);
	p->alt_link = NULL;
	person_clear(&p->person);
	item_extras_clear(p);
	p->target = X_NONE;
	p->mode = M_TEXT;
	p->base64 = p->atom_text = 0;
	tr_buf_reset(&p->text);
}

/*
 * expat and the cleaner ready for a new start (a document, or a parse
 * again from a checkpoint), with the handlers set again.
 */
static int
restart_expat(struct tr_parser *p)
{
	tr_clean_reset(p->cl);
	if (!XML_ParserReset(p->xp, "UTF-8"))
		return TR_ENOMEM;
	setup_handlers(p);
	return 0;
}

/*
 * The state of one document: everything tr_parser_reset starts afresh.
 * Expects the per-document fields freed (doc_clear) or zeroed (calloc).
 */
static int
doc_init(struct tr_parser *p, const char *base_url, const char *content_type)
{
	int rc;

	tr_article_init(&p->art);
	tr_feed_meta_init(&p->meta);
	p->item_dcdate = TR_DATE_NONE;
	p->item_created = TR_DATE_NONE;
	p->n_bases = 1;
	p->ck_bases = 1;
	p->ck_line = p->ck_lfline = p->lf_line = 1;
	if (base_url && *base_url && (p->bases[0] = strdup(base_url)) == NULL)
		return TR_ENOMEM;
	if ((rc = tr_charset_new(&p->cs, content_type, charset_warn, p)) != 0)
		return rc;
	return 0;
}

/* Frees what one document left behind and zeroes its state. */
static void
doc_clear(struct tr_parser *p)
{
	size_t i;

	tr_charset_free(p->cs);
	p->cs = NULL;
	drop_open(p);
	tr_feed_meta_free(&p->meta);
	feed_extras_clear(p);
	for (i = 0; i < p->n_warnings; i++)
		free(p->warnings[i]);
	free(p->warnings);
	p->warnings = NULL;
	p->n_warnings = 0;
	memset(p->kind_count, 0, sizeof(p->kind_count));
	for (i = 0; i < p->n_bases; i++)
		free(p->bases[i]);
	p->bases[0] = NULL;
	p->n_bases = 0;
	p->version = TR_FEED_UNKNOWN;
	p->root[0] = '\0';
	if (p->rss_uri) /* the cache knows it as RSS's */
		memset(p->ns_cache, 0, sizeof(p->ns_cache));
	free(p->rss_uri);
	p->rss_uri = NULL;
	p->decl_version = TR_FEED_UNKNOWN;
	p->none_is_atom = p->bozo = p->dead = p->stop_rc = 0;
	p->finished = p->eof_repair = 0;
	p->depth = p->overflow = 0;
	p->field_depth = 0;
	p->field_base = NULL;
	tr_buf_reset(&p->cleaned);
	p->truncated_warned = 0;
	p->item_has_pubdate = 0;
	p->person_owner = 0;
	p->sy_period = p->sy_freq = 0;
	p->n_items = p->n_emitted = 0;
	p->n_sanitized = p->n_reused = 0;
	p->fast = p->fast_decided = p->halt = p->want_clean = 0;
	p->shadow = 0;
	p->line_adjust = 0;
	p->in_off = p->held_off = 0;
	tr_buf_reset(&p->held);
	tr_buf_reset(&p->ctags);
	p->ctag_depth = p->n_item_names = 0;
	p->ck_off = 0;
	p->ck_line = p->ck_lfline = p->lf_line = 1;
	p->ck_col = 0;
	p->ck_line_start = p->lf_off = p->lf_line_start = 0;
	p->ck_depth = p->ck_items = p->ck_warnings = p->ck_bases = 0;
	p->ck_truncated = 0;
}

int
tr_parser_new(struct tr_parser **out, const struct tr_parse_opts *opts,
              tr_article_cb cb, void *arg)
{
	struct tr_parser *p;
	int rc = TR_ENOMEM;

	*out = NULL;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return TR_ENOMEM;
	p->cb = cb;
	p->arg = arg;
	p->max_field = opts && opts->max_field ? opts->max_field : 1 << 20;
	p->max_items = opts && opts->max_items ? opts->max_items : 100000;
	p->max_depth = opts && opts->max_depth ? opts->max_depth : 1000;
	p->always_clean = opts && opts->always_clean;
	p->raw_html = opts && opts->raw_html;
	p->defer_html = opts && opts->defer_html;
	p->html_policy = opts ? opts->html_policy : NULL;
	p->body_cb = opts ? opts->body_cb : NULL;
	p->body_arg = opts ? opts->body_arg : NULL;
	index_tags(p);
	tr_buf_init(&p->text, p->max_field);
	tr_buf_init(&p->cleaned, (size_t)1 << 30);
	tr_buf_init(&p->held, (size_t)1 << 30);
	tr_buf_init(&p->ctags, (size_t)1 << 30);
	if ((p->frames = calloc(p->max_depth + 2, sizeof(*p->frames))) ==
	        NULL ||
	    (p->ctag_end = calloc(p->max_depth + 2, sizeof(size_t))) == NULL)
		goto out;
	if ((p->bases = calloc(8, sizeof(*p->bases))) == NULL)
		goto out;
	p->cap_bases = 8;
	if ((rc = doc_init(p, opts ? opts->base_url : NULL,
	                   opts ? opts->content_type : NULL)) != 0 ||
	    (rc = tr_clean_new(&p->cl, p->max_depth + 1, clean_warn, p)) != 0 ||
	    (rc = setup_expat(p)) != 0)
		goto out;
	*out = p;
	return 0;
out:
	tr_parser_free(p);
	return rc;
}

void
tr_parser_set_callback(struct tr_parser *p, tr_article_cb cb, void *arg)
{
	p->cb = cb;
	p->arg = arg;
}

void
tr_parser_set_html_policy(struct tr_parser *p,
                          const struct tr_html_policy *policy)
{
	p->html_policy = policy;
}

void
tr_parser_set_body_cb(struct tr_parser *p, tr_body_cb cb, void *arg)
{
	p->body_cb = cb;
	p->body_arg = arg;
}

int
tr_parser_reset(struct tr_parser *p, const char *base_url,
                const char *content_type)
{
	int rc;

	doc_clear(p);
	if ((rc = restart_expat(p)) != 0)
		return rc;
	return doc_init(p, base_url, content_type);
}

/*
 * What tr_parser_feed returns once expat stopped: TR_EABORT when the
 * callback asked, 0 after a cap (the document was fine, the rest is
 * skipped), TR_EPARSE after an XML error.
 */
static int
dead_rc(const struct tr_parser *p)
{
	if (p->stop_rc == TR_ETOOBIG)
		return 0;
	return p->stop_rc ? p->stop_rc : TR_EPARSE;
}

/* expat stopped with an error: the parser is dead, the error logged. */
static int
expat_failed(struct tr_parser *p)
{
	p->dead = 1;
	if (p->stop_rc == 0 && XML_GetErrorCode(p->xp) == XML_ERROR_NO_MEMORY)
		p->stop_rc = TR_ENOMEM;
	else if (p->stop_rc == 0) {
		drop_warnings_after(
		    p, xml_line(p),
		    (unsigned long)XML_GetCurrentColumnNumber(p->xp) + 1);
		xml_warn(p, "xml", XML_ErrorString(XML_GetErrorCode(p->xp)), 1);
	}
	return dead_rc(p);
}

/* Parses the n bytes already in expat's buffer (XML_GetBuffer). */
static int
parse_buffer(struct tr_parser *p, size_t n, int final)
{
	if (XML_ParseBuffer(p->xp, (int)n, final) != XML_STATUS_ERROR)
		return 0;
	return expat_failed(p);
}

/* Hands cleaned text to expat through its own buffer. */
static int
to_expat(struct tr_parser *p, const char *s, size_t n, int final)
{
	void *b;

	if (p->dead)
		return dead_rc(p);
	if (n == 0) {
		if (XML_Parse(p->xp, "", 0, final) != XML_STATUS_ERROR)
			return 0;
		return expat_failed(p);
	}
	if ((b = XML_GetBuffer(p->xp, (int)n)) == NULL)
		return TR_ENOMEM;
	memcpy(b, s, n);
	return parse_buffer(p, n, final);
}

/* Cleaner and expat over UTF-8 text: the repairing way. */
static int
clean_to_expat(struct tr_parser *p, const char *u, size_t ulen)
{
	size_t off, n, bound;
	int rc;

	for (off = 0; off < ulen; off += n) {
		n = ulen - off < CHUNK ? ulen - off : CHUNK;
		bound = tr_clean_bound(p->cl, n);
		if (bound <= DIRECT_MAX) {
			/* Cleaned straight into expat's buffer: a view whose
			 * max is its size, so it can never grow (tr_buf_add
			 * would say TR_ETOOBIG, which the bound rules out). */
			struct tr_buf view;

			if ((view.data = XML_GetBuffer(p->xp, (int)bound)) ==
			    NULL)
				return TR_ENOMEM;
			view.len = 0;
			view.cap = bound;
			view.max = bound - 1;
			if ((rc = tr_clean_feed(p->cl, &view, u + off, n)) != 0)
				return rc;
			if (view.len &&
			    (rc = parse_buffer(p, view.len, 0)) != 0)
				return rc;
			continue;
		}
		tr_buf_reset(&p->cleaned);
		if ((rc = tr_clean_feed(p->cl, &p->cleaned, u + off, n)) != 0)
			return rc;
		if (p->cleaned.len &&
		    (rc = to_expat(p, p->cleaned.data, p->cleaned.len, 0)) != 0)
			return rc;
	}
	return 0;
}

/* The cleaner alone over text expat already read: output dropped. */
static int
clean_only(struct tr_parser *p, const char *u, size_t ulen)
{
	size_t off, n;
	int rc;

	for (off = 0; off < ulen; off += n) {
		n = ulen - off < CHUNK ? ulen - off : CHUNK;
		tr_buf_reset(&p->cleaned);
		if ((rc = tr_clean_feed(p->cl, &p->cleaned, u + off, n)) != 0)
			return rc;
	}
	tr_buf_reset(&p->cleaned);
	return 0;
}

/* --- the fast way ----------------------------------------------------------
 *
 * Most documents are well-formed UTF-8, and for them the cleaner changes
 * nothing but costs a pass over every byte. So a UTF-8 document that
 * starts with '<' is handed to expat as it is, and the cleaner runs only
 * when needed: expat reports an error, or a handler sees one of the few
 * things the cleaner changes in a well-formed document (a DOCTYPE, whose
 * entities it handles; an item inside an item; a reference to
 * U+0080-U+009F). The document is then parsed again through the cleaner
 * from the last checkpoint, with the parser's state as it was there; the
 * result is the one the cleaner alone gives, items already handed out
 * are not handed out twice. A checkpoint is taken each time an element
 * closes inside the channel (or root), so only the bytes since the last
 * one are kept; should they pass HOLD_MAX (a huge item), the cleaner
 * catches up over them and the rest of the document goes the slow way.
 * It takes over only where it holds nothing back (tr_clean_pending):
 * expat has read every byte so far, and a tag name the cleaner still
 * holds would reach expat twice. Until then it follows expat chunk by
 * chunk, its output dropped, and the bytes stay held.
 */
#define HOLD_MAX ((size_t)1 << 20)

/* Counts the LFs in s[0,n), s being at offset base (the cleaner's lines). */
static void
count_lf(struct tr_parser *p, const char *s, size_t n, uint64_t base)
{
	const char *q = s, *end = s + n, *nl;

	while (q < end && (nl = memchr(q, '\n', (size_t)(end - q))) != NULL) {
		p->lf_line++;
		q = nl + 1;
		p->lf_line_start = base + (uint64_t)(q - s);
	}
}

/* The parser's state back to the checkpoint's. */
static void
restore_checkpoint(struct tr_parser *p)
{
	size_t i;

	drop_open(p);
	while (p->n_bases > p->ck_bases && p->n_bases > 1)
		free(p->bases[--p->n_bases]);
	p->depth = p->ck_depth;
	p->overflow = 0;
	p->n_items = p->ck_items;
	for (i = p->ck_warnings; i < p->n_warnings; i++)
		free(p->warnings[i]);
	p->n_warnings = p->ck_warnings;
	memcpy(p->kind_count, p->ck_kind, sizeof(p->kind_count));
	p->truncated_warned = p->ck_truncated;
	if (p->ck_depth == 0) { /* from the document's start */
		tr_feed_meta_free(&p->meta);
		tr_feed_meta_init(&p->meta);
		feed_extras_clear(p);
		p->version = TR_FEED_UNKNOWN;
		p->root[0] = '\0';
		if (p->rss_uri)
			memset(p->ns_cache, 0, sizeof(p->ns_cache));
		free(p->rss_uri);
		p->rss_uri = NULL;
		p->decl_version = TR_FEED_UNKNOWN;
		p->none_is_atom = 0;
		p->sy_period = p->sy_freq = 0;
	}
}

/*
 * Brings the cleaner (and with feed, a reset expat) to the checkpoint:
 * the kept start tags of the open elements, a newline, then as many
 * spaces as expat's column there (text the handlers ignore), so that
 * expat's columns come out as in the input; line_adjust maps its lines.
 * Handlers are halted meanwhile. The cleaner's position is then set.
 */
static int
resume_at_checkpoint(struct tr_parser *p, int feed)
{
	static const char spaces[] = "                                "
	                             "                                ";
	const char *t = p->ctags.data;
	size_t n = p->ctag_end[p->ck_depth], i, nl = 0, col = p->ck_col, k;
	int rc;

	p->halt = 1;
	for (i = 0; i < n; i++)
		if (t[i] == '\n' ||
		    (t[i] == '\r' && (i + 1 == n || t[i + 1] != '\n')))
			nl++;
	if (feed) {
		rc = clean_to_expat(p, t, n);
		if (rc == 0)
			rc = clean_to_expat(p, "\n", 1);
		for (; rc == 0 && col > 0; col -= k) {
			k = col < sizeof(spaces) - 1 ? col : sizeof(spaces) - 1;
			rc = clean_to_expat(p, spaces, k);
		}
		p->line_adjust = (long)p->ck_line - (long)(nl + 2);
	} else
		rc = clean_only(p, t, n);
	p->halt = 0;
	tr_clean_set_position(p->cl, p->ck_lfline, p->ck_off, p->ck_line_start);
	return rc;
}

/*
 * expat stopped on something the cleaner repairs: parse the kept bytes
 * again from the checkpoint, through the cleaner, with a reset expat. The
 * rest of the document goes the same way.
 */
static int
fallback(struct tr_parser *p)
{
	int rc = 0;

	restore_checkpoint(p);
	p->fast = p->want_clean = p->halt = p->shadow = 0;
	if ((rc = restart_expat(p)) != 0) {
		p->dead = 1;
		p->stop_rc = rc;
		return rc;
	}
	if (p->ck_depth > 0)
		rc = resume_at_checkpoint(p, 1);
	if (rc == 0)
		rc = clean_to_expat(p, p->held.data, p->held.len);
	tr_buf_reset(&p->held);
	return rc;
}

/* The cleaner has read all expat read: it takes over if it can. */
static void
hand_over(struct tr_parser *p)
{
	if (tr_clean_pending(p->cl))
		return; /* it holds part of a tag: the next chunk, then */
	p->fast = p->shadow = 0;
	tr_buf_free(&p->held);
}

/*
 * No checkpoint for too long: the cleaner reads what expat read since the
 * last one (its output, the same bytes, dropped) and takes over.
 */
static int
catch_up(struct tr_parser *p)
{
	int rc = 0;

	tr_clean_reset(p->cl);
	if (p->ck_depth > 0)
		rc = resume_at_checkpoint(p, 0);
	if (rc == 0)
		rc = clean_only(p, p->held.data, p->held.len);
	p->shadow = 1;
	if (rc == 0)
		hand_over(p);
	return rc;
}

/* Keeps the input since the checkpoint, and the cleaner's line there. */
static int
hold(struct tr_parser *p, const char *u, size_t n, uint64_t start,
     uint64_t ck_before)
{
	uint64_t a = p->lf_off, ck = p->ck_off;

	if (ck != ck_before) {
		/* LFs from the last checkpoint to this one: in held, then u */
		if (a < start)
			count_lf(p, p->held.data + (a - p->held_off),
			         (size_t)((ck < start ? ck : start) - a), a);
		if (ck > start) {
			uint64_t b = a > start ? a : start;

			count_lf(p, u + (b - start), (size_t)(ck - b), b);
		}
		p->lf_off = ck;
		p->ck_lfline = p->lf_line;
		p->ck_line_start = p->lf_line_start;
	}
	if (ck >= start) {
		tr_buf_reset(&p->held);
		p->held_off = ck;
		return tr_buf_add(&p->held, u + (ck - start),
		                  (size_t)(start + n - ck));
	}
	if (ck > p->held_off) {
		size_t drop = (size_t)(ck - p->held_off);

		memmove(p->held.data, p->held.data + drop, p->held.len - drop);
		tr_buf_truncate(&p->held, p->held.len - drop);
		p->held_off = ck;
	}
	return tr_buf_add(&p->held, u, n);
}

/* The n bytes at u, already in expat's buffer, parsed (the fast way). */
static int
fast_parse(struct tr_parser *p, const char *u, size_t n, int final)
{
	uint64_t start = p->in_off, ck_before = p->ck_off;
	enum XML_Status st;
	int rc;

	st = n > 0 ? XML_ParseBuffer(p->xp, (int)n, final)
	           : XML_Parse(p->xp, "", 0, final);
	p->in_off += n;
	if ((rc = hold(p, u, n, start, ck_before)) != 0)
		return rc;
	if (st == XML_STATUS_ERROR) {
		if (p->want_clean ||
		    (p->stop_rc == 0 &&
		     XML_GetErrorCode(p->xp) != XML_ERROR_NO_MEMORY))
			return fallback(p);
		return expat_failed(p);
	}
	if (p->shadow && !final) {
		if ((rc = clean_only(p, u, n)) == 0)
			hand_over(p);
		return rc;
	}
	if (!final && p->held.len > HOLD_MAX)
		return catch_up(p);
	return 0;
}

/* n bytes of UTF-8 straight to expat (the fast way). */
static int
fast_feed(struct tr_parser *p, const char *u, size_t n, int final)
{
	void *b = NULL;

	if (n > 0) {
		if ((b = XML_GetBuffer(p->xp, (int)n)) == NULL)
			return TR_ENOMEM;
		memcpy(b, u, n);
	}
	return fast_parse(p, n > 0 ? b : u, n, final);
}

/* The first UTF-8 bytes decide the way: fast for UTF-8 opening with '<'. */
static void
decide_way(struct tr_parser *p, const char *u)
{
	p->fast_decided = 1;
	p->fast = !p->always_clean && tr_charset_is_utf8(p->cs) && u[0] == '<';
	p->ck_warnings = p->n_warnings;
	memcpy(p->ck_kind, p->kind_count, sizeof(p->ck_kind));
}

/* UTF-8 text the fast way, or through the cleaner, to expat. */
static int
pump_utf8(struct tr_parser *p, const char *u, size_t ulen)
{
	if (!p->fast_decided && ulen > 0)
		decide_way(p, u);
	if (p->fast)
		return ulen > 0 ? fast_feed(p, u, ulen, 0) : 0;
	return clean_to_expat(p, u, ulen);
}

/* Charset, then the fast way or cleaner and expat, over one piece. */
static int
pump(struct tr_parser *p, const char *buf, size_t len, int final)
{
	const char *u;
	size_t ulen;
	int rc;

	if ((rc = tr_charset_feed(p->cs, buf, len, final, &u, &ulen)) != 0)
		return rc;
	return pump_utf8(p, u, ulen);
}

int
tr_parser_feed(struct tr_parser *p, const void *buf, size_t len)
{
	const char *s = buf;
	size_t n;
	int rc;

	if (p->dead || p->finished)
		return p->dead ? dead_rc(p) : TR_EINVAL;
	while (len > 0) {
		n = len < CHUNK ? len : CHUNK;
		if ((rc = pump(p, s, n, 0)) != 0)
			return rc;
		s += n, len -= n;
	}
	return 0;
}

/* Podcast fallbacks for the feed's author and subtitle (iTunes tags). */
static void
feed_fallbacks(struct tr_parser *p)
{
	struct tr_person pe;

	if (p->meta.author == NULL && p->feed_itunes_author) {
		parse_rss_person(&pe, p->feed_itunes_author);
		p->meta.author = person_display(&pe);
		person_clear(&pe);
	}
	if (p->meta.subtitle == NULL && p->fallback_subtitle) {
		p->meta.subtitle = p->fallback_subtitle;
		p->fallback_subtitle = NULL;
	}
}

static int
recognized(const struct tr_parser *p)
{
	return p->version != TR_FEED_UNKNOWN || p->n_items > 0;
}

int
tr_parser_finish(struct tr_parser *p)
{
	size_t closed = 0;
	int rc = 0;

	if (p->finished)
		return recognized(p) ? 0 : TR_EPARSE;
	p->finished = 1;
	if (!p->dead)
		rc = pump(p, NULL, 0, 1); /* what the charset decoder held */
	if (!p->dead && rc == 0 && p->fast)
		rc = fast_feed(p, "", 0, 1); /* may fall back, then go on */
	if (!p->dead && rc == 0 && !p->fast) {
		tr_buf_reset(&p->cleaned);
		rc = tr_clean_finish(p->cl, &p->cleaned, &closed);
		/* Items closed here were cut off: end_item drops them. */
		p->eof_repair = closed > 0;
		if (rc == 0)
			rc = to_expat(p, p->cleaned.data, p->cleaned.len, 1);
	}
	if (p->meta.ttl == 0 && p->sy_period > 0)
		p->meta.ttl = p->sy_period / (p->sy_freq > 0 ? p->sy_freq : 1);
	feed_fallbacks(p);
	sort_warnings(p);
	if (rc == TR_ENOMEM)
		return rc;
	return recognized(p) ? 0 : TR_EPARSE;
}

const struct tr_feed_meta *
tr_parser_meta(const struct tr_parser *p)
{
	return &p->meta;
}

enum tr_feed_version
tr_parser_version(const struct tr_parser *p)
{
	return p->version;
}

const char *
tr_parser_encoding(const struct tr_parser *p)
{
	const char *n = tr_charset_name(p->cs);

	return *n ? n : "utf-8";
}

int
tr_parser_bozo(const struct tr_parser *p)
{
	return p->bozo;
}

size_t
tr_parser_nwarnings(const struct tr_parser *p)
{
	return p->n_warnings;
}

const char *
tr_parser_warning(const struct tr_parser *p, size_t i)
{
	return i < p->n_warnings ? p->warnings[i] : NULL;
}

size_t
tr_parser_nsanitized(const struct tr_parser *p)
{
	return p->n_sanitized;
}

size_t
tr_parser_nreused(const struct tr_parser *p)
{
	return p->n_reused;
}

size_t
tr_parser_nitems(const struct tr_parser *p)
{
	return p->n_items;
}

const char *
tr_parser_root(const struct tr_parser *p)
{
	return p->root;
}

void
tr_parser_free(struct tr_parser *p)
{
	if (p == NULL)
		return;
	if (p->xp)
		XML_ParserFree(p->xp);
	if (p->bases)
		doc_clear(p);
	else
		tr_charset_free(p->cs);
	tr_clean_free(p->cl);
	tr_buf_free(&p->cleaned);
	tr_buf_free(&p->text);
	tr_buf_free(&p->held);
	tr_buf_free(&p->ctags);
	free(p->cat_set.slot);
	free(p->enc_set.slot);
	free(p->bases);
	free(p->frames);
	free(p->ctag_end);
	free(p);
}
