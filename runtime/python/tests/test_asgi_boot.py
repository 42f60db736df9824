"""The asgi worker booted as the zygote boots workers: run_child in a forked child."""

import os
import shutil
import socket
import tempfile
import unittest

from gonicorn_runtime import _app, _boot, _log, _server, _wire

from .test_asgi_support import Go, scope


async def asgi_app(sc, receive, send):
    if sc["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.failed", "message": "db down"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"asgi"})


def wsgi_app(environ, start_response):
    start_response("200 OK", [])
    return [b"wsgi"]


class RunChildTest(unittest.TestCase):
    def boot(self, app, settings):
        """Fork a worker like the zygote; return (go, pid, error log path)."""
        # Not TemporaryDirectory: run_child runs atexit handlers, and its finalizer
        # would remove the directory from the child.
        tmp = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, tmp, True)
        errorlog = os.path.join(tmp, "error.log")
        s = {"errorlog": errorlog, "loglevel": "info"}
        s.update(settings)
        a, b = socket.socketpair()
        pid = os.fork()
        if pid == 0:
            code = 255
            try:
                a.close()
                os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # run_child prints errors
                cfg = _server.Config(s)
                log = _log.Logger(cfg)
                application = _server.Application(cfg, "app:app")
                application.callable = app
                server = _server.Server(cfg, log, application)
                worker = _boot.make_worker(1, server, b, 1)
                code = _boot.run_child(server, worker)
            finally:
                os._exit(code)
        b.close()
        go = Go(a)
        self.addCleanup(a.close)
        return go, pid, errorlog

    def wait(self, pid):
        _, status = os.waitpid(pid, 0)
        return os.waitstatus_to_exitcode(status)

    def test_asgi_app_under_sync(self):
        go, pid, errorlog = self.boot(asgi_app, {"asgi_lifespan": "off"})
        hello = _wire.parse_hello(go.frame()[3])
        self.assertEqual((hello["app_kind"], hello["worker_class"]), ("asgi", "asgi"))
        go.request(1, scope())
        self.assertEqual(go.response(1)[2], b"asgi")
        go.sock.shutdown(socket.SHUT_WR)
        self.assertEqual(self.wait(pid), 0)
        with open(errorlog) as f:
            log = f.read()
        warnings = [line for line in log.splitlines() if "[WARNING]" in line]
        self.assertEqual(len(warnings), 1, log)
        self.assertTrue(warnings[0].endswith(
            "[WARNING] Application 'app:app' is an ASGI app; serving it with the asgi worker "
            "class. Use -k asgi (or -k uvicorn.workers.UvicornWorker) to make this explicit."),
            warnings[0])

    def test_wsgi_app_under_asgi_exits_4(self):
        go, pid, errorlog = self.boot(wsgi_app, {"worker_class": "asgi"})
        self.assertIsNone(go.frame())
        self.assertEqual(self.wait(pid), _app.APP_LOAD_ERROR)
        # The reason goes to stderr once (run_child prints an AppImportError, as
        # gunicorn does), not also to the error log.
        with open(errorlog) as f:
            self.assertNotIn("is a WSGI app", f.read())

    def test_lifespan_on_failure(self):
        # gunicorn -k asgi: log and exit 0, the master respawns it.
        go, pid, errorlog = self.boot(asgi_app, {"worker_class": "asgi", "asgi_lifespan": "on"})
        self.assertIsNone(go.frame())
        self.assertEqual(self.wait(pid), 0)
        with open(errorlog) as f:
            self.assertIn("[ERROR] ASGI lifespan startup failed: Lifespan startup failed: "
                          "db down", f.read())

    def test_lifespan_failure_uvicorn_name_exits_3(self):
        go, pid, _ = self.boot(asgi_app, {"worker_class": "uvicorn.workers.UvicornWorker"})
        self.assertIsNone(go.frame())
        self.assertEqual(self.wait(pid), _app.WORKER_BOOT_ERROR)


if __name__ == "__main__":
    unittest.main()
