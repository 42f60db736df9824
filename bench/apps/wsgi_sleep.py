"""Sleeps ?s=N seconds (default 0.02) and answers "slept": a worker-bound app for the overload
mode, so a sync worker's capacity is exactly 1/N requests per second."""
import time
from urllib.parse import parse_qs


def app(environ, start_response):
    secs = float(parse_qs(environ.get("QUERY_STRING", "")).get("s", ["0.02"])[0])
    time.sleep(secs)
    body = b"slept"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
