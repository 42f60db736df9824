"""Every -k name of the issue starts, prints `Using worker: NAME` as gunicorn does, and serves
an app of the kind the class is for."""
import subprocess

import pytest
import requests

import harness
from harness import SERVER

def venv_has(module):
    return subprocess.run([str(harness.VENV / "bin" / "python"), "-c", f"import {module}"],
                          capture_output=True).returncode == 0


# -k name, app, module the class needs (under gunicorn: the module that defines it)
CLASSES = [
    ("sync", "hello_wsgi:app", None),
    ("gthread", "hello_wsgi:app", None),
    ("gevent", "hello_wsgi:app", "gevent"),
    ("gevent_wsgi", "hello_wsgi:app", "gevent"),
    ("gevent_pywsgi", "hello_wsgi:app", "gevent"),
    ("eventlet", "hello_wsgi:app", "eventlet"),
    ("tornado", "hello_wsgi:app", "tornado"),
    ("asgi", "frameworks/asgi_raw:app", None),
    ("uvicorn.workers.UvicornWorker", "frameworks/asgi_raw:app", "uvicorn"),
    ("uvicorn.workers.UvicornH11Worker", "frameworks/asgi_raw:app", "uvicorn"),
    ("uvicorn_worker.UvicornWorker", "frameworks/asgi_raw:app", "uvicorn_worker"),
    ("aiohttp.worker.GunicornWebWorker", "frameworks/fw_aiohttp:app", "aiohttp"),
    ("aiohttp.worker.GunicornUVLoopWebWorker", "frameworks/fw_aiohttp:app", "uvloop"),
    ("aiohttp.GunicornWebWorker", "frameworks/fw_aiohttp:app", "aiohttp"),
    ("egg:gunicorn#gthread", "hello_wsgi:app", None),
    ("egg:gunicorn#asgi", "frameworks/asgi_raw:app", None),
]


@pytest.mark.parametrize("name,app,module", CLASSES, ids=[c[0] for c in CLASSES])
def test_worker_class_name(server, name, app, module):
    if SERVER == "gunicorn":
        if name == "eventlet":
            pytest.skip("gunicorn 26 removed the eventlet worker")
        if name.startswith("egg:gunicorn#"):
            pytest.skip("gunicorn declares no gunicorn.workers entry points: egg:gunicorn#NAME fails there")
        if module == "uvicorn_worker" and not venv_has(module):
            pytest.skip("uvicorn_worker is not installed; gonicorn maps the name itself")
    elif module and module != "uvicorn_worker" and not venv_has(module):
        pytest.skip(f"{module} is not installed in .venv")
    chdir, _, target = app.rpartition("/")
    cwd = harness.APPS / chdir if chdir else harness.APPS
    s = server(["-k", name, "--timeout", "30", target], cwd=cwd)
    r = requests.get(s.url("/health" if chdir else "/"), timeout=10)
    assert r.status_code == 200, s.log()
    assert f"[INFO] Using worker: {name}\n" in s.stderr(), s.stderr()
    assert "Traceback" not in s.log(), s.log()
    assert "not served by this runtime" not in s.log(), s.log()
