package listen

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
)

// Listener is one listening socket. Accept and Addr come from the embedded
// net.Listener.
type Listener struct {
	net.Listener
	file    *os.File
	addr    Address
	network string // "tcp4", "tcp6" or "unix"
	display string
	path    string // unix socket path
	tls     bool

	mu     sync.Mutex
	unlink bool // we created path, so Close removes it
	closed bool
}

// String is gunicorn's display form, used in "Listening at: ...":
// http://127.0.0.1:8000, https://... with TLS, http://[::1]:8000, unix:/path.
func (l *Listener) String() string { return l.display }

// Address is the bind address this listener was made from.
func (l *Listener) Address() Address { return l.addr }

// Network is "tcp4", "tcp6" or "unix".
func (l *Listener) Network() string { return l.network }

// IsUnix reports whether this is a unix socket listener.
func (l *Listener) IsUnix() bool { return l.network == "unix" }

// Path is the unix socket path, or "".
func (l *Listener) Path() string { return l.path }

// File is the socket's own descriptor, to pass to child processes
// (ExtraFiles) on USR2 re-exec or to workers. It is close-on-exec in this
// process, and closed by Close.
func (l *Listener) File() *os.File { return l.file }

// SetUnlinkOnClose decides whether Close removes the unix socket file.
// Turn it off before a USR2 re-exec hands the socket to a new master.
func (l *Listener) SetUnlinkOnClose(unlink bool) {
	l.mu.Lock()
	l.unlink = unlink && l.path != ""
	l.mu.Unlock()
}

// Close stops listening, closes the kept descriptor and, for a unix socket
// this package created, removes the socket file. Closing twice is harmless.
func (l *Listener) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	err := l.Listener.Close()
	if ferr := l.file.Close(); err == nil {
		err = ferr
	}
	if l.unlink {
		if rerr := os.Remove(l.path); rerr != nil && !os.IsNotExist(rerr) && err == nil {
			err = rerr
		}
	}
	return err
}

// FromFD makes a Listener from an inherited, already bound socket (fd://N,
// systemd, or a re-executed master's descriptors). Like gunicorn it sets
// SO_REUSEADDR and calls listen(2) with the configured backlog, which is
// harmless on a socket that already listens. The descriptor becomes
// close-on-exec so the Python zygote does not inherit it by accident; pass
// it on explicitly with File(). Close never unlinks an inherited unix socket.
func FromFD(fd int, opts Options) (*Listener, error) {
	a := Address{Kind: FD, FD: fd, Spec: "fd://" + strconv.Itoa(fd)}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, fmt.Errorf("listen: %s: %w; the descriptor is not open in this process", a.Spec, err)
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFSOCK {
		return nil, fmt.Errorf("listen: %s is not a socket; pass a bound stream socket", a.Spec)
	}
	if typ, err := syscall.GetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_TYPE); err != nil || typ != syscall.SOCK_STREAM {
		return nil, fmt.Errorf("listen: %s is not a stream socket; HTTP needs SOCK_STREAM", a.Spec)
	}
	syscall.CloseOnExec(fd)
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return nil, fmt.Errorf("listen: %s: getsockname: %w", a.Spec, err)
	}
	_, isUnix := sa.(*syscall.SockaddrUnix)
	if err := setOptions(fd, false, Options{}); err != nil {
		return nil, fmt.Errorf("listen: %s: %w", a.Spec, err)
	}
	if !isUnix && opts.ReusePort {
		_ = syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, soReusePort, 1)
	}
	if err := syscall.Listen(fd, opts.backlog()); err != nil {
		return nil, fmt.Errorf("listen: %s: listen: %w; is it bound?", a.Spec, err)
	}
	return wrap(fd, a, opts)
}
