package logging

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// DefaultAccessLogFormat is gunicorn's access_log_format default.
const DefaultAccessLogFormat = `%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"`

// Header is one header field as it appeared on the wire.
type Header struct {
	Name, Value []byte
}

// AccessEntry holds what an access line can show about one request. Byte
// slices are read only during Append and may point into reused buffers.
type AccessEntry struct {
	RemoteAddr string // REMOTE_ADDR without the port (h)
	Method     []byte // REQUEST_METHOD (m)
	RawURI     []byte // request target exactly as received, query included (r)
	Path       []byte // PATH_INFO, percent-decoded (U)
	Query      []byte // QUERY_STRING, "" when absent (q)
	Proto      string // SERVER_PROTOCOL, e.g. "HTTP/1.1" (H)
	Status     int    // status code (s)
	BytesSent  int64  // body bytes sent (B, b); negative means unknown

	// Header fields in wire order. Duplicates are kept: {name}i and {name}o
	// show the last one, as gunicorn's dict does, while f, a and u read the
	// environ view, where gunicorn joins duplicates with ",".
	RequestHeaders  []Header
	ResponseHeaders []Header

	// Environ looks up a WSGI environ key for {name}e atoms. key is the atom
	// name lowercased (gunicorn lowercases both sides), so match it
	// case-insensitively. Nil means every {name}e renders "-".
	Environ func(key string) (string, bool)

	Start    time.Time     // when the request started; zero means "now" for t
	Duration time.Duration // request time (T, M, D, L)
	Pid      int           // worker pid (p); 0 means this process
}

// ErrBadAccessFormat is wrapped by CompileAccessFormat errors.
var ErrBadAccessFormat = errors.New("logging: bad access_log_format")

type atomKind uint8

const (
	kLiteral atomKind = iota
	kUnknown
	kH
	kL
	kU
	kT
	kR
	kS
	kM
	kUpath
	kQ
	kProto
	kBytes
	kBytesCLF
	kReferer
	kAgent
	kSecs
	kMillis
	kMicros
	kDecimal
	kPid
	kReqHeader
	kRespHeader
	kEnv
)

var simpleAtoms = map[string]atomKind{
	"h": kH, "l": kL, "u": kU, "t": kT, "r": kR, "s": kS, "m": kM, "U": kUpath,
	"q": kQ, "H": kProto, "B": kBytes, "b": kBytesCLF, "f": kReferer, "a": kAgent,
	"T": kSecs, "M": kMillis, "D": kMicros, "L": kDecimal, "p": kPid,
}

type piece struct {
	kind  atomKind
	lit   string // literal text, or the lowercased header/environ name
	left  bool   // '-' flag
	zero  bool   // '0' flag
	width int
	prec  int  // -1 when absent
	conv  byte // 's', 'd' or 'i'
}

// AccessFormat is a compiled access_log_format. It is immutable apart from
// an internal time cache and safe for concurrent use.
type AccessFormat struct {
	src    string
	pieces []piece
	tcache atomic.Pointer[cachedTime]
}

type cachedTime struct {
	sec int64
	n   int
	b   [40]byte
}

// String returns the template the format was compiled from.
func (f *AccessFormat) String() string { return f.src }

// CompileAccessFormat parses a gunicorn access_log_format. Atoms are Python
// %-format mapping keys: %(name)s with optional flags ('-', '0'), width and
// precision; %(name)d and %(name)i render like %(name)s. %% is a literal
// percent. Unknown atom names render "-" at log time, as in gunicorn; a bare
// %s or an unsupported conversion is an error here, where gunicorn would fail
// on every request instead.
func CompileAccessFormat(format string) (*AccessFormat, error) {
	f := &AccessFormat{src: format}
	var lit []byte
	flush := func() {
		if len(lit) > 0 {
			f.pieces = append(f.pieces, piece{kind: kLiteral, lit: string(lit), prec: -1})
			lit = lit[:0]
		}
	}
	bad := func(at int, why string) error {
		return fmt.Errorf("%w %q at offset %d: %s; atoms are written %%(name)s, e.g. %%(h)s, and %%%% is a literal %%", ErrBadAccessFormat, format, at, why)
	}
	for i := 0; i < len(format); {
		c := format[i]
		if c != '%' {
			lit = append(lit, c)
			i++
			continue
		}
		start := i
		i++
		if i == len(format) {
			return nil, bad(start, "incomplete format: '%' at the end")
		}
		if format[i] == '%' {
			lit = append(lit, '%')
			i++
			continue
		}
		if format[i] != '(' {
			return nil, bad(start, fmt.Sprintf("%q is not a named atom", format[start:i+1]))
		}
		// Python matches nested parentheses inside the key.
		depth, j := 1, i+1
		for ; j < len(format) && depth > 0; j++ {
			switch format[j] {
			case '(':
				depth++
			case ')':
				depth--
			}
		}
		if depth > 0 {
			return nil, bad(start, "missing ')' after '%('")
		}
		name := format[i+1 : j-1]
		i = j
		p := piece{prec: -1}
		for ; i < len(format) && strings.IndexByte("-+ #0", format[i]) >= 0; i++ {
			switch format[i] {
			case '-':
				p.left = true
			case '0':
				p.zero = true
			}
		}
		for ; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
			p.width = p.width*10 + int(format[i]-'0')
			if p.width > 1<<16 {
				return nil, bad(start, "width too large")
			}
		}
		if i < len(format) && format[i] == '.' {
			i++
			p.prec = 0
			for ; i < len(format) && format[i] >= '0' && format[i] <= '9'; i++ {
				p.prec = p.prec*10 + int(format[i]-'0')
				if p.prec > 1<<16 {
					return nil, bad(start, "precision too large")
				}
			}
		}
		for i < len(format) && strings.IndexByte("hlL", format[i]) >= 0 {
			i++ // length modifiers: accepted and ignored, as Python does
		}
		if i == len(format) {
			return nil, bad(start, fmt.Sprintf("atom %%(%s) has no conversion; add 's'", name))
		}
		switch conv := format[i]; conv {
		case 's', 'd', 'i':
			p.conv = conv
			if conv == 's' {
				p.zero = false // Python ignores '0' for strings
			}
		default:
			return nil, bad(start, fmt.Sprintf("unsupported conversion %q for atom %%(%s); use 's'", conv, name))
		}
		i++
		if p.left {
			p.zero = false
		}
		p.kind, p.lit = classify(name)
		flush()
		f.pieces = append(f.pieces, p)
	}
	flush()
	return f, nil
}

// classify mirrors gunicorn's SafeAtoms lookup: plain names are
// case-sensitive, names starting with '{' are lowercased as a whole.
func classify(name string) (atomKind, string) {
	if k, ok := simpleAtoms[name]; ok {
		return k, ""
	}
	if !strings.HasPrefix(name, "{") {
		return kUnknown, ""
	}
	n := strings.ToLower(name)
	if len(n) < 3 || n[len(n)-2] != '}' {
		return kUnknown, ""
	}
	key := n[1 : len(n)-2]
	switch n[len(n)-1] {
	case 'i':
		return kReqHeader, key
	case 'o':
		return kRespHeader, key
	case 'e':
		return kEnv, key
	}
	return kUnknown, ""
}

// Append renders one access line for e (without the trailing newline) onto
// dst. With a dst of sufficient capacity it does not allocate.
func (f *AccessFormat) Append(dst []byte, e *AccessEntry) []byte {
	for i := range f.pieces {
		p := &f.pieces[i]
		if p.kind == kLiteral {
			dst = append(dst, p.lit...)
			continue
		}
		start := len(dst)
		dst = f.appendAtom(dst, p, e)
		if p.width > 0 || p.prec >= 0 {
			dst = applyWidth(dst, start, p)
		}
	}
	return dst
}

func (f *AccessFormat) appendAtom(dst []byte, p *piece, e *AccessEntry) []byte {
	switch p.kind {
	case kH:
		return appendEsc(dst, e.RemoteAddr)
	case kL, kUnknown:
		return append(dst, '-')
	case kU:
		return appendUser(dst, e.RequestHeaders)
	case kT:
		// gunicorn stamps the time the line is written, i.e. the end of the
		// request; computing it from the entry keeps lines reproducible.
		if e.Start.IsZero() {
			return f.appendTime(dst, time.Now())
		}
		return f.appendTime(dst, e.Start.Add(e.Duration))
	case kR:
		dst = appendEsc(dst, e.Method)
		dst = append(dst, ' ')
		dst = appendEsc(dst, e.RawURI)
		dst = append(dst, ' ')
		return appendEsc(dst, e.Proto)
	case kS:
		return strconv.AppendInt(dst, int64(e.Status), 10)
	case kM:
		return appendEsc(dst, e.Method)
	case kUpath:
		return appendEsc(dst, e.Path)
	case kQ:
		return appendEsc(dst, e.Query)
	case kProto:
		return appendEsc(dst, e.Proto)
	case kBytes:
		if e.BytesSent < 0 {
			return append(dst, "None"...) // str(None): gunicorn's resp.sent was None
		}
		return strconv.AppendInt(dst, e.BytesSent, 10)
	case kBytesCLF:
		if e.BytesSent < 0 {
			return append(dst, '-')
		}
		return strconv.AppendInt(dst, e.BytesSent, 10)
	case kReferer:
		return appendJoined(dst, e.RequestHeaders, "referer")
	case kAgent:
		return appendJoined(dst, e.RequestHeaders, "user-agent")
	case kSecs:
		return strconv.AppendInt(dst, int64(dur(e)/time.Second), 10)
	case kMillis:
		return strconv.AppendInt(dst, int64(dur(e)/time.Millisecond), 10)
	case kMicros:
		return strconv.AppendInt(dst, int64(dur(e)/time.Microsecond), 10)
	case kDecimal:
		d := dur(e)
		dst = strconv.AppendInt(dst, int64(d/time.Second), 10)
		dst = append(dst, '.')
		us := int64(d%time.Second) / 1000
		for div := int64(100000); div > 0; div /= 10 {
			dst = append(dst, byte('0'+us/div%10))
		}
		return dst
	case kPid:
		pid := e.Pid
		if pid == 0 {
			pid = os.Getpid()
		}
		dst = append(dst, '<')
		dst = strconv.AppendInt(dst, int64(pid), 10)
		return append(dst, '>')
	case kReqHeader:
		return appendLast(dst, e.RequestHeaders, p.lit)
	case kRespHeader:
		return appendLast(dst, e.ResponseHeaders, p.lit)
	case kEnv:
		if e.Environ != nil {
			if v, ok := e.Environ(p.lit); ok {
				return appendEsc(dst, v)
			}
		}
		return append(dst, '-')
	}
	return append(dst, '-')
}

func dur(e *AccessEntry) time.Duration {
	if e.Duration < 0 {
		return 0
	}
	return e.Duration
}

// appendEsc appends s with every '"' written as '\"', gunicorn's only escape.
func appendEsc[T string | []byte](dst []byte, s T) []byte {
	for {
		i := bytes.IndexByte([]byte(s), '"')
		if i < 0 {
			return append(dst, s...)
		}
		dst = append(dst, s[:i]...)
		dst = append(dst, '\\', '"')
		s = s[i+1:]
	}
}

func nameIs(h *Header, lower string) bool {
	return len(h.Name) == len(lower) && bytes.EqualFold(h.Name, []byte(lower))
}

// appendLast renders the last header called name, or "-".
func appendLast(dst []byte, hs []Header, name string) []byte {
	for i := len(hs) - 1; i >= 0; i-- {
		if nameIs(&hs[i], name) {
			return appendEsc(dst, hs[i].Value)
		}
	}
	return append(dst, '-')
}

// appendJoined renders all headers called name joined with ",", as the
// environ's HTTP_* value is built, or "-".
func appendJoined(dst []byte, hs []Header, name string) []byte {
	found := false
	for i := range hs {
		if nameIs(&hs[i], name) {
			if found {
				dst = append(dst, ',')
			}
			dst = appendEsc(dst, hs[i].Value)
			found = true
		}
	}
	if !found {
		dst = append(dst, '-')
	}
	return dst
}

// appendUser renders the user name of an "Authorization: Basic" header the
// way gunicorn's _get_user does, or "-". Only the first Authorization header
// is read.
func appendUser(dst []byte, hs []Header) []byte {
	for i := range hs {
		if !nameIs(&hs[i], "authorization") {
			continue
		}
		v := hs[i].Value
		if len(v) < 5 || !bytes.EqualFold(v[:5], []byte("basic")) {
			break
		}
		sp := bytes.IndexByte(v, ' ')
		if sp < 0 {
			break
		}
		enc := bytes.TrimSpace(v[sp+1:])
		var stack [256]byte
		buf := stack[:]
		if n := base64.StdEncoding.DecodedLen(len(enc)); n > len(buf) {
			buf = make([]byte, n)
		}
		n, err := base64.StdEncoding.Decode(buf, enc)
		if err != nil {
			break
		}
		user := buf[:n]
		if c := bytes.IndexByte(user, ':'); c >= 0 {
			user = user[:c]
		}
		if len(user) == 0 || !utf8.Valid(user) {
			break
		}
		return appendEsc(dst, user)
	}
	return append(dst, '-')
}

// accessTimeLayout is gunicorn's "[%d/%b/%Y:%H:%M:%S %z]".
const accessTimeLayout = "[02/Jan/2006:15:04:05 -0700]"

// appendTime renders t in local time, reusing the text of the last second
// rendered because every line in a busy second shares it.
func (f *AccessFormat) appendTime(dst []byte, t time.Time) []byte {
	sec := t.Unix()
	if c := f.tcache.Load(); c != nil && c.sec == sec {
		return append(dst, c.b[:c.n]...)
	}
	start := len(dst)
	dst = t.Local().AppendFormat(dst, accessTimeLayout)
	if c := f.tcache.Load(); c == nil || sec > c.sec {
		nc := &cachedTime{sec: sec}
		nc.n = copy(nc.b[:], dst[start:])
		f.tcache.Store(nc)
	}
	return dst
}

// applyWidth applies Python's width, precision and flags to the atom
// rendered at dst[start:]. Widths count characters (code points), as
// Python's do. Precision truncates 's' conversions; for 'd' Python would
// zero-extend instead, which we do not implement.
func applyWidth(dst []byte, start int, p *piece) []byte {
	if p.prec >= 0 && p.conv == 's' {
		n := 0
		for i := range string(dst[start:]) {
			if n == p.prec {
				dst = dst[:start+i]
				break
			}
			n++
		}
	}
	pad := p.width - utf8.RuneCount(dst[start:])
	if pad <= 0 {
		return dst
	}
	if p.left {
		for ; pad > 0; pad-- {
			dst = append(dst, ' ')
		}
		return dst
	}
	fill := byte(' ')
	if p.zero {
		fill = '0'
	}
	old := len(dst)
	for k := 0; k < pad; k++ {
		dst = append(dst, fill)
	}
	copy(dst[start+pad:], dst[start:old])
	for k := start; k < start+pad; k++ {
		dst[k] = fill
	}
	return dst
}
