"""test_export.py — `tributary export` and `tributary opml import` read by
real consumers: feedparser (Atom, RSS), the RFC 4287 RELAX NG schema with
xmllint, a JSON Feed 1.1 checker, Python's HTML parser, and the OPML
importer itself.

The store is filled by running `tributary fetch` on file: feeds.
"""
import html
import html.parser
import json
import os
import re
import shutil
import stat
import subprocess
import time

import feedparser

from harness import (DATA, PG_DIR, TempDir, check, contains, eq, main,
                     run, test)

RENDER = os.path.join(DATA, "render")

CONF = """# planet config
[tributary]
database = var/t.db
base_url = http://planet.test/
title = Test planet

[feed "alpha"]
url = file:alpha.rss
public_url = https://alpha.example/feed.rss
tags = one, two

[feed "beta"]
url = file:beta.atom
title = Beta (configured)
tags = two
"""


def filled(t):
    """Writes the config and feeds into TempDir t and fills the store."""
    shutil.copy(os.path.join(RENDER, "alpha.rss"), t.join("alpha.rss"))
    shutil.copy(os.path.join(RENDER, "beta.atom"), t.join("beta.atom"))
    os.makedirs(t.join("var"), exist_ok=True)
    conf = t.write_conf("feeds.conf", CONF)
    r = run("-c", conf, "fetch")
    check(r.rc == 0, "fetch: %r" % r)
    return conf


def export(conf, *args):
    r = run("-c", conf, "export", *args)
    check(r.rc == 0, "export %s: %r" % (" ".join(args), r))
    return r.out


def source_articles():
    """(link, id) of every article of the fixtures, read by feedparser."""
    out = set()
    for name in ("alpha.rss", "beta.atom"):
        d = feedparser.parse(os.path.join(RENDER, name))
        check(not d.bozo, "fixture %s: %s" % (name, d.get("bozo_exception")))
        for e in d.entries:
            out.add(e.link)
    return out


def plain(s):
    """A title as text: markup entities decoded, tags (which the parser
    may clean out of a title) removed with the contents of script and
    style (which are not text), white space collapsed."""
    s = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ",
               html.unescape(s))
    s = re.sub(r"<[^>]*>", " ", s)
    return " ".join(s.split())


def source_titles():
    out = set()
    for name in ("alpha.rss", "beta.atom"):
        for e in feedparser.parse(os.path.join(RENDER, name)).entries:
            out.add(plain(e.title))
    return out


def check_feedparser(text, fmt):
    d = feedparser.parse(text.encode("utf-8"))
    check(not d.bozo, "%s: bozo: %s" % (fmt, d.get("bozo_exception")))
    eq(d.version, {"atom": "atom10", "rss": "rss20"}[fmt], "version")
    eq(d.feed.title, "Test planet", "feed title")
    eq(len(d.entries), 5, "entries")
    eq({e.link for e in d.entries}, source_articles(), "links")
    eq({plain(e.title) for e in d.entries}, source_titles(), "titles")
    return d


@test
def atom_read_by_feedparser():
    with TempDir() as t:
        conf = filled(t)
        d = check_feedparser(export(conf), "atom")
        eq(d.feed.id, "http://planet.test/feed.atom", "feed id")
        links = {l.rel: l.href for l in d.feed.links}
        eq(links.get("self"), "http://planet.test/feed.atom", "self")
        eq(links.get("alternate"), "http://planet.test/", "alternate")
        by = {e.link: e for e in d.entries}
        one = by["https://alpha.example/posts/1"]
        eq(one.id, "https://alpha.example/posts/1", "origin id kept")
        eq(one.author, "Ann Author", "author")
        eq([t.term for t in one.tags], ["news", "tech & science"], "tags")
        enc = [l for l in one.links if l.rel == "enclosure"]
        eq([(l.href, l.type, l.length) for l in enc],
           [("https://alpha.example/media/one.mp3", "audio/mpeg", "12345")],
           "enclosure")
        contains(one.content[0].value, "Full <em>content</em>")
        eq(one.source.title, "Alpha & Sons", "source title")
        eq(one.published, "2024-12-06T09:30:00Z", "published")
        b1 = by["https://beta.example/1"]
        eq([a.name for a in b1.authors], ["Bea Writer", "Co Author"],
           "authors")
        eq(b1.updated, "2024-12-08T08:00:00Z", "updated")
        # Every entry has an author and an updated date (RFC 4287 4.1.2).
        for e in d.entries:
            check(e.get("author"), "entry without author: %s" % e.link)
            check(e.get("updated"), "entry without updated: %s" % e.link)


@test
def atom_valid_against_rfc4287_schema():
    if not shutil.which("trang") or not shutil.which("xmllint"):
        check(False, "trang and xmllint are needed for this test")
    with TempDir() as t:
        conf = filled(t)
        shared = os.path.join(os.environ.get("TR_SRC", ""), "..", "shared",
                              "schemas", "atom.rnc")
        rnc = shared if os.path.exists(shared) else os.path.join(
            DATA, "atom.rnc")
        rng = t.join("atom.rng")
        p = subprocess.run(["trang", rnc, rng], capture_output=True,
                           text=True)
        check(p.returncode == 0, "trang: %s" % p.stderr)
        for args in ((), ("--limit", "2"), ("--feed", "beta")):
            path = t.write("out.atom", export(conf, *args))
            p = subprocess.run(["xmllint", "--noout", "--relaxng", rng,
                                path], capture_output=True, text=True)
            check(p.returncode == 0, "xmllint %s: %s" % (args, p.stderr))


@test
def rss_read_by_feedparser():
    with TempDir() as t:
        conf = filled(t)
        text = export(conf, "--format", "rss")
        path = t.write("out.rss", text)
        p = subprocess.run(["xmllint", "--noout", path], capture_output=True,
                           text=True)
        check(p.returncode == 0, "xmllint: %s" % p.stderr)
        d = check_feedparser(text, "rss")
        by = {e.link: e for e in d.entries}
        one = by["https://alpha.example/posts/1"]
        eq(one.id, "https://alpha.example/posts/1", "guid")
        # (feedparser's guidislink is false whenever <link> is present, so
        # isPermaLink is read from the document itself.)
        guids = dict((g, p) for p, g in re.findall(
            r'<guid isPermaLink="(true|false)">([^<]*)</guid>', text))
        eq(guids, {"https://alpha.example/posts/1": "true",
                   "https://alpha.example/posts/3": "false",
                   "alpha-2": "false",
                   "tag:beta.example,2024:1": "false",
                   "tag:beta.example,2024:2": "false"}, "isPermaLink")
        eq(one.published, "Fri, 06 Dec 2024 09:30:00 GMT", "pubDate")
        contains(one.content[0].value, "Full <em>content</em>")
        eq(one.enclosures[0].href, "https://alpha.example/media/one.mp3",
           "enclosure")
        three = by["https://alpha.example/posts/3?utm_source=rss&a=1"]
        eq(three.enclosures[0].length, "0", "unknown length")
        eq(one.source.title, "Alpha & Sons", "source")
        eq(one.source.href, "https://alpha.example/feed.rss", "source url")
        # beta is read from a file and has no public_url: its path on
        # this machine is shown nowhere, and RSS's <source> needs a url.
        check("file:" not in text and t.path not in text,
              "a file feed's path published")
        eq(text.count("<source "), 3, "sources: alpha's three items only")


RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?"
                     r"(Z|[+-]\d\d:\d\d)$")


def check_jsonfeed(doc):
    """The JSON Feed 1.1 spec's required fields and types."""
    eq(doc.get("version"), "https://jsonfeed.org/version/1.1", "version")
    check(isinstance(doc.get("title"), str), "title must be a string")
    for k in ("home_page_url", "feed_url", "next_url", "description"):
        check(k not in doc or isinstance(doc[k], str), "%s type" % k)
    check(isinstance(doc.get("items"), list), "items must be an array")
    for it in doc["items"]:
        check(isinstance(it.get("id"), str) and it["id"], "item id %r" % it)
        check(isinstance(it.get("content_html"), str) or
              isinstance(it.get("content_text"), str),
              "item needs content_html or content_text: %r" % it)
        for k in ("url", "title", "summary", "content_html"):
            check(k not in it or isinstance(it[k], str), "%s type" % k)
        for k in ("date_published", "date_modified"):
            check(k not in it or RFC3339.match(it[k]), "%s: %r" % (k, it))
        for a in it.get("authors", []):
            check(isinstance(a, dict) and ("name" in a or "url" in a),
                  "author %r" % a)
        check(all(isinstance(x, str) for x in it.get("tags", [])), "tags")
        for a in it.get("attachments", []):
            check(isinstance(a.get("url"), str), "attachment url")
            check(isinstance(a.get("mime_type"), str), "attachment type")
            check("size_in_bytes" not in a or
                  isinstance(a["size_in_bytes"], int), "attachment size")
        for k in it:
            check(k in ("id", "url", "external_url", "title", "content_html",
                        "content_text", "summary", "image", "banner_image",
                        "date_published", "date_modified", "authors",
                        "tags", "language", "attachments")
                  or k.startswith("_"), "unknown item key %s" % k)


@test
def json_feed_valid():
    with TempDir() as t:
        conf = filled(t)
        doc = json.loads(export(conf, "--format", "json"))
        check_jsonfeed(doc)
        eq(doc["feed_url"], "http://planet.test/feed.json", "feed_url")
        eq({it["url"] for it in doc["items"]}, source_articles(), "urls")
        by = {it["url"]: it for it in doc["items"]}
        one = by["https://alpha.example/posts/1"]
        eq(one["authors"], [{"name": "Ann Author"}], "authors")
        eq(one["attachments"], [{"url": "https://alpha.example/media/one.mp3",
                                 "mime_type": "audio/mpeg",
                                 "size_in_bytes": 12345}], "attachments")
        eq(one["summary"], "A short summary with an entity: \u00e9",
           "plain-text summary")
        eq(one["_source"]["name"], "alpha", "_source")
        # Paging: next_url when there is more.
        doc = json.loads(export(conf, "--format", "json", "--limit", "2"))
        check_jsonfeed(doc)
        eq(len(doc["items"]), 2, "limited items")
        contains(doc.get("next_url", ""), "http://planet.test/feed.json?")
        contains(doc["next_url"], "before=")


class PageChecker(html.parser.HTMLParser):
    VOID = {"meta", "link", "br", "img", "hr", "input"}

    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.links, self.alternates = [], [], [], []
        self.text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "iframe", "object", "embed", "img"):
            self.errors.append("third-party element <%s>" % tag)
        for k in a:
            if k.startswith("on"):
                self.errors.append("event handler %s" % k)
        if tag == "a":
            self.links.append(a.get("href", ""))
        if tag == "link" and a.get("rel") == "alternate":
            self.alternates.append((a.get("type"), a.get("href")))
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("unbalanced </%s> (open: %s)" %
                               (tag, self.stack[-3:]))
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


@test
def html_page_sane():
    with TempDir() as t:
        conf = filled(t)
        page = export(conf, "--format", "html")
        check(page.startswith("<!DOCTYPE html>"), "doctype")
        p = PageChecker()
        p.feed(page)
        p.close()
        eq(p.errors, [], "page errors")
        eq(p.stack, [], "unclosed elements")
        eq(sorted(p.alternates), sorted([
            ("application/atom+xml", "http://planet.test/feed.atom"),
            ("application/rss+xml", "http://planet.test/feed.rss"),
            ("application/feed+json", "http://planet.test/feed.json")]),
           "autodiscovery")
        for href in p.links:
            check(href.startswith("http://") or href.startswith("https://"),
                  "link %r" % href)
        check("https://alpha.example/posts/1" in p.links, "article link")
        check("http://planet.test/feeds.opml" in p.links, "opml link")
        text = "".join(p.text)
        # Every title as the store holds it (JSON Feed carries it as is).
        for it in json.loads(export(conf, "--format", "json"))["items"]:
            contains(text, it["title"])
        contains(text, "Alpha two: ]]>")
        contains(text, "A short summary with an entity: \u00e9")
        contains(text, "Alpha & Sons")


@test
def hostile_feed_end_to_end():
    """A feed with invalid UTF-8, control characters (raw and as
    references), U+FFFE, ]]> and markup in titles, an item with no date
    and no link: every format still reads cleanly."""
    with TempDir() as t:
        shutil.copy(os.path.join(RENDER, "hostile.rss"), t.join("h.rss"))
        conf = t.write_conf("feeds.conf",
                            "[tributary]\ndatabase = h.db\n\n"
                            "[feed \"hostile\"]\nurl = file:h.rss\n")
        r = run("-c", conf, "fetch")
        check(r.rc == 0, "fetch: %r" % r)
        rng = t.join("atom.rng")
        p = subprocess.run(["trang", os.path.join(DATA, "atom.rnc"), rng],
                           capture_output=True, text=True)
        check(p.returncode == 0, "trang: %s" % p.stderr)
        for fmt in ("atom", "rss"):
            text = export(conf, "--format", fmt)
            path = t.write("out." + fmt, text)
            cmd = ["xmllint", "--noout"] + (
                ["--relaxng", rng] if fmt == "atom" else []) + [path]
            p = subprocess.run(cmd, capture_output=True, text=True)
            check(p.returncode == 0, "xmllint %s: %s" % (fmt, p.stderr))
            d = feedparser.parse(text.encode("utf-8"))
            check(not d.bozo, "%s bozo: %s" % (fmt,
                                               d.get("bozo_exception")))
            eq(len(d.entries), 2, "%s entries" % fmt)
        doc = json.loads(export(conf, "--format", "json"))
        check_jsonfeed(doc)
        eq(len(doc["items"]), 2, "json items")
        p = PageChecker()
        p.feed(export(conf, "--format", "html"))
        p.close()
        eq(p.errors, [], "page errors")


@test
def scopes_and_limits():
    with TempDir() as t:
        conf = filled(t)

        def links(*args):
            d = feedparser.parse(export(conf, *args).encode())
            check(not d.bozo, "bozo with %s" % (args,))
            return [e.link for e in d.entries], d

        got, _ = links("--feed", "beta")
        eq(sorted(got), ["https://beta.example/1", "https://beta.example/2"],
           "--feed beta")
        got, d = links("--tag", "one")
        eq(len(got), 3, "--tag one")
        eq(d.feed.id, "http://planet.test/tags/one.atom", "tag feed id")
        eq(d.feed.title, "Test planet: one", "tag title")
        got, _ = links("--tag", "two")
        eq(len(got), 5, "--tag two")
        got, _ = links("--since", "2024-12-07T00:00:00Z")
        eq(sorted(got), ["https://alpha.example/posts/2",
                         "https://alpha.example/posts/3?utm_source=rss&a=1"],
           "--since")
        got, d = links("--limit", "2")
        eq(len(got), 2, "--limit 2")
        nxt = [l.href for l in d.feed.links if l.rel == "next"]
        check(len(nxt) == 1 and "before=" in nxt[0] and "limit=2" in nxt[0],
              "next link: %r" % nxt)
        d = feedparser.parse(export(conf, "--format", "rss", "--limit",
                                    "1").encode())
        eq(len(d.entries), 1, "rss --limit 1")
        contains(export(conf, "--format", "rss", "--limit", "1"),
                 'rel="next"')


@test
def bad_arguments():
    with TempDir() as t:
        conf = filled(t)
        for args, msg in ((("--format", "xml"), "unknown format"),
                          (("--limit", "0"), "--limit"),
                          (("--limit", "1001"), "--limit"),
                          (("--limit", "ten"), "--limit"),
                          (("--since", "yesterday"), "--since"),
                          (("--tag", "nope"), "no feed"),
                          (("--feed", "nope"), "no feed named"),
                          (("--tag", "one", "--feed", "alpha"), "combined"),
                          (("extra",), "unexpected argument"),
                          (("--bogus",), "unknown option")):
            r = run("-c", conf, "export", *args)
            eq(r.rc, 2, "exit status for %s" % (args,))
            contains(r.err, msg, "stderr for %s" % (args,))
            eq(r.out, "", "stdout for %s" % (args,))
        # No database yet: a clear error.
        conf2 = t.write_conf("other.conf",
                             CONF.replace("var/t.db", "none.db"))
        r = run("-c", conf2, "export")
        eq(r.rc, 1, "exit without a database")
        if PG_DIR:
            # The database exists, empty (as an empty SQLite file would):
            # no tributary schema yet, and what makes one.
            contains(r.err, "no tributary schema")
            contains(r.err, "run 'tributary fetch' or 'tributary serve'")
            eq(t.store("none.db").execute(
                "SELECT count(*) FROM pg_tables WHERE schemaname ="
                " current_schema()").fetchone()[0], 0, "tables created")
        else:
            contains(r.err, "no store yet")
            check(not os.path.exists(t.join("none.db")), "database created")


def entries(text):
    """(feed title, entry title) of an Atom document, by feedparser."""
    d = feedparser.parse(text)
    return [(e.get("source", {}).get("title") or e.get("author", ""),
             e.get("title")) for e in d.entries]


@test
def export_applies_the_config_at_hand():
    """Titles, tags, max_per_feed and the feeds themselves come from the
    config given, not from what the last fetch left in the database; two
    configs sharing the database do not change each other's output."""
    with TempDir() as t:
        conf = filled(t)
        before = {fmt: export(conf, "--format", fmt)
                  for fmt in ("atom", "rss", "json", "html")}
        n_alpha = export(conf, "--feed", "alpha").count("<entry>")
        n_beta = export(conf, "--feed", "beta").count("<entry>")
        check(n_alpha >= 2 and n_beta >= 2, "both feeds have articles")
        other = t.write_conf("other.conf", CONF.replace(
            "title = Beta (configured)", "title = Beta renamed").replace(
            "tags = two\n", "tags = two, fresh\nmax_per_feed = 1\n").replace(
            '[feed "alpha"]', "max_per_feed = 0\n\n[feed \"alpha\"]"))
        # A title, a tag and a cap that no fetch has seen, at once:
        cases = [
            (["--tag", "fresh"], lambda x: x.count("<entry>") == 1 and
             "Beta renamed" in x, "the new tag lists beta (capped to 1)"),
            ([], lambda x: "Beta renamed" in x and
             "Beta (configured)" not in x, "the new title"),
            (["--limit", "1000"],
             lambda x: x.count("<entry>") == n_alpha + 1,
             "beta capped to 1 per page"),
        ]
        for args, ok, what in cases:
            out = export(other, *args)
            check(ok(out), "%s: %s" % (what, out[:3000]))
        # The first config's output is unchanged, byte for byte.
        for fmt, text in before.items():
            eq(export(conf, "--format", fmt), text, "%s after the other "
               "config's exports" % fmt)
        # A config without beta: beta's articles leave the output and
        # the search at once; the first config still has them.
        only_alpha = t.write_conf("alpha.conf",
                                  CONF.split('[feed "beta"]')[0])
        eq(export(only_alpha, "--limit", "1000").count("<entry>"), n_alpha,
           "without beta")
        r = run("-c", only_alpha, "export", "--feed", "beta")
        eq(r.rc, 2, "beta is not a feed of that config")
        eq(export(conf, "--limit", "1000").count("<entry>"),
           n_alpha + n_beta, "the first config, still both")
        # beta is the first config's feed, not one removed from this one:
        # not listed at all.
        r = run("-c", only_alpha, "feeds")
        eq(r.rc, 0, "feeds: %r" % r)
        line = [x for x in r.out.splitlines() if x.startswith("beta ")]
        eq(len(line), 0, "beta (another config's feed) listed")
        check(any(x.startswith("alpha ") for x in r.out.splitlines()),
              "alpha listed: %r" % r.out)


@test
def removed_feed_leaves_fetch_and_purge():
    """After a fetch with beta removed from the config, beta's articles
    are out of the merged feed; added back, they are there again; purge
    deletes them."""
    with TempDir() as t:
        conf = filled(t)
        n_all = export(conf, "--limit", "1000").count("<entry>")
        n_beta = export(conf, "--feed", "beta").count("<entry>")
        t.write_conf("feeds.conf", CONF.split('[feed "beta"]')[0])
        eq(run("-c", conf, "fetch").rc, 0, "fetch without beta")
        eq(export(conf, "--limit", "1000").count("<entry>"), n_all - n_beta,
           "beta left the merged feed")
        r = run("-c", conf, "feeds", "--json")
        beta = [f for f in json.loads(r.out) if f["name"] == "beta"][0]
        eq(beta["active"], False, "beta removed")
        eq(beta["articles"], n_beta, "beta's articles kept")
        check(beta["removed_at"] and beta["removed_at"] > time.time() - 60,
              "removed_at %r" % beta["removed_at"])
        # The text says when retention deletes it: removed_keep (30d) on.
        r = run("-c", conf, "feeds")
        line = [x for x in r.out.splitlines() if x.startswith("beta ")][0]
        when = time.strftime("%Y-%m-%d", time.gmtime(
            beta["removed_at"] + 30 * 86400))
        contains(line, "removed deleted_after=%s" % when)
        # Back within removed_keep: the history is there again.
        t.write_conf("feeds.conf", CONF)
        eq(run("-c", conf, "fetch").rc, 0, "fetch with beta again")
        eq(export(conf, "--limit", "1000").count("<entry>"), n_all,
           "beta back with its history")
        # purge refuses a feed in the config, deletes a removed one.
        r = run("-c", conf, "purge", "beta")
        eq(r.rc, 2, "purge of a configured feed: %r" % r)
        contains(r.err, "remove its section first")
        t.write_conf("feeds.conf", CONF.split('[feed "beta"]')[0])
        r = run("-c", conf, "purge", "beta")
        eq(r.rc, 0, "purge: %r" % r)
        contains(r.out, "%d articles" % n_beta)
        r = run("-c", conf, "feeds")
        check("beta" not in r.out, "beta gone: %r" % r.out)
        r = run("-c", conf, "purge", "beta")
        eq(r.rc, 1, "purge again: %r" % r)
        contains(r.err, "no feed named beta")
        # removed_keep = 0s: the next fetch's retention deletes at once.
        t.write_conf("feeds.conf", CONF)
        eq(run("-c", conf, "fetch").rc, 0, "fetch with beta again")
        t.write_conf("feeds.conf", CONF.split('[feed "beta"]')[0].replace(
            "title = Test planet", "title = Test planet\nremoved_keep = 0s"))
        eq(run("-c", conf, "fetch").rc, 0, "fetch without beta")
        r = run("-c", conf, "feeds")
        check("beta" not in r.out, "beta deleted by retention: %r" % r.out)


@test
def output_file_atomic():
    with TempDir() as t:
        conf = filled(t)
        out = t.join("www", "planet.atom")
        os.makedirs(t.join("www"))
        with open(out, "w") as f:
            f.write("old")
        os.chmod(out, 0o640)
        r = run("-c", conf, "export", "--output", out)
        eq(r.rc, 0, "exit")
        eq(r.out, "", "nothing on stdout")
        with open(out) as f:
            eq(f.read(), export(conf), "file content")
        eq(stat.S_IMODE(os.stat(out).st_mode), 0o640, "mode kept")
        eq(os.listdir(t.join("www")), ["planet.atom"], "no temporary left")
        r = run("-c", conf, "export", "--output",
                t.join("missing", "x.atom"))
        eq(r.rc, 1, "exit for an impossible path")
        contains(r.err, "missing/x.atom")


@test
def opml_round_trip():
    with TempDir() as t:
        conf = filled(t)
        # file: feeds are not importable (a shared OPML must not make
        # tributary read local files), so the round trip uses http ones.
        http_conf = t.write("http.conf", """[tributary]
database = var/none.db
title = Round <trip> & back

[feed "world"]
url = https://news.example/world.xml
title = World news
tags = news, world

[feed "lwn"]
url = https://lwn.net/headlines/rss
""")
        opml = export(http_conf, "--format", "opml")
        path = t.write("subs.opml", opml)
        p = subprocess.run(["xmllint", "--noout", path], capture_output=True,
                           text=True)
        check(p.returncode == 0, "xmllint: %s" % p.stderr)
        r = run("opml", "import", path)
        eq(r.rc, 0, "import exit")
        eq(r.out, "[feed \"world\"]\nurl = https://news.example/world.xml"
           "\ntitle = World news\ntags = news, world\n\n"
           "[feed \"lwn\"]\nurl = https://lwn.net/headlines/rss\n\n",
           "sections: the names and titles of the config")
        # With the store: htmlUrl from what fetch saw, and the same bytes
        # a second later (the endpoint gives it a strong ETag).
        opml = export(conf, "--format", "opml")
        time.sleep(1.1)
        eq(export(conf, "--format", "opml"), opml, "second export")
        contains(opml, 'htmlUrl="https://alpha.example/"')
        contains(opml, 'xmlUrl="https://alpha.example/feed.rss"')
        contains(opml, 'category="/one,/two"')
        # beta is read from a file (no public_url): not an address
        # another reader can subscribe to, and a path on this machine.
        check("file:" not in opml and 'tributary:name="beta"' not in opml,
              "file feed in the OPML: %s" % opml)


# Feeds whose sections must come back the same through OPML export and
# import: (name, url, title or None, tags).
ROUND_TRIP_FEEDS = [
    ("world-news", "https://news.example/world.xml", "World news",
     ["news", "world"]),
    ("lwn", "https://lwn.net/headlines/rss", None, []),
    ("Caps_and.dots-1", "https://caps.example/feed", None, ["tech"]),
    ("same-title-a", "https://a.example/feed", "Same title", []),
    ("same-title-b", "https://b.example/feed", "Same title", ["x"]),
    ("slug-differs", "https://slug.example/feed", "A Title: Unlike its Name",
     ["one", "two", "three"]),
    ("unicode", "https://u.example/feed", "Ünïcödé & <tags>", ["café"]),
    ("feed", "https://feed.example/x", "feed-2", []),
]


def round_trip_conf(feeds):
    lines = ["[tributary]", "database = var/none.db", "title = Round trip",
             ""]
    for name, url, title, tags in feeds:
        lines.append('[feed "%s"]' % name)
        lines.append("url = %s" % url)
        if title:
            lines.append("title = %s" % title)
        if tags:
            lines.append("tags = %s" % ", ".join(tags))
        lines.append("")
    return "\n".join(lines)


@test
def opml_round_trip_is_lossless():
    """export --format opml, then opml import: the same sections, so the
    same names (the URLs /feeds/NAME.atom), titles and tags."""
    with TempDir() as t:
        conf = t.write("feeds.conf", round_trip_conf(ROUND_TRIP_FEEDS))
        r = run("-c", conf, "check")
        eq(r.rc, 0, "the config is valid: %r" % r)
        opml = export(conf, "--format", "opml")
        for name, _, _, _ in ROUND_TRIP_FEEDS:
            contains(opml, 'tributary:name="%s"' % name)
        path = t.write("subs.opml", opml)
        p = subprocess.run(["xmllint", "--noout", path], capture_output=True,
                           text=True)
        check(p.returncode == 0, "xmllint: %s" % p.stderr)
        r = run("opml", "import", path)
        eq(r.rc, 0, "import: %r" % r)
        want = round_trip_conf(ROUND_TRIP_FEEDS).split("\n", 4)[4] + "\n"
        eq(r.out, want, "imported sections")
        # Again through a config made of the imported sections: the same
        # OPML, byte for byte.
        conf2 = t.write("again.conf", "[tributary]\ndatabase = var/none.db\n"
                        "title = Round trip\n\n" + r.out)
        eq(run("-c", conf2, "check").rc, 0, "imported config valid")
        eq(export(conf2, "--format", "opml"), opml, "second export")
        # Appended to a config that has one of the names already: the
        # imported one is renamed, the rest keep theirs.
        conf3 = t.write("three.conf", "[tributary]\ndatabase = x.db\n\n"
                        '[feed "lwn"]\nurl = https://other.example/rss\n')
        r = run("-c", conf3, "opml", "import", "--append", path)
        eq(r.rc, 0, "append: %r" % r)
        with open(conf3) as f:
            text = f.read()
        contains(text, '[feed "lwn-2"]\nurl = https://lwn.net/headlines/rss')
        contains(text, '[feed "Caps_and.dots-1"]')
        # An OPML of another reader (no tributary:name): names from titles.
        other = t.write("other.opml", re.sub(r' tributary:name="[^"]*"', "",
                                              opml))
        r = run("opml", "import", other)
        eq(r.rc, 0, "import: %r" % r)
        contains(r.out, '[feed "world-news"]')
        contains(r.out, '[feed "a-title-unlike-its-name"]')


@test
def opml_import_append():
    with TempDir() as t:
        original = ("; my feeds\n[tributary]\ndatabase = x.db  ; inline\n\n"
                    "# kept\n[feed \"lwn-net\"]\nurl = "
                    "https://lwn.net/headlines/rss\n")
        conf = t.write("feeds.conf", original)
        os.chmod(conf, 0o600)
        src = os.path.join(DATA, "opml", "subscriptions.opml")
        r = run("-c", conf, "opml", "import", "--append", src)
        eq(r.rc, 0, "exit: %r" % r)
        contains(r.err, "8 new feeds added")
        with open(conf) as f:
            text = f.read()
        check(text.startswith(original), "original text kept byte for byte")
        contains(text, '[feed "lwn-net-2"]\nurl = https://other.example/lwn')
        check("url = https://lwn.net/headlines/rss\ntitle" not in text,
              "already subscribed URL imported again")
        eq(stat.S_IMODE(os.stat(conf).st_mode), 0o600, "mode kept")
        r = run("-c", conf, "check")
        eq(r.rc, 0, "appended config is valid: %r" % r)
        contains(r.out, "9 feeds")
        # Again: nothing new, the file is untouched.
        r = run("-c", conf, "opml", "import", "--append", src)
        eq(r.rc, 0, "second exit")
        contains(r.err, "0 new feeds")
        with open(conf) as f:
            eq(f.read(), text, "second import changed the file")
        # Errors: a broken document, a missing file, no file.
        bad = t.write("bad.opml", "<opml><body><outline></body></opml>")
        r = run("-c", conf, "opml", "import", bad)
        eq(r.rc, 1, "broken OPML")
        contains(r.err, "line 1, column")
        r = run("opml", "import", t.join("nope.opml"))
        eq(r.rc, 1, "missing file")
        r = run("opml", "import")
        eq(r.rc, 2, "no file")
        r = run("opml", "frobnicate")
        eq(r.rc, 2, "unknown subcommand")


# Feeds whose own author comes after some of their items (an Atom feed's
# <author>, an RSS channel's managingEditor, which feedparser also reads
# as the feed's author), beside items with an author of their own.
LATE_ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Late</title>
<id>urn:late</id><updated>2024-03-01T00:00:00Z</updated>
<entry><id>urn:late:1</id><title>late one</title>
<link href="http://late.test/1"/><updated>2024-03-01T00:00:00Z</updated>
</entry>
<entry><id>urn:late:2</id><title>late two</title>
<link href="http://late.test/2"/><updated>2024-03-02T00:00:00Z</updated>
<author><name>Own Writer</name></author></entry>
<author><name>Late Author</name></author>
<entry><id>urn:late:3</id><title>late three</title>
<link href="http://late.test/3"/><updated>2024-03-03T00:00:00Z</updated>
</entry></feed>
"""
LATE_RSS = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Late RSS</title>
<link>http://laterss.test/</link><description>d</description>
<item><title>rss one</title><link>http://laterss.test/1</link>
<pubDate>Fri, 01 Mar 2024 00:00:00 GMT</pubDate></item>
<managingEditor>ed@laterss.test (Ed Itor)</managingEditor>
<item><title>rss two</title><link>http://laterss.test/2</link>
<pubDate>Sat, 02 Mar 2024 00:00:00 GMT</pubDate></item>
</channel></rss>
"""
LATE_WANT = {"late one": "Late Author", "late two": "Own Writer",
             "late three": "Late Author", "rss one": "Ed Itor",
             "rss two": "Ed Itor"}


@test
def late_feed_author_on_every_item():
    with TempDir() as t:
        t.write("late.atom", LATE_ATOM)
        t.write("late.rss", LATE_RSS)
        os.makedirs(t.join("var"), exist_ok=True)
        conf = t.write_conf("feeds.conf", "[tributary]\n"
                            "database = var/late.db\n"
                            "[feed \"la\"]\nurl = file:late.atom\n"
                            "[feed \"lr\"]\nurl = file:late.rss\n")
        r = run("-c", conf, "fetch")
        check(r.rc == 0, "fetch: %r" % r)
        # parse shows the feed's author however late the document names it
        r = run("parse", "--json", t.join("late.atom"))
        eq(json.loads(r.out)["feed"]["author"], "Late Author",
           "parse --json: feed author")
        contains(run("parse", t.join("late.atom")).out,
                 "author: Late Author")
        for fmt in ("atom", "rss"):
            d = feedparser.parse(export(conf, "--format", fmt))
            got = {e.title: e.get("author_detail", {}).get("name") or
                   e.get("author") for e in d.entries}
            eq(got, LATE_WANT, fmt + ": authors")
        doc = json.loads(export(conf, "--format", "json"))
        got = {i["title"]: (i.get("authors") or [{}])[0].get("name")
               for i in doc["items"]}
        eq(got, LATE_WANT, "json: authors")
        page = export(conf, "--format", "html")
        for name, n in (("Late Author", 2), ("Own Writer", 1),
                        ("Ed Itor", 2)):
            eq(page.count('by <span class="author">%s</span>' % name), n,
               "html: " + name)


main()
