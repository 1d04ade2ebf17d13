package calendar

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

func mustLoad(t testing.TB, name string) *Calendar {
	t.Helper()
	c, err := Load(name)
	if err != nil {
		t.Fatalf("Load(%q): %v", name, err)
	}
	return c
}

func d(s string) Date {
	v, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return v
}

// TestWorkingDaysPerYear checks the per-year totals published in
// calendar-cn.md for every year 2016–2026.
func TestWorkingDaysPerYear(t *testing.T) {
	cn := mustLoad(t, "cn")
	tests := []struct {
		year int
		want int
	}{
		{2016, 250}, {2017, 249}, {2018, 250}, {2019, 250}, {2020, 249},
		{2021, 250}, {2022, 249}, {2023, 249}, {2024, 251}, {2025, 248},
		{2026, 248},
	}
	for _, tt := range tests {
		got := cn.WorkdaysBetween(NewDate(tt.year-1, 12, 31), NewDate(tt.year, 12, 31))
		if got.Days != tt.want {
			t.Errorf("%d: %d working days, want %d", tt.year, got.Days, tt.want)
		}
		// The same total by walking the year day by day through IsWorkday.
		walked := 0
		for day := NewDate(tt.year, 1, 1); day.Year == tt.year; day = day.AddDays(1) {
			if cn.IsWorkday(day) {
				walked++
			}
		}
		if walked != tt.want {
			t.Errorf("%d: IsWorkday walk counts %d, want %d", tt.year, walked, tt.want)
		}
		wantProv := tt.year == 2026 // the last week of 2026 awaits the 2027 notice
		if got.Provisional != wantProv {
			t.Errorf("%d: provisional = %v, want %v (%s)", tt.year, got.Provisional, wantProv, got.Reason)
		}
	}
}

// TestWorkedExamples checks the examples of calendar-cn.md (2019 条例 art. 33).
func TestWorkedExamples(t *testing.T) {
	cn := mustLoad(t, "cn")
	tests := []struct {
		from string
		n    int
		want string
	}{
		{"2026-01-30", 20, "2026-03-05"},
		{"2026-01-30", 40, "2026-04-02"},
		{"2025-09-26", 20, "2025-10-30"},
		{"2025-09-26", 40, "2025-11-27"},
		{"2024-02-05", 20, "2024-03-08"},
		{"2024-02-05", 40, "2024-04-08"},
		{"2026-01-30", 0, "2026-01-30"},
		{"2026-02-13", 1, "2026-02-14"},   // Saturday 调休 working day
		{"2026-02-14", 1, "2026-02-24"},   // across the 2026 Spring Festival
		{"2026-02-24", -1, "2026-02-14"},  // backwards across it
		{"2026-03-05", -20, "2026-01-30"}, // inverse of the first example
		{"2018-12-28", 1, "2018-12-29"},   // Saturday worked for the 2019 New Year
		{"2018-12-29", 1, "2019-01-02"},
	}
	for _, tt := range tests {
		got := cn.AddWorkdays(d(tt.from), tt.n)
		if got.Date.String() != tt.want || got.Provisional {
			t.Errorf("AddWorkdays(%s, %d) = %s provisional=%v, want %s", tt.from, tt.n, got.Date, got.Provisional, tt.want)
		}
		if got.Version != cn.Version() {
			t.Errorf("result version %q, want %q", got.Version, cn.Version())
		}
		if tt.n > 0 {
			if c := cn.WorkdaysBetween(d(tt.from), got.Date); c.Days != tt.n {
				t.Errorf("WorkdaysBetween(%s, %s) = %d, want %d", tt.from, got.Date, c.Days, tt.n)
			}
		}
	}
}

// TestSpecialDays covers the in-year amendments (2019 劳动节, 2020 COVID-19
// extension of the Spring Festival) and year boundaries.
func TestSpecialDays(t *testing.T) {
	cn := mustLoad(t, "cn")
	tests := []struct {
		date string
		work bool
		kind Kind
	}{
		{"2019-04-28", true, WorkdayAdjusted}, // Sunday, worked after the 2019-03-22 amendment
		{"2019-05-02", false, Holiday},
		{"2019-05-03", false, Holiday},
		{"2019-05-04", false, Holiday}, // Saturday inside the announced range
		{"2019-05-05", true, WorkdayAdjusted},
		{"2020-01-31", false, Holiday}, // Friday, added by the 2020-01-27 extension
		{"2020-02-01", false, Holiday}, // Saturday whose 调休 was cancelled
		{"2020-02-02", false, Holiday},
		{"2020-02-03", true, Ordinary}, // Monday back at work (source A's redundant entry dropped)
		{"2018-12-29", true, WorkdayAdjusted},
		{"2018-12-30", false, Holiday},
		{"2018-12-31", false, Holiday},
		{"2019-01-01", false, Holiday},
		{"2019-01-02", true, Ordinary},
		{"2022-12-31", false, Holiday}, // Saturday listed for the 2023 New Year
		{"2026-01-03", false, Holiday}, // Saturday inside 元旦
		{"2026-01-04", true, WorkdayAdjusted},
		{"2026-02-23", false, Holiday}, // Monday, the 9th day of the 2026 Spring Festival
		{"2026-07-01", true, Ordinary},
		{"2026-07-04", false, Ordinary},
	}
	for _, tt := range tests {
		info := cn.Day(d(tt.date))
		if info.Workday != tt.work || info.Kind != tt.kind || info.Provisional {
			t.Errorf("Day(%s) = workday %v kind %s provisional %v, want %v %s false", tt.date, info.Workday, info.Kind, info.Provisional, tt.work, tt.kind)
		}
	}
}

// TestProvisional covers computations beyond the published data.
func TestProvisional(t *testing.T) {
	cn := mustLoad(t, "cn")
	tests := []struct {
		name     string
		from     string
		n        int
		want     string
		wantProv bool
	}{
		{"settled", "2026-11-02", 20, "2026-11-30", false},
		// A December 2026 request: the answer is due in 2027, for which no
		// notice exists yet; 2027-01-01 (Friday) is counted as a working day.
		{"into 2027", "2026-12-15", 20, "2027-01-12", true},
		{"into 2027 extended", "2026-12-15", 40, "2027-02-09", true},
		// Ends inside the last week of 2026, which the 2027 notice may change.
		{"pending tail", "2026-12-01", 20, "2026-12-29", true},
		{"before data", "2015-12-01", 20, "2015-12-29", true},
		{"crossing into data", "2015-12-25", 5, "2016-01-04", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cn.AddWorkdays(d(tt.from), tt.n)
			if got.Date.String() != tt.want || got.Provisional != tt.wantProv {
				t.Fatalf("AddWorkdays(%s, %d) = %s provisional=%v, want %s provisional=%v", tt.from, tt.n, got.Date, got.Provisional, tt.want, tt.wantProv)
			}
			if got.Provisional && !strings.Contains(got.Reason, "Monday–Friday assumed") {
				t.Errorf("reason %q does not say what was assumed", got.Reason)
			}
			if !got.Provisional && got.Reason != "" {
				t.Errorf("settled result has reason %q", got.Reason)
			}
		})
	}
	if first, last := cn.Coverage(); first != d("2016-01-01") || last != d("2026-12-31") {
		t.Errorf("Coverage() = %s..%s", first, last)
	}
	if s := cn.Settled(); s != d("2026-12-24") {
		t.Errorf("Settled() = %s, want 2026-12-24", s)
	}
	if info := cn.Day(d("2027-01-01")); !info.Workday || !info.Provisional {
		t.Errorf("Day(2027-01-01) = %+v, want provisional working day (Friday)", info)
	}
}

// usHolidays generates the observed US legal public holidays of year y from
// the rules of 5 U.S.C. 6103 and EO 11582, independently of the CSV.
func usHolidays(y int) []Date {
	nth := func(m time.Month, wd time.Weekday, n int) Date {
		first := NewDate(y, m, 1)
		off := (int(wd) - int(first.Weekday()) + 7) % 7
		return first.AddDays(off + 7*(n-1))
	}
	last := func(m time.Month, wd time.Weekday) Date {
		end := NewDate(y, m+1, 0)
		off := (int(end.Weekday()) - int(wd) + 7) % 7
		return end.AddDays(-off)
	}
	observe := func(x Date) Date {
		switch x.Weekday() {
		case time.Saturday:
			return x.AddDays(-1)
		case time.Sunday:
			return x.AddDays(1)
		}
		return x
	}
	h := []Date{
		observe(NewDate(y, 1, 1)),
		nth(time.January, time.Monday, 3),
		nth(time.February, time.Monday, 3),
		last(time.May, time.Monday),
		observe(NewDate(y, 7, 4)),
		nth(time.September, time.Monday, 1),
		nth(time.October, time.Monday, 2),
		observe(NewDate(y, 11, 11)),
		nth(time.November, time.Thursday, 4),
		observe(NewDate(y, 12, 25)),
	}
	if y >= 2021 {
		h = append(h, observe(NewDate(y, 6, 19)))
	}
	return h
}

// TestUSRules checks the embedded US data against the statutory rules for
// every day of its coverage, and the weekend-shift examples.
func TestUSRules(t *testing.T) {
	us := mustLoad(t, "us")
	want := map[Date]bool{}
	for y := 2015; y <= 2028; y++ {
		for _, h := range usHolidays(y) {
			want[h] = true
		}
	}
	first, last := us.Coverage()
	if first != d("2016-01-01") || last != d("2027-12-31") {
		t.Fatalf("us coverage %s..%s", first, last)
	}
	for day := first; !day.After(last); day = day.AddDays(1) {
		info := us.Day(day)
		if got := info.Kind == Holiday; got != want[day] {
			t.Errorf("%s (%s): holiday=%v, rule says %v", day, day.Weekday(), got, want[day])
		}
		if info.Provisional {
			t.Errorf("%s: provisional inside coverage", day)
		}
	}
	tests := []struct {
		date string
		work bool
	}{
		{"2021-12-31", false}, // New Year's Day 2022 (Saturday) observed on Friday
		{"2022-01-03", true},
		{"2021-06-18", false}, // first Juneteenth, Saturday → Friday
		{"2022-06-20", false}, // Juneteenth on Sunday → Monday
		{"2022-06-17", true},
		{"2020-06-19", true}, // before Juneteenth was a legal holiday
		{"2017-01-20", true}, // Inauguration Day: DC area only
		{"2027-12-31", false},
	}
	for _, tt := range tests {
		if got := us.IsWorkday(d(tt.date)); got != tt.work {
			t.Errorf("us IsWorkday(%s) = %v, want %v", tt.date, got, tt.work)
		}
	}
	if us.Location().String() != "America/New_York" {
		t.Errorf("us location %s", us.Location())
	}
}

func TestUSDCOverlay(t *testing.T) {
	us := mustLoad(t, "us")
	dc := mustLoad(t, "us-dc")
	for _, s := range []string{"2017-01-20", "2021-01-20", "2025-01-20"} {
		if dc.IsWorkday(d(s)) {
			t.Errorf("us-dc: %s should be a holiday", s)
		}
	}
	if !us.IsWorkday(d("2021-01-20")) {
		t.Error("us: 2021-01-20 should be a working day outside the DC area")
	}
	if dc.Version() == us.Version() {
		t.Error("overlay did not change the version")
	}
	// FOIA request received 2021-01-15 (Friday): 20 working days.
	if got := us.AddWorkdays(d("2021-01-15"), 20).Date; got != d("2021-02-16") {
		t.Errorf("us: %s", got)
	}
	if got := dc.AddWorkdays(d("2021-01-15"), 20).Date; got != d("2021-02-17") {
		t.Errorf("us-dc: %s", got)
	}
}

func TestOverlay(t *testing.T) {
	cn := mustLoad(t, "cn")
	// 新疆: an extra regional day off (肉孜节 2025-03-31, Monday) and a
	// weekday national holiday worked regionally is not expressible, so only
	// add days off here.
	ov := "date,kind,note\n2025-03-31,holiday,肉孜节\n2025-04-01,holiday,肉孜节\n"
	xj, err := cn.WithOverlay("xinjiang", strings.NewReader(ov))
	if err != nil {
		t.Fatal(err)
	}
	if xj.Name() != "cn+xinjiang" {
		t.Errorf("name %q", xj.Name())
	}
	if xj.IsWorkday(d("2025-03-31")) || !cn.IsWorkday(d("2025-03-31")) {
		t.Error("overlay not applied, or applied to the base")
	}
	if a, b := cn.WorkdaysBetween(d("2024-12-31"), d("2025-12-31")).Days, xj.WorkdaysBetween(d("2024-12-31"), d("2025-12-31")).Days; a != 248 || b != 246 {
		t.Errorf("2025 working days: base %d, overlay %d", a, b)
	}
	if xj.Version() == cn.Version() || len(xj.Version()) != 12 {
		t.Errorf("overlay version %q (base %q)", xj.Version(), cn.Version())
	}
	again, _ := cn.WithOverlay("other-name", strings.NewReader(ov))
	if again.Version() != xj.Version() {
		t.Error("version depends on the overlay's name, not only its content")
	}
	// An overlay can make a base working Saturday a rest day.
	rest, err := cn.WithOverlay("r", strings.NewReader("date,kind\n2026-02-14,holiday\n"))
	if err != nil {
		t.Fatal(err)
	}
	if rest.IsWorkday(d("2026-02-14")) {
		t.Error("overlay holiday on an adjusted Saturday not applied")
	}
}

func TestVersion(t *testing.T) {
	a, b := mustLoad(t, "cn"), mustLoad(t, "cn")
	if a.Version() != b.Version() || len(a.Version()) != 12 {
		t.Fatalf("versions %q %q", a.Version(), b.Version())
	}
	data, err := os.ReadFile("data/calendar-cn.csv")
	if err != nil {
		t.Fatal(err)
	}
	changed, err := Parse("cn", a.Location(), bytes.NewReader(append(data, "2026-12-31,holiday\n"...)), WithPendingTail(7))
	if err != nil {
		t.Fatal(err)
	}
	if changed.Version() == a.Version() {
		t.Error("changed data kept the version")
	}
	same, err := Parse("cn", a.Location(), bytes.NewReader(data), WithPendingTail(7))
	if err != nil {
		t.Fatal(err)
	}
	if same.Version() != a.Version() {
		t.Error("same data and options gave another version")
	}
	if a.Location().String() != "Asia/Shanghai" {
		t.Errorf("location %s", a.Location())
	}
}

// naive is the day-by-day reference implementation used as a test oracle:
// it reads the CSV with its own code and walks one day at a time.
type naive struct {
	kinds      map[Date]string
	first, end Date
}

func loadNaive(t testing.TB, path string) naive {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	n := naive{kinds: map[Date]string{}}
	sc := bufio.NewScanner(f)
	sc.Scan()
	for sc.Scan() {
		parts := strings.Split(sc.Text(), ",")
		day := d(parts[0])
		n.kinds[day] = parts[1]
		if n.first.IsZero() || day.Before(n.first) {
			n.first = day
		}
		if day.After(n.end) {
			n.end = day
		}
	}
	return n
}

func (n naive) work(x Date) bool {
	switch n.kinds[x] {
	case "holiday":
		return false
	case "workday-adjusted":
		return true
	}
	w := x.Weekday()
	return w != time.Saturday && w != time.Sunday
}

func (n naive) add(x Date, k int) Date {
	for ; k > 0; k-- {
		x = x.AddDays(1)
		for !n.work(x) {
			x = x.AddDays(1)
		}
	}
	for ; k < 0; k++ {
		x = x.AddDays(-1)
		for !n.work(x) {
			x = x.AddDays(-1)
		}
	}
	return x
}

func (n naive) between(a, b Date) int {
	sign := 1
	if b.Before(a) {
		a, b, sign = b, a, -1
	}
	c := 0
	for x := a.AddDays(1); !x.After(b); x = x.AddDays(1) {
		if n.work(x) {
			c++
		}
	}
	return sign * c
}

// TestAgainstNaive compares the O(1) arithmetic with the day-by-day walk on
// random dates inside, before and after the covered years, with positive and
// negative counts.
func TestAgainstNaive(t *testing.T) {
	for _, tc := range []struct{ cal, file string }{
		{"cn", "data/calendar-cn.csv"},
		{"us", "data/calendar-us-federal.csv"},
	} {
		c := mustLoad(t, tc.cal)
		ref := loadNaive(t, tc.file)
		rng := rand.New(rand.NewPCG(1, 2))
		lo, hi := NewDate(2010, 1, 1), NewDate(2032, 12, 31)
		span := hi.Sub(lo)
		iters := 10000
		if testing.Short() {
			iters = 2000
		}
		for i := 0; i < iters; i++ {
			x := lo.AddDays(rng.IntN(span))
			n := rng.IntN(601) - 300
			if got, want := c.AddWorkdays(x, n).Date, ref.add(x, n); got != want {
				t.Fatalf("%s AddWorkdays(%s, %d) = %s, want %s", tc.cal, x, n, got, want)
			}
			y := x.AddDays(rng.IntN(2001) - 1000)
			if i%100 == 0 {
				y = lo.AddDays(rng.IntN(span)) // occasionally a span of many years
			}
			if got, want := c.WorkdaysBetween(x, y).Days, ref.between(x, y); got != want {
				t.Fatalf("%s WorkdaysBetween(%s, %s) = %d, want %d", tc.cal, x, y, got, want)
			}
			if got, want := c.IsWorkday(x), ref.work(x); got != want {
				t.Fatalf("%s IsWorkday(%s) = %v, want %v", tc.cal, x, got, want)
			}
			if got := c.NextWorkday(x).Date; got != ref.add(x, 1) {
				t.Fatalf("%s NextWorkday(%s) = %s", tc.cal, x, got)
			}
			if r := c.AddWorkdays(x, n); n > 0 && c.WorkdaysBetween(x, r.Date).Days != n {
				t.Fatalf("%s round trip %s %d", tc.cal, x, n)
			}
		}
	}
}

func TestLoadUnknown(t *testing.T) {
	_, err := Load("mars")
	if err == nil || err.Error() != `load calendar "mars": unknown calendar (embedded: cn, us, us-dc)` {
		t.Fatalf("Load(mars) error = %v", err)
	}
	if _, err := Parse("x", nil, strings.NewReader("date,kind\n2020-01-01,holiday\n")); err == nil {
		t.Fatal("Parse with nil location succeeded")
	}
}

func TestToday(t *testing.T) {
	cn := mustLoad(t, "cn")
	// 2026-01-30 17:00 UTC is already 2026-01-31 in Beijing.
	if got := cn.Today(time.Date(2026, 1, 30, 17, 0, 0, 0, time.UTC)); got != d("2026-01-31") {
		t.Errorf("Today = %s", got)
	}
}
