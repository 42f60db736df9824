"""Apps that fail: before start_response, and while the body is being iterated."""


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/raise":
        raise RuntimeError("raised before start_response on purpose")
    if path == "/raise-mid":
        def body():
            yield b"first part\n"
            raise RuntimeError("raised mid-iteration on purpose")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return body()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
    return [b"ok\n"]


application = app
