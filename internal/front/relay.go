package front

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/gonicorn/gonicorn/internal/ascii"
	"github.com/gonicorn/gonicorn/internal/dispatch"
	"github.com/gonicorn/gonicorn/internal/front/http1"
	"github.com/gonicorn/gonicorn/internal/logging"
	"github.com/gonicorn/gonicorn/internal/wire"
	"github.com/gonicorn/gonicorn/internal/worker"
)

// initialBody is how much body goes inline in REQUEST; the rest is pulled
// by the worker with MORE (docs/protocol.md, "Body flow").
const initialBody = 64 << 10

// sink is where a response goes: an HTTP/1.x connection or an HTTP/2
// stream. The relay does the framing rules both share (Content-Length
// truncation, bodiless responses); a sink does its protocol's encoding.
type sink interface {
	// head writes the status and headers; hop-by-hop headers are already out.
	head(x *exchange, status []byte, hdrs [][2][]byte) error
	body(x *exchange, b []byte) error
	flush() error
	// end closes the response framing.
	end(x *exchange) error
	// file sends n bytes of f from its current offset.
	file(x *exchange, f *os.File, n int64) error
	// watch reports on gone when the client goes away while the app runs;
	// stop ends the watch and returns the connection to the caller.
	watch() (gone <-chan struct{}, stop func())
	// info writes an informational (1xx) response before head.
	info(status []byte, hdrs [][2][]byte) error
	// fail answers with an error page; only before head.
	fail(status int, msg string)
}

// exchange is one request and its response as they cross the front.
type exchange struct {
	srv   *Server
	req   *http1.Request
	peer  *peer
	out   sink
	start time.Time

	body     io.Reader
	bodyLen  int64 // -1 chunked, 0 none
	bodyDone bool

	w          *worker.Worker
	status     int
	started    bool
	noBody     bool
	remaining  int64 // Content-Length left to send; -1 = not set
	sent       int64
	close      bool // the sink must close the connection after this response
	chunked    bool // HTTP/1.1 sink: chunked framing in use
	respHeader []logging.Header
	hdrs       [][2][]byte
	unacked    int  // ASGI body bytes written but not yet granted back with WINDOW
	asgi       bool // the worker serves an ASGI app
	// since and poke start the disconnect watch on an HTTP/1 connection:
	// the sweeper pokes an exchange whose since is watchDelay old
	// (sweep.go). Without them (HTTP/2) the watch timer does it, kept
	// stopped between requests so a connection does not allocate one per
	// request.
	since *atomic.Int64
	poke  chan struct{}
	watch *time.Timer
}

var errBodyAborted = errors.New("front: the request body broke off")

// relay runs one request through a worker: w when the caller already took
// one, else the next free one. frame and body are reusable buffers
// (returned, possibly grown). It reports false when the sink's connection
// cannot carry another request.
func (x *exchange) relay(frame, body []byte, slot dispatch.Slot) ([]byte, []byte, bool) {
	cfg := &x.srv.cfg
	x.remaining = -1
	x.bodyDone = x.body == nil

	// The first body bytes are read before a worker is taken, so that a
	// slow client never holds one while it sends them.
	initial := body[:0]
	if x.body != nil {
		want := initialBody
		if x.bodyLen > 0 && x.bodyLen < int64(want) {
			want = int(x.bodyLen)
		}
		var err error
		// An ASGI app may answer while the body still streams in (full
		// duplex), so it gets what has arrived; a WSGI worker gets up to
		// 64 KiB before it is taken, so a slow client holds none.
		greedy := !x.srv.asgi.Load()
		initial, x.bodyDone, err = readBody(initial, x.body, want, greedy)
		if err == nil && greedy && !x.bodyDone {
			// A WSGI worker gets the request once the whole body is here:
			// the rest waits in memory up to a bound, then in a temp file.
			var cleanup func()
			x.body, cleanup, err = spool(x.body)
			defer cleanup()
		}
		if err != nil {
			if slot.W != nil {
				cfg.Pool.Release(slot)
			}
			x.bodyFailed(err)
			return frame, initial, false
		}
	}
	if slot.W == nil {
		var ok bool
		if slot, ok = x.acquire(); !ok {
			return frame, initial, false
		}
	}
	w := slot.W
	x.w = w
	x.asgi = w.Info().AppKind == "asgi" // read once: Info copies the HELLO
	if x.asgi && !x.srv.asgi.Load() {
		x.srv.asgi.Store(true)
	}
	id := x.srv.newStreamID()
	buf, err := x.appendRequest(frame[:0], id, initial)
	if err != nil {
		cfg.Pool.Release(slot)
		x.out.fail(500, err.Error())
		return buf, initial, false
	}
	st := w.Open(id, func() { cfg.Pool.Release(slot) })
	ok := true
	if err := w.Write(buf); err != nil {
		x.out.fail(502, "The worker went away.")
		ok = false
	} else {
		buf, ok = x.run(st, buf)
	}
	idle := st.Close() // gives the slot back, if the last frame did not already
	if idle && cfg.WorkerIdle != nil {
		cfg.WorkerIdle(w)
	}
	if cfg.AccessLog.Enabled() || cfg.Metrics != nil {
		x.logAccess()
	}
	return buf, initial, ok && !x.close
}

// acquire takes a worker slot. When the queue is full or no slot frees up
// within the queue deadline the answer is a fast 503 with Retry-After,
// instead of latency that grows without bound.
func (x *exchange) acquire() (dispatch.Slot, bool) {
	cfg := &x.srv.cfg
	if cfg.MaxQueue > 0 && cfg.Pool.Waiting() >= cfg.MaxQueue {
		x.status = 503
		x.out.fail(503, "Too many requests are waiting for a worker.")
		return dispatch.Slot{}, false
	}
	slot, err := cfg.Pool.Acquire(cfg.QueueTimeout, nil)
	if err != nil {
		x.status = 503
		if errors.Is(err, dispatch.ErrTimeout) {
			x.out.fail(503, "No worker became free in time.")
		} else {
			x.out.fail(503, "The server is shutting down.")
		}
		return dispatch.Slot{}, false
	}
	return slot, true
}

// appendRequest appends the REQUEST frame: the head the worker's kind of
// app needs (a WSGI environ or an ASGI scope), then the first body bytes.
func (x *exchange) appendRequest(buf []byte, id uint32, initial []byte) ([]byte, error) {
	buf = wire.AppendHeader(buf, wire.Request, 0, id, 0)
	buf = wire.AppendHeadLen(buf, 0)
	headAt := len(buf)
	if x.asgi {
		buf = appendScope(buf, x.req, x.peer, x.srv.cfg.RootPath, false, nil)
	} else {
		var err error
		if buf, err = appendEnviron(buf, x.req, x.peer, x.srv.cfg.ScriptName, x.bodyLen); err != nil {
			return buf, err
		}
	}
	wire.PutHeadLen(buf[headAt-4:], uint32(len(buf)-headAt))
	buf = append(buf, initial...)
	flags := byte(0)
	if x.bodyDone {
		flags = wire.FlagEnd
	}
	wire.PutHeader(buf, wire.Request, flags, id, uint32(len(buf)-wire.HeaderSize))
	return buf, nil
}

// watchDelay is how long an ASGI request may run before the front starts
// watching its client for a disconnect: most requests finish sooner, and
// the watch costs a goroutine.
const watchDelay = 20 * time.Millisecond

// run relays the worker's frames until the response ends.
func (x *exchange) run(st *worker.Stream, buf []byte) ([]byte, bool) {
	elog := x.srv.cfg.ErrorLog
	var gone, poked <-chan struct{}
	var watchC, deadline <-chan time.Time
	asgi := x.asgi
	if asgi && x.since != nil {
		select {
		case <-x.poke: // left by the sweeper for the previous request
		default:
		}
		x.since.Store(x.start.UnixNano())
		defer x.since.Store(0)
		x.srv.needSweep()
		poked = x.poke
	} else if asgi {
		if x.watch == nil {
			x.watch = time.NewTimer(watchDelay)
		} else {
			x.watch.Reset(watchDelay)
		}
		defer x.watch.Stop()
		watchC = x.watch.C
	}
	if d := x.srv.cfg.RequestTimeout; d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		deadline = t.C
	}
	var held *worker.Event // queued behind body bytes not flushed yet
	dirty := false         // body bytes written to the client buffer, not flushed
	owed := 0              // ASGI body bytes written but not yet granted
	for {
		if dirty && (held == nil || held.Type != wire.RespBody) {
			// What was written goes out before we wait, and before a frame
			// that is not more body (a MORE makes us read the client, who
			// may be waiting for these bytes).
			if err := x.flushOwed(st, owed); err != nil {
				x.cancel(st)
				return buf, false
			}
			dirty, owed = false, 0
		}
		var ev worker.Event
		why := 0
		if held != nil {
			ev, held = *held, nil
		} else {
			ev, why = st.NextOr(gone, poked, watchC, deadline)
		}
		switch why {
		case worker.Poked, worker.Timer1:
			watchC, poked = nil, nil
			if x.bodyDone {
				var stop func()
				gone, stop = x.out.watch()
				defer stop()
			}
			continue
		case worker.Timer2:
			x.timedOut(st, asgi)
			return buf, false
		case worker.Done:
			// ASGI's http.disconnect: the worker tells the app, then
			// cancels it after the grace period; nothing more goes out.
			x.cancel(st)
			x.close = true
			return buf, false
		}
		if ev.Err != nil {
			if !x.started {
				if x.w.TimedOut() {
					x.status = 504
					x.out.fail(504, "The worker handling this request timed out.")
				} else {
					elog.Error("Worker (pid:%d) went away while handling %s %s; answered 502", x.w.PID(), x.req.Method, x.req.Target)
					x.status = 502
					x.out.fail(502, "The worker handling this request exited.")
				}
			}
			return buf, false
		}
		var err error
		switch ev.Type {
		case wire.More:
			buf, err = x.sendBody(st, buf, ev.Payload)
			if err != nil {
				return buf, false
			}
			continue
		case wire.Response:
			var head, body []byte
			head, body, err = wire.SplitHead(ev.Payload)
			if err == nil {
				err = x.writeHead(head)
			}
			if err != nil {
				elog.Error("Bad response from worker (pid:%d) for %s %s: %v", x.w.PID(), x.req.Method, x.req.Target, err)
				x.cancel(st)
				if !x.started {
					x.out.fail(500, "")
				}
				return buf, false
			}
			x.started = true
			err = x.writeBody(body)
			owed += len(body) // the first body bytes count against the window too
		case wire.RespBody:
			err = x.writeBody(ev.Payload)
			owed += len(ev.Payload)
		case wire.Sendfile:
			err = x.sendFile(ev.File, ev.Payload)
			ev.File.Close()
		case wire.Info:
			// 103 Early Hints: best effort, never fatal to the response.
			if status, hdrs, err := wire.DecodeResponseHead(ev.Payload, x.hdrs[:0]); err == nil && !x.started {
				x.hdrs = hdrs
				err = x.out.info(status, hdrs)
			}
			continue
		case wire.Abort:
			elog.Debug("response aborted by worker: %s", ev.Payload)
			return buf, false
		default:
			continue
		}
		if err != nil {
			x.cancel(st)
			return buf, false
		}
		if ev.End() {
			if x.remaining > 0 && !x.noBody {
				x.close = true // shorter than its Content-Length: the client would wait forever
			}
			return buf, x.out.end(x) == nil
		}
		// Frames the worker sent together (a burst of server-sent events)
		// leave in one write, flushed at the top of the loop before it
		// waits for more.
		dirty = true
		if next, ok := st.TryNext(); ok {
			held = &next
		}
	}
}

// flushOwed flushes the client buffer and grants an ASGI stream the owed
// body bytes back.
func (x *exchange) flushOwed(st *worker.Stream, owed int) error {
	if x.asgi && owed > 0 {
		return x.grant(st, owed) // flushes first
	}
	return x.out.flush()
}

// timedOut answers a request past --request-timeout: 504 if nothing was
// sent yet, and CANCEL to the worker. A WSGI worker cannot drop the work
// it is doing, so it is also replaced.
func (x *exchange) timedOut(st *worker.Stream, asgi bool) {
	cfg := &x.srv.cfg
	cfg.ErrorLog.Error("Request timeout (%v) for %s %s on worker (pid:%d)", cfg.RequestTimeout, x.req.Method, x.req.Target, x.w.PID())
	x.cancel(st)
	if !x.started {
		x.status = 504
		x.out.fail(504, "The request took longer than the request timeout.")
	}
	x.close = true
	if !asgi && cfg.WorkerStuck != nil {
		cfg.WorkerStuck(x.w)
	}
}

// windowGrant is how many written bytes the front gathers before it
// grants them back to an ASGI stream with WINDOW (docs/protocol.md).
const windowGrant = 256 << 10

// grant flushes n body bytes to the client and, every windowGrant bytes,
// lets the worker send as many more. A client that stops reading blocks the
// flush, so the app's send() stops once its window is spent.
func (x *exchange) grant(st *worker.Stream, n int) error {
	if err := x.out.flush(); err != nil {
		return err
	}
	x.unacked += n
	if x.unacked < windowGrant {
		return nil
	}
	var b [wire.HeaderSize + 4]byte
	wire.PutHeader(b[:], wire.Window, 0, st.ID(), 4)
	binary.LittleEndian.PutUint32(b[wire.HeaderSize:], uint32(x.unacked))
	x.unacked = 0
	return st.Worker().Write(b[:])
}

func (x *exchange) cancel(st *worker.Stream) {
	var b [wire.HeaderSize]byte
	wire.PutHeader(b[:], wire.Cancel, 0, st.ID(), 0)
	st.Worker().Write(b[:])
}

// sendBody answers MORE(n) with up to n body bytes.
func (x *exchange) sendBody(st *worker.Stream, buf, p []byte) ([]byte, error) {
	n, err := wire.ParseMore(p)
	if err != nil {
		return buf, err
	}
	if n > 4<<20 {
		n = 4 << 20
	}
	buf = wire.AppendHeader(buf[:0], wire.ReqBody, 0, st.ID(), 0)
	done := x.bodyDone
	if !done {
		buf, done, err = readBody(buf, x.body, int(n), !x.asgi)
		if err != nil {
			x.cancel(st)
			x.bodyFailed(err)
			return buf, err
		}
		x.bodyDone = done
	}
	flags := byte(0)
	if done {
		flags = wire.FlagEnd
	}
	wire.PutHeader(buf, wire.ReqBody, flags, st.ID(), uint32(len(buf)-wire.HeaderSize))
	return buf, st.Worker().Write(buf)
}

// bodyFailed answers a body that was malformed; a body that broke off
// leaves nobody to answer.
func (x *exchange) bodyFailed(err error) {
	var he *http1.Error
	if errors.As(err, &he) && !x.started {
		x.srv.cfg.ErrorLog.Warning("Invalid request from ip=%s: %s", x.peer.logIP(), he.Msg)
		x.out.fail(he.Status, he.Msg)
	}
}

// spoolMemory is how much of a request body the front keeps in memory
// before it spools the rest to a temporary file.
const spoolMemory = 1 << 20

// spool reads body to its end and returns a reader of what it read.
func spool(body io.Reader) (io.Reader, func(), error) {
	mem := make([]byte, 0, 64<<10)
	for len(mem) < spoolMemory {
		if len(mem) == cap(mem) {
			mem = append(mem, 0)[:len(mem)]
		}
		n, err := body.Read(mem[len(mem):cap(mem)])
		mem = mem[:len(mem)+n]
		if err == io.EOF {
			return bytes.NewReader(mem), func() {}, nil
		}
		if err != nil {
			return nil, func() {}, err
		}
	}
	f, err := os.CreateTemp("", "gonicorn-body-")
	if err != nil {
		return nil, func() {}, err
	}
	os.Remove(f.Name()) // unlinked: gone with the descriptor, whatever happens
	cleanup := func() { f.Close() }
	if _, err := io.Copy(f, body); err != nil {
		cleanup()
		return nil, func() {}, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return nil, func() {}, err
	}
	return io.MultiReader(bytes.NewReader(mem), f), cleanup, nil
}

// readBody appends up to want body bytes to buf. done means the body
// ended. Unless greedy, it returns after the first read that got bytes.
func readBody(buf []byte, body io.Reader, want int, greedy bool) ([]byte, bool, error) {
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
		if !greedy && got > 0 {
			break
		}
	}
	return buf[:len(buf)+got], false, nil
}

var hopByHop = []string{"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers", "transfer-encoding", "upgrade"}

// writeHead decodes the worker's response head, applies the rules every
// protocol shares, and hands the rest to the sink.
func (x *exchange) writeHead(head []byte) error {
	status, hdrs, err := wire.DecodeResponseHead(head, x.hdrs[:0])
	x.hdrs = hdrs
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
	x.noBody = ascii.EqualFold(x.req.Method, "head") || code < 200 || code == 204 || code == 304
	kept := hdrs[:0]
	for _, h := range hdrs {
		if isHopByHop(h[0]) {
			// The worker's own error pages say Connection: close, as
			// gunicorn's do; honour that, drop the rest.
			if ascii.EqualFold(h[0], "connection") && ascii.EqualFold(ascii.TrimOWS(h[1]), "close") {
				x.close = true
			}
			continue
		}
		h[1] = ascii.TrimOWS(h[1])
		if ascii.EqualFold(h[0], "content-length") {
			n, err := strconv.ParseInt(string(h[1]), 10, 64)
			if err != nil || n < 0 {
				return errors.New("invalid Content-Length " + strconv.Quote(string(h[1])))
			}
			x.remaining = n
		}
		kept = append(kept, h)
	}
	if x.srv.cfg.AccessLog.Enabled() {
		x.respHeader = x.respHeader[:0]
		for _, h := range kept {
			x.respHeader = append(x.respHeader, logging.Header{Name: h[0], Value: h[1]})
		}
	}
	return x.out.head(x, status, kept)
}

func isHopByHop(name []byte) bool {
	for _, h := range hopByHop {
		if ascii.EqualFold(name, h) {
			return true
		}
	}
	return false
}

// writeBody passes body bytes on. Bytes past a declared Content-Length
// are dropped, as gunicorn does.
func (x *exchange) writeBody(b []byte) error {
	if len(b) == 0 || x.noBody {
		return nil
	}
	if x.remaining >= 0 {
		if int64(len(b)) > x.remaining {
			b = b[:x.remaining]
		}
		x.remaining -= int64(len(b))
	}
	x.sent += int64(len(b))
	return x.out.body(x, b)
}

func (x *exchange) sendFile(f *os.File, p []byte) error {
	off, count, err := wire.ParseSendfile(p)
	if err != nil {
		return err
	}
	if f == nil {
		return errors.New("front: SENDFILE without a file")
	}
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() {
		if size := uint64(fi.Size()); off > size {
			count = 0
		} else if count > size-off {
			count = size - off
		}
	}
	if count == wire.SendfileToEnd {
		return errors.New("front: SENDFILE of a file whose size is unknown")
	}
	n := int64(count)
	if x.remaining >= 0 && n > x.remaining {
		n = x.remaining
	}
	if x.noBody || n == 0 {
		return nil
	}
	// The descriptor is a dup of the worker's: it gave the file away, so
	// moving the shared offset is harmless.
	if _, err := f.Seek(int64(off), io.SeekStart); err != nil {
		return err
	}
	if err := x.out.file(x, f, n); err != nil {
		return err
	}
	x.sent += n
	if x.remaining >= 0 {
		x.remaining -= n
	}
	return nil
}
