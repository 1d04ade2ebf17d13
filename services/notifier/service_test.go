package notifier

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/gongkai/gongkai/pkg/events"
	"github.com/gongkai/gongkai/services/internal/registry"
	"github.com/gongkai/gongkai/services/internal/smtptest"
)

// The SMTP server refuses with 451 for a while and then recovers: every
// notice arrives exactly once, the failures are counted, and a redelivery
// of every finding (consumer deleted and recreated) sends nothing twice.
func TestExactlyOnceThroughTemporaryFailures(t *testing.T) {
	r := newRig(t, loadRegistry(t, "testdata/registry.yaml"), nil)
	r.smtp.FailTemporarily(7)
	r.start()
	due := at(2026, 1, 31, 23, 59)
	r.clock.Set(at(2026, 2, 3, 9, 0))
	for _, a := range []string{"sfz-jyj", "sfz-wjw", "sfz-czj"} {
		r.publish(finding(a, "CN-R19-AR-DEPT", events.StateDueSoon, events.StateOverdue, events.SeverityCritical, due, r.clock.Now()))
	}
	r.settle()
	// Immediate: every contact of the three agencies (overdue is critical).
	wantNow := []string{
		"li.si@jyj.sfz.example | [Overdue] Shifan Education Bureau: Annual report, 2025 — overdue, publish now (due 2026-01-31)",
		"sun.qi@czj.sfz.example | 【逾期】示范市财政局：政府信息公开工作年度报告（2025）已逾期，请尽快公开（截止2026-01-31）",
		"wang.wu@wjw.sfz.example | 【逾期】示范市卫生健康委员会：政府信息公开工作年度报告（2025）已逾期，请尽快公开（截止2026-01-31）",
		"zhang.san@jyj.sfz.example | 【逾期】示范市教育局：政府信息公开工作年度报告（2025）已逾期，请尽快公开（截止2026-01-31）",
		"zhao.liu@wjw.sfz.example | [Overdue] 示范市卫生健康委员会: Annual report, 2025 — overdue, publish now (due 2026-01-31)",
	}
	equal(t, "immediate notices", summary(r.mails()), wantNow)
	// The next morning: the digests of the three digest-mode contacts.
	r.smtp.FailTemporarily(2)
	r.digestAt(at(2026, 2, 4, 8, 30))
	ms := r.mails()
	if len(ms) != 8 {
		t.Fatalf("want 5 immediate notices and 3 digests, got\n%s", strings.Join(summary(ms), "\n"))
	}
	ids := map[string]bool{}
	for _, m := range ms {
		if ids[m.MessageID] {
			t.Errorf("Message-ID %s delivered twice", m.MessageID)
		}
		ids[m.MessageID] = true
	}
	if a := r.smtp.Attempts(); a != 8+9 {
		t.Errorf("%d DATA commands, want 8 accepted + 9 refused", a)
	}
	if n := r.counter("gongkai_notifier_deliveries_total", "channel", "smtp", "result", "temporary_failure"); n != 9 {
		t.Errorf("temporary failures counted %v, want 9", n)
	}
	if n := r.counter("gongkai_notifier_notices_total", "kind", "digest", "outcome", "sent"); n != 3 {
		t.Errorf("digests counted %v, want 3", n)
	}

	// Redeliver every finding: nothing is recorded or sent again.
	r.stop()
	if err := r.js.DeleteConsumer(context.Background(), events.StreamFindings, events.ConsumerNotifier); err != nil {
		t.Fatal(err)
	}
	r.start() // provisions the consumer again, from the start of the stream
	r.settle()
	r.svc.Digest(context.Background())
	r.digestAt(at(2026, 2, 5, 8, 30))
	if n := len(r.mails()); n != 8 {
		t.Fatalf("after redelivery of every finding: %d messages, want 8", n)
	}
	if n := r.counter("gongkai_notifier_findings_already_recorded_total"); n != 3 {
		t.Errorf("redelivered findings counted %v, want 3", n)
	}
	if n := len(r.notices()); n != 8 {
		t.Errorf("%d notice events, want 8", n)
	}
}

// A 5xx refusal is recorded as failed (ledger, notice event, metrics) and
// not retried; the other recipients are not held up.
func TestPermanentFailureIsRecorded(t *testing.T) {
	r := newRig(t, loadRegistry(t, "testdata/registry.yaml"), nil)
	r.smtp.FailRecipient("li.si@jyj.sfz.example", 550)
	r.start()
	r.clock.Set(at(2026, 2, 3, 9, 0))
	r.publish(finding("sfz-jyj", "CN-R19-AR-DEPT", events.StateDueSoon, events.StateOverdue, events.SeverityCritical, at(2026, 1, 31, 23, 59), r.clock.Now()))
	r.settle()
	if got := summary(r.mails()); len(got) != 1 || !strings.HasPrefix(got[0], "zhang.san@") {
		t.Fatalf("delivered %v", got)
	}
	var failed []events.Notice
	for _, n := range r.notices() {
		if n.Outcome == "failed" {
			failed = append(failed, n)
		}
	}
	if len(failed) != 1 || failed[0].Recipient != "li.si@jyj.sfz.example" || !strings.Contains(failed[0].Error, "550") || failed[0].Kind != "immediate" {
		t.Fatalf("failed notices: %+v", failed)
	}
	if n := r.counter("gongkai_notifier_deliveries_total", "channel", "smtp", "result", "permanent_failure"); n != 1 {
		t.Errorf("permanent failures counted %v", n)
	}
	if n := r.counter("gongkai_notifier_notices_total", "kind", "immediate", "outcome", "failed"); n != 1 {
		t.Errorf("failed notices counted %v", n)
	}
	// Nothing is left to retry: the refused notice is no longer pending
	// (the digest item of the digest-mode contact waits for its digest).
	r.svc.mirror.each(func(it *item) {
		if it.p.Kind != kindDigest {
			t.Errorf("still pending after a permanent failure: %s to %s", it.key, it.p.Recipient)
		}
	})
	if a := r.smtp.Attempts(); a != 1 {
		t.Errorf("%d DATA commands: the refused notice was retried", a)
	}
}

// CR/LF in agency names, obligation titles and periods cannot add a header
// line or a recipient, in immediate notices or digests.
func TestNoHeaderInjection(t *testing.T) {
	r := newRig(t, loadRegistry(t, "testdata/registry.yaml"), nil)
	r.start()
	r.clock.Set(at(2026, 2, 3, 9, 0))
	for _, sev := range []events.Severity{events.SeverityCritical, events.SeverityWarning} {
		id, f := finding("sfz-wjw", "CN-R19-AR-"+string(sev), events.StateDueSoon, events.StateOverdue, sev, at(2026, 1, 31, 23, 59), r.clock.Now())
		f.AgencyName = "示范委\r\nBcc: victim@evil.example\r\nX-Injected: yes"
		f.Obligation = events.Text{ZH: "年报\nBcc: victim2@evil.example", EN: "Report\r\n\r\nbody"}
		f.Period = "2025\r\nCc: victim3@evil.example"
		r.publish(id, f)
	}
	r.settle()
	r.digestAt(at(2026, 2, 4, 9, 0))
	ms := r.smtp.Messages()
	if len(ms) != 4 { // two immediate notices (critical), two digests
		t.Fatalf("%d messages, want 4", len(ms))
	}
	for _, m := range ms {
		if len(m.To) != 1 || strings.Contains(m.To[0], "evil") {
			t.Errorf("envelope recipients %v", m.To)
		}
		msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
		if err != nil {
			t.Fatal(err)
		}
		for k := range msg.Header {
			switch strings.ToLower(k) {
			case "bcc", "cc", "x-injected":
				t.Errorf("injected header %s: %v", k, msg.Header[k])
			}
		}
		if subj := msg.Header.Get("Subject"); strings.ContainsAny(subj, "\r\n") {
			t.Errorf("subject with a line break: %q", subj)
		}
	}
}

// Two replicas share the consumer and the buckets: each notice and each
// digest goes out once.
func TestTwoReplicasSendOnce(t *testing.T) {
	r := newRig(t, loadRegistry(t, "testdata/registry.yaml"), nil)
	second := *r
	second.svc = nil
	r.start()
	second.start()
	t.Cleanup(second.stop)
	r.clock.Set(at(2026, 2, 3, 9, 0))
	due := at(2026, 1, 31, 23, 59)
	for _, a := range []string{"sfz-jyj", "sfz-wjw", "sfz-czj", "sfz-town"} {
		r.publish(finding(a, "CN-R19-AR-DEPT", events.StateDueSoon, events.StateOverdue, events.SeverityCritical, due, r.clock.Now()))
		r.publish(finding(a, "CN-R19-AR-GOV", events.StateNotDue, events.StateDueSoon, events.SeverityWarning, at(2026, 2, 10, 23, 59), r.clock.Now()))
	}
	r.settle()
	second.settle()
	r.clock.Set(at(2026, 2, 4, 8, 31))
	// Both replicas run their digest loops (Poll); wait until nothing is due.
	waitUntil(t, "digests", func() bool { return r.svc.Backlog().Due == 0 && second.svc.Backlog().Due == 0 })
	r.svc.flight.Wait()
	second.svc.flight.Wait()
	ms := r.mails()
	ids := map[string]int{}
	for _, m := range ms {
		ids[m.MessageID]++
	}
	for id, n := range ids {
		if n != 1 {
			t.Errorf("%s delivered %d times", id, n)
		}
	}
	// 6 immediate overdue notices (5 contacts of jyj, wjw, czj and town's),
	// 2 immediate due-soon notices (the immediate-mode contacts), 4 digests.
	if len(ms) != 6+2+4 {
		t.Fatalf("%d messages:\n%s", len(ms), strings.Join(summary(ms), "\n"))
	}
}

// Kill the notifier in the middle of a digest batch (the SMTP server holds
// the k-th message while the service is stopped) and restart it on the same
// JetStream store: every digest arrives exactly once.
func TestStopInTheMiddleOfADigestBatch(t *testing.T) {
	reg, emails := bigRegistry(t, 12)
	r := newRig(t, reg, func(o *Options) { o.Workers = 1 })
	r.start()
	r.clock.Set(at(2026, 2, 27, 10, 0))
	for _, id := range reg.IDs() {
		r.publish(finding(id, "CN-R19-AR-DEPT", events.StateNotDue, events.StateDueSoon, events.SeverityWarning, at(2026, 3, 31, 23, 59), r.clock.Now()))
	}
	r.settle()
	const k = 5
	held, release := make(chan struct{}), make(chan struct{})
	r.smtp.SetHook(func(n int, _ smtptestMessage) error {
		if n == k {
			close(held)
			<-release
		}
		return nil
	})
	r.clock.Set(at(2026, 2, 28, 8, 30)) // 调休 Saturday: a working day; the delivery loop starts the digests
	<-held
	r.cancel() // stop: no new digest starts; the one held finishes
	close(release)
	if err := <-r.done; err != nil {
		t.Fatal(err)
	}
	r.svcNC.Close()
	r.svc = nil
	if n := r.smtp.Count(); n != k {
		t.Fatalf("%d digests before the restart, want %d", n, k)
	}
	r.smtp.SetHook(nil)
	r.start()
	r.digestAt(at(2026, 2, 28, 9, 0))
	got := map[string]int{}
	for _, m := range r.mails() {
		got[m.To]++
		if !strings.Contains(m.Subject, "2026-02-28") {
			t.Errorf("subject %q", m.Subject)
		}
	}
	for _, e := range emails {
		if got[e] != 1 {
			t.Errorf("%s received %d digests", e, got[e])
		}
	}
	if len(got) != len(emails) || r.svc.mirror.size() != 0 {
		t.Fatalf("recipients %v, pending left %d", got, r.svc.mirror.size())
	}
}

// A crash (the connection to NATS is lost) while the SMTP server holds a
// digest: the claim stays in the ledger. If the server refused the message,
// the restarted notifier takes the stale claim over and sends it once. If
// the server accepted it, the ledger never heard: the message is sent again
// with the same Message-ID — the documented window, made visible.
func TestCrashInTheMiddleOfADigest(t *testing.T) {
	for _, accepted := range []bool{false, true} {
		name := "refused"
		if accepted {
			name = "accepted"
		}
		t.Run(name, func(t *testing.T) {
			reg, emails := bigRegistry(t, 4)
			r := newRig(t, reg, func(o *Options) { o.Workers = 1 })
			r.start()
			r.clock.Set(at(2026, 3, 2, 10, 0))
			for _, id := range reg.IDs() {
				r.publish(finding(id, "CN-R19-AR-DEPT", events.StateNotDue, events.StateDueSoon, events.SeverityWarning, at(2026, 3, 31, 23, 59), r.clock.Now()))
			}
			r.settle()
			held, release := make(chan struct{}), make(chan struct{})
			r.smtp.SetHook(func(n int, _ smtptestMessage) error {
				if n == 2 {
					close(held)
					<-release
					if !accepted {
						return temporarySMTPError()
					}
				}
				return nil
			})
			r.clock.Set(at(2026, 3, 3, 8, 30))
			<-held
			r.svcNC.Close() // the process loses NATS: nothing more is written
			r.cancel()
			close(release)
			<-r.done
			r.svc = nil
			r.smtp.SetHook(nil)

			r.start()
			r.digestOnly(at(2026, 3, 3, 8, 35))
			if b := r.svc.Backlog(); b.Due != 1 {
				t.Fatalf("backlog %+v: the claimed digest should wait for its claim to expire", b)
			}
			r.digestAt(at(2026, 3, 3, 8, 35).Add(DefaultClaimTimeout + time.Minute))
			got := map[string][]string{}
			for _, m := range r.mails() {
				got[m.To] = append(got[m.To], m.MessageID)
			}
			doubled := 0
			for _, e := range emails {
				switch n := len(got[e]); {
				case n == 2 && accepted && got[e][0] == got[e][1]:
					doubled++
				case n != 1:
					t.Errorf("%s received %d digests %v", e, n, got[e])
				}
			}
			if accepted && doubled != 1 {
				t.Errorf("accepted before the crash: %d recipients got the digest twice, want exactly 1 (same Message-ID)", doubled)
			}
			if n := r.counter("gongkai_notifier_claims_taken_over_total"); n != 1 {
				t.Errorf("claims taken over: %v, want 1", n)
			}
			if r.svc.mirror.size() != 0 {
				t.Errorf("%d notices still pending", r.svc.mirror.size())
			}
		})
	}
}

type smtptestMessage = smtptest.Message

func temporarySMTPError() error {
	return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
}

// bigRegistry returns a registry of n departments of one government (which
// has no contacts), each with one digest-mode contact on its own domain.
func bigRegistry(t testing.TB, n int) (*registry.Registry, []string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("agencies:\n  - {id: gov, name: 示范市人民政府, level: city, kind: government, website: https://gov.example/}\n")
	var emails []string
	for i := range n {
		e := fmt.Sprintf("office@d%05d.example", i)
		emails = append(emails, e)
		fmt.Fprintf(&b, "  - id: d%05d\n    name: 示范市第%d局\n    level: city\n    kind: department\n    parent: gov\n    website: https://d%05d.example/\n    contacts:\n      - {name: 公开办%d, role: disclosure_office, email: %s}\n", i, i, i, i, e)
	}
	reg, err := registry.Parse("big.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	return reg, emails
}
