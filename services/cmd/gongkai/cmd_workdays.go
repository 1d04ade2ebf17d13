package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gongkai/gongkai/services/internal/calendar"
)

const workdaysUsage = `Usage:
  gongkai workdays [--calendar cn] --from DATE --add N     the N-th working day after DATE
  gongkai workdays [--calendar cn] --from DATE --next      the first working day after DATE
  gongkai workdays [--calendar cn] --between A B           working days after A up to and including B
  gongkai workdays [--calendar cn] --is-workday DATE       whether DATE is a working day

The start date is never counted: --from 2026-01-30 --add 20 is the 20th working
day after January 30. --between counts the days d with A < d <= B, so that
--between A (A --add N) prints N; a calendar year Y is --between (Y-1)-12-31 Y-12-31.
Results outside the calendar's data are provisional and say so.

Flags:
`

// wdMaxAdd bounds --add so that results stay within representable years.
const wdMaxAdd = 100000

// wdList is a repeatable string flag.
type wdList []string

func (s *wdList) String() string     { return strings.Join(*s, ",") }
func (s *wdList) Set(v string) error { *s = append(*s, v); return nil }

// wdParseInterspersed parses flags that may follow positional arguments, which
// flag.FlagSet alone stops at, and returns the positional arguments.
func wdParseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		if args[0] == "--" {
			return append(pos, args[1:]...), nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// wdLoadCalendar loads an embedded calendar and applies overlay files.
func wdLoadCalendar(name string, overlays []string) (*calendar.Calendar, error) {
	cal, err := calendar.Load(name)
	if err != nil {
		return nil, err
	}
	for _, path := range overlays {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("overlay: %w", err)
		}
		cal, err = cal.WithOverlay(path, f)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return cal, nil
}

// wdOutput is the --json form of every workdays answer.
type wdOutput struct {
	Calendar        string         `json:"calendar"`
	CalendarVersion string         `json:"calendar_version"`
	Coverage        [2]string      `json:"coverage"`
	Settled         string         `json:"settled_through"`
	From            string         `json:"from,omitempty"`
	Add             *int           `json:"add,omitempty"`
	To              string         `json:"to,omitempty"`
	Counting        string         `json:"counting,omitempty"`
	Date            string         `json:"date,omitempty"`
	Days            *int           `json:"days,omitempty"`
	Workday         *bool          `json:"workday,omitempty"`
	Kind            *calendar.Kind `json:"kind,omitempty"`
	Provisional     bool           `json:"provisional"`
	Reason          string         `json:"reason,omitempty"`
}

// cmdWorkdays implements "gongkai workdays".
func cmdWorkdays(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gongkai workdays", flag.ContinueOnError)
	fs.SetOutput(stderr)
	calName := fs.String("calendar", "cn", "working-day calendar: "+strings.Join(calendar.Names(), ", "))
	var overlays wdList
	fs.Var(&overlays, "overlay", "regional overlay `file` (date,kind CSV) applied on top of the calendar; repeatable")
	from := fs.String("from", "", "start `date` (YYYY-MM-DD) for --add and --next; not counted")
	add := fs.Int("add", 0, "print the `N`-th working day after --from (negative: before)")
	fs.Bool("next", false, "print the first working day after --from")
	between := fs.String("between", "", "count working days after `A` up to and including B (--between A B or --between A..B)")
	isWorkday := fs.String("is-workday", "", "print whether `date` is a working day")
	asJSON := fs.Bool("json", false, "print the result as JSON, with the provisional flag and calendar version")
	fs.Usage = func() {
		fmt.Fprint(stderr, workdaysUsage)
		fs.PrintDefaults()
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "gongkai workdays: "+format+"\n", a...)
		return 2
	}

	pos, err := wdParseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	modes := 0
	for _, m := range []string{"add", "next", "between", "is-workday"} {
		if set[m] {
			modes++
		}
	}
	if modes != 1 {
		return fail("give exactly one of --add, --next, --between, --is-workday (see -h)")
	}
	if set["between"] {
		if a, b, ok := strings.Cut(*between, ".."); ok {
			*between = a
			pos = append([]string{b}, pos...)
		}
		if len(pos) != 1 {
			return fail("--between needs two dates: --between A B or --between A..B")
		}
	} else if len(pos) > 0 {
		return fail("unexpected argument %q", pos[0])
	}
	if (set["add"] || set["next"]) != (*from != "") {
		return fail("--from is required with --add and --next, and only with them")
	}
	if *add > wdMaxAdd || *add < -wdMaxAdd {
		return fail("--add %d: out of range ±%d", *add, wdMaxAdd)
	}
	date := func(flagName, s string) (calendar.Date, bool) {
		d, err := calendar.ParseDate(s)
		if err != nil {
			fail("%s: %v", flagName, err)
			return d, false
		}
		return d, true
	}

	cal, err := wdLoadCalendar(*calName, overlays)
	if err != nil {
		return fail("--calendar %s: %v", *calName, err)
	}
	first, last := cal.Coverage()
	out := wdOutput{
		Calendar: cal.Name(), CalendarVersion: cal.Version(),
		Coverage: [2]string{first.String(), last.String()}, Settled: cal.Settled().String(),
	}
	var text string
	switch {
	case set["add"], set["next"]:
		d, ok := date("--from", *from)
		if !ok {
			return 2
		}
		n := *add
		if set["next"] {
			n = 1
		}
		r := cal.AddWorkdays(d, n)
		out.From, out.Add, out.Date = d.String(), &n, r.Date.String()
		out.Provisional, out.Reason = r.Provisional, r.Reason
		text = r.Date.String()
	case set["between"]:
		a, ok := date("--between", *between)
		if !ok {
			return 2
		}
		b, ok := date("--between", pos[0])
		if !ok {
			return 2
		}
		c := cal.WorkdaysBetween(a, b)
		out.From, out.To, out.Days = a.String(), b.String(), &c.Days
		out.Counting = "working days d with from < d <= to (negative when to is before from)"
		out.Provisional, out.Reason = c.Provisional, c.Reason
		text = fmt.Sprint(c.Days)
	case set["is-workday"]:
		d, ok := date("--is-workday", *isWorkday)
		if !ok {
			return 2
		}
		info := cal.Day(d)
		out.Date, out.Workday, out.Kind = d.String(), &info.Workday, &info.Kind
		out.Provisional, out.Reason = info.Provisional, info.Reason
		what := "rest day"
		if info.Workday {
			what = "working day"
		}
		text = fmt.Sprintf("%s %s, %s (%s)", d, d.Weekday(), what, info.Kind)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			return fail("%v", err)
		}
		return 0
	}
	if out.Provisional {
		text += " (provisional: " + out.Reason + ")"
	}
	fmt.Fprintln(stdout, text)
	return 0
}
