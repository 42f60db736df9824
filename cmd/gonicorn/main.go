// Command gonicorn is a drop-in replacement for gunicorn: it takes
// gunicorn's command line and config files and runs WSGI apps in Python
// workers behind a Go HTTP front end.
//
// main only wires the pieces: parse the settings (evaluating the config
// file in the Python zygote), bind, start the front, run the arbiter, exit
// with its code.
package main

import (
	"errors"
	"fmt"
	"os"
	"runtime/pprof"
	"strings"
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
	return serve(args, cfg, startZygote, &zyg)
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
	if _, err := (*zyg).StartApp(settings, false); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	(*zyg).Stop()
	return 0
}

func arbiterOptions(cfg *config.Config) arbiter.Options {
	return arbiter.Options{
		Workers:         cfg.Int("workers"),
		Timeout:         seconds(cfg.Float("timeout")),
		GracefulTimeout: seconds(cfg.Float("graceful_timeout")),
		MaxWorkerMemory: int64(cfg.Int("max_worker_memory")) << 20,
	}
}

// reload is HUP: a fresh zygote evaluates the config file again (and, with
// --preload, imports the app's new code), as gunicorn re-reads its config.
// Listener, logging and front settings stay as they were started.
func reload(args []string, python string) (*zygote.Zygote, arbiter.Options, error) {
	z, err := zygote.Start(zygote.Options{Python: python, Version: config.Version})
	if err != nil {
		return nil, arbiter.Options{}, err
	}
	cfg, err := config.Parse(args, os.Environ(), func(spec string) (map[string]any, error) {
		raw, err := z.LoadConfig(spec, "")
		if err != nil {
			return nil, err
		}
		return config.DecodeValues(raw)
	})
	if err == nil {
		_, err = z.StartApp(startSettings(cfg), true)
	}
	if err != nil {
		z.Kill()
		return nil, arbiter.Options{}, err
	}
	return z, arbiterOptions(cfg), nil
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
	if path := cfg.String("pidfile"); path != "" {
		pf, err := pidfile.Create(path, os.Getpid())
		if err != nil {
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
	if _, err := z.StartApp(startSettings(cfg), false); err != nil {
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
	names := make([]string, len(listeners))
	fls := make([]*front.Listener, len(listeners))
	for i, l := range listeners {
		names[i] = l.String()
		fls[i] = &front.Listener{Listener: l.Listener, Scheme: "http", Protocol: cfg.String("protocol")}
		if tlsConf != nil {
			fls[i].Scheme, fls[i].TLS = "https", tlsConf
		}
	}
	elog.Info("Listening at: %s (%d)", strings.Join(names, ","), os.Getpid())
	elog.Info("Using worker: %s", cfg.WorkerClassDisplay())
	if err := systemd.Notify(systemd.Booted); err != nil {
		elog.Debug("sd_notify failed: %v", err)
	}

	pool := dispatch.New()
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
	arb = arbiter.New(arbiterOptions(cfg), elog, z, fr, pool)
	arb.Reload = func() (*zygote.Zygote, arbiter.Options, error) {
		return reload(args, cfg.String("python"))
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

func seconds(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }

func bind(cfg *config.Config, elog *logging.ErrorLog, tls bool) ([]*listen.Listener, error) {
	opts := listen.Options{
		Backlog:   cfg.Int("backlog"),
		ReusePort: cfg.Bool("reuse_port"),
		Umask:     cfg.Int("umask"),
		TLS:       tls,
		Log:       elog,
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
