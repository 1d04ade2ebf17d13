//go:build unix

package portalsim

import (
	"fmt"
	"io"
	"syscall"
)

// refusingPort returns a loopback address whose connections are refused,
// and what holds it. The port is taken by a socket that is bound but never
// listens: the kernel refuses connections to it (a reset, ECONNREFUSED),
// and, unlike a port merely closed again, no other listener — another
// test's server — can be given it while the fleet runs.
func refusingPort() (string, io.Closer, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
	if err != nil {
		return "", nil, fmt.Errorf("portalsim: reserve port: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		_ = syscall.Close(fd)
		return "", nil, fmt.Errorf("portalsim: reserve port: %w", err)
	}
	sa, err := syscall.Getsockname(fd)
	in4, ok := sa.(*syscall.SockaddrInet4)
	if err != nil || !ok {
		_ = syscall.Close(fd)
		return "", nil, fmt.Errorf("portalsim: reserve port: %v", err)
	}
	return fmt.Sprintf("127.0.0.1:%d", in4.Port), fdCloser(fd), nil
}

type fdCloser int

func (c fdCloser) Close() error { return syscall.Close(int(c)) }
