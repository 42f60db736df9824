// Command gonicorn is a drop-in replacement for gunicorn: it takes
// gunicorn's command line and config files and runs WSGI apps in Python
// workers behind a Go HTTP front end.
//
// main only wires the pieces: parse the settings (evaluating the config
// file in the Python zygote), bind, start the front, run the arbiter, exit
// with its code.
package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/gonicorn/gonicorn/internal/arbiter"
	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/dispatch"
	"github.com/gonicorn/gonicorn/internal/front"
	"github.com/gonicorn/gonicorn/internal/listen"
	"github.com/gonicorn/gonicorn/internal/logging"
	"github.com/gonicorn/gonicorn/internal/pidfile"
	"github.com/gonicorn/gonicorn/internal/systemd"
	"github.com/gonicorn/gonicorn/internal/worker"
	"github.com/gonicorn/gonicorn/internal/zygote"
)

func main() {
	// The Go side shares the machine with the Python workers, which do the
	// heavier work per request; with every core, idle Go threads spin looking
	// for work and take CPU from Python (measured in docs/benchmarks.md).
	// GOMAXPROCS in the environment still wins.
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(max(1, runtime.NumCPU()/2))
	}
	// GONICORN_CPUPROFILE=FILE writes a Go CPU profile of the master, for
	// finding where the front spends its time (see docs/benchmarks.md).
	if path := os.Getenv("GONICORN_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
			code := run(os.Args[1:])
			pprof.StopCPUProfile()
			f.Close()
			os.Exit(code)
		}
	}
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	environ := os.Environ()
	var zyg *zygote.Zygote
	startZygote := func(python string) error {
		if zyg != nil {
			return nil
		}
		z, err := zygote.Start(zygote.Options{Python: python, Version: config.Version})
		if err != nil {
			return err
		}
		zyg = z
		return nil
	}
	defer func() {
		if zyg != nil {
			select {
			case <-zyg.Done():
			default:
				zyg.Kill()
			}
		}
	}()
	load := func(spec string) (map[string]any, error) {
		if err := startZygote(prescanPython(args, environ)); err != nil {
			return nil, err
		}
		raw, err := zyg.LoadConfig(spec, "")
		if err != nil {
			return nil, err
		}
		return config.DecodeValues(raw)
	}
	cfg, err := config.Parse(args, environ, load)
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			fmt.Fprint(os.Stderr, ce.Output)
			return ce.Code
		}
		fmt.Fprintln(os.Stderr, err)
		return arbiter.ExitConfig
	}
	switch cfg.Action() {
	case "help":
		fmt.Print(config.Help())
		return 0
	case "version":
		fmt.Print(config.VersionText())
		return 0
	case "print-config":
		cfg.PrintConfig(os.Stdout)
		return checkConfig(cfg, startZygote, &zyg)
	case "check-config":
		return checkConfig(cfg, startZygote, &zyg)
	}
	// A master started by USR2 is already in the background (GUNICORN_FD).
	if cfg.Bool("daemon") && os.Getenv("GONICORN_DAEMON") == "" && os.Getenv("GUNICORN_FD") == "" {
		return daemonize(cfg)
	}
	os.Unsetenv("GONICORN_DAEMON")
	return serve(args, cfg, startZygote, &zyg)
}

// daemonize is -D: Go cannot fork, so the master re-executes itself in a
// new session with its stdio on /dev/null (kept with -R), and the
// foreground process exits 0, as gunicorn's double fork does.
func daemonize(cfg *config.Config) int {
	if os.Getenv("NOTIFY_SOCKET") != "" {
		fmt.Fprintln(os.Stderr, "Warning: you shouldn't specify `daemon = True` when launching by systemd with `Type = notify`")
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "Error: cannot daemonize:", err)
		return 1
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Env = append(os.Environ(), "GONICORN_DAEMON=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if !cfg.Bool("enable_stdio_inheritance") {
		null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
		if err != nil {
			fmt.Fprintln(os.Stderr, "Error: cannot daemonize:", err)
			return 1
		}
		defer null.Close()
		cmd.Stdin, cmd.Stdout, cmd.Stderr = null, null, null
	} else {
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "Error: cannot daemonize:", err)
		return 1
	}
	return 0
}

// prescanPython finds --python before the settings are resolved: the
// interpreter must be known to evaluate the config file, so the config
// file cannot choose it.
func prescanPython(args, environ []string) string {
	val := ""
	scan := func(list []string) {
		for i, a := range list {
			if a == "--python" && i+1 < len(list) {
				val = list[i+1]
			} else if v, ok := strings.CutPrefix(a, "--python="); ok {
				val = v
			}
		}
	}
	for _, kv := range environ {
		if v, ok := strings.CutPrefix(kv, "GUNICORN_CMD_ARGS="); ok {
			scan(strings.Fields(v))
		}
	}
	scan(args)
	return val
}

// checkConfig is --check-config: the app must import.
func checkConfig(cfg *config.Config, startZygote func(string) error, zyg **zygote.Zygote) int {
	if err := startZygote(cfg.String("python")); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		return 1
	}
	settings := startSettings(cfg)
	settings["preload_app"] = true
	settings["check_config"] = true
	if _, err := (*zyg).StartApp(settings, -1); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	(*zyg).Stop()
	return 0
}

// reexec is USR2: start a new master from the same binary and command
// line, handing it the listening sockets as GUNICORN_FD, as gunicorn does.
func reexec(listeners []*listen.Listener) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, os.Args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	fds := make([]string, len(listeners))
	for i, l := range listeners {
		cmd.ExtraFiles = append(cmd.ExtraFiles, l.File())
		fds[i] = strconv.Itoa(3 + i)
	}
	env := []string{}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GUNICORN_FD=") && !strings.HasPrefix(kv, "GUNICORN_PID=") && !strings.HasPrefix(kv, "LISTEN_FDS=") && !strings.HasPrefix(kv, "LISTEN_PID=") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "GUNICORN_PID="+strconv.Itoa(os.Getpid()), "GUNICORN_FD="+strings.Join(fds, ","))
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmd, nil
}

func arbiterOptions(cfg *config.Config) arbiter.Options {
	return arbiter.Options{
		Daemon:          cfg.Bool("daemon"),
		Workers:         cfg.Int("workers"),
		Timeout:         seconds(cfg.Float("timeout")),
		GracefulTimeout: seconds(cfg.Float("graceful_timeout")),
		MaxWorkerMemory: int64(cfg.Int("max_worker_memory")) << 20,
	}
}

// reload is HUP: a fresh zygote evaluates the config file again (and, with
// --preload, imports the app's new code), as gunicorn re-reads its config.
// Listener, logging and front settings stay as they were started.
func reload(args []string, python string, oldWorkers int) (*zygote.Zygote, *config.Config, error) {
	z, err := zygote.Start(zygote.Options{Python: python, Version: config.Version})
	if err != nil {
		return nil, nil, err
	}
	cfg, err := config.Parse(args, os.Environ(), func(spec string) (map[string]any, error) {
		raw, err := z.LoadConfig(spec, "")
		if err != nil {
			return nil, err
		}
		return config.DecodeValues(raw)
	})
	if err == nil {
		_, err = z.StartApp(startSettings(cfg), oldWorkers)
	}
	if err != nil {
		z.Kill()
		return nil, nil, err
	}
	return z, cfg, nil
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
	if target := cfg.String("accesslog"); target != "" {
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
	if cfg.Bool("capture_output") {
		if err := elog.CaptureOutput(); err != nil {
			elog.Warning("capture_output: %v", err)
		}
	}

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
		ErrorLog:       elog,
		AccessLog:      alog,
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

// startSettings is what the zygote gets in START: the resolved settings,
// with the app URI from the command line in wsgi_app as gunicorn resolves it.
func startSettings(cfg *config.Config) map[string]any {
	s := cfg.JSON()
	if uri := cfg.AppURI(); uri != "" {
		s["wsgi_app"] = uri
	}
	return s
}

// frontListeners wraps bound sockets for the front.
func frontListeners(ls []*listen.Listener, cfg *config.Config, tlsConf *tls.Config) []*front.Listener {
	out := make([]*front.Listener, len(ls))
	for i, l := range ls {
		out[i] = &front.Listener{Listener: l.Listener, Scheme: "http", Protocol: cfg.String("protocol")}
		if tlsConf != nil {
			out[i].Scheme, out[i].TLS = "https", tlsConf
		}
	}
	return out
}

// listenerNames is gunicorn's "Listening at:" list.
func listenerNames(ls []*listen.Listener) string {
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = l.String()
	}
	return strings.Join(names, ",")
}

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func bind(cfg *config.Config, elog *logging.ErrorLog, tls bool) ([]*listen.Listener, error) {
	opts := listen.Options{
		Backlog:   cfg.Int("backlog"),
		ReusePort: cfg.Bool("reuse_port"),
		Umask:     cfg.Int("umask"),
		TLS:       tls,
		Log:       elog,
	}
	// A master started by USR2 inherits its parent's sockets.
	if v := os.Getenv("GUNICORN_FD"); v != "" {
		os.Unsetenv("GUNICORN_FD")
		var ls []*listen.Listener
		for _, f := range strings.Split(v, ",") {
			fd, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return nil, fmt.Errorf("GUNICORN_FD=%q: %q is not a file descriptor number", v, f)
			}
			l, err := listen.FromFD(fd, opts)
			if err != nil {
				return nil, err
			}
			ls = append(ls, l)
		}
		return ls, nil
	}
	// systemd socket activation wins over --bind, as in gunicorn.
	if os.Getenv("LISTEN_FDS") != "" {
		ls, err := listen.FromSystemd(opts)
		if err != nil || len(ls) > 0 {
			return ls, err
		}
	}
	var addrs []listen.Address
	for _, spec := range cfg.Strings("bind") {
		a, err := listen.Parse(spec)
		if err != nil {
			return nil, err
		}
		addrs = append(addrs, a)
	}
	return listen.Open(addrs, opts)
}
