package h2

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// testServer serves h2c on a loopback listener and joins every
// connection when the test ends.
type testServer struct {
	ln    net.Listener
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns []*Conn
	errs  []error
}

func startServer(t *testing.T, cfg Config, h Handler) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ts := &testServer{ln: ln}
	ts.wg.Add(1)
	go func() {
		defer ts.wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			c := NewConn(nc, cfg, h)
			ts.mu.Lock()
			ts.conns = append(ts.conns, c)
			ts.mu.Unlock()
			ts.wg.Add(1)
			go func() {
				defer ts.wg.Done()
				err := c.Serve()
				ts.mu.Lock()
				ts.errs = append(ts.errs, err)
				ts.mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		ts.mu.Lock()
		for _, c := range ts.conns {
			c.Shutdown()
		}
		ts.mu.Unlock()
		done := make(chan struct{})
		go func() { ts.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Errorf("connections still running 10 s after the test")
		}
	})
	return ts
}

func (ts *testServer) url(path string) string { return "http://" + ts.ln.Addr().String() + path }

func h2cClient() *http.Client {
	return &http.Client{Transport: &http2.Transport{
		AllowHTTP: true,
		DialTLSContext: func(ctx context.Context, network, addr string, _ *tls.Config) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		},
	}}
}

func echoHandler(s *Stream) {
	r := s.Request()
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s %s cl=%d\n", r.Method, r.Scheme, r.Authority, r.Path, r.ContentLength)
	for _, f := range r.Fields {
		fmt.Fprintf(&b, "%s: %s\n", f.Name, f.Value)
	}
	n := int64(0)
	if body := s.Body(); body != nil {
		n, _ = io.Copy(io.Discard, body)
	}
	fmt.Fprintf(&b, "body=%d\n", n)
	s.WriteHeader(200, []Field{{"content-type", "text/plain"}, {"X-Upper", "kept lower-cased"}})
	s.Write([]byte(b.String()))
	s.End(nil)
}

func TestRequestReachesHandler(t *testing.T) {
	ts := startServer(t, Config{}, echoHandler)
	c := h2cClient()
	req, _ := http.NewRequest("GET", ts.url("/a/b?c=d"), nil)
	req.Header.Set("X-Custom", "v1")
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.ProtoMajor != 2 {
		t.Fatalf("got %d %s; want 200 HTTP/2.0", res.StatusCode, res.Proto)
	}
	want := "GET http " + ts.ln.Addr().String() + " /a/b?c=d cl=-1\n"
	if !strings.HasPrefix(string(got), want) || !strings.Contains(string(got), "x-custom: v1\n") || !strings.Contains(string(got), "body=0\n") {
		t.Errorf("got %q; want it to start with %q and carry x-custom and body=0", got, want)
	}
	if v := res.Header.Get("X-Upper"); v != "kept lower-cased" {
		t.Errorf("response field: got %q; want %q", v, "kept lower-cased")
	}
}

// TestBodiesBothWays sends and receives bodies many windows long, so
// that flow control runs both ways.
func TestBodiesBothWays(t *testing.T) {
	ts := startServer(t, Config{}, func(s *Stream) {
		data, err := io.ReadAll(s.Body())
		if err != nil {
			s.Reset(ErrCodeInternal)
			return
		}
		s.WriteHeader(200, nil)
		for i := 0; i < 3; i++ {
			if _, err := s.Write(data); err != nil {
				return
			}
		}
		s.End(nil)
	})
	body := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB
	res, err := h2cClient().Post(ts.url("/"), "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if want := bytes.Repeat(body, 3); !bytes.Equal(got, want) {
		t.Errorf("got %d bytes back; want %d, the body three times", len(got), len(want))
	}
}

func TestStreamsRunConcurrently(t *testing.T) {
	const n = 20
	var running, peak atomic.Int32
	gate := make(chan struct{})
	ts := startServer(t, Config{}, func(s *Stream) {
		if v := running.Add(1); v > peak.Load() {
			peak.Store(v)
		}
		if running.Load() == n {
			close(gate)
		}
		select {
		case <-gate:
		case <-time.After(5 * time.Second):
		}
		running.Add(-1)
		s.WriteHeader(204, nil)
		s.End(nil)
	})
	c := h2cClient()
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := c.Get(ts.url("/"))
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
		}()
	}
	wg.Wait()
	if got := peak.Load(); got != n {
		t.Errorf("peak concurrent handlers: got %d; want %d", got, n)
	}
	ts.mu.Lock()
	conns := len(ts.conns)
	ts.mu.Unlock()
	if conns != 1 {
		t.Errorf("connections: got %d; want 1 (the streams should share one)", conns)
	}
}

func TestClientResetFiresDone(t *testing.T) {
	started := make(chan struct{})
	result := make(chan error, 1)
	ts := startServer(t, Config{}, func(s *Stream) {
		close(started)
		select {
		case <-s.Done():
			result <- s.Err()
		case <-time.After(5 * time.Second):
			result <- errors.New("Done did not fire")
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.url("/"), nil)
	go func() {
		<-started
		cancel()
	}()
	if _, err := h2cClient().Do(req); err == nil {
		t.Fatal("the request succeeded; want it cancelled")
	}
	if err := <-result; err != ErrStreamReset {
		t.Errorf("got %v; want %v", err, ErrStreamReset)
	}
}

func TestTrailersAndEarlyHints(t *testing.T) {
	ts := startServer(t, Config{}, func(s *Stream) {
		s.WriteInfo(103, []Field{{"link", "</a.css>; rel=preload"}})
		s.WriteHeader(200, []Field{{"trailer", "x-sum"}})
		s.Write([]byte("body"))
		s.End([]Field{{"x-sum", "42"}})
	})
	var hints []string
	trace := &httptrace.ClientTrace{Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
		hints = append(hints, fmt.Sprint(code, " ", h.Get("Link")))
		return nil
	}}
	req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(context.Background(), trace), "GET", ts.url("/"), nil)
	res, err := h2cClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if string(b) != "body" || res.Trailer.Get("X-Sum") != "42" {
		t.Errorf("got body %q trailer %q; want %q and %q", b, res.Trailer.Get("X-Sum"), "body", "42")
	}
	if len(hints) != 1 || hints[0] != "103 </a.css>; rel=preload" {
		t.Errorf("early hints: got %q; want one 103 with the link", hints)
	}
}

// TestSlowHandlerHoldsUpload checks receive flow control: a handler
// that does not read lets only about a window of the body in.
func TestSlowHandlerHoldsUpload(t *testing.T) {
	release := make(chan struct{})
	ts := startServer(t, Config{InitialWindowSize: 65535}, func(s *Stream) {
		<-release
		n, _ := io.Copy(io.Discard, s.Body())
		s.WriteHeader(200, nil)
		s.Write([]byte(fmt.Sprint(n)))
		s.End(nil)
	})
	var sent atomic.Int64
	body := &countingReader{n: 4 << 20, sent: &sent}
	done := make(chan string, 1)
	go func() {
		res, err := h2cClient().Post(ts.url("/"), "application/octet-stream", body)
		if err != nil {
			done <- err.Error()
			return
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		done <- string(b)
	}()
	time.Sleep(300 * time.Millisecond)
	if got := sent.Load(); got > 256<<10 {
		t.Errorf("the client sent %d bytes to a handler that reads nothing; want about one window (64 KiB)", got)
	}
	close(release)
	if got := <-done; got != fmt.Sprint(4<<20) {
		t.Errorf("got %q; want the whole body counted", got)
	}
}

type countingReader struct {
	n    int64
	sent *atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := int64(len(p))
	if k > r.n {
		k = r.n
	}
	r.n -= k
	r.sent.Add(k)
	return int(k), nil
}

func TestShutdownClosesIdleConnection(t *testing.T) {
	ts := startServer(t, Config{}, echoHandler)
	c := h2cClient()
	res, err := c.Get(ts.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	ts.mu.Lock()
	conn := ts.conns[0]
	ts.mu.Unlock()
	conn.Shutdown()
	deadline := time.Now().Add(5 * time.Second)
	for {
		ts.mu.Lock()
		n := len(ts.errs)
		ts.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("Serve did not return after Shutdown of an idle connection")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ts.errs[0] != nil {
		t.Errorf("Serve: got %v; want nil after Shutdown", ts.errs[0])
	}
}

func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, Config{IdleTimeout: 100 * time.Millisecond}, echoHandler)
	nc, err := net.Dial("tcp", ts.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	rc := newRawClient(t, nc)
	rc.handshake()
	f := rc.waitFor(func(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok })
	if ga := f.(*http2.GoAwayFrame); ga.ErrCode != http2.ErrCodeNo {
		t.Errorf("got GOAWAY %v; want NO_ERROR", ga.ErrCode)
	}
}

// rawClient speaks frames to the server, to provoke the errors a real
// client does not make.
type rawClient struct {
	t   *testing.T
	nc  net.Conn
	fr  *http2.Framer
	enc *hpack.Encoder
	buf bytes.Buffer
}

func newRawClient(t *testing.T, nc net.Conn) *rawClient {
	rc := &rawClient{t: t, nc: nc, fr: http2.NewFramer(nc, nc)}
	rc.fr.AllowIllegalWrites = true
	rc.enc = hpack.NewEncoder(&rc.buf)
	return rc
}

func (rc *rawClient) handshake(ss ...http2.Setting) {
	io.WriteString(rc.nc, clientPreface)
	rc.fr.WriteSettings(ss...)
	rc.waitFor(func(f http2.Frame) bool {
		sf, ok := f.(*http2.SettingsFrame)
		return ok && sf.IsAck()
	})
}

func (rc *rawClient) block(kv ...string) []byte {
	rc.buf.Reset()
	for i := 0; i < len(kv); i += 2 {
		rc.enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
	}
	return append([]byte(nil), rc.buf.Bytes()...)
}

func (rc *rawClient) get(extra ...string) []byte {
	return rc.block(append([]string{":method", "GET", ":scheme", "http", ":path", "/", ":authority", "x"}, extra...)...)
}

// waitFor reads frames until one matches, acknowledging SETTINGS.
func (rc *rawClient) waitFor(match func(http2.Frame) bool) http2.Frame {
	rc.t.Helper()
	rc.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
	for {
		f, err := rc.fr.ReadFrame()
		if err != nil {
			rc.t.Fatalf("reading frames: %v", err)
		}
		if sf, ok := f.(*http2.SettingsFrame); ok && !sf.IsAck() {
			rc.fr.WriteSettingsAck()
		}
		if match(f) {
			return f
		}
	}
}

func isRST(id uint32, code http2.ErrCode) func(http2.Frame) bool {
	return func(f http2.Frame) bool {
		r, ok := f.(*http2.RSTStreamFrame)
		return ok && r.StreamID == id && r.ErrCode == code
	}
}

func isGoAway(f http2.Frame) bool { _, ok := f.(*http2.GoAwayFrame); return ok }

func endsStream(id uint32) func(http2.Frame) bool {
	return func(f http2.Frame) bool {
		switch f := f.(type) {
		case *http2.DataFrame:
			return f.StreamID == id && f.StreamEnded()
		case *http2.HeadersFrame:
			return f.StreamID == id && f.StreamEnded()
		}
		return false
	}
}

func rawConn(t *testing.T, cfg Config, h Handler) *rawClient {
	ts := startServer(t, cfg, h)
	nc, err := net.Dial("tcp", ts.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return newRawClient(t, nc)
}

func TestProtocolErrors(t *testing.T) {
	tests := []struct {
		name string
		run  func(rc *rawClient) http2.Frame
		want func(http2.Frame) bool
	}{
		{"connection-specific field", func(rc *rawClient) http2.Frame {
			rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: rc.get("connection", "keep-alive"), EndStream: true, EndHeaders: true})
			return nil
		}, isRST(1, http2.ErrCodeProtocol)},
		{"te gzip", func(rc *rawClient) http2.Frame {
			rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: rc.get("te", "gzip"), EndStream: true, EndHeaders: true})
			return nil
		}, isRST(1, http2.ErrCodeProtocol)},
		{"content-length above DATA", func(rc *rawClient) http2.Frame {
			rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: rc.get("content-length", "10"), EndHeaders: true})
			rc.fr.WriteData(1, true, []byte("short"))
			return nil
		}, isRST(1, http2.ErrCodeProtocol)},
		{"DATA on idle stream", func(rc *rawClient) http2.Frame {
			rc.fr.WriteData(3, true, []byte("x"))
			return nil
		}, isGoAway},
		{"zero WINDOW_UPDATE on an idle stream", func(rc *rawClient) http2.Frame {
			rc.fr.WriteWindowUpdate(3, 0)
			return nil
		}, isGoAway},
		{"self dependency", func(rc *rawClient) http2.Frame {
			rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 5, BlockFragment: rc.get(), EndHeaders: true})
			rc.fr.WritePriority(5, http2.PriorityParam{StreamDep: 5, Weight: 1})
			return nil
		}, isRST(5, http2.ErrCodeProtocol)},
		{"self dependency of an idle stream", func(rc *rawClient) http2.Frame {
			rc.fr.WritePriority(5, http2.PriorityParam{StreamDep: 5, Weight: 1})
			return nil
		}, isGoAway},
		{"over the stream limit", func(rc *rawClient) http2.Frame {
			rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: rc.get(), EndHeaders: true})
			rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: rc.get(), EndHeaders: true})
			return nil
		}, isRST(3, http2.ErrCodeRefusedStream)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc := rawConn(t, Config{MaxConcurrentStreams: 1}, func(s *Stream) {
				io.Copy(io.Discard, s.Body())
				<-s.Done()
			})
			rc.handshake()
			tt.run(rc)
			rc.waitFor(tt.want)
		})
	}
}

// TestRepeatedInitialWindowSize is h2spec 6.5.3: the values of one
// SETTINGS frame apply in order, so the last one is the window.
func TestRepeatedInitialWindowSize(t *testing.T) {
	rc := rawConn(t, Config{}, func(s *Stream) {
		s.WriteHeader(200, nil)
		s.Write([]byte("abc"))
		s.End(nil)
	})
	rc.handshake(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 100}, http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1})
	rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: rc.get(), EndStream: true, EndHeaders: true})
	f := rc.waitFor(func(f http2.Frame) bool { _, ok := f.(*http2.DataFrame); return ok })
	if d := f.(*http2.DataFrame); len(d.Data()) != 1 {
		t.Errorf("first DATA: got %d bytes; want 1 (the window of the second value)", len(d.Data()))
	}
	rc.fr.WriteWindowUpdate(1, 10)
	rc.waitFor(endsStream(1))
}

func TestInvalidPrefaceGetsGoAway(t *testing.T) {
	rc := rawConn(t, Config{}, echoHandler)
	io.WriteString(rc.nc, "INVALID CONNECTION PREFACE\r\n\r\n")
	f := rc.waitFor(isGoAway)
	if ga := f.(*http2.GoAwayFrame); ga.ErrCode != http2.ErrCodeProtocol {
		t.Errorf("got GOAWAY %v; want PROTOCOL_ERROR", ga.ErrCode)
	}
}

func TestUpgrade(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	got := make(chan string, 1)
	c := NewConn(a, Config{}, func(s *Stream) {
		r := s.Request()
		body, _ := io.ReadAll(s.Body())
		got <- fmt.Sprintf("%s %s %s %q", r.Method, r.Path, r.Authority, body)
		s.WriteHeader(200, nil)
		s.Write([]byte("ok"))
		s.End(nil)
	})
	settings := appendSettings(nil, []http2.Setting{{ID: http2.SettingInitialWindowSize, Val: 1 << 20}})[frameHeaderLen:]
	served := make(chan error, 1)
	go func() {
		served <- c.ServeUpgrade(&Upgrade{Settings: settings, Request: Request{Method: "POST", Scheme: "http", Authority: "h", Path: "/up", ContentLength: 3}, Body: []byte("abc")})
	}()
	rc := newRawClient(t, b)
	io.WriteString(rc.nc, clientPreface)
	rc.fr.WriteSettings()
	rc.waitFor(endsStream(1))
	if s := <-got; s != `POST /up h "abc"` {
		t.Errorf("got %s; want the upgraded request with its body", s)
	}
	b.Close()
	if err := <-served; err != nil {
		t.Errorf("Serve: got %v; want nil after the client closed", err)
	}
}

func TestHandlerWithoutEndResetsStream(t *testing.T) {
	rc := rawConn(t, Config{}, func(s *Stream) {
		s.WriteHeader(200, nil)
		s.Write([]byte("partial"))
	})
	rc.handshake()
	rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: rc.get(), EndStream: true, EndHeaders: true})
	rc.waitFor(isRST(1, http2.ErrCodeInternal))
}

func TestHeaderListTooLarge(t *testing.T) {
	rc := rawConn(t, Config{MaxHeaderListSize: 1000}, echoHandler)
	rc.handshake()
	rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: rc.get("x-big", strings.Repeat("a", 2000)), EndStream: true, EndHeaders: true})
	f := rc.waitFor(func(f http2.Frame) bool { _, ok := f.(*http2.HeadersFrame); return ok })
	hf := f.(*http2.HeadersFrame)
	fields, err := hpack.NewDecoder(4096, nil).DecodeFull(hf.HeaderBlockFragment())
	if err != nil || len(fields) == 0 || fields[0].Value != "431" || !hf.StreamEnded() {
		t.Errorf("got %v (%v), END_STREAM %v; want :status 431 ending the stream", fields, err, hf.StreamEnded())
	}
}

// TestEndStreamOnLastFrame: a response without a body goes out as
// one HEADERS frame with END_STREAM, and a body's last DATA frame
// carries END_STREAM, instead of an empty DATA frame after it.
func TestEndStreamOnLastFrame(t *testing.T) {
	rc := rawConn(t, Config{}, func(s *Stream) {
		s.WriteHeader(204, nil)
		if s.Request().Path == "/body" {
			s.WriteHeader(200, nil) // refused: the head is set
			s.Write([]byte("abc"))
		}
		s.End(nil)
	})
	rc.handshake()
	rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: rc.get(), EndStream: true, EndHeaders: true})
	f := rc.waitFor(func(f http2.Frame) bool { return f.Header().StreamID == 1 })
	if hf, ok := f.(*http2.HeadersFrame); !ok || !hf.StreamEnded() {
		t.Errorf("bodiless: got %v; want one HEADERS with END_STREAM", f)
	}
	rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: rc.block(":method", "GET", ":scheme", "http", ":path", "/body", ":authority", "x"), EndStream: true, EndHeaders: true})
	rc.waitFor(func(f http2.Frame) bool { _, ok := f.(*http2.HeadersFrame); return ok && f.Header().StreamID == 3 })
	f = rc.waitFor(func(f http2.Frame) bool { return f.Header().StreamID == 3 })
	if df, ok := f.(*http2.DataFrame); !ok || !df.StreamEnded() || string(df.Data()) != "abc" {
		t.Errorf("with body: got %v; want DATA \"abc\" with END_STREAM", f)
	}
}

func TestLargeHeaderBlockUsesContinuation(t *testing.T) {
	big := strings.Repeat("v", 40000)
	ts := startServer(t, Config{}, func(s *Stream) {
		s.WriteHeader(200, []Field{{"x-big", big}})
		s.End(nil)
	})
	res, err := h2cClient().Get(ts.url("/"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if got := res.Header.Get("X-Big"); got != big {
		t.Errorf("got a %d-byte x-big; want %d bytes", len(got), len(big))
	}
}

func TestShutdownBeforeServe(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	go io.Copy(io.Discard, b)
	c := NewConn(a, Config{HeaderTimeout: time.Minute}, echoHandler)
	c.Shutdown()
	done := make(chan error, 1)
	go func() { done <- c.Serve() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: got %v; want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return for a connection shut down before it started")
	}
}

func BenchmarkGet(b *testing.B) {
	a, p := net.Pipe()
	c := NewConn(a, Config{}, func(s *Stream) {
		s.WriteHeader(200, []Field{{"content-type", "text/plain"}})
		s.Write([]byte("Hello, World!\n"))
		s.End(nil)
	})
	go c.Serve()
	defer p.Close()
	rc := newRawClient(&testing.T{}, p)
	io.WriteString(p, clientPreface)
	rc.fr.WriteSettings()
	block := rc.get()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := uint32(2*i + 1)
		rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndStream: true, EndHeaders: true})
		for {
			f, err := rc.fr.ReadFrame()
			if err != nil {
				b.Fatal(err)
			}
			if d, ok := f.(*http2.DataFrame); ok && d.StreamID == id && d.StreamEnded() {
				break
			}
			if sf, ok := f.(*http2.SettingsFrame); ok && !sf.IsAck() {
				rc.fr.WriteSettingsAck()
			}
		}
		if i%1000 == 999 {
			rc.fr.WriteWindowUpdate(0, 1<<20)
		}
	}
}

// TestRapidResetBounded: streams the client opens and resets at once
// (CVE-2023-44487) cannot start handlers without bound while the
// handlers of the reset streams still run.
func TestRapidResetBounded(t *testing.T) {
	gate := make(chan struct{})
	var running, peak atomic.Int32
	rc := rawConn(t, Config{MaxConcurrentStreams: 10}, func(s *Stream) {
		if v := running.Add(1); v > peak.Load() {
			peak.Store(v)
		}
		<-gate
		running.Add(-1)
	})
	defer close(gate)
	rc.handshake()
	block := rc.get()
	for id := uint32(1); id < 200; id += 2 {
		rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block, EndStream: true, EndHeaders: true})
		rc.fr.WriteRSTStream(id, http2.ErrCodeCancel)
	}
	rc.fr.WritePing(false, [8]byte{1})
	rc.waitFor(func(f http2.Frame) bool { p, ok := f.(*http2.PingFrame); return ok && p.IsAck() })
	time.Sleep(50 * time.Millisecond)
	if got := peak.Load(); got > 20 {
		t.Errorf("handlers running at once: got %d; want at most 2 x SETTINGS_MAX_CONCURRENT_STREAMS = 20", got)
	}
}
