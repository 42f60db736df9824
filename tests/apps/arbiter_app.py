"""Fixture for tests/e2e/test_arbiter_*.py: one WSGI app for the supervision tests.

GET /            -> "v=<VERSION> pid=<pid>" after ?s= seconds (default 0.005), so a load
                    generator does not spin the CPU and a HUP with new code is visible.
GET /grow?kb=N   -> keeps N KiB more (touched) per request: RSS recycling.
GET /held?f=PATH -> writes its pid to PATH, then sleeps ?s= seconds: "the busy worker".
GET /hang        -> never returns, inside hang_forever_here(): worker timeout tracebacks.
The tests copy this file and rewrite VERSION to check that a reload serves new code.
"""
import os
import time
from urllib.parse import parse_qs

VERSION = 0
_kept = []


def hang_forever_here():
    while True:
        time.sleep(0.1)


def app(environ, start_response):
    q = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
    path = environ.get("PATH_INFO", "/")
    if path == "/grow":
        chunk = bytearray(int(q.get("kb", "256")) * 1024)
        for i in range(0, len(chunk), 4096):
            chunk[i] = 1  # touch every page so it counts in RSS
        _kept.append(chunk)
    elif path == "/held":
        with open(q["f"], "w") as f:
            f.write(str(os.getpid()))
    elif path == "/hang":
        hang_forever_here()
    time.sleep(float(q.get("s", "0.005")))
    body = f"v={VERSION} pid={os.getpid()}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


application = app
