package wire

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestAppendFrameRoundTrip(t *testing.T) {
	tests := []struct {
		typ, flags byte
		stream     uint32
		payload    []byte
	}{
		{Hello, 0, 0, []byte(`GNCN` + "\x01{}")},
		{Request, FlagEnd, 1, []byte("head")},
		{ReqBody, FlagEnd, 0xFFFFFFFF, nil},
		{Cancel, 0, 7, []byte{}},
		{Stop, 0, 0, []byte("{}")},
	}
	for _, tt := range tests {
		buf := AppendFrame([]byte("x"), tt.typ, tt.flags, tt.stream, tt.payload)[1:]
		f, n, err := Next(buf)
		if err != nil {
			t.Fatalf("%s: Next: %v", TypeName(tt.typ), err)
		}
		if n != len(buf) || f.Type != tt.typ || f.Flags != tt.flags || f.Stream != tt.stream || !bytes.Equal(f.Payload, tt.payload) {
			t.Errorf("Next = %+v, %d; want type %#x flags %d stream %d payload %q, %d", f, n, tt.typ, tt.flags, tt.stream, tt.payload, len(buf))
		}
		if f.End() != (tt.flags&FlagEnd != 0) {
			t.Errorf("End() = %v; want %v", f.End(), tt.flags&FlagEnd != 0)
		}
		// Every strict prefix of a valid frame needs more bytes.
		for i := 0; i < len(buf); i++ {
			if _, n, err := Next(buf[:i]); err != ErrShort || n != 0 {
				t.Errorf("Next(prefix %d of %s) = %d, %v; want 0, ErrShort", i, TypeName(tt.typ), n, err)
			}
		}
	}
}

func TestPutHeaderPatch(t *testing.T) {
	buf := AppendHeader(nil, Response, 0, 9, 0)
	buf = append(buf, "payload"...)
	PutHeader(buf, Response, FlagEnd, 9, uint32(len(buf)-HeaderSize))
	f, n, err := Next(buf)
	if err != nil || n != len(buf) || string(f.Payload) != "payload" || !f.End() {
		t.Errorf("Next = %+v, %d, %v; want payload %q with END", f, n, err, "payload")
	}
}

func TestNextSeveralFramesInOneBuffer(t *testing.T) {
	var buf []byte
	buf = AppendFrame(buf, Response, 0, 1, []byte("a"))
	buf = AppendFrame(buf, RespBody, FlagEnd, 1, []byte("bc"))
	buf = append(buf, 1, 0) // the start of a third frame
	var got []string
	for {
		f, n, err := Next(buf)
		if err == ErrShort {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, TypeName(f.Type)+":"+string(f.Payload))
		buf = buf[n:]
	}
	if want := "RESPONSE:a RESP_BODY:bc"; strings.Join(got, " ") != want || len(buf) != 2 {
		t.Errorf("got %q, %d bytes left; want %q, 2 left", got, len(buf), want)
	}
}

func TestNextProtocolErrors(t *testing.T) {
	okHdr := AppendHeader(nil, Request, 0, 1, 0)
	tests := []struct {
		name, in, reason, quote string
	}{
		{"stray print", "Hello world\nmore text", "unknown message type 0x6f", `"Hello world\nmore text"`},
		{"recognised early", "Hello", "unknown message type 0x6f", `"Hello"`},
		{"flags", string(okHdr[:5]) + "\x02", "unknown flags 0x02", ""},
		{"reserved low", string(okHdr[:6]) + "\x01", "reserved bytes are not zero", ""},
		{"reserved high", string(okHdr[:7]) + "\x01" + string(okHdr[8:]), "reserved bytes are not zero", ""},
		{"too long", "\x01\x00\x00\x01" + string(okHdr[4:]), "payload length 16777217 exceeds", ""},
		{"long prefix quoted short", strings.Repeat("x", 100), "unknown message type 0x78", `"` + strings.Repeat("x", 32) + `"`},
	}
	for _, tt := range tests {
		_, n, err := Next([]byte(tt.in))
		var pe *ProtocolError
		if !errors.As(err, &pe) || n != 0 {
			t.Errorf("%s: Next = %d, %v; want 0, *ProtocolError", tt.name, n, err)
			continue
		}
		if !strings.Contains(err.Error(), tt.reason) || !strings.Contains(err.Error(), "unexpected output on channel: "+tt.quote) {
			t.Errorf("%s: error %q; want it to contain %q and quote %s", tt.name, err, tt.reason, tt.quote)
		}
	}
}

func TestMaxPayloadAccepted(t *testing.T) {
	h := AppendHeader(nil, RespBody, 0, 1, MaxPayload)
	if got, err := ParseHeader(h); err != nil || got.Length != MaxPayload {
		t.Errorf("ParseHeader = %+v, %v; want length %d", got, err, MaxPayload)
	}
}

func TestTypeNames(t *testing.T) {
	for _, typ := range []byte{Hello, Request, ReqBody, More, Cancel, Response, RespBody, Sendfile, Recycle,
		LoadConfig, Config, Start, Started, Spawn, Spawned, Exited, Hook, Stop} {
		if !KnownType(typ) || TypeName(typ) == "" {
			t.Errorf("type %#x unknown", typ)
		}
	}
	if KnownType(0) || KnownType(0x49) {
		t.Error("KnownType accepts 0 or 0x49")
	}
}

func TestPayloadHelpers(t *testing.T) {
	p := AppendHeadLen(nil, 0)
	p = append(p, "HEAD"...)
	PutHeadLen(p, 4)
	p = append(p, "body"...)
	if h, b, err := SplitHead(p); err != nil || string(h) != "HEAD" || string(b) != "body" {
		t.Errorf("SplitHead = %q, %q, %v; want HEAD, body", h, b, err)
	}
	for _, bad := range [][]byte{nil, {5, 0, 0, 0, 'x'}} {
		if _, _, err := SplitHead(bad); err == nil {
			t.Errorf("SplitHead(%q) succeeded; want error", bad)
		}
	}
	if n, err := ParseMore(AppendMore(nil, 65536)); n != 65536 || err != nil {
		t.Errorf("ParseMore = %d, %v; want 65536", n, err)
	}
	if _, err := ParseMore([]byte{1}); err == nil {
		t.Error("ParseMore(1 byte) succeeded")
	}
	if n, err := ParseWindow(AppendWindow(nil, 1<<20)); n != 1<<20 || err != nil {
		t.Errorf("ParseWindow = %d, %v; want %d", n, err, 1<<20)
	}
	for _, bad := range [][]byte{nil, {1, 2, 3}, {1, 2, 3, 4, 5}} {
		if _, err := ParseWindow(bad); err == nil {
			t.Errorf("ParseWindow(%x) succeeded; want error", bad)
		}
	}
	if o, c, err := ParseSendfile(AppendSendfile(nil, 10, SendfileToEnd)); o != 10 || c != SendfileToEnd || err != nil {
		t.Errorf("ParseSendfile = %d, %d, %v; want 10, max", o, c, err)
	}
	if _, _, err := ParseSendfile(nil); err == nil {
		t.Error("ParseSendfile(nil) succeeded")
	}
	if j, err := ParseHello(AppendHello(nil, []byte(`{"pid":1}`))); err != nil || string(j) != `{"pid":1}` {
		t.Errorf("ParseHello = %q, %v", j, err)
	}
	for _, bad := range []string{"", "Hello world", "GNCN\x02{}"} {
		if _, err := ParseHello([]byte(bad)); err == nil {
			t.Errorf("ParseHello(%q) succeeded; want error", bad)
		}
	}
}
