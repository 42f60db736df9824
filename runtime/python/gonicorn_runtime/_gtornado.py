"""The tornado worker, and the asyncio channel it shares with the aiohttp worker.

``AsyncWorker`` runs an asyncio loop in the worker: the channel socket is non-blocking,
read by a loop reader callback that hands each frame to its stream object, and written
through an ordered outbox (frames never split or reorder; a writer callback drains what
the kernel did not take). The outbox size drives flow control: write futures and
``pause_writing`` wait for it to drain.

``TornadoWorker`` serves ``tornado.web.Application`` apps (any
``HTTPServerConnectionDelegate``) and, as gunicorn's tornado worker does, wraps every
other callable in ``tornado.wsgi.WSGIContainer``. Each REQUEST becomes tornado's
message-delegate calls (``headers_received``, ``data_received``, ``finish``) on
``HTTPServer.start_request``'s delegate; the connection object handed to tornado
turns ``write_headers``/``write``/``finish`` into RESPONSE/RESP_BODY frames. Request
bodies are pulled with MORE one delegate chunk at a time, so a ``stream_request_body``
handler sees them as they come.

WebSocket handlers of both frameworks speak RFC 6455 themselves, over a ``Tunnel``
(docs/protocol.md, "Tunnels"): when Go offers one (``gonicorn.tunnel`` in the head) and
the app answers 101, the connection's raw bytes pass both ways in REQ_BODY/RESP_BODY
frames, with MORE as the credit for client bytes and WINDOW for the app's. tornado gets
them from ``detach()`` as a ``TunnelIOStream``.

No tornado import at module level: _boot imports this module in the zygote.
"""

import array
import asyncio
import collections
import marshal
import os
import random
import socket
import struct
import sys

from . import _wire
from ._ggevent import need_package
from ._worker import (Worker, ChannelClosed, HOP_HEADERS, END, REQUEST, REQ_BODY, CANCEL,
                      MORE, RESPONSE, RESP_BODY, ABORT, ERROR_500_HEAD, ERROR_500_BODY,
                      RUNTIME, dump_tasks, heartbeat_interval)

WINDOW = _wire.WINDOW

_HDR = struct.Struct("<IBBHI")
_HDR_HL = struct.Struct("<IBBHII")
_U32 = struct.Struct("<I")
_HDR_SIZE = _wire.HEADER_SIZE
_MAX_CHUNK = _wire.MAX_PAYLOAD - (1 << 20)
MORE_SIZE = 64 * 1024
# Outbox levels for flow control: writers wait above HIGH until it is below LOW.
HIGH_WATER = 1 << 20
LOW_WATER = 256 * 1024
# Tunnels (docs/protocol.md): the client bytes a tunnel takes before it gives credit back
# with MORE, and the window Go opens each tunnel with.
TUNNEL_CREDIT = 256 * 1024
TUNNEL_WINDOW = 1 << 20
# The hop-by-hop headers an upgrade needs: kept in a tunnel's request and in its 101.
UPGRADE_HEADERS = frozenset(("connection", "upgrade"))


def environ_headers(environ):
    """(name, value) pairs of the request headers in a WSGI environ, in wire case."""
    out = []
    for k, v in environ.items():
        if k[:5] == "HTTP_":
            out.append((k[5:].replace("_", "-").title(), v))
        elif k == "CONTENT_TYPE":
            out.append(("Content-Type", v))
        elif k == "CONTENT_LENGTH":
            out.append(("Content-Length", v))
    return out


class AsyncWorker(Worker):
    """A worker whose requests run on an asyncio loop; subclasses own the streams.

    ``streams`` maps a stream id to an object with ``on_body(data, end)`` and
    ``on_cancel()``. A subclass sets it up in ``setup()`` (a coroutine, run before
    HELLO) and starts each REQUEST in ``start_stream(stream, flags, payload)``.
    """

    name = "asyncio"
    package = None
    heartbeat = True
    # An aiohttp app factory is a coroutine function: _boot must not mistake it for an
    # ASGI app and swap in the asgi worker.
    loads_app_itself = True
    requires = None   # packages the class needs; default (package,)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.capacity = max(1, int(self.cfg.worker_connections or 1))
        self.streams = {}
        self.loop = None
        self.done = None
        self.dead = False
        self.out = collections.deque()   # [bytes, fd or -1] not yet sent
        self.out_size = 0
        self.drain_waiters = []
        self.beat = None

    # -- boot -----------------------------------------------------------------------

    def init_process(self):
        """gunicorn's order, with the app's async setup (app factories) before HELLO
        so that a factory that fails counts as a boot failure."""
        for k, v in self.cfg.env.items():
            os.environ[k] = v
        random.seed()
        for pkg in self.requires or (self.package,):
            need_package(self, pkg)
        self.init_signals()
        self.setup_reloader()
        self.loop = self.new_loop()
        asyncio.set_event_loop(self.loop)
        self.load_wsgi()
        self.loop.run_until_complete(self.setup())
        self.start_reloader()
        self.cfg.post_worker_init(self)
        self.booted = True
        self.prepare()
        self.sock.setblocking(False)
        self.send_hello()
        self.run()

    def new_loop(self):
        return asyncio.new_event_loop()

    async def setup(self):
        pass

    async def cleanup(self):
        pass

    def send_hello(self):
        # Go sends this worker WSGI-kind heads whatever the app looks like (an
        # aiohttp app factory is a coroutine function, not an ASGI app).
        doc = {
            "pid": os.getpid(), "worker_id": self.worker_id, "runtime": RUNTIME,
            "python": "%d.%d.%d" % sys.version_info[:3], "app_kind": "wsgi",
            "worker_class": self.name, "capacity": self.capacity,
            "heartbeat": self.heartbeat,
        }
        payload = _wire.encode_hello(doc)
        self.send((_HDR.pack(len(payload), _wire.HELLO, 0, 0, 0), payload),
                  len(payload) + _HDR_SIZE)

    def run(self):
        loop = self.loop
        self.done = loop.create_future()
        loop.add_reader(self.sock.fileno(), self._on_readable)
        # A loop callback: app code that blocks the loop stops it, and Go aborts the
        # worker after --timeout.
        interval = heartbeat_interval(self.cfg)
        if interval is not None:
            self.beat = loop.call_later(interval, self._beat, interval)
        try:
            loop.run_until_complete(self.done)
        finally:
            if self.beat is not None:
                self.beat.cancel()
                self.beat = None
            try:
                loop.remove_reader(self.sock.fileno())
                if self.out and not self.dead:
                    self.sock.setblocking(True)
                    self._flush_blocking()
                for st in list(self.streams.values()):
                    st.on_cancel()
                self.streams.clear()
                loop.run_until_complete(self.cleanup())
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

    def _beat(self, interval):
        self.beat = None
        if self.dead or self.done is None or self.done.done():
            return
        try:
            self.send_heartbeat()
        except ChannelClosed:
            self.stop()
            return
        self.beat = self.loop.call_later(interval, self._beat, interval)

    def dump_pending(self):
        if self.loop is not None:
            dump_tasks(self.log, self.loop)

    def stop(self):
        if self.done is not None and not self.done.done():
            self.done.set_result(None)

    def wake_if_idle(self):
        if not self.streams:
            self._shutdown_read()

    # -- channel input --------------------------------------------------------------

    def _on_readable(self):
        reader = self.reader
        try:
            n = self.sock.recv_into(reader.writable())
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            n = 0
        if not n:
            # Go closed the channel (or TERM shut the idle read side).
            self.loop.remove_reader(self.sock.fileno())
            self.stop()
            return
        reader.commit(n)
        streams = self.streams
        try:
            for typ, flags, stream, payload in reader:
                if typ == REQUEST:
                    self.nr += 1
                    if self.nr >= self.max_requests:
                        self.recycle()
                    self.start_stream(stream, flags, payload)
                elif typ == REQ_BODY:
                    st = streams.get(stream)
                    if st is not None:
                        st.on_body(bytes(payload), flags & END)
                elif typ == CANCEL:
                    st = streams.pop(stream, None)
                    if st is not None:
                        st.on_cancel()
                        self.stream_done(stream)
                elif typ == WINDOW:
                    st = streams.get(stream)
                    n = _wire.parse_window(payload)
                    if st is not None:
                        st.on_window(n)
                else:
                    raise _wire.unexpected_frame(typ, flags, stream, payload)
        except _wire.ProtocolError:
            self.log.exception("Worker channel error")
            self.stop()
        except ChannelClosed:
            self.stop()

    def start_stream(self, stream, flags, payload):
        raise NotImplementedError

    def stream_done(self, stream):
        self.streams.pop(stream, None)
        if not self.alive and not self.streams:
            self.loop.call_soon(self._maybe_stop)

    def _maybe_stop(self):
        if self.streams or self.done is None or self.done.done():
            return
        # After RECYCLE: serve REQUESTs Go wrote before it read it.
        self._on_readable()
        if not self.streams:
            self.stop()

    def decode_request(self, flags, payload):
        """(environ, first body bytes, body complete) of a REQUEST payload."""
        hl = _U32.unpack_from(payload, 0)[0]
        environ = marshal.loads(payload[4:4 + hl])
        return environ, bytes(payload[4 + hl:]), bool(flags & END)

    # -- channel output -------------------------------------------------------------

    def send(self, bufs, total):
        if self.dead:
            raise ChannelClosed("worker channel closed")
        if self.out:
            # Something is queued: keep frame order.
            self._queue(b"".join(bufs), -1)
            return
        try:
            n = self.sock.sendmsg(bufs)
        except (BlockingIOError, InterruptedError):
            n = 0
        except OSError as e:
            self._die(e)
        if n != total:
            self._queue(b"".join(bytes(b) for b in bufs)[n:], -1)

    def send_fd(self, bufs, fd, total):
        if self.dead:
            raise ChannelClosed("worker channel closed")
        data = b"".join(bytes(b) for b in bufs)
        if not self.out:
            anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))]
            try:
                n = self.sock.sendmsg([data], anc)
            except (BlockingIOError, InterruptedError):
                n = 0
            except OSError as e:
                self._die(e)
            if n:
                # The fd went with the first byte.
                if n != len(data):
                    self._queue(data[n:], -1)
                return
        # The caller may close its fd as soon as we return.
        self._queue(data, os.dup(fd))

    def _die(self, e):
        self.dead = True
        self.stop()
        raise ChannelClosed("worker channel closed while sending: %s" % e) from None

    def _queue(self, data, fd):
        if not self.out:
            self.loop.add_writer(self.sock.fileno(), self._on_writable)
        self.out.append([data, fd])
        self.out_size += len(data)

    def _on_writable(self):
        out = self.out
        while out:
            item = out[0]
            data, fd = item
            try:
                if fd >= 0:
                    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))]
                    n = self.sock.sendmsg([data], anc)
                else:
                    n = self.sock.send(data)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.dead = True
                out.clear()
                self.out_size = 0
                self.loop.remove_writer(self.sock.fileno())
                self.stop()
                break
            if fd >= 0 and n:
                os.close(fd)
                item[1] = -1
            self.out_size -= n
            if n == len(data):
                out.popleft()
            else:
                item[0] = data[n:]
                break
        if not out:
            self.loop.remove_writer(self.sock.fileno())
        if self.out_size <= LOW_WATER and self.drain_waiters:
            waiters, self.drain_waiters = self.drain_waiters, []
            for w in waiters:
                w()

    def _flush_blocking(self):
        # At exit: finish what is queued (the loop no longer runs).
        try:
            for data, fd in self.out:
                if fd >= 0:
                    anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))]
                    n = self.sock.sendmsg([data], anc)
                    os.close(fd)
                    data = data[n:]
                self.sock.sendall(data)
        except OSError:
            pass
        self.out.clear()

    def congested(self):
        return self.out_size > HIGH_WATER or self.dead

    def on_drained(self, cb):
        """Call ``cb()`` once the outbox is below LOW_WATER (now if it already is)."""
        if self.out_size <= LOW_WATER or self.dead:
            cb()
        else:
            self.drain_waiters.append(cb)

    # Frame helpers for stream objects.

    def send_more(self, stream, n=MORE_SIZE):
        self.send((_HDR.pack(4, MORE, 0, 0, stream), _U32.pack(n)), _HDR_SIZE + 4)

    def send_response(self, stream, head, body, end):
        """RESPONSE with the first body bytes (split into RESP_BODY frames if huge)."""
        first = body[:_MAX_CHUNK]
        rest = body[_MAX_CHUNK:]
        hl = len(head)
        plen = 4 + hl + len(first)
        flags = END if end and not rest else 0
        self.send((_HDR_HL.pack(plen, RESPONSE, flags, 0, stream, hl), head, first),
                  plen + _HDR_SIZE)
        if rest:
            self.send_body(stream, rest, end)

    def send_body(self, stream, data, end):
        n = len(data)
        if n <= _MAX_CHUNK:
            self.send((_HDR.pack(n, RESP_BODY, END if end else 0, 0, stream), data),
                      n + _HDR_SIZE)
            return
        for i in range(0, n, _MAX_CHUNK):
            part = data[i:i + _MAX_CHUNK]
            last = end and i + _MAX_CHUNK >= n
            self.send((_HDR.pack(len(part), RESP_BODY, END if last else 0, 0, stream), part),
                      len(part) + _HDR_SIZE)

    def send_error(self, stream):
        self.send_response(stream, ERROR_500_HEAD, ERROR_500_BODY, True)

    def send_abort(self, stream, reason):
        data = reason.encode("utf-8", "replace")[:4096]
        self.send((_HDR.pack(len(data), ABORT, END, 0, stream), data), len(data) + _HDR_SIZE)


class Tunnel:
    """The raw bytes of one upgraded connection after its 101 (docs/protocol.md, "Tunnels").

    Out: ``write()`` sends RESP_BODY frames while the window Go grants with WINDOW is
    positive and keeps the rest; the owner pauses the app while ``blocked()`` and
    ``on_unblock()`` is called once it may go on (after ``arm()``). ``end()`` sends END
    once everything is out. In: the owner calls ``received(n)`` for client bytes that
    arrive and ``consumed(n)`` as the app takes them, which gives Go that much credit back
    with MORE; ``want(n)`` grants more when the app waits for n bytes at once (a tornado
    ``read_bytes`` of a frame bigger than the credit).
    """

    def __init__(self, worker, stream, on_unblock):
        self.worker = worker
        self.stream = stream
        self.on_unblock = on_unblock
        self.window = TUNNEL_WINDOW
        self.pending = []
        self.owed = 0                       # consumed, not yet given back
        self.outstanding = TUNNEL_CREDIT    # granted, not yet received
        self.ending = False
        self.done = False        # END sent, or CANCEL received
        self.armed = False       # waiting for the outbox to drain
        worker.send_more(stream, TUNNEL_CREDIT)

    def blocked(self):
        return self.window <= 0 or self.worker.congested()

    def write(self, data):
        if data and not (self.done or self.ending):
            self.pending.append(bytes(data))
            self._flush()

    def _flush(self):
        if self.done:
            return
        if self.pending and self.window > 0:
            p = self.pending
            data = p[0] if len(p) == 1 else b"".join(p)
            self.pending = []
            # A write may overdraw the window, as an ASGI send() may.
            self.window -= len(data)
            self.worker.send_body(self.stream, data, False)
        if self.ending and not self.pending:
            self.done = True
            self.worker.send_body(self.stream, b"", True)
            self.worker.stream_done(self.stream)

    def on_window(self, n):
        self.window += n
        self._flush()
        self.arm()

    def arm(self):
        """Call ``on_unblock`` now if writes may go on, else when they may."""
        if self.done or self.window <= 0:
            return  # the next WINDOW calls again
        if self.worker.congested():
            if not self.armed:
                self.armed = True
                self.worker.on_drained(self._drained)
            return
        self.on_unblock()

    def _drained(self):
        self.armed = False
        self.arm()

    def end(self):
        """The app closed its side: END once the bytes it wrote are out."""
        self.ending = True
        self._flush()

    def received(self, n):
        self.outstanding -= n

    def consumed(self, n):
        self.owed += n
        if self.owed >= TUNNEL_CREDIT // 4:
            self._grant(self.owed)
            self.owed = 0

    def want(self, n):
        if n > self.outstanding:
            self._grant(n - self.outstanding)

    def _grant(self, n):
        if not (self.done or self.ending):
            self.outstanding += n
            self.worker.send_more(self.stream, n)

    def cancel(self):
        self.done = True
        self.pending = []


def upgrade_value(value):
    """The Connection value an app that checks for an upgrade gets: exactly
    ``Upgrade`` when the client's lists that token (aiohttp's pure-Python parser only
    recognises the bare word), else the client's value as it is."""
    if "upgrade" in (t.strip().lower() for t in value.split(",")):
        return "Upgrade"
    return value


def response_headers(pairs):
    """The app's response headers minus those Go writes itself (Server, Date,
    Connection, Transfer-Encoding and the other hop-by-hop ones)."""
    return [(k, v) for k, v in pairs if k.lower() not in HOP_HEADERS]


class _Context:
    """What tornado's HTTPServerRequest reads from ``connection.context``."""

    def __init__(self, environ):
        self.remote_ip = environ.get("REMOTE_ADDR") or "0.0.0.0"
        self.protocol = environ.get("wsgi.url_scheme") or "http"
        try:
            self.address = (self.remote_ip, int(environ.get("REMOTE_PORT") or 0))
        except ValueError:
            self.address = (self.remote_ip, 0)

    def __str__(self):
        return self.remote_ip


class TornadoStream:
    """One request: tornado's ``HTTPConnection`` for the handler, fed by the channel."""

    def __init__(self, worker, stream, environ, first, eof):
        from tornado import httputil
        self.worker = worker
        self.stream = stream
        self.method = environ.get("REQUEST_METHOD", "GET")
        self.context = _Context(environ)
        self.close_callback = None
        self.delegate = None
        self.started = False     # RESPONSE sent (or pending)
        self.finished = False
        self.cancelled = False
        self.omit = self.method == "HEAD"
        self.pending = None      # [head, body bytes] waiting to be coalesced
        self.body = collections.deque()
        self.eof = eof
        self.body_waiter = None
        # Go offers a tunnel: the app may answer 101 and take the connection.
        self.tunnel_offered = bool(environ.get("gonicorn.tunnel"))
        self.tunnel = None
        self.io = None           # the TunnelIOStream detach() returns
        uri = environ.get("RAW_URI") or (environ.get("PATH_INFO", "/") + (
            "?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else ""))
        self.start_line = httputil.RequestStartLine(
            self.method, uri, environ.get("SERVER_PROTOCOL", "HTTP/1.1"))
        self.headers = httputil.HTTPHeaders()
        for k, v in environ_headers(environ):
            lk = k.lower()
            if lk in UPGRADE_HEADERS:
                # The connection is Go's: only a tunnel can be upgraded.
                if not self.tunnel_offered:
                    continue
                if lk == "connection":
                    v = upgrade_value(v)
            self.headers.add(k, v)
        if "Host" not in self.headers and environ.get("SERVER_NAME"):
            self.headers["Host"] = environ["SERVER_NAME"]
        if first:
            self.body.append(first)

    # -- tornado's HTTPConnection interface ------------------------------------------

    def set_close_callback(self, callback):
        self.close_callback = callback

    def _future(self):
        from tornado.concurrent import Future
        from tornado.iostream import StreamClosedError
        f = Future()
        if self.cancelled:
            f.set_exception(StreamClosedError())
            f.exception()  # mark retrieved: a handler may not wait on it
            return f
        w = self.worker
        if not w.congested():
            f.set_result(None)
        else:
            w.on_drained(lambda: f.done() or f.set_result(None))
        return f

    def write_headers(self, start_line, headers, chunk=None):
        if self.cancelled or self.finished:
            return self._future()
        code = start_line.code
        if code == 101 and self.tunnel_offered and self.tunnel is None:
            return self._open_tunnel(start_line, headers)
        status = "%d %s" % (code, start_line.reason or "")
        hdrs = response_headers(headers.get_all())
        if code in (204, 304) or code < 200:
            self.omit = True
            if code != 304:
                hdrs = [(k, v) for k, v in hdrs if k.lower() != "content-length"]
        self.started = True
        self.pending = [marshal.dumps((status, hdrs), 2), b"" if self.omit else (chunk or b"")]
        # Send in this loop iteration's end unless finish() comes first (the usual
        # RequestHandler.finish does both at once): then it is one frame with END.
        self.worker.loop.call_soon(self._flush_pending)
        return self._future()

    def _flush_pending(self):
        p = self.pending
        if p is None or self.cancelled:
            return
        self.pending = None
        self.worker.send_response(self.stream, p[0], p[1], False)

    def write(self, chunk):
        if self.cancelled or self.finished:
            return self._future()
        if chunk and not self.omit:
            p = self.pending
            if p is not None and len(p[1]) + len(chunk) <= MORE_SIZE:
                p[1] += chunk
            else:
                self._flush_pending()
                self.worker.send_body(self.stream, chunk, False)
        return self._future()

    def finish(self):
        if self.cancelled or self.finished:
            return
        self.finished = True
        if self.tunnel is not None:
            return  # the 101 is out; the tunnel lives on in the detached stream
        w = self.worker
        p = self.pending
        if p is not None:
            self.pending = None
            w.send_response(self.stream, p[0], p[1], True)
        elif self.started:
            w.send_body(self.stream, b"", True)
        else:
            w.send_error(self.stream)
        w.stream_done(self.stream)

    def detach(self):
        if self.io is None:
            raise NotImplementedError(
                "gonicorn's tornado worker detaches a connection only after a 101 answer "
                "to a WebSocket upgrade")
        self.close_callback = None  # as tornado's detach: the stream reports closes now
        return self.io

    def _open_tunnel(self, start_line, headers):
        w = self.worker
        status = "%d %s" % (start_line.code, start_line.reason or "Switching Protocols")
        hdrs = [(k, v) for k, v in headers.get_all()
                if k.lower() not in HOP_HEADERS or k.lower() in UPGRADE_HEADERS]
        self.started = True
        w.send_response(self.stream, marshal.dumps((status, hdrs), 2), b"", False)
        self.io = TunnelIOStream(self)
        self.tunnel = Tunnel(w, self.stream, self.io.unblocked)
        return self._future()

    def on_window(self, n):
        if self.tunnel is not None:
            self.tunnel.on_window(n)

    # -- channel side ---------------------------------------------------------------

    async def run(self, server_conn, app):
        w = self.worker
        try:
            self.delegate = d = app.start_request(server_conn, self)
            r = d.headers_received(self.start_line, self.headers)
            if r is not None:
                await r
            while True:
                while self.body:
                    if self.cancelled:
                        return
                    r = d.data_received(self.body.popleft())
                    if r is not None:
                        await r
                if self.eof or self.cancelled:
                    break
                self.body_waiter = w.loop.create_future()
                w.send_more(self.stream)
                await self.body_waiter
            if not self.cancelled:
                d.finish()
        except ChannelClosed:
            pass
        except Exception as e:
            self.fail(e)

    def fail(self, exc):
        w = self.worker
        if self.cancelled or self.finished:
            return
        self.finished = True
        if self.tunnel is not None:
            self.tunnel.cancel()
        try:
            if self.started and self.pending is None:
                w.log.error("Error handling request", exc_info=exc)
                w.send_abort(self.stream, "%s: %s" % (type(exc).__name__, exc))
            else:
                w.log.error("Error handling request %s %s", self.method,
                            self.start_line.path, exc_info=exc)
                w.send_error(self.stream)
        except ChannelClosed:
            pass
        w.stream_done(self.stream)

    def on_body(self, data, end):
        if self.io is not None:
            self.tunnel.received(len(data))
            self.io.feed(data, end)
            return
        if data:
            self.body.append(data)
        if end:
            self.eof = True
        bw = self.body_waiter
        if bw is not None and not bw.done():
            bw.set_result(None)

    def on_cancel(self):
        self.cancelled = True
        self.pending = None
        if self.tunnel is not None:
            self.tunnel.cancel()
            self.io.lost()
            if self.finished:
                return  # detached: the stream told the app
        bw = self.body_waiter
        if bw is not None and not bw.done():
            bw.set_result(None)
        if self.delegate is not None:
            try:
                self.delegate.on_connection_close()
            except Exception:
                self.worker.log.debug("on_connection_close failed", exc_info=True)
        cb, self.close_callback = self.close_callback, None
        if cb is not None:
            try:
                cb()
            except Exception:
                self.worker.log.debug("close callback failed", exc_info=True)


class TunnelIOStream:
    """What tornado's WebSocket code uses of the ``IOStream`` that ``detach()`` returns,
    over a tunnel: ``read_bytes``, ``write``, ``close``, ``closed``, ``io_loop``,
    ``set_nodelay`` and ``set_close_callback``. Reads give credit back to Go as the
    bytes are taken; write futures wait while the tunnel is blocked (window or outbox).
    """

    def __init__(self, st):
        from tornado.ioloop import IOLoop
        self.st = st
        self.io_loop = IOLoop.current()
        self.buf = bytearray()
        self.eof = False
        self._closed = False
        self.error = None
        self.read_future = None
        self.read_n = 0
        self.read_partial = False
        self.write_waiters = []
        self.close_callback = None

    # -- tornado's IOStream, as tornado.websocket uses it ------------------------------

    def read_bytes(self, num_bytes, partial=False):
        from tornado.concurrent import Future
        if self.read_future is not None:
            raise RuntimeError("Already reading")
        f = self.read_future = Future()
        self.read_n, self.read_partial = num_bytes, partial
        self._try_read()
        return f

    def write(self, data):
        from tornado.concurrent import Future
        from tornado.iostream import StreamClosedError
        if self._closed:
            raise StreamClosedError(real_error=self.error)
        t = self.st.tunnel
        t.write(data)
        f = Future()
        if t.blocked():
            self.write_waiters.append(f)
            t.arm()
        else:
            f.set_result(None)
        return f

    def close(self, exc_info=False):
        if self._closed:
            return
        self._signal_closed()
        try:
            self.st.tunnel.end()
        except ChannelClosed:
            pass

    def closed(self):
        return self._closed

    def set_nodelay(self, value):
        pass

    def set_close_callback(self, callback):
        self.close_callback = callback

    # -- tunnel side ------------------------------------------------------------------

    def feed(self, data, end):
        if self._closed:
            return
        if data:
            self.buf += data
        if end:
            self.eof = True
        self._try_read()
        if self.eof and not self.buf:
            self.close()  # tornado's IOStream closes at EOF too

    def lost(self):
        """CANCEL: the client connection is gone."""
        from tornado.iostream import StreamClosedError
        if not self._closed:
            self.error = StreamClosedError()
            self._signal_closed()

    def unblocked(self):
        waiters, self.write_waiters = self.write_waiters, []
        for f in waiters:
            if not f.done():
                f.set_result(None)

    def _try_read(self):
        f = self.read_future
        if f is None:
            return
        buf, n = self.buf, self.read_n
        if len(buf) >= n or (self.read_partial and buf):
            k = min(n, len(buf))
            data = bytes(buf[:k])
            del buf[:k]
            self.read_future = None
            self.st.tunnel.consumed(k)
            f.set_result(data)
        elif self._closed or self.eof:
            self.read_future = None
            self._fail(f)
        else:
            self.st.tunnel.want(n - len(buf))

    def _fail(self, f):
        from tornado.iostream import StreamClosedError
        if not f.done():
            f.set_exception(StreamClosedError(real_error=self.error))
            f.exception()  # retrieved: nobody may be waiting on it

    def _signal_closed(self):
        self._closed = True
        f, self.read_future = self.read_future, None
        if f is not None:
            self._fail(f)
        waiters, self.write_waiters = self.write_waiters, []
        for f in waiters:
            self._fail(f)
        cb, self.close_callback = self.close_callback, None
        if cb is not None:
            self.st.worker.loop.call_soon(cb)


class TornadoWorker(AsyncWorker):
    name = "tornado"
    package = "tornado"

    def new_loop(self):
        # tornado's IOLoop.current() is this asyncio loop once it runs.
        return asyncio.new_event_loop()

    async def setup(self):
        import tornado.httpserver
        import tornado.web
        import tornado.wsgi
        from tornado.httputil import HTTPServerConnectionDelegate
        from tornado.concurrent import dummy_executor
        app = self.wsgi
        if not isinstance(app, (tornado.wsgi.WSGIContainer, HTTPServerConnectionDelegate)):
            # gunicorn's rule: anything that is not a tornado app is a WSGI app.
            app = tornado.wsgi.WSGIContainer(app)
        if isinstance(app, tornado.wsgi.WSGIContainer):
            if app.executor is dummy_executor:
                # The WSGI app runs on the loop and blocks it: one request at a time,
                # so Go spreads requests over workers as it does for sync.
                self.capacity = 1
            app = self._guard(app)
        # HTTPServer.start_request picks tornado's delegate for the app (a router's
        # own, or the adapter that buffers the body for a plain callable); it never
        # listens here.
        self.http_server = tornado.httpserver.HTTPServer(app)

    def _guard(self, container):
        """WSGIContainer.__call__ runs the app in a detached callback that only logs
        a failure, leaving the request unanswered: run it ourselves and answer 500."""
        loop = self.loop

        def call(request):
            conn = request.connection
            task = loop.create_task(container.handle_request(request))
            task.add_done_callback(
                lambda t: t.cancelled() or t.exception() is None
                or conn.fail(t.exception()))
        return call

    def start_stream(self, stream, flags, payload):
        environ, first, eof = self.decode_request(flags, payload)
        st = TornadoStream(self, stream, environ, first, eof)
        self.streams[stream] = st
        self.loop.create_task(st.run(self.http_server, self.http_server))
