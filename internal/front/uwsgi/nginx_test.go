package uwsgi

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/front/http1"
)

const nginxBin = "/usr/sbin/nginx"

// uwsgiServe answers every uwsgi request on l with a fixed HTTP response
// that echoes what the reader saw, the way the front will: a plain HTTP/1.1
// response, no chunked framing, one request per connection.
func uwsgiServe(t *testing.T, l net.Listener, allow *http1.AllowList) {
	cfg, err := http1.NewConfig(http1.Options{})
	if err != nil {
		t.Error(err)
		return
	}
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			br := bufio.NewReader(c)
			var p Parser
			var r http1.Request
			peer := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr()
			if err := p.ReadRequest(br, &r, allow, peer); err != nil {
				he, ok := err.(*http1.Error)
				if !ok {
					t.Errorf("ReadRequest: %v", err)
					return
				}
				http1.WriteError(c, he)
				return
			}
			body, err := io.ReadAll(http1.NewBodyReader(br, &r, cfg))
			if err != nil {
				t.Errorf("body: %v", err)
			}
			var sb strings.Builder
			fmt.Fprintf(&sb, "%s %s path=%s query=%s scheme=%q body=%s\n", r.Method, r.Target, r.Path, r.Query, r.Scheme, body)
			for _, h := range r.Headers {
				fmt.Fprintf(&sb, "%s: %s\n", h.Name, h.Value)
			}
			ra, _ := p.Vars.Get("REMOTE_ADDR")
			uri, _ := p.Vars.Get("REQUEST_URI")
			fmt.Fprintf(&sb, "REMOTE_ADDR=%s REQUEST_URI=%s\n", ra, uri)
			fmt.Fprintf(c, "HTTP/1.1 201 Created\r\nContent-Type: text/plain\r\nX-Backend: uwsgi\r\nContent-Length: %d\r\n\r\n%s", sb.Len(), sb.String())
		}()
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestNginx sends requests through a real nginx doing uwsgi_pass to a
// server that uses this package's reader.
func TestNginx(t *testing.T) {
	if _, err := os.Stat(nginxBin); err != nil {
		t.Skip("nginx not installed (" + nginxBin + ")")
	}
	if testing.Short() {
		t.Skip("starts nginx")
	}
	up, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer up.Close()
	go uwsgiServe(t, up, nil)
	// An upstream whose uwsgi_allow_ips leaves out nginx's address.
	strict, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer strict.Close()
	only, _ := http1.ParseAllowList("uwsgi_allow_ips", []string{"192.0.2.1"})
	go uwsgiServe(t, strict, &only)

	dir := t.TempDir()
	port := freePort(t)
	conf := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log warn;
events { worker_connections 64; }
http {
	access_log off;
	client_body_temp_path %[1]s/body;
	proxy_temp_path %[1]s/proxy;
	fastcgi_temp_path %[1]s/fastcgi;
	uwsgi_temp_path %[1]s/uwsgi;
	scgi_temp_path %[1]s/scgi;
	server {
		listen 127.0.0.1:%[2]d;
		location /forbidden {
			include %[1]s/params;
			uwsgi_pass %[4]s;
		}
		location / {
			include %[1]s/params;
			uwsgi_pass %[3]s;
		}
	}
}
`, dir, port, up.Addr(), strict.Addr())
	params := `uwsgi_param QUERY_STRING $query_string;
uwsgi_param REQUEST_METHOD $request_method;
uwsgi_param CONTENT_TYPE $content_type;
uwsgi_param CONTENT_LENGTH $content_length;
uwsgi_param REQUEST_URI $request_uri;
uwsgi_param PATH_INFO $document_uri;
uwsgi_param SERVER_PROTOCOL $server_protocol;
uwsgi_param HTTPS $https if_not_empty;
uwsgi_param REMOTE_ADDR $remote_addr;
uwsgi_param REMOTE_PORT $remote_port;
uwsgi_param SERVER_PORT $server_port;
uwsgi_param SERVER_NAME $server_name;
`
	if err := os.WriteFile(filepath.Join(dir, "params"), []byte(params), 0o644); err != nil {
		t.Fatal(err)
	}
	confPath := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, nginxBin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", confPath)
	out := &strings.Builder{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		cmd.Wait()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			t.Logf("nginx output: %s\nerror.log: %s", out, log)
		}
	}()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nginx did not listen on %s: %v", base, err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		want                     []string
		notWant                  []string
	}{
		{"get", "GET", "/caf%C3%A9/x?a=1&b=%20", "", map[string]string{"X-Custom-Thing": "v1", "X_Dropped": "by nginx", "Accept": "text/plain"},
			[]string{"GET /café/x?a=1&b=%20 path=/café/x query=a=1&b=%20 scheme=\"\" body=\n",
				"HOST: 127.0.0.1:", "ACCEPT: text/plain\n", "X-CUSTOM-THING: v1\n", "CONTENT-LENGTH: \n",
				"REMOTE_ADDR=127.0.0.1 REQUEST_URI=/caf%C3%A9/x?a=1&b=%20\n"},
			[]string{"DROPPED"}}, // nginx drops names with '_' (underscores_in_headers off)
		{"post", "POST", "/submit", "hello=world", map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			[]string{"POST /submit path=/submit query= scheme=\"\" body=hello=world\n",
				"CONTENT-TYPE: application/x-www-form-urlencoded\n", "CONTENT-LENGTH: 11\n"}, nil},
	}
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hreq, err := http.NewRequest(tc.method, base+tc.path, strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range tc.header {
				hreq.Header[k] = []string{v}
			}
			resp, err := client.Do(hreq)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 201 || resp.Header.Get("X-Backend") != "uwsgi" {
				t.Errorf("got %s X-Backend=%q; want 201 Created from the uwsgi server\n%s", resp.Status, resp.Header.Get("X-Backend"), got)
			}
			for _, w := range tc.want {
				if !strings.Contains(string(got), w) {
					t.Errorf("response body lacks %q; got:\n%s", w, got)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(string(got), w) {
					t.Errorf("response body has %q; got:\n%s", w, got)
				}
			}
		})
	}

	resp, err := client.Get(base + "/forbidden")
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := "uWSGI request from &#x27;127.0.0.1&#x27; not allowed"; resp.StatusCode != 403 || !strings.Contains(string(got), want) {
		t.Errorf("strict upstream: got %s %q; want 403 with %q", resp.Status, got, want)
	}
}
