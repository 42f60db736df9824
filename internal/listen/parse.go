package listen

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// DefaultPort is the port gunicorn uses when a bind spec names only a host.
const DefaultPort = 8000

// Kind says what sort of socket an Address names.
type Kind uint8

// Address kinds.
const (
	TCP  Kind = iota + 1 // Host:Port, IPv4 or IPv6
	Unix                 // Path
	FD                   // an inherited descriptor
)

// Address is one parsed --bind value.
type Address struct {
	Kind Kind
	Spec string // the --bind value as given
	Host string // TCP: lowercased host or IP literal without brackets; "" = all IPv4 interfaces
	Port int    // TCP: 0..65535
	Path string // Unix: socket file path as given
	FD   int    // FD: descriptor number
}

// IPv6 reports whether a TCP address is an IPv6 literal, which gunicorn
// binds as AF_INET6 (everything else, host names included, is AF_INET).
func (a Address) IPv6() bool {
	if a.Kind != TCP {
		return false
	}
	ip, err := netip.ParseAddr(a.Host)
	return err == nil && ip.Is6()
}

// String renders the address as gunicorn's log lines show it (Python's
// str() of its parsed address): ('127.0.0.1', 8000), a unix path, or fd://N.
func (a Address) String() string {
	switch a.Kind {
	case TCP:
		return "('" + a.Host + "', " + strconv.Itoa(a.Port) + ")"
	case Unix:
		return a.Path
	case FD:
		return "fd://" + strconv.Itoa(a.FD)
	}
	return a.Spec
}

// ErrBadSpec is wrapped by every Parse error.
var ErrBadSpec = errors.New("listen: bad bind address")

// Parse parses one --bind value the way gunicorn's util.parse_address does.
// A spec without a port gets DefaultPort; the PORT environment variable is
// the config layer's business, not this function's.
func Parse(spec string) (Address, error) {
	bad := func(why string) (Address, error) {
		return Address{}, fmt.Errorf("%w %q: %s; use HOST, HOST:PORT, [IPv6]:PORT, unix:PATH or fd://N", ErrBadSpec, spec, why)
	}
	a := Address{Spec: spec}
	s := spec
	switch {
	case strings.HasPrefix(s, "unix:"):
		p := strings.TrimPrefix(s, "unix:")
		p = strings.TrimPrefix(p, "//")
		if p == "" {
			return bad("the unix socket path is empty")
		}
		if len(p) > maxUnixPath {
			return bad(fmt.Sprintf("the unix socket path is %d bytes, longer than the %d the kernel accepts", len(p), maxUnixPath))
		}
		a.Kind, a.Path = Unix, p
		return a, nil
	case strings.HasPrefix(s, "fd://"):
		n, err := strconv.Atoi(strings.TrimSpace(s[len("fd://"):]))
		if err != nil || n < 0 {
			return bad(fmt.Sprintf("%q is not a valid file descriptor", s[len("fd://"):]))
		}
		a.Kind, a.FD = FD, n
		return a, nil
	}
	s = strings.TrimPrefix(s, "tcp://")
	a.Kind = TCP
	host, port := s, ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return bad("missing ']' after the IPv6 address")
		}
		host = s[1:end]
		rest := s[end+1:]
		switch {
		case rest == "":
		case rest[0] == ':':
			port = rest[1:]
			if port == "" {
				return bad("the port after ':' is empty")
			}
		default:
			return bad(fmt.Sprintf("unexpected %q after ']'", rest))
		}
		ip, err := netip.ParseAddr(host)
		if err != nil || !ip.Is6() || ip.Is4In6() {
			return bad(fmt.Sprintf("%q in brackets is not an IPv6 address", host))
		}
	case strings.Count(s, ":") > 1:
		return bad("IPv6 addresses need brackets, e.g. [::1]:8000")
	case strings.Contains(s, ":"):
		host, port, _ = strings.Cut(s, ":")
		if port == "" {
			return bad("the port after ':' is empty")
		}
	case s == "":
		host = "0.0.0.0"
	}
	a.Host = strings.ToLower(host)
	a.Port = DefaultPort
	if port != "" {
		n, err := strconv.Atoi(strings.TrimSpace(port))
		if err != nil {
			return bad(fmt.Sprintf("%q is not a valid port number", port))
		}
		if n < 0 || n > 65535 {
			return bad(fmt.Sprintf("port %d is out of range 0-65535", n))
		}
		a.Port = n
	}
	return a, nil
}

// maxUnixPath is sizeof(sockaddr_un.sun_path) minus the terminating NUL.
const maxUnixPath = 107
