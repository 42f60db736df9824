package logging

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func newFileErrorLog(t *testing.T, level Level) (*ErrorLog, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "error.log")
	l, err := NewErrorLog(path, level)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSuffix(string(b), "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

var lineRE = regexp.MustCompile(`^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d{4}\] \[(\d+)\] \[(DEBUG|INFO|WARNING|ERROR|CRITICAL)\] (.*)$`)

func TestErrorLogLineFormat(t *testing.T) {
	l, path := newFileErrorLog(t, LevelInfo)
	l.Info("Starting gunicorn %s", "26.1.0")
	l.WithPid(6237).Info("Booting worker with pid: %d", 6237)
	l.Line(99, LevelWarning, "relayed 100%")
	lines := readLines(t, path)
	want := []struct{ pid, level, msg string }{
		{fmt.Sprint(os.Getpid()), "INFO", "Starting gunicorn 26.1.0"},
		{"6237", "INFO", "Booting worker with pid: 6237"},
		{"99", "WARNING", "relayed 100%"},
	}
	if len(lines) != len(want) {
		t.Fatalf("got %d lines %q; want %d", len(lines), lines, len(want))
	}
	for i, w := range want {
		m := lineRE.FindStringSubmatch(lines[i])
		if m == nil {
			t.Errorf("line %d: got %q; want it to match %s", i, lines[i], lineRE)
			continue
		}
		if m[1] != w.pid || m[2] != w.level || m[3] != w.msg {
			t.Errorf("line %d: got pid=%s level=%s msg=%q; want pid=%s level=%s msg=%q", i, m[1], m[2], m[3], w.pid, w.level, w.msg)
		}
	}
}

func TestErrorLogExactText(t *testing.T) {
	l, path := newFileErrorLog(t, LevelDebug)
	l.s.now = func() time.Time { return time.Date(2026, 11, 26, 6, 2, 51, 0, time.FixedZone("", 0)) }
	l = l.WithPid(6176)
	l.Info("Starting gunicorn 26.1.0")
	l.Info("Listening at: %s (%d)", "http://127.0.0.1:18123", 6176)
	l.Exception("Exception in worker process", errors.New("Traceback (most recent call last):\n  boom\n"))
	l.s.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("", -5*3600)) }
	l.Critical("WORKER TIMEOUT (pid:%d)", 7)
	got := strings.Join(readLines(t, path), "\n")
	want := `[2026-11-26 06:02:51 +0000] [6176] [INFO] Starting gunicorn 26.1.0
[2026-11-26 06:02:51 +0000] [6176] [INFO] Listening at: http://127.0.0.1:18123 (6176)
[2026-11-26 06:02:51 +0000] [6176] [ERROR] Exception in worker process
Traceback (most recent call last):
  boom
[2026-01-02 03:04:05 -0500] [6176] [CRITICAL] WORKER TIMEOUT (pid:7)`
	if got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestErrorLogLevelFiltering(t *testing.T) {
	emit := func(l *ErrorLog) {
		l.Debug("d")
		l.Info("i")
		l.Warning("w")
		l.Error("e")
		l.Critical("c")
		l.Exception("x", nil)
	}
	tests := []struct {
		level string
		want  string
	}{
		{"debug", "DEBUG INFO WARNING ERROR CRITICAL ERROR"},
		{"info", "INFO WARNING ERROR CRITICAL ERROR"},
		{"WARNING", "WARNING ERROR CRITICAL ERROR"},
		{"error", "ERROR CRITICAL ERROR"},
		{"critical", "CRITICAL"},
	}
	for _, tt := range tests {
		lvl, err := ParseLevel(tt.level)
		if err != nil {
			t.Fatal(err)
		}
		l, path := newFileErrorLog(t, lvl)
		emit(l)
		var got []string
		for _, line := range readLines(t, path) {
			got = append(got, lineRE.FindStringSubmatch(line)[2])
		}
		if g := strings.Join(got, " "); g != tt.want {
			t.Errorf("--log-level %s: got %q; want %q", tt.level, g, tt.want)
		}
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    Level
		wantErr bool
	}{
		{"debug", LevelDebug, false}, {"Info", LevelInfo, false}, {"warning", LevelWarning, false},
		{"warn", LevelWarning, false}, {"error", LevelError, false}, {"CRITICAL", LevelCritical, false},
		{"verbose", LevelInfo, true}, {"", LevelInfo, true},
	}
	for _, tt := range tests {
		got, err := ParseLevel(tt.in)
		if got != tt.want || (err != nil) != tt.wantErr {
			t.Errorf("ParseLevel(%q): got %v, %v; want %v, err=%v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err != nil && (!errors.Is(err, ErrBadLevel) || !strings.Contains(err.Error(), "--log-level")) {
			t.Errorf("ParseLevel(%q): got error %v; want ErrBadLevel naming --log-level", tt.in, err)
		}
	}
}

func TestErrorLogSetLevel(t *testing.T) {
	l, path := newFileErrorLog(t, LevelWarning)
	l.Info("hidden")
	l.WithPid(5).SetLevel(LevelDebug) // shared with the parent
	l.Debug("shown")
	if got := readLines(t, path); len(got) != 1 || !strings.HasSuffix(got[0], "[DEBUG] shown") {
		t.Fatalf("got %q; want one DEBUG line", got)
	}
}

func TestErrorLogReopenAfterRename(t *testing.T) {
	l, path := newFileErrorLog(t, LevelInfo)
	l.Info("before")
	rotated := path + ".1"
	if err := os.Rename(path, rotated); err != nil {
		t.Fatal(err)
	}
	l.Info("still old file")
	if err := l.Reopen(); err != nil {
		t.Fatalf("Reopen: %v", err)
	}
	l.Info("after")
	old, cur := readLines(t, rotated), readLines(t, path)
	if len(old) != 2 || !strings.HasSuffix(old[1], "still old file") {
		t.Errorf("rotated file: got %q; want the two lines before Reopen", old)
	}
	if len(cur) != 1 || !strings.HasSuffix(cur[0], "after") {
		t.Errorf("new file: got %q; want only the line after Reopen", cur)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm()&^0o644 != 0 {
		t.Errorf("new file mode: got %v, %v; want at most 0644", st.Mode(), err)
	}
}

func TestErrorLogStderrReopenIsNoop(t *testing.T) {
	l, err := NewErrorLog("-", LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); err != nil {
		t.Errorf("Reopen on stderr: got %v; want nil", err)
	}
	if l.File() != os.Stderr {
		t.Errorf("File(): got %v; want os.Stderr", l.File())
	}
}

func TestErrorLogOpenError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing-dir", "error.log")
	_, err := NewErrorLog(path, LevelInfo)
	if err == nil || !strings.Contains(err.Error(), "--error-logfile") || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v; want an error naming --error-logfile and %q", err, path)
	}
}

func TestErrorLogConcurrentLinesIntact(t *testing.T) {
	l, path := newFileErrorLog(t, LevelInfo)
	const goroutines, per = 8, 200
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range per {
				l.WithPid(g).Info("goroutine %d line %d %s", g, i, strings.Repeat("x", 200))
			}
		})
		wg.Go(func() { _ = l.Reopen() }) // reopening while writing must not lose or tear lines
	}
	wg.Wait()
	lines := readLines(t, path)
	if len(lines) != goroutines*per {
		t.Fatalf("got %d lines; want %d", len(lines), goroutines*per)
	}
	for _, line := range lines {
		if !lineRE.MatchString(line) || !strings.HasSuffix(line, strings.Repeat("x", 200)) {
			t.Fatalf("torn line %q", line)
		}
	}
}

func TestErrorLogCloseDropsLines(t *testing.T) {
	l, path := newFileErrorLog(t, LevelInfo)
	l.Info("one")
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l.Info("two")
	if got := readLines(t, path); len(got) != 1 {
		t.Fatalf("got %q; want only the line before Close", got)
	}
}

// TestCaptureOutput redirects stdout and stderr, so it runs in a child copy
// of the test binary.
func TestCaptureOutput(t *testing.T) {
	if path := os.Getenv("LOGGING_CAPTURE_CHILD"); path != "" {
		l, err := NewErrorLog(path, LevelInfo)
		if err != nil {
			os.Exit(2)
		}
		if err := l.CaptureOutput(); err != nil {
			os.Exit(3)
		}
		fmt.Println("to stdout")
		fmt.Fprintln(os.Stderr, "to stderr")
		os.Rename(path, path+".1")
		if err := l.Reopen(); err != nil {
			os.Exit(4)
		}
		fmt.Println("after reopen")
		os.Exit(0)
	}
	path := filepath.Join(t.TempDir(), "error.log")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestCaptureOutput$")
	cmd.Env = append(os.Environ(), "LOGGING_CAPTURE_CHILD="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if got := strings.Join(readLines(t, path+".1"), "|"); got != "to stdout|to stderr" {
		t.Errorf("rotated file: got %q; want %q", got, "to stdout|to stderr")
	}
	if got := strings.Join(readLines(t, path), "|"); got != "after reopen" {
		t.Errorf("reopened file: got %q; want %q", got, "after reopen")
	}
}
