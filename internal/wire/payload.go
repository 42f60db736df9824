package wire

import (
	"encoding/binary"
	"fmt"
)

// Payload helpers for the fixed binary layouts of docs/protocol.md. Each returns an
// error naming the message type when a peer sends a malformed payload.

// AppendHeadLen appends the u32 head_len that starts REQUEST and RESPONSE payloads.
// Append a placeholder (0) and patch it with PutHeadLen once the head is encoded.
func AppendHeadLen(dst []byte, n uint32) []byte {
	return binary.LittleEndian.AppendUint32(dst, n)
}

// PutHeadLen writes a head length into b[:4].
func PutHeadLen(b []byte, n uint32) { binary.LittleEndian.PutUint32(b, n) }

// SplitHead splits a REQUEST or RESPONSE payload into its marshal head and the body
// bytes that follow it; both alias p.
func SplitHead(p []byte) (head, body []byte, err error) {
	if len(p) < 4 {
		return nil, nil, fmt.Errorf("wire: head payload of %d bytes is shorter than its 4-byte head length", len(p))
	}
	n := binary.LittleEndian.Uint32(p)
	if uint64(n) > uint64(len(p)-4) {
		return nil, nil, fmt.Errorf("wire: head length %d exceeds the %d payload bytes after it", n, len(p)-4)
	}
	end := 4 + int(n)
	return p[4:end:end], p[end:], nil
}

// AppendMore appends a MORE payload.
func AppendMore(dst []byte, n uint32) []byte { return binary.LittleEndian.AppendUint32(dst, n) }

// ParseMore decodes a MORE payload.
func ParseMore(p []byte) (uint32, error) {
	if len(p) != 4 {
		return 0, fmt.Errorf("wire: MORE payload is %d bytes; want 4", len(p))
	}
	return binary.LittleEndian.Uint32(p), nil
}

// AppendWindow appends a WINDOW payload: n more response (or tunnel) bytes the
// worker may send.
func AppendWindow(dst []byte, n uint32) []byte { return binary.LittleEndian.AppendUint32(dst, n) }

// ParseWindow decodes a WINDOW payload.
func ParseWindow(p []byte) (uint32, error) {
	if len(p) != 4 {
		return 0, fmt.Errorf("wire: WINDOW payload is %d bytes; want 4", len(p))
	}
	return binary.LittleEndian.Uint32(p), nil
}

// AppendSendfile appends a SENDFILE payload; count SendfileToEnd means to end of file.
func AppendSendfile(dst []byte, offset, count uint64) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, offset)
	return binary.LittleEndian.AppendUint64(dst, count)
}

// ParseSendfile decodes a SENDFILE payload.
func ParseSendfile(p []byte) (offset, count uint64, err error) {
	if len(p) != 16 {
		return 0, 0, fmt.Errorf("wire: SENDFILE payload is %d bytes; want 16", len(p))
	}
	return binary.LittleEndian.Uint64(p), binary.LittleEndian.Uint64(p[8:]), nil
}

// AppendHello appends a HELLO payload: Magic, Version, then the JSON document.
func AppendHello(dst, jsonDoc []byte) []byte {
	dst = append(dst, Magic...)
	dst = append(dst, Version)
	return append(dst, jsonDoc...)
}

// ParseHello checks the magic and version of a HELLO payload and returns its JSON part.
func ParseHello(p []byte) (jsonDoc []byte, err error) {
	if len(p) < len(Magic)+1 || string(p[:len(Magic)]) != Magic {
		q := p
		if len(q) > prefixLen {
			q = q[:prefixLen]
		}
		return nil, fmt.Errorf("wire: HELLO payload %q does not start with %q: the worker is not a gonicorn runtime", q, Magic)
	}
	if v := p[len(Magic)]; v != Version {
		return nil, fmt.Errorf("wire: worker speaks protocol version %d, this gonicorn speaks %d: use the runtime embedded in this binary", v, Version)
	}
	return p[len(Magic)+1:], nil
}
