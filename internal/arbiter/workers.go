package arbiter

import (
	"fmt"
	"sort"
	"syscall"
	"time"

	"github.com/gonicorn/gonicorn/internal/ipc"
	"github.com/gonicorn/gonicorn/internal/worker"
	"github.com/gonicorn/gonicorn/internal/zygote"
)

func (a *Arbiter) setTarget(n int) {
	old := a.target
	a.target = n
	_ = a.zyg.Hook("nworkers_changed", n, old)
	a.manage()
}

// spawn asks the zygote for one worker.
func (a *Arbiter) spawn() {
	conn, theirs, err := ipc.Pair()
	if err != nil {
		a.log.Error("Cannot create a worker channel: %v", err)
		return
	}
	a.nextID++
	a.nextAge++
	w := worker.New(a.nextID, a.nextAge, conn)
	err = a.zyg.Spawn(w.ID, w.Age, theirs)
	theirs.Close()
	if err != nil {
		conn.Close()
		a.log.Error("Cannot ask the zygote for a worker: %v", err)
		return
	}
	a.workers[w.ID] = &slot{w: w, z: a.zyg}
	a.ctl.spawned++
	a.zygotes[a.zyg]++
	a.readers.Add(1)
	go func() {
		defer a.readers.Done()
		w.Serve(a.notices)
	}()
}

// live counts workers that count toward the target.
func (a *Arbiter) live() []*slot {
	var out []*slot
	for _, s := range a.workers {
		if !s.retire && !s.lost && !s.oldGen {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].w.Age < out[j].w.Age })
	return out
}

// manage spawns or retires workers to meet the target. Extra workers are
// retired oldest first, as gunicorn does.
func (a *Arbiter) manage() {
	if a.stopping {
		return
	}
	live := a.live()
	if len(live) < a.target && time.Now().Before(a.spawnAfter) {
		return // backing off after crashes; the tick comes back
	}
	for i := len(live); i < a.target; i++ {
		a.spawn()
	}
	for i := 0; i < len(live)-a.target; i++ {
		a.retireWorker(live[i])
	}
	// gunicorn's manage_workers logs and gauges the count when it changed.
	if n := len(a.live()); n != a.shownActive {
		a.shownActive = n
		a.log.Debug("%d workers", n)
		a.Stats.Gauge("gunicorn.workers", int64(n))
	}
}

// reportBacklog is gunicorn's --enable-backlog-metric: a debug line and a
// gunicorn.backlog histogram, at most once a second.
func (a *Arbiter) reportBacklog() {
	if a.Backlog == nil || time.Since(a.lastBacklog) < time.Second {
		return
	}
	a.lastBacklog = time.Now()
	n := a.Backlog()
	a.log.Debug("socket backlog: %d", n)
	a.Stats.Histogram("gunicorn.backlog", int64(n))
}

// kill signals a worker; TERM and KILL count as kills in `show stats`, as
// in gunicorn's kill_worker.
func (a *Arbiter) kill(w *worker.Worker, sig syscall.Signal) {
	_ = w.Signal(sig)
	if sig == syscall.SIGTERM || sig == syscall.SIGKILL {
		a.ctl.killed++
	}
}

func (a *Arbiter) retireWorker(s *slot) {
	s.retire = true
	if s.w.Drain() {
		a.terminate(s)
	}
}

func (a *Arbiter) retireIfIdle(w *worker.Worker) {
	if s := a.workers[w.ID]; s != nil && s.retire && w.Inflight() == 0 {
		a.terminate(s)
	}
}

// terminate asks a retired worker to exit; murder kills it if it is
// still there graceful_timeout later.
func (a *Arbiter) terminate(s *slot) {
	if !s.termAt.IsZero() {
		return
	}
	s.termAt = time.Now()
	if s.w.PID() > 0 {
		a.kill(s.w, syscall.SIGTERM)
	}
	s.w.Close() // EOF reaches a worker blocked in a read
}

// checkMemory replaces workers whose RSS passed --max-worker-memory. The
// replacement is spawned first; the old worker finishes what it holds.
func (a *Arbiter) checkMemory() {
	if a.opt.MaxWorkerMemory <= 0 {
		return
	}
	for _, s := range a.workers {
		if s.retire || s.w.PID() <= 0 {
			continue
		}
		if rss := rssBytes(s.w.PID()); rss > a.opt.MaxWorkerMemory {
			a.log.Info("Worker (pid:%d) uses %d MiB, over max_worker_memory (%d MiB): replacing it", s.w.PID(), rss>>20, a.opt.MaxWorkerMemory>>20)
			a.retireWorker(s)
		}
	}
}

func (a *Arbiter) onNotice(n worker.Notice) {
	s := a.workers[n.W.ID]
	if s == nil {
		return
	}
	switch {
	case n.Hello != nil:
		a.startControl()
		if s.retire {
			return
		}
		a.pool.Add(n.W, n.Hello.Capacity)
		if !s.oldGen {
			a.retireOldGen()
		}
	case n.Recycle != "":
		a.retireWorker(s)
		a.manage()
	case n.Lost != nil || n.Idle:
		s.lost = true
		n.W.Drain()
	}
}

// retireOldGen retires HUP-replaced workers once enough new ones are ready.
func (a *Arbiter) retireOldGen() {
	ready := 0
	for _, s := range a.workers {
		if !s.oldGen && !s.retire && s.w.Usable() {
			ready++
		}
	}
	if ready < a.target {
		return
	}
	for _, s := range a.workers {
		if s.oldGen && !s.retire {
			a.retireWorker(s)
		}
	}
}

func (a *Arbiter) onZygote(ev zygote.Event) (int, bool) {
	switch {
	case ev.Spawned != nil:
		s := a.workers[ev.Spawned.WorkerID]
		if s == nil {
			return 0, false
		}
		s.w.SetPID(ev.Spawned.PID)
		a.byPID[ev.Spawned.PID] = s
	case ev.Exited != nil:
		e := ev.Exited
		s := a.byPID[e.PID]
		if s == nil {
			return 0, false
		}
		a.forgetSlot(s)
		code := -1
		if e.Signal != nil {
			sig := syscall.Signal(*e.Signal)
			msg := fmt.Sprintf("Worker (pid:%d) was sent %s!", e.PID, signalName(sig))
			switch sig {
			case syscall.SIGKILL:
				a.log.Error("%s Perhaps out of memory?", msg)
			case syscall.SIGTERM:
				a.log.Info("%s", msg)
			default:
				a.log.Warning("%s", msg)
			}
		} else if e.Status != nil {
			code = *e.Status
			if code != 0 {
				a.log.Error("Worker (pid:%d) exited with code %d.", e.PID, code)
			}
		}
		a.noteExit(s)
		switch code {
		case ExitWorkerBoot:
			return a.halt("Worker failed to boot.", ExitWorkerBoot, false), true
		case ExitAppLoad:
			return a.halt("App failed to load.", ExitAppLoad, false), true
		}
		if !a.stopping {
			a.manage()
		}
	}
	return 0, false
}

// noteExit spaces respawns out when workers die while they boot (before
// their HELLO), unasked: a broken deploy must not fork in a tight loop. A
// worker that booted and then died (killed, crashed on a request) is
// replaced at once, as gunicorn does.
func (a *Arbiter) noteExit(s *slot) {
	if s.retire || s.oldGen || a.stopping {
		return
	}
	if s.w.Info().PID != 0 { // it said HELLO: it booted
		a.crashes = 0
		return
	}
	a.crashes++
	delay := 100 * time.Millisecond << min(a.crashes-1, 7) // up to 12.8 s
	a.spawnAfter = time.Now().Add(delay)
	a.log.Warning("Worker (pid:%d) died while booting, %v after it was started; next spawn in %v", s.w.PID(), time.Since(s.w.Born()).Round(time.Millisecond), delay)
}

// forgetSlot removes an exited worker from the table.
func (a *Arbiter) forgetSlot(s *slot) {
	delete(a.byPID, s.w.PID())
	delete(a.workers, s.w.ID)
	s.w.Drain()
	s.w.Close()
	a.zygotes[s.z]--
	a.closeIfDone(s.z)
}

// signalName is Python's signal.Signals(n).name: "SIGKILL".
func signalName(sig syscall.Signal) string {
	names := map[syscall.Signal]string{syscall.SIGKILL: "SIGKILL", syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT",
		syscall.SIGQUIT: "SIGQUIT", syscall.SIGABRT: "SIGABRT", syscall.SIGSEGV: "SIGSEGV", syscall.SIGHUP: "SIGHUP",
		syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE", syscall.SIGILL: "SIGILL", syscall.SIGPIPE: "SIGPIPE",
		syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2"}
	if n, ok := names[sig]; ok {
		return n
	}
	return fmt.Sprintf("signal %d", int(sig))
}

// murder enforces the worker timeout: a worker busy on one request for
// longer than --timeout gets SIGABRT (its worker_abort hook runs and its
// stack is logged), then SIGKILL if it is still there two seconds later.
func (a *Arbiter) murder() {
	now := time.Now()
	for _, s := range a.workers {
		w := s.w
		if w.PID() <= 0 {
			continue
		}
		if !s.termAt.IsZero() && !s.killed && now.Sub(s.termAt) > a.opt.GracefulTimeout {
			a.log.Warning("Worker (pid:%d) did not exit within graceful_timeout (%v) after TERM; killing it", w.PID(), a.opt.GracefulTimeout)
			s.killed = true
			a.kill(w, syscall.SIGKILL)
			continue
		}
		if !s.aborted.IsZero() {
			if !s.killed && now.Sub(s.aborted) > 2*time.Second {
				s.killed = true
				a.kill(w, syscall.SIGKILL)
			}
			continue
		}
		// sync: a request running past --timeout; other classes: a main loop
		// silent past --timeout (gunicorn's heartbeat semantics).
		if a.opt.Timeout > 0 && (w.SilentFor(now) > a.opt.Timeout ||
			(!w.Info().Heartbeat && w.Info().Capacity == 1 && w.BusyFor(now) > a.opt.Timeout)) {
			a.log.Critical("WORKER TIMEOUT (pid:%d)", w.PID())
			w.MarkTimedOut()
			s.aborted = now
			_ = w.Signal(syscall.SIGABRT)
		}
	}
}
