"""Round trips through the asgi worker with a simulated Go side."""

import asyncio
import marshal
import os
import socket
import struct
import time
import unittest
from http import HTTPStatus

from gonicorn_runtime import _app, _boot, _server, _wire, _log
from gonicorn_runtime import _asgi
from gonicorn_runtime._asgi import ASGIWorker
from gonicorn_runtime._sync import SyncWorker
from gonicorn_runtime._worker import ERROR_500_BODY

from .test_asgi_support import Harness, scope, head as asgi_head

END = _wire.FLAG_END


async def hello_app(scope, receive, send):
    assert scope["type"] == "http"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")]})
    await send({"type": "http.response.body", "body": b"hello"})


class HTTPTest(unittest.TestCase):
    def test_hello(self):
        with Harness(hello_app, {"asgi_lifespan": "auto"}) as h:
            self.assertEqual(h.hello["app_kind"], "asgi")
            self.assertEqual(h.hello["worker_class"], "asgi")
            self.assertEqual(h.hello["capacity"], 1000)
            h.go.request(1, scope())
            status, headers, body, frames = h.go.response(1)
            self.assertEqual((status, body), ("200 OK", b"hello"))
            self.assertEqual(headers, [("content-type", "text/plain"), ("content-length", "5")])
            self.assertEqual([(f[0], f[1]) for f in frames], [(_wire.RESPONSE, END)],
                             "got %r; want one RESPONSE with END" % frames)
            h.stop()
            self.assertIsNone(h.error)

    def test_capacity_is_worker_connections(self):
        with Harness(hello_app, {"worker_connections": 7}) as h:
            self.assertEqual(h.hello["capacity"], 7)

    def test_scope(self):
        seen = {}

        async def app(sc, receive, send):
            seen.update(sc)
            await send({"type": "http.response.start", "status": 204})
            await send({"type": "http.response.body"})

        with Harness(app) as h:
            h.go.request(1, scope("/a b", query=b"x=1"))
            status, _, body, _ = h.go.response(1)
            self.assertEqual((status, body), ("204 No Content", b""))
        self.assertNotIn("gonicorn.body", seen)
        for k, v in (("type", "http"), ("asgi", {"version": "3.0", "spec_version": "2.4"}),
                     ("path", "/a b"), ("query_string", b"x=1"), ("state", {}),
                     ("extensions", {}), ("client", ("127.0.0.1", 5555)),
                     ("headers", [(b"host", b"localhost")]), ("method", "GET"),
                     ("http_version", "1.1"), ("root_path", "")):
            self.assertEqual(seen[k], v, k)

    def test_status_lines_and_dropped_headers(self):
        cases = [(200, "200 OK"), (404, "404 Not Found"), (599, "599"), (418, "418 I'm a Teapot")]
        for code, want in cases:
            async def app(sc, receive, send, code=code):
                await send({"type": "http.response.start", "status": code,
                            "headers": [(b"Server", b"x"), (b"date", b"y"), (b"X-A", b"b")]})
                await send({"type": "http.response.body", "body": b""})
            with Harness(app) as h:
                h.go.request(1, scope())
                status, headers, _, _ = h.go.response(1)
            self.assertEqual(status, want)
            self.assertEqual(headers, [("X-A", "b")])

    def test_repeated_heads_come_from_the_cache_unchanged(self):
        """The marshalled head is cached by (status, headers): the same start twice gives
        the same answer, a 204's Content-Length is dropped each time, a HEAD request does
        not stop the next GET's body."""
        _asgi._HEAD_CACHE.clear()
        start = {"type": "http.response.start", "status": 200,
                 "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")]}
        nocontent = {"type": "http.response.start", "status": 204,
                     "headers": [(b"content-length", b"0"), (b"x-a", b"1")]}

        async def app(sc, receive, send):
            path = sc["path"]
            if path == "/204":
                await send(dict(nocontent))
            else:
                await send(dict(start, headers=list(start["headers"])))
            await send({"type": "http.response.body", "body": b"ok"})

        with Harness(app) as h:
            answers = []
            for i, (method, path) in enumerate([("GET", "/"), ("HEAD", "/"), ("GET", "/"),
                                                ("GET", "/204"), ("GET", "/204")], 1):
                h.go.request(i, scope(path, method=method))
                answers.append(h.go.response(i)[:3])
            h.stop()
        want = ("200 OK", [("content-type", "text/plain"), ("content-length", "2")], b"ok")
        self.assertEqual(answers[0], want)
        self.assertEqual(answers[1], want[:2] + (b"",))
        self.assertEqual(answers[2], want)
        self.assertEqual(answers[3], ("204 No Content", [("x-a", "1")], b""))
        self.assertEqual(answers[4], answers[3])
        self.assertEqual(len(_asgi._HEAD_CACHE), 2)

    def test_body_in_streamed(self):
        got = []

        async def app(sc, receive, send):
            while True:
                m = await receive()
                got.append(m)
                if not m.get("more_body"):
                    break
            body = b"".join(m["body"] for m in got)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})

        with Harness(app) as h:
            h.go.request(1, scope(method="POST", body_len=-1), b"abc", end=False)
            f = h.go.frame()
            self.assertEqual((f[0], f[2]), (_wire.MORE, 1))
            self.assertEqual(_wire.parse_more(f[3]), 65536)
            h.go.body(1, b"def")
            f = h.go.frame()
            self.assertEqual(f[0], _wire.MORE, "asks again once the answer is used up")
            h.go.body(1, b"gh", end=True)
            status, _, body, _ = h.go.response(1)
            self.assertEqual(body, b"abcdefgh")
        self.assertEqual([m["more_body"] for m in got], [True, True, False])

    def test_body_out_streamed_sse(self):
        async def app(sc, receive, send):
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"text/event-stream")]})
            for i in range(3):
                await send({"type": "http.response.body", "body": b"data: %d\n\n" % i,
                            "more_body": True})
                await asyncio.sleep(0.01)
            await send({"type": "http.response.body", "body": b"", "more_body": False})

        with Harness(app) as h:
            h.go.request(1, scope())
            status, _, body, frames = h.go.response(1)
        self.assertEqual(body, b"data: 0\n\ndata: 1\n\ndata: 2\n\n")
        self.assertEqual([(f[0], f[1]) for f in frames],
                         [(_wire.RESPONSE, 0), (_wire.RESP_BODY, 0), (_wire.RESP_BODY, 0),
                          (_wire.RESP_BODY, END)])
        self.assertEqual(frames[0][3][-len(b"data: 0\n\n"):], b"data: 0\n\n",
                         "the first body chunk rides in the RESPONSE frame")

    def test_head_omits_body(self):
        with Harness(hello_app) as h:
            h.go.request(1, scope(method="HEAD"))
            status, headers, body, _ = h.go.response(1)
        self.assertEqual((status, body), ("200 OK", b""))
        self.assertIn(("content-length", "5"), headers)

    def test_start_without_body_ends_response(self):
        async def app(sc, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})

        with Harness(app) as h:
            h.go.request(1, scope())
            status, _, body, frames = h.go.response(1)
        self.assertEqual((status, body, frames[-1][1]), ("200 OK", b"", END))

    def test_error_before_start_is_500(self):
        async def app(sc, receive, send):
            raise ValueError("boom")

        with Harness(app) as h:
            h.go.request(1, scope("/x"))
            status, headers, body, _ = h.go.response(1)
            self.assertEqual((status, body), ("500 Internal Server Error", ERROR_500_BODY))
            h.stop()
            log = h.logtext()
        self.assertIn("[ERROR] Error in ASGI application", log)
        self.assertIn("ValueError: boom", log)

    def test_no_response_is_500(self):
        async def app(sc, receive, send):
            pass

        with Harness(app) as h:
            h.go.request(1, scope())
            status, _, _, _ = h.go.response(1)
            h.stop()
            self.assertEqual(status, "500 Internal Server Error")
            self.assertIn("ASGI callable returned without starting response.", h.logtext())

    def test_error_after_start_aborts(self):
        async def app(sc, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"part", "more_body": True})
            raise RuntimeError("mid-body")

        with Harness(app) as h:
            h.go.request(1, scope())
            _, _, body, frames = h.go.response(1)
        self.assertEqual(body, b"part")
        self.assertEqual((frames[-1][0], frames[-1][1]), (_wire.ABORT, END))
        self.assertIn(b"mid-body", frames[-1][3])

    def test_informational_103(self):
        async def app(sc, receive, send):
            await send({"type": "http.response.informational", "status": 103,
                        "headers": [(b"link", b"</s.css>; rel=preload")]})
            await hello_app(sc, receive, send)

        with Harness(app) as h:
            h.go.request(1, scope())
            f = h.go.frame()
            self.assertEqual((f[0], f[2]), (_asgi.INFO, 1))
            self.assertEqual(marshal.loads(f[3]), ("103 Early Hints",
                                                   [("link", "</s.css>; rel=preload")]))
            status, _, body, _ = h.go.response(1)
            self.assertEqual(body, b"hello")

    def test_disconnect_then_cancel_after_grace(self):
        events = []

        async def app(sc, receive, send):
            m = await receive()
            events.append(m["type"])
            if sc["path"] == "/next":
                return await hello_app(sc, receive, send)
            m = await receive()  # body done: waits for the disconnect
            events.append(m["type"])
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                events.append("cancelled")
                raise

        with Harness(app, {"asgi_disconnect_grace_period": 1}) as h:
            h.go.request(1, scope())
            time.sleep(0.1)
            t0 = time.monotonic()
            h.go.cancel(1)
            deadline = time.monotonic() + 5
            while "cancelled" not in events and time.monotonic() < deadline:
                time.sleep(0.02)
            waited = time.monotonic() - t0
            self.assertEqual(events, ["http.request", "http.disconnect", "cancelled"])
            self.assertGreater(waited, 0.8)
            self.assertEqual(h.worker.streams, {})
            # Nothing is sent for a cancelled stream; the next request still works.
            h.go.request(2, scope("/next"))
            f = h.go.frame()
            self.assertEqual((f[0], f[2]), (_wire.RESPONSE, 2), "nothing sent for stream 1")

    def test_send_after_disconnect_raises_oserror(self):
        seen = []

        async def app(sc, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            try:
                while True:
                    await send({"type": "http.response.body", "body": b"x", "more_body": True})
                    await asyncio.sleep(0.01)
            except OSError as e:
                seen.append(type(e).__name__)

        with Harness(app) as h:
            h.go.request(1, scope())
            h.go.frame()
            h.go.cancel(1)
            deadline = time.monotonic() + 5
            while not seen and time.monotonic() < deadline:
                time.sleep(0.02)
        self.assertEqual(seen, ["ClientDisconnected"])

    def test_receive_after_response_is_disconnect(self):
        got = []

        async def app(sc, receive, send):
            await receive()
            await hello_app(sc, receive, send)
            got.append(await receive())

        with Harness(app) as h:
            h.go.request(1, scope())
            h.go.response(1)
            h.stop()
        self.assertEqual(got, [{"type": "http.disconnect"}])

    def test_pending_receive_woken_by_response_end(self):
        # Starlette before spec 2.4 listens for the disconnect while it streams.
        got = []

        async def app(sc, receive, send):
            await receive()

            async def listen():
                got.append(await receive())
            t = asyncio.ensure_future(listen())
            await asyncio.sleep(0.01)
            await send({"type": "http.response.start", "status": HTTPStatus.CREATED})
            await send({"type": "http.response.body", "body": b"x"})
            await asyncio.wait_for(t, 2)

        with Harness(app) as h:
            h.go.request(1, scope())
            self.assertEqual(h.go.response(1)[0], "201 Created")
            h.stop()
        self.assertEqual(got, [{"type": "http.disconnect"}])

    def test_concurrent_streams_interleave(self):
        gate = {}

        async def app(sc, receive, send):
            path = sc["path"]
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": path.encode() + b"-1,",
                        "more_body": True})
            if path == "/slow":
                gate["ev"] = ev = asyncio.Event()
                await ev.wait()
            await send({"type": "http.response.body", "body": path.encode() + b"-2"})

        with Harness(app) as h:
            h.go.request(1, scope("/slow"))
            f = h.go.frame()
            self.assertEqual((f[0], f[2]), (_wire.RESPONSE, 1))
            for i in range(2, 6):
                h.go.request(i, scope("/f%d" % i))
            bodies = {}
            done = set()
            while len(done) < 4:
                f = h.go.frame()
                self.assertNotEqual(f[2], 1)
                data = _wire.split_head(f[3])[1] if f[0] == _wire.RESPONSE else f[3]
                bodies[f[2]] = bodies.get(f[2], b"") + bytes(data)
                if f[1] & END:
                    done.add(f[2])
            self.assertEqual(bodies[3], b"/f3-1,/f3-2")
            h.call(lambda: gate["ev"].set())
            f = h.go.frame()
            self.assertEqual((f[0], f[1], f[2], f[3]), (_wire.RESP_BODY, END, 1, b"/slow-2"))

    def test_batched_writes(self):
        # Requests that arrive together are answered in one write.
        with Harness(hello_app) as h:
            frames = b""
            for i in range(1, 21):
                head = asgi_head(scope())
                frames += _wire.encode_frame(_wire.REQUEST, END, i,
                                             struct.pack("<I", len(head)) + head)
            h.go.sock.sendall(frames)
            got = set()
            while len(got) < 20:
                got.add(h.go.frame()[2])
            self.assertEqual(got, set(range(1, 21)))

    def test_backpressure(self):
        sizes = []

        async def app(sc, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for _ in range(8):
                await send({"type": "http.response.body", "body": b"x" * (1 << 20),
                            "more_body": True})
                sizes.append(h.worker.transport.get_write_buffer_size())
            await send({"type": "http.response.body", "body": b""})

        h = Harness(app)
        # This test is about the channel (Go not reading it), not the WINDOW credit.
        old, _asgi.HTTPCycle.credit = _asgi.HTTPCycle.credit, 1 << 40
        try:
            with h:
                h.go.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
                h.go.request(1, scope())
                time.sleep(0.3)
                # Go is not reading: the app is held at the high-water mark.
                self.assertLessEqual(len(sizes), 3, sizes)
                _, _, body, _ = h.go.response(1)
        finally:
            _asgi.HTTPCycle.credit = old
        self.assertEqual(len(body), 8 << 20)

    def test_window(self):
        # A client that reads nothing: Go grants no WINDOW, so send() stops once the
        # initial window is spent, and goes on when Go grants more.
        sent = []

        async def app(sc, receive, send):
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for i in range(4):
                await send({"type": "http.response.body", "body": b"x" * (512 << 10),
                            "more_body": True})
                sent.append(i)
            await send({"type": "http.response.body", "body": b""})

        with Harness(app) as h:
            h.go.request(1, scope())
            time.sleep(0.3)
            self.assertEqual(sent, [0, 1], "1 MiB window: two 512 KiB sends, then wait")
            h.go.send(_wire.WINDOW, 0, 1, struct.pack("<I", 1 << 20))
            _, _, body, _ = h.go.response(1)
        self.assertEqual(sent, [0, 1, 2, 3])
        self.assertEqual(len(body), 2 << 20)

    def test_max_requests_recycles(self):
        with Harness(hello_app, {"max_requests": 2}) as h:
            h.go.request(1, scope())
            h.go.response(1)
            h.go.request(2, scope())
            _, _, _, frames = h.go.response(2)
            self.assertIn(_wire.RECYCLE, [f[0] for f in frames])
            h.go.request(3, scope())
            status, _, _, _ = h.go.response(3)
            self.assertEqual(status, "200 OK", "still serves what Go sends until TERM")

    def test_hooks(self):
        calls = []

        def pre_request(worker, req):
            calls.append(("pre", req.method, req.path, worker.cfg.worker_class))

        def post_request(worker, req, environ, resp):
            calls.append(("post", environ["PATH_INFO"], resp.status, resp.sent))

        class Mod:
            pass
        mod = Mod()
        mod.pre_request = pre_request
        mod.post_request = post_request
        with Harness(hello_app, module=mod) as h:
            h.go.request(1, scope("/p"))
            h.go.response(1)
            h.stop()
        self.assertEqual(calls, [("pre", "GET", "/p", "asgi"), ("post", "/p", 200, 5)])

    def test_asgi2_app(self):
        class App2:
            def __init__(self, scope):
                self.scope = scope

            async def __call__(self, receive, send):
                await send({"type": "http.response.start", "status": 200, "headers": []})
                await send({"type": "http.response.body", "body": b"v2"})

        self.assertEqual(_app.asgi_version(App2), "2.0")
        self.assertEqual(_app.app_kind(App2), "asgi")
        with Harness(App2) as h:
            h.go.request(1, scope())
            _, _, body, _ = h.go.response(1)
        self.assertEqual(body, b"v2")

    def test_term_waits_for_streams(self):
        async def app(sc, receive, send):
            await asyncio.sleep(0.3)
            await hello_app(sc, receive, send)

        with Harness(app) as h:
            h.go.request(1, scope())
            time.sleep(0.05)
            h.term()
            status, _, _, _ = h.go.response(1)
            self.assertEqual(status, "200 OK")
            h.join()
            self.assertEqual(h.exit_code, 0)

    def test_protocol_error(self):
        with Harness(hello_app) as h:
            h.go.sock.sendall(b"Hello world, stray output")
            h.join()
            self.assertIsInstance(h.error, _wire.ProtocolError)


class LifespanTest(unittest.TestCase):
    @staticmethod
    def lifespan_app(fail=None, events=None):
        async def app(sc, receive, send):
            if sc["type"] == "lifespan":
                m = await receive()
                events.append(m["type"])
                if fail == "raise":
                    raise RuntimeError("no db")
                if fail == "message":
                    await send({"type": "lifespan.startup.failed", "message": "no db"})
                    return
                sc["state"]["db"] = "conn"
                await send({"type": "lifespan.startup.complete"})
                m = await receive()
                events.append(m["type"])
                await send({"type": "lifespan.shutdown.complete"})
                return
            body = b"db=" + sc["state"].get("db", "-").encode()
            sc["state"]["db"] = "changed by a request"
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
        return app

    def test_state_shared_and_shutdown_on_term(self):
        events = []
        with Harness(self.lifespan_app(events=events), {"asgi_lifespan": "auto"}) as h:
            self.assertEqual(events, ["lifespan.startup"])
            for i in (1, 2):
                h.go.request(i, scope())
                _, _, body, _ = h.go.response(i)
                self.assertEqual(body, b"db=conn", "each request gets a copy of the state")
            h.term()
            h.join()
        self.assertEqual(events, ["lifespan.startup", "lifespan.shutdown"])
        self.assertEqual(h.worker.state, {"db": "conn"})

    def test_quit_skips_shutdown(self):
        events = []
        with Harness(self.lifespan_app(events=events), {"asgi_lifespan": "on"}) as h:
            h.quit()
            h.join()
        self.assertEqual(events, ["lifespan.startup"])

    def test_off(self):
        events = []
        with Harness(self.lifespan_app(events=events), {"asgi_lifespan": "off"}) as h:
            h.go.request(1, scope())
            _, _, body, _ = h.go.response(1)
        self.assertEqual((events, body), ([], b"db=-"))

    def test_auto_unsupported(self):
        async def app(sc, receive, send):
            if sc["type"] != "http":
                raise ValueError("only http here")
            await hello_app(sc, receive, send)

        with Harness(app, {"loglevel": "debug", "asgi_lifespan": "auto"}) as h:
            h.go.request(1, scope())
            status, _, _, _ = h.go.response(1)
            h.stop()
            self.assertEqual(status, "200 OK")
            self.assertIn("ASGI lifespan not supported by app: ValueError: only http here",
                          h.logtext())

    def test_on_failing_startup(self):
        # gunicorn: log, return without serving (exit 0; the master respawns).
        for fail in ("raise", "message"):
            events = []
            with Harness(self.lifespan_app(fail, events), {"asgi_lifespan": "on"},
                         hello=False) as h:
                h.join()
                self.assertIsNone(h.go.frame(), "no HELLO after a failed startup")
                self.assertEqual(h.exit_code, 0)
                self.assertIn("[ERROR] ASGI lifespan startup failed: Lifespan startup failed: "
                              + ("RuntimeError: no db" if fail == "raise" else "no db"),
                              h.logtext())

    def test_uvicorn_name_failing_startup_exits_3(self):
        with Harness(self.lifespan_app("message", []),
                     {"worker_class": "uvicorn.workers.UvicornWorker", "asgi_lifespan": "auto"},
                     hello=False) as h:
            h.join()
            self.assertEqual(h.exit_code, _app.WORKER_BOOT_ERROR)

    def test_auto_failed_message_serves(self):
        with Harness(self.lifespan_app("message", []), {"asgi_lifespan": "auto"}) as h:
            h.go.request(1, scope())
            status, _, _, _ = h.go.response(1)
            self.assertEqual(status, "200 OK")


class WebSocketTest(unittest.TestCase):
    def ws(self, app, sub=None):
        h = Harness(app)
        h.__enter__()
        self.addCleanup(h.__exit__, None, None, None)
        h.go.request(1, scope("/ws", type="websocket", subprotocols=sub))
        return h

    def test_echo(self):
        seen = {}

        async def app(sc, receive, send):
            seen["scope"] = sc
            assert (await receive())["type"] == "websocket.connect"
            await send({"type": "websocket.accept", "subprotocol": "chat",
                        "headers": [(b"x-a", b"1")]})
            while True:
                m = await receive()
                if m["type"] == "websocket.disconnect":
                    seen["close"] = m
                    return
                if "text" in m:
                    await send({"type": "websocket.send", "text": m["text"] + "!"})
                else:
                    await send({"type": "websocket.send", "bytes": m["bytes"][::-1]})

        h = self.ws(app, ["chat", "v2"])
        f = h.go.frame()
        self.assertEqual((f[0], f[2]), (_asgi.WS_ACCEPT, 1))
        self.assertEqual(marshal.loads(f[3]), ("chat", [("x-a", "1")]))
        h.go.ws_msg(1, "héllo")
        f = h.go.frame()
        self.assertEqual((f[0], f[3]), (_asgi.WS_MSG, b"\x01" + "héllo!".encode()))
        h.go.ws_msg(1, b"\x00\x01\x02")
        f = h.go.frame()
        self.assertEqual((f[0], f[3]), (_asgi.WS_MSG, b"\x02\x02\x01\x00"))
        h.go.ws_close(1, 1001, "bye")
        deadline = time.monotonic() + 5
        while "close" not in seen and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(seen["close"], {"type": "websocket.disconnect", "code": 1001,
                                         "reason": "bye"})
        self.assertEqual(seen["scope"]["subprotocols"], ["chat", "v2"])
        self.assertEqual(seen["scope"]["type"], "websocket")

    def test_close_before_accept(self):
        async def app(sc, receive, send):
            await receive()
            await send({"type": "websocket.close", "code": 1008})

        h = self.ws(app)
        f = h.go.frame()
        self.assertEqual((f[0], f[1], f[3]), (_asgi.WS_CLOSE, END, struct.pack("<H", 1008)))

    def test_server_close_after_accept(self):
        async def app(sc, receive, send):
            await receive()
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": "bye"})
            await send({"type": "websocket.close", "code": 1000, "reason": "done"})

        h = self.ws(app)
        types = [h.go.frame()[0] for _ in range(3)]
        self.assertEqual(types, [_asgi.WS_ACCEPT, _asgi.WS_MSG, _asgi.WS_CLOSE])

    def test_app_error_closes_1011(self):
        async def app(sc, receive, send):
            await receive()
            await send({"type": "websocket.accept"})
            raise RuntimeError("ws boom")

        h = self.ws(app)
        h.go.frame()
        f = h.go.frame()
        self.assertEqual((f[0], f[3][:2]), (_asgi.WS_CLOSE, struct.pack("<H", 1011)))

    def test_too_big_closes_1009(self):
        errors = []

        async def app(sc, receive, send):
            await receive()
            await send({"type": "websocket.accept"})
            try:
                await send({"type": "websocket.send", "bytes": b"x" * _wire.MAX_PAYLOAD})
            except ValueError as e:
                errors.append(str(e))

        h = self.ws(app)
        h.go.frame()
        f = h.go.frame()
        self.assertEqual((f[0], f[3][:2]), (_asgi.WS_CLOSE, struct.pack("<H", 1009)))
        deadline = time.monotonic() + 5
        while not errors and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertTrue(errors and "1009" in errors[0], errors)


class BootTest(unittest.TestCase):
    def server(self, settings, app, uri="app:app"):
        cfg = _server.Config(dict({"errorlog": os.devnull}, **settings))
        log = _log.Logger(cfg)
        application = _server.Application(cfg, uri)
        application.callable = app
        return _server.Server(cfg, log, application)

    def test_worker_class_names(self):
        for name in ("asgi", "uvicorn.workers.UvicornWorker", "uvicorn.workers.UvicornH11Worker",
                     "uvicorn_worker.UvicornWorker", "gunicorn.workers.gasgi.ASGIWorker"):
            cls, warning = _boot.worker_class(_server.Config({"worker_class": name}))
            self.assertEqual((cls, warning), (ASGIWorker, None), name)

    def test_asgi_app_under_sync_switches_with_one_warning(self):
        messages = []
        srv = self.server({}, hello_app)
        srv.log.warning = lambda msg, *a: messages.append(msg % a)
        a, b = socket.socketpair()
        self.addCleanup(a.close)
        self.addCleanup(b.close)
        w = SyncWorker(1, os.getpid(), b, srv.app, 15, srv.cfg, srv.log, worker_id=3)
        w2 = _boot.serve_asgi_apps(srv, w)
        self.assertIsInstance(w2, ASGIWorker)
        self.assertEqual((w2.worker_id, w2.sock), (3, b))
        self.assertEqual(messages, [
            "Application 'app:app' is an ASGI app; serving it with the asgi worker class. "
            "Use -k asgi (or -k uvicorn.workers.UvicornWorker) to make this explicit."])

    def test_wsgi_app_under_sync_stays(self):
        def wsgi(environ, start_response):
            return []
        srv = self.server({}, wsgi)
        w = SyncWorker(1, os.getpid(), None, srv.app, 15, srv.cfg, srv.log)
        self.assertIs(_boot.serve_asgi_apps(srv, w), w)

    def test_wsgi_app_under_asgi_is_app_load_error(self):
        def wsgi(environ, start_response):
            return []
        srv = self.server({"worker_class": "asgi"}, wsgi)
        w = ASGIWorker(1, os.getpid(), None, srv.app, 15, srv.cfg, srv.log)
        with self.assertRaises(_app.AppImportError) as cm:
            w.load_wsgi()
        self.assertIn("is a WSGI app, but the asgi worker class serves ASGI apps only",
                      str(cm.exception))


def _starlette():
    try:
        import starlette  # noqa: F401
        return True
    except ImportError:
        return False


@unittest.skipUnless(_starlette(), "starlette is not installed")
class StarletteTest(unittest.TestCase):
    def test_app(self):
        import contextlib
        from starlette.applications import Starlette
        from starlette.responses import PlainTextResponse, StreamingResponse
        from starlette.routing import Route, WebSocketRoute

        @contextlib.asynccontextmanager
        async def lifespan(app):
            yield {"greeting": "hi"}

        async def home(request):
            return PlainTextResponse(request.state.greeting + " " + request.url.path)

        async def echo(request):
            body = await request.body()
            return PlainTextResponse(body[::-1])

        async def stream(request):
            async def gen():
                for i in range(3):
                    yield b"chunk%d;" % i
            return StreamingResponse(gen())

        async def ws(websocket):
            await websocket.accept()
            text = await websocket.receive_text()
            await websocket.send_text(text.upper())
            await websocket.close()

        app = Starlette(routes=[Route("/", home), Route("/echo", echo, methods=["POST"]),
                                Route("/stream", stream), WebSocketRoute("/ws", ws)],
                        lifespan=lifespan)
        with Harness(app, {"asgi_lifespan": "on"}) as h:
            h.go.request(1, scope("/"))
            status, _, body, _ = h.go.response(1)
            self.assertEqual((status, body), ("200 OK", b"hi /"))
            h.go.request(2, scope("/echo", "POST", body_len=6), b"abc", end=False)
            self.assertEqual(h.go.frame()[0], _wire.MORE)
            h.go.body(2, b"def", end=True)
            _, _, body, _ = h.go.response(2)
            self.assertEqual(body, b"fedcba")
            h.go.request(3, scope("/stream"))
            _, _, body, frames = h.go.response(3)
            self.assertEqual(body, b"chunk0;chunk1;chunk2;")
            h.go.request(4, scope("/ws", type="websocket"))
            self.assertEqual(h.go.frame()[0], _asgi.WS_ACCEPT)
            h.go.ws_msg(4, "abc")
            self.assertEqual(h.go.frame()[3], b"\x01ABC")
            self.assertEqual(h.go.frame()[0], _asgi.WS_CLOSE)
            h.go.request(5, scope("/nope"))
            status, _, _, _ = h.go.response(5)
            self.assertEqual(status, "404 Not Found")


def _fastapi():
    try:
        import fastapi  # noqa: F401
        return True
    except ImportError:
        return False


@unittest.skipUnless(_fastapi(), "fastapi is not installed")
class FastAPITest(unittest.TestCase):
    def test_app(self):
        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/items/{item_id}")
        async def item(item_id: int, q: str = ""):
            return {"item_id": item_id, "q": q}

        @app.get("/sync")
        def sync_endpoint():
            return {"thread": True}

        with Harness(app, {"asgi_lifespan": "on"}) as h:
            h.go.request(1, scope("/items/5", query=b"q=x"))
            status, headers, body, _ = h.go.response(1)
            self.assertEqual((status, body), ("200 OK", b'{"item_id":5,"q":"x"}'))
            self.assertIn(("content-type", "application/json"), headers)
            h.go.request(2, scope("/sync"))
            self.assertEqual(h.go.response(2)[2], b'{"thread":true}')
            h.go.request(3, scope("/items/nope"))
            self.assertEqual(h.go.response(3)[0], "422 Unprocessable Entity")


if __name__ == "__main__":
    unittest.main()
