package control

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file reproduces the few Python behaviours gunicorn's server leans
// on (shlex.split, int(), repr(), str() of JSON values) so that replies,
// error texts included, match what gunicornc users see from gunicorn.

var (
	errNoClosingQuote = errors.New("No closing quotation")
	errNoEscaped      = errors.New("No escaped character")
)

// shlexSplit is Python's shlex.split(s) (POSIX mode, no comments).
func shlexSplit(s string) ([]string, error) {
	var out []string
	var tok strings.Builder
	inTok := false
	const (
		plain = iota
		single
		double
	)
	state := plain
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		switch state {
		case plain:
			switch {
			case r == ' ' || r == '\t' || r == '\r' || r == '\n':
				if inTok {
					out = append(out, tok.String())
					tok.Reset()
					inTok = false
				}
			case r == '\'':
				state, inTok = single, true
			case r == '"':
				state, inTok = double, true
			case r == '\\':
				if i >= len(s) {
					return nil, errNoEscaped
				}
				r2, size2 := utf8.DecodeRuneInString(s[i:])
				i += size2
				tok.WriteRune(r2)
				inTok = true
			default:
				tok.WriteRune(r)
				inTok = true
			}
		case single:
			if r == '\'' {
				state = plain
			} else {
				tok.WriteRune(r)
			}
		case double:
			switch r {
			case '"':
				state = plain
			case '\\':
				if i >= len(s) {
					return nil, errNoClosingQuote
				}
				r2, size2 := utf8.DecodeRuneInString(s[i:])
				// Inside double quotes a backslash escapes only \ and ".
				if r2 == '\\' || r2 == '"' {
					i += size2
					tok.WriteRune(r2)
				} else {
					tok.WriteRune('\\')
				}
			default:
				tok.WriteRune(r)
			}
		}
	}
	if state != plain {
		return nil, errNoClosingQuote
	}
	if inTok {
		out = append(out, tok.String())
	}
	return out, nil
}

// pyInt is Python's int(s) for a str: surrounding whitespace, a sign,
// digits with single underscores between them.
func pyInt(s string) (int, error) {
	bad := fmt.Errorf("invalid literal for int() with base 10: %s", pyRepr(s))
	t := strings.TrimFunc(s, unicode.IsSpace)
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	if t == "" || t[0] == '_' || t[len(t)-1] == '_' || strings.Contains(t, "__") {
		return 0, bad
	}
	var digits strings.Builder
	for _, r := range t {
		switch {
		case r == '_':
		case unicode.IsDigit(r):
			digits.WriteRune(rune('0' + digitValue(r)))
		default:
			return 0, bad
		}
	}
	n, err := strconv.ParseInt(digits.String(), 10, 64)
	if err != nil || n > math.MaxInt32 {
		// Python has no limit; a count this large would fork without end.
		return 0, fmt.Errorf("number too large: %s", pyRepr(s))
	}
	if neg {
		n = -n
	}
	return int(n), nil
}

// digitValue maps any Unicode decimal digit to 0-9, as int() accepts them.
func digitValue(r rune) int {
	if r >= '0' && r <= '9' {
		return int(r - '0')
	}
	// Unicode Nd digits come in runs of ten starting at a zero.
	for z := r; z > r-10; z-- {
		if unicode.IsDigit(z) && !unicode.IsDigit(z-1) {
			return int(r - z)
		}
	}
	return 0
}

// pyRepr is repr() of a Python str.
func pyRepr(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r > 0x7f && !unicode.IsPrint(r):
			switch {
			case r <= 0xff:
				fmt.Fprintf(&b, `\x%02x`, r)
			case r <= 0xffff:
				fmt.Fprintf(&b, `\u%04x`, r)
			default:
				fmt.Fprintf(&b, `\U%08x`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyFloatRepr is repr() of a Python float.
func pyFloatRepr(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	if a := math.Abs(f); a != 0 && (a < 1e-4 || a >= 1e16) {
		return strconv.FormatFloat(f, 'e', -1, 64)
	}
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if !strings.ContainsAny(s, ".") {
		s += ".0"
	}
	return s
}

// pyFloat is a number that encodes as Python's json.dumps writes a float
// (3.0, not 3), so gunicornc -j prints what it prints against gunicorn.
type pyFloat float64

func (f pyFloat) MarshalJSON() ([]byte, error) {
	if math.IsInf(float64(f), 0) || math.IsNaN(float64(f)) {
		return []byte("null"), nil
	}
	return []byte(pyFloatRepr(float64(f))), nil
}
