package websocket

import (
	"bufio"
	"encoding/binary"
	"io"
	"slices"
	"strconv"
	"unicode/utf8"
)

// DefaultMaxMessageSize is the message size limit when ReaderOptions.MaxMessageSize
// is 0: 16 MiB, as uvicorn's --ws-max-size.
const DefaultMaxMessageSize = 16 << 20

// retainBuf is the largest buffer a Reader keeps between messages; bigger ones are
// dropped so one large message does not pin memory for the connection's life.
const retainBuf = 256 << 10

// ReaderOptions configures a [Reader]. The zero value reads a server's side of a
// connection without compression.
type ReaderOptions struct {
	// MaxMessageSize bounds a whole message, after reassembly and inflating
	// (0 means DefaultMaxMessageSize). Going over it is ErrTooBig (close 1009).
	MaxMessageSize int
	// Deflate is the permessage-deflate agreement from the handshake, nil when none
	// was accepted (then RSV1 is a protocol error).
	Deflate *DeflateParams
	// Client reads frames sent by a server: they must not be masked.
	Client bool
}

// Reader reads WebSocket messages from one connection. It is not safe for
// concurrent use; it writes nothing, so the caller answers pings and closes.
type Reader struct {
	br     *bufio.Reader
	max    int
	client bool
	infl   *inflater

	ctrl [MaxControlPayload]byte
	msg  []byte // frames of the current data message, unmasked
	out  []byte // the inflated message

	inMsg      bool // a fragmented data message is in progress
	kind       Kind
	compressed bool
}

// NewReader returns a Reader of br.
func NewReader(br *bufio.Reader, opts ReaderOptions) *Reader {
	r := &Reader{br: br, max: opts.MaxMessageSize, client: opts.Client}
	if r.max <= 0 {
		r.max = DefaultMaxMessageSize
	}
	if p := opts.Deflate; p != nil {
		r.infl = &inflater{noContext: p.ClientNoContextTakeover}
		if opts.Client {
			r.infl.noContext = p.ServerNoContextTakeover
		}
	}
	return r
}

// ReadMessage returns the next whole data message (Text or Binary, reassembled,
// inflated and checked) or the next control frame (Ping, Pong or Close, which may
// arrive between the fragments of a data message). payload stays valid until the
// next call. A Close payload has been checked; read it with [ParseClose].
// After an error the Reader is unusable: the stream is no longer at a frame
// boundary.
//
// An [*Error] means the peer broke the protocol: send a close frame with its Code
// and close the connection. io.EOF means the peer closed the connection between
// messages, io.ErrUnexpectedEOF inside one; other errors are the reader's.
func (r *Reader) ReadMessage() (kind Kind, payload []byte, err error) {
	if !r.inMsg {
		if cap(r.msg) > retainBuf {
			r.msg = nil
		}
		if cap(r.out) > retainBuf {
			r.out = nil
		}
	}
	for {
		// Peek rather than copy the header: a frame header is at most 14 bytes and a
		// bufio.Reader holds at least 16.
		b, err := r.br.Peek(2)
		if err != nil {
			if len(b) > 0 || r.inMsg {
				err = unexpected(err)
			}
			return 0, nil, err
		}
		b0, b1 := b[0], b[1]
		fin, rsv1, op := b0&finBit != 0, b0&rsv1Bit != 0, Opcode(b0&0x0f)
		masked := b1&maskBit != 0
		switch {
		case !r.client && !masked:
			return 0, nil, ErrUnmasked
		case r.client && masked:
			return 0, nil, ErrMasked
		case b0&(rsv2Bit|rsv3Bit) != 0:
			return 0, nil, ErrReservedBits
		}
		switch op {
		case OpContinuation, OpText, OpBinary, OpClose, OpPing, OpPong:
		default:
			return 0, nil, ErrReservedOpcode.with("opcode 0x" + strconv.FormatUint(uint64(op), 16))
		}
		n := uint64(b1 & 0x7f)
		if op.isControl() {
			switch {
			case !fin:
				return 0, nil, ErrControlFragment
			case n > MaxControlPayload:
				return 0, nil, ErrControlTooLong
			case rsv1:
				return 0, nil, ErrUnexpectedRSV1
			}
		}
		hl := 2
		switch n {
		case 126:
			hl = 4
		case 127:
			hl = 10
		}
		if masked {
			hl += 4
		}
		if b, err = r.br.Peek(hl); err != nil {
			return 0, nil, unexpected(err)
		}
		switch n {
		case 126:
			if n = uint64(binary.BigEndian.Uint16(b[2:4])); n < 126 {
				return 0, nil, ErrLengthEncoding
			}
		case 127:
			if n = binary.BigEndian.Uint64(b[2:10]); n < 1<<16 || n>>63 != 0 {
				return 0, nil, ErrLengthEncoding
			}
		}
		var key [4]byte
		if masked {
			key = [4]byte(b[hl-4 : hl])
		}
		r.br.Discard(hl)

		if op.isControl() {
			p := r.ctrl[:n]
			if err := r.readFull(p); err != nil {
				return 0, nil, err
			}
			if masked {
				maskBytes(key, 0, p)
			}
			if op == OpClose {
				if _, err := ParseClose(p); err != nil {
					return 0, nil, err
				}
			}
			return Kind(op), p, nil
		}

		if op == OpContinuation {
			switch {
			case !r.inMsg:
				return 0, nil, ErrContinuation
			case rsv1:
				return 0, nil, ErrUnexpectedRSV1
			}
		} else {
			switch {
			case r.inMsg:
				return 0, nil, ErrExpectedCont
			case rsv1 && r.infl == nil:
				return 0, nil, ErrUnexpectedRSV1
			}
			r.inMsg, r.kind, r.compressed = true, Kind(op), rsv1
			r.msg = r.msg[:0]
		}
		limit := uint64(r.max)
		if r.compressed {
			// Deflate may grow incompressible data by 5 bytes per 64 KiB block.
			limit += limit/8192 + 64
		}
		if have := uint64(len(r.msg)); n > limit-have {
			r.inMsg = false
			return 0, nil, ErrTooBig.with("message of at least " + strconv.FormatUint(have+n, 10) +
				" bytes over the maximum of " + strconv.Itoa(r.max) + " bytes")
		}
		if err := r.readPayload(int(n), masked, key); err != nil {
			return 0, nil, err
		}
		if !fin {
			continue
		}
		r.inMsg = false
		payload = r.msg
		if r.compressed {
			out, err := r.infl.inflate(r.out[:0], r.msg, r.max)
			if err != nil {
				return 0, nil, err
			}
			r.out, payload = out, out
		}
		if r.kind == Text && !utf8.Valid(payload) {
			return 0, nil, ErrInvalidUTF8
		}
		return r.kind, payload, nil
	}
}

// readFull reads a part of a frame already begun, where EOF is unexpected.
func (r *Reader) readFull(p []byte) error {
	_, err := io.ReadFull(r.br, p)
	return unexpected(err)
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readPayload appends n payload bytes to r.msg, unmasked. The buffer grows with the
// bytes that actually arrive, not with the declared length.
func (r *Reader) readPayload(n int, masked bool, key [4]byte) error {
	pos := 0
	for n > 0 {
		if len(r.msg) == cap(r.msg) {
			r.msg = slices.Grow(r.msg, min(n, max(cap(r.msg), 512)))
		}
		k := min(n, cap(r.msg)-len(r.msg))
		p := r.msg[len(r.msg) : len(r.msg)+k]
		if err := r.readFull(p); err != nil {
			return err
		}
		if masked {
			pos = maskBytes(key, pos, p)
		}
		r.msg = r.msg[:len(r.msg)+k]
		n -= k
	}
	return nil
}

// CloseFrame is the content of a close frame.
type CloseFrame struct {
	Code   uint16 // CloseNoStatus (1005) when the frame had no payload
	Reason []byte // UTF-8; aliases the payload
}

// ParseClose checks and splits a close frame payload (RFC 6455 section 5.5.1): empty,
// or a valid code followed by a UTF-8 reason.
func ParseClose(payload []byte) (CloseFrame, error) {
	switch len(payload) {
	case 0:
		return CloseFrame{Code: CloseNoStatus}, nil
	case 1:
		return CloseFrame{}, ErrCloseLength
	}
	c := CloseFrame{Code: binary.BigEndian.Uint16(payload), Reason: payload[2:]}
	if !ValidCloseCode(c.Code) {
		return CloseFrame{}, ErrCloseCode.with("code " + strconv.Itoa(int(c.Code)))
	}
	if !utf8.Valid(c.Reason) {
		return CloseFrame{}, ErrCloseUTF8
	}
	return c, nil
}
