"""WebSocket-over-tunnel cases shared by the aiohttp and tornado worker tests.

The module name has no ``test`` prefix and ``TunnelCases`` is not a TestCase, so
unittest collects these cases only through the framework classes that mix them in.
"""

from gonicorn_runtime._gtornado import TUNNEL_CREDIT, TUNNEL_WINDOW

from .support import (WS_ACCEPT, TunnelClient, environ, upgrade_environ, ws_close_frame,
                      ws_frame, ws_parse)


class TunnelCases:
    """Mix into a unittest.TestCase that defines ``harness()``: a ProcHarness whose
    app serves ``/`` (hello) and a WebSocket echo at ``/ws`` that answers "headers"
    with "Upgrade|Connection" and "big:N" with N 64 KiB binary messages then "done".

    The framework differences are the hooks below.
    """

    # Headers the 101 must not carry (the Go front writes its own).
    absent_101_headers = ("server",)
    # The 101's Connection value as compared: tornado spells it "Upgrade".
    expected_connection = "Upgrade"
    # Whether the first credit is granted again once a 200 KiB message is read.
    credit_back_after_read = True

    def harness(self):
        raise NotImplementedError("%s must define harness()" % type(self).__name__)

    def connection_value(self, hd):
        return hd["connection"]

    def check_close_reply(self, frames):
        """The frames the app sent after the client's close 4001 "bye"."""
        raise NotImplementedError("%s must define check_close_reply()" % type(self).__name__)

    def check_refused_upgrade(self, status, body, frames):
        """The answer to an upgrade Go offered no tunnel for."""
        raise NotImplementedError("%s must define check_refused_upgrade()" % type(self).__name__)

    def check_plain_answer(self, body):
        """The body of a plain answer to ``/?name=up`` offered a tunnel."""
        raise NotImplementedError("%s must define check_plain_answer()" % type(self).__name__)

    def open(self, h, stream=1):
        t = TunnelClient(h.go, stream)
        status, headers = t.open(upgrade_environ())
        self.assertEqual(status, "101 Switching Protocols")
        hd = {k.lower(): v for k, v in headers}
        self.assertEqual((hd["upgrade"], self.connection_value(hd), hd["sec-websocket-accept"]),
                         ("websocket", self.expected_connection, WS_ACCEPT))
        for name in self.absent_101_headers:
            self.assertNotIn(name, hd)
        t.next()   # the first credit
        self.assertEqual(t.credit, TUNNEL_CREDIT)
        return t

    def test_echo_and_client_close(self):
        with self.harness() as h:
            t = self.open(h)
            t.send(ws_frame(0x1, b"hello"))
            self.assertEqual(t.messages(1), [(0x1, b"hello")])
            t.send(ws_frame(0x1, b"headers"))
            self.assertEqual(t.messages(1), [(0x1, b"websocket|Upgrade")])
            t.send(ws_frame(0x2, b"\x00\xff"))
            self.assertEqual(t.messages(1), [(0x2, b"\x00\xff")])
            t.send(ws_close_frame(4001, b"bye"))
            self.check_close_reply(t.until_end())
            h.go.request(2, environ("GET", "/"))
            self.assertEqual(h.go.response(2)[0], "200 OK")
            self.assertEqual(h.stop(), 0)

    def test_client_eof_ends_the_tunnel(self):
        with self.harness() as h:
            t = self.open(h)
            t.send(ws_frame(0x1, b"x"))
            self.assertEqual(t.messages(1), [(0x1, b"x")])
            t.send(b"", end=True)
            t.until_end()
            self.assertEqual(h.stop(), 0)

    def check_messages_bigger_than_the_credit(self):
        """A 200 KiB message, then one bigger than the credit, which arrives as
        credit comes back. Each framework names the case after what it shows."""
        with self.harness() as h:
            t = self.open(h)
            big = bytes(200 * 1024)
            t.send(ws_frame(0x2, big, mask=b"\0\0\0\0"))
            self.assertEqual(t.messages(1), [(0x2, big)])
            if self.credit_back_after_read:
                self.assertEqual(t.credit, TUNNEL_CREDIT)
            bigger = bytes(range(256)) * 4096
            t.send_all(ws_frame(0x2, bigger, mask=b"\0\0\0\0"))
            self.assertEqual(t.messages(1), [(0x2, bigger)])
            h.stop()

    def test_window_holds_the_app_back(self):
        with self.harness() as h:
            t = self.open(h)
            t.send(ws_frame(0x1, b"big:48"))   # 3 MiB in 64 KiB messages
            while t.next(0.5) is not None:
                pass
            self.assertGreaterEqual(t.received, TUNNEL_WINDOW)
            self.assertLess(t.received, TUNNEL_WINDOW + 70 * 1024)
            got = ws_parse(t.buf)
            while len(got) < 49:
                granted, t.received = t.received, 0
                t.window(granted)   # Go wrote it all to the client: grant it back
                self.assertIsNotNone(t.next(5), "nothing after WINDOW")
                while t.next(0.2) is not None:
                    pass
                self.assertLess(t.received, granted + 70 * 1024)
                got += ws_parse(t.buf)
            self.assertEqual(got[-1], (0x1, b"done"))
            self.assertEqual([len(p) for _, p in got[:-1]], [65536] * 48)
            h.stop()

    def test_cancel_drops_the_tunnel(self):
        with self.harness() as h:
            t = self.open(h)
            h.go.cancel(1)
            self.assertIsNone(t.next(0.5))
            h.go.request(2, environ("GET", "/"))
            self.assertEqual(h.go.response(2)[0], "200 OK")
            self.assertEqual(h.stop(), 0)

    def test_upgrade_without_a_tunnel_is_refused(self):
        with self.harness() as h:
            h.go.request(1, upgrade_environ(tunnel=False))
            status, _, body, frames = h.go.response(1)
            self.check_refused_upgrade(status, body, frames)
            h.stop()

    def test_offered_tunnel_answered_without_101(self):
        with self.harness() as h:
            t = TunnelClient(h.go, 1)
            status, _ = t.open(upgrade_environ("/?name=up"))
            self.assertEqual(status, "200 OK")
            t.until_end()
            self.check_plain_answer(bytes(t.buf))
            h.go.request(2, environ("GET", "/"))
            self.assertEqual(h.go.response(2)[0], "200 OK")
            self.assertEqual(h.stop(), 0)
