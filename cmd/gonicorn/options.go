package main

import (
	"strings"

	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/front/http1"
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
