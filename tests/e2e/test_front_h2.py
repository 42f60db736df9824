"""HTTP/2 on the front: h2spec in full over TLS (ALPN) and over h2c prior knowledge, a real h2
client (the `h2` package) for environ and bodies, and streams of one connection running in
parallel on two workers.

h2spec comes from `scripts/test` (`go install github.com/summerwind/h2spec/cmd/h2spec` into
.tools/bin); the h2spec tests skip when it is missing. h2spec's own per-case timeout is 2 s.
"""
import json
import os
import shutil
import socket
import ssl
import subprocess
import time
import xml.etree.ElementTree as ET

import pytest

from harness import REPO, SERVER
from test_front_tls import make_pki

h2 = pytest.importorskip("h2.connection", reason="needs the h2 package (tests/requirements.txt)")
import h2.config  # noqa: E402
import h2.events  # noqa: E402

H2SPEC = next((p for p in (str(REPO / ".tools" / "bin" / "h2spec"), shutil.which("h2spec") or "")
               if p and os.access(p, os.X_OK)), None)
needs_h2spec = pytest.mark.skipif(H2SPEC is None, reason="h2spec not installed (scripts/test puts it in .tools/bin)")
needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl CLI")
# gunicorn 26.1 has no --http2-cleartext (its docs say 26.2.0).
h2c_gonicorn_only = pytest.mark.gonicorn_only


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl CLI")
    return make_pki(tmp_path_factory.mktemp("pki"))


def h2_tls_args(pki, app="echo_wsgi:app", *extra, threads=4):
    return ["-k", "gthread", "--threads", str(threads), "--certfile", pki["server.pem"], "--keyfile", pki["server.key"],
            "--http-protocols", "h2,h1", *extra, app]


# h2spec cases gonicorn is known to fail, each with its cause. None today: the HTTP/2 layer
# (internal/front/h2) resets streams with connection-specific headers (8.1.2.2), applies
# repeated SETTINGS values in order (6.5.3), and answers junk sent over h2c instead of the
# preface with GOAWAY (3.5). Any other failure fails the test, and so does a listed case
# that passes (then take it off the list).
KNOWN_FAILURES = {}
KNOWN_FAILURES_H2C = dict(KNOWN_FAILURES)


def check_h2spec(failed, known, summary, what):
    unexpected = [f for f in failed if not any(f.startswith(k + " ") for k in known)]
    assert not unexpected, f"h2spec over {what}: {summary}\n" + "\n".join(unexpected)
    for k in known:
        assert any(f.startswith(k + " ") for f in failed), \
            f"h2spec {k} passes now over {what}: take it off KNOWN_FAILURES"


def run_h2spec(srv, tmp_path, tls):
    report = tmp_path / "h2spec.xml"
    argv = [H2SPEC, "-h", srv.host, "-p", str(srv.port), "-o", "2", "-j", str(report)]
    if tls:
        argv += ["-t", "-k"]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert report.exists(), f"h2spec wrote no report (status {p.returncode}): {p.stdout[-2000:]} {p.stderr[-2000:]}"
    root = ET.parse(report).getroot()
    cases, failed = 0, []
    for case in root.iter("testcase"):
        cases += 1
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        if bad is not None:
            failed.append(f"{case.get('package')} {case.get('classname')}: {' | '.join((bad.text or '').split(chr(10)))[:240]}")
    summary = (p.stdout.strip().splitlines() or ["?"])[-1]
    return cases, failed, summary


@needs_h2spec
@pytest.mark.gonicorn_only  # gunicorn 26.1 (gthread, h2 4.4.1) fails http2/5.1.2 (stream limit exceeded)
def test_h2spec_tls(server, pki, tmp_path):
    srv = server(h2_tls_args(pki))
    cases, failed, summary = run_h2spec(srv, tmp_path, tls=True)
    assert cases >= 140, f"h2spec ran only {cases} cases: {summary}"
    check_h2spec(failed, KNOWN_FAILURES, summary, "TLS")


@needs_h2spec
@h2c_gonicorn_only
def test_h2spec_h2c_prior_knowledge(server, tmp_path):
    srv = server(["-k", "gthread", "--threads", "4", "--http2-cleartext", "prior-knowledge", "echo_wsgi:app"])
    cases, failed, summary = run_h2spec(srv, tmp_path, tls=False)
    assert cases >= 140, f"h2spec ran only {cases} cases: {summary}"
    check_h2spec(failed, KNOWN_FAILURES_H2C, summary, "h2c")


# ---------------------------------------------------------------- a small h2 client


class H2Client:
    def __init__(self, srv, pki=None, timeout=10):
        sock = socket.create_connection((srv.host, srv.port), timeout=timeout)
        if pki:
            ctx = ssl.create_default_context(cafile=pki["ca.pem"])
            ctx.set_alpn_protocols(["h2", "http/1.1"])
            sock = ctx.wrap_socket(sock, server_hostname="127.0.0.1")
            self.alpn = sock.selected_alpn_protocol()
        self.sock = sock
        self.authority = f"{srv.host}:{srv.port}"
        self.scheme = "https" if pki else "http"
        self.conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
        self.conn.initiate_connection()
        self.flush()
        self.streams = {}

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def send(self, method, path, headers=(), body=b""):
        sid = self.conn.get_next_available_stream_id()
        hdrs = [(":method", method), (":path", path), (":scheme", self.scheme), (":authority", self.authority),
                *headers]
        if body:
            hdrs.append(("content-length", str(len(body))))
        self.conn.send_headers(sid, hdrs, end_stream=not body)
        if body:
            # Frames of at most the peer's SETTINGS_MAX_FRAME_SIZE; test bodies fit the 64 KiB window.
            step = self.conn.max_outbound_frame_size
            for i in range(0, len(body), step):
                self.conn.send_data(sid, body[i:i + step], end_stream=i + step >= len(body))
        self.flush()
        self.streams[sid] = {"headers": None, "data": b"", "done": None, "reset": None}
        return sid

    def wait(self, sids, timeout=10):
        deadline = time.monotonic() + timeout
        while not all(self.streams[s]["done"] or self.streams[s]["reset"] is not None for s in sids):
            left = deadline - time.monotonic()
            assert left > 0, f"h2 streams {sids} not finished after {timeout} s: {self.streams}"
            self.sock.settimeout(left)
            data = self.sock.recv(65536)
            assert data, f"connection closed with streams {sids} open: {self.streams}"
            for ev in self.conn.receive_data(data):
                st = self.streams.get(getattr(ev, "stream_id", None))
                if isinstance(ev, h2.events.ResponseReceived):
                    st["headers"] = {k.decode(): v.decode() for k, v in ev.headers}
                elif isinstance(ev, h2.events.DataReceived):
                    st["data"] += ev.data
                    self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded):
                    st["done"] = time.monotonic()
                elif isinstance(ev, h2.events.StreamReset):
                    st["reset"] = ev.error_code
            self.flush()
        return [self.streams[s] for s in sids]

    def close(self):
        self.sock.close()


def test_h2_tls_request_reaches_app(server, pki):
    srv = server(h2_tls_args(pki))
    c = H2Client(srv, pki)
    try:
        assert c.alpn == "h2", f"ALPN chose {c.alpn!r} though --http-protocols h2,h1 prefers h2"
        body = b"x" * 20000
        get = c.send("GET", "/h2/path?a=1", [("x-custom", "v1")])
        post = c.send("POST", "/h2/post", [("content-type", "application/octet-stream")], body)
        rget, rpost = c.wait([get, post])
    finally:
        c.close()
    assert rget["headers"][":status"] == "200", rget
    env = json.loads(rget["data"])["environ"]
    assert (env["REQUEST_METHOD"], env["PATH_INFO"], env["QUERY_STRING"]) == ("GET", "/h2/path", "a=1")
    assert env["HTTP_X_CUSTOM"] == "v1"
    assert env["wsgi.url_scheme"] == "https"
    # gunicorn's value; apps that compare SERVER_PROTOCOL must see the same string.
    assert env["SERVER_PROTOCOL"] == "HTTP/2.0", env["SERVER_PROTOCOL"]
    assert rpost["headers"][":status"] == "200", rpost
    doc = json.loads(rpost["data"])
    assert doc["body_len"] == len(body) and doc["environ"]["CONTENT_LENGTH"] == str(len(body))


def test_h2_prefers_h1_when_listed_first_or_alone(server, pki):
    srv = server(["--certfile", pki["server.pem"], "--keyfile", pki["server.key"], "echo_wsgi:app"])
    ctx = ssl.create_default_context(cafile=pki["ca.pem"])
    ctx.set_alpn_protocols(["h2", "http/1.1"])
    with ctx.wrap_socket(socket.create_connection((srv.host, srv.port), timeout=10), server_hostname="127.0.0.1") as s:
        assert s.selected_alpn_protocol() in (None, "http/1.1"), "h2 negotiated without --http-protocols h2"


@pytest.mark.gonicorn_only  # gunicorn's gthread worker runs the streams of one connection one after another
def test_h2_streams_of_one_connection_overlap_on_two_workers(server, pki):
    # One thread per worker: the two streams can only overlap if they go to different workers.
    srv = server(["-w", "2", *h2_tls_args(pki, "slow:app", threads=1)], workers=2)
    c = H2Client(srv, pki)
    try:
        c.wait([c.send("GET", "/?s=0")])  # warm: both workers are booted, the connection is up
        t0 = time.monotonic()
        sids = [c.send("GET", "/?s=1.5&n=1"), c.send("GET", "/?s=1.5&n=2")]
        results = c.wait(sids, timeout=10)
    finally:
        c.close()
    took = time.monotonic() - t0
    assert all(r["headers"][":status"] == "200" for r in results), results
    pids = {r["data"].split()[-1] for r in results}
    assert len(pids) == 2, f"both streams ran in one worker: {results}"
    assert took < 2.6, f"two 1.5 s streams on one connection took {took:.2f} s: they did not overlap"


@h2c_gonicorn_only
def test_h2c_prior_knowledge_and_refused_for_untrusted_peer(server):
    trusted = server(["--http2-cleartext", "prior-knowledge", "echo_wsgi:app"])
    c = H2Client(trusted)
    try:
        (r,) = c.wait([c.send("GET", "/h2c?z=9")])
    finally:
        c.close()
    assert r["headers"][":status"] == "200", r
    env = json.loads(r["data"])["environ"]
    assert (env["QUERY_STRING"], env["wsgi.url_scheme"], env["SERVER_PROTOCOL"]) == ("z=9", "http", "HTTP/2.0")
    # Only forwarded_allow_ips peers may speak h2c; 127.0.0.1 is not one here, so it gets HTTP/1.1.
    untrusted = server(["--http2-cleartext", "prior-knowledge", "--forwarded-allow-ips", "10.0.0.1",
                        "echo_wsgi:app"])
    data = untrusted.raw(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", timeout=5, shutdown=True)
    assert data.startswith(b"HTTP/1.1 4") or data == b"", data[:200]


# ---------------------------------------------------------------- h2c rules

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def frames(data):
    """Split raw HTTP/2 bytes into (type, flags, stream, payload) tuples."""
    out = []
    while len(data) >= 9:
        n = int.from_bytes(data[:3], "big")
        out.append((data[3], data[4], int.from_bytes(data[5:9], "big") & 0x7FFFFFFF, data[9:9 + n]))
        data = data[9 + n:]
    return out


@h2c_gonicorn_only
def test_h2c_prior_knowledge_only_refuses_http1_and_junk(server):
    srv = server(["--http2-cleartext", "prior-knowledge", "echo_wsgi:app"])
    # gunicorn's rule: a trusted peer that speaks HTTP/1 to a prior-knowledge-only server
    # gets 400, not a silent downgrade.
    data = srv.raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", timeout=5)
    assert data.startswith(b"HTTP/1.1 400 "), data[:200]
    assert b"HTTP/2 connection preface" in data, data
    # Anything else that is not the preface is an HTTP/2 connection error: GOAWAY, close.
    for junk in (b"INVALID CONNECTION PREFACE\r\n\r\n", b"\x16\x03\x01\x00\x05hello"):
        t0 = time.monotonic()
        data = srv.raw(junk, timeout=5)
        assert time.monotonic() - t0 < 3, f"{junk!r}: the server waited for more bytes"
        goaway = [f for f in frames(data) if f[0] == 0x7]
        assert goaway and int.from_bytes(goaway[0][3][4:8], "big") == 0x1, f"{junk!r}: {data!r}"


@h2c_gonicorn_only
def test_h2c_both_serves_http1_and_prior_knowledge(server):
    srv = server(["--http2-cleartext", "both", "echo_wsgi:app"])
    data = srv.raw(b"GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=5)
    assert data.startswith(b"HTTP/1.1 200 "), data[:200]
    c = H2Client(srv)
    try:
        (r,) = c.wait([c.send("GET", "/pk")])
    finally:
        c.close()
    assert r["headers"][":status"] == "200", r


def upgrade(srv, path, body=b"", extra=b""):
    """An h2c upgrade (RFC 7540 3.2) with the h2 package: the 101, then stream 1's response."""
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True))
    settings = conn.initiate_upgrade_connection()
    head = (f"POST {path} HTTP/1.1\r\nHost: {srv.host}:{srv.port}\r\n"
            f"Content-Length: {len(body)}\r\n").encode() if body else \
        f"GET {path} HTTP/1.1\r\nHost: {srv.host}:{srv.port}\r\n".encode()
    req = head + b"Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: " + settings + \
        b"\r\n" + extra + b"\r\n" + body
    sock = srv.connect(10)
    try:
        sock.sendall(req)
        buf = b""
        while b"\r\n\r\n" not in buf:
            data = sock.recv(65536)
            assert data, f"closed before a response head: {buf!r}"
            buf += data
        status, rest = buf.split(b"\r\n\r\n", 1)
        if not status.startswith(b"HTTP/1.1 101 "):
            return status, None
        sock.sendall(conn.data_to_send())
        result = {"headers": None, "data": b"", "done": False}
        events = conn.receive_data(rest) if rest else []
        deadline = time.monotonic() + 10
        while True:
            for ev in events:
                if isinstance(ev, h2.events.ResponseReceived) and ev.stream_id == 1:
                    result["headers"] = {k.decode(): v.decode() for k, v in ev.headers}
                elif isinstance(ev, h2.events.DataReceived) and ev.stream_id == 1:
                    result["data"] += ev.data
                    conn.acknowledge_received_data(ev.flow_controlled_length, 1)
                elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == 1:
                    result["done"] = True
            out = conn.data_to_send()
            if out:
                sock.sendall(out)
            if result["done"]:
                return status, result
            assert time.monotonic() < deadline, f"stream 1 not finished: {result}"
            data = sock.recv(65536)
            assert data, f"connection closed before stream 1 ended: {result}"
            events = conn.receive_data(data)
    finally:
        sock.close()


@h2c_gonicorn_only
def test_h2c_upgrade(server):
    srv = server(["--http2-cleartext", "upgrade", "echo_wsgi:app"])
    status, r = upgrade(srv, "/up?a=1")
    assert r is not None, status
    assert r["headers"][":status"] == "200", r
    env = json.loads(r["data"])["environ"]
    assert (env["PATH_INFO"], env["QUERY_STRING"], env["SERVER_PROTOCOL"]) == ("/up", "a=1", "HTTP/2.0"), env
    assert env["HTTP_HOST"] == f"{srv.host}:{srv.port}", env
    assert "HTTP_UPGRADE" not in env and "HTTP_HTTP2_SETTINGS" not in env, env
    # A small body comes along with the upgrade and reaches the app on stream 1.
    status, r = upgrade(srv, "/post", body=b"x" * 1000)
    assert r is not None, status
    doc = json.loads(r["data"])
    assert doc["body_len"] == 1000 and doc["environ"]["CONTENT_LENGTH"] == "1000", doc


@h2c_gonicorn_only
def test_h2c_upgrade_refused_for_untrusted_peer_and_in_prior_knowledge_mode(server):
    untrusted = server(["--http2-cleartext", "upgrade", "--forwarded-allow-ips", "10.0.0.1", "echo_wsgi:app"])
    status, r = upgrade(untrusted, "/")
    assert r is None and status.startswith(b"HTTP/1.1 200 "), status
    # prior-knowledge mode does not upgrade; it takes only the preface from a trusted peer.
    pk = server(["--http2-cleartext", "prior-knowledge", "echo_wsgi:app"])
    status, r = upgrade(pk, "/")
    assert r is None and status.startswith(b"HTTP/1.1 400 "), status


@h2c_gonicorn_only
@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_h2c_upgrade_with_curl(server):
    features = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout
    if "HTTP2" not in features:
        pytest.skip("curl without HTTP/2")
    srv = server(["--http2-cleartext", "both", "echo_wsgi:app"])
    for extra in ([], ["--data-binary", "hello"]):
        p = subprocess.run(["curl", "-sS", "--http2", "-w", "\n%{http_version}", *extra, srv.url("/curl")],
                           capture_output=True, text=True, timeout=20)
        body, _, version = p.stdout.rpartition("\n")
        assert p.returncode == 0 and version == "2", (p.returncode, p.stderr, p.stdout[-300:])
        doc = json.loads(body)
        assert doc["environ"]["SERVER_PROTOCOL"] == "HTTP/2.0"
        assert doc["body_len"] == (5 if extra else 0), doc


@h2c_gonicorn_only
def test_h2_streams_get_secure_scheme_and_header_map_rules(server):
    """The HTTP/1 parser's proxy rules apply to h2 streams too: a trusted peer's
    X-Forwarded-Proto sets wsgi.url_scheme, contradictory scheme headers are a 400,
    and a name with '_' is dropped (header_map=drop)."""
    srv = server(["--http2-cleartext", "prior-knowledge", "echo_wsgi:app"])
    c = H2Client(srv)
    try:
        ok, bad = c.wait([
            c.send("GET", "/", [("x-forwarded-proto", "https"), ("x_sneaky", "1"), ("x-plain", "2")]),
            c.send("GET", "/", [("x-forwarded-proto", "https"), ("x-forwarded-ssl", "off")]),
        ])
    finally:
        c.close()
    assert ok["headers"][":status"] == "200", ok
    env = json.loads(ok["data"])["environ"]
    assert env["wsgi.url_scheme"] == "https"
    assert env["HTTP_X_PLAIN"] == "2" and "HTTP_X_SNEAKY" not in env, sorted(env)
    assert bad["headers"][":status"] == "400", bad
    assert b"Contradictory scheme headers" in bad["data"]
    srv.wait_for_log(r"Invalid request from ip=127\.0\.0\.1: Contradictory scheme headers")
