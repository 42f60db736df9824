package pidfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Pidfile is a PID file this process wrote.
type Pidfile struct {
	path string
	pid  int
}

// RunningError is the refusal to start over a live PID. Its text is
// gunicorn's.
type RunningError struct {
	PID  int
	Path string
}

func (e *RunningError) Error() string {
	return fmt.Sprintf("Already running on PID %d (or pid file '%s' is stale)", e.PID, e.Path)
}

// Create writes pid to path, unless path records another live process
// (then the error is a *RunningError). A file that is unreadable as a
// number, names a dead process or names this process is replaced.
func Create(path string, pid int) (*Pidfile, error) {
	p := &Pidfile{path: path, pid: pid}
	if err := p.create(); err != nil {
		return nil, err
	}
	return p, nil
}

// Path returns the file's current path.
func (p *Pidfile) Path() string { return p.path }

// PID returns the PID written to the file.
func (p *Pidfile) PID() int { return p.pid }

func (p *Pidfile) create() error {
	old, err := recorded(p.path)
	if err != nil {
		return err
	}
	if old > 0 && old != os.Getpid() && alive(old) {
		return &RunningError{PID: old, Path: p.path}
	}
	dir := filepath.Dir(p.path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("pidfile: %s doesn't exist. Can't create pidfile '%s'; create the directory or choose another --pid path", dir, p.path)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(p.path)+".*")
	if err != nil {
		return fmt.Errorf("pidfile: cannot create pidfile '%s': %v; check the directory's permissions or choose another --pid path", p.path, err)
	}
	tmp := f.Name()
	_, err = f.WriteString(strconv.Itoa(p.pid) + "\n")
	if err == nil {
		err = f.Chmod(0o644) // CreateTemp makes 0600; gunicorn chmods to rw-r--r--
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("pidfile: cannot write pidfile '%s': %v; check the directory's permissions or choose another --pid path", p.path, err)
	}
	return nil
}

// Rename moves our PID file to path: the old file is unlinked (if it is
// still ours) and path is created with the same rules as Create.
func (p *Pidfile) Rename(path string) error {
	if err := p.Unlink(); err != nil {
		return err
	}
	p.path = path
	return p.create()
}

// Unlink removes the file if it still holds our PID. A missing file or one
// another process has taken over is left alone without error.
func (p *Pidfile) Unlink() error {
	b, err := os.ReadFile(p.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("pidfile: cannot read pidfile '%s': %v", p.path, err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		s = "0"
	}
	if n, err := strconv.Atoi(s); err != nil || n != p.pid {
		return nil
	}
	if err := os.Remove(p.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("pidfile: cannot remove pidfile '%s': %v", p.path, err)
	}
	return nil
}

// recorded returns the PID in path; 0 when the file is missing or does not
// hold a number (gunicorn then overwrites it). Other read errors are
// returned, as gunicorn raises them.
func recorded(path string) (int, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("pidfile: cannot read pidfile '%s': %v; fix its permissions or remove it", path, err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0, nil
	}
	return n, nil
}

// alive is gunicorn's kill(pid, 0) test: EPERM means someone else's live
// process. PIDs <= 0 would address process groups and count as stale.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
