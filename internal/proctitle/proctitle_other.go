//go:build !linux

package proctitle

// Keep does nothing here: the title is only set on Linux.
func Keep() {}

// Set does nothing here: the title is only set on Linux.
func Set(title string) {}
