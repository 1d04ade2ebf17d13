package notifier

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/services/internal/calendar"
)

// item is a pending notice in the in-memory mirror of the bucket.
type item struct {
	key string
	rev uint64
	p   pendingItem
}

// retryState is the back-off of one delivery (in-memory: a restart retries
// at once, which is what an operator restarting a stuck notifier wants).
type retryState struct {
	attempts int
	next     time.Time // real time
}

// mirror is every replica's in-memory copy of the pending-notices bucket,
// kept up to date by a key-value watcher, with the delivery state that does
// not need to survive a restart.
type mirror struct {
	mu       sync.Mutex
	items    map[string]*item
	digests  map[string]map[string]*item // recipient identity → key → digest item
	inflight map[string]bool             // item keys, and digestKey(identity), being delivered
	retry    map[string]retryState
	done     map[string]calendar.Date // recipient identity → date of the last digest delivered
	// gone holds the revision of entries this process deleted until the
	// watcher reports the deletion, so that a put the watcher reports late
	// does not bring a delivered notice back.
	gone map[string]uint64
}

func newMirror() *mirror {
	return &mirror{
		items: map[string]*item{}, digests: map[string]map[string]*item{},
		inflight: map[string]bool{}, retry: map[string]retryState{}, done: map[string]calendar.Date{},
		gone: map[string]uint64{},
	}
}

func digestKey(identity string) string { return "digest:" + identity }

func (m *mirror) put(key string, rev uint64, p pendingItem) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if g, ok := m.gone[key]; ok && rev <= g {
		return
	}
	if old, ok := m.items[key]; ok && old.rev > rev {
		return
	}
	it := &item{key: key, rev: rev, p: p}
	m.items[key] = it
	if p.Kind == kindDigest {
		id := identity(p.Recipient)
		if m.digests[id] == nil {
			m.digests[id] = map[string]*item{}
		}
		m.digests[id][key] = it
	}
}

// remove drops an entry this process deleted from the bucket.
func (m *mirror) remove(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if it, ok := m.items[key]; ok {
		m.gone[key] = max(m.gone[key], it.rev)
	}
	m.drop(key)
}

// deleted drops an entry whose deletion the watcher reported.
func (m *mirror) deleted(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.gone, key)
	m.drop(key)
}

// drop removes an entry; the caller holds the lock.
func (m *mirror) drop(key string) {
	it, ok := m.items[key]
	if !ok {
		return
	}
	delete(m.items, key)
	delete(m.retry, key)
	if it.p.Kind == kindDigest {
		id := identity(it.p.Recipient)
		delete(m.digests[id], key)
		if len(m.digests[id]) == 0 {
			delete(m.digests, id)
		}
	}
}

// has reports whether the mirror holds key at revision rev or later, or
// has removed it since.
func (m *mirror) has(key string, rev uint64) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if it, ok := m.items[key]; ok && it.rev >= rev {
		return true
	}
	g, ok := m.gone[key]
	return ok && g >= rev
}

func (m *mirror) size() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items)
}

// each calls f for every item, under the lock (f must not call back).
func (m *mirror) each(f func(*item)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, it := range m.items {
		f(it)
	}
}

// take marks key in flight if it is not already and its back-off has
// passed, and reports whether it did.
func (m *mirror) take(key string, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.inflight[key] {
		return false
	}
	if r, ok := m.retry[key]; ok && now.Before(r.next) {
		return false
	}
	m.inflight[key] = true
	return true
}

func (m *mirror) release(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.inflight, key)
}

// backoff schedules the next attempt of key after a temporary failure and
// returns the delay: base doubling per attempt up to max, with up to 20%
// jitter so that replicas do not retry in step.
func (m *mirror) backoff(key string, now time.Time, base, max time.Duration) time.Duration {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.retry[key]
	r.attempts++
	d := base << min(r.attempts-1, 20)
	if d <= 0 || d > max {
		d = max
	}
	d += time.Duration(rand.Int64N(int64(d)/5 + 1))
	r.next = now.Add(d)
	m.retry[key] = r
	return d
}

func (m *mirror) clearRetry(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.retry, key)
}

// ready returns the immediate and webhook items that may be attempted now.
func (m *mirror) ready(now time.Time) []*item {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*item
	for k, it := range m.items {
		if it.p.Kind == kindDigest || m.inflight[k] {
			continue
		}
		if r, ok := m.retry[k]; ok && now.Before(r.next) {
			continue
		}
		out = append(out, it)
	}
	slices.SortFunc(out, func(a, b *item) int { return a.p.RecordedAt.Compare(b.p.RecordedAt) })
	return out
}

// digestCandidate is a recipient whose digest may be due.
type digestCandidate struct {
	id, jur string
}

// digestCandidates returns, in order, the recipients with digest items for
// which due(jurisdiction, earliest decision, last digest date) holds. The
// jurisdiction that governs a recipient's digest is the first, in order, of
// its items' calendars. It scans without copying items: it runs every Poll.
func (m *mirror) digestCandidates(due func(jur string, earliest time.Time, done calendar.Date) bool) []digestCandidate {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []digestCandidate
	for id, items := range m.digests {
		jur := ""
		var earliest time.Time
		for _, it := range items {
			if jur == "" || it.p.Calendar < jur {
				jur = it.p.Calendar
			}
			if d := it.p.Finding.DecidedAt; earliest.IsZero() || d.Before(earliest) {
				earliest = d
			}
		}
		if due(jur, earliest, m.done[id]) {
			out = append(out, digestCandidate{id: id, jur: jur})
		}
	}
	slices.SortFunc(out, func(a, b digestCandidate) int { return strings.Compare(a.id, b.id) })
	return out
}

// digestItems returns a copy of the recipient's digest items, sorted by key.
func (m *mirror) digestItems(id string) []item {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]item, 0, len(m.digests[id]))
	for _, it := range m.digests[id] {
		out = append(out, *it)
	}
	slices.SortFunc(out, func(a, b item) int { return strings.Compare(a.key, b.key) })
	return out
}

func (m *mirror) setDone(id string, d calendar.Date) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if d.After(m.done[id]) {
		m.done[id] = d
	}
}

// watch starts mirroring the pending-notices bucket. synced closes once the
// initial values are loaded; done closes when the watcher stops (ctx ends).
func (s *Service) watch(ctx context.Context, kv jetstream.KeyValue) (synced, done <-chan struct{}, err error) {
	w, err := kv.WatchAll(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("watch pending notices: %w", err)
	}
	syncedC, doneC := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(doneC)
		defer func() { _ = w.Stop() }()
		initial := true
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-w.Updates():
				if !ok {
					if ctx.Err() == nil {
						s.log.Error("pending notices watcher stopped: notices recorded by other replicas are not seen until restart")
					}
					return
				}
				if e == nil {
					if initial {
						initial = false
						close(syncedC)
					}
					continue
				}
				if e.Operation() != jetstream.KeyValuePut {
					s.mirror.deleted(e.Key())
					continue
				}
				if s.mirror.has(e.Key(), e.Revision()) {
					continue // recorded by this process: already in the mirror
				}
				var p pendingItem
				if err := json.Unmarshal(e.Value(), &p); err != nil || p.Recipient == "" || p.FindingID == "" {
					s.metrics.badPending.Inc()
					s.log.Warn("unreadable pending notice ignored", "key", e.Key(), "err", err)
					continue
				}
				s.mirror.put(e.Key(), e.Revision(), p)
				if p.Kind != kindDigest {
					s.kick()
				}
			}
		}
	}()
	return syncedC, doneC, nil
}
