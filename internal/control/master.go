package control

import (
	"context"
	"syscall"
	"time"
)

// Master is the arbiter as the control server sees it. Control must not
// touch the worker table itself: the arbiter's implementation enqueues the
// request on its own loop and waits for the answer or ctx.
type Master interface {
	Control(ctx context.Context, r Request) (Result, error)
}

// Op is what a Request asks of the master.
type Op uint8

const (
	OpSnapshot      Op = iota // read the state: Result.Snapshot
	OpAddWorkers              // raise the target by N (TTIN's path)
	OpRemoveWorkers           // lower the target by N, never below 1 (TTOU's path)
	OpKillWorker              // retire the worker whose pid is N; Result.Found
	OpSignal                  // handle Signal as if it had been received (HUP, USR1, TERM, INT)
)

// Request is one question or action for the master.
type Request struct {
	Op     Op
	N      int
	Signal syscall.Signal
}

// Result is the master's answer.
type Result struct {
	Snapshot        Snapshot // OpSnapshot
	Previous, Total int      // worker target before and after OpAddWorkers/OpRemoveWorkers
	Found           bool     // OpKillWorker: the pid is one of our workers
}

// Snapshot is a copy of the master's state, safe to read anywhere.
type Snapshot struct {
	PID       int
	Started   time.Time
	Workers   []Worker // oldest first
	Target    int      // the worker count the master keeps
	Spawned   int      // workers spawned since start
	Killed    int      // TERM and KILL the master sent to workers
	Reloads   int      // HUPs handled
	Listeners []Listener
	Config    map[string]any // the current settings, by name, as JSON values
}

// Worker is one HTTP worker in a Snapshot.
type Worker struct {
	PID           int
	Age           int // spawn order
	Booted        bool
	Aborted       bool          // SIGABRT sent for --timeout
	LastHeartbeat time.Duration // since the worker was last known alive
}

// Listener is one bound socket in a Snapshot.
type Listener struct {
	Address string // gunicorn's form: http://127.0.0.1:8000, unix:/path
	FD      int
	Type    string // tcp, tcp6 or unix
}
