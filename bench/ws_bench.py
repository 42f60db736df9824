"""bench.py's WebSocket mode: echo messages per second (`bench/run --ws`).

Each server runs bench/apps/asgi_ws_echo.py with one worker: gonicorn -k asgi, gunicorn's
own asgi worker, uvicorn (httptools, uvloop, websockets) and granian (uvloop). The client is
one asyncio process (uvloop, the `websockets` package from bench/.venv): --ws-connections
connections, each sends --ws-messages text messages of --ws-size bytes and reads the echoes,
keeping --ws-window messages in flight. Measured: echoed messages per second over the whole
run (after one unmeasured warm-up pass of 10 % of the messages), the server tree's CPU per
message and peak RSS. Compression is off on both sides (`compression=None` in the client), so
the figure is framing and scheduling, not zlib. Servers start and stop with bench.py's helpers.

The tunnel rows (only with --only) run apps that speak RFC 6455 themselves, under gonicorn's
byte tunnel (docs/protocol.md "Tunnels") and under gunicorn's own worker for the same
framework: bench/apps/tornado_ws_echo.py with -k tornado (gonicorn-tornado, gunicorn-tornado)
and bench/apps/aiohttp_ws_echo.py with -k aiohttp.worker.GunicornWebWorker (gonicorn-aiohttp,
gunicorn-aiohttp).
"""

import asyncio
import os
import re
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass, field

import bench
from bench import HOST


APP = bench.App("ws", "asgi_ws_echo:app", "asgi", b"Hello, World!", "wsgi")
TORNADO_APP = bench.App("ws-tornado", "tornado_ws_echo:app", "tornado", b"Hello, World!", "wsgi")
AIOHTTP_APP = bench.App("ws-aiohttp", "aiohttp_ws_echo:app", "aiohttp", b"Hello, World!", "wsgi")
AIOHTTP_WORKER = "aiohttp.worker.GunicornWebWorker"


@dataclass
class WsServer:
    name: str
    default: bool
    build: object  # (port, args) -> argv
    app: bench.App = field(default_factory=lambda: APP)


@dataclass
class WsResult:
    server: str
    argv: list = field(default_factory=list)
    error: str = ""
    messages: int = 0
    seconds: float = 0.0
    mps: float = 0.0
    cpu_s: float = 0.0
    rss_kib: int = 0
    procs: int = 0
    note: str = ""


def _gunicorn_like(binary, cls, app=APP):
    def build(port, args):
        return [binary(args), "-w", str(args.workers), "-k", cls, "-b", f"{HOST}:{port}", app.module]
    return build


SERVERS = [
    WsServer("gonicorn", True, _gunicorn_like(bench._gonicorn_bin, "asgi")),
    WsServer("uvicorn", True, lambda port, args: bench._uvicorn(APP, port, args) + ["--ws", "websockets"]),
    WsServer("granian", True, lambda port, args: bench._granian(APP, port, args)),
    WsServer("gunicorn-asgi", False, _gunicorn_like(bench._gunicorn_bin, "asgi")),
    # gunicorn 27 still ships -k tornado (gunicorn.workers.gtornado); aiohttp brings its own
    # gunicorn worker class, which gonicorn accepts under the same name.
    WsServer("gonicorn-tornado", False, _gunicorn_like(bench._gonicorn_bin, "tornado", TORNADO_APP),
             TORNADO_APP),
    WsServer("gunicorn-tornado", False, _gunicorn_like(bench._gunicorn_bin, "tornado", TORNADO_APP),
             TORNADO_APP),
    WsServer("gonicorn-aiohttp", False, _gunicorn_like(bench._gonicorn_bin, AIOHTTP_WORKER, AIOHTTP_APP),
             AIOHTTP_APP),
    WsServer("gunicorn-aiohttp", False, _gunicorn_like(bench._gunicorn_bin, AIOHTTP_WORKER, AIOHTTP_APP),
             AIOHTTP_APP),
]


def add_args(p):
    p.add_argument("--ws", action="store_true",
                   help="WebSocket echo mode: messages per second (see docs/benchmarks.md); "
                        "--only picks from " + ", ".join(s.name for s in SERVERS))
    p.add_argument("--ws-connections", type=int, default=16, help="--ws: client connections (16)")
    p.add_argument("--ws-messages", type=int, default=5000, help="--ws: messages per connection (5000)")
    p.add_argument("--ws-size", type=int, default=64, help="--ws: bytes per message (64)")
    p.add_argument("--ws-window", type=int, default=8, help="--ws: messages in flight per connection (8)")


async def _one(url, n, payload, window):
    from websockets.asyncio.client import connect
    async with connect(url, compression=None, max_queue=None, open_timeout=10,
                       ping_interval=None) as ws:
        sent = got = 0
        while got < n:
            while sent < n and sent - got < window:
                await ws.send(payload)
                sent += 1
            reply = await ws.recv()
            if len(reply) != len(payload):
                raise RuntimeError(f"echo of {len(payload)} bytes came back as {len(reply)}")
            got += 1
    return got


async def _run(port, conns, n, size, window):
    url = f"ws://{HOST}:{port}/ws"
    payload = "x" * size
    t0 = time.perf_counter()
    counts = await asyncio.gather(*[_one(url, n, payload, window) for _ in range(conns)])
    return sum(counts), time.perf_counter() - t0


def run_client(port, args, n):
    try:
        import uvloop
        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    return runner(_run(port, args.ws_connections, n, args.ws_size, args.ws_window))


def measure(server, args, env):
    port = bench.free_port()
    argv = server.build(port, args)
    res = WsResult(server.name, argv=argv)
    if server.name.startswith("gonicorn") and args.gonicorn_missing:
        res.error = args.gonicorn_missing
        return res
    os.makedirs(bench.OUT_DIR, exist_ok=True)
    log_path = os.path.join(bench.OUT_DIR, f"ws-{server.name}.log")
    with open(log_path, "wb") as log:
        try:
            proc = subprocess.Popen(argv, cwd=bench.APPS_DIR, env=env, stdin=subprocess.DEVNULL,
                                    stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        except OSError as e:
            res.error = f"cannot start {argv[0]}: {e.strerror}"
            return res
    sampler = None
    try:
        reason = bench.wait_ready(proc, port, server.app, args.start_timeout, log_path)
        if reason:
            res.error = reason
            return res
        sampler = bench.RssSampler(proc.pid)
        sampler.start()
        run_client(port, args, max(1, args.ws_messages // 10))  # warm-up
        before = bench.cpu_ticks(proc.pid)
        res.messages, res.seconds = run_client(port, args, args.ws_messages)
        after = bench.cpu_ticks(proc.pid)
        sampler.stop()
        res.mps = res.messages / res.seconds if res.seconds else 0.0
        res.cpu_s = sum(t - before.get(k, 0) for k, t in after.items()) / bench.CLK_TCK
        res.rss_kib, res.procs = sampler.peak, sampler.procs
        if proc.poll() is not None:
            res.note = f"server exited (status {proc.returncode}) during the load: {bench.log_tail(log_path)}"
        return res
    except Exception as e:  # a client error is the server's failure to echo: report it
        res.error = f"{type(e).__name__}: {e} ({bench.log_tail(log_path)})"
        return res
    finally:
        bench.stop_server(proc)
        if sampler is not None:
            sampler.stop()


def table(results):
    rows = ["| server | msgs/s | CPU µs/msg | CPU % | RSS MiB (procs) | vs uvicorn |",
            "|---|---:|---:|---:|---:|---:|"]
    base = next((r.mps for r in results if r.server == "uvicorn" and not r.error), 0)
    for r in results:
        if r.error:
            rows.append(f"| {r.server} | not available | | | | |")
            continue
        ratio = f"{r.mps / base:.2f}" if base else "?"
        rows.append(f"| {r.server} | {r.mps:,.0f} | {r.cpu_s * 1e6 / r.messages:.1f} | "
                    f"{100 * r.cpu_s / r.seconds:.0f} | {r.rss_kib / 1024:.1f} ({r.procs}) | {ratio} |")
    return rows


def main(args, argv):
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    by_name = {s.name: s for s in SERVERS}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        print(f"bench: --only {','.join(unknown)}: unknown server for --ws; choose from "
              f"{', '.join(by_name)}", file=sys.stderr)
        return 2
    for name in ("ws_connections", "ws_messages", "ws_size", "ws_window"):
        if getattr(args, name) <= 0:
            print(f"bench: --{name.replace('_', '-')} must be greater than 0", file=sys.stderr)
            return 2
    servers = [by_name[n] for n in names] if names else [s for s in SERVERS if s.default]
    if any(s.name.startswith("gonicorn") for s in servers):
        args.gonicorn_missing = bench.gonicorn_status(args)
    env = bench.server_env()
    machine = bench.machine_lines(args)
    results = []
    for i, server in enumerate(servers, 1):
        print(f"bench: [{i}/{len(servers)}] {server.name} ws echo ...", file=sys.stderr, flush=True)
        r = measure(server, args, env)
        results.append(r)
        print(f"bench:   {'not available (' + r.error + ')' if r.error else f'{r.mps:,.0f} msgs/s'}",
              file=sys.stderr, flush=True)
    print("## Machine\n")
    print("\n".join(machine))
    print(f"- load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"\n## WebSocket echo ({args.ws_connections} connections x {args.ws_messages} messages of "
          f"{args.ws_size} B, {args.ws_window} in flight each, {args.workers} worker(s))\n")
    print("\n".join(table(results)))
    notes = [f"{r.server}: not available ({r.error})" for r in results if r.error]
    notes += [f"{r.server}: {r.note}" for r in results if r.note]
    if notes:
        print()
        for n in notes:
            print(f"- {n}")
    print("\n## Commands\n")
    print("```")
    print(f"bench/run {' '.join(shlex.quote(a) for a in argv)}".rstrip())
    for r in results:
        cmd = " ".join(shlex.quote(os.path.relpath(a, bench.ROOT) if a.startswith(bench.ROOT) else a)
                       for a in r.argv)
        cmd = re.sub(r"\b127\.0\.0\.1:\d+\b", "127.0.0.1:PORT", cmd)
        print(re.sub(r"--port \d+", "--port PORT", cmd))
    print("```")
    return 0
