package logging

import (
	"os"
	"sync"
	"sync/atomic"
)

// AccessLog writes access lines ("gunicorn.access") to stdout or a file.
// It is safe for concurrent use; a nil *AccessLog, or one made with an empty
// target, is off and every method is a cheap no-op.
type AccessLog struct {
	format *AccessFormat
	target string

	mu     sync.RWMutex // Log holds it shared; Reopen and Close exclusively
	f      *os.File     // nil when only syslog gets the lines
	closed bool

	syslog atomic.Pointer[Syslog] // also send lines here; see SetSyslog

	bufs sync.Pool // *[]byte, reused so a line costs no allocation
}

// NewAccessLog opens the access log. target is the --access-logfile value:
// "" turns the log off, "-" means stdout, anything else a file opened in
// append mode and created with mode 0644 (less the umask).
func NewAccessLog(target string, format *AccessFormat) (*AccessLog, error) {
	l := &AccessLog{format: format, target: target}
	l.bufs.New = func() any { b := make([]byte, 0, 512); return &b }
	switch target {
	case "":
		return l, nil
	case "-":
		l.f = os.Stdout
	default:
		f, err := openAppend(target, "--access-logfile")
		if err != nil {
			return nil, err
		}
		l.f = f
	}
	return l, nil
}

// Enabled reports whether Log writes anything; the caller can skip
// collecting an AccessEntry when it does not.
func (l *AccessLog) Enabled() bool {
	return l != nil && l.format != nil && (l.target != "" || l.syslog.Load() != nil)
}

// Format returns the compiled format in use.
func (l *AccessLog) Format() *AccessFormat { return l.format }

// Log renders e and writes it with a single write(2).
func (l *AccessLog) Log(e *AccessEntry) {
	if !l.Enabled() {
		return
	}
	bp := l.bufs.Get().(*[]byte)
	b := l.format.Append((*bp)[:0], e)
	if sl := l.syslog.Load(); sl != nil {
		sl.logAccess(e.Pid, b)
	}
	b = append(b, '\n')
	l.mu.RLock()
	if !l.closed && l.f != nil {
		// As in gunicorn, a failed access-log write does not fail the request.
		_, _ = l.f.Write(b)
	}
	l.mu.RUnlock()
	if cap(b) <= 64<<10 { // do not pin the memory of a freak huge line
		*bp = b
		l.bufs.Put(bp)
	}
}

// Reopen closes and reopens a file target (USR1, after logrotate renamed
// it). Stdout is kept. On failure the old file stays in use.
func (l *AccessLog) Reopen() error {
	if !l.Enabled() || l.target == "-" || l.target == "" {
		return nil
	}
	f, err := openAppend(l.target, "--access-logfile")
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		f.Close()
		return nil
	}
	old := l.f
	l.f = f
	return old.Close()
}

// Close closes a file target; later lines are dropped. Stdout is not closed.
func (l *AccessLog) Close() error {
	if !l.Enabled() {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	if l.target == "-" || l.f == nil {
		return nil
	}
	return l.f.Close()
}
