package listen

import (
	"net"
	"testing"
	"time"
)

func TestBacklog(t *testing.T) {
	l := openOneT(t, "127.0.0.1:0", Options{})
	if got := l.Backlog(); got != 0 {
		t.Fatalf("Backlog() with nobody connecting: got %d; want 0", got)
	}
	// Connections the kernel completed but nobody accepted yet.
	for i := 0; i < 3; i++ {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
	}
	deadline := time.Now().Add(2 * time.Second)
	for l.Backlog() != 3 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := l.Backlog(); got != 3 {
		t.Errorf("Backlog() with 3 connections waiting: got %d; want 3", got)
	}
	u := openOneT(t, "unix:"+t.TempDir()+"/b.sock", Options{})
	if got := u.Backlog(); got != -1 {
		t.Errorf("Backlog() of a unix socket: got %d; want -1", got)
	}
}
