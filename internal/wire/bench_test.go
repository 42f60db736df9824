package wire

import "testing"

var environHeaders = [][2]string{
	{"HTTP_HOST", "example.com:8000"},
	{"HTTP_USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"},
	{"HTTP_ACCEPT", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
	{"HTTP_ACCEPT_LANGUAGE", "en-US,en;q=0.5"},
	{"HTTP_ACCEPT_ENCODING", "gzip, deflate, br"},
	{"HTTP_CONNECTION", "keep-alive"},
	{"HTTP_COOKIE", "session=abc123; theme=dark"},
	{"HTTP_X_FORWARDED_FOR", "10.0.0.1"},
}

// appendEnviron writes a typical WSGI request head: 15 CGI keys plus 8 headers.
func appendEnviron(b []byte) []byte {
	b = AppendDictStart(b)
	kv := func(k, v string) { b = AppendLatin1Str(AppendStr(b, k), v) }
	kv("REQUEST_METHOD", "GET")
	kv("SCRIPT_NAME", "")
	kv("PATH_INFO", "/api/v1/items")
	kv("QUERY_STRING", "page=2&sort=name")
	kv("RAW_URI", "/api/v1/items?page=2&sort=name")
	kv("SERVER_PROTOCOL", "HTTP/1.1")
	kv("SERVER_NAME", "example.com")
	kv("SERVER_PORT", "8000")
	kv("REMOTE_ADDR", "127.0.0.1")
	kv("REMOTE_PORT", "54321")
	kv("wsgi.url_scheme", "http")
	kv("CONTENT_TYPE", "application/json")
	kv("CONTENT_LENGTH", "0")
	b = AppendInt(AppendStr(b, "gonicorn.body"), 0)
	kv("SERVER_SOFTWARE", "gonicorn")
	for _, h := range environHeaders {
		kv(h[0], h[1])
	}
	return AppendDictEnd(b)
}

func BenchmarkEncodeEnviron(b *testing.B) {
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendEnviron(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkEncodeRequestFrame(b *testing.B) {
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendHeader(buf[:0], Request, FlagEnd, 1, 0)
		buf = AppendHeadLen(buf, 0)
		buf = appendEnviron(buf)
		PutHeadLen(buf[HeaderSize:], uint32(len(buf)-HeaderSize-4))
		PutHeader(buf, Request, FlagEnd, 1, uint32(len(buf)-HeaderSize))
	}
}

func BenchmarkDecodeResponseHead(b *testing.B) {
	in := head("200 OK", "Content-Type", "text/plain", "Content-Length", "13")
	hdrs := make([][2][]byte, 0, 8)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if _, hdrs, err = DecodeResponseHead(in, hdrs[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeResponseHeadNewSlice(b *testing.B) {
	in := head("200 OK", "Content-Type", "text/plain", "Content-Length", "13")
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DecodeResponseHead(in, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNext(b *testing.B) {
	frame := AppendFrame(nil, RespBody, FlagEnd, 1, make([]byte, 64))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Next(frame); err != nil {
			b.Fatal(err)
		}
	}
}
