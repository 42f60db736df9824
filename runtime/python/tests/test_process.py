"""Worker process set-up: every hook's process and arguments, --user/--group,
--worker-tmp-dir, --umask, process titles and --spew, through a real zygote."""

import os
import pwd
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

from gonicorn_runtime import _server, _wire

from .support import Go, environ
from .test_zygote import RUNTIME_DIR, Zygote

APP = textwrap.dedent('''
    import os, time
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/sleep":
            time.sleep(30)
        mask = os.umask(0)
        os.umask(mask)
        body = ("uid=%d gid=%d groups=%s umask=%o" % (
            os.getuid(), os.getgid(), sorted(os.getgroups()), mask)).encode()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [body]
''')

# Each hook writes: name, its pid, then the type name of every argument it got.
HOOKS_CONF = textwrap.dedent('''
    import os
    def _mark(name, *args):
        with open(os.environ["HOOKS_FILE"], "a") as f:
            f.write(" ".join([name, str(os.getpid())] + [type(a).__name__ for a in args])
                    + "\\n")
    def on_starting(server): _mark("on_starting", server)
    def on_reload(server): _mark("on_reload", server)
    def when_ready(server): _mark("when_ready", server)
    def pre_fork(server, worker): _mark("pre_fork", server, worker)
    def post_fork(server, worker): _mark("post_fork", server, worker)
    def post_worker_init(worker): _mark("post_worker_init", worker)
    def worker_int(worker): _mark("worker_int", worker)
    def worker_abort(worker): _mark("worker_abort", worker)
    def pre_exec(server): _mark("pre_exec", server)
    def pre_request(worker, req): _mark("pre_request", worker, req)
    def post_request(worker, req, environ, resp):
        _mark("post_request", worker, req, environ, resp)
    def child_exit(server, worker): _mark("child_exit", server, worker)
    def worker_exit(server, worker): _mark("worker_exit", server, worker)
    def nworkers_changed(server, new, old):
        _mark("nworkers_changed", server, new, old)
    def on_exit(server): _mark("on_exit", server)
''')

POST_REQUEST_2 = "def post_request(worker, req): _mark('post_request2', worker, req)\n"
POST_REQUEST_3 = ("def post_request(worker, req, environ):\n"
                  "    _mark('post_request3', worker, req, environ)\n")


class StdoutZygote(Zygote):
    """test_zygote's Zygote with the process's stdout kept in a file."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.ctl, child = socket.socketpair()
        self.stderr = open(os.path.join(tmp, "stderr"), "w+")
        self.stdout = open(os.path.join(tmp, "stdout"), "w+")
        env = dict(os.environ, PYTHONPATH=RUNTIME_DIR, GONICORN_CONTROL_FD=str(child.fileno()),
                   GONICORN_MASTER_PID="4242", HOOKS_FILE=os.path.join(tmp, "hooks"))
        self.proc = subprocess.Popen([sys.executable, "-m", "gonicorn_runtime"],
                                     pass_fds=[child.fileno()], env=env, stderr=self.stderr,
                                     stdout=self.stdout)
        child.close()
        self.go = Go(self.ctl)
        self.workers = []

    def close(self):
        super().close()
        self.stdout.close()


class ProcessTest(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name
        self.write("zapp.py", APP)
        self.z = StdoutZygote(self.tmp)

    def tearDown(self):
        self.z.close()
        self._tmp.cleanup()

    def write(self, name, text):
        with open(os.path.join(self.tmp, name), "w") as f:
            f.write(text)

    def hooks(self):
        return [line.split() for line in self.z.text("hooks").splitlines()]

    def get(self, w, stream=1, path="/"):
        w.request(stream, environ("GET", path))
        return w.response(stream)

    # -- hooks ------------------------------------------------------------------------

    def test_every_hook_runs_in_its_process_with_its_arguments(self):
        z = self.z
        self.write("gunicorn.conf.py", HOOKS_CONF)
        z.start(os.path.join(self.tmp, "gunicorn.conf.py"), wsgi_app="zapp:app")
        zpid = z.proc.pid
        z.send(_wire.HOOK, {"name": "when_ready", "args": []})
        z.send(_wire.HOOK, {"name": "nworkers_changed", "args": [1, None]})
        spawned, w = z.spawn(1)
        wpid = spawned["pid"]
        self.assertEqual(w.frame()[0], _wire.HELLO)
        self.assertEqual(self.get(w)[0], "200 OK")
        time.sleep(0.2)  # post_request runs after the response left
        os.kill(wpid, signal.SIGINT)
        self.assertEqual(z.recv(_wire.EXITED), {"pid": wpid, "status": 0, "signal": None})

        spawned, w2 = z.spawn(2)
        apid = spawned["pid"]
        self.assertEqual(w2.frame()[0], _wire.HELLO)
        w2.request(1, environ("GET", "/sleep"))
        time.sleep(0.3)
        os.kill(apid, signal.SIGABRT)
        self.assertEqual(w2.response(1)[0], "500 Internal Server Error")
        # As gunicorn's: the abort unwinds the request into a 500, then the worker exits 0.
        self.assertEqual(z.recv(_wire.EXITED)["status"], 0)
        z.send(_wire.HOOK, {"name": "pre_exec", "args": []})
        z.send(_wire.HOOK, {"name": "nworkers_changed", "args": [2, 1]})
        z.send(_wire.STOP, {})
        self.assertEqual(z.proc.wait(10), 0)

        Z, W, A = str(zpid), str(wpid), str(apid)
        want = [
            ["on_starting", Z, "Server"],
            ["when_ready", Z, "Server"],
            ["nworkers_changed", Z, "Server", "int", "NoneType"],
            ["pre_fork", Z, "Server", "SyncWorker"],
            ["post_fork", W, "Server", "SyncWorker"],
            ["post_worker_init", W, "SyncWorker"],
            ["pre_request", W, "SyncWorker", "Request"],
            ["post_request", W, "SyncWorker", "Request", "dict", "Exchange"],
            ["worker_int", W, "SyncWorker"],
            ["worker_exit", W, "Server", "SyncWorker"],
            ["child_exit", Z, "Server", "SyncWorker"],
            ["pre_fork", Z, "Server", "SyncWorker"],
            ["post_fork", A, "Server", "SyncWorker"],
            ["post_worker_init", A, "SyncWorker"],
            ["pre_request", A, "SyncWorker", "Request"],
            ["worker_abort", A, "SyncWorker"],
            ["post_request", A, "SyncWorker", "Request", "dict", "Exchange"],
            ["worker_exit", A, "Server", "SyncWorker"],
            ["child_exit", Z, "Server", "SyncWorker"],
            ["pre_exec", Z, "Server"],
            ["nworkers_changed", Z, "Server", "int", "int"],
            ["on_exit", Z, "Server"],
        ]
        got = self.hooks()
        self.assertEqual(got, want, "\n".join(" ".join(g) for g in got))

    def test_on_reload_replaces_on_starting_after_hup(self):
        z = self.z
        self.write("gunicorn.conf.py", HOOKS_CONF)
        z.send(_wire.LOAD_CONFIG, {"config": os.path.join(self.tmp, "gunicorn.conf.py"),
                                   "chdir": self.tmp})
        z.recv(_wire.CONFIG)
        z.send(_wire.START, {"settings": {"errorlog": os.path.join(self.tmp, "error.log"),
                                          "wsgi_app": "zapp:app"}, "reload": {"old_workers": 2}})
        self.assertEqual(z.recv(_wire.STARTED), {"app_kind": None})
        # gunicorn's order on HUP: nworkers_changed(new, old), then on_reload.
        self.assertEqual(self.hooks(), [["nworkers_changed", str(z.proc.pid), "Server", "int", "int"],
                                        ["on_reload", str(z.proc.pid), "Server"]])

    def test_post_request_with_two_and_three_arguments(self):
        for extra, name, types in ((POST_REQUEST_2, "post_request2", ["SyncWorker", "Request"]),
                                   (POST_REQUEST_3, "post_request3",
                                    ["SyncWorker", "Request", "dict"])):
            with self.subTest(name):
                tmp = tempfile.TemporaryDirectory()
                try:
                    with open(os.path.join(tmp.name, "zapp.py"), "w") as f:
                        f.write(APP)
                    conf = os.path.join(tmp.name, "c.py")
                    with open(conf, "w") as f:
                        f.write(HOOKS_CONF.split("def pre_request")[0] + extra)
                    z = StdoutZygote(tmp.name)
                    try:
                        z.start(conf, wsgi_app="zapp:app")
                        spawned, w = z.spawn(1)
                        w.frame()
                        self.assertEqual(self.get(w)[0], "200 OK")
                        time.sleep(0.2)  # post_request runs after the response left
                        os.kill(spawned["pid"], signal.SIGTERM)
                        z.recv(_wire.EXITED)
                        got = [line.split() for line in z.text("hooks").splitlines()]
                        self.assertIn([name, str(spawned["pid"])] + types, got)
                    finally:
                        z.close()
                finally:
                    tmp.cleanup()

    # -- --worker-tmp-dir and --umask ---------------------------------------------------

    def test_worker_tmp_file(self):
        d = os.path.join(self.tmp, "wtmp")
        os.mkdir(d)
        cfg = _server.Config({"worker_tmp_dir": d, "umask": 0o27})
        old = os.umask(0o22)
        try:
            tmp = _server.WorkerTmp(cfg)
            self.assertEqual(os.umask(0o22), 0o22, "umask must be restored")
        finally:
            os.umask(old)
        try:
            st = os.fstat(tmp.fileno())
            self.assertEqual(st.st_nlink, 0, "the file must be unlinked")
            self.assertEqual(os.listdir(d), [])
            tmp.notify()
            self.assertAlmostEqual(tmp.last_update(), time.monotonic(), delta=2)
        finally:
            tmp.close()
        with self.assertRaises(RuntimeError) as cm:
            _server.WorkerTmp(_server.Config({"worker_tmp_dir": d + "/missing"}))
        self.assertIn("%s/missing doesn't exist. Can't create workertmp." % d, str(cm.exception))

    def test_missing_worker_tmp_dir_is_a_boot_error(self):
        z = self.z
        z.start(None, wsgi_app="zapp:app", worker_tmp_dir="/no/such/dir")
        z.spawn(1)
        self.assertEqual(z.recv(_wire.EXITED)["status"], 3)
        self.assertIn("/no/such/dir doesn't exist. Can't create workertmp.", z.text("stderr"))
        self.assertIn("[ERROR] Exception in worker process", z.text("error.log"))

    def test_umask_is_not_applied_process_wide(self):
        # gunicorn uses --umask only for the files it creates (the unix socket, the
        # worker temp file); the app keeps the umask it was started with.
        z = self.z
        z.start(None, wsgi_app="zapp:app", umask=0o77)
        _, w = z.spawn(1)
        w.frame()
        body = self.get(w)[2].decode()
        self.assertIn("umask=%o" % self._start_umask(), body)

    @staticmethod
    def _start_umask():
        u = os.umask(0)
        os.umask(u)
        return u

    # -- --user / --group / --initgroups ------------------------------------------------

    def nobody(self):
        if os.geteuid() != 0:
            self.skipTest("switching users needs root")
        try:
            return pwd.getpwnam("nobody")
        except KeyError:
            self.skipTest("no 'nobody' user")

    def test_worker_switches_to_user_and_group(self):
        pw = self.nobody()
        os.chmod(self.tmp, 0o755)
        os.chmod(os.path.join(self.tmp, "zapp.py"), 0o644)
        z = self.z
        z.start(None, wsgi_app="zapp:app", user=pw.pw_uid, group=pw.pw_gid, initgroups=True)
        _, w = z.spawn(1)
        self.assertEqual(w.frame()[0], _wire.HELLO)
        body = self.get(w)[2].decode()
        want_groups = sorted(set(os.getgrouplist(pw.pw_name, pw.pw_gid)))
        self.assertIn("uid=%d gid=%d groups=%s" % (pw.pw_uid, pw.pw_gid, want_groups), body)

    def test_user_by_name_and_tmp_file_owner(self):
        pw = self.nobody()
        cfg = _server.Config({"user": "nobody", "group": str(pw.pw_gid)})
        self.assertEqual((cfg.uid, cfg.gid), (pw.pw_uid, pw.pw_gid))
        tmp = _server.WorkerTmp(cfg)
        try:
            st = os.fstat(tmp.fileno())
            self.assertEqual((st.st_uid, st.st_gid), (pw.pw_uid, pw.pw_gid))
        finally:
            tmp.close()
        with self.assertRaises(_server.ConfigError) as cm:
            _server.Config({"user": "no-such-user-x"}).uid
        self.assertEqual(str(cm.exception), "No such user: 'no-such-user-x'")

    def test_switch_failure_names_user_and_group(self):
        pw = self.nobody()
        r, wfd = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)
                try:
                    _server.set_owner_process(1, 1)
                    msg = "no error"
                except RuntimeError as e:
                    msg = str(e)
                os.write(wfd, msg.encode())
            finally:
                os._exit(0)
        os.close(wfd)
        msg = os.read(r, 4096).decode()
        os.close(r)
        os.waitpid(pid, 0)
        self.assertRegex(msg, r"^Cannot switch the worker to user '\w+' \(uid 1\), group "
                              r"'\w+' \(gid 1\): setting the group failed: Operation not "
                              r"permitted\. Start gonicorn as root")

    # -- process titles and --spew ------------------------------------------------------

    def test_proc_title(self):
        calls = []
        saved = _server._setproctitle
        _server._setproctitle = calls.append
        try:
            _server.set_proc_title("worker [%s]" % _server.Config({}).proc_name)
            _server.set_proc_title("zygote [%s]" % _server.Config(
                {"proc_name": "web", "default_proc_name": "app:x"}).proc_name)
            _server.set_proc_title("worker [%s]" % _server.Config(
                {"default_proc_name": "app:x"}).proc_name)
        finally:
            _server._setproctitle = saved
        self.assertEqual(calls, ["gonicorn: worker [gunicorn]", "gonicorn: zygote [web]",
                                 "gonicorn: worker [app:x]"])

    def test_proc_title_in_ps(self):
        try:
            import setproctitle  # noqa: F401
        except ImportError:
            self.skipTest("setproctitle is not installed")
        z = self.z
        z.start(None, wsgi_app="zapp:app", proc_name="myapp")
        spawned, w = z.spawn(1)
        w.frame()
        for pid, want in ((z.proc.pid, "gonicorn: zygote [myapp]"),
                          (spawned["pid"], "gonicorn: worker [myapp]")):
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                self.assertEqual(f.read().rstrip(b"\0").decode(), want)

    def test_spew_traces_worker_lines_to_stdout(self):
        z = self.z
        z.start(None, wsgi_app="zapp:app", spew=True)
        spawned, w = z.spawn(1)
        w.frame()
        self.assertEqual(self.get(w)[0], "200 OK")
        os.kill(spawned["pid"], signal.SIGTERM)
        z.recv(_wire.EXITED)
        out = z.text("stdout")
        self.assertIn('zapp:4: ', out)
        self.assertRegex(out, r"zapp:\d+:\s+start_response\(\"200 OK\"")
        self.assertIn("gonicorn_runtime._boot:", out)


if __name__ == "__main__":
    unittest.main()
