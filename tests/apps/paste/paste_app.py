"""A PasteDeploy app factory for tests/e2e/test_paste.py: the body names the section's
greeting, a global_conf value and the path."""


def make_app(global_conf, greeting="hi", **local_conf):
    who = global_conf.get("who", "-")

    def app(environ, start_response):
        body = ("%s %s %s" % (greeting, who, environ["PATH_INFO"])).encode()
        start_response("200 OK", [("Content-Type", "text/plain"),
                                  ("Content-Length", str(len(body)))])
        return [body]

    return app
