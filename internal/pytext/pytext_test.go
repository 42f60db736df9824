package pytext

import (
	"reflect"
	"testing"
)

func TestShlexSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{"show workers", []string{"show", "workers"}, ""},
		{"  worker   add\t2 ", []string{"worker", "add", "2"}, ""},
		{`a "b c" 'd e'`, []string{"a", "b c", "d e"}, ""},
		{`a""b ''`, []string{"ab", ""}, ""},
		{`"a\"b" "a\nb" 'a\b'`, []string{`a"b`, `a\nb`, `a\b`}, ""},
		{`a\ b`, []string{"a b"}, ""},
		{`--timeout 600 --access-logfile '-' -c "/opt/a b.py" --chdir=/tmp/x\ y`,
			[]string{"--timeout", "600", "--access-logfile", "-", "-c", "/opt/a b.py", "--chdir=/tmp/x y"}, ""},
		{`caf\é "ü"`, []string{"café", "ü"}, ""},
		{`"open`, nil, "No closing quotation"},
		{`"open\`, nil, "No closing quotation"},
		{`'open`, nil, "No closing quotation"},
		{`trailing\`, nil, "No escaped character"},
		{"", nil, ""},
	}
	for _, tt := range tests {
		got, err := ShlexSplit(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ShlexSplit(%q) err = %v; want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ShlexSplit(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseInt(t *testing.T) {
	tests := []struct {
		in   string
		base int
		want int64
		err  string
	}{
		{"3", 10, 3, ""},
		{" -2 ", 10, -2, ""},
		{"+1_000", 10, 1000, ""},
		{"٣", 10, 3, ""}, // Arabic-Indic three: int() takes any Nd digit
		{"0x1f", 0, 31, ""},
		{"0o_17", 0, 15, ""},
		{"0b101", 0, 5, ""},
		{"000", 0, 0, ""},
		{"010", 0, 0, "invalid literal for int() with base 0: '010'"},
		{"0x1f", 10, 0, "invalid literal for int() with base 10: '0x1f'"},
		{"x", 10, 0, "invalid literal for int() with base 10: 'x'"},
		{"1.5", 10, 0, "invalid literal for int() with base 10: '1.5'"},
		{"1__0", 10, 0, "invalid literal for int() with base 10: '1__0'"},
		{"", 10, 0, "invalid literal for int() with base 10: ''"},
		{"it's", 10, 0, `invalid literal for int() with base 10: "it's"`},
		{"99999999999999999999", 10, 0, "number too large: '99999999999999999999'"},
	}
	for _, tt := range tests {
		got, err := ParseInt(tt.in, tt.base)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseInt(%q, %d) err = %v; want %q", tt.in, tt.base, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseInt(%q, %d) = %d, %v; want %d", tt.in, tt.base, got, err, tt.want)
		}
	}
}

func TestRepr(t *testing.T) {
	tests := map[string]string{
		"plain":      `'plain'`,
		"it's":       `"it's"`,
		`both '"`:    `'both \'"'`,
		`back\`:      `'back\\'`,
		"nl\n\t\r":   `'nl\n\t\r'`,
		"\x01\x7f":   `'\x01\x7f'`,
		"\u00a0é":    `'\xa0é'`,
		"\u200b":     `'\u200b'`,
		"\U000e0001": `'\U000e0001'`,
	}
	for in, want := range tests {
		if got := Repr(in); got != want {
			t.Errorf("Repr(%q) = %s; want %s", in, got, want)
		}
	}
}

func TestFloatRepr(t *testing.T) {
	for in, want := range map[float64]string{0: "0.0", 3: "3.0", 2.94: "2.94", 1e16: "1e+16", 1e-5: "1e-05",
		0.0001: "0.0001", 123456.7: "123456.7", 1e6: "1000000.0", -0.5: "-0.5"} {
		if got := FloatRepr(in); got != want {
			t.Errorf("FloatRepr(%v) = %q; want %q", in, got, want)
		}
	}
}
