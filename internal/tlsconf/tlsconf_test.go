package tlsconf

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type keyCert struct {
	cert *x509.Certificate
	key  any
	der  []byte
}

func (k keyCert) certPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.der})
}

func (k keyCert) keyPEM(t *testing.T) []byte {
	b, err := x509.MarshalPKCS8PrivateKey(k.key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b})
}

var serial int64

// issue makes a certificate for tmpl signed by parent (self-signed when
// parent is nil), with an ECDSA key, or RSA when rsaKey is set.
func issue(t *testing.T, tmpl *x509.Certificate, parent *keyCert, rsaKey bool) keyCert {
	t.Helper()
	var key any
	var pub any
	if rsaKey {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			t.Fatal(err)
		}
		key, pub = k, &k.PublicKey
	} else {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		key, pub = k, &k.PublicKey
	}
	serial++
	tmpl.SerialNumber = big.NewInt(serial)
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(time.Hour)
	signer, signCert := key, tmpl
	if parent != nil {
		signer, signCert = parent.key, parent.cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signCert, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return keyCert{c, key, der}
}

func newCA(t *testing.T, name string) keyCert {
	return issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: name}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}, nil, false)
}

// pki is a CA, a server certificate for 127.0.0.1 (RSA, so the RSA suites
// are usable), a client certificate from the CA and one from another CA,
// all written to dir.
type pki struct {
	dir                                  string
	ca, server, client, bad              keyCert
	caFile, certFile, keyFile, comboFile string
}

func newPKI(t *testing.T) *pki {
	p := &pki{dir: t.TempDir()}
	p.ca = newCA(t, "test CA")
	other := newCA(t, "other CA")
	p.server = issue(t, &x509.Certificate{
		Subject: pkix.Name{CommonName: "server"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, &p.ca, true)
	clientTmpl := func() *x509.Certificate {
		return &x509.Certificate{Subject: pkix.Name{CommonName: "client"},
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	}
	p.client = issue(t, clientTmpl(), &p.ca, false)
	p.bad = issue(t, clientTmpl(), &other, false)
	write := func(name string, parts ...[]byte) string {
		path := filepath.Join(p.dir, name)
		if err := os.WriteFile(path, []byte(strings.Join(func() []string {
			var s []string
			for _, b := range parts {
				s = append(s, string(b))
			}
			return s
		}(), "")), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	p.caFile = write("ca.pem", p.ca.certPEM())
	p.certFile = write("server.pem", p.server.certPEM(), p.ca.certPEM())
	p.keyFile = write("server.key", p.server.keyPEM(t))
	p.comboFile = write("combo.pem", p.server.certPEM(), p.server.keyPEM(t))
	return p
}

func (p *pki) tlsCert(t *testing.T, k keyCert) tls.Certificate {
	c, err := tls.X509KeyPair(k.certPEM(), k.keyPEM(t))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type result struct {
	serverErr error
	clientErr error
	peerCerts int
	state     tls.ConnectionState
}

// handshake runs a server with cfg and a client with ccfg over loopback.
// The client reads one byte so that a TLS 1.3 client-certificate refusal,
// which arrives after the client's handshake, is seen.
func handshake(t *testing.T, cfg, ccfg *tls.Config) result {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan result, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			done <- result{serverErr: err}
			return
		}
		defer c.Close()
		sc := tls.Server(c, cfg)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = sc.HandshakeContext(ctx)
		r := result{serverErr: err}
		if err == nil {
			r.state = sc.ConnectionState()
			r.peerCerts = len(r.state.PeerCertificates)
			sc.Write([]byte("k"))
		}
		done <- r
	}()
	ccfg.ServerName = "127.0.0.1"
	cc, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", l.Addr().String(), ccfg)
	var cerr error
	if err != nil {
		cerr = err
	} else {
		cc.SetDeadline(time.Now().Add(5 * time.Second))
		_, cerr = cc.Read(make([]byte, 1))
		cc.Close()
	}
	r := <-done
	r.clientErr = cerr
	return r
}

func TestClientCerts(t *testing.T) {
	p := newPKI(t)
	roots := x509.NewCertPool()
	roots.AddCert(p.ca.cert)
	tests := []struct {
		reqs     int
		client   string // "", "good", "bad"
		ok       bool
		gotCerts int
	}{
		{CertNone, "", true, 0},
		{CertNone, "good", true, 0}, // not asked: not sent
		{CertNone, "bad", true, 0},
		{CertOptional, "", true, 0},
		{CertOptional, "good", true, 1},
		{CertOptional, "bad", false, 0},
		{CertRequired, "", false, 0},
		{CertRequired, "good", true, 1},
		{CertRequired, "bad", false, 0},
	}
	for _, tc := range tests {
		for _, maxVer := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
			name := map[int]string{0: "none", 1: "optional", 2: "required"}[tc.reqs] + "/" + tc.client + "/" + tls.VersionName(maxVer)
			t.Run(name, func(t *testing.T) {
				cfg, err := Build(Options{CertFile: p.certFile, KeyFile: p.keyFile, CACerts: p.caFile, CertReqs: tc.reqs})
				if err != nil {
					t.Fatal(err)
				}
				ccfg := &tls.Config{RootCAs: roots, MaxVersion: maxVer}
				// GetClientCertificate sends the certificate even when its
				// issuer is not among the CAs the server lists.
				var cert tls.Certificate
				switch tc.client {
				case "good":
					cert = p.tlsCert(t, p.client)
				case "bad":
					cert = p.tlsCert(t, p.bad)
				}
				ccfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
				r := handshake(t, cfg, ccfg)
				if ok := r.serverErr == nil && r.clientErr == nil; ok != tc.ok {
					t.Fatalf("handshake ok = %v (server: %v; client: %v); want %v", ok, r.serverErr, r.clientErr, tc.ok)
				}
				if r.peerCerts != tc.gotCerts {
					t.Errorf("server saw %d client certificates; want %d", r.peerCerts, tc.gotCerts)
				}
				if tc.ok && r.state.Version != maxVer {
					t.Errorf("negotiated %s; want %s", tls.VersionName(r.state.Version), tls.VersionName(maxVer))
				}
			})
		}
	}
}

func TestNegotiation(t *testing.T) {
	p := newPKI(t)
	roots := x509.NewCertPool()
	roots.AddCert(p.ca.cert)
	tests := []struct {
		name      string
		opts      Options
		client    *tls.Config
		ok        bool
		wantProto string
		wantSuite uint16
	}{
		{"key in certfile", Options{CertFile: p.comboFile}, &tls.Config{}, true, "", 0},
		{"h1 only: no ALPN", Options{CertFile: p.comboFile, HTTPProtocols: []string{"h1"}},
			&tls.Config{NextProtos: []string{"h2", "http/1.1"}}, true, "", 0},
		{"h2,h1", Options{CertFile: p.comboFile, HTTPProtocols: []string{"h2", "h1"}},
			&tls.Config{NextProtos: []string{"http/1.1", "h2"}}, true, "h2", 0},
		{"h2,h1 to an h1 client", Options{CertFile: p.comboFile, HTTPProtocols: []string{" H2", "h1 "}},
			&tls.Config{NextProtos: []string{"http/1.1"}}, true, "http/1.1", 0},
		{"cipher chosen", Options{CertFile: p.comboFile, Ciphers: "ECDHE-RSA-AES256-GCM-SHA384"},
			&tls.Config{MaxVersion: tls.VersionTLS12}, true, "", tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384},
		{"RSA key exchange when named", Options{CertFile: p.comboFile, Ciphers: "AES128-GCM-SHA256"},
			&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_GCM_SHA256}}, true, "", tls.TLS_RSA_WITH_AES_128_GCM_SHA256},
		{"cipher refused", Options{CertFile: p.comboFile, Ciphers: "ECDHE+AESGCM"},
			&tls.Config{MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256}}, false, "", 0},
		{"TLS 1.3 ignores ciphers", Options{CertFile: p.comboFile, Ciphers: "ECDHE-RSA-AES256-GCM-SHA384"},
			&tls.Config{}, true, "", 0}, // TLS 1.3 suite chosen by Go
		{"TLS 1.1 refused", Options{CertFile: p.comboFile}, &tls.Config{MaxVersion: tls.VersionTLS11}, false, "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Build(tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			ccfg := tc.client.Clone()
			ccfg.RootCAs = roots
			r := handshake(t, cfg, ccfg)
			if ok := r.serverErr == nil && r.clientErr == nil; ok != tc.ok {
				t.Fatalf("handshake ok = %v (server: %v; client: %v); want %v", ok, r.serverErr, r.clientErr, tc.ok)
			}
			if !tc.ok {
				return
			}
			if r.state.NegotiatedProtocol != tc.wantProto {
				t.Errorf("ALPN: got %q; want %q", r.state.NegotiatedProtocol, tc.wantProto)
			}
			if tc.wantSuite != 0 && r.state.CipherSuite != tc.wantSuite {
				t.Errorf("suite: got %s; want %s", tls.CipherSuiteName(r.state.CipherSuite), tls.CipherSuiteName(tc.wantSuite))
			}
		})
	}
}

func TestBuildErrors(t *testing.T) {
	p := newPKI(t)
	other := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "x"}}, &p.ca, false)
	otherKey := filepath.Join(p.dir, "other.key")
	os.WriteFile(otherKey, other.keyPEM(t), 0o600)
	garbage := filepath.Join(p.dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a pem file\n"), 0o600)
	missing := filepath.Join(p.dir, "missing.pem")
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no certfile", Options{}, "certfile is not set"},
		{"missing certfile", Options{CertFile: missing}, "certfile '" + missing + "': no such file; check the path given to --certfile"},
		{"missing keyfile", Options{CertFile: p.certFile, KeyFile: missing}, "keyfile '" + missing + "': no such file; check the path given to --keyfile"},
		{"missing ca_certs", Options{CertFile: p.comboFile, CACerts: missing}, "ca_certs '" + missing + "': no such file; check the path given to --ca-certs"},
		{"no key anywhere", Options{CertFile: p.certFile}, "certfile '" + p.certFile + "': no private key found"},
		{"garbage certfile", Options{CertFile: garbage, KeyFile: p.keyFile}, "certfile '" + garbage + "': no certificate found"},
		{"garbage keyfile", Options{CertFile: p.certFile, KeyFile: garbage}, "keyfile '" + garbage + "': no private key found"},
		{"wrong key", Options{CertFile: p.certFile, KeyFile: otherKey}, "keyfile '" + otherKey + "' does not match the certificate in certfile '" + p.certFile + "'"},
		{"ca_certs without certificates", Options{CertFile: p.comboFile, CACerts: garbage}, "ca_certs '" + garbage + "': no PEM certificate found"},
		{"cert_reqs 3", Options{CertFile: p.comboFile, CertReqs: 3}, "cert_reqs 3 is not valid; use 0 (no client certificate), 1 (optional) or 2 (required)"},
		{"cert_reqs -1", Options{CertFile: p.comboFile, CertReqs: -1}, "cert_reqs -1 is not valid"},
		{"h3", Options{CertFile: p.comboFile, HTTPProtocols: []string{"h2", "h3"}}, "http_protocols: invalid protocol 'h3'; valid protocols: h1, h2"},
		{"duplicate protocol", Options{CertFile: p.comboFile, HTTPProtocols: []string{"h2", "H2"}}, `http_protocols lists "h2" twice`},
		{"bad cipher", Options{CertFile: p.comboFile, Ciphers: "HIGH:!aNULL:BOGUS"}, "ciphers 'HIGH:!aNULL:BOGUS': unknown cipher or keyword 'BOGUS'"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Build(tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	p := newPKI(t)
	cfg, err := Build(Options{CertFile: p.certFile, KeyFile: p.keyFile})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 || cfg.ClientAuth != tls.NoClientCert || cfg.CipherSuites != nil || cfg.NextProtos != nil || cfg.ClientCAs != nil {
		t.Errorf("got min %x auth %v suites %v protos %v CAs %v; want TLS 1.2, none, nil, nil, nil",
			cfg.MinVersion, cfg.ClientAuth, cfg.CipherSuites, cfg.NextProtos, cfg.ClientCAs)
	}
	if n := len(cfg.Certificates[0].Certificate); n != 2 {
		t.Errorf("chain length %d; want 2 (leaf and CA from certfile)", n)
	}
}
