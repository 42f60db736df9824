"""Evaluate a gunicorn config file for the Go side (LOAD_CONFIG -> CONFIG).

The file is run as gunicorn runs it (app/base.py): PATH or file:PATH is
executed as a module named ``__config__`` with ``__file__`` set, and
python:MODULE is imported. Module-level names not starting with ``_`` are
returned JSON-ready; Go keeps the names that are settings and validates
them (internal/config). Callables stay in Python: they are reported as
``{"callable": repr, "qualname", "module", "arity"}`` and the zygote takes
the hooks from ``last_module()``. Stdlib only, Python 3.9+.
"""

import importlib
import importlib.machinery
import importlib.util
import inspect
import os
import sys
import traceback

__all__ = ["ConfigFileError", "load_config_file", "last_module", "to_json_value"]

_last_module = None


class ConfigFileError(Exception):
    """The config file could not be evaluated; str() is the text gunicorn
    prints to stderr before exiting 1."""


def last_module():
    """The module object of the last successfully evaluated config file."""
    return _last_module


def _arity(f):
    # gunicorn's util.get_arity: positional parameters without defaults
    # are not distinguished; every positional parameter counts.
    try:
        sig = inspect.signature(f)
    except (TypeError, ValueError):
        return None
    n = 0
    for p in sig.parameters.values():
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            n += 1
    return n


def to_json_value(v, _depth=0):
    """Convert a config value to something json.dumps accepts."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    if _depth > 20:
        return {"repr": repr(v)}
    if isinstance(v, (list, tuple)):
        return [to_json_value(x, _depth + 1) for x in v]
    if isinstance(v, dict) and all(isinstance(k, str) for k in v):
        return {k: to_json_value(x, _depth + 1) for k, x in v.items()}
    if callable(v):
        return {
            "callable": repr(v),
            "qualname": getattr(v, "__qualname__", None) or getattr(v, "__name__", None) or type(v).__name__,
            "module": getattr(v, "__module__", None) or "",
            "arity": None if inspect.isclass(v) else _arity(v),
        }
    return {"repr": repr(v)}


def _exec_file(filename):
    module_name = "__config__"
    ext = os.path.splitext(filename)[1]
    if ext in (".py", ".pyc"):
        spec = importlib.util.spec_from_file_location(module_name, filename)
    else:
        sys.stderr.write("!!!\n!!! WARNING: configuration file should have a valid Python extension.\n!!!\n\n")
        loader = importlib.machinery.SourceFileLoader(module_name, filename)
        spec = importlib.util.spec_from_file_location(module_name, filename, loader=loader)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = mod
    spec.loader.exec_module(mod)
    return mod


def load_config_file(spec):
    """Evaluate spec (PATH, file:PATH or python:MODULE) and return
    {name: json-ready value} for its public module-level names."""
    global _last_module
    if spec.startswith("python:"):
        try:
            mod = importlib.import_module(spec[len("python:"):])
        except Exception as e:
            # gunicorn does not catch this; do_load_config prints "\nError: <e>".
            raise ConfigFileError("\nError: %s" % e) from e
    else:
        filename = spec[len("file:"):] if spec.startswith("file:") else spec
        if not os.path.exists(filename):
            raise ConfigFileError("\nError: %r doesn't exist" % filename)
        try:
            mod = _exec_file(filename)
        except Exception:
            raise ConfigFileError(
                "Failed to read config file: %s\n%s" % (filename, traceback.format_exc().rstrip("\n"))
            ) from None
    _last_module = mod
    return {k: to_json_value(v) for k, v in vars(mod).items() if not k.startswith("_")}
