"""WebSocket streams of the asgi worker.

Go does the RFC 6455 work (handshake, framing, fragments, ping/pong, permessage-deflate);
the worker sees whole messages: WS_MSG both ways, WS_ACCEPT for the handshake, WS_CLOSE
for either side's close. A close before accept makes Go answer 403.
"""

import asyncio
import collections
import marshal
import struct

from . import _wire
from ._asgi import WS_ACCEPT, WS_MSG, WS_CLOSE, ERROR_LOG, HIGH_WATER, _Cycle, _headers
from ._worker import ClientDisconnected

__all__ = ["WebSocketCycle", "MAX_MESSAGE"]

_HDR = struct.Struct("<IBBHI")
_U16 = struct.Struct("<H")
_HS = _wire.HEADER_SIZE
END = _wire.FLAG_END
KIND_TEXT = 1
KIND_BINARY = 2
# A message must fit one WS_MSG payload with its kind byte.
MAX_MESSAGE = _wire.MAX_PAYLOAD - 1


class WebSocketCycle(_Cycle):
    """One ASGI websocket stream: receive()/send() and its task."""

    __slots__ = ("worker", "stream", "scope", "connected", "accepted", "closed",
                 "disconnected", "code", "reason", "inbox", "waiter", "task", "grace")

    def __init__(self, worker, stream, scope):
        self.worker = worker
        self.stream = stream
        self.scope = scope
        self.connected = False   # websocket.connect delivered
        self.accepted = False    # WS_ACCEPT sent
        self.closed = False      # WS_CLOSE sent
        self.disconnected = False  # Go reported the client gone
        self.code = 1005
        self.reason = ""
        self.inbox = collections.deque()
        self.waiter = None
        self.task = None
        self.grace = None

    # -- frames from Go -------------------------------------------------------------

    def on_message(self, payload):
        if self.disconnected or not len(payload):
            return
        kind = payload[0]
        data = bytes(payload[1:])
        if kind == KIND_TEXT:
            try:
                msg = {"type": "websocket.receive", "text": data.decode("utf-8")}
            except UnicodeDecodeError:
                self._close(1007, "invalid UTF-8 in a text message")
                self._gone(1007, "invalid UTF-8 in a text message")
                return
        else:
            msg = {"type": "websocket.receive", "bytes": data}
        self.inbox.append(msg)
        self._wake()

    def on_close(self, payload):
        code = _U16.unpack_from(payload, 0)[0] if len(payload) >= 2 else 1005
        reason = bytes(payload[2:]).decode("utf-8", "replace")
        self._gone(code, reason)

    def cancel(self):
        self._gone(1006, "")

    def _gone(self, code, reason):
        if self.disconnected:
            return
        self.disconnected = True
        self.code = code
        self.reason = reason
        self._wake()
        self._cancel_after_grace()

    # -- ASGI receive/send ----------------------------------------------------------

    async def receive(self):
        if not self.connected:
            self.connected = True
            return {"type": "websocket.connect"}
        while True:
            if self.inbox:
                return self.inbox.popleft()
            if self.disconnected:
                return {"type": "websocket.disconnect", "code": self.code,
                        "reason": self.reason}
            self.waiter = w = self.worker.loop.create_future()
            await w

    async def send(self, message):
        t = message["type"]
        if t == "websocket.send":
            if not self.accepted:
                raise RuntimeError("Expected ASGI message 'websocket.accept' or "
                                   "'websocket.close', but got 'websocket.send'.")
            if self.closed or self.disconnected:
                raise ClientDisconnected()
            data = message.get("bytes")
            if data is not None:
                kind = KIND_BINARY
                data = bytes(data)
            else:
                text = message.get("text")
                if text is None:
                    raise TypeError("websocket.send needs 'bytes' or 'text'")
                kind = KIND_TEXT
                data = text.encode("utf-8")
            if len(data) > MAX_MESSAGE:
                # RFC 6455 1009: the message is too big to carry.
                self._close(1009, "message too big")
                self._gone(1009, "message too big")
                raise ValueError("WebSocket message of %d bytes is over the %d-byte limit; "
                                 "closed the connection with 1009" % (len(data), MAX_MESSAGE))
            w = self.worker
            n = len(data) + 1
            w.send((_HDR.pack(n, WS_MSG, 0, 0, self.stream), bytes((kind,)), data), n + _HS)
            if w.out_n > HIGH_WATER or w.paused:
                await w.drain()
        elif t == "websocket.accept":
            if self.accepted or self.closed:
                raise RuntimeError("Unexpected ASGI message 'websocket.accept' sent, "
                                   "after the handshake was answered.")
            if self.disconnected:
                raise ClientDisconnected()
            sub = message.get("subprotocol")
            headers, _ = _headers(message.get("headers", ()))
            head = marshal.dumps((sub, headers), 2)
            self.accepted = True
            self.worker.send((_HDR.pack(len(head), WS_ACCEPT, 0, 0, self.stream), head),
                             len(head) + _HS)
        elif t == "websocket.close":
            if self.closed:
                raise RuntimeError("Unexpected ASGI message 'websocket.close' sent, "
                                   "after the connection was closed.")
            if not self.disconnected:
                self._close(message.get("code") or 1000, message.get("reason") or "")
            else:
                self.closed = True
        else:
            raise RuntimeError("Unexpected ASGI message %r sent for a websocket scope." % (t,))

    def _close(self, code, reason):
        if self.closed:
            return
        self.closed = True
        # A close frame carries at most 123 reason bytes; never cut a character in two.
        why = str(reason).encode("utf-8")[:123].decode("utf-8", "ignore").encode("utf-8")
        data = _U16.pack(int(code)) + why
        self.worker.send((_HDR.pack(len(data), WS_CLOSE, END, 0, self.stream), data),
                         len(data) + _HS)

    # -- the task -------------------------------------------------------------------

    async def run(self):
        w = self.worker
        try:
            await w.asgi(self.scope, self.receive, self.send)
        except BaseException as exc:
            if isinstance(exc, asyncio.CancelledError):
                if not self.disconnected:
                    self._close(1012, "server restarting")
            elif isinstance(exc, Exception):
                if not self.disconnected:
                    w.log.exception(ERROR_LOG)
                    self._close(1011, "internal error")
                else:
                    w.log.debug("WebSocket %s closed: %s", self.scope.get("path"), exc)
            else:
                raise
        else:
            if not self.closed and not self.disconnected:
                if not self.accepted:
                    w.log.error("ASGI callable returned without sending handshake.")
                self._close(1000, "")
        finally:
            if self.grace is not None:
                self.grace.cancel()
            w.finished(self.stream)
