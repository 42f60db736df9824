"""Tests for bench.py's parsing and process handling; run with
`bench/.venv/bin/python -m unittest discover -s bench` (about 3 s, no load)."""

import contextlib
import io
import math
import os
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

WRK_OK = """Running 10s test @ http://127.0.0.1:8000/
  1 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     6.40ms    1.18ms  24.77ms   90.81%
    Req/Sec     5.01k   248.50     5.49k    82.00%
  Latency Distribution
     50%  396.00us
     75%    6.66ms
     90%    7.47ms
     99%    1.05s
  49858 requests in 10.00s, 8.13MB read
Requests/sec:   4985.32
Transfer/sec:    832.46KB
"""

WRK_ERRORS = WRK_OK.replace(
    "Requests/sec:",
    "  Socket errors: connect 1, read 2, write 3, timeout 4\n  Non-2xx or 3xx responses: 5\nRequests/sec:",
)


class ParseWrkTest(unittest.TestCase):
    def test_parse(self):
        cases = [
            ("clean", WRK_OK, {"rps": 4985.32, "p50_us": 396.0, "p99_us": 1.05e6,
                               "requests": 49858, "seconds": 10.0, "errors": 0}),
            ("errors", WRK_ERRORS, {"errors": 15, "requests": 49858}),
            ("garbage", "wrk: nothing", {"rps": 0.0, "requests": 0, "errors": 0}),
        ]
        for name, out, want in cases:
            got = bench.parse_wrk(out)
            for key, value in want.items():
                with self.subTest(name=name, key=key):
                    self.assertTrue(math.isclose(got[key], value, rel_tol=1e-9),
                                    f"got {got[key]!r}; want {value!r}")

    def test_to_us(self):
        for text, want in [("12us", 12.0), ("1.5ms", 1500.0), ("2s", 2e6), ("1m", 60e6)]:
            got = bench._to_us(text)
            self.assertEqual(got, want, f"_to_us({text!r}): got {got}; want {want}")
        self.assertTrue(math.isnan(bench._to_us("12 parsecs")))


class WrkArgvTest(unittest.TestCase):
    def test_pipeline(self):
        import argparse
        cases = [
            (1, ["wrk", "-t1", "-c32", "-d10s", "--latency", "http://127.0.0.1:8000/"]),
            (8, ["wrk", "-t1", "-c32", "-d10s", "--latency", "-s", bench.PIPELINE_LUA,
                 "http://127.0.0.1:8000/", "--", "8"]),
        ]
        for depth, want in cases:
            args = argparse.Namespace(wrk_threads=1, connections=32, wrk_pipeline=depth)
            got = bench.wrk_argv(args, 8000, 10, True)
            self.assertEqual(got, want, f"depth {depth}")
        self.assertTrue(os.path.isfile(bench.PIPELINE_LUA), bench.PIPELINE_LUA)


class RunWrkTest(unittest.TestCase):
    def test_cpu_of_the_child(self):
        """run_wrk returns the CPU the command itself burned (here a busy Python loop)."""
        busy = [sys.executable, "-c", "import time\nt = time.process_time()\n"
                "while time.process_time() - t < 0.3: pass\nprint('done')"]
        out, cpu = bench.run_wrk(busy, 5)
        self.assertEqual(out, "done\n")
        self.assertGreaterEqual(cpu, 0.25, cpu)
        self.assertLess(cpu, 2.0, cpu)


class ProcessTreeTest(unittest.TestCase):
    def test_tree_cpu_and_stop(self):
        # A master that ignores SIGTERM and a child in its session: stop_server
        # must still leave nothing behind.
        script = "trap '' TERM; sleep 30 & while :; do :; done"
        proc = subprocess.Popen(["sh", "-c", script], start_new_session=True)
        try:
            time.sleep(0.5)
            tree = bench.server_tree(proc.pid)
            self.assertIn(proc.pid, tree)
            self.assertGreaterEqual(len(tree), 2, f"got tree {tree}; want sh and sleep")
            before = bench.cpu_ticks(proc.pid)
            time.sleep(0.5)
            after = bench.cpu_ticks(proc.pid)
            spent = sum(t - before.get(k, 0) for k, t in after.items())
            self.assertGreater(spent, 0, "got no CPU ticks for a busy loop; want some")
            self.assertGreater(bench.rss_kib(tree), 0)
        finally:
            bench.stop_server(proc, grace=0.5)
        left = bench._alive(proc.pid)
        self.assertEqual(left, set(), f"got {left} still running; want none")


def _res(rnd, rps, server="uvicorn", app="asgi", **kw):
    """A measured round whose other columns are derived from rps, so a test can tell rounds apart."""
    fields = dict(p50_us=rps / 10, p99_us=rps / 5, requests=int(rps), seconds=1.0, errors=0,
                  cpu_s=rps / 1e5, wrk_cpu_s=rps / 2e5, rss_kib=int(rps), procs=1)
    fields.update(kw)
    return bench.Result(server, app, round=rnd, rps=rps, **fields)


class CombineTest(unittest.TestCase):
    def test_combine(self):
        cases = [
            # name, rounds, want req/s, want the round the other columns come from, min, max, rounds used
            ("one round", [_res(1, 100)], 100, 1, 100, 100, 1),
            ("odd, unsorted", [_res(1, 300), _res(2, 100), _res(3, 200)], 200, 3, 100, 300, 3),
            ("odd, five", [_res(i, v) for i, v in enumerate([50, 10, 40, 20, 30], 1)], 30, 5, 10, 50, 5),
            ("even: mean of the middle two, columns of the slower", [_res(1, 400), _res(2, 100),
                                                                     _res(3, 200), _res(4, 300)],
             250, 3, 100, 400, 4),
            ("ties keep round order", [_res(1, 100), _res(2, 100), _res(3, 100)], 100, 2, 100, 100, 3),
            ("failed round left out", [_res(1, 300), _res(2, 0, error="exited"), _res(3, 100)],
             200, 3, 100, 300, 2),
        ]
        for name, rounds, rps, rnd, lo, hi, used in cases:
            with self.subTest(name=name):
                got = bench.combine(rounds)
                self.assertEqual(got.error, "", f"got error {got.error!r}; want none")
                self.assertEqual(got.rps, rps, f"got req/s {got.rps}; want {rps}")
                self.assertEqual(got.round, rnd, f"got columns of round {got.round}; want {rnd}")
                pick = next(r for r in rounds if r.round == rnd)
                for key in ("p50_us", "p99_us", "requests", "seconds", "cpu_s", "rss_kib", "procs"):
                    self.assertEqual(getattr(got, key), getattr(pick, key),
                                     f"{key}: got {getattr(got, key)}; want round {rnd}'s {getattr(pick, key)}")
                self.assertEqual((got.rps_min, got.rps_max, got.rounds), (lo, hi, used),
                                 f"got min, max, rounds {(got.rps_min, got.rps_max, got.rounds)}; "
                                 f"want {(lo, hi, used)}")
        # The rounds themselves are not modified (the table could be printed per round later).
        rounds = [_res(1, 300), _res(2, 100), _res(3, 200)]
        bench.combine(rounds)
        self.assertEqual([r.rps for r in rounds], [300, 100, 200])

    def test_errors_and_notes(self):
        rounds = [_res(1, 300, errors=2, note="1 server process(es) exited"),
                  _res(2, 0, error="exited with status 1"), _res(3, 100, errors=5)]
        got = bench.combine(rounds)
        self.assertEqual(got.errors, 7, f"got errors {got.errors}; want the sum 7")
        want = "round 1: 1 server process(es) exited; round 2: not available (exited with status 1)"
        self.assertEqual(got.note, want, f"got note {got.note!r}; want {want!r}")
        # One round: the note is the round's own, without a round prefix.
        got = bench.combine([_res(1, 100, note="slow")])
        self.assertEqual(got.note, "slow")

    def test_all_rounds_failed(self):
        cases = [
            ("same reason", ["bin/gonicorn not found", "bin/gonicorn not found"], "bin/gonicorn not found"),
            ("different reasons", ["exited", "timeout"], "round 1: exited; round 2: timeout"),
        ]
        for name, reasons, want in cases:
            with self.subTest(name=name):
                got = bench.combine([_res(i, 0, error=e) for i, e in enumerate(reasons, 1)])
                self.assertEqual(got.error, want, f"got error {got.error!r}; want {want!r}")
                self.assertEqual(got.rounds, 0)


class TableTest(unittest.TestCase):
    def args(self, rounds):
        return bench.parse_args(["--only", "gunicorn-sync,uvicorn", "--apps", "wsgi,asgi",
                                 "--rounds", str(rounds)])

    def test_one_round_unchanged(self):
        rows = bench.table([bench.combine([_res(1, 5000, "gunicorn-sync", "wsgi")]),
                            bench.combine([_res(1, 40000)]),
                            bench.Result("granian", "asgi", error="cannot start")], self.args(1))
        want = [
            "| server | app | req/s | p50 | p99 | CPU µs/req | CPU % | wrk CPU µs/req "
            "| peak RSS MiB (procs) | errors | × gunicorn sync |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
            "| gunicorn-sync | wsgi | 5,000 | 500 µs | 1.00 ms | 10 | 5 | 5 | 4.9 (1) | 0 | 1.00 |",
            "| uvicorn | asgi | 40,000 | 4.00 ms | 8.00 ms | 10 | 40 | 5 | 39.1 (1) | 0 | 8.00 † |",
            "| granian | asgi | not available | | | | | | | | |",
        ]
        self.assertEqual(rows, want, "\n".join(["got:"] + rows + ["want:"] + want))

    def test_rounds(self):
        sync = [_res(1, 6000, "gunicorn-sync", "wsgi"), _res(2, 4000, "gunicorn-sync", "wsgi"),
                _res(3, 5000, "gunicorn-sync", "wsgi")]
        uvi = [_res(1, 30000, errors=1), _res(2, 50000, errors=2), _res(3, 0, error="exited")]
        gone = [bench.Result("granian", "asgi", round=i, error="cannot start") for i in (1, 2, 3)]
        rows = bench.table([bench.combine(sync), bench.combine(uvi), bench.combine(gone)], self.args(3))
        want = [
            "| server | app | req/s | req/s range | p50 | p99 | CPU µs/req | CPU % | wrk CPU µs/req "
            "| peak RSS MiB (procs) | errors | × gunicorn sync |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
            # Median 5,000 from round 3; the ratio divides medians: 40,000 / 5,000.
            "| gunicorn-sync | wsgi | 5,000 | 4,000–6,000 | 500 µs | 1.00 ms | 10 | 5 | 5 | 4.9 (1) | 0 | 1.00 |",
            # Two good rounds: req/s is their mean, the columns and note those of the slower (round 1).
            "| uvicorn | asgi | 40,000 | 30,000–50,000 (2 of 3 rounds) | 3.00 ms | 6.00 ms | 10 | 30 | 5 "
            "| 29.3 (1) | 3 | 8.00 † |",
            "| granian | asgi | not available | | | | | | | | | |",
        ]
        self.assertEqual(rows, want, "\n".join(["got:"] + rows + ["want:"] + want))


class RoundsArgTest(unittest.TestCase):
    def test_parse(self):
        self.assertEqual(bench.parse_args([]).rounds, 1)
        self.assertEqual(bench.parse_args(["--rounds", "3"]).rounds, 3)
        for argv in (["--rounds", "0"], ["--rounds", "3", "--mode", "h2"], ["--rounds", "2", "--ws"],
                     ["--warmup", "0.5"], ["--duration", "1.5"]):
            with self.subTest(argv=argv), contextlib.redirect_stderr(io.StringIO()) as err:
                with self.assertRaises(SystemExit, msg=f"{argv}: got no error; want one"):
                    bench.parse_args(argv)
                self.assertIn(argv[0], err.getvalue())
        self.assertEqual(bench.parse_args(["--warmup", "0", "--duration", "1.0"]).duration, 1.0)
        # --rounds 1 stays allowed in the other modes: it is the default.
        self.assertEqual(bench.parse_args(["--rounds", "1", "--mode", "h2"]).mode, "h2")


if __name__ == "__main__":
    unittest.main()
