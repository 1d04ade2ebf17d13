package checker_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/pkg/events/eventstest"
	"github.com/gongkai/gongkai/services/checker"
)

// lossyBucket stores every write but loses the reply to the first lose
// of them, as a client does when the server leader changes under it.
type lossyBucket struct {
	jetstream.KeyValue
	lose atomic.Int32
}

func (b *lossyBucket) lost() bool { return b.lose.Add(-1) >= 0 }

func (b *lossyBucket) Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error) {
	rev, err := b.KeyValue.Create(ctx, key, value, opts...)
	if err == nil && b.lost() {
		return 0, context.DeadlineExceeded
	}
	return rev, err
}

func (b *lossyBucket) Update(ctx context.Context, key string, value []byte, revision uint64) (uint64, error) {
	rev, err := b.KeyValue.Update(ctx, key, value, revision)
	if err == nil && b.lost() {
		return 0, context.DeadlineExceeded
	}
	return rev, err
}

// A transition whose state write is stored but unanswered is still
// announced, exactly once: the redelivered observation finds the state
// already there (no transition to announce), and the checker settles the
// unanswered write from the bucket's history.
func TestUnansweredStateWriteStillAnnounced(t *testing.T) {
	srv := eventstest.RunServer(t, t.TempDir())
	_, js := eventstest.Connect(t, srv.URL)
	reg := testRegistry(t, 1)
	clock := time.Date(2026, 2, 3, 9, 0, 0, 0, cst)
	bucket := &lossyBucket{}
	c := startChecker(t, js, reg, rules(t), func() time.Time { return clock }, func(svc *checker.Service) {
		checker.WrapBucket(svc, func(kv jetstream.KeyValue) jetstream.KeyValue {
			bucket.KeyValue = kv
			bucket.lose.Store(1) // the first write: the new instance's creation
			return bucket
		})
	})
	defer c.stop(t)

	publishObs(t, js, observation("a00000", "r1", clock, ""))
	deadline := time.Now().Add(30 * time.Second)
	for arFindings(t, js) < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the stored transition was never announced (%d annual-report findings)", arFindings(t, js))
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitConsumed(t, js) // the redelivered observation, evaluated again
	key := checker.Key("a00000", "cn-ogi-2019", "CN-R19-AR-DEPT", "2025")
	if in := instance(t, js, key); in.State != events.StateOverdue {
		t.Fatalf("stored state %s, want overdue", in.State)
	}
	if n := arFindings(t, js); n != 1 {
		t.Fatalf("%d annual-report findings, want 1", n)
	}
	if v := testutil.ToFloat64(prometheusCounterVec(t, c.reg, "gongkai_checker_uncertain_writes_total", "stored")); v != 1 {
		t.Errorf("uncertain writes settled as stored: %v, want 1", v)
	}
}
