package statsd

import (
	"errors"
	"testing"
)

// FuzzParseAddr: any --statsd-host value either parses into a unix path or a
// host with a valid port, or fails with ErrTarget.
func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"localhost:8125", "localhost", "[::1]:9125", "unix:///run/statsd.sock",
		"unix:/x", "unix:12", "tcp://h:1", "fd://3", "h:abc", "h:70000", ":", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddr(s)
		if err != nil {
			if !errors.Is(err, ErrTarget) {
				t.Fatalf("ParseAddr(%q) error %q: want ErrTarget", s, err)
			}
			return
		}
		if a.Path == "" && (a.Port < 0 || a.Port > 65535) {
			t.Fatalf("ParseAddr(%q) = %+v: port out of range", s, a)
		}
	})
}
