//go:build unix

package portalsim

import (
	"errors"
	"net"
	"net/url"
	"syscall"
	"testing"
	"time"
)

// An unreachable site refuses connections for as long as the fleet runs,
// and its port cannot be given to another listener meanwhile (a port
// merely closed again could be, and a test's server would then answer for
// the unreachable site).
func TestUnreachableSiteKeepsItsPort(t *testing.T) {
	f, err := Start(Spec{AsOf: time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC), Sites: []Site{{AgencyID: "down", Fault: FaultUnreachable}}})
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(f.URL("down"))
	if err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", u.Host, 5*time.Second); err == nil {
		c.Close()
		t.Fatalf("a connection to the unreachable site %s was accepted", u.Host)
	} else if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("dial %s: %v, want connection refused", u.Host, err)
	}
	if ln, err := net.Listen("tcp", u.Host); err == nil {
		ln.Close()
		t.Fatalf("another listener was given the unreachable site's port %s", u.Host)
	}
	f.Close()
	ln, err := net.Listen("tcp", u.Host) // released with the fleet
	if err != nil {
		t.Fatalf("the port %s is still held after Close: %v", u.Host, err)
	}
	ln.Close()
}

// Closing a fleet twice closes the sockets holding its refusing ports once:
// the descriptor closed again could by then be another file's.
func TestCloseTwiceLeavesOtherDescriptors(t *testing.T) {
	f, err := Start(Spec{AsOf: time.Date(2026, 2, 3, 9, 0, 0, 0, time.UTC), Sites: []Site{{AgencyID: "down", Fault: FaultUnreachable}}})
	if err != nil {
		t.Fatal(err)
	}
	fd := int(f.refusing[0].(fdCloser))
	f.Close()
	// The kernel gives out the lowest free descriptor: open sockets until
	// one has the number the fleet let go.
	var held []int
	defer func() {
		for _, s := range held {
			_ = syscall.Close(s)
		}
	}()
	for len(held) < 64 {
		s, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM, 0)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, s)
		if s == fd {
			break
		}
	}
	if held[len(held)-1] != fd {
		t.Skipf("descriptor %d was not given out again", fd)
	}
	f.Close()
	if _, err := syscall.Getsockname(fd); err != nil {
		t.Fatalf("the second Close closed descriptor %d, another socket by then: %v", fd, err)
	}
}
