"""--reload: the reloader engines, and a worker that asks Go for its replacement."""

import json
import os
import signal
import tempfile
import textwrap
import time
import unittest

from gonicorn_runtime import _reloader, _wire

from .support import environ
from .test_zygote import Zygote

APP = textwrap.dedent('''
    import os, time
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/slow":
            time.sleep(1.5)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"v1"]
''')

BROKEN = "def app(environ, start_response)\n    return []\n"

CONF = textwrap.dedent('''
    import os
    def worker_int(worker):
        with open(os.environ["HOOKS_FILE"], "a") as f:
            f.write("worker_int %d\\n" % os.getpid())
''')


def touch(path, ahead=5):
    t = time.time() + ahead
    os.utime(path, (t, t))


class ReloaderTest(unittest.TestCase):
    def test_poll_engine_sees_modules_extras_and_new_glob_matches(self):
        with tempfile.TemporaryDirectory() as d:
            extra = os.path.join(d, "settings.ini")
            open(extra, "w").close()
            seen = []
            r = _reloader.Reloader(extra_files=[extra, os.path.join(d, "*.tpl")],
                                   interval=0.05, callback=seen.append)
            self.assertIn(os.path.abspath(_reloader.__file__), r.get_files())
            r.start()
            try:
                time.sleep(0.2)
                late = os.path.join(d, "page.tpl")  # created after start: a glob match
                open(late, "w").close()
                time.sleep(0.2)
                self.assertEqual(seen, [], "a file's first sighting is not a change")
                touch(late)
                touch(extra)
                deadline = time.time() + 5
                while len(seen) < 2 and time.time() < deadline:
                    time.sleep(0.05)
                self.assertEqual(sorted(set(seen)), sorted([late, extra]))
            finally:
                r.stopped = True
                r.join(2)
            self.assertFalse(r.is_alive())

    def test_engines(self):
        self.assertEqual(set(_reloader.reloader_engines), {"auto", "poll", "inotify"})
        self.assertIs(_reloader.reloader_engines["poll"], _reloader.Reloader)
        if _reloader.has_inotify:
            self.skipTest("the inotify package is installed")
        self.assertIs(_reloader.reloader_engines["auto"], _reloader.Reloader)
        with self.assertRaises(ImportError) as cm:
            _reloader.reloader_engines["inotify"](extra_files=[], callback=print)
        self.assertEqual(str(cm.exception), "You must have the inotify module installed to "
                                            "use the inotify reloader")

    def test_glob_pattern_rule(self):
        for value, want in (("a/*.py", True), ("x?.txt", True), ("[ab].ini", True),
                            ("plain/file.py", False)):
            self.assertEqual(_reloader.is_glob_pattern(value), want, value)


class ReloadWorkerTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name
        self.app_path = os.path.join(self.tmp, "zapp.py")
        self.write("zapp.py", APP)
        self.write("gunicorn.conf.py", CONF)
        self.z = Zygote(self.tmp)

    def tearDown(self):
        self.z.close()
        self._tmp.cleanup()

    def write(self, name, text):
        with open(os.path.join(self.tmp, name), "w") as f:
            f.write(text)

    def start(self, **settings):
        s = {"wsgi_app": "zapp:app", "reload": True}
        s.update(settings)
        _, started = self.z.start(os.path.join(self.tmp, "gunicorn.conf.py"), **s)
        return started

    def recycle_frame(self, w, timeout=6):
        """The next frame, which must be RECYCLE; returns its JSON."""
        w.sock.settimeout(timeout)
        f = w.frame()
        self.assertIsNotNone(f, "worker closed its channel instead of sending RECYCLE")
        self.assertEqual(f[0], _wire.RECYCLE, f)
        return json.loads(f[3])

    def finish(self, spawned, w):
        """What Go does after RECYCLE: TERM and close; the worker exits 0."""
        os.kill(spawned["pid"], signal.SIGTERM)
        w.sock.close()
        self.z.workers.remove(w)
        self.assertEqual(self.z.recv(_wire.EXITED),
                         {"pid": spawned["pid"], "status": 0, "signal": None})

    def test_idle_sync_worker_asks_for_replacement(self):
        self.start()
        spawned, w = self.z.spawn(1)
        self.assertEqual(w.frame()[0], _wire.HELLO)
        w.request(1, environ())
        self.assertEqual(w.response(1)[2], b"v1")
        time.sleep(1.2)  # the reloader has recorded the app's mtime
        touch(self.app_path)
        self.assertEqual(self.recycle_frame(w), {"reason": "reload"})
        # Go may have sent a request before it read RECYCLE: it is still served.
        w.request(2, environ())
        self.assertEqual(w.response(2)[2], b"v1")
        self.finish(spawned, w)
        log = self.z.text("error.log")
        self.assertIn("[WARNING] Reloader is on. Use in development only!", log)
        self.assertIn("[INFO] Worker reloading: %s modified" % self.app_path, log)
        self.assertNotIn("Autorestarting", log)
        self.assertIn("worker_int %d" % spawned["pid"], self.z.text("hooks"))

    def test_busy_sync_worker_finishes_the_request_first(self):
        self.start()
        spawned, w = self.z.spawn(1)
        self.assertEqual(w.frame()[0], _wire.HELLO)
        time.sleep(1.2)
        w.request(1, environ("GET", "/slow"))
        time.sleep(0.1)
        touch(self.app_path)
        status, _, body, frames = w.response(1)
        self.assertEqual((status, body), ("200 OK", b"v1"))
        self.assertNotIn(_wire.RECYCLE, [f[0] for f in frames])
        self.assertEqual(self.recycle_frame(w), {"reason": "reload"})
        self.finish(spawned, w)

    def test_gthread_worker(self):
        self.start(threads=2)
        spawned, w = self.z.spawn(1)
        self.assertEqual(w.frame()[0], _wire.HELLO)
        time.sleep(1.2)
        touch(self.app_path)
        self.assertEqual(self.recycle_frame(w), {"reason": "reload"})
        self.finish(spawned, w)

    def test_asgi_worker(self):
        self.write("zapp.py", "async def app(scope, receive, send):\n    pass\n")
        self.start(worker_class="asgi")
        spawned, w = self.z.spawn(1)
        self.assertEqual(w.frame()[0], _wire.HELLO)
        time.sleep(1.2)
        touch(self.app_path)
        self.assertEqual(self.recycle_frame(w), {"reason": "reload"})
        self.finish(spawned, w)

    def test_extra_file(self):
        extra = os.path.join(self.tmp, "templates", "index.html")
        os.mkdir(os.path.dirname(extra))
        open(extra, "w").close()
        self.start(reload_extra_files=[os.path.join(self.tmp, "templates", "*.html")])
        spawned, w = self.z.spawn(1)
        self.assertEqual(w.frame()[0], _wire.HELLO)
        time.sleep(1.2)
        touch(extra)
        self.assertEqual(self.recycle_frame(w), {"reason": "reload"})
        self.finish(spawned, w)
        self.assertIn("Worker reloading: %s modified" % extra, self.z.text("error.log"))

    def test_syntax_error_serves_traceback_until_fixed(self):
        self.write("zapp.py", BROKEN)
        self.start()
        spawned, w = self.z.spawn(1)
        self.assertEqual(w.frame()[0], _wire.HELLO)
        w.request(1, environ())
        status, headers, body, _ = w.response(1)
        self.assertEqual(status, "500 Internal Server Error")
        self.assertEqual(headers, [("Content-Type", "text/plain"),
                                   ("Content-Length", str(len(body)))])
        text = body.decode()
        self.assertTrue(text.startswith("Traceback (most recent call last):"), text)
        self.assertIn('File "%s", line 1' % self.app_path, text)
        self.assertIn("SyntaxError: expected ':'", text)
        self.assertIn("[ERROR] expected ':' (zapp.py, line 1)", self.z.text("error.log"))
        time.sleep(1.2)
        self.write("zapp.py", APP)
        touch(self.app_path)
        self.assertEqual(self.recycle_frame(w), {"reason": "reload"})
        self.finish(spawned, w)
        spawned, w = self.z.spawn(2)
        self.assertEqual(w.frame()[0], _wire.HELLO)
        w.request(1, environ())
        self.assertEqual(w.response(1)[2], b"v1")

    def test_syntax_error_without_reload_fails_the_boot(self):
        self.write("zapp.py", BROKEN)
        self.start(reload=False)
        self.z.spawn(1)
        self.assertEqual(self.z.recv(_wire.EXITED)["status"], 3)

    def test_preload_warning(self):
        self.assertEqual(self.start(preload_app=True), {"app_kind": "wsgi"})
        self.assertIn("[WARNING] The reloader is incompatible with application preloading",
                      self.z.text("error.log"))


if __name__ == "__main__":
    unittest.main()
