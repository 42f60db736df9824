package front

import (
	"crypto/tls"
	"errors"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gonicorn/gonicorn/internal/dispatch"
	"github.com/gonicorn/gonicorn/internal/front/http1"
	"github.com/gonicorn/gonicorn/internal/logging"
	"github.com/gonicorn/gonicorn/internal/worker"
)

// Config is what the front needs from the settings. The zero value of a
// duration means "no limit" unless said otherwise.
type Config struct {
	Parser        http1.Options
	KeepAlive     time.Duration // idle wait for the next request on a connection; 0 closes after each response
	HeaderTimeout time.Duration // time allowed to send a request head once the connection is open
	BodyTimeout   time.Duration // idle time allowed between body reads and response writes
	QueueTimeout  time.Duration // how long a request may wait for a worker slot; 0 = until one frees up
	MaxQueue      int           // most requests waiting for a slot; past it new ones get 503 at once; 0 = no bound
	// RequestTimeout is the per-request deadline (--request-timeout): the
	// client gets 504 and the worker CANCEL; 0 = none.
	RequestTimeout time.Duration
	// WorkerStuck is called when a request timed out on a worker that
	// cannot cancel work (sync, gthread): the arbiter replaces it.
	WorkerStuck  func(*worker.Worker)
	ScriptName   string // SCRIPT_NAME from the environment
	RootPath     string // ASGI root_path (--root-path)
	ServerHeader string
	ErrorLog     *logging.ErrorLog
	AccessLog    *logging.AccessLog
	Metrics      func(status int, elapsed time.Duration) // per request, access log on or off (statsd); nil = off
	Pool         *dispatch.Pool
	H2           H2Config
	// UWSGIAllowIPs is uwsgi_allow_ips, for listeners speaking --protocol uwsgi.
	UWSGIAllowIPs []string
	// WorkerIdle is called when a draining worker finished its last request.
	WorkerIdle func(*worker.Worker)
	// WSMaxMessage is websocket_max_message_size: the largest message an
	// ASGI WebSocket client may send. 0 or more than MaxWSMessage means
	// MaxWSMessage, the most one worker frame carries.
	WSMaxMessage int
}

// Listener is one bound socket and how it shows in environs.
type Listener struct {
	net.Listener
	Scheme   string      // "http" or "https"
	TLS      *tls.Config // set: connections start with a TLS handshake
	Protocol string      // "http" (default) or "uwsgi"
}

// Server serves client connections until Shutdown.
type Server struct {
	cfg        Config
	parser     *http1.Config
	h2cAllow   http1.AllowList
	uwsgiAllow http1.AllowList

	mu        sync.Mutex
	listeners []*Listener
	conns     map[*conn]struct{}
	shutting  bool
	drainC    chan struct{} // closed when shutting turns true
	// The sweeper (sweep.go): sweepWake wakes it from sleep, sweepAsleep
	// says it sleeps, sweepDone closes when it returned.
	sweepWake   chan struct{}
	sweepAsleep atomic.Bool
	sweepDone   chan struct{}

	// shuttingNow mirrors shutting for the per-request check, without the lock.
	shuttingNow atomic.Bool

	asgi     atomic.Bool // the app is ASGI: stream request bodies instead of buffering them
	acceptWG sync.WaitGroup
	connWG   sync.WaitGroup
	nextID   atomic.Uint32
}

// New makes a server; Serve starts it. It fails only on parser options
// that do not validate.
func New(cfg Config) (*Server, error) {
	if cfg.ServerHeader == "" {
		cfg.ServerHeader = "gonicorn"
	}
	pc, err := http1.NewConfig(cfg.Parser)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, parser: pc, conns: make(map[*conn]struct{}), drainC: make(chan struct{}), sweepWake: make(chan struct{}, 1)}
	if s.h2cAllow, err = http1.ParseAllowList("forwarded_allow_ips", cfg.Parser.ForwardedAllowIPs); err != nil {
		return nil, err
	}
	uw := cfg.UWSGIAllowIPs
	if uw == nil {
		uw = []string{"127.0.0.1", "::1"}
	}
	if s.uwsgiAllow, err = http1.ParseAllowList("uwsgi_allow_ips", uw); err != nil {
		return nil, err
	}
	return s, nil
}

// Serve starts one accept goroutine per listener and returns at once.
func (s *Server) Serve(ls []*Listener) {
	s.startSweeper()
	s.mu.Lock()
	s.listeners = append(s.listeners, ls...)
	s.mu.Unlock()
	for _, l := range ls {
		s.acceptWG.Add(1)
		go s.acceptLoop(l)
	}
}

// Swap starts accepting on add and stops accepting on remove (a HUP that
// changed bind); connections already accepted on remove keep being served.
func (s *Server) Swap(add []*Listener, remove []net.Listener) {
	s.Serve(add)
	s.mu.Lock()
	kept := s.listeners[:0]
	for _, l := range s.listeners {
		if !slices.Contains(remove, l.Listener) {
			kept = append(kept, l)
		}
	}
	s.listeners = kept
	s.mu.Unlock()
	for _, l := range remove {
		l.Close()
	}
}

func (s *Server) acceptLoop(l *Listener) {
	defer s.acceptWG.Done()
	var delay time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) || errors.Is(err, os.ErrDeadlineExceeded) {
				return // closed, or the backlog drained by StopAccepting
			}
			// EMFILE and friends: back off rather than spin, as net/http does.
			if delay == 0 {
				delay = 5 * time.Millisecond
			} else if delay *= 2; delay > time.Second {
				delay = time.Second
			}
			s.cfg.ErrorLog.Error("accept error: %v; retrying in %v", err, delay)
			time.Sleep(delay)
			continue
		}
		delay = 0
		c := newConn(s, nc, l)
		s.mu.Lock()
		if s.shutting {
			s.mu.Unlock()
			nc.Close()
			continue
		}
		s.conns[c] = struct{}{}
		s.connWG.Add(1)
		s.mu.Unlock()
		go c.serve()
	}
}

func (s *Server) forget(c *conn) {
	s.mu.Lock()
	delete(s.conns, c)
	s.mu.Unlock()
	s.connWG.Done()
}

// backlogDrain is how long StopAccepting keeps accepting once the kernel's
// queue is empty: connections already in the backlog are accepted and
// served, not reset (gunicorn loses them: its issue #3397).
const backlogDrain = 100 * time.Millisecond

// StopAccepting drains the listen backlog, then closes the listeners.
// Every connection accepted keeps being served.
func (s *Server) StopAccepting() {
	s.mu.Lock()
	ls := s.listeners
	s.listeners = nil
	s.mu.Unlock()
	for _, l := range ls {
		if d, ok := l.Listener.(interface{ SetDeadline(time.Time) error }); ok && d.SetDeadline(time.Now().Add(backlogDrain)) == nil {
			continue
		}
		l.Close()
	}
	s.acceptWG.Wait()
	for _, l := range ls {
		l.Close()
	}
	s.mu.Lock()
	if !s.shutting {
		s.shutting = true
		s.shuttingNow.Store(true)
		close(s.drainC)
	}
	s.mu.Unlock()
}

// Shutdown stops accepting, closes idle connections, and waits for active
// requests to finish or for deadline, after which it closes everything.
// It reports whether all connections finished in time.
func (s *Server) Shutdown(deadline time.Duration) bool {
	s.StopAccepting()
	defer s.joinSweeper()
	done := make(chan struct{})
	go func() {
		s.connWG.Wait()
		close(done)
	}()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	maxIdle := s.cfg.KeepAlive
	if maxIdle <= 0 || maxIdle > 2*time.Second {
		maxIdle = 2 * time.Second
	}
	for {
		s.closeIdle(maxIdle)
		select {
		case <-done:
			return true
		case <-tick.C:
		case <-timer.C:
			s.mu.Lock()
			for c := range s.conns {
				c.nc.Close()
			}
			s.mu.Unlock()
			<-done
			return false
		}
	}
}

// closeIdle closes connections that have waited for a request longer than
// maxIdle. Connections busy or idle for less finish their exchange with
// Connection: close instead: closing a keep-alive connection under a
// client that is just sending a request would fail that request.
func (s *Server) closeIdle(maxIdle time.Duration) {
	cutoff := time.Now().Add(-maxIdle).UnixNano()
	s.mu.Lock()
	for c := range s.conns {
		if c.state.Load() == stateIdle && c.idleSince.Load() < cutoff {
			c.nc.Close()
		}
	}
	s.mu.Unlock()
}

func (s *Server) draining() bool { return s.shuttingNow.Load() }

func (s *Server) newStreamID() uint32 {
	for {
		if id := s.nextID.Add(1); id != 0 {
			return id
		}
	}
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 32<<10); return &b }}

func splitHostPort(a net.Addr) (host, port string) {
	switch a := a.(type) {
	case *net.TCPAddr:
		return a.IP.String(), strconv.Itoa(a.Port)
	}
	return "", ""
}
