"""Startup and shutdown: golden log lines, bind forms, boot errors and exit codes, signals."""
import os
import re
import signal
import socket
import threading
import time

import pytest
import requests

import harness
from harness import SERVER, free_port, mask_log_line

GOLDEN_START = [
    "[TIME] [PID] [INFO] Starting SERVER VERSION",
    "[TIME] [PID] [INFO] Listening at: http://127.0.0.1:PORT (PID)",
    "[TIME] [PID] [INFO] Using worker: sync",
    "[TIME] [PID] [INFO] Booting worker with pid: PID",
]
GOLDEN_STOP = [
    "[TIME] [PID] [INFO] Handling signal: term",
    "[TIME] [PID] [INFO] Worker exiting (pid: PID)",
    "[TIME] [PID] [INFO] Shutting down: Master",
]
LINE_RE = re.compile(r"^\[[^]]+\] \[(\d+)\] \[(\w+)\] (.*)$")


def masked(text, port):
    # gunicorn 25.1+ also announces its control socket (gunicornc), at a time that varies.
    return [mask_log_line(l, port) for l in text.splitlines()
            if l.strip() and "Control socket listening at" not in l]


def test_golden_startup_and_shutdown_lines(server):
    s = server(["hello_wsgi:app"])
    assert requests.get(s.url("/"), timeout=10).text == "Hello, World!\n"
    start = masked(s.stderr(), s.port)
    assert start == GOLDEN_START, s.stderr()
    assert re.search(rf"Starting {SERVER} \d+\.\d+", s.stderr()), s.stderr()
    master = s.pid
    lines = [LINE_RE.match(l) for l in s.stderr().splitlines() if "Control socket" not in l]
    assert [int(m.group(1)) for m in lines[:3]] == [master] * 3
    assert f"(pid: " not in lines[2].group(3)
    assert lines[1].group(3).endswith(f"({master})")
    worker = s.worker_pids()[0]
    assert int(lines[3].group(1)) == worker != master
    assert s.stop() == 0
    stop = masked(s.stderr(), s.port)[len(GOLDEN_START):]
    assert sorted(stop) == sorted(GOLDEN_STOP), s.stderr()
    assert stop[-1] == GOLDEN_STOP[-1]
    assert f"Worker exiting (pid: {worker})" in s.stderr()
    assert s.stdout() == ""


def test_bind_unix_socket(server, tmp_path):
    path = tmp_path / "g.sock"
    s = server(["--bind", f"unix:{path}", "hello_wsgi:app"], bind=False)
    assert f"Listening at: unix:{path} ({s.pid})" in s.stderr()
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(10)
        c.connect(str(path))
        c.sendall(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n")
        data = harness.recv_all(c)
    assert data.startswith(b"HTTP/1.") and data.endswith(b"Hello, World!\n"), data


@pytest.mark.skipif(not harness.ipv6_available(), reason="no IPv6 loopback")
def test_bind_ipv6(server):
    s = server(["hello_wsgi:app"], bind="::1")
    assert f"Listening at: http://[::1]:{s.port} ({s.pid})" in s.stderr()
    assert requests.get(s.url("/"), timeout=10).text == "Hello, World!\n"


def test_bind_repeated(server):
    p1, p2 = free_port(), free_port()
    s = server(["-b", f"127.0.0.1:{p1}", "-b", f"127.0.0.1:{p2}", "hello_wsgi:app"], bind=False, port=p1)
    assert f"Listening at: http://127.0.0.1:{p1},http://127.0.0.1:{p2} ({s.pid})" in s.stderr()
    for p in (p1, p2):
        assert requests.get(f"http://127.0.0.1:{p}/", timeout=10).status_code == 200


def test_bind_port_env_default(server):
    port = free_port()
    s = server(["hello_wsgi:app"], bind=False, port=port, env={"PORT": str(port)})
    assert f"Listening at: http://0.0.0.0:{port} ({s.pid})" in s.stderr()
    assert requests.get(f"http://127.0.0.1:{port}/", timeout=10).status_code == 200


def boot_failure(server, args):
    s = server(args, start=False)
    s.start(wait=False)
    return s, s.wait_exit()


def test_missing_attribute_exits_4(server):
    s, rc = boot_failure(server, ["hello_wsgi:nope"])
    assert rc == 4, s.log()
    err = s.stderr()
    assert "Failed to find attribute 'nope' in 'hello_wsgi'." in err
    assert "Reason: App failed to load." in err
    assert "Shutting down: Master" in err


def test_not_callable_exits_4(server):
    s, rc = boot_failure(server, ["not_callable:app"])
    assert rc == 4, s.log()
    assert "Application object must be callable." in s.stderr()
    assert "Reason: App failed to load." in s.stderr()


def test_import_error_exits_3(server):
    s, rc = boot_failure(server, ["import_error:app"])
    assert rc == 3, s.log()
    err = s.stderr()
    assert "Exception in worker process" in err
    assert "ModuleNotFoundError: No module named 'a_module_that_does_not_exist_gonicorn'" in err
    assert "Traceback (most recent call last):" in err
    assert "Reason: Worker failed to boot." in err


def test_missing_module_exits_3(server):
    s, rc = boot_failure(server, ["no_such_module_here:app"])
    assert rc == 3, s.log()
    assert "No module named 'no_such_module_here'" in s.stderr()
    assert "Reason: Worker failed to boot." in s.stderr()


def test_term_lets_inflight_request_finish(server):
    s = server(["--graceful-timeout", "10", "slow:app"])
    result = {}

    def call():
        try:
            result["r"] = requests.get(s.url("/?s=1.5"), timeout=20)
        except Exception as e:  # noqa: BLE001 - reported below
            result["e"] = e

    t = threading.Thread(target=call)
    t.start()
    time.sleep(0.5)  # the request is now inside the app
    s.send_signal(signal.SIGTERM)
    t.join(20)
    assert "e" not in result, f"{result.get('e')!r}\n{s.log()}"
    assert result["r"].status_code == 200 and result["r"].text.startswith("slept 1.5")
    assert s.stop() == 0
    assert "Handling signal: term" in s.stderr()


def test_worker_replaced_after_kill9(server):
    s = server(["slow:app"])
    old = s.worker_pids()[0]
    os.kill(old, signal.SIGKILL)
    s.wait_for_log(r"Booting worker with pid", count=2, timeout=20)
    new = s.worker_pids()[-1]
    assert new != old
    for _ in range(3):
        assert requests.get(s.url("/?s=0"), timeout=10).status_code == 200


@pytest.mark.gonicorn_only
def test_kill9_mid_request_gives_502(server):
    s = server(["slow:app"])
    worker = s.worker_pids()[0]
    result = {}

    def call():
        result["r"] = requests.get(s.url("/?s=5"), timeout=20)

    t = threading.Thread(target=call)
    t.start()
    time.sleep(0.7)
    os.kill(worker, signal.SIGKILL)
    t.join(20)
    assert result["r"].status_code == 502, result["r"].text
    s.wait_for_log(r"Booting worker with pid", count=2, timeout=20)
    for _ in range(3):
        assert requests.get(s.url("/?s=0"), timeout=10).status_code == 200


def test_sync_closes_connection_like_gunicorn(server):
    """gunicorn's sync worker answers with Connection: close (gonicorn keeps it alive: see below)."""
    if SERVER != "gunicorn":
        pytest.skip("documents gunicorn's behaviour")
    s = server(["hello_wsgi:app"])
    data = s.raw(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert b"Connection: close" in data


@pytest.mark.gonicorn_only
def test_keepalive_on_sync(server):
    s = server(["hello_wsgi:app"])
    with s.connect() as c:
        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        first = harness.recv_all(c, timeout=5, quiet=1)
        assert first.startswith(b"HTTP/1.1 200") and first.endswith(b"Hello, World!\n"), first
        c.sendall(b"GET /again HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        second = harness.recv_all(c, timeout=5)
    assert second.startswith(b"HTTP/1.1 200") and second.endswith(b"Hello, World!\n"), second


@pytest.mark.gonicorn_only
def test_keepalive_pipelined_on_sync(server):
    s = server(["hello_wsgi:app"])
    data = s.raw(b"GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    resps = harness.parse_responses(data)
    assert [r.status for r in resps] == [200, 200], data


def read_response(c):
    """One response with a Content-Length, however the server splits it."""
    data = b""
    while True:
        head, sep, body = data.partition(b"\r\n\r\n")
        if sep and len(body) >= int(re.search(rb"(?i)content-length: *(\d+)", head).group(1)):
            return data
        chunk = c.recv(65536)
        assert chunk, data
        data += chunk


@pytest.mark.parametrize("worker_class,app,path", [
    ("gthread", "hello_wsgi:app", "/"),
    # gunicorn 26.1's asgi worker kept the idle connection open past 5 s.
    pytest.param("asgi", "frameworks/asgi_raw.py", "/health", marks=pytest.mark.gonicorn_only),
])
def test_idle_keepalive_connection_closes_after_keepalive(server, worker_class, app, path):
    """--keep-alive 1: a connection idle after its response is closed about a second later,
    not before; one that keeps sending requests stays open past it."""
    cwd = harness.APPS
    if app.endswith(".py"):
        cwd = harness.APPS / os.path.dirname(app)
        app = os.path.basename(app)[:-3] + ":app"
    s = server(["-k", worker_class, "--keep-alive", "1", app], cwd=cwd)
    req = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    with s.connect() as c:
        c.settimeout(5)
        for i in range(4):  # 1.5 s of requests, 0.5 s apart: the connection stays open
            if i:
                time.sleep(0.5)
            c.sendall(req)
            data = read_response(c)
            assert data.startswith(b"HTTP/1.1 200"), data
        t0 = time.monotonic()
        assert c.recv(1) == b""  # closed by the server
        idle = time.monotonic() - t0
    assert 0.9 <= idle <= 2.0, idle


@pytest.mark.skipif(SERVER == "gunicorn", reason="gunicorn titles its master only with setproctitle, "
                    "which the test virtualenv leaves out (it would retitle the workers too)")
def test_proc_name_titles_the_master(server):
    """-n NAME: ps shows the master as gunicorn's does with setproctitle; without -n the
    master keeps its command line, which scripts that look for it by its arguments expect."""
    named = server(["-n", "billing-api", "hello_wsgi:app"])
    with open(f"/proc/{named.pid}/cmdline", "rb") as f:
        assert f.read().rstrip(b"\0") == b"gonicorn: master [billing-api]"
    assert requests.get(named.url("/"), timeout=10).status_code == 200
    plain = server(["hello_wsgi:app"])
    with open(f"/proc/{plain.pid}/cmdline", "rb") as f:
        assert b"hello_wsgi:app" in f.read().split(b"\0")
