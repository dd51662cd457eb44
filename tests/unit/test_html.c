/*
 * test_html.c — item bodies: hostile and tricky HTML through the
 * sanitizer (each case with its expected safe output, and every output
 * re-parsed to check that nothing outside the allowlist survived),
 * relative URLs in bodies (in tr_html_sanitize and through the feed
 * parser, with xml:base on the feed, the entry and the content), the
 * "text" policy, and HTML to text.
 */
#include <ctype.h>
#include <gumbo.h>

#include "runner.h"
#include "tributary/buf.h"
#include "tributary/error.h"
#include "tributary/html.h"
#include "tributary/parse.h"

#define BASE "http://ex.org/d/f.xml"

static const char *const embed_hosts[] = {"youtube.com", "player.vimeo.com"};

/* Input, expected output (base BASE, embed hosts above). */
static const struct {
	const char *in, *out;
} hostile[] = {
    /* Script in every form. */
    {"<script>alert(1)</script>after", "after"},
    {"<SCRIPT SRC=//evil/x.js></SCRIPT>t", "t"},
    {"<script>document.write('<p>x</p>')</script>", ""},
    {"<scr<script>ipt>alert(1)</script>", "ipt&gt;alert(1)"},
    {"<p>a</p><script\n>b</script\n>", "<p>a</p>"},
    {"x<script>//<![CDATA[\nalert(1)//]]></script>y", "xy"},
    /* Event handlers. */
    {"<img src=x onerror=alert(1)>",
     "<img src=\"http://ex.org/d/x\" />"},
    {"<img src=x onerror=\"alert(1)\" ONLOAD='x'>",
     "<img src=\"http://ex.org/d/x\" />"},
    {"<body onload=alert(1)>b</body>", "b"},
    {"<p onclick=\"x\" onmouseover=y>p</p>", "<p>p</p>"},
    {"<svg onload=alert(1)>", ""},
    {"<svg><script>alert(1)</script></svg>t", "t"},
    {"<details open ontoggle=alert(1)><summary>s</summary>d</details>",
     "<details open=\"\"><summary>s</summary>d</details>"},
    {"<video><source onerror=\"alert(1)\"></video>", "<video></video>"},
    {"<input autofocus onfocus=alert(1)>", ""},
    {"<marquee onstart=alert(1)>m</marquee>", "m"},
    /* javascript: URLs, encoded, split, cased. */
    {"<a href=\"javascript:alert(1)\">x</a>", "<a>x</a>"},
    {"<a href=\"JaVaScRiPt:alert(1)\">x</a>", "<a>x</a>"},
    {"<a href=\"  javascript:alert(1)\">x</a>", "<a>x</a>"},
    {"<a href=\"jav&#x09;ascript:alert(1)\">x</a>", "<a>x</a>"},
    {"<a href=\"jav\tascript:alert(1)\">x</a>", "<a>x</a>"},
    {"<a href=\"java&#10;script:alert(1)\">x</a>", "<a>x</a>"},
    {"<a href=\"java&#13;script:alert(1)\">x</a>", "<a>x</a>"},
    {"<a href=\"&#x01;javascript:alert(1)\">x</a>", "<a>x</a>"},
    {"<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;"
     "&#58;alert(1)\">x</a>",
     "<a>x</a>"},
    {"<a href=\"&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;"
     "&#x74;&#x3A;alert(1)\">x</a>",
     "<a>x</a>"},
    {"<a href=\"&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099"
     "&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)\">x</a>",
     "<a>x</a>"},
    {"<a href=\"javascript&colon;alert(1)\">x</a>", "<a>x</a>"},
    {"<a href=javascript:alert(1)>x</a>", "<a>x</a>"},
    {"<a href=\"vbscript:msgbox(1)\">v</a>", "<a>v</a>"},
    {"<a href=\"livescript:x\">l</a>", "<a>l</a>"},
    {"<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">"
     "d</a>",
     "<a>d</a>"},
    {"<a href=\"data:text/html,<script>alert(1)</script>\">d</a>",
     "<a>d</a>"},
    {"<img src=\"javascript:alert(1)\">", ""},
    {"<img src=\"data:image/svg+xml,<svg onload=alert(1)>\">", ""},
    {"<img src=\"data:image/png;base64,iVBORw0KGgo=\">",
     "<img src=\"data:image/png;base64,iVBORw0KGgo=\" />"},
    {"<a href=\"data:image/png;base64,iVBORw0KGgo=\">i</a>", "<a>i</a>"},
    {"<img srcset=\"javascript:alert(1) 1x, /a.png 2x\">",
     "<img srcset=\"http://ex.org/a.png 2x\" />"},
    {"<img srcset=\"a.png (x, javascript:alert(1)) 2x, b.png 1x\">",
     "<img srcset=\"http://ex.org/d/b.png 1x\" />"},
    /* A URL that resolves to one ending in ',' (found by the fuzzer). */
    {"<img srcset=\"x,?,\" src=y>", "<img src=\"http://ex.org/d/y\" />"},
    {"<img src=a.png srcset=\"javascript:alert(1)\">",
     "<img src=\"http://ex.org/d/a.png\" />"},
    {"<video poster=\"javascript:alert(1)\" src=v.mp4></video>",
     "<video src=\"http://ex.org/d/v.mp4\"></video>"},
    {"<blockquote cite=\"javascript:alert(1)\">q</blockquote>",
     "<blockquote>q</blockquote>"},
    {"<img src=\"x:alert(1)\">", ""},
    /* An image without a usable source keeps its alternative text. */
    {"<img alt=\"\xeb\x85\x84\" />", "<img alt=\"\xeb\x85\x84\" />"},
    {"<img src=\"javascript:alert(1)\" alt=\"a &lt;b&gt;\">",
     "<img alt=\"a &lt;b&gt;\" />"},
    {"<img alt=\"\">", ""},
    {"<img>", ""},
    /*
     * Links of the schemes that open an application and run nothing in
     * the page stay, in links only; every other scheme goes.
     */
    {"<a href=\"magnet:?xt=urn:btih:c12f&amp;dn=a+b\">m</a>",
     "<a href=\"magnet:?xt=urn:btih:c12f&amp;dn=a+b\" "
     "rel=\"noopener noreferrer\">m</a>"},
    {"<a href=\"TEL:+1-555-0100\">t</a>",
     "<a href=\"TEL:+1-555-0100\" rel=\"noopener noreferrer\">t</a>"},
    {"<a href=\" ftp://ftp.ex.org/f.txt\">f</a>",
     "<a href=\"ftp://ftp.ex.org/f.txt\" rel=\"noopener noreferrer\">f</a>"},
    {"<a href=\"webcal://ex.org/c.ics\">w</a><a href=\"irc://irc.ex.org/c\">"
     "i</a><a href=\"xmpp:me@ex.org\">x</a><a href=\"sms:+15550100\">s</a>",
     "<a href=\"webcal://ex.org/c.ics\" rel=\"noopener noreferrer\">w</a>"
     "<a href=\"irc://irc.ex.org/c\" rel=\"noopener noreferrer\">i</a>"
     "<a href=\"xmpp:me@ex.org\" rel=\"noopener noreferrer\">x</a>"
     "<a href=\"sms:+15550100\" rel=\"noopener noreferrer\">s</a>"},
    {"<a href=\"m&#x09;agnet:?xt=1\">m</a>",
     "<a href=\"magnet:?xt=1\" rel=\"noopener noreferrer\">m</a>"},
    {"<a href=\"feed:javascript:alert(1)\">x</a>", "<a>x</a>"},
    {"<a href=\"ms-msdt:/id PCWDiagnostic\">x</a>", "<a>x</a>"},
    {"<a href=\"steam://run/1\">x</a>", "<a>x</a>"},
    {"<a href=\"telx:1\">x</a><a href=\"te:1\">y</a>", "<a>x</a><a>y</a>"},
    {"<a href=\"vbscript:msgbox(1)\">x</a>", "<a>x</a>"},
    {"<img src=\"magnet:?xt=1\" alt=\"a\">", "<img alt=\"a\" />"},
    {"<video src=\"ftp://ex.org/v.mp4\"></video>", "<video></video>"},
    {"<blockquote cite=\"tel:1\">q</blockquote>",
     "<blockquote>q</blockquote>"},
    {"<img srcset=\"ftp://ex.org/a.png 1x, b.png 2x\">",
     "<img srcset=\"http://ex.org/d/b.png 2x\" />"},
    /* An http URL without "//" means another thing to each reader. */
    {"<a href=\"https:evil.example/x\">x</a>", "<a>x</a>"},
    {"<a href=\"http:\\\\evil.example\">x</a>", "<a>x</a>"},
    /* Embedding and active elements. */
    {"<iframe src=\"javascript:alert(1)\"></iframe>", ""},
    {"<iframe src=\"data:text/html,<script>alert(1)</script>\"></iframe>",
     ""},
    {"<iframe src=\"https://evil.example/\">inside</iframe>t", "t"},
    {"<iframe srcdoc=\"<script>alert(1)</script>\"></iframe>", ""},
    {"<object data=\"javascript:alert(1)\">fallback</object>", "fallback"},
    {"<embed src=\"evil.swf\">", ""},
    {"<applet code=\"x\">a</applet>", "a"},
    {"<frameset><frame src=\"javascript:alert(1)\"></frameset>", ""},
    {"<canvas>c</canvas>", "c"},
    /* What a browser shows of them when they do nothing: the fallback
     * content, sanitized like the rest; their params and embeds go. */
    {"safe<object classid=\"clsid:C932BA85\"> <b>description</b>",
     "safe <b>description</b>"},
    {"<object data=\"x.swf\"><param name=\"movie\" value=\"x.swf\">"
     "<embed src=\"x.swf\"><p onclick=\"x()\">Get the plugin</p></object>",
     "<p>Get the plugin</p>"},
    {"<applet code=\"a.class\"><param name=\"p\" value=\"1\">No Java"
     "<script>alert(1)</script></applet>", "No Java"},
    {"<canvas id=\"c\"><img src=\"chart.png\" alt=\"chart\"></canvas>",
     "<img src=\"http://ex.org/d/chart.png\" alt=\"chart\" />"},
    {"<marquee behavior=\"scroll\"><b>News</b><script>x()</script>"
     "</marquee>", "<b>News</b>"},
    {"<map name=\"m\"><area href=\"javascript:alert(1)\" shape=\"rect\">"
     "<a href=\"/p\">P</a></map>",
     "<a href=\"http://ex.org/p\" rel=\"noopener noreferrer\">P</a>"},
    /* Forms and their controls. */
    {"<form action=\"javascript:alert(1)\"><p>in</p></form>", "<p>in</p>"},
    {"<form><button formaction=\"javascript:alert(1)\">X</button></form>",
     ""},
    {"<input type=\"image\" src=\"x\" formaction=\"javascript:alert(1)\">",
     ""},
    /* Gumbo expands isindex the way HTML5 once did: hr, text, input. */
    {"<isindex action=\"javascript:alert(1)\" type=image>",
     "<hr />This is a searchable index. Enter search keywords: <hr />"},
    {"<select><option>o</option></select><textarea><b>t</b></textarea>",
     ""},
    /* Style in every form. */
    {"<style>body{background:url(javascript:alert(1))}</style>s", "s"},
    {"<div style=\"background:url(javascript:alert(1))\">x</div>",
     "<div>x</div>"},
    {"<p style=\"width: expression(alert(1))\">x</p>", "<p>x</p>"},
    {"<p STYLE=\"behavior: url(x.htc)\">x</p>", "<p>x</p>"},
    {"<link rel=stylesheet href=\"javascript:alert(1)\">l", "l"},
    /* The document's head. */
    {"<base href=\"http://evil.example/\"><a href=\"x\">y</a>",
     "<a href=\"http://ex.org/d/x\" rel=\"noopener noreferrer\">y</a>"},
    {"<meta http-equiv=\"refresh\" content=\"0;url=javascript:alert(1)\">t",
     "t"},
    {"<title>t</title>body", "body"},
    {"<html><head><script>x</script></head><body>b</body></html>", "b"},
    /* Parser tricks: mXSS, raw text, foreign content, broken markup. */
    {"<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
     "<p title=\"&lt;/noscript&gt;&lt;img src=x onerror=alert(1)&gt;\">"
     "</p>"},
    {"<noscript><noscript><img src=a.png></noscript></noscript>",
     "<img src=\"http://ex.org/d/a.png\" />"},
    {"<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
     "<table></table>"},
    {"<math><mi xlink:href=\"javascript:alert(1)\">x</mi></math>", "x"},
    {"<svg><a xlink:href=\"javascript:alert(1)\"><text>t</text></a></svg>",
     ""},
    {"<img src=\"x\" alt=\"</script><script>alert(1)</script>\">",
     "<img src=\"http://ex.org/d/x\" "
     "alt=\"&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;\" />"},
    {"<a title=\"\"><img src=x onerror=alert(1)>\">t</a>",
     "<a title=\"\"><img src=\"http://ex.org/d/x\" />&quot;&gt;t</a>"},
    {"<xmp><img src=x onerror=alert(1)></xmp>", ""},
    {"<plaintext><script>alert(1)</script>", ""},
    {"<template><img src=x onerror=alert(1)></template>", ""},
    {"<!--<img src=x onerror=alert(1)>-->c", "c"},
    {"<!-- --!><img src=x onerror=alert(1)> -->",
     "<img src=\"http://ex.org/d/x\" /> --&gt;"},
    {"<?xml-stylesheet href=\"javascript:alert(1)\"?>p", "p"},
    /* Outside foreign content CDATA is a bogus comment up to the '>'. */
    {"<![CDATA[<script>alert(1)</script>]]>", "alert(1)]]&gt;"},
    {"<b>unclosed <i>tags", "<b>unclosed <i>tags</i></b>"},
    {"<p>a<p>b", "<p>a</p><p>b</p>"},
    {"</p></div>stray", "<p></p>stray"},
    {"<a href=x>one<a href=y>two</a>",
     "<a href=\"http://ex.org/d/x\" rel=\"noopener noreferrer\">one</a>"
     "<a href=\"http://ex.org/d/y\" rel=\"noopener noreferrer\">two</a>"},
    {"<img src=\"a.png\"", ""},
    {"<div id=x class=y name=z data-x=1>c</div>", "<div>c</div>"},
    {"<a href=\"https://ok.example/\" target=_blank rel=opener>t</a>",
     "<a href=\"https://ok.example/\" rel=\"noopener noreferrer\">t</a>"},
    /* Text and entities come out valid in XML. */
    {"1 < 2 & 3 > 2 \"q\"", "1 &lt; 2 &amp; 3 &gt; 2 &quot;q&quot;"},
    {"&lt;script&gt;alert(1)&lt;/script&gt;",
     "&lt;script&gt;alert(1)&lt;/script&gt;"},
    {"&nbsp;&eacute;&#x1F600;&amp", "\xc2\xa0\xc3\xa9\xf0\x9f\x98\x80&amp;"},
    /* Gumbo reads C0 controls in text as U+FFFD, &#0; too. */
    {"a\x01\x08\x0b" "b&#0;c",
     "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" "b\xef\xbf\xbd" "c"},
    {"bad \xff utf8", "bad \xef\xbf\xbd utf8"},
    {"<p title=\"a&#10;b\">t</p>", "<p title=\"a\nb\">t</p>"},
    /* What articles keep. */
    {"<figure><img src=\"/i.jpg\" alt=\"A\" width=\"10\" height=\"5\">"
     "<figcaption>Cap</figcaption></figure>",
     "<figure><img src=\"http://ex.org/i.jpg\" alt=\"A\" width=\"10\" "
     "height=\"5\" /><figcaption>Cap</figcaption></figure>"},
    {"<table><tr><td colspan=2 background=\"javascript:x\">c</td></tr>"
     "</table>",
     "<table><tbody><tr><td colspan=\"2\">c</td></tr></tbody></table>"},
    {"<pre><code>if (a &lt; b)\n  x();</code></pre>",
     "<pre><code>if (a &lt; b)\n  x();</code></pre>"},
    {"<ul><li>a<li>b</ul><ol start=3><li>c</ol>",
     "<ul><li>a</li><li>b</li></ul><ol start=\"3\"><li>c</li></ol>"},
    {"<h2>H</h2><blockquote cite=\"q.html\"><p>Q</p></blockquote>",
     "<h2>H</h2><blockquote cite=\"http://ex.org/d/q.html\"><p>Q</p>"
     "</blockquote>"},
    {"<p>E = mc<sup>2</sup>, H<sub>2</sub>O, <abbr title=\"x\">X</abbr>"
     "<br>end<hr></p>",
     "<p>E = mc<sup>2</sup>, H<sub>2</sub>O, <abbr title=\"x\">X</abbr>"
     "<br />end</p><hr /><p></p>"},
    {"<video src=v.mp4 poster=p.jpg autoplay controls><source src=s.webm "
     "type=video/webm><track src=t.vtt kind=subtitles></video>",
     "<video src=\"http://ex.org/d/v.mp4\" poster=\"http://ex.org/d/p.jpg\" "
     "controls=\"\"><source src=\"http://ex.org/d/s.webm\" "
     "type=\"video/webm\" /><track src=\"http://ex.org/d/t.vtt\" "
     "kind=\"subtitles\" /></video>"},
    {"<a href=\"#frag\">f</a> <a href=\"mailto:a@b.example\">m</a>",
     "<a href=\"#frag\" rel=\"noopener noreferrer\">f</a> "
     "<a href=\"mailto:a@b.example\" rel=\"noopener noreferrer\">m</a>"},
    {"<span class=\"x\"><font color=red>f</font></span>", "f"},
    /* Iframes from the embed hosts only, sandboxed and empty. */
    {"<iframe src=\"https://www.youtube.com/embed/x\" width=560 "
     "onload=alert(1) allowfullscreen>fallback</iframe>",
     "<iframe src=\"https://www.youtube.com/embed/x\" width=\"560\" "
     "allowfullscreen=\"\" sandbox=\"allow-scripts allow-same-origin "
     "allow-popups allow-presentation\" referrerpolicy=\"no-referrer\">"
     "</iframe>"},
    {"<iframe src=\"https://youtube.com.evil.example/embed/x\"></iframe>",
     ""},
    {"<iframe src=\"https://notyoutube.com/embed/x\"></iframe>", ""},
    {"<iframe src=\"//player.vimeo.com/video/1\"></iframe>",
     "<iframe src=\"http://player.vimeo.com/video/1\" "
     "sandbox=\"allow-scripts allow-same-origin allow-popups "
     "allow-presentation\" referrerpolicy=\"no-referrer\"></iframe>"},
};

/* Elements a sanitized body may hold, for the re-parse check. */
static const char *const allowed_tags[] = {
    "a",      "abbr",    "acronym",    "address", "article", "aside",
    "audio",  "b",       "bdi",        "bdo",     "big",     "blockquote",
    "br",     "caption", "center",     "cite",    "code",    "col",
    "colgroup", "data",  "dd",         "del",     "details", "dfn",
    "div",    "dl",      "dt",         "em",      "figcaption", "figure",
    "footer", "h1",      "h2",         "h3",      "h4",      "h5",
    "h6",     "header",  "hgroup",     "hr",      "i",       "iframe",
    "img",    "ins",     "kbd",        "li",      "main",    "mark",
    "ol",     "p",       "pre",        "q",       "rb",      "rp",
    "rt",     "rtc",     "ruby",       "s",       "samp",    "section",
    "small",  "source",  "strike",     "strong",  "sub",     "summary",
    "sup",    "table",   "tbody",      "td",      "tfoot",   "th",
    "thead",  "time",    "tr",         "track",   "tt",      "u",
    "ul",     "var",     "video",      "wbr",     "html",    NULL};

static int
listed(const char *const *list, const char *s)
{
	for (; *list; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

/*
 * Whether URL value v has a scheme other than http, https, mailto (and
 * data in an img src, and the application schemes in a link's href).
 */
static int
bad_scheme(const char *v, int is_img_src, int is_link)
{
	static const char *const app[] = {
	    "callto", "ftp",  "ftps", "geo",  "gopher", "irc", "irc6",
	    "ircs",   "magnet", "matrix", "news", "nntp", "sftp", "sip",
	    "sips",   "sms",  "tel",  "webcal", "xmpp", NULL};
	char s[16];
	size_t n = 0;

	for (; *v && n < sizeof(s) - 1; v++) {
		if (*v == ':')
			break;
		if (!isspace((unsigned char)*v) && (unsigned char)*v > ' ')
			s[n++] = (char)tolower((unsigned char)*v);
	}
	s[n] = '\0';
	if (*v != ':')
		return 0;
	if (is_img_src && strncmp(s, "data", 4) == 0)
		return 0;
	if (is_link && listed(app, s))
		return 0;
	return strcmp(s, "http") != 0 && strcmp(s, "https") != 0 &&
	       strcmp(s, "mailto") != 0;
}

/*
 * Re-parses a sanitized body the way a browser would and counts what
 * must not be there: elements outside the allowlist, elements of a
 * foreign namespace, on* and style attributes, URLs with another scheme,
 * comments. Iterative with an explicit stack.
 */
static int
unsafe_count(const char *html)
{
	GumboOptions o = kGumboDefaultOptions;
	GumboOutput *g;
	const GumboNode *stack[4096];
	size_t sp = 0, i;
	int bad = 0;

	o.fragment_context = GUMBO_TAG_DIV;
	g = gumbo_parse_with_options(&o, html, strlen(html));
	stack[sp++] = g->root;
	while (sp > 0) {
		const GumboNode *n = stack[--sp];
		const GumboElement *e;

		if (n->type == GUMBO_NODE_COMMENT)
			bad++;
		if (n->type != GUMBO_NODE_ELEMENT)
			continue;
		e = &n->v.element;
		if (e->tag_namespace != GUMBO_NAMESPACE_HTML ||
		    e->tag == GUMBO_TAG_UNKNOWN ||
		    !listed(allowed_tags, gumbo_normalized_tagname(e->tag)))
			bad++;
		for (i = 0; i < e->attributes.length; i++) {
			const GumboAttribute *a = e->attributes.data[i];

			if (strncmp(a->name, "on", 2) == 0 ||
			    strcmp(a->name, "style") == 0 ||
			    strcmp(a->name, "srcdoc") == 0 ||
			    strcmp(a->name, "formaction") == 0)
				bad++;
			if ((strcmp(a->name, "href") == 0 ||
			     strcmp(a->name, "src") == 0 ||
			     strcmp(a->name, "poster") == 0 ||
			     strcmp(a->name, "cite") == 0) &&
			    bad_scheme(a->value, e->tag == GUMBO_TAG_IMG,
			               e->tag == GUMBO_TAG_A &&
			                   strcmp(a->name, "href") == 0))
				bad++;
			if (strcmp(a->name, "srcset") == 0 &&
			    strstr(a->value, "script:") != NULL)
				bad++;
		}
		for (i = 0; i < e->children.length && sp < 4096; i++)
			stack[sp++] = e->children.data[i];
	}
	gumbo_destroy_output(&o, g);
	return bad;
}

static char *
sanitize(const char *in, const char *base, enum tr_html_mode mode)
{
	struct tr_html_policy pol = {mode, embed_hosts, 2};
	struct tr_buf b;
	int rc;

	tr_buf_init(&b, 1 << 20);
	rc = tr_html_sanitize(&b, in, strlen(in), base, &pol);
	CHECK_INT(rc, 0);
	return tr_buf_detach(&b);
}

static void
test_hostile(void)
{
	size_t i;

	CHECK(sizeof(hostile) / sizeof(hostile[0]) >= 60);
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		char *got = sanitize(hostile[i].in, BASE, TR_HTML_DEFAULT);

		CHECK_STR_CASE(hostile[i].in, got, hostile[i].out);
		CHECK_INT(unsafe_count(got), 0);
		free(got);
	}
}

/* Each case's output, sanitized again, stays the same. */
static void
test_idempotent(void)
{
	size_t i;

	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++) {
		char *once = sanitize(hostile[i].in, BASE, TR_HTML_DEFAULT);
		char *twice = sanitize(once, BASE, TR_HTML_DEFAULT);

		CHECK_STR_CASE(hostile[i].in, twice, once);
		free(once);
		free(twice);
	}
}

/* The "text" policy keeps no markup at all. */
static void
test_text_policy(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	    {"<p>Hello <b>world</b></p><p>again</p>", "Hello world again"},
	    {"<script>alert(1)</script><img src=x onerror=alert(1)>t", "t"},
	    {"a &lt;b&gt; &amp; \"c\"", "a &lt;b&gt; &amp; &quot;c&quot;"},
	    {"<a href=\"javascript:x\">link</a>", "link"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = sanitize(cases[i].in, BASE, TR_HTML_TEXT);

		CHECK_STR_CASE(cases[i].in, got, cases[i].out);
		free(got);
	}
}

/* Base, input, expected: relative references in bodies. */
static const struct {
	const char *base, *in, *out;
} relative[] = {
    {"http://ex.org/d/f.xml", "<a href=\"a.html\">x</a>",
     "<a href=\"http://ex.org/d/a.html\" rel=\"noopener noreferrer\">x</a>"},
    {"http://ex.org/d/f.xml", "<a href=\"/root\">x</a>",
     "<a href=\"http://ex.org/root\" rel=\"noopener noreferrer\">x</a>"},
    {"http://ex.org/d/e/f.xml", "<a href=\"../up?q=1#s\">x</a>",
     "<a href=\"http://ex.org/d/up?q=1#s\" rel=\"noopener noreferrer\">"
     "x</a>"},
    {"https://ex.org/d/f.xml", "<img src=\"//cdn.ex.org/i.png\">",
     "<img src=\"https://cdn.ex.org/i.png\" />"},
    {"http://ex.org/d/f.xml?x=1", "<a href=\"?y=2\">x</a>",
     "<a href=\"http://ex.org/d/f.xml?y=2\" rel=\"noopener noreferrer\">"
     "x</a>"},
    /* Whitespace around, and tabs and newlines inside, are dropped. */
    {"http://ex.org/d/", "<a href=\"  \n p.html\t \">x</a>",
     "<a href=\"http://ex.org/d/p.html\" rel=\"noopener noreferrer\">x</a>"},
    {"http://ex.org/d/", "<img src=\"i\nmg.png\">",
     "<img src=\"http://ex.org/d/img.png\" />"},
    /* Already absolute, mailto and fragments: as they are. */
    {"http://ex.org/d/", "<a href=\"https://other.example/A%20b?c\">x</a>",
     "<a href=\"https://other.example/A%20b?c\" rel=\"noopener noreferrer\">"
     "x</a>"},
    {"http://ex.org/d/", "<a href=\"HTTP://Other.example/\">x</a>",
     "<a href=\"HTTP://Other.example/\" rel=\"noopener noreferrer\">x</a>"},
    {"http://ex.org/d/", "<a href=\"mailto:me@ex.org\">x</a>",
     "<a href=\"mailto:me@ex.org\" rel=\"noopener noreferrer\">x</a>"},
    {"http://ex.org/d/", "<a href=\"#top\">x</a>",
     "<a href=\"#top\" rel=\"noopener noreferrer\">x</a>"},
    /* srcset: every candidate, descriptors kept, commas in URLs. */
    {"http://ex.org/d/",
     "<img srcset=\"a.png 1x,b.png 2x , /c,d.png 3x\">",
     "<img srcset=\"http://ex.org/d/a.png 1x, http://ex.org/d/b.png 2x, "
     "http://ex.org/c,d.png 3x\" />"},
    {"http://ex.org/d/", "<img srcset=\"s.jpg 480w, l.jpg 1080w\" "
                         "sizes=\"(max-width: 600px) 480px, 800px\">",
     "<img srcset=\"http://ex.org/d/s.jpg 480w, http://ex.org/d/l.jpg "
     "1080w\" sizes=\"(max-width: 600px) 480px, 800px\" />"},
    {"http://ex.org/d/", "<picture><source srcset=\"w.webp\" "
                         "type=\"image/webp\"><img src=\"j.jpg\"></picture>",
     "<source srcset=\"http://ex.org/d/w.webp\" type=\"image/webp\" />"
     "<img src=\"http://ex.org/d/j.jpg\" />"},
    /*
     * srcset descriptors as the HTML5 srcset parser reads them: one width
     * (an integer above zero) or one density (a number not below zero),
     * a height only beside a width; any other candidate is left out.
     */
    {"http://ex.org/d/",
     "<img srcset=\"/1x.jpg 1x,/2x.jpg\t2.0x, /3.jpg  3x  , /4.jpg\">",
     "<img srcset=\"http://ex.org/1x.jpg 1x, http://ex.org/2x.jpg 2.0x, "
     "http://ex.org/3.jpg 3x, http://ex.org/4.jpg\" />"},
    {"http://ex.org/d/",
     "<img srcset=\"a 1.0x, b 9.5x, c 39.95x, d 1e1x, e 2E2x, f .5x, "
     "g 0x, h 1e+2x, i -0x, j 1e-1x\">",
     "<img srcset=\"http://ex.org/d/a 1.0x, http://ex.org/d/b 9.5x, "
     "http://ex.org/d/c 39.95x, http://ex.org/d/d 1e1x, "
     "http://ex.org/d/e 2E2x, http://ex.org/d/f .5x, http://ex.org/d/g 0x, "
     "http://ex.org/d/h 1e+2x, http://ex.org/d/i -0x, "
     "http://ex.org/d/j 1e-1x\" />"},
    {"http://ex.org/d/", "<img srcset=\" /,.jpg 6x,\n /,,,,.webp \t1e100x\">",
     "<img srcset=\"http://ex.org/,.jpg 6x, http://ex.org/,,,,.webp "
     "1e100x\" />"},
    {"http://ex.org/d/", "<img srcset=\"a 600w, b 0100w, c 600w 300h\">",
     "<img srcset=\"http://ex.org/d/a 600w, http://ex.org/d/b 0100w, "
     "http://ex.org/d/c 600w 300h\" />"},
    {"http://ex.org/d/",
     "<img src=ok srcset=\"a 1.5w, b 9000X, c -23w, d -60x, e 0w, f +1x, "
     "g 1.x, h 1e2.5x, i 1x 2x, j 100w 2x, k 100h, l 1x 100h, m 1w 1w, "
     "n 100w 1h 2h, o x, p w, q 1y, r 1e, s --1x, t 1..5x\">",
     "<img src=\"http://ex.org/d/ok\" />"},
    /*
     * Lazy-loaded images: the source a page's script would move into src
     * (srcset) replaces the placeholder, and the <noscript> copy of the
     * same image goes; an unsafe lazy source changes nothing.
     */
    {"http://ex.org/d/",
     "<img src=\"data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAA"
     "EAAAICTAEAOw==\" data-src=\"/real.jpg\" alt=\"a\"><noscript><img "
     "src=\"/real.jpg\" alt=\"a\"></noscript>",
     "<img alt=\"a\" src=\"http://ex.org/real.jpg\" />"},
    {"http://ex.org/d/",
     "<img data-lazy-src=\"big.jpg\" data-lazy-srcset=\"big.jpg 1x, b2.jpg "
     "2x\" src=\"/wp/lazy_placeholder.gif\" srcset=\"p.gif 1x\">",
     "<img src=\"http://ex.org/d/big.jpg\" srcset=\"http://ex.org/d/big.jpg "
     "1x, http://ex.org/d/b2.jpg 2x\" />"},
    {"http://ex.org/d/", "<img data-original=\"o.png\"><img data-lazy=l.png>",
     "<img src=\"http://ex.org/d/o.png\" /><img src=\"http://ex.org/d/l.png\" "
     "/>"},
    {"http://ex.org/d/",
     "<img data-src=\"javascript:alert(1)\" data-lazy-src=\"data:image/png,"
     "x\" data-srcset=\"javascript:x 1x\" src=\"ok.png\">",
     "<img src=\"http://ex.org/d/ok.png\" />"},
    {"http://ex.org/d/",
     "<picture><source data-srcset=\"a.webp 1x\" type=\"image/webp\">"
     "<img data-src=\"a.jpg\"></picture>",
     "<source type=\"image/webp\" srcset=\"http://ex.org/d/a.webp 1x\" />"
     "<img src=\"http://ex.org/d/a.jpg\" />"},
    /* Only the fallback of a lazy image goes: other <noscript> images,
     * and the same image outside <noscript>, stay. */
    {"http://ex.org/d/",
     "<img data-src=\"x.jpg\"><noscript><p>t <img src=\"x.jpg\"> "
     "<img src=\"y.jpg\"></p></noscript><img src=\"x.jpg\">",
     "<img src=\"http://ex.org/d/x.jpg\" /><p>t  <img "
     "src=\"http://ex.org/d/y.jpg\" /></p><img src=\"http://ex.org/d/x.jpg\" "
     "/>"},
    {"http://ex.org/d/", "<noscript><img src=\"/n.jpg\"></noscript>",
     "<img src=\"http://ex.org/n.jpg\" />"},
    {"http://ex.org/d/", "<video data-src=\"v.mp4\" src=\"w.mp4\"></video>",
     "<video src=\"http://ex.org/d/w.mp4\"></video>"},
    /* poster, cite, longdesc. */
    {"http://ex.org/d/", "<video poster=\"p.jpg\"></video>",
     "<video poster=\"http://ex.org/d/p.jpg\"></video>"},
    {"http://ex.org/d/", "<q cite=\"src.html\">q</q>",
     "<q cite=\"http://ex.org/d/src.html\">q</q>"},
    {"http://ex.org/d/", "<img src=\"i.png\" longdesc=\"ld.html\">",
     "<img src=\"http://ex.org/d/i.png\" longdesc=\"http://ex.org/d/ld.html\" "
     "/>"},
    /* Non-ASCII paths are percent-encoded by the resolution. */
    {"http://ex.org/d/", "<a href=\"\xc3\xbc/caf\xc3\xa9.html\">x</a>",
     "<a href=\"http://ex.org/d/%c3%bc/caf%c3%a9.html\" "
     "rel=\"noopener noreferrer\">x</a>"},
    /* No base: a relative URL cannot be made absolute and goes. */
    {NULL, "<a href=\"rel.html\">x</a><img src=\"i.png\">", "<a>x</a>"},
    {NULL, "<a href=\"https://abs.example/\">x</a>",
     "<a href=\"https://abs.example/\" rel=\"noopener noreferrer\">x</a>"},
};

static void
test_relative(void)
{
	size_t i;

	for (i = 0; i < sizeof(relative) / sizeof(relative[0]); i++) {
		char *got = sanitize(relative[i].in, relative[i].base,
		                     TR_HTML_DEFAULT);

		CHECK_STR_CASE(relative[i].in, got, relative[i].out);
		free(got);
	}
}

/* --- through the feed parser: xml:base in scope ----------------------- */

struct collected {
	char summary[8][512];
	char content[8][512];
	char title[8][256];
	size_t n;
};

static int
collect(const struct tr_article *a, void *arg)
{
	struct collected *c = arg;

	if (c->n < 8) {
		snprintf(c->summary[c->n], sizeof(c->summary[0]), "%s",
		         a->summary ? a->summary : "(null)");
		snprintf(c->content[c->n], sizeof(c->content[0]), "%s",
		         a->content ? a->content : "(null)");
		snprintf(c->title[c->n], sizeof(c->title[0]), "%s",
		         a->title ? a->title : "(null)");
	}
	c->n++;
	return 0;
}

static void
parse_doc(struct collected *c, const char *doc, const char *url,
          int raw)
{
	struct tr_parse_opts o;
	struct tr_parser *p = NULL;

	memset(c, 0, sizeof(*c));
	memset(&o, 0, sizeof(o));
	o.base_url = url;
	o.raw_html = raw;
	CHECK_INT(tr_parser_new(&p, &o, collect, c), 0);
	CHECK_INT(tr_parser_feed(p, doc, strlen(doc)), 0);
	CHECK_INT(tr_parser_finish(p), 0);
	tr_parser_free(p);
}

/* Counts the sanitized links of the one item's summary into *arg. */
static int
collect_all(const struct tr_article *a, void *arg)
{
	const char *q = a->summary;
	int *n = arg;

	while (q && (q = strstr(q, "rel=\"noopener noreferrer\"")) != NULL) {
		(*n)++;
		q++;
	}
	return 0;
}

#define A(x) "<a href=\"" x "\">l</a>"
#define ABS(x) "<a href=\"" x "\" rel=\"noopener noreferrer\">l</a>"

static void
test_xml_base(void)
{
	static const char atom[] =
	    "<feed xmlns=\"http://www.w3.org/2005/Atom\" "
	    "xml:base=\"http://feed.example/blog/\">"
	    "<title>t</title>"
	    /* the feed's base */
	    "<entry><id>1</id><title>a</title>"
	    "<summary type=\"html\">&lt;a href=\"p1.html\"&gt;l&lt;/a&gt;"
	    "</summary></entry>"
	    /* the entry's base, relative to the feed's */
	    "<entry xml:base=\"2024/\"><id>2</id><title>b</title>"
	    "<content type=\"html\">&lt;img src=\"i.png\"&gt;</content>"
	    "</entry>"
	    /* the content element's own, relative to the entry's */
	    "<entry xml:base=\"/other/\"><id>3</id><title>c</title>"
	    "<content type=\"html\" xml:base=\"sub/\">"
	    "&lt;a href=\"../x.html\"&gt;l&lt;/a&gt;</content>"
	    "<summary type=\"html\" xml:base=\"http://abs.example/s/\">"
	    "&lt;a href=\"y.html\"&gt;l&lt;/a&gt;</summary>"
	    "</entry>"
	    /* xhtml content (resolved by the parser too) */
	    "<entry xml:base=\"x/\"><id>4</id><title>d</title>"
	    "<content type=\"xhtml\"><div xmlns=\"http://www.w3.org/1999/"
	    "xhtml\"><a href=\"z.html\" onclick=\"evil()\">l</a></div>"
	    "</content></entry>"
	    "</feed>";
	static const char rss[] =
	    "<rss version=\"2.0\" xmlns:content=\"http://purl.org/rss/1.0/"
	    "modules/content/\"><channel><title>r</title>"
	    "<item><title>&lt;img alt=\"a&gt;b\"&gt;Title</title>"
	    "<description>&lt;a href=\"d.html\"&gt;l&lt;/a&gt;"
	    "&lt;script&gt;x()&lt;/script&gt;</description>"
	    "<content:encoded><![CDATA[<a href=\"/c.html\">l</a>]]>"
	    "</content:encoded></item></channel></rss>";
	struct collected c;

	parse_doc(&c, atom, "http://doc.example/feed.xml", 0);
	CHECK_INT(c.n, 4);
	CHECK_STR(c.summary[0], ABS("http://feed.example/blog/p1.html"));
	CHECK_STR(c.content[1],
	          "<img src=\"http://feed.example/blog/2024/i.png\" />");
	CHECK_STR(c.content[2], ABS("http://feed.example/other/x.html"));
	CHECK_STR(c.summary[2], ABS("http://abs.example/s/y.html"));
	CHECK_STR(c.content[3], ABS("http://feed.example/blog/x/z.html"));
	/* The document's URL (after redirects) when there is no xml:base. */
	parse_doc(&c, rss, "https://final.example/news/rss", 0);
	CHECK_INT(c.n, 1);
	CHECK_STR(c.summary[0], ABS("https://final.example/news/d.html"));
	CHECK_STR(c.content[0], ABS("https://final.example/c.html"));
	CHECK_STR(c.title[0], "Title");
	/* raw_html: the bodies as the feed has them. */
	parse_doc(&c, rss, "https://final.example/news/rss", 1);
	CHECK_STR(c.summary[0], A("d.html") "<script>x()</script>");
	CHECK_STR(c.content[0], A("/c.html"));
}

/* A body that grows when sanitized (absolute URLs, rel) is kept whole. */
static void
test_growth_in_parser(void)
{
	struct tr_parse_opts o;
	struct tr_parser *p = NULL;
	struct tr_buf doc;
	int i, n = 0;

	tr_buf_init(&doc, 1 << 20);
	tr_buf_adds(&doc, "<rss><channel><item><title>t</title><description>");
	for (i = 0; i < 250; i++)
		tr_buf_adds(&doc, "&lt;a href=x&gt;y&lt;/a&gt;");
	tr_buf_adds(&doc, "</description></item></channel></rss>");
	memset(&o, 0, sizeof(o));
	o.base_url = "https://a-rather-long-host-name.example/some/feed.xml";
	o.max_field = 4096; /* the 4,000-byte body fits; its output does not */
	CHECK_INT(tr_parser_new(&p, &o, collect_all, &n), 0);
	CHECK_INT(tr_parser_feed(p, doc.data, doc.len), 0);
	CHECK_INT(tr_parser_finish(p), 0);
	tr_parser_free(p);
	tr_buf_free(&doc);
	/* About 22 kB of output: past twice the cap, which dropped it. */
	CHECK_INT(n, 250);
}

/* --- HTML to text -------------------------------------------------------- */

static const struct {
	const char *html;
	size_t max;
	const char *text;
} texts[] = {
    {"", 0, ""},
    {"plain", 0, "plain"},
    {"<img alt=\"a>b\">Title", 0, "Title"},
    {"<a href=\"x>y\" title='>'>link</a>", 0, "link"},
    {"<b title=\"<i>x</i>\">bold</b>", 0, "bold"},
    {"a<!-- c > d -->b", 0, "ab"},
    {"a<!-- unterminated", 0, "a"},
    {"<script>x = '<p>';</script>s<style>p{}</style>t", 0, "st"},
    {"AT&amp;T &lt;tag&gt; &eacute;&nbsp;x &amp", 0,
     "AT&T <tag> \xc3\xa9\xc2\xa0x &"},
    {"<p>one</p><p>two</p>three<br>four", 0, "one two three four"},
    {"<svg><text>svg</text></svg>after", 0, "after"},
    {"<textarea>t</textarea><select><option>o</select>v", 0, "v"},
    {"one two three four five six", 17, "one two three\xe2\x80\xa6"},
    {"<p>unclosed <b", 0, "unclosed"},
};

static void
test_text(void)
{
	struct tr_buf b;
	size_t i;

	tr_buf_init(&b, 4096);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		tr_buf_reset(&b);
		CHECK_INT(tr_html_text(&b, texts[i].html,
		                       strlen(texts[i].html), texts[i].max),
		          0);
		CHECK_STR_CASE(texts[i].html, tr_buf_str(&b), texts[i].text);
	}
	tr_buf_free(&b);
}

/*
 * The text the sanitizer gives on its own walk (for the search index):
 * only what a reader sees of the written HTML, never markup, and the
 * same as tr_html_text() reads back from the output, for these cases
 * and for every hostile input above.
 */
static const struct {
	const char *html, *text;
} san_texts[] = {
    {"<a href=\"http://ex.org/only-in-href\">link</a>", "link"},
    {"<img src=\"onlyinsrc.png\" alt=\"onlyinalt\">x", "x"},
    {"<p class=\"onlyinclass\" style=\"color: red\">p</p>", "p"},
    {"<strong>bold</strong> <em>it</em>", "bold it"},
    {"fish &amp; chips &lt;b&gt;", "fish & chips <b>"},
    {"a<!-- hidden comment -->b", "ab"},
    {"<b>foo</b>bar", "foobar"},
    {"<p>foo</p><p>bar</p>", "foo bar"},
    {"one<br>two", "one two"},
    {"x<script>var secret = 1;</script>y", "xy"},
    {"<style>.c { color: red }</style>s", "s"},
    {"plain text summary", "plain text summary"},
    {"Caf\xc3\xa9 cr\xc3\xa8me \xe5\x8c\x97\xe4\xba\xac", "Caf\xc3\xa9 cr\xc3\xa8me "
     "\xe5\x8c\x97\xe4\xba\xac"},
    {"<li>a</li><li>b</li>", "a b"},
    {"<table><tr><td>c1</td><td>c2</td></tr></table>", "c1 c2"},
    {"  spaced \n\t out  ", "spaced out"},
    {"bad \xff byte", "bad \xef\xbf\xbd byte"},
    {"", ""},
};

static void
check_text_agrees(const char *html, const char *want)
{
	struct tr_buf out, text, back;

	tr_buf_init(&out, 1 << 20);
	tr_buf_init(&text, 1 << 20);
	tr_buf_init(&back, 1 << 20);
	CHECK_INT(tr_html_sanitize_text(&out, &text, html, strlen(html), BASE,
	                                NULL),
	          0);
	CHECK_INT(tr_html_text(&back, out.data ? out.data : "", out.len, 0),
	          0);
	CHECK_STR_CASE(html, tr_buf_str(&text), tr_buf_str(&back));
	if (want != NULL)
		CHECK_STR_CASE(html, tr_buf_str(&text), want);
	/* The output is the one tr_html_sanitize() gives. */
	tr_buf_reset(&back);
	CHECK_INT(tr_html_sanitize(&back, html, strlen(html), BASE, NULL), 0);
	CHECK_STR_CASE(html, tr_buf_str(&out), tr_buf_str(&back));
	tr_buf_free(&out);
	tr_buf_free(&text);
	tr_buf_free(&back);
}

static void
test_sanitize_text(void)
{
	static const struct tr_html_policy text_only = {TR_HTML_TEXT, NULL,
	                                                0};
	struct tr_buf out, text;
	size_t i;

	for (i = 0; i < sizeof(san_texts) / sizeof(san_texts[0]); i++)
		check_text_agrees(san_texts[i].html, san_texts[i].text);
	for (i = 0; i < sizeof(hostile) / sizeof(hostile[0]); i++)
		check_text_agrees(hostile[i].in, NULL);
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].max == 0)
			check_text_agrees(texts[i].html, NULL);
	/* The "text" policy: the same text, and the output escaped. */
	tr_buf_init(&out, 4096);
	tr_buf_init(&text, 4096);
	CHECK_INT(tr_html_sanitize_text(&out, &text, "<b>a</b> &amp; <i>b</i>",
	                                22, BASE, &text_only),
	          0);
	CHECK_STR(tr_buf_str(&out), "a &amp; b");
	CHECK_STR(tr_buf_str(&text), "a & b");
	/* Appended: a second body goes after the first. */
	tr_buf_reset(&out);
	CHECK_INT(tr_buf_adds(&text, " "), 0);
	CHECK_INT(tr_html_sanitize_text(&out, &text, "<p>c</p>", 8, BASE,
	                                NULL),
	          0);
	CHECK_STR(tr_buf_str(&text), "a & b c");
	tr_buf_free(&out);
	tr_buf_free(&text);
}

/* Deep nesting and caps: no crash, the cap reported. */
static void
test_limits(void)
{
	struct tr_buf b;
	char *deep;
	size_t i, n = 200000;

	deep = malloc(n * 5 + 1);
	for (i = 0; i < n; i++)
		memcpy(deep + i * 5, "<div>", 5);
	deep[n * 5] = '\0';
	tr_buf_init(&b, 1 << 24);
	CHECK_INT(tr_html_sanitize(&b, deep, n * 5, BASE, NULL), 0);
	CHECK_INT(unsafe_count(tr_buf_str(&b)), 0);
	tr_buf_reset(&b);
	CHECK_INT(tr_html_text(&b, deep, n * 5, 0), 0);
	tr_buf_free(&b);
	free(deep);
	/* NUL bytes in an attribute name (found by fuzz_html_sanitize:
	 * an empty name once made the allowlist lookup loop). */
	tr_buf_init(&b, 4096);
	CHECK_INT(tr_html_sanitize(&b, "<a \0\0=y href=z>t</a>", 20, BASE,
	                           NULL),
	          0);
	CHECK_STR(tr_buf_str(&b), "<a href=\"http://ex.org/d/z\" "
	                          "rel=\"noopener noreferrer\">t</a>");
	tr_buf_free(&b);
	/* Nested links: the inner one loses its tags. */
	tr_buf_init(&b, 4096);
	CHECK_INT(tr_html_sanitize(&b, "<a><table><a>x</a></table></a>", 30,
	                           BASE, NULL),
	          0);
	CHECK_STR(tr_buf_str(&b), "<a>x<table></table></a>");
	tr_buf_free(&b);
	tr_buf_init(&b, 8);
	CHECK_INT(tr_html_sanitize(&b, "<p>0123456789</p>", 17, BASE, NULL),
	          TR_ETOOBIG);
	tr_buf_free(&b);
}

static void
test_mode_names(void)
{
	enum tr_html_mode m = TR_HTML_TEXT;

	CHECK_INT(tr_html_mode_parse(&m, "default"), 0);
	CHECK_INT(m, TR_HTML_DEFAULT);
	CHECK_INT(tr_html_mode_parse(&m, "text"), 0);
	CHECK_INT(m, TR_HTML_TEXT);
	CHECK_INT(tr_html_mode_parse(&m, "none"), TR_EINVAL);
	CHECK_STR(tr_html_mode_name(TR_HTML_TEXT), "text");
	CHECK_STR(tr_html_mode_name(TR_HTML_DEFAULT), "default");
}

TR_TESTS(test_hostile, test_idempotent, test_text_policy, test_relative,
         test_xml_base, test_growth_in_parser, test_text, test_sanitize_text,
         test_limits, test_mode_names)
