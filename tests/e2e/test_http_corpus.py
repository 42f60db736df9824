"""gunicorn's HTTP/1.1 request corpus (../shared/http-corpus) replayed against a running server.

Valid cases must reach echo_wsgi exactly as the case's JSON says; invalid ones must be refused
with the listed status (body-framing errors: 400 or a closed connection, never a 200).
One server runs per distinct `settings` set (mapped to CLI flags) and is shared by its cases.
"""
import base64
import json
import os
import socket
import time
import urllib.parse
from pathlib import Path

import pytest

import harness
from harness import REPO, SERVER

CORPUS = Path(os.environ.get("GONICORN_HTTP_CORPUS", REPO.parent / "shared" / "http-corpus"))

# Errors that gunicorn only finds while the app reads the body (see the corpus README).
BODY_PHASE_ERRORS = {"InvalidChunkSize", "InvalidChunkExtension", "ChunkMissingTerminator", "NoMoreData"}

# Cases real gunicorn 26.1 itself does not pass end to end (the corpus was made for its parser
# unit tests, not for a socket). Skipped only under SERVER=gunicorn; gonicorn must pass them all.
_PIPELINE = ("pipelined requests: gunicorn's sync worker answers the first and closes the connection "
             "(its gthread worker also answers only the first of requests sent in one write)")
GUNICORN_KNOWN_FAILURES = {
    "valid/018": _PIPELINE,
    "valid/022": _PIPELINE,
    "valid/023": _PIPELINE,
    "valid/pp_02": _PIPELINE,
    "valid/027": "gunicorn double-encodes raw non-ASCII path bytes: PATH_INFO is the UTF-8 encoding of "
                 "the latin-1 text ('/\\xc3\\x83\\xc2\\xa0 k' for the bytes '/\\xc3\\xa0%20k'); PEP 3333 "
                 "wants the bytes themselves as latin-1",
}

# Cases that cannot pass over a socket whatever the server (defects of the corpus as a socket test).
CORPUS_DEFECTS = {
    "valid/099": "Content-Length says 17914 but the body has 8599 bytes; the parser unit test reads to "
                 "EOF, a server on a socket rightly waits for the rest",
}


def flags_for(settings):
    """The CLI flags that put a case's settings in force (gunicorn names -> gunicorn flags)."""
    flags = []
    for key, value in sorted(settings.items()):
        flag = {"limit_request_field_size": "--limit-request-field_size"}.get(key, "--" + key.replace("_", "-"))
        if value is True:
            flags.append(flag)
        elif value is False:
            continue
        else:
            flags += [flag, str(value)]
    return flags


def load_cases():
    if not CORPUS.is_dir():
        return []
    cases = []
    for kind in ("valid", "invalid"):
        for js in sorted((CORPUS / kind).glob("*.json")):
            spec = json.loads(js.read_text())
            raw = js.with_suffix(".raw").read_bytes()
            cases.append(pytest.param(kind, spec, raw, id=f"{kind}/{js.stem}"))
    return cases


CASES = load_cases()


@pytest.fixture(scope="module")
def corpus_servers(pool):
    def get(settings):
        return pool.get(flags_for(settings) + ["echo_wsgi:app"])
    return get


def try_parse(data, eof=True):
    try:
        return harness.parse_responses(data, eof=eof)
    except (ValueError, IndexError):
        return None


def exchange(server, raw, want, half_close, timeout=8):
    """Send raw bytes; read until `want` responses parse, the server closes, or timeout."""
    with server.connect(timeout) as c:
        c.sendall(raw)
        if half_close:
            try:
                c.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        data = b""
        deadline = time.monotonic() + timeout
        c.settimeout(0.5)
        while time.monotonic() < deadline:
            try:
                chunk = c.recv(65536)
            except socket.timeout:
                if want and (got := try_parse(data, eof=False)) and len(got) >= want:
                    break
                continue
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
            if want and (got := try_parse(data, eof=False)) and len(got) >= want:
                break
    return data


def expected_environ_headers(headers):
    env = {}
    for name, value in headers:
        if name == "CONTENT-TYPE":
            key = "CONTENT_TYPE"
        elif name == "CONTENT-LENGTH":
            key = "CONTENT_LENGTH"
        else:
            key = "HTTP_" + name.replace("-", "_")
        env[key] = f"{env[key]},{value}" if key in env else value
    return env


def body_bytes(body):
    if "base64" in body:
        return base64.b64decode(body["base64"])
    return body.get("text", "").encode("latin-1")


def check_valid(spec, data):
    reqs = spec["requests"]
    resps = try_parse(data)
    assert resps is not None, f"unparsable answer: {data[:500]!r}"
    assert len(resps) == len(reqs), f"{len(resps)} responses for {len(reqs)} requests: {data[:800]!r}"
    for want, resp in zip(reqs, resps):
        assert resp.status == 200, f"status {resp.status}: {resp.body[:300]!r}"
        doc = json.loads(resp.body)
        env = doc["environ"]
        assert env["REQUEST_METHOD"] == want["method"]
        assert env["RAW_URI"] == want["target"]
        # PEP 3333: the percent-decoded bytes of the path, as latin-1 (the JSON holds the raw
        # bytes as latin-1 text)
        path = urllib.parse.unquote_to_bytes(want["path"].encode("latin-1")).decode("latin-1")
        assert env["PATH_INFO"] == path
        assert env["QUERY_STRING"] == want["query"]
        assert env["SERVER_PROTOCOL"] == "HTTP/%d.%d" % tuple(want["version"])
        got_headers = {k: v for k, v in env.items()
                       if k.startswith("HTTP_") or k in ("CONTENT_TYPE", "CONTENT_LENGTH")}
        assert got_headers == expected_environ_headers(want["headers"])
        assert base64.b64decode(doc["body_b64"]) == body_bytes(want["body"])


def check_invalid(spec, data):
    resps = try_parse(data)
    if spec["error"] in BODY_PHASE_ERRORS and not data:
        return  # the server closed the connection without running the app: allowed
    assert resps, f"no parsable response (want {spec['status']} for {spec['error']}): {data[:300]!r}"
    assert resps[0].status == spec["status"], \
        f"got {resps[0].status}, want {spec['status']} ({spec['error']}): {data[:300]!r}"


@pytest.mark.skipif(not CASES, reason=f"no HTTP corpus at {CORPUS}")
@pytest.mark.parametrize("kind,spec,raw", CASES)
def test_corpus_case(corpus_servers, kind, spec, raw):
    name = f"{kind}/{spec['name']}"
    if name in CORPUS_DEFECTS:
        pytest.skip(f"corpus defect: {CORPUS_DEFECTS[name]}")
    if SERVER == "gunicorn" and name in GUNICORN_KNOWN_FAILURES:
        pytest.skip(f"gunicorn itself fails this case: {GUNICORN_KNOWN_FAILURES[name]}")
    server = corpus_servers(spec.get("settings", {}))
    if kind == "valid":
        check_valid(spec, exchange(server, raw, want=len(spec["requests"]), half_close=False))
    else:
        check_invalid(spec, exchange(server, raw, want=1, half_close=True))
