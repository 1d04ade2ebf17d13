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
