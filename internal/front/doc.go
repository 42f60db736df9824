// Package front is gonicorn's HTTP front end: it accepts client
// connections, parses requests with internal/front/http1, turns each into a
// REQUEST frame for a worker slot taken from internal/dispatch, and writes
// the worker's response back with HTTP/1.1 framing, keep-alive and an
// access-log line.
//
// One goroutine serves each HTTP/1 client connection; it is the only
// goroutine that touches that connection. Worker frames reach it through
// the stream queue of internal/worker, so the per-request path has one
// goroutine hand-off in each direction and no per-request goroutines.
// An upgraded connection (an ASGI WebSocket in ws.go, a byte tunnel to a
// tornado or aiohttp app in tunnel.go) adds one goroutine reading the
// client, joined before the connection closes. HTTP/2 connections run on
// internal/front/h2: a reader, a writer and a goroutine per stream.
package front
