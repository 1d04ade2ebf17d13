//go:build !unix

package portalsim

import (
	"fmt"
	"io"
	"net"
)

// refusingPort returns a loopback address nothing listens on: a port
// listened on and closed again. Another listener may be given it later;
// the unix version holds the port instead.
func refusingPort() (string, io.Closer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("portalsim: reserve port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", nil, fmt.Errorf("portalsim: reserve port: %w", err)
	}
	return addr, io.NopCloser(nil), nil
}
