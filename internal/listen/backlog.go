package listen

import (
	"syscall"
	"unsafe"
)

// Backlog is the number of connections in the kernel's accept queue of a
// TCP listener: tcp_info's tcpi_unacked, which Linux reports there for a
// listening socket (gunicorn's sock.get_backlog). It is -1 for unix sockets
// and when the kernel does not say.
func (l *Listener) Backlog() int {
	if l.IsUnix() {
		return -1
	}
	sc, ok := l.Listener.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	n := -1
	_ = rc.Control(func(fd uintptr) {
		// struct tcp_info (include/uapi/linux/tcp.h): eight u8 fields,
		// then u32s; tcpi_unacked is the fifth u32.
		var info [104]byte
		size := uint32(len(info))
		_, _, errno := syscall.Syscall6(syscall.SYS_GETSOCKOPT, fd, syscall.IPPROTO_TCP, syscall.TCP_INFO,
			uintptr(unsafe.Pointer(&info[0])), uintptr(unsafe.Pointer(&size)), 0)
		if errno == 0 && size >= 28 {
			n = int(uint32(info[24]) | uint32(info[25])<<8 | uint32(info[26])<<16 | uint32(info[27])<<24)
		}
	})
	return n
}
