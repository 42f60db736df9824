package websocket

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// TestRFC7692Examples reads the frames of RFC 7692 section 7.2.3 (server frames,
// unmasked) and, masked, as a server would receive them.
func TestRFC7692Examples(t *testing.T) {
	tests := []struct {
		name    string
		frames  [][]byte
		noCtx   bool
		want    []string
		wantErr error
	}{
		{"7.2.3.1 one frame", [][]byte{{0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}}, false, []string{"Hello"}, nil},
		{"7.2.3.1 fragmented", [][]byte{{0x41, 0x03, 0xf2, 0x48, 0xcd}, {0x80, 0x04, 0xc9, 0xc9, 0x07, 0x00}}, false, []string{"Hello"}, nil},
		{"7.2.3.2 shared window", [][]byte{
			{0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00},
			{0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00},
		}, false, []string{"Hello", "Hello"}, nil},
		{"7.2.3.2 shared window without context takeover fails", [][]byte{
			{0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00},
			{0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00},
		}, true, []string{"Hello"}, ErrInflate},
		{"7.2.3.2 same message twice, no takeover", [][]byte{
			{0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00},
			{0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00},
		}, true, []string{"Hello", "Hello"}, nil},
		{"7.2.3.3 stored block", [][]byte{{0xc1, 0x0b, 0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}}, false, []string{"Hello"}, nil},
		{"7.2.3.4 BFINAL set", [][]byte{{0xc1, 0x08, 0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00}}, false, []string{"Hello"}, nil},
		{"7.2.3.5 two blocks", [][]byte{{0xc1, 0x0d, 0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9, 0xc9, 0x07, 0x00}}, false, []string{"Hello"}, nil},
		{"7.2.3.6 empty message", [][]byte{{0xc1, 0x01, 0x00}}, false, []string{""}, nil},
		{"uncompressed between compressed keeps window", [][]byte{
			{0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00},
			{0x81, 0x03, 'a', 'b', 'c'},
			{0xc1, 0x05, 0xf2, 0x00, 0x11, 0x00, 0x00},
		}, false, []string{"Hello", "abc", "Hello"}, nil},
	}
	for _, tt := range tests {
		for _, masked := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/masked=%v", tt.name, masked), func(t *testing.T) {
				var data []byte
				for _, f := range tt.frames {
					if masked {
						f = maskFrame(f)
					}
					data = append(data, f...)
				}
				p := &DeflateParams{ClientNoContextTakeover: tt.noCtx, ServerNoContextTakeover: tt.noCtx}
				evs, err := readAll(data, ReaderOptions{Deflate: p, Client: !masked})
				var got []string
				for _, e := range evs {
					got = append(got, e.payload)
				}
				want := tt.wantErr
				if want == nil {
					want = io.EOF
				}
				if !errors.Is(err, want) || strings.Join(got, "|") != strings.Join(tt.want, "|") {
					t.Errorf("got %q, %v; want %q, %v", got, err, tt.want, want)
				}
			})
		}
	}
}

// maskFrame turns a short unmasked frame (7-bit length) into a masked one.
func maskFrame(f []byte) []byte {
	out := []byte{f[0], f[1] | maskBit}
	out = append(out, testKey[:]...)
	p := append([]byte(nil), f[2:]...)
	maskBytes(testKey, 0, p)
	return append(out, p...)
}

func TestWriterRFC7692(t *testing.T) {
	// With context takeover the second "Hello" refers back to the first, as in
	// RFC 7692 section 7.2.3.2. The exact bytes depend on the compressor, so check
	// that the second message is shorter and reads back. (BestSpeed stores inputs
	// of 16 bytes or less, so use level 6.)
	w, err := NewWriter(&DeflateParams{}, WriterOptions{Level: 6, MinCompressSize: -1})
	if err != nil {
		t.Fatal(err)
	}
	first := w.AppendMessage(nil, Text, []byte("Hello"))
	second := w.AppendMessage(nil, Text, []byte("Hello"))
	if first[0] != 0xc1 || len(second) >= len(first) {
		t.Errorf("frames % x then % x; want RSV1 set and a shorter second frame", first, second)
	}
	evs, err := readAll(append(first, second...), ReaderOptions{Deflate: &DeflateParams{}, Client: true})
	if err != io.EOF || len(evs) != 2 || evs[0].payload != "Hello" || evs[1].payload != "Hello" {
		t.Errorf("read back %v, %v; want two Hello", evs, err)
	}
}

func TestDeflateRoundTrip(t *testing.T) {
	msgs := [][]byte{
		[]byte(strings.Repeat("hello websocket ", 100)),
		[]byte("short"),
		nil,
		bytes.Repeat([]byte{0}, 100000),
		pseudoRandom(70000), // incompressible, over the 32 KiB window
		[]byte(strings.Repeat("hello websocket ", 100)),
		[]byte(strings.Repeat("é∂ƒ", 3000)),
	}
	for _, noCtx := range []bool{false, true} {
		for _, level := range []int{0, 1, 6, 9, -2} {
			t.Run(fmt.Sprintf("noContext=%v/level=%d", noCtx, level), func(t *testing.T) {
				p := &DeflateParams{ServerNoContextTakeover: noCtx, ClientNoContextTakeover: noCtx}
				// The server writes; a client reads with the same agreement.
				sw, err := NewWriter(p, WriterOptions{Level: level, MinCompressSize: -1})
				if err != nil {
					t.Fatal(err)
				}
				// The client writes (masked); the server reads.
				cw, err := NewWriter(p, WriterOptions{Level: level, MinCompressSize: -1, Client: true})
				if err != nil {
					t.Fatal(err)
				}
				var toClient, toServer []byte
				for _, m := range msgs {
					toClient = sw.AppendMessage(toClient, Binary, m)
					toServer = cw.appendMasked(toServer, Binary, m)
				}
				for dir, data := range map[string][]byte{"to client": toClient, "to server": toServer} {
					evs, err := readAll(data, ReaderOptions{Deflate: p, Client: dir == "to client"})
					if err != io.EOF || len(evs) != len(msgs) {
						t.Fatalf("%s: %d messages, %v; want %d, io.EOF", dir, len(evs), err, len(msgs))
					}
					for i, e := range evs {
						if e.kind != Binary || e.payload != string(msgs[i]) {
							t.Errorf("%s: message %d differs (got %d bytes; want %d)", dir, i, len(e.payload), len(msgs[i]))
						}
					}
				}
				if noCtx && len(toClient) > len(toServer)+10*len(msgs) {
					t.Errorf("server frames %d bytes; client's %d", len(toClient), len(toServer))
				}
			})
		}
	}
}

// appendMasked is AppendMessage for a client: the same deflate, masked frames.
func (w *Writer) appendMasked(dst []byte, kind Kind, payload []byte) []byte {
	f := w.AppendMessage(nil, kind, payload)
	hl := 2 // the header just written, to recover the (possibly deflated) payload
	switch f[1] & 0x7f {
	case 126:
		hl = 4
	case 127:
		hl = 10
	}
	return AppendMaskedFrame(dst, Opcode(kind), f[hl:], true, f[0]&rsv1Bit != 0, testKey)
}

func pseudoRandom(n int) []byte {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func TestWriterThresholdAndFallback(t *testing.T) {
	p := &DeflateParams{ServerNoContextTakeover: true}
	w, _ := NewWriter(p, WriterOptions{})
	if f := w.AppendMessage(nil, Text, []byte("tiny")); f[0] != 0x81 {
		t.Errorf("small message header %x; want 81 (not compressed)", f[0])
	}
	if f := w.AppendMessage(nil, Binary, pseudoRandom(1000)); f[0] != 0x82 {
		t.Errorf("incompressible message header %x; want 82 (sent as is)", f[0])
	}
	if f := w.AppendMessage(nil, Text, bytes.Repeat([]byte("a"), 1000)); f[0] != 0xc1 || len(f) > 50 {
		t.Errorf("compressible message: header %x, %d bytes; want c1, under 50", f[0], len(f))
	}
	if f := w.AppendMessage(nil, Ping, bytes.Repeat([]byte("a"), 200)); f[0] != 0x89 {
		t.Errorf("ping header %x; want 89", f[0])
	}
	if _, err := NewWriter(p, WriterOptions{Level: 10}); err == nil {
		t.Errorf("level 10: got nil error; want one")
	}
}

func TestInflateBomb(t *testing.T) {
	// 10 MiB of zeros deflate to about 10 KiB; a 1 MiB limit must stop it early.
	c := &compressor{level: 9, noContext: true}
	z := c.compress(nil, make([]byte, 10<<20))
	data := AppendMaskedFrame(nil, OpBinary, z, true, true, testKey)
	r := NewReader(bufio.NewReader(bytes.NewReader(data)), ReaderOptions{Deflate: &DeflateParams{}, MaxMessageSize: 1 << 20})
	_, _, err := r.ReadMessage()
	if !errors.Is(err, ErrTooBig) || CloseCodeOf(err) != CloseTooBig {
		t.Fatalf("err = %v; want ErrTooBig (1009)", err)
	}
	if cap(r.out) > 1<<20+1 {
		t.Errorf("inflate buffer grew to %d bytes; want at most the limit + 1", cap(r.out))
	}
}

func TestCompressedLimitAllowsExactMax(t *testing.T) {
	// An incompressible message of exactly the limit deflates to slightly more.
	msg := pseudoRandom(200000)
	c := &compressor{level: 1, noContext: true}
	z := c.compress(nil, msg)
	if len(z) <= len(msg) {
		t.Skipf("compressed %d into %d; need growth for this test", len(msg), len(z))
	}
	data := AppendMaskedFrame(nil, OpBinary, z, true, true, testKey)
	r := NewReader(bufio.NewReader(bytes.NewReader(data)), ReaderOptions{Deflate: &DeflateParams{}, MaxMessageSize: len(msg)})
	if _, p, err := r.ReadMessage(); err != nil || !bytes.Equal(p, msg) {
		t.Errorf("err = %v, equal = %v; want nil, true", err, bytes.Equal(p, msg))
	}
}
