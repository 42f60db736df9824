"""TLS on the front: server certificate only, and client certificates (--cert-reqs 2/1 --ca-certs).

Certificates are made per module with the `openssl` CLI (a test CA, a server certificate for
127.0.0.1/localhost, a client certificate from the CA and one from an unrelated CA). Loopback only.
"""
import http.client
import json
import shutil
import socket
import ssl
import subprocess

import pytest

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="needs the openssl CLI to make test certificates")


def _openssl(*args, cwd):
    p = subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, f"openssl {' '.join(args)} failed: {p.stderr}"


def make_pki(d):
    """CA, server and client certificates in directory d; returns a dict of paths."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for ca in ("ca", "rogue"):
        _openssl("req", "-x509", *ec, "-keyout", f"{ca}.key", "-out", f"{ca}.pem", "-days", "2",
                 "-subj", f"/CN=gonicorn test {ca} CA", cwd=d)
    (d / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n")
    (d / "client.ext").write_text("extendedKeyUsage=clientAuth\n")
    for name, ca, ext in (("server", "ca", "server.ext"), ("client", "ca", "client.ext"),
                          ("rogueclient", "rogue", "client.ext")):
        _openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}", cwd=d)
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.pem", "-CAkey", f"{ca}.key",
                 "-CAcreateserial", "-out", f"{name}.pem", "-days", "2", "-extfile", ext, cwd=d)
    return {n: str(d / n) for n in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key",
                                      "rogueclient.pem", "rogueclient.key")}


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return make_pki(tmp_path_factory.mktemp("pki"))


def tls_args(pki, *extra):
    return ["--certfile", pki["server.pem"], "--keyfile", pki["server.key"], *extra, "echo_wsgi:app"]


def client_context(pki, cert=None):
    ctx = ssl.create_default_context(cafile=pki["ca.pem"])
    if cert:
        ctx.load_cert_chain(pki[f"{cert}.pem"], pki[f"{cert}.key"])
    return ctx


def get(srv, ctx, path="/tls?x=1", timeout=10):
    conn = http.client.HTTPSConnection(srv.host, srv.port, context=ctx, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def refused(srv, ctx):
    """Why the request failed, or None when the server answered it (which is the failure)."""
    try:
        status, body = get(srv, ctx)
    except (ssl.SSLError, ConnectionError, http.client.HTTPException, socket.timeout, OSError) as e:
        return repr(e)
    return None if status == 200 else f"status {status}"


def test_tls_serves_https_environ(server, pki):
    srv = server(tls_args(pki))
    status, body = get(srv, client_context(pki), "/tls/path?q=1")
    assert status == 200, body
    env = json.loads(body)["environ"]
    assert env["wsgi.url_scheme"] == "https"
    assert (env["PATH_INFO"], env["QUERY_STRING"]) == ("/tls/path", "q=1")
    # A client without the CA must not accept the server (the certificate really is the one given).
    with pytest.raises(ssl.SSLCertVerificationError):
        get(srv, ssl.create_default_context())


def test_tls_port_does_not_serve_plain_http(server, pki):
    srv = server(tls_args(pki))
    data = srv.raw(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", timeout=5)
    assert b"wsgi.url_scheme" not in data, data[:300]
    assert not data.startswith(b"HTTP/1.1 200"), data[:300]
    # The server is still fine for TLS clients afterwards.
    assert get(srv, client_context(pki))[0] == 200


def test_client_cert_required_accepts_valid_cert(server, pki):
    srv = server(tls_args(pki, "--cert-reqs", "2", "--ca-certs", pki["ca.pem"]))
    status, body = get(srv, client_context(pki, "client"))
    assert status == 200, body
    assert json.loads(body)["environ"]["wsgi.url_scheme"] == "https"


def test_client_cert_required_refuses_missing_and_foreign_cert(server, pki):
    srv = server(tls_args(pki, "--cert-reqs", "2", "--ca-certs", pki["ca.pem"]))
    why = refused(srv, client_context(pki))
    assert why is not None, "a client without a certificate was served under --cert-reqs 2"
    why = refused(srv, client_context(pki, "rogueclient"))
    assert why is not None, "a client certificate from an unknown CA was served under --cert-reqs 2"
    # Refusing those did not break the listener.
    assert get(srv, client_context(pki, "client"))[0] == 200


def test_client_cert_optional(server, pki):
    srv = server(tls_args(pki, "--cert-reqs", "1", "--ca-certs", pki["ca.pem"]))
    assert get(srv, client_context(pki))[0] == 200
    assert get(srv, client_context(pki, "client"))[0] == 200
    assert refused(srv, client_context(pki, "rogueclient")) is not None, \
        "--cert-reqs 1 must still verify a certificate the client does present"
