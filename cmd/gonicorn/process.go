package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/listen"
	"github.com/gonicorn/gonicorn/internal/zygote"
)

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
