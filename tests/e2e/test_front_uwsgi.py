"""The uwsgi protocol behind a real nginx (`uwsgi_pass`), over TCP and over a unix socket.

nginx (Debian's nginx or nginx-light, installed by scripts/test) runs in the foreground with
`master_process off` on a free loopback port, with a config, logs and temp paths of its own in
the test's directory. The tests skip when no nginx binary is found.
"""
import hashlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import time

import pytest

from harness import free_port

NGINX = shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None)
pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx not installed (scripts/test installs nginx-light)")

# The params Debian's /etc/nginx/uwsgi_params passes, written out so the test does not
# depend on that file.
UWSGI_PARAMS = """
uwsgi_param QUERY_STRING $query_string;
uwsgi_param REQUEST_METHOD $request_method;
uwsgi_param CONTENT_TYPE $content_type;
uwsgi_param CONTENT_LENGTH $content_length;
uwsgi_param REQUEST_URI $request_uri;
uwsgi_param PATH_INFO $document_uri;
uwsgi_param DOCUMENT_ROOT $document_root;
uwsgi_param SERVER_PROTOCOL $server_protocol;
uwsgi_param REQUEST_SCHEME $scheme;
uwsgi_param HTTPS $https if_not_empty;
uwsgi_param REMOTE_ADDR $remote_addr;
uwsgi_param REMOTE_PORT $remote_port;
uwsgi_param SERVER_PORT $server_port;
uwsgi_param SERVER_NAME $server_name;
"""


class Nginx:
    def __init__(self, workdir, upstream):
        self.dir = workdir
        self.upstream = upstream
        self.port = free_port()
        for sub in ("logs", "tmp"):
            (workdir / sub).mkdir(parents=True, exist_ok=True)
        conf = f"""
daemon off;
master_process off;
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/logs/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {workdir}/tmp/body;
    proxy_temp_path {workdir}/tmp/proxy;
    fastcgi_temp_path {workdir}/tmp/fastcgi;
    uwsgi_temp_path {workdir}/tmp/uwsgi;
    scgi_temp_path {workdir}/tmp/scgi;
    client_max_body_size 10m;
    server {{
        listen 127.0.0.1:{self.port};
        server_name uwsgi.test;
        location / {{
            {UWSGI_PARAMS}
            uwsgi_pass {upstream};
        }}
    }}
}}
"""
        (workdir / "nginx.conf").write_text(conf)
        self.log = open(workdir / "logs" / "stderr.log", "wb")
        self.proc = subprocess.Popen([NGINX, "-p", str(workdir), "-c", str(workdir / "nginx.conf")],
                                     stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log,
                                     start_new_session=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"nginx exited with {self.proc.returncode}: {self.errors()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"nginx not listening on {self.port} after 10 s: {self.errors()}")

    def errors(self):
        out = ""
        for name in ("stderr.log", "error.log"):
            p = self.dir / "logs" / name
            if p.exists():
                out += p.read_text(errors="replace")
        return out

    def request(self, method, path, body=None, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.log.close()


@pytest.fixture(params=["tcp", "unix"])
def front(request, server, tmp_path):
    if request.param == "tcp":
        app = server(["--protocol", "uwsgi", "echo_wsgi:app"])
        upstream = f"127.0.0.1:{app.port}"
    else:
        sock = tmp_path / "g.sock"
        app = server(["--protocol", "uwsgi", "--bind", f"unix:{sock}", "echo_wsgi:app"], bind=False)
        upstream = f"unix:{sock}"
    ngx = Nginx(tmp_path / "nginx", upstream)
    yield ngx
    ngx.stop()


def echo(ngx, method, path, body=None, headers=None):
    status, data = ngx.request(method, path, body, headers)
    assert status == 200, f"nginx answered {status}: {data[:300]!r}\nnginx log: {ngx.errors()}"
    return json.loads(data)


def test_uwsgi_get_with_query_and_headers(front):
    doc = echo(front, "GET", "/some/path?a=1&b=two%20words",
               headers={"X-Custom": "value 1", "Accept-Language": "fr", "Cookie": "c=1"})
    env = doc["environ"]
    assert env["REQUEST_METHOD"] == "GET"
    assert env["PATH_INFO"] == "/some/path"
    assert env["QUERY_STRING"] == "a=1&b=two%20words"
    assert env["HTTP_X_CUSTOM"] == "value 1"
    assert env["HTTP_ACCEPT_LANGUAGE"] == "fr"
    assert env["HTTP_COOKIE"] == "c=1"
    assert env["HTTP_HOST"].startswith("127.0.0.1")
    if front.upstream.startswith("127."):
        # gunicorn takes REMOTE_ADDR from the peer, not from the vars: '' over a unix socket.
        assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["wsgi.url_scheme"] == "http"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert doc["body_len"] == 0


@pytest.mark.parametrize("size", [11, 300_000])
def test_uwsgi_post_body(front, size):
    body = (b"0123456789abcdef" * (size // 16 + 1))[:size]
    doc = echo(front, "POST", "/submit?x=y", body=body, headers={"Content-Type": "application/octet-stream"})
    env = doc["environ"]
    assert (env["REQUEST_METHOD"], env["PATH_INFO"], env["QUERY_STRING"]) == ("POST", "/submit", "x=y")
    assert env["CONTENT_TYPE"] == "application/octet-stream"
    assert env["CONTENT_LENGTH"] == str(size)
    assert doc["body_len"] == size
    assert doc["body_sha256"] == hashlib.sha256(body).hexdigest()


def test_uwsgi_many_requests_in_a_row(front):
    for i in range(20):
        assert echo(front, "GET", f"/n/{i}")["environ"]["PATH_INFO"] == f"/n/{i}"


def test_uwsgi_peer_not_allowed(server, tmp_path):
    app = server(["--protocol", "uwsgi", "--uwsgi-allow-from", "10.0.0.1", "echo_wsgi:app"])
    ngx = Nginx(tmp_path / "nginx", f"127.0.0.1:{app.port}")
    try:
        status, data = ngx.request("GET", "/refused")
    finally:
        ngx.stop()
    assert status != 200 and b"PATH_INFO" not in data, (status, data[:300])


def test_uwsgi_listener_refuses_plain_http(server):
    app = server(["--protocol", "uwsgi", "echo_wsgi:app"])
    data = app.raw(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=5, shutdown=True)
    assert b"PATH_INFO" not in data and not data.startswith(b"HTTP/1.1 200"), data[:300]
