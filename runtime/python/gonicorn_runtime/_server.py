"""The objects gunicorn hooks receive: ``cfg``, ``server`` (the arbiter) and the app.

Hooks written for gunicorn read attributes such as ``server.cfg.workers``,
``server.log``, ``worker.pid`` or ``server.app.cfg``; these classes carry the same
names so the hooks run unchanged in the zygote and in workers.
"""

import grp
import inspect
import linecache
import logging
import os
import pwd
import re
import sys
import tempfile
import time

from . import _app

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)

# Defaults for the settings the runtime reads, when Go leaves one out.
DEFAULTS = {
    "wsgi_app": None, "chdir": None, "pythonpath": None, "raw_env": [],
    "preload_app": False, "workers": 1, "threads": 1, "worker_class": "sync",
    "worker_connections": 1000, "max_requests": 0, "max_requests_jitter": 0,
    "timeout": 30, "graceful_timeout": 30, "keepalive": 2,
    "errorlog": "-", "loglevel": "info", "capture_output": False, "accesslog": None,
    "logconfig": None, "logconfig_dict": {}, "logconfig_json": None,
    "syslog": False, "syslog_addr": "udp://localhost:514", "syslog_prefix": None,
    "syslog_facility": "user", "proc_name": None, "default_proc_name": "gunicorn",
    "sendfile": None, "reload": False, "certfile": None, "keyfile": None,
    "user": None, "group": None, "umask": 0, "initgroups": False, "bind": ["127.0.0.1:8000"],
    "paste": None, "spew": False, "check_config": False, "print_config": False,
    "reload_engine": "auto", "reload_extra_files": [], "worker_tmp_dir": None,
}


def _noop(*args):
    pass


def _pre_request(worker, req):
    worker.log.debug("%s %s", req.method, req.path)


def _post_request(worker, req, environ, resp):
    pass


# name -> (arity, default). post_request accepts 2, 3 or 4 (see validate_post_request).
HOOKS = {
    "on_starting": (1, _noop),
    "on_reload": (1, _noop),
    "when_ready": (1, _noop),
    "pre_fork": (2, _noop),
    "post_fork": (2, _noop),
    "post_worker_init": (1, _noop),
    "worker_int": (1, _noop),
    "worker_abort": (1, _noop),
    "pre_exec": (1, _noop),
    "pre_request": (2, _pre_request),
    "post_request": (-1, _post_request),
    "child_exit": (2, _noop),
    "worker_exit": (2, _noop),
    "nworkers_changed": (3, _noop),
    "on_exit": (1, _noop),
    "ssl_context": (2, None),
}


class ConfigError(Exception):
    """A setting cannot be used; the message names the setting (exit code 1)."""


def get_arity(f):
    return sum(1 for p in inspect.signature(f).parameters.values() if p.kind in _POSITIONAL)


def validate_callable(val, arity):
    """gunicorn's validate_callable: import "pkg.mod.func" strings, check the arity."""
    if isinstance(val, str):
        try:
            mod_name, obj_name = val.rsplit(".", 1)
        except ValueError:
            raise TypeError("Value '%s' is not import string. "
                            "Format: module[.submodules...].object" % val)
        try:
            mod = __import__(mod_name, fromlist=[obj_name])
            val = getattr(mod, obj_name)
        except ImportError as e:
            raise TypeError(str(e))
        except AttributeError:
            raise TypeError("Can not load '%s' from '%s'" % (obj_name, mod_name))
    if not callable(val):
        raise TypeError("Value is not callable: %s" % val)
    if arity != -1 and arity != get_arity(val):
        raise TypeError("Value must have an arity of: %s" % arity)
    return val


def validate_post_request(val):
    val = validate_callable(val, -1)
    n = get_arity(val)
    if n == 4:
        return val
    if n == 3:
        return lambda worker, req, env, _r: val(worker, req, env)
    if n == 2:
        return lambda worker, req, _e, _r: val(worker, req)
    raise TypeError("Value must have an arity of: 4")


class Config:
    """Attribute access over the resolved settings dict, like gunicorn's ``Config``.

    Hooks come from, in order: a ``"pkg.mod.func"`` string in the settings, a callable
    of that name in the config module, else gunicorn's default.
    """

    def __init__(self, settings, module=None):
        self.__dict__["settings"] = dict(settings)
        self.__dict__["_module"] = module
        self.__dict__["_hooks"] = {}
        self.__dict__["default_hooks"] = set()
        for name, (arity, default) in HOOKS.items():
            val = settings.get(name)
            if not isinstance(val, str):
                val = getattr(module, name, None) if module is not None else None
                if val is not None and not callable(val):
                    val = None
            if val is None:
                self._hooks[name] = default
                self.default_hooks.add(name)
                continue
            try:
                if name == "post_request":
                    val = validate_post_request(val)
                else:
                    val = validate_callable(val, arity)
            except TypeError as e:
                raise ConfigError("Invalid value for %s: %s" % (name, e)) from None
            self._hooks[name] = val

    def __getattr__(self, name):
        hooks = self.__dict__["_hooks"]
        if name in hooks:
            return hooks[name]
        settings = self.__dict__["settings"]
        if name in settings:
            return settings[name]
        if name in DEFAULTS:
            return DEFAULTS[name]
        raise AttributeError("No configuration setting for: %s" % name)

    def __setattr__(self, name, value):
        if name in HOOKS:
            self._hooks[name] = value
            self.default_hooks.discard(name)
        else:
            self.settings[name] = value

    def set(self, name, value):
        setattr(self, name, value)

    def is_default_hook(self, name):
        return name in self.default_hooks

    @property
    def env(self):
        env = {}
        for e in self.raw_env or ():
            s = e.decode() if isinstance(e, bytes) else str(e)
            try:
                k, v = s.split("=", 1)
            except ValueError:
                raise RuntimeError("environment setting %r invalid" % s)
            env[k] = v
        return env

    @property
    def paste_global_conf(self):
        # gunicorn's property: --paste-global KEY=VALUE entries as a dict.
        conf = {}
        for e in self.settings.get("raw_paste_global_conf") or ():
            s = e.decode() if isinstance(e, bytes) else str(e)
            try:
                k, v = re.split(r"(?<!\\)=", s, 1)
            except ValueError:
                raise RuntimeError("environment setting %r invalid" % s)
            conf[k.replace("\\=", "=")] = v.replace("\\=", "=")
        return conf

    @property
    def worker_class_str(self):
        uri = self.worker_class
        if isinstance(uri, str):
            if (uri == "sync" or uri.endswith("SyncWorker")) and (self.threads or 1) > 1:
                return "gthread"
            return uri
        return getattr(uri, "__name__", str(uri))

    @property
    def proc_name(self):
        pn = self.settings.get("proc_name")
        return pn if pn is not None else self.default_proc_name

    @property
    def is_ssl(self):
        return bool(self.certfile or self.keyfile)

    @property
    def address(self):
        return list(self.bind or [])

    @property
    def uid(self):
        return _user_id(self.settings.get("user"))

    @property
    def gid(self):
        return _group_id(self.settings.get("group"))

    @property
    def sendfile(self):
        if self.settings.get("sendfile") is not None:
            # As gunicorn: any explicit value (--no-sendfile sets False) turns it off.
            return False
        if "SENDFILE" in os.environ:
            return os.environ["SENDFILE"].lower() in ("y", "1", "yes", "true")
        return True


class Application:
    """``server.app`` / ``worker.app``: loads and caches the callable, like gunicorn's."""

    def __init__(self, cfg, uri=None):
        self.cfg = cfg
        self.app_uri = uri if uri is not None else cfg.wsgi_app
        self.callable = None
        self.usage = None
        self.prog = None
        self.logger = None

    def chdir(self):
        if self.cfg.chdir:
            os.chdir(self.cfg.chdir)
            if self.cfg.chdir not in sys.path:
                sys.path.insert(0, self.cfg.chdir)

    def load(self):
        if not self.app_uri:
            raise _app.AppImportError("No application module specified.")
        if self.cfg.paste:
            # Go made app_uri the INI file's absolute path (and #section), as gunicorn does.
            return _app.load_paste_app(self.app_uri, self.cfg.paste_global_conf)
        return _app.import_app(self.app_uri)

    def wsgi(self):
        if self.callable is None:
            self.callable = self.load()
        return self.callable


class Server:
    """Stands in for gunicorn's Arbiter in master-side hooks (run in the zygote)."""

    def __init__(self, cfg, log, app):
        self.cfg = cfg
        self.log = log
        self.app = app
        self.pid = int(os.environ.get("GONICORN_MASTER_PID") or os.getpid())
        self.num_workers = cfg.workers
        self.WORKERS = {}
        self.LISTENERS = []
        self.worker_age = 0
        self.timeout = cfg.timeout
        self.master_name = "Master"
        self.reexec_pid = 0
        self.master_pid = 0

    @property
    def proc_name(self):
        return self.cfg.proc_name

    @property
    def worker_class(self):
        return self.cfg.worker_class

    def __repr__(self):
        return "<gonicorn.Server pid=%s>" % self.pid


class WorkerTmp:
    """gunicorn's per-worker temp file: ``wgunicorn-*`` in ``worker_tmp_dir`` (or the
    system tmp), unlinked at once, owned by the worker's user. Go watches the worker
    channel, not this file, but hooks and apps call ``worker.tmp.fileno()`` and
    ``worker.notify()``, so it is a real file whose mtime ``notify()`` moves."""

    def __init__(self, cfg):
        old_umask = os.umask(int(cfg.umask or 0))
        try:
            fdir = cfg.worker_tmp_dir
            if fdir and not os.path.isdir(fdir):
                raise RuntimeError("%s doesn't exist. Can't create workertmp. Create the "
                                   "directory or change --worker-tmp-dir." % fdir)
            fd, name = tempfile.mkstemp(prefix="wgunicorn-", dir=fdir or None)
        finally:
            os.umask(old_umask)
        try:
            # The worker drops to --user/--group after fork and must still touch it.
            if cfg.uid != os.geteuid() or cfg.gid != os.getegid():
                os.chown(name, cfg.uid, cfg.gid)
            os.unlink(name)
            self._tmp = os.fdopen(fd, "w+b", 0)
        except Exception:
            os.close(fd)
            raise

    def notify(self):
        new_time = time.monotonic()
        os.utime(self._tmp.fileno(), (new_time, new_time))

    def last_update(self):
        return os.fstat(self._tmp.fileno()).st_mtime

    def fileno(self):
        return self._tmp.fileno()

    def close(self):
        return self._tmp.close()


class NoWorkerTmp:
    """Stands in when the temp file could not be made in the zygote; the forked
    child raises ``error`` as its boot error (gunicorn fails the same way)."""

    def __init__(self, error):
        self.error = error

    def notify(self):
        pass

    def last_update(self):
        return 0.0

    def fileno(self):
        return -1

    def close(self):
        pass


def _owner_id(val, default, lookup, what):
    """A user or group given as an id, a digit string or a name (gunicorn's rule)."""
    if val is None:
        return default()
    if isinstance(val, int):
        return val
    val = str(val)
    if val.isdigit():
        return int(val)
    try:
        return lookup(val)
    except KeyError:
        raise ConfigError("No such %s: '%s'" % (what, val)) from None


def _user_id(val):
    return _owner_id(val, os.geteuid, lambda n: pwd.getpwnam(n).pw_uid, "user")


def _group_id(val):
    return _owner_id(val, os.getegid, lambda n: grp.getgrnam(n).gr_gid, "group")


def set_owner_process(uid, gid, initgroups=False):
    """gunicorn's util.set_owner_process: the group first (initgroups when asked and
    the uid has a name), then the user. Failures name the user and group and say
    what to do."""
    step = "group"
    try:
        if gid:
            username = None
            if uid:
                try:
                    username = pwd.getpwuid(uid).pw_name
                except KeyError:
                    initgroups = False
            if initgroups and username is not None:
                step = "supplementary groups of user %r" % username
                os.initgroups(username, gid)
                step = "group"
            # gunicorn skips setgid after initgroups, which leaves the worker in the
            # master's group (root's, usually); the group is always switched here.
            if gid != os.getgid():
                os.setgid(gid)
        step = "user"
        if uid and uid != os.getuid():
            os.setuid(uid)
    except OSError as e:
        raise RuntimeError(
            "Cannot switch the worker to user %s (uid %s), group %s (gid %s): setting the "
            "%s failed: %s. Start gonicorn as root to use --user/--group, or leave them "
            "unset." % (_name(uid, "pwd"), uid, _name(gid, "grp"), gid, step,
                        e.strerror or e)) from e


def _name(ident, kind):
    try:
        if kind == "pwd":
            return repr(pwd.getpwuid(ident).pw_name)
        return repr(grp.getgrgid(ident).gr_name)
    except (KeyError, OverflowError, TypeError):
        return "<no name>"


# Process titles, as gunicorn's util._setproctitle (skipped on macOS, where
# setproctitle is not fork-safe, and without the package). getproctitle() runs at
# import so the module sets itself up before anything edits os.environ.
_setproctitle = None
if sys.platform != "darwin":
    try:
        from setproctitle import getproctitle as _getproctitle, setproctitle as _spt
        _getproctitle()
        _setproctitle = _spt
    except ImportError:
        pass


def set_proc_title(title):
    """Title the process ``gonicorn: TITLE`` when setproctitle is importable."""
    if _setproctitle is not None:
        _setproctitle("gonicorn: %s" % title)


class Spew:
    """gunicorn's debug.Spew: print every traced line as ``module:lineno: source``."""

    def __init__(self, trace_names=None, show_values=True):
        self.trace_names = trace_names
        self.show_values = show_values

    def __call__(self, frame, event, arg):
        if event == "line":
            lineno = frame.f_lineno
            if "__file__" in frame.f_globals:
                filename = frame.f_globals["__file__"]
                if filename.endswith((".pyc", ".pyo")):
                    filename = filename[:-1]
                name = frame.f_globals["__name__"]
                line = linecache.getline(filename, lineno)
            else:
                name = "[unknown]"
                try:
                    src_lines, src_start = inspect.getsourcelines(frame)
                    line = src_lines[lineno - src_start]
                except (OSError, IndexError, TypeError):
                    line = "Unknown code named [%s].  VM instruction #%d" % (
                        frame.f_code.co_name, frame.f_lasti)
            if self.trace_names is None or name in self.trace_names:
                print("%s:%s: %s" % (name, lineno, line.rstrip()))
                if not self.show_values:
                    return self
                details = []
                for tok in _TOKEN_SPLITTER.split(line):
                    if tok in frame.f_globals:
                        details.append("%s=%r" % (tok, frame.f_globals[tok]))
                    if tok in frame.f_locals:
                        details.append("%s=%r" % (tok, frame.f_locals[tok]))
                if details:
                    print("\t%s" % " ".join(details))
        return self


_TOKEN_SPLITTER = re.compile(r"\W+")


def spew(trace_names=None, show_values=False):
    """gunicorn's debug.spew: trace every line to stdout. Threads started later
    (gthread's request pool) are traced too, so the app's lines show up."""
    import threading
    tracer = Spew(trace_names, show_values)
    sys.settrace(tracer)
    threading.settrace(tracer)


def logging_is_debug(log):
    return log.error_log.isEnabledFor(logging.DEBUG)
