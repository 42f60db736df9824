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
	"runtime"
	"runtime/pprof"
	"strings"

	"github.com/gonicorn/gonicorn/internal/arbiter"
	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/proctitle"
	"github.com/gonicorn/gonicorn/internal/zygote"
)

func main() {
	proctitle.Keep()
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
