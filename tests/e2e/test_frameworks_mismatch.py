"""The seed's mismatch cases: an app run under the wrong worker class, an unknown class, a
class whose library is missing. gunicorn answers these with a TypeError per request
(`FastAPI.__call__() missing 1 required positional argument: 'send'`, `Application.__call__()
takes 1 positional argument but 3 were given`) or a traceback; gonicorn serves the app with the
right class and one WARNING naming the -k to use, or stops with one clear line."""
import re

import pytest
import requests

import harness

FW = harness.APPS / "frameworks"
WARNING_RE = re.compile(r"^\[[^]]+\] \[\d+\] \[WARNING\] (.*)$", re.M)


def warnings(s):
    return WARNING_RE.findall(s.log())


@pytest.mark.gonicorn_only
@pytest.mark.parametrize("extra", [[], ["--threads", "2"]], ids=["sync", "gthread"])
def test_fastapi_under_wsgi_class_is_served_with_a_warning(server, extra):
    pytest.importorskip("fastapi")
    s = server(extra + ["fw_fastapi:app"], cwd=FW)
    r = requests.get(s.url("/health"), timeout=10)
    assert (r.status_code, r.text) == (200, "ok"), s.log()
    assert requests.get(s.url("/json"), timeout=10).json() == {"message": "Hello, World!"}
    w = warnings(s)
    assert len(w) == 1, f"want exactly one WARNING, got {w}"
    assert "-k uvicorn.workers.UvicornWorker" in w[0] or "-k asgi" in w[0], w[0]
    assert "fw_fastapi:app" in w[0], w[0]
    assert "Traceback" not in s.log() and "TypeError" not in s.log(), s.log()


@pytest.mark.gonicorn_only
def test_fastapi_websocket_under_sync_after_switch(server):
    """The switched worker is a full asgi worker: WebSocket works too."""
    pytest.importorskip("websockets")
    from websockets.sync.client import connect
    s = server(["fw_fastapi:app"], cwd=FW)
    with connect(f"ws://127.0.0.1:{s.port}/ws/echo", open_timeout=10) as c:
        c.send("hi")
        assert c.recv(timeout=10) == "hi"


@pytest.mark.gonicorn_only
def test_aiohttp_app_under_sync(server):
    """Served by the aiohttp worker with one WARNING naming the class, or a clean stop with one
    line naming it; never a TypeError per request."""
    pytest.importorskip("aiohttp")
    s = server(["fw_aiohttp:app"], cwd=FW, start=False)
    s.start(wait=False)
    try:
        s.wait_ready()
    except harness.ServerError:
        # stopped at boot: one clear line, no traceback
        assert s.wait_exit() != 0
        log = s.log()
        assert "Traceback" not in log, log
        assert len([l for l in log.splitlines() if "aiohttp.worker.GunicornWebWorker" in l]) == 1, log
        return
    r = requests.get(s.url("/health"), timeout=10)
    assert (r.status_code, r.text) == (200, "ok"), s.log()
    w = warnings(s)
    assert len(w) == 1 and "aiohttp.worker.GunicornWebWorker" in w[0], f"want one WARNING naming -k aiohttp.worker.GunicornWebWorker, got {w}\n{s.log()}"
    assert "TypeError" not in s.log(), s.log()


@pytest.mark.gonicorn_only
def test_wsgi_app_under_asgi_stops_with_one_line(server):
    s = server(["-k", "asgi", "hello_wsgi:app"], start=False)
    s.start(wait=False)
    assert s.wait_exit() != 0, s.log()
    lines = [l for l in s.log().splitlines() if "-k sync" in l]
    assert len(lines) == 1, s.log()
    assert "hello_wsgi:app" in lines[0]


def test_afakeclass_gunicorn_text(server):
    """The seed's `--worker-class afakeclass`: gunicorn's exact text on stderr, exit 1."""
    s = server(["--worker-class", "afakeclass", "--timeout", "600", "--access-logfile", "-",
                "--error-logfile", "-", "hello_wsgi:app"], start=False)
    s.start(wait=False)
    assert s.wait_exit() == 1, s.log()
    err = s.stderr()
    assert err.lstrip("\n").startswith("Error: class uri 'afakeclass' invalid or not found: \n\n[Traceback"), err
    assert "ImportError: Entry point ('gunicorn.workers', 'afakeclass') not found\n]" in err, err
    assert "Booting worker" not in s.log()


@pytest.mark.parametrize("name", ["nomod.Worker", "egg:gunicorn#afake"])
def test_other_unknown_classes_exit_1(server, name):
    s = server(["-k", name, "hello_wsgi:app"], start=False)
    s.start(wait=False)
    assert s.wait_exit() == 1, s.log()
    assert f"Error: class uri '{name}' invalid or not found" in s.stderr(), s.stderr()


@pytest.mark.gonicorn_only
@pytest.mark.parametrize("worker,package", [("tornado", "tornado"), ("gevent", "gevent"),
                                            ("aiohttp.worker.GunicornWebWorker", "aiohttp")])
def test_missing_library_one_line(server, tmp_path, worker, package):
    """A class whose library is not installed: one line naming the package to install."""
    shadow = tmp_path / "shadow" / package
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text(
        f"raise ModuleNotFoundError(\"No module named '{package}'\", name={package!r})\n")
    s = server(["-k", worker, "hello_wsgi:app"], start=False,
               env={"PYTHONPATH": str(tmp_path / "shadow")})
    s.start(wait=False)
    assert s.wait_exit() != 0, s.log()
    log = s.log()
    assert "Traceback" not in log, log
    hits = [l for l in log.splitlines() if f"pip install {package}" in l]
    assert len(hits) == 1, f"want one line saying `pip install {package}`:\n{log}"
