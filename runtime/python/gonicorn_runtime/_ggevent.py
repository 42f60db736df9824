"""The gevent worker, and what the greenlet workers (gevent, eventlet) share.

A greenlet worker patches the standard library in the forked child, before the app is
imported, so the zygote itself stays unpatched. One greenlet (the main one) reads the
channel: it decodes REQUESTs and spawns each into a pool of ``worker_connections``
greenlets, and routes REQ_BODY/CANCEL frames to their stream. The WSGI cycle is the
shared one of _worker.py; only waiting (for body bytes) and writing (one frame at a time)
change. Nothing here imports gevent at module level: _boot imports this module in the
zygote.
"""

import importlib
import os
import sys

from . import _app, _wire
from ._worker import (Worker, ChannelClosed, END, REQUEST, REQ_BODY, CANCEL,
                      format_frames, heartbeat_interval)


def need_package(worker, package, modules=None):
    """Exit with WORKER_BOOT_ERROR and one log line if the class's library is missing.

    The master then halts with "Worker failed to boot.", as gunicorn does when it cannot
    load a worker class.
    """
    for mod in modules or (package,):
        try:
            importlib.import_module(mod)
        except ImportError as e:
            detail = "" if getattr(e, "name", None) == mod.split(".")[0] else " (%s)" % e
            worker.log.error("Worker class %r needs the %r package: pip install %s%s",
                             worker.cfg.worker_class_str, package, package, detail)
            sys.exit(_app.WORKER_BOOT_ERROR)


class GreenWorker(Worker):
    """Requests run in greenlets; subclasses supply the library's primitives."""

    name = "green"
    package = None
    # _boot must not import the app before init_process has patched.
    loads_app_itself = True
    # Greenlets of one process may run the app at the same time (PEP 3333's meaning).
    multithread = True
    heartbeat = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.capacity = max(1, int(self.cfg.worker_connections or 1))
        self.exchanges = {}
        self.waiters = {}    # stream -> waiter of a greenlet blocked in wait_body
        self.closed = False
        self.pool = None
        self.wlock = None

    # -- library primitives (subclasses) --------------------------------------------

    def patch(self):
        raise NotImplementedError

    def green_socket(self, sock):
        raise NotImplementedError

    def new_pool(self, size):
        raise NotImplementedError

    def spawn(self, fn, *args):
        raise NotImplementedError

    def join_pool(self):
        raise NotImplementedError

    def new_waiter(self):
        raise NotImplementedError

    def wake(self, waiter):
        raise NotImplementedError

    def wait(self, waiter):
        raise NotImplementedError

    def new_lock(self):
        raise NotImplementedError

    def idle(self):
        raise NotImplementedError

    def spawn_raw(self, fn, *args):
        """Run ``fn`` in a new greenlet outside the request pool."""
        raise NotImplementedError

    def sleep(self, seconds):
        """Sleep in the hub (other greenlets run meanwhile)."""
        raise NotImplementedError

    # -- boot -----------------------------------------------------------------------

    def init_process(self):
        need_package(self, self.package)
        if self.cfg.preload_app:
            # gunicorn warns about the same ordering problem: the master imported the
            # app (and what it imports) before this process patched anything.
            self.log.warning(
                "preload_app is set with worker class %r: the app was imported in the "
                "master before %s patched the standard library in the worker, so "
                "objects it created at import time (locks, sockets, threads) are not "
                "green. Turn preload_app off, or patch at the top of the config file.",
                self.cfg.worker_class_str, self.package)
        self.patch()
        # The channel socket was made in the zygote, before patching: wrap it so that
        # reads and writes wait in the hub instead of blocking every greenlet.
        self.sock = self.green_socket(self.sock)
        self.wlock = self.new_lock()
        super().init_process()

    def prepare(self):
        super().prepare()
        self.pool = self.new_pool(self.capacity)

    # -- signals: the handlers may run in the hub, which must never block ------------

    def handle_quit(self, sig, frame):
        self.spawn_raw(Worker.handle_quit, self, sig, frame)

    def handle_usr1(self, sig, frame):
        self.spawn_raw(Worker.handle_usr1, self, sig, frame)

    def wake_if_idle(self):
        if not self.exchanges:
            self._shutdown_read()

    # -- channel ----------------------------------------------------------------------

    def send(self, bufs, total):
        # A partial write waits in the hub; the lock keeps another greenlet's frame
        # from landing in the middle of this one.
        with self.wlock:
            Worker.send(self, bufs, total)

    def send_fd(self, bufs, fd, total):
        with self.wlock:
            Worker.send_fd(self, bufs, fd, total)

    def _heartbeat(self, interval):
        # A greenlet that sleeps in the hub: a greenlet that never yields (CPU work,
        # an unpatched blocking call) blocks the hub, this stops, and Go aborts the
        # worker after --timeout.
        while not self.closed:
            self.sleep(interval)
            if self.closed:
                return
            try:
                self.send_heartbeat()
            except ChannelClosed:
                return

    def dump_pending(self):
        """Log the stack of every live greenlet but the running one (which the
        thread dump shows), each headed with the request it serves."""
        import gc
        try:
            from greenlet import greenlet, getcurrent
        except ImportError:
            return
        current = getcurrent()
        parts = []
        for g in gc.get_objects():
            if not isinstance(g, greenlet) or g is current or g.dead:
                continue
            frame = g.gr_frame
            if frame is None:
                continue
            frames = []
            head = None
            f = frame
            while f is not None:
                frames.append(f)
                if head is None and f.f_code is GreenWorker._run_one.__code__:
                    env = f.f_locals.get("environ") or {}
                    ex = f.f_locals.get("ex")
                    head = "stream %s: %s %s" % (getattr(ex, "stream", "?"),
                                                 env.get("REQUEST_METHOD"),
                                                 env.get("RAW_URI"))
                f = f.f_back
            frames.reverse()
            parts.append("Greenlet %s at 0x%x%s, most recent call last:\n%s"
                         % (type(g).__name__, id(g), " serving " + head if head else "",
                            format_frames(frames)))
        self.log.error("Worker aborted (pid: %s). Stack of every live greenlet (%d):\n%s",
                       os.getpid(), len(parts), "\n".join(parts))

    def run(self):
        reader = self.reader
        recv_into = self.sock.recv_into
        exchanges = self.exchanges
        interval = heartbeat_interval(self.cfg)
        if interval is not None:
            self.spawn_raw(self._heartbeat, interval)
        try:
            while True:
                f = reader.next_frame()
                if f is None:
                    if not self.alive and not exchanges:
                        break
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
                    exchanges[stream] = ex
                    self.spawn(self._run_one, ex, environ)
                elif typ == REQ_BODY or typ == CANCEL:
                    ex = exchanges.get(stream)
                    if ex is None:
                        continue
                    if typ == CANCEL:
                        ex.cancelled = True
                    else:
                        ex.feed(bytes(payload), flags & END)
                    w = self.waiters.pop(stream, None)
                    if w is not None:
                        self.wake(w)
                else:
                    raise _wire.unexpected_frame(typ, flags, stream, payload)
        finally:
            self.closed = True
            waiters, self.waiters = self.waiters, {}
            for w in waiters.values():
                self.wake(w)
        self.join_pool()

    def _run_one(self, ex, environ):
        try:
            self.handle(ex, environ)
        except ChannelClosed:
            pass
        except BaseException:
            self.log.exception("Error handling request")
        finally:
            self.exchanges.pop(ex.stream, None)
            if not self.exchanges and not self.alive:
                # Last request done after TERM or RECYCLE: let the reader see EOF.
                self._shutdown_read()

    def wait_body(self, ex):
        while not (ex.inbox or ex.eof or ex.cancelled):
            if self.closed:
                raise ChannelClosed("worker channel closed while reading a body")
            w = self.new_waiter()
            self.waiters[ex.stream] = w
            try:
                self.wait(w)
            finally:
                if self.waiters.get(ex.stream) is w:
                    del self.waiters[ex.stream]

    def poll(self, ex):
        # A streaming app that never blocks would starve the reader greenlet, which
        # is what notices CANCEL.
        self.idle()


class GeventWorker(GreenWorker):
    name = "gevent"
    package = "gevent"

    def patch(self):
        from gevent import monkey
        monkey.patch_all()

    def green_socket(self, sock):
        from gevent import socket as gsocket
        return gsocket.socket(fileno=sock.detach())

    def new_pool(self, size):
        from gevent.pool import Pool
        return Pool(size)

    def spawn(self, fn, *args):
        self.pool.spawn(fn, *args)

    def spawn_raw(self, fn, *args):
        import gevent
        gevent.spawn(fn, *args)

    def join_pool(self):
        self.pool.join()

    def new_waiter(self):
        from gevent.event import Event
        return Event()

    def wake(self, waiter):
        waiter.set()

    def wait(self, waiter):
        waiter.wait()

    def new_lock(self):
        from gevent.lock import Semaphore
        return Semaphore(1)

    def idle(self):
        import gevent
        gevent.sleep(0)

    def sleep(self, seconds):
        import gevent
        gevent.sleep(seconds)
