package tlsconf

import (
	"crypto/tls"
	"fmt"
	"strings"
)

// Attribute bits of a suite, named after OpenSSL's cipher keywords.
const (
	kRSA uint32 = 1 << iota
	kECDHE
	aRSA
	aECDSA
	encAES128
	encAES256
	encAESGCM
	encCHACHA20
	macSHA1
	macSHA256
	macAEAD
	protoTLS12 // "TLSv1.2"
	protoTLS1  // "TLSv1", "TLSv1.0": the ECDHE CBC-SHA suites
	protoSSL3  // "SSLv3": the RSA CBC-SHA suites
)

type suite struct {
	openssl string
	id      uint16
	attrs   uint32
}

// suites are the TLS 1.2 suites Go implements that OpenSSL 3 still offers
// (Debian's OpenSSL 3 has neither 3DES nor RC4), with OpenSSL's names.
var suites = []suite{
	{"ECDHE-ECDSA-AES128-GCM-SHA256", tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, kECDHE | aECDSA | encAES128 | encAESGCM | macAEAD | protoTLS12},
	{"ECDHE-RSA-AES128-GCM-SHA256", tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, kECDHE | aRSA | encAES128 | encAESGCM | macAEAD | protoTLS12},
	{"ECDHE-ECDSA-AES256-GCM-SHA384", tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, kECDHE | aECDSA | encAES256 | encAESGCM | macAEAD | protoTLS12},
	{"ECDHE-RSA-AES256-GCM-SHA384", tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, kECDHE | aRSA | encAES256 | encAESGCM | macAEAD | protoTLS12},
	{"ECDHE-ECDSA-CHACHA20-POLY1305", tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, kECDHE | aECDSA | encCHACHA20 | macAEAD | protoTLS12},
	{"ECDHE-RSA-CHACHA20-POLY1305", tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, kECDHE | aRSA | encCHACHA20 | macAEAD | protoTLS12},
	{"ECDHE-ECDSA-AES128-SHA256", tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256, kECDHE | aECDSA | encAES128 | macSHA256 | protoTLS12},
	{"ECDHE-RSA-AES128-SHA256", tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256, kECDHE | aRSA | encAES128 | macSHA256 | protoTLS12},
	{"ECDHE-ECDSA-AES128-SHA", tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, kECDHE | aECDSA | encAES128 | macSHA1 | protoTLS1},
	{"ECDHE-RSA-AES128-SHA", tls.TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, kECDHE | aRSA | encAES128 | macSHA1 | protoTLS1},
	{"ECDHE-ECDSA-AES256-SHA", tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, kECDHE | aECDSA | encAES256 | macSHA1 | protoTLS1},
	{"ECDHE-RSA-AES256-SHA", tls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA, kECDHE | aRSA | encAES256 | macSHA1 | protoTLS1},
	{"AES128-GCM-SHA256", tls.TLS_RSA_WITH_AES_128_GCM_SHA256, kRSA | aRSA | encAES128 | encAESGCM | macAEAD | protoTLS12},
	{"AES256-GCM-SHA384", tls.TLS_RSA_WITH_AES_256_GCM_SHA384, kRSA | aRSA | encAES256 | encAESGCM | macAEAD | protoTLS12},
	{"AES128-SHA256", tls.TLS_RSA_WITH_AES_128_CBC_SHA256, kRSA | aRSA | encAES128 | macSHA256 | protoTLS12},
	{"AES128-SHA", tls.TLS_RSA_WITH_AES_128_CBC_SHA, kRSA | aRSA | encAES128 | macSHA1 | protoSSL3},
	{"AES256-SHA", tls.TLS_RSA_WITH_AES_256_CBC_SHA, kRSA | aRSA | encAES256 | macSHA1 | protoSSL3},
}

var all = uint32(1)<<len(suites) - 1 // every suite

// keywords maps OpenSSL's keywords to the attribute bits a suite must
// have all of (0: the keyword matches every suite).
var keywords = map[string]uint32{
	"ALL": 0, "DEFAULT": 0, "HIGH": 0,
	"kRSA": kRSA, "RSA": kRSA, "aRSA": aRSA,
	"kECDHE": kECDHE, "kEECDH": kECDHE, "ECDHE": kECDHE, "EECDH": kECDHE, "ECDH": kECDHE,
	"aECDSA": aECDSA, "ECDSA": aECDSA,
	"AES":    0, // every suite here but ChaCha: handled in match
	"AES128": encAES128, "AES256": encAES256, "AESGCM": encAESGCM, "CHACHA20": encCHACHA20,
	"SHA1": macSHA1, "SHA": macSHA1, "SHA256": macSHA256,
	"TLSv1.2": protoTLS12, "TLSv1": protoTLS1, "TLSv1.0": protoTLS1, "SSLv3": protoSSL3,
}

// none are OpenSSL keywords that select nothing Go implements.
var none = words(`MEDIUM LOW EXPORT EXP EXPORT40 EXPORT56 eNULL NULL aNULL COMPLEMENTOFALL
	COMPLEMENTOFDEFAULT kDHE kEDH DHE EDH DH kDH ADH AECDH aDSS DSS aDH aECDH kECDH SHA384 MD5
	3DES DES RC4 RC2 IDEA SEED CAMELLIA CAMELLIA128 CAMELLIA256 ARIA ARIA128 ARIA256 ARIAGCM
	AESCCM AESCCM8 CCM CCM8 PSK kPSK aPSK ECDHEPSK DHEPSK RSAPSK kECDHEPSK kDHEPSK kRSAPSK SRP kSRP
	aSRP GOST94 GOST89MAC kGOST aGOST aGOST01 kGOST18 GOST2012 CBC SUITEB128 SUITEB128ONLY
	SUITEB192 TLSv1.3 aPSK`)

// unsupported are OpenSSL 3 cipher names for TLS 1.2 suites Go lacks,
// plus the TLS 1.3 suites (Go enables those itself).
var unsupported = words(`DHE-DSS-AES256-GCM-SHA384 DHE-RSA-AES256-GCM-SHA384 DHE-RSA-CHACHA20-POLY1305
	ECDHE-ECDSA-AES256-CCM8 ECDHE-ECDSA-AES256-CCM DHE-RSA-AES256-CCM8 DHE-RSA-AES256-CCM
	ECDHE-ECDSA-ARIA256-GCM-SHA384 ECDHE-ARIA256-GCM-SHA384 DHE-DSS-ARIA256-GCM-SHA384
	DHE-RSA-ARIA256-GCM-SHA384 DHE-DSS-AES128-GCM-SHA256 DHE-RSA-AES128-GCM-SHA256
	ECDHE-ECDSA-AES128-CCM8 ECDHE-ECDSA-AES128-CCM DHE-RSA-AES128-CCM8 DHE-RSA-AES128-CCM
	ECDHE-ECDSA-ARIA128-GCM-SHA256 ECDHE-ARIA128-GCM-SHA256 DHE-DSS-ARIA128-GCM-SHA256
	DHE-RSA-ARIA128-GCM-SHA256 ECDHE-ECDSA-AES256-SHA384 ECDHE-RSA-AES256-SHA384
	DHE-RSA-AES256-SHA256 DHE-DSS-AES256-SHA256 ECDHE-ECDSA-CAMELLIA256-SHA384
	ECDHE-RSA-CAMELLIA256-SHA384 DHE-RSA-CAMELLIA256-SHA256 DHE-DSS-CAMELLIA256-SHA256
	DHE-RSA-AES128-SHA256 DHE-DSS-AES128-SHA256 ECDHE-ECDSA-CAMELLIA128-SHA256
	ECDHE-RSA-CAMELLIA128-SHA256 DHE-RSA-CAMELLIA128-SHA256 DHE-DSS-CAMELLIA128-SHA256
	DHE-RSA-AES256-SHA DHE-DSS-AES256-SHA DHE-RSA-CAMELLIA256-SHA DHE-DSS-CAMELLIA256-SHA
	DHE-RSA-AES128-SHA DHE-DSS-AES128-SHA DHE-RSA-CAMELLIA128-SHA DHE-DSS-CAMELLIA128-SHA
	AES256-CCM8 AES256-CCM ARIA256-GCM-SHA384 AES128-CCM8 AES128-CCM ARIA128-GCM-SHA256
	AES256-SHA256 CAMELLIA256-SHA256 CAMELLIA128-SHA256 CAMELLIA256-SHA CAMELLIA128-SHA
	DES-CBC3-SHA ECDHE-RSA-DES-CBC3-SHA ECDHE-ECDSA-DES-CBC3-SHA EDH-RSA-DES-CBC3-SHA
	RC4-SHA RC4-MD5 ECDHE-RSA-RC4-SHA ECDHE-ECDSA-RC4-SHA NULL-SHA NULL-SHA256 NULL-MD5
	TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384 TLS_CHACHA20_POLY1305_SHA256
	TLS_AES_128_CCM_SHA256 TLS_AES_128_CCM_8_SHA256`)

func words(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// match returns the suites one cipher-list item selects; '+' joins
// conditions that must all hold. bad names a token nobody knows.
func match(item string) (set uint32, bad string) {
	set = all
	for _, part := range strings.Split(item, "+") {
		if part == "" {
			return 0, item
		}
		if !known(part) {
			return 0, part
		}
		set &= matchOne(part)
	}
	return set, ""
}

func known(tok string) bool {
	if _, ok := keywords[tok]; ok {
		return true
	}
	return none[tok] || unsupported[tok] || matchOne(tok) != 0
}

func matchOne(tok string) uint32 {
	if bits, ok := keywords[tok]; ok {
		var set uint32
		for i, s := range suites {
			if s.attrs&bits == bits && (tok != "AES" || s.attrs&encCHACHA20 == 0) {
				set |= 1 << i
			}
		}
		return set
	}
	for i, s := range suites {
		// OpenSSL names, and Go's (IANA) names for convenience.
		if tok == s.openssl || tok == tls.CipherSuiteName(s.id) {
			return 1 << i
		}
	}
	return 0
}

// ParseCiphers evaluates an OpenSSL cipher list and returns the TLS 1.2
// suites it selects, in Go's order. See the package doc for what is
// supported.
func ParseCiphers(list string) ([]uint16, error) {
	var selected, killed uint32
	items := strings.FieldsFunc(list, func(r rune) bool { return r == ':' || r == ' ' || r == ',' || r == ';' })
	for _, it := range items {
		if strings.HasPrefix(it, "@") { // @STRENGTH, @SECLEVEL=n: ordering and policy only
			continue
		}
		op, orig := byte(0), it
		if c := it[0]; c == '!' || c == '-' || c == '+' {
			op, it = c, it[1:]
		}
		m, bad := match(it)
		if it == "" {
			bad = orig
		}
		if bad != "" {
			return nil, fmt.Errorf("tlsconf: ciphers '%s': unknown cipher or keyword '%s'; use OpenSSL cipher names (ECDHE-RSA-AES128-GCM-SHA256) or keywords (HIGH, ECDHE, AESGCM, CHACHA20, !SHA1), case-sensitive", list, bad)
		}
		switch op {
		case '!':
			killed |= m
			selected &^= m
		case '-':
			selected &^= m
		case '+': // moves suites to the end: order is Go's business
		default:
			selected |= m &^ killed
		}
	}
	if selected == 0 {
		return nil, fmt.Errorf("tlsconf: ciphers '%s' selects no TLS 1.2 cipher suite Go supports (%s); TLS 1.3 suites are always on and cannot be chosen", list, goNames())
	}
	var out []uint16
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		for i, s := range suites {
			if s.id == cs.ID && selected&(1<<i) != 0 {
				out = append(out, s.id)
			}
		}
	}
	return out, nil
}

func goNames() string {
	var n []string
	for _, s := range suites {
		n = append(n, s.openssl)
	}
	return strings.Join(n, ", ")
}
