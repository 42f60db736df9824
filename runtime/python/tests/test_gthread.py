"""The gthread worker: concurrent requests, body routing, one writer at a time."""

import threading
import unittest

from gonicorn_runtime import _wire
from gonicorn_runtime._gthread import ThreadWorker

from .support import Harness, environ

END = _wire.FLAG_END


class GthreadTest(unittest.TestCase):
    def test_interleaved_requests(self):
        released = threading.Event()
        order = []

        def app(environ, start_response):
            path = environ["PATH_INFO"]
            start_response("200 OK", [("X-Path", path)])
            if path == "/slow":
                def gen():
                    yield b"slow-1,"
                    order.append("slow waiting")
                    released.wait(5)
                    yield b"slow-2"
                return gen()
            order.append("fast")
            return [b"fast"]

        with Harness(app, {"threads": 4}, cls=ThreadWorker) as h:
            self.assertEqual(h.hello["capacity"], 4)
            h.go.request(1, environ("GET", "/slow"))
            f = h.go.frame()
            self.assertEqual((f[0], f[2]), (_wire.RESPONSE, 1))
            h.go.request(2, environ("GET", "/fast"))
            status, headers, body, _ = h.go.response(2)
            self.assertEqual((body, headers), (b"fast", [("X-Path", "/fast")]))
            released.set()
            status, _, body, _ = h.go.response(1)
            self.assertEqual(body, b"slow-2")
            h.stop()
        self.assertEqual(order, ["slow waiting", "fast"])

    def test_bodies_routed_per_stream(self):
        got = {}

        def app(environ, start_response):
            got[environ["PATH_INFO"]] = environ["wsgi.input"].read()
            start_response("200 OK", [])
            return [got[environ["PATH_INFO"]][-3:]]

        with Harness(app, {"threads": 2}, cls=ThreadWorker) as h:
            h.go.request(1, environ("POST", "/a", 8), b"aa", end=False)
            h.go.request(2, environ("POST", "/b", 8), b"bb", end=False)
            asked = set()
            while len(asked) < 2:
                f = h.go.frame()
                self.assertEqual(f[0], _wire.MORE)
                asked.add(f[2])
            # Answer in the opposite order, in two pieces each.
            h.go.body(2, b"BBB")
            h.go.body(1, b"AAA")
            pending = {1: b"aaa", 2: b"bbb"}
            results = {}
            while len(results) < 2:
                f = h.go.frame()
                if f[0] == _wire.MORE:
                    h.go.body(f[2], pending.pop(f[2]), end=True)
                    continue
                self.assertEqual((f[0], f[1]), (_wire.RESPONSE, END))
                results[f[2]] = bytes(_wire.split_head(f[3])[1])
            h.stop()
        self.assertEqual(got, {"/a": b"aaAAAaaa", "/b": b"bbBBBbbb"})
        self.assertEqual(results, {1: b"aaa", 2: b"bbb"})

    def test_cancel_and_errors(self):
        gate = threading.Event()
        closed = []

        class It:
            def __iter__(self):
                yield b"x"
                gate.wait(5)
                yield b"y"

            def close(self):
                closed.append(True)

        def app(environ, start_response):
            if environ["PATH_INFO"] == "/boom":
                raise RuntimeError("boom")
            if environ["PATH_INFO"] == "/body":
                environ["wsgi.input"].read()
            start_response("200 OK", [])
            return It()

        with Harness(app, {"threads": 3}, cls=ThreadWorker) as h:
            h.go.request(1, environ())
            self.assertEqual(h.go.frame()[0], _wire.RESPONSE)
            h.go.cancel(1)
            h.go.request(3, environ("POST", "/body", 10), b"", end=False)
            self.assertEqual(h.go.frame()[:3], (_wire.MORE, 0, 3))
            h.go.cancel(3)
            h.go.request(2, environ("GET", "/boom"))
            status, _, _, _ = h.go.response(2)
            self.assertEqual(status, "500 Internal Server Error")
            gate.set()
            h.go.cancel(77)  # unknown stream: ignored
            h.go.body(78, b"", end=True)
            h.stop()
            log = h.logtext()
        self.assertEqual(closed, [True])
        self.assertIn("Error handling request GET /boom", log)

    def test_term_waits_for_in_flight(self):
        gate = threading.Event()

        def app(environ, start_response):
            start_response("200 OK", [])
            gate.wait(5)
            return [b"done"]

        with Harness(app, {"threads": 2}, cls=ThreadWorker) as h:
            h.go.request(1, environ())
            threading.Event().wait(0.05)
            h.worker.handle_exit(15, None)
            self.assertTrue(h.thread.is_alive())
            gate.set()
            status, _, body, _ = h.go.response(1)
            self.assertEqual(body, b"done")
            h.thread.join(5)
            self.assertFalse(h.thread.is_alive())

    def test_idle_term_and_recycle(self):
        def app(environ, start_response):
            start_response("200 OK", [])
            return [b"ok"]

        with Harness(app, {"threads": 2}, cls=ThreadWorker) as h:
            h.worker.handle_exit(15, None)
            h.thread.join(5)
            self.assertFalse(h.thread.is_alive())
        with Harness(app, {"threads": 2, "max_requests": 1}, cls=ThreadWorker) as h:
            h.go.request(1, environ())
            _, _, body, frames = h.go.response(1)
            self.assertEqual(frames[0][0], _wire.RECYCLE)
            h.go.request(2, environ())
            self.assertEqual(h.go.response(2)[0], "200 OK")
            h.worker.handle_exit(15, None)
            h.thread.join(5)
            self.assertFalse(h.thread.is_alive())


if __name__ == "__main__":
    unittest.main()
