package h2

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// FuzzConn feeds the client preface and then the fuzzer's bytes to a
// Conn. Whatever the bytes, Serve must return once the client is gone,
// must not panic, must send only frames a client can parse and stream
// states allow (streamChecker), and must leave no goroutine behind.
//
//	go test -run=^$ -fuzz=FuzzConn -fuzztime=60s ./internal/front/h2/
func FuzzConn(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		before := runtime.NumGoroutine()
		fuzzConn(t, data)
		checkGoroutines(t, before)
	})
}

// fuzzConfig is small in every dimension, so that short inputs reach the
// limits: the stream limit, the header list limit, the windows and the
// timers.
var fuzzConfig = Config{
	MaxConcurrentStreams: 3,
	InitialWindowSize:    1000,
	MaxHeaderListSize:    2048,
	IdleTimeout:          25 * time.Millisecond,
	HeaderTimeout:        50 * time.Millisecond,
	settingsTimeout:      8 * time.Millisecond, // within fuzzWait
}

// fuzzHandler reads the body and answers; the path picks the kind of
// answer, so that the seeds cover every response method.
func fuzzHandler(s *Stream) {
	if b := s.Body(); b != nil {
		io.Copy(io.Discard, b)
		s.Trailers()
	}
	switch s.Request().Path {
	case "/reset":
		s.Reset(ErrCodeCancel)
		return
	case "/noend":
		s.WriteHeader(200, nil)
		s.Write([]byte("partial"))
		return // the Conn resets it
	case "/big": // more than any window: Write waits for WINDOW_UPDATE
		s.WriteHeader(200, nil)
		s.Write(make([]byte, 100<<10))
		s.End(nil)
		return
	case "/trailers":
		s.WriteInfo(103, []Field{{"link", "</a>; rel=preload"}})
		s.WriteHeader(200, []Field{{"trailer", "x-t"}})
		s.Write([]byte("body"))
		s.Flush()
		s.End([]Field{{"x-t", "1"}})
		return
	case "/done":
		<-s.Done()
		return
	}
	s.WriteHeader(200, []Field{{"content-type", "text/plain"}})
	s.Write([]byte("hello\n"))
	s.End(nil)
}

// fuzzPing ends every input: its ACK tells the client that the server
// has processed everything before it.
var fuzzPing = [8]byte{'f', 'u', 'z', 'z', 'p', 'i', 'n', 'g'}

func isFuzzPingAck(f http2.Frame) bool {
	p, ok := f.(*http2.PingFrame)
	return ok && p.IsAck() && p.Data == fuzzPing
}

// fuzzWait is how long the client waits for that ACK (an input may end
// inside a frame, which swallows the PING) before it hangs up.
const fuzzWait = 10 * time.Millisecond

func fuzzConn(t *testing.T, data []byte) {
	a, b := net.Pipe()
	c := NewConn(a, fuzzConfig, fuzzHandler)
	served := make(chan error, 1)
	go func() { served <- c.Serve() }()

	// The client's reader parses everything the server sends, header
	// blocks included: a frame it cannot parse, or one that breaks the
	// stream states, is a bug of the server.
	acked := make(chan struct{})
	var (
		hungUp  sync.Mutex
		closed  bool
		readErr error
	)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		fr := http2.NewFramer(nil, b)
		fr.SetMaxReadFrameSize(maxMaxFrameSize)
		fr.ReadMetaHeaders = hpack.NewDecoder(defaultTableSize, nil)
		fr.MaxHeaderListSize = 1 << 20
		var sc streamChecker
		pinged := false
		for {
			f, err := fr.ReadFrame()
			if err == nil {
				err = sc.check(f)
			}
			if err != nil {
				hungUp.Lock()
				if !closed && !errors.Is(err, io.EOF) {
					readErr = err
				}
				hungUp.Unlock()
				io.Copy(io.Discard, b)
				return
			}
			// After GOAWAY the server reads on only to drop the input.
			if isGoAway(f) || isFuzzPingAck(f) {
				if !pinged {
					close(acked)
					pinged = true
				}
			}
		}
	}()

	in := append([]byte(clientPreface), data...)
	in = appendFrameHeader(in, 8, http2.FramePing, 0, 0)
	in = append(in, fuzzPing[:]...)
	writeDone := make(chan struct{})
	go func() {
		defer close(writeDone)
		b.Write(in) // fails once the server hangs up first
	}()

	var err error
	ended := false
	select {
	case <-acked:
	case err = <-served:
		ended = true
	case <-time.After(fuzzWait):
	}
	hungUp.Lock()
	closed = true
	hungUp.Unlock()
	b.Close()
	if !ended {
		select {
		case err = <-served:
		case <-time.After(10 * time.Second):
			t.Fatalf("Serve still running 10 s after the client hung up\n%s", goroutines())
		}
	}
	<-writeDone
	<-readDone
	var ce connError
	if err != nil && !errors.As(err, &ce) {
		t.Errorf("Serve: got %v; want nil or a connection error", err)
	}
	if readErr != nil {
		t.Errorf("the server sent an invalid frame: %v", readErr)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.streams) != 0 || c.handlers != 0 || c.waiters != 0 {
		t.Errorf("after Serve: %d streams, %d handlers, %d waiters; want none", len(c.streams), c.handlers, c.waiters)
	}
}

// streamChecker follows the server's side of each stream (RFC 9113
// §5.1, §8.1): a response is zero or more 1xx heads, one final head,
// DATA, and optional trailers; nothing follows END_STREAM but
// RST_STREAM, and nothing follows RST_STREAM. The server forgets a
// stream it reset after maxRecentResets more resets, and may answer a
// frame on it with RST_STREAM again then; so may the checker.
type streamChecker struct {
	streams map[uint32]*checkedStream
	resets  []uint32 // the last maxRecentResets streams reset
	next    int
}

func (sc *streamChecker) recentlyReset(id uint32) bool {
	for _, r := range sc.resets {
		if r == id {
			return true
		}
	}
	return false
}

func (sc *streamChecker) noteReset(id uint32) {
	if len(sc.resets) < maxRecentResets {
		sc.resets = append(sc.resets, id)
		return
	}
	sc.resets[sc.next] = id
	sc.next = (sc.next + 1) % maxRecentResets
}

type checkedStream struct {
	final, ended, reset bool
}

func (sc *streamChecker) check(f http2.Frame) error {
	id := f.Header().StreamID
	switch f.(type) {
	case *http2.MetaHeadersFrame, *http2.DataFrame, *http2.RSTStreamFrame:
	default:
		return nil
	}
	if id%2 == 0 {
		return fmt.Errorf("%v on stream %d, which no client can open", f.Header().Type, id)
	}
	if sc.streams == nil {
		sc.streams = make(map[uint32]*checkedStream)
	}
	st := sc.streams[id]
	if st == nil {
		st = &checkedStream{}
		sc.streams[id] = st
	}
	_, isRST := f.(*http2.RSTStreamFrame)
	if st.reset && (!isRST || sc.recentlyReset(id)) {
		return fmt.Errorf("%v on stream %d after RST_STREAM", f.Header().Type, id)
	}
	switch f := f.(type) {
	case *http2.RSTStreamFrame:
		st.reset = true
		sc.noteReset(id)
		return nil
	case *http2.DataFrame:
		switch {
		case st.ended:
			return fmt.Errorf("DATA on stream %d after END_STREAM", id)
		case !st.final:
			return fmt.Errorf("DATA on stream %d before the final response head", id)
		}
		st.ended = f.StreamEnded()
	case *http2.MetaHeadersFrame:
		status := f.PseudoValue("status")
		switch {
		case st.ended:
			return fmt.Errorf("HEADERS on stream %d after END_STREAM", id)
		case status == "" && (!st.final || !f.StreamEnded()):
			return fmt.Errorf("HEADERS without :status on stream %d: only trailers, with END_STREAM, may omit it", id)
		case status != "" && st.final:
			return fmt.Errorf("a second response head (:status %s) on stream %d", status, id)
		case len(status) == 3 && status[0] == '1' && f.StreamEnded():
			return fmt.Errorf("informational response %s ends stream %d", status, id)
		}
		st.final = st.final || (status != "" && status[0] != '1')
		st.ended = f.StreamEnded()
	}
	return nil
}

// checkGoroutines fails the test if more goroutines are running than
// before it, once those on their way out have had time to exit.
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines running after Serve returned; want %d\n%s", runtime.NumGoroutine(), before, goroutines())
		}
		time.Sleep(time.Millisecond)
	}
}

func goroutines() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// fuzzSeeds are valid conversations that touch every frame type.
func fuzzSeeds() [][]byte {
	var seeds [][]byte
	var buf bytes.Buffer
	fr := http2.NewFramer(&buf, nil)
	fr.AllowIllegalWrites = true
	var hbuf bytes.Buffer
	enc := hpack.NewEncoder(&hbuf)
	block := func(path string, kv ...string) []byte {
		hbuf.Reset()
		kv = append([]string{":method", "POST", ":scheme", "https", ":path", path, ":authority", "example.com"}, kv...)
		for i := 0; i < len(kv); i += 2 {
			enc.WriteField(hpack.HeaderField{Name: kv[i], Value: kv[i+1]})
		}
		return append([]byte(nil), hbuf.Bytes()...)
	}
	start := func(ss ...http2.Setting) {
		buf.Reset()
		hbuf.Reset()
		enc = hpack.NewEncoder(&hbuf)
		fr.WriteSettings(ss...)
		fr.WriteSettingsAck()
	}
	done := func() { seeds = append(seeds, append([]byte(nil), buf.Bytes()...)) }

	// A GET without a body.
	start()
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block("/"), EndStream: true, EndHeaders: true})
	done()

	// A POST with a body in two DATA frames, one padded, and window
	// updates both ways.
	start(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 1 << 20}, http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1 << 15})
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block("/", "content-length", "10"), EndHeaders: true})
	fr.WriteData(1, false, []byte("01234"))
	fr.WriteDataPadded(1, true, []byte("56789"), []byte{0, 0, 0})
	fr.WriteWindowUpdate(0, 1<<16)
	fr.WriteWindowUpdate(1, 1<<16)
	done()

	// A header block split into HEADERS and CONTINUATION, with priority.
	start()
	bl := block("/", "x-long", strings.Repeat("v", 40))
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: bl[:10], EndStream: true, Priority: http2.PriorityParam{StreamDep: 0, Weight: 15}})
	fr.WriteContinuation(1, false, bl[10:20])
	fr.WriteContinuation(1, true, bl[20:])
	fr.WritePriority(3, http2.PriorityParam{StreamDep: 1, Weight: 200, Exclusive: true})
	done()

	// Request trailers, then a response with 103 and trailers.
	start()
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block("/trailers", "te", "trailers"), EndHeaders: true})
	fr.WriteData(1, false, []byte("body"))
	hbuf.Reset()
	enc.WriteField(hpack.HeaderField{Name: "x-sum", Value: "42"})
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: hbuf.Bytes(), EndStream: true, EndHeaders: true})
	done()

	// A response larger than the window, let through by WINDOW_UPDATE.
	start()
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block("/big"), EndStream: true, EndHeaders: true})
	fr.WriteWindowUpdate(0, 1<<20)
	fr.WriteWindowUpdate(1, 1<<20)
	done()

	// Streams reset by the client and by the handler, a handler that
	// does not End, PING and GOAWAY.
	start(http2.Setting{ID: http2.SettingHeaderTableSize, Val: 0}, http2.Setting{ID: http2.SettingEnablePush, Val: 0})
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block("/done"), EndHeaders: true})
	fr.WriteRSTStream(1, http2.ErrCodeCancel)
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: block("/reset"), EndStream: true, EndHeaders: true})
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 5, BlockFragment: block("/noend"), EndStream: true, EndHeaders: true})
	fr.WritePing(false, [8]byte{1, 2, 3, 4, 5, 6, 7, 8})
	fr.WriteGoAway(0, http2.ErrCodeNo, []byte("bye"))
	done()

	// More streams than SETTINGS_MAX_CONCURRENT_STREAMS, and a header
	// list over SETTINGS_MAX_HEADER_LIST_SIZE (431).
	start()
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block("/", "x-big", strings.Repeat("b", 3000)), EndStream: true, EndHeaders: true})
	for id := uint32(3); id <= 11; id += 2 {
		fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: block("/done"), EndHeaders: true})
	}
	done()

	// A client that changes SETTINGS_INITIAL_WINDOW_SIZE mid-response and
	// sends an unknown frame type.
	start(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 10})
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: block("/big"), EndStream: true, EndHeaders: true})
	fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: 100000})
	fr.WriteRawFrame(0xfa, 0, 0, []byte("unknown"))
	fr.WriteWindowUpdate(0, 1<<20)
	done()
	return seeds
}
