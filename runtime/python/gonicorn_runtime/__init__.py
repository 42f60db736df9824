"""gonicorn's Python runtime: the zygote and the workers that run WSGI apps for Go.

Run by Go as ``python -m gonicorn_runtime`` with the control channel on fd 3
(``GONICORN_CONTROL_FD``). Stdlib only, CPython 3.9+. Modules starting with ``_`` are
private; docs/protocol.md is the contract with the Go side.
"""

import os as _os

# Go passes its own version so that the two never disagree.
__version__ = _os.environ.get("GONICORN_VERSION", "0.0.0")

__all__ = ["__version__", "main"]


def main():
    """Entry point of ``python -m gonicorn_runtime``; returns the exit status."""
    from ._zygote import main as _main
    return _main()
