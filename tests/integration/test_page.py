"""test_page.py — the HTML page at "/" of `tributary serve`, as a person
sees it: search box, articles with their authors, the feeds' states
(failing ones named at the top), links to every tag and feed, and that
nothing a feed sends can put markup on it.

`tributary serve` polls real feeds from a FeedServer on 127.0.0.1 (one
of them failing, one answering slowly with an error). The page is parsed
with html.parser into a tree and asserted on; headless Chromium dumps
the DOM it builds and takes screenshots at 1200 and 390 px, kept under
BUILD/test-logs/page/ (artefacts to look at; the assertions are on the
DOM). Colour contrast is computed from the page's own stylesheet (WCAG
2.1 relative luminance, AA: 4.5:1 for text).
"""
import html.parser
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
from xml.etree import ElementTree

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (DATA, TRIBUTARY, TempDir, check, contains, eq, main,
                     test)
from server import FeedServer

CHROMIUM = "/usr/bin/chromium"
BUILD = os.environ.get("TR_BUILD") or os.path.dirname(TRIBUTARY)
ARTEFACTS = os.path.join(BUILD, "test-logs", "page")

ALPHA = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
  <title>Alpha &amp;lt;b&amp;gt;Daily&amp;lt;/b&amp;gt;</title>
  <link>https://alpha.example/</link>
  <description>alpha</description>
  <item>
    <title>Harbour reopens after the storm</title>
    <link>https://alpha.example/harbour</link>
    <guid>https://alpha.example/harbour</guid>
    <dc:creator>Jane Doe</dc:creator>
    <pubDate>Fri, 06 Dec 2024 09:30:00 GMT</pubDate>
    <description>&lt;p&gt;The &lt;b&gt;harbour&lt;/b&gt; opened again
      on Friday.&lt;script&gt;alert("body")&lt;/script&gt;&lt;/p&gt;
    </description>
  </item>
  <item>
    <title>&amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt; &amp;lt;img src=x onerror=alert(2)&amp;gt; tricky</title>
    <link>javascript:alert(3)</link>
    <guid isPermaLink="false">alpha-2</guid>
    <dc:creator>&lt;i&gt;Mallory&lt;/i&gt;</dc:creator>
    <pubDate>Thu, 05 Dec 2024 08:00:00 GMT</pubDate>
    <description>&lt;iframe src="https://evil.example/"&gt;&lt;/iframe&gt;
      &lt;a href="javascript:alert(4)" onclick="alert(5)"&gt;click&lt;/a&gt;
    </description>
  </item>
  <item>
    <link>https://alpha.example/untitled</link>
    <guid>https://alpha.example/untitled</guid>
    <pubDate>Wed, 04 Dec 2024 08:00:00 GMT</pubDate>
    <description>&lt;p&gt;Ferry timetable for the &lt;b&gt;winter&lt;/b&gt;
      season.&lt;/p&gt;</description>
  </item>
</channel>
</rss>
"""

BETA = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Beta Notes</title>
  <id>urn:beta</id>
  <updated>2024-12-07T10:00:00Z</updated>
  <link href="https://beta.example/"/>
  <entry>
    <id>urn:beta:1</id>
    <title>Lighthouse keepers' winter</title>
    <link href="https://beta.example/lighthouse"/>
    <updated>2024-12-07T10:00:00Z</updated>
    <author><name>Ada Keeper</name></author>
    <author><name>Bo Lamp</name></author>
    <summary>Notes from the lighthouse.</summary>
  </entry>
</feed>
"""

CONF = """\
[tributary]
database = page.db
title = Harbour Planet
interval = 1h

[feed "alpha"]
url = {base}/alpha.xml
tags = world, news

[feed "beta"]
url = {base}/beta.atom
title = Beta Notes
tags = tech

[feed "broken"]
url = {base}/broken.xml
title = Broken Feed
tags = news

[feed "slow"]
url = {base}/slow.xml
title = Slow Feed
"""


# --- a small DOM ---------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link",
        "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent = tag, dict(attrs), parent
        self.children = []

    def text(self):
        return "".join(c if isinstance(c, str) else c.text()
                       for c in self.children)

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def find_all(self, tag=None, cls=None, **attrs):
        out = []
        for n in self.iter():
            if tag and n.tag != tag:
                continue
            if cls and cls not in n.attrs.get("class", "").split():
                continue
            if any(n.attrs.get(k) != v for k, v in attrs.items()):
                continue
            out.append(n)
        return out

    def find(self, *a, **kw):
        r = self.find_all(*a, **kw)
        return r[0] if r else None

    def __repr__(self):
        return "<%s %r>" % (self.tag, self.attrs)


class TreeBuilder(html.parser.HTMLParser):
    """Builds a Node tree; records elements closed out of order."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.cur = self.root
        self.errors = []

    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.children.append(n)
        if tag not in VOID:
            self.cur = n

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if self.cur.tag != tag:
            self.errors.append("</%s> closes <%s>" % (tag, self.cur.tag))
            return
        self.cur = self.cur.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def dom(text):
    b = TreeBuilder()
    b.feed(text)
    b.close()
    eq(b.errors, [], "unbalanced elements")
    eq(b.cur, b.root, "elements left open")
    return b.root


def squash(s):
    return re.sub(r"\s+", " ", s).strip()


# --- the service ---------------------------------------------------------

class Service:
    """`tributary serve` on an ephemeral port, polling the feed server."""

    def __init__(self, tmp, conf):
        self.tmp = tmp
        self.log = open(tmp.join("serve.log"), "w+")
        env = dict(os.environ)
        for k in ("TRIBUTARY_CONFIG", "JOURNAL_STREAM", "NOTIFY_SOCKET"):
            env.pop(k, None)
        self.proc = subprocess.Popen(
            [TRIBUTARY, "-c", conf, "serve", "--listen", "127.0.0.1:0"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.port = None
        deadline = time.time() + 15
        while time.time() < deadline and self.port is None:
            self.log.seek(0)
            m = re.search(r"http://[^/\s]+:(\d+)/feed\.atom",
                          self.log.read())
            if m:
                self.port = int(m.group(1))
            elif self.proc.poll() is not None:
                break
            else:
                time.sleep(0.05)
        check(self.port, "no listening line in the log: " + self.output())
        self.base = "http://127.0.0.1:%d" % self.port

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def get(self, path, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            c.request("GET", path, headers=headers or {})
            r = c.getresponse()
            return (r.status, {k.lower(): v for k, v in r.getheaders()},
                    r.read())
        finally:
            c.close()

    def page(self, path="/"):
        status, h, body = self.get(path)
        eq(status, 200, "GET %s: %r" % (path, body[:300]))
        eq(h.get("content-type"), "text/html; charset=utf-8", path)
        return body.decode("utf-8")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.close()
        return rc


def feed_item(doc, name):
    return doc.find("li", id="feed-" + name)


def state_word(li):
    return squash(li.find("span", cls="state").text())


_env = {}


def env():
    """One feed server and one service for the tests, started on first
    use: alpha and beta serve feeds, broken answers 500, slow answers
    500 after 3 s (so its state lands after the others' articles)."""
    if "svc" in _env:
        return _env["svc"]
    tmp = TempDir().__enter__()
    _env["tmp"] = tmp
    srv = FeedServer().__enter__()
    _env["srv"] = srv
    srv.route("/alpha.xml", body=ALPHA)
    srv.route("/beta.atom", body=BETA,
              content_type="application/atom+xml; charset=utf-8")
    srv.route("/broken.xml", status=500, body="<html>oops</html>",
              content_type="text/html")
    srv.route("/slow.xml", status=503, delay=3, body="busy",
              content_type="text/plain")
    conf = tmp.write("feeds.conf", CONF.format(base=srv.url("")))
    svc = Service(tmp, conf)
    _env["svc"] = svc
    # The page as soon as the fast feeds are in, while slow is pending.
    deadline = time.time() + 20
    early = None
    while time.time() < deadline:
        text = svc.page()
        d = dom(text)
        li = feed_item(d, "broken")
        if ("Harbour reopens" in text and "Lighthouse" in text and li
                and state_word(li).endswith("Failing")):
            early = (text, svc.get("/")[1].get("etag"),
                     svc.get("/feed.atom")[1].get("etag"))
            break
        time.sleep(0.1)
    check(early, "the first round did not show up: " + svc.output()[-2000:])
    _env["early"] = early
    # Then until the slow feed failed too.
    while time.time() < deadline + 10:
        if srv.requests_for("/slow.xml") and \
                "Slow Feed" in squash(dom(svc.page()).find(
                    "p", id="summary").text()):
            break
        time.sleep(0.2)
    return svc


def cleanup():
    if "svc" in _env:
        _env.pop("svc").stop()
    if "srv" in _env:
        _env.pop("srv").__exit__(None, None, None)
    if "tmp" in _env:
        _env.pop("tmp").__exit__(None, None, None)


# --- chromium ------------------------------------------------------------

def chromium(*args, url):
    """Runs headless Chromium on url; returns its stdout. Fails (not
    skips) when Chromium is not installed: scripts/install-deps lists it
    among the test packages."""
    check(os.access(CHROMIUM, os.X_OK),
          "%s is missing: run scripts/install-deps --test" % CHROMIUM)
    profile = tempfile.mkdtemp(prefix="tributary-chromium-")
    try:
        p = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-quic", "--no-first-run",
             "--disable-background-networking",
             "--disable-component-update", "--disable-sync",
             "--hide-scrollbars", "--user-data-dir=" + profile]
            + list(args) + [url],
            capture_output=True, text=True, timeout=120)
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    check(p.returncode == 0, "chromium exit %d: %s" % (p.returncode,
                                                       p.stderr[-2000:]))
    return p.stdout


def screenshot(url, name, width, height):
    os.makedirs(ARTEFACTS, exist_ok=True)
    path = os.path.join(ARTEFACTS, name)
    if os.path.exists(path):
        os.unlink(path)
    chromium("--window-size=%d,%d" % (width, height),
             "--screenshot=" + path, url=url)
    check(os.path.getsize(path) > 1000, "screenshot %s is empty" % path)
    with open(path, "rb") as f:
        eq(f.read(8), b"\x89PNG\r\n\x1a\n", name + " PNG signature")
    return path


# --- contrast ------------------------------------------------------------

def hex_rgb(c):
    c = c.strip().lower()
    m = re.fullmatch(r"#([0-9a-f]{3}|[0-9a-f]{6})", c)
    check(m, "colour %r is not #rgb or #rrggbb" % c)
    h = m.group(1)
    if len(h) == 3:
        h = "".join(x * 2 for x in h)
    return tuple(int(h[i:i + 2], 16) / 255 for i in (0, 2, 4))


def luminance(rgb):
    def lin(v):
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4
    r, g, b = (lin(v) for v in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(fg, bg):
    a, b = luminance(hex_rgb(fg)), luminance(hex_rgb(bg))
    hi, lo = max(a, b), min(a, b)
    return (hi + 0.05) / (lo + 0.05)


def css_rules(css):
    """(selector, {property: value}) of every innermost rule."""
    out = []
    for sel, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        props = {}
        for decl in body.split(";"):
            if ":" in decl:
                k, v = decl.split(":", 1)
                props[k.strip()] = v.strip()
        out.append((sel.strip(), props))
    return out


# --- tests ---------------------------------------------------------------

@test
def page_is_well_formed_and_accessible():
    svc = env()
    d = dom(svc.page())
    html_el = d.find("html")
    eq(html_el.attrs.get("lang"), "en", "lang attribute")
    vp = d.find("meta", name="viewport")
    check(vp and "width=device-width" in vp.attrs.get("content", ""),
          "viewport meta")
    eq(squash(d.find("title").text()), "Harbour Planet", "title")
    # Headings: one h1, first; no level skipped on the way down.
    levels = [int(n.tag[1]) for n in d.iter()
              if re.fullmatch(r"h[1-6]", n.tag)]
    eq(levels[0], 1, "first heading level")
    eq(levels.count(1), 1, "h1 count")
    for a, b in zip(levels, levels[1:]):
        check(b <= a + 1, "heading h%d after h%d" % (b, a))
    # Landmarks.
    for tag in ("header", "main", "aside", "footer", "nav"):
        check(d.find(tag), "no <%s>" % tag)
    # Every form control has a label (for=id) or an aria-label.
    labels = {n.attrs.get("for") for n in d.find_all("label")}
    controls = d.find_all("input") + d.find_all("select") + \
        d.find_all("textarea")
    check(controls, "no form controls")
    for c in controls:
        check(c.attrs.get("id") in labels or c.attrs.get("aria-label"),
              "unlabelled control %r" % c)
    for b in d.find_all("button"):
        check(squash(b.text()), "button without text")
    # Every link has text.
    for a in d.find_all("a"):
        check(squash(a.text()) or a.attrs.get("aria-label"),
              "link without text: %r" % a)


@test
def colours_pass_wcag_aa():
    svc = env()
    d = dom(svc.page())
    css = d.find("style").text()
    rules = css_rules(css)
    body = dict(rules)["body"]
    page_bg = body["background"]
    checked = 0
    for sel, props in rules:
        fg = props.get("color")
        if fg is None or fg == "inherit":
            continue
        bg = props.get("background", page_bg)
        ratio = contrast(fg, bg)
        check(ratio >= 4.5, "%s: %s on %s is %.2f:1, below 4.5:1" %
              (sel, fg, bg, ratio))
        checked += 1
    check(checked >= 8, "only %d colour rules found" % checked)
    # Links sit on the page's background and on the feed cards (white).
    links = dict(rules)["a"]["color"]
    check(contrast(links, page_bg) >= 4.5, "links on the page")
    # A rule with a background sets its text colour too, or inherits
    # the page's on a background checked here.
    for sel, props in rules:
        bg = props.get("background")
        if bg and "color" not in props:
            check(contrast(body["color"], bg) >= 4.5,
                  "%s: body text on %s" % (sel, bg))


@test
def search_box_and_results():
    svc = env()
    d = dom(svc.page())
    form = d.find("form")
    eq(form.attrs.get("method"), "get", "form method")
    eq(form.attrs.get("role"), "search", "form role")
    eq(form.attrs.get("action"), svc.base + "/", "form action")
    inp = form.find("input", name="q")
    check(inp, "no q input")
    eq(inp.attrs.get("type"), "search", "input type")
    lab = form.find("label")
    eq(lab.attrs.get("for"), inp.attrs.get("id"), "label for")
    contains(squash(lab.text()), "Search", "label text")
    # A search: the results, the box holding the query.
    d = dom(svc.page("/?q=" + urllib.parse.quote("lighthouse")))
    eq(d.find("input", name="q").attrs.get("value"), "lighthouse",
       "box value")
    arts = d.find_all("article")
    eq(len(arts), 1, "results")
    contains(squash(arts[0].text()), "Lighthouse keepers' winter")
    h2 = squash(d.find("main").find("h2").text())
    contains(h2, "Search results for", "results heading")
    contains(h2, "lighthouse", "results heading")
    check(d.find("a", href=svc.base + "/"), "no way to clear the search")
    # No result.
    d = dom(svc.page("/?q=zeppelin"))
    eq(d.find_all("article"), [], "articles for zeppelin")
    contains(squash(d.find("main").text()), "No articles match")
    # Markup in the query is text, in the box and in the heading.
    hostile = '"<script>alert(9)</script>"'
    status, h, body = svc.get("/?q=" + urllib.parse.quote(hostile))
    eq(status, 200, "hostile q: %r" % body[:200])
    d = dom(body.decode())
    eq(d.find("input", name="q").attrs.get("value"), hostile, "box value")
    eq(d.find_all("script"), [], "script elements")
    contains(d.find("main").find("h2").text(), "<script>alert(9)</script>")
    # A scoped page searches its scope.
    d = dom(svc.page("/tags/tech.html?q=harbour"))
    eq(d.find("form").attrs.get("action"), svc.base + "/tags/tech.html",
       "tag page form action")
    eq(d.find_all("article"), [], "harbour is not in tech")


# Searches the store refuses, and a word of the reason the page gives.
REFUSED = [
    ("aa* bb* cc* dd* ee*", "end in *"),
    ("-alone", "add a word"),
    (" ".join("w%d" % i for i in range(40)), "words"),
]


@test
def a_refused_search_is_explained_on_the_page():
    svc = env()
    for q, reason in REFUSED:
        path = "/?q=" + urllib.parse.quote(q)
        status, h, body = svc.get(path)
        eq(status, 400, q)
        eq(h.get("content-type"), "text/html; charset=utf-8", q)
        contains(h.get("content-security-policy", ""), "default-src 'none'")
        d = dom(body.decode("utf-8"))
        eq(d.find("input", name="q").attrs.get("value"), q, "box keeps it")
        notice = d.find("p", cls="notice")
        check(notice, "%s: no notice" % q)
        eq(notice.attrs.get("role"), "alert", "notice role")
        contains(squash(notice.text()), reason, q)
        eq(d.find_all("article"), [], q + ": articles")
        check("No articles match" not in d.text(), q + ": no-match line")
        check(d.find("section", id="feeds"), q + ": feed list")
    # A feed answers the same search with a one-line plain-text reason.
    status, h, body = svc.get("/feed.atom?q=" + urllib.parse.quote(
        REFUSED[0][0]))
    eq(status, 400, "feed")
    contains(h.get("content-type", ""), "text/plain", "feed's reason")


@test
def articles_show_source_author_and_date():
    svc = env()
    d = dom(svc.page())
    arts = {squash(a.find("h3").text()): a for a in d.find_all("article")}
    check("Harbour reopens after the storm" in arts, "titles %r" % arts)
    a = arts["Harbour reopens after the storm"]
    eq(a.find("h3").find("a").attrs.get("href"),
       "https://alpha.example/harbour", "article link")
    meta = a.find("p", cls="meta")
    eq(squash(meta.find("span", cls="author").text()), "Jane Doe", "author")
    src = meta.find("a", cls="source")
    eq(src.attrs.get("href"), svc.base + "/feeds/alpha.html", "source link")
    eq(meta.find("time").attrs.get("datetime"), "2024-12-06T09:30:00Z",
       "time")
    # The excerpt is text: the bold is gone, the script's text too.
    body = squash(a.text())
    contains(body, "The harbour opened again on Friday.")
    check("alert" not in body, "script text in the excerpt: " + body)
    # An untitled item goes by its text's first words, as in the feeds,
    # and the excerpt does not repeat them.
    u = [a for a in d.find_all("article") if a.find("a", href=
         "https://alpha.example/untitled")]
    eq(len(u), 1, "untitled item")
    eq(squash(u[0].find("h3").text()),
       "Ferry timetable for the winter season.", "derived title")
    eq(len(u[0].find_all("p")), 1, "paragraphs of the untitled item")
    b = arts["Lighthouse keepers' winter"]
    eq(squash(b.find("span", cls="author").text()), "Ada Keeper, Bo Lamp",
       "two authors")


@test
def nothing_from_a_feed_becomes_markup():
    svc = env()
    text = svc.page()
    d = dom(text)
    for tag in ("script", "iframe", "img", "object", "embed"):
        eq(d.find_all(tag), [], "<%s> elements" % tag)
    for n in d.iter():
        for k in n.attrs:
            check(not k.startswith("on"), "event handler %s on %r" % (k, n))
        for k in ("href", "action", "src"):
            v = n.attrs.get(k)
            if v is not None and not v.startswith("#"):
                check(v.startswith("http://") or v.startswith("https://"),
                      "%s=%r on %r" % (k, v, n))
    # Every title as the Atom feed carries it (untitled items go by
    # their text there too), markup included, shows as text.
    titles = [squash(a.find("h3").text()) for a in d.find_all("article")]
    eq(sorted(titles), doc_titles(svc, "/feed.atom"), "titles")
    contains(" ".join(titles), "<script>alert(1)</script>")
    contains(" ".join(titles), "<img src=x onerror=alert(2)>")
    tricky = [a for a in d.find_all("article") if "tricky" in a.text()][0]
    eq(tricky.find("h3").find("a"), None, "javascript: link linked")
    eq(squash(tricky.find("span", cls="author").text()), "<i>Mallory</i>",
       "author as text")
    # The document's title with markup, in the feed list, is text.
    li = feed_item(d, "alpha")
    eq(squash(li.find("h3").text()), "Alpha <b>Daily</b>", "feed title")
    eq(li.find("b"), None, "<b> from the feed's title")


@test
def feed_list_shows_every_state():
    svc = env()
    srv = _env["srv"]
    d = dom(svc.page())
    feeds = d.find("section", id="feeds")
    check(feeds, "no feeds section")
    eq(squash(feeds.find("h2").text()), "Feeds", "heading")
    items = feeds.find_all("li", cls="feed")
    names = [li.attrs["id"] for li in items]
    eq(sorted(names), ["feed-alpha", "feed-beta", "feed-broken",
                       "feed-slow"], "feeds listed")
    # Failing first, each said in words (not only by colour).
    eq(names[:2], ["feed-broken", "feed-slow"], "failing first")
    for name in ("broken", "slow"):
        li = feed_item(d, name)
        check("fail" in li.attrs["class"].split(), name + " class")
        contains(state_word(li), "Failing", name + " state")
        dl = {squash(dt.text()): squash(dd.text()) for dt, dd in
              zip(li.find_all("dt"), li.find_all("dd"))}
        eq(dl.get("Last success"), "never", name + " last success")
        eq(dl.get("Articles"), "0", name + " articles")
        check(dl.get("Next check", "").endswith("UTC"),
              name + " next check %r" % dl)
    err = {n: squash(feed_item(d, n).find("dd", cls="error").text())
           for n in ("broken", "slow")}
    contains(err["broken"], "HTTP 500", "broken's error")
    contains(err["slow"], "HTTP 503", "slow's error")
    for name, n in (("alpha", 3), ("beta", 1)):
        li = feed_item(d, name)
        eq(state_word(li).split()[-1], "OK", name + " state")
        dl = {squash(dt.text()): squash(dd.text()) for dt, dd in
              zip(li.find_all("dt"), li.find_all("dd"))}
        eq(dl.get("Articles"), str(n), name + " articles")
        check(dl.get("Last success", "").endswith("UTC"),
              name + " last success %r" % dl)
        check("Last error" not in dl, name + " has no error")
        eq(li.find("h3").find("a").attrs.get("href"),
           svc.base + "/feeds/%s.html" % name, name + " page link")
        check(li.find("a", href=svc.base + "/feeds/%s.atom" % name),
              name + " Atom link")
    check(feed_item(d, "alpha").find("a", href="https://alpha.example/"),
          "alpha's website link")
    # The summary at the top names the failing feeds and links to them.
    summary = d.find("p", id="summary")
    check("fail" in summary.attrs.get("class", "").split(),
          "summary class")
    s = squash(summary.text())
    contains(s, "2 of 4 feeds are failing", "summary")
    contains(s, "Broken Feed", "summary")
    contains(s, "Slow Feed", "summary")
    check(summary.find("a", href="#feed-broken"), "summary link")
    check(srv.requests_for("/broken.xml"), "broken was polled")


@test
def page_follows_feed_states_between_article_changes():
    """The slow feed failed after the articles of the round were in: the
    generation did not move (the feed's ETag is the same), yet the page
    shows the new state under a new ETag."""
    svc = env()
    early_text, early_tag, early_feed_tag = _env["early"]
    li = feed_item(dom(early_text), "slow")
    contains(state_word(li), "Not checked yet", "slow at first")
    eq(svc.get("/feed.atom")[1].get("etag"), early_feed_tag,
       "the generation moved: this test proves nothing")
    status, h, body = svc.get("/")
    check(h.get("etag") != early_tag, "page ETag unchanged")
    contains(state_word(feed_item(dom(body.decode()), "slow")), "Failing")
    status, h, body = svc.get("/", {"If-None-Match": early_tag})
    eq(status, 200, "If-None-Match of the old page")


@test
def tags_and_feeds_are_linked_and_served():
    svc = env()
    d = dom(svc.page())
    tags = d.find("section", id="tags")
    check(tags, "no tags section")
    got = sorted(squash(li.find("a").text()) for li in tags.find_all("li"))
    eq(got, ["news", "tech", "world"], "tags")
    paths = []
    for t in ("news", "tech", "world"):
        for ext in ("html", "atom"):
            href = svc.base + "/tags/%s.%s" % (t, ext)
            check(tags.find("a", href=href), "no link " + href)
            paths.append(href[len(svc.base):])
    for f in ("alpha", "beta", "broken", "slow"):
        for ext in ("html", "atom"):
            href = svc.base + "/feeds/%s.%s" % (f, ext)
            check(d.find("a", href=href), "no link " + href)
            paths.append(href[len(svc.base):])
    for p in paths:
        status, h, body = svc.get(p)
        eq(status, 200, p)
        want = "text/html" if p.endswith(".html") else \
            "application/atom+xml"
        contains(h.get("content-type", ""), want, p)
    # A tag's page: its articles and its feeds only.
    d = dom(svc.page("/tags/news.html"))
    eq(squash(d.find("h1").text()), "Harbour Planet: news", "h1")
    eq(sorted(li.attrs["id"] for li in d.find_all("li", cls="feed")),
       ["feed-alpha", "feed-broken"], "news feeds")
    for a in d.find_all("article"):
        contains(squash(a.find("p", cls="meta").text()), "Alpha")
    check(d.find("link", rel="alternate", type="application/atom+xml",
                 href=svc.base + "/tags/news.atom"), "autodiscovery")
    check(d.find("a", href=svc.base + "/"), "link home")
    d = dom(svc.page("/feeds/beta.html"))
    eq([squash(a.find("h3").text()) for a in d.find_all("article")],
       ["Lighthouse keepers' winter"], "beta's page")
    status, h, body = svc.get("/tags/nope.html")
    eq(status, 404, "unknown tag page")


@test
def every_page_says_it_loads_nothing_from_elsewhere():
    svc = env()
    for path in ("/", "/?q=harbour", "/tags/news.html", "/feeds/beta.html",
                 "/feed.html"):
        status, h, body = svc.get(path)
        eq(status, 200, path)
        csp = h.get("content-security-policy", "")
        contains(csp, "default-src 'none'", path + " CSP")
        contains(csp, "form-action 'self'", path + " CSP")


@test
def chromium_builds_the_same_page():
    svc = env()
    ours = dom(svc.page())
    theirs = dom(chromium("--dump-dom", url=svc.base + "/"))
    for tag in ("article", "li", "h2", "h3", "form", "input", "label",
                "a"):
        eq(len(theirs.find_all(tag)), len(ours.find_all(tag)),
           "<%s> count in Chromium's DOM" % tag)
    eq(theirs.find_all("script"), [], "scripts in Chromium's DOM")
    contains(squash(theirs.find("p", id="summary").text()),
             "2 of 4 feeds are failing")


@test
def screenshots_at_desktop_and_phone_widths():
    svc = env()
    for name, w, h in (("page-1200.png", 1200, 1400),
                       ("page-390.png", 390, 2400),
                       ("search-390.png", 390, 900)):
        url = svc.base + ("/?q=harbour" if name.startswith("search")
                          else "/")
        screenshot(url, name, w, h)


# --- the feeds' stylesheet -----------------------------------------------

FEED_PATHS = ("/feed.atom", "/feed.rss", "/tags/news.atom", "/feeds/beta.rss")


def xmllint(*args):
    p = subprocess.run(["xmllint", "--noout"] + list(args),
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, "xmllint %s: %s" % (" ".join(args), p.stderr))


def doc_titles(svc, path):
    """The titles of the entries (or items) of the feed at path, as text;
    "(untitled)" for an RSS item without one."""
    status, h, body = svc.get(path)
    eq(status, 200, path)
    root = ElementTree.fromstring(body)
    atom = "{http://www.w3.org/2005/Atom}"
    if root.tag == atom + "feed":
        titles = [e.findtext(atom + "title") for e in
                  root.iter(atom + "entry")]
    else:
        titles = [i.findtext("title") for i in root.iter("item")]
    return sorted(squash(t or "") or "(untitled)" for t in titles)


def check_feed_page(d, svc, path, what):
    """The page a browser makes of the feed at path through the XSLT."""
    hint = d.find(id="hint")
    check(hint, "%s: no hint" % what)
    contains(squash(hint.text()),
             "copy this URL into your feed reader", what)
    eq(squash(d.find("code", id="feed-url").text()), svc.base + path,
       what + " feed URL")
    titles = sorted(squash(a.find("h3").text())
                    for a in d.find_all("article"))
    eq(titles, doc_titles(svc, path), what + " titles")
    for tag in ("script", "iframe", "img", "object", "embed"):
        eq(d.find_all(tag), [], "%s: <%s> elements" % (what, tag))
    for n in d.iter():
        for k in n.attrs:
            check(not k.startswith("on"), "%s: %s on %r" % (what, k, n))
        href = n.attrs.get("href")
        if n.tag == "a" and href is not None:
            check(href.startswith("http://") or href.startswith("https://"),
                  "%s: href %r" % (what, href))


@test
def feeds_name_the_stylesheet_and_stay_valid():
    import feedparser
    svc = env()
    status, h, xsl = svc.get("/feed.xsl")
    eq(status, 200, "/feed.xsl")
    eq(h.get("content-type"), "text/xsl; charset=utf-8", "XSLT type")
    status, h2, body = svc.get("/feed.xsl", {"If-None-Match": h["etag"]})
    eq(status, 304, "conditional /feed.xsl")
    with TempDir() as t:
        xmllint(t.write("feed.xsl", xsl))
        rng = t.join("atom.rng")
        p = subprocess.run(["trang", os.path.join(DATA, "atom.rnc"), rng],
                           capture_output=True, text=True, timeout=120)
        check(p.returncode == 0, "trang: %s" % p.stderr)
        pi = ('<?xml-stylesheet type="text/xsl" href="%s/feed.xsl"?>' %
              svc.base)
        for path in FEED_PATHS:
            status, h, body = svc.get(path)
            eq(status, 200, path)
            lines = body.decode("utf-8").split("\n")
            eq(lines[1], pi, path + " second line")
            f = t.write("doc.xml", body)
            if path.endswith(".atom"):
                xmllint("--relaxng", rng, f)
            else:
                xmllint(f)
            d = feedparser.parse(body)
            check(not d.bozo, "%s: bozo: %r" % (path,
                                                 d.get("bozo_exception")))
            eq(len(d.entries), len(doc_titles(svc, path)), path +
               " entries")
        for path in ("/feed.json", "/"):
            check(b"xml-stylesheet" not in svc.get(path)[2],
                  path + " names the stylesheet")


@test
def stylesheet_renders_with_xsltproc():
    check(os.access("/usr/bin/xsltproc", os.X_OK),
          "/usr/bin/xsltproc is missing: run scripts/install-deps --test")
    svc = env()
    with TempDir() as t:
        xsl = t.write("feed.xsl", svc.get("/feed.xsl")[2])
        for path in FEED_PATHS:
            doc = t.write("doc.xml", svc.get(path)[2])
            p = subprocess.run(["xsltproc", "--nonet", xsl, doc],
                               capture_output=True, timeout=60)
            check(p.returncode == 0 and not p.stderr,
                  "xsltproc %s: %s" % (path, p.stderr.decode()))
            check_feed_page(dom(p.stdout.decode("utf-8")), svc, path,
                            "xsltproc " + path)


@test
def chromium_shows_a_feed_as_a_page():
    svc = env()
    for path in ("/feed.atom", "/feed.rss"):
        d = dom(chromium("--dump-dom", url=svc.base + path))
        check_feed_page(d, svc, path, "chromium " + path)
    screenshot(svc.base + "/feed.atom", "feed-atom-390.png", 390, 1200)
    screenshot(svc.base + "/feed.rss", "feed-rss-1200.png", 1200, 900)


CHROME_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,"
                 "image/avif,image/webp,image/apng,*/*;q=0.8,"
                 "application/signed-exchange;v=b3;q=0.7")
FIREFOX_ACCEPT = ("text/html,application/xhtml+xml,application/xml;q=0.9,"
                  "*/*;q=0.8")

# Accept → the type /feed.atom and /feed.rss answer with: a person's
# browser gets application/xml (which browsers show through the
# stylesheet), everything else the feed's own type.
ACCEPT_CASES = [
    (None, "feed"),
    ("*/*", "feed"),
    (CHROME_ACCEPT, "page"),
    (FIREFOX_ACCEPT, "page"),
    ("TEXT/HTML", "page"),
    ("text/html;q=0.5, */*;q=0.1", "page"),
    ("text/html;q=0", "feed"),
    ("application/atom+xml", "feed"),
    ("application/rss+xml, text/html", "feed"),
    ("application/atom+xml;q=0.9, text/html", "feed"),
    ("application/xml, text/xml", "feed"),
    ("text/htmlx", "feed"),
]


@test
def browsers_get_the_feed_in_a_form_they_style():
    svc = env()
    own = {"/feed.atom": "application/atom+xml; charset=utf-8",
           "/feed.rss": "application/rss+xml; charset=utf-8"}
    for path, ctype in own.items():
        _, base, body = svc.get(path)
        for accept, want in ACCEPT_CASES:
            hdrs = {"Accept": accept} if accept else {}
            status, h, b = svc.get(path, hdrs)
            what = "%s with Accept %r" % (path, accept)
            eq(status, 200, what)
            eq(h.get("content-type"),
               "application/xml; charset=utf-8" if want == "page"
               else ctype, what)
            eq(b, body, what + ": body")
            eq(h.get("vary"), "Accept, Accept-Encoding", what + ": Vary")
            if want == "page":
                check(h["etag"] != base["etag"], what + ": same ETag")
                status, h2, _ = svc.get(path, dict(hdrs, **{
                    "If-None-Match": h["etag"]}))
                eq(status, 304, what + ": conditional")
                status, _, _ = svc.get(path, {"If-None-Match": h["etag"]})
                eq(status, 200, what + ": page ETag on the feed form")
    # Other documents keep their type.
    for path, ctype in (("/feed.json", "application/feed+json"),
                        ("/", "text/html")):
        h = svc.get(path, {"Accept": CHROME_ACCEPT})[1]
        contains(h.get("content-type", ""), ctype, path)


@test
def service_stops_cleanly():
    """Last: the service that served every page above exits 0 on SIGTERM
    with no sanitizer report in its log."""
    svc = env()
    rc = _env.pop("svc").stop()
    out = open(_env["tmp"].join("serve.log")).read()
    eq(rc, 0, "exit status; log: " + out[-2000:])
    for bad in ("Sanitizer", "runtime error", "leak"):
        check(bad not in out, "%s in the log: %s" % (bad, out[-2000:]))


if __name__ == "__main__":
    try:
        main()
    finally:
        cleanup()
