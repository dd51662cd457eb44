"""server.py — a misbehaving HTTP/1.1 server on 127.0.0.1 for the tests.

It serves feeds and fails on demand, route by route, and records every
request it receives (method, path, headers, time) so that tests can assert
what tributary sent and when.

In a test (same process):

    with FeedServer() as srv:
        srv.route("/a.xml", body=RSS, etag='"v1"')
        srv.route("/gone.xml", status=410)
        srv.route("/moved.xml", redirect=(301, "/a.xml"))
        ... run tributary against srv.url("/a.xml") ...
        reqs = srv.requests_for("/a.xml")
        srv.max_in_flight       # the most requests answered at once

From another process (the reliability tests, a shell):

    python3 tests/integration/server.py [--port N]
        prints "PORT N" on its first line, then serves until killed;
        --host 127.0.0.2 listens on another loopback address;
        POST /_control with a JSON body {"path": "/a.xml", ...behaviour}
        sets a route, POST /_reset forgets routes and requests, GET
        /_requests returns the request log as JSON.

A route's behaviour (keyword arguments of route(), keys of the JSON):

    body            bytes (str is UTF-8 encoded) of a 200, default empty
    file            a fixture path to serve as the body instead
    status          the status code (default 200)
    content_type    Content-Type (default application/rss+xml; charset=utf-8
                    when there is a body)
    headers         extra response headers, a dict
    etag            sent as ETag; a request whose If-None-Match matches
                    gets 304
    last_modified   sent as Last-Modified; a request whose
                    If-Modified-Since equals it gets 304
    redirect        (code, location): answer code with Location
    retry_after     sent as Retry-After
    gzip            gzip the body (Content-Encoding: gzip)
    br              brotli the body (Content-Encoding: br); needs brotli
                    (see have_brotli())
    bad_gzip        say Content-Encoding: gzip but send the body as is
    chunked         send the body with Transfer-Encoding: chunked
    dribble         seconds to wait between single bytes of the body
    delay           seconds to wait before answering
    truncate        send only this many bytes of the body, then close
                    (Content-Length says the full size)
    extra_length    claim a Content-Length this much longer than the body,
                    then close
    endless         stream a never-ending body (chunked) until the client
                    hangs up or the server stops
    no_answer       read the request, never answer (until the server stops)
    sequence        a list of behaviours used one per request; the last
                    one repeats
    vary            replace every "{n}" in the body with the number of
                    earlier requests for the path (a document that changes
                    on every fetch)

ServerProcess() is the same server in a process of its own, set up
through /_control: a route that streams without end (endless) takes the
interpreter of the process serving it, and the test's other servers,
threads of the test's process, would wait for it.

NeverAccepts() is a listener whose backlog is full, so that a connection
attempt hangs until the client's connect timeout.

Unknown paths get 404.
"""
import ctypes
import ctypes.util
import gzip as gzip_mod
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_brotli_compress = None


def _load_brotli():
    """Finds a brotli encoder: the python module, else the C library that
    libcurl itself links (libbrotlienc) through ctypes. None if neither."""
    try:
        import brotli  # noqa: F401
        return brotli.compress
    except ImportError:
        pass
    name = ctypes.util.find_library("brotlienc")
    if not name:
        return None
    try:
        lib = ctypes.CDLL(name)
    except OSError:
        return None
    fn = lib.BrotliEncoderCompress
    fn.restype = ctypes.c_int
    fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_size_t,
                   ctypes.c_char_p, ctypes.POINTER(ctypes.c_size_t),
                   ctypes.c_char_p]

    def compress(data):
        cap = len(data) + 1024
        out = ctypes.create_string_buffer(cap)
        size = ctypes.c_size_t(cap)
        # quality 5, window 22, generic mode
        if not fn(5, 22, 0, len(data), data, ctypes.byref(size), out):
            raise RuntimeError("BrotliEncoderCompress failed")
        return out.raw[:size.value]
    return compress


_brotli_compress = _load_brotli()


def have_brotli():
    """True when the server can send brotli bodies."""
    return _brotli_compress is not None


class Request:
    """One request as the server saw it."""

    def __init__(self, method, path, headers, when):
        self.method = method
        self.path = path
        self.headers = headers  # dict, names lowercased
        self.time = when
        self.end = None  # when its answer was written (or it ended)

    def header(self, name):
        return self.headers.get(name.lower())

    def as_dict(self):
        return {"method": self.method, "path": self.path,
                "headers": self.headers, "time": self.time,
                "end": self.end}

    def __repr__(self):
        return "%s %s %r" % (self.method, self.path, self.headers)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "feedtest/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def _record(self):
        path = self.path.split("?", 1)[0]
        hdrs = {k.lower(): v for k, v in self.headers.items()}
        req = Request(self.command, self.path, hdrs, time.time())
        owner = self.server.owner
        with owner.lock:
            if not path.startswith("/_"):
                owner.requests.append(req)
            n = owner.counts.get(path, 0)
            owner.counts[path] = n + 1
        self._req = req
        return path, n

    def do_GET(self):
        path, n = self._record()
        owner = self.server.owner
        if path == "/_requests":
            with owner.lock:
                data = json.dumps([r.as_dict() for r in owner.requests])
            return self._plain(200, data.encode(), "application/json")
        with owner.lock:
            b = owner.routes.get(path)
        if b is None:
            return self._plain(404, b"not found\n", "text/plain")
        if "sequence" in b:
            seq = b["sequence"]
            b = seq[min(n, len(seq) - 1)]
        # Requests in flight at once (being answered), and the most.
        with owner.lock:
            owner.in_flight += 1
            owner.max_in_flight = max(owner.max_in_flight, owner.in_flight)
        try:
            self._serve(b, n)
        finally:
            with owner.lock:
                owner.in_flight -= 1
                self._req.end = time.time()

    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        path, _ = self._record()
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        data = self.rfile.read(length) if length else b""
        if path == "/_control":
            spec = json.loads(data.decode() or "{}")
            route = spec.pop("path")
            owner.route(route, **spec)
            return self._plain(200, b"ok\n", "text/plain")
        if path == "/_reset":
            owner.reset()
            return self._plain(200, b"ok\n", "text/plain")
        self._plain(405, b"no\n", "text/plain")

    def _plain(self, status, body, ctype):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _not_modified(self, b):
        inm = self.headers.get("If-None-Match")
        ims = self.headers.get("If-Modified-Since")
        if b.get("etag") and inm is not None:
            return b["etag"] in [t.strip() for t in inm.split(",")] \
                or inm.strip() == "*"
        if b.get("last_modified") and ims is not None:
            return ims == b["last_modified"]
        return False

    def _body_of(self, b, n):
        if b.get("file"):
            with open(b["file"], "rb") as f:
                body = f.read()
        else:
            body = b.get("body", b"")
            body = body.encode() if isinstance(body, str) else body
        if b.get("vary"):
            body = body.replace(b"{n}", str(n).encode())
        return body

    def _wait(self, seconds):
        """Sleeps, waking early when the server stops. False if stopped."""
        return not self.server.owner.stopping.wait(seconds)

    def _serve(self, b, n=0):
        owner = self.server.owner
        if b.get("no_answer"):
            owner.stopping.wait(3600)
            self.close_connection = True
            return
        if b.get("delay") and not self._wait(b["delay"]):
            return
        status = b.get("status", 200)
        extra = dict(b.get("headers") or {})
        if b.get("retry_after") is not None:
            extra["Retry-After"] = str(b["retry_after"])
        if b.get("redirect"):
            code, loc = b["redirect"]
            extra["Location"] = loc
            self.send_response(code)
            for k, v in extra.items():
                self.send_header(k, v)
            body = b"moved\n"
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        if status == 200 and self._not_modified(b):
            self.send_response(304)
            if b.get("etag"):
                self.send_header("ETag", b["etag"])
            if b.get("last_modified"):
                self.send_header("Last-Modified", b["last_modified"])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = self._body_of(b, n)
        self.send_response(status)
        ctype = b.get("content_type")
        if ctype is None and body:
            ctype = "application/rss+xml; charset=utf-8"
        if ctype:
            self.send_header("Content-Type", ctype)
        if b.get("etag"):
            self.send_header("ETag", b["etag"])
        if b.get("last_modified"):
            self.send_header("Last-Modified", b["last_modified"])
        for k, v in extra.items():
            self.send_header(k, v)
        if b.get("gzip"):
            body = gzip_mod.compress(body)
            self.send_header("Content-Encoding", "gzip")
        elif b.get("br"):
            if _brotli_compress is None:
                raise RuntimeError("brotli is not available")
            body = _brotli_compress(body)
            self.send_header("Content-Encoding", "br")
        elif b.get("bad_gzip"):
            self.send_header("Content-Encoding", "gzip")
        if b.get("endless"):
            return self._endless(body)
        if b.get("chunked"):
            return self._chunked(body)
        claimed = len(body) + int(b.get("extra_length", 0))
        self.send_header("Content-Length", str(claimed))
        self.end_headers()
        if self.command == "HEAD":
            return
        if b.get("truncate") is not None:
            body = body[:b["truncate"]]
            self.close_connection = True
        if b.get("extra_length"):
            self.close_connection = True
        if b.get("dribble"):
            for i in range(len(body)):
                self.wfile.write(body[i:i + 1])
                self.wfile.flush()
                if not self._wait(b["dribble"]):
                    break
            return
        self.wfile.write(body)
        self.wfile.flush()
        if self.close_connection:
            self._hang_up()

    def _hang_up(self):
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def _chunked(self, body):
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for i in range(0, len(body), 4096):
            self._chunk(body[i:i + 4096])
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _endless(self, head):
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.close_connection = True
        filler = b"<item><title>more</title></item>\n" * 1000
        try:
            if head:
                self._chunk(head)
            while not self.server.owner.stopping.is_set():
                self._chunk(filler)
                self.wfile.flush()
        except OSError:
            pass  # the client hung up: what we wanted


class FeedServer:
    """A threaded HTTP/1.1 server on 127.0.0.1 with an ephemeral port."""

    def __init__(self, port=0, host="127.0.0.1"):
        self.host = host
        self.lock = threading.Lock()
        self.routes = {}
        self.requests = []
        self.counts = {}
        self.in_flight = self.max_in_flight = 0
        self.stopping = threading.Event()
        self.httpd = ThreadingHTTPServer((host, port), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self
        self.port = self.httpd.server_address[1]
        self.thread = None

    def start(self):
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def url(self, path):
        return "http://%s:%d%s" % (self.host, self.port, path)

    def route(self, path, **behaviour):
        """Sets (replaces) the behaviour of path; see the module text."""
        with self.lock:
            self.routes[path] = behaviour
            self.counts[path] = 0

    def reset(self):
        with self.lock:
            self.routes.clear()
            self.requests.clear()
            self.counts.clear()
            self.max_in_flight = self.in_flight

    def requests_for(self, path):
        """The requests for path (query string ignored), in order."""
        with self.lock:
            return [r for r in self.requests
                    if r.path.split("?", 1)[0] == path]

    def clear_requests(self):
        with self.lock:
            self.requests.clear()


class ServerProcess:
    """server.py run as a process of its own (see the module text);
    route() takes JSON-able behaviours (a body as str)."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable,
                                      os.path.abspath(__file__)],
                                     stdout=subprocess.PIPE)
        line = self.proc.stdout.readline().decode()
        if not line.startswith("PORT "):
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError("server.py did not start: %r" % line)
        self.port = int(line.split()[1])

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def route(self, path, **behaviour):
        spec = dict(behaviour, path=path)
        req = urllib.request.Request(self.url("/_control"),
                                     data=json.dumps(spec).encode(),
                                     method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait()
        self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class NeverAccepts:
    """A listener on 127.0.0.1 that never accepts, its accept queue filled
    by connections of our own: the kernel drops further SYNs
    (tcp_abort_on_overflow is 0 by default), so connecting to url() neither
    succeeds nor fails until the client's connect timeout. port=0 picks
    one; an earlier server's port can be reused."""

    def __init__(self, port=0):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.fillers = []
        # backlog 0 still queues one connection (Linux allows backlog + 1);
        # a few more make sure the queue is full whatever the kernel rounds.
        for _ in range(4):
            c = socket.socket()
            c.setblocking(False)
            try:
                c.connect(("127.0.0.1", self.port))
            except (BlockingIOError, InterruptedError):
                pass
            self.fillers.append(c)
        time.sleep(0.1)

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def close(self):
        for c in self.fillers:
            c.close()
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def main(argv):
    port, host = 0, "127.0.0.1"
    while len(argv) >= 2 and argv[0] in ("--port", "--host"):
        if argv[0] == "--port":
            port = int(argv[1])
        else:
            host = argv[1]  # a 127.0.0.0/8 address: tests stay on loopback
        argv = argv[2:]
    srv = FeedServer(port, host)
    print("PORT %d" % srv.port, flush=True)
    try:
        srv.httpd.serve_forever(poll_interval=0.05)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main(sys.argv[1:])
