"""The tornado worker in its own process, with a simulated Go side."""

import os
import signal
import time
import unittest

from gonicorn_runtime import _wire

from .support import environ
from .test_greenlets import ProcHarness, collect, have
from .tunnel_cases import TunnelCases

END = _wire.FLAG_END

TORNADO_APP = """
import asyncio

import tornado.web
import tornado.websocket


class Hello(tornado.web.RequestHandler):
    def get(self):
        self.set_header("X-Remote", self.request.remote_ip)
        self.write("hello " + self.get_argument("name", "world"))

    head = get


class Echo(tornado.web.RequestHandler):
    def post(self):
        self.write(self.request.body)


@tornado.web.stream_request_body
class Upload(tornado.web.RequestHandler):
    def prepare(self):
        self.sizes = []

    def data_received(self, chunk):
        self.sizes.append(len(chunk))

    def put(self):
        self.write(",".join(map(str, self.sizes)))


class Stream(tornado.web.RequestHandler):
    async def get(self):
        for i in range(3):
            self.write("part%d;" % i)
            await self.flush()
            await asyncio.sleep(0.02)


class Slow(tornado.web.RequestHandler):
    async def get(self):
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        await asyncio.sleep(0.5)
        self.write("%.3f-%.3f" % (t0, loop.time()))


class Big(tornado.web.RequestHandler):
    async def get(self):
        for i in range(64):
            self.write(bytes([65 + i % 26]) * 65536)
            await self.flush()


class Boom(tornado.web.RequestHandler):
    def get(self):
        raise RuntimeError("boom")


class Ws(tornado.websocket.WebSocketHandler):
    async def on_message(self, m):
        if m == "headers":
            h = self.request.headers
            await self.write_message("%s|%s" % (h.get("Upgrade"), h.get("Connection")))
        elif isinstance(m, str) and m.startswith("big:"):
            for i in range(int(m[4:])):
                await self.write_message(bytes([i % 256]) * 65536, binary=True)
            await self.write_message("done")
        else:
            await self.write_message(m, binary=isinstance(m, bytes))


app = tornado.web.Application([
    (r"/", Hello), (r"/echo", Echo), (r"/upload", Upload), (r"/stream", Stream),
    (r"/slow", Slow), (r"/boom", Boom), (r"/big", Big), (r"/ws", Ws),
])
"""

WSGI_APP = """
def app(environ, start_response):
    if environ["PATH_INFO"] == "/boom":
        raise RuntimeError("wsgi boom")
    body = environ["wsgi.input"].read()
    out = ("%s %s %s|" % (environ["REQUEST_METHOD"], environ["PATH_INFO"],
                          environ["QUERY_STRING"])).encode() + body
    start_response("201 Created", [("Content-Type", "text/plain"), ("X-A", "1")])
    return [out]
"""


@unittest.skipUnless(have("tornado"), "tornado is not installed")
class TornadoTest(unittest.TestCase):
    def harness(self, files, app, settings=None, **kw):
        s = {"worker_class": "tornado"}
        s.update(settings or {})
        return ProcHarness(app, files, s, cls=None,
                           **kw)

    def test_request_handler_app(self):
        with self.harness({"tapp.py": TORNADO_APP}, "tapp:app",
                          {"worker_connections": 20}) as h:
            self.assertEqual((h.hello["capacity"], h.hello["app_kind"],
                              h.hello["worker_class"]), (20, "wsgi", "tornado"))
            h.go.request(1, environ("GET", "/?name=go", REMOTE_ADDR="10.1.2.3"))
            status, headers, body, frames = h.go.response(1)
            self.assertEqual((status, body), ("200 OK", b"hello go"))
            self.assertEqual(len(frames), 1, frames)  # head and body in one frame
            hd = dict(headers)
            self.assertEqual(hd["X-Remote"], "10.1.2.3")
            self.assertEqual(hd["Content-Length"], "8")
            self.assertNotIn("Server", hd)
            self.assertNotIn("Date", hd)
            h.go.request(2, environ("HEAD", "/"))
            status, headers, body, _ = h.go.response(2)
            self.assertEqual((status, body), ("200 OK", b""))
            self.assertEqual(dict(headers)["Content-Length"], "11")
            h.go.request(3, environ("GET", "/nope"))
            self.assertEqual(h.go.response(3)[0], "404 Not Found")
            h.go.request(4, environ("GET", "/boom"))
            self.assertEqual(h.go.response(4)[0], "500 Internal Server Error")
            self.assertEqual(h.stop(), 0)

    def test_post_body_pulled_with_more(self):
        with self.harness({"tapp.py": TORNADO_APP}, "tapp:app") as h:
            h.go.request(1, environ("POST", "/echo", 11), b"hello", end=False)
            self.assertEqual(h.go.frame()[:3], (_wire.MORE, 0, 1))
            h.go.body(1, b" wor")
            self.assertEqual(h.go.frame()[:3], (_wire.MORE, 0, 1))
            h.go.body(1, b"ld", end=True)
            self.assertEqual(h.go.response(1)[2], b"hello world")
            # A streaming handler gets each piece as it comes.
            h.go.request(2, environ("PUT", "/upload", 9), b"abc", end=False)
            self.assertEqual(h.go.frame()[:3], (_wire.MORE, 0, 2))
            h.go.body(2, b"defg")
            self.assertEqual(h.go.frame()[:3], (_wire.MORE, 0, 2))
            h.go.body(2, b"hi", end=True)
            self.assertEqual(h.go.response(2)[2], b"3,4,2")
            h.stop()

    def test_streaming_response(self):
        with self.harness({"tapp.py": TORNADO_APP}, "tapp:app") as h:
            h.go.request(1, environ("GET", "/stream"))
            status, headers, body, frames = h.go.response(1)
            self.assertEqual(body, b"part0;part1;part2;")
            self.assertEqual([f[0] for f in frames],
                             [_wire.RESPONSE] + [_wire.RESP_BODY] * 3)
            self.assertEqual(frames[0][1], 0)
            self.assertEqual(frames[-1][1:], (END, 1, b""))
            self.assertNotIn("Transfer-Encoding", dict(headers))
            h.stop()

    def test_two_slow_requests_overlap(self):
        with self.harness({"tapp.py": TORNADO_APP}, "tapp:app") as h:
            t0 = time.time()
            h.go.request(1, environ("GET", "/slow"))
            h.go.request(2, environ("GET", "/slow"))
            got, _ = collect(h.go, 2)
            self.assertLess(time.time() - t0, 0.95)
            s1 = [float(x) for x in got[1][1].split(b"-")]
            s2 = [float(x) for x in got[2][1].split(b"-")]
            self.assertLess(s1[0], s2[1])
            self.assertLess(s2[0], s1[1])
            h.stop()

    def test_big_response_while_go_reads_slowly(self):
        with self.harness({"tapp.py": TORNADO_APP}, "tapp:app") as h:
            h.go.request(1, environ("GET", "/big"))
            time.sleep(0.3)
            h.go.request(2, environ("GET", "/"))
            got, _ = collect(h.go, 2)
            self.assertEqual(len(got[1][1]), 64 * 65536)
            self.assertEqual(got[1][1][-65536:], b"L" * 65536)
            self.assertEqual(got[2][1], b"hello world")
            h.stop()

    def test_cancel_and_term(self):
        with self.harness({"tapp.py": TORNADO_APP}, "tapp:app") as h:
            h.go.request(1, environ("POST", "/echo", 10), b"", end=False)
            self.assertEqual(h.go.frame()[:3], (_wire.MORE, 0, 1))
            h.go.cancel(1)
            h.go.cancel(99)
            h.go.request(2, environ("GET", "/slow"))
            time.sleep(0.1)
            h.proc.send_signal(signal.SIGTERM)
            status, _, _, _ = h.go.response(2)
            self.assertEqual(status, "200 OK")
            self.assertEqual(h.proc.wait(5), 0)

    def test_wsgi_app_under_tornado(self):
        with self.harness({"wapp.py": WSGI_APP}, "wapp:app") as h:
            # WSGIContainer runs the app on the loop: one request at a time.
            self.assertEqual(h.hello["capacity"], 1)
            h.go.request(1, environ("POST", "/p?q=1", 6), b"abc", end=False)
            self.assertEqual(h.go.frame()[:3], (_wire.MORE, 0, 1))
            h.go.body(1, b"def", end=True)
            status, headers, body, _ = h.go.response(1)
            self.assertEqual((status, body), ("201 Created", b"POST /p q=1|abcdef"))
            hd = dict(headers)
            self.assertEqual((hd["X-A"], hd["Content-Length"]), ("1", "18"))
            h.go.request(2, environ("GET", "/boom"))
            self.assertEqual(h.go.response(2)[0], "500 Internal Server Error")
            self.assertEqual(h.stop(), 0)
            self.assertIn("Error handling request GET /boom", h.logtext())

    def test_max_requests_recycles(self):
        with self.harness({"wapp.py": WSGI_APP}, "wapp:app", {"max_requests": 1}) as h:
            h.go.request(1, environ("GET", "/"))
            _, _, body, frames = h.go.response(1)
            self.assertEqual(frames[0][0], _wire.RECYCLE)
            # A recycled worker still serves what Go sent before it read RECYCLE,
            # and exits when Go sends TERM.
            h.go.request(2, environ("GET", "/"))
            self.assertEqual(h.go.response(2)[0], "201 Created")
            h.proc.send_signal(signal.SIGTERM)
            self.assertEqual(h.proc.wait(5), 0)

    def test_reload_sends_recycle(self):
        with self.harness({"wapp.py": WSGI_APP}, "wapp:app", {"reload": True}) as h:
            time.sleep(1.2)  # the reloader has taken its first snapshot
            path = os.path.join(h.tmp.name, 'wapp.py')
            with open(path, "a") as f:
                f.write("\n# changed\n")
            t = time.time() + 1
            os.utime(path, (t, t))
            f = h.go.frame()
            self.assertEqual((f[0], _wire.decode_json(f[3])),
                             (_wire.RECYCLE, {"reason": "reload"}))
            h.go.request(1, environ("GET", "/"))
            self.assertEqual(h.go.response(1)[0][:3], '201')
            h.proc.send_signal(signal.SIGTERM)
            self.assertEqual(h.proc.wait(5), 0)
            self.assertIn("Worker reloading:", h.logtext())

    def test_missing_package_exits_3(self):
        with self.harness({"wapp.py": WSGI_APP}, "wapp:app", block=["tornado"],
                          hello=False) as h:
            self.assertEqual(h.proc.wait(10), 3)
            log = h.logtext()
        self.assertIn("Worker class 'tornado' needs the 'tornado' package: "
                      "pip install tornado", log)



@unittest.skipUnless(have("tornado"), "tornado is not installed")
class TornadoTunnelTest(TunnelCases, unittest.TestCase):
    """WebSocketHandler over a tunnel (docs/protocol.md, "Tunnels")."""

    credit_back_after_read = False

    def harness(self):
        return ProcHarness("tapp:app", {"tapp.py": TORNADO_APP}, {"worker_class": "tornado"})

    def check_close_reply(self, frames):
        self.assertEqual(frames, [(0x8, b"\x0f\xa1")])   # tornado echoes the code

    def check_refused_upgrade(self, status, body, frames):
        self.assertEqual((status, body), ("400 Bad Request",
                                          b'Can "Upgrade" only to "WebSocket".'))

    def check_plain_answer(self, body):
        self.assertEqual(body, b"hello up")

    def test_message_bigger_than_the_credit(self):
        """tornado reads a frame's payload with one read_bytes: the tunnel grants what
        that read needs."""
        self.check_messages_bigger_than_the_credit()


if __name__ == "__main__":
    unittest.main()
