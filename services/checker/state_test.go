package checker

import (
	"testing"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
)

func TestDecide(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	clk := Clock{
		DueSoonAt:  at("2026-01-16 00:00"),
		DueAt:      at("2026-01-31 23:59"),
		EscalateAt: at("2026-03-03 00:00"),
	}
	inst := func(s events.State, failures int) *Instance { return &Instance{State: s, Failures: failures} }
	cases := []struct {
		name         string
		prev         *Instance
		facts        Facts
		now          string
		want         events.State
		wantFailures int
	}{
		{"new, found on time", nil, Facts{Look: LookFound, PublishedOn: "2026-01-20"}, "2026-02-03 09:00", events.StateSatisfied, 0},
		{"found on the due date", nil, Facts{Look: LookFound, PublishedOn: "2026-01-31"}, "2026-02-03 09:00", events.StateSatisfied, 0},
		{"found a day late", nil, Facts{Look: LookFound, PublishedOn: "2026-02-01"}, "2026-02-03 09:00", events.StateSatisfiedLate, 0},
		{"found without a date after the deadline", nil, Facts{Look: LookFound}, "2026-02-03 09:00", events.StateSatisfiedLate, 0},
		{"found without a date before the deadline", nil, Facts{Look: LookFound}, "2026-01-10 09:00", events.StateSatisfied, 0},
		{"absent, long before", nil, Facts{Look: LookAbsent}, "2026-01-02 09:00", events.StateNotDue, 0},
		{"absent, in the reminder window", nil, Facts{Look: LookAbsent}, "2026-01-20 09:00", events.StateDueSoon, 0},
		{"absent, on the due day", nil, Facts{Look: LookAbsent}, "2026-01-31 12:00", events.StateDueSoon, 0},
		{"absent, after the due time", nil, Facts{Look: LookAbsent}, "2026-02-01 00:00", events.StateOverdue, 0},
		{"absent, past escalation", nil, Facts{Look: LookAbsent}, "2026-03-03 00:00", events.StateEscalated, 0},
		{"overdue then published late", inst(events.StateOverdue, 0), Facts{Look: LookFound, PublishedOn: "2026-02-10"}, "2026-02-11 09:00", events.StateSatisfiedLate, 0},
		{"failed look on a new instance: unknown", nil, Facts{Look: LookFailed, Error: "refused"}, "2026-02-03 09:00", events.StateUnknown, 1},
		{"one failed look keeps the clock state", inst(events.StateDueSoon, 0), Facts{Look: LookFailed}, "2026-01-25 09:00", events.StateDueSoon, 1},
		{"failed look does not stop the clock", inst(events.StateDueSoon, 0), Facts{Look: LookFailed}, "2026-02-02 09:00", events.StateOverdue, 1},
		{"third failure makes it unknown", inst(events.StateOverdue, 2), Facts{Look: LookFailed}, "2026-02-05 09:00", events.StateUnknown, 3},
		{"failure never reopens a satisfied instance", inst(events.StateSatisfied, 5), Facts{Look: LookFailed}, "2026-02-05 09:00", events.StateSatisfied, 6},
		{"a successful look clears failures", inst(events.StateUnknown, 4), Facts{Look: LookAbsent}, "2026-02-05 09:00", events.StateOverdue, 0},
		{"a report that disappears stays satisfied", inst(events.StateSatisfied, 0), Facts{Look: LookAbsent}, "2026-05-05 09:00", events.StateSatisfied, 0},
		{"clock moves overdue to escalated", inst(events.StateOverdue, 0), Facts{}, "2026-03-04 09:00", events.StateEscalated, 0},
		{"clock leaves unknown alone", inst(events.StateUnknown, 3), Facts{}, "2026-03-04 09:00", events.StateUnknown, 3},
		{"clock leaves waived alone", inst(events.StateWaived, 0), Facts{}, "2026-03-04 09:00", events.StateWaived, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, failures := decide(c.prev, c.facts, clk, at(c.now), loc, 3)
			if got != c.want || failures != c.wantFailures {
				t.Fatalf("decide = %s, %d failures; want %s, %d", got, failures, c.want, c.wantFailures)
			}
		})
	}
}

func TestKeyIsValidForKV(t *testing.T) {
	got := Key("huaian-czj", "cn-ogi-2019", "CN-R19-AR-DEPT", "2025")
	if got != "huaian-czj.cn-ogi-2019.CN-R19-AR-DEPT.2025" {
		t.Fatalf("key %q", got)
	}
	if k := Key("a", "p", "o", "request 7/2026"); k != "a.p.o.request_7_2026" {
		t.Fatalf("sanitised key %q", k)
	}
}
