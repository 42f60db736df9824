"""A slow upload never holds a sync worker: the front reads the whole body (in memory up to
1 MiB, then in a temp file) before it hands the request to a worker. gonicorn only: gunicorn's
sync worker reads the body itself and is blocked for as long as the client takes.
"""
import hashlib
import json
import socket
import time

import pytest

from harness import parse_responses

pytestmark = pytest.mark.gonicorn_only


def get(srv, path):
    with socket.create_connection((srv.host, srv.port), timeout=10) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return parse_responses(data)[0]


@pytest.mark.parametrize("size", [200 << 10, 3 << 20], ids=["memory", "spooled"])
def test_slow_upload_does_not_hold_the_only_worker(server, size):
    srv = server(["-w", "1", "echo_wsgi:app"])
    body = bytes(range(256)) * (size // 256)
    with socket.create_connection((srv.host, srv.port), timeout=20) as up:
        up.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                   b"Content-Length: %d\r\n\r\n" % len(body))
        up.sendall(body[: len(body) // 2])
        # The upload is half done and stalls; the only worker must still serve others.
        t0 = time.monotonic()
        assert get(srv, "/").status == 200
        assert time.monotonic() - t0 < 2, "a GET waited for the stalled upload's worker"
        up.sendall(body[len(body) // 2:])
        data = b""
        while chunk := up.recv(65536):
            data += chunk
    resp = parse_responses(data)[0]
    assert resp.status == 200
    doc = json.loads(resp.body)
    assert doc["body_len"] == len(body)
    assert doc["body_sha256"] == hashlib.sha256(body).hexdigest()
