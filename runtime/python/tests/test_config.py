import json
import os
import sys
import tempfile
import textwrap
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from gonicorn_runtime import _config  # noqa: E402


class LoadConfigFileTest(unittest.TestCase):
    def write(self, text, name="gunicorn.conf.py"):
        d = tempfile.mkdtemp()
        path = os.path.join(d, name)
        with open(path, "w") as f:
            f.write(textwrap.dedent(text))
        return path

    def test_oryx_style_values(self):
        path = self.write("""
            import multiprocessing, os
            timeout = '600'
            workers = 2 * multiprocessing.cpu_count() + 1
            accesslog = os.environ.get('ACCESS', '-')
            bind = ('0.0.0.0:8000',)
            _private = 1
            here = __file__
        """)
        got = _config.load_config_file(path)
        self.assertEqual(got["timeout"], "600")
        self.assertIsInstance(got["workers"], int)
        self.assertEqual(got["accesslog"], "-")
        self.assertEqual(got["bind"], ["0.0.0.0:8000"])
        self.assertNotIn("_private", got)
        self.assertEqual(got["here"], path)
        json.dumps(got)  # everything is JSON-able

    def test_file_prefix_and_callables(self):
        path = self.write("""
            def post_fork(server, worker):
                pass
            class K:
                pass
            obj = object()
        """)
        got = _config.load_config_file("file:" + path)
        self.assertEqual(got["post_fork"]["qualname"], "post_fork")
        self.assertEqual(got["post_fork"]["arity"], 2)
        self.assertTrue(got["post_fork"]["callable"].startswith("<function post_fork"))
        self.assertIsNone(got["K"]["arity"])
        self.assertTrue(got["obj"]["repr"].startswith("<object object"))
        self.assertEqual(_config.last_module().post_fork.__name__, "post_fork")
        json.dumps(got)

    def test_error_text(self):
        path = self.write("raise ValueError('boom')\n")
        with self.assertRaises(_config.ConfigFileError) as cm:
            _config.load_config_file(path)
        msg = str(cm.exception)
        self.assertTrue(msg.startswith("Failed to read config file: %s\nTraceback" % path), msg)
        self.assertTrue(msg.endswith("ValueError: boom"), msg)

    def test_missing_file(self):
        with self.assertRaises(_config.ConfigFileError) as cm:
            _config.load_config_file("nope-does-not-exist.py")
        self.assertEqual(str(cm.exception), "\nError: 'nope-does-not-exist.py' doesn't exist")

    def test_python_module(self):
        path = self.write("workers = 3\n", name="gnc_cfg_mod.py")
        sys.path.insert(0, os.path.dirname(path))
        try:
            self.assertEqual(_config.load_config_file("python:gnc_cfg_mod")["workers"], 3)
            with self.assertRaises(_config.ConfigFileError) as cm:
                _config.load_config_file("python:gnc_no_such_mod")
            self.assertEqual(str(cm.exception), "\nError: No module named 'gnc_no_such_mod'")
        finally:
            sys.path.remove(os.path.dirname(path))

    def test_to_json_value(self):
        cases = [
            ((1, "a"), [1, "a"]),
            ({"a": (1,)}, {"a": [1]}),
            ({1: 2}, {"repr": "{1: 2}"}),
            (None, None),
            (1.5, 1.5),
        ]
        for value, want in cases:
            self.assertEqual(_config.to_json_value(value), want)


if __name__ == "__main__":
    unittest.main()
