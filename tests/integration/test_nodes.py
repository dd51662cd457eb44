"""test_nodes.py — several `tributary serve` nodes on one store.

Three nodes read one feeds.conf and share one database: an SQLite file
(processes of one machine) and a PostgreSQL database (the way nodes on
several machines share one; a temporary cluster from tests/pg). A
private nginx on 127.0.0.1 serves the feeds and logs every request.

Checked on each backend:
- 500 feeds, three nodes started together: nginx's log shows each feed
  requested exactly once for its one due time; every article is stored
  once; the three endpoints serve the same merged feed with the same
  ETag, holding every article once.
- A node SIGKILLed in the middle of a slow round, holding the leases of
  feeds it had not polled yet: the two other nodes poll those feeds
  (its leases are taken over: the process is gone) and every article
  is stored once.

On PostgreSQL only: the server restarted in the middle of a round. The
node goes on; the documents in flight fail with a message naming the
database (without its password), none is half stored (each feed holds
all its articles or none), the next rounds store them, and the
endpoint answers again without a restart of the node.
"""
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import SRC as TR_SRC, TRIBUTARY, TempDir, check, eq, main, test  # noqa
from faults import _env, free_port, items, rss, slow, wrapper  # noqa: E402

NGINX_CONF = """daemon off;
worker_processes 1;
pid %(dir)s/nginx.pid;
error_log %(dir)s/nginx-error.log warn;
events { worker_connections 1024; }
http {
    log_format path "$request_uri";
    access_log %(dir)s/access.log path;
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
        location /slow/ { limit_rate %(rate)s; }
    }
}
"""


class Nginx:
    """nginx in the foreground with an access log of request paths."""

    def __init__(self, td, rate="1m"):
        self.dir = td.join("nginx")
        os.makedirs(os.path.join(self.dir, "www", "slow"))
        os.makedirs(os.path.join(self.dir, "tmp"))
        # Workers run as nobody when the master is root.
        os.chmod(td.path, 0o755)
        os.chmod(self.dir, 0o755)
        self.port = free_port()
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF % {"dir": self.dir, "port": self.port,
                                  "rate": rate})
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
                      "nginx did not start")
                time.sleep(0.05)

    def write(self, name, data):
        with open(os.path.join(self.dir, "www", name), "wb") as f:
            f.write(data)

    def url(self, name):
        return "http://127.0.0.1:%d/%s" % (self.port, name)

    def requests(self):
        """path -> number of requests, from the access log."""
        counts = {}
        try:
            with open(os.path.join(self.dir, "access.log")) as f:
                for line in f:
                    p = line.strip()
                    counts[p] = counts.get(p, 0) + 1
        except OSError:
            pass
        return counts

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class SqliteStore:
    name = "sqlite"

    def __init__(self, td):
        self.path = td.join("nodes.db")
        self.address = self.path

    def rows(self, sql):
        con = sqlite3.connect("file:%s?mode=ro" % self.path, uri=True,
                              timeout=30)
        try:
            return con.execute(sql).fetchall()
        except sqlite3.OperationalError:
            return None
        finally:
            con.close()

    def close(self):
        pass


class PgStore:
    """A database in a temporary cluster (tests/pg)."""
    name = "postgresql"

    def __init__(self, td):
        self.dir = td.join("pg")
        pg = os.path.join(TR_SRC, "tests", "pg")
        r = subprocess.run([pg, "start", self.dir], capture_output=True,
                           text=True, timeout=120)
        check(r.returncode == 0, "tests/pg start: %s%s" % (r.stdout,
                                                           r.stderr))
        self.started = True
        self.psql("postgres", "CREATE DATABASE nodes")
        self.address = "postgresql://tr@/nodes?host=%s" % self.dir

    def psql(self, db, sql):
        r = subprocess.run(["psql", "-X", "-q", "-At", "-h", self.dir,
                            "-U", "tr", "-d", db, "-F", "\t", "-c", sql],
                           capture_output=True, text=True, timeout=60)
        return r

    def rows(self, sql):
        r = self.psql("nodes", sql)
        if r.returncode != 0:
            return None
        return [tuple(line.split("\t")) for line in r.stdout.splitlines()]

    def close(self):
        if self.started:
            subprocess.run([os.path.join(TR_SRC, "tests", "pg"), "stop",
                            self.dir], capture_output=True, timeout=120)
            self.started = False


def backends():
    """Both, or the one BACKEND names (make test BACKEND=sqlite)."""
    want = os.environ.get("BACKEND", "both")
    return [b for b in (SqliteStore, PgStore)
            if want in ("", "both", b.name)]


def state(store):
    """(feeds checked, articles) of the store; (0, 0) before its tables."""
    r = store.rows("SELECT (SELECT count(*) FROM feeds WHERE last_check > 0),"
                   " (SELECT count(*) FROM articles)")
    if not r:
        return 0, 0
    return int(r[0][0]), int(r[0][1])


def http_get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path),
                                timeout=30) as resp:
        return resp.status, dict(resp.headers), resp.read()


class Nodes:
    def __init__(self, td, conf):
        self.td = td
        self.conf = conf
        self.procs = []
        self.ports = []

    def start(self, n=1):
        for _ in range(n):
            port = free_port()
            i = len(self.procs)
            log = open(self.td.join("node%d.log" % i), "wb")
            p = subprocess.Popen(
                wrapper() + [TRIBUTARY, "-c", self.conf, "serve",
                             "--listen", "127.0.0.1:%d" % port],
                env=_env(), stdout=log, stderr=log)
            log.close()
            self.procs.append(p)
            self.ports.append(port)
        for i in range(len(self.procs) - n, len(self.procs)):
            self.wait_up(i)

    def wait_up(self, i):
        end = time.monotonic() + slow(30)
        while True:
            check(self.procs[i].poll() is None, "node %d exited %r: %s" % (
                i, self.procs[i].poll(), self.log(i)))
            try:
                http_get(self.ports[i], "/healthz")
                return
            except OSError:
                check(time.monotonic() < end, "node %d not up" % i)
                time.sleep(0.1)

    def log(self, i):
        with open(self.td.join("node%d.log" % i), "rb") as f:
            return f.read().decode(errors="replace")[-3000:]

    def stop(self):
        for i, p in enumerate(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for i, p in enumerate(self.procs):
            try:
                p.wait(slow(30))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def write_conf(td, address, names, url_of, concurrency):
    lines = ["[tributary]", "database = %s" % address,
             "listen = 127.0.0.1:1", "interval = 1h",
             # The address readers use: one for every node, as behind a
             # load balancer (else each node names its own address).
             "base_url = http://planet.example/",
             "concurrency = %d" % concurrency, "per_host = %d" % concurrency]
    for name in names:
        lines += ["", '[feed "%s"]' % name, "url = %s" % url_of(name)]
    return td.write("feeds.conf", "\n".join(lines) + "\n")


def wait_round(store, n_feeds, n_articles, seconds, nodes):
    end = time.monotonic() + slow(seconds)
    while True:
        checked, n = state(store)
        if checked == n_feeds and n == n_articles:
            return
        for i, p in enumerate(nodes.procs):
            if p.poll() not in (None, -signal.SIGKILL):
                check(False, "node %d exited %r: %s" % (i, p.poll(),
                                                        nodes.log(i)))
        check(time.monotonic() < end, "%s: round incomplete after %ds: %d "
              "of %d feeds checked, %d of %d articles" % (
                  store.name, seconds, checked, n_feeds, n, n_articles))
        time.sleep(0.3)


def served_ids(port, limit):
    st, _, body = http_get(port, "/feed.json?limit=%d" % limit)
    eq(st, 200, "GET /feed.json")
    return [it["id"] for it in json.loads(body)["items"]]


def three_nodes(backend):
    n_feeds, per = 500, 2
    with TempDir() as td:
        ng = Nginx(td)
        store = None
        nodes = None
        try:
            store = backend(td)
            names = ["n%03d" % i for i in range(n_feeds)]
            for name in names:
                ng.write(name + ".xml", rss(name, items(name, per)))
            conf = write_conf(td, store.address, names,
                              lambda nm: ng.url(nm + ".xml"), 8)
            nodes = Nodes(td, conf)
            nodes.start(3)
            wait_round(store, n_feeds, n_feeds * per, 120, nodes)
            # Anything polled twice would show within a retry or two.
            time.sleep(5)
            reqs = ng.requests()
            twice = sorted(p for p, c in reqs.items() if c > 1)
            missing = [nm for nm in names if "/%s.xml" % nm not in reqs]
            eq(twice, [], "%s: feeds requested more than once" % store.name)
            eq(missing, [], "%s: feeds never requested" % store.name)
            eq(sum(reqs.values()), n_feeds, "%s: requests" % store.name)
            # Another process stores a new article of one feed (the
            # store's change is then later than every node's start): no
            # node answers 304 to the tag it gave before, and every node
            # serves the same document with the same ETag.
            _, h0, _ = http_get(nodes.ports[1], "/feed.atom?limit=1000")
            ng.write(names[0] + ".xml", rss(names[0], items(names[0], per)
                                           + items("late", 1)))
            r = subprocess.run(wrapper() + [TRIBUTARY, "-q", "-c", conf,
                                            "fetch", "--force", names[0]],
                               env=_env(), capture_output=True,
                               timeout=slow(120))
            eq(r.returncode, 0, "fetch --force: %s" % r.stderr)
            req = urllib.request.Request(
                "http://127.0.0.1:%d/feed.atom?limit=1000" % nodes.ports[1],
                headers={"If-None-Match": h0["ETag"]})
            with urllib.request.urlopen(req, timeout=30) as resp:
                eq(resp.status, 200, "%s: the old ETag after another "
                   "process stored an article" % store.name)
                check(b"late-0" in resp.read(), "%s: the new article"
                      % store.name)
            tags, bodies = set(), set()
            for port in nodes.ports:
                st, h, body = http_get(port, "/feed.atom?limit=1000")
                eq(st, 200, "GET /feed.atom")
                tags.add(h.get("ETag"))
                bodies.add(body)
            eq(len(tags), 1, "%s: ETags of the three nodes: %r" % (
                store.name, tags))
            if len(bodies) > 1:
                import difflib
                a, b = [x.decode(errors="replace").splitlines()
                        for x in list(bodies)[:2]]
                check(False, "%s: the nodes' bodies differ:\n%s" % (
                    store.name, "\n".join(list(difflib.unified_diff(
                        a, b, lineterm="", n=1))[:40])))
            total = n_feeds * per + 1
            ids = served_ids(nodes.ports[2], 1000)
            eq(len(ids), min(1000, total), "%s: articles served"
               % store.name)
            eq(len(set(ids)), len(ids), "%s: distinct ids served"
               % store.name)
            eq(state(store)[1], total, "%s: articles stored" % store.name)
            print("  %s: %d feeds, 3 nodes: %d requests, %d articles "
                  "served by each node, ETag %s" % (
                      store.name, n_feeds, sum(reqs.values()), len(ids),
                      tags.pop()))
        finally:
            if nodes:
                nodes.stop()
            ng.stop()
            if store:
                store.close()


def killed_node(backend):
    # 40 feeds of about 24 KB at 8 KB/s: 3 s each; the first node polls
    # 2 at a time, so its round would take a minute.
    n_feeds, per = 40, 60
    with TempDir() as td:
        ng = Nginx(td, rate="8k")
        store = None
        nodes = None
        try:
            store = backend(td)
            names = ["k%02d" % i for i in range(n_feeds)]
            for name in names:
                ng.write("slow/%s.xml" % name, rss(name, items(name, per)))
            conf = write_conf(td, store.address, names,
                              lambda nm: ng.url("slow/%s.xml" % nm), 2)
            nodes = Nodes(td, conf)
            nodes.start(1)
            # Wait until the first node holds its leases and stored some.
            end = time.monotonic() + slow(60)
            while True:
                held = store.rows("SELECT count(*) FROM feeds"
                                  " WHERE lease_owner IS NOT NULL")
                checked, _ = state(store)
                if held and int(held[0][0]) > 0 and checked >= 2:
                    break
                check(time.monotonic() < end, "the first node claimed "
                      "nothing: %s" % nodes.log(0))
                time.sleep(0.2)
            nodes.procs[0].send_signal(signal.SIGKILL)
            nodes.procs[0].wait()
            done_before, _ = state(store)
            t0 = time.monotonic()
            nodes.start(2)
            wait_round(store, n_feeds, n_feeds * per, 120, nodes)
            took = time.monotonic() - t0
            reqs = ng.requests()
            missing = [nm for nm in names if "/slow/%s.xml" % nm not in reqs]
            eq(missing, [], "%s: feeds never requested" % store.name)
            ids = served_ids(nodes.ports[1], 1000)
            eq(len(ids), min(1000, n_feeds * per), "%s: articles served"
               % store.name)
            eq(len(set(ids)), len(ids), "%s: distinct ids" % store.name)
            dup = store.rows("SELECT count(*) FROM (SELECT feed_id,"
                             " identity FROM articles GROUP BY 1, 2"
                             " HAVING count(*) > 1) d")
            eq(int(dup[0][0]), 0, "%s: duplicated articles" % store.name)
            print("  %s: node killed with %d of %d feeds stored; the other "
                  "two completed the round in %.1fs (%d requests in all)"
                  % (store.name, done_before, n_feeds, took,
                     sum(reqs.values())))
        finally:
            if nodes:
                nodes.stop()
            ng.stop()
            if store:
                store.close()


def pg_restarted(backend):
    n_feeds, per = 16, 60
    with TempDir() as td:
        ng = Nginx(td, rate="8k")
        store = None
        nodes = None
        try:
            store = backend(td)
            names = ["r%02d" % i for i in range(n_feeds)]
            for name in names:
                ng.write("slow/%s.xml" % name, rss(name, items(name, per)))
            address = store.address.replace("tr@", "tr:hunter2@")
            conf = write_conf(td, address, names,
                              lambda nm: ng.url("slow/%s.xml" % nm), 2)
            nodes = Nodes(td, conf)
            nodes.start(1)
            end = time.monotonic() + slow(60)
            while state(store)[0] < 2:
                check(time.monotonic() < end, "nothing stored: %s"
                      % nodes.log(0))
                time.sleep(0.2)
            r = subprocess.run([os.path.join(TR_SRC, "tests", "pg"),
                                "restart", store.dir], capture_output=True,
                               text=True, timeout=120)
            check(r.returncode == 0, "restart: %s" % r.stderr)
            # Each document is whole or absent, while the round goes on.
            for _ in range(10):
                rows = store.rows("SELECT count(*) FROM articles"
                                  " GROUP BY feed_id") or []
                eq(sorted({int(x[0]) for x in rows} - {per}), [],
                   "articles per stored feed")
                time.sleep(0.3)
            try:
                wait_round(store, n_feeds, n_feeds * per, 180, nodes)
            except Exception:
                print(store.rows("SELECT f.name, f.last_check, f.next_check,"
                                 " f.errors, f.last_error, f.last_status,"
                                 " (SELECT count(*) FROM articles a"
                                 " WHERE a.feed_id = f.id) FROM feeds f"
                                 " ORDER BY 1"))
                print(nodes.log(0))
                raise
            check(nodes.procs[0].poll() is None, "the node exited")
            st, _, body = http_get(nodes.ports[0], "/feed.json?limit=1000")
            eq(st, 200, "GET /feed.json after the restart")
            eq(len(json.loads(body)["items"]), n_feeds * per,
               "articles served")
            log = nodes.log(0)
            check("hunter2" not in log, "the password in the log")
            print("  postgresql restarted in a round: %d feeds stored, "
                  "%d requests; the log said: %s" % (
                      n_feeds, sum(ng.requests().values()),
                      [ln for ln in log.splitlines()
                       if "error" in ln][:2]))
        finally:
            if nodes:
                nodes.stop()
            ng.stop()
            if store:
                store.close()


@test
def three_nodes_poll_each_feed_once_and_serve_one_feed():
    check(shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"),
          "nginx is not installed")
    for backend in backends():
        three_nodes(backend)


@test
def a_killed_nodes_feeds_are_polled_by_the_others():
    for backend in backends():
        killed_node(backend)


@test
def postgresql_restarted_in_a_round():
    if PgStore in backends():
        pg_restarted(PgStore)


if __name__ == "__main__":
    main()
