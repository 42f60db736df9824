"""The eventlet worker: the greenlet worker of _ggevent.py on eventlet's hub.

gunicorn 26 removed its eventlet worker; gonicorn keeps it because apps written for it
(Flask-SocketIO style: ``threading.Thread`` + ``Event`` made green by monkey patching)
still deploy with ``-k eventlet``.
"""

import errno
import socket

from ._ggevent import GreenWorker
from ._worker import ChannelClosed


class EventletWorker(GreenWorker):
    name = "eventlet"
    package = "eventlet"

    def patch(self):
        import eventlet
        eventlet.monkey_patch()

    def green_socket(self, sock):
        from eventlet.greenio import GreenSocket
        return GreenSocket(sock)

    def new_pool(self, size):
        import eventlet
        return eventlet.GreenPool(size)

    def spawn(self, fn, *args):
        self.pool.spawn_n(fn, *args)

    def spawn_raw(self, fn, *args):
        import eventlet
        eventlet.spawn_n(fn, *args)

    def join_pool(self):
        self.pool.waitall()

    def new_waiter(self):
        from eventlet.event import Event
        return Event()

    def wake(self, waiter):
        if not waiter.ready():
            waiter.send(None)

    def wait(self, waiter):
        waiter.wait()

    def new_lock(self):
        from eventlet.semaphore import Semaphore
        return Semaphore(1)

    def idle(self):
        import eventlet
        eventlet.sleep(0)

    def sleep(self, seconds):
        import eventlet
        eventlet.sleep(seconds)

    # GreenSocket forwards sendmsg to the raw non-blocking socket, so a full buffer
    # shows up as EAGAIN: wait in the hub for room, then send the rest.

    def _sendmsg(self, bufs, anc):
        from eventlet.hubs import trampoline
        sock = self.sock
        while True:
            try:
                return sock.sendmsg(bufs, anc) if anc else sock.sendmsg(bufs)
            except (BlockingIOError, InterruptedError):
                trampoline(sock.fileno(), write=True)
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    trampoline(sock.fileno(), write=True)
                    continue
                raise ChannelClosed("worker channel closed while sending: %s" % e) from None

    def send(self, bufs, total):
        with self.wlock:
            n = self._sendmsg(bufs, None)
            if n != total:
                self._send_rest(bufs, n)

    def send_fd(self, bufs, fd, total):
        import array
        anc = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))]
        with self.wlock:
            n = self._sendmsg(bufs, anc)
            if n != total:
                self._send_rest(bufs, n)
