package obligation

import (
	"math/rand/v2"
	"testing"

	"github.com/gongkai/gongkai/services/internal/calendar"
)

// naiveDate computes the same deadline date as Obligation.Due by walking one
// day at a time (asking the calendar about each day). It is the baseline of
// the benchmark and an oracle for the tolling arithmetic; it exists only in
// this test file.
func naiveDate(o *Obligation, p Period, in DueInput) calendar.Date {
	cal := o.Pack().Calendar()
	if in.Calendar != nil {
		cal = in.Calendar
	}
	rule := o.Deadline
	var date calendar.Date
	switch rule.Kind {
	case Fixed:
		date = rule.Fixed.date(p.End)
		if in.Extended {
			for n := rule.Extension.Days; n > 0; {
				date = date.AddDays(1)
				if rule.Extension.Unit == CalendarDays || cal.IsWorkday(date) {
					n--
				}
			}
		}
	case AfterEvent, AfterPeriodEnd:
		x := p.End
		if rule.Kind == AfterEvent {
			x = in.EventDate
		}
		x = x.AddMonths(rule.Span.Months)
		n := rule.Span.Days
		if in.Extended {
			n += rule.Extension.Days
		}
		for n > 0 {
			x = x.AddDays(1)
			tolled := false
			for _, t := range in.Tolling {
				if !x.Before(t.From) && !x.After(t.To) {
					tolled = true
				}
			}
			if tolled {
				continue
			}
			if rule.Span.Unit == CalendarDays || cal.IsWorkday(x) {
				n--
			}
		}
		date = x
	}
	if rule.RollForward {
		for !cal.IsWorkday(date) {
			date = date.AddDays(1)
		}
	}
	return date
}

type dueCase struct {
	o  *Obligation
	p  Period
	in DueInput
}

// dueCases returns n deterministic, varied deadline computations: requests
// (20 or 40 working days, some tolled), annual reports, budgets, website
// freshness and US FOIA requests, with dates from 2016 to 2027.
func dueCases(t testing.TB, c *Catalog, n int) []dueCase {
	rng := rand.New(rand.NewPCG(7, 11))
	ids := []string{
		"CN-R19-REQ", "CN-R19-REQ", "CN-R19-REQ", "CN-R19-REQ", "CN-R19-PRO",
		"CN-R19-AR-DEPT", "CN-R19-AR-GOV", "US-AR", "CN-BUD-DEPT-BUDGET",
		"CN-WEB-COL-NOTICE-FRESH", "US-REQ", "US-REQ", "CN-R08-REQ",
	}
	start := calendar.NewDate(2016, 1, 1)
	out := make([]dueCase, n)
	for i := range out {
		o := mustObligation(t, c, ids[rng.IntN(len(ids))])
		ev := start.AddDays(rng.IntN(4015))
		var p Period
		var err error
		if o.Period.Kind == Yearly {
			p, err = o.ParsePeriod(ev.String()[:4])
		} else {
			p, err = o.ParsePeriod("event-1")
		}
		if err != nil {
			t.Fatal(err)
		}
		in := DueInput{EventDate: ev}
		if o.Deadline.Tolling {
			in.Extended = rng.IntN(4) == 0
			if rng.IntN(3) == 0 {
				from := ev.AddDays(rng.IntN(30) - 5)
				in.Tolling = []Interval{{From: from, To: from.AddDays(rng.IntN(15))}}
				if rng.IntN(2) == 0 {
					f2 := from.AddDays(rng.IntN(40))
					in.Tolling = append(in.Tolling, Interval{From: f2, To: f2.AddDays(rng.IntN(5))})
				}
			}
		}
		out[i] = dueCase{o, p, in}
	}
	return out
}

// TestDueAgainstNaive checks Due against the day-by-day walk on random
// inputs, including overlapping tolling intervals and provisional years.
func TestDueAgainstNaive(t *testing.T) {
	c := mustCatalog(t)
	n := 20000
	if testing.Short() {
		n = 2000
	}
	for _, k := range dueCases(t, c, n) {
		due, err := k.o.Due(k.p, k.in)
		if err != nil {
			t.Fatalf("%s %s %+v: %v", k.o.ID, k.p.Key(), k.in, err)
		}
		if want := naiveDate(k.o, k.p, k.in); due.Date != want {
			t.Fatalf("%s %s %+v: Due %s, naive walk %s\n%s", k.o.ID, k.p.Key(), k.in, due.Date, want, due.Explanation)
		}
	}
}

// BenchmarkDue computes deadlines for a varied mix of obligations with the
// engine (Obligation.Due: O(1) calendar arithmetic, explanation and all) and
// with the naive day-by-day walk (date only) as the baseline. Run one
// million computations of each with:
//
//	go test -run '^$' -bench BenchmarkDue -benchtime 1000000x ./internal/obligation/
func BenchmarkDue(b *testing.B) {
	c := mustCatalog(b)
	cases := dueCases(b, c, 4096)
	var requests []dueCase
	for _, k := range cases {
		if k.o.ID == "CN-R19-REQ" {
			requests = append(requests, k)
		}
	}
	run := func(name string, cases []dueCase, naive bool) {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			var sink calendar.Date
			for i := 0; b.Loop(); i++ {
				k := cases[i%len(cases)]
				if naive {
					sink = naiveDate(k.o, k.p, k.in)
					continue
				}
				due, err := k.o.Due(k.p, k.in)
				if err != nil {
					b.Fatal(err)
				}
				sink = due.Date
			}
			_ = sink
		})
	}
	run("mix/engine", cases, false)
	run("mix/naive-walk", cases, true)
	run("cn-requests/engine", requests, false)
	run("cn-requests/naive-walk", requests, true)
}
