"""An aiohttp app for the seed's `--worker-class aiohttp.worker.GunicornWebWorker ... app:app`."""
from aiohttp import web


async def index(request):
    return web.Response(text="Hello from aiohttp!\n")


app = web.Application()
app.router.add_get("/", index)
