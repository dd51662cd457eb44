"""test_feeds.py — `tributary feeds`: every feed's state as the config
at hand sees it, printed as text or JSON; it creates no database (a fetch
of a disabled feed creates it here, polling nothing). Feed state is set up with Python's sqlite3 on the real database file,
the way a poller run would have left it."""
import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TempDir, check, contains, eq, main, run, test  # noqa

CONF = """[tributary]
database = var/feeds.db

[feed "alpha"]
url = http://127.0.0.1:9/alpha.xml
tags = news

[feed "beta"]
url = http://127.0.0.1:9/beta.xml
title = Beta

[feed "gamma"]
url = http://127.0.0.1:9/gamma.xml
enabled = no
"""


def setup(d, conf=CONF):
    os.makedirs(d.join("var"), exist_ok=True)
    return d.write("feeds.conf", conf)


def create_store(conf):
    """The store, made by a round that polls nothing (gamma is disabled)."""
    r = run("-c", conf, "fetch", "gamma")
    check(r.rc == 1, "fetch of a disabled feed: %r" % r)


def lines_by_name(out):
    res = {}
    for line in out.splitlines():
        res[line.split(" ", 1)[0]] = line
    return res


@test
def no_store_yet_then_lists_feeds():
    with TempDir() as d:
        conf = setup(d)
        check(not os.path.exists(d.join("var", "feeds.db")))
        r = run("-c", conf, "feeds")
        eq(r.rc, 1, "exit status: %r" % r)
        contains(r.err, "no store yet")
        eq(r.err.count("feeds.db"), 1, "the path named once: %r" % r.err)
        check(not os.path.exists(d.join("var", "feeds.db")),
              "feeds created a database")
        create_store(conf)
        r = run("-c", conf, "feeds")
        eq(r.rc, 0, "exit status: %r" % r)
        lines = lines_by_name(r.out)
        eq(sorted(lines), ["alpha", "beta", "gamma"], "feeds")
        contains(lines["alpha"], "http://127.0.0.1:9/alpha.xml")
        contains(lines["alpha"], "status=0")
        contains(lines["alpha"], "last_success=never")
        contains(lines["alpha"], "next_check=now")
        contains(lines["alpha"], "errors=0")
        contains(lines["alpha"], "articles=0")
        contains(lines["gamma"], "disabled=")
        check("disabled" not in lines["alpha"], "alpha is enabled")


@test
def shows_state_left_by_polling():
    with TempDir() as d:
        conf = setup(d)
        create_store(conf)
        db = sqlite3.connect(d.join("var", "feeds.db"))
        db.execute("""UPDATE feeds SET effective_url = ?, last_status = 200,
                      last_success = 1733477400, next_check = 1733481000,
                      etag = '"v1"' WHERE name = 'alpha'""",
                   ("http://127.0.0.1:9/moved.xml",))
        db.execute("""UPDATE feeds SET last_status = 410, errors = 4,
                      last_error = 'HTTP 410 Gone', disabled = 1,
                      disabled_reason = 'HTTP 410 Gone' WHERE name = 'beta'""")
        fid = db.execute("SELECT id FROM feeds WHERE name = 'alpha'"
                         ).fetchone()[0]
        for i in range(3):
            db.execute("""INSERT INTO articles(feed_id, identity, title,
                          first_seen, changed_at, sort_date, hash)
                          VALUES (?, ?, ?, 1, 1, 1, 0)""",
                       (fid, "id-%d" % i, "t%d" % i))
        db.commit()
        db.close()
        r = run("-c", conf, "feeds")
        eq(r.rc, 0, "exit: %r" % r)
        lines = lines_by_name(r.out)
        contains(lines["alpha"], "(moved to http://127.0.0.1:9/moved.xml)")
        contains(lines["alpha"], "status=200")
        contains(lines["alpha"], "last_success=2024-12-06T09:30:00Z")
        contains(lines["alpha"], "next_check=2024-12-06T10:30:00Z")
        contains(lines["alpha"], "articles=3")
        contains(lines["beta"], "status=410")
        contains(lines["beta"], "errors=4")
        contains(lines["beta"], 'disabled="HTTP 410 Gone"')

        r = run("-c", conf, "feeds", "--json")
        eq(r.rc, 0, "exit: %r" % r)
        feeds = {f["name"]: f for f in json.loads(r.out)}
        a = feeds["alpha"]
        eq(a["effective_url"], "http://127.0.0.1:9/moved.xml", "effective")
        eq(a["last_status"], 200, "status")
        eq(a["last_success"], 1733477400, "last_success")
        eq(a["articles"], 3, "articles")
        eq(a["etag"], '"v1"', "etag")
        eq(a["active"], True, "active")
        eq(feeds["beta"]["title"], "Beta", "configured title")
        eq(feeds["beta"]["disabled"], True, "disabled")
        eq(feeds["beta"]["disabled_reason"], "HTTP 410 Gone", "reason")
        eq(feeds["gamma"]["enabled"], False, "gamma enabled")
        eq(feeds["gamma"]["last_success"], None, "never")

        # alpha leaves the config, beta gets a new URL: alpha is listed as
        # removed with its articles, beta's validators and 410 are reset.
        conf2 = d.write("feeds.conf", CONF.replace(
            '[feed "alpha"]\nurl = http://127.0.0.1:9/alpha.xml\n'
            'tags = news\n', "").replace("beta.xml", "beta2.xml"))
        r = run("-c", conf2, "feeds", "--json")
        eq(r.rc, 0, "exit: %r" % r)
        feeds = {f["name"]: f for f in json.loads(r.out)}
        eq(feeds["alpha"]["active"], False, "alpha removed")
        eq(feeds["alpha"]["articles"], 3, "articles kept")
        eq(feeds["beta"]["url"], "http://127.0.0.1:9/beta2.xml", "new url")
        eq(feeds["beta"]["disabled"], False, "410 disable reset")
        r = run("-c", conf2, "feeds")
        contains(lines_by_name(r.out)["alpha"], "removed")
        # The other config's view wrote nothing: the first one's is the
        # same, and so is the database file.
        conf1 = d.write("one.conf", CONF)
        db_path = d.join("var", "feeds.db")
        with open(db_path, "rb") as f:
            before = f.read()
        r = run("-c", conf1, "feeds", "--json")
        feeds = {f["name"]: f for f in json.loads(r.out)}
        eq(feeds["alpha"]["active"], True, "alpha in the first config")
        eq(feeds["beta"]["url"], "http://127.0.0.1:9/beta.xml", "url")
        eq(feeds["beta"]["disabled"], True, "beta's 410 as stored")
        run("-c", conf2, "feeds")
        with open(db_path, "rb") as f:
            eq(f.read() == before, True, "database file unchanged")


@test
def refuses_newer_database():
    with TempDir() as d:
        conf = setup(d)
        path = d.join("var", "feeds.db")
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE later(x)")
        db.execute("PRAGMA user_version = 42")
        db.commit()
        db.close()
        before = open(path, "rb").read()
        r = run("-c", conf, "feeds")
        eq(r.rc, 1, "exit: %r" % r)
        contains(r.err, "newer")
        eq(open(path, "rb").read(), before, "file unchanged")


@test
def usage_errors():
    with TempDir() as d:
        conf = setup(d)
        r = run("-c", conf, "feeds", "--nope")
        eq(r.rc, 2, "exit: %r" % r)
        r = run("-c", conf, "feeds", "extra")
        eq(r.rc, 2, "exit: %r" % r)
        r = run("-c", conf, "feeds", "--help")
        eq(r.rc, 0, "exit: %r" % r)
        contains(r.out, "--json")
        bad = d.write("bad.conf", "[feed \"x\"]\n")
        r = run("-c", bad, "feeds")
        eq(r.rc, 2, "exit: %r" % r)
        r = run("-c", d.write("nodir.conf",
                              "[tributary]\ndatabase = no/such/dir/x.db\n"),
                "feeds")
        eq(r.rc, 1, "exit: %r" % r)
        contains(r.err, "no/such/dir/x.db")


main()
