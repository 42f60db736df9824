"""Fixtures shared by tests/e2e and tests/compat (the harness itself is tests/harness.py)."""
import os
import subprocess

import pytest

import harness
from harness import SERVER, Server



def pytest_report_header(config):
    return [f"SERVER={SERVER} command={' '.join(harness.server_argv0())} venv={harness.VENV}"]


def pytest_collection_modifyitems(config, items):
    if SERVER != "gunicorn":
        return
    skip = pytest.mark.skip(reason="gonicorn-only behaviour (SERVER=gunicorn)")
    for item in items:
        if "gonicorn_only" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def server(tmp_path):
    """Factory: server(args, **kw) -> a started Server, stopped (TERM, then KILL) at teardown.

    Pass start=False to get it unstarted (for commands expected to fail).
    """
    started = []

    def make(args, start=True, workers=1, **kw):
        kw.setdefault("workdir", tmp_path / f"server{len(started)}")
        os.makedirs(kw["workdir"], exist_ok=True)
        s = Server(args, **kw)
        started.append(s)
        if start:
            s.start(workers=workers)
        return s

    yield make
    for s in started:
        if s.proc is not None:
            s.stop()


class _Pool:
    """Session-wide servers keyed by their arguments, so tests with equal settings share one."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.servers = {}

    def get(self, args, cwd=harness.APPS, env=None):
        key = (tuple(args), str(cwd), tuple(sorted((env or {}).items())))
        s = self.servers.get(key)
        if s is not None and s.proc.poll() is None:
            return s
        workdir = self.tmp / f"pool{len(self.servers)}"
        workdir.mkdir(parents=True, exist_ok=True)
        s = Server(list(args), cwd=cwd, env=env, workdir=workdir).start()
        self.servers[key] = s
        return s

    def close(self):
        for s in self.servers.values():
            s.stop()


@pytest.fixture(scope="session")
def pool(tmp_path_factory):
    p = _Pool(tmp_path_factory.mktemp("pool"))
    yield p
    p.close()


@pytest.fixture(scope="session")
def echo_server(pool):
    return pool.get(["--access-logfile", "-", "echo_wsgi:app"])


@pytest.fixture(scope="session")
def flask_server(pool):
    return pool.get(["--access-logfile", "-", "flask_app:app"])


def run_cli(args, env=None, cwd=harness.APPS, timeout=30):
    """Run the server command to completion (for --version, --check-config, errors)."""
    return subprocess.run(harness.server_argv0() + list(args), cwd=str(cwd), env=harness.server_env(env),
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.fixture
def cli():
    return run_cli
