package tlsconf

import (
	"crypto/tls"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

func opensslNames(ids []uint16) []string {
	var out []string
	for _, s := range suites {
		if slices.Contains(ids, s.id) {
			out = append(out, s.openssl)
		}
	}
	return out
}

func TestParseCiphers(t *testing.T) {
	tests := []struct {
		list string
		want string // OpenSSL names in table order, or "error: <text>"
	}{
		{"ECDHE-RSA-AES128-GCM-SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
		{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "ECDHE-RSA-AES128-GCM-SHA256"},
		{"ECDHE+AESGCM", "ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-RSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-RSA-AES256-GCM-SHA384"},
		{"ECDHE+AESGCM:ECDHE+CHACHA20", "ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-RSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-RSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305 ECDHE-RSA-CHACHA20-POLY1305"},
		{"aRSA+AES256:!SHA1:!kRSA", "ECDHE-RSA-AES256-GCM-SHA384"},
		{"HIGH:!aNULL:!MD5:!kRSA:!SHA1:!SHA256", "ECDHE-ECDSA-AES128-GCM-SHA256 ECDHE-RSA-AES128-GCM-SHA256 ECDHE-ECDSA-AES256-GCM-SHA384 ECDHE-RSA-AES256-GCM-SHA384 ECDHE-ECDSA-CHACHA20-POLY1305 ECDHE-RSA-CHACHA20-POLY1305"},
		{"kRSA", "AES128-GCM-SHA256 AES256-GCM-SHA384 AES128-SHA256 AES128-SHA AES256-SHA"},
		{"SSLv3", "AES128-SHA AES256-SHA"},
		{"-ALL:AES128-SHA", "AES128-SHA"},
		{"!kRSA:AES128-SHA:ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES128-SHA"},                    // '!' is permanent
		{"kRSA:-kRSA:AES128-SHA", "AES128-SHA"},                                              // '-' is not
		{"ECDHE-RSA-AES128-SHA, AES128-SHA ;+AES128-SHA", "ECDHE-RSA-AES128-SHA AES128-SHA"}, // separators, '+' prefix
		{"@SECLEVEL=2:ECDHE-ECDSA-AES128-SHA:@STRENGTH", "ECDHE-ECDSA-AES128-SHA"},
		{"TLS_AES_256_GCM_SHA384:ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES128-SHA"},
		{"DHE-RSA-AES128-GCM-SHA256:AES256-SHA", "AES256-SHA"},
		{"TLS_AES_256_GCM_SHA384", "error: selects no TLS 1.2 cipher suite Go supports"},
		{"DHE-RSA-AES256-GCM-SHA384:CAMELLIA", "error: selects no TLS 1.2 cipher suite Go supports"},
		{"3DES:RC4", "error: selects no TLS 1.2 cipher suite Go supports"},
		{"!ALL", "error: selects no TLS 1.2 cipher suite Go supports"},
		{"high", "error: unknown cipher or keyword 'high'"},
		{"ECDHE+BOGUS", "error: unknown cipher or keyword 'BOGUS'"},
		{"ECDHE+", "error: unknown cipher or keyword 'ECDHE+'"},
		{"HIGH:!", "error: unknown cipher or keyword '!'"},
	}
	for _, tc := range tests {
		ids, err := ParseCiphers(tc.list)
		got := strings.Join(opensslNames(ids), " ")
		if err != nil {
			got = "error: " + err.Error()
		}
		if strings.HasPrefix(tc.want, "error: ") {
			if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(tc.want, "error: ")) {
				t.Errorf("ParseCiphers(%q) = %s; want %s", tc.list, got, tc.want)
			}
			continue
		}
		if got != tc.want {
			t.Errorf("ParseCiphers(%q) = %s; want %s", tc.list, got, tc.want)
		}
	}
}

// TestCiphersMatchOpenSSL compares the selection with what the openssl
// command selects from the same list, restricted to Go's suites.
func TestCiphersMatchOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl command not installed")
	}
	lists := []string{
		"DEFAULT", "ALL", "HIGH", "HIGH:!aNULL:!MD5", "ECDHE", "EECDH+AESGCM:EDH+AESGCM", "ECDH+AESGCM:ECDH+CHACHA20:ECDH+AES:DHE+AES:!aNULL:!eNULL:!aDSS:!SHA1:!AESCCM",
		"AES128", "AES256", "AES", "AESGCM", "CHACHA20", "aECDSA", "ECDSA", "aRSA", "kRSA", "RSA", "SHA256", "SHA1", "SHA",
		"TLSv1.2", "TLSv1", "TLSv1.0", "SSLv3", "DEFAULT:!kRSA", "ECDHE:-AES256:AES256-SHA", "ECDH+AES:!SHA1", "AES+ECDHE+SHA256",
		"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384",
		"MEDIUM", "3DES", "CAMELLIA", "!ALL:AES128-SHA", "kRSA:-kRSA:AES128-SHA", "!kRSA:AES128-SHA",
	}
	for _, list := range lists {
		out, oerr := exec.Command("openssl", "ciphers", list).Output()
		var want []string
		for _, n := range strings.Split(strings.TrimSpace(string(out)), ":") {
			if slices.ContainsFunc(suites, func(s suite) bool { return s.openssl == n }) {
				want = append(want, n)
			}
		}
		ids, err := ParseCiphers(list)
		got := opensslNames(ids)
		slices.Sort(got)
		slices.Sort(want)
		switch {
		case oerr != nil || len(want) == 0:
			if err == nil {
				t.Errorf("%q: got %v; openssl selects none of Go's suites (%v), want an error", list, got, oerr)
			}
		case err != nil:
			t.Errorf("%q: got error %v; want %v", list, err, want)
		case !slices.Equal(got, want):
			t.Errorf("%q: got %v; want %v (openssl)", list, got, want)
		}
	}
}

func TestSuiteTable(t *testing.T) {
	for _, s := range suites {
		if tls.CipherSuiteName(s.id)[:4] == "0x" {
			t.Errorf("%s: Go does not know suite %#x", s.openssl, s.id)
		}
		if matchOne(s.openssl) == 0 {
			t.Errorf("%s does not match itself", s.openssl)
		}
		if unsupported[s.openssl] {
			t.Errorf("%s is both supported and unsupported", s.openssl)
		}
	}
}
