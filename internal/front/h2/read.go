package h2

import (
	"errors"
	"io"
	"os"
	"time"

	"golang.org/x/net/http2"
)

// headerBlock is the header block being read: HEADERS then CONTINUATION
// frames up to END_HEADERS.
type headerBlock struct {
	id        uint32
	endStream bool
	kind      blockKind
	code      ErrCode // blockDiscard: the RST_STREAM to send, if reset
	reset     bool
	why       string
	size      int
}

type blockKind uint8

const (
	blockRequest blockKind = iota
	blockTrailers
	blockDiscard // decoded for the HPACK state only
)

// recorder remembers the last read error of the socket, to tell a
// failed read from a frame the Framer could not parse.
type recorder struct {
	r   io.Reader
	err error
}

func (r *recorder) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil {
		r.err = err
	}
	return n, err
}

func (c *Conn) readPreface() error {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil // shut down before it started
	}
	for i := 0; i < len(clientPreface); i++ {
		b, err := c.br.ReadByte()
		if err != nil {
			return c.ioError(err)
		}
		if b != clientPreface[i] {
			return connError{http2.ErrCodeProtocol, "invalid connection preface"}
		}
	}
	return nil
}

func (c *Conn) readLoop() error {
	for {
		c.mu.Lock()
		closed := c.closed
		c.mu.Unlock()
		if closed {
			return nil
		}
		c.rd.err = nil
		fh, err := c.fr.ReadFrameHeader()
		if err != nil {
			return c.frameError(err, fh)
		}
		if !c.sawSettings && fh.Type != http2.FrameSettings {
			return connError{http2.ErrCodeProtocol, "the client preface must be followed by a SETTINGS frame"}
		}
		f, err := c.fr.ReadFrameForHeader(fh)
		if err == nil {
			err = c.process(f)
		} else {
			err = c.frameError(err, fh)
		}
		if err == nil {
			continue
		}
		var se streamError
		if !errors.As(err, &se) {
			return err
		}
		if err := c.resetStream(se); err != nil {
			return err
		}
	}
}

// frameError sorts out an error of the Framer: a failed read, a
// connection error or a stream error.
func (c *Conn) frameError(err error, fh http2.FrameHeader) error {
	if c.rd.err != nil {
		return c.ioError(c.rd.err)
	}
	var ce http2.ConnectionError
	var se http2.StreamError
	switch {
	case errors.Is(err, http2.ErrFrameTooLarge):
		return connError{http2.ErrCodeFrameSize, "frame larger than SETTINGS_MAX_FRAME_SIZE"}
	case errors.As(err, &ce):
		why := "invalid frame"
		if d := c.fr.ErrorDetail(); d != nil {
			why = d.Error()
		}
		return connError{http2.ErrCode(ce), why}
	case errors.As(err, &se):
		if fh.Type == http2.FrameHeaders {
			// A header block we could not read leaves HPACK behind.
			return connError{http2.ErrCodeProtocol, "invalid HEADERS frame"}
		}
		c.mu.Lock()
		idle := c.idleLocked(se.StreamID)
		c.mu.Unlock()
		if idle {
			// A stream that was never opened has no RST_STREAM to take
			// (RFC 9113 §5.1, "idle"; §6.4).
			return connError{http2.ErrCodeProtocol, fh.Type.String() + " on an idle stream"}
		}
		return streamError{se.StreamID, se.Code, "invalid " + fh.Type.String() + " frame"}
	}
	// Too short for its mandatory fields (RFC 9113 §4.2).
	return connError{http2.ErrCodeFrameSize, fh.Type.String() + " frame too short"}
}

func (c *Conn) ioError(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.mu.Lock()
		closed := c.closed
		c.mu.Unlock()
		if !closed && !c.headersSeen {
			return errTimeout
		}
	}
	return err
}

func (c *Conn) process(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.DataFrame:
		return c.onData(f)
	case *http2.HeadersFrame:
		return c.onHeaders(f)
	case *http2.ContinuationFrame:
		return c.onContinuation(f)
	case *http2.PriorityFrame:
		if f.StreamDep != f.StreamID {
			return nil // priorities are advice we do not take
		}
		c.mu.Lock()
		idle := c.idleLocked(f.StreamID)
		c.mu.Unlock()
		if idle {
			// No RST_STREAM for an idle stream (RFC 9113 §6.4): the
			// stream error becomes a connection error (§5.4.1).
			return connError{http2.ErrCodeProtocol, "an idle stream that depends on itself"}
		}
		return streamError{f.StreamID, http2.ErrCodeProtocol, "stream depends on itself"}
	case *http2.RSTStreamFrame:
		return c.onRSTStream(f)
	case *http2.SettingsFrame:
		return c.onSettings(f)
	case *http2.PushPromiseFrame:
		return connError{http2.ErrCodeProtocol, "PUSH_PROMISE from a client"}
	case *http2.PingFrame:
		return c.onPing(f)
	case *http2.GoAwayFrame:
		return nil // the client opens no more streams; the open ones finish
	case *http2.WindowUpdateFrame:
		return c.onWindowUpdate(f)
	}
	return nil // unknown frame types are ignored (RFC 9113 §4.1)
}

// idleLocked reports whether a stream id is one the client has not opened:
// above every id it used, or even (server ids; we never push).
func (c *Conn) idleLocked(id uint32) bool { return id > c.maxID || id%2 == 0 }

func (c *Conn) onHeaders(f *http2.HeadersFrame) error {
	id := f.StreamID
	if id%2 == 0 {
		return connError{http2.ErrCodeProtocol, "client stream ids are odd"}
	}
	hb := headerBlock{id: id, endStream: f.StreamEnded(), kind: blockRequest}
	c.mu.Lock()
	switch s := c.streams[id]; {
	case s != nil:
		switch {
		case !s.state.remoteOpen():
			hb.discard(http2.ErrCodeStreamClosed, "HEADERS on a half-closed (remote) stream")
		case !f.StreamEnded():
			hb.discard(http2.ErrCodeProtocol, "trailers without END_STREAM")
		default:
			hb.kind = blockTrailers
		}
	case id <= c.maxID && c.wasResetLocked(id):
		// Trailers the client sent before it saw our RST_STREAM: decoded
		// for HPACK's sake, then dropped.
		hb.kind = blockDiscard
	case id <= c.maxID:
		c.mu.Unlock()
		return connError{http2.ErrCodeProtocol, "HEADERS on a closed stream, or a stream id lower than one already used"}
	default:
		c.maxID = id
		switch {
		case f.HasPriority() && f.Priority.StreamDep == id:
			hb.discard(http2.ErrCodeProtocol, "stream depends on itself")
		case c.goingAway || c.closed:
			hb.discard(http2.ErrCodeRefusedStream, "going away")
		case uint32(len(c.streams)) >= c.cfg.MaxConcurrentStreams,
			uint32(c.handlers) >= 2*c.cfg.MaxConcurrentStreams:
			// Handlers of reset streams may run on; they count too, so
			// that resetting streams cannot start handlers without end.
			hb.discard(http2.ErrCodeRefusedStream, "SETTINGS_MAX_CONCURRENT_STREAMS reached")
		}
	}
	c.mu.Unlock()
	c.hb = hb
	c.b.reset(hb.kind == blockTrailers, c.cfg.MaxHeaderListSize)
	c.dec.SetEmitEnabled(hb.kind != blockDiscard)
	return c.headerFragment(f.HeaderBlockFragment(), f.HeadersEnded())
}

func (h *headerBlock) discard(code ErrCode, why string) {
	h.kind, h.code, h.reset, h.why = blockDiscard, code, true, why
}

func (c *Conn) onContinuation(f *http2.ContinuationFrame) error {
	// The Framer has checked that it continues the open header block.
	return c.headerFragment(f.HeaderBlockFragment(), f.HeadersEnded())
}

func (c *Conn) headerFragment(frag []byte, end bool) error {
	c.hb.size += len(frag)
	if c.hb.size > c.cfg.blockLimit() {
		return connError{http2.ErrCodeEnhanceYourCalm, "header block too large"}
	}
	if _, err := c.dec.Write(frag); err != nil {
		return connError{http2.ErrCodeCompression, err.Error()}
	}
	if !end {
		return nil
	}
	if err := c.dec.Close(); err != nil {
		return connError{http2.ErrCodeCompression, err.Error()}
	}
	hb := &c.hb
	switch hb.kind {
	case blockDiscard:
		if hb.reset {
			return streamError{hb.id, hb.code, hb.why}
		}
		return nil
	case blockTrailers:
		fs, v, why := c.b.trailerFields()
		if v != verdictOK {
			return streamError{hb.id, http2.ErrCodeProtocol, why}
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		s := c.streams[hb.id]
		if s == nil || !s.state.remoteOpen() {
			return nil // the handler reset it meanwhile
		}
		s.trailers = fs
		return c.endRemoteLocked(s)
	}
	req, v, why := c.b.request(hb.endStream)
	switch v {
	case verdictMalformed:
		return streamError{hb.id, http2.ErrCodeProtocol, why}
	case verdictTooLarge:
		return c.refuseTooLarge(hb.id, hb.endStream)
	}
	if !c.headersSeen {
		c.headersSeen = true
		if c.cfg.HeaderTimeout > 0 {
			c.nc.SetReadDeadline(time.Time{})
		}
	}
	c.startStream(hb.id, req, hb.endStream, nil)
	return nil
}

// refuseTooLarge answers 431 to a request whose header list is over
// SETTINGS_MAX_HEADER_LIST_SIZE, as gunicorn does for HTTP/1.
func (c *Conn) refuseTooLarge(id uint32, endStream bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	c.appendHeadersLocked(nil, id, 431, nil, true)
	if !endStream {
		c.out = appendRSTStream(c.out, id, http2.ErrCodeNo)
		c.noteResetLocked(id)
	}
	c.flushLocked()
	return c.backlogLocked()
}

func (c *Conn) onData(f *http2.DataFrame) error {
	id := f.StreamID
	n := int64(f.Length)
	data := f.Data()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idleLocked(id) {
		return connError{http2.ErrCodeProtocol, "DATA on an idle stream"}
	}
	// Every DATA frame counts against the connection window, whatever
	// becomes of its stream (RFC 9113 §6.9).
	if n > c.recvWindow {
		return connError{http2.ErrCodeFlowControl, "DATA beyond the connection window"}
	}
	c.recvWindow -= n
	c.grantConnLocked(n)
	s := c.streams[id]
	if s == nil && c.wasResetLocked(id) {
		return nil // sent before the client saw our RST_STREAM
	}
	if s == nil || !s.state.remoteOpen() {
		return streamError{id, http2.ErrCodeStreamClosed, "DATA on a closed or half-closed (remote) stream"}
	}
	if n > s.recvWindow {
		return streamError{id, http2.ErrCodeFlowControl, "DATA beyond the stream window"}
	}
	s.recvWindow -= n
	if pad := n - int64(len(data)); pad > 0 {
		s.recvUnacked += pad // padding is never read: it is credit due now
	}
	s.received += int64(len(data))
	if cl := s.req.ContentLength; cl >= 0 && s.received > cl {
		return streamError{id, http2.ErrCodeProtocol, "more DATA than content-length"}
	}
	if len(data) > 0 {
		if s.r > 0 && len(s.buf)+len(data) > cap(s.buf) {
			s.buf = s.buf[:copy(s.buf, s.buf[s.r:])]
			s.r = 0
		}
		s.buf = append(s.buf, data...)
		s.cond.Broadcast()
	}
	if f.StreamEnded() {
		return c.endRemoteLocked(s)
	}
	if s.recvUnacked > 0 && s.r == len(s.buf) {
		c.consumedLocked(s, 0)
	}
	return nil
}

// endRemoteLocked takes the client's END_STREAM on s.
func (c *Conn) endRemoteLocked(s *Stream) error {
	if cl := s.req.ContentLength; cl >= 0 && s.received != cl {
		return streamError{s.id, http2.ErrCodeProtocol, "DATA shorter than content-length"}
	}
	s.state, _ = s.state.next(evRecvEnd)
	s.bodyErr = io.EOF
	s.cond.Broadcast()
	if s.state == stateClosed {
		c.closeStreamLocked(s, nil)
	}
	return nil
}

func (c *Conn) onRSTStream(f *http2.RSTStreamFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.idleLocked(f.StreamID) {
		return connError{http2.ErrCodeProtocol, "RST_STREAM on an idle stream"}
	}
	if s := c.streams[f.StreamID]; s != nil {
		s.ended = true
		c.closeStreamLocked(s, ErrStreamReset)
	}
	return nil
}

func (c *Conn) onWindowUpdate(f *http2.WindowUpdateFrame) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	inc := int64(f.Increment)
	if f.StreamID == 0 {
		c.sendWindow += inc
		if c.sendWindow > maxWindow {
			return connError{http2.ErrCodeFlowControl, "connection window above 2^31-1"}
		}
		c.wakeWaitersLocked()
		return nil
	}
	if c.idleLocked(f.StreamID) {
		return connError{http2.ErrCodeProtocol, "WINDOW_UPDATE on an idle stream"}
	}
	s := c.streams[f.StreamID]
	if s == nil {
		return nil // a stream that just closed: RFC 9113 §6.9 allows it
	}
	s.sendWindow += inc
	if s.sendWindow > maxWindow {
		return streamError{f.StreamID, http2.ErrCodeFlowControl, "stream window above 2^31-1"}
	}
	s.cond.Broadcast()
	return nil
}

func (c *Conn) onSettings(f *http2.SettingsFrame) error {
	c.sawSettings = true
	c.mu.Lock()
	defer c.mu.Unlock()
	if f.IsAck() {
		c.streamRecvWin = int64(c.cfg.InitialWindowSize)
		c.settingsAcked = true
		c.settingsTimer.stop()
		return nil
	}
	if err := f.ForeachSetting(c.applySettingLocked); err != nil {
		return err
	}
	c.out = appendSettingsAck(c.out)
	c.flushLocked()
	return c.backlogLocked()
}

// applySettingLocked applies one SETTINGS value of the client.
func (c *Conn) applySettingLocked(st http2.Setting) error {
	delta, err := c.peer.apply(st)
	if err != nil {
		return err
	}
	switch st.ID {
	case http2.SettingHeaderTableSize:
		c.enc.SetMaxDynamicTableSize(st.Val)
	case http2.SettingInitialWindowSize:
		if delta == 0 {
			return nil
		}
		for _, s := range c.streams {
			s.sendWindow += delta
			if s.sendWindow > maxWindow {
				return connError{http2.ErrCodeFlowControl, "SETTINGS_INITIAL_WINDOW_SIZE takes a stream window above 2^31-1"}
			}
		}
		if delta > 0 {
			for _, s := range c.streams {
				s.cond.Broadcast()
			}
		}
	}
	return nil
}

func (c *Conn) onPing(f *http2.PingFrame) error {
	if f.IsAck() {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.out = appendPingAck(c.out, f.Data)
	c.flushLocked()
	return c.backlogLocked()
}
