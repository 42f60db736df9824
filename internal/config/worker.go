package config

import (
	"fmt"
	"strings"

	"github.com/gonicorn/gonicorn/internal/pytext"
)

// Worker kinds: the Python-side execution models behind the wire protocol.
const (
	KindSync     = "sync"
	KindGthread  = "gthread"
	KindGevent   = "gevent"
	KindEventlet = "eventlet"
	KindTornado  = "tornado"
	KindASGI     = "asgi"
	KindAiohttp  = "aiohttp"
)

// shortWorkers is gunicorn's SUPPORTED_WORKERS (plus eventlet, which
// gunicorn 26 removed and gonicorn keeps), mapped to a kind.
var shortWorkers = map[string]string{
	"sync":          KindSync,
	"gthread":       KindGthread,
	"gevent":        KindGevent,
	"gevent_wsgi":   KindGevent,
	"gevent_pywsgi": KindGevent,
	"eventlet":      KindEventlet,
	"tornado":       KindTornado,
	"asgi":          KindASGI,
}

// dottedWorkers are the class paths gonicorn runs with its own
// implementation of the same execution model.
var dottedWorkers = map[string]string{
	"gunicorn.workers.sync.SyncWorker":            KindSync,
	"gunicorn.workers.gthread.ThreadWorker":       KindGthread,
	"gunicorn.workers.ggevent.GeventWorker":       KindGevent,
	"gunicorn.workers.ggevent.GeventPyWSGIWorker": KindGevent,
	"gunicorn.workers.geventlet.EventletWorker":   KindEventlet,
	"gunicorn.workers.gtornado.TornadoWorker":     KindTornado,
	"gunicorn.workers.gasgi.ASGIWorker":           KindASGI,
	"uvicorn.workers.UvicornWorker":               KindASGI,
	"uvicorn.workers.UvicornH11Worker":            KindASGI,
	"uvicorn_worker.UvicornWorker":                KindASGI,
	"uvicorn_worker.UvicornH11Worker":             KindASGI,
	"aiohttp.worker.GunicornWebWorker":            KindAiohttp,
	"aiohttp.worker.GunicornUVLoopWebWorker":      KindAiohttp,
	"aiohttp.GunicornWebWorker":                   KindAiohttp,
	"aiohttp.GunicornUVLoopWebWorker":             KindAiohttp,
	"aiohttp.worker.GunicornTokioWebWorker":       KindAiohttp,
}

// ResolveWorkerClass maps a worker_class string to its kind, or returns
// gunicorn's "class uri ... invalid or not found" error.
func ResolveWorkerClass(uri string) (string, error) {
	if rest, ok := strings.CutPrefix(uri, "egg:"); ok {
		dist, name, found := strings.Cut(rest, "#")
		if !found {
			name = "sync"
		}
		if dist == "gunicorn" {
			if k := shortWorkers[name]; k != "" {
				return k, nil
			}
		}
		return "", classError(uri, fmt.Sprintf("ImportError: Entry point ('gunicorn.workers', %s) not found", pytext.Repr(name)))
	}
	if !strings.Contains(uri, ".") {
		name := strings.TrimLeft(uri, "#")
		if k := shortWorkers[name]; k != "" {
			return k, nil
		}
		return "", classError(name, fmt.Sprintf("ImportError: Entry point ('gunicorn.workers', %s) not found", pytext.Repr(name)))
	}
	if k := dottedWorkers[uri]; k != "" {
		return k, nil
	}
	return "", classError(uri, fmt.Sprintf("ImportError: gonicorn runs its own worker implementations and has none for %s; "+
		"use one of: sync, gthread, gevent, eventlet, tornado, asgi, uvicorn.workers.UvicornWorker, aiohttp.GunicornWebWorker",
		pytext.Repr(uri)))
}

func classError(uri, detail string) *Error {
	msg := fmt.Sprintf("class uri %s invalid or not found: \n\n[Traceback (most recent call last):\n%s\n]", pytext.Repr(uri), detail)
	return &Error{Code: 1, Setting: "worker_class", Output: "\nError: " + msg + "\n\n", msg: "class uri " + pytext.Repr(uri) + " invalid or not found"}
}

// isSyncString is gunicorn's test for the sync → gthread switch: only a
// string value equal to sync or ending in SyncWorker.
func isSyncString(v any) bool {
	s, ok := v.(string)
	return ok && (s == "sync" || strings.HasSuffix(s, "SyncWorker"))
}

func (c *Config) resolveWorker() (string, error) {
	v := c.values["worker_class"]
	if isSyncString(v) && c.Int("threads") > 1 {
		return KindGthread, nil
	}
	switch x := v.(type) {
	case string:
		return ResolveWorkerClass(x)
	case Callable:
		path := x.Module + "." + x.Qualname
		if k := dottedWorkers[path]; k != "" {
			return k, nil
		}
		return "", classError(x.Repr, fmt.Sprintf("ImportError: gonicorn runs its own worker implementations and cannot use the class %s from the config file; "+
			"name a supported worker class instead (sync, gthread, gevent, eventlet, tornado, asgi, uvicorn.workers.UvicornWorker, aiohttp.GunicornWebWorker)", x.Repr))
	}
	return ResolveWorkerClass("sync")
}

// WorkerKind is the execution model to run: sync, gthread, gevent,
// eventlet, tornado, asgi or aiohttp. Parse has already rejected classes
// that have none.
func (c *Config) WorkerKind() string {
	k, err := c.resolveWorker()
	if err != nil {
		return ""
	}
	return k
}

// WorkerClassDisplay is what "Using worker: X" prints: the configured
// string ("gthread" when sync is switched by threads > 1), or a config-file
// class's __name__.
func (c *Config) WorkerClassDisplay() string {
	v := c.values["worker_class"]
	if isSyncString(v) && c.Int("threads") > 1 {
		return "gthread"
	}
	switch x := v.(type) {
	case string:
		return x
	case Callable:
		q := x.Qualname
		return q[strings.LastIndex(q, ".")+1:]
	}
	return "sync"
}
