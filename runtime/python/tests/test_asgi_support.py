"""A simulated Go side for asgi worker tests (see support.py for the WSGI one).

Named test_asgi_* to stay inside the asgi helper's paths; it holds no tests itself.
"""

import marshal
import os
import socket
import struct
import tempfile
import threading

from gonicorn_runtime import _log, _server, _wire
from gonicorn_runtime import _asgi
from gonicorn_runtime._asgi import ASGIWorker

from .support import Go as _Go

END = _wire.FLAG_END


def scope(path="/", method="GET", body_len=0, type="http", headers=None, query=b"",
          subprotocols=None):
    s = {
        "type": type, "http_version": "1.1", "method": method,
        "scheme": "http" if type == "http" else "ws", "path": path,
        "raw_path": path.encode(), "query_string": query, "root_path": "",
        "headers": headers if headers is not None else [(b"host", b"localhost")],
        "client": ("127.0.0.1", 5555), "server": ("127.0.0.1", 8000),
    }
    if type == "websocket":
        del s["method"]
        s["subprotocols"] = subprotocols or []
    return s


# The ASGI head's fields in wire order (docs/protocol.md, "Request head (ASGI kind)").
HEAD_FIELDS = ("type", "http_version", "method", "scheme", "path", "raw_path",
               "query_string", "root_path", "headers", "client", "server", "subprotocols")


def head(sc):
    """The marshalled ASGI head Go sends for scope dict sc."""
    return marshal.dumps(tuple(sc.get(k) for k in HEAD_FIELDS))


class Go(_Go):
    def __init__(self, sock):
        super().__init__(sock)
        self.reader = _asgi.FrameReader()

    def request(self, stream, sc, body=b"", end=True):
        h = head(sc)
        self.send(_wire.REQUEST, END if end else 0, stream,
                  struct.pack("<I", len(h)) + h + body)

    def ws_msg(self, stream, data):
        if isinstance(data, str):
            payload = b"\x01" + data.encode()
        else:
            payload = b"\x02" + data
        self.send(_asgi.WS_MSG, 0, stream, payload)

    def ws_close(self, stream, code=1000, reason=""):
        self.send(_asgi.WS_CLOSE, END, stream, struct.pack("<H", code) + reason.encode())

    def frames_until(self, pred):
        out = []
        while True:
            f = self.frame()
            if f is None:
                raise EOFError("channel closed; frames so far: %r" % out)
            out.append(f)
            if pred(f):
                return out


class Harness:
    """An asgi worker running its loop in a thread, with Go on the other end."""

    def __init__(self, app, settings=None, module=None, hello=True, app_uri="x:y"):
        self.tmp = tempfile.TemporaryDirectory()
        self.errorlog = os.path.join(self.tmp.name, "error.log")
        s = {"errorlog": self.errorlog, "loglevel": "info", "workers": 2,
             "worker_class": "asgi", "asgi_lifespan": "off",
             # no HEARTBEAT frames unless a test asks for them
             "timeout": 0,
             # GONICORN_TEST_ASGI_LOOP=uvloop runs the same tests on uvloop.
             "asgi_loop": os.environ.get("GONICORN_TEST_ASGI_LOOP", "asyncio")}
        s.update(settings or {})
        self.cfg = _server.Config(s, module)
        self.log = _log.Logger(self.cfg)
        self.app = _server.Application(self.cfg, app_uri)
        self.app.callable = app
        a, b = socket.socketpair()
        self.go = Go(a)
        self.worker = ASGIWorker(1, os.getpid(), b, self.app, 15, self.cfg, self.log,
                                 worker_id=7)
        self.worker.pid = os.getpid()
        self.expect_hello = hello
        self.error = None
        self.exit_code = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            self.worker.load_wsgi()
            self.worker.prepare()
            self.worker.run()
            self.exit_code = 0
        except SystemExit as e:
            self.exit_code = e.code
        except BaseException as e:  # reported by the test
            self.error = e

    def __enter__(self):
        self.thread.start()
        if self.expect_hello:
            f = self.go.frame()
            assert f is not None and f[0] == _wire.HELLO, f
            self.hello = _wire.parse_hello(f[3])
        return self

    def __exit__(self, *exc):
        try:
            self.go.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.thread.join(10)
        self.go.sock.close()
        self.tmp.cleanup()

    def call(self, fn, *args):
        """Run fn(*args) in the worker's loop thread and wait for it."""
        done = threading.Event()
        box = []

        def run():
            box.append(fn(*args))
            done.set()
        self.worker.loop.call_soon_threadsafe(run)
        done.wait(5)
        return box[0] if box else None

    def term(self):
        """SIGTERM as the loop would deliver it."""
        self.worker.loop.call_soon_threadsafe(self.worker.stop, "term")

    def quit(self):
        self.worker.loop.call_soon_threadsafe(self.worker.handle_quit_signal)

    def join(self):
        self.thread.join(10)
        assert not self.thread.is_alive(), "worker loop did not end"

    def stop(self):
        """Close Go's write side and wait for the worker loop to end."""
        self.go.sock.shutdown(socket.SHUT_WR)
        self.join()

    def logtext(self):
        for h in self.log.error_log.handlers:
            h.flush()
        with open(self.errorlog) as f:
            return f.read()
