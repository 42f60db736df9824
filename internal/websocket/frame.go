package websocket

import (
	"encoding/binary"
	"strconv"
)

// Opcode is a frame opcode (RFC 6455 section 5.2).
type Opcode byte

// Opcodes defined by RFC 6455; the others are reserved and refused.
const (
	OpContinuation Opcode = 0x0
	OpText         Opcode = 0x1
	OpBinary       Opcode = 0x2
	OpClose        Opcode = 0x8
	OpPing         Opcode = 0x9
	OpPong         Opcode = 0xA
)

// Kind is what [Reader.ReadMessage] returns: a whole data message or one control
// frame. Its values equal the opcodes, so Opcode(kind) names the frame to send.
type Kind byte

// Kinds of messages and events.
const (
	Text   Kind = Kind(OpText)
	Binary Kind = Kind(OpBinary)
	Close  Kind = Kind(OpClose)
	Ping   Kind = Kind(OpPing)
	Pong   Kind = Kind(OpPong)
)

func (k Kind) String() string {
	switch k {
	case Text:
		return "text"
	case Binary:
		return "binary"
	case Close:
		return "close"
	case Ping:
		return "ping"
	case Pong:
		return "pong"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

func (op Opcode) isControl() bool { return op&0x8 != 0 }

// Frame header bits.
const (
	finBit  = 0x80
	rsv1Bit = 0x40
	rsv2Bit = 0x20
	rsv3Bit = 0x10
	maskBit = 0x80
)

// MaxControlPayload is the largest payload of a control frame (RFC 6455 section 5.5).
const MaxControlPayload = 125

// Close codes used by this package (RFC 6455 section 7.4.1).
const (
	CloseNormal          uint16 = 1000
	CloseGoingAway       uint16 = 1001
	CloseProtocolError   uint16 = 1002
	CloseUnsupportedData uint16 = 1003
	CloseNoStatus        uint16 = 1005 // never on the wire: a close frame without a code
	CloseAbnormal        uint16 = 1006 // never on the wire: no close frame at all
	CloseInvalidData     uint16 = 1007
	ClosePolicyViolation uint16 = 1008
	CloseTooBig          uint16 = 1009
	CloseMandatoryExt    uint16 = 1010
	CloseInternalError   uint16 = 1011
	CloseTLSHandshake    uint16 = 1015 // never on the wire
)

// ValidCloseCode reports whether code may appear in a close frame: 1000–1003,
// 1007–1011 (the registered codes a peer may send) and 3000–4999 (libraries and
// applications). 1004 is reserved, and 1005, 1006 and 1015 only describe what happened
// locally.
func ValidCloseCode(code uint16) bool {
	switch {
	case code >= 1000 && code <= 1003, code >= 1007 && code <= 1011:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

func appendHeader(dst []byte, op Opcode, n int, fin, rsv1, masked bool) []byte {
	b0 := byte(op) & 0x0f
	if fin {
		b0 |= finBit
	}
	if rsv1 {
		b0 |= rsv1Bit
	}
	var m byte
	if masked {
		m = maskBit
	}
	switch {
	case n <= 125:
		return append(dst, b0, m|byte(n))
	case n <= 0xffff:
		return append(dst, b0, m|126, byte(n>>8), byte(n))
	}
	dst = append(dst, b0, m|127)
	return binary.BigEndian.AppendUint64(dst, uint64(n))
}

// AppendFrame appends one unmasked (server) frame. compress sets RSV1: the payload
// must already be deflated (see [Writer]), and only on the first frame of a message.
// The caller keeps control frames within [MaxControlPayload] and unfragmented.
func AppendFrame(dst []byte, op Opcode, payload []byte, fin, compress bool) []byte {
	dst = appendHeader(dst, op, len(payload), fin, compress, false)
	return append(dst, payload...)
}

// AppendMaskedFrame appends one frame masked with key, as a client sends it. The
// server never masks; this is for tests and for clients of this package.
func AppendMaskedFrame(dst []byte, op Opcode, payload []byte, fin, compress bool, key [4]byte) []byte {
	dst = appendHeader(dst, op, len(payload), fin, compress, true)
	dst = append(dst, key[:]...)
	start := len(dst)
	dst = append(dst, payload...)
	maskBytes(key, 0, dst[start:])
	return dst
}

// AppendClose appends a close frame with code and reason. A code of 0 or
// [CloseNoStatus] sends an empty close frame (no status). A code that may not go on
// the wire ([ValidCloseCode] false) is sent as 1011, 1006 as 1001 (going away); the
// reason is cut to fit in a control frame, at a UTF-8 boundary.
func AppendClose(dst []byte, code uint16, reason string) []byte {
	if code == 0 || code == CloseNoStatus {
		return AppendFrame(dst, OpClose, nil, true, false)
	}
	switch {
	case code == CloseAbnormal:
		code = CloseGoingAway
	case !ValidCloseCode(code):
		code = CloseInternalError
	}
	reason = truncUTF8(reason, MaxControlPayload-2)
	dst = appendHeader(dst, OpClose, 2+len(reason), true, false, false)
	dst = binary.BigEndian.AppendUint16(dst, code)
	return append(dst, reason...)
}

// truncUTF8 cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncUTF8(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n]
}

// maskBytes XORs b with key, starting at key offset pos (0–3), and returns the
// offset for the next byte. Masking is its own inverse.
func maskBytes(key [4]byte, pos int, b []byte) int {
	if len(b) >= 16 {
		// Rotate the key so the word loop starts at key offset 0 for b[0].
		var k [8]byte
		for i := range k {
			k[i] = key[(pos+i)&3]
		}
		kw := binary.LittleEndian.Uint64(k[:])
		n := len(b) &^ 7
		for i := 0; i < n; i += 8 {
			v := binary.LittleEndian.Uint64(b[i:])
			binary.LittleEndian.PutUint64(b[i:], v^kw)
		}
		for i := n; i < len(b); i++ {
			b[i] ^= k[i&7]
		}
		return (pos + len(b)) & 3
	}
	for i := range b {
		b[i] ^= key[pos&3]
		pos++
	}
	return pos & 3
}
