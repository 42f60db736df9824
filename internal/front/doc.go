// Package front is gonicorn's HTTP front end: it accepts client
// connections, parses requests with internal/front/http1, turns each into a
// REQUEST frame for a worker slot taken from internal/dispatch, and writes
// the worker's response back with HTTP/1.1 framing, keep-alive and an
// access-log line.
//
// One goroutine serves each client connection; it is the only goroutine
// that touches that connection. Worker frames reach it through the
// stream queue of internal/worker, so the per-request path has one
// goroutine hand-off in each direction and no per-request goroutines.
package front
