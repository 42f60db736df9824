package listen

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// FromSystemd returns the listeners systemd passed with socket activation:
// when LISTEN_PID is this process, the LISTEN_FDS descriptors from fd 3 on.
// It then unsets LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES so children do not
// claim them too. It returns nil, nil when there is no activation for us.
func FromSystemd(opts Options) ([]*Listener, error) {
	pidStr, ok := os.LookupEnv("LISTEN_PID")
	if !ok {
		return nil, nil
	}
	pid, err := strconv.Atoi(strings.TrimSpace(pidStr))
	if err != nil || pid != os.Getpid() {
		return nil, nil
	}
	fdsStr := os.Getenv("LISTEN_FDS")
	n, err := strconv.Atoi(strings.TrimSpace(fdsStr))
	for _, k := range []string{"LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES"} {
		os.Unsetenv(k)
	}
	if err != nil || n < 0 {
		return nil, fmt.Errorf("listen: systemd socket activation: LISTEN_FDS=%q is not a count; check the .socket unit", fdsStr)
	}
	var out []*Listener
	for fd := sdListenFDsStart; fd < sdListenFDsStart+n; fd++ {
		l, err := FromFD(fd, opts)
		if err != nil {
			for _, o := range out {
				o.Close()
			}
			return nil, fmt.Errorf("listen: systemd socket activation: %w", err)
		}
		out = append(out, l)
	}
	return out, nil
}

const sdListenFDsStart = 3
