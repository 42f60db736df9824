"""The aiohttp worker: ``aiohttp.web.Application`` apps and app factories.

aiohttp only serves HTTP through its own protocol object, ``RequestHandler`` (the
``web.Server`` that ``AppRunner.setup()`` builds is its factory), so each REQUEST gets a
fresh one connected to an in-memory transport (``AioStream``):

- in: the WSGI-kind head is written back as an HTTP/1.1 request head (with
  ``Connection: close``, so aiohttp closes the transport when the request is done) and
  fed to ``data_received``; body bytes are pulled with MORE whenever aiohttp is reading
  (it calls ``pause_reading`` when its buffer is full), re-chunked when the client's body
  was chunked;
- out: the bytes aiohttp writes are parsed incrementally (status line, headers, then a
  Content-Length, chunked or read-until-close body) into RESPONSE/RESP_BODY frames, so a
  streamed response leaves as it is written; ``pause_writing`` follows the channel's
  outbox;
- CANCEL is ``connection_lost``, as when a client goes away;
- a WebSocket upgrade Go offers as a tunnel keeps its ``Upgrade``/``Connection`` headers;
  when aiohttp answers 101 the rest of the connection is a ``Tunnel``: what aiohttp
  writes goes out as raw RESP_BODY bytes (``pause_writing`` while the window is spent),
  the client's bytes come in with REQ_BODY and are fed to ``data_received`` while aiohttp
  reads, and the client's EOF is ``eof_received`` (docs/protocol.md, "Tunnels").

Everything aiohttp does per request (middlewares, HTTPException responses, 500 pages,
``Expect`` and ``HEAD`` handling, signals, cleanup contexts) therefore runs unchanged.
No aiohttp import at module level: _boot imports this module in the zygote.
"""

import asyncio
import collections
import inspect
import marshal

from ._gtornado import (HIGH_WATER, LOW_WATER, UPGRADE_HEADERS, AsyncWorker, Tunnel,
                        environ_headers, upgrade_value)
from ._worker import HOP_HEADERS, ChannelClosed

# Request headers that belong to the client connection Go holds, not to this request.
_SKIP_REQUEST = frozenset(("connection", "keep-alive", "transfer-encoding", "upgrade",
                           "expect", "http2-settings", "te", "proxy-connection"))
_SKIP_TUNNEL = _SKIP_REQUEST - UPGRADE_HEADERS
(_HEAD, _BODY, _UNTIL_CLOSE, _CHUNK_SIZE, _CHUNK_DATA, _CHUNK_CRLF, _TRAILERS, _DONE,
 _TUNNEL) = range(9)


def request_head(environ, chunked, tunnel=False):
    """The request as HTTP/1.1 bytes for aiohttp. Without a tunnel it says
    ``Connection: close``, so that aiohttp closes the transport when it is done."""
    proto = environ.get("SERVER_PROTOCOL") or "HTTP/1.1"
    uri = environ.get("RAW_URI") or (environ.get("PATH_INFO") or "/") + (
        "?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else "")
    lines = ["%s %s %s" % (environ.get("REQUEST_METHOD", "GET"), uri, proto)]
    skip = _SKIP_TUNNEL if tunnel else _SKIP_REQUEST
    for k, v in environ_headers(environ):
        lk = k.lower()
        if lk not in skip:
            if lk == "connection":
                v = upgrade_value(v)
            lines.append("%s: %s" % (k, v))
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    if not tunnel:
        lines.append("Connection: close")
    lines.append("\r\n")
    # WSGI environ strings are the latin-1 decoding of the wire bytes.
    return "\r\n".join(lines).encode("latin-1", "replace")


class AioStream(asyncio.Transport):
    """One request: aiohttp's transport, fed by the channel."""

    def __init__(self, worker, stream, environ, first, eof):
        extra = {"peername": None, "sockname": None, "sslcontext": None, "socket": None}
        try:
            extra["peername"] = (environ.get("REMOTE_ADDR") or "",
                                 int(environ.get("REMOTE_PORT") or 0))
            extra["sockname"] = (environ.get("SERVER_NAME") or "",
                                 int(environ.get("SERVER_PORT") or 0))
        except ValueError:
            pass
        if environ.get("wsgi.url_scheme") == "https":
            # aiohttp derives request.scheme/secure from the transport's SSL context.
            extra["sslcontext"] = worker.ssl_marker()
        super().__init__(extra)
        self.worker = worker
        self.stream = stream
        self.environ = environ
        self.chunked = environ.get("gonicorn.body") == -1
        self.first = first
        self.eof = eof
        self.proto = None
        self.reading = True
        self.asked = False
        self.closing = False
        self.cancelled = False
        self.write_paused = False
        # Response parsing.
        self.buf = bytearray()
        self.state = _HEAD
        self.no_body = environ.get("REQUEST_METHOD") == "HEAD"
        self.remaining = 0
        self.head = None
        self.head_sent = False
        self.resp_done = False
        # Go offers a tunnel: aiohttp may answer 101 and keep the connection.
        self.tunnel_offered = bool(environ.pop("gonicorn.tunnel", False))
        self.tunnel = None
        self.inbox = collections.deque()   # client bytes aiohttp has not read yet
        self.in_eof = False
        self.eof_told = False

    def begin(self):
        self.proto = p = self.worker.server()
        p.connection_made(self)
        data = (request_head(self.environ, self.chunked, self.tunnel_offered)
                + self._frame(self.first, self.eof))
        self.first = None
        p.data_received(data)
        self._want_more()

    def _frame(self, data, end):
        if not self.chunked:
            return data
        out = b"%x\r\n%s\r\n" % (len(data), data) if data else b""
        return out + b"0\r\n\r\n" if end else out

    def _want_more(self):
        if not (self.eof or self.asked or self.closing or self.resp_done) and self.reading:
            self.asked = True
            self.worker.send_more(self.stream)

    # -- channel side ---------------------------------------------------------------

    def on_body(self, data, end):
        if self.tunnel is not None:
            if not self.closing:
                if data:
                    self.tunnel.received(len(data))
                    self.inbox.append(data)
                if end:
                    self.in_eof = True
                self._deliver()
            return
        self.asked = False
        if end:
            self.eof = True
        if self.closing or self.proto is None:
            return
        data = self._frame(data, end)
        if data:
            self.proto.data_received(data)
        self._want_more()

    def on_window(self, n):
        if self.tunnel is not None:
            self.tunnel.on_window(n)

    def on_cancel(self):
        self.cancelled = True
        self.resp_done = True
        if self.tunnel is not None:
            self.tunnel.cancel()
        self._lose()

    def _deliver(self):
        """Hand aiohttp the client's bytes while it reads, then the client's EOF."""
        p = self.proto
        inbox = self.inbox
        while inbox and self.reading and not self.closing:
            data = inbox.popleft()
            self.tunnel.consumed(len(data))
            p.data_received(data)
        if (self.in_eof and not inbox and self.reading and not self.closing
                and not self.eof_told):
            self.eof_told = True
            if not p.eof_received():
                self.close()  # as an asyncio transport does

    def _lose(self):
        if not self.closing:
            self.closing = True
            p = self.proto
            if p is not None:
                self.worker.loop.call_soon(p.connection_lost, None)

    # -- asyncio.Transport, as aiohttp uses it ---------------------------------------

    def is_closing(self):
        return self.closing

    def close(self):
        if self.closing:
            return
        if self.tunnel is not None:
            self.resp_done = True
            try:
                self.tunnel.end()
            except ChannelClosed:
                pass
        elif not self.resp_done:
            w = self.worker
            try:
                if self.state == _UNTIL_CLOSE:
                    self._emit([], True)   # the body ran until close: now it is whole
                elif not self.head_sent:
                    w.send_error(self.stream)
                else:
                    w.send_abort(self.stream, "aiohttp closed the connection mid-response")
            except ChannelClosed:
                pass
            self.resp_done = True
            w.stream_done(self.stream)
        self._lose()

    def abort(self):
        self.close()

    def is_reading(self):
        return self.reading

    def pause_reading(self):
        self.reading = False

    def resume_reading(self):
        if not self.reading:
            self.reading = True
            if self.tunnel is not None:
                self._deliver()
            else:
                self._want_more()

    def set_write_buffer_limits(self, high=None, low=None):
        pass

    def get_write_buffer_size(self):
        t = self.tunnel
        return self.worker.out_size + (sum(map(len, t.pending)) if t is not None else 0)

    def get_write_buffer_limits(self):
        return LOW_WATER, HIGH_WATER

    def can_write_eof(self):
        return False

    def write_eof(self):
        raise NotImplementedError("the channel cannot half-close one request")

    def writelines(self, list_of_data):
        self.write(b"".join(list_of_data))

    def write(self, data):
        if self.resp_done:
            return
        t = self.tunnel
        if t is None:
            self._parse(data)
            t = self.tunnel
        else:
            t.write(data)
        if t is not None:
            if not self.write_paused and t.blocked() and not self.closing:
                self.write_paused = True
                self.proto.pause_writing()
                t.arm()
            return
        w = self.worker
        if not self.write_paused and w.congested() and self.proto is not None:
            self.write_paused = True
            self.proto.pause_writing()
            w.on_drained(self._resume_writing)

    def _resume_writing(self):
        if self.write_paused:
            self.write_paused = False
            if not self.closing:
                self.proto.resume_writing()

    # -- HTTP/1.1 response bytes -> frames --------------------------------------------

    def _parse(self, data):
        buf = self.buf
        buf += data
        parts = []
        end = False
        while not end:
            st = self.state
            if st == _HEAD:
                i = buf.find(b"\r\n\r\n")
                if i < 0:
                    break
                lines = bytes(buf[:i]).decode("latin-1").split("\r\n")
                del buf[:i + 4]
                status = lines[0].split(" ", 1)[1] if " " in lines[0] else lines[0]
                code = int(status[:3])
                if code == 101 and self.tunnel_offered:
                    rest = bytes(buf)
                    buf.clear()
                    self._open_tunnel(status, lines[1:])
                    self.tunnel.write(rest)
                    return
                if code < 200:
                    continue  # 100 Continue and the like: Go speaks to the client
                hdrs = []
                chunked = False
                length = None
                for line in lines[1:]:
                    k, _, v = line.partition(":")
                    v = v.strip(" \t")
                    lk = k.lower()
                    if lk == "transfer-encoding":
                        chunked = "chunked" in v.lower()
                    elif lk == "content-length":
                        length = int(v)
                    if lk not in HOP_HEADERS:
                        hdrs.append((k, v))
                self.head = marshal.dumps((status, hdrs), 2)
                if self.no_body or code in (204, 304):
                    self.state, end = _DONE, True
                elif chunked:
                    self.state = _CHUNK_SIZE
                elif length is not None:
                    self.remaining = length
                    self.state = _BODY
                    end = length == 0
                else:
                    self.state = _UNTIL_CLOSE
            elif st == _BODY or st == _CHUNK_DATA:
                take = min(self.remaining, len(buf))
                if take:
                    parts.append(bytes(buf[:take]))
                    del buf[:take]
                    self.remaining -= take
                if self.remaining:
                    break
                if st == _BODY:
                    self.state, end = _DONE, True
                else:
                    self.state = _CHUNK_CRLF
            elif st == _UNTIL_CLOSE:
                if buf:
                    parts.append(bytes(buf))
                    buf.clear()
                break
            elif st == _CHUNK_SIZE:
                i = buf.find(b"\r\n")
                if i < 0:
                    break
                size = int(bytes(buf[:i]).split(b";", 1)[0], 16)
                del buf[:i + 2]
                if size:
                    self.remaining = size
                    self.state = _CHUNK_DATA
                else:
                    self.state = _TRAILERS
            elif st == _CHUNK_CRLF:
                if len(buf) < 2:
                    break
                del buf[:2]
                self.state = _CHUNK_SIZE
            elif st == _TRAILERS:
                i = buf.find(b"\r\n")
                if i < 0:
                    break
                del buf[:i + 2]
                if i == 0:
                    self.state, end = _DONE, True
            else:
                buf.clear()
                break
        self._emit(parts, end)

    def _open_tunnel(self, status, lines):
        hdrs = []
        for line in lines:
            k, _, v = line.partition(":")
            lk = k.lower()
            if lk not in HOP_HEADERS or lk in UPGRADE_HEADERS:
                hdrs.append((k, v.strip(" \t")))
        self.state = _TUNNEL
        self.head_sent = True
        w = self.worker
        w.send_response(self.stream, marshal.dumps((status, hdrs), 2), b"", False)
        self.tunnel = Tunnel(w, self.stream, self._resume_writing)

    def _emit(self, parts, end):
        if self.head is None:
            return
        body = b"".join(parts) if len(parts) != 1 else parts[0]
        w = self.worker
        if not self.head_sent:
            self.head_sent = True
            w.send_response(self.stream, self.head, body, end)
        elif body or end:
            w.send_body(self.stream, body, end)
        if end:
            self.resp_done = True
            self.buf = bytearray()
            w.stream_done(self.stream)
            if self.tunnel_offered:
                # No "Connection: close" went to aiohttp: end the connection ourselves.
                self._lose()


class AiohttpWorker(AsyncWorker):
    """``-k aiohttp.worker.GunicornWebWorker`` (and ``aiohttp.GunicornWebWorker``)."""

    name = "aiohttp"
    package = "aiohttp"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.runner = None
        self.server = None
        self._ssl = None

    def ssl_marker(self):
        if self._ssl is None:
            import ssl
            self._ssl = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        return self._ssl

    async def setup(self):
        from aiohttp import web
        app = self.wsgi
        runner = None
        if not isinstance(app, (web.Application, web.AppRunner)) and callable(app):
            # An app factory, as aiohttp's own worker accepts (it also gets there
            # from "module:factory()" URIs that return a coroutine).
            app = app()
            if inspect.isawaitable(app):
                app = await app
        if isinstance(app, web.AppRunner):
            runner = app
        elif not isinstance(app, web.Application):
            raise RuntimeError(
                "wsgi app should be either Application or async function returning "
                "Application, got %r" % (app,))
        if runner is None:
            runner = web.AppRunner(
                app, handle_signals=False, access_log=None,
                keepalive_timeout=self.cfg.keepalive,
                # Never read a body past the response: Go drops the rest itself.
                lingering_time=0,
                shutdown_timeout=self.cfg.graceful_timeout / 100 * 95)
        await runner.setup()
        self.runner = runner
        self.server = runner.server

    async def cleanup(self):
        if self.runner is not None:
            await self.runner.cleanup()

    def start_stream(self, stream, flags, payload):
        environ, first, eof = self.decode_request(flags, payload)
        st = AioStream(self, stream, environ, first, eof)
        self.streams[stream] = st
        st.begin()


class AiohttpUVLoopWorker(AiohttpWorker):
    """``-k aiohttp.worker.GunicornUVLoopWebWorker``: the same on a uvloop loop."""

    name = "aiohttp-uvloop"
    requires = ("aiohttp", "uvloop")

    def new_loop(self):
        import uvloop
        return uvloop.new_event_loop()
