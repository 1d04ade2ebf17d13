// Package registry loads and validates the agency registry: the YAML file
// that lists every agency gongkai audits, its place in the hierarchy, its
// website and where discovery needs help finding its columns, the people to
// notify, its local deadline overrides and waivers, the approval dates of its
// budgets and final accounts, the audit schedule group it belongs to and the
// robots.txt policy its website is fetched under.
//
// Every validation error names the file, the line and the field, and says
// what was expected:
//
//	agencies.yaml:14: agencies[2] (huaian-czj): contacts[0].email "zhang@" is not a valid email address
package registry

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/andybalholm/cascadia"
	"github.com/robfig/cron/v3"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/calendar"
	"github.com/gongkai/gongkai/services/internal/obligation"
)

// Agency levels, from the top of the hierarchy down.
const (
	LevelNational = "national"
	LevelProvince = "province"
	LevelCity     = "city"
	LevelCounty   = "county"
	LevelTownship = "township"
)

// Agency kinds.
const (
	KindGovernment = "government" // a people's government (its 办公厅/室 reports for it)
	KindDepartment = "department" // a department of a government
)

// Notification modes of a contact.
const (
	ModeDigest    = "digest"
	ModeImmediate = "immediate"
)

// Registry is a validated set of agencies.
type Registry struct {
	// AllowPrivateAddresses lets ingest fetch agency websites on loopback
	// and private addresses. Off by default (the SSRF guard); the demo and
	// tests, whose simulated portals run on loopback, turn it on.
	AllowPrivateAddresses bool `yaml:"allow_private_addresses"`
	// Robots is the robots.txt policy of every agency that does not set
	// its own: RobotsObey (the default) or RobotsIgnore.
	Robots string `yaml:"robots,omitempty"`
	// Schedules maps schedule group names to cron expressions (five
	// fields, Asia/Shanghai), for example {default: "0 2 * * *",
	// provincial: "30 1 * * *"}. Agencies join a group with Schedule;
	// those that do not are in DefaultSchedule, whose expression comes
	// from the ingest service's options unless the registry names it.
	Schedules map[string]string `yaml:"schedules,omitempty"`
	// Jitter spreads the publication of one scheduled run over this
	// window (at most one hour), each agency at a fixed offset derived
	// from its id, so that a thousand sites are not hit in the same
	// second. Zero publishes the whole run at once.
	Jitter Duration `yaml:"jitter,omitempty"`
	// Agencies in file order.
	Agencies []Agency `yaml:"agencies"`

	byID map[string]int
}

// Agency is one public body.
type Agency struct {
	// ID is a stable identifier: ASCII letters, digits, '-' and '_'.
	ID string `yaml:"id"`
	// Name is the official Chinese name, for example 淮安市财政局.
	Name string `yaml:"name"`
	// NameEN is an English name, optional.
	NameEN string `yaml:"name_en,omitempty"`
	// Level is one of the Level* constants.
	Level string `yaml:"level"`
	// Kind is one of the Kind* constants.
	Kind string `yaml:"kind"`
	// Parent is the id of the supervising agency, empty at the top.
	Parent string `yaml:"parent,omitempty"`
	// Region is the administrative region, "/"-separated from the
	// province down, for example 江苏省/淮安市.
	Region string `yaml:"region,omitempty"`
	// Jurisdiction selects the rule packs and calendar: "cn" or "us".
	Jurisdiction string `yaml:"jurisdiction,omitempty"`
	// Website is the home page URL.
	Website string `yaml:"website"`
	// Columns gives per-column URLs where discovery needs help, keyed by
	// column key (for example annual_report).
	Columns map[string]ColumnHint `yaml:"columns,omitempty"`
	// Contacts are the people notified about this agency.
	Contacts []Contact `yaml:"contacts,omitempty"`
	// Packs, when not empty, limits the agency to the rule packs with
	// these ids; otherwise every pack of its jurisdiction applies.
	Packs []string `yaml:"packs,omitempty"`
	// Schedule names the schedule group (a key of Registry.Schedules)
	// the agency is audited with; empty means DefaultSchedule.
	Schedule string `yaml:"schedule,omitempty"`
	// Robots overrides the registry's robots.txt policy for this agency.
	Robots string `yaml:"robots,omitempty"`
	// Overrides change deadlines for this agency (local rules stricter
	// than the national text).
	Overrides []obligation.Override `yaml:"overrides,omitempty"`
	// Waivers exempt this agency from obligations, with a reason and an
	// expiry.
	Waivers []obligation.Waiver `yaml:"waivers,omitempty"`
	// BudgetApproved gives, per budget year, the date the agency's budget
	// was approved (批复): the event from which the 20-day publication
	// deadline of 预算法 art. 14 runs (cn-budget, event "approval").
	BudgetApproved ApprovalDates `yaml:"budget_approved,omitempty"`
	// FinalAccountsApproved gives, per fiscal year, the date the final
	// accounts (决算) of that year were approved.
	FinalAccountsApproved ApprovalDates `yaml:"final_accounts_approved,omitempty"`
}

// ApprovalDates maps a year to the date something for that year was
// approved, written in YAML as {2026: 2026-02-10}.
type ApprovalDates map[int]calendar.Date

// UnmarshalYAML decodes the mapping, naming the line of a bad year or date.
func (a *ApprovalDates) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: expected a mapping of years to dates, such as {2026: 2026-02-10}", n.Line)}}
	}
	out := ApprovalDates{}
	var errs []string
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		y, err := strconv.Atoi(k.Value)
		if err != nil {
			errs = append(errs, fmt.Sprintf("line %d: year %q: expected a year such as 2026", k.Line, k.Value))
			continue
		}
		d, err := calendar.ParseDate(v.Value)
		if err != nil {
			errs = append(errs, fmt.Sprintf("line %d: %d: %v", v.Line, y, err))
			continue
		}
		out[y] = d
	}
	if len(errs) > 0 {
		return &yaml.TypeError{Errors: errs}
	}
	*a = out
	return nil
}

// Robots.txt policies.
const (
	// RobotsObey fetches nothing a site's robots.txt disallows for
	// gongkai's user agent (the default).
	RobotsObey = "obey"
	// RobotsIgnore does not read robots.txt: for agencies whose
	// supervisor has mandated the audit of pages the site's robots.txt
	// excludes from crawlers.
	RobotsIgnore = "ignore"
)

// DefaultSchedule is the schedule group of agencies that name none.
const DefaultSchedule = "default"

// MaxJitter bounds Registry.Jitter: it must stay well inside the audit
// stream's two-hour de-duplication window, so that scheduler replicas
// spreading the same run still publish each job once.
const MaxJitter = time.Hour

// Duration is a time.Duration written in YAML as a Go duration string
// ("30m", "1h").
type Duration time.Duration

// UnmarshalYAML decodes a duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil || v < 0 {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: duration %q: expected a non-negative Go duration such as 30m or 1h", n.Line, n.Value)}}
	}
	*d = Duration(v)
	return nil
}

// MarshalYAML encodes a duration string.
func (d Duration) MarshalYAML() (any, error) { return time.Duration(d).String(), nil }

// RobotsPolicy returns the robots.txt policy that applies to a.
func (r *Registry) RobotsPolicy(a *Agency) string {
	if a.Robots != "" {
		return a.Robots
	}
	if r.Robots != "" {
		return r.Robots
	}
	return RobotsObey
}

// ScheduleOf returns the schedule group of a.
func (a *Agency) ScheduleOf() string {
	if a.Schedule == "" {
		return DefaultSchedule
	}
	return a.Schedule
}

// ObligationAgency returns what the rule packs need to know about a.
func (a *Agency) ObligationAgency() obligation.Agency {
	return obligation.Agency{
		Jurisdiction: a.Jurisdiction, Level: obligation.Level(a.Level),
		Kind: obligation.AgencyKind(a.Kind), Packs: a.Packs,
	}
}

// Group returns the ids of the agencies in schedule group name, in file
// order.
func (r *Registry) Group(name string) []string {
	var out []string
	for i := range r.Agencies {
		if r.Agencies[i].ScheduleOf() == name {
			out = append(out, r.Agencies[i].ID)
		}
	}
	return out
}

// Groups returns the names of the schedule groups in use or defined,
// sorted.
func (r *Registry) Groups() []string {
	set := map[string]bool{}
	for name := range r.Schedules {
		set[name] = true
	}
	for i := range r.Agencies {
		set[r.Agencies[i].ScheduleOf()] = true
	}
	out := make([]string, 0, len(set))
	for name := range set {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// ColumnHint points discovery at a column.
type ColumnHint struct {
	// URL of the column's first list page.
	URL string `yaml:"url,omitempty"`
	// Selector is a CSS selector for the list items, when the page layout
	// defeats the generic parser. Each selected element is one item: its
	// first link is the item, the first date in its text its date.
	Selector string `yaml:"selector,omitempty"`
	// Next is a CSS selector for the link to the next list page, when the
	// generic pagination detection fails.
	Next string `yaml:"next,omitempty"`
}

// Contact is a person (or functional mailbox) to notify.
type Contact struct {
	Name  string `yaml:"name"`
	Role  string `yaml:"role"`
	Email string `yaml:"email"`
	// Lang is "zh" (default) or "en".
	Lang string `yaml:"lang,omitempty"`
	// Mode is "digest" (default) or "immediate".
	Mode string `yaml:"mode,omitempty"`
}

// Load reads and validates a registry file.
func Load(path string) (*Registry, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("registry: %w", err)
	}
	return Parse(path, b)
}

// Parse decodes and validates a registry; name is used in error messages.
func Parse(name string, data []byte) (*Registry, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s:%s", name, yamlErr(err))
	}
	if len(root.Content) == 0 {
		return nil, fmt.Errorf("%s: empty registry: expected a mapping with an agencies list", name)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var r Registry
	if err := dec.Decode(&r); err != nil {
		return nil, fmt.Errorf("%s:%s", name, yamlErr(err))
	}
	if err := r.validate(name, root.Content[0]); err != nil {
		return nil, err
	}
	return &r, nil
}

// yamlErr turns "yaml: line 3: ..." into "3: ..." so that callers print
// file:line: message.
func yamlErr(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "yaml: ")
	s = strings.TrimPrefix(s, "unmarshal errors:\n  ")
	s = strings.ReplaceAll(s, "\n  line ", "; line ")
	if rest, ok := strings.CutPrefix(s, "line "); ok {
		return rest
	}
	return " " + s
}

// Get returns the agency with the given id.
func (r *Registry) Get(id string) (*Agency, bool) {
	i, ok := r.byID[id]
	if !ok {
		return nil, false
	}
	return &r.Agencies[i], true
}

// IDs returns every agency id in file order.
func (r *Registry) IDs() []string {
	ids := make([]string, len(r.Agencies))
	for i, a := range r.Agencies {
		ids[i] = a.ID
	}
	return ids
}

// Children returns the ids of the agencies whose parent is id, sorted.
func (r *Registry) Children(id string) []string {
	var out []string
	for _, a := range r.Agencies {
		if a.Parent == id {
			out = append(out, a.ID)
		}
	}
	sort.Strings(out)
	return out
}

type fieldErr struct {
	line int
	msg  string
}

func (r *Registry) validate(name string, doc *yaml.Node) error {
	agenciesNode := mapValue(doc, "agencies")
	if agenciesNode == nil || len(r.Agencies) == 0 {
		return fmt.Errorf("%s:%d: no agencies: expected an agencies list with at least one agency", name, doc.Line)
	}
	var errs []fieldErr
	top := func(path ...string) int { return lineAt(doc, path...) }
	switch r.Robots {
	case "", RobotsObey, RobotsIgnore:
	default:
		errs = append(errs, fieldErr{top("robots"), fmt.Sprintf("robots %q: expected obey or ignore", r.Robots)})
	}
	for _, g := range sortedKeys(r.Schedules) {
		if !events.ValidToken(g) {
			errs = append(errs, fieldErr{top("schedules", g), fmt.Sprintf("schedules: group name %q: expected ASCII letters, digits, '-' or '_'", g)})
		}
		if _, err := cron.ParseStandard(r.Schedules[g]); err != nil {
			errs = append(errs, fieldErr{top("schedules", g), fmt.Sprintf("schedules.%s %q: expected a five-field cron expression: %v", g, r.Schedules[g], err)})
		}
	}
	if time.Duration(r.Jitter) > MaxJitter {
		errs = append(errs, fieldErr{top("jitter"), fmt.Sprintf("jitter %v: at most %v (the audit stream's de-duplication window is 2h)", time.Duration(r.Jitter), MaxJitter)})
	}
	r.byID = make(map[string]int, len(r.Agencies))
	for i := range r.Agencies {
		a := &r.Agencies[i]
		var an *yaml.Node
		if i < len(agenciesNode.Content) {
			an = agenciesNode.Content[i]
		}
		at := func(path ...string) int { return lineAt(an, path...) }
		prefix := fmt.Sprintf("agencies[%d]", i)
		if a.ID != "" {
			prefix += " (" + a.ID + ")"
		}
		add := func(line int, format string, args ...any) {
			errs = append(errs, fieldErr{line, prefix + ": " + fmt.Sprintf(format, args...)})
		}
		if !events.ValidToken(a.ID) {
			add(at("id"), "id %q: expected 1-128 ASCII letters, digits, '-' or '_'", a.ID)
		} else if j, dup := r.byID[a.ID]; dup {
			add(at("id"), "id %q is already used by agencies[%d]", a.ID, j)
		} else {
			r.byID[a.ID] = i
		}
		if strings.TrimSpace(a.Name) == "" {
			add(at("name"), "name is empty")
		}
		for _, f := range []struct{ field, v string }{{"name", a.Name}, {"name_en", a.NameEN}} {
			if strings.ContainsAny(f.v, "\r\n") {
				add(at(f.field), "%s contains a line break", f.field)
			}
		}
		switch a.Level {
		case LevelNational, LevelProvince, LevelCity, LevelCounty, LevelTownship:
		default:
			add(at("level"), "level %q: expected national, province, city, county or township", a.Level)
		}
		switch a.Kind {
		case KindGovernment, KindDepartment:
		default:
			add(at("kind"), "kind %q: expected government or department", a.Kind)
		}
		if a.Jurisdiction == "" {
			a.Jurisdiction = "cn"
		}
		if a.Jurisdiction != "cn" && a.Jurisdiction != "us" {
			add(at("jurisdiction"), "jurisdiction %q: expected cn or us", a.Jurisdiction)
		}
		if err := checkURL(a.Website); err != nil {
			add(at("website"), "website: %v", err)
		}
		for _, key := range sortedKeys(a.Columns) {
			c := a.Columns[key]
			if !events.ValidToken(key) {
				add(at("columns", key), "columns: key %q: expected a column key such as annual_report", key)
			}
			if c.URL != "" {
				if err := checkURL(c.URL); err != nil {
					add(at("columns", key, "url"), "columns.%s.url: %v", key, err)
				}
			}
			for _, sel := range []struct{ field, v string }{{"selector", c.Selector}, {"next", c.Next}} {
				if sel.v == "" {
					continue
				}
				if _, err := cascadia.Compile(sel.v); err != nil {
					add(at("columns", key, sel.field), "columns.%s.%s %q is not a CSS selector: %v", key, sel.field, sel.v, err)
				}
			}
		}
		if a.Schedule != "" {
			if _, ok := r.Schedules[a.Schedule]; !ok && a.Schedule != DefaultSchedule {
				add(at("schedule"), "schedule %q is not a group of the registry's schedules (%s)", a.Schedule, strings.Join(sortedKeys(r.Schedules), ", "))
			}
		}
		switch a.Robots {
		case "", RobotsObey, RobotsIgnore:
		default:
			add(at("robots"), "robots %q: expected obey or ignore", a.Robots)
		}
		for j, p := range a.Packs {
			if !events.ValidToken(p) {
				add(at("packs", strconv.Itoa(j)), "packs[%d] %q is not a pack id", j, p)
			}
		}
		for _, f := range []struct {
			field string
			m     ApprovalDates
		}{{"budget_approved", a.BudgetApproved}, {"final_accounts_approved", a.FinalAccountsApproved}} {
			for _, y := range sortedKeys(f.m) {
				d := f.m[y]
				if y < 1990 || y > 2100 {
					add(at(f.field, strconv.Itoa(y)), "%s: year %d: expected a year such as 2026", f.field, y)
				} else if d.Year < y-1 || d.Year > y+1 {
					add(at(f.field, strconv.Itoa(y)), "%s: %d approved on %s: expected a date within a year of %d", f.field, y, d, y)
				}
			}
		}
		for j := range a.Contacts {
			c := &a.Contacts[j]
			cl := func(f string) int { return at("contacts", strconv.Itoa(j), f) }
			if strings.TrimSpace(c.Name) == "" || strings.ContainsAny(c.Name, "\r\n") {
				add(cl("name"), "contacts[%d].name %q: expected a name without line breaks", j, c.Name)
			}
			if c.Role == "" {
				add(cl("role"), "contacts[%d].role is empty (for example disclosure_office)", j)
			}
			if err := checkEmail(c.Email); err != nil {
				add(cl("email"), "contacts[%d].email %q is not a valid email address", j, c.Email)
			}
			if c.Lang == "" {
				c.Lang = "zh"
			}
			if c.Lang != "zh" && c.Lang != "en" {
				add(cl("lang"), "contacts[%d].lang %q: expected zh or en", j, c.Lang)
			}
			if c.Mode == "" {
				c.Mode = ModeDigest
			}
			if c.Mode != ModeDigest && c.Mode != ModeImmediate {
				add(cl("mode"), "contacts[%d].mode %q: expected digest or immediate", j, c.Mode)
			}
		}
	}
	for i, a := range r.Agencies {
		if a.Parent == "" {
			continue
		}
		line := lineAt(agenciesNode.Content[i], "parent")
		if _, ok := r.byID[a.Parent]; !ok {
			errs = append(errs, fieldErr{line, fmt.Sprintf("agencies[%d] (%s): parent %q is not an agency in this registry", i, a.ID, a.Parent)})
		} else if r.cycle(a.ID) {
			errs = append(errs, fieldErr{line, fmt.Sprintf("agencies[%d] (%s): parent chain loops back to %s", i, a.ID, a.ID)})
		}
	}
	if len(errs) == 0 {
		return nil
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].line < errs[j].line })
	out := make([]error, len(errs))
	for i, e := range errs {
		out[i] = fmt.Errorf("%s:%d: %s", name, e.line, e.msg)
	}
	return errors.Join(out...)
}

func (r *Registry) cycle(id string) bool {
	seen := map[string]bool{}
	for cur := id; cur != ""; {
		if seen[cur] {
			return true
		}
		seen[cur] = true
		i, ok := r.byID[cur]
		if !ok {
			return false
		}
		cur = r.Agencies[i].Parent
	}
	return false
}

func sortedKeys[K int | string, V any](m map[K]V) []K {
	out := make([]K, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func checkURL(s string) error {
	if s == "" {
		return errors.New("empty: expected an absolute http or https URL")
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("%q: %v", s, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q: expected an absolute http or https URL", s)
	}
	return nil
}

func checkEmail(s string) error {
	if strings.ContainsAny(s, "\r\n") {
		return errors.New("line break")
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return err
	}
	if a.Address != s {
		return errors.New("expected a bare address without a display name")
	}
	return nil
}

// mapValue returns the value node for key in a mapping node.
func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// lineAt walks a path of mapping keys and sequence indexes from n and
// returns the line of the deepest node found, so an error points at the
// field when it exists and at its parent when it is missing.
func lineAt(n *yaml.Node, path ...string) int {
	if n == nil {
		return 0
	}
	line := n.Line
	cur := n
	for _, p := range path {
		var next *yaml.Node
		switch cur.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(cur.Content); i += 2 {
				if cur.Content[i].Value == p {
					next = cur.Content[i+1]
					line = cur.Content[i].Line
					break
				}
			}
		case yaml.SequenceNode:
			if idx, err := strconv.Atoi(p); err == nil && idx < len(cur.Content) {
				next = cur.Content[idx]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		cur = next
	}
	return line
}
