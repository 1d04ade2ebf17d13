package obligation

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gongkai/gongkai/services/internal/calendar"
)

// Errors returned (wrapped) by Obligation.Due.
var (
	// ErrNoDeadline means the obligation is continuous and has no deadline.
	ErrNoDeadline = errors.New("no deadline: continuous obligation")
	// ErrUnknownDeadline means the pack does not know the deadline and no
	// override supplies it.
	ErrUnknownDeadline = errors.New("deadline unknown")
	// ErrEventDate means an event-driven deadline was asked for without the
	// event date.
	ErrEventDate = errors.New("event date required")
)

// Interval is a range of civil dates, From through To inclusive.
type Interval struct {
	// From is the first date of the interval.
	From calendar.Date `json:"from"`
	// To is the last date of the interval.
	To calendar.Date `json:"to"`
}

// DueInput carries what a deadline computation needs beyond the period.
type DueInput struct {
	// EventDate is the date of the event an AfterEvent rule counts from
	// (the receipt of a request, the approval of a budget). The event day
	// itself is not counted.
	EventDate calendar.Date
	// Extended applies the rule's extension (when the agency invoked it).
	Extended bool
	// Tolling lists intervals in which the clock stops, such as the time
	// spent consulting a third party; their days are not counted. Only
	// rules that allow tolling accept them.
	Tolling []Interval
	// Override, when not nil, is the agency's override of this obligation.
	Override *Override
	// Calendar, when not nil, replaces the pack's calendar, for example
	// with a regional overlay for an agency in an autonomous region.
	Calendar *calendar.Calendar
}

// Due is a computed deadline.
type Due struct {
	// Obligation is the obligation's id.
	Obligation string `json:"obligation"`
	// Period is the period key.
	Period string `json:"period"`
	// Date is the civil date of the deadline.
	Date calendar.Date `json:"date"`
	// At is the deadline instant, in the pack's time zone.
	At time.Time `json:"at"`
	// Zone is the name of At's time zone.
	Zone string `json:"zone"`
	// Provisional is true when the date depends on calendar data not yet
	// published (see ProvisionalReason); recompute when it is.
	Provisional bool `json:"provisional"`
	// ProvisionalReason says why the deadline is provisional.
	ProvisionalReason string `json:"provisional_reason,omitempty"`
	// Calendar is the name of the calendar used, such as "cn".
	Calendar string `json:"calendar"`
	// CalendarVersion is the version of the calendar used.
	CalendarVersion string `json:"calendar_version"`
	// PackID is the id of the obligation's pack.
	PackID string `json:"pack"`
	// PackVersion is the pack's version.
	PackVersion string `json:"pack_version"`
	// PackHash is the content hash of the pack file.
	PackHash string `json:"pack_hash"`
	// Explanation says how the deadline was computed, for audit trails.
	Explanation string `json:"explanation"`

	cal *calendar.Calendar
}

// Due computes the deadline of the obligation for period p. The period must
// be of the obligation's kind (see ParsePeriod and PeriodFor). Due does not
// check that the pack is in effect for p; use Catalog.Select to choose the
// governing obligation. It returns an error wrapping ErrNoDeadline for
// continuous obligations, ErrUnknownDeadline when the pack leaves the
// deadline to configuration and no override supplies it, and ErrEventDate
// when an event-driven rule gets no event date.
func (o *Obligation) Due(p Period, in DueInput) (Due, error) {
	if p.Kind != o.Period.Kind {
		return Due{}, fmt.Errorf("%s: period %q is %s; the obligation's periods are %s", o.ID, p.Key(), p.Kind, o.Period.Kind)
	}
	cal := in.Calendar
	if cal == nil {
		cal = o.pack.cal
	}
	rule := o.Deadline
	var shift Span
	ov := in.Override
	if ov != nil {
		if ov.Obligation != o.ID {
			return Due{}, fmt.Errorf("%s: override is for %s", o.ID, ov.Obligation)
		}
		if ov.Applies(p.Key()) {
			if err := ov.Validate(); err != nil {
				return Due{}, fmt.Errorf("%s: %w", o.ID, err)
			}
			var err error
			if rule, err = ov.apply(rule); err != nil {
				return Due{}, err
			}
			shift = ov.Shift
		} else {
			ov = nil
		}
	}
	switch {
	case rule.Kind == NoDeadline:
		return Due{}, fmt.Errorf("%s: %w (%s)", o.ID, ErrNoDeadline, rule.Reason)
	case rule.Unknown != "":
		return Due{}, fmt.Errorf("%s: %w: %s", o.ID, ErrUnknownDeadline, rule.Unknown)
	case len(in.Tolling) > 0 && !rule.Tolling:
		return Due{}, fmt.Errorf("%s: the rule allows no tolling", o.ID)
	}

	c := counter{cal: cal}
	key := p.Key()
	b := make([]byte, 0, 320)
	b = append(b, o.ID...)
	b = append(b, " ("...)
	b = append(b, o.pack.ID...)
	b = append(b, "): "...)
	var date calendar.Date
	switch rule.Kind {
	case Fixed:
		if p.End.IsZero() {
			return Due{}, fmt.Errorf("%s: fixed-date rule needs a yearly period, got %q", o.ID, key)
		}
		date = rule.Fixed.date(p.End)
		b = append(b, "fixed date "...)
		b = rule.Fixed.appendTo(b)
		b = append(b, " for period "...)
		b = append(b, key...)
		b = append(b, " = "...)
		b, _ = date.AppendText(b)
		if in.Extended && !rule.Extension.IsZero() {
			date = c.add(date, rule.Extension, nil)
			b = append(b, ", +"...)
			b = rule.Extension.appendTo(b, false)
			b = append(b, " extension"...)
		}
	case AfterEvent, AfterPeriodEnd:
		anchor := p.End
		if rule.Kind == AfterEvent {
			if in.EventDate.IsZero() {
				return Due{}, fmt.Errorf("%s: %w (%s)", o.ID, ErrEventDate, rule.Event)
			}
			if !in.EventDate.IsValid() {
				return Due{}, fmt.Errorf("%s: event date %s is not a date", o.ID, in.EventDate)
			}
			anchor = in.EventDate
		}
		span := rule.Span
		if in.Extended && !rule.Extension.IsZero() {
			span.Days += rule.Extension.Days
		}
		tolls, err := mergeIntervals(in.Tolling)
		if err != nil {
			return Due{}, fmt.Errorf("%s: %w", o.ID, err)
		}
		date = c.add(anchor, span, tolls)
		b = rule.Span.appendTo(b, false)
		if in.Extended && !rule.Extension.IsZero() {
			b = append(b, " +"...)
			b = rule.Extension.appendTo(b, false)
			b = append(b, " extension"...)
		}
		if rule.Kind == AfterEvent {
			b = append(b, " after "...)
			b = append(b, rule.Event...)
			b = append(b, ' ')
		} else {
			b = append(b, " after the end of period "...)
			b = append(b, key...)
			b = append(b, ", "...)
		}
		b, _ = anchor.AppendText(b)
		b = append(b, " (not counting that day)"...)
		if c.tolled > 0 {
			b = append(b, ", not counting "...)
			b = appendPlural(b, c.tolled, string(span.Unit)+" day")
			b = append(b, " tolled ("...)
			for i, t := range tolls {
				if i > 0 {
					b = append(b, ", "...)
				}
				b, _ = t.From.AppendText(b)
				b = append(b, ".."...)
				b, _ = t.To.AppendText(b)
			}
			b = append(b, ')')
		}
	}
	if ov != nil {
		b = append(b, "; override ("...)
		b = append(b, ov.Basis...)
		b = append(b, ')')
	}
	if !shift.IsZero() {
		date = c.add(date, shift, nil)
		b = append(b, ", shifted "...)
		b = shift.appendTo(b, false)
	}
	info := cal.Day(date)
	switch {
	case rule.RollForward:
		c.note(info.Provisional, info.Reason)
		if !info.Workday {
			date = c.next(date)
			b = append(b, "; a rest day, rolled forward to "...)
			b, _ = date.AppendText(b)
		}
	case !info.Workday:
		b = append(b, "; a rest day ("...)
		b = append(b, date.Weekday().String()...)
		if info.Kind == calendar.Holiday {
			b = append(b, ", holiday"...)
		}
		b = append(b, "), not rolled forward"...)
	}
	clock := endOfDay()
	if rule.Kind == Fixed {
		clock = rule.Fixed.Time
	}
	loc := o.pack.Location
	at := time.Date(date.Year, date.Month, date.Day, clock.Hour, clock.Minute, clock.Second, 0, loc)
	b = append(b, " → "...)
	b, _ = date.AppendText(b)
	b = append(b, ' ')
	b = clock.appendTo(b)
	b = append(b, ' ')
	b = append(b, loc.String()...)
	b = append(b, "; calendar "...)
	b = append(b, cal.Name()...)
	b = append(b, '@')
	b = append(b, cal.Version()...)
	if c.provisional {
		b = append(b, " (provisional)"...)
	}
	return Due{
		Obligation:        o.ID,
		Period:            key,
		Date:              date,
		At:                at,
		Zone:              loc.String(),
		Provisional:       c.provisional,
		ProvisionalReason: c.reason,
		Calendar:          cal.Name(),
		CalendarVersion:   cal.Version(),
		PackID:            o.pack.ID,
		PackVersion:       o.pack.Version,
		PackHash:          o.pack.Hash,
		Explanation:       string(b),
		cal:               cal,
	}, nil
}

// counter adds spans with one calendar and remembers whether any step was
// provisional.
type counter struct {
	cal         *calendar.Calendar
	provisional bool
	reason      string
	tolled      int
}

func (c *counter) note(prov bool, reason string) {
	if prov && !c.provisional {
		c.provisional, c.reason = true, reason
	}
}

func (c *counter) next(d calendar.Date) calendar.Date {
	r := c.cal.NextWorkday(d)
	c.note(r.Provisional, r.Reason)
	return r.Date
}

// add returns the date span after start (start not counted), skipping the
// days of the sorted, disjoint tolling intervals.
func (c *counter) add(start calendar.Date, s Span, tolls []Interval) calendar.Date {
	if s.Months != 0 {
		start = start.AddMonths(s.Months)
	}
	pos, remaining := start, s.Days
	if remaining > 0 {
		for _, iv := range tolls {
			if !iv.To.After(pos) {
				continue
			}
			from := iv.From
			if !from.After(pos) {
				from = pos.AddDays(1)
			}
			// Days available before the interval starts.
			avail := c.between(pos, from.AddDays(-1), s.Unit)
			if avail >= remaining {
				break
			}
			remaining -= avail
			c.tolled += c.between(from.AddDays(-1), iv.To, s.Unit)
			pos = iv.To
		}
	}
	if s.Unit == WorkingDays {
		r := c.cal.AddWorkdays(pos, remaining)
		c.note(r.Provisional, r.Reason)
		return r.Date
	}
	return pos.AddDays(remaining)
}

// between counts the days in (a, b] in unit u.
func (c *counter) between(a, b calendar.Date, u Unit) int {
	if u == WorkingDays {
		n := c.cal.WorkdaysBetween(a, b)
		c.note(n.Provisional, n.Reason)
		return n.Days
	}
	return b.Sub(a)
}

// mergeIntervals validates, sorts and merges tolling intervals.
func mergeIntervals(in []Interval) ([]Interval, error) {
	if len(in) == 0 {
		return nil, nil
	}
	for _, iv := range in {
		if !iv.From.IsValid() || !iv.To.IsValid() {
			return nil, fmt.Errorf("tolling interval %s..%s: not a date", iv.From, iv.To)
		}
		if iv.To.Before(iv.From) {
			return nil, fmt.Errorf("tolling interval %s..%s ends before it starts", iv.From, iv.To)
		}
	}
	if len(in) == 1 {
		return in, nil
	}
	s := slices.Clone(in)
	slices.SortFunc(s, func(a, b Interval) int { return cmp.Or(a.From.Compare(b.From), a.To.Compare(b.To)) })
	out := s[:1]
	for _, iv := range s[1:] {
		last := &out[len(out)-1]
		if !iv.From.After(last.To.AddDays(1)) {
			if iv.To.After(last.To) {
				last.To = iv.To
			}
			continue
		}
		out = append(out, iv)
	}
	return out, nil
}

// ParseInterval parses "2026-02-02..2026-02-04" (or a single date) as an
// Interval.
func ParseInterval(s string) (Interval, error) {
	a, b, ok := strings.Cut(s, "..")
	if !ok {
		b = a
	}
	from, err := calendar.ParseDate(a)
	if err != nil {
		return Interval{}, fmt.Errorf("interval %q: %w", s, err)
	}
	to, err := calendar.ParseDate(b)
	if err != nil {
		return Interval{}, fmt.Errorf("interval %q: %w", s, err)
	}
	if to.Before(from) {
		return Interval{}, fmt.Errorf("interval %q ends before it starts", s)
	}
	return Interval{From: from, To: to}, nil
}

func (d Due) calendar(o *Obligation) *calendar.Calendar {
	if d.cal != nil {
		return d.cal
	}
	return o.pack.cal
}

// ReminderTimes returns when reminders of the deadline d are due: for each
// of the obligation's lead times L, the start (00:00) of the L-th working
// day before d's date, earliest first.
func (o *Obligation) ReminderTimes(d Due) []time.Time {
	cal := d.calendar(o)
	out := make([]time.Time, 0, len(o.Reminders))
	for _, lead := range o.Reminders {
		out = append(out, cal.AddWorkdays(d.Date, -lead).Date.In(d.At.Location()))
	}
	return out
}

// DueSoonAt returns when an instance with deadline d becomes due soon: the
// earliest reminder time, or d.At when the obligation has no reminders.
func (o *Obligation) DueSoonAt(d Due) time.Time {
	if len(o.Reminders) == 0 {
		return d.At
	}
	return d.calendar(o).AddWorkdays(d.Date, -o.Reminders[0]).Date.In(d.At.Location())
}

// EscalateAt returns when a missed deadline d is escalated: the same time
// of day as d.At on the EscalateAfter-th working day after d's date (d.At
// itself when EscalateAfter is 0).
func (o *Obligation) EscalateAt(d Due) time.Time {
	if o.EscalateAfter == 0 {
		return d.At
	}
	day := d.calendar(o).AddWorkdays(d.Date, o.EscalateAfter).Date
	h, m, s := d.At.Clock()
	return time.Date(day.Year, day.Month, day.Day, h, m, s, 0, d.At.Location())
}
