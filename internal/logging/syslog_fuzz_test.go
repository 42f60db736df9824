package logging

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseSyslogAddr: any --log-syslog-to value either parses into an
// address of a known network or fails with ErrSyslogConfig naming the value.
func FuzzParseSyslogAddr(f *testing.F) {
	for _, s := range []string{"udp://localhost:514", "udp://h", "tcp://[::1]:601", "unix:///dev/log",
		"unix:///x#dgram", "unix:///x#stream", "unix://", "udp://h:abc", "udp://h:99999", "ftp://x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseSyslogAddr(s)
		if err != nil {
			if !errors.Is(err, ErrSyslogConfig) || !strings.Contains(err.Error(), "--log-syslog-to") {
				t.Fatalf("ParseSyslogAddr(%q) error %q: want ErrSyslogConfig naming the setting", s, err)
			}
			return
		}
		switch a.Network {
		case "unix":
			if a.Path == "" {
				t.Fatalf("ParseSyslogAddr(%q) = unix with no path", s)
			}
		case "udp", "tcp":
			if a.Port < 0 || a.Port > 65535 {
				t.Fatalf("ParseSyslogAddr(%q) port %d", s, a.Port)
			}
		default:
			t.Fatalf("ParseSyslogAddr(%q) network %q", s, a.Network)
		}
		if a.String() != s {
			t.Fatalf("ParseSyslogAddr(%q).String() = %q", s, a.String())
		}
	})
}
