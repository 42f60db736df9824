package wire

import (
	"errors"
	"strings"
	"testing"
)

func head(status string, hdrs ...string) []byte {
	b := AppendStr(AppendTupleStart(nil, 2), status)
	b = AppendListStart(b, len(hdrs)/2)
	for i := 0; i < len(hdrs); i += 2 {
		b = AppendStr(AppendStr(AppendTupleStart(b, 2), hdrs[i]), hdrs[i+1])
	}
	return b
}

func TestDecodeResponseHeadErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"not a tuple", AppendStr(nil, "200 OK"), "want a tuple or list"},
		{"three items", AppendNone(AppendNone(AppendStr(AppendTupleStart(nil, 3), "200 OK"))), "has 3 items"},
		{"status not str", AppendListStart(AppendInt(AppendTupleStart(nil, 2), 200), 0), "status has type 'i'"},
		{"header triple", AppendStr(AppendStr(AppendStr(AppendTupleStart(AppendListStart(AppendStr(AppendTupleStart(nil, 2), "200 OK"), 1), 3), "a"), "b"), "c"), "header 0 has 3 items"},
		{"value not str", AppendBytes(AppendStr(AppendTupleStart(AppendListStart(AppendStr(AppendTupleStart(nil, 2), "200 OK"), 1), 2), "X-A"), []byte("v")), `value of header "X-A" has type 's'`},
		{"non-latin1 name", head("200 OK", "X-€", "v"), "header name contains U+20AC"},
		{"non-latin1 value", head("200 OK", "X-Snow", "☃"), `value of header "X-Snow" contains U+2603`},
		{"trailing bytes", append(head("200 OK"), 'N'), "1 trailing bytes"},
		{"truncated", head("200 OK", "A", "b")[:20], "truncated"},
		{"huge count", []byte("(\x02\x00\x00\x00z\x02OK[\xff\xff\xff\x7f"), "container of"},
		{"flag ref", []byte("\xa8\x02\x00\x00\x00"), "FLAG_REF"},
	}
	for _, tt := range tests {
		_, _, err := DecodeResponseHead(tt.in, nil)
		if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrMarshal) {
			t.Errorf("%s: error %v; want ErrMarshal containing %q", tt.name, err, tt.want)
		}
	}
}

func TestDecodeResponseHeadAliasesASCII(t *testing.T) {
	in := head("200 OK", "Content-Type", "text/plain", "X-L", "caf\u00e9")
	status, hdrs, err := DecodeResponseHead(in, make([][2][]byte, 0, 4))
	if err != nil {
		t.Fatal(err)
	}
	if string(status) != "200 OK" || string(hdrs[1][1]) != "caf\xe9" {
		t.Errorf("got %q, %q; want 200 OK, caf\\xe9", status, hdrs[1][1])
	}
	in[4] = 'X' // status bytes live in the input: ) 02 z 06 "200 OK"
	if status[0] != 'X' {
		t.Error("ASCII status does not alias the input")
	}
}

func TestUnmarshalLimits(t *testing.T) {
	deep := strings.Repeat("[\x01\x00\x00\x00", MaxDepth+1) + "N"
	if _, _, err := Unmarshal([]byte(deep)); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("deep nesting: error %v; want nested deeper", err)
	}
	ok := strings.Repeat("[\x01\x00\x00\x00", MaxDepth) + "N"
	if _, n, err := Unmarshal([]byte(ok)); err != nil || n != len(ok) {
		t.Errorf("depth %d: %d, %v; want success", MaxDepth, n, err)
	}
	// Unmarshal stops after one value; the caller sees how much it used.
	if v, n, err := Unmarshal([]byte("NN")); v != nil || n != 1 || err != nil {
		t.Errorf("Unmarshal(NN) = %v, %d, %v; want nil, 1, nil", v, n, err)
	}
	// ASCII-typed str with high bytes is latin-1, as in CPython.
	if v, _, err := Unmarshal([]byte("z\x02\xe9\xff")); v != "éÿ" || err != nil {
		t.Errorf("Unmarshal(z e9 ff) = %q, %v; want éÿ", v, err)
	}
}

func TestAppendValue(t *testing.T) {
	b, err := AppendValue(nil, Tuple{"a", []any{int64(1), int32(2), 3, nil, true}, []byte("x"), map[string]any{"k": "v"}})
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := Unmarshal(b)
	if err != nil || len(v.([]any)) != 4 {
		t.Errorf("round trip = %#v, %v", v, err)
	}
	for _, bad := range []any{1 << 40, int64(1 << 40), 1.5, []any{struct{}{}}, map[string]any{"k": 2.5}} {
		if _, err := AppendValue(nil, bad); err == nil {
			t.Errorf("AppendValue(%#v) succeeded; want error", bad)
		}
	}
}

func TestAllocs(t *testing.T) {
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { buf = appendEnviron(buf[:0]) }); n != 0 {
		t.Errorf("encoding an environ head: %v allocs; want 0", n)
	}
	in := head("200 OK", "Content-Type", "text/plain", "Content-Length", "13")
	hdrs := make([][2][]byte, 0, 8)
	if n := testing.AllocsPerRun(100, func() { _, hdrs, _ = DecodeResponseHead(in, hdrs[:0]) }); n != 0 {
		t.Errorf("decoding a response head: %v allocs; want 0", n)
	}
	frame := AppendFrame(nil, Response, FlagEnd, 1, in)
	if n := testing.AllocsPerRun(100, func() { _, _, _ = Next(frame) }); n != 0 {
		t.Errorf("Next: %v allocs; want 0", n)
	}
}
