"""Tests for ws_bench.py's option handling and table (no server, no load); run with
`bench/.venv/bin/python -m unittest discover -s bench`."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402
import ws_bench  # noqa: E402


class WsArgsTest(unittest.TestCase):
    def test_ws_skips_the_http_server_list(self):
        args = bench.parse_args(["--ws", "--only", "gonicorn,uvicorn", "--ws-messages", "10"])
        self.assertTrue(args.ws)
        self.assertEqual(args.ws_messages, 10)
        self.assertEqual(args.servers, [])

    def test_unknown_server_is_refused(self):
        args = bench.parse_args(["--ws", "--only", "gunicorn-sync"])
        args.gonicorn = "/nonexistent"
        self.assertEqual(ws_bench.main(args, []), 2)

    def test_defaults_are_the_documented_ones(self):
        args = bench.parse_args(["--ws"])
        got = (args.ws_connections, args.ws_messages, args.ws_size, args.ws_window)
        self.assertEqual(got, (16, 5000, 64, 8), f"got {got}; want (16, 5000, 64, 8)")


class WsTableTest(unittest.TestCase):
    def test_ratio_to_uvicorn(self):
        rows = ws_bench.table([
            ws_bench.WsResult("gonicorn", messages=1000, seconds=0.5, mps=2000.0, cpu_s=0.02, rss_kib=2048, procs=3),
            ws_bench.WsResult("uvicorn", messages=1000, seconds=1.0, mps=1000.0, cpu_s=0.02, rss_kib=1024, procs=1),
            ws_bench.WsResult("granian", error="exited"),
        ])
        self.assertIn("| gonicorn | 2,000 | 20.0 | 4 | 2.0 (3) | 2.00 |", rows)
        self.assertIn("| granian | not available | | | | |", rows)


if __name__ == "__main__":
    unittest.main()
