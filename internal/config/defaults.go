package config

import (
	"os"
	"path/filepath"
	"strings"

	"github.com/gonicorn/gonicorn/internal/pytext"
)

// Defaults gunicorn computes from the environment when config.py is
// imported. Parse computes them from its environ argument instead, so
// tests do not depend on the real environment.

func defBind(env map[string]string, _ string) (any, error) {
	if p, ok := env["PORT"]; ok {
		return []string{"0.0.0.0:" + p}, nil
	}
	return []string{"127.0.0.1:8000"}, nil
}

func defWorkers(env map[string]string, _ string) (any, error) {
	w, ok := env["WEB_CONCURRENCY"]
	if !ok {
		return 1, nil
	}
	n, err := pytext.ParseInt(w, 10)
	if err != nil {
		return nil, &Error{Code: 1, Setting: "workers",
			Output: "\nError: WEB_CONCURRENCY must be a whole number of workers: " + err.Error() + "\n"}
	}
	return n, nil
}

func defForwarded(env map[string]string, _ string) (any, error) {
	if v, ok := env["FORWARDED_ALLOW_IPS"]; ok {
		return v, nil
	}
	return "127.0.0.1,::1", nil
}

func defChdir(_ map[string]string, cwd string) (any, error) { return cwd, nil }
func defUser(map[string]string, string) (any, error)        { return os.Geteuid(), nil }
func defGroup(map[string]string, string) (any, error)       { return os.Getegid(), nil }

func defControlSocket(env map[string]string, _ string) (any, error) {
	if x := env["XDG_RUNTIME_DIR"]; x != "" {
		if st, err := os.Stat(x); err == nil && st.IsDir() {
			return filepath.Join(x, "gunicorn.ctl"), nil
		}
	}
	home := env["HOME"]
	if home == "" {
		home, _ = os.UserHomeDir()
	}
	return filepath.Join(home, ".gunicorn", "gunicorn.ctl"), nil
}

// defPython picks the app's interpreter: the active virtualenv, else the
// first python3 on PATH, else plain "python3" (the zygote start then
// reports that it is missing).
func defPython(env map[string]string, _ string) (any, error) {
	if ve := env["VIRTUAL_ENV"]; ve != "" {
		return filepath.Join(ve, "bin", "python"), nil
	}
	for _, dir := range filepath.SplitList(env["PATH"]) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, "python3")
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "python3", nil
}

// getcwd is gunicorn's util.getcwd: $PWD when it names the same directory
// (keeps symlinked paths as the user typed them), else os.Getwd.
func getcwd(pwd string) string {
	wd, err := os.Getwd()
	if err != nil {
		wd = "."
	}
	if pwd != "" {
		a, errA := os.Stat(pwd)
		b, errB := os.Stat(wd)
		if errA == nil && errB == nil && os.SameFile(a, b) {
			return pwd
		}
	}
	return wd
}

func environMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if ok {
			m[k] = v
		}
	}
	return m
}
