"""The e2e harness lives in tests/harness.py and its fixtures in tests/conftest.py
(shared with tests/compat): `server` (a factory), `pool`, `echo_server`, `flask_server`, `cli`."""
