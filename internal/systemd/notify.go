package systemd

import (
	"fmt"
	"net"
	"os"
)

// Booted is the state gunicorn's arbiter sends after binding.
const Booted = "READY=1\nSTATUS=Gunicorn arbiter booted"

// Other common states (see sd_notify(3)).
const (
	Ready     = "READY=1"
	Reloading = "RELOADING=1"
	Stopping  = "STOPPING=1"
)

// Notify sends state (newline-separated VAR=value assignments) to the
// socket in $NOTIFY_SOCKET. A name starting with '@' is a Linux abstract
// socket. It does nothing and returns nil when NOTIFY_SOCKET is unset or
// empty. gunicorn logs failures at debug level and carries on; callers
// should do the same, since a notification never decides whether to serve.
func Notify(state string) error {
	addr := os.Getenv("NOTIFY_SOCKET")
	if addr == "" {
		return nil
	}
	// Go's unix sockets already map a leading '@' to the abstract namespace.
	c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		return fmt.Errorf("systemd: notify %q: %w; is NOTIFY_SOCKET from the service manager?", addr, err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(state)); err != nil {
		return fmt.Errorf("systemd: notify %q: %w", addr, err)
	}
	return nil
}
