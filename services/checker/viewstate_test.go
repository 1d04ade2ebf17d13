package checker_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/pkg/events/eventstest"
	"github.com/gongkai/gongkai/services/checker"
)

// heldBucket holds back its watch's deliveries while held, as a view that
// has not caught up with another replica's writes yet.
type heldBucket struct {
	jetstream.KeyValue
	gate sync.RWMutex
}

func (b *heldBucket) WatchAll(ctx context.Context, opts ...jetstream.WatchOpt) (jetstream.KeyWatcher, error) {
	w, err := b.KeyValue.WatchAll(ctx, opts...)
	if err != nil {
		return nil, err
	}
	hw := &heldWatcher{KeyWatcher: w, out: make(chan jetstream.KeyValueEntry)}
	go func() {
		defer close(hw.out)
		for e := range w.Updates() {
			// A gate: wait here while the test holds the write lock.
			b.gate.RLock()
			//lint:ignore SA2001 the empty section is the point (see above)
			b.gate.RUnlock()
			select {
			case hw.out <- e:
			case <-ctx.Done():
				return
			}
		}
	}()
	return hw, nil
}

type heldWatcher struct {
	jetstream.KeyWatcher
	out chan jetstream.KeyValueEntry
}

func (w *heldWatcher) Updates() <-chan jetstream.KeyValueEntry { return w.out }

// The checker evaluates instances against its view, not a read of the
// bucket. While the view lacks another replica's write, a transition made
// on the view's strength fails its compare-and-set and is evaluated again
// on the bucket's state, and an evaluation that would change nothing is
// trusted only while the view is known to be current: neither loses nor
// doubles a finding.
func TestStaleViewNeitherLosesNorDoublesFindings(t *testing.T) {
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	ctx := context.Background()
	kv, err := js.KeyValue(ctx, events.BucketObligations)
	if err != nil {
		t.Fatal(err)
	}
	reg := testRegistry(t, 1)
	clock := time.Date(2026, 2, 3, 9, 0, 0, 0, cst)
	bucket := &heldBucket{}
	c := startChecker(t, js, reg, rules(t), func() time.Time { return clock }, func(svc *checker.Service) {
		checker.WrapBucket(svc, func(kv jetstream.KeyValue) jetstream.KeyValue {
			bucket.KeyValue = kv
			return bucket
		})
	})
	defer c.stop(t)
	key := checker.Key("a00000", "cn-ogi-2019", "CN-R19-AR-DEPT", "2025")
	// otherReplica writes the instance as another checker would, except
	// for its finding.
	otherReplica := func(change func(*checker.Instance)) {
		t.Helper()
		e, err := kv.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		var in checker.Instance
		if err := json.Unmarshal(e.Value(), &in); err != nil {
			t.Fatal(err)
		}
		change(&in)
		body, _ := json.Marshal(in)
		if _, err := kv.Update(ctx, key, body, e.Revision()); err != nil {
			t.Fatal(err)
		}
	}
	conflicts := func() float64 {
		return testutil.ToFloat64(prometheusCounter(t, c.reg, "gongkai_checker_state_conflicts_total"))
	}

	// The first look finds no report: overdue, announced.
	publishObs(t, js, observation("a00000", "r1", clock, ""))
	waitConsumed(t, js)
	if n := arFindings(t, js); n != 1 {
		t.Fatalf("%d findings after the first look, want 1", n)
	}

	// Another replica makes it unknown; this checker's view does not see
	// that. The next look finds no report again: against the view nothing
	// changes (overdue), against the bucket it is a transition
	// (unknown → overdue). Once the view is no longer known to be
	// current, the checker reads before deciding that nothing changed.
	bucket.gate.Lock()
	otherReplica(func(in *checker.Instance) { in.State, in.Failures = events.StateUnknown, 3 })
	time.Sleep(1500 * time.Millisecond) // longer than viewMaxLag
	publishObs(t, js, observation("a00000", "r2", clock, ""))
	waitConsumed(t, js)
	if in := instance(t, js, key); in.State != events.StateOverdue {
		t.Fatalf("state %s after the second look, want overdue", in.State)
	}
	if n := arFindings(t, js); n != 2 {
		t.Fatalf("%d findings after the second look, want 2 (unknown → overdue announced)", n)
	}

	// Another replica settles it; the view still says overdue. A look
	// that finds the report is a transition against the view, whose
	// compare-and-set fails; evaluated again on the bucket's state it
	// changes nothing, so nothing more is announced.
	otherReplica(func(in *checker.Instance) {
		in.State, in.PublishedOn = events.StateSatisfied, "2026-01-20"
	})
	before := conflicts()
	publishObs(t, js, observation("a00000", "r3", clock, "2026-01-20"))
	waitConsumed(t, js)
	if in := instance(t, js, key); in.State != events.StateSatisfied {
		t.Fatalf("state %s after the third look, want satisfied", in.State)
	}
	if n := arFindings(t, js); n != 2 {
		t.Fatalf("%d findings after the third look, want still 2", n)
	}
	if got := conflicts() - before; got != 1 {
		t.Errorf("%v state conflicts, want 1", got)
	}
	bucket.gate.Unlock()

	// Caught up, the view serves the next look without a conflict.
	time.Sleep(500 * time.Millisecond)
	before = conflicts()
	publishObs(t, js, observation("a00000", "r4", clock, "2026-01-20"))
	waitConsumed(t, js)
	if got := conflicts() - before; got != 0 {
		t.Errorf("%v state conflicts once the view caught up, want 0", got)
	}
	if n := arFindings(t, js); n != 2 {
		t.Fatalf("%d findings after the view caught up, want still 2", n)
	}
}
