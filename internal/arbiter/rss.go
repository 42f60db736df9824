package arbiter

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// rssBytes reads a process's resident set size from /proc; 0 when unknown.
func rssBytes(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	i := bytes.Index(b, []byte("VmRSS:"))
	if i < 0 {
		return 0
	}
	line := b[i+len("VmRSS:"):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(string(line)), " kB"), 10, 64)
	if err != nil {
		return 0
	}
	return kb << 10
}
