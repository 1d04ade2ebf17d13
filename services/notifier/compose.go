package notifier

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/registry"
)

//go:embed templates
var templateFS embed.FS

// Template files. Each text template also defines the "subject" template.
var templateFiles = []string{"notice.zh.txt", "notice.en.txt", "notice.html", "digest.zh.txt", "digest.en.txt", "digest.html"}

// Templates renders notices and digests: a plain-text template per
// language (zh, en), each also defining the subject, and one HTML template
// per kind whose labels come from the data.
type Templates struct {
	text map[string]*texttemplate.Template // "notice.zh" …
	html map[string]*htmltemplate.Template // "notice", "digest"
}

// DefaultTemplates parses the embedded templates.
func DefaultTemplates() (*Templates, error) { return LoadTemplates("") }

// LoadTemplates parses the templates, taking each file from dir when it is
// there and from the embedded defaults otherwise; an empty dir means the
// defaults. A file that does not parse is an error naming it.
func LoadTemplates(dir string) (*Templates, error) {
	t := &Templates{text: map[string]*texttemplate.Template{}, html: map[string]*htmltemplate.Template{}}
	for _, name := range templateFiles {
		src, where, err := readTemplate(dir, name)
		if err != nil {
			return nil, err
		}
		base := strings.TrimSuffix(strings.TrimSuffix(name, ".txt"), ".html")
		if strings.HasSuffix(name, ".html") {
			h, err := htmltemplate.New(name).Option("missingkey=error").Parse(src)
			if err != nil {
				return nil, fmt.Errorf("template %s: %w", where, err)
			}
			t.html[base] = h
			continue
		}
		tt, err := texttemplate.New(name).Option("missingkey=error").Parse(src)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", where, err)
		}
		if tt.Lookup("subject") == nil {
			return nil, fmt.Errorf("template %s: no {{define \"subject\"}}", where)
		}
		t.text[base] = tt
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	return t, nil
}

func readTemplate(dir, name string) (src, where string, err error) {
	if dir != "" {
		p := filepath.Join(dir, name)
		b, err := os.ReadFile(p)
		if err == nil {
			return string(b), p, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return "", "", fmt.Errorf("template %s: %w", p, err)
		}
	}
	b, err := templateFS.ReadFile("templates/" + name)
	if err != nil {
		return "", "", fmt.Errorf("embedded template %s: %w", name, err)
	}
	return string(b), "(embedded) " + name, nil
}

// check renders a sample notice and digest in both languages, so that a
// template that refers to a missing field fails at start-up, not at 08:30.
func (t *Templates) check() error {
	f := sampleFinding()
	reg := &registry.Registry{}
	for _, lang := range []string{"zh", "en"} {
		p := pendingItem{Kind: kindImmediate, Recipient: "a@example.org", Name: "张三", Lang: lang, FindingID: "f", Finding: f, Supervisor: true}
		if _, err := t.RenderNotice(noticeData(p, time.UTC, "https://dash.example/agencies/x", reg)); err != nil {
			return fmt.Errorf("template check (%s notice): %w", lang, err)
		}
		d := DigestData{Lang: lang, Date: "2026-02-14", Name: "张三", L: digestLabelSets[lang]}
		d.Sections = []DigestSection{{Key: "overdue", Title: "x", Items: []DigestItem{{Agency: "a", Obligation: "o", Period: "2025", Due: "d", State: "s", Note: "n", Explanation: "e", Link: "https://dash.example/", Color: "#000"}}}}
		d.finish()
		if _, err := t.RenderDigest(d); err != nil {
			return fmt.Errorf("template check (%s digest): %w", lang, err)
		}
	}
	return nil
}

func sampleFinding() events.Finding {
	return events.Finding{
		AgencyID: "x", AgencyName: "示范局", PackID: "p", PackVersion: "1", ObligationID: "o",
		Obligation: events.Text{ZH: "年报", EN: "Annual report"}, Period: "2025", From: events.StateDueSoon,
		To: events.StateOverdue, Severity: events.SeverityCritical, DueAt: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC),
		DecidedAt: time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), Evidence: []string{"abc"}, URL: "https://x.example/",
		PublishedOn: "2026-02-02", Explanation: events.Text{ZH: "说明", EN: "explanation"},
	}
}

// Message is a rendered notice.
type Message struct {
	Subject string
	Text    string
	HTML    string
}

var stateLabels = map[events.State][2]string{
	events.StateNotDue:        {"未到期", "Not yet due"},
	events.StateDueSoon:       {"即将到期", "Due soon"},
	events.StateOverdue:       {"逾期", "Overdue"},
	events.StateEscalated:     {"逾期督办", "Escalated"},
	events.StateSatisfied:     {"已按期公开", "Published on time"},
	events.StateSatisfiedLate: {"逾期后公开", "Published late"},
	events.StateIncomplete:    {"内容不完整", "Incomplete"},
	events.StateWaived:        {"已豁免", "Waived"},
	events.StateNotApplicable: {"不适用", "Not applicable"},
	events.StateUnknown:       {"无法核实", "Could not verify"},
}

var stateColors = map[events.State]string{
	events.StateDueSoon: "#d9a400", events.StateOverdue: "#c62828", events.StateEscalated: "#8e0000",
	events.StateSatisfied: "#2e7d32", events.StateSatisfiedLate: "#ef6c00", events.StateIncomplete: "#ef6c00",
}

// action says, for the subject, what is needed and by when. %[1]s is the
// due date, %[2]s the publication date. noDue drops the due date, for
// obligations without one (website columns that must simply exist).
var actions = map[events.State][2]string{
	events.StateDueSoon:       {"请于%[1]s前公开", "publish by %[1]s"},
	events.StateOverdue:       {"已逾期，请尽快公开（截止%[1]s）", "overdue, publish now (due %[1]s)"},
	events.StateEscalated:     {"逾期未公开，请立即公开（截止%[1]s）", "still unpublished, publish immediately (due %[1]s)"},
	events.StateIncomplete:    {"内容不完整，请补正（截止%[1]s）", "incomplete, please correct it (due %[1]s)"},
	events.StateSatisfiedLate: {"已于%[2]s公开（截止%[1]s）", "published %[2]s (due %[1]s)"},
	events.StateSatisfied:     {"已公开，事项办结", "published, closed"},
	events.StateWaived:        {"已豁免，事项办结", "waived, closed"},
	events.StateNotApplicable: {"不再适用，事项办结", "no longer applies, closed"},
	events.StateUnknown:       {"无法核实（截止%[1]s）", "could not be verified (due %[1]s)"},
}

// answerLabels and answerActions replace stateLabels and actions for a
// request for information, which is answered, not published.
var answerLabels = map[events.State][2]string{
	events.StateSatisfied:     {"已按期答复", "Answered on time"},
	events.StateSatisfiedLate: {"逾期后答复", "Answered late"},
}

var answerActions = map[events.State][2]string{
	events.StateDueSoon:       {"请于%[1]s前答复", "answer by %[1]s"},
	events.StateOverdue:       {"已逾期，请尽快答复（截止%[1]s）", "overdue, answer now (due %[1]s)"},
	events.StateEscalated:     {"逾期未答复，请立即答复（截止%[1]s）", "still unanswered, answer immediately (due %[1]s)"},
	events.StateSatisfiedLate: {"已于%[2]s答复（截止%[1]s）", "answered %[2]s (due %[1]s)"},
	events.StateSatisfied:     {"已答复，事项办结", "answered, closed"},
}

var correctionLabels = map[events.State][2]string{
	events.StateSatisfied:     {"已按期告知补正", "Correction asked on time"},
	events.StateSatisfiedLate: {"逾期告知补正", "Correction asked late"},
}

var correctionActions = map[events.State][2]string{
	events.StateSatisfiedLate: {"于%[2]s才告知补正（期限%[1]s）", "correction asked only on %[2]s (limit %[1]s)"},
	events.StateSatisfied:     {"已按期告知补正", "correction asked on time"},
}

// appealLabels and appealActions word the decision on an administrative
// appeal of a request (FOIA, 5 U.S.C. 552(a)(6)(A)(ii)).
var appealLabels = map[events.State][2]string{
	events.StateSatisfied:     {"已按期作出申诉决定", "Appeal decided on time"},
	events.StateSatisfiedLate: {"逾期后作出申诉决定", "Appeal decided late"},
}

var appealActions = map[events.State][2]string{
	events.StateDueSoon:       {"请于%[1]s前作出申诉决定", "decide the appeal by %[1]s"},
	events.StateOverdue:       {"申诉已逾期，请尽快作出决定（截止%[1]s）", "appeal overdue, decide it now (due %[1]s)"},
	events.StateEscalated:     {"申诉逾期未决定，请立即作出决定（截止%[1]s）", "appeal still undecided, decide it immediately (due %[1]s)"},
	events.StateSatisfiedLate: {"已于%[2]s作出申诉决定（截止%[1]s）", "appeal decided %[2]s (due %[1]s)"},
	events.StateSatisfied:     {"已作出申诉决定，事项办结", "appeal decided, closed"},
}

// dutyLabels and dutyActions hold, by duty, the wording that replaces
// stateLabels and actions for an obligation that is not to publish.
var (
	dutyLabels = map[string]map[events.State][2]string{
		events.DutyAnswer: answerLabels, events.DutyCorrectionNotice: correctionLabels, events.DutyAppealDecision: appealLabels,
	}
	dutyActions = map[string]map[events.State][2]string{
		events.DutyAnswer: answerActions, events.DutyCorrectionNotice: correctionActions, events.DutyAppealDecision: appealActions,
	}
)

// stateLabel names a finding's new state in language li (0 zh, 1 en).
func stateLabel(f events.Finding, li int) string {
	if l, ok := dutyLabels[f.Duty][f.To]; ok {
		return l[li]
	}
	return stateLabels[f.To][li]
}

// action returns the subject's action clause of a finding, if any. A
// correction notice has none but its own: the publishing ones would not
// fit it.
func action(f events.Finding) ([2]string, bool) {
	if a, ok := dutyActions[f.Duty][f.To]; ok || f.Duty == events.DutyCorrectionNotice {
		return a, ok
	}
	a, ok := actions[f.To]
	return a, ok
}

// noDue removes the due-date clause of an action.
func noDue(action string) string {
	for _, clause := range []string{"（截止%[1]s）", " (due %[1]s)", "请于%[1]s前公开", "publish by %[1]s"} {
		repl := ""
		switch clause {
		case "请于%[1]s前公开":
			repl = "请及时公开"
		case "publish by %[1]s":
			repl = "publish it"
		}
		action = strings.Replace(action, clause, repl, 1)
	}
	return action
}

// periodText shows a period key: "current" (the rolling period of website
// checks) reads as a word, not a key.
func periodText(period, lang string) string {
	if period == "current" && lang != "en" {
		return "当前"
	}
	return period
}

// dueText formats a deadline with time and zone, and its date; a zero
// deadline (an obligation without one) shows as a dash.
func dueText(t time.Time, loc *time.Location) (string, string) {
	if t.IsZero() {
		return "—", ""
	}
	t = dueIn(t, loc)
	return t.Format("2006-01-02 15:04 MST"), t.Format("2006-01-02")
}

// dueIn returns a deadline as it is to be shown: where it was defined. The
// checker writes a deadline in its pack's time zone (a FOIA deadline ends
// at 23:59:59 in New York) and the finding's JSON keeps that offset; shown
// in the notifier's zone it would fall on the next day. When the offsets
// agree, the notifier's zone is used for its name (CST rather than +0800).
func dueIn(t time.Time, loc *time.Location) time.Time {
	_, own := t.Zone()
	if _, here := t.In(loc).Zone(); here == own {
		return t.In(loc)
	}
	return t
}

type labels struct {
	Obligation, Period, Due, Provisional, State, FoundAt, PublishedOn, Evidence, Details, Footer, Supervisor string
}

var labelSets = map[string]labels{
	"zh": {"事项", "期间", "截止时间", "暂定", "当前状态", "发现位置", "公开日期", "证据（SHA-256）", "查看详情",
		"本邮件由 gongkai 政务公开监测系统自动发送，依据规则包", "您作为上级政务公开工作主管部门收到本通知。"},
	"en": {"Obligation", "Period", "Due", "provisional", "State", "Found at", "Published on", "Evidence (SHA-256)", "Details",
		"Sent automatically by gongkai under rule pack", "You receive this notice as the supervising open-government office."},
}

// doneOnLabels name the date that settles an obligation whose duty is not
// to publish (labels.PublishedOn otherwise), in zh and en.
var doneOnLabels = map[string][2]string{
	events.DutyAnswer:           {"答复日期", "Answered on"},
	events.DutyCorrectionNotice: {"告知补正日期", "Correction asked on"},
	events.DutyAppealDecision:   {"申诉决定日期", "Appeal decided on"},
}

// NoticeData is what the notice templates see.
type NoticeData struct {
	Lang string
	// Name is the recipient's name.
	Name string
	// Agency is the agency's name (its English name for en readers, when
	// the registry has one).
	Agency string
	// Obligation is the full title; Title a short one for the subject.
	Obligation, Title string
	Period            string
	// Due is the deadline with time and zone; DueDate the date alone.
	Due, DueDate string
	StateLabel   string
	// Action says what is needed and by when (for the subject).
	Action      string
	Explanation string
	URL         string
	PublishedOn string
	// Link is the dashboard page of the agency, or "".
	Link  string
	Pack  string
	Color string
	// Provisional marks a deadline computed without a published calendar.
	Provisional bool
	// Supervisor is true when the reader is told as the supervising body.
	Supervisor bool
	Evidence   []string
	// Subject is the rendered subject (set before the bodies render).
	Subject string
	L       labels
}

// noticeData prepares the template data of a notice.
func noticeData(p pendingItem, loc *time.Location, link string, reg *registry.Registry) NoticeData {
	f := p.Finding
	lang := p.Lang
	if lang != "en" {
		lang = "zh"
	}
	li := 0
	if lang == "en" {
		li = 1
	}
	agency := f.AgencyName
	if a, ok := reg.Get(f.AgencyID); ok && lang == "en" && a.NameEN != "" {
		agency = a.NameEN
	}
	due, dueDate := dueText(f.DueAt, loc)
	d := NoticeData{
		Lang: lang, Name: p.Name, Agency: agency, Obligation: f.Obligation.In(lang),
		Title: shortTitle(f.Obligation.In(lang), lang), Period: periodText(f.Period, lang),
		Due: due, DueDate: dueDate,
		StateLabel: stateLabel(f, li), Explanation: f.Explanation.In(lang), URL: f.URL,
		PublishedOn: f.PublishedOn, Link: link, Pack: f.PackID + " " + f.PackVersion,
		Provisional: f.Provisional, Supervisor: p.Supervisor, Evidence: f.Evidence,
		L: labelSets[lang], Color: stateColors[f.To],
	}
	if d.Color == "" {
		d.Color = "#1565c0"
	}
	if l, ok := doneOnLabels[f.Duty]; ok {
		d.L.PublishedOn = l[li] // a request is answered, an appeal decided: not published
	}
	if a, ok := action(f); ok {
		pub := f.PublishedOn
		if pub == "" {
			pub = "?"
		}
		format := a[li]
		if d.DueDate == "" {
			format = noDue(format)
		}
		d.Action = strings.NewReplacer("%[1]s", d.DueDate, "%[2]s", pub).Replace(format)
	}
	return d
}

// RenderNotice renders an immediate notice.
func (t *Templates) RenderNotice(d NoticeData) (Message, error) {
	tt := t.text["notice."+d.Lang]
	if tt == nil {
		return Message{}, fmt.Errorf("no notice template for language %q", d.Lang)
	}
	var sb, tb, hb bytes.Buffer
	if err := tt.ExecuteTemplate(&sb, "subject", d); err != nil {
		return Message{}, fmt.Errorf("render subject: %w", err)
	}
	d.Subject = oneLine(sb.String())
	if err := tt.Execute(&tb, d); err != nil {
		return Message{}, fmt.Errorf("render text: %w", err)
	}
	if err := t.html["notice"].Execute(&hb, d); err != nil {
		return Message{}, fmt.Errorf("render html: %w", err)
	}
	return Message{Subject: d.Subject, Text: tb.String(), HTML: hb.String()}, nil
}

// summaries renders the notice subject in both languages, for webhooks.
func summaries(t *Templates, p pendingItem, loc *time.Location, link string, reg *registry.Registry) events.Text {
	var out events.Text
	for _, lang := range []string{"zh", "en"} {
		p.Lang = lang
		m, err := t.RenderNotice(noticeData(p, loc, link, reg))
		if err != nil {
			continue
		}
		if lang == "zh" {
			out.ZH = m.Subject
		} else {
			out.EN = m.Subject
		}
	}
	return out
}

// oneLine removes line breaks and other control characters and collapses
// white space, so that no value can add a header line.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == 0x2028 || r == 0x2029 || r == 0x85 {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// shortTitle shortens an obligation title for a subject line: a trailing
// parenthetical qualifier goes (the body keeps the full title), and what is
// left is cut at a word boundary (en) or a rune count (zh) with an
// ellipsis.
func shortTitle(s, lang string) string {
	s = oneLine(s)
	for _, p := range [][2]string{{"（", "）"}, {" (", ")"}, {"(", ")"}} {
		if strings.HasSuffix(s, p[1]) {
			if i := strings.LastIndex(s, p[0]); i > 0 && utf8.RuneCountInString(s[:i]) >= 4 {
				s = strings.TrimSpace(s[:i])
				break
			}
		}
	}
	if lang == "en" {
		const maxLen = 70
		if len(s) <= maxLen {
			return s
		}
		cut := strings.LastIndex(s[:maxLen], " ")
		if cut < maxLen/2 {
			cut = maxLen
			for !utf8.RuneStart(s[cut]) {
				cut--
			}
		}
		return strings.TrimRight(s[:cut], " ,;:-") + "…"
	}
	const maxRunes = 30
	r := []rune(s)
	if len(r) <= maxRunes {
		return s
	}
	return string(r[:maxRunes-1]) + "…"
}
