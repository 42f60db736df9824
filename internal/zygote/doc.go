// Package zygote starts and commands the Python zygote: the one Python
// process that evaluates the config file, runs the master-side server hooks,
// imports the app under --preload and forks the workers.
//
// Go never forks (a Go process cannot fork safely), so every Python worker is
// a child of the zygote. The arbiter talks to the zygote over the control
// channel described in docs/protocol.md: a socketpair whose zygote end is
// fd 3. Worker channels are socketpairs created here and handed to the zygote
// with SCM_RIGHTS, so no socket path ever exists on disk.
package zygote
