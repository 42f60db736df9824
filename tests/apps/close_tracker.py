"""Records every close() of its response iterable, one line per call, in $CLOSE_TRACKER_FILE.

PEP 3333: the server must call close() once per request, even when the client
went away or the iteration failed.
"""
import os


class Body:
    def __init__(self, tag, fail):
        self.tag = tag
        self.fail = fail

    def __iter__(self):
        yield b"part-1\n"
        if self.fail:
            raise RuntimeError("iteration failed on purpose")
        yield b"part-2\n"

    def close(self):
        with open(os.environ["CLOSE_TRACKER_FILE"], "a") as f:
            f.write(f"close {self.tag}\n")


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    tag = environ.get("QUERY_STRING") or "-"
    return Body(tag, environ.get("PATH_INFO") == "/fail")


application = app
