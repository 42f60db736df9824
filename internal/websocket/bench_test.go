package websocket

import (
	"bufio"
	"bytes"
	"testing"
)

// loopReader replays one buffer forever.
type loopReader struct {
	b   []byte
	off int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], l.b[l.off:])
		n += c
		l.off = (l.off + c) % len(l.b)
	}
	return n, nil
}

var msg64 = bytes.Repeat([]byte("abcdefgh"), 8)

func BenchmarkReadMessage64(b *testing.B) {
	frame := AppendMaskedFrame(nil, OpText, msg64, true, false, testKey)
	r := NewReader(bufio.NewReader(&loopReader{b: bytes.Repeat(frame, 64)}), ReaderOptions{})
	b.SetBytes(int64(len(msg64)))
	b.ReportAllocs()
	for b.Loop() {
		if k, p, err := r.ReadMessage(); err != nil || k != Text || len(p) != 64 {
			b.Fatalf("got %v, %d bytes, %v", k, len(p), err)
		}
	}
}

func BenchmarkAppendMessage64(b *testing.B) {
	w, _ := NewWriter(nil, WriterOptions{})
	buf := make([]byte, 0, 128)
	b.SetBytes(int64(len(msg64)))
	b.ReportAllocs()
	for b.Loop() {
		buf = w.AppendMessage(buf[:0], Text, msg64)
	}
}

func benchDeflate(b *testing.B, noCtx bool) {
	msg := bytes.Repeat([]byte(`{"user": "alice", "text": "hello websocket", "n": 12345}`), 64)
	p := &DeflateParams{ServerNoContextTakeover: noCtx, ClientNoContextTakeover: noCtx}
	w, _ := NewWriter(p, WriterOptions{})
	d := &inflater{noContext: noCtx}
	var buf, out []byte
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		buf = w.c.compress(buf[:0], msg)
		var err error
		if out, err = d.inflate(out[:0], buf, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(buf)), "zbytes")
}

// BenchmarkDeflateRoundTrip3K compresses and inflates a 3.5 KiB JSON-ish message.
func BenchmarkDeflateRoundTrip3K(b *testing.B) {
	b.Run("context", func(b *testing.B) { benchDeflate(b, false) })
	b.Run("noContext", func(b *testing.B) { benchDeflate(b, true) })
}
