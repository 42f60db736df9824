package h2

import (
	"testing"

	"golang.org/x/net/http2/hpack"
)

func hf(kv ...string) []hpack.HeaderField {
	var fs []hpack.HeaderField
	for i := 0; i < len(kv); i += 2 {
		fs = append(fs, hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return fs
}

func base(extra ...string) []hpack.HeaderField {
	return hf(append([]string{":method", "GET", ":scheme", "https", ":path", "/p?q=1", ":authority", "example.com"}, extra...)...)
}

func TestRequestValidation(t *testing.T) {
	tests := []struct {
		name      string
		fields    []hpack.HeaderField
		endStream bool
		maxList   uint32
		want      verdict
	}{
		{"minimal", base(), true, 0, verdictOK},
		{"with fields", base("accept", "*/*", "cookie", "a=1", "cookie", "b=2"), true, 0, verdictOK},
		{"te trailers", base("te", "trailers"), true, 0, verdictOK},
		{"te gzip", base("te", "gzip"), true, 0, verdictMalformed},
		{"connection", base("connection", "keep-alive"), true, 0, verdictMalformed},
		{"keep-alive", base("keep-alive", "300"), true, 0, verdictMalformed},
		{"proxy-connection", base("proxy-connection", "close"), true, 0, verdictMalformed},
		{"transfer-encoding", base("transfer-encoding", "chunked"), true, 0, verdictMalformed},
		{"upgrade", base("upgrade", "h2c"), true, 0, verdictMalformed},
		{"upper-case name", base("X-Foo", "1"), true, 0, verdictMalformed},
		{"space in name", base("x foo", "1"), true, 0, verdictMalformed},
		{"empty name", base("", "1"), true, 0, verdictMalformed},
		{"LF in value", base("x-foo", "a\nb"), true, 0, verdictMalformed},
		{"NUL in value", base("x-foo", "a\x00b"), true, 0, verdictMalformed},
		{"leading space in value", base("x-foo", " a"), true, 0, verdictMalformed},
		{"inner space in value", base("x-foo", "a b"), true, 0, verdictOK},
		{"missing method", hf(":scheme", "https", ":path", "/"), true, 0, verdictMalformed},
		{"missing scheme", hf(":method", "GET", ":path", "/"), true, 0, verdictMalformed},
		{"missing path", hf(":method", "GET", ":scheme", "https"), true, 0, verdictMalformed},
		{"empty path", hf(":method", "GET", ":scheme", "https", ":path", ""), true, 0, verdictMalformed},
		{"repeated path", hf(":method", "GET", ":scheme", "https", ":path", "/", ":path", "/"), true, 0, verdictMalformed},
		{"unknown pseudo", base(":foo", "1"), true, 0, verdictMalformed},
		{"response pseudo", hf(":status", "200", ":method", "GET", ":scheme", "https", ":path", "/"), true, 0, verdictMalformed},
		{"pseudo after regular", hf(":method", "GET", ":scheme", "https", "x", "1", ":path", "/"), true, 0, verdictMalformed},
		{"connect", hf(":method", "CONNECT", ":authority", "example.com:443"), true, 0, verdictOK},
		{"connect with path", hf(":method", "CONNECT", ":authority", "example.com:443", ":path", "/"), true, 0, verdictMalformed},
		{"connect without authority", hf(":method", "CONNECT"), true, 0, verdictMalformed},
		{"content-length 0 ended", base("content-length", "0"), true, 0, verdictOK},
		{"content-length ended", base("content-length", "5"), true, 0, verdictMalformed},
		{"content-length body", base("content-length", "5"), false, 0, verdictOK},
		{"content-length sign", base("content-length", "+5"), false, 0, verdictMalformed},
		{"content-length twice same", base("content-length", "5", "content-length", "5"), false, 0, verdictOK},
		{"content-length twice differ", base("content-length", "5", "content-length", "6"), false, 0, verdictMalformed},
		{"list limit", base("x-big", string(make([]byte, 100))), true, 200, verdictTooLarge},
		{"list fits", base("x", "1"), true, 1000, verdictOK},
	}
	var b builder
	for _, tt := range tests {
		b.reset(false, tt.maxList)
		for _, f := range tt.fields {
			b.add(f)
		}
		_, got, why := b.request(tt.endStream)
		if got != tt.want {
			t.Errorf("%s: got verdict %d (%s); want %d", tt.name, got, why, tt.want)
		}
	}
}

func TestRequestFields(t *testing.T) {
	var b builder
	b.reset(false, 0)
	for _, f := range hf(":method", "POST", ":scheme", "http", ":path", "/x", "host", "h.example", "content-length", "3", "a", "1") {
		b.add(f)
	}
	r, v, why := b.request(false)
	if v != verdictOK {
		t.Fatalf("got verdict %d (%s); want OK", v, why)
	}
	if r.Method != "POST" || r.Scheme != "http" || r.Path != "/x" || r.Authority != "h.example" || r.ContentLength != 3 {
		t.Errorf("got %+v; want POST http /x h.example 3", r)
	}
	if len(r.Fields) != 3 || r.Fields[2] != (Field{"a", "1"}) {
		t.Errorf("fields: got %v; want host, content-length, a", r.Fields)
	}
	b.reset(false, 0)
	for _, f := range base() {
		b.add(f)
	}
	if r2, _, _ := b.request(true); r2.ContentLength != -1 {
		t.Errorf("no content-length: got %d; want -1", r2.ContentLength)
	}
	if r.Fields[0].Name != "host" {
		t.Errorf("the fields of a finished request changed when the builder was reused: %v", r.Fields)
	}
}

func TestTrailerValidation(t *testing.T) {
	tests := []struct {
		name   string
		fields []hpack.HeaderField
		want   verdict
	}{
		{"plain", hf("x-checksum", "abc"), verdictOK},
		{"pseudo", hf(":path", "/"), verdictMalformed},
		{"connection", hf("connection", "close"), verdictMalformed},
	}
	var b builder
	for _, tt := range tests {
		b.reset(true, 0)
		for _, f := range tt.fields {
			b.add(f)
		}
		if _, got, why := b.trailerFields(); got != tt.want {
			t.Errorf("%s: got %d (%s); want %d", tt.name, got, why, tt.want)
		}
	}
}

func TestHeaderName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Content-Type", "content-type"},
		{"X-Custom-Thing", "x-custom-thing"},
		{"already", "already"},
		{"A-Very-Long-Header-Name-Beyond-Thirty-Two-Bytes", "a-very-long-header-name-beyond-thirty-two-bytes"},
	}
	for _, tt := range tests {
		if got := HeaderName([]byte(tt.in)); got != tt.want {
			t.Errorf("HeaderName(%q): got %q; want %q", tt.in, got, tt.want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { HeaderName([]byte("Content-Type")) }); n != 0 {
		t.Errorf("HeaderName of a common name: got %v allocations; want 0", n)
	}
}

func TestCleanFields(t *testing.T) {
	in := []Field{{"Content-Type", "text/plain"}, {"connection", "close"}, {"x-ok", "1"}, {"x-bad", "a\r\nb"}, {"bad name", "1"}}
	got := cleanFields(nil, in)
	want := []Field{{"content-type", "text/plain"}, {"x-ok", "1"}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %v; want %v", got, want)
	}
}
