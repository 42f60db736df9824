package listen

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		spec string
		want Address
		str  string // Address.String(), gunicorn's str(addr)
	}{
		{"127.0.0.1:8000", Address{Kind: TCP, Host: "127.0.0.1", Port: 8000}, "('127.0.0.1', 8000)"},
		{"0.0.0.0:80", Address{Kind: TCP, Host: "0.0.0.0", Port: 80}, "('0.0.0.0', 80)"},
		{"localhost", Address{Kind: TCP, Host: "localhost", Port: 8000}, "('localhost', 8000)"},
		{"LocalHost:8080", Address{Kind: TCP, Host: "localhost", Port: 8080}, "('localhost', 8080)"},
		{"tcp://10.0.0.1:9", Address{Kind: TCP, Host: "10.0.0.1", Port: 9}, "('10.0.0.1', 9)"},
		{":9000", Address{Kind: TCP, Host: "", Port: 9000}, "('', 9000)"},
		{"", Address{Kind: TCP, Host: "0.0.0.0", Port: 8000}, "('0.0.0.0', 8000)"},
		{"[::1]:8001", Address{Kind: TCP, Host: "::1", Port: 8001}, "('::1', 8001)"},
		{"[::]", Address{Kind: TCP, Host: "::", Port: 8000}, "('::', 8000)"},
		{"[FE80::1%lo]:5", Address{Kind: TCP, Host: "fe80::1%lo", Port: 5}, "('fe80::1%lo', 5)"},
		{"127.0.0.1:08000", Address{Kind: TCP, Host: "127.0.0.1", Port: 8000}, "('127.0.0.1', 8000)"},
		{"unix:/tmp/g.sock", Address{Kind: Unix, Path: "/tmp/g.sock"}, "/tmp/g.sock"},
		{"unix:///tmp/g.sock", Address{Kind: Unix, Path: "/tmp/g.sock"}, "/tmp/g.sock"},
		{"unix:rel.sock", Address{Kind: Unix, Path: "rel.sock"}, "rel.sock"},
		{"fd://3", Address{Kind: FD, FD: 3}, "fd://3"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.spec)
		if err != nil {
			t.Errorf("Parse(%q): got error %v; want %+v", tt.spec, err, tt.want)
			continue
		}
		tt.want.Spec = tt.spec
		if got != tt.want {
			t.Errorf("Parse(%q): got %+v; want %+v", tt.spec, got, tt.want)
		}
		if s := got.String(); s != tt.str {
			t.Errorf("Parse(%q).String(): got %q; want %q", tt.spec, s, tt.str)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ spec, why string }{
		{"host:", "port after ':' is empty"},
		{"host:http", `"http" is not a valid port number`},
		{"host:70000", "out of range"},
		{"host:-1", "out of range"},
		{"::1", "need brackets"},
		{"[::1", "missing ']'"},
		{"[::1]:", "port after ':' is empty"},
		{"[::1]x", "unexpected"},
		{"[1.2.3.4]:80", "not an IPv6 address"},
		{"[nope]:80", "not an IPv6 address"},
		{"fd://x", "not a valid file descriptor"},
		{"fd://-1", "not a valid file descriptor"},
		{"unix:", "path is empty"},
		{"unix:/" + strings.Repeat("a", 200), "longer than"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.spec)
		if err == nil {
			t.Errorf("Parse(%q): got nil error; want %q", tt.spec, tt.why)
			continue
		}
		if !errors.Is(err, ErrBadSpec) || !strings.Contains(err.Error(), tt.why) || !strings.Contains(err.Error(), `"`+tt.spec+`"`) {
			t.Errorf("Parse(%q): got %v; want ErrBadSpec naming the spec and %q", tt.spec, err, tt.why)
		}
	}
}

func TestAddressIPv6(t *testing.T) {
	for spec, want := range map[string]bool{"[::1]:1": true, "127.0.0.1:1": false, "localhost": false, "unix:/x": false} {
		a, err := Parse(spec)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.IPv6(); got != want {
			t.Errorf("Parse(%q).IPv6(): got %v; want %v", spec, got, want)
		}
	}
}
