package dispatch

import (
	"errors"
	"testing"
	"time"

	"github.com/gonicorn/gonicorn/internal/ipc"
	"github.com/gonicorn/gonicorn/internal/worker"
)

// readyWorker makes a worker in the Ready state by feeding it a HELLO over
// a real socketpair, as a Python worker would.
func readyWorker(t *testing.T, id int) *worker.Worker {
	t.Helper()
	conn, peer, err := ipc.Pair()
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := ipc.FromFile(peer)
	peer.Close()
	if err != nil {
		t.Fatal(err)
	}
	w := worker.New(id, id, conn)
	notices := make(chan worker.Notice, 4)
	go w.Serve(notices)
	t.Cleanup(func() { theirs.Close(); w.Close() })
	if err := theirs.Write(helloFrame(id)); err != nil {
		t.Fatal(err)
	}
	select {
	case n := <-notices:
		if n.Hello == nil {
			t.Fatalf("got notice %+v; want HELLO", n)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("no HELLO notice")
	}
	return w
}

func TestAcquireRelease(t *testing.T) {
	p := New(true)
	w := readyWorker(t, 1)
	p.Add(w, 2)
	a, err := p.Acquire(0, nil)
	if err != nil || a.W != w {
		t.Fatalf("Acquire = %v, %v; want worker 1", a, err)
	}
	b, err := p.Acquire(0, nil)
	if err != nil || b.W != w {
		t.Fatalf("second Acquire = %v, %v; want worker 1", b, err)
	}
	if _, err := p.Acquire(50*time.Millisecond, nil); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Acquire on a full pool = %v; want ErrTimeout (a two-slot worker has no spare)", err)
	}
	p.Release(a)
	if got, err := p.Acquire(time.Second, nil); err != nil || got.W != w {
		t.Fatalf("Acquire after Release = %v, %v", got, err)
	}
}

func TestDrainingWorkerLosesSlots(t *testing.T) {
	p := New(true)
	w1, w2 := readyWorker(t, 1), readyWorker(t, 2)
	p.Add(w1, 1)
	p.Add(w2, 1)
	w1.Drain()
	got, err := p.Acquire(20*time.Millisecond, nil)
	if err != nil || got.W != w2 || got.spare {
		t.Fatalf("Acquire = %+v, %v; want worker 2's slot, the only usable one", got, err)
	}
	// Worker 2 is idle (no open stream), so its spare slot is next.
	spare, err := p.Acquire(20*time.Millisecond, nil)
	if err != nil || spare.W != w2 || !spare.spare {
		t.Fatalf("second Acquire = %+v, %v; want worker 2's spare slot", spare, err)
	}
	if got, err := p.Acquire(20*time.Millisecond, nil); !errors.Is(err, ErrTimeout) {
		t.Fatalf("third Acquire = %+v, %v; want ErrTimeout", got, err)
	}
	p.Release(Slot{W: w1}) // a draining worker's slot is not returned
	if _, err := p.Acquire(20*time.Millisecond, nil); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Acquire after releasing a draining worker = %v; want ErrTimeout", err)
	}
}

func TestCloseWakesWaiters(t *testing.T) {
	p := New(true)
	errc := make(chan error, 1)
	go func() {
		_, err := p.Acquire(0, nil)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	p.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("got %v; want ErrClosed", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Close did not wake the waiter")
	}
}

func TestSpareSkipsSlowWorker(t *testing.T) {
	p := New(true)
	w := readyWorker(t, 1)
	p.Add(w, 1)
	first, err := p.Acquire(0, nil)
	if err != nil {
		t.Fatal(err)
	}
	st := w.Open(1, nil) // the worker is now busy on a request
	defer st.Close()
	time.Sleep(3 * spareMaxBusy)
	if got, err := p.Acquire(30*time.Millisecond, nil); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Acquire while the only worker runs a slow request = %+v, %v; want ErrTimeout, not its spare", got, err)
	}
	p.Release(first)
}
