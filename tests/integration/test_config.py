"""Configuration errors: every one is reported as file:line, all of them
are reported, and tributary exits 2 without opening the database."""
import os

from harness import TempDir, check, contains, eq, main, run, test

GOOD_GLOBAL = "[tributary]\ndatabase = db/t.db\n"

# (name, config text, expected line, expected message fragment)
CASES = [
    ("unknown section", "[tributary]\n[feeds]\n", 2, "unknown section [feeds]"),
    ("unknown global key", "[tributary]\ncolour = blue\n", 2,
     'unknown key "colour"'),
    ("unknown feed key", '[feed "a"]\nurl = http://a.example/\nfoo = 1\n', 3,
     'unknown key "foo"'),
    ("duplicate feed name",
     '[feed "a"]\nurl = http://a.example/\n\n[feed "a"]\nurl = http://b.example/\n',
     4, 'duplicate feed name "a" (first defined on line 1)'),
    ("feed without url", '[tributary]\n\n[feed "lonely"]\ntitle = x\n', 3,
     'feed "lonely" has no url'),
    ("unsupported scheme", '[feed "a"]\nurl = ftp://a.example/feed\n', 2,
     "unsupported URL scheme (http, https and file only)"),
    ("invalid url", '[feed "a"]\nurl = http://exa mple.org/\n', 2,
     "invalid URL"),
    ("bad duration", "[tributary]\ninterval = 30 minutes\n", 2,
     "invalid duration"),
    ("bad duration unit", '[feed "a"]\nurl = http://a.example/\ninterval = 3y\n',
     3, "invalid duration"),
    ("bad size", "[tributary]\nmax_body = 16Q\n", 2, "invalid size"),
    ("bad boolean", '[feed "a"]\nurl = http://a.example/\nenabled = perhaps\n',
     3, "invalid boolean"),
    ("duration out of range", "[tributary]\ninterval = 5s\n", 2,
     'value "5s" out of range (1m to 30d)'),
    ("count out of range", "[tributary]\nconcurrency = 5000\n", 2,
     "out of range (1 to 1024)"),
    ("size out of range", "[tributary]\nmax_body = 10\n", 2, "out of range"),
    ("bad listen", "[tributary]\nlisten = localhost\n", 2,
     "invalid listen address"),
    ("bad port", "[tributary]\nlisten = 127.0.0.1:70000\n", 2,
     "invalid listen address"),
    ("duplicate key", "[tributary]\ninterval = 1h\ninterval = 2h\n", 3,
     'duplicate key "interval"'),
    ("key outside section", "interval = 1h\n", 1, "outside of any section"),
    ("not key value", "[tributary]\njust some words\n", 2,
     'expected "key = value"'),
    ("bad feed name", '[feed "a b"]\nurl = http://a.example/\n', 1,
     "invalid feed name"),
    ("empty value", "[tributary]\ninterval =\n", 2, "empty value"),
    ("min above max", "[tributary]\nmin_interval = 2h\nmax_interval = 1h\n",
     3, "min_interval is larger than max_interval"),
    ("min above default max",
     "[tributary]\nmin_interval = 2d\n\n[feed \"a\"]\nurl = http://a/\n",
     2, "min_interval is larger than max_interval"),
    ("max below min", "[tributary]\nmax_interval = 2m\ntitle = t\n\n", 2,
     "min_interval is larger than max_interval"),
    ("tag with a slash", '[feed "a"]\nurl = http://a/\ntags = a/b\n', 3,
     'tags: invalid tag "a/b"'),
    ("url and url_file", '[feed "a"]\nurl = http://a/\nurl_file = u\n', 3,
     "url and url_file are exclusive"),
    ("password not echoed", '[feed "a"]\nurl = http://u:pw@exa mple.org/\n',
     2, "url: invalid URL"),
]


def check_error(text, line, fragment):
    with TempDir() as d:
        path = d.write("feeds.conf", text)
        r = run("-c", path, "check", cwd=d.path)
        eq(r.rc, 2, "exit status")
        contains(r.err, "%s:%d: " % (path, line), "stderr")
        contains(r.err, fragment, "stderr")
        check(":pw@" not in r.err, "a password in a message")
        # The database is never opened (nor created) on a bad config.
        check(not os.path.exists(d.join("db")), "database folder created")
        for cmd in (["fetch"], ["feeds"], ["export"]):
            r2 = run("-c", path, *cmd, cwd=d.path)
            eq(r2.rc, 2, "%s exit status" % cmd[0])
            contains(r2.err, "%s:%d: " % (path, line), cmd[0] + " stderr")
        check(not os.path.exists(d.join("db")), "database created")


def make_case(name, text, line, fragment):
    def fn():
        check_error(text, line, fragment)
    fn.__name__ = "config_error_" + name.replace(" ", "_")
    return test(fn)


for _case in CASES:
    make_case(*_case)


@test
def all_errors_reported_in_line_order():
    text = ('[tributary]\ninterval = nope\ncolour = 1\n'
            '[feed "x"]\ntitle = t\n[feed "y"]\nurl = gopher://y/\n')
    with TempDir() as d:
        path = d.write("feeds.conf", text)
        r = run("-c", path, "check")
        eq(r.rc, 2, "exit status")
        lines = [l for l in r.err.splitlines() if l.startswith(path + ":")]
        eq([int(l.split(":")[1]) for l in lines], [2, 3, 4, 7], "error lines")


@test
def valid_config_lists_feeds():
    text = ('[tributary]\ninterval = 45m\nlisten = [::1]:0\n'
            '[feed "world"]\nurl = https://news.example.org/world.xml\n'
            'tags = world, security\ninterval = 2h\n'
            '[feed "local"]\nurl = file:feeds/local.xml\nenabled = no\n')
    with TempDir() as d:
        path = d.write("feeds.conf", text)
        r = run("-c", path, "check")
        eq(r.rc, 0, "exit status: %r" % r)
        contains(r.out, "2 feeds")
        contains(r.out, "world")
        contains(r.out, "every 2h")
        contains(r.out, "https://news.example.org/world.xml")
        contains(r.out, "[world,security]")
        # A relative file: URL is resolved against the config's folder.
        contains(r.out, "file://" + os.path.realpath(d.path) + "/feeds/local.xml")
        contains(r.out, "every 45m")
        contains(r.out, "(disabled)")


@test
def config_from_environment_then_default():
    with TempDir() as d:
        path = d.write("other.conf", '[feed "envfeed"]\nurl = http://e.example/\n')
        r = run("check", env={"TRIBUTARY_CONFIG": path}, cwd=d.path)
        eq(r.rc, 0, "exit status: %r" % r)
        contains(r.out, "envfeed")
        d.write("feeds.conf", '[feed "cwdfeed"]\nurl = http://c.example/\n')
        r = run("check", cwd=d.path)
        eq(r.rc, 0, "exit status")
        contains(r.out, "cwdfeed")
        r = run("-c", path, "check", cwd=d.path,
                env={"TRIBUTARY_CONFIG": d.join("feeds.conf")})
        contains(r.out, "envfeed", "-c wins over the environment")


@test
def missing_config_file():
    with TempDir() as d:
        r = run("-c", d.join("nope.conf"), "check")
        eq(r.rc, 2, "exit status")
        contains(r.err, "nope.conf: cannot open")


@test
def long_lines_load_and_overlong_ones_are_errors():
    """Debian's inih holds 200 bytes a line: lines far longer load (the
    signed and token URLs of private feeds), a line over 64 KiB is an
    error at its line, never a crash."""
    for n in (150, 200, 400, 4000, 20000):
        with TempDir() as d:
            url = "http://a.example/f?p=" + "x" * n
            path = d.write("feeds.conf", '[feed "a"]\nurl = %s\n'
                           'title = T ; a comment\n' % url)
            r = run("-c", path, "check")
            eq(r.rc, 0, "exit status (%d): %r" % (n, r))
            contains(r.out, url, "check lists the whole URL")
    with TempDir() as d:
        path = d.write("feeds.conf", '[feed "a"]\nurl = http://a.example/'
                       + "x" * 70000 + "\n")
        r = run("-c", path, "check")
        eq(r.rc, 2, "exit status")
        contains(r.err, path + ":2: line longer than 65536 characters")


@test
def only_regular_files_and_pipes_are_configs():
    """(config path, words of the message): none hangs, none is an
    empty config."""
    cases = [("/dev/zero", "it is a character device"),
             ("/dev/null", "it is a character device"),
             ("/tmp", "it is a directory"),
             ("/nonexistent/feeds.conf", "No such file")]
    for path, words in cases:
        r = run("-c", path, "check", timeout=10)
        eq(r.rc, 2, "%s: exit status %r" % (path, r))
        contains(r.err, path + ": ", path)
        contains(r.err, words, path)
    r = run("-c", "/dev/stdin", "check",
            stdin='[tributary]\ntitle = piped\n[feed "p"]\nurl = http://p/\n')
    eq(r.rc, 0, "a pipe: %r" % r)
    contains(r.out, "1 feed")


@test
def nul_bytes_are_errors_at_their_line():
    for text, line in ((b"\0[tributary]\n", 1),
                       (b"[tributary]\n\0title = x\n", 2),
                       (b"[tributary]\ntitle = a\0b\n", 2),
                       (b'[feed "a"]\nurl = http://a/\n\0\n', 3)):
        with TempDir() as d:
            path = d.join("feeds.conf")
            with open(path, "wb") as f:
                f.write(text)
            r = run("-c", path, "check")
            eq(r.rc, 2, "exit status %r" % r)
            contains(r.err, "%s:%d: NUL byte" % (path, line))


@test
def check_warns_about_comments_and_shared_urls():
    with TempDir() as d:
        path = d.write("feeds.conf",
                       '[feed "a"]\nurl = http://a.example/f\n'
                       'title = Tom ; Jerry\n\n'
                       '[feed "b"]\nurl = HTTP://A.example:80/f#x\n'
                       'title = Tom \\; Jerry\ntags = Tech   News\n')
        r = run("-c", path, "check")
        eq(r.rc, 0, "exit status %r" % r)
        contains(r.err, '%s:3: warning: title: the text after " ;" is a '
                 'comment, the value is "Tom"' % path)
        contains(r.err, '%s:5: warning: feed "b" has the same URL as feed '
                 '"a" (line 1)' % path)
        contains(r.out, "[Tech News]")


@test
def symlinked_config_resolves_against_the_links_folder():
    with TempDir() as d:
        os.makedirs(d.join("real"))
        os.makedirs(d.join("etc"))
        d.write("real/feeds.conf", "[tributary]\ndatabase = t.db\n")
        os.symlink("../real/feeds.conf", d.join("etc/feeds.conf"))
        r = run("-c", d.join("etc/feeds.conf"), "check")
        eq(r.rc, 0, "exit status %r" % r)
        contains(r.out, "database %s" % d.join("etc/t.db"))


@test
def bundled_config_is_valid():
    r = run("-c", os.path.join(os.environ.get("TR_SRC", "."), "feeds.conf"),
            "check")
    eq(r.rc, 0, "exit status: %r" % r)
    contains(r.out, "world-desk")


@test
def cli_usage_errors():
    r = run("frobnicate")
    eq(r.rc, 2, "unknown command")
    contains(r.err, "unknown command: frobnicate")
    contains(r.err, "tributary --help")
    r = run("--bogus", "check")
    eq(r.rc, 2, "unknown option")
    contains(r.err, "unknown option")
    r = run()
    eq(r.rc, 2, "no command")
    r = run("--version")
    eq(r.rc, 0, "--version")
    check(r.out.startswith("tributary "), "version line")
    for args in (["--help"], ["-h"], ["check", "--help"], ["check", "-h"]):
        r = run(*args)
        eq(r.rc, 0, " ".join(args))
        contains(r.out, "usage:")
    r = run("check", "extra")
    eq(r.rc, 2, "extra argument")


@test
def tags_are_urls_when_percent_encoded():
    """Tags with spaces and other characters not safe in a URL path: every
    link and id tributary writes for them is percent-encoded."""
    import re
    import subprocess
    import time
    import urllib.request
    tags = ["Tech News", "50%", "C++", "what?", "\u00dcml"]
    with TempDir() as d:
        feed = d.write("a.xml", '<?xml version="1.0"?><rss version="2.0">'
                       '<channel><title>a</title><link>http://a.example/</link>'
                       '<item><title>one</title><link>http://a.example/1</link>'
                       '<guid>1</guid></item></channel></rss>')
        path = d.write("feeds.conf", '[tributary]\ndatabase = t.db\n'
                       '[feed "a"]\nurl = file://%s\ntags = %s\n'
                       % (feed, ", ".join(tags)))
        eq(run("-c", path, "fetch").rc, 0, "fetch")
        log = open(d.join("serve.log"), "w+")
        env = dict(os.environ)
        env.pop("TRIBUTARY_CONFIG", None)
        proc = subprocess.Popen([os.environ.get("TRIBUTARY"), "-c", path,
                                 "serve", "--listen", "127.0.0.1:0"],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            port = None
            for _ in range(200):
                log.seek(0)
                m = re.search(r"http://127\.0\.0\.1:(\d+)/feed\.atom",
                              log.read())
                if m:
                    port = int(m.group(1))
                    break
                time.sleep(0.05)
            check(port, "serve did not start")
            base = "http://127.0.0.1:%d" % port
            for tag in tags:
                enc = urllib.request.quote(tag, safe="")
                for fmt in ("atom", "rss", "json"):
                    url = "%s/tags/%s.%s" % (base, enc, fmt)
                    text = urllib.request.urlopen(url, timeout=10).read(
                        ).decode()
                    want = "%s/tags/%s.%s" % (base, urllib.request.quote(
                        tag, safe="!$&'()*+,;=:@"), fmt)
                    contains(text, want.replace("&", "&amp;"),
                             "%s %s self link" % (tag, fmt))
                    for href in re.findall(r'(?:href|url)"?[=:] ?"([^"]*)"',
                                           text):
                        check(" " not in href, "%s %s: %r" % (tag, fmt, href))
                r = run("-c", path, "export", "--tag", tag)
                eq(r.rc, 0, "export --tag %s" % tag)
                contains(r.out, "/tags/%s.atom" % urllib.request.quote(
                    tag, safe=""), "export self link")
        finally:
            proc.terminate()
            proc.wait(10)
            log.close()


main()
