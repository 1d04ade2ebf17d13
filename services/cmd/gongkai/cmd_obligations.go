package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gongkai/gongkai/services/internal/calendar"
	"github.com/gongkai/gongkai/services/internal/obligation"
)

const obligationsUsage = `Usage:
  gongkai obligations list [--pack ID] [--jurisdiction J] [--pack-file FILE]... [--json]
  gongkai obligations due  --obligation ID --period KEY [flags]
  gongkai obligations due  --kind KIND --period KEY [--jurisdiction cn] --agency-level L --agency-kind K [flags]
  gongkai obligations check FILE...

"due" prints the deadline of one obligation for one period (RFC 3339 in the
pack's time zone), whether it is provisional, and how it was computed. With
--kind instead of --obligation it picks the obligation whose legal text
governs the period or event date (e.g. the 2008 or the 2019 OGI regulations)
and applies to the agency. Period keys: "2025", "FY2025", "FY2026-Q1", or any
id for event-driven obligations, which need --event-date.

"check" validates pack files and prints each problem with its file and line.
`

// cmdObligations implements "gongkai obligations".
func cmdObligations(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, obligationsUsage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	switch args[0] {
	case "list":
		return obList(args[1:], stdout, stderr)
	case "due":
		return obDue(args[1:], stdout, stderr)
	case "check":
		return obCheck(args[1:], stdout, stderr)
	}
	fmt.Fprintf(stderr, "gongkai obligations: unknown subcommand %q (want list, due or check)\n", args[0])
	return 2
}

func obFlags(name string, stderr io.Writer) (*flag.FlagSet, *wdList, *bool) {
	fs := flag.NewFlagSet("gongkai obligations "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	files := &wdList{}
	fs.Var(files, "pack-file", "load the pack `file` too (replaces the embedded pack with the same id); repeatable")
	asJSON := fs.Bool("json", false, "print JSON")
	fs.Usage = func() {
		fmt.Fprint(stderr, obligationsUsage, "\nFlags of ", name, ":\n")
		fs.PrintDefaults()
	}
	return fs, files, asJSON
}

func obLoadCatalog(files []string) (*obligation.Catalog, error) {
	if len(files) == 0 {
		return obligation.LoadEmbedded()
	}
	return obligation.LoadFiles(files...)
}

// obListed is the --json form of one line of "obligations list".
type obListed struct {
	Pack        string `json:"pack"`
	PackVersion string `json:"pack_version"`
	*obligation.Obligation
	DeadlineText string `json:"deadline_text"`
}

func obList(args []string, stdout, stderr io.Writer) int {
	fs, files, asJSON := obFlags("list", stderr)
	packID := fs.String("pack", "", "list only the pack with this `id`")
	jur := fs.String("jurisdiction", "", "list only packs of this `jurisdiction` (cn, us)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gongkai obligations list: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	cat, err := obLoadCatalog(*files)
	if err != nil {
		fmt.Fprintf(stderr, "gongkai obligations list: %v\n", err)
		return 2
	}
	var packs []*obligation.Pack
	for _, p := range cat.Packs() {
		if (*packID == "" || p.ID == *packID) && (*jur == "" || p.Jurisdiction == *jur) {
			packs = append(packs, p)
		}
	}
	if *packID != "" && len(packs) == 0 {
		fmt.Fprintf(stderr, "gongkai obligations list: --pack %s: no such pack (have %s)\n", *packID, obPackIDs(cat))
		return 2
	}
	if *asJSON {
		out := []obListed{}
		for _, p := range packs {
			for _, o := range p.Obligations {
				out = append(out, obListed{Pack: p.ID, PackVersion: p.Version, Obligation: o, DeadlineText: o.Deadline.String()})
			}
		}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(stderr, "gongkai obligations list: %v\n", err)
			return 2
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PACK\tOBLIGATION\tKIND\tPERIOD\tDEADLINE\tSEVERITY\tTITLE")
	for _, p := range packs {
		for _, o := range p.Obligations {
			period := string(o.Period.Kind)
			if o.Period.StartMonth != time.January {
				period += fmt.Sprintf(" from %s", o.Period.StartMonth)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, o.ID, o.Kind, period, o.Deadline.String(), o.Severity, o.Title.ZH)
		}
	}
	if err := tw.Flush(); err != nil {
		return 2
	}
	return 0
}

func obPackIDs(cat *obligation.Catalog) string {
	var ids []string
	for _, p := range cat.Packs() {
		ids = append(ids, p.ID)
	}
	return strings.Join(ids, ", ")
}

// obDueOutput is the --json form of "obligations due".
type obDueOutput struct {
	obligation.Due
	Title      obligation.Text `json:"title"`
	LegalBasis string          `json:"legal_basis"`
	DueSoonAt  time.Time       `json:"due_soon_at"`
	Reminders  []time.Time     `json:"reminders,omitempty"`
	EscalateAt time.Time       `json:"escalate_at"`
}

func obDue(args []string, stdout, stderr io.Writer) int {
	fs, files, asJSON := obFlags("due", stderr)
	oblID := fs.String("obligation", "", "obligation `id`, such as CN-R19-AR-DEPT")
	kind := fs.String("kind", "", "obligation `kind` (annual-report, request-answer, …); picks the governing obligation")
	jur := fs.String("jurisdiction", "cn", "`jurisdiction` for --kind")
	packID := fs.String("pack", "", "restrict to the pack with this `id`")
	periodKey := fs.String("period", "", "period `key`: 2025, FY2025, FY2026-Q1, or an event id")
	level := fs.String("agency-level", "", "agency `level`: national, province, city, county, township")
	agencyKind := fs.String("agency-kind", "", "agency `kind`: government, department")
	eventDate := fs.String("event-date", "", "`date` of the event (receipt, approval, last update) for event-counted deadlines")
	extended := fs.Bool("extended", false, "apply the rule's extension")
	var tolls wdList
	fs.Var(&tolls, "toll", "tolling `interval` FROM..TO whose days are not counted; repeatable")
	calName := fs.String("calendar", "", "use this embedded `calendar` instead of the pack's (e.g. us-dc)")
	var overlays wdList
	fs.Var(&overlays, "overlay", "regional overlay `file` applied on top of the calendar; repeatable")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "gongkai obligations due: "+format+"\n", a...)
		return 2
	}
	if fs.NArg() > 0 {
		return fail("unexpected argument %q", fs.Arg(0))
	}
	if (*oblID == "") == (*kind == "") {
		return fail("give --obligation ID or --kind KIND")
	}
	if *level != "" && !slices.Contains(obligation.Levels(), obligation.Level(*level)) {
		return fail("--agency-level %q: want one of national, province, city, county, township", *level)
	}
	if *agencyKind != "" && !slices.Contains(obligation.AgencyKinds(), obligation.AgencyKind(*agencyKind)) {
		return fail("--agency-kind %q: want government or department", *agencyKind)
	}
	var in obligation.DueInput
	if *eventDate != "" {
		d, err := calendar.ParseDate(*eventDate)
		if err != nil {
			return fail("--event-date: %v", err)
		}
		in.EventDate = d
	}
	in.Extended = *extended
	for _, t := range tolls {
		iv, err := obligation.ParseInterval(t)
		if err != nil {
			return fail("--toll: %v", err)
		}
		in.Tolling = append(in.Tolling, iv)
	}
	cat, err := obLoadCatalog(*files)
	if err != nil {
		return fail("%v", err)
	}
	if *packID != "" {
		if _, ok := cat.Pack(*packID); !ok {
			return fail("--pack %s: no such pack (have %s)", *packID, obPackIDs(cat))
		}
	}

	// scope reports why o does not apply to the agency flags, or "".
	scope := func(o *obligation.Obligation) string {
		lv, kd := obligation.Level(*level), obligation.AgencyKind(*agencyKind)
		if (*level != "" && !slices.Contains(o.Scope.Levels, lv)) || (*agencyKind != "" && !slices.Contains(o.Scope.Kinds, kd)) {
			return fmt.Sprintf("%s applies to %v at levels %v", o.ID, o.Scope.Kinds, o.Scope.Levels)
		}
		return ""
	}
	var o *obligation.Obligation
	var p obligation.Period
	if *oblID != "" {
		var ok bool
		if o, ok = cat.Obligation(*oblID); !ok {
			return fail("--obligation %s: no such obligation (see gongkai obligations list)", *oblID)
		}
		if *packID != "" && o.Pack().ID != *packID {
			return fail("--obligation %s is in pack %s, not %s", *oblID, o.Pack().ID, *packID)
		}
		if why := scope(o); why != "" {
			return fail("not applicable to the agency (%s): %s", strings.TrimSpace(*level+" "+*agencyKind), why)
		}
		if p, err = obParsePeriod(o, *periodKey); err != nil {
			return fail("--period: %v", err)
		}
	} else {
		var found []*obligation.Obligation
		var periods []obligation.Period
		var problems []string
		for _, c := range cat.Obligations() {
			if c.Kind != *kind || c.Pack().Jurisdiction != *jur || (*packID != "" && c.Pack().ID != *packID) {
				continue
			}
			cp, err := obParsePeriod(c, *periodKey)
			if err != nil {
				problems = append(problems, err.Error())
				continue
			}
			ref := obligation.Reference(cp, in.EventDate)
			if ref.IsZero() {
				return fail("--event-date is required to choose among obligations of kind %s", *kind)
			}
			if !c.Pack().InEffect(ref) || scope(c) != "" {
				continue
			}
			found = append(found, c)
			periods = append(periods, cp)
		}
		switch {
		case len(found) == 0 && len(problems) > 0:
			return fail("--period: %s", strings.Join(problems, "; "))
		case len(found) == 0:
			return fail("no obligation of kind %q in jurisdiction %s governs period %q for this agency", *kind, *jur, *periodKey)
		case len(found) > 1:
			var ids []string
			for _, c := range found {
				ids = append(ids, c.ID)
			}
			return fail("kind %q matches %s; narrow with --agency-level and --agency-kind, or use --obligation", *kind, strings.Join(ids, ", "))
		}
		o, p = found[0], periods[0]
	}

	if *calName != "" || len(overlays) > 0 {
		name := *calName
		if name == "" {
			name = o.Pack().CalendarName
		}
		cal, err := wdLoadCalendar(name, overlays)
		if err != nil {
			return fail("--calendar: %v", err)
		}
		in.Calendar = cal
	}
	due, err := o.Due(p, in)
	if err != nil {
		return fail("%v", err)
	}
	if *asJSON {
		out := obDueOutput{Due: due, Title: o.Title, LegalBasis: o.LegalBasis,
			DueSoonAt: o.DueSoonAt(due), Reminders: o.ReminderTimes(due), EscalateAt: o.EscalateAt(due)}
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(out); err != nil {
			return fail("%v", err)
		}
		return 0
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 1, ' ', 0)
	fmt.Fprintf(tw, "due:\t%s %s\n", due.At.Format(time.RFC3339), due.Zone)
	prov := "false"
	if due.Provisional {
		prov = "true (" + due.ProvisionalReason + ")"
	}
	fmt.Fprintf(tw, "provisional:\t%s\n", prov)
	fmt.Fprintf(tw, "obligation:\t%s %s\n", o.ID, o.Title.ZH)
	fmt.Fprintf(tw, "period:\t%s\n", due.Period)
	fmt.Fprintf(tw, "pack:\t%s %s (sha256 %s)\n", due.PackID, due.PackVersion, due.PackHash)
	fmt.Fprintf(tw, "calendar:\t%s %s\n", due.Calendar, due.CalendarVersion)
	fmt.Fprintf(tw, "due soon from:\t%s\n", o.DueSoonAt(due).Format(time.RFC3339))
	fmt.Fprintf(tw, "escalate at:\t%s\n", o.EscalateAt(due).Format(time.RFC3339))
	fmt.Fprintf(tw, "legal basis:\t%s\n", o.LegalBasis)
	fmt.Fprintf(tw, "explanation:\t%s\n", due.Explanation)
	if err := tw.Flush(); err != nil {
		return 2
	}
	return 0
}

// obParsePeriod parses --period for o; event-driven obligations default
// to the id "cli".
func obParsePeriod(o *obligation.Obligation, key string) (obligation.Period, error) {
	if key == "" {
		if o.Period.Kind == obligation.EventDriven || o.Period.Kind == obligation.Continuous {
			key = "cli"
		} else {
			return obligation.Period{}, fmt.Errorf("%s needs a %s period key, such as 2025", o.ID, o.Period.Kind)
		}
	}
	return o.ParsePeriod(key)
}

func obCheck(args []string, stdout, stderr io.Writer) int {
	fs, _, _ := obFlags("check", stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() == 0 {
		fmt.Fprintln(stderr, "gongkai obligations check: give one or more pack files")
		return 2
	}
	cat, err := obligation.LoadFiles(fs.Args()...)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 2
	}
	for _, path := range fs.Args() {
		for _, p := range cat.Packs() {
			if p.File == path {
				fmt.Fprintf(stdout, "%s: ok (pack %s %s, %d obligations)\n", path, p.ID, p.Version, len(p.Obligations))
			}
		}
	}
	return 0
}
