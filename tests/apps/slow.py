"""Sleeps ?s=N seconds (float, default 1) before answering."""
import os
import time
from urllib.parse import parse_qs


def app(environ, start_response):
    secs = float(parse_qs(environ.get("QUERY_STRING", "")).get("s", ["1"])[0])
    time.sleep(secs)
    body = f"slept {secs} in {os.getpid()}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


application = app
