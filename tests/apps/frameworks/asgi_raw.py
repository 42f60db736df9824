"""A plain ASGI 3 app (no framework) for the server-level ASGI tests: the contract of
_contract.py plus the cases frameworks hide.

Environment:
  FW_LIFESPAN_FILE  append "startup PID" / "shutdown PID" lines
  FW_LIFESPAN_FAIL  "exception": raise in lifespan startup; "failed": send
                    lifespan.startup.failed with message "planned failure"
  FW_EVENTS_FILE    the /stream-until-disconnect endpoint appends what it sees
                    ("start", "disconnect +T", "still-running +T", "cancelled +T"),
                    and /ws/echo what websocket.disconnect carried
Endpoints besides the contract:
  GET /state                    the keys lifespan startup put in scope["state"]
  GET /stream-until-disconnect  a chunk every 50 ms until the client goes away
  GET /sleep?s=S                answers "slept" after asyncio.sleep(S)
  GET /loop                     the module of the running event loop's class
  GET /flood?mb=N               N MiB in 1 MiB sends, "flood I" recorded after each
  WS  /ws/echo                  echo; "close:CODE:REASON" closes with that code;
                                "stream:N" sends N messages "m0".."mN-1" then "done";
                                subprotocol: the first of the client's offer in
                                SUBPROTOCOLS; "reject" in the query string: 403 before accept;
                                websocket.disconnect is recorded as "ws-disconnect CODE REASON"
  WS  /ws/scope                 sends the websocket scope as JSON text
"""
import asyncio
import json
import os
import time
from urllib.parse import parse_qs

import _contract

SUBPROTOCOLS = ("chat.v2", "chat.v1")


async def lifespan(scope, receive, send):
    fail = os.environ.get("FW_LIFESPAN_FAIL", "")
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            if fail == "exception":
                raise RuntimeError("planned failure")
            if fail == "failed":
                await send({"type": "lifespan.startup.failed", "message": "planned failure"})
                return
            if "state" in scope:
                scope["state"]["started_at"] = time.time()
            _contract.mark("startup")
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            _contract.mark("shutdown")
            await send({"type": "lifespan.shutdown.complete"})
            return


async def respond(send, status, body, ctype=b"text/plain", extra=()):
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", ctype), (b"content-length", str(len(body)).encode()),
                            *extra]})
    await send({"type": "http.response.body", "body": body})


def record(line):
    path = os.environ.get("FW_EVENTS_FILE")
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


async def stream_until_disconnect(receive, send):
    t0 = time.monotonic()
    record("start")
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    gone = asyncio.Event()

    async def watch():
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                record(f"disconnect +{time.monotonic() - t0:.2f}")
                gone.set()
                return

    watcher = asyncio.ensure_future(watch())
    try:
        i = 0
        while not gone.is_set():
            # Sends after a disconnect are no-ops or raise, per server; either is fine.
            try:
                await send({"type": "http.response.body", "body": b"tick %d\n" % i, "more_body": True})
            except Exception:
                pass
            i += 1
            try:
                await asyncio.wait_for(gone.wait(), 0.05)
            except asyncio.TimeoutError:
                pass
        # Keep running after the disconnect: the server must leave the task alone for
        # the grace period (3 s by default) before cancelling it.
        await asyncio.sleep(1.0)
        record(f"still-running +{time.monotonic() - t0:.2f}")
    except asyncio.CancelledError:
        record(f"cancelled +{time.monotonic() - t0:.2f}")
        raise
    finally:
        watcher.cancel()


async def flood(send, mb):
    """Send mb MiB as fast as send() returns; record the MiB count after each one, so a test
    can see whether send() waits for a slow client (backpressure) or buffers everything."""
    chunk = b"x" * (1 << 20)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/octet-stream"),
                            (b"content-length", str(mb << 20).encode())]})
    for i in range(mb):
        await send({"type": "http.response.body", "body": chunk, "more_body": i < mb - 1})
        record(f"flood {i + 1}")


async def http(scope, receive, send):
    path = scope["path"]
    query = parse_qs(scope["query_string"].decode())
    if path == "/health":
        await respond(send, 200, b"ok")
    elif path == "/scope":
        await respond(send, 200, _contract.scope_bytes(scope), b"application/json")
    elif path == "/state":
        await respond(send, 200, json.dumps(sorted(scope.get("state") or {})).encode(), b"application/json")
    elif path == "/echo":
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/octet-stream")]})
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            more = message.get("more_body", False)
            if message.get("body"):
                await send({"type": "http.response.body", "body": message["body"], "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/sse":
        n = int(query.get("n", ["5"])[0])
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]})
        for event in _contract.sse_events(n):
            await send({"type": "http.response.body", "body": event, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    elif path == "/sleep":
        await asyncio.sleep(float(query.get("s", ["0.5"])[0]))
        await respond(send, 200, b"slept")
    elif path == "/loop":
        loop = asyncio.get_running_loop()
        await respond(send, 200, type(loop).__module__.encode())
    elif path == "/stream-until-disconnect":
        await stream_until_disconnect(receive, send)
    elif path == "/flood":
        await flood(send, int(query.get("mb", ["256"])[0]))
    else:
        await respond(send, 404, b"not found")


async def websocket(scope, receive, send):
    message = await receive()
    assert message["type"] == "websocket.connect", message
    if scope["path"] == "/ws/scope":
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": _contract.scope_bytes(scope).decode()})
        await send({"type": "websocket.close", "code": 1000})
        return
    if b"reject" in scope["query_string"]:
        await send({"type": "websocket.close", "code": 1008})
        return
    offered = scope.get("subprotocols") or []
    chosen = next((p for p in offered if p in SUBPROTOCOLS), None)
    accept = {"type": "websocket.accept"}
    if chosen:
        accept["subprotocol"] = chosen
    await send(accept)
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            record(f"ws-disconnect {message.get('code')} {message.get('reason', '')}".rstrip())
            return
        text = message.get("text")
        if text is not None and text.startswith("close:"):
            _, code, reason = text.split(":", 2)
            await send({"type": "websocket.close", "code": int(code), "reason": reason})
            return
        if text is not None and text.startswith("stream:"):
            for i in range(int(text.split(":", 1)[1])):
                await send({"type": "websocket.send", "text": f"m{i}"})
            await send({"type": "websocket.send", "text": "done"})
            continue
        if text is not None:
            await send({"type": "websocket.send", "text": text})
        else:
            await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})


async def app(scope, receive, send):
    kind = scope["type"]
    if kind == "lifespan":
        await lifespan(scope, receive, send)
    elif kind == "http":
        await http(scope, receive, send)
    elif kind == "websocket":
        await websocket(scope, receive, send)
