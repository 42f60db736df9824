"""The aiohttp worker in its own process, with a simulated Go side."""

import signal
import time
import unittest

from gonicorn_runtime import _wire

from .support import environ
from .test_greenlets import ProcHarness, collect, have
from .tunnel_cases import TunnelCases

END = _wire.FLAG_END

AIOHTTP_APP = """
import asyncio

from aiohttp import WSMsgType, web

routes = web.RouteTableDef()


@routes.get("/ws")
async def ws_echo(request):
    ws = web.WebSocketResponse(max_msg_size=8 << 20)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            if msg.data.startswith("big:"):
                for i in range(int(msg.data[4:])):
                    await ws.send_bytes(bytes([i % 256]) * 65536)
                await ws.send_str("done")
            elif msg.data == "headers":
                await ws.send_str("%s|%s" % (request.headers.get("Upgrade"),
                                             request.headers.get("Connection")))
            else:
                await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


@routes.get("/")
async def hello(request):
    return web.Response(text="hello %s %s %s" % (request.remote, request.scheme,
                                                 request.query.get("name", "world")),
                        headers={"X-Host": request.host})


@routes.post("/echo")
async def echo(request):
    body = await request.read()
    return web.Response(body=body)


@routes.put("/count")
async def count(request):
    sizes = []
    async for chunk in request.content.iter_any():
        sizes.append(len(chunk))
    return web.Response(text="%d" % sum(sizes))


@routes.get("/stream")
async def stream(request):
    resp = web.StreamResponse()
    await resp.prepare(request)
    for i in range(3):
        await resp.write(b"part%d;" % i)
        await asyncio.sleep(0.02)
    await resp.write_eof()
    return resp


@routes.get("/slow")
async def slow(request):
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    await asyncio.sleep(0.5)
    return web.Response(text="%.3f-%.3f" % (t0, loop.time()))


@routes.get("/big")
async def big(request):
    return web.Response(body=b"z" * (4 << 20))


@routes.get("/boom")
async def boom(request):
    raise RuntimeError("boom")


@routes.get("/gone")
async def gone(request):
    raise web.HTTPFound("/elsewhere")


def make_app():
    app = web.Application()
    app.add_routes(routes)
    return app


app = make_app()


async def factory():
    await asyncio.sleep(0)
    a = make_app()
    a["made_by"] = "factory"
    a.router.add_get("/who", lambda r: web.Response(text=r.app["made_by"]))
    return a


async def broken_factory():
    raise ValueError("factory failed")
"""


@unittest.skipUnless(have("aiohttp"), "aiohttp is not installed")
class AiohttpTest(unittest.TestCase):
    worker_class = "aiohttp.worker.GunicornWebWorker"

    def harness(self, app="aioapp:app", settings=None, **kw):
        s = {"worker_class": self.worker_class}
        s.update(settings or {})
        return ProcHarness(app, {"aioapp.py": AIOHTTP_APP}, s,
                           **kw)

    def test_get(self):
        with self.harness(settings={"worker_connections": 30}) as h:
            self.assertEqual((h.hello["capacity"], h.hello["app_kind"],
                              h.hello["worker_class"]), (30, "wsgi", "aiohttp"))
            h.go.request(1, environ("GET", "/?name=go", REMOTE_ADDR="10.0.0.9",
                                    **{"wsgi.url_scheme": "https"}))
            status, headers, body, frames = h.go.response(1)
            self.assertEqual((status, body), ("200 OK", b"hello 10.0.0.9 https go"))
            self.assertEqual(len(frames), 1, frames)
            hd = dict(headers)
            self.assertEqual(hd["X-Host"], "localhost")
            self.assertEqual(hd["Content-Length"], str(len(body)))
            for k in ("Server", "Date", "Connection"):
                self.assertNotIn(k, hd)
            h.go.request(2, environ("HEAD", "/"))
            status, headers, body, _ = h.go.response(2)
            self.assertEqual((status, body), ("200 OK", b""))
            h.go.request(3, environ("GET", "/nope"))
            self.assertEqual(h.go.response(3)[0], "404 Not Found")
            h.go.request(4, environ("GET", "/boom"))
            self.assertEqual(h.go.response(4)[0], "500 Internal Server Error")
            h.go.request(5, environ("GET", "/gone"))
            status, headers, _, _ = h.go.response(5)
            self.assertEqual((status, dict(headers)["Location"]), ("302 Found", "/elsewhere"))
            self.assertEqual(h.stop(), 0)

    def test_post_body_pulled_with_more(self):
        with self.harness() as h:
            h.go.request(1, environ("POST", "/echo", 11), b"hello", end=False)
            self.assertEqual(h.go.frame()[:3], (_wire.MORE, 0, 1))
            h.go.body(1, b" wor")
            self.assertEqual(h.go.frame()[:3], (_wire.MORE, 0, 1))
            h.go.body(1, b"ld", end=True)
            self.assertEqual(h.go.response(1)[2], b"hello world")
            # A chunked body, re-chunked for aiohttp.
            h.go.request(2, environ("PUT", "/count", -1), b"abc", end=False)
            self.assertEqual(h.go.frame()[:3], (_wire.MORE, 0, 2))
            h.go.body(2, b"x" * 100000)
            self.assertEqual(h.go.frame()[:3], (_wire.MORE, 0, 2))
            h.go.body(2, b"", end=True)
            self.assertEqual(h.go.response(2)[2], b"100003")
            h.stop()

    def test_streaming_response(self):
        with self.harness() as h:
            h.go.request(1, environ("GET", "/stream"))
            status, headers, body, frames = h.go.response(1)
            self.assertEqual(body, b"part0;part1;part2;")
            self.assertEqual(frames[0][0], _wire.RESPONSE)
            self.assertGreaterEqual([f[0] for f in frames].count(_wire.RESP_BODY), 2)
            self.assertEqual(frames[-1][1], END)
            self.assertNotIn("Transfer-Encoding", dict(headers))
            h.stop()

    def test_two_slow_requests_overlap(self):
        with self.harness() as h:
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
        with self.harness() as h:
            h.go.request(1, environ("GET", "/big"))
            time.sleep(0.3)
            h.go.request(2, environ("GET", "/"))
            got, _ = collect(h.go, 2)
            self.assertEqual(len(got[1][1]), 4 << 20)
            self.assertTrue(got[2][1].startswith(b"hello"))
            h.stop()

    def test_uvloop_worker_needs_uvloop(self):
        if have("uvloop"):
            self.skipTest("uvloop is installed")
        with self.harness(settings={"worker_class": "aiohttp.GunicornUVLoopWebWorker"},
                          hello=False) as h:
            self.assertEqual(h.proc.wait(10), 3)
            self.assertIn("Worker class 'aiohttp.GunicornUVLoopWebWorker' needs the "
                          "'uvloop' package: pip install uvloop", h.logtext())

    def test_app_factory(self):
        with self.harness("aioapp:factory") as h:
            h.go.request(1, environ("GET", "/who"))
            self.assertEqual(h.go.response(1)[2], b"factory")
            self.assertEqual(h.stop(), 0)

    def test_broken_factory_is_a_boot_error(self):
        with self.harness("aioapp:broken_factory", hello=False) as h:
            self.assertEqual(h.proc.wait(10), 3)
            self.assertIn("factory failed", h.logtext())

    def test_cancel_and_term(self):
        with self.harness() as h:
            h.go.request(1, environ("POST", "/echo", 10), b"", end=False)
            self.assertEqual(h.go.frame()[:3], (_wire.MORE, 0, 1))
            h.go.cancel(1)
            h.go.cancel(99)
            h.go.request(2, environ("GET", "/slow"))
            time.sleep(0.1)
            h.proc.send_signal(signal.SIGTERM)
            self.assertEqual(h.go.response(2)[0], "200 OK")
            self.assertEqual(h.proc.wait(5), 0)

    def test_max_requests_recycles(self):
        with self.harness(settings={"max_requests": 2}) as h:
            h.go.request(1, environ("GET", "/"))
            self.assertEqual(h.go.response(1)[0], "200 OK")
            h.go.request(2, environ("GET", "/"))
            _, _, _, frames = h.go.response(2)
            self.assertEqual(frames[0][0], _wire.RECYCLE)
            h.go.request(3, environ("GET", "/"))
            self.assertEqual(h.go.response(3)[0], "200 OK")
            h.proc.send_signal(signal.SIGTERM)
            self.assertEqual(h.proc.wait(5), 0)

    def test_missing_package_exits_3(self):
        with self.harness(block=["aiohttp"], hello=False) as h:
            self.assertEqual(h.proc.wait(10), 3)
            log = h.logtext()
        self.assertIn("Worker class %r needs the 'aiohttp' package: pip install aiohttp"
                      % self.worker_class, log)



@unittest.skipUnless(have("aiohttp"), "aiohttp is not installed")
class AiohttpTunnelTest(TunnelCases, unittest.TestCase):
    """WebSocketResponse over a tunnel (docs/protocol.md, "Tunnels")."""

    absent_101_headers = ("server", "date")
    expected_connection = "upgrade"

    def harness(self):
        return ProcHarness("aioapp:app", {"aioapp.py": AIOHTTP_APP},
                           {"worker_class": "aiohttp.worker.GunicornWebWorker"})

    def connection_value(self, hd):
        return hd["connection"].lower()

    def check_close_reply(self, frames):
        self.assertEqual(frames[0][0], 0x8)   # aiohttp answers the close

    def check_refused_upgrade(self, status, body, frames):
        self.assertEqual(status, "400 Bad Request")
        self.assertEqual(frames[-1][1], END)

    def check_plain_answer(self, body):
        self.assertTrue(body.startswith(b"hello"), body)

    def test_credit_comes_back_as_the_app_reads(self):
        self.check_messages_bigger_than_the_credit()


if __name__ == "__main__":
    unittest.main()
