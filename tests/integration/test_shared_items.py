"""test_shared_items.py — many feeds that carry the same items, and a
fetch stopped in the middle of a long round.

Every feed keeps its own row of an item it carries, and one row per
canonical link is the primary (what the merged view shows). A round of
many feeds that all carry the same items must cost about what a round
of feeds with their own items costs: finding a link's primary once cost
a sort of every row of the link for each of its rows, so N feeds of the
same items took N^3 (400 feeds: 109 s, 1,000 feeds: over 12 minutes).
The tests assert counts, not times; the generous timeouts only make a
regression fail instead of hang.

SIGTERM or SIGINT ends a fetch within a few seconds even when feeds are
still being fetched and documents wait to be stored: what was committed
stays whole, what was not is fetched again by the next round.
"""
import os
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (PG_DIR, TRIBUTARY, TempDir, check, eq,  # noqa: E402
                     main, run, test)
from faults import Store  # noqa: E402
from server import FeedServer  # noqa: E402

LINKS = 5


def write_conf(td, feeds, concurrency=8):
    lines = ["[tributary]", "database = %s" % td.database(),
             "interval = 30m", "concurrency = %d" % concurrency]
    for name, url in feeds:
        lines += ["", '[feed "%s"]' % name, "url = %s" % url]
    return td.write("feeds.conf", "\n".join(lines) + "\n")


def sql(td, query, args=()):
    con = td.store(write=True)
    try:
        return con.execute(query, args).fetchall()
    finally:
        con.close()


def sound(td):
    """The store passes its integrity check (SQLite's integrity_check,
    PostgreSQL's amcheck: faults.Store.integrity)."""
    return Store(td.join("db.sqlite"), td).integrity() == [("ok",)]


def stored_any(td):
    """Some feed of the round has been stored (False while the store or
    its tables do not exist yet)."""
    if not PG_DIR and not os.path.exists(td.join("db.sqlite")):
        return False
    try:
        return sql(td, "SELECT count(*) FROM feeds WHERE last_success > 0"
                   )[0][0] > 0
    except Exception:  # sqlite3 or psycopg2: no such table yet
        return False


def item(feed, k, style):
    """Item k of feed number `feed`, the same link in every feed, written
    the way `style` says."""
    link = "http://example.com/story/%d" % k
    if style == "guid and link":
        return ("<item><title>Story %d</title><link>%s</link><guid>%s</guid>"
                "<description>text %d</description><pubDate>Fri, 0%d Dec "
                "2026 10:00:00 GMT</pubDate></item>" % (k, link, link, k,
                                                        k + 1))
    if style == "link only, undated":
        return ("<item><title>Story %d</title><link>%s</link>"
                "<description>text %d</description></item>" % (k, link, k))
    if style == "own guid, link written differently":
        # Same canonical link: host case, default port, tracking
        # parameters and fragment differ from feed to feed.
        spelled = ("HTTP://Example.COM:80/story/%d?utm_source=f%d#top"
                   % (k, feed) if feed % 2 else link)
        return ("<item><title>Story %d</title><link>%s</link>"
                "<guid isPermaLink=\"false\">f%d-%d</guid>"
                "<description>text %d by %d</description></item>"
                % (k, spelled.replace("&", "&amp;"), feed, k, k, feed))
    raise ValueError(style)


def rss(feed, style, extra=""):
    return ("<?xml version='1.0'?><rss version='2.0'><channel>"
            "<title>Feed %d</title><link>http://example.com/</link>%s%s"
            "</channel></rss>" % (feed, "".join(
                item(feed, k, style) for k in range(LINKS)), extra)).encode()


def check_one_primary_per_link(td, n_feeds, what):
    eq(sql(td, "SELECT count(*) FROM articles")[0][0], n_feeds * LINKS,
       "%s: every feed keeps its rows" % what)
    eq(sql(td, "SELECT count(DISTINCT canon) FROM articles")[0][0], LINKS,
       "%s: canonical links" % what)
    eq(sql(td, "SELECT count(*) FROM articles WHERE is_primary = 1")[0][0],
       LINKS, "%s: one article per link" % what)
    eq(sql(td, "SELECT count(*) FROM (SELECT canon FROM articles WHERE "
           "is_primary = 1 GROUP BY canon HAVING count(*) = 1) AS p")[0][0],
       LINKS, "%s: each link's primary is one row" % what)
    check(sound(td), "%s: database integrity" % what)


@test
def many_feeds_with_the_same_items_store_one_article_per_link():
    # (style, feeds): the big case catches a cost that grows faster than
    # the round (600 feeds took minutes with the N^3 deduplication, and
    # take seconds now); the small ones the ways a link is shared.
    cases = [("guid and link", 600),
             ("link only, undated", 40),
             ("own guid, link written differently", 40)]
    for style, n in cases:
        with FeedServer() as srv, TempDir() as td:
            feeds = []
            for i in range(n):
                srv.route("/f%d.xml" % i, body=rss(i, style))
                feeds.append(("f%04d" % i, srv.url("/f%d.xml" % i)))
            conf = write_conf(td, feeds)
            r = run("-c", conf, "fetch", "-q", timeout=120)
            eq(r.rc, 0, "%s: fetch (%r)" % (style, r))
            check_one_primary_per_link(td, n, style)
            # The first feed seen holds the primaries (first_seen, id).
            first = sql(td, "SELECT min(id) FROM articles")[0][0]
            owner = sql(td, "SELECT feed_id FROM articles WHERE id = ?",
                        (first,))[0][0]
            eq(sql(td, "SELECT count(*) FROM articles WHERE is_primary = 1 "
                   "AND feed_id = ?", (owner,))[0][0], LINKS,
               "%s: primaries in the first feed stored" % style)
            if n > 40:
                continue
            # That feed leaves the config: its links move to a feed still
            # in it, one primary each.
            name = sql(td, "SELECT name FROM feeds WHERE id = ?",
                       (owner,))[0][0]
            conf = write_conf(td, [f for f in feeds if f[0] != name])
            r = run("-c", conf, "fetch", "-q", "--force", timeout=120)
            eq(r.rc, 0, "%s: fetch without %s (%r)" % (style, name, r))
            check_one_primary_per_link(td, n, style + ", one removed")
            eq(sql(td, "SELECT count(*) FROM articles a JOIN feeds f ON "
                   "f.id = a.feed_id WHERE a.is_primary = 1 AND "
                   "f.active = 1")[0][0], LINKS,
               "%s: primaries in feeds of the config" % style)


def big_rss(feed, n_items):
    """The shared items and n_items of its own, 2 KB of text each."""
    own = "".join("<item><title>Own %d of %d</title><link>http://example.com"
                  "/f%d/%d</link><description>%s</description></item>"
                  % (k, feed, feed, k, ("words of feed %d " % feed) * 110)
                  for k in range(n_items))
    return rss(feed, "guid and link", own)


@test
def a_signal_ends_a_long_fetch_promptly_and_keeps_what_it_stored():
    # Feeds that answer at once (their documents fill the writer's queue)
    # and then feeds that answer after a minute: the round is long, the
    # signal comes while both kinds are under way.
    for sig in (signal.SIGTERM, signal.SIGINT):
        with FeedServer() as srv, TempDir() as td:
            feeds = []
            n_fast, n_slow, own = 120, 16, 60
            for i in range(n_fast):
                srv.route("/a%d.xml" % i, body=big_rss(i, own))
                feeds.append(("a%04d" % i, srv.url("/a%d.xml" % i)))
            for i in range(n_slow):
                srv.route("/z%d.xml" % i, body=rss(1000 + i, "guid and link"),
                          delay=60)
                feeds.append(("z%04d" % i, srv.url("/z%d.xml" % i)))
            conf = write_conf(td, feeds, concurrency=16)
            p = subprocess.Popen([TRIBUTARY, "-c", conf, "fetch", "-q"],
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            try:
                # Until a slow feed is asked for and some feed is stored.
                deadline = time.time() + 60
                while time.time() < deadline and p.poll() is None:
                    asked = any(srv.requests_for("/z%d.xml" % i)
                                for i in range(n_slow))
                    if asked and stored_any(td):
                        break
                    time.sleep(0.05)
                check(p.poll() is None, "the round was still running")
                t0 = time.time()
                p.send_signal(sig)
                p.communicate(timeout=30)
                took = time.time() - t0
            finally:
                if p.poll() is None:
                    p.kill()
                    p.communicate()
            what = signal.Signals(sig).name
            check(took < 5, "%s ended the fetch in %.1f s" % (what, took))
            eq(p.returncode, 1, "%s: exit status of a stopped round" % what)
            check(sound(td), "%s: database integrity" % what)
            # Each document is in the store whole or not at all, and a
            # feed whose state says stored has its document.
            rows = dict(sql(td, "SELECT f.name, count(a.id) FROM feeds f "
                            "LEFT JOIN articles a ON a.feed_id = f.id "
                            "GROUP BY f.id"))
            stored = [n for n, c in rows.items() if c > 0]
            check(len(stored) > 0, "%s: some feeds were stored" % what)
            for n, c in rows.items():
                check(c in (0, LINKS + own), "%s: feed %s has %d articles"
                      % (what, n, c))
            for (n,) in sql(td, "SELECT name FROM feeds WHERE "
                            "last_success > 0"):
                eq(rows[n], LINKS + own, "%s: %s stored whole" % (what, n))
            eq(sql(td, "SELECT count(*) FROM articles WHERE is_primary = 1 "
                   "AND canon LIKE 'http://example.com/story/%'")[0][0],
               LINKS, "%s: one primary per shared link" % what)
            # Nothing is lost: the next round stores the rest.
            for i in range(n_slow):
                srv.route("/z%d.xml" % i, body=rss(1000 + i, "guid and link"))
            r = run("-c", conf, "fetch", "-q", timeout=120)
            eq(r.rc, 0, "%s: the next round (%r)" % (what, r))
            eq(sql(td, "SELECT count(*) FROM articles")[0][0],
               n_fast * (LINKS + own) + n_slow * LINKS,
               "%s: every feed stored after the next round" % what)
            eq(sql(td, "SELECT count(*) FROM articles WHERE is_primary = 1 "
                   "AND canon LIKE 'http://example.com/story/%'")[0][0],
               LINKS, "%s: one primary per shared link after" % what)


if __name__ == "__main__":
    main()
