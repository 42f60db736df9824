"""Tests for ws_bench.py's option handling, server commands and table, and the tunnel echo
apps on their own framework's in-process server (no gonicorn, no load); run with
`bench/.venv/bin/python -m unittest discover -s bench`."""

import asyncio
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.append(os.path.join(os.path.dirname(os.path.abspath(__file__)), "apps"))
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


class WsTunnelServersTest(unittest.TestCase):
    def _argv(self, name):
        args = bench.parse_args(["--ws", "--only", name, "--gonicorn", "/opt/gonicorn"])
        server = {s.name: s for s in ws_bench.SERVERS}[name]
        return server, server.build(8123, args)

    def test_commands(self):
        gunicorn = bench._venv("gunicorn")
        aiohttp = "aiohttp.worker.GunicornWebWorker"
        cases = [
            ("gonicorn-tornado", ["/opt/gonicorn", "-w", "1", "-k", "tornado", "-b", "127.0.0.1:8123",
                                  "tornado_ws_echo:app"]),
            ("gunicorn-tornado", [gunicorn, "-w", "1", "-k", "tornado", "-b", "127.0.0.1:8123",
                                  "tornado_ws_echo:app"]),
            ("gonicorn-aiohttp", ["/opt/gonicorn", "-w", "1", "-k", aiohttp, "-b", "127.0.0.1:8123",
                                  "aiohttp_ws_echo:app"]),
            ("gunicorn-aiohttp", [gunicorn, "-w", "1", "-k", aiohttp, "-b", "127.0.0.1:8123",
                                  "aiohttp_ws_echo:app"]),
        ]
        for name, want in cases:
            with self.subTest(name=name):
                _, got = self._argv(name)
                self.assertEqual(got, want, f"got {got}; want {want}")

    def test_readiness_uses_the_servers_own_app(self):
        cases = [("gonicorn", "asgi_ws_echo:app"), ("uvicorn", "asgi_ws_echo:app"),
                 ("gonicorn-tornado", "tornado_ws_echo:app"), ("gunicorn-tornado", "tornado_ws_echo:app"),
                 ("gonicorn-aiohttp", "aiohttp_ws_echo:app"), ("gunicorn-aiohttp", "aiohttp_ws_echo:app")]
        for name, want in cases:
            with self.subTest(name=name):
                server, _ = self._argv(name)
                self.assertEqual(server.app.module, want, f"got {server.app.module}; want {want}")

    def test_tunnel_rows_are_not_in_the_default_list(self):
        got = [s.name for s in ws_bench.SERVERS if s.default]
        want = ["gonicorn", "uvicorn", "granian"]
        self.assertEqual(got, want, f"got {got}; want {want}")

    def test_apps_exist(self):
        for app in (ws_bench.TORNADO_APP, ws_bench.AIOHTTP_APP):
            path = os.path.join(bench.APPS_DIR, app.module.split(":")[0] + ".py")
            with self.subTest(app=app.module):
                self.assertTrue(os.path.isfile(path), f"got no {path}; want the echo app")


class WsEchoAppsTest(unittest.TestCase):
    """The tunnel echo apps in-process on their own framework's server, with the bench client."""

    def test_tornado_echo(self):
        import tornado.httpserver
        import tornado.netutil
        import tornado_ws_echo

        async def main():
            sockets = tornado.netutil.bind_sockets(0, bench.HOST)
            server = tornado.httpserver.HTTPServer(tornado_ws_echo.app)
            server.add_sockets(sockets)
            try:
                return await ws_bench._run(sockets[0].getsockname()[1], 2, 20, 100, 8)
            finally:
                server.stop()

        got, _ = asyncio.run(main())
        self.assertEqual(got, 40, f"got {got} echoes; want 40")

    def test_aiohttp_echo(self):
        from aiohttp import web
        import aiohttp_ws_echo

        async def main():
            runner = web.AppRunner(aiohttp_ws_echo.app)
            await runner.setup()
            site = web.TCPSite(runner, bench.HOST, 0)
            await site.start()
            try:
                port = site._server.sockets[0].getsockname()[1]
                return await ws_bench._run(port, 2, 20, 100, 8)
            finally:
                await runner.cleanup()

        got, _ = asyncio.run(main())
        self.assertEqual(got, 40, f"got {got} echoes; want 40")


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
