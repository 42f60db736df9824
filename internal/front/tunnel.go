package front

import (
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonicorn/gonicorn/internal/dispatch"
	"github.com/gonicorn/gonicorn/internal/logging"
	"github.com/gonicorn/gonicorn/internal/wire"
	"github.com/gonicorn/gonicorn/internal/worker"
)

// A tunnel relays an upgraded connection's raw bytes between the client and
// a tornado or aiohttp worker, whose app speaks RFC 6455 itself
// (docs/protocol.md, "Tunnels"). Two goroutines own it: the connection's
// (pump: worker → client, and the end of the tunnel) and readClient
// (client → worker), which pump starts and joins.
const (
	// tunnelChunk is the most client bytes one REQ_BODY carries.
	tunnelChunk = 64 << 10
	// tunnelLinger is how long the worker may keep its side open after the
	// client's EOF before it gets CANCEL.
	tunnelLinger = 10 * time.Second
	// tunnelCloseWait is how long Go waits for the client's EOF after the
	// worker closed, so that closing does not reset bytes still in flight.
	tunnelCloseWait = 2 * time.Second
	// tunnelWriteTimeout bounds one write to a client that stopped reading.
	tunnelWriteTimeout = 30 * time.Second
)

// tunnelClasses are the worker classes (HELLO worker_class) whose apps take
// an upgraded connection themselves.
var tunnelClasses = []string{"tornado", "aiohttp", "aiohttp-uvloop"}

var errWorkerGone = errors.New("front: the worker channel broke")

// tunnelable reports whether the WebSocket upgrade request on c can become a
// tunnel to a worker that announced info: HTTP/1.1, no body, plain HTTP
// (uwsgi has no upgrades).
func (c *conn) tunnelable(info worker.Hello) bool {
	req := &c.req
	if c.uwsgi != nil || req.Major != 1 || req.Minor != 1 || req.Chunked || req.ContentLength > 0 {
		return false
	}
	for _, k := range tunnelClasses {
		if info.WorkerClass == k {
			return true
		}
	}
	return false
}

type tunnel struct {
	c  *conn
	x  *exchange
	st *worker.Stream

	credit     atomic.Int64  // client bytes the worker is ready to take (MORE)
	wake       chan struct{} // cap 1: credit grew
	quit       chan struct{} // closed when the tunnel ends: readClient stops forwarding
	quitOnce   sync.Once
	readerDone chan struct{} // closed when readClient returns
	readErr    error         // why readClient returned; read after readerDone
}

// serveTunnel runs a WebSocket upgrade request on a tornado or aiohttp worker
// (slot already acquired). It reports whether the connection can carry
// another request, which only a non-101 answer allows.
func (c *conn) serveTunnel(x *exchange, slot dispatch.Slot) bool {
	cfg := &c.s.cfg
	w := slot.W
	x.w = w
	x.remaining = -1
	x.bodyDone = true
	id := c.s.newStreamID()
	buf, err := x.appendRequest(c.frame[:0], id, nil)
	if err != nil {
		cfg.Pool.Release(slot)
		c.fail(500, err.Error())
		c.frame = buf
		return false
	}
	buf = offerTunnel(buf, id)
	c.frame = buf
	st := w.Open(id, func() { cfg.Pool.Release(slot) })
	t := &tunnel{c: c, x: x, st: st}
	ok := false
	if err := w.Write(buf); err != nil {
		c.fail(502, "The worker went away.")
	} else {
		ok = t.handshake()
	}
	if st.Close() && cfg.WorkerIdle != nil {
		cfg.WorkerIdle(w)
	}
	if cfg.AccessLog.Enabled() || cfg.Metrics != nil {
		x.logAccess()
	}
	if !ok || x.close {
		c.bw.Flush()
		return false
	}
	return c.bw.Flush() == nil
}

// offerTunnel adds gonicorn.tunnel = True to the head of the REQUEST frame
// appendRequest built. No body follows the head, so the byte that closes its
// dict is the frame's last.
func offerTunnel(frame []byte, id uint32) []byte {
	frame = frame[:len(frame)-1]
	frame = wire.AppendStr(frame, "gonicorn.tunnel")
	frame = wire.AppendBool(frame, true)
	frame = wire.AppendDictEnd(frame)
	n := len(frame) - wire.HeaderSize
	wire.PutHeadLen(frame[wire.HeaderSize:], uint32(n-4))
	wire.PutHeader(frame, wire.Request, wire.FlagEnd, id, uint32(n))
	return frame
}

// handshake waits for the app's answer. A 101 opens the tunnel; anything else
// is an ordinary response, which the relay finishes.
func (t *tunnel) handshake() bool {
	c, x, st := t.c, t.x, t.st
	cfg := &c.s.cfg
	var deadline <-chan time.Time
	if d := cfg.RequestTimeout; d > 0 {
		tm := time.NewTimer(d)
		defer tm.Stop()
		deadline = tm.C
	}
	for {
		ev, why := st.NextOr(nil, nil, nil, deadline)
		if why == worker.Timer2 {
			x.timedOut(st, x.asgi)
			return false
		}
		if ev.Err != nil {
			if x.w.TimedOut() {
				x.status = 504
				c.fail(504, "The worker handling this request timed out.")
			} else {
				cfg.ErrorLog.Error("Worker (pid:%d) went away while handling %s %s; answered 502", x.w.PID(), x.req.Method, x.req.Target)
				x.status = 502
				c.fail(502, "The worker handling this request exited.")
			}
			return false
		}
		switch ev.Type {
		case wire.Info:
			if status, hdrs, err := wire.DecodeResponseHead(ev.Payload, x.hdrs[:0]); err == nil {
				x.hdrs = hdrs
				c.info(status, hdrs)
			}
		case wire.Abort:
			cfg.ErrorLog.Debug("response aborted by worker: %s", ev.Payload)
			return false
		case wire.Response:
			head, body, err := wire.SplitHead(ev.Payload)
			var status []byte
			var hdrs [][2][]byte
			if err == nil {
				status, hdrs, err = wire.DecodeResponseHead(head, x.hdrs[:0])
				x.hdrs = hdrs
			}
			if err == nil && len(status) >= 3 && string(status[:3]) == "101" {
				t.open(status, hdrs, body, ev.End())
				return false
			}
			return t.ordinary(head, body, ev.End(), err)
		}
	}
}

// ordinary writes a non-101 answer the way the relay writes any response.
func (t *tunnel) ordinary(head, body []byte, end bool, err error) bool {
	c, x, st := t.c, t.x, t.st
	if err == nil {
		err = x.writeHead(head)
	}
	if err != nil {
		c.s.cfg.ErrorLog.Error("Bad response from worker (pid:%d) for %s %s: %v", x.w.PID(), x.req.Method, x.req.Target, err)
		x.cancel(st)
		c.fail(500, "")
		return false
	}
	x.started = true
	if err := x.writeBody(body); err != nil {
		x.cancel(st)
		return false
	}
	if end {
		if x.remaining > 0 && !x.noBody {
			x.close = true
		}
		return c.end(x) == nil
	}
	if c.flush() != nil {
		x.cancel(st)
		return false
	}
	var ok bool
	c.frame, ok = x.run(st, c.frame)
	return ok
}

// open writes the 101 with the app's headers as they are (Upgrade and
// Connection included) and relays bytes until the tunnel ends.
func (t *tunnel) open(status []byte, hdrs [][2][]byte, body []byte, end bool) {
	c, x := t.c, t.x
	x.status = 101
	x.started = true
	x.close = true
	bw := c.bw
	c.statusLine("HTTP/1.1", status)
	writeFields(bw, hdrs)
	bw.WriteString("\r\n\r\n")
	if c.s.cfg.AccessLog.Enabled() {
		x.respHeader = x.respHeader[:0]
		for _, h := range hdrs {
			x.respHeader = append(x.respHeader, logging.Header{Name: h[0], Value: h[1]})
		}
	}
	t.toClient(body)
	var err error
	if end {
		err = c.bw.Flush()
	} else {
		err = x.grant(t.st, len(body)) // flushes first
	}
	if err != nil {
		x.cancel(t.st)
		return
	}
	if end {
		t.closeClient()
		return
	}
	t.wake = make(chan struct{}, 1)
	t.quit = make(chan struct{})
	t.readerDone = make(chan struct{})
	go t.readClient()
	t.pump()
}

// pump relays the worker's frames to the client until the tunnel ends; it
// always stops and joins readClient before it returns.
func (t *tunnel) pump() {
	c, x, st := t.c, t.x, t.st
	elog := c.s.cfg.ErrorLog
	defer t.stopReader(0)
	readerDone := (<-chan struct{})(t.readerDone)
	var linger <-chan time.Time
	var held *worker.Event // queued behind bytes not flushed yet
	owed := 0              // worker bytes buffered for the client, not yet flushed and granted
	for {
		if owed > 0 && (held == nil || held.Type != wire.RespBody) {
			// What was written goes out before we wait or handle anything else.
			if err := x.grant(st, owed); err != nil { // flushes first
				x.cancel(st)
				return
			}
			owed = 0
		}
		var ev worker.Event
		why := 0
		if held != nil {
			ev, held = *held, nil
		} else {
			ev, why = st.NextOr(readerDone, nil, linger, nil)
		}
		switch why {
		case worker.Done:
			readerDone = nil
			if !errors.Is(t.readErr, io.EOF) {
				// The client connection broke (or the worker channel did).
				elog.Debug("tunnel to worker (pid:%d) ends: client read failed: %v", x.w.PID(), t.readErr)
				x.cancel(st)
				return
			}
			tm := time.NewTimer(tunnelLinger)
			defer tm.Stop()
			linger = tm.C
			continue
		case worker.Timer1:
			elog.Debug("tunnel to worker (pid:%d) ends: the app kept its side open %v after the client's EOF", x.w.PID(), tunnelLinger)
			x.cancel(st)
			return
		}
		if ev.Err != nil {
			c.bw.Flush()
			return // the worker exited: closing the client connection is all there is to do
		}
		switch ev.Type {
		case wire.More:
			n, err := wire.ParseMore(ev.Payload)
			if err != nil {
				elog.Error("Bad MORE from worker (pid:%d) on a tunnel: %v", x.w.PID(), err)
				x.cancel(st)
				return
			}
			t.credit.Add(int64(n))
			select {
			case t.wake <- struct{}{}:
			default:
			}
		case wire.RespBody:
			t.toClient(ev.Payload)
			if ev.End() {
				if c.bw.Flush() != nil {
					x.cancel(st)
					return
				}
				t.closeClient()
				return
			}
			owed += len(ev.Payload)
			// Bytes the worker sent together leave in one write.
			if next, ok := st.TryNext(); ok {
				held = &next
			}
		case wire.Abort:
			elog.Debug("tunnel aborted by worker: %s", ev.Payload)
			c.bw.Flush()
			return
		}
	}
}

// toClient buffers worker bytes for the client; pump flushes them.
func (t *tunnel) toClient(b []byte) {
	t.c.nc.SetWriteDeadline(time.Now().Add(tunnelWriteTimeout))
	t.c.bw.Write(b)
	t.x.sent += int64(len(b))
}

// closeClient ends the tunnel after the worker's END: everything is written,
// so send FIN and give the client a moment to close its side, which
// avoids a reset that could drop the last bytes.
func (t *tunnel) closeClient() {
	c := t.c
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		cw.CloseWrite()
	}
	if t.readerDone != nil {
		t.stopReader(tunnelCloseWait)
	}
}

// stopReader makes readClient stop forwarding, lets it read (and drop) the
// client's bytes for up to wait, and waits for it to return.
func (t *tunnel) stopReader(wait time.Duration) {
	t.quitOnce.Do(func() {
		close(t.quit)
		t.c.nc.SetReadDeadline(time.Now().Add(wait))
	})
	<-t.readerDone
}

// readClient sends the client's bytes to the worker as REQ_BODY frames,
// never more than the credit the worker granted with MORE.
func (t *tunnel) readClient() {
	defer close(t.readerDone)
	br := t.c.br
	w, id := t.st.Worker(), t.st.ID()
	frame := make([]byte, wire.HeaderSize+tunnelChunk)
	for {
		n := t.waitCredit()
		if n == 0 {
			io.Copy(io.Discard, br) // until the client's EOF or the read deadline
			return
		}
		m, err := br.Read(frame[wire.HeaderSize : wire.HeaderSize+n])
		select {
		case <-t.quit:
			io.Copy(io.Discard, br)
			return
		default:
		}
		if m > 0 {
			t.credit.Add(-int64(m))
			wire.PutHeader(frame, wire.ReqBody, 0, id, uint32(m))
			if w.Write(frame[:wire.HeaderSize+m]) != nil {
				t.readErr = errWorkerGone
				return
			}
		}
		if err != nil {
			t.readErr = err
			if err == io.EOF {
				// Half-close: the app sees end-of-stream; its side stays open.
				wire.PutHeader(frame, wire.ReqBody, wire.FlagEnd, id, 0)
				if w.Write(frame[:wire.HeaderSize]) != nil {
					t.readErr = errWorkerGone
				}
			}
			return
		}
	}
}

// waitCredit blocks until the worker has credit for client bytes and returns
// how many to read (at most tunnelChunk), or 0 once the tunnel ends.
func (t *tunnel) waitCredit() int {
	for {
		select {
		case <-t.quit:
			return 0
		default:
		}
		if n := t.credit.Load(); n > 0 {
			return int(min(n, tunnelChunk))
		}
		select {
		case <-t.wake:
		case <-t.quit:
			return 0
		}
	}
}
