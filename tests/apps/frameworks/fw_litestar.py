"""Litestar app implementing the contract of _contract.py (with startup/shutdown hooks)."""
from litestar import Litestar, Request, WebSocket, get, post, websocket
from litestar.response import Stream

import _contract


@get("/health", media_type="text/plain")
async def health() -> str:
    return "ok"


@get("/scope")
async def scope(request: Request) -> dict:
    return _contract.scope_json(request.scope)


@post("/echo", status_code=200)
async def echo(request: Request) -> Stream:
    chunks = [chunk async for chunk in request.stream()]  # see fw_starlette.echo

    async def body():
        for chunk in chunks:
            yield chunk

    return Stream(body(), media_type="application/octet-stream")


@get("/sse")
async def sse(n: int = 5) -> Stream:
    async def events():
        for event in _contract.sse_events(n):
            yield event

    return Stream(events(), media_type="text/event-stream")


@websocket("/ws/echo")
async def ws_echo(socket: WebSocket) -> None:
    await socket.accept()
    while True:
        message = await socket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("text") is not None:
            await socket.send_text(message["text"])
        else:
            await socket.send_bytes(message.get("bytes") or b"")


app = Litestar(route_handlers=[health, scope, echo, sse, ws_echo],
               on_startup=[lambda: _contract.mark("startup")],
               on_shutdown=[lambda: _contract.mark("shutdown")])
