"""harness.py — helpers for the integration tests in tests/integration.

Each test_*.py defines functions decorated with @test and ends with main().
A test passes when it returns without a failed check; main() prints one
line per test, with the seconds it took, and the closing "N passed, N
failed" that tests/run adds up.

The built binary is $TRIBUTARY (tests/run sets it); fixtures live under
$TR_SRC/tests/data.

The store a test's config names comes from TempDir.database(): an SQLite
file in the test's folder, or, when TR_TEST_PG=DIR is set (tests/run's
second pass, NAME[postgresql], over a temporary cluster from tests/pg), a
fresh PostgreSQL database of that cluster. TempDir.store() opens it for
the test's own checks; sqlite_only() skips a test that works on the SQLite
file itself (damages, locks or limits it).
"""
import itertools
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback

TRIBUTARY = os.environ.get("TRIBUTARY") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "build", "tributary"))
SRC = os.environ.get("TR_SRC") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(SRC, "tests", "data")
# The socket folder of the PostgreSQL cluster the tests' stores live in,
# or None: SQLite files.
PG_DIR = os.environ.get("TR_TEST_PG") or None
BACKEND = "postgresql" if PG_DIR else "sqlite"

_tests = []
_failures = []


class CheckFailed(Exception):
    pass


class Skipped(Exception):
    pass


def skip(why):
    """Ends the current test as skipped (it cannot run here), saying why:
    counted neither passed nor failed."""
    raise Skipped(why)


def sqlite_only(why):
    """Skips the current test when the stores are PostgreSQL databases:
    why says what it does to the SQLite file that has no PostgreSQL
    counterpart here."""
    if PG_DIR:
        skip("SQLite only: " + why)


def test(fn):
    """Registers fn as a test."""
    _tests.append(fn)
    return fn


def check(cond, msg="check failed"):
    """Fails the current test (and stops it) when cond is false."""
    if not cond:
        raise CheckFailed(msg)


def eq(got, want, what="value"):
    if got != want:
        raise CheckFailed("%s: got %r, want %r" % (what, got, want))


def contains(haystack, needle, what="output"):
    if needle not in haystack:
        raise CheckFailed("%s: %r not found in %r" % (what, needle,
                                                      haystack[:2000]))


class Result:
    def __init__(self, proc):
        self.rc = proc.returncode
        self.out = proc.stdout
        self.err = proc.stderr

    def __repr__(self):
        return "exit %d\nstdout: %s\nstderr: %s" % (self.rc, self.out[:2000],
                                                     self.err[:2000])


def run(*args, cwd=None, env=None, stdin=None, timeout=60):
    """Runs the tributary binary with args; returns a Result.

    TR_WRAPPER, when set, is a command the binary runs under (tests/valgrind
    sets it to valgrind's memcheck); the timeout is then 20 times longer."""
    e = dict(os.environ)
    e.pop("TRIBUTARY_CONFIG", None)
    e.pop("JOURNAL_STREAM", None)
    e.pop("NOTIFY_SOCKET", None)
    if env:
        e.update(env)
    wrapper = shlex.split(os.environ.get("TR_WRAPPER", ""))
    if wrapper and timeout:
        timeout *= 20
    proc = subprocess.run(wrapper + [TRIBUTARY] + [str(a) for a in args],
                          cwd=cwd, env=e, input=stdin, capture_output=True,
                          text=True, timeout=timeout)
    return Result(proc)


_pg_names = itertools.count(1)


def _pg_admin(sql, create=None):
    """Runs one statement as the cluster's superuser, in autocommit (a
    database is created and dropped outside transactions); with create,
    CREATE DATABASE create, copying the template's files (PostgreSQL 15
    and later would write its every page to the WAL instead: a third
    slower here, where each test makes a database)."""
    import psycopg2
    con = psycopg2.connect(host=PG_DIR, user="tr", dbname="postgres")
    try:
        con.autocommit = True
        if create is not None:
            sql = 'CREATE DATABASE "%s"' % create
            if con.server_version >= 150000:
                sql += " STRATEGY = FILE_COPY"
        con.cursor().execute(sql)
    finally:
        con.close()


class _PGStore:
    """A PostgreSQL database behind the part of sqlite3's connection the
    tests use: execute() on the connection with "?" parameters, rows as
    tuples, or by name with row_factory set (to sqlite3.Row), text as
    UTF-8 bytes with text_factory = bytes, commit() and close().
    Autocommit: every statement sees what the last process committed,
    and the test holds no lock between statements."""

    def __init__(self, name, write):
        import psycopg2
        self._con = psycopg2.connect(host=PG_DIR, user="tr", dbname=name)
        self._con.set_session(readonly=not write, autocommit=True)
        self.row_factory = None
        self.text_factory = str

    def execute(self, sql, args=()):
        import psycopg2.extras
        cur = self._con.cursor(cursor_factory=psycopg2.extras.DictCursor
                               if self.row_factory else None)
        cur.execute(sql.replace("%", "%%").replace("?", "%s"), tuple(args))
        if self.text_factory is bytes:
            return _BytesRows(cur)
        return cur

    def commit(self):
        pass

    def close(self):
        self._con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class _BytesRows:
    """A cursor's rows with their text as UTF-8 bytes (what sqlite3
    gives with text_factory = bytes)."""

    def __init__(self, cur):
        self._cur = cur

    @staticmethod
    def _row(row):
        return None if row is None else tuple(
            v.encode() if isinstance(v, str) else v for v in row)

    def fetchone(self):
        return self._row(self._cur.fetchone())

    def fetchall(self):
        return [self._row(r) for r in self._cur.fetchall()]


class TempDir:
    """A temporary folder removed at the end of a with block, with the
    PostgreSQL databases database() created for it."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="tributary-test-")
        self._dbs = {}
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)
        for name in self._dbs.values():
            # FORCE: a server the test left running holds connections.
            _pg_admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
        self._dbs = {}

    def database(self, name="db.sqlite"):
        """The address of this folder's store called name: the SQLite
        file join(name), or on PostgreSQL a database of its own, created
        empty on the first call for name."""
        if not PG_DIR:
            return self.join(name)
        if name not in self._dbs:
            db = "t%d_%d" % (os.getpid(), next(_pg_names))
            _pg_admin(None, create=db)
            self._dbs[name] = db
        return "postgresql://tr@/%s?host=%s" % (self._dbs[name], PG_DIR)

    def store(self, name="db.sqlite", write=False):
        """A connection to database(name) for a test's own checks:
        python's sqlite3 (read-only unless write), or a _PGStore that
        takes the same SQL where the two agree."""
        if not PG_DIR:
            if write:
                return sqlite3.connect(self.join(name))
            return sqlite3.connect("file:%s?mode=ro" % self.join(name),
                                   uri=True)
        self.database(name)
        return _PGStore(self._dbs[name], write)

    def write_conf(self, name, text):
        """write(name, text) for a config: on PostgreSQL each line
        "database = V" names database(V) instead."""
        if PG_DIR:
            text = re.sub(r"(?m)^(database\s*=\s*)(\S+)[ \t]*$",
                          lambda m: m.group(1) + self.database(m.group(2)),
                          text)
        return self.write(name, text)

    def write(self, name, text):
        path = os.path.join(self.path, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        mode = "wb" if isinstance(text, bytes) else "w"
        with open(path, mode) as f:
            f.write(text)
        return path

    def join(self, *parts):
        return os.path.join(self.path, *parts)


def main():
    passed = failed = skipped = 0
    only = sys.argv[1:]
    for fn in _tests:
        if only and fn.__name__ not in only:
            continue
        t0 = time.monotonic()
        try:
            fn()
        except Skipped as e:
            skipped += 1
            print("skip %s\n  %s" % (fn.__name__, e))
            continue
        except CheckFailed as e:
            failed += 1
            print("FAIL %s (%.1f s)\n  %s" % (fn.__name__,
                                             time.monotonic() - t0, e))
            continue
        except Exception:
            failed += 1
            print("FAIL %s (%.1f s)\n  %s" % (fn.__name__,
                                             time.monotonic() - t0,
                                             traceback.format_exc().replace(
                                                 "\n", "\n  ")))
            continue
        passed += 1
        print("ok %s (%.1f s)" % (fn.__name__, time.monotonic() - t0))
    if skipped:
        print("%d skipped" % skipped)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
