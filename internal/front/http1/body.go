package http1

import (
	"bufio"
	"bytes"
	"io"
)

const (
	bsDone = iota
	bsLength
	bsChunkSize
	bsChunkData
	bsChunkCRLF
	bsTrailers
)

// BodyReader frames a request body: Content-Length bytes, or strict chunked
// decoding (gunicorn's chunk rules) followed by trailers, which it stores in
// the Request's Trailers. Errors are *Error with status 400 (or 431 for
// oversized trailers); a body cut short by EOF is NoMoreData.
type BodyReader struct {
	br    *bufio.Reader
	req   *Request
	p     *Parser
	state int
	n     int64 // bytes left in the body (length) or the current chunk
	err   error
	// truncated: the peer closed before Content-Length bytes arrived
	truncated bool
}

// Body returns the reader for req's body, owned by p and valid until the next
// ReadRequest. A request without Content-Length or chunked coding has an
// empty body, as in gunicorn.
func (p *Parser) Body(br *bufio.Reader, req *Request) *BodyReader {
	p.body = BodyReader{br: br, req: req, p: p}
	p.body.init()
	return &p.body
}

// NewBodyReader is Body for callers without a Parser (it allocates one).
func NewBodyReader(br *bufio.Reader, req *Request, cfg *Config) *BodyReader {
	p := &Parser{cfg: cfg}
	return p.Body(br, req)
}

func (b *BodyReader) init() {
	switch {
	case b.req.Chunked:
		b.state = bsChunkSize
	case b.req.ContentLength > 0:
		b.state, b.n = bsLength, b.req.ContentLength
	default:
		b.state = bsDone
	}
}

// Done reports whether the whole body (and trailers) has been read, so the
// connection may be reused.
func (b *BodyReader) Done() bool { return b.state == bsDone && b.err == nil && !b.truncated }

// Truncated reports whether a Content-Length body ended early at EOF. Like
// gunicorn, Read then returns io.EOF after the bytes that did arrive; the
// connection cannot be reused.
func (b *BodyReader) Truncated() bool { return b.truncated }

// Discard reads and drops the rest of the body.
func (b *BodyReader) Discard() error {
	for b.state != bsDone && b.err == nil {
		switch b.state {
		case bsLength, bsChunkData:
			n, err := b.br.Discard(int(min(b.n, 1<<30)))
			b.n -= int64(n)
			if err == io.EOF && b.state == bsLength {
				b.truncated, b.state = true, bsDone
				return nil
			}
			if err != nil {
				return b.fail(b.p.eofErr(err, len(b.p.buf)))
			}
			if b.n == 0 {
				b.advance()
			}
		default:
			if _, err := b.Read(nil); err != nil && err != io.EOF {
				return err
			}
		}
	}
	return b.err
}

func (b *BodyReader) fail(err error) error {
	b.err = err
	return err
}

func (b *BodyReader) advance() {
	if b.state == bsLength {
		b.state = bsDone
	} else {
		b.state = bsChunkCRLF
	}
}

func (b *BodyReader) Read(dst []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	for {
		switch b.state {
		case bsDone:
			return 0, io.EOF
		case bsLength, bsChunkData:
			if len(dst) == 0 {
				return 0, nil
			}
			if int64(len(dst)) > b.n {
				dst = dst[:b.n]
			}
			n, err := b.br.Read(dst)
			b.n -= int64(n)
			if b.n == 0 {
				b.advance()
			}
			if n > 0 {
				return n, nil
			}
			if err == nil {
				continue
			}
			if err == io.EOF && b.state == bsLength {
				// gunicorn's LengthReader ends a Content-Length body quietly
				// at EOF and hands the short body to the app.
				b.truncated, b.state = true, bsDone
				return 0, io.EOF
			}
			if err == io.EOF {
				return 0, b.fail(errNoMoreData(nil))
			}
			return 0, b.fail(err)
		case bsChunkCRLF:
			got, err := b.br.Peek(2)
			if len(got) < 2 || got[0] != '\r' || got[1] != '\n' {
				if err != nil && err != io.EOF {
					return 0, b.fail(err)
				}
				return 0, b.fail(errChunkTerm(got))
			}
			b.br.Discard(2)
			b.state = bsChunkSize
		case bsChunkSize:
			if err := b.readChunkSize(); err != nil {
				return 0, b.fail(err)
			}
		case bsTrailers:
			if err := b.p.readFields(b.br, b.req, true); err != nil {
				if err == io.ErrUnexpectedEOF {
					err = errChunkTerm(nil)
				}
				return 0, b.fail(err)
			}
			b.state = bsDone
		}
	}
}

func (b *BodyReader) readChunkSize() error {
	p := b.p
	mark := len(p.buf)
	defer func() { p.buf = p.buf[:mark] }()
	s, e, err := p.readLine(b.br, maxChunkLine)
	if err == errTooLong {
		if bytes.IndexByte(p.buf[s:e], ';') >= 0 {
			return errChunkExt(p.buf[s:e])
		}
		return errChunkSize(p.buf[s:e])
	}
	if err != nil {
		return p.eofErr(err, mark)
	}
	size := p.buf[s:e]
	if i := bytes.IndexByte(size, ';'); i >= 0 {
		ext := size[i+1:]
		// RFC 9112 §7.1.1: BWS is allowed before an extension only.
		size = trimRightSPHT(size[:i])
		for _, c := range ext {
			if valueCTL[c] {
				return errChunkExt(ext)
			}
		}
	}
	if len(size) == 0 {
		return errChunkSize(size)
	}
	var n int64
	digits := 0
	for _, c := range size {
		var d byte
		switch {
		case '0' <= c && c <= '9':
			d = c - '0'
		case 'a' <= c && c <= 'f':
			d = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			d = c - 'A' + 10
		default:
			return errChunkSize(size)
		}
		if n > 0 || d > 0 {
			digits++
		}
		n = n<<4 | int64(d)
	}
	if digits > 15 { // would not fit in int64; no client sends such chunks
		return errChunkSize(size)
	}
	if n == 0 {
		b.state = bsTrailers
		return nil
	}
	b.state, b.n = bsChunkData, n
	return nil
}
