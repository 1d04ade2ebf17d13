package notifier

import (
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
}
