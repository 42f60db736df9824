package front

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/dispatch"
	"github.com/gonicorn/gonicorn/internal/front/http1"
	"github.com/gonicorn/gonicorn/internal/ipc"
	"github.com/gonicorn/gonicorn/internal/logging"
	"github.com/gonicorn/gonicorn/internal/wire"
	"github.com/gonicorn/gonicorn/internal/worker"
)

// fakeWorker is the Python end of a worker channel, driven by the test.
type fakeWorker struct {
	t      *testing.T
	peer   *ipc.Conn
	frames chan wire.Frame
}

// tunnelFront serves a front on a loopback port with one worker of the given
// class and capacity; it returns the address and the worker's Python end.
func tunnelFront(t *testing.T, class string, capacity int) (string, *fakeWorker) {
	t.Helper()
	conn, theirs, err := ipc.Pair()
	if err != nil {
		t.Fatal(err)
	}
	peer, err := ipc.FromFile(theirs)
	theirs.Close()
	if err != nil {
		t.Fatal(err)
	}
	w := worker.New(1, 1, conn)
	notices := make(chan worker.Notice, 16)
	go w.Serve(notices)
	doc := fmt.Sprintf(`{"pid": 0, "worker_id": 1, "app_kind": "wsgi", "worker_class": %q, "capacity": %d}`, class, capacity)
	if err := peer.Write(wire.AppendFrame(nil, wire.Hello, 0, 0, wire.AppendHello(nil, []byte(doc)))); err != nil {
		t.Fatal(err)
	}
	if n := <-notices; n.Hello == nil {
		t.Fatalf("got notice %+v; want HELLO", n)
	}
	go func() {
		for range notices {
		}
	}()
	pool := dispatch.New(false)
	pool.Add(w, capacity)
	elog, err := logging.NewErrorLog(filepath.Join(t.TempDir(), "error.log"), logging.LevelDebug)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{
		Parser: http1.DefaultOptions(), KeepAlive: 5 * time.Second, HeaderTimeout: 5 * time.Second,
		QueueTimeout: 200 * time.Millisecond, ErrorLog: elog, Pool: pool,
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Serve([]*Listener{{Listener: ln, Scheme: "http"}})
	fw := &fakeWorker{t: t, peer: peer, frames: make(chan wire.Frame, 4096)}
	go func() {
		defer close(fw.frames)
		for {
			f, err := peer.ReadFrame()
			if err != nil {
				return
			}
			f.Payload = append([]byte(nil), f.Payload...)
			fw.frames <- f
		}
	}()
	t.Cleanup(func() {
		peer.Close()
		s.Shutdown(2 * time.Second)
		w.Close()
		pool.Close()
	})
	return ln.Addr().String(), fw
}

// next returns the next frame Go sent, failing the test after 5 s.
func (f *fakeWorker) next() wire.Frame {
	f.t.Helper()
	select {
	case fr, ok := <-f.frames:
		if !ok {
			f.t.Fatal("worker channel closed")
		}
		return fr
	case <-time.After(5 * time.Second):
		f.t.Fatal("no frame from Go within 5 s")
	}
	return wire.Frame{}
}

// quiet fails if Go sends a frame within d.
func (f *fakeWorker) quiet(d time.Duration) {
	f.t.Helper()
	select {
	case fr := <-f.frames:
		f.t.Fatalf("got %s %q; want no frame", wire.TypeName(fr.Type), fr.Payload)
	case <-time.After(d):
	}
}

func (f *fakeWorker) send(typ, flags byte, id uint32, payload []byte) {
	f.t.Helper()
	if err := f.peer.Write(wire.AppendFrame(nil, typ, flags, id, payload)); err != nil {
		f.t.Fatal(err)
	}
}

// request reads a REQUEST and returns its stream id and head.
func (f *fakeWorker) request() (uint32, map[string]any) {
	f.t.Helper()
	fr := f.next()
	if fr.Type != wire.Request {
		f.t.Fatalf("got %s; want REQUEST", wire.TypeName(fr.Type))
	}
	head, _, err := wire.SplitHead(fr.Payload)
	if err != nil {
		f.t.Fatal(err)
	}
	v, _, err := wire.Unmarshal(head)
	if err != nil {
		f.t.Fatal(err)
	}
	return fr.Stream, v.(map[string]any)
}

func responsePayload(t *testing.T, status string, hdrs [][2]string, body string) []byte {
	t.Helper()
	hs := make([]any, len(hdrs))
	for i, h := range hdrs {
		hs[i] = wire.Tuple{h[0], h[1]}
	}
	head, err := wire.AppendValue(nil, wire.Tuple{status, hs})
	if err != nil {
		t.Fatal(err)
	}
	p := wire.AppendHeadLen(nil, uint32(len(head)))
	return append(append(p, head...), body...)
}

func (f *fakeWorker) accept(id uint32, credit uint32) {
	f.t.Helper()
	f.send(wire.Response, 0, id, responsePayload(f.t, "101 Switching Protocols",
		[][2]string{{"Upgrade", "websocket"}, {"Connection", "Upgrade"}, {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="}}, ""))
	if credit > 0 {
		f.send(wire.More, 0, id, wire.AppendMore(nil, credit))
	}
}

// readBytes collects REQ_BODY payloads of stream id until it has n bytes.
func (f *fakeWorker) readBytes(id uint32, n int) []byte {
	f.t.Helper()
	var got []byte
	for len(got) < n {
		fr := f.next()
		if fr.Type != wire.ReqBody || fr.Stream != id {
			f.t.Fatalf("got %s (stream %d, %q); want REQ_BODY of stream %d", wire.TypeName(fr.Type), fr.Stream, fr.Payload, id)
		}
		got = append(got, fr.Payload...)
	}
	return got
}

const upgradeRequest = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
	"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"

// dialUpgrade connects and sends the upgrade request plus extra bytes.
func dialUpgrade(t *testing.T, addr, extra string) (*net.TCPConn, *bufio.Reader) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(nc, upgradeRequest+extra); err != nil {
		t.Fatal(err)
	}
	return nc.(*net.TCPConn), bufio.NewReader(nc)
}

// readHead reads a response head.
func readHead(t *testing.T, br *bufio.Reader) string {
	t.Helper()
	var b strings.Builder
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading the response head: %v (so far %q)", err, b.String())
		}
		b.WriteString(line)
		if line == "\r\n" {
			return b.String()
		}
	}
}

func TestTunnelEchoAndHalfClose(t *testing.T) {
	addr, fw := tunnelFront(t, "aiohttp", 10)
	nc, br := dialUpgrade(t, addr, "early")
	id, env := fw.request()
	if env["gonicorn.tunnel"] != true || env["HTTP_UPGRADE"] != "websocket" || env["HTTP_CONNECTION"] != "Upgrade" {
		t.Fatalf("head = %v; want gonicorn.tunnel True and the Upgrade and Connection headers", env)
	}
	fw.accept(id, 1<<20)
	head := readHead(t, br)
	for _, want := range []string{"HTTP/1.1 101 Switching Protocols\r\n", "\r\nUpgrade: websocket\r\n", "\r\nConnection: Upgrade\r\n", "\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"} {
		if !strings.Contains("\r\n"+head, want) {
			t.Errorf("101 head %q lacks %q", head, want)
		}
	}
	// Bytes the client sent right behind the request head come first.
	if got := fw.readBytes(id, 5); string(got) != "early" {
		t.Fatalf("got %q; want the pipelined %q", got, "early")
	}
	io.WriteString(nc, "hello")
	got := fw.readBytes(id, 5)
	fw.send(wire.RespBody, 0, id, append([]byte("echo:"), got...))
	buf := make([]byte, 10)
	if _, err := io.ReadFull(br, buf); err != nil || string(buf) != "echo:hello" {
		t.Fatalf("client read %q, %v; want %q", buf, err, "echo:hello")
	}
	// Client EOF reaches the worker as an empty REQ_BODY with END; the
	// worker's side stays open until its END.
	nc.CloseWrite()
	if fr := fw.next(); fr.Type != wire.ReqBody || !fr.End() || len(fr.Payload) != 0 {
		t.Fatalf("got %s end=%v %q; want an empty REQ_BODY with END", wire.TypeName(fr.Type), fr.End(), fr.Payload)
	}
	fw.send(wire.RespBody, 0, id, []byte("after-eof "))
	fw.send(wire.RespBody, wire.FlagEnd, id, []byte("bye"))
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "after-eof bye" {
		t.Fatalf("client read %q, %v; want %q then EOF", rest, err, "after-eof bye")
	}
}

func TestTunnelCreditBoundsClientBytes(t *testing.T) {
	addr, fw := tunnelFront(t, "tornado", 10)
	nc, br := dialUpgrade(t, addr, "")
	id, _ := fw.request()
	fw.accept(id, 5)
	readHead(t, br)
	io.WriteString(nc, "0123456789abcdefghij")
	if got := fw.readBytes(id, 5); string(got) != "01234" {
		t.Fatalf("got %q; want the 5 bytes of credit", got)
	}
	fw.quiet(200 * time.Millisecond)
	fw.send(wire.More, 0, id, wire.AppendMore(nil, 100))
	if got := fw.readBytes(id, 15); string(got) != "56789abcdefghij" {
		t.Fatalf("got %q; want the other 15 bytes", got)
	}
	fw.send(wire.RespBody, wire.FlagEnd, id, nil)
}

func TestTunnelWindowGrantsWhatWasWritten(t *testing.T) {
	addr, fw := tunnelFront(t, "aiohttp", 10)
	_, br := dialUpgrade(t, addr, "")
	id, _ := fw.request()
	fw.accept(id, 0)
	readHead(t, br)
	const total = 1 << 20 // the initial window
	chunk := bytes.Repeat([]byte("w"), 64<<10)
	for sent := 0; sent < total; sent += len(chunk) {
		fw.send(wire.RespBody, 0, id, chunk)
	}
	if _, err := io.CopyN(io.Discard, br, total); err != nil {
		t.Fatal(err)
	}
	// The front grants in lumps of at least windowGrant, so it may owe
	// less than that, never more.
	granted := 0
	for granted <= total-windowGrant {
		fr := fw.next()
		if fr.Type != wire.Window || fr.Stream != id || len(fr.Payload) != 4 {
			t.Fatalf("got %s %q; want WINDOW", wire.TypeName(fr.Type), fr.Payload)
		}
		granted += int(binary.LittleEndian.Uint32(fr.Payload))
	}
	if granted > total {
		t.Fatalf("granted %d; want at most the %d written", granted, total)
	}
	fw.send(wire.RespBody, wire.FlagEnd, id, nil)
}

func TestTunnelNon101IsAnOrdinaryResponse(t *testing.T) {
	addr, fw := tunnelFront(t, "aiohttp", 10)
	nc, br := dialUpgrade(t, addr, "")
	id, _ := fw.request()
	fw.send(wire.Response, wire.FlagEnd, id, responsePayload(t, "403 Forbidden", [][2]string{{"Content-Length", "2"}}, "no"))
	head := readHead(t, br)
	if !strings.HasPrefix(head, "HTTP/1.1 403 Forbidden\r\n") || !strings.Contains(head, "Connection: keep-alive") {
		t.Fatalf("head = %q; want a keep-alive 403", head)
	}
	body := make([]byte, 2)
	io.ReadFull(br, body)
	// The connection serves the next request.
	io.WriteString(nc, "GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
	id2, env := fw.request()
	if _, ok := env["gonicorn.tunnel"]; ok || env["PATH_INFO"] != "/next" {
		t.Fatalf("second head = %v; want /next without gonicorn.tunnel", env)
	}
	fw.send(wire.Response, wire.FlagEnd, id2, responsePayload(t, "200 OK", [][2]string{{"Content-Length", "2"}}, "ok"))
	if head := readHead(t, br); !strings.HasPrefix(head, "HTTP/1.1 200 OK\r\n") {
		t.Fatalf("second head = %q; want 200", head)
	}
}

func TestTunnelNotOffered(t *testing.T) {
	for _, tc := range []struct {
		name, class, req string
	}{
		{"sync class", "sync", upgradeRequest},
		{"gthread class", "gthread", upgradeRequest},
		{"HTTP/1.0", "aiohttp", strings.Replace(upgradeRequest, "HTTP/1.1", "HTTP/1.0", 1)},
		{"with a body", "tornado", strings.Replace(upgradeRequest, "\r\n\r\n", "\r\nContent-Length: 2\r\n\r\nhi", 1)},
		{"no upgrade", "aiohttp", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr, fw := tunnelFront(t, tc.class, 1)
			nc, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nc.Close()
			io.WriteString(nc, tc.req)
			_, env := fw.request()
			if v, ok := env["gonicorn.tunnel"]; ok {
				t.Fatalf("head has gonicorn.tunnel = %v; want no tunnel offered", v)
			}
		})
	}
}

func TestTunnelClientResetSendsCancel(t *testing.T) {
	addr, fw := tunnelFront(t, "aiohttp", 10)
	nc, br := dialUpgrade(t, addr, "")
	id, _ := fw.request()
	fw.accept(id, 1<<20)
	readHead(t, br)
	nc.SetLinger(0)
	nc.Close() // RST: the connection broke
	if fr := fw.next(); fr.Type != wire.Cancel || fr.Stream != id {
		t.Fatalf("got %s; want CANCEL", wire.TypeName(fr.Type))
	}
}

func TestTunnelAbortClosesClient(t *testing.T) {
	addr, fw := tunnelFront(t, "tornado", 10)
	_, br := dialUpgrade(t, addr, "")
	id, _ := fw.request()
	fw.accept(id, 1<<20)
	readHead(t, br)
	fw.send(wire.RespBody, 0, id, []byte("last"))
	fw.send(wire.Abort, 0, id, []byte("app failed"))
	if rest, _ := io.ReadAll(br); string(rest) != "last" {
		t.Fatalf("client read %q; want %q then the connection closed", rest, "last")
	}
}

func TestTunnelHoldsItsSlot(t *testing.T) {
	addr, fw := tunnelFront(t, "aiohttp", 1)
	_, br := dialUpgrade(t, addr, "")
	id, _ := fw.request()
	fw.accept(id, 1<<20)
	readHead(t, br)
	get := func() string {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(nc, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		line, _ := bufio.NewReader(nc).ReadString('\n')
		return line
	}
	if line := get(); !strings.HasPrefix(line, "HTTP/1.1 503") {
		t.Fatalf("got %q while the tunnel holds the only slot; want 503", line)
	}
	fw.send(wire.RespBody, wire.FlagEnd, id, nil)
	io.ReadAll(br)
	done := make(chan string)
	go func() { done <- get() }()
	id2, _ := fw.request()
	fw.send(wire.Response, wire.FlagEnd, id2, responsePayload(t, "200 OK", [][2]string{{"Content-Length", "0"}}, ""))
	if line := <-done; !strings.HasPrefix(line, "HTTP/1.1 200") {
		t.Fatalf("got %q after the tunnel ended; want 200", line)
	}
}

func TestTunnelWorkerLostClosesClient(t *testing.T) {
	addr, fw := tunnelFront(t, "aiohttp", 10)
	_, br := dialUpgrade(t, addr, "")
	id, _ := fw.request()
	fw.accept(id, 1<<20)
	readHead(t, br)
	fw.peer.Close()
	if rest, err := io.ReadAll(br); err != nil || len(rest) != 0 {
		t.Fatalf("client read %q, %v; want EOF", rest, err)
	}
}

func TestOfferTunnel(t *testing.T) {
	env := wire.AppendDictStart(nil)
	env = wire.AppendStr(env, "gonicorn.body")
	env = wire.AppendInt(env, 0)
	env = wire.AppendDictEnd(env)
	frame := wire.AppendHeader(nil, wire.Request, wire.FlagEnd, 7, uint32(4+len(env)))
	frame = wire.AppendHeadLen(frame, uint32(len(env)))
	frame = append(frame, env...)
	frame = offerTunnel(frame, 7)
	f, n, err := wire.Next(frame)
	if err != nil || n != len(frame) || f.Type != wire.Request || !f.End() || f.Stream != 7 {
		t.Fatalf("Next = %+v, %d, %v; want one whole REQUEST frame with END on stream 7", f.Header, n, err)
	}
	head, body, err := wire.SplitHead(f.Payload)
	if err != nil || len(body) != 0 {
		t.Fatalf("SplitHead: body %q, %v", body, err)
	}
	v, used, err := wire.Unmarshal(head)
	if err != nil || used != len(head) {
		t.Fatalf("Unmarshal = %v, %d of %d, %v", v, used, len(head), err)
	}
	got := fmt.Sprint(v)
	if want := "map[gonicorn.body:0 gonicorn.tunnel:true]"; got != want {
		t.Fatalf("head = %s; want %s", got, want)
	}
}
