package rawsock

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"
)

// pair returns both ends of a connected unix stream socket as net.Conns.
func pair(t *testing.T) (*net.UnixConn, *net.UnixConn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var cs [2]*net.UnixConn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "pair")
		c, err := net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		cs[i] = c.(*net.UnixConn)
		t.Cleanup(func() { cs[i].Close() })
	}
	return cs[0], cs[1]
}

func TestRoundTripLargerThanTheSocketBuffers(t *testing.T) {
	a, b := pair(t)
	ra, wa := Wrap(a)
	rb, wb := Wrap(b)
	if _, ok := wa.(*Writer); !ok {
		t.Fatalf("Wrap(*net.UnixConn) gave %T; want the raw Writer", wa)
	}
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<18) // 4 MiB: Write must wait for room
	errc := make(chan error, 1)
	go func() {
		_, err := wa.Write(data)
		a.CloseWrite()
		errc <- err
	}()
	got, err := io.ReadAll(rb)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("read %d bytes, not the %d written", len(got), len(data))
	}
	// The other direction, and EOF when the peer closes.
	if _, err := wb.Write([]byte("back")); err != nil {
		t.Fatal(err)
	}
	b.Close()
	got, err = io.ReadAll(ra)
	if err != nil || string(got) != "back" {
		t.Fatalf("ReadAll = %q, %v; want \"back\", nil", got, err)
	}
}

func TestReadHonoursTheConnsDeadline(t *testing.T) {
	a, _ := pair(t)
	r, _ := Wrap(a)
	a.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	start := time.Now()
	_, err := r.Read(make([]byte, 8))
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("Read = %v; want a deadline error", err)
	}
	if took := time.Since(start); took < 20*time.Millisecond {
		t.Fatalf("returned after %v, before the deadline", took)
	}
	a.Close()
	if _, err := r.Read(make([]byte, 8)); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Read after Close = %v; want net.ErrClosed", err)
	}
}

func TestReadMsgReceivesADescriptor(t *testing.T) {
	a, b := pair(t)
	rc, err := b.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(rc)
	f, err := os.CreateTemp(t.TempDir(), "fd")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("passed along")
	if _, _, err := a.WriteMsgUnix([]byte("x"), syscall.UnixRights(int(f.Fd())), nil); err != nil {
		t.Fatal(err)
	}
	oob := make([]byte, syscall.CmsgSpace(4))
	n, oobn, err := r.ReadMsg(make([]byte, 16), oob)
	if err != nil || n != 1 || oobn == 0 {
		t.Fatalf("ReadMsg = %d, %d, %v; want 1 byte and a control message", n, oobn, err)
	}
	msgs, err := syscall.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		t.Fatalf("control messages %v, %v", msgs, err)
	}
	fds, err := syscall.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		t.Fatalf("rights %v, %v", fds, err)
	}
	got := os.NewFile(uintptr(fds[0]), "got")
	defer got.Close()
	flags, err := fcntl(fds[0], syscall.F_GETFD)
	if err != nil || flags&syscall.FD_CLOEXEC == 0 {
		t.Fatalf("received descriptor flags %#x, %v; want close-on-exec", flags, err)
	}
	buf := make([]byte, 32)
	k, _ := got.ReadAt(buf, 0)
	if string(buf[:k]) != "passed along" {
		t.Fatalf("the received descriptor reads %q", buf[:k])
	}
	a.Close()
	if n, _, err := r.ReadMsg(make([]byte, 16), oob); n != 0 || err != nil {
		t.Fatalf("ReadMsg after the peer closed = %d, %v; want 0, nil", n, err)
	}
}

func fcntl(fd, cmd int) (int, error) {
	v, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), uintptr(cmd), 0)
	if e != 0 {
		return 0, e
	}
	return int(v), nil
}

func TestWrapLeavesOtherConnsAlone(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	r, w := Wrap(a)
	if r != io.Reader(a) || w != io.Writer(a) {
		t.Fatalf("Wrap(net.Pipe) = %T, %T; want the conn itself", r, w)
	}
}
