"""The zygote as Go runs it: a subprocess with a real control socketpair."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

from gonicorn_runtime import _wire

from .support import Go, environ

RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

APP = textwrap.dedent('''
    import os, time
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/sleep":
            time.sleep(30)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [("pid=%d foo=%s" % (os.getpid(), os.environ.get("FOO"))).encode()]
    async def asgi(scope, receive, send):
        pass
''')

CONF = textwrap.dedent('''
    import os
    workers = 2
    bind = "127.0.0.1:9999"
    def _mark(*parts):
        with open(os.environ["HOOKS_FILE"], "a") as f:
            f.write(" ".join(str(p) for p in parts) + "\\n")
    def on_starting(server):
        _mark("on_starting", os.getpid(), server.pid)
    def when_ready(server):
        _mark("when_ready", os.getpid())
    def nworkers_changed(server, new, old):
        _mark("nworkers_changed", os.getpid(), new, old)
    def pre_fork(server, worker):
        _mark("pre_fork", os.getpid(), worker.age, worker.pid)
    def post_fork(server, worker):
        _mark("post_fork", os.getpid(), worker.pid)
    def post_worker_init(worker):
        _mark("post_worker_init", os.getpid(), worker.wsgi is not None)
    def worker_int(worker):
        _mark("worker_int", os.getpid())
    def worker_abort(worker):
        _mark("worker_abort", os.getpid())
    def worker_exit(server, worker):
        _mark("worker_exit", os.getpid(), worker.pid)
    def child_exit(server, worker):
        _mark("child_exit", os.getpid(), worker.pid)
    def on_exit(server):
        _mark("on_exit", os.getpid())
''')


class Zygote:
    def __init__(self, tmp):
        self.tmp = tmp
        self.ctl, child = socket.socketpair()
        self.stderr = open(os.path.join(tmp, "stderr"), "w+")
        env = dict(os.environ, PYTHONPATH=RUNTIME_DIR, GONICORN_CONTROL_FD=str(child.fileno()),
                   GONICORN_MASTER_PID="4242", HOOKS_FILE=os.path.join(tmp, "hooks"))
        self.proc = subprocess.Popen([sys.executable, "-m", "gonicorn_runtime"],
                                     pass_fds=[child.fileno()], env=env, stderr=self.stderr)
        child.close()
        self.go = Go(self.ctl)
        self.workers = []

    def send(self, typ, doc, fds=()):
        data = _wire.encode_frame(typ, 0, 0, _wire.encode_json(doc))
        if fds:
            socket.send_fds(self.ctl, [data], list(fds))
        else:
            self.ctl.sendall(data)

    def recv(self, want_type):
        f = self.go.frame()
        if f is None:
            raise EOFError("zygote closed the control channel")
        self.assertType(f, want_type)
        return _wire.decode_json(f[3])

    @staticmethod
    def assertType(f, want):
        if f[0] != want:
            raise AssertionError("got %s %r; want %s" % (_wire.TYPE_NAMES.get(f[0]), f[3],
                                                         _wire.TYPE_NAMES[want]))

    def start(self, config=None, **settings):
        self.send(_wire.LOAD_CONFIG, {"config": config, "chdir": self.tmp})
        conf = self.recv(_wire.CONFIG)
        base = {"errorlog": os.path.join(self.tmp, "error.log"), "workers": 1}
        base.update(settings)
        self.send(_wire.START, {"settings": base})
        return conf, self.recv(_wire.STARTED)

    def spawn(self, worker_id=1):
        go_end, worker_end = socket.socketpair()
        self.send(_wire.SPAWN, {"worker_id": worker_id, "age": worker_id}, [worker_end.fileno()])
        worker_end.close()
        spawned = self.recv(_wire.SPAWNED)
        w = Go(go_end)
        self.workers.append(w)
        return spawned, w

    def close(self):
        for w in self.workers:
            w.sock.close()
        self.ctl.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stderr.close()

    def text(self, name):
        try:
            with open(os.path.join(self.tmp, name)) as f:
                return f.read()
        except FileNotFoundError:
            return ""


class ZygoteTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name
        with open(os.path.join(self.tmp, "zapp.py"), "w") as f:
            f.write(APP)
        with open(os.path.join(self.tmp, "gunicorn.conf.py"), "w") as f:
            f.write(CONF)
        self.z = Zygote(self.tmp)

    def tearDown(self):
        self.z.close()
        self._tmp.cleanup()

    def hooks(self):
        return [line.split() for line in self.z.text("hooks").splitlines()]

    def test_full_lifecycle(self):
        z = self.z
        conf, started = z.start(os.path.join(self.tmp, "gunicorn.conf.py"),
                                wsgi_app="zapp:app", raw_env=["FOO=bar"])
        self.assertIsNone(conf["error"])
        self.assertEqual(conf["values"]["workers"], 2)
        self.assertEqual(started, {"app_kind": None})
        zpid = z.proc.pid
        z.send(_wire.HOOK, {"name": "when_ready", "args": []})
        z.send(_wire.HOOK, {"name": "nworkers_changed", "args": [3, None]})
        spawned, w = z.spawn(1)
        wpid = spawned["pid"]
        self.assertEqual(spawned["worker_id"], 1)
        hello = w.frame()
        self.assertEqual(hello[0], _wire.HELLO)
        doc = _wire.parse_hello(hello[3])
        self.assertEqual((doc["pid"], doc["app_kind"], doc["worker_class"], doc["capacity"]),
                         (wpid, "wsgi", "sync", 1))
        w.request(1, environ())
        status, headers, body, _ = w.response(1)
        self.assertEqual(body, ("pid=%d foo=bar" % wpid).encode())
        time.sleep(0.2)  # the worker is now blocked in recv: TERM must still end it
        os.kill(wpid, signal.SIGTERM)
        exited = z.recv(_wire.EXITED)
        self.assertEqual(exited, {"pid": wpid, "status": 0, "signal": None})
        z.send(_wire.STOP, {})
        self.assertEqual(z.proc.wait(10), 0)
        got = self.hooks()
        want = [["on_starting", str(zpid), "4242"], ["when_ready", str(zpid)],
                ["nworkers_changed", str(zpid), "3", "None"], ["pre_fork", str(zpid), "1", "[booting]"],
                ["post_fork", str(wpid), str(wpid)], ["post_worker_init", str(wpid), "True"],
                ["worker_exit", str(wpid), str(wpid)], ["child_exit", str(zpid), str(wpid)],
                ["on_exit", str(zpid)]]
        self.assertEqual(got, want)
        log = z.text("error.log")
        self.assertIn("[%d] [INFO] Booting worker with pid: %d\n" % (wpid, wpid), log)
        self.assertIn("[%d] [INFO] Worker exiting (pid: %d)\n" % (wpid, wpid), log)

    def test_gthread_worker_and_signals(self):
        z = self.z
        z.start(None, wsgi_app="zapp:app", threads=2)
        spawned, w = z.spawn(1)
        doc = _wire.parse_hello(w.frame()[3])
        self.assertEqual((doc["worker_class"], doc["capacity"]), ("gthread", 2))
        w.request(5, environ())
        self.assertEqual(w.response(5)[0], "200 OK")
        time.sleep(0.2)
        os.kill(spawned["pid"], signal.SIGUSR1)
        os.kill(spawned["pid"], signal.SIGWINCH)
        time.sleep(0.1)
        w.request(6, environ())
        self.assertEqual(w.response(6)[0], "200 OK")
        time.sleep(0.2)
        os.kill(spawned["pid"], signal.SIGTERM)
        self.assertEqual(z.recv(_wire.EXITED)["status"], 0)

    def test_unserved_worker_class_falls_back(self):
        z = self.z
        z.start(None, wsgi_app="zapp:app", worker_class="mypkg.MyWorker")
        spawned, w = z.spawn(1)
        doc = _wire.parse_hello(w.frame()[3])
        self.assertEqual((doc["worker_class"], doc["capacity"]), ("sync", 1))
        self.assertIn("Worker class 'mypkg.MyWorker' is not served by this runtime yet; using sync.",
                      z.text("error.log"))

    def test_app_load_error_exit_4(self):
        z = self.z
        _, started = z.start(None, wsgi_app="zapp:nope")
        self.assertEqual(started, {"app_kind": None})
        spawned, w = z.spawn()
        self.assertIsNone(w.frame(), "no HELLO from a worker whose app failed")
        exited = z.recv(_wire.EXITED)
        self.assertEqual(exited["status"], 4)
        z.proc.stdin = None
        self.assertEqual(z.proc.poll(), None)
        z.send(_wire.STOP, {})
        z.proc.wait(10)
        self.assertIn("Failed to find attribute 'nope' in 'zapp'.", z.text("stderr"))

    def test_missing_module_exit_3(self):
        z = self.z
        z.start(None, wsgi_app="no_such_zmod:app")
        z.spawn()
        self.assertEqual(z.recv(_wire.EXITED)["status"], 3)
        log = z.text("error.log")
        self.assertIn("[ERROR] Exception in worker process\nTraceback", log)
        self.assertIn("ModuleNotFoundError: No module named 'no_such_zmod'", log)

    def test_preload_asgi_and_preload_error(self):
        z = self.z
        _, started = z.start(None, wsgi_app="zapp:asgi", preload_app=True)
        self.assertEqual(started, {"app_kind": "asgi"})
        spawned, w = z.spawn()
        doc = _wire.parse_hello(w.frame()[3])
        self.assertEqual(doc["app_kind"], "asgi")

    def test_preload_error_exit_4(self):
        z = self.z
        _, started = z.start(None, wsgi_app="zapp:nope", preload_app=True)
        self.assertEqual(started, {"error": "Failed to find attribute 'nope' in 'zapp'.",
                                   "exit_code": 4})
        self.assertEqual(z.proc.wait(10), 4)

    def test_bad_hook_is_config_error(self):
        z = self.z
        _, started = z.start(None, wsgi_app="zapp:app", on_starting="nodots")
        self.assertEqual(started["exit_code"], 1)
        self.assertIn("not import string", started["error"])

    def test_config_error_reported(self):
        z = self.z
        z.send(_wire.LOAD_CONFIG, {"config": os.path.join(self.tmp, "missing.py"), "chdir": None})
        conf = z.recv(_wire.CONFIG)
        self.assertIn("doesn't exist", conf["error"])

    def test_int_and_abrt_and_eof(self):
        z = self.z
        z.start(os.path.join(self.tmp, "gunicorn.conf.py"), wsgi_app="zapp:app",
                loglevel="info")
        spawned, w = z.spawn(1)
        self.assertEqual(w.frame()[0], _wire.HELLO)
        os.kill(spawned["pid"], signal.SIGINT)
        self.assertEqual(z.recv(_wire.EXITED), {"pid": spawned["pid"], "status": 0, "signal": None})

        spawned, w = z.spawn(2)
        self.assertEqual(w.frame()[0], _wire.HELLO)
        w.request(1, environ("GET", "/sleep"))
        time.sleep(0.3)
        os.kill(spawned["pid"], signal.SIGABRT)
        status, _, _, _ = w.response(1)
        self.assertEqual(status, "500 Internal Server Error")
        # As gunicorn's: the abort unwinds the request into a 500, then the worker exits 0.
        self.assertEqual(z.recv(_wire.EXITED)["status"], 0)
        log = z.text("error.log")
        self.assertIn("Worker aborted (pid: %d). Stack of every thread:" % spawned["pid"], log)
        self.assertIn("time.sleep(30)", log)
        self.assertIn("Error handling request GET /", log)
        names = [h[0] for h in self.hooks()]
        self.assertIn("worker_int", names)
        self.assertIn("worker_abort", names)

        spawned, w = z.spawn(3)
        self.assertEqual(w.frame()[0], _wire.HELLO)
        w.sock.close()  # Go closed the worker channel: the worker exits.
        self.assertEqual(z.recv(_wire.EXITED)["status"], 0)
        z.ctl.shutdown(socket.SHUT_WR)  # Go died: the zygote exits.
        self.assertEqual(z.proc.wait(10), 0)


if __name__ == "__main__":
    unittest.main()
