package front

import (
	"bytes"
	"strconv"

	"github.com/gonicorn/gonicorn/internal/ascii"
	"github.com/gonicorn/gonicorn/internal/front/http1"
	"github.com/gonicorn/gonicorn/internal/wire"
)

// peer is what the front knows about both ends of a connection.
type peer struct {
	remoteAddr string // "" for unix sockets
	remotePort string
	serverName string
	serverPort string // "" for unix sockets: filled from Host as gunicorn does
	scheme     string
}

// appendEnviron appends the marshal dict of the CGI part of a WSGI environ
// (docs/protocol.md, "Request head (WSGI kind)"). It follows gunicorn's
// http/wsgi.py create(): repeated headers joined with ",", SERVER_* from the
// listener (from Host on unix sockets), PATH_INFO percent-decoded.
func appendEnviron(dst []byte, req *http1.Request, p *peer, scriptName string, bodyLen int64) ([]byte, error) {
	dst = wire.AppendDictStart(dst)
	kv := func(k string, v []byte) {
		dst = wire.AppendStr(dst, k)
		dst = wire.AppendLatin1(dst, v)
	}
	kvs := func(k, v string) {
		dst = wire.AppendStr(dst, k)
		dst = wire.AppendLatin1Str(dst, v)
	}
	kv("REQUEST_METHOD", req.Method)
	kv("QUERY_STRING", req.Query)
	kv("RAW_URI", req.Target)
	kvs("SERVER_PROTOCOL", protoString(req.Major, req.Minor))
	scheme := p.scheme
	if req.Scheme != "" {
		scheme = req.Scheme
	}
	kvs("wsgi.url_scheme", scheme)

	var host []byte
	// Headers: most appear once; repeated ones are joined, which needs a
	// look-ahead only when a later header has the same CGI name.
	for i := range req.Headers {
		h := &req.Headers[i]
		switch {
		case ascii.EqualFold(h.Name, "host"):
			if host == nil {
				host = h.Value
			}
		case ascii.EqualFold(h.Name, "content-type"):
			kv("CONTENT_TYPE", h.Value)
			continue
		case ascii.EqualFold(h.Name, "content-length"):
			kv("CONTENT_LENGTH", h.Value)
			continue
		}
		if seenBefore(req.Headers[:i], h.Name) {
			continue
		}
		dst = appendCGIName(dst, h)
		if j := nextSame(req.Headers, i); j < 0 {
			dst = wire.AppendLatin1(dst, h.Value)
		} else {
			var joined []byte
			joined = append(joined, h.Value...)
			for ; j >= 0; j = nextSame(req.Headers, j) {
				joined = append(joined, ',')
				joined = append(joined, req.Headers[j].Value...)
			}
			dst = wire.AppendLatin1(dst, joined)
		}
	}
	switch pi := req.Proxy; {
	case pi != nil && pi.ClientAddr.IsValid():
		// gunicorn's proxy_environ: the PROXY header names the real client.
		kvs("REMOTE_ADDR", pi.ClientAddr.String())
		kvs("REMOTE_PORT", strconv.Itoa(int(pi.ClientPort)))
		kvs("PROXY_PROTOCOL", pi.Protocol)
		kvs("PROXY_ADDR", pi.ProxyAddr.String())
		kvs("PROXY_PORT", strconv.Itoa(int(pi.ProxyPort)))
	case p.remoteAddr != "":
		kvs("REMOTE_ADDR", p.remoteAddr)
		kvs("REMOTE_PORT", p.remotePort)
	default:
		kvs("REMOTE_ADDR", "")
	}
	name, port := p.serverName, p.serverPort
	if port == "" { // unix socket: gunicorn derives SERVER_* from Host
		name, port = "", ""
		if host != nil {
			h, pt, ok := bytes.Cut(host, []byte(":"))
			name = string(h)
			switch {
			case ok:
				port = string(pt)
			case scheme == "https":
				port = "443"
			case scheme == "http":
				port = "80"
			}
		}
	}
	kvs("SERVER_NAME", name)
	kvs("SERVER_PORT", port)

	path := req.Path
	if scriptName != "" {
		if !bytes.HasPrefix(path, []byte(scriptName)) {
			return dst, &configProblem{path: string(path), script: scriptName}
		}
		path = path[len(scriptName):]
	}
	dst = wire.AppendStr(dst, "PATH_INFO")
	dst = wire.AppendLatin1(dst, unquote(path))
	kvs("SCRIPT_NAME", scriptName)
	dst = wire.AppendStr(dst, "gonicorn.body")
	dst = wire.AppendInt(dst, int32(clampBody(bodyLen)))
	return wire.AppendDictEnd(dst), nil
}

func clampBody(n int64) int64 {
	if n > 1<<31-1 {
		return 1<<31 - 1
	}
	return n
}

// configProblem is gunicorn's ConfigurationProblem: a path outside SCRIPT_NAME.
type configProblem struct{ path, script string }

func (e *configProblem) Error() string {
	return "Request path " + strconv.Quote(e.path) + " does not start with SCRIPT_NAME " + strconv.Quote(e.script)
}

func protoString(major, minor int) string {
	switch {
	case major == 1 && minor == 1:
		return "HTTP/1.1"
	case major == 1 && minor == 0:
		return "HTTP/1.0"
	case major == 2:
		return "HTTP/2.0" // as gunicorn's HTTP/2 environ says
	}
	return "HTTP/" + strconv.Itoa(major) + "." + strconv.Itoa(minor)
}

// appendCGIName appends the marshal str "HTTP_" + the upper-cased name
// with '-' as '_' (never called for Content-Type and Content-Length).
func appendCGIName(dst []byte, h *http1.Header) []byte {
	n := 5 + len(h.Name)
	if n < 256 {
		dst = append(dst, 'z', byte(n))
	} else {
		dst = append(dst, 'u', byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
	}
	return h.AppendCGIName(dst)
}

func cgiEqual(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if cgiByte(a[i]) != cgiByte(b[i]) {
			return false
		}
	}
	return true
}

func cgiByte(c byte) byte {
	switch {
	case c == '-':
		return '_'
	case 'a' <= c && c <= 'z':
		return c - ('a' - 'A')
	}
	return c
}

// seenBefore and nextSame find repeats of an HTTP_* name. Content-Type and
// Content-Length are not HTTP_* keys (they become CONTENT_*), so a
// Content_Length header under header_map=dangerous is no repeat of them.
func seenBefore(prev []http1.Header, name []byte) bool {
	for i := range prev {
		if cgiEqual(prev[i].Name, name) && !contentHeader(prev[i].Name) {
			return true
		}
	}
	return false
}

func nextSame(hs []http1.Header, i int) int {
	for j := i + 1; j < len(hs); j++ {
		if cgiEqual(hs[j].Name, hs[i].Name) && !contentHeader(hs[j].Name) {
			return j
		}
	}
	return -1
}

func contentHeader(name []byte) bool {
	return ascii.EqualFold(name, "content-type") || ascii.EqualFold(name, "content-length")
}

// unquote percent-decodes a path as gunicorn's unquote_to_wsgi_str does
// (bytes, then latin-1): invalid escapes stay as they are.
func unquote(p []byte) []byte {
	i := bytes.IndexByte(p, '%')
	if i < 0 {
		return p
	}
	out := make([]byte, 0, len(p))
	out = append(out, p[:i]...)
	for ; i < len(p); i++ {
		c := p[i]
		if c == '%' && i+2 < len(p) {
			if h, ok := unhex(p[i+1]); ok {
				if l, ok := unhex(p[i+2]); ok {
					out = append(out, h<<4|l)
					i += 2
					continue
				}
			}
		}
		out = append(out, c)
	}
	return out
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}
