// Package worker is the Go side of one Python worker: its channel, the
// request streams open on it, and its lifecycle state.
//
// One goroutine per worker reads frames from the channel and queues each on
// the stream it belongs to; the goroutine serving that request's client
// connection consumes the queue. The reader never blocks on a client, so a
// slow client holds only memory, never a Python worker.
//
// Writes to an ASGI worker go through a second goroutine, the flusher,
// which Serve starts and joins: it sends the frames of many connections
// in one write, so one wake-up of the asyncio worker reads them all.
package worker
