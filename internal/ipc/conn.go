package ipc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"syscall"

	"github.com/gonicorn/gonicorn/internal/rawsock"
	"github.com/gonicorn/gonicorn/internal/wire"
)

// Conn is one end of a frame channel. Reads belong to a single goroutine;
// writes may come from many and are serialised by a mutex so frames never
// interleave.
type Conn struct {
	uc *net.UnixConn
	// Reads and writes skip the runtime's system call bookkeeping
	// (internal/rawsock); WriteWithFile and the closes go through uc.
	rd *rawsock.Reader
	wr *rawsock.Writer

	// read side, owned by the reading goroutine
	buf  []byte
	r, w int
	oob  []byte
	fds  []int

	wmu sync.Mutex
}

// Pair returns a connected socketpair: ours as a *Conn, theirs as an
// *os.File to hand to another process.
func Pair() (*Conn, *os.File, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("ipc: socketpair: %w", err)
	}
	for _, fd := range fds {
		// Bigger buffers let a worker write a whole mid-sized response
		// without waiting for the reader.
		_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_SNDBUF, 1<<20)
		_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1<<20)
	}
	ours := os.NewFile(uintptr(fds[0]), "gonicorn-ipc")
	theirs := os.NewFile(uintptr(fds[1]), "gonicorn-ipc-peer")
	c, err := FromFile(ours)
	ours.Close()
	if err != nil {
		theirs.Close()
		return nil, nil, err
	}
	return c, theirs, nil
}

// FromFile wraps a Unix stream socket file. The file may be closed afterwards.
func FromFile(f *os.File) (*Conn, error) {
	nc, err := net.FileConn(f)
	if err != nil {
		return nil, fmt.Errorf("ipc: %w", err)
	}
	uc, ok := nc.(*net.UnixConn)
	if !ok {
		nc.Close()
		return nil, errors.New("ipc: not a unix socket")
	}
	rc, err := uc.SyscallConn()
	if err != nil {
		uc.Close()
		return nil, fmt.Errorf("ipc: %w", err)
	}
	return &Conn{uc: uc, rd: rawsock.NewReader(rc), wr: rawsock.NewWriter(rc),
		buf: make([]byte, 256<<10), oob: make([]byte, syscall.CmsgSpace(16*4))}, nil
}

// ReadFrame returns the next frame. Its payload aliases the read buffer and
// is valid only until the next ReadFrame.
func (c *Conn) ReadFrame() (wire.Frame, error) {
	for {
		if c.w > c.r {
			f, n, err := wire.Next(c.buf[c.r:c.w])
			if err == nil {
				c.r += n
				return f, nil
			}
			if !errors.Is(err, wire.ErrShort) {
				return wire.Frame{}, err
			}
		}
		if err := c.fill(); err != nil {
			return wire.Frame{}, err
		}
	}
}

// fill reads more bytes, compacting or growing the buffer as a frame needs.
func (c *Conn) fill() error {
	if c.r == c.w {
		c.r, c.w = 0, 0
	}
	need := 0
	if c.w-c.r >= wire.HeaderSize {
		h, err := wire.ParseHeader(c.buf[c.r:c.w])
		if err != nil {
			return err
		}
		need = wire.HeaderSize + int(h.Length)
	}
	if need > len(c.buf) {
		nb := make([]byte, need)
		c.w = copy(nb, c.buf[c.r:c.w])
		c.r = 0
		c.buf = nb
	} else if c.w == len(c.buf) || (need > 0 && c.r+need > len(c.buf)) {
		c.w = copy(c.buf, c.buf[c.r:c.w])
		c.r = 0
	}
	n, oobn, err := c.rd.ReadMsg(c.buf[c.w:], c.oob)
	if oobn > 0 {
		c.takeFDs(c.oob[:oobn])
	}
	if n > 0 {
		c.w += n
		return nil
	}
	if err == nil {
		err = errEOF
	}
	return err
}

var errEOF = fmt.Errorf("ipc: channel closed: %w", os.ErrClosed)

func (c *Conn) takeFDs(oob []byte) {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for _, m := range msgs {
		fds, err := syscall.ParseUnixRights(&m)
		if err == nil {
			c.fds = append(c.fds, fds...)
		}
	}
}

// TakeFD returns the oldest file descriptor received with a frame. A frame
// that carries one (SENDFILE) is parsed only after its first byte arrived,
// and the descriptor travels with that byte, so FIFO order matches frames.
func (c *Conn) TakeFD() (*os.File, error) {
	if len(c.fds) == 0 {
		return nil, errors.New("ipc: frame expected a file descriptor but none arrived")
	}
	fd := c.fds[0]
	c.fds = c.fds[1:]
	return os.NewFile(uintptr(fd), "gonicorn-sendfile"), nil
}

// Write sends bytes holding whole frames in one write.
func (c *Conn) Write(b []byte) error {
	c.wmu.Lock()
	_, err := c.wr.Write(b)
	c.wmu.Unlock()
	return err
}

// WriteWithFile sends frames with a file descriptor attached to their first byte.
func (c *Conn) WriteWithFile(b []byte, f *os.File) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, _, err := c.uc.WriteMsgUnix(b, syscall.UnixRights(int(f.Fd())), nil)
	return err
}

// Close closes the socket; a blocked ReadFrame returns an error.
func (c *Conn) Close() error {
	return c.uc.Close()
}

// CloseWrite half-closes so the peer reads EOF while we still read.
func (c *Conn) CloseWrite() error { return c.uc.CloseWrite() }
