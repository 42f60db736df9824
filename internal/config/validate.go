package config

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/gonicorn/gonicorn/internal/pytext"
)

// Validators follow gunicorn's config.py: same accepted inputs (a string
// '600' for an int setting is fine), same normalisation and the same
// error texts, since users grep for them. Inputs are CLI strings (or the
// CLI conversion's int), JSON-derived config-file values (int64, float64,
// string, bool, nil, []any, map[string]any, Callable, Opaque) or defaults.

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "NoneType"
	case bool:
		return "bool"
	case int, int64:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case []any, []string:
		return "list"
	case map[string]any:
		return "dict"
	case Callable:
		return "function"
	}
	return "object"
}

// errCallable explains why a config-file callable cannot go into a
// setting that takes data.
func errCallable(c Callable) error {
	return fmt.Errorf("a callable (%s) was given, but only server hooks, worker_class and logger_class accept callables; "+
		"assign a plain value", c.Repr)
}

func vString(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case string:
		return strings.TrimSpace(x), nil
	case Callable:
		return nil, errCallable(x)
	}
	return nil, fmt.Errorf("Not a string: %s", pyStr(v))
}

func vBool(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool:
		return x, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return nil, fmt.Errorf("Invalid boolean: %s", x)
	case Callable:
		return nil, errCallable(x)
	}
	return nil, fmt.Errorf("Invalid type for casting: %s", pyStr(v))
}

func vDict(v any) (any, error) {
	if m, ok := v.(map[string]any); ok {
		return m, nil
	}
	if c, ok := v.(Callable); ok {
		return nil, errCallable(c)
	}
	return nil, fmt.Errorf("Value is not a dictionary: %s ", pyStr(v))
}

// toInt is int(v, 0) for strings and int(v) for ints, as validate_pos_int.
func toInt(v any) (int64, error) {
	switch x := v.(type) {
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case int:
		return int64(x), nil
	case int64:
		return x, nil
	case string:
		return pytext.ParseInt(x, 0)
	case Callable:
		return 0, errCallable(x)
	}
	return 0, errors.New("int() can't convert non-string with explicit base")
}

func vPosInt(v any) (any, error) {
	n, err := toInt(v)
	if err != nil {
		return nil, err
	}
	if n < 0 {
		return nil, fmt.Errorf("Value must be positive: %d", n)
	}
	return int(n), nil
}

// vPosFloat is the gonicorn-only seconds validator: ints, floats and
// numeric strings, not negative.
func vPosFloat(v any) (any, error) {
	var f float64
	switch x := v.(type) {
	case bool:
		if x {
			f = 1
		}
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case float64:
		f = x
	case string:
		var err error
		if f, err = pyFloatParse(x); err != nil {
			return nil, err
		}
	case Callable:
		return nil, errCallable(x)
	default:
		return nil, fmt.Errorf("float() argument must be a string or a real number, not '%s'", typeName(v))
	}
	if f < 0 || f != f {
		return nil, fmt.Errorf("Value must be positive: %s", pytext.FloatRepr(f))
	}
	return f, nil
}

func vH2WindowSize(v any) (any, error) {
	n, err := vPosInt(v)
	if err != nil {
		return nil, err
	}
	if n.(int) > 1<<31-1 {
		return nil, fmt.Errorf("HTTP/2 window size must be at most 2147483647: %d", n)
	}
	return n, nil
}

func vH2StreamLimit(v any) (any, error) {
	n, err := vPosInt(v)
	if err != nil {
		return nil, err
	}
	if n.(int) < 1 {
		return nil, fmt.Errorf("HTTP/2 max concurrent streams must be at least 1: %d", n)
	}
	return n, nil
}

func vH2FrameSize(v any) (any, error) {
	n, err := toInt(v)
	if err != nil {
		return nil, err
	}
	if n < 16384 || n > 16777215 {
		return nil, fmt.Errorf("http2_max_frame_size must be between 16384 and 16777215, got %d", n)
	}
	return int(n), nil
}

// vSSLVersion accepts anything, as gunicorn does; the setting is ignored.
func vSSLVersion(v any) (any, error) { return v, nil }

func vListString(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return []string{}, nil
	case string:
		if x == "" {
			return []string{}, nil
		}
		return []string{strings.TrimSpace(x)}, nil
	case []string:
		out := make([]string, len(x))
		for i, e := range x {
			out[i] = strings.TrimSpace(e)
		}
		return out, nil
	case []any:
		out := make([]string, 0, len(x))
		for _, e := range x {
			s, err := vString(e)
			if err != nil {
				return nil, err
			}
			if s == nil {
				return nil, fmt.Errorf("Not a string: None")
			}
			out = append(out, s.(string))
		}
		return out, nil
	case bool:
		if !x {
			return []string{}, nil
		}
	case int64:
		if x == 0 {
			return []string{}, nil
		}
	case Callable:
		return nil, errCallable(x)
	}
	return nil, fmt.Errorf("'%s' object is not iterable", typeName(v))
}

func vStringList(v any) (any, error) {
	s, err := vString(v)
	if err != nil {
		return nil, err
	}
	out := []string{}
	if s == nil || s == "" {
		return out, nil
	}
	for _, p := range strings.Split(s.(string), ",") {
		if p != "" {
			out = append(out, strings.TrimSpace(p))
		}
	}
	return out, nil
}

// vAddrList checks each entry as Python's ipaddress.ip_network (strict).
func vAddrList(v any) (any, error) {
	l, err := vStringList(v)
	if err != nil {
		return nil, err
	}
	for _, a := range l.([]string) {
		if a == "*" {
			continue
		}
		if err := checkNetwork(a); err != nil {
			return nil, err
		}
	}
	return l, nil
}

func checkNetwork(a string) error {
	if p, err := netip.ParsePrefix(a); err == nil {
		if p.Masked() != p {
			return fmt.Errorf("%s has host bits set", a)
		}
		return nil
	}
	if _, err := netip.ParseAddr(a); err == nil && !strings.Contains(a, "%") {
		return nil
	}
	return fmt.Errorf("%s does not appear to be an IPv4 or IPv6 network", pytext.Repr(a))
}

var globMeta = regexp.MustCompile(`[*?\[]`)

// vFilesOrPatterns keeps glob patterns as they are and requires literal
// paths to exist (relative to the working directory).
func vFilesOrPatterns(v any) (any, error) {
	l, err := vListString(v)
	if err != nil {
		return nil, err
	}
	for _, e := range l.([]string) {
		if globMeta.MatchString(e) {
			continue
		}
		if _, err := os.Stat(e); err != nil {
			return nil, fmt.Errorf("File %s does not exists.", e)
		}
	}
	return l, nil
}

func vChdir(v any) (any, error) {
	s, err := vString(v)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return nil, errors.New("expected str, bytes or os.PathLike object, not NoneType")
	}
	p := s.(string)
	if !filepath.IsAbs(p) {
		p = filepath.Join(getcwd(os.Getenv("PWD")), p)
	}
	p = filepath.Clean(p)
	if _, err := os.Stat(p); err != nil {
		return nil, fmt.Errorf("can't chdir to %s", pytext.Repr(s.(string)))
	}
	return p, nil
}

func vUser(v any) (any, error) {
	return lookupID(v, os.Geteuid, func(n string) (string, error) {
		u, err := user.Lookup(n)
		if err != nil {
			return "", err
		}
		return u.Uid, nil
	}, "No such user: '%s'")
}

func vGroup(v any) (any, error) {
	return lookupID(v, os.Getegid, func(n string) (string, error) {
		g, err := user.LookupGroup(n)
		if err != nil {
			return "", err
		}
		return g.Gid, nil
	}, "No such group: '%s'")
}

func lookupID(v any, self func() int, lookup func(string) (string, error), msg string) (any, error) {
	switch x := v.(type) {
	case nil:
		return self(), nil
	case int:
		return x, nil
	case int64:
		return int(x), nil
	case bool:
		if x {
			return 1, nil
		}
		return 0, nil
	case string:
		if x != "" && strings.Trim(x, "0123456789") == "" {
			n, err := strconv.Atoi(x)
			if err == nil {
				return n, nil
			}
		}
		id, err := lookup(x)
		if err != nil {
			return nil, fmt.Errorf(msg, x)
		}
		n, _ := strconv.Atoi(id)
		return n, nil
	case Callable:
		return nil, errCallable(x)
	}
	return nil, fmt.Errorf("'%s' object has no attribute 'isdigit'", typeName(v))
}

var unixDigits = regexp.MustCompile(`^unix:(\d+)$`)

// vStatsd keeps the address string; it checks it as util.parse_address
// would with default port 8125.
func vStatsd(v any) (any, error) {
	s, err := vString(v)
	if err != nil || s == nil {
		return s, err
	}
	addr := s.(string)
	if unixDigits.MatchString(addr) || strings.HasPrefix(addr, "unix:") {
		return addr, nil
	}
	bad := errors.New("Value must be one of ('host:port', 'unix://PATH')")
	host, port := addr, ""
	if strings.HasPrefix(addr, "[") {
		i := strings.Index(addr, "]")
		if i < 0 {
			return nil, bad
		}
		host, port = addr[1:i], strings.TrimPrefix(addr[i+1:], ":")
	} else if i := strings.LastIndex(addr, ":"); i >= 0 {
		host, port = addr[:i], addr[i+1:]
	}
	if port != "" {
		if _, err := strconv.Atoi(port); err != nil {
			return nil, bad
		}
	}
	_ = host
	return addr, nil
}

func choice(name, msg string, allowed ...string) func(any) (any, error) {
	return func(v any) (any, error) {
		s, ok := v.(string)
		if !ok {
			if v == nil {
				return allowed[0], nil
			}
			if c, ok := v.(Callable); ok {
				return nil, errCallable(c)
			}
			return nil, fmt.Errorf("Invalid type for casting: %s", pyStr(v))
		}
		t := strings.ToLower(strings.TrimSpace(s))
		for _, a := range allowed {
			if t == a {
				return a, nil
			}
		}
		return nil, fmt.Errorf(msg, t)
	}
}

var (
	vASGILoop     = choice("asgi_loop", "Invalid ASGI loop: %s", "auto", "asyncio", "uvloop")
	vASGILifespan = choice("asgi_lifespan", "Invalid ASGI lifespan: %s", "auto", "on", "off")
)

func vHeaderMap(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	return choice("header_map", "Invalid header map behaviour: %s", "drop", "refuse", "dangerous")(v)
}

func vHTTPParser(v any) (any, error) {
	if _, ok := v.(string); !ok && v != nil {
		return nil, errors.New("http_parser must be a string")
	}
	r, err := choice("http_parser", "%s", "auto", "fast", "python")(v)
	if err != nil {
		return nil, errors.New("http_parser must be one of: auto, fast, python")
	}
	return r, nil
}

func vH2Cleartext(v any) (any, error) {
	if b, ok := v.(bool); ok {
		if b {
			return "prior-knowledge", nil
		}
		return "off", nil
	}
	return choice("http2_cleartext", "Invalid http2_cleartext: %s", "off", "prior-knowledge", "upgrade", "both")(v)
}

func vReloadEngine(v any) (any, error) {
	if s, ok := v.(string); ok {
		switch s {
		case "auto", "poll", "inotify":
			return s, nil
		}
	}
	return nil, fmt.Errorf("Invalid reload_engine: %s", pyRepr(v))
}

func vProxyProtocol(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return "off", nil
	case bool:
		if x {
			return "auto", nil
		}
		return "off", nil
	case string:
		m := map[string]string{"false": "off", "off": "off", "0": "off", "none": "off",
			"true": "auto", "auto": "auto", "1": "auto", "v1": "v1", "v2": "v2"}
		if r, ok := m[strings.ToLower(strings.TrimSpace(x))]; ok {
			return r, nil
		}
		return nil, errors.New("proxy_protocol must be: off, v1, v2, or auto")
	}
	return nil, errors.New("proxy_protocol must be string or bool")
}

func vHTTPProtocols(v any) (any, error) {
	if v == nil {
		return []string{"h1"}, nil
	}
	s, ok := v.(string)
	if !ok {
		return nil, errors.New("http_protocols must be a string")
	}
	var out []string
	seen := map[string]bool{}
	dup := false
	for _, p := range strings.Split(s, ",") {
		p = strings.ToLower(strings.TrimSpace(p))
		if p == "" {
			continue
		}
		if p != "h1" && p != "h2" && p != "h3" {
			return nil, fmt.Errorf("Invalid protocol '%s'. Valid protocols: h1, h2, h3", p)
		}
		dup = dup || seen[p]
		seen[p] = true
		out = append(out, p)
	}
	if len(out) == 0 {
		return []string{"h1"}, nil
	}
	if dup {
		return nil, errors.New("Duplicate protocols specified")
	}
	return out, nil
}

// vClass accepts a class path string or a config-file class/factory.
func vClass(v any) (any, error) {
	if c, ok := v.(Callable); ok {
		return c, nil
	}
	return vString(v)
}

// vHook accepts a config-file callable (its arity checked when the zygote
// reported it) or a "module.function" string, which the zygote imports.
func vHook(arity int) func(any) (any, error) {
	return func(v any) (any, error) {
		switch x := v.(type) {
		case Callable:
			if x.Arity >= 0 && arity != -1 && x.Arity != arity {
				return nil, fmt.Errorf("Value must have an arity of: %d", arity)
			}
			return x, nil
		case string:
			if !strings.Contains(x, ".") {
				return nil, fmt.Errorf("Value '%s' is not import string. Format: module[.submodules...].object", x)
			}
			return x, nil
		}
		return nil, fmt.Errorf("Value is not callable: %s", pyStr(v))
	}
}

func vPostRequest(v any) (any, error) {
	r, err := vHook(-1)(v)
	if err != nil {
		return nil, err
	}
	if c, ok := r.(Callable); ok && c.Arity >= 0 && (c.Arity < 2 || c.Arity > 4) {
		return nil, errors.New("Value must have an arity of: 4")
	}
	return r, nil
}

// CLI conversions (argparse type=). Their names appear in argparse's
// "invalid <name> value" message.

func convInt(s string) (any, error) {
	n, err := pytext.ParseInt(s, 10)
	if err != nil {
		return nil, errConv{"int", s}
	}
	return n, nil
}

var octalLead = regexp.MustCompile(`^0(\d)`)

// convAutoInt is gunicorn's auto_int: 022 is octal, 0x1f hex.
func convAutoInt(s string) (any, error) {
	x := s
	if octalLead.MatchString(x) {
		x = strings.Replace(x, "0", "0o", 1)
	}
	n, err := pytext.ParseInt(x, 0)
	if err != nil {
		return nil, errConv{"auto_int", s}
	}
	return n, nil
}

func convFloat(s string) (any, error) {
	f, err := pyFloatParse(s)
	if err != nil {
		return nil, errConv{"float", s}
	}
	return f, nil
}

type errConv struct{ typ, val string }

func (e errConv) Error() string {
	return fmt.Sprintf("invalid %s value: %s", e.typ, pytext.Repr(e.val))
}
