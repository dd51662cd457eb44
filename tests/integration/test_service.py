"""test_service.py — `tributary serve` as a long-running service.

Real processes on 127.0.0.1: the built binary, the feed server of
server.py, a unix datagram socket standing in for systemd's
NOTIFY_SOCKET, and the store the service writes: an SQLite file, or
with TR_TEST_PG set a PostgreSQL database of the test cluster (harness.py
TempDir.database()).
"""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import (PG_DIR, TRIBUTARY, TempDir, check, contains, eq,  # noqa: E402
                     main, test)
from server import FeedServer  # noqa: E402


def rss(title, n, prefix="item"):
    items = "".join(
        "<item><title>%s %d</title><link>https://example.org/%s/%d</link>"
        "<guid>https://example.org/%s/%d</guid>"
        "<pubDate>Mon, 02 Nov 2026 10:%02d:00 GMT</pubDate></item>"
        % (prefix, i, prefix, i, prefix, i, i) for i in range(n))
    return ("<?xml version='1.0'?><rss version='2.0'><channel>"
            "<title>%s</title><link>https://example.org/</link>"
            "<description>d</description>%s</channel></rss>" % (title, items))


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def write_config(tmp, port, feeds, extra="", db="t.db"):
    """feeds: list of (name, url); the store is tmp.database(db);
    returns the config path."""
    text = ("[tributary]\ndatabase = %s\nlisten = 127.0.0.1:%d\n"
            "interval = 1h\n%s\n" % (tmp.database(db), port, extra))
    for feed in feeds:
        text += '[feed "%s"]\nurl = %s\n%s\n' % (feed[0], feed[1],
                                                  "".join(feed[2:]))
    return tmp.write("feeds.conf", text)


class Notify:
    """A datagram socket bound in tmp: what systemd's NOTIFY_SOCKET is.
    A thread receives every message as it arrives, as systemd does."""

    def __init__(self, path):
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.sock.settimeout(0.1)
        self.messages = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._receive, daemon=True)
        self.thread.start()

    def _receive(self):
        while not self.done.is_set():
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            self.messages.append(data.decode())

    def collect(self, timeout):
        """Waits timeout seconds for more messages to arrive."""
        time.sleep(timeout)

    def wait_for(self, pred, timeout=10, start=0):
        """Receives until some message from index start on satisfies
        pred; returns it."""
        end = time.monotonic() + timeout
        seen = start
        while time.monotonic() < end:
            while seen < len(self.messages):
                if pred(self.messages[seen]):
                    return self.messages[seen]
                seen += 1
            time.sleep(0.02)
        raise AssertionError("no matching notification in %r"
                             % self.messages)

    def close(self):
        self.done.set()
        self.thread.join()
        self.sock.close()


def fields(msg):
    return dict(line.split("=", 1) for line in msg.split("\n") if "=" in line)


class Service:
    """tributary serve in the background, with a notify socket."""

    def __init__(self, tmp, config, env=None):
        self.tmp = tmp
        self.notify = Notify(tmp.join("notify.sock"))
        e = dict(os.environ)
        for k in ("TRIBUTARY_CONFIG", "JOURNAL_STREAM", "WATCHDOG_USEC",
                  "WATCHDOG_PID"):
            e.pop(k, None)
        e["NOTIFY_SOCKET"] = self.notify.path
        if env:
            e.update(env)
        self.errpath = tmp.join("stderr.log")
        self.outpath = tmp.join("stdout.log")
        self.proc = subprocess.Popen(
            [TRIBUTARY, "-v", "-c", config, "serve"], env=e,
            stdout=open(self.outpath, "w"), stderr=open(self.errpath, "w"))

    def ready(self, timeout=10):
        try:
            return self.notify.wait_for(
                lambda m: "READY=1" in m.split("\n"), timeout)
        except AssertionError:
            self.kill()
            raise AssertionError("service not ready: exit %r\n%s"
                                 % (self.proc.poll(), self.log()))

    def log(self):
        with open(self.errpath) as f:
            return f.read()

    def stdout(self):
        with open(self.outpath) as f:
            return f.read()

    def send(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=5):
        """Sends sig; returns (exit status, seconds it took)."""
        t0 = time.monotonic()
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            # Show where it hangs, for the failure message.
            try:
                bt = subprocess.run(
                    ["gdb", "-p", str(self.proc.pid), "-batch", "-ex",
                     "thread apply all bt"], capture_output=True,
                    text=True, timeout=30).stdout
            except (OSError, subprocess.TimeoutExpired):
                bt = ""
            self.kill()
            print("  did not stop within %ss; log:\n%s\n%s"
                  % (timeout, self.log()[-3000:], bt[-6000:]))
            return None, time.monotonic() - t0
        return rc, time.monotonic() - t0

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def close(self):
        self.kill()
        self.notify.close()


def get(port, path, timeout=5):
    """(status, body text) of GET http://127.0.0.1:port/path."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                    timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_until(pred, timeout=10, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def db_rows(tmp, sql, args=()):
    """The rows of a query on the test's store (t.db), read-only."""
    con = tmp.store("t.db")
    try:
        return [tuple(r) for r in con.execute(sql, args).fetchall()]
    finally:
        con.close()


def make_due(tmp, *names):
    """Sets the named feeds due now, as if their interval had passed."""
    con = tmp.store("t.db", write=True)
    try:
        for n in names:
            con.execute("UPDATE feeds SET next_check = 1 WHERE name = ?",
                        (n,))
        con.commit()
    finally:
        con.close()


# --- the Prometheus text format, checked line by line ---

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(\{(?:%s)(?:,%s)*,?\})? (\S+)( -?\d+)?$"
                    % (NAME, LABEL, LABEL))
FLOAT = re.compile(r"^[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?"
                   r"|Inf|NaN)$")


def parse_metrics(text):
    """Checks every line of an exposition; returns {(name, labels): value}
    and {family: type}. Raises AssertionError naming the bad line."""
    samples, types, helps = {}, {}, set()
    check(text.endswith("\n"), "exposition does not end with a newline")
    for no, line in enumerate(text.split("\n")[:-1], 1):
        where = "line %d %r" % (no, line)
        if line.startswith("# HELP "):
            name = line.split(" ", 3)[2]
            check(re.fullmatch(NAME, name), where + ": bad name")
            check(name not in helps, where + ": second HELP")
            helps.add(name)
        elif line.startswith("# TYPE "):
            parts = line.split(" ")
            check(len(parts) == 4, where)
            check(re.fullmatch(NAME, parts[2]), where + ": bad name")
            check(parts[3] in ("counter", "gauge", "histogram", "summary",
                               "untyped"), where + ": bad type")
            check(parts[2] not in types, where + ": second TYPE")
            types[parts[2]] = parts[3]
        elif line.startswith("#"):
            continue
        else:
            m = SAMPLE.match(line)
            check(m, where + ": not a sample line")
            name, labels, value = m.group(1), m.group(2) or "", m.group(3)
            check(FLOAT.match(value), where + ": bad value")
            family = name
            for suffix in ("_bucket", "_sum", "_count"):
                if name.endswith(suffix) and name[:-len(suffix)] in types:
                    family = name[:-len(suffix)]
            check(family in types, where + ": sample before its TYPE")
            if types[family] == "histogram" and name.endswith("_bucket"):
                check('le="' in labels, where + ": bucket without le")
            check((name, labels) not in samples, where + ": duplicate")
            samples[(name, labels)] = float(value)
    return samples, types


# --- the tests ---

@test
def notify_sequence_around_reload_and_stop():
    with TempDir() as tmp, FeedServer() as srv:
        srv.route("/a.xml", body=rss("A", 2))
        port = free_port()
        cfg = write_config(tmp, port, [("a", srv.url("/a.xml"))])
        svc = Service(tmp, cfg)
        try:
            first = svc.ready()
            contains(fields(first).get("STATUS", ""), "feeds", "STATUS=")
            # The merged feed's URL on stdout (what make run shows).
            wait_until(lambda: "/feed.atom" in svc.stdout(), 5, "URL")
            contains(svc.stdout(),
                     "http://127.0.0.1:%d/feed.atom" % port, "stdout")
            before = len(svc.notify.messages)
            t0 = time.monotonic()
            svc.send(signal.SIGHUP)
            reloading = svc.notify.wait_for(
                lambda m: "RELOADING=1" in m.split("\n"), start=before)
            usec = int(fields(reloading)["MONOTONIC_USEC"])
            # CLOCK_MONOTONIC, which time.monotonic() reads too.
            check(abs(usec / 1e6 - t0) < 5,
                  "MONOTONIC_USEC %d far from now %f" % (usec, t0))
            svc.notify.wait_for(lambda m: "READY=1" in m.split("\n"),
                                start=svc.notify.messages.index(reloading) + 1)
            rc, secs = svc.stop()
            eq(rc, 0, "exit status after SIGTERM")
            svc.notify.collect(0.3)
            states = [line for m in svc.notify.messages
                      for line in m.split("\n")
                      if line in ("READY=1", "RELOADING=1", "STOPPING=1")]
            eq(states, ["READY=1", "RELOADING=1", "READY=1", "STOPPING=1"],
               "notification order")
        finally:
            svc.close()


@test
def reload_adds_and_removes_feeds():
    with TempDir() as tmp, FeedServer() as srv:
        for p in ("/a.xml", "/b.xml", "/c.xml"):
            srv.route(p, body=rss(p, 2, p[1]))
        port = free_port()
        cfg = write_config(tmp, port, [("a", srv.url("/a.xml")),
                                       ("b", srv.url("/b.xml"))])
        svc = Service(tmp, cfg)
        try:
            svc.ready()
            wait_until(lambda: srv.requests_for("/a.xml")
                       and srv.requests_for("/b.xml"), 10, "first round")
            check(not srv.requests_for("/c.xml"), "c polled before added")
            write_config(tmp, port, [("a", srv.url("/a.xml")),
                                     ("c", srv.url("/c.xml"))])
            svc.send(signal.SIGHUP)
            wait_until(lambda: srv.requests_for("/c.xml"), 10,
                       "the added feed polled")
            wait_until(lambda: db_rows(
                tmp, "SELECT count(*) FROM articles JOIN feeds ON "
                "feeds.id = feed_id WHERE feeds.name = 'c'")[0][0] == 2,
                10, "the added feed's articles stored")
            # Make every feed due again; only those still configured are
            # polled (a is the control: it shows a round did run).
            na, nb = len(srv.requests_for("/a.xml")), \
                len(srv.requests_for("/b.xml"))
            make_due(tmp, "a", "b")
            svc.send(signal.SIGHUP)  # wakes the loop
            wait_until(lambda: len(srv.requests_for("/a.xml")) > na, 10,
                       "the kept feed polled again")
            time.sleep(0.5)
            eq(len(srv.requests_for("/b.xml")), nb,
               "requests of the removed feed")
            contains(svc.log(), "1 added, 1 removed", "log")
            # A changed setting applies: a's new URL is used when due.
            srv.route("/a2.xml", body=rss("A2", 1, "a2"))
            write_config(tmp, port, [("a", srv.url("/a2.xml")),
                                     ("c", srv.url("/c.xml"))])
            svc.send(signal.SIGHUP)
            wait_until(lambda: "reload: 2 feeds" in svc.log().split(
                "1 added, 1 removed", 1)[1], 10, "second reload")
            make_due(tmp, "a")
            svc.send(signal.SIGHUP)
            wait_until(lambda: srv.requests_for("/a2.xml"), 10,
                       "the changed URL polled")
            rc, _ = svc.stop()
            eq(rc, 0, "exit status")
        finally:
            svc.close()


@test
def reload_keeps_open_connections_and_moves_the_listener():
    import http.client
    with TempDir() as tmp, FeedServer() as srv:
        srv.route("/a.xml", body=rss("A", 2))
        port = free_port()
        cfg = write_config(tmp, port, [("a", srv.url("/a.xml"))])
        svc = Service(tmp, cfg)
        try:
            svc.ready()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            r.read()
            eq(r.status, 200, "first request")
            n = len(svc.notify.messages)
            svc.send(signal.SIGHUP)
            svc.notify.wait_for(lambda m: "READY=1" in m.split("\n"),
                                start=n)
            # The same keep-alive connection still answers.
            conn.request("GET", "/healthz")
            r = conn.getresponse()
            r.read()
            eq(r.status, 200, "request on the connection opened before "
               "the reload")
            conn.close()
            # A new listen address: the listener moves there.
            port2 = free_port()
            write_config(tmp, port2, [("a", srv.url("/a.xml"))])
            n = len(svc.notify.messages)
            svc.send(signal.SIGHUP)
            svc.notify.wait_for(lambda m: "READY=1" in m.split("\n"),
                                start=n)
            eq(get(port2, "/healthz")[0], 200, "new listen address")
            try:
                get(port, "/healthz", timeout=2)
                check(False, "old address still answers")
            except (ConnectionError, urllib.error.URLError):
                pass
            # An address that cannot be bound: the listener stays.
            blocker = socket.socket()
            blocker.bind(("127.0.0.1", 0))
            blocker.listen(1)
            try:
                write_config(tmp, blocker.getsockname()[1],
                             [("a", srv.url("/a.xml"))])
                n = len(svc.notify.messages)
                svc.send(signal.SIGHUP)
                svc.notify.wait_for(lambda m: "READY=1" in m.split("\n"),
                                    start=n)
                eq(get(port2, "/healthz")[0], 200,
                   "the old listener after a failed move")
                contains(svc.log(), "still listening on 127.0.0.1:%d"
                         % port2, "log")
            finally:
                blocker.close()
            rc, _ = svc.stop()
            eq(rc, 0, "exit status")
        finally:
            svc.close()


@test
def broken_config_on_reload_keeps_the_old_one():
    with TempDir() as tmp, FeedServer() as srv:
        srv.route("/a.xml", body=rss("A", 3))
        port = free_port()
        cfg = write_config(tmp, port, [("a", srv.url("/a.xml"))])
        svc = Service(tmp, cfg)
        try:
            svc.ready()
            wait_until(lambda: srv.requests_for("/a.xml"), 10, "first poll")
            good = open(cfg).read()
            # Line 4 is "interval = ..." in write_config's layout.
            tmp.write("feeds.conf", good.replace("interval = 1h",
                                                 "interval = soon"))
            n = len(svc.notify.messages)
            svc.send(signal.SIGHUP)
            svc.notify.wait_for(lambda m: "READY=1" in m.split("\n"),
                                start=n)
            wait_until(lambda: "keeping the running configuration"
                       in svc.log(), 5, "rejection logged")
            contains(svc.log(), "%s:4: interval" % cfg, "log")
            check(svc.proc.poll() is None, "service died on a bad config")
            status, body = get(port, "/healthz")
            eq(status, 200, "/healthz after a rejected reload")
            # The old config still polls its feed.
            na = len(srv.requests_for("/a.xml"))
            make_due(tmp, "a")
            tmp.write("feeds.conf", good.replace("interval = 1h",
                                                 "interval = 1h\nbogus = 1"))
            svc.send(signal.SIGHUP)  # rejected again, and wakes the loop
            wait_until(lambda: len(srv.requests_for("/a.xml")) > na, 10,
                       "old config still polling")
            status, text = get(port, "/metrics")
            samples, _ = parse_metrics(text)
            eq(samples.get(("tributary_config_reloads_total",
                            '{result="failed"}')), 2.0, "failed reloads")
            rc, _ = svc.stop()
            eq(rc, 0, "exit status")
        finally:
            svc.close()


@test
def reload_keeps_the_database():
    with TempDir() as tmp, FeedServer() as srv:
        srv.route("/a.xml", body=rss("A", 2))
        port = free_port()
        cfg = write_config(tmp, port, [("a", srv.url("/a.xml"))])
        svc = Service(tmp, cfg)
        try:
            svc.ready()
            wait_until(lambda: srv.requests_for("/a.xml"), 10, "first poll")
            write_config(tmp, port, [("a", srv.url("/a.xml"))],
                         db="other.db")
            n = len(svc.notify.messages)
            svc.send(signal.SIGHUP)
            svc.notify.wait_for(lambda m: "READY=1" in m.split("\n"),
                                start=n)
            contains(svc.log(), "takes a restart", "log")
            if PG_DIR:
                # The database exists (the test made it): the service
                # left it empty.
                con = tmp.store("other.db")
                try:
                    rels = con.execute(
                        "SELECT count(*) FROM pg_class c JOIN pg_namespace"
                        " s ON s.oid = c.relnamespace WHERE s.nspname NOT"
                        " IN ('pg_catalog', 'information_schema', "
                        "'pg_toast')").fetchone()[0]
                finally:
                    con.close()
                eq(rels, 0, "relations the reload made in the second database")
            else:
                check(not os.path.exists(tmp.join("other.db")),
                      "a second database was created")
            # Still polling into the first one.
            na = len(srv.requests_for("/a.xml"))
            make_due(tmp, "a")
            svc.send(signal.SIGHUP)
            wait_until(lambda: len(srv.requests_for("/a.xml")) > na, 10,
                       "polled after the reload")
            eq(get(port, "/healthz")[0], 200, "/healthz")
            rc, _ = svc.stop()
            eq(rc, 0, "exit status")
        finally:
            svc.close()


@test
def sigterm_during_a_round_commits_what_was_complete():
    with TempDir() as tmp, FeedServer() as srv:
        names = ["f%d" % i for i in range(4)]
        for i, n in enumerate(names):
            srv.route("/%s.xml" % n, body=rss(n, 5 + i, n))
        # A slow feed: headers, then a byte every second.
        srv.route("/slow.xml", body=rss("slow", 50, "slow"), dribble=1)
        port = free_port()
        feeds = [(n, srv.url("/%s.xml" % n)) for n in names]
        feeds.append(("slow", srv.url("/slow.xml")))
        cfg = write_config(tmp, port, feeds)
        svc = Service(tmp, cfg)
        try:
            svc.ready()
            wait_until(lambda: srv.requests_for("/slow.xml"), 10,
                       "the slow fetch started")

            def complete():
                rows = db_rows(tmp, "SELECT feeds.name, count(*) FROM "
                               "articles JOIN feeds ON feeds.id = feed_id "
                               "GROUP BY feeds.name")
                return dict(rows)
            wait_until(lambda: all(complete().get(n) == 5 + i
                                   for i, n in enumerate(names)),
                       10, "the fast feeds stored")
            check(svc.proc.poll() is None, "service ended early")
            rc, secs = svc.stop()
            eq(rc, 0, "exit status after SIGTERM during a round")
            check(secs < 5, "took %.1fs to stop" % secs)
            if not PG_DIR:
                eq(db_rows(tmp, "PRAGMA integrity_check"), [("ok",)],
                   "integrity_check")
            stored = complete()
            for i, n in enumerate(names):
                eq(stored.get(n), 5 + i, "articles of " + n)
            eq(stored.get("slow"), None, "articles of the aborted fetch")
            svc.notify.collect(0.3)
            check("STOPPING=1" in "\n".join(svc.notify.messages),
                  "STOPPING=1 sent")
            print("  stopped %.2fs after SIGTERM during a round" % secs)
        finally:
            svc.close()


class Hammer:
    """Threads that open connection after connection to the ports of
    ports() and send a request on each, until stopped: the clients a
    service has while it stops or moves its listener."""

    def __init__(self, ports, n=4):
        self.ports = ports
        self.done = threading.Event()
        self.sent = 0
        self.threads = [threading.Thread(target=self.run, args=(i,))
                        for i in range(n)]
        for t in self.threads:
            t.start()

    def run(self, i):
        while not self.done.is_set():
            for port in self.ports():
                try:
                    s = socket.create_connection(("127.0.0.1", port), 1)
                    s.settimeout(1)
                    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                    if i % 2:
                        s.recv(4096)  # half wait, half leave at once
                    s.close()
                    self.sent += 1
                except OSError:
                    time.sleep(0.001)

    def stop(self):
        self.done.set()
        for t in self.threads:
            t.join()


@test
def stops_cleanly_while_clients_connect():
    """Stopping the endpoint races with its threads' own handling of the
    listener (libmicrohttpd aborts the process when both remove it from
    the event set at once): stops and listener moves under a stream of
    new connections end with exit status 0 and a clean log."""
    cycles = int(os.environ.get("TR_STOP_CYCLES", "6"))
    for cycle in range(cycles):
        with TempDir() as tmp:
            ports = [free_port()]
            cfg = write_config(tmp, ports[0], [])
            svc = Service(tmp, cfg)
            hammer = None
            try:
                svc.ready()
                hammer = Hammer(lambda: list(ports))
                for move in range(2):
                    time.sleep(0.2)
                    port = free_port()
                    write_config(tmp, port, [])
                    n = len(svc.notify.messages)
                    svc.send(signal.SIGHUP)
                    svc.notify.wait_for(
                        lambda m: "READY=1" in m.split("\n"), start=n)
                    ports.append(port)
                time.sleep(0.2)
                rc, _ = svc.stop(timeout=15)
                hammer.stop()
                log = svc.log()
                eq(rc, 0, "cycle %d: exit status; log:\n%s"
                   % (cycle, log[-2000:]))
                for bad in ("Fatal error", "Sanitizer", "runtime error"):
                    check(bad not in log, "cycle %d: %s in the log:\n%s"
                          % (cycle, bad, log[-2000:]))
                check(hammer.sent > 0, "no request was sent")
            finally:
                if hammer:
                    hammer.stop()
                svc.close()


@test
def sigint_stops_too():
    with TempDir() as tmp:
        port = free_port()
        cfg = write_config(tmp, port, [])
        svc = Service(tmp, cfg)
        try:
            svc.ready()
            rc, secs = svc.stop(signal.SIGINT)
            eq(rc, 0, "exit status after SIGINT")
            check(secs < 5, "took %.1fs to stop" % secs)
        finally:
            svc.close()


@test
def metrics_parse_and_move():
    with TempDir() as tmp, FeedServer() as srv:
        # The first answer comes late, so the first scrape sees no fetch.
        srv.route("/a.xml", body=rss("A", 4), etag='"v1"', delay=1)
        port = free_port()
        cfg = write_config(tmp, port, [("a", srv.url("/a.xml"))])
        svc = Service(tmp, cfg)
        try:
            svc.ready()
            status, text = get(port, "/metrics")
            eq(status, 200, "/metrics status")
            s0, types = parse_metrics(text)
            for family, kind in (
                    ("tributary_fetches_total", "counter"),
                    ("tributary_feeds", "gauge"),
                    ("tributary_articles", "gauge"),
                    ("tributary_articles_stored_total", "counter"),
                    ("tributary_fetch_duration_seconds", "histogram"),
                    ("tributary_last_round_timestamp_seconds", "gauge")):
                eq(types.get(family), kind, "TYPE of " + family)
            ok = ("tributary_fetches_total", '{outcome="200"}')
            nm = ("tributary_fetches_total", '{outcome="304"}')
            eq(s0.get(ok), 0.0, "200 fetches before the first round")

            def scrape():
                return parse_metrics(get(port, "/metrics")[1])[0]
            # The store's gauges are refreshed once the round ends, a
            # moment after its fetches are counted, and the round's time
            # is set a moment after them (round_done): wait for all three.
            art = ("tributary_articles", "")
            last = ("tributary_last_round_timestamp_seconds", "")
            s1 = wait_until(lambda: (lambda s: s if s.get(ok) == 1 and
                                     s.get(art) == 4.0 and
                                     s.get(last, 0) > 0 else None)(scrape()),
                            10, "a 200 counted, the articles gauge at 4 "
                            "and the round's time set")
            eq(s1.get(("tributary_articles_stored_total",
                       '{change="added"}')), 4.0, "articles added")
            eq(s1.get(("tributary_fetch_duration_seconds_count", "")), 1.0,
               "fetch durations observed")
            check(s1.get(("tributary_fetch_duration_seconds_bucket",
                          '{le="0.5"}')) == 0.0,
                  "a 1s fetch counted under 0.5s")
            check(s1.get(("tributary_last_round_timestamp_seconds", ""), 0)
                  > time.time() - 60, "last round time")
            eq(s1.get(("tributary_feeds", '{state="ok"}')), 1.0,
               "feeds ok")
            # The HTTP counters of the endpoint move too.
            check(any(k[0] == "tributary_http_requests_total" and
                      'route="metrics"' in k[1] for k in s1),
                  "HTTP requests by route and status")
            # A second poll answered 304 moves the 304 counter.
            make_due(tmp, "a")
            svc.send(signal.SIGHUP)
            wait_until(lambda: scrape().get(nm) == 1, 10, "a 304 counted")
            rc, _ = svc.stop()
            eq(rc, 0, "exit status")
        finally:
            svc.close()


@test
def feeds_by_state_and_outcomes_in_metrics():
    with TempDir() as tmp, FeedServer() as srv:
        srv.route("/ok.xml", body=rss("ok", 2, "ok"))
        srv.route("/missing.xml", status=404)
        srv.route("/broken.xml", status=500)
        srv.route("/moved.xml", redirect=(302, "/ok.xml"))
        srv.route("/big.xml", body=rss("big", 40, "big"))
        srv.route("/slow.xml", body=rss("slow", 1, "slow"), delay=4)
        srv.route("/bozo.xml", body=rss("bozo", 1, "bozo").replace(
            "<title>bozo 0</title>", "<title>a &nbsp; b & c</title>"))
        port = free_port()
        cfg = write_config(tmp, port, [
            ("good", srv.url("/ok.xml")),
            ("missing", srv.url("/missing.xml")),
            ("broken", srv.url("/broken.xml")),
            ("moved", srv.url("/moved.xml")),
            ("big", srv.url("/big.xml")),
            ("slow", srv.url("/slow.xml")),
            ("bozo", srv.url("/bozo.xml")),
            ("off", srv.url("/ok.xml"), "enabled = no\n")],
            extra="max_body = 2k\ntimeout = 1s\n")
        svc = Service(tmp, cfg)
        try:
            svc.ready()

            def scrape():
                return parse_metrics(get(port, "/metrics")[1])[0]
            s = wait_until(lambda: (lambda m: m if m.get((
                "tributary_rounds_total", "")) else None)(scrape()), 10,
                "a round")
            for state, n in (("ok", 3), ("failing", 4), ("disabled", 1),
                             ("new", 0), ("inactive", 0)):
                eq(s.get(("tributary_feeds", '{state="%s"}' % state)),
                   float(n), "feeds " + state)
            for outcome, n in (("200", 1), ("4xx", 1), ("5xx", 1),
                               ("redirect", 1), ("304", 0),
                               ("timeout", 1), ("too_large", 1),
                               ("parse_recovered", 1), ("error", 0)):
                eq(s.get(("tributary_fetches_total",
                          '{outcome="%s"}' % outcome)),
                   float(n), "fetches " + outcome)
            # Failures are logged at WARN naming the feed.
            contains(svc.log(), "warn: feed missing: HTTP 404", "log")
            rc, _ = svc.stop()
            eq(rc, 0, "exit status")
        finally:
            svc.close()


@test
def healthz_reports_the_poller():
    with TempDir() as tmp, FeedServer() as srv:
        srv.route("/a.xml", body=rss("A", 1))
        port = free_port()
        cfg = write_config(tmp, port, [("a", srv.url("/a.xml"))])
        svc = Service(tmp, cfg)
        try:
            svc.ready()
            wait_until(lambda: srv.requests_for("/a.xml"), 10, "first poll")
            status, body = get(port, "/healthz")
            eq(status, 200, "/healthz status")
            contains(body, "poller ok", "/healthz body")
            rc, _ = svc.stop()
            eq(rc, 0, "exit status")
        finally:
            svc.close()


@test
def watchdog_pings_while_the_loop_runs():
    with TempDir() as tmp:
        port = free_port()
        cfg = write_config(tmp, port, [])
        svc = Service(tmp, cfg, env={"WATCHDOG_USEC": "400000"})
        try:
            svc.ready()
            svc.notify.collect(1.5)
            pings = [m for m in svc.notify.messages if m == "WATCHDOG=1"]
            # Every 100-200 ms over 1.5 s: several, not a flood.
            check(4 <= len(pings) <= 30, "%d WATCHDOG=1 in 1.5s"
                  % len(pings))
            rc, _ = svc.stop()
            eq(rc, 0, "exit status")
        finally:
            svc.close()


@test
def no_watchdog_without_watchdog_usec():
    with TempDir() as tmp:
        port = free_port()
        cfg = write_config(tmp, port, [])
        svc = Service(tmp, cfg)
        try:
            svc.ready()
            svc.notify.collect(1.0)
            check("WATCHDOG=1" not in svc.notify.messages,
                  "WATCHDOG=1 without WATCHDOG_USEC")
            rc, _ = svc.stop()
            eq(rc, 0, "exit status")
        finally:
            svc.close()


@test
def idle_service_sleeps():
    # Nothing due for an hour: the loop sleeps instead of ticking. Its CPU
    # time over two seconds stays near zero.
    with TempDir() as tmp, FeedServer() as srv:
        srv.route("/a.xml", body=rss("A", 1))
        port = free_port()
        cfg = write_config(tmp, port, [("a", srv.url("/a.xml"))])
        svc = Service(tmp, cfg)
        try:
            svc.ready()
            wait_until(lambda: srv.requests_for("/a.xml"), 10, "first poll")
            time.sleep(0.5)

            def cpu():
                with open("/proc/%d/stat" % svc.proc.pid) as f:
                    parts = f.read().rsplit(")", 1)[1].split()
                return int(parts[11]) + int(parts[12])  # utime + stime
            c0 = cpu()
            time.sleep(2)
            used = cpu() - c0
            check(used <= 5, "%d clock ticks of CPU while idle" % used)
            eq(len(srv.requests_for("/a.xml")), 1, "requests while idle")
            rc, _ = svc.stop()
            eq(rc, 0, "exit status")
        finally:
            svc.close()


@test
def only_gone_feeds_do_not_spin():
    # A 410 disables the feed; with nothing left to poll the loop sleeps
    # instead of running empty rounds.
    with TempDir() as tmp, FeedServer() as srv:
        srv.route("/gone.xml", status=410)
        port = free_port()
        cfg = write_config(tmp, port, [("gone", srv.url("/gone.xml"))])
        svc = Service(tmp, cfg)
        try:
            svc.ready()
            wait_until(lambda: "poll: 1 feeds" in svc.log(), 10, "a round")
            time.sleep(3)
            # The round that got the 410, and at most one empty round
            # that found nothing left to poll.
            check(svc.log().count("poll: ") <= 2, "%d rounds logged"
                  % svc.log().count("poll: "))
            eq(len(srv.requests_for("/gone.xml")), 1, "requests")
            rc, _ = svc.stop()
            eq(rc, 0, "exit status")
        finally:
            svc.close()


@test
def bad_listen_address_fails_cleanly():
    with TempDir() as tmp:
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        cfg = write_config(tmp, port, [])
        try:
            p = subprocess.run([TRIBUTARY, "-c", cfg, "serve"],
                               capture_output=True, text=True, timeout=10,
                               env={k: v for k, v in os.environ.items()
                                    if k != "NOTIFY_SOCKET"})
            eq(p.returncode, 1, "exit status when the port is taken")
            contains(p.stderr, "127.0.0.1:%d" % port, "stderr")
        finally:
            blocker.close()


if __name__ == "__main__":
    main()
