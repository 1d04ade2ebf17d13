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
	"github.com/gongkai/gongkai/services/internal/registry"
	"github.com/gongkai/gongkai/services/internal/smtptest"
)

func overdueFinding() events.Finding {
	return events.Finding{
		AgencyID: "demo-wjw", AgencyName: "示范市卫生健康委员会",
		PackID: "cn-ogi-2019", PackVersion: "2026.1", ObligationID: "CN-R19-AR-DEPT",
		Obligation: events.Text{
			ZH: "本行政机关上一年度政府信息公开工作年度报告（县级以上人民政府部门）",
			EN: "Annual report on open government information for the previous year (departments of county-level and higher governments)",
		},
		Period: "2025", From: events.StateDueSoon, To: events.StateOverdue, Severity: events.SeverityCritical,
		DueAt: time.Date(2026, 1, 31, 23, 59, 59, 0, cst), DecidedAt: time.Date(2026, 2, 3, 9, 0, 0, 0, cst),
		Evidence:    []string{"a6e49977f1b820788f5fbcbefd85dba35b482de6b66dddabdd734607b9243047"},
		Explanation: events.Text{ZH: "应于2026-01-31前公开，已逾期。", EN: "Was due by 2026-01-31; overdue."},
	}
}

func TestRenderNotice(t *testing.T) {
	tpl, err := DefaultTemplates()
	if err != nil {
		t.Fatal(err)
	}
	reg := &registry.Registry{}
	p := pendingItem{Kind: kindImmediate, Recipient: "a@x.example", Name: "王五", Lang: "zh", Finding: overdueFinding()}
	zh, err := tpl.RenderNotice(noticeData(p, cst, "http://dash.example/agencies/demo-wjw", reg))
	if err != nil {
		t.Fatal(err)
	}
	if want := "【逾期】示范市卫生健康委员会：本行政机关上一年度政府信息公开工作年度报告（2025）已逾期，请尽快公开（截止2026-01-31）"; zh.Subject != want {
		t.Errorf("zh subject\n got %q\nwant %q", zh.Subject, want)
	}
	for _, s := range []string{"王五：", "事项：本行政机关上一年度政府信息公开工作年度报告（县级以上人民政府部门）", "截止时间：2026-01-31 23:59 CST",
		"当前状态：逾期", "详情：http://dash.example/agencies/demo-wjw", "a6e49977"} {
		if !strings.Contains(zh.Text, s) {
			t.Errorf("zh text lacks %q:\n%s", s, zh.Text)
		}
	}
	if strings.Contains(zh.Text, "上级政务公开") {
		t.Errorf("an agency contact is addressed as the supervisor:\n%s", zh.Text)
	}
	p.Lang, p.Supervisor, p.Name = "en", true, ""
	en, err := tpl.RenderNotice(noticeData(p, cst, "", reg))
	if err != nil {
		t.Fatal(err)
	}
	if want := "[Overdue] 示范市卫生健康委员会: Annual report on open government information for the previous year, 2025 — overdue, publish now (due 2026-01-31)"; en.Subject != want {
		t.Errorf("en subject\n got %q\nwant %q", en.Subject, want)
	}
	for _, s := range []string{"Was due by 2026-01-31; overdue.", "supervising open-government office"} {
		if !strings.Contains(en.Text, s) {
			t.Errorf("en text lacks %q:\n%s", s, en.Text)
		}
	}
	if !strings.Contains(en.HTML, `lang="en"`) || !strings.Contains(en.HTML, "supervising") {
		t.Errorf("en html:\n%s", en.HTML)
	}
}

// Website checks have no deadline and a rolling period: the subject says
// what is needed without a date and without the period key.
func TestRenderWithoutDeadline(t *testing.T) {
	tpl, err := DefaultTemplates()
	if err != nil {
		t.Fatal(err)
	}
	f := overdueFinding()
	f.Obligation, f.Period, f.DueAt = events.Text{ZH: "政策解读栏目", EN: "Column \"Policy interpretation\""}, "current", time.Time{}
	for lang, want := range map[string]string{
		"zh": "【逾期】示范市卫生健康委员会：政策解读栏目（当前）已逾期，请尽快公开",
		"en": "[Overdue] 示范市卫生健康委员会: Column \"Policy interpretation\", current — overdue, publish now",
	} {
		m, err := tpl.RenderNotice(noticeData(pendingItem{Lang: lang, Finding: f}, cst, "", &registry.Registry{}))
		if err != nil {
			t.Fatal(err)
		}
		if m.Subject != want {
			t.Errorf("%s subject\n got %q\nwant %q", lang, m.Subject, want)
		}
		if strings.Contains(m.Text, "0001") {
			t.Errorf("%s text shows a zero date:\n%s", lang, m.Text)
		}
	}
	f.To, f.From = events.StateDueSoon, events.StateNotDue
	m, _ := tpl.RenderNotice(noticeData(pendingItem{Lang: "zh", Finding: f}, cst, "", &registry.Registry{}))
	if want := "【即将到期】示范市卫生健康委员会：政策解读栏目（当前）请及时公开"; m.Subject != want {
		t.Errorf("subject %q, want %q", m.Subject, want)
	}
}

func TestShortTitle(t *testing.T) {
	for _, c := range []struct{ in, lang, want string }{
		{"本行政机关上一年度政府信息公开工作年度报告（县级以上人民政府部门）", "zh", "本行政机关上一年度政府信息公开工作年度报告"},
		{"乡镇人民政府（街道办事处）上一年度政府信息公开工作年度报告", "zh", "乡镇人民政府（街道办事处）上一年度政府信息公开工作年度报告"},
		{"政策解读栏目", "zh", "政策解读栏目"},
		{"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一二三", "zh", "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九…"},
		{"Department budget with tables, published within 20 days of the finance department's approval", "en", "Department budget with tables, published within 20 days of the…"},
		{"Annual report on open government information for the previous year (departments of county-level and higher governments)", "en", "Annual report on open government information for the previous year"},
		{"Column \"Policy interpretation\"", "en", "Column \"Policy interpretation\""},
		{"（全部）", "zh", "（全部）"},
	} {
		if got := shortTitle(c.in, c.lang); got != c.want {
			t.Errorf("shortTitle(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

func TestNoticeIDsAreDeterministic(t *testing.T) {
	a, b := NoticeID("finding-x@3>overdue", "a@x"), NoticeID("finding-x@3>overdue", "A@X")
	if a != b || a == NoticeID("finding-x@3>overdue", "b@x") || a == NoticeID("finding-x@4>overdue", "a@x") {
		t.Fatal("immediate notice ids are not a function of (finding, recipient)")
	}
	d := DigestNoticeID("a@x", "2026-02-14")
	if d != DigestNoticeID("A@x", "2026-02-14") || d == DigestNoticeID("a@x", "2026-02-24") || d == DigestNoticeID("b@x", "2026-02-14") {
		t.Fatal("digest ids are not a function of (recipient, date)")
	}
	if w := WebhookNoticeID("f", "https://h.example/a"); w == WebhookNoticeID("f", "https://h.example/b") || !strings.HasPrefix(w, "w-") {
		t.Fatal("webhook ids are not a function of (finding, URL)")
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
	defer tr.CloseIdle()
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
	srv.FailPermanently(false)
	srv.FailRecipient("a@test.example", 450)
	if err := tr.Send(ctx, "n-3", testMsg(t)); !errors.As(err, &te) {
		t.Fatalf("450 on RCPT: %v, want temporary", err)
	}
	srv.FailRecipient("a@test.example", 550)
	if err := tr.Send(ctx, "n-3", testMsg(t)); err == nil || errors.As(err, &te) {
		t.Fatalf("550 on RCPT: %v, want permanent", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Fatalf("server accepted %d messages, want 1", n)
	}
	// A server that is down is a temporary failure.
	down, err := NewSMTP("smtp://127.0.0.1:1?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	if err := down.Send(ctx, "n-4", testMsg(t)); !errors.As(err, &te) {
		t.Fatalf("connection refused: %v, want temporary", err)
	}
}

// STARTTLS and AUTH PLAIN against the real server; one connection (one
// handshake, one AUTH) carries a batch; wrong credentials are a temporary
// failure (a configuration error must not drop notices).
func TestSMTPStartTLSAuthAndReuse(t *testing.T) {
	srv := smtptest.Start(t, smtptest.WithSTARTTLS(), smtptest.WithAuth("gongkai", "s3cret"))
	tr, err := NewSMTP(srv.URL(), WithTLSConfig(srv.ClientTLSConfig()), WithMaxIdle(1))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 5 {
		if err := tr.Send(ctx, "n", testMsg(t)); err != nil {
			t.Fatalf("send over STARTTLS with AUTH: %v", err)
		}
	}
	tr.CloseIdle()
	if n, a, s := srv.Count(), srv.Authentications(), srv.TLSSessions(); n != 5 || a != 1 || s != 1 {
		t.Fatalf("messages %d, authentications %d, TLS sessions %d; want 5, 1, 1", n, a, s)
	}
	// Mandatory TLS refuses a server without STARTTLS rather than send in clear.
	plain := smtptest.Start(t)
	u := strings.Replace(plain.URL(), "tls=none", "tls=mandatory", 1)
	strict, _ := NewSMTP(u)
	var te *TemporaryError
	if err := strict.Send(ctx, "n", testMsg(t)); !errors.As(err, &te) || plain.Count() != 0 {
		t.Fatalf("mandatory TLS to a plain server: %v (accepted %d)", err, plain.Count())
	}
	bad, _ := NewSMTP(strings.Replace(srv.URL(), "s3cret", "wrong", 1), WithTLSConfig(srv.ClientTLSConfig()))
	if err := bad.Send(ctx, "n", testMsg(t)); !errors.As(err, &te) {
		t.Fatalf("bad password: %v, want temporary", err)
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

func TestTemplateDirOverridesAndFailsFast(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "digest.en.txt"), []byte(`{{define "subject"}}Digest {{.Date}}{{end}}Custom {{.Count}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	tpl, err := LoadTemplates(dir)
	if err != nil {
		t.Fatal(err)
	}
	d := DigestData{Lang: "en", Date: "2026-02-14", L: digestLabelSets["en"]}
	m, err := tpl.RenderDigest(d)
	if err != nil || m.Subject != "Digest 2026-02-14" || m.Text != "Custom 0" {
		t.Fatalf("override: %+v, %v", m, err)
	}
	if _, err := tpl.RenderNotice(noticeData(pendingItem{Lang: "zh", Finding: overdueFinding()}, cst, "", &registry.Registry{})); err != nil {
		t.Fatalf("the files not overridden keep the defaults: %v", err)
	}
	for name, src := range map[string]string{
		"notice.zh.txt": `{{define "subject"}}x{{end}}{{.NoSuchField}}`,
		"digest.html":   `{{range}}`,
		"notice.en.txt": `no subject`,
	} {
		bad := t.TempDir()
		if err := os.WriteFile(filepath.Join(bad, name), []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadTemplates(bad); err == nil || !strings.Contains(err.Error(), name) && !strings.Contains(err.Error(), "notice") {
			t.Errorf("broken %s: %v", name, err)
		}
	}
}
