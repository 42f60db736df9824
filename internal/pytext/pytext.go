package pytext

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	errNoClosingQuote = errors.New("No closing quotation")
	errNoEscaped      = errors.New("No escaped character")
	// ErrTooLarge is wrapped by ParseInt's error for a valid integer beyond
	// int64, which Python would take but no setting or count can use.
	ErrTooLarge = errors.New("number too large")
)

// ShlexSplit is Python's shlex.split(s) (POSIX mode, no comments), with its
// error texts.
func ShlexSplit(s string) ([]string, error) {
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

// Repr is repr() of a Python str: quotes chosen as Python chooses them, and
// escapes for backslashes, control and non-printable characters.
func Repr(s string) string {
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

// FloatRepr is repr() of a Python float (3.0, 1e+16, 1e-05, inf).
func FloatRepr(f float64) string {
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

// ParseInt is Python's int(s, base) for base 0 and 10: surrounding
// whitespace, a sign, single underscores between digits, any Unicode
// decimal digit, and for base 0 the 0x/0o/0b prefixes (a decimal may then
// not start with 0). The error is Python's ValueError text.
func ParseInt(s string, base int) (int64, error) {
	bad := fmt.Errorf("invalid literal for int() with base %d: %s", base, Repr(s))
	t := strings.TrimFunc(s, unicode.IsSpace)
	neg := false
	if t != "" && (t[0] == '+' || t[0] == '-') {
		neg = t[0] == '-'
		t = t[1:]
	}
	b := 10
	if base == 0 && len(t) > 1 && t[0] == '0' {
		switch t[1] {
		case 'x', 'X':
			b, t = 16, t[2:]
		case 'o', 'O':
			b, t = 8, t[2:]
		case 'b', 'B':
			b, t = 2, t[2:]
		}
		if b != 10 && strings.HasPrefix(t, "_") {
			t = t[1:]
		}
	}
	if t == "" || t[0] == '_' || t[len(t)-1] == '_' || strings.Contains(t, "__") {
		return 0, bad
	}
	var digits strings.Builder
	for _, r := range t {
		switch {
		case r == '_':
		case b == 10 && unicode.IsDigit(r):
			digits.WriteByte(byte('0' + digitValue(r)))
		default:
			digits.WriteRune(r)
		}
	}
	t = digits.String()
	if base == 0 && b == 10 && len(t) > 1 && t[0] == '0' && strings.Trim(t, "0") != "" {
		return 0, bad
	}
	n, err := strconv.ParseInt(t, b, 64)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%w: %s", ErrTooLarge, Repr(s))
	}
	if err != nil {
		return 0, bad
	}
	if neg {
		n = -n
	}
	return n, nil
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

// ReprList is repr() of a Python list whose items repr renders.
func ReprList[V any](xs []V, repr func(V) string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = repr(x)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

// ReprDict is repr() of a Python dict with str keys. Its keys come sorted:
// the JSON the values came through lost Python's insertion order.
func ReprDict[V any](m map[string]V, repr func(V) string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = Repr(k) + ": " + repr(m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
