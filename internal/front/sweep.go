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
//
// It ticks only while some connection waits on it, and sleeps otherwise,
// so a server holding thousands of WebSockets or streams does not scan
// them a hundred times a second: a connection that starts waiting on a
// sleeping sweeper wakes it (Server.needSweep).
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

// joinSweeper wakes the sweeper and waits for it to return; Shutdown calls
// it once no connection is left.
func (s *Server) joinSweeper() {
	s.mu.Lock()
	done := s.sweepDone
	s.mu.Unlock()
	if done != nil {
		s.kickSweeper()
		<-done
	}
}

// needSweep wakes a sleeping sweeper; a connection calls it after it
// published a wait the sweeper must end (idleUntil or runSince).
func (s *Server) needSweep() {
	if s.sweepAsleep.Load() && s.sweepAsleep.CompareAndSwap(true, false) {
		s.kickSweeper()
	}
}

func (s *Server) kickSweeper() {
	select {
	case s.sweepWake <- struct{}{}:
	default:
	}
}

// sweep ticks while some connection waits on it and sleeps otherwise; it
// returns once the server is shutting down and the last connection closed.
func (s *Server) sweep() {
	defer close(s.sweepDone)
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		s.mu.Lock()
		if s.shutting && len(s.conns) == 0 {
			s.mu.Unlock()
			return
		}
		waiting := s.sweepConns()
		if !waiting {
			// Publish the sleep, then look once more: a connection that
			// started waiting after the first scan either sees the flag
			// and wakes us, or is seen by this scan.
			s.sweepAsleep.Store(true)
			if waiting = s.sweepConns(); waiting {
				s.sweepAsleep.Store(false)
			}
		}
		s.mu.Unlock()
		if waiting {
			<-t.C
			continue
		}
		t.Stop()
		<-s.sweepWake
		t.Reset(sweepEvery)
	}
}

// sweepConns runs one tick over the connections (s.mu held) and reports
// whether any still waits on the sweeper.
func (s *Server) sweepConns() (waiting bool) {
	now := time.Now().UnixNano()
	for c := range s.conns {
		if c.sweep(now) {
			waiting = true
		}
	}
	return waiting
}

// sweep ends the connection's keep-alive wait once it passed its limit,
// and tells a running ASGI exchange to start watching its client. It
// reports whether the connection still waits on the sweeper.
func (c *conn) sweep(now int64) (waiting bool) {
	switch c.state.Load() {
	case stateIdle:
		d := c.idleUntil.Load()
		if d == 0 {
			return false // the first request's wait has a read deadline
		}
		if now < d {
			return true
		}
		if c.state.CompareAndSwap(stateIdle, stateExpired) {
			c.nc.SetReadDeadline(time.Unix(1, 0)) // wakes the Peek; serve returns
		}
	case stateActive:
		t := c.runSince.Load()
		if t <= 0 {
			return false // no ASGI exchange, or it was poked
		}
		if now-t < int64(watchDelay) {
			return true
		}
		if c.runSince.CompareAndSwap(t, -1) {
			select {
			case c.poke <- struct{}{}:
			default:
			}
		}
	}
	return false
}
