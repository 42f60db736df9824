package websocket

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

const fuzzMax = 1 << 16

func fuzzSeeds() [][]byte {
	return [][]byte{
		{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58},
		cat(AppendMaskedFrame(nil, OpText, []byte("Hel"), false, false, testKey),
			AppendMaskedFrame(nil, OpPing, []byte("p"), true, false, testKey),
			AppendMaskedFrame(nil, OpContinuation, []byte("lo"), true, false, testKey)),
		maskFrame([]byte{0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}),
		cat(maskFrame([]byte{0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}), maskFrame([]byte{0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00})),
		AppendMaskedFrame(nil, OpBinary, make([]byte, 300), true, false, testKey),
		AppendMaskedFrame(nil, OpClose, []byte("\x03\xe8bye"), true, false, testKey),
		{0x82, 0xff, 0, 0, 0, 0, 0, 1, 0, 0, 1, 2, 3, 4},
	}
}

// FuzzReadMessage: on any input, ReadMessage never panics, returns data messages
// within the size limit and control payloads within 125 bytes, and fails only with
// an *Error or an EOF.
func FuzzReadMessage(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, noCtx bool) {
		p := &DeflateParams{ClientNoContextTakeover: noCtx}
		r := NewReader(bufio.NewReaderSize(bytes.NewReader(data), 16), ReaderOptions{Deflate: p, MaxMessageSize: fuzzMax})
		for {
			kind, payload, err := r.ReadMessage()
			if err != nil {
				var e *Error
				if !errors.As(err, &e) && err != io.EOF && err != io.ErrUnexpectedEOF {
					t.Fatalf("error %v (%T); want *Error or EOF", err, err)
				}
				return
			}
			switch kind {
			case Text, Binary:
				if len(payload) > fuzzMax {
					t.Fatalf("%v message of %d bytes over the limit %d", kind, len(payload), fuzzMax)
				}
			case Ping, Pong, Close:
				if len(payload) > MaxControlPayload {
					t.Fatalf("%v payload of %d bytes", kind, len(payload))
				}
			default:
				t.Fatalf("kind %v", kind)
			}
			if cap(r.msg) > 2*fuzzMax+1<<12 || cap(r.out) > 2*fuzzMax {
				t.Fatalf("buffers grew to %d and %d bytes", cap(r.msg), cap(r.out))
			}
		}
	})
}

// FuzzInflate: inflating any input never panics and stays within the limit, and
// compressing any input then inflating it gives it back, with and without context
// takeover.
func FuzzInflate(f *testing.F) {
	f.Add([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, false)
	f.Add([]byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}, true)
	f.Add([]byte{0xf2, 0x00, 0x11, 0x00, 0x00}, false)
	f.Add(bytes.Repeat([]byte("abc"), 100), true)
	f.Fuzz(func(t *testing.T, data []byte, noCtx bool) {
		d := &inflater{noContext: noCtx}
		for range 2 {
			out, err := d.inflate(nil, data, fuzzMax)
			if err == nil && len(out) > fuzzMax {
				t.Fatalf("inflated %d bytes over the limit %d", len(out), fuzzMax)
			}
			if err != nil && !errors.Is(err, ErrInflate) && !errors.Is(err, ErrTooBig) {
				t.Fatalf("error %v; want ErrInflate or ErrTooBig", err)
			}
		}
		c := &compressor{level: 1, noContext: noCtx}
		d = &inflater{noContext: noCtx}
		for i := range 3 {
			z := c.compress(nil, data)
			out, err := d.inflate(nil, z, len(data))
			if err != nil || !bytes.Equal(out, data) {
				t.Fatalf("round %d: got %d bytes, %v; want the %d input bytes", i, len(out), err, len(data))
			}
		}
	})
}
