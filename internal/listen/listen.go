package listen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Logger receives gunicorn's binding messages. *logging.ErrorLog satisfies it.
type Logger interface {
	Error(format string, args ...any)
	Debug(format string, args ...any)
}

// Owner is a uid/gid to give unix socket files (gunicorn chowns them to
// --user/--group).
type Owner struct{ UID, GID int }

// Options control how sockets are made. The zero value gives gunicorn's
// defaults.
type Options struct {
	Backlog    int           // listen() backlog (--backlog); 0 means 2048
	ReusePort  bool          // set SO_REUSEPORT (--reuse-port)
	Umask      int           // umask while binding unix sockets (--umask); 0 leaves them 0777, as gunicorn does
	Owner      *Owner        // chown unix socket files; nil leaves them alone
	TLS        bool          // show TCP listeners as https:// (--certfile set)
	Retries    int           // attempts per address when it is in use; 0 means 5
	RetryDelay time.Duration // pause between attempts; 0 means 1s
	Log        Logger        // gets "Connection in use: ..." and friends; nil discards
}

func (o *Options) backlog() int {
	if o.Backlog <= 0 {
		return 2048
	}
	return o.Backlog
}

func (o *Options) retries() int {
	if o.Retries <= 0 {
		return 5
	}
	return o.Retries
}

func (o *Options) delay() time.Duration {
	if o.RetryDelay <= 0 {
		return time.Second
	}
	return o.RetryDelay
}

func (o *Options) errorf(format string, args ...any) {
	if o.Log != nil {
		o.Log.Error(format, args...)
	}
}

func (o *Options) debugf(format string, args ...any) {
	if o.Log != nil {
		o.Log.Debug(format, args...)
	}
}

// ErrCantConnect is wrapped by Open when an address stays unavailable after
// every retry; gunicorn exits 1 in that case.
var ErrCantConnect = errors.New("listen: can't connect")

// Open creates a listener for every address, in order. An address that is
// in use (or not yet available) is retried like gunicorn does, logging
// "Connection in use: ADDR" and "Retrying in 1 second."; when the attempts
// run out it logs "Can't connect to ADDR" and returns an error wrapping
// ErrCantConnect. Other errors fail at once. On any error the listeners
// already opened are closed.
func Open(addrs []Address, opts Options) ([]*Listener, error) {
	var out []*Listener
	fail := func(err error) ([]*Listener, error) {
		for _, l := range out {
			l.Close()
		}
		return nil, err
	}
	for _, a := range addrs {
		var l *Listener
		var err error
		if a.Kind == FD {
			l, err = FromFD(a.FD, opts)
		} else {
			l, err = openRetrying(a, opts)
		}
		if err != nil {
			return fail(err)
		}
		out = append(out, l)
	}
	return out, nil
}

func openRetrying(a Address, opts Options) (*Listener, error) {
	n := opts.retries()
	var err error
	for i := 1; ; i++ {
		var l *Listener
		l, err = openOne(a, opts)
		if err == nil {
			return l, nil
		}
		var errno syscall.Errno
		if !errors.As(err, &errno) || (errno != syscall.EADDRINUSE && errno != syscall.EADDRNOTAVAIL) {
			return nil, err
		}
		if errno == syscall.EADDRINUSE {
			opts.errorf("Connection in use: %s", a)
		} else {
			opts.errorf("Invalid address: %s", a)
		}
		opts.debugf("connection to %s failed: %s", a, pyErr(errno))
		if i >= n {
			break
		}
		if d := opts.delay(); d == time.Second {
			opts.errorf("Retrying in 1 second.")
		} else {
			opts.errorf("Retrying in %s.", d)
		}
		time.Sleep(opts.delay())
	}
	opts.errorf("Can't connect to %s", a)
	hint := "another process is listening there; stop it or choose another --bind"
	if errors.Is(err, syscall.EADDRNOTAVAIL) {
		hint = "no local interface has that address; check the host in --bind"
	}
	return nil, fmt.Errorf("%w to %s (--bind %q) after %d attempts: %w; %s", ErrCantConnect, a, a.Spec, n, err, hint)
}

// pyErr formats an errno as Python's str(OSError) does.
func pyErr(e syscall.Errno) string {
	msg := e.Error()
	if msg != "" {
		msg = strings.ToUpper(msg[:1]) + msg[1:]
	}
	return "[Errno " + strconv.Itoa(int(e)) + "] " + msg
}

func openOne(a Address, opts Options) (*Listener, error) {
	switch a.Kind {
	case TCP:
		return openTCP(a, opts)
	case Unix:
		return openUnix(a, opts)
	}
	return nil, fmt.Errorf("%w %q: unknown address kind %d", ErrBadSpec, a.Spec, a.Kind)
}

func openTCP(a Address, opts Options) (*Listener, error) {
	var sa syscall.Sockaddr
	family := syscall.AF_INET
	if a.IPv6() {
		ip, _ := netip.ParseAddr(a.Host)
		sa6 := &syscall.SockaddrInet6{Port: a.Port, Addr: ip.As16()}
		if z := ip.Zone(); z != "" {
			ifi, err := net.InterfaceByName(z)
			if err != nil {
				return nil, fmt.Errorf("listen: --bind %q: unknown interface %q in the IPv6 zone: %w", a.Spec, z, err)
			}
			sa6.ZoneId = uint32(ifi.Index)
		}
		family, sa = syscall.AF_INET6, sa6
	} else {
		ip, err := resolve4(a.Host)
		if err != nil {
			return nil, fmt.Errorf("listen: --bind %q: cannot resolve %q to an IPv4 address: %w; use an IP address or fix the name", a.Spec, a.Host, err)
		}
		sa = &syscall.SockaddrInet4{Port: a.Port, Addr: ip.As4()}
	}
	fd, err := syscall.Socket(family, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("listen: --bind %q: socket: %w", a.Spec, err)
	}
	if err := setOptions(fd, true, opts); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("listen: --bind %q: %w", a.Spec, err)
	}
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("listen: bind %s: %w", a, err)
	}
	return finish(fd, a, opts, false)
}

// resolve4 mirrors Python binding an AF_INET socket to a name: "" is any
// address, literals are used as is, names take their first IPv4 address.
func resolve4(host string) (netip.Addr, error) {
	if host == "" {
		return netip.IPv4Unspecified(), nil
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !ip.Is4() {
			return netip.Addr{}, errors.New("not an IPv4 address")
		}
		return ip, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip4", host)
	if err != nil {
		return netip.Addr{}, err
	}
	return ips[0].Unmap(), nil
}

func setOptions(fd int, tcp bool, opts Options) error {
	if err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, 1); err != nil {
		return fmt.Errorf("setsockopt SO_REUSEADDR: %w", err)
	}
	if opts.ReusePort {
		err := syscall.SetsockoptInt(fd, syscall.SOL_SOCKET, soReusePort, 1)
		if err != nil && err != syscall.ENOPROTOOPT && err != syscall.EINVAL {
			return fmt.Errorf("setsockopt SO_REUSEPORT (--reuse-port): %w", err)
		}
	}
	if tcp {
		// Inherited by accepted sockets on Linux; the front sets it again anyway.
		if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1); err != nil {
			return fmt.Errorf("setsockopt TCP_NODELAY: %w", err)
		}
	}
	return nil
}

// umaskMu serialises the process-wide umask swap around unix binds.
var umaskMu sync.Mutex

func openUnix(a Address, opts Options) (*Listener, error) {
	st, err := os.Stat(a.Path)
	switch {
	case err == nil && st.Mode()&os.ModeSocket != 0:
		if err := os.Remove(a.Path); err != nil && !os.IsNotExist(err) {
			return nil, fmt.Errorf("listen: --bind %q: cannot remove the old socket file: %w", a.Spec, err)
		}
	case err == nil:
		return nil, fmt.Errorf("listen: --bind %q: %s exists and is not a socket (it is a %s); remove it or choose another path", a.Spec, a.Path, fileKind(st.Mode()))
	case !os.IsNotExist(err):
		return nil, fmt.Errorf("listen: --bind %q: %w", a.Spec, err)
	}
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC|syscall.SOCK_NONBLOCK, 0)
	if err != nil {
		return nil, fmt.Errorf("listen: --bind %q: socket: %w", a.Spec, err)
	}
	if err := setOptions(fd, false, opts); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("listen: --bind %q: %w", a.Spec, err)
	}
	umaskMu.Lock()
	old := syscall.Umask(opts.Umask)
	err = syscall.Bind(fd, &syscall.SockaddrUnix{Name: a.Path})
	syscall.Umask(old)
	umaskMu.Unlock()
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("listen: bind %s: %w", a.Path, err)
	}
	if opts.Owner != nil {
		if err := os.Chown(a.Path, opts.Owner.UID, opts.Owner.GID); err != nil {
			syscall.Close(fd)
			os.Remove(a.Path)
			return nil, fmt.Errorf("listen: --bind %q: cannot chown the socket to --user/--group: %w", a.Spec, err)
		}
	}
	return finish(fd, a, opts, true)
}

func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "directory"
	case m&os.ModeSymlink != 0:
		return "symlink"
	case m&os.ModeNamedPipe != 0:
		return "named pipe"
	case m&os.ModeDevice != 0:
		return "device"
	}
	return "regular file"
}

// finish calls listen(2) with the configured backlog and wraps fd.
func finish(fd int, a Address, opts Options, unlink bool) (*Listener, error) {
	if err := syscall.Listen(fd, opts.backlog()); err != nil {
		syscall.Close(fd)
		if unlink {
			os.Remove(a.Path)
		}
		return nil, fmt.Errorf("listen: listen %s (backlog %d): %w", a, opts.backlog(), err)
	}
	l, err := wrap(fd, a, opts)
	if err != nil {
		if unlink {
			os.Remove(a.Path)
		}
		return nil, err
	}
	l.unlink = unlink
	return l, nil
}

// wrap turns a listening fd into a Listener. It takes ownership of fd.
func wrap(fd int, a Address, opts Options) (*Listener, error) {
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("listen: %s: getsockname: %w", a, err)
	}
	l := &Listener{addr: a, tls: opts.TLS}
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		l.network = "tcp4"
		l.display = scheme(opts.TLS) + netip.AddrFrom4(sa.Addr).String() + ":" + strconv.Itoa(sa.Port)
	case *syscall.SockaddrInet6:
		// gunicorn's TCP6Socket always prints http, even with TLS.
		l.network = "tcp6"
		ip := netip.AddrFrom16(sa.Addr)
		if sa.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				ip = ip.WithZone(ifi.Name)
			}
		}
		l.display = "http://[" + ip.String() + "]:" + strconv.Itoa(sa.Port)
	case *syscall.SockaddrUnix:
		l.network = "unix"
		p := a.Path
		if p == "" {
			p = sa.Name
		}
		l.path = p
		l.display = "unix:" + p
	default:
		syscall.Close(fd)
		return nil, fmt.Errorf("listen: %s: unsupported socket family %T; only TCP and unix stream sockets can serve HTTP", a, sa)
	}
	name := a.Spec
	if name == "" {
		name = l.display
	}
	l.file = os.NewFile(uintptr(fd), name)
	ln, err := net.FileListener(l.file)
	if err != nil {
		l.file.Close()
		return nil, fmt.Errorf("listen: %s: %w", a, err)
	}
	l.Listener = ln
	return l, nil
}

func scheme(tls bool) string {
	if tls {
		return "https://"
	}
	return "http://"
}

// soReusePort is SO_REUSEPORT on Linux (absent from package syscall).
const soReusePort = 0xf
