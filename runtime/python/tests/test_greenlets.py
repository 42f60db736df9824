"""The gevent and eventlet workers, each in its own process with a simulated Go side.

Monkey patching is process-wide, so every worker here runs in a fresh interpreter that
boots it the way a forked zygote child does (``_boot.run_child``), with its channel end
passed down; the test process plays Go on the other end. Modules whose library is not
installed are skipped.
"""

import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

from gonicorn_runtime import _wire

from .support import Go, environ

END = _wire.FLAG_END
RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The child: what the zygote's on_spawn + run_child do, minus the fork.
CHILD = r"""
import importlib, json, os, socket, sys
spec = json.loads(sys.argv[1])
sys.path[:0] = spec["path"]
for m in spec["block"]:
    sys.modules[m] = None  # an ImportError, as if the package were not installed
from gonicorn_runtime import _boot, _log, _server
cfg = _server.Config(spec["settings"])
log = _log.Logger(cfg)
app = _server.Application(cfg)
server = _server.Server(cfg, log, app)
if cfg.preload_app:
    app.wsgi()
sock = socket.socket(fileno=spec["fd"])
if spec["cls"]:
    mod, name = spec["cls"].rsplit(".", 1)
    cls = getattr(importlib.import_module(mod), name)
    worker = cls(1, server.pid, sock, app, cfg.timeout / 2.0, cfg, log, worker_id=7)
else:
    worker = _boot.make_worker(1, server, sock, 7)
code = _boot.run_child(server, worker)
sys.stdout.flush()
os._exit(code)
"""


def have(name):
    return importlib.util.find_spec(name) is not None


def collect(go, n):
    """Read frames until ``n`` responses are complete: {stream: (status, body)} and the
    order in which the responses completed."""
    import marshal
    got, order = {}, []
    while len(order) < n:
        f = go.frame()
        if f is None:
            raise EOFError("channel closed; got %r" % got)
        typ, flags, stream, payload = f
        if typ == _wire.RESPONSE:
            h, b = _wire.split_head(payload)
            got[stream] = [marshal.loads(h)[0], bytes(b)]
        elif typ == _wire.RESP_BODY:
            got[stream][1] += payload
        else:
            continue
        if flags & END:
            order.append(stream)
    return {k: tuple(v) for k, v in got.items()}, order


class ProcHarness:
    """A worker in a child process booted like a zygote child; ``go`` is the Go end.

    ``files`` maps module file names to source written into a temporary directory that
    is put on the child's sys.path; ``app`` is the app URI.
    """

    def __init__(self, app, files, settings=None, cls=None, block=(), hello=True):
        self.tmp = tempfile.TemporaryDirectory()
        d = self.tmp.name
        for name, src in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(textwrap.dedent(src))
        self.errorlog = os.path.join(d, "error.log")
        # timeout 0: no HEARTBEAT frames unless a test asks for them.
        s = {"errorlog": self.errorlog, "loglevel": "info", "workers": 2, "wsgi_app": app,
             "timeout": 0}
        s.update(settings or {})
        a, b = socket.socketpair()
        self.go = Go(a)
        spec = {"path": [d, RUNTIME_DIR], "settings": s, "fd": b.fileno(), "cls": cls,
                "block": list(block)}
        self.stderr = open(os.path.join(d, "stderr"), "w+")
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(spec)],
                                     pass_fds=[b.fileno()], stdout=self.stderr,
                                     stderr=self.stderr)
        b.close()
        self.want_hello = hello
        self.hello = None

    def __enter__(self):
        if self.want_hello:
            f = self.go.frame()
            if f is None or f[0] != _wire.HELLO:
                self.proc.wait(10)
                raise AssertionError("no HELLO (got %r); log:\n%s" % (f, self.logtext()))
            self.hello = _wire.parse_hello(f[3])
        return self

    def __exit__(self, *exc):
        try:
            self.go.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.go.sock.close()
        for fd in self.go.fds:
            os.close(fd)
        self.stderr.close()
        self.tmp.cleanup()

    def stop(self):
        """Close Go's write side; return the worker's exit code."""
        self.go.sock.shutdown(socket.SHUT_WR)
        return self.proc.wait(10)

    def logtext(self):
        text = ""
        if os.path.exists(self.errorlog):
            with open(self.errorlog) as f:
                text = f.read()
        self.stderr.flush()
        self.stderr.seek(0)
        return text + self.stderr.read()


# One WSGI app module for both greenlet libraries: it imports its blocking modules at
# the top, as apps do, so it only cooperates if patching came first.
WSGI_APP = """
import socket
import sys
import time
from socket import socket as IMPORT_SOCKET

_lib_patched = %(patched)s
PATCHED = lambda: IMPORT_SOCKET is socket.socket and _lib_patched()

def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/echo":
        body = environ["wsgi.input"].read()
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]
    if path == "/stream":
        start_response("200 OK", [("Content-Type", "text/plain")])
        def gen():
            for i in range(3):
                yield b"part%%d;" %% i
                time.sleep(0.01)
        return gen()
    if path == "/slow":
        t0 = time.time()
        time.sleep(0.5)
        start_response("200 OK", [])
        return [b"%%.3f-%%.3f" %% (t0, time.time())]
    if path == "/patched":
        start_response("200 OK", [])
        return [str(PATCHED()).encode()]
    if path == "/boom":
        raise RuntimeError("boom")
    if path == "/big":
        start_response("200 OK", [])
        return (bytes([65 + i %% 26]) * 65536 for i in range(64))
    if path == "/file":
        start_response("200 OK", [])
        return environ["wsgi.file_wrapper"](open(__file__, "rb"))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]
"""

GEVENT_PATCHED = ("lambda: __import__('gevent.monkey').monkey.is_module_patched('socket')"
                  " and __import__('gevent.monkey').monkey.is_module_patched('threading')")
EVENTLET_PATCHED = ("lambda: __import__('eventlet.patcher').patcher.is_monkey_patched('socket')"
                    " and __import__('eventlet.patcher').patcher.is_monkey_patched('thread')")

# The seed document's eventlet example: a Flask app that starts a background
# ``threading.Thread`` and stops it with an ``Event``.
SEED_FLASK_APP = """
from threading import Thread, Event
import time

from flask import Flask

app = Flask(__name__)

thread = Thread()
thread_stop_event = Event()
ticks = []

def background():
    while not thread_stop_event.is_set():
        ticks.append(time.time())
        thread_stop_event.wait(0.01)

@app.route("/start")
def start():
    global thread
    if not thread.is_alive():
        thread_stop_event.clear()
        thread = Thread(target=background, daemon=True)
        thread.start()
    return "started"

@app.route("/ticks")
def count():
    return str(len(ticks))

@app.route("/wait")
def wait():
    # A blocking wait on an Event must let the background thread and other
    # requests run.
    thread_stop_event.wait(0.3)
    return "waited %d" % len(ticks)

@app.route("/stop")
def stop():
    thread_stop_event.set()
    thread.join(5)
    return "stopped %s" % thread.is_alive()
"""


class GreenletCases:
    """Test cases run for each greenlet worker class (mixed into a TestCase)."""

    worker_class = None
    cls = None
    patched = None

    def harness(self, files=None, app="wsgiapp:app", settings=None, **kw):
        s = {"worker_class": self.worker_class}
        s.update(settings or {})
        if files is None:
            files = {"wsgiapp.py": WSGI_APP % {"patched": self.patched}}
        return ProcHarness(app, files, s, cls=self.cls, **kw)

    def test_get_hello_and_capacity(self):
        with self.harness(settings={"worker_connections": 50}) as h:
            self.assertEqual(h.hello["capacity"], 50)
            self.assertEqual(h.hello["app_kind"], "wsgi")
            self.assertEqual(h.hello["worker_class"], self.worker_class)
            h.go.request(1, environ("GET", "/"))
            status, headers, body, frames = h.go.response(1)
            self.assertEqual((status, body), ("200 OK", b"hello"))
            self.assertEqual(len(frames), 1)
            self.assertEqual((frames[0][0], frames[0][1]), (_wire.RESPONSE, END))
            h.go.request(2, environ("GET", "/patched"))
            self.assertEqual(h.go.response(2)[2], b"True")
            self.assertEqual(h.stop(), 0)

    def test_post_body_pulled_with_more(self):
        with self.harness() as h:
            h.go.request(1, environ("POST", "/echo", 11), b"hello", end=False)
            f = h.go.frame()
            self.assertEqual((f[0], f[2]), (_wire.MORE, 1))
            h.go.body(1, b" wor")
            f = h.go.frame()
            self.assertEqual((f[0], f[2]), (_wire.MORE, 1))
            h.go.body(1, b"ld", end=True)
            status, headers, body, _ = h.go.response(1)
            self.assertEqual(body, b"hello world")
            self.assertEqual(h.stop(), 0)

    def test_streaming_response(self):
        with self.harness() as h:
            h.go.request(1, environ("GET", "/stream"))
            status, headers, body, frames = h.go.response(1)
            self.assertEqual(body, b"part0;part1;part2;")
            kinds = [f[0] for f in frames]
            self.assertEqual(kinds[0], _wire.RESPONSE)
            self.assertGreaterEqual(kinds.count(_wire.RESP_BODY), 2)
            self.assertEqual(frames[-1][1], END)
            h.stop()

    def test_two_slow_requests_overlap(self):
        with self.harness() as h:
            t0 = time.time()
            h.go.request(1, environ("GET", "/slow"))
            h.go.request(2, environ("GET", "/slow"))
            spans = {}
            for _ in range(2):
                f = h.go.frame()
                self.assertEqual((f[0], f[1]), (_wire.RESPONSE, END))
                a, b = _wire.split_head(f[3])[1].tobytes().split(b"-")
                spans[f[2]] = (float(a), float(b))
            took = time.time() - t0
            self.assertLess(took, 0.95, "two 0.5 s requests took %.2f s: not concurrent" % took)
            # Each started before the other ended.
            self.assertLess(spans[1][0], spans[2][1])
            self.assertLess(spans[2][0], spans[1][1])
            h.stop()

    def test_error_cancel_and_unknown_streams(self):
        with self.harness() as h:
            h.go.request(1, environ("GET", "/boom"))
            self.assertEqual(h.go.response(1)[0], "500 Internal Server Error")
            h.go.request(2, environ("POST", "/echo", 10), b"", end=False)
            self.assertEqual(h.go.frame()[:3], (_wire.MORE, 0, 2))
            h.go.cancel(2)
            h.go.cancel(77)
            h.go.body(78, b"", end=True)
            h.go.request(3, environ("GET", "/"))
            self.assertEqual(h.go.response(3)[2], b"hello")
            self.assertEqual(h.stop(), 0)
            self.assertIn("Error handling request GET /boom", h.logtext())

    def test_big_response_while_go_reads_slowly(self):
        # 4 MiB through a socket buffer of a few hundred KiB: sends wait in the hub
        # while another request runs.
        with self.harness() as h:
            h.go.request(1, environ("GET", "/big"))
            time.sleep(0.3)
            h.go.request(2, environ("GET", "/"))
            got, order = collect(h.go, 2)
            self.assertEqual(got[2][1], b"hello")
            self.assertEqual(len(got[1][1]), 64 * 65536)
            self.assertEqual(got[1][1][-65536:], b"L" * 65536)
            h.stop()

    def test_file_wrapper_sendfile(self):
        with self.harness() as h:
            h.go.request(1, environ("GET", "/file"))
            status, _, _, frames = h.go.response(1)
            self.assertEqual([f[0] for f in frames], [_wire.RESPONSE, _wire.SENDFILE])
            self.assertEqual(len(h.go.fds), 1)
            with os.fdopen(os.dup(h.go.fds[0]), "rb") as f:
                self.assertIn(b"def app(environ", f.read())
            h.stop()

    def test_sigquit_exits_quickly(self):
        with self.harness() as h:
            h.go.request(1, environ("GET", "/slow"))
            time.sleep(0.1)
            t0 = time.time()
            h.proc.send_signal(signal.SIGQUIT)
            self.assertEqual(h.proc.wait(5), 0)
            self.assertLess(time.time() - t0, 1.5)

    def test_sigterm_graceful(self):
        with self.harness() as h:
            h.go.request(1, environ("GET", "/slow"))
            time.sleep(0.1)
            h.proc.send_signal(signal.SIGTERM)
            status, _, body, _ = h.go.response(1)
            self.assertEqual(status, "200 OK")
            self.assertEqual(h.proc.wait(5), 0)
        with self.harness() as h:
            h.proc.send_signal(signal.SIGTERM)
            self.assertEqual(h.proc.wait(5), 0)

    def test_max_requests_recycles(self):
        with self.harness(settings={"max_requests": 1}) as h:
            h.go.request(1, environ("GET", "/"))
            _, _, body, frames = h.go.response(1)
            self.assertEqual(frames[0][0], _wire.RECYCLE)
            # A recycled worker still serves what Go sent before it read RECYCLE,
            # and exits when Go sends TERM.
            h.go.request(2, environ("GET", "/"))
            self.assertEqual(h.go.response(2)[0], "200 OK")
            h.proc.send_signal(signal.SIGTERM)
            self.assertEqual(h.proc.wait(5), 0)

    def test_reload_sends_recycle(self):
        with self.harness(settings={"reload": True}) as h:
            time.sleep(1.2)  # the reloader has taken its first snapshot
            path = os.path.join(h.tmp.name, 'wsgiapp.py')
            with open(path, "a") as f:
                f.write("\n# changed\n")
            t = time.time() + 1
            os.utime(path, (t, t))
            f = h.go.frame()
            self.assertEqual((f[0], _wire.decode_json(f[3])),
                             (_wire.RECYCLE, {"reason": "reload"}))
            h.go.request(1, environ("GET", "/"))
            self.assertEqual(h.go.response(1)[0][:3], '200')
            h.proc.send_signal(signal.SIGTERM)
            self.assertEqual(h.proc.wait(5), 0)
            self.assertIn("Worker reloading:", h.logtext())

    def test_preload_warns(self):
        with self.harness(settings={"preload_app": True}) as h:
            h.go.request(1, environ("GET", "/patched"))
            self.assertEqual(h.go.response(1)[2], b"False")
            h.stop()
            self.assertIn("preload_app is set with worker class %r" % self.worker_class,
                          h.logtext())

    def test_missing_package_exits_3(self):
        with self.harness(block=[self.patched_pkg], hello=False) as h:
            self.assertEqual(h.proc.wait(10), 3)
            self.assertIsNone(h.go.frame())
            log = h.logtext()
        want = ("Worker class %r needs the %r package: pip install %s"
                % (self.worker_class, self.patched_pkg, self.patched_pkg))
        self.assertIn(want, log)
        self.assertEqual(log.count("needs the"), 1, log)


@unittest.skipUnless(have("gevent"), "gevent is not installed")
class GeventTest(GreenletCases, unittest.TestCase):
    worker_class = "gevent"
    cls = None  # through _boot.make_worker
    patched = GEVENT_PATCHED
    patched_pkg = "gevent"


@unittest.skipUnless(have("eventlet"), "eventlet is not installed")
class EventletTest(GreenletCases, unittest.TestCase):
    worker_class = "eventlet"
    cls = None
    patched = EVENTLET_PATCHED
    patched_pkg = "eventlet"

    @unittest.skipUnless(have("flask"), "flask is not installed")
    def test_seed_flask_thread_event_app(self):
        with self.harness({"seedapp.py": SEED_FLASK_APP}, "seedapp:app") as h:
            h.go.request(1, environ("GET", "/start"))
            self.assertEqual(h.go.response(1)[2], b"started")
            # /wait blocks on the Event for 0.3 s; /ticks must answer meanwhile.
            h.go.request(2, environ("GET", "/wait"))
            time.sleep(0.05)
            h.go.request(3, environ("GET", "/ticks"))
            got, order = collect(h.go, 2)
            self.assertEqual(order, [3, 2], "the /wait request blocked the worker")
            first = int(got[3][1])
            waited = int(got[2][1].split()[1])
            self.assertGreater(waited, first, "the background thread did not run")
            h.go.request(4, environ("GET", "/stop"))
            self.assertEqual(h.go.response(4)[2], b"stopped False")
            self.assertEqual(h.stop(), 0)


ZYGOTE_CONF = """
import os, sys

def pre_fork(server, worker):
    with open(os.environ["HOOKS_FILE"], "a") as f:
        f.write("gevent loaded: %s\\n" % ("gevent" in sys.modules))
"""


@unittest.skipUnless(have("gevent"), "gevent is not installed")
class GeventThroughZygoteTest(unittest.TestCase):
    """The real fork path: two gevent workers forked from one zygote, which itself
    must stay unpatched (pre_fork runs in the zygote before each fork)."""

    def test_fork_from_unpatched_zygote(self):
        from .test_zygote import Zygote
        with tempfile.TemporaryDirectory() as tmp:
            with open(os.path.join(tmp, "wsgiapp.py"), "w") as f:
                f.write(textwrap.dedent(WSGI_APP % {"patched": GEVENT_PATCHED}))
            with open(os.path.join(tmp, "conf.py"), "w") as f:
                f.write(ZYGOTE_CONF)
            z = Zygote(tmp)
            try:
                z.start(os.path.join(tmp, "conf.py"), wsgi_app="wsgiapp:app",
                        worker_class="gevent")
                for wid in (1, 2):
                    _, w = z.spawn(wid)
                    f = w.frame()
                    self.assertEqual(f[0], _wire.HELLO)
                    self.assertEqual(_wire.parse_hello(f[3])["worker_class"], "gevent")
                    w.request(1, environ("GET", "/patched"))
                    self.assertEqual(w.response(1)[2], b"True")
                    w.sock.shutdown(socket.SHUT_WR)
                    self.assertEqual(z.recv(_wire.EXITED)["status"], 0)
                z.send(_wire.STOP, {})
            finally:
                z.close()
            with open(os.path.join(tmp, "hooks")) as f:
                self.assertEqual(f.read(), "gevent loaded: False\n" * 2)


class WorkerClassTableTest(unittest.TestCase):
    def test_names(self):
        from gonicorn_runtime import _boot, _server
        cases = [
            ("gevent", "GeventWorker"), ("egg:gunicorn#gevent", "GeventWorker"),
            ("#gevent", "GeventWorker"), ("gevent_wsgi", "GeventWorker"),
            ("gevent_pywsgi", "GeventWorker"),
            ("gunicorn.workers.ggevent.GeventWorker", "GeventWorker"),
            ("eventlet", "EventletWorker"),
            ("gunicorn.workers.geventlet.EventletWorker", "EventletWorker"),
            ("tornado", "TornadoWorker"), ("egg:gunicorn#tornado", "TornadoWorker"),
            ("aiohttp.worker.GunicornWebWorker", "AiohttpWorker"),
            ("aiohttp.GunicornWebWorker", "AiohttpWorker"),
            ("aiohttp.worker.GunicornUVLoopWebWorker", "AiohttpUVLoopWorker"),
        ]
        for name, want in cases:
            cls, warning = _boot.worker_class(_server.Config({"worker_class": name}))
            self.assertEqual((cls.__name__, warning), (want, None), name)
            self.assertTrue(cls.loads_app_itself, name)


class ZygoteStaysUnpatchedTest(unittest.TestCase):
    def test_boot_imports_no_event_library(self):
        code = ("import sys; sys.path.insert(0, %r); import gonicorn_runtime._boot, "
                "gonicorn_runtime._ggevent, gonicorn_runtime._geventlet, "
                "gonicorn_runtime._gtornado, gonicorn_runtime._gaiohttp; "
                "print(sorted(m for m in ('gevent', 'eventlet', 'tornado', 'aiohttp', "
                "'greenlet') if m in sys.modules))" % RUNTIME_DIR)
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=30)
        self.assertEqual((out.stdout.strip(), out.returncode), ("[]", 0), out.stderr)


if __name__ == "__main__":
    unittest.main()
