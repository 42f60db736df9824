package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/gonicorn/gonicorn/internal/arbiter"
	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/control"
	"github.com/gonicorn/gonicorn/internal/dispatch"
	"github.com/gonicorn/gonicorn/internal/front"
	"github.com/gonicorn/gonicorn/internal/listen"
	"github.com/gonicorn/gonicorn/internal/logging"
	"github.com/gonicorn/gonicorn/internal/pidfile"
	"github.com/gonicorn/gonicorn/internal/proctitle"
	"github.com/gonicorn/gonicorn/internal/statsd"
	"github.com/gonicorn/gonicorn/internal/systemd"
	"github.com/gonicorn/gonicorn/internal/worker"
	"github.com/gonicorn/gonicorn/internal/zygote"
)

func arbiterOptions(cfg *config.Config) arbiter.Options {
	return arbiter.Options{
		Daemon:          cfg.Bool("daemon"),
		Workers:         cfg.Int("workers"),
		Timeout:         seconds(cfg.Float("timeout")),
		GracefulTimeout: seconds(cfg.Float("graceful_timeout")),
		MaxWorkerMemory: int64(cfg.Int("max_worker_memory")) << 20,
	}
}

func serve(args []string, cfg *config.Config, startZygote func(string) error, zyg **zygote.Zygote) int {
	level, err := logging.ParseLevel(cfg.String("loglevel"))
	if err != nil {
		fmt.Fprintf(os.Stderr, "\nError: %v\n", err)
		return 1
	}
	elog, err := logging.NewErrorLog(cfg.String("errorlog"), level)
	if err != nil {
		fmt.Fprintf(os.Stderr, "\nError: %v\n", err)
		return 1
	}
	var alog *logging.AccessLog
	// As in gunicorn, --log-syslog alone turns the access log on (to syslog only).
	syslogAccess := cfg.Bool("syslog") && !cfg.Bool("disable_redirect_access_to_syslog")
	if target := cfg.String("accesslog"); target != "" || syslogAccess {
		format, err := logging.CompileAccessFormat(cfg.String("access_log_format"))
		if err != nil {
			fmt.Fprintf(os.Stderr, "\nError: %v\n", err)
			return 1
		}
		if alog, err = logging.NewAccessLog(target, format); err != nil {
			fmt.Fprintf(os.Stderr, "\nError: %v\n", err)
			return 1
		}
	}
	var sl *logging.Syslog
	if sc := syslogSettings(cfg); sc != nil {
		if sl, err = logging.NewSyslog(*sc); err != nil {
			fmt.Fprintf(os.Stderr, "\nError: %v\n", err)
			return 1
		}
		elog.SetSyslog(sl)
		if syslogAccess {
			alog.SetSyslog(sl)
		}
	}
	defer func() { sl.Close() }() // sends the last lines, e.g. "Shutting down: Master"
	if cfg.Bool("capture_output") {
		if err := elog.CaptureOutput(); err != nil {
			elog.Warning("capture_output: %v", err)
		}
	}

	stats, metrics := statsdClient(cfg, elog)

	elog.Info("Starting %s %s", config.Prog, config.Version)
	for _, w := range cfg.Warnings() {
		elog.Warning("%s", w)
	}
	// A master started by USR2 runs as "Master.2" with PATH.2 as its
	// pidfile until its parent goes away.
	parentPID, _ := strconv.Atoi(os.Getenv("GUNICORN_PID"))
	var pf *pidfile.Pidfile
	if path := cfg.String("pidfile"); path != "" {
		if parentPID != 0 {
			path += ".2"
		}
		var err error
		if pf, err = pidfile.Create(path, os.Getpid()); err != nil {
			elog.Error("%v", err)
			return arbiter.ExitConfig
		}
		defer pf.Unlink()
	}
	if err := startZygote(cfg.String("python")); err != nil {
		elog.Error("%v", err)
		return arbiter.ExitConfig
	}
	z := *zyg
	if _, err := z.StartApp(startSettings(cfg), -1); err != nil {
		var se *zygote.StartError
		if errors.As(err, &se) {
			if se.ExitCode == arbiter.ExitAppLoad {
				elog.Error("Shutting down: Master")
				elog.Error("Reason: App failed to load.")
				return arbiter.ExitAppLoad
			}
			elog.Error("Shutting down: Master")
			elog.Error("Reason: Worker failed to boot.")
			return arbiter.ExitWorkerBoot
		}
		elog.Error("%v", err)
		return arbiter.ExitUnhandled
	}

	tlsConf, err := tlsConfig(cfg)
	if err != nil {
		elog.Error("%v", err)
		return arbiter.ExitConfig
	}
	listeners, err := bind(cfg, elog, tlsConf != nil)
	if err != nil {
		elog.Error("%v", err)
		return arbiter.ExitConfig
	}
	fls := frontListeners(listeners, cfg, tlsConf)
	elog.Info("Listening at: %s (%d)", listenerNames(listeners), os.Getpid())
	elog.Info("Using worker: %s", cfg.WorkerClassDisplay())
	if err := systemd.Notify(systemd.Booted); err != nil {
		elog.Debug("sd_notify failed: %v", err)
	}

	pool := dispatch.New(cfg.Bool("pipeline") && cfg.Float("queue_timeout") == 0 && cfg.Int("max_queue") == 0)
	var arb *arbiter.Arbiter
	fr, err := front.New(front.Config{
		Parser:         parserOptions(cfg),
		KeepAlive:      seconds(cfg.Float("keepalive")),
		HeaderTimeout:  30 * time.Second,
		BodyTimeout:    seconds(max(cfg.Float("timeout"), 30)),
		QueueTimeout:   seconds(cfg.Float("queue_timeout")),
		MaxQueue:       cfg.Int("max_queue"),
		RequestTimeout: seconds(cfg.Float("request_timeout")),
		WorkerStuck:    func(w *worker.Worker) { arb.WorkerStuck(w) },
		ScriptName:     os.Getenv("SCRIPT_NAME"),
		RootPath:       cfg.String("root_path"),
		WSMaxMessage:   wsMaxMessage(cfg, elog),
		ErrorLog:       elog,
		AccessLog:      alog,
		Metrics:        metrics,
		Pool:           pool,
		H2:             h2Config(cfg),
		UWSGIAllowIPs:  splitList(cfg.Value("uwsgi_allow_ips")),
		WorkerIdle:     func(w *worker.Worker) { arb.WorkerIdle(w) },
	})
	if err != nil {
		elog.Error("%v", err)
		return arbiter.ExitConfig
	}
	fr.Serve(fls)
	opt := arbiterOptions(cfg)
	if parentPID != 0 {
		opt.MasterName, opt.ParentPID = "Master.2", parentPID
	}
	arb = arbiter.New(opt, elog, z, fr, pool)
	arb.Stats = stats
	if cfg.Bool("enable_backlog_metric") {
		arb.Backlog = func() int { return backlog(listeners, pool) }
	}
	arb.ControlSocket, arb.Describe = controlSocket(cfg, elog, arb, parentPID != 0,
		func() (*config.Config, []*listen.Listener) { return cfg, listeners })
	if name := cfg.String("proc_name"); name != "" {
		// Only with -n: by default the master keeps its command line, which
		// is what scripts that look for it by its arguments expect.
		proctitle.Set("gonicorn: master [" + name + "]")
	}
	arb.OnPromote = func() {
		os.Unsetenv("GUNICORN_PID")
		if pf != nil {
			if err := pf.Rename(cfg.String("pidfile")); err != nil {
				elog.Error("renaming the pidfile: %v", err)
			}
		}
	}
	arb.Reexec = func() (*exec.Cmd, error) { return reexec(listeners) }
	arb.Reload = func(oldWorkers int) (*zygote.Zygote, arbiter.Options, error) {
		z2, cfg2, err := reload(args, cfg.String("python"), oldWorkers)
		if err != nil {
			return nil, arbiter.Options{}, err
		}
		// gunicorn's HUP also re-runs the logger setup and rebinds when the
		// bind setting changed.
		if lvl, err := logging.ParseLevel(cfg2.String("loglevel")); err == nil {
			elog.SetLevel(lvl)
		}
		sl = reloadSyslog(cfg, cfg2, sl, elog, alog)
		arb.OnReopen()
		if !slices.Equal(cfg2.Strings("bind"), cfg.Strings("bind")) {
			if ls, err := bind(cfg2, elog, tlsConf != nil); err != nil {
				elog.Error("Cannot bind %v, keeping %v: %v", cfg2.Strings("bind"), cfg.Strings("bind"), err)
			} else {
				var old []net.Listener
				for _, l := range listeners {
					old = append(old, l.Listener)
				}
				fr.Swap(frontListeners(ls, cfg2, tlsConf), old)
				for _, l := range listeners {
					l.Close()
				}
				listeners = ls
				elog.Info("Listening at: %s", listenerNames(ls))
			}
		}
		cfg = cfg2
		return z2, arbiterOptions(cfg2), nil
	}
	arb.OnReopen = func() {
		if err := elog.Reopen(); err != nil {
			elog.Error("reopening the error log: %v", err)
		}
		if alog != nil {
			if err := alog.Reopen(); err != nil {
				elog.Error("reopening the access log: %v", err)
			}
		}
	}
	_ = z.Hook("when_ready")
	code := arb.Run()
	for _, l := range listeners {
		// A new master started by USR2 serves the same unix sockets.
		l.SetUnlinkOnClose(!arb.HasChild())
		l.Close()
	}
	return code
}

// statsdClient turns on gunicorn's StatsD instrumentation when
// --statsd-host is set: log-level counters on elog and the per-request
// hook for the front. Like gunicorn, a target it cannot reach only costs
// the metrics, never the server.
func statsdClient(cfg *config.Config, elog *logging.ErrorLog) (*statsd.Client, func(int, time.Duration)) {
	if cfg.Value("statsd_host") == nil {
		return nil, nil
	}
	c, err := statsd.Dial(cfg.String("statsd_host"), cfg.String("statsd_prefix"), cfg.String("dogstatsd_tags"))
	if err != nil {
		elog.Warning("%v; no metrics are sent", err)
		return nil, nil
	}
	c.OnError = func(err error) { elog.Warning("%v", err) }
	elog.SetCounter(func(name string) { c.Increment("gunicorn.log."+name, 1) })
	return c, c.Request
}

// startSettings is what the zygote gets in START: the resolved settings,
// with the app URI from the command line in wsgi_app as gunicorn resolves it.
func startSettings(cfg *config.Config) map[string]any {
	s := cfg.JSON()
	if uri := cfg.AppURI(); uri != "" {
		s["wsgi_app"] = uri
	}
	return s
}

// syslogSettings is what --log-syslog needs from cfg; nil when it is off.
func syslogSettings(cfg *config.Config) *logging.SyslogConfig {
	if !cfg.Bool("syslog") {
		return nil
	}
	return &logging.SyslogConfig{
		Addr:     cfg.String("syslog_addr"),
		Facility: cfg.String("syslog_facility"),
		Prefix:   logging.SyslogPrefix(cfg.String("syslog_prefix"), procName(cfg)),
	}
}

// reloadSyslog applies changed syslog settings on HUP, as gunicorn's
// Logger.setup does, and returns the syslog now in use. A new value that
// does not work is reported and the previous target kept. Access lines can
// only be redirected if an access log existed at startup.
func reloadSyslog(old, cfg *config.Config, sl *logging.Syslog, elog *logging.ErrorLog, alog *logging.AccessLog) *logging.Syslog {
	next := sl
	if sc := syslogSettings(cfg); !reflect.DeepEqual(sc, syslogSettings(old)) {
		next = nil
		if sc != nil {
			var err error
			if next, err = logging.NewSyslog(*sc); err != nil {
				elog.Error("%v; keeping the previous syslog settings", err)
				return sl
			}
		}
		elog.SetSyslog(next)
	}
	if alog != nil {
		if cfg.Bool("disable_redirect_access_to_syslog") {
			alog.SetSyslog(nil)
		} else {
			alog.SetSyslog(next)
		}
	}
	if next != sl {
		sl.Close()
	}
	return next
}

// procName is gunicorn's cfg.proc_name: -n when given (even empty), else
// the app URI.
func procName(cfg *config.Config) string {
	if cfg.Value("proc_name") != nil {
		return cfg.String("proc_name")
	}
	return cfg.String("default_proc_name")
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

// controlSocket builds the gunicornc control socket (internal/control)
// unless --no-control-socket; the arbiter starts it after the first worker
// booted. current returns the settings and listeners in force, which a
// HUP replaces; Describe runs on the arbiter's goroutine, as HUP does.
func controlSocket(cfg *config.Config, elog *logging.ErrorLog, arb *arbiter.Arbiter, takeOver bool,
	current func() (*config.Config, []*listen.Listener)) (arbiter.ControlServer, func(*control.Snapshot)) {
	if cfg.Bool("control_socket_disable") {
		elog.Debug("Control socket disabled")
		return nil, nil
	}
	srv := control.New(control.Options{
		Path:     cfg.String("control_socket"),
		Mode:     os.FileMode(cfg.Int("control_socket_mode")),
		Log:      elog,
		Master:   arb,
		TakeOver: takeOver,
	})
	describe := func(snap *control.Snapshot) {
		cfg, ls := current()
		snap.Config = cfg.JSON()
		snap.Config["proc_name"] = procName(cfg)
		for _, l := range ls {
			info := control.Listener{Address: l.String(), FD: -1, Type: "tcp"}
			switch l.Network() {
			case "tcp6":
				info.Type = "tcp6"
			case "unix":
				info.Type = "unix"
			}
			// The listening descriptor itself, read without File(),
			// which would switch the shared socket to blocking mode.
			if sc, ok := l.Listener.(syscall.Conn); ok {
				if rc, err := sc.SyscallConn(); err == nil {
					_ = rc.Control(func(fd uintptr) { info.FD = int(fd) })
				}
			}
			snap.Listeners = append(snap.Listeners, info)
		}
	}
	return srv, describe
}

// backlog is what --enable-backlog-metric reports. gunicorn sums the
// kernel accept queues of its TCP listeners; gonicorn accepts at once and
// queues requests until a worker is free, so it adds those.
func backlog(ls []*listen.Listener, pool *dispatch.Pool) int {
	n := pool.Waiting()
	for _, l := range ls {
		if b := l.Backlog(); b > 0 {
			n += b
		}
	}
	return n
}
