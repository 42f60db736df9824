package arbiter

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gonicorn/gonicorn/internal/dispatch"
	"github.com/gonicorn/gonicorn/internal/front"
	"github.com/gonicorn/gonicorn/internal/ipc"
	"github.com/gonicorn/gonicorn/internal/logging"
	"github.com/gonicorn/gonicorn/internal/worker"
	"github.com/gonicorn/gonicorn/internal/zygote"
)

// Exit codes shared with the Python runtime (docs/protocol.md).
const (
	ExitOK         = 0
	ExitConfig     = 1
	ExitWorkerBoot = 3
	ExitAppLoad    = 4
	ExitUnhandled  = 255
)

// Options is what the arbiter needs from the settings.
type Options struct {
	Workers         int
	Timeout         time.Duration // heartbeat timeout; 0 disables
	GracefulTimeout time.Duration
	MasterName      string // "Master", or "Master.2" for a master started by USR2
	ParentPID       int    // the old master's pid, for a master started by USR2
	Daemon          bool   // -D: WINCH stops the workers (binary upgrade)
	MaxWorkerMemory int64  // bytes of RSS past which a worker is replaced; 0 = no limit
}

// Arbiter supervises the zygote and the workers.
type Arbiter struct {
	opt   Options
	log   *logging.ErrorLog
	zyg   *zygote.Zygote
	front *front.Server
	pool  *dispatch.Pool

	zevents chan zevent            // reports of every live zygote, merged
	zygotes map[*zygote.Zygote]int // live zygotes and how many workers each still has
	zwg     sync.WaitGroup         // the forwarding goroutines of zygotes
	notices chan worker.Notice
	idle    chan *worker.Worker
	stuck   chan *worker.Worker
	sigs    chan os.Signal
	readers sync.WaitGroup

	target   int
	nextID   int
	nextAge  int
	workers  map[int]*slot // by worker id
	byPID    map[int]*slot
	booted   bool
	stopping bool

	crashes    int       // quick deaths in a row (see noteExit)
	spawnAfter time.Time // no spawning before this, after crashes

	// OnReopen reopens the Go-side log files on USR1.
	OnReopen func()
	// OnPromote runs when the old master of a USR2 upgrade went away.
	OnPromote func()
	// Reexec starts a new master for USR2.
	Reexec    func() (*exec.Cmd, error)
	child     *exec.Cmd
	childDone chan struct{}

	// Reload is HUP: re-read the settings in a fresh zygote, which runs
	// on_reload and, with --preload, imports the new code. nil: HUP only
	// replaces the workers.
	Reload func(oldWorkers int) (*zygote.Zygote, Options, error)
}

// zevent is a zygote report tagged with its zygote: after a HUP the old
// zygote reports its old workers' exits while the new one spawns.
type zevent struct {
	z  *zygote.Zygote
	ev zygote.Event
}

// slot is the arbiter's record of one worker.
type slot struct {
	w       *worker.Worker
	lost    bool      // channel closed
	aborted time.Time // when SIGABRT was sent for a timeout
	killed  bool
	retire  bool      // draining: SIGTERM when idle
	termAt  time.Time // when SIGTERM was sent; SIGKILL after graceful_timeout
	oldGen  bool      // replaced by a HUP
	z       *zygote.Zygote
}

// New wires an arbiter; the front must already be serving.
func New(opt Options, log *logging.ErrorLog, z *zygote.Zygote, fr *front.Server, pool *dispatch.Pool) *Arbiter {
	if opt.Workers < 1 {
		opt.Workers = 1
	}
	return &Arbiter{
		opt: opt, log: log, zyg: z, front: fr, pool: pool,
		notices: make(chan worker.Notice, 64),
		idle:    make(chan *worker.Worker, 64),
		stuck:   make(chan *worker.Worker, 64),
		sigs:    make(chan os.Signal, 32),
		target:  opt.Workers,
		zevents: make(chan zevent, 64),
		zygotes: make(map[*zygote.Zygote]int),
		workers: make(map[int]*slot),
		byPID:   make(map[int]*slot),
	}
}

// WorkerStuck is the front's callback for a worker whose request passed
// --request-timeout and cannot be cancelled. It only enqueues.
func (a *Arbiter) WorkerStuck(w *worker.Worker) {
	select {
	case a.stuck <- w:
	default:
	}
}

// WorkerIdle is the front's callback for a draining worker that finished
// its last request. It only enqueues.
func (a *Arbiter) WorkerIdle(w *worker.Worker) {
	select {
	case a.idle <- w:
	default:
	}
}

var handled = []os.Signal{syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT,
	syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}

// Run spawns the workers and supervises them until the server stops. It
// returns the process exit code.
func (a *Arbiter) Run() int {
	signal.Notify(a.sigs, handled...)
	defer signal.Stop(a.sigs)
	a.watchZygote(a.zyg)
	_ = a.zyg.Hook("nworkers_changed", a.target, nil)
	a.manage()

	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case sig := <-a.sigs:
			if code, stop := a.onSignal(sig); stop {
				return code
			}
		case ze := <-a.zevents:
			if ze.ev.Lost != nil {
				if ze.z != a.zyg {
					continue // a retired zygote closing
				}
				a.log.Error("The Python zygote exited unexpectedly; stopping.")
				return a.haltOrphaned("Zygote died.", ExitUnhandled)
			}
			if code, stop := a.onZygote(ze.ev); stop {
				return code
			}
		case n := <-a.notices:
			a.onNotice(n)
		case w := <-a.idle:
			a.retireIfIdle(w)
		case w := <-a.stuck:
			if s := a.workers[w.ID]; s != nil && !s.retire {
				a.log.Warning("Replacing worker (pid:%d): a request passed the request timeout and cannot be cancelled", w.PID())
				a.retireWorker(s)
				a.manage()
			}
		case <-a.childDone:
			a.child, a.childDone = nil, nil
		case <-tick.C:
			a.maybePromote()
			a.murder()
			a.checkMemory()
			a.manage()
		}
	}
}

// reexec is USR2: start a new master that inherits the listeners.
func (a *Arbiter) reexec() {
	if a.child != nil {
		a.log.Warning("USR2 signal ignored. Child exists.")
		return
	}
	if a.opt.ParentPID != 0 {
		a.log.Warning("USR2 signal ignored. Parent exists.")
		return
	}
	if a.Reexec == nil {
		return
	}
	_ = a.zyg.Hook("pre_exec")
	cmd, err := a.Reexec()
	if err != nil {
		a.log.Error("Cannot start a new master: %v", err)
		return
	}
	done := make(chan struct{})
	a.child, a.childDone = cmd, done
	// Reaps the new master if it dies while we run. Not joined on exit on
	// purpose: the new master outlives us, which is the point of USR2.
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
}

// HasChild reports whether a master started by USR2 is running.
func (a *Arbiter) HasChild() bool { return a.child != nil }

// maybePromote notices that the old master of a binary upgrade is gone.
func (a *Arbiter) maybePromote() {
	if a.opt.ParentPID == 0 || os.Getppid() == a.opt.ParentPID {
		return
	}
	a.log.Info("Master has been promoted.")
	a.opt.ParentPID = 0
	a.opt.MasterName = "Master"
	if a.OnPromote != nil {
		a.OnPromote()
	}
}

// watchZygote forwards a zygote's reports into the merged channel.
func (a *Arbiter) watchZygote(z *zygote.Zygote) {
	a.zygotes[z] = 0
	events := z.Serve()
	a.zwg.Add(1)
	go func() {
		defer a.zwg.Done()
		for ev := range events {
			a.zevents <- zevent{z: z, ev: ev}
		}
	}()
}

func sigName(sig os.Signal) string {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return sig.String()
	}
	names := map[syscall.Signal]string{syscall.SIGHUP: "hup", syscall.SIGTERM: "term", syscall.SIGINT: "int",
		syscall.SIGQUIT: "quit", syscall.SIGTTIN: "ttin", syscall.SIGTTOU: "ttou", syscall.SIGUSR1: "usr1",
		syscall.SIGUSR2: "usr2", syscall.SIGWINCH: "winch", syscall.SIGCHLD: "chld"}
	if n, ok := names[s]; ok {
		return n
	}
	return strings.ToLower(s.String())
}

func (a *Arbiter) onSignal(sig os.Signal) (int, bool) {
	name := sigName(sig)
	a.log.Info("Handling signal: %s", name)
	if name == "winch" {
		// Step two of a binary upgrade: the old master stops its workers
		// and keeps its listeners, in case of a rollback (HUP).
		if a.opt.Daemon {
			// The Go front accepts for its workers, so it must stop
			// accepting too, or the new master would share the queue
			// with a master that has no workers.
			// Clients on keep-alive connections are answered with
			// Connection: close and go to the new master; then the
			// workers retire.
			a.log.Info("graceful stop of workers")
			a.front.Shutdown(a.opt.GracefulTimeout)
			_ = a.zyg.Hook("nworkers_changed", 0, a.target)
			a.target = 0
			a.manage()
		} else {
			a.log.Debug("SIGWINCH ignored. Not daemonized")
		}
		return 0, false
	}
	switch sig {
	case syscall.SIGTERM:
		return a.stop(true), true
	case syscall.SIGINT, syscall.SIGQUIT:
		return a.stop(false), true
	case syscall.SIGHUP:
		a.reload()
	case syscall.SIGTTIN:
		a.setTarget(a.target + 1)
	case syscall.SIGTTOU:
		if a.target > 1 {
			a.setTarget(a.target - 1)
		}
	case syscall.SIGUSR1:
		if a.OnReopen != nil {
			a.OnReopen()
		}
		for _, s := range a.workers {
			_ = s.w.Signal(syscall.SIGUSR1)
		}
	case syscall.SIGUSR2:
		a.reexec()
	}
	return 0, false
}

func (a *Arbiter) setTarget(n int) {
	old := a.target
	a.target = n
	_ = a.zyg.Hook("nworkers_changed", n, old)
	a.manage()
}

// reload is HUP: re-read the settings in a fresh zygote, start a fresh set
// of workers from it, then retire the old ones as soon as their
// replacements are ready, so no request ever finds no worker. A config
// that fails to load keeps the running server as it is.
func (a *Arbiter) reload() {
	a.log.Info("Hang up: %s", a.masterName())
	if a.Reload != nil {
		z, opt, err := a.Reload(a.target)
		if err != nil {
			a.log.Error("Reload failed, keeping the running configuration: %v", err)
			return
		}
		old := a.zyg
		a.zyg = z
		a.watchZygote(z)
		a.opt.Timeout, a.opt.GracefulTimeout, a.opt.MaxWorkerMemory = opt.Timeout, opt.GracefulTimeout, opt.MaxWorkerMemory
		a.target = opt.Workers // the new zygote ran nworkers_changed
		a.closeIfDone(old)
	}
	for _, s := range a.workers {
		s.oldGen = true
	}
	for i := 0; i < a.target; i++ {
		a.spawn()
	}
}

// closeIfDone ends a replaced zygote once its last worker is gone.
func (a *Arbiter) closeIfDone(z *zygote.Zygote) {
	if z == a.zyg || a.zygotes[z] > 0 {
		return
	}
	delete(a.zygotes, z)
	a.zwg.Add(1)
	go func() {
		defer a.zwg.Done()
		z.Close()
	}()
}

func (a *Arbiter) masterName() string {
	if a.opt.MasterName != "" {
		return a.opt.MasterName
	}
	return "Master"
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
		_ = s.w.Signal(syscall.SIGTERM)
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
			_ = w.Signal(syscall.SIGKILL)
			continue
		}
		if !s.aborted.IsZero() {
			if !s.killed && now.Sub(s.aborted) > 2*time.Second {
				s.killed = true
				_ = w.Signal(syscall.SIGKILL)
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

// stop ends the server. graceful: stop accepting, let in-flight requests
// finish up to graceful_timeout, then TERM the workers; quick: QUIT them.
func (a *Arbiter) stop(graceful bool) int {
	a.stopping = true
	deadline := time.Now().Add(a.opt.GracefulTimeout)
	if graceful {
		a.front.Shutdown(a.opt.GracefulTimeout)
		// Nothing is in flight any more: TERM is gunicorn's word for it, and
		// EOF on the channel makes sure a worker blocked in a read hears it.
		a.signalAll(syscall.SIGTERM)
		for _, s := range a.workers {
			s.w.Close()
		}
	} else {
		a.signalAll(syscall.SIGQUIT)
		a.front.Shutdown(0)
		deadline = time.Now().Add(2 * time.Second)
	}
	a.waitWorkers(deadline)
	a.pool.Close()
	a.stopZygotes()
	a.joinReaders()
	a.log.Info("Shutting down: %s", a.masterName())
	return ExitOK
}

// halt stops everything after a fatal condition and logs the reason.
func (a *Arbiter) halt(reason string, code int, graceful bool) int {
	a.stopping = true
	a.front.Shutdown(0)
	a.signalAll(syscall.SIGTERM)
	a.waitWorkers(time.Now().Add(a.opt.GracefulTimeout))
	a.pool.Close()
	a.stopZygotes()
	a.joinReaders()
	a.log.Error("Shutting down: %s", a.masterName())
	a.log.Error("Reason: %s", reason)
	return code
}

// haltOrphaned stops after the zygote died: its workers are orphans whose
// exits nobody reports, so they get TERM, a short grace, then KILL.
func (a *Arbiter) haltOrphaned(reason string, code int) int {
	a.stopping = true
	a.front.Shutdown(0)
	a.signalAll(syscall.SIGTERM)
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && a.anyAlive() {
		time.Sleep(20 * time.Millisecond)
	}
	a.signalAll(syscall.SIGKILL)
	a.pool.Close()
	a.stopZygotes()
	a.joinReaders()
	a.log.Error("Shutting down: %s", a.masterName())
	a.log.Error("Reason: %s", reason)
	return code
}

func (a *Arbiter) anyAlive() bool {
	for _, s := range a.workers {
		if pid := s.w.PID(); pid > 0 && syscall.Kill(pid, 0) == nil {
			return true
		}
	}
	return false
}

func (a *Arbiter) signalAll(sig syscall.Signal) {
	for _, s := range a.workers {
		_ = s.w.Signal(sig)
	}
}

// waitWorkers waits for the zygote to report every worker gone, killing
// the rest at the deadline.
func (a *Arbiter) waitWorkers(deadline time.Time) {
	killed := false
	for len(a.workers) > 0 {
		wait := time.Until(deadline)
		if wait <= 0 {
			if killed {
				wait = time.Second
			} else {
				killed = true
				a.signalAll(syscall.SIGKILL)
				deadline = time.Now().Add(time.Second)
				continue
			}
		}
		select {
		case ze := <-a.zevents:
			ev := ze.ev
			if ev.Lost != nil {
				if ze.z == a.zyg {
					return
				}
				continue
			}
			if ev.Exited != nil {
				if s := a.byPID[ev.Exited.PID]; s != nil {
					a.forgetSlot(s)
				}
			}
			if ev.Spawned != nil {
				if s := a.workers[ev.Spawned.WorkerID]; s != nil {
					s.w.SetPID(ev.Spawned.PID)
					a.byPID[ev.Spawned.PID] = s
					_ = s.w.Signal(syscall.SIGTERM)
				}
			}
		case <-a.notices:
		case <-a.idle:
		case <-time.After(wait):
			if killed {
				return
			}
		}
	}
}

// joinReaders waits for every worker reader goroutine, draining their
// notices so none blocks on a send nobody reads any more.
func (a *Arbiter) joinReaders() {
	for _, s := range a.workers {
		s.w.Close()
	}
	done := make(chan struct{})
	go func() {
		a.readers.Wait()
		close(done)
	}()
	for {
		select {
		case <-a.notices:
		case <-done:
			return
		}
	}
}

// stopZygotes ends the current zygote (on_exit runs there) and any replaced
// one still alive, then joins their forwarders.
func (a *Arbiter) stopZygotes() {
	for z := range a.zygotes {
		if z == a.zyg {
			select {
			case <-z.Done():
				z.Kill()
			default:
				z.Stop()
			}
		} else {
			z.Close()
		}
	}
	done := make(chan struct{})
	go func() {
		a.zwg.Wait()
		close(done)
	}()
	for {
		select {
		case <-a.zevents:
		case <-done:
			return
		}
	}
}
