"""ASGI lifespan under the asgi worker: markers, state, --asgi-lifespan on|auto|off, and a
failing startup (gunicorn: with `on`, `ASGI lifespan startup failed` is logged and the worker
exits to be respawned; with `auto`, the app is served without lifespan)."""
import time

import pytest
import requests

import harness

FW = harness.APPS / "frameworks"


def lines(path):
    return path.read_text().splitlines() if path.exists() else []


def test_startup_and_shutdown_markers(server, tmp_path):
    marks = tmp_path / "lifespan.txt"
    s = server(["-k", "asgi", "asgi_raw:app"], cwd=FW, env={"FW_LIFESPAN_FILE": str(marks)})
    pid = s.worker_pids()[0]
    assert requests.get(s.url("/health"), timeout=10).text == "ok"
    assert lines(marks) == [f"startup {pid}"]
    # state set during startup is in every request's scope
    assert requests.get(s.url("/state"), timeout=10).json() == ["started_at"]
    assert s.stop() == 0, s.log()
    assert lines(marks) == [f"startup {pid}", f"shutdown {pid}"], s.log()


def test_lifespan_off(server, tmp_path):
    marks = tmp_path / "lifespan.txt"
    s = server(["-k", "asgi", "--asgi-lifespan", "off", "asgi_raw:app"], cwd=FW,
               env={"FW_LIFESPAN_FILE": str(marks)})
    assert requests.get(s.url("/state"), timeout=10).json() == []
    s.stop()
    assert lines(marks) == []


@pytest.mark.parametrize("how", ["exception", "failed"])
def test_failing_startup_on_respawns(server, how):
    s = server(["-k", "asgi", "--asgi-lifespan", "on", "asgi_raw:app"], cwd=FW, start=False,
               env={"FW_LIFESPAN_FAIL": how})
    s.start(wait=False)
    # the worker logs the failure, exits, and the master starts another one
    s.wait_for_log(r"\[ERROR\] ASGI lifespan startup failed", timeout=20, count=2)
    assert "planned failure" in s.stderr(), s.stderr()
    assert s.proc.poll() is None, "the master must keep running and respawn the worker"
    assert len(s.worker_pids()) >= 2, s.log()


@pytest.mark.parametrize("how", ["exception", "failed"])
def test_failing_startup_auto_serves_without_lifespan(server, how):
    s = server(["-k", "asgi", "--asgi-lifespan", "auto", "asgi_raw:app"], cwd=FW,
               env={"FW_LIFESPAN_FAIL": how})
    assert requests.get(s.url("/health"), timeout=10).text == "ok"
    assert requests.get(s.url("/state"), timeout=10).json() == []
    time.sleep(0.5)
    assert len(s.worker_pids()) == 1, f"auto must not respawn the worker:\n{s.log()}"
    assert "[ERROR]" not in s.log(), s.log()


def test_fastapi_failing_startup_on(server, tmp_path):
    """A real framework whose lifespan raises: the same outcome as the plain app."""
    pytest.importorskip("fastapi")
    app = tmp_path / "failing_fastapi.py"
    app.write_text(
        "import contextlib\nfrom fastapi import FastAPI\n\n"
        "@contextlib.asynccontextmanager\nasync def lifespan(app):\n"
        "    raise RuntimeError('database unreachable')\n    yield\n\n"
        "app = FastAPI(lifespan=lifespan)\n")
    s = server(["-k", "asgi", "--asgi-lifespan", "on", "failing_fastapi:app"], cwd=tmp_path, start=False)
    s.start(wait=False)
    s.wait_for_log(r"\[ERROR\] ASGI lifespan startup failed", timeout=20, count=2)
    assert "database unreachable" in s.stderr(), s.stderr()
    assert s.proc.poll() is None


def test_uvicorn_worker_startup_failed_halts(server):
    """uvicorn's worker exits with WORKER_BOOT_ERROR when the app sends lifespan.startup.failed,
    so the master stops: `Reason: Worker failed to boot.`, exit 3."""
    pytest.importorskip("uvicorn")
    s = server(["-k", "uvicorn.workers.UvicornWorker", "asgi_raw:app"], cwd=FW, start=False,
               env={"FW_LIFESPAN_FAIL": "failed"})
    s.start(wait=False)
    assert s.wait_exit() == 3, s.log()
    assert "Reason: Worker failed to boot." in s.stderr(), s.stderr()


def test_uvicorn_worker_startup_exception_serves(server):
    """uvicorn's lifespan "auto": an exception before startup.complete means 'unsupported'."""
    pytest.importorskip("uvicorn")
    s = server(["-k", "uvicorn.workers.UvicornWorker", "asgi_raw:app"], cwd=FW,
               env={"FW_LIFESPAN_FAIL": "exception"})
    assert requests.get(s.url("/health"), timeout=10).text == "ok"
