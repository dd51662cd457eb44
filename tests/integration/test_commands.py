"""test_commands.py — the commands as an operator runs them from a shell,
cron or a script: the exit status of `fetch` and its quiet mode, what a
runtime error prints, the database folder, and the help texts.

Feeds are served by a FeedServer on 127.0.0.1; the store is a real SQLite
file read back with python's sqlite3.
"""
import os
import sqlite3
import stat
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (DATA, TRIBUTARY, TempDir, check, contains, eq,  # noqa
                     main, run, test)
from server import FeedServer  # noqa: E402


def fixture(name):
    with open(os.path.join(DATA, "fetch", name), "rb") as f:
        return f.read()


RSS1 = fixture("rss1.xml")
ATOM = fixture("atom.xml")


def write_conf(td, feeds, database=None, **glob):
    """feeds: list of (name, url) or (name, url, {setting: value})."""
    lines = ["[tributary]",
             "database = %s" % (database or td.join("db.sqlite"))]
    for k, v in glob.items():
        lines.append("%s = %s" % (k, v))
    for f in feeds:
        lines += ["", '[feed "%s"]' % f[0], "url = %s" % f[1]]
        for k, v in (f[2] if len(f) > 2 else {}).items():
            lines.append("%s = %s" % (k, v))
    return td.write("feeds.conf", "\n".join(lines) + "\n")


# --- fetch: the exit status ---

# (case, routes {name: route kwargs}, extra fetch args, want exit status)
OK = {"body": RSS1}
OK2 = {"body": ATOM}
DOWN = {"status": 500}
GONE = {"status": 410}
NOT_FEED = {"body": b"<html>hi</html>", "content_type": "text/html"}
EXIT_CASES = [
    ("every feed ok", {"a": OK, "b": OK2}, [], 0),
    ("one of two failed", {"a": OK, "b": DOWN}, [], 0),
    ("one of three failed, one not a feed", {"a": OK, "b": DOWN,
                                             "c": NOT_FEED}, [], 0),
    ("a 410 beside an ok feed", {"a": OK, "b": GONE}, [], 0),
    ("every feed failed", {"a": DOWN, "b": NOT_FEED}, [], 1),
    ("the only feed failed", {"a": DOWN}, [], 1),
    ("--strict, one of two failed", {"a": OK, "b": DOWN}, ["--strict"], 1),
    ("--strict, every feed ok", {"a": OK, "b": OK2}, ["--strict"], 0),
    ("named ok feed beside a failing one", {"a": OK, "b": DOWN}, ["a"], 0),
    ("named failing feed", {"a": OK, "b": DOWN}, ["b"], 1),
]


@test
def fetch_exit_status_table():
    for case, routes, args, want in EXIT_CASES:
        with FeedServer() as srv, TempDir() as td:
            feeds = []
            for name, kw in sorted(routes.items()):
                srv.route("/%s.xml" % name, **kw)
                feeds.append((name, srv.url("/%s.xml" % name)))
            conf = write_conf(td, feeds)
            r = run("-c", conf, "fetch", *args)
            eq(r.rc, want, "%s: exit status (%r)" % (case, r))


@test
def fetch_exit_status_when_nothing_is_due_or_store_fails():
    with FeedServer() as srv, TempDir() as td:
        srv.route("/a.xml", body=RSS1)
        conf = write_conf(td, [("a", srv.url("/a.xml"))])
        eq(run("-c", conf, "fetch").rc, 0, "first round")
        r = run("-c", conf, "fetch")
        eq(r.rc, 0, "nothing due (%r)" % r)
        contains(r.out, "no feed due")
        # A database that cannot be opened: nothing could be stored.
        os.makedirs(td.join("adir"))
        conf = write_conf(td, [("a", srv.url("/a.xml"))],
                          database=td.join("adir"))
        r = run("-c", conf, "fetch")
        eq(r.rc, 1, "database is a folder (%r)" % r)


@test
def cron_recipe_exports_when_some_feeds_fail():
    """The README's recipe, run by a shell as cron would."""
    with FeedServer() as srv, TempDir() as td:
        srv.route("/a.xml", body=RSS1)
        srv.route("/b.xml", status=503)
        conf = write_conf(td, [("a", srv.url("/a.xml")),
                               ("b", srv.url("/b.xml"))])
        out = td.join("planet.atom")
        cmd = ('"$T" -c "$C" -q fetch && "$T" -c "$C" export --output "$O"')
        p = subprocess.run(["sh", "-c", cmd], capture_output=True,
                           text=True, timeout=60,
                           env=dict(os.environ, T=TRIBUTARY, C=conf, O=out))
        eq(p.returncode, 0, "recipe: %s %s" % (p.stdout, p.stderr))
        check(os.path.exists(out), "the planet was exported")
        with open(out, encoding="utf-8") as f:
            contains(f.read(), "<entry>", "planet")


# --- fetch -q ---

@test
def quiet_fetch_prints_nothing_on_a_clean_round():
    with FeedServer() as srv, TempDir() as td:
        srv.route("/a.xml", body=RSS1)
        srv.route("/b.xml", body=ATOM)
        conf = write_conf(td, [("a", srv.url("/a.xml")),
                               ("b", srv.url("/b.xml"))])
        for args in (["-q", "-c", conf, "fetch"],
                     ["-c", conf, "fetch", "-q", "--force"],
                     ["-c", conf, "--quiet", "fetch", "--force"],
                     ["-q", "-c", conf, "fetch"]):  # nothing due
            r = run(*args)
            eq(r.rc, 0, "%s: exit (%r)" % (args, r))
            eq(r.out, "", "%s: stdout" % args)
            eq(r.err, "", "%s: stderr" % args)
        # Stored all the same.
        con = sqlite3.connect(td.join("db.sqlite"))
        n = con.execute("SELECT count(*) FROM articles").fetchone()[0]
        con.close()
        check(n > 0, "articles stored")


@test
def quiet_fetch_prints_only_failures():
    with FeedServer() as srv, TempDir() as td:
        srv.route("/a.xml", body=RSS1)
        srv.route("/b.xml", status=500)
        srv.route("/c.xml", body=b"<html>x</html>", content_type="text/html")
        conf = write_conf(td, [("aok", srv.url("/a.xml")),
                               ("bdown", srv.url("/b.xml")),
                               ("cpage", srv.url("/c.xml"))])
        r = run("-q", "-c", conf, "fetch")
        eq(r.rc, 0, "exit (%r)" % r)
        lines = r.out.splitlines()
        eq(sorted(line.split()[0] for line in lines), ["bdown", "cpage"],
           "lines of stdout: %r" % r.out)
        contains(r.out, "HTTP 500")
        contains(r.out, "not a feed")
        check("aok" not in r.out + r.err, "no line for the ok feed")
        check("feeds in" not in r.out, "no summary")
        # Without -q the same round prints every feed and a summary.
        r = run("-c", conf, "fetch", "--force")
        check(any(line.startswith("aok ") for line in r.out.splitlines()),
              "ok feed listed without -q: %r" % r.out)
        contains(r.out, "3 feeds in")


# --- the database folder ---

@test
def database_folder_is_created_or_named_once():
    with TempDir() as td:
        feed = td.write("f.xml", ATOM)
        for rel in ("new/db.sqlite", "a/b/c/db.sqlite"):
            db = td.join(rel)
            conf = write_conf(td, [("f", "file://" + feed)], database=db)
            r = run("-c", conf, "fetch")
            eq(r.rc, 0, "%s: fetch (%r)" % (rel, r))
            check(os.path.exists(db), "%s: database made" % rel)
            top = td.join(rel.split("/")[0])
            eq(stat.S_IMODE(os.stat(os.path.dirname(db)).st_mode) & 0o7027,
               0o0, "%s: no group write, nothing for others" % rel)
            eq(stat.S_IMODE(os.stat(top).st_mode) & 0o750, 0o750,
               "%s: mode" % rel)
        # A file where a folder should be: the error names it once.
        td.write("blocker", "not a folder")
        for rel in ("blocker/db.sqlite", "blocker/sub/db.sqlite"):
            db = td.join(rel)
            conf = write_conf(td, [("f", "file://" + feed)], database=db)
            r = run("-c", conf, "fetch")
            eq(r.rc, 1, "%s: exit (%r)" % (rel, r))
            contains(r.err, "database folder")
            eq(r.err.count(td.join("blocker")), 1,
               "%s: the path named once: %r" % (rel, r.err))
            eq(len(r.err.strip().splitlines()), 1, "one line: %r" % r.err)
        # A database the store cannot open (a folder): every command names
        # it once, on one line.
        os.makedirs(td.join("isdir"))
        conf = write_conf(td, [("f", "file://" + feed)],
                          database=td.join("isdir"), listen="127.0.0.1:0")
        for args in (["fetch"], ["feeds"], ["export"], ["serve"]):
            r = run("-c", conf, *args, timeout=30)
            eq(r.rc, 1, "%s: exit (%r)" % (args, r))
            eq(r.err.count(td.join("isdir")), 1,
               "%s: the path named once: %r" % (args, r.err))


# --- errors: the message and a one-line hint, never the whole usage ---

ERROR_CASES = [
    # (args after -c CONF, exit status, what stderr names)
    (["frobnicate"], 2, "unknown command: frobnicate"),
    (["--bogus", "check"], 2, "unknown option"),
    (["check", "extra"], 2, "unexpected argument: extra"),
    (["export", "--format", "pdf"], 2, 'unknown format "pdf"'),
    (["export", "--limit", "0"], 2, "--limit"),
    (["export", "--since", "yesterday"], 2, "--since"),
    (["export", "--feed", "nosuch"], 2, 'no feed named "nosuch"'),
    (["export", "--tag", "nosuch"], 2, 'has the tag "nosuch"'),
    (["export", "--tag", "a", "--feed", "a"], 2, "cannot be combined"),
    (["fetch", "--nope"], 2, "unknown option"),
    (["fetch", "nosuch"], 2, "no feed named nosuch"),
    (["feeds", "extra"], 2, "unexpected argument"),
    (["opml", "frob"], 2, "unknown subcommand: frob"),
    (["opml", "import"], 2, "no OPML file given"),
    (["parse"], 2, "missing FILE"),
    (["serve", "extra"], 2, "unexpected argument"),
    (["export"], 1, "no store yet"),
]


@test
def errors_print_a_hint_not_the_usage():
    with TempDir() as td:
        conf = write_conf(td, [("a", "http://127.0.0.1:9/a.xml",
                                {"tags": "news"})])
        for args, want, says in ERROR_CASES:
            r = run("-c", conf, *args)
            what = " ".join(args)
            eq(r.rc, want, "%s: exit (%r)" % (what, r))
            contains(r.err, says, "%s: stderr" % what)
            check("usage:" not in r.err and "options:" not in r.err,
                  "%s: the usage text printed: %r" % (what, r.err))
            lines = r.err.strip().splitlines()
            check(1 <= len(lines) <= 2, "%s: %d lines: %r"
                  % (what, len(lines), r.err))
            eq(r.out, "", "%s: stdout" % what)
    # Asked for, the usage is there.
    r = run("export", "--help")
    eq(r.rc, 0, "export --help")
    contains(r.out, "usage:")


def render_formats():
    """The format names of lib/render.c's table."""
    import re
    with open(os.path.join(os.environ.get("TR_SRC", "."), "lib",
                           "render.c")) as f:
        src = f.read()
    names = re.findall(r'\[TR_FMT_[A-Z]+\] = \{"([a-z]+)"', src)
    check(len(names) >= 5, "formats found in lib/render.c: %r" % names)
    return names


@test
def every_export_format_is_documented():
    with open(os.path.join(os.environ.get("TR_SRC", "."), "dist", "man",
                           "tributary.1")) as f:
        man = f.read()
    man_export = [line for line in man.splitlines()
                  if line.startswith(".It Ic export")]
    eq(len(man_export), 1, "export entries in tributary.1")
    main_help = run("--help").out.lower()
    export_help = run("export", "--help").out
    main_line = [line for line in main_help.splitlines()
                 if line.strip().startswith("export")]
    eq(len(main_line), 1, "export line of --help")
    for name in render_formats():
        contains(man_export[0], " %s " % name, "tributary.1 export formats")
        contains(main_line[0], name, "tributary --help, export line")
        contains(export_help, name, "export --help")


# --- serve run by hand (make run) ---

def serve_until_ready(conf, tty):
    """Starts serve on a free port; returns (process, first lines)."""
    import pty
    import select
    import time
    master = slave = None
    if tty:
        master, slave = pty.openpty()
        stdin = slave
    else:
        stdin = subprocess.DEVNULL
    p = subprocess.Popen([TRIBUTARY, "-c", conf, "serve", "--listen",
                          "127.0.0.1:0"], stdin=stdin,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if slave is not None:
        os.close(slave)
    out = b""
    deadline = time.time() + 30
    while time.time() < deadline and b"merged feed at" not in out:
        if select.select([p.stdout], [], [], 0.5)[0]:
            chunk = os.read(p.stdout.fileno(), 4096)
            if not chunk:
                break
            out += chunk
    time.sleep(0.3)  # the rest of the start lines
    if select.select([p.stdout], [], [], 0.2)[0]:
        out += os.read(p.stdout.fileno(), 4096)
    if master is not None:
        os.close(master)
    return p, out.decode()


@test
def serve_by_hand_says_how_to_stop():
    import signal
    with TempDir() as td:
        feed = td.write("f.xml", ATOM)
        # The database's folder does not exist yet: serve creates it.
        conf = write_conf(td, [("f", "file://" + feed)],
                          database=td.join("state", "sub", "db.sqlite"))
        p, out = serve_until_ready(conf, tty=True)
        try:
            contains(out, "merged feed at http://127.0.0.1:", "start lines")
            contains(out, "Ctrl-C", "start lines")
        finally:
            p.send_signal(signal.SIGINT)
            rc = p.wait(30)
        eq(rc, 0, "exit after Ctrl-C (SIGINT)")
        check(os.path.exists(td.join("state", "sub", "db.sqlite")),
              "serve made the database and its folders")
        eq(stat.S_IMODE(os.stat(td.join("state")).st_mode) & 0o7027, 0,
           "folder mode")
        # Under a service manager (no terminal) the line is left out.
        p, out = serve_until_ready(conf, tty=False)
        p.send_signal(signal.SIGTERM)
        p.wait(30)
        contains(out, "merged feed at", "start lines")
        check("Ctrl-C" not in out, "no Ctrl-C hint without a terminal: %r"
              % out)


if __name__ == "__main__":
    main()
