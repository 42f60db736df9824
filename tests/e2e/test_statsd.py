"""StatsD instrumentation: --statsd-host, --statsd-prefix, --dogstatsd-tags (reference §3.10).

The test binds the StatsD "agent" itself (a UDP or unix datagram socket), drives requests
and compares the datagrams with what gunicorn 27's Statsd logger sends. Datagrams come from
several processes (the master and the workers), so they are compared as sorted lists; the
request duration is a measured float, so it is checked by shape and then masked.
"""
import re
import socket
import time

import pytest

from harness import SERVER

APP = '''
def app(environ, start_response):
    path = environ["PATH_INFO"]
    if path == "/raise":
        raise RuntimeError("raised on purpose")
    if path == "/missing":
        start_response("404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", "2")])
        return [b"no"]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
    return [b"ok\\n"]
'''

# Worker-side metrics: a log call in a worker hook, and Statsd.log's extra= metric form.
CONF = '''
def post_worker_init(worker):
    worker.log.warning("statsd test: warning from a worker")
    worker.log.info("", extra={"metric": "test.custom", "value": 7, "mtype": "gauge"})
'''

DURATION = re.compile(r"^(?P<p>.*)gunicorn\.request\.duration:(?P<ms>\d+\.\d+)\|ms(?P<t>(\|#.*)?)$")


def request(s, path):
    with socket.create_connection((s.host, s.port), timeout=10) as c:
        c.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := c.recv(65536):
            data += chunk
    return int(data.split(b" ", 2)[1])


def mask(datagrams):
    out = []
    for d in datagrams:
        m = DURATION.match(d)
        if m:
            assert float(m["ms"]) < 10000, d
            d = f"{m['p']}gunicorn.request.duration:<ms>|ms{m['t']}"
        out.append(d)
    return sorted(out)


class Agent:
    """The StatsD side: a bound datagram socket that collects what arrives."""

    def __init__(self, family, addr):
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind(addr)
        self.got = []

    def target(self):
        name = self.sock.getsockname()
        return f"unix://{name}" if self.sock.family == socket.AF_UNIX else f"{name[0]}:{name[1]}"

    def collect(self, n, timeout=10, settle=0.5):
        """Wait for n datagrams in all, then a little longer for any extra one."""
        deadline = time.monotonic() + timeout
        while len(self.got) < n and time.monotonic() < deadline:
            self._read(deadline - time.monotonic())
        end = time.monotonic() + settle
        while time.monotonic() < end:
            self._read(end - time.monotonic())
        return mask(self.got)

    def _read(self, wait):
        self.sock.settimeout(max(wait, 0.01))
        try:
            self.got.append(self.sock.recv(65536).decode())
        except socket.timeout:
            pass

    def close(self):
        self.sock.close()


@pytest.fixture
def udp_agent():
    a = Agent(socket.AF_INET, ("127.0.0.1", 0))
    yield a
    a.close()


@pytest.fixture
def unix_agent(tmp_path):
    a = Agent(socket.AF_UNIX, str(tmp_path / "statsd.sock"))
    yield a
    a.close()


def write_app(tmp_path):
    (tmp_path / "statsd_app.py").write_text(APP)
    conf = tmp_path / "statsd_conf.py"
    conf.write_text(CONF)
    return str(conf)


def counter(name, prefix="", tags=""):
    return f"{prefix}{name}:1|c|@1.0" + (f"|#{tags}" if tags else "")


def requests_metrics(status, prefix="", tags=""):
    t = f"|#{tags}" if tags else ""
    return [f"{prefix}gunicorn.request.duration:<ms>|ms{t}", counter("gunicorn.requests", prefix, tags),
            counter(f"gunicorn.request.status.{status}", prefix, tags)]


def boot_metrics(workers, prefix="", tags=""):
    t = f"|#{tags}" if tags else ""
    out = [f"{prefix}gunicorn.workers:{workers}|g{t}"]
    for _ in range(workers):
        out += [counter("gunicorn.log.warning", prefix, tags), f"{prefix}test.custom:7|g{t}"]
    return out


def run(server, agent, tmp_path, extra=(), workers=1, prefix="", tags=""):
    conf = write_app(tmp_path)
    s = server(["-c", conf, "--statsd-host", agent.target(), "-w", str(workers), *extra,
                "statsd_app:app"], cwd=tmp_path, workers=workers)
    want = boot_metrics(workers, prefix, tags)
    assert agent.collect(len(want)) == sorted(want)
    agent.got.clear()

    assert request(s, "/") == 200
    assert request(s, "/missing") == 404
    assert request(s, "/raise") == 500
    # An unparsable request line: the warning is counted, no request metrics.
    with socket.create_connection((s.host, s.port), timeout=10) as c:
        c.sendall(b"GARBAGE\r\n\r\n")
        c.recv(65536)
    want = (requests_metrics(200, prefix, tags) + requests_metrics(404, prefix, tags)
            + requests_metrics(500, prefix, tags)
            + [counter("gunicorn.log.exception", prefix, tags), counter("gunicorn.log.warning", prefix, tags)])
    assert agent.collect(len(want)) == sorted(want)
    s.wait_for_log(r"Error handling request")
    return s


def test_udp(server, udp_agent, tmp_path):
    run(server, udp_agent, tmp_path, workers=2)


def test_unix_datagram(server, unix_agent, tmp_path):
    run(server, unix_agent, tmp_path)


def test_prefix_and_tags(server, udp_agent, tmp_path):
    run(server, udp_agent, tmp_path, extra=["--statsd-prefix", "myapp...", "--dogstatsd-tags", "env:test,svc:web"],
        prefix="myapp.", tags="env:test,svc:web")


def test_metrics_without_access_log_and_with_it(server, udp_agent, tmp_path):
    """gunicorn's Statsd.access sends the metrics whether or not an access log is written."""
    conf = write_app(tmp_path)
    s = server(["-c", conf, "--statsd-host", udp_agent.target(), "--access-logfile", "-",
                "statsd_app:app"], cwd=tmp_path)
    udp_agent.collect(len(boot_metrics(1)))
    udp_agent.got.clear()
    assert request(s, "/missing") == 404
    assert udp_agent.collect(3) == sorted(requests_metrics(404))
    s.wait_for_log(r'"GET /missing HTTP/1\.1" 404', stream="stdout")


def serve_to_unreachable_target(server, tmp_path):
    """A server whose --statsd-host port has nobody listening, after 20 answered requests."""
    port_sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    port_sock.bind(("127.0.0.1", 0))
    target = "127.0.0.1:%d" % port_sock.getsockname()[1]
    port_sock.close()
    write_app(tmp_path)
    s = server(["--statsd-host", target, "statsd_app:app"], cwd=tmp_path)
    for _ in range(20):
        assert request(s, "/") == 200
    return s, target


def test_unreachable_target_keeps_serving(server, tmp_path):
    """Nobody listens on the port: requests are served as usual."""
    s, target = serve_to_unreachable_target(server, tmp_path)
    assert request(s, "/raise") == 500
    s.wait_for_log(r"Error handling request")


@pytest.mark.gonicorn_only
def test_unreachable_target_is_reported_once(server, tmp_path):
    """gunicorn logs "Error sending message to statsd" with a traceback for every failed
    send; gonicorn says it once in the master and drops quietly in the workers."""
    s, target = serve_to_unreachable_target(server, tmp_path)
    s.wait_for_log(r"statsd: sending to " + re.escape(target) + " failed")
    time.sleep(0.3)
    assert len(re.findall(r"statsd", s.log())) == 1, s.log()


@pytest.mark.gonicorn_only
def test_missing_unix_socket_is_reported(server, tmp_path):
    """gunicorn silently sends nothing when the unix socket does not exist at start."""
    write_app(tmp_path)
    path = tmp_path / "absent.sock"
    s = server(["--statsd-host", f"unix://{path}", "statsd_app:app"], cwd=tmp_path)
    assert request(s, "/") == 200
    s.wait_for_log(r"statsd: cannot connect to --statsd-host .*absent\.sock.*; no metrics are sent")


def test_no_metrics_without_statsd_host(server, udp_agent, tmp_path):
    write_app(tmp_path)
    s = server(["statsd_app:app"], cwd=tmp_path)
    assert request(s, "/") == 200
    assert udp_agent.collect(0, settle=0.3) == []


SLOW_APP = '''
import time

def app(environ, start_response):
    time.sleep(float(environ.get("QUERY_STRING") or 0))
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
    return [b"ok\\n"]
'''


def test_backlog_metric(server, udp_agent, tmp_path):
    """--enable-backlog-metric: while one sync worker is busy, the requests behind it show
    up as gunicorn.backlog (a histogram) and as the "socket backlog: N" debug line. gunicorn
    counts them in the kernel's accept queue; gonicorn, which accepts at once, counts them
    waiting for the worker."""
    import threading
    (tmp_path / "slow_app.py").write_text(SLOW_APP)
    s = server(["--statsd-host", udp_agent.target(), "--enable-backlog-metric",
                "--log-level", "debug", "-w", "1", "slow_app:app"], cwd=tmp_path)
    threads = [threading.Thread(target=request, args=(s, "/?2.5")) for _ in range(3)]
    for t in threads:
        t.start()
    got = udp_agent.collect(10**6, timeout=2.5, settle=0)
    for t in threads:
        t.join()
    backlog = [int(d.split(":")[1].split("|")[0]) for d in got if d.startswith("gunicorn.backlog:")]
    assert all(d.endswith("|h") for d in got if d.startswith("gunicorn.backlog:")), got
    assert backlog and max(backlog) >= 1, got
    assert re.search(r"\[DEBUG\] socket backlog: [1-9]", s.log()), s.log()
