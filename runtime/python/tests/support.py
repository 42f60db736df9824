"""A simulated Go side for worker tests: a socketpair and the _wire codec."""

import array
import marshal
import os
import socket
import struct
import tempfile
import threading
import time

from gonicorn_runtime import _log, _server, _wire
from gonicorn_runtime._sync import SyncWorker


def environ(method="GET", uri="/", body_len=0, **extra):
    path, _, query = uri.partition("?")
    env = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": path,
        "QUERY_STRING": query, "RAW_URI": uri, "SERVER_PROTOCOL": "HTTP/1.1",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "REMOTE_ADDR": "127.0.0.1",
        "REMOTE_PORT": "5555", "wsgi.url_scheme": "http", "HTTP_HOST": "localhost",
        "gonicorn.body": body_len,
    }
    if body_len:
        env["CONTENT_LENGTH"] = str(body_len) if body_len > 0 else None
        if body_len < 0:
            del env["CONTENT_LENGTH"]
            env["HTTP_TRANSFER_ENCODING"] = "chunked"
    env.update(extra)
    return env


class Go:
    """The Go end of a worker channel."""

    def __init__(self, sock):
        self.sock = sock
        self.sock.settimeout(10)
        self.reader = _wire.FrameReader()
        self.fds = []

    def send(self, typ, flags, stream, payload=b""):
        self.sock.sendall(_wire.encode_frame(typ, flags, stream, payload))

    def request(self, stream, env, body=b"", end=True):
        head = marshal.dumps(env)
        self.send(_wire.REQUEST, _wire.FLAG_END if end else 0, stream,
                  struct.pack("<I", len(head)) + head + body)

    def body(self, stream, data, end=False):
        self.send(_wire.REQ_BODY, _wire.FLAG_END if end else 0, stream, data)

    def cancel(self, stream):
        self.send(_wire.CANCEL, 0, stream)

    def frame(self):
        """Next frame as (type, flags, stream, bytes); None at EOF."""
        while True:
            f = self.reader.next_frame()
            if f is not None:
                return f[0], f[1], f[2], bytes(f[3])
            data, anc, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(64))
            for level, kind, cdata in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    a = array.array("i")
                    a.frombytes(cdata[:len(cdata) - len(cdata) % a.itemsize])
                    self.fds.extend(a)
            if not data:
                return None
            self.reader.feed(data)

    def response(self, stream=None):
        """Collect one whole response: (status, headers, body, frames)."""
        frames = []
        status = headers = None
        body = b""
        while True:
            f = self.frame()
            if f is None:
                raise EOFError("channel closed; frames so far: %r" % frames)
            typ, flags, st, payload = f
            if typ in (_wire.MORE, _wire.RECYCLE, _wire.HELLO):
                frames.append(f)
                continue
            if stream is not None and st != stream:
                raise AssertionError("frame for stream %d, want %d: %r" % (st, stream, f))
            frames.append(f)
            if typ == _wire.RESPONSE:
                h, b = _wire.split_head(payload)
                status, headers = marshal.loads(h)
                body += bytes(b)
            elif typ == _wire.RESP_BODY:
                body += payload
            elif typ in (_wire.ABORT, _wire.SENDFILE):
                pass
            if flags & _wire.FLAG_END:
                return status, headers, body, frames


class Harness:
    """A worker (sync or gthread) running in a thread, with Go on the other end."""

    def __init__(self, app, settings=None, cls=SyncWorker, module=None):
        self.tmp = tempfile.TemporaryDirectory()
        self.errorlog = os.path.join(self.tmp.name, "error.log")
        # timeout 0: no HEARTBEAT frames unless a test asks for them.
        s = {"errorlog": self.errorlog, "loglevel": "info", "workers": 2, "timeout": 0}
        s.update(settings or {})
        self.cfg = _server.Config(s, module)
        self.log = _log.Logger(self.cfg)
        self.app = _server.Application(self.cfg, "x:y")
        self.app.callable = app
        a, b = socket.socketpair()
        self.go = Go(a)
        self.worker = cls(1, os.getpid(), b, self.app, 15, self.cfg, self.log, worker_id=7)
        self.worker.pid = os.getpid()
        self.worker.load_wsgi()
        self.worker.prepare()
        self.error = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        try:
            self.worker.send_hello()
            self.worker.run()
        except BaseException as e:  # reported by the test
            self.error = e

    def __enter__(self):
        self.thread.start()
        f = self.go.frame()
        assert f[0] == _wire.HELLO, f
        self.hello = _wire.parse_hello(f[3])
        return self

    def __exit__(self, *exc):
        try:
            self.go.sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        self.thread.join(10)
        self.go.sock.close()
        self.worker.sock.close()
        for fd in self.go.fds:
            os.close(fd)
        self.tmp.cleanup()

    def stop(self):
        """Close Go's write side and wait for the worker loop to end."""
        self.go.sock.shutdown(socket.SHUT_WR)
        self.thread.join(10)
        assert not self.thread.is_alive()

    def logtext(self):
        for h in self.log.error_log.handlers:
            h.flush()
        with open(self.errorlog) as f:
            return f.read()


# -- WebSocket over a tunnel (docs/protocol.md, "Tunnels") ---------------------------

WS_KEY = "dGhlIHNhbXBsZSBub25jZQ=="
WS_ACCEPT = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="   # RFC 6455's example answer to WS_KEY


def upgrade_environ(uri="/ws", tunnel=True, **extra):
    """The head Go sends for a WebSocket upgrade; with ``gonicorn.tunnel`` unless told."""
    env = environ("GET", uri, HTTP_UPGRADE="websocket", HTTP_CONNECTION="keep-alive, Upgrade",
                  HTTP_SEC_WEBSOCKET_KEY=WS_KEY, HTTP_SEC_WEBSOCKET_VERSION="13", **extra)
    if tunnel:
        env["gonicorn.tunnel"] = True
    return env


def ws_frame(opcode, payload, mask=b"\x01\x02\x03\x04"):
    """A client frame (masked, FIN set). A zero mask keeps big payloads cheap."""
    n = len(payload)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack(">H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack(">Q", n)
    if mask == b"\0\0\0\0":
        return head + mask + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def ws_close_frame(code, reason=b""):
    return ws_frame(0x8, struct.pack(">H", code) + reason)


def ws_parse(buf):
    """Split unmasked server frames off the front of ``buf`` (a bytearray):
    [(opcode, payload)], leaving an incomplete frame in ``buf``."""
    out = []
    while len(buf) >= 2:
        opcode, n = buf[0] & 0x0F, buf[1] & 0x7F
        i = 2
        if n == 126:
            if len(buf) < 4:
                break
            n, i = struct.unpack(">H", buf[2:4])[0], 4
        elif n == 127:
            if len(buf) < 10:
                break
            n, i = struct.unpack(">Q", buf[2:10])[0], 10
        if len(buf) < i + n:
            break
        out.append((opcode, bytes(buf[i:i + n])))
        del buf[:i + n]
    return out


class TunnelClient:
    """Go's side of one tunnel: what the worker sent and what Go owes it."""

    def __init__(self, go, stream):
        self.go = go
        self.stream = stream
        self.buf = bytearray()      # tunnel bytes not parsed yet
        self.credit = 0             # client bytes the worker asked for (MORE)
        self.received = 0           # tunnel bytes the worker sent
        self.ended = False
        self.others = []            # frames of other streams

    def open(self, env):
        """Send the upgrade; return (status, headers) of the worker's answer."""
        self.go.request(self.stream, env)
        f = self.next()
        typ, flags, _, payload = f
        assert typ == _wire.RESPONSE, f
        h, b = _wire.split_head(payload)
        status, headers = marshal.loads(h)
        if status.startswith("101"):
            assert not flags & _wire.FLAG_END, f
        else:
            self.ended = bool(flags & _wire.FLAG_END)
        self.buf += b
        return status, headers

    def next(self, timeout=None):
        """The next frame of this stream, accounted for (MORE adds credit, RESP_BODY
        bytes go to ``buf``); None on timeout."""
        sock = self.go.sock
        while True:
            if timeout is not None:
                sock.settimeout(timeout)
            try:
                f = self.go.frame()
            except socket.timeout:
                return None
            finally:
                sock.settimeout(10)
            if f is None:
                raise EOFError("channel closed")
            typ, flags, stream, payload = f
            if stream != self.stream:
                self.others.append(f)
                continue
            if typ == _wire.MORE:
                self.credit += _wire.parse_more(payload)
            if typ == _wire.RESP_BODY:
                self.buf += payload
                self.received += len(payload)
                if flags & _wire.FLAG_END:
                    self.ended = True
            return f

    def send(self, data, end=False):
        """Client bytes to the worker, within its credit."""
        assert len(data) <= self.credit, (len(data), self.credit)
        self.credit -= len(data)
        self.go.body(self.stream, data, end)

    def send_all(self, data):
        """Client bytes to the worker, waiting for credit as needed."""
        data = memoryview(data)
        while data:
            deadline = time.monotonic() + 10
            while not self.credit:
                if time.monotonic() > deadline or self.next(10) is None:
                    raise AssertionError("no credit for %d more bytes" % len(data))
            n = min(self.credit, len(data), 1 << 20)
            self.send(bytes(data[:n]))
            data = data[n:]

    def messages(self, n, timeout=10):
        """The next n WebSocket frames the app sent: [(opcode, payload)]."""
        got = ws_parse(self.buf)
        while len(got) < n:
            if self.next(timeout) is None:
                raise AssertionError("got %d frames of %d" % (len(got), n))
            got += ws_parse(self.buf)
        assert len(got) == n, [(op, len(p)) for op, p in got]
        return got

    def until_end(self, timeout=10):
        while not self.ended:
            if self.next(timeout) is None:
                raise AssertionError("no END within %ss" % timeout)
        return ws_parse(self.buf)

    def window(self, n):
        self.go.send(_wire.WINDOW, 0, self.stream, _wire.encode_window(n))
