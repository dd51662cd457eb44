"""test_load.py — the endpoint under load while a 2,000-feed round runs.

Issue 9, load. A private nginx on 127.0.0.1 (a temporary config, its own
port) serves 2,000 small RSS files; `tributary serve` starts on a fresh
store, so its first round polls all of them. As soon as the service is
ready (READY=1 on a NOTIFY_SOCKET), wrk drives GET /feed.atom with 64
connections for LOAD_SECONDS (30 by default, TR_LOAD_SECONDS to change).

Checked: wrk saw no socket error (connect, read, write, timeout) and no
non-2xx/3xx answer, it served requests, the round completed (every feed
checked, every article stored, no feed in error), the service still runs
and stops cleanly on SIGTERM. Printed for RELIABILITY.md: requests
served, requests/s, p50/p99 latency, the round's duration and whether it
overlapped the load.

wrk's own request timeout is raised to 10 s: a loaded 2-core CI machine
may be slow, and a slow answer is not an error; its latency is recorded.
"""
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import TRIBUTARY, TempDir, check, eq, main, test  # noqa: E402
from faults import _env, free_port, items, rss, wrapper  # noqa: E402

N_FEEDS = 2000
ITEMS = 10
SECONDS = int(os.environ.get("TR_LOAD_SECONDS", "30"))

NGINX_CONF = """daemon off;
worker_processes 1;
pid %(dir)s/nginx.pid;
error_log %(dir)s/nginx-error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path %(dir)s/tmp/body;
    proxy_temp_path %(dir)s/tmp/proxy;
    fastcgi_temp_path %(dir)s/tmp/fastcgi;
    uwsgi_temp_path %(dir)s/tmp/uwsgi;
    scgi_temp_path %(dir)s/tmp/scgi;
    types { application/rss+xml xml; }
    default_type application/octet-stream;
    server {
        listen 127.0.0.1:%(port)d;
        root %(dir)s/www;
    }
}
"""


class Nginx:
    """nginx in the foreground on 127.0.0.1:port with a config of ours."""

    def __init__(self, td):
        self.dir = td.join("nginx")
        os.makedirs(os.path.join(self.dir, "www"))
        # nginx's workers run as nobody when the master is root: they need
        # to reach the files through the (mode 0700) temporary folder.
        os.chmod(td.path, 0o755)
        os.chmod(self.dir, 0o755)
        os.makedirs(os.path.join(self.dir, "tmp"))
        self.port = free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF % {"dir": self.dir, "port": self.port})
        self.proc = subprocess.Popen(
            [shutil.which("nginx") or "/usr/sbin/nginx", "-e",
             os.path.join(self.dir, "nginx-error.log"), "-p", self.dir,
             "-c", conf], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        end = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                break
            except OSError:
                check(self.proc.poll() is None and time.monotonic() < end,
                      "nginx did not start: %s" % self.errors())
                time.sleep(0.05)

    def write(self, name, data):
        with open(os.path.join(self.dir, "www", name), "wb") as f:
            f.write(data)

    def url(self, name):
        return "http://127.0.0.1:%d/%s" % (self.port, name)

    def errors(self):
        try:
            with open(os.path.join(self.dir, "nginx-error.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def parse_wrk(out):
    """The figures of wrk --latency's report."""
    res = {"requests": None, "errors": 0, "non2xx": 0, "rps": None,
           "p50": None, "p99": None}
    m = re.search(r"(\d+) requests in ([\d.]+)(\w+)", out)
    if m:
        res["requests"] = int(m.group(1))
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if m:
        res["rps"] = float(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", out)
    if m:
        res["errors"] = sum(int(g) for g in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        res["non2xx"] = int(m.group(1))
    for pct, key in (("50", "p50"), ("99", "p99")):
        m = re.search(r"^\s+%s(?:\.000)?%%\s+([\d.]+)(us|ms|s)\s*$" % pct,
                      out, re.M)
        if m:
            scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
            res[key] = float(m.group(1)) * scale
    return res


def notify_socket(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    return s


def wait_ready(sock, proc, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end and proc.poll() is None:
        sock.settimeout(0.2)
        try:
            if "READY=1" in sock.recv(4096).decode().split("\n"):
                return True
        except socket.timeout:
            pass
    return False


def round_state(db):
    """(feeds checked, feeds in error, articles) of the store. A feed
    is checked once its fetch ended, in success or in error."""
    con = sqlite3.connect("file:%s?mode=ro" % db, uri=True, timeout=30)
    try:
        checked, failed = con.execute(
            "SELECT count(*) FILTER (WHERE last_check > 0), "
            "count(*) FILTER (WHERE errors > 0) FROM feeds").fetchone()
        n = con.execute("SELECT count(*) FROM articles").fetchone()[0]
    finally:
        con.close()
    return checked, failed, n


@test
def wrk_on_the_endpoint_during_a_2000_feed_round():
    check(shutil.which("wrk"), "wrk is not installed")
    with TempDir() as td:
        ng = Nginx(td)
        proc = None
        sock = notify_socket(td.join("notify.sock"))
        try:
            for i in range(N_FEEDS):
                name = "f%04d" % i
                ng.write(name + ".xml", rss(name, items(name, ITEMS)))
            port = free_port()
            db = td.join("db.sqlite")
            lines = ["[tributary]", "database = %s" % db,
                     "listen = 127.0.0.1:%d" % port, "interval = 1h",
                     "concurrency = 16", "per_host = 8"]
            for i in range(N_FEEDS):
                lines += ["", '[feed "f%04d"]' % i,
                          "url = %s" % ng.url("f%04d.xml" % i)]
            conf = td.write("feeds.conf", "\n".join(lines) + "\n")
            log = open(td.join("serve.log"), "wb")
            proc = subprocess.Popen(
                wrapper() + [TRIBUTARY, "-c", conf, "serve"],
                env=_env({"NOTIFY_SOCKET": td.join("notify.sock")}),
                stdout=log, stderr=log)
            check(wait_ready(sock, proc, 60), "serve not ready: exit %r"
                  % proc.poll())
            t0 = time.monotonic()
            wrk = subprocess.Popen(
                ["wrk", "-t", "2", "-c", "64", "-d", "%ds" % SECONDS,
                 "--timeout", "10s", "--latency",
                 "http://127.0.0.1:%d/feed.atom" % port],
                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            # Watch the round while wrk runs.
            round_done = None
            while wrk.poll() is None:
                time.sleep(0.5)
                checked, _, n = round_state(db)
                if round_done is None and checked == N_FEEDS:
                    round_done = time.monotonic() - t0
            out = wrk.stdout.read().decode(errors="replace")
            eq(wrk.returncode, 0, "wrk exit status:\n" + out)
            w = parse_wrk(out)
            check(proc.poll() is None, "serve died under load")
            # The round completes (if it outlasted the load: soon after).
            end = time.monotonic() + 180
            while round_done is None:
                checked, _, n = round_state(db)
                if checked == N_FEEDS:
                    round_done = time.monotonic() - t0
                    break
                check(time.monotonic() < end, "round incomplete: %d of %d "
                      "feeds, %d articles" % (checked, N_FEEDS, n))
                time.sleep(0.5)
            checked, failed, n = round_state(db)
            print("  wrk -t2 -c64 -d%ds /feed.atom: %s requests, %.0f "
                  "req/s, p50 %.2f ms, p99 %.2f ms, %d socket errors, "
                  "%d non-2xx/3xx; round of %d feeds (%d articles) "
                  "completed %.1fs after the load started"
                  % (SECONDS, w["requests"], w["rps"] or 0, w["p50"] or -1,
                     w["p99"] or -1, w["errors"], w["non2xx"], N_FEEDS, n,
                     round_done))
            check(w["requests"] and w["requests"] > 0, "no request served:\n"
                  + out)
            check(w["p99"] is not None, "no p99 in wrk's report:\n" + out)
            eq(w["errors"], 0, "wrk socket errors:\n" + out)
            eq(w["non2xx"], 0, "non-2xx/3xx answers:\n" + out)
            eq(failed, 0, "feeds in error after the round")
            eq(n, N_FEEDS * ITEMS, "articles after the round")
            proc.send_signal(signal.SIGTERM)
            eq(proc.wait(30), 0, "exit status after SIGTERM")
            log.close()
        finally:
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
            sock.close()
            ng.stop()


if __name__ == "__main__":
    main()
