"""Tests for bench.py's parsing and process handling; run with
`bench/.venv/bin/python -m unittest discover -s bench` (about 3 s, no load)."""

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


if __name__ == "__main__":
    unittest.main()
