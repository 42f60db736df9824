package websocket

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

var testKey = [4]byte{0x37, 0xfa, 0x21, 0x3d}

type event struct {
	kind    Kind
	payload string
}

// readAll reads messages until an error and returns them with the error.
func readAll(data []byte, opts ReaderOptions) ([]event, error) {
	r := NewReader(bufio.NewReader(bytes.NewReader(data)), opts)
	var evs []event
	for {
		k, p, err := r.ReadMessage()
		if err != nil {
			return evs, err
		}
		evs = append(evs, event{k, string(p)})
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestRFC6455Examples(t *testing.T) {
	big256 := bytes.Repeat([]byte{0xab}, 256)
	big64k := bytes.Repeat([]byte{0xcd}, 65536)
	tests := []struct {
		name   string
		data   []byte
		client bool
		want   []event
	}{
		{"unmasked text", []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}, true, []event{{Text, "Hello"}}},
		{"masked text", []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}, false, []event{{Text, "Hello"}}},
		{"fragmented unmasked text", []byte{0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}, true, []event{{Text, "Hello"}}},
		{"unmasked ping", []byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}, true, []event{{Ping, "Hello"}}},
		{"masked pong", []byte{0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}, false, []event{{Pong, "Hello"}}},
		{"256 bytes binary", cat([]byte{0x82, 0x7e, 0x01, 0x00}, big256), true, []event{{Binary, string(big256)}}},
		{"64 KiB binary", cat([]byte{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}, big64k), true, []event{{Binary, string(big64k)}}},
		{"ping between fragments", cat(
			AppendMaskedFrame(nil, OpText, []byte("Hel"), false, false, testKey),
			AppendMaskedFrame(nil, OpPing, []byte("p"), true, false, testKey),
			AppendMaskedFrame(nil, OpContinuation, []byte("l"), false, false, testKey),
			AppendMaskedFrame(nil, OpContinuation, []byte("o"), true, false, testKey),
			AppendMaskedFrame(nil, OpClose, []byte{0x03, 0xe8, 'b', 'y', 'e'}, true, false, testKey),
		), false, []event{{Ping, "p"}, {Text, "Hello"}, {Close, "\x03\xe8bye"}}},
		{"empty messages", cat(
			AppendMaskedFrame(nil, OpText, nil, true, false, testKey),
			AppendMaskedFrame(nil, OpBinary, nil, false, false, testKey),
			AppendMaskedFrame(nil, OpContinuation, nil, true, false, testKey),
			AppendMaskedFrame(nil, OpClose, nil, true, false, testKey),
		), false, []event{{Text, ""}, {Binary, ""}, {Close, ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAll(tt.data, ReaderOptions{Client: tt.client})
			if err != io.EOF {
				t.Fatalf("err = %v; want io.EOF", err)
			}
			if !equalEvents(got, tt.want) {
				t.Errorf("got %v; want %v", got, tt.want)
			}
		})
	}
}

func equalEvents(a, b []event) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestAppendFrameRFCExamples(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want []byte
	}{
		{"text", AppendFrame(nil, OpText, []byte("Hello"), true, false), []byte{0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}},
		{"first fragment", AppendFrame(nil, OpText, []byte("Hel"), false, false), []byte{0x01, 0x03, 0x48, 0x65, 0x6c}},
		{"last fragment", AppendFrame(nil, OpContinuation, []byte("lo"), true, false), []byte{0x80, 0x02, 0x6c, 0x6f}},
		{"ping", AppendFrame(nil, OpPing, []byte("Hello"), true, false), []byte{0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}},
		{"masked text", AppendMaskedFrame(nil, OpText, []byte("Hello"), true, false, testKey), []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}},
		{"compressed", AppendFrame(nil, OpText, []byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, true, true), []byte{0xc1, 0x07, 0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}},
		{"256 length", AppendFrame(nil, OpBinary, make([]byte, 256), true, false)[:4], []byte{0x82, 0x7e, 0x01, 0x00}},
		{"65535 length", AppendFrame(nil, OpBinary, make([]byte, 65535), true, false)[:4], []byte{0x82, 0x7e, 0xff, 0xff}},
		{"65536 length", AppendFrame(nil, OpBinary, make([]byte, 65536), true, false)[:10], []byte{0x82, 0x7f, 0, 0, 0, 0, 0, 1, 0, 0}},
		{"close", AppendClose(nil, 1000, "bye"), []byte{0x88, 0x05, 0x03, 0xe8, 'b', 'y', 'e'}},
		{"close no status", AppendClose(nil, CloseNoStatus, "ignored"), []byte{0x88, 0x00}},
		{"close 1006 goes out as 1001", AppendClose(nil, CloseAbnormal, ""), []byte{0x88, 0x02, 0x03, 0xe9}},
		{"close invalid code goes out as 1011", AppendClose(nil, 2000, ""), []byte{0x88, 0x02, 0x03, 0xf3}},
	}
	for _, tt := range tests {
		if !bytes.Equal(tt.got, tt.want) {
			t.Errorf("%s: got % x; want % x", tt.name, tt.got, tt.want)
		}
	}
}

func TestAppendCloseTruncatesReason(t *testing.T) {
	reason := strings.Repeat("é", 100) // 200 bytes
	f := AppendClose(nil, 4000, reason)
	if len(f) != 2+124 {
		t.Fatalf("frame length %d; want %d", len(f), 2+124)
	}
	kind, p, err := NewReader(bufio.NewReader(bytes.NewReader(f)), ReaderOptions{Client: true}).ReadMessage()
	if err != nil || kind != Close {
		t.Fatalf("ReadMessage = %v, %v; want close, nil", kind, err)
	}
	c, err := ParseClose(p)
	if err != nil || c.Code != 4000 || string(c.Reason) != strings.Repeat("é", 61) {
		t.Errorf("got %d %q %v; want 4000, 61×é, nil", c.Code, c.Reason, err)
	}
}

func TestValidation(t *testing.T) {
	m := func(op Opcode, p string, fin, rsv1 bool) []byte {
		return AppendMaskedFrame(nil, op, []byte(p), fin, rsv1, testKey)
	}
	setByte0 := func(b []byte, or byte) []byte { b[0] |= or; return b }
	withLen := func(hdr ...byte) []byte { return append(append([]byte{0x82}, hdr...), testKey[:]...) }
	deflate := &DeflateParams{}
	tests := []struct {
		name    string
		data    []byte
		opts    ReaderOptions
		wantErr error
	}{
		{"unmasked client frame", AppendFrame(nil, OpText, []byte("x"), true, false), ReaderOptions{}, ErrUnmasked},
		{"masked server frame", m(OpText, "x", true, false), ReaderOptions{Client: true}, ErrMasked},
		{"RSV2", setByte0(m(OpText, "x", true, false), rsv2Bit), ReaderOptions{}, ErrReservedBits},
		{"RSV3", setByte0(m(OpText, "x", true, false), rsv3Bit), ReaderOptions{}, ErrReservedBits},
		{"RSV1 without deflate", m(OpText, "x", true, true), ReaderOptions{}, ErrUnexpectedRSV1},
		{"RSV1 on continuation", cat(m(OpText, "x", false, true), m(OpContinuation, "x", true, true)), ReaderOptions{Deflate: deflate}, ErrUnexpectedRSV1},
		{"RSV1 on ping", m(OpPing, "x", true, true), ReaderOptions{Deflate: deflate}, ErrUnexpectedRSV1},
		{"opcode 3", m(3, "x", true, false), ReaderOptions{}, ErrReservedOpcode},
		{"opcode 7", m(7, "x", true, false), ReaderOptions{}, ErrReservedOpcode},
		{"opcode 0xB", m(0xB, "x", true, false), ReaderOptions{}, ErrReservedOpcode},
		{"opcode 0xF", m(0xF, "x", true, false), ReaderOptions{}, ErrReservedOpcode},
		{"ping of 126 bytes", m(OpPing, strings.Repeat("x", 126), true, false), ReaderOptions{}, ErrControlTooLong},
		{"fragmented ping", m(OpPing, "x", false, false), ReaderOptions{}, ErrControlFragment},
		{"fragmented close", m(OpClose, "", false, false), ReaderOptions{}, ErrControlFragment},
		{"16-bit length under 126", withLen(0xfe, 0x00, 0x7d), ReaderOptions{}, ErrLengthEncoding},
		{"64-bit length under 65536", withLen(0xff, 0, 0, 0, 0, 0, 0, 0xff, 0xff), ReaderOptions{}, ErrLengthEncoding},
		{"64-bit length with top bit", withLen(0xff, 0x80, 0, 0, 0, 0, 1, 0, 0), ReaderOptions{}, ErrLengthEncoding},
		{"continuation first", m(OpContinuation, "x", true, false), ReaderOptions{}, ErrContinuation},
		{"text inside fragmented message", cat(m(OpText, "x", false, false), m(OpText, "y", true, false)), ReaderOptions{}, ErrExpectedCont},
		{"close of 1 byte", m(OpClose, "\x03", true, false), ReaderOptions{}, ErrCloseLength},
		{"close 999", m(OpClose, "\x03\xe7", true, false), ReaderOptions{}, ErrCloseCode},
		{"close 1004", m(OpClose, "\x03\xec", true, false), ReaderOptions{}, ErrCloseCode},
		{"close 1005", m(OpClose, "\x03\xed", true, false), ReaderOptions{}, ErrCloseCode},
		{"close 1006", m(OpClose, "\x03\xee", true, false), ReaderOptions{}, ErrCloseCode},
		{"close 1012", m(OpClose, "\x03\xf4", true, false), ReaderOptions{}, ErrCloseCode},
		{"close 1015", m(OpClose, "\x03\xf7", true, false), ReaderOptions{}, ErrCloseCode},
		{"close 2999", m(OpClose, "\x0b\xb7", true, false), ReaderOptions{}, ErrCloseCode},
		{"close 5000", m(OpClose, "\x13\x88", true, false), ReaderOptions{}, ErrCloseCode},
		{"close reason not UTF-8", m(OpClose, "\x03\xe8\xff", true, false), ReaderOptions{}, ErrCloseUTF8},
		{"text not UTF-8", m(OpText, "\xce\xba\xe1\xbd", true, false), ReaderOptions{}, ErrInvalidUTF8},
		{"fragmented text not UTF-8", cat(m(OpText, "\xce", false, false), m(OpContinuation, "\xff", true, false)), ReaderOptions{}, ErrInvalidUTF8},
		{"surrogate in text", m(OpText, "\xed\xa0\x80", true, false), ReaderOptions{}, ErrInvalidUTF8},
		{"too big in one frame", m(OpBinary, "12345678901", true, false), ReaderOptions{MaxMessageSize: 10}, ErrTooBig},
		{"too big over fragments", cat(m(OpBinary, "123456", false, false), m(OpContinuation, "78901", true, false)), ReaderOptions{MaxMessageSize: 10}, ErrTooBig},
		{"declared 2^62 bytes", withLen(0xff, 0x40, 0, 0, 0, 0, 0, 0, 0), ReaderOptions{}, ErrTooBig},
		{"bad deflate data", m(OpBinary, "\xff\xff\xff", true, true), ReaderOptions{Deflate: deflate}, ErrInflate},
		{"deflate without final tail", m(OpBinary, "\x00\x05\x00", true, true), ReaderOptions{Deflate: deflate}, ErrInflate},
		{"inflated text not UTF-8", m(OpText, "\x00\x01\x00\xfe\xff\xff\x00", true, true), ReaderOptions{Deflate: deflate}, ErrInvalidUTF8},
		{"EOF inside fragmented message", m(OpText, "x", false, false), ReaderOptions{}, io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readAll(tt.data, tt.opts)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v; want %v", err, tt.wantErr)
			}
			var we *Error
			if errors.As(tt.wantErr, &we) && CloseCodeOf(err) != we.Code {
				t.Errorf("close code %d; want %d", CloseCodeOf(err), we.Code)
			}
		})
	}
}

func TestCloseCodes(t *testing.T) {
	valid := map[uint16]bool{}
	for c := 1000; c <= 1003; c++ {
		valid[uint16(c)] = true
	}
	for c := 1007; c <= 1011; c++ {
		valid[uint16(c)] = true
	}
	for c := 3000; c <= 4999; c++ {
		valid[uint16(c)] = true
	}
	for c := 0; c < 1<<16; c++ {
		if got := ValidCloseCode(uint16(c)); got != valid[uint16(c)] {
			t.Errorf("ValidCloseCode(%d) = %v; want %v", c, got, valid[uint16(c)])
		}
	}
	tests := []struct {
		payload string
		code    uint16
		reason  string
		err     error
	}{
		{"", CloseNoStatus, "", nil},
		{"\x03\xe8", 1000, "", nil},
		{"\x0f\xa0caf\xc3\xa9", 4000, "café", nil},
		{"\x03", 0, "", ErrCloseLength},
		{"\x03\xed", 0, "", ErrCloseCode},
	}
	for _, tt := range tests {
		c, err := ParseClose([]byte(tt.payload))
		if c.Code != tt.code || string(c.Reason) != tt.reason || !errors.Is(err, tt.err) {
			t.Errorf("ParseClose(%q) = %d, %q, %v; want %d, %q, %v", tt.payload, c.Code, c.Reason, err, tt.code, tt.reason, tt.err)
		}
	}
}

// TestTruncation feeds every proper prefix of a valid stream: each must end in
// io.EOF (at a frame boundary with no fragmented message open) or
// io.ErrUnexpectedEOF, never a protocol error, and deliver only whole messages.
func TestTruncation(t *testing.T) {
	full := cat(
		AppendMaskedFrame(nil, OpText, []byte("Hel"), false, false, testKey),
		AppendMaskedFrame(nil, OpPing, []byte("ping"), true, false, testKey),
		AppendMaskedFrame(nil, OpContinuation, []byte("lo"), true, false, testKey),
		AppendMaskedFrame(nil, OpBinary, bytes.Repeat([]byte{1}, 300), true, false, testKey),
		AppendMaskedFrame(nil, OpBinary, bytes.Repeat([]byte{2}, 70000), true, false, testKey),
		AppendMaskedFrame(nil, OpText, deflateMsg(t, "compressed compressed compressed"), true, true, testKey),
		AppendMaskedFrame(nil, OpClose, []byte("\x03\xe8bye"), true, false, testKey),
	)
	bigStart := bytes.Index(full, bytes.Repeat([]byte{2 ^ testKey[0], 2 ^ testKey[1]}, 8))
	opts := ReaderOptions{Deflate: &DeflateParams{}}
	all, err := readAll(full, opts)
	if err != io.EOF || len(all) != 6 {
		t.Fatalf("full stream: %d events, %v; want 6, io.EOF", len(all), err)
	}
	for n := 0; n < len(full); n++ {
		if n > bigStart+16 && n < bigStart+69980 && n%1009 != 0 {
			continue // inside the 64-bit-length payload every byte is alike
		}
		got, err := readAll(full[:n], opts)
		if err != io.EOF && err != io.ErrUnexpectedEOF {
			t.Fatalf("prefix %d: err = %v; want io.EOF or io.ErrUnexpectedEOF", n, err)
		}
		if !equalEvents(got, all[:len(got)]) {
			t.Fatalf("prefix %d: got %d events that differ from the full stream's", n, len(got))
		}
	}
}

func deflateMsg(t testing.TB, s string) []byte {
	t.Helper()
	c := &compressor{level: 1, noContext: true}
	return c.compress(nil, []byte(s))
}

func TestMaskBytes(t *testing.T) {
	for n := 0; n < 40; n++ {
		for start := 0; start < 4; start++ {
			b := make([]byte, n)
			for i := range b {
				b[i] = byte(i * 7)
			}
			got := append([]byte(nil), b...)
			end := maskBytes(testKey, start, got)
			for i := range b {
				if want := b[i] ^ testKey[(start+i)&3]; got[i] != want {
					t.Fatalf("n=%d start=%d: byte %d = %x; want %x", n, start, i, got[i], want)
				}
			}
			if end != (start+n)&3 {
				t.Fatalf("n=%d start=%d: next offset %d; want %d", n, start, end, (start+n)&3)
			}
		}
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  error
		want string
		code uint16
	}{
		{ErrUnmasked, "websocket: client frame is not masked (RFC 6455 section 5.1) (close 1002)", 1002},
		{ErrCloseCode.with("code 1005"), "websocket: close code not allowed on the wire: code 1005 (close 1002)", 1002},
		{io.ErrUnexpectedEOF, "unexpected EOF", CloseAbnormal},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("got %q; want %q", got, tt.want)
		}
		if got := CloseCodeOf(tt.err); got != tt.code {
			t.Errorf("CloseCodeOf(%v) = %d; want %d", tt.err, got, tt.code)
		}
	}
	if errors.Is(ErrUnmasked, io.EOF) || errors.Is(ErrUnmasked, ErrMasked) {
		t.Errorf("ErrUnmasked matches an unrelated error")
	}
	for k, want := range map[Kind]string{Text: "text", Binary: "binary", Close: "close", Ping: "ping", Pong: "pong", 3: "kind(3)"} {
		if got := k.String(); got != want {
			t.Errorf("Kind(%d).String() = %q; want %q", k, got, want)
		}
	}
}
