// Package http1 is the strict HTTP/1.1 request parser of the Go front end.
//
// It accepts exactly what gunicorn 26 accepts and refuses the rest with the
// same exception name and status, so that an application sees the same
// requests behind gonicorn as behind gunicorn, and request smuggling tricks
// that gunicorn refuses are refused here before any worker is involved.
//
// The parser works on a bufio.Reader and reuses its buffers: a Parser is kept
// per connection and a Request per request loop, so the steady state does not
// allocate. Bodies are framed by BodyReader (Content-Length or strict chunked
// decoding with trailers). PROXY protocol v1/v2 preambles are parsed on the
// first request of a connection when enabled.
//
// Texts carried in errors (Error.Msg) mirror gunicorn's exception messages,
// including Python's repr of the offending bytes, and are latin-1 bytes as
// gunicorn writes them; AppendError renders gunicorn's HTML error page.
package http1
