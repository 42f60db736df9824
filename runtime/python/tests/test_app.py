"""App URI loading (gunicorn's texts), app kind detection, the cfg object."""

import functools
import os
import sys
import tempfile
import textwrap
import unittest

from gonicorn_runtime import _app, _log, _server

APP = textwrap.dedent('''
    def application(environ, start_response):
        start_response("200 OK", [])
        return [b"default"]
    app = application
    notcallable = 3
    none = None
    def factory(name, n=1):
        def app(environ, start_response):
            start_response("200 OK", [])
            return [("%s-%d" % (name, n)).encode()]
        return app
    def broken_factory():
        raise TypeError("inside the factory")
    async def asgi(scope, receive, send):
        pass
    class AsgiApp:
        async def __call__(self, scope, receive, send):
            pass
    asgi_obj = AsgiApp()
''')


class ImportAppTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        with open(os.path.join(cls.tmp.name, "tapp_mod.py"), "w") as f:
            f.write(APP)
        sys.path.insert(0, cls.tmp.name)

    @classmethod
    def tearDownClass(cls):
        sys.path.remove(cls.tmp.name)
        cls.tmp.cleanup()

    def call(self, app):
        out = []
        return b"".join(app({}, lambda s, h: out.append(s)))

    def test_good_uris(self):
        cases = [("tapp_mod", b"default"), ("tapp_mod:app", b"default"),
                 ("tapp_mod:factory('x', n=2)", b"x-2"), ("tapp_mod:factory('y')", b"y-1")]
        for uri, want in cases:
            got = self.call(_app.import_app(uri))
            self.assertEqual(got, want, "%s: got %r; want %r" % (uri, got, want))

    def test_errors(self):
        cases = [
            ("tapp_mod:nope", "Failed to find attribute 'nope' in 'tapp_mod'."),
            ("tapp_mod:notcallable", "Application object must be callable."),
            ("tapp_mod:none", "Failed to find application object: 'none'"),
            ("tapp_mod:factory(x)", "Failed to parse arguments as literal values: 'factory(x)'"),
            ("tapp_mod:a.b", "Failed to parse 'a.b' as an attribute name or function call."),
            ("tapp_mod:x(", "Failed to parse 'x(' as an attribute name or function call."),
            ("tapp_mod:a.b()", "Function reference must be a simple name: 'a.b()'"),
            ("tapp_mod:factory(1, 2, 3)",
             "TypeError: factory() takes from 1 to 2 positional arguments but 3 were given"),
        ]
        for uri, want in cases:
            with self.assertRaises(_app.AppImportError) as cm:
                _app.import_app(uri)
            self.assertEqual(str(cm.exception), want, uri)

    def test_factory_internal_typeerror_propagates(self):
        with self.assertRaises(TypeError) as cm:
            _app.import_app("tapp_mod:broken_factory()")
        self.assertEqual(str(cm.exception), "inside the factory")

    def test_missing_module(self):
        with self.assertRaises(ImportError) as cm:
            _app.import_app("no_such_module_xyz:app")
        self.assertEqual(str(cm.exception), "No module named 'no_such_module_xyz'")

    def test_py_file_hint(self):
        old = os.getcwd()
        os.chdir(self.tmp.name)
        try:
            with self.assertRaises(ImportError) as cm:
                _app.import_app("tapp_mod.py")
        finally:
            os.chdir(old)
        self.assertEqual(str(cm.exception),
                         "Failed to find application, did you mean 'tapp_mod:application'?")

    def test_app_kind(self):
        import tapp_mod
        self.assertEqual(_app.app_kind(tapp_mod.app), "wsgi")
        self.assertEqual(_app.app_kind(tapp_mod.asgi), "asgi")
        self.assertEqual(_app.app_kind(tapp_mod.asgi_obj), "asgi")
        self.assertEqual(_app.app_kind(functools.partial(tapp_mod.asgi)), "asgi")
        self.assertEqual(_app.app_kind(tapp_mod.AsgiApp), "wsgi")

        class Awaitable:
            def __await__(self):
                yield

        self.assertEqual(_app.app_kind(Awaitable), "asgi")


class ConfigTest(unittest.TestCase):
    def test_settings_and_defaults(self):
        cfg = _server.Config({"workers": 3, "threads": 2, "raw_env": ["A=1", "B=x=y"]})
        self.assertEqual(cfg.workers, 3)
        self.assertEqual(cfg.worker_class_str, "gthread")
        self.assertEqual(cfg.env, {"A": "1", "B": "x=y"})
        self.assertEqual(cfg.max_requests, 0)
        self.assertEqual(cfg.proc_name, "gunicorn")
        self.assertFalse(cfg.is_ssl)
        self.assertTrue(cfg.sendfile)
        self.assertFalse(_server.Config({"sendfile": False}).sendfile)
        with self.assertRaises(AttributeError) as cm:
            cfg.not_a_setting
        self.assertEqual(str(cm.exception), "No configuration setting for: not_a_setting")
        with self.assertRaises(RuntimeError):
            _server.Config({"raw_env": ["novalue"]}).env
        cfg.set("workers", 5)
        self.assertEqual(cfg.workers, 5)

    def test_hooks(self):
        class Mod:
            def on_starting(server):
                return "mine"

            def post_request(worker, req, environ):
                return ("three", environ)

            when_ready = "not a hook value"

        cfg = _server.Config({"pre_fork": "operator.add"}, Mod)
        self.assertEqual(cfg.on_starting(None), "mine")
        self.assertEqual(cfg.post_request(1, 2, 3, 4), ("three", 3))
        import operator
        self.assertIs(cfg.pre_fork, operator.add)
        self.assertTrue(cfg.is_default_hook("when_ready"))
        self.assertFalse(cfg.is_default_hook("on_starting"))
        cfg.worker_int = lambda w: 1
        self.assertFalse(cfg.is_default_hook("worker_int"))

    def test_hook_errors(self):
        def two(a, b):
            pass

        cases = [
            ({"on_starting": "nodots"}, None,
             "Invalid value for on_starting: Value 'nodots' is not import string. "
             "Format: module[.submodules...].object"),
            ({"on_starting": "os.path.nope"}, None,
             "Invalid value for on_starting: Can not load 'nope' from 'os.path'"),
            ({"on_starting": "no_such_mod_q.f"}, None,
             "Invalid value for on_starting: No module named 'no_such_mod_q'"),
            ({}, type("M", (), {"on_starting": staticmethod(two)}),
             "Invalid value for on_starting: Value must have an arity of: 1"),
            ({}, type("M", (), {"post_request": staticmethod(lambda a: 1)}),
             "Invalid value for post_request: Value must have an arity of: 4"),
            ({"on_exit": "os.sep"}, None, "Invalid value for on_exit: Value is not callable: /"),
        ]
        for settings, mod, want in cases:
            with self.assertRaises(_server.ConfigError) as cm:
                _server.Config(settings, mod)
            self.assertEqual(str(cm.exception), want)

    def test_application_and_server(self):
        cfg = _server.Config({"wsgi_app": None, "workers": 2})
        app = _server.Application(cfg)
        with self.assertRaises(_app.AppImportError):
            app.wsgi()
        os.environ["GONICORN_MASTER_PID"] = "4242"
        server = _server.Server(cfg, None, app)
        self.assertEqual((server.pid, server.num_workers, server.proc_name), (4242, 2, "gunicorn"))
        self.assertIn("4242", repr(server))


class LogTest(unittest.TestCase):
    def test_format_levels_reopen(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "e.log")
            cfg = _server.Config({"errorlog": path, "loglevel": "warning"})
            log = _log.Logger(cfg)
            log.info("hidden")
            log.warning("shown %s", 1)
            log.log("error", "as error")
            log.critical("crit")
            os.rename(path, path + ".1")
            log.reopen_files()
            log.error("after reopen")
            log.access(None, None, None, None)
            for h in log.error_log.handlers:
                h.flush()
            with open(path + ".1") as f:
                old = f.read()
            with open(path) as f:
                new = f.read()
            self.assertRegex(old, r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] "
                                  r"\[WARNING\] shown 1\n")
            self.assertNotIn("hidden", old)
            self.assertIn("[ERROR] as error", old)
            self.assertIn("[CRITICAL] crit", old)
            self.assertIn("[ERROR] after reopen", new)
            errs = _log.WSGIErrors(cfg)
            errs.write("raw line\n")
            errs.writelines(["a\n"])
            errs.flush()
            with open(path) as f:
                self.assertIn("raw line\n", f.read())
            _log.Logger(_server.Config({}))  # back to stderr for other tests

    def test_syslog_address_and_logconfig_dict(self):
        import socket
        self.assertEqual(_log.parse_syslog_address("udp://h:515"), (socket.SOCK_DGRAM, ("h", 515)))
        self.assertEqual(_log.parse_syslog_address("tcp://[::1]:9"), (socket.SOCK_STREAM, ("::1", 9)))
        self.assertEqual(_log.parse_syslog_address("unix:///dev/log#dgram"),
                         (socket.SOCK_DGRAM, "/dev/log"))
        self.assertEqual(_log.parse_syslog_address("udp://h"), (socket.SOCK_DGRAM, ("h", 514)))
        with self.assertRaises(RuntimeError):
            _log.parse_syslog_address("ftp://x")
        with self.assertRaises(RuntimeError):
            _log.Logger(_server.Config({"logconfig": "/nonexistent.ini"}))
        with self.assertRaises(RuntimeError):
            _log.Logger(_server.Config({"logconfig_dict": {"root": {"handlers": ["nope"]}}}))
        _log.Logger(_server.Config({"logconfig_dict": {"root": {"level": "WARNING"}}}))
        _log.Logger(_server.Config({}))


if __name__ == "__main__":
    unittest.main()
