package ingest

import (
	"context"
	"encoding/hex"
	"errors"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events"
)

// storedSet remembers, for a while, the bodies this process stored or
// found stored, by hash: a body seen again soon — the same PDF posted by two
// hundred agencies, a page fetched twice in one audit — then costs no round
// trip to the evidence store, and the store does not read back the old
// block that holds its metadata (a block is megabytes of server memory).
// It is small and forgetful by design: an entry lasts ttl (far shorter
// than evidence retention) and at most max are kept, evicted at random.
type storedSet struct {
	mu  sync.Mutex
	max int
	ttl time.Duration
	m   map[[32]byte]int64 // hash → when remembered (Unix seconds)
}

func newStoredSet(max int, ttl time.Duration) *storedSet {
	return &storedSet{max: max, ttl: ttl, m: make(map[[32]byte]int64)}
}

func storedKey(sum string) ([32]byte, bool) {
	var k [32]byte
	if len(sum) != 64 {
		return k, false
	}
	_, err := hex.Decode(k[:], []byte(sum))
	return k, err == nil
}

// has reports whether sum was remembered less than ttl before now.
func (s *storedSet) has(sum string, now time.Time) bool {
	k, ok := storedKey(sum)
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	at, ok := s.m[k]
	if ok && now.Unix()-at >= int64(s.ttl/time.Second) {
		delete(s.m, k)
		return false
	}
	return ok
}

// add remembers sum at now.
func (s *storedSet) add(sum string, now time.Time) {
	k, ok := storedKey(sum)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[k]; !ok && len(s.m) >= s.max {
		for old := range s.m { // evict an arbitrary entry
			delete(s.m, old)
			break
		}
	}
	s.m[k] = now.Unix()
}

// lastSeen returns the URLs and body hashes that the agency's last
// published observation names (home page, columns, items, attachments), or
// nil. A process that has not read the site yet (just started, or a
// replica that has not had the agency's job before) makes its requests
// conditional with them: the evidence store keeps each body's ETag and
// Last-Modified (fetch.Options.Describe), so validators outlive the process
// without a store of their own.
func (s *Service) lastSeen(ctx context.Context, agency string) map[string]string {
	s.mu.Lock()
	st := s.observations
	s.mu.Unlock()
	if st == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, evidenceTimeout)
	defer cancel()
	m, err := st.GetLastMsgForSubject(ctx, events.ObservationSubject(agency))
	if err != nil {
		if !errors.Is(err, jetstream.ErrMsgNotFound) {
			s.log.Warn("read last observation", "agency", agency, "err", err)
		}
		return nil
	}
	ev, err := events.Unmarshal(m.Data)
	if err != nil {
		return nil
	}
	o, err := events.Decode[events.Observation](ev)
	if err != nil {
		return nil
	}
	known := map[string]string{}
	add := func(u, sum string) {
		if u != "" && sum != "" {
			known[u] = sum
		}
	}
	add(o.Site, o.HomeEvidence)
	for _, c := range o.Columns {
		add(c.URL, c.Evidence)
		for _, it := range c.Items {
			add(it.URL, it.Evidence)
			for _, a := range it.Attachments {
				add(a.URL, a.Evidence)
			}
		}
	}
	s.metrics.validatorsRecovered.Add(float64(len(known)))
	return known
}
