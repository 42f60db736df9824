package websocket

import (
	"crypto/sha1"
	"encoding/base64"
	"strconv"

	"github.com/gonicorn/gonicorn/internal/ascii"
	"github.com/gonicorn/gonicorn/internal/front/http1"
)

// acceptGUID is the fixed GUID of RFC 6455 section 1.3.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// Handshake is a validated opening handshake. It owns its fields (nothing aliases the
// parser's buffer), so it may outlive the request.
type Handshake struct {
	Key string // Sec-WebSocket-Key as received (24 base64 characters)
	// Subprotocols lists Sec-WebSocket-Protocol tokens in the client's order of
	// preference (ASGI's scope["subprotocols"]).
	Subprotocols []string
	// Deflate is the permessage-deflate agreement to send in the 101 response, nil
	// when the client offered none or none we can honour. The caller may set
	// ServerNoContextTakeover or ClientNoContextTakeover before AppendAccept (both
	// are the server's choice) to save memory per connection.
	Deflate *DeflateParams
}

// HandshakeError is an upgrade request the server refuses. Status is the HTTP status
// to answer: 400, or 426 for an unsupported Sec-WebSocket-Version (the response then
// carries "Sec-WebSocket-Version: 13"; see [AppendHandshakeError]).
type HandshakeError struct {
	Status int
	Msg    string
}

func (e *HandshakeError) Error() string { return "websocket: handshake refused: " + e.Msg }

func badHandshake(msg string) *HandshakeError { return &HandshakeError{Status: 400, Msg: msg} }

// IsUpgrade reports whether req asks to switch to WebSocket (an Upgrade header naming
// "websocket"). Requests for which it is false are ordinary HTTP requests; the rest
// go through [CheckUpgrade].
func IsUpgrade(req *http1.Request) bool {
	for i := range req.Headers {
		h := &req.Headers[i]
		if h.Is("UPGRADE") && hasToken(h.Value, "websocket") {
			return true
		}
	}
	return false
}

// CheckUpgrade validates a WebSocket opening handshake (RFC 6455 section 4.2.1) and
// negotiates permessage-deflate (RFC 7692). A *HandshakeError says what to answer
// instead of 101.
func CheckUpgrade(req *http1.Request) (*Handshake, error) {
	if string(req.Method) != "GET" {
		return nil, badHandshake("method " + strconv.Quote(string(req.Method)) + " is not GET")
	}
	if req.Major < 1 || (req.Major == 1 && req.Minor < 1) {
		return nil, badHandshake("HTTP/" + strconv.Itoa(req.Major) + "." + strconv.Itoa(req.Minor) + " cannot upgrade; HTTP/1.1 is required")
	}
	if req.Chunked || req.ContentLength > 0 {
		return nil, badHandshake("an upgrade request must not have a body")
	}
	var (
		upgrade, connUpgrade, host bool
		version, key               []byte
		nversion, nkey             int
		h                          = &Handshake{}
		exts                       [][]byte
	)
	for i := range req.Headers {
		f := &req.Headers[i]
		switch {
		case f.Is("HOST"):
			host = true
		case f.Is("UPGRADE"):
			upgrade = upgrade || hasToken(f.Value, "websocket")
		case f.Is("CONNECTION"):
			connUpgrade = connUpgrade || hasToken(f.Value, "upgrade")
		case f.Is("SEC-WEBSOCKET-VERSION"):
			version = f.Value
			nversion++
		case f.Is("SEC-WEBSOCKET-KEY"):
			key = f.Value
			nkey++
		case f.Is("SEC-WEBSOCKET-PROTOCOL"):
			forEachListItem(f.Value, func(item []byte) {
				h.Subprotocols = append(h.Subprotocols, string(item))
			})
		case f.Is("SEC-WEBSOCKET-EXTENSIONS"):
			exts = append(exts, f.Value)
		}
	}
	switch {
	case !upgrade:
		return nil, badHandshake(`no "Upgrade: websocket" header`)
	case !connUpgrade:
		return nil, badHandshake(`the Connection header does not list "upgrade"`)
	case !host:
		return nil, badHandshake("no Host header")
	case nversion == 0:
		return nil, &HandshakeError{Status: 426, Msg: "no Sec-WebSocket-Version header; this server speaks version 13"}
	case nversion > 1 || string(version) != "13":
		return nil, &HandshakeError{Status: 426, Msg: "Sec-WebSocket-Version " + strconv.Quote(string(version)) + " is not supported; this server speaks version 13"}
	case nkey != 1:
		return nil, badHandshake("expected one Sec-WebSocket-Key header, got " + strconv.Itoa(nkey))
	}
	var raw [18]byte
	if n, err := base64.StdEncoding.Decode(raw[:], key); len(key) != 24 || err != nil || n != 16 {
		return nil, badHandshake("Sec-WebSocket-Key " + strconv.Quote(string(key)) + " is not 16 bytes in base64")
	}
	h.Key = string(key)
	for _, v := range exts {
		if h.Deflate != nil {
			break
		}
		h.Deflate = negotiateDeflate(v)
	}
	return h, nil
}

// AcceptKey returns Sec-WebSocket-Accept for key: base64(SHA-1(key + GUID)).
func AcceptKey(key string) string {
	var dst [28]byte
	return string(appendAcceptKey(dst[:0], key))
}

func appendAcceptKey(dst []byte, key string) []byte {
	s := sha1.New()
	s.Write([]byte(key))
	s.Write([]byte(acceptGUID))
	var sum [sha1.Size]byte
	return base64.StdEncoding.AppendEncode(dst, s.Sum(sum[:0]))
}

// AppendAccept appends the whole 101 response to h. subprotocol, when not empty, must
// be one the client offered (ASGI's websocket.accept chooses it). extraHeaders are
// the application's (name, value) pairs, written as given except that a pair with a
// CR, LF or NUL (a response-splitting attempt) or an empty name is left out. deflate enables the
// negotiated permessage-deflate (h.Deflate); without an agreement it does nothing.
// Build the [Reader] and [Writer] with the same choice.
func AppendAccept(dst []byte, h *Handshake, subprotocol string, extraHeaders [][2][]byte, deflate bool) []byte {
	dst = append(dst, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	dst = appendAcceptKey(dst, h.Key)
	dst = append(dst, "\r\n"...)
	if subprotocol != "" && headerSafe([]byte(subprotocol)) {
		dst = append(dst, "Sec-WebSocket-Protocol: "...)
		dst = append(dst, subprotocol...)
		dst = append(dst, "\r\n"...)
	}
	if deflate && h.Deflate != nil {
		dst = append(dst, "Sec-WebSocket-Extensions: "...)
		dst = h.Deflate.appendResponse(dst)
		dst = append(dst, "\r\n"...)
	}
	for _, kv := range extraHeaders {
		if !headerSafe(kv[0]) || !headerSafe(kv[1]) || len(kv[0]) == 0 {
			continue
		}
		dst = append(dst, kv[0]...)
		dst = append(dst, ": "...)
		dst = append(dst, kv[1]...)
		dst = append(dst, "\r\n"...)
	}
	return append(dst, "\r\n"...)
}

// AppendHandshakeError appends the response refusing a handshake: the status of a
// *HandshakeError (400 for any other error), "Sec-WebSocket-Version: 13" with 426,
// and a one-line text body. The connection is to be closed after it.
func AppendHandshakeError(dst []byte, err error) []byte {
	status, msg := 400, err.Error()
	if he, ok := err.(*HandshakeError); ok {
		status = he.Status
	}
	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	if status == 426 {
		dst = append(dst, " Upgrade Required\r\nSec-WebSocket-Version: 13\r\n"...)
	} else {
		dst = append(dst, " Bad Request\r\n"...)
	}
	dst = append(dst, "Connection: close\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(msg)+1), 10)
	dst = append(dst, "\r\n\r\n"...)
	dst = append(dst, msg...)
	return append(dst, '\n')
}

// hasToken reports whether the comma-separated list v holds token, ignoring ASCII case.
func hasToken(v []byte, token string) bool {
	found := false
	forEachListItem(v, func(item []byte) {
		if !found && ascii.EqualFold(item, token) {
			found = true
		}
	})
	return found
}

// forEachListItem calls fn with each non-empty, trimmed element of a comma-separated
// header value (RFC 9110 section 5.6.1).
func forEachListItem(v []byte, fn func([]byte)) {
	for len(v) > 0 {
		i := 0
		for i < len(v) && v[i] != ',' {
			i++
		}
		if item := ascii.TrimOWS(v[:i]); len(item) > 0 {
			fn(item)
		}
		if i == len(v) {
			return
		}
		v = v[i+1:]
	}
}

func headerSafe(b []byte) bool {
	for _, c := range b {
		if c == '\r' || c == '\n' || c == 0 {
			return false
		}
	}
	return true
}
