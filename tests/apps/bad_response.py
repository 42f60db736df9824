"""Apps that break the WSGI contract in the response: /status, /header, /noniter."""


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/status":
        start_response("bogus", [("Content-Type", "text/plain")])
        return [b"bad status\n"]
    if path == "/header":
        start_response("200 OK", [("Content-Type", "text/plain"), ("Bad Header\r\nX", "v")])
        return [b"bad header\n"]
    if path == "/header-value":
        start_response("200 OK", [("X-Bad", "a\r\nInjected: yes")])
        return [b"bad header value\n"]
    if path == "/noniter":
        start_response("200 OK", [("Content-Type", "text/plain")])
        return 42
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "3")])
    return [b"ok\n"]


application = app
