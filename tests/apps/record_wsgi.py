"""Recording app: appends one JSON line per request to $RECORD_FILE, then answers 200.

The smuggling suite reads the file to prove that a request hidden in another request's
body never reached the app as a request of its own. Each line holds the method, the
path, the query and the body as the app read it (length and the first 200 bytes).
"""
import json
import os


def app(environ, start_response):
    body = environ["wsgi.input"].read()
    line = json.dumps({
        "method": environ.get("REQUEST_METHOD"),
        "path": environ.get("PATH_INFO"),
        "query": environ.get("QUERY_STRING"),
        "body_len": len(body),
        "body_head": body[:200].decode("latin-1"),
    }) + "\n"
    path = os.environ.get("RECORD_FILE")
    if path:
        # O_APPEND writes of one short line do not interleave between workers.
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
    out = f"ok {environ.get('PATH_INFO')} {len(body)}\n".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(out)))])
    return [out]


application = app
