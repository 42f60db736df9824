// Package listen turns gunicorn bind specs into listening sockets.
//
// It accepts every form of gunicorn's --bind (HOST, HOST:PORT, [v6]:PORT,
// [v6], unix:PATH, fd://N, tcp://HOST:PORT) and systemd socket activation
// (LISTEN_FDS/LISTEN_PID), and behaves like gunicorn's sock.py while doing
// so: SO_REUSEADDR and TCP_NODELAY on TCP sockets, SO_REUSEPORT with
// --reuse-port, the --backlog honoured exactly (sockets are made with raw
// socket/bind/listen calls because net.Listen always asks for somaxconn),
// a stale unix socket file replaced but any other file refused, the --umask
// applied to unix socket files, and the "Connection in use" retry loop with
// gunicorn's log lines.
//
// Each Listener keeps the *os.File of its socket so the arbiter can pass it
// to a re-executed master (USR2) and to workers binding with --reuse-port.
//
// The raw socket calls are Linux-specific; gonicorn targets Linux.
package listen
