"""test_host_slots.py — per_host holds across the nodes sharing a store.

Three `tributary serve` nodes share one store (an SQLite file: processes
of one machine; with TR_TEST_PG, a PostgreSQL database: the way nodes of
several machines share one; tests/run runs it both ways). Each reads a config of its own
that lists 12 feeds, all of ONE slow host (a server on 127.0.0.1 that
answers after 0.3 s and counts the requests it is answering at once),
so that the three nodes' rounds poll that host at the same time. With
per_host = 2 and concurrency 8, each node alone would have 2 requests in
flight, the three 6: the server never sees more than 2 at once. Every
feed is polled once and stored whole (a node that waits for the host
does not fail its feeds), and a node's round did wait for the others'
transfers (it took twice as long as a round alone, at least).
"""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import PG_DIR, TRIBUTARY, TempDir, check, eq, main, test  # noqa
from faults import (FeedServer, _env, free_port, items, rss, slow,  # noqa
                    wrapper)

NODES, PER_NODE, PER_HOST, DELAY = 3, 12, 2, 0.3


def write_conf(td, i, address, srv):
    lines = ["[tributary]", "database = %s" % address,
             "listen = 127.0.0.1:1", "interval = 1h",
             "concurrency = 8", "per_host = %d" % PER_HOST, "timeout = 20"]
    for k in range(PER_NODE):
        name = "n%d-%02d" % (i, k)
        lines += ["", '[feed "%s"]' % name,
                  "url = %s" % srv.url("/%s.xml" % name)]
    return td.write("node%d.conf" % i, "\n".join(lines) + "\n")


def start(td, conf, i):
    log = open(td.join("node%d.log" % i), "wb")
    p = subprocess.Popen(wrapper() + [TRIBUTARY, "-c", conf, "serve",
                                      "--listen",
                                      "127.0.0.1:%d" % free_port()],
                         env=_env(), stdout=log, stderr=log)
    log.close()
    return p


def log_of(td, i):
    with open(td.join("node%d.log" % i), "rb") as f:
        return f.read().decode(errors="replace")[-3000:]


def round_seconds(td, i):
    """How long node i's round of its feeds took, from its log. The round
    logs its line once its writer has stopped and its leases are given
    back, a moment after the store shows its feeds: wait for it."""
    end = time.monotonic() + slow(10)
    while True:
        m = re.search(r"poll: %d feeds in ([0-9.]+)s" % PER_NODE,
                      log_of(td, i))
        if m or time.monotonic() >= end:
            break
        time.sleep(0.1)
    check(m, "node %d logged no round of its feeds: %s" % (i, log_of(td, i)))
    return float(m.group(1))


def stop(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(slow(30))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def state(td):
    """(feeds checked, articles); (0, 0) before the store is made."""
    try:
        con = td.store("hosts.db")
        try:
            r = con.execute("SELECT (SELECT count(*) FROM feeds WHERE"
                            " last_check > 0), (SELECT count(*) FROM"
                            " articles)").fetchall()
        finally:
            con.close()
    except Exception:  # no file or no tables yet
        return 0, 0
    return int(r[0][0]), int(r[0][1])


@test
def per_host_holds_across_three_nodes():
    n_feeds = NODES * PER_NODE
    name = "postgresql" if PG_DIR else "sqlite"
    with TempDir() as td, FeedServer() as srv:
        procs = []
        try:
            address = td.database("hosts.db")
            confs = []
            for i in range(NODES):
                for k in range(PER_NODE):
                    feed = "n%d-%02d" % (i, k)
                    srv.route("/%s.xml" % feed, body=rss(feed, items(feed, 2)),
                              delay=DELAY)
                confs.append(write_conf(td, i, address, srv))
            for i in range(NODES):
                procs.append(start(td, confs[i], i))
            end = time.monotonic() + slow(120)
            while True:
                checked, n = state(td)
                if checked == n_feeds and n == n_feeds * 2:
                    break
                for i, p in enumerate(procs):
                    check(p.poll() is None, "%s: node %d exited %r: %s" % (
                        name, i, p.poll(), log_of(td, i)))
                check(time.monotonic() < end, "%s: %d of %d feeds checked, "
                      "%d articles, after 120 s" % (name, checked,
                                                    n_feeds, n))
                time.sleep(0.2)
            reqs = [q for q in srv.requests if q.path.endswith(".xml")]
            check(srv.max_in_flight <= PER_HOST, "%s: %d requests to the "
                  "host at once, per_host is %d" % (
                      name, srv.max_in_flight, PER_HOST))
            eq(srv.max_in_flight, PER_HOST, "%s: requests at once (the "
               "host was busy)" % name)
            eq(len(reqs), n_feeds, "%s: requests (each feed once)"
               % name)
            # Alone, a node's round takes PER_NODE * DELAY / PER_HOST; the
            # nodes started together, so one of them waited for the
            # others' transfers (else the limit held for nothing).
            alone = PER_NODE * DELAY / PER_HOST
            rounds = [round_seconds(td, i) for i in range(NODES)]
            check(max(rounds) >= 2 * alone, "%s: rounds of %r s: no node "
                  "waited for another (the test shows nothing)" % (
                      name, rounds))
            con = td.store("hosts.db")
            failed = con.execute("SELECT count(*) FROM feeds WHERE"
                                 " errors > 0 OR last_status <> 200"
                                 ).fetchall()[0][0]
            con.close()
            eq(int(failed), 0, "%s: feeds that failed" % name)
            stop(procs)
            for i in range(NODES):
                for bad in ("Sanitizer", "runtime error", "Assertion"):
                    check(bad not in log_of(td, i), "%s: node %d: %s" % (
                        name, i, log_of(td, i)))
        finally:
            stop(procs)


if __name__ == "__main__":
    main()
