package config

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gonicorn/gonicorn/internal/pytext"
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
		return pytext.FloatRepr(x)
	case string:
		return pytext.Repr(x)
	case []string:
		return pytext.ReprList(x, pytext.Repr)
	case []any:
		return pytext.ReprList(x, pyRepr)
	case map[string]any:
		return pytext.ReprDict(x, pyRepr)
	case Callable:
		return x.Repr
	case Opaque:
		return x.Repr
	}
	return fmt.Sprint(v)
}

// pyFloatParse parses s as Python's float(s).
func pyFloatParse(s string) (float64, error) {
	t := strings.ReplaceAll(strings.TrimSpace(s), "_", "")
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || strings.ContainsAny(strings.ToLower(t), "px") {
		return 0, fmt.Errorf("could not convert string to float: %s", pytext.Repr(s))
	}
	return f, nil
}
