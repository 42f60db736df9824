package http1

import (
	"bufio"
	"errors"
	"io"
	"net/netip"
	"strings"
	"testing"
)

type result struct {
	req  Request
	body string
	err  error
}

// parseOne parses the first request of raw and reads its body.
func parseOne(t *testing.T, mod func(*Options), peer string, raw string) result {
	t.Helper()
	o := DefaultOptions()
	if mod != nil {
		mod(&o)
	}
	cfg, err := NewConfig(o)
	if err != nil {
		t.Fatal(err)
	}
	var addr netip.Addr
	if peer != "" {
		addr = netip.MustParseAddr(peer)
	}
	br := bufio.NewReader(strings.NewReader(raw))
	p := NewParser(cfg, addr, false)
	var r result
	if r.err = p.ReadRequest(br, &r.req); r.err != nil {
		return r
	}
	b, err := io.ReadAll(p.Body(br, &r.req))
	r.body, r.err = string(b), err
	return r
}

func errName(err error) string {
	var he *Error
	if errors.As(err, &he) {
		return he.Name
	}
	if err == nil {
		return ""
	}
	return "other:" + err.Error()
}

func wantErr(t *testing.T, r result, name string, status int) {
	t.Helper()
	var he *Error
	if !errors.As(r.err, &he) {
		t.Fatalf("got err %v; want %s/%d", r.err, name, status)
	}
	if he.Name != name || he.Status != status {
		t.Fatalf("got %s/%d (%s); want %s/%d", he.Name, he.Status, he.Msg, name, status)
	}
}

func TestSmuggling(t *testing.T) {
	const post = "POST / HTTP/1.1\r\nHost: x\r\n"
	tests := []struct {
		name, raw string
		err       string
		status    int
		body      string
	}{
		{"cl+te", post + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "InvalidHeader", 400, ""},
		{"te+cl", post + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n", "InvalidHeader", 400, ""},
		{"cl list", post + "Content-Length: 3, 3\r\n\r\nabc", "InvalidHeader", 400, ""},
		{"cl dup same", post + "Content-Length: 3\r\nContent-Length: 3\r\n\r\nabc", "InvalidHeader", 400, ""},
		{"cl sign", post + "Content-Length: +3\r\n\r\nabc", "InvalidHeader", 400, ""},
		{"cl empty", post + "Content-Length:\r\n\r\n", "InvalidHeader", 400, ""},
		{"cl hex", post + "Content-Length: 0x3\r\n\r\nabc", "InvalidHeader", 400, ""},
		{"cl huge", post + "Content-Length: 99999999999999999999\r\n\r\n", "InvalidHeader", 400, ""},
		{"cl ok", post + "Content-Length: 3\r\n\r\nabc", "", 0, "abc"},
		{"chunked 1.0", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "InvalidHeader", 400, ""},
		{"chunked twice", post + "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", "InvalidHeader", 400, ""},
		{"chunked twice lines", post + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", "InvalidHeader", 400, ""},
		{"identity after chunked", post + "Transfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n", "InvalidHeader", 400, ""},
		{"gzip after chunked", post + "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", "InvalidHeader", 400, ""},
		{"unknown coding", post + "Transfer-Encoding: br, chunked\r\n\r\n0\r\n\r\n", "UnsupportedTransferCoding", 501, ""},
		{"empty coding", post + "Transfer-Encoding: chunked,\r\n\r\n0\r\n\r\n", "UnsupportedTransferCoding", 501, ""},
		{"kelvin chunked", post + "Transfer-Encoding: chun\xe2\x84\xaaed\r\n\r\n0\r\n\r\n", "UnsupportedTransferCoding", 501, ""},
		{"size plus", post + "Transfer-Encoding: chunked\r\n\r\n+3\r\nabc\r\n0\r\n\r\n", "InvalidChunkSize", 400, ""},
		{"size 0x", post + "Transfer-Encoding: chunked\r\n\r\n0x3\r\nabc\r\n0\r\n\r\n", "InvalidChunkSize", 400, ""},
		{"size trailing space", post + "Transfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n", "InvalidChunkSize", 400, ""},
		{"size space before ext", post + "Transfer-Encoding: chunked\r\n\r\n3 \t;a=b\r\nabc\r\n0\r\n\r\n", "", 0, "abc"},
		{"size overflow", post + "Transfer-Encoding: chunked\r\n\r\n10000000000000000\r\nabc\r\n0\r\n\r\n", "InvalidChunkSize", 400, ""},
		{"size leading zeros", post + "Transfer-Encoding: chunked\r\n\r\n000000000000000000003\r\nabc\r\n0\r\n\r\n", "", 0, "abc"},
		{"bare cr in ext", post + "Transfer-Encoding: chunked\r\n\r\n3;a\rb\r\nabc\r\n0\r\n\r\n", "InvalidChunkExtension", 400, ""},
		{"bare lf in size", post + "Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", "InvalidChunkSize", 400, ""},
		{"data without crlf", post + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n", "ChunkMissingTerminator", 400, ""},
		{"missing final crlf", post + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n", "ChunkMissingTerminator", 400, ""},
		{"eof in chunk", post + "Transfer-Encoding: chunked\r\n\r\n5\r\nabc", "NoMoreData", 400, ""},
		{"eof in size", post + "Transfer-Encoding: chunked\r\n\r\n5", "NoMoreData", 400, ""},
		{"forbidden trailer", post + "Transfer-Encoding: chunked\r\n\r\n0\r\nTrailer: x\r\n\r\n", "InvalidHeaderName", 400, ""},
		{"allowed trailer", post + "Transfer-Encoding: chunked\r\n\r\n1\r\na\r\n0\r\nX-Sum: 1\r\n\r\n", "", 0, "a"},
		{"ctl in trailer", post + "Transfer-Encoding: chunked\r\n\r\n0\r\nX-Sum: 1\x01\r\n\r\n", "InvalidHeader", 400, ""},
		{"short cl body", post + "Content-Length: 5\r\n\r\nab", "", 0, "ab"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parseOne(t, nil, "", tt.raw)
			if tt.err != "" {
				wantErr(t, r, tt.err, tt.status)
				return
			}
			if r.err != nil || r.body != tt.body {
				t.Fatalf("got body %q, err %v; want %q, nil", r.body, r.err, tt.body)
			}
		})
	}
}

func TestGzipChunkedForcesClose(t *testing.T) {
	r := parseOne(t, nil, "", "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n1\r\na\r\n0\r\n\r\n")
	if r.err != nil || r.req.KeepAlive || !r.req.Chunked || r.body != "a" {
		t.Fatalf("got keepalive=%v chunked=%v body=%q err=%v; want false true \"a\" nil", r.req.KeepAlive, r.req.Chunked, r.body, r.err)
	}
}

func TestRequestLine(t *testing.T) {
	permitM := func(o *Options) { o.PermitUnconventionalMethod = true }
	permitV := func(o *Options) { o.PermitUnconventionalVersion = true }
	tests := []struct {
		name string
		mod  func(*Options)
		line string
		err  string
		path string
	}{
		{"asterisk options", nil, "OPTIONS * HTTP/1.1", "", "*"},
		{"asterisk get", nil, "GET * HTTP/1.1", "InvalidRequestLine", ""},
		{"authority connect", nil, "CONNECT a.example:443 HTTP/1.1", "", "443"},
		{"authority connect ip", nil, "CONNECT 10.0.0.1:443 HTTP/1.1", "", "10.0.0.1:443"},
		{"authority no port", nil, "CONNECT a.example HTTP/1.1", "InvalidRequestLine", ""},
		{"authority userinfo", nil, "CONNECT u@a.example:443 HTTP/1.1", "InvalidRequestLine", ""},
		{"connect origin", nil, "CONNECT /x HTTP/1.1", "InvalidRequestLine", ""},
		{"authority get", nil, "GET a.example:443 HTTP/1.1", "InvalidRequestLine", ""},
		{"relative", nil, "GET a/b HTTP/1.1", "InvalidRequestLine", ""},
		{"scheme no slashes", nil, "GET http:/a HTTP/1.1", "InvalidRequestLine", ""},
		{"absolute empty host", nil, "GET http:///a HTTP/1.1", "InvalidRequestLine", ""},
		{"absolute", nil, "GET http://a.example/p?q#f HTTP/1.1", "", "/p"},
		{"absolute no path", nil, "GET http://a.example HTTP/1.1", "", ""},
		{"bad ipv6", nil, "GET http://[::1/ HTTP/1.1", "InvalidRequestLine", ""},
		{"bad bracket host", nil, "GET http://[nothost]/ HTTP/1.1", "InvalidRequestLine", ""},
		{"double slash", nil, "GET //a//b HTTP/1.1", "", "//a//b"},
		{"ctl in target", nil, "GET /a\x01b HTTP/1.1", "InvalidRequestLine", ""},
		{"tab in target", nil, "GET /a\tb HTTP/1.1", "InvalidRequestLine", ""},
		{"two spaces", nil, "GET  / HTTP/1.1", "InvalidRequestLine", ""},
		{"trailing space", nil, "GET / HTTP/1.1 ", "InvalidHTTPVersion", ""},
		{"method 2", nil, "GE / HTTP/1.1", "InvalidRequestMethod", ""},
		{"method 3", nil, "GEX / HTTP/1.1", "", "/"},
		{"method 20", nil, strings.Repeat("A", 20) + " / HTTP/1.1", "", "/"},
		{"method 21", nil, strings.Repeat("A", 21) + " / HTTP/1.1", "InvalidRequestMethod", ""},
		{"method lower", nil, "get / HTTP/1.1", "InvalidRequestMethod", ""},
		{"method hash", nil, "GE#T / HTTP/1.1", "InvalidRequestMethod", ""},
		{"method permit lower", permitM, "ge / HTTP/1.1", "", "/"},
		{"method permit still token", permitM, "g(t / HTTP/1.1", "InvalidRequestMethod", ""},
		{"version 1.2", nil, "GET / HTTP/1.2", "InvalidHTTPVersion", ""},
		{"version 2.0", nil, "GET / HTTP/2.0", "InvalidHTTPVersion", ""},
		{"version 0.9", nil, "GET / HTTP/0.9", "InvalidHTTPVersion", ""},
		{"version lower", nil, "GET / http/1.1", "InvalidHTTPVersion", ""},
		{"version permit 2.0", permitV, "GET / HTTP/2.0", "", "/"},
		{"version permit still shape", permitV, "GET / HTTP/10.0", "InvalidHTTPVersion", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parseOne(t, tt.mod, "", tt.line+"\r\n\r\n")
			if got := errName(r.err); got != tt.err {
				t.Fatalf("got error %q (%v); want %q", got, r.err, tt.err)
			}
			if tt.err == "" && string(r.req.Path) != tt.path {
				t.Fatalf("got path %q; want %q", r.req.Path, tt.path)
			}
		})
	}
}

func TestHeaders(t *testing.T) {
	const get = "GET / HTTP/1.1\r\n"
	fold := func(o *Options) { o.PermitObsoleteFolding = true }
	strip := func(o *Options) { o.StripHeaderSpaces = true }
	refuse := func(o *Options) { o.HeaderMap = HeaderMapRefuse }
	dangerous := func(o *Options) { o.HeaderMap = HeaderMapDangerous }
	tests := []struct {
		name  string
		mod   func(*Options)
		peer  string
		hdrs  string
		err   string
		names string // upper names kept, comma separated
	}{
		{"space before colon", nil, "", "A : b\r\n", "InvalidHeaderName", ""},
		{"space before colon stripped", strip, "", "A : b\r\n", "", "A"},
		{"empty name", nil, "", ": b\r\n", "InvalidHeader", ""},
		{"no colon", nil, "", "ab\r\n", "InvalidHeader", ""},
		{"leading space first line", nil, "", " A: b\r\n", "InvalidHeaderName", ""},
		{"obs fold", nil, "", "A: b\r\n c\r\n", "ObsoleteFolding", ""},
		{"obs fold permitted", fold, "", "A: b\r\n c\r\n", "", "A"},
		{"nul in value", nil, "", "A: b\x00c\r\n", "InvalidHeader", ""},
		{"bare lf in value", nil, "", "A: b\nc\r\n", "InvalidHeader", ""},
		{"bare cr in value", nil, "", "A: b\rc\r\n", "InvalidHeader", ""},
		{"del in value", nil, "", "A: b\x7fc\r\n", "InvalidHeader", ""},
		{"htab and obs-text ok", nil, "", "A: b\tc\xff\r\n", "", "A"},
		{"dup host", nil, "", "Host: a\r\nhost: b\r\n", "InvalidHeader", ""},
		{"dup content-type", nil, "", "Content-Type: a\r\nContent-Type: a\r\n", "InvalidHeader", ""},
		{"underscore dropped", nil, "", "X_Foo: 1\r\nX-Foo: 2\r\n", "", "X-FOO"},
		{"underscore refused", refuse, "", "X-Foo: 2\r\nX_Foo: 1\r\n", "InvalidHeaderName", ""},
		{"underscore dangerous", dangerous, "", "X_Foo: 1\r\nX-Foo: 2\r\n", "", "X_FOO,X-FOO"},
		{"forwarder from trusted", refuse, "127.0.0.1", "Script_Name: /app\r\n", "", "SCRIPT_NAME"},
		{"forwarder from untrusted", refuse, "192.0.2.1", "Script_Name: /app\r\n", "InvalidHeaderName", ""},
		{"expect 100", nil, "", "Expect: 100-Continue\r\n", "", "EXPECT"},
		{"expect other", nil, "", "Expect: 200-ok\r\n", "ExpectationFailed", ""},
		{"scheme conflict", nil, "127.0.0.1", "X-Forwarded-Proto: https\r\nX-Forwarded-Ssl: off\r\n", "InvalidSchemeHeaders", ""},
		{"scheme conflict untrusted", nil, "192.0.2.1", "X-Forwarded-Proto: https\r\nX-Forwarded-Ssl: off\r\n", "", "X-FORWARDED-PROTO,X-FORWARDED-SSL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parseOne(t, tt.mod, tt.peer, get+tt.hdrs+"\r\n")
			if got := errName(r.err); got != tt.err {
				t.Fatalf("got error %q (%v); want %q", got, r.err, tt.err)
			}
			if tt.err != "" {
				return
			}
			var names []string
			for i := range r.req.Headers {
				names = append(names, string(r.req.Headers[i].AppendUpperName(nil)))
			}
			if got := strings.Join(names, ","); got != tt.names {
				t.Fatalf("got headers %q; want %q", got, tt.names)
			}
		})
	}
}

func TestRequestFields(t *testing.T) {
	r := parseOne(t, func(o *Options) { o.PermitObsoleteFolding = true }, "127.0.0.1",
		"GET /p?q=1#f HTTP/1.1\r\nX-Forwarded-Proto: https\r\nA:  x \r\n\t y\t\r\n   \r\nConnection: Upgrade\r\nUpgrade: websocket\r\nExpect: 100-continue\r\n\r\n")
	if r.err != nil {
		t.Fatal(r.err)
	}
	q := &r.req
	checks := []struct{ name, got, want string }{
		{"path", string(q.Path), "/p"},
		{"query", string(q.Query), "q=1"},
		{"fragment", string(q.Fragment), "f"},
		{"folded value", string(q.Headers[1].Value), "x y "},
		{"upgrade", string(q.Upgrade), "websocket"},
		{"scheme", q.Scheme, "https"},
		{"cgi", string(q.Headers[0].AppendCGIName(nil)), "HTTP_X_FORWARDED_PROTO"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s: got %q; want %q", c.name, c.got, c.want)
		}
	}
	if !q.Expect100 || !q.KeepAlive || q.ContentLength != -1 {
		t.Errorf("got expect100=%v keepalive=%v cl=%d; want true true -1", q.Expect100, q.KeepAlive, q.ContentLength)
	}
}

func TestKeepAlive(t *testing.T) {
	tests := []struct {
		raw  string
		want bool
	}{
		{"GET / HTTP/1.1\r\n\r\n", true},
		{"GET / HTTP/1.0\r\n\r\n", false},
		{"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false},
		{"GET / HTTP/1.1\r\nConnection: foo\r\nConnection: close\r\n\r\n", true}, // gunicorn reads the first only
		{"GET / HTTP/1.1\r\nConnection: keep-alive, close\r\n\r\n", true},
		{"GET / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", false},
	}
	for _, tt := range tests {
		r := parseOne(t, nil, "", tt.raw)
		if r.err != nil || r.req.KeepAlive != tt.want {
			t.Errorf("%q: got keepalive %v, err %v; want %v", tt.raw, r.req.KeepAlive, r.err, tt.want)
		}
	}
}

func TestLimits(t *testing.T) {
	line := func(n int) string { // a request line of exactly n bytes
		return "GET /" + strings.Repeat("a", n-len("GET / HTTP/1.1")) + " HTTP/1.1\r\n"
	}
	lim := func(line, fields, size int) func(*Options) {
		return func(o *Options) { o.RequestLine, o.Fields, o.FieldSize = line, fields, size }
	}
	hdrs := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			b.WriteString("X: 1\r\n")
		}
		return b.String()
	}
	tests := []struct {
		name   string
		mod    func(*Options)
		raw    string
		err    string
		status int
		msg    string
	}{
		{"line at limit", nil, line(4094) + "\r\n", "", 0, ""},
		{"line over limit", nil, line(4095) + "\r\n", "LimitRequestLine", 400, "Request Line is too large (4095 > 4094)"},
		{"line 5014", nil, line(5014) + "\r\n", "LimitRequestLine", 400, "Request Line is too large (5014 > 4094)"},
		{"line clamped", lim(9000, 100, 8190), line(8191) + "\r\n", "LimitRequestLine", 400, "Request Line is too large (8191 > 8190)"},
		{"line clamped at", lim(9000, 100, 8190), line(8190) + "\r\n", "", 0, ""},
		{"line unlimited", lim(0, 100, 8190), line(20000) + "\r\n", "", 0, ""},
		{"fields at limit", lim(4094, 3, 8190), "GET / HTTP/1.1\r\n" + hdrs(3) + "\r\n", "", 0, ""},
		{"fields over limit", lim(4094, 3, 8190), "GET / HTTP/1.1\r\n" + hdrs(4) + "\r\n", "LimitRequestHeaders", 431, "limit request headers fields"},
		{"fields 0 means 32768", lim(4094, 0, 8190), "GET / HTTP/1.1\r\n" + hdrs(200) + "\r\n", "", 0, ""},
		// "X: 1" + CRLF = 6 bytes
		{"field size at limit", lim(4094, 100, 6), "GET / HTTP/1.1\r\nX: 1\r\n\r\n", "", 0, ""},
		{"field size over limit", lim(4094, 100, 5), "GET / HTTP/1.1\r\nX: 1\r\n\r\n", "LimitRequestHeaders", 431, "limit request headers fields size"},
		{"field size 0 means 8190", lim(4094, 100, 0), "GET / HTTP/1.1\r\nX: " + strings.Repeat("y", 8190-5) + "\r\n\r\n", "", 0, ""},
		{"field size 0 over", lim(4094, 100, 0), "GET / HTTP/1.1\r\nX: " + strings.Repeat("y", 8190-4) + "\r\n\r\n", "LimitRequestHeaders", 431, ""},
		{"field size above 8190", lim(4094, 100, 9000), "GET / HTTP/1.1\r\nX: " + strings.Repeat("y", 8990) + "\r\n\r\n", "", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parseOne(t, tt.mod, "", tt.raw)
			if tt.err == "" {
				if r.err != nil {
					t.Fatalf("got %v; want no error", r.err)
				}
				return
			}
			wantErr(t, r, tt.err, tt.status)
			if tt.msg != "" && r.err.(*Error).Msg != tt.msg {
				t.Fatalf("got message %q; want %q", r.err.(*Error).Msg, tt.msg)
			}
		})
	}
}

func TestProxyProtocol(t *testing.T) {
	auto := func(o *Options) { o.ProxyProtocol = ProxyAuto }
	v1only := func(o *Options) { o.ProxyProtocol = ProxyV1 }
	const get = "GET / HTTP/1.1\r\n\r\n"
	v2 := func(verCmd, fam byte, addr string) string {
		n := len(addr)
		return string(ppV2Signature) + string([]byte{verCmd, fam, byte(n >> 8), byte(n)}) + addr + get
	}
	tests := []struct {
		name   string
		mod    func(*Options)
		peer   string
		raw    string
		err    string
		status int
		client string
	}{
		{"v1", auto, "127.0.0.1", "PROXY TCP4 1.2.3.4 5.6.7.8 1000 443\r\n" + get, "", 0, "1.2.3.4:1000"},
		{"v1 tcp6", auto, "", "PROXY TCP6 2001:db8::1 ::1 1000 443\r\n" + get, "", 0, "[2001:db8::1]:1000"},
		{"v1 forbidden", auto, "192.0.2.9", "PROXY TCP4 1.2.3.4 5.6.7.8 1000 443\r\n" + get, "ForbiddenProxyRequest", 403, ""},
		{"v1 family mismatch", auto, "", "PROXY TCP4 ::1 5.6.7.8 1000 443\r\n" + get, "InvalidProxyLine", 400, ""},
		{"v1 port range", auto, "", "PROXY TCP4 1.2.3.4 5.6.7.8 1000 65536\r\n" + get, "InvalidProxyLine", 400, ""},
		{"v1 unknown", auto, "", "PROXY UNKNOWN\r\n" + get, "InvalidProxyLine", 400, ""},
		{"v1 double space", auto, "", "PROXY TCP4  1.2.3.4 5.6.7.8 1000 443\r\n" + get, "InvalidProxyLine", 400, ""},
		{"v1 too long", auto, "", "PROXY TCP4 " + strings.Repeat("1", 200) + "\r\n" + get, "InvalidProxyLine", 400, ""},
		{"v1 off", nil, "", "PROXY TCP4 1.2.3.4 5.6.7.8 1000 443\r\n" + get, "InvalidRequestLine", 400, ""},
		{"v2 ipv4", auto, "", v2(0x21, 0x11, "\x01\x02\x03\x04\x05\x06\x07\x08\x03\xe8\x01\xbb"), "", 0, "1.2.3.4:1000"},
		{"v2 local", auto, "", v2(0x20, 0x00, ""), "", 0, "invalid AddrPort"},
		{"v2 tlv ignored", auto, "", v2(0x21, 0x11, "\x01\x02\x03\x04\x05\x06\x07\x08\x03\xe8\x01\xbb\x04\x00\x01x"), "", 0, "1.2.3.4:1000"},
		{"v2 bad version", auto, "", v2(0x11, 0x11, "\x01\x02\x03\x04\x05\x06\x07\x08\x03\xe8\x01\xbb"), "InvalidProxyHeader", 400, ""},
		{"v2 udp", auto, "", v2(0x21, 0x12, "\x01\x02\x03\x04\x05\x06\x07\x08\x03\xe8\x01\xbb"), "InvalidProxyHeader", 400, ""},
		{"v2 short addr", auto, "", v2(0x21, 0x11, "\x01\x02\x03"), "InvalidProxyHeader", 400, ""},
		{"v2 truncated", auto, "", string(ppV2Signature) + "\x21\x11\x00\x0c\x01", "NoMoreData", 400, ""},
		{"v2 in v1 mode", v1only, "", v2(0x21, 0x11, "\x01\x02\x03\x04\x05\x06\x07\x08\x03\xe8\x01\xbb"), "InvalidRequestLine", 400, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := parseOne(t, tt.mod, tt.peer, tt.raw)
			if tt.err != "" {
				wantErr(t, r, tt.err, tt.status)
				return
			}
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.req.Proxy == nil {
				t.Fatal("got no proxy info; want some")
			}
			pi := r.req.Proxy
			if got := netip.AddrPortFrom(pi.ClientAddr, pi.ClientPort).String(); got != tt.client {
				t.Fatalf("got client %s; want %s", got, tt.client)
			}
		})
	}
}

func TestPipelinedProxyOnlyFirst(t *testing.T) {
	cfg, _ := NewConfig(Options{ProxyProtocol: ProxyAuto})
	br := bufio.NewReader(strings.NewReader("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\nGET / HTTP/1.1\r\n\r\nPROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"))
	p := NewParser(cfg, netip.Addr{}, false)
	var req Request
	if err := p.ReadRequest(br, &req); err != nil {
		t.Fatal(err)
	}
	if got := errName(p.ReadRequest(br, &req)); got != "InvalidRequestLine" {
		t.Fatalf("second PROXY line: got %q; want InvalidRequestLine", got)
	}
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		err  *Error
		want string
	}{
		{errMethod([]byte("bla:rgh")), "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 188\r\n\r\n" +
			"<html>\n  <head>\n    <title>Bad Request</title>\n  </head>\n  <body>\n    <h1><p>Bad Request</p></h1>\n" +
			"    Invalid Method &#x27;Invalid HTTP method: &#x27;bla:rgh&#x27;&#x27;\n  </body>\n</html>\n"},
		{errLimitLine(5014, 4094), "HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 163\r\n\r\n" +
			"<html>\n  <head>\n    <title>Bad Request</title>\n  </head>\n  <body>\n    <h1><p>Bad Request</p></h1>\n" +
			"    Request Line is too large (5014 &gt; 4094)\n  </body>\n</html>\n"},
		{errLimitHeaders("limit request headers fields"), "HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: 224\r\n\r\n" +
			"<html>\n  <head>\n    <title>Request Header Fields Too Large</title>\n  </head>\n  <body>\n    <h1><p>Request Header Fields Too Large</p></h1>\n" +
			"    Error parsing headers: &#x27;limit request headers fields&#x27;\n  </body>\n</html>\n"},
	}
	for _, tt := range tests {
		if got := string(AppendError(nil, tt.err)); got != tt.want {
			t.Errorf("got\n%q\nwant\n%q", got, tt.want)
		}
	}
}

func TestPyRepr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc", "'abc'"},
		{"a'b", `"a'b"`},
		{"a'b\"", `'a\'b"'`},
		{"a\\b\t\r\n\x00\x7f", `'a\\b\t\r\n\x00\x7f'`},
		{"\xe9\xa0\xad", "'\xe9\\xa0\\xad'"},
	}
	for _, tt := range tests {
		if got := pyRepr([]byte(tt.in)); got != tt.want {
			t.Errorf("pyRepr(%q): got %s; want %s", tt.in, got, tt.want)
		}
	}
	if got := pyReprBytes([]byte("6_0\xe9")); got != `b'6_0\xe9'` {
		t.Errorf("pyReprBytes: got %s; want b'6_0\\xe9'", got)
	}
}

func TestConfigErrors(t *testing.T) {
	bad := []Options{
		{HeaderMap: "merge"},
		{ProxyProtocol: "v3"},
		{ForwardedAllowIPs: []string{"10.0.0.0/33"}},
		{ProxyAllowIPs: []string{"localhost"}},
	}
	for _, o := range bad {
		if _, err := NewConfig(o); err == nil {
			t.Errorf("NewConfig(%+v): got nil error; want one", o)
		}
	}
}

func TestHasCTL(t *testing.T) {
	naive := func(b []byte) bool {
		for _, c := range b {
			if valueCTL[c] {
				return true
			}
		}
		return false
	}
	buf := make([]byte, 40)
	for c := 0; c < 256; c++ {
		for pos := 0; pos < len(buf); pos += 7 {
			for i := range buf {
				buf[i] = 'a' + byte(i%26)
			}
			buf[pos] = byte(c)
			if got, want := hasCTL(buf), naive(buf); got != want {
				t.Fatalf("hasCTL with %#x at %d: got %v; want %v", c, pos, got, want)
			}
		}
	}
	if hasCTL([]byte("\x80\xff\xa0 \t~ text \x7e\x21")) {
		t.Fatal("hasCTL(obs-text, HTAB, SP): got true; want false")
	}
}

func TestSteadyStateAllocs(t *testing.T) {
	cfg, _ := NewConfig(DefaultOptions())
	msg := benchGET + "POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\r\n" +
		"PUT /y HTTP/1.1\r\nContent-Length: 4\r\n\r\nbody"
	br := bufio.NewReaderSize(&loopReader{data: []byte(msg)}, 4096)
	p := NewParser(cfg, netip.MustParseAddr("127.0.0.1"), false)
	var req Request
	buf := make([]byte, 64)
	step := func() {
		for i := 0; i < 3; i++ {
			if err := p.ReadRequest(br, &req); err != nil {
				t.Fatal(err)
			}
			body := p.Body(br, &req)
			for {
				if _, err := body.Read(buf); err == io.EOF {
					break
				} else if err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	step()
	if n := testing.AllocsPerRun(100, step); n != 0 {
		t.Fatalf("got %v allocations per 3 requests; want 0", n)
	}
}

func TestDiscardThenNextRequest(t *testing.T) {
	cfg, _ := NewConfig(DefaultOptions())
	raw := "POST /a HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\nX-T: 1\r\n\r\n" +
		"POST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nxyzGET /c HTTP/1.1\r\n\r\n"
	br := bufio.NewReader(&oneByteReader{strings.NewReader(raw)})
	p := NewParser(cfg, netip.Addr{}, false)
	var req Request
	for _, want := range []string{"/a", "/b", "/c"} {
		if err := p.ReadRequest(br, &req); err != nil {
			t.Fatal(err)
		}
		if string(req.Path) != want {
			t.Fatalf("got path %q; want %q", req.Path, want)
		}
		body := p.Body(br, &req)
		if err := body.Discard(); err != nil || !body.Done() {
			t.Fatalf("%s: Discard: got err %v, done %v; want nil, true", want, err, body.Done())
		}
		if want == "/a" && (len(req.Trailers) != 1 || string(req.Trailers[0].Value) != "1") {
			t.Fatalf("got trailers %q; want X-T: 1", req.Trailers)
		}
	}
	if err := p.ReadRequest(br, &req); err != io.EOF {
		t.Fatalf("after last request: got %v; want io.EOF", err)
	}
}
