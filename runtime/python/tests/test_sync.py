"""Round trips through the sync worker with a simulated Go side."""

import io
import marshal
import os
import sys
import tempfile
import threading
import unittest

from gonicorn_runtime import _wire
from gonicorn_runtime._worker import ERROR_500_BODY

from .support import Harness, environ

END = _wire.FLAG_END
ERROR_PAGE = (b'<html>\n  <head>\n    <title>Internal Server Error</title>\n  </head>\n'
              b'  <body>\n    <h1><p>Internal Server Error</p></h1>\n    \n  </body>\n</html>\n')


def hello_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "5")])
    return [b"hello"]


class Closing:
    """An iterable that records close()."""

    def __init__(self, parts, fail_at=None):
        self.parts = parts
        self.fail_at = fail_at
        self.closed = False
        self.seen = 0

    def __iter__(self):
        for i, p in enumerate(self.parts):
            if i == self.fail_at:
                raise RuntimeError("boom at %d" % i)
            self.seen += 1
            yield p

    def close(self):
        self.closed = True


class SyncTest(unittest.TestCase):
    def run_one(self, app, env=None, settings=None, body=b"", end=True):
        with Harness(app, settings) as h:
            h.go.request(1, env or environ(), body, end)
            resp = h.go.response(1)
            h.stop()
            return resp, h.logtext(), h

    def test_hello(self):
        (status, headers, body, frames), _, h = self.run_one(hello_app)
        self.assertEqual((status, body), ("200 OK", b"hello"))
        self.assertEqual(headers, [("Content-Type", "text/plain"), ("Content-Length", "5")])
        self.assertEqual(len(frames), 1, "got %d frames; want one RESPONSE with END" % len(frames))
        self.assertEqual((frames[0][0], frames[0][1]), (_wire.RESPONSE, END))
        self.assertEqual(h.hello["capacity"], 1)
        self.assertEqual(h.hello["app_kind"], "wsgi")
        self.assertEqual(h.hello["worker_id"], 7)
        self.assertIsNone(h.error)

    def test_environ(self):
        seen = {}

        def app(environ, start_response):
            seen.update(environ)
            start_response("200 OK", [])
            return []

        self.run_one(app, environ("GET", "/a?b=1", HTTP_X_FOO="é"))
        self.assertNotIn("gonicorn.body", seen)
        for k, v in (("wsgi.version", (1, 0)), ("wsgi.multithread", False),
                     ("wsgi.multiprocess", True), ("wsgi.run_once", False),
                     ("wsgi.input_terminated", True), ("QUERY_STRING", "b=1"),
                     ("HTTP_X_FOO", "é"), ("wsgi.url_scheme", "http")):
            self.assertEqual(seen[k], v, k)
        self.assertTrue(callable(seen["wsgi.file_wrapper"]))
        seen["wsgi.errors"].write("to the error log\n")
        self.assertEqual(seen["wsgi.input"].read(), b"")

    def test_post_body_pulled_with_more(self):
        data = os.urandom(300000)
        got = {}

        def app(environ, start_response):
            got["body"] = environ["wsgi.input"].read()
            start_response("200 OK", [])
            return [str(len(got["body"])).encode()]

        with Harness(app) as h:
            h.go.request(1, environ("POST", "/up", len(data)), data[:1000], end=False)
            sent = 1000
            while True:
                f = h.go.frame()
                if f[0] != _wire.MORE:
                    break
                n = _wire.parse_more(f[3])
                self.assertGreaterEqual(n, 65536)
                chunk = data[sent:sent + n]
                sent += len(chunk)
                h.go.body(1, chunk, end=sent == len(data))
            self.assertEqual(f[0], _wire.RESPONSE)
            self.assertEqual(bytes(_wire.split_head(f[3])[1]), b"300000")
            h.stop()
        self.assertEqual(got["body"], data)

    def test_chunked_read_sizes_readline_iteration(self):
        lines = [b"line %d\n" % i for i in range(50)] + [b"tail-no-newline"]
        payload = b"".join(lines)
        got = {}

        def app(environ, start_response):
            inp = environ["wsgi.input"]
            got["first"] = inp.read(3)
            got["line"] = inp.readline()
            got["short"] = inp.readline(2)
            got["rest_line"] = inp.readline(-1)
            got["lines"] = inp.readlines(20)
            got["iter"] = list(inp)
            got["after"] = inp.read(10)
            start_response("200 OK", [])
            return [b""]

        with Harness(app) as h:
            h.go.request(1, environ("POST", "/c", -1), payload[:5], end=False)
            pos = 5
            while True:
                f = h.go.frame()
                if f[0] != _wire.MORE:
                    break
                # Go answers with small pieces to exercise re-buffering.
                chunk = payload[pos:pos + 7]
                pos += len(chunk)
                h.go.body(1, chunk, end=pos >= len(payload))
            h.stop()
        self.assertEqual(got["first"], b"lin")
        self.assertEqual(got["line"], b"e 0\n")
        self.assertEqual(got["short"], b"li")
        self.assertEqual(got["rest_line"], b"ne 1\n")
        self.assertEqual(got["lines"], [b"line 2\n", b"line 3\n", b"line 4\n"])
        self.assertEqual(b"".join(got["iter"]), b"".join(lines[5:]))
        self.assertEqual(got["iter"][-1], b"tail-no-newline")
        self.assertEqual(got["after"], b"")

    def test_read_exact_sizes(self):
        got = []

        def app(environ, start_response):
            inp = environ["wsgi.input"]
            while True:
                b = inp.read(4)
                if not b:
                    break
                got.append(b)
            start_response("204 No Content", [("Content-Length", "0")])
            return []

        (status, headers, body, _), _, _ = self.run_one(
            app, environ("POST", "/", 10), body=b"0123456789")
        self.assertEqual(got, [b"0123", b"4567", b"89"])
        self.assertEqual((status, headers, body), ("204 No Content", [], b""))

    def test_write_callable_then_iterable(self):
        def app(environ, start_response):
            write = start_response("200 OK", [("X-A", "1")])
            write(b"one,")
            write(b"two,")
            return [b"three"]

        (status, headers, body, frames), _, _ = self.run_one(app)
        self.assertEqual(body, b"one,two,three")
        self.assertEqual([f[0] for f in frames],
                         [_wire.RESPONSE, _wire.RESP_BODY, _wire.RESP_BODY, _wire.RESP_BODY])
        self.assertEqual(frames[-1][1], END)

    def test_streaming_generator_each_chunk_a_frame(self):
        def app(environ, start_response):
            start_response("200 OK", [("Content-Type", "text/event-stream")])
            for i in range(3):
                yield b"data: %d\n\n" % i

        (status, headers, body, frames), _, _ = self.run_one(app)
        self.assertEqual([f[0] for f in frames],
                         [_wire.RESPONSE, _wire.RESP_BODY, _wire.RESP_BODY, _wire.RESP_BODY])
        self.assertEqual([f[1] for f in frames], [0, 0, 0, END])
        self.assertEqual(body, b"data: 0\n\ndata: 1\n\ndata: 2\n\n")

    def test_multi_part_list_one_frame(self):
        def app(environ, start_response):
            start_response("200 OK", [])
            return (b"a", b"b", b"c")

        (_, _, body, frames), _, _ = self.run_one(app)
        self.assertEqual((body, len(frames), frames[0][1]), (b"abc", 1, END))

    def test_exc_info_before_headers_sent_replaces_status(self):
        def app(environ, start_response):
            start_response("200 OK", [])
            try:
                raise ValueError("x")
            except ValueError:
                start_response("500 Oops", [("X-E", "1")], sys.exc_info())
            return [b"err"]

        (status, headers, body, _), _, _ = self.run_one(app)
        self.assertEqual((status, headers, body), ("500 Oops", [("X-E", "1")], b"err"))

    def test_exc_info_after_headers_sent_reraises_abort(self):
        def app(environ, start_response):
            write = start_response("200 OK", [])
            write(b"partial")
            try:
                raise ValueError("late failure")
            except ValueError:
                start_response("500 Oops", [], sys.exc_info())
            return [b"never"]

        (status, _, body, frames), log, _ = self.run_one(app)
        self.assertEqual((status, body), ("200 OK", b"partial"))
        self.assertEqual(frames[-1][0], _wire.ABORT)
        self.assertIn(b"late failure", frames[-1][3])
        self.assertIn("[ERROR] Error handling request\n", log)

    def test_start_response_twice_without_exc_info(self):
        def app(environ, start_response):
            start_response("200 OK", [])
            start_response("200 OK", [])
            return [b""]

        (status, _, _, _), log, _ = self.run_one(app)
        self.assertEqual(status, "500 Internal Server Error")
        self.assertIn("AssertionError: Response headers already set!", log)

    def test_raise_before_start_gives_gunicorn_500(self):
        def app(environ, start_response):
            raise KeyError("nope")

        (status, headers, body, frames), log, _ = self.run_one(app, environ("GET", "/x?y=1"))
        self.assertEqual(status, "500 Internal Server Error")
        self.assertEqual(headers, [("Connection", "close"), ("Content-Type", "text/html"),
                                   ("Content-Length", "141")])
        self.assertEqual(body, ERROR_PAGE)
        self.assertEqual(ERROR_500_BODY, ERROR_PAGE)
        self.assertEqual(frames[0][1], END)
        self.assertRegex(log, r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[\d+\] \[ERROR\] "
                              r"Error handling request GET /x\?y=1\nTraceback")
        self.assertIn("KeyError: 'nope'", log)

    def test_raise_mid_iteration_aborts(self):
        it = Closing([b"a", b"b", b"c"], fail_at=1)

        def app(environ, start_response):
            start_response("200 OK", [])
            return it

        (status, _, body, frames), log, _ = self.run_one(app)
        self.assertEqual((status, body), ("200 OK", b"a"))
        self.assertEqual(frames[-1][0], _wire.ABORT)
        self.assertEqual(frames[-1][3], b"RuntimeError: boom at 1")
        self.assertTrue(it.closed)
        self.assertIn("RuntimeError: boom at 1", log)

    def test_raise_in_first_next_gives_500(self):
        it = Closing([b"a"], fail_at=0)

        def app(environ, start_response):
            start_response("200 OK", [])
            return it

        (status, _, body, _), _, _ = self.run_one(app)
        self.assertEqual(status, "500 Internal Server Error")
        self.assertTrue(it.closed)

    def test_bad_responses_are_500_with_reason_logged(self):
        cases = [
            ("int status", lambda sr: sr(200, []), "TypeError: 200 is not a string"),
            ("no reason", lambda sr: sr("200OK", []), "ValueError: Invalid status '200OK'"),
            ("bad name", lambda sr: sr("200 OK", [("Bad Name", "v")]),
             "Invalid response header name from the application: 'Bad Name'"),
            ("crlf value", lambda sr: sr("200 OK", [("X-A", "v\r\nSet-Cookie: a")]),
             "Invalid response header from the application: 'X-A'"),
            ("bytes value", lambda sr: sr("200 OK", [("X-A", b"v")]),
             "TypeError: b'v' is not a string"),
            ("bytes name", lambda sr: sr("200 OK", [(b"X-A", "v")]),
             "TypeError: b'X-A' is not a string"),
        ]
        for name, call, want in cases:
            def app(environ, start_response, call=call):
                call(start_response)
                return [b"x"]

            (status, _, body, _), log, _ = self.run_one(app)
            self.assertEqual(status, "500 Internal Server Error", name)
            self.assertIn(want, log, name)

    def test_non_iterable_and_non_bytes(self):
        cases = [
            ("none", None, "TypeError: 'NoneType' object is not iterable"),
            ("str items", ["text"], "TypeError: 'text' is not a byte"),
            ("bytes not list", b"ab", "TypeError: 97 is not a byte"),
        ]
        for name, result, want in cases:
            def app(environ, start_response, result=result):
                start_response("200 OK", [])
                return result

            (status, _, _, _), log, _ = self.run_one(app)
            self.assertEqual(status, "500 Internal Server Error", name)
            self.assertIn(want, log, name)

    def test_no_start_response(self):
        (status, _, _, _), log, _ = self.run_one(lambda e, s: [b"x"])
        self.assertEqual(status, "500 Internal Server Error")
        self.assertIn("did not call start_response", log)

    def test_hop_by_hop_dropped_and_length_truncated(self):
        def app(environ, start_response):
            start_response("200 OK", [("Connection", "keep-alive"), ("Transfer-Encoding", "x"),
                                      ("Server", "mine"), ("Date", "x"), ("X-Ok", " y \t"),
                                      ("Content-Length", "4"), ("Upgrade", "websocket")])
            return iter([b"abc", b"def", b"ghi"])

        (status, headers, body, _), _, _ = self.run_one(app)
        self.assertEqual(headers, [("X-Ok", "y"), ("Content-Length", "4"),
                                   ("Upgrade", "websocket")])
        self.assertEqual(body, b"abcd")

    def test_list_over_content_length_truncated(self):
        def app(environ, start_response):
            start_response("200 OK", [("Content-Length", "2")])
            return [b"abc"]

        (_, _, body, _), _, _ = self.run_one(app)
        self.assertEqual(body, b"ab")

    def test_head_and_204_send_no_body(self):
        it = Closing([b"a", b"b"])

        def app(environ, start_response):
            start_response("200 OK", [("Content-Length", "2")])
            return it

        (status, headers, body, frames), _, _ = self.run_one(app, environ("HEAD", "/"))
        self.assertEqual((status, headers, body), ("200 OK", [("Content-Length", "2")], b""))
        self.assertEqual(len(frames), 1)
        self.assertEqual(it.seen, 2)
        self.assertTrue(it.closed)

        def app204(environ, start_response):
            start_response("204 No Content", [("Content-Length", "3")])
            return [b"abc"]

        (status, headers, body, _), _, _ = self.run_one(app204)
        self.assertEqual((status, headers, body), ("204 No Content", [], b""))

    def test_close_called_on_success_and_error(self):
        for fail_at in (None, 0, 1):
            it = Closing([b"a", b"b"], fail_at=fail_at)

            def app(environ, start_response, it=it):
                start_response("200 OK", [])
                return it

            self.run_one(app)
            self.assertTrue(it.closed, fail_at)

    def test_cancel_stops_streaming_and_closes(self):
        state = {"closed": False, "yields": 0}
        gate = threading.Event()

        def app(environ, start_response):
            if environ["PATH_INFO"] != "/stream":
                return hello_app(environ, start_response)
            start_response("200 OK", [])

            def gen():
                try:
                    while True:
                        state["yields"] += 1
                        yield b"tick\n"
                        gate.wait(5)
                finally:
                    state["closed"] = True
            return gen()

        with Harness(app) as h:
            h.go.request(1, environ("GET", "/stream"))
            f = h.go.frame()
            self.assertEqual(f[0], _wire.RESPONSE)
            h.go.cancel(1)
            gate.set()
            # The worker must go idle: a next request is answered, and stream 1 sent no END.
            h.go.request(2, environ())
            frames = []
            while True:
                f = h.go.frame()
                frames.append(f)
                if f[2] == 2 and f[1] & END:
                    break
            self.assertTrue(all(fr[1] == 0 for fr in frames if fr[2] == 1), frames)
            h.stop()
        self.assertTrue(state["closed"])

    def test_cancel_while_reading_body(self):
        got = {}

        def app(environ, start_response):
            try:
                environ["wsgi.input"].read()
            except OSError as e:
                got["err"] = e
                raise
            start_response("200 OK", [])
            return [b""]

        with Harness(app) as h:
            h.go.request(1, environ("POST", "/", 100), b"x", end=False)
            self.assertEqual(h.go.frame()[0], _wire.MORE)
            h.go.cancel(1)
            h.go.request(2, environ())
            status, _, _, frames = h.go.response(2)
            self.assertEqual(status, "200 OK")
            h.stop()
            log = h.logtext()
        self.assertIn("cancelled", str(got["err"]))
        self.assertNotIn("Error handling request", log)

    def test_file_wrapper_sendfile(self):
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"0123456789" * 100)
            f.flush()
            for cl, want_count in ((None, _wire.SENDFILE_TO_END), ("50", 50)):
                fh = open(f.name, "rb")
                fh.seek(10)

                def app(environ, start_response, fh=fh, cl=cl):
                    start_response("200 OK", [("Content-Length", cl)] if cl else [])
                    return environ["wsgi.file_wrapper"](fh, 4096)

                with Harness(app) as h:
                    h.go.request(1, environ())
                    status, headers, body, frames = h.go.response(1)
                    self.assertEqual([fr[0] for fr in frames], [_wire.RESPONSE, _wire.SENDFILE])
                    self.assertEqual(frames[-1][1], END)
                    off, count = _wire.parse_sendfile(frames[-1][3])
                    self.assertEqual((off, count), (10, want_count))
                    self.assertEqual(len(h.go.fds), 1)
                    got_fd = h.go.fds[0]
                    self.assertEqual(os.fstat(got_fd).st_ino, os.fstat(f.fileno()).st_ino)
                    self.assertEqual(os.pread(got_fd, 5, off), b"01234")
                    h.stop()
                self.assertTrue(fh.closed, "close() must be called")

    def test_file_wrapper_without_fileno_iterates(self):
        def app(environ, start_response):
            start_response("200 OK", [])
            return environ["wsgi.file_wrapper"](io.BytesIO(b"x" * 10000), 4096)

        (status, _, body, frames), _, _ = self.run_one(app)
        self.assertEqual(body, b"x" * 10000)
        self.assertEqual([f[0] for f in frames][:2], [_wire.RESPONSE, _wire.RESP_BODY])

    def test_file_wrapper_head_and_nosendfile(self):
        with tempfile.NamedTemporaryFile() as f:
            f.write(b"abc")
            f.flush()

            def app(environ, start_response):
                start_response("200 OK", [])
                return environ["wsgi.file_wrapper"](open(f.name, "rb"))

            (_, _, body, frames), _, _ = self.run_one(app, environ("HEAD", "/"))
            self.assertEqual((body, len(frames)), (b"", 1))
            (_, _, body, frames), _, _ = self.run_one(app, settings={"sendfile": False})
            self.assertEqual(body, b"abc")

    def test_hooks_pre_post_request(self):
        calls = []

        class Mod:
            @staticmethod
            def pre_request(worker, req):
                calls.append(("pre", req.method, req.uri, req.path, req.query, req.version,
                              ("HOST", "localhost") in req.headers))

            @staticmethod
            def post_request(worker, req, environ, resp):
                calls.append(("post", resp.status, resp.status_code, environ["PATH_INFO"],
                              resp.sent, resp.headers_sent))

        with Harness(hello_app, module=Mod) as h:
            h.go.request(1, environ("GET", "/p?q=1"))
            h.go.response(1)
            h.stop()
        self.assertEqual(calls, [("pre", "GET", "/p?q=1", "/p", "q=1", (1, 1), True),
                                 ("post", "200 OK", 200, "/p", 5, True)])

    def test_post_request_arity_2_and_failure_logged(self):
        calls = []

        class Mod:
            @staticmethod
            def post_request(worker, req):
                calls.append(req.method)
                raise RuntimeError("hook broke")

        with Harness(hello_app, module=Mod) as h:
            h.go.request(1, environ())
            h.go.response(1)
            h.stop()
            log = h.logtext()
        self.assertEqual(calls, ["GET"])
        self.assertIn("Exception in post_request hook", log)

    def test_iterable_filling_content_length_is_one_frame(self):
        closed = []

        class Body:
            def __iter__(self):
                yield b"hello"
                raise AssertionError("iterated past the Content-Length")

            def close(self):
                closed.append(True)

        def app(environ, start_response):
            start_response("200 OK", [("Content-Length", "5")])
            return Body()

        with Harness(app) as h:
            h.go.request(1, environ())
            typ, flags, _, _ = h.go.frame()
            self.assertEqual((typ, flags & _wire.FLAG_END), (_wire.RESPONSE, _wire.FLAG_END))
            h.go.request(2, environ())
            self.assertEqual(h.go.response(2)[0], "200 OK")
        self.assertEqual(closed, [True, True])  # close() ran for both requests

    def test_early_hints(self):
        def app(environ, start_response):
            environ["wsgi.early_hints"]([("Link", "</a.css>; rel=preload")])
            start_response("200 OK", [("Content-Length", "2")])
            yield b"o"
            environ["wsgi.early_hints"]([("Link", "</late.css>")])  # headers sent: ignored
            yield b"k"

        with Harness(app) as h:
            h.go.request(1, environ())
            typ, _, stream, payload = h.go.frame()
            self.assertEqual((typ, stream), (_wire.INFO, 1))
            self.assertEqual(marshal.loads(payload),
                             ("103 Early Hints", [("Link", "</a.css>; rel=preload")]))
            status, _, body, frames = h.go.response(1)
            self.assertEqual((status, body), ("200 OK", b"ok"))
            self.assertNotIn(_wire.INFO, [f[0] for f in frames])

    def test_max_requests_recycle(self):
        with Harness(hello_app, {"max_requests": 2, "max_requests_jitter": 0}) as h:
            self.assertEqual(h.worker.max_requests, 2)
            h.go.request(1, environ())
            h.go.response(1)
            h.go.request(2, environ())
            status, _, _, frames = h.go.response(2)
            self.assertEqual(frames[0][0], _wire.RECYCLE)
            self.assertEqual(_wire.decode_json(frames[0][3]), {"reason": "max_requests"})
            # Go may have written more before it read RECYCLE: still answered.
            h.go.request(3, environ())
            self.assertEqual(h.go.response(3)[0], "200 OK")
            self.assertTrue(h.thread.is_alive(), "a recycled worker serves until Go says TERM")
            h.worker.handle_exit(15, None)
            h.thread.join(5)
            self.assertFalse(h.thread.is_alive(), "worker must exit on TERM after recycling")
            self.assertIn("[INFO] Autorestarting worker after current request.", h.logtext())

    def test_term_while_idle_exits(self):
        with Harness(hello_app) as h:
            h.go.request(1, environ())
            h.go.response(1)
            for _ in range(100):
                if h.worker._idle:
                    break
                threading.Event().wait(0.01)
            h.worker.handle_exit(15, None)
            h.thread.join(5)
            self.assertFalse(h.thread.is_alive())

    def test_stale_frames_ignored_and_protocol_error(self):
        with Harness(hello_app) as h:
            h.go.cancel(99)
            h.go.body(98, b"late", end=True)
            h.go.request(1, environ())
            self.assertEqual(h.go.response(1)[0], "200 OK")
            h.go.send(_wire.HELLO, 0, 0, b"")
            h.thread.join(5)
            self.assertIsInstance(h.error, _wire.ProtocolError)

    def test_large_streamed_chunk(self):
        big = b"z" * (3 << 20)

        def app(environ, start_response):
            start_response("200 OK", [])
            return iter([b"a", big])

        (_, _, body, _), _, _ = self.run_one(app)
        self.assertEqual(len(body), len(big) + 1)


if __name__ == "__main__":
    unittest.main()
