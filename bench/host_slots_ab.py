#!/usr/bin/env python3
"""host_slots_ab.py — what the host slots cost a round: two tributary
binaries, A and B, poll the same unchanged feeds in turns.

    bench/host_slots_ab.py --a BUILD-A/tributary --b BUILD-B/tributary \\
        [--feeds 1000] [--hosts 4] [--runs 16] [--pg SOCKET_DIR]

A is the tree as it is; B the same tree with the round's slots off, built
with one line changed:

    sed -i 's/if (tr_store_hosts_open(&rd.hosts, st) != 0)/if (0)/' \\
        lib/poll.c

nginx on 127.0.0.1 serves --feeds small RSS documents from --hosts ports
(host:port keys); each binary has a store of its own (an SQLite file, or
with --pg a database of the cluster whose socket directory is given, as
tests/pg start makes one), filled by one round first. Then the
unchanged rounds (`fetch --force`: every feed answered 304) alternate,
A first on even runs, B first on odd ones, and the medians of wall time
and of the process's CPU time (user + system) are printed with their
ratios A / B. Everything stays on 127.0.0.1.
"""
import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "integration"))
from faults import free_port, items, rss  # noqa: E402

NGINX = """daemon off; worker_processes 1; pid %(d)s/nginx.pid;
error_log %(d)s/err.log warn;
events { worker_connections 4096; }
http { access_log off; client_body_temp_path %(d)s/tmp;
proxy_temp_path %(d)s/tmp; fastcgi_temp_path %(d)s/tmp;
uwsgi_temp_path %(d)s/tmp; scgi_temp_path %(d)s/tmp;
types { application/rss+xml xml; } %(servers)s }
"""


def psql(sock, sql):
    subprocess.run(["psql", "-X", "-q", "-h", sock, "-U", "tr", "-d",
                    "postgres", "-c", sql], check=True)


def write_conf(d, name, database, ports, n):
    lines = ["[tributary]", "database = %s" % database,
             "concurrency = 16", "per_host = 2"]
    for i in range(n):
        lines += ['[feed "f%05d"]' % i, "url = http://127.0.0.1:%d/f%05d.xml"
                  % (ports[i % len(ports)], i)]
    path = os.path.join(d, name + ".conf")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run(binary, conf):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run([binary, "-q", "-c", conf, "fetch", "--force"],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    t = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return t, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--a", required=True)
    ap.add_argument("--b", required=True)
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--hosts", type=int, default=4)
    ap.add_argument("--runs", type=int, default=16)
    ap.add_argument("--pg")
    args = ap.parse_args()
    d = tempfile.mkdtemp(prefix="tr-slots-ab-")
    os.chmod(d, 0o755)  # nginx's workers run as nobody under root
    www = os.path.join(d, "www")
    os.makedirs(www)
    os.makedirs(os.path.join(d, "tmp"))
    for i in range(args.feeds):
        with open(os.path.join(www, "f%05d.xml" % i), "wb") as f:
            f.write(rss("f%d" % i, items("f%d" % i, 10)))
    ports = []
    while len(ports) < args.hosts:
        p = free_port()
        if p not in ports:
            ports.append(p)
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(NGINX % {"d": d, "servers": " ".join(
            "server { listen 127.0.0.1:%d; root %s; }" % (p, www)
            for p in ports)})
    ng = subprocess.Popen([shutil.which("nginx") or "/usr/sbin/nginx",
                           "-p", d, "-c", os.path.join(d, "nginx.conf"),
                           "-e", os.path.join(d, "err.log")])
    dbs = []
    try:
        time.sleep(0.5)
        confs = {}
        for k in ("a", "b"):
            if args.pg:
                db = "slots_ab_%s_%d" % (k, os.getpid())
                psql(args.pg, 'CREATE DATABASE "%s"' % db)
                dbs.append(db)
                database = "postgresql://tr@/%s?host=%s" % (db, args.pg)
            else:
                database = os.path.join(d, k + ".db")
            confs[k] = write_conf(d, k, database, ports, args.feeds)
        binary = {"a": args.a, "b": args.b}
        for k in ("a", "b"):
            r = subprocess.run([binary[k], "-q", "-c", confs[k], "fetch"],
                               capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit("%s: the first round failed:\n%s" % (
                    binary[k], r.stderr[-2000:]))
        res = {"a": [], "b": []}
        for i in range(args.runs):
            for k in (("a", "b") if i % 2 == 0 else ("b", "a")):
                res[k].append(run(binary[k], confs[k]))
        med = {k: (statistics.median(x[0] for x in v),
                   statistics.median(x[1] for x in v))
               for k, v in res.items()}
        for k in ("a", "b"):
            print("%s: %s, unchanged round of %d feeds (%d hosts): wall "
                  "%.3f s, CPU %.3f s (medians of %d)" % (
                      k, "PostgreSQL" if args.pg else "SQLite", args.feeds,
                      args.hosts, med[k][0], med[k][1], args.runs))
        print("A / B: wall %.3f, CPU %.3f" % (med["a"][0] / med["b"][0],
                                              med["a"][1] / med["b"][1]))
        print("load average: %.2f %.2f %.2f" % os.getloadavg())
    finally:
        ng.terminate()
        ng.wait()
        for db in dbs:
            psql(args.pg, 'DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % db)
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    main()
