"""test_postgresql.py — the tributary binary with its store in a real
PostgreSQL server (a temporary cluster from tests/pg, only a Unix socket).

A store address it cannot use (no server, no database, no such user, a
wrong password) stops every command that opens the store with exit
status 1 and a message naming the address without its password. With a
good address, fetch from a local HTTP server fills the database, check
--store finds it whole, and export gives what the same fetch into an
SQLite file gives.

Skipped, saying so, when no PostgreSQL server is installed.
"""
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (DATA, TRIBUTARY, TempDir, check,  # noqa: E402
                     contains, eq, main, run, skip, test)
from server import FeedServer  # noqa: E402
import pg  # noqa: E402

SECRET = "secret"

# Every command that opens the store, with arguments that need nothing
# else; each must stop at the store.
COMMANDS = [
    ["fetch"],
    ["check", "--store"],
    ["export"],
    ["export", "--format", "json"],
    ["feeds"],
    ["serve", "--listen", "127.0.0.1:0"],
]


def conf_text(database, feeds):
    text = "[tributary]\ndatabase = %s\n" % database
    for name, url in feeds:
        text += '\n[feed "%s"]\nurl = %s\n' % (name, url)
    return text


def closed_port():
    """A TCP port of 127.0.0.1 nothing listens on (bound, then closed)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def with_password_user(c):
    """Makes role pw (password "right") that must log in with its
    password: a line before the cluster's trust lines."""
    c.psql("CREATE ROLE pw LOGIN PASSWORD 'right'")
    c.psql("CREATE DATABASE pwdb OWNER pw")
    hba = os.path.join(c.dir, "data", "pg_hba.conf")
    with open(hba) as f:
        text = f.read()
    with open(hba, "w") as f:
        f.write("local all pw scram-sha-256\n" + text)
    c.psql("SELECT pg_reload_conf()")


@test
def unusable_addresses_are_named_without_their_password():
    if not pg.available():
        skip("no PostgreSQL server installed")
    with pg.Cluster() as c, TempDir() as t:
        with_password_user(c)
        port = closed_port()
        # (case, address with the secret, the address as shown, what
        # the message says about it)
        cases = [
            ("no server at the socket directory",
             "postgresql://tr:%s@/x?host=%s" % (SECRET, t.join("none")),
             "postgresql://tr@/x?host=%s" % t.join("none"),
             "No such file or directory"),
            ("nothing listening on the TCP port",
             "postgresql://tr:%s@127.0.0.1:%d/x" % (SECRET, port),
             "postgresql://tr@127.0.0.1:%d/x" % port,
             "refused"),
            ("no such database",
             "postgresql://tr:%s@/nosuchdb?host=%s" % (SECRET, c.dir),
             "postgresql://tr@/nosuchdb?host=%s" % c.dir,
             "nosuchdb"),
            ("no such user",
             "postgresql://nobody:%s@/postgres?host=%s" % (SECRET, c.dir),
             "postgresql://nobody@/postgres?host=%s" % c.dir,
             "nobody"),
            ("a wrong password",
             "postgresql://pw:%s@/pwdb?host=%s" % (SECRET, c.dir),
             "postgresql://pw@/pwdb?host=%s" % c.dir,
             "password"),
        ]
        # The right password is accepted: the failure above is the
        # password's.
        good = "postgresql://pw:right@/pwdb?host=%s" % c.dir
        t.write("a.rss", open(os.path.join(DATA, "render", "alpha.rss"),
                              "rb").read())
        conf = t.write("good.conf", conf_text(good, [("a", "file:a.rss")]))
        r = run("-c", conf, "fetch", cwd=t.path, timeout=60)
        eq(r.rc, 0, "fetch with the right password: %r" % r)
        check("right" not in r.out + r.err, "password shown: %r" % r)
        for case, address, shown, why in cases:
            conf = t.write("feeds.conf", conf_text(
                address, [("a", "http://127.0.0.1:%d/a.xml" % port)]))
            for args in COMMANDS:
                what = "%s: %s" % (case, " ".join(args))
                r = run("-c", conf, *args, timeout=60)
                eq(r.rc, 1, "%s: exit status (%r)" % (what, r))
                check(SECRET not in r.out and SECRET not in r.err,
                      "%s: the password is shown: %r" % (what, r))
                contains(r.err, shown, what)
                contains(r.err, why, what)
                # No internals: no SQL, no raw library codes.
                check(not re.search(r"\b(SELECT|INSERT|CREATE TABLE)\b",
                                    r.err), "%s: SQL shown: %r" % (what, r))


def fetch_both(t, srv, feeds, c):
    """Fetches feeds into a new PostgreSQL database and an SQLite file;
    returns the two configs."""
    confs = []
    for name, database in (("pg.conf", c.database()),
                           ("lite.conf", t.join("lite.db"))):
        conf = t.write(name, conf_text(database, feeds))
        r = run("-c", conf, "fetch", timeout=120)
        eq(r.rc, 0, "fetch into %s: %r" % (database, r))
        confs.append(conf)
    return confs


def items(conf, *args):
    r = run("-c", conf, "export", "--format", "json", *args, timeout=60)
    eq(r.rc, 0, "export: %r" % r)
    doc = json.loads(r.out)
    return [{k: it.get(k) for k in ("id", "url", "title", "date_published",
                                    "content_html", "summary")}
            for it in doc["items"]]


@test
def fetch_check_and_export_match_sqlite():
    if not pg.available():
        skip("no PostgreSQL server installed")
    render = os.path.join(DATA, "render")
    with pg.Cluster() as c, TempDir() as t, FeedServer() as srv:
        srv.route("/alpha.rss", file=os.path.join(render, "alpha.rss"),
                  etag='"a1"')
        srv.route("/beta.atom", file=os.path.join(render, "beta.atom"),
                  content_type="application/atom+xml")
        feeds = [("alpha", srv.url("/alpha.rss")),
                 ("beta", srv.url("/beta.atom"))]
        pgconf, liteconf = fetch_both(t, srv, feeds, c)
        want = items(liteconf)
        check(len(want) >= 3, "the fixtures' items: %r" % want)
        eq(items(pgconf), want, "PostgreSQL's export against SQLite's")
        for args in (["--feed", "beta"], ["--limit", "2"]):
            eq(items(pgconf, *args), items(liteconf, *args),
               "export %s" % " ".join(args))
        # The Atom export is a feed a real consumer reads.
        r = run("-c", pgconf, "export", timeout=60)
        eq(r.rc, 0, "export atom: %r" % r)
        import feedparser
        d = feedparser.parse(r.out.encode())
        check(not d.bozo, "atom export: %r" % d.get("bozo_exception"))
        eq(len(d.entries), len(want), "atom entries")
        # Fetched again: alpha's ETag answers 304, nothing doubles.
        r = run("-c", pgconf, "fetch", "--force", timeout=120)
        eq(r.rc, 0, "second fetch: %r" % r)
        eq(items(pgconf), want, "after a second fetch")
        reqs = srv.requests_for("/alpha.rss")
        eq(len(reqs), 3, "requests for alpha (two fetches into"
           " PostgreSQL, one into SQLite)")
        eq(reqs[-1].header("if-none-match"), '"a1"',
           "the ETag the first fetch stored, sent again")
        # The whole store checked, read-only.
        r = run("-c", pgconf, "check", "--store", timeout=60)
        eq(r.rc, 0, "check --store: %r" % r)
        contains(r.out, "ok")
        # feeds lists both with their counts.
        r = run("-c", pgconf, "feeds", timeout=60)
        eq(r.rc, 0, "feeds: %r" % r)
        contains(r.out, "alpha")
        contains(r.out, "beta")


class Serve:
    """tributary serve with conf on an ephemeral port of 127.0.0.1."""

    def __init__(self, t, conf):
        self.log = open(t.join(os.path.basename(conf) + ".log"), "w+")
        env = {k: v for k, v in os.environ.items()
               if k not in ("TRIBUTARY_CONFIG", "JOURNAL_STREAM",
                            "NOTIFY_SOCKET")}
        self.proc = subprocess.Popen([TRIBUTARY, "-c", conf, "serve",
                                      "--listen", "127.0.0.1:0"],
                                     stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)
        self.port = None
        deadline = time.time() + 20
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
        if self.port is None:
            self.stop()
        check(self.port, "serve: no listening line: %s" % self.output())

    def output(self):
        self.log.seek(0)
        return self.log.read()

    def get(self, path):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            c.request("GET", path)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()

    def items(self, path):
        status, body = self.get(path)
        eq(status, 200, "GET %s: %r" % (path, body[:300]))
        return [(it.get("id"), it.get("title"), it.get("url"))
                for it in json.loads(body)["items"]]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        try:
            rc = self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.log.close()
        return rc


@test
def serve_answers_from_postgresql_as_from_sqlite():
    if not pg.available():
        skip("no PostgreSQL server installed")
    render = os.path.join(DATA, "render")
    with pg.Cluster() as c, TempDir() as t, FeedServer() as srv:
        srv.route("/alpha.rss", file=os.path.join(render, "alpha.rss"))
        srv.route("/beta.atom", file=os.path.join(render, "beta.atom"),
                  content_type="application/atom+xml")
        feeds = [("alpha", srv.url("/alpha.rss")),
                 ("beta", srv.url("/beta.atom"))]
        pgconf, liteconf = fetch_both(t, srv, feeds, c)
        got = {}
        for name, conf in (("postgresql", pgconf), ("sqlite", liteconf)):
            s = Serve(t, conf)
            try:
                got[name] = {p: s.items(p) for p in (
                    "/feed.json", "/feeds/alpha.json", "/feeds/beta.json",
                    "/feed.json?q=alpha", "/feed.json?q=beta+one",
                    "/feed.json?q=nowhere")}
                status, body = s.get("/feed.atom")
                eq(status, 200, "%s: /feed.atom" % name)
            finally:
                out = s.output()
                eq(s.stop(), 0, "%s: serve's exit status after SIGTERM"
                   " (%s)" % (name, out[-2000:]))
        lite = got["sqlite"]
        check(len(lite["/feed.json"]) >= 3, "SQLite's items: %r" % lite)
        check(lite["/feed.json?q=alpha"], "a search that finds")
        eq(lite["/feed.json?q=nowhere"], [], "a search that finds nothing")
        for path, want in lite.items():
            eq(got["postgresql"][path], want, "PostgreSQL's %s" % path)


if __name__ == "__main__":
    main()
