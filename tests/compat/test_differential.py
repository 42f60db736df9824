"""Differential test: the same app and the same bytes sent to gunicorn and to SERVER.

Status, headers (minus Date and Server) and bodies must be equal, and so must the startup log
lines once time, pids and version are masked. Under SERVER=gunicorn this compares gunicorn with
itself, which checks the comparison machinery; under SERVER=gonicorn it is the real test.
Requests carry `Connection: close` so gonicorn's keep-alive on sync does not count as a difference.
"""
import json
import re
import tempfile

import pytest

import harness
from harness import SERVER, Server, mask_log_line, parse_responses

pytestmark = pytest.mark.differential

CASES = {
    "hello_wsgi:app": [
        b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.0\r\n\r\n",
        b"HEAD / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        b"GET /x?y=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\nUser-Agent: diff\r\n\r\n",
        b"OPTIONS * HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        # errors the front must answer itself
        b"GARBAGE\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: t\r\nBad Header: x\r\n\r\n",
        b"GET / HTTP/9.9\r\nHost: t\r\n\r\n",
        b"GET /" + b"a" * 5000 + b" HTTP/1.1\r\nHost: t\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: t\r\nX-Big: " + b"b" * 9000 + b"\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n",
    ],
    "flask_app:app": [
        b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        b"GET /json HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: text/plain\r\n"
        b"Content-Length: 5\r\n\r\nhello",
        b"POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Type: text/plain\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
        b"GET /stream HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        b"GET /stream HTTP/1.0\r\n\r\n",
        b"GET /raise HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        b"GET /missing HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        b"DELETE /json HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    ],
    "echo_wsgi:app": [
        b"GET /e?a=1&b=%20 HTTP/1.1\r\nHost: t\r\nConnection: close\r\nX-A: 1\r\nX-A: 2\r\n\r\n",
        b"POST /e?_echo_mode=readline HTTP/1.1\r\nHost: t\r\nConnection: close\r\nContent-Length: 11\r\n\r\nab\ncd\nef\ngh",
        b"POST /e?_echo_mode=iter HTTP/1.1\r\nHost: t\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nab\n\r\n0\r\n\r\n",
        b"GET /e?_echo_nocl=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        b"GET /%7Euser/a%2Fb HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        b"GET http://example.com/abs?q=1 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    ],
    "raising:app": [
        b"GET /raise HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n",
    ],
}

# environ keys that legitimately differ between two servers on two ports
VOLATILE_ENVIRON = {"REMOTE_PORT", "SERVER_PORT", "SERVER_SOFTWARE"}


def pair(app):
    ref = Server([app], kind="gunicorn", workdir=tempfile.mkdtemp(prefix="diff-ref-"))
    cand = Server([app], kind=SERVER, workdir=tempfile.mkdtemp(prefix="diff-cand-"))
    return ref.start(), cand.start()


@pytest.fixture(scope="module")
def pairs():
    started = {}

    def get(app):
        if app not in started:
            started[app] = pair(app)
        return started[app]

    yield get
    for ref, cand in started.values():
        ref.stop()
        cand.stop()


def normalise(data, head):
    try:
        resps = parse_responses(data, head_requests=(0,) if head else ())
    except (ValueError, IndexError):
        return ("unparsable", data)
    out = []
    for r in resps:
        headers = [(k.lower(), v) for k, v in r.headers if k.lower() not in ("date", "server")]
        # Flask builds Allow from a set: its order changes with hash randomisation
        headers = [(k, ", ".join(sorted(v.split(", "))) if k == "allow" else v) for k, v in headers]
        body = r.body
        if r.header("Content-Type") == "application/json" and body.startswith(b'{"body_b64"'):
            doc = json.loads(body)
            for k in VOLATILE_ENVIRON:
                doc["environ"].pop(k, None)
            body = json.dumps(doc, sort_keys=True).encode()
            headers = [(k, v) for k, v in headers if k != "content-length"]
        out.append((r.status, r.reason, sorted(headers), body))
    return out


PARAMS = [pytest.param(app, raw, id=f"{app.split(':')[0]}-{i}") for app, raws in CASES.items()
          for i, raw in enumerate(raws)]


@pytest.mark.parametrize("app,raw", PARAMS)
def test_same_answer(pairs, app, raw):
    ref, cand = pairs(app)
    head = raw.startswith(b"HEAD ")
    want = normalise(ref.raw(raw, shutdown=False), head)
    got = normalise(cand.raw(raw, shutdown=False), head)
    assert got == want


def startup_lines(s):
    return [mask_log_line(l, s.port) for l in s.stderr().splitlines()
            if l.startswith("[") and "Control socket" not in l][:4]


def test_same_startup_lines(pairs):
    ref, cand = pairs("hello_wsgi:app")
    assert startup_lines(cand) == startup_lines(ref)


@pytest.mark.parametrize("args", [["--threads", "2"], ["-w", "2", "-k", "gthread"], ["--access-logfile", "-"]],
                         ids=["threads", "gthread-2w", "accesslog"])
def test_same_startup_and_shutdown_lines(args, tmp_path):
    """Whole error log of a start, one request and a TERM, masked, compared as a multiset."""
    logs = []
    for kind in ("gunicorn", SERVER):
        s = Server(args + ["hello_wsgi:app"], kind=kind, workdir=tempfile.mkdtemp(prefix=f"diff-{kind}-"))
        s.start(workers=2 if "-w" in args else 1)
        s.raw(b"GET /x HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        s.stop()
        lines = [mask_log_line(l, s.port) for l in s.stderr().splitlines()
                 if l.startswith("[") and "Control socket" not in l]
        out = [re.sub(r"\[\d\d/\w{3}/\d{4}:[\d:]+ [+-]\d{4}\]", "[T]", l)
               for l in s.stdout().splitlines()]
        logs.append((sorted(lines), out))
    assert logs[1] == logs[0]
