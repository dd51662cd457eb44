"""test_store_copy.py — tributary store copy moves a store between an
SQLite file and a PostgreSQL database without loss.

A store filled by real fetches (feeds that share links, so primaries
vary; a document that shrinks, so some rows leave the latest; a failing
feed; a feed removed from the config; tags, titles, caps; text with tabs,
newlines, backslashes and \\N in it) is copied SQLite -> PostgreSQL ->
another PostgreSQL database -> a new SQLite file, and the two files are compared table by table, column
by column (values and SQLite types), along with the export of each, the
full-text index and what the command printed. Also SQLite -> SQLite, a
target with rows refused and left alone, and bad addresses refused
without showing their password.

PostgreSQL: a temporary cluster (pg.py; the PostgreSQL parts are left
out, saying so, when no server is installed or BACKEND=sqlite).
"""
import json
import os
import re
import shutil
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (TempDir, check, contains, eq, main,  # noqa: E402
                     run, skip, test)
import pg  # noqa: E402
from server import FeedServer  # noqa: E402

SECRET = "s3cret-Pw"

# The tables a copy carries, each with the order its rows are compared
# in. Every column is compared but a feed's lease (lease_owner,
# lease_until), which a copy leaves behind on purpose.
TABLES = {
    "feeds": "id",
    "feed_tags": "feed_id, tag",
    "feed_configs": "feed_id, config",
    "articles": "id",
}


class Cluster:
    """A temporary PostgreSQL cluster (pg.py), or none (ok False) when no
    server is installed or the run is SQLite only."""

    def __init__(self):
        self.ok = pg.available()
        self.why = "no PostgreSQL server, or BACKEND=sqlite"
        self.c = pg.Cluster().__enter__() if self.ok else None
        self.dir = self.c.dir if self.ok else None

    def psql(self, sql, db="postgres"):
        return self.c.psql(sql, db)

    def new_db(self, password=True):
        """A new, empty database's address, by default with a password in
        it (which trust logins ignore: it must never be shown)."""
        addr = self.c.database()
        if password:
            addr = addr.replace("postgresql://tr@",
                                "postgresql://tr:%s@" % SECRET, 1)
        return addr

    def stop(self):
        if self.c:
            self.c.__exit__(None, None, None)


def rss(title, items):
    return ("<?xml version='1.0'?><rss version='2.0' "
            "xmlns:dc='http://purl.org/dc/elements/1.1/'><channel>"
            "<title>%s</title><link>http://example.com/</link>%s"
            "</channel></rss>" % (title, "".join(items))).encode()


def item(k, feed, text="", date=True):
    """Item k: its link is shared by every feed that carries item k."""
    link = "http://example.com/story/%d" % k
    return ("<item><title>Story %d%s</title><link>%s</link>"
            "<guid isPermaLink='false'>%s-%d</guid>"
            "<dc:creator>Writer %d</dc:creator>"
            "<category>cat%d</category><category>shared</category>"
            "<enclosure url='http://example.com/a%d.mp3' type='audio/mpeg' "
            "length='%d'/>"
            "<description><![CDATA[<p>text of %d from %s%s</p>]]>"
            "</description>%s</item>"
            % (k, text, link, feed, k, k, k, k, 1000 + k, k, feed, text,
               "<pubDate>Fri, 0%d Dec 2026 10:00:00 GMT</pubDate>"
               % (k % 9 + 1) if date else ""))


# Text a COPY in text format must escape, and text that looks like its
# escapes: all of it must come back byte for byte.
ODD = " tab\there \\ back\\slash \\N not null \\t literal \u00e9\u4e2d\U0001F600"
ODD_BODY = ODD + "\nsecond line\r\nthird"


def fill(srv, td):
    """A store filled by two rounds of fetches; returns the config path."""
    srv.route("/a.xml", body=rss("Feed A", [item(k, "a") for k in range(6)]
                                 + [item(20, "a", ODD_BODY)]),
              etag='"v1"', last_modified="Fri, 04 Dec 2026 10:00:00 GMT")
    # B shares stories 2..5 with A (A saw them first: its rows are the
    # primaries) and has its own, undated.
    srv.route("/b.xml", body=rss("Feed B", [item(k, "b") for k in (2, 3, 4, 5)]
                                 + [item(30 + k, "b", date=False)
                                    for k in range(3)]))
    # C shrinks between the rounds: rows leave its latest document.
    srv.route("/c.xml", sequence=[
        {"body": rss("Feed C", [item(40 + k, "c") for k in range(6)])},
        {"body": rss("Feed C", [item(40 + k, "c") for k in range(2)]
                     + [item(3, "c", " in c")])}])
    srv.route("/err.xml", status=500)
    srv.route("/old.xml", body=rss("Old", [item(50 + k, "old")
                                          for k in range(3)] + [item(0, "o")]))
    conf = td.join("feeds.conf")
    feeds = [("a", "/a.xml", "tags = news, tech\ntitle = A \\; title"),
             ("b", "/b.xml", "tags = tech\nmax_per_feed = 5"),
             ("c", "/c.xml", ""), ("err", "/err.xml", ""),
             ("old", "/old.xml", "tags = gone")]
    write_conf(conf, td.join("db.sqlite"), srv, feeds)
    r = run("-c", conf, "fetch", "-q", timeout=120)
    check(r.rc in (0, 1), "first fetch: %r" % r)
    write_conf(conf, td.join("db.sqlite"), srv, feeds[:4])
    r = run("-c", conf, "fetch", "-q", "--force", timeout=120)
    check(r.rc in (0, 1), "second fetch: %r" % r)
    return conf, feeds[:4]


def write_conf(path, database, srv, feeds):
    lines = ["[tributary]", "database = %s" % database, "interval = 30m",
             "base_url = http://example.org/"]
    for name, p, extra in feeds:
        lines += ["", '[feed "%s"]' % name, "url = %s" % srv.url(p)]
        if extra:
            lines.append(extra)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def rows(db, table):
    """Every row of table with the SQLite type of each value."""
    con = sqlite3.connect(db)
    try:
        cols = [r[1] for r in con.execute("PRAGMA table_info(%s)" % table)]
        sel = ", ".join("%s, typeof(%s)" % (c, c) for c in cols)
        order = TABLES[table]
        return cols, con.execute("SELECT %s FROM %s ORDER BY %s"
                                 % (sel, table, order)).fetchall()
    finally:
        con.close()


def one(db, sql, args=()):
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def same_store(a, b):
    """Asserts that SQLite files a and b hold the same rows, column by
    column, but feed leases (cleared in a copy)."""
    for table in TABLES:
        cols_a, ra = rows(a, table)
        cols_b, rb = rows(b, table)
        eq(cols_b, cols_a, "%s: columns" % table)
        eq(len(rb), len(ra), "%s: rows" % table)
        check(len(ra) > 0, "%s: the test has rows to copy" % table)
        for x, y in zip(ra, rb):
            for i, c in enumerate(cols_a):
                if table == "feeds" and c in ("lease_owner", "lease_until"):
                    eq(y[2 * i], None if c == "lease_owner" else 0,
                       "feeds.%s cleared" % c)
                    continue
                if table == "articles" and c == "raw_hash":
                    # Not carried: a cache of what the stored bodies were
                    # sanitized from; the item's next document sanitizes
                    # it afresh once and sets it again.
                    eq(y[2 * i], None, "articles.raw_hash left empty")
                    continue
                eq((y[2 * i], y[2 * i + 1]), (x[2 * i], x[2 * i + 1]),
                   "%s.%s of row %r" % (table, c, x[0]))
    for key in ("generation", "changed_at"):
        eq(one(b, "SELECT value FROM meta WHERE key = ?", (key,)),
           one(a, "SELECT value FROM meta WHERE key = ?", (key,)),
           "meta.%s" % key)
    # The full-text index was rebuilt for every row.
    eq(one(b, "SELECT value FROM meta WHERE key = 'fts_done'")[0][0],
       one(b, "SELECT max(id) FROM articles")[0][0], "fts_done")
    con = sqlite3.connect(b)
    con.execute("INSERT INTO articles_fts(articles_fts, rank) "
                "VALUES ('integrity-check', 1)")
    con.close()
    for word in ("story", "second", "tab", "shared"):
        q = ("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? "
             "ORDER BY rowid")
        got = one(b, q, (word,))
        eq(got, one(a, q, (word,)), "search %r" % word)


def check_varied(db):
    """The data the test relies on is really there."""
    eq(one(db, "SELECT count(DISTINCT is_primary) FROM articles")[0][0], 2,
       "both primaries and duplicates")
    eq(one(db, "SELECT count(DISTINCT in_latest) FROM articles")[0][0], 2,
       "rows in and out of the latest document")
    check(one(db, "SELECT count(*) FROM feeds WHERE removed_at > 0")[0][0]
          == 1, "a removed feed")
    check(one(db, "SELECT count(*) FROM feeds WHERE errors > 0 AND "
              "last_error IS NOT NULL")[0][0] == 1, "a failing feed")
    check(one(db, "SELECT count(*) FROM feeds WHERE etag IS NOT NULL")[0][0]
          >= 1, "validators")
    check(one(db, "SELECT count(*) FROM articles WHERE published IS NULL")
          [0][0] >= 1, "undated articles")
    check(one(db, "SELECT count(*) FROM articles WHERE instr(summary, "
              "char(9)) > 0 AND instr(summary, char(10)) > 0")[0][0] >= 1,
          "text with a tab and a newline")


def report(out):
    """The printed table: {name: (source, target)}."""
    got = {}
    for line in out.splitlines():
        m = re.match(r"^(feeds|feed_tags|feed_configs|articles|generation|"
                     r"article checksum)\s+(\S+)\s+(\S+)$", line)
        if m:
            got[m.group(1)] = (m.group(2), m.group(3))
    return got


def copy_ok(src, dst, db_counts=None):
    r = run("store", "copy", "--from", src, "--to", dst, timeout=300)
    eq(r.rc, 0, "copy %s -> %s: %r" % (src, dst, r))
    rep = report(r.out)
    eq(sorted(rep), sorted(["feeds", "feed_tags", "feed_configs", "articles",
                            "generation", "article checksum"]), "report rows")
    for k, (a, b) in rep.items():
        eq(b, a, "printed %s: target against source" % k)
    if db_counts:
        for t, n in db_counts.items():
            eq(rep[t][0], str(n), "printed count of %s" % t)
    check(SECRET not in r.out + r.err, "no password shown: %r" % r)
    check("warn" not in r.err, "a new target is no surprise: %r" % r)
    return rep


def counts(db):
    return {t: one(db, "SELECT count(*) FROM %s" % t)[0][0] for t in TABLES}


def export(conf, database, srv, feeds):
    write_conf(conf, database, srv, feeds)
    r = run("-c", conf, "export", "--format", "json", "--limit", "1000")
    eq(r.rc, 0, "export from %s: %r" % (database, r))
    doc = json.loads(r.out)
    check(len(doc["items"]) > 5, "export has items")
    return doc


@test
def sqlite_to_postgresql_and_back_keeps_every_row():
    cl = Cluster()
    if not cl.ok:
        skip(cl.why)
    try:
        with FeedServer() as srv, TempDir() as td:
            conf, feeds = fill(srv, td)
            db = td.join("db.sqlite")
            check_varied(db)
            pg1 = cl.new_db()
            rep1 = copy_ok(db, pg1, counts(db))
            # PostgreSQL to PostgreSQL, then back to a new file.
            pg = cl.new_db(password=False)
            copy_ok(pg1, pg, counts(db))
            back = td.join("sub", "back.sqlite")
            rep2 = copy_ok(pg, back)
            eq(rep2["article checksum"], rep1["article checksum"],
               "checksum through PostgreSQL")
            same_store(db, back)
            # What readers see is the same from all three.
            want = export(conf, db, srv, feeds)
            eq(export(conf, back, srv, feeds), want, "export of the copy")
            eq(export(conf, pg, srv, feeds), want, "export of PostgreSQL")
            # The copies take new rows after the copied ids (in C, which
            # has no max_per_feed to leave an old story off the page).
            srv.route("/c.xml", body=rss("Feed C", [item(99, "c")]))
            for database in (pg, back):
                write_conf(conf, database, srv, feeds)
                r = run("-c", conf, "fetch", "-q", "--force", timeout=120)
                eq(r.rc, 0, "fetch into the copy: %r" % r)
                contains(json.dumps(export(conf, database, srv, feeds)),
                         "Story 99", "a new article in %s" % database)
            top = one(db, "SELECT max(id) FROM articles")[0][0]
            check(one(back, "SELECT min(id) FROM articles WHERE title = "
                      "'Story 99'")[0][0] > top, "a new id")
            check(int(cl.psql("SELECT min(id) FROM articles WHERE title = "
                              "'Story 99'", pg.split("/")[3].split("?")[0]))
                  > top, "a new id on PostgreSQL")
    finally:
        cl.stop()


@test
def sqlite_to_sqlite():
    with FeedServer() as srv, TempDir() as td:
        conf, feeds = fill(srv, td)
        db = td.join("db.sqlite")
        dst = td.join("copy.sqlite")
        copy_ok(db, dst, counts(db))
        same_store(db, dst)
        want = export(conf, db, srv, feeds)
        eq(export(conf, dst, srv, feeds), want, "export of the copy")


def refused(src, dst, *want):
    r = run("store", "copy", "--from", src, "--to", dst)
    eq(r.rc, 1, "copy %s -> %s refused: %r" % (src, dst, r))
    for w in want:
        contains(r.err, w)
    check(SECRET not in r.out + r.err, "no password shown: %r" % r)
    check("SELECT" not in r.err and "COPY" not in r.err, "no SQL: %r" % r)
    return r


@test
def a_target_with_rows_is_refused_and_left_alone():
    cl = Cluster()
    try:
        with FeedServer() as srv, TempDir() as td:
            fill(srv, td)
            db = td.join("db.sqlite")
            dst = td.join("copy.sqlite")
            copy_ok(db, dst)
            gen = one(dst, "SELECT key, value FROM meta ORDER BY key")
            refused(db, dst, "already holds a store", "nothing was changed")
            eq(one(dst, "SELECT key, value FROM meta ORDER BY key"), gen,
               "target meta")
            eq(counts(dst), counts(db), "target rows")
            # The source itself, under another name.
            refused(db, td.join(".", "db.sqlite"), "same store")
            # A file that is not a store is not overwritten.
            junk = td.write("junk.txt", "not a database\n" * 100)
            refused(db, junk)
            eq(open(junk).read(), "not a database\n" * 100, "junk kept")
            if not cl.ok:
                return  # the SQLite part ran; no PostgreSQL here
            pg = cl.new_db()
            copy_ok(db, pg)
            refused(db, pg, "already holds a store", "nothing was changed")
            name = pg.split("/")[3].split("?")[0]
            eq(cl.psql("SELECT count(*) FROM articles", name),
               str(counts(db)["articles"]), "PostgreSQL rows kept")
    finally:
        cl.stop()


@test
def a_failed_copy_leaves_nothing_in_the_target():
    # A damaged source: rows whose feed is missing (written with the
    # foreign keys off), which every target refuses. The copy is one
    # transaction: the database keeps no row, a new file is removed.
    cl = Cluster()
    try:
        with FeedServer() as srv, TempDir() as td:
            fill(srv, td)
            for table, row, sql in (
                    ("feed_tags", "feed's tag",
                     "INSERT INTO feed_tags VALUES ('x', 999)"),
                    ("articles", "article",
                     "INSERT INTO articles (feed_id, identity, first_seen, "
                     "changed_at, sort_date, hash) SELECT 999, 'lost', "
                     "first_seen, changed_at, sort_date, hash FROM articles "
                     "LIMIT 1")):
                bad = td.join("bad-%s.sqlite" % table)
                shutil.copy(td.join("db.sqlite"), bad)
                con = sqlite3.connect(bad)
                con.execute("PRAGMA foreign_keys = OFF")
                con.execute(sql)
                con.commit()
                con.close()
                dst = td.join("new-%s.sqlite" % table)
                targets = [dst]
                if cl.ok:
                    targets.append(cl.new_db())
                for target in targets:
                    r = refused(bad, target, "the source holds a %s that "
                                "the target refuses" % row,
                                "Nothing was copied")
                    check("constraint" not in r.err, "no internals: %r" % r)
                    if target == dst:
                        check(not any(os.path.exists(dst + e) for e in
                                      ("", "-wal", "-shm", "-journal",
                                       "-tributary")),
                              "the new file is removed")
                        # Nothing of it stops a copy into the same path.
                        copy_ok(td.join("db.sqlite"), target)
                    else:
                        name = target.split("/")[3].split("?")[0]
                        for t in TABLES:
                            eq(cl.psql("SELECT count(*) FROM %s" % t, name),
                               "0", "%s of the rolled back copy" % t)
                        # Still empty, so a good copy goes in after.
                        copy_ok(td.join("db.sqlite"), target)
    finally:
        cl.stop()


@test
def a_target_that_reads_back_different_fails():
    # An empty store whose own triggers change what it is given (a
    # stand-in for a target that loses or alters rows): the copy commits,
    # and the read-back's counts or checksum differ from the source's.
    with FeedServer() as srv, TempDir() as td:
        fill(srv, td)
        db = td.join("db.sqlite")
        for what, trigger in (
                ("feed_tags", "CREATE TRIGGER lose AFTER INSERT ON feed_tags "
                 "BEGIN DELETE FROM feed_tags WHERE tag = new.tag AND "
                 "feed_id = new.feed_id; END"),
                ("article checksum", "CREATE TRIGGER alter_id AFTER INSERT ON "
                 "articles WHEN new.id = 3 BEGIN UPDATE articles SET "
                 "identity = identity || '-x' WHERE id = new.id; END")):
            dst = td.join("odd-%s.sqlite" % what.split()[-1])
            copy_ok(db, dst)
            con = sqlite3.connect(dst)
            for t in ("articles", "feed_tags", "feed_configs", "feeds"):
                con.execute("DELETE FROM %s" % t)
            con.execute(trigger)
            con.commit()
            con.close()
            r = run("store", "copy", "--from", db, "--to", dst)
            eq(r.rc, 1, "%s: %r" % (what, r))
            contains(r.err, "the copy read back differs from the source")
            rep = report(r.out)
            check(rep[what][0] != rep[what][1], "%s: %r" % (what, rep))
            for k, (a, b) in rep.items():
                if k != what:
                    eq(b, a, "%s: the other rows agree" % what)
            check("the target matches" not in r.out, "no success line")


@test
def bad_addresses_are_refused_clearly_without_the_password():
    cl = Cluster()
    try:
        with FeedServer() as srv, TempDir() as td:
            fill(srv, td)
            src = td.join("db.sqlite")
            good = td.join("good.sqlite")
            r = run("store", "copy", "--from", td.join("none.sqlite"),
                    "--to", good)
            eq(r.rc, 1, "missing source: %r" % r)
            contains(r.err, "none.sqlite: no such file")
            check(not os.path.exists(good), "no target made for nothing")
            sock = cl.dir if cl.ok else "/nonexistent"
            cases = [
                # (from, to, words of the message)
                ("postgresql://tr:%s@/nosuchdb?host=%s" % (SECRET, sock),
                 good, ["cannot connect", "postgresql://tr@/nosuchdb"]),
                ("postgresql://tr@/x?host=/nonexistent&password=" + SECRET,
                 good, ["cannot connect"]),
                ("postgresql://tr:%s@/x?nosuchoption=1" % SECRET, good,
                 ["not a valid PostgreSQL address"]),
                ("", good, ["empty"]),
            ]
            for frm, dst, words in cases:
                refused(frm, dst, *words)
                check(not os.path.exists(dst), "no target left: %s" % frm)
            # The same with the bad address as the target.
            for bad, _, words in cases:
                refused(src, bad, *words)
            # Usage errors.
            for args, want in ((["store"], "no subcommand"),
                               (["store", "move"], "unknown subcommand"),
                               (["store", "copy", "--from", src],
                                "--to")):
                r = run(*args)
                eq(r.rc, 2, "%s: %r" % (args, r))
                contains(r.err, want)
    finally:
        cl.stop()


if __name__ == "__main__":
    main()
