package main

import (
	"crypto/tls"
	"fmt"
	"strings"

	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/front"
	"github.com/gonicorn/gonicorn/internal/front/http1"
	"github.com/gonicorn/gonicorn/internal/logging"
	"github.com/gonicorn/gonicorn/internal/tlsconf"
)

// parserOptions maps the settings onto the HTTP parser's options.
func parserOptions(cfg *config.Config) http1.Options {
	o := http1.DefaultOptions()
	o.Limits = http1.Limits{
		RequestLine: cfg.Int("limit_request_line"),
		Fields:      cfg.Int("limit_request_fields"),
		FieldSize:   cfg.Int("limit_request_field_size"),
	}
	o.PermitObsoleteFolding = cfg.Bool("permit_obsolete_folding")
	o.StripHeaderSpaces = cfg.Bool("strip_header_spaces")
	o.PermitUnconventionalMethod = cfg.Bool("permit_unconventional_http_method")
	o.PermitUnconventionalVersion = cfg.Bool("permit_unconventional_http_version")
	o.CasefoldMethod = cfg.Bool("casefold_http_method")
	o.HeaderMap = cfg.String("header_map")
	o.ProxyProtocol = cfg.String("proxy_protocol")
	o.ForwardedAllowIPs = splitList(cfg.Value("forwarded_allow_ips"))
	o.ProxyAllowIPs = splitList(cfg.Value("proxy_allow_ips"))
	o.ForwarderHeaders = splitList(cfg.Value("forwarder_headers"))
	if m, ok := cfg.Value("secure_scheme_headers").(map[string]any); ok {
		o.SecureSchemeHeaders = map[string]string{}
		for k, v := range m {
			if s, ok := v.(string); ok {
				o.SecureSchemeHeaders[strings.ToUpper(k)] = s
			}
		}
	}
	return o
}

// splitList accepts gunicorn's comma-separated strings and lists alike.
func splitList(v any) []string {
	var out []string
	switch x := v.(type) {
	case string:
		for _, s := range strings.Split(x, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	case []string:
		out = append(out, x...)
	case []any:
		for _, s := range x {
			if str, ok := s.(string); ok {
				out = append(out, str)
			}
		}
	}
	return out
}

// tlsConfig builds the TLS settings when --certfile is given.
func tlsConfig(cfg *config.Config) (*tls.Config, error) {
	if cfg.String("certfile") == "" {
		if cfg.String("keyfile") != "" {
			return nil, fmt.Errorf("keyfile is set but certfile is not: pass --certfile too to serve TLS")
		}
		return nil, nil
	}
	return tlsconf.Build(tlsconf.Options{
		CertFile:      cfg.String("certfile"),
		KeyFile:       cfg.String("keyfile"),
		CACerts:       cfg.String("ca_certs"),
		CertReqs:      cfg.Int("cert_reqs"),
		Ciphers:       cfg.String("ciphers"),
		HTTPProtocols: splitList(cfg.Value("http_protocols")),
	})
}

// h2Config maps the --http2-* settings.
func h2Config(cfg *config.Config) front.H2Config {
	mode := cfg.String("http2_cleartext")
	return front.H2Config{
		MaxConcurrentStreams: uint32(cfg.Int("http2_max_concurrent_streams")),
		InitialWindowSize:    int32(cfg.Int("http2_initial_window_size")),
		MaxFrameSize:         uint32(cfg.Int("http2_max_frame_size")),
		MaxHeaderListSize:    uint32(cfg.Int("http2_max_header_list_size")),
		Cleartext:            mode == "prior-knowledge" || mode == "both",
		Upgrade:              mode == "upgrade" || mode == "both",
	}
}

// wsMaxMessage maps websocket_max_message_size onto the front's limit. A
// message travels to the worker in one frame, so gonicorn cannot honour 0
// (gunicorn's "no limit") or more than front.MaxWSMessage; a value the user
// set that way is capped with a warning (the default, 16 MiB, is capped by
// one byte silently).
func wsMaxMessage(cfg *config.Config, elog *logging.ErrorLog) int {
	v := cfg.Int("websocket_max_message_size")
	if v > 0 && v <= front.MaxWSMessage {
		return v
	}
	if cfg.Source("websocket_max_message_size") != config.FromDefault {
		elog.Warning("websocket_max_message_size %d: gonicorn hands a WebSocket message to the worker in one frame, "+
			"so it accepts at most %d bytes per message; using %d", v, front.MaxWSMessage, front.MaxWSMessage)
	}
	return front.MaxWSMessage
}
