"""The gthread worker: a thread pool runs requests, the main thread reads frames.

The main thread owns the channel's read side: it decodes REQUESTs and submits them,
and routes REQ_BODY/CANCEL frames to their stream. Writes from all threads go through
one lock so frames never interleave mid-frame. Capacity (what Go may send at once) is
``threads``.
"""

import select
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from . import _wire
from ._worker import (Worker, ChannelClosed, END, REQUEST, REQ_BODY, CANCEL,
                      heartbeat_interval)


class ThreadWorker(Worker):
    name = "gthread"
    multithread = True
    heartbeat = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.capacity = max(1, int(self.cfg.threads or 1))
        self.exchanges = {}
        self.lock = threading.Lock()       # exchanges, in-flight count
        self.wlock = threading.Lock()      # channel writes
        self.cond = threading.Condition(threading.Lock())  # body arrival
        self.pool = None
        self.closed = False

    def prepare(self):
        super().prepare()
        self.pool = ThreadPoolExecutor(max_workers=self.capacity,
                                       thread_name_prefix="gonicorn-gthread")

    def send(self, bufs, total):
        with self.wlock:
            Worker.send(self, bufs, total)

    def send_fd(self, bufs, fd, total):
        with self.wlock:
            Worker.send_fd(self, bufs, fd, total)

    def wake_if_idle(self):
        with self.lock:
            idle = not self.exchanges
        if idle:
            self._shutdown_read()

    def run(self):
        reader = self.reader
        recv_into = self.sock.recv_into
        # HEARTBEAT leaves from this (main) thread, between reads: a stuck main thread
        # goes silent and Go aborts it. The read waits in poll() so that an idle
        # worker wakes up to send it; the socket itself stays blocking, so sends from
        # the pool never time out.
        interval = heartbeat_interval(self.cfg)
        poller = None
        if interval is not None:
            poller = select.poll()
            poller.register(self.sock.fileno(), select.POLLIN)
            next_beat = time.monotonic() + interval
        try:
            while True:
                f = reader.next_frame()
                if f is None:
                    if not self.alive and not self.exchanges:
                        break
                    if poller is not None:
                        now = time.monotonic()
                        if now >= next_beat:
                            try:
                                self.send_heartbeat()
                            except ChannelClosed:
                                break
                            next_beat = now + interval
                        if not poller.poll(max(0.0, next_beat - now) * 1000.0):
                            continue
                    try:
                        n = recv_into(reader.writable())
                    except OSError:
                        n = 0
                    if not n:
                        break
                    reader.commit(n)
                    continue
                typ, flags, stream, payload = f
                if typ == REQUEST:
                    ex, environ = self.new_exchange(stream, flags, payload)
                    with self.lock:
                        self.exchanges[stream] = ex
                    self.pool.submit(self._run_one, ex, environ)
                elif typ == REQ_BODY or typ == CANCEL:
                    with self.lock:
                        ex = self.exchanges.get(stream)
                    if ex is None:
                        continue
                    with self.cond:
                        if typ == CANCEL:
                            ex.cancelled = True
                        else:
                            ex.feed(bytes(payload), flags & END)
                        self.cond.notify_all()
                else:
                    raise _wire.unexpected_frame(typ, flags, stream, payload)
        finally:
            self.closed = True
            with self.cond:
                # Waiting readers see the channel is gone.
                self.cond.notify_all()
        self.pool.shutdown(wait=True)

    def _run_one(self, ex, environ):
        try:
            self.handle(ex, environ)
        except ChannelClosed:
            pass
        except BaseException:
            self.log.exception("Error handling request")
        finally:
            with self.lock:
                self.exchanges.pop(ex.stream, None)
                idle = not self.exchanges
            if idle and not self.alive:
                # Last request done after TERM or RECYCLE: let the reader see EOF.
                self._shutdown_read()

    def wait_body(self, ex):
        with self.cond:
            while not (ex.inbox or ex.eof or ex.cancelled):
                if self.closed:
                    raise ChannelClosed("worker channel closed while reading a body")
                self.cond.wait()
