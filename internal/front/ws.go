package front

import (
	"encoding/binary"
	"net"
	"sync"
	"time"

	"github.com/gonicorn/gonicorn/internal/dispatch"
	"github.com/gonicorn/gonicorn/internal/websocket"
	"github.com/gonicorn/gonicorn/internal/wire"
	"github.com/gonicorn/gonicorn/internal/worker"
)

// Kind bytes of a WS_MSG payload (docs/protocol.md).
const (
	wsText   = 0x01
	wsBinary = 0x02
)

// MaxWSMessage is the largest WebSocket message the front hands to a worker:
// a whole message travels in one WS_MSG frame (its kind byte included).
const MaxWSMessage = wire.MaxPayload - 1

// websocketSession relays one upgraded connection between the client and
// an ASGI worker. Go speaks RFC 6455; the worker sees whole messages.
type websocketSession struct {
	c   *conn
	st  *worker.Stream
	hs  *websocket.Handshake
	wmu sync.Mutex // client writes come from both directions (pongs, closes)
	out *websocket.Writer

	closeSent bool // guarded by wmu
}

// serveWebSocket runs an upgrade request on an ASGI worker w (already
// acquired). It always ends the connection.
func (c *conn) serveWebSocket(x *exchange, slot dispatch.Slot) {
	cfg := &c.s.cfg
	w := slot.W
	hs, err := websocket.CheckUpgrade(x.req)
	if err != nil {
		cfg.Pool.Release(slot)
		c.bw.Flush()
		c.nc.Write(websocket.AppendHandshakeError(nil, err))
		return
	}
	if hs.Deflate != nil {
		// Pooled compressors instead of one window per connection: thousands
		// of idle sockets must not cost a megabyte each.
		hs.Deflate.ServerNoContextTakeover = true
	}
	id := c.s.newStreamID()
	buf := wire.AppendHeader(c.frame[:0], wire.Request, wire.FlagEnd, id, 0)
	buf = wire.AppendHeadLen(buf, 0)
	headAt := len(buf)
	buf = appendScope(buf, x.req, x.peer, cfg.RootPath, true, hs.Subprotocols)
	wire.PutHeadLen(buf[headAt-4:], uint32(len(buf)-headAt))
	wire.PutHeader(buf, wire.Request, wire.FlagEnd, id, uint32(len(buf)-wire.HeaderSize))
	c.frame = buf
	st := w.Open(id, func() { cfg.Pool.Release(slot) })
	defer func() {
		if st.Close() && cfg.WorkerIdle != nil {
			cfg.WorkerIdle(w)
		}
	}()
	if err := w.Write(buf); err != nil {
		c.fail(502, "The worker went away.")
		return
	}
	s := &websocketSession{c: c, st: st, hs: hs}
	s.run(x)
}

func (s *websocketSession) run(x *exchange) {
	c := s.c
	// Before the app accepts, the only answers are accept, close (403) or
	// the worker going away.
	for {
		ev, _ := s.st.Next(nil)
		switch {
		case ev.Err != nil:
			c.fail(502, "The worker handling this request exited.")
			return
		case ev.Type == wire.WSClose:
			x.status = 403
			c.fail(403, "")
			return
		case ev.Type == wire.WSAccept:
			if !s.accept(ev.Payload) {
				return
			}
			x.status = 101
			s.pump()
			return
		}
	}
}

// accept writes the 101 response with the app's subprotocol and headers.
func (s *websocketSession) accept(p []byte) bool {
	v, _, err := wire.Unmarshal(p)
	tup, ok := v.([]any)
	if err != nil || !ok || len(tup) != 2 {
		s.c.s.cfg.ErrorLog.Error("Bad WS_ACCEPT from worker (pid:%d): %v", s.st.Worker().PID(), err)
		s.c.fail(500, "")
		return false
	}
	sub, _ := tup[0].(string)
	var extra [][2][]byte
	if hs, ok := tup[1].([]any); ok {
		for _, h := range hs {
			if pair, ok := h.([]any); ok && len(pair) == 2 {
				k, _ := pair[0].(string)
				v, _ := pair[1].(string)
				extra = append(extra, [2][]byte{[]byte(k), []byte(v)})
			}
		}
	}
	out, err := websocket.NewWriter(s.hs.Deflate, websocket.WriterOptions{})
	if err != nil {
		s.c.fail(500, err.Error())
		return false
	}
	s.out = out
	s.c.bw.Flush()
	_, err = s.c.nc.Write(websocket.AppendAccept(nil, s.hs, sub, extra, true))
	return err == nil
}

// pump relays messages both ways until either side closes.
func (s *websocketSession) pump() {
	c := s.c
	gone := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(gone)
		s.readClient()
	}()
	defer wg.Wait()
	var frame []byte
	var held *worker.Event // popped while batching, handled next
	for {
		var ev worker.Event
		if held != nil {
			ev, held = *held, nil
		} else {
			var ok bool
			if ev, ok = s.st.Next(gone); !ok {
				return // the client side ended; readClient told the worker
			}
		}
		switch {
		case ev.Err != nil:
			s.closeClient(1011, "worker exited")
			c.nc.Close()
			return
		case ev.Type == wire.WSMsg && len(ev.Payload) > 0:
			s.wmu.Lock()
			frame = s.out.AppendMessage(frame[:0], wsKind(ev.Payload), ev.Payload[1:])
			// Messages the worker sent together leave in one write.
			for len(frame) < maxWSBatch {
				next, ok := s.st.TryNext()
				if !ok {
					break
				}
				if next.Type != wire.WSMsg || len(next.Payload) == 0 {
					held = &next
					break
				}
				frame = s.out.AppendMessage(frame, wsKind(next.Payload), next.Payload[1:])
			}
			c.nc.SetWriteDeadline(time.Now().Add(30 * time.Second))
			_, err := c.nc.Write(frame)
			s.wmu.Unlock()
			if err != nil {
				c.nc.Close()
				return
			}
		case ev.Type == wire.WSClose:
			code, reason := parseWSClose(ev.Payload)
			s.closeClient(code, reason)
			// Give the client a moment to answer our close, then end.
			c.nc.SetReadDeadline(time.Now().Add(2 * time.Second))
			<-gone
			return
		}
	}
}

// maxWSBatch bounds the bytes of queued messages joined into one write.
const maxWSBatch = 64 << 10

func wsKind(payload []byte) websocket.Kind {
	if payload[0] == wsText {
		return websocket.Text
	}
	return websocket.Binary
}

// readClient reads the client's messages and hands them to the worker.
func (s *websocketSession) readClient() {
	c := s.c
	limit := c.s.cfg.WSMaxMessage
	if limit <= 0 || limit > MaxWSMessage {
		limit = MaxWSMessage
	}
	rd := websocket.NewReader(c.br, websocket.ReaderOptions{MaxMessageSize: limit, Deflate: s.hs.Deflate})
	var frame []byte
	id := s.st.ID()
	w := s.st.Worker()
	for {
		kind, payload, err := rd.ReadMessage()
		if err != nil {
			code := websocket.CloseCodeOf(err)
			if code != websocket.CloseAbnormal {
				reason := ""
				if code == websocket.CloseTooBig {
					reason = "Message too big" // gunicorn 27's asgi worker says this
				}
				s.closeClient(code, reason)
			}
			s.tellWorkerClosed(code, "")
			return
		}
		switch kind {
		case websocket.Text, websocket.Binary:
			b := byte(wsBinary)
			if kind == websocket.Text {
				b = wsText
			}
			frame = wire.AppendHeader(frame[:0], wire.WSMsg, 0, id, uint32(len(payload)+1))
			frame = append(frame, b)
			frame = append(frame, payload...)
			if w.Write(frame) != nil {
				s.closeClient(1011, "worker exited")
				return
			}
		case websocket.Ping:
			s.wmu.Lock()
			c.nc.Write(websocket.AppendFrame(nil, websocket.OpPong, payload, true, false))
			s.wmu.Unlock()
		case websocket.Close:
			cf, err := websocket.ParseClose(payload)
			if err != nil {
				cf.Code = websocket.CloseCodeOf(err)
			}
			s.closeClient(cf.Code, "")
			s.tellWorkerClosed(cf.Code, string(cf.Reason))
			return
		}
	}
}

func (s *websocketSession) tellWorkerClosed(code uint16, reason string) {
	p := binary.LittleEndian.AppendUint16(nil, code)
	p = append(p, reason...)
	s.st.Worker().Write(wire.AppendFrame(nil, wire.WSClose, wire.FlagEnd, s.st.ID(), p))
}

// closeClient sends a close frame once.
func (s *websocketSession) closeClient(code uint16, reason string) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.closeSent {
		return
	}
	s.closeSent = true
	if code == websocket.CloseNoStatus {
		code = websocket.CloseNormal
	}
	s.c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	s.c.nc.Write(websocket.AppendClose(nil, code, reason))
	if tc, ok := s.c.nc.(*net.TCPConn); ok {
		tc.CloseWrite()
	}
}

// parseWSClose reads a WS_CLOSE payload: u16 code then the reason.
func parseWSClose(p []byte) (uint16, string) {
	if len(p) < 2 {
		return websocket.CloseNormal, ""
	}
	return binary.LittleEndian.Uint16(p), string(p[2:])
}
