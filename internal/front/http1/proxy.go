package http1

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net/netip"
	"strconv"
)

var ppV2Signature = []byte("\r\n\r\n\x00\r\nQUIT\n")

const maxProxyV1Line = 107 - 2 // the PROXY v1 spec's maximum, without CRLF

// readProxy consumes a PROXY v1/v2 preamble when one is present and the mode
// accepts it; anything else is left for the request parser.
func (p *Parser) readProxy(br *bufio.Reader) error {
	mode := p.cfg.proxyMode
	head, _ := br.Peek(12)
	switch {
	case (mode == ppV2 || mode == ppAuto) && bytes.Equal(head, ppV2Signature):
		if err := p.proxyAccess(); err != nil {
			return err
		}
		return p.readProxyV2(br)
	case (mode == ppV1 || mode == ppAuto) && len(head) >= 6 && string(head[:6]) == "PROXY ":
		if err := p.proxyAccess(); err != nil {
			return err
		}
		return p.readProxyV1(br)
	}
	return nil
}

func (p *Parser) proxyAccess() error {
	if p.peer.IsValid() && !p.cfg.proxyAllow.Contains(p.peer) {
		return errForbiddenProxy(p.peer.String())
	}
	return nil
}

func (p *Parser) readProxyV1(br *bufio.Reader) error {
	s, e, err := p.readLine(br, maxProxyV1Line)
	if err == errTooLong {
		return errProxyLine(p.buf[s:e])
	}
	if err != nil {
		return p.eofErr(err, 0)
	}
	line := p.buf[s:e]
	var bits [6][]byte
	n := 0
	for rest := line; ; {
		if n == len(bits) {
			return errProxyLine(line)
		}
		i := bytes.IndexByte(rest, ' ')
		if i < 0 {
			bits[n] = rest
			n++
			break
		}
		bits[n], rest = rest[:i], rest[i+1:]
		n++
	}
	if n != 6 {
		return errProxyLine(line)
	}
	proto := string(bits[1])
	if proto != "TCP4" && proto != "TCP6" {
		return newErr(400, "InvalidProxyLine", "Invalid PROXY line: "+pyRepr([]byte("protocol '"+proto+"' not supported")))
	}
	src, err1 := netip.ParseAddr(string(bits[2]))
	dst, err2 := netip.ParseAddr(string(bits[3]))
	if err1 != nil || err2 != nil || src.Zone() != "" || dst.Zone() != "" ||
		(proto == "TCP4") != src.Is4() || (proto == "TCP4") != dst.Is4() {
		return errProxyLine(line)
	}
	sport, ok1 := parsePort(bits[4])
	dport, ok2 := parsePort(bits[5])
	if !ok1 || !ok2 {
		return errProxyLine([]byte("invalid port " + string(line)))
	}
	p.proxy = ProxyInfo{Protocol: proto, ClientAddr: src, ClientPort: sport, ProxyAddr: dst, ProxyPort: dport}
	p.hasProxy = true
	return nil
}

func parsePort(b []byte) (uint16, bool) {
	if len(b) == 0 || len(b) > 5 {
		return 0, false
	}
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
	}
	n, err := strconv.Atoi(string(b))
	if err != nil || n > 65535 {
		return 0, false
	}
	return uint16(n), true
}

func (p *Parser) readProxyV2(br *bufio.Reader) error {
	hdr, err := br.Peek(16)
	if err != nil {
		return p.eofErr(io.ErrUnexpectedEOF, 0)
	}
	verCmd, famProto := hdr[12], hdr[13]
	length := int(binary.BigEndian.Uint16(hdr[14:16]))
	if v := verCmd >> 4; v != 2 {
		return errProxyHeader("unsupported version " + strconv.Itoa(int(v)))
	}
	cmd := verCmd & 0x0f
	if cmd > 1 {
		return errProxyHeader("unsupported command " + strconv.Itoa(int(cmd)))
	}
	br.Discard(16)
	start := len(p.buf)
	p.buf = append(p.buf, make([]byte, length)...)
	if _, err := io.ReadFull(br, p.buf[start:]); err != nil {
		return p.eofErr(io.ErrUnexpectedEOF, 0)
	}
	addr := p.buf[start:]
	if cmd == 0 { // LOCAL: a health check from the proxy itself
		p.proxy = ProxyInfo{Protocol: "LOCAL"}
		p.hasProxy = true
		return nil
	}
	if famProto&0x0f != 1 {
		return errProxyHeader("only TCP protocol is supported")
	}
	switch famProto >> 4 {
	case 1:
		if length < 12 {
			return errProxyHeader("insufficient address data for IPv4")
		}
		p.proxy = ProxyInfo{Protocol: "TCP4",
			ClientAddr: netip.AddrFrom4([4]byte(addr[0:4])), ProxyAddr: netip.AddrFrom4([4]byte(addr[4:8])),
			ClientPort: binary.BigEndian.Uint16(addr[8:10]), ProxyPort: binary.BigEndian.Uint16(addr[10:12])}
	case 2:
		if length < 36 {
			return errProxyHeader("insufficient address data for IPv6")
		}
		p.proxy = ProxyInfo{Protocol: "TCP6",
			ClientAddr: netip.AddrFrom16([16]byte(addr[0:16])), ProxyAddr: netip.AddrFrom16([16]byte(addr[16:32])),
			ClientPort: binary.BigEndian.Uint16(addr[32:34]), ProxyPort: binary.BigEndian.Uint16(addr[34:36])}
	default:
		return errProxyHeader("unsupported address family " + strconv.Itoa(int(famProto>>4)))
	}
	p.hasProxy = true
	return nil
}
