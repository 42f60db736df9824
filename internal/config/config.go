package config

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/gonicorn/gonicorn/internal/pytext"
)

// FileLoader evaluates a config file in Python and returns its module-level
// names (JSON-decoded; see DecodeValues). spec is what the user gave: PATH,
// file:PATH or python:MODULE. A returned *Error is passed through as is;
// any other error's text is printed verbatim (the Python side already
// formats gunicorn's "Failed to read config file: ..." text).
type FileLoader func(spec string) (values map[string]any, err error)

// Error is a configuration error the command must report and exit on.
// Output is exactly what gunicorn writes to stderr for the same mistake.
type Error struct {
	Code    int    // exit status: 2 for argparse usage errors, 1 otherwise
	Output  string // text for stderr, newline-terminated
	Setting string // offending setting, when there is one
	msg     string
}

func (e *Error) Error() string {
	if e.msg != "" {
		return "config: " + e.msg
	}
	return "config: " + strings.TrimSpace(e.Output)
}

// errorf is gunicorn's do_load_config report: "\nError: msg", exit 1.
func errorf(setting, format string, a ...any) *Error {
	msg := fmt.Sprintf(format, a...)
	return &Error{Code: 1, Setting: setting, Output: "\nError: " + msg + "\n", msg: msg}
}

// Source says where a setting's value came from.
type Source string

// Sources in increasing precedence.
const (
	FromDefault Source = "default"
	FromFile    Source = "file"
	FromEnv     Source = "GUNICORN_CMD_ARGS"
	FromArgv    Source = "argv"
)

// Config is the resolved configuration.
type Config struct {
	values     map[string]any
	sources    map[string]Source
	appURI     string
	action     string
	configFile string
	env        map[string]string
}

// Parse resolves the settings as gunicorn's Application.load_config does:
// defaults (some from environ) < config file < GUNICORN_CMD_ARGS < args.
// args excludes the program name. load may be nil when no file is to be
// evaluated (then a config file that is asked for is an error).
func Parse(args []string, environ []string, load FileLoader) (*Config, error) {
	env := environMap(environ)
	c := &Config{values: map[string]any{}, sources: map[string]Source{}, env: env}
	cwd := getcwd(env["PWD"])

	argv, err := parseArgs(args)
	if err != nil {
		return nil, err
	}
	if argv.action != "" {
		c.action = argv.action
		return c, nil
	}

	for _, s := range table {
		raw := s.Default
		if s.DefaultFunc != nil {
			if raw, err = s.DefaultFunc(env, cwd); err != nil {
				return nil, err
			}
		}
		if s.Type == TypeHook {
			c.values[s.Name] = nil
			continue
		}
		v, err := s.Validate(raw)
		if err != nil {
			return nil, errorf(s.Name, "%v (default of %s)", err, s.Name)
		}
		c.values[s.Name] = v
		c.sources[s.Name] = FromDefault
	}

	if len(argv.positionals) > 0 {
		c.appURI = argv.positionals[0]
		c.values["default_proc_name"] = c.appURI
	}
	if p, ok := lastValue(argv, "paste"); ok && p != nil {
		// gunicorn's rules: the app URI is the file's absolute path (with
		// its #section), and an INI with a [loggers] section is also the
		// logconfig unless a later layer sets one.
		abs, _ := filepath.Abs(p.(string))
		file, _, _ := strings.Cut(abs, "#")
		ini, err := os.ReadFile(file)
		if err != nil {
			return nil, errorf("paste", "%s not found", pytext.Repr(file))
		}
		c.values["default_proc_name"] = file
		c.appURI = abs
		if iniHasSection(ini, "loggers") {
			c.values["logconfig"] = file
		}
	}

	var envArgs *parsed = &parsed{}
	if cmd, ok := env["GUNICORN_CMD_ARGS"]; ok {
		words, err := pytext.ShlexSplit(cmd)
		if err != nil {
			return nil, errorf("", "%v", err)
		}
		if envArgs, err = parseArgs(words); err != nil {
			return nil, err
		}
		if envArgs.action != "" {
			c.action = envArgs.action
			return c, nil
		}
	}

	spec := ""
	if v, ok := lastValue(argv, "config"); ok && v != "" {
		spec = v.(string)
	} else if v, ok := lastValue(envArgs, "config"); ok && v != "" {
		spec = v.(string)
	} else if p := filepath.Join(cwd, "gunicorn.conf.py"); fileExists(p) {
		spec = p
	}
	if spec != "" {
		if err := c.loadFile(spec, load); err != nil {
			return nil, err
		}
	}

	for _, layer := range []struct {
		p   *parsed
		src Source
	}{{envArgs, FromEnv}, {argv, FromArgv}} {
		for _, a := range layer.p.values {
			v, err := a.setting.Validate(a.value)
			if err != nil {
				return nil, errorf(a.setting.Name, "%v", err)
			}
			c.values[a.setting.Name] = v
			c.sources[a.setting.Name] = layer.src
		}
	}

	if c.appURI == "" {
		if w, ok := c.values["wsgi_app"].(string); ok && w != "" {
			c.appURI = w
		} else {
			return nil, errorf("", "No application module specified.")
		}
	}
	if _, err := c.resolveWorker(); err != nil {
		return nil, err
	}
	switch {
	case c.Bool("print_config"):
		c.action = "print-config"
	case c.Bool("check_config"):
		c.action = "check-config"
	default:
		c.action = "run"
	}
	return c, nil
}

func lastValue(p *parsed, name string) (any, bool) {
	for _, a := range p.values {
		if a.setting.Name == name {
			return a.value, true
		}
	}
	return nil, false
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func (c *Config) loadFile(spec string, load FileLoader) error {
	if !strings.HasPrefix(spec, "python:") {
		if !fileExists(strings.TrimPrefix(spec, "file:")) {
			return errorf("config", "%s doesn't exist", pytext.Repr(strings.TrimPrefix(spec, "file:")))
		}
	}
	if load == nil {
		return errorf("config", "config file %s cannot be evaluated: no Python loader is available", pytext.Repr(spec))
	}
	values, err := load(spec)
	if err != nil {
		var ce *Error
		if errors.As(err, &ce) {
			return ce
		}
		out := err.Error()
		if !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		return &Error{Code: 1, Setting: "config", Output: out}
	}
	c.configFile = spec
	// gunicorn applies names in definition order; JSON lost it, so table
	// order makes the first reported error deterministic.
	for _, s := range table {
		raw, ok := values[s.Name]
		if !ok {
			continue
		}
		fv := fromFile(raw)
		if c, ok := fv.(Callable); ok && s.Type != TypeHook && s.Type != TypeClass && s.Name != "ssl_version" {
			return &Error{Code: 1, Setting: s.Name,
				Output: fmt.Sprintf("Invalid value for %s: %s\n\n\nError: setting %s got a callable (%s); "+
					"only server hooks, worker_class and logger_class may be callables. Assign a plain value instead.\n",
					s.Name, c.Repr, s.Name, c.Repr)}
		}
		v, err := s.Validate(fv)
		if err != nil {
			return &Error{Code: 1, Setting: s.Name, msg: err.Error(),
				Output: fmt.Sprintf("Invalid value for %s: %s\n\n\nError: %v\n", s.Name, pyStr(fv), err)}
		}
		c.values[s.Name] = v
		c.sources[s.Name] = FromFile
	}
	return nil
}

// Action is what the command should do: "run", "version", "help",
// "check-config" or "print-config" (print, then check).
func (c *Config) Action() string { return c.action }

// AppURI is the positional APP_MODULE, else the wsgi_app setting.
func (c *Config) AppURI() string { return c.appURI }

// ConfigFile is the config spec that was evaluated, or "".
func (c *Config) ConfigFile() string { return c.configFile }

// Source reports where the value of name came from.
func (c *Config) Source(name string) Source { return c.sources[name] }

// Value returns the validated value of name (see Type for Go types); nil
// for unset optional values and for gunicorn's built-in hooks.
func (c *Config) Value(name string) any {
	if byName[name] == nil {
		panic("config: no setting named " + name)
	}
	return c.values[name]
}

// Int returns an int setting (0 when unset).
func (c *Config) Int(name string) int { n, _ := c.Value(name).(int); return n }

// Float returns a float setting; int settings are converted.
func (c *Config) Float(name string) float64 {
	switch x := c.Value(name).(type) {
	case float64:
		return x
	case int:
		return float64(x)
	}
	return 0
}

// Bool returns a bool setting (false when unset).
func (c *Config) Bool(name string) bool { b, _ := c.Value(name).(bool); return b }

// String returns a string setting ("" when unset).
func (c *Config) String(name string) string { s, _ := c.Value(name).(string); return s }

// Strings returns a list setting.
func (c *Config) Strings(name string) []string {
	l, _ := c.Value(name).([]string)
	return append([]string(nil), l...)
}

// Sendfile is gunicorn's cfg.sendfile: off with --no-sendfile (or
// sendfile = False), else env SENDFILE decides, else on.
func (c *Config) Sendfile() bool {
	if c.values["sendfile"] != nil {
		return false
	}
	if v, ok := c.env["SENDFILE"]; ok {
		switch strings.ToLower(v) {
		case "y", "1", "yes", "true":
			return true
		}
		return false
	}
	return true
}

// Warnings returns one line per not-yet-implemented setting the user set.
func (c *Config) Warnings() []string {
	var out []string
	for _, s := range table {
		if s.Status == NotYet && c.sources[s.Name] != FromDefault && c.sources[s.Name] != "" {
			out = append(out, fmt.Sprintf("setting '%s' is accepted but not implemented yet by gonicorn; it has no effect", s.Name))
		}
	}
	return out
}

// PrintConfig writes the sorted "key = value" lines of --print-config.
func (c *Config) PrintConfig(w io.Writer) error {
	names := make([]string, 0, len(table))
	width := 0
	for _, s := range table {
		names = append(names, s.Name)
		width = max(width, len(s.Name))
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		fmt.Fprintf(&b, "%-*s = %s\n", width, n, c.display(byName[n]))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func (c *Config) display(s *Setting) string {
	v := c.values[s.Name]
	if s.Type == TypeHook || s.Type == TypeClass {
		switch x := v.(type) {
		case nil:
			return s.HookDefault
		case Callable:
			if x.Qualname != "" {
				return "<" + x.Qualname + "()>"
			}
			return x.Repr
		case string:
			if s.Type == TypeHook {
				return "<" + x[strings.LastIndex(x, ".")+1:] + "()>"
			}
		}
	}
	return pyStr(v)
}

// JSON returns the resolved settings for the START message; callables
// become {"callable": repr, "qualname": ..., "module": ...}.
func (c *Config) JSON() map[string]any {
	m := make(map[string]any, len(c.values))
	for k, v := range c.values {
		switch x := v.(type) {
		case Callable:
			m[k] = map[string]any{"callable": x.Repr, "qualname": x.Qualname, "module": x.Module}
		case Opaque:
			m[k] = map[string]any{"repr": x.Repr}
		case []string:
			m[k] = append([]string{}, x...)
		default:
			m[k] = v
		}
	}
	return m
}

// iniHasSection reports whether a configparser INI file has a [name] section
// header (configparser allows spaces around the brackets' line only).
func iniHasSection(ini []byte, name string) bool {
	for _, line := range strings.Split(string(ini), "\n") {
		if strings.TrimSpace(line) == "["+name+"]" {
			return true
		}
	}
	return false
}
