"""aiohttp web app implementing the contract of _contract.py.

Run with -k aiohttp.worker.GunicornWebWorker. /scope reports the request as aiohttp
sees it (there is no ASGI scope). Startup/cleanup hooks write lifespan markers.
"""
from aiohttp import WSMsgType, web

import _contract


async def health(request):
    return web.Response(text="ok")


async def scope(request):
    peer = request.transport.get_extra_info("peername") if request.transport else None
    return web.json_response({
        "method": request.method, "path": request.path, "raw_path": request.raw_path,
        "query_string": request.rel_url.raw_query_string, "http_version": "%d.%d" % tuple(request.version),
        "scheme": request.scheme, "headers": [[k.lower(), v] for k, v in request.headers.items()],
        "client": list(peer[:2]) if peer else None, "host": request.host,
    })


async def echo(request):
    response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
    await response.prepare(request)
    async for chunk in request.content.iter_any():
        await response.write(chunk)
    await response.write_eof()
    return response


async def sse(request):
    n = int(request.query.get("n", "5"))
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for event in _contract.sse_events(n):
        await response.write(event)
    await response.write_eof()
    return response


async def ws_echo(request):
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for msg in ws:
        if msg.type == WSMsgType.TEXT:
            await ws.send_str(msg.data)
        elif msg.type == WSMsgType.BINARY:
            await ws.send_bytes(msg.data)
    return ws


async def on_startup(app):
    _contract.mark("startup")


async def on_cleanup(app):
    _contract.mark("shutdown")


app = web.Application()
app.router.add_get("/health", health)
app.router.add_get("/scope", scope)
app.router.add_post("/echo", echo)
app.router.add_get("/sse", sse)
app.router.add_get("/ws/echo", ws_echo)
app.on_startup.append(on_startup)
app.on_cleanup.append(on_cleanup)
