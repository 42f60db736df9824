"""--timeout for the non-sync classes is a heartbeat from the worker's main loop: an ASGI app
that blocks its event loop is caught, its stuck task's stack is logged, the request is answered
504 and the worker replaced. gonicorn only: gunicorn resets the stuck request and logs no stack
for async workers (its issue #185)."""
import pytest
import requests

pytestmark = pytest.mark.gonicorn_only


def test_blocked_event_loop_is_a_worker_timeout(server):
    s = server(["-k", "asgi", "--timeout", "2", "block_loop_asgi:app"])
    r = requests.get(f"http://{s.address()}/block", timeout=15)
    assert r.status_code == 504, r.status_code
    s.wait_for_log(r"\[CRITICAL\] WORKER TIMEOUT \(pid:\d+\)")
    s.wait_for_log(r"serving stream \d+: GET /block")
    s.wait_for_log(r"in blocking_call_here")
    s.wait_for_log(r"Booting worker with pid", count=2)
    assert requests.get(f"http://{s.address()}/", timeout=10).text == "ok"
