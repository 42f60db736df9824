#!/usr/bin/env python3
"""Run gonicorn and its peers on the same apps in one run and print one table.

Started by bench/run, which provides the virtualenv and wrk. Every server is
started on a free loopback port, checked with one real request, warmed up,
loaded with wrk (keep-alive), measured, and stopped before the next one, so
the servers never compete with each other for the two cores. Stdlib only.

With --rounds N the whole list of (server, app) pairs is measured N times,
round by round, so that a slow minute of a shared machine lands on every
server instead of one; the table reports each pair's median round.

CPU and memory are read from /proc for the whole process tree of the server
(master/arbiter, zygote, workers), because a design that moves work out of
the workers into a front process must pay for that work in the same column.
"""

import argparse
import importlib.metadata
import os
import platform
import re
import resource
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
APPS_DIR = os.path.join(BENCH, "apps")
PIPELINE_LUA = os.path.join(BENCH, "pipeline.lua")
VENV = os.path.join(BENCH, ".venv")
VENV_BIN = os.path.join(VENV, "bin")
OUT_DIR = os.path.join(BENCH, ".out")
CLK_TCK = os.sysconf("SC_CLK_TCK")
HOST = "127.0.0.1"


@dataclass
class App:
    name: str
    module: str
    kind: str  # "wsgi" or "asgi" (ws_bench.py also "tornado", "aiohttp")
    expect: bytes  # must appear in the body of the readiness request
    baseline: str  # the WSGI app whose gunicorn-sync figure the ratio uses


APPS = {
    a.name: a
    for a in [
        App("wsgi", "wsgi_hello:app", "wsgi", b"Hello, World!", "wsgi"),
        App("flask", "flask_json:app", "wsgi", b'"message"', "flask"),
        App("asgi", "asgi_hello:app", "asgi", b"Hello, World!", "wsgi"),
        App("fastapi", "fastapi_json:app", "asgi", b'"message"', "flask"),
    ]
}


@dataclass
class Server:
    name: str
    default: bool  # part of a run without --only
    kinds: tuple  # app kinds it can serve
    build: object  # (app, port, args) -> argv


def _venv(tool):
    return os.path.join(VENV_BIN, tool)


def _gunicorn_like(binary, worker_class, extra=()):
    def build(app, port, args):
        argv = [binary(args), "-w", str(args.workers), "-k", worker_class]
        argv += list(extra(args) if callable(extra) else extra)
        return argv + ["-b", f"{HOST}:{port}", app.module]

    return build


def _gonicorn_bin(args):
    return args.gonicorn


def _gunicorn_bin(args):
    return _venv("gunicorn")


def _gonicorn_default(app, port, args):
    # The sync worker for WSGI apps and the asgi worker for ASGI apps, the
    # classes a user would pick for these apps with gunicorn's CLI.
    cls = "sync" if app.kind == "wsgi" else "asgi"
    return _gunicorn_like(_gonicorn_bin, cls)(app, port, args)


def _threads(args):
    return ["--threads", str(args.threads)]


def _uvicorn(app, port, args):
    return [
        _venv("uvicorn"), app.module, "--host", HOST, "--port", str(port),
        "--workers", str(args.workers), "--http", "httptools", "--loop", "uvloop",
        "--no-access-log", "--log-level", "warning",
    ]


def _granian(app, port, args):
    argv = [
        _venv("granian"), "--interface", app.kind, "--host", HOST, "--port", str(port),
        "--workers", str(args.workers), "--log-level", "warning", "--no-access-log",
    ]
    if app.kind == "asgi":
        argv += ["--loop", "uvloop"]
    return argv + [app.module]


SERVERS = [
    Server("gonicorn", True, ("wsgi", "asgi"), _gonicorn_default),
    Server("gunicorn-sync", True, ("wsgi",), _gunicorn_like(_gunicorn_bin, "sync")),
    Server("gunicorn-gthread", True, ("wsgi",), _gunicorn_like(_gunicorn_bin, "gthread", _threads)),
    Server("uvicorn", True, ("asgi",), _uvicorn),
    Server("granian", True, ("wsgi", "asgi"), _granian),
    # Opt-in with --only: more gunicorn worker classes and gonicorn's gthread.
    Server("gonicorn-pipeline", False, ("wsgi",), _gunicorn_like(_gonicorn_bin, "sync", ["--pipeline"])),
    Server("gonicorn-gthread", False, ("wsgi",), _gunicorn_like(_gonicorn_bin, "gthread", _threads)),
    Server("gunicorn-gevent", False, ("wsgi",), _gunicorn_like(_gunicorn_bin, "gevent")),
    Server("gunicorn-asgi", False, ("asgi",), _gunicorn_like(_gunicorn_bin, "asgi")),
    Server("gonicorn-asgi", False, ("asgi",), _gunicorn_like(_gonicorn_bin, "asgi")),
    Server("gonicorn-gevent", False, ("wsgi",), _gunicorn_like(_gonicorn_bin, "gevent")),
    Server("gunicorn-uvicorn", False, ("asgi",),
           _gunicorn_like(_gunicorn_bin, "uvicorn.workers.UvicornWorker")),
]
SERVER_BY_NAME = {s.name: s for s in SERVERS}


@dataclass
class Result:
    server: str
    app: str
    argv: list = field(default_factory=list)
    error: str = ""  # set when the server could not be measured
    rps: float = 0.0
    p50_us: float = 0.0
    p99_us: float = 0.0
    requests: int = 0
    seconds: float = 0.0
    errors: int = 0
    cpu_s: float = 0.0
    wrk_cpu_s: float = 0.0  # the load generator's own CPU time during the measurement
    rss_kib: int = 0
    procs: int = 0
    note: str = ""
    round: int = 1  # which round measured it (1-based)
    # Set by combine(): the rounds that measured something and their req/s spread.
    rounds: int = 1
    rps_min: float = 0.0
    rps_max: float = 0.0


# ---------------------------------------------------------------- /proc


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None


def _stat(pid):
    """(ppid, session, utime+stime ticks, starttime, state) or None if gone."""
    raw = _read(f"/proc/{pid}/stat")
    if raw is None:
        return None
    # comm may contain spaces and parentheses: split after the last ')'.
    rest = raw[raw.rfind(b")") + 2:].split()
    return int(rest[1]), int(rest[3]), int(rest[11]) + int(rest[12]), int(rest[19]), rest[0].decode()


def server_tree(root):
    """pid -> stat for root, its descendants, and anything left in its session.

    The session catches workers that were double-forked and reparented to
    init; the server was started in a new session whose id is root's pid.
    """
    stats = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            st = _stat(int(entry))
            if st is not None:
                stats[int(entry)] = st
    children = {}
    for pid, st in stats.items():
        children.setdefault(st[0], []).append(pid)
    tree, todo = {}, [root]
    while todo:
        pid = todo.pop()
        if pid in stats and pid not in tree:
            tree[pid] = stats[pid]
            todo.extend(children.get(pid, ()))
    for pid, st in stats.items():
        if st[1] == root and pid != os.getpid():
            tree.setdefault(pid, st)
    return tree


def cpu_ticks(root):
    """(pid, starttime) -> utime+stime ticks; the key survives pid reuse."""
    return {(pid, st[3]): st[2] for pid, st in server_tree(root).items()}


def rss_kib(pids):
    total = 0
    for pid in pids:
        raw = _read(f"/proc/{pid}/status")
        m = raw and re.search(rb"^VmRSS:\s+(\d+) kB", raw, re.M)
        if m:
            total += int(m.group(1))
    return total


class RssSampler(threading.Thread):
    """Samples the summed VmRSS of the server tree until stopped; keeps the peak."""

    def __init__(self, root, interval=0.25):
        super().__init__(daemon=True)
        self.root, self.interval = root, interval
        self.peak, self.procs = 0, 0
        self._done = threading.Event()

    def run(self):
        pids, rescan = [], 0.0
        while not self._done.is_set():
            now = time.monotonic()
            if now >= rescan:  # a full /proc scan costs more than reading known pids
                pids, rescan = list(server_tree(self.root)), now + 1.0
            self.procs = max(self.procs, len(pids))
            self.peak = max(self.peak, rss_kib(pids))
            self._done.wait(self.interval)

    def stop(self):
        self._done.set()
        self.join(timeout=5)


# ---------------------------------------------------------------- servers


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def server_env():
    env = dict(os.environ)
    # Settings from the caller's environment would make servers differ.
    for key in list(env):
        if key.startswith(("GUNICORN_", "GONICORN_", "GRANIAN_", "UVICORN_", "WEB_CONCURRENCY")):
            del env[key]
    env["VIRTUAL_ENV"] = VENV
    env["PATH"] = VENV_BIN + os.pathsep + env.get("PATH", "")
    env["PYTHONPATH"] = APPS_DIR
    return env


def log_tail(path, lines=3):
    raw = _read(path) or b""
    tail = [l.strip() for l in raw.decode("utf-8", "replace").splitlines() if l.strip()]
    return " | ".join(tail[-lines:]) or "no output"


def wait_ready(proc, port, app, timeout, log_path):
    """None when the server answered 200 with the app's body, else the reason."""
    deadline = time.monotonic() + timeout
    url = f"http://{HOST}:{port}/"
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            return f"exited with status {code} before answering: {log_tail(log_path)}"
        try:
            req = urllib.request.Request(url, headers={"Connection": "close"})
            with urllib.request.urlopen(req, timeout=2) as resp:
                body = resp.read()
            if app.expect in body:
                return None
            return f"GET / answered 200 but the body lacks {app.expect!r}: {body[:80]!r}"
        except urllib.error.HTTPError as e:
            return f"GET / answered {e.code}: {log_tail(log_path)}"
        except (OSError, urllib.error.URLError):
            time.sleep(0.1)
    return f"not answering on {HOST}:{port} after {timeout:g} s: {log_tail(log_path)}"


def stop_server(proc, grace=10.0):
    """SIGTERM the master; SIGKILL whatever of its tree is left after grace seconds."""
    root = proc.pid
    if proc.poll() is None:
        try:
            proc.send_signal(signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            pass
    left = _alive(root)
    if proc.poll() is not None:
        # Workers of a master that is gone may still be finishing their exit.
        deadline = time.monotonic() + grace / 2
        while left and time.monotonic() < deadline:
            time.sleep(0.1)
            left = _alive(root)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 5  # SIGKILL is delivered asynchronously
    while _alive(root) and time.monotonic() < deadline:
        time.sleep(0.05)


def _alive(root):
    """Pids of the server tree that are not zombies (a zombie cannot be killed)."""
    return {pid for pid, st in server_tree(root).items() if st[4] != "Z"}


# ---------------------------------------------------------------- wrk

_UNITS_US = {"us": 1.0, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}


def _to_us(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    return float(m.group(1)) * _UNITS_US[m.group(2)] if m else float("nan")


def parse_wrk(out):
    """Requests/sec, p50, p99, requests, seconds and error count from wrk --latency."""
    r = {}
    m = re.search(r"^Requests/sec:\s+([\d.]+)", out, re.M)
    r["rps"] = float(m.group(1)) if m else 0.0
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}%\s+(\S+)", out, re.M)
        r[f"p{pct}_us"] = _to_us(m.group(1)) if m else float("nan")
    m = re.search(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m)", out, re.M)
    r["requests"] = int(m.group(1)) if m else 0
    r["seconds"] = _to_us(m.group(2) + m.group(3)) / 1e6 if m else 0.0
    errors = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        errors += sum(int(g) for g in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        errors += int(m.group(1))
    r["errors"] = errors
    return r


def wrk_argv(args, port, duration, latency):
    if not isinstance(duration, str):
        duration = f"{duration:g}"
    argv = ["wrk", f"-t{args.wrk_threads}", f"-c{args.connections}", f"-d{duration}s"]
    if latency:
        argv.append("--latency")
    if args.wrk_pipeline > 1:
        script = os.path.relpath(PIPELINE_LUA, ROOT) if port == "PORT" else PIPELINE_LUA
        return argv + ["-s", script, f"http://{HOST}:{port}/", "--", str(args.wrk_pipeline)]
    return argv + [f"http://{HOST}:{port}/"]


def run_wrk(argv, duration):
    """wrk's output and the CPU seconds wrk itself used (user + system)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 30, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError(f"wrk exited with status {p.returncode}: {p.stderr.strip() or p.stdout.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return p.stdout, cpu


# ---------------------------------------------------------------- one measurement


def measure(server, app, args, env, round_no=1):
    port = free_port()
    argv = server.build(app, port, args)
    res = Result(server.name, app.name, argv=argv, round=round_no)
    if server.name.startswith("gonicorn") and args.gonicorn_missing:
        res.error = args.gonicorn_missing
        return res
    os.makedirs(OUT_DIR, exist_ok=True)
    # One log per round, so a round's note points at that round's output.
    suffix = f"-r{round_no}" if getattr(args, "rounds", 1) > 1 else ""
    log_name = f"{server.name}-{app.name}{suffix}.log"
    log_path = os.path.join(OUT_DIR, log_name)
    with open(log_path, "wb") as log:
        try:
            proc = subprocess.Popen(argv, cwd=APPS_DIR, env=env, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            res.error = f"cannot start {argv[0]}: {e.strerror}"
            return res
    sampler = None
    try:
        reason = wait_ready(proc, port, app, args.start_timeout, log_path)
        if reason:
            res.error = reason
            return res
        sampler = RssSampler(proc.pid)
        sampler.start()
        if args.warmup > 0:
            run_wrk(wrk_argv(args, port, args.warmup, False), args.warmup)
        before = cpu_ticks(proc.pid)
        out, res.wrk_cpu_s = run_wrk(wrk_argv(args, port, args.duration, True), args.duration)
        after = cpu_ticks(proc.pid)
        sampler.stop()
        gone = [k for k in before if k not in after]
        ticks = sum(t - before.get(k, 0) for k, t in after.items())
        for k, v in parse_wrk(out).items():
            setattr(res, k, v)
        if args.wrk_pipeline > 1:
            # wrk times only the first request of each pipelined batch.
            res.p50_us = res.p99_us = float("nan")
        res.cpu_s = ticks / CLK_TCK
        res.rss_kib, res.procs = sampler.peak, sampler.procs
        notes = []
        if gone:
            notes.append(f"{len(gone)} server process(es) exited during the load; their CPU is missing")
        if proc.poll() is not None:
            notes.append(f"server exited (status {proc.returncode}) during the load: {log_tail(log_path)}")
        if res.requests == 0:
            res.error = f"wrk completed no request: {' | '.join(out.strip().splitlines()[-2:])}"
        elif res.errors > res.requests // 100:
            # wrk counts error responses in Requests/sec: a server failing fast looks fast.
            notes.append(f"{res.errors} errors in {res.requests} requests: req/s counts them; "
                         f"see bench/.out/{log_name}")
        res.note = "; ".join(notes)
        return res
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
        res.error = str(e)
        return res
    finally:
        # Stop the server first: nothing that fails here may leave it running.
        stop_server(proc)
        if sampler is not None:
            sampler.stop()


# ---------------------------------------------------------------- report


def _cmd_out(argv):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=15, check=False)
        return (p.stdout + p.stderr).strip().splitlines()[0] if (p.stdout + p.stderr).strip() else "?"
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"not available ({e.__class__.__name__})"


def machine_lines(args):
    model = "?"
    for line in (_read("/proc/cpuinfo") or b"").decode().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    pkgs = []
    for name in ("gunicorn", "flask", "uvicorn", "httptools", "uvloop", "granian", "fastapi", "gevent", "h2",
                 "tornado", "aiohttp"):
        try:
            pkgs.append(f"{name} {importlib.metadata.version(name)}")
        except importlib.metadata.PackageNotFoundError:
            pkgs.append(f"{name} missing")
    mem_kib = int(re.search(rb"MemTotal:\s+(\d+)", _read("/proc/meminfo") or b"MemTotal: 0").group(1))
    return [
        f"- date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"- nproc: {os.cpu_count()} ({len(os.sched_getaffinity(0))} usable); CPU: {model}; "
        f"memory: {mem_kib / 1048576:.0f} GiB",
        f"- kernel: {platform.system()} {platform.release()}",
        f"- Python: {platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        f"- Go: {_cmd_out(['go', 'version'])}",
        f"- wrk: {_cmd_out(['wrk', '-v'])}",
        f"- packages: {', '.join(pkgs)}",
        f"- gonicorn: {args.gonicorn_missing or _cmd_out([args.gonicorn, '--version'])}",
        f"- load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]


def fmt_us(us):
    if us != us:  # NaN
        return "?"
    return f"{us / 1000:.2f} ms" if us >= 1000 else f"{us:.0f} µs"


def combine(rounds):
    """One table row from the rounds of one (server, app) pair.

    req/s is the median over the rounds that measured something. The other
    columns are taken whole from one real round, the one whose req/s is the
    median (the slower of the two middle ones when their number is even), so
    that latency, CPU and RSS stay figures of one measurement that agree with
    each other. Errors are summed over the rounds: one bad round must show.
    """
    ok = sorted((r for r in rounds if not r.error), key=lambda r: r.rps)  # stable: ties keep round order
    errors = sum(r.errors for r in rounds)
    if not ok:
        res = replace(rounds[0], rounds=0, errors=errors)
        reasons = list(dict.fromkeys(r.error for r in rounds))
        if len(reasons) > 1:
            res.error = "; ".join(f"round {r.round}: {r.error}" for r in rounds)
        return res
    res = replace(ok[(len(ok) - 1) // 2], rounds=len(ok), errors=errors)
    res.rps = statistics.median(r.rps for r in ok)
    res.rps_min, res.rps_max = ok[0].rps, ok[-1].rps
    if len(rounds) > 1:
        notes = []
        for r in sorted(rounds, key=lambda r: r.round):
            text = f"not available ({r.error})" if r.error else r.note
            if text:
                notes.append(f"round {r.round}: {text}")
        res.note = "; ".join(notes)
    return res


def table(results, args):
    n = getattr(args, "rounds", 1)
    base = {r.app: r.rps for r in results if r.server == "gunicorn-sync" and not r.error and r.rps}
    head = ["server", "app", "req/s"] + (["req/s range"] if n > 1 else []) + [
        "p50", "p99", "CPU µs/req", "CPU %", "wrk CPU µs/req", "peak RSS MiB (procs)", "errors", "× gunicorn sync"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        if r.error:
            rows.append(f"| {r.server} | {r.app} | not available |" + " |" * (len(head) - 3))
            continue
        spread = ""
        if n > 1:
            short = f" ({r.rounds} of {n} rounds)" if r.rounds < n else ""
            spread = f" {r.rps_min:,.0f}–{r.rps_max:,.0f}{short} |"
        b = base.get(APPS[r.app].baseline)
        ratio = "?" if not b else f"{r.rps / b:.2f}" + ("" if APPS[r.app].baseline == r.app else " †")
        cpu_us = r.cpu_s * 1e6 / r.requests if r.requests else float("nan")
        cpu_pct = 100 * r.cpu_s / r.seconds if r.seconds else float("nan")
        wrk_us = r.wrk_cpu_s * 1e6 / r.requests if r.requests else float("nan")
        rows.append(
            f"| {r.server} | {r.app} | {r.rps:,.0f} |{spread} {fmt_us(r.p50_us)} | {fmt_us(r.p99_us)} | "
            f"{cpu_us:.0f} | {cpu_pct:.0f} | {wrk_us:.0f} | {r.rss_kib / 1024:.1f} ({r.procs}) | {r.errors} | {ratio} |"
        )
    return rows


def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="bench/run",
        description="Benchmark gonicorn against gunicorn, uvicorn and granian on this machine.",
    )
    p.add_argument("--duration", type=float, default=10, help="measured seconds per server and app (10)")
    p.add_argument("--warmup", type=float, default=2, help="unmeasured seconds of load before it (2)")
    p.add_argument("--connections", type=int, default=32, help="wrk connections, kept alive (32)")
    p.add_argument("--wrk-threads", type=int, default=1, help="wrk threads (1)")
    p.add_argument("--wrk-pipeline", type=int, default=1,
                   help="requests each wrk connection sends in one write (HTTP/1.1 pipelining, "
                        "bench/pipeline.lua); above 1, wrk's own CPU per request drops (1)")
    p.add_argument("--workers", type=int, default=1, help="worker processes for every server (1)")
    p.add_argument("--threads", type=int, default=4, help="threads per gthread worker (4)")
    p.add_argument("--only", default="", help="comma-separated servers to run: " + ", ".join(SERVER_BY_NAME))
    p.add_argument("--apps", default=",".join(APPS), help="comma-separated apps: " + ", ".join(APPS))
    p.add_argument("--gonicorn", default=os.path.join(ROOT, "bin", "gonicorn"), help="gonicorn binary")
    p.add_argument("--build", action="store_true", help="go build -o bin/gonicorn ./cmd/gonicorn first")
    p.add_argument("--start-timeout", type=float, default=20, help="seconds a server gets to answer (20)")
    p.add_argument("--rounds", type=int, default=1,
                   help="wrk mode: measure every server and app this many times, round by round, "
                        "and report the median (1)")
    p.add_argument("--mode", choices=("wrk", "h2", "overload"), default="wrk",
                   help="wrk: the table above (default); h2: HTTP/2 over TLS with h2load; "
                        "overload: open-loop load at --factor x capacity with a sleeping app")
    p.add_argument("--h2-connections", type=int, default=4, help="h2 mode: h2load connections (4; see docs/benchmarks.md)")
    p.add_argument("--h2-streams", type=int, default=8, help="h2 mode: concurrent streams per connection (8)")
    p.add_argument("--sleep", type=float, default=0.02, help="overload mode: seconds per request (0.02)")
    p.add_argument("--factor", type=float, default=2, help="overload mode: offered load / capacity (2)")
    p.add_argument("--queue-timeout", type=float, default=0.5,
                   help="overload mode: gonicorn's --queue-timeout (0.5)")
    p.add_argument("--request-deadline", type=float, default=30,
                   help="overload mode: seconds the client waits for one answer (30)")
    import ws_bench  # --ws and its options (WebSocket echo mode)
    ws_bench.add_args(p)
    args = p.parse_args(argv)
    if args.rounds < 1:
        p.error(f"--rounds {args.rounds}: must be 1 or more")
    if args.rounds != 1 and (args.ws or args.mode != "wrk"):
        p.error(f"--rounds {args.rounds}: only the wrk mode measures in rounds; "
                f"drop --rounds with {'--ws' if args.ws else '--mode ' + args.mode}")
    if args.ws:
        args.servers, args.app_list = [], []  # ws_bench.py resolves --only itself
        return args
    if args.mode != "wrk":
        # front_bench.py resolves --only against its own servers.
        args.servers, args.app_list = [], []
        for name in ("duration", "workers", "threads", "h2_connections", "h2_streams", "sleep", "factor",
                     "start_timeout", "request_deadline"):
            if getattr(args, name) <= 0:
                p.error(f"--{name.replace('_', '-')} {getattr(args, name)}: must be greater than 0")
        return args
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in SERVER_BY_NAME]
    if unknown:
        p.error(f"--only {','.join(unknown)}: unknown server; choose from {', '.join(SERVER_BY_NAME)}")
    args.servers = [SERVER_BY_NAME[n] for n in names] if names else [s for s in SERVERS if s.default]
    args.app_list = [a.strip() for a in args.apps.split(",") if a.strip()]
    bad = [a for a in args.app_list if a not in APPS]
    if bad or not args.app_list:
        p.error(f"--apps {args.apps!r}: unknown app {','.join(bad)}; choose from {', '.join(APPS)}")
    for name in ("duration", "connections", "workers", "threads", "wrk_threads", "wrk_pipeline", "start_timeout"):
        if getattr(args, name) <= 0:
            p.error(f"--{name.replace('_', '-')} {getattr(args, name)}: must be greater than 0")
    if args.warmup < 0:
        p.error(f"--warmup {args.warmup}: must be 0 or more")
    for name in ("duration", "warmup"):
        value = getattr(args, name)
        if value != int(value):
            # wrk parses -d as an integer with a unit and prints its usage for -d0.5s.
            p.error(f"--{name} {value:g}: wrk takes whole seconds; use {int(value)} or {int(value) + 1}")
    if args.connections < args.wrk_threads:
        p.error(f"--connections {args.connections} is below --wrk-threads {args.wrk_threads}; wrk needs at least one per thread")
    return args


def gonicorn_status(args):
    """None when the binary can be tried, else why gonicorn is not available."""
    if args.build:
        try:
            p = subprocess.run(["go", "build", "-o", args.gonicorn, "./cmd/gonicorn"], cwd=ROOT,
                               capture_output=True, text=True, timeout=600, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"go build failed to run: {e}"
        if p.returncode != 0:
            first = (p.stderr.strip().splitlines() or ["no output"])[0]
            return f"go build ./cmd/gonicorn failed: {first}"
    if not os.path.isfile(args.gonicorn):
        rel = os.path.relpath(args.gonicorn, ROOT) if args.gonicorn.startswith(ROOT + os.sep) else args.gonicorn
        return f"{rel} not found; build it from the repo root with `go build -o bin/gonicorn ./cmd/gonicorn` or pass --build"
    if not os.access(args.gonicorn, os.X_OK):
        return f"{args.gonicorn} is not executable"
    return None


def main(argv):
    args = parse_args(argv)
    args.gonicorn = os.path.abspath(args.gonicorn)
    args.gonicorn_missing = None
    if args.ws:
        import ws_bench
        return ws_bench.main(args, argv)
    if args.mode != "wrk":
        import front_bench  # HTTP/2 and overload modes (docs/benchmarks.md)
        return front_bench.main(args, argv)
    if any(s.name.startswith("gonicorn") for s in args.servers):
        args.gonicorn_missing = gonicorn_status(args)
    env = server_env()
    plan = [(s, APPS[a]) for a in args.app_list for s in args.servers if APPS[a].kind in s.kinds]
    if not plan:
        print("bench: no server in --only serves the apps in --apps; nothing to run", file=sys.stderr)
        return 2
    machine = machine_lines(args)
    # Round by round rather than pair by pair: a noisy minute then hits one
    # round of every server, and the median drops it.
    per_pair = [[] for _ in plan]
    total, step = len(plan) * args.rounds, 0
    for rnd in range(1, args.rounds + 1):
        for i, (server, app) in enumerate(plan):
            step += 1
            tag = f"[{step}/{total}]" + (f" round {rnd}/{args.rounds}" if args.rounds > 1 else "")
            print(f"bench: {tag} {server.name} {app.name} ...", file=sys.stderr, flush=True)
            r = measure(server, app, args, env, rnd)
            per_pair[i].append(r)
            msg = f"not available ({r.error})" if r.error else f"{r.rps:,.0f} req/s"
            print(f"bench:   {msg}", file=sys.stderr, flush=True)
    results = [combine(rounds) for rounds in per_pair]

    print("## Machine\n")
    print("\n".join(machine))
    print(f"- load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"\n## Results (wrk -t{args.wrk_threads} -c{args.connections}"
          + (f", {args.wrk_pipeline} pipelined requests per connection" if args.wrk_pipeline > 1 else "")
          + f", {args.duration:g} s after "
          f"{args.warmup:g} s warm-up, {args.workers} worker(s)"
          + (f", median of {args.rounds} rounds" if args.rounds > 1 else "") + ")\n")
    print("\n".join(table(results, args)))
    # One note per distinct reason: a missing binary fails every app the same way.
    by_reason = {}
    for r in results:
        text = f"not available ({r.error})" if r.error else r.note
        if text:
            by_reason.setdefault((r.server, text), []).append(r.app)
    notes = [f"{srv} ({', '.join(apps)}): {text}" for (srv, text), apps in by_reason.items()]
    if args.wrk_pipeline > 1:
        notes.insert(0, f"--wrk-pipeline {args.wrk_pipeline}: each connection sends {args.wrk_pipeline} "
                        "requests in one write (bench/pipeline.lua); wrk times only the first of each "
                        "batch, so p50 and p99 are not measured (?).")
    if args.rounds > 1:
        notes.insert(0, f"Every server/app pair was measured {args.rounds} times, round by round. req/s is the "
                        "median of the rounds and req/s range the lowest–highest round; p50, p99, CPU µs/req, "
                        "CPU % and peak RSS are those of the round whose req/s is the median (with an even "
                        "number of rounds, the slower of the two middle ones); errors are summed over the "
                        "rounds; × gunicorn sync divides the medians.")
    base = {r.app for r in results if r.server == "gunicorn-sync" and not r.error and r.rps}
    shown = [r for r in results if not r.error]
    if any(APPS[r.app].baseline != r.app and APPS[r.app].baseline in base for r in shown):
        notes.append("† ASGI apps are compared with gunicorn sync on their WSGI counterpart "
                     "(asgi → wsgi, fastapi → flask).")
    if any(APPS[r.app].baseline not in base for r in shown):
        notes.append("? in the last column: this run has no gunicorn-sync figure for the app "
                     "(or its WSGI counterpart) to compare with.")
    if notes:
        print()
        for n in notes:
            print(f"- {n}")
    # The line the brief asks for when gonicorn could not be measured at all.
    gon = [r for r in results if r.server.startswith("gonicorn")]
    if gon and all(r.error for r in gon):
        print(f"\ngonicorn: not available ({gon[0].error})")

    print("\n## Commands\n")
    print(f"Servers run in {os.path.relpath(APPS_DIR, ROOT)}/ with "
          f"PATH={os.path.relpath(VENV_BIN, ROOT)}:$PATH VIRTUAL_ENV={os.path.relpath(VENV, ROOT)} "
          f"PYTHONPATH={os.path.relpath(APPS_DIR, ROOT)}; PORT is a free loopback port.\n")
    print("```")
    print(f"bench/run {' '.join(shlex.quote(a) for a in argv)}".rstrip())
    seen = set()
    for r in results:
        cmd = " ".join(shlex.quote(os.path.relpath(a, ROOT) if a.startswith(ROOT) else a) for a in r.argv)
        cmd = re.sub(r"\b127\.0\.0\.1:\d+\b", "127.0.0.1:PORT", cmd)
        cmd = re.sub(r"--port \d+", "--port PORT", cmd)
        if cmd not in seen:
            seen.add(cmd)
            print(cmd)
    print(" ".join(wrk_argv(args, "PORT", args.warmup, False)) + "   # warm-up, not measured")
    print(" ".join(wrk_argv(args, "PORT", args.duration, True)) + "   # measured")
    if args.rounds > 1:
        print(f"# --rounds {args.rounds}: the servers and wrk runs above, repeated for every pair in each round")
    print("```")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
