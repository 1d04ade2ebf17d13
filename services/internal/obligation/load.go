package obligation

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/gongkai/gongkai/services/internal/calendar"
)

// maxPackSize bounds the size of a pack file.
const maxPackSize = 1 << 20

// maxPackErrors is how many problems one pack reports before giving up.
const maxPackErrors = 30

// The YAML schema of a pack, as decoded before validation. Enumerations and
// dates are strings here so that bad values are reported by validation with
// their line numbers.
type rawPack struct {
	ID           string          `yaml:"id"`
	Version      string          `yaml:"version"`
	Title        rawText         `yaml:"title"`
	Jurisdiction string          `yaml:"jurisdiction"`
	Calendar     string          `yaml:"calendar"`
	Timezone     string          `yaml:"timezone"`
	Effective    rawRange        `yaml:"effective"`
	Source       string          `yaml:"source"`
	Obligations  []rawObligation `yaml:"obligations"`
}

type rawText struct {
	ZH string `yaml:"zh"`
	EN string `yaml:"en"`
}

type rawRange struct {
	From  string `yaml:"from"`
	Until string `yaml:"until"`
}

type rawObligation struct {
	ID            string          `yaml:"id"`
	Kind          string          `yaml:"kind"`
	Title         rawText         `yaml:"title"`
	LegalBasis    string          `yaml:"legal_basis"`
	AppliesTo     rawAppliesTo    `yaml:"applies_to"`
	Period        rawPeriod       `yaml:"period"`
	Deadline      rawDeadline     `yaml:"deadline"`
	Reminders     []int           `yaml:"reminders"`
	EscalateAfter int             `yaml:"escalate_after"`
	Locator       rawLocator      `yaml:"locator"`
	Completeness  rawCompleteness `yaml:"completeness"`
	Severity      string          `yaml:"severity"`
	Notes         string          `yaml:"notes"`
}

type rawAppliesTo struct {
	Levels []string `yaml:"levels"`
	Kinds  []string `yaml:"kinds"`
}

type rawPeriod struct {
	Type       string `yaml:"type"`
	StartMonth int    `yaml:"start_month"`
}

type rawDeadline struct {
	Fixed          *rawFixed `yaml:"fixed"`
	AfterEvent     *rawSpan  `yaml:"after_event"`
	AfterPeriodEnd *rawSpan  `yaml:"after_period_end"`
	None           string    `yaml:"none"`
	Unknown        string    `yaml:"unknown"`
	Extension      *rawSpan  `yaml:"extension"`
	RollForward    bool      `yaml:"roll_forward"`
	Tolling        bool      `yaml:"tolling"`
}

type rawLocator struct {
	Column       string   `yaml:"column"`
	Synonyms     []string `yaml:"synonyms"`
	TitlePattern string   `yaml:"title_pattern"`
}

type rawCompleteness struct {
	Profile  string            `yaml:"profile"`
	Params   map[string]string `yaml:"params"`
	Variants []rawVariant      `yaml:"variants"`
}

type rawVariant struct {
	FromYear  int               `yaml:"from_year"`
	UntilYear int               `yaml:"until_year"`
	Profile   string            `yaml:"profile"`
	Params    map[string]string `yaml:"params"`
}

// CalendarSource returns the working-day calendar with the given name.
// calendar.Load is one.
type CalendarSource func(name string) (*calendar.Calendar, error)

// ParsePack parses and validates one pack file. file names the pack in
// errors and in Pack.File; cals resolves the pack's calendar (calendar.Load
// when nil). Every problem is reported as a *PackError with the file and
// line, joined with errors.Join.
func ParsePack(file string, data []byte, cals CalendarSource) (*Pack, error) {
	if cals == nil {
		cals = calendar.Load
	}
	if len(data) > maxPackSize {
		return nil, &PackError{File: file, Msg: fmt.Sprintf("file larger than %d bytes", maxPackSize)}
	}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if err == io.EOF {
			return nil, &PackError{File: file, Msg: "empty file"}
		}
		return nil, packErrors(file, yamlLineErrors(err))
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		line := extra.Line
		if err != nil {
			line = 0
		}
		return nil, &PackError{File: file, Line: line, Msg: "more than one YAML document; a pack file holds one"}
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, &PackError{File: file, Line: lineOf(&root, nil), Msg: "a pack is a mapping with id, version, obligations, …"}
	}
	var raw rawPack
	var lerrs []lineError
	checkKeys(root.Content[0], reflect.TypeFor[rawPack](), &lerrs)
	if len(lerrs) > 0 {
		return nil, packErrors(file, lerrs)
	}
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(&raw); err != nil {
		return nil, packErrors(file, yamlLineErrors(err))
	}
	sum := sha256.Sum256(data)
	v := &validator{file: file, root: &root}
	p := v.pack(&raw, cals)
	if len(v.errs) > 0 {
		slices.SortStableFunc(v.errs, func(a, b error) int { return lineOfErr(a) - lineOfErr(b) })
		return nil, errors.Join(v.errs...)
	}
	p.Hash = hex.EncodeToString(sum[:])[:12]
	return p, nil
}

func lineOfErr(err error) int {
	var pe *PackError
	if errors.As(err, &pe) {
		return pe.Line
	}
	return 0
}

func packErrors(file string, lerrs []lineError) error {
	errs := make([]error, 0, len(lerrs))
	lerrs = slices.CompactFunc(lerrs, func(a, b lineError) bool { return a == b })
	for i, e := range lerrs {
		if i == maxPackErrors {
			errs = append(errs, &PackError{File: file, Msg: fmt.Sprintf("%d more problems not shown", len(lerrs)-i)})
			break
		}
		errs = append(errs, &PackError{File: file, Line: e.line, Msg: e.msg})
	}
	return errors.Join(errs...)
}

// validator converts a raw pack, recording problems with their lines.
type validator struct {
	file string
	root *yaml.Node
	errs []error
}

// yamlPath is a position in the YAML document: mapping keys and sequence
// indexes.
type yamlPath []any

func (p yamlPath) k(elems ...any) yamlPath { return append(slices.Clip(p), elems...) }

func (v *validator) errf(at yamlPath, format string, args ...any) {
	if len(v.errs) == maxPackErrors {
		v.errs = append(v.errs, &PackError{File: v.file, Msg: "too many problems; stopping"})
	}
	if len(v.errs) > maxPackErrors {
		return
	}
	v.errs = append(v.errs, &PackError{File: v.file, Line: lineOf(v.root, at), Msg: fmt.Sprintf(format, args...)})
}

var (
	packIDRE       = regexp.MustCompile(`^[a-z][a-z0-9-]{1,63}$`)
	obligationIDRE = regexp.MustCompile(`^[A-Z][A-Z0-9-]{1,63}$`)
	kindRE         = regexp.MustCompile(`^[a-z][a-z0-9-]{0,63}$`)
	jurisdictionRE = regexp.MustCompile(`^[a-z]{2}(-[a-z0-9]+)*$`)
	columnRE       = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)
	eventRE        = regexp.MustCompile(`^[a-z][a-z0-9-]{0,63}$`)
)

func (v *validator) pack(r *rawPack, cals CalendarSource) *Pack {
	p := &Pack{
		ID: r.ID, Version: r.Version, Title: Text(r.Title), Jurisdiction: r.Jurisdiction,
		CalendarName: r.Calendar, Source: r.Source, File: v.file,
	}
	at := yamlPath{}
	if !packIDRE.MatchString(r.ID) {
		v.errf(at.k("id"), "id %q: want lower-case letters, digits and dashes, such as cn-ogi-2019", r.ID)
	}
	if strings.TrimSpace(r.Version) == "" {
		v.errf(at.k("version"), "version missing")
	}
	v.text(at.k("title"), r.Title)
	if !jurisdictionRE.MatchString(r.Jurisdiction) {
		v.errf(at.k("jurisdiction"), "jurisdiction %q: want a code such as cn or us", r.Jurisdiction)
	}
	if r.Calendar == "" {
		v.errf(at.k("calendar"), "calendar missing (embedded: %s)", strings.Join(calendar.Names(), ", "))
	} else if cal, err := cals(r.Calendar); err != nil {
		v.errf(at.k("calendar"), "calendar %q: %v", r.Calendar, err)
	} else {
		p.cal = cal
	}
	if r.Timezone == "" {
		v.errf(at.k("timezone"), "timezone missing")
	} else if loc, err := time.LoadLocation(r.Timezone); err != nil || r.Timezone == "Local" {
		v.errf(at.k("timezone"), "timezone %q: not an IANA time zone name", r.Timezone)
	} else {
		p.Location = loc
	}
	p.From = v.date(at.k("effective", "from"), r.Effective.From, true)
	p.Until = v.date(at.k("effective", "until"), r.Effective.Until, false)
	if !p.From.IsZero() && !p.Until.IsZero() && p.Until.Before(p.From) {
		v.errf(at.k("effective", "until"), "effective until %s is before from %s", p.Until, p.From)
	}
	if len(r.Obligations) == 0 {
		v.errf(at.k("obligations"), "no obligations")
	}
	seen := map[string]int{}
	for i := range r.Obligations {
		o := v.obligation(at.k("obligations", i), &r.Obligations[i])
		if j, dup := seen[o.ID]; dup && o.ID != "" {
			v.errf(at.k("obligations", i, "id"), "duplicate obligation id %s (also at line %d)", o.ID, lineOf(v.root, at.k("obligations", j, "id")))
		}
		seen[o.ID] = i
		o.pack = p
		p.Obligations = append(p.Obligations, o)
	}
	return p
}

func (v *validator) text(at yamlPath, t rawText) {
	if strings.TrimSpace(t.ZH) == "" {
		v.errf(at.k("zh"), "zh title missing")
	}
	if strings.TrimSpace(t.EN) == "" {
		v.errf(at.k("en"), "en title missing")
	}
}

func (v *validator) date(at yamlPath, s string, required bool) calendar.Date {
	if s == "" {
		if required {
			v.errf(at, "date missing")
		}
		return calendar.Date{}
	}
	d, err := calendar.ParseDate(s)
	if err != nil {
		v.errf(at, "%v", err)
	}
	return d
}

func (v *validator) obligation(at yamlPath, r *rawObligation) *Obligation {
	o := &Obligation{
		ID: r.ID, Kind: r.Kind, Title: Text(r.Title), LegalBasis: r.LegalBasis,
		EscalateAfter: r.EscalateAfter, Severity: Severity(r.Severity), Notes: r.Notes,
		Locator: Locator(r.Locator),
	}
	if !obligationIDRE.MatchString(r.ID) {
		v.errf(at.k("id"), "obligation id %q: want upper-case letters, digits and dashes, such as CN-R19-AR-DEPT", r.ID)
	}
	if !kindRE.MatchString(r.Kind) {
		v.errf(at.k("kind"), "kind %q: want lower-case letters, digits and dashes, such as annual-report", r.Kind)
	}
	v.text(at.k("title"), r.Title)
	if strings.TrimSpace(r.LegalBasis) == "" {
		v.errf(at.k("legal_basis"), "legal_basis missing: cite the provision")
	}
	if len(r.AppliesTo.Levels) == 0 {
		v.errf(at.k("applies_to", "levels"), "applies_to.levels missing")
	}
	for i, l := range r.AppliesTo.Levels {
		if !slices.Contains(Levels(), Level(l)) {
			v.errf(at.k("applies_to", "levels", i), "level %q; want one of national, province, city, county, township", l)
		} else if slices.Contains(o.Scope.Levels, Level(l)) {
			v.errf(at.k("applies_to", "levels", i), "level %q listed twice", l)
		}
		o.Scope.Levels = append(o.Scope.Levels, Level(l))
	}
	if len(r.AppliesTo.Kinds) == 0 {
		v.errf(at.k("applies_to", "kinds"), "applies_to.kinds missing")
	}
	for i, k := range r.AppliesTo.Kinds {
		if !slices.Contains(AgencyKinds(), AgencyKind(k)) {
			v.errf(at.k("applies_to", "kinds", i), "agency kind %q; want government or department", k)
		} else if slices.Contains(o.Scope.Kinds, AgencyKind(k)) {
			v.errf(at.k("applies_to", "kinds", i), "agency kind %q listed twice", k)
		}
		o.Scope.Kinds = append(o.Scope.Kinds, AgencyKind(k))
	}
	o.Period = v.period(at.k("period"), r.Period)
	o.Deadline = v.deadline(at.k("deadline"), &r.Deadline, o.Period.Kind)

	for i, lead := range r.Reminders {
		if lead < 1 || lead > 365 {
			v.errf(at.k("reminders", i), "reminder lead %d out of range 1..365 working days", lead)
		} else if slices.Contains(o.Reminders, lead) {
			v.errf(at.k("reminders", i), "reminder lead %d listed twice", lead)
		}
		o.Reminders = append(o.Reminders, lead)
	}
	slices.SortFunc(o.Reminders, func(a, b int) int { return b - a })
	if len(r.Reminders) > 0 && o.Deadline.Kind == NoDeadline {
		v.errf(at.k("reminders"), "reminders given for an obligation without a deadline")
	}
	if r.EscalateAfter < 0 || r.EscalateAfter > 365 {
		v.errf(at.k("escalate_after"), "escalate_after %d out of range 0..365 working days", r.EscalateAfter)
	}

	if r.Locator.Column != "" && !columnRE.MatchString(r.Locator.Column) {
		v.errf(at.k("locator", "column"), "column key %q: want lower-case letters, digits and underscores, such as annual_report", r.Locator.Column)
	}
	for i, s := range r.Locator.Synonyms {
		if strings.TrimSpace(s) == "" {
			v.errf(at.k("locator", "synonyms", i), "empty synonym")
		}
	}
	if pat := r.Locator.TitlePattern; pat != "" {
		if _, err := regexp.Compile(strings.ReplaceAll(pat, "{year}", "2025")); err != nil {
			v.errf(at.k("locator", "title_pattern"), "title_pattern: %v", err)
		}
	}

	o.Completeness.Profile = v.profile(at.k("completeness", "profile"), r.Completeness.Profile, r.Completeness.Params)
	for i, rv := range r.Completeness.Variants {
		vat := at.k("completeness", "variants", i)
		if rv.FromYear == 0 && rv.UntilYear == 0 {
			v.errf(vat, "variant needs from_year or until_year")
		}
		for _, y := range []struct {
			key string
			val int
		}{{"from_year", rv.FromYear}, {"until_year", rv.UntilYear}} {
			if y.val != 0 && (y.val < calendar.MinYear || y.val > calendar.MaxYear) {
				v.errf(vat.k(y.key), "%s %d out of range", y.key, y.val)
			}
		}
		if rv.FromYear != 0 && rv.UntilYear != 0 && rv.UntilYear < rv.FromYear {
			v.errf(vat.k("until_year"), "until_year %d is before from_year %d", rv.UntilYear, rv.FromYear)
		}
		o.Completeness.Variants = append(o.Completeness.Variants, Variant{
			FromYear: rv.FromYear, UntilYear: rv.UntilYear,
			Profile: v.profile(vat.k("profile"), rv.Profile, rv.Params),
		})
	}

	switch o.Severity {
	case SeverityInfo, SeverityWarning, SeverityCritical:
	default:
		v.errf(at.k("severity"), "severity %q; want info, warning or critical", r.Severity)
	}
	return o
}

func (v *validator) profile(at yamlPath, name string, params map[string]string) Profile {
	if name == "" {
		v.errf(at, "completeness profile missing (one of %s)", strings.Join(Profiles(), ", "))
	} else if !slices.Contains(Profiles(), name) {
		v.errf(at, "unknown completeness profile %q (want one of %s)", name, strings.Join(Profiles(), ", "))
	}
	return Profile{Name: name, Params: params}
}

func (v *validator) period(at yamlPath, r rawPeriod) PeriodSpec {
	s := PeriodSpec{Kind: PeriodKind(r.Type), StartMonth: time.January}
	switch s.Kind {
	case Yearly, Quarterly:
		if r.StartMonth != 0 {
			if r.StartMonth < 1 || r.StartMonth > 12 {
				v.errf(at.k("start_month"), "start_month %d out of range 1..12", r.StartMonth)
			} else {
				s.StartMonth = time.Month(r.StartMonth)
			}
		}
	case EventDriven, Continuous:
		if r.StartMonth != 0 {
			v.errf(at.k("start_month"), "start_month applies only to yearly and quarterly periods")
		}
	default:
		v.errf(at.k("type"), "period type %q; want yearly, quarterly, event or continuous", r.Type)
	}
	return s
}

func (v *validator) deadline(at yamlPath, r *rawDeadline, pk PeriodKind) Deadline {
	d := Deadline{RollForward: r.RollForward, Tolling: r.Tolling, Unknown: strings.TrimSpace(r.Unknown), Reason: r.None}
	unknown := d.Unknown != ""
	n := 0
	if r.Fixed != nil {
		n++
		d.Kind = Fixed
		f, err := convertFixed(r.Fixed, !unknown)
		if err != nil {
			v.errf(at.k("fixed"), "fixed: %v", err)
		}
		if unknown && (r.Fixed.Month != nil || r.Fixed.Day != nil) {
			v.errf(at.k("fixed"), "fixed: an unknown deadline gives no month or day")
		}
		d.Fixed = f
		if pk != Yearly && validPeriodKind(pk) {
			v.errf(at.k("fixed"), "a fixed date needs yearly periods, not %s", pk)
		}
	}
	if r.AfterEvent != nil {
		n++
		d.Kind = AfterEvent
		d.Span, d.Event = v.span(at.k("after_event"), r.AfterEvent, unknown, true)
	}
	if r.AfterPeriodEnd != nil {
		n++
		d.Kind = AfterPeriodEnd
		d.Span, _ = v.span(at.k("after_period_end"), r.AfterPeriodEnd, unknown, false)
		if pk != Yearly && pk != Quarterly && validPeriodKind(pk) {
			v.errf(at.k("after_period_end"), "after_period_end needs yearly or quarterly periods, not %s", pk)
		}
	}
	if r.None != "" {
		n++
		d.Kind = NoDeadline
		if pk != Continuous && validPeriodKind(pk) {
			v.errf(at.k("none"), "only continuous obligations have no deadline")
		}
		if unknown || r.Extension != nil || r.RollForward || r.Tolling {
			v.errf(at.k("none"), "a rule without deadline takes no unknown, extension, roll_forward or tolling")
		}
	}
	switch {
	case n == 0:
		v.errf(at, "deadline needs one of fixed, after_event, after_period_end, none")
		return d
	case n > 1:
		v.errf(at, "deadline has more than one of fixed, after_event, after_period_end, none")
		return d
	}
	if pk == Continuous && d.Kind != NoDeadline {
		v.errf(at, "continuous obligations have no deadline; use none: <reason>")
	}
	if e := r.Extension; e != nil {
		eat := at.k("extension")
		if e.Event != "" || e.Months != 0 {
			v.errf(eat, "extension takes only days and unit")
		}
		if e.Days == nil || *e.Days <= 0 || *e.Days > maxSpanDays {
			v.errf(eat.k("days"), "extension days must be 1..%d", maxSpanDays)
		} else {
			d.Extension.Days = *e.Days
		}
		switch {
		case e.Unit == "" && d.Kind == Fixed:
			v.errf(eat, "extension of a fixed date needs a unit (calendar or working)")
		case e.Unit == "":
			d.Extension.Unit = d.Span.Unit
		case !validUnit(Unit(e.Unit)):
			v.errf(eat.k("unit"), "unit %q; want calendar or working", e.Unit)
		case d.Kind != Fixed && Unit(e.Unit) != d.Span.Unit && validUnit(d.Span.Unit):
			v.errf(eat.k("unit"), "extension unit %s differs from the rule's %s", e.Unit, d.Span.Unit)
		default:
			d.Extension.Unit = Unit(e.Unit)
		}
	}
	if r.Tolling && (d.Kind != AfterEvent || d.Span.Months != 0) {
		v.errf(at.k("tolling"), "tolling applies only to after_event rules counted in days")
	}
	if r.RollForward && d.Kind != Fixed && d.Span.Unit != CalendarDays {
		v.errf(at.k("roll_forward"), "roll_forward applies to fixed dates and calendar-day spans; working-day spans end on working days")
	}
	return d
}

func validPeriodKind(k PeriodKind) bool {
	return k == Yearly || k == Quarterly || k == EventDriven || k == Continuous
}

func validUnit(u Unit) bool { return u == CalendarDays || u == WorkingDays }

func (v *validator) span(at yamlPath, r *rawSpan, unknown, event bool) (Span, string) {
	s := Span{Months: r.Months, Unit: Unit(r.Unit)}
	if event {
		if !eventRE.MatchString(r.Event) {
			v.errf(at.k("event"), "event %q: name the event counted from, such as receipt", r.Event)
		}
	} else if r.Event != "" {
		v.errf(at.k("event"), "event is only for after_event")
	}
	switch s.Unit {
	case CalendarDays, WorkingDays:
	default:
		v.errf(at.k("unit"), "unit %q; want calendar or working", r.Unit)
	}
	if r.Months < 0 || r.Months > 120 {
		v.errf(at.k("months"), "months %d out of range 0..120", r.Months)
	}
	if r.Months != 0 && s.Unit == WorkingDays {
		v.errf(at.k("months"), "months cannot be counted in working days")
	}
	switch {
	case unknown && r.Days != nil:
		v.errf(at.k("days"), "an unknown deadline gives no days")
	case unknown:
	case r.Days == nil && r.Months == 0:
		v.errf(at, "days missing")
	case r.Days != nil && (*r.Days < 0 || *r.Days > maxSpanDays):
		v.errf(at.k("days"), "days %d out of range 0..%d", *r.Days, maxSpanDays)
	case r.Days != nil:
		s.Days = *r.Days
	}
	return s, r.Event
}
