package zygote

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gonicorn/gonicorn/internal/ipc"
	"github.com/gonicorn/gonicorn/internal/wire"
)

// Options say how to start the zygote.
type Options struct {
	Python string   // interpreter path; empty = FindPython()
	Env    []string // environment (os.Environ() when nil)
	Dir    string   // working directory
	Stdout io.Writer
	Stderr io.Writer
	// Version is gonicorn's version, passed to the runtime as
	// GONICORN_VERSION (SERVER_SOFTWARE is gonicorn/<version>).
	Version string
}

// Zygote is the running Python zygote. Before Serve is called its methods
// are synchronous request/reply calls; after it, replies to SPAWN and
// reaping reports arrive on Events.
type Zygote struct {
	cmd  *exec.Cmd
	conn *ipc.Conn
	done chan struct{}
	err  error

	events chan Event
	quit   chan struct{} // closed by Stop/Kill/Close so readLoop never blocks on a gone reader
	once   sync.Once
	wg     sync.WaitGroup
}

// Event is something the zygote reports asynchronously.
type Event struct {
	Spawned *Spawned
	Exited  *Exited
	Lost    error // the control channel broke: the zygote died
}

// Spawned reports a forked worker's pid.
type Spawned struct {
	WorkerID int `json:"worker_id"`
	PID      int `json:"pid"`
}

// Exited reports a reaped worker.
type Exited struct {
	PID    int  `json:"pid"`
	Status *int `json:"status"`
	Signal *int `json:"signal"`
}

// FindPython applies gonicorn's interpreter rule: the --python setting, else
// $VIRTUAL_ENV/bin/python, else python3 on PATH.
func FindPython(setting string) (string, error) {
	if setting != "" {
		p, err := exec.LookPath(setting)
		if err != nil {
			return "", fmt.Errorf("--python %q: %w", setting, err)
		}
		return p, nil
	}
	if venv := os.Getenv("VIRTUAL_ENV"); venv != "" {
		p := filepath.Join(venv, "bin", "python")
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath("python3")
	if err != nil {
		return "", errors.New("no Python interpreter found: install python3, activate a virtualenv or pass --python PATH")
	}
	return p, nil
}

// Start extracts the runtime and execs the zygote.
func Start(opts Options) (*Zygote, error) {
	py, err := FindPython(opts.Python)
	if err != nil {
		return nil, err
	}
	dir, err := Extract()
	if err != nil {
		return nil, err
	}
	conn, theirs, err := ipc.Pair()
	if err != nil {
		return nil, err
	}
	defer theirs.Close()
	env := opts.Env
	if env == nil {
		env = os.Environ()
	}
	env = setEnv(env, "PYTHONPATH", joinPath(dir, lookup(env, "PYTHONPATH")))
	env = setEnv(env, "GONICORN_CONTROL_FD", "3")
	env = setEnv(env, "GONICORN_MASTER_PID", strconv.Itoa(os.Getpid()))
	if opts.Version != "" {
		env = setEnv(env, "GONICORN_VERSION", opts.Version)
	}
	cmd := exec.Command(py, "-m", "gonicorn_runtime")
	cmd.Env = env
	cmd.Dir = opts.Dir
	cmd.Stdout, cmd.Stderr = opts.Stdout, opts.Stderr
	if cmd.Stdout == nil {
		cmd.Stdout = os.Stdout
	}
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	cmd.ExtraFiles = []*os.File{theirs}
	if err := cmd.Start(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("starting the Python zygote with %s: %w", py, err)
	}
	z := &Zygote{cmd: cmd, conn: conn, done: make(chan struct{}), events: make(chan Event, 64), quit: make(chan struct{})}
	go func() {
		z.err = cmd.Wait()
		close(z.done)
	}()
	return z, nil
}

func joinPath(a, b string) string {
	if b == "" {
		return a
	}
	return a + string(os.PathListSeparator) + b
}

func lookup(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return ""
}

func setEnv(env []string, key, val string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != key {
			out = append(out, kv)
		}
	}
	return append(out, key+"="+val)
}

// PID is the zygote's process id.
func (z *Zygote) PID() int { return z.cmd.Process.Pid }

// Done is closed when the zygote process has exited.
func (z *Zygote) Done() <-chan struct{} { return z.done }

// ExitErr is the zygote's exit error once Done is closed.
func (z *Zygote) ExitErr() error { return z.err }

func (z *Zygote) send(typ byte, msg any) error {
	payload, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	return z.conn.Write(wire.AppendFrame(nil, typ, 0, 0, payload))
}

// call sends a request and waits for the reply of the given type.
func (z *Zygote) call(typ byte, msg any, want byte, reply any) error {
	if err := z.send(typ, msg); err != nil {
		return z.lost(err)
	}
	f, err := z.conn.ReadFrame()
	if err != nil {
		return z.lost(err)
	}
	if f.Type != want {
		return fmt.Errorf("zygote: expected message 0x%02x, got 0x%02x", want, f.Type)
	}
	return json.Unmarshal(f.Payload, reply)
}

// lost turns a broken channel into an error that says the zygote died, since
// that is almost always the cause (a crash of the interpreter, a bad --python).
func (z *Zygote) lost(err error) error {
	<-z.done
	return fmt.Errorf("the Python zygote exited (%v) before answering: see the error log above", z.err)
}

// LoadConfig evaluates a config file in Python and returns its settings as
// the raw JSON object, for config.DecodeValues (which keeps 30 and 30.0 apart).
func (z *Zygote) LoadConfig(spec, chdir string) ([]byte, error) {
	var reply struct {
		Values json.RawMessage `json:"values"`
		Error  *string         `json:"error"`
	}
	if err := z.call(wire.LoadConfig, map[string]any{"config": spec, "chdir": chdir}, wire.Config, &reply); err != nil {
		return nil, err
	}
	if reply.Error != nil {
		return nil, &ConfigFileError{Msg: *reply.Error}
	}
	return reply.Values, nil
}

// ConfigFileError is a config file that failed to execute; Msg holds
// gunicorn's text and the traceback.
type ConfigFileError struct{ Msg string }

func (e *ConfigFileError) Error() string { return e.Msg }

// StartError is an app that could not be imported in the zygote (--preload).
type StartError struct {
	Msg      string
	ExitCode int
}

func (e *StartError) Error() string { return e.Msg }

// StartApp sends the resolved settings; the zygote runs on_starting (or
// on_reload for a zygote started by a HUP) and, with preload_app, imports
// the app. It returns the app kind when known.
//
// reloadFrom is the worker count before a HUP (the zygote calls
// nworkers_changed(new, old) then on_reload, in gunicorn's order), or -1
// for the first start.
func (z *Zygote) StartApp(settings map[string]any, reloadFrom int) (string, error) {
	var reply struct {
		AppKind  *string `json:"app_kind"`
		Error    *string `json:"error"`
		ExitCode int     `json:"exit_code"`
	}
	msg := map[string]any{"settings": settings}
	if reloadFrom >= 0 {
		msg["reload"] = map[string]any{"old_workers": reloadFrom}
	}
	if err := z.call(wire.Start, msg, wire.Started, &reply); err != nil {
		return "", err
	}
	if reply.Error != nil {
		return "", &StartError{Msg: *reply.Error, ExitCode: reply.ExitCode}
	}
	if reply.AppKind != nil {
		return *reply.AppKind, nil
	}
	return "", nil
}

// Serve starts the goroutine that turns zygote messages into Events. It
// ends when the channel closes; Close joins it.
func (z *Zygote) Serve() <-chan Event {
	z.wg.Add(1)
	go z.readLoop()
	return z.events
}

func (z *Zygote) readLoop() {
	defer z.wg.Done()
	defer close(z.events)
	for {
		f, err := z.conn.ReadFrame()
		if err != nil {
			z.emit(Event{Lost: err})
			return
		}
		switch f.Type {
		case wire.Spawned:
			var s Spawned
			if json.Unmarshal(f.Payload, &s) == nil {
				z.emit(Event{Spawned: &s})
			}
		case wire.Exited:
			var e Exited
			if json.Unmarshal(f.Payload, &e) == nil {
				z.emit(Event{Exited: &e})
			}
		}
	}
}

func (z *Zygote) emit(e Event) {
	select {
	case z.events <- e:
	case <-z.quit:
	}
}

// Spawn asks for a worker; its channel end travels with the message. The
// pid arrives later as a Spawned event.
func (z *Zygote) Spawn(workerID, age int, channel *os.File) error {
	payload, err := json.Marshal(map[string]any{"worker_id": workerID, "age": age})
	if err != nil {
		return err
	}
	return z.conn.WriteWithFile(wire.AppendFrame(nil, wire.Spawn, 0, 0, payload), channel)
}

// Hook runs a master-side server hook in the zygote.
func (z *Zygote) Hook(name string, args ...any) error {
	if args == nil {
		args = []any{}
	}
	return z.send(wire.Hook, map[string]any{"name": name, "args": args})
}

// Stop asks the zygote to run on_exit and exit, and waits for it.
func (z *Zygote) Stop() {
	_ = z.send(wire.Stop, map[string]any{})
	<-z.done
	z.shut()
}

func (z *Zygote) shut() {
	z.once.Do(func() { close(z.quit) })
	z.conn.Close()
	z.wg.Wait()
}

// Close closes the control channel; the zygote exits without running
// on_exit (a zygote replaced by a HUP), and Close waits for it.
func (z *Zygote) Close() {
	z.conn.Close()
	select {
	case <-z.done:
	case <-time.After(5 * time.Second):
		_ = z.cmd.Process.Kill()
		<-z.done
	}
	z.shut()
}

// Kill ends the zygote at once (the quick-stop path).
func (z *Zygote) Kill() {
	_ = z.cmd.Process.Kill()
	<-z.done
	z.shut()
}
