"""Shared pieces of the framework fixture apps (tests/e2e/test_frameworks_*.py).

Every app in this folder implements the same small contract, so one set of tests
runs against each framework:

  GET  /health        -> 200 "ok"
  GET  /scope         -> 200 JSON: the ASGI scope (or WSGI environ, or the framework's
                         request fields) with bytes decoded as latin-1
  POST /echo          -> 200, the request body streamed back as it arrives
  GET  /sse?n=N       -> 200 text/event-stream, N events "data: I" (I = 0..N-1), streamed
  WS   /ws/echo       -> echoes every text and binary message (ASGI/aiohttp/tornado apps)

Lifespan markers: when FW_LIFESPAN_FILE is set, apps that have a lifespan append
"startup <pid>" and "shutdown <pid>" lines to it.
"""
import json
import os


def jsonable(value):
    if isinstance(value, bytes):
        return value.decode("latin-1")
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def scope_json(scope):
    """The scope as JSON-able data; state and app-specific keys shown by name only."""
    out = {}
    for k, v in scope.items():
        if k in ("app", "router", "endpoint", "route", "fastapi_astack", "path_params",
                 "route_handler", "litestar_app", "_aiohttp", "root_path_checked"):
            continue
        if k == "state":
            out[k] = sorted(v) if isinstance(v, dict) else repr(v)
        elif k == "extensions":
            out[k] = jsonable(v or {})
        else:
            out[k] = jsonable(v)
    return out


def scope_bytes(scope):
    return json.dumps(scope_json(scope)).encode()


def mark(event):
    path = os.environ.get("FW_LIFESPAN_FILE")
    if path:
        with open(path, "a") as f:
            f.write(f"{event} {os.getpid()}\n")


def sse_events(n):
    return [f"data: {i}\n\n".encode() for i in range(n)]
