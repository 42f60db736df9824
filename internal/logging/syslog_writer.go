package logging

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// SyslogConfig is what NewSyslog needs, straight from the settings.
type SyslogConfig struct {
	Addr     string // --log-syslog-to, e.g. "udp://localhost:514"
	Facility string // --log-syslog-facility, e.g. "user"
	Prefix   string // the program name in tags; see SyslogPrefix

	// QueueLen is how many records may wait for the socket; beyond it
	// records are dropped so that a slow or dead daemon never stalls a
	// request. Zero means 4096.
	QueueLen int
}

// Syslog sends error and access records to a syslog daemon in
// SysLogHandler's format (see AppendSyslogMessage). Callers only format
// into a buffer and queue it without blocking; one goroutine owns the
// socket, reconnects it and drops records while the daemon is unreachable.
//
// Attach it with ErrorLog.SetSyslog and AccessLog.SetSyslog; stop it with
// Close, which sends what is still queued.
type Syslog struct {
	addr      SyslogAddr
	facility  int
	errorTag  string
	accessTag string

	q        chan *[]byte
	bufs     sync.Pool
	quit     chan struct{}
	done     chan struct{}
	quitOnce sync.Once
	dropped  atomic.Int64 // records dropped because the queue was full
	abandon  atomic.Bool  // Close gave up waiting: send nothing more

	// report tells the user about delivery trouble. It must not write to
	// syslog itself, or a dead daemon would feed its own error stream.
	report atomic.Pointer[func(string)]

	connMu sync.Mutex // guards conn for Close; the run goroutine alone replaces it
	conn   net.Conn
	udpTo  *net.UDPAddr // udp: the resolved daemon address (the socket is unconnected)

	// Owned by the run goroutine.
	dialErr       error // why the last dial failed
	failing       bool
	failed        int64 // records lost during the current failure streak
	nextDial      time.Time
	lastReport    time.Time
	reportedDrops int64 // Dropped() when lastReport was made
}

const (
	syslogDialTimeout  = 5 * time.Second
	syslogWriteTimeout = 5 * time.Second
	syslogRedialDelay  = time.Second      // at most one reconnect attempt per second
	syslogReportEvery  = 10 * time.Second // for "queue full" reports
	syslogCloseTimeout = 2 * time.Second
)

// NewSyslog validates the settings and opens the socket. As in gunicorn, an
// unresolvable udp/tcp host or a refused tcp connection is an error at
// startup, while a missing unix socket is not (records are dropped, and
// reported once on the error log, until it appears).
func NewSyslog(c SyslogConfig) (*Syslog, error) {
	addr, err := ParseSyslogAddr(c.Addr)
	if err != nil {
		return nil, err
	}
	facility, err := ParseSyslogFacility(c.Facility)
	if err != nil {
		return nil, err
	}
	if c.QueueLen <= 0 {
		c.QueueLen = 4096
	}
	s := &Syslog{
		addr:      addr,
		facility:  facility,
		errorTag:  SyslogTag(c.Prefix, "error"),
		accessTag: SyslogTag(c.Prefix, "access"),
		q:         make(chan *[]byte, c.QueueLen),
		quit:      make(chan struct{}),
		done:      make(chan struct{}),
	}
	s.bufs.New = func() any { b := make([]byte, 0, 256); return &b }
	if err := s.dial(); err != nil && addr.Network != "unix" {
		return nil, fmt.Errorf("logging: cannot reach the syslog daemon at --log-syslog-to %q: %w; start it first or fix the address", addr, err)
	}
	go s.run()
	return s, nil
}

// Addr is the parsed --log-syslog-to value.
func (s *Syslog) Addr() SyslogAddr { return s.addr }

// Dropped is how many records were dropped so far because the queue was
// full (records lost to an unreachable daemon are reported, not counted).
func (s *Syslog) Dropped() int64 { return s.dropped.Load() }

// SetSyslog sends every line this log writes (whatever its pid) to s as
// "gunicorn.<prefix>.error" too, as gunicorn's syslog handler on the
// gunicorn.error logger does. Trouble reaching the daemon is reported on
// this log's file or stderr only. nil stops it.
func (l *ErrorLog) SetSyslog(s *Syslog) {
	if s != nil {
		sink := l.s
		s.setReport(func(msg string) { sink.writeFile(os.Getpid(), LevelWarning, msg) })
	}
	l.s.syslog.Store(s)
}

// SetSyslog sends every access line to s as "gunicorn.<prefix>.access",
// stamped with the worker's pid as gunicorn's workers do. It turns a log
// made with an empty target on, as --log-syslog does in gunicorn when no
// --access-logfile is given. nil stops it.
func (l *AccessLog) SetSyslog(s *Syslog) { l.syslog.Store(s) }

// setReport installs where delivery trouble is told; see Syslog.report.
func (s *Syslog) setReport(f func(string)) { s.report.Store(&f) }

// logError queues an error-log record.
func (s *Syslog) logError(pid int, level Level, msg string) {
	bp := s.bufs.Get().(*[]byte)
	*bp = AppendSyslogMessage((*bp)[:0], SyslogPriority(s.facility, level), s.errorTag, pid, msg)
	s.enqueue(bp)
}

// logAccess queues an access line (INFO, as gunicorn's access_log.info).
func (s *Syslog) logAccess(pid int, line []byte) {
	if pid == 0 {
		pid = os.Getpid()
	}
	bp := s.bufs.Get().(*[]byte)
	b := appendSyslogHead((*bp)[:0], SyslogPriority(s.facility, LevelInfo), s.accessTag, pid)
	b = append(b, line...)
	*bp = append(b, 0)
	s.enqueue(bp)
}

func (s *Syslog) enqueue(bp *[]byte) {
	select {
	case s.q <- bp:
	default:
		s.dropped.Add(1)
		s.put(bp)
	}
}

func (s *Syslog) put(bp *[]byte) {
	if cap(*bp) <= 64<<10 { // do not pin the memory of a freak huge record
		s.bufs.Put(bp)
	}
}

// Close sends the records still queued (for up to two seconds) and closes
// the socket. Records queued after Close are dropped. It is safe to call
// more than once, and on nil.
func (s *Syslog) Close() error {
	if s == nil {
		return nil
	}
	s.quitOnce.Do(func() { close(s.quit) })
	select {
	case <-s.done:
	case <-time.After(syslogCloseTimeout):
		// A stalled peer: closing the socket ends the pending write, and
		// what is still queued is dropped rather than retried.
		s.abandon.Store(true)
		s.connMu.Lock()
		if s.conn != nil {
			s.conn.Close()
		}
		s.connMu.Unlock()
		<-s.done
	}
	return nil
}

// run is the goroutine that owns the socket.
func (s *Syslog) run() {
	defer close(s.done)
	defer s.setConn(nil)
	for {
		select {
		case bp := <-s.q:
			s.send(*bp)
			s.put(bp)
		case <-s.quit:
			for {
				select {
				case bp := <-s.q:
					s.send(*bp)
					s.put(bp)
				default:
					return
				}
			}
		}
		if n := s.dropped.Load(); n > s.reportedDrops && time.Since(s.lastReport) >= syslogReportEvery {
			s.lastReport, s.reportedDrops = time.Now(), n
			s.tell(fmt.Sprintf("syslog: %d lines dropped so far because the syslog daemon at %s does not keep up", n, s.addr))
		}
	}
}

// send writes one record. Like SysLogHandler, a failed write on a unix
// socket reconnects and retries once; unlike it, a broken tcp connection is
// reconnected too (Python keeps the dead socket forever).
func (s *Syslog) send(b []byte) {
	if s.abandon.Load() {
		return
	}
	if s.conn == nil {
		if time.Now().Before(s.nextDial) {
			s.fail(s.dialErr)
			return
		}
		if err := s.dial(); err != nil {
			s.fail(err)
			return
		}
	}
	err := s.write(b)
	if err == nil {
		s.recovered()
		return
	}
	if s.addr.Network == "udp" {
		// The socket is fine (e.g. a record over the datagram limit).
		s.fail(err)
		return
	}
	s.setConn(nil)
	if err = s.dial(); err == nil {
		if err = s.write(b); err == nil {
			s.recovered()
			return
		}
		s.setConn(nil)
	}
	s.fail(err)
}

func (s *Syslog) write(b []byte) error {
	if s.udpTo != nil {
		_, err := s.conn.(*net.UDPConn).WriteToUDP(b, s.udpTo)
		return err
	}
	// A full datagram queue blocks a unix socket just like a stalled
	// stream peer does.
	s.conn.SetWriteDeadline(time.Now().Add(syslogWriteTimeout))
	_, err := s.conn.Write(b)
	return err
}

// dial opens the socket the way SysLogHandler.createSocket does.
func (s *Syslog) dial() error {
	a := s.addr
	var c net.Conn
	var err error
	switch a.Network {
	case "udp":
		var to *net.UDPAddr
		if to, err = net.ResolveUDPAddr("udp", net.JoinHostPort(a.Host, strconv.Itoa(a.Port))); err != nil {
			break
		}
		network := "udp4"
		if to.IP.To4() == nil {
			network = "udp6"
		}
		var uc *net.UDPConn
		if uc, err = net.ListenUDP(network, nil); err == nil {
			s.udpTo, c = to, uc
		}
	case "tcp":
		c, err = net.DialTimeout("tcp", net.JoinHostPort(a.Host, strconv.Itoa(a.Port)), syslogDialTimeout)
	case "unix":
		c, err = net.Dial("unixgram", a.Path)
		if err != nil && a.Socket == SocketAuto {
			c, err = net.DialTimeout("unix", a.Path, syslogDialTimeout)
		}
	}
	if err != nil {
		s.nextDial, s.dialErr = time.Now().Add(syslogRedialDelay), err
		return err
	}
	s.setConn(c)
	return nil
}

func (s *Syslog) setConn(c net.Conn) {
	s.connMu.Lock()
	if s.conn != nil {
		s.conn.Close()
	}
	s.conn = c
	s.connMu.Unlock()
}

// fail counts a lost record and tells the user once per failure streak.
func (s *Syslog) fail(err error) {
	s.failed++
	if s.failing {
		return
	}
	s.failing = true
	var what string
	if errors.Is(err, net.ErrClosed) {
		what = "the socket was closed"
	} else {
		what = err.Error()
	}
	s.tell(fmt.Sprintf("syslog: cannot send to --log-syslog-to %s: %s; lines are dropped until it is reachable again", s.addr, what))
}

func (s *Syslog) recovered() {
	if !s.failing {
		return
	}
	s.tell(fmt.Sprintf("syslog: sending to %s again; %d lines were dropped", s.addr, s.failed))
	s.failing, s.failed = false, 0
}

func (s *Syslog) tell(msg string) {
	if f := s.report.Load(); f != nil {
		(*f)(msg)
	}
}
