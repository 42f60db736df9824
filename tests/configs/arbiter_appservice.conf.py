"""App Service's /opt/startup/gunicorn.conf.py pattern (oryx.md section 6), plus a marker
line for every server hook, for tests/e2e/test_arbiter_hooks.py.

Like the platform file it sets no settings, only hooks. on_starting (master side) builds a
multiprocessing Queue and Event and a collector thread; post_worker_init (each worker) starts
a thread that waits for the Event and then sends through the Queue it inherited across fork.
Every hook appends one JSON line to $ARBITER_HOOK_LOG: hook name, os.getpid(), os.getppid()
and what it received.
"""
import json
import multiprocessing
import os
import threading
import time

_MARKS = os.environ["ARBITER_HOOK_LOG"]
_state = {}


def mark(hook, **fields):
    fields.update(hook=hook, pid=os.getpid(), ppid=os.getppid())
    line = (json.dumps(fields, default=repr) + "\n").encode()
    fd = os.open(_MARKS, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)  # one write per line: O_APPEND keeps lines from processes whole
    finally:
        os.close(fd)


def on_starting(server):
    queue = multiprocessing.Queue()
    start_logging = multiprocessing.Event()

    def collector():  # the master-side end of the queue (App Service streams it to a socket)
        while True:
            msg = queue.get()
            mark("collected", msg=msg)

    def platform_client():  # App Service sets the event when its log client connects
        time.sleep(0.3)
        start_logging.set()

    threading.Thread(target=collector, name="appsvc-collector", daemon=True).start()
    threading.Thread(target=platform_client, name="appsvc-client", daemon=True).start()
    _state.update(queue=queue, event=start_logging)
    mark("on_starting", server_pid=server.pid, workers=server.cfg.workers)


def when_ready(server):
    mark("when_ready", server_pid=server.pid)


def on_reload(server):
    mark("on_reload", server_pid=server.pid)


def pre_fork(server, worker):
    mark("pre_fork", server_pid=server.pid, worker_pid=worker.pid, age=worker.age)


def post_fork(server, worker):
    mark("post_fork", server_pid=server.pid, worker_pid=worker.pid, age=worker.age)


def post_worker_init(worker):
    if "queue" not in _state:
        # A HUP re-reads this file (fresh globals) and runs on_reload, not on_starting; the
        # platform file catches every failure the same way.
        mark("post_worker_init", worker_pid=worker.pid, age=worker.age, ppid_attr=worker.ppid,
             queue=False)
        return
    queue, event = _state["queue"], _state["event"]

    def send_when_told():
        if event.wait(10):
            queue.put({"from_pid": os.getpid(), "what": "log handler attached"})
        else:
            mark("event_never_set")

    threading.Thread(target=send_when_told, name="appsvc-worker", daemon=True).start()
    mark("post_worker_init", worker_pid=worker.pid, age=worker.age, ppid_attr=worker.ppid)


def pre_request(worker, req):
    mark("pre_request", worker_pid=worker.pid, method=req.method, path=req.path)


def post_request(worker, req, environ, resp):
    mark("post_request", worker_pid=worker.pid, method=req.method, path=req.path,
         environ_path=environ.get("PATH_INFO"), status=str(resp.status))


def worker_int(worker):
    mark("worker_int", worker_pid=worker.pid)


def worker_abort(worker):
    mark("worker_abort", worker_pid=worker.pid)


def pre_exec(server):
    mark("pre_exec", server_pid=server.pid)


def child_exit(server, worker):
    mark("child_exit", server_pid=server.pid, worker_pid=worker.pid)


def worker_exit(server, worker):
    mark("worker_exit", server_pid=server.pid, worker_pid=worker.pid)


def nworkers_changed(server, new_value, old_value):
    # gunicorn's first call comes from Arbiter.setup, before on_starting and before
    # server.pid exists.
    mark("nworkers_changed", server_pid=getattr(server, "pid", None), new=new_value, old=old_value)


def on_exit(server):
    mark("on_exit", server_pid=server.pid)


def ssl_context(config, default_factory):
    ctx = default_factory()
    mark("ssl_context", ctx_type=type(ctx).__name__, certfile=config.certfile)
    return ctx
