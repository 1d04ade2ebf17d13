// Package eventstest provides test helpers for code that speaks the gongkai
// wire contract: an embedded NATS server with JetStream on a temporary
// directory, provisioned with the contract's topology, and a sink that
// captures the events published on a subject.
package eventstest

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events"
)

// Server is a running embedded NATS server for one test.
type Server struct {
	*server.Server
	// URL is the client URL on loopback.
	URL string
}

// RunServer starts a JetStream-enabled NATS server on a random loopback port
// with its store under dir (t.TempDir() when dir is empty) and stops it when
// the test ends.
func RunServer(t testing.TB, dir string) *Server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	opts := &server.Options{
		Host:      "127.0.0.1",
		Port:      -1,
		JetStream: true,
		StoreDir:  dir,
		NoSigs:    true,
		NoLog:     true,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		t.Fatalf("eventstest: new server: %v", err)
	}
	s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		t.Fatal("eventstest: server not ready for connections")
	}
	if !s.JetStreamEnabled() {
		s.Shutdown()
		t.Fatal("eventstest: JetStream did not start")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return &Server{Server: s, URL: s.ClientURL()}
}

// Connect connects to s, provisions the default topology and returns the
// connection and its JetStream context; the connection closes with the test.
func Connect(t testing.TB, url string) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatalf("eventstest: connect %s: %v", url, err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("eventstest: jetstream: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := events.Provision(ctx, js, events.DefaultTopology()); err != nil {
		t.Fatalf("eventstest: %v", err)
	}
	return nc, js
}

// Sink captures the events published on a subject (wildcards allowed) with a
// core NATS subscription; it sees every message the stream stores.
type Sink struct {
	mu     sync.Mutex
	events []events.Event
	errs   []error
	sub    *nats.Subscription
}

// NewSink subscribes to subject on nc until the test ends.
func NewSink(t testing.TB, nc *nats.Conn, subject string) *Sink {
	t.Helper()
	s := &Sink{}
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		ev, err := events.Unmarshal(m.Data)
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil {
			s.errs = append(s.errs, err)
			return
		}
		s.events = append(s.events, ev)
	})
	if err != nil {
		t.Fatalf("eventstest: subscribe %s: %v", subject, err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatalf("eventstest: flush: %v", err)
	}
	s.sub = sub
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	return s
}

// Events returns a copy of the events captured so far.
func (s *Sink) Events() []events.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]events.Event(nil), s.events...)
}

// Errors returns the messages that did not decode as events.
func (s *Sink) Errors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// WaitFor polls until cond holds for the captured events or the timeout
// passes, and reports whether it held.
func (s *Sink) WaitFor(timeout time.Duration, cond func([]events.Event) bool) bool {
	deadline := time.Now().Add(timeout)
	for {
		if cond(s.Events()) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}
