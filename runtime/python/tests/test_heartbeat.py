"""HEARTBEAT: every class but sync beats from its main loop while --timeout is set.

The simulated Go side times the frames; a main loop that is stuck (asgi: time.sleep in
an async def; gthread: a stuck reader thread; gevent: a greenlet that never yields)
must go silent, since that silence is what makes Go abort the worker.
"""

import asyncio
import importlib.util
import os
import signal
import socket
import time
import unittest

from gonicorn_runtime import _wire
from gonicorn_runtime._gthread import ThreadWorker

from . import support, test_asgi_support
from .support import environ

HB = _wire.HEARTBEAT


def beats(go, n, limit=10.0):
    """Read frames until ``n`` HEARTBEATs arrived: (their arrival times, other frames)."""
    times, others = [], []
    deadline = time.monotonic() + limit
    while len(times) < n:
        if time.monotonic() > deadline:
            raise AssertionError("only %d HEARTBEATs in %.1f s" % (len(times), limit))
        f = go.frame()
        if f is None:
            raise EOFError("channel closed; frames so far: %r" % others)
        if f[0] == HB:
            assert f[2] == 0 and f[3] == b"", f
            times.append(time.monotonic())
        else:
            others.append(f)
    return times, others


def gaps(times):
    return [b - a for a, b in zip(times, times[1:])]


def ok_app(environ, start_response):
    start_response("200 OK", [("Content-Length", "2")])
    return [b"ok"]


class SyncTest(unittest.TestCase):
    def test_no_heartbeat(self):
        with support.Harness(ok_app, {"timeout": 1}) as h:
            self.assertIs(h.hello["heartbeat"], False)
            h.go.sock.settimeout(1.5)
            with self.assertRaises(socket.timeout):
                f = h.go.frame()
                self.fail("got %r; want no frame" % (f,))
            h.go.sock.settimeout(10)


class GthreadTest(unittest.TestCase):
    def harness(self, app=ok_app, timeout=1):
        return support.Harness(app, {"timeout": timeout, "threads": 2}, cls=ThreadWorker)

    def test_hello_says_heartbeat(self):
        with self.harness(timeout=0) as h:
            self.assertIs(h.hello["heartbeat"], True)

    def test_idle_beats_every_half_timeout(self):
        with self.harness() as h:
            times, others = beats(h.go, 4)
            self.assertEqual(others, [])
            for g in gaps(times):
                self.assertTrue(0.3 < g < 0.9, "gap %.2f s; want about 0.5 s" % g)

    def test_busy_pool_keeps_beating(self):
        # The main thread only reads: a long request in the pool is not a hang.
        def slow(environ, start_response):
            time.sleep(1.6)
            return ok_app(environ, start_response)
        with self.harness(slow) as h:
            h.go.request(1, environ())
            times, others = beats(h.go, 3)
            self.assertEqual(others, [])
            status, _, body, _ = h.go.response(1)
            self.assertEqual((status, body), ("200 OK", b"ok"))

    def test_stuck_main_thread_stops_beating(self):
        with self.harness() as h:
            new_exchange = h.worker.new_exchange

            def stuck(*args):
                time.sleep(1.8)  # the reader thread hangs on this request
                return new_exchange(*args)
            h.worker.new_exchange = stuck
            beats(h.go, 1)
            h.go.request(1, environ())
            t0 = time.monotonic()
            times, others = beats(h.go, 1)
            self.assertGreater(times[0] - t0, 1.2)

    def test_no_timeout_no_beats(self):
        with self.harness(timeout=0) as h:
            h.go.sock.settimeout(1.2)
            with self.assertRaises(socket.timeout):
                h.go.frame()
            h.go.sock.settimeout(10)


def have(name):
    return importlib.util.find_spec(name) is not None


class ASGITest(unittest.TestCase):
    def harness(self, app, timeout=1):
        return test_asgi_support.Harness(app, {"timeout": timeout})

    @staticmethod
    async def app(scope, receive, send):
        if scope["path"] == "/block":
            time.sleep(1.8)  # blocks the loop: the bug the heartbeat catches
        elif scope["path"] == "/slow":
            await asyncio.sleep(5)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    def test_hello_says_heartbeat(self):
        with self.harness(self.app, timeout=0) as h:
            self.assertIs(h.hello["heartbeat"], True)

    def test_idle_beats_every_half_timeout(self):
        with self.harness(self.app) as h:
            times, others = beats(h.go, 4)
            self.assertEqual(others, [])
            for g in gaps(times):
                self.assertTrue(0.3 < g < 0.9, "gap %.2f s; want about 0.5 s" % g)

    def test_blocked_loop_stops_beating(self):
        with self.harness(self.app) as h:
            beats(h.go, 1)
            h.go.request(1, test_asgi_support.scope("/block"))
            t0 = time.monotonic()
            # The response and the next beat both wait for the blocking call.
            times, others = beats(h.go, 1)
            self.assertGreater(times[0] - t0, 1.2)
            self.assertTrue(any(f[0] == _wire.RESPONSE for f in others), others)
            # Unblocked, it beats again at the usual pace.
            times, _ = beats(h.go, 2)
            self.assertLess(gaps(times)[0], 0.9)

    def test_abort_dumps_task_stacks(self):
        with self.harness(self.app, timeout=0) as h:
            h.go.request(1, test_asgi_support.scope("/slow"))
            time.sleep(0.2)
            h.call(h.worker.dump_pending)
            text = h.logtext()
            self.assertIn("Stack of every pending asyncio task", text)
            self.assertIn("serving stream 1: GET /slow", text)
            self.assertIn("await asyncio.sleep(5)", text)


@unittest.skipUnless(have("gevent"), "gevent is not installed")
class GeventTest(unittest.TestCase):
    worker_class = "gevent"
    APP = """
        import time

        def app(environ, start_response):
            path = environ["PATH_INFO"]
            if path == "/spin":
                t = time.time()
                while time.time() - t < 1.8:  # never yields: the hub is stuck
                    pass
            elif path == "/slow":
                time.sleep(30)  # green: the library patched time
            start_response("200 OK", [("Content-Length", "2")])
            return [b"ok"]
    """

    def harness(self, timeout=1):
        from . import test_greenlets
        return test_greenlets.ProcHarness(
            "hbapp:app", {"hbapp.py": self.APP},
            {"worker_class": self.worker_class, "timeout": timeout})

    def test_idle_beats_and_hello(self):
        with self.harness() as h:
            self.assertIs(h.hello["heartbeat"], True)
            times, others = beats(h.go, 4)
            self.assertEqual(others, [])
            for g in gaps(times):
                self.assertTrue(0.3 < g < 0.9, "gap %.2f s; want about 0.5 s" % g)

    def test_blocked_hub_stops_beating(self):
        with self.harness() as h:
            beats(h.go, 1)
            h.go.request(1, environ("GET", "/spin"))
            t0 = time.monotonic()
            times, others = beats(h.go, 1)
            self.assertGreater(times[0] - t0, 1.2)

    def test_abort_dumps_greenlet_stacks(self):
        with self.harness(timeout=0) as h:
            h.go.request(1, environ("GET", "/slow"))
            time.sleep(0.5)
            os.kill(h.proc.pid, signal.SIGABRT)
            h.proc.wait(10)
            text = h.logtext()
            self.assertIn("Stack of every live greenlet", text)
            self.assertIn("serving stream 1: GET /slow", text)
            self.assertIn("time.sleep(30)", text)


@unittest.skipUnless(have("eventlet"), "eventlet is not installed")
class EventletTest(GeventTest):
    worker_class = "eventlet"


@unittest.skipUnless(have("tornado"), "tornado is not installed")
class TornadoTest(unittest.TestCase):
    """The asyncio loop of AsyncWorker (tornado, aiohttp)."""

    def test_idle_beats_and_hello(self):
        from . import test_greenlets
        with test_greenlets.ProcHarness(
                "hbapp:app", {"hbapp.py": GeventTest.APP},
                {"worker_class": "tornado", "timeout": 1}) as h:
            self.assertIs(h.hello["heartbeat"], True)
            times, others = beats(h.go, 3)
            self.assertEqual(others, [])
            for g in gaps(times):
                self.assertTrue(0.3 < g < 0.9, "gap %.2f s; want about 0.5 s" % g)


if __name__ == "__main__":
    unittest.main()
