/*
 * html.c — item bodies through Gumbo: sanitized, links resolved,
 * serialized; and HTML to plain text. See html.h for the policy.
 *
 * Both jobs parse the fragment with Gumbo as the contents of a <div>
 * (HTML5 §13.4, the fragment case) and walk the tree it builds. Nothing
 * here tokenizes HTML by hand: what a browser would read as a tag, an
 * attribute, a comment or text, the walk sees as one. The one short way:
 * a body with no '<' and no '&' (and none of the bytes Gumbo's input
 * stream changes) is one text node to Gumbo, so it is written as the walk
 * would write that node, without the parse (tr_html_is_plain: it parses
 * nothing, it only finds that there is nothing to parse). Gumbo's parse is
 * nearly all of the sanitizer's cost (BENCHMARKS.md, the gumbo_floor
 * rows); about a third of real feeds' bodies are plain text.
 *
 * Why the output is safe: it is written from the tree, not copied from
 * the input. Only elements of the HTML namespace on the allowlist are
 * written, with allowlisted attributes whose values are escaped; text is
 * escaped; no raw-text element (script, style, textarea, title, xmp,
 * iframe contents, noscript, ...) and no foreign content (svg, math) is
 * ever written, so a browser parsing the output has no state in which
 * escaped text turns back into markup. Elements nested deeper than
 * MAX_NEST are written without their tags (browsers re-parent very deep
 * trees).
 *
 * Time: Gumbo's tree building costs, per start tag, up to the depth of
 * the open elements (the "in scope" checks of HTML5 §13.2.4.2), so a
 * body of 200,000 nested <div> takes minutes. A body with more than
 * CHUNK_TAGS '<' characters is therefore parsed in pieces of that many,
 * each cut just before a '<' and sanitized on its own: each piece's
 * output is well-formed and safe by itself, so their concatenation is
 * too; only elements that span a cut are closed at it. Real articles
 * rarely have that many tags.
 *
 * Memory: Gumbo allocates many small blocks and does not check for NULL.
 * Its allocator hooks give it an arena instead: blocks come from large
 * chunks, its frees are ignored and the whole arena goes at the end
 * (also sparing Gumbo's recursive tree destruction on deep documents).
 * Inputs are bounded by the parser's field cap (1 MiB by default).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <gumbo.h>

#include "tributary/error.h"
#include "tributary/escape.h"
#include "tributary/html.h"
#include "tributary/url.h"

#include "html_int.h"

#define MAX_NEST 256 /* elements written with their tags, nested */
#define CHUNK_TAGS 3000 /* '<' characters parsed in one piece */
#define WALK_STOP (-1000) /* ends a walk early; not an error */

static int
is_space_byte(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* --- plain text: no markup, no parse --------------------------------- */

/*
 * Eight bytes at a time (words of 64 bits, loaded with memcpy: no
 * alignment needed). ONES has 0x01 in every byte, HIGH 0x80. The tests
 * are exact for "some byte of x is ...", the way strlen implementations
 * use them (they may misplace which byte, never miss one).
 */
#define ONES UINT64_C(0x0101010101010101)
#define HIGH UINT64_C(0x8080808080808080)

static uint64_t
load8(const char *s)
{
	uint64_t x;

	memcpy(&x, s, sizeof(x));
	return x;
}

/* Non-zero when some byte of x is below n (n <= 0x80). */
static uint64_t
any_below(uint64_t x, unsigned n)
{
	return (x - ONES * n) & ~x & HIGH;
}

/* Non-zero when some byte of x equals c. */
static uint64_t
any_equal(uint64_t x, unsigned char c)
{
	return any_below(x ^ (ONES * c), 1);
}

/*
 * The length of the run at the start of s (n bytes) of ASCII characters
 * from U+0020 on, none of them a, b, c or d, counted eight bytes at a time;
 * the caller looks at the bytes from there on one by one. Stops up to 7
 * bytes before the first other byte.
 */
static size_t
ascii_run(const char *s, size_t n, unsigned char a, unsigned char b,
          unsigned char c, unsigned char d)
{
	size_t i = 0;
	uint64_t x;

	for (; i + 8 <= n; i += 8) {
		x = load8(s + i);
		if ((x & HIGH) | any_below(x, 0x20) | any_equal(x, a) |
		    any_equal(x, b) | any_equal(x, c) | any_equal(x, d))
			break;
	}
	return i;
}

/*
 * Whether Gumbo would read html as one text node holding exactly these
 * bytes, so that the sanitized body is the bytes escaped and the text is
 * the bytes with white space collapsed, with no parse at all. This is not
 * an HTML tokenizer: it recognizes nothing in the text, it only checks
 * that the bytes hold none of what could start markup or that Gumbo's
 * input stream would change (HTML5 §13.2.3.5, §13.2.5.1 data state):
 *   - no '<' (a tag, comment or any other markup) and no '&' (a
 *     character reference): the tokenizer's data state then emits every
 *     character as text, and the tree builder's "in body" mode inserts
 *     it into one text node;
 *   - no CR (the input stream turns CR and CRLF into LF), no NUL (the
 *     tree builder drops it), no other C0 control, DEL, C1 control or
 *     noncharacter (Gumbo writes U+FFFD for them) and only well-formed
 *     UTF-8 (Gumbo and tr_utf8_decode may replace a broken sequence by
 *     different numbers of U+FFFD).
 * Anything else goes through Gumbo, which is always right; when in doubt
 * the answer here is "no". tests/unit/test_html.c and the fuzz target
 * fuzz_html_sanitize check that both ways write the same bytes.
 */
int
tr_html_is_plain(const char *html, size_t len)
{
	size_t i = 0, k;
	unsigned char c;
	int32_t cp;

	while (i < len) {
		i += ascii_run(html + i, len - i, '<', '&', 0x7F, 0x7F);
		if (i == len)
			break;
		c = (unsigned char)html[i];
		if (c < 0x80) {
			if (c == '<' || c == '&' || c == 0x7F ||
			    (c < 0x20 && c != '\t' && c != '\n'))
				return 0;
			i++;
			continue;
		}
		k = tr_utf8_decode(html + i, len - i, &cp);
		if (cp < 0 || (cp >= 0x80 && cp <= 0x9F) ||
		    (cp >= 0xFDD0 && cp <= 0xFDEF) || (cp & 0xFFFE) == 0xFFFE)
			return 0;
		i += k;
	}
	return 1;
}

/* --- the arena Gumbo allocates from --------------------------------- */

struct chunk {
	struct chunk *next;
	size_t size, used;
	max_align_t data[];
};

struct arena {
	struct chunk *head;
	size_t next_size;
	int failed;
};

static void *
arena_alloc(void *arg, size_t n)
{
	struct arena *a = arg;
	struct chunk *c = a->head;
	size_t al = sizeof(max_align_t), size;

	n = (n + al - 1) / al * al;
	if (c == NULL || c->size - c->used < n) {
		size = a->next_size > n ? a->next_size : n;
		if ((c = malloc(sizeof(*c) + size)) == NULL) {
			/* Gumbo has no way to fail; give it the C library's
			 * answer and report the failure afterwards. */
			a->failed = 1;
			return malloc(n);
		}
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
		if (a->next_size < ((size_t)8 << 20))
			a->next_size *= 2;
	}
	c->used += n;
	return (char *)c->data + c->used - n;
}

static void
arena_free(void *arg, void *p)
{
	(void)arg;
	(void)p; /* freed with the arena */
}

static void
arena_release(struct arena *a)
{
	struct chunk *c, *next;

	for (c = a->head; c; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
}

/*
 * Parses html as the contents of a <div>. Returns Gumbo's root (the html
 * element holding the fragment's nodes), or NULL when out of memory.
 */
static GumboNode *
parse_fragment(struct arena *a, const char *html, size_t len)
{
	GumboOptions o = kGumboDefaultOptions;
	GumboOutput *g;

	memset(a, 0, sizeof(*a));
	a->next_size = len * 4 + 16384;
	o.allocator = arena_alloc;
	o.deallocator = arena_free;
	o.userdata = a;
	o.max_errors = 0;
	o.fragment_context = GUMBO_TAG_DIV;
	g = gumbo_parse_with_options(&o, html, len);
	if (g == NULL || a->failed)
		return NULL;
	return g->root;
}

/*
 * The length of the next piece of html (len bytes) to parse on its own:
 * everything up to the '<' after CHUNK_TAGS of them, or all of it. With
 * max_bytes (for an excerpt, which needs only the start), a piece ends
 * before that many bytes: at the last '<', else white space, else a
 * character boundary.
 */
static size_t
next_piece(const char *html, size_t len, size_t max_bytes)
{
	const char *p = html, *end = html + len, *cut;
	size_t n = 0;

	if (max_bytes < len) {
		end = html + max_bytes;
		for (cut = end; cut > html && *cut != '<'; cut--)
			;
		for (p = end; cut == html && p > html; p--)
			if (is_space_byte(*p))
				cut = p;
		for (p = end; cut == html && p > html; p--)
			if (((unsigned char)*p & 0xC0) != 0x80)
				cut = p;
		end = cut > html ? cut : html + len;
		p = html;
	}
	while (p < end && (p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		if (++n > CHUNK_TAGS && p > html)
			return (size_t)(p - html);
		p++;
	}
	return (size_t)(end - html);
}

/* --- walking the tree without recursion ------------------------------ */

static const GumboVector *
children(const GumboNode *n)
{
	if (n->type == GUMBO_NODE_ELEMENT || n->type == GUMBO_NODE_TEMPLATE)
		return &n->v.element.children;
	if (n->type == GUMBO_NODE_DOCUMENT)
		return &n->v.document.children;
	return NULL;
}

/*
 * Calls enter() on every node under root in document order and leave()
 * after its children; enter() returns whether to visit the children
 * (leave() is called either way). A non-zero return of either ends the
 * walk (enter: negative; leave: any) and is returned. Iterative: a
 * document nested 100,000 deep is no danger to the stack.
 */
struct visitor {
	int (*enter)(void *arg, const GumboNode *n);
	int (*leave)(void *arg, const GumboNode *n);
	void *arg;
};

static int
walk(const GumboNode *root, const struct visitor *v)
{
	const GumboNode *n;
	const GumboVector *k = children(root);
	size_t i;
	int rc, down;

	if (k == NULL || k->length == 0)
		return 0;
	n = k->data[0];
	for (;;) {
		if ((down = v->enter(v->arg, n)) < 0)
			return down;
		k = children(n);
		if (down && k != NULL && k->length > 0) {
			n = k->data[0];
			continue;
		}
		for (;;) {
			if ((rc = v->leave(v->arg, n)) != 0)
				return rc;
			k = children(n->parent);
			i = n->index_within_parent + 1;
			if (i < k->length) {
				n = k->data[i];
				break;
			}
			n = n->parent;
			if (n == root)
				return 0;
		}
	}
}

/* --- the allowlist ---------------------------------------------------- */

enum action {
	UNWRAP = 0, /* drop the tags, keep the contents (the default) */
	KEEP,       /* write the element with its allowed attributes */
	DROP,       /* drop the element and everything in it */
};

struct rule {
	unsigned char action;
	unsigned char is_void;
	const char *attrs; /* allowed attributes besides the global ones,
	                      each followed by a space */
};

/* Attributes every kept element may carry. */
static const char global_attrs[] = "title lang dir ";

/* Attributes whose value is one URL, and srcset (a list of them). */
static const char url_attrs[] = "href src cite poster longdesc ";

#define K(a) {KEEP, 0, a}
#define V(a) {KEEP, 1, a}
#define D {DROP, 0, ""}
static const struct rule rules[GUMBO_TAG_LAST + 1] = {
    [GUMBO_TAG_A] = K("href hreflang "),
    [GUMBO_TAG_ABBR] = K(""),
    [GUMBO_TAG_ACRONYM] = K(""),
    [GUMBO_TAG_ADDRESS] = K(""),
    [GUMBO_TAG_ARTICLE] = K(""),
    [GUMBO_TAG_ASIDE] = K(""),
    [GUMBO_TAG_AUDIO] = K("src controls loop muted preload "),
    [GUMBO_TAG_B] = K(""),
    [GUMBO_TAG_BDI] = K(""),
    [GUMBO_TAG_BDO] = K(""),
    [GUMBO_TAG_BIG] = K(""),
    [GUMBO_TAG_BLOCKQUOTE] = K("cite "),
    [GUMBO_TAG_BR] = V(""),
    [GUMBO_TAG_CAPTION] = K(""),
    [GUMBO_TAG_CENTER] = K(""),
    [GUMBO_TAG_CITE] = K(""),
    [GUMBO_TAG_CODE] = K(""),
    [GUMBO_TAG_COL] = V("span "),
    [GUMBO_TAG_COLGROUP] = K("span "),
    [GUMBO_TAG_DATA] = K("value "),
    [GUMBO_TAG_DD] = K(""),
    [GUMBO_TAG_DEL] = K("cite datetime "),
    [GUMBO_TAG_DETAILS] = K("open "),
    [GUMBO_TAG_DFN] = K(""),
    [GUMBO_TAG_DIV] = K(""),
    [GUMBO_TAG_DL] = K(""),
    [GUMBO_TAG_DT] = K(""),
    [GUMBO_TAG_EM] = K(""),
    [GUMBO_TAG_FIGCAPTION] = K(""),
    [GUMBO_TAG_FIGURE] = K(""),
    [GUMBO_TAG_FOOTER] = K(""),
    [GUMBO_TAG_H1] = K(""),
    [GUMBO_TAG_H2] = K(""),
    [GUMBO_TAG_H3] = K(""),
    [GUMBO_TAG_H4] = K(""),
    [GUMBO_TAG_H5] = K(""),
    [GUMBO_TAG_H6] = K(""),
    [GUMBO_TAG_HEADER] = K(""),
    [GUMBO_TAG_HGROUP] = K(""),
    [GUMBO_TAG_HR] = V(""),
    [GUMBO_TAG_I] = K(""),
    [GUMBO_TAG_IMG] = V("src srcset sizes alt width height longdesc "),
    [GUMBO_TAG_INS] = K("cite datetime "),
    [GUMBO_TAG_KBD] = K(""),
    [GUMBO_TAG_LI] = K("value "),
    [GUMBO_TAG_MAIN] = K(""),
    [GUMBO_TAG_MARK] = K(""),
    [GUMBO_TAG_OL] = K("start reversed type "),
    [GUMBO_TAG_P] = K(""),
    [GUMBO_TAG_PRE] = K(""),
    [GUMBO_TAG_Q] = K("cite "),
    [GUMBO_TAG_RB] = K(""),
    [GUMBO_TAG_RP] = K(""),
    [GUMBO_TAG_RT] = K(""),
    [GUMBO_TAG_RTC] = K(""),
    [GUMBO_TAG_RUBY] = K(""),
    [GUMBO_TAG_S] = K(""),
    [GUMBO_TAG_SAMP] = K(""),
    [GUMBO_TAG_SECTION] = K(""),
    [GUMBO_TAG_SMALL] = K(""),
    [GUMBO_TAG_SOURCE] = V("src srcset sizes type media "),
    [GUMBO_TAG_STRIKE] = K(""),
    [GUMBO_TAG_STRONG] = K(""),
    [GUMBO_TAG_SUB] = K(""),
    [GUMBO_TAG_SUMMARY] = K(""),
    [GUMBO_TAG_SUP] = K(""),
    [GUMBO_TAG_TABLE] = K(""),
    [GUMBO_TAG_TBODY] = K(""),
    [GUMBO_TAG_TD] = K("colspan rowspan headers "),
    [GUMBO_TAG_TFOOT] = K(""),
    [GUMBO_TAG_TH] = K("colspan rowspan headers scope abbr "),
    [GUMBO_TAG_THEAD] = K(""),
    [GUMBO_TAG_TIME] = K("datetime "),
    [GUMBO_TAG_TR] = K(""),
    [GUMBO_TAG_TRACK] = V("src kind srclang label default "),
    [GUMBO_TAG_TT] = K(""),
    [GUMBO_TAG_U] = K(""),
    [GUMBO_TAG_UL] = K(""),
    [GUMBO_TAG_VAR] = K(""),
    [GUMBO_TAG_VIDEO] =
        K("src poster controls loop muted preload width height "),
    [GUMBO_TAG_WBR] = V(""),
    /*
     * Unwrapped (the default, not listed): elements whose children a
     * browser shows when the element itself does nothing, as it does
     * here: the fallback content of <object>, <applet> and <canvas>,
     * the text of <marquee>, the contents of <map> (its <area>s have no
     * text). Their <param>s and <embed>s are dropped below.
     *
     * Dropped with their contents: active content, embedding, forms'
     * controls, raw text, the document's head, foreign content.
     */
    [GUMBO_TAG_BASE] = D,
    [GUMBO_TAG_BGSOUND] = D,
    [GUMBO_TAG_BUTTON] = D,
    [GUMBO_TAG_DATALIST] = D,
    [GUMBO_TAG_EMBED] = D,
    [GUMBO_TAG_FRAME] = D,
    [GUMBO_TAG_FRAMESET] = D,
    [GUMBO_TAG_HEAD] = D,
    [GUMBO_TAG_IFRAME] = D, /* unless an embed host's: see iframe() */
    [GUMBO_TAG_INPUT] = D,
    [GUMBO_TAG_ISINDEX] = D,
    [GUMBO_TAG_KEYGEN] = D,
    [GUMBO_TAG_LINK] = D,
    [GUMBO_TAG_MENUITEM] = D,
    [GUMBO_TAG_META] = D,
    [GUMBO_TAG_NOEMBED] = D,
    [GUMBO_TAG_NOFRAMES] = D,
    [GUMBO_TAG_OPTGROUP] = D,
    [GUMBO_TAG_OPTION] = D,
    [GUMBO_TAG_OUTPUT] = D,
    [GUMBO_TAG_PARAM] = D,
    [GUMBO_TAG_PLAINTEXT] = D,
    [GUMBO_TAG_PROGRESS] = D,
    [GUMBO_TAG_SCRIPT] = D,
    [GUMBO_TAG_SELECT] = D,
    [GUMBO_TAG_STYLE] = D,
    [GUMBO_TAG_SVG] = D,
    [GUMBO_TAG_TEMPLATE] = D,
    [GUMBO_TAG_TEXTAREA] = D,
    [GUMBO_TAG_TITLE] = D,
    [GUMBO_TAG_XMP] = D,
};
#undef K
#undef V
#undef D

/* Elements that separate words in text (the rest run together). */
static int
is_block(GumboTag t)
{
	switch (t) {
	case GUMBO_TAG_ADDRESS:
	case GUMBO_TAG_ARTICLE:
	case GUMBO_TAG_ASIDE:
	case GUMBO_TAG_BLOCKQUOTE:
	case GUMBO_TAG_BR:
	case GUMBO_TAG_CAPTION:
	case GUMBO_TAG_DD:
	case GUMBO_TAG_DETAILS:
	case GUMBO_TAG_DIV:
	case GUMBO_TAG_DL:
	case GUMBO_TAG_DT:
	case GUMBO_TAG_FIGCAPTION:
	case GUMBO_TAG_FIGURE:
	case GUMBO_TAG_FOOTER:
	case GUMBO_TAG_H1:
	case GUMBO_TAG_H2:
	case GUMBO_TAG_H3:
	case GUMBO_TAG_H4:
	case GUMBO_TAG_H5:
	case GUMBO_TAG_H6:
	case GUMBO_TAG_HEADER:
	case GUMBO_TAG_HR:
	case GUMBO_TAG_IMG:
	case GUMBO_TAG_LI:
	case GUMBO_TAG_MAIN:
	case GUMBO_TAG_OL:
	case GUMBO_TAG_P:
	case GUMBO_TAG_PRE:
	case GUMBO_TAG_SECTION:
	case GUMBO_TAG_SUMMARY:
	case GUMBO_TAG_TABLE:
	case GUMBO_TAG_TD:
	case GUMBO_TAG_TH:
	case GUMBO_TAG_TR:
	case GUMBO_TAG_UL:
		return 1;
	default:
		return 0;
	}
}

/* What to do with element n under the default policy. */
static enum action
element_action(const GumboNode *n)
{
	const GumboElement *e = &n->v.element;
	enum action a = (enum action)rules[e->tag].action;

	if (e->tag_namespace == GUMBO_NAMESPACE_HTML)
		return a;
	if (e->tag_namespace == GUMBO_NAMESPACE_SVG)
		return DROP;
	/* MathML: its text stays, none of its elements does. */
	return a == DROP ? DROP : UNWRAP;
}

/* Whether name (len bytes) is a word of the space-separated list. */
static int
in_words(const char *list, const char *name)
{
	size_t n = strlen(name);
	const char *p;

	if (n == 0)
		return 0; /* Gumbo can report an attribute without a name */
	for (p = list; (p = strstr(p, name)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && p[n] == ' ')
			return 1;
	return 0;
}

/* --- URLs --------------------------------------------------------------- */

static int
is_html_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/*
 * The URL of an attribute value the way a browser reads it (WHATWG URL
 * parser): leading and trailing C0 controls and spaces trimmed, tab, LF
 * and CR removed anywhere. Gumbo has already decoded the references.
 * Returns a malloc'ed string or NULL.
 */
static char *
url_clean(const char *v)
{
	size_t n, i, k = 0;
	char *r;

	while (*v && (unsigned char)*v <= ' ')
		v++;
	n = strlen(v);
	while (n && (unsigned char)v[n - 1] <= ' ')
		n--;
	if ((r = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (v[i] != '\t' && v[i] != '\n' && v[i] != '\r')
			r[k++] = v[i];
	r[k] = '\0';
	return r;
}

/* Length of the scheme at the start of u (without ':'), or 0. */
static size_t
scheme_len(const char *u)
{
	size_t i;

	if (!((u[0] | 0x20) >= 'a' && (u[0] | 0x20) <= 'z'))
		return 0;
	for (i = 1; u[i]; i++) {
		unsigned char c = (unsigned char)u[i];

		if (c == ':')
			return i;
		if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') &&
		    !(c >= '0' && c <= '9') && c != '+' && c != '-' && c != '.')
			return 0;
	}
	return 0;
}

/* data: URLs allowed in img src: raster images only. */
static int
safe_data_url(const char *u)
{
	static const char *const ok[] = {
	    "data:image/png;", "data:image/png,", "data:image/gif;",
	    "data:image/gif,", "data:image/jpeg;", "data:image/jpeg,",
	    "data:image/webp;", "data:image/webp,"};
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strncasecmp(u, ok[i], strlen(ok[i])) == 0)
			return 1;
	return 0;
}

/*
 * Schemes a link (a href) may have besides http, https and mailto: those
 * that name a resource or an address for an application to open, and
 * run nothing in the page (the ones feed readers keep: a torrent feed's
 * magnet links, an event's webcal link, a phone number). Any other
 * scheme is refused: javascript:, data:, and feed: too, which old
 * browsers handed on with what followed it ("feed:javascript:...").
 */
static const char link_schemes[] =
    "callto ftp ftps geo gopher irc irc6 ircs magnet matrix news nntp "
    "sftp sip sips sms tel webcal xmpp ";

/* What url_safe() lets through besides http(s) and mailto. */
enum { URL_DATA_IMAGE = 1, URL_LINK = 2 };

/* What url_safe() lets through in attribute name of a tag element. */
static int
url_allow(GumboTag tag, const char *name)
{
	if (tag == GUMBO_TAG_IMG && strcmp(name, "src") == 0)
		return URL_DATA_IMAGE;
	if (tag == GUMBO_TAG_A && strcmp(name, "href") == 0)
		return URL_LINK;
	return 0;
}

/*
 * The safe, absolute form of URL value v (malloc'ed), or NULL when the
 * attribute must go: http(s) and mailto as they are, "#fragment" as it
 * is, relative references resolved against base (http(s) results only),
 * data:image/... with URL_DATA_IMAGE, link_schemes with URL_LINK; every
 * other scheme refused.
 */
static char *
url_safe(const char *v, const char *base, int allow)
{
	char *u = url_clean(v), *r = NULL, sch[8];
	size_t sl;

	if (u == NULL || *u == '\0')
		goto out;
	if (u[0] == '#') {
		r = u;
		u = NULL;
		goto out;
	}
	if ((sl = scheme_len(u)) != 0) {
		tr_url_scheme(sch, sizeof(sch), u);
		/* "http:x" without "//" is relative in a browser (WHATWG
		 * URL, special relative state) but not in RFC 3986: gone. */
		if (((strcmp(sch, "http") == 0 ||
		      strcmp(sch, "https") == 0) &&
		     strncmp(u + sl, "://", 3) == 0) ||
		    strcmp(sch, "mailto") == 0 ||
		    ((allow & URL_LINK) && in_words(link_schemes, sch)) ||
		    ((allow & URL_DATA_IMAGE) && safe_data_url(u))) {
			r = u;
			u = NULL;
		}
		goto out;
	}
	if (base == NULL || (r = tr_url_resolve(base, u)) == NULL)
		goto out;
	tr_url_scheme(sch, sizeof(sch), r);
	if (strcmp(sch, "http") != 0 && strcmp(sch, "https") != 0) {
		free(r);
		r = NULL;
	}
out:
	free(u);
	return r;
}

/* --- writing ------------------------------------------------------------ */

/*
 * Appends s (n bytes) escaped for text or a double-quoted attribute
 * value, valid in XML 1.0: & < > " as references, C0 controls other than
 * tab, LF and CR dropped, invalid UTF-8, U+FFFE and U+FFFF as U+FFFD.
 */
static int
put_escaped(struct tr_buf *out, const char *s, size_t n)
{
	size_t i = 0, start = 0, k;
	int32_t cp;
	int rc = 0;

	while (i < n && rc == 0) {
		unsigned char c;
		const char *rep = NULL;

		if ((i += ascii_run(s + i, n - i, '&', '<', '>', '"')) == n)
			break;
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x80 && c != '&' && c != '<' && c != '>' &&
		    c != '"') {
			i++;
			continue;
		}
		if (c == '&')
			rep = "&amp;";
		else if (c == '<')
			rep = "&lt;";
		else if (c == '>')
			rep = "&gt;";
		else if (c == '"')
			rep = "&quot;";
		k = 1;
		if (c >= 0x80) {
			k = tr_utf8_decode(s + i, n - i, &cp);
			if (cp >= 0 && cp != 0xFFFE && cp != 0xFFFF) {
				i += k;
				continue;
			}
			rep = "\xEF\xBF\xBD";
		} else if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
			rep = "";
		if (rep == NULL) {
			i++;
			continue;
		}
		if ((rc = tr_buf_add(out, s + start, i - start)) == 0)
			rc = tr_buf_adds(out, rep);
		i += k;
		start = i;
	}
	if (rc == 0)
		rc = tr_buf_add(out, s + start, i - start);
	return rc;
}

static int
put_attr(struct tr_buf *out, const char *name, const char *value)
{
	int rc;

	if ((rc = tr_buf_addc(out, ' ')) != 0 ||
	    (rc = tr_buf_adds(out, name)) != 0 ||
	    (rc = tr_buf_add(out, "=\"", 2)) != 0 ||
	    (rc = put_escaped(out, value, strlen(value))) != 0)
		return rc;
	return tr_buf_addc(out, '"');
}

/*
 * Whether d[0..n) is a valid non-negative integer (HTML5 §2.3.4.1: ASCII
 * digits only) above zero.
 */
static int
html_positive_ok(const char *d, size_t n)
{
	size_t i;
	int nonzero = 0;

	for (i = 0; i < n; i++) {
		if (d[i] < '0' || d[i] > '9')
			return 0;
		nonzero |= d[i] != '0';
	}
	return nonzero;
}

/* The number of ASCII digits at d[0..n). */
static size_t
digits(const char *d, size_t n)
{
	size_t i = 0;

	while (i < n && d[i] >= '0' && d[i] <= '9')
		i++;
	return i;
}

/*
 * Whether d[0..n) is a valid floating-point number (HTML5 §2.3.4.3):
 * "-"?, digits, "." digits, or both, then ("e"|"E") ("-"|"+")? digits.
 * *negative says whether it is below zero (a zero mantissa is not).
 */
static int
html_float_ok(const char *d, size_t n, int *negative)
{
	size_t i = 0, k, nonzero = 0, j;

	*negative = 0;
	if (i < n && d[i] == '-')
		i++;
	k = digits(d + i, n - i);
	for (j = i; j < i + k; j++)
		nonzero |= d[j] != '0';
	i += k;
	if (i < n && d[i] == '.') {
		size_t f = digits(d + i + 1, n - i - 1);

		if (f == 0)
			return 0;
		for (j = i + 1; j < i + 1 + f; j++)
			nonzero |= d[j] != '0';
		i += 1 + f, k += f;
	}
	if (k == 0)
		return 0;
	if (i < n && (d[i] == 'e' || d[i] == 'E')) {
		i++;
		if (i < n && (d[i] == '-' || d[i] == '+'))
			i++;
		k = digits(d + i, n - i);
		if (k == 0)
			return 0;
		i += k;
	}
	*negative = d[0] == '-' && nonzero;
	return i == n;
}

/*
 * Whether the descriptors of a srcset candidate (n bytes at d) are what
 * the HTML5 srcset parser accepts (§4.8.4.3.10, its descriptor parser):
 * each one token, at most one width ("480w": an integer above zero) or
 * one density ("1.5x": a number, not below zero), never both, and a
 * height ("300h") only beside a width. A browser ignores a candidate
 * with anything else, and so does the sanitizer.
 */
static int
descriptors_ok(const char *d, size_t n)
{
	size_t i = 0, k;
	int w = 0, x = 0, h = 0, neg;

	while (i < n) {
		while (i < n && is_html_space((unsigned char)d[i]))
			i++;
		if (i == n)
			break;
		for (k = i; k < n && !is_html_space((unsigned char)d[k]); k++)
			;
		if (k - i < 2)
			return 0;
		switch (d[k - 1]) {
		case 'w':
			if (w || x || !html_positive_ok(d + i, k - i - 1))
				return 0;
			w = 1;
			break;
		case 'x':
			if (w || x || h ||
			    !html_float_ok(d + i, k - i - 1, &neg) || neg)
				return 0;
			x = 1;
			break;
		case 'h':
			if (h || x || !html_positive_ok(d + i, k - i - 1))
				return 0;
			h = 1;
			break;
		default:
			return 0;
		}
		i = k;
	}
	return !h || w;
}

/*
 * A srcset (HTML5 §4.8.4.3.2: candidates are a URL, a run of non-space
 * characters, then descriptors up to a comma) with each URL made safe;
 * unsafe candidates are left out. Appends "url desc, url desc" to b.
 */
static int
srcset_safe(struct tr_buf *b, const char *v, const char *base)
{
	const char *p = v, *u0, *d0;
	size_t un, dn;
	char *url, *ok;
	int rc = 0, paren;

	while (*p && rc == 0) {
		while (is_html_space((unsigned char)*p) || *p == ',')
			p++;
		u0 = p;
		while (*p && !is_html_space((unsigned char)*p))
			p++;
		un = (size_t)(p - u0);
		d0 = p;
		if (un && u0[un - 1] == ',') {
			while (un && u0[un - 1] == ',')
				un--;
			dn = 0;
		} else {
			for (paren = 0; *p && (paren || *p != ','); p++)
				paren += *p == '(' ? 1 : *p == ')' && paren ? -1 : 0;
			dn = (size_t)(p - d0);
		}
		if (un == 0 || (url = strndup(u0, un)) == NULL)
			continue;
		ok = url_safe(url, base, 0);
		free(url);
		/* A URL ending in ',' reads differently in a srcset. */
		if (ok == NULL || ok[strlen(ok) - 1] == ',') {
			free(ok);
			continue;
		}
		while (dn && is_html_space((unsigned char)*d0))
			d0++, dn--;
		while (dn && is_html_space((unsigned char)d0[dn - 1]))
			dn--;
		if (!descriptors_ok(d0, dn)) {
			free(ok);
			continue;
		}
		if (b->len)
			rc = tr_buf_add(b, ", ", 2);
		if (rc == 0)
			rc = tr_buf_adds(b, ok);
		if (rc == 0 && dn)
			rc = tr_buf_addc(b, ' ');
		if (rc == 0)
			rc = tr_buf_add(b, d0, dn);
		free(ok);
	}
	return rc;
}

/* --- text ---------------------------------------------------------------- */

/* The text being built: characters counted, white space pending. */
struct text {
	struct tr_buf *out;
	size_t start;     /* out->len when the text began */
	size_t chars;     /* characters written */
	size_t max;       /* characters allowed; 0: any number */
	size_t last_word; /* length before the last space written */
	int space;        /* a space is due before the next character */
	int full;         /* max reached: the rest was cut */
};

/* Writes the space a word boundary left pending, before the next word. */
static int
text_space(struct text *t)
{
	int rc;

	if (!t->space)
		return 0;
	t->last_word = t->out->len;
	if ((rc = tr_buf_addc(t->out, ' ')) != 0)
		return rc;
	t->chars++;
	t->space = 0;
	return 0;
}

static int
text_add(struct text *t, uint32_t cp)
{
	char u[4];
	size_t n;
	int rc;

	/* HTML's white space (HTML5 §2.3.3); U+00A0 is a character. */
	if (cp == ' ' || cp == '\t' || cp == '\n' || cp == '\r' ||
	    cp == '\f') {
		t->space = t->out->len > t->start;
		return 0;
	}
	if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0) || cp == 0xFFFE ||
	    cp == 0xFFFF)
		return 0;
	if (t->max && t->chars + (t->space ? 1 : 0) >= t->max) {
		t->full = 1;
		return 0;
	}
	if ((rc = text_space(t)) != 0)
		return rc;
	t->chars++;
	n = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	if (n == 1)
		u[0] = (char)cp;
	else if (n == 2) {
		u[0] = (char)(0xC0 | (cp >> 6));
		u[1] = (char)(0x80 | (cp & 0x3F));
	} else if (n == 3) {
		u[0] = (char)(0xE0 | (cp >> 12));
		u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[2] = (char)(0x80 | (cp & 0x3F));
	} else {
		u[0] = (char)(0xF0 | (cp >> 18));
		u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		u[3] = (char)(0x80 | (cp & 0x3F));
	}
	return tr_buf_add(t->out, u, n);
}

/*
 * The length of the run at the start of s (n bytes) that text_add()
 * writes as it is: characters it keeps (printable ASCII other than the
 * space, well-formed UTF-8 from U+00A0 on other than U+FFFE and U+FFFF)
 * and single spaces between them. The run starts and ends with such a
 * character; *chars gets the number of characters in it, spaces
 * included, and *last_space the offset of its last space (0: none).
 */
static size_t
word_run(const char *s, size_t n, size_t *chars, size_t *last_space)
{
	size_t i = 0, c = 0, k, end = 0, end_c = 0, sp = 0, end_sp = 0;
	int32_t cp;

	while (i < n) {
		unsigned char b = (unsigned char)s[i];

		if (b > 0x20 && b < 0x7F)
			k = 1;
		else if (b == ' ' && i == end && i > 0) {
			sp = i++; /* one space after a character */
			c++;
			continue;
		} else if (b < 0x80)
			break;
		else if ((k = tr_utf8_decode(s + i, n - i, &cp)),
		         cp < 0xA0 || cp == 0xFFFE || cp == 0xFFFF)
			break;
		i += k, c++;
		end = i, end_c = c, end_sp = sp;
	}
	*chars = end_c;
	*last_space = end_sp;
	return end;
}

/*
 * Adds a run word_run() found (n bytes, chars characters, its last space
 * at last_space) at once, as text_add() would add its characters one by
 * one when the text has no limit: a call per character was the larger
 * part of the sanitizer's own cost.
 */
static int
text_run(struct text *t, const char *s, size_t n, size_t chars,
         size_t last_space)
{
	int rc;

	assert(t->max == 0 && n > 0);
	if ((rc = text_space(t)) != 0)
		return rc;
	if (last_space)
		t->last_word = t->out->len + last_space;
	t->chars += chars;
	return tr_buf_add(t->out, s, n);
}

/* Adds the characters of s (n bytes); stops once the text is full. */
static int
text_adds(struct text *t, const char *s, size_t n)
{
	size_t i = 0, k, c, sp;
	int32_t cp;
	int rc = 0;

	while (i < n && rc == 0 && !t->full) {
		if (t->max == 0 && (k = word_run(s + i, n - i, &c, &sp)) > 0) {
			rc = text_run(t, s + i, k, c, sp);
			i += k;
			continue;
		}
		i += tr_utf8_decode(s + i, n - i, &cp);
		rc = text_add(t, cp < 0 ? 0xFFFD : (uint32_t)cp);
	}
	return rc;
}

/* --- sanitizing ---------------------------------------------------------- */

struct san {
	struct tr_buf *out;
	const char *base;
	const struct tr_html_policy *pol;
	const GumboNode *open[MAX_NEST]; /* elements written, open */
	size_t n_open;
	struct tr_buf scratch;
	struct text *text; /* the text of what is written, or NULL */
	struct tr_buf lazy; /* images' lazy sources taken, each NUL-ended */
	size_t noscript;    /* noscript elements open */
};

/*
 * The text of a text node the sanitizer writes, as tr_html_text() would
 * read it back from the output: put_escaped() writes U+FFFE and U+FFFF
 * as U+FFFD, which text_add() keeps.
 */
static int
san_text(struct san *s, const char *str)
{
	size_t n = strlen(str), i = 0, k, c, sp;
	int32_t cp;
	int rc = 0;

	while (i < n && rc == 0) {
		if (s->text->max == 0 &&
		    (k = word_run(str + i, n - i, &c, &sp)) > 0) {
			rc = text_run(s->text, str + i, k, c, sp);
			i += k;
			continue;
		}
		i += tr_utf8_decode(str + i, n - i, &cp);
		if (cp < 0 || cp == 0xFFFE || cp == 0xFFFF)
			cp = 0xFFFD;
		rc = text_add(s->text, (uint32_t)cp);
	}
	return rc;
}

/* A word break in the text where a block element's tag is written. */
static void
san_break(struct san *s, GumboTag tag)
{
	if (s->text != NULL && is_block(tag))
		s->text->space = s->text->out->len > s->text->start;
}

/* Whether url's host is an embed host or a subdomain of one. */
static int
embed_host_ok(const struct tr_html_policy *pol, const char *url)
{
	CURLU *h;
	char *host = NULL, sch[8];
	size_t i, hl, el;
	int ok = 0;

	tr_url_scheme(sch, sizeof(sch), url);
	if (pol->n_embed_hosts == 0 ||
	    (strcmp(sch, "https") != 0 && strcmp(sch, "http") != 0))
		return 0;
	if ((h = curl_url()) == NULL)
		return 0;
	if (curl_url_set(h, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(h, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		hl = strlen(host);
		for (i = 0; i < pol->n_embed_hosts && !ok; i++) {
			const char *e = pol->embed_hosts[i];

			el = strlen(e);
			ok = (hl == el && strcasecmp(host, e) == 0) ||
			     (hl > el + 1 && host[hl - el - 1] == '.' &&
			      strcasecmp(host + hl - el, e) == 0);
		}
	}
	curl_free(host);
	curl_url_cleanup(h);
	return ok;
}

/* An iframe from an embed host, sandboxed and empty; else nothing. */
static int
put_iframe(struct san *s, const GumboElement *e)
{
	static const char sandbox[] = "allow-scripts allow-same-origin "
	                              "allow-popups allow-presentation";
	const GumboAttribute *a;
	char *src = NULL;
	size_t i;
	int rc = 0;

	if ((a = gumbo_get_attribute(&e->attributes, "src")) == NULL ||
	    (src = url_safe(a->value, s->base, 0)) == NULL ||
	    !embed_host_ok(s->pol, src))
		goto out;
	if ((rc = tr_buf_adds(s->out, "<iframe")) != 0 ||
	    (rc = put_attr(s->out, "src", src)) != 0)
		goto out;
	for (i = 0; i < e->attributes.length && rc == 0; i++) {
		a = e->attributes.data[i];
		if (in_words("width height title allowfullscreen ", a->name))
			rc = put_attr(s->out, a->name, a->value);
	}
	if (rc == 0)
		rc = put_attr(s->out, "sandbox", sandbox);
	if (rc == 0)
		rc = put_attr(s->out, "referrerpolicy", "no-referrer");
	if (rc == 0)
		rc = tr_buf_adds(s->out, "></iframe>");
out:
	free(src);
	return rc;
}

/*
 * Lazy loading: a page's script moves an image's real source from one of
 * these attributes into src (srcset) once it scrolls into view, and src
 * holds a placeholder until then (WordPress plugins, lazysizes). A
 * reader runs no script, so the sanitizer moves it: the first of these
 * that is a safe URL (srcset) replaces the element's own.
 */
static const char *const lazy_src_attrs[] = {"data-src", "data-lazy-src",
                                             "data-original", "data-lazy"};
static const char *const lazy_srcset_attrs[] = {"data-srcset",
                                                "data-lazy-srcset"};

/* The safe form of the first usable lazy source of img e, or NULL. */
static char *
lazy_src(const struct san *s, const GumboElement *e)
{
	const GumboAttribute *a;
	char *v;
	size_t i;

	for (i = 0; i < sizeof(lazy_src_attrs) / sizeof(*lazy_src_attrs); i++)
		if ((a = gumbo_get_attribute(&e->attributes,
		                             lazy_src_attrs[i])) != NULL &&
		    (v = url_safe(a->value, s->base, 0)) != NULL)
			return v;
	return NULL;
}

/* The first usable lazy srcset of e into set (left empty: none). */
static int
lazy_srcset(const struct san *s, const GumboElement *e, struct tr_buf *set)
{
	const GumboAttribute *a;
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(lazy_srcset_attrs) / sizeof(*lazy_srcset_attrs) &&
	            rc == 0 && set->len == 0;
	     i++)
		if ((a = gumbo_get_attribute(&e->attributes,
		                             lazy_srcset_attrs[i])) != NULL)
			rc = srcset_safe(set, a->value, s->base);
	return rc;
}

/* Whether url is a lazy source written before (s->lazy). */
static int
lazy_seen(const struct san *s, const char *url)
{
	size_t i = 0, n;

	while (i < s->lazy.len) {
		n = strlen(s->lazy.data + i);
		if (strcmp(s->lazy.data + i, url) == 0)
			return 1;
		i += n + 1;
	}
	return 0;
}

/*
 * Whether img e is the fallback of a lazy image written before: inside
 * <noscript>, with a source that image took from its lazy attribute.
 * Pages put one after each lazy image; a reader would show both.
 */
static int
lazy_fallback(const struct san *s, const GumboElement *e)
{
	const GumboAttribute *a;
	char *v;
	int seen;

	if (s->noscript == 0 || s->lazy.len == 0 ||
	    (a = gumbo_get_attribute(&e->attributes, "src")) == NULL ||
	    (v = url_safe(a->value, s->base, 0)) == NULL)
		return 0;
	seen = lazy_seen(s, v);
	free(v);
	return seen;
}

/*
 * Writes the allowed attributes of e into s->scratch (which is reset),
 * an image's lazy sources in place of its own (lazy_src_attrs). Sets
 * *has_url when a src, srcset or href survived.
 */
static int
put_attrs(struct san *s, const GumboElement *e, const struct rule *r,
          int *has_url)
{
	struct tr_buf *b = &s->scratch;
	struct tr_buf set, lset;
	char *lazy = NULL;
	size_t i;
	int rc = 0;

	tr_buf_reset(b);
	*has_url = 0;
	tr_buf_init(&set, b->max);
	tr_buf_init(&lset, b->max);
	if (e->tag == GUMBO_TAG_IMG)
		lazy = lazy_src(s, e);
	if (e->tag == GUMBO_TAG_IMG || e->tag == GUMBO_TAG_SOURCE)
		rc = lazy_srcset(s, e, &lset);
	for (i = 0; i < e->attributes.length && rc == 0; i++) {
		const GumboAttribute *a = e->attributes.data[i];
		char *v;

		if (a->attr_namespace != GUMBO_ATTR_NAMESPACE_NONE ||
		    (!in_words(global_attrs, a->name) &&
		     !in_words(r->attrs, a->name)) ||
		    (lazy != NULL && strcmp(a->name, "src") == 0) ||
		    (lset.len && strcmp(a->name, "srcset") == 0))
			continue;
		if (strcmp(a->name, "srcset") == 0) {
			tr_buf_reset(&set);
			if ((rc = srcset_safe(&set, a->value, s->base)) == 0 &&
			    set.len) {
				rc = put_attr(b, "srcset", tr_buf_str(&set));
				*has_url = 1;
			}
		} else if (in_words(url_attrs, a->name)) {
			v = url_safe(a->value, s->base,
			             url_allow(e->tag, a->name));
			if (v != NULL) {
				rc = put_attr(b, a->name, v);
				*has_url |= strcmp(a->name, "src") == 0 ||
				            strcmp(a->name, "href") == 0;
			}
			free(v);
		} else
			rc = put_attr(b, a->name, a->value);
	}
	if (rc == 0 && lazy != NULL &&
	    (rc = put_attr(b, "src", lazy)) == 0 &&
	    (rc = tr_buf_add(&s->lazy, lazy, strlen(lazy) + 1)) == 0)
		*has_url = 1;
	if (rc == 0 && lset.len &&
	    (rc = put_attr(b, "srcset", tr_buf_str(&lset))) == 0)
		*has_url = 1;
	if (rc == 0 && e->tag == GUMBO_TAG_A && *has_url)
		rc = put_attr(b, "rel", "noopener noreferrer");
	free(lazy);
	tr_buf_free(&lset);
	tr_buf_free(&set);
	return rc;
}

/*
 * Whether a link is open: a link inside a link is not valid HTML and a
 * browser would read the output differently (HTML5 §13.2.6.4.7, "a"
 * start tag), so the inner one is written without its tags.
 */
static int
inside_a(const struct san *s)
{
	size_t i;

	for (i = 0; i < s->n_open; i++)
		if (s->open[i]->v.element.tag == GUMBO_TAG_A)
			return 1;
	return 0;
}

/* Whether an element has a non-empty alt attribute. */
static int
has_alt(const GumboElement *e)
{
	const GumboAttribute *a = gumbo_get_attribute(&e->attributes, "alt");

	return a != NULL && a->value[0] != '\0';
}

static int
san_enter(void *arg, const GumboNode *n)
{
	struct san *s = arg;
	const GumboElement *e;
	const struct rule *r;
	int rc, has_url;

	switch (n->type) {
	case GUMBO_NODE_TEXT:
	case GUMBO_NODE_WHITESPACE:
	case GUMBO_NODE_CDATA:
		rc = put_escaped(s->out, n->v.text.text,
		                 strlen(n->v.text.text));
		if (rc == 0 && s->text != NULL)
			rc = san_text(s, n->v.text.text);
		return rc;
	case GUMBO_NODE_ELEMENT:
	case GUMBO_NODE_TEMPLATE:
		break;
	default:
		return 0; /* comments */
	}
	e = &n->v.element;
	if (e->tag_namespace == GUMBO_NAMESPACE_HTML &&
	    e->tag == GUMBO_TAG_NOSCRIPT)
		s->noscript++;
	if (e->tag == GUMBO_TAG_IFRAME &&
	    e->tag_namespace == GUMBO_NAMESPACE_HTML) {
		rc = put_iframe(s, e);
		return rc;
	}
	if (e->tag == GUMBO_TAG_IMG &&
	    e->tag_namespace == GUMBO_NAMESPACE_HTML && lazy_fallback(s, e))
		return 0;
	switch (element_action(n)) {
	case DROP:
		return 0;
	case UNWRAP:
		return 1;
	case KEEP:
		break;
	}
	if (s->n_open == MAX_NEST || (e->tag == GUMBO_TAG_A && inside_a(s)))
		return 1;
	r = &rules[e->tag];
	if ((rc = put_attrs(s, e, r, &has_url)) != 0)
		return rc;
	/* An image or source without a usable source shows nothing, but
	 * an image's alternative text, which a browser shows instead. */
	if (!has_url && (e->tag == GUMBO_TAG_SOURCE ||
	                 e->tag == GUMBO_TAG_TRACK ||
	                 (e->tag == GUMBO_TAG_IMG && !has_alt(e))))
		return 0;
	if ((rc = tr_buf_addc(s->out, '<')) != 0 ||
	    (rc = tr_buf_adds(s->out, gumbo_normalized_tagname(e->tag))) != 0 ||
	    (rc = tr_buf_add(s->out, s->scratch.data, s->scratch.len)) != 0)
		return rc;
	san_break(s, e->tag);
	if (r->is_void) {
		rc = tr_buf_add(s->out, " />", 3);
		return rc;
	}
	if ((rc = tr_buf_addc(s->out, '>')) != 0)
		return rc;
	s->open[s->n_open++] = n;
	return 1;
}

static int
san_leave(void *arg, const GumboNode *n)
{
	struct san *s = arg;
	int rc;

	if (n->type == GUMBO_NODE_ELEMENT &&
	    n->v.element.tag_namespace == GUMBO_NAMESPACE_HTML &&
	    n->v.element.tag == GUMBO_TAG_NOSCRIPT && s->noscript > 0)
		s->noscript--;
	if (s->n_open == 0 || s->open[s->n_open - 1] != n)
		return 0;
	s->n_open--;
	san_break(s, n->v.element.tag);
	if ((rc = tr_buf_add(s->out, "</", 2)) != 0 ||
	    (rc = tr_buf_adds(s->out,
	                      gumbo_normalized_tagname(n->v.element.tag))) != 0)
		return rc;
	return tr_buf_addc(s->out, '>');
}

int
tr_html_sanitize(struct tr_buf *out, const char *html, size_t len,
                 const char *base, const struct tr_html_policy *policy)
{
	return tr_html_sanitize_text(out, NULL, html, len, base, policy);
}

/* The "text" policy: the text, escaped; and the text itself to text. */
static int
sanitize_to_text(struct tr_buf *out, struct tr_buf *text, const char *html,
                 size_t len, int tree)
{
	struct tr_buf t;
	int rc;

	tr_buf_init(&t, out->max);
	rc = tree ? tr_html_text_tree(&t, html, len, 0)
	          : tr_html_text(&t, html, len, 0);
	if (rc == 0)
		rc = put_escaped(out, tr_buf_str(&t), t.len);
	if (rc == 0 && text != NULL)
		rc = tr_buf_add(text, t.data, t.len);
	tr_buf_free(&t);
	return rc;
}

/*
 * tr_html_sanitize_text(); tree: always through Gumbo's tree, never the
 * plain-text way (for the tests that compare the two).
 */
static int
sanitize(struct tr_buf *out, struct tr_buf *text, const char *html,
         size_t len, const char *base, const struct tr_html_policy *policy,
         int tree)
{
	static const struct tr_html_policy def = {TR_HTML_DEFAULT, NULL, 0};
	struct visitor v = {san_enter, san_leave, NULL};
	struct arena a;
	struct san s;
	struct text t;
	const GumboNode *root;
	int rc;

	if (html == NULL)
		html = "", len = 0;
	if (policy == NULL)
		policy = &def;
	if (policy->mode == TR_HTML_TEXT)
		return sanitize_to_text(out, text, html, len, tree);
	/* Plain text: Gumbo's tree would be one text node of these bytes,
	 * which the walk writes escaped (san_enter), and its text is the
	 * bytes themselves (san_text: no U+FFFE or U+FFFF in plain text). */
	if (!tree && tr_html_is_plain(html, len)) {
		if ((rc = put_escaped(out, html, len)) != 0 || text == NULL)
			return rc;
		memset(&t, 0, sizeof(t));
		t.out = text;
		t.start = t.last_word = text->len;
		return text_adds(&t, html, len);
	}
	/* Each field set here, not memset: open[] (2 KiB) needs no
	 * clearing, and a body costs a few hundred instructions less. */
	s.n_open = 0;
	s.text = NULL;
	s.out = out;
	s.base = base && *base ? base : NULL;
	s.pol = policy;
	if (text != NULL) {
		/* The text of the output, built on the same walk: the one
		 * tr_html_text() would read back from it, with no second
		 * parse. */
		memset(&t, 0, sizeof(t));
		t.out = text;
		t.start = t.last_word = text->len;
		s.text = &t;
	}
	tr_buf_init(&s.scratch, out->max);
	tr_buf_init(&s.lazy, out->max);
	s.noscript = 0;
	v.arg = &s;
	do {
		size_t n = next_piece(html, len, SIZE_MAX);

		if ((root = parse_fragment(&a, html, n)) == NULL)
			rc = TR_ENOMEM;
		else
			rc = walk(root, &v);
		arena_release(&a);
		html += n;
		len -= n;
	} while (rc == 0 && len > 0);
	tr_buf_free(&s.scratch);
	tr_buf_free(&s.lazy);
	return rc < 0 ? rc : 0;
}

int
tr_html_sanitize_text(struct tr_buf *out, struct tr_buf *text,
                      const char *html, size_t len, const char *base,
                      const struct tr_html_policy *policy)
{
	return sanitize(out, text, html, len, base, policy, 0);
}

int
tr_html_sanitize_tree(struct tr_buf *out, struct tr_buf *text,
                      const char *html, size_t len, const char *base,
                      const struct tr_html_policy *policy)
{
	return sanitize(out, text, html, len, base, policy, 1);
}

int
tr_html_gumbo_only(const char *html, size_t len)
{
	struct arena a;
	int rc = 0;

	if (tr_html_is_plain(html, len))
		return 0; /* the sanitizer parses no plain text either */
	do {
		size_t n = next_piece(html, len, SIZE_MAX);

		if (parse_fragment(&a, html, n) == NULL)
			rc = TR_ENOMEM;
		arena_release(&a);
		html += n;
		len -= n;
	} while (rc == 0 && len > 0);
	return rc;
}

static int
text_enter(void *arg, const GumboNode *n)
{
	struct text *t = arg;
	int rc;

	if (t->full)
		return WALK_STOP;
	switch (n->type) {
	case GUMBO_NODE_TEXT:
	case GUMBO_NODE_WHITESPACE:
	case GUMBO_NODE_CDATA:
		rc = text_adds(t, n->v.text.text, strlen(n->v.text.text));
		return rc;
	case GUMBO_NODE_ELEMENT:
	case GUMBO_NODE_TEMPLATE:
		break;
	default:
		return 0;
	}
	if (element_action(n) == DROP)
		return 0;
	if (is_block(n->v.element.tag))
		t->space = t->out->len > t->start;
	return 1;
}

static int
text_leave(void *arg, const GumboNode *n)
{
	struct text *t = arg;

	if (n->type == GUMBO_NODE_ELEMENT && is_block(n->v.element.tag))
		t->space = t->out->len > t->start;
	return 0;
}

/* tr_html_text(); tree: never the plain-text way (see sanitize()). */
static int
text_of(struct tr_buf *out, const char *html, size_t len, size_t max_chars,
        int tree)
{
	struct visitor v = {text_enter, text_leave, NULL};
	struct arena a;
	struct text t;
	const GumboNode *root;
	size_t n;
	int rc = 0;

	if (html == NULL)
		html = "", len = 0;
	memset(&t, 0, sizeof(t));
	t.out = out;
	t.start = t.last_word = out->len;
	t.max = max_chars;
	v.arg = &t;
	/* Plain text: the tree would be one text node of these bytes, which
	 * the walk adds (text_enter); cutting it in pieces changes nothing. */
	if (!tree && tr_html_is_plain(html, len)) {
		rc = text_adds(&t, html, len);
		len = 0;
	}
	while (rc == 0 && len > 0 && !t.full) {
		n = next_piece(html, len,
		               max_chars ? (max_chars < 4096 ? 65536
		                                              : max_chars * 16)
		                         : SIZE_MAX);
		if ((root = parse_fragment(&a, html, n)) == NULL)
			rc = TR_ENOMEM;
		else if ((rc = walk(root, &v)) == WALK_STOP)
			rc = 0; /* stopped when full */
		arena_release(&a);
		html += n;
		len -= n;
	}
	if (rc != 0 || !t.full)
		return rc;
	/* Make room for the ellipsis: drop the last character. */
	n = out->len;
	while (n > t.start && ((unsigned char)out->data[n - 1] & 0xC0) == 0x80)
		n--;
	if (n > t.start)
		n--;
	tr_buf_truncate(out, n);
	/* Cut back to the last word break when it keeps most of the text. */
	if (t.last_word > t.start &&
	    (t.last_word - t.start) * 5 >= (out->len - t.start) * 4)
		tr_buf_truncate(out, t.last_word);
	return tr_buf_adds(out, "\xE2\x80\xA6");
}

int
tr_html_text(struct tr_buf *out, const char *html, size_t len,
             size_t max_chars)
{
	return text_of(out, html, len, max_chars, 0);
}

int
tr_html_text_tree(struct tr_buf *out, const char *html, size_t len,
                  size_t max_chars)
{
	return text_of(out, html, len, max_chars, 1);
}

const char *
tr_html_mode_name(enum tr_html_mode mode)
{
	return mode == TR_HTML_TEXT ? "text" : "default";
}

int
tr_html_mode_parse(enum tr_html_mode *mode, const char *name)
{
	if (strcmp(name, "default") == 0)
		*mode = TR_HTML_DEFAULT;
	else if (strcmp(name, "text") == 0)
		*mode = TR_HTML_TEXT;
	else
		return TR_EINVAL;
	return 0;
}
