"""WebSocket echo aiohttp app for `bench/run --ws` (-k aiohttp.worker.GunicornWebWorker,
named `aiohttp_ws_echo:app`, a web.Application, for gunicorn and gonicorn alike): a
WebSocket on any path but / (the client uses /ws) gets every message back; GET / answers
like asgi_hello for the readiness check. aiohttp speaks RFC 6455 itself, so under gonicorn
this measures the byte tunnel (docs/protocol.md "Tunnels")."""

from aiohttp import WSMsgType, web

BODY = "Hello, World!"


async def hello(request):
    return web.Response(text=BODY)


async def echo(request):
    # Compression stays off as in the client, so the figure is framing, not zlib.
    ws = web.WebSocketResponse(compress=False)
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


app = web.Application()
app.router.add_get("/", hello)
app.router.add_get("/{tail:.+}", echo)
