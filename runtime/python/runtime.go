// Package pyruntime carries gonicorn's Python runtime (the zygote and the
// worker classes) inside the Go binary, so that installing gonicorn is copying
// one file. The runtime is stdlib-only and runs in the user's interpreter,
// next to the user's own packages.
package pyruntime

import "embed"

// FS holds the gonicorn_runtime package. internal/zygote extracts it to a
// cache directory keyed by its content hash before starting Python.
//
//go:embed gonicorn_runtime/*.py
var FS embed.FS
