/*
 * render_xsl.c — the XSLT 1.0 stylesheet that the Atom and RSS documents
 * name in an <?xml-stylesheet?> processing instruction, served at
 * /feed.xsl.
 *
 * A browser that opens a feed applies it and shows a readable page: the
 * feed's title, a hint to copy the feed's URL into a feed reader, and the
 * entries with their source, authors and dates. Feed readers ignore the
 * instruction. The stylesheet reads both formats: Atom (the default
 * namespace of render_atom.c) and RSS 2.0 with atom:link and dc:creator
 * (render_rss.c).
 *
 * Everything from the feed is written with xsl:value-of (escaped text),
 * never disable-output-escaping, and only http(s) links become links, so
 * a feed's "javascript:" link cannot run on the endpoint's origin. The
 * colours are the page's (render_html.c), which pass WCAG AA.
 *
 * Kept as a string in the binary, so the endpoint serves it without
 * files to install.
 */
#include <string.h>

#include "render_int.h"
#include "tributary/escape.h"

/* An http(s) URL test on a node-set's first value, in XSLT 1.0. */
#define IS_HTTP(x)                                                            \
	"starts-with(translate(substring(" x ", 1, 8), 'HTPS', 'htps'),"     \
	" 'https://') or starts-with(translate(substring(" x                  \
	", 1, 7), 'HTP', 'htp'), 'http://')"

/* " · by " before the first of a list of authors, ", " between. */
#define BY_SEPARATOR                                                          \
	"<xsl:choose><xsl:when test=\"position() = 1\"> · by </xsl:when>"    \
	"<xsl:otherwise>, </xsl:otherwise></xsl:choose>"

/* In parts: ISO C promises string literals of 4095 bytes only. */
static const char *const feed_xsl[] = {
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
    "<xsl:stylesheet version=\"1.0\"\n"
    "    xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\"\n"
    "    xmlns:atom=\"http://www.w3.org/2005/Atom\"\n"
    "    xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\n"
    "    exclude-result-prefixes=\"atom dc\">\n"
    "<xsl:output method=\"html\" encoding=\"utf-8\" indent=\"no\"\n"
    "    doctype-system=\"about:legacy-compat\"/>\n"
    "\n"
    "<xsl:variable name=\"title\"\n"
    "    select=\"(/atom:feed/atom:title | /rss/channel/title)[1]\"/>\n"
    "<xsl:variable name=\"self\"\n"
    "    select=\"(/atom:feed/atom:link[@rel='self']/@href |\n"
    "             /rss/channel/atom:link[@rel='self']/@href)[1]\"/>\n"
    "<xsl:variable name=\"home\"\n"
    "    select=\"(/atom:feed/atom:link[@rel='alternate']/@href |\n"
    "             /rss/channel/link)[1]\"/>\n"
    "\n"
    "<xsl:template match=\"/\">\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\"/>\n"
    "<meta name=\"viewport\" content=\"width=device-width, "
    "initial-scale=1\"/>\n"
    "<title><xsl:value-of select=\"$title\"/> (web feed)</title>\n"
    "<style>"
    "*{box-sizing:border-box}"
    "body{font:16px/1.5 system-ui,sans-serif;margin:0;color:#1b1b1b;"
    "background:#fff;overflow-wrap:anywhere}"
    ".page{max-width:50em;margin:0 auto;padding:1em}"
    "h1{font-size:1.6em;margin:.2em 0}h2{font-size:1.25em;margin:1em 0 .4em}"
    "h3{font-size:1.05em;margin:0}a{color:#0645ad}"
    ".hint{padding:.6em .9em;border-radius:4px;border-left:6px solid "
    "#0645ad;color:#1b1b1b;background:#eef3fb}"
    ".hint p{margin:.3em 0}"
    "code{font-size:.95em;padding:.1em .3em;color:#1b1b1b;"
    "background:#fff;border:1px solid #767676;border-radius:3px}"
    "article{border-top:1px solid #ddd;padding:.7em 0}"
    ".meta{color:#595959;font-size:.9em;margin:.1em 0}"
    "time{white-space:nowrap}"
    "</style>\n",
    "</head>\n"
    "<body>\n<div class=\"page\">\n<header>\n"
    "<h1><xsl:value-of select=\"$title\"/></h1>\n"
    "<div class=\"hint\" id=\"hint\">\n"
    "<p><strong>This is a web feed.</strong> To follow it, copy this URL "
    "into your feed reader:</p>\n"
    "<p><code id=\"feed-url\"><xsl:value-of select=\"$self\"/></code></p>\n"
    "<p>Feed readers do not show this page: it is here for people who "
    "open the feed in a browser.\n"
    "<xsl:if test=\"" IS_HTTP("$home") "\">\n"
    " <a href=\"{$home}\">Read the articles on the web page</a>.</xsl:if>"
    "</p>\n"
    "</div>\n</header>\n"
    "<main>\n<h2>Latest articles</h2>\n"
    "<xsl:apply-templates select=\"/atom:feed/atom:entry | "
    "/rss/channel/item\"/>\n"
    "<xsl:if test=\"not(/atom:feed/atom:entry | /rss/channel/item)\">"
    "<p>No articles yet.</p></xsl:if>\n"
    "</main>\n</div>\n</body>\n</html>\n"
    "</xsl:template>\n"
    "\n",
    /* The title, "(untitled)" when empty, linked when the link is
     * http(s). */
    "<xsl:template name=\"heading\">\n"
    "<xsl:param name=\"text\"/><xsl:param name=\"link\"/>\n"
    "<xsl:variable name=\"t\"><xsl:choose>"
    "<xsl:when test=\"normalize-space($text)\">"
    "<xsl:value-of select=\"$text\"/></xsl:when>"
    "<xsl:otherwise>(untitled)</xsl:otherwise></xsl:choose>"
    "</xsl:variable>\n"
    "<h3><xsl:choose>\n"
    "<xsl:when test=\"" IS_HTTP("$link") "\">"
    "<a href=\"{$link}\"><xsl:value-of select=\"$t\"/></a></xsl:when>\n"
    "<xsl:otherwise><xsl:value-of select=\"$t\"/></xsl:otherwise>\n"
    "</xsl:choose></h3>\n"
    "</xsl:template>\n"
    "\n"
    "<xsl:template match=\"atom:entry\">\n"
    "<article>\n"
    "<xsl:call-template name=\"heading\">\n"
    "<xsl:with-param name=\"text\" select=\"atom:title\"/>\n"
    "<xsl:with-param name=\"link\" "
    "select=\"atom:link[not(@rel) or @rel='alternate']/@href\"/>\n"
    "</xsl:call-template>\n"
    "<p class=\"meta\"><xsl:value-of select=\"atom:source/atom:title\"/>\n"
    "<xsl:for-each select=\"atom:author[atom:name != "
    "current()/atom:source/atom:title]\">\n"
    BY_SEPARATOR
    "<xsl:value-of select=\"atom:name\"/></xsl:for-each>\n"
    "<xsl:variable name=\"d\" select=\"(atom:published | "
    "atom:updated)[1]\"/>\n"
    "<xsl:if test=\"$d\"> · <time datetime=\"{$d}\"><xsl:value-of "
    "select=\"concat(substring($d, 1, 10), ' ', substring($d, 12, 5), "
    "' UTC')\"/></time></xsl:if>\n"
    "</p>\n"
    "</article>\n"
    "</xsl:template>\n"
    "\n",
    "<xsl:template match=\"item\">\n"
    "<article>\n"
    "<xsl:call-template name=\"heading\">\n"
    "<xsl:with-param name=\"text\" select=\"title\"/>\n"
    "<xsl:with-param name=\"link\" select=\"link\"/>\n"
    "</xsl:call-template>\n"
    "<p class=\"meta\"><xsl:value-of select=\"source\"/>\n"
    "<xsl:for-each select=\"dc:creator\">\n"
    BY_SEPARATOR
    "<xsl:value-of select=\".\"/></xsl:for-each>\n"
    "<xsl:if test=\"pubDate\"> · <time><xsl:value-of select=\"pubDate\"/>"
    "</time></xsl:if>\n"
    "</p>\n"
    "</article>\n"
    "</xsl:template>\n"
    "</xsl:stylesheet>\n",
};

int
tr_render_feed_xsl(struct tr_buf *out)
{
	size_t i;
	int rc = 0;

	for (i = 0; i < sizeof(feed_xsl) / sizeof(feed_xsl[0]) && rc == 0; i++)
		rc = tr_buf_adds(out, feed_xsl[i]);
	return rc;
}

int
render_stylesheet_pi(struct tr_buf *out, const char *href)
{
	int rc;

	if (href == NULL)
		return 0;
	/* xml-stylesheet pseudo-attributes take XML's references, so the
	 * escaped URL cannot end the instruction ("?>" is "?&gt;"). */
	TRY(tr_buf_adds(out, "<?xml-stylesheet type=\"text/xsl\" href=\""));
	TRY(tr_escape_xml(out, href));
	return tr_buf_adds(out, "\"?>\n");
}
