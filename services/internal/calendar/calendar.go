// Package calendar provides working-day calendars for counting statutory
// deadlines: which civil dates are working days in a jurisdiction, the date
// n working days after another, and the number of working days between two
// dates.
//
// A calendar is data, not code: a CSV file of announced exceptions to the
// Monday–Friday week (schema "date,kind", kind "holiday" or
// "workday-adjusted"), optionally with regional overlays of the same schema
// applied on top. The embedded calendars are "cn" (mainland China,
// 2016–2026, with the State Council's 调休 make-up working days, in
// Asia/Shanghai), "us" (US federal legal public holidays as observed,
// 2016–2027, in America/New_York) and "us-dc" ("us" plus Inauguration Day,
// which is a holiday only for the Washington DC area).
//
// Every computed value carries the calendar's version, a content hash of the
// data and overlays it was computed from, so a deadline can be recomputed
// when an amended holiday notice changes the data. Dates outside the years
// the data covers are computed with a Monday–Friday fallback and marked
// provisional, with the reason.
//
// Arithmetic is O(1): a calendar precomputes, for every covered day, the
// number of working days before it and the position of every working day,
// and uses closed-form Monday–Friday counting outside the covered years.
//
// Calendars are immutable and safe for concurrent use. The package embeds
// the IANA time zone database (time/tzdata), so Location works on machines
// without system zoneinfo.
package calendar

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // Deadlines are computed in Asia/Shanghai and America/New_York on any host.
)

// Kind classifies a date listed in a calendar file.
type Kind uint8

const (
	// Ordinary is a date not listed in the calendar: a working day from
	// Monday to Friday, a rest day on Saturday and Sunday.
	Ordinary Kind = iota
	// Holiday is an announced day off; a listed weekend day is allowed and
	// changes nothing.
	Holiday
	// WorkdayAdjusted is a Saturday or Sunday announced as a working day
	// (调休上班).
	WorkdayAdjusted
)

// String returns the kind as written in calendar files ("holiday",
// "workday-adjusted"), or "ordinary".
func (k Kind) String() string {
	switch k {
	case Holiday:
		return "holiday"
	case WorkdayAdjusted:
		return "workday-adjusted"
	}
	return "ordinary"
}

// MarshalText returns the kind's String form.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// Calendar is a working-day calendar of one jurisdiction. Create one with
// Load, Parse or WithOverlay; the zero value is not usable.
type Calendar struct {
	name    string
	loc     *time.Location
	digest  [sha256.Size]byte
	version string

	start   int     // day number (days since 1970-01-01) of the first covered day, January 1
	kinds   []Kind  // kind of every covered day
	cum     []int32 // cum[i]: working days among the first i covered days; len(kinds)+1 entries
	nth     []int32 // nth[k]: offset from start of the (k+1)-th working day in the covered span
	settled int     // day number of the last covered day that no pending notice can change
	reason  string  // why a result outside [start, settled] is provisional
}

// Result is the outcome of a working-day computation that yields a date.
type Result struct {
	// Date is the computed civil date.
	Date Date `json:"date"`
	// Provisional is true when the computation touched dates for which
	// the calendar has no settled data, so Date may change once holidays
	// are announced.
	Provisional bool `json:"provisional"`
	// Reason explains why the result is provisional; it is empty otherwise.
	Reason string `json:"reason,omitempty"`
	// Version is the version of the calendar that computed the result.
	Version string `json:"calendar_version"`
}

// Count is the outcome of counting working days between two dates.
type Count struct {
	// Days is the number of working days counted.
	Days int `json:"days"`
	// Provisional is true when the span includes dates without settled
	// calendar data.
	Provisional bool `json:"provisional"`
	// Reason explains why the count is provisional; it is empty otherwise.
	Reason string `json:"reason,omitempty"`
	// Version is the version of the calendar that counted.
	Version string `json:"calendar_version"`
}

// DayInfo describes one date in a calendar.
type DayInfo struct {
	// Date is the date described.
	Date Date `json:"date"`
	// Workday reports whether Date is a working day.
	Workday bool `json:"workday"`
	// Kind is how the calendar lists Date (Ordinary when not listed).
	Kind Kind `json:"kind"`
	// Provisional is true when Date has no settled calendar data.
	Provisional bool `json:"provisional"`
	// Reason explains why the answer is provisional; it is empty otherwise.
	Reason string `json:"reason,omitempty"`
	// Version is the version of the calendar that answered.
	Version string `json:"calendar_version"`
}

// Name returns the calendar's name: the name it was loaded or parsed with,
// followed by "+overlay" for every overlay applied.
func (c *Calendar) Name() string { return c.name }

// Location returns the time zone in which the calendar's civil dates are
// reckoned (Asia/Shanghai for "cn", America/New_York for "us").
func (c *Calendar) Location() *time.Location { return c.loc }

// Version returns the calendar's version: the first 12 hexadecimal digits of
// a SHA-256 hash over the time zone, the base data and every overlay, in
// order. Equal versions mean equal working-day answers.
func (c *Calendar) Version() string { return c.version }

// Coverage returns the first and last dates for which the calendar has data:
// January 1 of the first year and December 31 of the last year listed in the
// base file. Outside this span the calendar assumes a Monday–Friday week.
func (c *Calendar) Coverage() (first, last Date) {
	return fromDays(c.start), fromDays(c.start + len(c.kinds) - 1)
}

// Settled returns the last date whose working-day status cannot be changed by
// a notice still to come. It is the end of coverage, or a few days before it
// for calendars (such as "cn") whose next-year notice may adjust the last
// days of December.
func (c *Calendar) Settled() Date { return fromDays(c.settled) }

// Today returns the civil date of t in the calendar's time zone.
func (c *Calendar) Today(t time.Time) Date { return DateOf(t.In(c.loc)) }

// IsWorkday reports whether d is a working day. Outside the calendar's
// coverage it reports whether d is Monday to Friday; use Day to learn
// whether the answer is provisional.
func (c *Calendar) IsWorkday(d Date) bool {
	x := d.days()
	if i := x - c.start; i >= 0 && i < len(c.kinds) {
		return c.cum[i+1] != c.cum[i]
	}
	return isMonFri(x)
}

// Day describes d: whether it is a working day, how the calendar lists it,
// and whether the answer is provisional.
func (c *Calendar) Day(d Date) DayInfo {
	x := d.days()
	info := DayInfo{Date: d, Workday: c.IsWorkday(d), Version: c.version}
	if i := x - c.start; i >= 0 && i < len(c.kinds) {
		info.Kind = c.kinds[i]
	}
	info.Provisional, info.Reason = c.provisional(x, x)
	return info
}

// AddWorkdays returns the n-th working day after d; d itself is not counted,
// whether or not it is a working day. So AddWorkdays(d, 1) is the next
// working day after d, and AddWorkdays(2026-01-30, 20) is 2026-03-05 in the
// "cn" calendar. A negative n counts backwards: AddWorkdays(d, -1) is the
// last working day before d. AddWorkdays(d, 0) returns d unchanged. The time
// taken does not depend on n.
func (c *Calendar) AddWorkdays(d Date, n int) Result {
	x := d.days()
	var y int
	switch {
	case n > 0:
		y = c.nthWorkday(c.prefix(x+1) + n - 1)
	case n < 0:
		y = c.nthWorkday(c.prefix(x) + n)
	default:
		y = x
	}
	r := Result{Date: fromDays(y), Version: c.version}
	r.Provisional, r.Reason = c.provisional(min(x, y), max(x, y))
	return r
}

// NextWorkday returns the first working day strictly after d; it is
// AddWorkdays(d, 1).
func (c *Calendar) NextWorkday(d Date) Result { return c.AddWorkdays(d, 1) }

// WorkdaysBetween counts the working days after a up to and including b:
// a is not counted, b is. This matches AddWorkdays, so
// WorkdaysBetween(a, AddWorkdays(a, n).Date) == n for every n. When b is
// before a the count is negative: WorkdaysBetween(b, a) == -WorkdaysBetween(a, b).
// The working days of calendar year Y are WorkdaysBetween(Y-1-12-31, Y-12-31).
func (c *Calendar) WorkdaysBetween(a, b Date) Count {
	x, y := a.days(), b.days()
	n := Count{Days: c.prefix(y+1) - c.prefix(x+1), Version: c.version}
	if x != y {
		n.Provisional, n.Reason = c.provisional(min(x, y)+1, max(x, y))
	}
	return n
}

// provisional reports whether any day in [x, y] lacks settled data, and why.
func (c *Calendar) provisional(x, y int) (bool, string) {
	if x >= c.start && y <= c.settled {
		return false, ""
	}
	return true, c.reason
}

// prefix returns P(x), the number of working days in [start, x) for x >= start
// and minus the number of working days in [x, start) for x < start. P is
// non-decreasing and grows by one exactly across each working day.
func (c *Calendar) prefix(x int) int {
	end := c.start + len(c.kinds)
	switch {
	case x <= c.start:
		return monFri(x) - monFri(c.start)
	case x >= end:
		return int(c.cum[len(c.kinds)]) + monFri(x) - monFri(end)
	}
	return int(c.cum[x-c.start])
}

// nthWorkday returns the working day w with prefix(w) == k.
func (c *Calendar) nthWorkday(k int) int {
	total := int(c.cum[len(c.kinds)])
	switch {
	case k < 0:
		return monFriDay(k + monFri(c.start))
	case k >= total:
		return monFriDay(k - total + monFri(c.start+len(c.kinds)))
	}
	return c.start + int(c.nth[k])
}

// mondayRef is the day number of Monday 1970-01-05.
const mondayRef = 4

// monFri returns the number of Monday–Friday days in [mondayRef, x), negated
// for x < mondayRef.
func monFri(x int) int {
	m := x - mondayRef
	return 5*floorDiv(m, 7) + min(floorMod(m, 7), 5)
}

// monFriDay returns the Monday–Friday day w with monFri(w) == k.
func monFriDay(k int) int {
	return mondayRef + 7*floorDiv(k, 5) + floorMod(k, 5)
}

func isMonFri(x int) bool {
	w := weekdayOf(x)
	return w != time.Saturday && w != time.Sunday
}

// build fills the derived tables of c from c.kinds.
func (c *Calendar) build() {
	c.cum = make([]int32, len(c.kinds)+1)
	c.nth = c.nth[:0]
	for i, k := range c.kinds {
		work := k == WorkdayAdjusted || (k == Ordinary && isMonFri(c.start+i))
		c.cum[i+1] = c.cum[i]
		if work {
			c.cum[i+1]++
			c.nth = append(c.nth, int32(i))
		}
	}
	c.version = hex.EncodeToString(c.digest[:])[:12]
	first, last := c.Coverage()
	var b strings.Builder
	fmt.Fprintf(&b, "calendar %s has data for %s..%s", c.name, first, last)
	if c.settled < c.start+len(c.kinds)-1 {
		fmt.Fprintf(&b, " (settled through %s: the next year's notice may still change later days)", fromDays(c.settled))
	}
	b.WriteString("; Monday–Friday assumed outside it")
	c.reason = b.String()
}
