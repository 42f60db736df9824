"""Sans-IO codec for the gonicorn wire protocol, version 1 (docs/protocol.md).

Nothing here touches a socket: callers feed bytes in and send the bytes this module
builds. The Go twin is internal/wire; both are checked against testdata/wire/.

Frame header, 12 bytes little-endian: u32 length, u8 type, u8 flags, u16 reserved (0),
u32 stream.
"""

import json
import struct

HEADER_SIZE = 12
MAX_PAYLOAD = 16 << 20
MAGIC = b"GNCN"
VERSION = 1
FLAG_END = 0x01
SENDFILE_TO_END = (1 << 64) - 1

# Worker channel.
HELLO = 0x01
REQUEST = 0x10
REQ_BODY = 0x11
MORE = 0x12
CANCEL = 0x13
WINDOW = 0x14
RESPONSE = 0x20
RESP_BODY = 0x21
SENDFILE = 0x22
ABORT = 0x23
INFO = 0x24
RECYCLE = 0x30
HEARTBEAT = 0x31
WS_ACCEPT = 0x50
WS_MSG = 0x51
WS_CLOSE = 0x52
# Control channel.
LOAD_CONFIG = 0x40
CONFIG = 0x41
START = 0x42
STARTED = 0x43
SPAWN = 0x44
SPAWNED = 0x45
EXITED = 0x46
HOOK = 0x47
STOP = 0x48

TYPE_NAMES = {
    HELLO: "HELLO", REQUEST: "REQUEST", REQ_BODY: "REQ_BODY", MORE: "MORE",
    CANCEL: "CANCEL", WINDOW: "WINDOW", RESPONSE: "RESPONSE", RESP_BODY: "RESP_BODY",
    SENDFILE: "SENDFILE", ABORT: "ABORT", INFO: "INFO", RECYCLE: "RECYCLE",
    HEARTBEAT: "HEARTBEAT",
    WS_ACCEPT: "WS_ACCEPT", WS_MSG: "WS_MSG", WS_CLOSE: "WS_CLOSE",
    LOAD_CONFIG: "LOAD_CONFIG", CONFIG: "CONFIG", START: "START", STARTED: "STARTED",
    SPAWN: "SPAWN", SPAWNED: "SPAWNED", EXITED: "EXITED", HOOK: "HOOK", STOP: "STOP",
}

# How many offending bytes a ProtocolError quotes (same as the Go side).
PREFIX_LEN = 32

_HEADER = struct.Struct("<IBBHI")
# A header followed by the u32 head_len of REQUEST/RESPONSE: one pack for both.
HEADER_HEADLEN = struct.Struct("<IBBHII")
_U32 = struct.Struct("<I")
_U64X2 = struct.Struct("<QQ")
_KNOWN = bytes(1 if i in TYPE_NAMES else 0 for i in range(256))


class ProtocolError(Exception):
    """Bytes on a channel that cannot be a frame (usually stray output)."""

    def __init__(self, reason, prefix=b""):
        self.reason = reason
        self.prefix = bytes(prefix[:PREFIX_LEN])
        super().__init__(
            "unexpected output on channel: %r (%s; is something printing to the channel?)"
            % (self.prefix, reason))


def unexpected_frame(typ, flags, stream, payload):
    """The ProtocolError for a frame Go should not have sent to this worker."""
    return ProtocolError("unexpected %s frame from Go" % TYPE_NAMES.get(typ, hex(typ)),
                         encode_header(typ, flags, stream, len(payload)))


def encode_header(type, flags, stream, length):
    """Return the 12-byte header of a frame."""
    return _HEADER.pack(length, type, flags, 0, stream)


def encode_frame(type, flags=0, stream=0, payload=b""):
    """Return one whole frame (header + payload) as bytes."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError("frame payload of %d bytes is over MAX_PAYLOAD (%d)"
                         % (len(payload), MAX_PAYLOAD))
    return _HEADER.pack(len(payload), type, flags, 0, stream) + bytes(payload)


def decode_header(data):
    """Decode and validate a 12-byte header: (length, type, flags, stream)."""
    if len(data) < HEADER_SIZE:
        raise ValueError("need %d header bytes, got %d" % (HEADER_SIZE, len(data)))
    length, typ, flags, reserved, stream = _HEADER.unpack_from(data, 0)
    _check(data, 0, length, typ, flags, reserved)
    return length, typ, flags, stream


def _check(buf, pos, length, typ, flags, reserved):
    if not _KNOWN[typ]:
        raise ProtocolError("unknown message type 0x%02x" % typ, buf[pos:pos + PREFIX_LEN])
    if reserved:
        raise ProtocolError("reserved field is 0x%04x, want 0" % reserved,
                            buf[pos:pos + PREFIX_LEN])
    if flags & ~FLAG_END:
        raise ProtocolError("unknown flags 0x%02x" % flags, buf[pos:pos + PREFIX_LEN])
    if length > MAX_PAYLOAD:
        raise ProtocolError("payload length %d over the %d limit" % (length, MAX_PAYLOAD),
                            buf[pos:pos + PREFIX_LEN])


class FrameReader:
    """Incremental frame decoder.

    Either ``feed(data)`` bytes, or write straight into ``writable()`` (e.g. with
    ``sock.recv_into``) and ``commit(n)``. Then iterate (or call ``next_frame()``) for
    complete frames ``(type, flags, stream, payload)``. A payload is a memoryview into
    the reader's buffer, valid until the next ``feed``/``writable`` call: copy it first
    if it must live longer.
    """

    __slots__ = ("_buf", "_mv", "_start", "_end")

    def __init__(self, size=256 * 1024):
        self._buf = bytearray(size)
        self._mv = memoryview(self._buf)
        self._start = 0
        self._end = 0

    def pending(self):
        """Bytes received but not yet returned as a frame."""
        return self._end - self._start

    def writable(self, min_size=65536):
        """Return a writable view of at least ``min_size`` free bytes at the end."""
        start, end = self._start, self._end
        if start == end:
            self._start = self._end = start = end = 0
        need = min_size
        if end - start >= HEADER_SIZE:
            # A frame is partly here: make room for the whole of it.
            length = _U32.unpack_from(self._buf, start)[0]
            if length <= MAX_PAYLOAD:
                need = max(need, HEADER_SIZE + length - (end - start))
        cap = len(self._buf)
        if cap - end < need:
            used = end - start
            if start and cap - used >= need:
                # Moving in place keeps the buffer; earlier payload views go stale,
                # which the class contract allows.
                self._buf[0:used] = bytes(self._mv[start:end])
            else:
                new = bytearray(max(cap * 2, used + need))
                new[0:used] = self._mv[start:end]
                # Never resize in place: callers may still hold views of the old one.
                self._buf = new
                self._mv = memoryview(new)
            self._start, self._end = 0, used
            end = used
        return self._mv[end:]

    def commit(self, n):
        """Record that ``n`` bytes were written into the last ``writable()`` view."""
        self._end += n

    def feed(self, data):
        n = len(data)
        if n:
            self.writable(n)[:n] = data
            self._end += n

    def next_frame(self):
        """Return the next complete frame, or None if more bytes are needed."""
        start = self._start
        avail = self._end - start
        if avail < HEADER_SIZE:
            if avail:
                self._check_partial(start, avail)
            return None
        length, typ, flags, reserved, stream = _HEADER.unpack_from(self._buf, start)
        if not _KNOWN[typ] or reserved or flags > 1 or length > MAX_PAYLOAD:
            _check(self._buf, start, length, typ, flags, reserved)
        if avail < HEADER_SIZE + length:
            return None
        p = start + HEADER_SIZE
        self._start = p + length
        return typ, flags, stream, self._mv[p:p + length]

    def _check_partial(self, start, avail):
        # Report stray output as soon as a field already here is invalid.
        b = self._buf
        if avail >= 4 and _U32.unpack_from(b, start)[0] > MAX_PAYLOAD:
            _check(b, start, MAX_PAYLOAD + 1, HELLO, 0, 0)
        if avail >= 5 and not _KNOWN[b[start + 4]]:
            _check(b, start, 0, b[start + 4], 0, 0)
        if avail >= 6 and b[start + 5] & ~FLAG_END:
            _check(b, start, 0, HELLO, b[start + 5], 0)
        if avail >= 8 and (b[start + 6] or b[start + 7]):
            _check(b, start, 0, HELLO, 0, b[start + 6] | b[start + 7] << 8)

    def __iter__(self):
        return self

    def __next__(self):
        f = self.next_frame()
        if f is None:
            raise StopIteration
        return f


# Payload helpers.

def split_head(payload):
    """Split a REQUEST/RESPONSE payload into (head, body) views."""
    if len(payload) < 4:
        raise ProtocolError("payload of %d bytes has no head length" % len(payload),
                            bytes(payload))
    n = _U32.unpack_from(payload, 0)[0]
    if 4 + n > len(payload):
        raise ProtocolError("head length %d over the %d-byte payload" % (n, len(payload)),
                            bytes(payload))
    mv = memoryview(payload)
    return mv[4:4 + n], mv[4 + n:]


def encode_head_len(n):
    return _U32.pack(n)


def encode_more(n):
    return _U32.pack(n)


def parse_more(payload):
    if len(payload) != 4:
        raise ProtocolError("MORE payload is %d bytes, want 4" % len(payload), bytes(payload))
    return _U32.unpack_from(payload, 0)[0]


def encode_window(n):
    return _U32.pack(n)


def parse_window(payload):
    if len(payload) != 4:
        raise ProtocolError("WINDOW payload is %d bytes, want 4" % len(payload),
                            bytes(payload))
    return _U32.unpack_from(payload, 0)[0]


def encode_sendfile(offset, count):
    return _U64X2.pack(offset, count)


def parse_sendfile(payload):
    if len(payload) != 16:
        raise ProtocolError("SENDFILE payload is %d bytes, want 16" % len(payload),
                            bytes(payload))
    return _U64X2.unpack_from(payload, 0)


def encode_hello(doc):
    return MAGIC + bytes((VERSION,)) + json.dumps(doc, separators=(",", ":")).encode()


def parse_hello(payload):
    payload = bytes(payload)
    if payload[:4] != MAGIC or len(payload) < 5:
        raise ProtocolError("HELLO does not start with %r" % MAGIC, payload)
    if payload[4] != VERSION:
        raise ProtocolError("HELLO has protocol version %d, want %d" % (payload[4], VERSION),
                            payload)
    return json.loads(payload[5:].decode())


def encode_json(doc):
    return json.dumps(doc, separators=(",", ":")).encode()


def decode_json(payload):
    return json.loads(bytes(payload).decode())
