package http1

import (
	"bytes"
	"fmt"
	"net/netip"
	"strings"

	"github.com/gonicorn/gonicorn/internal/ascii"
)

// gunicorn's hard limits (gunicorn/http/message.py).
const (
	maxRequestLine          = 8190
	maxHeaders              = 32768
	defaultMaxHeaderField   = 8190
	unlimitedRequestLineCap = 1 << 20 // limit_request_line=0 still needs a bound in memory
	maxChunkLine            = 8190    // chunk-size line incl. extensions; gunicorn has no bound
)

// Limits are gunicorn's limit_request_* settings, as configured (the zero
// value of each field is gunicorn's meaning of 0, see NewConfig).
type Limits struct {
	RequestLine int // limit_request_line: 0 = unlimited, >= 8190 clamped to 8190
	Fields      int // limit_request_fields: <= 0 or > 32768 means 32768
	FieldSize   int // limit_request_field_size: 0 (or < 0) means 8190; no upper clamp
}

// Header-map modes (gunicorn's header_map).
const (
	HeaderMapDrop      = "drop"      // headers whose name contains '_' are dropped
	HeaderMapRefuse    = "refuse"    // ... refused with InvalidHeaderName (400)
	HeaderMapDangerous = "dangerous" // ... kept (legacy; may collide in environ)
)

// PROXY protocol modes (gunicorn's proxy_protocol).
const (
	ProxyOff  = "off"
	ProxyV1   = "v1"
	ProxyV2   = "v2"
	ProxyAuto = "auto"
)

// Options are the gunicorn settings the parser obeys. DefaultOptions gives
// gunicorn's defaults; the zero value means the same except for the
// allow-lists, which are then empty (only unix-socket peers trusted).
type Options struct {
	Limits
	PermitObsoleteFolding       bool
	StripHeaderSpaces           bool
	PermitUnconventionalMethod  bool
	PermitUnconventionalVersion bool
	CasefoldMethod              bool
	HeaderMap                   string // drop (default when empty) | refuse | dangerous
	ProxyProtocol               string // off (default when empty) | v1 | v2 | auto
	// ForwardedAllowIPs and ProxyAllowIPs hold IPs, CIDRs or "*".
	ForwardedAllowIPs []string
	ProxyAllowIPs     []string
	// SecureSchemeHeaders maps an upper-cased header name to the value that
	// marks the request as https, honoured from forwarded_allow_ips peers.
	SecureSchemeHeaders map[string]string
	// ForwarderHeaders are names with '_' (e.g. SCRIPT_NAME) that trusted
	// peers may send despite HeaderMap.
	ForwarderHeaders []string
}

// DefaultOptions returns gunicorn 26's defaults.
func DefaultOptions() Options {
	return Options{
		Limits:            Limits{RequestLine: 4094, Fields: 100, FieldSize: 8190},
		HeaderMap:         HeaderMapDrop,
		ProxyProtocol:     ProxyOff,
		ForwardedAllowIPs: []string{"127.0.0.1", "::1"},
		ProxyAllowIPs:     []string{"127.0.0.1", "::1"},
		SecureSchemeHeaders: map[string]string{
			"X-FORWARDED-PROTOCOL": "ssl",
			"X-FORWARDED-PROTO":    "https",
			"X-FORWARDED-SSL":      "on",
		},
		ForwarderHeaders: []string{"SCRIPT_NAME", "PATH_INFO"},
	}
}

const (
	hmDrop = iota
	hmRefuse
	hmDangerous
)

const (
	ppOff = iota
	ppV1
	ppV2
	ppAuto
)

// AllowList is a parsed forwarded_allow_ips / proxy_allow_ips value.
type AllowList struct {
	all      bool
	prefixes []netip.Prefix
}

// ParseAllowList parses IPs, CIDRs and "*".
func ParseAllowList(setting string, items []string) (AllowList, error) {
	var a AllowList
	for _, it := range items {
		it = strings.TrimSpace(it)
		switch {
		case it == "":
		case it == "*":
			a.all = true
		case strings.Contains(it, "/"):
			p, err := netip.ParsePrefix(it)
			if err != nil {
				return a, fmt.Errorf("http1: %s: %q is not an IP network: %v; use a CIDR such as 10.0.0.0/8", setting, it, err)
			}
			a.prefixes = append(a.prefixes, p.Masked())
		default:
			ip, err := netip.ParseAddr(it)
			if err != nil {
				return a, fmt.Errorf("http1: %s: %q is not an IP address: %v; use an IP, a CIDR or '*'", setting, it, err)
			}
			a.prefixes = append(a.prefixes, netip.PrefixFrom(ip, ip.BitLen()))
		}
	}
	return a, nil
}

// Contains reports whether ip is allowed. IPv4-mapped IPv6 addresses match
// their IPv4 form.
func (a *AllowList) Contains(ip netip.Addr) bool {
	if a.all {
		return true
	}
	ip4 := ip.Unmap()
	for _, p := range a.prefixes {
		if p.Contains(ip) || p.Contains(ip4) {
			return true
		}
	}
	return false
}

type schemeHeader struct {
	name, value string
}

// Config is Options validated and prepared for the hot path; share one
// Config between all connections.
type Config struct {
	opts           Options
	lineLimit      int // 0 = unlimited
	fieldsLimit    int
	fieldSizeLimit int
	maxHeaderBuf   int
	headerMap      int
	proxyMode      int
	forwarded      AllowList
	proxyAllow     AllowList
	scheme         []schemeHeader
	forwarders     []string
}

// NewConfig validates o and applies gunicorn's clamping of the limits.
func NewConfig(o Options) (*Config, error) {
	c := &Config{opts: o}
	c.lineLimit = o.RequestLine
	if c.lineLimit < 0 || c.lineLimit >= maxRequestLine {
		c.lineLimit = maxRequestLine
	}
	c.fieldsLimit = o.Fields
	if c.fieldsLimit <= 0 || c.fieldsLimit > maxHeaders {
		c.fieldsLimit = maxHeaders
	}
	c.fieldSizeLimit = o.FieldSize
	if c.fieldSizeLimit <= 0 {
		c.fieldSizeLimit = defaultMaxHeaderField
	}
	c.maxHeaderBuf = c.fieldsLimit*(c.fieldSizeLimit+2) + 4
	switch o.HeaderMap {
	case "", HeaderMapDrop:
		c.headerMap = hmDrop
	case HeaderMapRefuse:
		c.headerMap = hmRefuse
	case HeaderMapDangerous:
		c.headerMap = hmDangerous
	default:
		return nil, fmt.Errorf("http1: header_map %q is not valid; use drop, refuse or dangerous", o.HeaderMap)
	}
	switch o.ProxyProtocol {
	case "", ProxyOff:
		c.proxyMode = ppOff
	case ProxyV1:
		c.proxyMode = ppV1
	case ProxyV2:
		c.proxyMode = ppV2
	case ProxyAuto:
		c.proxyMode = ppAuto
	default:
		return nil, fmt.Errorf("http1: proxy_protocol %q is not valid; use off, v1, v2 or auto", o.ProxyProtocol)
	}
	var err error
	if c.forwarded, err = ParseAllowList("forwarded_allow_ips", o.ForwardedAllowIPs); err != nil {
		return nil, err
	}
	if c.proxyAllow, err = ParseAllowList("proxy_allow_ips", o.ProxyAllowIPs); err != nil {
		return nil, err
	}
	for name, v := range o.SecureSchemeHeaders {
		c.scheme = append(c.scheme, schemeHeader{strings.ToUpper(name), v})
	}
	for _, f := range o.ForwarderHeaders {
		if f = strings.TrimSpace(f); f != "" {
			c.forwarders = append(c.forwarders, strings.ToUpper(f))
		}
	}
	return c, nil
}

// Options returns the options c was built from.
func (c *Config) Options() Options { return c.opts }

// schemeHeader applies secure_scheme_headers: when name is one of them,
// req.Scheme becomes https if value is the configured one, else http. A
// second scheme header that disagrees is gunicorn's "Contradictory scheme
// headers". Only for headers from a trusted peer (forwarded_allow_ips).
func (c *Config) schemeHeader(name, value []byte, req *Request, seen *bool) error {
	for i := range c.scheme {
		sh := &c.scheme[i]
		if len(sh.name) == len(name) && ascii.EqualFold(name, sh.name) {
			scheme := "http"
			if string(value) == sh.value {
				scheme = "https"
			}
			if *seen && scheme != req.Scheme {
				return errSchemeHeaders()
			}
			*seen = true
			req.Scheme = scheme
		}
	}
	return nil
}

// underscoreName decides about a header name holding '_', which could
// pose as another header in the WSGI environ: kept as a forwarder header
// from a trusted peer or with header_map=dangerous, dropped with drop,
// refused (400) with refuse.
func (c *Config) underscoreName(name []byte, trusted bool) (keep bool, err error) {
	switch {
	case trusted && c.isForwarderHeader(name), c.headerMap == hmDangerous:
		return true, nil
	case c.headerMap == hmDrop:
		return false, nil
	}
	return false, errHeaderName(appendUpper(nil, name))
}

func (c *Config) isForwarderHeader(name []byte) bool {
	for _, f := range c.forwarders {
		if f == "*" || ascii.EqualFold(name, f) {
			return true
		}
	}
	return false
}

// ApplyProxyHeaders gives a request whose headers were not read by the
// parser (an HTTP/2 stream) the same treatment: secure_scheme_headers and
// forwarder_headers when peer is trusted, header_map for names with '_'.
// It filters req.Headers in place.
func (c *Config) ApplyProxyHeaders(req *Request, peer netip.Addr) error {
	trusted := !peer.IsValid() || c.forwarded.Contains(peer)
	seen := false
	kept := req.Headers[:0]
	for _, h := range req.Headers {
		if trusted {
			if err := c.schemeHeader(h.Name, h.Value, req, &seen); err != nil {
				return err
			}
		}
		if bytes.IndexByte(h.Name, '_') >= 0 {
			keep, err := c.underscoreName(h.Name, trusted)
			if err != nil {
				return err
			}
			if !keep {
				continue
			}
		}
		kept = append(kept, h)
	}
	req.Headers = kept
	return nil
}
