"""test_fts_merge.py — the search index's segments are merged out of the
rounds: `tributary fetch` merges its round's share at the end of the
round, `tributary serve` merges while no feed is due.

The index's shape is read from the SQLite file: FTS5's structure record
(row 10 of articles_fts_data), decoded by fts_shape.py, and checked
against the segment ids the index's term table holds. SQLite only (PostgreSQL's GIN
index has no segments to merge).
"""
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (PG_DIR, TRIBUTARY, TempDir, check, eq,  # noqa: E402
                     main, skip, test)
from server import FeedServer  # noqa: E402
import fts_shape  # noqa: E402


def rss(title, n, prefix):
    items = "".join(
        "<item><title>%s %d</title><link>https://example.org/%s/%d</link>"
        "<pubDate>Mon, 02 Nov 2026 10:%02d:00 GMT</pubDate></item>"
        % (prefix, i, prefix, i, i % 60) for i in range(n))
    return ("<?xml version='1.0'?><rss version='2.0'><channel>"
            "<title>%s</title><link>https://example.org/</link>"
            "<description>d</description>%s</channel></rss>" % (title, items))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_config(tmp, port, feeds):
    text = ("[tributary]\ndatabase = %s\nlisten = 127.0.0.1:%d\n"
            "interval = 1h\n\n" % (tmp.database("t.db"), port))
    for name, url in feeds:
        text += '[feed "%s"]\nurl = %s\n\n' % (name, url)
    return tmp.write("feeds.conf", text)


def healthz(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % port,
                                    timeout=2) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return None


def wait_until(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what())


def levels(db):
    """The number of segments on each level of articles_fts, oldest level
    first (fts_shape.py), checked against the segment ids its term table
    holds."""
    out = [len(segs) for _, segs in fts_shape.read(db)]
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        ids = con.execute("SELECT count(DISTINCT segid) FROM "
                          "articles_fts_idx").fetchone()[0]
    finally:
        con.close()
    eq(sum(out), ids, "segments in the structure record and the term table")
    return out


def search(db, terms):
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
    try:
        return [[r[0] for r in con.execute(
            "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? "
            "ORDER BY rowid", (t,))] for t in terms]
    finally:
        con.close()


def add_segments(db, n):
    """n more segments on level 0: each transaction that changes indexed
    rows writes one (the store's triggers keep those rows indexed)."""
    con = sqlite3.connect(db)
    try:
        for k in range(n):
            con.execute("UPDATE articles SET title = title || ' edit%d' "
                        "WHERE id %% ? = ?" % k, (n, k))
            con.commit()
    finally:
        con.close()


TERMS = ["feed", "edit3", "edit0 OR edit5", "fe*", "\"feed 7\""]


def fetch(cfg, *args):
    return subprocess.run([TRIBUTARY, "-c", cfg, "fetch"] + list(args),
                          capture_output=True, text=True, timeout=60)


@test
def serve_merges_while_idle():
    if PG_DIR:
        skip("SQLite only: FTS5's segments")
    with TempDir() as tmp, FeedServer() as srv:
        srv.route("/a.xml", body=rss("A", 40, "feed"))
        port = free_port()
        cfg = write_config(tmp, port, [("a", srv.url("/a.xml"))])
        db = tmp.database("t.db")
        eq(fetch(cfg).returncode, 0, "fetch exit status")
        add_segments(db, 9)
        before = levels(db)
        check(before[0] >= 9, "level 0 before: %r" % before)
        found = search(db, TERMS)
        check(all(found), "every search finds something: %r" % found)
        # The feed was just fetched (interval 1h): nothing is due, the
        # service is idle from its start.
        env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
        p = subprocess.Popen([TRIBUTARY, "-c", cfg, "serve"], env=env,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: healthz(port) == 200, 10,
                       lambda: "/healthz")
            wait_until(lambda: max(levels(db)) < 4, 15,
                       lambda: "the levels merged: %r" % levels(db))
            eq(search(db, TERMS), found, "search results after merging")
            eq(len(srv.requests_for("/a.xml")), 1, "requests: no round")
            eq(healthz(port), 200, "/healthz")
            t0 = time.monotonic()
            p.send_signal(signal.SIGTERM)
            eq(p.wait(10), 0, "exit status")
            check(time.monotonic() - t0 < 3, "stopped in %.1f s"
                  % (time.monotonic() - t0))
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()


@test
def fetch_rounds_never_reach_the_crisis():
    """Many rounds, each adding segments: the rounds' shares keep every
    level below 12, where without them level 0 would fill to 16 and be
    merged inside an insert."""
    if PG_DIR:
        skip("SQLite only: FTS5's segments")
    with TempDir() as tmp, FeedServer() as srv:
        port = free_port()
        feeds = []
        for k in range(4):
            srv.route("/f%d.xml" % k, body=rss("F%d" % k, 5, "f%d" % k))
            feeds.append(("f%d" % k, srv.url("/f%d.xml" % k)))
        cfg = write_config(tmp, port, feeds)
        db = tmp.database("t.db")
        worst = 0
        for rnd in range(30):
            # Each round: two feeds gain items, and three transactions
            # of edits stand in for more bulk indexes.
            for k in (rnd % 4, (rnd + 1) % 4):
                srv.route("/f%d.xml" % k, body=rss(
                    "F%d" % k, 5 + rnd, "f%d" % k))
            if rnd:
                add_segments(db, 3)
            r = fetch(cfg, "--force")
            eq(r.returncode, 0, "fetch exit status: %s" % r.stderr)
            worst = max([worst] + levels(db))
        check(worst <= 12, "a level held %d segments" % worst)
        # Every article is found: merging lost nothing.
        con = sqlite3.connect("file:%s?mode=ro" % db, uri=True)
        try:
            n = con.execute("SELECT count(*) FROM articles WHERE title "
                            "LIKE 'f0 %'").fetchone()[0]
        finally:
            con.close()
        check(n >= 5, "articles of f0: %d" % n)
        eq(len(search(db, ["f0"])[0]), n, "articles of f0 found")


if __name__ == "__main__":
    main()
