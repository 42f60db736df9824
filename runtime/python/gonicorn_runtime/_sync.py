"""The sync worker: one request at a time, in the main thread.

The loop is the hot path: one ``recv_into`` into a reusable buffer may carry several
frames, a request head is decoded with one ``marshal.loads``, and a small response
leaves in one ``sendmsg``.
"""

import collections
import socket

from . import _wire
from ._worker import Worker, ChannelClosed, END, REQUEST, REQ_BODY, CANCEL

_MSG_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0x40)


class SyncWorker(Worker):
    capacity = 1
    multithread = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._idle = False
        self._current = None
        self._deferred = collections.deque()

    def wake_if_idle(self):
        # Blocked in recv with nothing in hand: end the read side so recv returns 0.
        # Go stopped sending when it sent TERM, so nothing is lost.
        if self._idle:
            self._shutdown_read()

    def run(self):
        reader = self.reader
        next_frame = reader.next_frame
        recv_into = self.sock.recv_into
        deferred = self._deferred
        handle = self.handle
        new_exchange = self.new_exchange
        while self.alive:
            f = deferred.popleft() if deferred else next_frame()
            if f is None:
                buf = reader.writable()
                self._idle = True
                if not self.alive:
                    break
                try:
                    n = recv_into(buf)
                except OSError:
                    n = 0
                self._idle = False
                if not n:
                    return
                reader.commit(n)
                continue
            typ, flags, stream, payload = f
            if typ == REQUEST:
                ex, environ = new_exchange(stream, flags, payload)
                self._current = ex
                try:
                    handle(ex, environ)
                finally:
                    self._current = None
            elif typ == CANCEL or typ == REQ_BODY:
                continue  # for a request already finished
            else:
                raise _wire.unexpected_frame(typ, flags, stream, payload)
        self._drain()

    def _drain(self):
        """After RECYCLE: serve REQUESTs Go wrote before it read RECYCLE."""
        if not self.recycled:
            return
        while self._read_nowait():
            while True:
                f = self._deferred.popleft() if self._deferred else self.reader.next_frame()
                if f is None:
                    break
                if f[0] == REQUEST:
                    ex, environ = self.new_exchange(f[2], f[1], f[3])
                    self.handle(ex, environ)

    def _read_nowait(self):
        buf = self.reader.writable()
        try:
            n = self.sock.recv_into(buf, 0, _MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return False
        if n:
            self.reader.commit(n)
        return n > 0

    def _dispatch(self, ex):
        """Route frames that arrive while ``ex`` runs."""
        reader = self.reader
        while True:
            f = reader.next_frame()
            if f is None:
                return
            typ, flags, stream, payload = f
            if stream == ex.stream:
                if typ == REQ_BODY:
                    ex.feed(bytes(payload), flags & END)
                    continue
                if typ == CANCEL:
                    ex.cancelled = True
                    continue
            if typ == REQUEST:
                # Go gives a sync worker one request at a time; keep it for later.
                self._deferred.append((typ, flags, stream, bytes(payload)))
            elif typ in (REQ_BODY, CANCEL):
                continue
            else:
                raise _wire.unexpected_frame(typ, flags, stream, payload)

    def wait_body(self, ex):
        self._dispatch(ex)
        if ex.inbox or ex.eof or ex.cancelled:
            return
        buf = self.reader.writable()
        try:
            n = self.sock.recv_into(buf)
        except OSError as e:
            raise ChannelClosed("worker channel closed while reading a body: %s" % e)
        if not n:
            raise ChannelClosed("worker channel closed while reading a body")
        self.reader.commit(n)
        self._dispatch(ex)

    def poll(self, ex):
        if self._read_nowait():
            self._dispatch(ex)
