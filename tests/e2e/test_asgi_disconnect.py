"""A client that goes away mid-stream: the app's receive() returns http.disconnect at once,
and the app task keeps running for --asgi-disconnect-grace-period before it is cancelled.
A client that stops reading: the app's send() waits (backpressure)."""
import socket
import time

import pytest

import harness

FW = harness.APPS / "frameworks"


def read_events(path, want, timeout=6):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = path.read_text().splitlines() if path.exists() else []
        if any(line.startswith(want) for line in got):
            return got
        time.sleep(0.05)
    return path.read_text().splitlines() if path.exists() else []


def open_stream_and_leave(s):
    c = s.connect()
    c.sendall(b"GET /stream-until-disconnect HTTP/1.1\r\nHost: h\r\n\r\n")
    got = b""
    while got.count(b"tick") < 3:
        got += c.recv(4096)
    assert got.startswith(b"HTTP/1.1 200"), got
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    c.close()  # RST: the client is gone
    return time.monotonic()


def test_disconnect_seen_then_grace(server, tmp_path):
    events = tmp_path / "events.txt"
    s = server(["-k", "asgi", "asgi_raw:app"], cwd=FW, env={"FW_EVENTS_FILE": str(events)})
    left = open_stream_and_leave(s)
    got = read_events(events, "disconnect")
    seen = time.monotonic() - left
    assert any(l.startswith("disconnect") for l in got), f"no http.disconnect: {got}\n{s.log()}"
    assert seen < 1.5, f"http.disconnect came {seen:.2f}s after the client left"
    # the default grace (3 s) lets the app finish its 1 s of cleanup
    got = read_events(events, "still-running")
    assert any(l.startswith("still-running") for l in got), got
    assert not any(l.startswith("cancelled") for l in got), got


def test_disconnect_grace_zero_cancels(server, tmp_path):
    events = tmp_path / "events.txt"
    s = server(["-k", "asgi", "--asgi-disconnect-grace-period", "0", "asgi_raw:app"], cwd=FW,
               env={"FW_EVENTS_FILE": str(events)})
    open_stream_and_leave(s)
    got = read_events(events, "cancelled", timeout=4)
    assert any(l.startswith("disconnect") for l in got), got
    assert any(l.startswith("cancelled") for l in got), f"grace 0: the task must be cancelled: {got}"
    assert not any(l.startswith("still-running") for l in got), got


def test_fastapi_streaming_response_stops_on_disconnect(server, tmp_path):
    """Starlette's StreamingResponse ends its generator when the client goes away."""
    pytest.importorskip("fastapi")
    events = tmp_path / "events.txt"
    app = tmp_path / "fastapi_stream.py"
    app.write_text(
        "import asyncio\nfrom fastapi import FastAPI\nfrom fastapi.responses import StreamingResponse\n\n"
        "app = FastAPI()\n\n"
        "@app.get('/stream-until-disconnect')\nasync def stream():\n"
        "    async def gen():\n        i = 0\n        try:\n            while True:\n"
        "                yield b'tick %d\\n' % i\n                i += 1\n"
        "                await asyncio.sleep(0.05)\n"
        f"        finally:\n            open({str(events)!r}, 'a').write('disconnect generator-closed\\n')\n"
        "    return StreamingResponse(gen(), media_type='text/plain')\n")
    s = server(["-k", "asgi", "fastapi_stream:app"], cwd=tmp_path)
    open_stream_and_leave(s)
    got = read_events(events, "disconnect", timeout=5)
    assert got == ["disconnect generator-closed"], f"{got}\n{s.log()}"


def test_response_backpressure(server, tmp_path):
    """A client that does not read: the app's send() must wait instead of buffering the whole
    128 MiB response in the server (the Go front, or the worker)."""
    events = tmp_path / "events.txt"
    s = server(["-k", "asgi", "asgi_raw:app"], cwd=FW, env={"FW_EVENTS_FILE": str(events)})
    with s.connect() as c:  # closed on failure too, so the server stops at once
        c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        c.sendall(b"GET /flood?mb=128 HTTP/1.1\r\nHost: h\r\n\r\n")
        time.sleep(2.0)  # read nothing
        sent = len(events.read_text().splitlines()) if events.exists() else 0
        assert 0 < sent <= 64, f"the app got {sent} MiB through send() to a client that read nothing"
        # reading resumes the stream
        got = 0
        c.settimeout(10)
        while got < 8 << 20:
            data = c.recv(1 << 20)
            assert data, "connection closed"
            got += len(data)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(events.read_text().splitlines()) <= sent:
        time.sleep(0.05)
    assert len(events.read_text().splitlines()) > sent, "the app did not go on after the client read"
