package logging

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

func newFileAccessLog(t *testing.T) (*AccessLog, string) {
	t.Helper()
	f, err := CompileAccessFormat(DefaultAccessLogFormat)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "access.log")
	l, err := NewAccessLog(path, f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

const observedLine = `127.0.0.1 - - [26/Nov/2026:06:02:53 +0000] "GET /foo?x=1 HTTP/1.1" 200 2 "-" "test-agent"`

func TestAccessLogWritesLines(t *testing.T) {
	l, path := newFileAccessLog(t)
	if !l.Enabled() {
		t.Fatal("Enabled: got false; want true")
	}
	l.Log(observedEntry())
	l.Log(observedEntry())
	if got, want := readLines(t, path), []string{observedLine, observedLine}; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got %q; want %q", got, want)
	}
}

func TestAccessLogOff(t *testing.T) {
	f, _ := CompileAccessFormat(DefaultAccessLogFormat)
	l, err := NewAccessLog("", f)
	if err != nil {
		t.Fatal(err)
	}
	var nilLog *AccessLog
	for _, l := range []*AccessLog{l, nilLog} {
		if l.Enabled() {
			t.Errorf("Enabled: got true; want false")
		}
		l.Log(observedEntry()) // must not panic
		if err := l.Reopen(); err != nil {
			t.Errorf("Reopen: got %v; want nil", err)
		}
		if err := l.Close(); err != nil {
			t.Errorf("Close: got %v; want nil", err)
		}
	}
}

func TestAccessLogReopenAfterRename(t *testing.T) {
	l, path := newFileAccessLog(t)
	l.Log(observedEntry())
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	if err := l.Reopen(); err != nil {
		t.Fatalf("Reopen: %v", err)
	}
	l.Log(observedEntry())
	if got := readLines(t, path+".1"); len(got) != 1 {
		t.Errorf("rotated: got %q; want 1 line", got)
	}
	if got := readLines(t, path); len(got) != 1 || got[0] != observedLine {
		t.Errorf("new file: got %q; want [%q]", got, observedLine)
	}
}

func TestAccessLogOpenError(t *testing.T) {
	f, _ := CompileAccessFormat(DefaultAccessLogFormat)
	path := filepath.Join(t.TempDir(), "nope", "access.log")
	_, err := NewAccessLog(path, f)
	if err == nil || !strings.Contains(err.Error(), "--access-logfile") {
		t.Fatalf("got %v; want an error naming --access-logfile", err)
	}
}

func TestAccessLogConcurrent(t *testing.T) {
	l, path := newFileAccessLog(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				l.Log(observedEntry())
			}
		})
	}
	wg.Go(func() { _ = l.Reopen() })
	wg.Wait()
	lines := readLines(t, path)
	if len(lines) != 800 {
		t.Fatalf("got %d lines; want 800", len(lines))
	}
	for _, line := range lines {
		if line != observedLine {
			t.Fatalf("got line %q; want %q", line, observedLine)
		}
	}
}

func TestAccessLogNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops buffers at random under -race")
	}
	f, _ := CompileAccessFormat(DefaultAccessLogFormat)
	l, err := NewAccessLog(os.DevNull, f)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	e := observedEntry()
	if allocs := testing.AllocsPerRun(500, func() { l.Log(e) }); allocs != 0 {
		t.Fatalf("got %v allocs per Log; want 0", allocs)
	}
}

func BenchmarkAccessLogDevNull(b *testing.B) {
	f, _ := CompileAccessFormat(DefaultAccessLogFormat)
	l, err := NewAccessLog(os.DevNull, f)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	e := observedEntry()
	b.ReportAllocs()
	for b.Loop() {
		l.Log(e)
	}
}
