// Package arbiter is gonicorn's master: it owns the worker table, turns
// signals into actions, keeps the worker count at its target, enforces the
// worker timeout and decides when the server stops and with which exit code.
//
// Signals only enqueue. One goroutine, Run's, reads the signal queue, the
// zygote's reports and the workers' notices, and alone changes the worker
// table; every other goroutine talks to it through those channels.
package arbiter
