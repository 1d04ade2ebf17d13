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
	"github.com/gongkai/gongkai/services/internal/registry"
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

// startRequestChecker starts a checker for one agency, a00000, whose clock
// stands at clock.
func startRequestChecker(t testing.TB) (js jetstream.JetStream, clock time.Time, c *running) {
	t.Helper()
	srv := eventstest.RunServer(t, "")
	_, js = eventstest.Connect(t, srv.URL)
	clock = time.Date(2026, 3, 6, 10, 0, 0, 0, cst)
	return js, clock, startChecker(t, js, testRegistry(t, 1), rules(t), func() time.Time { return clock })
}

// latestFindings returns the latest finding of each
// agency/obligation/period.
func latestFindings(t testing.TB, js jetstream.JetStream) map[string]events.Finding {
	t.Helper()
	out := map[string]events.Finding{}
	for _, f := range allFindings(t, js) {
		out[f.AgencyID+"/"+f.ObligationID+"/"+f.Period] = f
	}
	return out
}

// waitFindings waits until problems, given the latest findings, reports
// none, and fails the test with what it still reports after 10 s: findings
// are published asynchronously after the state is stored.
func waitFindings(t testing.TB, js jetstream.JetStream, problems func(latest map[string]events.Finding) []string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := problems(latestFindings(t, js))
		if len(got) == 0 {
			return
		}
		if time.Now().After(deadline) {
			sort.Strings(got)
			for _, p := range got {
				t.Error(p)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Request cases are judged against the answer deadline of the law in force
// on their receipt, in working days of the official calendar (oracles from
// reference/calendar-cn.md), with extension, tolling and correction, and
// the daily tick moves the pending ones.
func TestRequestCasesJudgedByWorkingDays(t *testing.T) {
	js, clock, c := startRequestChecker(t)
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

	type want struct {
		obligation string
		state      events.State
		due        string
	}
	check := func(when string, wants map[string]want) {
		t.Helper()
		waitFindings(t, js, func(got map[string]events.Finding) (problems []string) {
			for id, w := range wants {
				f, ok := got["a00000/"+w.obligation+"/"+id]
				if !ok {
					problems = append(problems, fmt.Sprintf("%s: case %s: no %s finding", when, id, w.obligation))
					continue
				}
				if due := f.DueAt.In(cst).Format("2006-01-02"); f.To != w.state || due != w.due {
					problems = append(problems, fmt.Sprintf("%s: case %s: %s %s due %s, want %s due %s", when, id, w.obligation, f.To, due, w.state, w.due))
				}
			}
			return problems
		})
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
	if g := latestFindings(t, js)["a00000/CN-R19-REQ-CORRECT/G"]; g.Duty != events.DutyCorrectionNotice || !strings.Contains(g.Explanation.ZH, "于2026-02-12才告知申请人补正") {
		t.Errorf("correction finding: duty %q, %q", g.Duty, g.Explanation.ZH)
	}
	f := latestFindings(t, js)["a00000/CN-R19-REQ/A"]
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
	if g := latestFindings(t, js)["a00000/CN-R19-REQ/G"]; !strings.Contains(g.Explanation.ZH, "申请G应于2026-03-30前答复") {
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
	js, clock, c := startRequestChecker(t)
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

// FOIA appeals (5 U.S.C. 552(a)(6)(A)(ii)): a case with an appeal of a
// national US agency is judged under US-APPEAL as its own instance, 20
// working days from the appeal's receipt (+10 when extended for unusual
// circumstances), counted on the US federal calendar (Saturdays, Sundays
// and legal public holidays excepted; the receipt day not counted). A
// Chinese agency's appeal (行政复议, decided by another body) is under no
// obligation.
//
// Worked by hand from data/calendar-us-federal.csv: an appeal received on
// Friday 2026-01-16, just before Martin Luther King Jr. Day (Monday
// 2026-01-19):
//
//	Jan 20 21 22 23          days  1-4   (Jan 19 a holiday)
//	Jan 26 27 28 29 30       days  5-9
//	Feb  2  3  4  5  6       days 10-14
//	Feb  9 10 11 12 13       days 15-19
//	Feb 17                   day  20     (Feb 16 Washington's Birthday)
//
// so the determination is due 2026-02-17, not 2026-02-13 as weekdays alone
// would give. Extended by 10: Feb 18 19 20 23 24 25 26 27, Mar 2 3 (days
// 21-30), due 2026-03-03.
//
// An appeal received on Friday 2026-02-20: Feb 23-27 (1-5), Mar 2-6 (6-10),
// Mar 9-13 (11-15), Mar 16-20 (16-20): due 2026-03-20; its first reminder
// (5 working days before) is 2026-03-13. Extended: Mar 23-27 (21-25),
// Mar 30 31, Apr 1 2 3 (26-30): due 2026-04-03.
func TestFOIAAppealsJudgedByUSWorkingDays(t *testing.T) {
	reg, err := registry.Parse("r.yaml", []byte(`agencies:
  - {id: doj-oip, name: Office of Information Policy, level: national, kind: department, jurisdiction: us, website: "https://oip.example/"}
  - {id: a-cn, name: 测试局, level: city, kind: department, website: "http://a.example/"}
`))
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	srv := eventstest.RunServer(t, "")
	_, js := eventstest.Connect(t, srv.URL)
	clock := time.Date(2026, 3, 6, 10, 0, 0, 0, ny)
	c := startChecker(t, js, reg, rules(t), func() time.Time { return clock })
	publishRequests(t, js, events.Requests{AgencyID: "doj-oip", Source: "foia-log.csv", RecordedAt: clock, Cases: []events.RequestCase{
		// Decided on the last day (2026-02-17), and a day late.
		{ID: "ONTIME", Title: "Contracts", Received: "2025-12-01", Answered: "2025-12-15", AppealReceived: "2026-01-16", AppealDecided: "2026-02-17"},
		{ID: "LATE", Received: "2025-12-01", Answered: "2025-12-15", AppealReceived: "2026-01-16", AppealDecided: "2026-02-18"},
		// Extended: decided on 2026-02-24, late without the extension.
		{ID: "EXT", Received: "2025-12-01", Answered: "2025-12-15", AppealReceived: "2026-01-16", AppealExtended: true, AppealDecided: "2026-02-24"},
		// Pending: due 2026-03-20, and 2026-04-03 extended.
		{ID: "PENDING", Received: "2026-02-02", Answered: "2026-02-13", AppealReceived: "2026-02-20"},
		{ID: "PENDEXT", Received: "2026-02-02", Answered: "2026-02-13", AppealReceived: "2026-02-20", AppealExtended: true},
		// No appeal: no US-APPEAL instance.
		{ID: "NOAPPEAL", Received: "2026-02-02", Answered: "2026-02-13"},
	}}, "req-us-1")
	publishRequests(t, js, events.Requests{AgencyID: "a-cn", Source: "requests.csv", RecordedAt: clock, Cases: []events.RequestCase{
		{ID: "YSQ-1", Received: "2026-01-05", Answered: "2026-01-20", AppealReceived: "2026-01-26", AppealDecided: "2026-03-02"},
	}}, "req-cn-1")
	waitConsumed(t, js)

	type want struct {
		state events.State
		due   string
	}
	check := func(when string, wants map[string]want) {
		t.Helper()
		waitFindings(t, js, func(got map[string]events.Finding) (problems []string) {
			for id, w := range wants {
				f, ok := got["doj-oip/US-APPEAL/"+id]
				if !ok {
					problems = append(problems, fmt.Sprintf("%s: appeal of %s: no finding", when, id))
					continue
				}
				due := f.DueAt.In(ny).Format("2006-01-02")
				if f.To != w.state || due != w.due || f.Duty != events.DutyAppealDecision || f.PackID != "us-foia" {
					problems = append(problems, fmt.Sprintf("%s: appeal of %s: %s due %s duty %q, want %s due %s duty %q",
						when, id, f.To, due, f.Duty, w.state, w.due, events.DutyAppealDecision))
				}
			}
			return problems
		})
	}
	check("register", map[string]want{
		"ONTIME":  {events.StateSatisfied, "2026-02-17"},
		"LATE":    {events.StateSatisfiedLate, "2026-02-17"},
		"EXT":     {events.StateSatisfied, "2026-03-03"},
		"PENDING": {events.StateNotDue, "2026-03-20"},
		"PENDEXT": {events.StateNotDue, "2026-04-03"},
	})
	got := latestFindings(t, js)
	if _, ok := got["doj-oip/US-APPEAL/NOAPPEAL"]; ok {
		t.Error("a case without an appeal has a US-APPEAL finding")
	}
	// The request itself is still judged under US-REQ, separately.
	if f, ok := got["doj-oip/US-REQ/ONTIME"]; !ok || f.Duty != events.DutyAnswer {
		t.Errorf("US-REQ finding of ONTIME: %+v", f)
	}
	// The Chinese agency: its answer judged, its appeal under no
	// obligation (and nothing under US-APPEAL).
	for k := range got {
		if strings.HasPrefix(k, "a-cn/") && !strings.HasPrefix(k, "a-cn/CN-R19-REQ/") {
			t.Errorf("finding %s for the Chinese agency", k)
		}
	}
	if _, ok := got["a-cn/CN-R19-REQ/YSQ-1"]; !ok {
		t.Error("the Chinese case's answer is not judged")
	}
	if n := testutil.ToFloat64(prometheusCounterVec(t, c.reg, "gongkai_checker_request_cases_total", "no_obligation")); n != 1 {
		t.Errorf("no_obligation cases: %v, want 1 (the Chinese appeal)", n)
	}
	// Wording: the appeal, its decision and the deadline, in zh and en.
	if f := got["doj-oip/US-APPEAL/LATE"]; !strings.Contains(f.Explanation.ZH, "申请LATE的申诉于2026-02-18才作出决定，超过决定期限2026-02-17") ||
		!strings.Contains(f.Explanation.EN, "was decided only on 2026-02-18, after the time limit of 2026-02-17") {
		t.Errorf("late appeal explained as %q / %q", f.Explanation.ZH, f.Explanation.EN)
	}
	if f := got["doj-oip/US-APPEAL/ONTIME"]; !strings.Contains(f.Explanation.EN, "The appeal of Request ONTIME (Contracts) was decided on 2026-02-17, within the time limit of 2026-02-17") {
		t.Errorf("on-time appeal explained as %q", f.Explanation.EN)
	}
	if f := got["doj-oip/US-APPEAL/PENDING"]; !strings.Contains(f.Explanation.ZH, "申请PENDING的申诉应于2026-03-20前作出决定") ||
		!strings.Contains(f.Explanation.EN, "must be decided by 2026-03-20") {
		t.Errorf("pending appeal explained as %q / %q", f.Explanation.ZH, f.Explanation.EN)
	}

	// The clock alone, at 00:05 in New York: the pending appeal is due
	// soon from its first reminder, then past its deadline (the pack
	// escalates at once); the extended one follows two weeks later.
	for _, tc := range []struct {
		at    time.Time
		wants map[string]want
	}{
		{time.Date(2026, 3, 16, 0, 5, 0, 0, ny), map[string]want{
			"PENDING": {events.StateDueSoon, "2026-03-20"},
			"PENDEXT": {events.StateNotDue, "2026-04-03"},
		}},
		{time.Date(2026, 3, 21, 0, 5, 0, 0, ny), map[string]want{
			"PENDING": {events.StateEscalated, "2026-03-20"},
			"PENDEXT": {events.StateNotDue, "2026-04-03"},
		}},
		{time.Date(2026, 4, 4, 0, 5, 0, 0, ny), map[string]want{
			"PENDEXT": {events.StateEscalated, "2026-04-03"},
		}},
	} {
		if _, err := c.svc.Tick(context.Background(), tc.at); err != nil {
			t.Fatal(err)
		}
		check("tick "+tc.at.Format("01-02"), tc.wants)
	}
	if f := latestFindings(t, js)["doj-oip/US-APPEAL/PENDING"]; !strings.Contains(f.Explanation.EN, "was due to be decided by 2026-03-20 and is still undecided") {
		t.Errorf("overdue appeal explained as %q", f.Explanation.EN)
	}

	// A later register with the decision settles the appeal, late.
	publishRequests(t, js, events.Requests{AgencyID: "doj-oip", Source: "foia-log.csv", RecordedAt: clock, Cases: []events.RequestCase{
		{ID: "PENDING", Received: "2026-02-02", Answered: "2026-02-13", AppealReceived: "2026-02-20", AppealDecided: "2026-03-25"},
	}}, "req-us-2")
	waitConsumed(t, js)
	check("decision", map[string]want{"PENDING": {events.StateSatisfiedLate, "2026-03-20"}})
	c.stop(t)
}
