package h2

import (
	"errors"
	"io"
	"strings"
	"sync"
)

var errHeadTwice = errors.New("h2: the response head was already written")

// Stream is one request and its response. The Request and the body
// reader are for the stream's handler; the response methods may be
// called from one goroutine at a time.
type Stream struct {
	c    *Conn
	id   uint32
	req  Request
	cond sync.Cond // L is &c.mu

	// Guarded by c.mu.
	state       state
	removed     bool  // out of the stream table
	err         error // why the stream closed early
	done        chan struct{}
	sendWindow  int64
	recvWindow  int64
	recvUnacked int64 // body bytes read but not yet granted back
	received    int64 // DATA payload bytes so far
	buf         []byte
	r           int
	bodyErr     error // io.EOF once the body is complete
	noBody      bool
	trailers    []Field
	waiting     bool
	pendStatus  int // a response head not yet queued
	pend        []Field
	headSent    bool
	ended       bool // END_STREAM or RST_STREAM queued
	lastAt      int  // where our last frame starts in c.out, or -1
	lastGen     uint64
}

// ID is the stream identifier.
func (s *Stream) ID() uint32 { return s.id }

// Request is the request; its fields must not be changed.
func (s *Stream) Request() *Request { return &s.req }

// Body reads the request body; it is nil when the HEADERS frame ended the
// stream. Reads return io.EOF after the client's END_STREAM, and
// ErrStreamReset, ErrStreamAborted or ErrConnClosed when the stream ends
// otherwise. What the handler reads is granted back to the client, so a
// handler that stops reading stops the client's upload.
func (s *Stream) Body() io.Reader {
	if s.noBody {
		return nil
	}
	return (*body)(s)
}

type body Stream

func (b *body) Read(p []byte) (int, error) {
	s := (*Stream)(b)
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for s.r == len(s.buf) {
		if s.bodyErr != nil {
			return 0, s.bodyErr
		}
		s.cond.Wait()
	}
	n := copy(p, s.buf[s.r:])
	s.r += n
	if s.r == len(s.buf) {
		s.buf, s.r = s.buf[:0], 0
		if s.bodyErr != nil {
			s.buf = nil
		}
	}
	c.consumedLocked(s, n)
	return n, nil
}

// Trailers are the request's trailer fields, once Body has returned
// io.EOF.
func (s *Stream) Trailers() []Field {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return s.trailers
}

// Done is closed when the stream is over: the response ended both ways,
// the client reset the stream, or the connection went away.
func (s *Stream) Done() <-chan struct{} {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	if s.done == nil {
		s.done = make(chan struct{})
		if s.removed {
			close(s.done)
		}
	}
	return s.done
}

// Err says why the stream ended early: ErrStreamReset, ErrConnClosed or
// ErrStreamAborted; nil while it runs or when it ended normally.
func (s *Stream) Err() error {
	s.c.mu.Lock()
	defer s.c.mu.Unlock()
	return s.err
}

// sendableLocked reports why nothing more can be sent on s.
func (s *Stream) sendableLocked() error {
	switch {
	case s.err != nil:
		return s.err
	case s.ended || !s.state.localOpen():
		return ErrResponseDone
	}
	return nil
}

// headableLocked reports why no response head can be sent on s now.
func (s *Stream) headableLocked() error {
	if err := s.sendableLocked(); err != nil {
		return err
	}
	if s.headSent || s.pendStatus != 0 {
		return errHeadTwice
	}
	return nil
}

// WriteInfo sends an informational (1xx) response at once, such as 103
// Early Hints. Names must be lower-case; invalid fields are dropped.
func (s *Stream) WriteInfo(status int, fields []Field) error {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := s.headableLocked(); err != nil {
		return err
	}
	c.appendHeadersLocked(s, s.id, status, cleanFields(nil, fields), false)
	c.flushLocked()
	return nil
}

// WriteHeader sets the response status and fields. They go out with the
// first Write, Flush or End, so that a response without a body is one
// HEADERS frame. Names must be lower-case (HeaderName makes them so);
// fields with invalid names or values, and connection-specific fields,
// are dropped.
func (s *Stream) WriteHeader(status int, fields []Field) error {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := s.headableLocked(); err != nil {
		return err
	}
	s.pendStatus = status
	s.pend = cleanFields(s.pend[:0], fields)
	return nil
}

// headLocked queues the response head if it is still pending; a stream
// that writes without WriteHeader answers 200.
func (s *Stream) headLocked(end bool) {
	if s.headSent {
		return
	}
	if s.pendStatus == 0 {
		s.pendStatus = 200
	}
	s.c.appendHeadersLocked(s, s.id, s.pendStatus, s.pend, end)
	s.headSent, s.pendStatus, s.pend = true, 0, nil
}

// Write sends response body bytes as DATA frames, within the client's
// flow-control windows: it blocks while they are spent.
func (s *Stream) Write(p []byte) (int, error) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := s.sendableLocked(); err != nil {
		return 0, err
	}
	s.headLocked(false)
	n := 0
	for len(p) > 0 {
		for {
			if err := s.sendableLocked(); err != nil {
				return n, err
			}
			if s.sendWindow > 0 && c.sendWindow > 0 && len(c.out) < maxPending {
				break
			}
			s.waitLocked()
		}
		// A client may allow 16 MiB frames; the output buffer stays
		// bounded anyway.
		k := int(min(int64(len(p)), s.sendWindow, c.sendWindow, int64(c.peer.maxFrameSize), maxPending))
		c.appendDataLocked(s, p[:k], false)
		s.sendWindow -= int64(k)
		c.sendWindow -= int64(k)
		p = p[k:]
		n += k
		if len(c.out) >= flushAt {
			c.wcond.Signal()
		}
	}
	return n, nil
}

// waitLocked waits for window or output space. What is queued goes out
// first: the client grants more window only for what it has seen.
func (s *Stream) waitLocked() {
	c := s.c
	c.flushLocked()
	s.waiting = true
	c.waiters++
	s.cond.Wait()
	c.waiters--
	s.waiting = false
}

// Flush sends what has been written so far.
func (s *Stream) Flush() error {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := s.sendableLocked(); err != nil {
		return err
	}
	s.headLocked(false)
	c.flushLocked()
	return nil
}

// End completes the response, with trailer fields if any.
func (s *Stream) End(trailers []Field) error {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := s.sendableLocked(); err != nil {
		return err
	}
	switch {
	case len(trailers) > 0:
		s.headLocked(false)
		c.appendHeadersLocked(s, s.id, 0, cleanFields(nil, trailers), true)
	case !s.headSent:
		s.headLocked(true)
	case !c.endOnLastLocked(s):
		c.appendDataLocked(s, nil, true)
	}
	s.ended = true
	c.flushLocked()
	s.state, _ = s.state.next(evSendEnd)
	if s.state == stateClosed {
		c.closeStreamLocked(s, nil)
	}
	return nil
}

// Reset ends the stream with RST_STREAM(code), as when a response
// cannot be completed.
func (s *Stream) Reset(code ErrCode) {
	c := s.c
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resetLocked(s, code, ErrResponseDone)
}

// cleanFields appends the fields that may go in an HTTP/2 response:
// lower-case token names, values without NUL, CR or LF, and none of the
// connection-specific fields (RFC 9113 §8.2.2).
func cleanFields(dst, fields []Field) []Field {
	for _, f := range fields {
		if !validName(f.Name) {
			lower := strings.ToLower(f.Name)
			if !validName(lower) {
				continue
			}
			f.Name = lower
		}
		if strings.ContainsAny(f.Value, "\x00\r\n") {
			continue
		}
		switch f.Name {
		case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te":
			continue
		}
		dst = append(dst, f)
	}
	return dst
}

// HeaderName returns a field name lower-cased for HTTP/2, without
// allocating for the names most responses carry.
func HeaderName(b []byte) string {
	var buf [32]byte
	if len(b) > len(buf) {
		return strings.ToLower(string(b))
	}
	for i, ch := range b {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		buf[i] = ch
	}
	if s, ok := commonNames[string(buf[:len(b)])]; ok {
		return s
	}
	return string(buf[:len(b)])
}

var commonNames = map[string]string{}

func init() {
	for _, n := range []string{
		"accept-ranges", "access-control-allow-origin", "age", "allow", "cache-control",
		"content-disposition", "content-encoding", "content-language", "content-length",
		"content-location", "content-range", "content-security-policy", "content-type", "date", "etag",
		"expires", "last-modified", "link", "location", "retry-after", "server", "set-cookie",
		"strict-transport-security", "vary", "www-authenticate", "x-content-type-options",
		"x-frame-options", "x-request-id",
	} {
		commonNames[n] = n
	}
}
