// Package requests reads registers of requests for government information
// (依申请公开) from spreadsheet exports and turns them into the
// events.Requests the checker judges: each case's answer deadline counts
// working days from its receipt under the law in force on that day.
package requests

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/sheet"
)

// Columns returns the columns Parse understands. The header row names them
// (case-insensitive, in any order; the Chinese headers of Aliases are
// accepted too). agency, case and received are required.
func Columns() []string {
	return []string{"agency", "case", "title", "received", "correction_requested", "corrected", "extended", "tolled", "answered",
		"appeal_received", "appeal_extended", "appeal_decided"}
}

// Aliases maps the Chinese headers of typical request-register exports to
// column names.
func Aliases() map[string]string {
	return map[string]string{
		"机构": "agency", "机构编号": "agency", "单位": "agency", "单位编号": "agency",
		"申请编号": "case", "编号": "case", "受理编号": "case",
		"申请内容": "title", "申请事项": "title",
		"收到申请日期": "received", "收到日期": "received", "受理日期": "received",
		"告知补正日期": "correction_requested", "补正告知日期": "correction_requested",
		"收到补正日期": "corrected", "补正日期": "corrected",
		"延期": "extended", "延长答复期限": "extended",
		"不计入期限": "tolled", "征求意见期间": "tolled",
		"答复日期": "answered", "办结日期": "answered",
		// An administrative appeal of the case (FOIA; 行政复议 for a Chinese
		// agency, which is recorded but judged under no obligation).
		"收到申诉日期": "appeal_received", "申诉收到日期": "appeal_received", "收到复议申请日期": "appeal_received", "复议申请收到日期": "appeal_received",
		"申诉延期": "appeal_extended", "延长申诉决定期限": "appeal_extended",
		"申诉决定日期": "appeal_decided", "复议决定日期": "appeal_decided",
	}
}

// Register is a parsed register: the cases of each agency in file order.
type Register struct {
	Agencies []string // in order of first appearance
	Cases    map[string][]events.RequestCase
}

// Len returns the number of cases.
func (r *Register) Len() int {
	n := 0
	for _, cs := range r.Cases {
		n += len(cs)
	}
	return n
}

// Parse reads a register exported as CSV (UTF-8 with or without a
// byte-order mark, or GBK/GB18030). known, when not nil, says whether an
// agency id is in the registry. Dates may be written 2026-01-30,
// 2026/1/30 or 2026年1月30日; tolled periods as FROM..TO (or FROM~TO, FROM至TO),
// several separated by ';'; extended and appeal_extended as yes/no,
// true/false, 1/0 or 是/否.
//
// Errors name the file, the line and the column, and every bad row is
// reported, not only the first:
//
//	requests.csv:4: column received: "2026-13-01" is not a date (2026-01-30, 2026/1/30 or 2026年1月30日)
func Parse(name string, data []byte, known func(agency string) bool) (*Register, error) {
	sh, err := sheet.Open(name, data, sheet.Spec{
		Kind: "register", Columns: Columns(), Aliases: Aliases(), Required: []string{"agency", "case", "received"},
	})
	if err != nil {
		return nil, err
	}
	var errs []error
	reg := &Register{Cases: map[string][]events.RequestCase{}}
	firstLine := map[string]int{} // agency + "\x00" + case → line
	for {
		row, err := sh.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		line, cell := row.Line, row.Cell
		var rowErrs []error
		bad := func(col, format string, args ...any) {
			rowErrs = append(rowErrs, fmt.Errorf("%s:%d: column %s: %s", name, line, col, fmt.Sprintf(format, args...)))
		}
		agency, id := cell("agency"), cell("case")
		switch {
		case agency == "":
			bad("agency", "empty")
		case !events.ValidToken(agency):
			bad("agency", "%q is not an agency id (letters, digits, '-' and '_')", agency)
		case known != nil && !known(agency):
			bad("agency", "%q is not in the registry", agency)
		}
		switch {
		case id == "":
			bad("case", "empty")
		case !events.ValidToken(id):
			bad("case", "%q is not a case number usable as an id (letters, digits, '-' and '_', up to 128)", id)
		}
		c := events.RequestCase{ID: id, Title: cell("title")}
		date := func(col string, required bool) string {
			v := cell(col)
			if v == "" {
				if required {
					bad(col, "empty")
				}
				return ""
			}
			d, err := parseDate(v)
			if err != nil {
				bad(col, "%v", err)
			}
			return d
		}
		c.Received = date("received", true)
		c.CorrectionRequested = date("correction_requested", false)
		c.Corrected = date("corrected", false)
		c.Answered = date("answered", false)
		c.AppealReceived = date("appeal_received", false)
		c.AppealDecided = date("appeal_decided", false)
		flag := func(col string) bool {
			v := cell(col)
			if v == "" {
				return false
			}
			b, err := parseBool(v)
			if err != nil {
				bad(col, "%v", err)
			}
			return b
		}
		c.Extended = flag("extended")
		c.AppealExtended = flag("appeal_extended")
		if v := cell("tolled"); v != "" {
			tolled, err := parseRanges(v)
			if err != nil {
				bad("tolled", "%v", err)
			}
			c.Tolled = tolled
		}
		if len(rowErrs) == 0 {
			// Order of dates and the like: the wire contract's own check,
			// reported against this line.
			if err := c.Validate(); err != nil {
				for _, e := range splitJoined(err) {
					rowErrs = append(rowErrs, fmt.Errorf("%s:%d: %v", name, line, e))
				}
			}
		}
		k := agency + "\x00" + id
		if first, dup := firstLine[k]; dup && agency != "" && id != "" {
			rowErrs = append(rowErrs, fmt.Errorf("%s:%d: case %s of %s already on line %d", name, line, id, agency, first))
		}
		if len(rowErrs) > 0 {
			errs = append(errs, rowErrs...)
			continue
		}
		firstLine[k] = line
		if _, seen := reg.Cases[agency]; !seen {
			reg.Agencies = append(reg.Agencies, agency)
		}
		reg.Cases[agency] = append(reg.Cases[agency], c)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if reg.Len() == 0 {
		return nil, fmt.Errorf("%s: no cases after the header row", name)
	}
	return reg, nil
}

// Events splits the register into events of at most events.MaxRequestCases
// cases, one agency per event.
func (r *Register) Events(source string, at time.Time) []events.Requests {
	var out []events.Requests
	for _, a := range r.Agencies {
		cases := r.Cases[a]
		for len(cases) > 0 {
			n := min(len(cases), events.MaxRequestCases)
			out = append(out, events.Requests{AgencyID: a, Source: source, RecordedAt: at, Cases: cases[:n]})
			cases = cases[n:]
		}
	}
	return out
}

func splitJoined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

var (
	dashDate = regexp.MustCompile(`^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$`)
	cnDate   = regexp.MustCompile(`^(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?$`)
)

// parseDate accepts 2026-01-30, 2026/1/30, 2026.1.30 and 2026年1月30日 and
// returns the date as YYYY-MM-DD.
func parseDate(s string) (string, error) {
	m := dashDate.FindStringSubmatch(s)
	if m == nil {
		m = cnDate.FindStringSubmatch(s)
	}
	if m == nil {
		return "", fmt.Errorf("%q is not a date (2026-01-30, 2026/1/30 or 2026年1月30日)", s)
	}
	y, _ := strconv.Atoi(m[1])
	mo, _ := strconv.Atoi(m[2])
	d, _ := strconv.Atoi(m[3])
	t := time.Date(y, time.Month(mo), d, 0, 0, 0, 0, time.UTC)
	if t.Year() != y || int(t.Month()) != mo || t.Day() != d {
		return "", fmt.Errorf("%q is not a date of the calendar", s)
	}
	return t.Format(events.DateLayout), nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "yes", "y", "true", "1", "是", "已延期":
		return true, nil
	case "no", "n", "false", "0", "否":
		return false, nil
	}
	return false, fmt.Errorf("%q: want yes or no (是/否)", s)
}

var rangeSep = regexp.MustCompile(`\s*(?:\.\.|~|～|至|—)\s*`)

// parseRanges parses "2026-02-10..2026-02-24; 2026-03-02..2026-03-03".
func parseRanges(s string) ([]events.DateRange, error) {
	var out []events.DateRange
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '；' }) {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		ends := rangeSep.Split(part, -1)
		if len(ends) != 2 {
			return nil, fmt.Errorf("%q: want FROM..TO, for example 2026-02-10..2026-02-24", part)
		}
		from, err := parseDate(strings.TrimSpace(ends[0]))
		if err != nil {
			return nil, err
		}
		to, err := parseDate(strings.TrimSpace(ends[1]))
		if err != nil {
			return nil, err
		}
		if to < from {
			return nil, fmt.Errorf("%q ends before it starts", part)
		}
		out = append(out, events.DateRange{From: from, To: to})
	}
	return out, nil
}
