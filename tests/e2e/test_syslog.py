"""Syslog: --log-syslog, --log-syslog-to, --log-syslog-prefix, --log-syslog-facility and
--disable-redirect-access-to-syslog (reference §3.8).

The test is the syslog daemon: it binds a UDP or unix datagram socket and checks the
exact records, which are Python SysLogHandler's bytes: ``<PRI>gunicorn.<prefix>.<error|access>:
[pid] message\\0`` with PRI = facility * 8 + severity.
"""
import os
import re
import shutil
import signal
import socket
import tempfile
import threading
import time

import pytest
import requests

from harness import SERVER, free_port

RECORD = re.compile(rb"<(\d+)>gunicorn\.(.+)\.(error|access): \[(\d+)\] (.*)\x00", re.S)


class Daemon:
    """Collects the datagrams sent to sock in a thread."""

    def __init__(self, sock):
        self.sock = sock
        self.raw = []
        self.lock = threading.Lock()
        sock.settimeout(0.2)
        self.running = True
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while self.running:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.raw.append(data)

    def records(self):
        with self.lock:
            return list(self.raw)

    def wait(self, pattern, timeout=10, count=1):
        """Records matching the bytes regex pattern; fails after timeout with what arrived."""
        rx = re.compile(pattern, re.S)
        deadline = time.monotonic() + timeout
        while True:
            found = [r for r in self.records() if rx.fullmatch(r)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                raise AssertionError(f"no syslog record matched {pattern!r} within {timeout}s; "
                                     f"got {self.records()!r}")
            time.sleep(0.05)

    def close(self):
        self.running = False
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def udp_daemon():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    d = Daemon(sock)
    d.addr = f"udp://127.0.0.1:{sock.getsockname()[1]}"
    yield d
    d.close()


@pytest.fixture
def unix_daemon():
    # sun_path is 108 bytes; pytest's tmp_path can be longer.
    tmp = tempfile.mkdtemp(prefix="sl")
    path = os.path.join(tmp, "log.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    d = Daemon(sock)
    d.path = path
    yield d
    d.close()
    shutil.rmtree(tmp, ignore_errors=True)


def esc(s):
    return re.escape(s.encode())


def get(s, path="/", ua="syslog-test"):
    r = requests.get(s.url(path), timeout=10, headers={"User-Agent": ua})
    assert r.status_code == 200
    return r


def test_error_and_access_records_over_udp(server, udp_daemon):
    s = server(["--log-syslog", "--log-syslog-to", udp_daemon.addr, "hello_wsgi:app"])
    get(s, "/x?y=1", ua="ua")
    master, worker = s.pid, s.worker_pids()[0]
    tag = b"<14>gunicorn.hello_wsgi.app"  # facility user (1) * 8 + info (6)
    udp_daemon.wait(tag + rb"\.error: \[%d\] Starting g[ou]nicorn \S+\x00" % master)
    udp_daemon.wait(tag + rb"\.error: \[%d\] Listening at: http://127\.0\.0\.1:%d \(%d\)\x00"
                    % (master, s.port, master))
    udp_daemon.wait(tag + rb"\.error: \[%d\] Booting worker with pid: %d\x00" % (worker, worker))
    udp_daemon.wait(tag + rb'\.access: \[%d\] 127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
                    rb'"GET /x\?y=1 HTTP/1\.1" 200 14 "-" "ua"\x00' % worker)
    s.stop()
    udp_daemon.wait(tag + rb"\.error: \[%d\] Shutting down: Master\x00" % master)
    for r in udp_daemon.records():
        assert RECORD.fullmatch(r), r
    # --log-syslog alone turns the access log on, but only towards syslog.
    assert "GET /x" not in s.log()


def test_name_becomes_prefix_and_facility_sets_priority(server, udp_daemon):
    s = server(["--log-syslog", "--log-syslog-to", udp_daemon.addr, "-n", "web:front",
                "--log-syslog-facility", "LOCAL3", "hello_wsgi:app"])
    get(s)
    # local3 (19) * 8 + info (6) = 158; ':' in the name becomes '.'.
    udp_daemon.wait(rb"<158>gunicorn\.web\.front\.error: \[%d\] Starting .*\x00" % s.pid)
    udp_daemon.wait(rb'<158>gunicorn\.web\.front\.access: \[\d+\] 127\.0\.0\.1 .*"GET / HTTP/1\.1" 200 .*\x00')


def test_syslog_prefix_wins_over_name(server, udp_daemon):
    s = server(["--log-syslog", "--log-syslog-to", udp_daemon.addr, "-n", "web",
                "--log-syslog-prefix", "shop", "--log-syslog-facility", "daemon", "hello_wsgi:app"])
    get(s)
    # daemon (3) * 8 + info (6) = 30
    udp_daemon.wait(rb"<30>gunicorn\.shop\.error: \[%d\] Starting .*\x00" % s.pid)
    udp_daemon.wait(rb'<30>gunicorn\.shop\.access: .*"GET / HTTP/1\.1" 200 .*\x00')
    assert not [r for r in udp_daemon.records() if b"gunicorn.web." in r]


def test_warning_and_error_severities(server, udp_daemon, tmp_path):
    # A worker killed by the master is logged at ERROR by gunicorn ("Worker (pid:N) was sent
    # SIGKILL! Perhaps out of memory?") or WARNING; both must carry their syslog severity.
    s = server(["--log-syslog", "--log-syslog-to", udp_daemon.addr, "--log-syslog-facility", "local0",
                "hello_wsgi:app"])
    worker = s.worker_pids()[0]
    os.kill(worker, 9)
    # local0 (16) * 8 = 128; error = 3, warning = 4
    recs = udp_daemon.wait(rb"<13[12]>gunicorn\.hello_wsgi\.app\.error: \[%d\] Worker \(pid:%d\) .*\x00"
                           % (s.pid, worker))
    line = [l for l in s.stderr().splitlines() if f"Worker (pid:{worker})" in l][0]
    level = re.search(r"\[(WARNING|ERROR)\]", line).group(1)
    assert recs[0].startswith(b"<131>" if level == "ERROR" else b"<132>"), (recs, line)


def test_disable_redirect_access_to_syslog(server, udp_daemon):
    s = server(["--log-syslog", "--log-syslog-to", udp_daemon.addr, "--disable-redirect-access-to-syslog",
                "--access-logfile", "-", "hello_wsgi:app"])
    get(s, "/only-stdout")
    s.wait_for_log(r'"GET /only-stdout HTTP/1\.1" 200', stream="stdout")
    udp_daemon.wait(rb"<14>gunicorn\.hello_wsgi\.app\.error: \[%d\] Starting .*\x00" % s.pid)
    s.stop()
    udp_daemon.wait(rb".*Shutting down: Master\x00")
    assert not [r for r in udp_daemon.records() if b".access:" in r], udp_daemon.records()


def test_access_logfile_and_syslog_both_get_the_line(server, udp_daemon):
    s = server(["--log-syslog", "--log-syslog-to", udp_daemon.addr, "--access-logfile", "-",
                "hello_wsgi:app"])
    get(s, "/both")
    s.wait_for_log(r'"GET /both HTTP/1\.1" 200', stream="stdout")
    line = [l for l in s.stdout().splitlines() if "/both" in l][0]
    udp_daemon.wait(rb"<14>gunicorn\.hello_wsgi\.app\.access: \[\d+\] " + esc(line) + rb"\x00")


def test_no_syslog_without_the_flag(server, udp_daemon):
    s = server(["--log-syslog-to", udp_daemon.addr, "--access-logfile", "-", "hello_wsgi:app"])
    get(s)
    s.stop()
    time.sleep(0.3)
    assert udp_daemon.records() == []


@pytest.mark.parametrize("suffix", ["#dgram", ""])
def test_unix_datagram_socket(server, unix_daemon, suffix):
    s = server(["--log-syslog", "--log-syslog-to", f"unix://{unix_daemon.path}{suffix}", "hello_wsgi:app"])
    get(s, "/unix")
    unix_daemon.wait(rb"<14>gunicorn\.hello_wsgi\.app\.error: \[%d\] Starting .*\x00" % s.pid)
    unix_daemon.wait(rb'<14>gunicorn\.hello_wsgi\.app\.access: \[\d+\] .*"GET /unix HTTP/1\.1" 200 .*\x00')


@pytest.mark.parametrize("args,message", [
    (["--log-syslog-facility", "bogus"], "unknown facility name"),
    (["--log-syslog-to", "ftp://loghost"], "invalid syslog address"),
    (["--log-syslog-to", "udp://127.0.0.1:abc"], "'abc' is not a valid port number."),
    (["--log-syslog-to", "udp://no-such-host.invalid:514"], ""),
    (["--log-syslog-to", "tcp://127.0.0.1:{refused}"], "connection refused"),
])
def test_bad_syslog_settings_stop_startup(server, args, message):
    args = [a.replace("{refused}", str(free_port())) for a in args]
    s = server(["--log-syslog"] + args + ["hello_wsgi:app"], start=False)
    s.start(wait=False)
    assert s.wait_exit() == 1
    assert message.lower() in s.stderr().lower()
    assert "Booting worker" not in s.stderr()


def test_bad_syslog_settings_ignored_without_the_flag(server):
    s = server(["--log-syslog-facility", "bogus", "--log-syslog-to", "ftp://x", "hello_wsgi:app"])
    get(s)


@pytest.mark.gonicorn_only
@pytest.mark.parametrize("args,parts", [
    (["--log-syslog-facility", "bogus"],
     ['--log-syslog-facility "bogus"', "use one of auth, authpriv"]),
    (["--log-syslog-to", "ftp://loghost"],
     ['--log-syslog-to "ftp://loghost"', "use unix://PATH[#dgram|#stream], udp://HOST:PORT or tcp://HOST:PORT"]),
    (["--log-syslog-to", "unix:///dev/log#raw"], ['unknown socket type "raw"']),
    (["--log-syslog-to", "tcp://127.0.0.1:{refused}"],
     ["cannot reach the syslog daemon at --log-syslog-to", "start it first or fix the address"]),
])
def test_bad_syslog_settings_say_what_to_use(server, args, parts):
    args = [a.replace("{refused}", str(free_port())) for a in args]
    s = server(["--log-syslog"] + args + ["hello_wsgi:app"], start=False)
    s.start(wait=False)
    assert s.wait_exit() == 1
    err = s.stderr()
    assert err.startswith("\nError: "), err
    for p in parts:
        assert p in err, err


def test_dead_daemon_never_breaks_serving(server, udp_daemon):
    s = server(["--log-syslog", "--log-syslog-to", udp_daemon.addr, "hello_wsgi:app"])
    udp_daemon.wait(rb".*Booting worker.*\x00")
    udp_daemon.close()
    for i in range(30):
        get(s, f"/after-{i}")


def test_missing_unix_socket_never_breaks_serving(server, tmp_path):
    s = server(["--log-syslog", "--log-syslog-to", f"unix://{tmp_path}/none.sock#dgram", "hello_wsgi:app"])
    for i in range(5):
        get(s, f"/n{i}")


@pytest.mark.gonicorn_only
def test_missing_unix_socket_is_reported_once_by_the_master(server, tmp_path):
    path = f"{tmp_path}/none.sock"
    s = server(["--log-syslog", "--log-syslog-to", f"unix://{path}#dgram", "hello_wsgi:app"])
    for i in range(5):
        get(s, f"/n{i}")
    s.stop()
    lines = [l for l in s.stderr().splitlines() if "[WARNING] syslog: cannot send to" in l]
    assert len(lines) == 1, s.stderr()
    assert f"--log-syslog-to unix://{path}#dgram" in lines[0]
    assert "lines are dropped until it is reachable again" in lines[0]


@pytest.fixture
def unix_stream_daemon():
    """A stream syslog daemon: one reader thread per connection, records split at NUL."""
    tmp = tempfile.mkdtemp(prefix="sl")
    path = os.path.join(tmp, "log.sock")
    ln = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ln.bind(path)
    ln.listen(16)
    ln.settimeout(0.2)
    d = Daemon.__new__(Daemon)
    d.raw, d.lock, d.running, d.path = [], threading.Lock(), True, path

    def read(conn):
        buf = b""
        with conn:
            while d.running:
                try:
                    data = conn.recv(65536)
                except socket.timeout:
                    continue
                if not data:
                    return
                buf += data
                *recs, buf = buf.split(b"\x00")
                with d.lock:
                    d.raw.extend(r + b"\x00" for r in recs)

    def accept():
        while d.running:
            try:
                conn, _ = ln.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(0.2)
            threading.Thread(target=read, args=(conn,), daemon=True).start()

    d.sock, d.thread = ln, threading.Thread(target=accept, daemon=True)
    d.thread.start()
    yield d
    d.close()
    shutil.rmtree(tmp, ignore_errors=True)


@pytest.mark.parametrize("suffix", ["", "#stream"])
def test_unix_stream_socket_fallback(server, unix_stream_daemon, suffix):
    # Without #dgram, SysLogHandler tries a datagram socket, then a stream one; over a
    # stream the NUL that ends every record is the only separator.
    d = unix_stream_daemon
    s = server(["--log-syslog", "--log-syslog-to", f"unix://{d.path}{suffix}", "hello_wsgi:app"])
    get(s, "/stream")
    d.wait(rb"<14>gunicorn\.hello_wsgi\.app\.error: \[%d\] Starting .*\x00" % s.pid)
    d.wait(rb'<14>gunicorn\.hello_wsgi\.app\.access: \[\d+\] .*"GET /stream HTTP/1\.1" 200 .*\x00')
    worker = s.worker_pids()[0]
    d.wait(rb"<14>gunicorn\.hello_wsgi\.app\.error: \[%d\] Booting worker with pid: %d\x00" % (worker, worker))


def test_hup_applies_new_syslog_settings(server, udp_daemon, tmp_path):
    conf = tmp_path / "conf.py"
    base = f'syslog = True\nsyslog_addr = "{udp_daemon.addr}"\n'
    conf.write_text(base + 'syslog_prefix = "one"\n')
    s = server(["-c", str(conf), "hello_wsgi:app"])
    udp_daemon.wait(rb"<14>gunicorn\.one\.error: \[%d\] Starting .*\x00" % s.pid)
    conf.write_text(base + 'syslog_prefix = "two"\nsyslog_facility = "local1"\n')
    s.send_signal(signal.SIGHUP)
    # local1 (17) * 8 + info (6) = 142, from the master and from the new workers alike.
    udp_daemon.wait(rb"<142>gunicorn\.two\.error: \[\d+\] Booting worker with pid: \d+\x00")
    deadline = time.monotonic() + 10
    while True:
        get(s, "/after-hup")
        try:
            udp_daemon.wait(rb'<142>gunicorn\.two\.access: \[\d+\] .*"GET /after-hup HTTP/1\.1" 200 .*\x00',
                            timeout=0.5)
            break
        except AssertionError:
            if time.monotonic() > deadline:
                raise
    s.stop()
    udp_daemon.wait(rb"<142>gunicorn\.two\.error: \[%d\] Shutting down: Master\x00" % s.pid)
