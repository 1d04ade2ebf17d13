// Package obligation holds the rule packs that say what public bodies must
// publish or do, for which period, and by when, and computes those deadlines
// with the working-day calendars of package calendar.
//
// A rule pack is a versioned YAML file (see docs/deadlines.md for the
// schema): an id, a version, a jurisdiction, a calendar, a time zone, the
// dates the underlying legal text is in effect, and a list of obligations.
// Each obligation cites its legal basis and states the agencies it applies
// to (levels and kinds), its period (yearly, quarterly, event-driven or
// continuous, with an optional fiscal-year start), its deadline rule,
// reminder lead times and the escalation delay in working days, hints for
// locating the published item and the completeness profile that decides
// whether it is complete, and a severity.
//
// Packs ship embedded (cn-ogi-2019, cn-ogi-2008, cn-website-2019, cn-budget,
// us-foia); operators add packs, or replace embedded ones by id, from files
// with LoadFiles. Loading rejects unknown keys and bad values with the file
// and line.
//
// Deadline rules are explicit data: a fixed date relative to the period
// (January 31 of the following year, 23:59:59 in the pack's zone), or a
// number of calendar or working days (or calendar months) after an event such
// as the receipt of a request, or after the end of the period. Event-driven
// rules can exclude tolling intervals and add an extension when it is
// invoked; fixed dates roll forward off rest days only when the pack says so.
// Agency-specific overrides (a city that requires publication by January 28)
// and waivers are types of this package that the agency registry embeds.
//
// The legal texts change over time; Catalog.Select picks the obligation that
// governs a period or an event date (for example the 2008 or the 2019 text of
// the Chinese OGI regulations).
//
// Everything here is immutable after loading and safe for concurrent use.
package obligation

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gongkai/gongkai/services/internal/calendar"
)

// Text is a bilingual text.
type Text struct {
	// ZH is the Chinese text.
	ZH string `json:"zh" yaml:"zh"`
	// EN is the English text.
	EN string `json:"en" yaml:"en"`
}

// Level is the administrative level of an agency.
type Level string

// The agency levels. US federal agencies are at LevelNational.
const (
	LevelNational Level = "national"
	LevelProvince Level = "province"
	LevelCity     Level = "city"
	LevelCounty   Level = "county"
	LevelTownship Level = "township"
)

// Levels returns every valid Level, from the top down.
func Levels() []Level {
	return []Level{LevelNational, LevelProvince, LevelCity, LevelCounty, LevelTownship}
}

// AgencyKind says whether an agency is a government (人民政府, its general
// office acting for it) or one of its departments (部门).
type AgencyKind string

// The agency kinds.
const (
	KindGovernment AgencyKind = "government"
	KindDepartment AgencyKind = "department"
)

// AgencyKinds returns every valid AgencyKind.
func AgencyKinds() []AgencyKind { return []AgencyKind{KindGovernment, KindDepartment} }

// Agency is what the catalog needs to know about an agency to decide which
// obligations apply to it. The agency registry embeds it.
type Agency struct {
	// Jurisdiction is the jurisdiction code of the agency, such as "cn".
	Jurisdiction string `json:"jurisdiction" yaml:"jurisdiction"`
	// Level is the agency's administrative level.
	Level Level `json:"level" yaml:"level"`
	// Kind says whether the agency is a government or a department.
	Kind AgencyKind `json:"kind" yaml:"kind"`
	// Packs, when not empty, limits the agency to the packs with these ids;
	// when empty, every pack of the jurisdiction applies.
	Packs []string `json:"packs,omitempty" yaml:"packs,omitempty"`
}

// Severity ranks how serious a missed obligation is.
type Severity string

// The severities, in increasing order.
const (
	SeverityInfo     Severity = "info"
	SeverityWarning  Severity = "warning"
	SeverityCritical Severity = "critical"
)

// Unit is the unit in which a span of days is counted.
type Unit string

// The units.
const (
	// CalendarDays counts every day.
	CalendarDays Unit = "calendar"
	// WorkingDays counts the working days of the calendar in use.
	WorkingDays Unit = "working"
)

// Pack is a loaded rule pack.
type Pack struct {
	// ID identifies the pack, such as "cn-ogi-2019".
	ID string `json:"id"`
	// Version is the version the pack's authors gave it.
	Version string `json:"version"`
	// Hash is the first 12 hexadecimal digits of the SHA-256 of the pack
	// file, so that an edited pack is told apart even if its version was
	// not bumped.
	Hash string `json:"hash"`
	// Title names the pack.
	Title Text `json:"title"`
	// Jurisdiction is the jurisdiction code, such as "cn" or "us".
	Jurisdiction string `json:"jurisdiction"`
	// CalendarName names the working-day calendar the pack counts with.
	CalendarName string `json:"calendar"`
	// Location is the time zone of the pack's deadlines.
	Location *time.Location `json:"-"`
	// From is the first date the pack's legal text is in effect.
	From calendar.Date `json:"effective_from"`
	// Until is the last date it is in effect; zero while still in force.
	Until calendar.Date `json:"effective_until,omitzero"`
	// Source is the legal source of the pack as a whole.
	Source string `json:"source,omitempty"`
	// File is where the pack was loaded from ("embedded:…" for built-in
	// packs).
	File string `json:"file"`
	// Obligations are the pack's obligations in file order.
	Obligations []*Obligation `json:"-"`

	cal *calendar.Calendar
}

// Calendar returns the working-day calendar of the pack.
func (p *Pack) Calendar() *calendar.Calendar { return p.cal }

// InEffect reports whether the pack's legal text is in effect on d.
func (p *Pack) InEffect(d calendar.Date) bool {
	return !d.Before(p.From) && (p.Until.IsZero() || !d.After(p.Until))
}

// Obligation is one checkable duty of a rule pack. Treat it as read-only.
type Obligation struct {
	// ID identifies the obligation across the catalog, such as
	// "CN-R19-AR-DEPT".
	ID string `json:"id"`
	// Kind groups obligations that are the same duty under different legal
	// texts (for example "annual-report" in cn-ogi-2008 and cn-ogi-2019);
	// Catalog.Select chooses among them.
	Kind string `json:"kind"`
	// Title says what must be published or done.
	Title Text `json:"title"`
	// LegalBasis cites the provision that creates the duty.
	LegalBasis string `json:"legal_basis"`
	// Scope says which agencies owe the duty (applies_to in YAML).
	Scope Scope `json:"applies_to"`
	// Period says how instances of the duty are delimited.
	Period PeriodSpec `json:"period"`
	// Deadline is the deadline rule.
	Deadline Deadline `json:"deadline"`
	// Reminders are the lead times, in working days before the due date,
	// at which reminders are due; largest first.
	Reminders []int `json:"reminders,omitempty"`
	// EscalateAfter is the number of working days overdue after which a
	// miss is escalated to supervisors.
	EscalateAfter int `json:"escalate_after"`
	// Locator helps find the published item.
	Locator Locator `json:"locator,omitzero"`
	// Completeness says what "complete" means for the item.
	Completeness Completeness `json:"completeness"`
	// Severity ranks a miss.
	Severity Severity `json:"severity"`
	// Notes holds remarks of the pack's authors, such as confidence in the
	// source.
	Notes string `json:"notes,omitempty"`

	pack *Pack
}

// Pack returns the pack the obligation belongs to.
func (o *Obligation) Pack() *Pack { return o.pack }

// Scope says which agencies owe an obligation.
type Scope struct {
	// Levels are the administrative levels the obligation applies to.
	Levels []Level `json:"levels"`
	// Kinds are the agency kinds it applies to.
	Kinds []AgencyKind `json:"kinds"`
}

// Match reports whether an agency of level l and kind k is covered.
func (a Scope) Match(l Level, k AgencyKind) bool {
	lok, kok := false, false
	for _, x := range a.Levels {
		lok = lok || x == l
	}
	for _, x := range a.Kinds {
		kok = kok || x == k
	}
	return lok && kok
}

// AppliesTo reports whether the obligation applies to agency a: same
// jurisdiction, the pack allowed by a.Packs, and a's level and kind covered.
func (o *Obligation) AppliesTo(a Agency) bool {
	if a.Jurisdiction != o.pack.Jurisdiction {
		return false
	}
	if len(a.Packs) > 0 {
		found := false
		for _, id := range a.Packs {
			found = found || id == o.pack.ID
		}
		if !found {
			return false
		}
	}
	return o.Scope.Match(a.Level, a.Kind)
}

// DeadlineKind says how a deadline is determined.
type DeadlineKind string

// The deadline kinds.
const (
	// Fixed is a date relative to the period, such as January 31 of the
	// following year.
	Fixed DeadlineKind = "fixed"
	// AfterEvent is a span after an event date, such as 20 working days
	// after the receipt of a request.
	AfterEvent DeadlineKind = "after_event"
	// AfterPeriodEnd is a span after the last day of the period.
	AfterPeriodEnd DeadlineKind = "after_period_end"
	// NoDeadline marks a continuous obligation, checked at every audit.
	NoDeadline DeadlineKind = "none"
)

// Deadline is a deadline rule.
type Deadline struct {
	// Kind says which of the fields below apply.
	Kind DeadlineKind `json:"kind"`
	// Fixed is the date of a Fixed rule.
	Fixed FixedDate `json:"fixed,omitzero"`
	// Event names the event an AfterEvent rule counts from, such as
	// "receipt".
	Event string `json:"event,omitempty"`
	// Span is the span of an AfterEvent or AfterPeriodEnd rule.
	Span Span `json:"span,omitzero"`
	// Extension, when not zero, is added when the extension is invoked
	// (DueInput.Extended).
	Extension Span `json:"extension,omitzero"`
	// RollForward moves a deadline that falls on a rest day to the next
	// working day. Off unless the pack says so.
	RollForward bool `json:"roll_forward"`
	// Tolling allows intervals in which the clock stops (DueInput.Tolling).
	Tolling bool `json:"tolling"`
	// Unknown, when not empty, says why the rule's date or span is not
	// known; Due then fails with ErrUnknownDeadline unless an Override
	// supplies it.
	Unknown string `json:"unknown,omitempty"`
	// Reason explains a NoDeadline rule.
	Reason string `json:"reason,omitempty"`
}

// String describes the rule briefly, for listings.
func (d Deadline) String() string {
	var b strings.Builder
	switch d.Kind {
	case Fixed:
		if d.Unknown != "" {
			b.WriteString("fixed date unknown")
		} else {
			b.WriteString(d.Fixed.String())
		}
	case AfterEvent:
		b.WriteString(d.Span.describe(d.Unknown != ""))
		b.WriteString(" after ")
		b.WriteString(d.Event)
	case AfterPeriodEnd:
		b.WriteString(d.Span.describe(d.Unknown != ""))
		b.WriteString(" after the period ends")
	case NoDeadline:
		return "none (continuous)"
	}
	if !d.Extension.IsZero() {
		b.WriteString(" (+")
		b.WriteString(d.Extension.describe(false))
		b.WriteString(" extension)")
	}
	if d.Tolling {
		b.WriteString(", tolling allowed")
	}
	if d.RollForward {
		b.WriteString(", rolls forward off rest days")
	}
	return b.String()
}

// FixedDate is a date relative to a period: day Day of month Month of the
// year YearOffset years after the calendar year in which the period ends,
// at Time in the pack's zone. February 29 becomes February 28 in common
// years.
type FixedDate struct {
	// YearOffset counts years from the year in which the period ends.
	YearOffset int `json:"year_offset"`
	// Month is the month of the deadline.
	Month time.Month `json:"month"`
	// Day is the day of the month.
	Day int `json:"day"`
	// Time is the time of day; 23:59:59 unless the pack says otherwise.
	Time Clock `json:"time"`
}

// String returns a form such as "Y+1-01-31 23:59:59".
func (f FixedDate) String() string { return string(f.appendTo(nil)) }

func (f FixedDate) appendTo(b []byte) []byte {
	b = append(b, 'Y')
	if f.YearOffset >= 0 {
		b = append(b, '+')
	}
	b = strconv.AppendInt(b, int64(f.YearOffset), 10)
	b = append(b, '-')
	b = append2(b, int(f.Month))
	b = append(b, '-')
	b = append2(b, f.Day)
	b = append(b, ' ')
	return f.Time.appendTo(b)
}

// append2 appends n (0..99) as two digits.
func append2(b []byte, n int) []byte {
	if n < 0 || n > 99 {
		return strconv.AppendInt(b, int64(n), 10)
	}
	return append(b, byte('0'+n/10), byte('0'+n%10))
}

// date returns the deadline's civil date for a period ending on end.
func (f FixedDate) date(end calendar.Date) calendar.Date {
	y := end.Year + f.YearOffset
	day := f.Day
	if f.Month == time.February && day == 29 && calendar.NewDate(y, 3, 0).Day == 28 {
		day = 28
	}
	return calendar.NewDate(y, f.Month, day)
}

// Clock is a time of day.
type Clock struct {
	// Hour is the hour, 0 to 23.
	Hour int
	// Minute is the minute, 0 to 59.
	Minute int
	// Second is the second, 0 to 59.
	Second int
}

// endOfDay returns 23:59:59, the default time of deadlines.
func endOfDay() Clock { return Clock{23, 59, 59} }

// String returns the form HH:MM:SS.
func (c Clock) String() string { return string(c.appendTo(nil)) }

func (c Clock) appendTo(b []byte) []byte {
	b = append2(b, c.Hour)
	b = append(b, ':')
	b = append2(b, c.Minute)
	b = append(b, ':')
	return append2(b, c.Second)
}

// MarshalText returns the form HH:MM:SS.
func (c Clock) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// parseClock parses HH:MM:SS.
func parseClock(s string) (Clock, error) {
	t, err := time.Parse("15:04:05", s)
	if err != nil || len(s) != 8 {
		return Clock{}, fmt.Errorf("time %q: want HH:MM:SS", s)
	}
	return Clock{t.Hour(), t.Minute(), t.Second()}, nil
}

// Span is a length of time counted in calendar months and days or in
// working days.
type Span struct {
	// Months is a number of calendar months (CalendarDays only), counted
	// before Days.
	Months int `json:"months,omitempty"`
	// Days is a number of days in Unit.
	Days int `json:"days"`
	// Unit is the unit of Days.
	Unit Unit `json:"unit"`
}

// IsZero reports whether s is empty.
func (s Span) IsZero() bool { return s.Months == 0 && s.Days == 0 }

// String returns a form such as "20 working days" or "6 months".
func (s Span) String() string { return string(s.appendTo(nil, false)) }

func (s Span) describe(unknownDays bool) string { return string(s.appendTo(nil, unknownDays)) }

func (s Span) appendTo(b []byte, unknownDays bool) []byte {
	if s.Months != 0 {
		b = appendPlural(b, s.Months, "month")
	}
	if unknownDays || s.Days != 0 || s.Months == 0 {
		if s.Months != 0 {
			b = append(b, ' ')
		}
		if unknownDays {
			b = append(b, "? "...)
			b = append(b, s.Unit...)
			return append(b, " days"...)
		}
		b = strconv.AppendInt(b, int64(s.Days), 10)
		b = append(b, ' ')
		b = append(b, s.Unit...)
		b = append(b, " day"...)
		if s.Days != 1 && s.Days != -1 {
			b = append(b, 's')
		}
	}
	return b
}

func appendPlural(b []byte, n int, what string) []byte {
	b = strconv.AppendInt(b, int64(n), 10)
	b = append(b, ' ')
	b = append(b, what...)
	if n != 1 && n != -1 {
		b = append(b, 's')
	}
	return b
}

// Locator holds hints for finding the published item on a website.
type Locator struct {
	// Column is a stable key of the website column, such as
	// "annual_report".
	Column string `json:"column,omitempty"`
	// Synonyms are names the column goes by on real sites.
	Synonyms []string `json:"synonyms,omitempty"`
	// TitlePattern is a regular expression matching the item's title, in
	// which "{year}" stands for the period's year.
	TitlePattern string `json:"title_pattern,omitempty"`
}

// TitleRegexp compiles the title pattern for period p, replacing "{year}"
// with p's year. It returns nil and no error when there is no pattern.
func (l Locator) TitleRegexp(p Period) (*regexp.Regexp, error) {
	if l.TitlePattern == "" {
		return nil, nil
	}
	re, err := regexp.Compile(strings.ReplaceAll(l.TitlePattern, "{year}", strconv.Itoa(p.Year)))
	if err != nil {
		return nil, fmt.Errorf("title pattern for %s: %w", p.Key(), err)
	}
	return re, nil
}

// Profile names a completeness check and its parameters; the report checker
// implements the profiles.
type Profile struct {
	// Name is the profile, such as "cn-annual-report-2021" or
	// "column-freshness".
	Name string `json:"profile"`
	// Params are the profile's parameters, such as "class": "news".
	Params map[string]string `json:"params,omitempty"`
}

// Completeness is the completeness profile of an obligation, with variants
// for periods in which another format applied.
type Completeness struct {
	// Profile applies to periods that no variant covers.
	Profile
	// Variants apply instead of Profile to the periods they cover.
	Variants []Variant `json:"variants,omitempty"`
}

// Variant is a completeness profile for a range of period years.
type Variant struct {
	// FromYear is the first period year covered; 0 means no lower bound.
	FromYear int `json:"from_year,omitempty"`
	// UntilYear is the last period year covered; 0 means no upper bound.
	UntilYear int `json:"until_year,omitempty"`
	Profile
}

// CompletenessFor returns the completeness profile that applies to period p.
func (o *Obligation) CompletenessFor(p Period) Profile {
	for _, v := range o.Completeness.Variants {
		if (v.FromYear == 0 || p.Year >= v.FromYear) && (v.UntilYear == 0 || p.Year <= v.UntilYear) {
			return v.Profile
		}
	}
	return o.Completeness.Profile
}

// Profiles returns the names of the completeness profiles a pack may use;
// the report checker implements them.
func Profiles() []string {
	return []string{
		"blank-columns", "cn-annual-report-2008", "cn-annual-report-2019-trial", "cn-annual-report-2021",
		"cn-budget-tables", "cn-catalogue", "cn-final-accounts-tables", "cn-guide",
		"column-freshness", "column-present", "homepage-freshness", "item-dated", "none",
		"request-answered", "us-foia-annual-report", "us-foia-quarterly", "us-reading-room",
	}
}
