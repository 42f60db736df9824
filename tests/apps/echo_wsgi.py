"""Echo app: answers with a JSON document describing exactly what the app received.

The document holds every JSON-serialisable environ value (keys sorted) and
the request body as read from wsgi.input: its length, sha256 and, for bodies
up to 64 KiB, the bytes in base64. Query parameters (only those starting with
``_echo_`` are read, so corpus targets keep their own queries):

- ``_echo_mode=read|readline|iter|chunks`` picks how wsgi.input is consumed
  (``read()``, repeated ``readline()``, ``for line in wsgi.input``, ``read(8192)`` loop).
- ``_echo_nocl=1`` omits Content-Length so the server must frame the response
  itself (chunked for HTTP/1.1).
- ``_echo_skip_body=1`` does not read the body at all.
"""
import base64
import hashlib
import json
from urllib.parse import parse_qs


def _read_body(stream, mode):
    if mode == "readline":
        parts = []
        while True:
            line = stream.readline()
            if not line:
                break
            parts.append(line)
        return b"".join(parts)
    if mode == "iter":
        return b"".join(line for line in stream)
    if mode == "chunks":
        parts = []
        while True:
            chunk = stream.read(8192)
            if not chunk:
                break
            parts.append(chunk)
        return b"".join(parts)
    return stream.read()


def _serialisable(environ):
    out = {}
    for key, value in environ.items():
        if isinstance(value, (str, int, float, bool)) or value is None:
            out[key] = value
        elif isinstance(value, tuple) and all(isinstance(v, (str, int)) for v in value):
            out[key] = list(value)
    return out


def application(environ, start_response):
    qs = parse_qs(environ.get("QUERY_STRING", ""))
    mode = qs.get("_echo_mode", ["read"])[0]
    body = b""
    if qs.get("_echo_skip_body", ["0"])[0] != "1":
        body = _read_body(environ["wsgi.input"], mode)
    doc = {
        "environ": _serialisable(environ),
        "body_len": len(body),
        "body_sha256": hashlib.sha256(body).hexdigest(),
        "read_mode": mode,
    }
    if len(body) <= 65536:
        doc["body_b64"] = base64.b64encode(body).decode("ascii")
    data = json.dumps(doc, sort_keys=True).encode("utf-8")
    headers = [("Content-Type", "application/json")]
    if qs.get("_echo_nocl", ["0"])[0] != "1":
        headers.append(("Content-Length", str(len(data))))
    start_response("200 OK", headers)
    if qs.get("_echo_nocl", ["0"])[0] == "1":
        # Several chunks so chunked framing is really exercised.
        return [data[i:i + 100] for i in range(0, len(data), 100)]
    return [data]


app = application
