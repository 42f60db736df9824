// Package pidfile manages the master's PID file (the pidfile setting), with
// gunicorn's rules (gunicorn/pidfile.py): refuse to start while the PID
// recorded in the file is alive, write the file atomically (temporary file
// in the same directory, then rename) with mode 0644, and on exit remove it
// only if it still holds our PID, so that a newer master's file survives.
//
// The arbiter creates it after binding, renames it when a USR2 re-exec
// hands over (the new master writes PATH.2 and the old one moves aside),
// and unlinks it on shutdown.
package pidfile
