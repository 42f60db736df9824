"""Test harness: start gonicorn or gunicorn with the same command line and talk to it.

SERVER=gonicorn (default) runs $GONICORN_BIN (default bin/gonicorn) with VIRTUAL_ENV
pointing at the repo's .venv, so the app's packages import. SERVER=gunicorn runs
.venv/bin/gunicorn ($GUNICORN_BIN). Every test goes through Server, so each one can be
checked against real gunicorn before gonicorn implements it.
"""
import os
import re
import shlex
import signal
import signal as _signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"
APPS = TESTS / "apps"
CONFIGS = TESTS / "configs"
VENV = Path(os.environ.get("GONICORN_TEST_VENV", REPO / ".venv"))
SERVER = os.environ.get("SERVER", "gonicorn")
if SERVER not in ("gonicorn", "gunicorn"):
    raise RuntimeError(f"SERVER={SERVER!r}: use SERVER=gonicorn or SERVER=gunicorn")

BOOT_TIMEOUT = float(os.environ.get("GONICORN_TEST_BOOT_TIMEOUT", "20"))
BOOT_RE = re.compile(r"Booting worker with pid: (\d+)")
# The variables that change gunicorn's defaults; a developer's shell must not leak them in.
_SCRUB_ENV = ("GUNICORN_CMD_ARGS", "WEB_CONCURRENCY", "PORT", "SCRIPT_NAME",
              "FORWARDED_ALLOW_IPS", "ACCESS_LOG", "ERROR_LOG", "PYTHONPATH")


def server_argv0(kind=None):
    """The command that replaces the word `gunicorn` in a command line."""
    if (kind or SERVER) == "gunicorn":
        return [os.environ.get("GUNICORN_BIN", str(VENV / "bin" / "gunicorn"))]
    return [os.environ.get("GONICORN_BIN", str(REPO / "bin" / "gonicorn"))]


def server_env(extra=None):
    env = {k: v for k, v in os.environ.items() if k not in _SCRUB_ENV}
    env["VIRTUAL_ENV"] = str(VENV)
    env["PATH"] = f"{VENV / 'bin'}:{env.get('PATH', '/usr/bin:/bin')}"
    env.pop("PYTHONHOME", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    if extra:
        for k, v in extra.items():
            if v is None:
                env.pop(k, None)
            else:
                env[k] = v
    return env


def free_port(host="127.0.0.1"):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def ipv6_available():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


def children(pid):
    """Direct children of pid, from /proc (Linux)."""
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out.extend(int(p) for p in f.read().split())
    except FileNotFoundError:
        pass
    return sorted(set(out))


def descendants(pid):
    out = []
    todo = [pid]
    while todo:
        kids = children(todo.pop())
        out.extend(kids)
        todo.extend(kids)
    return out


class ServerError(AssertionError):
    pass


class Server:
    """One server process started from a gunicorn-style command line.

    args: the arguments after the program name (app URI included), as a list or a string.
    bind: True adds `--bind 127.0.0.1:PORT` with a free port; False adds nothing (the
    test binds itself, e.g. unix sockets or PORT env); a string is used as the host.
    """

    def __init__(self, args, *, bind=True, env=None, cwd=APPS, workdir=None, port=None, kind=None):
        self.kind = kind or SERVER
        if isinstance(args, str):
            args = shlex.split(args)
        self.args = list(args)
        self.cwd = str(cwd)
        self.env = server_env(env)
        self.host = "127.0.0.1"
        self.port = port
        if bind:
            if isinstance(bind, str):
                self.host = bind
            self.port = self.port or free_port(self.host)
            hostpart = f"[{self.host}]" if ":" in self.host else self.host
            self.args = ["--bind", f"{hostpart}:{self.port}"] + self.args
        self.workdir = Path(workdir or tempfile.mkdtemp(prefix="gonicorn-test-"))
        # gunicorn 25.1+ (and gonicorn) serve a control socket at $XDG_RUNTIME_DIR/gunicorn.ctl
        # by default: give each server its own directory (short: sun_path is 108 bytes), so
        # servers running at once never take each other's socket over.
        if not (env and "XDG_RUNTIME_DIR" in env):
            ctl_dir = self.workdir if len(str(self.workdir)) < 80 else Path(tempfile.mkdtemp(prefix="gctl-"))
            self.env["XDG_RUNTIME_DIR"] = str(ctl_dir)
        self.stdout_path = self.workdir / "stdout.log"
        self.stderr_path = self.workdir / "stderr.log"
        self.proc = None
        self.returncode = None

    # -- lifecycle -----------------------------------------------------------------
    @property
    def cmd(self):
        return server_argv0(self.kind) + self.args

    def start(self, wait=True, workers=1):
        if self.kind == "gonicorn" and not os.path.exists(self.cmd[0]):
            raise ServerError(f"{self.cmd[0]} does not exist: build it with "
                              f"`go build -o bin/gonicorn ./cmd/gonicorn` or set GONICORN_BIN")
        self._out = open(self.stdout_path, "wb")
        self._err = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(self.cmd, cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=self._err, start_new_session=True)
        if wait:
            self.wait_ready(workers=workers)
        return self

    @property
    def pid(self):
        return self.proc.pid

    def wait_ready(self, workers=1, timeout=BOOT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._fail(f"server exited with status {self.proc.returncode} before it was ready")
            if len(self.worker_pids()) >= workers and self._accepts():
                return self
            time.sleep(0.05)
        self._fail(f"server not ready after {timeout:.0f}s (want {workers} x 'Booting worker with pid'"
                   f" and {self.address()} accepting)")

    def _accepts(self):
        if self.port is None:
            return True
        try:
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(0.5)
                s.connect((self.host, self.port))
            return True
        except OSError:
            return False

    def address(self):
        return f"{self.host}:{self.port}"

    def _fail(self, why):
        raise ServerError(f"{why}\ncommand: {shlex.join(self.cmd)}\ncwd: {self.cwd}\n"
                          f"--- stdout ---\n{self.stdout()}\n--- stderr ---\n{self.stderr()}")

    def send_signal(self, sig):
        os.kill(self.proc.pid, sig)

    def stop(self, sig=_signal.SIGTERM, timeout=15):
        """Signal the master and wait; SIGKILL the whole group if it does not exit in time."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._reap_group()
        self.returncode = self.proc.returncode
        self._close_files()
        return self.returncode

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(10)

    def _reap_group(self):
        # Workers left behind by a crashed master would hold the port for the next test.
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _close_files(self):
        for f in (getattr(self, "_out", None), getattr(self, "_err", None)):
            if f and not f.closed:
                f.close()

    def wait_exit(self, timeout=BOOT_TIMEOUT):
        """For commands expected to exit by themselves (errors, --check-config)."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            self._fail(f"server still running after {timeout:.0f}s; it was expected to exit")
        self._reap_group()
        self.returncode = self.proc.returncode
        self._close_files()
        return self.returncode

    def __enter__(self):
        if self.proc is None:
            self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # -- logs ----------------------------------------------------------------------
    def stdout(self):
        return self.stdout_path.read_text(errors="replace") if self.stdout_path.exists() else ""

    def stderr(self):
        return self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""

    def log(self):
        return self.stdout() + self.stderr()

    def worker_pids(self):
        return [int(m) for m in BOOT_RE.findall(self.log())]

    def wait_for_log(self, pattern, timeout=10, count=1, stream="log"):
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            text = getattr(self, stream)()
            found = rx.findall(text)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                self._fail(f"log never matched {pattern!r} {count} time(s) within {timeout}s")
            time.sleep(0.05)

    # -- client helpers ------------------------------------------------------------
    def url(self, path="/"):
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{path}"

    def connect(self, timeout=10):
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        s = socket.socket(family, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect((self.host, self.port))
        return s

    def raw(self, data, timeout=10, shutdown=False):
        """Send raw bytes, return everything the server sends until it closes or goes quiet."""
        with self.connect(timeout) as s:
            s.sendall(data)
            if shutdown:
                s.shutdown(socket.SHUT_WR)
            return recv_all(s, timeout)


def recv_all(sock, timeout=10, quiet=None):
    """Read until EOF, or until nothing arrives for `quiet` seconds (None: only EOF/timeout)."""
    chunks = []
    deadline = time.monotonic() + timeout
    sock.settimeout(quiet if quiet else timeout)
    while time.monotonic() < deadline:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            break
        except ConnectionResetError:
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks)


class Response:
    """A parsed HTTP/1.x response from raw bytes."""

    def __init__(self, status, reason, version, headers, body):
        self.status = status
        self.reason = reason
        self.version = version
        self.headers = headers  # list of (name, value), wire order
        self.body = body

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def __repr__(self):
        return f"<Response {self.status} {self.headers!r} {self.body[:200]!r}>"


def parse_responses(data, head_requests=(), eof=True):
    """Split a byte stream into Responses (Content-Length, chunked or read-to-EOF bodies).

    head_requests: indexes of responses that answer HEAD (they have no body).
    eof=False: the stream may go on, so raise ValueError for any incomplete response.
    """
    out = []
    while data:
        end = data.find(b"\r\n\r\n")
        if end < 0:
            raise ValueError(f"incomplete response head: {data[:300]!r}")
        head, data = data[:end].decode("latin-1"), data[end + 4:]
        lines = head.split("\r\n")
        parts = lines[0].split(" ", 2)
        version, status = parts[0], int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = []
        for line in lines[1:]:
            k, _, v = line.partition(":")
            headers.append((k, v.strip()))
        hmap = {k.lower(): v for k, v in headers}
        if len(out) in head_requests or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "chunked" in hmap.get("transfer-encoding", "").lower():
            body = b""
            while True:
                i = data.index(b"\r\n")
                size = int(data[:i].split(b";")[0], 16)
                data = data[i + 2:]
                if size == 0:
                    j = data.index(b"\r\n\r\n") if not data.startswith(b"\r\n") else -2
                    data = data[j + 4:]
                    break
                body += data[:size]
                data = data[size + 2:]
        elif "content-length" in hmap:
            n = int(hmap["content-length"])
            if len(data) < n:
                raise ValueError(f"body incomplete: {len(data)} of {n} bytes")
            body, data = data[:n], data[n:]
        else:
            if not eof:
                raise ValueError("close-delimited body: complete only at EOF")
            body, data = data, b""
        out.append(Response(status, reason, version, headers, body))
    return out


def mask_log_line(line, port=None):
    """Mask what differs run to run (time, pids, version, server name) in an error-log line."""
    line = re.sub(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] ", "[TIME] ", line)
    line = re.sub(r"\[\d+\] \[", "[PID] [", line, count=1)
    line = re.sub(r"Starting g[ou]nicorn \S+", "Starting SERVER VERSION", line)
    line = re.sub(r"pid: \d+", "pid: PID", line)
    line = re.sub(r"\(\d+\)$", "(PID)", line)
    if port:
        line = line.replace(f":{port}", ":PORT")
    return line
