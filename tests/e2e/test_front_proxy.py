"""PROXY protocol v1 (text) and v2 (binary) in front of HTTP/1.1.

From an allowed peer (127.0.0.1 is in the default --proxy-allow-from) the header sets REMOTE_ADDR
and REMOTE_PORT; from a refused peer (--proxy-allow-from 10.0.0.1) the request is refused with 403
or the connection is closed, and the claimed address never reaches the app.
"""
import ipaddress
import json
import socket
import struct

import pytest

from harness import parse_responses

V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"
REQ = b"GET /proxied?p=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"


def v1(src="192.0.2.10", dst="192.0.2.20", sport=56324, dport=443, fam="TCP4"):
    return f"PROXY {fam} {src} {dst} {sport} {dport}\r\n".encode()


def v2(src="192.0.2.10", dst="192.0.2.20", sport=56324, dport=443, command=0x1):
    s, d = ipaddress.ip_address(src), ipaddress.ip_address(dst)
    fam = 0x11 if s.version == 4 else 0x21  # TCP over IPv4 / IPv6
    addrs = s.packed + d.packed + struct.pack("!HH", sport, dport)
    return V2_SIG + bytes([0x20 | command, fam]) + struct.pack("!H", len(addrs)) + addrs


def environ_of(data):
    (resp,) = parse_responses(data)
    assert resp.status == 200, resp
    return json.loads(resp.body)["environ"]


@pytest.fixture(scope="module")
def auto_server(pool):
    return pool.get(["--proxy-protocol", "auto", "echo_wsgi:app"])


@pytest.mark.parametrize("header,addr,port", [
    (v1(), "192.0.2.10", "56324"),
    (v1("2001:db8::7", "2001:db8::8", 4000, 80, fam="TCP6"), "2001:db8::7", "4000"),
    (v2(), "192.0.2.10", "56324"),
    (v2("2001:db8::7", "2001:db8::8", 4000, 80), "2001:db8::7", "4000"),
], ids=["v1-tcp4", "v1-tcp6", "v2-ipv4", "v2-ipv6"])
def test_proxy_header_from_allowed_peer_sets_remote_addr(auto_server, header, addr, port):
    env = environ_of(auto_server.raw(header + REQ))
    assert (env["REMOTE_ADDR"], str(env["REMOTE_PORT"])) == (addr, port)
    assert (env["PATH_INFO"], env["QUERY_STRING"]) == ("/proxied", "p=1")


@pytest.mark.parametrize("mode,header", [("v1", v1()), ("v2", v2())])
def test_proxy_version_specific_modes(server, mode, header):
    srv = server(["--proxy-protocol", mode, "echo_wsgi:app"])
    assert environ_of(srv.raw(header + REQ))["REMOTE_ADDR"] == "192.0.2.10"


@pytest.mark.gonicorn_only  # gunicorn 26.1 sets REMOTE_ADDR to None for LOCAL
def test_proxy_v2_local_command_keeps_real_peer(auto_server):
    # LOCAL: the proxy's own connection (health checks); the addresses must be ignored.
    env = environ_of(auto_server.raw(v2(command=0x0) + REQ))
    assert env["REMOTE_ADDR"] == "127.0.0.1"


@pytest.mark.parametrize("header", [
    b"PROXY TCP4 999.1.1.1 192.0.2.20 1 2\r\n",
    b"PROXY TCP4 192.0.2.10 192.0.2.20 70000 2\r\n",
    b"PROXY TCP9 192.0.2.10 192.0.2.20 1 2\r\n",
    b"PROXY TCP4 192.0.2.10\r\n",
    # Address block too short for IPv4; gunicorn 26.1 answers 500 (an unhandled struct.error).
    pytest.param(V2_SIG + b"\x21\x11\x00\x05" + b"\x00" * 5, marks=pytest.mark.gonicorn_only),
], ids=["bad-ip", "bad-port", "bad-family", "missing-fields", "v2-short"])
def test_malformed_proxy_header_refused(auto_server, header):
    data = auto_server.raw(header + REQ, timeout=5, shutdown=True)
    assert b"REMOTE_ADDR" not in data, data[:300]
    if data:
        assert data.startswith(b"HTTP/1.1 400"), data[:300]


def test_proxy_header_only_at_connection_start(auto_server):
    # A PROXY line as the second request of a keep-alive connection is not a PROXY header.
    first = b"GET /first HTTP/1.1\r\nHost: x\r\n\r\n"
    data = auto_server.raw(first + v1() + REQ, timeout=5, shutdown=True)
    resps = parse_responses(data)
    assert resps[0].status == 200 and json.loads(resps[0].body)["environ"]["REMOTE_ADDR"] == "127.0.0.1"
    for r in resps[1:]:
        assert r.status == 400, f"a mid-connection PROXY line was accepted: {r}"


@pytest.fixture(scope="module")
def refusing_server(pool):
    return pool.get(["--proxy-protocol", "auto", "--proxy-allow-from", "10.0.0.1", "echo_wsgi:app"])


@pytest.mark.parametrize("header", [v1(), v2()], ids=["v1", "v2"])
def test_proxy_header_from_refused_peer(refusing_server, header):
    data = refusing_server.raw(header + REQ, timeout=5, shutdown=True)
    assert b"192.0.2.10" not in data, f"a refused peer set REMOTE_ADDR: {data[:400]!r}"
    if data:
        assert data.startswith(b"HTTP/1.1 403"), data[:300]
    # Plain requests from that peer are still served (the check is on the PROXY header only).
    env = environ_of(refusing_server.raw(REQ))
    assert env["REMOTE_ADDR"] == "127.0.0.1"
