package control

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// MaxMessage is gunicorn's ControlProtocol.MAX_MESSAGE_SIZE: the largest
// payload either side accepts.
const MaxMessage = 16 << 20

// headerLen is the size of the big-endian length prefix.
const headerLen = 4

var (
	// ErrTooLarge: the length prefix announces more than MaxMessage bytes.
	ErrTooLarge = errors.New("control: message too large")
	// ErrIncomplete: the bytes end inside a frame.
	ErrIncomplete = errors.New("control: incomplete message")
)

// AppendFrame appends payload with its length prefix to dst.
func AppendFrame(dst, payload []byte) ([]byte, error) {
	if len(payload) > MaxMessage {
		return dst, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, len(payload), MaxMessage)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(len(payload)))
	return append(dst, payload...), nil
}

// ParseFrame splits the first frame off b. It returns ErrIncomplete when
// b holds only part of a frame (read more and call again) and ErrTooLarge
// as soon as the prefix announces an oversized payload, before any of it
// arrived.
func ParseFrame(b []byte) (payload, rest []byte, err error) {
	if len(b) < headerLen {
		return nil, b, ErrIncomplete
	}
	n := binary.BigEndian.Uint32(b)
	if n > MaxMessage {
		return nil, b, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, n, MaxMessage)
	}
	if uint64(len(b)-headerLen) < uint64(n) {
		return nil, b, ErrIncomplete
	}
	end := headerLen + int(n)
	return b[headerLen:end:end], b[end:], nil
}

// ReadFrame reads one frame from r. io.EOF means the peer closed between
// frames; a close inside a frame is ErrIncomplete. The payload buffer
// grows as bytes arrive, so a lying prefix costs no 16 MiB allocation.
func ReadFrame(r io.Reader) ([]byte, error) {
	var hdr [headerLen]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, ErrIncomplete
		}
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > MaxMessage {
		return nil, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, n, MaxMessage)
	}
	var buf []byte
	if n <= 64<<10 {
		buf = make([]byte, n)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, incomplete(err)
		}
		return buf, nil
	}
	buf = make([]byte, 0, 64<<10)
	lr := io.LimitReader(r, int64(n))
	for len(buf) < int(n) {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		m, err := lr.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err != nil && len(buf) < int(n) {
			return nil, incomplete(err)
		}
	}
	return buf, nil
}

func incomplete(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrIncomplete
	}
	return err
}
