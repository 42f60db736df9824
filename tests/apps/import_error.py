"""Fails at import time, as an app with a missing dependency does."""
import a_module_that_does_not_exist_gonicorn  # noqa: F401


def app(environ, start_response):  # pragma: no cover - never reached
    start_response("200 OK", [])
    return [b""]
