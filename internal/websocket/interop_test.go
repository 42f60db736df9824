package websocket

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/front/http1"
)

// interopPython returns an interpreter that can import websockets, or "".
func interopPython() string {
	cands := []string{os.Getenv("GONICORN_WS_PYTHON"), "/tmp/wsvenv/bin/python", "python3"}
	for _, py := range cands {
		if py == "" {
			continue
		}
		if exec.Command(py, "-c", "import websockets.asyncio.client").Run() == nil {
			return py
		}
	}
	return ""
}

// TestInterop runs the Python websockets client of testdata/echo_client.py against
// an echo server built from this package. It skips when websockets is missing
// (python3 -m venv /tmp/wsvenv && /tmp/wsvenv/bin/pip install websockets).
func TestInterop(t *testing.T) {
	py := interopPython()
	if py == "" {
		t.Skip("no python with the websockets package; set GONICORN_WS_PYTHON or create /tmp/wsvenv")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := http1.NewConfig(http1.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg                 sync.WaitGroup
		wire, payload      atomic.Int64
		serverErrs         = make(chan error, 16)
		accepted, deflated atomic.Int32
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				st, err := echoConn(c, cfg, &wire, &payload)
				if st.accepted {
					accepted.Add(1)
				}
				if st.deflate {
					deflated.Add(1)
				}
				if err != nil {
					serverErrs <- err
				}
			}()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, py, "testdata/echo_client.py", "ws://"+ln.Addr().String()+"/chat").CombinedOutput()
	ln.Close()
	wg.Wait()
	close(serverErrs)
	if err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ok") {
		t.Fatalf("client output %q; want ok", out)
	}
	for err := range serverErrs {
		t.Errorf("server: %v", err)
	}
	if got := accepted.Load(); got != 6 {
		t.Errorf("accepted %d connections; want 6", got)
	}
	if got := deflated.Load(); got != 3 {
		t.Errorf("permessage-deflate on %d connections; want 3", got)
	}
	// Most bytes echoed are 1 MiB of repeated text; with deflate on 3 of 5 echo
	// connections the wire must carry well under the payload.
	if w, p := wire.Load(), payload.Load(); w*3 > p*2 {
		t.Errorf("wrote %d wire bytes for %d payload bytes; want under 2/3 (deflate not used?)", w, p)
	}
}

type echoStats struct{ accepted, deflate bool }

// echoConn serves one connection: handshake, then echo until close or error.
func echoConn(c net.Conn, cfg *http1.Config, wire, payload *atomic.Int64) (echoStats, error) {
	var st echoStats
	c.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(c)
	p := http1.NewParser(cfg, netip.Addr{}, false)
	var req http1.Request
	if err := p.ReadRequest(br, &req); err != nil {
		return st, err
	}
	h, err := CheckUpgrade(&req)
	if err != nil {
		c.Write(AppendHandshakeError(nil, err))
		return st, err
	}
	proto := ""
	if len(h.Subprotocols) > 0 {
		proto = h.Subprotocols[0]
	}
	if _, err := c.Write(AppendAccept(nil, h, proto, nil, true)); err != nil {
		return st, err
	}
	st.accepted, st.deflate = true, h.Deflate != nil
	r := NewReader(br, ReaderOptions{Deflate: h.Deflate, MaxMessageSize: 2 << 20})
	w, err := NewWriter(h.Deflate, WriterOptions{})
	if err != nil {
		return st, err
	}
	var out []byte
	for {
		kind, msg, err := r.ReadMessage()
		if err != nil {
			var we *Error
			if errors.As(err, &we) {
				c.Write(AppendClose(nil, we.Code, we.Msg))
				// Half-close and drain, so the close frame is not lost to a reset.
				c.(*net.TCPConn).CloseWrite()
				c.SetReadDeadline(time.Now().Add(2 * time.Second))
				io.Copy(io.Discard, br)
				if we.Code == CloseTooBig {
					return st, nil // the client's oversized message, on purpose
				}
			}
			if err == io.EOF {
				return st, nil
			}
			return st, err
		}
		switch kind {
		case Text, Binary:
			out = w.AppendMessage(out[:0], kind, msg)
			wire.Add(int64(len(out)))
			payload.Add(int64(len(msg)))
		case Ping:
			out = AppendFrame(out[:0], OpPong, msg, true, false)
		case Pong:
			continue
		case Close:
			cf, _ := ParseClose(msg)
			_, err := c.Write(AppendClose(out[:0], cf.Code, string(cf.Reason)))
			return st, err
		}
		if _, err := c.Write(out); err != nil {
			return st, err
		}
	}
}
