// Package evidence keeps the bodies gongkai fetched in the JetStream object
// store, named by their SHA-256, so every verdict can be traced to the exact
// bytes it rests on and an unchanged page costs no new storage.
package evidence

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events"
)

// Store reads and writes evidence bodies.
type Store struct {
	obj jetstream.ObjectStore
}

// Open binds the evidence object store (provisioned by events.Provision).
func Open(ctx context.Context, js jetstream.JetStream) (*Store, error) {
	obj, err := js.ObjectStore(ctx, events.ObjectStoreEvidence)
	if err != nil {
		return nil, fmt.Errorf("evidence: open object store %s: %w", events.ObjectStoreEvidence, err)
	}
	return &Store{obj: obj}, nil
}

// Meta describes where a body came from.
type Meta struct {
	URL         string
	Status      int
	ContentType string
	FetchedAt   time.Time
}

// Put stores body under its SHA-256 hex digest sum unless an object of that
// name exists. It reports whether new bytes were written.
func (s *Store) Put(ctx context.Context, sum string, body []byte, m Meta) (bool, error) {
	if _, err := s.obj.GetInfo(ctx, sum); err == nil {
		return false, nil
	} else if !errors.Is(err, jetstream.ErrObjectNotFound) {
		return false, fmt.Errorf("evidence: look up %s: %w", sum, err)
	}
	h := nats.Header{}
	h.Set("Gongkai-Url", m.URL)
	h.Set("Gongkai-Status", fmt.Sprint(m.Status))
	h.Set("Gongkai-Content-Type", m.ContentType)
	h.Set("Gongkai-Fetched-At", m.FetchedAt.UTC().Format(time.RFC3339))
	meta := jetstream.ObjectMeta{Name: sum, Description: m.URL, Headers: h}
	if _, err := s.obj.Put(ctx, meta, bytes.NewReader(body)); err != nil {
		return false, fmt.Errorf("evidence: put %s (%s): %w", sum, m.URL, err)
	}
	return true, nil
}

// Get returns a body and its provenance by digest.
func (s *Store) Get(ctx context.Context, sum string) ([]byte, Meta, error) {
	info, err := s.obj.GetInfo(ctx, sum)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("evidence: %s: %w", sum, err)
	}
	b, err := s.obj.GetBytes(ctx, sum)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("evidence: read %s: %w", sum, err)
	}
	m := Meta{URL: info.Headers.Get("Gongkai-Url"), ContentType: info.Headers.Get("Gongkai-Content-Type")}
	fmt.Sscan(info.Headers.Get("Gongkai-Status"), &m.Status)
	m.FetchedAt, _ = time.Parse(time.RFC3339, info.Headers.Get("Gongkai-Fetched-At"))
	return b, m, nil
}
