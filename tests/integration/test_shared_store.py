"""test_shared_store.py — two config files sharing one database: fetch,
export, feeds and serve of each show exactly that config's feeds, and
neither config's rounds mark the other's feeds removed or delete them
(removed_keep = 1s, so that a wrong removal would delete at once). A feed
leaves the outputs when its own config drops it, and is deleted only
when no config lists it: on an SQLite file and on a PostgreSQL database
(a temporary cluster from tests/pg). And a database deleted between two
starts: the next writer refuses to put an empty one in its place.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import feedparser

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (SRC, TRIBUTARY, TempDir, check, contains, eq,  # noqa
                     main, run, test)
from server import FeedServer  # noqa: E402


def rss(title, prefix, n=2):
    items = "".join(
        "<item><title>%s %d</title><link>https://example.org/%s/%d</link>"
        "<guid>https://example.org/%s/%d</guid>"
        "<pubDate>Mon, 02 Nov 2026 10:%02d:00 GMT</pubDate></item>"
        % (prefix, i, prefix, i, prefix, i, i) for i in range(n))
    return ("<?xml version='1.0'?><rss version='2.0'><channel>"
            "<title>%s</title><link>https://example.org/%s</link>"
            "<description>d</description>%s</channel></rss>"
            % (title, prefix, items))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_conf(tmp, name, port, feeds, title):
    """feeds: (name, url, tag); a config file of its own, one database."""
    text = ("[tributary]\ndatabase = %s\nlisten = 127.0.0.1:%d\n"
            "interval = 1h\nremoved_keep = 1s\ntitle = %s\n"
            % (getattr(tmp, "db", None) or tmp.join("shared.db"), port,
               title))
    for f, url, tag in feeds:
        text += ('[feed "%s"]\nurl = %s\ntags = %s\ntitle = %s of %s\n'
                 % (f, url, tag, f, name))
    return tmp.write(name + ".conf", text)


def get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                    timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def db_names(tmp, where="1"):
    if getattr(tmp, "db", None):
        r = subprocess.run(["psql", "-X", "-qAt", "-h", tmp.join("pg"),
                            "-U", "tr", "-d", "shared", "-c",
                            "SELECT name FROM feeds WHERE " +
                            ("true" if where == "1" else where)],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "psql: %s" % r.stderr)
        return sorted(r.stdout.split())
    import sqlite3
    con = sqlite3.connect("file:%s?mode=ro" % tmp.join("shared.db"),
                          uri=True)
    try:
        return sorted(r[0] for r in con.execute(
            "SELECT name FROM feeds WHERE " + where))
    finally:
        con.close()


def prefixes(text):
    """The feeds whose items (https://example.org/PREFIX/N) text shows."""
    return sorted(p for p in ("a1", "b1", "s") if
                  "https://example.org/%s/" % p in text)


def outputs(conf):
    """What each export format of conf shows: {format: [prefixes]}."""
    got = {}
    for fmt in ("atom", "rss", "json", "html"):
        r = run("-c", conf, "export", "-f", fmt)
        check(r.rc == 0, "export %s: %r" % (fmt, r))
        if fmt in ("atom", "rss"):
            d = feedparser.parse(r.out)
            got[fmt] = prefixes(" ".join(e.link for e in d.entries))
        elif fmt == "json":
            got[fmt] = prefixes(" ".join(
                i.get("url", "") for i in json.loads(r.out)["items"]))
        else:
            got[fmt] = prefixes(r.out)
    return got


def check_side(conf, own, tag, what, removed=()):
    """conf's exports, its tag's and its feeds list show exactly own."""
    for fmt, p in outputs(conf).items():
        eq(p, own, "%s: export -f %s" % (what, fmt))
    r = run("-c", conf, "export", "-f", "atom", "--tag", tag)
    check(r.rc == 0, "%s: export --tag %s: %r" % (what, tag, r))
    eq(prefixes(r.out), [p for p in own if p != "s"],
       "%s: export --tag %s" % (what, tag))
    r = run("-c", conf, "feeds", "--json")
    check(r.rc == 0, "%s: feeds: %r" % (what, r))
    listed = json.loads(r.out)
    eq(sorted(f["name"] for f in listed if f["active"]), own,
       "%s: feeds --json, active" % what)
    # Another config's feeds are not listed (only feeds no config lists
    # any more show, as removed).
    if removed is not None:  # None: s may be deleted already (1 s)
        eq(sorted(f["name"] for f in listed if not f["active"]),
           list(removed), "%s: feeds --json, removed" % what)


class Serve:
    def __init__(self, tmp, conf, port, name="serve"):
        self.errpath = tmp.join(name + ".log")
        self.port = port
        self.proc = subprocess.Popen(
            [TRIBUTARY, "-v", "-c", conf, "serve"],
            stdout=subprocess.DEVNULL, stderr=open(self.errpath, "w"))

    def ready(self):
        end = time.monotonic() + 15
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise AssertionError("serve ended: %s\n%s" % (
                    self.proc.returncode, self.log()))
            try:
                if get(self.port, "/healthz")[0] in (200, 503):
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("serve not listening:\n" + self.log())

    def log(self):
        with open(self.errpath) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def served(port):
    """What serve shows: {document: [prefixes]} and the page's feeds."""
    got = {}
    for path in ("/feed.atom", "/feed.rss", "/feed.json", "/"):
        st, body = get(port, path)
        eq(st, 200, "GET " + path)
        got[path] = prefixes(body)
    return got


class Store:
    """The store of tmp: an SQLite file, or a database "shared" of a
    temporary cluster in tmp/pg (then tmp.db is its address)."""

    def __init__(self, tmp, backend):
        self.tmp, self.backend = tmp, backend

    def __enter__(self):
        if self.backend == "postgresql":
            d = self.tmp.join("pg")
            os.chmod(self.tmp.path, 0o755)  # the server's user enters it
            r = subprocess.run([os.path.join(SRC, "tests", "pg"), "start",
                                d], capture_output=True, text=True,
                               timeout=120)
            check(r.returncode == 0, "tests/pg start: %s%s"
                  % (r.stdout, r.stderr))
            r = subprocess.run(["psql", "-X", "-q", "-h", d, "-U", "tr",
                                "-d", "postgres", "-c",
                                "CREATE DATABASE shared"],
                               capture_output=True, text=True, timeout=60)
            check(r.returncode == 0, "CREATE DATABASE: %s" % r.stderr)
            self.tmp.db = "postgresql://tr@/shared?host=%s" % d
        return self

    def __exit__(self, *exc):
        if self.backend == "postgresql":
            subprocess.run([os.path.join(SRC, "tests", "pg"), "stop",
                            self.tmp.join("pg")], capture_output=True,
                           timeout=120)


@test
def two_configs_share_one_database():
    want = os.environ.get("BACKEND", "both")
    for backend in ("sqlite", "postgresql"):
        if want in ("", "both", backend):
            two_configs(backend)


def two_configs(backend):
    print("  " + backend)
    with TempDir() as tmp, FeedServer() as srv, Store(tmp, backend):
        for p in ("a1", "b1", "s"):
            srv.route("/%s.xml" % p, body=rss("Feed " + p, p))
        pa, pb = free_port(), free_port()
        a = write_conf(tmp, "a", pa, [("a1", srv.url("/a1.xml"), "ta"),
                                      ("s", srv.url("/s.xml"), "both")],
                       "Planet A")
        b = write_conf(tmp, "b", pb, [("b1", srv.url("/b1.xml"), "tb"),
                                      ("s", srv.url("/s.xml"), "both")],
                       "Planet B")
        for conf in (a, b):
            r = run("-c", conf, "fetch")
            eq(r.rc, 0, "fetch %s (%r)" % (conf, r))
        # A's round after removed_keep: B's feed b1 is neither removed nor
        # deleted, and the other way round.
        time.sleep(1.5)
        for conf in (a, b, a):
            r = run("-c", conf, "fetch", "--force")
            eq(r.rc, 0, "fetch again %s (%r)" % (conf, r))
        eq(db_names(tmp), ["a1", "b1", "s"], "feeds stored")
        eq(db_names(tmp, "active = 1"), ["a1", "b1", "s"], "feeds active")
        check_side(a, ["a1", "s"], "ta", "A")
        check_side(b, ["b1", "s"], "tb", "B")

        sv = Serve(tmp, b, pb)
        try:
            sv.ready()
            want = ["b1", "s"]
            for path, p in served(pb).items():
                eq(p, want, "serve B: " + path)
            st, body = get(pb, "/feeds.opml")
            eq(st, 200, "serve B: /feeds.opml")
            contains(body, srv.url("/b1.xml"), "serve B: OPML has b1")
            check(srv.url("/a1.xml") not in body, "serve B: OPML has a1")
            st, body = get(pb, "/")
            contains(body, "b1 of b", "serve B: the page's feed list")
            check("a1 of a" not in body and "s of a" not in body,
                  "serve B: the page shows A's feeds or titles")
            st, body = get(pb, "/tags/tb.atom")
            eq(prefixes(body), ["b1"], "serve B: /tags/tb.atom")
            eq(get(pb, "/tags/ta.atom")[0], 404, "serve B: A's tag")
            st, body = get(pb, "/metrics")
            if st == 200:
                n = sum(float(x.split()[-1]) for x in body.splitlines()
                        if x.startswith("tributary_feeds{"))
                eq(n, 2.0, "serve B: tributary_feeds counts B's feeds")
            # A's fetches while B serves, past removed_keep: B's page
            # and documents stay as they were.
            time.sleep(1.5)
            r = run("-c", a, "fetch", "--force")
            eq(r.rc, 0, "fetch A beside serve B (%r)" % r)
            for path, p in served(pb).items():
                eq(p, want, "serve B after fetch A: " + path)
            eq(db_names(tmp), ["a1", "b1", "s"], "feeds after fetch A")

            # s dropped by A only: gone from A's outputs at once, kept
            # in B's, and not deleted.
            a = write_conf(tmp, "a", pa,
                           [("a1", srv.url("/a1.xml"), "ta")], "Planet A")
            r = run("-c", a, "fetch")
            eq(r.rc, 0, "fetch A without s (%r)" % r)
            time.sleep(1.5)
            r = run("-c", a, "fetch", "--force")
            eq(r.rc, 0, "fetch A without s again (%r)" % r)
            eq(db_names(tmp, "active = 1"), ["a1", "b1", "s"],
               "s still listed by B")
            check_side(a, ["a1"], "ta", "A without s")
            check_side(b, ["b1", "s"], "tb", "B while A dropped s")
            for path, p in served(pb).items():
                eq(p, want, "serve B after A dropped s: " + path)
        finally:
            rc = sv.stop()
        eq(rc, 0, "serve B exit status (%s)" % sv.log()[-2000:])

        # purge with A of a feed B lists: refused, nothing deleted.
        r = run("-c", a, "purge", "b1")
        eq(r.rc, 1, "purge b1 with A (%r)" % r)
        contains(r.err, os.path.realpath(b), "purge names B's config")
        eq(db_names(tmp), ["a1", "b1", "s"], "feeds after purge with A")

        # s dropped by B too: out of B's outputs at once, deleted after
        # removed_keep.
        b = write_conf(tmp, "b", pb, [("b1", srv.url("/b1.xml"), "tb")],
                       "Planet B")
        r = run("-c", b, "fetch")
        eq(r.rc, 0, "fetch B without s (%r)" % r)
        eq(db_names(tmp, "active = 1"), ["a1", "b1"], "s listed by none")
        check_side(b, ["b1"], "tb", "B without s", None)
        time.sleep(1.5)
        r = run("-c", b, "fetch", "--force")
        eq(r.rc, 0, "fetch B after removed_keep (%r)" % r)
        eq(db_names(tmp), ["a1", "b1"], "s deleted after removed_keep")


@test
def database_deleted_between_starts():
    """The first start creates the database and says so at WARN; with
    the database deleted (its marker left), fetch and serve refuse to
    start on an empty one and say what to do; removing the marker (as
    the message says) starts afresh."""
    with TempDir() as tmp, FeedServer() as srv:
        srv.route("/b1.xml", body=rss("Feed b1", "b1"))
        port = free_port()
        conf = write_conf(tmp, "b", port, [("b1", srv.url("/b1.xml"),
                                            "tb")], "Planet B")
        db = tmp.join("shared.db")
        r = run("-c", conf, "fetch")
        eq(r.rc, 0, "first fetch (%r)" % r)
        contains(r.err, "created a new, empty one", "first start says")
        contains(r.err, "warn: store", "at WARN")
        check(os.path.exists(db + "-tributary"), "the marker")
        r = run("-c", conf, "fetch", "--force")
        eq(r.rc, 0, "second fetch (%r)" % r)
        check("created a new" not in r.err, "second start: %r" % r.err)
        os.unlink(db)
        for args in (["fetch"], ["serve"]):
            r = run("-c", conf, *args, timeout=20)
            eq(r.rc, 1, "%s on a deleted database (%r)" % (args[0], r))
            contains(r.err, db, "%s names the database" % args[0])
            contains(r.err, "backup", "%s says what to do" % args[0])
            contains(r.err, db + "-tributary",
                     "%s names the file left" % args[0])
            check(not os.path.exists(db), "%s created nothing" % args[0])
        os.unlink(db + "-tributary")
        sv = Serve(tmp, conf, port)
        try:
            sv.ready()
        finally:
            rc = sv.stop()
        eq(rc, 0, "serve after the marker is removed (%s)" % sv.log())
        contains(sv.log(), "created a new, empty one", "serve says")


if __name__ == "__main__":
    main()
