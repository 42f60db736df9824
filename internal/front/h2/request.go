package h2

import (
	"golang.org/x/net/http2/hpack"
)

// Field is one header field. HTTP/2 field names are lower-case.
type Field struct {
	Name, Value string
}

// Request is what a stream's request header block asked for.
type Request struct {
	Method    string
	Scheme    string // empty for CONNECT
	Authority string // :authority, else the first host field
	Path      string // :path as sent (path and query); empty for CONNECT
	// Fields are the regular fields in wire order; cookie crumbs stay
	// separate fields (RFC 9113 §8.2.3).
	Fields []Field
	// ContentLength is the content-length field, or -1 without one.
	ContentLength int64
}

// verdict is what a header block comes to.
type verdict uint8

const (
	verdictOK        verdict = iota
	verdictMalformed         // RFC 9113 §8.1.1: stream error PROTOCOL_ERROR
	verdictTooLarge          // over SETTINGS_MAX_HEADER_LIST_SIZE: 431
)

const (
	havePath = 1 << iota
	haveMethod
	haveScheme
	haveAuthority
)

// builder collects and checks the fields of one header block as the
// HPACK decoder emits them. It does no I/O; Conn feeds it.
type builder struct {
	trailers bool
	maxList  uint32 // 0: no limit
	size     uint64
	fields   []Field // reused from block to block
	req      Request
	have     uint8
	regular  bool // a regular field has been seen: no pseudo-header may follow
	verdict  verdict
	why      string
}

func (b *builder) reset(trailers bool, maxList uint32) {
	fields := b.fields[:0]
	*b = builder{trailers: trailers, maxList: maxList, fields: fields}
	b.req.ContentLength = -1
}

func (b *builder) fail(v verdict, why string) {
	if b.verdict == verdictOK {
		b.verdict, b.why = v, why
	}
}

// add takes one decoded field. It keeps checking after a fault, so that
// the first fault is the one reported, but stops storing fields.
func (b *builder) add(f hpack.HeaderField) {
	b.size += uint64(len(f.Name)) + uint64(len(f.Value)) + 32
	if b.maxList > 0 && b.size > uint64(b.maxList) {
		b.fail(verdictTooLarge, "header list larger than SETTINGS_MAX_HEADER_LIST_SIZE")
	}
	if !validValue(f.Value) {
		b.fail(verdictMalformed, "field value with NUL, CR, LF or surrounding whitespace: "+f.Name)
	}
	if len(f.Name) > 0 && f.Name[0] == ':' {
		b.pseudo(f)
		return
	}
	b.regular = true
	if !validName(f.Name) {
		b.fail(verdictMalformed, "invalid field name (empty, upper-case or not a token)")
		return
	}
	switch f.Name {
	case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade":
		b.fail(verdictMalformed, "connection-specific field "+f.Name)
		return
	case "te":
		if f.Value != "trailers" {
			b.fail(verdictMalformed, `te other than "trailers"`)
			return
		}
	case "content-length":
		n, ok := parseContentLength(f.Value)
		if !ok || (b.req.ContentLength >= 0 && n != b.req.ContentLength) {
			b.fail(verdictMalformed, "invalid content-length")
			return
		}
		if !b.trailers {
			b.req.ContentLength = n
		}
	case "host":
		if b.req.Authority == "" && b.have&haveAuthority == 0 {
			b.req.Authority = f.Value
		}
	}
	if b.verdict == verdictOK {
		b.fields = append(b.fields, Field{Name: f.Name, Value: f.Value})
	}
}

func (b *builder) pseudo(f hpack.HeaderField) {
	if b.trailers {
		b.fail(verdictMalformed, "pseudo-header field in trailers")
		return
	}
	if b.regular {
		b.fail(verdictMalformed, "pseudo-header field after a regular field")
		return
	}
	var bit uint8
	switch f.Name {
	case ":path":
		bit, b.req.Path = havePath, f.Value
	case ":method":
		bit, b.req.Method = haveMethod, f.Value
	case ":scheme":
		bit, b.req.Scheme = haveScheme, f.Value
	case ":authority":
		bit, b.req.Authority = haveAuthority, f.Value
	default:
		// :status is a response field; :protocol needs
		// SETTINGS_ENABLE_CONNECT_PROTOCOL, which we do not send.
		b.fail(verdictMalformed, "unknown or response pseudo-header field "+f.Name)
		return
	}
	if b.have&bit != 0 {
		b.fail(verdictMalformed, "repeated pseudo-header field "+f.Name)
	}
	b.have |= bit
}

// request ends a request header block. endStream is the END_STREAM flag
// of its HEADERS frame: a request that ends there has no body, so a
// content-length above 0 is a mismatch (§8.1.1).
func (b *builder) request(endStream bool) (Request, verdict, string) {
	if b.verdict == verdictOK {
		switch {
		case b.have&haveMethod == 0 || b.req.Method == "":
			b.fail(verdictMalformed, "missing :method")
		case b.req.Method == "CONNECT":
			if b.have&(haveScheme|havePath) != 0 || b.req.Authority == "" {
				b.fail(verdictMalformed, "CONNECT needs :authority and no :scheme or :path")
			}
		case b.have&haveScheme == 0 || b.req.Scheme == "":
			b.fail(verdictMalformed, "missing :scheme")
		case b.have&havePath == 0 || b.req.Path == "":
			b.fail(verdictMalformed, "missing or empty :path")
		case endStream && b.req.ContentLength > 0:
			b.fail(verdictMalformed, "content-length above 0 on a request without DATA")
		}
	}
	if b.verdict != verdictOK {
		return Request{}, b.verdict, b.why
	}
	r := b.req
	r.Fields = make([]Field, len(b.fields))
	copy(r.Fields, b.fields)
	return r, verdictOK, ""
}

// trailerFields ends a trailer block.
func (b *builder) trailerFields() ([]Field, verdict, string) {
	if b.verdict != verdictOK {
		return nil, b.verdict, b.why
	}
	fs := make([]Field, len(b.fields))
	copy(fs, b.fields)
	return fs, verdictOK, ""
}

// validName: a lower-case token (RFC 9110 §5.1, RFC 9113 §8.2.1).
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !tokenLower[s[i]] {
			return false
		}
	}
	return true
}

// validValue: no NUL, CR or LF, no leading or trailing SP/HTAB (§8.2.1).
func validValue(s string) bool {
	if s == "" {
		return true
	}
	if s[0] == ' ' || s[0] == '\t' || s[len(s)-1] == ' ' || s[len(s)-1] == '\t' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 0, '\r', '\n':
			return false
		}
	}
	return true
}

func parseContentLength(s string) (int64, bool) {
	if s == "" || len(s) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

var tokenLower [256]bool

func init() {
	for c := '0'; c <= '9'; c++ {
		tokenLower[c] = true
	}
	for c := 'a'; c <= 'z'; c++ {
		tokenLower[c] = true
	}
	for _, c := range "!#$%&'*+-.^_`|~" {
		tokenLower[c] = true
	}
}
