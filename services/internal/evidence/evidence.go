// Package evidence keeps the bodies gongkai fetched in the JetStream object
// store, named by their SHA-256, so every verdict can be traced to the exact
// bytes it rests on and an unchanged page costs no new storage. Each object
// carries its provenance: the URL as the object's description, and as
// headers the time it was fetched, the HTTP status and the response's
// Content-Type, ETag and Last-Modified, and for derived objects (the text
// extracted from a report) the hash of the body it was derived from.
// Objects stored before 2026-11 carry the URL as a header too
// (Gongkai-Url); Info reads both.
//
// Text bodies (HTML, plain text, XML, JSON) of 1 KiB or more are stored
// gzip-compressed, with the header Gongkai-Encoding: gzip and their size in
// Gongkai-Size; Get and Info hide it, returning the bytes that were fetched.
// The NATS server keeps the message blocks written in the last seconds in
// memory (megabytes each), so halving the bytes written halves that memory
// during an audit as well as the store's size. Objects stored before were
// stored as they are and are read as they are.
//
// Retention is the object store's: events.Topology.EvidenceMaxAge and
// EvidenceMaxBytes.
package evidence

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"strings"
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
	obj  jetstream.ObjectStore
	gzip chan *gzip.Writer // compressors (nil until first used), one per CPU
}

// Open binds the evidence object store (provisioned by events.Provision).
func Open(ctx context.Context, js jetstream.JetStream) (*Store, error) {
	obj, err := js.ObjectStore(ctx, events.ObjectStoreEvidence)
	if err != nil {
		return nil, fmt.Errorf("evidence: open object store %s: %w", events.ObjectStoreEvidence, err)
	}
	s := &Store{obj: obj, gzip: make(chan *gzip.Writer, runtime.GOMAXPROCS(0))}
	for range cap(s.gzip) {
		s.gzip <- nil
	}
	return s, nil
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

	encoding string // how the object holds the body ("gzip"), for Get
}

// decompress returns the gzip-compressed body of size bytes.
func decompress(z []byte, size uint64) ([]byte, error) {
	r, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, err
	}
	// One byte more than the size, to tell a longer body; reading to the
	// end checks the gzip checksum.
	b := make([]byte, size+1)
	n, err := io.ReadFull(r, b)
	switch {
	case err == nil:
		return nil, fmt.Errorf("decompressed more than %d bytes", size)
	case err != io.EOF && err != io.ErrUnexpectedEOF:
		return nil, err
	case uint64(n) != size:
		return nil, fmt.Errorf("decompressed %d bytes, want %d", n, size)
	}
	return b[:n], nil
}

// Object header names.
const (
	headerURL          = "Gongkai-Url" // objects stored before 2026-11: the URL, now the description
	headerStatus       = "Gongkai-Status"
	headerContentType  = "Gongkai-Content-Type"
	headerETag         = "Gongkai-Etag"
	headerLastModified = "Gongkai-Last-Modified"
	headerFetchedAt    = "Gongkai-Fetched-At"
	headerDerivedFrom  = "Gongkai-Derived-From"
	headerEncoding     = "Gongkai-Encoding" // "gzip": the object holds the body compressed
	headerSize         = "Gongkai-Size"     // the body's size, when compressed
)

// compressMin is the smallest body that is compressed.
const compressMin = 1 << 10

// compressible reports whether a body of a Content-Type is text, which
// compresses several-fold (PDF, DOCX and images are compressed already).
func compressible(contentType string) bool {
	ct := strings.ToLower(contentType)
	return strings.HasPrefix(ct, "text/") || strings.Contains(ct, "html") || strings.Contains(ct, "xml") || strings.Contains(ct, "json")
}

// compress returns body gzip-compressed, or false when that does not save
// at least a tenth. A compressor holds several hundred KiB: the Store keeps
// one per CPU and callers beyond that wait their turn (compressing is
// CPU-bound), so that 32 concurrent Puts do not each allocate one.
func (s *Store) compress(body []byte) ([]byte, bool) {
	var buf bytes.Buffer
	buf.Grow(len(body) / 2)
	w := <-s.gzip
	if w == nil {
		w, _ = gzip.NewWriterLevel(nil, gzip.BestSpeed)
	}
	defer func() { s.gzip <- w }()
	w.Reset(&buf)
	if _, err := w.Write(body); err != nil {
		return nil, false
	}
	if err := w.Close(); err != nil || buf.Len() > len(body)*9/10 {
		return nil, false
	}
	return buf.Bytes(), true
}

// Put stores body under its SHA-256 hex digest sum unless an object of that
// name exists. It reports whether new bytes were written.
func (s *Store) Put(ctx context.Context, sum string, body []byte, m Meta) (bool, error) {
	if _, err := s.obj.GetInfo(ctx, sum); err == nil {
		return false, nil
	} else if !errors.Is(err, jetstream.ErrObjectNotFound) {
		return false, fmt.Errorf("evidence: look up %s: %w", sum, err)
	}
	// The URL is the object's description (what `nats object info`
	// shows); objects stored before also carry it as the header
	// Gongkai-Url, which Info still reads. Each object's metadata record is
	// written once and kept for the whole retention, and the server keeps
	// the blocks written in the last seconds in memory: a second copy of
	// the URL made it some 10 % larger.
	h := nats.Header{}
	h.Set(headerStatus, fmt.Sprint(m.Status))
	h.Set(headerFetchedAt, m.FetchedAt.UTC().Format(time.RFC3339))
	for k, v := range map[string]string{headerContentType: m.ContentType, headerETag: m.ETag,
		headerLastModified: m.LastModified, headerDerivedFrom: m.DerivedFrom} {
		if v != "" {
			h.Set(k, v)
		}
	}
	if len(body) >= compressMin && compressible(m.ContentType) {
		if z, ok := s.compress(body); ok {
			h.Set(headerEncoding, "gzip")
			h.Set(headerSize, strconv.Itoa(len(body)))
			body = z
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
	if m.encoding == "gzip" {
		if b, err = decompress(b, m.Size); err != nil {
			return nil, Meta{}, fmt.Errorf("evidence: read %s: %w", sum, err)
		}
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
	m := Meta{URL: cmp.Or(h.Get(headerURL), info.Description), ContentType: h.Get(headerContentType), ETag: h.Get(headerETag),
		LastModified: h.Get(headerLastModified), DerivedFrom: h.Get(headerDerivedFrom), Size: info.Size,
		encoding: h.Get(headerEncoding)}
	if m.encoding != "" {
		n, err := strconv.ParseUint(h.Get(headerSize), 10, 64)
		if err != nil || m.encoding != "gzip" || n > 1<<30 {
			return Meta{}, fmt.Errorf("evidence: %s: stored with encoding %q, size %q", sum, m.encoding, h.Get(headerSize))
		}
		m.Size = n
	}
	m.Status, _ = strconv.Atoi(h.Get(headerStatus))
	m.FetchedAt, _ = time.Parse(time.RFC3339, h.Get(headerFetchedAt))
	return m, nil
}
