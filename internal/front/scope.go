package front

import (
	"strconv"
	"unicode/utf8"

	"github.com/gonicorn/gonicorn/internal/front/http1"
	"github.com/gonicorn/gonicorn/internal/wire"
)

// scopeFields is the length of the ASGI head tuple (docs/protocol.md,
// "Request head (ASGI kind)").
const scopeFields = 12

// appendScope appends the ASGI head: a marshal tuple of the scope's values in
// the documented order. A tuple, not a dict: the worker loads it in a third
// of the time and builds the scope dict with constant keys. The worker adds
// asgi, state and extensions.
func appendScope(dst []byte, req *http1.Request, p *peer, rootPath string, websocket bool, subprotocols []string) []byte {
	scheme := p.scheme
	if req.Scheme != "" {
		scheme = req.Scheme
	}
	typ := "http"
	if websocket {
		typ = "websocket"
		if scheme == "https" {
			scheme = "wss"
		} else {
			scheme = "ws"
		}
	}
	dst = wire.AppendTupleStart(dst, scopeFields)
	dst = wire.AppendStr(dst, typ)
	switch {
	case req.Major == 2:
		dst = wire.AppendStr(dst, "2")
	case req.Minor == 0:
		dst = wire.AppendStr(dst, "1.0")
	default:
		dst = wire.AppendStr(dst, "1.1")
	}
	if websocket { // a websocket scope has no method (ASGI spec)
		dst = wire.AppendNone(dst)
	} else {
		dst = wire.AppendLatin1(dst, req.Method)
	}
	dst = wire.AppendStr(dst, scheme)
	dst = appendUTF8(dst, unquote(req.Path))
	dst = wire.AppendBytes(dst, req.Path)
	dst = wire.AppendBytes(dst, req.Query)
	dst = wire.AppendStr(dst, rootPath)
	dst = wire.AppendListStart(dst, len(req.Headers))
	for _, h := range req.Headers {
		dst = wire.AppendTupleStart(dst, 2)
		dst = appendLowerBytes(dst, h.Name)
		dst = wire.AppendBytes(dst, h.Value)
	}
	switch pi := req.Proxy; {
	case pi != nil && pi.ClientAddr.IsValid():
		dst = appendHostPort(dst, pi.ClientAddr.String(), strconv.Itoa(int(pi.ClientPort)))
	case p.remoteAddr != "":
		dst = appendHostPort(dst, p.remoteAddr, p.remotePort)
	default:
		dst = wire.AppendNone(dst)
	}
	if p.serverPort != "" {
		dst = appendHostPort(dst, p.serverName, p.serverPort)
	} else {
		dst = wire.AppendNone(dst)
	}
	if !websocket {
		return wire.AppendNone(dst)
	}
	dst = wire.AppendListStart(dst, len(subprotocols))
	for _, s := range subprotocols {
		dst = wire.AppendStr(dst, s)
	}
	return dst
}

func appendHostPort(dst []byte, host, port string) []byte {
	n, _ := strconv.Atoi(port)
	dst = wire.AppendTupleStart(dst, 2)
	dst = wire.AppendStr(dst, host)
	return wire.AppendInt(dst, int32(n))
}

// appendUTF8 appends b as a str: UTF-8 when it is valid, else latin-1 (the
// decoded path of a request whose escapes are not UTF-8).
func appendUTF8(dst, b []byte) []byte {
	if !utf8.Valid(b) {
		return wire.AppendLatin1(dst, b)
	}
	n := len(b)
	dst = append(dst, 'u', byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
	return append(dst, b...)
}

// appendLowerBytes appends a marshal bytes object holding name lower-cased,
// as ASGI requires for header names.
func appendLowerBytes(dst, name []byte) []byte {
	n := len(name)
	dst = append(dst, 's', byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
	for _, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
