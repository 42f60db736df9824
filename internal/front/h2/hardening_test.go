package h2

import (
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/net/http2"
)

// pipeConn runs a Conn over net.Pipe; the test is the client. served
// waits for Serve's result.
func pipeConn(t *testing.T, cfg Config, h Handler) (c *Conn, rc *rawClient, served func() error) {
	t.Helper()
	a, b := net.Pipe()
	c = NewConn(a, cfg, h)
	done := make(chan struct{})
	var err error
	go func() {
		defer close(done)
		err = c.Serve()
	}()
	served = func() error {
		select {
		case <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatalf("Serve still running after 10 s")
			return nil
		}
	}
	t.Cleanup(func() {
		b.Close()
		served()
	})
	return c, newRawClient(t, b), served
}

func TestSettingsTimeout(t *testing.T) {
	tests := []struct {
		name    string
		ack     bool
		wantErr bool // GOAWAY(SETTINGS_TIMEOUT), and Serve reports it
	}{
		{"acknowledged", true, false},
		{"never acknowledged", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, rc, served := pipeConn(t, Config{settingsTimeout: 100 * time.Millisecond}, echoHandler)
			io.WriteString(rc.nc, clientPreface)
			rc.fr.WriteSettings()
			if tt.ack {
				rc.fr.WriteSettingsAck()
			}
			// Well past the timeout, PING tells whether the connection
			// is still up.
			time.Sleep(300 * time.Millisecond)
			go rc.fr.WritePing(false, [8]byte{7})
			var goAway *http2.GoAwayFrame
			rc.nc.SetReadDeadline(time.Now().Add(3 * time.Second))
			for goAway == nil {
				f, err := rc.fr.ReadFrame()
				if err != nil {
					t.Fatalf("reading frames: %v", err)
				}
				if p, ok := f.(*http2.PingFrame); ok && p.IsAck() {
					break
				}
				goAway, _ = f.(*http2.GoAwayFrame)
			}
			if !tt.wantErr {
				if goAway != nil {
					t.Fatalf("got GOAWAY %v; want the connection up after the client's ACK", goAway.ErrCode)
				}
				return
			}
			if goAway == nil || goAway.ErrCode != http2.ErrCodeSettingsTimeout {
				t.Fatalf("got %v; want GOAWAY SETTINGS_TIMEOUT", goAway)
			}
			rc.nc.Close()
			var ce connError
			if err := served(); !errors.As(err, &ce) || ce.code != http2.ErrCodeSettingsTimeout {
				t.Errorf("Serve: got %v; want a SETTINGS_TIMEOUT connection error", err)
			}
		})
	}
}

// TestServeJoinsTimerCallback: a timer callback that has fired holds
// Serve back until it returns, so that nothing of the Conn runs after
// Serve.
func TestServeJoinsTimerCallback(t *testing.T) {
	fired := make(chan struct{}, 1)
	release := make(chan struct{})
	testHookTimerFired = func() {
		select {
		case fired <- struct{}{}:
			<-release
		default:
		}
	}
	t.Cleanup(func() { testHookTimerFired = nil })
	a, b := net.Pipe()
	c := NewConn(a, Config{IdleTimeout: time.Millisecond}, echoHandler)
	go io.Copy(io.Discard, b)
	served := make(chan error, 1)
	go func() { served <- c.Serve() }()
	select {
	case <-fired:
	case <-time.After(5 * time.Second):
		t.Fatal("the idle timer did not fire")
	}
	b.Close() // Serve ends with the idle callback held in the hook
	select {
	case <-served:
		close(release)
		t.Fatal("Serve returned while the idle timer's callback was running")
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	select {
	case <-served:
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return once the idle timer's callback had")
	}
}

// TestFramesAfterOurResetIgnored: what the client sent on a stream
// before it saw our RST_STREAM is dropped (RFC 9113 §5.1, "closed"): no
// second RST_STREAM, and trailers do not end the connection.
func TestFramesAfterOurResetIgnored(t *testing.T) {
	_, rc, _ := pipeConn(t, Config{}, echoHandler)
	rc.handshake()
	// A connection-specific field makes the request malformed.
	rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: rc.get("connection", "close"), EndHeaders: true})
	rc.waitFor(isRST(1, http2.ErrCodeProtocol))
	go func() {
		rc.fr.WriteData(1, false, []byte("body"))
		rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: rc.block("x-trailer", "1"), EndStream: true, EndHeaders: true})
		rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: rc.get(), EndStream: true, EndHeaders: true})
	}()
	f := rc.waitFor(func(f http2.Frame) bool {
		switch f.(type) {
		case *http2.RSTStreamFrame, *http2.GoAwayFrame:
			return true
		}
		return f.Header().StreamID == 3
	})
	if _, ok := f.(*http2.HeadersFrame); !ok {
		t.Errorf("got %v; want the response to stream 3 and nothing for stream 1", f)
	}
}

// TestResetFloodBounded: stream errors are answered with RST_STREAM; a
// client that provokes them without reading the answers gets
// ENHANCE_YOUR_CALM before the answers pile up without bound.
func TestResetFloodBounded(t *testing.T) {
	c, rc, served := pipeConn(t, Config{}, echoHandler)
	io.WriteString(rc.nc, clientPreface)
	rc.fr.WriteSettings()
	// Stream 2001 makes every lower stream closed. A PRIORITY frame that
	// makes a closed stream depend on itself is a stream error; going
	// round 1000 of them, each has been forgotten (maxRecentResets) by
	// the time it comes again, and gets RST_STREAM again. The client
	// writes them and reads nothing.
	rc.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 2001, BlockFragment: rc.get(), EndStream: true, EndHeaders: true})
	frame := []byte{0, 0, 5, byte(http2.FramePriority), 0, 0, 0, 0, 0, 0, 0, 0, 0, 15}
	batch := make([]byte, 0, 1000*len(frame))
	for id := uint32(1); id < 2000; id += 2 {
		frame[5], frame[6], frame[7], frame[8] = byte(id>>24), byte(id>>16), byte(id>>8), byte(id)
		frame[9], frame[10], frame[11], frame[12] = byte(id>>24), byte(id>>16), byte(id>>8), byte(id)
		batch = append(batch, frame...)
	}
	wrote := make(chan int, 1)
	go func() {
		n := 0
		for ; n < 1000; n++ { // 14 MB in, 13 MB of RST_STREAM out
			if _, err := rc.nc.Write(batch); err != nil {
				break
			}
		}
		wrote <- n
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		closed, pending := c.closed, len(c.out)
		c.mu.Unlock()
		if closed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still open after 10 s with %d bytes queued for a client that reads nothing", pending)
		}
		time.Sleep(5 * time.Millisecond)
	}
	go io.Copy(io.Discard, rc.nc) // let the writer finish
	if n := <-wrote; n == 1000 {
		t.Errorf("the server read all %d stream errors; want it to stop at the backlog limit", n*1000)
	}
	var ce connError
	if err := served(); !errors.As(err, &ce) || ce.code != http2.ErrCodeEnhanceYourCalm {
		t.Errorf("Serve: got %v; want an ENHANCE_YOUR_CALM connection error", err)
	}
}
