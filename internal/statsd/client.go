package statsd

import (
	"errors"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultPort is the port used when --statsd-host names no port.
const DefaultPort = 8125

// ErrTarget is wrapped by errors about an unusable --statsd-host value.
var ErrTarget = errors.New("statsd: bad --statsd-host")

// Addr is a parsed --statsd-host: a unix datagram socket path, or a host
// and port for UDP.
type Addr struct {
	Path string // unix://PATH or unix:PATH; empty for UDP
	Host string
	Port int
}

var unixDigits = regexp.MustCompile(`^unix:(\d+)$`)

// ParseAddr reads --statsd-host the way gunicorn's validate_statsd_address
// and util.parse_address do: "unix://PATH" or "unix:PATH" is a unix
// datagram socket; "unix:NNN" is the host "unix" (gunicorn's guard against
// an old ambiguity); otherwise [tcp://]HOST[:PORT] or [V6]:PORT with port
// 8125 by default, host lowercased and "" meaning 0.0.0.0.
func ParseAddr(s string) (Addr, error) {
	orig := s
	if m := unixDigits.FindStringSubmatch(s); m != nil {
		p, err := strconv.Atoi(m[1])
		if err != nil || p > 65535 {
			return Addr{}, fmt.Errorf("%w %q: %q is not a valid port number; use HOST:PORT or unix://PATH", ErrTarget, s, m[1])
		}
		return Addr{Host: "unix", Port: p}, nil
	}
	if strings.HasPrefix(s, "unix:") {
		rest := s[strings.LastIndex(s, "unix:")+len("unix:"):]
		return Addr{Path: strings.TrimPrefix(rest, "//")}, nil
	}
	if strings.HasPrefix(s, "fd://") {
		return Addr{}, fmt.Errorf("%w %q: a file descriptor cannot be a StatsD target; use HOST:PORT or unix://PATH", ErrTarget, s)
	}
	s = strings.TrimPrefix(s, "tcp://")
	host, port := s, strconv.Itoa(DefaultPort)
	switch {
	case strings.Contains(s, "[") && strings.Contains(s, "]"):
		// Python's addr.split("]")[0][1:], which is "" where Go's slice would panic.
		if h := strings.SplitN(s, "]", 2)[0]; h != "" {
			host = h[1:]
		} else {
			host = ""
		}
		if parts := strings.SplitN(s, "]:", 3); len(parts) > 1 {
			port = parts[1]
		}
	case strings.Contains(s, ":"):
		parts := strings.Split(s, ":")
		host, port = parts[0], parts[1]
	case s == "":
		host = "0.0.0.0"
	}
	p, err := strconv.Atoi(port)
	if err != nil || p < 0 || p > 65535 {
		return Addr{}, fmt.Errorf("%w %q: %q is not a valid port number; use HOST:PORT or unix://PATH", ErrTarget, orig, port)
	}
	return Addr{Host: strings.ToLower(host), Port: p}, nil
}

// String is the address as the error log shows it.
func (a Addr) String() string {
	if a.Path != "" {
		return "unix://" + a.Path
	}
	return net.JoinHostPort(a.Host, strconv.Itoa(a.Port))
}

// Client sends metrics over one connected datagram socket. It is safe for
// concurrent use; a nil *Client sends nothing, so callers need no check.
//
// Sends never block: the socket is non-blocking and a datagram the kernel
// will not take right away (full buffer, nobody listening, agent gone) is
// dropped. OnError, when set before the first send, is told about the
// first failure only, so a missing agent costs one log line, not one per
// request.
type Client struct {
	fd     int
	addr   Addr
	prefix string
	tags   string
	closed atomic.Bool
	failed atomic.Bool

	// OnError is called once, with the first send error other than a
	// full socket buffer.
	OnError func(error)
}

// Dial resolves and connects to target (a --statsd-host value). prefix is
// --statsd-prefix as given (Dial normalises it) and tags --dogstatsd-tags.
// Connecting a datagram socket sends nothing, so an agent that is not
// running yet is not an error; an unresolvable host or a missing unix
// socket is.
func Dial(target, prefix, tags string) (*Client, error) {
	a, err := ParseAddr(target)
	if err != nil {
		return nil, err
	}
	var (
		family int
		sa     syscall.Sockaddr
	)
	if a.Path != "" {
		family, sa = syscall.AF_UNIX, &syscall.SockaddrUnix{Name: a.Path}
	} else {
		// "udp" resolves a name to its IPv4 address first, as gunicorn's
		// AF_INET socket does.
		ua, err := net.ResolveUDPAddr("udp", net.JoinHostPort(a.Host, strconv.Itoa(a.Port)))
		if err != nil {
			return nil, fmt.Errorf("statsd: cannot resolve --statsd-host %q: %w; check the name or use an IP address", target, err)
		}
		if ip4 := ua.IP.To4(); ip4 != nil {
			s := &syscall.SockaddrInet4{Port: ua.Port}
			copy(s.Addr[:], ip4)
			family, sa = syscall.AF_INET, s
		} else {
			s := &syscall.SockaddrInet6{Port: ua.Port}
			copy(s.Addr[:], ua.IP.To16())
			family, sa = syscall.AF_INET6, s
		}
	}
	fd, err := syscall.Socket(family, syscall.SOCK_DGRAM, 0)
	if err != nil {
		return nil, fmt.Errorf("statsd: cannot open a socket for --statsd-host %q: %w", target, err)
	}
	syscall.CloseOnExec(fd)
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("statsd: cannot make the --statsd-host %q socket non-blocking: %w", target, err)
	}
	if err := syscall.Connect(fd, sa); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("statsd: cannot connect to --statsd-host %q: %w; start the StatsD agent first or fix the address", target, err)
	}
	return &Client{fd: fd, addr: a, prefix: NormalizePrefix(prefix), tags: tags}, nil
}

// Addr is the parsed target.
func (c *Client) Addr() Addr { return c.addr }

// Increment sends a counter, gunicorn's increment(name, v).
func (c *Client) Increment(name string, v int64) {
	if c == nil {
		return
	}
	var a [128]byte
	c.send(AppendCounter(a[:0], c.prefix, name, v, c.tags))
}

// Gauge sends a gauge.
func (c *Client) Gauge(name string, v int64) {
	if c == nil {
		return
	}
	var a [128]byte
	c.send(AppendGauge(a[:0], c.prefix, name, v, c.tags))
}

// Histogram sends a histogram value.
func (c *Client) Histogram(name string, v int64) {
	if c == nil {
		return
	}
	var a [128]byte
	c.send(AppendHistogram(a[:0], c.prefix, name, v, c.tags))
}

// Timer sends a timing in milliseconds.
func (c *Client) Timer(name string, d time.Duration) {
	if c == nil {
		return
	}
	var a [128]byte
	c.send(AppendTimer(a[:0], c.prefix, name, d, c.tags))
}

// Request sends what gunicorn's Statsd.access sends for every request, in
// its order: gunicorn.request.duration, gunicorn.requests and
// gunicorn.request.status.<status>, one datagram each.
func (c *Client) Request(status int, d time.Duration) {
	if c == nil {
		return
	}
	var a [128]byte
	c.send(AppendTimer(a[:0], c.prefix, "gunicorn.request.duration", d, c.tags))
	c.send(AppendCounter(a[:0], c.prefix, "gunicorn.requests", 1, c.tags))
	c.send(AppendStatus(a[:0], c.prefix, status, c.tags))
}

func (c *Client) send(b []byte) {
	if c.closed.Load() {
		return
	}
	err := syscall.Sendto(c.fd, b, syscall.MSG_DONTWAIT, nil)
	if err == nil || err == syscall.EAGAIN || err == syscall.EINTR {
		return
	}
	if c.OnError != nil && c.failed.CompareAndSwap(false, true) {
		c.OnError(fmt.Errorf("statsd: sending to %s failed: %w; metrics are dropped while it fails (this is reported once)", c.addr, err))
	}
}

// Close closes the socket. Call it only once nothing sends any more: a
// send racing with Close could hit a reused descriptor.
func (c *Client) Close() error {
	if c == nil || !c.closed.CompareAndSwap(false, true) {
		return nil
	}
	return syscall.Close(c.fd)
}
