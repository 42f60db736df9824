"""WebSocket under the tornado and aiohttp worker classes: the apps speak RFC 6455
themselves and gonicorn relays the upgraded connection's bytes (docs/protocol.md,
"Tunnels"). A real client library (`websockets`) checks echo, big messages both ways
(past the tunnel's window and credit), a client that stops reading, close codes in both
directions, a client that vanishes without a close frame, subprotocols, ping/pong,
refused upgrades, and that an upgrade answered without 101 is an ordinary response.

The apps are written into a temporary folder by the `apps` fixture, each recording what
it saw (``<token> closed <code>``) in the file named by TUN_EVENTS_FILE.
"""
import contextlib
import time

import pytest
import requests

import harness

pytest.importorskip("websockets")
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

AIOHTTP_APP = '''
import os

from aiohttp import WSMsgType, web

EVENTS = os.environ["TUN_EVENTS_FILE"]


def record(line):
    with open(EVENTS, "a") as f:
        f.write(line + "\\n")


async def ws_echo(request):
    ws = web.WebSocketResponse(protocols=("chat.v1", "chat.v2"), max_msg_size=16 << 20)
    await ws.prepare(request)
    token = request.query.get("t", "-")
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            if msg.data.startswith("close:"):
                _, code, reason = msg.data.split(":", 2)
                await ws.close(code=int(code), message=reason.encode())
                break
            if msg.data.startswith("stream:"):
                _, n, size = msg.data.split(":")
                for i in range(int(n)):
                    await ws.send_str(("m%d:" % i).ljust(int(size), "."))
                await ws.send_str("done")
                continue
            await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    record("%s closed %s" % (token, ws.close_code))
    return ws


async def reject(request):
    raise web.HTTPForbidden(text="no websocket for you")


async def plain(request):
    return web.Response(text="plain " + request.headers.get("Upgrade", "-"))


app = web.Application()
app.router.add_get("/ws/echo", ws_echo)
app.router.add_get("/ws/reject", reject)
app.router.add_get("/plain", plain)
'''

TORNADO_APP = '''
import os

import tornado.web
import tornado.websocket

EVENTS = os.environ["TUN_EVENTS_FILE"]


def record(line):
    with open(EVENTS, "a") as f:
        f.write(line + "\\n")


class WsEcho(tornado.websocket.WebSocketHandler):
    max_message_size = 16 << 20

    def select_subprotocol(self, subprotocols):
        for p in subprotocols:
            if p in ("chat.v1", "chat.v2"):
                return p
        return None

    async def on_message(self, message):
        if isinstance(message, str) and message.startswith("close:"):
            _, code, reason = message.split(":", 2)
            self.close(int(code), reason)
            return
        if isinstance(message, str) and message.startswith("stream:"):
            _, n, size = message.split(":")
            for i in range(int(n)):
                await self.write_message(("m%d:" % i).ljust(int(size), "."))
            await self.write_message("done")
            return
        await self.write_message(message, binary=isinstance(message, bytes))

    def on_close(self):
        record("%s closed %s" % (self.get_argument("t", "-"), self.close_code))


class Reject(tornado.websocket.WebSocketHandler):
    def prepare(self):
        raise tornado.web.HTTPError(403)


class Plain(tornado.web.RequestHandler):
    def get(self):
        self.write("plain " + self.request.headers.get("Upgrade", "-"))


app = tornado.web.Application([
    (r"/ws/echo", WsEcho), (r"/ws/reject", Reject), (r"/plain", Plain),
])
'''

CLASSES = {
    "aiohttp": (["-k", "aiohttp.worker.GunicornWebWorker", "tun_aiohttp:app"], "aiohttp"),
    "tornado": (["-k", "tornado", "tun_tornado:app"], "tornado"),
}


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    d = tmp_path_factory.mktemp("tunnel_apps")
    (d / "tun_aiohttp.py").write_text(AIOHTTP_APP)
    (d / "tun_tornado.py").write_text(TORNADO_APP)
    return d


@pytest.fixture(params=sorted(CLASSES))
def tun(request, pool, apps):
    args, module = CLASSES[request.param]
    if subprocess_missing(module):
        pytest.skip(f"{module} not installed in .venv (pip install -r tests/requirements.txt)")
    events = apps / f"events-{request.param}.txt"
    s = pool.get(["--timeout", "30"] + args, cwd=apps, env={"TUN_EVENTS_FILE": str(events)})
    s.events = events
    return s


def subprocess_missing(module):
    import subprocess
    return subprocess.run([str(harness.VENV / "bin" / "python"), "-c", f"import {module}"],
                          capture_output=True).returncode != 0


def ws(s, path="/ws/echo", **kw):
    kw.setdefault("open_timeout", 10)
    kw.setdefault("close_timeout", 5)
    kw.setdefault("max_size", 16 << 20)
    return connect(f"ws://127.0.0.1:{s.port}{path}", **kw)


def event(s, token, timeout=10):
    """The line the app recorded for token, once it appears."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if s.events.exists():
            for line in s.events.read_text().splitlines():
                if line.startswith(token + " "):
                    return line[len(token) + 1:]
        time.sleep(0.05)
    raise AssertionError(f"the app recorded nothing for {token}; log:\n{s.log()}")


def test_echo_text_and_binary(tun):
    with ws(tun) as c:
        for msg in ("hello", "", "ünïcode ✓", "x" * 200_000, b"\x00\xff" * 10, b""):
            c.send(msg)
            assert c.recv(timeout=10) == msg
    assert "Traceback" not in tun.log(), tun.log()


def test_big_messages_past_window_and_credit(tun):
    """3 MiB each way: more than the 1 MiB window and the 256 KiB credit."""
    big = bytes(range(256)) * (3 << 12)
    with ws(tun) as c:
        for _ in range(3):
            c.send(big)
            assert c.recv(timeout=20) == big


def test_ten_thousand_messages_server_to_client(tun):
    with ws(tun) as c:
        c.send("stream:10000:8")
        got = [c.recv(timeout=10) for _ in range(10001)]
    assert got[-1] == "done"
    assert [m.split(":")[0] for m in got[:-1]] == [f"m{i}" for i in range(10000)]


def test_client_that_stops_reading(tun):
    """The app streams 16 MiB while the client reads nothing for a second: the tunnel
    holds the app back (window, then TCP), and every byte arrives once the client reads."""
    with ws(tun, max_queue=1) as c:
        c.send("stream:256:65536")
        time.sleep(1)
        got = [c.recv(timeout=20) for _ in range(257)]
    assert got[-1] == "done"
    assert [len(m) for m in got[:-1]] == [65536] * 256


@pytest.mark.parametrize("code,reason", [(1000, "bye"), (1001, "going away"), (4001, "custom")])
def test_app_close_code_and_reason(tun, code, reason):
    with ws(tun, f"/ws/echo?t=app{code}") as c:
        c.send(f"close:{code}:{reason}")
        with pytest.raises(ConnectionClosed) as exc:
            c.recv(timeout=10)
    assert exc.value.rcvd is not None, "no close frame from the server"
    assert (exc.value.rcvd.code, exc.value.rcvd.reason) == (code, reason)
    assert event(tun, f"app{code}") == f"closed {code}"


@pytest.mark.parametrize("code", [1000, 4002])
def test_client_close_code_reaches_app(tun, code):
    token = f"client{code}"
    with ws(tun, f"/ws/echo?t={token}") as c:
        c.send("x")
        assert c.recv(timeout=10) == "x"
        c.close(code=code, reason="client reason")
        # An answer came (aiohttp answers 1000 whatever the client's code; tornado echoes).
        assert c.close_code in (code, 1000), "the app must answer the client's close frame"
    assert event(tun, token) == f"closed {code}"
    assert "Traceback" not in tun.log(), tun.log()


def test_client_disconnect_seen_by_app(tun):
    """The client's socket goes away without a close frame: the app's WebSocket ends."""
    with tun.connect() as sock:
        sock.sendall(b"GET /ws/echo?t=vanish HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                     b"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     b"Sec-WebSocket-Version: 13\r\n\r\n")
        got = b""
        while b"\r\n\r\n" not in got:
            got += sock.recv(4096)
        assert got.startswith(b"HTTP/1.1 101 "), got
        got = got.split(b"\r\n\r\n", 1)[1]
        sock.sendall(b"\x81\x81abcd" + bytes([ord("x") ^ ord("a")]))   # masked text "x"
        while len(got) < 3:
            got += sock.recv(4096)
        assert got == b"\x81\x01x", got
    # aiohttp reports 1006 (abnormal closure), tornado no code at all.
    assert event(tun, "vanish") in ("closed 1006", "closed None"), tun.log()
    # The worker took the tunnel's end in its stride.
    with ws(tun) as c2:
        c2.send("still there")
        assert c2.recv(timeout=10) == "still there"


@pytest.mark.parametrize("offer,chosen", [(["chat.v1", "chat.v2"], "chat.v1"), (["other", "chat.v2"], "chat.v2")])
def test_subprotocol_selection(tun, offer, chosen):
    with ws(tun, subprotocols=offer) as c:
        assert c.subprotocol == chosen
        c.send("ok")
        assert c.recv(timeout=10) == "ok"


def test_ping_pong(tun):
    with ws(tun) as c:
        assert c.ping(b"are-you-there").wait(5), "no pong within 5 s"
        c.send("after ping")
        assert c.recv(timeout=10) == "after ping"


def test_many_tunnels_at_once(tun):
    with contextlib.ExitStack() as stack:
        conns = [stack.enter_context(ws(tun)) for _ in range(20)]
        for i, c in enumerate(conns):
            c.send(f"conn {i}")
        assert [c.recv(timeout=10) for c in conns] == [f"conn {i}" for i in range(20)]


def test_refused_upgrade_is_an_ordinary_response(tun):
    with pytest.raises(InvalidStatus) as exc:
        with ws(tun, "/ws/reject"):
            pass
    assert exc.value.response.status_code == 403


def test_upgrade_answered_without_101_keeps_the_connection(tun):
    """A handler that ignores the upgrade answers 200, and the connection serves the
    next request."""
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    req = (f"GET /plain HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
           "GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").encode()
    got = harness.parse_responses(tun.raw(req))
    assert [(r.status, r.body) for r in got] == [(200, b"plain websocket"), (200, b"plain -")], got


def test_plain_requests_do_not_see_upgrade_headers(tun):
    """Without a tunnel (HTTP/1.0 here) the app is not asked to upgrade."""
    r = harness.parse_responses(tun.raw(b"GET /plain HTTP/1.0\r\nUpgrade: websocket\r\n"
                                        b"Connection: Upgrade\r\n\r\n"))
    assert [(x.status, x.body) for x in r] == [(200, b"plain -")], r
    assert requests.get(tun.url("/plain"), timeout=10).text == "plain -"
