"""The zygote: evaluates the config, runs master-side hooks and forks workers.

Go cannot fork, so it execs this process and drives it over the control channel
(docs/protocol.md, "Control channel"): LOAD_CONFIG -> CONFIG, START -> STARTED,
SPAWN (+ the worker's channel fd) -> SPAWNED, and EXITED after each reaped worker.
Workers are forked from here so they inherit what the config and ``--preload`` built,
as gunicorn's workers inherit from gunicorn's master.
"""

import array
import os
import select
import signal
import socket
import sys
import traceback

from . import _app, _log, _server, _wire

_HDR = _wire.encode_header


class Zygote:
    def __init__(self, ctl):
        self.ctl = ctl
        self.reader = _wire.FrameReader(64 * 1024)
        self.cfg = None
        self.log = None
        self.server = None
        self.app = None
        self.worker_ids = {}
        self.running = True
        self.exit_code = 0
        self.pipe_r, self.pipe_w = os.pipe()
        os.set_blocking(self.pipe_r, False)
        os.set_blocking(self.pipe_w, False)

    # -- channel --------------------------------------------------------------------

    def reply(self, typ, doc):
        payload = _wire.encode_json(doc)
        self.ctl.sendall(_HDR(typ, 0, 0, len(payload)) + payload)

    def serve(self):
        signal.signal(signal.SIGCHLD, lambda s, f: None)
        signal.set_wakeup_fd(self.pipe_w)
        # A terminal's Ctrl-C / Ctrl-\ reach the whole process group: Go decides how to
        # stop and tells us with STOP (or by closing the channel). Workers reset these.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGQUIT, signal.SIG_IGN)
        while self.running:
            try:
                r, _, _ = select.select([self.ctl, self.pipe_r], [], [])
            except InterruptedError:
                continue
            if self.pipe_r in r:
                try:
                    while os.read(self.pipe_r, 512):
                        pass
                except (BlockingIOError, InterruptedError):
                    pass
                self.reap()
            if self.ctl in r:
                fds = []
                try:
                    data, anc, _, _ = self.ctl.recvmsg(
                        65536, socket.CMSG_SPACE(16 * array.array("i").itemsize))
                except InterruptedError:
                    continue
                for level, kind, cdata in anc:
                    if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                        a = array.array("i")
                        a.frombytes(cdata[:len(cdata) - (len(cdata) % a.itemsize)])
                        fds.extend(a)
                if not data:
                    for fd in fds:
                        os.close(fd)
                    # Go is gone: nothing can supervise workers any more.
                    self.running = False
                    break
                self.reader.feed(data)
                self.pending_fds = getattr(self, "pending_fds", []) + fds
                for typ, flags, stream, payload in self.reader:
                    self.dispatch(typ, _wire.decode_json(payload) if payload else {})
                    if not self.running:
                        break
        return self.exit_code

    def take_fd(self):
        fds = getattr(self, "pending_fds", [])
        if not fds:
            return None
        return fds.pop(0)

    def dispatch(self, typ, msg):
        if typ == _wire.LOAD_CONFIG:
            self.on_load_config(msg)
        elif typ == _wire.START:
            self.on_start(msg)
        elif typ == _wire.SPAWN:
            self.on_spawn(msg)
        elif typ == _wire.HOOK:
            self.on_hook(msg)
        elif typ == _wire.STOP:
            self.on_stop()
        else:
            raise _wire.ProtocolError("unexpected %s frame on the control channel"
                                      % _wire.TYPE_NAMES.get(typ, hex(typ)))

    # -- messages -------------------------------------------------------------------

    def on_load_config(self, msg):
        chdir = msg.get("chdir")
        if chdir:
            os.chdir(chdir)
            if chdir not in sys.path:
                sys.path.insert(0, chdir)
        spec = msg.get("config")
        values, error = {}, None
        if spec:
            try:
                from . import _config
                values = _config.load_config_file(spec)
            except Exception as e:
                error = str(e)
        self.reply(_wire.CONFIG, {"values": values, "error": error})

    def _config_module(self):
        try:
            from . import _config
        except ImportError:
            return None
        return _config.last_module()

    def on_start(self, msg):
        settings = msg.get("settings") or {}
        try:
            cfg = _server.Config(settings, self._config_module())
            app = _server.Application(cfg)
            app.chdir()
            if cfg.pythonpath:
                for path in str(cfg.pythonpath).split(","):
                    path = os.path.abspath(path)
                    if path not in sys.path:
                        sys.path.insert(0, path)
            for k, v in cfg.env.items():
                os.environ[k] = v
            log = _log.Logger(cfg)
        except (_server.ConfigError, RuntimeError, OSError, ValueError, TypeError) as e:
            print("Error: %s" % e, file=sys.stderr)
            self.fail(str(e), _app.CONFIG_ERROR)
            return
        self.cfg, self.log, self.app = cfg, log, app
        self.server = _server.Server(cfg, log, app)
        _server.set_proc_title("zygote [%s]" % cfg.proc_name)
        if cfg.reload and cfg.preload_app:
            # gunicorn only documents this; say it where it bites.
            log.warning("The reloader is incompatible with application preloading: the "
                        "app was imported before the fork, so restarted workers keep "
                        "the old code. Turn preload_app off to reload code changes.")
        try:
            # A zygote started by a HUP plays gunicorn's master after
            # reload: on_reload, not on_starting.
            reload = msg.get("reload")
            if reload:
                # gunicorn re-sets num_workers from the re-read config, which
                # calls nworkers_changed even with an unchanged count.
                old = reload.get("old_workers") if isinstance(reload, dict) else None
                cfg.nworkers_changed(self.server, cfg.workers, old)
                cfg.on_reload(self.server)
            else:
                cfg.on_starting(self.server)
            kind = None
            if cfg.preload_app:
                kind = _app.app_kind(app.wsgi())
        except _app.AppImportError as e:
            log.debug("Exception while loading the application", exc_info=True)
            print("%s" % e, file=sys.stderr)
            sys.stderr.flush()
            self.fail(str(e), _app.APP_LOAD_ERROR)
            return
        except Exception as e:
            log.exception("Exception in worker process" if cfg.preload_app
                          else "Exception in on_starting hook")
            self.fail("%s: %s" % (type(e).__name__, e), _app.WORKER_BOOT_ERROR)
            return
        self.reply(_wire.STARTED, {"app_kind": kind})

    def fail(self, error, code):
        self.reply(_wire.STARTED, {"error": error, "exit_code": code})
        self.exit_code = code
        self.running = False

    def on_spawn(self, msg):
        fd = self.take_fd()
        if fd is None:
            raise _wire.ProtocolError("SPAWN arrived without a file descriptor")
        from ._boot import make_worker, run_child
        server = self.server
        server.worker_age += 1
        age = msg.get("age") or server.worker_age
        worker_id = msg.get("worker_id", age)
        sock = socket.socket(fileno=fd)
        worker = make_worker(age, server, sock, worker_id)
        try:
            self.cfg.pre_fork(server, worker)
        except Exception:
            self.log.exception("Exception in pre_fork hook")
        pid = os.fork()
        if pid == 0:
            code = 255
            try:
                self.ctl.close()
                os.close(self.pipe_r)
                os.close(self.pipe_w)
                for f in getattr(self, "pending_fds", []):
                    os.close(f)
                code = run_child(server, worker)
            finally:
                os._exit(code)
        worker.pid = pid
        server.WORKERS[pid] = worker
        self.worker_ids[pid] = worker_id
        sock.close()
        self.reply(_wire.SPAWNED, {"worker_id": worker_id, "pid": pid})

    def reap(self):
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            except InterruptedError:
                continue
            if not pid:
                return
            worker = self.server.WORKERS.pop(pid, None) if self.server else None
            if worker is None:
                continue
            self.worker_ids.pop(pid, None)
            try:
                worker.tmp.close()
            except Exception:
                pass
            try:
                self.cfg.child_exit(self.server, worker)
            except Exception:
                self.log.exception("Exception in child_exit hook")
            doc = {"pid": pid, "status": None, "signal": None}
            if os.WIFEXITED(status):
                doc["status"] = os.WEXITSTATUS(status)
            elif os.WIFSIGNALED(status):
                doc["signal"] = os.WTERMSIG(status)
            self.reply(_wire.EXITED, doc)

    def on_hook(self, msg):
        name = msg.get("name")
        args = msg.get("args") or []
        if self.cfg is None:
            return
        if name == "nworkers_changed" and args:
            self.server.num_workers = args[0]
        try:
            hook = getattr(self.cfg, name)
            hook(self.server, *args)
        except Exception:
            self.log.exception("Exception in %s hook", name)

    def on_stop(self):
        if self.cfg is not None:
            try:
                self.cfg.on_exit(self.server)
            except Exception:
                self.log.exception("Exception in on_exit hook")
        self.running = False
        self.exit_code = 0


def main():
    fd = int(os.environ.get("GONICORN_CONTROL_FD", "3"))
    ctl = socket.socket(fileno=fd)
    ctl.set_inheritable(False)
    zygote = Zygote(ctl)
    try:
        code = zygote.serve()
    except _wire.ProtocolError as e:
        print("gonicorn zygote: %s" % e, file=sys.stderr)
        code = 255
    except Exception:
        traceback.print_exc()
        code = 255
    sys.stdout.flush()
    sys.stderr.flush()
    return code
