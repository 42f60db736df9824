package ascii

import "testing"

func TestEqualFold(t *testing.T) {
	tests := []struct {
		b, s string
		want bool
	}{
		{"Content-Length", "content-length", true},
		{"CONTENT-LENGTH", "Content-Length", true},
		{"content-lengt", "content-length", false},
		{"\u212aeep-Alive", "keep-alive", false}, // Kelvin sign: no UTF-8 folding
		{"a_b", "A_B", true},
		{"", "", true},
	}
	for _, tc := range tests {
		if got := EqualFold([]byte(tc.b), tc.s); got != tc.want {
			t.Errorf("EqualFold(%q, %q) = %v; want %v", tc.b, tc.s, got, tc.want)
		}
	}
}

func TestTrimOWS(t *testing.T) {
	for in, want := range map[string]string{" \tv \t": "v", "v": "v", " ": "", "a b": "a b", "\r v": "\r v"} {
		if got := string(TrimOWS([]byte(in))); got != want {
			t.Errorf("TrimOWS(%q) = %q; want %q", in, got, want)
		}
	}
}
