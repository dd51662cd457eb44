#!/usr/bin/env python3
"""store_copy.py — tributary store copy against the tools that move the
same rows, in one run, runs interleaved in time.

    bench/store_copy.py [--articles N] [--runs R] [--tributary PATH]

Builds an SQLite store of N articles (about 2 KB of text each, 200 feeds,
half the articles sharing a link) in a temporary folder, starts a
temporary PostgreSQL cluster (tests/pg), and times, R times each in turn:

  sqlite->pg      tributary store copy, file to an empty database
  peer csv->pg    sqlite3 -csv piped into psql \\copy for the same columns
                  of feeds and articles (no checks, no read-back): the
                  floor of loading the rows through COPY
  pg->sqlite      tributary store copy, database to a new file (with
                  the full-text index built)
  sqlite->sqlite  tributary store copy, file to a new file
  peer .dump      sqlite3 .dump piped into sqlite3 (the rows and the
                  full-text index's own tables, as pages of SQL)

Prints a Markdown table of medians (min-max) and the ratios, and the
peak RSS of the copies. Wall times on a shared machine: the ratios of
runs taken in turn mean more than the seconds.
"""
import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

SRC = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FEED_COLS = ("id, name, url, effective_url, conf_title, doc_title, "
             "site_link, etag, last_modified, body_hash, last_check, "
             "next_check, last_success, retry_after, errors, last_error, "
             "last_status, disabled, disabled_reason, active, enabled, "
             "max_per_feed, removed_at")
ARTICLE_COLS = ("id, feed_id, identity, guid, guid_is_permalink, link, "
                "canon, title, author, authors, summary, content, "
                "published, updated, categories, enclosures, source_title, "
                "source_url, source_id, first_seen, changed_at, sort_date, "
                "hash, in_latest, is_primary, image")


def empty_store(tributary, path, tmp):
    """An empty store of this tributary's schema: a fetch of one feed
    that cannot be reached creates it; its rows are then deleted."""
    conf = os.path.join(tmp, "empty.conf")
    with open(conf, "w") as f:
        f.write("[tributary]\ndatabase = %s\n\n[feed \"x\"]\n"
                "url = http://127.0.0.1:9/x.xml\n" % path)
    subprocess.run([tributary, "-q", "-c", conf, "fetch"],
                   capture_output=True)
    con = sqlite3.connect(path)
    for t in ("articles", "feed_tags", "feed_configs", "feeds"):
        con.execute("DELETE FROM %s" % t)
    con.commit()
    con.close()


def fill(path, n, nf=200):
    words = ("the quick brown fox jumps over a lazy dog while the council "
             "votes on the budget and markets\tclose\nhigher").split(" ")
    rnd = random.Random(1)
    con = sqlite3.connect(path)
    con.execute("UPDATE meta SET value = 0 WHERE key = 'fts_done'")
    for f in range(1, nf + 1):
        con.execute("INSERT INTO feeds (id, name, url, doc_title, etag, "
                    "last_check, next_check) VALUES (?,?,?,?,?,?,?)",
                    (f, "feed%d" % f, "http://example.com/f%d.xml" % f,
                     "Feed %d" % f, '"e%d"' % f, 1796000000, 1796003600))
        con.execute("INSERT INTO feed_tags VALUES (?, ?)",
                    ("tag%d" % (f % 7), f))
        con.execute("INSERT INTO feed_configs VALUES "
                    "('/etc/tributary/feeds.conf', ?, 1796000000)", (f,))

    def rows():
        for i in range(1, n + 1):
            text = " ".join(rnd.choice(words) for _ in range(300))
            yield (i, i % nf + 1, "id-%d" % i, "http://example.com/s/%d" % i,
                   "http://example.com/s/%d" % (i // 2), "Title %d" % i,
                   "<p>" + text[:400] + "</p>", "<p>" + text + "</p>",
                   1796000000 - i, 1796000000, 1796000000, 1796000000 - i,
                   rnd.getrandbits(63) - (1 << 62), int(i % 3 != 0),
                   i % 2, '["a","b"]')
    con.executemany(
        "INSERT INTO articles (id, feed_id, identity, guid, canon, title, "
        "summary, content, published, first_seen, changed_at, sort_date, "
        "hash, in_latest, is_primary, categories) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows())
    con.commit()
    con.execute("INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')")
    con.execute("UPDATE meta SET value = (SELECT max(id) FROM articles) "
                "WHERE key = 'fts_done'")
    con.commit()
    con.close()


class Cluster:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="trbench-", dir="/tmp")
        subprocess.run([os.path.join(SRC, "tests", "pg"), "start",
                        self.dir], check=True)
        self.n = 0

    def psql(self, db, *args, stdin=None):
        return subprocess.run(["psql", "-X", "-q", "-h", self.dir, "-U", "tr",
                               "-d", db] + list(args), stdin=stdin,
                              check=True, capture_output=True)

    def new_db(self):
        self.n += 1
        name = "b%d" % self.n
        self.psql("postgres", "-c", "CREATE DATABASE %s" % name)
        return name, "postgresql://tr@/%s?host=%s" % (name, self.dir)

    def stop(self):
        subprocess.run([os.path.join(SRC, "tests", "pg"), "stop", self.dir],
                       capture_output=True)


def timed(fn):
    t0 = time.monotonic()
    fn()
    return time.monotonic() - t0


def rm(path):
    for e in ("", "-wal", "-shm", "-journal", "-tributary"):
        if os.path.exists(path + e):
            os.unlink(path + e)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--articles", type=int, default=20000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tributary",
                    default=os.path.join(SRC, "build", "tributary"))
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="trbench-copy-")
    cl = Cluster()
    times = {k: [] for k in ("sqlite->pg", "peer csv->pg", "pg->sqlite",
                             "sqlite->sqlite", "peer .dump")}
    rss_of = []
    try:
        src = os.path.join(tmp, "src.sqlite")
        empty_store(a.tributary, src, tmp)
        # The peer's target: the schema of a database tributary made.
        schema_db, schema_addr = cl.new_db()
        subprocess.run([a.tributary, "-q", "store", "copy", "--from", src,
                        "--to", schema_addr], check=True,
                       capture_output=True)
        fill(src, a.articles)
        size = os.path.getsize(src)
        schema_path = os.path.join(tmp, "schema.sql")
        subprocess.run(["pg_dump", "-h", cl.dir, "-U", "tr", "--schema-only",
                        "-f", schema_path, schema_db], check=True)
        load = "%.1f %.1f %.1f" % os.getloadavg()
        for r in range(a.runs):
            name, addr = cl.new_db()

            def tr(frm, to):
                p = subprocess.Popen([a.tributary, "-q", "store", "copy",
                                      "--from", frm, "--to", to],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
                err = p.stderr.read()
                _, status, ru = os.wait4(p.pid, 0)
                p.returncode = os.waitstatus_to_exitcode(status)
                rss_of.append(ru.ru_maxrss)
                if p.returncode != 0:
                    sys.exit("store copy failed: %s" % err.decode())
            times["sqlite->pg"].append(timed(lambda: tr(src, addr)))
            peer_name, _ = cl.new_db()
            cl.psql(peer_name, "-f", schema_path)

            def peer_csv():
                for table, cols in (("feeds", FEED_COLS),
                                    ("articles", ARTICLE_COLS)):
                    s = subprocess.Popen(["sqlite3", "-csv", src,
                                          "SELECT %s FROM %s" % (cols, table)],
                                         stdout=subprocess.PIPE)
                    cl.psql(peer_name, "-c", "\\copy %s(%s) FROM STDIN CSV"
                            % (table, cols), stdin=s.stdout)
                    s.wait()
            times["peer csv->pg"].append(timed(peer_csv))
            back = os.path.join(tmp, "back.sqlite")
            rm(back)
            times["pg->sqlite"].append(timed(lambda: tr(addr, back)))
            dst = os.path.join(tmp, "dst.sqlite")
            rm(dst)
            times["sqlite->sqlite"].append(timed(lambda: tr(src, dst)))
            dump = os.path.join(tmp, "dump.sqlite")
            rm(dump)

            def peer_dump():
                s = subprocess.Popen(["sqlite3", src, ".dump"],
                                     stdout=subprocess.PIPE)
                subprocess.run(["sqlite3", dump], stdin=s.stdout, check=True)
                s.wait()
            times["peer .dump"].append(timed(peer_dump))
        load_end = "%.1f %.1f %.1f" % os.getloadavg()
    finally:
        cl.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    def med(k):
        return statistics.median(times[k])
    print("%d articles, %d feeds, SQLite file %.0f MB; %d runs each, in turn;"
          " load average %s at the start, %s at the end"
          % (a.articles, 200, size / 1e6, a.runs, load, load_end))
    print()
    print("| copy | median s (min-max) | articles/s | against |")
    print("|---|---|---|---|")
    peer = {"sqlite->pg": "peer csv->pg", "sqlite->sqlite": "peer .dump"}
    for k in times:
        against = ""
        if k in peer:
            against = "%.2f× %s" % (med(k) / med(peer[k]), peer[k])
        print("| %s | %.2f (%.2f-%.2f) | %s | %s |"
              % (k, med(k), min(times[k]), max(times[k]),
                 "{:,.0f}".format(a.articles / med(k)), against))
    print()
    print("Peak RSS of tributary store copy (the largest of all copies): "
          "%.1f MB" % (max(rss_of) / 1024))


if __name__ == "__main__":
    main()
