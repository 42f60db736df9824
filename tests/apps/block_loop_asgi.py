"""An ASGI app whose /block blocks the event loop (time.sleep in async code): the worker's
heartbeat stops, so --timeout must catch it as gunicorn's does for its async workers."""
import time


def blocking_call_here():
    time.sleep(30)


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    if scope["path"] == "/block":
        blocking_call_here()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
