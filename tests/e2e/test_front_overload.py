"""Overload: --max-queue and --queue-timeout turn a burst over capacity into fast 503s with
Retry-After instead of an ever-growing wait; --request-timeout gives 504. gonicorn only
(gunicorn queues in the kernel backlog and has no deadline).
"""
import concurrent.futures as cf
import socket
import time

import pytest

from harness import parse_responses

pytestmark = pytest.mark.gonicorn_only


def timed_get(srv, path, timeout=15):
    t0 = time.monotonic()
    with socket.create_connection((srv.host, srv.port), timeout=timeout) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    took = time.monotonic() - t0
    (resp,) = parse_responses(data)
    return resp, took


def burst(srv, n, path):
    with cf.ThreadPoolExecutor(n) as ex:
        return list(ex.map(lambda _: timed_get(srv, path), range(n)))


def test_full_queue_gets_fast_503_with_retry_after(server):
    # Capacity 1 (one sync worker) + 2 queued; each request takes 0.6 s; 12 arrive at once.
    srv = server(["-w", "1", "--max-queue", "2", "--queue-timeout", "5", "slow:app"])
    timed_get(srv, "/?s=0")
    results = burst(srv, 12, "/?s=0.6")
    ok = [(r, t) for r, t in results if r.status == 200]
    shed = [(r, t) for r, t in results if r.status == 503]
    assert len(ok) + len(shed) == len(results), [r for r, _ in results]
    assert 1 <= len(ok) <= 4, f"{len(ok)} served with capacity 1 + queue 2: {[r.status for r, _ in results]}"
    assert len(shed) >= 8, [r.status for r, _ in results]
    for r, t in shed:
        assert r.header("Retry-After", "").isdigit(), r
        assert t < 0.5, f"a 503 for a full queue took {t:.2f} s: it should not wait"
    # Served requests waited at most for the ones queued ahead of them.
    assert max(t for _, t in ok) < 0.6 * 3 + 1.0, [round(t, 2) for _, t in ok]


def test_queue_deadline_bounds_latency(server):
    # No queue limit, a 0.4 s deadline: requests that cannot start within it get 503 at ~0.4 s.
    srv = server(["-w", "1", "--queue-timeout", "0.4", "slow:app"])
    timed_get(srv, "/?s=0")
    results = burst(srv, 8, "/?s=1")
    seen = [(r.status, round(t, 2)) for r, t in results]
    assert sorted(r.status for r, _ in results).count(503) >= 6, seen
    for r, t in results:
        assert r.status in (200, 503), seen
        if r.status == 503:
            assert r.header("Retry-After", "").isdigit(), r
            assert 0.3 <= t < 1.0, f"503 after {t:.2f} s; the queue deadline is 0.4 s: {seen}"
        else:
            # 1 s of work after at most 0.4 s of waiting: anything later waited past the deadline.
            assert t < 1.0 + 0.4 + 0.3, f"a request was served after {t:.2f} s, past the 0.4 s queue deadline: {seen}"
    # The server recovers: the next request is served at once.
    r, t = timed_get(srv, "/?s=0")
    assert r.status == 200 and t < 0.5, (r, t)


def test_request_timeout_gives_504(server):
    srv = server(["-w", "1", "--request-timeout", "0.5", "slow:app"])
    r, t = timed_get(srv, "/?s=3")
    assert r.status == 504, r
    assert t < 2.0, f"504 after {t:.2f} s for --request-timeout 0.5"
    # The worker is usable again (replaced or released) within a few seconds.
    deadline = time.monotonic() + 10
    while True:
        r, _ = timed_get(srv, "/?s=0")
        if r.status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert r.status == 200, r
