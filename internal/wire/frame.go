package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Protocol constants from docs/protocol.md.
const (
	HeaderSize = 12       // bytes in a frame header
	MaxPayload = 16 << 20 // largest payload a frame may declare
	Magic      = "GNCN"   // first bytes of a HELLO payload
	Version    = 1        // protocol version byte following Magic in HELLO
)

// Message types. Worker channel: 0x01–0x30; control channel: 0x40–0x48.
const (
	Hello    byte = 0x01 // W→G, stream 0: Magic + Version + JSON
	Request  byte = 0x10 // G→W: u32 head_len, marshal head, first body bytes
	ReqBody  byte = 0x11 // G→W: more body bytes, only in answer to More
	More     byte = 0x12 // W→G: u32 number of body bytes the worker will take
	Cancel   byte = 0x13 // G→W: empty; stop the request
	Window   byte = 0x14 // G→W: u32 more response body bytes an ASGI stream may send
	Response byte = 0x20 // W→G: u32 head_len, marshal (status, headers), first body bytes
	RespBody byte = 0x21 // W→G: more body bytes
	Sendfile byte = 0x22 // W→G: u64 offset, u64 count; one fd as SCM_RIGHTS
	Abort    byte = 0x23 // W→G: UTF-8 reason; the response failed after RESPONSE
	Info     byte = 0x24 // W→G: marshal (status, headers) of an informational response (103)
	WSAccept byte = 0x50 // W→G: marshal (subprotocol, headers); Go answers 101
	WSMsg    byte = 0x51 // both: kind byte (1 text, 2 binary) + whole message
	WSClose  byte = 0x52 // both: u16 close code + UTF-8 reason
	Recycle  byte = 0x30 // W→G, stream 0: JSON {"reason": ...}
	// Heartbeat is W→G, stream 0, empty: a non-sync worker's main loop is alive.
	Heartbeat byte = 0x31

	LoadConfig byte = 0x40 // G→Z
	Config     byte = 0x41 // Z→G
	Start      byte = 0x42 // G→Z
	Started    byte = 0x43 // Z→G
	Spawn      byte = 0x44 // G→Z, with the worker end of a socketpair as SCM_RIGHTS
	Spawned    byte = 0x45 // Z→G
	Exited     byte = 0x46 // Z→G
	Hook       byte = 0x47 // G→Z
	Stop       byte = 0x48 // G→Z
)

// FlagEnd marks the last frame of a stream in one direction. It is the only flag.
const FlagEnd byte = 0x01

// SendfileToEnd as a SENDFILE count means "to the end of the file".
const SendfileToEnd = ^uint64(0)

var typeNames = [256]string{
	Hello: "HELLO", Request: "REQUEST", ReqBody: "REQ_BODY", More: "MORE", Cancel: "CANCEL", Window: "WINDOW",
	Response: "RESPONSE", RespBody: "RESP_BODY", Sendfile: "SENDFILE", Abort: "ABORT", Info: "INFO", WSAccept: "WS_ACCEPT", WSMsg: "WS_MSG", WSClose: "WS_CLOSE", Recycle: "RECYCLE", Heartbeat: "HEARTBEAT",
	LoadConfig: "LOAD_CONFIG", Config: "CONFIG", Start: "START", Started: "STARTED",
	Spawn: "SPAWN", Spawned: "SPAWNED", Exited: "EXITED", Hook: "HOOK", Stop: "STOP",
}

// TypeName returns the protocol name of a message type ("REQUEST"), or "" if unknown.
func TypeName(typ byte) string { return typeNames[typ] }

// KnownType reports whether typ is a message type of protocol version 1.
func KnownType(typ byte) bool { return typeNames[typ] != "" }

// ErrShort means the buffer holds only part of a frame: read more and call again.
var ErrShort = errors.New("wire: incomplete frame, need more bytes")

// prefixLen is how many offending bytes a ProtocolError quotes: enough to recognise a
// line of text, short enough for a log line.
const prefixLen = 32

// ProtocolError reports bytes that cannot be a frame header. Wrap it with the channel
// name (fmt.Errorf("worker 3: %w", err)); the quoted prefix usually shows what wrote
// to the channel.
type ProtocolError struct {
	Reason string // what is wrong, e.g. "unknown message type 0x6f"
	Prefix []byte // a copy of the first bytes of the offending header (up to 32)
}

func (e *ProtocolError) Error() string {
	return fmt.Sprintf("unexpected output on channel: %q (%s; is something printing to the channel?)", e.Prefix, e.Reason)
}

func protoErr(b []byte, format string, args ...any) *ProtocolError {
	p := b
	if len(p) > prefixLen {
		p = p[:prefixLen]
	}
	return &ProtocolError{Reason: fmt.Sprintf(format, args...), Prefix: append([]byte(nil), p...)}
}

// Header is a decoded frame header.
type Header struct {
	Length uint32 // payload bytes after the header
	Type   byte
	Flags  byte
	Stream uint32
}

// End reports whether FlagEnd is set.
func (h Header) End() bool { return h.Flags&FlagEnd != 0 }

// Frame is one decoded frame. Payload aliases the buffer given to Next: copy it before
// the buffer is reused.
type Frame struct {
	Header
	Payload []byte
}

// AppendHeader appends a 12-byte frame header to dst.
func AppendHeader(dst []byte, typ, flags byte, stream, length uint32) []byte {
	return append(dst,
		byte(length), byte(length>>8), byte(length>>16), byte(length>>24),
		typ, flags, 0, 0,
		byte(stream), byte(stream>>8), byte(stream>>16), byte(stream>>24))
}

// PutHeader writes a frame header into b[:12]. Use it to patch the length once a
// payload appended after a placeholder header is complete.
func PutHeader(b []byte, typ, flags byte, stream, length uint32) {
	_ = b[HeaderSize-1]
	binary.LittleEndian.PutUint32(b, length)
	b[4], b[5], b[6], b[7] = typ, flags, 0, 0
	binary.LittleEndian.PutUint32(b[8:], stream)
}

// AppendFrame appends a whole frame. A payload over MaxPayload is the caller's bug and
// panics, as the peer would reject it.
func AppendFrame(dst []byte, typ, flags byte, stream uint32, payload []byte) []byte {
	if len(payload) > MaxPayload {
		panic(fmt.Sprintf("wire: %s payload of %d bytes exceeds MaxPayload (%d)", TypeName(typ), len(payload), MaxPayload))
	}
	dst = AppendHeader(dst, typ, flags, stream, uint32(len(payload)))
	return append(dst, payload...)
}

// checkPrefix validates the header fields fully present in b (which may be shorter
// than a header), so that garbage is reported as soon as it is recognisable instead of
// waiting for bytes that may never come.
func checkPrefix(b []byte) error {
	if len(b) > 4 && !KnownType(b[4]) {
		return protoErr(b, "unknown message type 0x%02x", b[4])
	}
	if len(b) > 5 && b[5]&^FlagEnd != 0 {
		return protoErr(b, "unknown flags 0x%02x", b[5])
	}
	if (len(b) > 6 && b[6] != 0) || (len(b) > 7 && b[7] != 0) {
		return protoErr(b, "reserved bytes are not zero")
	}
	if len(b) >= 4 {
		if n := binary.LittleEndian.Uint32(b); n > MaxPayload {
			return protoErr(b, "payload length %d exceeds the %d-byte limit", n, MaxPayload)
		}
	}
	return nil
}

// ParseHeader decodes the header at the start of b. It returns ErrShort when b holds
// fewer than 12 bytes and those seen so far are valid, and a *ProtocolError when they
// cannot start a frame.
func ParseHeader(b []byte) (Header, error) {
	if err := checkPrefix(b); err != nil {
		return Header{}, err
	}
	if len(b) < HeaderSize {
		return Header{}, ErrShort
	}
	return Header{
		Length: binary.LittleEndian.Uint32(b),
		Type:   b[4],
		Flags:  b[5],
		Stream: binary.LittleEndian.Uint32(b[8:]),
	}, nil
}

// Next decodes the first frame in buf and returns it with the number of bytes it used.
// It returns ErrShort (and n == 0) until the whole frame is in buf. The frame's
// payload aliases buf.
func Next(buf []byte) (f Frame, n int, err error) {
	h, err := ParseHeader(buf)
	if err != nil {
		return Frame{}, 0, err
	}
	end := HeaderSize + int(h.Length)
	if len(buf) < end {
		return Frame{}, 0, ErrShort
	}
	return Frame{Header: h, Payload: buf[HeaderSize:end:end]}, end, nil
}
