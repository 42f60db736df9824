package websocket

import (
	"compress/flate"
	"strconv"
)

// WriterOptions configures a [Writer]. The zero value compresses with
// flate.BestSpeed every message of 128 bytes or more.
type WriterOptions struct {
	// Level is the compress/flate level, 1–9 or flate.HuffmanOnly (0 means
	// flate.BestSpeed: with no compression, do not negotiate permessage-deflate).
	Level int
	// MinCompressSize is the smallest message compressed (0 means 128; negative
	// compresses every message). Smaller ones cost more to deflate than they save.
	MinCompressSize int
	// Client writes a client's side of the connection: its compression state
	// follows the client_* parameters. Frames are still written unmasked; clients
	// mask with AppendMaskedFrame.
	Client bool
}

// Writer produces the server's data frames for one connection, with the
// connection's permessage-deflate state. It is not safe for concurrent use.
type Writer struct {
	c       *compressor // nil without deflate
	min     int
	scratch []byte
}

// NewWriter returns a Writer for a connection with the permessage-deflate agreement
// p (nil when none was accepted). It fails only for an invalid level.
func NewWriter(p *DeflateParams, opts WriterOptions) (*Writer, error) {
	w := &Writer{min: opts.MinCompressSize}
	if w.min == 0 {
		w.min = 128
	}
	if p == nil {
		return w, nil
	}
	level := opts.Level
	if level == 0 {
		level = flate.BestSpeed
	}
	if level < flate.HuffmanOnly || level > flate.BestCompression || level == flate.NoCompression {
		return nil, &Error{Code: CloseInternalError, Msg: "invalid compression level " + strconv.Itoa(opts.Level) +
			"; use 1 (fastest) to 9 (smallest) or -2 (Huffman only)"}
	}
	noContext := p.ServerNoContextTakeover
	if opts.Client {
		noContext = p.ClientNoContextTakeover
	}
	w.c = &compressor{level: level, noContext: noContext}
	return w, nil
}

// AppendMessage appends payload as one unfragmented frame of kind (Text or Binary),
// deflated when permessage-deflate was agreed and the message is large enough.
// Control kinds are written as they are, uncompressed. The caller checks that text
// is UTF-8.
func (w *Writer) AppendMessage(dst []byte, kind Kind, payload []byte) []byte {
	op := Opcode(kind)
	if w.c == nil || op.isControl() || len(payload) < w.min {
		return AppendFrame(dst, op, payload, true, false)
	}
	w.scratch = w.c.compress(w.scratch[:0], payload)
	z := w.scratch
	if cap(w.scratch) > retainBuf {
		w.scratch = nil
	}
	// Without context takeover each message stands alone, so an incompressible one
	// may go out as it is; with it, the peer's window must see what ours saw.
	if w.c.noContext && len(z) >= len(payload) {
		return AppendFrame(dst, op, payload, true, false)
	}
	return AppendFrame(dst, op, z, true, true)
}
