"""Tests for front_bench.py's parsing; run with
`bench/.venv/bin/python -m unittest discover -s bench` (no load, no servers)."""

import math
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import front_bench  # noqa: E402

H2LOAD_OK = """starting benchmark...
spawning thread #0: 4 total client(s). Timing-based test with 2s of warm-up time and 10s of main duration for measurements.
TLS Protocol: TLSv1.3
Cipher: TLS_AES_256_GCM_SHA384
Server Temp Key: X25519 253 bits
Application protocol: h2
Warm-up phase is over for thread #0.

finished in 12.00s, 11374.33 req/s, 400.10KB/s
requests: 113743 total, 113775 started, 113743 done, 113740 succeeded, 2 failed, 1 errored, 0 timeout
status codes: 113740 2xx, 0 3xx, 0 4xx, 0 5xx
"""


class ParseH2loadTest(unittest.TestCase):
    def test_parse(self):
        cases = [
            ("clean", H2LOAD_OK, {"requests": 113743, "ok": 113740, "failed": 3, "rps": 11374.33, "protocol": "h2"}),
            ("http1", H2LOAD_OK.replace("protocol: h2", "protocol: http/1.1"), {"protocol": "http/1.1"}),
            ("garbage", "h2load: could not connect", {"rps": 0.0, "protocol": "?"}),
        ]
        for name, out, want in cases:
            got = front_bench.parse_h2load(out)
            for key, value in want.items():
                with self.subTest(name=name, key=key):
                    self.assertEqual(got.get(key), value, f"got {got.get(key)!r}; want {value!r}")
        self.assertNotIn("requests", front_bench.parse_h2load("nothing"))


class PercentileTest(unittest.TestCase):
    def test_pct(self):
        values = list(range(1, 101))
        for q, want in [(0.5, 50), (0.99, 99), (1.0, 100), (0.0, 1)]:
            got = front_bench._pct(values, q)
            self.assertEqual(got, want, f"_pct(1..100, {q}): got {got}; want {want}")
        self.assertTrue(math.isnan(front_bench._pct([], 0.5)))
        self.assertEqual(front_bench._pct([3.0], 0.99), 3.0)


if __name__ == "__main__":
    unittest.main()
