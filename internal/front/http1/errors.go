package http1

import (
	"io"
	"strconv"
)

// Error is a request gunicorn would refuse. Name is gunicorn's exception
// class name (e.g. "InvalidHeaderName"), Status the HTTP status gunicorn
// answers with, Msg the exception's str() (latin-1 bytes, as gunicorn has it).
type Error struct {
	Status int
	Name   string
	Msg    string
}

func (e *Error) Error() string { return "http1: " + e.Name + ": " + e.Msg }

// Reason is the reason phrase gunicorn puts in the status line of the error
// page. gunicorn keeps "Bad Request" for 501 (unsupported transfer coding).
func (e *Error) Reason() string {
	switch e.Status {
	case 431:
		return "Request Header Fields Too Large"
	case 403:
		return "Forbidden"
	case 417:
		return "Expectation Failed"
	case 500:
		return "Internal Server Error"
	case 502:
		return "Bad Gateway"
	case 503:
		return "Service Unavailable"
	case 504:
		return "Gateway Timeout"
	}
	return "Bad Request"
}

// Page message: gunicorn's handle_error prefixes some exception texts.
func (e *Error) pageMessage() string {
	switch e.Name {
	case "InvalidRequestLine":
		return "Invalid Request Line '" + e.Msg + "'"
	case "InvalidRequestMethod":
		return "Invalid Method '" + e.Msg + "'"
	case "InvalidHTTPVersion":
		return "Invalid HTTP Version '" + e.Msg + "'"
	case "LimitRequestHeaders":
		return "Error parsing headers: '" + e.Msg + "'"
	case "InvalidProxyLine":
		return "'" + e.Msg + "'"
	case "ForbiddenProxyRequest":
		return "Request forbidden"
	}
	return e.Msg
}

// AppendError appends gunicorn's error response for e to dst: status line,
// Connection: close, Content-Type: text/html, Content-Length and the small
// HTML page with the html-escaped message.
func AppendError(dst []byte, e *Error) []byte {
	reason := e.Reason()
	var body []byte
	body = append(body, "<html>\n  <head>\n    <title>"...)
	body = append(body, reason...)
	body = append(body, "</title>\n  </head>\n  <body>\n    <h1><p>"...)
	body = append(body, reason...)
	body = append(body, "</p></h1>\n    "...)
	body = appendHTMLEscape(body, e.pageMessage())
	body = append(body, "\n  </body>\n</html>\n"...)

	dst = append(dst, "HTTP/1.1 "...)
	dst = strconv.AppendInt(dst, int64(e.Status), 10)
	dst = append(dst, ' ')
	dst = append(dst, reason...)
	dst = append(dst, "\r\nConnection: close\r\nContent-Type: text/html\r\nContent-Length: "...)
	dst = strconv.AppendInt(dst, int64(len(body)), 10)
	dst = append(dst, "\r\n\r\n"...)
	return append(dst, body...)
}

// WriteError writes gunicorn's error response for e to w.
func WriteError(w io.Writer, e *Error) error {
	_, err := w.Write(AppendError(nil, e))
	return err
}

// appendHTMLEscape is Python's html.escape(s, quote=True).
func appendHTMLEscape(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '&':
			dst = append(dst, "&amp;"...)
		case '<':
			dst = append(dst, "&lt;"...)
		case '>':
			dst = append(dst, "&gt;"...)
		case '"':
			dst = append(dst, "&quot;"...)
		case '\'':
			dst = append(dst, "&#x27;"...)
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

// pyRepr is Python's repr() of a str decoded from latin-1 bytes; printable
// latin-1 characters stay raw bytes, so the result is latin-1 too.
func pyRepr(b []byte) string { return string(appendRepr(nil, b, false)) }

// pyReprBytes is Python's repr() of a bytes object (b'...').
func pyReprBytes(b []byte) string { return string(appendRepr(nil, b, true)) }

const maxReprInput = 256 // error texts echo at most this much of the input

func appendRepr(dst, b []byte, isBytes bool) []byte {
	if len(b) > maxReprInput {
		b = b[:maxReprInput]
	}
	quote := byte('\'')
	hasSingle, hasDouble := false, false
	for _, c := range b {
		hasSingle = hasSingle || c == '\''
		hasDouble = hasDouble || c == '"'
	}
	if hasSingle && !hasDouble {
		quote = '"'
	}
	if isBytes {
		dst = append(dst, 'b')
	}
	dst = append(dst, quote)
	const hex = "0123456789abcdef"
	for _, c := range b {
		switch {
		case c == '\\' || c == quote:
			dst = append(dst, '\\', c)
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c < 0x20 || c == 0x7f,
			isBytes && c >= 0x80,
			c >= 0x80 && c <= 0xa0, c == 0xad: // not str.isprintable()
			dst = append(dst, '\\', 'x', hex[c>>4], hex[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, quote)
}

func newErr(status int, name, msg string) *Error { return &Error{Status: status, Name: name, Msg: msg} }

func errRequestLine(line []byte) *Error {
	return newErr(400, "InvalidRequestLine", "Invalid HTTP request line: "+pyRepr(line))
}
func errMethod(m []byte) *Error {
	return newErr(400, "InvalidRequestMethod", "Invalid HTTP method: "+pyRepr(m))
}
func errVersion(v string) *Error {
	return newErr(400, "InvalidHTTPVersion", "Invalid HTTP Version: "+v)
}
func errHeader(h []byte) *Error {
	return newErr(400, "InvalidHeader", "Invalid HTTP Header: "+pyRepr(h))
}
func errHeaderName(h []byte) *Error {
	return newErr(400, "InvalidHeaderName", "Invalid HTTP header name: "+pyRepr(h))
}
func errObsFold(h []byte) *Error {
	return newErr(400, "ObsoleteFolding", "Obsolete line folding is unacceptable: "+pyRepr(h))
}
func errLimitHeaders(msg string) *Error { return newErr(431, "LimitRequestHeaders", msg) }
func errLimitLine(size, max int) *Error {
	return newErr(400, "LimitRequestLine", "Request Line is too large ("+strconv.Itoa(size)+" > "+strconv.Itoa(max)+")")
}
func errNoMoreData(buf []byte) *Error {
	return newErr(400, "NoMoreData", "No more data after: "+pyReprBytes(buf))
}
func errUnsupportedCoding(v []byte) *Error {
	return newErr(501, "UnsupportedTransferCoding", "Unsupported transfer coding: "+pyRepr(v))
}
func errChunkSize(b []byte) *Error {
	return newErr(400, "InvalidChunkSize", "Invalid chunk size: "+pyReprBytes(b))
}
func errChunkExt(b []byte) *Error {
	return newErr(400, "InvalidChunkExtension", "Invalid chunk extension: "+pyReprBytes(b))
}
func errChunkTerm(b []byte) *Error {
	return newErr(400, "ChunkMissingTerminator", "Invalid chunk terminator is not '\\r\\n': "+pyReprBytes(b))
}
func errProxyLine(line []byte) *Error {
	return newErr(400, "InvalidProxyLine", "Invalid PROXY line: "+pyRepr(line))
}
func errProxyHeader(msg string) *Error {
	return newErr(400, "InvalidProxyHeader", "Invalid PROXY header: "+pyRepr([]byte(msg)))
}
func errForbiddenProxy(host string) *Error {
	return newErr(403, "ForbiddenProxyRequest", "Proxy request from "+pyRepr([]byte(host))+" not allowed")
}
func errExpectation(v []byte) *Error {
	return newErr(417, "ExpectationFailed", "Unable to comply with expectation: "+pyRepr(v))
}
