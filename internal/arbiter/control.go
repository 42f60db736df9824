package arbiter

import (
	"context"
	"errors"
	"os"
	"sort"
	"syscall"
	"time"

	"github.com/gonicorn/gonicorn/internal/control"
)

// ControlServer is the control socket (internal/control). The arbiter
// starts it once the first worker has booted, as gunicorn starts it after
// its first workers, and stops it first when the master stops.
type ControlServer interface {
	Start() error
	Stop()
}

// ctlReq is one control-socket request waiting for the arbiter's loop.
type ctlReq struct {
	req   control.Request
	reply chan control.Result // buffered: the loop never blocks on it
}

// ctlStats are the counters gunicorn's `show stats` reports.
type ctlStats struct {
	started  time.Time
	spawned  int
	killed   int
	reloads  int
	serving  bool // Control was started
	stoppedC bool // Control was stopped
}

var errStopped = errors.New("arbiter: the master has stopped")

// Control is the control server's entry point (control.Master). Like a
// signal, the request is only enqueued: Run's goroutine answers it, so the
// worker table is never touched from here.
func (a *Arbiter) Control(ctx context.Context, r control.Request) (control.Result, error) {
	q := ctlReq{req: r, reply: make(chan control.Result, 1)}
	select {
	case a.ctlReqs <- q:
	case <-ctx.Done():
		return control.Result{}, ctx.Err()
	}
	select {
	case res := <-q.reply:
		return res, nil
	case <-ctx.Done():
		return control.Result{}, ctx.Err()
	}
}

// onControl runs a control request on the arbiter's goroutine, through the
// same paths as the signals that do the same thing.
func (a *Arbiter) onControl(r control.Request) control.Result {
	switch r.Op {
	case control.OpSnapshot:
		return control.Result{Snapshot: a.snapshot()}
	case control.OpAddWorkers: // TTIN, N times
		old := a.target
		a.setTarget(old + r.N)
		return control.Result{Previous: old, Total: a.target}
	case control.OpRemoveWorkers: // TTOU, N times, never below 1
		old := a.target
		a.setTarget(max(1, old-r.N))
		return control.Result{Previous: old, Total: a.target}
	case control.OpKillWorker:
		s := a.byPID[r.N]
		if s == nil || r.N <= 0 {
			return control.Result{}
		}
		// Drain it first, then TERM: its requests finish and the
		// replacement is spawned at once.
		a.retireWorker(s)
		a.manage()
		return control.Result{Found: true}
	case control.OpSignal:
		// Handled on the next turn of the loop, after the reply went out,
		// exactly as if the signal had arrived.
		select {
		case a.sigs <- r.Signal:
		default:
			_ = syscall.Kill(os.Getpid(), r.Signal)
		}
	}
	return control.Result{}
}

// snapshot copies what `show` reports.
func (a *Arbiter) snapshot() control.Snapshot {
	now := time.Now()
	snap := control.Snapshot{
		PID: os.Getpid(), Started: a.ctl.started, Target: a.target,
		Spawned: a.ctl.spawned, Killed: a.ctl.killed, Reloads: a.ctl.reloads,
	}
	for _, s := range a.workers {
		w := s.w
		if w.PID() <= 0 {
			continue // asked of the zygote, not forked yet
		}
		info := w.Info()
		var beat time.Duration
		switch {
		case info.PID == 0: // booting: alive since it was spawned
			beat = now.Sub(w.Born())
		case info.Heartbeat:
			beat = w.SilentFor(now)
		default:
			// A sync-style worker is heard from when a request ends; one
			// busy on a request has been silent since it started it.
			beat = w.BusyFor(now)
		}
		snap.Workers = append(snap.Workers, control.Worker{
			PID: w.PID(), Age: w.Age, Booted: info.PID != 0, Aborted: !s.aborted.IsZero(), LastHeartbeat: beat,
		})
	}
	sort.Slice(snap.Workers, func(i, j int) bool { return snap.Workers[i].Age < snap.Workers[j].Age })
	if a.Describe != nil {
		a.Describe(&snap)
	}
	return snap
}

// startControl starts the control socket once; a socket that cannot be
// created costs the control interface, never the server (gunicorn logs
// the same "Control server error" line and serves on).
func (a *Arbiter) startControl() {
	if a.ControlSocket == nil || a.ctl.serving || a.ctl.stoppedC {
		return
	}
	a.ctl.serving = true
	if err := a.ControlSocket.Start(); err != nil {
		a.log.Error("Control server error: %v", err)
	}
}

// stopControl stops the control socket; gunicorn's halt does it first.
func (a *Arbiter) stopControl() {
	if a.ControlSocket == nil || a.ctl.stoppedC {
		return
	}
	a.ctl.stoppedC = true
	a.ControlSocket.Stop()
}
