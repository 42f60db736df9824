package websocket

import (
	"compress/flate"
	"io"
	"slices"
	"strconv"
	"sync"

	"github.com/gonicorn/gonicorn/internal/ascii"
)

// DeflateParams is a permessage-deflate agreement (RFC 7692 section 7): what the
// server puts in its 101 response, and how both directions compress.
type DeflateParams struct {
	// ServerNoContextTakeover resets the server's compressor after each message.
	// Set when the client asks; the server may also set it itself, trading ratio for
	// about 1 MB less memory per connection (see the package doc).
	ServerNoContextTakeover bool
	// ClientNoContextTakeover asks the client to reset its compressor after each
	// message, so the server need not keep the last 32 KiB of each connection. The
	// server may set it whether or not the client offered it.
	ClientNoContextTakeover bool
	// ServerMaxWindowBits is 15 when the client offered server_max_window_bits=15
	// (echoed in the response, as RFC 7692 section 7.1.2.1 requires), else 0.
	ServerMaxWindowBits int
}

func (p *DeflateParams) appendResponse(dst []byte) []byte {
	dst = append(dst, "permessage-deflate"...)
	if p.ServerNoContextTakeover {
		dst = append(dst, "; server_no_context_takeover"...)
	}
	if p.ClientNoContextTakeover {
		dst = append(dst, "; client_no_context_takeover"...)
	}
	if p.ServerMaxWindowBits != 0 {
		dst = append(dst, "; server_max_window_bits=15"...)
	}
	return dst
}

// negotiateDeflate returns the agreement for the first acceptable permessage-deflate
// offer in a Sec-WebSocket-Extensions value, or nil.
func negotiateDeflate(v []byte) *DeflateParams {
	var chosen *DeflateParams
	forEachListItem(v, func(offer []byte) {
		if chosen == nil {
			chosen = parseDeflateOffer(offer)
		}
	})
	return chosen
}

// parseDeflateOffer returns the agreement for one offer ("name; param; param=value"),
// or nil when it is another extension, is malformed, or asks what compress/flate
// cannot do (a server window under 15 bits).
func parseDeflateOffer(offer []byte) *DeflateParams {
	name, rest := cutByte(offer, ';')
	if !ascii.EqualFold(ascii.TrimOWS(name), "permessage-deflate") {
		return nil
	}
	p := &DeflateParams{}
	var seen [4]bool
	for rest != nil {
		var param []byte
		param, rest = cutByte(rest, ';')
		k, val := cutByte(param, '=')
		k = ascii.TrimOWS(k)
		hasVal := val != nil
		val = ascii.TrimOWS(val)
		if len(val) >= 2 && val[0] == '"' && val[len(val)-1] == '"' {
			val = val[1 : len(val)-1]
		}
		if len(k) == 0 && !hasVal {
			continue // "permessage-deflate;" and ";;" carry no parameter
		}
		idx := -1
		switch {
		case ascii.EqualFold(k, "server_no_context_takeover"):
			idx = 0
			if hasVal {
				return nil
			}
			p.ServerNoContextTakeover = true
		case ascii.EqualFold(k, "client_no_context_takeover"):
			idx = 1
			if hasVal {
				return nil
			}
			p.ClientNoContextTakeover = true
		case ascii.EqualFold(k, "server_max_window_bits"):
			idx = 2
			bits, ok := windowBits(val)
			if !hasVal || !ok || bits != 15 {
				// Go's flate writer always uses a 15-bit window.
				return nil
			}
			p.ServerMaxWindowBits = 15
		case ascii.EqualFold(k, "client_max_window_bits"):
			idx = 3
			// Any client window is fine: a 15-bit inflater reads smaller ones.
			if _, ok := windowBits(val); hasVal && !ok {
				return nil
			}
		default:
			return nil
		}
		if seen[idx] {
			return nil
		}
		seen[idx] = true
	}
	return p
}

// windowBits parses a window-bits value: 8–15 without leading zeros.
func windowBits(v []byte) (int, bool) {
	switch {
	case len(v) == 1 && v[0] >= '8' && v[0] <= '9':
		return int(v[0] - '0'), true
	case len(v) == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5':
		return 10 + int(v[1]-'0'), true
	}
	return 0, false
}

// cutByte splits b at the first sep; after is nil when sep is absent.
func cutByte(b []byte, sep byte) (before, after []byte) {
	for i, c := range b {
		if c == sep {
			return b[:i], b[i+1 : len(b) : len(b)]
		}
	}
	return b, nil
}

// deflateTail is the empty stored block that ends every sync flush; RFC 7692 strips
// it from each message and the receiver appends it back.
var deflateTail = []byte{0x00, 0x00, 0xff, 0xff}

// inflateTail is deflateTail plus a final empty stored block, so the inflater
// ends with io.EOF instead of waiting for more input.
var inflateTail = []byte{0x00, 0x00, 0xff, 0xff, 0x01, 0x00, 0x00, 0xff, 0xff}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// flateWriter is a flate.Writer with the buffer it writes into.
type flateWriter struct {
	fw *flate.Writer
	sw sliceWriter
}

// writerPools hold flate writers per level (index level+2, for HuffmanOnly … 9), for
// connections without server context takeover.
var writerPools [12]sync.Pool

func newFlateWriter(level int) *flateWriter {
	w := &flateWriter{}
	fw, err := flate.NewWriter(&w.sw, level)
	if err != nil {
		panic("websocket: " + err.Error()) // levels are checked by NewWriter
	}
	w.fw = fw
	return w
}

// compressor is the sending half of permessage-deflate for one connection.
type compressor struct {
	level     int
	noContext bool
	own       *flateWriter // kept across messages with context takeover
}

// compress appends payload deflated, without the trailing 00 00 ff ff.
func (c *compressor) compress(dst, payload []byte) []byte {
	w := c.own
	if c.noContext {
		if v := writerPools[c.level+2].Get(); v != nil {
			w = v.(*flateWriter)
			w.fw.Reset(&w.sw)
		} else {
			w = newFlateWriter(c.level)
		}
	} else if w == nil {
		w = newFlateWriter(c.level)
		c.own = w
	}
	w.sw.b = dst
	w.fw.Write(payload) // writes to a sliceWriter cannot fail
	w.fw.Flush()
	out := w.sw.b
	w.sw.b = nil
	if c.noContext {
		writerPools[c.level+2].Put(w)
	}
	if n := len(out); n >= len(dst)+4 && string(out[n-4:]) == string(deflateTail) {
		out = out[:n-4]
	}
	return out
}

// inflateSource feeds a message then inflateTail to the inflater. It is an
// io.ByteReader so that flate reads it without a bufio.Reader of its own.
type inflateSource struct {
	msg  []byte
	tail []byte
}

func (s *inflateSource) Read(p []byte) (int, error) {
	if len(s.msg) == 0 {
		s.msg, s.tail = s.tail, nil
		if len(s.msg) == 0 {
			return 0, io.EOF
		}
	}
	n := copy(p, s.msg)
	s.msg = s.msg[n:]
	return n, nil
}

func (s *inflateSource) ReadByte() (byte, error) {
	if len(s.msg) == 0 {
		s.msg, s.tail = s.tail, nil
		if len(s.msg) == 0 {
			return 0, io.EOF
		}
	}
	c := s.msg[0]
	s.msg = s.msg[1:]
	return c, nil
}

var readerPool sync.Pool // of io.ReadCloser from flate.NewReader

const windowSize = 1 << 15

// inflater is the receiving half of permessage-deflate for one connection. The flate
// reader is borrowed from a pool per message; with context takeover the last 32 KiB
// of output are kept as the next message's dictionary.
type inflater struct {
	noContext bool
	dict      []byte
	src       inflateSource
}

// inflate appends the inflated message to dst. It fails with ErrTooBig as soon as
// the output passes limit bytes, so a small bomb cannot allocate more than limit.
func (d *inflater) inflate(dst, msg []byte, limit int) ([]byte, error) {
	d.src = inflateSource{msg: msg, tail: inflateTail}
	var fr io.ReadCloser
	if v := readerPool.Get(); v != nil {
		fr = v.(io.ReadCloser)
		fr.(flate.Resetter).Reset(&d.src, d.dict)
	} else {
		fr = flate.NewReaderDict(&d.src, d.dict)
	}
	defer readerPool.Put(fr)
	start := len(dst)
	for {
		if len(dst) == cap(dst) {
			grow := max(len(dst)-start, 512)
			grow = min(grow, limit+1-(len(dst)-start))
			dst = slices.Grow(dst, grow)
		}
		end := min(cap(dst), start+limit+1)
		n, err := fr.Read(dst[len(dst):end])
		dst = dst[:len(dst)+n]
		if len(dst)-start > limit {
			return dst[:start], ErrTooBig.with("inflated message over " + strconv.Itoa(limit) + " bytes (the maximum message size)")
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return dst[:start], ErrInflate.with(err.Error())
		}
	}
	if !d.noContext {
		d.remember(dst[start:])
	}
	return dst, nil
}

// remember keeps the last 32 KiB of inflated output (RFC 7692 section 7.2.2).
func (d *inflater) remember(out []byte) {
	if d.dict == nil {
		d.dict = make([]byte, 0, windowSize)
	}
	if len(out) >= windowSize {
		d.dict = append(d.dict[:0], out[len(out)-windowSize:]...)
		return
	}
	if drop := len(d.dict) + len(out) - windowSize; drop > 0 {
		d.dict = d.dict[:copy(d.dict, d.dict[drop:])]
	}
	d.dict = append(d.dict, out...)
}
