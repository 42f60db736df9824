package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/gonicorn/gonicorn/internal/config"
	"github.com/gonicorn/gonicorn/internal/front"
	"github.com/gonicorn/gonicorn/internal/listen"
	"github.com/gonicorn/gonicorn/internal/logging"
)

// frontListeners wraps bound sockets for the front.
func frontListeners(ls []*listen.Listener, cfg *config.Config, tlsConf *tls.Config) []*front.Listener {
	out := make([]*front.Listener, len(ls))
	for i, l := range ls {
		out[i] = &front.Listener{Listener: l.Listener, Scheme: "http", Protocol: cfg.String("protocol")}
		if tlsConf != nil {
			out[i].Scheme, out[i].TLS = "https", tlsConf
		}
	}
	return out
}

// listenerNames is gunicorn's "Listening at:" list.
func listenerNames(ls []*listen.Listener) string {
	names := make([]string, len(ls))
	for i, l := range ls {
		names[i] = l.String()
	}
	return strings.Join(names, ",")
}

func bind(cfg *config.Config, elog *logging.ErrorLog, tls bool) ([]*listen.Listener, error) {
	opts := listen.Options{
		Backlog:   cfg.Int("backlog"),
		ReusePort: cfg.Bool("reuse_port"),
		Umask:     cfg.Int("umask"),
		TLS:       tls,
		Log:       elog,
	}
	// A master started by USR2 inherits its parent's sockets.
	if v := os.Getenv("GUNICORN_FD"); v != "" {
		os.Unsetenv("GUNICORN_FD")
		var ls []*listen.Listener
		for _, f := range strings.Split(v, ",") {
			fd, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return nil, fmt.Errorf("GUNICORN_FD=%q: %q is not a file descriptor number", v, f)
			}
			l, err := listen.FromFD(fd, opts)
			if err != nil {
				return nil, err
			}
			ls = append(ls, l)
		}
		return ls, nil
	}
	// systemd socket activation wins over --bind, as in gunicorn.
	if os.Getenv("LISTEN_FDS") != "" {
		ls, err := listen.FromSystemd(opts)
		if err != nil || len(ls) > 0 {
			return ls, err
		}
	}
	var addrs []listen.Address
	for _, spec := range cfg.Strings("bind") {
		a, err := listen.Parse(spec)
		if err != nil {
			return nil, err
		}
		addrs = append(addrs, a)
	}
	return listen.Open(addrs, opts)
}
