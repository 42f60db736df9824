package front

import (
	"time"
)

// The sweeper is the clock of the HTTP/1 connections' waits that most
// requests never reach: the keep-alive idle limit, and the start of the
// disconnect watch of an ASGI request still running after watchDelay.
// Setting and clearing a read deadline and a timer on every request cost
// the master about 2 µs of its 16 µs per hello-world request
// (docs/benchmarks.md); a tick over the open connections costs nothing per
// request. Its price is precision: an idle connection closes between
// keepalive and keepalive + sweepEvery, a watch starts between watchDelay
// and watchDelay + sweepEvery.
const sweepEvery = 10 * time.Millisecond

// startSweeper runs the sweeper once, on the first Serve; Shutdown joins it.
func (s *Server) startSweeper() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sweepDone != nil {
		return
	}
	s.sweepDone = make(chan struct{})
	go s.sweep()
}

// joinSweeper waits for the sweeper to return; Shutdown calls it once no
// connection is left.
func (s *Server) joinSweeper() {
	s.mu.Lock()
	done := s.sweepDone
	s.mu.Unlock()
	if done != nil {
		<-done
	}
}

// kickSweeper wakes a sweeper that sleeps because no connection was open.
func (s *Server) kickSweeper() {
	select {
	case s.sweepWake <- struct{}{}:
	default:
	}
}

// sweep ticks while connections are open and sleeps while none are; it
// returns once the server is shutting down and the last connection closed.
func (s *Server) sweep() {
	defer close(s.sweepDone)
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		s.mu.Lock()
		if len(s.conns) == 0 {
			shutting := s.shutting
			s.mu.Unlock()
			if shutting {
				return
			}
			t.Stop()
			<-s.sweepWake
			t.Reset(sweepEvery)
			continue
		}
		now := time.Now().UnixNano()
		for c := range s.conns {
			c.sweep(now)
		}
		s.mu.Unlock()
		<-t.C
	}
}

// sweep ends the connection's keep-alive wait once it passed its limit,
// and tells a running ASGI exchange to start watching its client.
func (c *conn) sweep(now int64) {
	switch c.state.Load() {
	case stateIdle:
		if d := c.idleUntil.Load(); d != 0 && now >= d && c.state.CompareAndSwap(stateIdle, stateExpired) {
			c.nc.SetReadDeadline(time.Unix(1, 0)) // wakes the Peek; serve returns
		}
	case stateActive:
		if t := c.runSince.Load(); t > 0 && now-t >= int64(watchDelay) && c.runSince.CompareAndSwap(t, -1) {
			select {
			case c.poke <- struct{}{}:
			default:
			}
		}
	}
}
