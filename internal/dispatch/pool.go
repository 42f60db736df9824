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

// maxSlots bounds the slot channel: far above any sane workers × threads.
const maxSlots = 1 << 16

// Pool holds free worker slots. A slot is a *worker.Worker token in a
// channel: taking one is a single channel receive, which keeps the hot path
// short. Tokens of workers that stopped being usable are dropped lazily when
// they are taken.
type Pool struct {
	slots   chan *worker.Worker
	closed  chan struct{}
	waiting atomic.Int64
}

// New makes an empty pool.
func New() *Pool {
	return &Pool{slots: make(chan *worker.Worker, maxSlots), closed: make(chan struct{})}
}

// Add makes n slots of w available.
func (p *Pool) Add(w *worker.Worker, n int) {
	for i := 0; i < n; i++ {
		select {
		case p.slots <- w:
		default:
			return
		}
	}
}

// Acquire takes a slot of a usable worker. A zero timeout waits until a slot
// frees up or the pool closes; abort, when it fires, gives up early (the
// client went away).
func (p *Pool) Acquire(timeout time.Duration, abort <-chan struct{}) (*worker.Worker, error) {
	for {
		select {
		case w := <-p.slots:
			if w.Usable() {
				return w, nil
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
	for {
		select {
		case w := <-p.slots:
			if w.Usable() {
				return w, nil
			}
		case <-deadline:
			return nil, ErrTimeout
		case <-abort:
			return nil, ErrClosed
		case <-p.closed:
			return nil, ErrClosed
		}
	}
}

// Release gives a slot back. Slots of workers that are draining or gone are
// not returned, so their capacity disappears with them.
func (p *Pool) Release(w *worker.Worker) {
	if w.Usable() {
		select {
		case p.slots <- w:
		default:
		}
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
