"""Command-line behaviour: version, errors and exit codes, config files, GUNICORN_CMD_ARGS."""
import re

import pytest

import harness
from harness import CONFIGS


def test_version(cli):
    r = cli(["-v"])
    assert r.returncode == 0
    assert re.fullmatch(r"g[ou]nicorn \(version \d+\.\d+\.\d+\S*\)\n", r.stdout), r.stdout


def test_bad_flag_exits_2(cli):
    r = cli(["--bogus-flag", "hello_wsgi:app"])
    assert r.returncode == 2
    assert re.search(r"^usage: g[ou]nicorn \[OPTIONS\] \[APP_MODULE\]$", r.stderr, re.M), r.stderr
    assert re.search(r"^g[ou]nicorn: error: unrecognized arguments: --bogus-flag$", r.stderr, re.M), r.stderr


def test_bad_int_on_command_line_exits_2(cli):
    r = cli(["-w", "many", "hello_wsgi:app"])
    assert r.returncode == 2
    assert "error: argument -w/--workers: invalid int value: 'many'" in r.stderr


def test_invalid_value_in_config_exits_1(cli):
    r = cli(["-c", str(CONFIGS / "invalid_value.conf.py"), "hello_wsgi:app"])
    assert r.returncode == 1
    out = r.stdout + r.stderr
    assert "Invalid value for workers: many" in out
    assert "Error: invalid literal for int() with base 0: 'many'" in out


def test_config_syntax_error_exits_1(cli):
    path = CONFIGS / "broken_syntax.conf.py"
    r = cli(["-c", str(path), "hello_wsgi:app"])
    assert r.returncode == 1
    out = r.stdout + r.stderr
    assert f"Failed to read config file: {path}" in out
    assert "SyntaxError" in out and "Traceback (most recent call last):" in out


def test_no_app_module(cli):
    r = cli([])
    assert r.returncode == 1
    assert "Error: No application module specified." in r.stderr


def test_check_config_ok(cli):
    r = cli(["--check-config", "hello_wsgi:app"])
    assert r.returncode == 0, r.stderr


def test_check_config_imports_app(cli):
    r = cli(["--check-config", "no_such_module_here:app"])
    assert r.returncode == 1
    assert "No module named 'no_such_module_here'" in r.stderr


def print_config(cli, args, env=None):
    r = cli(["--print-config"] + args, env=env)
    assert r.returncode == 0, r.stderr
    values = {}
    for line in r.stdout.splitlines():
        m = re.fullmatch(r"(\w+)\s+= (.*)", line)
        if m:
            values[m.group(1)] = m.group(2)
    return r.stdout, values


def test_print_config(cli):
    out, v = print_config(cli, ["-w", "3", "--timeout", "600", "hello_wsgi:app"])
    keys = [l.split()[0] for l in out.splitlines() if re.match(r"\w+\s+= ", l)]
    assert keys == sorted(keys) and len(keys) > 90
    assert v["workers"] == "3" and v["timeout"] == "600"
    assert v["bind"] == "['127.0.0.1:8000']"
    assert v["worker_class"] == "sync"
    assert v["access_log_format"] == '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"'


@pytest.mark.parametrize("env,cli_args,want", [
    ({}, [], "7"),
    ({"GUNICORN_CMD_ARGS": "--workers 3"}, [], "3"),
    ({"GUNICORN_CMD_ARGS": "--workers 3"}, ["-w", "5"], "5"),
    ({"WEB_CONCURRENCY": "4"}, [], "7"),
])
def test_precedence_file_env_cli(cli, env, cli_args, want):
    _, v = print_config(cli, ["-c", str(CONFIGS / "workers7.conf.py")] + cli_args + ["hello_wsgi:app"], env=env)
    assert v["workers"] == want


def test_web_concurrency_and_port_defaults(cli):
    _, v = print_config(cli, ["hello_wsgi:app"], env={"WEB_CONCURRENCY": "4", "PORT": "9123"})
    assert v["workers"] == "4"
    assert v["bind"] == "['0.0.0.0:9123']"


def test_gunicorn_cmd_args_bind_replaces(cli):
    _, v = print_config(cli, ["-b", "127.0.0.1:1", "hello_wsgi:app"],
                        env={"GUNICORN_CMD_ARGS": "-b 127.0.0.1:2 -b 127.0.0.1:3"})
    assert v["bind"] == "['127.0.0.1:1']"


def test_config_file_runs(server):
    s = server(["-c", str(CONFIGS / "small.conf.py"), "hello_wsgi:app"], workers=2)
    assert len(s.worker_pids()) == 2
    import requests
    requests.get(s.url("/cfg"), timeout=10)
    s.wait_for_log(r'"GET /cfg HTTP/1\.1" 200', stream="stdout")


def test_gunicorn_conf_py_in_cwd_is_used(server, tmp_path):
    (tmp_path / "gunicorn.conf.py").write_text("workers = 2\n")
    (tmp_path / "app.py").write_text((harness.APPS / "hello_wsgi.py").read_text())
    s = server(["app:app"], cwd=tmp_path, workers=2)
    assert len(s.worker_pids()) == 2
