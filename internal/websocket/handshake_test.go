package websocket

import (
	"bufio"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/gonicorn/gonicorn/internal/front/http1"
)

func parseRequest(t testing.TB, raw string) *http1.Request {
	t.Helper()
	cfg, err := http1.NewConfig(http1.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	p := http1.NewParser(cfg, netip.Addr{}, false)
	var req http1.Request
	if err := p.ReadRequest(bufio.NewReader(strings.NewReader(raw)), &req); err != nil {
		t.Fatalf("parse %q: %v", raw, err)
	}
	return &req
}

func TestAcceptKeyRFCExample(t *testing.T) {
	if got, want := AcceptKey("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; got != want {
		t.Errorf("got %s; want %s", got, want)
	}
}

const goodHead = "GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n" +
	"Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"

func TestCheckUpgrade(t *testing.T) {
	tests := []struct {
		name       string
		raw        string
		wantStatus int // 0: accepted
		wantProtos []string
		wantDefl   *DeflateParams
	}{
		{"RFC 6455 example", goodHead + "Origin: http://example.com\r\nSec-WebSocket-Protocol: chat, superchat\r\n\r\n", 0, []string{"chat", "superchat"}, nil},
		{"token lists and case", "GET / HTTP/1.1\r\nHost: h\r\nupgrade: h2c, WebSocket\r\nconnection: keep-alive, UPGRADE\r\n" +
			"sec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\nSec-WebSocket-Protocol: a\r\nSec-WebSocket-Protocol: b ,c\r\n\r\n", 0, []string{"a", "b", "c"}, nil},
		{"split Connection headers", "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive\r\nConnection: upgrade\r\n" +
			"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n", 0, nil, nil},
		{"HTTP/1.0", strings.Replace(goodHead, "HTTP/1.1", "HTTP/1.0", 1) + "\r\n", 400, nil, nil},
		{"POST", strings.Replace(goodHead, "GET", "POST", 1) + "\r\n", 400, nil, nil},
		{"no Upgrade", strings.Replace(goodHead, "Upgrade: websocket\r\n", "", 1) + "\r\n", 400, nil, nil},
		{"Upgrade h2c", strings.Replace(goodHead, "Upgrade: websocket", "Upgrade: h2c", 1) + "\r\n", 400, nil, nil},
		{"Connection keep-alive", strings.Replace(goodHead, "Connection: Upgrade", "Connection: keep-alive", 1) + "\r\n", 400, nil, nil},
		{"Connection upgraded", strings.Replace(goodHead, "Connection: Upgrade", "Connection: upgraded", 1) + "\r\n", 400, nil, nil},
		{"no Host", strings.Replace(goodHead, "Host: server.example.com\r\n", "", 1) + "\r\n", 400, nil, nil},
		{"version 8", strings.Replace(goodHead, "Version: 13", "Version: 8", 1) + "\r\n", 426, nil, nil},
		{"no version", strings.Replace(goodHead, "Sec-WebSocket-Version: 13\r\n", "", 1) + "\r\n", 426, nil, nil},
		{"two versions", goodHead + "Sec-WebSocket-Version: 13\r\n\r\n", 426, nil, nil},
		{"no key", strings.Replace(goodHead, "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "", 1) + "\r\n", 400, nil, nil},
		{"two keys", goodHead + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n", 400, nil, nil},
		{"key of 15 bytes", strings.Replace(goodHead, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQ=", 1) + "\r\n", 400, nil, nil},
		{"key of 17 bytes", strings.Replace(goodHead, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZQAA", 1) + "\r\n", 400, nil, nil},
		{"key not base64", strings.Replace(goodHead, "dGhlIHNhbXBsZSBub25jZQ==", "dGhlIHNhbXBsZSBub25jZ!==", 1) + "\r\n", 400, nil, nil},
		{"body", goodHead + "Content-Length: 3\r\n\r\nabc", 400, nil, nil},
		{"deflate plain", goodHead + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n", 0, nil, &DeflateParams{}},
		{"deflate all params", goodHead + "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=15; client_max_window_bits=10\r\n\r\n", 0, nil,
			&DeflateParams{ServerNoContextTakeover: true, ClientNoContextTakeover: true, ServerMaxWindowBits: 15}},
		{"deflate quoted value, bare client bits", goodHead + "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=\"15\"; client_max_window_bits\r\n\r\n", 0, nil, &DeflateParams{ServerMaxWindowBits: 15}},
		{"deflate small server window declined, next offer taken", goodHead + "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10, permessage-deflate; client_no_context_takeover\r\n\r\n", 0, nil, &DeflateParams{ClientNoContextTakeover: true}},
		{"deflate small server window only", goodHead + "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n\r\n", 0, nil, nil},
		{"deflate unknown param", goodHead + "Sec-WebSocket-Extensions: permessage-deflate; foo=1\r\n\r\n", 0, nil, nil},
		{"deflate repeated param", goodHead + "Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; client_no_context_takeover\r\n\r\n", 0, nil, nil},
		{"deflate value on flag", goodHead + "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover=1\r\n\r\n", 0, nil, nil},
		{"deflate bad bits", goodHead + "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits=16\r\n\r\n", 0, nil, nil},
		{"deflate leading zero", goodHead + "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=015\r\n\r\n", 0, nil, nil},
		{"deflate server bits without value", goodHead + "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits\r\n\r\n", 0, nil, nil},
		{"other extension then deflate in second header", goodHead + "Sec-WebSocket-Extensions: x-webkit-deflate-frame\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n", 0, nil, &DeflateParams{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := CheckUpgrade(parseRequest(t, tt.raw))
			if tt.wantStatus != 0 {
				var he *HandshakeError
				if !errors.As(err, &he) || he.Status != tt.wantStatus {
					t.Fatalf("err = %v; want status %d", err, tt.wantStatus)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v; want nil", err)
			}
			if !reflect.DeepEqual(h.Subprotocols, tt.wantProtos) {
				t.Errorf("subprotocols %q; want %q", h.Subprotocols, tt.wantProtos)
			}
			if !reflect.DeepEqual(h.Deflate, tt.wantDefl) {
				t.Errorf("deflate %+v; want %+v", h.Deflate, tt.wantDefl)
			}
		})
	}
}

func TestIsUpgrade(t *testing.T) {
	for _, tt := range []struct {
		raw  string
		want bool
	}{
		{goodHead + "\r\n", true},
		{"GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: upgrade\r\n\r\n", false},
		{"GET / HTTP/1.1\r\nHost: h\r\n\r\n", false},
	} {
		if got := IsUpgrade(parseRequest(t, tt.raw)); got != tt.want {
			t.Errorf("IsUpgrade(%q) = %v; want %v", tt.raw, got, tt.want)
		}
	}
}

func TestAppendAccept(t *testing.T) {
	h := &Handshake{Key: "dGhlIHNhbXBsZSBub25jZQ==", Deflate: &DeflateParams{ClientNoContextTakeover: true, ServerMaxWindowBits: 15}}
	extra := [][2][]byte{{[]byte("X-Test"), []byte("1")}, {[]byte("X-Bad"), []byte("a\r\nSet-Cookie: x")}}
	tests := []struct {
		name    string
		proto   string
		deflate bool
		want    string
	}{
		{"plain", "", false, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nX-Test: 1\r\n\r\n"},
		{"subprotocol and deflate", "chat", true, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\nSec-WebSocket-Protocol: chat\r\n" +
			"Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover; server_max_window_bits=15\r\nX-Test: 1\r\n\r\n"},
	}
	for _, tt := range tests {
		if got := string(AppendAccept(nil, h, tt.proto, extra, tt.deflate)); got != tt.want {
			t.Errorf("%s: got %q; want %q", tt.name, got, tt.want)
		}
	}
	h.Deflate = nil
	if got := string(AppendAccept(nil, h, "", nil, true)); strings.Contains(got, "Extensions") {
		t.Errorf("deflate without agreement: got %q; want no Sec-WebSocket-Extensions", got)
	}
}

func TestAppendHandshakeError(t *testing.T) {
	got := string(AppendHandshakeError(nil, &HandshakeError{Status: 426, Msg: "v"}))
	want := "HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nConnection: close\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\nContent-Length: 32\r\n\r\nwebsocket: handshake refused: v\n"
	if got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}
