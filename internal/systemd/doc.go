// Package systemd sends service notifications to systemd (sd_notify) over
// the datagram socket named by $NOTIFY_SOCKET, as gunicorn's
// systemd.sd_notify does: the master reports READY=1 with a STATUS line
// once it has bound its listeners, so a Type=notify unit becomes active
// only when gonicorn can take requests. Outside systemd (no NOTIFY_SOCKET)
// every call is a no-op.
//
// Socket activation (LISTEN_FDS/LISTEN_PID) is in internal/listen.
package systemd
