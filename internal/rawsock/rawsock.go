// Package rawsock reads and writes non-blocking sockets with raw system
// calls, under the runtime's poller (syscall.RawConn).
//
// Why: net.Conn's Read and Write enter the kernel through the runtime's
// entersyscall, and the first such call after the whole process was idle
// wakes Go's sysmon thread, which then polls every 20 µs for a
// millisecond. Under request/response load the master idles between
// bursts many times a second; in a CPU profile of hello-world ASGI, sysmon
// and the system call bookkeeping were about 9% of the master's time
// (docs/benchmarks.md). A read or write on a non-blocking socket never
// blocks, so it needs no entersyscall: RawSyscall skips it, while RawConn
// still parks the goroutine on EAGAIN and honours the deadlines set on the
// net.Conn. The Go front uses it for client sockets, internal/ipc for the
// worker channels.
package rawsock

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// Reader reads a socket; one goroutine at a time.
type Reader struct {
	rc  syscall.RawConn
	p   []byte
	n   int
	err error
	fn  func(fd uintptr) bool // r.read, bound once: no allocation per call

	// ReadMsg's control buffer and the length the kernel filled in.
	oob  []byte
	oobn int
	mfn  func(fd uintptr) bool
}

// Writer writes a socket; one goroutine at a time.
type Writer struct {
	rc  syscall.RawConn
	p   []byte
	n   int
	err error
	fn  func(fd uintptr) bool
}

// Wrap returns the raw reader and writer of a plain TCP or unix socket,
// or nc itself twice for anything else (TLS).
func Wrap(nc net.Conn) (io.Reader, io.Writer) {
	var sc syscall.Conn
	switch c := nc.(type) {
	case *net.TCPConn:
		sc = c
	case *net.UnixConn:
		sc = c
	default:
		return nc, nc
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nc, nc
	}
	return NewReader(rc), NewWriter(rc)
}

// NewReader reads through rc.
func NewReader(rc syscall.RawConn) *Reader {
	r := &Reader{rc: rc}
	r.fn = r.read
	r.mfn = r.recvmsg
	return r
}

// NewWriter writes through rc.
func NewWriter(rc syscall.RawConn) *Writer {
	w := &Writer{rc: rc}
	w.fn = w.write
	return w
}

// Read reads up to len(p) bytes; io.EOF when the peer closed.
func (r *Reader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	r.p, r.n, r.err = p, 0, nil
	err := r.rc.Read(r.fn)
	r.p = nil
	if err != nil {
		return 0, err // a deadline, or the connection closed
	}
	if r.n == 0 && r.err == nil {
		return 0, io.EOF
	}
	return r.n, r.err
}

// read, write and recvmsg each keep their own retry loop: a pointer
// converted to uintptr stays valid only within the syscall.RawSyscall call
// expression itself (unsafe.Pointer rule 4), so it cannot be handed to a
// shared helper.
func (r *Reader) read(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&r.p[0])), uintptr(len(r.p)))
		switch e {
		case 0:
			r.n = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // the poller waits for the socket to be readable
		}
		r.err = os.NewSyscallError("read", e)
		return true
	}
}

// Write writes all of p, waiting for room as needed.
func (w *Writer) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		w.p, w.n, w.err = p[written:], 0, nil
		err := w.rc.Write(w.fn)
		w.p = nil
		if err != nil {
			return written, err
		}
		if w.err != nil {
			return written + w.n, w.err
		}
		written += w.n
	}
	return written, nil
}

func (w *Writer) write(fd uintptr) bool {
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&w.p[0])), uintptr(len(w.p)))
		switch e {
		case 0:
			w.n = int(n)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false // the poller waits for room in the socket buffer
		}
		w.err = os.NewSyscallError("write", e)
		return true
	}
}

// ReadMsg is recvmsg(2) with room for ancillary data (SCM_RIGHTS), as
// net.UnixConn.ReadMsgUnix: n is 0 with a nil error when the peer closed.
// Received descriptors are close-on-exec.
func (r *Reader) ReadMsg(p, oob []byte) (n, oobn int, err error) {
	if len(p) == 0 {
		return 0, 0, nil
	}
	r.p, r.oob, r.n, r.oobn, r.err = p, oob, 0, 0, nil
	err = r.rc.Read(r.mfn)
	r.p, r.oob = nil, nil
	if err != nil {
		return 0, 0, err
	}
	return r.n, r.oobn, r.err
}

func (r *Reader) recvmsg(fd uintptr) bool {
	var iov syscall.Iovec
	iov.Base = &r.p[0]
	iov.SetLen(len(r.p))
	var msg syscall.Msghdr
	msg.Iov = &iov
	msg.Iovlen = 1
	if len(r.oob) > 0 {
		msg.Control = &r.oob[0]
		msg.SetControllen(len(r.oob))
	}
	for {
		n, _, e := syscall.RawSyscall(syscall.SYS_RECVMSG, fd, uintptr(unsafe.Pointer(&msg)), syscall.MSG_CMSG_CLOEXEC)
		switch e {
		case 0:
			r.n, r.oobn = int(n), int(msg.Controllen)
			return true
		case syscall.EINTR:
			continue
		case syscall.EAGAIN:
			return false
		}
		r.err = os.NewSyscallError("recvmsg", e)
		return true
	}
}
