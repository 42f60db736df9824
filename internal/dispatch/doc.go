// Package dispatch hands requests to workers. Each ready worker contributes
// one slot per request it can run at once (1 for sync, --threads for
// gthread); a request takes a free slot or waits in a bounded queue.
package dispatch
