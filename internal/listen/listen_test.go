package listen

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

type recLog struct {
	mu    sync.Mutex
	lines []string
	hook  func(msg string)
}

func (r *recLog) add(level, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	r.mu.Lock()
	r.lines = append(r.lines, level+" "+msg)
	hook := r.hook
	r.mu.Unlock()
	if hook != nil {
		hook(msg)
	}
}
func (r *recLog) Error(format string, args ...any) { r.add("ERROR", format, args...) }
func (r *recLog) Debug(format string, args ...any) { r.add("DEBUG", format, args...) }

func mustParse(t *testing.T, spec string) Address {
	t.Helper()
	a, err := Parse(spec)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func openOneT(t *testing.T, spec string, opts Options) *Listener {
	t.Helper()
	ls, err := Open([]Address{mustParse(t, spec)}, opts)
	if err != nil {
		t.Fatalf("Open(%q): %v", spec, err)
	}
	t.Cleanup(func() { ls[0].Close() })
	return ls[0]
}

// roundTrip proves the listener accepts: a client's byte comes back.
func roundTrip(t *testing.T, l *Listener) {
	t.Helper()
	network, addr := "tcp", l.Addr().String()
	if l.IsUnix() {
		network, addr = "unix", l.Path()
	}
	done := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		_, err = io.Copy(c, io.LimitReader(c, 1))
		done <- err
	}()
	c, err := net.DialTimeout(network, addr, 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s %s: %v", network, addr, err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 1)
	if _, err := io.ReadFull(c, b); err != nil || b[0] != 'x' {
		t.Fatalf("echo via %s: got %q, %v; want \"x\"", l, b, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func haveIPv6() bool {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return false
	}
	l.Close()
	return true
}

func TestOpenSpecForms(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		spec string
		tls  bool
		want string // regexp for String()
	}{
		{"127.0.0.1:0", false, `^http://127\.0\.0\.1:\d+$`},
		{"127.0.0.1:0", true, `^https://127\.0\.0\.1:\d+$`},
		{"tcp://127.0.0.1:0", false, `^http://127\.0\.0\.1:\d+$`},
		{"localhost:0", false, `^http://127\.0\.0\.1:\d+$`},
		{":0", false, `^http://0\.0\.0\.0:\d+$`},
		{"[::1]:0", false, `^http://\[::1\]:\d+$`},
		{"[::1]:0", true, `^http://\[::1\]:\d+$`}, // gunicorn prints http for IPv6 even with TLS
		{"unix:" + dir + "/a.sock", false, `^unix:` + regexp.QuoteMeta(dir) + `/a\.sock$`},
		{"unix://" + dir + "/b.sock", false, `^unix:` + regexp.QuoteMeta(dir) + `/b\.sock$`},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s tls=%v", tt.spec, tt.tls), func(t *testing.T) {
			if strings.Contains(tt.spec, "::") && !haveIPv6() {
				t.Skip("no IPv6 loopback")
			}
			l := openOneT(t, tt.spec, Options{TLS: tt.tls})
			if !regexp.MustCompile(tt.want).MatchString(l.String()) {
				t.Errorf("String(): got %q; want match for %s", l.String(), tt.want)
			}
			if l.File() == nil {
				t.Error("File(): got nil; want the socket's *os.File")
			}
			roundTrip(t, l)
		})
	}
}

func TestOpenTCPSocketOptions(t *testing.T) {
	l := openOneT(t, "127.0.0.1:0", Options{})
	fd := int(l.File().Fd())
	for _, o := range []struct {
		name         string
		level, which int
	}{
		{"SO_REUSEADDR", syscall.SOL_SOCKET, syscall.SO_REUSEADDR},
		{"TCP_NODELAY", syscall.IPPROTO_TCP, syscall.TCP_NODELAY},
	} {
		v, err := syscall.GetsockoptInt(fd, o.level, o.which)
		if err != nil || v == 0 {
			t.Errorf("%s: got %d, %v; want set", o.name, v, err)
		}
	}
	if v, _ := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, soReusePort); v != 0 {
		t.Errorf("SO_REUSEPORT without --reuse-port: got %d; want 0", v)
	}
}

func TestReusePort(t *testing.T) {
	a := openOneT(t, "127.0.0.1:0", Options{ReusePort: true})
	spec := a.Addr().String()
	b := openOneT(t, spec, Options{ReusePort: true}) // second bind to the same port
	if v, _ := syscall.GetsockoptInt(int(b.File().Fd()), syscall.SOL_SOCKET, soReusePort); v != 1 {
		t.Errorf("SO_REUSEPORT: got %d; want 1", v)
	}
	if _, err := Open([]Address{mustParse(t, spec)}, Options{Retries: 1}); !errors.Is(err, ErrCantConnect) {
		t.Errorf("third bind without --reuse-port: got %v; want ErrCantConnect", err)
	}
}

func TestPortInUseRetries(t *testing.T) {
	hold, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	port := hold.Addr().(*net.TCPAddr).Port
	log := &recLog{}
	start := time.Now()
	_, err = Open([]Address{mustParse(t, hold.Addr().String())}, Options{Retries: 3, RetryDelay: 20 * time.Millisecond, Log: log})
	if !errors.Is(err, ErrCantConnect) || !errors.Is(err, syscall.EADDRINUSE) {
		t.Fatalf("got %v; want ErrCantConnect wrapping EADDRINUSE", err)
	}
	if !strings.Contains(err.Error(), "--bind") {
		t.Errorf("error %q should name --bind", err)
	}
	if el := time.Since(start); el < 40*time.Millisecond {
		t.Errorf("took %v; want at least two 20ms retry delays", el)
	}
	addr := fmt.Sprintf("('127.0.0.1', %d)", port)
	inUse := "ERROR Connection in use: " + addr
	failed := "DEBUG connection to " + addr + " failed: [Errno 98] Address already in use"
	retry := "ERROR Retrying in 20ms."
	want := []string{inUse, failed, retry, inUse, failed, retry, inUse, failed, "ERROR Can't connect to " + addr}
	if got := strings.Join(log.lines, "\n"); got != strings.Join(want, "\n") {
		t.Errorf("log:\ngot\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

func TestRetryMessageDefaultDelay(t *testing.T) {
	// Only the text is checked: one retry with the default 1s delay.
	hold, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	log := &recLog{}
	log.hook = func(msg string) {
		if strings.HasPrefix(msg, "Retrying") {
			hold.Close() // freed during the pause: the next attempt succeeds
		}
	}
	ls, err := Open([]Address{mustParse(t, hold.Addr().String())}, Options{Log: log})
	if err != nil {
		t.Fatalf("got %v; want success once the port is freed", err)
	}
	defer ls[0].Close()
	if !strings.Contains(strings.Join(log.lines, "\n"), "ERROR Retrying in 1 second.") {
		t.Errorf("log: got %q; want gunicorn's \"Retrying in 1 second.\"", log.lines)
	}
}

func TestUnixSocketReplaced(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.sock")
	// A stale socket file, as a crashed server leaves behind.
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
		t.Fatal(err)
	}
	syscall.Close(fd)
	l := openOneT(t, "unix:"+path, Options{})
	roundTrip(t, l)
}

func TestUnixNonSocketRefused(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, kind string }{{"file", "regular file"}, {"dir", "directory"}} {
		path := filepath.Join(dir, tc.name)
		if tc.kind == "directory" {
			os.Mkdir(path, 0o755)
		} else {
			os.WriteFile(path, []byte("keep me"), 0o644)
		}
		_, err := Open([]Address{mustParse(t, "unix:"+path)}, Options{})
		if err == nil || !strings.Contains(err.Error(), "is not a socket") || !strings.Contains(err.Error(), tc.kind) {
			t.Errorf("%s: got %v; want a clear 'is not a socket (it is a %s)' error", tc.name, err, tc.kind)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("%s: got %v; want the file left in place", tc.name, err)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "file")); string(b) != "keep me" {
		t.Errorf("file content: got %q; want it untouched", b)
	}
}

func TestUnixUmask(t *testing.T) {
	dir := t.TempDir()
	before := syscall.Umask(0o022)
	syscall.Umask(before)
	for i, tc := range []struct {
		umask int
		want  os.FileMode
	}{{0, 0o777}, {0o077, 0o700}, {0o007, 0o770}} {
		path := filepath.Join(dir, strconv.Itoa(i)+".sock")
		l := openOneT(t, "unix:"+path, Options{Umask: tc.umask})
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if got := st.Mode().Perm(); got != tc.want || st.Mode()&os.ModeSocket == 0 {
			t.Errorf("--umask %#o: got mode %v; want socket with %v", tc.umask, st.Mode(), tc.want)
		}
		l.Close()
	}
	after := syscall.Umask(0o022)
	syscall.Umask(after)
	if after != before {
		t.Errorf("process umask: got %#o after Open; want %#o restored", after, before)
	}
}

func TestUnixCloseUnlinks(t *testing.T) {
	dir := t.TempDir()
	a := openOneT(t, "unix:"+dir+"/a.sock", Options{})
	b := openOneT(t, "unix:"+dir+"/b.sock", Options{})
	b.SetUnlinkOnClose(false)
	a.Close()
	b.Close()
	if err := a.Close(); err != nil {
		t.Errorf("second Close: got %v; want nil", err)
	}
	if _, err := os.Stat(dir + "/a.sock"); !os.IsNotExist(err) {
		t.Errorf("a.sock after Close: got %v; want it removed", err)
	}
	if _, err := os.Stat(dir + "/b.sock"); err != nil {
		t.Errorf("b.sock after Close with SetUnlinkOnClose(false): got %v; want it kept", err)
	}
}

func TestOpenClosesEarlierListenersOnError(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(dir+"/file", nil, 0o644)
	_, err := Open([]Address{mustParse(t, "unix:"+dir+"/ok.sock"), mustParse(t, "unix:"+dir+"/file")}, Options{})
	if err == nil {
		t.Fatal("got nil error; want the non-socket refused")
	}
	if _, err := os.Stat(dir + "/ok.sock"); !os.IsNotExist(err) {
		t.Errorf("ok.sock: got %v; want it closed and removed", err)
	}
}

func TestFDInheritance(t *testing.T) {
	for _, spec := range []string{"127.0.0.1:0", "unix:" + t.TempDir() + "/fd.sock"} {
		orig := openOneT(t, spec, Options{})
		fd, err := syscall.Dup(int(orig.File().Fd()))
		if err != nil {
			t.Fatal(err)
		}
		l := openOneT(t, "fd://"+strconv.Itoa(fd), Options{Backlog: 16})
		if l.String() != orig.String() {
			t.Errorf("fd://%d String(): got %q; want %q", fd, l.String(), orig.String())
		}
		if l.Address().Kind != FD {
			t.Errorf("Address().Kind: got %v; want FD", l.Address().Kind)
		}
		if flags, _ := fcntl(fd, syscall.F_GETFD); flags&syscall.FD_CLOEXEC == 0 {
			t.Errorf("fd %d: got flags %#x; want FD_CLOEXEC set", fd, flags)
		}
		orig.SetUnlinkOnClose(false) // as before a USR2 hand-off
		orig.Close()                 // the inherited copy keeps serving
		roundTrip(t, l)
		if l.IsUnix() {
			l.Close()
			if _, err := os.Stat(l.Path()); err != nil {
				t.Errorf("inherited unix socket file after Close: got %v; want it kept", err)
			}
		}
	}
}

func fcntl(fd, cmd int) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), uintptr(cmd), 0)
	if e != 0 {
		return 0, e
	}
	return int(r), nil
}

func TestFDErrors(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "notsock")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	uf, _ := udp.(*net.UDPConn).File()
	defer uf.Close()
	tests := []struct {
		fd   int
		want string
	}{
		{int(f.Fd()), "is not a socket"},
		{int(uf.Fd()), "is not a stream socket"},
		{987654, "not open in this process"},
	}
	for _, tt := range tests {
		_, err := Open([]Address{mustParse(t, "fd://"+strconv.Itoa(tt.fd))}, Options{})
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "fd://"+strconv.Itoa(tt.fd)) {
			t.Errorf("fd://%d: got %v; want error naming it and %q", tt.fd, err, tt.want)
		}
	}
}

// TestBacklogApplied fills the accept queue of a listener nobody accepts on.
// Linux completes backlog+1 handshakes and then drops SYNs, so the number of
// connects that succeed shows the backlog the kernel really got (net.Listen
// would have asked for somaxconn, typically 4096).
func TestBacklogApplied(t *testing.T) {
	for _, backlog := range []int{1, 4} {
		l := openOneT(t, "127.0.0.1:0", Options{Backlog: backlog})
		var conns []net.Conn
		for len(conns) < backlog+10 {
			c, err := net.DialTimeout("tcp4", l.Addr().String(), 300*time.Millisecond)
			if err != nil {
				break
			}
			conns = append(conns, c)
		}
		for _, c := range conns {
			c.Close()
		}
		if got, want := len(conns), backlog+1; got != want {
			t.Errorf("--backlog %d: got %d connects before the queue was full; want %d", backlog, got, want)
		}
	}
}

func TestFromSystemdNotForUs(t *testing.T) {
	t.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()+1))
	t.Setenv("LISTEN_FDS", "1")
	ls, err := FromSystemd(Options{})
	if ls != nil || err != nil {
		t.Fatalf("got %v, %v; want nil, nil for another pid", ls, err)
	}
	if os.Getenv("LISTEN_FDS") != "1" {
		t.Errorf("LISTEN_FDS: got unset; want it left for its owner")
	}
}

// TestFromSystemd runs the test binary again with a listening socket as fd 3,
// the way systemd starts a socket-activated service.
func TestFromSystemd(t *testing.T) {
	if os.Getenv("LISTEN_TEST_CHILD") == "1" {
		systemdChild()
		return
	}
	l := openOneT(t, "127.0.0.1:0", Options{})
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestFromSystemd$", "-test.v")
	cmd.Env = append(os.Environ(), "LISTEN_TEST_CHILD=1", "LISTEN_FDS=1", "LISTEN_FDNAMES=http")
	cmd.ExtraFiles = []*os.File{l.File()}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	want := "SYSTEMD " + l.String() + " env-cleared=true"
	if !strings.Contains(string(out), want) {
		t.Fatalf("child output:\n%s\nwant a line %q", out, want)
	}
}

func systemdChild() {
	// systemd sets LISTEN_PID to the service's pid, known only now.
	os.Setenv("LISTEN_PID", strconv.Itoa(os.Getpid()))
	ls, err := FromSystemd(Options{})
	if err != nil || len(ls) != 1 {
		fmt.Printf("FromSystemd: %v, %v\n", ls, err)
		os.Exit(1)
	}
	_, a := os.LookupEnv("LISTEN_PID")
	_, b := os.LookupEnv("LISTEN_FDS")
	_, c := os.LookupEnv("LISTEN_FDNAMES")
	c2, err := net.Dial("tcp", ls[0].Addr().String())
	if err == nil {
		if s, err := ls[0].Accept(); err == nil {
			s.Close()
		}
		c2.Close()
	}
	fmt.Printf("SYSTEMD %s env-cleared=%v\n", ls[0], !a && !b && !c)
}
