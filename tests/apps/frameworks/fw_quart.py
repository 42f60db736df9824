"""Quart app implementing the contract of _contract.py (with startup/shutdown hooks)."""
from quart import Quart, Response, request, stream_with_context, websocket

import _contract

app = Quart(__name__)


@app.before_serving
async def startup():
    _contract.mark("startup")


@app.after_serving
async def shutdown():
    _contract.mark("shutdown")


@app.route("/health")
async def health():
    return Response("ok", content_type="text/plain")


@app.route("/scope")
async def scope():
    return _contract.scope_json(request.scope)


@app.route("/echo", methods=["POST"])
async def echo():
    @stream_with_context
    async def body():
        async for chunk in request.body:
            yield chunk

    return Response(body(), content_type="application/octet-stream")


@app.route("/sse")
async def sse():
    n = int(request.args.get("n", "5"))

    async def events():
        for event in _contract.sse_events(n):
            yield event

    response = Response(events(), content_type="text/event-stream")
    response.timeout = None
    return response


@app.websocket("/ws/echo")
async def ws_echo():
    await websocket.accept()
    while True:
        message = await websocket.receive()
        await websocket.send(message)
