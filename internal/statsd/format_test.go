package statsd

import (
	"testing"
	"time"
)

// The want strings are what gunicorn 27's Statsd logger sends
// (gunicorn/instrument/statsd.py), checked against it by hand and by
// tests/e2e/test_statsd.py.
func TestNormalizePrefix(t *testing.T) {
	// Results of re.sub(r"^(.+[^.]+)\.*$", r"\g<1>.", p) in CPython 3.11.
	tests := []struct{ in, want string }{
		{"", ""},
		{"a", "a"},
		{"ab", "ab."},
		{"app", "app."},
		{"app.", "app."},
		{"app...", "app."},
		{".", "."},
		{"..", ".."},
		{"a.", "a."},
		{"a..", "a.."},
		{".a", ".a."},
		{"a.b", "a.b."},
		{"a.b..", "a.b."},
		{"my app.", "my app."},
	}
	for _, tt := range tests {
		if got := NormalizePrefix(tt.in); got != tt.want {
			t.Errorf("NormalizePrefix(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
}

func TestAppend(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"counter", AppendCounter(nil, "", "gunicorn.requests", 1, ""), "gunicorn.requests:1|c|@1.0"},
		{"counter prefix", AppendCounter(nil, "app.", "gunicorn.log.error", 1, ""), "app.gunicorn.log.error:1|c|@1.0"},
		{"counter tags", AppendCounter(nil, "app.", "gunicorn.requests", 1, "env:prod,svc:web"), "app.gunicorn.requests:1|c|@1.0|#env:prod,svc:web"},
		{"gauge", AppendGauge(nil, "", "gunicorn.workers", 3, ""), "gunicorn.workers:3|g"},
		{"gauge tags", AppendGauge(nil, "p.", "gunicorn.workers", 0, "a"), "p.gunicorn.workers:0|g|#a"},
		{"histogram", AppendHistogram(nil, "", "gunicorn.backlog", 7, ""), "gunicorn.backlog:7|h"},
		{"timer", AppendTimer(nil, "", "gunicorn.request.duration", 12345*time.Microsecond, ""), "gunicorn.request.duration:12.345|ms"},
		{"timer tags", AppendTimer(nil, "x.", "gunicorn.request.duration", time.Second, "t"), "x.gunicorn.request.duration:1000.0|ms|#t"},
		{"status", AppendStatus(nil, "", 404, ""), "gunicorn.request.status.404:1|c|@1.0"},
		{"status tags", AppendStatus(nil, "app.", 500, "k:v"), "app.gunicorn.request.status.500:1|c|@1.0|#k:v"},
	}
	for _, tt := range tests {
		if string(tt.got) != tt.want {
			t.Errorf("%s: got %q; want %q", tt.name, tt.got, tt.want)
		}
	}
}

func TestAppendMillis(t *testing.T) {
	// repr(td.seconds * 1000 + float(td.microseconds) / 10**3) in CPython.
	tests := []struct {
		us   int64
		want string
	}{
		{0, "0.0"},
		{1, "0.001"},
		{999, "0.999"},
		{1000, "1.0"},
		{1500, "1.5"},
		{12345, "12.345"},
		{1000000, "1000.0"},
		{1234567, "1234.567"},
		{59999999, "59999.999"},
		{3600000001, "3600000.001"},
	}
	for _, tt := range tests {
		d := time.Duration(tt.us)*time.Microsecond + 999 // sub-microsecond part is dropped
		if got := string(appendMillis(nil, d)); got != tt.want {
			t.Errorf("appendMillis(%dµs) = %q; want %q", tt.us, got, tt.want)
		}
	}
}

func TestParseAddr(t *testing.T) {
	tests := []struct {
		in   string
		want Addr
	}{
		{"localhost:8125", Addr{Host: "localhost", Port: 8125}},
		{"LocalHost", Addr{Host: "localhost", Port: 8125}},
		{"127.0.0.1:9125", Addr{Host: "127.0.0.1", Port: 9125}},
		{"tcp://10.0.0.1:1", Addr{Host: "10.0.0.1", Port: 1}},
		{"[::1]:8126", Addr{Host: "::1", Port: 8126}},
		{"[::1]", Addr{Host: "::1", Port: 8125}},
		{"", Addr{Host: "0.0.0.0", Port: 8125}},
		{"h:1:2", Addr{Host: "h", Port: 1}},
		{"unix:///run/statsd.sock", Addr{Path: "/run/statsd.sock"}},
		{"unix:/run/statsd.sock", Addr{Path: "/run/statsd.sock"}},
		{"unix:8125", Addr{Host: "unix", Port: 8125}},
	}
	for _, tt := range tests {
		got, err := ParseAddr(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseAddr(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"h:x", "fd://3", "h:99999"} {
		if got, err := ParseAddr(bad); err == nil {
			t.Errorf("ParseAddr(%q) = %+v; want an error", bad, got)
		}
	}
}
