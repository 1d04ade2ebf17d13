package checker

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/calendar"
	"github.com/gongkai/gongkai/services/internal/obligation"
	"github.com/gongkai/gongkai/services/internal/registry"
)

// catalogRules adapts the rule packs to the checker. Rules are built once
// per obligation and the applicable set once per kind of agency and day,
// since every observation asks for them.
type catalogRules struct {
	cat *obligation.Catalog

	mu      sync.Mutex
	rules   map[*obligation.Obligation]ruleEntry
	applies map[appliesKey][]Rule
}

type ruleEntry struct {
	rule Rule
	ok   bool
}

// agencyShape is what decides which obligations apply to an agency.
type agencyShape struct {
	Jurisdiction string
	Level        obligation.Level
	Kind         obligation.AgencyKind
}

type appliesKey struct {
	agency agencyShape
	day    string
}

// NewRules returns the checker's view of a catalog of rule packs.
func NewRules(cat *obligation.Catalog) Rules {
	return &catalogRules{cat: cat, rules: map[*obligation.Obligation]ruleEntry{}, applies: map[appliesKey][]Rule{}}
}

func agencyOf(a *registry.Agency) obligation.Agency {
	return obligation.Agency{
		Jurisdiction: a.Jurisdiction,
		Level:        obligation.Level(a.Level),
		Kind:         obligation.AgencyKind(a.Kind),
		Packs:        a.Packs,
	}
}

// For implements Rules: the obligations in effect at now that apply to a
// and that the pipeline can judge from observations.
func (c *catalogRules) For(a *registry.Agency, now time.Time) []Rule {
	ag := agencyOf(a)
	if len(ag.Packs) > 0 {
		return c.build(ag, now) // rare: not worth a cache key
	}
	k := appliesKey{agencyShape{ag.Jurisdiction, ag.Level, ag.Kind}, now.UTC().Format("2006-01-02")}
	c.mu.Lock()
	if rs, ok := c.applies[k]; ok {
		c.mu.Unlock()
		return rs
	}
	c.mu.Unlock()
	out := c.build(ag, now)
	c.mu.Lock()
	if len(c.applies) > 10000 {
		clear(c.applies)
	}
	c.applies[k] = out
	c.mu.Unlock()
	return out
}

func (c *catalogRules) build(ag obligation.Agency, now time.Time) []Rule {
	var out []Rule
	for _, o := range c.cat.Applicable(ag, now) {
		if r, ok := c.cached(o); ok {
			out = append(out, r)
		}
	}
	return out
}

func (c *catalogRules) cached(o *obligation.Obligation) (Rule, bool) {
	c.mu.Lock()
	e, ok := c.rules[o]
	c.mu.Unlock()
	if ok {
		return e.rule, e.ok
	}
	r, ok := c.rule(o)
	c.mu.Lock()
	c.rules[o] = ruleEntry{r, ok}
	c.mu.Unlock()
	return r, ok
}

// Lookup implements Rules.
func (c *catalogRules) Lookup(a *registry.Agency, packID, obligationID string) (Rule, bool) {
	o, ok := c.cat.Obligation(obligationID)
	if !ok || o.Pack().ID != packID || !o.AppliesTo(agencyOf(a)) {
		return Rule{}, false
	}
	return c.cached(o)
}

// Title implements Rules.
func (c *catalogRules) Title(packID, obligationID string) events.Text {
	o, ok := c.cat.Obligation(obligationID)
	if !ok || o.Pack().ID != packID {
		return events.Text{ZH: obligationID, EN: obligationID}
	}
	return events.Text{ZH: o.Title.ZH, EN: o.Title.EN}
}

// Location implements Rules.
func (c *catalogRules) Location(packID string) *time.Location {
	if p, ok := c.cat.Pack(packID); ok {
		return p.Location
	}
	return nil
}

// ForCase implements Rules.
func (c *catalogRules) ForCase(a *registry.Agency, kind, received string) (Rule, bool) {
	d, err := calendar.ParseDate(received)
	if err != nil {
		return Rule{}, false
	}
	ag := agencyOf(a)
	for _, o := range c.cat.Select(a.Jurisdiction, kind, d) {
		if o.AppliesTo(ag) {
			return c.cached(o)
		}
	}
	return Rule{}, false
}

// The pack kinds of the obligations about requests for information: to
// answer a request, to ask once for a correction of an unclear one, and to
// decide an administrative appeal of it (FOIA's US-APPEAL).
const (
	RequestAnswer     = "request-answer"
	RequestCorrection = "request-correction"
	RequestAppeal     = "appeal-decision"
)

// kindOf decides how an obligation is judged from its pack data, or false
// when the pipeline cannot judge it (proactive disclosure of single
// documents: it needs a record of each document, not a website audit).
func kindOf(o *obligation.Obligation) (Kind, bool) {
	if o.Kind == RequestAnswer || o.Kind == RequestCorrection || o.Kind == RequestAppeal {
		return KindRequest, o.Period.Kind == obligation.EventDriven && o.Deadline.Kind == obligation.AfterEvent
	}
	switch o.Completeness.Profile.Name {
	case "column-present":
		return KindPresent, o.Locator.Column != ""
	case "column-freshness", "homepage-freshness":
		return KindFresh, o.Locator.Column != "" && o.Deadline.Kind == obligation.AfterEvent
	case "blank-columns":
		return KindBlank, true
	}
	if o.Period.Kind != obligation.Yearly || o.Locator.Column == "" {
		return 0, false
	}
	switch o.Deadline.Kind {
	case obligation.Fixed:
		return KindPeriodic, true
	case obligation.AfterEvent:
		return KindPeriodic, o.Deadline.Event == "approval"
	}
	return 0, false
}

func (c *catalogRules) rule(o *obligation.Obligation) (Rule, bool) {
	kind, ok := kindOf(o)
	if !ok {
		return Rule{}, false
	}
	pack := o.Pack()
	r := Rule{
		PackID:       pack.ID,
		PackVersion:  pack.Version + "+" + pack.Hash,
		ObligationID: o.ID,
		Title:        events.Text{ZH: o.Title.ZH, EN: o.Title.EN},
		Severity:     events.Severity(o.Severity),
		Kind:         kind,
		Column:       o.Locator.Column,
		Profile:      func(string) string { return "" },
		Location:     pack.Location,
	}
	cal := pack.Calendar()
	// A continuous violation is escalated EscalateAfter working days after
	// it began; the website packs set no escalation (0), which here means
	// never, rather than at once.
	r.Escalate = func(from time.Time) time.Time {
		if o.EscalateAfter == 0 {
			return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		d := cal.AddWorkdays(calendar.DateOf(from.In(pack.Location)), o.EscalateAfter).Date
		h, m, s := from.In(pack.Location).Clock()
		return time.Date(d.Year, d.Month, d.Day, h, m, s, 0, pack.Location)
	}
	r.Waived = func(a *registry.Agency, period string, at time.Time) (bool, string) {
		on := calendar.DateOf(at.In(pack.Location))
		for _, w := range a.Waivers {
			if w.Covers(o.ID, period, on) {
				return true, w.Reason
			}
		}
		return false, ""
	}
	switch kind {
	case KindPresent, KindBlank:
		r.Periods = func(time.Time) []string { return []string{CurrentPeriod} }
		r.Clock = func(string, *registry.Agency, string) (Clock, Due, error) {
			return Clock{}, Due{CalendarVersion: cal.Version()}, nil
		}
		if kind == KindBlank {
			r.Threshold = 5
			if v, err := strconv.Atoi(o.Completeness.Profile.Params["veto_count"]); err == nil && v > 0 {
				r.Threshold = v
			}
		}
		return r, true
	case KindFresh:
		r.Periods = func(time.Time) []string { return []string{CurrentPeriod} }
		r.Clock = func(_ string, _ *registry.Agency, event string) (Clock, Due, error) {
			if event == "" {
				// No dated item at all: "未注明信息发布时间的视为不更新".
				return Clock{DueAt: time.Unix(0, 0)}, Due{CalendarVersion: cal.Version()}, nil
			}
			ev, err := calendar.ParseDate(event)
			if err != nil {
				return Clock{}, Due{}, fmt.Errorf("newest item date %q: %w", event, err)
			}
			p, err := o.ParsePeriod("last-update")
			if err != nil {
				return Clock{}, Due{}, err
			}
			d, err := o.Due(p, obligation.DueInput{EventDate: ev})
			if err != nil {
				return Clock{}, Due{}, err
			}
			return Clock{DueAt: d.At}, Due{Provisional: d.Provisional, CalendarVersion: d.CalendarVersion}, nil
		}
		return r, true
	case KindRequest:
		r.Periods = func(time.Time) []string { return nil } // the cases come from the register
		r.Matches = func(events.Item, string) bool { return false }
		// The clock of a case counts from its deadline date, computed
		// once from the case (CaseDue) and kept with the instance, so the
		// daily tick needs only that date.
		r.Clock = func(_ string, _ *registry.Agency, deadline string) (Clock, Due, error) {
			d, err := calendar.ParseDate(deadline)
			if err != nil {
				return Clock{}, Due{}, fmt.Errorf("%s: case deadline %q: %w", o.ID, deadline, err)
			}
			// The answer is due by the end of that day, like every
			// after-event deadline of the packs.
			due := obligation.Due{Obligation: o.ID, Date: d, At: time.Date(d.Year, d.Month, d.Day, 23, 59, 59, 0, pack.Location)}
			return Clock{DueAt: due.At, DueSoonAt: o.DueSoonAt(due), EscalateAt: o.EscalateAt(due)},
				Due{Provisional: cal.Day(d).Provisional, CalendarVersion: cal.Version()}, nil
		}
		correction, appeal := o.Kind == RequestCorrection, o.Kind == RequestAppeal
		switch {
		case correction:
			r.Duty = events.DutyCorrectionNotice
		case appeal:
			r.Duty = events.DutyAppealDecision
		default:
			r.Duty = events.DutyAnswer
		}
		r.CaseDue = func(c events.RequestCase) (string, Due, error) {
			if appeal {
				// 552(a)(6)(A)(ii): from the receipt of the appeal; the
				// unusual-circumstances extension of (B)(i); no tolling.
				if c.AppealReceived == "" {
					return "", Due{}, fmt.Errorf("case %s: no appeal_received", c.ID)
				}
				ev, err := calendar.ParseDate(c.AppealReceived)
				if err != nil {
					return "", Due{}, fmt.Errorf("case %s: appeal_received: %w", c.ID, err)
				}
				return due(o, c, obligation.DueInput{EventDate: ev, Extended: c.AppealExtended})
			}
			from := c.Received
			if c.Corrected != "" && !correction {
				from = c.Corrected // 2019 art. 30: the answer clock counts from the corrected request
			}
			ev, err := calendar.ParseDate(from)
			if err != nil {
				return "", Due{}, fmt.Errorf("case %s: %w", c.ID, err)
			}
			in := obligation.DueInput{EventDate: ev, Extended: c.Extended}
			if correction {
				// The correction notice has neither extension nor tolling.
				return due(o, c, in)
			}
			for _, t := range c.Tolled {
				f, err1 := calendar.ParseDate(t.From)
				e, err2 := calendar.ParseDate(t.To)
				if err := errors.Join(err1, err2); err != nil {
					return "", Due{}, fmt.Errorf("case %s: tolled: %w", c.ID, err)
				}
				in.Tolling = append(in.Tolling, obligation.Interval{From: f, To: e})
			}
			return due(o, c, in)
		}
		return r, true
	}

	// Periodic items.
	afterApproval := o.Deadline.Kind == obligation.AfterEvent
	finalAccounts := strings.HasSuffix(o.Kind, "final-accounts")
	type periodsAt struct {
		hour    string
		periods []string
	}
	var lastPeriods atomic.Pointer[periodsAt] // the periods change at most hourly
	periods := func(now time.Time) []string {
		last, err := o.PeriodFor(now)
		if err != nil {
			return nil
		}
		if afterApproval {
			// A budget for year Y is approved early in Y, so this year's
			// and last year's are tracked; final accounts for Y are
			// approved during Y+1, so last year's and the year before.
			if finalAccounts {
				return []string{last.Key(), strconv.Itoa(last.Year - 1)}
			}
			return []string{strconv.Itoa(last.Year + 1), last.Key()}
		}
		out := []string{last.Key()}
		// Until the last period's deadline passes, the one before it is
		// still the most recent one due.
		if d, err := o.Due(last, obligation.DueInput{}); err == nil && now.Before(d.At) {
			if prev, err := o.ParsePeriod(strconv.Itoa(last.Year - 1)); err == nil {
				out = append(out, prev.Key())
			}
		}
		return out
	}
	r.Periods = func(now time.Time) []string {
		// Keyed by the hour: a deadline passes at a time of day.
		k := now.In(pack.Location).Format("2006-01-02T15")
		if p := lastPeriods.Load(); p != nil && p.hour == k {
			return p.periods
		}
		ps := periods(now)
		lastPeriods.Store(&periodsAt{k, ps})
		return ps
	}
	type clockResult struct {
		clk Clock
		due Due
		err error
	}
	var clocks sync.Map // period key → clockResult, for agencies without their own inputs
	compute := func(period string, in obligation.DueInput) clockResult {
		var cr clockResult
		if p, err := o.ParsePeriod(period); err != nil {
			cr.err = err
		} else if d, err := o.Due(p, in); err != nil {
			cr.err = err
		} else {
			cr.clk = Clock{DueAt: d.At, DueSoonAt: o.DueSoonAt(d), EscalateAt: o.EscalateAt(d)}
			cr.due = Due{Provisional: d.Provisional, CalendarVersion: d.CalendarVersion}
		}
		return cr
	}
	r.Clock = func(period string, a *registry.Agency, _ string) (Clock, Due, error) {
		in := obligation.DueInput{}
		own := false
		if a != nil {
			for i := range a.Overrides {
				if ov := &a.Overrides[i]; ov.Obligation == o.ID && ov.Applies(period) {
					in.Override, own = ov, true
					break
				}
			}
			if afterApproval {
				dates := a.BudgetApproved
				if finalAccounts {
					dates = a.FinalAccountsApproved
				}
				y, _ := strconv.Atoi(strings.TrimPrefix(period, "FY"))
				d, ok := dates[y]
				if !ok {
					return Clock{}, Due{}, fmt.Errorf("%w: the registry gives no approval date for %s %s", ErrTriggerUnknown, o.ID, period)
				}
				in.EventDate, own = d, true
			}
		}
		if own {
			cr := compute(period, in)
			return cr.clk, cr.due, cr.err
		}
		if v, ok := clocks.Load(period); ok {
			cr := v.(clockResult)
			return cr.clk, cr.due, cr.err
		}
		cr := compute(period, in)
		if errors.Is(cr.err, obligation.ErrEventDate) {
			cr.err = fmt.Errorf("%w: %v", ErrTriggerUnknown, cr.err)
		}
		clocks.Store(period, cr)
		return cr.clk, cr.due, cr.err
	}
	var patterns sync.Map // period key → *regexp.Regexp (nil: no pattern)
	r.Matches = func(it events.Item, period string) bool {
		p, err := o.ParsePeriod(period)
		if err != nil {
			return false
		}
		v, ok := patterns.Load(period)
		if !ok {
			re, _ := o.Locator.TitleRegexp(p) // the pattern was validated when the pack loaded
			v, _ = patterns.LoadOrStore(period, re)
		}
		if re := v.(*regexp.Regexp); re != nil {
			return re.MatchString(it.Title)
		}
		return it.Year == p.Year
	}
	r.Profile = func(period string) string {
		p, err := o.ParsePeriod(period)
		if err != nil {
			return ""
		}
		return profileKey(o.CompletenessFor(p)) // budget.go
	}
	// Obligations whose date the pack leaves to local configuration (the
	// township report) need an override; without one there is nothing to
	// check against.
	if !afterApproval {
		if p, err := o.PeriodFor(time.Now()); err == nil {
			if _, err := o.Due(p, obligation.DueInput{}); errors.Is(err, obligation.ErrUnknownDeadline) {
				return Rule{}, false
			}
		}
	}
	return r, true
}

// due computes the deadline date of a request case under o.
func due(o *obligation.Obligation, c events.RequestCase, in obligation.DueInput) (string, Due, error) {
	p, err := o.ParsePeriod(c.ID)
	if err != nil {
		return "", Due{}, fmt.Errorf("case %s: %w", c.ID, err)
	}
	d, err := o.Due(p, in)
	if err != nil {
		return "", Due{}, fmt.Errorf("case %s: %w", c.ID, err)
	}
	return d.Date.String(), Due{Provisional: d.Provisional, CalendarVersion: d.CalendarVersion}, nil
}
