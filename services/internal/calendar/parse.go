package calendar

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// errNoLocation is returned when Parse is given a nil location.
var errNoLocation = errors.New("no time zone location")

// Limits that keep a hostile or mistaken file from exhausting memory.
const (
	// MinYear and MaxYear bound the years a calendar file may list.
	MinYear = 1900
	MaxYear = 2199
	// maxFileSize is the largest calendar or overlay file accepted.
	maxFileSize = 4 << 20
	// maxErrors is how many line errors one parse reports before giving up.
	maxErrors = 20
)

// ParseError reports a problem at one line of a calendar or overlay file.
type ParseError struct {
	// File is the name the data was parsed under.
	File string
	// Line is the 1-based line number; 0 when the problem concerns the
	// whole file.
	Line int
	// Msg describes the problem.
	Msg string
}

// Error returns "file:line: message".
func (e *ParseError) Error() string {
	if e.Line == 0 {
		return e.File + ": " + e.Msg
	}
	return e.File + ":" + strconv.Itoa(e.Line) + ": " + e.Msg
}

// Option configures Parse.
type Option func(*options)

type options struct {
	pendingTail int
}

// WithPendingTail marks the last days of the final covered year as not
// settled: results that touch them are provisional. Use it for calendars
// whose next-year notice may still change late-December dates (China's
// notice for year Y+1 has made December days of Y working days or holidays,
// e.g. 2018-12-29 to 2018-12-31). days must be between 0 and 31.
func WithPendingTail(days int) Option {
	return func(o *options) { o.pendingTail = max(0, min(days, 31)) }
}

// Parse reads a calendar in the "date,kind" CSV schema and returns a
// calendar named name whose dates are reckoned in loc.
//
// The first line is the header "date,kind" (a third column "note", free
// text, is allowed). Each following line gives a date as YYYY-MM-DD and its
// kind: "holiday" (a day off; a listed Saturday or Sunday is allowed) or
// "workday-adjusted" (a Saturday or Sunday that is a working day). Lines
// starting with '#' are comments. A date may be listed once. The calendar
// covers every day from January 1 of the first year listed to December 31 of
// the last; outside that span a Monday–Friday week is assumed and results are
// provisional.
//
// Errors name the file and line (as *ParseError values, joined when there are
// several).
func Parse(name string, loc *time.Location, r io.Reader, opts ...Option) (*Calendar, error) {
	if loc == nil {
		return nil, fmt.Errorf("parse calendar %s: %w", name, errNoLocation)
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	data, err := readLimited(name, r)
	if err != nil {
		return nil, err
	}
	entries, err := parseEntries(name, data)
	if err != nil {
		return nil, err
	}
	if len(entries) == 0 {
		return nil, &ParseError{File: name, Msg: "no dates listed; a base calendar needs at least one"}
	}
	firstYear, lastYear := entries[0].date.Year, entries[0].date.Year
	for _, e := range entries {
		firstYear = min(firstYear, e.date.Year)
		lastYear = max(lastYear, e.date.Year)
	}
	c := &Calendar{name: name, loc: loc}
	c.start = daysFromCivil(firstYear, time.January, 1)
	end := daysFromCivil(lastYear, time.December, 31)
	c.kinds = make([]Kind, end-c.start+1)
	for _, e := range entries {
		c.kinds[e.date.days()-c.start] = e.kind
	}
	c.settled = end - o.pendingTail
	h := sha256.New()
	fmt.Fprintf(h, "gongkai-calendar/1\x00%s\x00%d\x00", loc.String(), o.pendingTail)
	h.Write(data)
	h.Sum(c.digest[:0])
	c.build()
	return c, nil
}

// WithOverlay returns a new calendar: c with the dates of the overlay file
// (same schema as Parse) replacing c's entries for those dates. Regional
// holidays (for example extra days off in an autonomous region) are added
// this way. Overlay dates must lie within c's coverage. The result's name is
// c's name followed by "+" and name, and its version hashes the overlay too;
// c is not modified.
func (c *Calendar) WithOverlay(name string, r io.Reader) (*Calendar, error) {
	data, err := readLimited(name, r)
	if err != nil {
		return nil, err
	}
	entries, err := parseEntries(name, data)
	if err != nil {
		return nil, err
	}
	first, last := c.Coverage()
	var errs []error
	for _, e := range entries {
		if e.date.Before(first) || e.date.After(last) {
			errs = append(errs, &ParseError{File: name, Line: e.line,
				Msg: fmt.Sprintf("date %s is outside the base calendar %s (%s..%s)", e.date, c.name, first, last)})
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	n := &Calendar{
		name:    c.name + "+" + name,
		loc:     c.loc,
		start:   c.start,
		kinds:   slices.Clone(c.kinds),
		settled: c.settled,
	}
	for _, e := range entries {
		n.kinds[e.date.days()-n.start] = e.kind
	}
	h := sha256.New()
	h.Write(c.digest[:])
	h.Write([]byte("\x00overlay\x00"))
	h.Write(data)
	h.Sum(n.digest[:0])
	n.build()
	return n, nil
}

type entry struct {
	date Date
	kind Kind
	line int
}

func readLimited(name string, r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read calendar %s: %w", name, err)
	}
	if len(data) > maxFileSize {
		return nil, &ParseError{File: name, Msg: fmt.Sprintf("file larger than %d bytes", maxFileSize)}
	}
	return data, nil
}

// parseEntries parses and validates the rows of a calendar file.
func parseEntries(name string, data []byte) ([]entry, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	cr := csv.NewReader(bytes.NewReader(data))
	cr.Comment = '#'
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	var errs []error
	fail := func(line int, format string, args ...any) bool {
		errs = append(errs, &ParseError{File: name, Line: line, Msg: fmt.Sprintf(format, args...)})
		return len(errs) >= maxErrors
	}

	header, err := cr.Read()
	if err == io.EOF {
		return nil, &ParseError{File: name, Line: 1, Msg: `empty file; want the header "date,kind"`}
	}
	if err != nil {
		return nil, csvError(name, err)
	}
	headerLine, _ := cr.FieldPos(0)
	header = slices.Clone(header) // ReuseRecord recycles the slice
	cols := len(header)
	if !(cols == 2 || cols == 3) || trim(header[0]) != "date" || trim(header[1]) != "kind" || (cols == 3 && trim(header[2]) != "note") {
		return nil, &ParseError{File: name, Line: headerLine,
			Msg: fmt.Sprintf(`header is %q; want "date,kind" or "date,kind,note"`, strings.Join(header, ","))}
	}

	var entries []entry
	seen := make(map[Date]int)
rows:
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			errs = append(errs, csvError(name, err))
			break
		}
		line, _ := cr.FieldPos(0)
		if len(rec) != cols {
			if fail(line, "%d fields; want %d (%s)", len(rec), cols, strings.Join(header, ",")) {
				break rows
			}
			continue
		}
		d, err := ParseDate(trim(rec[0]))
		if err != nil {
			if fail(line, "%v", err) {
				break rows
			}
			continue
		}
		if d.Year < MinYear || d.Year > MaxYear {
			if fail(line, "date %s outside the supported years %d..%d", d, MinYear, MaxYear) {
				break rows
			}
			continue
		}
		var k Kind
		switch trim(rec[1]) {
		case "holiday":
			k = Holiday
		case "workday-adjusted":
			k = WorkdayAdjusted
		default:
			if fail(line, `unknown kind %q; want "holiday" or "workday-adjusted"`, trim(rec[1])) {
				break rows
			}
			continue
		}
		if prev, ok := seen[d]; ok {
			if fail(line, "duplicate date %s (first listed on line %d)", d, prev) {
				break rows
			}
			continue
		}
		seen[d] = line
		if w := d.Weekday(); k == WorkdayAdjusted && w != time.Saturday && w != time.Sunday {
			if fail(line, "%s is a %s; workday-adjusted is only valid on a Saturday or Sunday", d, w) {
				break rows
			}
			continue
		}
		entries = append(entries, entry{date: d, kind: k, line: line})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return entries, nil
}

func trim(s string) string { return strings.TrimSpace(s) }

func csvError(name string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{File: name, Line: pe.Line, Msg: pe.Err.Error()}
	}
	return fmt.Errorf("read calendar %s: %w", name, err)
}

//go:embed data/*.csv
var embedded embed.FS

// embeddedSpec describes one embedded calendar.
type embeddedSpec struct {
	file     string
	zone     string
	tail     int
	overlays []string
}

// specs lists the embedded calendars. It is a function rather than a
// package-level map so that no package state can be mutated.
func specs(name string) (embeddedSpec, bool) {
	switch name {
	case "cn":
		// The notice for year Y+1 has adjusted late-December days of Y.
		return embeddedSpec{file: "data/calendar-cn.csv", zone: "Asia/Shanghai", tail: 7}, true
	case "us":
		return embeddedSpec{file: "data/calendar-us-federal.csv", zone: "America/New_York"}, true
	case "us-dc":
		return embeddedSpec{file: "data/calendar-us-federal.csv", zone: "America/New_York",
			overlays: []string{"data/overlay-us-dc-area.csv"}}, true
	}
	return embeddedSpec{}, false
}

// Names returns the names of the embedded calendars that Load accepts.
func Names() []string { return []string{"cn", "us", "us-dc"} }

// Load returns an embedded calendar: "cn" (mainland China 2016–2026 in
// Asia/Shanghai; the last seven days of 2026 stay provisional until the 2027
// notice), "us" (US federal holidays 2016–2027 in America/New_York) or
// "us-dc" ("us" with the DC-area Inauguration Day holidays of
// 5 U.S.C. 6103(c)). Each call parses the data afresh; callers should load a
// calendar once and share it.
func Load(name string) (*Calendar, error) {
	spec, ok := specs(name)
	if !ok {
		return nil, fmt.Errorf("load calendar %q: unknown calendar (embedded: %s)", name, strings.Join(Names(), ", "))
	}
	loc, err := time.LoadLocation(spec.zone)
	if err != nil {
		return nil, fmt.Errorf("load calendar %q: %w", name, err)
	}
	data, err := embedded.ReadFile(spec.file)
	if err != nil {
		return nil, fmt.Errorf("load calendar %q: %w", name, err)
	}
	c, err := Parse(name, loc, bytes.NewReader(data), WithPendingTail(spec.tail))
	if err != nil {
		return nil, fmt.Errorf("load calendar %q: %w", name, err)
	}
	for _, ov := range spec.overlays {
		data, err := embedded.ReadFile(ov)
		if err != nil {
			return nil, fmt.Errorf("load calendar %q: %w", name, err)
		}
		c, err = c.WithOverlay(strings.TrimSuffix(strings.TrimPrefix(ov, "data/overlay-"), ".csv"), bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("load calendar %q: %w", name, err)
		}
	}
	if c.name != name {
		c.name = name
		c.build() // the provisional reason names the calendar
	}
	return c, nil
}
