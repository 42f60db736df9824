"""Starlette app implementing the contract of _contract.py (with a lifespan)."""
import contextlib

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

import _contract


async def health(request: Request):
    return PlainTextResponse("ok")


async def scope(request: Request):
    return JSONResponse(_contract.scope_json(request.scope))


async def echo(request: Request):
    # Read through request.stream() (the body arrives as several http.request messages)
    # before answering: Starlette's StreamingResponse listens for http.disconnect on the
    # same receive() under servers that report ASGI spec < 2.4, which would eat the body.
    chunks = [chunk async for chunk in request.stream()]

    async def body():
        for chunk in chunks:
            yield chunk

    return StreamingResponse(body(), media_type="application/octet-stream")


async def sse(request: Request):
    n = int(request.query_params.get("n", "5"))

    async def events():
        for event in _contract.sse_events(n):
            yield event

    return StreamingResponse(events(), media_type="text/event-stream")


async def ws_echo(websocket: WebSocket):
    await websocket.accept()
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await websocket.send_text(message["text"])
        else:
            await websocket.send_bytes(message.get("bytes") or b"")


@contextlib.asynccontextmanager
async def lifespan(app):
    _contract.mark("startup")
    yield
    _contract.mark("shutdown")


app = Starlette(routes=[
    Route("/health", health),
    Route("/scope", scope),
    Route("/echo", echo, methods=["POST"]),
    Route("/sse", sse),
    WebSocketRoute("/ws/echo", ws_echo),
], lifespan=lifespan)
