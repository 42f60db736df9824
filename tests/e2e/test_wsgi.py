"""WSGI conformance (PEP 3333) through the echo app, plus app errors and broken responses."""
import base64
import hashlib
import json
import os
import re
import time

import pytest
import requests

import harness
from harness import parse_responses

MB = 1024 * 1024


def echo(server, path="/", **kw):
    r = requests.request(kw.pop("method", "GET"), server.url(path), timeout=30, **kw)
    assert r.status_code == 200, r.text[:500]
    return r.json()


def test_environ_keys(echo_server):
    s = echo_server
    with s.connect() as c:
        local_port = c.getsockname()[1]
        c.sendall(b"GET /a%20b/c?x=1&y=%20 HTTP/1.1\r\nHost: example.test:1234\r\n"
                  b"X-Custom: one\r\nX-Custom: two\r\nConnection: close\r\n\r\n")
        resp = parse_responses(harness.recv_all(c))[0]
    env = json.loads(resp.body)["environ"]
    assert env["REQUEST_METHOD"] == "GET"
    assert env["RAW_URI"] == "/a%20b/c?x=1&y=%20"
    assert env["PATH_INFO"] == "/a b/c"
    assert env["QUERY_STRING"] == "x=1&y=%20"
    assert env["SCRIPT_NAME"] == ""
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    # gunicorn takes these from the listening address, not from Host
    assert env["SERVER_NAME"] == "127.0.0.1" and env["SERVER_PORT"] == str(s.port)
    assert env["HTTP_HOST"] == "example.test:1234"
    assert env["HTTP_X_CUSTOM"] == "one,two"
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["REMOTE_PORT"] == str(local_port)
    assert env["wsgi.version"] == [1, 0]
    assert env["wsgi.url_scheme"] == "http"
    assert env["wsgi.run_once"] is False
    assert env["wsgi.multithread"] is False
    assert env["wsgi.multiprocess"] is False
    assert re.fullmatch(r"g[ou]nicorn/\d+\.\d+\.\d+.*", env["SERVER_SOFTWARE"]), env["SERVER_SOFTWARE"]
    assert "CONTENT_LENGTH" not in env and "HTTP_CONNECTION" in env


def test_environ_post_headers(echo_server):
    doc = echo(echo_server, "/p", method="POST", data=b"abc", headers={"Content-Type": "text/x-test"})
    env = doc["environ"]
    assert env["CONTENT_TYPE"] == "text/x-test" and env["CONTENT_LENGTH"] == "3"
    assert "HTTP_CONTENT_TYPE" not in env and "HTTP_CONTENT_LENGTH" not in env
    assert base64.b64decode(doc["body_b64"]) == b"abc"


def test_script_name_from_env(server):
    s = server(["echo_wsgi:app"], env={"SCRIPT_NAME": "/prefix"})
    env = echo(s, "/prefix/foo/bar?q=1")["environ"]
    assert env["SCRIPT_NAME"] == "/prefix"
    assert env["PATH_INFO"] == "/foo/bar"
    assert env["RAW_URI"] == "/prefix/foo/bar?q=1"


def test_large_body_content_length(echo_server):
    body = os.urandom(10 * MB)
    doc = echo(echo_server, "/upload", method="POST", data=body)
    assert doc["body_len"] == len(body)
    assert doc["body_sha256"] == hashlib.sha256(body).hexdigest()
    assert doc["environ"]["CONTENT_LENGTH"] == str(len(body))


def test_large_body_chunked(echo_server):
    body = os.urandom(10 * MB)

    def gen():
        for i in range(0, len(body), 256 * 1024):
            yield body[i:i + 256 * 1024]

    doc = echo(echo_server, "/upload?_echo_mode=chunks", method="POST", data=gen())
    assert doc["environ"]["HTTP_TRANSFER_ENCODING"] == "chunked"
    assert doc["body_len"] == len(body)
    assert doc["body_sha256"] == hashlib.sha256(body).hexdigest()


BODY = b"line one\nline two\r\n\nlast line without newline" * 300


@pytest.mark.parametrize("mode", ["read", "readline", "iter", "chunks"])
@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_read_modes(echo_server, mode, framing):
    data = BODY if framing == "content-length" else iter([BODY[:1000], BODY[1000:]])
    doc = echo(echo_server, f"/?_echo_mode={mode}", method="POST", data=data)
    assert doc["read_mode"] == mode
    assert doc["body_len"] == len(BODY)
    assert doc["body_sha256"] == hashlib.sha256(BODY).hexdigest()


def test_head_has_no_body(echo_server):
    data = echo_server.raw(b"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    head, _, rest = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), data
    assert rest == b"", data
    assert b"Content-Length: " in head


def test_chunked_response_without_content_length(echo_server):
    data = echo_server.raw(b"GET /?_echo_nocl=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    resp = parse_responses(data)[0]
    assert resp.header("Transfer-Encoding") == "chunked", data[:300]
    assert resp.header("Content-Length") is None
    assert json.loads(resp.body)["environ"]["QUERY_STRING"] == "_echo_nocl=1"


def test_http10_response_without_content_length_is_close_delimited(echo_server):
    data = echo_server.raw(b"GET /?_echo_nocl=1 HTTP/1.0\r\nHost: x\r\n\r\n")
    resp = parse_responses(data)[0]
    assert resp.header("Transfer-Encoding") is None
    assert json.loads(resp.body)["environ"]["SERVER_PROTOCOL"] == "HTTP/1.0"


def test_expect_100_continue(echo_server):
    body = b"x" * 5000
    with echo_server.connect() as c:
        c.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n"
                  b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
        interim = c.recv(100)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n"), interim
        c.sendall(body)
        data = interim + harness.recv_all(c)
    final = data[data.index(b"\r\n\r\n") + 4:]
    resp = parse_responses(final)[0]
    assert resp.status == 200
    assert json.loads(resp.body)["body_len"] == 5000


def test_file_wrapper(server):
    s = server(["file_wrapper:app"])
    r = requests.get(s.url("/"), timeout=10)
    assert r.status_code == 200
    assert r.content == (harness.APPS / "file_wrapper.py").read_bytes()


# -- app errors ---------------------------------------------------------------------------

def test_app_raises_before_start_response(server):
    s = server(["raising:app"])
    r = requests.get(s.url("/raise"), timeout=10)
    assert r.status_code == 500
    s.wait_for_log(r"Error handling request GET /raise", stream="stderr")
    s.wait_for_log(r"RuntimeError: raised before start_response on purpose", stream="stderr")
    assert "Traceback (most recent call last):" in s.stderr()
    assert requests.get(s.url("/"), timeout=10).text == "ok\n"


def test_app_raises_mid_iteration(server):
    s = server(["raising:app"])
    data = s.raw(b"GET /raise-mid HTTP/1.1\r\nHost: x\r\n\r\n")
    assert data.startswith(b"HTTP/1.1 200"), data
    assert b"first part" in data
    assert not data.endswith(b"0\r\n\r\n"), "a failed body must not look complete"
    s.wait_for_log(r"RuntimeError: raised mid-iteration on purpose", stream="stderr")
    assert requests.get(s.url("/"), timeout=10).text == "ok\n"


def test_flask_raise_route(flask_server):
    r = requests.get(flask_server.url("/raise"), timeout=10)
    assert r.status_code == 500
    flask_server.wait_for_log(r"Exception on /raise \[GET\]|Error handling request GET /raise", stream="stderr")
    assert requests.get(flask_server.url("/"), timeout=10).text == "Hello from Flask\n"


def test_flask_routes(flask_server):
    s = flask_server
    assert requests.get(s.url("/json"), timeout=10).json() == {"ok": True, "items": [1, 2, 3]}
    r = requests.post(s.url("/echo"), data=b"payload", headers={"Content-Type": "text/plain"}, timeout=10)
    assert r.content == b"payload" and r.headers["Content-Type"].startswith("text/plain")
    r = requests.get(s.url("/stream"), timeout=10)
    assert r.text == "".join(f"chunk {i}\n" for i in range(5))
    assert r.headers.get("Transfer-Encoding") == "chunked"


def test_non_iterable_response_gives_500(server):
    s = server(["bad_response:app"])
    r = requests.get(s.url("/noniter"), timeout=10)
    assert r.status_code == 500
    s.wait_for_log(r"Error handling request GET /noniter", stream="stderr")
    assert requests.get(s.url("/"), timeout=10).text == "ok\n"


@pytest.mark.parametrize("path", ["/header", "/header-value"])
def test_bad_response_header_is_refused(server, path):
    s = server(["bad_response:app"])
    data = s.raw(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    resp = parse_responses(data)[0]
    assert resp.status in (400, 500), data  # gunicorn answers 400; gonicorn 500 (see below)
    assert resp.header("Injected") is None and b"\r\nX:" not in data
    s.wait_for_log(r"\[(WARNING|ERROR)\] .*(Invalid|header|Header)", stream="stderr")
    assert requests.get(s.url("/"), timeout=10).text == "ok\n"


@pytest.mark.gonicorn_only
@pytest.mark.parametrize("path", ["/status", "/header", "/header-value"])
def test_bad_response_gives_500(server, path):
    """gunicorn sends `HTTP/1.1 bogus` for a bad status and 400 for a bad app header; both are app bugs."""
    s = server(["bad_response:app"])
    resp = parse_responses(s.raw(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()))[0]
    assert resp.status == 500
    s.wait_for_log(r"\[ERROR\] ", stream="stderr")


def test_close_called_once_per_request(server, tmp_path):
    track = tmp_path / "closes.txt"
    s = server(["close_tracker:app"], env={"CLOSE_TRACKER_FILE": str(track)})
    assert requests.get(s.url("/?a"), timeout=10).text == "part-1\npart-2\n"
    assert requests.get(s.url("/?b"), timeout=10).text == "part-1\npart-2\n"
    s.raw(b"GET /fail?c HTTP/1.1\r\nHost: x\r\n\r\n")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (not track.exists() or track.read_text().count("\n") < 3):
        time.sleep(0.05)
    assert sorted(track.read_text().splitlines()) == ["close a", "close b", "close c"]
