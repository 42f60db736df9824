"""Load the application from a gunicorn app URI and tell WSGI from ASGI.

URI forms and error texts follow gunicorn's ``util.import_app``: ``module`` (attribute
``application``), ``module:name``, ``module:factory(literal, key=literal)``.
"""

import ast
import importlib
import inspect
import logging
import os
import sys
import traceback

# Exit codes shared with Go (docs/protocol.md).
WORKER_BOOT_ERROR = 3
APP_LOAD_ERROR = 4
CONFIG_ERROR = 1


class AppImportError(Exception):
    """The app URI names nothing usable (gunicorn's exit code 4)."""


def _called_with_wrong_args(f):
    # The TypeError came from the call itself if the traceback never reached f's code.
    tb = sys.exc_info()[2]
    code = getattr(f, "__code__", None)
    try:
        while tb is not None:
            if tb.tb_frame.f_code is code:
                return False
            tb = tb.tb_next
        return True
    finally:
        del tb


def load_paste_app(uri, global_conf=None):
    """The app of a PasteDeploy INI file: uri is the file's absolute path, with an optional
    #section (gunicorn's --paste, app/pasterapp.py)."""
    try:
        from paste.deploy import loadapp
    except ImportError:
        raise AppImportError(
            "--paste %s needs PasteDeploy, which is not installed in this Python (%s); "
            "install it with: %s -m pip install PasteDeploy"
            % (uri, sys.executable, sys.executable))
    if ":" not in uri:
        uri = "config:" + uri
    return loadapp(uri, name=None, relative_to=os.getcwd(), global_conf=global_conf)


def import_app(uri):
    parts = uri.split(":", 1)
    if len(parts) == 1:
        module, obj = uri, "application"
    else:
        module, obj = parts

    try:
        mod = importlib.import_module(module)
    except ImportError:
        if module.endswith(".py") and os.path.exists(module):
            raise ImportError("Failed to find application, did you mean '%s:%s'?"
                              % (module.rsplit(".", 1)[0], obj))
        raise

    try:
        expr = ast.parse(obj, mode="eval").body
    except SyntaxError:
        raise AppImportError(
            "Failed to parse %r as an attribute name or function call." % obj)

    if isinstance(expr, ast.Name):
        name = expr.id
        args = kwargs = None
    elif isinstance(expr, ast.Call):
        if not isinstance(expr.func, ast.Name):
            raise AppImportError("Function reference must be a simple name: %r" % obj)
        name = expr.func.id
        try:
            args = [ast.literal_eval(a) for a in expr.args]
            kwargs = {kw.arg: ast.literal_eval(kw.value) for kw in expr.keywords}
        except ValueError:
            raise AppImportError("Failed to parse arguments as literal values: %r" % obj)
    else:
        raise AppImportError(
            "Failed to parse %r as an attribute name or function call." % obj)

    try:
        app = getattr(mod, name)
    except AttributeError:
        if logging.root.level == logging.DEBUG:
            traceback.print_exception(*sys.exc_info())
        raise AppImportError("Failed to find attribute %r in %r." % (name, module))

    if args is not None:
        try:
            app = app(*args, **kwargs)
        except TypeError as e:
            if _called_with_wrong_args(app):
                raise AppImportError(
                    "".join(traceback.format_exception_only(TypeError, e)).strip())
            raise

    if app is None:
        raise AppImportError("Failed to find application object: %r" % obj)
    if not callable(app):
        raise AppImportError("Application object must be callable.")
    return app


def _is_coroutine_function(f):
    while hasattr(f, "func") and hasattr(f, "args"):  # functools.partial
        f = f.func
    return inspect.iscoroutinefunction(f)


def _instance_call(cls):
    # The __call__ its instances get (not type.__call__, which builds them).
    for klass in inspect.getmro(cls):
        if "__call__" in vars(klass):
            return vars(klass)["__call__"]
    return None


def asgi_version(app):
    """"3.0" for an ASGI 3 app (async callable, or a class with awaitable instances),
    "2.0" for an ASGI 2 class (instances with an async ``__call__(receive, send)``),
    None for anything else (a WSGI app)."""
    if inspect.isclass(app):
        if hasattr(app, "__await__"):
            return "3.0"
        call = _instance_call(app)
        if call is None or not _is_coroutine_function(call):
            return None
        # (self, receive, send): ASGI 2. (self, scope, receive, send) is an ASGI 3
        # class passed where its instance was meant: not servable either way.
        try:
            params = [p for p in inspect.signature(call).parameters.values()
                      if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        except (TypeError, ValueError):
            return None
        return "2.0" if len(params) == 3 else None
    if _is_coroutine_function(app):
        return "3.0"
    call = getattr(app, "__call__", None)
    if call is not None and _is_coroutine_function(call):
        return "3.0"
    return None


def app_kind(app):
    """Return "asgi" for an ASGI 3 or ASGI 2 app, else "wsgi"."""
    return "wsgi" if asgi_version(app) is None else "asgi"
