//go:build linux

package proctitle

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestSetTitle runs this test binary again as a child that sets its title,
// and reads the child's /proc/PID/cmdline from here, as ps does.
func TestSetTitle(t *testing.T) {
	if title := os.Getenv("PROCTITLE_CHILD"); title != "" {
		Keep()
		args := strings.Join(os.Args, " ")
		Set(title)
		if got := strings.Join(os.Args, " "); got != args {
			t.Errorf("os.Args changed to %q; want %q", got, args)
		}
		os.Stdout.WriteString("ready\n")
		os.Stdin.Read(make([]byte, 1)) // wait while the parent looks
		return
	}
	for _, tc := range []struct{ title, want string }{
		{"gonicorn: master [app]", "gonicorn: master [app]"},
		{strings.Repeat("x", 4096), ""}, // cut to the argv length
	} {
		cmd := exec.Command(os.Args[0], "-test.run=TestSetTitle", "-test.v=false")
		cmd.Env = append(os.Environ(), "PROCTITLE_CHILD="+tc.title)
		stdin, _ := cmd.StdinPipe()
		stdout, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 6)
		if _, err := stdout.Read(buf); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/cmdline")
		stdin.Close()
		cmd.Wait()
		if err != nil {
			t.Fatal(err)
		}
		got := string(bytes.TrimRight(raw, "\x00"))
		if tc.want != "" && got != tc.want {
			t.Errorf("cmdline %q; want %q", got, tc.want)
		}
		if tc.want == "" && (!strings.HasPrefix(tc.title, got) || len(got) == 0 || len(got) >= len(tc.title)) {
			t.Errorf("cmdline %q; want a non-empty prefix of the title, cut short", got)
		}
	}
}
