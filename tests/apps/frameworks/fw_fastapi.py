"""FastAPI app implementing the contract of _contract.py (with a lifespan)."""
import contextlib

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse

import _contract


@contextlib.asynccontextmanager
async def lifespan(app):
    _contract.mark("startup")
    yield
    _contract.mark("shutdown")


app = FastAPI(lifespan=lifespan)


@app.get("/health")
async def health():
    return PlainTextResponse("ok")


@app.get("/scope")
async def scope(request: Request):
    return JSONResponse(_contract.scope_json(request.scope))


@app.post("/echo")
async def echo(request: Request):
    # Read through request.stream() (the body arrives as several http.request messages)
    # before answering: Starlette's StreamingResponse listens for http.disconnect on the
    # same receive() under servers that report ASGI spec < 2.4, which would eat the body.
    chunks = [chunk async for chunk in request.stream()]

    async def body():
        for chunk in chunks:
            yield chunk

    return StreamingResponse(body(), media_type="application/octet-stream")


@app.get("/sse")
async def sse(n: int = 5):
    async def events():
        for event in _contract.sse_events(n):
            yield event

    return StreamingResponse(events(), media_type="text/event-stream")


@app.get("/json")
async def json_message():
    return {"message": "Hello, World!"}


@app.websocket("/ws/echo")
async def ws_echo(websocket: WebSocket):
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await websocket.send_text(message["text"])
            else:
                await websocket.send_bytes(message.get("bytes") or b"")
    except WebSocketDisconnect:
        pass
