// Package ipc moves wire frames over the Unix stream sockets that join the
// Go process to the zygote and to each worker. It adds what the sans-IO
// codec in internal/wire leaves out: buffering, file descriptors passed
// with SCM_RIGHTS, and socketpair creation.
package ipc
