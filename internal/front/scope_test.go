package front

import (
	"reflect"
	"testing"

	"github.com/gonicorn/gonicorn/internal/wire"
)

// TestScope decodes the ASGI head tuple and checks each field is where
// docs/protocol.md ("Request head (ASGI kind)") puts it.
func TestScope(t *testing.T) {
	tcp := &peer{remoteAddr: "127.0.0.1", remotePort: "5555", serverName: "127.0.0.1", serverPort: "8000", scheme: "http"}
	unix := &peer{scheme: "http"}
	hostHdr := []any{[]byte("host"), []byte("h")}
	tests := []struct {
		name      string
		raw       string
		peer      *peer
		root      string
		websocket bool
		subproto  []string
		want      []any
	}{
		{
			name: "http over tcp",
			raw:  "GET /a%20b/c?x=1 HTTP/1.1\r\nHost: h\r\nX-Up: V\r\n\r\n",
			peer: tcp,
			root: "/app",
			want: []any{"http", "1.1", "GET", "http", "/a b/c", []byte("/a%20b/c"), []byte("x=1"), "/app",
				[]any{hostHdr, []any{[]byte("x-up"), []byte("V")}},
				[]any{"127.0.0.1", int64(5555)}, []any{"127.0.0.1", int64(8000)}, nil},
		},
		{
			name: "http/1.0 on a unix socket: no client, no server",
			raw:  "POST / HTTP/1.0\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
			peer: unix,
			want: []any{"http", "1.0", "POST", "http", "/", []byte("/"), []byte(""), "",
				[]any{hostHdr, []any{[]byte("content-length"), []byte("0")}}, nil, nil, nil},
		},
		{
			name:      "websocket: no method, subprotocols last",
			raw:       "GET /ws HTTP/1.1\r\nHost: h\r\n\r\n",
			peer:      tcp,
			websocket: true,
			subproto:  []string{"chat", "v2"},
			want: []any{"websocket", "1.1", nil, "ws", "/ws", []byte("/ws"), []byte(""), "",
				[]any{hostHdr}, []any{"127.0.0.1", int64(5555)}, []any{"127.0.0.1", int64(8000)}, []any{"chat", "v2"}},
		},
		{
			name: "invalid UTF-8 path falls back to latin-1",
			raw:  "GET /%E9 HTTP/1.1\r\nHost: h\r\n\r\n",
			peer: tcp,
			want: []any{"http", "1.1", "GET", "http", "/\u00e9", []byte("/%E9"), []byte(""), "",
				[]any{hostHdr}, []any{"127.0.0.1", int64(5555)}, []any{"127.0.0.1", int64(8000)}, nil},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := appendScope(nil, parse(t, tc.raw), tc.peer, tc.root, tc.websocket, tc.subproto)
			v, n, err := wire.Unmarshal(b)
			if err != nil || n != len(b) {
				t.Fatalf("Unmarshal: n=%d of %d, %v", n, len(b), err)
			}
			got, ok := v.([]any)
			if !ok || len(got) != scopeFields {
				t.Fatalf("head = %#v; want a tuple of %d", v, scopeFields)
			}
			for i := range tc.want {
				if !reflect.DeepEqual(got[i], tc.want[i]) {
					t.Errorf("field %d = %#v; want %#v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func BenchmarkScope(b *testing.B) {
	req, pr := benchRequest()
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = appendScope(buf[:0], req, pr, "", false, nil)
	}
}
