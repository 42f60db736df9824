package front

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gonicorn/gonicorn/internal/dispatch"
	"github.com/gonicorn/gonicorn/internal/front/http1"
	"github.com/gonicorn/gonicorn/internal/front/uwsgi"
	"github.com/gonicorn/gonicorn/internal/rawsock"
	"github.com/gonicorn/gonicorn/internal/websocket"
)

const (
	stateIdle int32 = iota
	stateActive
	stateExpired // the sweeper ended its keep-alive wait
)

// maxDrain is how much unread request body we read and drop to keep a
// connection alive; past it we close instead.
const maxDrain = 1 << 20

// conn is one HTTP/1.x client connection; it is the response sink of the
// exchanges it runs.
type conn struct {
	s     *Server
	nc    net.Conn
	l     *Listener
	br    *bufio.Reader
	bw    *bufio.Writer
	peer  peer
	state atomic.Int32
	// idleSince is when the connection last started waiting for a request.
	idleSince atomic.Int64
	// idleUntil ends a keep-alive wait (unix nanos; 0 = the wait has a read
	// deadline instead); runSince is when the running ASGI exchange began
	// (0 = none, -1 = poked). The sweeper reads both (sweep.go).
	idleUntil atomic.Int64
	runSince  atomic.Int64
	poke      chan struct{} // the sweeper's "start the disconnect watch"
	parser    *http1.Parser
	req       http1.Request
	x         exchange
	ip        netip.Addr // zero for unix sockets
	uwsgi     *uwsgi.Parser
	frame     []byte
	bodyBuf   []byte
}

func newConn(s *Server, nc net.Conn, l *Listener) *conn {
	c := &conn{s: s, nc: nc, l: l}
	c.peer.scheme = l.Scheme
	var ip netip.Addr
	if a, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		ip = a.AddrPort().Addr().Unmap()
		c.peer.remoteAddr, c.peer.remotePort = ip.String(), strconv.Itoa(a.Port)
	}
	c.peer.serverName, c.peer.serverPort = splitHostPort(nc.LocalAddr())
	c.ip = ip
	c.parser = http1.NewParser(s.parser, ip, l.TLS != nil)
	if l.Protocol == "uwsgi" {
		c.uwsgi = &uwsgi.Parser{}
	}
	return c
}

func (c *conn) serve() {
	defer c.s.forget(c)
	defer func() { c.nc.Close() }()
	if c.l.TLS != nil && !c.handshake() {
		return
	}
	r, w := rawsock.Wrap(c.nc)
	c.br = bufio.NewReaderSize(r, 16<<10)
	c.bw = bufio.NewWriterSize(w, 16<<10)
	bp := bufPool.Get().(*[]byte)
	c.frame = (*bp)[:0]
	defer func() { *bp = c.frame[:0]; bufPool.Put(bp) }()

	cfg := &c.s.cfg
	for first := true; ; first = false {
		now := time.Now()
		c.idleSince.Store(now.UnixNano())
		armed := false // a read deadline is set and must be cleared
		if first {
			c.idleUntil.Store(0)
			if t := cfg.HeaderTimeout; t > 0 {
				c.nc.SetReadDeadline(now.Add(t))
				armed = true
			}
		} else {
			if cfg.KeepAlive <= 0 {
				return
			}
			if c.br.Buffered() == 0 && c.s.draining() {
				return
			}
			c.idleUntil.Store(now.Add(cfg.KeepAlive).UnixNano())
		}
		c.state.Store(stateIdle)
		if !first {
			c.s.needSweep()
		}
		if _, err := c.br.Peek(1); err != nil {
			return // idle timeout, EOF or closed by Shutdown: nothing to answer
		}
		if !c.state.CompareAndSwap(stateIdle, stateActive) {
			return // the sweeper ended the wait as the request came
		}
		start := time.Now()
		if cfg.HeaderTimeout > 0 && !c.headBuffered() {
			c.nc.SetReadDeadline(start.Add(cfg.HeaderTimeout))
			armed = true
		}
		if first && c.h2cPriorKnowledge() {
			return
		}
		if err := c.readRequest(); err != nil {
			c.refuse(err)
			return
		}
		if armed {
			c.nc.SetReadDeadline(time.Time{})
		}
		if c.h2cUpgrade() {
			return
		}
		if !c.handle(start) {
			return
		}
	}
}

// handshake runs the TLS handshake; an h2 ALPN agreement hands the
// connection to HTTP/2 and ends the HTTP/1 path.
func (c *conn) handshake() bool {
	tc := tls.Server(c.nc, c.l.TLS)
	c.nc = tc
	if t := c.s.cfg.HeaderTimeout; t > 0 {
		tc.SetDeadline(time.Now().Add(t))
	}
	if err := tc.Handshake(); err != nil {
		c.s.cfg.ErrorLog.Debug("TLS handshake with %s failed: %v", c.peer.logIP(), err)
		return false
	}
	tc.SetDeadline(time.Time{})
	if tc.ConnectionState().NegotiatedProtocol == "h2" {
		c.serveH2(tc, nil)
		return false
	}
	return true
}

// trusted is gunicorn's rule for h2c: only forwarded_allow_ips peers, and
// unix sockets.
func (c *conn) trusted() bool {
	return !c.ip.IsValid() || c.s.h2cAllow.Contains(c.ip)
}

func (c *conn) readRequest() error {
	if c.uwsgi != nil {
		return c.uwsgi.ReadRequest(c.br, &c.req, &c.s.uwsgiAllow, c.ip)
	}
	return c.parser.ReadRequest(c.br, &c.req)
}

// refuse answers a request the parser rejected, as gunicorn does.
func (c *conn) refuse(err error) {
	var he *http1.Error
	if !errors.As(err, &he) {
		return // timeout or a connection that went away mid-head
	}
	c.s.cfg.ErrorLog.Warning("Invalid request from ip=%s: %s", c.peer.logIP(), he.Msg)
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	// Answers to valid requests pipelined before this one go out first.
	c.bw.Flush()
	c.nc.Write(http1.AppendError(nil, he))
}

// headBuffered reports whether a whole HTTP head is already buffered, so
// reading it cannot block and needs no header deadline (a syscall and a
// timer update saved on most keep-alive requests).
func (c *conn) headBuffered() bool {
	b, _ := c.br.Peek(c.br.Buffered())
	return bytes.Contains(b, crlfcrlf)
}

var crlfcrlf = []byte("\r\n\r\n")

// handle runs one request; it reports whether the connection stays open.
func (c *conn) handle(start time.Time) bool {
	req := &c.req
	x := &c.x
	hdrs, respHeader, watch := x.hdrs, x.respHeader, x.watch
	if c.poke == nil {
		c.poke = make(chan struct{}, 1)
	}
	*x = exchange{srv: c.s, req: req, peer: &c.peer, out: c, start: start, hdrs: hdrs, respHeader: respHeader, watch: watch,
		since: &c.runSince, poke: c.poke}
	if req.Chunked {
		x.bodyLen = -1
		x.body = c.parser.Body(c.br, req)
	} else if req.ContentLength > 0 {
		x.bodyLen = req.ContentLength
		x.body = c.parser.Body(c.br, req)
	}
	if req.Expect100 && x.body != nil {
		c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
		c.bw.Flush()
	}
	var slot dispatch.Slot
	if websocket.IsUpgrade(req) {
		// An ASGI app takes the upgrade through Go's WebSocket, a tornado or
		// aiohttp app through a byte tunnel (tunnel.go); a WSGI app sees a
		// plain GET.
		var ok bool
		if slot, ok = x.acquire(); !ok {
			c.bw.Flush()
			return false
		}
		info := slot.W.Info()
		if info.AppKind == "asgi" {
			c.serveWebSocket(x, slot)
			return false
		}
		if c.tunnelable(info) {
			return c.serveTunnel(x, slot)
		}
	}
	var ok bool
	c.frame, c.bodyBuf, ok = x.relay(c.frame, c.bodyBuf, slot)
	if ok && !x.bodyDone && !drain(x.body) {
		ok = false
	}
	if !ok || c.br.Buffered() == 0 {
		// Pipelined requests already buffered share one flush with this response.
		if c.bw.Flush() != nil {
			return false
		}
	}
	return ok
}

func drain(body io.Reader) bool {
	n, err := io.CopyN(io.Discard, body, maxDrain)
	return err == io.EOF && n < maxDrain
}

// head writes the status line and headers as gunicorn orders them:
// Server, Date, Connection, Transfer-Encoding, then the app's headers.
func (c *conn) head(x *exchange, status []byte, hdrs [][2][]byte) error {
	req := x.req
	// uwsgi responses go to nginx, which frames them itself: never chunked.
	x.chunked = x.remaining < 0 && !x.noBody && (req.Major > 1 || req.Minor >= 1) && c.uwsgi == nil
	x.close = !req.KeepAlive || c.s.cfg.KeepAlive <= 0 || c.s.draining() ||
		(x.remaining < 0 && !x.chunked && !x.noBody)
	bw := c.bw
	c.statusLine(protoString(req.Major, req.Minor), status)
	if x.close {
		bw.WriteString("\r\nConnection: close")
	} else {
		bw.WriteString("\r\nConnection: keep-alive")
	}
	if x.chunked {
		bw.WriteString("\r\nTransfer-Encoding: chunked")
	}
	writeFields(bw, hdrs)
	_, err := bw.WriteString("\r\n\r\n")
	return err
}

// statusLine writes the status line and the Server and Date headers that
// every response of ours starts with.
func (c *conn) statusLine(proto string, status []byte) {
	bw := c.bw
	bw.WriteString(proto)
	bw.WriteByte(' ')
	bw.Write(status)
	bw.WriteString("\r\nServer: ")
	bw.WriteString(c.s.cfg.ServerHeader)
	bw.WriteString("\r\nDate: ")
	bw.Write(httpDate())
}

// watch reads from the client in the background while an ASGI app runs,
// so that a client that goes away becomes http.disconnect. Bytes that
// arrive (a pipelined request) stay buffered for the next ReadRequest.
func (c *conn) watch() (<-chan struct{}, func()) {
	gone := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := c.br.Peek(1); err != nil && !isTimeout(err) {
			close(gone)
		}
	}()
	return gone, func() {
		c.nc.SetReadDeadline(time.Unix(1, 0)) // wake the Peek
		<-done
		c.nc.SetReadDeadline(time.Time{})
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// info writes a 1xx response; HTTP/1.0 clients do not get them (RFC 9110 §15.2).
func (c *conn) info(status []byte, hdrs [][2][]byte) error {
	if c.req.Major == 1 && c.req.Minor == 0 {
		return nil
	}
	bw := c.bw
	bw.WriteString("HTTP/1.1 ")
	bw.Write(status)
	writeFields(bw, hdrs)
	bw.WriteString("\r\n\r\n")
	return bw.Flush()
}

// writeFields writes each header as "\r\nName: value", after a status
// line or another field.
func writeFields(bw *bufio.Writer, hdrs [][2][]byte) {
	for _, h := range hdrs {
		bw.WriteString("\r\n")
		bw.Write(h[0])
		bw.WriteString(": ")
		bw.Write(h[1])
	}
}

func (c *conn) chunkHeader(n int64) {
	var hdr [20]byte
	h := strconv.AppendInt(hdr[:0], n, 16)
	c.bw.Write(append(h, '\r', '\n'))
}

func (c *conn) body(x *exchange, b []byte) error {
	if x.chunked {
		c.chunkHeader(int64(len(b)))
		c.bw.Write(b)
		_, err := c.bw.WriteString("\r\n")
		return err
	}
	_, err := c.bw.Write(b)
	return err
}

func (c *conn) flush() error { return c.bw.Flush() }

func (c *conn) end(x *exchange) error {
	if x.chunked {
		_, err := c.bw.WriteString("0\r\n\r\n")
		return err
	}
	return nil
}

func (c *conn) file(x *exchange, f *os.File, n int64) error {
	if x.chunked {
		c.chunkHeader(n)
	}
	if err := c.bw.Flush(); err != nil {
		return err
	}
	// io.Copy from a limited *os.File into a TCP conn uses sendfile(2).
	written, err := io.Copy(c.nc, io.LimitReader(f, n))
	if err == nil && written != n {
		err = io.ErrUnexpectedEOF
	}
	if err != nil {
		return err
	}
	if x.chunked {
		c.bw.WriteString("\r\n")
	}
	return nil
}

// fail writes gunicorn's error page for a status the front itself
// produces (400 on a broken body, 500, 502, 503); the connection closes.
func (c *conn) fail(status int, msg string) {
	c.x.close = true
	c.bw.Flush()
	c.nc.Write(errorPage(status, msg))
}

// errorPage is gunicorn's error page; a 503 also says when to come back.
func errorPage(status int, msg string) []byte {
	page := http1.AppendError(nil, &http1.Error{Status: status, Msg: msg})
	if status == 503 {
		if i := bytes.Index(page, []byte("\r\n")); i >= 0 {
			page = append(page[:i+2], append([]byte("Retry-After: 1\r\n"), page[i+2:]...)...)
		}
	}
	return page
}
