package front

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2"

	"github.com/gonicorn/gonicorn/internal/dispatch"
	"github.com/gonicorn/gonicorn/internal/front/http1"
)

// H2Config carries gunicorn's --http2-* tunables.
type H2Config struct {
	MaxConcurrentStreams uint32
	InitialWindowSize    int32
	MaxFrameSize         uint32
	MaxHeaderListSize    uint32
	// Cleartext accepts prior-knowledge h2c from forwarded_allow_ips peers
	// (--http2-cleartext prior-knowledge|both).
	Cleartext bool
}

// h2Preface is the client connection preface of RFC 9113 §3.4.
var h2Preface = []byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")

func (s *Server) h2Server() *http2.Server {
	h := s.cfg.H2
	srv := &http2.Server{
		MaxConcurrentStreams: h.MaxConcurrentStreams,
		MaxReadFrameSize:     h.MaxFrameSize,
		IdleTimeout:          s.cfg.KeepAlive + 60*time.Second,
	}
	if h.InitialWindowSize > 0 {
		srv.MaxUploadBufferPerStream = h.InitialWindowSize
	}
	return srv
}

// serveH2 runs an HTTP/2 connection; each stream is served on its own
// goroutine by x/net/http2, so the streams of one connection run
// concurrently across workers.
func (c *conn) serveH2(rw net.Conn) {
	s := c.s
	base := &http.Server{ErrorLog: nil}
	if n := s.cfg.H2.MaxHeaderListSize; n > 0 {
		base.MaxHeaderBytes = int(n)
	}
	s.h2.ServeConn(rw, &http2.ServeConnOpts{
		BaseConfig: base,
		Handler:    http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { c.serveH2Stream(w, r) }),
	})
}

// bufferedConn replays bytes the HTTP/1 reader already buffered (the h2c
// preface) before reading from the socket.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufferedConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// isH2Preface reports whether the buffered bytes start an h2c connection.
func (c *conn) isH2Preface() bool {
	b, _ := c.br.Peek(len(h2Preface))
	return bytes.Equal(b, h2Preface)
}

// h2Stream is the sink of one HTTP/2 stream.
type h2Stream struct {
	w   http.ResponseWriter
	r   *http.Request
	req http1.Request
}

func (c *conn) serveH2Stream(w http.ResponseWriter, r *http.Request) {
	st := &h2Stream{w: w, r: r}
	req := &st.req
	req.Method = []byte(r.Method)
	req.Target = []byte(r.RequestURI)
	path, query, _ := strings.Cut(r.RequestURI, "?")
	req.Path, req.Query = []byte(path), []byte(query)
	req.Major, req.Minor = 2, 0
	req.KeepAlive = true
	req.ContentLength = r.ContentLength
	req.Scheme = c.peer.scheme
	req.Headers = append(req.Headers, http1.Header{Name: []byte("Host"), Value: []byte(r.Host)})
	for name, vs := range r.Header {
		// header_map=drop, as for HTTP/1: a name with '_' could pose as
		// another header in the environ.
		if strings.IndexByte(name, '_') >= 0 {
			continue
		}
		for _, v := range vs {
			req.Headers = append(req.Headers, http1.Header{Name: []byte(name), Value: []byte(v)})
		}
	}
	p := c.peer
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		p.remoteAddr, p.remotePort = ap.Addr().Unmap().String(), strconv.Itoa(int(ap.Port()))
	}
	x := &exchange{srv: c.s, req: req, peer: &p, out: st, start: time.Now()}
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		x.body = r.Body
		x.bodyLen = r.ContentLength // -1 when unknown: streamed like chunked
	}
	x.relay(nil, nil, dispatch.Slot{})
}

func (h *h2Stream) head(x *exchange, status []byte, hdrs [][2][]byte) error {
	hd := h.w.Header()
	for _, kv := range hdrs {
		hd.Add(string(kv[0]), string(kv[1]))
	}
	h.w.WriteHeader(x.status)
	return nil
}

func (h *h2Stream) body(x *exchange, b []byte) error {
	_, err := h.w.Write(b)
	return err
}

func (h *h2Stream) flush() error {
	if f, ok := h.w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

func (h *h2Stream) end(x *exchange) error { return nil }

func (h *h2Stream) file(x *exchange, f *os.File, n int64) error {
	_, err := io.Copy(h.w, io.LimitReader(f, n))
	return err
}

func (h *h2Stream) info(status []byte, hdrs [][2][]byte) error {
	code, err := strconv.Atoi(string(status[:min(3, len(status))]))
	if err != nil || code < 100 || code > 199 {
		return nil
	}
	hd := h.w.Header()
	for _, kv := range hdrs {
		hd.Add(string(kv[0]), string(kv[1]))
	}
	h.w.WriteHeader(code)
	for _, kv := range hdrs {
		hd.Del(string(kv[0]))
	}
	return nil
}

func (h *h2Stream) fail(status int, msg string) {
	page := http1.AppendError(nil, &http1.Error{Status: status, Msg: msg})
	if i := bytes.Index(page, []byte("\r\n\r\n")); i >= 0 {
		page = page[i+4:]
	}
	if status == 503 {
		h.w.Header().Set("Retry-After", "1")
	}
	h.w.Header().Set("Content-Type", "text/html")
	h.w.WriteHeader(status)
	h.w.Write(page)
}

func (h *h2Stream) watch() (<-chan struct{}, func()) {
	return h.r.Context().Done(), func() {}
}
