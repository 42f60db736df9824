"""The control socket and the real `gunicornc` client (gunicorn 25.1+, reference §5.4).

Every test drives the server with the gunicornc that ships with gunicorn (the repo's .venv), or
with raw frames (4-byte big-endian length + UTF-8 JSON) for what the client never sends. The
shared tests pass against gunicorn 26.1 too (SERVER=gunicorn).
"""
import json
import os
import re
import signal
import socket
import stat
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from harness import APPS, SERVER, VENV

GUNICORNC = str(VENV / "bin" / "gunicornc")


def ctl_path(name="g.ctl"):
    # Short on purpose: sun_path holds 108 bytes.
    return str(Path(tempfile.mkdtemp(prefix="gctl-")) / name)


def wait_listening(s, path, timeout=15):
    line = f"Control socket listening at {path}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if line in s.log() and os.path.exists(path):
            return
        if s.proc.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"no {line!r} in the log:\n{s.log()}")


def ctl(path, command, check=True):
    """Run `gunicornc -s PATH -c COMMAND -j`; the parsed JSON, or the CompletedProcess when check=False."""
    p = subprocess.run([GUNICORNC, "-s", path, "-c", command, "-j"], capture_output=True, text=True, timeout=30)
    if not check:
        return p
    assert p.returncode == 0, f"gunicornc -c {command!r}: rc {p.returncode}\n{p.stdout}\n{p.stderr}"
    return json.loads(p.stdout)


def wait_for(pred, what, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def start(server, *args, workers=1):
    path = ctl_path()
    s = server(["--control-socket", path, *args, "hello_wsgi:app"], workers=workers)
    wait_listening(s, path)
    return s, path


def http_ok(s):
    with socket.create_connection((s.host, s.port), timeout=10) as c:
        c.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return c.recv(100).startswith(b"HTTP/1.1 200")


# -- where the socket lives ------------------------------------------------------------------

def test_default_path_is_xdg_runtime_dir(server):
    s = server(["hello_wsgi:app"])
    path = os.path.join(s.env["XDG_RUNTIME_DIR"], "gunicorn.ctl")
    wait_listening(s, path)
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert ctl(path, "show workers")["count"] == 1
    # After the first worker booted, as gunicorn logs it.
    log = s.log()
    assert log.index("Booting worker with pid") < log.index("Control socket listening at")
    assert s.stop() == 0
    assert not os.path.exists(path)


def test_home_fallback_creates_the_directory(server, tmp_path):
    home = Path(tempfile.mkdtemp(prefix="gh-"))
    s = server(["hello_wsgi:app"], env={"XDG_RUNTIME_DIR": None, "HOME": str(home)})
    path = str(home / ".gunicorn" / "gunicorn.ctl")
    wait_listening(s, path)
    assert stat.S_IMODE(os.stat(home / ".gunicorn").st_mode) == 0o700
    assert ctl(path, "show stats")["pid"] == s.pid


def test_mode_and_relative_path(server):
    cwd = Path(tempfile.mkdtemp(prefix="gcw-"))
    s = server(["--pythonpath", str(APPS), "--control-socket", "sub/rel.ctl",
                "--control-socket-mode", "0660", "hello_wsgi:app"], cwd=cwd)
    path = str(cwd / "sub" / "rel.ctl")
    wait_listening(s, path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
    assert ctl(path, "show config")["control_socket"] == "sub/rel.ctl"


def test_no_control_socket(server):
    s = server(["--no-control-socket", "hello_wsgi:app"])
    path = os.path.join(s.env["XDG_RUNTIME_DIR"], "gunicorn.ctl")
    time.sleep(1)
    assert "Control socket" not in s.log()
    assert not os.path.exists(path)
    p = ctl(path, "show workers", check=False)
    assert p.returncode == 1
    assert p.stderr.startswith(f"Error: Failed to connect to {path}")


def test_stale_socket_is_replaced(server):
    path = ctl_path()
    old = socket.socket(socket.AF_UNIX)
    old.bind(path)
    old.close()  # the file stays, as after a master killed with SIGKILL
    s = server(["--control-socket", path, "hello_wsgi:app"])
    wait_listening(s, path)
    assert ctl(path, "show stats")["pid"] == s.pid


def test_path_that_cannot_be_created_keeps_serving(server):
    s = server(["--control-socket", "/proc/no-such-dir/g.ctl", "hello_wsgi:app"])
    wait_for(lambda: "Control server error:" in s.log(), "the control server error line")
    assert re.search(r"\[ERROR\] Control server error: .*no-such-dir", s.log())
    assert http_ok(s)


@pytest.mark.gonicorn_only
def test_regular_file_at_the_path_is_left_alone(server):
    # gunicorn deletes whatever is at the path; gonicorn only replaces a socket.
    path = ctl_path()
    Path(path).write_text("precious")
    s = server(["--control-socket", path, "hello_wsgi:app"])
    wait_for(lambda: "Control server error:" in s.log(), "the control server error line")
    assert "is not a socket" in s.log()
    assert Path(path).read_text() == "precious"
    assert http_ok(s)


# -- show ------------------------------------------------------------------------------------

def test_show(server):
    s, path = start(server, "-w", "2", workers=2)
    stats = ctl(path, "show stats")
    assert list(stats) == ["uptime", "pid", "workers_current", "workers_target", "workers_spawned",
                           "workers_killed", "reloads", "dirty_arbiter_pid"]
    assert stats["pid"] == s.pid and stats["workers_target"] == 2 and stats["workers_current"] == 2
    assert stats["workers_spawned"] == 2 and stats["reloads"] == 0 and stats["dirty_arbiter_pid"] is None
    assert isinstance(stats["uptime"], float)

    workers = ctl(path, "show workers")
    assert workers["count"] == 2
    assert sorted(w["pid"] for w in workers["workers"]) == sorted(s.worker_pids())
    assert [w["age"] for w in workers["workers"]] == [1, 2]
    for w in workers["workers"]:
        assert list(w) == ["pid", "age", "booted", "aborted", "last_heartbeat"]
        assert w["aborted"] is False and isinstance(w["last_heartbeat"], float)

    config = ctl(path, "show config")
    assert config["bind"] == [s.address()] and config["workers"] == 2
    assert config["control_socket"] == path and config["control_socket_disable"] is False
    assert config["proc_name"] == "hello_wsgi:app" and config["pidfile"] is None
    assert list(config) == ["bind", "workers", "worker_class", "threads", "timeout", "graceful_timeout",
                            "keepalive", "max_requests", "max_requests_jitter", "worker_connections",
                            "preload_app", "daemon", "pidfile", "proc_name", "reload", "dirty_workers",
                            "dirty_apps", "dirty_timeout", "control_socket", "control_socket_disable"]

    listeners = ctl(path, "show listeners")
    assert listeners["count"] == 1
    (lnr,) = listeners["listeners"]
    assert lnr["address"] == f"http://{s.address()}" and lnr["type"] == "tcp" and isinstance(lnr["fd"], int)

    everything = ctl(path, "show all")
    assert everything["arbiter"] == {"pid": s.pid, "type": "arbiter", "role": "master"}
    assert everything["web_worker_count"] == 2
    assert everything["dirty_arbiter"] is None and everything["dirty_workers"] == []

    assert ctl(path, "show dirty") == {"enabled": False, "pid": None, "workers": [], "apps": []}
    assert ctl(path, "dirty add 2") == {"success": False, "error": "Dirty arbiter not running"}
    assert ctl(path, "dirty remove") == {"success": False, "error": "Dirty arbiter not running"}
    assert len(ctl(path, "help")["commands"]) == 15


def test_human_output(server):
    s, path = start(server)
    p = subprocess.run([GUNICORNC, "-s", path, "-c", "show workers"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0
    assert p.stdout.startswith("PID        AGE    BOOTED   LAST_BEAT\n")
    assert "Total: 1 workers" in p.stdout


@pytest.mark.gonicorn_only
def test_booted_is_reported(server):
    # gunicorn's master never sees the flag its workers set, so it always says false.
    s, path = start(server)
    assert [w["booted"] for w in ctl(path, "show workers")["workers"]] == [True]


# -- worker ----------------------------------------------------------------------------------

def count(path):
    return ctl(path, "show workers")["count"]


def test_worker_add_remove_kill(server):
    s, path = start(server)
    assert ctl(path, "worker add 2") == {"added": 2, "previous": 1, "total": 3}
    wait_for(lambda: count(path) == 3, "3 workers")
    assert ctl(path, "worker add") == {"added": 1, "previous": 3, "total": 4}
    wait_for(lambda: count(path) == 4, "4 workers")
    # Never below one worker.
    assert ctl(path, "worker remove 10") == {"removed": 3, "previous": 4, "total": 1}
    wait_for(lambda: count(path) == 1, "1 worker")
    assert ctl(path, "worker remove") == {"removed": 0, "previous": 1, "total": 1}

    (pid,) = [w["pid"] for w in ctl(path, "show workers")["workers"]]
    assert ctl(path, "worker kill 1") == {"success": False, "error": "Worker 1 not found"}
    assert ctl(path, f"worker kill {pid}") == {"success": True, "killed": pid}
    wait_for(lambda: [w["pid"] for w in ctl(path, "show workers")["workers"]] not in ([], [pid]),
             "a replacement worker")
    assert http_ok(s)
    stats = ctl(path, "show stats")
    assert stats["workers_target"] == 1 and stats["workers_spawned"] == 5


@pytest.mark.parametrize("command,error", [
    ("bogus", "Invalid argument: Unknown command: bogus"),
    ("show", "Invalid argument: Missing show target (all|workers|dirty|config|stats|listeners)"),
    ("show nothing", "Invalid argument: Unknown show target: nothing"),
    ("worker", "Invalid argument: Missing worker action (add|remove|kill)"),
    ("worker foo", "Invalid argument: Unknown worker action: foo"),
    ("worker add x", "Invalid argument: invalid literal for int() with base 10: 'x'"),
    ("worker kill", "Invalid argument: Missing PID for worker kill"),
    ("dirty", "Invalid argument: Missing dirty action (add|remove)"),
])
def test_command_errors(server, command, error):
    s, path = start(server)
    p = ctl(path, command, check=False)
    assert p.returncode == 1
    assert p.stderr == f"Error: {error}\n"


# -- signals ---------------------------------------------------------------------------------

def test_reload_and_reopen(server):
    s, path = start(server)
    before = s.worker_pids()
    assert ctl(path, "reload") == {"status": "reloading"}
    wait_for(lambda: "Handling signal: hup" in s.log(), "the HUP")
    wait_for(lambda: ctl(path, "show stats")["reloads"] == 1, "reloads == 1")
    wait_for(lambda: [w["pid"] for w in ctl(path, "show workers")["workers"]] not in ([], before),
             "new workers after the reload")
    assert ctl(path, "reopen") == {"status": "reopening"}
    wait_for(lambda: "Handling signal: usr1" in s.log(), "the USR1")
    assert http_ok(s)


@pytest.mark.parametrize("mode,sig", [("graceful", "term"), ("quick", "int"), ("", "term")])
def test_shutdown(server, mode, sig):
    s, path = start(server)
    assert ctl(path, f"shutdown {mode}".strip()) == {"status": "shutting_down", "mode": mode or "graceful"}
    assert s.proc.wait(20) == 0
    assert f"Handling signal: {sig}" in s.log()
    assert not os.path.exists(path)


# -- raw frames ------------------------------------------------------------------------------

def send(c, obj=None, raw=None):
    payload = raw if raw is not None else json.dumps(obj).encode()
    c.sendall(struct.pack(">I", len(payload)) + payload)


def recv(c):
    def exactly(n):
        b = b""
        while len(b) < n:
            chunk = c.recv(n - len(b))
            if not chunk:
                raise EOFError(f"closed after {len(b)} of {n} bytes")
            b += chunk
        return b
    (n,) = struct.unpack(">I", exactly(4))
    return json.loads(exactly(n))


def closed(c):
    c.settimeout(10)
    try:
        return c.recv(1) == b""
    except ConnectionResetError:
        return True


def test_raw_replies_and_connection_reuse(server):
    s, path = start(server)
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(10)
        c.connect(path)
        send(c, {"id": 7, "command": "nope", "args": []})
        assert recv(c) == {"id": 7, "status": "error", "error": "Invalid argument: Unknown command: nope"}
        send(c, {"id": 8, "command": "   "})
        assert recv(c) == {"id": 8, "status": "error", "error": "Empty command"}
        send(c, {"id": "x", "command": "show", "args": ["stats"]})
        reply = recv(c)
        assert reply["id"] == "x" and reply["status"] == "ok" and reply["data"]["pid"] == s.pid
        # gunicornc's own shlex refuses this line; the server's says the same.
        send(c, {"id": 10, "command": "show 'workers"})
        assert recv(c) == {"id": 10, "status": "error", "error": "Invalid argument: No closing quotation"}
        send(c, {"id": 9, "command": "show", "args": 5})
        assert recv(c) == {"id": 9, "status": "error", "error": "Command failed: 'int' object is not iterable"}
        # Last: gunicorn drops every control connection when it forks a worker.
        send(c, {"command": "worker", "args": ["add", 0]})  # no id: 0; count at least 1
        assert recv(c) == {"id": 0, "status": "ok", "data": {"added": 1, "previous": 1, "total": 2}}


@pytest.mark.gonicorn_only
def test_raw_connection_survives_worker_spawns(server):
    # gunicorn stops its control server around every fork, which resets open connections.
    s, path = start(server)
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(10)
        c.connect(path)
        send(c, {"id": 1, "command": "worker add"})
        assert recv(c)["data"] == {"added": 1, "previous": 1, "total": 2}
        wait_for(lambda: count(path) == 2, "2 workers")
        send(c, {"id": 2, "command": "show workers"})
        assert recv(c)["data"]["count"] == 2


@pytest.mark.parametrize("frame", [
    pytest.param(struct.pack(">I", 16 * 1024 * 1024 + 1), id="too-large"),
    pytest.param(struct.pack(">I", 8) + b"not json", id="bad-json"),
    pytest.param(struct.pack(">I", 2) + b"\xff\xfe", id="not-utf8"),
    pytest.param(struct.pack(">I", 6) + b"[1, 2]", id="not-an-object"),
    pytest.param(struct.pack(">I", 14) + b'{"command": 1}', id="command-not-a-string"),
    pytest.param(struct.pack(">I", 0), id="empty"),
])
def test_raw_malformed_closes_without_reply(server, frame):
    s, path = start(server)
    with socket.socket(socket.AF_UNIX) as c:
        c.settimeout(10)
        c.connect(path)
        c.sendall(frame)
        assert closed(c)
    # The server is still there for the next client.
    assert ctl(path, "show stats")["pid"] == s.pid
