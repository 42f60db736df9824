package front

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/front/http1"
)

// waitFor polls cond for up to 2 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("after 2 s: %s", what)
}

func TestSweeperEndsWaitsAndSleepsWhenNoneAreLeft(t *testing.T) {
	s, err := New(Config{Parser: http1.DefaultOptions()})
	if err != nil {
		t.Fatal(err)
	}
	s.startSweeper()
	waitFor(t, "the sweeper sleeps with no connection", s.sweepAsleep.Load)

	// A keep-alive wait that ends in 30 ms: the sweeper wakes for it,
	// ends it with a read deadline in the past, and sleeps again.
	ours, theirs := net.Pipe()
	defer theirs.Close()
	idle := &conn{s: s, nc: ours}
	start := time.Now()
	idle.idleUntil.Store(start.Add(30 * time.Millisecond).UnixNano())
	idle.state.Store(stateIdle)
	s.mu.Lock()
	s.conns[idle] = struct{}{}
	s.mu.Unlock()
	s.needSweep()
	_, err = ours.Read(make([]byte, 1))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read on the idle connection: %v; want the deadline the sweeper set", err)
	}
	if took := time.Since(start); took < 30*time.Millisecond {
		t.Fatalf("the wait ended after %v, before its 30 ms", took)
	}
	if st := idle.state.Load(); st != stateExpired {
		t.Fatalf("state %d after the sweep; want stateExpired", st)
	}
	waitFor(t, "the sweeper sleeps once the wait ended", s.sweepAsleep.Load)

	// An ASGI exchange running for watchDelay gets one poke; an active
	// connection without one (a WebSocket) keeps the sweeper asleep.
	busy := &conn{s: s, nc: ours, poke: make(chan struct{}, 1)}
	busy.state.Store(stateActive)
	s.mu.Lock()
	delete(s.conns, idle)
	s.conns[busy] = struct{}{}
	s.mu.Unlock()
	time.Sleep(3 * sweepEvery)
	if !s.sweepAsleep.Load() {
		t.Fatal("the sweeper ticks for an active connection that waits on nothing")
	}
	start = time.Now()
	busy.runSince.Store(start.UnixNano())
	s.needSweep()
	select {
	case <-busy.poke:
	case <-time.After(2 * time.Second):
		t.Fatal("no poke after 2 s")
	}
	if took := time.Since(start); took < watchDelay {
		t.Fatalf("poked after %v, before watchDelay", took)
	}
	if got := busy.runSince.Load(); got != -1 {
		t.Fatalf("runSince %d after the poke; want -1", got)
	}
	waitFor(t, "the sweeper sleeps once the exchange was poked", s.sweepAsleep.Load)

	// Shutdown joins it.
	s.mu.Lock()
	delete(s.conns, busy)
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.Shutdown(time.Second); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("Shutdown did not return: the sweeper was not joined")
	}
	select {
	case <-s.sweepDone:
	default:
		t.Fatal("Shutdown returned before the sweeper did")
	}
}
