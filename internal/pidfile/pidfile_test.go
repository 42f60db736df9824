package pidfile

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// deadPID returns the PID of a process that has exited.
func deadPID(t *testing.T) int {
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skipf("cannot run true: %v", err)
	}
	return cmd.Process.Pid
}

func TestCreate(t *testing.T) {
	live := os.Getppid() // the go command: alive while we run
	tests := []struct {
		name     string
		existing string // "" = no file, except for "empty"
		refuse   int    // the live PID Create must refuse; 0 = success
	}{
		{"no file", "", 0},
		{"live PID", strconv.Itoa(live) + "\n", live},
		{"live PID, spaces", "  " + strconv.Itoa(live) + " ", live},
		{"dead PID", strconv.Itoa(deadPID(t)) + "\n", 0},
		{"our own PID", strconv.Itoa(os.Getpid()) + "\n", 0},
		{"garbage", "hello\n", 0},
		{"empty", "", 0},
		{"zero", "0\n", 0},
		{"negative", "-1\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "app.pid")
			if tc.existing != "" || tc.name == "empty" {
				if err := os.WriteFile(path, []byte(tc.existing), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			p, err := Create(path, 4242)
			if tc.refuse != 0 {
				var re *RunningError
				want := "Already running on PID " + strconv.Itoa(tc.refuse) + " (or pid file '" + path + "' is stale)"
				if !errors.As(err, &re) || err.Error() != want {
					t.Fatalf("got %v; want RunningError %q", err, want)
				}
				if b, _ := os.ReadFile(path); string(b) != tc.existing {
					t.Errorf("refused create changed the file to %q", b)
				}
				return
			}
			if err != nil {
				t.Fatalf("got %v; want success", err)
			}
			b, err := os.ReadFile(path)
			if err != nil || string(b) != "4242\n" {
				t.Errorf("file holds %q, %v; want \"4242\\n\"", b, err)
			}
			st, _ := os.Stat(path)
			if st.Mode().Perm() != 0o644 {
				t.Errorf("mode %v; want 0644", st.Mode().Perm())
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 1 {
				t.Errorf("directory holds %d entries; want only the pid file (no temp files left)", len(entries))
			}
			if p.Path() != path || p.PID() != 4242 {
				t.Errorf("got %s %d; want %s 4242", p.Path(), p.PID(), path)
			}
		})
	}
}

func TestCreateMissingDir(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope", "app.pid")
	_, err := Create(path, 1)
	want := "pidfile: " + filepath.Dir(path) + " doesn't exist. Can't create pidfile '" + path + "'; create the directory or choose another --pid path"
	if err == nil || err.Error() != want {
		t.Errorf("got %v; want %q", err, want)
	}
}

func TestUnlink(t *testing.T) {
	tests := []struct {
		name     string
		replace  string // new content before Unlink; "-" = remove the file
		wantGone bool
	}{
		{"still ours", "", true},
		{"taken over", "999999\n", false},
		{"emptied", " ", false},
		{"already gone", "-", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.pid")
			p, err := Create(path, 4242)
			if err != nil {
				t.Fatal(err)
			}
			switch tc.replace {
			case "":
			case "-":
				os.Remove(path)
			default:
				os.WriteFile(path, []byte(tc.replace), 0o644)
			}
			if err := p.Unlink(); err != nil {
				t.Fatalf("Unlink: %v", err)
			}
			_, err = os.Stat(path)
			if gone := os.IsNotExist(err); gone != tc.wantGone {
				t.Errorf("file gone = %v; want %v", gone, tc.wantGone)
			}
		})
	}
}

func TestRename(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.pid"), filepath.Join(dir, "a.pid.2"), filepath.Join(dir, "c.pid")
	p, err := Create(a, 4242)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Rename(b); err != nil {
		t.Fatalf("Rename: %v", err)
	}
	if _, err := os.Stat(a); !os.IsNotExist(err) {
		t.Errorf("old file still there (%v); want it removed", err)
	}
	if got, _ := os.ReadFile(b); string(got) != "4242\n" || p.Path() != b {
		t.Errorf("new file holds %q, Path %s; want \"4242\\n\", %s", got, p.Path(), b)
	}
	os.WriteFile(c, []byte(strconv.Itoa(os.Getppid())), 0o644)
	var re *RunningError
	if err := p.Rename(c); !errors.As(err, &re) || re.PID != os.Getppid() {
		t.Errorf("Rename onto a live PID: got %v; want RunningError", err)
	}
}
