"""--paste (PasteDeploy INI files as the app source) and --paste-global, against the same
INI files under gunicorn (SERVER=gunicorn)."""
import pytest
import requests

import harness

pytest.importorskip("paste.deploy")

PASTE = harness.APPS / "paste"


def get(s, path):
    r = requests.get(s.url(path), timeout=10)
    assert r.status_code == 200, s.log()
    return r.text


@pytest.mark.parametrize("args,path,body", [
    (["--paste", "dev.ini"], "/a", "hello - /a"),
    (["--paste", "dev.ini#other"], "/b", "other - /b"),
    (["--paster", "dev.ini", "--paste-global", "who=me"], "/c", "hello me /c"),
    # The paste file wins over a positional APP_MODULE, as in gunicorn.
    (["--paste", "dev.ini", "no_such_module:app"], "/d", "hello - /d"),
])
def test_paste_app(server, args, path, body):
    s = server(args, cwd=PASTE)
    assert get(s, path) == body


def test_paste_missing_file(cli):
    r = cli(["--paste", "nope.ini"], cwd=PASTE)
    assert r.returncode == 1
    assert f"Error: '{PASTE / 'nope.ini'}' not found" in r.stderr, r.stderr


def test_paste_loggers_section_is_the_logconfig(server):
    s = server(["--paste", "logging.ini"], cwd=PASTE)
    assert get(s, "/x") == "logged - /x"
    s.wait_for_log(r"PASTE-LOGCONFIG Booting worker with pid: \d+")


@pytest.mark.gonicorn_only
def test_paste_without_pastedeploy(server, tmp_path):
    """An app Python without PasteDeploy: one line naming the package, not a traceback."""
    (tmp_path / "sitecustomize.py").write_text(
        "import sys\nsys.modules['paste'] = None\nsys.modules['paste.deploy'] = None\n")
    s = server(["--paste", "dev.ini"], cwd=PASTE, start=False, env={"PYTHONPATH": str(tmp_path)})
    s.start(wait=False)
    assert s.wait_exit() != 0, s.log()
    assert "needs PasteDeploy, which is not installed in this Python" in s.log()
