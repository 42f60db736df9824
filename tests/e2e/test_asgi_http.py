"""The asgi worker's HTTP side with a plain ASGI app (tests/apps/frameworks/asgi_raw.py):
the scope with --root-path, request and response bodies streamed as they come,
many requests at once in one worker, --worker-connections, --asgi-loop."""
import concurrent.futures
import json
import time

import pytest
import requests

import harness

FW = harness.APPS / "frameworks"


@pytest.fixture(scope="module")
def raw(pool):
    return pool.get(["-k", "asgi", "--timeout", "30", "asgi_raw:app"], cwd=FW)


def test_root_path_in_scope(pool):
    s = pool.get(["-k", "asgi", "--root-path", "/api", "asgi_raw:app"], cwd=FW)
    sc = requests.get(s.url("/scope"), timeout=10).json()
    assert sc["root_path"] == "/api", sc
    assert sc["path"] == "/scope" and sc["raw_path"] == "/scope", sc


def test_scope_percent_decoded_path_and_raw_path(raw):
    with raw.connect() as c:
        c.sendall(b"GET /sc%6Fpe?x=%41 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        r = harness.parse_responses(harness.recv_all(c))[0]
    sc = json.loads(r.body)
    assert sc["path"] == "/scope"
    assert sc["raw_path"] == "/sc%6Fpe"
    assert sc["query_string"] == "x=%41"


def test_http_10_scope(raw):
    with raw.connect() as c:
        c.sendall(b"GET /scope HTTP/1.0\r\n\r\n")
        r = harness.parse_responses(harness.recv_all(c))[0]
    assert json.loads(r.body)["http_version"] == "1.0"


def test_request_and_response_bodies_stream(raw):
    """The app sees the first chunk and its echo reaches the client before the request ends."""
    with raw.connect(timeout=3) as c:
        c.sendall(b"POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        got = b""
        deadline = time.monotonic() + 5
        while b"first" not in got and time.monotonic() < deadline:
            got += c.recv(65536)
        assert b"first" in got, f"no echo of the first chunk while the request is open: {got!r}"
        assert got.startswith(b"HTTP/1.1 200"), got
        c.sendall(b"6\r\nsecond\r\n0\r\n\r\n")
        while not got.endswith(b"0\r\n\r\n") and time.monotonic() < deadline:
            data = c.recv(65536)
            if not data:
                break
            got += data
    r = harness.parse_responses(got, eof=False)[0]
    assert r.body == b"firstsecond"


def test_sse_first_event_before_the_last(raw):
    with requests.get(raw.url("/sse?n=20000"), stream=True, timeout=20) as r:
        assert r.headers.get("transfer-encoding") == "chunked", r.headers
        chunks = r.iter_content(64)
        first = next(chunks)
        assert first.startswith(b"data: 0\n\n")
        rest = b"".join(chunks)
    assert (first + rest).count(b"data: ") == 20000


def test_many_concurrent_requests_one_worker(raw):
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(50) as ex:
        rs = list(ex.map(lambda _: requests.get(raw.url("/sleep?s=1"), timeout=20), range(50)))
    elapsed = time.monotonic() - t0
    assert [r.text for r in rs] == ["slept"] * 50
    assert elapsed < 3, f"50 concurrent 1 s requests took {elapsed:.1f}s in one asgi worker"


@pytest.mark.gonicorn_only
def test_worker_connections_bounds_concurrency(pool):
    """--worker-connections 4: at most 4 requests run in the worker at once; the rest wait
    (gunicorn's asgi worker reads the setting but does not enforce it)."""
    s = pool.get(["-k", "asgi", "--worker-connections", "4", "asgi_raw:app"], cwd=FW)
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        rs = list(ex.map(lambda _: requests.get(s.url("/sleep?s=0.5"), timeout=20), range(8)))
    elapsed = time.monotonic() - t0
    assert [r.status_code for r in rs] == [200] * 8, [r.text for r in rs]
    assert 0.95 <= elapsed < 3, f"8 x 0.5 s with worker_connections=4 took {elapsed:.2f}s (want about 1 s)"


@pytest.mark.parametrize("loop,module", [("asyncio", "asyncio"), ("uvloop", "uvloop")])
def test_asgi_loop(pool, loop, module):
    if module == "uvloop":
        pytest.importorskip("uvloop")
    s = pool.get(["-k", "asgi", "--asgi-loop", loop, "asgi_raw:app"], cwd=FW)
    got = requests.get(s.url("/loop"), timeout=10).text
    assert got.split(".")[0] == module, got
