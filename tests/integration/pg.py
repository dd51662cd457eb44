"""pg.py — a temporary PostgreSQL cluster for the integration tests.

    with pg.Cluster() as c:           # tests/pg start, and stop at the end
        db = c.database()             # a fresh empty database's address
        run("-c", conf, "fetch")      # with database = db in conf

The cluster listens only on its Unix socket in its own directory (no TCP),
its superuser "tr" logs in without a password. available() says whether
a server is installed at all and wanted (tests skip, saying so, when
not).
"""
import glob
import os
import subprocess
import tempfile

from harness import SRC

PG = os.path.join(SRC, "tests", "pg")


def available():
    """True when a PostgreSQL server is installed where tests/pg looks,
    and the run is not limited to SQLite (BACKEND=sqlite, tests/run)."""
    if os.environ.get("BACKEND") == "sqlite":
        return False
    return bool(glob.glob("/usr/lib/postgresql/*/bin/initdb"))


class Cluster:
    """A started cluster in a new directory under /tmp, stopped (and the
    directory removed) when the with block ends, even by an exception."""

    def __init__(self):
        self.dir = None
        self.n = 0

    def __enter__(self):
        # A short path: a socket's path has at most 107 bytes.
        self.dir = tempfile.mkdtemp(prefix="trpg-", dir="/tmp")
        r = subprocess.run([PG, "start", self.dir], capture_output=True,
                           text=True, timeout=120)
        if r.returncode != 0:
            d, self.dir = self.dir, None
            subprocess.run([PG, "stop", d], capture_output=True)
            if os.path.isdir(d) and not os.listdir(d):
                os.rmdir(d)
            raise RuntimeError("tests/pg start: %s%s" % (r.stdout,
                                                          r.stderr))
        return self

    def __exit__(self, *exc):
        if self.dir:
            subprocess.run([PG, "stop", self.dir], capture_output=True,
                           timeout=120)
            self.dir = None

    def psql(self, sql, db="postgres"):
        """Runs sql as tr in db; returns its unaligned output, stripped.
        Raises when psql fails."""
        r = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v",
                            "ON_ERROR_STOP=1", "-h", self.dir, "-U", "tr",
                            "-d", db, "-c", sql],
                           capture_output=True, text=True, timeout=60,
                           env=_env())
        if r.returncode != 0:
            raise RuntimeError("psql %s: %s" % (sql, r.stderr))
        return r.stdout.strip()

    def address(self, name, user="tr"):
        """The libpq address of database name, by the cluster's socket."""
        return "postgresql://%s@/%s?host=%s" % (user, name, self.dir)

    def database(self, name=None):
        """Creates a new empty database (named name, or db1, db2, ...) and
        returns its address."""
        if name is None:
            self.n += 1
            name = "db%d" % self.n
        self.psql('CREATE DATABASE "%s"' % name)
        return self.address(name)

    def drop(self, name):
        """Drops database name, cutting its connections."""
        self.psql('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)


def _env():
    """The environment without PG* variables that would point elsewhere."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PG")}
