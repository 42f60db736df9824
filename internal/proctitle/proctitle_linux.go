package proctitle

import (
	"os"
	"strings"
	"unsafe"
)

// area is the original argv memory: the arguments one after another, each
// ended by a NUL. nil when they are not laid out that way.
var area []byte

// Keep copies os.Args out of the argv memory and remembers that memory
// for Set. Call it before anything reads os.Args.
func Keep() {
	args := os.Args
	if len(args) == 0 || len(args[0]) == 0 {
		return
	}
	start := unsafe.StringData(args[0])
	end := uintptr(unsafe.Pointer(start))
	for _, a := range args {
		if len(a) > 0 && uintptr(unsafe.Pointer(unsafe.StringData(a))) != end {
			return // not the kernel's contiguous argv: leave it alone
		}
		end += uintptr(len(a)) + 1
	}
	n := int(end - uintptr(unsafe.Pointer(start)))
	kept := make([]string, len(args))
	for i, a := range args {
		kept[i] = strings.Clone(a)
	}
	os.Args = kept
	area = unsafe.Slice(start, n)
}

// Set writes title over the argv memory, cut to fit, NUL-padded. It does
// nothing when Keep found no usable argv memory.
func Set(title string) {
	if len(area) == 0 {
		return
	}
	n := copy(area[:len(area)-1], title)
	clear(area[n:])
}
