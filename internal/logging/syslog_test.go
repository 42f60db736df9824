package logging

import (
	"errors"
	"strings"
	"testing"
)

// The expected bytes are what gunicorn 26/27 sends through Python's
// SysLogHandler, captured from a UDP socket (see tests/e2e/test_syslog.py).
func TestAppendSyslogMessage(t *testing.T) {
	tests := []struct {
		pri  int
		tag  string
		pid  int
		msg  string
		want string
	}{
		{14, "gunicorn.hello_wsgi.app.error", 29796, "Starting gunicorn 26.1.0",
			"<14>gunicorn.hello_wsgi.app.error: [29796] Starting gunicorn 26.1.0\x00"},
		{14, "gunicorn.hello_wsgi.app.access", 29797, `127.0.0.1 - - [26/Nov/2026:11:48:05 +0000] "GET /x HTTP/1.1" 200 14 "-" "ua"`,
			"<14>gunicorn.hello_wsgi.app.access: [29797] 127.0.0.1 - - [26/Nov/2026:11:48:05 +0000] \"GET /x HTTP/1.1\" 200 14 \"-\" \"ua\"\x00"},
		{187, "gunicorn.web.error", 1, "Exception in worker\nTraceback ...", "<187>gunicorn.web.error: [1] Exception in worker\nTraceback ...\x00"},
		{0, "gunicorn..error", 7, "", "<0>gunicorn..error: [7] \x00"},
	}
	for _, tt := range tests {
		if got := string(AppendSyslogMessage([]byte("keep"), tt.pri, tt.tag, tt.pid, tt.msg)); got != "keep"+tt.want {
			t.Errorf("AppendSyslogMessage(%d, %q, %d, %q):\ngot  %q;\nwant %q", tt.pri, tt.tag, tt.pid, tt.msg, got, "keep"+tt.want)
		}
	}
}

func TestSyslogPriority(t *testing.T) {
	tests := []struct {
		facility string
		level    Level
		want     int
	}{
		{"user", LevelInfo, 14},
		{"user", LevelDebug, 15},
		{"user", LevelWarning, 12},
		{"user", LevelError, 11},
		{"user", LevelCritical, 10},
		{"user", Level(25), 12}, // unnamed levels map to warning, as mapPriority does
		{"kern", LevelCritical, 2},
		{"daemon", LevelError, 27},
		{"LOCAL7", LevelDebug, 191},
		{"local0", LevelInfo, 134},
		{"security", LevelInfo, 38},
		{"authpriv", LevelWarning, 84},
	}
	for _, tt := range tests {
		f, err := ParseSyslogFacility(tt.facility)
		if err != nil {
			t.Fatalf("ParseSyslogFacility(%q): %v", tt.facility, err)
		}
		if got := SyslogPriority(f, tt.level); got != tt.want {
			t.Errorf("SyslogPriority(%s, %v): got %d; want %d", tt.facility, tt.level, got, tt.want)
		}
	}
}

func TestParseSyslogFacilityErrors(t *testing.T) {
	// console, ntp and solaris-cron are Python's, not gunicorn's.
	for _, name := range []string{"bogus", "", "console", "ntp", "local8"} {
		_, err := ParseSyslogFacility(name)
		if !errors.Is(err, ErrSyslogConfig) {
			t.Errorf("ParseSyslogFacility(%q): got %v; want ErrSyslogConfig", name, err)
			continue
		}
		for _, part := range []string{"--log-syslog-facility", "unknown facility name", "use one of auth,"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("ParseSyslogFacility(%q): got %q; want it to contain %q", name, err, part)
			}
		}
	}
}

func TestParseSyslogAddr(t *testing.T) {
	tests := []struct {
		in   string
		want SyslogAddr
	}{
		{"udp://localhost:514", SyslogAddr{Network: "udp", Host: "localhost", Port: 514}},
		{"udp://127.0.0.1:21500", SyslogAddr{Network: "udp", Host: "127.0.0.1", Port: 21500}},
		{"udp://LogHost", SyslogAddr{Network: "udp", Host: "loghost", Port: 514}},
		{"udp://", SyslogAddr{Network: "udp", Host: "localhost", Port: 514}},
		{"udp://:515", SyslogAddr{Network: "udp", Host: "localhost", Port: 515}},
		{"tcp://[::1]:601", SyslogAddr{Network: "tcp", Host: "::1", Port: 601}},
		{"tcp://[FE80::1]", SyslogAddr{Network: "tcp", Host: "fe80::1", Port: 514}},
		{"tcp://h:0", SyslogAddr{Network: "tcp", Host: "h", Port: 0}},
		{"unix:///dev/log", SyslogAddr{Network: "unix", Path: "/dev/log", Socket: SocketAuto}},
		{"unix:///dev/log#dgram", SyslogAddr{Network: "unix", Path: "/dev/log", Socket: SocketDgram}},
		// gunicorn passes socktype=None for #stream: datagram first.
		{"unix:///var/run/syslog#stream", SyslogAddr{Network: "unix", Path: "/var/run/syslog", Socket: SocketAuto}},
		{"unix://rel/path", SyslogAddr{Network: "unix", Path: "rel/path", Socket: SocketAuto}},
	}
	for _, tt := range tests {
		got, err := ParseSyslogAddr(tt.in)
		if err != nil {
			t.Errorf("ParseSyslogAddr(%q): got error %v; want %+v", tt.in, err, tt.want)
			continue
		}
		tt.want.raw = tt.in
		if got != tt.want {
			t.Errorf("ParseSyslogAddr(%q): got %+v; want %+v", tt.in, got, tt.want)
		}
		if got.String() != tt.in {
			t.Errorf("String(): got %q; want %q", got.String(), tt.in)
		}
	}
}

func TestParseSyslogAddrErrors(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"ftp://x", "invalid syslog address; use unix://PATH[#dgram|#stream], udp://HOST:PORT or tcp://HOST:PORT"},
		{"localhost:514", "invalid syslog address"},
		{"UDP://h:1", "invalid syslog address"}, // gunicorn's prefixes are case-sensitive
		{"udp://h:abc", "'abc' is not a valid port number. Use udp://HOST:PORT"},
		{"tcp://h:", "'' is not a valid port number. Use tcp://HOST:PORT"},
		{"udp://h:+5", "'+5' is not a valid port number."},
		{"udp://h:1:2", "'1:2' is not a valid port number."},
		{"udp://::1:514", "':1:514' is not a valid port number."}, // IPv6 needs brackets, as in gunicorn
		{"udp://h:65536", "port 65536 is out of range"},
		{"unix://", "empty socket path"},
		{"unix:///dev/log#raw", `unknown socket type "raw"; use unix://PATH#dgram or unix://PATH#stream`},
	}
	for _, tt := range tests {
		_, err := ParseSyslogAddr(tt.in)
		if !errors.Is(err, ErrSyslogConfig) {
			t.Errorf("ParseSyslogAddr(%q): got %v; want ErrSyslogConfig", tt.in, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, tt.want) || !strings.Contains(msg, `--log-syslog-to "`+tt.in+`"`) {
			t.Errorf("ParseSyslogAddr(%q): got %q; want the setting, the value and %q", tt.in, msg, tt.want)
		}
	}
}

func TestSyslogPrefixAndTag(t *testing.T) {
	tests := []struct{ prefix, proc, want string }{
		{"", "hello_wsgi:app", "hello_wsgi.app"},
		{"", "myapp.wsgi:application", "myapp.wsgi.application"},
		{"", "web", "web"},
		{"custom", "hello_wsgi:app", "custom"},
		{"a:b", "x", "a:b"}, // an explicit prefix is used as given
	}
	for _, tt := range tests {
		if got := SyslogPrefix(tt.prefix, tt.proc); got != tt.want {
			t.Errorf("SyslogPrefix(%q, %q): got %q; want %q", tt.prefix, tt.proc, got, tt.want)
		}
	}
	if got, want := SyslogTag("web", "access"), "gunicorn.web.access"; got != want {
		t.Errorf("SyslogTag: got %q; want %q", got, want)
	}
}
