package h2

import (
	"bufio"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Handler serves one stream on its own goroutine. It answers with the
// Stream's response methods and ends with End or Reset; a stream whose
// handler returns without End is reset (INTERNAL_ERROR).
type Handler func(*Stream)

// Upgrade is an HTTP/1.1 request that asked for h2c (RFC 7540 §3.2) and
// got 101: it becomes stream 1, half-closed (remote).
type Upgrade struct {
	Settings []byte // the HTTP2-Settings payload, from DecodeSettingsHeader
	Request  Request
	Body     []byte // the request body, read in full before the 101
}

// Conn is one HTTP/2 server connection.
type Conn struct {
	nc      net.Conn
	br      *bufio.Reader
	rd      recorder
	fr      *http2.Framer
	dec     *hpack.Decoder
	cfg     Config
	handler Handler

	// Reader-only state.
	hb          headerBlock
	b           builder
	sawSettings bool // the client's first frame was SETTINGS
	headersSeen bool // the header timeout no longer applies

	wg         sync.WaitGroup // handler goroutines
	timers     sync.WaitGroup // timer callbacks, armed or running
	writerDone chan struct{}

	mu            sync.Mutex
	wcond         sync.Cond // the writer waits here for output
	streams       map[uint32]*Stream
	maxID         uint32 // highest stream id the client has used
	handlers      int    // handler goroutines still running
	waiters       int    // streams waiting for window or buffer space
	sendWindow    int64  // connection send window
	recvWindow    int64  // what the client may still send on the connection
	recvUnacked   int64  // received but not yet granted back
	streamRecvWin int64  // receive window of a new stream
	peer          peerSettings
	enc           *hpack.Encoder
	encBuf        writeBuffer
	out, spare    []byte
	outGen        uint64 // counts the writer's takes of out
	flushReq      bool
	closed        bool
	err           error // why the connection ended
	goingAway     bool
	idle          connTimer
	idleSince     time.Time
	settingsTimer connTimer
	settingsAcked bool
	recentResets  []uint32 // ring of the streams we reset last
	resetNext     int      // where the next one goes once the ring is full
}

// NewConn makes a connection; Serve or ServeUpgrade runs it.
func NewConn(nc net.Conn, cfg Config, h Handler) *Conn {
	cfg = cfg.withDefaults()
	c := &Conn{
		nc:         nc,
		cfg:        cfg,
		handler:    h,
		streams:    make(map[uint32]*Stream),
		writerDone: make(chan struct{}),
		peer:       defaultPeerSettings(),
		sendWindow: defaultWindow,
		// Until the client acknowledges our SETTINGS it may assume the
		// default window.
		streamRecvWin: int64(max(cfg.InitialWindowSize, defaultWindow)),
	}
	c.br = bufio.NewReaderSize(nc, 16<<10)
	c.rd.r = c.br
	c.fr = http2.NewFramer(nil, &c.rd)
	c.fr.SetMaxReadFrameSize(cfg.MaxFrameSize)
	c.fr.SetReuseFrames()
	c.dec = hpack.NewDecoder(defaultTableSize, c.b.add)
	c.dec.SetMaxStringLength(cfg.blockLimit())
	c.enc = hpack.NewEncoder(&c.encBuf)
	c.wcond.L = &c.mu
	c.idle = connTimer{f: c.onIdle, wg: &c.timers}
	c.settingsTimer = connTimer{f: c.onSettingsTimeout, wg: &c.timers}
	if d := cfg.HeaderTimeout; d > 0 {
		nc.SetReadDeadline(time.Now().Add(d))
	}
	// Our SETTINGS go first whatever happens next (RFC 9113 §3.4), even a
	// Shutdown before Serve.
	c.out = appendSettings(c.out, cfg.settings())
	c.out = appendWindowUpdate(c.out, 0, connWindow-defaultWindow)
	c.recvWindow = connWindow
	c.flushReq = true
	c.armIdleLocked()
	return c
}

// Serve runs the connection from the client preface on, and returns once
// the connection is closed and every stream's handler has returned. The
// error is the client's protocol error that ended the connection, if
// that is how it ended; it is nil when the client went away or a timeout
// or Shutdown closed it.
func (c *Conn) Serve() error { return c.serve(nil) }

// ServeUpgrade is Serve for a connection upgraded from HTTP/1.1: the 101
// is out, and the client preface has yet to come.
func (c *Conn) ServeUpgrade(u *Upgrade) error { return c.serve(u) }

func (c *Conn) serve(u *Upgrade) error {
	go c.writeLoop()
	var err error
	if u != nil {
		err = c.upgrade(u)
	}
	if err == nil {
		err = c.readPreface()
	}
	if err == nil {
		c.mu.Lock()
		if !c.closed {
			c.settingsTimer.arm(c.cfg.settingsTimeout)
		}
		c.mu.Unlock()
	}
	if err == nil && u != nil {
		c.headersSeen = true
		c.nc.SetReadDeadline(time.Time{})
	}
	if err == nil {
		err = c.readLoop()
	}
	return c.finish(err)
}

// Shutdown starts a graceful close: GOAWAY(NO_ERROR) naming the last
// stream taken, then close once the streams already open are done. It
// returns at once; Serve returns when the connection is closed.
func (c *Conn) Shutdown() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.goingAway {
		return
	}
	c.goingAway = true
	c.out = appendGoAway(c.out, c.maxID, http2.ErrCodeNo, "")
	c.flushLocked()
	if len(c.streams) == 0 {
		c.closeLocked(errDrained)
	}
}

// startStream opens a stream and starts its handler. body is the body of
// an upgraded request; a stream with endStream set and no body has none.
func (c *Conn) startStream(id uint32, req Request, endStream bool, body []byte) {
	s := &Stream{c: c, id: id, req: req, lastAt: -1}
	s.cond.L = &c.mu
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	s.state = stateOpen
	if endStream {
		s.state = stateHalfClosedRemote
		s.bodyErr = io.EOF
		s.noBody = len(body) == 0
		s.buf = body
	}
	s.sendWindow = int64(c.peer.initialWindowSize)
	s.recvWindow = c.streamRecvWin
	c.streams[id] = s
	c.handlers++
	c.idle.stop()
	c.mu.Unlock()
	c.wg.Add(1)
	go c.runHandler(s)
}

func (c *Conn) runHandler(s *Stream) {
	defer c.wg.Done()
	c.handler(s)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.handlers--
	if s.state == stateClosed {
		return
	}
	// The response is complete and the client is still sending: ask it
	// to stop (RFC 9113 §8.1). Without a complete response: an error.
	code := http2.ErrCodeNo
	if !s.ended {
		code = http2.ErrCodeInternal
	}
	c.resetLocked(s, code, ErrResponseDone)
}

func (c *Conn) upgrade(u *Upgrade) error {
	ss, err := parseSettings(u.Settings)
	if err != nil {
		return connError{http2.ErrCodeProtocol, "HTTP2-Settings: " + err.Error()}
	}
	c.mu.Lock()
	for _, st := range ss {
		if err := c.applySettingLocked(st); err != nil {
			c.mu.Unlock()
			return err
		}
	}
	c.maxID = 1
	c.mu.Unlock()
	c.startStream(1, u.Request, true, u.Body)
	return nil
}

// resetStream answers a stream error: RST_STREAM, and the stream is
// done. Stream errors cost the client a frame each and us an answer: a
// client that sends them faster than it reads the answers gets a
// connection error, as for PING and SETTINGS.
func (c *Conn) resetStream(se streamError) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.streams[se.id]; s != nil {
		c.resetLocked(s, se.code, ErrStreamAborted)
		return c.backlogLocked()
	}
	if c.closed || c.wasResetLocked(se.id) {
		return nil // one RST_STREAM per stream is enough
	}
	c.out = appendRSTStream(c.out, se.id, se.code)
	c.flushLocked()
	if !c.idleLocked(se.id) {
		c.noteResetLocked(se.id)
	}
	return c.backlogLocked()
}

// maxRecentResets is how many of the streams we reset last are
// remembered, so that the frames the client sent on them before it saw
// our RST_STREAM are dropped rather than answered (RFC 9113 §5.1,
// "closed": an endpoint MUST ignore them). Streams reset longer ago are
// forgotten, which limits the time we ignore frames, as §5.1 allows; a
// frame on a forgotten stream gets STREAM_CLOSED.
const maxRecentResets = 128

func (c *Conn) noteResetLocked(id uint32) {
	if len(c.recentResets) < maxRecentResets {
		c.recentResets = append(c.recentResets, id)
		return
	}
	c.recentResets[c.resetNext] = id
	c.resetNext = (c.resetNext + 1) % maxRecentResets
}

// wasResetLocked reports whether we reset stream id recently.
func (c *Conn) wasResetLocked(id uint32) bool {
	for _, r := range c.recentResets {
		if r == id {
			return true
		}
	}
	return false
}

// resetLocked sends RST_STREAM(code) for s and closes it; err is what its
// handler's reads and writes return from now on.
func (c *Conn) resetLocked(s *Stream, code ErrCode, err error) {
	if s.state == stateClosed {
		return
	}
	if !c.closed {
		c.out = appendRSTStream(c.out, s.id, code)
		c.flushLocked()
		c.noteResetLocked(s.id)
	}
	s.ended = true
	c.closeStreamLocked(s, err)
}

// closeStreamLocked moves s to closed and takes it out of the table; err
// is nil for a stream that ended both ways.
func (c *Conn) closeStreamLocked(s *Stream, err error) {
	if s.removed {
		return
	}
	s.removed = true
	s.state = stateClosed
	s.err = err
	if s.bodyErr == nil {
		s.bodyErr = err
	}
	if s.bodyErr != io.EOF {
		s.buf, s.r = nil, 0
	}
	if s.done != nil {
		close(s.done)
	}
	s.cond.Broadcast()
	delete(c.streams, s.id)
	if len(c.streams) > 0 || c.closed {
		return
	}
	if c.goingAway {
		c.closeLocked(errDrained)
		return
	}
	c.armIdleLocked()
}

// connTimer is a time.AfterFunc timer whose callbacks Serve joins:
// every arming counts in wg until its callback has returned or stop or a
// new arming has cancelled it, so that no callback of a Conn runs after
// its Serve has returned. Its methods are called with c.mu held.
type connTimer struct {
	t  *time.Timer
	f  func()
	wg *sync.WaitGroup
}

// testHookTimerFired, when set, runs at the start of every timer
// callback, before the callback takes c.mu.
var testHookTimerFired func()

func (t *connTimer) arm(d time.Duration) {
	if t.t == nil {
		t.wg.Add(1)
		t.t = time.AfterFunc(d, t.fire)
		return
	}
	// Reset reports false when the last arming has fired or was
	// stopped: its count is settled, and this arming adds one.
	if !t.t.Reset(d) {
		t.wg.Add(1)
	}
}

func (t *connTimer) fire() {
	defer t.wg.Done()
	if h := testHookTimerFired; h != nil {
		h()
	}
	t.f()
}

func (t *connTimer) stop() {
	if t.t != nil && t.t.Stop() {
		t.wg.Done()
	}
}

func (c *Conn) armIdleLocked() {
	d := c.cfg.IdleTimeout
	if d <= 0 || c.closed {
		return
	}
	c.idleSince = time.Now()
	c.idle.arm(d)
}

func (c *Conn) onIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.streams) > 0 {
		return
	}
	if left := c.cfg.IdleTimeout - time.Since(c.idleSince); left > 0 {
		c.idle.arm(left) // streams came and went since the timer was set
		return
	}
	c.out = appendGoAway(c.out, c.maxID, http2.ErrCodeNo, "")
	c.closeLocked(errIdle)
}

// onSettingsTimeout ends a connection whose client has not acknowledged
// our SETTINGS in time (RFC 9113 §6.5.3): until it does, we cannot know
// it applies our limits.
func (c *Conn) onSettingsTimeout() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.settingsAcked {
		return
	}
	ce := connError{http2.ErrCodeSettingsTimeout, "SETTINGS not acknowledged within " + c.cfg.settingsTimeout.String()}
	c.out = appendGoAway(c.out, c.maxID, ce.code, ce.reason)
	c.closeLocked(ce)
}

// closeLocked ends the connection: every stream fails with ErrConnClosed,
// the writer sends what is queued and stops, the reader wakes up.
func (c *Conn) closeLocked(err error) {
	if c.closed {
		return
	}
	c.closed = true
	c.err = err
	for _, s := range c.streams {
		c.closeStreamLocked(s, ErrConnClosed)
	}
	c.idle.stop()
	c.settingsTimer.stop()
	c.wcond.Broadcast()
	// A client that does not read must not hold the last write forever.
	c.nc.SetWriteDeadline(time.Now().Add(closeFlushTimeout))
	// Wake the reader, unless it is the one closing.
	c.nc.SetReadDeadline(time.Unix(1, 0))
}

// lingerTime is how long a connection that failed with a connection
// error keeps reading (and dropping) what the client still sends, so that
// closing with unread input does not reset the connection and lose the
// GOAWAY on the way.
const lingerTime = 250 * time.Millisecond

func (c *Conn) finish(err error) error {
	var ce connError
	isConnErr := errors.As(err, &ce)
	c.mu.Lock()
	if !c.closed {
		switch {
		case isConnErr:
			c.out = appendGoAway(c.out, c.maxID, ce.code, ce.reason)
		case err == errTimeout:
			c.out = appendGoAway(c.out, c.maxID, http2.ErrCodeNo, "")
		}
	}
	c.closeLocked(err)
	reason := c.err
	c.mu.Unlock()
	<-c.writerDone
	// A timer's connection error (SETTINGS_TIMEOUT) reaches the reader
	// as a read deadline: the reason says it is one.
	reported := errors.As(reason, &ce)
	if isConnErr || reported {
		c.nc.SetReadDeadline(time.Now().Add(lingerTime))
		io.CopyN(io.Discard, c.br, 1<<20)
	}
	c.nc.Close()
	c.wg.Wait()
	c.timers.Wait()
	// I/O errors, timeouts and Shutdown are how connections end; only a
	// protocol error of the client is worth reporting.
	if reported {
		return reason
	}
	return nil
}
