package front

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/gonicorn/gonicorn/internal/ascii"
	"github.com/gonicorn/gonicorn/internal/dispatch"
	"github.com/gonicorn/gonicorn/internal/front/h2"
	"github.com/gonicorn/gonicorn/internal/front/http1"
)

// H2Config carries gunicorn's --http2-* tunables.
type H2Config struct {
	MaxConcurrentStreams uint32
	InitialWindowSize    int32
	MaxFrameSize         uint32
	MaxHeaderListSize    uint32
	// Cleartext accepts prior-knowledge h2c from forwarded_allow_ips peers
	// (--http2-cleartext prior-knowledge|both).
	Cleartext bool
	// Upgrade accepts "Upgrade: h2c" from forwarded_allow_ips peers
	// (--http2-cleartext upgrade|both). With Cleartext alone (prior
	// knowledge only), a trusted peer that sends an HTTP/1 request instead
	// of the preface gets gunicorn's 400: no silent downgrade.
	Upgrade bool
}

// h2Preface is the client connection preface of RFC 9113 §3.4.
var h2Preface = []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

func (s *Server) h2Config() h2.Config {
	h := s.cfg.H2
	return h2.Config{
		MaxConcurrentStreams: h.MaxConcurrentStreams,
		InitialWindowSize:    h.InitialWindowSize,
		MaxFrameSize:         h.MaxFrameSize,
		MaxHeaderListSize:    h.MaxHeaderListSize,
		IdleTimeout:          s.cfg.KeepAlive + 60*time.Second,
		HeaderTimeout:        s.cfg.HeaderTimeout,
	}
}

// serveH2 runs an HTTP/2 connection (internal/front/h2); each stream is
// served on its own goroutine, so the streams of one connection run
// concurrently across workers. up is the request of an h2c upgrade.
func (c *conn) serveH2(rw net.Conn, up *h2.Upgrade) {
	hc := h2.NewConn(rw, c.s.h2Config(), c.serveH2Stream)
	stop := c.s.drainH2(hc)
	var err error
	if up != nil {
		err = hc.ServeUpgrade(up)
	} else {
		err = hc.Serve()
	}
	stop()
	if err != nil {
		c.s.cfg.ErrorLog.Debug("HTTP/2 connection from %s ended: %v", c.peer.logIP(), err)
	}
}

// drainH2 shuts hc down gracefully (GOAWAY, then the streams it has run
// to their end) once the server drains; stop ends the watch and waits for it.
func (s *Server) drainH2(hc *h2.Conn) (stop func()) {
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		select {
		case <-done:
		case <-s.drainC:
			hc.Shutdown()
		}
	}()
	return func() { close(done); <-exited }
}

// bufferedConn replays bytes the HTTP/1 reader already buffered (the h2c
// preface) before reading from the socket.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// What the first bytes of a cleartext connection are.
const (
	sniffPreface = iota // the HTTP/2 connection preface
	sniffHTTP1          // an HTTP/1.x request line
	sniffOther          // neither
	sniffGone           // the client left or timed out first
)

// h2cPriorKnowledge looks at the first bytes of a cleartext connection
// from a trusted peer when prior knowledge is on (gunicorn's rules,
// reference §5.3). It reports whether it took the connection: served it
// as HTTP/2, or refused it.
func (c *conn) h2cPriorKnowledge() bool {
	h := &c.s.cfg.H2
	if !h.Cleartext || c.uwsgi != nil || c.l.TLS != nil || !c.trusted() {
		return false
	}
	switch c.sniffH2c() {
	case sniffGone:
		return true
	case sniffHTTP1:
		if h.Upgrade {
			return false // an HTTP/1 request is how an upgrade starts
		}
		c.refuse(&http1.Error{Status: 400, Name: "InvalidHTTP2Preface",
			Msg: "expected the HTTP/2 connection preface: this server takes only prior-knowledge h2c from this peer (--http2-cleartext prior-knowledge)"})
		return true
	}
	// The preface, or bytes that are neither it nor HTTP/1: HTTP/2
	// answers those with GOAWAY(PROTOCOL_ERROR).
	c.nc.SetReadDeadline(time.Time{})
	c.serveH2(&bufferedConn{Conn: c.nc, r: c.br}, nil)
	return true
}

// sniffH2c reads as far as it takes to tell the preface from the rest:
// up to the first byte that differs from it, then to the end of the
// first line.
func (c *conn) sniffH2c() int {
	for n := 1; ; n++ {
		b, err := c.br.Peek(n)
		if !bytes.HasPrefix(h2Preface, b) {
			break
		}
		if len(b) == len(h2Preface) {
			return sniffPreface
		}
		if err != nil {
			return sniffGone
		}
	}
	return c.sniffRequestLine(8 << 10)
}

// sniffRequestLine reads until the first line is either a whole HTTP/1.x
// request line or cannot become one. A line longer than limit counts as
// HTTP/1: the HTTP/1 parser has the error for it.
func (c *conn) sniffRequestLine(limit int) int {
	n := c.br.Buffered()
	for {
		b, err := c.br.Peek(min(n, limit))
		switch scanRequestLine(b) {
		case lineComplete:
			return sniffHTTP1
		case lineImpossible:
			return sniffOther
		}
		if len(b) >= limit {
			return sniffHTTP1
		}
		if err != nil {
			return sniffGone
		}
		n = max(len(b)+1, c.br.Buffered())
	}
}

// What the bytes read so far are, as the start of "METHOD SP target SP
// HTTP/1.x CRLF".
const (
	linePartial = iota
	lineComplete
	lineImpossible
)

func scanRequestLine(b []byte) int {
	for len(b) > 0 && (b[0] == '\r' || b[0] == '\n') {
		b = b[1:] // empty lines before a request line are allowed (RFC 9112 §2.2)
	}
	i := 0
	for i < len(b) && isTchar(b[i]) {
		i++
	}
	switch {
	case i == len(b):
		return linePartial
	case i == 0 || b[i] != ' ':
		return lineImpossible
	}
	i++
	t := i
	for i < len(b) && b[i] > ' ' && b[i] != 0x7f {
		i++
	}
	switch {
	case i == len(b):
		return linePartial
	case i == t || b[i] != ' ':
		return lineImpossible
	}
	v := b[i+1:]
	const version = "HTTP/1."
	for j, ch := range v {
		switch {
		case j < len(version):
			if ch != version[j] {
				return lineImpossible
			}
		case j == len(version):
			if ch < '0' || ch > '9' {
				return lineImpossible
			}
		case ch == '\n':
			return lineComplete
		case ch != '\r' || j != len(version)+1:
			return lineImpossible
		}
	}
	return linePartial
}

func isTchar(ch byte) bool {
	return ch > ' ' && ch < 0x7f && strings.IndexByte("\"(),/:;<=>?@[\\]{}", ch) < 0
}

// h2cBodyLimit is the largest body an h2c upgrade request may carry: it is
// read in full before the 101 and handed to stream 1. Past it the
// request is served as HTTP/1.1, as RFC 9110 lets a server ignore Upgrade.
const h2cBodyLimit = 64 << 10

// h2cUpgrade switches to HTTP/2 when the request just read asks for h2c
// (RFC 7540 §3.2) and may have it: a trusted peer on a cleartext
// listener, HTTP/1.1, Upgrade naming h2c, exactly one usable
// HTTP2-Settings named in Connection. It reports whether it took the
// connection.
func (c *conn) h2cUpgrade() bool {
	req := &c.req
	if !c.s.cfg.H2.Upgrade || c.uwsgi != nil || c.l.TLS != nil || req.Major != 1 || req.Minor != 1 ||
		!hasToken(req.Upgrade, "h2c") || req.Chunked || req.ContentLength > h2cBodyLimit || !c.trusted() {
		return false
	}
	var settings []byte
	nsettings, connUpgrade, connSettings := 0, false, false
	for i := range req.Headers {
		f := &req.Headers[i]
		switch {
		case f.Is("HTTP2-SETTINGS"):
			nsettings++
			settings = f.Value
		case f.Is("CONNECTION"):
			connUpgrade = connUpgrade || hasToken(f.Value, "upgrade")
			connSettings = connSettings || hasToken(f.Value, "http2-settings")
		}
	}
	if nsettings != 1 || !connUpgrade || !connSettings {
		return false
	}
	payload, err := h2.DecodeSettingsHeader(ascii.TrimOWS(settings))
	if err != nil {
		c.s.cfg.ErrorLog.Debug("h2c upgrade from %s not taken: %v", c.peer.logIP(), err)
		return false
	}
	up := &h2.Upgrade{Settings: payload, Request: h2.Request{
		Method: string(req.Method), Scheme: c.peer.scheme, Path: string(req.Target), ContentLength: req.ContentLength,
	}}
	for i := range req.Headers {
		f := &req.Headers[i]
		name := h2.HeaderName(f.Name)
		switch name {
		case "host":
			up.Request.Authority = string(f.Value)
			continue
		case "connection", "upgrade", "http2-settings", "keep-alive", "proxy-connection", "transfer-encoding":
			continue
		case "te":
			if !ascii.EqualFold(f.Value, "trailers") {
				continue
			}
		}
		up.Request.Fields = append(up.Request.Fields, h2.Field{Name: name, Value: string(f.Value)})
	}
	if req.ContentLength > 0 {
		if req.Expect100 {
			c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			c.bw.Flush()
		}
		if up.Body, err = io.ReadAll(c.parser.Body(c.br, req)); err != nil {
			c.refuse(err)
			return true
		}
	}
	c.bw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n")
	if c.bw.Flush() != nil {
		return true
	}
	c.serveH2(&bufferedConn{Conn: c.nc, r: c.br}, up)
	return true
}

// hasToken reports whether a comma-separated header value lists token.
func hasToken(v []byte, token string) bool {
	for len(v) > 0 {
		var t []byte
		t, v, _ = bytes.Cut(v, []byte(","))
		if ascii.EqualFold(ascii.TrimOWS(t), token) {
			return true
		}
	}
	return false
}

// bytesOf views a string as bytes without copying. The request fields of
// an HTTP/2 stream are strings (HPACK makes them); http1.Request holds
// them as byte slices that nothing writes to.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

var hostName = []byte("Host")

// h2Stream is one HTTP/2 stream as the relay sees it: its request, its
// exchange and the sink that writes the response on the stream.
type h2Stream struct {
	st     *h2.Stream
	req    http1.Request
	x      exchange
	peer   peer
	fields []h2.Field
}

func (c *conn) serveH2Stream(st *h2.Stream) {
	r := st.Request()
	h := &h2Stream{st: st, peer: c.peer}
	req := &h.req
	target := r.Path
	if r.Method == "CONNECT" {
		target = r.Authority
	}
	path, query, _ := strings.Cut(target, "?")
	req.Method, req.Target = bytesOf(r.Method), bytesOf(target)
	req.Path, req.Query = bytesOf(path), bytesOf(query)
	req.Major, req.Minor = 2, 0
	req.KeepAlive = true
	req.ContentLength = r.ContentLength
	req.Scheme = c.peer.scheme
	req.Headers = make([]http1.Header, 0, len(r.Fields)+1)
	if r.Authority != "" {
		req.Headers = append(req.Headers, http1.Header{Name: hostName, Value: bytesOf(r.Authority)})
	}
	cookie, cookies := -1, 0
	for _, f := range r.Fields {
		if f.Name == "host" {
			continue
		}
		if f.Name == "cookie" {
			if cookies++; cookies > 1 {
				continue
			}
			cookie = len(req.Headers)
		}
		req.Headers = append(req.Headers, http1.Header{Name: bytesOf(f.Name), Value: bytesOf(f.Value)})
	}
	if cookies > 1 {
		// RFC 9113 §8.2.3: cookie crumbs are one header to the app.
		var v []byte
		for _, f := range r.Fields {
			if f.Name == "cookie" {
				if v != nil {
					v = append(v, "; "...)
				}
				v = append(v, f.Value...)
			}
		}
		req.Headers[cookie].Value = v
	}
	x := &h.x
	*x = exchange{srv: c.s, req: req, peer: &h.peer, out: h, start: time.Now()}
	// secure_scheme_headers, forwarder_headers and header_map, as the
	// HTTP/1 parser applies them.
	if err := c.s.parser.ApplyProxyHeaders(req, c.ip); err != nil {
		var he *http1.Error
		if errors.As(err, &he) {
			c.s.cfg.ErrorLog.Warning("Invalid request from ip=%s: %s", c.peer.logIP(), he.Msg)
			x.status = he.Status
			h.fail(he.Status, he.Msg)
		}
		return
	}
	if body := st.Body(); body != nil && r.ContentLength != 0 {
		x.body = body
		x.bodyLen = r.ContentLength // -1 when unknown: streamed like chunked
	}
	bp := bufPool.Get().(*[]byte)
	frame, _, _ := x.relay((*bp)[:0], nil, dispatch.Slot{})
	*bp = frame[:0]
	bufPool.Put(bp)
}

// appendFields appends the worker's headers as HTTP/2 fields.
func appendFields(fs []h2.Field, hdrs [][2][]byte) []h2.Field {
	for _, kv := range hdrs {
		fs = append(fs, h2.Field{Name: h2.HeaderName(kv[0]), Value: string(kv[1])})
	}
	return fs
}

// head sends the status and headers; like the HTTP/1 sink it adds
// Server and Date.
func (h *h2Stream) head(x *exchange, status []byte, hdrs [][2][]byte) error {
	fs := append(h.fields[:0], h2.Field{Name: "server", Value: x.srv.cfg.ServerHeader}, h2.Field{Name: "date", Value: h2Date()})
	h.fields = appendFields(fs, hdrs)
	// A stream the client has reset fails the body writes that follow;
	// an error here would read as a bad response from the worker.
	h.st.WriteHeader(x.status, h.fields)
	return nil
}

func (h *h2Stream) body(x *exchange, b []byte) error {
	_, err := h.st.Write(b)
	return err
}

func (h *h2Stream) flush() error { return h.st.Flush() }

var errShortResponse = errors.New("front: the response ended short of its Content-Length")

func (h *h2Stream) end(x *exchange) error {
	if x.remaining > 0 && !x.noBody {
		// END_STREAM would tell the client a short body is complete.
		h.st.Reset(h2.ErrCodeInternal)
		return errShortResponse
	}
	return h.st.End(nil)
}

func (h *h2Stream) file(x *exchange, f *os.File, n int64) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	written, err := io.CopyBuffer(h.st, io.LimitReader(f, n), (*bp)[:cap(*bp)])
	if err == nil && written != n {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func (h *h2Stream) info(status []byte, hdrs [][2][]byte) error {
	code, err := strconv.Atoi(string(status[:min(3, len(status))]))
	if err != nil || code < 100 || code > 199 || code == 101 {
		return nil
	}
	h.fields = appendFields(h.fields[:0], hdrs)
	return h.st.WriteInfo(code, h.fields)
}

// fail answers with gunicorn's error page; a 503 also says when to come
// back.
func (h *h2Stream) fail(status int, msg string) {
	page := http1.AppendError(nil, &http1.Error{Status: status, Msg: msg})
	if i := bytes.Index(page, []byte("\r\n\r\n")); i >= 0 {
		page = page[i+4:]
	}
	fs := []h2.Field{
		{Name: "server", Value: h.x.srv.cfg.ServerHeader},
		{Name: "date", Value: h2Date()},
		{Name: "content-type", Value: "text/html"},
		{Name: "content-length", Value: strconv.Itoa(len(page))},
	}
	if status == 503 {
		fs = append(fs, h2.Field{Name: "retry-after", Value: "1"})
	}
	if h.st.WriteHeader(status, fs) == nil {
		h.st.Write(page)
		h.st.End(nil)
	}
}

// watch reports when the client resets the stream or the connection
// goes away.
func (h *h2Stream) watch() (<-chan struct{}, func()) {
	return h.st.Done(), func() {}
}

// h2DateCache holds the Date value as a string, made once a second from
// httpDate's bytes (a new slice each second).
var h2DateCache atomic.Pointer[struct {
	b []byte
	s string
}]

func h2Date() string {
	b := httpDate()
	if d := h2DateCache.Load(); d != nil && len(d.b) == len(b) && unsafe.SliceData(d.b) == unsafe.SliceData(b) {
		return d.s
	}
	d := &struct {
		b []byte
		s string
	}{b, string(b)}
	h2DateCache.Store(d)
	return d.s
}
