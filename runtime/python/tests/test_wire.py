"""Tests of the sans-IO codec (_wire.py), including the shared vectors in testdata/wire."""

import ast
import json
import marshal
import os
import unittest

from gonicorn_runtime import _wire

VECTORS = os.path.join(os.path.dirname(__file__), "..", "..", "..", "testdata", "wire",
                       "vectors.json")


def decode_all(data, chunk=None):
    """Feed data (in chunks) and return (frames, error) like the vector schema."""
    r = _wire.FrameReader(64)
    frames = []
    step = chunk or max(1, len(data))
    try:
        for i in range(0, len(data), step):
            r.feed(data[i:i + step])
            for typ, flags, stream, payload in r:
                frames.append({"type": typ, "flags": flags, "stream": stream,
                               "payload_hex": bytes(payload).hex()})
    except _wire.ProtocolError:
        return frames, "protocol"
    # An empty input is "short" too: the reader waits for a first frame.
    return frames, ("short" if r.pending() or not frames else None)


class HeaderTest(unittest.TestCase):
    def test_encode_header_layout(self):
        got = _wire.encode_header(_wire.RESPONSE, _wire.FLAG_END, 7, 300)
        want = bytes([44, 1, 0, 0, 0x20, 1, 0, 0, 7, 0, 0, 0])
        self.assertEqual(got, want, "got %r; want %r" % (got, want))

    def test_decode_header_roundtrip(self):
        for typ in _wire.TYPE_NAMES:
            h = _wire.encode_header(typ, 1, 2 ** 32 - 1, _wire.MAX_PAYLOAD)
            self.assertEqual(_wire.decode_header(h), (_wire.MAX_PAYLOAD, typ, 1, 2 ** 32 - 1))

    def test_decode_header_errors(self):
        cases = [
            (b"Hello world\n", "unknown message type"),
            (_wire.encode_header(0x10, 2, 1, 0), "unknown flags"),
            (b"\x00\x00\x00\x00\x10\x00\x01\x00\x01\x00\x00\x00", "reserved"),
            (_wire.encode_header(0x10, 0, 1, _wire.MAX_PAYLOAD + 1), "over the"),
        ]
        for data, want in cases:
            with self.assertRaises(_wire.ProtocolError) as cm:
                _wire.decode_header(data)
            self.assertIn(want, str(cm.exception))
        with self.assertRaises(ValueError):
            _wire.decode_header(b"\x00")

    def test_stray_print_is_quoted(self):
        r = _wire.FrameReader()
        r.feed(b"Hello world, this is a print() gone astray\n")
        with self.assertRaises(_wire.ProtocolError) as cm:
            r.next_frame()
        msg = str(cm.exception)
        self.assertIn("b'Hello world, this is a print() g'", msg)
        self.assertEqual(len(cm.exception.prefix), _wire.PREFIX_LEN)

    def test_encode_frame(self):
        f = _wire.encode_frame(_wire.CANCEL, 0, 9)
        self.assertEqual(f, _wire.encode_header(_wire.CANCEL, 0, 9, 0))
        with self.assertRaises(ValueError):
            _wire.encode_frame(_wire.RESP_BODY, 0, 1, b"x" * (_wire.MAX_PAYLOAD + 1))


class ReaderTest(unittest.TestCase):
    def frames(self):
        return [
            (_wire.REQUEST, 1, 1, b"abc"),
            (_wire.REQ_BODY, 0, 2, b""),
            (_wire.RESP_BODY, 1, 3, bytes(range(256)) * 40),
            (_wire.HELLO, 0, 0, b"GNCN\x01{}"),
        ]

    def test_every_split(self):
        data = b"".join(_wire.encode_frame(t, f, s, p) for t, f, s, p in self.frames())
        want = [(t, f, s, p) for t, f, s, p in self.frames()]
        for chunk in (1, 5, 11, 12, 13, 100, 4096, len(data)):
            r = _wire.FrameReader(16)
            got = []
            for i in range(0, len(data), chunk):
                r.feed(data[i:i + chunk])
                got.extend((t, f, s, bytes(p)) for t, f, s, p in r)
            self.assertEqual(got, want, "chunk %d" % chunk)
            self.assertEqual(r.pending(), 0)

    def test_writable_commit(self):
        data = b"".join(_wire.encode_frame(t, f, s, p) for t, f, s, p in self.frames())
        r = _wire.FrameReader(32)
        got = []
        pos = 0
        while pos < len(data):
            buf = r.writable(7)
            n = min(len(buf), 7, len(data) - pos)
            buf[:n] = data[pos:pos + n]
            r.commit(n)
            pos += n
            got.extend(bytes(p) for _, _, _, p in r)
        self.assertEqual(got, [p for _, _, _, p in self.frames()])

    def test_old_views_survive_growth(self):
        r = _wire.FrameReader(16)
        r.feed(_wire.encode_frame(_wire.REQUEST, 0, 1, b"first"))
        first = r.next_frame()[3]
        r.feed(_wire.encode_frame(_wire.REQUEST, 0, 2, b"x" * 1000))
        self.assertEqual(bytes(r.next_frame()[3]), b"x" * 1000)
        self.assertEqual(bytes(first), b"first")

    def test_partial_header_protocol_error_early(self):
        for data in (b"\x00\x00\x00\x00\x77", b"\x00\x00\x00\x00\x10\x04",
                     b"\x00\x00\x00\x00\x10\x00\x00\x01", b"\xff\xff\xff\xff"):
            r = _wire.FrameReader()
            r.feed(data)
            with self.assertRaises(_wire.ProtocolError):
                r.next_frame()


class PayloadTest(unittest.TestCase):
    def test_helpers(self):
        self.assertEqual(_wire.parse_more(_wire.encode_more(65536)), 65536)
        self.assertEqual(_wire.parse_window(_wire.encode_window(1 << 20)), 1 << 20)
        self.assertEqual(_wire.parse_sendfile(_wire.encode_sendfile(5, _wire.SENDFILE_TO_END)),
                         (5, _wire.SENDFILE_TO_END))
        doc = {"pid": 1, "app_kind": "wsgi"}
        self.assertEqual(_wire.parse_hello(_wire.encode_hello(doc)), doc)
        self.assertEqual(_wire.decode_json(_wire.encode_json(doc)), doc)
        head = marshal.dumps(("200 OK", [("A", "b")]), 2)
        payload = _wire.encode_head_len(len(head)) + head + b"body"
        h, b = _wire.split_head(payload)
        self.assertEqual(marshal.loads(h), ("200 OK", [("A", "b")]))
        self.assertEqual(bytes(b), b"body")

    def test_helper_errors(self):
        for fn, arg in ((_wire.parse_more, b"123"), (_wire.parse_sendfile, b"1"),
                        (_wire.parse_window, b""), (_wire.parse_window, b"12345"),
                        (_wire.parse_hello, b"XXXX\x01{}"), (_wire.parse_hello, b"GNCN\x02{}"),
                        (_wire.split_head, b"\x01"), (_wire.split_head, b"\x09\x00\x00\x00ab")):
            with self.assertRaises(_wire.ProtocolError):
                fn(arg)


@unittest.skipUnless(os.path.exists(VECTORS), "testdata/wire/vectors.json not written yet")
class VectorsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with open(VECTORS) as f:
            cls.doc = json.load(f)

    def test_frames_decode(self):
        for v in self.doc["frames"]:
            data = bytes.fromhex(v["hex"])
            for chunk in (None, 1, 7):
                frames, err = decode_all(data, chunk)
                self.assertEqual(frames, v["frames"], "%s (chunk %s)" % (v["name"], chunk))
                want = v["error"]
                if want == "protocol" and err == "short":
                    # Allowed: some invalid fields only show once 12 bytes are here.
                    self.assertLess(len(data) - sum(12 + len(f["payload_hex"]) // 2
                                                    for f in frames), 12, v["name"])
                    continue
                self.assertEqual(err, want, "%s (chunk %s): got %s; want %s"
                                 % (v["name"], chunk, err, want))

    def test_frames_encode(self):
        for v in self.doc["frames"]:
            if v["error"] is not None:
                continue
            got = b"".join(_wire.encode_frame(f["type"], f["flags"], f["stream"],
                                              bytes.fromhex(f["payload_hex"]))
                           for f in v["frames"])
            self.assertEqual(got.hex(), v["hex"], v["name"])

    def test_marshal(self):
        for v in self.doc["marshal"]:
            if v["go_error"]:
                continue
            got = marshal.loads(bytes.fromhex(v["hex"]))
            want = ast.literal_eval(v["python"])
            self.assertEqual((repr(got), type(got)), (repr(want), type(want)), v["name"])
            if v["origin"] == "python":
                self.assertEqual(marshal.dumps(want, 2).hex(), v["hex"], v["name"])


if __name__ == "__main__":
    unittest.main()
