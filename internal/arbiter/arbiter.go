package arbiter

import (
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gonicorn/gonicorn/internal/control"
	"github.com/gonicorn/gonicorn/internal/dispatch"
	"github.com/gonicorn/gonicorn/internal/front"
	"github.com/gonicorn/gonicorn/internal/logging"
	"github.com/gonicorn/gonicorn/internal/statsd"
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

	// Stats gets the gunicorn.workers gauge; nil sends nothing.
	Stats *statsd.Client
	// Backlog, when set (--enable-backlog-metric), counts the connections
	// and requests waiting to be served; the arbiter logs and sends it as
	// gunicorn.backlog about once a second, as gunicorn's loop does.
	Backlog     func() int
	lastBacklog time.Time
	shownActive int // worker count last logged and gauged; -1 before the first

	// ControlSocket is the gunicornc control socket; nil: none.
	ControlSocket ControlServer
	// Describe adds the settings and listeners to a control snapshot; it
	// runs on the arbiter's goroutine, like Reload, which changes them.
	Describe func(*control.Snapshot)
	ctlReqs  chan ctlReq
	ctl      ctlStats

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
		ctlReqs: make(chan ctlReq),
		ctl:     ctlStats{started: time.Now()},

		shownActive: -1,
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
	defer a.stopControl()
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
		case q := <-a.ctlReqs:
			q.reply <- a.onControl(q.req)
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
			a.reportBacklog()
		}
	}
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

func (a *Arbiter) masterName() string {
	if a.opt.MasterName != "" {
		return a.opt.MasterName
	}
	return "Master"
}
