package front

import (
	"bufio"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/gonicorn/gonicorn/internal/front/http1"
	"github.com/gonicorn/gonicorn/internal/wire"
)

func parse(t *testing.T, raw string) *http1.Request {
	t.Helper()
	cfg, err := http1.NewConfig(http1.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	p := http1.NewParser(cfg, netip.MustParseAddr("127.0.0.1"), false)
	var req http1.Request
	if err := p.ReadRequest(bufio.NewReader(strings.NewReader(raw)), &req); err != nil {
		t.Fatalf("ReadRequest(%q): %v", raw, err)
	}
	return &req
}

func TestEnviron(t *testing.T) {
	tcp := &peer{remoteAddr: "127.0.0.1", remotePort: "5555", serverName: "127.0.0.1", serverPort: "8000", scheme: "http"}
	unix := &peer{scheme: "http"}
	tests := []struct {
		name   string
		raw    string
		peer   *peer
		script string
		want   map[string]any // keys that must have these values
		absent []string
	}{
		{
			name: "basic",
			raw:  "GET /a%20b/c?x=1&y=%41 HTTP/1.1\r\nHost: example.com:9\r\nUser-Agent: t\r\n\r\n",
			peer: tcp,
			want: map[string]any{
				"REQUEST_METHOD": "GET", "PATH_INFO": "/a b/c", "QUERY_STRING": "x=1&y=%41",
				"RAW_URI": "/a%20b/c?x=1&y=%41", "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": "example.com:9",
				"HTTP_USER_AGENT": "t", "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "5555",
				"SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SCRIPT_NAME": "", "wsgi.url_scheme": "http",
				"gonicorn.body": int64(0),
			},
			absent: []string{"CONTENT_TYPE", "CONTENT_LENGTH"},
		},
		{
			name:   "repeated headers joined, content headers unprefixed",
			raw:    "POST / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nContent-Type: text/plain\r\nX-A: 2\r\nContent-Length: 3\r\n\r\nabc",
			peer:   tcp,
			want:   map[string]any{"HTTP_X_A": "1,2", "CONTENT_TYPE": "text/plain", "CONTENT_LENGTH": "3", "gonicorn.body": int64(3)},
			absent: []string{"HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"},
		},
		{
			name: "unix socket takes SERVER_* from Host",
			raw:  "GET / HTTP/1.0\r\nHost: site\r\n\r\n",
			peer: unix,
			want: map[string]any{"SERVER_NAME": "site", "SERVER_PORT": "80", "REMOTE_ADDR": "", "SERVER_PROTOCOL": "HTTP/1.0"},
		},
		{
			name:   "SCRIPT_NAME stripped from PATH_INFO",
			raw:    "GET /app/x HTTP/1.1\r\nHost: h\r\n\r\n",
			peer:   tcp,
			script: "/app",
			want:   map[string]any{"SCRIPT_NAME": "/app", "PATH_INFO": "/x"},
		},
		{
			name: "latin-1 header bytes",
			raw:  "GET / HTTP/1.1\r\nHost: h\r\nX-L: caf\xe9\r\n\r\n",
			peer: tcp,
			want: map[string]any{"HTTP_X_L": "caf\u00e9"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := parse(t, tc.raw)
			body := int64(0)
			if req.ContentLength > 0 {
				body = req.ContentLength
			}
			b, err := appendEnviron(nil, req, tc.peer, tc.script, body)
			if err != nil {
				t.Fatal(err)
			}
			v, n, err := wire.Unmarshal(b)
			if err != nil || n != len(b) {
				t.Fatalf("Unmarshal: n=%d of %d, %v", n, len(b), err)
			}
			env := v.(map[string]any)
			for k, want := range tc.want {
				if got := env[k]; !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v; want %#v", k, got, want)
				}
			}
			for _, k := range tc.absent {
				if _, ok := env[k]; ok {
					t.Errorf("%s present; want absent", k)
				}
			}
		})
	}
}

func TestEnvironScriptNameMismatch(t *testing.T) {
	req := parse(t, "GET /other HTTP/1.1\r\nHost: h\r\n\r\n")
	_, err := appendEnviron(nil, req, &peer{scheme: "http"}, "/app", 0)
	if err == nil || !strings.Contains(err.Error(), "does not start with SCRIPT_NAME") {
		t.Fatalf("err = %v; want a ConfigurationProblem", err)
	}
}

// benchRequest is the wrk-like request the head-building benchmarks encode.
func benchRequest() (*http1.Request, *peer) {
	cfg, _ := http1.NewConfig(http1.DefaultOptions())
	p := http1.NewParser(cfg, netip.MustParseAddr("127.0.0.1"), false)
	raw := "GET /plaintext?x=1 HTTP/1.1\r\nHost: localhost:8080\r\nUser-Agent: wrk\r\nAccept: */*\r\nAccept-Encoding: gzip\r\nConnection: keep-alive\r\n\r\n"
	var req http1.Request
	p.ReadRequest(bufio.NewReader(strings.NewReader(raw)), &req)
	return &req, &peer{remoteAddr: "127.0.0.1", remotePort: "5555", serverName: "127.0.0.1", serverPort: "8000", scheme: "http"}
}

func BenchmarkEnviron(b *testing.B) {
	req, pr := benchRequest()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf, _ = appendEnviron(buf[:0], req, pr, "", 0)
	}
}
