package notifier

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/mailtext"
	"github.com/gongkai/gongkai/services/internal/smtptest"
)

var cst = time.FixedZone("CST", 8*3600)

func finding() events.Finding {
	return events.Finding{
		AgencyID: "demo-wjw", AgencyName: "示范市卫生健康委员会",
		PackID: "cn-ogi-2019", PackVersion: "2026.1", ObligationID: "CN-R19-AR-DEPT",
		Obligation: events.Text{ZH: "政府信息公开工作年度报告", EN: "Annual report on open government information"},
		Period:     "2025", From: events.StateDueSoon, To: events.StateOverdue, Severity: events.SeverityCritical,
		DueAt: time.Date(2026, 1, 31, 23, 59, 59, 0, cst), DecidedAt: time.Date(2026, 2, 3, 9, 0, 0, 0, cst),
		Evidence:    []string{"a6e49977f1b820788f5fbcbefd85dba35b482de6b66dddabdd734607b9243047"},
		Explanation: events.Text{ZH: "应于2026-01-31前公开，已逾期。", EN: "Was due by 2026-01-31; overdue."},
	}
}

func TestRender(t *testing.T) {
	tpl, err := DefaultTemplates()
	if err != nil {
		t.Fatal(err)
	}
	zh, err := tpl.Render(finding(), "zh", "http://dash.example/agencies/demo-wjw", cst)
	if err != nil {
		t.Fatal(err)
	}
	if zh.Subject != "【逾期】示范市卫生健康委员会：政府信息公开工作年度报告（2025）应于2026-01-31前公开" {
		t.Errorf("zh subject %q", zh.Subject)
	}
	for _, s := range []string{"示范市卫生健康委员会：", "截止时间：2026-01-31 23:59 CST", "当前状态：逾期", "详情：http://dash.example/agencies/demo-wjw", "a6e49977"} {
		if !strings.Contains(zh.Text, s) {
			t.Errorf("zh text lacks %q:\n%s", s, zh.Text)
		}
	}
	en, err := tpl.Render(finding(), "en", "", cst)
	if err != nil {
		t.Fatal(err)
	}
	if en.Subject != "[Overdue] 示范市卫生健康委员会: Annual report on open government information, 2025 (due 2026-01-31)" {
		t.Errorf("en subject %q", en.Subject)
	}
	if !strings.Contains(en.Text, "Was due by 2026-01-31; overdue.") || !strings.Contains(en.HTML, `lang="en"`) {
		t.Errorf("en body:\n%s\n%s", en.Text, en.HTML)
	}
}

func TestNoHeaderInjection(t *testing.T) {
	tpl, _ := DefaultTemplates()
	f := finding()
	f.AgencyName = "示范局\r\nBcc: victim@example.com"
	m, err := tpl.Render(f, "zh", "", cst)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		t.Fatalf("subject has a line break: %q", m.Subject)
	}
	msg := mail.NewMsg()
	_ = msg.From("gongkai@test.example")
	_ = msg.To("a@test.example")
	msg.Subject(m.Subject)
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	var b strings.Builder
	if _, err := msg.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(b.String(), "\r\n\r\n")
	for _, line := range strings.Split(head, "\r\n") {
		if strings.HasPrefix(strings.ToLower(line), "bcc:") {
			t.Fatalf("injected header line %q", line)
		}
	}
}

func TestNoticeIDIsDeterministic(t *testing.T) {
	a, b := NoticeID("finding-x@3>overdue", "a@x"), NoticeID("finding-x@3>overdue", "a@x")
	if a != b || a == NoticeID("finding-x@3>overdue", "b@x") || a == NoticeID("finding-x@4>overdue", "a@x") {
		t.Fatal("notice ids are not a function of (finding, recipient)")
	}
}

func testMsg(t *testing.T) *mail.Msg {
	m := mail.NewMsg()
	if err := m.From("gongkai@test.example"); err != nil {
		t.Fatal(err)
	}
	if err := m.To("a@test.example"); err != nil {
		t.Fatal(err)
	}
	m.Subject("测试")
	m.SetMessageIDWithValue("n-1@gongkai")
	m.SetBodyString(mail.TypeTextPlain, "正文")
	return m
}

func TestOutboxIsIdempotent(t *testing.T) {
	dir := t.TempDir()
	o, err := NewOutbox(dir)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := o.Send(context.Background(), "n-1", testMsg(t)); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) != 1 || filepath.Base(files[0]) != "n-1.eml" {
		t.Fatalf("outbox holds %v", files)
	}
	m, err := mailtext.ReadFile(files[0])
	if err != nil || m.Subject != "测试" || strings.TrimSpace(m.Text) != "正文" {
		t.Fatalf("outbox message: %+v, %v", m, err)
	}
	if err := os.Chmod(dir, 0o500); err == nil && os.Geteuid() != 0 {
		defer os.Chmod(dir, 0o700)
		var te *TemporaryError
		if err := o.Send(context.Background(), "n-2", testMsg(t)); !errors.As(err, &te) {
			t.Fatalf("write to a read-only outbox: %v, want a temporary error", err)
		}
	}
}

func TestSMTPClassifiesFailures(t *testing.T) {
	srv := smtptest.Start(t)
	tr, err := NewSMTP(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	srv.FailTemporarily(1)
	var te *TemporaryError
	if err := tr.Send(ctx, "n-1", testMsg(t)); !errors.As(err, &te) {
		t.Fatalf("451: %v, want temporary", err)
	}
	if err := tr.Send(ctx, "n-1", testMsg(t)); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	srv.FailPermanently(true)
	if err := tr.Send(ctx, "n-2", testMsg(t)); err == nil || errors.As(err, &te) {
		t.Fatalf("550: %v, want permanent", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("server accepted %d messages, want 1", n)
	}
}

func TestNewSMTPRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"http://mail.example", "smtp://", "smtp://mail.example?tls=maybe", "smtp://mail.example:port"} {
		if _, err := NewSMTP(u); err == nil {
			t.Errorf("NewSMTP(%q) accepted", u)
		}
	}
	if _, err := NewSMTP("smtp://user:secret@mail.example:2525?tls=mandatory"); err != nil {
		t.Errorf("valid URL refused: %v", err)
	}
}
