// Package wire is the sans-IO codec for the gonicorn wire protocol (docs/protocol.md,
// version 1): the frames Go exchanges with the Python zygote (control channel) and with
// each worker (worker channel), and the subset of CPython's marshal format used for
// request and response heads. It never touches a socket: callers read bytes, hand them
// to [Next], and write what the Append functions produce. The Python twin is
// runtime/python/gonicorn_runtime/_wire.py; both are checked against testdata/wire.
//
// # Frame header
//
// Every frame is a 12-byte header followed by the payload. All integers are
// little-endian:
//
//	offset size field     meaning
//	0      4    length    payload length, header excluded; at most MaxPayload (16 MiB)
//	4      1    type      message type (Hello … Stop); unknown types are a protocol error
//	5      1    flags     bit 0 FlagEnd: no more frames of this stream in this direction;
//	                      other bits must be 0
//	6      2    reserved  must be 0; a non-zero value is a protocol error (it catches
//	                      stray output such as a print() in the worker)
//	8      4    stream    request id chosen by Go (1 … 2³²−1), 0 when not tied to a request
//
// Several frames may arrive in one read, and one frame may span reads: [Next] returns
// [ErrShort] until a whole frame is buffered. A header that cannot be a frame yields a
// [*ProtocolError] quoting the first bytes seen, so that garbage on a channel reads as
// unexpected output rather than as a crash.
//
// # Payload encodings
//
// Control messages and HELLO carry JSON. REQUEST and RESPONSE carry a u32 head length, a
// marshal head and the first body bytes ([SplitHead]). Go writes marshal with the
// Append* functions (types N T F i s z u ) ( [ { 0), which allocate nothing; Python
// writes heads with marshal.dumps(obj, 2), read back by [Unmarshal] (generic values) and
// [DecodeResponseHead] (the (status, headers) head, converted to latin-1 bytes). MORE
// and WINDOW carry one u32 ([AppendMore], [AppendWindow]): credit for request body
// bytes and for response bytes. A tunnel (an upgraded connection of a tornado or
// aiohttp worker, docs/protocol.md "Tunnels") adds no message type: it reuses these
// frames for raw bytes both ways.
package wire
