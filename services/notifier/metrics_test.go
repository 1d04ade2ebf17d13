package notifier

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gongkai/gongkai/pkg/events"
)

// Every series exists at 0 from the start, with a bounded label set.
func TestMetricsArePreinitialised(t *testing.T) {
	r := newRig(t, loadRegistry(t, "testdata/registry.yaml"), nil)
	r.start()
	n, err := testutil.GatherAndCount(r.metrics)
	if err != nil {
		t.Fatal(err)
	}
	// deliveries 3×3, notices 3×2, recorded 3, six counters, a histogram,
	// three gauges.
	if want := 9 + 6 + 3 + 6 + 1 + 3; n != want {
		t.Errorf("%d series, want %d", n, want)
	}
	for _, name := range []string{"gongkai_notifier_oldest_undelivered_seconds", "gongkai_notifier_digest_pending_items", "gongkai_notifier_pending_notices"} {
		if v := r.counter(name); v != 0 {
			t.Errorf("%s = %v at start", name, v)
		}
	}
	if v := r.counter("gongkai_notifier_deliveries_total", "channel", "webhook", "result", "permanent_failure"); v != 0 {
		t.Errorf("webhook permanent failures %v", v)
	}
}

// The age of the oldest undelivered notice: an immediate notice counts from
// when it was recorded; a digest item from its digest time, not before.
func TestOldestUndeliveredGauge(t *testing.T) {
	r := newRig(t, loadRegistry(t, "testdata/registry.yaml"), nil)
	r.smtp.FailTemporarily(1 << 20) // the mail server is down
	r.start()
	r.clock.Set(at(2026, 3, 2, 10, 0))
	r.publish(finding("sfz-czj", "A", events.StateNotDue, events.StateDueSoon, events.SeverityWarning, at(2026, 3, 31, 23, 59), r.clock.Now())) // immediate
	r.publish(finding("sfz-wjw", "B", events.StateNotDue, events.StateDueSoon, events.SeverityWarning, at(2026, 3, 31, 23, 59), r.clock.Now())) // two digest items
	waitUntil(t, "recorded", func() bool { return r.svc.mirror.size() == 3 })
	if v := r.counter("gongkai_notifier_digest_pending_items"); v != 2 {
		t.Errorf("digest pending items %v, want 2", v)
	}
	r.clock.Set(at(2026, 3, 2, 10, 10))
	if v := r.counter("gongkai_notifier_oldest_undelivered_seconds"); v != 600 {
		t.Errorf("oldest undelivered %v s, want 600 (the immediate notice, recorded 10 minutes ago)", v)
	}
	if b := r.svc.Backlog(); b.Due != 1 || b.Waiting != 2 {
		t.Errorf("backlog %+v, want 1 due, 2 waiting", b)
	}
	r.clock.Set(at(2026, 3, 3, 9, 30)) // an hour after the next digest time
	if v := r.counter("gongkai_notifier_oldest_undelivered_seconds"); v != (23*time.Hour + 30*time.Minute).Seconds() {
		t.Errorf("oldest undelivered %v s", v)
	}
	r.smtp.FailTemporarily(0)
	r.settle()
	if v := r.counter("gongkai_notifier_oldest_undelivered_seconds"); v != 0 {
		t.Errorf("oldest undelivered %v s after the server recovered", v)
	}
	if got := strings.Join(summary(r.mails()), "\n"); !strings.Contains(got, "sun.qi@czj.sfz.example | 【即将到期】") || !strings.Contains(got, "【政务公开日报】2026-03-03") {
		t.Errorf("after recovery:\n%s", got)
	}
}
