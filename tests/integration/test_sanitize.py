"""test_sanitize.py — item bodies are sanitized and their URLs made absolute
once, when stored; every output serves the result.

  - A hostile feed (RSS and Atom, every common XSS vector in summaries,
    content and titles) is polled from a loopback server through the
    store; then every endpoint of `tributary serve` (/, /feed.atom,
    /feed.rss, /feed.json, the tag and the feed variants) is read and
    each HTML body in it (Atom type="html", RSS description and
    content:encoded, JSON content_html and summary) and the page itself
    are checked with Python's HTML parser: no element or attribute that
    runs script, no URL with another scheme than http, https or mailto
    (and, in a link, the schemes that open an application: magnet,
    tel, ...), no relative URL.
  - Headless Chromium loads the page and a page of every stored body
    without any Content-Security-Policy: none of the console.log probes
    in the feed may print. A control page proves a probe that runs is
    seen. Chromium is a test dependency (scripts/install-deps): without
    it this test fails.
  - Relative URLs with xml:base on the feed, the entry and the content,
    and the document's URL after a redirect.
  - Every document of the shared corpus (TR_CORPUS, default
    ../shared/corpus beside the source tree) polled through the store
    and exported in every format: no href, src or srcset in any body is
    relative.
"""
import html.parser
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SRC, TempDir, check, eq, main, run, test  # noqa: E402
from faults import FeedServer, _env  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
ATOM_NS = "{http://www.w3.org/2005/Atom}"
CONTENT_NS = "{http://purl.org/rss/1.0/modules/content/}"

# Bodies that try to run script; each probe would log PWNED-<n>.
VECTORS = [
    "<script>console.log('PWNED-1')</script>",
    "<img src=x onerror=\"console.log('PWNED-2')\">",
    "<svg onload=\"console.log('PWNED-3')\"></svg>",
    "<a href=\"javascript:console.log('PWNED-4')\">a</a>",
    "<a href=\"jav&#x09;ascript:console.log('PWNED-5')\">b</a>",
    "<a href=\"&#106;avascript:console.log('PWNED-6')\">c</a>",
    "<iframe src=\"javascript:console.log('PWNED-7')\"></iframe>",
    "<iframe srcdoc=\"<script>console.log('PWNED-8')</script>\"></iframe>",
    "<object data=\"javascript:console.log('PWNED-9')\"></object>",
    "<embed src=\"javascript:console.log('PWNED-10')\">",
    "<form><button formaction=\"javascript:console.log('PWNED-11')\">"
    "go</button></form>",
    "<math><mtext><table><mglyph><style><img src=x "
    "onerror=\"console.log('PWNED-12')\">",
    "<noscript><p title=\"</noscript><img src=x "
    "onerror=console.log('PWNED-13')>\">",
    "<div style=\"background:url(javascript:console.log('PWNED-14'))\">d"
    "</div>",
    "<p style=\"width:expression(console.log('PWNED-15'))\">e</p>",
    "<base href=\"javascript:console.log('PWNED-16')//\"><a href=\"x\">f</a>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:"
    "console.log('PWNED-17')\">",
    "<img srcset=\"javascript:console.log('PWNED-18') 1x, ok.png 2x\">",
    "<details open ontoggle=\"console.log('PWNED-19')\"><summary>s"
    "</summary></details>",
    "<body onload=\"console.log('PWNED-20')\">g</body>",
    "<a href=\"data:text/html,<script>console.log('PWNED-21')</script>\">h"
    "</a>",
    "<video><source onerror=\"console.log('PWNED-22')\"></video>",
    "<input autofocus onfocus=\"console.log('PWNED-23')\">",
    "<img src=\"x\" alt=\"</script><script>console.log('PWNED-24')"
    "</script>\">",
    "<!--<img src=x onerror=console.log('PWNED-25')>-->",
    "<xmp><img src=x onerror=console.log('PWNED-26')></xmp>",
    "<template><img src=x onerror=console.log('PWNED-27')></template>",
    "<scr<script>ipt>console.log('PWNED-28')</script>",
    "<link rel=import href=\"data:text/html,<script>console.log('PWNED-29')"
    "</script>\">",
    "<a href=\"vbscript:msgbox('PWNED-30')\">i</a>",
    "<a href=\"feed:javascript:console.log('PWNED-31')\">j</a>",
    "<img data-src=\"javascript:console.log('PWNED-32')\" src=\"x.png\">",
]

# Schemes a link may have besides http, https and mailto: they open an
# application and run nothing in the page (lib/html.c, link_schemes).
LINK_SCHEMES = ("callto", "ftp", "ftps", "geo", "gopher", "irc", "irc6",
                "ircs", "magnet", "matrix", "news", "nntp", "sftp", "sip",
                "sips", "sms", "tel", "webcal", "xmpp")

KEEP = ("<p>Kept <a href=\"rel/page.html\">relative link</a>, "
        "<img src=\"/img/pic.png\" alt=\"pic\"> and "
        "<img srcset=\"a.png 1x, /b.png 2x\">, "
        "<a href=\"magnet:?xt=urn:btih:c12f&amp;dn=e\">magnet</a> "
        "<a href=\"tel:+1-555-0100\">call</a> "
        "<img data-src=\"lazy.png\" src=\"data:image/gif;base64,R0lGODlhAQABAAAA"
        "ACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==\"></p>")


def xml_escape(s):
    return (s.replace("&", "&amp;").replace("<", "&lt;")
            .replace(">", "&gt;"))


def hostile_rss():
    items = []
    for i, v in enumerate(VECTORS):
        items.append(
            "<item><guid isPermaLink=\"false\">h-%d</guid>"
            "<title>t%d &lt;img alt=\"a&gt;b\" src=x onerror=x&gt;</title>"
            "<link>http://hostile.example/%d</link>"
            "<description>%s</description>"
            "<content:encoded>%s</content:encoded></item>"
            % (i, i, i, xml_escape(v + KEEP), xml_escape(KEEP + v)))
    return ("<?xml version=\"1.0\"?><rss version=\"2.0\" xmlns:content="
            "\"http://purl.org/rss/1.0/modules/content/\"><channel>"
            "<title>hostile</title><link>http://hostile.example/</link>"
            "<description>d</description>%s</channel></rss>"
            % "".join(items)).encode()


def hostile_atom():
    entries = []
    for i, v in enumerate(VECTORS):
        entries.append(
            "<entry xml:base=\"e%d/\"><id>urn:ha:%d</id>"
            "<title type=\"html\">%s</title>"
            "<updated>2024-12-06T09:30:00Z</updated>"
            "<link href=\"http://hostile-atom.example/%d\"/>"
            "<summary type=\"html\">%s</summary>"
            "<content type=\"html\" xml:base=\"c/\">%s</content></entry>"
            % (i, i, xml_escape("ta%d <b onclick=x>bold</b>" % i), i,
               xml_escape(v), xml_escape(KEEP + v)))
    return ("<?xml version=\"1.0\"?><feed xmlns=\"http://www.w3.org/2005/"
            "Atom\" xml:base=\"http://base.example/blog/\"><title>atom</title>"
            "<id>urn:ha</id><updated>2024-12-06T09:30:00Z</updated>%s</feed>"
            % "".join(entries)).encode()


class Server:
    """`tributary serve` on an ephemeral port of 127.0.0.1, after the
    store was filled by `tributary fetch`."""

    def __init__(self, td):
        from harness import TRIBUTARY as binary
        self.log = open(td.join("serve.log"), "w+")
        self.proc = subprocess.Popen(
            [binary, "-c", td.join("feeds.conf"), "serve", "--listen",
             "127.0.0.1:0"], stdout=self.log, stderr=subprocess.STDOUT,
            env=_env())
        self.port = None
        deadline = time.time() + 10
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
        check(self.port, "serve did not start")
        self.base = "http://127.0.0.1:%d" % self.port

    def get(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


# --- checking HTML -------------------------------------------------------

BAD_ELEMENTS = {"script", "style", "iframe", "object", "embed", "applet",
                "form", "input", "button", "textarea", "select", "meta",
                "link", "base", "svg", "math", "frame", "frameset",
                "template", "xmp", "noscript"}
URL_ATTRS = {"href", "src", "poster", "cite", "longdesc", "background",
             "action", "formaction", "data"}


class Inspector(html.parser.HTMLParser):
    """Collects what must not be in a body (or, with page=True, in the
    page: its own style element is allowed there)."""

    def __init__(self, page=False):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.problems = []
        self.urls = []

    def handle_starttag(self, tag, attrs):
        # The page's own head and search form are not bodies.
        bad = BAD_ELEMENTS - ({"style", "meta", "link", "form", "input",
                               "button"} if self.page else set())
        if tag in bad:
            self.problems.append("element <%s>" % tag)
        for name, value in attrs:
            value = value or ""
            if name.startswith("on"):
                self.problems.append("attribute %s on <%s>" % (name, tag))
            if name == "style" and not self.page:
                self.problems.append("style attribute on <%s>" % tag)
            if name in ("srcdoc", "formaction") or (
                    name == "action" and not self.page):
                self.problems.append("attribute %s" % name)
            if name in URL_ATTRS:
                self.urls.append((tag, name, value))
            if name == "srcset":
                for cand in value.split(", "):
                    self.urls.append((tag, name, cand.strip().split(" ")[0]))

    handle_startendtag = handle_starttag

    def handle_comment(self, data):
        if not self.page:
            self.problems.append("comment")


def scheme_of(url):
    u = re.sub(r"[\x00-\x20]", "", url)
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):", u)
    return m.group(1).lower() if m else None


def inspect(body, where, page=False, relative_ok=False):
    """The problems of one HTML body (a list of strings)."""
    ins = Inspector(page)
    ins.feed(body)
    ins.close()
    out = ["%s: %s" % (where, p) for p in ins.problems]
    for tag, name, url in ins.urls:
        s = scheme_of(url)
        if s is None:
            if not (relative_ok or url.startswith("#")):
                out.append("%s: relative %s=%r on <%s>"
                           % (where, name, url, tag))
        elif s not in ("http", "https", "mailto") and not (
                tag == "img" and name == "src" and
                url.lower().startswith("data:image/")) and not (
                tag == "a" and name == "href" and s in LINK_SCHEMES):
            out.append("%s: %s=%r on <%s>" % (where, name, url, tag))
    if re.search(r"(?i)javascript:|vbscript:", " ".join(
            u for _, _, u in ins.urls)):
        out.append("%s: script URL" % where)
    return out


def bodies(fmt, data):
    """The HTML bodies of a feed document: (where, html) pairs."""
    out = []
    if fmt == "json":
        d = json.loads(data)
        for i, it in enumerate(d.get("items", [])):
            for k in ("content_html", "summary"):
                if it.get(k):
                    out.append(("item %d %s" % (i, k), it[k]))
        return out
    root = ET.fromstring(data)
    if fmt == "atom":
        for i, e in enumerate(root.iter(ATOM_NS + "entry")):
            for k in ("summary", "content"):
                for el in e.findall(ATOM_NS + k):
                    if el.get("type") == "html":
                        out.append(("entry %d %s" % (i, k), el.text or ""))
    else:
        for i, e in enumerate(root.iter("item")):
            for el in list(e.findall("description")) + \
                    list(e.findall(CONTENT_NS + "encoded")):
                out.append(("item %d %s" % (i, el.tag), el.text or ""))
    return out


def fmt_of(path):
    return path.rsplit(".", 1)[-1]


# --- the hostile feeds, through serve -----------------------------------

def hostile_server(td, srv):
    srv.route("/hostile.xml", body=hostile_rss())
    srv.route("/atom.xml", body=hostile_atom(),
              content_type="application/atom+xml")
    srv.route("/moved.xml", redirect=(301, "/news/final.xml"))
    srv.route("/news/final.xml", body=hostile_rss())
    os.makedirs(td.join("var"), exist_ok=True)
    td.write("feeds.conf",
             "[tributary]\ndatabase = %s\ninterval = 1h\n"
             "embed_hosts = www.youtube-nocookie.com\n\n"
             "[feed \"hostile\"]\nurl = %s\ntags = bad\n\n"
             "[feed \"atom\"]\nurl = %s\ntags = bad\n\n"
             "[feed \"moved\"]\nurl = %s\n"
             % (td.join("var", "db.sqlite"), srv.url("/hostile.xml"),
                srv.url("/atom.xml"), srv.url("/moved.xml")))
    r = run("-c", td.join("feeds.conf"), "fetch")
    eq(r.rc, 0, "fetch: %r" % r)
    return Server(td)


ENDPOINTS = ["/feed.atom", "/feed.rss", "/feed.json",
             "/tags/bad.atom", "/tags/bad.rss", "/tags/bad.json",
             "/feeds/hostile.atom", "/feeds/hostile.rss",
             "/feeds/hostile.json", "/feeds/atom.atom", "/feeds/atom.rss",
             "/feeds/atom.json", "/feeds/moved.json"]


@test
def every_endpoint_is_free_of_active_content():
    with FeedServer() as srv, TempDir() as td:
        tr = hostile_server(td, srv)
        try:
            problems, n = [], 0
            for path in ENDPOINTS:
                status, _, data = tr.get(path + "?limit=1000")
                eq(status, 200, path)
                bs = bodies(fmt_of(path), data.decode("utf-8"))
                check(bs, "%s: no bodies" % path)
                for where, b in bs:
                    n += 1
                    problems += inspect(b, path + " " + where)
            status, _, page = tr.get("/")
            eq(status, 200, "/")
            problems += inspect(page.decode("utf-8"), "/", page=True,
                                relative_ok=True)
            eq(problems[:10], [], "problems")
            print("  %d bodies in %d documents and the page: clean"
                  % (n, len(ENDPOINTS)))
        finally:
            tr.stop()


@test
def stored_bodies_keep_article_markup_with_absolute_urls():
    with FeedServer() as srv, TempDir() as td:
        tr = hostile_server(td, srv)
        try:
            d = json.loads(tr.get("/feeds/atom.json?limit=1000")[2])
            html = " ".join(it.get("content_html", "") for it in d["items"])
            # feed base, entry base e<N>/, content base c/
            check('href="http://base.example/blog/e0/c/rel/page.html"'
                  in html, "xml:base chain: %r" % html[:400])
            check('src="http://base.example/img/pic.png"' in html,
                  "root-relative src")
            check('srcset="http://base.example/blog/e0/c/a.png 1x, '
                  'http://base.example/b.png 2x"' in html, "srcset")
            check('rel="noopener noreferrer"' in html, "rel on links")
            check('href="magnet:?xt=urn:btih:c12f&amp;dn=e"' in html and
                  'href="tel:+1-555-0100"' in html,
                  "links that open an application: %r" % html[:600])
            check('<img src="http://base.example/blog/e0/c/lazy.png" />'
                  in html, "a lazy image's source: %r" % html[:800])
            titles = [it["title"] for it in d["items"]]
            check(all("<" not in t and 'b">' not in t for t in titles),
                  "markup in titles: %r" % titles[:3])
            # the document's URL after a redirect is the base
            d = json.loads(tr.get("/feeds/moved.json?limit=1000")[2])
            html = " ".join(it.get("content_html", "") for it in d["items"])
            check('href="%s"' % srv.url("/news/rel/page.html") in html,
                  "base after redirect: %r" % html[:300])
            d = json.loads(tr.get("/feeds/hostile.json?limit=1000")[2])
            titles = [it["title"] for it in d["items"]]
            check(all(re.fullmatch(r"t\d+", t) for t in titles),
                  "titles leak markup: %r" % titles[:4])
        finally:
            tr.stop()


@test
def unchanged_items_are_not_updated_again():
    """The content hash is of the stored (sanitized) bodies: a document
    that changes around the same items updates none of them."""
    with FeedServer() as srv, TempDir() as td:
        body = hostile_rss().replace(b"<description>d</description>",
                                     b"<description>round {n}</description>")
        srv.route("/h.xml", body=body, vary=True)
        td.write("feeds.conf", "[tributary]\ndatabase = %s\n\n"
                 "[feed \"h\"]\nurl = %s\n" % (td.join("db.sqlite"),
                                                 srv.url("/h.xml")))
        lines = []
        for _ in range(3):
            r = run("-c", td.join("feeds.conf"), "fetch", "--force")
            eq(r.rc, 0, "fetch: %r" % r)
            lines.append([ln for ln in r.out.splitlines()
                          if ln.startswith("h ")][0])
        check("%d new, 0 updated" % len(VECTORS) in lines[0], lines[0])
        for ln in lines[1:]:
            check(" ok " in ln and "0 new, 0 updated" in ln,
                  "a changed document with the same items: %r" % ln)


def chromium(url, tmp):
    """Loads url in headless Chromium; (console lines, DOM)."""
    check(os.access(CHROMIUM, os.X_OK),
          "%s is missing: scripts/install-deps installs it" % CHROMIUM)
    p = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--user-data-dir=" + tmp,
         "--enable-logging=stderr", "--v=0", "--virtual-time-budget=3000",
         "--dump-dom", url],
        capture_output=True, text=True, timeout=120)
    console = [ln for ln in p.stderr.splitlines() if "CONSOLE" in ln]
    return console, p.stdout


@test
def no_probe_runs_in_chromium():
    with FeedServer() as srv, TempDir() as td:
        tr = hostile_server(td, srv)
        try:
            d = json.loads(tr.get("/feed.json?limit=1000")[2])
            page_url = tr.base + "/"
            # Every stored body on one page without any CSP, as a feed
            # reader that trusts tributary would show them.
            allbodies = "".join("<article>%s%s</article>" % (
                it.get("summary", ""), it.get("content_html", ""))
                for it in d["items"])
            bodies_page = td.write(
                "bodies.html", "<!doctype html><meta charset=utf-8>"
                "<title>b</title><body>%s</body>" % allbodies)
            control = td.write(
                "control.html", "<!doctype html><body><img src=x "
                "onerror=\"console.log('CONTROL-PROBE')\"><script>"
                "console.log('CONTROL-SCRIPT')</script>")
            prof = tempfile.mkdtemp(dir=td.join("."))
            console, _ = chromium("file://" + control, prof)
            check(any("CONTROL-PROBE" in c for c in console) and
                  any("CONTROL-SCRIPT" in c for c in console),
                  "the control probes were not seen: %r" % console)
            console, dom = chromium("file://" + bodies_page, prof)
            eq([c for c in console if "PWNED" in c], [], "bodies' console")
            check("<article>" in dom, "bodies page not rendered")
            eq(inspect(dom, "bodies DOM", page=True, relative_ok=True)[:5],
               [], "the DOM after scripts could have run")
            console, dom = chromium(page_url, prof)
            eq([c for c in console if "PWNED" in c], [], "page console")
            check("hostile" in dom or "t0" in dom, "page not rendered")
            print("  %d bodies and the page: no probe ran" % len(d["items"]))
        finally:
            tr.stop()


# --- the corpus -----------------------------------------------------------

def corpus_dir():
    return os.environ.get("TR_CORPUS") or os.path.join(
        SRC, "..", "shared", "corpus")


@test
def corpus_bodies_have_no_relative_urls():
    top = corpus_dir()
    if not os.path.isdir(top):
        check(not os.environ.get("TR_CORPUS"), "TR_CORPUS %s missing" % top)
        print("  skipped: no corpus at %s (set TR_CORPUS)" % top)
        return
    docs = []
    for d, _, files in os.walk(top):
        for f in sorted(files):
            if f.endswith((".xml", ".rss", ".atom", ".rdf")):
                docs.append(os.path.join(d, f))
    check(len(docs) > 10, "corpus has %d documents" % len(docs))
    with FeedServer() as srv, TempDir() as td:
        conf = ["[tributary]\ndatabase = %s\ninterval = 1h\n"
                % td.join("db.sqlite")]
        names = []
        for i, path in enumerate(docs):
            rel = os.path.relpath(path, top)
            route = "/corpus/" + rel.replace(os.sep, "/")
            with open(path, "rb") as fh:
                srv.route(route, body=fh.read(),
                          content_type="application/xml")
            names.append("c%d" % i)
            conf.append("[feed \"c%d\"]\nurl = %s\n" % (i, srv.url(route)))
        td.write("feeds.conf", "\n".join(conf))
        r = run("-c", td.join("feeds.conf"), "fetch", timeout=300)
        check(r.rc in (0, 1), "fetch: %r" % r)
        problems, n, with_urls = [], 0, 0
        for name in names:
            for fmt in ("atom", "rss", "json"):
                r = run("-c", td.join("feeds.conf"), "export", "--format",
                        fmt, "--feed", name, "--limit", "1000")
                if r.rc != 0:
                    continue
                for where, b in bodies(fmt, r.out):
                    n += 1
                    if re.search(r"\b(href|src|srcset)=", b):
                        with_urls += 1
                    problems += inspect(b, "%s.%s %s" % (name, fmt, where))
        check(n > 100, "only %d bodies exported" % n)
        eq(problems[:10], [], "problems")
        print("  %d documents, %d bodies (%d with URLs) in 3 formats: "
              "no relative URL, nothing active" % (len(docs), n, with_urls))


if __name__ == "__main__":
    main()
