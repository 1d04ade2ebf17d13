package checker_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/pkg/events/eventstest"
	"github.com/gongkai/gongkai/services/checker"
)

// Observations of one agency published back to back are evaluated in
// order, each on the state the previous one left, although state writes
// are pipelined: the required annual-report column is alternately there
// and gone, so every observation flips its instance, and each flip must be
// announced — none evaluated on a state whose successor was still being
// written (which would see no change and skip it).
func TestPipelinedObservationsOfOneAgencyInOrder(t *testing.T) {
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	reg := testRegistry(t, 1)
	clock := time.Date(2026, 2, 3, 9, 0, 0, 0, cst)
	const n = 41
	for i := range n {
		o := observation("a00000", fmt.Sprintf("r%02d", i), clock, "")
		if i%2 == 1 {
			o.Columns[0] = events.Column{Key: events.ColumnAnnualReport, Outcome: events.OutcomeNotFound, Error: "no such column"}
		}
		publishObs(t, js, o)
	}
	c := startChecker(t, js, reg, rules(t), func() time.Time { return clock })
	defer c.stop(t)
	waitConsumed(t, js)

	var chain []events.Finding
	deadline := time.Now().Add(10 * time.Second)
	for {
		chain = chain[:0]
		for _, f := range allFindings(t, js) {
			if f.ObligationID == "CN-WEB-COL-ANNUAL-REPORT" {
				chain = append(chain, f)
			}
		}
		if len(chain) >= n || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond) // findings are published after their state write
	}
	if len(chain) != n {
		t.Fatalf("%d findings for the column, want %d (one per observation)", len(chain), n)
	}
	for i, f := range chain {
		want := events.StateSatisfied
		if i%2 == 1 {
			want = events.StateOverdue
		}
		if f.To != want || (i > 0 && f.From != chain[i-1].To) {
			t.Fatalf("finding %d: %s → %s, want %s → %s", i, f.From, f.To, chain[max(i-1, 0)].To, want)
		}
	}
	key := checker.Key("a00000", "cn-website-2019", "CN-WEB-COL-ANNUAL-REPORT", checker.CurrentPeriod)
	if in := instance(t, js, key); in.State != events.StateSatisfied {
		t.Fatalf("stored state %s, want satisfied", in.State)
	}
}

// With room for only four asynchronous publishes in flight, the lanes and
// the acknowledgement callbacks keep waiting on the client library's limit
// for a whole first audit of 300 agencies: every transition is still made
// and announced once, and no observation is redelivered. (How long a lane
// may wait there before a write fails — publishAckTimeout rather than the
// library's 200 ms — matters only when the server answers that slowly,
// which an embedded server in a test does not.)
func TestPipelineBackPressure(t *testing.T) {
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	const n = 300
	reg := testRegistry(t, n)
	clock := time.Date(2026, 2, 3, 9, 0, 0, 0, cst)
	for i := range n {
		publishObs(t, js, observation(fmt.Sprintf("a%05d", i), "r1", clock, ""))
	}
	c := startChecker(t, js, reg, rules(t), func() time.Time { return clock }, func(s *checker.Service) { checker.LimitPending(s, 4) })
	defer c.stop(t)
	waitConsumed(t, js)
	deadline := time.Now().Add(20 * time.Second)
	for arFindings(t, js) < n && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := arFindings(t, js); got != n {
		t.Fatalf("%d annual-report findings, want %d", got, n)
	}
	cons, err := js.Consumer(context.Background(), events.StreamObservations, events.ConsumerChecker)
	if err != nil {
		t.Fatal(err)
	}
	info, err := cons.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if info.NumRedelivered != 0 {
		t.Fatalf("%d observations redelivered: writes failed instead of waiting", info.NumRedelivered)
	}
}
