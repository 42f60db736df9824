package http1

import (
	"bufio"
	"bytes"
	"io"
	"net/netip"
	"testing"
)

const benchGET = "GET /api/v1/items?id=42&sort=asc HTTP/1.1\r\n" +
	"Host: api.example.com\r\n" +
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\n" +
	"Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n" +
	"Accept-Language: en-US,en;q=0.5\r\n" +
	"Accept-Encoding: gzip, deflate, br\r\n" +
	"Cookie: session=0123456789abcdef; theme=dark\r\n" +
	"Connection: keep-alive\r\n" +
	"X-Request-Id: 7f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b\r\n" +
	"\r\n"

// loopReader replays the same bytes forever, like a keep-alive connection.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := copy(p, l.data[l.off:])
	l.off = (l.off + n) % len(l.data)
	return n, nil
}

func BenchmarkReadRequest(b *testing.B) {
	cfg, err := NewConfig(DefaultOptions())
	if err != nil {
		b.Fatal(err)
	}
	data := bytes.Repeat([]byte(benchGET), 16)
	br := bufio.NewReaderSize(&loopReader{data: data}, 4096)
	p := NewParser(cfg, netip.MustParseAddr("127.0.0.1"), false)
	var req Request
	b.SetBytes(int64(len(benchGET)))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.ReadRequest(br, &req); err != nil {
			b.Fatal(err)
		}
		if _, err := io.Copy(io.Discard, p.Body(br, &req)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChunkedBody(b *testing.B) {
	cfg, _ := NewConfig(DefaultOptions())
	msg := "POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"400\r\n" + string(bytes.Repeat([]byte("a"), 1024)) + "\r\n0\r\n\r\n"
	br := bufio.NewReaderSize(&loopReader{data: []byte(msg)}, 4096)
	p := NewParser(cfg, netip.Addr{}, false)
	var req Request
	buf := make([]byte, 8192)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if err := p.ReadRequest(br, &req); err != nil {
			b.Fatal(err)
		}
		body := p.Body(br, &req)
		for {
			if _, err := body.Read(buf); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
	}
}
