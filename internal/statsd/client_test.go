package statsd

import (
	"errors"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func recvAll(t *testing.T, pc net.PacketConn, n int) []string {
	t.Helper()
	var out []string
	buf := make([]byte, 2048)
	pc.SetReadDeadline(time.Now().Add(2 * time.Second))
	for len(out) < n {
		k, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("after %d datagrams %q: %v", len(out), out, err)
		}
		out = append(out, string(buf[:k]))
	}
	return out
}

func TestClientUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c, err := Dial(pc.LocalAddr().String(), "app", "env:test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Request(404, 1500*time.Microsecond)
	c.Gauge("gunicorn.workers", 2)
	c.Increment("gunicorn.log.warning", 1)
	got := recvAll(t, pc, 5)
	want := []string{
		"app.gunicorn.request.duration:1.5|ms|#env:test",
		"app.gunicorn.requests:1|c|@1.0|#env:test",
		"app.gunicorn.request.status.404:1|c|@1.0|#env:test",
		"app.gunicorn.workers:2|g|#env:test",
		"app.gunicorn.log.warning:1|c|@1.0|#env:test",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q; want %q", got, want)
	}
}

// unixgramClient is a client sending to a unix datagram socket the test
// reads; both close when the test ends.
func unixgramClient(t *testing.T) (net.PacketConn, *Client) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "statsd.sock")
	pc, err := net.ListenPacket("unixgram", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	c, err := Dial("unix://"+path, "", "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return pc, c
}

func TestClientUnix(t *testing.T) {
	pc, c := unixgramClient(t)
	c.Timer("gunicorn.request.duration", 2*time.Millisecond)
	got := recvAll(t, pc, 1)
	if want := "gunicorn.request.duration:2.0|ms"; got[0] != want {
		t.Errorf("got %q; want %q", got[0], want)
	}
}

// A unix datagram receiver that never reads fills up; sends must then be
// dropped at once instead of blocking the request that sends them.
func TestClientNeverBlocks(t *testing.T) {
	_, c := unixgramClient(t) // the receiver never reads
	var reported atomic.Int32
	c.OnError = func(error) { reported.Add(1) }
	done := make(chan struct{})
	go func() {
		for range 10000 {
			c.Request(200, time.Millisecond)
		}
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("sends blocked on a receiver that does not read")
	}
	if n := reported.Load(); n != 0 {
		t.Errorf("got %d error reports for a full buffer; want 0 (full buffers are dropped silently)", n)
	}
}

// Nobody listening on a UDP port: the kernel answers ECONNREFUSED on a
// later send. Serving goes on; the error is reported once, whether single
// metrics or a request's batch hit it.
func TestClientReportsOnce(t *testing.T) {
	sends := map[string]func(*Client){
		"Increment": func(c *Client) { c.Increment("gunicorn.requests", 1) },
		"Request":   func(c *Client) { c.Request(200, time.Millisecond) },
	}
	for name, send := range sends {
		t.Run(name, func(t *testing.T) {
			pc, err := net.ListenPacket("udp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := pc.LocalAddr().String()
			pc.Close()
			c, err := Dial(addr, "", "")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var errs []error
			c.OnError = func(err error) { errs = append(errs, err) }
			for range 50 {
				send(c)
				time.Sleep(time.Millisecond)
			}
			if len(errs) != 1 {
				t.Fatalf("got %d error reports; want 1", len(errs))
			}
			if !strings.Contains(errs[0].Error(), addr) {
				t.Errorf("got %q; want the target %s named", errs[0], addr)
			}
		})
	}
}

func TestDialErrors(t *testing.T) {
	for _, target := range []string{"unix://" + filepath.Join(t.TempDir(), "missing.sock"), "h:x", "fd://3"} {
		if _, err := Dial(target, "", ""); err == nil {
			t.Errorf("Dial(%q) succeeded; want an error", target)
		} else if !strings.Contains(err.Error(), "statsd") {
			t.Errorf("Dial(%q) = %v; want an error naming statsd", target, err)
		}
	}
	if _, err := Dial("h:x", "", ""); !errors.Is(err, ErrTarget) {
		t.Errorf("got %v; want ErrTarget", err)
	}
}

func TestNilClient(t *testing.T) {
	var c *Client
	c.Request(200, time.Millisecond) // must not panic
	c.Increment("x", 1)
	c.Gauge("x", 1)
	c.Timer("x", 0)
	c.Histogram("x", 1)
	if err := c.Close(); err != nil {
		t.Errorf("got %v; want nil", err)
	}
}

func TestRequestAllocs(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	c, err := Dial(pc.LocalAddr().String(), "app", "env:test")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if n := testing.AllocsPerRun(100, func() { c.Request(200, time.Millisecond) }); n != 0 {
		t.Errorf("got %v allocations per request; want 0", n)
	}
}

func TestClientIPv6(t *testing.T) {
	pc, err := net.ListenPacket("udp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	defer pc.Close()
	c, err := Dial(pc.LocalAddr().String(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Gauge("gunicorn.workers", 4)
	if got, want := recvAll(t, pc, 1)[0], "gunicorn.workers:4|g"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
}
