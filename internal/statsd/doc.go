// Package statsd sends gunicorn's StatsD metrics (--statsd-host) from the Go
// master: request counters and timings, the worker-count gauge and the
// error-log level counters, byte for byte as gunicorn's
// gunicorn/instrument/statsd.py writes them, so dashboards built on
// gunicorn's metrics keep working.
//
// The wire format is one metric per datagram:
//
//	<prefix><name>:<value>|<type>[|@<rate>][|#<tags>]
//
// where type is c (counter, always sent with "|@1.0"), g (gauge), ms
// (timer, milliseconds as a Python float repr) or h (histogram). The
// prefix is --statsd-prefix with exactly one trailing dot, following
// gunicorn's rule (see [NormalizePrefix]); tags are --dogstatsd-tags
// appended verbatim.
//
// The Append* functions only format (no I/O) and are what the tests pin
// against gunicorn's strings. [Client] owns one connected, non-blocking
// datagram socket (UDP, or a unix datagram socket for unix://PATH): a send
// that would block or fails is dropped, as gunicorn drops it, so a missing
// or slow StatsD agent can never stall a request. The Python workers send
// their own gunicorn.log.* counters (gonicorn_runtime/_log.py).
package statsd
