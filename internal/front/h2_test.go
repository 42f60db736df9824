package front

import "testing"

func TestScanRequestLine(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"GET / HTTP/1.1\r\n", lineComplete},
		{"GET / HTTP/1.0\n", lineComplete},
		{"\r\nPOST /x?y HTTP/1.1\r\nHost: a\r\n", lineComplete},
		{"OPTIONS * HTTP/1.1\r", linePartial},
		{"GET /very/long", linePartial},
		{"G", linePartial},
		{"", linePartial},
		{"INVALID CONNECTION PREFACE\r\n\r\n", lineImpossible},
		{"PRI * HTTP/2.0\r\n\r\nXX", lineImpossible},
		{"\x16\x03\x01\x00\x05hello", lineImpossible},
		{"GET  / HTTP/1.1\r\n", lineImpossible},
		{"GET / HTTP/1.1 \r\n", lineImpossible},
		{"GET / HTTP/1.x\r\n", lineImpossible},
		{"GE(T / HTTP/1.1\r\n", lineImpossible},
	}
	for _, tt := range tests {
		if got := scanRequestLine([]byte(tt.in)); got != tt.want {
			t.Errorf("scanRequestLine(%q): got %d; want %d", tt.in, got, tt.want)
		}
	}
}

func TestHasToken(t *testing.T) {
	tests := []struct {
		v, token string
		want     bool
	}{
		{"Upgrade, HTTP2-Settings", "http2-settings", true},
		{"upgrade", "Upgrade", true},
		{"keep-alive ,  Upgrade ", "upgrade", true},
		{"h2c", "h2", false},
		{"", "h2c", false},
	}
	for _, tt := range tests {
		if got := hasToken([]byte(tt.v), tt.token); got != tt.want {
			t.Errorf("hasToken(%q, %q): got %v; want %v", tt.v, tt.token, got, tt.want)
		}
	}
}
