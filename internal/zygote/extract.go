package zygote

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	pyruntime "github.com/gonicorn/gonicorn/runtime/python"
)

// Extract writes the embedded runtime into a cache directory named after its
// content hash and returns the directory to put on PYTHONPATH. An existing,
// complete copy is reused, so a restart costs one stat.
func Extract() (string, error) {
	h := sha256.New()
	var files []string
	err := fs.WalkDir(pyruntime.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := pyruntime.FS.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, p)
		h.Write([]byte(p))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("zygote: reading the embedded runtime: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))[:16]
	var lastErr error
	for _, base := range cacheRoots() {
		dir := filepath.Join(base, "runtime-"+sum)
		if _, err := os.Stat(filepath.Join(dir, ".complete")); err == nil {
			return dir, nil
		}
		if err := writeTree(dir, files); err != nil {
			lastErr = err
			continue
		}
		return dir, nil
	}
	return "", fmt.Errorf("zygote: cannot extract the Python runtime (set XDG_CACHE_HOME to a writable directory): %w", lastErr)
}

func cacheRoots() []string {
	var roots []string
	if d := os.Getenv("XDG_CACHE_HOME"); d != "" {
		roots = append(roots, filepath.Join(d, "gonicorn"))
	}
	if d, err := os.UserHomeDir(); err == nil {
		roots = append(roots, filepath.Join(d, ".cache", "gonicorn"))
	}
	return append(roots, filepath.Join(os.TempDir(), fmt.Sprintf("gonicorn-%d", os.Getuid())))
}

// writeTree fills a temporary sibling and renames it into place, so that two
// masters starting at once never see a half-written runtime.
func writeTree(dir string, files []string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".extract-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, p := range files {
		b, err := pyruntime.FS.ReadFile(p)
		if err != nil {
			return err
		}
		dst := filepath.Join(tmp, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return err
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, ".complete")); serr == nil {
			return nil // another master won the race
		}
		return err
	}
	return nil
}
