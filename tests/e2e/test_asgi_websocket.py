"""WebSocket through the asgi worker with a real client library (`websockets`): echo,
fragmentation, a 10,000-message stream each way, subprotocols, close codes, ping/pong,
rejection before accept, the websocket scope and permessage-deflate."""
import json
import time

import pytest

import harness

websockets = pytest.importorskip("websockets")
from websockets.exceptions import ConnectionClosed, InvalidStatus  # noqa: E402
from websockets.sync.client import connect  # noqa: E402

FW = harness.APPS / "frameworks"


@pytest.fixture(scope="module")
def ws_server(pool):
    return pool.get(["-k", "asgi", "--timeout", "30", "asgi_raw:app"], cwd=FW)


def ws(server, path="/ws/echo", **kw):
    kw.setdefault("open_timeout", 10)
    kw.setdefault("close_timeout", 5)
    return connect(f"ws://127.0.0.1:{server.port}{path}", **kw)


def test_echo_text_and_binary(ws_server):
    with ws(ws_server) as c:
        for msg in ("hello", "", "ünïcode ✓", "x" * 200_000, b"\x00\xff" * 10, b""):
            c.send(msg)
            assert c.recv(timeout=10) == msg


def test_fragmented_message_is_reassembled(ws_server):
    with ws(ws_server) as c:
        c.send(["frag-", "men", "ted"])  # one text message in three frames
        assert c.recv(timeout=10) == "frag-mented"
        c.send([b"\x01", b"\x02\x03"])
        assert c.recv(timeout=10) == b"\x01\x02\x03"


def test_ten_thousand_messages_server_to_client(ws_server):
    with ws(ws_server) as c:
        c.send("stream:10000")
        got = [c.recv(timeout=10) for _ in range(10001)]
    assert got[-1] == "done"
    assert got[:-1] == [f"m{i}" for i in range(10000)]


def test_ten_thousand_messages_client_to_server(ws_server):
    with ws(ws_server) as c:
        for batch in range(100):
            sent = [f"{batch}-{i}" for i in range(100)]
            for m in sent:
                c.send(m)
            assert [c.recv(timeout=10) for _ in sent] == sent


@pytest.mark.parametrize("offer,chosen", [
    (["chat.v1", "chat.v2"], "chat.v1"),
    (["other", "chat.v2"], "chat.v2"),
])
def test_subprotocol_selection(ws_server, offer, chosen):
    with ws(ws_server, subprotocols=offer) as c:
        assert c.subprotocol == chosen
        assert c.response.headers["Sec-WebSocket-Protocol"] == chosen
        c.send("ok")
        assert c.recv(timeout=10) == "ok"


def test_no_subprotocol_when_none_matches(ws_server):
    with ws(ws_server, subprotocols=["other"]) as c:
        assert c.subprotocol is None
        assert "Sec-WebSocket-Protocol" not in c.response.headers


@pytest.mark.parametrize("code,reason", [(1000, "bye"), (1001, "going away"), (4001, "custom")])
def test_app_close_code_and_reason(ws_server, code, reason):
    with ws(ws_server) as c:
        c.send(f"close:{code}:{reason}")
        with pytest.raises(ConnectionClosed) as exc:
            c.recv(timeout=10)
    assert exc.value.rcvd is not None, "no close frame from the server"
    assert (exc.value.rcvd.code, exc.value.rcvd.reason) == (code, reason)


def test_client_close_handshake(ws_server):
    with ws(ws_server) as c:
        c.send("x")
        assert c.recv(timeout=10) == "x"
        c.close(code=1000, reason="done")
        assert c.close_code == 1000, "the server must answer the client's close frame"


@pytest.mark.gonicorn_only
@pytest.mark.parametrize("code,reason", [(1000, "done"), (4002, "client reason")])
def test_client_close_code_reaches_app(server, tmp_path, code, reason):
    """The app's websocket.disconnect carries the code (and reason) of the client's close frame.
    (gunicorn 26.1 never hands this app a websocket.disconnect after the client's close.)"""
    events = tmp_path / "events.txt"
    s = server(["-k", "asgi", "asgi_raw:app"], cwd=FW, env={"FW_EVENTS_FILE": str(events)})
    with ws(s) as c:
        c.send("x")
        assert c.recv(timeout=10) == "x"
        c.close(code=code, reason=reason)
    for _ in range(100):
        if events.exists() and events.read_text():
            break
        time.sleep(0.05)
    assert events.read_text().splitlines() == [f"ws-disconnect {code} {reason}"], s.log()


def test_ping_pong(ws_server):
    with ws(ws_server) as c:
        pong = c.ping(b"are-you-there")
        assert pong.wait(5), "no pong within 5 s"
        c.send("after ping")
        assert c.recv(timeout=10) == "after ping"


@pytest.mark.gonicorn_only
def test_close_before_accept_is_403(ws_server):
    """ASGI: websocket.close before websocket.accept is an HTTP 403 (gunicorn 26.1 closes
    the connection with a partial status line instead)."""
    with pytest.raises(InvalidStatus) as exc:
        with ws(ws_server, "/ws/echo?reject=1"):
            pass
    assert exc.value.response.status_code == 403


def test_websocket_scope(ws_server):
    with ws(ws_server, "/ws/scope?q=1", subprotocols=["chat.v1"]) as c:
        sc = json.loads(c.recv(timeout=10))
    assert sc["type"] == "websocket"
    assert sc["asgi"]["version"] == "3.0"
    assert sc["scheme"] == "ws"
    assert sc["http_version"] == "1.1"
    assert sc["path"] == "/ws/scope" and sc["raw_path"] == "/ws/scope"
    assert sc["query_string"] == "q=1"
    assert sc["subprotocols"] == ["chat.v1"]
    assert sc["server"] == ["127.0.0.1", ws_server.port]
    assert sc["client"][0] == "127.0.0.1"
    names = [k for k, _ in sc["headers"]]
    assert "sec-websocket-key" in names and "host" in names
    # ASGI: a websocket scope has no "method" (Litestar routes on it: a "method" key makes
    # it answer 405, which the client sees as a 403 handshake).
    assert "method" not in sc, sorted(sc)


@pytest.mark.gonicorn_only
def test_permessage_deflate_negotiated(ws_server):
    """gunicorn's asgi worker rejects compressed frames; gonicorn negotiates the extension."""
    with ws(ws_server, compression="deflate") as c:
        ext = c.response.headers.get("Sec-WebSocket-Extensions", "")
        assert "permessage-deflate" in ext, c.response.headers
        big = "compress me " * 50_000
        c.send(big)
        assert c.recv(timeout=10) == big
        c.send(b"\x00" * 100_000)
        assert c.recv(timeout=10) == b"\x00" * 100_000


def test_no_extension_when_client_offers_none(ws_server):
    with ws(ws_server, compression=None) as c:
        assert "Sec-WebSocket-Extensions" not in c.response.headers
        c.send("plain")
        assert c.recv(timeout=10) == "plain"


@pytest.mark.gonicorn_only
def test_max_message_size(server):
    """--websocket-max-message-size (gunicorn 27.0; the test venv's gunicorn 26.1 lacks it):
    a message of the limit is echoed, one byte more closes with 1009 "Message too big", the
    text gunicorn 27's asgi worker sends."""
    s = server(["-k", "asgi", "--websocket-max-message-size", "1024", "asgi_raw:app"], cwd=FW)
    with ws(s) as c:
        c.send(b"x" * 1024)
        assert c.recv(timeout=10) == b"x" * 1024
        c.send(b"x" * 1025)
        with pytest.raises(ConnectionClosed) as exc:
            c.recv(timeout=10)
    assert (exc.value.rcvd.code, exc.value.rcvd.reason) == (1009, "Message too big")


@pytest.mark.gonicorn_only
@pytest.mark.parametrize("value", ["0", "20000000"])
def test_max_message_size_capped_with_warning(server, value):
    """0 (gunicorn: no limit) and values above what one worker frame carries are capped at
    16777215 bytes, and the startup log says so."""
    s = server(["-k", "asgi", "--websocket-max-message-size", value, "asgi_raw:app"], cwd=FW)
    with ws(s) as c:
        c.send("still serving")
        assert c.recv(timeout=10) == "still serving"
    assert (f"websocket_max_message_size {value}: gonicorn hands a WebSocket message to the "
            "worker in one frame, so it accepts at most 16777215 bytes per message; using "
            "16777215") in s.log()
