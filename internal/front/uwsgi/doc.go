// Package uwsgi reads requests in the uWSGI binary protocol, which nginx
// speaks to an upstream configured with uwsgi_pass. It is gunicorn's
// --protocol uwsgi (gunicorn/uwsgi/message.py) for the Go front end.
//
// A request is a 4-byte header (modifier1, little-endian 16-bit size of the
// vars block, modifier2), a vars block of 16-bit-length-prefixed key/value
// pairs (the CGI variables nginx computed) and then CONTENT_LENGTH body
// bytes. Only modifier1 0 (a WSGI request) is accepted, at most 1000 vars.
//
// ReadRequest fills the same http1.Request the HTTP/1 parser fills, so the
// rest of the front (environ, dispatch, access log) does not care which
// protocol the listener speaks. The values follow gunicorn, not the raw
// vars: Method is REQUEST_METHOD (default GET), Path is PATH_INFO (default
// "/", already percent-decoded by nginx; gunicorn decodes it once more),
// Query is QUERY_STRING, Target (RAW_URI) is Path["?"Query] as gunicorn
// builds it, the version is always HTTP/1.1, headers are the HTTP_* vars
// turned back into upper-case names with '_' as '-' plus CONTENT-TYPE and
// CONTENT-LENGTH, and the scheme comes from HTTPS=on|1|true or
// wsgi.url_scheme. The raw vars (REQUEST_URI, SERVER_PROTOCOL, REMOTE_ADDR,
// SERVER_NAME, ...) stay available in Parser.Vars; gunicorn itself takes
// REMOTE_ADDR and SERVER_NAME/PORT from the sockets, not from the vars.
//
// The body is always Content-Length framed (ContentLength is >= 0: a missing
// or invalid CONTENT_LENGTH is 0, as in gunicorn), so http1.NewBodyReader
// reads it. The connection stays open for another request unless the client
// sent "Connection: close" (Request.KeepAlive). Expect100 and Upgrade stay
// unset: nginx answers 100-continue itself and cannot tunnel an upgraded
// connection over uwsgi.
//
// Responses on a uwsgi connection are plain HTTP/1.x responses (status line,
// headers, body) that nginx parses, but never chunked: nginx passes the
// response body through as opaque bytes, so chunk markers would end up in
// the client's body. A response without Content-Length is delimited by
// closing the connection.
//
// Refusals are *http1.Error with gunicorn's exception names, messages and
// codes: InvalidUWSGIHeader (400), UnsupportedModifier (501) and
// ForbiddenUWSGIRequest (403, the peer is not in uwsgi_allow_ips; unix
// socket peers are always allowed). gunicorn's sync worker answers these
// with a bare 500 and its asgi worker just closes the connection; which of
// these the front imitates is its choice.
//
// uwsgi_allow_ips is an http1.AllowList, so it also takes CIDRs and matches
// an IPv4-mapped IPv6 peer (::ffff:127.0.0.1 on a dual-stack listener) by
// its IPv4 form, where gunicorn compares address strings exactly and would
// refuse that peer.
package uwsgi
