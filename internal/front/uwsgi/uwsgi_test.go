package uwsgi

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net/netip"
	"strings"
	"testing"

	"github.com/gonicorn/gonicorn/internal/front/http1"
)

// varsBlock encodes key/value pairs (kv alternates key, value).
func varsBlock(kv ...string) []byte {
	var b []byte
	for _, s := range kv {
		b = binary.LittleEndian.AppendUint16(b, uint16(len(s)))
		b = append(b, s...)
	}
	return b
}

// packet builds a whole uwsgi request head around a vars block.
func packet(mod1, mod2 byte, block []byte) []byte {
	b := []byte{mod1, 0, 0, mod2}
	binary.LittleEndian.PutUint16(b[1:3], uint16(len(block)))
	return append(b, block...)
}

func req(kv ...string) []byte { return packet(0, 0, varsBlock(kv...)) }

var (
	local = netip.MustParseAddr("127.0.0.1")
	nginx = req(
		"QUERY_STRING", "a=1&b=2",
		"REQUEST_METHOD", "POST",
		"CONTENT_TYPE", "application/json",
		"CONTENT_LENGTH", "2",
		"REQUEST_URI", "/caf%C3%A9?a=1&b=2",
		"PATH_INFO", "/café",
		"DOCUMENT_ROOT", "/usr/share/nginx/html",
		"SERVER_PROTOCOL", "HTTP/1.0",
		"REQUEST_SCHEME", "http",
		"REMOTE_ADDR", "192.0.2.7",
		"REMOTE_PORT", "51234",
		"SERVER_PORT", "8080",
		"SERVER_NAME", "example.com",
		"HTTP_HOST", "example.com:8080",
		"HTTP_USER_AGENT", "curl/8.0",
		"HTTP_X_FORWARDED_FOR", "198.51.100.1",
	)
)

type hdr = [2]string

func headers(r *http1.Request) []hdr {
	var out []hdr
	for _, h := range r.Headers {
		out = append(out, hdr{string(h.Name), string(h.Value)})
	}
	return out
}

func TestReadRequest(t *testing.T) {
	tests := []struct {
		name      string
		in        []byte
		method    string
		target    string
		path      string
		query     string
		scheme    string
		headers   []hdr
		length    int64
		keepAlive bool
	}{
		{"nginx", nginx, "POST", "/café?a=1&b=2", "/café", "a=1&b=2", "",
			[]hdr{{"CONTENT-TYPE", "application/json"}, {"CONTENT-LENGTH", "2"}, {"HOST", "example.com:8080"},
				{"USER-AGENT", "curl/8.0"}, {"X-FORWARDED-FOR", "198.51.100.1"}}, 2, true},
		{"empty vars: gunicorn's defaults", req(), "GET", "/", "/", "", "", nil, 0, true},
		{"empty PATH_INFO kept", req("PATH_INFO", ""), "GET", "", "", "", "", nil, 0, true},
		{"HTTPS on", req("HTTPS", "on"), "GET", "/", "/", "", "https", nil, 0, true},
		{"HTTPS TRUE", req("HTTPS", "TRUE"), "GET", "/", "/", "", "https", nil, 0, true},
		{"HTTPS 1 wins over url_scheme", req("wsgi.url_scheme", "http", "HTTPS", "1"), "GET", "/", "/", "", "https", nil, 0, true},
		{"HTTPS off, url_scheme used as is", req("HTTPS", "off", "wsgi.url_scheme", "wss"), "GET", "/", "/", "", "wss", nil, 0, true},
		{"Connection close", req("HTTP_CONNECTION", "Close"), "GET", "/", "/", "", "", []hdr{{"CONNECTION", "Close"}}, 0, false},
		{"Connection keep-alive", req("HTTP_CONNECTION", "keep-alive"), "GET", "/", "/", "", "", []hdr{{"CONNECTION", "keep-alive"}}, 0, true},
		{"repeated key: first place, last value", req("HTTP_A", "1", "HTTP_B", "2", "HTTP_A", "3"), "GET", "/", "/", "", "",
			[]hdr{{"A", "3"}, {"B", "2"}}, 0, true},
		{"bare HTTP_ is an empty name", req("HTTP_", "x"), "GET", "/", "/", "", "", []hdr{{"", "x"}}, 0, true},
		{"lower-case key is not a header", req("http_x", "1", "HTTP_X__Y", "2"), "GET", "/", "/", "", "", []hdr{{"X--Y", "2"}}, 0, true},
		{"latin-1 bytes pass through", req("PATH_INFO", "/\xe9", "HTTP_X", "\xff"), "GET", "/\xe9", "/\xe9", "", "", []hdr{{"X", "\xff"}}, 0, true},
		{"empty key and value", req("", ""), "GET", "/", "/", "", "", nil, 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p Parser
			var r http1.Request
			if err := p.ReadRequest(bufio.NewReader(bytes.NewReader(tc.in)), &r, nil, local); err != nil {
				t.Fatalf("ReadRequest: %v", err)
			}
			got := fmt.Sprintf("%s %s %s %s %q", r.Method, r.Target, r.Path, r.Query, r.Scheme)
			want := fmt.Sprintf("%s %s %s %s %q", tc.method, tc.target, tc.path, tc.query, tc.scheme)
			if got != want {
				t.Errorf("got %s; want %s", got, want)
			}
			if g, w := fmt.Sprint(headers(&r)), fmt.Sprint(tc.headers); g != w {
				t.Errorf("headers: got %s; want %s", g, w)
			}
			if r.ContentLength != tc.length || r.KeepAlive != tc.keepAlive || r.Major != 1 || r.Minor != 1 || r.Chunked {
				t.Errorf("got length %d keepalive %v HTTP/%d.%d chunked %v; want %d %v HTTP/1.1 false",
					r.ContentLength, r.KeepAlive, r.Major, r.Minor, r.Chunked, tc.length, tc.keepAlive)
			}
		})
	}
}

func TestVars(t *testing.T) {
	var p Parser
	var r http1.Request
	in := append(append([]byte(nil), nginx[:1]...), nginx[1:3]...)
	in = append(in, 7) // modifier2
	in = append(in, nginx[4:]...)
	if err := p.ReadRequest(bufio.NewReader(bytes.NewReader(in)), &r, nil, local); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ key, want string }{
		{"REMOTE_ADDR", "192.0.2.7"},
		{"REMOTE_PORT", "51234"},
		{"SERVER_NAME", "example.com"},
		{"SERVER_PORT", "8080"},
		{"REQUEST_URI", "/caf%C3%A9?a=1&b=2"},
		{"SERVER_PROTOCOL", "HTTP/1.0"},
	}
	for _, tc := range tests {
		if got, ok := p.Vars.Get(tc.key); !ok || string(got) != tc.want {
			t.Errorf("Vars.Get(%q) = %q, %v; want %q, true", tc.key, got, ok, tc.want)
		}
	}
	if _, ok := p.Vars.Get("NOPE"); ok {
		t.Errorf("Vars.Get(NOPE) found; want missing")
	}
	if got := len(p.Vars.List); got != 16 {
		t.Errorf("len(Vars.List) = %d; want 16", got)
	}
	if p.Vars.Modifier2 != 7 {
		t.Errorf("Modifier2 = %d; want 7", p.Vars.Modifier2)
	}
}

func TestContentLength(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"0", 0}, {"12", 12}, {" 12\t", 12}, {"\xa012\x85", 12}, {"+7", 7}, {"-5", 0}, {"-0", 0},
		{"1_000", 1000}, {"1__0", 0}, {"_1", 0}, {"1_", 0}, {"", 0}, {"abc", 0}, {"1.5", 0}, {"0x10", 0},
		{"007", 7}, {"99999999999999999999999", math.MaxInt64}, {"99999999999999999999999x", 0},
	}
	for _, tc := range tests {
		var r http1.Request
		err := ReadRequest(bufio.NewReader(bytes.NewReader(req("CONTENT_LENGTH", tc.in))), &r, nil, local)
		if err != nil || r.ContentLength != tc.want {
			t.Errorf("CONTENT_LENGTH %q: got %d, %v; want %d", tc.in, r.ContentLength, err, tc.want)
		}
	}
}

func tooMany(n int) []byte {
	var kv []string
	for i := range n {
		kv = append(kv, fmt.Sprintf("K%d", i), "")
	}
	return req(kv...)
}

func TestErrors(t *testing.T) {
	star, _ := http1.ParseAllowList("uwsgi_allow_ips", []string{"*"})
	nets, _ := http1.ParseAllowList("uwsgi_allow_ips", []string{"10.0.0.0/8", "192.0.2.1"})
	tests := []struct {
		name   string
		in     []byte
		allow  *http1.AllowList
		peer   string // "" = unix socket
		status int
		msg    string // "" = success
	}{
		{"modifier1", packet(5, 0, varsBlock("A", "b")), nil, "127.0.0.1", 501, "Unsupported uWSGI modifier1: 5"},
		{"modifier1 255", packet(255, 0, nil), nil, "127.0.0.1", 501, "Unsupported uWSGI modifier1: 255"},
		{"modifier2 is ignored", packet(0, 9, nil), nil, "127.0.0.1", 0, ""},
		{"short header", []byte{0, 0}, nil, "127.0.0.1", 400, "Invalid uWSGI header: incomplete header"},
		{"short vars", packet(0, 0, varsBlock("AB", "cd"))[:9], nil, "127.0.0.1", 400, "Invalid uWSGI header: incomplete vars block"},
		{"key size", packet(0, 0, []byte{1}), nil, "127.0.0.1", 400, "Invalid uWSGI header: truncated key size"},
		{"key", packet(0, 0, []byte{5, 0, 'A'}), nil, "127.0.0.1", 400, "Invalid uWSGI header: truncated key"},
		{"value size", packet(0, 0, []byte{1, 0, 'A', 3}), nil, "127.0.0.1", 400, "Invalid uWSGI header: truncated value size"},
		{"value", packet(0, 0, []byte{1, 0, 'A', 3, 0, 'x'}), nil, "127.0.0.1", 400, "Invalid uWSGI header: truncated value"},
		{"1000 vars", tooMany(1000), nil, "127.0.0.1", 0, ""},
		{"1001 vars", tooMany(1001), nil, "127.0.0.1", 400, "Invalid uWSGI header: too many variables"},
		{"default allows ::1", req(), nil, "::1", 0, ""},
		{"default allows mapped 127.0.0.1", req(), nil, "::ffff:127.0.0.1", 0, ""},
		{"default refuses", req(), nil, "192.0.2.1", 403, "uWSGI request from '192.0.2.1' not allowed"},
		{"default refuses v6", req(), nil, "2001:db8::1", 403, "uWSGI request from '2001:db8::1' not allowed"},
		{"refused before reading", nil, nil, "127.0.0.2", 403, "uWSGI request from '127.0.0.2' not allowed"},
		{"unix socket always allowed", req(), &nets, "", 0, ""},
		{"star", req(), &star, "203.0.113.9", 0, ""},
		{"cidr", req(), &nets, "10.1.2.3", 0, ""},
		{"exact", req(), &nets, "192.0.2.1", 0, ""},
		{"not listed", req(), &nets, "127.0.0.1", 403, "uWSGI request from '127.0.0.1' not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var peer netip.Addr
			if tc.peer != "" {
				peer = netip.MustParseAddr(tc.peer)
			}
			var r http1.Request
			err := ReadRequest(bufio.NewReader(bytes.NewReader(tc.in)), &r, tc.allow, peer)
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("got %v; want success", err)
				}
				return
			}
			var he *http1.Error
			if !errors.As(err, &he) {
				t.Fatalf("got %v; want *http1.Error %q", err, tc.msg)
			}
			wantName := map[int]string{400: "InvalidUWSGIHeader", 501: "UnsupportedModifier", 403: "ForbiddenUWSGIRequest"}[tc.status]
			if he.Status != tc.status || he.Name != wantName || he.Msg != tc.msg {
				t.Errorf("got %d %s %q; want %d %s %q", he.Status, he.Name, he.Msg, tc.status, wantName, tc.msg)
			}
		})
	}
}

// TestTruncation cuts a request (head and body) at every length: a clean
// EOF before anything, then gunicorn's two "incomplete" errors, then a body
// that the http1 body reader reports as truncated.
func TestTruncation(t *testing.T) {
	full := append(append([]byte(nil), nginx...), "{}"...)
	head := len(nginx)
	for n := 0; n <= len(full); n++ {
		var r http1.Request
		br := bufio.NewReader(bytes.NewReader(full[:n]))
		err := ReadRequest(br, &r, nil, local)
		var want string
		switch {
		case n == 0:
			want = "EOF"
		case n < HeaderSize:
			want = "http1: InvalidUWSGIHeader: Invalid uWSGI header: incomplete header"
		case n < head:
			want = "http1: InvalidUWSGIHeader: Invalid uWSGI header: incomplete vars block"
		}
		if got := fmt.Sprint(err); (err == nil && want != "") || (err != nil && got != want) {
			t.Fatalf("prefix %d: got %v; want %q", n, err, want)
		}
		if err != nil {
			continue
		}
		cfg, _ := http1.NewConfig(http1.Options{})
		body, err := io.ReadAll(http1.NewBodyReader(br, &r, cfg))
		if n == len(full) {
			if err != nil || string(body) != "{}" {
				t.Fatalf("prefix %d: body %q, %v; want \"{}\"", n, body, err)
			}
		} else if len(body) != n-head {
			t.Fatalf("prefix %d: body %q; want %d bytes", n, body, n-head)
		}
	}
}

// TestKeepAlive reads pipelined requests on one Parser, with bodies between.
func TestKeepAlive(t *testing.T) {
	var in []byte
	for i := range 3 {
		body := strings.Repeat("x", i)
		in = append(in, req("PATH_INFO", fmt.Sprintf("/%d", i), "CONTENT_LENGTH", fmt.Sprint(len(body)))...)
		in = append(in, body...)
	}
	br := bufio.NewReaderSize(bytes.NewReader(in), 16)
	cfg, _ := http1.NewConfig(http1.Options{})
	var p Parser
	var r http1.Request
	for i := range 3 {
		if err := p.ReadRequest(br, &r, nil, netip.Addr{}); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if got, want := string(r.Path), fmt.Sprintf("/%d", i); got != want {
			t.Errorf("request %d: got path %q; want %q", i, got, want)
		}
		body, err := io.ReadAll(http1.NewBodyReader(br, &r, cfg))
		if err != nil || len(body) != i {
			t.Errorf("request %d: got body %q, %v; want %d bytes", i, body, err, i)
		}
	}
	if err := p.ReadRequest(br, &r, nil, netip.Addr{}); err != io.EOF {
		t.Errorf("after the last request: got %v; want EOF", err)
	}
}

// FuzzReadRequest: any input either yields a request whose fields respect
// the protocol's limits and that consumed exactly the head, or an
// *http1.Error / io.EOF; never a panic.
func FuzzReadRequest(f *testing.F) {
	f.Add(nginx)
	f.Add(req())
	f.Add(req("HTTP_A", "1", "HTTP_A", "2", "CONTENT_LENGTH", " 1_0 "))
	f.Add(packet(0, 0, []byte{1, 0, 'A', 3, 0, 'x'}))
	f.Add(packet(1, 0, nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		var p Parser
		var r http1.Request
		rd := bytes.NewReader(in)
		br := bufio.NewReader(rd)
		err := p.ReadRequest(br, &r, nil, local)
		if err != nil {
			var he *http1.Error
			if err != io.EOF && !errors.As(err, &he) {
				t.Fatalf("unexpected error type %T: %v", err, err)
			}
			return
		}
		size := int(binary.LittleEndian.Uint16(in[1:3]))
		if consumed := len(in) - rd.Len() - br.Buffered(); consumed != HeaderSize+size {
			t.Fatalf("consumed %d bytes; want %d", consumed, HeaderSize+size)
		}
		if len(r.Headers) > MaxVars || len(p.Vars.List) > MaxVars || r.ContentLength < 0 {
			t.Fatalf("headers %d vars %d length %d", len(r.Headers), len(p.Vars.List), r.ContentLength)
		}
		for _, h := range r.Headers {
			if bytes.IndexByte(h.Name, '_') >= 0 {
				t.Fatalf("header name %q has '_'", h.Name)
			}
		}
	})
}

func BenchmarkReadRequest(b *testing.B) {
	rd := bytes.NewReader(nginx)
	br := bufio.NewReader(rd)
	var p Parser
	var r http1.Request
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(nginx)
		br.Reset(rd)
		if err := p.ReadRequest(br, &r, nil, local); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSteadyStateAllocs(t *testing.T) {
	rd := bytes.NewReader(nginx)
	br := bufio.NewReader(rd)
	var p Parser
	var r http1.Request
	got := testing.AllocsPerRun(100, func() {
		rd.Reset(nginx)
		br.Reset(rd)
		if err := p.ReadRequest(br, &r, nil, local); err != nil {
			t.Fatal(err)
		}
	})
	if got != 0 {
		t.Errorf("got %v allocs per request; want 0", got)
	}
}
