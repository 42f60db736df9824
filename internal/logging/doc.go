// Package logging writes the user-visible log lines of gonicorn exactly as
// gunicorn does, so that log shippers, dashboards and greps written for
// gunicorn keep working after the switch.
//
// Two logs live here:
//
//   - the error log ([ErrorLog]): "[%Y-%m-%d %H:%M:%S %z] [pid] [LEVEL] msg",
//     filtered by --log-level, written to stderr ("-") or appended to a file;
//   - the access log ([AccessLog], [AccessFormat]): one line per request
//     rendered from a gunicorn access_log_format template with %(atom)s atoms,
//     written to stdout ("-") or appended to a file, off when the target is "".
//
// With --log-syslog both also go to a syslog daemon ([Syslog]), in gunicorn's
// "<PRI>gunicorn.<prefix>.<error|access>: [pid] message" datagrams, through a
// queue so a slow or dead daemon never stalls a request.
//
// Both reopen their file targets on USR1 ([ErrorLog.Reopen], [AccessLog.Reopen])
// so logrotate can rename the files underneath, and both issue one write(2)
// per line so lines from many goroutines (and, with O_APPEND, many
// processes) never interleave.
//
// Internal diagnostics do not belong here: they use log/slog (see
// /work/shared/STYLE.md, "Two logging layers").
package logging
