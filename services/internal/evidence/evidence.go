// Package evidence keeps the bodies gongkai fetched in the JetStream object
// store, named by their SHA-256, so every verdict can be traced to the exact
// bytes it rests on and an unchanged page costs no new storage. Each object
// carries its provenance as headers: the URL, the time it was fetched, the
// HTTP status and the response's Content-Type, ETag and Last-Modified, and
// for derived objects (the text extracted from a report) the hash of the
// body it was derived from.
//
// Retention is the object store's: events.Topology.EvidenceMaxAge and
// EvidenceMaxBytes.
package evidence

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events"
)

// maxChunk is the largest chunk an object is stored in (the client's
// default).
const maxChunk = 128 << 10

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
	// URL is the URL the body was fetched from.
	URL string
	// Status is the HTTP status it was served with.
	Status int
	// ContentType, ETag and LastModified are response headers.
	ContentType  string
	ETag         string
	LastModified string
	// FetchedAt is when it was fetched.
	FetchedAt time.Time
	// DerivedFrom is the SHA-256 of the body this one was computed from
	// (the document a text was extracted from), empty for fetched bodies.
	DerivedFrom string
	// Size is the body's size in bytes (filled in by Get and Info).
	Size uint64
}

// Object header names.
const (
	headerURL          = "Gongkai-Url"
	headerStatus       = "Gongkai-Status"
	headerContentType  = "Gongkai-Content-Type"
	headerETag         = "Gongkai-Etag"
	headerLastModified = "Gongkai-Last-Modified"
	headerFetchedAt    = "Gongkai-Fetched-At"
	headerDerivedFrom  = "Gongkai-Derived-From"
)

// Put stores body under its SHA-256 hex digest sum unless an object of that
// name exists. It reports whether new bytes were written.
func (s *Store) Put(ctx context.Context, sum string, body []byte, m Meta) (bool, error) {
	if _, err := s.obj.GetInfo(ctx, sum); err == nil {
		return false, nil
	} else if !errors.Is(err, jetstream.ErrObjectNotFound) {
		return false, fmt.Errorf("evidence: look up %s: %w", sum, err)
	}
	h := nats.Header{}
	h.Set(headerURL, m.URL)
	h.Set(headerStatus, fmt.Sprint(m.Status))
	h.Set(headerFetchedAt, m.FetchedAt.UTC().Format(time.RFC3339))
	for k, v := range map[string]string{headerContentType: m.ContentType, headerETag: m.ETag,
		headerLastModified: m.LastModified, headerDerivedFrom: m.DerivedFrom} {
		if v != "" {
			h.Set(k, v)
		}
	}
	// The client allocates one chunk buffer per Put: size it to the body
	// (most pages are a few KiB) instead of the 128 KiB default.
	chunk := uint32(min(max(len(body), 1), maxChunk))
	meta := jetstream.ObjectMeta{Name: sum, Description: m.URL, Headers: h,
		Opts: &jetstream.ObjectMetaOptions{ChunkSize: chunk}}
	if _, err := s.obj.Put(ctx, meta, bytes.NewReader(body)); err != nil {
		return false, fmt.Errorf("evidence: put %s (%s): %w", sum, m.URL, err)
	}
	return true, nil
}

// ErrNotFound is wrapped by Get and Info when no object has the digest
// (never stored, or expired).
var ErrNotFound = jetstream.ErrObjectNotFound

// ValidSum reports whether s is a lower-case hex SHA-256 digest.
func ValidSum(s string) bool {
	if len(s) != 64 {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// Get returns a body and its provenance by digest, checking that the bytes
// still hash to it.
func (s *Store) Get(ctx context.Context, sum string) ([]byte, Meta, error) {
	m, err := s.Info(ctx, sum)
	if err != nil {
		return nil, Meta{}, err
	}
	b, err := s.obj.GetBytes(ctx, sum)
	if err != nil {
		return nil, Meta{}, fmt.Errorf("evidence: read %s: %w", sum, err)
	}
	if got := sha256.Sum256(b); hex.EncodeToString(got[:]) != sum {
		return nil, Meta{}, fmt.Errorf("evidence: %s: stored bytes hash to %x", sum, got)
	}
	return b, m, nil
}

// Info returns the provenance of a body by digest.
func (s *Store) Info(ctx context.Context, sum string) (Meta, error) {
	if !ValidSum(sum) {
		return Meta{}, fmt.Errorf("evidence: %q is not a SHA-256 hex digest", sum)
	}
	info, err := s.obj.GetInfo(ctx, sum)
	if err != nil {
		return Meta{}, fmt.Errorf("evidence: %s: %w", sum, err)
	}
	h := info.Headers
	m := Meta{URL: h.Get(headerURL), ContentType: h.Get(headerContentType), ETag: h.Get(headerETag),
		LastModified: h.Get(headerLastModified), DerivedFrom: h.Get(headerDerivedFrom), Size: info.Size}
	m.Status, _ = strconv.Atoi(h.Get(headerStatus))
	m.FetchedAt, _ = time.Parse(time.RFC3339, h.Get(headerFetchedAt))
	return m, nil
}
