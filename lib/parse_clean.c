/*
 * parse_clean.c — the streaming pre-cleaner in front of expat.
 *
 * Real feeds are often not well-formed XML; expat rightly stops at the
 * first error. Rather than hold the document and re-parse a repaired
 * copy, this small lexer runs over the stream once, knows just enough XML
 * (tags, attribute values, comments, CDATA, PIs, the DOCTYPE) to repair
 * the common breakages on the fly, and hands expat text it accepts. See
 * parse_int.h for the list of repairs. Every repair is reported with its
 * line and column.
 *
 * State survives chunk borders: a tag name, an entity name or the bytes
 * of a UTF-8 sequence cut by a border are kept until the next chunk, so
 * the output does not depend on how the input was split.
 *
 * Speed: in every state the bytes that need no attention are found with a
 * table lookup and copied as one run; only markup characters, newlines
 * and invalid bytes take the slow path.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "charset_int.h"
#include "parse_int.h"
#include "tributary/error.h"

enum state {
	S_PRE,       /* before the first element: junk is dropped */
	S_TEXT,      /* character data */
	S_LT,        /* after '<' */
	S_STAG_NAME, /* the name of a start tag */
	S_TAG,       /* inside a start tag, outside quotes */
	S_ADQ,       /* attribute value in double quotes */
	S_ASQ,       /* attribute value in single quotes */
	S_ETAG_NAME, /* the name of an end tag (held back, not copied) */
	S_ETAG_REST, /* after the end tag's name, until '>' */
	S_BANG,      /* after "<!", deciding what follows */
	S_COMMENT,
	S_CDATA,
	S_PI,
	S_DECL,   /* <!DOCTYPE ...> with its internal subset */
	S_ENTITY, /* after '&' */
	S_POST,   /* after the root element: only comments and PIs */
	S_DROP,   /* a second root element: the rest is dropped */
	S_XDECL,  /* the XML declaration, held until "?>" and checked */
	N_STATES
};

enum { P_SPECIAL, P_PLAIN, P_NEWLINE, P_UTF8, P_AMP };

#define ENT_MAX 32          /* longest entity name kept (HTML's is 31) */
#define NAME_MAX_LEN 1024   /* longer tag names stop tag repair */
#define DECL_MAX (64 << 10) /* DOCTYPE text kept to find ENTITY names */
#define XDECL_MAX 512       /* a longer XML declaration is left to expat */
#define ATEXT_MAX 2048      /* start tag text (outside values) kept */
#define PREFIX_MAX 48       /* longer namespace prefixes are not tracked */

/* A namespace prefix declared (or bound by a repair) on an open element. */
struct ns_bind {
	char prefix[PREFIX_MAX];
	size_t depth; /* the element's depth (1: the root) */
};

struct tr_clean {
	enum state st;
	enum state ent_ret; /* where to go back after an entity */
	unsigned long line;
	uint64_t off;        /* bytes read so far */
	uint64_t line_start; /* offset of the current line's first byte */
	int match;           /* progress through "-->", "]]>" or "?>" */
	int slash;           /* '/' seen in a start tag (maybe "/>") */
	int seen_root;
	int any_markup;
	int pre_junk;  /* non-space junk dropped before the root */
	int pre_space; /* whitespace dropped before the root */
	int post;      /* the '<' being read is after the root */
	int decl_quote, decl_depth;
	int repair_off;   /* too deep or too long: tags pass unchecked */
	int name_flushed; /* a long start tag name is written as it comes */
	int ext_dtd;      /* the DOCTYPE names an external DTD */
	unsigned long lines_dropped; /* newlines dropped before any markup */
	char ent[ENT_MAX + 2];
	size_t n_ent;
	char bang[8];
	size_t n_bang;
	char etag_ws[64];    /* whitespace before an end tag's '>' */
	size_t n_etag_ws;
	unsigned char u8[4]; /* a UTF-8 sequence cut by the chunk border */
	size_t n_u8;
	char xdecl[XDECL_MAX]; /* the XML declaration after "<?" */
	size_t n_xdecl;
	char atext[ATEXT_MAX]; /* the start tag's text outside values */
	size_t n_atext;
	int atext_over;         /* too long: its prefixes are not checked */
	struct ns_bind *binds; /* prefixes in scope, innermost last */
	size_t n_binds, cap_binds;
	struct tr_buf name;  /* the tag name being read */
	struct tr_buf names; /* open elements' names, NUL-separated */
	size_t *open;        /* offsets into names */
	size_t depth, cap, max_depth;
	struct tr_buf decl;     /* the DOCTYPE text, to find ENTITY names */
	struct tr_buf declared; /* entity names it declares, NUL-separated */
	unsigned char plain[N_STATES][256]; /* 1: byte needs no attention */
	tr_clean_warn_fn warn;
	void *warn_arg;
};

static int
is_name_start(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       c == ':' || c >= 0x80;
}

static int
is_name_char(unsigned char c)
{
	return is_name_start(c) || (c >= '0' && c <= '9') || c == '-' ||
	       c == '.';
}

static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Skips XML whitespace from s (below end); returns how much was skipped. */
static size_t
skip_space(const char **s, const char *end)
{
	const char *p = *s;

	while (*s < end && is_space((unsigned char)**s))
		(*s)++;
	return (size_t)(*s - p);
}

/*
 * Fills the per-state tables of bytes that are copied without a look:
 * P_PLAIN, P_NEWLINE (copied, counted) and P_UTF8 (a lead byte: copied
 * when its sequence is valid). Comments, CDATA and PIs watch only the
 * first byte of their terminator; the bytes after it are looked at one by
 * one (see tr_clean_feed).
 */
static void
init_tables(struct tr_clean *c)
{
	static const char *const special[N_STATES] = {
	    [S_TEXT] = "<&",     [S_STAG_NAME] = "", [S_TAG] = "\"'>/<&",
	    [S_ADQ] = "\"&<",    [S_ASQ] = "'&<",    [S_ETAG_NAME] = "",
	    [S_COMMENT] = "-",   [S_CDATA] = "]",    [S_PI] = "?",
	    [S_DECL] = "\"'[]>", [S_POST] = "<",     [S_DROP] = "",
	};
	int s, b;

	memset(c->plain, 0, sizeof(c->plain));
	for (s = 0; s < N_STATES; s++) {
		if (special[s] == NULL)
			continue;
		for (b = 0x20; b < 0x80; b++)
			c->plain[s][b] = strchr(special[s], b) == NULL;
		c->plain[s]['\t'] = c->plain[s]['\r'] = P_PLAIN;
		c->plain[s]['\n'] = P_NEWLINE;
		for (b = 0xc2; b <= 0xf4; b++)
			c->plain[s][b] = P_UTF8;
	}
	/* A reference XML knows is copied as it is (see xml_ref_len). */
	c->plain[S_TEXT]['&'] = c->plain[S_ADQ]['&'] = P_AMP;
	c->plain[S_ASQ]['&'] = P_AMP;
	/* Names: only name characters; anything else ends the name. */
	for (b = 0; b < 0x80; b++) {
		c->plain[S_STAG_NAME][b] =
		    (unsigned char)is_name_char((unsigned char)b);
		c->plain[S_ETAG_NAME][b] = c->plain[S_STAG_NAME][b];
	}
	/* After the root, whitespace only; a drop state drops all. */
	memset(c->plain[S_POST], 0, sizeof(c->plain[S_POST]));
	c->plain[S_POST][' '] = P_PLAIN;
	c->plain[S_POST]['\n'] = P_NEWLINE;
	for (b = 0; b < 0x20; b++)
		c->plain[S_DROP][b] = 0;
	c->plain[S_DROP]['\n'] = P_NEWLINE;
}

int
tr_clean_new(struct tr_clean **out, size_t max_depth, tr_clean_warn_fn warn,
             void *arg)
{
	struct tr_clean *c;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return TR_ENOMEM;
	c->st = S_PRE;
	c->line = 1;
	c->max_depth = max_depth ? max_depth : 1000;
	c->warn = warn;
	c->warn_arg = arg;
	tr_buf_init(&c->name, NAME_MAX_LEN);
	tr_buf_init(&c->names, (size_t)64 << 20);
	tr_buf_init(&c->decl, DECL_MAX);
	tr_buf_init(&c->declared, DECL_MAX);
	init_tables(c);
	*out = c;
	return 0;
}

void
tr_clean_reset(struct tr_clean *c)
{
	c->st = S_PRE;
	c->ent_ret = S_PRE;
	c->line = 1;
	c->off = c->line_start = 0;
	c->match = c->slash = c->seen_root = c->any_markup = 0;
	c->pre_junk = c->pre_space = c->post = 0;
	c->decl_quote = c->decl_depth = 0;
	c->repair_off = c->name_flushed = c->ext_dtd = 0;
	c->lines_dropped = 0;
	c->n_ent = c->n_bang = c->n_u8 = c->n_etag_ws = 0;
	c->n_xdecl = c->n_atext = 0;
	c->atext_over = 0;
	c->n_binds = 0;
	c->depth = 0;
	tr_buf_reset(&c->name);
	tr_buf_reset(&c->names);
	tr_buf_reset(&c->decl);
	tr_buf_reset(&c->declared);
}

void
tr_clean_set_position(struct tr_clean *c, unsigned long line, uint64_t off,
                      uint64_t line_start)
{
	c->line = line;
	c->off = off;
	c->line_start = line_start;
}

unsigned long
tr_clean_lines_dropped(const struct tr_clean *c)
{
	return c->lines_dropped;
}

void
tr_clean_free(struct tr_clean *c)
{
	if (c == NULL)
		return;
	tr_buf_free(&c->name);
	tr_buf_free(&c->names);
	tr_buf_free(&c->decl);
	tr_buf_free(&c->declared);
	free(c->open);
	free(c->binds);
	free(c);
}

void
tr_clean_position(const struct tr_clean *c, unsigned long *line,
                  unsigned long *col)
{
	*line = c->line;
	*col = (unsigned long)(c->off - c->line_start) + 1;
}

static void
warn(struct tr_clean *c, const char *kind, const char *msg)
{
	unsigned long line, col;

	if (c->warn == NULL)
		return;
	tr_clean_position(c, &line, &col);
	c->warn(c->warn_arg, line, col, kind, msg);
}

/* Reports "<before><name><after>". */
static void
warn_name(struct tr_clean *c, const char *kind, const char *before,
          const char *name, const char *after)
{
	char msg[200];
	size_t n = strlen(name);

	if (n > 120) /* cut, but not inside a UTF-8 sequence */
		for (n = 120; n > 0 && ((unsigned char)name[n] & 0xc0) == 0x80;)
			n--;
	snprintf(msg, sizeof(msg), "%s%.*s%s", before, (int)n, name, after);
	warn(c, kind, msg);
}

/* Where text goes after a comment, PI or DOCTYPE. */
static enum state
outside(const struct tr_clean *c)
{
	if (!c->seen_root)
		return S_PRE;
	if (c->depth == 0 && !c->repair_off)
		return S_POST;
	return S_TEXT;
}

/*
 * Appends n bytes. The common case, room already allocated, is done here
 * inline with tr_buf_add's rules (within max, NUL-terminated); the rest
 * (growing, the cap) is left to tr_buf_add. Most calls append a few
 * bytes, and a call into buf.c for each was a tenth of the cleaner's time.
 */
static inline int
emit(struct tr_buf *out, const void *p, size_t n)
{
	if (n <= out->max - out->len && out->len + n < out->cap) {
		memcpy(out->data + out->len, p, n);
		out->len += n;
		out->data[out->len] = '\0';
		return 0;
	}
	return tr_buf_add(out, p, n);
}

static inline int
emitc(struct tr_buf *out, unsigned char b)
{
	if (out->len < out->max && out->len + 1 < out->cap) {
		out->data[out->len++] = (char)b;
		out->data[out->len] = '\0';
		return 0;
	}
	return tr_buf_addc(out, (char)b);
}

static inline int
emits(struct tr_buf *out, const char *s)
{
	return emit(out, s, strlen(s));
}

/* Appends "&#N;" for code point cp. */
static int
emit_ref(struct tr_buf *out, unsigned long cp)
{
	char ref[16];
	int n = snprintf(ref, sizeof(ref), "&#%lu;", cp);

	return tr_buf_add(out, ref, (size_t)n);
}

static int
is_xml_char(unsigned long cp)
{
	return cp == 0x9 || cp == 0xa || cp == 0xd ||
	       (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) ||
	       (cp >= 0x10000 && cp <= 0x10ffff);
}

/* --- the element stack ------------------------------------------------ */

static const char *
open_name(const struct tr_clean *c, size_t i)
{
	return c->names.data + c->open[i];
}

static int
push(struct tr_clean *c)
{
	size_t *o;
	int rc;

	if (c->repair_off)
		return 0;
	if (c->depth >= c->max_depth) {
		c->repair_off = 1;
		return 0;
	}
	if (c->depth == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 32;

		if ((o = realloc(c->open, cap * sizeof(*o))) == NULL)
			return TR_ENOMEM;
		c->open = o;
		c->cap = cap;
	}
	c->open[c->depth] = c->names.len;
	if ((rc = emit(&c->names, tr_buf_str(&c->name),
	                     c->name.len + 1)) != 0)
		return rc;
	c->depth++;
	c->seen_root = 1;
	return 0;
}

static void
pop(struct tr_clean *c)
{
	if (c->repair_off || c->depth == 0)
		return;
	c->depth--;
	tr_buf_truncate(&c->names, c->open[c->depth]);
	while (c->n_binds > 0 && c->binds[c->n_binds - 1].depth > c->depth)
		c->n_binds--;
}

static int
emit_end_tag(struct tr_buf *out, const char *name)
{
	size_t n = strlen(name);
	char *d;
	int rc;

	if (n + 3 <= out->max - out->len && out->len + n + 3 < out->cap) {
		d = out->data + out->len;
		d[0] = '<';
		d[1] = '/';
		memcpy(d + 2, name, n);
		d[n + 2] = '>';
		d[n + 3] = '\0';
		out->len += n + 3;
		return 0;
	}
	if ((rc = emits(out, "</")) == 0 && (rc = emit(out, name, n)) == 0)
		rc = emits(out, ">");
	return rc;
}

/*
 * The end tag just read, "</name\n>" with the whitespace it had before
 * its '>' written back, so that a well-formed end tag comes out unchanged
 * and expat's line numbers stay the input's.
 */
static int
emit_read_end_tag(struct tr_clean *c, struct tr_buf *out, const char *name)
{
	int rc;

	if (c->n_etag_ws == 0)
		return emit_end_tag(out, name);
	if ((rc = emits(out, "</")) == 0 && (rc = emits(out, name)) == 0 &&
	    (rc = emit(out, c->etag_ws, c->n_etag_ws)) == 0)
		rc = emits(out, ">");
	return rc;
}

/*
 * A complete end tag: copied when it closes the innermost element; when
 * it closes an outer one, the elements in between are closed first; when
 * it matches nothing open, it is dropped.
 */
static int
end_tag(struct tr_clean *c, struct tr_buf *out)
{
	const char *name = tr_buf_str(&c->name);
	size_t i;
	int rc;

	if (c->repair_off)
		return emit_read_end_tag(c, out, name);
	for (i = c->depth; i > 0; i--)
		if (strcmp(open_name(c, i - 1), name) == 0)
			break;
	if (i == 0) {
		warn_name(c, "tag", "close tag </", name,
		          "> matches no open element, dropped");
		return 0;
	}
	while (c->depth > i) {
		warn_name(c, "tag", "missing close tag </",
		          open_name(c, c->depth - 1), "> added");
		if ((rc = emit_end_tag(out, open_name(c, c->depth - 1))) != 0)
			return rc;
		pop(c);
	}
	if ((rc = emit_read_end_tag(c, out, name)) != 0)
		return rc;
	pop(c);
	return 0;
}

/* --- namespace prefixes -------------------------------------------------- */

/*
 * Prefixes feeds use without declaring them, and the namespaces they
 * always stand for (sorted by prefix). An undeclared prefix is an error
 * under Namespaces in XML §5 that expat rightly reports; the cleaner
 * declares it on the element that uses it instead. tr_clean_bound relies
 * on each URI being at most 9 * strlen(prefix) + 29 bytes long (checked
 * by the unit tests through tr_clean_known_prefix).
 */
static const struct known_prefix {
	const char *prefix, *uri;
} known_prefixes[] = {
    {"admin", "http://webns.net/mvcb/"},
    {"atom", "http://www.w3.org/2005/Atom"},
    {"cc", "http://web.resource.org/cc/"},
    {"content", "http://purl.org/rss/1.0/modules/content/"},
    {"creativeCommons",
     "http://backend.userland.com/creativeCommonsRssModule"},
    {"dc", "http://purl.org/dc/elements/1.1/"},
    {"dcterms", "http://purl.org/dc/terms/"},
    {"feedburner", "http://rssnamespace.org/feedburner/ext/1.0"},
    {"gd", "http://schemas.google.com/g/2005"},
    {"geo", "http://www.w3.org/2003/01/geo/wgs84_pos#"},
    {"georss", "http://www.georss.org/georss"},
    {"googleplay", "http://www.google.com/schemas/play-podcasts/1.0"},
    {"itunes", "http://www.itunes.com/dtds/podcast-1.0.dtd"},
    {"media", "http://search.yahoo.com/mrss/"},
    {"opensearch", "http://a9.com/-/spec/opensearch/1.1/"},
    {"podcast", "https://podcastindex.org/namespace/1.0"},
    {"psc", "http://podlove.org/simple-chapters"},
    {"rdf", "http://www.w3.org/1999/02/22-rdf-syntax-ns#"},
    {"slash", "http://purl.org/rss/1.0/modules/slash/"},
    {"sy", "http://purl.org/rss/1.0/modules/syndication/"},
    {"taxo", "http://purl.org/rss/1.0/modules/taxonomy/"},
    {"thr", "http://purl.org/syndication/thread/1.0"},
    {"trackback", "http://madskills.com/public/xml/rss/module/trackback/"},
    {"wfw", "http://wellformedweb.org/CommentAPI/"},
    {"xhtml", "http://www.w3.org/1999/xhtml"},
    {"xlink", "http://www.w3.org/1999/xlink"},
    {"yt", "http://www.youtube.com/xml/schemas/2015"},
};

/* Prefixes nobody declares; a repair binds each to one of these. */
#define UNKNOWN_NS "urn:x-undeclared-prefix:"

static int
cmp_prefix(const void *k, const void *e)
{
	return strcmp(k, ((const struct known_prefix *)e)->prefix);
}

const char *
tr_clean_known_prefix(const char *prefix, size_t i)
{
	const struct known_prefix *e;

	if (prefix == NULL)
		return i < sizeof(known_prefixes) / sizeof(known_prefixes[0])
		           ? known_prefixes[i].prefix
		           : NULL;
	e = bsearch(prefix, known_prefixes,
	            sizeof(known_prefixes) / sizeof(known_prefixes[0]),
	            sizeof(known_prefixes[0]), cmp_prefix);
	return e ? e->uri : NULL;
}

/* Binds prefix (n bytes) on the element at depth d. */
static int
bind_prefix(struct tr_clean *c, const char *prefix, size_t n, size_t d)
{
	struct ns_bind *b;

	if (n == 0 || n >= PREFIX_MAX)
		return 0;
	if (c->n_binds == c->cap_binds) {
		size_t cap = c->cap_binds ? c->cap_binds * 2 : 16;

		if ((b = realloc(c->binds, cap * sizeof(*b))) == NULL)
			return TR_ENOMEM;
		c->binds = b;
		c->cap_binds = cap;
	}
	b = &c->binds[c->n_binds++];
	memcpy(b->prefix, prefix, n);
	b->prefix[n] = '\0';
	b->depth = d;
	return 0;
}

/*
 * The prefix of a name (n bytes) is in scope, or it cannot be helped
 * (xml and xmlns are bound by definition; names with two colons or an
 * over-long prefix are left to expat), else declares it on the start tag
 * being written, before its '>': the namespace feeds mean by it, or one
 * of its own for a prefix nobody knows (then an unknown element, as it
 * would be had it been declared).
 */
static int
need_prefix(struct tr_clean *c, struct tr_buf *out, const char *name,
            size_t n)
{
	const char *colon = memchr(name, ':', n), *uri;
	char prefix[PREFIX_MAX], msg[160];
	size_t len, i;
	int rc;

	if (colon == NULL || colon == name || colon + 1 == name + n ||
	    memchr(colon + 1, ':', (size_t)(name + n - colon - 1)) != NULL)
		return 0;
	len = (size_t)(colon - name);
	if (len >= PREFIX_MAX)
		return 0;
	memcpy(prefix, name, len);
	prefix[len] = '\0';
	if (strcmp(prefix, "xml") == 0 || strcmp(prefix, "xmlns") == 0)
		return 0;
	for (i = c->n_binds; i > 0; i--)
		if (strcmp(c->binds[i - 1].prefix, prefix) == 0)
			return 0;
	uri = tr_clean_known_prefix(prefix, 0);
	if ((rc = emits(out, " xmlns:")) != 0 ||
	    (rc = emits(out, prefix)) != 0 || (rc = emits(out, "=\"")) != 0 ||
	    (rc = emits(out, uri ? uri : UNKNOWN_NS)) != 0 ||
	    (!uri && (rc = emits(out, prefix)) != 0) ||
	    (rc = emits(out, "\"")) != 0)
		return rc;
	snprintf(msg, sizeof(msg),
	         uri ? "undeclared namespace prefix %s: bound to %s"
	             : "undeclared namespace prefix %s: its elements "
	               "read as unknown%s",
	         prefix, uri ? uri : "");
	warn(c, "ns", msg);
	return bind_prefix(c, prefix, len, c->depth);
}

/*
 * Calls fn for each attribute name in the start tag text kept (its text
 * outside attribute values: names, '=' and spaces).
 */
static int
each_attr(struct tr_clean *c, struct tr_buf *out,
          int (*fn)(struct tr_clean *, struct tr_buf *, const char *, size_t))
{
	const char *s = c->atext, *end = s + c->n_atext, *name;
	int rc;

	while (s < end) {
		if (!is_name_char((unsigned char)*s)) {
			s++;
			continue;
		}
		for (name = s; s < end && is_name_char((unsigned char)*s); s++)
			;
		if (memchr(name, ':', (size_t)(s - name)) == NULL)
			continue;
		skip_space(&s, end);
		if (s < end && *s == '=' &&
		    (rc = fn(c, out, name, (size_t)(s - name))) != 0)
			return rc;
	}
	return 0;
}

static int
attr_decl(struct tr_clean *c, struct tr_buf *out, const char *name, size_t n)
{
	(void)out;
	if (n > 6 && memcmp(name, "xmlns:", 6) == 0)
		return bind_prefix(c, name + 6, n - 6, c->depth);
	return 0;
}

static int
attr_prefix(struct tr_clean *c, struct tr_buf *out, const char *name,
            size_t n)
{
	if (n > 6 && memcmp(name, "xmlns:", 6) == 0)
		return 0;
	return need_prefix(c, out, name, n);
}

/*
 * A start tag is about to end: the prefixes it declares are recorded,
 * and those its name and attributes use undeclared are declared.
 */
static int
check_prefixes(struct tr_clean *c, struct tr_buf *out)
{
	const char *name;
	int rc;

	if (c->repair_off || c->name_flushed || c->depth == 0 ||
	    c->atext_over)
		return 0;
	name = open_name(c, c->depth - 1);
	if (c->n_atext > 0 && memchr(c->atext, ':', c->n_atext) != NULL &&
	    (rc = each_attr(c, out, attr_decl)) != 0)
		return rc;
	if (strchr(name, ':') != NULL &&
	    (rc = need_prefix(c, out, name, strlen(name))) != 0)
		return rc;
	if (c->n_atext > 0 && memchr(c->atext, ':', c->n_atext) != NULL)
		return each_attr(c, out, attr_prefix);
	return 0;
}

/* Keeps start tag text outside values, for check_prefixes. */
static inline void
atext_add(struct tr_clean *c, const unsigned char *s, size_t n)
{
	if (c->n_atext + n > sizeof(c->atext)) {
		c->atext_over = 1;
		return;
	}
	memcpy(c->atext + c->n_atext, s, n);
	c->n_atext += n;
}

/* --- the DOCTYPE -------------------------------------------------------- */

/* Records the general entities the internal subset declares. */
static int
scan_decl(struct tr_clean *c)
{
	const char *p = tr_buf_str(&c->decl), *e;
	size_t ext;
	int rc;

	/*
	 * With an external DTD (RSS 0.91's Netscape DTD declares the HTML
	 * entities) undeclared references are not well-formedness errors
	 * (XML 1.0 §4.1, WFC: Entity Declared); expat skips them, the
	 * rewrite below keeps them, and neither is a repair.
	 */
	ext = strcspn(p, "[");
	for (e = p; e + 6 <= p + ext; e++)
		if (memcmp(e, "PUBLIC", 6) == 0 || memcmp(e, "SYSTEM", 6) == 0)
			c->ext_dtd = 1;

	while ((p = strstr(p, "<!ENTITY")) != NULL) {
		p += 8;
		while (is_space((unsigned char)*p))
			p++;
		if (*p == '%')
			continue; /* a parameter entity */
		for (e = p; is_name_char((unsigned char)*e); e++)
			;
		if (e == p)
			continue;
		if ((rc = tr_buf_add(&c->declared, p, (size_t)(e - p))) != 0 ||
		    (rc = tr_buf_addc(&c->declared, '\0')) != 0)
			return rc == TR_ETOOBIG ? 0 : rc;
	}
	tr_buf_free(&c->decl);
	return 0;
}

static int
is_declared(const struct tr_clean *c, const char *name)
{
	const char *p = c->declared.data, *end;

	if (p == NULL)
		return 0;
	for (end = p + c->declared.len; p < end; p += strlen(p) + 1)
		if (strcmp(p, name) == 0)
			return 1;
	return 0;
}

/* --- entities ----------------------------------------------------------- */

/* A '&' that starts no reference: escape it, then the name bytes. */
static int
bare_amp(struct tr_clean *c, struct tr_buf *out)
{
	int rc;

	warn(c, "amp", "bare & escaped");
	if ((rc = emits(out, "&amp;")) == 0)
		rc = emit(out, c->ent, c->n_ent);
	c->st = c->ent_ret;
	return rc;
}

/* Parses "#123" / "#x1F" into *cp; 0 when malformed. */
static int
numeric_ref(const char *s, unsigned long *cp)
{
	unsigned long v = 0;
	int hex = s[1] == 'x' || s[1] == 'X', d;
	const char *p = s + 1 + hex;

	if (*p == '\0')
		return 0;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (hex && ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f'))
			d = (*p | 0x20) - 'a' + 10;
		else
			return 0;
		v = v * (hex ? 16 : 10) + (unsigned long)d;
		if (v > 0x10ffff)
			v = 0x110000; /* stays invalid, never overflows */
	}
	*cp = v;
	return 1;
}

/* The ';' after a reference name: decide what to write for it. */
static int
end_entity(struct tr_clean *c, struct tr_buf *out)
{
	static const char *const xml[] = {"amp", "apos", "gt", "lt", "quot"};
	unsigned int cp[2];
	unsigned long n;
	size_t i;
	int rc;

	c->ent[c->n_ent] = '\0';
	c->st = c->ent_ret;
	if (c->ent[0] == '#') {
		if (!numeric_ref(c->ent, &n)) {
			if ((rc = bare_amp(c, out)) == 0)
				rc = emits(out, ";");
			return rc;
		}
		/* HTML reads &#128;-&#159; as windows-1252 (HTML §13.2.5.80).
		 */
		if (n >= 0x80 && n < 0xa0)
			return emit_ref(out, tr_cp1252((unsigned char)n));
		/* As HTML reads a reference to no character (§13.2.5.80:
		 * zero, a surrogate, past U+10FFFF), and to a control XML
		 * cannot carry: the replacement character shows that one
		 * was there. */
		if (!is_xml_char(n)) {
			warn(c, "ref",
			     "reference to a character XML forbids "
			     "replaced by U+FFFD");
			return emit_ref(out, 0xfffd);
		}
		/* XML writes hexadecimal references "&#x" only (XML 1.0
		 * §4.1); HTML also accepts "&#X". */
		if (c->ent[1] == 'X') {
			warn(c, "ref",
			     "character reference &#X... read as &#x...");
			return emit_ref(out, n);
		}
		goto verbatim; /* as the fast path in xml_ref_len does */
	}
	for (i = 0; i < sizeof(xml) / sizeof(xml[0]); i++)
		if (strcmp(c->ent, xml[i]) == 0)
			goto verbatim;
	if (is_declared(c, c->ent))
		goto verbatim;
	if (tr_html_entity(c->ent, cp)) {
		if (!c->ext_dtd)
			warn_name(c, "entity", "undefined entity &", c->ent,
			          "; read as HTML");
		if ((rc = emit_ref(out, cp[0])) == 0 && cp[1])
			rc = emit_ref(out, cp[1]);
		return rc;
	}
	warn_name(c, "entity", "undefined entity &", c->ent, "; escaped");
	if ((rc = emits(out, "&amp;")) == 0 && (rc = emits(out, c->ent)) == 0)
		rc = emits(out, ";");
	return rc;
verbatim:
	if ((rc = emits(out, "&")) == 0 && (rc = emits(out, c->ent)) == 0)
		rc = emits(out, ";");
	return rc;
}

/* One ASCII byte inside a reference. Returns 1 when b must be re-read. */
static int
entity_byte(struct tr_clean *c, struct tr_buf *out, unsigned char b, int *rc)
{
	int ok;

	if (b == ';' && c->n_ent > 0) {
		*rc = end_entity(c, out);
		return 0;
	}
	if (c->n_ent == 0)
		ok = b == '#' || is_name_start(b);
	else if (c->ent[0] == '#')
		ok = (b >= '0' && b <= '9') ||
		     (c->n_ent == 1 && (b == 'x' || b == 'X')) ||
		     (c->n_ent > 1 && (c->ent[1] | 0x20) == 'x' &&
		      (((b | 0x20) >= 'a' && (b | 0x20) <= 'f')));
	else
		ok = is_name_char(b);
	if (ok && b < 0x80 && c->n_ent < ENT_MAX) {
		c->ent[c->n_ent++] = (char)b;
		return 0;
	}
	*rc = bare_amp(c, out);
	return 1;
}

/*
 * The length of the reference at s when it needs no repair: one of the
 * five XML entities, or a character reference to a character XML allows
 * (and not one HTML reads as windows-1252). 0 otherwise, also when the
 * reference is cut by the end of the chunk: the slow path handles those.
 */
static inline size_t
xml_ref_len(const unsigned char *s, size_t n)
{
	unsigned long v = 0;
	size_t i;

	if (n >= 4 && s[3] == ';' &&
	    ((s[1] == 'l' && s[2] == 't') || (s[1] == 'g' && s[2] == 't')))
		return 4;
	if (n >= 5 && memcmp(s, "&amp;", 5) == 0)
		return 5;
	if (n >= 6 &&
	    (memcmp(s, "&quot;", 6) == 0 || memcmp(s, "&apos;", 6) == 0))
		return 6;
	if (n < 4 || s[1] != '#')
		return 0;
	if (s[2] == 'x') {
		for (i = 3; i < n && i < 12; i++) {
			unsigned char h = s[i] | 0x20;

			if (s[i] >= '0' && s[i] <= '9')
				v = v * 16 + (s[i] - '0');
			else if (h >= 'a' && h <= 'f')
				v = v * 16 + (h - 'a' + 10);
			else
				break;
		}
		if (i == 3)
			return 0;
	} else {
		for (i = 2; i < n && i < 11 && s[i] >= '0' && s[i] <= '9'; i++)
			v = v * 10 + (s[i] - '0');
		if (i == 2)
			return 0;
	}
	if (i >= n || s[i] != ';' || !is_xml_char(v) || (v >= 0x80 && v < 0xa0))
		return 0;
	return i + 1;
}

/*
 * Skips 8 bytes at a time while none of them needs a look: no control,
 * newline or non-ASCII byte and none of the state's three special
 * characters (SWAR tests from "Bit Twiddling Hacks": a word has a byte
 * below n, a word has a zero byte). Returns the new position. The
 * characters must be all of the state's specials in its run table: a
 * word is skipped whole when none of them is in it (S_ADQ's '<' was left
 * out once, so a '<' in an attribute value was escaped or not depending
 * on where the chunk's 8-byte words fell).
 */
#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static inline int utf8_len(const unsigned char *s, size_t n);

static inline size_t
skip_words(const unsigned char *in, size_t j, size_t n, unsigned char a,
           unsigned char b, unsigned char d)
{
	uint64_t w, xa, xb, xd;

#if defined(__SSE2__)
	/* 16 bytes at a time where SSE2 is there (every x86-64): a signed
	 * compare with 0x20 catches both controls and non-ASCII bytes, and
	 * the mask gives the first byte needing a look. */
	const __m128i va = _mm_set1_epi8((char)a), vb = _mm_set1_epi8((char)b);
	const __m128i vd = _mm_set1_epi8((char)d);
	const __m128i sp = _mm_set1_epi8(0x20);

	while (j + 16 <= n) {
		__m128i v = _mm_loadu_si128((const __m128i *)(const void *)(in + j));
		__m128i m = _mm_or_si128(
		    _mm_or_si128(_mm_cmpeq_epi8(v, va), _mm_cmpeq_epi8(v, vb)),
		    _mm_or_si128(_mm_cmpeq_epi8(v, vd), _mm_cmplt_epi8(v, sp)));
		unsigned int bits = (unsigned int)_mm_movemask_epi8(m);

		if (bits != 0)
			return j + (size_t)__builtin_ctz(bits);
		j += 16;
	}
#endif
	while (j + 8 <= n) {
		memcpy(&w, in + j, 8);
		xa = w ^ (ONES * a);
		xb = w ^ (ONES * b);
		xd = w ^ (ONES * d);
		if (((w - ONES * 0x20) | w | ((xa - ONES) & ~xa) |
		     ((xb - ONES) & ~xb) | ((xd - ONES) & ~xd)) &
		    HIGHS)
			break;
		j += 8;
	}
	return j;
}

/*
 * The run of text (S_TEXT) that needs no step from in[j] on: the S_TEXT
 * row of the run table (plain bytes, newlines, valid UTF-8, references
 * XML knows) in one loop around skip_words, without going back to the
 * caller's table loop at each stop. i is where the run began (for the
 * line's start offset). Returns the first byte that needs a step, or n.
 */
static size_t
scan_text(struct tr_clean *c, const unsigned char *in, size_t i, size_t j,
          size_t n)
{
	size_t rl;
	int len;

	for (;;) {
		j = skip_words(in, j, n, '<', '&', '&');
		if (j >= n)
			return j;
		switch (in[j]) {
		case '&':
			if ((rl = xml_ref_len(in + j, n - j)) == 0)
				return j;
			j += rl;
			break;
		case '\n':
			j++;
			c->line++;
			c->line_start = c->off + (j - i);
			break;
		case '\t':
		case '\r':
			j++;
			break;
		default:
			if (in[j] < 0x80 || (len = utf8_len(in + j, n - j)) <= 0)
				return j;
			j += (size_t)len;
			break;
		}
	}
}

/* --- one character at a time -------------------------------------------- */

static int step(struct tr_clean *c, struct tr_buf *out, const unsigned char *s,
                size_t len);

/* "<!" followed by the bytes in c->bang: what can it still become? */
static int
bang_byte(struct tr_clean *c, struct tr_buf *out, const unsigned char *s,
          size_t len)
{
	static const char *const starts[] = {"--", "[CDATA[", "DOCTYPE"};
	static const enum state next[] = {S_COMMENT, S_CDATA, S_DECL};
	size_t i;
	int rc, prefix = 0;

	if (len == 1 && c->n_bang < sizeof(c->bang) - 1) {
		c->bang[c->n_bang++] = (char)s[0];
		for (i = 0; i < 3; i++) {
			if (strncmp(starts[i], c->bang, c->n_bang) != 0)
				continue;
			prefix = 1;
			if (strlen(starts[i]) != c->n_bang)
				continue;
			c->st = next[i];
			c->match = c->decl_quote = c->decl_depth = 0;
			if (c->st == S_DECL)
				tr_buf_reset(&c->decl);
			if ((rc = emits(out, "<!")) != 0)
				return rc;
			return emit(out, c->bang, c->n_bang);
		}
		if (prefix)
			return 0;
		c->n_bang--;
	}
	if (c->post) {
		warn(c, "junk", "content after the root element dropped");
		c->st = S_DROP;
		return 0;
	}
	warn(c, "lt", "bare < escaped");
	if ((rc = emits(out, "&lt;!")) != 0 ||
	    (rc = emit(out, c->bang, c->n_bang)) != 0)
		return rc;
	c->st = c->post ? S_DROP : S_TEXT;
	return step(c, out, s, len);
}

/*
 * Appends a run to the tag name being held back. A start tag name too
 * long to hold stops tag repair and is written out as it comes.
 */
static int
add_name(struct tr_clean *c, struct tr_buf *out, const unsigned char *s,
         size_t len)
{
	int rc;

	if (c->name_flushed)
		return emit(out, s, len);
	if (emit(&c->name, s, len) == 0)
		return 0;
	c->repair_off = 1;
	if (c->st != S_STAG_NAME)
		return 0;
	c->name_flushed = 1;
	if ((rc = emits(out, "<")) != 0 ||
	    (rc = emit(out, c->name.data, c->name.len)) != 0)
		return rc;
	return emit(out, s, len);
}

/* "item" or "entry", with or without a prefix: they never nest. */
static int
is_item_name(const char *name, size_t len)
{
	const char *colon, *local;

	/* Most names end otherwise: spare them the search. */
	if (len < 4 || (name[len - 1] != 'm' && name[len - 1] != 'y'))
		return 0;
	colon = strrchr(name, ':');
	local = colon ? colon + 1 : name;
	return strcmp(local, "item") == 0 || strcmp(local, "entry") == 0;
}

/*
 * A start tag's name is complete: a new <item> while an <item> is still
 * open closes the open one first (feeds never nest items, and a missing
 * </item> is a common breakage); then the tag is written and pushed.
 */
static int
start_tag(struct tr_clean *c, struct tr_buf *out)
{
	const char *name = tr_buf_str(&c->name);
	size_t i;
	int rc;

	c->n_atext = 0;
	c->atext_over = 0;
	if (c->name_flushed)
		return 0;
	if (!c->repair_off && is_item_name(name, c->name.len)) {
		for (i = c->depth; i > 0; i--)
			if (strcmp(open_name(c, i - 1), name) == 0)
				break;
		while (i > 0 && c->depth >= i) {
			warn_name(c, "tag", "missing close tag </",
			          open_name(c, c->depth - 1), "> added");
			if ((rc = emit_end_tag(
			         out, open_name(c, c->depth - 1))) != 0)
				return rc;
			pop(c);
		}
	}
	if ((rc = emits(out, "<")) != 0 ||
	    (rc = emit(out, c->name.data, c->name.len)) != 0)
		return rc;
	return push(c);
}

/* After '<': what kind of markup starts here. */
static int
lt_byte(struct tr_clean *c, struct tr_buf *out, const unsigned char *s,
        size_t len)
{
	int first = !c->any_markup;

	c->any_markup = 1;
	if (s[0] == '!') {
		c->st = S_BANG;
		c->n_bang = 0;
		return 0;
	}
	if (s[0] == '?') {
		if (first && c->pre_space && !c->pre_junk)
			warn(c, "junk",
			     "whitespace before the XML declaration "
			     "dropped");
		c->match = 0;
		if (first) {
			/* Held and checked: see xdecl_byte. */
			c->st = S_XDECL;
			c->n_xdecl = 0;
			return 0;
		}
		c->st = S_PI;
		return emits(out, "<?");
	}
	if (c->post) {
		warn(c, "junk", "content after the root element dropped");
		c->st = S_DROP;
		return 0;
	}
	if (s[0] == '/') {
		c->st = S_ETAG_NAME;
		c->n_etag_ws = 0;
		tr_buf_reset(&c->name);
		return 0;
	}
	if (is_name_start(s[0])) {
		c->st = S_STAG_NAME;
		c->slash = 0;
		c->name_flushed = 0;
		tr_buf_reset(&c->name);
		return add_name(c, out, s, len);
	}
	if (!c->seen_root) {
		c->pre_junk = 1;
		c->st = S_PRE;
		return 0;
	}
	warn(c, "lt", "bare < escaped");
	c->st = S_TEXT;
	if (emits(out, "&lt;") != 0)
		return TR_ENOMEM;
	return step(c, out, s, len);
}

static int
tag_byte(struct tr_clean *c, struct tr_buf *out, unsigned char b)
{
	int rc, slash = c->slash;

	c->slash = 0;
	if (b == '>') {
		/* Undeclared prefixes get declared before the tag ends. */
		if ((rc = check_prefixes(c, out)) != 0 ||
		    (slash && (rc = emitc(out, '/')) != 0))
			return rc;
		c->st = S_TEXT;
		if (slash)
			pop(c); /* an empty-element tag */
		if (c->depth == 0 && !c->repair_off)
			c->st = S_POST;
		return emitc(out, b);
	}
	/* A '/' is held until the next byte says whether the tag ends. */
	if (slash && (rc = emitc(out, '/')) != 0)
		return rc;
	switch (b) {
	case '"':
		c->st = S_ADQ;
		break;
	case '\'':
		c->st = S_ASQ;
		break;
	case '/':
		c->slash = 1;
		return 0;
	default:
		/* '<' or '&': a broken tag, let expat report it. */
		break;
	}
	return emitc(out, b);
}

/*
 * The plain tags that make up most of a feed, "<name>", "<name " and
 * "</name>" closing the innermost element, and "<![CDATA[", written whole
 * when the chunk holds them: the same output and state as the
 * byte-by-byte states (S_LT, S_BANG, S_STAG_NAME, S_ETAG_NAME,
 * S_ETAG_REST) reach, without a step per byte. Names of ASCII name characters only; anything else (a
 * repair, a cut tag, a non-ASCII name, repair turned off) returns 0
 * untouched and goes the slow way. s[0] is '<' read in S_TEXT. Returns
 * the bytes used (c->off is moved past them here, as the slow way moves it,
 * so that a warning from start_tag names the same column), *rc the result.
 */
static size_t
fast_tag(struct tr_clean *c, struct tr_buf *out, const unsigned char *s,
         size_t n, int *rc)
{
	const unsigned char *nm = s + 1;
	size_t k, len, top;
	int end = 0;

	*rc = 0;
	if (n >= 9 && s[1] == '!' && memcmp(s, "<![CDATA[", 9) == 0) {
		/* What S_LT and S_BANG do with the nine bytes one by one. */
		c->any_markup = 1;
		c->post = 0;
		memcpy(c->bang, "[CDATA[", 7);
		c->n_bang = 7;
		c->st = S_CDATA;
		c->match = c->decl_quote = c->decl_depth = 0;
		*rc = emit(out, s, 9);
		c->off += 9;
		return 9;
	}
	if (c->repair_off || n < 3)
		return 0;
	if (nm[0] == '/') {
		end = 1;
		nm++;
	}
	if (nm >= s + n || nm[0] >= 0x80 || !is_name_start(nm[0]))
		return 0;
	for (k = (size_t)(nm - s); k < n && s[k] < 0x80 &&
	                           c->plain[S_STAG_NAME][s[k]] == P_PLAIN;
	     k++)
		;
	len = k - (size_t)(nm - s);
	if (k >= n || len >= c->name.max)
		return 0;
	if (end) {
		if (s[k] != '>' || c->depth == 0)
			return 0;
		top = c->open[c->depth - 1];
		if (c->names.len - top - 1 != len ||
		    memcmp(c->names.data + top, nm, len) != 0)
			return 0;
		c->any_markup = 1;
		c->post = 0;
		*rc = emit(out, s, k + 1);
		pop(c);
		c->st = c->depth == 0 ? S_POST : S_TEXT;
		c->off += k + 1;
		return k + 1;
	}
	if (s[k] != '>' && !is_space(s[k]))
		return 0;
	c->any_markup = 1;
	c->post = 0;
	c->slash = 0;
	c->name_flushed = 0;
	c->off += k;
	tr_buf_reset(&c->name);
	if ((*rc = emit(&c->name, nm, len)) != 0 ||
	    (*rc = start_tag(c, out)) != 0)
		return k;
	c->st = S_TAG;
	if (s[k] != '>')
		return k;
	*rc = tag_byte(c, out, '>');
	c->off++;
	return k + 1;
}

/* A character ending a run of name bytes in S_STAG_NAME/S_ETAG_NAME. */
static int
name_end(struct tr_clean *c, struct tr_buf *out, const unsigned char *s,
         size_t len)
{
	int rc;

	if (c->st == S_STAG_NAME) {
		if ((rc = start_tag(c, out)) != 0)
			return rc;
		c->st = S_TAG;
		return step(c, out, s, len);
	}
	c->st = S_ETAG_REST;
	return step(c, out, s, len);
}

/* Terminators of comments, CDATA and PIs, one byte at a time. */
static int
section_byte(struct tr_clean *c, struct tr_buf *out, unsigned char b)
{
	int done = 0;

	switch (c->st) {
	case S_COMMENT:
		done = b == '>' && c->match >= 2;
		c->match = b == '-' ? c->match + 1 : 0;
		break;
	case S_CDATA:
		done = b == '>' && c->match >= 2;
		c->match = b == ']' ? c->match + 1 : 0;
		break;
	default: /* S_PI */
		done = b == '>' && c->match >= 1;
		c->match = b == '?';
		break;
	}
	if (done)
		c->st = outside(c);
	return emitc(out, b);
}

/* --- the XML declaration ------------------------------------------------ */

/*
 * Whether s (n bytes: the XML declaration between "<?" and "?>") is what
 * expat accepts (XML 1.0 §2.8): "xml", version (any [A-Za-z0-9._-]*),
 * then optionally encoding (an EncName, §4.3.3: [A-Za-z] ([A-Za-z0-9._] |
 * '-')*) and standalone ("yes" or "no"), in that order, quoted with ' or
 * ". What expat accepts the cleaner must too: the fast way gives expat
 * the document unchanged. Returns 1 when so, 2 when the only fault is
 * an encoding name that starts with a digit (a code page number, "437",
 * which the charset decoder reads), else 0.
 */
static int
xml_decl_ok(const char *s, size_t n)
{
	static const char *const names[] = {"version", "encoding",
	                                    "standalone"};
	const char *end = s + n, *v, *q;
	size_t i = 0, k, len;
	int ok = 1;

	if (n < 3 || memcmp(s, "xml", 3) != 0)
		return 0;
	s += 3;
	while (skip_space(&s, end) > 0 && s < end) {
		for (; i < 3; i++) {
			len = strlen(names[i]);
			if ((size_t)(end - s) > len &&
			    memcmp(s, names[i], len) == 0)
				break;
			if (i == 0)
				return 0; /* version comes first */
		}
		if (i == 3)
			return 0;
		s += strlen(names[i]);
		skip_space(&s, end);
		if (s >= end || *s++ != '=')
			return 0;
		skip_space(&s, end);
		if (s >= end || (*s != '"' && *s != '\''))
			return 0;
		if ((q = memchr(s + 1, *s, (size_t)(end - s - 1))) == NULL)
			return 0;
		v = s + 1, len = (size_t)(q - v);
		s = q + 1;
		/* Every value is [A-Za-z0-9._-]* as expat reads them (it
		 * allows any such version); an EncName starts with a letter. */
		for (k = 0; k < len; k++)
			if (!((v[k] | 0x20) >= 'a' && (v[k] | 0x20) <= 'z') &&
			    !(v[k] >= '0' && v[k] <= '9') &&
			    strchr("._-", v[k]) == NULL)
				return 0;
		if (i == 1 && (len == 0 || !((v[0] | 0x20) >= 'a' &&
		                             (v[0] | 0x20) <= 'z'))) {
			if (len == 0 || !(v[0] >= '0' && v[0] <= '9'))
				return 0;
			ok = 2;
		}
		if (i == 2 && !(len == 3 && memcmp(v, "yes", 3) == 0) &&
		    !(len == 2 && memcmp(v, "no", 2) == 0))
			return 0;
		i++;
	}
	return s == end && i > 0 ? ok : 0;
}

/*
 * The XML declaration is complete (c->xdecl ends with "?>"): written as
 * it is when well-formed, else as a plain <?xml version="1.0"?> with its
 * line breaks kept. The cleaner hands expat UTF-8 whatever it says (the
 * charset decoder read the label), so an encoding name XML does not
 * allow ("437", "utf 8") must not cost the document.
 */
static int
xdecl_done(struct tr_clean *c, struct tr_buf *out)
{
	size_t i;
	int rc, ok = 0;

	c->st = outside(c);
	if (c->n_xdecl < 5 || memcmp(c->xdecl, "xml", 3) != 0 ||
	    (!is_space((unsigned char)c->xdecl[3]) && c->xdecl[3] != '?') ||
	    (ok = xml_decl_ok(c->xdecl, c->n_xdecl - 2)) == 1) {
		/* well-formed, or another processing instruction */
		if ((rc = emits(out, "<?")) != 0)
			return rc;
		return emit(out, c->xdecl, c->n_xdecl);
	}
	if (ok == 2)
		warn(c, TR_CLEAN_NOTE,
		     "encoding name XML does not allow (it starts with a "
		     "digit); read as the code page it names");
	else
		warn(c, "decl", "XML declaration not well-formed; rewritten");
	if ((rc = emits(out, "<?xml version=\"1.0\"")) != 0)
		return rc;
	for (i = 0; i < c->n_xdecl && rc == 0; i++)
		if (c->xdecl[i] == '\n')
			rc = emitc(out, '\n');
	return rc ? rc : emits(out, "?>");
}

/* One character of the XML declaration (or a PI at the document start). */
static int
xdecl_byte(struct tr_clean *c, struct tr_buf *out, const unsigned char *s,
           size_t len)
{
	int rc;

	if (c->n_xdecl + len > sizeof(c->xdecl)) {
		/* Too long to be a declaration worth checking: expat says. */
		c->st = S_PI;
		c->match = 0;
		if ((rc = emits(out, "<?")) != 0 ||
		    (rc = emit(out, c->xdecl, c->n_xdecl)) != 0)
			return rc;
		return step(c, out, s, len);
	}
	memcpy(c->xdecl + c->n_xdecl, s, len);
	c->n_xdecl += len;
	if (len == 1 && s[0] == '>' && c->n_xdecl >= 2 &&
	    c->xdecl[c->n_xdecl - 2] == '?')
		return xdecl_done(c, out);
	return 0;
}

static int
decl_byte(struct tr_clean *c, struct tr_buf *out, unsigned char b)
{
	int rc;

	if (c->decl_quote) {
		if (b == c->decl_quote)
			c->decl_quote = 0;
	} else if (b == '"' || b == '\'')
		c->decl_quote = b;
	else if (b == '[')
		c->decl_depth++;
	else if (b == ']' && c->decl_depth > 0)
		c->decl_depth--;
	else if (b == '>' && c->decl_depth == 0) {
		if ((rc = scan_decl(c)) != 0)
			return rc;
		c->st = outside(c);
		return tr_buf_addc(out, '>');
	}
	tr_buf_addc(&c->decl, (char)b); /* capped: extra text is not kept */
	return emitc(out, b);
}

/*
 * Handles one character s (len bytes: an ASCII byte or a whole UTF-8
 * sequence) that the run tables did not let through.
 */
static int
step(struct tr_clean *c, struct tr_buf *out, const unsigned char *s, size_t len)
{
	unsigned char b = s[0];
	int rc = 0;

	if (b < 0x20 && b != '\t' && b != '\n' && b != '\r') {
		warn(c, "ctrl", "control character dropped");
		return 0;
	}
	switch (c->st) {
	case S_PRE:
		if (b == '<') {
			if (c->pre_junk)
				warn(c, "junk",
				     "junk before the root element "
				     "dropped");
			c->pre_junk = c->pre_space = 0;
			c->st = S_LT;
			c->post = 0;
		} else if (is_space(b)) {
			c->pre_space = 1;
			/* Whitespace is fine in the prolog, not before the XML
			 * declaration; lines dropped there are counted so
			 * expat's line numbers can be mapped back. */
			if (c->any_markup)
				return emit(out, s, len);
			if (b == '\n')
				c->lines_dropped++;
		} else
			c->pre_junk = 1;
		return 0;
	case S_POST:
		if (b == '<') {
			c->st = S_LT;
			c->post = 1;
		} else if (!is_space(b)) {
			warn(c, "junk",
			     "content after the root element "
			     "dropped");
			c->st = S_DROP;
		}
		return 0;
	case S_DROP:
		return 0;
	case S_TEXT:
		if (b == '<') {
			c->st = S_LT;
			c->post = 0;
			return 0;
		}
		if (b == '&') {
			c->st = S_ENTITY, c->ent_ret = S_TEXT, c->n_ent = 0;
			return 0;
		}
		return emit(out, s, len);
	case S_ADQ:
	case S_ASQ:
		if (b == (c->st == S_ADQ ? '"' : '\''))
			c->st = S_TAG;
		else if (b == '&') {
			c->ent_ret = c->st, c->st = S_ENTITY, c->n_ent = 0;
			return 0;
		} else if (b == '<') {
			warn(c, "lt", "< in an attribute value escaped");
			return emits(out, "&lt;");
		}
		return emit(out, s, len);
	case S_ENTITY:
		if (len > 1) {
			if ((rc = bare_amp(c, out)) != 0)
				return rc;
			return step(c, out, s, len);
		}
		if (entity_byte(c, out, b, &rc) && rc == 0)
			return step(c, out, s, len);
		return rc;
	case S_LT:
		return lt_byte(c, out, s, len);
	case S_BANG:
		return bang_byte(c, out, s, len);
	case S_STAG_NAME:
		if (len > 1)
			return add_name(c, out, s, len);
		return name_end(c, out, s, len);
	case S_ETAG_NAME:
		if (len > 1)
			return add_name(c, out, s, len);
		return name_end(c, out, s, len);
	case S_ETAG_REST:
		if (is_space(b) && c->n_etag_ws < sizeof(c->etag_ws))
			c->etag_ws[c->n_etag_ws++] = (char)b;
		if (b == '>') {
			rc = end_tag(c, out);
			c->st =
			    c->depth == 0 && !c->repair_off ? S_POST : S_TEXT;
		}
		return rc;
	case S_TAG:
		if (len > 1) {
			if (c->slash && (rc = emitc(out, '/')) != 0)
				return rc;
			c->slash = 0;
			atext_add(c, s, len);
			return emit(out, s, len);
		}
		return tag_byte(c, out, b);
	case S_COMMENT:
	case S_CDATA:
	case S_PI:
		if (len > 1) {
			c->match = 0;
			return emit(out, s, len);
		}
		return section_byte(c, out, b);
	case S_DECL:
		if (len > 1) {
			tr_buf_add(&c->decl, s, len);
			return emit(out, s, len);
		}
		return decl_byte(c, out, b);
	case S_XDECL:
		return xdecl_byte(c, out, s, len);
	default:
		return 0;
	}
}

/* --- UTF-8 -------------------------------------------------------------- */

/*
 * Checks the UTF-8 sequence at s (n bytes available). Returns its length,
 * 0 when the bytes are not valid UTF-8, or -1 when they are a valid start
 * cut short by the end of the input.
 */
static inline int
utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	int len, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0; /* no overlongs */
		else if (s[0] == 0xed)
			hi = 0x9f; /* no surrogates */
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;
		else if (s[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	for (i = 1; i < len; i++) {
		if ((size_t)i >= n)
			return -1;
		if (s[i] < lo || s[i] > hi)
			return 0;
		lo = 0x80, hi = 0xbf;
	}
	/* U+FFFE and U+FFFF are not XML characters. */
	if (len == 3 && s[0] == 0xef && s[1] == 0xbf && s[2] >= 0xbe)
		return 0;
	return len;
}

/* A byte that is not valid UTF-8: read it as windows-1252. */
static int
bad_byte(struct tr_clean *c, struct tr_buf *out, unsigned char b)
{
	unsigned int cp = tr_cp1252(b);
	unsigned char u[3];
	size_t n;

	warn(c, "utf8", "invalid UTF-8 read as windows-1252");
	if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | (cp >> 6));
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else {
		u[0] = (unsigned char)(0xe0 | (cp >> 12));
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	}
	return step(c, out, u, n);
}

/* Completes a sequence cut by the last chunk border. Returns bytes used. */
static size_t
finish_u8(struct tr_clean *c, struct tr_buf *out, const unsigned char *in,
          size_t n, int *rc)
{
	size_t used = 0, i;
	int len;

	*rc = 0;
	while (used < n && c->n_u8 < 4) {
		c->u8[c->n_u8++] = in[used++];
		len = utf8_len(c->u8, c->n_u8);
		if (len > 0) {
			*rc = step(c, out, c->u8, c->n_u8);
			c->off += c->n_u8;
			c->n_u8 = 0;
			break;
		}
		if (len == 0) {
			/* Not valid: the held bytes are each cp1252; the new
			 * byte is read again by the caller. */
			used--;
			c->n_u8--;
			for (i = 0; i < c->n_u8 && *rc == 0; i++) {
				*rc = bad_byte(c, out, c->u8[i]);
				c->off++;
			}
			c->n_u8 = 0;
			break;
		}
	}
	return used;
}

size_t
tr_clean_bound(const struct tr_clean *c, size_t n)
{
	/* 5 per byte, 3 more per byte for the "</" ">" of close tags of
	 * elements opened in these bytes (each needs at least "<a"), 4 more
	 * for namespace declarations added to start tags (a name "p:a" of
	 * L+2 bytes in a tag of at least L+4 gets at most L+10 plus the
	 * URI, at most 9 L + 29: see known_prefixes), the names already open
	 * with their "</" ">", and the held bytes (the XML declaration,
	 * a tag name, a '/'). */
	return 12 * n + c->names.len + 4 * c->depth + NAME_MAX_LEN +
	       XDECL_MAX + 4096;
}

int
tr_clean_pending(const struct tr_clean *c)
{
	switch (c->st) {
	case S_LT:
	case S_BANG:
	case S_ENTITY:
	case S_ETAG_NAME:
	case S_ETAG_REST:
	case S_XDECL:
		return 1;
	case S_STAG_NAME:
		return !c->name_flushed;
	case S_TAG:
		return c->slash;
	default:
		return c->n_u8 > 0;
	}
}

int
tr_clean_feed(struct tr_clean *c, struct tr_buf *out, const char *in_, size_t n)
{
	const unsigned char *in = (const unsigned char *)in_;
	size_t i = 0, j, rl;
	int rc = 0, len;

	if (c->n_u8 > 0) {
		i = finish_u8(c, out, in, n, &rc);
		if (rc != 0 || c->n_u8 > 0)
			return rc;
	}
	while (i < n) {
		const unsigned char *plain = c->plain[c->st];

		/* The run of bytes this state copies without a look. */
		j = i;
		if (c->match &&
		    (c->st == S_COMMENT || c->st == S_CDATA || c->st == S_PI))
			plain =
			    c->plain[S_PRE]; /* inside "-->": byte by byte */
		while (j < n) {
			unsigned char k = plain[in[j]];

			if (c->st == S_TEXT)
				j = scan_text(c, in, i, j, n);
			else if (k == P_PLAIN && c->st == S_CDATA)
				j = skip_words(in, j, n, ']', ']', ']');
			else if (k == P_PLAIN && c->st == S_ADQ)
				j = skip_words(in, j, n, '"', '&', '<');
			if (j >= n)
				break;
			k = plain[in[j]];
			if (k == P_PLAIN) {
				j++;
			} else if (k == P_NEWLINE) {
				j++;
				c->line++;
				c->line_start = c->off + (j - i);
			} else if (k == P_UTF8 &&
			           (len = utf8_len(in + j, n - j)) > 0) {
				j += (size_t)len;
			} else if (k == P_AMP &&
			           (rl = xml_ref_len(in + j, n - j)) > 0) {
				j += rl;
			} else
				break;
		}
		if (j > i) {
			switch (c->st) {
			case S_STAG_NAME:
			case S_ETAG_NAME:
				rc = add_name(c, out, in + i, j - i);
				break;
			case S_PRE:
			case S_POST:
			case S_DROP:
				break;
			case S_DECL:
				tr_buf_add(&c->decl, in + i, j - i);
				rc = emit(out, in + i, j - i);
				break;
			case S_TAG:
				if (c->slash && (rc = emitc(out, '/')) != 0)
					break;
				c->slash = 0;
				atext_add(c, in + i, j - i);
				rc = emit(out, in + i, j - i);
				break;
			default:
				c->match = 0;
				c->slash = 0;
				rc = emit(out, in + i, j - i);
				break;
			}
			c->off += j - i;
			i = j;
			if (rc != 0 || i >= n)
				break;
		}
		if (in[i] == '<' && c->st == S_TEXT &&
		    (rl = fast_tag(c, out, in + i, n - i, &rc)) > 0) {
			i += rl;
		} else if (in[i] < 0x80) {
			rc = step(c, out, in + i, 1);
			c->off++;
			if (in[i] == '\n') {
				c->line++;
				c->line_start = c->off;
			}
			i++;
		} else if ((len = utf8_len(in + i, n - i)) > 0) {
			rc = step(c, out, in + i, (size_t)len);
			c->off += (size_t)len;
			i += (size_t)len;
		} else if (len < 0) {
			/* Cut by the chunk border: keep it for the next one. */
			memcpy(c->u8, in + i, n - i);
			c->n_u8 = n - i; /* counted in off once complete */
			return 0;
		} else {
			rc = bad_byte(c, out, in[i]);
			c->off++;
			i++;
		}
		if (rc != 0)
			return rc;
	}
	return rc;
}

int
tr_clean_finish(struct tr_clean *c, struct tr_buf *out, size_t *closed)
{
	size_t i;
	int rc = 0;

	*closed = 0;
	for (i = 0; i < c->n_u8 && rc == 0; i++) {
		rc = bad_byte(c, out, c->u8[i]);
		c->off++;
	}
	c->n_u8 = 0;
	if (rc != 0)
		return rc;
	/* Every completion below is a repair, and said so. */
	switch (c->st) {
	case S_ENTITY:
		if ((rc = bare_amp(c, out)) != 0)
			return rc;
		return tr_clean_finish(c, out, closed);
	case S_LT:
		if (!c->post) {
			warn(c, "eof", "document ends after a bare <; escaped");
			rc = emits(out, "&lt;");
		}
		break;
	case S_BANG:
		if (!c->post) {
			warn(c, "eof", "document ends after a bare <!; escaped");
			if ((rc = emits(out, "&lt;!")) == 0)
				rc = emit(out, c->bang, c->n_bang);
		}
		break;
	case S_ADQ:
	case S_ASQ:
		warn(c, "eof", "document ends inside an attribute value; "
		               "tag completed");
		if ((rc = emits(out, c->st == S_ADQ ? "\"" : "'")) == 0 &&
		    (rc = check_prefixes(c, out)) == 0)
			rc = emits(out, ">");
		break;
	case S_STAG_NAME:
		warn(c, "eof", "document ends inside a start tag; completed");
		if ((rc = start_tag(c, out)) == 0 &&
		    (rc = check_prefixes(c, out)) == 0)
			rc = emits(out, ">");
		break;
	case S_TAG:
		warn(c, "eof", "document ends inside a start tag; completed");
		if ((rc = check_prefixes(c, out)) != 0)
			break;
		if (c->slash)
			pop(c);
		rc = emits(out, c->slash ? "/>" : ">");
		break;
	case S_ETAG_NAME:
	case S_ETAG_REST:
		if (c->name.len > 0)
			warn_name(c, "eof", "document ends inside the end tag </",
			          tr_buf_str(&c->name), "; completed");
		rc = end_tag(c, out);
		break;
	case S_COMMENT:
		warn(c, "eof", "document ends inside a comment; closed");
		rc = emits(out, "-->");
		break;
	case S_CDATA:
		warn(c, "eof", "document ends inside a CDATA section; closed");
		rc = emits(out, "]]>");
		break;
	case S_PI:
	case S_XDECL:
		warn(c, "eof", "document ends inside a processing "
		               "instruction; closed");
		if (c->st == S_XDECL && ((rc = emits(out, "<?")) != 0 ||
		                         (rc = emit(out, c->xdecl,
		                                    c->n_xdecl)) != 0))
			break;
		rc = emits(out, "?>");
		break;
	default:
		break;
	}
	c->st = S_TEXT;
	if (rc != 0 || c->repair_off || c->depth == 0)
		return rc;
	warn_name(c, "eof", "document ends inside <",
	          open_name(c, c->depth - 1), ">; open elements closed");
	while (c->depth > 0) {
		if ((rc = emit_end_tag(out, open_name(c, c->depth - 1))) != 0)
			return rc;
		pop(c);
		(*closed)++;
	}
	return 0;
}
