package notifier

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
)

//go:embed templates
var templateFS embed.FS

// Templates renders notices. The embedded defaults are zh-CN and en plain
// text plus one HTML template.
type Templates struct {
	text map[string]*texttemplate.Template
	html *htmltemplate.Template
}

// DefaultTemplates parses the embedded templates.
func DefaultTemplates() (*Templates, error) {
	t := &Templates{text: map[string]*texttemplate.Template{}}
	for _, lang := range []string{"zh", "en"} {
		tt, err := texttemplate.ParseFS(templateFS, "templates/notice."+lang+".txt")
		if err != nil {
			return nil, fmt.Errorf("notifier: template %s: %w", lang, err)
		}
		t.text[lang] = tt
	}
	h, err := htmltemplate.ParseFS(templateFS, "templates/notice.html")
	if err != nil {
		return nil, fmt.Errorf("notifier: html template: %w", err)
	}
	t.html = h
	return t, nil
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

type labels struct {
	Obligation, Period, Due, Provisional, State, FoundAt, PublishedOn, Evidence, Details, Footer string
}

var labelSets = map[string]labels{
	"zh": {"事项", "期间", "截止时间", "暂定", "当前状态", "发现位置", "公开日期", "证据（SHA-256）", "查看详情", "本邮件由 gongkai 政务公开监测系统自动发送，依据规则包"},
	"en": {"Obligation", "Period", "Due", "provisional", "State", "Found at", "Published on", "Evidence (SHA-256)", "Details", "Sent automatically by gongkai under rule pack"},
}

type view struct {
	Lang, Agency, Obligation, Period, Due, StateLabel, Explanation string
	URL, PublishedOn, Link, Pack, Subject, Color                   string
	Provisional                                                    bool
	Evidence                                                       []string
	L                                                              labels
}

// oneLine removes line breaks so that no value can add a header line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", " ").Replace(s)), " ")
}

// Render renders a finding for a reader of lang ("zh" or "en").
func (t *Templates) Render(f events.Finding, lang, link string, loc *time.Location) (Message, error) {
	if lang != "en" {
		lang = "zh"
	}
	li := 0
	if lang == "en" {
		li = 1
	}
	v := view{
		Lang: lang, Agency: f.AgencyName, Obligation: f.Obligation.In(lang), Period: f.Period,
		Due: f.DueAt.In(loc).Format("2006-01-02 15:04 MST"), StateLabel: stateLabels[f.To][li],
		Explanation: f.Explanation.In(lang), URL: f.URL, PublishedOn: f.PublishedOn, Link: link,
		Pack: f.PackID + " " + f.PackVersion, Provisional: f.Provisional, Evidence: f.Evidence,
		L: labelSets[lang], Color: stateColors[f.To],
	}
	if v.Color == "" {
		v.Color = "#1565c0"
	}
	if lang == "en" {
		v.Subject = fmt.Sprintf("[%s] %s: %s, %s (due %s)", v.StateLabel, f.AgencyName, v.Obligation, f.Period, f.DueAt.In(loc).Format("2006-01-02"))
	} else {
		v.Subject = fmt.Sprintf("【%s】%s：%s（%s）应于%s前公开", v.StateLabel, f.AgencyName, v.Obligation, f.Period, f.DueAt.In(loc).Format("2006-01-02"))
	}
	v.Subject = oneLine(v.Subject)
	var tb, hb bytes.Buffer
	if err := t.text[lang].Execute(&tb, v); err != nil {
		return Message{}, fmt.Errorf("render text: %w", err)
	}
	if err := t.html.Execute(&hb, v); err != nil {
		return Message{}, fmt.Errorf("render html: %w", err)
	}
	return Message{Subject: v.Subject, Text: tb.String(), HTML: hb.String()}, nil
}
