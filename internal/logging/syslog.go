package logging

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file is the sans-IO half of syslog: address and facility parsing and
// the datagram bytes. It mirrors gunicorn's glogging.parse_syslog_address and
// _set_syslog_handler plus what Python's logging.handlers.SysLogHandler puts
// on the wire, so a syslog daemon sees the same records from gonicorn's Go
// master as from gunicorn's. The socket side is in syslog_writer.go.

// ErrSyslogConfig is wrapped by the errors for a bad --log-syslog-to or
// --log-syslog-facility value.
var ErrSyslogConfig = errors.New("logging: bad syslog setting")

// DefaultSyslogPort is the port used when --log-syslog-to names none.
const DefaultSyslogPort = 514

// syslogFacilities is gunicorn's glogging.SYSLOG_FACILITIES (a subset of
// Python's: no console, ntp or solaris-cron; "security" is auth).
var syslogFacilities = map[string]int{
	"auth": 4, "authpriv": 10, "cron": 9, "daemon": 3, "ftp": 11, "kern": 0,
	"lpr": 6, "mail": 2, "news": 7, "security": 4, "syslog": 5, "user": 1,
	"uucp": 8, "local0": 16, "local1": 17, "local2": 18, "local3": 19,
	"local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

const facilityList = "auth, authpriv, cron, daemon, ftp, kern, lpr, mail, news, security, syslog, user, uucp, local0 … local7"

// ParseSyslogFacility maps a --log-syslog-facility name (case-insensitive)
// to its facility code.
func ParseSyslogFacility(name string) (int, error) {
	if f, ok := syslogFacilities[strings.ToLower(name)]; ok {
		return f, nil
	}
	return 0, fmt.Errorf("%w: --log-syslog-facility %q: unknown facility name; use one of %s", ErrSyslogConfig, name, facilityList)
}

// SyslogSocket says how a unix:// syslog address is reached.
type SyslogSocket uint8

const (
	// SocketAuto tries a datagram socket and falls back to a stream one,
	// as SysLogHandler does when gunicorn passes socktype=None, which it
	// does for no suffix and for "#stream" alike.
	SocketAuto SyslogSocket = iota
	SocketDgram
)

// SyslogAddr is a parsed --log-syslog-to value.
type SyslogAddr struct {
	Network string       // "unix", "udp" or "tcp"
	Path    string       // unix: the socket path
	Socket  SyslogSocket // unix: datagram only, or datagram then stream
	Host    string       // udp/tcp: lowercased; "localhost" when empty
	Port    int          // udp/tcp: DefaultSyslogPort when absent
	raw     string
}

// String returns the address as the user wrote it.
func (a SyslogAddr) String() string { return a.raw }

// ParseSyslogAddr parses unix://PATH[#dgram|#stream], udp://HOST[:PORT] and
// tcp://HOST[:PORT] (HOST may be a [bracketed] IPv6 address) the way
// gunicorn's parse_syslog_address does.
//
// "#stream" behaves as in gunicorn, which passes socktype=None for anything
// but "#dgram": a datagram socket is tried first. Unlike gunicorn, any other
// "#suffix" and an empty path are errors, rather than something that fails
// on every log line later.
func ParseSyslogAddr(s string) (SyslogAddr, error) {
	a := SyslogAddr{raw: s}
	bad := func(why string) (SyslogAddr, error) {
		return SyslogAddr{}, fmt.Errorf("%w: --log-syslog-to %q: %s", ErrSyslogConfig, s, why)
	}
	if rest, ok := strings.CutPrefix(s, "unix://"); ok {
		a.Network = "unix"
		path, kind, hasKind := strings.Cut(rest, "#")
		switch {
		case !hasKind:
		case kind == "dgram":
			a.Socket = SocketDgram
		case kind == "stream":
			// gunicorn's parse_syslog_address leaves socktype None here.
		default:
			return bad(fmt.Sprintf("unknown socket type %q; use unix://PATH#dgram or unix://PATH#stream", kind))
		}
		if path == "" {
			return bad("empty socket path; use unix://PATH, e.g. unix:///dev/log")
		}
		a.Path = path
		return a, nil
	}
	var rest string
	var ok bool
	if rest, ok = strings.CutPrefix(s, "udp://"); ok {
		a.Network = "udp"
	} else if rest, ok = strings.CutPrefix(s, "tcp://"); ok {
		a.Network = "tcp"
	} else {
		return bad("invalid syslog address; use unix://PATH[#dgram|#stream], udp://HOST:PORT or tcp://HOST:PORT")
	}
	// The host and port rules below are gunicorn's, split for split.
	switch {
	case strings.Contains(rest, "[") && strings.Contains(rest, "]"):
		h, _, _ := strings.Cut(rest, "]")
		a.Host = strings.ToLower(h[min(1, len(h)):])
	case strings.Contains(rest, ":"):
		h, _, _ := strings.Cut(rest, ":")
		a.Host = strings.ToLower(h)
	default:
		a.Host = strings.ToLower(rest)
	}
	if a.Host == "" {
		a.Host = "localhost"
	}
	portPart := rest[strings.LastIndex(rest, "]")+1:]
	a.Port = DefaultSyslogPort
	if _, p, ok := strings.Cut(portPart, ":"); ok {
		n, err := strconv.Atoi(p)
		if err != nil || p == "" || p[0] < '0' || p[0] > '9' {
			return bad(fmt.Sprintf("%s is not a valid port number. Use %s://HOST:PORT", pyRepr(p), a.Network))
		}
		if n > 65535 {
			return bad(fmt.Sprintf("port %d is out of range; use a port from 0 to 65535", n))
		}
		a.Port = n
	}
	return a, nil
}

// pyRepr quotes s the way Python's %r does for plain strings, so the port
// error reads as gunicorn's "'abc' is not a valid port number.".
func pyRepr(s string) string {
	if strings.Contains(s, "'") && !strings.Contains(s, `"`) {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `\'`) + "'"
}

// SyslogPrefix is the program name in syslog tags: --log-syslog-prefix when
// set, else the process name with ':' replaced by '.' (gunicorn's
// cfg.proc_name, which is -n or else the app URI, e.g. "myapp.wsgi.app").
func SyslogPrefix(prefix, procName string) string {
	if prefix != "" {
		return prefix
	}
	return strings.ReplaceAll(procName, ":", ".")
}

// SyslogTag returns "gunicorn.<prefix>.<name>", name being "error" or
// "access", the logger name gunicorn puts in front of every record.
func SyslogTag(prefix, name string) string { return "gunicorn." + prefix + "." + name }

// SyslogSeverity is SysLogHandler.mapPriority: Python levels to syslog
// severities, and any unnamed level to warning.
func SyslogSeverity(l Level) int {
	switch l {
	case LevelDebug:
		return 7
	case LevelInfo:
		return 6
	case LevelWarning:
		return 4
	case LevelError:
		return 3
	case LevelCritical:
		return 2
	}
	return 4
}

// SyslogPriority is the PRI value: facility*8 + severity.
func SyslogPriority(facility int, l Level) int { return facility<<3 | SyslogSeverity(l) }

// AppendSyslogMessage appends one record exactly as SysLogHandler sends it
// for gunicorn's formatter "<tag>: [%(process)d] %(message)s":
//
//	<PRI>tag: [pid] msg\x00
//
// There is no timestamp or hostname (the daemon adds them) and the NUL is
// SysLogHandler's append_nul; over TCP it is also the only record
// separator, as in Python.
func AppendSyslogMessage(dst []byte, pri int, tag string, pid int, msg string) []byte {
	dst = appendSyslogHead(dst, pri, tag, pid)
	dst = append(dst, msg...)
	return append(dst, 0)
}

// appendSyslogHead appends everything AppendSyslogMessage writes before msg.
func appendSyslogHead(dst []byte, pri int, tag string, pid int) []byte {
	dst = append(dst, '<')
	dst = strconv.AppendInt(dst, int64(pri), 10)
	dst = append(dst, '>')
	dst = append(dst, tag...)
	dst = append(dst, ": ["...)
	dst = strconv.AppendInt(dst, int64(pid), 10)
	return append(dst, "] "...)
}
