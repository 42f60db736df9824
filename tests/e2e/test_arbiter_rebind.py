"""HUP re-reads the config; when `bind` changed, the master listens on the new addresses and
stops accepting on the old ones, as gunicorn's reload does."""
import signal
import time

import requests

from harness import free_port


def test_hup_rebinds_a_changed_bind(server, tmp_path):
    first, second = free_port(), free_port()
    conf = tmp_path / "rebind.conf.py"
    conf.write_text(f'bind = "127.0.0.1:{first}"\n')
    s = server(["-c", str(conf), "hello_wsgi:app"], bind=False, port=first)
    assert requests.get(f"http://127.0.0.1:{first}/", timeout=5).status_code == 200
    conf.write_text(f'bind = "127.0.0.1:{second}"\n')
    s.send_signal(signal.SIGHUP)
    s.wait_for_log(rf"Listening at: http://127\.0\.0\.1:{second}")
    deadline = time.monotonic() + 5
    while True:
        try:
            r = requests.get(f"http://127.0.0.1:{second}/", timeout=5)
            break
        except requests.ConnectionError:
            assert time.monotonic() < deadline, "the new address never answered"
            time.sleep(0.05)
    assert r.status_code == 200
    try:
        requests.get(f"http://127.0.0.1:{first}/", timeout=2)
        raise AssertionError(f"the old address {first} still accepts after the HUP")
    except requests.ConnectionError:
        pass
