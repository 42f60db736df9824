package worker

import (
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gonicorn/gonicorn/internal/ipc"
	"github.com/gonicorn/gonicorn/internal/wire"
)

// State is a worker's place in its lifecycle.
type State int32

// The lifecycle: Spawning → Booting (pid known) → Ready (HELLO received) →
// Draining (no new requests) → Exited. Ready workers are the only ones the
// dispatcher routes to.
const (
	Spawning State = iota
	Booting
	Ready
	Draining
	Exited
)

var stateNames = [...]string{"spawning", "booting", "ready", "draining", "exited"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int32(s))
}

// Hello is what a worker announces when its app is loaded.
type Hello struct {
	PID         int    `json:"pid"`
	WorkerID    int    `json:"worker_id"`
	Runtime     string `json:"runtime"`
	Python      string `json:"python"`
	AppKind     string `json:"app_kind"`
	WorkerClass string `json:"worker_class"`
	Capacity    int    `json:"capacity"`
	// Heartbeat: the worker sends HEARTBEAT from its main loop, and --timeout
	// is judged by it (gunicorn's semantics for non-sync classes).
	Heartbeat bool `json:"heartbeat"`
}

// Notice is what a worker's reader reports to the arbiter.
type Notice struct {
	W       *Worker
	Hello   *Hello
	Recycle string // reason, when the worker asked to be replaced
	Lost    error  // the channel closed or broke
	Idle    bool   // a draining worker finished its last request
}

// ErrWorkerLost is the error a stream sees when its worker's channel closes.
var ErrWorkerLost = errors.New("worker: the worker exited or its channel broke")

// Worker is one Python worker as the Go side sees it.
type Worker struct {
	ID   int
	Age  int
	conn *ipc.Conn

	pid      atomic.Int64
	state    atomic.Int32
	inflight atomic.Int32
	hello    atomic.Pointer[Hello] // set once by the reader goroutine
	born     time.Time

	mu      sync.Mutex
	streams map[uint32]*Stream

	// Frames to an ASGI worker: Write queues them and the flusher that
	// Serve runs sends all that is queued in one write(2).
	wmu     sync.Mutex
	wcond   *sync.Cond // signalled when the flusher took a batch
	pending []byte
	spare   []byte // the last batch's buffer, reused
	kicked  bool   // the flusher has been told about pending
	werr    error  // the first write error; later writes fail with it
	kick    chan struct{}

	// oldest in-flight request start, for the timeout check (unix nanos, 0 = idle)
	busySince atomic.Int64
	// last HELLO or HEARTBEAT (unix nanos)
	lastBeat atomic.Int64
	timedOut atomic.Bool
}

// New wraps a worker channel.
func New(id, age int, conn *ipc.Conn) *Worker {
	w := &Worker{ID: id, Age: age, conn: conn, streams: make(map[uint32]*Stream), born: time.Now(), kick: make(chan struct{}, 1)}
	w.wcond = sync.NewCond(&w.wmu)
	return w
}

// PID is 0 until the zygote reported the fork.
func (w *Worker) PID() int { return int(w.pid.Load()) }

// SetPID records the pid reported by the zygote.
func (w *Worker) SetPID(pid int) {
	w.pid.Store(int64(pid))
	w.state.CompareAndSwap(int32(Spawning), int32(Booting))
}

// State reports the lifecycle state.
func (w *Worker) State() State { return State(w.state.Load()) }

// Info is the HELLO the worker sent.
// It is the zero Hello until the HELLO arrived.
func (w *Worker) Info() Hello {
	if h := w.hello.Load(); h != nil {
		return *h
	}
	return Hello{}
}

// Usable reports whether new requests may go to this worker.
func (w *Worker) Usable() bool { return w.State() == Ready }

// Drain stops routing to the worker; Notice.Idle fires when its last request ends.
func (w *Worker) Drain() (idle bool) {
	for {
		s := w.state.Load()
		if s == int32(Exited) || s == int32(Draining) {
			return w.inflight.Load() == 0
		}
		if w.state.CompareAndSwap(s, int32(Draining)) {
			return w.inflight.Load() == 0
		}
	}
}

// Inflight is the number of open request streams.
func (w *Worker) Inflight() int { return int(w.inflight.Load()) }

// BusyFor is how long the worker has been running requests without a pause.
func (w *Worker) BusyFor(now time.Time) time.Duration {
	t := w.busySince.Load()
	if t == 0 {
		return 0
	}
	return now.Sub(time.Unix(0, t))
}

// SilentFor is how long a heartbeat worker has not been heard from; 0 for
// workers that do not send heartbeats or have not booted.
func (w *Worker) SilentFor(now time.Time) time.Duration {
	t := w.lastBeat.Load()
	if t == 0 || !w.Info().Heartbeat {
		return 0
	}
	return now.Sub(time.Unix(0, t))
}

// MarkTimedOut records that the arbiter is killing the worker for its
// --timeout; the requests it held are then answered 504, not 502.
func (w *Worker) MarkTimedOut() { w.timedOut.Store(true) }

// TimedOut reports MarkTimedOut.
func (w *Worker) TimedOut() bool { return w.timedOut.Load() }

// Signal sends a signal to the worker process.
func (w *Worker) Signal(sig syscall.Signal) error {
	pid := w.PID()
	if pid <= 0 {
		return errors.New("worker: pid not known yet")
	}
	return syscall.Kill(pid, sig)
}

// Close closes the channel; the worker reads EOF and exits.
func (w *Worker) Close() { w.conn.Close() }

// Serve reads the channel until it closes, reporting to notices. The
// arbiter owns the goroutine running it and joins it through its WaitGroup.
func (w *Worker) Serve(notices chan<- Notice) {
	stop := make(chan struct{})
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		w.flushLoop(stop)
	}()
	err := w.readLoop(notices)
	close(stop)
	<-flushed
	w.state.Store(int32(Exited))
	w.mu.Lock()
	streams := w.streams
	w.streams = map[uint32]*Stream{}
	w.mu.Unlock()
	for _, s := range streams {
		s.push(Event{Err: ErrWorkerLost})
	}
	notices <- Notice{W: w, Lost: err}
}

func (w *Worker) readLoop(notices chan<- Notice) error {
	for {
		f, err := w.conn.ReadFrame()
		if err != nil {
			return err
		}
		switch f.Type {
		case wire.Hello:
			doc, err := wire.ParseHello(f.Payload)
			if err != nil {
				return err
			}
			var h Hello
			if err := json.Unmarshal(doc, &h); err != nil {
				return fmt.Errorf("worker: bad HELLO: %w", err)
			}
			if h.Capacity < 1 {
				h.Capacity = 1
			}
			w.hello.Store(&h)
			w.lastBeat.Store(time.Now().UnixNano())
			w.state.CompareAndSwap(int32(Booting), int32(Ready))
			w.state.CompareAndSwap(int32(Spawning), int32(Ready))
			notices <- Notice{W: w, Hello: &h}
		case wire.Heartbeat:
			w.lastBeat.Store(time.Now().UnixNano())
		case wire.Recycle:
			var r struct{ Reason string }
			_ = json.Unmarshal(f.Payload, &r)
			notices <- Notice{W: w, Recycle: r.Reason}
		case wire.Response, wire.RespBody, wire.More, wire.Sendfile, wire.Abort, wire.Info, wire.WSAccept, wire.WSMsg, wire.WSClose:
			ev := Event{Type: f.Type, Flags: f.Flags}
			if f.Type == wire.Sendfile {
				file, err := w.conn.TakeFD()
				if err != nil {
					return err
				}
				ev.File = file
			}
			if len(f.Payload) > 0 {
				ev.Payload = append([]byte(nil), f.Payload...)
			}
			// Pushing under w.mu orders us against Stream.Close: once a
			// stream is unregistered nothing more lands in its queue.
			w.mu.Lock()
			s := w.streams[f.Stream]
			if s != nil {
				s.push(ev)
			}
			w.mu.Unlock()
			if s == nil && ev.File != nil {
				ev.File.Close() // the request was cancelled
			}
			if s != nil && (ev.End() || f.Type == wire.Abort) {
				// The worker is done with this stream: its slot can take the
				// next request now, while the front still writes this response.
				s.workerDone()
			}
		default:
			return fmt.Errorf("worker: unexpected %s frame from worker", wire.TypeName(f.Type))
		}
	}
}

// Open registers a request stream before its REQUEST frame is written.
// onDone (may be nil) runs once the worker is done with it; see Stream.
func (w *Worker) Open(id uint32, onDone func()) *Stream {
	s := &Stream{id: id, w: w, notify: make(chan struct{}, 1), onDone: onDone}
	w.mu.Lock()
	w.streams[id] = s
	w.mu.Unlock()
	if w.inflight.Add(1) == 1 {
		w.busySince.Store(time.Now().UnixNano())
	}
	return s
}

// Write sends whole frames to the worker. For an ASGI worker it queues
// them and the flusher sends them; it
// blocks only while more than maxPending bytes wait, which keeps the
// backpressure of a full socket for senders that have no credit scheme
// (WebSocket messages). A write error fails every later Write; the worker
// is gone then, and its streams learn it from the read side.
func (w *Worker) Write(b []byte) error {
	if h := w.hello.Load(); h == nil || h.AppKind != "asgi" {
		// Measured on hello-world (docs/benchmarks.md): batching gives an
		// asyncio worker ~8% more req/s, as it reads many requests per
		// wake-up; it costs a gevent worker ~10% and a sync worker ~20%
		// (one request at a time: only the extra goroutine switch).
		return w.conn.Write(b)
	}
	w.wmu.Lock()
	for len(w.pending) > maxPending && w.werr == nil {
		w.wcond.Wait()
	}
	if err := w.werr; err != nil {
		w.wmu.Unlock()
		return err
	}
	w.pending = append(w.pending, b...)
	kick := !w.kicked
	w.kicked = true
	w.wmu.Unlock()
	if kick {
		select {
		case w.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

const (
	maxPending = 1 << 20 // queued bytes before Write waits
	maxSpare   = 1 << 20 // largest batch buffer kept for reuse
)

// flushLoop sends queued frames until stop closes. Under load the
// requests of many connections bound for this worker leave in one
// write(2), and the worker reads them in one read.
func (w *Worker) flushLoop(stop <-chan struct{}) {
	for {
		select {
		case <-w.kick:
		case <-stop:
			w.wmu.Lock()
			if w.werr == nil {
				w.werr = ErrWorkerLost
			}
			w.wcond.Broadcast()
			w.wmu.Unlock()
			return
		}
		// The goroutines runnable now (other connections' requests that
		// arrived in the same poll) queue their frames before the write.
		runtime.Gosched()
		w.wmu.Lock()
		b := w.pending
		w.pending = w.spare[:0]
		w.spare = nil
		w.kicked = false
		w.wcond.Broadcast()
		w.wmu.Unlock()
		if len(b) == 0 {
			continue
		}
		err := w.conn.Write(b)
		w.wmu.Lock()
		if err != nil && w.werr == nil {
			w.werr = err
			w.wcond.Broadcast()
		}
		if cap(b) <= maxSpare {
			w.spare = b[:0]
		}
		w.wmu.Unlock()
	}
}

// finish unregisters a stream; it reports whether a draining worker went idle.
func (w *Worker) finish(s *Stream) (idle bool) {
	w.mu.Lock()
	if w.streams[s.id] == s {
		delete(w.streams, s.id)
	}
	w.mu.Unlock()
	n := w.inflight.Add(-1)
	if n == 0 {
		w.busySince.Store(0)
	} else {
		// A fresh request starts its own clock; sync workers have capacity 1,
		// so this only matters for threaded classes.
		w.busySince.Store(time.Now().UnixNano())
	}
	return n == 0 && w.State() == Draining
}

// Born is when the worker was spawned.
func (w *Worker) Born() time.Time { return w.born }

// String names the worker for logs.
func (w *Worker) String() string {
	return fmt.Sprintf("worker %d (pid %d, %s)", w.ID, w.PID(), w.State())
}
