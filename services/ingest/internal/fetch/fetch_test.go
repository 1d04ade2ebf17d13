package fetch

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/portalsim"
)

func fast(o Options) Options {
	o.AllowPrivate = true
	o.Backoff = time.Millisecond
	o.IgnoreRobots = true // the handlers count requests; robots.txt has its own tests
	return o
}

func TestGuardRefusesPrivateAddressesUnlessAllowed(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) }))
	defer srv.Close()
	_, err := New(Options{}).Get(context.Background(), srv.URL)
	if OutcomeOf(err) != events.OutcomeBlocked || !strings.Contains(err.Error(), "address not allowed: 127.0.0.1") {
		t.Fatalf("loopback fetch: %v (outcome %s)", err, OutcomeOf(err))
	}
	p, err := New(Options{AllowPrivate: true}).Get(context.Background(), srv.URL)
	if err != nil || string(p.Body) != "ok" {
		t.Fatalf("allowed fetch: %v", err)
	}
}

func TestGuardAppliesToRedirects(t *testing.T) {
	// A public-looking first hop cannot be simulated offline; the guard
	// runs in the dialer, so every hop's connection is checked. Here: a
	// redirect to a non-http scheme is refused.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	}))
	defer srv.Close()
	_, err := New(fast(Options{})).Get(context.Background(), srv.URL)
	if OutcomeOf(err) != events.OutcomeBlocked {
		t.Fatalf("redirect to file: %v (outcome %s)", err, OutcomeOf(err))
	}
}

func TestPublic(t *testing.T) {
	for ip, want := range map[string]bool{
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "100.64.0.1": false, "0.0.0.0": false, "::1": false, "fd00::1": false,
		"fe80::1": false, "224.0.0.1": false, "8.8.8.8": true, "2001:4860:4860::8888": true, "202.96.134.133": true,
	} {
		if got := Public(net.ParseIP(ip)); got != want {
			t.Errorf("Public(%s) = %v, want %v", ip, got, want)
		}
	}
}

func TestRetriesServerErrorsThenGivesUp(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if n.Add(1) < 3 {
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("third time lucky"))
	}))
	defer srv.Close()
	p, err := New(fast(Options{Retries: 2})).Get(context.Background(), srv.URL)
	if err != nil || string(p.Body) != "third time lucky" || n.Load() != 3 {
		t.Fatalf("got %v after %d attempts", err, n.Load())
	}
	n.Store(-100)
	_, err = New(fast(Options{Retries: 2})).Get(context.Background(), srv.URL)
	if OutcomeOf(err) != events.OutcomeHTTPError || !strings.Contains(err.Error(), "status 503") {
		t.Fatalf("persistent 503: %v", err)
	}
}

func TestNotFoundIsNotRetried(t *testing.T) {
	var n atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { n.Add(1); http.NotFound(w, r) }))
	defer srv.Close()
	_, err := New(fast(Options{Retries: 3})).Get(context.Background(), srv.URL)
	if OutcomeOf(err) != events.OutcomeHTTPError || n.Load() != 1 {
		t.Fatalf("404: %v after %d attempts", err, n.Load())
	}
}

func TestSizeCapAndRedirectLoop(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/big", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(make([]byte, 2048)) })
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	f := New(fast(Options{MaxBytes: 1024, MaxRedirects: 3}))
	if _, err := f.Get(context.Background(), srv.URL+"/big"); OutcomeOf(err) != events.OutcomeTooLarge {
		t.Fatalf("big body: %v", err)
	}
	if _, err := f.Get(context.Background(), srv.URL+"/loop"); OutcomeOf(err) != events.OutcomeRedirects {
		t.Fatalf("redirect loop: %v", err)
	}
}

func TestTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(2 * time.Second):
		}
	}))
	defer srv.Close()
	_, err := New(fast(Options{Timeout: 50 * time.Millisecond, Retries: 1})).Get(context.Background(), srv.URL)
	if OutcomeOf(err) != events.OutcomeTimeout {
		t.Fatalf("slow server: %v (outcome %s)", err, OutcomeOf(err))
	}
}

func TestDecodesGBK(t *testing.T) {
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(`<html><head><meta charset="gbk"></head><body>政府信息公开年报</body></html>`)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte(gbk))
	}))
	defer srv.Close()
	p, err := New(fast(Options{})).Get(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(p.Body), "政府信息公开年报") || string(p.Raw) != gbk {
		t.Fatalf("body not decoded: %q", p.Body)
	}
}

func TestPerHostConcurrencyLimit(t *testing.T) {
	var cur, peak atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		c := cur.Add(1)
		for {
			p := peak.Load()
			if c <= p || peak.CompareAndSwap(p, c) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		cur.Add(-1)
	}))
	defer srv.Close()
	f := New(fast(Options{PerHost: 2}))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = f.Get(context.Background(), srv.URL) }()
	}
	wg.Wait()
	if peak.Load() != 2 {
		t.Fatalf("peak concurrency %d, want 2", peak.Load())
	}
}

func TestRefusedConnectionIsUnreachable(t *testing.T) {
	// The simulator's unreachable site holds a port that refuses
	// connections (a port closed again could meanwhile be another test's).
	sim, err := portalsim.Start(portalsim.Spec{AsOf: time.Now(), Sites: []portalsim.Site{{AgencyID: "down", Fault: portalsim.FaultUnreachable}}})
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	_, err = New(fast(Options{})).Get(context.Background(), sim.URL("down"))
	var fe *Error
	if !errors.As(err, &fe) || fe.Outcome != events.OutcomeUnreachable {
		t.Fatalf("refused: %v", err)
	}
	if strings.Contains(err.Error(), `Get "`) {
		t.Errorf("error repeats the URL: %v", err)
	}
}
