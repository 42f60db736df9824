"""Worker construction and the forked child's life, as gunicorn's Arbiter.spawn_worker.

Exit codes: 0 normal, 1 after SIGABRT, 3 boot failure (WORKER_BOOT_ERROR),
4 app import failure (APP_LOAD_ERROR), 255 an error after boot.
"""

import atexit
import logging
import os
import signal
import sys
import traceback

from . import _app
from ._gthread import ThreadWorker
from ._sync import SyncWorker

# Worker class names the runtime serves itself. Others fall back, with a warning.
WORKER_CLASSES = {
    "sync": SyncWorker,
    "gunicorn.workers.sync.SyncWorker": SyncWorker,
    "gthread": ThreadWorker,
    "gunicorn.workers.gthread.ThreadWorker": ThreadWorker,
}


# Names served by the asgi worker (_asgi.py), imported only when used: it pulls in
# asyncio. The uvicorn names are mapped too, as internal/config/worker.go does.
ASGI_CLASSES = frozenset((
    "asgi", "#asgi", "egg:gunicorn#asgi", "gunicorn.workers.gasgi.ASGIWorker", "ASGIWorker",
    "uvicorn.workers.UvicornWorker", "uvicorn.workers.UvicornH11Worker",
    "uvicorn_worker.UvicornWorker", "uvicorn_worker.UvicornH11Worker",
    "UvicornWorker", "UvicornH11Worker"))

# Names served by the greenlet and event-loop workers: (module, class), imported only
# when used so that the zygote never imports gevent, eventlet, tornado or aiohttp.
# "egg:gunicorn#" and a leading "#" are stripped before the lookup.
OTHER_CLASSES = {
    "gevent": ("._ggevent", "GeventWorker"),
    "gevent_wsgi": ("._ggevent", "GeventWorker"),
    "gevent_pywsgi": ("._ggevent", "GeventWorker"),
    "gunicorn.workers.ggevent.GeventWorker": ("._ggevent", "GeventWorker"),
    "gunicorn.workers.ggevent.GeventPyWSGIWorker": ("._ggevent", "GeventWorker"),
    "GeventWorker": ("._ggevent", "GeventWorker"),
    "GeventPyWSGIWorker": ("._ggevent", "GeventWorker"),
    "eventlet": ("._geventlet", "EventletWorker"),
    "gunicorn.workers.geventlet.EventletWorker": ("._geventlet", "EventletWorker"),
    "EventletWorker": ("._geventlet", "EventletWorker"),
    "tornado": ("._gtornado", "TornadoWorker"),
    "gunicorn.workers.gtornado.TornadoWorker": ("._gtornado", "TornadoWorker"),
    "TornadoWorker": ("._gtornado", "TornadoWorker"),
    "aiohttp.worker.GunicornWebWorker": ("._gaiohttp", "AiohttpWorker"),
    "aiohttp.GunicornWebWorker": ("._gaiohttp", "AiohttpWorker"),
    "aiohttp.worker.GunicornTokioWebWorker": ("._gaiohttp", "AiohttpWorker"),
    "GunicornWebWorker": ("._gaiohttp", "AiohttpWorker"),
    "aiohttp.worker.GunicornUVLoopWebWorker": ("._gaiohttp", "AiohttpUVLoopWorker"),
    "aiohttp.GunicornUVLoopWebWorker": ("._gaiohttp", "AiohttpUVLoopWorker"),
    "GunicornUVLoopWebWorker": ("._gaiohttp", "AiohttpUVLoopWorker"),
}


def worker_class(cfg):
    name = cfg.worker_class_str
    # egg:gunicorn#NAME and #NAME name gunicorn's own classes.
    if name.startswith("egg:gunicorn#"):
        name = name[len("egg:gunicorn#"):]
    name = name.lstrip("#")
    cls = WORKER_CLASSES.get(name)
    if cls is not None:
        return cls, None
    if name in ASGI_CLASSES:
        from ._asgi import ASGIWorker
        return ASGIWorker, None
    other = OTHER_CLASSES.get(name)
    if other is not None:
        import importlib
        return getattr(importlib.import_module(other[0], __package__), other[1]), None
    fallback = ThreadWorker if (cfg.threads or 1) > 1 else SyncWorker
    return fallback, ("Worker class %r is not served by this runtime yet; using %s."
                      % (name, "gthread" if fallback is ThreadWorker else "sync"))


def make_worker(age, server, sock, worker_id):
    cls, _ = worker_class(server.cfg)
    return cls(age, server.pid, sock, server.app, server.cfg.timeout / 2.0,
               server.cfg, server.log, worker_id=worker_id)


def serve_asgi_apps(server, worker):
    """An ASGI app under a WSGI worker class is served by the asgi worker, with a
    warning; the app is loaded here (after post_fork) to find out which it is."""
    if getattr(worker, "loads_app_itself", False):
        return worker  # gevent/eventlet patch before the import; aiohttp factories look async
    app = server.app.wsgi()
    if worker.name in ("sync", "gthread") and _is_aiohttp_app(app):
        # The seed document's aiohttp app under sync fails every request in
        # gunicorn ("Application.__call__() takes 1 positional argument but 3
        # were given"); here it is served by the aiohttp worker instead.
        from ._gaiohttp import AiohttpWorker
        server.log.warning(
            "Application %r is an aiohttp app; serving it with the aiohttp worker class. Use "
            "-k aiohttp.worker.GunicornWebWorker to make this explicit.", server.app.app_uri)
        return AiohttpWorker(worker.age, worker.ppid, worker.sock, server.app, worker.timeout,
                             server.cfg, server.log, worker_id=worker.worker_id)
    if worker.name == "asgi" or _app.app_kind(app) != "asgi":
        return worker
    from ._asgi import ASGIWorker
    server.log.warning(
        "Application %r is an ASGI app; serving it with the asgi worker class. Use -k asgi "
        "(or -k uvicorn.workers.UvicornWorker) to make this explicit.", server.app.app_uri)
    return ASGIWorker.from_worker(worker)


def _is_aiohttp_app(app):
    t = type(app)
    return t.__name__ == "Application" and t.__module__.split(".")[0] == "aiohttp"


def _inits_like_base(cls):
    """True when cls.init_process reaches the base Worker's (which starts the
    reloader itself): every override on the way calls super()."""
    from ._worker import Worker
    for klass in cls.__mro__:
        fn = klass.__dict__.get("init_process")
        if fn is None:
            continue
        if klass is Worker:
            return True
        code = getattr(fn, "__code__", None)
        if code is None or "super" not in code.co_names:
            return False
    return False


def run_child(server, worker):
    """Run in the forked child; return the exit status."""
    try:
        signal.set_wakeup_fd(-1)
    except (ValueError, OSError):
        pass
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    from . import _server
    log = server.log
    cfg = server.cfg
    worker.pid = os.getpid()
    code = 0
    try:
        if cfg.spew:
            _server.spew()
        # Do not inherit the temporary files of other workers (gunicorn's spawn_worker).
        for sibling in list(server.WORKERS.values()):
            try:
                sibling.tmp.close()
            except Exception:
                pass
        if isinstance(worker.tmp, _server.NoWorkerTmp):
            raise worker.tmp.error
        _server.set_proc_title("worker [%s]" % cfg.proc_name)
        log.info("Booting worker with pid: %s", worker.pid)
        _, warning = worker_class(cfg)
        if warning:
            log.warning(warning)
        cfg.post_fork(server, worker)
        # As gunicorn's init_process: drop privileges before the app is imported.
        _server.set_owner_process(cfg.uid, cfg.gid, initgroups=cfg.initgroups)
        try:
            worker = serve_asgi_apps(server, worker)
        except SyntaxError:
            if not cfg.reload:
                raise
            # load_wsgi serves the traceback as a 500 until the file is fixed.
        if cfg.reload and not _inits_like_base(type(worker)):
            # Classes with their own init_process: watch from before the app loads.
            worker.setup_reloader()
            worker.start_reloader()
        worker.init_process()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except _app.AppImportError as e:
        log.debug("Exception while loading the application", exc_info=True)
        print("%s" % e, file=sys.stderr)
        sys.stderr.flush()
        code = _app.APP_LOAD_ERROR
    except BaseException as e:
        log.exception("Exception in worker process")
        print("%s" % e, file=sys.stderr)
        sys.stderr.flush()
        code = _app.WORKER_BOOT_ERROR if not worker.booted else 255
    finally:
        try:
            log.info("Worker exiting (pid: %s)", worker.pid)
            try:
                worker.tmp.close()
                cfg.worker_exit(server, worker)
            except Exception:
                log.warning("Exception during worker exit:\n%s", traceback.format_exc())
            # What interpreter exit would do: atexit handlers, then flushing logs.
            atexit._run_exitfuncs()
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
        except BaseException:
            pass
    return code
