package config

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Callable is a Python callable (function, class, bound method) defined in
// a config file. It stays in Python; Go only keeps the zygote's description
// of it: the marker {"callable": repr, "qualname": ..., "module": ...,
// "arity": n} written by gonicorn_runtime/_config.py.
type Callable struct {
	Repr     string
	Qualname string
	Module   string
	Arity    int // positional parameters; -1 when unknown
}

// Opaque is any other non-JSON Python object from a config file, known
// only by its repr (marker {"repr": ...}).
type Opaque struct{ Repr string }

// DecodeValues decodes the "values" object of a CONFIG message. Numbers are
// kept as json.Number so that 30 and 30.0 stay distinguishable, as they
// are in Python.
func DecodeValues(data []byte) (map[string]any, error) {
	d := json.NewDecoder(strings.NewReader(string(data)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("config: decoding config-file values: %w", err)
	}
	return m, nil
}

// fromFile turns a JSON-decoded config-file value into the Go shape the
// validators take: markers become Callable/Opaque, integral numbers int64,
// other numbers float64.
func fromFile(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case float64:
		// Without UseNumber a Python int arrives as float64; an integral
		// value is taken as the int it most likely was.
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x)
		}
		return x
	case int:
		return int64(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = fromFile(e)
		}
		return out
	case map[string]any:
		if r, ok := x["callable"].(string); ok {
			c := Callable{Repr: r, Arity: -1}
			c.Qualname, _ = x["qualname"].(string)
			c.Module, _ = x["module"].(string)
			if a, ok := fromFile(x["arity"]).(int64); ok {
				c.Arity = int(a)
			}
			return c
		}
		if r, ok := x["repr"].(string); ok && len(x) == 1 {
			return Opaque{Repr: r}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = fromFile(e)
		}
		return out
	}
	return v
}

// pyStr formats v as Python's str() would; error texts and --print-config
// use it so that they read as gunicorn's do.
func pyStr(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case Callable:
		return x.Repr
	case Opaque:
		return x.Repr
	}
	return pyRepr(v)
}

// pyRepr formats v as Python's repr() would.
func pyRepr(v any) string {
	switch x := v.(type) {
	case nil:
		return "None"
	case bool:
		if x {
			return "True"
		}
		return "False"
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return pyFloat(x)
	case string:
		return pyQuote(x)
	case []string:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyQuote(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = pyRepr(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		// Python keeps insertion order, which JSON decoding has lost.
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = pyQuote(k) + ": " + pyRepr(x[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case Callable:
		return x.Repr
	case Opaque:
		return x.Repr
	}
	return fmt.Sprint(v)
}

func pyFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if e := strings.IndexByte(s, 'e'); e >= 0 {
		// Go writes 1e+06 where Python writes 1000000.0 (below 1e16).
		if math.Abs(f) < 1e16 && math.Abs(f) >= 1e-4 {
			s = strconv.FormatFloat(f, 'f', -1, 64)
		} else {
			mant, exp := s[:e], s[e+1:]
			if len(exp) == 2 { // e+6 -> e+06 is Go's form; Python pads to 2 digits too
				exp = exp[:1] + "0" + exp[1:]
			}
			return mant + "e" + exp
		}
	}
	if !strings.ContainsAny(s, ".e") {
		s += ".0"
	}
	return s
}

// pyQuote is repr() of a Python str.
func pyQuote(s string) string {
	q := byte('\'')
	if strings.ContainsRune(s, '\'') && !strings.ContainsRune(s, '"') {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == rune(q):
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
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// pyInt parses s as Python's int(s, base) does for base 0 and 10:
// surrounding whitespace, a sign, underscores between digits, and for
// base 0 the 0x/0o/0b prefixes (a decimal may then not start with 0).
func pyInt(s string, base int) (int64, error) {
	bad := fmt.Errorf("invalid literal for int() with base %d: %s", base, pyQuote(s))
	t := strings.TrimSpace(s)
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
	t = strings.ReplaceAll(t, "_", "")
	if base == 0 && b == 10 && len(t) > 1 && t[0] == '0' && strings.Trim(t, "0") != "" {
		return 0, bad
	}
	n, err := strconv.ParseInt(t, b, 64)
	if err != nil {
		return 0, bad
	}
	if neg {
		n = -n
	}
	return n, nil
}

// pyFloatParse parses s as Python's float(s).
func pyFloatParse(s string) (float64, error) {
	t := strings.ReplaceAll(strings.TrimSpace(s), "_", "")
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || strings.ContainsAny(strings.ToLower(t), "px") {
		return 0, fmt.Errorf("could not convert string to float: %s", pyQuote(s))
	}
	return f, nil
}
