package notifier

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/registry"
)

// A request for information is answered, not published: its notices say
// so.
func TestRenderNoticeOfARequest(t *testing.T) {
	tpl, err := DefaultTemplates()
	if err != nil {
		t.Fatal(err)
	}
	f := overdueFinding()
	f.ObligationID, f.Period, f.Duty = "CN-R19-REQ", "YSQ-2026-0001", events.DutyAnswer
	f.Obligation = events.Text{ZH: "答复政府信息公开申请（20个工作日，经批准可延长20个工作日）", EN: "Answer to a request for government information (20 working days, extendable by 20)"}
	f.To, f.DueAt = events.StateEscalated, time.Date(2026, 1, 27, 23, 59, 59, 0, cst)
	for lang, want := range map[string]string{
		"zh": "逾期未答复，请立即答复（截止2026-01-27）",
		"en": "still unanswered, answer immediately (due 2026-01-27)",
	} {
		p := pendingItem{Kind: kindImmediate, Recipient: "a@x.example", Lang: lang, Finding: f}
		m, err := tpl.RenderNotice(noticeData(p, cst, "", &registry.Registry{}))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Subject, want) || strings.Contains(m.Subject, "公开（截止") {
			t.Errorf("%s subject %q, want it to contain %q", lang, m.Subject, want)
		}
	}
	f.To, f.PublishedOn = events.StateSatisfiedLate, "2026-02-05"
	p := pendingItem{Kind: kindImmediate, Recipient: "a@x.example", Lang: "zh", Finding: f}
	d := noticeData(p, cst, "", &registry.Registry{})
	if d.StateLabel != "逾期后答复" || d.Action != "已于2026-02-05答复（截止2026-01-27）" {
		t.Errorf("late answer: label %q, action %q", d.StateLabel, d.Action)
	}
	// The body names the date for what it is: the answer's, not a
	// publication's.
	m, err := tpl.RenderNotice(d)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "答复日期：2026-02-05") || strings.Contains(m.Text, "公开日期") || !strings.Contains(m.HTML, "答复日期") {
		t.Errorf("late answer's notice does not give the answer's date as such:\n%s", m.Text)
	}
}

// The decision on a FOIA appeal is neither published nor an answer: its
// notices say the appeal must be decided.
func TestRenderNoticeOfAnAppeal(t *testing.T) {
	tpl, err := DefaultTemplates()
	if err != nil {
		t.Fatal(err)
	}
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	f := overdueFinding()
	f.AgencyID, f.AgencyName, f.PackID, f.ObligationID, f.Period, f.Duty = "doj-oip", "Office of Information Policy", "us-foia", "US-APPEAL", "FOIA-2026-0042", events.DutyAppealDecision
	f.Obligation = events.Text{ZH: "对行政复议（申诉）作出决定（20个工作日）", EN: "Decision on an administrative appeal within 20 working days"}
	f.To, f.DueAt = events.StateEscalated, time.Date(2026, 3, 20, 23, 59, 59, 0, ny)
	for lang, want := range map[string]string{
		"zh": "申诉逾期未决定，请立即作出决定（截止2026-03-20）",
		"en": "appeal still undecided, decide it immediately (due 2026-03-20)",
	} {
		p := pendingItem{Kind: kindImmediate, Recipient: "foia@oip.example", Lang: lang, Finding: f}
		m, err := tpl.RenderNotice(noticeData(p, ny, "", &registry.Registry{}))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(m.Subject, want) || strings.Contains(m.Subject, "公开") || strings.Contains(m.Subject, "答复") ||
			strings.Contains(m.Subject, "publish") || strings.Contains(m.Subject, "answer") {
			t.Errorf("%s subject %q, want it to contain %q", lang, m.Subject, want)
		}
	}
	// A notifier running in Beijing shows the deadline where it ends, as
	// the finding carries it (through its JSON, which keeps the offset):
	// 2026-03-20 23:59 in New York, not 2026-03-21 11:59 CST.
	body, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	var wire events.Finding
	if err := json.Unmarshal(body, &wire); err != nil {
		t.Fatal(err)
	}
	d := noticeData(pendingItem{Kind: kindImmediate, Recipient: "foia@oip.example", Lang: "en", Finding: wire}, cst, "", &registry.Registry{})
	if d.Due != "2026-03-20 23:59 -0400" || d.DueDate != "2026-03-20" {
		t.Errorf("a New York deadline shown by a notifier in Beijing: due %q, date %q; want 2026-03-20 23:59 -0400", d.Due, d.DueDate)
	}
	for _, tc := range []struct {
		to                  events.State
		lang, label, action string
		decidedOn           string
	}{
		{events.StateSatisfiedLate, "zh", "逾期后作出申诉决定", "已于2026-03-25作出申诉决定（截止2026-03-20）", "2026-03-25"},
		{events.StateSatisfiedLate, "en", "Appeal decided late", "appeal decided 2026-03-25 (due 2026-03-20)", "2026-03-25"},
		{events.StateSatisfied, "zh", "已按期作出申诉决定", "已作出申诉决定，事项办结", "2026-03-19"},
		{events.StateDueSoon, "en", "Due soon", "decide the appeal by 2026-03-20", ""},
		{events.StateOverdue, "zh", "逾期", "申诉已逾期，请尽快作出决定（截止2026-03-20）", ""},
	} {
		g := f
		g.To, g.PublishedOn = tc.to, tc.decidedOn
		d := noticeData(pendingItem{Kind: kindImmediate, Recipient: "foia@oip.example", Lang: tc.lang, Finding: g}, ny, "", &registry.Registry{})
		if d.StateLabel != tc.label || d.Action != tc.action {
			t.Errorf("%s %s: label %q, action %q; want %q, %q", tc.to, tc.lang, d.StateLabel, d.Action, tc.label, tc.action)
		}
	}
}
