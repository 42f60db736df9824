"""What every worker class shares: boot, signals, the WSGI request/response cycle.

A worker owns one channel socket to Go (docs/protocol.md, "Worker channel"). Go sends
REQUEST frames holding a marshal'ed CGI environ; the worker runs the app and answers
with RESPONSE / RESP_BODY / SENDFILE / ABORT frames. The classes in _sync.py and
_gthread.py decide how frames are read and how many requests run at once.

Texts and checks follow gunicorn (workers/base.py, http/wsgi.py, arbiter.spawn_worker)
so logs and error responses look the same to users.
"""

import array
import logging
import marshal
import os
import random
import re
import signal
import socket
import stat
import struct
import sys
import threading
import time
import traceback

from . import _app, _wire
from ._log import WSGIErrors
from ._server import NoWorkerTmp, WorkerTmp

RUNTIME = "gonicorn-python/1"
SERVER_SOFTWARE = "gonicorn/" + __import__("gonicorn_runtime").__version__

_HDR = struct.Struct("<IBBHI")
_HDR_HL = struct.Struct("<IBBHII")
_U32 = struct.Struct("<I")
_HDR_SIZE = _wire.HEADER_SIZE
_dumps = marshal.dumps
END = _wire.FLAG_END
REQUEST, REQ_BODY, MORE, CANCEL = _wire.REQUEST, _wire.REQ_BODY, _wire.MORE, _wire.CANCEL
RESPONSE, RESP_BODY, SENDFILE, ABORT = (_wire.RESPONSE, _wire.RESP_BODY, _wire.SENDFILE,
                                        _wire.ABORT)
# Largest body slice put in one frame; leaves room for a response head.
_MAX_CHUNK = _wire.MAX_PAYLOAD - (1 << 20)
_MIN_MORE = 64 * 1024
# Lists with more parts than this are streamed frame by frame (IOV_MAX is 1024).
_MAX_IOV = 1000

# Response checks, as gunicorn.http.wsgi / gunicorn.http.message.
TOKEN_RE = re.compile(r"[%s0-9a-zA-Z]+" % re.escape(r"!#$%&'*+-.^_`|~"))
HEADER_VALUE_RE = re.compile(r"[ \t\x21-\x7e\x80-\xff]*")
STATUS_RE = re.compile(r"[0-9]{3}(?: [ \t\x21-\x7e\x80-\xff]*)?")
# gunicorn drops these from app responses (Server and Date too: the server sets them).
HOP_HEADERS = frozenset("""connection keep-alive proxy-authenticate proxy-authorization
    te trailers transfer-encoding upgrade server date""".split())

_wsgi_log = logging.getLogger("gunicorn.http.wsgi")


class InvalidResponseHeader(ValueError):
    def __init__(self, hdr):
        self.hdr = hdr

    def __str__(self):
        return "Invalid response header from the application: %s" % self.hdr


class InvalidResponseHeaderName(ValueError):
    def __init__(self, hdr):
        self.hdr = hdr

    def __str__(self):
        return "Invalid response header name from the application: %s" % self.hdr


class ClientDisconnected(OSError):
    """Go cancelled the request (client gone or deadline passed)."""

    def __init__(self):
        super().__init__("request cancelled: the client went away or its deadline passed")


class ChannelClosed(BaseException):
    """The channel to Go is gone; the worker can only exit. BaseException so that an
    app's ``except Exception`` does not swallow it."""


def _error_page(status_int, reason, mesg=""):
    import html
    body = ("<html>\n  <head>\n    <title>%(reason)s</title>\n  </head>\n  <body>\n"
            "    <h1><p>%(reason)s</p></h1>\n    %(mesg)s\n  </body>\n</html>\n"
            % {"reason": reason, "mesg": html.escape(mesg)}).encode("latin-1")
    status = "%d %s" % (status_int, reason)
    headers = [("Connection", "close"), ("Content-Type", "text/html"),
               ("Content-Length", str(len(body)))]
    return marshal.dumps((status, headers), 2), body


ERROR_500_HEAD, ERROR_500_BODY = _error_page(500, "Internal Server Error")


# Apps send the same status lines and headers again and again: validate each distinct
# one once. Only exact str values are cached; the caches are cleared when they grow.
_STATUS_CACHE = {}
_HEADER_CACHE = {}
_CACHE_MAX = 4096
_H_PLAIN, _H_LENGTH, _H_DROP, _H_UPGRADE = range(4)


def _check_status(status):
    if type(status) is not str:
        if not isinstance(status, str):
            raise TypeError("%r is not a string" % (status,))
        status = str(status)
    if not STATUS_RE.fullmatch(status):
        raise ValueError("Invalid status %r" % status)
    code = int(status[:3])
    if len(_STATUS_CACHE) >= _CACHE_MAX:
        _STATUS_CACHE.clear()
    _STATUS_CACHE[status] = code
    return status, code


def _check_header(h):
    """Validate one header as gunicorn does: (kind, (name, value), content_length)."""
    name, value = h
    cacheable = type(name) is str and type(value) is str
    if type(name) is not str:
        if not isinstance(name, str):
            raise TypeError("%r is not a string" % (name,))
        name = str(name)
    if not TOKEN_RE.fullmatch(name):
        raise InvalidResponseHeaderName("%r" % name)
    if type(value) is not str:
        if not isinstance(value, str):
            raise TypeError("%r is not a string" % (value,))
        value = str(value)
    if not HEADER_VALUE_RE.fullmatch(value):
        raise InvalidResponseHeader("%r" % name)
    value = value.strip(" \t")
    lname = name.lower()
    if lname == "content-length":
        e = (_H_LENGTH, (name, value), int(value))
    elif lname in HOP_HEADERS:
        lvalue = value.lower()
        if lname == "connection" and lvalue == "upgrade":
            e = (_H_UPGRADE, (name, value), None)
        elif lname == "upgrade" and lvalue == "websocket":
            e = (_H_PLAIN, (name, value), None)
        else:
            e = (_H_DROP, None, None)
    else:
        e = (_H_PLAIN, (name, value), None)
    if cacheable and type(h) is tuple:
        if len(_HEADER_CACHE) >= _CACHE_MAX:
            _HEADER_CACHE.clear()
        _HEADER_CACHE[h] = e
    return e


class FileWrapper:
    """``wsgi.file_wrapper``: iterates blocks, or lets the worker hand the fd to Go."""

    def __init__(self, filelike, blksize=8192):
        self.filelike = filelike
        self.blksize = blksize
        if hasattr(filelike, "close"):
            self.close = filelike.close

    def __getitem__(self, key):
        data = self.filelike.read(self.blksize)
        if data:
            return data
        raise IndexError

    def __iter__(self):
        return self

    def __next__(self):
        data = self.filelike.read(self.blksize)
        if data:
            return data
        raise StopIteration


class Request:
    """The ``req`` of pre_request/post_request, with gunicorn Request's main fields."""

    def __init__(self, environ, body):
        self.environ = environ
        self.method = environ.get("REQUEST_METHOD", "GET")
        self.uri = uri = environ.get("RAW_URI", "")
        self.scheme = environ.get("wsgi.url_scheme", "http")
        if uri[:1] != "/" and "://" in uri:
            from urllib.parse import urlsplit
            parts = urlsplit(uri)
            path, query, frag = parts.path, parts.query, parts.fragment
        else:
            rest, _, frag = uri.partition("#")
            path, _, query = rest.partition("?")
        self.path = path or environ.get("PATH_INFO", "")
        self.query = query
        self.fragment = frag
        proto = environ.get("SERVER_PROTOCOL", "HTTP/1.1")
        try:
            major, minor = proto.split("/", 1)[1].split(".", 1)
            self.version = (int(major), int(minor))
        except (IndexError, ValueError):
            self.version = (1, 1)
        self.body = body
        self.trailers = []
        self.peer_addr = (environ.get("REMOTE_ADDR"), environ.get("REMOTE_PORT"))
        self.remote_addr = self.peer_addr

    @property
    def headers(self):
        out = []
        for k, v in self.environ.items():
            if k.startswith("HTTP_"):
                out.append((k[5:].replace("_", "-"), v))
            elif k in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                out.append((k.replace("_", "-"), v))
        return out

    def should_close(self):
        return False


class Input:
    """``wsgi.input``: the first body bytes from REQUEST, then pulls more with MORE."""

    __slots__ = ("_ex", "_buf", "_pos", "_eof")

    def __init__(self, ex, first, eof):
        self._ex = ex
        self._buf = first
        self._pos = 0
        self._eof = eof

    def _fetch(self, n):
        # Next bytes from Go, or b"" once the body is complete.
        if self._eof:
            return b""
        data = self._ex.fetch(n)
        if not data:
            self._eof = True
        return data

    def read(self, size=None):
        buf, pos = self._buf, self._pos
        if size is None or size < 0:
            parts = [buf[pos:]] if pos < len(buf) else []
            while True:
                data = self._fetch(_MIN_MORE)
                if not data:
                    break
                parts.append(data)
            self._buf, self._pos = b"", 0
            return b"".join(parts)
        avail = len(buf) - pos
        if avail >= size:
            self._pos = pos + size
            return buf[pos:pos + size]
        parts = [buf[pos:]]
        while avail < size:
            data = self._fetch(size - avail)
            if not data:
                break
            parts.append(data)
            avail += len(data)
        data = b"".join(parts)
        self._buf, self._pos = data[size:], 0
        return data[:size]

    def readline(self, size=None):
        if size is not None and size < 0:
            size = None
        while True:
            buf, pos = self._buf, self._pos
            limit = len(buf) if size is None else min(len(buf), pos + size)
            i = buf.find(b"\n", pos, limit)
            if i >= 0:
                self._pos = i + 1
                return buf[pos:i + 1]
            if limit - pos == size or self._eof:
                self._pos = limit
                return buf[pos:limit]
            data = self._fetch(_MIN_MORE if size is None else size - (len(buf) - pos))
            if data:
                self._buf, self._pos = buf[pos:] + data, 0

    def readlines(self, hint=None):
        lines = []
        total = 0
        while True:
            line = self.readline()
            if not line:
                break
            lines.append(line)
            total += len(line)
            if hint is not None and 0 < hint <= total:
                break
        return lines

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line

    def close(self):
        pass


class _EmptyInput(Input):
    """The body of every request without one: stateless, so one object serves all."""

    __slots__ = ()

    def __init__(self):
        self._ex = None
        self._buf = b""
        self._pos = 0
        self._eof = True

    def read(self, size=None):
        return b""

    def readline(self, size=None):
        return b""

    def readlines(self, hint=None):
        return []

    def __next__(self):
        raise StopIteration


_EMPTY_INPUT = _EmptyInput()


class Exchange:
    """One request on the channel: its body state and the response (gunicorn's ``resp``).

    Frames for a stream never interleave out of order, and nothing is sent for it
    once Go cancelled it.
    """

    # Class-level defaults: a new exchange only stores what differs (hot path).
    status = None
    status_code = None
    headers = None
    response_length = None
    sent = 0
    started = False
    done = False
    omit = False
    warned = False
    cancelled = False
    inbox = None
    asked = False
    upgrade = False

    def __init__(self, worker, stream, method, eof):
        self.worker = worker
        self.stream = stream
        self.method = method
        self.eof = eof
        if method == "HEAD":
            self.omit = True

    # -- body (Go -> worker) --------------------------------------------------------

    def feed(self, data, end):
        """Called by the frame reader for REQ_BODY frames of this stream."""
        if self.inbox is None:
            self.inbox = []
        if data:
            self.inbox.append(data)
        self.asked = False
        if end:
            self.eof = True

    def fetch(self, n):
        """Return the next body bytes (asking Go with MORE if needed), b"" at the end."""
        worker = self.worker
        while True:
            if self.cancelled:
                raise ClientDisconnected()
            if self.inbox:
                return self.inbox.pop(0)
            if self.eof:
                return b""
            if not self.asked:
                # Go answers each MORE with at least one REQ_BODY frame, possibly with
                # fewer bytes than granted; ask again once that answer is used up.
                self.asked = True
                n = max(n, _MIN_MORE)
                worker.send((_HDR.pack(4, MORE, 0, 0, self.stream), _U32.pack(n)),
                            _HDR_SIZE + 4)
            worker.wait_body(self)

    # -- response (worker -> Go) ----------------------------------------------------

    @property
    def headers_sent(self):
        return self.started

    def start_response(self, status, headers, exc_info=None):
        if exc_info:
            try:
                if self.status and self.started:
                    raise exc_info[1].with_traceback(exc_info[2])
            finally:
                exc_info = None
        elif self.status is not None:
            raise AssertionError("Response headers already set!")

        code = _STATUS_CACHE.get(status) if type(status) is str else None
        if code is None:
            status, code = _check_status(status)
        self.status = status
        self.status_code = code

        out = []
        length = None
        cache = _HEADER_CACHE
        for h in headers:
            e = cache.get(h) if type(h) is tuple else None
            if e is None:
                e = _check_header(h)
            kind = e[0]
            if kind == _H_PLAIN:
                out.append(e[1])
            elif kind == _H_LENGTH:
                out.append(e[1])
                length = e[2]
            elif kind == _H_UPGRADE:
                out.append(e[1])
                self.upgrade = True
        if code in (204, 304) or code < 200:
            self.omit = True
            if code == 204 or code < 200:
                out = [(k, v) for k, v in out if k.lower() != "content-length"]
                length = None
        self.response_length = length
        self.headers = out
        return self.write

    def early_hints(self, headers):
        """``environ['wsgi.early_hints'](headers)``: a 103 Early Hints response now.

        Ignored once the response started, as gunicorn does; headers are checked
        like start_response's.
        """
        if self.started or self.cancelled:
            return
        out = [_check_header(h)[1] for h in headers]
        head = marshal.dumps(("103 Early Hints", out), 2)
        self.worker.send((_HDR.pack(len(head), _wire.INFO, 0, 0, self.stream), head),
                         _HDR_SIZE + len(head))

    def write(self, data):
        """The ``write()`` callable of start_response (also used for each chunk)."""
        if type(data) is not bytes:
            raise TypeError("%r is not a byte" % (data,))
        if self.cancelled:
            raise ClientDisconnected()
        self._emit(data)
        self.worker.poll(self)

    def _head(self):
        if self.status is None:
            raise AssertionError(
                "The application did not call start_response() before returning a body")
        return marshal.dumps((self.status, self.headers), 2)

    def _emit(self, data):
        if self.omit:
            if data and not self.warned:
                _wsgi_log.warning(
                    "WSGI app sent body bytes on a no-body response "
                    "(method=%s status=%s); dropping per RFC 9110.",
                    self.method, self.status_code)
                self.warned = True
            if self.status is None:
                raise AssertionError("write() before start_response()")
            return
        n = len(data)
        if self.response_length is not None:
            left = self.response_length - self.sent
            if n > left:
                if left <= 0 and self.started:
                    return
                data = data[:left]
                n = left
        if not self.started:
            head = self._head()
            hl = len(head)
            if n > _MAX_CHUNK:
                self._send_response(head, b"", 0)
                self._emit(data)
                return
            self.started = True
            self.sent = n
            plen = 4 + hl + n
            self.worker.send((_HDR_HL.pack(plen, RESPONSE, 0, 0, self.stream, hl), head, data),
                             plen + _HDR_SIZE)
            return
        if not n:
            return
        self.sent += n
        send = self.worker.send
        stream = self.stream
        for i in range(0, n, _MAX_CHUNK):
            part = data[i:i + _MAX_CHUNK]
            send((_HDR.pack(len(part), RESP_BODY, 0, 0, stream), part), len(part) + _HDR_SIZE)

    def _send_response(self, head, body, flags):
        hl = len(head)
        plen = 4 + hl + len(body)
        self.started = True
        self.sent += len(body)
        self.worker.send((_HDR_HL.pack(plen, RESPONSE, flags, 0, self.stream, hl), head, body),
                         plen + _HDR_SIZE)
        if flags:
            self.done = True

    def send_seq(self, seq):
        """Send a list/tuple result: one frame with END when it fits, else stream it."""
        if self.cancelled:
            return
        if len(seq) == 1 and not (self.started or self.omit):
            body = seq[0]
            if type(body) is bytes:
                n = len(body)
                rl = self.response_length
                if n <= _MAX_CHUNK and (rl is None or n <= rl):
                    status = self.status
                    if status is None:
                        self._head()  # raises: start_response was not called
                    head = _dumps((status, self.headers), 2)
                    hl = len(head)
                    plen = 4 + hl + n
                    self.started = self.done = True
                    self.sent = n
                    self.worker.send((_HDR_HL.pack(plen, RESPONSE, END, 0, self.stream, hl),
                                      head, body), plen + _HDR_SIZE)
                    return
        if not self.started and not self.omit and len(seq) <= _MAX_IOV:
            total = 0
            for item in seq:
                if type(item) is not bytes:
                    raise TypeError("%r is not a byte" % (item,))
                total += len(item)
            if total <= _MAX_CHUNK and (self.response_length is None
                                        or total <= self.response_length):
                head = self._head()
                hl = len(head)
                plen = 4 + hl + total
                self.started = self.done = True
                self.sent = total
                self.worker.send((_HDR_HL.pack(plen, RESPONSE, END, 0, self.stream, hl), head)
                                 + tuple(seq), plen + _HDR_SIZE)
                return
        for item in seq:
            if type(item) is not bytes:
                raise TypeError("%r is not a byte" % (item,))
            self._emit(item)
        self.finish()

    def send_iter(self, it):
        poll = self.worker.poll
        emit = self._emit
        for item in it:
            if type(item) is not bytes:
                raise TypeError("%r is not a byte" % (item,))
            length = self.response_length
            if (not self.started and length is not None and len(item) >= length
                    and not self.omit and length <= _MAX_CHUNK):
                # A framework response (Flask, Django) is an iterable whose first chunk
                # holds the whole Content-Length: one frame with END, not a head frame
                # and a body frame (half the writes on both sides). Bytes past the
                # Content-Length are never sent, so iteration stops here.
                self._send_response(self._head(), item[:length], END)
                return
            emit(item)
            if self.started:
                # A streaming app (SSE) must notice a client that left.
                poll(self)
            if self.cancelled:
                return
        self.finish()

    def send_file(self, wrapper):
        """SENDFILE for a regular file with a real fd; False if it must be iterated."""
        filelike = wrapper.filelike
        try:
            fd = filelike.fileno()
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return False
            offset = filelike.tell() if hasattr(filelike, "tell") else os.lseek(fd, 0, os.SEEK_CUR)
        except (AttributeError, OSError, ValueError, Exception):
            return False
        if self.cancelled:
            return True
        if self.omit:
            self.finish()
            return True
        head = self._head()
        count = _wire.SENDFILE_TO_END
        if self.response_length is not None:
            count = max(0, self.response_length - self.sent)
        self._send_response(head, b"", 0)
        payload = _wire.encode_sendfile(offset, count)
        self.worker.send_fd((_HDR.pack(16, SENDFILE, END, 0, self.stream), payload),
                            fd, _HDR_SIZE + 16)
        self.done = True
        return True

    def finish(self):
        if self.cancelled or self.done:
            return
        if not self.started:
            self._send_response(self._head(), b"", END)
        else:
            self.done = True
            self.worker.send((_HDR.pack(0, RESP_BODY, END, 0, self.stream),), _HDR_SIZE)

    def send_error(self, head=ERROR_500_HEAD, body=ERROR_500_BODY):
        if not self.cancelled and not self.started:
            self._send_response(head, body, END)

    def abort(self, reason):
        if self.cancelled or self.done:
            return
        data = reason.encode("utf-8", "replace")[:4096]
        self.done = True
        self.worker.send((_HDR.pack(len(data), ABORT, END, 0, self.stream), data),
                         len(data) + _HDR_SIZE)


def make_fail_app(msg):
    """gunicorn's util.make_fail_app: a text/plain 500 holding ``msg`` for any request."""
    msg = msg.encode("utf-8") if isinstance(msg, str) else msg

    def app(environ, start_response):
        start_response("500 Internal Server Error", [
            ("Content-Type", "text/plain"),
            ("Content-Length", str(len(msg))),
        ])
        return [msg]

    return app


def dump_stacks(log, why):
    """Log the Python stack of every thread (what a timed-out worker was doing)."""
    names = {t.ident: t.name for t in threading.enumerate()}
    parts = []
    for ident, frame in sys._current_frames().items():
        parts.append("Thread %s (ident %d), most recent call last:\n%s"
                     % (names.get(ident, "?"), ident, "".join(traceback.format_stack(frame))))
    log.error("%s (pid: %s). Stack of every thread:\n%s", why, os.getpid(), "\n".join(parts))


def heartbeat_interval(cfg):
    """Seconds between HEARTBEAT frames, or None when --timeout is 0 (no heartbeat).

    Half the timeout, as gunicorn's workers notify, so one late beat is not a kill."""
    try:
        timeout = float(cfg.timeout or 0)
    except (TypeError, ValueError):
        return None
    if timeout <= 0:
        return None
    return max(timeout / 2.0, 0.5)


HEARTBEAT_FRAME = _HDR.pack(0, _wire.HEARTBEAT, 0, 0, 0)


def _coro_frames(coro):
    """The frames of a suspended (or running) coroutine chain, outermost first.

    Task.get_stack() shows only the task's own coroutine; following cr_await shows the
    line deep in the app where it waits (or runs)."""
    frames = []
    seen = 0
    while coro is not None and seen < 100:
        seen += 1
        f = (getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None)
             or getattr(coro, "ag_frame", None))
        if f is None:
            break
        frames.append(f)
        coro = (getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
                or getattr(coro, "ag_await", None))
    return frames


def format_frames(frames):
    return "".join(traceback.format_list(
        traceback.StackSummary.extract((f, f.f_lineno) for f in frames)))


def dump_tasks(log, loop, label=None):
    """Log the stack of every unfinished asyncio task of ``loop`` (a timed-out asyncio
    worker: the thread stack shows only the loop, the task stacks show the app).

    ``label(task)`` may name the request a task serves."""
    import asyncio
    try:
        tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    except Exception as e:
        log.error("Could not list the asyncio tasks: %s", e)
        return
    parts = []
    for t in tasks:
        head = None
        if label is not None:
            try:
                head = label(t)
            except Exception:
                head = None
        try:
            name = t.get_name()
        except AttributeError:
            name = "?"
        stack = format_frames(_coro_frames(t.get_coro())) or "  (no frames)\n"
        parts.append("Task %s%s, most recent call last:\n%s"
                     % (name, " serving " + head if head else "", stack))
    log.error("Worker aborted (pid: %s). Stack of every pending asyncio task (%d):\n%s",
              os.getpid(), len(parts), "\n".join(parts))


class Worker:
    """Base worker: the ``worker`` hooks see, plus the shared request cycle."""

    SIGNALS = [getattr(signal, "SIG%s" % x) for x in
               "ABRT HUP QUIT INT TERM USR1 USR2 WINCH CHLD".split()]
    name = "sync"  # the execution model served, reported in HELLO
    capacity = 1
    multithread = False
    # Whether the main loop sends HEARTBEAT (HELLO says so). sync does not: its one
    # thread runs the app, so it is silent for a whole request by design.
    heartbeat = False

    def __init__(self, age, ppid, sock, app, timeout, cfg, log, worker_id=None):
        self.age = age
        self.pid = "[booting]"
        self.ppid = ppid
        self.sockets = []
        self.sock = sock
        self.app = app
        self.timeout = timeout
        self.cfg = cfg
        self.log = log
        self.booted = False
        self.aborted = False
        self.alive = True
        self.nr = 0
        self.worker_id = worker_id if worker_id is not None else age
        try:
            self.tmp = WorkerTmp(cfg)
        except Exception as e:  # raised in the forked child, as its boot error
            self.tmp = NoWorkerTmp(e)
        self.wsgi = None
        self.reloader = None
        self._reload_file = None
        self._recycle_pending = None
        self.recycled = False
        self.reader = _wire.FrameReader()
        if cfg.max_requests > 0:
            self.max_requests = cfg.max_requests + random.randint(0, cfg.max_requests_jitter)
        else:
            self.max_requests = sys.maxsize

    def __str__(self):
        return "<Worker %s>" % self.pid

    def notify(self):
        self.tmp.notify()

    # -- boot -----------------------------------------------------------------------

    def init_process(self):
        """gunicorn's Worker.init_process: env, signals, app, post_worker_init, run."""
        for k, v in self.cfg.env.items():
            os.environ[k] = v
        random.seed()
        self.init_signals()
        self.setup_reloader()
        self.load_wsgi()
        self.start_reloader()
        self.cfg.post_worker_init(self)
        self.booted = True
        self.prepare()
        self.send_hello()
        self.run()

    def load_wsgi(self):
        try:
            self.wsgi = self.app.wsgi()
        except SyntaxError as e:
            if not self.cfg.reload:
                raise
            # gunicorn keeps a worker with a broken app up while reloading: every
            # client gets the traceback until the file is fixed.
            self.log.exception(e)
            if self.reloader is not None and e.filename is not None:
                self.reloader.add_extra_file(e.filename)
            self.wsgi = make_fail_app("".join(traceback.format_exception(e)))

    # -- reload ---------------------------------------------------------------------

    def setup_reloader(self):
        """gunicorn's reloader set-up in init_process; the thread starts after the
        app is loaded (start_reloader)."""
        if not self.cfg.reload or self.reloader is not None:
            return
        from ._reloader import reloader_engines
        self.log.warning("Reloader is on. Use in development only!")
        reloader_cls = reloader_engines[self.cfg.reload_engine or "auto"]
        self.reloader = reloader_cls(extra_files=self.cfg.reload_extra_files,
                                     callback=self.reload_changed)

    def start_reloader(self):
        if self.reloader is not None and not self.reloader.is_alive():
            self.reloader.start()

    def reload_changed(self, fname):
        """Reloader thread: a watched file changed. Log, run worker_int, then ask Go
        for a replacement (RECYCLE); Go stops sending, and this worker finishes what
        it holds and exits 0 when Go ends it, as gunicorn's reloading worker does."""
        if self._reload_file is not None:
            return
        self._reload_file = fname
        self.log.info("Worker reloading: %s modified", fname)
        # Unlike gunicorn, alive stays True: Go may have sent requests before it
        # reads RECYCLE, and it sends TERM once this worker has none left.
        self.reloader.stopped = True
        try:
            self.cfg.worker_int(self)
        except Exception:
            self.log.exception("Exception in worker_int hook")
        self.request_recycle("reload")

    def request_recycle(self, reason):
        """From any thread: send RECYCLE where frames may leave without tearing one."""
        if hasattr(self, "loop"):
            # asyncio-based classes: frames leave from the loop's thread.
            for _ in range(100):
                loop = self.loop
                if loop is not None:
                    loop.call_soon_threadsafe(self.recycle, reason)
                    return
                time.sleep(0.1)
        if getattr(self, "wlock", None) is not None:
            self.recycle(reason)  # gthread, gevent, eventlet: sends are serialized
            return
        # sync: only the main thread sends. A running request sends it when it ends
        # (handle); an idle worker blocked in recv is nudged with SIGWINCH, whose
        # handler sends it there. Only idle workers are signalled, so app code in a
        # request never sees EINTR from this.
        self._recycle_pending = reason
        main = threading.main_thread().ident
        while not self.recycled:
            if getattr(self, "_idle", False):
                try:
                    signal.pthread_kill(main, signal.SIGWINCH)
                except (OSError, ValueError):
                    return
            time.sleep(0.2)

    def _recycle_if_pending(self):
        reason = self._recycle_pending
        if reason is not None and not self.recycled:
            try:
                self.recycle(reason)
            except ChannelClosed:
                self.alive = False
                self._shutdown_read()

    def init_signals(self):
        try:
            signal.set_wakeup_fd(-1)
        except (ValueError, OSError):
            pass
        for s in self.SIGNALS:
            signal.signal(s, signal.SIG_DFL)
        signal.signal(signal.SIGQUIT, self.handle_quit)
        signal.signal(signal.SIGTERM, self.handle_exit)
        signal.signal(signal.SIGINT, self.handle_quit)
        signal.signal(signal.SIGWINCH, self.handle_winch)
        signal.signal(signal.SIGUSR1, self.handle_usr1)
        signal.signal(signal.SIGABRT, self.handle_abort)
        # Unlike gunicorn, TERM and USR1 interrupt system calls: an idle worker is
        # blocked in recv, and only EINTR lets the Python handler run there. PEP 475
        # retries the call afterwards, and send() copes with partial writes.

    def prepare(self):
        cfg = self.cfg
        self.base_env = {
            "wsgi.errors": WSGIErrors(cfg),
            "wsgi.version": (1, 0),
            "wsgi.multithread": self.multithread,
            "wsgi.multiprocess": cfg.workers > 1,
            "wsgi.run_once": False,
            "wsgi.file_wrapper": FileWrapper,
            "wsgi.input_terminated": True,
            "SERVER_SOFTWARE": SERVER_SOFTWARE,
        }
        debug = self.log.error_log.isEnabledFor(logging.DEBUG)
        self.pre_request = None if cfg.is_default_hook("pre_request") and not debug \
            else cfg.pre_request
        self.post_request = None if cfg.is_default_hook("post_request") else cfg.post_request
        self.can_sendfile = cfg.sendfile is not False and not cfg.is_ssl

    def send_hello(self):
        doc = {
            "pid": os.getpid(), "worker_id": self.worker_id, "runtime": RUNTIME,
            "python": "%d.%d.%d" % sys.version_info[:3],
            "app_kind": _app.app_kind(self.wsgi), "worker_class": self.name,
            "capacity": self.capacity, "heartbeat": self.heartbeat,
        }
        payload = _wire.encode_hello(doc)
        self.send((_HDR.pack(len(payload), _wire.HELLO, 0, 0, 0), payload),
                  len(payload) + _HDR_SIZE)

    # -- signals --------------------------------------------------------------------

    def handle_usr1(self, sig, frame):
        self.log.reopen_files()

    def handle_exit(self, sig, frame):
        self.alive = False
        self.wake_if_idle()

    def handle_quit(self, sig, frame):
        self.alive = False
        self.cfg.worker_int(self)
        time.sleep(0.1)
        # If the SystemExit lands in a finalizer it is swallowed; ending the read side
        # still makes the loop stop.
        self._shutdown_read()
        sys.exit(0)

    def handle_abort(self, sig, frame):
        self.alive = False
        self.aborted = True
        self.cfg.worker_abort(self)
        dump_stacks(self.log, "Worker aborted")
        try:
            self.dump_pending()
        except Exception:
            self.log.exception("Could not log the stacks of pending requests")
        sys.exit(1)

    def dump_pending(self):
        """Overridden: log the stacks the thread dump does not show (asyncio tasks,
        greenlets), so the user sees which request's code hung."""

    def send_heartbeat(self):
        """One HEARTBEAT, through the class's serialised send path."""
        self.send((HEARTBEAT_FRAME,), _HDR_SIZE)

    def handle_winch(self, sig, fname):
        if self._recycle_pending is not None:
            # The reloader's nudge. While idle (blocked in recv) no frame is half
            # sent, so RECYCLE may leave from here; otherwise handle() sends it.
            if getattr(self, "_idle", False):
                self._recycle_if_pending()
            return
        self.log.debug("worker: SIGWINCH ignored.")

    def wake_if_idle(self):
        """Overridden: make a blocked channel read return so the loop sees alive=False."""

    def _shutdown_read(self):
        try:
            self.sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass

    # -- channel output -------------------------------------------------------------

    def send(self, bufs, total):
        try:
            n = self.sock.sendmsg(bufs)
        except OSError as e:
            raise ChannelClosed("worker channel closed while sending: %s" % e) from None
        if n != total:
            self._send_rest(bufs, n)

    def _send_rest(self, bufs, n):
        data = b"".join(bytes(b) for b in bufs)[n:]
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise ChannelClosed("worker channel closed while sending: %s" % e) from None

    def send_fd(self, bufs, fd, total):
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))]
        try:
            n = self.sock.sendmsg(bufs, anc)
        except OSError as e:
            raise ChannelClosed("worker channel closed while sending: %s" % e) from None
        if n != total:
            self._send_rest(bufs, n)

    def recycle(self, reason="max_requests"):
        """max_requests reached (or a reload): tell Go, and keep serving until Go says TERM.

        Go may have written requests before it read RECYCLE (a sync worker has a spare
        slot); they are answered. Go stops routing here, then sends TERM once the last
        one is done, so exiting on our own could only lose a request.
        """
        if self.recycled:
            return
        self.recycled = True
        if reason == "max_requests":
            self.log.info("Autorestarting worker after current request.")
        payload = _wire.encode_json({"reason": reason})
        self.send((_HDR.pack(len(payload), _wire.RECYCLE, 0, 0, 0), payload),
                  len(payload) + _HDR_SIZE)

    # -- the request cycle ----------------------------------------------------------

    def new_exchange(self, stream, flags, payload):
        """Decode a REQUEST payload into (exchange, environ)."""
        hl = _U32.unpack_from(payload, 0)[0]
        environ = marshal.loads(payload[4:4 + hl])
        environ.pop("gonicorn.body", None)
        environ.update(self.base_env)
        eof = flags & END
        ex = Exchange(self, stream, environ["REQUEST_METHOD"], eof)
        environ["wsgi.early_hints"] = ex.early_hints
        if eof and len(payload) == 4 + hl:
            environ["wsgi.input"] = _EMPTY_INPUT
        else:
            environ["wsgi.input"] = Input(ex, bytes(payload[4 + hl:]), eof)
        return ex, environ

    def handle(self, ex, environ):
        req = None
        respiter = None
        try:
            if self.pre_request is not None or self.post_request is not None:
                req = Request(environ, environ["wsgi.input"])
                if self.pre_request is not None:
                    self.pre_request(self, req)
            self.nr += 1
            if self.nr >= self.max_requests:
                self.recycle()
            respiter = self.wsgi(environ, ex.start_response)
            try:
                t = type(respiter)
                if t is list or t is tuple:
                    ex.send_seq(respiter)
                elif t is FileWrapper and self.can_sendfile and ex.send_file(respiter):
                    pass
                else:
                    ex.send_iter(respiter)
            finally:
                if hasattr(respiter, "close"):
                    respiter.close()
        except ChannelClosed:
            raise
        except (Exception, SystemExit) as exc:
            self.handle_error(ex, environ, exc)
            # After a timeout abort gunicorn answers 500 and lets the loop end
            # (alive is False): the worker exits 0. Any other SystemExit ends it.
            if isinstance(exc, SystemExit) and not self.aborted:
                raise
        finally:
            if self.post_request is not None:
                try:
                    if req is None:
                        req = Request(environ, environ["wsgi.input"])
                    self.post_request(self, req, environ, ex)
                except Exception:
                    self.log.exception("Exception in post_request hook")
            if self._recycle_pending is not None:
                self._recycle_if_pending()

    def handle_error(self, ex, environ, exc):
        if ex.cancelled:
            self.log.debug("Request %s %s cancelled: %s", environ.get("REQUEST_METHOD"),
                           environ.get("RAW_URI"), exc)
            return
        try:
            if ex.started:
                self.log.exception("Error handling request")
                ex.abort("%s: %s" % (type(exc).__name__, exc))
            else:
                self.log.exception("Error handling request %s %s",
                                   environ.get("REQUEST_METHOD"), environ.get("RAW_URI"))
                ex.send_error()
        except ChannelClosed:
            raise
        except Exception:
            self.log.debug("Failed to send error message.")

    # Overridden by worker classes.
    def wait_body(self, ex):
        raise NotImplementedError

    def poll(self, ex):
        pass

    def run(self):
        raise NotImplementedError
