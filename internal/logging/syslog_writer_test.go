package logging

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// recvDatagrams returns a channel of the datagrams pc receives.
func recvDatagrams(t *testing.T, pc net.PacketConn) <-chan string {
	t.Helper()
	ch := make(chan string, 64)
	go func() {
		buf := make([]byte, 65536)
		for {
			n, _, err := pc.ReadFrom(buf)
			if err != nil {
				close(ch)
				return
			}
			ch <- string(buf[:n])
		}
	}()
	t.Cleanup(func() { pc.Close() })
	return ch
}

func next(t *testing.T, ch <-chan string) string {
	t.Helper()
	select {
	case s := <-ch:
		return s
	case <-time.After(5 * time.Second):
		t.Fatal("no syslog record within 5s")
	}
	return ""
}

func newTestSyslog(t *testing.T, addr, facility string) *Syslog {
	t.Helper()
	s, err := NewSyslog(SyslogConfig{Addr: addr, Facility: facility, Prefix: "hello_wsgi.app"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func shortSocketPath(t *testing.T) string {
	t.Helper()
	// sun_path is 108 bytes; t.TempDir() can be longer than that.
	dir, err := os.MkdirTemp("", "sl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Join(dir, "log.sock")
}

func TestErrorAndAccessLogToUDP(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ch := recvDatagrams(t, pc)
	sl := newTestSyslog(t, "udp://"+pc.LocalAddr().String(), "local3")

	elog, err := NewErrorLog(filepath.Join(t.TempDir(), "error.log"), LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	defer elog.Close()
	elog.SetSyslog(sl)
	alog, err := NewAccessLog("", mustFormat(t, DefaultAccessLogFormat))
	if err != nil {
		t.Fatal(err)
	}
	if alog.Enabled() {
		t.Fatal("Enabled before SetSyslog: got true; want false")
	}
	alog.SetSyslog(sl)
	if !alog.Enabled() {
		t.Fatal("Enabled after SetSyslog: got false; want true")
	}

	me := os.Getpid()
	elog.Info("Starting gonicorn %s", "0.1.0")
	elog.Debug("filtered out by --log-level")
	elog.WithPid(4242).Warning("Worker (pid:%d) was sent SIGKILL!", 4242)
	elog.Line(77, LevelCritical, "WORKER TIMEOUT (pid:77)")
	elog.Exception("Error handling request /", errors.New("Traceback\n  line"))
	e := observedEntry()
	e.Pid = 31337
	alog.Log(e)

	want := []string{
		fmt.Sprintf("<158>gunicorn.hello_wsgi.app.error: [%d] Starting gonicorn 0.1.0\x00", me),
		"<156>gunicorn.hello_wsgi.app.error: [4242] Worker (pid:4242) was sent SIGKILL!\x00",
		"<154>gunicorn.hello_wsgi.app.error: [77] WORKER TIMEOUT (pid:77)\x00",
		fmt.Sprintf("<155>gunicorn.hello_wsgi.app.error: [%d] Error handling request /\nTraceback\n  line\x00", me),
		"<158>gunicorn.hello_wsgi.app.access: [31337] " + observedLine + "\x00",
	}
	for i, w := range want {
		if got := next(t, ch); got != w {
			t.Errorf("record %d:\ngot  %q;\nwant %q", i, got, w)
		}
	}
	// The access log has no file: Reopen and Close must cope.
	if err := alog.Reopen(); err != nil {
		t.Errorf("Reopen: got %v; want nil", err)
	}
	if err := alog.Close(); err != nil {
		t.Errorf("Close: got %v; want nil", err)
	}
}

func mustFormat(t *testing.T, s string) *AccessFormat {
	t.Helper()
	f, err := CompileAccessFormat(s)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestUnixDgramAndStreamFallback(t *testing.T) {
	t.Run("dgram", func(t *testing.T) {
		path := shortSocketPath(t)
		pc, err := net.ListenPacket("unixgram", path)
		if err != nil {
			t.Fatal(err)
		}
		ch := recvDatagrams(t, pc)
		for _, addr := range []string{"unix://" + path, "unix://" + path + "#dgram", "unix://" + path + "#stream"} {
			sl := newTestSyslog(t, addr, "user")
			sl.logError(9, LevelError, "boom")
			if got, want := next(t, ch), "<11>gunicorn.hello_wsgi.app.error: [9] boom\x00"; got != want {
				t.Errorf("%s: got %q; want %q", addr, got, want)
			}
		}
	})
	t.Run("stream", func(t *testing.T) {
		path := shortSocketPath(t)
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		records := make(chan string, 8)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			r := bufio.NewReader(c)
			for {
				rec, err := r.ReadString(0)
				if err != nil {
					return
				}
				records <- rec
			}
		}()
		sl := newTestSyslog(t, "unix://"+path, "daemon")
		sl.logError(1, LevelInfo, "a")
		sl.logAccess(2, []byte("b"))
		for _, want := range []string{"<30>gunicorn.hello_wsgi.app.error: [1] a\x00", "<30>gunicorn.hello_wsgi.app.access: [2] b\x00"} {
			if got := next(t, records); got != want {
				t.Errorf("got %q; want %q", got, want)
			}
		}
		// #dgram must not fall back to stream.
		sl2 := newTestSyslog(t, "unix://"+path+"#dgram", "daemon")
		var reports []string
		var mu sync.Mutex
		sl2.setReport(func(m string) { mu.Lock(); reports = append(reports, m); mu.Unlock() })
		sl2.logError(1, LevelInfo, "lost")
		sl2.Close()
		mu.Lock()
		defer mu.Unlock()
		if len(reports) != 1 || !strings.Contains(reports[0], "lines are dropped until it is reachable again") {
			t.Errorf("reports: got %q; want one 'lines are dropped' report", reports)
		}
	})
}

func TestTCPRecordsAreNULSeparated(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		var sb strings.Builder
		r := bufio.NewReader(c)
		for range 2 {
			rec, err := r.ReadString(0)
			if err != nil {
				break
			}
			sb.WriteString(rec)
		}
		got <- sb.String()
	}()
	sl := newTestSyslog(t, "tcp://"+ln.Addr().String(), "user")
	sl.logError(5, LevelInfo, "one")
	sl.logError(5, LevelInfo, "two")
	want := "<14>gunicorn.hello_wsgi.app.error: [5] one\x00<14>gunicorn.hello_wsgi.app.error: [5] two\x00"
	if g := next(t, got); g != want {
		t.Errorf("got %q; want %q", g, want)
	}
}

func TestNewSyslogErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := ln.Addr().String()
	ln.Close()
	tests := []struct {
		cfg  SyslogConfig
		want string
	}{
		{SyslogConfig{Addr: "ftp://x", Facility: "user"}, "invalid syslog address"},
		{SyslogConfig{Addr: "udp://127.0.0.1:9", Facility: "nope"}, "unknown facility name"},
		{SyslogConfig{Addr: "tcp://" + refused, Facility: "user"}, "cannot reach the syslog daemon at --log-syslog-to"},
		{SyslogConfig{Addr: "udp://no-such-host.invalid:514", Facility: "user"}, "cannot reach the syslog daemon"},
	}
	for _, tt := range tests {
		s, err := NewSyslog(tt.cfg)
		if err == nil {
			s.Close()
			t.Errorf("NewSyslog(%+v): got nil error; want %q", tt.cfg, tt.want)
			continue
		}
		if !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewSyslog(%+v): got %q; want it to contain %q", tt.cfg, err, tt.want)
		}
	}
}

// A missing unix socket is not a startup error (gunicorn starts too); lines
// are dropped, reported once, and flow again when the daemon appears.
func TestUnixSocketAppearsLater(t *testing.T) {
	path := shortSocketPath(t)
	sl := newTestSyslog(t, "unix://"+path+"#dgram", "user")
	reports := make(chan string, 8)
	sl.setReport(func(m string) { reports <- m })
	sl.logError(1, LevelInfo, "lost 1")
	sl.logError(1, LevelInfo, "lost 2")
	if got := next(t, reports); !strings.Contains(got, "cannot send to --log-syslog-to unix://"+path+"#dgram") {
		t.Errorf("report: got %q; want 'cannot send to --log-syslog-to ...'", got)
	}
	pc, err := net.ListenPacket("unixgram", path)
	if err != nil {
		t.Fatal(err)
	}
	ch := recvDatagrams(t, pc)
	time.Sleep(syslogRedialDelay + 100*time.Millisecond)
	sl.logError(1, LevelInfo, "back")
	if got, want := next(t, ch), "<14>gunicorn.hello_wsgi.app.error: [1] back\x00"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	if got := next(t, reports); !strings.Contains(got, "again; 2 lines were dropped") {
		t.Errorf("recovery report: got %q; want '... again; 2 lines were dropped'", got)
	}
	select {
	case extra := <-reports:
		t.Errorf("unexpected extra report %q", extra)
	default:
	}
}

// A daemon that stops reading must never stall the logger: records beyond
// the queue are dropped and Close still returns.
func TestStalledDaemonDropsInsteadOfBlocking(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c // never read from
		}
	}()
	sl, err := NewSyslog(SyslogConfig{Addr: "tcp://" + ln.Addr().String(), Facility: "user", Prefix: "p", QueueLen: 8})
	if err != nil {
		t.Fatal(err)
	}
	c := <-accepted
	defer c.Close()
	line := []byte(strings.Repeat("x", 8192))
	start := time.Now()
	for range 5000 { // ~40 MB: far more than the socket buffers hold
		sl.logAccess(1, line)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("5000 logAccess calls took %v; want them not to wait for the socket", d)
	}
	if sl.Dropped() == 0 {
		t.Error("Dropped: got 0; want records dropped once the queue was full")
	}
	done := make(chan struct{})
	go func() { sl.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(syslogCloseTimeout + 3*time.Second):
		t.Fatal("Close did not return with a stalled daemon")
	}
}
