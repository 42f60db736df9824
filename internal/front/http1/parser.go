package http1

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"strconv"

	"github.com/gonicorn/gonicorn/internal/ascii"
)

// Header is one header (or trailer) field. Name is as received; Value has
// surrounding SP/HTAB removed (and obs-fold lines joined with one space when
// permitted). Both alias the Parser's buffer and stay valid until the next
// ReadRequest on the same Parser.
type Header struct {
	Name, Value []byte
}

// Is reports whether the name equals upper (an upper-case ASCII name),
// ignoring ASCII case.
func (h *Header) Is(upper string) bool { return ascii.EqualFold(h.Name, upper) }

// AppendUpperName appends the name upper-cased, as gunicorn reports it.
func (h *Header) AppendUpperName(dst []byte) []byte { return appendUpper(dst, h.Name) }

// AppendCGIName appends the WSGI environ key: "HTTP_" + upper-cased name with
// '-' replaced by '_' (CONTENT_TYPE and CONTENT_LENGTH take no prefix).
func (h *Header) AppendCGIName(dst []byte) []byte {
	if !h.Is("CONTENT-TYPE") && !h.Is("CONTENT-LENGTH") {
		dst = append(dst, "HTTP_"...)
	}
	for _, c := range h.Name {
		switch {
		case c == '-':
			c = '_'
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

// ProxyInfo is what a PROXY protocol preamble said about the connection.
type ProxyInfo struct {
	Protocol   string // "TCP4", "TCP6" or "LOCAL" (v2 LOCAL command: no addresses)
	ClientAddr netip.Addr
	ClientPort uint16
	ProxyAddr  netip.Addr
	ProxyPort  uint16
}

// Request is one parsed request head. Byte slices alias the Parser's buffer
// and stay valid until the next ReadRequest on the same Parser.
type Request struct {
	Method   []byte
	Target   []byte // raw request-target (RAW_URI)
	Path     []byte
	Query    []byte
	Fragment []byte
	Major    int
	Minor    int
	Headers  []Header // wire order, minus headers dropped by header_map=drop

	ContentLength int64 // -1 when the request has no Content-Length
	Chunked       bool
	KeepAlive     bool   // per version, the first Connection header and forced closes
	Expect100     bool   // "Expect: 100-continue" on HTTP/1.1
	Upgrade       []byte // value of the Upgrade header, if any
	Scheme        string // "http" or "https" (TLS, or secure_scheme_headers from a trusted peer)
	Proxy         *ProxyInfo
	Trailers      []Header // filled by the BodyReader of a chunked body
}

func (r *Request) reset() {
	hs, ts := r.Headers[:0], r.Trailers[:0]
	*r = Request{Headers: hs, Trailers: ts, ContentLength: -1}
}

// Parser reads requests from one connection. It is not safe for concurrent use.
type Parser struct {
	cfg      *Config
	peer     netip.Addr
	tls      bool
	trusted  bool // peer may send secure scheme headers and forwarder headers
	nreq     int
	buf      []byte
	proxy    ProxyInfo
	hasProxy bool
	// schemeSeen: a secure scheme header was seen in this request
	schemeSeen bool
	body       BodyReader
}

// NewParser returns a Parser for a connection from peer (the zero Addr means
// a unix socket, which gunicorn always trusts).
func NewParser(cfg *Config, peer netip.Addr, tls bool) *Parser {
	p := &Parser{}
	p.Reset(cfg, peer, tls)
	return p
}

// Reset prepares p for a new connection, keeping its buffers.
func (p *Parser) Reset(cfg *Config, peer netip.Addr, tls bool) {
	p.cfg, p.peer, p.tls = cfg, peer, tls
	p.trusted = !peer.IsValid() || cfg.forwarded.Contains(peer)
	p.nreq = 0
	p.hasProxy = false
	p.proxy = ProxyInfo{}
	p.body = BodyReader{}
}

const maxRetainedBuf = 64 << 10

var errTooLong = errors.New("http1: line too long")

// ReadRequest reads one request head into req, reusing req's slices. It
// returns io.EOF when the connection closed cleanly before a request, an
// *Error when gunicorn would refuse the request, or the reader's error. Read
// the body with p.Body before calling ReadRequest again.
func (p *Parser) ReadRequest(br *bufio.Reader, req *Request) error {
	req.reset()
	if cap(p.buf) > maxRetainedBuf {
		p.buf = nil
	}
	p.buf = p.buf[:0]
	p.body = BodyReader{}
	p.schemeSeen = false
	p.nreq++
	if _, err := br.Peek(1); err != nil {
		return err
	}
	cfg := p.cfg
	if p.nreq == 1 && cfg.proxyMode != ppOff {
		if err := p.readProxy(br); err != nil {
			return err
		}
		p.buf = p.buf[:0]
	}
	if p.hasProxy {
		req.Proxy = &p.proxy
	}

	limit := cfg.lineLimit
	max := limit
	if max == 0 {
		max = unlimitedRequestLineCap
	}
	s, e, err := p.readLine(br, max)
	if err != nil {
		if err == errTooLong {
			if e-s > max { // complete line
				return errLimitLine(e-s, max)
			}
			return errLimitLine(e-s+br.Buffered(), max)
		}
		return p.eofErr(err, 0)
	}
	if err := p.parseRequestLine(req, s, e); err != nil {
		return err
	}
	req.Scheme = "http"
	if p.tls {
		req.Scheme = "https"
	}
	if err := p.readFields(br, req, false); err != nil {
		if err == io.ErrUnexpectedEOF {
			return errNoMoreData(p.buf)
		}
		return err
	}
	return p.frame(req)
}

// eofErr turns an EOF in the middle of a request into gunicorn's NoMoreData.
func (p *Parser) eofErr(err error, from int) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errNoMoreData(p.buf[from:])
	}
	return err
}

// readLine appends one line to p.buf and returns its bounds without the
// CRLF. Like gunicorn, only CRLF ends a line: a bare LF stays in the line
// (and is refused later as a control character). A line longer than max
// returns errTooLong with e = end of what was read.
func (p *Parser) readLine(br *bufio.Reader, max int) (s, e int, err error) {
	s = len(p.buf)
	for {
		chunk, err := br.ReadSlice('\n')
		p.buf = append(p.buf, chunk...)
		n := len(p.buf)
		if err == nil {
			if n-s >= 2 && p.buf[n-2] == '\r' {
				if n-2 > s && n-2-s > max {
					return s, n - 2, errTooLong
				}
				return s, n - 2, nil
			}
		} else if err != bufio.ErrBufferFull {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return s, n, err
		}
		if n-s-2 > max {
			return s, n, errTooLong
		}
	}
}

func (p *Parser) parseRequestLine(req *Request, s, e int) error {
	line := p.buf[s:e]
	sp1 := bytes.IndexByte(line, ' ')
	if sp1 < 0 {
		return errRequestLine(line)
	}
	sp2 := bytes.IndexByte(line[sp1+1:], ' ')
	if sp2 < 0 {
		return errRequestLine(line)
	}
	sp2 += sp1 + 1
	method, target, version := line[:sp1], line[sp1+1:sp2], line[sp2+1:]

	cfg := p.cfg
	if !cfg.opts.PermitUnconventionalMethod {
		for _, c := range method {
			if ('a' <= c && c <= 'z') || c == '#' {
				return errMethod(method)
			}
		}
		if len(method) < 3 || len(method) > 20 {
			return errMethod(method)
		}
	}
	if !isToken(method) {
		return errMethod(method)
	}
	if cfg.opts.CasefoldMethod {
		for i, c := range method {
			if 'a' <= c && c <= 'z' {
				method[i] = c - ('a' - 'A')
			}
		}
	}
	req.Method = method

	if len(target) == 0 {
		return errRequestLine(line)
	}
	for _, c := range target {
		if c < 0x20 || c == 0x7f {
			return errRequestLine(line)
		}
	}
	req.Target = target
	if !splitTarget(req, method, target) {
		return errRequestLine(line)
	}

	if len(version) != 8 || string(version[:5]) != "HTTP/" || version[6] != '.' ||
		!isDigit(version[5]) || !isDigit(version[7]) {
		return errVersion(pyRepr(version))
	}
	req.Major, req.Minor = int(version[5]-'0'), int(version[7]-'0')
	if (req.Major != 1 || req.Minor > 1) && !cfg.opts.PermitUnconventionalVersion {
		return errVersion("(" + strconv.Itoa(req.Major) + ", " + strconv.Itoa(req.Minor) + ")")
	}
	return nil
}

// splitTarget checks the request-target form (RFC 9112 §3.2) and splits it
// the way Python's urlsplit does for gunicorn (path, query, fragment).
func splitTarget(req *Request, method, t []byte) bool {
	isConnect := string(method) == "CONNECT"
	switch {
	case t[0] == '/':
		if isConnect {
			return false
		}
		splitPQF(req, t)
		return true
	case len(t) == 1 && t[0] == '*':
		if string(method) != "OPTIONS" {
			return false
		}
		req.Path = t
		return true
	}
	// urlsplit's scheme: ASCII letter, then letters, digits, '+', '-', '.'
	scheme := -1
	if i := bytes.IndexByte(t, ':'); i > 0 && isAlpha(t[0]) {
		scheme = i
		for _, c := range t[:i] {
			if !isAlpha(c) && !isDigit(c) && c != '+' && c != '-' && c != '.' {
				scheme = -1
				break
			}
		}
	}
	if isConnect {
		if !validAuthority(t) {
			return false
		}
		if scheme > 0 {
			t = t[scheme+1:]
		}
		splitPQF(req, t)
		return true
	}
	// absolute-form: scheme "://" authority [path]
	if scheme <= 0 || len(t) < scheme+3 || t[scheme+1] != '/' || t[scheme+2] != '/' {
		return false
	}
	rest := t[scheme+3:]
	end := len(rest)
	for i, c := range rest {
		if c == '/' || c == '?' || c == '#' {
			end = i
			break
		}
	}
	netloc := rest[:end]
	if len(netloc) == 0 || !validNetloc(netloc) {
		return false
	}
	splitPQF(req, rest[end:])
	return true
}

func splitPQF(req *Request, s []byte) {
	if i := bytes.IndexByte(s, '#'); i >= 0 {
		req.Fragment = s[i+1:]
		s = s[:i]
	}
	if i := bytes.IndexByte(s, '?'); i >= 0 {
		req.Query = s[i+1:]
		s = s[:i]
	}
	req.Path = s
}

// validNetloc applies urlsplit's bracket checks: brackets must pair and
// enclose an IPv6 address.
func validNetloc(n []byte) bool {
	o, c := bytes.IndexByte(n, '['), bytes.IndexByte(n, ']')
	if o < 0 && c < 0 {
		return true
	}
	if o < 0 || c < 0 || c < o {
		return false
	}
	ip, err := netip.ParseAddr(string(n[o+1 : c]))
	return err == nil && ip.Is6() && ip.Zone() == ""
}

// validAuthority checks RFC 9112 authority-form: host ":" port.
func validAuthority(t []byte) bool {
	var host, port []byte
	if t[0] == '[' {
		c := bytes.IndexByte(t, ']')
		if c < 0 || c+1 >= len(t) || t[c+1] != ':' {
			return false
		}
		ip, err := netip.ParseAddr(string(t[1:c]))
		if err != nil || !ip.Is6() || ip.Zone() != "" {
			return false
		}
		port = t[c+2:]
	} else {
		i := bytes.LastIndexByte(t, ':')
		if i <= 0 {
			return false
		}
		host, port = t[:i], t[i+1:]
		for _, c := range host {
			if !isRegNameChar(c) {
				return false
			}
		}
	}
	if len(port) == 0 || len(port) > 5 {
		return false
	}
	for _, c := range port {
		if !isDigit(c) {
			return false
		}
	}
	return true
}

// pending is a header whose value may still be continued by obs-fold lines.
type pending struct {
	active         bool
	ns, ne, vs, ve int
	length         int // gunicorn's header_length: line bytes incl. CRLF
}

// readFields reads header (or trailer) lines up to the empty line and
// applies gunicorn's parse_headers rules. EOF returns io.ErrUnexpectedEOF.
func (p *Parser) readFields(br *bufio.Reader, req *Request, trailer bool) error {
	cfg := p.cfg
	start := len(p.buf)
	var pend pending
	for {
		s, e, err := p.readLine(br, cfg.fieldSizeLimit-2)
		if err == errTooLong {
			// An over-long physical line fails the field size check whatever
			// the rest of it is; earlier lines are judged first.
			if first := p.buf[s]; pend.active && (first == ' ' || first == '\t') {
				if !cfg.opts.PermitObsoleteFolding {
					return errObsFold(appendUpper(nil, p.buf[pend.ns:pend.ne]))
				}
			} else if pend.active {
				if err := p.finish(req, &pend, trailer); err != nil {
					return err
				}
			}
			return errLimitHeaders("limit request headers fields size")
		}
		if err != nil {
			return err
		}
		if len(p.buf)-start > cfg.maxHeaderBuf {
			return errLimitHeaders("max buffer headers")
		}
		line := p.buf[s:e]
		if len(line) == 0 {
			if pend.active {
				return p.finish(req, &pend, trailer)
			}
			return nil
		}
		if pend.active && (line[0] == ' ' || line[0] == '\t') {
			if !cfg.opts.PermitObsoleteFolding {
				return errObsFold(appendUpper(nil, p.buf[pend.ns:pend.ne]))
			}
			pend.length += len(line) + 2
			if pend.length > cfg.fieldSizeLimit {
				return errLimitHeaders("limit request headers fields size")
			}
			part := ascii.TrimOWS(line)
			// Join in place: the folded value only ever shrinks.
			p.buf[pend.ve] = ' '
			n := copy(p.buf[pend.ve+1:], part)
			pend.ve += 1 + n
			continue
		}
		if pend.active {
			if err := p.finish(req, &pend, trailer); err != nil {
				return err
			}
		}
		n := len(req.Headers)
		if trailer {
			n = len(req.Trailers)
		}
		if n >= cfg.fieldsLimit {
			return errLimitHeaders("limit request headers fields")
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 {
			return errHeader(line)
		}
		name := line[:colon]
		if cfg.opts.StripHeaderSpaces {
			name = trimRightSPHT(name)
		}
		if !isToken(name) {
			return errHeaderName(name)
		}
		vs, ve := colon+1, len(line)
		for vs < ve && (line[vs] == ' ' || line[vs] == '\t') {
			vs++
		}
		for ve > vs && (line[ve-1] == ' ' || line[ve-1] == '\t') {
			ve--
		}
		pend = pending{active: true, ns: s, ne: s + len(name), vs: s + vs, ve: s + ve, length: len(line) + 2}
	}
}

// finish applies the per-field checks once a field's value is complete.
func (p *Parser) finish(req *Request, pend *pending, trailer bool) error {
	cfg := p.cfg
	pend.active = false
	name, value := p.buf[pend.ns:pend.ne], p.buf[pend.vs:pend.ve]
	if hasCTL(value) {
		return errHeader(appendUpper(nil, name))
	}
	if pend.length > cfg.fieldSizeLimit {
		return errLimitHeaders("limit request headers fields size")
	}
	if !trailer {
		if ascii.EqualFold(name, "EXPECT") {
			if ascii.EqualFold(value, "100-CONTINUE") {
				if req.Major > 1 || (req.Major == 1 && req.Minor >= 1) {
					req.Expect100 = true
				}
			} else {
				return errExpectation(value)
			}
		}
		if p.trusted {
			if err := cfg.schemeHeader(name, value, req, &p.schemeSeen); err != nil {
				return err
			}
		}
	}
	if bytes.IndexByte(name, '_') >= 0 {
		if keep, err := cfg.underscoreName(name, !trailer && p.trusted); !keep {
			return err
		}
	}
	if trailer {
		if forbiddenTrailer(name) {
			return errHeaderName(appendUpper(nil, name))
		}
		req.Trailers = append(req.Trailers, Header{Name: name, Value: value})
		return nil
	}
	req.Headers = append(req.Headers, Header{Name: name, Value: value})
	return nil
}

// frame applies gunicorn's set_body_reader and should_close rules.
func (p *Parser) frame(req *Request) error {
	var (
		cl                  []byte
		clSeen, chunked     bool
		mustClose, connSeen bool
		hosts, ctypes       int
		closeConn           = req.Major < 1 || (req.Major == 1 && req.Minor == 0)
	)
	for i := range req.Headers {
		h := &req.Headers[i]
		switch len(h.Name) {
		case 4:
			if h.Is("HOST") {
				if hosts++; hosts > 1 {
					return errHeader([]byte("HOST"))
				}
			}
		case 7:
			if h.Is("UPGRADE") {
				req.Upgrade = h.Value
			}
		case 10:
			if !connSeen && h.Is("CONNECTION") {
				connSeen = true
				switch {
				case ascii.EqualFold(h.Value, "CLOSE"):
					closeConn = true
				case ascii.EqualFold(h.Value, "KEEP-ALIVE"):
					closeConn = false
				}
			}
		case 12:
			if h.Is("CONTENT-TYPE") {
				if ctypes++; ctypes > 1 {
					return errHeader([]byte("CONTENT-TYPE"))
				}
			}
		case 14:
			if h.Is("CONTENT-LENGTH") {
				if clSeen {
					return errHeader([]byte("CONTENT-LENGTH"))
				}
				clSeen, cl = true, h.Value
			}
		case 17:
			if h.Is("TRANSFER-ENCODING") {
				v := h.Value
				for {
					var tok []byte
					if i := bytes.IndexByte(v, ','); i >= 0 {
						tok, v = v[:i], v[i+1:]
					} else {
						tok, v = v, nil
					}
					tok = ascii.TrimOWS(tok)
					switch {
					case ascii.EqualFold(tok, "CHUNKED"):
						if chunked {
							return errHeader([]byte("TRANSFER-ENCODING"))
						}
						chunked = true
					case ascii.EqualFold(tok, "IDENTITY"):
						if chunked {
							return errHeader([]byte("TRANSFER-ENCODING"))
						}
					case ascii.EqualFold(tok, "GZIP"), ascii.EqualFold(tok, "DEFLATE"), ascii.EqualFold(tok, "COMPRESS"):
						if chunked {
							return errHeader([]byte("TRANSFER-ENCODING"))
						}
						mustClose = true
					default:
						return errUnsupportedCoding(h.Value)
					}
					if v == nil {
						break
					}
				}
			}
		}
	}
	if chunked {
		if req.Major < 1 || (req.Major == 1 && req.Minor < 1) {
			return errHeader([]byte("TRANSFER-ENCODING"))
		}
		if clSeen {
			return errHeader([]byte("CONTENT-LENGTH"))
		}
		req.Chunked = true
	} else if clSeen {
		if len(cl) == 0 || len(cl) > 18 {
			return errHeader([]byte("CONTENT-LENGTH"))
		}
		var n int64
		for _, c := range cl {
			if !isDigit(c) {
				return errHeader([]byte("CONTENT-LENGTH"))
			}
			n = n*10 + int64(c-'0')
		}
		req.ContentLength = n
	}
	req.KeepAlive = !mustClose && !closeConn
	return nil
}

func errSchemeHeaders() *Error {
	return &Error{Status: 400, Name: "InvalidSchemeHeaders", Msg: "Contradictory scheme headers"}
}

// forbiddenTrailer lists fields that must not be sent in a trailer (RFC 9110
// §6.5.1): framing, routing, request modifiers, authentication and
// connection-specific fields.
func forbiddenTrailer(name []byte) bool {
	switch len(name) {
	case 2:
		return ascii.EqualFold(name, "TE")
	case 4:
		return ascii.EqualFold(name, "HOST")
	case 5:
		return ascii.EqualFold(name, "RANGE")
	case 6:
		return ascii.EqualFold(name, "COOKIE") || ascii.EqualFold(name, "EXPECT")
	case 7:
		return ascii.EqualFold(name, "TRAILER") || ascii.EqualFold(name, "UPGRADE")
	case 10:
		return ascii.EqualFold(name, "CONNECTION") || ascii.EqualFold(name, "KEEP-ALIVE") ||
			ascii.EqualFold(name, "SET-COOKIE")
	case 12:
		return ascii.EqualFold(name, "MAX-FORWARDS")
	case 13:
		return ascii.EqualFold(name, "AUTHORIZATION") || ascii.EqualFold(name, "CONTENT-RANGE") ||
			ascii.EqualFold(name, "CACHE-CONTROL")
	case 14:
		return ascii.EqualFold(name, "CONTENT-LENGTH")
	case 16:
		return ascii.EqualFold(name, "CONTENT-ENCODING")
	case 17:
		return ascii.EqualFold(name, "TRANSFER-ENCODING")
	case 19:
		return ascii.EqualFold(name, "PROXY-AUTHORIZATION")
	}
	return false
}

// ---- byte classes ----

var tokenTable, valueCTL, regNameTable [256]bool

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		tokenTable[c] = isAlpha(b) || isDigit(b) || bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), b) >= 0
		valueCTL[c] = (c < 0x20 && c != '\t') || c == 0x7f
		regNameTable[c] = isAlpha(b) || isDigit(b) || bytes.IndexByte([]byte("-._~%!$&'()*+,;="), b) >= 0
	}
}

func isToken(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !tokenTable[c] {
			return false
		}
	}
	return true
}

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// hasCTL reports whether b holds a control character other than HTAB, or
// DEL. It checks 8 bytes at a time: values are most of a request's bytes.
func hasCTL(b []byte) bool {
	for len(b) >= 8 {
		x := binary.LittleEndian.Uint64(b)
		lt20 := (x - lsb*0x20) & ^x & msb // some byte < 0x20
		y := x ^ (lsb * 0x7f)
		del := (y - lsb) & ^y & msb // some byte == 0x7f
		if lt20|del != 0 {
			for _, c := range b[:8] {
				if valueCTL[c] {
					return true
				}
			}
		}
		b = b[8:]
	}
	for _, c := range b {
		if valueCTL[c] {
			return true
		}
	}
	return false
}

func isRegNameChar(c byte) bool { return regNameTable[c] }
func isDigit(c byte) bool       { return '0' <= c && c <= '9' }
func isAlpha(c byte) bool       { return ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') }

func appendUpper(dst, b []byte) []byte {
	for _, c := range b {
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}

func trimRightSPHT(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}
