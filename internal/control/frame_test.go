package control

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
)

func frame(payload string) []byte {
	b, _ := AppendFrame(nil, []byte(payload))
	return b
}

func TestParseFrame(t *testing.T) {
	big := binary.BigEndian.AppendUint32(nil, MaxMessage+1)
	tests := []struct {
		name    string
		in      []byte
		payload string
		rest    string
		err     error
	}{
		{"one frame", frame(`{"id":1}`), `{"id":1}`, "", nil},
		{"empty payload", frame(""), "", "", nil},
		{"two frames", append(frame("a"), frame("bc")...), "a", string(frame("bc")), nil},
		{"no bytes", nil, "", "", ErrIncomplete},
		{"short prefix", []byte{0, 0, 1}, "", "", ErrIncomplete},
		{"short payload", []byte{0, 0, 0, 5, 'a'}, "", "", ErrIncomplete},
		{"oversize prefix alone", big, "", "", ErrTooLarge},
		{"max prefix", []byte{0xff, 0xff, 0xff, 0xff}, "", "", ErrTooLarge},
		{"exactly max is allowed but incomplete", binary.BigEndian.AppendUint32(nil, MaxMessage), "", "", ErrIncomplete},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, rest, err := ParseFrame(tt.in)
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v; want %v", err, tt.err)
			}
			if err != nil {
				return
			}
			if string(p) != tt.payload || string(rest) != tt.rest {
				t.Errorf("got %q, rest %q; want %q, rest %q", p, rest, tt.payload, tt.rest)
			}
		})
	}
}

// Every strict prefix of a frame is incomplete, never an error or a frame.
func TestParseFrameEveryPrefix(t *testing.T) {
	f := frame(`{"id": 1, "command": "show workers", "args": []}`)
	for i := 0; i < len(f); i++ {
		if _, _, err := ParseFrame(f[:i]); !errors.Is(err, ErrIncomplete) {
			t.Fatalf("prefix %d: err = %v; want ErrIncomplete", i, err)
		}
		if _, err := ReadFrame(bytes.NewReader(f[:i])); i > 0 && !errors.Is(err, ErrIncomplete) {
			t.Fatalf("ReadFrame prefix %d: err = %v; want ErrIncomplete", i, err)
		}
	}
	if _, err := ReadFrame(bytes.NewReader(nil)); err != io.EOF {
		t.Fatalf("ReadFrame(empty) = %v; want io.EOF", err)
	}
}

func TestReadFrame(t *testing.T) {
	large := bytes.Repeat([]byte("x"), 200<<10) // past the small-read path
	tests := []struct {
		name string
		in   []byte
		want []byte
		err  error
	}{
		{"small", frame("hello"), []byte("hello"), nil},
		{"large", append(binary.BigEndian.AppendUint32(nil, uint32(len(large))), large...), large, nil},
		{"large truncated", append(binary.BigEndian.AppendUint32(nil, uint32(len(large))), large[:1000]...), nil, ErrIncomplete},
		{"oversize", binary.BigEndian.AppendUint32(nil, MaxMessage+1), nil, ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadFrame(bytes.NewReader(tt.in))
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v; want %v", err, tt.err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("got %d bytes; want %d", len(got), len(tt.want))
			}
		})
	}
}

func TestAppendFrameTooLarge(t *testing.T) {
	if _, err := AppendFrame(nil, make([]byte, MaxMessage+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v; want ErrTooLarge", err)
	}
}

// FuzzParseFrame: whatever the bytes, ParseFrame either returns a payload
// that re-encodes to the bytes it consumed, or ErrIncomplete/ErrTooLarge;
// ReadFrame agrees with it; and decoding the payload never panics.
func FuzzParseFrame(f *testing.F) {
	f.Add(frame(`{"id": 1, "command": "show workers", "args": []}`))
	f.Add(frame(`{"id": "x", "command": "worker add", "args": ["2"]}`))
	f.Add(frame(`{"command": "worker", "args": {"add": 1}}`))
	f.Add(frame(`{"command": 1}`))
	f.Add(frame(`[1, 2]`))
	f.Add(frame("\xff\xfe"))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, rest, err := ParseFrame(b)
		rp, rerr := ReadFrame(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, ErrIncomplete) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("unexpected error %v", err)
			}
			if rerr == nil {
				t.Fatalf("ParseFrame failed (%v) but ReadFrame read %q", err, rp)
			}
			return
		}
		if rerr != nil || !bytes.Equal(p, rp) {
			t.Fatalf("ReadFrame = %q, %v; ParseFrame = %q", rp, rerr, p)
		}
		again, _ := AppendFrame(nil, p)
		if !bytes.Equal(append(again, rest...), b) {
			t.Fatalf("re-encoding differs")
		}
		if req, err := decodeRequest(p); err == nil {
			_, _ = parseCommand(req)
		}
	})
}
