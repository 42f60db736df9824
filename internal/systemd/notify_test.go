package systemd

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestNotify(t *testing.T) {
	abstract := fmt.Sprintf("@gonicorn-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	tests := []struct {
		name  string
		addr  string // listen address; "" = a path in a temp dir
		state string
	}{
		{"path socket", "", Booted},
		{"abstract socket", abstract, Ready},
		{"multi-line status", "", "STATUS=Gunicorn arbiter booted\nMAINPID=42"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			addr := tc.addr
			if addr == "" {
				addr = filepath.Join(t.TempDir(), "notify.sock")
			}
			srv, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			t.Setenv("NOTIFY_SOCKET", addr)
			if err := Notify(tc.state); err != nil {
				t.Fatalf("Notify: %v", err)
			}
			srv.SetReadDeadline(time.Now().Add(5 * time.Second))
			buf := make([]byte, 4096)
			n, err := srv.Read(buf)
			if err != nil || string(buf[:n]) != tc.state {
				t.Errorf("received %q, %v; want %q", buf[:n], err, tc.state)
			}
		})
	}
}

func TestNotifyUnset(t *testing.T) {
	for _, v := range []string{"", "unset"} {
		if v == "unset" {
			t.Setenv("NOTIFY_SOCKET", "x")
			os.Unsetenv("NOTIFY_SOCKET")
		} else {
			t.Setenv("NOTIFY_SOCKET", v)
		}
		if err := Notify(Ready); err != nil {
			t.Errorf("NOTIFY_SOCKET %s: got %v; want nil (no-op)", v, err)
		}
	}
}

func TestNotifyNoListener(t *testing.T) {
	addr := filepath.Join(t.TempDir(), "gone.sock")
	t.Setenv("NOTIFY_SOCKET", addr)
	err := Notify(Ready)
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Errorf("got %v; want an error naming %s", err, addr)
	}
}
