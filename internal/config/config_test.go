package config

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fakeLoader stands in for the zygote: it returns fixed values for any spec.
func fakeLoader(values map[string]any) FileLoader {
	return func(string) (map[string]any, error) { return values, nil }
}

func confFile(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "conf.py")
	if err := os.WriteFile(p, []byte("# evaluated by the fake loader\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustParse(t *testing.T, args, env []string, load FileLoader) *Config {
	t.Helper()
	c, err := Parse(args, env, load)
	if err != nil {
		t.Fatalf("Parse(%q, %q): %v", args, env, err)
	}
	return c
}

func TestPrecedence(t *testing.T) {
	conf := confFile(t)
	file := fakeLoader(map[string]any{"workers": 7.0, "bind": []any{"unix:/tmp/a.sock", "0.0.0.0:1"}})
	tests := []struct {
		name    string
		args    []string
		env     []string
		setting string
		want    any
	}{
		{"file", []string{"-c", conf, "app:app"}, nil, "workers", 7},
		{"env beats file", []string{"-c", conf, "app:app"}, []string{"GUNICORN_CMD_ARGS=--workers 3"}, "workers", 3},
		{"argv beats env", []string{"-c", conf, "-w", "5", "app:app"}, []string{"GUNICORN_CMD_ARGS=--workers 3"}, "workers", 5},
		{"env -c used", []string{"app:app"}, []string{"GUNICORN_CMD_ARGS=-c " + conf}, "workers", 7},
		{"list replaced", []string{"-c", conf, "-b", ":9", "app:app"}, nil, "bind", []string{":9"}},
		{"list from file", []string{"-c", conf, "app:app"}, nil, "bind", []string{"unix:/tmp/a.sock", "0.0.0.0:1"}},
		{"env positional ignored", []string{"app:app"}, []string{"GUNICORN_CMD_ARGS=other:app -t 9"}, "timeout", 9},
	}
	for _, tt := range tests {
		c := mustParse(t, tt.args, tt.env, file)
		if got := c.Value(tt.setting); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: %s got %#v; want %#v", tt.name, tt.setting, got, tt.want)
		}
		if c.AppURI() != "app:app" {
			t.Errorf("%s: AppURI got %q; want app:app", tt.name, c.AppURI())
		}
	}
}

func TestDefaultConfigFileInCwd(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	called := ""
	load := func(spec string) (map[string]any, error) { called = spec; return map[string]any{"workers": 2.0}, nil }
	mustParse(t, []string{"app:app"}, nil, load)
	if called != "" {
		t.Errorf("loader called with %q without a gunicorn.conf.py", called)
	}
	os.WriteFile(filepath.Join(dir, "gunicorn.conf.py"), nil, 0o644)
	c := mustParse(t, []string{"app:app"}, nil, load)
	if !strings.HasSuffix(called, "gunicorn.conf.py") || c.Int("workers") != 2 {
		t.Errorf("got spec %q workers %d; want ./gunicorn.conf.py and 2", called, c.Int("workers"))
	}
}

func TestOryxStyleFile(t *testing.T) {
	conf := confFile(t)
	vals, err := DecodeValues([]byte(`{"timeout": "600", "workers": 5, "accesslog": "-", "multiprocessing": {"repr": "<module 'multiprocessing'>"},
		"on_starting": {"callable": "<function on_starting at 0x1>", "qualname": "on_starting", "module": "__config__", "arity": 1},
		"post_worker_init": {"callable": "<function post_worker_init at 0x2>", "qualname": "post_worker_init", "module": "__config__", "arity": 1}}`))
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"GUNICORN_CMD_ARGS=--timeout 600 --access-logfile '-' --error-logfile '-' -c " + conf + " --chdir=" + t.TempDir()}
	c := mustParse(t, []string{"app:app"}, env, fakeLoader(vals))
	if c.Int("timeout") != 600 || c.Int("workers") != 5 || c.String("accesslog") != "-" || c.String("errorlog") != "-" {
		t.Errorf("got timeout %d workers %d accesslog %q; want 600 5 -", c.Int("timeout"), c.Int("workers"), c.String("accesslog"))
	}
	j := c.JSON()["on_starting"].(map[string]any)
	if j["callable"] != "<function on_starting at 0x1>" {
		t.Errorf("JSON on_starting got %v", j)
	}
	if w := c.Warnings(); len(w) != 0 {
		t.Errorf("Warnings got %q; want none", w)
	}
	var b bytes.Buffer
	c.PrintConfig(&b)
	for _, line := range []string{"timeout                            = 600\n", "on_starting                        = <on_starting()>\n",
		"when_ready                         = <WhenReady.when_ready()>\n", "bind                               = ['127.0.0.1:8000']\n"} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("PrintConfig lacks %q", line)
		}
	}
}

func TestEnvDefaults(t *testing.T) {
	tests := []struct {
		env     []string
		setting string
		want    any
	}{
		{[]string{"PORT=5000"}, "bind", []string{"0.0.0.0:5000"}},
		{nil, "bind", []string{"127.0.0.1:8000"}},
		{[]string{"WEB_CONCURRENCY=4"}, "workers", 4},
		{[]string{"FORWARDED_ALLOW_IPS=10.0.0.0/8,*"}, "forwarded_allow_ips", []string{"10.0.0.0/8", "*"}},
		{nil, "forwarded_allow_ips", []string{"127.0.0.1", "::1"}},
		{[]string{"VIRTUAL_ENV=/venv"}, "python", "/venv/bin/python"},
	}
	for _, tt := range tests {
		c := mustParse(t, []string{"app:app"}, tt.env, nil)
		if got := c.Value(tt.setting); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("env %q: %s got %#v; want %#v", tt.env, tt.setting, got, tt.want)
		}
	}
	c := mustParse(t, []string{"-b", "[::1]:9", "app:app"}, []string{"PORT=5000"}, nil)
	if got := c.Strings("bind"); !reflect.DeepEqual(got, []string{"[::1]:9"}) {
		t.Errorf("-b with PORT got %q", got)
	}
}

func TestCLIForms(t *testing.T) {
	tests := []struct {
		args    []string
		setting string
		want    any
	}{
		{[]string{"--workers=3"}, "workers", 3},
		{[]string{"-w4"}, "workers", 4},
		{[]string{"-w=6"}, "workers", 6},
		{[]string{"-b0.0.0.0", "-b", ":9"}, "bind", []string{"0.0.0.0", ":9"}},
		{[]string{"--graceful", "9"}, "graceful_timeout", 9},
		{[]string{"--preload"}, "preload_app", true},
		{[]string{"--pre"}, "preload_app", true},
		{[]string{"-DR"}, "enable_stdio_inheritance", true},
		{[]string{"--no-sendfile"}, "sendfile", false},
		{[]string{"--proxy-protocol"}, "proxy_protocol", "auto"},
		{[]string{"--proxy-protocol", "v2"}, "proxy_protocol", "v2"},
		{[]string{"--proxy-protocol=true"}, "proxy_protocol", "auto"},
		{[]string{"-e", "A=1", "--env", "B=2"}, "raw_env", []string{"A=1", "B=2"}},
		{[]string{"-m", "022"}, "umask", 18},
		{[]string{"-m", "0x1f"}, "umask", 31},
		{[]string{"-w", "-0"}, "workers", 0},
		{[]string{"--timeout", " 7 "}, "timeout", 7},
		{[]string{"--request-timeout", "2.5"}, "request_timeout", 2.5},
		{[]string{"--max-worker-memory", "512", "--max-queue", "100", "--queue-timeout", "3"}, "max_queue", 100},
		{[]string{"--python", "/usr/bin/python3.12"}, "python", "/usr/bin/python3.12"},
		{[]string{"--limit-request-field_size", "0"}, "limit_request_field_size", 0},
		{[]string{"--log-file", "/tmp/x.log"}, "errorlog", "/tmp/x.log"},
	}
	for _, tt := range tests {
		// APP_MODULE goes first so that a bare --proxy-protocol does not take it.
		c := mustParse(t, append([]string{"app:app"}, tt.args...), nil, nil)
		if got := c.Value(tt.setting); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%q: %s got %#v; want %#v", tt.args, tt.setting, got, tt.want)
		}
	}
}

func TestPositionals(t *testing.T) {
	tests := []struct {
		args []string
		app  string
		err  string
	}{
		{[]string{"-w", "2", "app:app", "extra"}, "app:app", ""},
		{[]string{"app:app", "-w", "2", "extra"}, "", "unrecognized arguments: extra"},
		{[]string{"--", "app:app"}, "app:app", ""},
		{[]string{"--proxy-protocol", "app:app"}, "", "proxy_protocol must be: off, v1, v2, or auto"},
	}
	for _, tt := range tests {
		c, err := Parse(tt.args, nil, nil)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.(*Error).Output, tt.err) {
				t.Errorf("%q: got error %v; want %q", tt.args, err, tt.err)
			}
			continue
		}
		if err != nil || c.AppURI() != tt.app {
			t.Errorf("%q: got %v, %v; want app %q", tt.args, c, err, tt.app)
		}
	}
}

func TestErrors(t *testing.T) {
	usage := "usage: gonicorn [OPTIONS] [APP_MODULE]\n"
	tests := []struct {
		args   []string
		env    []string
		file   map[string]any
		code   int
		output string
	}{
		{[]string{"--foo", "app:app"}, nil, nil, 2, usage + "gonicorn: error: unrecognized arguments: --foo\n"},
		{[]string{"-w", "abc", "app:app"}, nil, nil, 2, usage + "gonicorn: error: argument -w/--workers: invalid int value: 'abc'\n"},
		{[]string{"-m", "abc", "app:app"}, nil, nil, 2, usage + "gonicorn: error: argument -m/--umask: invalid auto_int value: 'abc'\n"},
		{[]string{"app:app", "-w"}, nil, nil, 2, usage + "gonicorn: error: argument -w/--workers: expected one argument\n"},
		{[]string{"--preload=yes", "app:app"}, nil, nil, 2, usage + "gonicorn: error: argument --preload: ignored explicit argument 'yes'\n"},
		{[]string{"--work=3", "app:app"}, nil, nil, 2, usage + "gonicorn: error: ambiguous option: --work=3 could match --workers, --worker-class, --worker-connections, --worker-tmp-dir\n"},
		{[]string{"app:app"}, []string{"GUNICORN_CMD_ARGS=--foo"}, nil, 2, usage + "gonicorn: error: unrecognized arguments: --foo\n"},
		{[]string{"-w", "-3", "app:app"}, nil, nil, 1, "\nError: Value must be positive: -3\n"},
		{nil, nil, nil, 1, "\nError: No application module specified.\n"},
		{[]string{"--print-config"}, nil, nil, 1, "\nError: No application module specified.\n"},
		{[]string{"--chdir", "/nonexistent/dir", "app:app"}, nil, nil, 1, "\nError: can't chdir to '/nonexistent/dir'\n"},
		{[]string{"--forwarded-allow-ips", "10.0.0.1/8", "app:app"}, nil, nil, 1, "\nError: 10.0.0.1/8 has host bits set\n"},
		{[]string{"--forwarded-allow-ips", "abc", "app:app"}, nil, nil, 1, "\nError: 'abc' does not appear to be an IPv4 or IPv6 network\n"},
		{[]string{"--reload-engine", "x", "app:app"}, nil, nil, 1, "\nError: Invalid reload_engine: 'x'\n"},
		{[]string{"--header-map", "x", "app:app"}, nil, nil, 1, "\nError: Invalid header map behaviour: x\n"},
		{[]string{"--asgi-loop", "x", "app:app"}, nil, nil, 1, "\nError: Invalid ASGI loop: x\n"},
		{[]string{"--asgi-lifespan", "x", "app:app"}, nil, nil, 1, "\nError: Invalid ASGI lifespan: x\n"},
		{[]string{"--http-parser", "x", "app:app"}, nil, nil, 1, "\nError: http_parser must be one of: auto, fast, python\n"},
		{[]string{"--http-protocols", "h4", "app:app"}, nil, nil, 1, "\nError: Invalid protocol 'h4'. Valid protocols: h1, h2, h3\n"},
		{[]string{"--http-protocols", "h1,h1", "app:app"}, nil, nil, 1, "\nError: Duplicate protocols specified\n"},
		{[]string{"--http2-cleartext", "x", "app:app"}, nil, nil, 1, "\nError: Invalid http2_cleartext: x\n"},
		{[]string{"--http2-max-frame-size", "10", "app:app"}, nil, nil, 1, "\nError: http2_max_frame_size must be between 16384 and 16777215, got 10\n"},
		{[]string{"--http2-max-concurrent-streams", "0", "app:app"}, nil, nil, 1, "\nError: HTTP/2 max concurrent streams must be at least 1: 0\n"},
		{[]string{"--http2-initial-window-size", "2147483648", "app:app"}, nil, nil, 1, "\nError: HTTP/2 window size must be at most 2147483647: 2147483648\n"},
		{[]string{"--statsd-host", "h:x", "app:app"}, nil, nil, 1, "\nError: Value must be one of ('host:port', 'unix://PATH')\n"},
		{[]string{"--reload-extra-file", "/nonexistent.txt", "app:app"}, nil, nil, 1, "\nError: File /nonexistent.txt does not exists.\n"},
		{[]string{"-u", "no-such-user-xyz", "app:app"}, nil, nil, 1, "\nError: No such user: 'no-such-user-xyz'\n"},
		{[]string{"-g", "no-such-group-xyz", "app:app"}, nil, nil, 1, "\nError: No such group: 'no-such-group-xyz'\n"},
		{[]string{"--cert-reqs", "x", "app:app"}, nil, nil, 1, "\nError: invalid literal for int() with base 0: 'x'\n"},
		{[]string{"--request-timeout", "-1", "app:app"}, nil, nil, 1, "\nError: Value must be positive: -1.0\n"},
		{[]string{"-c", "/nonexistent.py", "app:app"}, nil, nil, 1, "\nError: '/nonexistent.py' doesn't exist\n"},
		{[]string{"app:app"}, []string{"GUNICORN_CMD_ARGS=--timeout '600"}, nil, 1, "\nError: No closing quotation\n"},
		{[]string{"app:app"}, []string{"WEB_CONCURRENCY=x"}, nil, 1, "\nError: WEB_CONCURRENCY must be a whole number of workers: invalid literal for int() with base 10: 'x'\n"},
		{[]string{"-k", "afakeclass", "app:app"}, nil, nil, 1, "\nError: class uri 'afakeclass' invalid or not found: \n\n[Traceback (most recent call last):\nImportError: Entry point ('gunicorn.workers', 'afakeclass') not found\n]\n\n"},
		// config-file values
		{[]string{"-c", "F", "app:app"}, nil, map[string]any{"workers": "abc"}, 1, "Invalid value for workers: abc\n\n\nError: invalid literal for int() with base 0: 'abc'\n"},
		{[]string{"-c", "F", "app:app"}, nil, map[string]any{"timeout": 1.5}, 1, "Invalid value for timeout: 1.5\n\n\nError: int() can't convert non-string with explicit base\n"},
		{[]string{"-c", "F", "app:app"}, nil, map[string]any{"preload_app": "yes"}, 1, "Invalid value for preload_app: yes\n\n\nError: Invalid boolean: yes\n"},
		{[]string{"-c", "F", "app:app"}, nil, map[string]any{"preload_app": 1.0}, 1, "Invalid value for preload_app: 1\n\n\nError: Invalid type for casting: 1\n"},
		{[]string{"-c", "F", "app:app"}, nil, map[string]any{"accesslog": 5.0}, 1, "Invalid value for accesslog: 5\n\n\nError: Not a string: 5\n"},
		{[]string{"-c", "F", "app:app"}, nil, map[string]any{"logconfig_dict": "x"}, 1, "Invalid value for logconfig_dict: x\n\n\nError: Value is not a dictionary: x \n"},
		{[]string{"-c", "F", "app:app"}, nil, map[string]any{"proxy_protocol": 3.0}, 1, "Invalid value for proxy_protocol: 3\n\n\nError: proxy_protocol must be string or bool\n"},
		{[]string{"-c", "F", "app:app"}, nil, map[string]any{"on_starting": "nodots"}, 1, "Invalid value for on_starting: nodots\n\n\nError: Value 'nodots' is not import string. Format: module[.submodules...].object\n"},
		{[]string{"-c", "F", "app:app"}, nil, map[string]any{"on_starting": 5.0}, 1, "Invalid value for on_starting: 5\n\n\nError: Value is not callable: 5\n"},
		{[]string{"-c", "F", "app:app"}, nil, map[string]any{"pre_fork": map[string]any{"callable": "<function f>", "arity": 1.0}}, 1, "Invalid value for pre_fork: <function f>\n\n\nError: Value must have an arity of: 2\n"},
		{[]string{"-c", "F", "app:app"}, nil, map[string]any{"post_request": map[string]any{"callable": "<function f>", "arity": 5.0}}, 1, "Invalid value for post_request: <function f>\n\n\nError: Value must have an arity of: 4\n"},
		{[]string{"-c", "F", "app:app"}, nil, map[string]any{"timeout": map[string]any{"callable": "<function t>"}}, 1, "Invalid value for timeout: <function t>\n\n\nError: setting timeout got a callable (<function t>); only server hooks, worker_class and logger_class may be callables. Assign a plain value instead.\n"},
	}
	conf := confFile(t)
	for _, tt := range tests {
		args := append([]string(nil), tt.args...)
		for i, a := range args {
			if a == "F" {
				args[i] = conf
			}
		}
		_, err := Parse(args, tt.env, fakeLoader(tt.file))
		var ce *Error
		if !errors.As(err, &ce) {
			t.Errorf("%q %q: got %v; want *Error", tt.args, tt.file, err)
			continue
		}
		if ce.Code != tt.code || ce.Output != tt.output {
			t.Errorf("%q %q: got code %d output\n%q; want %d\n%q", tt.args, tt.file, ce.Code, ce.Output, tt.code, tt.output)
		}
	}
}

func TestFileValues(t *testing.T) {
	conf := confFile(t)
	tests := []struct {
		value   any
		setting string
		want    any
	}{
		{"600", "timeout", 600},
		{"0x10", "workers", 16},
		{true, "workers", 1},
		{"0o22", "umask", 18},
		{"TRUE", "preload_app", true},
		{"0.0.0.0:80", "bind", []string{"0.0.0.0:80"}},
		{true, "proxy_protocol", "auto"},
		{"gunicorn.workers.ggevent.GeventWorker", "worker_class", "gunicorn.workers.ggevent.GeventWorker"},
		{"mod.hooks.on_start", "on_starting", "mod.hooks.on_start"},
		{1.5, "request_timeout", 1.5},
		{"web01", "unknown_name_ignored", nil},
	}
	for _, tt := range tests {
		c := mustParse(t, []string{"-c", conf, "app:app"}, nil, fakeLoader(map[string]any{tt.setting: tt.value}))
		if tt.setting == "unknown_name_ignored" {
			continue
		}
		if got := c.Value(tt.setting); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("file %s = %#v: got %#v; want %#v", tt.setting, tt.value, got, tt.want)
		}
		if c.Source(tt.setting) != FromFile {
			t.Errorf("file %s: source %q", tt.setting, c.Source(tt.setting))
		}
	}
}

func TestActions(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-v"}, "version"},
		{[]string{"--version", "--bogus"}, "version"},
		{[]string{"-h"}, "help"},
		{[]string{"--check-config", "app:app"}, "check-config"},
		{[]string{"--print-config", "app:app"}, "print-config"},
		{[]string{"app:app"}, "run"},
	}
	for _, tt := range tests {
		if got := mustParse(t, tt.args, nil, nil).Action(); got != tt.want {
			t.Errorf("%q: Action got %q; want %q", tt.args, got, tt.want)
		}
	}
	if VersionText() != "gonicorn (version "+Version+")\n" {
		t.Errorf("VersionText got %q", VersionText())
	}
	if h := Help(); !strings.HasPrefix(h, "usage: gonicorn [OPTIONS] [APP_MODULE]\n") || !strings.Contains(h, "--proxy-protocol [MODE]") {
		t.Errorf("Help lacks usage or --proxy-protocol [MODE]:\n%s", h)
	}
}

func TestWarnings(t *testing.T) {
	// dirty_threads and dirty_workers are not implemented yet; -w is.
	c := mustParse(t, []string{"--dirty-threads", "2", "--dirty-workers", "1", "-w", "2", "app:app"}, nil, nil)
	want := []string{
		"setting 'dirty_workers' is accepted but not implemented yet by gonicorn; it has no effect",
		"setting 'dirty_threads' is accepted but not implemented yet by gonicorn; it has no effect",
	}
	if got := c.Warnings(); !reflect.DeepEqual(got, want) {
		t.Errorf("Warnings got %q; want %q", got, want)
	}
}

func TestSendfile(t *testing.T) {
	tests := []struct {
		args []string
		env  []string
		want bool
	}{
		{nil, nil, true},
		{[]string{"--no-sendfile"}, []string{"SENDFILE=1"}, false},
		{nil, []string{"SENDFILE=no"}, false},
		{nil, []string{"SENDFILE=Yes"}, true},
	}
	for _, tt := range tests {
		if got := mustParse(t, append(tt.args, "app:app"), tt.env, nil).Sendfile(); got != tt.want {
			t.Errorf("%q %q: got %v; want %v", tt.args, tt.env, got, tt.want)
		}
	}
}
