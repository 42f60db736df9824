"""ASGI lifespan for the asgi worker: startup before HELLO, shutdown on a graceful stop.

The app's lifespan call runs in its own task for the worker's whole life. What the
worker does with each startup outcome (serve, serve without lifespan, exit) is decided
in _asgi.py from ``--asgi-lifespan``.
"""

import asyncio

__all__ = ["Lifespan"]


class Lifespan:
    """One app's lifespan conversation; ``state`` is the dict requests get copies of."""

    def __init__(self, app, log, state, asgi_version="3.0"):
        self.app = app
        self.log = log
        self.state = state
        self.asgi_version = asgi_version
        self.queue = None
        self.task = None
        self.started = None
        self.stopped = None
        self.finished = False

    async def startup(self, timeout):
        """Return (outcome, message): "complete", "failed" (the app sent
        lifespan.startup.failed or timed out) or "error" (it raised or returned first:
        lifespan unsupported)."""
        loop = asyncio.get_running_loop()
        self.started = loop.create_future()
        self.stopped = loop.create_future()
        self.queue = asyncio.Queue()
        self.queue.put_nowait({"type": "lifespan.startup"})
        scope = {"type": "lifespan",
                 "asgi": {"version": self.asgi_version, "spec_version": "2.0"},
                 "state": self.state}
        self.task = loop.create_task(self._run(scope))
        try:
            return await asyncio.wait_for(asyncio.shield(self.started), timeout)
        except asyncio.TimeoutError:
            self.task.cancel()
            return "failed", "Lifespan startup timed out after %gs" % timeout

    async def shutdown(self, timeout):
        if self.finished:
            self.log.debug("ASGI lifespan already finished")
            return
        self.queue.put_nowait({"type": "lifespan.shutdown"})
        try:
            outcome, message = await asyncio.wait_for(asyncio.shield(self.stopped), timeout)
        except asyncio.TimeoutError:
            self.log.warning("Lifespan shutdown timed out")
            outcome, message = "complete", None
        if outcome != "complete":
            self.log.error("ASGI lifespan shutdown error: %s", message)
        if not self.task.done():
            self.task.cancel()
            try:
                await self.task
            except (asyncio.CancelledError, Exception):
                pass
        self.log.debug("ASGI lifespan shutdown complete")

    async def _run(self, scope):
        try:
            await self.app(scope, self.receive, self.send)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            self.log.debug("Lifespan application raised: %s", e, exc_info=True)
            why = "%s: %s" % (type(e).__name__, e) if str(e) else type(e).__name__
            _set(self.started, ("error", why))
            _set(self.stopped, ("failed", why))
        finally:
            self.finished = True
            _set(self.started, ("error", "Application exited before startup complete"))
            _set(self.stopped, ("complete", None))

    async def receive(self):
        return await self.queue.get()

    async def send(self, message):
        t = message["type"]
        if t == "lifespan.startup.complete":
            _set(self.started, ("complete", None))
        elif t == "lifespan.startup.failed":
            _set(self.started, ("failed", message.get("message", "")))
        elif t == "lifespan.shutdown.complete":
            _set(self.stopped, ("complete", None))
        elif t == "lifespan.shutdown.failed":
            _set(self.stopped, ("failed", message.get("message", "")))
        else:
            raise RuntimeError("Unexpected ASGI message %r sent for a lifespan scope." % (t,))


def _set(fut, value):
    if fut is not None and not fut.done():
        fut.set_result(value)
