package checker

import (
	"errors"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/obligation"
	"github.com/gongkai/gongkai/services/internal/registry"
)

// observedColumns are the website columns ingest reports items for; an
// obligation is evaluated in the pipeline when its locator names one of
// them and its deadline is a fixed date of a yearly period.
var observedColumns = map[string]bool{events.ColumnAnnualReport: true}

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
	}
}

// For implements Rules: the obligations in effect at now that apply to a
// and that the pipeline observes.
func (c *catalogRules) For(a *registry.Agency, now time.Time) []Rule {
	ag := agencyOf(a)
	k := appliesKey{agencyShape{Jurisdiction: ag.Jurisdiction, Level: ag.Level, Kind: ag.Kind}, now.UTC().Format("2006-01-02")}
	c.mu.Lock()
	if rs, ok := c.applies[k]; ok {
		c.mu.Unlock()
		return rs
	}
	c.mu.Unlock()
	var out []Rule
	for _, o := range c.cat.Applicable(ag, now) {
		if r, ok := c.cached(o); ok {
			out = append(out, r)
		}
	}
	c.mu.Lock()
	if len(c.applies) > 10000 {
		clear(c.applies)
	}
	c.applies[k] = out
	c.mu.Unlock()
	return out
}

func (c *catalogRules) cached(o *obligation.Obligation) (Rule, bool) {
	c.mu.Lock()
	e, ok := c.rules[o]
	c.mu.Unlock()
	if ok {
		return e.rule, e.ok
	}
	r, ok := c.rule(o, time.Now())
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

func (c *catalogRules) rule(o *obligation.Obligation, now time.Time) (Rule, bool) {
	if !observedColumns[o.Locator.Column] || o.Deadline.Kind != obligation.Fixed || o.Period.Kind != obligation.Yearly {
		return Rule{}, false
	}
	// Obligations whose date the pack leaves to local configuration (the
	// township report) need an override; without one there is nothing to
	// check against.
	if p, err := o.PeriodFor(now); err == nil {
		if _, err := o.Due(p, obligation.DueInput{}); errors.Is(err, obligation.ErrUnknownDeadline) {
			return Rule{}, false
		}
	}
	pack := o.Pack()
	r := Rule{
		PackID:       pack.ID,
		PackVersion:  pack.Version + "+" + pack.Hash,
		ObligationID: o.ID,
		Title:        events.Text{ZH: o.Title.ZH, EN: o.Title.EN},
		Severity:     events.Severity(o.Severity),
		Column:       o.Locator.Column,
	}
	r.Periods = func(now time.Time) []string {
		last, err := o.PeriodFor(now)
		if err != nil {
			return nil
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
	type clockResult struct {
		clk Clock
		due Due
		err error
	}
	var clocks sync.Map // period key → clockResult; deadlines depend only on the period
	r.Clock = func(period string) (Clock, Due, error) {
		if v, ok := clocks.Load(period); ok {
			cr := v.(clockResult)
			return cr.clk, cr.due, cr.err
		}
		var cr clockResult
		if p, err := o.ParsePeriod(period); err != nil {
			cr.err = err
		} else if d, err := o.Due(p, obligation.DueInput{}); err != nil {
			cr.err = err
		} else {
			cr.clk = Clock{DueAt: d.At, DueSoonAt: o.DueSoonAt(d), EscalateAt: o.EscalateAt(d)}
			cr.due = Due{Provisional: d.Provisional, CalendarVersion: d.CalendarVersion}
		}
		clocks.Store(period, cr)
		return cr.clk, cr.due, cr.err
	}
	var cache sync.Map // period key → *regexp.Regexp (nil: no pattern)
	r.Matches = func(it events.Item, period string) bool {
		p, err := o.ParsePeriod(period)
		if err != nil {
			return false
		}
		v, ok := cache.Load(period)
		if !ok {
			re, _ := o.Locator.TitleRegexp(p) // the pattern was validated when the pack loaded
			v, _ = cache.LoadOrStore(period, re)
		}
		if re := v.(*regexp.Regexp); re != nil {
			return re.MatchString(it.Title)
		}
		return it.Year == p.Year
	}
	return r, true
}
