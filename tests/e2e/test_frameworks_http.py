"""Real frameworks through the real binary: each app of tests/apps/frameworks/ implements the
contract of _contract.py (/health, /scope, /echo, /sse, /ws/echo) and runs under the worker
class a user would pick for it. One server per framework, shared through the `pool`.
"""
import json
import os
import subprocess

import pytest
import requests

import harness
from harness import SERVER

FW = harness.APPS / "frameworks"


def venv_has(*modules):
    code = "; ".join(f"import {m}" for m in modules)
    return subprocess.run([str(harness.VENV / "bin" / "python"), "-c", code], capture_output=True).returncode == 0


# id, gunicorn arguments, modules it needs, what /scope holds, WebSocket /ws/echo served
FRAMEWORKS = [
    ("fastapi", ["-k", "uvicorn.workers.UvicornWorker", "fw_fastapi:app"], ("fastapi", "uvicorn"), "asgi", True),
    ("starlette", ["-k", "asgi", "fw_starlette:app"], ("starlette",), "asgi", True),
    ("django-asgi", ["-k", "asgi", "djasgi.asgi:application"], ("django",), "asgi", False),
    ("quart", ["-k", "asgi", "fw_quart:app"], ("quart",), "asgi", True),
    ("litestar", ["-k", "asgi", "fw_litestar:app"], ("litestar",), "asgi", True),
    ("raw-asgi", ["-k", "asgi", "asgi_raw:app"], (), "asgi", True),
    ("aiohttp", ["-k", "aiohttp.worker.GunicornWebWorker", "fw_aiohttp:app"], ("aiohttp",), "request", True),
    ("tornado", ["-k", "tornado", "fw_tornado:app"], ("tornado",), "request", True),
    ("flask-gevent", ["-k", "gevent", "fw_flask_gevent:app"], ("flask", "gevent"), "environ", False),
    ("flask-eventlet", ["-k", "eventlet", "fw_flask_eventlet:app"], ("flask", "eventlet"), "environ", False),
]
IDS = [f[0] for f in FRAMEWORKS]
BY_ID = {f[0]: f for f in FRAMEWORKS}


def framework_server(pool, fid):
    _, args, modules, _, _ = BY_ID[fid]
    if modules and not venv_has(*modules):
        pytest.skip(f"{', '.join(modules)} not installed in .venv (pip install -r tests/requirements.txt)")
    if fid == "flask-eventlet" and SERVER == "gunicorn":
        pytest.skip("gunicorn 26 removed the eventlet worker")
    return pool.get(["--access-logfile", "-", "--timeout", "30"] + args, cwd=FW)


@pytest.mark.parametrize("fid", IDS)
def test_health_and_startup_line(pool, fid):
    s = framework_server(pool, fid)
    r = requests.get(s.url("/health"), timeout=10)
    assert (r.status_code, r.text) == (200, "ok"), s.log()
    k = BY_ID[fid][1][1]
    assert f"Using worker: {k}" in s.stderr(), s.stderr()
    assert "Traceback" not in s.log(), s.log()


@pytest.mark.parametrize("fid", IDS)
def test_scope(pool, fid):
    s = framework_server(pool, fid)
    r = requests.get(s.url("/scope?a=1&b=%20x"), headers={"X-Test": "yes"}, timeout=10)
    assert r.status_code == 200, (r.status_code, r.text[:500], s.log())
    sc = r.json()
    kind = BY_ID[fid][3]
    if kind == "asgi":
        assert sc["type"] == "http"
        assert sc["asgi"]["version"] == "3.0", sc["asgi"]
        assert sc["http_version"] == "1.1"
        assert sc["scheme"] == "http"
        assert sc["method"] == "GET"
        assert sc["path"] == "/scope"
        assert sc["raw_path"] == "/scope"
        assert sc["query_string"] == "a=1&b=%20x"
        assert sc.get("root_path", "") == ""
        assert ["x-test", "yes"] in sc["headers"], sc["headers"]
        assert all(k == k.lower() for k, _ in sc["headers"])
        assert sc["client"][0] == "127.0.0.1" and isinstance(sc["client"][1], int)
        assert sc["server"] == ["127.0.0.1", s.port]
        assert "state" in sc, sorted(sc)
        assert isinstance(sc.get("extensions", {}), dict)
    elif kind == "request":
        assert sc["method"] == "GET" and sc["path"] == "/scope"
        assert sc["query_string"] == "a=1&b=%20x"
        assert sc["http_version"] == "1.1"
        assert sc["scheme"] == "http"
        assert ["x-test", "yes"] in sc["headers"], sc["headers"]
        assert "127.0.0.1" in json.dumps(sc["client"])
    else:
        assert sc["REQUEST_METHOD"] == "GET" and sc["PATH_INFO"] == "/scope"
        assert sc["QUERY_STRING"] == "a=1&b=%20x"
        assert sc["SERVER_PROTOCOL"] == "HTTP/1.1"
        assert sc["HTTP_X_TEST"] == "yes"
        assert sc["REMOTE_ADDR"] == "127.0.0.1"
        assert sc["wsgi.url_scheme"] == "http"


@pytest.mark.parametrize("fid", IDS)
def test_echo_streamed_body(pool, fid):
    s = framework_server(pool, fid)
    payload = os.urandom(64 * 1024)
    parts = [payload[i:i + 5000] for i in range(0, len(payload), 5000)]
    # a generator body is sent with Transfer-Encoding: chunked
    r = requests.post(s.url("/echo"), data=iter(parts), timeout=20)
    assert r.status_code == 200, (r.status_code, r.text[:300], s.log())
    assert r.content == payload, f"{len(r.content)} bytes back for {len(payload)}"
    r = requests.post(s.url("/echo"), data=b"x" * 100, timeout=20)  # Content-Length body
    assert (r.status_code, r.content) == (200, b"x" * 100)


@pytest.mark.parametrize("fid", IDS)
def test_sse_stream(pool, fid):
    s = framework_server(pool, fid)
    with requests.get(s.url("/sse?n=50"), stream=True, timeout=20) as r:
        assert r.status_code == 200, s.log()
        assert r.headers["content-type"].startswith("text/event-stream")
        assert "content-length" not in r.headers, r.headers
        body = b"".join(r.iter_content(None))
    assert body == b"".join(f"data: {i}\n\n".encode() for i in range(50))


@pytest.mark.parametrize("fid", [f[0] for f in FRAMEWORKS if f[4]])
def test_websocket_echo(pool, fid):
    from websockets.sync.client import connect
    s = framework_server(pool, fid)
    with connect(f"ws://127.0.0.1:{s.port}/ws/echo", open_timeout=10, close_timeout=5) as ws:
        for text in ("hello", "ünïcode ✓", "x" * 70000):
            ws.send(text)
            assert ws.recv(timeout=10) == text
        ws.send(b"\x00\x01\xff")
        assert ws.recv(timeout=10) == b"\x00\x01\xff"
    assert "Traceback" not in s.log(), s.log()


@pytest.mark.parametrize("fid", ["fastapi", "starlette", "quart", "litestar", "aiohttp"])
def test_framework_lifespan_markers(server, tmp_path, fid):
    """Startup hooks run before the first request and shutdown hooks on SIGTERM."""
    _, args, modules, _, _ = BY_ID[fid]
    if not venv_has(*modules):
        pytest.skip(f"{', '.join(modules)} not installed in .venv")
    marks = tmp_path / "lifespan.txt"
    s = server(args, cwd=FW, env={"FW_LIFESPAN_FILE": str(marks)})
    assert requests.get(s.url("/health"), timeout=10).text == "ok"
    pid = s.worker_pids()[0]
    assert marks.read_text().splitlines() == [f"startup {pid}"], s.log()
    assert s.stop() == 0, s.log()
    assert marks.read_text().splitlines() == [f"startup {pid}", f"shutdown {pid}"], s.log()


def test_flask_gevent_concurrent_and_patched(pool):
    """One gevent worker overlaps two blocking time.sleep(1) calls: the worker patched them."""
    import concurrent.futures
    import time
    s = framework_server(pool, "flask-gevent")
    assert requests.get(s.url("/patched"), timeout=10).json()["threading_sleep"].startswith("gevent")
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        rs = list(ex.map(lambda _: requests.get(s.url("/sleep?s=1"), timeout=20), range(4)))
    assert [r.text for r in rs] == ["slept"] * 4
    assert time.monotonic() - t0 < 1.8, s.log()


def test_flask_eventlet_thread_event(pool):
    """The seed's Thread/Event example runs green under -k eventlet."""
    import time
    s = framework_server(pool, "flask-eventlet")
    assert requests.get(s.url("/thread/start"), timeout=10).json() == {"alive": True}
    time.sleep(0.3)
    got = requests.get(s.url("/thread/ticks"), timeout=10).json()
    assert got["alive"] and got["ticks"] >= 5, got
    assert requests.get(s.url("/thread/stop"), timeout=10).json() == {"alive": False}


@pytest.mark.parametrize("fid", ["fastapi", "aiohttp", "tornado"])
def test_websocket_ten_thousand_messages(pool, fid):
    """10,000 echoes through the framework's WebSocket, 100 in flight at a time (under
    aiohttp and tornado through a byte tunnel: docs/protocol.md, "Tunnels")."""
    from websockets.sync.client import connect
    s = framework_server(pool, fid)
    with connect(f"ws://127.0.0.1:{s.port}/ws/echo", open_timeout=10, close_timeout=5) as ws:
        for batch in range(100):
            sent = [f"{batch}:{i}" for i in range(100)]
            for m in sent:
                ws.send(m)
            assert [ws.recv(timeout=10) for _ in sent] == sent
