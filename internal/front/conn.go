package front

import (
	"bufio"
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
	"github.com/gonicorn/gonicorn/internal/logging"
	"github.com/gonicorn/gonicorn/internal/wire"
	"github.com/gonicorn/gonicorn/internal/worker"
)

const (
	stateIdle int32 = iota
	stateActive
)

// initialBody is how much body goes inline in REQUEST; the rest is pulled
// by the worker with MORE (docs/protocol.md, "Body flow").
const initialBody = 64 << 10

// maxDrain is how much unread request body we read and drop to keep a
// connection alive; past it we close instead.
const maxDrain = 1 << 20

type conn struct {
	s      *Server
	nc     net.Conn
	l      *Listener
	br     *bufio.Reader
	bw     *bufio.Writer
	peer   peer
	state  atomic.Int32
	parser *http1.Parser
	req    http1.Request

	frame []byte
	hdrs  [][2][]byte
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
	c.parser = http1.NewParser(s.parser, ip, l.Scheme == "https")
	return c
}

func (c *conn) serve() {
	defer c.s.forget(c)
	defer c.nc.Close()
	c.br = bufio.NewReaderSize(c.nc, 16<<10)
	c.bw = bufio.NewWriterSize(c.nc, 16<<10)
	bp := bufPool.Get().(*[]byte)
	c.frame = (*bp)[:0]
	defer func() { *bp = c.frame[:0]; bufPool.Put(bp) }()

	cfg := &c.s.cfg
	for first := true; ; first = false {
		c.state.Store(stateIdle)
		wait := cfg.HeaderTimeout
		if !first {
			if cfg.KeepAlive <= 0 {
				return
			}
			wait = cfg.KeepAlive
			if c.br.Buffered() == 0 && c.s.draining() {
				return
			}
		}
		if wait > 0 {
			c.nc.SetReadDeadline(time.Now().Add(wait))
		}
		if _, err := c.br.Peek(1); err != nil {
			return // idle timeout, EOF or closed by Shutdown: nothing to answer
		}
		c.state.Store(stateActive)
		start := time.Now()
		if cfg.HeaderTimeout > 0 {
			c.nc.SetReadDeadline(start.Add(cfg.HeaderTimeout))
		}
		if err := c.parser.ReadRequest(c.br, &c.req); err != nil {
			c.refuse(err)
			return
		}
		c.nc.SetReadDeadline(time.Time{})
		if !c.handle(start) {
			return
		}
	}
}

// refuse answers a request the parser rejected, as gunicorn does.
func (c *conn) refuse(err error) {
	var he *http1.Error
	if !errors.As(err, &he) {
		return // timeout or a connection that went away mid-head
	}
	c.s.cfg.ErrorLog.Warning("Invalid request from ip=%s: %s", c.ipForLog(), he.Msg)
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	c.nc.Write(http1.AppendError(nil, he))
}

func (c *conn) ipForLog() string {
	if c.peer.remoteAddr == "" {
		return c.nc.RemoteAddr().String()
	}
	return c.peer.remoteAddr
}

// exchange is the state of one request/response pair.
type exchange struct {
	body     io.Reader
	bodyDone bool
	bodyErr  error

	status     int
	started    bool
	chunked    bool
	noBody     bool
	remaining  int64 // Content-Length left to send; -1 = not set
	sent       int64
	close      bool
	respHeader []logging.Header
	w          *worker.Worker
}

// handle runs one request; it reports whether the connection stays open.
func (c *conn) handle(start time.Time) bool {
	cfg := &c.s.cfg
	req := &c.req
	x := exchange{remaining: -1}
	bodyLen := int64(0)
	if req.Chunked {
		bodyLen = -1
		x.body = c.parser.Body(c.br, req)
	} else if req.ContentLength > 0 {
		bodyLen = req.ContentLength
		x.body = c.parser.Body(c.br, req)
	}
	x.bodyDone = x.body == nil
	if req.Expect100 && x.body != nil {
		c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
		c.bw.Flush()
	}

	id := c.s.newStreamID()
	buf := wire.AppendHeader(c.frame[:0], wire.Request, 0, id, 0)
	buf = wire.AppendHeadLen(buf, 0)
	headAt := len(buf)
	buf, err := appendEnviron(buf, req, &c.peer, cfg.ScriptName, bodyLen)
	if err != nil {
		c.frame = buf
		c.writeError(500, err.Error())
		return false
	}
	wire.PutHeadLen(buf[headAt-4:], uint32(len(buf)-headAt))
	if x.body != nil {
		want := initialBody
		if bodyLen > 0 && bodyLen < int64(want) {
			want = int(bodyLen)
		}
		buf, x.bodyDone, err = readBody(buf, x.body, want)
		if err != nil {
			c.frame = buf
			c.bodyFailed(err, &x)
			return false
		}
	}
	flags := byte(0)
	if x.bodyDone {
		flags = wire.FlagEnd
	}
	wire.PutHeader(buf, wire.Request, flags, id, uint32(len(buf)-wire.HeaderSize))
	c.frame = buf

	w, err := cfg.Pool.Acquire(cfg.QueueTimeout, nil)
	if err != nil {
		if errors.Is(err, dispatch.ErrTimeout) {
			c.writeError(503, "No worker became free in time.")
		} else {
			c.writeError(503, "The server is shutting down.")
		}
		return false
	}
	x.w = w
	st := w.Open(id)
	if err := w.Write(buf); err != nil {
		c.finish(st, w)
		c.writeError(502, "The worker went away.")
		return false
	}
	ok := c.run(st, &x)
	c.finish(st, w)
	if c.s.cfg.AccessLog.Enabled() {
		c.logAccess(&x, start, w)
	}
	if !ok || x.close {
		c.bw.Flush()
		return false
	}
	if !x.bodyDone && !drain(x.body) {
		c.bw.Flush()
		return false
	}
	if c.br.Buffered() == 0 {
		if err := c.bw.Flush(); err != nil {
			return false
		}
	}
	return true
}

func (c *conn) finish(st *worker.Stream, w *worker.Worker) {
	idle := st.Close()
	c.s.cfg.Pool.Release(w)
	if idle && c.s.cfg.WorkerIdle != nil {
		c.s.cfg.WorkerIdle(w)
	}
}

// readBody appends up to want body bytes to buf. done means the body ended.
func readBody(buf []byte, body io.Reader, want int) ([]byte, bool, error) {
	if cap(buf)-len(buf) < want {
		nb := make([]byte, len(buf), len(buf)+want)
		copy(nb, buf)
		buf = nb
	}
	got := 0
	for got < want {
		n, err := body.Read(buf[len(buf)+got : len(buf)+want])
		got += n
		if err == io.EOF {
			return buf[:len(buf)+got], true, nil
		}
		if err != nil {
			return buf[:len(buf)+got], false, err
		}
	}
	return buf[:len(buf)+got], false, nil
}

func drain(body io.Reader) bool {
	n, err := io.CopyN(io.Discard, body, maxDrain)
	return err == io.EOF && n < maxDrain
}

// run relays the worker's frames to the client until the response ends.
// It returns false when the connection must close.
func (c *conn) run(st *worker.Stream, x *exchange) bool {
	for {
		ev, _ := st.Next(nil)
		if ev.Err != nil {
			if !x.started {
				c.s.cfg.ErrorLog.Error("Worker (pid:%d) went away while handling %s %s; answered 502", x.w.PID(), c.req.Method, c.req.Target)
				c.writeError(502, "The worker handling this request exited.")
			}
			return false
		}
		switch ev.Type {
		case wire.More:
			if !c.sendBody(st, x, ev.Payload) {
				return false
			}
		case wire.Response:
			head, body, err := wire.SplitHead(ev.Payload)
			if err == nil {
				err = c.writeHead(x, head)
			}
			if err != nil {
				c.s.cfg.ErrorLog.Error("Bad response from worker (pid:%d) for %s %s: %v", x.w.PID(), c.req.Method, c.req.Target, err)
				c.cancel(st)
				if !x.started {
					c.writeError(500, "")
				}
				return false
			}
			x.started = true
			if !c.writeBody(x, body) {
				c.cancel(st)
				return false
			}
			if ev.End() {
				return c.endBody(x)
			}
			c.bw.Flush()
		case wire.RespBody:
			if !c.writeBody(x, ev.Payload) {
				c.cancel(st)
				return false
			}
			if ev.End() {
				return c.endBody(x)
			}
			if c.bw.Flush() != nil {
				c.cancel(st)
				return false
			}
		case wire.Sendfile:
			ok := c.sendFile(x, ev.File, ev.Payload)
			ev.File.Close()
			if !ok {
				c.cancel(st)
				return false
			}
			if ev.End() {
				return c.endBody(x)
			}
		case wire.Abort:
			c.s.cfg.ErrorLog.Debug("response aborted by worker: %s", ev.Payload)
			return false
		}
	}
}

func (c *conn) cancel(st *worker.Stream) {
	var b [wire.HeaderSize]byte
	wire.PutHeader(b[:], wire.Cancel, 0, st.ID(), 0)
	st.Worker().Write(b[:])
}

// sendBody answers MORE(n) with up to n body bytes.
func (c *conn) sendBody(st *worker.Stream, x *exchange, p []byte) bool {
	n, err := wire.ParseMore(p)
	if err != nil {
		return false
	}
	if n > 4<<20 {
		n = 4 << 20
	}
	buf := wire.AppendHeader(c.frame[:0], wire.ReqBody, 0, st.ID(), 0)
	done := x.bodyDone
	if !done {
		if c.s.cfg.BodyTimeout > 0 {
			c.nc.SetReadDeadline(time.Now().Add(c.s.cfg.BodyTimeout))
		}
		buf, done, err = readBody(buf, x.body, int(n))
		c.nc.SetReadDeadline(time.Time{})
		if err != nil {
			c.frame = buf
			c.cancel(st)
			c.bodyFailed(err, x)
			return false
		}
		x.bodyDone = done
	}
	flags := byte(0)
	if done {
		flags = wire.FlagEnd
	}
	wire.PutHeader(buf, wire.ReqBody, flags, st.ID(), uint32(len(buf)-wire.HeaderSize))
	c.frame = buf
	return st.Worker().Write(buf) == nil
}

// bodyFailed answers a body that broke off or was malformed.
func (c *conn) bodyFailed(err error, x *exchange) {
	var he *http1.Error
	if errors.As(err, &he) && !x.started {
		c.s.cfg.ErrorLog.Warning("Invalid request from ip=%s: %s", c.ipForLog(), he.Msg)
		c.bw.Flush()
		c.nc.Write(http1.AppendError(nil, he))
	}
}

var hopByHop = []string{"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding", "upgrade"}

// writeHead writes the status line and headers as gunicorn orders them:
// Server, Date, Connection, Transfer-Encoding, then the app's headers.
func (c *conn) writeHead(x *exchange, head []byte) error {
	status, hdrs, err := wire.DecodeResponseHead(head, c.hdrs[:0])
	c.hdrs = hdrs
	if err != nil {
		return err
	}
	if len(status) < 3 {
		return errors.New("status line too short")
	}
	code, err := strconv.Atoi(string(status[:3]))
	if err != nil || code < 100 || code > 999 {
		return errors.New("status does not start with a 3-digit code: " + strconv.Quote(string(status)))
	}
	x.status = code
	req := &c.req
	x.noBody = equalFold(req.Method, "head") || code < 200 || code == 204 || code == 304
	for _, h := range hdrs {
		if equalFold(h[0], "content-length") {
			v := trimOWS(h[1])
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil || n < 0 {
				return errors.New("invalid Content-Length " + strconv.Quote(string(h[1])))
			}
			x.remaining = n
		}
	}
	x.chunked = x.remaining < 0 && !x.noBody && (req.Major > 1 || req.Minor >= 1)
	x.close = !req.KeepAlive || c.s.cfg.KeepAlive <= 0 || c.s.draining() ||
		(x.remaining < 0 && !x.chunked && !x.noBody)

	bw := c.bw
	bw.WriteString(protoString(req.Major, req.Minor))
	bw.WriteByte(' ')
	bw.Write(status)
	bw.WriteString("\r\nServer: ")
	bw.WriteString(c.s.cfg.ServerHeader)
	bw.WriteString("\r\nDate: ")
	bw.Write(httpDate())
	if x.close {
		bw.WriteString("\r\nConnection: close")
	} else {
		bw.WriteString("\r\nConnection: keep-alive")
	}
	if x.chunked {
		bw.WriteString("\r\nTransfer-Encoding: chunked")
	}
	logHeaders := c.s.cfg.AccessLog.Enabled()
	x.respHeader = x.respHeader[:0]
	for _, h := range hdrs {
		if isHopByHop(h[0]) {
			continue
		}
		bw.WriteString("\r\n")
		bw.Write(h[0])
		bw.WriteString(": ")
		bw.Write(trimOWS(h[1]))
		if logHeaders {
			x.respHeader = append(x.respHeader, logging.Header{Name: h[0], Value: h[1]})
		}
	}
	_, err = bw.WriteString("\r\n\r\n")
	return err
}

func isHopByHop(name []byte) bool {
	for _, h := range hopByHop {
		if equalFold(name, h) {
			return true
		}
	}
	return false
}

func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// writeBody writes body bytes with the response's framing. Bytes past a
// declared Content-Length are dropped, as gunicorn does.
func (c *conn) writeBody(x *exchange, b []byte) bool {
	if len(b) == 0 || x.noBody {
		return true
	}
	if x.remaining >= 0 {
		if int64(len(b)) > x.remaining {
			b = b[:x.remaining]
		}
		x.remaining -= int64(len(b))
	}
	x.sent += int64(len(b))
	var err error
	if x.chunked {
		var hdr [20]byte
		h := strconv.AppendInt(hdr[:0], int64(len(b)), 16)
		h = append(h, '\r', '\n')
		c.bw.Write(h)
		c.bw.Write(b)
		_, err = c.bw.WriteString("\r\n")
	} else {
		_, err = c.bw.Write(b)
	}
	return err == nil
}

// endBody closes the response framing. A body shorter than its declared
// Content-Length leaves the client waiting for bytes that never come, so
// the connection closes.
func (c *conn) endBody(x *exchange) bool {
	if x.chunked {
		c.bw.WriteString("0\r\n\r\n")
	}
	if x.remaining > 0 && !x.noBody {
		x.close = true
	}
	return true
}

func (c *conn) sendFile(x *exchange, f *os.File, p []byte) bool {
	off, count, err := wire.ParseSendfile(p)
	if err != nil || f == nil {
		return false
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		if size := uint64(fi.Size()); off > size {
			count = 0
		} else if count > size-off {
			count = size - off
		}
	}
	if count == wire.SendfileToEnd {
		return false
	}
	n := int64(count)
	if x.remaining >= 0 && n > x.remaining {
		n = x.remaining
	}
	if x.noBody || n == 0 {
		return true
	}
	if x.chunked {
		var hdr [20]byte
		h := strconv.AppendInt(hdr[:0], n, 16)
		c.bw.Write(append(h, '\r', '\n'))
	}
	if c.bw.Flush() != nil {
		return false
	}
	// io.Copy from a limited *os.File into a TCP conn uses sendfile(2).
	// The descriptor is a dup of the worker's: it gave the file away, so
	// moving the shared offset is harmless.
	if _, err := f.Seek(int64(off), io.SeekStart); err != nil {
		return false
	}
	written, err := io.Copy(c.nc, io.LimitReader(f, n))
	x.sent += written
	if x.remaining >= 0 {
		x.remaining -= written
	}
	if err != nil || written != n {
		return false
	}
	if x.chunked {
		c.bw.WriteString("\r\n")
	}
	return true
}

// writeError writes gunicorn's error page for a status the front itself
// produces (500, 502, 503); the connection closes after it.
func (c *conn) writeError(status int, msg string) {
	c.bw.Flush()
	c.nc.Write(http1.AppendError(nil, &http1.Error{Status: status, Msg: msg}))
}
