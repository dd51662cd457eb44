#!/usr/bin/python3
"""
bench/fts_rounds.py: the full-text index's segments over many polling
rounds, and what each round costs.

    bench/fts_rounds.py [--rounds 30] [--feeds 1000] [--change 100]
                        [--merge-log] [--wrap CMD] TRIBUTARY [TRIBUTARY ...]

Generates bench/gen.py's corpus (the poll section's: bench/run's quick
settings), serves it from a local nginx (bench/run's Nginx class), and
runs `tributary fetch --force` once cold and then --rounds steady rounds
with each binary given, each on a store of its own, interleaved round
by round (binary A's round k, then B's round k, on the same files; the
order reversed every other round). In each steady round --change feeds
gain one item never seen before (a copy of the file's first item with
links of the round's own).

Per round and binary it prints the wall time, the CPU time (user +
system of the process), and the FTS5 index's shape read from the
database after the round: the segments on each level (FTS5's structure
record, decoded here: SQLite has no SQL function for it outside its test
builds), those a merge under way takes (*N), and their leaf pages. A
level's count falling from 12 or more by 8 or more in a round is a
crisis merge (crisismerge: 16 segments on one level, merged at once
inside an insert): the round that paid for it is marked. Then the
median and max of the steady rounds' wall and CPU per binary.

With --merge-log, the binaries run with -vv and the store's debug lines
about merging (pages, CPU of the merging thread) follow each round.
With --wrap, each round runs under that command (callgrind: instruction
counts do not depend on the machine's load).
"""

import argparse
import importlib.machinery
import importlib.util
import json
import os
import shutil
import statistics
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
_loader = importlib.machinery.SourceFileLoader("bench_run",
                                               os.path.join(HERE, "run"))
_spec = importlib.util.spec_from_loader("bench_run", _loader)
B = importlib.util.module_from_spec(_spec)
_loader.exec_module(B)
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))
import fts_shape as FTS_SHAPE  # noqa: E402


def fts_shape(db):
    """[(n_merge, [(segid, leaf pages), ...]) per level] of articles_fts
    (tests/integration/fts_shape.py decodes FTS5's structure record)."""
    try:
        return FTS_SHAPE.read(db)
    except ValueError as e:
        raise SystemExit("fts_rounds: %s" % e)


def shape_text(levels):
    return " ".join("L%d:%d%s(%dp)" % (k, len(s), "*%d" % m if m else "",
                                       sum(p for _, p in s))
                    for k, (m, s) in enumerate(levels) if s)


def change(ctx, nchange, rnd, nfeeds):
    """nchange corpus files gain one item whose links are round rnd's
    own; returns what to put back."""
    man = ctx["manifest"]
    feeds = os.path.join(ctx["corpus_dir"], "feeds")
    nfiles = len(man["feeds"])
    # Spread over the files the round polls (the first nfeeds).
    step = max(1, min(nfiles, nfeeds) // nchange)
    saved = []
    for k in range(nchange):
        path = os.path.join(feeds, man["feeds"][(k * step) % nfiles][0])
        with open(path, "rb") as f:
            orig = f.read()
        mtime = os.stat(path).st_mtime
        i = orig.find(b"<item")
        close = b"</item>"
        if i < 0:
            i, close = orig.find(b"<entry>"), b"</entry>"
        j = orig.find(close, i) + len(close)
        copy = orig[i:j].replace(b"://", b"://r%ds%d." % (rnd, k))
        with open(path, "wb") as f:
            f.write(orig[:i] + copy + b"\n" + orig[i:])
        # nginx's ETag is the mtime's second and the size, which two
        # rounds' copies share: each round's changed file gets an mtime
        # of its own, and the restored file its first one back.
        os.utime(path, (mtime + 1000 + rnd, mtime + 1000 + rnd))
        saved.append((path, orig, mtime))
    return saved


def restore(saved):
    for path, orig, mtime in saved:
        with open(path, "wb") as f:
            f.write(orig)
        os.utime(path, (mtime, mtime))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=30)
    ap.add_argument("--feeds", type=int, default=1000)
    ap.add_argument("--change", type=int, default=100)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--wrap", default="",
                    help="a command to run each round under, {out} "
                    "replaced by a file name of the binary and round, e.g. "
                    "'valgrind --tool=callgrind --callgrind-out-file={out}'"
                    " (instruction counts do not depend on the load)")
    ap.add_argument("--merge-log", action="store_true",
                    help="run with -vv and print the store's lines about "
                    "merging (the CPU each round's merge took)")
    ap.add_argument("binaries", nargs="+")
    a = ap.parse_args()

    cfg = dict(B.QUICK)
    tmp = tempfile.mkdtemp(prefix="tributary-fts.")
    ctx = {"cfg": cfg, "tmp": tmp}
    ng = None
    try:
        corpus = ctx["corpus_dir"] = os.path.join(tmp, "corpus")
        r = B.run([B.PY, os.path.join(HERE, "gen.py"), "--seed",
                   str(B.SEED), "--feeds", str(cfg["feeds"]), "--items",
                   str(cfg["items"]), "--large-mb", str(cfg["large_mb"]),
                   corpus], timeout=600)
        if r.returncode != 0:
            raise SystemExit("fts_rounds: gen.py failed")
        with open(os.path.join(corpus, "manifest.json")) as f:
            ctx["manifest"] = json.load(f)
        www = os.path.join(tmp, "www")
        os.makedirs(os.path.join(www, "static"))
        os.symlink(os.path.join(corpus, "feeds"), os.path.join(www, "feeds"))
        ng = B.Nginx(tmp, www)
        ng.start()
        man = ctx["manifest"]
        nfiles = len(man["feeds"])
        runs = []
        for bi, exe in enumerate(a.binaries):
            d = os.path.join(tmp, "t%d" % bi)
            os.makedirs(d)
            conf = os.path.join(d, "feeds.conf")
            with open(conf, "w") as f:
                f.write("[tributary]\ndatabase = %s/tributary.db\n"
                        "concurrency = 16\nper_host = 16\ninterval = 1d\n\n"
                        % d)
                for i in range(a.feeds):
                    u = "http://127.0.0.1:%d/feeds/%s" % (
                        ng.port, man["feeds"][i % nfiles][0])
                    if i >= nfiles:
                        u += "?copy=%d" % (i // nfiles)
                    f.write('[feed "feed%05d"]\nurl = %s\n\n' % (i, u))
            runs.append({"exe": exe, "db": os.path.join(d, "tributary.db"),
                         "cmd": [exe, "-q", "-c", conf, "fetch", "--force"]
                         if not a.merge_log else
                         "exec %s -vv -c %s fetch --force 2>%s/log" % (
                             exe, conf, d),
                         "log": os.path.join(d, "log"),
                         "rows": [], "prev": []})
        print("load average at the start: %s" % " ".join(
            "%.2f" % x for x in os.getloadavg()))
        for rnd in range(a.rounds + 1):
            saved = change(ctx, a.change, rnd, a.feeds) if rnd else []
            try:
                # Odd rounds run the binaries in the reverse order: the
                # second of a pair ran slower in wall (not in CPU).
                for t in (runs if rnd % 2 == 0 else runs[::-1]):
                    cmd = t["cmd"]
                    if a.wrap:
                        out = "%s.r%d.out" % (t["db"], rnd)
                        cmd = "%s %s" % (a.wrap.replace("{out}", out),
                                         cmd if isinstance(cmd, str)
                                         else " ".join(cmd))
                        print("       %s" % out)
                    m = B.measure(cmd, 3600)
                    if a.merge_log:
                        with open(t["log"], errors="replace") as f:
                            for line in f:
                                if "search index merged" in line:
                                    print("       " + line.strip())
                    if m["rc"] != 0:
                        print("%s: exit %d: %s" % (t["exe"], m["rc"],
                                                   m["err"]))
                    shape = fts_shape(t["db"])
                    # A level that held 12 or more segments losing 8 or
                    # more at once: only a crisis merge does that (a
                    # merge step takes a level's 4 or so).
                    crisis = [k for k, (_, s) in enumerate(t["prev"])
                              if len(s) >= 12 and len(s) - (
                                  len(shape[k][1]) if k < len(shape)
                                  else 0) >= 8]
                    t["maxseg"] = max([t.get("maxseg", 0)] +
                                      [len(x) for _, x in shape])
                    t["prev"] = shape
                    t["rows"].append((m["wall"], m["cpu"], crisis))
                    print("%-6s %-28s wall %6.3f s  cpu %6.3f s  %s%s" % (
                        "cold" if rnd == 0 else "r%d" % rnd,
                        os.path.relpath(t["exe"]), m["wall"], m["cpu"],
                        shape_text(shape),
                        "  CRISIS MERGE on level %s" % crisis if crisis
                        else ""), flush=True)
            finally:
                restore(saved)
        print("load average at the end: %s" % " ".join(
            "%.2f" % x for x in os.getloadavg()))
        for t in runs:
            st = t["rows"][1:]
            if not st:
                print("%s: cold wall %.3f s cpu %.3f s" % (
                    t["exe"], t["rows"][0][0], t["rows"][0][1]))
                continue
            w = [x[0] for x in st]
            c = [x[1] for x in st]
            print("%s: cold wall %.3f s cpu %.3f s; steady (%d rounds): wall "
                  "median %.3f max %.3f s; cpu median %.3f max %.3f s; "
                  "crisis merges in %d rounds; most segments on one level "
                  "after any round: %d" % (
                      t["exe"], t["rows"][0][0], t["rows"][0][1], len(st),
                      statistics.median(w), max(w), statistics.median(c),
                      max(c), sum(1 for x in st if x[2]), t["maxseg"]))
    finally:
        if ng:
            ng.stop()
        if a.keep:
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
