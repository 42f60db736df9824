package http1

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func FuzzReadRequest(f *testing.F) {
	raws, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*.raw"))
	for _, r := range raws {
		if b, err := os.ReadFile(r); err == nil {
			f.Add(b, uint8(0))
		}
	}
	f.Add([]byte("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n0\r\nX: y\r\n\r\n"), uint8(3))
	f.Add([]byte("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n"), uint8(1))
	f.Fuzz(func(t *testing.T, data []byte, flags uint8) {
		o := DefaultOptions()
		o.PermitObsoleteFolding = flags&1 != 0
		o.ProxyProtocol = []string{ProxyOff, ProxyV1, ProxyV2, ProxyAuto}[flags>>1&3]
		o.StripHeaderSpaces = flags&8 != 0
		o.HeaderMap = []string{HeaderMapDrop, HeaderMapRefuse, HeaderMapDangerous, HeaderMapDrop}[flags>>4&3]
		o.PermitUnconventionalMethod = flags&64 != 0
		o.PermitUnconventionalVersion = flags&128 != 0
		cfg, err := NewConfig(o)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		defer close(done)
		go func() {
			select {
			case <-done:
			case <-time.After(3 * time.Second):
				panic(fmt.Sprintf("hang on %q flags %d", data, flags))
			}
		}()
		br := bufio.NewReaderSize(bytes.NewReader(data), 16)
		p := NewParser(cfg, netip.MustParseAddr("127.0.0.1"), false)
		var req Request
		for i := 0; ; i++ {
			if i > len(data) {
				t.Fatalf("more requests (%d) than input bytes", i)
			}
			err := p.ReadRequest(br, &req)
			if err == io.EOF {
				return
			}
			if err != nil {
				checkErr(t, err)
				return
			}
			if len(req.Method) == 0 || len(req.Target) == 0 {
				t.Fatalf("accepted request with empty method or target: %q", data)
			}
			if req.Chunked && req.ContentLength != -1 {
				t.Fatalf("chunked request with Content-Length %d", req.ContentLength)
			}
			body := p.Body(br, &req)
			n, err := io.Copy(io.Discard, body)
			if err != nil {
				checkErr(t, err)
				return
			}
			if n > int64(len(data)) {
				t.Fatalf("body of %d bytes from %d input bytes", n, len(data))
			}
			if !req.KeepAlive || body.Truncated() {
				return
			}
		}
	})
}

func checkErr(t *testing.T, err error) {
	t.Helper()
	var he *Error
	if !errors.As(err, &he) {
		t.Fatalf("got non-protocol error %v; want *Error", err)
	}
	switch he.Status {
	case 400, 403, 417, 431, 501:
	default:
		t.Fatalf("got status %d for %s; want 400/403/417/431/501", he.Status, he.Name)
	}
	if he.Name == "" || he.Msg == "" {
		t.Fatalf("error without name or message: %#v", he)
	}
	AppendError(nil, he)
}
