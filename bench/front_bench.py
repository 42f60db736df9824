"""bench.py's front-end modes: HTTP/2 over TLS with h2load, and overload at twice the capacity.

`bench/run --mode h2`: gonicorn (TLS, --http-protocols h2,h1), gunicorn's gthread worker with
--http-protocols h2 (needs the h2 package, pinned in requirements.txt) and granian --http 2,
all on the hello-world WSGI app, loaded with `h2load -c C -m M -D S --warm-up-time W`. Latency
percentiles come from h2load's --log-file (one line per request).

`bench/run --mode overload`: a WSGI app that sleeps --sleep seconds per request, served by sync
workers, so the capacity is workers / sleep requests per second. An open-loop client (asyncio,
one connection per request, stdlib) offers --factor times that rate for --duration seconds and
records every answer: gonicorn with --queue-timeout sheds what it cannot start in time with 503,
gunicorn queues everything in the listen backlog and its latency grows for as long as the load
lasts. Stdlib only, like bench.py; servers are started and stopped by bench.py's helpers.
"""

import asyncio
import os
import re
import shlex
import subprocess
import time
from dataclasses import dataclass, field

import bench
from bench import HOST

CERT_DIR = os.path.join(bench.OUT_DIR, "tls")


@dataclass
class FrontServer:
    name: str
    default: bool
    build: object  # (port, args) -> argv


@dataclass
class FrontResult:
    server: str
    argv: list = field(default_factory=list)
    error: str = ""
    requests: int = 0
    ok: int = 0  # 2xx
    shed: int = 0  # 503
    failed: int = 0  # other status, socket errors, timeouts
    seconds: float = 0.0
    rps: float = 0.0  # h2: successful requests per second; overload: offered rate
    goodput: float = 0.0  # 2xx per second
    p50_ms: float = float("nan")
    p99_ms: float = float("nan")
    p99_ok_ms: float = float("nan")
    max_ms: float = float("nan")
    cpu_s: float = 0.0
    rss_kib: int = 0
    note: str = ""


def _pct(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, max(0, int(round(q * len(values))) - 1))]


# ---------------------------------------------------------------- TLS material


def ensure_certs():
    """A self-signed P-256 certificate for 127.0.0.1 (PKCS#8 key, as granian wants)."""
    cert, key = os.path.join(CERT_DIR, "cert.pem"), os.path.join(CERT_DIR, "key.pem")
    if os.path.exists(cert) and os.path.exists(key):
        return cert, key
    os.makedirs(CERT_DIR, exist_ok=True)
    p = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-keyout", key, "-out", cert, "-days", "30", "-subj", "/CN=127.0.0.1",
                        "-addext", "subjectAltName=IP:127.0.0.1"], capture_output=True, text=True, timeout=30)
    if p.returncode != 0:
        raise RuntimeError(f"openssl could not make a test certificate: {p.stderr.strip()}")
    return cert, key


# ---------------------------------------------------------------- HTTP/2 mode


def _gonicorn_h2(cls):
    def build(port, args):
        extra = ["--threads", str(args.threads)] if cls == "gthread" else []
        return [args.gonicorn, "-w", str(args.workers), "-k", cls, *extra, "--certfile", args.cert,
                "--keyfile", args.key, "--http-protocols", "h2,h1", "-b", f"{HOST}:{port}", "wsgi_hello:app"]
    return build


def _gunicorn_h2(port, args):
    return [bench._venv("gunicorn"), "-w", str(args.workers), "-k", "gthread", "--threads", str(args.threads),
            "--certfile", args.cert, "--keyfile", args.key, "--http-protocols", "h2,h1",
            "-b", f"{HOST}:{port}", "wsgi_hello:app"]


def _granian_h2(port, args):
    return [bench._venv("granian"), "--interface", "wsgi", "--http", "2", "--host", HOST, "--port", str(port),
            "--workers", str(args.workers), "--ssl-certificate", args.cert, "--ssl-keyfile", args.key,
            "--log-level", "warning", "--no-access-log", "wsgi_hello:app"]


H2_SERVERS = [
    FrontServer("gonicorn", True, _gonicorn_h2("sync")),
    FrontServer("gunicorn-gthread", True, _gunicorn_h2),
    FrontServer("granian", True, _granian_h2),
    FrontServer("gonicorn-gthread", False, _gonicorn_h2("gthread")),
]


def h2load_argv(args, port, duration, warmup, log_file=None):
    argv = ["h2load", "-t", "1", "-c", str(args.h2_connections), "-m", str(args.h2_streams),
            "-D", f"{duration:g}"]
    if warmup > 0:
        argv += ["--warm-up-time", f"{warmup:g}"]
    if log_file:
        argv += ["--log-file", log_file]
    return argv + [f"https://{HOST}:{port}/"]


def parse_h2load(out):
    r = {}
    m = re.search(r"^requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, "
                  r"(\d+) timeout", out, re.M)
    if m:
        r["requests"], r["ok"] = int(m.group(1)), int(m.group(2))
        r["failed"] = sum(int(g) for g in m.groups()[2:])
    m = re.search(r"^finished in [\d.]+m?s, ([\d.]+) req/s", out, re.M)
    r["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"^Application protocol: (\S+)", out, re.M)
    r["protocol"] = m.group(1) if m else "?"
    return r


def h2_ready(proc, port, timeout, log_path):
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"exited with status {proc.returncode}: {bench.log_tail(log_path)}"
        p = subprocess.run(["h2load", "-n", "1", "-c", "1", f"https://{HOST}:{port}/"], capture_output=True,
                           text=True, timeout=15, check=False)
        res = parse_h2load(p.stdout)
        if res.get("ok") == 1:
            if res["protocol"] != "h2":
                return f"negotiated {res['protocol']!r}, not h2"
            return None
        last = (p.stdout.strip().splitlines() or [p.stderr.strip()])[-1:]
        time.sleep(0.2)
    return f"no h2 answer after {timeout:g} s ({last}): {bench.log_tail(log_path)}"


def measure_h2(server, args, env):
    port = bench.free_port()
    argv = server.build(port, args)
    res = FrontResult(server.name, argv=argv)
    log_path = os.path.join(bench.OUT_DIR, f"h2-{server.name}.log")
    req_log = os.path.join(bench.OUT_DIR, f"h2-{server.name}.requests.tsv")
    if os.path.exists(req_log):
        os.unlink(req_log)  # h2load appends to its --log-file
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, cwd=bench.APPS_DIR, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        reason = h2_ready(proc, port, args.start_timeout, log_path)
        if reason:
            res.error = reason
            return res
        sampler = bench.RssSampler(proc.pid)
        sampler.start()
        if args.warmup > 0:
            # A run of its own (not h2load's --warm-up-time), so the CPU read below covers only
            # the requests h2load counts.
            subprocess.run(h2load_argv(args, port, args.warmup, 0), capture_output=True, text=True,
                           timeout=args.warmup + 30, check=False)
        before = bench.cpu_ticks(proc.pid)
        p = subprocess.run(h2load_argv(args, port, args.duration, 0, req_log), capture_output=True,
                           text=True, timeout=args.duration + 30, check=False)
        after = bench.cpu_ticks(proc.pid)
        sampler.stop()
        r = parse_h2load(p.stdout)
        if not r.get("requests"):
            res.error = f"h2load completed no request: {(p.stdout + p.stderr).strip()[-300:]}"
            return res
        res.requests, res.ok, res.failed, res.rps = r["requests"], r["ok"], r["failed"], r["rps"]
        res.seconds = args.duration
        res.cpu_s = sum(t - before.get(k, 0) for k, t in after.items()) / bench.CLK_TCK
        res.rss_kib = sampler.peak
        lat = []
        with open(req_log) as f:
            for line in f:
                parts = line.split("\t")
                if len(parts) == 3 and parts[1] != "0":  # 0: cut off when the run stopped
                    lat.append(int(parts[2]) / 1000)
        res.p50_ms, res.p99_ms, res.max_ms = _pct(lat, 0.50), _pct(lat, 0.99), max(lat or [float("nan")])
        return res
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
        res.error = str(e)
        return res
    finally:
        bench.stop_server(proc)


def h2_table(results):
    head = ["server", "req/s", "p50", "p99", "max", "requests", "failed", "CPU µs/req", "peak RSS MiB"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        if r.error:
            rows.append(f"| {r.server} | not available ({r.error}) |" + " |" * (len(head) - 2))
            continue
        cpu = r.cpu_s * 1e6 / r.requests if r.requests else float("nan")
        rows.append(f"| {r.server} | {r.rps:,.0f} | {r.p50_ms:.2f} ms | {r.p99_ms:.2f} ms | {r.max_ms:.1f} ms | "
                    f"{r.requests:,} | {r.failed} | {cpu:.0f} | {r.rss_kib / 1024:.1f} |")
    return rows


# ---------------------------------------------------------------- overload mode


def _gonicorn_overload(queue):
    def build(port, args):
        extra = ["--queue-timeout", f"{args.queue_timeout:g}"] if queue else []
        return [args.gonicorn, "-w", str(args.workers), "-k", "sync", *extra, "-b", f"{HOST}:{port}",
                "wsgi_sleep:app"]
    return build


def _gunicorn_overload(port, args):
    return [bench._venv("gunicorn"), "-w", str(args.workers), "-k", "sync", "-b", f"{HOST}:{port}",
            "wsgi_sleep:app"]


OVERLOAD_SERVERS = [
    FrontServer("gonicorn-queue-timeout", True, _gonicorn_overload(True)),
    FrontServer("gunicorn-sync", True, _gunicorn_overload),
    FrontServer("gonicorn", False, _gonicorn_overload(False)),
]


async def _one(port, path, timeout):
    t0 = time.monotonic()
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(HOST, port), timeout)
        writer.write(f"GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n".encode())
        data = await asyncio.wait_for(reader.read(), timeout - (time.monotonic() - t0))
        writer.close()
        m = re.match(rb"HTTP/1\.[01] (\d{3})", data)
        return (int(m.group(1)) if m else 0), time.monotonic() - t0
    except (OSError, asyncio.TimeoutError):
        return -1, time.monotonic() - t0


async def open_loop(port, rate, duration, path, timeout):
    """Send `rate` requests per second for `duration` s whatever the answers; wait for them all."""
    tasks, start = [], time.monotonic()
    n = int(rate * duration)
    for i in range(n):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.ensure_future(_one(port, path, timeout)))
    sent = time.monotonic() - start
    answers = await asyncio.gather(*tasks)
    return answers, sent, time.monotonic() - start


def measure_overload(server, args, env):
    port = bench.free_port()
    argv = server.build(port, args)
    res = FrontResult(server.name, argv=argv)
    log_path = os.path.join(bench.OUT_DIR, f"overload-{server.name}.log")
    app = bench.App("sleep", "wsgi_sleep:app", "wsgi", b"slept", "sleep")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(argv, cwd=bench.APPS_DIR, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    try:
        reason = bench.wait_ready(proc, port, app, args.start_timeout, log_path)
        if reason:
            res.error = reason
            return res
        rate = args.factor * args.workers / args.sleep
        before = bench.cpu_ticks(proc.pid)
        answers, sent, total = asyncio.run(open_loop(port, rate, args.duration, f"/?s={args.sleep:g}",
                                              args.request_deadline))
        after = bench.cpu_ticks(proc.pid)
        res.cpu_s = sum(t - before.get(k, 0) for k, t in after.items()) / bench.CLK_TCK
        res.requests, res.seconds, res.rps = len(answers), sent, len(answers) / sent
        res.ok = sum(1 for s, _ in answers if 200 <= s < 300)
        res.shed = sum(1 for s, _ in answers if s == 503)
        res.failed = res.requests - res.ok - res.shed
        res.goodput = res.ok / total  # until the last answer: a queue drained later counts late
        lat = [t * 1000 for s, t in answers if s > 0]
        res.p50_ms, res.p99_ms = _pct(lat, 0.50), _pct(lat, 0.99)
        res.p99_ok_ms = _pct([t * 1000 for s, t in answers if 200 <= s < 300], 0.99)
        res.max_ms = max(lat or [float("nan")])
        if res.failed:
            res.note = (f"{res.failed} requests got no HTTP answer within {args.request_deadline:g} s "
                        f"or another status")
        return res
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as e:
        res.error = str(e)
        return res
    finally:
        bench.stop_server(proc)


def overload_table(results, args):
    head = ["server", "offered req/s", "2xx/s", "2xx", "503", "failed", "p50", "p99 (all answers)",
            "p99 (2xx)", "max"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        if r.error:
            rows.append(f"| {r.server} | not available ({r.error}) |" + " |" * (len(head) - 2))
            continue
        rows.append(f"| {r.server} | {r.rps:,.0f} | {r.goodput:,.1f} | {r.ok:,} | {r.shed:,} | {r.failed:,} | "
                    f"{r.p50_ms:,.0f} ms | {r.p99_ms:,.0f} ms | {r.p99_ok_ms:,.0f} ms | {r.max_ms:,.0f} ms |")
    return rows


# ---------------------------------------------------------------- entry point


def pick(servers, only):
    by_name = {s.name: s for s in servers}
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise SystemExit(f"bench: --only {','.join(unknown)}: unknown server for this mode; "
                         f"choose from {', '.join(by_name)}")
    return [by_name[n] for n in names] if names else [s for s in servers if s.default]


def _commands(results, extra):
    out, seen = [], set()
    for r in results:
        cmd = " ".join(shlex.quote(os.path.relpath(a, bench.ROOT) if a.startswith(bench.ROOT) else a)
                       for a in r.argv)
        cmd = re.sub(r"\b127\.0\.0\.1:\d+\b", "127.0.0.1:PORT", cmd)
        cmd = re.sub(r"--port \d+", "--port PORT", cmd)
        if cmd not in seen:
            seen.add(cmd)
            out.append(cmd)
    return out + extra


def main(args, argv):
    os.makedirs(bench.OUT_DIR, exist_ok=True)
    env = bench.server_env()
    servers = pick(H2_SERVERS if args.mode == "h2" else OVERLOAD_SERVERS, args.only)
    if any(s.name.startswith("gonicorn") for s in servers):
        args.gonicorn_missing = bench.gonicorn_status(args)
        if args.gonicorn_missing:
            servers = [s for s in servers if not s.name.startswith("gonicorn")]
            print(f"bench: gonicorn not available ({args.gonicorn_missing})")
    machine = bench.machine_lines(args)
    results = []
    if args.mode == "h2":
        args.cert, args.key = ensure_certs()
        for i, s in enumerate(servers, 1):
            print(f"bench: [{i}/{len(servers)}] h2 {s.name} ...", file=__import__("sys").stderr, flush=True)
            results.append(measure_h2(s, args, env))
        title = (f"## HTTP/2 over TLS (h2load -t1 -c{args.h2_connections} -m{args.h2_streams}, "
                 f"{args.duration:g} s after {args.warmup:g} s warm-up, {args.workers} worker(s), wsgi_hello)")
        rows = h2_table(results)
        extra = [" ".join(h2load_argv(args, "PORT", args.warmup, 0)) + "   # warm-up, not measured",
                 " ".join(h2load_argv(args, "PORT", args.duration, 0, "LOG")) + "   # measured"]
    else:
        for i, s in enumerate(servers, 1):
            print(f"bench: [{i}/{len(servers)}] overload {s.name} ...", file=__import__("sys").stderr, flush=True)
            results.append(measure_overload(s, args, env))
        cap = args.workers / args.sleep
        title = (f"## Overload ({args.workers} sync worker(s), {args.sleep * 1000:g} ms per request: capacity "
                 f"{cap:g} req/s; offered {args.factor:g}× = {args.factor * cap:g} req/s for {args.duration:g} s, "
                 f"one connection per request; --queue-timeout {args.queue_timeout:g})")
        rows = overload_table(results, args)
        extra = [f"# client: open loop, {args.factor * cap:g} req/s of GET /?s={args.sleep:g} "
                 f"(bench/front_bench.py open_loop), {args.request_deadline:g} s deadline per request"]
    print("## Machine\n")
    print("\n".join(machine))
    print(f"- h2load: {bench._cmd_out(['h2load', '--version'])}")
    print(f"- load average at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(title + "\n")
    print("\n".join(rows))
    notes = [f"- {r.server}: {r.note}" for r in results if r.note]
    if notes:
        print("\n" + "\n".join(notes))
    print("\n## Commands\n\n```")
    print(f"bench/run {' '.join(shlex.quote(a) for a in argv)}".rstrip())
    print("\n".join(_commands(results, extra)))
    print("```")
    return 0
