package dispatch

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/gonicorn/gonicorn/internal/worker"
)

// ErrClosed is returned by Acquire after Close.
var ErrClosed = errors.New("dispatch: shutting down")

// ErrTimeout is returned when no slot freed up within the queue deadline.
var ErrTimeout = errors.New("dispatch: no worker became free in time")

// maxSlots bounds the slot channels: far above any sane workers × threads.
const maxSlots = 1 << 16

// spareMaxBusy is how long a one-request-at-a-time worker may have been
// on its current request for its spare slot to be used. A request queued
// behind a fast one starts the moment the worker is free, without waiting
// for the Go side to hand it over; behind a slow one it would wait, so a
// worker busy longer than this does not take one.
const spareMaxBusy = 2 * time.Millisecond

// Slot is a worker slot taken by Acquire; give it back with Release.
type Slot struct {
	W     *worker.Worker
	spare bool
}

// Pool holds free worker slots. A slot is a *worker.Worker token in a
// channel: taking one is a single channel receive, which keeps the hot path
// short. Tokens of workers that stopped being usable are dropped lazily when
// they are taken.
//
// A worker that runs one request at a time (sync) also has a spare slot: a
// request may be queued on the worker itself, behind the one it runs, when
// every worker is busy and that one has only just started. The worker then
// reads the next request from its socket as it finishes the current one,
// instead of idling while the Go side hands it over.
type Pool struct {
	useSpares bool
	slots     chan *worker.Worker
	spares    chan *worker.Worker
	closed    chan struct{}
	waiting   atomic.Int64
}

// New makes an empty pool. spares enables the spare slots of sync workers;
// leave them off when a queue deadline or bound is set, since a request
// queued on a worker is out of the reach of both.
func New(spares bool) *Pool {
	return &Pool{
		useSpares: spares,
		slots:     make(chan *worker.Worker, maxSlots),
		spares:    make(chan *worker.Worker, maxSlots),
		closed:    make(chan struct{}),
	}
}

// Add makes the slots of a ready worker available: capacity regular slots,
// and one spare slot when capacity is 1.
func (p *Pool) Add(w *worker.Worker, capacity int) {
	for i := 0; i < capacity; i++ {
		select {
		case p.slots <- w:
		default:
			return
		}
	}
	if capacity == 1 && p.useSpares {
		select {
		case p.spares <- w:
		default:
		}
	}
}

// Acquire takes a slot of a usable worker. A zero timeout waits until a slot
// frees up or the pool closes; abort, when it fires, gives up early.
func (p *Pool) Acquire(timeout time.Duration, abort <-chan struct{}) (Slot, error) {
	// A free regular slot always wins over a spare; tokens of workers
	// gone unusable are dropped on the way.
	for {
		select {
		case w := <-p.slots:
			if w.Usable() {
				return Slot{W: w}, nil
			}
			continue
		default:
		}
		break
	}
	p.waiting.Add(1)
	defer p.waiting.Add(-1)
	var deadline <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		deadline = t.C
	}
	spares := p.spares
	var retry *time.Timer
	defer func() {
		if retry != nil {
			retry.Stop()
		}
	}()
	var retryC <-chan time.Time
	for {
		select {
		case w := <-p.slots:
			if w.Usable() {
				return Slot{W: w}, nil
			}
		case w := <-spares:
			if !w.Usable() {
				continue // dropped with its worker
			}
			if w.BusyFor(time.Now()) < spareMaxBusy {
				return Slot{W: w, spare: true}, nil
			}
			// Its current request is slow: put the spare back and look at
			// spares again a little later, so as not to spin on it.
			p.putSpare(w)
			spares = nil
			if retry == nil {
				retry = time.NewTimer(time.Millisecond)
			} else {
				retry.Reset(time.Millisecond)
			}
			retryC = retry.C
		case <-retryC:
			spares, retryC = p.spares, nil
		case <-deadline:
			return Slot{}, ErrTimeout
		case <-abort:
			return Slot{}, ErrClosed
		case <-p.closed:
			return Slot{}, ErrClosed
		}
	}
}

func (p *Pool) putSpare(w *worker.Worker) {
	select {
	case p.spares <- w:
	default:
	}
}

// Release gives a slot back. Slots of workers that are draining or gone are
// not returned, so their capacity disappears with them.
func (p *Pool) Release(s Slot) {
	if !s.W.Usable() {
		return
	}
	if s.spare {
		p.putSpare(s.W)
		return
	}
	select {
	case p.slots <- s.W:
	default:
	}
}

// Waiting is how many requests wait for a slot.
func (p *Pool) Waiting() int { return int(p.waiting.Load()) }

// Close wakes every waiter with ErrClosed.
func (p *Pool) Close() {
	select {
	case <-p.closed:
	default:
		close(p.closed)
	}
}
