package obligation

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gongkai/gongkai/services/internal/calendar"
)

// PeriodKind says how the instances of an obligation are delimited.
type PeriodKind string

// The period kinds.
const (
	// Yearly periods are calendar years, or fiscal years when the start
	// month is not January.
	Yearly PeriodKind = "yearly"
	// Quarterly periods are quarters of the (fiscal) year.
	Quarterly PeriodKind = "quarterly"
	// EventDriven instances are created by an event, such as a request;
	// the period is identified by the caller's event id.
	EventDriven PeriodKind = "event"
	// Continuous obligations hold at all times and are checked at every
	// audit.
	Continuous PeriodKind = "continuous"
)

// PeriodSpec is the period rule of an obligation.
type PeriodSpec struct {
	// Kind is the period kind.
	Kind PeriodKind `json:"type"`
	// StartMonth is the first month of the (fiscal) year: January for
	// calendar years, October for US federal fiscal years. A fiscal year is
	// labelled with the calendar year in which it ends (FY2025 runs from
	// 2024-10-01 to 2025-09-30).
	StartMonth time.Month `json:"start_month"`
}

// fiscal reports whether years start in a month other than January.
func (s PeriodSpec) fiscal() bool { return s.StartMonth != time.January }

// Period is one instance period of an obligation. Its Key is stable and
// is what the rest of the system stores.
type Period struct {
	// Kind is the period kind.
	Kind PeriodKind `json:"kind"`
	// Year is the calendar year, or the fiscal-year label, of a yearly or
	// quarterly period.
	Year int `json:"year,omitempty"`
	// Quarter is 1 to 4 for quarterly periods (of the fiscal year when
	// Fiscal is set).
	Quarter int `json:"quarter,omitempty"`
	// Fiscal is set for periods of a fiscal year not starting in January.
	Fiscal bool `json:"fiscal,omitempty"`
	// Event is the caller's id of an event-driven or continuous instance.
	Event string `json:"event,omitempty"`
	// Start is the first day of a yearly or quarterly period.
	Start calendar.Date `json:"start,omitzero"`
	// End is the last day of a yearly or quarterly period.
	End calendar.Date `json:"end,omitzero"`
}

// Key returns the period's stable string key: "2025", "2025-Q3", "FY2025",
// "FY2026-Q1", or the event id.
func (p Period) Key() string {
	switch p.Kind {
	case Yearly, Quarterly:
		var b strings.Builder
		if p.Fiscal {
			b.WriteString("FY")
		}
		b.WriteString(strconv.Itoa(p.Year))
		if p.Kind == Quarterly {
			b.WriteString("-Q")
			b.WriteString(strconv.Itoa(p.Quarter))
		}
		return b.String()
	}
	return p.Event
}

// String returns the period's key.
func (p Period) String() string { return p.Key() }

// yearStart returns the first day of the (fiscal) year labelled y.
func (s PeriodSpec) yearStart(y int) calendar.Date {
	if s.fiscal() {
		return calendar.NewDate(y-1, s.StartMonth, 1)
	}
	return calendar.NewDate(y, time.January, 1)
}

func (s PeriodSpec) year(y int) Period {
	start := s.yearStart(y)
	return Period{Kind: Yearly, Year: y, Fiscal: s.fiscal(), Start: start, End: start.AddMonths(12).AddDays(-1)}
}

func (s PeriodSpec) quarter(y, q int) Period {
	start := s.yearStart(y).AddMonths(3 * (q - 1))
	return Period{Kind: Quarterly, Year: y, Quarter: q, Fiscal: s.fiscal(), Start: start, End: start.AddMonths(3).AddDays(-1)}
}

// Parse returns the period with the given key. Yearly keys are "2025" or,
// for fiscal years, "FY2025" ("2025" is accepted too); quarterly keys are
// "2025-Q3" or "FY2026-Q1"; any non-empty key without spaces or control
// characters (up to 128 bytes) identifies an event-driven or continuous
// instance.
func (s PeriodSpec) Parse(key string) (Period, error) {
	switch s.Kind {
	case Yearly, Quarterly:
		rest := key
		if r, ok := strings.CutPrefix(rest, "FY"); ok {
			if !s.fiscal() {
				return Period{}, fmt.Errorf("period %q: calendar-year periods have no FY prefix", key)
			}
			rest = r
		}
		q := 0
		if s.Kind == Quarterly {
			y, qs, ok := strings.Cut(rest, "-Q")
			if !ok || len(qs) != 1 || qs[0] < '1' || qs[0] > '4' {
				return Period{}, fmt.Errorf("period %q: want a quarter such as %s", key, s.example())
			}
			rest, q = y, int(qs[0]-'0')
		}
		y, err := strconv.Atoi(rest)
		if err != nil || len(rest) != 4 || y < calendar.MinYear || y > calendar.MaxYear {
			return Period{}, fmt.Errorf("period %q: want %s", key, s.example())
		}
		if s.Kind == Quarterly {
			return s.quarter(y, q), nil
		}
		return s.year(y), nil
	case EventDriven, Continuous:
		if key == "" || len(key) > 128 || strings.ContainsFunc(key, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return Period{}, fmt.Errorf("period %q: want an event id (1 to 128 bytes, no spaces)", key)
		}
		return Period{Kind: s.Kind, Event: key}, nil
	}
	return Period{}, fmt.Errorf("period %q: period kind %q unknown", key, s.Kind)
}

func (s PeriodSpec) example() string {
	switch {
	case s.Kind == Quarterly && s.fiscal():
		return `"FY2026-Q1"`
	case s.Kind == Quarterly:
		return `"2025-Q3"`
	case s.fiscal():
		return `"FY2025"`
	}
	return `"2025"`
}

// Containing returns the yearly or quarterly period that contains d.
func (s PeriodSpec) Containing(d calendar.Date) (Period, error) {
	if s.Kind != Yearly && s.Kind != Quarterly {
		return Period{}, fmt.Errorf("%s periods are not calendar periods", s.Kind)
	}
	y := d.Year
	if s.fiscal() && d.Month >= s.StartMonth {
		y++
	}
	if s.Kind == Yearly {
		return s.year(y), nil
	}
	m := (int(d.Month) - int(s.StartMonth) + 12) % 12
	return s.quarter(y, m/3+1), nil
}

// LastEnded returns the latest yearly or quarterly period that ended before
// d: on 2026-01-10 the calendar year 2025, on 2025-12-31 the year 2024.
func (s PeriodSpec) LastEnded(d calendar.Date) (Period, error) {
	p, err := s.Containing(d)
	if err != nil {
		return Period{}, err
	}
	if p.Kind == Yearly {
		return s.year(p.Year - 1), nil
	}
	if p.Quarter == 1 {
		return s.quarter(p.Year-1, 4), nil
	}
	return s.quarter(p.Year, p.Quarter-1), nil
}

// ParsePeriod returns the obligation's period with the given key (see
// PeriodSpec.Parse).
func (o *Obligation) ParsePeriod(key string) (Period, error) {
	p, err := o.Period.Parse(key)
	if err != nil {
		return Period{}, fmt.Errorf("%s: %w", o.ID, err)
	}
	return p, nil
}

// PeriodFor returns the period of a yearly or quarterly obligation whose
// deadline is the next to come or the last to pass at t: the most recently
// ended period, reckoned in the pack's time zone. For an annual report at
// any time in 2026 it is the year 2025.
func (o *Obligation) PeriodFor(t time.Time) (Period, error) {
	p, err := o.Period.LastEnded(calendar.DateOf(t.In(o.pack.Location)))
	if err != nil {
		return Period{}, fmt.Errorf("%s: %w", o.ID, err)
	}
	return p, nil
}
