"""The asgi worker: one asyncio loop, many ASGI streams on one channel.

Go sends REQUEST frames whose head is a marshal'ed ASGI scope (docs/protocol.md,
"ASGI and WebSocket streams"); each request runs in its own task. The channel is read by
a BufferedProtocol that decodes frames in place and routes REQ_BODY/CANCEL/WS_* frames to
their stream. Frames written during one loop iteration leave in one write.

Behaviour follows gunicorn's ``-k asgi`` worker (gunicorn/workers/gasgi.py): lifespan in
each worker, ``state`` shared with lifespan, ``http.disconnect`` then cancellation after
``asgi_disconnect_grace_period``, TERM graceful and INT/QUIT quick. The uvicorn worker
names select uvicorn's rule for a failed lifespan startup (exit 3: the master halts).
"""

import asyncio
import collections
import logging
import marshal
import os
import random
import signal
import struct
import sys
from http import HTTPStatus

from . import _app, _wire

__all__ = ["ASGIWorker", "HTTPCycle", "FrameReader", "Request", "UVICORN_CLASSES",
           "INFO", "WS_ACCEPT", "WS_MSG", "WS_CLOSE", "HIGH_WATER"]
from ._worker import (Worker, ClientDisconnected, ERROR_500_HEAD, ERROR_500_BODY, RUNTIME,
                      _CACHE_MAX, _H_LENGTH, _H_DROP, _check_header, dump_tasks,
                      heartbeat_interval)

INFO, WS_ACCEPT, WS_MSG, WS_CLOSE = _wire.INFO, _wire.WS_ACCEPT, _wire.WS_MSG, _wire.WS_CLOSE

_HDR = struct.Struct("<IBBHI")
_HDR_HL = struct.Struct("<IBBHII")
_U32 = struct.Struct("<I")
_HS = _wire.HEADER_SIZE
_dumps = marshal.dumps
_loads = marshal.loads
END = _wire.FLAG_END
REQUEST, REQ_BODY, MORE, CANCEL = _wire.REQUEST, _wire.REQ_BODY, _wire.MORE, _wire.CANCEL
WINDOW = _wire.WINDOW
# Response body bytes a stream may send before Go grants more (docs/protocol.md, WINDOW).
INITIAL_WINDOW = 1 << 20
RESPONSE, RESP_BODY, ABORT = _wire.RESPONSE, _wire.RESP_BODY, _wire.ABORT
_MAX_CHUNK = _wire.MAX_PAYLOAD - (1 << 20)
_MORE_SIZE = 64 * 1024
# Above this many bytes queued for Go, send() waits for the transport to drain.
HIGH_WATER = 1 << 20

# Names that select this worker (as internal/config/worker.go resolves them).
# With these names a failed lifespan startup exits 3 (uvicorn's worker), not 0. The
# whole list of names that select this worker is _boot.ASGI_CLASSES.
UVICORN_CLASSES = frozenset((
    "uvicorn.workers.UvicornWorker", "uvicorn.workers.UvicornH11Worker",
    "uvicorn_worker.UvicornWorker", "uvicorn_worker.UvicornH11Worker",
    "UvicornWorker", "UvicornH11Worker"))

# gunicorn's ASGI worker logs this for an app exception (protocol.py).
ERROR_LOG = "Error in ASGI application"

FrameReader = _wire.FrameReader


# -- app interface --------------------------------------------------------------------

def _asgi2_adapter(app):
    # uvicorn's ASGI2Middleware: instantiate per scope, then await the instance.
    async def asgi3(scope, receive, send):
        instance = app(scope)
        await instance(receive, send)
    return asgi3


# -- response helpers -----------------------------------------------------------------

_STATUS_LINES = {}


def _status_line(code):
    line = _STATUS_LINES.get(code)
    if line is not None:
        return line
    if not isinstance(code, int) or isinstance(code, bool) or not 100 <= code <= 999:
        raise TypeError("ASGI http.response.start status must be an int from 100 to 999, "
                        "got %r" % (code,))
    code = int(code)  # HTTPStatus members too
    try:
        phrase = HTTPStatus(code).phrase
    except ValueError:
        phrase = ""
    line = "%d %s" % (code, phrase) if phrase else "%d" % code
    _STATUS_LINES[code] = line
    return line


_ASGI_HDR_CACHE = {}

# (status, the app's headers as a tuple) -> (headers, content length, the
# marshalled response head, omit body): most apps answer with the same few
# heads, and marshalling one is a tenth of the worker's time per request.
_HEAD_CACHE = {}


def _header(h):
    """Check one ASGI header (bytes pair) like the WSGI path: (kind, (name, value), len)."""
    try:
        name, value = h
    except (TypeError, ValueError):
        raise TypeError("ASGI header must be a (name, value) pair of bytes, got %r" % (h,))
    n = name.decode("latin-1") if isinstance(name, (bytes, bytearray)) else name
    v = value.decode("latin-1") if isinstance(value, (bytes, bytearray)) else value
    e = _check_header((n, v))
    if type(h) is tuple and type(name) is bytes and type(value) is bytes:
        if len(_ASGI_HDR_CACHE) >= _CACHE_MAX:
            _ASGI_HDR_CACHE.clear()
        _ASGI_HDR_CACHE[h] = e
    return e


def _headers(headers):
    """ASGI headers -> ([(str, str)], content_length or None), hop-by-hop dropped."""
    out = []
    length = None
    cache = _ASGI_HDR_CACHE
    for h in headers:
        try:
            e = cache.get(h)
        except TypeError:  # a list pair: not hashable
            e = None
        if e is None:
            e = _header(h)
        kind = e[0]
        if kind == _H_DROP:
            continue
        out.append(e[1])
        if kind == _H_LENGTH:
            length = e[2]
    return out, length


class _Response:
    """The ``resp`` post_request receives (gunicorn's ASGIResponseInfo fields)."""

    def __init__(self, c):
        self.status = c.status or 500
        self.status_code = self.status
        self.headers = list(c.headers or ())
        self.sent = c.sent
        self.response_length = c.length


class Request:
    """The ``req`` pre_request/post_request receive, from an ASGI scope."""

    def __init__(self, scope):
        self.scope = scope
        self.method = scope.get("method", "GET")
        self.scheme = scope.get("scheme", "http")
        self.path = scope.get("path", "")
        self.query = (scope.get("query_string") or b"").decode("latin-1")
        raw = scope.get("raw_path") or self.path.encode("utf-8", "surrogateescape")
        self.uri = raw.decode("latin-1") + ("?" + self.query if self.query else "")
        self.fragment = ""
        try:
            major, _, minor = scope.get("http_version", "1.1").partition(".")
            self.version = (int(major), int(minor or 0))
        except ValueError:
            self.version = (1, 1)
        self.headers = [(k.decode("latin-1").upper(), v.decode("latin-1"))
                        for k, v in scope.get("headers", ())]
        self.trailers = []
        self.body = None
        self.peer_addr = scope.get("client")
        self.remote_addr = self.peer_addr

    def should_close(self):
        return False

    def environ(self):
        """The minimal environ gunicorn's ASGI worker gives post_request."""
        env = {"REQUEST_METHOD": self.method, "RAW_URI": self.uri, "PATH_INFO": self.path,
               "QUERY_STRING": self.query,
               "SERVER_PROTOCOL": "HTTP/%d.%d" % self.version,
               "REMOTE_ADDR": self.peer_addr[0] if self.peer_addr else "-"}
        for name, value in self.headers:
            env["HTTP_" + name.replace("-", "_")] = value
        return env


# -- one HTTP request -----------------------------------------------------------------

class _Cycle:
    """What an http and a websocket stream share: the task running the app, the
    receive() waiter, and the cancellation after --asgi-disconnect-grace-period."""

    task = None
    waiter = None
    grace = None

    def _cancel_after_grace(self):
        task = self.task
        if task is not None and not task.done():
            grace = self.worker.grace
            if grace > 0:
                self.grace = self.worker.loop.call_later(grace, self._cancel_task)
            else:
                task.cancel()

    def _cancel_task(self):
        if self.task is not None and not self.task.done():
            self.task.cancel()

    def _wake(self):
        w = self.waiter
        if w is not None:
            self.waiter = None
            if not w.done():
                w.set_result(None)


class HTTPCycle(_Cycle):
    """One ASGI http stream: its receive()/send() and its task."""

    # Class-level defaults: a new cycle only stores what differs (hot path).
    inbox = None
    asked = False
    body_done = False
    cancelled = False
    waiter = None
    task = None
    status = None
    headers = None
    length = None
    head = None
    started = False   # RESPONSE sent
    done = False      # END sent
    omit = False
    sent = 0
    req = None
    grace = None
    credit = INITIAL_WINDOW
    credit_waiter = None

    def __init__(self, worker, stream, scope, first, eof):
        self.worker = worker
        self.stream = stream
        self.scope = scope
        self.first = first
        self.eof = eof
        if scope["method"] == "HEAD":
            self.omit = True

    # -- frames from Go -------------------------------------------------------------

    def feed(self, data, end):
        if data:
            if self.inbox is None:
                self.inbox = collections.deque()
            self.inbox.append(data)
        self.asked = False
        if end:
            self.eof = True
        self._wake()

    def window(self, n):
        """WINDOW: Go wrote n more bytes to the client; send() may go on."""
        self.credit += n
        fut = self.credit_waiter
        if fut is not None and self.credit > 0 and not fut.done():
            fut.set_result(None)

    def cancel(self):
        """CANCEL: http.disconnect now, task cancelled after the grace period."""
        if self.cancelled:
            return
        self.cancelled = True
        self._wake()
        fut = self.credit_waiter
        if fut is not None and not fut.done():
            fut.set_result(None)
        self._cancel_after_grace()

    # -- ASGI receive ---------------------------------------------------------------

    async def receive(self):
        first = self.first
        if first is not None:
            self.first = None
            if first or self.eof:
                if self.eof:
                    self.body_done = True
                return {"type": "http.request", "body": first, "more_body": not self.eof}
        while True:
            if self.cancelled or self.done:
                return {"type": "http.disconnect"}
            inbox = self.inbox
            if inbox:
                data = inbox.popleft()
                more = not (self.eof and not inbox)
                if not more:
                    self.body_done = True
                return {"type": "http.request", "body": data, "more_body": more}
            if self.eof:
                if not self.body_done:
                    self.body_done = True
                    return {"type": "http.request", "body": b"", "more_body": False}
            elif not self.asked:
                # Go answers with REQ_BODY frames totalling at most this; ask again
                # once they are used up.
                self.asked = True
                self.worker.send((_HDR.pack(4, MORE, 0, 0, self.stream),
                                  _U32.pack(_MORE_SIZE)), _HS + 4)
            self.waiter = w = self.worker.loop.create_future()
            await w

    # -- ASGI send ------------------------------------------------------------------

    async def send(self, message):
        t = message["type"]
        if t == "http.response.body":
            if self.status is None:
                raise RuntimeError("Expected ASGI message 'http.response.start', "
                                   "but got 'http.response.body'.")
            if self.done:
                raise RuntimeError("Unexpected ASGI message 'http.response.body' sent, "
                                   "after response already completed.")
            if self.cancelled:
                raise ClientDisconnected()
            body = message.get("body", b"")
            more = message.get("more_body", False)
            w = self.worker
            if (not more and not self.started and not self.omit and type(body) is bytes
                    and len(body) <= _MAX_CHUNK
                    and (self.length is None or len(body) <= self.length)):
                # The common case: the whole response in one frame.
                head = self.head
                hl = len(head)
                plen = 4 + hl + len(body)
                self.started = self.done = True
                self.sent = len(body)
                w.send((_HDR_HL.pack(plen, RESPONSE, END, 0, self.stream, hl), head, body),
                       plen + _HS)
            else:
                if more:
                    # Backpressure from the client: with the window spent, wait
                    # until Go has written what was sent (WINDOW) or the client left.
                    while self.credit <= 0 and not self.cancelled:
                        fut = self.credit_waiter = w.loop.create_future()
                        await fut
                        self.credit_waiter = None
                    if self.cancelled:
                        raise ClientDisconnected()
                    self.credit -= len(body)
                self._body(body, more)
            if self.waiter is not None and self.done:
                self._wake()  # a receive() waiting for the disconnect: the response is over
            if w.out_n > HIGH_WATER or w.paused:
                await w.drain()
        elif t == "http.response.start":
            if self.status is not None:
                raise RuntimeError("Unexpected ASGI message 'http.response.start' sent, "
                                   "after response already started.")
            if self.cancelled:
                raise ClientDisconnected()
            code = message["status"]
            raw = message.get("headers", ())
            key = None
            if type(code) is int and type(raw) in (list, tuple):
                try:
                    key = (code, tuple(raw))
                    hit = _HEAD_CACHE.get(key)
                except TypeError:  # list pairs: not hashable
                    key = hit = None
                if hit is not None:
                    self.omit = self.omit or hit[3]
                    self.status = code
                    self.headers, self.length, self.head = hit[0], hit[1], hit[2]
                    return
            line = _STATUS_LINES.get(code) or _status_line(code)
            headers, length = _headers(raw)
            omit = False
            if code in (204, 304) or code < 200:
                omit = self.omit = True
                if code != 304:
                    headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
                    length = None
            self.status = code
            self.headers = headers
            self.length = length
            self.head = head = _dumps((line, headers), 2)
            if key is not None:
                if len(_HEAD_CACHE) >= _CACHE_MAX:
                    _HEAD_CACHE.clear()
                _HEAD_CACHE[key] = (headers, length, head, omit)
        elif t == "http.response.informational":
            if self.status is not None:
                raise RuntimeError("ASGI message 'http.response.informational' sent after "
                                   "'http.response.start'.")
            if self.cancelled:
                raise ClientDisconnected()
            code = message.get("status", 103)
            if type(code) is not int or not 100 <= code <= 199 or code == 101:
                raise ValueError("http.response.informational status must be 1xx "
                                 "(not 101), got %r" % (code,))
            headers, _ = _headers(message.get("headers", ()))
            head = _dumps((_status_line(code), headers), 2)
            self.worker.send((_HDR.pack(len(head), INFO, 0, 0, self.stream), head),
                             _HS + len(head))
        elif t == "http.response.trailers":
            pass  # not advertised in scope["extensions"]; nothing to send them with
        else:
            raise RuntimeError("Unexpected ASGI message %r sent for an http scope." % (t,))

    def _body(self, body, more):
        if type(body) is not bytes:
            if not isinstance(body, (bytes, bytearray, memoryview)):
                raise TypeError("http.response.body 'body' must be bytes, got %r"
                                % type(body).__name__)
            body = bytes(body)
        n = len(body)
        if self.omit:
            body, n = b"", 0
        elif self.length is not None and self.sent + n > self.length:
            # As the WSGI path: never send more than the Content-Length promised.
            n = max(0, self.length - self.sent)
            body = body[:n]
        flags = 0 if more else END
        send = self.worker.send
        stream = self.stream
        if not self.started:
            head = self.head
            hl = len(head)
            first, rest = (body, b"") if n <= _MAX_CHUNK else (b"", body)
            plen = 4 + hl + len(first)
            self.started = True
            self.sent = len(first)
            fl = flags if not rest else 0
            send((_HDR_HL.pack(plen, RESPONSE, fl, 0, stream, hl), head, first), plen + _HS)
            if fl:
                self.done = True
                return
            body, n = rest, len(rest)
            if not n and more:
                return
        self.sent += n
        if not n:
            if not more:
                send((_HDR.pack(0, RESP_BODY, END, 0, stream),), _HS)
                self.done = True
            return
        for i in range(0, n, _MAX_CHUNK):
            part = body[i:i + _MAX_CHUNK] if n > _MAX_CHUNK else body
            fl = flags if i + _MAX_CHUNK >= n else 0
            send((_HDR.pack(len(part), RESP_BODY, fl, 0, stream), part), _HS + len(part))
        if not more:
            self.done = True

    # -- the task -------------------------------------------------------------------

    async def run(self):
        w = self.worker
        stream = self.stream
        try:
            if w.pre_request is not None or w.post_request is not None:
                self.req = Request(self.scope)
                if w.pre_request is not None:
                    w.pre_request(w, self.req)
            w.nr += 1
            if w.nr >= w.max_requests:
                w.recycle()
            await w.asgi(self.scope, self.receive, self.send)
        except asyncio.CancelledError:
            if self.cancelled:
                w.log.debug("Request %s %s cancelled after the client went away",
                            self.scope.get("method"), self.scope.get("path"))
            else:
                self._fail("worker shutting down", None)
        except Exception as exc:
            self._fail("%s: %s" % (type(exc).__name__, exc), exc)
        else:
            if not self.cancelled and not self.done:
                if not self.started:
                    if self.status is None:
                        w.log.error("ASGI callable returned without starting response.")
                        self._send_error()
                    else:
                        # start without body: an empty body ends it.
                        self._body(b"", False)
                else:
                    w.log.error("ASGI callable returned without completing response.")
                    self._abort("ASGI callable returned without completing response")
        finally:
            if self.grace is not None:
                self.grace.cancel()
            w.finished(stream)
            if w.post_request is not None:
                try:
                    req = self.req or Request(self.scope)
                    w.post_request(w, req, req.environ(), _Response(self))
                except Exception:
                    w.log.exception("Exception in post_request hook")

    def _fail(self, reason, exc):
        w = self.worker
        if self.cancelled:
            w.log.debug("Request %s %s cancelled: %s", self.scope.get("method"),
                        self.scope.get("path"), reason)
            return
        if exc is not None:
            w.log.exception(ERROR_LOG)
        if self.done:
            return
        if self.started:
            self._abort(reason)
        else:
            self._send_error()

    def _send_error(self):
        body = ERROR_500_BODY
        plen = 4 + len(ERROR_500_HEAD) + len(body)
        self.started = self.done = True
        self.status = 500
        self.worker.send((_HDR_HL.pack(plen, RESPONSE, END, 0, self.stream,
                                       len(ERROR_500_HEAD)), ERROR_500_HEAD, body), plen + _HS)

    def _abort(self, reason):
        data = reason.encode("utf-8", "replace")[:4096]
        self.done = True
        self.worker.send((_HDR.pack(len(data), ABORT, END, 0, self.stream), data),
                         len(data) + _HS)


# -- the channel ----------------------------------------------------------------------

class _Channel(asyncio.BufferedProtocol):
    """Reads frames straight into the FrameReader's buffer."""

    def __init__(self, worker):
        self.worker = worker
        self.reader = worker.reader

    def connection_made(self, transport):
        transport.set_write_buffer_limits(high=HIGH_WATER)
        self.worker.transport = transport

    def get_buffer(self, sizehint):
        return self.reader.writable()

    def buffer_updated(self, nbytes):
        self.reader.commit(nbytes)
        try:
            self.worker.dispatch()
        except _wire.ProtocolError as e:
            self.worker.protocol_error(e)

    def eof_received(self):
        self.worker.channel_eof()
        return True  # keep the write side: in-flight streams may still answer

    def connection_lost(self, exc):
        self.worker.channel_lost(exc)

    def pause_writing(self):
        self.worker.paused = True

    def resume_writing(self):
        self.worker.resume()


class ASGIWorker(Worker):
    """``-k asgi`` (and the uvicorn worker names): ASGI 3/2 apps on one asyncio loop."""

    name = "asgi"
    multithread = False
    switched = False
    heartbeat = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reader = FrameReader()
        self.capacity = max(1, int(self.cfg.worker_connections or 1))
        self.loop = None
        self.transport = None
        self.asgi = None
        self.asgi_version = "3.0"
        self.state = {}
        self.streams = {}
        self.out = []
        self.out_n = 0
        self.flush_handle = None
        self.beat_handle = None
        self.paused = False
        self.drain_waiters = []
        self.lifespan = None
        self.stopping = None
        self.stop_how = None
        self.idle_waiter = None
        self.lost = None
        self.closed = False
        self.error = None
        self.grace = float(self._setting("asgi_disconnect_grace_period", 3) or 0)
        self.uvicorn = self.cfg.worker_class_str in UVICORN_CLASSES

    def _setting(self, name, default):
        try:
            v = getattr(self.cfg, name)
        except AttributeError:
            return default
        return default if v is None else v

    @classmethod
    def from_worker(cls, w):
        """The asgi worker that replaces a sync/gthread one whose app turned out ASGI."""
        new = cls(w.age, w.ppid, w.sock, w.app, w.timeout, w.cfg, w.log,
                  worker_id=w.worker_id)
        new.pid = w.pid
        new.tmp = w.tmp
        new.uvicorn = False
        new.switched = True  # the switch warning is the one line logged about it
        return new

    # -- boot -----------------------------------------------------------------------

    def init_process(self):
        for k, v in self.cfg.env.items():
            os.environ[k] = v
        random.seed()
        if self.cfg.threads and self.cfg.threads > 1 and not self.switched:
            self.log.warning("ASGI worker does not use threads configuration. "
                             "Use worker_connections instead.")
        self.setup_loop()
        self.init_signals()
        self.load_wsgi()
        self.cfg.post_worker_init(self)
        self.booted = True
        self.prepare()
        self.run()

    def setup_loop(self):
        if self.loop is not None:
            return
        mode = self._setting("asgi_loop", "auto")
        loop = None
        if mode in ("auto", "uvloop"):
            try:
                import uvloop
                loop = uvloop.new_event_loop()
                self.log.debug("Using uvloop event loop")
            except ImportError:
                if mode == "uvloop":
                    self.log.warning("uvloop not available, falling back to asyncio")
        if loop is None:
            loop = asyncio.new_event_loop()
            self.log.debug("Using asyncio event loop")
        asyncio.set_event_loop(loop)
        self.loop = loop

    def load_wsgi(self):
        app = self.app.wsgi()
        version = _app.asgi_version(app)
        if version is None:
            msg = ("Application %r is a WSGI app, but the asgi worker class serves ASGI "
                   "apps only. Use -k sync or -k gthread for a WSGI app (an ASGI app's "
                   "__call__ must be 'async def')." % (self.app.app_uri,))
            raise _app.AppImportError(msg)  # printed once by run_child, as gunicorn does
        self.wsgi = app
        self.asgi_version = version
        self.asgi = app if version == "3.0" else _asgi2_adapter(app)

    def prepare(self):
        # The hooks only: no WSGI environ here.
        cfg = self.cfg
        debug = self.log.error_log.isEnabledFor(logging.DEBUG)
        self.pre_request = None if cfg.is_default_hook("pre_request") and not debug \
            else cfg.pre_request
        self.post_request = None if cfg.is_default_hook("post_request") else cfg.post_request
        self.can_sendfile = False

    def init_signals(self):
        try:
            signal.set_wakeup_fd(-1)
        except (ValueError, OSError):
            pass
        for s in self.SIGNALS:
            signal.signal(s, signal.SIG_DFL)
        loop = self.loop
        loop.add_signal_handler(signal.SIGTERM, self.stop, "term")
        loop.add_signal_handler(signal.SIGINT, self.handle_quit_signal)
        loop.add_signal_handler(signal.SIGQUIT, self.handle_quit_signal)
        loop.add_signal_handler(signal.SIGUSR1, self.log.reopen_files)
        loop.add_signal_handler(signal.SIGWINCH, self.log.debug, "worker: SIGWINCH ignored.")
        # Not through the loop: SIGABRT comes when app code blocks the loop, and a
        # plain handler still runs between bytecodes there.
        signal.signal(signal.SIGABRT, self.handle_abort)

    def handle_quit_signal(self):
        self.alive = False
        self.cfg.worker_int(self)
        self.stop("quit")

    def send_hello(self):
        doc = {
            "pid": os.getpid(), "worker_id": self.worker_id, "runtime": RUNTIME,
            "python": "%d.%d.%d" % sys.version_info[:3],
            "app_kind": "asgi", "worker_class": self.name, "capacity": self.capacity,
            "heartbeat": self.heartbeat,
        }
        payload = _wire.encode_hello(doc)
        self.send((_HDR.pack(len(payload), _wire.HELLO, 0, 0, 0), payload), len(payload) + _HS)

    # -- the loop -------------------------------------------------------------------

    def run(self):
        self.setup_loop()
        loop = self.loop
        try:
            code = loop.run_until_complete(self._main())
        finally:
            self._cleanup()
        if self.error is not None:
            raise self.error
        if code:
            sys.exit(code)

    async def _main(self):
        from ._lifespan import Lifespan
        loop = self.loop
        self.stopping = loop.create_future()
        self.lost = loop.create_future()
        self.sock.setblocking(False)
        await loop.connect_accepted_socket(lambda: _Channel(self), sock=self.sock)

        mode = self._setting("asgi_lifespan", "auto")
        if mode != "off":
            ls = Lifespan(self.asgi, self.log, self.state, self.asgi_version)
            timeout = max(30.0, float(self.cfg.timeout or 0))
            outcome, message = await ls.startup(timeout)
            if outcome == "complete":
                self.lifespan = ls
            elif mode == "on" or (outcome == "failed" and self.uvicorn):
                # gunicorn logs and returns (exit 0, the master respawns the worker);
                # uvicorn's worker exits 3 so the master halts: "Worker failed to boot."
                self.log.error("ASGI lifespan startup failed: Lifespan startup failed: %s",
                               message)
                await self._close()
                return _app.WORKER_BOOT_ERROR if self.uvicorn else 0
            elif outcome == "failed":
                self.log.warning("ASGI lifespan startup failed, serving without lifespan "
                                 "(--asgi-lifespan auto): %s", message)
            else:
                self.log.debug("ASGI lifespan not supported by app: %s", message)

        if not self.stopping.done():  # INT/QUIT/EOF during startup: no HELLO
            self.send_hello()
            self._start_heartbeat()
        return await self._serve()

    def _start_heartbeat(self):
        # A loop callback: app code that blocks the loop (CPU work, time.sleep in an
        # async def) stops it, and Go aborts the worker after --timeout.
        interval = heartbeat_interval(self.cfg)
        if interval is not None:
            self.beat_handle = self.loop.call_later(interval, self._beat, interval)

    def _beat(self, interval):
        self.beat_handle = None
        if self.closed:
            return
        self.send_heartbeat()
        self.beat_handle = self.loop.call_later(interval, self._beat, interval)

    def dump_pending(self):
        loop = self.loop
        if loop is None:
            return
        by_task = {}
        for stream, c in list(self.streams.items()):
            if c.task is not None:
                sc = c.scope
                by_task[c.task] = "stream %d: %s %s" % (
                    stream, sc.get("method", sc.get("type", "?").upper()), sc.get("path"))
        dump_tasks(self.log, loop, by_task.get)

    async def _serve(self):
        how = await self.stopping
        if how != "quit":
            await self._wait_streams(float(self.cfg.graceful_timeout or 0))
        for c in list(self.streams.values()):
            if c.task is not None and not c.task.done():
                c.task.cancel()
        if self.streams:
            await asyncio.wait([c.task for c in self.streams.values() if c.task], timeout=1)
        if self.lifespan is not None and how != "quit":
            await self.lifespan.shutdown(max(1.0, float(self.cfg.graceful_timeout or 0)))
        await self._close()
        return 0

    async def _close(self):
        if self.beat_handle is not None:
            self.beat_handle.cancel()
            self.beat_handle = None
        self.flush()
        if self.transport is not None and not self.closed:
            self.transport.close()
            try:
                await asyncio.wait_for(asyncio.shield(self.lost), 5)
            except asyncio.TimeoutError:
                pass

    async def _wait_streams(self, timeout):
        if not self.streams:
            return
        self.idle_waiter = self.loop.create_future()
        try:
            await asyncio.wait_for(self.idle_waiter, timeout)
        except asyncio.TimeoutError:
            self.log.warning("Cancelling %d ASGI streams after the graceful timeout",
                             len(self.streams))
        self.idle_waiter = None

    def _cleanup(self):
        loop = self.loop
        try:
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for t in pending:
                t.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        except Exception as e:
            self.log.debug("Cleanup error: %s", e)
        finally:
            loop.close()

    def stop(self, how):
        if how == "term":
            self.alive = False
        s = self.stopping
        if s is not None and not s.done():
            self.stop_how = how
            s.set_result(how)
        elif how == "quit" and self.stop_how != "quit":
            # Quick stop while waiting gracefully: stop waiting.
            self.stop_how = how
            w = self.idle_waiter
            if w is not None and not w.done():
                w.set_result(None)

    def wake_if_idle(self):
        self.stop("term")

    # -- frames from Go -------------------------------------------------------------

    def dispatch(self):
        reader = self.reader
        streams = self.streams
        while True:
            f = reader.next_frame()
            if f is None:
                return
            typ, flags, stream, payload = f
            if typ == REQUEST:
                self.on_request(stream, flags, payload)
                continue
            c = streams.get(stream)
            if typ == REQ_BODY:
                if c is not None:
                    c.feed(bytes(payload), flags & END)
            elif typ == CANCEL:
                if c is not None:
                    c.cancel()
            elif typ == WINDOW:
                if c is not None and hasattr(c, "window"):
                    c.window(_U32.unpack_from(payload, 0)[0])
            elif typ == WS_MSG:
                if c is not None:
                    c.on_message(payload)
            elif typ == WS_CLOSE:
                if c is not None:
                    c.on_close(payload)
            else:
                raise _wire.unexpected_frame(typ, flags, stream, payload)

    def on_request(self, stream, flags, payload):
        hl = _U32.unpack_from(payload, 0)[0]
        # The head is a tuple in a fixed order (docs/protocol.md, "Request head (ASGI
        # kind)"): loading it and building the dict with constant keys costs a third
        # of loading a marshalled dict.
        (typ, version, method, scheme, path, raw_path, query, root_path, headers, client,
         server, subprotocols) = _loads(payload[4:4 + hl])
        if typ == "http":
            scope = {"type": "http",
                     "asgi": {"version": self.asgi_version, "spec_version": "2.4"},
                     "http_version": version, "method": method, "scheme": scheme,
                     "path": path, "raw_path": raw_path, "query_string": query,
                     "root_path": root_path, "headers": headers, "client": client,
                     "server": server, "state": self.state.copy(), "extensions": {}}
            first = bytes(payload[4 + hl:]) if len(payload) > 4 + hl else b""
            c = HTTPCycle(self, stream, scope, first, flags & END)
        else:
            from ._asgi_ws import WebSocketCycle
            scope = {"type": typ,
                     "asgi": {"version": self.asgi_version, "spec_version": "2.4"},
                     "http_version": version, "scheme": scheme, "path": path,
                     "raw_path": raw_path, "query_string": query, "root_path": root_path,
                     "headers": headers, "client": client, "server": server,
                     "subprotocols": subprotocols, "state": self.state.copy(),
                     "extensions": {}}
            c = WebSocketCycle(self, stream, scope)
        self.streams[stream] = c
        c.task = self.loop.create_task(c.run())

    def finished(self, stream):
        streams = self.streams
        streams.pop(stream, None)
        if not streams:
            w = self.idle_waiter
            if w is not None and not w.done():
                w.set_result(None)

    def channel_eof(self):
        # Go closed its end: nobody is left to answer, so every stream is cancelled.
        for c in list(self.streams.values()):
            c.cancel()
        self.stop("eof")

    def channel_lost(self, exc):
        self.closed = True
        self.transport = None
        self.out.clear()
        self.out_n = 0
        for c in list(self.streams.values()):
            c.cancel()
        self.resume()
        if self.lost is not None and not self.lost.done():
            self.lost.set_result(None)
        self.stop("eof")

    def protocol_error(self, e):
        self.error = e
        self.stop("quit")

    # -- frames to Go ---------------------------------------------------------------

    def send(self, bufs, total):
        """Queue whole frames; they leave together at the end of this loop iteration."""
        if self.closed:
            return
        self.out.extend(bufs)
        self.out_n += total
        if self.flush_handle is None:
            self.flush_handle = self.loop.call_soon(self.flush)

    def flush(self):
        self.flush_handle = None
        out = self.out
        if not out:
            return
        data = out[0] if len(out) == 1 else b"".join(out)
        out.clear()
        self.out_n = 0
        t = self.transport
        if t is not None and not self.closed:
            t.write(data)

    def send_fd(self, bufs, fd, total):
        raise NotImplementedError("the asgi worker does not send files with SENDFILE")

    async def drain(self):
        """Backpressure: wait while the transport holds more than HIGH_WATER bytes."""
        if self.out_n:
            if self.flush_handle is not None:
                self.flush_handle.cancel()
            self.flush()
        while self.paused and not self.closed:
            fut = self.loop.create_future()
            self.drain_waiters.append(fut)
            await fut

    def resume(self):
        self.paused = False
        waiters, self.drain_waiters = self.drain_waiters, []
        for f in waiters:
            if not f.done():
                f.set_result(None)
