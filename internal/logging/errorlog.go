package logging

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Level is an error-log severity. The numeric values are Python's logging
// levels so that comparisons and any value shown to users match gunicorn.
type Level int32

// The levels accepted by --log-level.
const (
	LevelDebug    Level = 10
	LevelInfo     Level = 20
	LevelWarning  Level = 30
	LevelError    Level = 40
	LevelCritical Level = 50
)

// String returns the name gunicorn prints inside the brackets, e.g. "INFO".
func (l Level) String() string {
	switch l {
	case LevelDebug:
		return "DEBUG"
	case LevelInfo:
		return "INFO"
	case LevelWarning:
		return "WARNING"
	case LevelError:
		return "ERROR"
	case LevelCritical:
		return "CRITICAL"
	}
	return fmt.Sprintf("Level %d", int32(l)) // Python's name for unnamed levels
}

// ErrBadLevel is wrapped by ParseLevel errors.
var ErrBadLevel = errors.New("logging: unknown log level")

// ParseLevel maps a --log-level value (case-insensitive) to a Level.
// gunicorn silently falls back to info on an unknown name; we report it so
// the config layer can tell the user, and it may still choose LevelInfo.
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "debug":
		return LevelDebug, nil
	case "info":
		return LevelInfo, nil
	case "warning", "warn":
		return LevelWarning, nil
	case "error":
		return LevelError, nil
	case "critical":
		return LevelCritical, nil
	}
	return LevelInfo, fmt.Errorf("%w: --log-level %q; use one of debug, info, warning, error, critical", ErrBadLevel, s)
}

// errorDateLayout is gunicorn's datefmt "[%Y-%m-%d %H:%M:%S %z]" in Go form.
const errorDateLayout = "[2006-01-02 15:04:05 -0700] "

// ErrorLog is gunicorn's error log ("gunicorn.error"). It is safe for
// concurrent use. The zero value is not usable; call NewErrorLog.
//
// Values returned by WithPid share the sink (file, level, lock) with their
// parent, so a Reopen or SetLevel on any of them affects all.
type ErrorLog struct {
	s   *errSink
	pid int
}

type errSink struct {
	level  atomic.Int32
	target string // "-" for stderr, else a file path
	now    func() time.Time
	count  atomic.Pointer[func(string)] // statsd gunicorn.log.<name> counter; see SetCounter
	syslog atomic.Pointer[Syslog]       // also send lines here; see SetSyslog

	mu      sync.Mutex // guards everything below
	f       *os.File   // os.Stderr when target is "-"
	capture bool       // dup2 f onto fds 1 and 2 after every (re)open
	buf     []byte
	closed  bool
}

// NewErrorLog opens the error log. target is the --error-logfile value: "-"
// (or "") means stderr, anything else a file opened in append mode and
// created with mode 0644 (less the umask).
func NewErrorLog(target string, level Level) (*ErrorLog, error) {
	s := &errSink{target: target, now: time.Now}
	if target == "" {
		s.target = "-"
	}
	s.level.Store(int32(level))
	if s.target == "-" {
		s.f = os.Stderr
	} else {
		f, err := openAppend(s.target, "--error-logfile")
		if err != nil {
			return nil, err
		}
		s.f = f
	}
	return &ErrorLog{s: s, pid: os.Getpid()}, nil
}

func openAppend(path, setting string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("logging: cannot open %s %q: %w; check that the directory exists and is writable by this user", setting, path, err)
	}
	return f, nil
}

// WithPid returns a logger that writes lines stamped with pid instead of
// this process's pid, for lines logged on behalf of a worker.
func (l *ErrorLog) WithPid(pid int) *ErrorLog { return &ErrorLog{s: l.s, pid: pid} }

// Pid is the pid stamped on this logger's lines.
func (l *ErrorLog) Pid() int { return l.pid }

// Target is the --error-logfile value this log writes to ("-" for stderr).
func (l *ErrorLog) Target() string { return l.s.target }

// SetLevel changes the threshold, e.g. after a HUP reload changed --log-level.
func (l *ErrorLog) SetLevel(level Level) { l.s.level.Store(int32(level)) }

// Level returns the current threshold.
func (l *ErrorLog) Level() Level { return Level(l.s.level.Load()) }

// Enabled reports whether a line at level would be written; use it to skip
// building expensive messages.
func (l *ErrorLog) Enabled(level Level) bool { return int32(level) >= l.s.level.Load() }

// Debug logs at DEBUG. format is used verbatim when no args are given, so a
// message containing '%' needs no escaping.
func (l *ErrorLog) Debug(format string, args ...any) { l.logf(LevelDebug, format, args) }

// Info logs at INFO.
func (l *ErrorLog) Info(format string, args ...any) { l.logf(LevelInfo, format, args) }

// Warning logs at WARNING.
func (l *ErrorLog) Warning(format string, args ...any) {
	l.counted("warning")
	l.logf(LevelWarning, format, args)
}

// Error logs at ERROR.
func (l *ErrorLog) Error(format string, args ...any) {
	l.counted("error")
	l.logf(LevelError, format, args)
}

// Critical logs at CRITICAL.
func (l *ErrorLog) Critical(format string, args ...any) {
	l.counted("critical")
	l.logf(LevelCritical, format, args)
}

// SetCounter makes Warning, Error, Critical and Exception call f with
// "warning", "error", "critical" or "exception", whatever --log-level
// filters out, as gunicorn's Statsd logger counts gunicorn.log.<name>.
// Log and Line are not counted (gunicorn's log() is not either). nil
// turns counting off.
func (l *ErrorLog) SetCounter(f func(name string)) {
	if f == nil {
		l.s.count.Store(nil)
		return
	}
	l.s.count.Store(&f)
}

func (l *ErrorLog) counted(name string) {
	if f := l.s.count.Load(); f != nil {
		(*f)(name)
	}
}

// Log logs at an arbitrary level.
func (l *ErrorLog) Log(level Level, format string, args ...any) { l.logf(level, format, args) }

// Exception logs msg at ERROR followed by err's text on the next lines, the
// way gunicorn's log.exception appends the traceback to the message. Both go
// out in one write.
func (l *ErrorLog) Exception(msg string, err error) {
	l.counted("exception")
	if !l.Enabled(LevelError) {
		return
	}
	if err != nil {
		msg = msg + "\n" + strings.TrimRight(err.Error(), "\n")
	}
	l.s.write(l.pid, LevelError, msg)
}

// Line writes msg at level stamped with pid. It is the raw entry point for
// lines relayed from workers, which carry their own pid and level.
func (l *ErrorLog) Line(pid int, level Level, msg string) {
	if l.Enabled(level) {
		l.s.write(pid, level, msg)
	}
}

func (l *ErrorLog) logf(level Level, format string, args []any) {
	if !l.Enabled(level) {
		return
	}
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	l.s.write(l.pid, level, msg)
}

func (s *errSink) write(pid int, level Level, msg string) {
	if sl := s.syslog.Load(); sl != nil {
		sl.logError(pid, level, msg)
	}
	s.writeFile(pid, level, msg)
}

func (s *errSink) writeFile(pid int, level Level, msg string) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	b := now.AppendFormat(s.buf[:0], errorDateLayout)
	b = append(b, '[')
	b = appendInt(b, int64(pid))
	b = append(b, "] ["...)
	b = append(b, level.String()...)
	b = append(b, "] "...)
	b = append(b, msg...)
	b = append(b, '\n')
	s.buf = b
	// A failed log write has nowhere better to be reported; gunicorn's
	// handlers likewise swallow it (logging.raiseExceptions aside).
	_, _ = s.f.Write(b)
}

// CaptureOutput redirects this process's stdout and stderr (fds 1 and 2)
// into the error log file, as gunicorn's --capture-output does, and keeps
// doing so after every Reopen. It does nothing when the log goes to stderr.
func (l *ErrorLog) CaptureOutput() error {
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.target == "-" {
		return nil
	}
	s.capture = true
	return s.dupStdio()
}

func (s *errSink) dupStdio() error {
	for _, fd := range []int{1, 2} {
		if err := syscall.Dup3(int(s.f.Fd()), fd, 0); err != nil {
			return fmt.Errorf("logging: --capture-output: cannot redirect fd %d into %q: %w", fd, s.target, err)
		}
	}
	return nil
}

// File returns the open log file (os.Stderr for "-"), e.g. to hand to a
// child process as its stderr. It stays valid until the next Reopen.
func (l *ErrorLog) File() *os.File {
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	return l.s.f
}

// Reopen closes and reopens a file target so that a log renamed by
// logrotate is recreated (gunicorn does this on USR1). Stderr is kept.
// On failure the old file stays in use and the error says why.
func (l *ErrorLog) Reopen() error {
	s := l.s
	if s.target == "-" {
		return nil
	}
	f, err := openAppend(s.target, "--error-logfile")
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		f.Close()
		return nil
	}
	old := s.f
	s.f = f
	old.Close()
	if s.capture {
		return s.dupStdio()
	}
	return nil
}

// Close closes a file target; later lines are dropped. Stderr is not closed.
func (l *ErrorLog) Close() error {
	s := l.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.target == "-" {
		return nil
	}
	return s.f.Close()
}

func appendInt(b []byte, v int64) []byte { return strconv.AppendInt(b, v, 10) }
