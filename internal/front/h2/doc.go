// Package h2 is gonicorn's HTTP/2 server connection (RFC 9113): the
// preface and SETTINGS exchange, stream states, flow control in both
// directions, HPACK, request validation (RFC 9113 §8), GOAWAY, and the
// h2c upgrade from HTTP/1.1 (RFC 7540 §3.2).
//
// It reads frames with golang.org/x/net/http2's Framer and codes header
// blocks with golang.org/x/net/http2/hpack, but it is not built on
// http2.Server or net/http: which faults are stream errors and which are
// connection errors is decided here, and a stream reaches the front as a
// Stream (request fields, a body reader, a response writer) without
// net/http types on the way.
//
// The pure parts (the stream state table, SETTINGS application, request
// header validation, the HTTP2-Settings header) do no I/O and are table
// tested; Conn wraps them around a net.Conn.
//
// Goroutines: the caller of Serve is the connection's reader; Serve starts
// one writer goroutine and one goroutine per stream running the Handler,
// and joins all of them, and the callbacks of its timers (idle, SETTINGS
// acknowledgement), before it returns. Handler goroutines never touch
// the socket: they queue frames for the writer, which coalesces the
// frames of every stream into one write(2) where it can.
//
// Locking: Conn.mu is the only lock. It guards the stream table, both
// flow-control windows, the HPACK encoder and the output buffer; each
// Stream's sync.Cond uses it. Nothing is called with it held that could
// block on I/O.
package h2
