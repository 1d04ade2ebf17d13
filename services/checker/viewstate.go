package checker

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/checker/internal/view"
)

// The view holds the whole stored state of every instance, with the bucket
// revision it is as of, so the checker evaluates an instance against the
// view instead of reading it from the bucket:
//
//   - A write made on the view's strength is a compare-and-set on the
//     view's revision, like one made after a read: if another replica wrote
//     the instance since (and the view has not caught up yet), the write
//     fails, nothing has been published, and the instance is read from the
//     bucket and evaluated again. A stale view can cost a retry; it cannot
//     lose or double a transition.
//   - An evaluation that changes nothing writes nothing, so no
//     compare-and-set guards it. It is trusted only while the view is known
//     to be current: a probe (viewProbeEvery) notes the bucket's last
//     revision and the moment it asked, and once the watch has delivered up
//     to that revision the view holds every write stored before that
//     moment. If that moment is older than viewMaxLag, the instance is read
//     from the bucket first, as before.
//
// What remains: another replica's write stored less than viewMaxLag (plus
// the probe's round trip) before an evaluation may be missing from the
// view. If the evaluation against the older state changes nothing, it is
// skipped: the outcome is that of evaluating this observation just before
// that write, an order two replicas consuming concurrently may take anyway
// (with a read, the same race spans the time between the read and the
// decision). The next observation of the instance is evaluated against the
// newer state. The replica's own writes are in the view as soon as they
// are acknowledged.

const (
	// viewProbeEvery is how often the view's currency is checked.
	viewProbeEvery = 250 * time.Millisecond
	// viewMaxLag is how old the view's last confirmed moment may be for an
	// evaluation that changes nothing to be trusted without a read.
	viewMaxLag = time.Second
)

// viewSync relates the view to the bucket: the writes in flight, the
// revisions the watch has yet to deliver that the view already holds, and
// how current the view is.
type viewSync struct {
	mu sync.Mutex
	// writing holds this replica's writes in flight, by key: the watch
	// recognises one by its bytes and puts the record into the view
	// without decoding it.
	writing map[string]*pendingWrite
	// known holds revisions this replica wrote or read and put into the
	// view before the watch delivered them: the watch skips them.
	known map[uint64]struct{}
	// probes wait for the watch to reach a revision: the bucket's last
	// when asked at a moment.
	probes []viewProbe
	// asOf: the view holds every write stored before this moment, in
	// nanoseconds since epoch (monotonic readings, so that a change of
	// the wall clock cannot make an old moment look recent).
	asOf  atomic.Int64
	epoch time.Time
}

type pendingWrite struct {
	body     []byte
	rec      view.Record
	complete bool
}

type viewProbe struct {
	rev uint64
	at  time.Time
}

// maxKnown bounds viewSync.known should the watch stop delivering.
const maxKnown = 1 << 16

// writing notes that in, encoded as body, is about to be written to key.
func (s *Service) writing(key string, in *Instance, body []byte) *pendingWrite {
	rec, complete := toRecord(key, in)
	w := &pendingWrite{body: body, rec: rec, complete: complete}
	vs := &s.viewSync
	vs.mu.Lock()
	if vs.writing == nil {
		vs.writing = map[string]*pendingWrite{}
	}
	vs.writing[key] = w
	vs.mu.Unlock()
	return w
}

// written ends the write w of key: stored at revision rev, or not at all
// when ok is false.
func (s *Service) written(key string, w *pendingWrite, rev uint64, ok bool) {
	vs := &s.viewSync
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if vs.writing[key] == w {
		delete(vs.writing, key)
	}
	if ok {
		s.rememberLocked(w.rec, w.complete, rev)
	}
}

// remember puts an instance just read at revision rev into the view.
func (s *Service) remember(key string, in *Instance, rev uint64) {
	rec, complete := toRecord(key, in)
	s.viewSync.mu.Lock()
	defer s.viewSync.mu.Unlock()
	s.rememberLocked(rec, complete, rev)
}

// rememberLocked puts a record as of revision rev into the view, unless the
// watch has delivered that revision (or a later one of the bucket) already.
// viewSync.mu is held.
func (s *Service) rememberLocked(rec view.Record, complete bool, rev uint64) {
	vs := &s.viewSync
	if s.viewRev.Load() >= rev {
		return
	}
	if vs.known == nil || len(vs.known) >= maxKnown {
		vs.known = map[uint64]struct{}{}
	}
	vs.known[rev] = struct{}{}
	s.view.Set(rec, rev, complete)
}

// watched applies one entry delivered by the watch on the bucket. During
// the initial load, instances with a recent outbox entry are kept for
// start-up recovery.
func (s *Service) watched(e jetstream.KeyValueEntry, initial bool) {
	vs := &s.viewSync
	rev := e.Revision()
	vs.mu.Lock()
	if _, ok := vs.known[rev]; ok {
		delete(vs.known, rev) // the view holds it
		s.watchedLocked(rev)
		vs.mu.Unlock()
		return
	}
	if w := vs.writing[e.Key()]; w != nil && e.Operation() == jetstream.KeyValuePut && bytes.Equal(w.body, e.Value()) {
		s.view.Set(w.rec, rev, w.complete) // a write of ours, its reply still on the way
		s.watchedLocked(rev)
		vs.mu.Unlock()
		return
	}
	vs.mu.Unlock()
	var in Instance
	decoded := false
	if e.Operation() == jetstream.KeyValuePut {
		if err := decodeInstance(e.Value(), &in); err != nil {
			s.log.Warn("undecodable instance in bucket", "key", e.Key(), "err", err)
		} else {
			decoded = true
			if initial && in.Outbox != nil && s.opts.Now().Sub(in.Outbox.At) < recoveryWindow {
				s.recover = append(s.recover, in)
			}
		}
	}
	vs.mu.Lock()
	defer vs.mu.Unlock()
	if _, ok := vs.known[rev]; ok {
		delete(vs.known, rev) // remembered meanwhile: the view holds it
	} else if decoded {
		rec, complete := toRecord(e.Key(), &in)
		s.view.Set(rec, rev, complete)
	} else if e.Operation() != jetstream.KeyValuePut { // deleted or purged
		if p := strings.Split(e.Key(), "."); len(p) == 4 {
			s.view.Delete(p[0], p[1], p[2], p[3], rev)
		}
	}
	s.watchedLocked(rev)
}

// watchedLocked records that the watch delivered revision rev;
// viewSync.mu is held.
func (s *Service) watchedLocked(rev uint64) {
	if rev > s.viewRev.Load() {
		s.viewRev.Store(rev)
	}
	s.advanceProbes(s.viewRev.Load())
}

// advanceProbes settles the probes the watch has reached; vs.mu is held.
func (s *Service) advanceProbes(rev uint64) {
	vs := &s.viewSync
	kept := vs.probes[:0]
	for _, p := range vs.probes {
		if p.rev > rev {
			kept = append(kept, p)
		} else if at := int64(p.at.Sub(vs.epoch)); at > vs.asOf.Load() {
			vs.asOf.Store(at)
		}
	}
	vs.probes = kept
}

// viewCurrent reports whether the view is known to hold every write stored
// up to viewMaxLag ago.
func (s *Service) viewCurrent() bool {
	vs := &s.viewSync
	return int64(time.Since(vs.epoch))-vs.asOf.Load() < int64(viewMaxLag)
}

// probeView checks the view's currency now and every viewProbeEvery until
// ctx ends.
func (s *Service) probeView(ctx context.Context, kv jetstream.KeyValue) {
	t := time.NewTicker(viewProbeEvery)
	defer t.Stop()
	for {
		at := time.Now()
		pctx, cancel := context.WithTimeout(ctx, viewProbeEvery)
		st, err := kv.Status(pctx)
		cancel()
		if bs, ok := st.(*jetstream.KeyValueBucketStatus); err == nil && ok {
			vs := &s.viewSync
			vs.mu.Lock()
			if len(vs.probes) < 64 {
				vs.probes = append(vs.probes, viewProbe{bs.StreamInfo().State.LastSeq, at})
			}
			s.advanceProbes(s.viewRev.Load())
			vs.mu.Unlock()
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// toRecord converts a stored instance to the view's record. complete is
// false when the view could not give it back whole: ids that the bucket key
// does not spell as they are, or an outbox entry whose id or subject is not
// the one derived from the instance.
func toRecord(key string, in *Instance) (view.Record, bool) {
	rec := view.Record{
		Instance: view.Instance{
			AgencyID: in.AgencyID, PackID: in.PackID, ObligationID: in.ObligationID, Period: in.Period,
			State: in.State, Since: in.Since, DueAt: in.DueAt, Provisional: in.Provisional,
			PublishedOn: in.PublishedOn, URL: in.URL, Evidence: in.Evidence, LastError: in.LastError,
		},
		Failures: in.Failures, CalendarVersion: in.CalendarVersion, PackVersion: in.PackVersion,
		Text: in.Text, FailedRules: in.FailedRules, Note: in.Note, LastObserved: in.LastObserved,
	}
	complete := spells(key, in)
	if ob := in.Outbox; ob != nil {
		rec.Outbox = &view.Outbox{Rev: ob.Rev, At: ob.At, From: ob.From, State: ob.State}
		complete = complete && ob.ID == FindingID(key, ob.Rev, ob.State) && ob.Subject == events.FindingSubject(in.AgencyID)
	}
	return rec, complete
}

// spells reports whether key is the instance's ids joined as they are
// (Key replaces characters outside the key alphabet).
func spells(key string, in *Instance) bool {
	rest := key
	for i, id := range [...]string{in.AgencyID, in.PackID, in.ObligationID, in.Period} {
		if i > 0 {
			if !strings.HasPrefix(rest, ".") {
				return false
			}
			rest = rest[1:]
		}
		if !strings.HasPrefix(rest, id) {
			return false
		}
		rest = rest[len(id):]
	}
	return rest == ""
}

// fromRecord is the stored instance of a complete view record.
func fromRecord(rec view.Record) *Instance {
	in := &Instance{
		AgencyID: rec.AgencyID, PackID: rec.PackID, ObligationID: rec.ObligationID, Period: rec.Period,
		State: rec.State, Since: rec.Since, DueAt: rec.DueAt, Provisional: rec.Provisional,
		CalendarVersion: rec.CalendarVersion, PackVersion: rec.PackVersion,
		URL: rec.URL, PublishedOn: rec.PublishedOn, Evidence: rec.Evidence,
		Failures: rec.Failures, LastError: rec.LastError, Text: rec.Text, FailedRules: rec.FailedRules,
		Note: rec.Note, LastObserved: rec.LastObserved,
	}
	if ob := rec.Outbox; ob != nil {
		key := in.Key()
		in.Outbox = &Outbox{ID: FindingID(key, ob.Rev, ob.State), At: ob.At, From: ob.From, State: ob.State, Rev: ob.Rev,
			Subject: events.FindingSubject(in.AgencyID)}
	}
	return in
}

// current returns an instance's stored state and revision (nil, 0 when it
// does not exist): from the view when it holds the instance whole, unless
// read asks for the bucket. cached reports that it came from the view.
func (s *Service) current(ctx context.Context, key string, a, pack, obligation, period string, read bool) (prev *Instance, rev uint64, cached bool, err error) {
	if !read {
		if rec, rev, ok := s.view.Record(a, pack, obligation, period); ok {
			return fromRecord(rec), rev, true, nil
		}
		// The view tells which instances exist; a new one needs no read
		// (its create fails if it is not new after all, and we read then).
		if !s.view.Has(a, pack, obligation, period) {
			return nil, 0, false, nil
		}
	}
	prev, rev, err = s.load(ctx, key)
	if err == nil && prev != nil {
		s.remember(key, prev, rev)
	}
	return prev, rev, false, err
}
