package h2

import (
	"strconv"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

const (
	// maxPending is how much output may wait for the writer before
	// handlers writing DATA wait too.
	maxPending = 128 << 10
	// flushAt is how much output the writer sends without waiting for a
	// Flush: a handler writing a large body gets it on the wire early.
	flushAt = 32 << 10
	// maxBacklog caps output queued by the reader (SETTINGS and PING
	// acknowledgements, WINDOW_UPDATE, RST_STREAM): past it the client
	// sends control frames faster than it reads the answers.
	maxBacklog = 4 << 20
	// closeFlushTimeout bounds the last write of a closing connection.
	closeFlushTimeout = 5 * time.Second
	// maxSpare is the largest output buffer kept for reuse.
	maxSpare = 1 << 20
)

// writeBuffer is where the HPACK encoder writes a header block.
type writeBuffer struct{ b []byte }

func (w *writeBuffer) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

// writeLoop is the connection's writer: it takes everything queued in
// out at once and writes it with one Write, while handlers and the
// reader queue the next frames in the spare buffer.
func (c *Conn) writeLoop() {
	defer close(c.writerDone)
	c.mu.Lock()
	for {
		for !c.closed && (len(c.out) == 0 || (!c.flushReq && len(c.out) < flushAt)) {
			c.wcond.Wait()
		}
		if len(c.out) == 0 {
			c.mu.Unlock()
			return
		}
		buf := c.out
		c.out, c.spare = c.spare[:0], nil
		c.outGen++
		c.flushReq = false
		c.wakeWaitersLocked()
		c.mu.Unlock()
		_, err := c.nc.Write(buf)
		c.mu.Lock()
		if cap(buf) <= maxSpare {
			c.spare = buf[:0]
		}
		if err != nil {
			c.out = c.out[:0]
			c.closeLocked(err)
		}
	}
}

// flushLocked asks the writer to send what is queued.
func (c *Conn) flushLocked() {
	c.flushReq = true
	c.wcond.Signal()
}

func (c *Conn) backlogLocked() error {
	if len(c.out) > maxBacklog {
		return connError{http2.ErrCodeEnhanceYourCalm, "control frames sent faster than their answers are read"}
	}
	return nil
}

// wakeWaitersLocked wakes the streams waiting for connection window or
// output space.
func (c *Conn) wakeWaitersLocked() {
	if c.waiters == 0 {
		return
	}
	for _, s := range c.streams {
		if s.waiting {
			s.cond.Broadcast()
		}
	}
}

// grantConnLocked gives n received bytes back to the connection window.
func (c *Conn) grantConnLocked(n int64) {
	c.recvUnacked += n
	if c.recvUnacked < connWindow/2 || c.closed {
		return
	}
	c.out = appendWindowUpdate(c.out, 0, uint32(c.recvUnacked))
	c.recvWindow += c.recvUnacked
	c.recvUnacked = 0
	c.flushLocked()
}

// consumedLocked notes that s's handler read n body bytes, and grants
// them back to the client once half a window has been read: a handler
// that does not read holds its client back.
func (c *Conn) consumedLocked(s *Stream, n int) {
	s.recvUnacked += int64(n)
	if !s.state.remoteOpen() || c.closed || s.recvUnacked < max(int64(c.cfg.InitialWindowSize)/2, 1) {
		return
	}
	c.out = appendWindowUpdate(c.out, s.id, uint32(s.recvUnacked))
	s.recvWindow += s.recvUnacked
	s.recvUnacked = 0
	c.flushLocked()
}

// appendHeadersLocked encodes a header block and queues it as HEADERS
// plus CONTINUATION frames. Encoding and queueing happen under one lock
// hold: HPACK's dynamic table needs the blocks on the wire in the order
// they were encoded.
func (c *Conn) appendHeadersLocked(s *Stream, id uint32, status int, fields []Field, end bool) {
	c.encBuf.b = c.encBuf.b[:0]
	if status != 0 {
		c.enc.WriteField(hpack.HeaderField{Name: ":status", Value: statusText(status)})
	}
	for _, f := range fields {
		c.enc.WriteField(hpack.HeaderField{Name: f.Name, Value: f.Value})
	}
	block := c.encBuf.b
	max := int(c.peer.maxFrameSize)
	n := min(len(block), max)
	single := n == len(block)
	var flags byte
	if end {
		flags |= flagEndStream
	}
	if single {
		flags |= flagEndHeaders
	}
	at := len(c.out)
	c.out = appendFrameHeader(c.out, n, http2.FrameHeaders, flags, id)
	c.out = append(c.out, block[:n]...)
	for block = block[n:]; len(block) > 0; block = block[n:] {
		n = min(len(block), max)
		flags = 0
		if n == len(block) {
			flags = flagEndHeaders
		}
		c.out = appendFrameHeader(c.out, n, http2.FrameContinuation, flags, id)
		c.out = append(c.out, block[:n]...)
	}
	if s != nil {
		s.lastAt, s.lastGen = -1, c.outGen
		if single && !end {
			s.lastAt = at
		}
	}
}

func (c *Conn) appendDataLocked(s *Stream, p []byte, end bool) {
	at := len(c.out)
	var flags byte
	if end {
		flags = flagEndStream
	}
	c.out = appendFrameHeader(c.out, len(p), http2.FrameData, flags, s.id)
	c.out = append(c.out, p...)
	s.lastAt, s.lastGen = at, c.outGen
	if end {
		s.lastAt = -1
	}
}

// endOnLastLocked sets END_STREAM on s's last frame if it is still
// queued, which saves an empty DATA frame at the end of most responses.
func (c *Conn) endOnLastLocked(s *Stream) bool {
	if s.lastAt < 0 || s.lastGen != c.outGen {
		return false
	}
	c.out[s.lastAt+4] |= flagEndStream
	s.lastAt = -1
	return true
}

var statusTexts [600]string

func statusText(code int) string {
	if code >= 100 && code < len(statusTexts) {
		return statusTexts[code]
	}
	return strconv.Itoa(code)
}

func init() {
	for i := 100; i < len(statusTexts); i++ {
		statusTexts[i] = strconv.Itoa(i)
	}
}
