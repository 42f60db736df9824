package tlsconf

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// Options are gunicorn's SSL settings, as resolved by the config package.
// The zero value of every field but CertFile is gunicorn's default.
type Options struct {
	CertFile string // certfile: PEM certificate chain, leaf first; may also hold the key
	KeyFile  string // keyfile: PEM private key; "" = the key is in CertFile
	CACerts  string // ca_certs: PEM bundle to verify client certificates; "" = system roots
	CertReqs int    // cert_reqs: 0 none, 1 optional, 2 required
	Ciphers  string // ciphers: OpenSSL cipher list; "" = Go's defaults
	// HTTPProtocols is http_protocols split on ',' ("h1", "h2"); nil = h1.
	HTTPProtocols []string
}

// Client certificate policies of cert_reqs (Python's ssl.CERT_*).
const (
	CertNone     = 0
	CertOptional = 1
	CertRequired = 2
)

// Build returns the server TLS configuration for o. Errors name the setting
// and the file and say what to fix.
func Build(o Options) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}

	cert, err := loadKeyPair(o.CertFile, o.KeyFile)
	if err != nil {
		return nil, err
	}
	cfg.Certificates = []tls.Certificate{cert}

	switch o.CertReqs {
	case CertNone:
		cfg.ClientAuth = tls.NoClientCert
	case CertOptional:
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	case CertRequired:
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	default:
		return nil, fmt.Errorf("tlsconf: cert_reqs %d is not valid; use 0 (no client certificate), 1 (optional) or 2 (required)", o.CertReqs)
	}

	if o.CACerts != "" {
		pem, err := readFile("ca_certs", o.CACerts)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tlsconf: ca_certs '%s': no PEM certificate found; give a file of \"-----BEGIN CERTIFICATE-----\" blocks", o.CACerts)
		}
		cfg.ClientCAs = pool
	}

	if o.Ciphers != "" {
		suites, err := ParseCiphers(o.Ciphers)
		if err != nil {
			return nil, err
		}
		cfg.CipherSuites = suites
	}

	cfg.NextProtos, err = alpn(o.HTTPProtocols)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

// alpn is gunicorn's _get_alpn_protocols: ALPN only when h2 is enabled.
func alpn(protocols []string) ([]string, error) {
	var out []string
	h2 := false
	seen := map[string]bool{}
	for _, p := range protocols {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if seen[p] {
			return nil, fmt.Errorf("tlsconf: http_protocols lists %q twice; give each of h1, h2 once", p)
		}
		seen[p] = true
		switch p {
		case "h1":
			out = append(out, "http/1.1")
		case "h2":
			out = append(out, "h2")
			h2 = true
		default:
			return nil, fmt.Errorf("tlsconf: http_protocols: invalid protocol '%s'; valid protocols: h1, h2", p)
		}
	}
	if !h2 {
		return nil, nil
	}
	return out, nil
}

func loadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	if certFile == "" {
		return tls.Certificate{}, errors.New("tlsconf: certfile is not set; TLS needs --certfile (and --keyfile unless the key is in the certificate file)")
	}
	certPEM, err := readFile("certfile", certFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keySetting, keyPEM := "certfile", certPEM
	if keyFile != "" {
		keySetting = "keyfile"
		if keyPEM, err = readFile("keyfile", keyFile); err != nil {
			return tls.Certificate{}, err
		}
	} else {
		keyFile = certFile
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err == nil {
		return cert, nil
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "certificate input"):
		return cert, fmt.Errorf("tlsconf: certfile '%s': no certificate found (%v); give a PEM file starting with the server certificate", certFile, err)
	case strings.Contains(msg, "key input") || strings.Contains(msg, "PRIVATE KEY"):
		hint := "give the private key with --keyfile"
		if keySetting == "keyfile" {
			hint = "give a PEM private key (unencrypted)"
		}
		return cert, fmt.Errorf("tlsconf: %s '%s': no private key found (%v); %s", keySetting, keyFile, err, hint)
	case strings.Contains(msg, "does not match"):
		return cert, fmt.Errorf("tlsconf: %s '%s' does not match the certificate in certfile '%s'; give the key the certificate was issued for", keySetting, keyFile, certFile)
	}
	return cert, fmt.Errorf("tlsconf: certfile '%s' / %s '%s': %v", certFile, keySetting, keyFile, err)
}

// readFile reads a setting's file with an error naming both.
func readFile(setting, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return b, nil
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("tlsconf: %s '%s': no such file; check the path given to --%s", setting, path, strings.ReplaceAll(setting, "_", "-"))
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("tlsconf: %s '%s': permission denied; make it readable by the user gonicorn starts as", setting, path)
	}
	return nil, fmt.Errorf("tlsconf: %s '%s': %v", setting, path, err)
}
