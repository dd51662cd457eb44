"""harness.py — helpers for the integration tests in tests/integration.

Each test_*.py defines functions decorated with @test and ends with main().
A test passes when it returns without a failed check; main() prints one
line per test and the closing "N passed, N failed" that tests/run adds up.

The built binary is $TRIBUTARY (tests/run sets it); fixtures live under
$TR_SRC/tests/data.
"""
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import traceback

TRIBUTARY = os.environ.get("TRIBUTARY") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "build", "tributary"))
SRC = os.environ.get("TR_SRC") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
DATA = os.path.join(SRC, "tests", "data")

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


class TempDir:
    """A temporary folder removed at the end of a with block."""

    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="tributary-test-")
        return self

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)

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
        try:
            fn()
        except Skipped as e:
            skipped += 1
            print("skip %s\n  %s" % (fn.__name__, e))
            continue
        except CheckFailed as e:
            failed += 1
            print("FAIL %s\n  %s" % (fn.__name__, e))
            continue
        except Exception:
            failed += 1
            print("FAIL %s\n  %s" % (fn.__name__,
                                     traceback.format_exc().replace(
                                         "\n", "\n  ")))
            continue
        passed += 1
        print("ok %s" % fn.__name__)
    if skipped:
        print("%d skipped" % skipped)
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
