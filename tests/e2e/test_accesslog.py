"""Access log: the default format and every atom of --access-logformat (reference §3.9)."""
import re

import requests

FORMAT = ("h=%(h)s|l=%(l)s|u=%(u)s|t=%(t)s|r=%(r)s|s=%(s)s|m=%(m)s|U=%(U)s|q=%(q)s|H=%(H)s|B=%(B)s|"
          "b=%(b)s|f=%(f)s|a=%(a)s|T=%(T)s|M=%(M)s|D=%(D)s|L=%(L)s|p=%(p)s|i=%({x-trace}i)s|"
          "o=%({content-type}o)s|e=%({remote_addr}e)s|unknown=%(zz)s|missing=%({x-absent}i)s")


def atoms(line):
    return dict(part.split("=", 1) for part in line.split("|"))


def test_every_atom(server):
    s = server(["--access-logfile", "-", "--access-logformat", FORMAT, "hello_wsgi:app"])
    r = requests.get(s.url("/path/x?k=v&z=1"), timeout=10, auth=("alice", "secret"),
                     headers={"Referer": "http://ref.test/", "User-Agent": 'agent "quoted"',
                              "X-Trace": "abc123"})
    assert r.status_code == 200
    s.wait_for_log(r"h=127\.0\.0\.1", stream="stdout")
    line = [l for l in s.stdout().splitlines() if l.startswith("h=")][0]
    a = atoms(line)
    assert a["h"] == "127.0.0.1"
    assert a["l"] == "-"
    assert a["u"] == "alice"
    assert re.fullmatch(r"\[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\]", a["t"]), a["t"]
    assert a["r"] == "GET /path/x?k=v&z=1 HTTP/1.1"
    assert a["s"] == "200"
    assert a["m"] == "GET" and a["U"] == "/path/x" and a["q"] == "k=v&z=1" and a["H"] == "HTTP/1.1"
    assert a["B"] == "14" and a["b"] == "14"
    assert a["f"] == "http://ref.test/"
    assert a["a"] == 'agent \\"quoted\\"'
    assert a["T"] == "0"
    assert re.fullmatch(r"\d+", a["M"]) and re.fullmatch(r"\d+", a["D"])
    assert int(a["D"]) >= int(a["M"])
    assert re.fullmatch(r"\d+\.\d{6}", a["L"]), a["L"]
    assert re.fullmatch(r"<\d+>", a["p"]), a["p"]
    assert a["i"] == "abc123"
    assert a["o"] == "text/plain"
    assert a["e"] == "127.0.0.1"
    assert a["unknown"] == "-" and a["missing"] == "-"


def test_default_format_and_dash_for_empty_body(server):
    s = server(["--access-logfile", "-", "bad_response:app"])
    requests.head(s.url("/"), timeout=10, headers={"User-Agent": "ua"})
    requests.get(s.url("/"), timeout=10, headers={"User-Agent": "ua"})
    s.wait_for_log(r'"GET / HTTP/1\.1" 200', stream="stdout")
    lines = s.stdout().splitlines()
    rx = r'127\.0\.0\.1 - - \[[^]]+\] "{m} / HTTP/1\.1" 200 {b} "-" "ua"'
    assert any(re.fullmatch(rx.format(m="GET", b="3"), l) for l in lines), lines
    assert any(re.fullmatch(rx.format(m="HEAD", b=r"(-|0)"), l) for l in lines), lines


def test_no_access_log_by_default(server):
    s = server(["hello_wsgi:app"])
    requests.get(s.url("/"), timeout=10)
    s.stop()
    assert "GET /" not in s.log()


def test_access_log_to_file(server, tmp_path):
    path = tmp_path / "access.log"
    s = server(["--access-logfile", str(path), "hello_wsgi:app"])
    requests.get(s.url("/to-file"), timeout=10)
    s.stop()
    assert '"GET /to-file HTTP/1.1" 200 14' in path.read_text()
