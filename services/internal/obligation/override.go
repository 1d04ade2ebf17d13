package obligation

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gongkai/gongkai/services/internal/calendar"
)

// Override changes the deadline of one obligation for one agency, for
// example where a city requires its departments to publish the annual report
// by January 28 instead of January 31. The agency registry embeds overrides;
// they decode from YAML:
//
//	obligation: CN-R19-AR-DEPT
//	fixed: {year_offset: 1, month: 1, day: 28}
//	periods: ["2021"]          # optional; all periods when omitted
//	basis: 怀化市政务公开办通知 (2022-01) — publish by 01-28
//
// Exactly one of fixed (replaces a fixed date), days (replaces the number of
// days of a span rule) and shift (adds or removes days, e.g.
// {days: -3, unit: calendar}) is given; roll_forward may accompany any of
// them or stand alone. basis, citing the local rule, is required.
type Override struct {
	// Obligation is the id of the obligation overridden.
	Obligation string `json:"obligation" yaml:"obligation"`
	// Periods limits the override to these period keys; empty means all.
	Periods []string `json:"periods,omitempty" yaml:"periods,omitempty"`
	// Fixed replaces the date of a fixed-date rule (or supplies the date
	// of a fixed rule whose date is unknown).
	Fixed *FixedDate `json:"fixed,omitempty" yaml:"fixed,omitempty"`
	// Days replaces the number of days of an after-event or
	// after-period-end rule (or supplies it when unknown).
	Days *int `json:"days,omitempty" yaml:"days,omitempty"`
	// Shift, when not zero, moves the computed deadline by a signed
	// number of days in its unit.
	Shift Span `json:"shift,omitzero" yaml:"shift,omitempty"`
	// RollForward, when set, replaces the rule's roll-forward setting.
	RollForward *bool `json:"roll_forward,omitempty" yaml:"roll_forward,omitempty"`
	// Basis cites the local rule that creates the override.
	Basis string `json:"basis" yaml:"basis"`
	// Line is the line of the YAML mapping the override was decoded from,
	// or 0; Validate's messages mention it.
	Line int `json:"-" yaml:"-"`
}

type rawFixed struct {
	YearOffset *int   `yaml:"year_offset"`
	Month      *int   `yaml:"month"`
	Day        *int   `yaml:"day"`
	Time       string `yaml:"time"`
}

type rawSpan struct {
	Event  string `yaml:"event"`
	Months int    `yaml:"months"`
	Days   *int   `yaml:"days"`
	Unit   string `yaml:"unit"`
}

type rawOverride struct {
	Obligation  string    `yaml:"obligation"`
	Periods     []string  `yaml:"periods"`
	Fixed       *rawFixed `yaml:"fixed"`
	Days        *int      `yaml:"days"`
	Shift       *rawSpan  `yaml:"shift"`
	RollForward *bool     `yaml:"roll_forward"`
	Basis       string    `yaml:"basis"`
}

// UnmarshalYAML decodes an override, rejecting unknown keys and invalid
// values with their line numbers, whatever the options of the caller's
// decoder.
func (o *Override) UnmarshalYAML(n *yaml.Node) error {
	var raw rawOverride
	if errs := decodeNode(n, &raw); len(errs) > 0 {
		return typeError(errs)
	}
	v := Override{Obligation: raw.Obligation, Periods: raw.Periods, Days: raw.Days,
		RollForward: raw.RollForward, Basis: raw.Basis, Line: n.Line}
	var errs []lineError
	if raw.Fixed != nil {
		f, err := convertFixed(raw.Fixed, true)
		if err != nil {
			errs = append(errs, lineError{lineOf(n, []any{"fixed"}), "fixed: " + err.Error()})
		}
		v.Fixed = &f
	}
	if raw.Shift != nil {
		if raw.Shift.Event != "" || raw.Shift.Months != 0 {
			errs = append(errs, lineError{lineOf(n, []any{"shift"}), "shift: only days and unit are allowed"})
		}
		v.Shift.Unit = Unit(raw.Shift.Unit)
		if raw.Shift.Days != nil {
			v.Shift.Days = *raw.Shift.Days
		}
	}
	if len(errs) > 0 {
		return typeError(errs)
	}
	if err := v.Validate(); err != nil {
		return typeError([]lineError{{0, err.Error()}})
	}
	*o = v
	return nil
}

// Validate reports whether the override is well formed. It does not check
// that the obligation exists; Obligation.Due does when applying it.
func (o Override) Validate() error {
	var problems []string
	if o.Obligation == "" {
		problems = append(problems, "obligation id missing")
	}
	set := 0
	if o.Fixed != nil {
		set++
		if err := o.Fixed.validate(); err != nil {
			problems = append(problems, "fixed: "+err.Error())
		}
	}
	if o.Days != nil {
		set++
		if *o.Days < 0 || *o.Days > maxSpanDays {
			problems = append(problems, fmt.Sprintf("days %d out of range 0..%d", *o.Days, maxSpanDays))
		}
	}
	if !o.Shift.IsZero() {
		set++
		if o.Shift.Months != 0 {
			problems = append(problems, "shift: months are not allowed")
		}
		if o.Shift.Unit != CalendarDays && o.Shift.Unit != WorkingDays {
			problems = append(problems, fmt.Sprintf("shift: unit %q; want calendar or working", o.Shift.Unit))
		}
		if o.Shift.Days < -maxSpanDays || o.Shift.Days > maxSpanDays {
			problems = append(problems, fmt.Sprintf("shift: days %d out of range", o.Shift.Days))
		}
	}
	switch {
	case set > 1:
		problems = append(problems, "give only one of fixed, days and shift")
	case set == 0 && o.RollForward == nil:
		problems = append(problems, "nothing to override: give fixed, days, shift or roll_forward")
	}
	for i, p := range o.Periods {
		if p == "" || slices.Contains(o.Periods[:i], p) {
			problems = append(problems, fmt.Sprintf("periods: empty or repeated key %q", p))
		}
	}
	if strings.TrimSpace(o.Basis) == "" {
		problems = append(problems, "basis missing: cite the local rule")
	}
	if len(problems) == 0 {
		return nil
	}
	prefix := "override"
	if o.Obligation != "" {
		prefix += " of " + o.Obligation
	}
	if o.Line > 0 {
		prefix = fmt.Sprintf("line %d: %s", o.Line, prefix)
	}
	return fmt.Errorf("%s: %s", prefix, strings.Join(problems, "; "))
}

// Applies reports whether the override applies to the period with key.
func (o Override) Applies(periodKey string) bool {
	return len(o.Periods) == 0 || slices.Contains(o.Periods, periodKey)
}

// apply returns rule as changed by the override.
func (o Override) apply(rule Deadline) (Deadline, error) {
	switch {
	case o.Fixed != nil:
		if rule.Kind != Fixed {
			return rule, fmt.Errorf("override of %s replaces a fixed date, but the rule is %s", o.Obligation, rule.Kind)
		}
		rule.Fixed, rule.Unknown = *o.Fixed, ""
	case o.Days != nil:
		if rule.Kind != AfterEvent && rule.Kind != AfterPeriodEnd {
			return rule, fmt.Errorf("override of %s replaces a number of days, but the rule is %s", o.Obligation, rule.Kind)
		}
		rule.Span.Days, rule.Unknown = *o.Days, ""
	}
	if o.RollForward != nil {
		rule.RollForward = *o.RollForward
	}
	return rule, nil
}

// Waiver exempts an agency from an obligation for one period or for all,
// for a cited reason, until an expiry date. The agency registry embeds
// waivers; they decode from YAML:
//
//	obligation: CN-R19-AR-DEPT
//	period: "2025"             # or "all"
//	reason: 机构改革，部门于2025-11撤并 (department merged)
//	expires: 2026-12-31
type Waiver struct {
	// Obligation is the id of the obligation waived.
	Obligation string `json:"obligation" yaml:"obligation"`
	// Period is the period key waived, or "all".
	Period string `json:"period" yaml:"period"`
	// Reason says why, citing the decision.
	Reason string `json:"reason" yaml:"reason"`
	// Expires is the last day the waiver is in force.
	Expires calendar.Date `json:"expires" yaml:"expires"`
	// Line is the line of the YAML mapping the waiver was decoded from, or
	// 0; Validate's messages mention it.
	Line int `json:"-" yaml:"-"`
}

type rawWaiver struct {
	Obligation string `yaml:"obligation"`
	Period     string `yaml:"period"`
	Reason     string `yaml:"reason"`
	Expires    string `yaml:"expires"`
}

// AllPeriods is the Waiver.Period that waives every period.
const AllPeriods = "all"

// UnmarshalYAML decodes a waiver, rejecting unknown keys and invalid values
// with their line numbers.
func (w *Waiver) UnmarshalYAML(n *yaml.Node) error {
	var raw rawWaiver
	if errs := decodeNode(n, &raw); len(errs) > 0 {
		return typeError(errs)
	}
	v := Waiver{Obligation: raw.Obligation, Period: raw.Period, Reason: raw.Reason, Line: n.Line}
	if raw.Expires != "" {
		d, err := calendar.ParseDate(raw.Expires)
		if err != nil {
			return typeError([]lineError{{lineOf(n, []any{"expires"}), "expires: " + err.Error()}})
		}
		v.Expires = d
	}
	if err := v.Validate(); err != nil {
		return typeError([]lineError{{0, err.Error()}})
	}
	*w = v
	return nil
}

// Validate reports whether the waiver is well formed.
func (w Waiver) Validate() error {
	var problems []string
	if w.Obligation == "" {
		problems = append(problems, "obligation id missing")
	}
	if w.Period == "" {
		problems = append(problems, `period missing (a period key or "all")`)
	}
	if strings.TrimSpace(w.Reason) == "" {
		problems = append(problems, "reason missing")
	}
	if w.Expires.IsZero() {
		problems = append(problems, "expires missing (the last day the waiver holds)")
	} else if !w.Expires.IsValid() {
		problems = append(problems, fmt.Sprintf("expires %s is not a date", w.Expires))
	}
	if len(problems) == 0 {
		return nil
	}
	prefix := "waiver"
	if w.Obligation != "" {
		prefix += " of " + w.Obligation
	}
	if w.Line > 0 {
		prefix = fmt.Sprintf("line %d: %s", w.Line, prefix)
	}
	return errors.New(prefix + ": " + strings.Join(problems, "; "))
}

// Covers reports whether the waiver exempts the period with key periodKey of
// the obligation with id obligationID on date on (the waiver holds through
// its expiry date).
func (w Waiver) Covers(obligationID, periodKey string, on calendar.Date) bool {
	return w.Obligation == obligationID && (w.Period == AllPeriods || w.Period == periodKey) && !on.After(w.Expires)
}

// maxSpanDays bounds the days of a span (ten years).
const maxSpanDays = 3660

// convertFixed converts a raw fixed date. When complete is true, month, day
// and year_offset are required.
func convertFixed(r *rawFixed, complete bool) (FixedDate, error) {
	f := FixedDate{Time: endOfDay()}
	if complete && (r.YearOffset == nil || r.Month == nil || r.Day == nil) {
		return f, errors.New("year_offset, month and day are required")
	}
	if r.YearOffset != nil {
		f.YearOffset = *r.YearOffset
	}
	if r.Month != nil {
		f.Month = time.Month(*r.Month)
	}
	if r.Day != nil {
		f.Day = *r.Day
	}
	if r.Time != "" {
		c, err := parseClock(r.Time)
		if err != nil {
			return f, err
		}
		f.Time = c
	}
	if complete {
		return f, f.validate()
	}
	return f, nil
}

// validate checks the ranges of a complete fixed date.
func (f FixedDate) validate() error {
	switch {
	case f.YearOffset < 0 || f.YearOffset > 5:
		return fmt.Errorf("year_offset %d out of range 0..5", f.YearOffset)
	case f.Month < time.January || f.Month > time.December:
		return fmt.Errorf("month %d out of range 1..12", int(f.Month))
	case f.Day < 1 || f.Day > calendar.NewDate(2024, f.Month+1, 0).Day:
		return fmt.Errorf("day %d does not exist in %s", f.Day, f.Month)
	case f.Time.Hour < 0 || f.Time.Hour > 23 || f.Time.Minute < 0 || f.Time.Minute > 59 || f.Time.Second < 0 || f.Time.Second > 59:
		return fmt.Errorf("time %s out of range", f.Time)
	}
	return nil
}
