// Package tlsconf builds the server's *tls.Config from gunicorn's SSL
// settings (certfile, keyfile, ca_certs, cert_reqs, ciphers,
// http_protocols), the way gunicorn's default ssl_context factory builds an
// ssl.SSLContext with ssl.create_default_context(Purpose.CLIENT_AUTH).
//
// What maps and how:
//   - certfile/keyfile: the certificate chain and its key; without keyfile
//     the key is read from certfile, as load_cert_chain does.
//   - ca_certs: the roots client certificates are verified against. When it
//     is unset Go verifies against the system roots, as Python's default
//     context does.
//   - cert_reqs: 0 (CERT_NONE) asks for no client certificate, 1
//     (CERT_OPTIONAL) verifies one if the client sends it, 2 (CERT_REQUIRED)
//     refuses clients without a valid one.
//   - ciphers: an OpenSSL cipher list (names, keywords such as HIGH, ECDHE,
//     AESGCM, '+' for "and", '!', '-' and '+' prefixes, @STRENGTH and
//     @SECLEVEL ignored), evaluated as OpenSSL 3 would, restricted to the
//     TLS 1.2 suites Go implements. Go picks among the selected suites in
//     its own order, so the order of the list does not matter. TLS 1.3
//     suites cannot be configured in Go and are always on; their names are
//     accepted and ignored (OpenSSL's set_ciphers does not touch them
//     either). Names OpenSSL knows but Go lacks (DHE, CCM, CAMELLIA, ARIA,
//     3DES, RC4...) select nothing; a token neither knows is an error, as
//     is a list that selects no suite.
//   - http_protocols: ALPN is offered only when h2 is listed, then with the
//     listed protocols in order (h1 is "http/1.1"), as gunicorn does.
//   - The minimum version is TLS 1.2, Python's default.
//
// do_handshake_on_connect and suppress_ragged_eofs are connection
// behaviour, not part of a tls.Config, and are left to the front: a Go
// tls.Conn handshakes on its first Read or Write unless HandshakeContext is
// called (gunicorn forces the handshake anyway when ALPN is in use), and a
// peer closing without close_notify should be read as end of stream, which
// is gunicorn's default (the CLI cannot turn it off). ssl_version is
// deprecated and ignored by gunicorn itself; ssl_context is a Python hook.
package tlsconf
