"""Request smuggling over raw sockets, on top of gunicorn's corpus (test_http_corpus.py).

Every case hides a complete request, `GET /smuggled-<case>`, where a server that frames the
message differently from the RFC 9112 reading would parse it as a request of its own: after a
body that should have ended elsewhere, inside a body, behind an obfuscated Transfer-Encoding or
Content-Length, behind an overflowing chunk size. The app (tests/apps/record_wsgi.py) records
every request it gets in a file; the hidden request must never be there.

Expectations per case:
- refuse: the first answer is an error (4xx/5xx) or the connection closes without one.
- frame:  the visible request is answered 200 and the app read exactly the body the RFC gives.
- either: refusing and framing are both safe (e.g. leading zeros in Content-Length).

Keep-alive is on (no `Connection: close`), the client half-closes after sending, so a server that
mis-frames has every chance to run the hidden request. A control case proves that pipelined
requests are run at all (gonicorn keeps sync connections alive; gunicorn's sync worker does not,
so under SERVER=gunicorn that control is skipped and the suite only shows nothing leaks).
"""
import json
import socket
import time

import pytest

from harness import SERVER, parse_responses, recv_all


def hidden(cid):
    return f"GET /smuggled-{cid} HTTP/1.1\r\nHost: x\r\n\r\n".encode()


def chunk(data):
    return b"%x\r\n" % len(data) + data + b"\r\n"


def post(cid, headers, body, method=b"POST", version=b"HTTP/1.1"):
    """A request for /v-<cid> with the raw header lines given (bytes, CRLF added)."""
    head = method + b" /v-" + cid.encode() + b" " + version + b"\r\nHost: x\r\n"
    return head + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body


# Cases gunicorn 26.1 answers 200 (each framed safely, nothing leaks) where gonicorn refuses:
# skipped under SERVER=gunicorn.
GUNICORN_ACCEPTS = {
    "chunk-ext-bare-lf": "a bare LF inside a chunk extension is accepted",
    "chunk-ext-nul": "a NUL inside a chunk extension is accepted",
    "nul-in-target": "a NUL in the request target reaches the app in PATH_INFO",
}


def _cases():
    c = []

    def add(cid, build, expect, body_len=None):
        marks = [pytest.mark.gonicorn_only] if cid in GUNICORN_ACCEPTS else []
        c.append(pytest.param(cid, build, expect, body_len, id=cid, marks=marks))

    # -- CL.TE / TE.CL: both headers present must be refused, whichever order.
    add("cl-te", lambda i: post(i, [b"Content-Length: %d" % len(b"0\r\n\r\n" + hidden(i)),
                                    b"Transfer-Encoding: chunked"], b"0\r\n\r\n" + hidden(i)), "refuse")
    add("te-cl", lambda i: post(i, [b"Transfer-Encoding: chunked", b"Content-Length: 4"],
                                chunk(hidden(i)) + b"0\r\n\r\n"), "refuse")
    # -- TE.TE: an obfuscated Transfer-Encoding next to a Content-Length that would expose the
    # hidden request if the Transfer-Encoding were ignored (CL 4 covers only the chunk-size line).
    for cid, te in [
        ("te-xchunked", b"Transfer-Encoding: xchunked"),
        ("te-trailing-space", b"Transfer-Encoding: chunked "),
        ("te-trailing-tab", b"Transfer-Encoding: chunked\t"),
        ("te-leading-tab", b"Transfer-Encoding:\tchunked"),
        ("te-no-space", b"Transfer-Encoding:chunked"),
        ("te-space-before-colon", b"Transfer-Encoding : chunked"),
        ("te-tab-before-colon", b"Transfer-Encoding\t: chunked"),
        ("te-upper", b"TRANSFER-ENCODING: CHUNKED"),
        ("te-quoted", b'Transfer-Encoding: "chunked"'),
        ("te-list-dup", b"Transfer-Encoding: chunked, chunked"),
        ("te-two-headers", b"Transfer-Encoding: chunked\r\nTransfer-Encoding: x"),
        ("te-identity-after", b"Transfer-Encoding: chunked\r\nTransfer-Encoding: identity"),
        ("te-fold", b"Transfer-Encoding: x\r\n chunked"),
        ("te-fold-hides-header", b"X-Foo: bar\r\n Transfer-Encoding: chunked"),
        ("te-vtab", b"Transfer-Encoding:\x0bchunked"),
        ("te-nul", b"Transfer-Encoding: chunked\x00"),
        ("te-kelvin-k", b"Transfer-Encoding: chun\xe2\x84\xaaed"),
        ("te-empty-name-line", b": chunked\r\nTransfer-Encoding: chunked"),
    ]:
        add(cid, lambda i, te=te: post(i, [b"Content-Length: %d" % len(b"%x\r\n" % len(hidden(i))), te],
                                       chunk(hidden(i)) + b"0\r\n\r\n"), "refuse")
    # -- TE alone, obfuscated: chunked decoding (the hidden request is chunk data) or refusal.
    for cid, te, expect in [
        ("te-only-xchunked", b"Transfer-Encoding: xchunked", "refuse"),
        ("te-only-trailing-space", b"Transfer-Encoding: chunked ", "either"),
        ("te-only-leading-tab", b"Transfer-Encoding:\tchunked", "either"),
        ("te-only-upper", b"Transfer-Encoding: CHUNKED", "either"),
        ("te-only-chunked-gzip", b"Transfer-Encoding: chunked, gzip", "refuse"),
        ("te-only-fold", b"Transfer-Encoding:\r\n chunked", "refuse"),
    ]:
        add(cid, lambda i, te=te: post(i, [te], chunk(hidden(i)) + b"0\r\n\r\n"), expect,
            body_len=len(hidden("x")) - 1 + len(cid) if expect == "either" else None)
    # identity is no longer a transfer coding (RFC 9112 says SHOULD 501); gunicorn takes it as none,
    # so the body is empty and the chunk-size line that follows is a bad request line.
    add("te-only-identity", lambda i: post(i, [b"Transfer-Encoding: identity"], chunk(hidden(i)) + b"0\r\n\r\n"),
        "either", body_len=0)
    add("chunked-http10", lambda i: post(i, [b"Transfer-Encoding: chunked"], chunk(hidden(i)) + b"0\r\n\r\n",
                                         version=b"HTTP/1.0"), "refuse")
    # -- Content-Length spellings around a body that is exactly the hidden request.
    for cid, fmt, expect in [
        ("cl-plus", b"Content-Length: +%d", "refuse"),
        ("cl-minus-zero", b"Content-Length: -0%d", "refuse"),
        ("cl-hex", b"Content-Length: 0x%x", "refuse"),
        ("cl-inner-space", b"Content-Length: %d 0", "refuse"),
        ("cl-list", b"Content-Length: %d, %d", "refuse"),
        ("cl-two-same", b"Content-Length: %d\r\nContent-Length: %d", "refuse"),
        ("cl-two-differ", b"Content-Length: 0\r\nContent-Length: %d", "refuse"),
        ("cl-nul", b"Content-Length: %d\x00", "refuse"),
        ("cl-space-before-colon", b"Content-Length : %d", "refuse"),
        ("cl-fold", b"Content-Length:\r\n %d", "refuse"),
        ("cl-leading-zeros", b"Content-Length: 000%d", "either"),
        ("cl-ows", b"Content-Length: \t %d \t", "either"),
    ]:
        add(cid, lambda i, fmt=fmt: post(i, [fmt.replace(b"%d", b"%d" % len(hidden(i)))
                                             .replace(b"%x", b"%x" % len(hidden(i)))], hidden(i)), expect,
            body_len=len(hidden(cid)) if expect == "either" else None)
    # 2**64 wraps to 0 in a careless 64-bit parser, which would expose the hidden request.
    add("cl-overflow-2^64", lambda i: post(i, [b"Content-Length: 18446744073709551616"], hidden(i)), "either")
    add("cl-overflow-long", lambda i: post(i, [b"Content-Length: " + b"9" * 40], hidden(i)), "either")
    # -- chunk sizes and chunk framing.
    for cid, size_line in [
        ("chunk-size-2^64", b"10000000000000000"),  # wraps to 0: a last chunk
        ("chunk-size-2^64+5", b"10000000000000005"),
        ("chunk-size-huge", b"f" * 40),
        ("chunk-size-plus", b"+0"),
        ("chunk-size-minus", b"-0"),
        ("chunk-size-0x", b"0x0"),
        ("chunk-size-space", b"0 "),
        ("chunk-size-empty", b""),
    ]:
        add(cid, lambda i, s=size_line: post(i, [b"Transfer-Encoding: chunked"],
                                             s + b"\r\n\r\n" + hidden(i)), "refuse")
    for cid, ext in [
        ("chunk-ext-bare-cr", b";a=b\rc"),
        ("chunk-ext-bare-lf", b";a=b\nc"),
        ("chunk-ext-nul", b";a=\x00"),
    ]:
        add(cid, lambda i, ext=ext: post(i, [b"Transfer-Encoding: chunked"],
                                         b"%x" % len(hidden(i)) + ext + b"\r\n" + hidden(i) + b"\r\n0\r\n\r\n"),
            "refuse")
    add("chunk-data-longer", lambda i: post(i, [b"Transfer-Encoding: chunked"], b"3\r\nabcde\r\n0\r\n\r\n" + hidden(i)),
        "refuse")
    add("chunk-no-crlf-after-data", lambda i: post(i, [b"Transfer-Encoding: chunked"],
                                                   b"3\r\nabc0\r\n\r\n" + hidden(i)), "refuse")
    add("chunk-last-without-terminator", lambda i: post(i, [b"Transfer-Encoding: chunked"], b"0\r\n" + hidden(i)),
        "refuse")
    add("chunk-trailer-content-length", lambda i: post(i, [b"Transfer-Encoding: chunked"],
                                                       b"0\r\nContent-Length: 0\r\n\r\n" + hidden(i)), "refuse")
    add("chunk-trailer-te", lambda i: post(i, [b"Transfer-Encoding: chunked"],
                                           b"0\r\nTransfer-Encoding: chunked\r\n\r\n" + hidden(i)), "refuse")
    # -- NUL, CR and other controls in the head.
    for cid, line in [
        ("nul-in-value", b"X-A: a\x00b"),
        ("nul-in-name", b"X-\x00A: b"),
        ("cr-in-value", b"X-A: a\rb"),
        ("del-in-name", b"X-\x7fA: b"),
        ("no-colon", b"X-A b"),
        ("space-in-name", b"X A: b"),
    ]:
        add(cid, lambda i, line=line: post(i, [line, b"Content-Length: %d" % len(hidden(i))], hidden(i)), "refuse")
    add("nul-in-target", lambda i: b"GET /v-" + i.encode() + b"\x00 HTTP/1.1\r\nHost: x\r\n\r\n" + hidden(i),
        "refuse")
    add("bare-cr-line-end", lambda i: b"GET /v-" + i.encode() + b" HTTP/1.1\rHost: x\r\n\r\n" + hidden(i), "refuse")
    # -- requests hidden in bodies of keep-alive connections, framed correctly.
    add("body-cl-holds-request", lambda i: post(i, [b"Content-Length: %d" % len(hidden(i))], hidden(i)), "frame",
        body_len=-1)
    add("body-chunked-holds-request", lambda i: post(i, [b"Transfer-Encoding: chunked"],
                                                     chunk(hidden(i)[:7]) + chunk(hidden(i)[7:]) + b"0\r\n\r\n"),
        "frame", body_len=-1)
    add("body-get-with-cl", lambda i: post(i, [b"Content-Length: %d" % len(hidden(i))], hidden(i), method=b"GET"),
        "frame", body_len=-1)
    add("body-expect-100", lambda i: post(i, [b"Content-Length: %d" % len(hidden(i)), b"Expect: 100-continue"],
                                          hidden(i)), "frame", body_len=-1)
    add("body-lf-only-head", lambda i: b"POST /v-" + i.encode() + b" HTTP/1.1\nHost: x\nContent-Length: %d\n\n"
        % len(hidden(i)) + hidden(i), "either", body_len=-1)
    # -- the connection must end where the message says so.
    add("after-connection-close", lambda i: post(i, [b"Connection: close"], b"", method=b"GET") + hidden(i),
        "frame", body_len=0)
    add("after-http10", lambda i: post(i, [], b"", method=b"GET", version=b"HTTP/1.0") + hidden(i), "frame",
        body_len=0)
    add("after-400", lambda i: post(i, [b"Bad Header"], b"", method=b"GET") + hidden(i), "refuse")
    add("after-501", lambda i: post(i, [b"Transfer-Encoding: foo"], b"") + hidden(i), "refuse")
    add("after-431", lambda i: post(i, [b"X-Big: " + b"a" * 9000], b"", method=b"GET") + hidden(i), "refuse")
    return c


@pytest.fixture(scope="module")
def rec(pool, tmp_path_factory):
    path = tmp_path_factory.mktemp("record") / "requests.jsonl"
    path.touch()
    srv = pool.get(["record_wsgi:app"], env={"RECORD_FILE": str(path)})
    return srv, path


def records(path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def exchange(srv, payload, timeout=6):
    with srv.connect(timeout) as s:
        try:
            s.sendall(payload)
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass  # the server may close early on a refused head; read what it said
        return recv_all(s, timeout)


def split(data):
    """Status codes of the responses in data; a trailing unparsable part counts as None."""
    try:
        parsed = [r for r in parse_responses(data) if r.status >= 200]  # 100 Continue is not an answer
        return [r.status for r in parsed], parsed
    except (ValueError, IndexError) as e:
        return [None], repr(e)


@pytest.mark.parametrize("cid,build,expect,body_len", _cases())
def test_smuggling(rec, cid, build, expect, body_len):
    srv, path = rec
    payload = build(cid)
    t0 = time.monotonic()
    data = exchange(srv, payload)
    took = time.monotonic() - t0
    seen = [r for r in records(path) if r["path"] in (f"/smuggled-{cid}", f"/v-{cid}")]
    leaked = [r for r in seen if r["path"] == f"/smuggled-{cid}"]
    assert not leaked, f"hidden request reached the app as a request: {leaked}\nanswer: {data[:600]!r}"
    statuses, parsed = split(data)
    assert statuses == [None] or all(s is not None for s in statuses), (statuses, parsed)
    if expect == "refuse":
        assert not data or (statuses[0] or 0) >= 400, f"{cid}: want a 4xx/5xx or a close; got {data[:600]!r}"
        assert not any(r["path"] == f"/v-{cid}" for r in seen), f"app ran a refused request: {seen}"
        assert 200 not in statuses, data[:600]
    elif expect in ("frame", "either"):
        if expect == "frame":
            assert statuses[:1] == [200], f"{cid}: want 200; got {data[:600]!r}"
        if statuses[:1] == [200] and body_len is not None:
            want = len(hidden(cid)) if body_len == -1 else body_len
            visible = [r for r in seen if r["path"] == f"/v-{cid}"]
            assert [r["body_len"] for r in visible] == [want], f"body framed wrongly: {visible}"
        # At most the visible request was answered: nothing after it came from the hidden one.
        assert statuses.count(200) <= 1, data[:800]
    assert took < 6, f"{cid}: the server held the half-closed connection for {took:.1f} s"


@pytest.mark.gonicorn_only  # gunicorn's sync worker closes after each response (no pipelining)
def test_control_pipelined_requests_do_run(rec):
    """Without this, 'never reached the app' could just mean 'pipelining is off'."""
    srv, path = rec
    data = exchange(srv, b"GET /v-control HTTP/1.1\r\nHost: x\r\n\r\n" + hidden("control").replace(
        b"/smuggled-", b"/pipelined-") + b"POST /v-control2 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
    statuses, _ = split(data)
    assert statuses == [200, 200, 200], data[:800]
    paths = [r["path"] for r in records(path)]
    assert {"/v-control", "/pipelined-control", "/v-control2"} <= set(paths)


@pytest.mark.gonicorn_only  # gunicorn's sync worker closes after each response (no pipelining)
@pytest.mark.parametrize("bad", [
    b"GET /x HTTP/1.1 bad\r\nHost: x\r\n\r\n",
    b"GET /x HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n",
    b"POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
], ids=["bad-version", "bad-header", "cl-and-te"])
def test_valid_request_answered_before_a_bad_pipelined_one(rec, bad):
    """A refused second request must not cost the first (valid) one its answer."""
    srv, _ = rec
    data = exchange(srv, b"GET /v-first HTTP/1.1\r\nHost: x\r\n\r\n" + bad)
    statuses, parsed = split(data)
    assert statuses[:1] == [200], f"the first, valid request lost its response: {data[:400]!r}"
    assert statuses[1:] == [400], data[:800]
