package control

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

type nopLog struct{}

func (nopLog) Info(string, ...any)    {}
func (nopLog) Warning(string, ...any) {}
func (nopLog) Debug(string, ...any)   {}

// fakeMaster answers like an arbiter with a target count and records signals.
type fakeMaster struct {
	mu     sync.Mutex
	target int
	sigs   []syscall.Signal
	block  chan struct{} // when set, Control waits on it or ctx
}

func (m *fakeMaster) Control(ctx context.Context, r Request) (Result, error) {
	if m.block != nil {
		select {
		case <-m.block:
		case <-ctx.Done():
			return Result{}, ctx.Err()
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	switch r.Op {
	case OpAddWorkers:
		old := m.target
		m.target += r.N
		return Result{Previous: old, Total: m.target}, nil
	case OpRemoveWorkers:
		old := m.target
		m.target = max(1, m.target-r.N)
		return Result{Previous: old, Total: m.target}, nil
	case OpKillWorker:
		return Result{Found: r.N == 42}, nil
	case OpSignal:
		m.sigs = append(m.sigs, r.Signal)
	case OpSnapshot:
		return Result{Snapshot: Snapshot{PID: 1, Target: m.target, Workers: []Worker{{PID: 42, Age: 1, Booted: true}}}}, nil
	}
	return Result{}, nil
}

func startServer(t *testing.T, m Master) *Server {
	t.Helper()
	dir, err := os.MkdirTemp("", "ctl")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := New(Options{Path: filepath.Join(dir, "sub", "g.ctl"), Log: nopLog{}, Master: m})
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

func roundTrip(t *testing.T, c net.Conn, raw []byte) map[string]any {
	t.Helper()
	if _, err := c.Write(raw); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	p, err := ReadFrame(c)
	if err != nil {
		t.Fatalf("reading the reply: %v", err)
	}
	var m map[string]any
	if err := json.Unmarshal(p, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestServerCommands(t *testing.T) {
	m := &fakeMaster{target: 2}
	s := startServer(t, m)
	st, err := os.Stat(s.Path())
	if err != nil || st.Mode().Perm() != 0o600 || st.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket mode = %v, %v; want a 0600 socket", st.Mode(), err)
	}
	c, err := net.Dial("unix", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	tests := []struct {
		req  string
		want string // the reply, JSON
	}{
		{`{"id": 1, "command": "worker add", "args": ["2"]}`, `{"id":1,"status":"ok","data":{"added":2,"previous":2,"total":4}}`},
		{`{"id": 2, "command": "worker remove 10"}`, `{"id":2,"status":"ok","data":{"removed":3,"previous":4,"total":1}}`},
		{`{"id": 3, "command": "worker kill 7"}`, `{"id":3,"status":"ok","data":{"success":false,"error":"Worker 7 not found"}}`},
		{`{"id": 4, "command": "worker kill 42"}`, `{"id":4,"status":"ok","data":{"success":true,"killed":42}}`},
		{`{"id": 5, "command": "nope"}`, `{"id":5,"status":"error","error":"Invalid argument: Unknown command: nope"}`},
		{`{"id": 6, "command": "shutdown quick"}`, `{"id":6,"status":"ok","data":{"status":"shutting_down","mode":"quick"}}`},
		{`{"id": 7, "command": "show dirty"}`, `{"id":7,"status":"ok","data":{"enabled":false,"pid":null,"workers":[],"apps":[]}}`},
		{`{"id": 8, "command": "show workers"}`, `{"id":8,"status":"ok","data":{"workers":[{"pid":42,"age":1,"booted":true,"aborted":false,"last_heartbeat":0.0}],"count":1}}`},
	}
	for _, tt := range tests {
		got := roundTrip(t, c, frame(tt.req))
		var want map[string]any
		_ = json.Unmarshal([]byte(tt.want), &want)
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if string(gb) != string(wb) {
			t.Errorf("%s: got %s; want %s", tt.req, gb, wb)
		}
	}
	if len(m.sigs) != 1 || m.sigs[0] != syscall.SIGINT {
		t.Errorf("signals = %v; want [SIGINT]", m.sigs)
	}
}

// Bad frames and bad JSON close the connection without a reply, as in gunicorn.
func TestServerClosesOnMalformed(t *testing.T) {
	s := startServer(t, &fakeMaster{target: 1})
	for _, raw := range [][]byte{
		binary.BigEndian.AppendUint32(nil, MaxMessage+1),
		frame("not json"),
		frame(`[1, 2]`),
		frame(`{"command": 5}`),
	} {
		c, err := net.Dial("unix", s.Path())
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.Write(raw)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		var b [1]byte
		if n, err := c.Read(b[:]); n != 0 || err == nil {
			t.Errorf("%q: read %d bytes, %v; want EOF", raw, n, err)
		}
		c.Close()
	}
}

// Stop answers a client waiting on a busy master, joins it and removes the socket.
func TestServerStop(t *testing.T) {
	m := &fakeMaster{target: 1, block: make(chan struct{})}
	s := startServer(t, m)
	c, err := net.Dial("unix", s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, _ = c.Write(frame(`{"id": 1, "command": "show stats"}`))
	time.Sleep(50 * time.Millisecond)
	done := make(chan struct{})
	go func() { s.Stop(); close(done) }()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	p, err := ReadFrame(c)
	if err != nil {
		t.Fatalf("no reply before close: %v", err)
	}
	if want := `{"id":1,"status":"error","error":"Command failed: the server is shutting down"}`; string(p) != want {
		t.Errorf("reply %s; want %s", p, want)
	}
	<-done
	if _, err := os.Stat(s.Path()); !os.IsNotExist(err) {
		t.Errorf("socket file still there after Stop: %v", err)
	}
}

func TestServerStartErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "regular")
	_ = os.WriteFile(file, []byte("keep me"), 0o600)
	long := "/tmp/" + string(make([]byte, 120))
	for _, path := range []string{file, long, "/proc/nope/x.ctl"} {
		s := New(Options{Path: path, Log: nopLog{}, Master: &fakeMaster{}})
		if err := s.Start(); err == nil {
			s.Stop()
			t.Errorf("Start(%q) = nil; want an error", path)
		}
		s.Stop()
	}
	if b, _ := os.ReadFile(file); string(b) != "keep me" {
		t.Errorf("a regular file at the socket path was touched")
	}
}

// A socket file left by a dead master is replaced.
func TestServerReplacesStaleSocket(t *testing.T) {
	dir, _ := os.MkdirTemp("", "ctl")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "g.ctl")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close() // the file stays, nobody listens: stale
	s := New(Options{Path: path, Log: nopLog{}, Master: &fakeMaster{}})
	if err := s.Start(); err != nil {
		t.Fatalf("Start over a stale socket: %v", err)
	}
	defer s.Stop()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatalf("dial after takeover: %v", err)
	}
	c.Close()
}
