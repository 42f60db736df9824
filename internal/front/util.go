package front

import (
	"sync"
	"time"

	"github.com/gonicorn/gonicorn/internal/logging"
)

// The Date header changes once a second; format it once a second.
var dateCache struct {
	sync.Mutex
	sec int64
	b   []byte
}

func httpDate() []byte {
	now := time.Now()
	sec := now.Unix()
	dateCache.Lock()
	defer dateCache.Unlock()
	if sec != dateCache.sec {
		dateCache.sec = sec
		dateCache.b = now.UTC().AppendFormat(make([]byte, 0, 32), "Mon, 02 Jan 2006 15:04:05 GMT")
	}
	return dateCache.b
}

func (x *exchange) logAccess() {
	req := x.req
	status := x.status
	if !x.started && status == 0 {
		status = 502
	}
	elapsed := time.Since(x.start)
	if m := x.srv.cfg.Metrics; m != nil {
		m(status, elapsed)
		if !x.srv.cfg.AccessLog.Enabled() {
			return
		}
	}
	hdrs := make([]logging.Header, len(req.Headers))
	for i, h := range req.Headers {
		hdrs[i] = logging.Header{Name: h.Name, Value: h.Value}
	}
	e := logging.AccessEntry{
		RemoteAddr:      x.peer.remoteAddr,
		Method:          req.Method,
		RawURI:          req.Target,
		Path:            unquote(req.Path),
		Query:           req.Query,
		Proto:           protoString(req.Major, req.Minor),
		Status:          status,
		BytesSent:       x.sent,
		RequestHeaders:  hdrs,
		ResponseHeaders: x.respHeader,
		Environ:         x.environLookup,
		Start:           x.start,
		Duration:        elapsed,
		Pid:             x.w.PID(),
	}
	x.srv.cfg.AccessLog.Log(&e)
}

// environLookup serves {name}e atoms from what the front put in the environ.
func (x *exchange) environLookup(key string) (string, bool) {
	req, p := x.req, x.peer
	switch key {
	case "request_method":
		return string(req.Method), true
	case "query_string":
		return string(req.Query), true
	case "raw_uri":
		return string(req.Target), true
	case "path_info":
		return string(unquote(req.Path)), true
	case "script_name":
		return x.srv.cfg.ScriptName, true
	case "server_protocol":
		return protoString(req.Major, req.Minor), true
	case "remote_addr":
		return p.remoteAddr, true
	case "remote_port":
		return p.remotePort, p.remotePort != ""
	case "server_name":
		return p.serverName, true
	case "server_port":
		return p.serverPort, true
	case "wsgi.url_scheme":
		return p.scheme, true
	}
	if len(key) > 5 && key[:5] == "http_" {
		for _, h := range req.Headers {
			if cgiEqual(h.Name, []byte(key[5:])) {
				return string(h.Value), true
			}
		}
	}
	return "", false
}

// logIP is the client address in "Invalid request from ip=" lines.
func (p *peer) logIP() string {
	if p.remoteAddr == "" {
		return "unix"
	}
	return p.remoteAddr
}
