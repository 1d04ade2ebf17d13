package checker_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/pkg/events/eventstest"
)

func publishRequests(t testing.TB, js jetstream.JetStream, r events.Requests, id string) {
	t.Helper()
	ev, err := events.New("test", id, r.AgencyID, r.RecordedAt, r)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := events.Publish(context.Background(), js, events.ObservationSubject(r.AgencyID), ev); err != nil {
		t.Fatal(err)
	}
}

// Request cases are judged against the answer deadline of the law in force
// on their receipt, in working days of the official calendar (oracles from
// reference/calendar-cn.md), with extension, tolling and correction, and
// the daily tick moves the pending ones.
func TestRequestCasesJudgedByWorkingDays(t *testing.T) {
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	reg := testRegistry(t, 1)
	clock := time.Date(2026, 3, 6, 10, 0, 0, 0, cst)
	c := startChecker(t, js, reg, rules(t), func() time.Time { return clock })
	publishRequests(t, js, events.Requests{AgencyID: "a00000", Source: "requests.csv", RecordedAt: clock, Cases: []events.RequestCase{
		// 2026-01-30 + 20 working days = 2026-03-05 (Spring Festival and
		// two make-up Saturdays on the way): past, unanswered.
		{ID: "A", Title: "招生计划", Received: "2026-01-30"},
		// Extended: + 40 working days = 2026-04-02, not due yet.
		{ID: "B", Received: "2026-01-30", Extended: true},
		// 2025-09-26 + 20 = 2025-10-30: answered that day, and a day late.
		{ID: "C", Received: "2025-09-26", Answered: "2025-10-30"},
		{ID: "D", Received: "2025-09-26", Answered: "2025-10-31"},
		// 2024-02-05 + 20 = 2024-03-08, but five working days tolled in
		// between (3/1, 3/4–3/7) move it to 2024-03-15.
		{ID: "E", Received: "2024-02-05", Answered: "2024-03-14", Tolled: []events.DateRange{{From: "2024-03-01", To: "2024-03-07"}}},
		// Received under the 2008 regulation (15 working days).
		{ID: "F", Received: "2019-05-14", Answered: "2019-05-20"},
		// Corrected on 2026-03-02: 20 working days from then, 2026-03-30.
		// The correction was asked for a day after the 7 working days
		// (2026-02-02 + 7 = 2026-02-11); H asked on the last day.
		{ID: "G", Received: "2026-02-02", CorrectionRequested: "2026-02-12", Corrected: "2026-03-02"},
		{ID: "H", Received: "2026-02-02", CorrectionRequested: "2026-02-11"},
	}}, "req-1")
	waitConsumed(t, js)

	last := func() map[string]events.Finding {
		out := map[string]events.Finding{}
		for _, f := range allFindings(t, js) {
			if f.AgencyID == "a00000" {
				out[f.ObligationID+"/"+f.Period] = f
			}
		}
		return out
	}
	type want struct {
		obligation string
		state      events.State
		due        string
	}
	// Findings are published asynchronously after the state is stored:
	// wait a little for the expected ones.
	check := func(when string, wants map[string]want) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got := last()
			var problems []string
			for id, w := range wants {
				f, ok := got[w.obligation+"/"+id]
				if !ok {
					problems = append(problems, fmt.Sprintf("%s: case %s: no finding", when, id))
					continue
				}
				due := f.DueAt.In(cst).Format("2006-01-02")
				if f.ObligationID != w.obligation || f.To != w.state || due != w.due {
					problems = append(problems, fmt.Sprintf("%s: case %s: %s %s due %s, want %s %s due %s", when, id, f.ObligationID, f.To, due, w.obligation, w.state, w.due))
				}
			}
			if len(problems) == 0 {
				return
			}
			if time.Now().After(deadline) {
				sort.Strings(problems)
				for _, p := range problems {
					t.Error(p)
				}
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	check("register", map[string]want{
		"A": {"CN-R19-REQ", events.StateEscalated, "2026-03-05"}, // the pack escalates at once (escalate_after 0)
		"B": {"CN-R19-REQ", events.StateNotDue, "2026-04-02"},
		"C": {"CN-R19-REQ", events.StateSatisfied, "2025-10-30"},
		"D": {"CN-R19-REQ", events.StateSatisfiedLate, "2025-10-30"},
		"E": {"CN-R19-REQ", events.StateSatisfied, "2024-03-15"},
		"F": {"CN-R08-REQ", events.StateSatisfied, "2019-06-04"},
		"G": {"CN-R19-REQ", events.StateNotDue, "2026-03-30"},
	})
	check("correction notices", map[string]want{
		"G": {"CN-R19-REQ-CORRECT", events.StateSatisfiedLate, "2026-02-11"},
		"H": {"CN-R19-REQ-CORRECT", events.StateSatisfied, "2026-02-11"},
	})
	if g := last()["CN-R19-REQ-CORRECT/G"]; g.Duty != events.DutyCorrectionNotice || !strings.Contains(g.Explanation.ZH, "于2026-02-12才告知申请人补正") {
		t.Errorf("correction finding: duty %q, %q", g.Duty, g.Explanation.ZH)
	}
	f := last()["CN-R19-REQ/A"]
	if f.Severity != events.SeverityCritical || !strings.Contains(f.Explanation.ZH, "申请A（招生计划）应于2026-03-05前答复") ||
		!strings.Contains(f.Explanation.EN, "still unanswered as of 2026-03-06") {
		t.Errorf("case A finding: %s, %q / %q", f.Severity, f.Explanation.ZH, f.Explanation.EN)
	}

	// The clock alone: on 2026-03-30 both pending cases are within their
	// reminder lead (5 working days); the next day G is past its deadline.
	for _, tc := range []struct {
		at    time.Time
		wants map[string]want
	}{
		{time.Date(2026, 3, 30, 0, 5, 0, 0, cst), map[string]want{
			"B": {"CN-R19-REQ", events.StateDueSoon, "2026-04-02"},
			"G": {"CN-R19-REQ", events.StateDueSoon, "2026-03-30"},
		}},
		{time.Date(2026, 3, 31, 0, 5, 0, 0, cst), map[string]want{
			"B": {"CN-R19-REQ", events.StateDueSoon, "2026-04-02"},
			"G": {"CN-R19-REQ", events.StateEscalated, "2026-03-30"},
		}},
	} {
		if _, err := c.svc.Tick(context.Background(), tc.at); err != nil {
			t.Fatal(err)
		}
		check("tick "+tc.at.Format("01-02"), tc.wants)
	}
	if g := last()["CN-R19-REQ/G"]; !strings.Contains(g.Explanation.ZH, "申请G应于2026-03-30前答复") {
		t.Errorf("the tick's finding lost the wording: %q", g.Explanation.ZH)
	}

	// An answer in a later register settles the case; re-importing the
	// same register changes nothing.
	n := len(allFindings(t, js))
	publishRequests(t, js, events.Requests{AgencyID: "a00000", Source: "requests.csv", RecordedAt: clock, Cases: []events.RequestCase{
		{ID: "B", Received: "2026-01-30", Extended: true, Answered: "2026-04-01"},
		{ID: "C", Received: "2025-09-26", Answered: "2025-10-30"},
	}}, "req-2")
	waitConsumed(t, js)
	check("answer", map[string]want{"B": {"CN-R19-REQ", events.StateSatisfied, "2026-04-02"}})
	time.Sleep(100 * time.Millisecond) // room for a wrong extra finding to arrive
	if got := len(allFindings(t, js)); got != n+1 {
		t.Errorf("%d findings after the second register, want %d (one: B answered)", got, n+1)
	}
	c.stop(t)
}

// A case no answer obligation covers (a US agency's request before FOIA's
// pack applies to its level, here a city) is counted, not judged, and the
// register is still acknowledged; an invalid register is terminated.
func TestRequestRegistersBadInput(t *testing.T) {
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	reg := testRegistry(t, 1)
	clock := time.Date(2026, 3, 6, 10, 0, 0, 0, cst)
	c := startChecker(t, js, reg, rules(t), func() time.Time { return clock })
	publishRequests(t, js, events.Requests{AgencyID: "a00000", Source: "r.csv", RecordedAt: clock, Cases: []events.RequestCase{
		{ID: "old", Received: "2001-01-05"}, // before any pack
		{ID: "ok", Received: "2026-03-02"},
	}}, "req-1")
	// Invalid on the wire: the answer before the receipt.
	bad := events.Requests{AgencyID: "a00000", Source: "r.csv", RecordedAt: clock, Cases: []events.RequestCase{{ID: "x", Received: "2026-03-02"}}}
	ev, err := events.New("test", "req-bad", "a00000", clock, bad)
	if err != nil {
		t.Fatal(err)
	}
	ev.Data = []byte(strings.Replace(string(ev.Data), `"received":"2026-03-02"`, `"received":"2026-03-02","answered":"2026-03-01"`, 1))
	if _, err := events.Publish(context.Background(), js, events.ObservationSubject("a00000"), ev); err != nil {
		t.Fatal(err)
	}
	waitConsumed(t, js)
	c.stop(t)
	for label, want := range map[string]float64{"no_obligation": 1, "judged": 1} {
		if got := testutil.ToFloat64(prometheusCounterVec(t, c.reg, "gongkai_checker_request_cases_total", label)); got != want {
			t.Errorf("request cases %s: %v, want %v", label, got, want)
		}
	}
	if got := testutil.ToFloat64(prometheusCounterVec(t, c.reg, "gongkai_checker_messages_terminated_total", "requests")); got != 1 {
		t.Errorf("terminated registers: %v, want 1", got)
	}
	periods := map[string]bool{}
	for _, f := range allFindings(t, js) {
		if strings.HasPrefix(f.ObligationID, "CN-R19-REQ") {
			periods[f.Period] = true
		}
	}
	if !periods["ok"] || periods["old"] || periods["x"] {
		t.Errorf("findings for cases %v, want only ok", periods)
	}
}
