package obligation

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gongkai/gongkai/services/internal/calendar"
)

func mustCatalog(t testing.TB) *Catalog {
	t.Helper()
	c, err := LoadEmbedded()
	if err != nil {
		t.Fatalf("LoadEmbedded: %v", err)
	}
	return c
}

func mustObligation(t testing.TB, c *Catalog, id string) *Obligation {
	t.Helper()
	o, ok := c.Obligation(id)
	if !ok {
		t.Fatalf("no obligation %s", id)
	}
	return o
}

func d(s string) calendar.Date {
	v, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return v
}

func iv(from, to string) Interval { return Interval{From: d(from), To: d(to)} }

func ptr[T any](v T) *T { return &v }

// TestDue is the table of deadline computations: fixed dates, working and
// calendar days after events, extensions, tolling, overrides, roll-forward,
// fiscal years and provisional results.
func TestDue(t *testing.T) {
	c := mustCatalog(t)
	tests := []struct {
		name       string
		obligation string
		period     string
		in         DueInput
		want       string // RFC 3339
		wantProv   bool
		wantInExpl string
	}{
		// Annual reports (fixed dates, no roll-forward by default).
		{"dept report 2025 due Saturday", "CN-R19-AR-DEPT", "2025", DueInput{}, "2026-01-31T23:59:59+08:00", false, "a rest day (Saturday), not rolled forward"},
		{"dept report 2025 rolled forward", "CN-R19-AR-DEPT", "2025",
			DueInput{Override: &Override{Obligation: "CN-R19-AR-DEPT", RollForward: ptr(true), Basis: "local rule"}},
			"2026-02-02T23:59:59+08:00", false, "rolled forward to 2026-02-02"},
		{"dept report 2024", "CN-R19-AR-DEPT", "2024", DueInput{}, "2025-01-31T23:59:59+08:00", false, ""},
		// 2027-01-31 is a Sunday: without roll-forward the date is fixed and
		// certain; rolling forward needs 2027 data and is provisional.
		{"dept report 2026", "CN-R19-AR-DEPT", "2026", DueInput{}, "2027-01-31T23:59:59+08:00", false, "not rolled forward"},
		{"dept report 2026 rolled forward", "CN-R19-AR-DEPT", "2026",
			DueInput{Override: &Override{Obligation: "CN-R19-AR-DEPT", RollForward: ptr(true), Basis: "local rule"}},
			"2027-02-01T23:59:59+08:00", true, "(provisional)"},
		{"government report", "CN-R19-AR-GOV", "2025", DueInput{}, "2026-03-31T23:59:59+08:00", false, ""},
		{"2008 report for 2018", "CN-R08-AR", "2018", DueInput{}, "2019-03-31T23:59:59+08:00", false, ""},
		{"US annual report FY2025", "US-AR", "FY2025", DueInput{}, "2026-02-01T23:59:59-05:00", false, "a rest day (Sunday)"},
		{"US annual report plain year key", "US-AR", "2024", DueInput{}, "2025-02-01T23:59:59-05:00", false, "for period FY2024"},

		// Requests, 2019 text (art. 33): the worked examples of calendar-cn.md.
		{"request 2026", "CN-R19-REQ", "req-1", DueInput{EventDate: d("2026-01-30")}, "2026-03-05T23:59:59+08:00", false, "20 working days after receipt 2026-01-30"},
		{"request 2026 extended", "CN-R19-REQ", "req-1", DueInput{EventDate: d("2026-01-30"), Extended: true}, "2026-04-02T23:59:59+08:00", false, "+20 working days extension"},
		{"request 2025", "CN-R19-REQ", "req-2", DueInput{EventDate: d("2025-09-26")}, "2025-10-30T23:59:59+08:00", false, ""},
		{"request 2025 extended", "CN-R19-REQ", "req-2", DueInput{EventDate: d("2025-09-26"), Extended: true}, "2025-11-27T23:59:59+08:00", false, ""},
		{"request 2024", "CN-R19-REQ", "req-3", DueInput{EventDate: d("2024-02-05")}, "2024-03-08T23:59:59+08:00", false, ""},
		{"request 2024 extended", "CN-R19-REQ", "req-3", DueInput{EventDate: d("2024-02-05"), Extended: true}, "2024-04-08T23:59:59+08:00", false, ""},

		// Tolling: third-party consultation is not counted.
		{"tolled 3 working days", "CN-R19-REQ", "req-1",
			DueInput{EventDate: d("2026-01-30"), Tolling: []Interval{iv("2026-02-02", "2026-02-04")}},
			"2026-03-10T23:59:59+08:00", false, "not counting 3 working days tolled"},
		{"tolled over the holiday only", "CN-R19-REQ", "req-1",
			DueInput{EventDate: d("2026-01-30"), Tolling: []Interval{iv("2026-02-15", "2026-02-23")}},
			"2026-03-05T23:59:59+08:00", false, ""},
		{"tolling starting before receipt", "CN-R19-REQ", "req-1",
			DueInput{EventDate: d("2026-01-30"), Tolling: []Interval{iv("2026-01-25", "2026-02-03")}},
			"2026-03-09T23:59:59+08:00", false, "not counting 2 working days tolled"},
		{"overlapping tolling merged", "CN-R19-REQ", "req-1",
			DueInput{EventDate: d("2026-01-30"), Tolling: []Interval{iv("2026-02-03", "2026-02-05"), iv("2026-02-02", "2026-02-04")}},
			"2026-03-11T23:59:59+08:00", false, "not counting 4 working days tolled"},
		{"tolling after the deadline", "CN-R19-REQ", "req-1",
			DueInput{EventDate: d("2026-01-30"), Tolling: []Interval{iv("2026-03-20", "2026-03-25")}},
			"2026-03-05T23:59:59+08:00", false, ""},
		{"tolling and extension", "CN-R19-REQ", "req-1",
			DueInput{EventDate: d("2026-01-30"), Extended: true, Tolling: []Interval{iv("2026-02-02", "2026-02-04")}},
			"2026-04-08T23:59:59+08:00", false, ""},
		{"two tolling intervals", "CN-R19-REQ", "req-1",
			DueInput{EventDate: d("2026-01-30"), Tolling: []Interval{iv("2026-02-02", "2026-02-02"), iv("2026-03-02", "2026-03-03")}},
			"2026-03-10T23:59:59+08:00", false, "not counting 3 working days tolled"},

		// Requests under the 2008 text (art. 24): 15 (+15) working days.
		{"2008 request (端午 2019-06-07 off)", "CN-R08-REQ", "old", DueInput{EventDate: d("2019-05-14")}, "2019-06-04T23:59:59+08:00", false, ""},
		{"2008 request extended", "CN-R08-REQ", "old", DueInput{EventDate: d("2019-05-14"), Extended: true}, "2019-06-26T23:59:59+08:00", false, ""},

		// December requests are due in 2027, for which no notice exists.
		{"request into 2027", "CN-R19-REQ", "dec", DueInput{EventDate: d("2026-12-15")}, "2027-01-12T23:59:59+08:00", true, "(provisional)"},
		{"request into 2027 extended", "CN-R19-REQ", "dec", DueInput{EventDate: d("2026-12-15"), Extended: true}, "2027-02-09T23:59:59+08:00", true, ""},

		// US FOIA: working days skip observed federal holidays.
		{"FOIA over Christmas and New Year observed in 2021", "US-REQ", "r", DueInput{EventDate: d("2021-12-20")}, "2022-01-20T23:59:59-05:00", false, ""},
		{"FOIA over Juneteenth observed on Monday", "US-REQ", "r", DueInput{EventDate: d("2022-06-15")}, "2022-07-15T23:59:59-04:00", false, ""},
		{"FOIA unusual circumstances", "US-REQ", "r", DueInput{EventDate: d("2022-06-15"), Extended: true}, "2022-07-29T23:59:59-04:00", false, "+10 working days extension"},
		{"FOIA tolled once", "US-REQ", "r", DueInput{EventDate: d("2022-06-15"), Tolling: []Interval{iv("2022-06-21", "2022-06-24")}}, "2022-07-21T23:59:59-04:00", false, ""},
		{"FOIA appeal", "US-APPEAL", "a", DueInput{EventDate: d("2025-11-20")}, "2025-12-19T23:59:59-05:00", false, ""},
		{"FOIA expedited, calendar days", "US-EXP", "e", DueInput{EventDate: d("2025-12-22")}, "2026-01-01T23:59:59-05:00", false, "a rest day (Thursday"},
		{"FOIA into 2028", "US-REQ", "r", DueInput{EventDate: d("2027-12-20")}, "2028-01-19T23:59:59-05:00", true, ""},
		{"FOIA DC area", "US-REQ", "r", DueInput{EventDate: d("2025-01-15"), Calendar: mustCal(t, "us-dc")}, "2025-02-13T23:59:59-05:00", false, "calendar us-dc@"},

		// Budget law: calendar days after approval.
		{"department budget", "CN-BUD-DEPT-BUDGET", "2026", DueInput{EventDate: d("2026-02-10")}, "2026-03-02T23:59:59+08:00", false, "20 calendar days after approval 2026-02-10"},
		{"government final accounts", "CN-BUD-GOV-FINAL", "2025", DueInput{EventDate: d("2026-06-28")}, "2026-07-18T23:59:59+08:00", false, "a rest day (Saturday)"},
		{"budget late in 2026 is certain", "CN-BUD-DEPT-BUDGET", "2027", DueInput{EventDate: d("2026-12-25")}, "2027-01-14T23:59:59+08:00", false, ""},

		// Website freshness: months are calendar months, clamped.
		{"notice column stale", "CN-WEB-COL-NOTICE-FRESH", "notices", DueInput{EventDate: d("2025-08-31")}, "2026-02-28T23:59:59+08:00", false, "6 months after last-update 2025-08-31"},
		{"homepage stale", "CN-WEB-HOMEPAGE-FRESH", "home", DueInput{EventDate: d("2026-01-30")}, "2026-02-13T23:59:59+08:00", false, ""},

		// Overrides.
		{"怀化 Jan 28 for 2021", "CN-R19-AR-DEPT", "2021",
			DueInput{Override: &Override{Obligation: "CN-R19-AR-DEPT", Periods: []string{"2021"}, Fixed: &FixedDate{YearOffset: 1, Month: 1, Day: 28, Time: Clock{23, 59, 59}}, Basis: "怀化市 2022-01 notice"}},
			"2022-01-28T23:59:59+08:00", false, "override (怀化市 2022-01 notice)"},
		{"怀化 override not for 2022", "CN-R19-AR-DEPT", "2022",
			DueInput{Override: &Override{Obligation: "CN-R19-AR-DEPT", Periods: []string{"2021"}, Fixed: &FixedDate{YearOffset: 1, Month: 1, Day: 28, Time: Clock{23, 59, 59}}, Basis: "怀化市 2022-01 notice"}},
			"2023-01-31T23:59:59+08:00", false, ""},
		{"three days earlier", "CN-R19-AR-DEPT", "2025",
			DueInput{Override: &Override{Obligation: "CN-R19-AR-DEPT", Shift: Span{Days: -3, Unit: CalendarDays}, Basis: "city rule"}},
			"2026-01-28T23:59:59+08:00", false, "shifted -3 calendar days"},
		{"five working days earlier", "CN-R19-REQ", "req-1",
			DueInput{EventDate: d("2026-01-30"), Override: &Override{Obligation: "CN-R19-REQ", Shift: Span{Days: -5, Unit: WorkingDays}, Basis: "county rule"}},
			"2026-02-27T23:59:59+08:00", false, ""},
		{"stricter count", "CN-R19-REQ", "req-1",
			DueInput{EventDate: d("2026-01-30"), Override: &Override{Obligation: "CN-R19-REQ", Days: ptr(15), Basis: "county rule"}},
			"2026-02-27T23:59:59+08:00", false, "15 working days"},
		{"township date from the county", "CN-R19-AR-TOWN", "2025",
			DueInput{Override: &Override{Obligation: "CN-R19-AR-TOWN", Fixed: &FixedDate{YearOffset: 1, Month: 1, Day: 20, Time: Clock{23, 59, 59}}, Basis: "county notice"}},
			"2026-01-20T23:59:59+08:00", false, ""},
		{"FOIA quarterly configured", "US-QR", "FY2026-Q1",
			DueInput{Override: &Override{Obligation: "US-QR", Days: ptr(30), Basis: "OIP guidance FY2026"}},
			"2026-01-30T23:59:59-05:00", false, "30 calendar days after the end of period FY2026-Q1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := mustObligation(t, c, tt.obligation)
			p, err := o.ParsePeriod(tt.period)
			if err != nil {
				t.Fatal(err)
			}
			due, err := o.Due(p, tt.in)
			if err != nil {
				t.Fatalf("Due: %v", err)
			}
			if got := due.At.Format(time.RFC3339); got != tt.want || due.Provisional != tt.wantProv {
				t.Errorf("Due = %s provisional=%v, want %s provisional=%v\n%s", got, due.Provisional, tt.want, tt.wantProv, due.Explanation)
			}
			if !strings.Contains(due.Explanation, tt.wantInExpl) {
				t.Errorf("explanation %q lacks %q", due.Explanation, tt.wantInExpl)
			}
			if due.Provisional != (due.ProvisionalReason != "") {
				t.Errorf("provisional %v with reason %q", due.Provisional, due.ProvisionalReason)
			}
			cal := o.Pack().Calendar()
			if tt.in.Calendar != nil {
				cal = tt.in.Calendar
			}
			if due.CalendarVersion != cal.Version() || due.PackVersion != o.Pack().Version || due.PackHash != o.Pack().Hash || due.PackID != o.Pack().ID {
				t.Errorf("versions: %+v", due)
			}
			if due.Date != calendar.DateOf(due.At) || due.Period != p.Key() || due.Obligation != o.ID {
				t.Errorf("fields: %+v", due)
			}
		})
	}
}

func mustCal(t testing.TB, name string) *calendar.Calendar {
	t.Helper()
	c, err := calendar.Load(name)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestDueErrors(t *testing.T) {
	c := mustCatalog(t)
	tests := []struct {
		obligation, period string
		in                 DueInput
		is                 error
		want               string
	}{
		{"CN-R19-GUIDE", "site", DueInput{}, ErrNoDeadline, "CN-R19-GUIDE: no deadline: continuous obligation (及时更新 — no numeric deadline; checked for presence and current contact details at every audit)"},
		{"US-QR", "FY2026-Q1", DueInput{}, ErrUnknownDeadline, "US-QR: deadline unknown: due date set by OIP guidance, not found (obligations.md §6.7); supply the number of days after the quarter ends with an override"},
		{"CN-R19-AR-TOWN", "2025", DueInput{}, ErrUnknownDeadline, ""},
		{"CN-R19-REQ", "r", DueInput{}, ErrEventDate, "CN-R19-REQ: event date required (receipt)"},
		{"CN-BUD-DEPT-BUDGET", "2026", DueInput{}, ErrEventDate, "CN-BUD-DEPT-BUDGET: event date required (approval)"},
		{"US-APPEAL", "a", DueInput{EventDate: d("2025-01-02"), Tolling: []Interval{iv("2025-01-03", "2025-01-04")}}, nil, "US-APPEAL: the rule allows no tolling"},
		{"CN-R19-REQ", "r", DueInput{EventDate: d("2026-01-30"), Tolling: []Interval{iv("2026-02-04", "2026-02-02")}}, nil, "CN-R19-REQ: tolling interval 2026-02-04..2026-02-02 ends before it starts"},
		{"CN-R19-AR-DEPT", "2025", DueInput{Override: &Override{Obligation: "CN-R19-AR-DEPT", Days: ptr(3), Basis: "x"}}, nil, "override of CN-R19-AR-DEPT replaces a number of days, but the rule is fixed"},
		{"CN-R19-AR-DEPT", "2025", DueInput{Override: &Override{Obligation: "CN-R19-AR-GOV", RollForward: ptr(true), Basis: "x"}}, nil, "CN-R19-AR-DEPT: override is for CN-R19-AR-GOV"},
		{"CN-R19-AR-DEPT", "2025", DueInput{Override: &Override{Obligation: "CN-R19-AR-DEPT", RollForward: ptr(true)}}, nil, "CN-R19-AR-DEPT: override of CN-R19-AR-DEPT: basis missing: cite the local rule"},
	}
	for _, tt := range tests {
		o := mustObligation(t, c, tt.obligation)
		p, err := o.ParsePeriod(tt.period)
		if err != nil {
			t.Fatal(err)
		}
		_, err = o.Due(p, tt.in)
		if err == nil {
			t.Errorf("%s %s: no error", tt.obligation, tt.period)
			continue
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("%s: error %v is not %v", tt.obligation, err, tt.is)
		}
		if tt.want != "" && err.Error() != tt.want {
			t.Errorf("%s: error\n got: %s\nwant: %s", tt.obligation, err, tt.want)
		}
	}
	// A period of the wrong kind.
	o := mustObligation(t, c, "CN-R19-AR-DEPT")
	if _, err := o.Due(Period{Kind: EventDriven, Event: "x"}, DueInput{}); err == nil || err.Error() != `CN-R19-AR-DEPT: period "x" is event; the obligation's periods are yearly` {
		t.Errorf("wrong period kind: %v", err)
	}
}

func TestRemindersAndEscalation(t *testing.T) {
	c := mustCatalog(t)
	o := mustObligation(t, c, "CN-R19-AR-DEPT")
	p, _ := o.ParsePeriod("2025")
	due, err := o.Due(p, DueInput{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range o.ReminderTimes(due) {
		got = append(got, r.Format(time.RFC3339))
	}
	want := "2026-01-12T00:00:00+08:00 2026-01-26T00:00:00+08:00 2026-01-30T00:00:00+08:00"
	if strings.Join(got, " ") != want {
		t.Errorf("ReminderTimes = %v, want %s", got, want)
	}
	if s := o.DueSoonAt(due).Format(time.RFC3339); s != "2026-01-12T00:00:00+08:00" {
		t.Errorf("DueSoonAt = %s", s)
	}
	// Five working days overdue, counted from Saturday 2026-01-31.
	if s := o.EscalateAt(due).Format(time.RFC3339); s != "2026-02-06T23:59:59+08:00" {
		t.Errorf("EscalateAt = %s", s)
	}
	// Across the Spring Festival: request due 2026-02-13 (Friday before it).
	req := mustObligation(t, c, "CN-R19-REQ")
	rp, _ := req.ParsePeriod("r")
	rdue, err := req.Due(rp, DueInput{EventDate: d("2026-01-15")})
	if err != nil {
		t.Fatal(err)
	}
	if rdue.Date != d("2026-02-12") {
		t.Fatalf("due %s", rdue.Date)
	}
	if s := req.EscalateAt(rdue).Format(time.RFC3339); s != rdue.At.Format(time.RFC3339) {
		t.Errorf("EscalateAt with escalate_after 0 = %s", s)
	}
	got = got[:0]
	for _, r := range req.ReminderTimes(rdue) {
		got = append(got, r.Format("2006-01-02"))
	}
	if strings.Join(got, " ") != "2026-02-05 2026-02-10" {
		t.Errorf("request reminders %v", got)
	}
	// No reminders: due soon at the deadline itself.
	g := mustObligation(t, c, "CN-WEB-BLANK")
	if len(g.Reminders) != 0 {
		t.Fatal("blank-columns has reminders")
	}
}

func TestPeriods(t *testing.T) {
	c := mustCatalog(t)
	ar := mustObligation(t, c, "CN-R19-AR-DEPT")
	usar := mustObligation(t, c, "US-AR")
	qr := mustObligation(t, c, "US-QR")
	tests := []struct {
		o    *Obligation
		at   time.Time
		want string
	}{
		{ar, time.Date(2026, 1, 10, 0, 0, 0, 0, time.UTC), "2025"},
		// 2025-12-31 16:30 UTC is already 2026-01-01 in Beijing.
		{ar, time.Date(2025, 12, 31, 16, 30, 0, 0, time.UTC), "2025"},
		{ar, time.Date(2025, 12, 31, 15, 30, 0, 0, time.UTC), "2024"},
		{usar, time.Date(2025, 10, 15, 12, 0, 0, 0, time.UTC), "FY2025"},
		{usar, time.Date(2025, 9, 30, 12, 0, 0, 0, time.UTC), "FY2024"},
		{qr, time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC), "FY2026-Q1"},
		{qr, time.Date(2025, 12, 15, 12, 0, 0, 0, time.UTC), "FY2025-Q4"},
		{qr, time.Date(2025, 8, 15, 12, 0, 0, 0, time.UTC), "FY2025-Q3"},
	}
	for _, tt := range tests {
		p, err := tt.o.PeriodFor(tt.at)
		if err != nil || p.Key() != tt.want {
			t.Errorf("%s PeriodFor(%s) = %s, %v; want %s", tt.o.ID, tt.at, p.Key(), err, tt.want)
		}
	}
	keys := []struct {
		spec       PeriodSpec
		key        string
		start, end string
		canonical  string
	}{
		{PeriodSpec{Yearly, time.January}, "2025", "2025-01-01", "2025-12-31", "2025"},
		{PeriodSpec{Yearly, time.October}, "FY2025", "2024-10-01", "2025-09-30", "FY2025"},
		{PeriodSpec{Yearly, time.October}, "2025", "2024-10-01", "2025-09-30", "FY2025"},
		{PeriodSpec{Quarterly, time.January}, "2025-Q3", "2025-07-01", "2025-09-30", "2025-Q3"},
		{PeriodSpec{Quarterly, time.October}, "FY2026-Q1", "2025-10-01", "2025-12-31", "FY2026-Q1"},
		{PeriodSpec{Quarterly, time.October}, "FY2026-Q4", "2026-07-01", "2026-09-30", "FY2026-Q4"},
		{PeriodSpec{Yearly, time.April}, "FY2024", "2023-04-01", "2024-03-31", "FY2024"},
	}
	for _, k := range keys {
		p, err := k.spec.Parse(k.key)
		if err != nil || p.Start != d(k.start) || p.End != d(k.end) || p.Key() != k.canonical {
			t.Errorf("Parse(%q) = %+v, %v", k.key, p, err)
		}
		if q, err := k.spec.Containing(d(k.start)); err != nil || q != p {
			t.Errorf("Containing(%s) = %+v", k.start, q)
		}
		if q, err := k.spec.Containing(d(k.end)); err != nil || q != p {
			t.Errorf("Containing(%s) = %+v", k.end, q)
		}
	}
	for _, bad := range []struct {
		spec PeriodSpec
		key  string
	}{
		{PeriodSpec{Yearly, time.January}, "FY2025"},
		{PeriodSpec{Yearly, time.January}, "25"},
		{PeriodSpec{Yearly, time.January}, "2025-Q1"},
		{PeriodSpec{Quarterly, time.January}, "2025"},
		{PeriodSpec{Quarterly, time.January}, "2025-Q5"},
		{PeriodSpec{EventDriven, time.January}, ""},
		{PeriodSpec{EventDriven, time.January}, "has space"},
	} {
		if p, err := bad.spec.Parse(bad.key); err == nil {
			t.Errorf("%v Parse(%q) = %+v, want error", bad.spec, bad.key, p)
		}
	}
	if _, err := mustObligation(t, c, "CN-R19-REQ").PeriodFor(time.Now()); err == nil {
		t.Error("PeriodFor on an event-driven obligation succeeded")
	}
}

func TestSelect(t *testing.T) {
	c := mustCatalog(t)
	ids := func(os []*Obligation) string {
		var s []string
		for _, o := range os {
			s = append(s, o.ID)
		}
		return strings.Join(s, " ")
	}
	tests := []struct {
		jur, kind, ref, want string
	}{
		{"cn", "annual-report", "2018-12-31", "CN-R08-AR"},
		{"cn", "annual-report", "2019-12-31", "CN-R19-AR-DEPT CN-R19-AR-GOV CN-R19-AR-TOWN"},
		{"cn", "request-answer", "2019-05-14", "CN-R08-REQ"},
		{"cn", "request-answer", "2019-05-15", "CN-R19-REQ"},
		{"cn", "request-answer", "2008-04-30", ""},
		{"cn", "guide", "2026-01-01", "CN-R19-GUIDE"},
		{"us", "request-answer", "2025-01-02", "US-REQ"},
		{"us", "annual-report", "2025-09-30", "US-AR"},
	}
	for _, tt := range tests {
		if got := ids(c.Select(tt.jur, tt.kind, d(tt.ref))); got != tt.want {
			t.Errorf("Select(%s, %s, %s) = %q, want %q", tt.jur, tt.kind, tt.ref, got, tt.want)
		}
	}
	// The choice by period: the report on 2018 follows 2008, on 2019 follows 2019.
	dept := Agency{Jurisdiction: "cn", Level: LevelCity, Kind: KindDepartment}
	for year, want := range map[int]string{2018: "CN-R08-AR", 2019: "CN-R19-AR-DEPT", 2025: "CN-R19-AR-DEPT"} {
		var got []*Obligation
		for _, o := range c.Select("cn", "annual-report", calendar.NewDate(year, 12, 31)) {
			if o.AppliesTo(dept) {
				got = append(got, o)
			}
		}
		if ids(got) != want {
			t.Errorf("report on %d: %s, want %s", year, ids(got), want)
		}
	}
	p, _ := mustObligation(t, c, "US-AR").ParsePeriod("FY2025")
	if r := Reference(p, calendar.Date{}); r != d("2025-09-30") {
		t.Errorf("Reference = %s", r)
	}
}

func TestApplicable(t *testing.T) {
	c := mustCatalog(t)
	at := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	has := func(os []*Obligation, id string) bool {
		for _, o := range os {
			if o.ID == id {
				return true
			}
		}
		return false
	}
	cityDept := c.Applicable(Agency{Jurisdiction: "cn", Level: LevelCity, Kind: KindDepartment}, at)
	if !has(cityDept, "CN-R19-AR-DEPT") || has(cityDept, "CN-R19-AR-GOV") || has(cityDept, "CN-R08-AR") || !has(cityDept, "CN-BUD-DEPT-BUDGET") || !has(cityDept, "CN-WEB-COL-LEADERS") {
		t.Errorf("city department: %d obligations", len(cityDept))
	}
	countyGov := c.Applicable(Agency{Jurisdiction: "cn", Level: LevelCounty, Kind: KindGovernment}, at)
	if !has(countyGov, "CN-R19-AR-GOV") || has(countyGov, "CN-R19-AR-DEPT") || has(countyGov, "CN-BUD-DEPT-BUDGET") {
		t.Error("county government")
	}
	town := c.Applicable(Agency{Jurisdiction: "cn", Level: LevelTownship, Kind: KindGovernment}, at)
	if !has(town, "CN-R19-AR-TOWN") || has(town, "CN-R19-AR-GOV") {
		t.Error("township")
	}
	only := c.Applicable(Agency{Jurisdiction: "cn", Level: LevelCity, Kind: KindDepartment, Packs: []string{"cn-budget"}}, at)
	if len(only) != 2 || !has(only, "CN-BUD-DEPT-FINAL") {
		t.Errorf("packs filter: %d", len(only))
	}
	old := c.Applicable(Agency{Jurisdiction: "cn", Level: LevelCity, Kind: KindDepartment}, time.Date(2019, 3, 1, 0, 0, 0, 0, time.UTC))
	if !has(old, "CN-R08-AR") || has(old, "CN-R19-AR-DEPT") {
		t.Error("2019-03-01 should be under the 2008 text")
	}
	us := c.Applicable(Agency{Jurisdiction: "us", Level: LevelNational, Kind: KindDepartment}, at)
	if len(us) != 6 {
		t.Errorf("us: %d obligations", len(us))
	}
}

func TestEmbeddedPacks(t *testing.T) {
	c := mustCatalog(t)
	var ids []string
	for _, p := range c.Packs() {
		ids = append(ids, p.ID)
		if len(p.Hash) != 12 || p.Version == "" || !strings.HasPrefix(p.File, "embedded:packs/") {
			t.Errorf("pack %s: %+v", p.ID, p)
		}
		for _, o := range p.Obligations {
			if o.LegalBasis == "" || o.Title.ZH == "" || o.Title.EN == "" {
				t.Errorf("%s lacks basis or titles", o.ID)
			}
			if o.Pack() != p {
				t.Errorf("%s: wrong pack", o.ID)
			}
		}
	}
	if got := strings.Join(ids, " "); got != "cn-budget cn-ogi-2008 cn-ogi-2019 cn-website-2019 us-foia" {
		t.Errorf("packs %s", got)
	}
	// The eight required columns of cn-website-2019 with their column keys.
	want := map[string]string{
		"机构简介": "org_intro", "领导介绍": "leaders", "政府信息公开制度": "ogi_rules", "政府信息公开指南": "ogi_guide",
		"政府信息公开年报": "annual_report", "预决算公开": "budget_final_accounts", "依申请公开": "ogi_request", "政策解读": "policy_interpretation",
	}
	found := 0
	for _, o := range c.Select("cn", "required-column", d("2026-01-01")) {
		if key, ok := want[o.Locator.Synonyms[0]]; ok && key == o.Locator.Column {
			found++
		}
	}
	if found != 8 {
		t.Errorf("found %d of the 8 required columns", found)
	}
	ar := mustObligation(t, c, "CN-R19-AR-DEPT")
	for year, want := range map[int]string{2019: "cn-annual-report-2019-trial", 2020: "cn-annual-report-2019-trial", 2021: "cn-annual-report-2021", 2025: "cn-annual-report-2021"} {
		p, _ := ar.ParsePeriod(strings.TrimSpace(time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).Format("2006")))
		if got := ar.CompletenessFor(p).Name; got != want {
			t.Errorf("profile for %d: %s, want %s", year, got, want)
		}
	}
	p, _ := ar.ParsePeriod("2025")
	re, err := ar.Locator.TitleRegexp(p)
	if err != nil {
		t.Fatal(err)
	}
	for title, match := range map[string]bool{
		"淮安市财政局2025年政府信息公开工作年度报告": true,
		"2025年度政府信息公开工作年度报告":      true,
		"淮安市财政局2024年政府信息公开工作年度报告": false,
		"关于2025年政府信息公开工作要点的通知":    false,
	} {
		if re.MatchString(title) != match {
			t.Errorf("title pattern on %q: %v", title, !match)
		}
	}
}

// TestDueRulePaths covers rule shapes the embedded packs do not use: a
// fixed date with an extension and roll-forward, a known span after the end
// of a quarter, a calendar-day span that rolls forward, and calendar-day
// tolling.
func TestDueRulePaths(t *testing.T) {
	pack := `id: local-paths
version: "1"
title: {zh: 路径, en: Paths}
jurisdiction: cn
calendar: cn
timezone: Asia/Shanghai
effective: {from: 2016-01-01}
obligations:
  - id: FIXED-EXT
    kind: a
    title: {zh: 甲, en: A}
    legal_basis: x
    applies_to: {levels: [city], kinds: [department]}
    period: {type: yearly}
    deadline:
      fixed: {year_offset: 1, month: 2, day: 10, time: "17:00:00"}
      extension: {days: 5, unit: working}
      roll_forward: true
    completeness: {profile: none}
    severity: info
  - id: QUARTER-END
    kind: b
    title: {zh: 乙, en: B}
    legal_basis: x
    applies_to: {levels: [city], kinds: [department]}
    period: {type: quarterly}
    deadline:
      after_period_end: {days: 15, unit: working}
    reminders: [3]
    escalate_after: 2
    completeness: {profile: none}
    severity: info
  - id: CD-ROLL
    kind: c
    title: {zh: 丙, en: C}
    legal_basis: x
    applies_to: {levels: [city], kinds: [department]}
    period: {type: event}
    deadline:
      after_event: {event: approval, days: 20, unit: calendar}
      roll_forward: true
      tolling: true
    completeness: {profile: none}
    severity: info
  - id: LEAP
    kind: d
    title: {zh: 丁, en: D}
    legal_basis: x
    applies_to: {levels: [city], kinds: [department]}
    period: {type: yearly}
    deadline:
      fixed: {year_offset: 0, month: 2, day: 29}
    completeness: {profile: none}
    severity: info
`
	p, err := ParsePack("paths.yaml", []byte(pack), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(p)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id, period string
		in         DueInput
		want       string
	}{
		// 2026-02-10 is a Tuesday, a working day.
		{"FIXED-EXT", "2025", DueInput{}, "2026-02-10T17:00:00+08:00"},
		// +5 working days from 2026-02-10: 11, 12, 13, 14 (Saturday, 调休), 24.
		{"FIXED-EXT", "2025", DueInput{Extended: true}, "2026-02-24T17:00:00+08:00"},
		// 2024-02-10 is inside the Spring Festival: rolled forward to 02-18 (Sunday, 调休).
		{"FIXED-EXT", "2023", DueInput{}, "2024-02-18T17:00:00+08:00"},
		// Q3 2025 ends 09-30; 15 working days skip 10-01..10-08, count 10-11 (Saturday).
		{"QUARTER-END", "2025-Q3", DueInput{}, "2025-10-28T23:59:59+08:00"},
		// 20 calendar days after 2026-01-25 is 02-14, a working Saturday.
		{"CD-ROLL", "e", DueInput{EventDate: d("2026-01-25")}, "2026-02-14T23:59:59+08:00"},
		// 20 calendar days after 2026-01-26 is 02-15, Spring Festival: rolled to 02-24.
		{"CD-ROLL", "e", DueInput{EventDate: d("2026-01-26")}, "2026-02-24T23:59:59+08:00"},
		// Calendar-day tolling: five days stopped → 2026-02-19, a holiday → 02-24.
		{"CD-ROLL", "e", DueInput{EventDate: d("2026-01-25"), Tolling: []Interval{iv("2026-01-30", "2026-02-03")}}, "2026-02-24T23:59:59+08:00"},
		{"LEAP", "2024", DueInput{}, "2024-02-29T23:59:59+08:00"},
		{"LEAP", "2025", DueInput{}, "2025-02-28T23:59:59+08:00"},
	}
	for _, tt := range tests {
		o := mustObligation(t, c, tt.id)
		per, err := o.ParsePeriod(tt.period)
		if err != nil {
			t.Fatal(err)
		}
		due, err := o.Due(per, tt.in)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.id, tt.period, err)
		}
		if got := due.At.Format(time.RFC3339); got != tt.want {
			t.Errorf("%s %s %+v = %s, want %s\n%s", tt.id, tt.period, tt.in, got, tt.want, due.Explanation)
		}
		if want := naiveDate(o, per, tt.in); due.Date != want {
			t.Errorf("%s: naive walk says %s", tt.id, want)
		}
	}
	q := mustObligation(t, c, "QUARTER-END")
	per, _ := q.ParsePeriod("2025-Q3")
	due, _ := q.Due(per, DueInput{})
	if got := q.EscalateAt(due).Format(time.RFC3339); got != "2025-10-30T23:59:59+08:00" {
		t.Errorf("EscalateAt %s", got)
	}
}
