"""Serves $FILE_WRAPPER_PATH (default: this file) through wsgi.file_wrapper."""
import os


def app(environ, start_response):
    path = os.environ.get("FILE_WRAPPER_PATH", __file__)
    size = os.path.getsize(path)
    f = open(path, "rb")
    start_response("200 OK", [("Content-Type", "application/octet-stream"),
                              ("Content-Length", str(size))])
    wrapper = environ.get("wsgi.file_wrapper")
    if wrapper is None:
        return iter(lambda: f.read(8192), b"")
    return wrapper(f, 8192)


application = app
