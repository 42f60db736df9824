// Package control is gonicorn's control socket: the server side of
// gunicorn's `gunicornc` interface (gunicorn 25.1+, gunicorn/ctl), so the
// real gunicornc client drives gonicorn unchanged.
//
// Wire (docs/control.md): each message is a 4-byte big-endian length and
// that many bytes of UTF-8 JSON, at most 16 MiB. A request is
// {"id", "command", "args"}; a reply is {"id", "status": "ok", "data"} or
// {"id", "status": "error", "error"}. A frame that cannot be read or a
// payload that is not a JSON object closes the connection without a
// reply, as gunicorn's server does; a bad command gets an error reply and
// the connection stays open.
//
// The codec (frame.go), the request decoder (request.go) and the command
// parser (command.go) do no I/O. server.go owns the socket and one
// goroutine per client; it never touches the worker table: it asks the
// arbiter through Master, whose implementation enqueues the request on the
// arbiter's loop and waits for the answer.
package control
