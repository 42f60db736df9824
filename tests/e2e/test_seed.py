"""Every command line of the source document (reference/seed/000_0a7d4cd8a87b89ab.txt) must work.

The commands are run as written, with `gunicorn` replaced by the server under test, from
examples/hello (whose app.py defines the Flask `app`), and `--bind 0.0.0.0` given a free port.
"""
import re
import shlex
import subprocess
import time

import pytest
import requests

import harness
from harness import REPO, SERVER, Server, free_port

EXAMPLE = REPO / "examples" / "hello"
ACCESS_RE = re.compile(
    r'^127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
    r'"GET /seed-probe\?x=1 HTTP/1\.1" 200 \d+ "-" "seed-agent"$', re.M)
ERROR_LINE_RE = re.compile(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[INFO\] Using worker: (\S+)$", re.M)


def venv_has(module):
    out = subprocess.run([str(harness.VENV / "bin" / "python"), "-c", f"import {module}"],
                         capture_output=True)
    return out.returncode == 0


def seed_server(make, line, cwd=EXAMPLE, **kw):
    """Turn a seed command line into a started Server on a free port."""
    argv = shlex.split(line)
    assert argv[0] == "gunicorn"
    args = argv[1:]
    port = free_port()
    for i, a in enumerate(args):
        if a == "--bind":
            args[i + 1] = f"{args[i + 1]}:{port}"
            break
        if a.startswith("--bind="):
            args[i] = f"{a}:{port}"
            break
    else:
        args = ["--bind", f"127.0.0.1:{port}"] + args
    return make(args, bind=False, port=port, cwd=cwd, **kw)


SEED_WSGI = [
    ("gunicorn --bind 0.0.0.0 --timeout 600 --access-logfile '-' --error-logfile '-' app:app", "sync", 1),
    ("gunicorn --bind 0.0.0.0 --threads 2 --timeout 600 --access-logfile '-' --error-logfile '-' app:app",
     "gthread", 1),
    ("gunicorn --bind 0.0.0.0 --worker-class gthread --timeout 600 --access-logfile '-' --error-logfile '-' app:app",
     "gthread", 1),
    ("gunicorn --bind 0.0.0.0 -w 4 --access-logfile '-' --error-logfile '-' --timeout 600 app:app", "sync", 4),
    ("gunicorn --bind 0.0.0.0 --workers 4 --access-logfile '-' --error-logfile '-' --timeout 600 app:app",
     "sync", 4),
]


@pytest.mark.parametrize("line,worker,nworkers", SEED_WSGI, ids=[f"{w}-{n}w-{i}" for i, (_, w, n) in enumerate(SEED_WSGI)])
def test_seed_command(server, line, worker, nworkers):
    s = seed_server(server, line, workers=nworkers)
    r = requests.get(s.url("/seed-probe?x=1"), headers={"User-Agent": "seed-agent"}, timeout=10)
    assert r.status_code == 404  # Flask: unknown route; the access line still has 404
    r = requests.get(s.url("/"), headers={"User-Agent": "seed-agent"}, timeout=10)
    assert r.status_code == 200
    assert r.text == "Hello from gonicorn!\n"
    s.wait_for_log(r'"GET / HTTP/1\.1" 200', stream="stdout")
    # error log (stderr) says which worker class runs, in gunicorn's format
    assert ERROR_LINE_RE.findall(s.stderr()) == [worker], s.stderr()
    assert len(s.worker_pids()) == nworkers
    assert re.search(r'^127\.0\.0\.1 - - \[[^]]+\] "GET /seed-probe\?x=1 HTTP/1\.1" 404 \d+ "-" "seed-agent"$',
                     s.stdout(), re.M), s.stdout()
    assert "[INFO]" not in s.stdout(), "error-log lines must go to stderr, not stdout"
    assert "GET /" not in s.stderr(), "access-log lines must go to stdout, not stderr"


def test_seed_access_line_format(server):
    s = seed_server(server, SEED_WSGI[0][0])
    requests.get(s.url("/"), headers={"User-Agent": "seed-agent"}, timeout=10)
    requests.get(s.url("/seed-probe?x=1"), headers={"User-Agent": "seed-agent"}, timeout=10)
    s.wait_for_log(r"seed-probe", stream="stdout")
    # the probe is a 404 in Flask; rewrite the expectation for that status
    line = [l for l in s.stdout().splitlines() if "seed-probe" in l][0]
    assert re.fullmatch(ACCESS_RE.pattern.replace(" 200 ", " 404 ").strip("^$"), line), line


def test_threads_switch_sync_to_gthread(server):
    s = server(["--threads", "2", "hello_wsgi:app"])
    assert "Using worker: gthread" in s.stderr()
    assert "Using worker: sync" not in s.log()


def test_four_gthread_workers_process_tree(server):
    s = server(["-w", "4", "--worker-class", "gthread", "--threads", "4", "hello_wsgi:app"], workers=4)
    pids = s.worker_pids()
    assert len(pids) == 4, s.log()
    assert "Using worker: gthread" in s.stderr()
    tree = harness.descendants(s.pid)
    # gunicorn: master + 4 workers; gonicorn: Go master + Python zygote + 4 workers
    assert set(pids) <= set(tree), (pids, tree)
    assert len(tree) in (4, 5), f"descendants of {s.pid}: {tree}"
    for _ in range(8):
        assert requests.get(s.url("/"), timeout=10).status_code == 200


def test_seed_eventlet_command(server):
    if SERVER == "gunicorn":
        pytest.skip("gunicorn 26 removed the eventlet worker; gonicorn keeps the seed command working")
    if not venv_has("eventlet"):
        pytest.skip("eventlet is not installed in .venv")
    s = seed_server(server, "gunicorn --bind=0.0.0.0 --timeout 600 --access-logfile '-' --error-logfile '-' "
                            "--worker-class eventlet app:app")
    assert requests.get(s.url("/"), timeout=10).status_code == 200
    assert "Using worker: eventlet" in s.stderr()


def test_seed_uvicorn_command(server):
    if not venv_has("uvicorn"):
        pytest.skip("uvicorn is not installed in .venv")
    s = seed_server(server, "gunicorn --workers 3 --worker-class uvicorn.workers.UvicornWorker --timeout 600 "
                            "--access-logfile '-' --error-logfile '-' app:app", workers=3,
                    cwd=REPO / "examples" / "asgi")
    r = requests.get(s.url("/"), timeout=10)
    assert r.status_code == 200 and r.text == "Hello from ASGI!\n", s.log()
    assert "Using worker: uvicorn.workers.UvicornWorker" in s.stderr()


def test_seed_aiohttp_command(server):
    if not venv_has("aiohttp"):
        pytest.skip("aiohttp is not installed in .venv")
    s = seed_server(server, "gunicorn --bind 0.0.0.0 --worker-class aiohttp.worker.GunicornWebWorker --timeout 600 "
                            "--access-logfile '-' --error-logfile '-' app:app", cwd=REPO / "examples" / "aiohttp")
    r = requests.get(s.url("/"), timeout=10)
    assert r.status_code == 200 and r.text == "Hello from aiohttp!\n", s.log()
    assert "Using worker: aiohttp.worker.GunicornWebWorker" in s.stderr()


def test_gevent_worker(server):
    if not venv_has("gevent"):
        pytest.skip("gevent is not installed in .venv")
    s = seed_server(server, "gunicorn --bind 0.0.0.0 --worker-class gevent --timeout 800 app:app")
    assert requests.get(s.url("/"), timeout=10).text == "Hello from gonicorn!\n"
    assert "Using worker: gevent" in s.stderr()


def test_seed_afakeclass_error(server):
    line = ("gunicorn --bind 0.0.0.0 --worker-class afakeclass --timeout 600 --access-logfile '-' "
            "--error-logfile '-' app:app")
    s = seed_server(server, line, start=False)
    s.start(wait=False)
    assert s.wait_exit() == 1, s.log()
    err = s.stderr()
    assert "Error: class uri 'afakeclass' invalid or not found" in err
    assert "afakeclass" in err.split("invalid or not found", 1)[1], err


def test_seed_config_file(server, tmp_path):
    """`gunicorn -c gunicorn.conf.py app:app` with the seed's file (workers = 2*cpu+1, timeout='600')."""
    import multiprocessing
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text((harness.CONFIGS / "seed.conf.py").read_text())
    port = free_port()
    n = 2 * multiprocessing.cpu_count() + 1
    # The file binds 0.0.0.0 (port 8000); the command line wins, as in gunicorn.
    s = server(["-c", str(conf), "--bind", f"127.0.0.1:{port}", "app:app"], bind=False, port=port,
               cwd=EXAMPLE, workers=n)
    assert len(s.worker_pids()) == n
    r = requests.get(s.url("/"), headers={"User-Agent": "seed-agent"}, timeout=10)
    assert r.status_code == 200
    s.wait_for_log(r'"GET / HTTP/1\.1" 200 \d+ "-" "seed-agent"', stream="stdout")
    assert "Using worker: sync" in s.stderr()


def test_seed_config_file_access_log_env(server, tmp_path):
    conf = tmp_path / "gunicorn.conf.py"
    conf.write_text((harness.CONFIGS / "seed.conf.py").read_text().replace(
        "workers = 2 * multiprocessing.cpu_count() + 1", "workers = 1"))
    access = tmp_path / "access.log"
    port = free_port()
    s = server(["-c", str(conf), "--bind", f"127.0.0.1:{port}", "app:app"], bind=False, port=port,
               cwd=EXAMPLE, env={"ACCESS_LOG": str(access)})
    requests.get(s.url("/from-env"), timeout=10)
    for _ in range(100):
        if access.exists() and "/from-env" in access.read_text():
            break
        time.sleep(0.05)
    assert '"GET /from-env HTTP/1.1" 404' in access.read_text()
    assert "/from-env" not in s.stdout()


def test_django_project(server):
    s = server(["--chdir", "tests/apps/djproject", "mysite.wsgi"], cwd=REPO)
    r = requests.get(s.url("/"), timeout=10)
    assert r.status_code == 200 and r.text == "Hello from Django\n"
    r = requests.get(s.url("/info"), timeout=10)
    assert r.json() == {"path": "/info", "method": "GET", "script_name": ""}
    assert requests.get(s.url("/missing"), timeout=10).status_code == 404


@pytest.mark.parametrize("args,module", [
    (["--threads", "2"], None),
    (["--worker-class", "gthread", "--threads", "2"], None),
    (["--worker-class", "gevent"], "gevent"),
    (["--worker-class", "eventlet"], "eventlet"),
], ids=["threads2", "gthread", "gevent", "eventlet"])
def test_worker_class_runs_requests_concurrently(server, args, module):
    """One worker of a concurrent class must overlap two sleeping requests (sync would take 2 s)."""
    if module and not venv_has(module):
        pytest.skip(f"{module} is not installed in .venv")
    if module == "eventlet" and SERVER == "gunicorn":
        pytest.skip("gunicorn 26 removed the eventlet worker")
    import concurrent.futures
    s = server(args + ["slow:app"])
    requests.get(s.url("/?s=0"), timeout=10)  # warm up
    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(2) as ex:
        rs = list(ex.map(lambda _: requests.get(s.url("/?s=1"), timeout=20), range(2)))
    elapsed = time.monotonic() - t0
    assert [r.status_code for r in rs] == [200, 200]
    assert elapsed < 1.8, f"two 1 s requests took {elapsed:.2f}s: not concurrent\n{s.log()}"
