package worker

import (
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonicorn/gonicorn/internal/wire"
)

// Event is one frame of a response (or a body request) queued for the
// goroutine that serves the request.
type Event struct {
	Type    byte
	Flags   byte
	Payload []byte
	File    *os.File // SENDFILE
	Err     error    // the worker was lost
}

// End reports whether the frame closes the worker's side of the stream.
func (e Event) End() bool { return e.Flags&wire.FlagEnd != 0 }

// Stream is one request in flight on a worker. The worker's reader pushes
// events; one request goroutine pops them.
type Stream struct {
	id uint32
	w  *Worker

	mu     sync.Mutex
	queue  []Event
	notify chan struct{}

	// onDone runs once, when the worker has sent the stream's last frame
	// (in the worker's reader goroutine) or the stream closes, whichever
	// comes first. The front gives the worker slot back there, so the next
	// request reaches the worker without waiting for this response to be
	// written to its client.
	onDone func()
	done   atomic.Bool
}

func (s *Stream) workerDone() {
	if s.onDone != nil && s.done.CompareAndSwap(false, true) {
		s.onDone()
	}
}

// ID is the stream id used on the wire.
func (s *Stream) ID() uint32 { return s.id }

// Worker is the worker serving this stream.
func (s *Stream) Worker() *Worker { return s.w }

func (s *Stream) push(e Event) {
	s.mu.Lock()
	s.queue = append(s.queue, e)
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default:
	}
}

// Next waits for the next event, or for done to close.
func (s *Stream) Next(done <-chan struct{}) (Event, bool) {
	ev, r := s.NextOr(done, nil, nil, nil)
	return ev, r == gotEvent
}

// TryNext pops the next event if one is queued, without waiting.
func (s *Stream) TryNext() (Event, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.queue) == 0 {
		return Event{}, false
	}
	e := s.queue[0]
	s.queue[0] = Event{}
	s.queue = s.queue[1:]
	return e, true
}

// Reasons NextOr returns.
const (
	gotEvent = iota
	// Done means the done channel closed.
	Done
	// Poked means poke had a value.
	Poked
	// Timer1 and Timer2 mean that timer fired first.
	Timer1
	Timer2
)

// NextOr waits for the next event, for done to close, for a poke, or for
// one of two timers (nil channels never fire). Its second result is 0 for
// an event, else Done, Poked, Timer1 or Timer2.
func (s *Stream) NextOr(done, poke <-chan struct{}, t1, t2 <-chan time.Time) (Event, int) {
	for {
		s.mu.Lock()
		if len(s.queue) > 0 {
			e := s.queue[0]
			s.queue[0] = Event{}
			s.queue = s.queue[1:]
			s.mu.Unlock()
			return e, gotEvent
		}
		s.mu.Unlock()
		select {
		case <-s.notify:
		case <-done:
			return Event{}, Done
		case <-poke:
			return Event{}, Poked
		case <-t1:
			return Event{}, Timer1
		case <-t2:
			return Event{}, Timer2
		}
	}
}

// Close ends the stream: it unregisters it and drops anything left
// queued. It reports whether a draining worker went
// idle, which the caller passes on to the arbiter.
func (s *Stream) Close() (idle bool) {
	s.workerDone()
	idle = s.w.finish(s)
	s.mu.Lock()
	for _, e := range s.queue {
		if e.File != nil {
			e.File.Close()
		}
	}
	s.queue = s.queue[:0]
	s.mu.Unlock()
	return idle
}
