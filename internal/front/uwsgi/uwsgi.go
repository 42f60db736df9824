package uwsgi

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"net/netip"
	"strconv"

	"github.com/gonicorn/gonicorn/internal/ascii"
	"github.com/gonicorn/gonicorn/internal/front/http1"
)

// MaxVars is gunicorn's MAX_UWSGI_VARS: more pairs than this in one vars
// block is refused as a denial-of-service attempt.
const MaxVars = 1000

// HeaderSize is the size of the packet header before the vars block.
const HeaderSize = 4

// maxRetainedBuf bounds the buffer a Parser keeps between requests; a vars
// block is at most 64 KiB, so this only drops the odd huge one.
const maxRetainedBuf = 16 << 10

// defaultAllow is gunicorn's uwsgi_allow_ips default, used for a nil list.
var defaultAllow, _ = http1.ParseAllowList("uwsgi_allow_ips", []string{"127.0.0.1", "::1"})

// Shared read-only values; the cap limit makes an append copy them.
var (
	defMethod         = []byte("GET")[:3:3]
	defPath           = []byte("/")[:1:1]
	nameContentType   = []byte("CONTENT-TYPE")[:12:12]
	nameContentLength = []byte("CONTENT-LENGTH")[:14:14]
)

// Var is one CGI variable of the vars block. Key and Value alias the
// Parser's buffer and are latin-1 bytes, as gunicorn decodes them.
type Var struct {
	Key, Value []byte
}

// Vars is the vars block of the last request, with the semantics of the
// Python dict gunicorn fills: a repeated key keeps its first position and
// takes its last value.
type Vars struct {
	List      []Var
	Modifier2 byte
}

// Get returns the value of key and whether it was sent.
func (v *Vars) Get(key string) ([]byte, bool) {
	for i := range v.List {
		if string(v.List[i].Key) == key {
			return v.List[i].Value, true
		}
	}
	return nil, false
}

func (v *Vars) set(k, val []byte) {
	for i := range v.List {
		if bytes.Equal(v.List[i].Key, k) {
			v.List[i].Value = val
			return
		}
	}
	v.List = append(v.List, Var{k, val})
}

// Parser reads uwsgi requests from one connection and keeps its buffers
// between requests. It is not safe for concurrent use. The slices it puts
// in a Request alias its buffers (or shared constants) and are valid until
// the next ReadRequest; do not modify them.
type Parser struct {
	// Vars holds the raw variables of the last request read; valid until the
	// next ReadRequest, like the Request's slices.
	Vars   Vars
	buf    []byte // the vars block
	names  []byte // header names rebuilt from HTTP_* keys
	target []byte
}

// ReadRequest reads one request with a throwaway Parser. Use a Parser per
// connection instead to reuse buffers and to see the raw vars.
func ReadRequest(br *bufio.Reader, req *http1.Request, allow *http1.AllowList, peer netip.Addr) error {
	var p Parser
	return p.ReadRequest(br, req, allow, peer)
}

// ReadRequest reads the next request from br into req. allow is
// uwsgi_allow_ips (nil means gunicorn's default, 127.0.0.1 and ::1) and peer
// the client address (the zero Addr for a unix socket, always allowed).
//
// It returns io.EOF when the connection closed cleanly before a request, an
// *http1.Error when gunicorn would refuse the request, or br's error. The
// peer is checked before anything is read, as gunicorn does.
func (p *Parser) ReadRequest(br *bufio.Reader, req *http1.Request, allow *http1.AllowList, peer netip.Addr) error {
	hs := req.Headers[:0]
	*req = http1.Request{Headers: hs, Trailers: req.Trailers[:0], ContentLength: 0}
	p.Vars = Vars{List: p.Vars.List[:0]}
	if cap(p.buf) > maxRetainedBuf {
		p.buf = nil
	}
	p.names = p.names[:0]
	if cap(p.target) > maxRetainedBuf {
		p.target = nil
	}

	if peer.IsValid() {
		if allow == nil {
			allow = &defaultAllow
		}
		if !allow.Contains(peer) {
			return errForbidden(peer)
		}
	}

	head, err := br.Peek(HeaderSize)
	if len(head) < HeaderSize {
		switch {
		case err == io.EOF && len(head) == 0:
			return io.EOF
		case err == io.EOF:
			return errHeader("incomplete header")
		}
		return err
	}
	if head[0] != 0 {
		return &http1.Error{Status: 501, Name: "UnsupportedModifier",
			Msg: "Unsupported uWSGI modifier1: " + strconv.Itoa(int(head[0]))}
	}
	size := int(binary.LittleEndian.Uint16(head[1:3]))
	p.Vars.Modifier2 = head[3]
	br.Discard(HeaderSize)

	if cap(p.buf) < size {
		p.buf = make([]byte, size)
	}
	p.buf = p.buf[:size]
	if _, err := io.ReadFull(br, p.buf); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return errHeader("incomplete vars block")
		}
		return err
	}
	if err := p.parseVars(p.buf); err != nil {
		return err
	}
	p.fill(req)
	return nil
}

// parseVars splits the vars block; the checks and their order are
// gunicorn's _parse_vars.
func (p *Parser) parseVars(data []byte) error {
	pos, count := 0, 0
	for pos < len(data) {
		if count >= MaxVars {
			return errHeader("too many variables")
		}
		if pos+2 > len(data) {
			return errHeader("truncated key size")
		}
		n := int(binary.LittleEndian.Uint16(data[pos:]))
		pos += 2
		if pos+n > len(data) {
			return errHeader("truncated key")
		}
		key := data[pos : pos+n : pos+n]
		pos += n
		if pos+2 > len(data) {
			return errHeader("truncated value size")
		}
		n = int(binary.LittleEndian.Uint16(data[pos:]))
		pos += 2
		if pos+n > len(data) {
			return errHeader("truncated value")
		}
		val := data[pos : pos+n : pos+n]
		pos += n
		p.Vars.set(key, val)
		count++
	}
	return nil
}

// fill is gunicorn's _extract_request_info and set_body_reader.
func (p *Parser) fill(req *http1.Request) {
	req.Major, req.Minor = 1, 1 // gunicorn: "uWSGI is HTTP/1.1 compatible"
	req.Method = defMethod
	req.Path = defPath
	req.KeepAlive = true
	var https, urlScheme []byte
	var haveScheme bool

	// First pass: rebuild header names into one buffer, so that the
	// slices taken in the second pass stay valid.
	for _, v := range p.Vars.List {
		if bytes.HasPrefix(v.Key, []byte("HTTP_")) {
			for _, c := range v.Key[5:] {
				if c == '_' {
					c = '-'
				}
				p.names = append(p.names, c)
			}
		}
	}
	names := p.names
	for _, v := range p.Vars.List {
		switch string(v.Key) {
		case "REQUEST_METHOD":
			req.Method = v.Value
		case "PATH_INFO":
			req.Path = v.Value
		case "QUERY_STRING":
			req.Query = v.Value
		case "HTTPS":
			https = v.Value
		case "wsgi.url_scheme":
			urlScheme, haveScheme = v.Value, true
		case "CONTENT_TYPE":
			req.Headers = append(req.Headers, http1.Header{Name: nameContentType, Value: v.Value})
		case "CONTENT_LENGTH":
			req.Headers = append(req.Headers, http1.Header{Name: nameContentLength, Value: v.Value})
			req.ContentLength = contentLength(v.Value)
		case "HTTP_CONNECTION":
			if ascii.EqualFold(v.Value, "close") {
				req.KeepAlive = false
			}
		}
		if bytes.HasPrefix(v.Key, []byte("HTTP_")) {
			n := len(v.Key) - 5
			req.Headers = append(req.Headers, http1.Header{Name: names[:n:n], Value: v.Value})
			names = names[n:]
		}
	}
	if len(req.Query) > 0 {
		p.target = append(append(append(p.target[:0], req.Path...), '?'), req.Query...)
		req.Target = p.target
	} else {
		req.Target = req.Path
	}
	switch {
	case ascii.EqualFold(https, "on") || ascii.EqualFold(https, "1") || ascii.EqualFold(https, "true"):
		req.Scheme = "https"
	case haveScheme:
		req.Scheme = string(urlScheme)
	}
}

// contentLength is gunicorn's max(int(CONTENT_LENGTH), 0) with a
// ValueError read as 0. Python's int() strips whitespace, takes a sign and
// allows single underscores between digits; values past int64 clamp.
func contentLength(b []byte) int64 {
	b = pyStrip(b)
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
	}
	if len(b) == 0 || b[0] == '_' || b[len(b)-1] == '_' {
		return 0
	}
	var n int64
	prevUnderscore := false
	for _, c := range b {
		switch {
		case c == '_':
			if prevUnderscore {
				return 0
			}
			prevUnderscore = true
			continue
		case c < '0' || c > '9':
			return 0
		}
		prevUnderscore = false
		if n > (math.MaxInt64-9)/10 {
			n = math.MaxInt64 // keep validating the rest
			continue
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		return 0
	}
	return n
}

// pyStrip is str.strip() for a latin-1 string.
func pyStrip(b []byte) []byte {
	isSpace := func(c byte) bool {
		return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f) || c == 0x85 || c == 0xa0
	}
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

func errHeader(msg string) *http1.Error {
	return &http1.Error{Status: 400, Name: "InvalidUWSGIHeader", Msg: "Invalid uWSGI header: " + msg}
}

// errForbidden carries Python's repr of the address string, as gunicorn's
// "%r" does; IP strings never need escaping.
func errForbidden(peer netip.Addr) *http1.Error {
	return &http1.Error{Status: 403, Name: "ForbiddenUWSGIRequest",
		Msg: "uWSGI request from '" + peer.String() + "' not allowed"}
}
