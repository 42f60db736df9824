package control

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

const (
	// idleTimeout is gunicorn's: a client silent this long is dropped.
	idleTimeout = 300 * time.Second
	// writeTimeout bounds a reply to a client that stopped reading.
	writeTimeout = 10 * time.Second
	// masterTimeout bounds the wait for the arbiter (busy in a reload,
	// say); gunicornc gives up after 30 s anyway.
	masterTimeout = 25 * time.Second
	// stopGrace lets replies being written finish when the server stops.
	stopGrace = 2 * time.Second
	// maxPath is sizeof(sun_path) minus the NUL Go insists on.
	maxPath = 107
)

// Logger is the error log's subset the server uses.
type Logger interface {
	Info(format string, args ...any)
	Warning(format string, args ...any)
	Debug(format string, args ...any)
}

// Options configure a Server. The zero Mode is gunicorn's 0600.
type Options struct {
	Path   string      // socket path; a relative one is resolved against the working directory
	Mode   os.FileMode // permissions of the socket file
	Log    Logger
	Master Master
	// TakeOver: a master started by USR2 replaces its parent's socket
	// without the warning about another server answering there.
	TakeOver bool
}

// Server is the control socket. Start binds it and starts the accept
// goroutine; Stop closes it, joins every goroutine and removes the socket
// file if it is still ours.
type Server struct {
	opt    Options
	path   string
	ln     *net.UnixListener
	ino    uint64 // the socket file we created, so we never remove another's
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex // guards conns and stopped
	conns   map[net.Conn]struct{}
	stopped bool
}

// New returns a Server that is not listening yet.
func New(opt Options) *Server {
	if opt.Mode == 0 {
		opt.Mode = 0o600
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{opt: opt, ctx: ctx, cancel: cancel, conns: make(map[net.Conn]struct{})}
}

// Path is the absolute socket path (after Start).
func (s *Server) Path() string { return s.path }

// Start creates the socket as gunicorn does (parent directory made 0700
// if missing, a leftover socket file replaced, chmod to Mode), logs
// "Control socket listening at PATH" and serves in the background.
func (s *Server) Start() error {
	path := s.opt.Path
	if !filepath.IsAbs(path) {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("cannot resolve control socket path %q: %w", path, err)
		}
		path = filepath.Join(wd, path)
	}
	s.path = path
	if len(path) > maxPath {
		return fmt.Errorf("AF_UNIX path too long: %s is %d bytes, the limit is %d; set --control-socket to a shorter path", path, len(path), maxPath)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("cannot create the directory of the control socket: %w; set --control-socket to a writable path or use --no-control-socket", err)
	}
	if err := s.clearStale(path); err != nil {
		return err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return fmt.Errorf("cannot listen on control socket %s: %w; set --control-socket to a writable path or use --no-control-socket", path, err)
	}
	ln.SetUnlinkOnClose(false) // Stop removes it only if it is still ours
	if err := os.Chmod(path, s.opt.Mode.Perm()); err != nil {
		ln.Close()
		_ = os.Remove(path)
		return fmt.Errorf("cannot chmod control socket %s to %#o: %w", path, s.opt.Mode.Perm(), err)
	}
	if st, err := os.Stat(path); err == nil {
		if sys, ok := st.Sys().(*syscall.Stat_t); ok {
			s.ino = sys.Ino
		}
	}
	s.ln = ln
	s.opt.Log.Info("Control socket listening at %s", path)
	s.wg.Add(1)
	go s.acceptLoop()
	return nil
}

// clearStale removes a socket file left at path, as gunicorn does. Unlike
// gunicorn it refuses to delete anything that is not a socket, and it
// warns when a live server was answering there.
func (s *Server) clearStale(path string) error {
	st, err := os.Lstat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot check control socket path %s: %w", path, err)
	}
	if st.Mode()&os.ModeSocket == 0 {
		return fmt.Errorf("control socket path %s exists and is not a socket; remove it or set --control-socket to another path", path)
	}
	if c, err := net.DialTimeout("unix", path, 200*time.Millisecond); err == nil {
		c.Close()
		if !s.opt.TakeOver {
			s.opt.Log.Warning("Another server answers on control socket %s; taking it over (give each server its own --control-socket)", path)
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("cannot remove old control socket %s: %w", path, err)
	}
	return nil
}

// Stop closes the socket, lets replies being written finish, joins every
// connection goroutine and removes the socket file. It is idempotent and
// safe when Start failed or never ran.
func (s *Server) Stop() {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return
	}
	s.stopped = true
	for c := range s.conns {
		// Wakes readers waiting for the next request; a reply being
		// written still goes out.
		_ = c.SetReadDeadline(time.Now())
	}
	s.mu.Unlock()
	s.cancel() // callers waiting on the master give up
	if s.ln == nil {
		return
	}
	s.ln.Close()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(stopGrace):
		s.mu.Lock()
		for c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		<-done
	}
	s.removeIfOurs()
}

// removeIfOurs unlinks the socket file unless another process (a master
// started by USR2, say) has replaced it since.
func (s *Server) removeIfOurs() {
	st, err := os.Stat(s.path)
	if err != nil {
		return
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && s.ino != 0 && sys.Ino != s.ino {
		return
	}
	_ = os.Remove(s.path)
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			s.opt.Log.Debug("Control socket accept: %v", err)
			select {
			case <-s.ctx.Done():
				return
			case <-time.After(100 * time.Millisecond): // EMFILE and the like
			}
			continue
		}
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			c.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serveConn(c)
	}
}

// serveConn answers requests until the client closes, sends something
// gunicorn would not answer, idles past idleTimeout or the server stops.
func (s *Server) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	br := bufio.NewReader(c)
	for {
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			return
		}
		_ = c.SetReadDeadline(time.Now().Add(idleTimeout))
		s.mu.Unlock()
		payload, err := ReadFrame(br)
		if err != nil {
			if !errors.Is(err, os.ErrDeadlineExceeded) && !errors.Is(err, net.ErrClosed) {
				s.opt.Log.Debug("Control client error: %v", err)
			}
			return
		}
		reply, err := s.handle(payload)
		if err != nil {
			s.opt.Log.Debug("Control client error: %v", err)
			return
		}
		frame, err := AppendFrame(nil, reply)
		if err != nil {
			s.opt.Log.Debug("Control client error: %v", err)
			return
		}
		_ = c.SetWriteDeadline(time.Now().Add(writeTimeout))
		if _, err := c.Write(frame); err != nil {
			return
		}
	}
}

// handle answers one request payload; an error means close the connection
// without a reply.
func (s *Server) handle(payload []byte) ([]byte, error) {
	req, err := decodeRequest(payload)
	if err != nil {
		return nil, err
	}
	c, err := parseCommand(req)
	if err != nil {
		return encodeReply(req.id, nil, replyError(err))
	}
	ctx, cancel := context.WithTimeout(s.ctx, masterTimeout)
	defer cancel()
	data, err := execute(ctx, s.opt.Master, c)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			err = &failedError{"the server is shutting down"}
		} else if errors.Is(err, context.DeadlineExceeded) {
			err = &failedError{fmt.Sprintf("the master did not answer within %v", masterTimeout)}
		}
		return encodeReply(req.id, nil, replyError(err))
	}
	return encodeReply(req.id, data, "")
}
